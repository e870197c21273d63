"""engine/rearrange.py: swapaxes, swapdims, ravel, unflatten, fliplr, flipud, rot90,
narrow_copy, tensor_split, hsplit, vsplit, dsplit, argwhere. Gradients are rows of
tests/tensor_op_table.py; here: values against PyTorch and as recorded from torch 2.13,
grad_fn names, and errors."""
from __future__ import annotations

import math

import numpy as np
import pytest

import engine

X = np.arange(24.0).reshape(2, 3, 4)

# (name, call on a library m (engine or torch), the value torch 2.13 gives)
CASES = [
    ("ravel", lambda m: m.tensor(X)[:, 1].ravel(), [4.0, 5.0, 6.0, 7.0, 16.0, 17.0, 18.0, 19.0]),
    ("swapaxes", lambda m: m.swapaxes(m.tensor(X), 0, 2)[1],
     [[1.0, 13.0], [5.0, 17.0], [9.0, 21.0]]),
    ("swapdims", lambda m: m.swapdims(m.tensor(X), -1, 1)[0],
     [[0.0, 4.0, 8.0], [1.0, 5.0, 9.0], [2.0, 6.0, 10.0], [3.0, 7.0, 11.0]]),
    ("unflatten", lambda m: m.tensor(X)[0].unflatten(1, (2, -1)),
     [[[0.0, 1.0], [2.0, 3.0]], [[4.0, 5.0], [6.0, 7.0]], [[8.0, 9.0], [10.0, 11.0]]]),
    ("unflatten_function", lambda m: m.unflatten(m.arange(6), 0, (3, 2)), [[0, 1], [2, 3], [4, 5]]),
    ("fliplr", lambda m: m.tensor(X)[0].fliplr(),
     [[3.0, 2.0, 1.0, 0.0], [7.0, 6.0, 5.0, 4.0], [11.0, 10.0, 9.0, 8.0]]),
    ("flipud", lambda m: m.flipud(m.arange(4)), [3, 2, 1, 0]),
    ("rot90", lambda m: m.tensor(X)[0].rot90(),
     [[3.0, 7.0, 11.0], [2.0, 6.0, 10.0], [1.0, 5.0, 9.0], [0.0, 4.0, 8.0]]),
    ("rot90_twice", lambda m: m.rot90(m.tensor(X)[0], 2, [1, 0]),
     [[11.0, 10.0, 9.0, 8.0], [7.0, 6.0, 5.0, 4.0], [3.0, 2.0, 1.0, 0.0]]),
    ("rot90_backwards_other_dims", lambda m: m.tensor(X).rot90(-1, [2, 0])[:, 0],
     [[3.0, 15.0], [2.0, 14.0], [1.0, 13.0], [0.0, 12.0]]),
    ("narrow_copy", lambda m: m.tensor(X)[1].narrow_copy(1, 1, 2),
     [[13.0, 14.0], [17.0, 18.0], [21.0, 22.0]]),
    ("argwhere", lambda m: m.argwhere(m.tensor([[1.0, 0.0], [math.nan, 2.0]])),
     [[0, 0], [1, 0], [1, 1]]),
]
SPLITS = [
    ("tensor_split_sections", lambda m: m.arange(7).tensor_split(3), [[0, 1, 2], [3, 4], [5, 6]]),
    ("tensor_split_more_sections_than_entries", lambda m: m.arange(3).tensor_split(5),
     [[0], [1], [2], [], []]),
    ("tensor_split_indices_as_python_slices",
     lambda m: m.arange(6).tensor_split([-2, 4, 2, 10]), [[0, 1, 2, 3], [], [], [2, 3, 4, 5], []]),
    ("tensor_split_tensor", lambda m: m.tensor_split(m.arange(6).reshape(2, 3), m.tensor([1]), 1),
     [[[0], [3]], [[1, 2], [4, 5]]]),
    ("tensor_split_0d_tensor", lambda m: m.arange(5).tensor_split(m.tensor(2)),
     [[0, 1, 2], [3, 4]]),
    ("hsplit", lambda m: m.arange(8).reshape(2, 4).hsplit(2), [[[0, 1], [4, 5]], [[2, 3], [6, 7]]]),
    ("hsplit_1d", lambda m: m.hsplit(m.arange(4), [1]), [[0], [1, 2, 3]]),
    ("vsplit", lambda m: m.arange(8).reshape(4, 2).vsplit([1, 3]),
     [[[0, 1]], [[2, 3], [4, 5]], [[6, 7]]]),
    ("dsplit", lambda m: m.dsplit(m.arange(8).reshape(1, 2, 4), 2),
     [[[[0, 1], [4, 5]]], [[[2, 3], [6, 7]]]]),
]


