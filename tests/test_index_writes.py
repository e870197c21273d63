"""engine/index_writes.py: scatter and its reductions, the index_* ops, index_put,
masked_scatter, put, the *_scatter ops, take and take_along_dim, and their in-place forms.
Gradients are rows of tests/tensor_op_table.py (central differences, PyTorch) and its KINKS
(ties, zeros, nan); here: values against PyTorch and as recorded from torch 2.13, dtypes,
errors, grad_fn names, and the in-place forms in and out of the graph."""
from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

import engine
from engine import Tensor

X = np.arange(12.0).reshape(3, 4)
INDEX = np.array([[0, 1, 2, 0], [2, 0, 0, 1]])
SRC = np.arange(1.0, 9.0).reshape(2, 4)

# (name, call on a library m (engine or torch), the value torch 2.13 gives)
CASES = [
    ("scatter", lambda m: m.tensor(X).scatter(0, m.tensor(INDEX), m.tensor(SRC)),
     [[1.0, 6.0, 7.0, 4.0], [4.0, 2.0, 6.0, 8.0], [5.0, 9.0, 3.0, 11.0]]),
    ("scatter_value", lambda m: m.scatter(m.tensor(X), 1, m.tensor([[3], [0], [1]]), value=-1.5),
     [[0.0, 1.0, 2.0, -1.5], [-1.5, 5.0, 6.0, 7.0], [8.0, -1.5, 10.0, 11.0]]),
    ("scatter_reduce_add", lambda m: m.tensor(X).scatter(0, m.tensor(INDEX), m.tensor(SRC),
                                                         reduce="add"),
     [[1.0, 7.0, 9.0, 7.0], [4.0, 7.0, 6.0, 15.0], [13.0, 9.0, 13.0, 11.0]]),
    ("scatter_add", lambda m: m.tensor(X).scatter_add(1, m.tensor([[0, 0, 3], [2, 2, 2]]),
                                                      m.tensor(SRC[:, :3])),
     [[3.0, 1.0, 2.0, 6.0], [4.0, 5.0, 24.0, 7.0], [8.0, 9.0, 10.0, 11.0]]),
    ("scatter_reduce_prod_without_self",
     lambda m: m.tensor(X).scatter_reduce(0, m.tensor(INDEX), m.tensor(SRC), "prod",
                                          include_self=False),
     [[1.0, 6.0, 7.0, 4.0], [4.0, 2.0, 6.0, 8.0], [5.0, 9.0, 3.0, 11.0]]),
    ("scatter_reduce_mean", lambda m: m.tensor(X).scatter_reduce(
        0, m.tensor([[0, 0, 0, 0], [0, 0, 0, 0]]), m.tensor(SRC), "mean"),
     [[2.0, 3.0, 4.0, 5.0], [4.0, 5.0, 6.0, 7.0], [8.0, 9.0, 10.0, 11.0]]),
    ("scatter_reduce_amin_ints", lambda m: m.tensor([5, 1, 2]).scatter_reduce(
        0, m.tensor([0, 0, 2]), m.tensor([7, 3, 9]), "amin", include_self=False),
     [3, 1, 9]),
    ("scatter_reduce_mean_ints_rounds_down", lambda m: m.tensor([0, 1, 2]).scatter_reduce(
        0, m.tensor([0, 0, 0, 1]), m.tensor([1, 3, 3, -4]), "mean"), [1, -2, 2]),
    ("index_add", lambda m: m.tensor(X).index_add(1, m.tensor([0, 3, 0]), m.ones(3, 3,
                                                  dtype=m.float64), alpha=2),
     [[4.0, 1.0, 2.0, 5.0], [8.0, 5.0, 6.0, 9.0], [12.0, 9.0, 10.0, 13.0]]),
    ("index_copy", lambda m: m.tensor(X).index_copy(0, m.tensor([2, 0]), m.tensor(SRC)),
     [[5.0, 6.0, 7.0, 8.0], [4.0, 5.0, 6.0, 7.0], [1.0, 2.0, 3.0, 4.0]]),
    ("index_fill_negative", lambda m: m.tensor(X).index_fill(1, m.tensor([-1, 0]), 9.0),
     [[9.0, 1.0, 2.0, 9.0], [9.0, 5.0, 6.0, 9.0], [9.0, 9.0, 10.0, 9.0]]),
    ("index_put_accumulate", lambda m: m.tensor(X).index_put(
        (m.tensor([0, 0]), m.tensor([1, 1])), m.tensor([1.0, 2.0], dtype=m.float64),
        accumulate=True),
     [[0.0, 4.0, 2.0, 3.0], [4.0, 5.0, 6.0, 7.0], [8.0, 9.0, 10.0, 11.0]]),
    ("index_put_mask", lambda m: m.index_put(m.tensor(X), (m.tensor([True, False, True]),),
                                             m.tensor(-1.0, dtype=m.float64)),
     [[-1.0] * 4, [4.0, 5.0, 6.0, 7.0], [-1.0] * 4]),
    ("masked_scatter", lambda m: m.tensor(X).masked_scatter(
        m.tensor([[True, False, False, True]]), m.tensor(SRC)),
     [[1.0, 1.0, 2.0, 2.0], [3.0, 5.0, 6.0, 4.0], [5.0, 9.0, 10.0, 6.0]]),
    ("put", lambda m: m.tensor(X).put(m.tensor([0, -1]), m.tensor([-5.0, -6.0],
                                                                dtype=m.float64)),
     [[-5.0, 1.0, 2.0, 3.0], [4.0, 5.0, 6.0, 7.0], [8.0, 9.0, 10.0, -6.0]]),
    ("select_scatter_casts", lambda m: m.tensor(X).select_scatter(m.ones(4, dtype=m.float32),
                                                                  0, -1),
     [[0.0, 1.0, 2.0, 3.0], [4.0, 5.0, 6.0, 7.0], [1.0, 1.0, 1.0, 1.0]]),
    ("slice_scatter", lambda m: m.slice_scatter(m.tensor(X), m.zeros(3, 2, dtype=m.float64),
                                                1, 1, None, 2),
     [[0.0, 0.0, 2.0, 0.0], [4.0, 0.0, 6.0, 0.0], [8.0, 0.0, 10.0, 0.0]]),
    ("diagonal_scatter", lambda m: m.tensor(X).diagonal_scatter(m.zeros(3, dtype=m.float64), 1),
     [[0.0, 0.0, 2.0, 3.0], [4.0, 5.0, 0.0, 7.0], [8.0, 9.0, 10.0, 0.0]]),
    ("take", lambda m: m.tensor(X).take(m.tensor([[11, -12], [5, 5]])), [[11.0, 0.0], [5.0, 5.0]]),
    ("take_along_dim", lambda m: m.take_along_dim(m.tensor(X), m.tensor([[3, 0, 0]]), 1),
     [[3.0, 0.0, 0.0], [7.0, 4.0, 4.0], [11.0, 8.0, 8.0]]),
]


