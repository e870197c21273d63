"""erf, erfc, their inverse erfinv and the standard normal CDF on numpy arrays, which numpy
lacks (GELU needs them), accurate to float64's last bits and without Python loops.

They follow W. J. Cody, "Rational Chebyshev approximations for the error function",
Math. Comp. 23 (1969), as his CALERF routine evaluates them: a rational function of x**2
for |x| <= 0.46875, and for larger |x| erfc(x) = exp(-x**2) R(x) with one rational R up to
4 and another in 1/x**2 beyond. exp(-x**2) is taken as exp(-s**2) exp(-(x - s)(x + s))
with s = x rounded down to 1/16, so that x**2's rounding error is not magnified for large x.
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np

_SMALL = 0.46875  # below it erf itself is approximated, above it erfc
# erf(x) = x A(x**2) / B(x**2) for |x| <= 0.46875, highest power first
_A = (1.85777706184603153e-1, 3.16112374387056560e00, 1.13864154151050156e02,
      3.77485237685302021e02, 3.20937758913846947e03)
_B = (1.0, 2.36012909523441209e01, 2.44024637934444173e02, 1.28261652607737228e03,
      2.84423683343917062e03)
# erfc(x) = exp(-x**2) C(x) / D(x) for 0.46875 < x <= 4
_C = (2.15311535474403846e-8, 5.64188496988670089e-1, 8.88314979438837594e00,
      6.61191906371416295e01, 2.98635138197400131e02, 8.81952221241769090e02,
      1.71204761263407058e03, 2.05107837782607147e03, 1.23033935479799725e03)
_D = (1.0, 1.57449261107098347e01, 1.17693950891312499e02, 5.37181101862009858e02,
      1.62138957456669019e03, 3.29079923573345963e03, 4.36261909014324716e03,
      3.43936767414372164e03, 1.23033935480374942e03)
# erfc(x) = exp(-x**2) (1/sqrt(pi) - z P(z) / Q(z)) / x with z = 1/x**2, for x > 4
_P = (1.63153871373020978e-2, 3.05326634961232344e-1, 3.60344899949804439e-1,
      1.25781726111229246e-1, 1.60837851487422766e-2, 6.58749161529837803e-4)
_Q = (1.0, 2.56852019228982242e00, 1.87295284992346047e00, 5.27905102951428412e-1,
      6.05183413124413191e-2, 2.33520497626869185e-3)


def _ratio(top: tuple, bottom: tuple, x: np.ndarray) -> np.ndarray:
    """top(x) / bottom(x), polynomials given highest power first (Horner's rule, in place)."""
    num, den = np.full_like(x, top[0]), np.full_like(x, bottom[0])
    for a, b in zip(top[1:], bottom[1:]):
        num *= x
        num += a
        den *= x
        den += b
    num /= den
    return num


def _erf_small(x: np.ndarray) -> np.ndarray:
    return x * _ratio(_A, _B, x * x)


def _erfc_large(y: np.ndarray) -> np.ndarray:
    """erfc(y) for y > 0.46875 (nan stays nan, inf gives 0)."""
    mid = y <= 4
    r = np.empty_like(y)
    r[mid] = _ratio(_C, _D, y[mid])
    far = y[~mid]
    with np.errstate(divide="ignore", invalid="ignore"):
        z = 1 / (far * far)
        r[~mid] = (1 / math.sqrt(math.pi) - z * _ratio(_P, _Q, z)) / far
        s = np.floor(y * 16) / 16
        r *= np.exp(-s * s)
        r *= np.exp((s - y) * (y + s))
    r[y == np.inf] = 0.0
    return r


def erfc(x: Any) -> np.ndarray:
    """1 - erf(x), in float64, without the cancellation of 1 - erf for large x."""
    x = np.asarray(x, np.float64)
    small = np.abs(x) <= _SMALL
    out = np.empty_like(x)
    out[small] = 1 - _erf_small(x[small])
    big = x[~small]
    tail = _erfc_large(np.abs(big))
    out[~small] = np.where(big < 0, 2 - tail, tail)
    return out


def erf(x: Any) -> np.ndarray:
    """2/sqrt(pi) times the integral of exp(-t**2) from 0 to x, in float64."""
    x = np.asarray(x, np.float64)
    small = np.abs(x) <= _SMALL
    out = np.empty_like(x)
    out[small] = _erf_small(x[small])
    big = x[~small]
    out[~small] = np.copysign(1 - _erfc_large(np.abs(big)), big)
    return out


def normal_cdf(x: Any) -> np.ndarray:
    """P(N(0, 1) <= x) = erfc(-x / sqrt(2)) / 2, in float64 (accurate far into the left tail)."""
    return 0.5 * erfc(np.asarray(x, np.float64) * -math.sqrt(0.5))


# erfinv's first guess, PyTorch's (calc_erfinv in aten/src/ATen/native/Math.h, after G. L.
# Pavlis's MATLAB erfinv): a rational function of y**2 for |y| <= 0.7, and of
# sqrt(-log((1 - |y|) / 2)) beyond; coefficients highest power first, as np.polyval takes them
_CENTRAL = 0.7
_GUESS_A = (-0.140543331, 0.914624893, -1.645349621, 0.886226899)
_GUESS_B = (0.012229801, -0.329097515, 1.442710462, -2.118377725, 1.0)
_GUESS_C = (1.641345311, 3.429567803, -1.624906493, -1.970840454)
_GUESS_D = (1.637067800, 3.543889200, 1.0)
_TWO_OVER_SQRT_PI = 2 / math.sqrt(math.pi)


def erfinv(y: Any) -> np.ndarray:
    """The x with erf(x) = y, in float64: +-inf at y = +-1, nan outside [-1, 1].

    PyTorch's first guess, then Newton's method on erf, as PyTorch, but with a third step
    (the guess is poor far into the tails) and on erfc near +-1, where 1 - |y| is exact
    and erf's values crowd together."""
    y = np.asarray(y, np.float64)
    t = np.abs(y)
    central = t <= _CENTRAL
    with np.errstate(divide="ignore", invalid="ignore"):
        z = y * y
        w = np.sqrt(-np.log((1 - t) / 2))
        x = np.where(central, y * np.polyval(_GUESS_A, z) / np.polyval(_GUESS_B, z),
                     np.sign(y) * np.polyval(_GUESS_C, w) / np.polyval(_GUESS_D, w))
        for _ in range(3):
            # erf(x) - y, for |y| > 0.7 as sign(y) ((1 - |y|) - erfc(|x|))
            residual = np.where(central, erf(x) - y, np.sign(y) * ((1 - t) - erfc(np.abs(x))))
            x -= residual / (_TWO_OVER_SQRT_PI * np.exp(-x * x))
    x[t == 1] = np.copysign(np.inf, y[t == 1])
    x[~(t <= 1)] = np.nan  # beyond [-1, 1], and nan itself
    return x
