"""engine/sorting.py: sort, argsort and topk order ties and nan as PyTorch does and refuse a
bad k. (Their gradients are rows of tests/tensor_op_table.py: sort, topk, ...)"""
from __future__ import annotations

import numpy as np
import pytest

import engine

NAN = float("nan")
TIES = [[1.0, 3.0, 3.0, NAN, 2.0, 3.0], [0.0, 0.0, 0.0, 0.0, 0.0, 0.0]]
# PyTorch 2.13's torch.sort(torch.tensor(TIES), stable=True[, descending=True]).indices
UP = [[0, 4, 1, 2, 5, 3], [0, 1, 2, 3, 4, 5]]
DOWN = [[3, 1, 2, 5, 4, 0], [0, 1, 2, 3, 4, 5]]


@pytest.mark.parametrize("descending, order", [(False, UP), (True, DOWN)])
def test_sort_keeps_ties_in_order_and_counts_nan_as_largest(descending, order):
    x = engine.tensor(TIES)
    values, indices = x.sort(descending=descending)
    assert indices.tolist() == order and indices.dtype == engine.int64
    np.testing.assert_array_equal(values.numpy(), np.take_along_axis(np.array(TIES), np.array(order), 1))
    assert engine.argsort(x, descending=descending).tolist() == order


def test_sort_matches_pytorch_on_many_ties_along_every_dim():
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(0).integers(0, 4, (3, 5, 7)).astype(np.float32)
    x[0, 1, 2] = x[2, 4, 6] = NAN
    for dim in (0, 1, -1):
        for descending in (False, True):
            ours = engine.tensor(x).sort(dim, descending)
            theirs = torch.sort(torch.tensor(x), dim=dim, descending=descending, stable=True)
            assert ours.indices.tolist() == theirs.indices.tolist()
            np.testing.assert_array_equal(ours.values.numpy(), theirs.values.numpy())


@pytest.mark.parametrize("largest", [True, False])
def test_topk_gives_the_k_largest_or_smallest_first_and_where_they_were(largest):
    x = engine.tensor([[0.5, -2.0, 7.0, 1.0], [3.0, 3.0, -1.0, 0.0]])
    values, indices = x.topk(2, largest=largest)
    expected = [[7.0, 1.0], [3.0, 3.0]] if largest else [[-2.0, 0.5], [-1.0, 0.0]]
    assert values.tolist() == expected
    assert x.gather(1, indices).tolist() == expected
    assert type(x.topk(1)).__name__ == "topk" and x.topk(1)._fields == ("values", "indices")


def test_topk_of_nanogpt_sampling_keeps_the_top_logits():
    logits = engine.tensor([[0.1, 2.0, -1.0, 0.7, 1.5]])
    v, _ = engine.topk(logits, min(3, logits.size(-1)))  # nanoGPT's generate()
    kept = logits.masked_fill(logits < v[:, [-1]], -float("inf"))
    assert kept.isinf().tolist() == [[True, False, True, False, False]]  # below 0.7: out


@pytest.mark.parametrize("k", [-1, 4, 1.5, True])
def test_topk_refuses_a_k_the_dim_cannot_give(k):
    with pytest.raises(ValueError, match=rf"topk: k must be an int from 0 to the size of "
                                         rf"dim 1 \(3\), got {k!r}"):
        engine.ones(2, 3).topk(k)


def test_sorting_a_number_and_an_int_tensor():
    values, indices = engine.tensor(2.5).sort()
    assert values.item() == 2.5 and indices.item() == 0
    labels = engine.tensor([3, 1, 2])
    assert labels.sort().values.tolist() == [1, 2, 3] and labels.argsort().tolist() == [1, 2, 0]
    assert engine.tensor([1.0, 4.0]).topk(0).values.shape == (0,)


# --- median, mode, quantile ---

DATA = np.array([[4.0, 1.0, 3.0, 2.0], [0.5, -1.0, 7.0, 7.5], [2.0, NAN, 1.0, 0.0]])


def test_median_is_the_lower_middle_entry_and_nan_where_a_row_has_nan():
    values, indices = engine.median(engine.tensor(DATA), 1)
    assert values.tolist()[:2] == [2.0, 0.5] and np.isnan(values.tolist()[2])
    assert indices.tolist() == [3, 0, 1] and indices.dtype == engine.int64
    assert engine.tensor([3.0, 1.0, 2.0]).median().item() == 2.0
    assert np.isnan(engine.tensor(DATA).median().item())
    assert engine.median(engine.tensor(DATA[:2]), 0, keepdim=True).values.shape == (1, 4)


def test_median_sends_the_gradient_to_the_chosen_entry():
    x = engine.tensor([[4.0, 1.0, 3.0, 2.0]], requires_grad=True)
    x.median(1).values.sum().backward()
    assert np.asarray(x.grad).tolist() == [[0.0, 0.0, 0.0, 1.0]]


MEDIAN_TIES = {  # entries -> the gradient of median() and of nanmedian(), by hand
    "two tie": ([1.0, 2.0, 2.0, 1.0], [0.5, 0, 0, 0.5], [0.5, 0, 0, 0.5]),
    "three tie": ([3.0, 3.0, 1.0, 3.0], [1 / 3, 1 / 3, 0, 1 / 3], [1 / 3, 1 / 3, 0, 1 / 3]),
    "nan": ([np.nan, 1.0, np.nan, 2.0], [0.5, 0, 0.5, 0], [0, 1, 0, 0]),
    "all nan": ([np.nan, np.nan], [0.5, 0.5], [0.5, 0.5]),
    "-inf": ([1.0, -np.inf, -np.inf, 5.0, 1.0], [0.5, 0, 0, 0, 0.5], [0.5, 0, 0, 0, 0.5]),
}


