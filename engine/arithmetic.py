"""PyTorch's arithmetic by name: add, sub, mul, div (with its rounding modes), true_divide,
floor_divide, remainder and fmod (also as `%` and `//`), pow (and `**`, PyTorch's powers
as its kernels compute them), matmul, clone, detach, the logical functions and nan_to_num.

Most are the Tensor operators under PyTorch's function names; the rounded quotients,
remainder and fmod are primitives (their rule is below each); the logical functions give
bool masks, outside the graph, as the comparisons do.
"""
from __future__ import annotations

from typing import Any

import numpy as np

# a module, not names: engine/tensor.py imports this file while elementwise may be loading
from engine import elementwise
from engine.tensor import (_A, _B, _IEEE, _OUT, Operand, Tensor, _as_tensor, _check_broadcast,
                           _elementwise, _leaf, _log, _node, _number_kind, _operands, _raw,
                           _saves, _where, _zeros, add_methods)
from engine.in_place_forms import in_place_form


def add(input: Operand, other: Operand, *, alpha: float = 1) -> Tensor:
    """input + alpha * other, as torch.add."""
    return _as_tensor(input).add(other, alpha)


def sub(input: Operand, other: Operand, *, alpha: float = 1) -> Tensor:
    """input - alpha * other, as torch.sub."""
    return _as_tensor(input).sub(other, alpha)


def rsub(input: Operand, other: Operand, *, alpha: float = 1) -> Tensor:
    """other - alpha * input, as torch.rsub (sub with its operands swapped)."""
    return _as_tensor(other).sub(input, alpha)


def mul(input: Operand, other: Operand) -> Tensor:
    return _as_tensor(input) * other


class IntegerDivisionByZero(RuntimeError, ZeroDivisionError):
    """An int tensor divided by 0: PyTorch raises a RuntimeError, Python a ZeroDivisionError;
    this is both, so code catching either sees it."""


def _int_quotient(x: np.ndarray, y: np.ndarray, rounding_mode: str) -> np.ndarray:
    """x / y rounded as asked, for int arrays (exactly, without going through floats)."""
    if (y == 0).any():
        raise IntegerDivisionByZero(f"div(rounding_mode={rounding_mode!r}): integer division by "
                                "zero (divide floats to get inf or nan)")
    q = np.floor_divide(x, y)
    if rounding_mode == "trunc":  # floor is one below trunc where the quotient is negative
        q = q + ((q < 0) & (q * y != x))  # and not whole
    return q.astype(np.result_type(x, y), copy=False)


def div(input: Operand, other: Operand, *, rounding_mode: str | None = None) -> Tensor:
    """input / other, or with rounding_mode 'trunc' (towards 0) or 'floor' (down, as
    Python's //) the quotient rounded, int dtypes kept; da = 0, db = 0 (rounded)."""
    if rounding_mode is None:
        return _as_tensor(input) / other
    if rounding_mode not in ("trunc", "floor"):
        raise ValueError(f"div: rounding_mode must be None, 'trunc' or 'floor', "
                         f"not {rounding_mode!r}")
    a, b = _operands("div", input, other)
    _check_broadcast("div", a._data.shape, b._data.shape)
    if a._data.dtype.kind != "f":
        return _leaf(_int_quotient(a._data, b._data, rounding_mode))
    with np.errstate(**_IEEE):
        data = (np.floor_divide(a._data, b._data) if rounding_mode == "floor"
                else np.trunc(a._data / b._data))

    def rule(g: Any, out: Any, need: list, a: Any, b: Any) -> tuple:
        return (_zeros(g, g) if need[0] else None), (_zeros(g, g) if need[1] else None)
    return _node(data, "div", rule, a, b)


divide = div


def true_divide(input: Operand, other: Operand) -> Tensor:
    return _as_tensor(input) / other


def floor_divide(input: Operand, other: Operand) -> Tensor:
    """input // other, rounded down (PyTorch's floor_divide, as Python's //)."""
    return div(input, other, rounding_mode="floor")


