"""engine/statistics.py: nansum, nanmean, cov, corrcoef, trapezoid, trapz,
cumulative_trapezoid, histc. Gradients are rows of tests/tensor_op_table.py and its KINKS
(nan, a constant row); here: values and dtypes against PyTorch and as recorded from torch
2.13, grad_fn names, warnings and errors."""
from __future__ import annotations

import math

import numpy as np
import pytest

import engine

NAN = math.nan
N = [[1.0, NAN, 3.0], [NAN, NAN, NAN], [2.0, 4.0, NAN]]
M = [[1.0, 2.0, 4.0, 7.0], [2.0, 1.0, 0.0, -1.0], [3.0, 3.0, 1.0, 0.0]]
Y = [[1.0, 2.0, 4.0, 8.0], [0.0, 1.0, 0.0, -1.0]]
X = [0.0, 1.0, 3.0, 6.0]

# (name, call on a library m (engine or torch), what torch 2.13 gives in float64)
CASES = [
    ("nansum", lambda m: m.tensor(N).nansum(), 10.0),
    ("nansum_dim", lambda m: m.nansum(m.tensor(N), 1, keepdim=True), [[4.0], [0.0], [6.0]]),
    ("nansum_ints", lambda m: m.tensor([[1, 2], [3, 4]]).nansum(0), [4, 6]),
    ("nanmean", lambda m: m.tensor(N).nanmean(), 2.5),
    ("nanmean_dim", lambda m: m.nanmean(m.tensor(N), 0), [1.5, 4.0, 3.0]),
    ("cov", lambda m: m.tensor(M).cov(),
     [[7.0, -3.3333333333333335, -3.8333333333333335],
      [-3.3333333333333335, 1.6666666666666667, 1.8333333333333333],
      [-3.8333333333333335, 1.8333333333333333, 2.25]]),
    ("cov_1d", lambda m: m.cov(m.tensor(M[0])), 7.0),
    ("cov_correction_0", lambda m: m.cov(m.tensor(M), correction=0),
     [[5.25, -2.5, -2.875], [-2.5, 1.25, 1.375], [-2.875, 1.375, 1.6875]]),
    ("cov_weights", lambda m: m.cov(m.tensor(M), fweights=m.tensor([1, 2, 0, 3]),
                                    aweights=m.tensor([0.5, 1.0, 2.0, 0.25])),
     [[6.4, -2.8, -3.6], [-2.8, 1.2769230769230768, 1.523076923076923],
      [-3.6, 1.523076923076923, 2.076923076923077]]),
    ("cov_ints", lambda m: m.cov(m.tensor([[1, 2, 4], [2, 1, 0]])),
     [[2.333333333333333, -1.5], [-1.5, 1.0]]),
    ("corrcoef", lambda m: m.tensor(M).corrcoef(),
     [[0.9999999999999998, -0.9759000729485332, -0.9659092088013584],
      [-0.9759000729485333, 1.0, 0.9467292624062574],
      [-0.9659092088013586, 0.9467292624062574, 1.0]]),
    ("corrcoef_1d", lambda m: m.corrcoef(m.tensor(M[0])), 1.0),
    ("trapezoid", lambda m: m.trapezoid(m.tensor(Y)), [10.5, 0.5]),
    ("trapezoid_dx_dim", lambda m: m.trapezoid(m.tensor(Y), dx=0.5, dim=0),
     [0.25, 0.75, 1.0, 1.75]),
    ("trapezoid_x", lambda m: m.trapezoid(m.tensor(Y), m.tensor(X)), [25.5, 0.0]),
    ("trapezoid_x_per_row", lambda m: m.trapezoid(m.tensor(Y), m.tensor(
        [[0.0, 1.0, 2.0, 3.0], [0.0, 2.0, 4.0, 6.0]])), [10.5, 1.0]),
    ("trapz", lambda m: m.trapz(m.tensor(Y), dx=2.0), [21.0, 1.0]),
    ("trapz_x", lambda m: m.trapz(m.tensor(Y), m.tensor(X)), [25.5, 0.0]),
    ("trapezoid_ints", lambda m: m.trapezoid(m.tensor([1, 2, 4])), 4.5),
    ("trapezoid_no_samples", lambda m: m.trapezoid(m.zeros(2, 0)), [0.0, 0.0]),
    ("trapezoid_one_sample", lambda m: m.trapezoid(m.ones(2, 1)), [0.0, 0.0]),
    ("cumulative_trapezoid", lambda m: m.cumulative_trapezoid(m.tensor(Y)),
     [[1.5, 4.5, 10.5], [0.5, 1.0, 0.5]]),
    ("cumulative_trapezoid_x", lambda m: m.cumulative_trapezoid(m.tensor(Y), m.tensor(X)),
     [[1.5, 7.5, 25.5], [0.5, 1.5, 0.0]]),
    ("cumulative_trapezoid_dx_dim", lambda m: m.cumulative_trapezoid(m.tensor(Y), dx=2.0, dim=0),
     [[1.0, 3.0, 4.0, 7.0]]),
    ("histc", lambda m: m.histc(m.tensor([1.0, 2.0, 1.0, 4.0, 2.5, NAN]), bins=4, min=0, max=3),
     [0.0, 2.0, 1.0, 1.0]),
    ("histc_range_of_the_data", lambda m: m.tensor([1.0, 2.0, 1.0, 4.0, 2.5]).histc(bins=4),
     [2.0, 1.0, 1.0, 1.0]),
    ("histc_one_value", lambda m: m.histc(m.tensor([1.0, 1.0]), bins=4), [0.0, 0.0, 2.0, 0.0]),
    ("histc_edges", lambda m: m.histc(m.tensor([0.1, 0.2, 0.3, 0.7, 1.0, 0.0]), bins=10, min=0,
                                      max=1), [1.0, 1.0, 1.0, 1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 1.0]),
    ("histc_empty", lambda m: m.histc(m.tensor([]), bins=3), [0.0, 0.0, 0.0]),
]


