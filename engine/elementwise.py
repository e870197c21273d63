"""Tensor ops entry by entry: exp, log, log10, tanh, sigmoid, relu, abs, sqrt, sin, cos, log1p,
expm1, log2, exp2, tan, sinh, cosh, asin, acos, atan, atan2, erf, erfc, erfinv, sinc, xlogy,
logit, the step functions (sign, floor, ceil, trunc, round), clamp, maximum, minimum, where,
masked_fill, composites of them, and the comparisons (also by PyTorch's names: eq, lt, ...,
isnan, isinf, isfinite).

Each is one function, which is both the Tensor method (`t.exp()`) and PyTorch's function
(`engine.exp(t)`); the rules follow engine/tensor.py's protocol. Ops that only make sense
in floats compute int and bool tensors in the default float dtype, as PyTorch does.
"""
from __future__ import annotations

import math
import numbers
import operator
from typing import Any

import numpy as np

from engine import error_function
from engine.tensor import (_IEEE, Operand, Tensor, _called, _check_broadcast, _elementwise, _exp,
                           _floating, _leaf, _log, _node, _operands, _private, _raw, _saves,
                           _saves_nothing, _OUT, _A, _where,
                           add_methods)
from engine.in_place_forms import in_place_form
from engine.dtypes import as_array

_LN10 = 2.302585092994046  # ln 10, the number PyTorch's log10 gradient divides by
_LN2 = 0.6931471805599453  # ln 2, for log2's and exp2's gradients
_TWO_OVER_SQRT_PI = 1.1283791670955126  # erf's slope at 0
_HALF_SQRT_PI = 0.8862269254527579  # erfinv's slope at 0


def _kept(keep: np.ndarray, g: Any) -> Any:
    """g where `keep`, 0 elsewhere, even where g is nan or inf (PyTorch passes no gradient
    there at all). Multiplying by the mask is several times quicker than np.where; only a
    g that holds nan or inf, which 0 times would spread, needs np.where."""
    return g * keep if np.isfinite(_raw(g)).all() else _where(keep, g, 0)


def exp(input: Tensor) -> Tensor:
    """e**a; da = g e**a."""
    with np.errstate(over="ignore"):
        data = np.exp(_floating(input)._data)

    def rule(g: Any, out: Any, need: list, a: Any) -> tuple:
        return (g * out,)
    return _saves(_node(data, "exp", rule, input), _OUT)


def log(input: Tensor) -> Tensor:
    """ln a; da = g / a."""
    def rule(g: Any, out: Any, need: list, a: Any) -> tuple:
        with np.errstate(**_IEEE):
            return (g / a,)
    with np.errstate(**_IEEE):
        return _saves(_node(np.log(_floating(input)._data), "log", rule, input), _A)


def log10(input: Tensor) -> Tensor:
    """log10 a; da = g / (a ln(10))."""
    def rule(g: Any, out: Any, need: list, a: Any) -> tuple:
        with np.errstate(**_IEEE):
            return (g / (a * _LN10),)
    with np.errstate(**_IEEE):
        return _node(np.log10(_floating(input)._data), "log10", rule, input)


def tanh(input: Tensor) -> Tensor:
    """tanh a; da = g (1 - tanh(a)**2)."""
    def rule(g: Any, out: Any, need: list, a: Any) -> tuple:
        return (g * (1 - out * out),)
    return _saves(_node(np.tanh(_floating(input)._data), "tanh", rule, input), _OUT)


def sigmoid(input: Tensor) -> Tensor:
    """1 / (1 + e**-a), from e**-|a| so it cannot overflow; da = g s (1 - s)."""
    x = _floating(input)._data
    e = np.exp(-np.abs(x))
    s = np.where(x >= 0, 1, e) / (1 + e)

    def rule(g: Any, out: Any, need: list, a: Any) -> tuple:
        return (g * (out * (1 - out)),)
    return _saves(_node(s.astype(x.dtype, copy=False), "sigmoid", rule, input), _OUT)


