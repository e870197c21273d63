"""Tensor: one numpy array, the nodes it came from, and how to send its gradient back to them.

The same node design as `Value` (see engine/graph.py). Each op computes its result and,
right below, its backward rule: a vector-Jacobian product `rule(g, out, need, *inputs)`
returning, for each input whose `need` is True, d(loss)/d(input) given g = d(loss)/d(out).
Rules capture only the op's settings (axis, index, mask), so no rule holds its own node
and a graph frees as soon as nobody holds its root.

A rule is written once, in operations that numpy arrays and Tensors both understand
(`* + - / @`, `.sum(axis, keepdims)`, `.reshape`, indexing, and the few helpers below
that pick numpy's or the engine's function). A normal backward pass hands it arrays, so
it runs at numpy's speed; `backward(create_graph=True)` hands it the Tensors themselves
with recording on, so the gradient it returns is itself a graph that can be
differentiated again. The engine's one helper, `_fit`, reduces a broadcast gradient back
to its operand's shape and dtype; no rule does that itself.

This file holds the core: storage, PyTorch's view of it (`.data`, `.grad`, `.shape`, ...),
arithmetic, matmul, indexing and in-place updates, casts, `backward`. The other ops sit in
engine/elementwise.py, engine/reductions.py and engine/shapes.py, which add themselves to
Tensor as methods (each is also `engine.NAME(t, ...)`, as PyTorch spells them).

Dtypes follow PyTorch (engine/dtypes.py): Python floats become float32, arrays keep their
dtype, and mixed operands promote by PyTorch's rule. Int and bool tensors (labels, masks)
take part in ops but cannot require grad.

Gradients flow only to tensors that require them: an op's result requires grad when grad
mode is on and some operand does; otherwise it is a plain leaf with no parents and no
rule. Rules skip the work for inputs that need no gradient (no input-gradient matmul for
a batch of data). As in PyTorch, after `backward()` only leaves (and tensors that called
`retain_grad()`) hold a `.grad`, and the graph is released unless `retain_graph=True`.

Memory: `Tensor(array)` uses the array as it is when it already has the wanted dtype (as
`torch.as_tensor` does), and `.numpy()` returns it, so both share memory with the caller.
Every leaf owns its `.grad`. `.g` is a free slot for gradients computed by hand, as the
fast.ai lesson stores them; the engine never reads it.

In-place ops (`+=`, `t[i] = v`, `zero_()`, ...) write into the array, as PyTorch's do.
On a tensor in the graph they record an op instead, and the tensor becomes its result.
Each tensor counts its in-place changes (`_version`), and a backward pass refuses a node
whose inputs changed after it used them, as PyTorch does, instead of giving a wrong
gradient.

Domain edges give PyTorch's answers, as `Value` does, in value and in gradient.
"""
from __future__ import annotations

import numbers
import operator
import sys
import types
import warnings
from typing import Any, Callable, Union

import numpy as np

from engine import dtypes, grad_mode, graph, printing
from engine.dtypes import as_array, category
from engine.grad_mode import is_grad_enabled
from engine.graph import Node

Operand = Union["Tensor", numbers.Real, np.ndarray, list]
_IEEE = {"divide": "ignore", "invalid": "ignore", "over": "ignore"}
_NUMBER_KIND = {bool: 0, int: 1, float: 2}
_new = object.__new__


def _recording() -> bool:
    return grad_mode.threads_off == 0 or is_grad_enabled()


def _node(data: Any, op: str, rule: Callable | None, *parents: Tensor) -> Tensor:
    """An op's result: a node when grad mode is on and a parent requires grad, else a leaf."""
    out = _new(Tensor)
    out._data = data if type(data) is np.ndarray else np.asarray(data)  # numpy gives 0-d as scalars
    out._grad = None
    out.label = ""
    out._version = 0
    out._retains = False
    if grad_mode.threads_off == 0 or is_grad_enabled():
        for p in parents:  # a loop, not any(genexpr): this runs for every op
            if p.requires_grad:
                out.requires_grad, out._op, out._rule = True, op, rule
                a = out._a = parents[0]
                if len(parents) == 1:
                    out._b, out._more, out._vsum = None, (), a._version
                else:
                    out._b, out._more = parents[1], parents[2:]
                    out._vsum = out._versions()
                return out
    out.requires_grad, out._op, out._rule = False, "", None
    out._a = out._b = out._vsum = None
    out._more = ()
    return out


def _leaf(data: Any) -> Tensor:
    """A Tensor that requires no grad, around an array the engine made."""
    out = _new(Tensor)
    out._data = data if type(data) is np.ndarray else np.asarray(data)
    out._grad = out._a = out._b = out._rule = out._vsum = None
    out.label = out._op = ""
    out._version = 0
    out._retains = out.requires_grad = False
    out._more = ()
    return out


def _as_tensor(x: Any) -> Tensor:
    """x itself if it is a Tensor, else a Tensor of it."""
    return x if isinstance(x, Tensor) else Tensor(x)


def _raw(x: Any) -> Any:
    """The array behind a Tensor; anything else as it is."""
    return x._data if isinstance(x, Tensor) else x


def _sum_to(g: Any, shape: tuple) -> Any:
    """g (an array, or a Tensor under create_graph) summed over the dims that broadcasting
    added or stretched, back to `shape`."""
    lead = g.ndim - len(shape)
    if lead:
        g = g.sum(axis=tuple(range(lead)))
    stretched = tuple(i for i, n in enumerate(shape) if n == 1 and g.shape[i] != 1)
    return g.sum(axis=stretched, keepdims=True) if stretched else g


