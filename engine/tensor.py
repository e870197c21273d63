"""Tensor: one numpy array, the nodes it came from, and how to send its gradient back to them.

The same node design as `Value` (see engine/graph.py): each op computes its result and,
right below, its backward rule `rule(res)`, which adds each parent's chain-rule share of
`res.grad` into that parent's `.grad`. A rule reads what it needs from the result node
(its parents `res._a`, `res._b` and, for ops of more operands, `res._more`; its data) and
captures only the op's settings (axis, index, mask), so no rule holds its own node: a
graph frees as soon as nobody holds its root. One topological walk and one driver serve
both engines, and `engine.no_grad()` switches both off. Below the class sit the ops that
PyTorch spells as functions (`where`, `cat`, `stack`, `tril`, `triu`) and the factories
(`tensor`, `randn`, `rand`, `zeros`, `ones`, `arange`, `manual_seed`).

Dtypes, as PyTorch promotes them: float input becomes float32 unless a dtype is given.
Operands rank bool < int < float; a tensor of a lower rank is cast to the highest one,
and tensors of the same rank combine as numpy does (float32 with float64 is float64,
each operand getting its gradient in its own dtype). Numbers, lists and arrays are weak:
they take the dtype of the tensors of their rank (`f32 * 2.5` and `f32 + np.ones(3)` stay
float32, `uint8_tensor - 1` is uint8 255), or float32 / int64 when no tensor has it
(`int_tensor * 0.5` is float32). Ops that only make sense in floats (exp, log, sqrt,
softmax, ...) compute int and bool tensors in float32, so `int_tensor.exp() + f32` stays
float32. Int and bool tensors (labels, masks) take part in ops but cannot require grad.

Gradients flow only to tensors that require them: an op's result requires grad when grad
mode is on and some operand does; otherwise it is a plain leaf with no parents and no
rule. Rules skip the work for operands that need no gradient (no input-gradient matmul
for a batch of data).

Memory: `Tensor(array)` uses the array as it is when it already has the wanted dtype (as
`torch.as_tensor` does), and `.numpy()` returns it, so both share memory with the caller.
Every leaf owns its `.grad`, a writable array no other node holds (clip it in place if you
like); an interior node's may be shared with other nodes. The engine itself never writes
into a gradient. `.g` is a free slot for gradients computed by hand, as the fast.ai
lesson stores them; the engine never reads it.

Domain edges give PyTorch's answers, as `Value` does, in value and in gradient: `log(0)`
is -inf, `log(-1)`, `sqrt(-inf)` and `(-inf) ** 0.5` are nan, `1 / 0` is inf; relu and
`x ** 0` pass no gradient at all where flat (not even a nan one); those ops silence
numpy's warnings about it. Shape errors are raised by the op, naming the shapes.
"""
from __future__ import annotations

import math
import numbers
import sys
import types
from typing import Any, Callable, Sequence, Union

import numpy as np

from engine import graph
from engine.graph import Node, is_grad_enabled

Operand = Union["Tensor", numbers.Real, np.ndarray, list]
Dims = Union[int, tuple, list, None]
_IEEE = {"divide": "ignore", "invalid": "ignore", "over": "ignore"}
_RANK = {"b": 0, "u": 1, "i": 1, "f": 2}  # bool < int < float, as PyTorch ranks dtypes
_DEFAULT = (np.dtype(np.bool_), np.dtype(np.int64), np.dtype(np.float32))  # by rank


def _numbers(data: Any, what: str) -> np.ndarray:
    """data as a numpy array of bools, ints or floats, in the dtype numpy gives it."""
    if isinstance(data, Tensor):
        return data.data
    try:
        array = np.asarray(data)
    except ValueError as e:  # ragged nested lists
        raise ValueError(f"{what} must be a rectangular array of numbers: {e}") from None
    if array.dtype.kind not in "biuf":
        raise TypeError(f"{what} must be numbers (bool, int or float), got "
                        f"{type(data).__name__} {data!r:.60} (numpy dtype {array.dtype})")
    return array


def _as_array(data: Any, dtype: Any, what: str) -> np.ndarray:
    """data as a numpy array of numbers: float -> float32 unless `dtype` says otherwise."""
    array = _numbers(data, what)
    if dtype is not None:
        target = np.dtype(dtype)
        if target.kind not in "biuf":
            raise TypeError(f"{what}: dtype must be a bool, int or float dtype, got {target}")
    elif array.dtype.kind == "f":
        target = _DEFAULT[2]
    else:
        return array
    return array if array.dtype == target else array.astype(target)


def _node(data: Any, op: str, rule: Callable | None, *parents: Tensor) -> Tensor:
    """An op's result: a node when grad mode is on and a parent requires grad, else a leaf."""
    out = Tensor.__new__(Tensor)
    out.data = data if type(data) is np.ndarray else np.asarray(data)  # numpy gives 0-d as scalars
    out.grad = None
    out.label = ""
    if graph.threads_off == 0 or is_grad_enabled():
        for p in parents:  # a loop, not any(genexpr): this runs for every op
            if p.requires_grad:
                out.requires_grad, out._op, out._rule = True, op, rule
                out._a, out._b = parents[0], parents[1] if len(parents) > 1 else None
                out._more = parents[2:]
                return out
    out.requires_grad, out._op, out._rule = False, "", None
    out._a = out._b = None
    out._more = ()
    return out


def _kept(keep: np.ndarray, g: np.ndarray) -> np.ndarray:
    """g where `keep`, 0 elsewhere, even where g is nan or inf (PyTorch passes no gradient
    there at all). Multiplying by the mask is several times quicker than np.where; only a
    g that holds nan or inf, which 0 times would spread, needs np.where."""
    return g * keep if np.isfinite(g).all() else np.where(keep, g, 0)


def _leaf(data: np.ndarray) -> Tensor:
    """A Tensor that requires no grad, around an array the engine made."""
    return _node(data, "", None)


def _as_tensor(x: Any) -> Tensor:
    """x itself if it is a Tensor, else a Tensor of it."""
    return x if isinstance(x, Tensor) else Tensor(x)


