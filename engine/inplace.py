"""Tensor's in-place updates, as PyTorch's: `+=` and the other augmented assignments,
`add_`, `mul_`, `copy_`, `fill_`, `zero_`, `t[index] = value`, and the `out=` tensor that
PyTorch's functions write their result into (`torch.add(x, y, out=result)`).

The numbers are always written into the tensor's own memory, so views, `.detach()`ed
aliases, `.numpy()` arrays and the array a tensor was made from see them, as in PyTorch.
In the graph an in-place op also records an op: the tensor's old self is kept as a
snapshot node holding a copy of its old numbers, the op reads it, and the tensor takes the
result's place.

Tensors that share memory form a family (engine/tensor.py's `_share`: a view op's result
and its operand, a tensor and its `.detach()`). Every change counts in the `_version` of
the whole family, as PyTorch's views share one version counter, so a backward pass refuses
a node whose saved inputs, or views of them, changed after it used them. What counts is
what the op's rule reads, as PyTorch saves just that: nothing for ops whose rules read
shapes only (a + b, sums, reshapes, indexing, where: engine/tensor.py's `_saves_nothing`),
the output only for tanh, exp, sigmoid, relu, sqrt and the softmaxes, one operand of a * b
or a @ b for the other's gradient (`_saves`), and otherwise the output and every operand.

A tensor changed in place in the graph is the same Python object standing for a new node,
while nodes made from it earlier still link the object: a backward pass relinks each such
node to what the tensor was when the node was made (kept by `_take`, found by
engine/gradients.py's `_as_of`), so `y = p + 1; p.mul_(3)` sends y's gradient where p's old
numbers came from, as PyTorch's graph, which links ops rather than tensors, does.

A view changed in place in the graph (`t[0].mul_(3)`, `t.diagonal().zero_()`) changes what
it was taken from: the base takes the place of a copy of itself with the view's new
entries written where the view's entries sit in its memory (PyTorch's CopySlices), and so
on up a view of a view. Then every view of the topmost base is made a view of what that
base now is, so that a view read after its base changed (`v = t[0]; t.mul_(2)`) holds the
new numbers and sends its gradient to them, as PyTorch's regenerated views do. A view is
known by its array: one sharing the memory of the array of the node it was made from.

The methods below are added to Tensor (the end of the file says so).
"""
from __future__ import annotations

import copy
import warnings
import weakref
from typing import Any, Callable

import numpy as np

from engine.dtypes import as_array, wrap
from engine import graph, shapes  # shapes' names are read when used: engine.shapes may be loading
from engine.tensor import (Operand, Tensor, _as_tensor, _cast_to, _leaf, _new, _recording,
                           _views, add_methods)


def _copied_numbers(data: np.ndarray, memo: dict) -> np.ndarray:
    """A copy of `data` for copy.deepcopy: a view of the copy of the memory it views, made
    once per memo, so that views of one memory stay views of one copy."""
    if id(data) in memo:
        return memo[id(data)]
    base = data
    while isinstance(base.base, np.ndarray):
        base = base.base
    if not (base.flags.c_contiguous or base.flags.f_contiguous):  # (no memory to lay out)
        return data.copy()
    if id(base) not in memo:
        memo[id(base)] = np.copy(base, order="A")
        memo.setdefault(id(memo), []).append(base)  # kept alive, as deepcopy keeps what it
        # copies (copy's own list): its id must not be reused while the memo lives
    offset = data.__array_interface__["data"][0] - base.__array_interface__["data"][0]
    return np.ndarray(data.shape, data.dtype, memo[id(base)], offset, data.strides)


_LEAF = {"_grad": None, "_a": None, "_b": None, "_rule": None, "_vsum": None, "_more": (),
         "_op": "", "_seen": -1, "_retains": False}  # a leaf's graph slots (pickle's copy)