def relu(input: Tensor) -> Tensor:
    """max(a, 0); da = g where a > 0 (or nan), none at all where a <= 0 (also at the kink,
    and under a nan g), as in PyTorch and Value."""
    def rule(g: Any, out: Any, need: list, a: Any) -> tuple:
        return (_kept(_raw(out) != 0, g),)  # (max(nan, 0) is nan, which is != 0)
    return _saves(_node(np.maximum(input._data, 0), "relu", rule, input), _OUT)


def abs(input: Tensor) -> Tensor:
    """|a|; da = g sign(a), with torch.sign's 0 at 0 and at nan (so 0 times an infinite g is
    nan, as in PyTorch)."""
    def rule(g: Any, out: Any, need: list, a: Any) -> tuple:
        with np.errstate(invalid="ignore"):
            return (g * _sign(_raw(a)),)
    return _saves(_node(np.abs(input._data), "abs", rule, input), _A)


def _sign(x: np.ndarray) -> np.ndarray:
    """torch.sign: -1, 0 or 1 as x is below, at or above 0, and 0 at nan (numpy's is nan)."""
    return x.copy() if x.dtype == np.bool_ else np.subtract(x > 0, x < 0, dtype=x.dtype)


def sqrt(input: Tensor) -> Tensor:
    """Square root of a (nan below 0, including -inf); da = g / (2 sqrt(a))."""
    def rule(g: Any, out: Any, need: list, a: Any) -> tuple:
        with np.errstate(**_IEEE):
            return (g / (2 * out),)
    with np.errstate(**_IEEE):
        return _saves(_node(np.sqrt(_floating(input)._data), "sqrt", rule, input), _OUT)


def _numpy_or_engine(name: str, x: Any) -> Any:
    """numpy's function `name` of an array; the engine's of a Tensor (under create_graph)."""
    return getattr(x, name)() if isinstance(x, Tensor) else getattr(np, name)(x)


def sin(input: Tensor) -> Tensor:
    """sin a; da = g cos(a)."""
    def rule(g: Any, out: Any, need: list, a: Any) -> tuple:
        return (g * _numpy_or_engine("cos", a),)
    return _node(np.sin(_floating(input)._data), "sin", rule, input)


def cos(input: Tensor) -> Tensor:
    """cos a; da = -g sin(a)."""
    def rule(g: Any, out: Any, need: list, a: Any) -> tuple:
        return (-g * _numpy_or_engine("sin", a),)
    return _node(np.cos(_floating(input)._data), "cos", rule, input)


def log1p(input: Tensor) -> Tensor:
    """ln(1 + a), exact for tiny a; da = g / (1 + a)."""
    def rule(g: Any, out: Any, need: list, a: Any) -> tuple:
        with np.errstate(**_IEEE):
            return (g / (1 + a),)
    with np.errstate(**_IEEE):
        return _node(np.log1p(_floating(input)._data), "log1p", rule, input)


def expm1(input: Tensor) -> Tensor:
    """e**a - 1, exact for tiny a; da = g (t + 1)."""
    def rule(g: Any, out: Any, need: list, a: Any) -> tuple:
        return (g * (out + 1),)
    with np.errstate(over="ignore"):
        return _node(np.expm1(_floating(input)._data), "expm1", rule, input)


def log2(input: Tensor) -> Tensor:
    """log2 a; da = g / (a ln(2))."""
    def rule(g: Any, out: Any, need: list, a: Any) -> tuple:
        with np.errstate(**_IEEE):
            return (g / (a * _LN2),)
    with np.errstate(**_IEEE):
        return _node(np.log2(_floating(input)._data), "log2", rule, input)


def exp2(input: Tensor) -> Tensor:
    """2**a; da = g t ln(2)."""
    def rule(g: Any, out: Any, need: list, a: Any) -> tuple:
        return (g * (out * _LN2),)
    with np.errstate(over="ignore"):
        return _node(np.exp2(_floating(input)._data), "exp2", rule, input)


def tan(input: Tensor) -> Tensor:
    """tan a; da = g (1 + t**2)."""
    def rule(g: Any, out: Any, need: list, a: Any) -> tuple:
        return (g * (1 + out * out),)
    with np.errstate(invalid="ignore"):  # tan(inf) is nan
        return _node(np.tan(_floating(input)._data), "tan", rule, input)


