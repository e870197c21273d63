"""Tensor's in-place updates, as PyTorch's: `+=` and the other augmented assignments,
`add_`, `mul_`, `copy_`, `fill_`, `zero_`, `t[index] = value`, and the `out=` tensor that
PyTorch's functions write their result into (`torch.add(x, y, out=result)`).

Outside the graph (no grad needed, or inside `no_grad()`) the numbers are written into the
tensor's own array, so views and other references see them. In the graph, an in-place op
records an op instead: the tensor's old self is kept as a snapshot node, the op reads it,
and the tensor takes the result's place. Every change counts in the tensor's `_version`,
so a backward pass refuses a node whose saved inputs changed after it used them.

A view changed in place in the graph (`t[0].mul_(3)`, `t.diagonal().zero_()`) changes what
it was taken from, as PyTorch's views share their base's storage: the base takes the place
of a copy of itself with the view's new entries written where the view's entries sit in
its memory (PyTorch's CopySlices), and so on up a view of a view. A view is known by its
array: one sharing the memory of the array of the node it was made from.

The methods below are added to Tensor (the end of the file says so).
"""
from __future__ import annotations

import warnings
from typing import Any, Callable

import numpy as np

from engine.dtypes import as_array, wrap
from engine import shapes  # its names are read when used: engine.shapes may be loading
from engine.tensor import (Operand, Tensor, _as_tensor, _cast_to, _leaf, _new, _recording,
                           add_methods)


