"""engine/construct.py: values against PyTorch and worked out by hand, the index pairs'
dtype, meshgrid's warning, and the errors. (Gradients: the rows of tests/tensor_op_table.py.)"""
from __future__ import annotations

import warnings

import numpy as np
import pytest

import engine

# (name, args as numpy arrays, keyword arguments): each checked against torch.NAME
CASES = [
    ("diag", [np.array([1.0, 2.0])], {"diagonal": -1}),
    ("diag", [np.arange(12.0).reshape(3, 4)], {"diagonal": 2}),
    ("diag", [np.arange(12.0).reshape(3, 4)], {"diagonal": 5}),  # past the corner: empty
    ("diagonal", [np.arange(24.0).reshape(2, 3, 4)], {"offset": -1, "dim1": -1, "dim2": 1}),
    ("trace", [np.arange(6).reshape(2, 3)], {}),
    ("broadcast_tensors", [np.ones((2, 1)), np.arange(3.0), np.float64(4.0)], {}),
    ("atleast_2d", [np.float64(1.0), np.arange(3.0)], {}),
    ("repeat_interleave", [np.arange(6.0).reshape(2, 3), np.array([1, 3])], {"dim": 0}),
    ("repeat_interleave", [np.array([2, 0, 1])], {}),  # the indices, each repeated
    ("kron", [np.arange(4).reshape(2, 2), np.arange(3.0)], {}),
]


def _as_list(out):
    return list(out) if isinstance(out, (tuple, list)) else [out]


@pytest.mark.parametrize("name, args, kwargs", CASES)
def test_values_match_pytorch(torch, name, args, kwargs):
    ours = getattr(engine, name)(*[engine.tensor(a) for a in args], **kwargs)
    theirs = getattr(torch, name)(*[torch.tensor(a) for a in args], **kwargs)
    for got, want in zip(_as_list(ours), _as_list(theirs), strict=True):
        assert got.shape == tuple(want.shape)
        assert str(got.dtype) == str(want.dtype)
        np.testing.assert_array_equal(np.asarray(got), want.numpy())


@pytest.mark.parametrize("name", ["tril_indices", "triu_indices"])
@pytest.mark.parametrize("row, col, offset", [(3, 3, 0), (3, 5, 1), (4, 2, -1), (0, 3, 0)])
def test_triangle_indices_match_pytorch(torch, name, row, col, offset):
    got = getattr(engine, name)(row, col, offset)
    assert got.dtype == engine.int64 and not got.requires_grad
    np.testing.assert_array_equal(np.asarray(got), getattr(torch, name)(row, col, offset).numpy())


def test_values_worked_out_by_hand():
    assert engine.diag(engine.tensor([1, 2]), 1).tolist() == [[0, 1, 0], [0, 0, 2], [0, 0, 0]]
    assert engine.tensor([[1, 2, 3], [4, 5, 6]]).diagonal(1).tolist() == [2, 6]
    assert engine.trace(engine.tensor([[1.0, 9.0], [9.0, 4.0]])).item() == 5.0
    assert engine.tril_indices(3, 3).tolist() == [[0, 1, 1, 2, 2, 2], [0, 0, 1, 0, 1, 2]]
    assert engine.triu_indices(2, 3, 1).tolist() == [[0, 0, 1], [1, 2, 2]]
    xs, ys = engine.meshgrid(engine.tensor([1, 2]), engine.tensor([7, 8, 9]), indexing="xy")
    assert xs.tolist() == [[1, 2]] * 3 and ys.tolist() == [[7, 7], [8, 8], [9, 9]]
    assert engine.repeat_interleave(engine.tensor([5, 6]), 2).tolist() == [5, 5, 6, 6]
    assert engine.kron(engine.tensor([1, 10]), engine.tensor([1, 2])).tolist() == [1, 2, 10, 20]
    a, b = engine.tensor([1, 2]), engine.tensor([3, 4])
    assert engine.hstack([a, b]).tolist() == [1, 2, 3, 4]
    assert engine.vstack([a, b]).tolist() == [[1, 2], [3, 4]]
    assert engine.column_stack([a, b]).tolist() == [[1, 3], [2, 4]]
    assert engine.dstack([a, b]).tolist() == [[[1, 3], [2, 4]]]
    assert engine.atleast_3d(engine.tensor(5)).shape == (1, 1, 1)
    assert engine.atleast_2d(a, b)[1].tolist() == [[3, 4]]


@pytest.mark.parametrize("name", ["hstack", "vstack", "dstack", "column_stack"])
@pytest.mark.parametrize("shape", [(), (3,), (3, 2), (2, 3, 2)])
def test_stacks_match_pytorch(torch, name, shape):
    rng = np.random.default_rng(0)
    arrays = [rng.standard_normal(shape) for _ in range(2)]
    got = getattr(engine, name)([engine.tensor(a) for a in arrays])
    want = getattr(torch, name)([torch.tensor(a) for a in arrays])
    np.testing.assert_array_equal(np.asarray(got), want.numpy())


@pytest.mark.parametrize("indexing", ["ij", "xy"])
def test_meshgrid_of_three_matches_pytorch(torch, indexing):
    sizes = (2, 3, 4)
    ours = engine.meshgrid(*[engine.arange(n) for n in sizes], indexing=indexing)
    theirs = torch.meshgrid(*[torch.arange(n) for n in sizes], indexing=indexing)
    for got, want in zip(ours, theirs, strict=True):
        np.testing.assert_array_equal(np.asarray(got), want.numpy())


def test_meshgrid_warns_without_indexing_as_pytorch_and_not_with_it():
    with pytest.warns(UserWarning, match="indexing argument"):
        grid = engine.meshgrid([engine.arange(2), engine.arange(3)])  # a list works too
    assert [g.shape for g in grid] == [(2, 3), (2, 3)]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        engine.meshgrid(engine.arange(2), indexing="ij")


@pytest.mark.parametrize("call, error, words", [
    (lambda: engine.diag(engine.zeros(2, 2, 2)), ValueError, "1 or 2 dims, got shape (2, 2, 2)"),
    (lambda: engine.diagonal(engine.zeros(3)), ValueError, "at least 2 dims"),
    (lambda: engine.diagonal(engine.zeros(3, 3), 0, 1, -1), ValueError, "must differ"),
    (lambda: engine.trace(engine.zeros(3)), ValueError, "2 dims, got shape (3,)"),
    (lambda: engine.meshgrid(engine.zeros(2, 2), indexing="ij"), ValueError,
     "0-d or 1-d tensors, got shape (2, 2) for tensor 0"),
    (lambda: engine.meshgrid(engine.zeros(2), indexing="yx"), ValueError, "'ij' or 'xy'"),
    (lambda: engine.broadcast_tensors(engine.zeros(2), engine.zeros(3)), ValueError,
     "(2,), (3,) do not broadcast"),
    (lambda: engine.hstack(engine.zeros(2)), TypeError, "list or tuple of Tensors"),
    (lambda: engine.repeat_interleave(engine.zeros(3), engine.tensor([1, 2])), ValueError,
     "one per entry of dim 0 (3)"),
    (lambda: engine.repeat_interleave(engine.zeros(2), -1), ValueError, "not be negative"),
    (lambda: engine.repeat_interleave(engine.zeros(2), 1.5), ValueError, "must be an int"),
])
def test_errors_name_what_was_wrong(call, error, words):
    with pytest.raises(error) as caught:
        call()
    assert words in str(caught.value)