def sinh(input: Tensor) -> Tensor:
    """sinh a; da = g cosh(a)."""
    def rule(g: Any, out: Any, need: list, a: Any) -> tuple:
        with np.errstate(over="ignore"):
            return (g * _numpy_or_engine("cosh", a),)
    with np.errstate(over="ignore"):
        return _node(np.sinh(_floating(input)._data), "sinh", rule, input)


def cosh(input: Tensor) -> Tensor:
    """cosh a; da = g sinh(a)."""
    def rule(g: Any, out: Any, need: list, a: Any) -> tuple:
        with np.errstate(over="ignore"):
            return (g * _numpy_or_engine("sinh", a),)
    with np.errstate(over="ignore"):
        return _node(np.cosh(_floating(input)._data), "cosh", rule, input)


def _one_minus_square_root(a: Any) -> Any:
    """sqrt(1 - a**2): nan outside [-1, 1], 0 at its ends (asin's and acos's slopes are inf)."""
    with np.errstate(invalid="ignore"):
        return _numpy_or_engine("sqrt", 1 - a * a)


def asin(input: Tensor) -> Tensor:
    """arcsin a (nan outside [-1, 1]); da = g / sqrt(1 - a**2)."""
    def rule(g: Any, out: Any, need: list, a: Any) -> tuple:
        with np.errstate(**_IEEE):
            return (g / _one_minus_square_root(a),)
    with np.errstate(invalid="ignore"):
        return _node(np.arcsin(_floating(input)._data), "asin", rule, input)


def acos(input: Tensor) -> Tensor:
    """arccos a (nan outside [-1, 1]); da = -g / sqrt(1 - a**2)."""
    def rule(g: Any, out: Any, need: list, a: Any) -> tuple:
        with np.errstate(**_IEEE):
            return (-g / _one_minus_square_root(a),)
    with np.errstate(invalid="ignore"):
        return _node(np.arccos(_floating(input)._data), "acos", rule, input)


def atan(input: Tensor) -> Tensor:
    """arctan a; da = g / (1 + a**2)."""
    def rule(g: Any, out: Any, need: list, a: Any) -> tuple:
        with np.errstate(over="ignore"):
            return (g / (1 + a * a),)
    return _node(np.arctan(_floating(input)._data), "atan", rule, input)


def atan2(input: Tensor, other: Operand) -> Tensor:
    """The angle of the point (b, a), in [-pi, pi], signed zeros told apart as C's atan2;
    da = g b / (a**2 + b**2), db = -g a / (a**2 + b**2) (both 0 where a**2 + b**2 is 0,
    as PyTorch's)."""
    a, b = _operands("atan2", input, other, floating=True)
    _check_broadcast("atan2", a._data.shape, b._data.shape)

    def rule(g: Any, out: Any, need: list, a: Any, b: Any) -> tuple:
        with np.errstate(**_IEEE):
            r = 1 / (a * a + b * b)
            r = _where(np.isinf(_raw(r)), 0, r)
            return (g * b * r if need[0] else None), (-g * a * r if need[1] else None)
    return _node(np.arctan2(a._data, b._data), "atan2", rule, a, b)


def erf(input: Tensor) -> Tensor:
    """The error function; da = 2 g e**(-a**2) / sqrt(3.141592653589793)."""
    x = _floating(input)._data

    def rule(g: Any, out: Any, need: list, a: Any) -> tuple:
        return (g * (_TWO_OVER_SQRT_PI * _exp(-(a * a))),)
    return _node(error_function.erf(x).astype(x.dtype, copy=False), "erf", rule, input)


def erfc(input: Tensor) -> Tensor:
    """1 - erf(a), without 1 - erf's cancellation for large a; da = -2 g e**(-a**2) /
    sqrt(3.141592653589793)."""
    x = _floating(input)._data

    def rule(g: Any, out: Any, need: list, a: Any) -> tuple:
        return (g * (-_TWO_OVER_SQRT_PI * _exp(-(a * a))),)
    return _node(error_function.erfc(x).astype(x.dtype, copy=False), "erfc", rule, input)


