"""Tensor: one numpy array, the nodes it came from, and how to send its gradient back to them.

The same node design as `Value` (see engine/graph.py): each op computes its result and,
right below, its backward rule `rule(res)`, which adds each parent's chain-rule share of
`res.grad` into that parent's `.grad`. A rule reads what it needs from the result node
(its parents, its data) and captures only the op's settings (axis, index), so no rule
holds its own node: a graph frees as soon as nobody holds its root. One topological walk
and one driver serve both engines, and `engine.no_grad()` switches both off.

Dtypes: float input becomes float32 unless a dtype is given, and ops keep their operands'
float dtype in value and in gradient. A number, list or array meeting a float Tensor takes
that Tensor's dtype, and an int or bool Tensor meeting a float one is cast to the float's
dtype, so float32 never turns float64 behind the user's back. Int and bool tensors (labels,
masks) take part in ops but cannot require grad.

Gradients flow only to tensors that require them: an op's result requires grad when grad
mode is on and some operand does; otherwise it is a plain leaf with no parents and no
rule. Rules skip the work for operands that need no gradient (no input-gradient matmul
for a batch of data).

Memory: `Tensor(array)` uses the array as it is when it already has the wanted dtype (as
`torch.as_tensor` does), and `.numpy()` returns it, so both share memory with the caller.
Every leaf owns its `.grad`, a writable array (clip it in place if you like); an interior
node's may be shared with other nodes. The engine itself never writes into a gradient.

Domain edges follow IEEE 754, as numpy, PyTorch and `Value` do: `log(0)` is -inf,
`log(-1)` is nan, `1 / 0` is inf, `exp(1000)` is inf; those ops silence numpy's warnings
about it. Broadcasting and matmul shape errors are raised by the op, naming both shapes.
"""
from __future__ import annotations

import numbers
from typing import Any, Callable, Union

import numpy as np

from engine import graph
from engine.graph import Node, is_grad_enabled

Operand = Union["Tensor", numbers.Real, np.ndarray, list]
_IEEE = {"divide": "ignore", "invalid": "ignore", "over": "ignore"}


def _as_array(data: Any, dtype: Any, what: str) -> np.ndarray:
    """data as a numpy array of numbers: float -> float32 unless `dtype` says otherwise."""
    if isinstance(data, Tensor):
        data = data.data
    try:
        array = np.asarray(data)
    except ValueError as e:  # ragged nested lists
        raise ValueError(f"{what} must be a rectangular array of numbers: {e}") from None
    if array.dtype.kind not in "biuf":
        raise TypeError(f"{what} must be numbers (bool, int or float), got "
                        f"{type(data).__name__} {data!r:.60} (numpy dtype {array.dtype})")
    if dtype is not None:
        target = np.dtype(dtype)
        if target.kind not in "biuf":
            raise TypeError(f"{what}: dtype must be a bool, int or float dtype, got {target}")
    elif array.dtype.kind == "f":
        target = np.dtype(np.float32)
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


def _leaf(data: np.ndarray) -> Tensor:
    """A Tensor that requires no grad, around an array the engine made."""
    return _node(data, "", None)


def _sum_to(g: np.ndarray, shape: tuple) -> np.ndarray:
    """g summed over the dims that broadcasting added or stretched, back to `shape`."""
    if g.shape == shape:
        return g
    lead = g.ndim - len(shape)
    stretched = tuple(lead + i for i, n in enumerate(shape) if n == 1 and g.shape[lead + i] != 1)
    return g.sum(axis=tuple(range(lead)) + stretched).reshape(shape)


def _add_grad(t: Tensor, g: Any) -> None:
    """Add g into t.grad, reduced to t's shape and dtype; a new array, never written in place.

    A leaf's first gradient is copied when it may be shared or read-only (another node's
    gradient, a broadcast view), so every leaf owns a writable `.grad`, as in PyTorch.
    """
    g = _sum_to(g if type(g) is np.ndarray else np.asarray(g), t.data.shape)
    if g.dtype != t.data.dtype:  # a float32 operand of a float64 op gets a float32 gradient
        g = g.astype(t.data.dtype)
    elif t.grad is None and t._rule is None:
        g = np.array(g)
    t.grad = g if t.grad is None else t.grad + g


