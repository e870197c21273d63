"""nn/pooling_more.py: lp_pool1d/2d/3d, max_unpool1d/2d/3d, the *_with_indices spellings and
their layers, against hand-worked values, central differences and (when installed)
PyTorch."""
from __future__ import annotations

import numpy as np
import pytest

import engine
import nn
import nn.functional as F
from engine import Tensor

RNG = np.random.default_rng(0)


def test_with_indices_spellings_always_return_the_indices():
    x = engine.tensor([[[1.0, 5.0, 2.0, 0.0, 7.0, 3.0]]])
    out, index = F.max_pool1d_with_indices(x, 2)
    assert out.tolist() == [[[5.0, 2.0, 7.0]]] and index.tolist() == [[[1, 2, 4]]]
    out, index = F.adaptive_max_pool1d_with_indices(x, 2)
    assert out.tolist() == [[[5.0, 7.0]]] and index.tolist() == [[[1, 4]]]
    image = engine.arange(16.0).reshape(1, 1, 4, 4)
    out, index = F.max_pool2d_with_indices(image, 2)
    assert out.tolist() == [[[[5.0, 7.0], [13.0, 15.0]]]]
    assert index.tolist() == [[[[5, 7], [13, 15]]]]
    assert F.adaptive_max_pool2d_with_indices(image, 1)[1].tolist() == [[[[15]]]]
    volume = engine.arange(8.0).reshape(1, 1, 2, 2, 2)
    assert F.max_pool3d_with_indices(volume, (1, 2, 2))[1].tolist() == [[[[[3]], [[7]]]]]
    assert F.adaptive_max_pool3d_with_indices(volume, 1)[1].tolist() == [[[[[7]]]]]


def test_lp_pool_by_hand():
    x = engine.tensor([[[3.0, 4.0, 1.0, 1.0]]])
    assert F.lp_pool1d(x, 2, 2).flatten().tolist() == pytest.approx([5.0, 2 ** 0.5])
    assert F.lp_pool1d(x, 1, 2).flatten().tolist() == pytest.approx([7.0, 2.0])
    assert F.lp_pool1d(-x, float("inf"), 2).tolist() == [[[4.0, 1.0]]]
    assert F.lp_pool1d(x, float("-inf"), 2).tolist() == [[[3.0, 1.0]]]
    image = engine.tensor([[[[1.0, 2.0], [2.0, 4.0]]]])
    assert F.lp_pool2d(image, 2, 2).item() == pytest.approx(5.0)
    assert nn.LPPool2d(2, 2)(image).item() == pytest.approx(5.0)
    assert nn.LPPool1d(2, 2)(x).flatten().tolist() == pytest.approx([5.0, 2 ** 0.5])
    volume = engine.tensor([[[[[1.0, 2.0], [2.0, 4.0]], [[0.0, 0.0], [0.0, 0.0]]]]])
    assert F.lp_pool3d(volume, 2, 2).item() == pytest.approx(5.0)
    assert nn.LPPool3d(1, (1, 2, 1))(volume).flatten().tolist() == [3.0, 6.0, 0.0, 0.0]


def test_lp_pool_gradients_by_central_differences():
    x = Tensor(RNG.random((2, 2, 6)) + 0.5, requires_grad=True)
    assert engine.gradcheck(lambda t: F.lp_pool1d(t, 3, 3, 2), [x])
    y = Tensor(RNG.random((1, 2, 4, 5)) + 0.5, requires_grad=True)
    assert engine.gradcheck(lambda t: F.lp_pool2d(t, 2, (2, 3), 2), [y])
    z = Tensor(RNG.random((1, 2, 3, 4, 5)) + 0.5, requires_grad=True)
    assert engine.gradcheck(lambda t: F.lp_pool3d(t, 3, (2, 2, 3), (1, 2, 2), True), [z])


def test_lp_pool_errors():
    with pytest.raises(ValueError, match="norm_type"):
        F.lp_pool1d(engine.ones(1, 1, 4), 0, 2)
    with pytest.raises(ValueError, match="kernel_size"):
        F.lp_pool2d(engine.ones(1, 1, 4, 4), 2, 0)


def test_max_unpool_by_hand():
    pooled = engine.tensor([[[5.0, 2.0, 7.0]]])
    index = engine.tensor([[[1, 2, 4]]])
    assert F.max_unpool1d(pooled, index, 2).tolist() == [[[0, 5, 2, 0, 7, 0]]]
    assert F.max_unpool1d(pooled, index, 2, output_size=[7]).tolist() == [
        [[0, 5, 2, 0, 7, 0, 0]]]
    assert nn.MaxUnpool1d(2)(pooled[0], index[0]).tolist() == [[0, 5, 2, 0, 7, 0]]
    image = engine.tensor([[[[9.0]]]])
    assert F.max_unpool2d(image, engine.tensor([[[[2]]]]), 2).tolist() == [
        [[[0, 0], [9, 0]]]]
    assert nn.MaxUnpool2d(2)(image, engine.tensor([[[[3]]]])).tolist() == [
        [[[0, 0], [0, 9]]]]
    assert nn.MaxUnpool3d(2)(image[None], engine.tensor([[[[[6]]]]])).tolist() == [
        [[[[0, 0], [0, 0]], [[0, 0], [9, 0]]]]]


