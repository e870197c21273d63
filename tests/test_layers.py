"""nn/layers.py: Linear, ReLU, Tanh, Sigmoid and Sequential against PyTorch and finite differences."""
from __future__ import annotations

import numpy as np
import pytest

import nn
from engine import Tensor, gradcheck
from nn import Linear, ReLU, Sequential, Sigmoid, Tanh

rng = np.random.default_rng(0)


def f64(shape) -> Tensor:
    return Tensor(rng.normal(size=shape), requires_grad=True, dtype=np.float64)


def torch_linear(torch, ours: Linear):
    """torch.nn.Linear holding our weights: its weight is (out, in), the transpose of ours."""
    theirs = torch.nn.Linear(ours.in_features, ours.out_features, bias=ours.bias is not None)
    with torch.no_grad():
        theirs.weight.copy_(torch.tensor(ours.weight.numpy().T))
        if ours.bias is not None:
            theirs.bias.copy_(torch.tensor(ours.bias.numpy()))
    return theirs


@pytest.mark.parametrize("shape", [(5, 4), (2, 5, 4), (4,)])
@pytest.mark.parametrize("bias", [True, False])
def test_linear_matches_pytorch_in_value_and_every_gradient(torch, shape, bias):
    ours = Linear(4, 3, bias=bias, dtype=np.float64)
    theirs = torch_linear(torch, ours)
    x = f64(shape)
    tx = torch.tensor(x.data, requires_grad=True)
    out, tout = ours(x), theirs(tx)
    np.testing.assert_allclose(out.data, tout.detach().numpy(), rtol=1e-12)
    upstream = rng.normal(size=out.shape)
    out.backward(upstream)
    tout.backward(torch.tensor(upstream))
    np.testing.assert_allclose(ours.weight.grad, theirs.weight.grad.numpy().T, rtol=1e-12)
    np.testing.assert_allclose(x.grad, tx.grad.numpy(), rtol=1e-12)
    if bias:
        np.testing.assert_allclose(ours.bias.grad, theirs.bias.grad.numpy(), rtol=1e-12)


def test_linear_gradients_match_central_differences():
    layer = Linear(3, 2, dtype=np.float64)
    x = f64((4, 3))
    assert gradcheck(lambda x, w, b: (layer(x) ** 2).sum(), [x, layer.weight, layer.bias])


def test_linear_init_is_pytorchs_kaiming_uniform():
    nn.manual_seed(1)
    layer = Linear(400, 300)
    bound = 1 / np.sqrt(400)
    for p in (layer.weight, layer.bias):
        assert p.dtype == np.float32 and p.requires_grad
        assert np.abs(p.data).max() <= bound
    assert layer.weight.shape == (400, 300) and layer.bias.shape == (300,)
    # uniform on [-bound, bound]: mean 0, standard deviation bound / sqrt(3)
    assert abs(layer.weight.data.mean()) < 0.01 * bound
    assert layer.weight.data.std() == pytest.approx(bound / np.sqrt(3), rel=0.01)


def test_manual_seed_makes_initial_weights_repeatable():
    nn.manual_seed(3)
    a = Linear(5, 4)
    nn.manual_seed(3)
    b = Linear(5, 4)
    c = Linear(5, 4)
    np.testing.assert_array_equal(a.weight.data, b.weight.data)
    np.testing.assert_array_equal(a.bias.data, b.bias.data)
    assert not np.array_equal(b.weight.data, c.weight.data)


def test_linear_takes_numpy_input_and_keeps_float32():
    layer = Linear(4, 2)
    out = layer(np.ones((3, 4), dtype=np.float32))
    assert out.dtype == np.float32 and out.shape == (3, 2)


@pytest.mark.parametrize("args", [(0, 3), (3, -1), (2.5, 3), (True, 3), ("4", 3)])
def test_linear_refuses_sizes_that_are_not_positive_ints(args):
    with pytest.raises(ValueError, match="must be a positive int"):
        Linear(*args)


def test_linear_names_the_expected_and_given_input_shape():
    with pytest.raises(ValueError, match=r"shape \(\.\.\., 4\), got \(3, 5\)"):
        Linear(4, 2)(np.ones((3, 5)))


