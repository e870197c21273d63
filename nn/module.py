"""Module: the base class of every layer, finding its state by walking its attributes.

A Module's *state* is every `Value` and `Tensor` it holds: directly, in sub-Modules, or in
lists, tuples and dicts of either, so a subclass only assigns them in `__init__` and never
registers anything. Its *parameters* are the part of the state that trains: Values, and
Tensors with `requires_grad` (as in PyTorch, where a frozen weight stays in `state_dict()`).
Names are dotted paths, as in PyTorch: `layers.0.weight`, `neurons.3.w.1`; two nodes
reached under one name (a dict key 'a.b' beside an attribute path a.b) are an error.

Checkpoints map those names to numpy arrays (a Value becomes a 0-d array). `save` writes
them as an `.npz` file atomically (engine/atomic.py), so a crash mid-write leaves the old
file as it was. `load` reads every entry's `.npy` header first and checks names, dtypes,
shapes and the sizes the zip declares before reading any numbers, so a damaged or hostile
file costs no more memory than the model itself; it never unpickles, so a checkpoint can
carry numbers only, never code.
"""
from __future__ import annotations

import contextlib
import math
import os
import zipfile
from typing import Any, Iterable, Iterator, Mapping

import numpy as np

from engine.graph import Node
from engine.value import Value
from engine.atomic import atomic_write


def _shape(node: Node) -> tuple:
    return np.shape(node.data)


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

    # --- checkpoints ---

    def state_dict(self) -> dict[str, np.ndarray]:
        """Dotted name -> a copy of the numbers of every Value and Tensor, frozen ones too."""
        return {name: np.array(node.data) for name, node in self._named_state()}

    def load_state_dict(self, state_dict: Mapping[str, Any]) -> None:
        """Copy numbers into the state, keeping its dtypes.

        Every name must match and every shape fit; otherwise a ValueError lists all the
        missing and unexpected names and mismatched shapes, and nothing is changed.
        """
        state = dict(self._named_state())
        arrays = {name: np.asarray(value) for name, value in state_dict.items()}
        problems = _mismatches({name: _shape(node) for name, node in state.items()},
                               {name: (a.dtype, a.shape) for name, a in arrays.items()})
        if problems:
            raise ValueError(f"state does not fit this {type(self).__name__}: {problems}")
        for name, node in state.items():
            if isinstance(node, Value):
                node.data = float(arrays[name])
            else:
                node.numpy()[...] = arrays[name]

    def save(self, path: str | os.PathLike) -> None:
        """Write state_dict() to `path` as an .npz file, atomically."""
        with atomic_write(path) as f, zipfile.ZipFile(f, "w") as archive:
            # zipfile by hand rather than np.savez(**state): a parameter named `file`
            # or `allow_pickle` would collide with np.savez's own keywords.
            for name, array in self.state_dict().items():
                with archive.open(f"{name}.npy", "w", force_zip64=True) as entry:
                    np.lib.format.write_array(entry, array, allow_pickle=False)

    def load(self, path: str | os.PathLike) -> None:
        """Read a checkpoint written by save() into this module (see load_state_dict).

        Names, dtypes and shapes are checked from the entries' headers before any numbers
        are read; a ValueError naming the file lists what does not fit.
        """
        path = os.fspath(path)
        shapes = {name: _shape(node) for name, node in self._named_state()}
        with open(path, "rb") as f:  # a missing file is a FileNotFoundError naming it
            with _not_a_checkpoint(path):
                if f.read(6) == b"\x93NUMPY":
                    raise ValueError("it holds one bare array (.npy), not named arrays (.npz)")
                archive = zipfile.ZipFile(f)
                entries = _npy_entries(archive)
            problems = _mismatches(shapes, {name: header for name, (_, header) in entries.items()})
            if problems:
                raise ValueError(f"checkpoint {path}: state does not fit this "
                                 f"{type(self).__name__}: {problems}")
            with _not_a_checkpoint(path):
                state = {name: _read_npy(archive, info) for name, (info, _) in entries.items()}
        self.load_state_dict(state)

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


def _mismatches(shapes: Mapping[str, tuple], found: Mapping[str, tuple[np.dtype, tuple]]) -> str:
    """How `found` (name -> (dtype, shape)) fails to fit `shapes` (name -> shape); '' if it fits."""
    problems = []
    missing = [name for name in shapes if name not in found]
    unexpected = [name for name in found if name not in shapes]
    if missing:
        problems.append(f"missing: {', '.join(missing)}")
    if unexpected:
        problems.append(f"unexpected: {', '.join(unexpected)}")
    for name, (dtype, shape) in found.items():
        if name not in shapes:
            continue
        if dtype.kind not in "biuf":
            problems.append(f"{name} holds {dtype} data, not numbers")
        elif shape != shapes[name]:
            problems.append(f"{name} has shape {shape} in the checkpoint, "
                            f"{shapes[name]} in the model")
    return "; ".join(problems)


_NPY_HEADER_READERS = {(1, 0): np.lib.format.read_array_header_1_0,
                       (2, 0): np.lib.format.read_array_header_2_0}


def _npy_entries(archive: zipfile.ZipFile) -> dict[str, tuple[zipfile.ZipInfo, tuple]]:
    """Name -> (zip entry, (dtype, shape)) from each entry's .npy header, reading no data.

    Each entry's size, as the zip declares it, must be what its header promises: the zip
    reader never inflates an entry past its declared size, so reading the data later
    costs exactly the memory the (checked) shapes say.
    """
    entries = {}
    for info in archive.infolist():
        name = info.filename.removesuffix(".npy")
        if name == info.filename:
            raise ValueError(f"entry {info.filename!r} is not an .npy array")
        if name in entries:
            raise ValueError(f"entry {info.filename!r} is there twice")
        with archive.open(info) as entry:
            version = np.lib.format.read_magic(entry)
            if version not in _NPY_HEADER_READERS:
                raise ValueError(f"entry {info.filename!r} has .npy format version {version}")
            shape, _, dtype = _NPY_HEADER_READERS[version](entry)
            needed = entry.tell() + math.prod(shape) * dtype.itemsize
        if info.file_size != needed:
            raise ValueError(f"entry {info.filename!r} declares {info.file_size:,} bytes, but its "
                             f"header ({dtype}, shape {shape}) makes {needed:,}")
        entries[name] = info, (dtype, shape)
    return entries


def _read_npy(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> np.ndarray:
    """The array in one entry (its header already checked by _npy_entries)."""
    with archive.open(info) as entry:
        return np.lib.format.read_array(entry, allow_pickle=False)


@contextlib.contextmanager
def _not_a_checkpoint(path: str) -> Iterator[None]:
    """Turn what a damaged or foreign file makes the readers raise into one clear ValueError."""
    try:
        yield
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as e:
        raise ValueError(f"{path} is not a scratchgrad checkpoint (an .npz file of named "
                         f"numeric arrays, as Module.save writes): {e}") from None
