"""Tensor: one numpy array, the nodes it came from, and how to send its gradient back to them.

The same node design as `Value` (see engine/graph.py). Each op computes its result and,
right below, its backward rule: a vector-Jacobian product `rule(g, out, need, *inputs)`
returning, for each input whose `need` is True, d(loss)/d(input) given g = d(loss)/d(out).
Rules capture only the op's settings (axis, index, mask), so no rule holds its own node
and a graph frees as soon as nobody holds its root; an index, mask or labels the caller
could change in place before the backward pass are captured as copies (`_private`).

A rule is written once, in operations that numpy arrays and Tensors both understand
(`* + - / @`, `.sum(axis, keepdims)`, `.reshape`, indexing, and the few helpers below
that pick numpy's or the engine's function). A normal backward pass hands it arrays, so
it runs at numpy's speed; `backward(create_graph=True)` hands it the Tensors themselves
with recording on, so the gradient it returns is itself a graph that can be
differentiated again. The engine's one helper, `_fit`, reduces a broadcast gradient back
to its operand's shape and dtype; no rule does that itself.

This file holds the core: storage, `.data` and `.grad`, making nodes and promoting
operands, + - * / and @, `backward`. The rest adds itself to Tensor: ** in arithmetic.py,
the ops in elementwise.py, reductions.py and shapes.py (indexing too; each op is also
`engine.NAME(t, ...)`, as PyTorch spells them), in-place updates in inplace.py, conversions
to dtypes, numbers, text and arrays in interop.py, `.shape`, `.dtype` and the other facts
in tensor_facts.py, and what the backward driver asks of a tensor in gradients.py.

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
Every leaf owns its `.grad`. Tensors take attributes of their own, as PyTorch's do (the
fast.ai lesson stores hand-computed gradients as `.g`); the engine never reads them.

Domain edges give PyTorch's answers, as `Value` does, in value and in gradient.
"""
from __future__ import annotations

import numbers
import operator
import sys
import types
import warnings
import weakref
from typing import Any, Callable, Union

import numpy as np

from engine import dtypes, grad_mode, graph
from engine.dtypes import as_array
from engine.grad_mode import is_grad_enabled
from engine.graph import Node

Operand = Union["Tensor", numbers.Real, np.ndarray, list]
_IEEE = {"divide": "ignore", "invalid": "ignore", "over": "ignore"}
_NUMBER_KIND = {bool: 0, int: 1, float: 2}
_MATMUL_OPS = {(2, 2): "mm", (2, 1): "mv", (1, 1): "dot", (1, 2): "vm"}  # PyTorch's, by dims
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
    if out._data.base is not None and parents and _views(out._data, parents[0]):
        _share(out, parents[0], view=True)  # they share in-place changes
    if grad_mode.threads_off == 0 or is_grad_enabled():
        for p in parents:  # a loop, not any(genexpr): this runs for every op
            if p.requires_grad:
                out.requires_grad, out._op, out._rule = True, op, rule
                a = out._a = parents[0]
                out._seen = graph.last_change
                if len(parents) == 1:
                    out._b, out._more, out._vsum = None, (), a._version
                else:
                    out._b, out._more = parents[1], parents[2:]
                    out._vsum = out._versions()
                return out
    elif grad_mode.threads_inferring and out._view_of is None and (
            grad_mode.is_inference_mode_enabled()):  # (a view is its base's kind)
        out._inference = True
    out.requires_grad, out._op, out._rule = False, "", None
    out._a = out._b = out._vsum = None
    out._seen, out._more = -1, ()
    return out


def _views(data: np.ndarray, base: Tensor) -> bool:
    """Whether the array `data` is a view of `base`'s memory (numpy keeps the array that owns
    the memory as every view's .base)."""
    owner = data.base
    return owner is not None and (owner is base._data or owner is base._data.base)