class _InPlace:
    """Tensor's in-place methods."""

    def _snapshot(self) -> Tensor:
        """A new node holding what this one holds now, to stand for it in the graph."""
        old = _new(Tensor)
        for slot in ("_data", "requires_grad", "label", "_op", "_torch_op", "_a", "_b", "_more",
                     "_rule", "_version", "_vsum"):
            setattr(old, slot, getattr(self, slot))
        old._grad, old._retains = None, False
        return old

    def _check_in_place(self, op: str) -> None:
        if self._rule is None and self.requires_grad:
            raise RuntimeError(f"{op}: a leaf tensor that requires grad cannot be changed in "
                               "place while the graph is recorded (its gradient would be lost); "
                               "update it inside `with engine.no_grad():`, as optimizers do, or "
                               "through .data")

    def _become(self, result: Tensor, old: Tensor, inputs: Any) -> Tensor:
        """Take `result`'s place: this object now holds its numbers and how it was made; and
        if it is a view in the graph, what it was taken from takes its new entries.

        `old` (this tensor's snapshot) already stands for what this tensor was as result's
        operand; nodes of `inputs` (the other operand's graph) that were made from this
        tensor are pointed at `old` too, as in `x[i] = x[i] - 1`, so no cycle is made.
        """
        bases = _bases(self)  # found before anything changes
        self._take(result, old, inputs)
        if not bases:
            return self
        views = [self, *(base for base, _ in bases[:-1])]
        value = self._snapshot()  # the view's new numbers, as a node of their own
        for base, where in bases:  # each base takes its view's new entries...
            base_old = base._snapshot()
            written = shapes._index_put(base_old, where, value, accumulate=False)
            written._torch_op = "copy_slices"
            base._take(written, base_old, value)
            value = base._snapshot()
        for view, (base, where) in reversed(list(zip(views, bases))):
            view._take(_view_node(base, where), None, None)  # ...and each view views it again
        return self

    def _take(self, result: Tensor, old: Tensor, inputs: Any) -> None:
        """_become's step for one tensor."""
        if isinstance(inputs, Tensor) and inputs.requires_grad:
            _point_at(inputs, self, old)
        for slot in ("_data", "requires_grad", "_op", "_torch_op", "_a", "_b", "_more", "_rule"):
            setattr(self, slot, getattr(result, slot))
        self._version += 1
        self._vsum = self._versions() if self._a is not None else None

    def _in_place(self, fn: Callable[[Tensor, Any], Tensor], other: Any, op: str,
                  ufunc: np.ufunc | None = None) -> Tensor:
        """self = fn(self, other), written into self, as PyTorch's in-place ops.

        Outside the graph the numbers are written into the array itself, so views and other
        references see them. In the graph it records `fn` and this tensor becomes its result.
        The result must fit self's shape and dtype (an int tensor cannot take a float).
        `ufunc` is fn's numpy function: outside the graph, when numpy's arithmetic is
        PyTorch's already (a float tensor and a tensor of its dtype or a Python number), it
        writes the result straight into the array, with no result tensor in between
        (`p.data += -lr * p.grad` in a training loop).
        """
        graphed = (self.requires_grad or (isinstance(other, Tensor) and other.requires_grad)
                   ) and _recording()  # (the cheap test first: `p.data += ...` needs no more)
        if not graphed and ufunc is not None and self._data.dtype.kind == "f":
            operand = other._data if isinstance(other, Tensor) else other
            if type(operand) is float or type(operand) is int or (
                    type(operand) is np.ndarray and operand.dtype == self._data.dtype):
                try:
                    ufunc(self._data, operand, out=self._data)
                except ValueError:  # other does not fit self's shape: the general path says so
                    pass
                else:
                    self._version += 1
                    return self
        if graphed:
            self._check_in_place(op)
            old = self._snapshot()
            result = fn(old, other)
        else:
            result = fn(_leaf(self._data), other)
        if result._data.shape != self._data.shape:
            raise ValueError(f"{op}: the result has shape {result._data.shape}, which does not "
                             f"fit in place into this tensor of shape {self._data.shape}")
        if not np.can_cast(result._data.dtype, self._data.dtype, "same_kind"):
            raise TypeError(f"{op}: the result is {result._data.dtype}, which cannot be written "
                            f"into this {self._data.dtype} tensor; use a new tensor (x = x "
                            f"{op.strip('=')} y) or convert first")
        if graphed:
            return self._become(result._cast(self._data.dtype), old, other)
        np.copyto(self._data, result._data, casting="same_kind")
        self._version += 1
        return self

    def __iadd__(self, other: Operand) -> Tensor:
        return self._in_place(Tensor.__add__, other, "+=", np.add)

    def __isub__(self, other: Operand) -> Tensor:
        return self._in_place(Tensor.__sub__, other, "-=", np.subtract)

    def __imul__(self, other: Operand) -> Tensor:
        return self._in_place(Tensor.__mul__, other, "*=", np.multiply)

    def __itruediv__(self, other: Operand) -> Tensor:
        return self._in_place(Tensor.__truediv__, other, "/=")

    def __ipow__(self, other: Operand) -> Tensor:
        return self._in_place(Tensor.__pow__, other, "**=")

    def add_(self, other: Operand, alpha: float = 1) -> Tensor:
        return self._in_place(lambda a, b: a.add(b, alpha), other, "add_",
                              np.add if alpha == 1 else None)

    def sub_(self, other: Operand, alpha: float = 1) -> Tensor:
        return self._in_place(lambda a, b: a.sub(b, alpha), other, "sub_",
                              np.subtract if alpha == 1 else None)

    def mul_(self, other: Operand) -> Tensor:
        return self._in_place(Tensor.__mul__, other, "mul_", np.multiply)

    def div_(self, other: Operand) -> Tensor:
        return self._in_place(Tensor.__truediv__, other, "div_")

    def pow_(self, other: Operand) -> Tensor:
        return self._in_place(Tensor.__pow__, other, "pow_")

    def copy_(self, src: Operand) -> Tensor:
        """src's numbers written into this tensor (broadcast, cast to its dtype); d src = g."""
        def copy(a: Tensor, b: Any) -> Tensor:
            b = _as_tensor(b)
            try:
                shape = np.broadcast_shapes(b.shape, a.shape)
            except ValueError:
                shape = None
            if shape != a.shape:
                raise ValueError(f"copy_: a source of shape {b.shape} does not broadcast to "
                                 f"this tensor's shape {a.shape}")
            return a * 0 + b._cast(a.dtype) if b.requires_grad else _leaf(
                np.broadcast_to(b._data, a.shape).astype(a.dtype))
        return self._in_place(copy, src, "copy_")

    def fill_(self, value: Operand) -> Tensor:
        """Every entry set to value."""
        return self.copy_(value)

    def zero_(self) -> Tensor:
        """Every entry set to 0 (`p.grad.zero_()`)."""
        return self.copy_(0)

    def __setitem__(self, index: Any, value: Operand) -> None:
        """a[index] = value, in place, as PyTorch (value broadcast and cast to a's dtype); in
        the graph, d a = g with 0 where written over, d value = g[index]."""
        index = shapes._index(index)
        if not isinstance(value, Tensor):
            value = _leaf(np.array(as_array(value, what="the value assigned")).astype(
                self._data.dtype))
        if _recording() and (self.requires_grad or value.requires_grad):
            self._check_in_place("setting entries")
            old = self._snapshot()
            self._become(shapes._index_put(old, index, _cast_to(value, self._data.dtype),
                                    accumulate=False), old, value)
            return
        try:
            self._data[index] = value._data
        except ValueError:
            raise ValueError(f"cannot put a value of shape {value._data.shape} at index "
                             f"{index!r:.80} of a tensor of shape {self._data.shape}") from None
        self._version += 1