@pytest.mark.parametrize("make, want", [pytest.param(f, w, id=n) for n, f, w in CASES])
def test_values_as_recorded_from_pytorch(make, want):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # scatter's deprecated reduce=
        got = make(engine)
    assert got.tolist() == want


@pytest.mark.parametrize("make, want", [pytest.param(f, w, id=n) for n, f, w in CASES])
def test_the_recorded_values_are_pytorchs(torch, make, want):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        assert make(torch).tolist() == want


def test_scatter_reduce_of_random_data_matches_pytorch_for_every_reduction(torch):
    rng = np.random.default_rng(0)
    x, src = rng.standard_normal((4, 5)), rng.standard_normal((6, 5))
    index = rng.integers(0, 4, (6, 5))
    for reduce in ("sum", "prod", "mean", "amax", "amin"):
        for include_self in (True, False):
            ours = Tensor(x).scatter_reduce(0, Tensor(index), Tensor(src), reduce,
                                            include_self=include_self)
            theirs = torch.tensor(x).scatter_reduce(0, torch.tensor(index), torch.tensor(src),
                                                    reduce, include_self=include_self)
            np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-14,
                                       err_msg=f"{reduce} {include_self}")


def test_scatter_uses_only_the_part_of_src_index_covers():
    src = Tensor(np.arange(1.0, 16.0).reshape(3, 5), requires_grad=True)
    out = engine.zeros(3, 4, dtype=engine.float64).scatter(0, Tensor(INDEX), src)
    assert out.tolist() == [[1.0, 7.0, 8.0, 4.0], [0.0, 2.0, 0.0, 9.0], [6.0, 0.0, 3.0, 0.0]]
    out.sum().backward()
    assert src.grad.tolist() == [[1.0] * 4 + [0.0], [1.0] * 4 + [0.0], [0.0] * 5]
    assert engine.gradcheck(lambda s: (engine.zeros(3, 4, dtype=engine.float64).scatter(
        0, Tensor(INDEX), s) * Tensor(X)).sum(), [src])


