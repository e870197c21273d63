"""engine/_torch_math.py: the fused multiply-adds round once (checked with exact fractions),
and the float32 AVX2 Box-Muller is Box-Muller (its bits are PyTorch's: tests/test_random.py)."""
from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from engine._torch_math import box_muller16_float, fma32, fma64, libm

f32 = np.float32


def _round_to_float32(exact: Fraction) -> np.float32:
    """The float32 nearest to a fraction, ties to the even one."""
    near = f32(float(exact))
    candidates = [np.nextafter(near, f32(-np.inf)), near, np.nextafter(near, f32(np.inf))]
    return min(candidates, key=lambda c: (abs(Fraction(float(c)) - exact),
                                          int(np.asarray(c).view(np.int32)) & 1))


def _exact(a, b, c) -> Fraction:
    return Fraction(float(a)) * Fraction(float(b)) + Fraction(float(c))


floats32 = st.floats(-2.0**60, 2.0**60, width=32)


@settings(max_examples=300)
@given(a=floats32, b=floats32, c=floats32)
def test_fma32_rounds_once(a, b, c):
    a, b, c = f32(a), f32(b), f32(c)
    assert fma32(np.array([a]), b, c)[0] == _round_to_float32(_exact(a, b, c))


def test_fma32_where_rounding_twice_would_tie_the_wrong_way():
    # a*b = 3 * 2**-24 - 3 * 2**-68: 1 + a*b rounds in float64 to 1 + 3 * 2**-24, halfway
    # between the float32s 1 + 2**-23 and 1 + 2**-22; the exact sum is below halfway.
    a, b, c = f32(3 * 2**-24 * (1 + 2**-22)), f32(1 - 2**-22), f32(1)
    assert _exact(a, b, c) < 1 + Fraction(3, 2**24)
    assert np.float64(a) * np.float64(b) + 1 == 1 + 3 * 2**-24  # the float64 tie
    assert fma32(np.array([a, a]), b, c).tolist() == [1 + 2**-23] * 2
    assert fma32(np.array([a]), np.array([b]), np.array([c]))[0] == f32(1 + 2**-23)


def test_fma32_in_float32s_subnormal_range():
    tiny = [f32(2.0**-130), f32(3 * 2.0**-140), f32(-2.0**-127)]
    for a in tiny:
        for b in (f32(0.75), f32(1.5)):
            for c in (f32(0), f32(2.0**-149), f32(-2.0**-148)):
                assert fma32(np.array([a]), b, c)[0] == _round_to_float32(_exact(a, b, c))


# Dekker's product error is exact while a*b does not underflow (|a*b| > 1e-290 or 0)
factors = st.floats(-1e100, 1e100).filter(lambda x: x == 0 or abs(x) > 1e-100)


@settings(max_examples=300)
@given(a=factors | st.sampled_from([1.5, -0.75, 1.25, 3.0, 1.7, 0.01]), b=factors,
       c=st.floats(-1e200, 1e200))
def test_fma64_rounds_once(a, b, c):
    assert fma64(a, b, c) == float(_exact(a, b, c))  # Fraction -> float rounds correctly


def test_fma64_where_rounding_twice_would_differ():
    a = 1 + 2.0**-30
    assert a * a - 1 != float(_exact(a, a, -1))  # two roundings lose the 2**-60 term
    assert fma64(a, a, -1.0) == float(_exact(a, a, -1))
    # 1.5 * b is exactly halfway between two floats; a tiny c decides which way it rounds
    a, b, c = 1.5, -43.372342123736885, 1.3192852132713909e-216
    assert fma64(a, b, c) == float(_exact(a, b, c)) != a * b + c


def test_libm_keeps_the_shape_and_calls_the_function():
    x = np.linspace(0.1, 3.0, 12).reshape(3, 4)
    assert libm(math.log1p, x).shape == (3, 4)
    assert libm(math.log1p, x)[2, 1] == math.log1p(x[2, 1])


def test_box_muller16_float_is_box_muller_within_float32_accuracy():
    u = (np.random.default_rng(0).integers(0, 2**24, 16 * 4096) * 2.0**-24).astype(f32)
    ours = box_muller16_float(u, f32(0.0), f32(1.0)).reshape(-1, 2, 8).astype(np.float64)
    block = u.reshape(-1, 2, 8).astype(np.float64)
    radius = np.sqrt(-2 * np.log(1 - block[:, 0]))
    angle = 2 * np.pi * block[:, 1]
    exact = np.stack([radius * np.cos(angle), radius * np.sin(angle)], 1)
    assert np.max(np.abs(ours - exact)) < 2e-6 * max(1.0, np.max(np.abs(exact)))
    shifted = box_muller16_float(u[:16], f32(3.0), f32(2.0))
    plain = box_muller16_float(u[:16], f32(0.0), f32(1.0))
    assert np.allclose(shifted, 3 + 2 * plain, atol=1e-6)