class _InPlace:
    """Tensor's in-place methods."""

    _deepcopy_keeps_grad = True  # (nn.Parameter's does not, as PyTorch's)

    def _snapshot(self, copy: bool = True) -> Tensor:
        """A new node holding what this one holds now, to stand for it in the graph: with a
        `copy` of its numbers, which an in-place write is about to change in its memory."""
        old = _new(Tensor)
        for slot in ("_data", "requires_grad", "label", "_op", "_torch_op", "_a", "_b", "_more",
                     "_rule", "_version", "_vsum", "_seen", "_remade", "_before", "_reads"):
            setattr(old, slot, getattr(self, slot))
        if copy:
            old._data = np.copy(self._data, order="K")
        old._grad, old._retains = None, False
        return old

    def _changed(self) -> None:
        """Count an in-place change of this tensor's numbers in its `_version` and in that of
        every tensor sharing its memory (its views, its base, `.detach()`ed aliases), as
        PyTorch's views share one version counter: a graph that saved any of them refuses
        to backpropagate through numbers that have changed since."""
        graph.changed()
        family = self._family
        if family is None:
            self._version += 1
            return
        members = [t for t in (ref() for ref in family) if t is not None]
        for t in members:
            t._version += 1
        for t in members:  # a view's own rule reads no numbers: nothing to refuse
            if _views_its_parent(t):
                t._vsum = None

    def __getstate__(self) -> tuple:
        """What pickle and copy keep of a tensor, as PyTorch's: its numbers, requires_grad
        and attributes, as a leaf (no link to the graph that made it, no .grad), and not
        which tensors share its memory (`_family`, `_view_of`): a copy has memory of its own."""
        attributes = {name: value for name, value in self.__dict__.items()
                      if name not in ("_family", "_view_of", "_releasable", "_remade", "_before",
                                      "_torch_op", "_hooks", "_reads")}
        slots = {name: getattr(self, name) for name in Tensor.__slots__
                 if name not in ("__dict__", "__weakref__") and hasattr(self, name)}
        slots.update(_LEAF)
        return attributes or None, slots

    def __deepcopy__(self, memo: dict) -> Tensor:
        """copy.deepcopy: as pickle's copy, with the .grad copied too, as PyTorch's (pickle
        and copy.copy leave it out). Tensors whose numbers share memory (views of one base)
        share the copy's, as PyTorch's storages do."""
        state = self.__getstate__()
        memo[id(self._data)] = _copied_numbers(self._data, memo)
        attributes, slots = copy.deepcopy(state, memo)
        out = memo[id(self)] = object.__new__(type(self))
        for name, value in slots.items():
            object.__setattr__(out, name, value)
        if attributes:
            out.__dict__.update(attributes)
        if self._deepcopy_keeps_grad:
            out._grad = copy.deepcopy(self._grad, memo)
        return out

    def _check_in_place(self, op: str) -> None:
        if self._rule is None and self.requires_grad:
            raise RuntimeError(f"{op}: a leaf tensor that requires grad cannot be changed in "
                               "place while the graph is recorded (its gradient would be lost); "
                               "update it inside `with engine.no_grad():`, as optimizers do, or "
                               "through .data")

    def _become(self, result: Tensor, old: Tensor, inputs: Any) -> Tensor:
        """Take `result`'s place: this tensor's memory takes its numbers, and this object how
        it was made; what it is a view of, and every other view of that, follow.

        `old` (this tensor's snapshot, holding a copy of its numbers) already stands for what
        this tensor was as result's operand; nodes of `inputs` (the other operand's graph)
        that were made from this tensor are pointed at `old` too, as in `x[i] = x[i] - 1`,
        so no cycle is made. A tensor this one is a view of takes the place of a copy of
        itself with the view's new entries written in (PyTorch's CopySlices), and so on up
        a view of a view; then the views of the topmost one are made its views again, so
        that their gradients go to what their numbers now are (PyTorch regenerates a view's
        grad_fn so).
        """
        bases = _bases(self)  # found before anything changes
        base_olds = [base._snapshot() for base, _ in bases]  # before the write reaches them
        self._take(result, old, inputs)
        views = [self, *(base for base, _ in bases[:-1])]
        value = self._snapshot() if bases else None  # the view's new numbers, as a node
        for (base, where), base_old in zip(bases, base_olds):  # each base takes them...
            memory = base._data if base._data.flags.writeable else None  # (holds the rest)
            written = shapes._index_put(base_old, where, value, accumulate=False, into=memory)
            written._torch_op = "copy_slices"
            base._take(written, base_old, value)
            if base is not bases[-1][0]:
                value = base._snapshot()
        for view, (base, where) in reversed(list(zip(views, bases))):
            view._take(shapes.getitem(base, where), None, None)  # ...and each view views it again
        top = bases[-1][0] if bases else self
        for t in [*views, top, *_views_of(top, exclude=views)]:  # the versions they read
            if t._vsum is not None:  # moved on as they changed
                t._vsum = t._versions()
        return self

    def _take(self, result: Tensor, old: Tensor | None, inputs: Any) -> None:
        """_become's step for one tensor: how `result` was made, and its numbers, written into
        this tensor's memory (taken as they are where they cannot be: another shape, or a
        read-only array)."""
        if isinstance(inputs, Tensor) and inputs.requires_grad:
            # the operand's graph read this tensor's numbers, and maybe those of its views,
            # as they were: it keeps them, as copies, where the write is about to change them
            for view in _point_at(inputs, self, old):
                _point_at(inputs, view, view._snapshot())
        # what this tensor was, for nodes made before now that link it (graph.remade): `old`
        # weakly, as the new node reads it anyway (held strongly, a tensor changed every step
        # would keep every step's graph alive); a view's old links in a snapshot of its own
        before = self._snapshot(copy=False) if old is None else weakref.ref(old)
        memory = self._data
        for slot in ("_data", "requires_grad", "_op", "_torch_op", "_a", "_b", "_more", "_rule",
                     "_seen", "_reads"):
            setattr(self, slot, getattr(result, slot))
        if self._data is not memory and memory.shape == self._data.shape and (
                memory.dtype == self._data.dtype and memory.flags.writeable):
            np.copyto(memory, self._data)
            self._data = memory
        self._releasable = not _views_its_parent(self)  # (see engine/tensor.py's _share)
        self._changed()
        self._remade, self._before = graph.remade(), before
        self._vsum = None if result._vsum is None else self._versions()

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
                    self._changed()
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
        _refuse_unwritable(self, op)
        np.copyto(self._data, result._data, casting="same_kind")
        self._changed()
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
            if a.requires_grad or b.requires_grad:  # a stays in the graph, its gradient 0
                # (exactly: g * 0 would be nan where g is inf), as PyTorch's CopyBackwards
                return b._cast(a.dtype).where(np.ones(a.shape, bool), a)
            return _leaf(np.broadcast_to(b._data, a.shape).astype(a.dtype))
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
        index = shapes._index(index, self._data.shape)
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
            _refuse_unwritable(self, "setting entries")
            raise ValueError(f"cannot put a value of shape {value._data.shape} at index "
                             f"{index!r:.80} of a tensor of shape {self._data.shape}") from None
        self._changed()


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
    _refuse_unwritable(out, f"{op}(out=)")
    np.copyto(out._data, data, casting="same_kind")
    out._changed()
    return out