def write_out(out: Any, result: Any, op: str) -> Any:
    """`result` written into `out` and `out` returned, as PyTorch's functions take out=:
    into out's own array in out's dtype, after resizing it (with PyTorch's warning unless
    it is empty) when its shape differs; a tuple of results into a tuple of tensors."""
    if isinstance(result, tuple):
        if not isinstance(out, (tuple, list)) or len(out) != len(result):
            raise TypeError(f"{op}(): out= takes {len(result)} tensors here, as a tuple; got "
                            f"{out!r:.60}")
        written = [write_out(o, r, op) for o, r in zip(out, result)]
        return type(result)(*written) if hasattr(result, "_fields") else tuple(written)
    if not isinstance(out, Tensor):
        raise TypeError(f"{op}(): out= takes a Tensor, got {type(out).__name__}")
    if result.requires_grad:
        raise RuntimeError(f"{op}(): functions with out=... arguments don't support automatic "
                           "differentiation, but one of the arguments requires grad (call it "
                           "without out=, or under no_grad())")
    data = result._data
    if not np.can_cast(data.dtype, out._data.dtype, "same_kind"):
        raise RuntimeError(f"{op}(): result type {wrap(data.dtype)} can't be cast to the "
                           f"desired output type {out.dtype}")
    if out._data.shape != data.shape:
        if out._data.size:
            warnings.warn(f"An output with one or more elements was resized since it had shape "
                          f"{list(out._data.shape)}, which does not match the required output "
                          f"shape {list(data.shape)} (as PyTorch, which deprecates it)",
                          UserWarning, stacklevel=3)
        out._data = np.empty(data.shape, out._data.dtype)
    np.copyto(out._data, data, casting="same_kind")
    out._version += 1
    return out


def _point_at(root: Tensor, target: Tensor, replacement: Tensor) -> None:
    """In root's graph, make every node that has `target` as a parent have `replacement`
    (the walk does not go past `target`: what made it is not changed)."""
    stack, seen = [root], set()
    while stack:
        node = stack.pop()
        if node is target or node._a is None or node in seen:
            continue
        seen.add(node)
        parents = node._prev
        if any(p is target for p in parents):
            fixed = [replacement if p is target else p for p in parents]
            node._a, node._b, node._more = fixed[0], (fixed + [None])[1], tuple(fixed[2:])
        stack.extend(parents)


