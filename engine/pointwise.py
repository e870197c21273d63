"""More of PyTorch's entry-by-entry ops (engine/elementwise.py holds the common ones):
logaddexp, logaddexp2, hypot, fmax, fmin, nextafter, float_power, ldexp, frexp, deg2rad,
rad2deg, sgn, fix and positive; and the tests and steps that record no graph: heaviside,
signbit, isneginf, isposinf, isreal, isin.

Each is both the Tensor method and PyTorch's function; where PyTorch has an in-place form
(`hypot_`, `ldexp_`, ...), so does Tensor. The two-operand ops broadcast and promote as
PyTorch's do; those PyTorch computes only in floats refuse int and bool tensors, as there.
"""
from __future__ import annotations

import math
from collections import namedtuple
from typing import Any

import numpy as np

from engine import elementwise  # (the module: it may still be loading when this one is)
from engine.dtypes import as_array
from engine.tensor import (_IEEE, Operand, Tensor, _called, _cast_to, _check_broadcast, _exp,
                           _floating, _leaf, _node, _operands, _raw, _where, _zeros)
from engine.in_place_forms import in_place_form

frexp_result = namedtuple("frexp", ["mantissa", "exponent"])  # torch.return_types.frexp


def _float_operands(op: str, input: Operand, other: Operand) -> tuple[Tensor, Tensor]:
    """The two operands, promoted and broadcastable, for an op PyTorch computes only in
    floats (a TypeError for ints and bools, whose kernels PyTorch does not have)."""
    a, b = _operands(op, input, other)
    if a._data.dtype.kind != "f":
        raise TypeError(f"{op} takes float tensors, got {a._data.dtype} (convert with .float())")
    _check_broadcast(op, a._data.shape, b._data.shape)
    return a, b


def logaddexp(input: Tensor, other: Operand) -> Tensor:
    """ln(e**a + e**b), without overflow; da = g / (1 + exp(b - a)), db = g / (1 + exp(a - b))."""
    a, b = _float_operands("logaddexp", input, other)

    def rule(g: Any, out: Any, need: list, a: Any, b: Any) -> tuple:
        with np.errstate(**_IEEE):
            return (g / (1 + _exp(b - a)) if need[0] else None,
                    g / (1 + _exp(a - b)) if need[1] else None)
    with np.errstate(**_IEEE):
        return _node(np.logaddexp(a._data, b._data), "logaddexp", rule, a, b)


def logaddexp2(input: Tensor, other: Operand) -> Tensor:
    """log2(2**a + 2**b), without overflow; da = g / (1 + 2 ** (b - a)), db = g / (1 + 2 **
    (a - b))."""
    a, b = _float_operands("logaddexp2", input, other)

    def rule(g: Any, out: Any, need: list, a: Any, b: Any) -> tuple:
        with np.errstate(**_IEEE):
            return (g / (1 + 2 ** (b - a)) if need[0] else None,
                    g / (1 + 2 ** (a - b)) if need[1] else None)
    with np.errstate(**_IEEE):
        return _node(np.logaddexp2(a._data, b._data), "logaddexp2", rule, a, b)


def hypot(input: Tensor, other: Operand) -> Tensor:
    """sqrt(a**2 + b**2), without overflow; da = g a / t, db = g b / t (nan where t is 0,
    as PyTorch's)."""
    a, b = _float_operands("hypot", input, other)

    def rule(g: Any, out: Any, need: list, a: Any, b: Any) -> tuple:
        with np.errstate(**_IEEE):
            return (g * a / out if need[0] else None, g * b / out if need[1] else None)
    return _node(np.hypot(a._data, b._data), "hypot", rule, a, b)


