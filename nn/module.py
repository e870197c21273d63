"""Module: the base class of every layer, finding its state by walking its attributes.

A Module's *state* is every `Value` and `Tensor` it holds: directly, in sub-Modules, or in
lists, tuples and dicts of either, so a subclass only assigns them in `__init__` and never
registers anything. Its *parameters* are the part of the state that trains: Values, and
Tensors with `requires_grad` (as in PyTorch, where a frozen weight stays in `state_dict()`).
Names are dotted paths, as in PyTorch: `layers.0.weight`, `neurons.3.w.1`; two nodes
reached under one name (a dict key 'a.b' beside an attribute path a.b) are an error.

`state_dict()` maps those names to numpy arrays (a Value becomes a 0-d array), and
`save`/`load` keep them in PyTorch's safetensors files; nn/checkpoint.py does that work.
"""
from __future__ import annotations

import os
from typing import Any, Iterator, Mapping

import numpy as np

from engine.graph import Node
from nn import checkpoint


class Module:
    """Base class: parameters(), named_parameters(), zero_grad(), train()/eval(), checkpoints."""

    training = True

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        forward = getattr(self, "forward", None)
        if forward is None:
            raise TypeError(f"{type(self).__name__} has no forward(); define "
                            "forward(self, x) to say what calling it computes")
        return forward(*args, **kwargs)

    def _members(self) -> Iterator[tuple[str, Any]]:
        """(dotted name, object) for every Value, Tensor and sub-Module held here, depth first."""
        stack = [(name, value) for name, value in reversed(vars(self).items())]
        while stack:
            name, value = stack.pop()
            if isinstance(value, (list, tuple)):
                stack.extend((f"{name}.{i}", v) for i, v in reversed(list(enumerate(value))))
            elif isinstance(value, dict):
                stack.extend((f"{name}.{k}", v) for k, v in reversed(list(value.items())))
            elif isinstance(value, (Node, Module)):
                yield name, value

    def named_modules(self, prefix: str = "") -> Iterator[tuple[str, Module]]:
        """This module and every sub-Module once, with dotted names ('' for this one)."""
        seen = {id(self)}
        stack = [(prefix, self)]
        while stack:
            path, module = stack.pop()
            yield path, module
            children = []
            for name, value in module._members():
                if isinstance(value, Module) and id(value) not in seen:
                    seen.add(id(value))
                    children.append((f"{path}.{name}" if path else name, value))
            stack.extend(reversed(children))

    def _named_state(self) -> Iterator[tuple[str, Any]]:
        """(dotted name, node) for every Value and Tensor, trainable or not, each once.

        A module's own nodes come first, in attribute order, then each sub-module's, as in
        PyTorch. Raises ValueError when two different nodes would get the same name.
        """
        seen, names = set(), set()
        for prefix, module in self.named_modules():
            for name, value in module._members():
                if isinstance(value, Module) or id(value) in seen:
                    continue
                name = f"{prefix}.{name}" if prefix else name
                if name in names:
                    raise ValueError(f"two nodes of this {type(self).__name__} are both named "
                                     f"{name!r} (a dict key or attribute with a dot in it?); "
                                     "rename one, or a checkpoint could not tell them apart")
                seen.add(id(value))
                names.add(name)
                yield name, value

    def named_parameters(self) -> Iterator[tuple[str, Any]]:
        """(dotted name, parameter) pairs, each parameter once, in state order."""
        return ((name, node) for name, node in self._named_state() if node.requires_grad)

    def parameters(self) -> list:
        """Every parameter once, in the order of named_parameters()."""
        return [p for _, p in self.named_parameters()]

    def zero_grad(self) -> None:
        """Reset gradients (0.0 for Values, None for Tensors) before the next backward()."""
        for p in self.parameters():
            p.zero_grad()

    def train(self, mode: bool = True) -> Module:
        """Set training mode here and in every sub-Module; returns self."""
        for _, module in self.named_modules():
            module.training = mode
        return self

    def eval(self) -> Module:
        """Evaluation mode (train(False)); returns self."""
        return self.train(False)

    # --- checkpoints (nn/checkpoint.py does the work) ---

    def state_dict(self) -> dict[str, np.ndarray]:
        """Dotted name -> a copy of the numbers of every Value and Tensor, frozen ones too."""
        return checkpoint.state_dict(self)

    def load_state_dict(self, state_dict: Mapping[str, Any],
                        strict: bool = True) -> checkpoint.IncompatibleKeys:
        """Copy numbers (numpy arrays, torch tensors, ...) into the state in place, keeping its
        dtypes; a ValueError lists every name, dtype and shape that does not fit, and
        nothing is changed. Returns the missing and unexpected names, as PyTorch does
        (with `strict`, there are none: they are errors)."""
        return checkpoint.load_state_dict(self, state_dict, strict)

    def save(self, path: str | os.PathLike, metadata: Mapping[str, str] | None = None) -> None:
        """Write state_dict() to `path` as a .safetensors file, atomically, with `metadata`
        (strings to strings) in its header."""
        checkpoint.save(self, path, metadata)

    def load(self, path: str | os.PathLike) -> None:
        """Read a checkpoint (from save(), from PyTorch's safetensors, or an old .npz) into
        this module, checking everything against it before reading any number."""
        checkpoint.load(self, path)

    # --- printing ---

    def extra_repr(self) -> str:
        """What goes between the parentheses of a module without sub-modules."""
        return ""

    def __repr__(self) -> str:
        children = [(name, value) for name, value in self._members() if isinstance(value, Module)]
        if not children:
            return f"{type(self).__name__}({self.extra_repr()})"
        lines = [f"  ({name}): " + repr(child).replace("\n", "\n  ") for name, child in children]
        return f"{type(self).__name__}(\n" + "\n".join(lines) + "\n)"