def _sum_to(g: np.ndarray, shape: tuple) -> np.ndarray:
    """g summed over the dims that broadcasting added or stretched, back to `shape`.

    Two sums rather than one and a reshape, so that the result is a fresh array rather
    than a view (which `_add_grad` would copy once more for a leaf).
    """
    if g.shape == shape:
        return g
    lead = g.ndim - len(shape)
    if lead:
        g = g.sum(axis=tuple(range(lead)))
    stretched = tuple(i for i, n in enumerate(shape) if n == 1 and g.shape[i] != 1)
    return g.sum(axis=stretched, keepdims=True) if stretched else g


def _add_grad(t: Tensor, g: Any) -> None:
    """Add g into t.grad, reduced to t's shape and dtype; a new array, never written in place.

    A leaf's first gradient becomes its `.grad`, copied when another node may hold it too:
    when it is a view (a reshaped or broadcast gradient, or the one a rule passes on
    unchanged, which rules hand over as `g.view()`). So every leaf owns a writable `.grad`,
    as in PyTorch, without copying the fresh arrays that most rules make.
    """
    g = _sum_to(g if type(g) is np.ndarray else np.asarray(g), t.data.shape)
    if g.dtype != t.data.dtype:  # a float32 operand of a float64 op gets a float32 gradient
        g = g.astype(t.data.dtype)
    elif t.grad is None and t._rule is None and (g.base is not None or not g.flags.writeable):
        g = g.copy()
    t.grad = g if t.grad is None else t.grad + g


def _operands(op: str, *xs: Any) -> tuple[Tensor, ...]:
    """The operands of `op` as Tensors that numpy combines as PyTorch would (module docstring)."""
    if len(xs) == 2:  # the common cases first, at the cost of a few type checks
        a, b = xs
        if type(a) is Tensor:
            kind = a.data.dtype.kind
            if type(b) is Tensor:
                if kind == b.data.dtype.kind:
                    return xs
            elif kind == "f" and (type(b) is float or type(b) is int):
                return a, _leaf(np.array(b, a.data.dtype))
    arrays = [_numbers(x, f"Tensor {op} operand") for x in xs]
    top = max(_RANK[x.dtype.kind] for x in arrays)
    strong = [x.data.dtype for x in xs if isinstance(x, Tensor) and _RANK[x.data.dtype.kind] == top]
    target = np.result_type(*strong) if strong else _DEFAULT[top]
    # every operand below the top rank is a number or a tensor that cannot require grad,
    # so a converted copy outside the graph loses no gradient
    return tuple(x if isinstance(x, Tensor) and _RANK[array.dtype.kind] == top
                 else _leaf(array.astype(target, copy=False)) for x, array in zip(xs, arrays))


def _floating(t: Tensor) -> Tensor:
    """t, or its entries in float32 if it is int or bool: exp, log and division make floats,
    as in PyTorch (int / int is a float, and uint8 / -1 is -1.0 where uint8 - 1 is 255)."""
    return t if t.data.dtype.kind == "f" else _leaf(t.data.astype(np.float32))


def _elementwise(fn: Callable, a: Tensor, b: Tensor, op: str) -> np.ndarray:
    """fn(a, b) with numpy broadcasting; a shape mismatch is reported here with both shapes."""
    try:
        return fn(a.data, b.data)
    except ValueError:
        _check_broadcast(op, a.data.shape, b.data.shape)
        raise  # not a shape problem: numpy's own message says what it is


def _check_broadcast(op: str, *shapes: tuple) -> None:
    """A ValueError naming the shapes when they do not broadcast together."""
    try:
        np.broadcast_shapes(*shapes)
    except ValueError:
        raise ValueError(f"Tensor {op}: shapes {' and '.join(map(str, shapes))} do not "
                         "broadcast (aligned from the right, each dim must match or be 1)"
                         ) from None


def _power(x: np.ndarray, p: np.ndarray) -> np.ndarray:
    """x ** p as numpy computes it, except (-inf) ** ±0.5: nan, as sqrt(-inf) (PyTorch, Value)."""
    out = np.power(x, p)
    if p.ndim == 0 and p.item() not in (0.5, -0.5):  # the common case, decided cheaply
        return out
    return np.where((np.abs(p) == 0.5) & (x == -np.inf), np.nan, out)


def _dims(axis: Dims, keepdims: bool, dim: Dims, keepdim: bool | None) -> tuple[Any, bool]:
    """numpy's axis= / keepdims= or PyTorch's dim= / keepdim=; a list of dims as a tuple."""
    if dim is not None:
        if axis is not None:
            raise TypeError(f"pass axis= or its PyTorch name dim=, not both (got axis={axis!r} "
                            f"and dim={dim!r})")
        axis = dim
    if keepdim is not None:
        keepdims = keepdim
    return (tuple(axis) if isinstance(axis, list) else axis), keepdims


def _dim_index(dim: int, ndim: int, op: str) -> int:
    """dim, counted from the end when negative, as an index in [0, ndim), or an IndexError."""
    if not -ndim <= dim < ndim:
        raise IndexError(f"{op}: dim {dim} is out of range for {ndim} dims "
                         f"(from {-ndim} to {ndim - 1})")
    return dim % ndim


def _sizes(args: tuple) -> tuple:
    """f(2, 3) and f((2, 3)) (or a list) as (2, 3): PyTorch takes sizes and dims both ways."""
    return tuple(args[0]) if len(args) == 1 and isinstance(args[0], (tuple, list)) else args


def _unreduce(g: np.ndarray, axis: Any, keepdims: bool) -> np.ndarray:
    """The gradient of a reduction along `axis` with the reduced dims back as size 1."""
    return g if keepdims or axis is None else np.expand_dims(g, axis)


def _reduced(kept: np.ndarray, axis: Any, keepdims: bool) -> np.ndarray:
    """A reduction computed with keepdims=True, as the caller asked for it."""
    return kept if keepdims else np.squeeze(kept, axis)


