"""engine/special.py: erf, erfc and the normal CDF against Python's math module (the C
library's erf and erfc) over the whole float range, to float64's last bits."""
from __future__ import annotations

import math

import numpy as np
import pytest

from engine.special import erf, erfc, normal_cdf

X = np.concatenate([np.linspace(-26, 26, 100_001), np.geomspace(1e-300, 26, 5_000),
                    -np.geomspace(1e-300, 26, 5_000), [0.0, -0.0, 0.46875, -0.46875, 4.0, -4.0]])


@pytest.mark.parametrize("ours, reference", [(erf, math.erf), (erfc, math.erfc)],
                         ids=["erf", "erfc"])
def test_matches_the_c_library_to_a_few_ulps(ours, reference):
    want = np.array([reference(x) for x in X])
    got = ours(X)
    normal = np.abs(want) > 1e-300  # erfc's subnormal tail (x > 26.5) has no relative precision
    np.testing.assert_allclose(got[normal], want[normal], rtol=2e-15, atol=0)
    np.testing.assert_array_equal(got[~normal], want[~normal])


def test_infinities_nan_and_signed_zero():
    np.testing.assert_array_equal(erf([np.inf, -np.inf, 0.0]), [1.0, -1.0, 0.0])
    np.testing.assert_array_equal(erfc([np.inf, -np.inf, 0.0]), [0.0, 2.0, 1.0])
    assert np.isnan(erf([np.nan])[0]) and np.isnan(erfc([np.nan])[0])
    assert math.copysign(1, erf([-0.0])[0]) == -1


def test_normal_cdf_keeps_its_precision_in_the_left_tail():
    # Phi(-x) = erfc(x / sqrt(2)) / 2; 1 + erf(...) would lose every digit by x = -9
    x = np.array([-38.0, -20.0, -9.0, -1.0, 0.0, 1.0, 9.0])
    want = [0.5 * math.erfc(-v * math.sqrt(0.5)) for v in x]
    np.testing.assert_allclose(normal_cdf(x), want, rtol=1e-14)
    assert normal_cdf([-38.0])[0] > 0
