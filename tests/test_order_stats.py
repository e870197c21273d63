"""engine/order_stats.py: msort, aminmax, cummax, cummin, kthvalue, nanmedian, nanquantile.
Gradients are rows of tests/tensor_op_table.py and its KINKS (ties, nan); here: values and
indices against PyTorch and as recorded from torch 2.13, the named tuples, grad_fn names,
and errors."""
from __future__ import annotations

import math

import numpy as np
import pytest

import engine

NAN = math.nan
X = [[3.0, 1.0, 3.0, 1.0, 2.0], [0.0, 5.0, 5.0, 2.0, 2.0]]
N = [[1.0, NAN, 3.0, 2.0], [NAN, NAN, NAN, NAN], [4.0, NAN, NAN, 1.0]]
C = [1.0, 3.0, 3.0, 2.0, NAN, 5.0, NAN]

# (name, call on a library m (engine or torch), what torch 2.13 gives: a value, or the
# fields of a named tuple)
CASES = [
    ("msort", lambda m: m.msort(m.tensor(X)),
     [[0.0, 1.0, 3.0, 1.0, 2.0], [3.0, 5.0, 5.0, 2.0, 2.0]]),
    ("aminmax", lambda m: m.aminmax(m.tensor(X)), [0.0, 5.0]),
    ("aminmax_dim_keepdim", lambda m: m.tensor(X).aminmax(dim=1, keepdim=True),
     [[[1.0], [0.0]], [[3.0], [5.0]]]),
    ("aminmax_keepdim", lambda m: m.tensor(X).aminmax(keepdim=True), [[[0.0]], [[5.0]]]),
    ("aminmax_along_a_full_dim_of_an_empty_tensor", lambda m: m.zeros(2, 0).aminmax(dim=0),
     [[], []]),
    ("nanmedian_of_nothing", lambda m: m.zeros(0).nanmedian(), NAN),
    ("cummax", lambda m: m.tensor(C).cummax(0),
     [[1.0, 3.0, 3.0, 3.0, NAN, NAN, NAN], [0, 1, 2, 2, 4, 4, 6]]),
    ("cummin", lambda m: m.cummin(m.tensor([3.0, 1.0, 1.0, 2.0, NAN, 0.0, NAN]), 0),
     [[3.0, 1.0, 1.0, 1.0, NAN, NAN, NAN], [0, 1, 2, 2, 4, 4, 6]]),
    ("cummax_ints_dim1", lambda m: m.tensor([[1, 3, 3, 2], [4, 0, 4, 5]]).cummax(1),
     [[[1, 3, 3, 3], [4, 4, 4, 5]], [[0, 1, 2, 2], [0, 0, 2, 3]]]),
    ("cummin_0d", lambda m: m.tensor(2.0).cummin(0), [2.0, 0]),
    ("kthvalue", lambda m: m.tensor(X).kthvalue(2), [[1.0, 2.0], [3, 3]]),
    ("kthvalue_dim0_keepdim", lambda m: m.kthvalue(m.tensor(X), 2, 0, True),
     [[[3.0, 5.0, 5.0, 2.0, 2.0]], [[0, 1, 1, 1, 1]]]),
    ("kthvalue_nan_last", lambda m: m.tensor([NAN, 1.0, 2.0]).kthvalue(3), [NAN, 0]),
    ("nanmedian", lambda m: m.tensor(N).nanmedian(), 2.0),
    ("nanmedian_dim", lambda m: m.tensor(N)[[0, 2]].nanmedian(1), [[2.0, 1.0], [3, 3]]),
    ("nanmedian_ints", lambda m: m.nanmedian(m.tensor([[4, 1, 3, 2]]), 1, True), [[[2]], [[3]]]),
    ("nanquantile", lambda m: m.tensor(N).nanquantile(0.5, dim=1), [2.0, NAN, 2.5]),
    ("nanquantile_all", lambda m: m.tensor(N).nanquantile(m.tensor([0.25, 0.6])), [1.0, 2.4]),
    ("nanquantile_keepdim_lower", lambda m: m.nanquantile(m.tensor(N), 0.4, 1, True,
                                                          interpolation="lower"),
     [[1.0], [NAN], [1.0]]),
    ("nanquantile_nearest", lambda m: m.tensor(N).nanquantile(0.5, 0, interpolation="nearest"),
     [1.0, NAN, 3.0, 1.0]),
    ("nanquantile_midpoint", lambda m: m.tensor(N).nanquantile(0.3, 1, interpolation="midpoint"),
     [1.5, NAN, 2.5]),
    ("nanquantile_higher", lambda m: m.tensor(N).nanquantile(0.3, 1, interpolation="higher"),
     [2.0, NAN, 4.0]),
]