def _share(out: Tensor, base: Tensor, view: bool) -> None:
    """Record that `out`'s numbers are `base`'s memory (a `view`, or a `.detach()`ed alias):
    the tensors sharing memory form a family, and an in-place change of one counts in the
    `_version` of all, as PyTorch's views share one version counter (engine/inplace.py)."""
    family = base._family
    if family is None:
        family = base._family = [weakref.ref(base)]
    elif len(family) % 64 == 0:  # let go of the dead now and then (a view made every step),
        for dead in [ref for ref in family if ref() is None]:  # one by one: another thread
            family.remove(dead)  # may be adding its view meanwhile
    family.append(weakref.ref(out))
    out._family = family
    if base._inference:  # a view of an inference tensor is one, as in PyTorch
        out._inference = True
    if view:  # a view's rule saves nothing, so a backward pass keeps it, as PyTorch's: a
        out._view_of = base  # view made once (`w.t()` in a model's __init__) serves every step
        out._releasable = False


def _saves_nothing(out: Tensor) -> Tensor:
    """`out`, made by an op whose rule reads shapes and settings only, never numbers (a sum, a
    reshape, a + b): an in-place change of its operands after it leaves its gradient right,
    so a backward pass does not refuse it, as PyTorch's, which saves nothing for such ops."""
    out._vsum = None
    return out


_OUT, _A, _B = 1, 2, 4  # what a rule reads (_saves): its output, its first operand, its second


def _saves(out: Tensor, reads: int) -> Tensor:
    """`out`, made by an op whose rule reads only the numbers `reads` names (_OUT | _A | _B;
    ~_OUT: every operand but not the output): a backward pass refuses it only if one of
    those changed in place since, as PyTorch's, which saves only what its formula reads
    (tanh its output; a * b each operand for the other's gradient only)."""
    if out._rule is not None:
        out._reads = reads
        out._vsum = out._versions() if reads else None
    return out


def _private(index: Any) -> Any:
    """An index, mask or labels, as a rule keeps what it reads besides its operands: in arrays
    of its own (a list becomes one). The caller may change theirs in place before the
    backward pass, and the gradient must follow what the forward pass read."""
    if isinstance(index, np.ndarray):
        return index.copy()
    if isinstance(index, list):
        return np.array(index)
    if isinstance(index, tuple):
        return tuple(map(_private, index))
    return index


def _called(out: Tensor, op: str) -> Tensor:
    """`out`, a composite's last node, its grad_fn named after the composite, as PyTorch's (a - b
    is a + (-b): SubBackward0); the graph, its picture and its rules keep the ops that ran."""
    if out._rule is not None:
        out._torch_op = op
    return out


def _leaf(data: Any) -> Tensor:
    """A Tensor that requires no grad, around an array the engine made."""
    out = _new(Tensor)
    out._data = data if type(data) is np.ndarray else np.asarray(data)
    out._grad = out._a = out._b = out._rule = out._vsum = None
    out.label = out._op = ""
    out._version, out._seen = 0, -1
    out._retains = out.requires_grad = False
    out._more = ()
    if grad_mode.threads_inferring and grad_mode.is_inference_mode_enabled():
        out._inference = True
    return out


def _as_tensor(x: Any) -> Tensor:
    """x itself if it is a Tensor, else a Tensor of it."""
    return x if isinstance(x, Tensor) else Tensor(x)


def _raw(x: Any) -> Any:
    """The array behind a Tensor; anything else as it is."""
    return x._data if isinstance(x, Tensor) else x


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
        target = dtypes.default_for(2)
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
    return t if t._data.dtype.kind == "f" else _leaf(t._data.astype(dtypes.default_for(2)))


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


def _exp(x: Any) -> Any:
    return x.exp() if isinstance(x, Tensor) else np.exp(x)


def _log(x: Any) -> Any:
    return x.log() if isinstance(x, Tensor) else np.log(x)


def _expand(x: Any, shape: tuple) -> Any:
    """x broadcast to `shape` (a read-only view for arrays)."""
    return x.expand(shape) if isinstance(x, Tensor) else np.broadcast_to(x, shape)