def _logsumexp(x: np.ndarray, axis: Any) -> np.ndarray:
    """log(sum(exp(x))) along axis with keepdims, shifted by the max so exp cannot overflow."""
    top = x.max(axis=axis, keepdims=True)
    top = np.where(np.isfinite(top), top, 0)  # all -inf (or an inf) would give inf - inf = nan
    with np.errstate(divide="ignore"):
        return top + np.log(np.exp(x - top).sum(axis=axis, keepdims=True))


def _index(index: Any) -> Any:
    """An index with Tensors replaced by their arrays, so numpy can use it."""
    if isinstance(index, Tensor):
        return index.data
    if isinstance(index, tuple):
        return tuple(i.data if isinstance(i, Tensor) else i for i in index)
    return index


def _is_basic(index: Any) -> bool:
    """True for numpy basic indexing (ints, slices, None, ...): no entry is picked twice."""
    parts = index if isinstance(index, tuple) else (index,)
    return all(p is None or p is Ellipsis or isinstance(p, slice)
               or (isinstance(p, (int, np.integer)) and not isinstance(p, bool)) for p in parts)


def _mask(mask: Any, op: str) -> np.ndarray:
    """A bool array from a bool Tensor or array, or a TypeError saying how to make one."""
    array = _numbers(mask, f"{op} mask")
    if array.dtype != np.bool_:
        raise TypeError(f"{op} takes a bool mask (e.g. x > 0 or mask == 0), got {array.dtype}")
    return array


def _named_after(out: Tensor, template: str, source: Tensor) -> Tensor:
    """`out` labelled after `source` when it is a plain leaf made from a labelled one.

    A composite turns an operand that needs no gradient into a new leaf (the -y in a - y is
    a + (-y)), and a picture of the graph would show that leaf unnamed; so it keeps a name.
    """
    if source.label and not out.requires_grad:
        out.label = template.format(source.label)
    return out


