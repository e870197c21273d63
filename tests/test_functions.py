"""engine/functions.py: isclose, allclose, equal, numel and histogram against PyTorch, at
ordinary and edge inputs (empty, 0-d, int and bool dtypes, nan and inf), and their errors."""
from __future__ import annotations

import math

import numpy as np
import pytest

import engine
from engine import Tensor

NAN, INF = math.nan, math.inf
# (a, b): broadcasting pairs, near and far entries, non-finite ones, every dtype kind
PAIRS = [
    ([1.0, 2.0, 3.0], [1.0, 2.00001, 3.1]),
    ([[1.0], [2.0]], [1.0, 2.0, 1e-9]),
    ([0.0, 1e-9, -1e-7], [1e-8, 0.0, 0.0]),
    ([INF, -INF, INF, NAN, NAN, 1.0], [INF, -INF, -INF, NAN, 1.0, INF]),
    (2.5, 2.5000001),
    ([], []),
    (np.zeros((0, 3)), np.zeros(3)),
    (np.array([1, 2, 3]), np.array([1, 3, 3])),
    (np.array([100000, 7]), np.array([100001, 7])),
    (np.array([True, False, True]), np.array([True, True, True])),
    (np.array([1.0, 2.0], np.float32), np.array([1.0000001, 2.00002], np.float32)),
]
TOLERANCES = [{}, {"rtol": 0.0, "atol": 0.0}, {"rtol": 1e-3}, {"atol": 0.5},
              {"equal_nan": True}]


def _pair(a, b, make):
    return make(np.asarray(a)), make(np.asarray(b))


@pytest.mark.parametrize("kwargs", TOLERANCES, ids=str)
@pytest.mark.parametrize("a, b", PAIRS, ids=[str(i) for i in range(len(PAIRS))])
def test_isclose_and_allclose_match_pytorch(torch, a, b, kwargs):
    ours, theirs = _pair(a, b, Tensor), _pair(a, b, torch.as_tensor)
    got = engine.isclose(*ours, **kwargs)
    assert got.dtype == np.bool_ and not got.requires_grad
    np.testing.assert_array_equal(got.numpy(), torch.isclose(*theirs, **kwargs).numpy())
    assert ours[0].allclose(ours[1], **kwargs) is torch.allclose(*theirs, **kwargs)
    assert engine.allclose(*ours, **kwargs) is torch.allclose(*theirs, **kwargs)


UNEQUAL_SHAPES_OR_DTYPES = [([1.0, 2.0], [[1.0, 2.0]]), (np.array([1, 2]), [1.0, 2.0]),
                            (1.0, [1.0])]


@pytest.mark.parametrize("a, b", PAIRS + UNEQUAL_SHAPES_OR_DTYPES,
                         ids=[str(i) for i in range(len(PAIRS) + 3)])
def test_equal_matches_pytorch(torch, a, b):
    ours, theirs = _pair(a, b, Tensor), _pair(a, b, torch.as_tensor)
    assert engine.equal(*ours) is torch.equal(*theirs)
    assert ours[0].equal(ours[1]) is torch.equal(*theirs)


def test_a_tensor_is_close_and_equal_to_itself_and_numel_counts():
    t = engine.randn(3, 4, generator=engine.Generator().manual_seed(0))
    assert engine.allclose(t, t) and engine.equal(t, t.clone())
    assert not engine.equal(t, t + 1e-3) and engine.allclose(t, t + 1e-9)
    assert [engine.numel(x) for x in (t, Tensor(1.0), engine.zeros(0, 5))] == [12, 1, 0]


def _values(kind, n=500):
    rng = np.random.default_rng(0)
    return {"normal": rng.standard_normal(n).astype(np.float32),
            "float64": rng.standard_normal((20, 25)),
            "one value": np.full(7, 2.5, np.float32),
            "empty": np.zeros(0, np.float32),
            "0-d": np.array(-1.5, np.float32),
            "with inf, range given": np.array([0.1, INF, -INF, 0.7, 0.2], np.float32),
            "with nan, range given": np.array([0.1, NAN, 0.7, 1.0, 0.0], np.float32)}[kind]


HISTOGRAMS = [("normal", {}), ("normal", {"bins": 7}), ("normal", {"density": True}),
              ("normal", {"bins": 5, "range": (-1.0, 1.0)}), ("float64", {"bins": 10}),
              ("one value", {"bins": 4}), ("empty", {"bins": 3}), ("0-d", {"bins": 2}),
              ("with inf, range given", {"bins": 4, "range": (0.0, 1.0)}),
              ("with nan, range given", {"bins": 2, "range": (0.0, 1.0), "density": True}),
              ("normal", {"bins": "edges"}), ("normal", {"bins": 6, "weight": True})]