def _operands(a: Tensor, b: Operand, op: str) -> tuple[Tensor, Tensor]:
    """a and b as Tensors, of one float dtype when either is float (see the module docstring)."""
    a_float = a.data.dtype.kind == "f"
    if not isinstance(b, Tensor):
        what = f"the other operand of Tensor {op}"
        b = _leaf(_as_array(b, a.data.dtype if a_float else None, what))
    b_float = b.data.dtype.kind == "f"
    if a_float and not b_float:
        b = _leaf(b.data.astype(a.data.dtype))
    elif b_float and not a_float:
        a = _leaf(a.data.astype(b.data.dtype))
    return a, b


def _elementwise(ufunc: np.ufunc, a: Tensor, b: Tensor, op: str) -> np.ndarray:
    """ufunc(a, b) with numpy broadcasting; a shape mismatch is reported here with both shapes."""
    try:
        return ufunc(a.data, b.data)
    except ValueError:
        try:
            np.broadcast_shapes(a.data.shape, b.data.shape)
        except ValueError:
            raise ValueError(f"Tensor {op}: shapes {a.data.shape} and {b.data.shape} do not "
                             "broadcast (aligned from the right, each dim must match or be 1)"
                             ) from None
        raise  # not a shape problem: numpy's own message says what it is


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