def test_max_unpool_gradient_reads_g_at_the_indices():
    pooled = Tensor(RNG.random((2, 3, 2, 2)), requires_grad=True)
    index = Tensor(np.tile(np.array([[0, 3], [9, 14]]), (2, 3, 1, 1)))
    out = F.max_unpool2d(pooled, index, 2)
    weights = RNG.random(tuple(out.shape))
    (out * Tensor(weights)).sum().backward()
    expected = np.take_along_axis(weights.reshape(2, 3, 16), index.numpy().reshape(2, 3, 4),
                                  2).reshape(2, 3, 2, 2)
    np.testing.assert_allclose(pooled.grad.numpy(), expected)
    assert engine.gradcheck(lambda t: F.max_unpool2d(t, index, 2), [pooled])


def test_max_unpool_errors():
    pooled, index = engine.ones(1, 1, 3), engine.tensor([[[0, 2, 4]]])
    with pytest.raises(ValueError, match="output_size"):
        F.max_unpool1d(pooled, index, 2, output_size=[9])
    with pytest.raises(ValueError, match="match"):
        F.max_unpool1d(pooled, engine.tensor([[[0, 2]]]), 2)
    with pytest.raises(IndexError, match="outside"):
        F.max_unpool1d(pooled, engine.tensor([[[0, 2, 6]]]), 2)
    with pytest.raises(TypeError, match="integers"):
        F.max_unpool1d(pooled, engine.tensor([[[0.0, 2.0, 4.0]]]), 2)


def test_layer_reprs_match_torch():
    assert repr(nn.LPPool1d(2, 3)) == ("LPPool1d(norm_type=2, kernel_size=3, stride=None, "
                                       "ceil_mode=False)")
    assert repr(nn.MaxUnpool2d(2)) == ("MaxUnpool2d(kernel_size=(2, 2), stride=(2, 2), "
                                       "padding=(0, 0))")
    assert repr(nn.MaxUnpool1d(2, 1)) == "MaxUnpool1d(kernel_size=(2,), stride=(1,), padding=(0,))"
    assert repr(nn.LPPool3d(1.5, (2, 1, 2), 1)) == (
        "LPPool3d(norm_type=1.5, kernel_size=(2, 1, 2), stride=1, ceil_mode=False)")
    assert repr(nn.MaxUnpool3d(2)) == ("MaxUnpool3d(kernel_size=(2, 2, 2), stride=(2, 2, 2), "
                                       "padding=(0, 0, 0))")


@pytest.mark.parametrize("p", [2, 3, 1.5, float("inf"), float("-inf")])
def test_lp_pool_against_torch(p):
    torch = pytest.importorskip("torch")
    TF = torch.nn.functional
    for dims, ours, theirs, kernel in ((1, F.lp_pool1d, TF.lp_pool1d, 3),
                                       (2, F.lp_pool2d, TF.lp_pool2d, (2, 3)),
                                       (3, F.lp_pool3d, TF.lp_pool3d, (3, 2, 3))):
        a = RNG.random((2, 3, 7, 8, 6)[: 2 + dims]) + 0.1
        x, tx = Tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
        y, ty = ours(x, p, kernel, 2), theirs(tx, p, kernel, 2)
        assert y.grad_fn.name() == ty.grad_fn.name()
        np.testing.assert_allclose(y.detach().numpy(), ty.detach().numpy(), rtol=1e-12)
        w = RNG.standard_normal(tuple(ty.shape))
        (y * Tensor(w)).sum().backward()
        (ty * torch.tensor(w)).sum().backward()
        np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("dims", [1, 2, 3])
def test_max_unpool_against_torch(dims):
    torch = pytest.importorskip("torch")
    TF = torch.nn.functional
    a = RNG.standard_normal((2, 3, 7, 6, 4)[: 2 + dims]).astype(np.float32)
    pool, tpool = getattr(F, f"max_pool{dims}d"), getattr(TF, f"max_pool{dims}d")
    unpool, tunpool = getattr(F, f"max_unpool{dims}d"), getattr(TF, f"max_unpool{dims}d")
    x, tx = Tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    out, index = pool(x, 2, return_indices=True)
    tout, tindex = tpool(tx, 2, return_indices=True)
    size = a.shape[2:]
    y, ty = unpool(out, index, 2, output_size=size), tunpool(tout, tindex, 2, output_size=size)
    assert y.grad_fn.name() == ty.grad_fn.name() and y.dtype == engine.float32
    np.testing.assert_array_equal(y.detach().numpy(), ty.detach().numpy())
    w = RNG.standard_normal(tuple(ty.shape)).astype(np.float32)
    (y * Tensor(w)).sum().backward()
    (ty * torch.tensor(w)).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), atol=1e-6)
    # unbatched input
    np.testing.assert_array_equal(unpool(out[0], index[0], 2).detach().numpy(),
                                  tunpool(tout[0], tindex[0], 2).detach().numpy())
