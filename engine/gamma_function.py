"""lgamma, digamma and polygamma on numpy arrays, which numpy lacks, without Python loops over
entries, to a few float64 ulps (relative; near a zero on the negative axis, as many digits as
x's own rounding leaves), and at the poles and infinities PyTorch's values. Each computes in
float64 and returns its input's float dtype (float64 for ints and bools).

- lgamma(x) = ln |Gamma(x)|: near 1 and 2, where it is 0, the power series of lgamma(2 + z)
  in z (Abramowitz & Stegun 6.1.33), whose coefficients are zeta(k) - 1; up to 10, that
  series and Gamma's recurrence; beyond, Stirling's series; below -1/2, the reflection
  Gamma(x) Gamma(1 - x) = pi / sin(pi x).
- polygamma(n, x), the n-th derivative of digamma(x) = lgamma'(x): for n >= 1,
  (-1)**(n + 1) n! zeta(n + 1, x) with Hurwitz's zeta, summed term by term until x + k is
  large enough for the Euler-Maclaurin tail; digamma the same way, with its own tail, but
  around its zero at 1.46 from the derivative of lgamma(2 + z)'s series; below 0, the
  reflection formula, which needs the n-th derivative of cot(pi x).
"""
from __future__ import annotations

import functools
import math
from fractions import Fraction
from typing import Any

import numpy as np

_EULER = 0.5772156649015329  # Euler's gamma, -digamma(1)
_HALF_LOG_2PI = 0.9189385332046728  # ln(2 pi) / 2, Stirling's constant
_STIRLING_FROM = 10.0  # lgamma's series and recurrence below, Stirling's series from here
_LARGEST_ORDER = 170  # of polygamma: 171! overflows float64
_SERIES_TERMS = 40  # of lgamma(2 + z): the k-th is about 2**-k |z|**k / k, |z| <= 3/4
# B_2, B_4, ..., B_24, the Bernoulli numbers of the asymptotic series
_BERNOULLI = [Fraction(1, 6), Fraction(-1, 30), Fraction(1, 42), Fraction(-1, 30),
              Fraction(5, 66), Fraction(-691, 2730), Fraction(7, 6), Fraction(-3617, 510),
              Fraction(43867, 798), Fraction(-174611, 330), Fraction(854513, 138),
              Fraction(-236364091, 2730)]


def _as_float64(x: Any) -> tuple[np.ndarray, np.dtype]:
    """x as a float64 array, and the dtype the result is returned in."""
    x = np.asarray(x)
    dtype = x.dtype if x.dtype.kind == "f" else np.dtype(np.float64)
    return x.astype(np.float64, copy=False), dtype


def _returned(out: np.ndarray, dtype: np.dtype) -> np.ndarray:
    """out in `dtype`: beyond float32's range, its inf (as PyTorch's float32 results)."""
    with np.errstate(over="ignore"):
        return out.astype(dtype, copy=False)


def _horner(coefficients: np.ndarray, x: np.ndarray) -> np.ndarray:
    """The polynomial with these coefficients, highest power first, at x. Unlike np.polyval,
    which starts from 0 * x, it is +-inf at x = +-inf rather than nan."""
    out = np.full_like(x, coefficients[0])
    for a in coefficients[1:]:
        out *= x
        out += a
    return out


def _rising(s: int, k: int) -> int:
    """s (s + 1) ... (s + k - 1)."""
    return math.prod(range(s, s + k))


@functools.cache
def _tail_coefficients(s: int) -> np.ndarray:
    """c_j = B_2j s (s + 1) ... (s + 2j - 2) / (2j)!, highest j first:
    zeta(s, q) = q**(1 - s) (1 / (s - 1) + 1 / (2 q) + sum_j c_j q**-2j) + ..., and for
    s = 1 digamma(q) = ln q - 1 / (2 q) - sum_j c_j q**-2j + ...."""
    return np.array([float(b * _rising(s, 2 * j - 1) / math.factorial(2 * j))
                     for j, b in reversed(list(enumerate(_BERNOULLI, 1)))])


def _stepped_up(x: np.ndarray, s: int, low: float) -> tuple[np.ndarray, np.ndarray]:
    """(the sum of (x + k)**-s over k = 0 .. m - 1, x + m), m the fewest whole steps that take
    x > 0 to at least `low`: zeta(s, x) is that sum plus zeta(s, x + m). The loop runs over the
    steps, at most `low` of them, the smallest terms first."""
    steps = np.maximum(np.ceil(low - x), 0)
    skipped = np.zeros_like(x)
    for k in range(int(steps.max(initial=0)) - 1, -1, -1):
        skipped += np.where(k < steps, (x + k) ** -s, 0)
    return skipped, x + steps