class Tensor(Node):
    """A graph node holding a numpy array: `data`, `grad` and how it was made."""

    __slots__ = ("data", "grad", "requires_grad", "label", "_op", "_a", "_b", "_more", "_rule",
                 "g")
    _GRAD_ZERO = None  # no gradient yet, as in PyTorch
    __array_ufunc__ = None  # `array + tensor` calls Tensor.__radd__ instead of looping in numpy
    __hash__ = object.__hash__  # __eq__ compares entries; graph walks keep nodes in sets

    def __init__(self, data: Any, requires_grad: bool = False, dtype: Any = None,
                 label: str = "") -> None:
        self.data = _as_array(data, dtype, "Tensor(data)")
        self.grad = None
        self.label = label
        self._op = ""
        self._a = self._b = self._rule = None
        self._more = ()
        self.requires_grad_(requires_grad)

    # --- primitives: each computes its value and defines its derivative right below ---

    def __add__(self, other: Operand) -> Tensor:
        """a + b; da = g, db = g."""
        a, b = _operands("+", self, other)

        def rule(res: Tensor) -> None:
            g, a, b = res.grad.view(), res._a, res._b  # a view: a leaf copies it (see _add_grad)
            if a.requires_grad:
                _add_grad(a, g)
            if b.requires_grad:
                _add_grad(b, g)
        return _node(_elementwise(np.add, a, b, "+"), "+", rule, a, b)

    def __mul__(self, other: Operand) -> Tensor:
        """a * b; da = b g, db = a g."""
        a, b = _operands("*", self, other)

        def rule(res: Tensor) -> None:
            g, a, b = res.grad, res._a, res._b
            if a.requires_grad:
                _add_grad(a, g * b.data)
            if b.requires_grad:
                _add_grad(b, g * a.data)
        return _node(_elementwise(np.multiply, a, b, "*"), "*", rule, a, b)

    def __pow__(self, other: Operand) -> Tensor:
        """a ** b; da = b a**(b-1) g, none where b == 0; db = a**b ln(a) g, 0 where a == 0 <= b."""
        a, b = _operands("**", self, other)
        with np.errstate(**_IEEE):
            out = _elementwise(_power, a, b, "**")

        def rule(res: Tensor) -> None:
            g, a, b = res.grad, res._a, res._b
            with np.errstate(**_IEEE):
                if a.requires_grad:  # x**0 is the constant 1: no gradient, even a nan one
                    da = g * b.data * _power(a.data, b.data - 1)
                    _add_grad(a, np.where(b.data == 0, 0, da))
                if b.requires_grad:  # 0**p is 0 for every p > 0: flat in p, not 0 * ln(0) = nan
                    db = g * res.data * np.log(a.data)
                    _add_grad(b, np.where((a.data == 0) & (b.data >= 0), 0, db))
        return _node(out, "**", rule, a, b)

    def __matmul__(self, other: Operand) -> Tensor:
        """a @ b, numpy's rules; da = g @ b^T, db = a^T @ g (1-D a: a row, 1-D b: a column)."""
        a, b = _operands("@", self, other)
        try:
            out = np.matmul(a.data, b.data)
        except ValueError:
            raise ValueError(f"Tensor @: shapes {a.data.shape} and {b.data.shape} do not fit; "
                             + _matmul_rule(a.data.shape, b.data.shape)) from None

        def rule(res: Tensor) -> None:
            g, a, b = res.grad, res._a, res._b
            # Give 1-D operands and g the dims matmul dropped, so one 2-D rule covers every case.
            a2 = a.data[None, :] if a.data.ndim == 1 else a.data
            b2 = b.data[:, None] if b.data.ndim == 1 else b.data
            g2 = g[..., None] if b.data.ndim == 1 else g
            g2 = g2[..., None, :] if a.data.ndim == 1 else g2
            if a.requires_grad:
                da = g2 @ b2.swapaxes(-1, -2)
                _add_grad(a, da[..., 0, :] if a.data.ndim == 1 else da)
            if b.requires_grad:
                db = a2.swapaxes(-1, -2) @ g2
                _add_grad(b, db[..., 0] if b.data.ndim == 1 else db)
        return _node(out, "@", rule, a, b)

    def sum(self, axis: Dims = None, keepdims: bool = False, *, dim: Dims = None,
            keepdim: bool | None = None) -> Tensor:
        """Sum along axis (all by default); da = g broadcast back over the summed dims."""
        axis, keepdims = _dims(axis, keepdims, dim, keepdim)

        def rule(res: Tensor) -> None:
            g, a = res.grad, res._a
            _add_grad(a, np.broadcast_to(_unreduce(g, axis, keepdims), a.data.shape))
        return _node(self.data.sum(axis=axis, keepdims=keepdims), "sum", rule, self)

    def max(self, axis: Dims = None, keepdims: bool = False, *, dim: Dims = None,
            keepdim: bool | None = None) -> Tensor:
        """Largest entry along axis (values only: PyTorch's `amax`, and its `max()` without a dim)."""
        return self._extreme(np.max, "max", *_dims(axis, keepdims, dim, keepdim))

    def min(self, axis: Dims = None, keepdims: bool = False, *, dim: Dims = None,
            keepdim: bool | None = None) -> Tensor:
        """Smallest entry along axis (values only: PyTorch's `amin`, and its `min()` without a dim)."""
        return self._extreme(np.min, "min", *_dims(axis, keepdims, dim, keepdim))

    def _extreme(self, pick: Callable, op: str, axis: Any, keepdims: bool) -> Tensor:
        """max or min along axis; da = g split evenly among the entries tied for it.

        The even split is what `torch.amax` (and `torch.max` without a dim) does; it keeps
        the gradient symmetric where picking one entry would depend on the order.
        """
        top = pick(self.data, axis=axis, keepdims=True)

        def rule(res: Tensor) -> None:
            g, a = res.grad, res._a
            hit = a.data == top
            share = _unreduce(g, axis, keepdims) / hit.sum(axis=axis, keepdims=True, dtype=g.dtype)
            _add_grad(a, hit * share)
        return _node(_reduced(top, axis, keepdims), op, rule, self)

    def reshape(self, *shape: int | tuple[int, ...]) -> Tensor:
        """Entries in a new shape, `t.reshape(2, 3)` or `t.reshape((2, 3))`; da = g reshaped."""
        shape = _sizes(shape)
        try:
            out = self.data.reshape(shape)
        except ValueError:
            raise ValueError(f"Tensor.reshape: cannot reshape shape {self.data.shape} "
                             f"({self.data.size} entries) into {shape}") from None

        def rule(res: Tensor) -> None:
            g, a = res.grad, res._a
            _add_grad(a, g.reshape(a.data.shape))
        return _node(out, "reshape", rule, self)

    def permute(self, *dims: int | tuple[int, ...]) -> Tensor:
        """Dims reordered, `permute(2, 0, 1)` or `permute((2, 0, 1))` (reversed when none are
        given); da = g in the order undone."""
        dims = _sizes(dims) or tuple(reversed(range(self.data.ndim)))
        out = np.transpose(self.data, dims)
        undo = np.argsort([d % self.data.ndim for d in dims])  # -1 means the last dim

        def rule(res: Tensor) -> None:
            g, a = res.grad, res._a
            _add_grad(a, np.transpose(g, undo))
        return _node(out, "permute", rule, self)

    def __getitem__(self, index: Any) -> Tensor:
        """a[index] (slices, ints, int or bool arrays); da = g put back where it came from.

        Advanced indexing may pick an entry more than once (an embedding lookup of repeated
        tokens); np.add.at sums those shares, where plain assignment would keep only the last.
        """
        index = _index(index)
        basic = _is_basic(index)

        def rule(res: Tensor) -> None:
            g, a = res.grad, res._a
            grad = np.zeros(a.data.shape, a.data.dtype)
            if basic:
                grad[index] = g
            else:
                np.add.at(grad, index, g)
            _add_grad(a, grad)
        return _node(self.data[index], "index", rule, self)

    def exp(self) -> Tensor:
        """e**a; da = e**a g."""
        with np.errstate(over="ignore"):
            out = np.exp(_floating(self).data)

        def rule(res: Tensor) -> None:
            _add_grad(res._a, res.grad * res.data)
        return _node(out, "exp", rule, self)

    def log(self) -> Tensor:
        """ln a; da = g / a."""
        def rule(res: Tensor) -> None:
            g, a = res.grad, res._a
            with np.errstate(**_IEEE):
                _add_grad(a, g / a.data)
        with np.errstate(**_IEEE):
            return _node(np.log(_floating(self).data), "log", rule, self)

    def tanh(self) -> Tensor:
        """tanh a; da = (1 - tanh(a)**2) g."""
        def rule(res: Tensor) -> None:
            t = res.data
            _add_grad(res._a, res.grad * (1 - t * t))
        return _node(np.tanh(_floating(self).data), "tanh", rule, self)

    def sigmoid(self) -> Tensor:
        """1 / (1 + e**-a), from e**-|a| so it cannot overflow; da = s (1 - s) g."""
        x = _floating(self).data
        e = np.exp(-np.abs(x))
        s = np.where(x >= 0, 1, e) / (1 + e)

        def rule(res: Tensor) -> None:
            s = res.data
            _add_grad(res._a, res.grad * (s * (1 - s)))
        return _node(s, "sigmoid", rule, self)

    def relu(self) -> Tensor:
        """max(a, 0); da = g where a > 0 or nan, none at all where a <= 0 (also at the kink,
        and under a nan g), as in PyTorch and Value."""
        def rule(res: Tensor) -> None:
            _add_grad(res._a, _kept(~(res._a.data <= 0), res.grad))
        return _node(np.maximum(self.data, 0), "relu", rule, self)

    def abs(self) -> Tensor:
        """|a|; da = sign(a) g with torch.sign's 0 at 0 and at nan (so 0 times an infinite g
        is nan, as in PyTorch)."""
        def rule(res: Tensor) -> None:
            a = res._a.data
            with np.errstate(invalid="ignore"):
                _add_grad(res._a, res.grad * np.subtract(a > 0, a < 0, dtype=a.dtype))
        return _node(np.abs(self.data), "abs", rule, self)

    def sqrt(self) -> Tensor:
        """Square root of a (nan below 0, including -inf); da = g / (2 sqrt(a))."""
        def rule(res: Tensor) -> None:
            with np.errstate(**_IEEE):
                _add_grad(res._a, res.grad / (2 * res.data))
        with np.errstate(**_IEEE):
            return _node(np.sqrt(_floating(self).data), "sqrt", rule, self)

    def clamp(self, min: Operand | None = None, max: Operand | None = None) -> Tensor:
        """Entries limited to [min, max]; either bound may be None, a number or a Tensor.

        PyTorch's rule, ties and crossed bounds included: dx = g where min <= x <= max;
        dmin = g where x < min (and min < max); dmax = g where x > max, or where max < min
        (then every entry is max).
        """
        has_min, has_max = min is not None, max is not None
        if not (has_min or has_max):
            raise TypeError("clamp needs min=, max= or both")
        x, *bounds = _operands("clamp", self, *(b for b in (min, max) if b is not None))
        _check_broadcast("clamp", x.data.shape, *(b.data.shape for b in bounds))
        out = x.data
        if has_min:
            out = np.maximum(out, bounds[0].data)
        if has_max:
            out = np.minimum(out, bounds[-1].data)

        def rule(res: Tensor) -> None:
            g, (x, *bounds) = res.grad, res._prev
            lo = bounds[0].data if has_min else -np.inf
            hi = bounds[-1].data if has_max else np.inf
            if x.requires_grad:
                _add_grad(x, _kept((x.data >= lo) & (x.data <= hi), g))
            if has_min and bounds[0].requires_grad:
                below = x.data < lo
                _add_grad(bounds[0], _kept(below & (lo < hi) if has_max else below, g))
            if has_max and bounds[-1].requires_grad:
                _add_grad(bounds[-1], _kept((x.data > hi) | (hi < lo), g))
        return _node(out, "clamp", rule, x, *bounds)

    def maximum(self, other: Operand) -> Tensor:
        """Entrywise larger of a and b (nan where either is); a tie splits g evenly, as PyTorch."""
        a, b = _operands("maximum", self, other)

        def rule(res: Tensor) -> None:
            g, a, b = res.grad, res._a, res._b
            shared = np.where(a.data == b.data, g * 0.5, g)
            if a.requires_grad:
                _add_grad(a, _kept(~(a.data < b.data), shared))
            if b.requires_grad:
                _add_grad(b, _kept(~(a.data > b.data), shared))
        return _node(_elementwise(np.maximum, a, b, "maximum"), "maximum", rule, a, b)

    def _cast(self, dtype: Any) -> Tensor:
        """The entries in another dtype (itself when it has it already); da = g in a's dtype.
        Rounded to ints or bools they have no gradient, and leave the graph, as in PyTorch."""
        if self.data.dtype == dtype:
            return self
        if np.dtype(dtype).kind != "f":
            return _leaf(self.data.astype(dtype))

        def rule(res: Tensor) -> None:
            _add_grad(res._a, res.grad)  # _add_grad casts g to the parent's dtype
        return _node(self.data.astype(dtype), np.dtype(dtype).name, rule, self)

    def clone(self) -> Tensor:
        """A copy of the data that stays in the graph; da = g."""
        def rule(res: Tensor) -> None:
            _add_grad(res._a, res.grad.view())  # a view: a leaf copies it (see _add_grad)
        return _node(self.data.copy(), "clone", rule, self)

    def log_softmax(self, axis: int | None = None, *, dim: int | None = None) -> Tensor:
        """a - logsumexp(a) along axis (the last by default); da = g - softmax(a) sum(g).

        A primitive rather than `a - a.logsumexp(...)`: one pass fewer over the logits and
        no broadcast gradient to sum back, on the path every classifier takes.
        """
        axis = _dims(axis, False, dim, None)[0]
        axis = -1 if axis is None else axis
        x = _floating(self).data
        out = x - _logsumexp(x, axis)

        def rule(res: Tensor) -> None:
            g = res.grad
            _add_grad(res._a, g - np.exp(res.data) * g.sum(axis=axis, keepdims=True))
        return _node(out, "log_softmax", rule, self)

    def logsumexp(self, axis: Dims = None, keepdims: bool = False, *, dim: Dims = None,
                  keepdim: bool | None = None) -> Tensor:
        """log(sum(exp(a))) along axis, stable for large logits; da = softmax(a) g."""
        axis, keepdims = _dims(axis, keepdims, dim, keepdim)
        kept = _logsumexp(_floating(self).data, axis)

        def rule(res: Tensor) -> None:
            g, a = res.grad, res._a
            _add_grad(a, np.exp(a.data - kept) * _unreduce(g, axis, keepdims))
        return _node(_reduced(kept, axis, keepdims), "logsumexp", rule, self)

    def tril(self, diagonal: int = 0) -> Tensor:
        """The entries on and below a diagonal of the last two dims, the others 0, as
        torch.tril (diagonal > 0: above the main one; < 0: below it)."""
        return self._triangle(np.tril, diagonal)

    def triu(self, diagonal: int = 0) -> Tensor:
        """The entries on and above a diagonal of the last two dims, the others 0, as torch.triu."""
        return self._triangle(np.triu, diagonal)

    def _triangle(self, part: Callable, diagonal: int) -> Tensor:
        """np.tril or np.triu of the last two dims; da = the same part of g."""
        if self.data.ndim < 2:
            raise ValueError(f"{part.__name__} needs a tensor of at least 2 dims, got shape "
                             f"{self.data.shape}")

        def rule(res: Tensor) -> None:
            _add_grad(res._a, part(res.grad, diagonal))
        return _node(part(self.data, diagonal), part.__name__, rule, self)

    # --- composites: built from the primitives, so they need no derivative code ---

    def __neg__(self) -> Tensor:  # -a
        return _named_after(self * -1, "-{}", self)

    def __radd__(self, other: Operand) -> Tensor:  # n + a
        return self + other

    def __sub__(self, other: Operand) -> Tensor:  # a - b
        a, b = _operands("-", self, other)
        return a + -b

    def __rsub__(self, other: Operand) -> Tensor:  # n - a
        return -self + other

    def __rmul__(self, other: Operand) -> Tensor:  # n * a
        return self * other

    def __truediv__(self, other: Operand) -> Tensor:  # a / b
        a, b = _operands("/", _floating(self), other)
        return a * _named_after(b ** -1, "1/{}", b)

    def __rtruediv__(self, other: Operand) -> Tensor:  # n / a
        b, a = _operands("/", _floating(self), other)
        return a / b

    def __rpow__(self, other: Operand) -> Tensor:  # n ** a
        b, a = _operands("**", self, other)
        return a ** b

    def __rmatmul__(self, other: Operand) -> Tensor:  # array @ a
        b, a = _operands("@", self, other)
        return a @ b

    def __abs__(self) -> Tensor:  # abs(a)
        return self.abs()

    def pow(self, exponent: Operand) -> Tensor:
        """a ** exponent, PyTorch's method name."""
        return self ** exponent

    def rsqrt(self) -> Tensor:
        """1 / sqrt(a)."""
        return self ** -0.5

    def clamp_min(self, min: Operand) -> Tensor:
        """max(a, min), with clamp's rule: at a tie the gradient passes (relu's does not)."""
        return self.clamp(min=min)

    def minimum(self, other: Operand) -> Tensor:
        """Entrywise smaller of a and b: -maximum(-a, -b), so ties and nan as maximum."""
        a, b = _operands("minimum", self, other)
        return -(-a).maximum(-b)

    def where(self, condition: Any, other: Operand) -> Tensor:
        """a where condition is True, else other: PyTorch's `a.where(condition, other)`."""
        return where(condition, self, other)

    def masked_fill(self, mask: Any, value: Operand) -> Tensor:
        """value where mask is True, else a, in a's dtype; mask broadcasts to a's shape."""
        mask = _mask(mask, "masked_fill")
        try:
            fits = np.broadcast_shapes(mask.shape, self.data.shape) == self.data.shape
        except ValueError:
            fits = False
        if not fits:
            raise ValueError(f"masked_fill: a mask of shape {mask.shape} does not broadcast to "
                             f"the tensor's shape {self.data.shape}")
        if isinstance(value, Tensor):  # a's dtype, as PyTorch's; the cast keeps value's graph
            value = value._cast(self.data.dtype)
        else:
            value = _leaf(_as_array(value, self.data.dtype, "masked_fill value"))
        return where(mask, value, self)

    def mean(self, axis: Dims = None, keepdims: bool = False, *, dim: Dims = None,
             keepdim: bool | None = None) -> Tensor:
        """Average along axis (all by default): the sum times 1 / count (nan for no entries)."""
        total = self.sum(*_dims(axis, keepdims, dim, keepdim))
        n = self.data.size
        return total * (total.data.size / n if n else math.nan)

    def softmax(self, axis: int | None = None, *, dim: int | None = None) -> Tensor:
        """e**a / sum(e**a) along axis (the last by default), as exp(log_softmax(a)) so it
        cannot overflow."""
        return self.log_softmax(axis, dim=dim).exp()

    def transpose(self, dim0: int, dim1: int) -> Tensor:
        """dims dim0 and dim1 swapped, as PyTorch's `transpose` (numpy's is `permute` here)."""
        dims = list(range(self.data.ndim))
        dim0, dim1 = (_dim_index(d, self.data.ndim, "transpose") for d in (dim0, dim1))
        dims[dim0], dims[dim1] = dims[dim1], dims[dim0]
        return self.permute(*dims)

    @property
    def T(self) -> Tensor:
        """All dims reversed (the matrix transpose for 2-D)."""
        return self.permute()

    def t(self) -> Tensor:
        """The matrix transpose, for tensors of at most 2 dims, as PyTorch's `t()`."""
        if self.data.ndim > 2:
            raise ValueError(f"t() transposes tensors of at most 2 dims, this one has shape "
                             f"{self.data.shape}; use transpose(dim0, dim1) or permute")
        return self.permute()

    def squeeze(self, dim: Dims = None) -> Tensor:
        """The dims of size 1 removed: all of them, or those among `dim` (an int or tuple)."""
        shape = self.data.shape
        if dim is None:
            drop = range(len(shape))
        else:  # a 0-d tensor takes dim 0 or -1, as in PyTorch
            drop = {_dim_index(d, max(len(shape), 1), "squeeze")
                    for d in (dim if isinstance(dim, (tuple, list)) else (dim,))}
        return self.reshape(tuple(n for i, n in enumerate(shape) if n != 1 or i not in drop))

    def unsqueeze(self, dim: int) -> Tensor:
        """A dim of size 1 inserted at `dim` (from -ndim-1 to ndim)."""
        shape = self.data.shape
        i = _dim_index(dim, len(shape) + 1, "unsqueeze")
        return self.reshape(shape[:i] + (1,) + shape[i:])

    def float(self) -> Tensor:
        """As float32 (itself if it is), PyTorch's `.float()`; gradients go back in the old dtype."""
        return self._cast(np.float32)

    def double(self) -> Tensor:
        """As float64 (itself if it is), PyTorch's `.double()`."""
        return self._cast(np.float64)

    def long(self) -> Tensor:
        """As int64 (itself if it is), PyTorch's `.long()`: class labels, indices."""
        return self._cast(np.int64)

    # --- outside the graph: comparisons, bool reductions, detach ---

    def _compare(self, other: Operand, ufunc: np.ufunc, op: str) -> Tensor:
        a, b = _operands(op, self, other)
        return _leaf(_elementwise(ufunc, a, b, op))

    def __lt__(self, other: Operand) -> Tensor:
        return self._compare(other, np.less, "<")

    def __le__(self, other: Operand) -> Tensor:
        return self._compare(other, np.less_equal, "<=")

    def __gt__(self, other: Operand) -> Tensor:
        return self._compare(other, np.greater, ">")

    def __ge__(self, other: Operand) -> Tensor:
        return self._compare(other, np.greater_equal, ">=")

    def __eq__(self, other: Operand) -> Tensor:  # type: ignore[override]
        return self._compare(other, np.equal, "==")

    def __ne__(self, other: Operand) -> Tensor:  # type: ignore[override]
        return self._compare(other, np.not_equal, "!=")

    def all(self, axis: Dims = None, keepdims: bool = False, *, dim: Dims = None,
            keepdim: bool | None = None) -> Tensor:
        """True where every entry along axis is nonzero (a bool Tensor)."""
        axis, keepdims = _dims(axis, keepdims, dim, keepdim)
        return _leaf(np.all(self.data, axis=axis, keepdims=keepdims))

    def any(self, axis: Dims = None, keepdims: bool = False, *, dim: Dims = None,
            keepdim: bool | None = None) -> Tensor:
        """True where some entry along axis is nonzero (a bool Tensor)."""
        axis, keepdims = _dims(axis, keepdims, dim, keepdim)
        return _leaf(np.any(self.data, axis=axis, keepdims=keepdims))

    def detach(self) -> Tensor:
        """The same data (shared, not copied) as a leaf that requires no grad."""
        return _leaf(self.data)

    # --- the rest of the node's life ---

    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
        """Set whether gradients flow to this tensor (a float leaf) and return it, as PyTorch."""
        if requires_grad and self.data.dtype.kind != "f":
            raise TypeError(f"only float tensors can require grad, this one is {self.data.dtype}; "
                            "pass float data or dtype=np.float32 (or call .float() first)")
        if not requires_grad and self._rule is not None:
            raise RuntimeError(f"requires_grad_(False) on a tensor made by {self._op!r}: only "
                               "leaves can stop requiring grad; use .detach() for a copy that "
                               "is out of the graph")
        self.requires_grad = bool(requires_grad)
        return self

    def backward(self, grad: Any = None) -> None:
        """Fill `.grad` of every tensor this one depends on that requires grad; leaves accumulate.

        A one-entry output is seeded with 1; any other needs `grad=`, d(something)/d(this),
        of this tensor's shape.
        """
        if not self.requires_grad:
            raise RuntimeError("backward() on a tensor that does not require grad: no graph was "
                               "recorded for it (made inside no_grad(), or from tensors without "
                               "requires_grad=True)")
        if grad is None:
            if self.data.size != 1:
                raise ValueError("backward() without grad= needs a one-entry output, this one "
                                 f"has shape {self.data.shape}; reduce it first (e.g. .sum()) "
                                 "or pass grad= of that shape")
            seed = np.ones(self.data.shape, self.data.dtype)
        else:  # a copy: the caller's array must not become a gradient that others share
            seed = np.array(_as_array(grad, self.data.dtype, "backward(grad=)"))
            if seed.shape != self.data.shape:
                raise ValueError(f"backward(grad=) has shape {seed.shape}, but the tensor it "
                                 f"is the gradient of has shape {self.data.shape}")
        graph.backward(self, seed)

    @property
    def shape(self) -> tuple[int, ...]:
        return self.data.shape

    @property
    def ndim(self) -> int:
        return self.data.ndim

    @property
    def dtype(self) -> np.dtype:
        return self.data.dtype

    def item(self) -> float | int | bool:
        """The one entry as a Python number."""
        if self.data.size != 1:
            raise ValueError(f"item() needs a one-entry tensor, this one has shape "
                             f"{self.data.shape}")
        return self.data.item()

    def __float__(self) -> float:
        return float(self.item())

    def __int__(self) -> int:  # int(t) of a one-entry tensor, as in PyTorch
        return int(self.item())

    def __index__(self) -> int:
        """range(t), lst[t]: a one-entry integer tensor as an int, as in PyTorch."""
        if self.data.dtype.kind not in "iu":
            raise TypeError(f"only integer tensors can be used as an index, this one is "
                            f"{self.data.dtype}")
        return int(self.item())

    def __bool__(self) -> bool:
        return bool(self.data)

    def numpy(self) -> np.ndarray:
        """The data array itself (shared, not copied)."""
        return self.data

    def __array__(self, dtype: Any = None, copy: bool | None = None) -> np.ndarray:
        """The data for numpy (`np.asarray(t)`, `np.allclose(t, ...)`), shared unless copied."""
        return np.array(self.data, dtype=dtype, copy=copy)

    def __repr__(self) -> str:
        body = np.array2string(self.data, separator=", ", prefix="Tensor(")
        extras = [f"dtype={self.data.dtype}"]
        if self.requires_grad:
            extras.append("requires_grad=True")
        if self._op:
            extras.append(f"op={self._op!r}")
        if self.label:
            extras.append(f"label={self.label!r}")
        return f"Tensor({body}, {', '.join(extras)})"