@pytest.mark.parametrize("case", MEDIAN_TIES)
@pytest.mark.parametrize("op", ["median", "nanmedian"])
def test_median_of_all_entries_shares_the_gradient_among_ties(op, case):
    """As PyTorch's evenly_distribute_backward (with dim, the chosen entry gets it all)."""
    data, *wanted = MEDIAN_TIES[case]
    x = engine.tensor(np.array(data), requires_grad=True)
    y = getattr(x, op)()
    y.backward()
    np.testing.assert_allclose(x.grad.numpy(), wanted[op == "nanmedian"], rtol=1e-15)
    assert y.grad_fn.name() == f"{op.capitalize()}Backward0"


@pytest.mark.parametrize("case", MEDIAN_TIES)
@pytest.mark.parametrize("op", ["median", "nanmedian"])
def test_median_of_all_entries_shares_the_gradient_as_pytorchs(torch, op, case):
    grads = []
    for m in (engine, torch):
        x = m.tensor(np.array(MEDIAN_TIES[case][0]), requires_grad=True)
        getattr(x, op)().backward()
        grads.append(x.grad.numpy())
    np.testing.assert_array_equal(*grads)


@pytest.mark.parametrize("dim, keepdim", [(None, False), (0, False), (1, True), (-1, False)])
def test_median_matches_pytorch(torch, dim, keepdim):
    rng = np.random.default_rng(0)
    for data in (DATA, rng.standard_normal((3, 5)), rng.integers(0, 100, (4, 3))):
        if dim is None:
            np.testing.assert_array_equal(engine.tensor(data).median().numpy(),
                                          torch.tensor(data).median().numpy())
            continue
        ours, theirs = engine.median(engine.tensor(data), dim, keepdim), torch.median(
            torch.tensor(data), dim, keepdim)
        np.testing.assert_array_equal(ours.values.numpy(), theirs.values.numpy())
        np.testing.assert_array_equal(ours.indices.numpy(), theirs.indices.numpy())


REPEATS = np.array([[1, 2, 2, 3, 3, 0], [5, 5, 4, 4, 1, 1], [7, 7, 7, 1, 1, 1]])


def test_mode_is_the_smallest_most_frequent_entry_at_its_last_place():
    values, indices = engine.tensor(REPEATS).mode()
    assert values.tolist() == [2, 1, 1] and indices.tolist() == [2, 5, 5]
    assert indices.dtype == engine.int64


@pytest.mark.parametrize("dim", [0, 1])
def test_mode_matches_pytorch(torch, dim):
    floats = REPEATS * 0.5 - 1  # (without nan: where PyTorch's sort leaves it decides there)
    for data in (REPEATS, floats):
        ours, theirs = engine.mode(engine.tensor(data), dim), torch.mode(torch.tensor(data), dim)
        np.testing.assert_array_equal(ours.values.numpy(), theirs.values.numpy())
        np.testing.assert_array_equal(ours.indices.numpy(), theirs.indices.numpy())


def test_quantile_interpolates_between_the_two_nearest_ranks():
    x = engine.tensor([4.0, 1.0, 3.0, 2.0])  # sorted 1 2 3 4: rank 0.4 * 3 = 1.2
    assert x.quantile(0.4).item() == pytest.approx(2.2)
    want = {"lower": 2.0, "higher": 3.0, "nearest": 2.0, "midpoint": 2.5}
    assert {k: x.quantile(0.4, interpolation=k).item() for k in want} == want
    assert np.isnan(engine.quantile(engine.tensor(DATA), 0.5, 1).tolist()[2])


@pytest.mark.parametrize("interpolation", ["linear", "lower", "higher", "nearest", "midpoint"])
@pytest.mark.parametrize("q", [0.35, [0.0, 0.25, 0.5, 1.0]])
@pytest.mark.parametrize("dim, keepdim", [(None, False), (None, True), (0, False), (1, True)])
def test_quantile_matches_pytorch(torch, interpolation, q, dim, keepdim):
    data = np.random.default_rng(1).standard_normal((3, 5))
    ours = engine.quantile(engine.tensor(data), engine.tensor(q) if isinstance(q, list) else q,
                           dim, keepdim, interpolation=interpolation)
    theirs = torch.quantile(torch.tensor(data), torch.tensor(q) if isinstance(q, list) else q,
                            dim, keepdim, interpolation=interpolation)
    assert ours.shape == tuple(theirs.shape)
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-12)


@pytest.mark.parametrize("call, error, message", [
    (lambda: engine.quantile(engine.tensor([1, 2]), 0.5), TypeError, "float tensor, got int64"),
    (lambda: engine.quantile(engine.tensor([1.0]), 1.5), ValueError, r"in \[0, 1\]"),
    (lambda: engine.quantile(engine.tensor([1.0]), 0.5, interpolation="cubic"), ValueError,
     "'cubic'"),
    (lambda: engine.quantile(engine.zeros(0), 0.5), IndexError, "no entries"),
    (lambda: engine.median(engine.zeros(2, 0), 1), IndexError, "no entries"),
    (lambda: engine.median(engine.zeros(2), 1), IndexError, "out of range"),
])
def test_statistics_errors_name_what_was_wrong(call, error, message):
    with pytest.raises(error, match=message):
        call()