def _point_at(root: Tensor, target: Tensor, replacement: Tensor) -> list[Tensor]:
    """In root's graph, make every node that has `target` as a parent have `replacement`
    (the walk does not go past `target`: what made it is not changed). Returns the other
    parents met that share target's memory (its views), which a write into it will change."""
    stack, seen, sharing = [root], set(), []
    family = target._family
    while stack:
        node = stack.pop()
        if node is target or node._a is None or node in seen:
            continue
        seen.add(node)
        parents = node._prev
        if any(p is target for p in parents):
            fixed = [replacement if p is target else p for p in parents]
            node._a, node._b, node._more = fixed[0], (fixed + [None])[1], tuple(fixed[2:])
        if family is not None:
            sharing += [p for p in parents if p._family is family and p is not target
                        and all(p is not q for q in sharing)]
        stack.extend(parents)
    return sharing


_OVERLAP = ("unsupported operation: more than one element of the written-to tensor refers to a "
            "single memory location. Please clone() the tensor before performing the operation.")


def _refuse_unwritable(t: Tensor, op: str) -> None:
    """Raise, saying why, when t's memory cannot be written: an expanded tensor's entries share
    memory (PyTorch refuses it too), or it is a read-only numpy array the tensor was made of."""
    data = t._data
    if data.flags.writeable:
        return
    if any(stride == 0 and n > 1 for stride, n in zip(data.strides, data.shape)):
        raise RuntimeError(_OVERLAP)
    raise RuntimeError(f"{op}: this tensor's memory is a read-only numpy array, which cannot be "
                       "changed in place; change a copy (t = t.clone()), or make the tensor "
                       "from a writable array")