def _matmul_rule(a: tuple, b: tuple) -> str:
    """What numpy's matmul needs of two shapes, in words, for an error message."""
    if not a or not b:
        return "@ needs operands with at least one dim (use * to scale by a number)"
    inner = "only" if len(b) == 1 else "second-to-last"
    return (f"the left's last dim ({a[-1]}) must equal the right's {inner} dim "
            f"({b[0] if len(b) == 1 else b[-2]}), and batch dims must broadcast")


# --- ops that PyTorch spells as functions ---

def where(condition: Any, input: Operand, other: Operand) -> Tensor:
    """input where condition is True, else other (the three broadcast), as torch.where;
    d input = g where condition, d other = g elsewhere."""
    cond = _mask(condition, "where")
    a, b = _operands("where", input, other)
    _check_broadcast("where", cond.shape, a.data.shape, b.data.shape)

    def rule(res: Tensor) -> None:
        g, a, b = res.grad, res._a, res._b
        if a.requires_grad:
            _add_grad(a, np.where(cond, g, 0))
        if b.requires_grad:
            _add_grad(b, np.where(cond, 0, g))
    return _node(np.where(cond, a.data, b.data), "where", rule, a, b)


def cat(tensors: Sequence[Operand], dim: int = 0) -> Tensor:
    """The tensors joined along an existing dim, as torch.cat; each gets its slice of g."""
    if isinstance(tensors, Tensor) or not isinstance(tensors, (list, tuple)) or not tensors:
        raise TypeError(f"cat takes a non-empty list or tuple of Tensors, got {tensors!r:.60}")
    parts = _operands("cat", *tensors)
    dim = _dim_index(dim, parts[0].data.ndim, "cat")
    try:
        out = np.concatenate([p.data for p in parts], axis=dim)
    except ValueError:
        raise ValueError(f"cat: shapes {', '.join(str(p.data.shape) for p in parts)} do not fit "
                         f"together along dim {dim} (every other dim must match)") from None
    ends = np.cumsum([p.data.shape[dim] for p in parts[:-1]])

    def rule(res: Tensor) -> None:
        for p, piece in zip(res._prev, np.split(res.grad, ends, axis=dim)):
            if p.requires_grad:
                _add_grad(p, piece)
    return _node(out, "cat", rule, *parts)