def _listed(result):
    return [t.tolist() for t in result] if isinstance(result, tuple) else result.tolist()


@pytest.mark.parametrize("make, want", [pytest.param(f, w, id=n) for n, f, w in CASES + SPLITS])
def test_values_as_recorded_from_pytorch(make, want):
    got = make(engine)
    assert _listed(got) == want
    if not isinstance(got, tuple):
        assert got.dtype == (engine.int64 if isinstance(np.ravel(want)[0], (int, np.integer))
                             else engine.float64)


@pytest.mark.parametrize("make, want", [pytest.param(f, w, id=n) for n, f, w in CASES + SPLITS])
def test_the_recorded_values_are_pytorchs(torch, make, want):
    assert _listed(make(torch)) == want


def test_the_pieces_are_views_in_the_graph_and_named_as_pytorchs():
    x = engine.arange(24.0).reshape(2, 3, 4).requires_grad_()
    names = {"ViewBackward0": x.ravel(), "TransposeBackward0": engine.swapaxes(x, 0, 1),
             "FlipBackward0": x.fliplr(), "Rot90Backward0": x.rot90(3),
             "NarrowCopyBackward0": x.narrow_copy(0, 0, 1), "SliceBackward0": x.hsplit(3)[2]}
    assert {name: t.grad_fn.name() for name, t in names.items()} == {n: n for n in names}
    assert x.unflatten(2, (2, 2)).grad_fn.name() == "ViewBackward0"
    pieces = x.tensor_split([1, 3], dim=2)
    engine.cat([p * (k + 1) for k, p in enumerate(pieces)], 2).sum().backward()
    assert x.grad[0, 0].tolist() == [1.0, 2.0, 2.0, 3.0]


@pytest.mark.parametrize("make, error, message", [
    (lambda: engine.zeros(2, 4).unflatten(1, (3, -1)), ValueError,
     r"sizes \[3, -1\] don't multiply up to the size of dim 1 \(4\)"),
    (lambda: engine.zeros(2, 4).unflatten(1, (-1, -1)), ValueError, "only one size may be -1"),
    (lambda: engine.zeros(0, 3).unflatten(0, (0, -1)), ValueError, "don't multiply up"),
    (lambda: engine.zeros(3).fliplr(), ValueError, "at least 2 dims"),
    (lambda: engine.zeros(()).flipud(), ValueError, "at least 1 dim"),
    (lambda: engine.zeros(3).rot90(), ValueError, "at least 2 dims"),
    (lambda: engine.zeros(3, 3).rot90(1, [0, -2]), ValueError, "must differ"),
    (lambda: engine.zeros(3, 3).rot90(1, [0]), ValueError, "must name 2 dims"),
    (lambda: engine.zeros(3).tensor_split(0), ValueError, "must be positive"),
    (lambda: engine.zeros(3).tensor_split(1.5), TypeError, "an int, or a list"),
    (lambda: engine.zeros(()).tensor_split(1), ValueError, "at least 1 dim"),
    (lambda: engine.zeros(2, 3).hsplit(2), ValueError,
     "dim 1 of size 3 does not split into 2 equal parts"),
    (lambda: engine.zeros(3).vsplit(3), ValueError, "at least 2 dims"),
    (lambda: engine.zeros(2, 2).dsplit(2), ValueError, "at least 3 dims"),
    (lambda: engine.zeros(2, 2).narrow_copy(1, 1, 2), ValueError, "do not fit dim 1"),
])
def test_errors_name_what_was_wrong(make, error, message):
    with pytest.raises(error, match=message):
        make()
