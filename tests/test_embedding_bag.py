"""nn/embedding_bag.py against torch.nn.functional.embedding_bag and torch.nn.EmbeddingBag:
every mode with 1-D input and offsets, 2-D input, per_sample_weights, include_last_offset,
padding_idx, max_norm; values, the weight's and per_sample_weights' gradients, grad_fn,
float32; the module's repr, seeded initialisation and a torch state_dict loaded. Without
PyTorch: central differences, values worked out by hand, scale_grad_by_freq, errors."""
from __future__ import annotations

import numpy as np
import pytest

import engine
import nn
import nn.functional as F

rng = np.random.default_rng(0)
WEIGHT = rng.standard_normal((7, 4))
WEIGHT[3, 1] = WEIGHT[5, 1]  # a tie for the max: the first of the bag wins
FLAT = np.array([0, 2, 2, 5, 1, 3, 5, 6, 0])
OFFSETS = np.array([0, 2, 2, 5])  # bags [0, 2], [], [2, 5, 1], [3, 5, 6, 0]
GRID = np.array([[0, 2, 3], [5, 5, 1], [6, 3, 2]])
# (name, input, keyword arguments; 'psw' becomes per_sample_weights)
CASES = [("sum", FLAT, dict(offsets=OFFSETS, mode="sum")),
         ("mean", FLAT, dict(offsets=OFFSETS)),
         ("max", FLAT, dict(offsets=OFFSETS, mode="max")),
         ("2-D sum", GRID, dict(mode="sum")), ("2-D mean", GRID, dict()),
         ("2-D max", GRID, dict(mode="max")),
         ("per_sample_weights", FLAT, dict(offsets=OFFSETS, mode="sum", psw=rng.random(9))),
         ("per_sample_weights 2-D", GRID, dict(mode="sum", psw=rng.random((3, 3)))),
         ("include_last_offset", FLAT, dict(offsets=np.r_[OFFSETS, 9], include_last_offset=True)),
         ("include_last_offset max", FLAT, dict(offsets=np.r_[OFFSETS, 9], mode="max",
                                                include_last_offset=True)),
         ("padding_idx mean", FLAT, dict(offsets=OFFSETS, padding_idx=2)),
         ("padding_idx max", FLAT, dict(offsets=OFFSETS, mode="max", padding_idx=-2)),
         ("padding_idx weighted", FLAT, dict(offsets=OFFSETS, mode="sum", padding_idx=0,
                                             psw=rng.random(9))),
         ("max_norm", FLAT, dict(offsets=OFFSETS, mode="sum", max_norm=1.0)),
         ("max_norm 1-norm", FLAT, dict(offsets=OFFSETS, max_norm=1.5, norm_type=1.0))]


def _run(lib, F, index, kwargs, dtype):
    kwargs = dict(kwargs)
    psw = kwargs.pop("psw", None)
    if "offsets" in kwargs:
        kwargs["offsets"] = lib.tensor(kwargs["offsets"])
    w = lib.tensor(WEIGHT.astype(dtype), requires_grad=True)
    p = None if psw is None else lib.tensor(psw.astype(dtype), requires_grad=True)
    out = F.embedding_bag(lib.tensor(index), w, per_sample_weights=p, **kwargs)
    (out * lib.tensor(np.arange(1.0, out.numel() + 1).reshape(tuple(out.shape)).astype(dtype))
     ).sum().backward()
    return ([out.detach().numpy(), w.grad.numpy(), w.detach().numpy()]
            + ([] if p is None else [p.grad.numpy()]), out.grad_fn.name())


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("name, index, kwargs", CASES, ids=[c[0] for c in CASES])
def test_embedding_bag_is_pytorchs(torch, name, index, kwargs, dtype):
    ours = _run(engine, F, index, kwargs, dtype)
    theirs = _run(torch, torch.nn.functional, index, kwargs, dtype)
    tight = dtype == np.float64
    for got, want in zip(ours[0], theirs[0]):  # output, weight's gradient, weight, psw's grad
        assert got.dtype == dtype
        np.testing.assert_allclose(got, want, rtol=1e-14 if tight else 1e-6,
                                   atol=1e-15 if tight else 1e-6)
    assert ours[1] == theirs[1] == "EmbeddingBagBackward0"