def _zeta(s: int, q: np.ndarray) -> np.ndarray:
    """Hurwitz's zeta(s, q), the sum of (q + k)**-s over k >= 0, for whole s >= 2 and q > 0.

    Euler-Maclaurin's tail is asymptotic: its terms shrink like ((s + 2j) / (2 pi q))**2j,
    so q is first stepped up to 9 + s, where 12 terms reach float64's precision."""
    skipped, q = _stepped_up(q, s, 9.0 + s)
    w = 1 / (q * q)
    tail = q ** (1 - s) * (1 / (s - 1) + 0.5 / q + w * _horner(_tail_coefficients(s), w))
    return skipped + tail


@functools.cache
def _series_at_2() -> np.ndarray:
    """a_k, highest k first, of lgamma(2 + z) = sum over k >= 1 of a_k z**k, |z| < 2
    (Abramowitz & Stegun 6.1.33): a_1 = 1 - gamma, a_k = (-1)**k (zeta(k) - 1) / k."""
    two = np.array([2.0])
    return np.array([*((-1) ** k * _zeta(k, two)[0] / k for k in range(_SERIES_TERMS, 1, -1)),
                     1 - _EULER, 0.0])


@functools.cache
def _digamma_series() -> np.ndarray:
    """The derivative of lgamma(2 + z)'s series: digamma(2 + z), highest power first."""
    coefficients = _series_at_2()[:-1]
    return coefficients * np.arange(len(coefficients), 0, -1)


def _digamma_positive(x: np.ndarray) -> np.ndarray:
    """digamma(x) for x > 0. Around its zero at 1.46, from 1.25 to 2.5, the series of
    digamma(2 + z); elsewhere digamma(x) = digamma(x + m) - the sum of 1 / (x + k) over
    k < m, digamma(x + m) from its asymptotic series: near the zero that sum and
    digamma(x + m) would cancel to an absolute error of 1e-15."""
    out = np.empty_like(x)
    near = (x >= 1.25) & (x <= 2.5)
    out[near] = _horner(_digamma_series(), x[near] - 2)  # (x - 2 is exact)
    skipped, q = _stepped_up(x[~near], 1, 10.0)
    w = 1 / (q * q)
    out[~near] = np.log(q) - 0.5 / q - w * _horner(_tail_coefficients(1), w) - skipped
    return out


def _polygamma_positive(n: int, x: np.ndarray) -> np.ndarray:
    """polygamma(n, x) for x > 0."""
    if n == 0:
        return _digamma_positive(x)
    return (-1) ** (n + 1) * float(math.factorial(n)) * _zeta(n + 1, x)


@functools.cache
def _cot_derivative(n: int) -> np.ndarray:
    """P_n / n!, highest power first, with d^n/dx^n cot(pi x) = pi**n P_n(cot(pi x)): P_0(c) = c
    and, as cot' = -(1 + cot**2), P_(k+1)(c) = -(1 + c**2) P_k'(c). In ints until the end,
    and over n!, as P_n's coefficients outgrow float64's 53 bits by n = 20 and its range by
    n = 170."""
    p = [0, 1]  # lowest power first
    for _ in range(n):
        slope = [k * a for k, a in enumerate(p)][1:]
        p = [0] * (len(slope) + 2)
        for k, a in enumerate(slope):
            p[k] -= a
            p[k + 2] -= a
    return np.array([a / math.factorial(n) for a in reversed(p)])


def _nearest_fraction(x: np.ndarray) -> np.ndarray:
    """x less its nearest whole number, in [-1/2, 1/2], exactly: sin(pi x) and cot(pi x)
    taken from it keep the precision that pi x itself would round away for large x."""
    return x - np.round(x)


def _cot_pi(x: np.ndarray) -> np.ndarray:
    """cot(pi x), with full relative precision near the half-integers too, where it is 0:
    there as tan(pi (1/2 - r)), r the fraction of x, as 1/2 - r is exact and pi (1/2 - r)
    keeps the digits that pi r rounds away beside pi / 2."""
    r = _nearest_fraction(x)
    return np.where(np.abs(r) < 0.25, 1 / np.tan(math.pi * r),
                    np.tan(math.pi * (np.copysign(0.5, r) - r)))


# Stirling's series: lgamma(x) = (x - 1/2) ln x - x + ln(2 pi) / 2 + sum over j of
# B_2j / (2j (2j - 1) x**(2j - 1)); its coefficients, highest j first
_STIRLING = np.array([float(b / (2 * j * (2 * j - 1)))
                      for j, b in reversed(list(enumerate(_BERNOULLI, 1)))])


