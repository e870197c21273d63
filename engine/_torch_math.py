"""PyTorch's CPU floating-point arithmetic, reproduced in numpy to the last bit.

PyTorch's random kernels are compiled C++. They call the C library's log, log1p, cos and
sin, which `libm` runs through Python's `math` (the same functions). The compiler fuses
`a*b + c` into one fused multiply-add (FMA) instruction that rounds once instead of twice:
`fma32` and `fma64`. And for float32 normals of 16 or more, on any x86-64 CPU with AVX2, it
runs a kernel whose log, sin and cos are Cephes-style polynomial approximations in float32
(Julien Pommier's avx_mathfun): `box_muller16_float` evaluates the same polynomials with
the same float32 roundings. Which operations the compiler fused was found by comparing with
torch 2.13.0 (12.8 million normals, all bit-identical).
"""
from __future__ import annotations

from typing import Any, Callable

import numpy as np

f32 = np.float32


def libm(fn: Callable[[float], float], x: np.ndarray) -> np.ndarray:
    """fn (a `math` function: the C library's) over a float64 array, shaped as x. numpy's
    own SIMD log and log1p disagree with the C library's in the last bit about once in 300."""
    flat = np.fromiter(map(fn, x.ravel().tolist()), np.float64, count=x.size)
    return flat.reshape(x.shape)