def _fields(result):
    return [np.asarray(t.tolist()) for t in result] if isinstance(result, tuple) else \
        np.asarray(result.tolist())


@pytest.mark.parametrize("make, want", [pytest.param(f, w, id=n) for n, f, w in CASES])
def test_values_as_recorded_from_pytorch(float64_default, make, want):
    got = make(engine)
    got = _fields(got)
    want = [np.asarray(w) for w in want] if isinstance(got, list) else np.asarray(want)
    for g, w in zip(got, want) if isinstance(got, list) else [(got, want)]:
        np.testing.assert_array_equal(g, w)
        assert g.dtype.kind == w.dtype.kind


@pytest.mark.parametrize("make, want", [pytest.param(f, w, id=n) for n, f, w in CASES])
def test_the_recorded_values_are_pytorchs(torch, make, want):
    got = _fields(make(torch))
    for g, w in zip(got, want) if isinstance(got, list) else [(got, want)]:
        np.testing.assert_array_equal(g, np.asarray(w))


def test_named_tuples_have_pytorchs_names_and_fields():
    x = engine.tensor(X)
    for result, name, fields in ((x.aminmax(), "aminmax", ("min", "max")),
                                 (x.cummax(1), "cummax", ("values", "indices")),
                                 (x.cummin(1), "cummin", ("values", "indices")),
                                 (x.kthvalue(1), "kthvalue", ("values", "indices")),
                                 (x.nanmedian(0), "nanmedian", ("values", "indices"))):
        assert type(result).__name__ == name and result._fields == fields
        assert result[0] is getattr(result, fields[0])
    assert x.cummax(1).indices.dtype == engine.int64
    assert x.kthvalue(1).indices.dtype == engine.int64


def test_the_gradient_goes_to_the_entry_each_value_came_from_and_names_are_pytorchs():
    x = engine.tensor(X, requires_grad=True)
    names = {"CummaxBackward0": x.cummax(1).values, "CumminBackward0": x.cummin(1).values,
             "KthvalueBackward0": x.kthvalue(2).values, "AminmaxBackward0": x.aminmax()[1],
             "SortBackward0": x.msort(), "NanmedianBackward0": x.nanmedian(),
             "NanmedianBackward1": x.nanmedian(1).values}
    assert {name: t.grad_fn.name() for name, t in names.items()} == {n: n for n in names}
    x.cummax(1).values.sum().backward()  # (by hand: each running max counted where it holds)
    assert x.grad.tolist() == [[2.0, 0.0, 3.0, 0.0, 0.0], [1.0, 1.0, 3.0, 0.0, 0.0]]


def test_nanmedian_of_an_all_nan_slice_is_nan_at_its_first_place():
    """PyTorch's index there is where std::nth_element leaves a nan (0 for up to 3 entries,
    then 2, 3, 5, ... as the size grows); here always the first."""
    result = engine.tensor([[NAN] * 5]).nanmedian(1)
    assert math.isnan(result.values.item()) and result.indices.tolist() == [0]


def test_nanquantile_without_nan_is_quantile():
    x = engine.tensor(np.random.default_rng(0).standard_normal((4, 6)))
    q = engine.tensor([0.0, 0.3, 1.0])
    for interpolation in ("linear", "lower", "higher", "nearest", "midpoint"):
        np.testing.assert_array_equal(x.nanquantile(q, 1, interpolation=interpolation).numpy(),
                                      x.quantile(q, 1, interpolation=interpolation).numpy())


@pytest.mark.parametrize("make, error, message", [
    (lambda: engine.zeros(0).aminmax(), RuntimeError, "empty dimension"),
    (lambda: engine.zeros(3).kthvalue(4), ValueError, r"k must be an int from 1 to .* \(3\)"),
    (lambda: engine.zeros(3).kthvalue(0), ValueError, "k must be an int from 1"),
    (lambda: engine.zeros(3).cummax(1), IndexError, "out of range"),
    (lambda: engine.zeros(2, 0).nanmedian(1), IndexError, "has no entries"),
    (lambda: engine.tensor([1, 2]).nanquantile(0.5), TypeError, "takes a float tensor"),
    (lambda: engine.zeros(3).nanquantile(1.5), ValueError, r"numbers in \[0, 1\]"),
    (lambda: engine.zeros(3).nanquantile(0.5, interpolation="cubic"), ValueError,
     "interpolation must be"),
])
def test_errors_name_what_was_wrong(make, error, message):
    with pytest.raises(error, match=message):
        make()