def test_module_repr_seeded_weights_and_a_torch_state_dict(torch):
    for kwargs in ({}, {"mode": "max", "padding_idx": -1, "max_norm": 1.0, "norm_type": 1.0},
                   {"mode": "sum", "scale_grad_by_freq": True}):
        torch.manual_seed(5)
        theirs = torch.nn.EmbeddingBag(10, 3, dtype=torch.float32, **kwargs)
        engine.manual_seed(5)
        ours = nn.EmbeddingBag(10, 3, **kwargs)
        assert repr(ours) == repr(theirs)
        np.testing.assert_array_equal(ours.weight.numpy(), theirs.weight.detach().numpy())
    theirs = torch.nn.EmbeddingBag(10, 3, mode="sum", dtype=torch.float32)
    ours = nn.EmbeddingBag(10, 3, mode="sum")
    ours.load_state_dict(theirs.state_dict(), strict=True)
    assert list(ours.state_dict()) == ["weight"]
    index, offsets = np.array([1, 4, 4, 9]), np.array([0, 1])
    np.testing.assert_array_equal(ours(engine.tensor(index), engine.tensor(offsets)).numpy(),
                                  theirs(torch.tensor(index), torch.tensor(offsets)).detach()
                                  .numpy())


# --- without PyTorch ---

def test_gradients_match_central_differences():
    untied = WEIGHT + np.arange(WEIGHT.size).reshape(WEIGHT.shape) * 1e-3  # (max: no ties)
    weight = engine.tensor(untied, requires_grad=True, dtype=engine.float64)
    psw = engine.tensor(rng.random(9), requires_grad=True, dtype=engine.float64)
    for mode in ("sum", "mean", "max"):
        assert engine.gradcheck(lambda w, mode=mode: F.embedding_bag(
            FLAT, w, OFFSETS, mode=mode, padding_idx=6), [weight])
    assert engine.gradcheck(lambda w, p: F.embedding_bag(
        FLAT, w, OFFSETS, mode="sum", per_sample_weights=p), [weight, psw])


def test_values_worked_out_by_hand():
    w = engine.tensor([[1.0, 10.0], [2.0, 20.0], [4.0, -40.0]])
    index, offsets = engine.tensor([0, 2, 1, 1, 2]), engine.tensor([0, 2, 2])
    assert F.embedding_bag(index, w, offsets, mode="sum").tolist() == [
        [5.0, -30.0], [0.0, 0.0], [8.0, 0.0]]
    np.testing.assert_allclose(F.embedding_bag(index, w, offsets).numpy(),
                               [[2.5, -15.0], [0.0, 0.0], [8 / 3, 0.0]], rtol=1e-7)
    assert F.embedding_bag(index, w, offsets, mode="max").tolist() == [
        [4.0, 10.0], [0.0, 0.0], [4.0, 20.0]]
    # padding_idx 2 leaves its entries out of the bags and of the mean's count
    assert F.embedding_bag(index, w, offsets, padding_idx=2).tolist() == [
        [1.0, 10.0], [0.0, 0.0], [2.0, 20.0]]
    assert F.embedding_bag(engine.tensor([[0, 1], [2, 2]]), w, mode="sum",
                           per_sample_weights=engine.tensor([[1.0, 0.5], [2.0, -1.0]])
                           ).tolist() == [[2.0, 20.0], [4.0, -40.0]]
    assert F.embedding_bag(index, w, engine.tensor([], dtype=engine.int64)).shape == (0, 2)


def test_max_sends_the_gradient_to_the_row_holding_each_maximum():
    w = engine.tensor([[1.0, 5.0], [3.0, 5.0], [2.0, 0.0]], requires_grad=True)
    F.embedding_bag(engine.tensor([0, 1, 2]), w, engine.tensor([0]), mode="max").sum().backward()
    assert w.grad.tolist() == [[0.0, 1.0], [1.0, 0.0], [0.0, 0.0]]  # the tie: the first row


def test_scale_grad_by_freq_divides_each_rows_gradient_by_its_count():
    # as F.embedding's scale_grad_by_freq (PyTorch 2.13's embedding_bag kernel gives some
    # rows another row's count; this is the documented rule)
    w = engine.tensor(np.ones((4, 2)), requires_grad=True)
    F.embedding_bag(engine.tensor([0, 2, 2, 3, 2, 0]), w, engine.tensor([0, 3]), mode="sum",
                    scale_grad_by_freq=True).sum().backward()
    assert w.grad.tolist() == [[1.0, 1.0], [0.0, 0.0], [1.0, 1.0], [1.0, 1.0]]
    w.grad = None
    F.embedding_bag(engine.tensor([0, 2, 2, 3, 2, 0]), w, engine.tensor([0, 3]), mode="mean",
                    scale_grad_by_freq=True).sum().backward()
    np.testing.assert_allclose(w.grad.numpy(), [[1 / 3] * 2, [0.0] * 2, [1 / 3] * 2,
                                                [1 / 3] * 2], rtol=1e-15)