def test_zero_dim_tensors_and_indexes_count_as_one_entry(torch):
    for m in (engine, torch):
        assert m.zeros(3).scatter(0, m.tensor(1), m.tensor(5.0)).tolist() == [0.0, 5.0, 0.0]
        assert m.zeros(()).scatter(0, m.tensor(0), m.tensor(5.0)).tolist() == 5.0


def test_dtypes_follow_the_tensor_written_into():
    ints = engine.zeros(3, dtype=engine.int64).scatter(0, Tensor([0, 1]), 2.7)
    assert ints.dtype == engine.int64 and ints.tolist() == [2, 2, 0]  # (torch 2.13: the same)
    half = engine.zeros(2, dtype=engine.float16).index_fill(0, Tensor([1]), 0.5)
    assert half.dtype == engine.float16
    for op in (lambda t: t.scatter_reduce(0, Tensor([0]), engine.ones(1), "amax"),
               lambda t: t.index_add(0, Tensor([0]), engine.ones(1)),
               lambda t: t.put(Tensor([0]), engine.ones(1))):
        assert op(engine.zeros(2)).dtype == engine.float32
    index32 = Tensor(np.array([2], np.int32))
    assert engine.zeros(3).scatter(0, index32, 1.0).tolist() == [0.0, 0.0, 1.0]


def test_grad_fn_names_are_pytorchs():
    x = engine.zeros(3, 4, requires_grad=True)
    s = engine.ones(2, 4, requires_grad=True)
    i = Tensor(INDEX)
    # (PyTorch 2.13's names, recorded)
    names = {"ScatterBackward0": x.scatter(0, i, s), "ScatterBackward1": x.scatter(0, i, 1.0),
             "ScatterAddBackward0": x.scatter_add(0, i, s),
             "ScatterReduceBackward0": x.scatter_reduce(0, i, s, "amax"),
             "IndexAddBackward0": x.index_add(0, Tensor([0, 1]), s),
             "IndexCopyBackward0": x.index_copy(0, Tensor([0, 1]), s),
             "IndexFillBackward0": x.index_fill(1, Tensor([0]), 2.0),
             "IndexFillBackward1": x.index_fill(1, Tensor([0]), engine.tensor(2.0)),
             "IndexPutBackward0": x.index_put((Tensor([0]),), s[0]),
             "MaskedScatterBackward0": x.masked_scatter(Tensor([True, False, True, False]), s),
             "PutBackward0": x.put(Tensor([0]), s[0, :1]),
             "SelectScatterBackward0": x.select_scatter(s[0], 0, 1),
             "SliceScatterBackward0": x.slice_scatter(s, 0, 1),
             "DiagonalScatterBackward0": x.diagonal_scatter(s[0, :3]),
             "TakeBackward0": x.take(Tensor([0, 5])),
             "GatherBackward0": x.take_along_dim(Tensor([[0], [1], [2]]), 1)}
    assert {name: t.grad_fn.name() for name, t in names.items()} == {n: n for n in names}


def test_scatter_reduce_amax_splits_among_ties_counting_the_tensors_own_entry_unused():
    """PyTorch's rule, worked out by hand: self 5 equals the result, so with include_self
    False it still counts in the tie (3 ways) but gets no gradient itself."""
    x = Tensor([5.0, 1.0], requires_grad=True)
    src = Tensor([5.0, 3.0, 5.0], requires_grad=True)
    out = x.scatter_reduce(0, Tensor([0, 0, 0]), src, "amax", include_self=False)
    out.backward(Tensor([6.0, 1.0]))
    assert out.tolist() == [5.0, 1.0]
    assert x.grad.tolist() == [0.0, 1.0] and src.grad.tolist() == [2.0, 0.0, 2.0]