def _operands(op: str, *xs: Any, floating: bool = False) -> tuple[Tensor, ...]:
    """The operands of `op` as Tensors of the dtype PyTorch's promotion gives (engine/dtypes.py);
    `floating`: in the default float dtype when that is an int or bool one (true division)."""
    if len(xs) == 2:  # the common cases first, at the cost of a few type checks
        a, b = xs
        if isinstance(a, Tensor) and (a._data.dtype.kind == "f" or not floating):
            dtype = a._data.dtype  # (isinstance, not type(a) is Tensor: an nn.Parameter too)
            if isinstance(b, Tensor):
                if dtype == b._data.dtype:
                    return xs
            elif (type(b) is float or type(b) is int) and dtype.kind == "f":
                return a, _leaf(np.array(b, dtype))
    tensors, dims, zero_dims, kinds = [], [], [], []
    for x in xs:
        kind = _number_kind(x)
        if kind is not None:
            kinds.append(kind)
            tensors.append(x)
            continue
        t = x if isinstance(x, Tensor) else _leaf(as_array(x, what=f"Tensor {op} operand"))
        (dims if t._data.ndim else zero_dims).append(t._data.dtype)
        tensors.append(t)
    target = dtypes.result_dtype(dims, zero_dims, kinds)
    if floating and target.kind != "f":
        target = dtypes.get_default_dtype()
    return tuple(_cast_to(t, target) for t in tensors)


def _number_kind(x: Any) -> int | None:
    """0, 1 or 2 for a Python or numpy bool, int or float (weak operands); None otherwise."""
    kind = _NUMBER_KIND.get(type(x))
    if kind is not None or not isinstance(x, (numbers.Number, np.bool_)):
        return kind
    if isinstance(x, (bool, np.bool_)):
        return 0
    if isinstance(x, numbers.Integral):
        return 1
    if isinstance(x, numbers.Real):
        return 2
    raise TypeError(f"tensors hold real numbers; got {type(x).__name__} {x!r:.40}")


def _cast_to(x: Any, dtype: np.dtype) -> Tensor:
    """A Tensor or number in `dtype`: a cast node when gradient must flow through it."""
    if not isinstance(x, Tensor):
        return _leaf(np.array(x).astype(dtype))
    if x._data.dtype == dtype:
        return x
    return x._cast(dtype) if x.requires_grad else _leaf(x._data.astype(dtype))


def _floating(t: Tensor) -> Tensor:
    """t, or its entries in the default float dtype if it is int or bool: exp, log and
    division make floats, as in PyTorch."""
    return t if t._data.dtype.kind == "f" else _leaf(t._data.astype(dtypes.get_default_dtype()))


def _elementwise(fn: Callable, a: Tensor, b: Tensor, op: str) -> np.ndarray:
    """fn(a, b) with numpy broadcasting; a shape mismatch is reported here with both shapes."""
    try:
        return fn(a._data, b._data)
    except ValueError:
        _check_broadcast(op, a._data.shape, b._data.shape)
        raise  # not a shape problem: numpy's own message says what it is


def _check_broadcast(op: str, *shapes: tuple) -> None:
    """A ValueError naming the shapes when they do not broadcast together."""
    try:
        np.broadcast_shapes(*shapes)
    except ValueError:
        raise ValueError(f"Tensor {op}: shapes {' and '.join(map(str, shapes))} do not "
                         "broadcast (aligned from the right, each dim must match or be 1)"
                         ) from None


def _power(x: np.ndarray, p: np.ndarray, number: bool) -> np.ndarray:
    """x ** p as PyTorch computes it. For a number exponent (`number`), ** 0.5 and ** -0.5
    are sqrt and 1 / sqrt ((-inf) ** 0.5 is nan, (-0.0) ** -0.5 is -inf); for a tensor
    exponent, C's pow, which differs from numpy's at (-inf) ** 0.5 (inf) and (-0.0) ** 0.5 (0)."""
    if number and p.ndim == 0 and p.item() in (0.5, -0.5):
        root = np.sqrt(x)
        return root if p.item() > 0 else 1 / root
    out = np.power(x, p)
    if number or not (p == 0.5).any():  # the common case, decided cheaply
        return out
    return np.where((p == 0.5) & ((x == -np.inf) | (x == 0)), np.abs(x), out)


def _index(index: Any) -> Any:
    """An index with Tensors replaced by their arrays and ranges by arrays, for numpy."""
    if isinstance(index, Tensor):
        return index._data
    if isinstance(index, range):
        return np.arange(index.start, index.stop, index.step)
    if isinstance(index, tuple):
        return tuple(_index(i) if isinstance(i, (Tensor, range)) else i for i in index)
    return index


def _is_basic(index: Any) -> bool:
    """True for numpy basic indexing (ints, slices, None, ...): no entry is picked twice."""
    parts = index if isinstance(index, tuple) else (index,)
    return all(p is None or p is Ellipsis or isinstance(p, slice)
               or (isinstance(p, (int, np.integer)) and not isinstance(p, bool)) for p in parts)


def _named_after(out: Tensor, template: str, source: Tensor) -> Tensor:
    """`out` labelled after `source` when it is a plain leaf made from a labelled one.

    A composite turns an operand that needs no gradient into a new leaf (the -y in a - y is
    a + (-y)), and a picture of the graph would show that leaf unnamed; so it keeps a name.
    """
    if source.label and not out.requires_grad:
        out.label = template.format(source.label)
    return out


# --- what a rule uses besides operators: numpy's function for arrays, the engine's op for
# Tensors (a rule under create_graph) ---

