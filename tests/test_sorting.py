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