def _fpick(input: Tensor, other: Operand, larger: bool) -> Tensor:
    """fmax or fmin, t: numpy's, which take the number where the other is nan; da = g where
    a == t or b != b, db = g where a != t and b == t (a tie, or two nans, send g to a, as
    PyTorch's)."""
    op = "fmax" if larger else "fmin"
    a, b = _operands(op, input, other)
    _check_broadcast(op, a._data.shape, b._data.shape)

    def rule(g: Any, out: Any, need: list, a: Any, b: Any) -> tuple:
        picks_a = (_raw(a) == _raw(out)) | np.isnan(_raw(b))
        return (_where(picks_a, g, 0) if need[0] else None,
                _where(picks_a, 0, g) if need[1] else None)
    return _node((np.fmax if larger else np.fmin)(a._data, b._data), op, rule, a, b)


def fmax(input: Tensor, other: Operand) -> Tensor:
    """The larger of a and b entry by entry, the number where one of them is nan (nan only
    where both are), as torch.fmax; the gradient goes to the one picked (to a at a tie)."""
    return _fpick(input, other, larger=True)


def fmin(input: Tensor, other: Operand) -> Tensor:
    """The smaller of a and b entry by entry, the number where one of them is nan (nan only
    where both are), as torch.fmin; the gradient goes to the one picked (to a at a tie)."""
    return _fpick(input, other, larger=False)


def nextafter(input: Tensor, other: Operand) -> Tensor:
    """The next float after a in the direction of b (a itself where a == b); da = g where
    a != b, db = 0 (PyTorch's: the step is one unit in the last place)."""
    a, b = _float_operands("nextafter", input, other)

    def rule(g: Any, out: Any, need: list, a: Any, b: Any) -> tuple:
        return (_where(_raw(a) != _raw(b), g, 0) if need[0] else None,
                _zeros(g, b) if need[1] else None)
    return _node(np.nextafter(a._data, b._data), "nextafter", rule, a, b)


def float_power(input: Operand, exponent: Operand) -> Tensor:
    """input ** exponent computed in float64 whatever the operands' dtypes, as
    torch.float_power (the gradient returns to each operand in its own dtype)."""
    base = _cast_to(input if isinstance(input, Tensor) else Tensor(input), np.dtype(np.float64))
    if not isinstance(exponent, Tensor):
        return base ** float(as_array(exponent, what="float_power exponent"))
    out = base ** _cast_to(exponent, np.dtype(np.float64))
    return _called(out, "pow_tensors" if isinstance(input, Tensor) else "pow_number_base")


def _float_power_(self: Tensor, exponent: Operand) -> Tensor:
    """float_power, written into this float64 tensor in place (PyTorch refuses any other
    dtype, since the result is float64)."""
    if self._data.dtype != np.float64:
        raise TypeError(f"float_power_: the base is {self._data.dtype} but the result is "
                        "float64; call it on a float64 tensor (t.double()), or use float_power")
    return self._in_place(float_power, exponent, "float_power_")


def ldexp(input: Tensor, other: Operand) -> Tensor:
    """input * 2 ** other, in the float dtype the two promote to (ints become the default
    float), as torch.ldexp."""
    x, exponent = _operands("ldexp", input, other, floating=True)
    return _called(x * 2.0 ** exponent, "ldexp")


def frexp(input: Tensor) -> frexp_result:
    """(mantissa, exponent) with input = mantissa * 2 ** exponent, |mantissa| in [0.5, 1)
    (0, inf and nan as they are, with exponent 0), the exponent int32, as torch.frexp; the
    mantissa's gradient is g / 2 ** exponent."""
    x = input._data
    if x.dtype.kind != "f":
        raise TypeError(f"frexp takes a float tensor, got {x.dtype} (convert with .float())")
    _, exponent = np.frexp(x)
    scale = np.ldexp(np.ones((), x.dtype), exponent)  # an exact power of 2: so is the quotient
    return frexp_result(_called(input / scale, "frexp"), _leaf(exponent.astype(np.int32)))


def deg2rad(input: Tensor) -> Tensor:
    """Degrees as radians: input * pi / 180 (ints as the default float), as torch.deg2rad."""
    return _called(_floating(input) * (math.pi / 180), "deg2rad")