def _bases(view: Tensor) -> list[tuple[Tensor, tuple]]:
    """The tensors an in-place change of `view` writes through to: the node it was taken
    from if their arrays share memory, that node's own base, and so on; each with where
    the entries of the one below it sit in it (index arrays, one per dim)."""
    bases = []
    while True:
        base = view._a if view._a is not None else view._view_of
        owner = view._data.base  # (the test engine/tensor.py's _node makes for _view_of)
        if base is None or owner is None or (owner is not base._data
                                             and owner is not base._data.base):
            return bases
        if base._rule is None and base.requires_grad:  # its gradient would be lost
            raise RuntimeError("a view of a leaf Variable that requires grad is being used in "
                               "an in-place operation.")
        bases.append((base, _where(view._data, base._data)))
        view = base


def _view_node(base: Tensor, where: tuple) -> Tensor:
    """base[where] (where: a view's entries) as a node whose numbers are a view of base's,
    so that the view goes on sharing its base's memory."""
    out = shapes.getitem(base, where)
    owner = _owner(base._data)  # a base's numbers are a fresh array after a write, or its view
    at = sum((i * stride for i, stride in zip(where, base._data.strides)), np.intp(
        base._data.__array_interface__["data"][0] - owner.__array_interface__["data"][0]))
    if at.size:  # a view's entries are evenly spaced along each of its dims
        start = int(at.reshape(-1)[0])
        steps = [int(np.take(at, 1, axis=k).reshape(-1)[0]) - start if n > 1 else 0
                 for k, n in enumerate(at.shape)]
        spaced = start + sum(np.arange(n).reshape((n,) + (1,) * (at.ndim - k - 1)) * step
                             for k, (n, step) in enumerate(zip(at.shape, steps)))
        if np.array_equal(spaced, at):
            out._data = np.ndarray(at.shape, owner.dtype, buffer=owner, offset=start,
                                   strides=steps)
    return out


def _owner(a: np.ndarray) -> Any:
    """The array that owns a's memory (numpy keeps the owner as every view's base)."""
    return a if a.base is None else a.base


def _addresses(a: np.ndarray) -> np.ndarray:
    """The memory address of each of a's entries, in a's shape."""
    address = np.full(a.shape, a.__array_interface__["data"][0], np.intp)
    for k, (n, stride) in enumerate(zip(a.shape, a.strides)):  # a loop over dims
        address += (np.arange(n, dtype=np.intp) * stride).reshape((n,) + (1,) * (a.ndim - k - 1))
    return address


def _where(view: np.ndarray, base: np.ndarray) -> tuple:
    """Where each of view's entries sits in base (which shares its memory), as index arrays
    of view's shape; a view whose entries overlap (an expanded one) is refused, as PyTorch."""
    at = _addresses(view)
    if np.unique(at).size != at.size:
        raise RuntimeError("unsupported operation: more than one element of the written-to "
                           "tensor refers to a single memory location. Please clone() the "
                           "tensor before performing the operation.")
    # each entry's offset divided out by base's strides, the largest first: the work of the
    # view's size, not the base's (a view of numpy's slicing, transposing and reshaping
    # always decodes so; anything else is found by sorting base's addresses)
    rest = at - base.__array_interface__["data"][0]
    where = [np.zeros_like(rest)] * base.ndim
    for k in sorted(range(base.ndim), key=lambda k: -base.strides[k]):
        if base.strides[k] > 0:
            where[k], rest = np.divmod(rest, base.strides[k])
    if not rest.any() and all(((i >= 0) & (i < n)).all() for i, n in zip(where, base.shape)):
        return tuple(where)
    in_base = _addresses(base).reshape(-1)
    order = np.argsort(in_base, kind="stable")
    return np.unravel_index(order[np.searchsorted(in_base, at, sorter=order)], base.shape)


add_methods(Tensor, _InPlace)