@pytest.mark.parametrize("kind, kwargs", HISTOGRAMS, ids=[f"{k} {w}" for k, w in HISTOGRAMS])
def test_histogram_matches_pytorch(torch, kind, kwargs):
    x = _values(kind)
    ours, theirs = dict(kwargs), dict(kwargs)
    if kwargs.get("bins") == "edges":
        edges = np.array([-3.0, -0.5, 0.0, 0.25, 4.0], np.float32)
        ours["bins"], theirs["bins"] = Tensor(edges), torch.tensor(edges)
    if kwargs.get("weight"):
        w = np.random.default_rng(1).uniform(size=x.shape).astype(x.dtype)
        ours["weight"], theirs["weight"] = Tensor(w), torch.tensor(w)
    hist, edges = engine.histogram(Tensor(x), **ours)
    want_hist, want_edges = torch.histogram(torch.tensor(x), **theirs)
    assert hist.dtype == edges.dtype == x.dtype
    assert not hist.requires_grad and not edges.requires_grad
    # edges: numbers a rounding apart (PyTorch's linspace vectorises its arithmetic)
    np.testing.assert_allclose(edges.numpy(), want_edges.numpy(), rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(hist.numpy(), want_hist.numpy(), rtol=1e-5, atol=0)
    if not kwargs.get("weight") and not kwargs.get("density"):
        np.testing.assert_array_equal(hist.numpy(), want_hist.numpy())  # counts: exact


def test_histogram_of_a_tensor_in_the_graph_is_outside_it_and_a_method():
    t = engine.tensor([0.0, 1.0, 1.0, 3.0], requires_grad=True) * 1
    hist, edges = t.histogram(3)
    assert hist.tolist() == [1.0, 2.0, 1.0] and not hist.requires_grad
    assert edges.tolist() == [0.0, 1.0, 2.0, 3.0]


@pytest.mark.parametrize("call, error, message", [
    (lambda: engine.isclose(Tensor([1, 2]), Tensor([1.0, 2.0])), TypeError,
     "input is int64 but other is float32"),
    (lambda: engine.allclose(Tensor([1.0]), 1.0), TypeError, "other must be a Tensor, got float"),
    (lambda: engine.isclose(Tensor([1.0]), Tensor([1.0]), rtol=-1), ValueError,
     "rtol must be >= 0"),
    (lambda: engine.isclose(engine.zeros(2), engine.zeros(3)), ValueError,
     r"shapes \(2,\) and \(3,\) do not broadcast"),
    (lambda: engine.equal([1.0], Tensor([1.0])), TypeError, "input must be a Tensor, got list"),
    (lambda: engine.histogram(Tensor([1, 2])), TypeError, "must be a float tensor, got int64"),
    (lambda: engine.histogram(Tensor([1.0, NAN])), ValueError, r"is not finite.*range="),
    (lambda: engine.histogram(Tensor([1.0]), 0), ValueError, "bins must be a positive int"),
    (lambda: engine.histogram(Tensor([1.0]), 3, range=(2.0, 1.0)), ValueError,
     "min 2.0 is larger than its max 1.0"),
    (lambda: engine.histogram(Tensor([1.0]), Tensor([2.0, 1.0])), ValueError, "increasing"),
    (lambda: engine.histogram(Tensor([1.0]), weight=Tensor([1.0, 2.0])), ValueError,
     r"weight must have input's shape \(1,\)"),
], ids=["dtypes", "number", "rtol", "shapes", "list", "int histogram", "nan", "no bins",
        "reversed range", "decreasing edges", "weight shape"])
def test_errors_name_what_was_wrong(call, error, message):
    with pytest.raises(error, match=message):
        call()


# --- unique, bincount, searchsorted, bucketize, is_nonzero, is_floating_point ---

COUNTED = np.array([3, 1, 2, 3, 3, 1, 0])


@pytest.mark.parametrize("data, kwargs", [
    (COUNTED, {}), (COUNTED.reshape(7, 1), {"return_inverse": True, "return_counts": True}),
    (np.array([[1, 2], [1, 2], [0, 5]]), {"dim": 0, "return_inverse": True,
                                          "return_counts": True}),
    (np.array([[1, 2], [1, 2], [0, 5]]), {"dim": 1, "return_counts": True}),
    (np.array([2.0, NAN, 1.0, NAN, 2.0]), {"return_counts": True}),  # each nan on its own
    (np.array(7.0), {"return_inverse": True}), (np.zeros(0), {"return_counts": True}),
])
def test_unique_matches_pytorch(torch, data, kwargs):
    ours, theirs = engine.unique(Tensor(data), **kwargs), torch.unique(torch.tensor(data), **kwargs)
    ours, theirs = (ours, theirs) if isinstance(ours, tuple) else ((ours,), (theirs,))
    for got, want in zip(ours, theirs, strict=True):
        assert got.shape == tuple(want.shape) and str(got.dtype) == str(want.dtype)
        np.testing.assert_array_equal(np.asarray(got), want.numpy())


def test_unique_and_bincount_worked_out_by_hand():
    values, inverse, counts = Tensor(COUNTED).unique(return_inverse=True, return_counts=True)
    assert values.tolist() == [0, 1, 2, 3] and inverse.tolist() == [3, 1, 2, 3, 3, 1, 0]
    assert counts.tolist() == [1, 2, 1, 3] and inverse.dtype == counts.dtype == engine.int64
    assert engine.bincount(Tensor(COUNTED)).tolist() == [1, 2, 1, 3]
    assert Tensor(COUNTED).bincount(minlength=6).tolist() == [1, 2, 1, 3, 0, 0]
    weights = Tensor(np.arange(7, dtype=np.float32))
    assert engine.bincount(Tensor(COUNTED), weights).tolist() == [6, 6, 2, 7]
    assert engine.bincount(Tensor(COUNTED), weights).dtype == engine.float32
    assert engine.bincount(Tensor(COUNTED)).dtype == engine.int64


@pytest.mark.parametrize("weights", [None, np.arange(7.0), np.arange(7, dtype=np.float32),
                                     np.arange(7)])
@pytest.mark.parametrize("minlength", [0, 9])
def test_bincount_matches_pytorch(torch, weights, minlength):
    w = None if weights is None else Tensor(weights)
    tw = None if weights is None else torch.tensor(weights)
    got = engine.bincount(Tensor(COUNTED), w, minlength)
    want = torch.bincount(torch.tensor(COUNTED), tw, minlength)
    assert str(got.dtype) == str(want.dtype)
    np.testing.assert_array_equal(np.asarray(got), want.numpy())


SEQUENCE = np.array([1.0, 2.0, 2.0, 3.0])
ROWS = np.array([[1.0, 2.0, 3.0], [0.0, 5.0, 6.0]])


@pytest.mark.parametrize("right", [False, True])
@pytest.mark.parametrize("seq, values", [(SEQUENCE, np.array([[0.0, 2.0], [2.5, 4.0]])),
                                         (SEQUENCE, np.array(2.0)),
                                         (ROWS, np.array([[2.0, 0.0, 9.0], [5.0, 7.0, 5.0]]))])
def test_searchsorted_and_bucketize_match_pytorch(torch, right, seq, values):
    got = engine.searchsorted(Tensor(seq), Tensor(values), right=right)
    want = torch.searchsorted(torch.tensor(seq), torch.tensor(values), right=right)
    assert got.dtype == engine.int64
    np.testing.assert_array_equal(np.asarray(got), want.numpy())
    side = engine.searchsorted(Tensor(seq), Tensor(values), side="right" if right else "left",
                               out_int32=True)
    assert side.dtype == engine.int32 and side.tolist() == got.tolist()
    if seq.ndim == 1:
        got = engine.bucketize(Tensor(values), Tensor(seq), right=right)
        want = torch.bucketize(torch.tensor(values), torch.tensor(seq), right=right)
        np.testing.assert_array_equal(np.asarray(got), want.numpy())


def test_searchsorted_and_bucketize_worked_out_by_hand():
    assert engine.searchsorted(Tensor(SEQUENCE), Tensor([2.0, 5.0])).tolist() == [1, 4]
    assert engine.searchsorted(Tensor(SEQUENCE), 2.0, right=True).tolist() == 3
    unsorted, sorter = Tensor([3.0, 1.0, 2.0]), Tensor([1, 2, 0])  # 1 2 3 in sorter's order
    assert engine.searchsorted(unsorted, Tensor([2.5, 0.0]), sorter=sorter).tolist() == [2, 0]
    # bucket i holds boundaries[i-1] < x <= boundaries[i]
    assert engine.bucketize(Tensor([1.0, 1.5, 3.0, 9.0]), Tensor([1.0, 3.0])).tolist() == [
        0, 1, 1, 2]


def test_is_nonzero_and_is_floating_point():
    assert engine.is_nonzero(Tensor([0.5])) and not engine.is_nonzero(Tensor(0))
    assert Tensor([[True]]).is_nonzero()
    assert engine.is_floating_point(Tensor(1.0)) and not engine.is_floating_point(Tensor(1))


@pytest.mark.parametrize("call, error, message", [
    (lambda: engine.bincount(Tensor([1, -2])), ValueError, "non-negative ints, got -2"),
    (lambda: engine.bincount(Tensor([1.0])), ValueError, "1-D tensor of ints, got float32"),
    (lambda: engine.bincount(Tensor([[1]])), ValueError, r"shape \(1, 1\)"),
    (lambda: engine.bincount(Tensor([1]), Tensor([1.0, 2.0])), ValueError,
     r"weights must have input's shape \(1,\)"),
    (lambda: engine.bincount(Tensor([1]), minlength=-1), ValueError, "minlength"),
    (lambda: engine.searchsorted(Tensor(ROWS), Tensor([1.0])), ValueError, "leading dims"),
    (lambda: engine.searchsorted(Tensor(SEQUENCE), 1.0, right=True, side="left"), ValueError,
     "agree with right=True"),
    (lambda: engine.bucketize(Tensor([1.0]), Tensor(ROWS)), ValueError, "1-D boundaries"),
    (lambda: engine.is_nonzero(Tensor([1, 2])), RuntimeError, "more than one value"),
    (lambda: engine.is_nonzero(Tensor([])), RuntimeError, "no values"),
    (lambda: engine.unique([1, 2]), TypeError, "input must be a Tensor"),
    (lambda: engine.unique(Tensor([1]), dim=2), IndexError, "dim 2 is out of range"),
])
def test_counting_errors_name_what_was_wrong(call, error, message):
    with pytest.raises(error, match=message):
        call()
