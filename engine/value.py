"""Value: one float, the nodes it came from, and how to send its gradient back to them.

Each op computes its result, and right below it sits its backward rule: a function of the
result node `out` that adds `out.grad` times the op's local derivative into each parent's
`.grad`. One function serves every node the op makes (engine/graph.py says why that is
faster than a closure per node, and how micrograd's `node._backward()` still works).

Domain edges give IEEE 754 results, as numpy and PyTorch do, in value and in gradient:
`log(0)` is -inf, `log(-1)`, `sqrt(-1)` and `(-8) ** 0.5` are nan, `1 / 0` and `0 ** -1`
are inf, `exp(1000)` is inf. Nothing raises for a number that is merely out of domain.
Where a derivative is undefined or meets nan or inf, the gradient is PyTorch's: relu and
pow by 0 pass no gradient at all (not even a nan one), abs multiplies by sign(a).
"""
from __future__ import annotations

import math
import numbers
import operator
from types import MethodType
from typing import Any, Callable, Iterable, Union

from engine import grad_mode, graph
from engine.grad_mode import is_grad_enabled
from engine.graph import Node

Number = Union[int, float]


def _as_float(x: object, op: str = "") -> float:
    """A real number as float, or a TypeError naming what was given instead."""
    if type(x) is float or type(x) is int:  # the common case, without the slower ABC check
        return float(x)
    if isinstance(x, numbers.Real):
        return float(x)
    where = f"the other operand of Value {op}" if op else "Value(data)"
    hint = ("; for many numbers at once use engine.Tensor"
            if hasattr(x, "shape") or isinstance(x, (list, tuple)) else "")
    raise TypeError(f"{where} must be a real number (int or float), got "
                    f"{type(x).__name__} {x!r:.60}{hint}")


def _pow(x: float, p: float) -> float:
    """x ** p as C's pow gives it (PyTorch's, for a Value exponent), where Python would
    raise or return a complex number."""
    try:
        r = x ** p
    except ZeroDivisionError:  # 0 ** negative: inf, signed like x for an odd power
        return math.copysign(math.inf, x) if p % 2 == 1 else math.inf
    except OverflowError:  # too large for a float, or negative ** fraction (nan anyway)
        if x < 0 and p % 1 != 0:
            return math.nan
        return -math.inf if x < 0 and p % 2 == 1 else math.inf
    return math.nan if type(r) is complex else r


def _pow_number(x: float, p: float) -> float:
    """x ** p for a number p, as PyTorch computes it: ** 0.5 and ** -0.5 are sqrt and
    1 / sqrt (so (-inf) ** 0.5 is nan and (-0.0) ** -0.5 is -inf), the rest C's pow."""
    if p == 0.5 or p == -0.5:
        root = math.sqrt(x) if x >= 0 else math.nan  # math.sqrt(-0.0) is -0.0
        return root if p > 0 else _div(1.0, root)
    return _pow(x, p)


def _div(x: float, y: float) -> float:
    """x / y with IEEE results for y == 0 (inf, -inf or nan) instead of ZeroDivisionError."""
    try:
        return x / y
    except ZeroDivisionError:
        if x == 0 or x != x:
            return math.nan
        return math.copysign(math.inf, x) * math.copysign(1.0, y)


def _log(x: float) -> float:
    """Natural log with IEEE results: -inf at 0, nan below."""
    if x > 0:
        return math.log(x)
    return -math.inf if x == 0 else math.nan


def _sign(x: float) -> float:
    """-1, 0 or 1 (0 for nan too), as torch.sign."""
    return (x > 0) - (x < 0)


# The vector-Jacobian forms of the rules (`rule.vjp`) run on floats in `engine.grad`, and on
# Values under `create_graph=True`, so that the gradient is itself a graph. These pick the
# float function or the Value op.

def _f(x: float | Value) -> float:
    """The number in x."""
    return x.data if type(x) is Value else x


def _pow_any(x: float | Value, p: float | Value, number: bool = False) -> float | Value:
    """x ** p; `number`: p is a number operand (PyTorch's sqrt forms for ±0.5)."""
    if type(x) is Value or type(p) is Value:
        return x ** p
    return _pow_number(x, p) if number else _pow(x, p)


def _div_any(x: float | Value, y: float | Value) -> float | Value:
    return x / y if type(x) is Value or type(y) is Value else _div(x, y)


def _log_any(x: float | Value) -> float | Value:
    return x.log() if type(x) is Value else _log(x)