def test_max_norm_rescales_the_rows_picked_in_place():
    w = engine.tensor([[3.0, 4.0], [0.3, 0.4], [6.0, 8.0]])
    F.embedding_bag(engine.tensor([0, 1]), w, engine.tensor([0]), max_norm=1.0)
    np.testing.assert_allclose(w.numpy(), [[0.6, 0.8], [0.3, 0.4], [6.0, 8.0]], rtol=1e-6)


def test_module_trains_its_weight_and_from_pretrained_freezes_it():
    layer = nn.EmbeddingBag(5, 3, mode="sum", padding_idx=0)
    assert layer.weight.numpy()[0].tolist() == [0.0] * 3
    layer(engine.tensor([[1, 0, 2]])).sum().backward()
    assert layer.weight.grad.numpy()[[0, 3, 4]].tolist() == [[0.0] * 3] * 3
    assert layer.weight.grad.numpy()[[1, 2]].tolist() == [[1.0] * 3] * 2
    frozen = nn.EmbeddingBag.from_pretrained(engine.tensor([[1.0, 2.0], [3.0, 4.0]]))
    assert not frozen.weight.requires_grad
    assert frozen(engine.tensor([[0, 1]])).tolist() == [[2.0, 3.0]]
    assert layer(engine.tensor([[1, 2]])).dtype == engine.float32


def test_bad_inputs_raise_clear_errors():
    w, index, offsets = engine.ones(6, 3), engine.tensor([0, 2, 5]), engine.tensor([0, 2])
    with pytest.raises(ValueError, match="offsets has to be a 1D Tensor but got None"):
        F.embedding_bag(index, w)
    with pytest.raises(ValueError, match="if input is 2D, then offsets has to be None"):
        F.embedding_bag(index.reshape(1, 3), w, offsets)
    with pytest.raises(ValueError, match="input has to be 1D or 2D Tensor"):
        F.embedding_bag(index.reshape(1, 3, 1), w)
    with pytest.raises(ValueError, match="weight has to be a 2D Tensor"):
        F.embedding_bag(index, w[0], offsets)
    with pytest.raises(ValueError, match="mode has to be one of sum, mean or max"):
        F.embedding_bag(index, w, offsets, mode="min")
    with pytest.raises(ValueError, match="per_sample_weights is only supported for "
                                                  "mode='sum'"):
        F.embedding_bag(index, w, offsets, per_sample_weights=engine.ones(3))
    with pytest.raises(ValueError, match="must have the same shape as the input"):
        F.embedding_bag(index, w, offsets, mode="sum", per_sample_weights=engine.ones(2))
    with pytest.raises(RuntimeError, match="offsets\\[0\\] has to be 0"):
        F.embedding_bag(index, w, engine.tensor([1, 2]))
    with pytest.raises(RuntimeError, match="can not be greater than input's length 3"):
        F.embedding_bag(index, w, engine.tensor([0, 4]))
    with pytest.raises(ValueError, match="the last offset .* must be the input's length 3"):
        F.embedding_bag(index, w, engine.tensor([0, 2]), include_last_offset=True)
    with pytest.raises(IndexError, match=r"index 1 of input takes value 6, which is not in the "
                                         r"valid range \[0, 6\)"):
        F.embedding_bag(engine.tensor([0, 6]), w, engine.tensor([0]))
    with pytest.raises(TypeError, match="integer indices"):
        F.embedding_bag(engine.tensor([0.0, 1.0]), w, offsets)
    with pytest.raises(RuntimeError, match="padding_idx must be within the number of embeddings"):
        F.embedding_bag(index, w, offsets, padding_idx=6)
    with pytest.raises(ValueError, match="max mode does not support scaling the gradient"):
        F.embedding_bag(index, w, offsets, mode="max", scale_grad_by_freq=True)
    with pytest.raises(ValueError, match="EmbeddingBag's mode must be one of"):
        nn.EmbeddingBag(4, 2, mode="median")


def test_an_empty_bag_with_per_sample_weights_backpropagates_zeros(library):
    """(Picking rows of an empty tensor by an empty int array crashed in the backward pass.)"""
    w = library.tensor(np.ones((4, 2)), requires_grad=True)
    psw = library.tensor(np.zeros(0), requires_grad=True)
    library.nn.functional.embedding_bag(library.tensor(np.zeros(0, np.int64)), w,
                                        library.tensor([0]), mode="sum",
                                        per_sample_weights=psw).sum().backward()
    assert w.grad.tolist() == [[0.0, 0.0]] * 4 and tuple(psw.grad.shape) == (0,)
