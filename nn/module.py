"""Module: the base class of every layer, finding its parameters by walking its attributes.

A parameter is a `Value`, or a `Tensor` with `requires_grad`. A Module holds them directly,
in sub-Modules, or in lists, tuples and dicts of either, so a subclass only assigns them
in `__init__` and never registers anything. Names are dotted paths, as in PyTorch:
`layers.0.weight`, `neurons.3.w.1`.
"""
from __future__ import annotations

from typing import Any, Iterator

from engine import Value


def _is_parameter(obj: Any) -> bool:
    return isinstance(obj, Value)


class Module:
    """Base class: parameters(), named_parameters(), zero_grad(), train()/eval(), __call__."""

    training = True

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        forward = getattr(self, "forward", None)
        if forward is None:
            raise TypeError(f"{type(self).__name__} has no forward(); define "
                            "forward(self, x) to say what calling it computes")
        return forward(*args, **kwargs)

    def _members(self) -> Iterator[tuple[str, Any]]:
        """(dotted name, object) for every parameter and sub-Module, depth first."""
        stack = [(name, value) for name, value in reversed(vars(self).items())]
        while stack:
            name, value = stack.pop()
            if isinstance(value, (list, tuple)):
                stack.extend((f"{name}.{i}", v) for i, v in reversed(list(enumerate(value))))
            elif isinstance(value, dict):
                stack.extend((f"{name}.{k}", v) for k, v in reversed(list(value.items())))
            elif _is_parameter(value) or isinstance(value, Module):
                yield name, value

    def named_modules(self, prefix: str = "") -> Iterator[tuple[str, Module]]:
        """This module and every sub-Module, with dotted names ('' for this one)."""
        yield prefix, self
        for name, value in self._members():
            if isinstance(value, Module):
                yield from value.named_modules(f"{prefix}.{name}" if prefix else name)

    def named_parameters(self) -> Iterator[tuple[str, Any]]:
        """(dotted name, parameter) pairs, each parameter once, in attribute order."""
        seen = set()
        for prefix, module in self.named_modules():
            for name, value in module._members():
                if _is_parameter(value) and id(value) not in seen:
                    seen.add(id(value))
                    yield (f"{prefix}.{name}" if prefix else name), value

    def parameters(self) -> list:
        """Every parameter once, in the order of named_parameters()."""
        return [p for _, p in self.named_parameters()]

    def zero_grad(self) -> None:
        """Reset gradients (0.0 for Values, None for Tensors) before the next backward()."""
        for p in self.parameters():
            p.grad = 0.0 if isinstance(p, Value) else None

    def train(self, mode: bool = True) -> Module:
        """Set training mode here and in every sub-Module; returns self."""
        for _, module in self.named_modules():
            module.training = mode
        return self

    def eval(self) -> Module:
        """Evaluation mode (train(False)); returns self."""
        return self.train(False)