_new = object.__new__


def _named(op: str, vjp: Callable | None = None) -> Callable[[Callable], Callable]:
    """Give a backward rule the name of its op, which is how its nodes' `_op` is known, and
    its vector-Jacobian form `vjp(g, out, need, a[, b]) -> (da[, db])` (engine/graph.py)."""
    def name(rule: Callable) -> Callable:
        rule.op = op
        rule.vjp = vjp
        return rule
    return name


class _RulesByNumber(dict):
    """number -> the backward rule of an op with that number as its other operand (x * 3,
    x ** 2), made on first use and kept: a rule carries its number, as a node has no slot
    to spare for it (see Value). A program uses few distinct numbers; past 4,096 (or for
    nan and zeros, which a dict cannot tell apart by sign) each gets a rule of its own."""

    def __init__(self, make: Callable[[float], Callable]) -> None:
        super().__init__()
        self.make = make

    def __missing__(self, c: float) -> Callable:
        rule = self.make(c)
        if c == c and c != 0 and len(self) < 4096:
            self[c] = rule
        return rule


def _result(data: float, rule: Callable, a: Value, b: Value | None = None) -> Value:
    """An op's result node: `a` and `b` its parents, `rule` its backward rule.

    Inside `no_grad()` it gets no parents (so no graph), but keeps its rule, whose name
    lets `backward()` say why no gradient can flow instead of quietly giving zeros.
    """
    out = _new(Value)
    out.data = data
    out.grad = 0.0
    out.label = ""
    out._rule = rule
    if grad_mode.threads_off and not is_grad_enabled():
        out._a = out._b = None
    else:
        out._a = a
        out._b = b
    return out