def _modulo(name: str, fn: Any, rounding: str, quotient: Any, sign: str) -> Any:
    """remainder or fmod: a primitive whose rule is PyTorch's, da = g, db = -g q, with q the
    quotient rounded as the op rounds it (a constant: its own derivative is 0)."""
    doc = f"a mod b, with the sign of {sign}; da = g, db = -g {rounding}(a / b)."

    def op(input: Operand, other: Operand) -> Tensor:
        a, b = _operands(name, input, other)
        _check_broadcast(name, a._data.shape, b._data.shape)
        if a._data.dtype.kind != "f":
            if (b._data == 0).any():
                raise IntegerDivisionByZero(f"{name}: integer division by zero")
            return _leaf(fn(a._data, b._data))
        with np.errstate(**_IEEE):
            data = fn(a._data, b._data)

        def rule(g: Any, out: Any, need: list, a: Any, b: Any) -> tuple:
            with np.errstate(**_IEEE):
                return (g if need[0] else None,
                        -g * quotient(_raw(a), _raw(b)) if need[1] else None)
        rule.__doc__ = doc  # (what viz/rules.py reads: op is not the module's to find)
        return _node(data, name, rule, a, b)
    op.__name__ = op.__qualname__ = name
    op.__doc__ = doc
    return op


def _floored_mod(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """x mod y with y's sign, as PyTorch computes it: C's fmod, moved by y where the signs
    differ (so -0.0 % 2 stays -0.0, which numpy's remainder makes +0.0)."""
    if x.dtype.kind != "f":
        return np.remainder(x, y)
    m = np.fmod(x, y)
    return np.where((m != 0) & ((m < 0) != (y < 0)), m + y, m)


remainder = _modulo("remainder", _floored_mod, "floor", np.floor_divide, "b (Python's %)")
fmod = _modulo("fmod", np.fmod, "trunc", lambda x, y: np.trunc(x / y), "a (C's fmod)")


def _power(x: np.ndarray, p: np.ndarray, number: bool) -> np.ndarray:
    """x ** p as PyTorch computes it. For a number exponent (`number`), ** 0.5 and ** -0.5
    are sqrt and 1 / sqrt ((-inf) ** 0.5 is nan, (-0.0) ** -0.5 is -inf); for a tensor
    exponent, C's pow, which differs from numpy's at (-inf) ** 0.5 (inf) and (-0.0) ** 0.5 (0).
    A float32 or float64 tensor ** 2, 3 or -2 is multiplied out, as PyTorch's kernel
    does: x * x * x rounds twice, so it differs from pow's single rounding in the last bit
    (GELU's x ** 3 in a GPT), and is twenty times faster than numpy's pow."""
    if number and p.ndim == 0 and p.item() in (0.5, -0.5):
        root = np.sqrt(x)
        return root if p.item() > 0 else 1 / root
    if number and p.ndim == 0 and x.dtype in (np.float32, np.float64):
        if p.item() == 2:
            return x * x
        if p.item() == 3:
            return x * x * x
        if p.item() == -2:
            return 1 / (x * x)
    if x.dtype.kind in "iu" and p.dtype.kind in "iu" and (p < 0).any():
        if number:
            raise RuntimeError("Integers to negative integer powers are not allowed.")
        # C's integer power, as PyTorch's: below 0, 1 for 1, -1 or 1 for -1, 0 for the rest
        below = p < 0
        return np.where(below, np.where(x == -1, 1 - 2 * (p & 1), x == 1).astype(x.dtype),
                        np.power(x, np.where(below, 0, p)))
    out = np.power(x, p)
    if number or not (p == 0.5).any():  # the common case, decided cheaply
        return out
    return np.where((p == 0.5) & ((x == -np.inf) | (x == 0)), np.abs(x), out)


def _pow(x: Any, p: Any, number: bool) -> Any:
    """x ** p for arrays or Tensors; `number`: p came from a number (see _power)."""
    if isinstance(x, Tensor) or isinstance(p, Tensor):
        return x ** (_raw(p).item() if number else p)
    return _power(x, p, number)


class _Power:
    """Tensor's ** (a primitive: its rule is below it)."""

    def __pow__(self, other: Operand) -> Tensor:
        """a ** b; da = g b a**(b-1), none where b == 0; db = g a**b ln(a), 0 where a == 0 <= b."""
        number = _number_kind(other) is not None  # PyTorch computes ** 0.5 as sqrt then
        if number and self._data.dtype.kind in "iu" and isinstance(other, int) and other < 0:
            # (before the exponent is cast to the base's dtype: -1 would be uint8's 255)
            raise RuntimeError("Integers to negative integer powers are not allowed.")
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
        out = _node(out, "**", rule, a, b)
        return _saves(out, _A | _B | (_OUT if b.requires_grad else 0))

    def __rpow__(self, other: Operand) -> Tensor:  # n ** a
        b, a = _operands("**", self, other)
        return a ** b

    def pow(self, exponent: Operand) -> Tensor:  # (PyTorch's keyword is `exponent`)
        return self ** exponent


def pow(input: Operand, exponent: Operand) -> Tensor:
    """input ** exponent; either may be a number (torch.pow(2, t) is 2 ** t)."""
    return input ** exponent if isinstance(input, Tensor) else _as_tensor(exponent).__rpow__(input)


def matmul(input: Operand, other: Operand) -> Tensor:
    return _as_tensor(input) @ other


def clone(input: Tensor) -> Tensor:
    return input.clone()


def detach(input: Tensor) -> Tensor:
    return input.detach()


def _logical(name: str, ufunc: np.ufunc) -> Any:
    """PyTorch's logical_and, _or, _xor: nonzero is True, a bool Tensor, no gradient."""
    def op(input: Operand, other: Operand) -> Tensor:
        a, b = _as_tensor(input), _as_tensor(other)
        _check_broadcast(name, a._data.shape, b._data.shape)
        return _leaf(ufunc(a._data, b._data))
    op.__name__ = op.__qualname__ = name
    op.__doc__ = f"{name} of the entries' truth (nonzero is True), as a bool Tensor."
    return op


logical_and = _logical("logical_and", np.logical_and)
logical_or = _logical("logical_or", np.logical_or)
logical_xor = _logical("logical_xor", np.logical_xor)


def logical_not(input: Tensor) -> Tensor:
    """True where an entry is 0, as a bool Tensor."""
    return _leaf(np.logical_not(input._data))


def nan_to_num(input: Tensor, nan: float = 0.0, posinf: float | None = None,
               neginf: float | None = None) -> Tensor:
    """nan, inf and -inf replaced (by 0 and the dtype's largest and smallest by default);
    the gradient passes where the entry was finite, 0 elsewhere, as PyTorch's."""
    x = input._data
    if x.dtype.kind != "f":
        return input.clone()
    filled = np.nan_to_num(x, nan=nan, posinf=posinf, neginf=neginf)
    return elementwise.where(np.isfinite(x), input, _leaf(filled))


def _reflected(op: Any) -> Any:
    def method(self: Tensor, other: Operand) -> Tensor:
        return op(other, self)
    return method


add_methods(Tensor, _Power)
for _op in (true_divide, floor_divide, remainder, fmod, logical_and, logical_or, logical_xor,
            logical_not, nan_to_num):
    setattr(Tensor, _op.__name__, _op)
for _op in (floor_divide, remainder, fmod, nan_to_num):
    setattr(Tensor, f"{_op.__name__}_", in_place_form(_op))
Tensor.div = Tensor.divide = div
Tensor.__mod__, Tensor.__rmod__ = remainder, _reflected(remainder)
Tensor.__floordiv__, Tensor.__rfloordiv__ = floor_divide, _reflected(floor_divide)
# a //= b and a %= b change a in place, as PyTorch's (without them Python would rebind a)
Tensor.__ifloordiv__, Tensor.__imod__ = Tensor.floor_divide_, Tensor.remainder_
__all__ = ["add", "sub", "rsub", "mul", "div", "divide", "true_divide", "floor_divide", "remainder", "fmod",
           "pow", "matmul", "clone", "detach", "logical_and", "logical_or", "logical_xor",
           "logical_not", "nan_to_num"]