def erfinv(input: Tensor) -> Tensor:
    """erf's inverse, the x with erf(x) = a (+-inf at a = +-1, nan beyond); da = g
    sqrt(3.141592653589793) e**(x**2) / 2."""
    x = _floating(input)._data

    def rule(g: Any, out: Any, need: list, a: Any) -> tuple:
        return (g * (_HALF_SQRT_PI * _exp(out * out)),)
    return _node(error_function.erfinv(x).astype(x.dtype, copy=False), "erfinv", rule, input)


def sinc(input: Tensor) -> Tensor:
    """sin(pi a) / (pi a), 1 at 0; da = g (cos(3.141592653589793 a) - t) / a (0 at 0)."""
    x = _floating(input)._data
    with np.errstate(**_IEEE):
        turned = x * x.dtype.type(math.pi)
        out = np.where(x == 0, 1, np.sin(turned) / turned)

    def rule(g: Any, out: Any, need: list, a: Any) -> tuple:
        with np.errstate(**_IEEE):
            slope = (_numpy_or_engine("cos", a * math.pi) - out) / a
        return (_where(_raw(a) == 0, 0, g * slope),)
    return _node(out, "sinc", rule, input)


def _log1p(x: Any) -> Any:
    return x.log1p() if isinstance(x, Tensor) else np.log1p(x)


def _x_times_log(name: str, log: Any, shift: int, op_name: str) -> Any:
    """xlogy (log = ln, shift 0) or xlog1py (log1p, shift 1): a log(b), 0 where a is 0 (nan
    where b is), as PyTorch's; da = g log(b), 0 where a is 0 and shift + b <= 0 (as
    PyTorch's); db = g a / (shift + b). `log` takes arrays and Tensors alike; `op_name` is
    the node's (xlog1py's grad_fn is PyTorch's SpecialXlog1PyBackward0)."""
    what, base = ("ln(b)", "b") if log is _log else ("log1p(b)", "(1 + b)")
    doc = f"a {what}, 0 where a is 0, as torch.{name}; da = g {what}, db = g a / {base}."

    def op(input: Operand, other: Operand) -> Tensor:
        a, b = _operands(name, input, other, floating=True)
        _check_broadcast(name, a._data.shape, b._data.shape)
        x, y = a._data, b._data
        with np.errstate(**_IEEE):
            out = np.where(np.isnan(y), y, np.where(x == 0, 0, x * log(y)))

        def rule(g: Any, out: Any, need: list, a: Any, b: Any) -> tuple:
            with np.errstate(**_IEEE):
                flat = (_raw(a) == 0) & (_raw(b) <= -shift)
                return (g * _where(flat, 0, log(b)) if need[0] else None,
                        # (b + 0 would turn -0.0 into 0.0, and the sign of a / 0 with it)
                        g * a / (b + shift if shift else b) if need[1] else None)
        rule.__doc__ = doc  # (what viz/rules.py reads: op is not the module's to find)
        return _node(out.astype(x.dtype, copy=False), op_name, rule, a, b)
    op.__name__ = op.__qualname__ = name
    op.__doc__ = doc
    return op


xlogy = _x_times_log("xlogy", _log, 0, "xlogy")
xlog1py = _x_times_log("xlog1py", _log1p, 1, "special_xlog1py")


def logit(input: Tensor, eps: float | None = None) -> Tensor:
    """ln(a / (1 - a)), a first clamped to [eps, 1 - eps] if eps is given, as torch.logit;
    da = g / (a (1 - a)) (nan outside [0, 1], or 0 outside [eps, 1 - eps] when eps is given)."""
    x = _floating(input)._data
    low, high = (0, 1) if eps is None else (eps, 1 - eps)
    z = x if eps is None else np.clip(x, low, high)
    with np.errstate(**_IEEE):
        out = np.log(z / (1 - z))

    def rule(g: Any, out: Any, need: list, a: Any) -> tuple:
        outside = (_raw(a) < low) | (_raw(a) > high)
        with np.errstate(**_IEEE):
            return (_where(outside, math.nan if eps is None else 0, g / (a * (1 - a))),)
    return _node(out, "logit", rule, input)