class Tensor(Node):
    """A graph node holding a numpy array: `data`, `grad` and how it was made."""

    __slots__ = ("data", "grad", "requires_grad", "label", "_op", "_a", "_b", "_more", "_rule")
    _GRAD_ZERO = None  # no gradient yet, as in PyTorch
    __array_ufunc__ = None  # `array + tensor` calls Tensor.__radd__ instead of looping in numpy
    __hash__ = object.__hash__  # __eq__ compares entries; graph walks keep nodes in sets

    def __init__(self, data: Any, requires_grad: bool = False, dtype: Any = None,
                 label: str = "") -> None:
        self.data = _as_array(data, dtype, "Tensor(data)")
        if requires_grad and self.data.dtype.kind != "f":
            raise TypeError(f"only float tensors can require grad, this one is {self.data.dtype}; "
                            "pass float data or dtype=np.float32")
        self.grad = None
        self.requires_grad = bool(requires_grad)
        self.label = label
        self._op = ""
        self._a = self._b = None
        self._more = ()
        self._rule = None

    # --- primitives: each computes its value and defines its derivative right below ---

    def __add__(self, other: Operand) -> Tensor:
        """a + b; da = g, db = g."""
        a, b = _operands(self, other, "+")

        def rule(res: Tensor) -> None:
            g, a, b = res.grad, res._a, res._b
            if a.requires_grad:
                _add_grad(a, g)
            if b.requires_grad:
                _add_grad(b, g)
        return _node(_elementwise(np.add, a, b, "+"), "+", rule, a, b)

    def __mul__(self, other: Operand) -> Tensor:
        """a * b; da = b g, db = a g."""
        a, b = _operands(self, other, "*")

        def rule(res: Tensor) -> None:
            g, a, b = res.grad, res._a, res._b
            if a.requires_grad:
                _add_grad(a, g * b.data)
            if b.requires_grad:
                _add_grad(b, g * a.data)
        return _node(_elementwise(np.multiply, a, b, "*"), "*", rule, a, b)

    def __pow__(self, other: Operand) -> Tensor:
        """a ** b; da = b a**(b-1) g (0 where b == 0), db = a**b ln(a) g (0 where a == 0)."""
        a, b = _operands(self, other, "**")
        with np.errstate(**_IEEE):
            out = _elementwise(np.power, a, b, "**")

        def rule(res: Tensor) -> None:
            g, a, b = res.grad, res._a, res._b
            with np.errstate(**_IEEE):
                if a.requires_grad:  # x**0 is the constant 1, flat even at x = 0
                    _add_grad(a, g * np.where(b.data == 0, 0, b.data * a.data ** (b.data - 1)))
                if b.requires_grad:  # 0**p is 0 for every p > 0: flat in p, not 0 * ln(0) = nan
                    _add_grad(b, g * res.data * np.log(np.where(a.data == 0, 1, a.data)))
        return _node(out, "**", rule, a, b)

    def __matmul__(self, other: Operand) -> Tensor:
        """a @ b, numpy's rules; da = g @ b^T, db = a^T @ g (1-D a: a row, 1-D b: a column)."""
        a, b = _operands(self, other, "@")
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

    def sum(self, axis: int | tuple[int, ...] | None = None, keepdims: bool = False) -> Tensor:
        """Sum along axis (all by default); da = g broadcast back over the summed dims."""
        def rule(res: Tensor) -> None:
            g, a = res.grad, res._a
            _add_grad(a, np.broadcast_to(_unreduce(g, axis, keepdims), a.data.shape))
        return _node(self.data.sum(axis=axis, keepdims=keepdims), "sum", rule, self)

    def max(self, axis: int | tuple[int, ...] | None = None, keepdims: bool = False) -> Tensor:
        """Largest entry along axis; da = g split evenly among the entries tied for the max.

        The even split is what `torch.amax` (and `torch.max` without a dim) does; it keeps
        the gradient symmetric where picking one entry would depend on the order.
        """
        top = self.data.max(axis=axis, keepdims=True)

        def rule(res: Tensor) -> None:
            g, a = res.grad, res._a
            hit = a.data == top
            share = _unreduce(g, axis, keepdims) / hit.sum(axis=axis, keepdims=True, dtype=g.dtype)
            _add_grad(a, hit * share)
        return _node(_reduced(top, axis, keepdims), "max", rule, self)

    def reshape(self, *shape: int | tuple[int, ...]) -> Tensor:
        """Entries in a new shape, `t.reshape(2, 3)` or `t.reshape((2, 3))`; da = g reshaped."""
        if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
            shape = tuple(shape[0])
        try:
            out = self.data.reshape(shape)
        except ValueError:
            raise ValueError(f"Tensor.reshape: cannot reshape shape {self.data.shape} "
                             f"({self.data.size} entries) into {shape}") from None

        def rule(res: Tensor) -> None:
            g, a = res.grad, res._a
            _add_grad(a, g.reshape(a.data.shape))
        return _node(out, "reshape", rule, self)

    def permute(self, *dims: int) -> Tensor:
        """Dims reordered as `dims` (reversed when none are given); da = g in the order undone."""
        dims = dims or tuple(reversed(range(self.data.ndim)))
        out = np.transpose(self.data, dims)
        undo = np.argsort([d % self.data.ndim for d in dims])  # -1 means the last dim

        def rule(res: Tensor) -> None:
            g, a = res.grad, res._a
            _add_grad(a, np.transpose(g, undo))
        return _node(out, "permute", rule, self)

    def __getitem__(self, index: Any) -> Tensor:
        """a[index] (slices, ints, int or bool arrays); da = g put back where it came from.

        Advanced indexing may pick an entry more than once; np.add.at sums those shares,
        where plain assignment would keep only the last.
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
            out = np.exp(self.data)

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
            return _node(np.log(self.data), "log", rule, self)

    def tanh(self) -> Tensor:
        """tanh a; da = (1 - tanh(a)**2) g."""
        def rule(res: Tensor) -> None:
            t = res.data
            _add_grad(res._a, res.grad * (1 - t * t))
        return _node(np.tanh(self.data), "tanh", rule, self)

    def sigmoid(self) -> Tensor:
        """1 / (1 + e**-a), from e**-|a| so it cannot overflow; da = s (1 - s) g."""
        e = np.exp(-np.abs(self.data))
        s = np.where(self.data >= 0, 1, e) / (1 + e)

        def rule(res: Tensor) -> None:
            s = res.data
            _add_grad(res._a, res.grad * (s * (1 - s)))
        return _node(s, "sigmoid", rule, self)

    def relu(self) -> Tensor:
        """max(a, 0); da = g where a > 0, else 0 (also at the kink, as in PyTorch and Value)."""
        def rule(res: Tensor) -> None:
            g, a = res.grad, res._a
            _add_grad(a, g * (a.data > 0))
        return _node(np.maximum(self.data, 0), "relu", rule, self)

    def clamp_min(self, min: float) -> Tensor:
        """max(a, min); da = g where a >= min (PyTorch's rule: at a tie the gradient passes).

        Not relu's rule at the tie, which is why relu is its own primitive.
        """
        def rule(res: Tensor) -> None:
            g, a = res.grad, res._a
            _add_grad(a, g * (a.data >= min))
        return _node(np.maximum(self.data, min), "clamp_min", rule, self)

    def log_softmax(self, axis: int = -1) -> Tensor:
        """a - logsumexp(a) along axis; da = g - softmax(a) sum(g).

        A primitive rather than `a - a.logsumexp(...)`: one pass fewer over the logits and
        no broadcast gradient to sum back, on the path every classifier takes.
        """
        out = self.data - _logsumexp(self.data, axis)

        def rule(res: Tensor) -> None:
            g = res.grad
            _add_grad(res._a, g - np.exp(res.data) * g.sum(axis=axis, keepdims=True))
        return _node(out, "log_softmax", rule, self)

    def logsumexp(self, axis: int | tuple[int, ...] | None = None,
                  keepdims: bool = False) -> Tensor:
        """log(sum(exp(a))) along axis, stable for large logits; da = softmax(a) g."""
        kept = _logsumexp(self.data, axis)

        def rule(res: Tensor) -> None:
            g, a = res.grad, res._a
            _add_grad(a, np.exp(a.data - kept) * _unreduce(g, axis, keepdims))
        return _node(_reduced(kept, axis, keepdims), "logsumexp", rule, self)

    # --- composites: built from the primitives, so they need no derivative code ---

    def __neg__(self) -> Tensor:  # -a
        return self * -1

    def __radd__(self, other: Operand) -> Tensor:  # n + a
        return self + other

    def __sub__(self, other: Operand) -> Tensor:  # a - b
        a, b = _operands(self, other, "-")
        return a + -b

    def __rsub__(self, other: Operand) -> Tensor:  # n - a
        return -self + other

    def __rmul__(self, other: Operand) -> Tensor:  # n * a
        return self * other

    def __truediv__(self, other: Operand) -> Tensor:  # a / b
        a, b = _operands(self, other, "/")
        if a.data.dtype.kind != "f":  # int / int is a float, as in Python and PyTorch
            a, b = _operands(_leaf(a.data.astype(np.float32)), b, "/")
        return a * b ** -1

    def __rtruediv__(self, other: Operand) -> Tensor:  # n / a
        b, a = _operands(self, other, "/")
        return a / b

    def __rpow__(self, other: Operand) -> Tensor:  # n ** a
        b, a = _operands(self, other, "**")
        return a ** b

    def __rmatmul__(self, other: Operand) -> Tensor:  # array @ a
        b, a = _operands(self, other, "@")
        return a @ b

    def mean(self, axis: int | tuple[int, ...] | None = None, keepdims: bool = False) -> Tensor:
        """Average along axis (all by default): the sum times 1 / count."""
        total = self.sum(axis, keepdims)
        return total * (total.data.size / self.data.size)

    def transpose(self, dim0: int, dim1: int) -> Tensor:
        """dims dim0 and dim1 swapped, as PyTorch's `transpose` (numpy's is `permute` here)."""
        dims = list(range(self.data.ndim))
        dims[dim0], dims[dim1] = dims[dim1], dims[dim0]
        return self.permute(*dims)

    @property
    def T(self) -> Tensor:
        """All dims reversed (the matrix transpose for 2-D)."""
        return self.permute()

    def softmax(self, axis: int = -1) -> Tensor:
        """e**a / sum(e**a) along axis, as exp(log_softmax(a)) so it cannot overflow."""
        return self.log_softmax(axis).exp()

    # --- comparisons: bool Tensors, outside the graph (they have no gradient) ---

    def _compare(self, other: Operand, ufunc: np.ufunc, op: str) -> Tensor:
        a, b = _operands(self, other, op)
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

    # --- the rest of the node's life ---

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

    def __bool__(self) -> bool:
        return bool(self.data)

    def numpy(self) -> np.ndarray:
        """The data array itself (shared, not copied)."""
        return self.data

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