def _where(cond: Any, x: Any, y: Any) -> Any:
    """x where cond, else y; cond is a constant mask (an array or a bool Tensor)."""
    if isinstance(x, Tensor):
        return x.where(_raw(cond), y)
    if isinstance(y, Tensor):
        return y.where(~_raw(cond), x)
    return np.where(cond, x, y)


def _zeros(g: Any, like: Any) -> Any:
    """Zeros shaped like `like` in g's dtype, outside any graph (a gradient that is constant)."""
    zeros = np.zeros(like.shape, _raw(g).dtype)
    return _leaf(zeros) if isinstance(g, Tensor) else zeros


def _pow(x: Any, p: Any, number: bool) -> Any:
    """x ** p for arrays or Tensors; `number`: p came from a number (see _power)."""
    if isinstance(x, Tensor) or isinstance(p, Tensor):
        return x ** (_raw(p).item() if number else p)
    return _power(x, p, number)


def _exp(x: Any) -> Any:
    return x.exp() if isinstance(x, Tensor) else np.exp(x)


def _log(x: Any) -> Any:
    return x.log() if isinstance(x, Tensor) else np.log(x)


def _expand(x: Any, shape: tuple) -> Any:
    """x broadcast to `shape` (a read-only view for arrays)."""
    return x.expand(shape) if isinstance(x, Tensor) else np.broadcast_to(x, shape)


def _put(g: Any, like: Any, index: Any, basic: bool) -> Any:
    """An array shaped like `like` holding g at `index`, zeros elsewhere; entries picked
    more than once sum their shares (np.add.at), where assignment would keep the last."""
    if isinstance(g, Tensor):
        zeros = _leaf(np.zeros(like.shape, g.dtype))
        return _index_put(zeros, index, g, accumulate=not basic)
    out = np.zeros(like.shape, g.dtype)
    if basic:
        out[index] = g
    else:
        np.add.at(out, index, g)
    return out


def _zero_at(g: Any, index: Any) -> Any:
    """g with the entries at `index` set to 0 (a copy)."""
    if isinstance(g, Tensor):
        return _index_put(g, index, _leaf(np.zeros((), g.dtype)), accumulate=False)
    out = g.copy()
    out[index] = 0
    return out


def _index_put(target: Tensor, index: Any, value: Tensor, accumulate: bool) -> Tensor:
    """target with value written at index (added there when `accumulate`), as a new node;
    target gets g with 0 where written over (all of g when `accumulate`), value gets
    g[index], summed to value's shape."""
    out = target._data.copy()
    try:
        if accumulate:
            np.add.at(out, index, value._data)
        else:
            out[index] = value._data
    except ValueError:
        raise ValueError(f"cannot put a value of shape {value._data.shape} at index "
                         f"{index!r:.80} of a tensor of shape {target._data.shape}") from None

    def rule(g: Any, out: Any, need: list, t: Any, v: Any) -> tuple:
        dt = (g if accumulate else _zero_at(g, index)) if need[0] else None
        return dt, (g[index] if need[1] else None)
    return _node(out, "index_put", rule, target, value)