def _check(got, want):
    want = np.asarray(want)
    assert got.dtype == (engine.int64 if want.dtype.kind == "i" else engine.float64) or \
        str(got.dtype) == ("torch.int64" if want.dtype.kind == "i" else "torch.float64")
    # (cov's matrix product: the last bit may differ with the BLAS's order of additions)
    np.testing.assert_allclose(got.numpy(), want, rtol=1e-15, atol=0)


@pytest.mark.parametrize("make, want", [pytest.param(f, w, id=n) for n, f, w in CASES])
def test_values_as_recorded_from_pytorch(float64_default, make, want):
    got = make(engine)
    _check(got, want)


@pytest.mark.parametrize("make, want", [pytest.param(f, w, id=n) for n, f, w in CASES])
def test_the_recorded_values_are_pytorchs(torch, make, want):
    _check(make(torch), want)


def test_histc_of_many_float32_entries_bins_each_as_pytorch(torch):
    """Each entry's bin computed in float32 as PyTorch's kernel does, so entries at a bin's
    edge land where PyTorch puts them."""
    values = np.random.default_rng(0).standard_normal(20000).astype(np.float32)
    values[:50] = np.linspace(-1, 1.3, 50, dtype=np.float32)  # on and near the edges
    for kwargs in ({"bins": 37, "min": -1, "max": 1.3}, {"bins": 100}):
        ours = engine.histc(engine.tensor(values), **kwargs)
        theirs = torch.histc(torch.tensor(values), **kwargs)
        assert ours.dtype == engine.float32
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


def test_dtypes_are_pytorchs():
    assert engine.cov(engine.tensor([[1, 2, 4], [2, 1, 0]])).dtype == engine.float32
    assert engine.trapezoid(engine.tensor([1, 2, 4])).dtype == engine.float32
    assert engine.cumulative_trapezoid(engine.tensor([1, 2, 4])).tolist() == [1.5, 4.5]
    assert engine.trapezoid(engine.tensor([1.0, 2.0], dtype=engine.float16)).dtype == \
        engine.float16
    assert engine.nansum(engine.tensor([True, True])).dtype == engine.int64


def test_grad_fn_names_are_pytorchs_and_nan_gets_no_gradient():
    x = engine.tensor(N, requires_grad=True)
    names = {"NansumBackward0": x.nansum(), "DivBackward0": x.nanmean(1),
             "SqueezeBackward0": x.nan_to_num().cov(), "ClampBackward1": x.nan_to_num().corrcoef(),
             "CumsumBackward0": engine.cumulative_trapezoid(x)}
    assert {name: t.grad_fn.name() for name, t in names.items()} == {n: n for n in names}
    x.nansum().backward()
    assert x.grad.tolist() == [[1.0, 0.0, 1.0], [0.0, 0.0, 0.0], [1.0, 1.0, 0.0]]
    assert not engine.histc(x, 3, 0, 4).requires_grad


def test_cov_with_too_few_observations_warns_and_divides_by_zero_as_pytorch():
    with pytest.warns(UserWarning, match="degrees of freedom is <= 0"):
        out = engine.cov(engine.tensor([[1.0], [2.0]]))
    assert np.isnan(out.numpy()).all()


@pytest.mark.parametrize("make, error, message", [
    (lambda: engine.tensor([1, 2]).nanmean(), TypeError, "nanmean takes a float tensor"),
    (lambda: engine.zeros(2, 2, 2).cov(), ValueError, "at most 2 dims"),
    (lambda: engine.tensor([True, False]).cov(), TypeError, "bool"),
    (lambda: engine.zeros(2, 3).cov(fweights=engine.ones(3)), ValueError,
     "fweights must be a 1-D int tensor"),
    (lambda: engine.zeros(2, 3).cov(aweights=engine.ones(2)), ValueError,
     r"one entry per observation \(3\)"),
    (lambda: engine.zeros(2, 3).cov(aweights=-engine.ones(3)), ValueError,
     "aweights cannot be negative"),
    (lambda: engine.zeros(2, 3).cov(fweights=engine.zeros(3, dtype=engine.int64)), ValueError,
     "weights sum to zero"),
    (lambda: engine.trapezoid(engine.ones(3, 4), engine.ones(3)), ValueError,
     r"one entry per sample point \(4 along dim 1\)"),
    (lambda: engine.trapezoid(engine.ones(3), engine.ones(3), dx=1.0), TypeError, "not both"),
    (lambda: engine.trapezoid(engine.tensor([True])), TypeError, "bool"),
    (lambda: engine.histc(engine.tensor([1, 2])), TypeError, "histc takes a float tensor"),
    (lambda: engine.histc(engine.ones(2), bins=0), ValueError, "bins must be > 0"),
    (lambda: engine.histc(engine.ones(2), 4, 3, 1), ValueError, "max must be larger than min"),
    (lambda: engine.histc(engine.tensor([1.0, math.inf])), ValueError, "is not finite"),
])
def test_errors_name_what_was_wrong(make, error, message):
    with pytest.raises(error, match=message):
        make()
