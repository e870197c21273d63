"""engine/error_function.py: erf, erfc and the normal CDF against Python's math module (the C
library's erf and erfc) over the whole float range, to float64's last bits; erfinv as
erf's inverse and against PyTorch's."""
from __future__ import annotations

import math

import numpy as np
import pytest

from engine.error_function import erf, erfc, erfinv, normal_cdf

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


Y = np.concatenate([np.linspace(-1, 1, 200_001), 1 - np.geomspace(1e-16, 0.3, 1_000),
                    -1 + np.geomspace(1e-16, 0.3, 1_000), [0.7, -0.7, 1e-300, -1e-300]])


def test_erfinv_inverts_erf():
    inside = Y[np.abs(Y) < 1]
    np.testing.assert_allclose(erf(erfinv(inside)), inside, rtol=0, atol=5e-16)  # 2 ulps of 1
    x = np.linspace(-2, 2, 40_001)  # where erf does not crowd its values together
    np.testing.assert_allclose(erfinv(erf(x)), x, rtol=1e-14, atol=1e-300)
    # next to +-1 the tail is found from 1 - |y|, which is exact: erfc gives it back
    y = 1 - np.geomspace(1e-15, 0.3, 2_000)
    np.testing.assert_allclose(erfc(erfinv(y)), 1 - y, rtol=1e-13)
    np.testing.assert_allclose(erfc(-erfinv(-y)), 1 - y, rtol=1e-13)


def test_erfinv_at_and_beyond_the_ends():
    got = erfinv([1.0, -1.0, 1.5, -2.0, np.inf, np.nan, 0.0, -0.0])
    np.testing.assert_array_equal(got[:2], [np.inf, -np.inf])
    assert np.isnan(got[2:6]).all()
    assert got[6] == 0 and math.copysign(1, got[7]) == -1


def test_erfinv_matches_pytorchs():
    torch = pytest.importorskip("torch")
    want = torch.erfinv(torch.from_numpy(Y)).numpy()
    np.testing.assert_allclose(erfinv(Y), want, rtol=1e-14, atol=1e-300)
    y32 = Y.astype(np.float32)
    want32 = torch.erfinv(torch.from_numpy(y32)).numpy()  # computed in float32 throughout
    got32 = erfinv(y32).astype(np.float32)
    finite = np.isfinite(want32)
    assert np.array_equal(got32[~finite], want32[~finite])
    ulps = np.abs(got32[finite] - want32[finite]) / np.spacing(np.abs(want32[finite]))
    assert ulps.max() <= 1