class Value(Node):
    """A scalar node of the computation graph: `data`, `grad` and how it was made."""

    # Six slots make a node 80 bytes; two more would make it 96, and the garbage collector's
    # passes over a big graph, which read every node, slow down with the memory. So what a
    # node need not hold lives elsewhere: the op's name on its rule (`_op` reads it there),
    # a number operand in the rule made for that number, and no `_more`: at most two parents.
    __slots__ = ("data", "grad", "label", "_a", "_b", "_rule")
    _more = ()
    _retains = True  # micrograd's: every node's .grad is filled, under create_graph too
    _raw = operator.attrgetter("data")  # what a vjp receives of a node in a float pass

    def __init__(self, data: Number, _children: Iterable[Value] = (), _op: str = "",
                 label: str = "") -> None:
        """micrograd's signature: `Value(x, label='x')` for a leaf, or a node built by hand,
        `out = Value(t, (a,), 'tanh')`, whose rule the builder installs with
        `out._backward = fn`, fn adding `out.grad` times the local derivative into `a.grad`.
        """
        self.data = data if type(data) is float else _as_float(data)
        self.grad = 0.0
        for name, text in (("_op", _op), ("label", label)):
            if not isinstance(text, str):
                raise TypeError(f"Value({name}=) must be a str, got {type(text).__name__} "
                                f"{text!r:.40}")
        self.label = label
        try:
            parents = tuple(_children)
        except TypeError:
            parents = None
        if parents is None or len(parents) > 2 or not all(isinstance(p, Value) for p in parents):
            raise TypeError("Value(_children=) must be a tuple of the one or two Values this "
                            "one is computed from, as in Value(t, (a, b), '+'); got "
                            f"{_children!r:.60}")
        self._a, self._b = (*parents, None, None)[:2]
        # until the builder installs a rule, micrograd's `lambda: None`, which here also
        # carries the op's name
        self._rule = _named(_op)(lambda out: None) if _op else None

    @property
    def _op(self) -> str:
        """The name of the op that made this node ('' for a leaf), as pictures show it."""
        return "" if self._rule is None else self._rule.op

    @property
    def _backward(self) -> Callable[[], None]:
        """micrograd's `node._backward()`: send this node's grad to its parents, once."""
        rule = self._rule
        return graph._nothing if rule is None or self._a is None else MethodType(rule, self)

    @_backward.setter
    def _backward(self, fn: Callable[[], None]) -> None:
        if not callable(fn):
            raise TypeError(f"_backward must be a function of no arguments, got "
                            f"{type(fn).__name__}")
        op = self._op  # a Value knows its op's name from its rule: the new rule carries it

        def rule(out: Value) -> None:
            fn()
        rule.op, rule.vjp = op, None
        self._rule = rule

    # --- primitives. Each op's backward rule comes first: a function of the result node
    # `out` that adds `out.grad` (g below) times the local derivative into each parent's
    # grad. The op then hands its rule to its result. Rules reach ops as default arguments
    # because a local name is the quickest lookup there is, and a training step runs
    # hundreds of thousands of ops. Operands are checked by exact type first, for the same
    # reason: `type(x) is Value` and `type(x) is float` are quicker than isinstance.

    @_named("+", lambda g, out, need, a, b=None: (g, g))
    def _add_rule(out: Value) -> None:
        """d(a + b): da = g, db = g (a number b takes no gradient)"""
        g = out.grad
        out._a.grad += g
        if out._b is not None:
            out._b.grad += g

    def __add__(self, other: Value | Number, _rule: Callable = _add_rule) -> Value:
        """a + b"""
        kind = type(other)
        if kind is Value or (kind is not float and isinstance(other, Value)):
            return _result(self.data + other.data, _rule, self, other)
        c = other if kind is float else _as_float(other, "+")
        return _result(self.data + c, _rule, self)

    @_named("*", lambda g, out, need, a, b: (g * b, g * a))
    def _mul_rule(out: Value) -> None:
        """d(a * b): da = b g, db = a g"""
        a, b, g = out._a, out._b, out.grad
        a.grad += b.data * g
        b.grad += a.data * g

    def _scale_rule(c: float) -> Callable:
        """d(a * c), c a number: da = c g"""
        @_named("*", lambda g, out, need, a: (g * c,))
        def rule(out: Value) -> None:
            out._a.grad += c * out.grad
        return rule

    def __mul__(self, other: Value | Number, _rule: Callable = _mul_rule,
                _scale_rules: dict = _RulesByNumber(_scale_rule)) -> Value:
        """a * b"""
        kind = type(other)
        if kind is Value or (kind is not float and isinstance(other, Value)):
            return _result(self.data * other.data, _rule, self, other)
        c = other if kind is float else _as_float(other, "*")
        return _result(self.data * c, _scale_rules[c], self)

    @_named("/", lambda g, out, need, a, b: (_div_any(g, b), -g * _div_any(out, b)))
    def _div_rule(out: Value) -> None:
        """d(a / b): da = g / b, db = -g (a / b) / b"""
        a, b, g = out._a, out._b, out.grad
        a.grad += _div(g, b.data)
        b.grad -= g * _div(out.data, b.data)

    def _div_number_rule(c: float) -> Callable:
        """d(a / c), c a number: da = g / c"""
        @_named("/", lambda g, out, need, a: (_div_any(g, c),))
        def rule(out: Value) -> None:
            out._a.grad += _div(out.grad, c)
        return rule

    def __truediv__(self, other: Value | Number, _rule: Callable = _div_rule,
                    _div_rules: dict = _RulesByNumber(_div_number_rule)) -> Value:
        """a / b: a primitive, not a * b**-1, so that 49 / 49 is exactly 1"""
        kind = type(other)
        if kind is Value or (kind is not float and isinstance(other, Value)):
            return _result(_div(self.data, other.data), _rule, self, other)
        c = other if kind is float else _as_float(other, "/")
        return _result(_div(self.data, c), _div_rules[c], self)

    def _pow_vjp(g: Any, out: Any, need: list, a: Any, b: Any) -> tuple:
        """_pow_rule's vjp form"""
        da = g * (b * _pow_any(a, b - 1)) if _f(b) != 0 else 0.0  # (a zero that reaches a,
        # as the in-place rule's untouched grad does: not g * 0, which is nan at an infinite g)
        db = g * (0.0 if _f(a) == 0 and _f(b) >= 0 else out * _log_any(a))
        return da, db

    @_named("**", _pow_vjp)
    def _pow_rule(out: Value) -> None:
        """d(a ** b): da = b a**(b-1) g, none where b == 0; db = a**b ln(a) g, 0 where
        a == 0 <= b (0 ** p is 0 for every p > 0)"""
        a, b, g = out._a, out._b, out.grad
        if b.data != 0:
            a.grad += g * (b.data * _pow(a.data, b.data - 1))
        flat = a.data == 0 and b.data >= 0
        b.grad += g * (0.0 if flat else out.data * _log(a.data))

    def _power_rule(p: float) -> Callable:
        """d(a ** p), p a number: da = p a**(p-1) g; none for p == 0, where a ** 0 is the
        constant 1"""
        @_named(f"**{p:g}",
                lambda g, out, need, a: (g * (p * _pow_any(a, p - 1, True)) if p else 0.0,))
        def rule(out: Value) -> None:
            if p != 0:
                out._a.grad += out.grad * (p * _pow_number(out._a.data, p - 1))
        return rule

    def __pow__(self, other: Value | Number, _rule: Callable = _pow_rule,
                _power_rules: dict = _RulesByNumber(_power_rule)) -> Value:
        """a ** b, b a number (the usual case: x ** 2) or a Value"""
        kind = type(other)
        if kind is float or not isinstance(other, Value):
            p = other if kind is float else _as_float(other, "**")
            return _result(_pow_number(self.data, p), _power_rules[p], self)
        return _result(_pow(self.data, other.data), _rule, self, other)

    @_named("exp", lambda g, out, need, a: (g * out,))
    def _exp_rule(out: Value) -> None:
        """d(e ** a): da = e**a g"""
        out._a.grad += out.grad * out.data

    def exp(self, _rule: Callable = _exp_rule) -> Value:
        """e ** a"""
        try:
            e = math.exp(self.data)
        except OverflowError:
            e = math.inf
        return _result(e, _rule, self)

    @_named("log", lambda g, out, need, a: (_div_any(g, a),))
    def _log_rule(out: Value) -> None:
        """d(ln a): da = g / a"""
        out._a.grad += _div(out.grad, out._a.data)

    def log(self, _rule: Callable = _log_rule) -> Value:
        """ln a"""
        return _result(_log(self.data), _rule, self)

    @_named("tanh", lambda g, out, need, a: (g * (1.0 - out * out),))
    def _tanh_rule(out: Value) -> None:
        """d(tanh a): da = (1 - tanh(a)**2) g"""
        t = out.data
        out._a.grad += out.grad * (1.0 - t * t)

    def tanh(self, _rule: Callable = _tanh_rule) -> Value:
        """tanh a"""
        return _result(math.tanh(self.data), _rule, self)

    @_named("sigmoid", lambda g, out, need, a: (g * ((1.0 - out) * out),))
    def _sigmoid_rule(out: Value) -> None:
        """d(sigmoid a): da = s (1 - s) g"""
        s = out.data
        out._a.grad += out.grad * ((1.0 - s) * s)

    def sigmoid(self, _rule: Callable = _sigmoid_rule) -> Value:
        """1 / (1 + e**-a), from e**-|a| so that exp cannot overflow"""
        x = self.data
        e = math.exp(-abs(x)) if x == x else math.nan
        return _result((1.0 if x >= 0 else e) / (1.0 + e), _rule, self)

    @_named("relu", lambda g, out, need, a: (0.0 if _f(a) <= 0 else g,))
    def _relu_rule(out: Value) -> None:
        """d(max(a, 0)): da = g where a > 0 (or nan), none at all where a <= 0, as in PyTorch"""
        if not out._a.data <= 0:
            out._a.grad += out.grad

    def relu(self, _rule: Callable = _relu_rule) -> Value:
        """max(a, 0)"""
        x = self.data
        return _result(0.0 if x <= 0 else x, _rule, self)

    @_named("abs", lambda g, out, need, a: (g * _sign(_f(a)),))
    def _abs_rule(out: Value) -> None:
        """d|a|: da = sign(a) g, sign(0) = 0 (so 0 times an infinite g is nan, as in PyTorch)"""
        out._a.grad += out.grad * _sign(out._a.data)

    def abs(self, _rule: Callable = _abs_rule) -> Value:
        """|a|"""
        return _result(abs(self.data), _rule, self)

    @_named("sqrt", lambda g, out, need, a: (_div_any(g, 2.0 * out),))
    def _sqrt_rule(out: Value) -> None:
        """d(sqrt a): da = g / (2 sqrt(a))"""
        out._a.grad += _div(out.grad, 2.0 * out.data)

    def sqrt(self, _rule: Callable = _sqrt_rule) -> Value:
        """square root of a (nan below 0, including -inf)"""
        x = self.data
        return _result(math.sqrt(x) if x >= 0 else math.nan, _rule, self)

    # --- composites: built from the primitives, so they need no rule of their own ---

    def __neg__(self) -> Value:  # -a
        return self * -1.0

    __radd__ = __add__  # n + a is a + n, to the last bit

    def __sub__(self, other: Value | Number) -> Value:  # a - b
        kind = type(other)
        if kind is Value or (kind is not float and isinstance(other, Value)):
            return self + -other
        return self + -(other if kind is float else _as_float(other, "-"))

    def __rsub__(self, other: Number) -> Value:  # n - a
        return -self + other

    __rmul__ = __mul__  # n * a is a * n, to the last bit

    def __rtruediv__(self, other: Number) -> Value:  # n / a
        return Value(_as_float(other, "/")) / self

    def __rpow__(self, other: Number) -> Value:  # n ** a
        return Value(_as_float(other, "**")) ** self

    def __abs__(self) -> Value:  # abs(a)
        return self.abs()

    # --- the rest of the node's life ---

    def backward(self, create_graph: bool = False, retain_graph: bool | None = None) -> None:
        """Fill `.grad` of every node this one depends on with d self / d node.

        Leaves accumulate across calls, as in PyTorch; interior nodes start afresh. With
        `create_graph=True` every gradient is a Value with a graph of its own (d self / d x
        as an expression of x), so it can be differentiated again; the rules' `vjp` forms
        build it. `retain_graph` is accepted for PyTorch's sake: a Value graph is never
        released.
        """
        if self._a is None and self._rule is not None:
            raise RuntimeError(
                f"backward() on a Value made by {self._op!r} with no graph behind it: it was "
                "computed while graph recording was off (inside no_grad()), so no gradient "
                "can reach its inputs. Compute it outside no_grad() (engine.is_grad_enabled() "
                "tells).")
        if not create_graph:
            graph.backward_in_place(self, 1.0)
            return
        with graph._values_lock:  # interior grads start afresh, as in backward_in_place
            order = graph._order([self])
            for node in order:
                node.grad = 0.0
            graph.run_backward([self], [Value(1.0)], create_graph=True, retain_graph=retain_graph)
            for node in order:  # where no gradient came (relu at 0, 0 ** p), a constant Value
                for n in (node, *node._prev):
                    if type(n.grad) is not Value:
                        n.grad = Value(n.grad)

    # --- what the general backward driver asks of a node (engine/graph.py) ---

    def _vjp(self) -> Callable:
        vjp = self._rule.vjp
        if vjp is None:
            raise RuntimeError(f"a {self._op!r} node has a rule written by hand (`_backward = "
                               "fn`), which can only run in place: engine.grad() and "
                               "create_graph=True need the engine's own ops")
        return vjp

    @staticmethod
    def _fit(g: Any) -> Any:
        return g

    def _accumulate(self, g: Any, handed: set, retained: bool = False) -> None:
        """Interior nodes take g (each is reached once a pass); leaves add it to `.grad`
        (the caller holds graph._leaf_lock)."""
        old = self.grad
        fresh = retained or (type(old) is float and old == 0 and type(g) is Value)
        self.grad = g if fresh else old + g  # a graph gradient without a `0 +` node

    def _seed(self, gradient: Any, create_graph: bool, what: str) -> Any:
        seed = 1.0 if gradient is None else gradient if type(gradient) is Value else _as_float(
            gradient, what)
        if create_graph:
            return seed if type(seed) is Value else Value(seed)
        return _f(seed)

    @staticmethod
    def _grad_value(g: Any, create_graph: bool, handed: set) -> Any:
        """What engine.grad returns: a float, or a Value under create_graph (also where the
        gradient is a constant 0: see run_backward)."""
        if create_graph:
            return g if type(g) is Value else Value(g)
        return float(g)

    def item(self) -> float:
        return self.data

    def __float__(self) -> float:
        return float(self.data)

    # comparisons look at data only, so max(values) and sorted(values) work; == stays
    # identity, as nodes are kept in sets
    def __lt__(self, other: Value | Number) -> bool:
        return self.data < (other.data if isinstance(other, Value) else other)

    def __le__(self, other: Value | Number) -> bool:
        return self.data <= (other.data if isinstance(other, Value) else other)

    def __gt__(self, other: Value | Number) -> bool:
        return self.data > (other.data if isinstance(other, Value) else other)

    def __ge__(self, other: Value | Number) -> bool:
        return self.data >= (other.data if isinstance(other, Value) else other)

    def __repr__(self) -> str:
        label = f", label={self.label!r}" if self.label else ""
        return f"Value(data={self.data:.6g}, grad={self.grad:.6g}{label})"