def stack(tensors: Sequence[Operand], dim: int = 0) -> Tensor:
    """Tensors of one shape joined along a new dim, as torch.stack: cat of each unsqueezed."""
    if isinstance(tensors, Tensor) or not isinstance(tensors, (list, tuple)) or not tensors:
        raise TypeError(f"stack takes a non-empty list or tuple of Tensors, got {tensors!r:.60}")
    parts = _operands("stack", *tensors)
    shapes = {p.data.shape for p in parts}
    if len(shapes) > 1:
        raise ValueError(f"stack needs tensors of one shape, got {', '.join(map(str, shapes))}")
    dim = _dim_index(dim, parts[0].data.ndim + 1, "stack")
    return cat([p.unsqueeze(dim) for p in parts], dim)


def tril(input: Any, diagonal: int = 0) -> Tensor:
    """torch.tril: `input.tril(diagonal)`, e.g. `tril(ones(T, T))` for a causal mask."""
    return _as_tensor(input).tril(diagonal)


def triu(input: Any, diagonal: int = 0) -> Tensor:
    """torch.triu: `input.triu(diagonal)`."""
    return _as_tensor(input).triu(diagonal)


# --- factories, with PyTorch's argument conventions: randn(2, 3) or randn((2, 3)) ---

_rng = np.random.default_rng()