def _views_its_parent(t: Tensor) -> bool:
    """Whether t is a node whose numbers are a view of its parent's (its rule reads none)."""
    return t._a is not None and _views(t._data, t._a)


def _bases(view: Tensor) -> list[tuple[Tensor, tuple]]:
    """The tensors an in-place change of `view` writes through to: the node it was taken
    from if their arrays share memory, that node's own base, and so on; each with where
    the entries of the one below it sit in it (index arrays, one per dim)."""
    bases = []
    while True:
        base = view._a if view._a is not None else view._view_of
        if base is None or not _views(view._data, base):
            return bases
        if base._rule is None and base.requires_grad:  # its gradient would be lost
            raise RuntimeError("a view of a leaf Variable that requires grad is being used in "
                               "an in-place operation.")
        bases.append((base, _where(view._data, base._data)))
        view = base


def _views_of(top: Tensor, exclude: list) -> list[Tensor]:
    """The live tensors a view op made from `top` or from its views, but not those of
    `exclude`, each made again as top[where its entries sit in top], its numbers kept."""
    remade = []
    for ref in top._family or ():
        view = ref()
        if view is None or view is top or any(view is t for t in exclude):
            continue
        made_from = view._view_of
        while made_from is not None and made_from is not top:
            made_from = made_from._view_of
        where = None if made_from is None else _where(view._data, top._data, strict=True)
        if where is not None:
            view._take(shapes.getitem(top, where), None, None)
            remade.append(view)
    return remade


def _addresses(a: np.ndarray) -> np.ndarray:
    """The memory address of each of a's entries, in a's shape."""
    return strided_positions(a.shape, a.strides, a.__array_interface__["data"][0])


def strided_positions(shape: tuple, strides: tuple, start: int) -> np.ndarray:
    """Where each entry of a strided layout sits, in `shape`: start + sum(index * stride)."""
    at = np.full(shape, start, np.intp)
    for k, (n, stride) in enumerate(zip(shape, strides)):  # a loop over dims
        at += (np.arange(n, dtype=np.intp) * stride).reshape((n,) + (1,) * (len(shape) - k - 1))
    return at


def _where(view: np.ndarray, base: np.ndarray, strict: bool = False) -> tuple | None:
    """Where each of view's entries sits in base (which shares its memory), as index arrays
    of view's shape; a view whose entries overlap (an expanded one) is refused, as PyTorch.
    `strict`: overlapping entries are taken, and None is the answer when some entry of view
    is not in base."""
    at = _addresses(view)
    if not strict and np.unique(at).size != at.size:
        raise RuntimeError(_OVERLAP)
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
    found = order[np.minimum(np.searchsorted(in_base, at, sorter=order), in_base.size - 1)]
    if strict and not np.array_equal(in_base[found], at):
        return None
    return np.unravel_index(found, base.shape)


add_methods(Tensor, _InPlace)
