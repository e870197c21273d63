"""Value: one float, the nodes it came from, and how to send its gradient back to them.

Every op below computes its result and, right beside it, the local derivative as a
function `_backward(g, *parents)` that receives the result's gradient `g` and adds the
chain-rule share into each parent's `.grad`.

Domain edges follow IEEE 754, as numpy and PyTorch do, in value and in gradient:
`log(0)` is -inf, `log(-1)`, `sqrt(-1)` and `(-8) ** 0.5` are nan, `1 / 0` and `0 ** -1`
are inf, `exp(1000)` is inf. Nothing raises for a number that is merely out of domain.
"""
from __future__ import annotations

import math
import numbers
from typing import Callable, Union

from engine import graph

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
    """x ** p with IEEE results where Python would raise or return a complex number."""
    try:
        r = x ** p
    except ZeroDivisionError:  # 0 ** negative
        return math.copysign(math.inf, x) if p % 2 == 1 else math.inf
    except OverflowError:
        return math.copysign(math.inf, x) if x < 0 and p % 2 == 1 else math.inf
    return math.nan if type(r) is complex else r


def _dpow(x: float, p: float) -> float:
    """d(x ** p)/dx = p x**(p-1); 0 for p == 0, where x**0 is the constant 1 (even at x = 0)."""
    return p * _pow(x, p - 1) if p != 0 else 0.0


def _log(x: float) -> float:
    """Natural log with IEEE results: -inf at 0, nan below."""
    if x > 0:
        return math.log(x)
    return -math.inf if x == 0 else math.nan


class Value:
    """A scalar node of the computation graph: `data`, `grad` and how it was made."""

    __slots__ = ("data", "grad", "label", "_prev", "_op", "_backward")

    def __init__(self, data: Number, label: str = "", _prev: tuple = (), _op: str = "",
                 _backward: Callable | None = None) -> None:
        self.data = data if type(data) is float else _as_float(data)
        self.grad = 0.0
        self.label = label
        self._prev = _prev
        self._op = _op
        self._backward = _backward

    @staticmethod
    def _result(data: float, parents: tuple, op: str, backward: Callable) -> Value:
        """The node for an op's result; outside no_grad it remembers parents and derivative."""
        if graph._GradMode.enabled:
            return Value(data, "", parents, op, backward)
        return Value(data)

    # --- primitives: each computes its value and defines its derivative right below ---

    def __add__(self, other: Value | Number) -> Value:
        """a + b; da = g, db = g."""
        if not isinstance(other, Value):
            c = _as_float(other, "+")

            def _backward(g: float, a: Value) -> None:
                a.grad += g
            return Value._result(self.data + c, (self,), "+", _backward)

        def _backward(g: float, a: Value, b: Value) -> None:
            a.grad += g
            b.grad += g
        return Value._result(self.data + other.data, (self, other), "+", _backward)

    def __mul__(self, other: Value | Number) -> Value:
        """a * b; da = b g, db = a g."""
        if not isinstance(other, Value):
            c = _as_float(other, "*")

            def _backward(g: float, a: Value) -> None:
                a.grad += c * g
            return Value._result(self.data * c, (self,), "*", _backward)

        def _backward(g: float, a: Value, b: Value) -> None:
            a.grad += b.data * g
            b.grad += a.data * g
        return Value._result(self.data * other.data, (self, other), "*", _backward)

    def __pow__(self, other: Value | Number) -> Value:
        """a ** p; da = p a**(p-1) g, and for a Value exponent dp = a**p ln(a) g."""
        if not isinstance(other, Value):
            p = _as_float(other, "**")

            def _backward(g: float, a: Value) -> None:
                a.grad += _dpow(a.data, p) * g
            return Value._result(_pow(self.data, p), (self,), f"**{p:g}", _backward)

        out_data = _pow(self.data, other.data)

        def _backward(g: float, a: Value, b: Value) -> None:
            a.grad += _dpow(a.data, b.data) * g
            # 0 ** p is 0 for every p > 0, so its slope in p is 0, not 0 * ln(0) = nan
            b.grad += (out_data * _log(a.data) if a.data != 0 else 0.0) * g
        return Value._result(out_data, (self, other), "**", _backward)

    def exp(self) -> Value:
        """e**a; da = e**a g."""
        try:
            out_data = math.exp(self.data)
        except OverflowError:
            out_data = math.inf

        def _backward(g: float, a: Value) -> None:
            a.grad += out_data * g
        return Value._result(out_data, (self,), "exp", _backward)

    def log(self) -> Value:
        """ln a; da = g / a."""
        def _backward(g: float, a: Value) -> None:
            a.grad += _pow(a.data, -1.0) * g
        return Value._result(_log(self.data), (self,), "log", _backward)

    def tanh(self) -> Value:
        """tanh a; da = (1 - tanh(a)**2) g."""
        t = math.tanh(self.data)

        def _backward(g: float, a: Value) -> None:
            a.grad += (1.0 - t * t) * g
        return Value._result(t, (self,), "tanh", _backward)

    def relu(self) -> Value:
        """max(a, 0); da = g where a > 0, else 0 (also at the kink, as in PyTorch)."""
        def _backward(g: float, a: Value) -> None:
            if a.data > 0:
                a.grad += g
        return Value._result(0.0 if self.data <= 0 else self.data, (self,), "relu", _backward)

    def abs(self) -> Value:
        """|a|; da = sign(a) g, with sign(0) = 0 as in PyTorch."""
        def _backward(g: float, a: Value) -> None:
            if a.data > 0:
                a.grad += g
            elif a.data < 0:
                a.grad -= g
        return Value._result(abs(self.data), (self,), "abs", _backward)

    # --- composites: built from the primitives, so they need no derivative code ---

    def __neg__(self) -> Value:  # -a
        return self * -1.0

    def __radd__(self, other: Number) -> Value:  # n + a
        return self + other

    def __sub__(self, other: Value | Number) -> Value:  # a - b
        return self + (-other if isinstance(other, Value) else -_as_float(other, "-"))

    def __rsub__(self, other: Number) -> Value:  # n - a
        return (-self) + other

    def __rmul__(self, other: Number) -> Value:  # n * a
        return self * other

    def __truediv__(self, other: Value | Number) -> Value:  # a / b
        if isinstance(other, Value):
            return self * other ** -1.0
        return self * _pow(_as_float(other, "/"), -1.0)

    def __rtruediv__(self, other: Number) -> Value:  # n / a
        return self ** -1.0 * other

    def __rpow__(self, other: Number) -> Value:  # n ** a
        return Value(_as_float(other, "**")) ** self

    def sqrt(self) -> Value:
        """sqrt(a) = a ** 0.5."""
        return self ** 0.5

    def sigmoid(self) -> Value:
        """1 / (1 + e**-a), in the form whose exp cannot overflow."""
        if self.data >= 0:
            return 1.0 / (1.0 + (-self).exp())
        e = self.exp()
        return e / (1.0 + e)

    # --- the rest of the node's life ---

    def backward(self) -> None:
        """Fill `.grad` of every node this one depends on (d self / d node); leaves accumulate."""
        graph.backward(self, 1.0, 0.0)

    def item(self) -> float:
        return self.data

    def __float__(self) -> float:
        return self.data

    def __repr__(self) -> str:
        label = f", label={self.label!r}" if self.label else ""
        return f"Value(data={self.data:.6g}, grad={self.grad:.6g}{label})"