class Tensor(Node):
    """A graph node holding a numpy array: its numbers, its gradient and how it was made."""

    # __dict__ too: PyTorch code sets attributes of its own on tensors (the lesson's `.g`)
    __slots__ = ("_data", "_grad", "requires_grad", "label", "_op", "_a", "_b", "_more", "_rule",
                 "_version", "_vsum", "_seen", "_retains", "__weakref__", "__dict__")
    _GRAD_ZERO = None  # no gradient yet, as in PyTorch
    _torch_op = ""  # PyTorch's op, where a composite made the node (see _called)
    _view_of = None  # the tensor whose numbers a view op made this one view (see _share)
    _family = None  # weak references to the tensors that share this one's memory (_share)
    _releasable = True  # backward() frees the graph unless retain_graph=True, as PyTorch
    _inference = False  # made inside inference_mode() (_node, _leaf, __init__), or a view of one
    _remade = -1  # the tick it last changed in place in the graph at (engine/inplace.py's _take)
    _before: Any = None  # the node it stood for until then (or a weak reference to it)
    _reads = -1  # whose numbers its rule reads, bit i for (self, _a, _b, *_more)[i] (_saves)
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
        self._version, self._seen = 0, -1
        self._retains = False
        self.requires_grad = False
        self.requires_grad_(requires_grad)
        if grad_mode.threads_inferring and grad_mode.is_inference_mode_enabled():
            self._inference = True

    # --- PyTorch's view of the node ---

    @property
    def data(self) -> Tensor:
        """The same numbers, sharing memory, as a tensor outside the graph (PyTorch's
        `.data`: `w.data -= lr * w.grad` updates w without recording anything)."""
        return _leaf(self._data)

    @data.setter
    def data(self, value: Any) -> None:
        self._data = value._data if isinstance(value, Tensor) else as_array(value, what=".data")

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

    # --- primitives: each computes its value and defines its derivative right below ---

    def __add__(self, other: Operand) -> Tensor:
        """a + b; da = g, db = g."""
        a, b = _operands("+", self, other)

        def rule(g: Any, out: Any, need: list, a: Any, b: Any) -> tuple:
            return g, g
        return _saves_nothing(_node(_elementwise(np.add, a, b, "+"), "+", rule, a, b))

    def __mul__(self, other: Operand) -> Tensor:
        """a * b; da = g b, db = g a."""
        if type(other) is float and not self.requires_grad and self._data.dtype.kind == "f":
            return _leaf(self._data * other)  # outside the graph (`lr * p.grad`): no operand leaf
        a, b = _operands("*", self, other)

        def rule(g: Any, out: Any, need: list, a: Any, b: Any) -> tuple:
            return (g * b if need[0] else None), (g * a if need[1] else None)
        out = _node(_elementwise(np.multiply, a, b, "*"), "*", rule, a, b)
        return _saves(out, (_B if a.requires_grad else 0) | (_A if b.requires_grad else 0))

    def __truediv__(self, other: Operand) -> Tensor:
        """a / b; da = g / b, db = -g (a / b) / b."""
        a, b = _operands("/", self, other, floating=True)
        with np.errstate(**_IEEE):
            out = _elementwise(np.true_divide, a, b, "/")

        def rule(g: Any, out: Any, need: list, a: Any, b: Any) -> tuple:
            with np.errstate(**_IEEE):  # PyTorch's forms, so that 1e-300 / 1e-310 stays finite
                # (a / b is out to the last bit: read from a and b, as PyTorch saves them)
                return (g / b if need[0] else None), (-g * ((a / b) / b) if need[1] else None)
        out = _node(out, "/", rule, a, b)
        return _saves(out, _B | (_A if b.requires_grad else 0))

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
        out = _node(out, _MATMUL_OPS.get((a._data.ndim, b._data.ndim), "matmul"), rule, a, b)
        return _saves(out, (_B if a.requires_grad else 0) | (_A if b.requires_grad else 0))

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
        return _saves_nothing(_node(self._data.astype(dtype), dtype.name, rule, self))

    def clone(self, *, memory_format: Any = None) -> Tensor:
        """A copy of the data that stays in the graph; da = g (row-major: the one layout
        here, whatever memory_format says)."""
        def rule(g: Any, out: Any, need: list, a: Any) -> tuple:
            return (g,)
        return _saves_nothing(_node(self._data.copy(), "clone", rule, self))

    # --- composites: built from the primitives, so they need no derivative code ---

    def __neg__(self) -> Tensor:
        """-a; da = -g."""
        if self._data.dtype == np.bool_:
            raise TypeError("negation (-) of a bool tensor is not defined, as in PyTorch; use "
                            "~t (logical not) or convert it first (t.int(), t.float())")

        def rule(g: Any, out: Any, need: list, a: Any) -> tuple:
            return (-g,)
        return _named_after(_saves_nothing(_node(-self._data, "neg", rule, self)), "-{}", self)

    def __pos__(self) -> Tensor:  # +a
        return self

    __radd__ = __add__  # n + a is a + n, to the last bit

    def __sub__(self, other: Operand) -> Tensor:  # a - b, after promotion (so uint8 wraps)
        a, b = _operands("-", self, other)
        return _called(a + -b, "sub")

    def __rsub__(self, other: Operand) -> Tensor:  # n - a
        b, a = _operands("-", self, other)
        return _called(a - b, "rsub" if _number_kind(other) is not None else "sub")

    __rmul__ = __mul__  # n * a is a * n, to the last bit

    def __rtruediv__(self, other: Operand) -> Tensor:  # n / a
        b, a = _operands("/", self, other, floating=True)
        return a / b

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

    mul, matmul = __mul__, __matmul__  # PyTorch's method names

    # --- the rest of the node's life ---

    def detach(self) -> Tensor:
        """The same data (shared, not copied) as a leaf that requires no grad; an in-place
        change of either counts for both, as in PyTorch."""
        out = _leaf(self._data)
        _share(out, self, view=False)
        return out

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