@pytest.mark.parametrize("make, error, message", [
    (lambda: engine.zeros(3, 4).scatter(0, Tensor([0]), engine.ones(3, 4)), ValueError,
     "the index must have the tensor's number of dims, 2"),
    (lambda: engine.zeros(3).scatter(0, Tensor([3]), engine.ones(1)), IndexError,
     "index 3 is out of bounds for dimension 0 with size 3"),
    (lambda: engine.zeros(3).scatter(0, Tensor([-1]), engine.ones(1)), IndexError,
     "index -1 is out of bounds"),
    (lambda: engine.zeros(3).scatter(0, Tensor([0]), engine.ones(1, dtype=engine.float64)),
     TypeError, "src is float64 but the tensor written into is float32"),
    (lambda: engine.zeros(3).scatter(0, Tensor([0.0]), 1.0), TypeError,
     "must be an int64 (or int32) tensor, got float32"),
    (lambda: engine.zeros(3, 4).scatter(0, Tensor(np.zeros((2, 5), np.int64)),
                                        engine.ones(3, 5)), ValueError, "no larger than"),
    (lambda: engine.zeros(3).scatter(0, Tensor([0])), TypeError, "needs src"),
    (lambda: engine.zeros(3).scatter(0, Tensor([0]), 1.0, reduce="max"), ValueError,
     "'add' or 'multiply'"),
    (lambda: engine.zeros(3).scatter_reduce(0, Tensor([0]), engine.ones(1), "max"), ValueError,
     "reduce must be one of sum, prod, mean, amax, amin"),
    (lambda: engine.zeros(3, 4).index_add(0, Tensor([0, 1]), engine.ones(1, 4)), ValueError,
     "one slice per index entry along dim 0, (2, 4)"),
    (lambda: engine.zeros(3).index_copy(0, Tensor([[0]]), engine.ones(1)), ValueError,
     "0-d or 1-D"),
    (lambda: engine.zeros(3).index_copy(0, Tensor([-1]), engine.ones(1)), IndexError,
     "index -1 is out of bounds"),
    (lambda: engine.zeros(3, 4).index_fill(0, Tensor([0]), engine.ones(2)), ValueError,
     "a number or a 0-d tensor"),
    (lambda: engine.zeros(3).index_put(Tensor([0]), engine.ones(1)), TypeError,
     "tuple or list of index tensors"),
    (lambda: engine.zeros(3).index_put((Tensor([0.0]),), engine.ones(1)), TypeError,
     "int64, int32 or bool"),
    (lambda: engine.zeros(3).index_put((Tensor([5]),), engine.ones(1)), IndexError,
     "do not fit a tensor of shape (3,)"),
    (lambda: engine.zeros(3).masked_scatter(Tensor([True, True, False]), engine.ones(1)),
     ValueError, "marks 2 places but source has only 1 entries"),
    (lambda: engine.zeros(3).masked_scatter(Tensor([1, 0, 0]), engine.ones(3)), TypeError,
     "must be a bool tensor, got int64"),
    (lambda: engine.zeros(3).masked_scatter(Tensor([True, False]), engine.ones(3)),
     ValueError, "does not broadcast"),
    (lambda: engine.zeros(3).put(Tensor([0, 1]), engine.ones(1)), ValueError,
     "as many entries, got 1 and 2"),
    (lambda: engine.zeros(3, 4).take(Tensor([12])), IndexError,
     "tried to access index 12 on a tensor of 12 elements"),
    (lambda: engine.zeros(3, 4).select_scatter(engine.ones(3), 0, 1), ValueError,
     "the shape of the part it replaces, (4,); got (3,)"),
    (lambda: engine.zeros(3, 4).select_scatter(engine.ones(4), 0, 3), IndexError,
     "index 3 is out of range for dim 0"),
    (lambda: engine.zeros(3, 4).slice_scatter(engine.ones(3, 4), 1, step=0), ValueError,
     "step must be positive"),
    (lambda: engine.zeros(3, 4).diagonal_scatter(engine.ones(4)), ValueError,
     "the diagonal's shape (3,)"),
    (lambda: engine.zeros(3).diagonal_scatter(engine.ones(1)), ValueError, "at least 2 dims"),
    (lambda: engine.zeros(3, 4).take_along_dim(Tensor([0]), 1), ValueError,
     "as many dims, got 2 and 1"),
    (lambda: engine.zeros(3, 4).take_along_dim(Tensor([[0], [1]]), 1), ValueError,
     "do not broadcast"),
    (lambda: engine.zeros(3, 4).take_along_dim(Tensor([[4]]), 1), IndexError,
     "index 4 is out of bounds for dimension 1 with size 4"),
])
def test_errors_name_what_was_wrong(make, error, message):
    with pytest.raises(error, match=message.replace("(", r"\(").replace(")", r"\)")):
        make()


