"""nn/extras.py: the in-place activation spellings, pdist, channel_shuffle and
ChannelShuffle, against hand-worked values, central differences and (when installed)
PyTorch."""
from __future__ import annotations

import numpy as np
import pytest

import engine
import nn
import nn.functional as F
from engine import Tensor

RNG = np.random.default_rng(0)


def test_in_place_activations_write_into_the_input():
    x = engine.tensor([-2.0, -0.5, 0.5, 2.0])
    assert F.relu_(x) is x and x.tolist() == [0.0, 0.0, 0.5, 2.0]
    x = engine.tensor([-2.0, 0.5, 2.0])
    assert F.leaky_relu_(x, 0.5) is x and x.tolist() == [-1.0, 0.5, 2.0]
    x = engine.tensor([-2.0, 0.5, 2.0])
    assert F.hardtanh_(x) is x and x.tolist() == [-1.0, 0.5, 1.0]
    x = engine.tensor([0.0, 2.0])
    assert F.elu_(x, 2.0) is x and x.tolist() == [0.0, 2.0]


def test_in_place_activation_gradients_in_the_graph():
    x = engine.tensor([-1.0, 2.0, 0.5], requires_grad=True)
    y = x * 1
    F.leaky_relu_(y, 0.1)
    y.sum().backward()
    assert x.grad.tolist() == pytest.approx([0.1, 1.0, 1.0])
    with pytest.raises(RuntimeError, match="leaf"):
        F.relu_(engine.ones(2, requires_grad=True))


def test_pdist_by_hand():
    x = engine.tensor([[0.0, 0.0], [3.0, 4.0], [6.0, 8.0]])
    assert F.pdist(x).tolist() == [5.0, 10.0, 5.0]
    assert F.pdist(x, 1).tolist() == [7.0, 14.0, 7.0]
    assert F.pdist(x, float("inf")).tolist() == [4.0, 8.0, 4.0]
    assert F.pdist(engine.ones(1, 3)).shape == (0,)


def test_pdist_gradient_by_central_differences():
    x = Tensor(RNG.standard_normal((4, 3)), requires_grad=True)
    for p in (2, 1, 3):
        assert engine.gradcheck(lambda t: F.pdist(t, p), [x])


def test_pdist_errors():
    with pytest.raises(RuntimeError, match="2-D"):
        F.pdist(engine.ones(3))
    with pytest.raises(RuntimeError, match="non-negative"):
        F.pdist(engine.ones(2, 2), -1)


def test_channel_shuffle_by_hand():
    x = engine.arange(6.0).reshape(1, 6, 1)
    assert F.channel_shuffle(x, 2).flatten().tolist() == [0, 3, 1, 4, 2, 5]
    assert nn.ChannelShuffle(3)(x).flatten().tolist() == [0, 2, 4, 1, 3, 5]
    assert repr(nn.ChannelShuffle(2)) == "ChannelShuffle(groups=2)"
    y = Tensor(RNG.standard_normal((2, 4, 3)), requires_grad=True)
    assert engine.gradcheck(lambda t: F.channel_shuffle(t, 2), [y])


def test_channel_shuffle_errors():
    with pytest.raises(RuntimeError, match="divide|do not split"):
        F.channel_shuffle(engine.ones(1, 5, 2), 2)
    with pytest.raises(RuntimeError, match="3 dims"):
        F.channel_shuffle(engine.ones(5, 2), 1)
    with pytest.raises(RuntimeError, match="positive"):
        F.channel_shuffle(engine.ones(1, 4, 2), 0)


@pytest.mark.parametrize("p", [2, 1, 3, 0, 0.5, float("inf")])
def test_pdist_against_torch(p):
    torch = pytest.importorskip("torch")
    a = RNG.standard_normal((5, 3))
    a[3] = a[1]  # a zero distance: the gradient there is 0, as PyTorch's
    x, tx = Tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    y, ty = F.pdist(x, p), torch.nn.functional.pdist(tx, p)
    assert y.grad_fn.name() == ty.grad_fn.name()
    np.testing.assert_allclose(y.detach().numpy(), ty.detach().numpy(), rtol=1e-12)
    w = RNG.standard_normal(tuple(ty.shape))
    (y * Tensor(w)).sum().backward()
    (ty * torch.tensor(w)).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=1e-10, atol=1e-12)


def test_channel_shuffle_and_in_place_activations_against_torch():
    torch = pytest.importorskip("torch")
    TF = torch.nn.functional
    a = RNG.standard_normal((2, 6, 3, 2)).astype(np.float32)
    x, tx = Tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    y, ty = F.channel_shuffle(x, 3), TF.channel_shuffle(tx, 3)
    assert y.grad_fn.name() == ty.grad_fn.name()
    np.testing.assert_array_equal(y.detach().numpy(), ty.detach().numpy())
    for ours, theirs, args in ((F.relu_, TF.relu_, ()), (F.leaky_relu_, TF.leaky_relu_, (0.2,)),
                               (F.hardtanh_, TF.hardtanh_, (-0.5, 0.5)),
                               (F.elu_, TF.elu_, (1.5,))):
        b, tb = Tensor(a.copy()), torch.tensor(a.copy())
        ours(b, *args)
        theirs(tb, *args)
        np.testing.assert_allclose(b.numpy(), tb.numpy(), rtol=1e-6, atol=1e-7)