def _split(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """x = high + low with 26-bit halves (Veltkamp), so products of halves are exact."""
    t = 134217729.0 * x  # 2**27 + 1
    high = t - (t - x)
    return high, x - high


def _two_sum(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """x + y as the rounded sum and its exact rounding error (Knuth)."""
    total = x + y
    back = total - x
    return total, (x - (total - back)) + (y - back)


def fma64(a: Any, b: Any, c: Any) -> np.ndarray:
    """a*b + c in float64 with one rounding, as the FMA instruction does.

    a*b + c = total + errors, exactly: the product's rounding error (Dekker) and the sum's
    (two-sum) are carried along and added back. That last addition is itself rounded, which
    matters only where it lands exactly halfway between two floats: there the leftover
    error says which way the exact value lies. (Exact while a*b does not underflow, i.e.
    for |a*b| above 1e-290 or 0: everywhere random numbers live.)"""
    a, b, c = (np.asarray(v, np.float64) for v in (a, b, c))
    if b.ndim == 0 and b == 1:
        return a + c  # a*1 is exact: one rounding, as FMA
    product = a * b
    (a_high, a_low), (b_high, b_low) = _split(a), _split(b)
    product_error = (((a_high * b_high - product) + a_high * b_low + a_low * b_high)
                     + a_low * b_low)
    total, sum_error = _two_sum(product, c)
    errors, leftover = _two_sum(sum_error, product_error)
    result, last = _two_sum(total, errors)  # a*b + c = result + last + leftover, exactly
    other = np.nextafter(result, np.where(last > 0, np.inf, -np.inf))
    beyond_halfway = ((last != 0) & (other - result == 2 * last) & (leftover != 0)
                      & ((leftover > 0) == (last > 0)))
    return np.where(beyond_halfway, other, result)


def fma32(a: Any, b: Any, c: Any) -> np.ndarray:
    """a*b + c in float32 with one rounding, as the FMA instruction does.

    The product of two float32s is exact in float64 (24 + 24 bits < 53), so computing in
    float64 rounds only the sum, and then again to float32. Rounding twice goes wrong only
    when the float64 sum lands exactly halfway between two float32s; those few are redone
    exactly (`_fix_halfway`)."""
    if np.ndim(b) == 0 and b == 1:
        return np.asarray(a, f32) + f32(c)  # a*1 is exact: one float32 rounding, as FMA
    total = np.asarray(a, np.float64) * np.asarray(b, np.float64)
    total += c
    result = total.astype(f32)
    # Halfway between two float32s of the normal range: the 29 bits float64 keeps beyond
    # float32's 24 read 1000...0. Near float32's subnormals the spacing differs: redo those.
    suspects = (total.view(np.uint64) & np.uint64(0x1FFFFFFF)) == np.uint64(0x10000000)
    suspects |= np.abs(result) <= f32(2.0**-126)
    if suspects.any():
        at = np.flatnonzero(suspects)
        pick = lambda v: np.broadcast_to(v, result.shape).reshape(-1)[at]
        result.reshape(-1)[at] = _fix_halfway(pick(a), pick(b), pick(c), result.reshape(-1)[at])
    return result


def _fix_halfway(a: np.ndarray, b: np.ndarray, c: np.ndarray, result: np.ndarray) -> np.ndarray:
    """The correctly rounded float32 of a*b + c, given result = that rounded twice."""
    total, error = _two_sum(a.astype(np.float64) * b, c.astype(np.float64))
    other = np.nextafter(result, np.where(total > result, f32(np.inf), f32(-np.inf)))
    halfway = (total != result) & (total - result == other.astype(np.float64) - total)
    nearer_other = halfway & (error != 0) & ((error > 0) == (other > result))
    return np.where(nearer_other, other, result)


# Cephes' float32 log: x = m * 2**e with m in [sqrt(1/2), sqrt(2)), log(1 + (m - 1)) by a
# degree-9 polynomial, and e * log(2) added in two parts (LN2_HIGH has few bits, so
# e * LN2_HIGH is exact).
_SQRT_HALF = f32(0.707106781186547524)
_LOG_POLY = [f32(c) for c in (7.0376836292E-2, -1.1514610310E-1, 1.1676998740E-1,
                              -1.2420140846E-1, 1.4249322787E-1, -1.6668057665E-1,
                              2.0000714765E-1, -2.4999993993E-1, 3.3333331174E-1)]
_LN2_LOW, _LN2_HIGH = f32(-2.12194440e-4), f32(0.693359375)


def _log(x: np.ndarray) -> np.ndarray:
    """Natural log of float32 x in [2**-24, 1] (all 1 - u can be), as PyTorch's AVX2 kernel."""
    bits = x.view(np.int32)
    exponent = ((bits >> 23) - 126).astype(f32)  # so that the mantissa lies in [0.5, 1)
    mantissa = ((bits & 0x007FFFFF) | 0x3F000000).view(f32)
    low = mantissa < _SQRT_HALF  # move [0.5, sqrt(1/2)) up to [1, sqrt(2)): double it
    exponent = exponent - np.where(low, f32(1), f32(0))
    m = (mantissa - f32(1)) + np.where(low, mantissa, f32(0))  # m = x / 2**e - 1
    m2 = m * m
    poly = np.full_like(m, _LOG_POLY[0])
    for coefficient in _LOG_POLY[1:]:
        poly = fma32(poly, m, coefficient)
    poly = poly * m
    y = fma32(poly, m2, exponent * _LN2_LOW)
    y = y - m2 * f32(0.5)
    return fma32(exponent, _LN2_HIGH, m + y)


# Cephes' float32 sin and cos: reduce x by a multiple j of pi/4 (j even; pi/4 in three parts
# for extra precision), then one of two polynomials on [-pi/4, pi/4], chosen by j.
_FOUR_OVER_PI = f32(1.27323954473516)
_MINUS_PI_4 = [f32(-0.78515625), f32(-2.4187564849853515625e-4), f32(-3.77489497744594108e-8)]
_SIN_POLY = [f32(-1.9515295891E-4), f32(8.3321608736E-3), f32(-1.6666654611E-1)]
_COS_POLY = [f32(2.443315711809948E-005), f32(-1.388731625493765E-003),
             f32(4.166664568298827E-002)]


def _sincos(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """sin and cos of float32 x in [0, 2 pi), as PyTorch's AVX2 kernel computes them."""
    j = (x * _FOUR_OVER_PI).astype(np.int32)  # truncation, as the int conversion does
    j = (j + 1) & ~1
    y = j.astype(f32)
    for part in _MINUS_PI_4:
        x = fma32(y, part, x)  # x - j pi/4
    z = x * x
    cos_poly = fma32(fma32(np.full_like(z, _COS_POLY[0]), z, _COS_POLY[1]), z, _COS_POLY[2])
    cos_poly = fma32(cos_poly * z, z, -(z * f32(0.5))) + f32(1)
    sin_poly = fma32(fma32(np.full_like(z, _SIN_POLY[0]), z, _SIN_POLY[1]), z, _SIN_POLY[2])
    sin_poly = fma32(sin_poly * z, x, x)
    use_sin_poly = (j & 2) == 0
    # `+ 0` as the kernel adds the masked-out zero (it turns a -0.0 into +0.0)
    sin = np.where(use_sin_poly, sin_poly, cos_poly) + f32(0)
    cos = np.where(use_sin_poly, cos_poly, sin_poly) + f32(0)
    sin = np.where((j & 4) != 0, -sin, sin)
    cos = np.where(((j - 2) & 4) == 0, -cos, cos)
    return sin, cos


_TWO_PI = f32(2 * np.pi)


def box_muller16_float(u: np.ndarray, mean: np.float32, std: np.float32) -> np.ndarray:
    """Normals from float32 uniforms, a whole number of blocks of 16, as PyTorch's
    normal_fill_16_AVX2 makes them: entry j gets r cos, entry j + 8 gets r sin."""
    block = u.reshape(-1, 2, 8)
    radius = np.sqrt(f32(-2) * _log(f32(1) - block[:, 0]))
    sin, cos = _sincos(_TWO_PI * block[:, 1])
    pairs = np.stack([radius * cos, radius * sin], axis=1)
    return fma32(pairs, std, mean).reshape(-1)