# --- the in-place forms ---

def test_in_place_forms_write_into_the_tensors_own_memory():
    x = engine.zeros(5)
    array = x.numpy()
    assert x.scatter_(0, Tensor([4, 0]), engine.tensor([1.0, 2.0])) is x
    x.index_add_(0, Tensor([1, 1]), engine.tensor([3.0, 4.0]), alpha=2)
    x.index_fill_(0, Tensor([2]), -1.0)
    x.index_copy_(0, Tensor([3]), engine.tensor([7.0]))
    x.put_(Tensor([-1]), engine.tensor([8.0]), accumulate=True)
    x.masked_scatter_(Tensor([True, False, False, False, False]), engine.tensor([5.0]))
    x.index_put_((Tensor([2]),), engine.tensor(6.0))
    x.scatter_add_(0, Tensor([0, 0]), engine.tensor([1.0, 1.0]))
    x.scatter_reduce_(0, Tensor([1]), engine.tensor([100.0]), "amin")
    assert array.tolist() == [7.0, 14.0, 6.0, 7.0, 9.0] and x._version == 9


def test_an_in_place_write_of_a_value_that_requires_grad_records_it(torch):
    for m in (engine, torch):
        x = m.tensor([1.0, 2.0, 3.0], requires_grad=True)
        out = m.zeros(5)
        out.scatter_(0, m.tensor([4, 0, 2]), x * 2)
        assert out.requires_grad and out.grad_fn.name() == "ScatterBackward0"
        (out * m.tensor([1.0, 2.0, 3.0, 4.0, 5.0])).sum().backward()
        assert x.grad.tolist() == [10.0, 2.0, 6.0], m.__name__


def test_in_place_forms_in_the_graph_backprop_through_the_old_value(torch):
    def run(m):
        x = m.tensor([1.0, 2.0, 3.0], requires_grad=True)
        y = x * 1
        y.index_add_(0, m.tensor([0, 2]), y[:2] * 10)  # reads y's old self
        y.index_put_((m.tensor([1]),), m.tensor([9.0]), accumulate=True)
        y.masked_scatter_(m.tensor([False, True, False]), m.tensor([7.0]))
        (y * m.tensor([1.0, 2.0, 3.0])).sum().backward()
        return y.tolist(), x.grad.tolist()
    assert run(engine) == run(torch) == ([11.0, 7.0, 23.0], [11.0, 30.0, 3.0])


def test_an_in_place_write_into_a_leaf_that_requires_grad_is_refused():
    with pytest.raises(RuntimeError, match="a leaf tensor that requires grad"):
        engine.zeros(3, requires_grad=True).scatter_(0, Tensor([0]), 1.0)


def test_scatter_with_reduce_warns_for_a_tensor_src_as_pytorch_does():
    with pytest.warns(UserWarning, match="reduce argument of torch.scatter with Tensor src"):
        out = engine.ones(3).scatter(0, Tensor([0, 0]), engine.tensor([2.0, 3.0]),
                                     reduce="multiply")
    assert out.tolist() == [6.0, 1.0, 1.0]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert engine.ones(3).scatter_(0, Tensor([2]), 4.0, reduce="add").tolist() == \
            [1.0, 1.0, 5.0]


def test_the_functions_take_out():
    out = engine.empty(3)
    engine.scatter(engine.zeros(3), 0, Tensor([1]), 2.0, out=out)
    assert out.tolist() == [0.0, 2.0, 0.0]
    assert math.isclose(engine.take(engine.arange(4.0), Tensor([3])).item(), 3.0)