class Tensor(Node):
    """A graph node holding a numpy array: its numbers, its gradient and how it was made."""

    # __dict__ too: PyTorch code sets attributes of its own on tensors (the lesson's `.g`)
    __slots__ = ("_data", "_grad", "requires_grad", "label", "_op", "_a", "_b", "_more", "_rule",
                 "_version", "_vsum", "_retains", "__weakref__", "__dict__")
    _GRAD_ZERO = None  # no gradient yet, as in PyTorch
    _releasable = True  # backward() frees the graph unless retain_graph=True, as PyTorch
    _rule_is_vjp = True
    __hash__ = object.__hash__  # __eq__ compares entries; graph walks keep nodes in sets
    _raw = operator.attrgetter("_data")  # what a rule receives of a node, in a normal pass
    # inf and nan are meant in a backward pass (0 * inf where a kink or mask stops a
    # gradient), and PyTorch gives them without a word: so does numpy here
    _arithmetic = staticmethod(lambda: np.errstate(**_IEEE))

    def __init__(self, data: Any, requires_grad: bool = False, dtype: Any = None,
                 label: str = "") -> None:
        self._data = _raw(data) if isinstance(data, Tensor) and dtype is None else as_array(
            _raw(data), dtype, "Tensor(data)")
        self._grad = None
        self.label = label
        self._op = ""
        self._a = self._b = self._rule = self._vsum = None
        self._more = ()
        self._version = 0
        self._retains = False
        self.requires_grad = False
        self.requires_grad_(requires_grad)

    # --- PyTorch's view of the node ---

    @property
    def data(self) -> Tensor:
        """The same numbers, sharing memory, as a tensor outside the graph (PyTorch's
        `.data`: `w.data -= lr * w.grad` updates w without recording anything)."""
        return _leaf(self._data)

    @data.setter
    def data(self, value: Any) -> None:
        self._data = _raw(value) if isinstance(value, Tensor) else as_array(value, what=".data")

    @property
    def grad(self) -> Tensor | None:
        """d(loss)/d(this tensor) after `backward()`: None until then, and always for
        interior tensors unless they called `retain_grad()`."""
        if self._grad is None and self._rule is not None and not self._retains:
            warnings.warn("the .grad of a tensor that is not a leaf is not kept by backward() "
                          "(as in PyTorch): call .retain_grad() on it before backward() to "
                          "keep it", UserWarning, stacklevel=2)
        return self._grad

    @grad.setter
    def grad(self, value: Tensor | None) -> None:
        if value is not None:
            if not isinstance(value, Tensor):
                raise TypeError(f"a .grad must be a Tensor or None, got {type(value).__name__}")
            if value._data.shape != self._data.shape or value._data.dtype != self._data.dtype:
                raise ValueError(f"a .grad must have its tensor's shape and dtype "
                                 f"{self._data.shape} {self._data.dtype}, got "
                                 f"{value._data.shape} {value._data.dtype}")
        self._grad = value

    @property
    def shape(self) -> printing.Size:
        return printing.Size(self._data.shape)

    @property
    def ndim(self) -> int:
        return self._data.ndim

    @property
    def dtype(self) -> np.dtype:
        return self._data.dtype

    @property
    def device(self) -> Any:
        from engine.device import device
        return device("cpu")

    @property
    def is_leaf(self) -> bool:
        """True for tensors no recorded op made (PyTorch's meaning)."""
        return self._rule is None

    @property
    def retains_grad(self) -> bool:
        return self._retains

    def size(self, dim: int | None = None) -> printing.Size | int:
        """The shape, or the size of one dim, as PyTorch's `size()`."""
        return printing.Size(self._data.shape) if dim is None else self._data.shape[dim]

    def dim(self) -> int:
        return self._data.ndim

    def numel(self) -> int:
        """How many entries."""
        return self._data.size

    nelement = numel

    # --- what the backward driver asks of a node (engine/graph.py) ---

    def _vjp(self) -> Callable:
        return self._rule

    def _versions(self) -> int:
        """The in-place changes of this tensor and its inputs so far (see _vsum)."""
        total = self._version + self._a._version
        if self._b is not None:
            total += self._b._version
            for p in self._more:
                total += p._version
        return total

    def _modified_in_place(self) -> None:
        raise RuntimeError(
            f"one of the tensors needed to compute the gradient of a {self._op!r} node has been "
            "modified by an in-place operation since: its rule would give a wrong gradient. "
            "Change a copy instead (x = x.clone() before the in-place op, or x = x + 1 "
            "rather than x += 1).")

    def _fit(self, g: Any) -> Any:
        """g summed back to this tensor's shape and cast to its dtype."""
        if g.shape != self._data.shape:
            g = _sum_to(g, self._data.shape)
        dtype = self._data.dtype
        if g.dtype != dtype:
            g = g._cast(dtype) if isinstance(g, Tensor) else np.asarray(g).astype(dtype)
        return g

    def _accumulate(self, g: Any, handed: set, lock: Any, retained: bool = False) -> None:
        """Add this call's gradient g into `.grad`.

        g is given as it is when nothing else holds it, otherwise copied: so every `.grad`
        is an array of its own, which the user may change in place. A rule can pass one
        array on twice (a + b gives g to both) or a view of it; `handed` has the ids of the
        arrays already given to a leaf in this pass.
        """
        if isinstance(g, Tensor):  # create_graph: the gradient is a graph node; a copy in
            with lock:           # the graph, as PyTorch's, so no two .grads are one tensor
                self._grad = g.clone() if self._grad is None else self._grad + g
            return
        if retained or type(g) is not np.ndarray or g.base is not None or (
                not g.flags.writeable) or id(g) in handed:
            g = np.array(g)
        handed.add(id(g))
        with lock:
            old = self._grad
            if old is None:
                self._grad = _leaf(g)
            elif old.requires_grad:  # an earlier create_graph pass made it a node
                self._grad = old + _leaf(g)
            else:
                old._data = old._data + g

    def _seed(self, gradient: Any, create_graph: bool, what: str) -> Any:
        """The gradient a backward pass starts from at this tensor: 1 for a one-entry
        tensor, else `gradient`, which must have this tensor's shape."""
        if gradient is None:
            if self._data.size != 1:
                raise RuntimeError(f"{what} can be left out only for a one-entry output; this "
                                   f"one has shape {self._data.shape}: reduce it first (e.g. "
                                   ".sum()) or pass a gradient of that shape")
            seed = np.ones(self._data.shape, self._data.dtype)
        else:
            seed = np.array(as_array(_raw(gradient), self._data.dtype, what))
            if seed.shape != self._data.shape:
                raise ValueError(f"{what} has shape {seed.shape}, but the tensor it is the "
                                 f"gradient of has shape {self._data.shape}")
        if create_graph:  # a gradient that is a graph node stays one (functional.jvp's trick)
            return gradient._cast(seed.dtype) if isinstance(gradient, Tensor) else _leaf(seed)
        return seed

    def _grad_value(self, g: Any, create_graph: bool, handed: set) -> Tensor:
        """What engine.grad returns for this input: g as a Tensor of its own (a rule may give
        a broadcast view, or one array to two inputs), zeros where g is 0 (see run_backward)."""
        if isinstance(g, Tensor):
            return g
        if type(g) is int:
            return _leaf(np.zeros(self._data.shape, self._data.dtype))
        if type(g) is not np.ndarray or g.base is not None or not g.flags.writeable or (
                id(g) in handed):
            g = np.array(g)
        handed.add(id(g))
        return _leaf(g)

    @property
    def _backward(self) -> Callable[[], None]:
        """micrograd's `node._backward()`: send this node's `.grad` to its parents' `.grad`,
        once, to step through backprop by hand (a leaf's does nothing)."""
        if self._a is None or self._rule is graph._released:
            return graph._nothing
        return lambda: _apply_rule(self)

    # --- primitives: each computes its value and defines its derivative right below ---

    def __add__(self, other: Operand) -> Tensor:
        """a + b; da = g, db = g."""
        a, b = _operands("+", self, other)

        def rule(g: Any, out: Any, need: list, a: Any, b: Any) -> tuple:
            return g, g
        return _node(_elementwise(np.add, a, b, "+"), "+", rule, a, b)

    def __mul__(self, other: Operand) -> Tensor:
        """a * b; da = g b, db = g a."""
        a, b = _operands("*", self, other)

        def rule(g: Any, out: Any, need: list, a: Any, b: Any) -> tuple:
            return (g * b if need[0] else None), (g * a if need[1] else None)
        return _node(_elementwise(np.multiply, a, b, "*"), "*", rule, a, b)

    def __truediv__(self, other: Operand) -> Tensor:
        """a / b; da = g / b, db = -g (a / b) / b."""
        a, b = _operands("/", self, other, floating=True)
        with np.errstate(**_IEEE):
            out = _elementwise(np.true_divide, a, b, "/")

        def rule(g: Any, out: Any, need: list, a: Any, b: Any) -> tuple:
            with np.errstate(**_IEEE):  # PyTorch's forms, so that 1e-300 / 1e-310 stays finite
                return (g / b if need[0] else None), (-g * (out / b) if need[1] else None)
        return _node(out, "/", rule, a, b)

    def __pow__(self, other: Operand) -> Tensor:
        """a ** b; da = g b a**(b-1), none where b == 0; db = g a**b ln(a), 0 where a == 0 <= b."""
        number = _number_kind(other) is not None  # PyTorch computes ** 0.5 as sqrt then
        a, b = _operands("**", self, other)
        with np.errstate(**_IEEE):
            out = _elementwise(lambda x, p: _power(x, p, number), a, b, "**")

        def rule(g: Any, out: Any, need: list, a: Any, b: Any) -> tuple:
            da = db = None
            with np.errstate(**_IEEE):
                if need[0] and number and _raw(b) == 0:  # x**0 is the constant 1: its
                    da = _zeros(g, a)  # gradient a constant 0, as PyTorch's (not 0 * inf)
                elif need[0]:  # no gradient where b == 0, even a nan one
                    da = _where(_raw(b) == 0, 0, g * (b * _pow(a, b - 1, number)))
                if need[1]:  # 0**p is 0 for every p > 0: flat in p, not 0 * ln(0) = nan
                    db = _where((_raw(a) == 0) & (_raw(b) >= 0), 0, g * (out * _log(a)))
            return da, db
        return _node(out, "**", rule, a, b)

    def __matmul__(self, other: Operand) -> Tensor:
        """a @ b, numpy's rules; da = g @ b^T, db = a^T @ g (1-D a: a row, 1-D b: a column)."""
        a, b = _operands("@", self, other)
        try:
            out = np.matmul(a._data, b._data)
        except ValueError:
            raise ValueError(f"Tensor @: shapes {a._data.shape} and {b._data.shape} do not fit; "
                             + _matmul_rule(a._data.shape, b._data.shape)) from None

        def rule(g: Any, out: Any, need: list, a: Any, b: Any) -> tuple:
            # Give 1-D operands and g the dims matmul dropped, so one 2-D rule covers every case.
            a2 = a[None, :] if a.ndim == 1 else a
            b2 = b[:, None] if b.ndim == 1 else b
            g2 = g[..., None] if b.ndim == 1 else g
            g2 = g2[..., None, :] if a.ndim == 1 else g2
            da = db = None
            if need[0]:
                da = g2 @ b2.swapaxes(-1, -2)
                da = da[..., 0, :] if a.ndim == 1 else da
            if need[1]:
                db = a2.swapaxes(-1, -2) @ g2
                db = db[..., 0] if b.ndim == 1 else db
            return da, db
        return _node(out, "@", rule, a, b)

    def __getitem__(self, index: Any) -> Tensor:
        """a[index] (ints, slices, None, ..., int or bool arrays and Tensors, ranges);
        da = g put back where it came from, summed where an entry was picked twice."""
        index = _index(index)
        basic = _is_basic(index)

        def rule(g: Any, out: Any, need: list, a: Any) -> tuple:
            return (_put(g, a, index, basic),)
        try:
            picked = self._data[index]
        except IndexError as e:
            raise IndexError(f"index {index!r:.80} does not fit a tensor of shape "
                             f"{self._data.shape}: {e}") from None
        return _node(picked, "index", rule, self)

    def _cast(self, dtype: Any) -> Tensor:
        """The entries in another dtype (itself when it has it already); da = g, in a's dtype.
        Rounded to ints or bools they have no gradient, and leave the graph, as in PyTorch."""
        dtype = np.dtype(dtype)
        if self._data.dtype == dtype:
            return self
        if dtype.kind != "f":
            return _leaf(self._data.astype(dtype))

        def rule(g: Any, out: Any, need: list, a: Any) -> tuple:
            return (g,)  # the driver casts it back to a's dtype
        return _node(self._data.astype(dtype), dtype.name, rule, self)

    def clone(self) -> Tensor:
        """A copy of the data that stays in the graph; da = g."""
        def rule(g: Any, out: Any, need: list, a: Any) -> tuple:
            return (g,)
        return _node(self._data.copy(), "clone", rule, self)

    # --- composites: built from the primitives, so they need no derivative code ---

    def __neg__(self) -> Tensor:  # -a
        return _named_after(self * -1, "-{}", self)

    def __pos__(self) -> Tensor:  # +a
        return self

    def __radd__(self, other: Operand) -> Tensor:  # n + a
        return self + other

    def __sub__(self, other: Operand) -> Tensor:  # a - b, after promotion (so uint8 wraps)
        a, b = _operands("-", self, other)
        return a + -b

    def __rsub__(self, other: Operand) -> Tensor:  # n - a
        b, a = _operands("-", self, other)
        return a - b

    def __rmul__(self, other: Operand) -> Tensor:  # n * a
        return self * other

    def __rtruediv__(self, other: Operand) -> Tensor:  # n / a
        b, a = _operands("/", self, other, floating=True)
        return a / b

    def __rpow__(self, other: Operand) -> Tensor:  # n ** a
        b, a = _operands("**", self, other)
        return a ** b

    def __rmatmul__(self, other: Operand) -> Tensor:  # array @ a
        b, a = _operands("@", self, other)
        return a @ b

    def __abs__(self) -> Tensor:  # abs(a)
        return self.abs()

    def add(self, other: Operand, alpha: float = 1) -> Tensor:
        """a + alpha * b, as torch.add."""
        return self + (other if alpha == 1 else other * alpha)

    def sub(self, other: Operand, alpha: float = 1) -> Tensor:
        """a - alpha * b, as torch.sub."""
        return self - (other if alpha == 1 else other * alpha)

    def mul(self, other: Operand) -> Tensor:
        return self * other

    def div(self, other: Operand) -> Tensor:
        return self / other

    def pow(self, exponent: Operand) -> Tensor:
        """a ** exponent, PyTorch's method name."""
        return self ** exponent

    def matmul(self, other: Operand) -> Tensor:
        return self @ other

    def float(self) -> Tensor:
        """As float32 (itself if it is), PyTorch's `.float()`; gradients go back in the old dtype."""
        return self._cast(np.float32)

    def double(self) -> Tensor:
        """As float64 (itself if it is), PyTorch's `.double()`."""
        return self._cast(np.float64)

    def half(self) -> Tensor:
        return self._cast(np.float16)

    def long(self) -> Tensor:
        """As int64 (itself if it is), PyTorch's `.long()`: class labels, indices."""
        return self._cast(np.int64)

    def int(self) -> Tensor:
        return self._cast(np.int32)

    def bool(self) -> Tensor:
        return self._cast(np.bool_)

    def type(self, dtype: Any = None) -> Any:
        """`t.type(dtype)` casts, as PyTorch's; `t.type()` names the dtype."""
        return str(self._data.dtype) if dtype is None else self._cast(dtype)

    def type_as(self, other: Tensor) -> Tensor:
        return self._cast(other.dtype)

    def to(self, *args: Any, **kwargs: Any) -> Tensor:
        """`to(dtype)`, `to(device)`, `to(device, dtype)` or `to(other)`: a cast; the device
        must be the CPU (the only one this engine has)."""
        from engine.device import dtype_of_to
        dtype = dtype_of_to(args, dict(kwargs))
        return self if dtype is None else self._cast(dtype)

    def cpu(self) -> Tensor:
        return self

    # --- in-place updates ---

    def _snapshot(self) -> Tensor:
        """A new node holding what this one holds now, to stand for it in the graph."""
        old = _new(Tensor)
        for slot in ("_data", "requires_grad", "label", "_op", "_a", "_b", "_more", "_rule",
                     "_version", "_vsum"):
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
        """Take `result`'s place: this object now holds its numbers and how it was made.

        `old` (this tensor's snapshot) already stands for what this tensor was as result's
        operand; nodes of `inputs` (the other operand's graph) that were made from this
        tensor are pointed at `old` too, as in `x[i] = x[i] - 1`, so no cycle is made.
        """
        if isinstance(inputs, Tensor) and inputs.requires_grad:
            _point_at(inputs, self, old)
        for slot in ("_data", "requires_grad", "_op", "_a", "_b", "_more", "_rule"):
            setattr(self, slot, getattr(result, slot))
        self._version += 1
        self._vsum = self._versions() if self._a is not None else None
        return self

    def _in_place(self, fn: Callable[[Tensor, Any], Tensor], other: Any, op: str) -> Tensor:
        """self = fn(self, other), written into self, as PyTorch's in-place ops.

        Outside the graph the numbers are written into the array itself, so views and other
        references see them. In the graph it records `fn` and this tensor becomes its result.
        The result must fit self's shape and dtype (an int tensor cannot take a float).
        """
        graphed = _recording() and (self.requires_grad or (
            isinstance(other, Tensor) and other.requires_grad))
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
        return self._in_place(Tensor.__add__, other, "+=")

    def __isub__(self, other: Operand) -> Tensor:
        return self._in_place(Tensor.__sub__, other, "-=")

    def __imul__(self, other: Operand) -> Tensor:
        return self._in_place(Tensor.__mul__, other, "*=")

    def __itruediv__(self, other: Operand) -> Tensor:
        return self._in_place(Tensor.__truediv__, other, "/=")

    def __ipow__(self, other: Operand) -> Tensor:
        return self._in_place(Tensor.__pow__, other, "**=")

    def add_(self, other: Operand, alpha: float = 1) -> Tensor:
        return self._in_place(lambda a, b: a.add(b, alpha), other, "add_")

    def sub_(self, other: Operand, alpha: float = 1) -> Tensor:
        return self._in_place(lambda a, b: a.sub(b, alpha), other, "sub_")

    def mul_(self, other: Operand) -> Tensor:
        return self._in_place(Tensor.__mul__, other, "mul_")

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
        index = _index(index)
        if not isinstance(value, Tensor):
            value = _leaf(np.array(as_array(value, what="the value assigned")).astype(
                self._data.dtype))
        if _recording() and (self.requires_grad or value.requires_grad):
            self._check_in_place("setting entries")
            old = self._snapshot()
            self._become(_index_put(old, index, _cast_to(value, self._data.dtype),
                                    accumulate=False), old, value)
            return
        try:
            self._data[index] = value._data
        except ValueError:
            raise ValueError(f"cannot put a value of shape {value._data.shape} at index "
                             f"{index!r:.80} of a tensor of shape {self._data.shape}") from None
        self._version += 1

    # --- outside the graph: comparisons and logic ---

    def _compare(self, other: Operand, ufunc: np.ufunc, op: str) -> Tensor:
        try:
            a, b = _operands(op, self, other)
        except TypeError:  # not numbers: let the other side answer (pytest.approx, ...)
            return NotImplemented
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

    def _logic(self, other: Operand, ufunc: np.ufunc, op: str) -> Tensor:
        a, b = _operands(op, self, other)
        if a._data.dtype.kind == "f":
            raise TypeError(f"Tensor {op} works on bool and int tensors, not {a._data.dtype}")
        return _leaf(_elementwise(ufunc, a, b, op))

    def __and__(self, other: Operand) -> Tensor:
        return self._logic(other, np.bitwise_and, "&")

    def __or__(self, other: Operand) -> Tensor:
        return self._logic(other, np.bitwise_or, "|")

    def __xor__(self, other: Operand) -> Tensor:
        return self._logic(other, np.bitwise_xor, "^")

    __rand__, __ror__, __rxor__ = __and__, __or__, __xor__

    def __invert__(self) -> Tensor:
        """~a: logical not of a bool tensor, bitwise not of an int one."""
        if self._data.dtype.kind == "f":
            raise TypeError(f"~ works on bool and int tensors, not {self._data.dtype}")
        return _leaf(np.invert(self._data))

    def __contains__(self, item: Any) -> bool:
        return bool((self == item).any())

    # --- the rest of the node's life ---

    def detach(self) -> Tensor:
        """The same data (shared, not copied) as a leaf that requires no grad."""
        return _leaf(self._data)

    def detach_(self) -> Tensor:
        """This tensor taken out of the graph, in place."""
        self._a = self._b = self._rule = self._vsum = None
        self._more, self._op, self.requires_grad = (), "", False
        return self

    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
        """Set whether gradients flow to this tensor (a float leaf) and return it, as PyTorch."""
        if requires_grad and self._data.dtype.kind != "f":
            raise TypeError(f"only float tensors can require grad, this one is "
                            f"{self._data.dtype}; pass float data or dtype=engine.float32 "
                            "(or call .float() first)")
        if not requires_grad and self._rule is not None:
            raise RuntimeError(f"requires_grad_(False) on a tensor made by {self._op!r}: only "
                               "leaves can stop requiring grad; use .detach() for a copy that "
                               "is out of the graph")
        self.requires_grad = bool(requires_grad)
        return self

    def retain_grad(self) -> None:
        """Keep this interior tensor's `.grad` after backward (leaves always keep theirs)."""
        if not self.requires_grad:
            raise RuntimeError("retain_grad() on a tensor that does not require grad")
        if self._rule is not None:
            self._retains = True

    def backward(self, gradient: Any = None, retain_graph: bool | None = None,
                 create_graph: bool = False) -> None:
        """Fill `.grad` of every leaf this tensor depends on that requires grad; leaves
        accumulate across calls.

        A one-entry output is seeded with 1; any other needs `gradient`, d(something)/d(this),
        of this tensor's shape. The graph is released afterwards unless `retain_graph=True`
        (a second backward through it then raises). With `create_graph=True` the gradients
        are themselves graph nodes, so they can be differentiated again.
        """
        if not self.requires_grad:
            raise RuntimeError("backward() on a tensor that does not require grad: no graph was "
                               "recorded for it (made inside no_grad(), or from tensors without "
                               "requires_grad=True)")
        seed = self._seed(gradient, create_graph, "backward(gradient=)")
        graph.run_backward([self], [seed], create_graph=create_graph, retain_graph=retain_graph)

    def item(self) -> float | int | bool:
        """The one entry as a Python number."""
        if self._data.size != 1:
            raise ValueError(f"item() needs a one-entry tensor, this one has shape "
                             f"{self._data.shape}")
        return self._data.item()

    def tolist(self) -> Any:
        """The entries as (nested lists of) Python numbers."""
        return self._data.tolist()

    def __float__(self) -> float:
        return float(self.item())

    def __int__(self) -> int:  # int(t) of a one-entry tensor, as in PyTorch
        return int(self.item())

    def __index__(self) -> int:
        """range(t), lst[t]: a one-entry integer tensor as an int, as in PyTorch."""
        if self._data.dtype.kind not in "iu":
            raise TypeError(f"only integer tensors can be used as an index, this one is "
                            f"{self._data.dtype}")
        return int(self.item())

    def __bool__(self) -> bool:
        if self._data.size != 1:
            raise RuntimeError(f"the truth value of a tensor of shape {self._data.shape} is "
                               "ambiguous; use .any() or .all()")
        return bool(self._data)

    def __len__(self) -> int:
        if not self._data.ndim:
            raise TypeError("len() of a 0-d tensor")
        return self._data.shape[0]

    def __iter__(self) -> Any:
        if not self._data.ndim:
            raise TypeError("iteration over a 0-d tensor")
        return (self[i] for i in range(self._data.shape[0]))

    def numpy(self) -> np.ndarray:
        """The data array itself (shared, not copied)."""
        return self._data

    def __array__(self, dtype: Any = None, copy: bool | None = None) -> np.ndarray:
        """The data for numpy (`np.asarray(t)`, `np.allclose(t, ...)`), shared unless copied."""
        return np.array(self._data, dtype=dtype, copy=copy)

    def __dlpack__(self, **kwargs: Any) -> Any:
        """The array through DLPack, so `torch.tensor(t)` and `torch.from_dlpack(t)` read it."""
        return self._data.__dlpack__(**kwargs)

    def __dlpack_device__(self) -> Any:
        return self._data.__dlpack_device__()

    def __array_function__(self, func: Any, types: Any, args: tuple, kwargs: dict) -> Any:
        """numpy's other functions (np.any, np.mean, np.concatenate, ...) see tensors as
        their arrays too."""
        return func(*_arrays(args), **_arrays(kwargs))

    def __array_ufunc__(self, ufunc: np.ufunc, method: str, *inputs: Any, **kwargs: Any) -> Any:
        """numpy's functions see a tensor as its array and give arrays, as for a torch tensor
        (`np.exp(t)`, `np.isfinite(t.grad)`, `np.clip(g, -1, 1, out=g)` in place); an
        operator with an array on the left (`array * t`) stays a Tensor op in the graph."""
        reflected = _REFLECTED.get(ufunc)
        if reflected and method == "__call__" and not kwargs and len(inputs) == 2:
            x, y = inputs
            return getattr(x, reflected[0])(y) if x is self else getattr(y, reflected[1])(x)
        if "out" in kwargs:
            kwargs["out"] = tuple(_raw(o) for o in kwargs["out"])
        return getattr(ufunc, method)(*(_raw(x) for x in inputs), **kwargs)

    def __repr__(self) -> str:
        """As PyTorch prints it: `tensor([1.5000, 2.0000], grad_fn=<MulBackward0>)`."""
        data, extras = self._data, []
        if not data.size and data.ndim != 1:
            extras.append(f"size={data.shape}")
        if data.dtype not in ((dtypes.get_default_dtype(),) if not data.size else
                              (dtypes.get_default_dtype(), dtypes.int64, dtypes.bool_)):
            extras.append(f"dtype=torch.{data.dtype}")
        if self._rule is not None:
            extras.append(f"grad_fn=<{printing.grad_fn_name(self._op)}>")
        elif self.requires_grad:
            extras.append("requires_grad=True")
        if self.label:
            extras.append(f"label={self.label!r}")
        return printing.tensor_repr(data, extras)

    def __format__(self, spec: str) -> str:
        """f"{t}" and f"{t:.4f}" of a 0-d tensor format its number, as PyTorch's do."""
        return self.item().__format__(spec) if not self._data.ndim else super().__format__(spec)