def _step(fn: Any, name: str, what: str) -> Any:
    """An op whose output moves in steps (sign, floor, ...): its gradient is 0 everywhere,
    even under a nan g, as PyTorch's zeros_like(g)."""
    def op(input: Tensor, **settings: Any) -> Tensor:
        def rule(g: Any, out: Any, need: list, a: Any) -> tuple:
            """da = 0."""
            return (_leaf(np.zeros(g.shape, g.dtype)) if isinstance(g, Tensor) else
                    np.zeros_like(g),)
        return _node(fn(input._data, **settings), name, rule, input)
    op.__name__ = op.__qualname__ = name
    op.__doc__ = f"{what}; da = 0."
    return op


sign = _step(_sign, "sign", "-1, 0 or 1 as a is below, at or above 0 (0 at nan)")
floor = _step(np.floor, "floor", "the largest whole number <= a")
ceil = _step(np.ceil, "ceil", "the smallest whole number >= a")
trunc = _step(np.trunc, "trunc", "a with its fraction dropped (towards 0)")
def _rounded(x: np.ndarray, *, decimals: int = 0) -> np.ndarray:
    """x rounded to `decimals` places (halves to even), as PyTorch's kernel: scaled by
    10**|decimals| in x's dtype, rounded, scaled back."""
    if not decimals:
        return np.round(x)
    if x.dtype.kind != "f":
        raise TypeError(f"round(decimals={decimals}) takes a float tensor, got {x.dtype}, as "
                        "PyTorch's; convert it first (t.float())")
    scale = x.dtype.type(10.0 ** (decimals if decimals > 0 else -decimals))
    with np.errstate(over="ignore"):  # (a large x times the scale: inf, as in PyTorch)
        return np.rint(x * scale) / scale if decimals > 0 else np.rint(x / scale) * scale


round = _step(_rounded, "round", "the nearest whole number (or multiple of 10**-decimals), "
              "halves to even, as PyTorch's")


def clamp(input: Tensor, min: Operand | None = None, max: Operand | None = None) -> Tensor:
    """Entries limited to [min, max]; either bound may be None, a number or a Tensor.

    PyTorch's rule, ties and crossed bounds included: dx = g where min <= x <= max;
    dmin = g where x < min < max; dmax = g where x > max or max < min (crossed bounds make
    every entry max). A bound given as None takes no part in a comparison.
    """
    has_min, has_max = min is not None, max is not None
    if not (has_min or has_max):
        raise TypeError("clamp needs min=, max= or both")
    x, *bounds = _operands("clamp", input, *(b for b in (min, max) if b is not None))
    _check_broadcast("clamp", x._data.shape, *(b._data.shape for b in bounds))
    data = x._data
    if has_min:
        data = np.maximum(data, bounds[0]._data)
    if has_max:
        data = np.minimum(data, bounds[-1]._data)

    def rule(g: Any, out: Any, need: list, x: Any, *bounds: Any) -> tuple:
        x, bounds = _raw(x), [_raw(b) for b in bounds]
        lo = bounds[0] if has_min else -np.inf
        hi = bounds[-1] if has_max else np.inf
        grads = [_kept((x >= lo) & (x <= hi), g) if need[0] else None]
        if has_min:
            below = x < lo
            grads.append(_kept(below & (lo < hi) if has_max else below, g) if need[1] else None)
        if has_max:
            grads.append(_kept((x > hi) | (hi < lo), g) if need[-1] else None)
        return grads
    numbers = not any(isinstance(b, Tensor) for b in (min, max))
    return _saves(_node(data, "clamp" if numbers else "clamp_tensors", rule, x, *bounds), ~_OUT)


def _pick(input: Tensor, other: Operand, larger: bool) -> Tensor:
    """Entrywise larger (or smaller) m of a and b, nan where either is; da = g / 2 where
    a == b, g where a == m; db = g / 2 where a == b, g where b == m (a tie splits g evenly,
    as in PyTorch; where either is nan, both get g)."""
    a, b = _operands("maximum" if larger else "minimum", input, other)
    _check_broadcast("maximum" if larger else "minimum", a._data.shape, b._data.shape)
    pick = np.maximum if larger else np.minimum

    def rule(g: Any, out: Any, need: list, a: Any, b: Any) -> tuple:
        x, y = _raw(a), _raw(b)
        shared = _where(x == y, g * 0.5, g)
        a_loses, b_loses = (x < y, x > y) if larger else (x > y, x < y)
        return (_kept(~a_loses, shared) if need[0] else None,
                _kept(~b_loses, shared) if need[1] else None)
    return _node(pick(a._data, b._data), "maximum" if larger else "minimum", rule, a, b)