def manual_seed(seed: int) -> None:
    """Reseed the generator behind randn, rand and nn's initial weights, so a run repeats,
    as torch.manual_seed."""
    global _rng
    _rng = np.random.default_rng(seed)


def generator() -> np.random.Generator:
    """The numpy Generator that randn, rand and nn's initial weights draw from."""
    return _rng


def _shape(size: tuple, fn: str) -> tuple[int, ...]:
    """The shape a factory was given, `fn(2, 3)` or `fn((2, 3))`, checked."""
    shape = _sizes(size)
    if not shape and not size:
        raise TypeError(f"{fn}() needs a size, e.g. {fn}(2, 3), or {fn}(()) for a 0-d tensor")
    if not all(isinstance(n, (int, np.integer)) and not isinstance(n, bool) and n >= 0
               for n in shape):
        raise ValueError(f"{fn}: a size is non-negative ints, got {shape}")
    return tuple(int(n) for n in shape)


def _random(draw: Callable, size: tuple, dtype: Any, requires_grad: bool, fn: str) -> Tensor:
    """Samples from the seeded generator, float32 unless dtype says otherwise."""
    dtype = np.dtype(np.float32 if dtype is None else dtype)
    if dtype.kind != "f":
        raise TypeError(f"{fn} makes floats, so dtype must be a float dtype, got {dtype}")
    samples = draw(_shape(size, fn), dtype=np.float64 if dtype == np.float64 else np.float32)
    return Tensor(samples, requires_grad, dtype)