ACTIVATIONS = [(ReLU, "ReLU"), (Tanh, "Tanh"), (Sigmoid, "Sigmoid")]


@pytest.mark.parametrize("ours, name", ACTIVATIONS)
def test_activation_matches_pytorch(torch, ours, name):
    x = Tensor(np.array([[-30.0, -1.5, -0.2], [0.3, 2.0, 30.0]]), requires_grad=True,
               dtype=np.float64)
    tx = torch.tensor(x.data, requires_grad=True)
    out, tout = ours()(x), getattr(torch.nn, name)()(tx)
    np.testing.assert_allclose(out.data, tout.detach().numpy(), rtol=1e-12)
    upstream = rng.normal(size=x.shape)
    out.backward(upstream)
    tout.backward(torch.tensor(upstream))
    np.testing.assert_allclose(x.grad, tx.grad.numpy(), rtol=1e-12, atol=1e-300)


@pytest.mark.parametrize("ours, name", ACTIVATIONS)
def test_activation_gradient_matches_central_differences(ours, name):
    x = Tensor(np.array([-1.5, -0.2, 0.3, 2.0]), requires_grad=True, dtype=np.float64)
    assert gradcheck(lambda x: (ours()(x) * np.arange(1.0, 5.0)).sum(), [x])


def test_sequential_composes_in_order_and_matches_pytorch(torch):
    ours = Sequential(Linear(6, 5, dtype=np.float64), Tanh(), Linear(5, 4, dtype=np.float64),
                      ReLU(), Linear(4, 2, dtype=np.float64), Sigmoid())
    theirs = torch.nn.Sequential(torch_linear(torch, ours[0]), torch.nn.Tanh(),
                                 torch_linear(torch, ours[2]), torch.nn.ReLU(),
                                 torch_linear(torch, ours[4]), torch.nn.Sigmoid())
    x = rng.normal(size=(7, 6))
    out, tout = ours(Tensor(x, dtype=np.float64)), theirs(torch.tensor(x))
    np.testing.assert_allclose(out.data, tout.detach().numpy(), rtol=1e-12)
    out.sum().backward()
    tout.sum().backward()
    for i in (0, 2, 4):
        np.testing.assert_allclose(ours[i].weight.grad, theirs[i].weight.grad.numpy().T,
                                   rtol=1e-10)


def test_sequential_is_indexable_sliceable_iterable_and_sized():
    layers = [Linear(3, 3), ReLU(), Linear(3, 1)]
    model = Sequential(*layers)
    assert len(model) == 3 and list(model) == layers
    assert model[0] is layers[0] and model[-1] is layers[2]
    tail = model[1:]
    assert isinstance(tail, Sequential) and list(tail) == layers[1:]
    x = np.ones((2, 3), dtype=np.float32)
    np.testing.assert_array_equal(model(x).data, tail(model[0](x)).data)


def test_sequential_refuses_a_non_module_and_says_which():
    with pytest.raises(TypeError, match="argument 1 is a function"):
        Sequential(Linear(2, 2), lambda x: x)


def test_a_digit_classifier_on_real_mnist_matches_pytorch_in_loss_and_gradients(torch, mnist_test):
    x, y = mnist_test[0][:256].astype(np.float64), mnist_test[1][:256]
    ours = Sequential(Linear(784, 100, dtype=np.float64), ReLU(), Linear(100, 10, dtype=np.float64))
    theirs = torch.nn.Sequential(torch_linear(torch, ours[0]), torch.nn.ReLU(),
                                 torch_linear(torch, ours[2]))
    loss = nn.cross_entropy(ours(x), y)
    tloss = torch.nn.functional.cross_entropy(theirs(torch.tensor(x)), torch.tensor(y))
    loss.backward()
    tloss.backward()
    assert loss.item() == pytest.approx(tloss.item(), rel=1e-12)
    for i in (0, 2):
        np.testing.assert_allclose(ours[i].weight.grad, theirs[i].weight.grad.numpy().T,
                                   rtol=1e-9, atol=1e-15)
        np.testing.assert_allclose(ours[i].bias.grad, theirs[i].bias.grad.numpy(),
                                   rtol=1e-9, atol=1e-15)
