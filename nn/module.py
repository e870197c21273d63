"""Module: the base class of every layer, finding its parameters by walking its attributes.

A parameter is a `Value`, or a `Tensor` with `requires_grad`. A Module holds them directly,
in sub-Modules, or in lists, tuples and dicts of either, so a subclass only assigns them
in `__init__` and never registers anything. Names are dotted paths, as in PyTorch:
`layers.0.weight`, `neurons.3.w.1`.

Checkpoints map those names to numpy arrays (a Value becomes a 0-d array). `save` writes
them as an `.npz` file atomically: into a temporary file beside the target, then
`os.replace`, so a crash mid-write leaves the old file as it was. `load` reads with
`allow_pickle=False`, so a checkpoint can carry numbers only, never code.
"""
from __future__ import annotations

import os
import zipfile
from typing import Any, Iterator, Mapping

import numpy as np

from engine import Tensor, Value
from engine.atomic import atomic_write


def _is_parameter(obj: Any) -> bool:
    return isinstance(obj, Value) or (isinstance(obj, Tensor) and obj.requires_grad)


def _shape(p: Any) -> tuple:
    return () if isinstance(p, Value) else p.data.shape


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

    def named_parameters(self) -> Iterator[tuple[str, Any]]:
        """(dotted name, parameter) pairs, each parameter once.

        A module's own parameters come first, in attribute order, then each sub-module's,
        as in PyTorch.

        Each parameter is labelled with its name on the way, so graph pictures show
        `0.weight`. A label the user chose is kept, and so is a longer name given by a
        walk from an enclosing module (`net.0.weight` is not cut back to `0.weight`).
        """
        seen = set()
        for prefix, module in self.named_modules():
            for name, value in module._members():
                if _is_parameter(value) and id(value) not in seen:
                    seen.add(id(value))
                    name = f"{prefix}.{name}" if prefix else name
                    if value.label != name and (not value.label or name.endswith("." + value.label)):
                        value.label = name
                    yield name, value

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

    # --- checkpoints ---

    def state_dict(self) -> dict[str, np.ndarray]:
        """Dotted name -> a copy of the parameter's numbers (0-d float64 for a Value)."""
        return {name: np.array(p.data) for name, p in self.named_parameters()}

    def load_state_dict(self, state_dict: Mapping[str, Any]) -> None:
        """Copy numbers into the parameters, keeping their dtypes.

        Every name must match and every shape fit; otherwise a ValueError lists all the
        missing and unexpected names and mismatched shapes, and nothing is changed.
        """
        params = dict(self.named_parameters())
        arrays = {name: np.asarray(value) for name, value in state_dict.items()}
        problems = []
        missing = [name for name in params if name not in arrays]
        unexpected = [name for name in arrays if name not in params]
        if missing:
            problems.append(f"missing: {', '.join(missing)}")
        if unexpected:
            problems.append(f"unexpected: {', '.join(unexpected)}")
        for name, array in arrays.items():
            if name not in params:
                continue
            if array.dtype.kind not in "fiu":
                problems.append(f"{name} holds {array.dtype} data, not numbers")
            elif array.shape != _shape(params[name]):
                problems.append(f"{name} has shape {array.shape} in the checkpoint, "
                                f"{_shape(params[name])} in the model")
        if problems:
            raise ValueError(f"state does not fit this {type(self).__name__}: "
                             + "; ".join(problems))
        for name, p in params.items():
            if isinstance(p, Value):
                p.data = float(arrays[name])
            else:
                p.data[...] = arrays[name]

    def save(self, path: str | os.PathLike) -> None:
        """Write state_dict() to `path` as an .npz file, atomically."""
        with atomic_write(path) as f, zipfile.ZipFile(f, "w") as archive:
            # zipfile by hand rather than np.savez(**state): a parameter named `file`
            # or `allow_pickle` would collide with np.savez's own keywords.
            for name, array in self.state_dict().items():
                with archive.open(f"{name}.npy", "w", force_zip64=True) as entry:
                    np.lib.format.write_array(entry, array, allow_pickle=False)

    def load(self, path: str | os.PathLike) -> None:
        """Read a checkpoint written by save() into this module (see load_state_dict)."""
        state = _read_checkpoint(os.fspath(path))
        try:
            self.load_state_dict(state)
        except ValueError as e:
            raise ValueError(f"checkpoint {path}: {e}") from None

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


def _read_checkpoint(path: str) -> dict[str, np.ndarray]:
    """Name -> array from an .npz file, or a ValueError saying the file is not a checkpoint."""
    try:
        # np.load gets an open file rather than the path: given a path to a damaged zip,
        # it would leave its own file handle open.
        with open(path, "rb") as f:
            loaded = np.load(f, allow_pickle=False)
            if not isinstance(loaded, np.lib.npyio.NpzFile):
                raise ValueError("it holds one bare array (.npy), not named arrays (.npz)")
            with loaded:
                return {name: loaded[name] for name in loaded.files}
    except FileNotFoundError:
        raise
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as e:
        raise ValueError(f"{path} is not a scratchgrad checkpoint (an .npz file of named "
                         f"numeric arrays, as Module.save writes): {e}") from None