def randn(*size: int | tuple[int, ...], dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """Samples of the standard normal distribution, as torch.randn."""
    return _random(_rng.standard_normal, size, dtype, requires_grad, "randn")


def rand(*size: int | tuple[int, ...], dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """Samples uniform in [0, 1), as torch.rand."""
    return _random(_rng.random, size, dtype, requires_grad, "rand")


def zeros(*size: int | tuple[int, ...], dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """All zeros, float32 unless dtype says otherwise, as torch.zeros."""
    dtype = np.float32 if dtype is None else dtype
    return Tensor(np.zeros(_shape(size, "zeros"), dtype), requires_grad, dtype)


def ones(*size: int | tuple[int, ...], dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """All ones, float32 unless dtype says otherwise, as torch.ones."""
    dtype = np.float32 if dtype is None else dtype
    return Tensor(np.ones(_shape(size, "ones"), dtype), requires_grad, dtype)


def arange(start: float, end: float | None = None, step: float = 1, *, dtype: Any = None,
           requires_grad: bool = False) -> Tensor:
    """start, start + step, ... up to end (excluded); int64 for ints, else float32, as torch.arange."""
    if end is None:  # arange(5) counts from 0
        start, end = 0, start
    if step == 0:
        raise ValueError("arange: step must be nonzero")
    return Tensor(np.arange(start, end, step), requires_grad, dtype)


def set_printoptions(precision: int | None = None, threshold: int | None = None,
                     edgeitems: int | None = None, linewidth: int | None = None,
                     sci_mode: bool | None = None) -> None:
    """How tensors print, with torch.set_printoptions' arguments (numpy prints them here)."""
    options = {"precision": precision, "threshold": threshold, "edgeitems": edgeitems,
               "linewidth": linewidth, "suppress": None if sci_mode is None else not sci_mode}
    np.set_printoptions(**{k: v for k, v in options.items() if v is not None})


def tensor(data: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """A Tensor holding a copy of data, as torch.tensor (Tensor(array) shares the array)."""
    source = data.data if isinstance(data, Tensor) else data
    array = _as_array(source, dtype, "tensor(data)")
    if isinstance(source, np.ndarray) and np.may_share_memory(array, source):
        array = array.copy()
    return Tensor(array, requires_grad, array.dtype)


class _CallableModule(types.ModuleType):
    """This module, callable as the factory `tensor`: importing engine/tensor.py binds the
    name `engine.tensor` to the module, where PyTorch code expects `tensor(data)` to work."""

    def __call__(self, data: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
        return tensor(data, dtype, requires_grad)


sys.modules[__name__].__class__ = _CallableModule