def _lgamma_near(x: np.ndarray) -> np.ndarray:
    """lgamma(x) for -1/2 < x < 10 (inf at 0): lgamma(2 + z) from its series, z = x less its
    nearest whole number r, then Gamma's recurrence: Gamma(x) = Gamma(2 + z) (x - 1) ...
    (x - r + 2) for r >= 2, Gamma(1 + z) = Gamma(2 + z) / (1 + z), Gamma(z) = Gamma(1 + z) / z.
    No subtraction of nearly equal numbers, so it keeps its relative precision at 1 and 2."""
    r = np.round(x)
    z = x - r
    out = _horner(_series_at_2(), z)
    out -= np.where(r <= 1, np.log1p(z), 0)
    out -= np.where(r == 0, np.log(np.abs(z)), 0)
    product = np.ones_like(x)
    for j in range(1, int(_STIRLING_FROM) - 1):  # x - j is exact: x >= j + 3/2
        product *= np.where(j <= r - 2, x - j, 1)
    return out + np.log(product)


def _lgamma_right(x: np.ndarray) -> np.ndarray:
    """lgamma(x) for finite x > -1/2 (inf at 0)."""
    out = np.empty_like(x)
    near = x < _STIRLING_FROM
    out[near] = _lgamma_near(x[near])
    y = x[~near]
    # x (ln x - 1) rather than (x - 1/2) ln x - x: no overflow before lgamma's own
    out[~near] = (y * (np.log(y) - 1) - 0.5 * np.log(y) + _HALF_LOG_2PI
                  + _horner(_STIRLING, 1 / (y * y)) / y)
    return out


def lgamma(x: Any) -> np.ndarray:
    """ln |Gamma(x)|, as torch.lgamma: inf at 0, at the negative integers and at +-inf.

    Below -1/2, the reflection lgamma(x) = ln(pi / |x sin(pi x)|) - lgamma(-x).
    """
    x, dtype = _as_float64(x)
    out = np.full_like(x, np.inf)  # the poles and +-inf
    with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
        right = (x > -0.5) & (x < np.inf)
        out[right] = _lgamma_right(x[right])
        left = (x <= -0.5) & (x != np.floor(x))
        y = x[left]
        out[left] = (np.log(math.pi / np.abs(y * np.sin(math.pi * _nearest_fraction(y))))
                     - _lgamma_right(-y))
    out[np.isnan(x)] = np.nan
    return _returned(out, dtype)


def polygamma(n: int, x: Any) -> np.ndarray:
    """The n-th derivative of digamma (digamma itself for n = 0), as torch.polygamma.

    Below 0, the reflection psi_n(x) = (-1)**n psi_n(1 - x) - pi**(n + 1) P_n(cot(pi x)).
    Where it has no value, PyTorch's: at 0 and the negative integers digamma is -inf at 0,
    inf at -0 and nan below, the others (-1)**(n + 1) inf; at inf digamma is inf, the n = 1
    one 0 and the others nan (PyTorch's Euler-Maclaurin sum has inf * 0 there); at -inf
    digamma and the n = 1 one are nan, the others (-1)**(n + 1) inf.
    """
    if not 0 <= n <= _LARGEST_ORDER:
        raise ValueError(f"polygamma: n must be a whole number from 0 to {_LARGEST_ORDER} "
                         f"(n! overflows float64 beyond), got {n}")
    x, dtype = _as_float64(x)
    out = np.full_like(x, np.nan)
    with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
        right = x > 0
        out[right] = _polygamma_positive(n, x[right])
        left = (x < 0) & (x != np.floor(x))
        y = x[left]
        over_factorial = math.pi ** (n + 1) * _horner(_cot_derivative(n), _cot_pi(y))
        out[left] = ((-1) ** n * _polygamma_positive(n, 1 - y)
                     - float(math.factorial(n)) * over_factorial)
    pole = (x <= 0) & (x == np.floor(x))  # -inf too
    if n == 0:
        out[pole] = np.where(x[pole] == 0, np.copysign(np.inf, -x[pole]), np.nan)
    else:
        out[pole] = (-1) ** (n + 1) * np.inf
    if n == 1:
        out[x == -np.inf] = np.nan  # (PyTorch's trigamma takes sin(pi x) there)
    if n >= 2:
        out[x == np.inf] = np.nan
    return _returned(out, dtype)


def digamma(x: Any) -> np.ndarray:
    """lgamma's derivative, Gamma'(x) / Gamma(x): polygamma(0, x)."""
    return polygamma(0, x)