def _arrays(x: Any) -> Any:
    """x with every Tensor in it (in lists, tuples and dicts too) replaced by its array."""
    if isinstance(x, Tensor):
        return x._data
    if isinstance(x, (list, tuple)):
        return type(x)(_arrays(v) for v in x)
    if isinstance(x, dict):
        return {k: _arrays(v) for k, v in x.items()}
    return x


# numpy's ufunc -> the Tensor methods for `tensor op other` and `other op tensor`
_REFLECTED = {np.add: ("__add__", "__radd__"), np.subtract: ("__sub__", "__rsub__"),
              np.multiply: ("__mul__", "__rmul__"), np.true_divide: ("__truediv__", "__rtruediv__"),
              np.power: ("__pow__", "__rpow__"), np.matmul: ("__matmul__", "__rmatmul__"),
              np.less: ("__lt__", "__gt__"), np.less_equal: ("__le__", "__ge__"),
              np.greater: ("__gt__", "__lt__"), np.greater_equal: ("__ge__", "__le__"),
              np.equal: ("__eq__", "__eq__"), np.not_equal: ("__ne__", "__ne__")}


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


def _apply_rule(node: Tensor) -> None:
    """One node's rule run by hand (micrograd's `_backward()`), grads kept on the nodes."""
    if node._grad is None:
        return
    parents = node._prev
    with grad_mode.no_grad():
        results = node._rule(node._grad._data, node._data, [p.requires_grad for p in parents],
                             *[p._data for p in parents])
        for p, r in zip(parents, results):
            if r is not None and p.requires_grad:
                r = p._fit(r)
                p._grad = _leaf(np.array(r)) if p._grad is None else _leaf(p._grad._data + r)


def _matmul_rule(a: tuple, b: tuple) -> str:
    """What numpy's matmul needs of two shapes, in words, for an error message."""
    if not a or not b:
        return "@ needs operands with at least one dim (use * to scale by a number)"
    inner = "only" if len(b) == 1 else "second-to-last"
    return (f"the left's last dim ({a[-1]}) must equal the right's {inner} dim "
            f"({b[0] if len(b) == 1 else b[-2]}), and batch dims must broadcast")


class _CallableModule(types.ModuleType):
    """This module, callable as the factory `tensor`: importing engine/tensor.py binds the
    name `engine.tensor` to the module, where PyTorch code expects `tensor(data)` to work."""

    def __call__(self, *args: Any, **kwargs: Any) -> Tensor:
        from engine.factories import tensor
        return tensor(*args, **kwargs)


sys.modules[__name__].__class__ = _CallableModule

# The other ops add themselves to Tensor (each module's end says which).
from engine import elementwise, functions, random, reductions, shapes  # noqa: E402,F401
from engine.allocator import keep_freed_memory  # noqa: E402

keep_freed_memory()