def maximum(input: Tensor, other: Operand) -> Tensor:
    """Entrywise larger of a and b (nan where either is); a tie splits g evenly."""
    return _pick(input, other, larger=True)


def minimum(input: Tensor, other: Operand) -> Tensor:
    """Entrywise smaller of a and b (nan where either is); a tie splits g evenly."""
    return _pick(input, other, larger=False)


def _mask(mask: Any, op: str) -> np.ndarray:
    """A bool array from a bool Tensor or array, or a TypeError saying how to make one."""
    array = as_array(_raw(mask), what=f"{op} mask")
    if array.dtype != np.bool_:
        raise TypeError(f"{op} takes a bool mask (e.g. x > 0 or mask == 0), got {array.dtype}")
    return array


def where(condition: Any, input: Operand, other: Operand) -> Tensor:
    """input where condition is True, else other (the three broadcast), as torch.where;
    d input = g where cond, d other = g where not cond (cond: the condition, as bools)."""
    cond = _mask(condition, "where")
    a, b = _operands("where", input, other)
    _check_broadcast("where", cond.shape, a._data.shape, b._data.shape)

    def rule(g: Any, out: Any, need: list, a: Any, b: Any) -> tuple:
        return (_where(cond, g, 0) if need[0] else None,
                _where(cond, 0, g) if need[1] else None)
    out = _saves_nothing(_node(np.where(cond, a._data, b._data), "where", rule, a, b))
    if out._rule is not None:
        cond = _private(cond)
    return out


def root_or_zero(x: Tensor, p: float = 2.0) -> Tensor:
    """x ** (1/p) of x >= 0 (a sum of powers), with gradient 0 where x is 0, as PyTorch's
    norms, std and distances give: the root's slope is infinite there, and 0 * inf is nan.
    The root of 1 is taken in its place, so no infinity reaches the gradient."""
    zero = x._data == 0
    safe = where(zero, 1.0, x)
    return where(zero, 0.0, safe.sqrt() if p == 2 else safe ** (1 / p))


# --- comparisons and logic: outside the graph (their results are masks, not gradients) ---

class _Comparisons:
    """Tensor's comparison and logic operators, added to Tensor below."""

    def _compare(self, other: Operand, ufunc: np.ufunc, op: str) -> Tensor:
        if type(other) in (list, tuple):  # as PyTorch's: t == [1, 0] is False (not equal
            return NotImplemented  # objects), t < [1, 1] a TypeError; not elementwise
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
        if not isinstance(item, (Tensor, numbers.Number, np.bool_)):
            raise RuntimeError(f"Tensor.__contains__ only supports Tensor or scalar, but you "
                               f"passed in a {type(item)} (as PyTorch)")
        return bool((self == item).any())

    def __reversed__(self) -> Tensor:
        """reversed(t): t flipped along dim 0, as PyTorch's (a Tensor, not an iterator)."""
        return self.flip(0) if self._data.ndim else self


# --- composites: built from the ops above, so they need no derivative code ---

def _where_method(self: Tensor, condition: Any, other: Operand) -> Tensor:
    """a where condition is True, else other: PyTorch's `a.where(condition, other)`."""
    return where(condition, self, other)


def masked_fill(input: Tensor, mask: Any, value: Operand) -> Tensor:
    """value where mask is True, else a, in a's dtype; mask broadcasts to a's shape."""
    mask = _mask(mask, "masked_fill")
    try:
        fits = np.broadcast_shapes(mask.shape, input._data.shape) == input._data.shape
    except ValueError:
        fits = False
    if not fits:
        raise ValueError(f"masked_fill: a mask of shape {mask.shape} does not broadcast to "
                         f"the tensor's shape {input._data.shape}")
    if isinstance(value, Tensor):  # a's dtype, as PyTorch's; the cast keeps value's graph
        value = value._cast(input._data.dtype)
    else:
        value = Tensor(as_array(value, input._data.dtype, "masked_fill value"))
    return _called(where(mask, value, input), "masked_fill")