def rad2deg(input: Tensor) -> Tensor:
    """Radians as degrees: input * 180 / pi (ints as the default float), as torch.rad2deg."""
    return _called(_floating(input) * (180 / math.pi), "rad2deg")


def sgn(input: Tensor) -> Tensor:
    """sign, PyTorch's name that also covers complex numbers (here: real ones only)."""
    return _called(elementwise.sign(input), "sgn")


def fix(input: Tensor) -> Tensor:
    """trunc, by its numpy name, as torch.fix."""
    return elementwise.trunc(input)


def positive(input: Tensor) -> Tensor:
    """The tensor itself, as torch.positive (+t); a bool tensor is refused, as there."""
    if input._data.dtype == np.bool_:
        raise TypeError("positive (+) of a bool tensor is not defined, as in PyTorch; convert it "
                        "first (t.int(), t.float())")
    return input


# --- tests and steps: outside the graph ---

def heaviside(input: Tensor, values: Tensor) -> Tensor:
    """0 where input < 0, 1 where input > 0, `values` where it is 0 (and 0 at nan), as
    torch.heaviside; the two must have one dtype. PyTorch has no gradient for it; here the
    result is a plain tensor outside the graph."""
    x, v = _raw(input), np.asarray(_raw(values))
    if not isinstance(values, Tensor):
        raise TypeError(f"heaviside(): values must be a Tensor, got {type(values).__name__}")
    if x.dtype != v.dtype:
        raise TypeError(f"heaviside(): input is {x.dtype} but values is {v.dtype}; they must "
                        "match, as in PyTorch")
    _check_broadcast("heaviside", x.shape, v.shape)
    return _leaf(np.where(x == 0, v, (x > 0).astype(x.dtype)))


def signbit(input: Tensor) -> Tensor:
    """Where the sign bit is set (-0.0 and negative nan included), as a bool Tensor."""
    x = input._data
    return _leaf(np.signbit(x) if x.dtype.kind == "f" else x < 0 if x.dtype.kind == "i"
                 else np.zeros(x.shape, bool))


def isneginf(input: Tensor) -> Tensor:
    """Where input is -inf, as a bool Tensor."""
    return _leaf(input._data == -np.inf)


def isposinf(input: Tensor) -> Tensor:
    """Where input is inf, as a bool Tensor."""
    return _leaf(input._data == np.inf)


def isreal(input: Tensor) -> Tensor:
    """Where input is real: everywhere (this engine has no complex tensors)."""
    return _leaf(np.ones(input._data.shape, bool))


def isin(elements: Any, test_elements: Any, *, assume_unique: bool = False,
         invert: bool = False) -> Tensor:
    """Where each of elements occurs among test_elements (either may be a number, not
    both; nan occurs nowhere), as a bool Tensor of elements' shape, as torch.isin."""
    if not isinstance(elements, Tensor) and not isinstance(test_elements, Tensor):
        raise TypeError("isin() takes a Tensor as elements or as test_elements (or both), got "
                        f"{type(elements).__name__} and {type(test_elements).__name__}")
    values = as_array(_raw(elements), what="isin elements")
    tests = as_array(_raw(test_elements), what="isin test_elements")
    return _leaf(np.isin(values, tests, assume_unique=assume_unique, invert=invert))


_COMPUTED = (logaddexp, logaddexp2, hypot, fmax, fmin, nextafter, float_power, ldexp, frexp,
             deg2rad, rad2deg, sgn, fix, positive, heaviside, signbit, isneginf, isposinf,
             isreal)
for _op in _COMPUTED:
    setattr(Tensor, _op.__name__, _op)
for _op in (deg2rad, rad2deg, sgn, fix, hypot, nextafter, ldexp, heaviside):  # PyTorch's
    setattr(Tensor, f"{_op.__name__}_", in_place_form(_op))  # in-place forms
Tensor.float_power_ = _float_power_
__all__ = [op.__name__ for op in _COMPUTED] + ["isin"]