def _matmul_rule(a: tuple, b: tuple) -> str:
    """What numpy's matmul needs of two shapes, in words, for an error message."""
    if not a or not b:
        return "@ needs operands with at least one dim (use * to scale by a number)"
    inner = "only" if len(b) == 1 else "second-to-last"
    return (f"the left's last dim ({a[-1]}) must equal the right's {inner} dim "
            f"({b[0] if len(b) == 1 else b[-2]}), and batch dims must broadcast")


def add_methods(cls: type, source: type) -> None:
    """Give `cls` the methods and properties defined in `source`: how the files that hold
    Tensor's other ops (engine/inplace.py, ...) add them to it."""
    for name, member in vars(source).items():
        # a class defining __eq__ gets __hash__ = None; a Tensor keeps hashing by identity
        if name not in ("__module__", "__qualname__", "__doc__", "__dict__", "__weakref__",
                        "__hash__"):
            setattr(cls, name, member)


class _CallableModule(types.ModuleType):
    """This module, callable as the factory `tensor`: importing engine/tensor.py binds the
    name `engine.tensor` to the module, where PyTorch code expects `tensor(data)` to work."""

    def __call__(self, *args: Any, **kwargs: Any) -> Tensor:
        from engine.factories import tensor
        return tensor(*args, **kwargs)


sys.modules[__name__].__class__ = _CallableModule

# The other ops add themselves to Tensor (each module's end says which).
from engine import (arithmetic, assemble, bessel, construct, contractions,  # noqa: E402,F401
                    elementwise, functions, gamma, gradients, index_writes, inplace, interop,
                    linalg_functions, order_stats, pointwise, products, random, rearrange,
                    reductions, shapes, sorting, statistics, tensor_facts, math_more)
from engine.allocator import keep_freed_memory  # noqa: E402

keep_freed_memory()