def rsqrt(input: Tensor) -> Tensor:
    """1 / sqrt(a)."""
    return _floating(input) ** -0.5


def clamp_min(input: Tensor, min: Operand) -> Tensor:
    """max(a, min), with clamp's rule: at a tie the gradient passes (relu's does not)."""
    return clamp(input, min=min)


def clamp_max(input: Tensor, max: Operand) -> Tensor:
    """min(a, max), with clamp's rule."""
    return clamp(input, max=max)


def square(input: Tensor) -> Tensor:
    """a ** 2, as PyTorch's (a bool tensor's square is int64; grad_fn PowBackward0)."""
    return input ** 2


def neg(input: Tensor) -> Tensor:
    return -input


def reciprocal(input: Tensor) -> Tensor:
    """1 / a."""
    return 1 / _floating(input)


def lerp(input: Tensor, end: Operand, weight: Operand) -> Tensor:
    """a + weight (end - a), as torch.lerp (an exponential moving average's step)."""
    return input + weight * (end - input)


def isnan(input: Tensor) -> Tensor:
    """Where a is nan, as a bool Tensor."""
    return _leaf(np.isnan(input._data))


def isinf(input: Tensor) -> Tensor:
    """Where a is inf or -inf, as a bool Tensor."""
    return _leaf(np.isinf(input._data))


def isfinite(input: Tensor) -> Tensor:
    """Where a is neither nan nor infinite, as a bool Tensor."""
    return _leaf(np.isfinite(input._data))


def _comparison(name: str, symbol: str, compare: Any) -> Any:
    """PyTorch's named form of a comparison operator: torch.eq(a, b), a.eq(b), ..."""
    def op(input: Tensor, other: Operand) -> Tensor:
        return compare(input, other)
    op.__name__ = op.__qualname__ = name
    op.__doc__ = f"input {symbol} other, entry by entry, as a bool Tensor."
    return op


eq = _comparison("eq", "==", operator.eq)
ne = _comparison("ne", "!=", operator.ne)
lt = _comparison("lt", "<", operator.lt)
le = _comparison("le", "<=", operator.le)
gt = _comparison("gt", ">", operator.gt)
ge = _comparison("ge", ">=", operator.ge)


_COMPUTED = (exp, log, log10, tanh, sigmoid, relu, abs, sqrt, clamp, masked_fill, rsqrt,
             clamp_min, clamp_max, square, neg, sin, cos, log1p, sign, floor, ceil, trunc, round,
             reciprocal, lerp, expm1, log2, exp2, tan, sinh, cosh, asin, acos, atan, atan2, erf,
             erfc, erfinv, sinc, xlogy, logit)
for _op in _COMPUTED + (maximum, minimum, isnan, isinf, isfinite, eq, ne, lt, le, gt, ge):
    setattr(Tensor, _op.__name__, _op)
for _op in _COMPUTED:
    setattr(Tensor, f"{_op.__name__}_", in_place_form(_op))
add_methods(Tensor, _Comparisons)
Tensor.where = _where_method
Tensor.clip = clamp
Tensor.clip_ = Tensor.clamp_
Tensor.negative = neg
Tensor.greater, Tensor.greater_equal, Tensor.less, Tensor.less_equal = gt, ge, lt, le
Tensor.not_equal = ne
arcsin, arccos, arctan, arctan2 = asin, acos, atan, atan2  # PyTorch's numpy-style aliases
for _alias in ("arcsin", "arccos", "arctan", "arctan2"):
    setattr(Tensor, _alias, globals()[_alias])
__all__ = ["exp", "log", "log10", "tanh", "sigmoid", "relu", "abs", "sqrt", "clamp", "maximum",
           "minimum", "where", "masked_fill", "rsqrt", "clamp_min", "clamp_max", "square", "neg",
           "sin", "cos", "log1p", "sign", "floor", "ceil", "trunc", "round", "reciprocal",
           "lerp", "isnan", "isinf", "isfinite", "eq", "ne", "lt", "le", "gt", "ge", "expm1",
           "log2", "exp2", "tan", "sinh", "cosh", "asin", "acos", "atan", "atan2", "erf",
           "erfc", "erfinv", "sinc", "xlogy", "logit", "arcsin", "arccos", "arctan", "arctan2"]
