"""nn/instancenorm.py: each sample's channel normalised on its own (by hand), running
statistics averaged over the samples, against central differences and PyTorch (outputs,
gradients of input, weight and bias, running statistics, eval mode, grad_fn), the layers'
defaults, printouts and state_dict as PyTorch's, and clear errors."""
from __future__ import annotations

import numpy as np
import pytest

import engine
import nn
import nn.functional as F
from engine import Tensor


def test_each_samples_channel_is_normalised_over_its_positions():
    x = np.random.default_rng(0).standard_normal((3, 2, 4, 5)) * 4 + np.arange(6).reshape(
        3, 2, 1, 1)
    out = nn.InstanceNorm2d(2, dtype=np.float64)(Tensor(x)).numpy()
    mean, var = x.mean(axis=(2, 3), keepdims=True), x.var(axis=(2, 3), keepdims=True)
    np.testing.assert_allclose(out, (x - mean) / np.sqrt(var + 1e-5), rtol=1e-12, atol=1e-12)


def test_running_statistics_average_the_samples_by_hand():
    x = np.random.default_rng(1).standard_normal((3, 2, 6))
    layer = nn.InstanceNorm1d(2, momentum=0.5, track_running_stats=True, dtype=np.float64)
    layer(Tensor(x))
    np.testing.assert_allclose(layer.running_mean.numpy(), 0.5 * x.mean(axis=2).mean(axis=0),
                               rtol=1e-12)
    unbiased = x.var(axis=2, ddof=1).mean(axis=0)
    np.testing.assert_allclose(layer.running_var.numpy(), 0.5 + 0.5 * unbiased, rtol=1e-12)
    assert layer.num_batches_tracked.item() == 0  # as PyTorch's, which never counts them
    layer.eval()  # now the running statistics normalise
    out = layer(Tensor(x)).numpy()
    np.testing.assert_allclose(out, (x - layer.running_mean.numpy()[:, None])
                               / np.sqrt(layer.running_var.numpy()[:, None] + 1e-5), rtol=1e-12)


def test_gradients_match_central_differences():
    rng = np.random.default_rng(2)
    x = Tensor(rng.standard_normal((2, 3, 4)), requires_grad=True)
    w = Tensor(rng.standard_normal(3), requires_grad=True)
    b = Tensor(rng.standard_normal(3), requires_grad=True)
    assert engine.gradcheck(lambda x, w, b: F.instance_norm(x, weight=w, bias=b), (x, w, b))
    stats = [Tensor(rng.standard_normal(3)), Tensor(rng.uniform(0.5, 2.0, 3))]
    assert engine.gradcheck(lambda x, w: F.instance_norm(
        x, *stats, weight=w, use_input_stats=False), (x, w))


SETTINGS = [{}, {"affine": True}, {"track_running_stats": True, "momentum": 0.3},
            {"affine": True, "track_running_stats": True, "momentum": None}]
SHAPES = [("InstanceNorm1d", (3, 4, 7)), ("InstanceNorm2d", (2, 4, 5, 6)),
          ("InstanceNorm2d", (4, 5, 6)), ("InstanceNorm3d", (2, 4, 3, 2, 3))]


@pytest.mark.parametrize("settings", SETTINGS)
@pytest.mark.parametrize("name, shape", SHAPES)
def test_layers_match_pytorch_in_training_and_eval(torch, name, shape, settings):
    ours = getattr(nn, name)(4, dtype=np.float64, **settings)
    theirs = getattr(torch.nn, name)(4, **settings)
    rng = np.random.default_rng(3)
    if ours.affine:  # weights other than 1 and 0, so that their gradients show
        for p, q in ((ours.weight, theirs.weight), (ours.bias, theirs.bias)):
            values = rng.standard_normal(4)
            p.data[...] = values
            q.data[...] = torch.tensor(values)
    for step in range(3):
        x = rng.standard_normal(shape) * (step + 1) + step
        a, t = Tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
        out, want = ours(a), theirs(t)
        np.testing.assert_allclose(out.numpy(), want.detach().numpy(), rtol=1e-10, atol=1e-12)
        assert out.grad_fn.name() == want.grad_fn.name()
        g = rng.standard_normal(shape)
        out.backward(Tensor(g))
        want.backward(torch.tensor(g))
        np.testing.assert_allclose(np.asarray(a.grad), t.grad.numpy(), rtol=1e-10, atol=1e-12)
    for (n, p), (_, q) in zip(ours.named_parameters(), theirs.named_parameters()):
        np.testing.assert_allclose(np.asarray(p.grad), q.grad.numpy(), rtol=1e-10, err_msg=n)
    want_state = theirs.state_dict()
    assert list(ours.state_dict()) == list(want_state)
    for key, array in ours.state_dict().items():
        np.testing.assert_allclose(array, want_state[key].numpy(), rtol=1e-12, err_msg=key)
    ours.eval()
    theirs.eval()
    x = rng.standard_normal(shape)
    np.testing.assert_allclose(ours(Tensor(x)).numpy(), theirs(torch.tensor(x)).detach().numpy(),
                               rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("make", [
    lambda nn: nn.InstanceNorm1d(3), lambda nn: nn.InstanceNorm2d(3, affine=True),
    lambda nn: nn.InstanceNorm2d(3, affine=True, track_running_stats=True, bias=False),
    lambda nn: nn.InstanceNorm3d(5, eps=1e-3, momentum=None, track_running_stats=True)])
def test_defaults_names_and_printouts_are_pytorchs(torch, make):
    torch.set_default_dtype(torch.float32)
    ours, theirs = make(nn), make(torch.nn)
    assert repr(ours) == repr(theirs)
    want = theirs.state_dict()
    assert list(ours.state_dict()) == list(want)
    for key, array in ours.state_dict().items():
        assert array.dtype == want[key].numpy().dtype
        np.testing.assert_array_equal(array, want[key].numpy())


def test_defaults_without_torch():
    layer = nn.InstanceNorm2d(3)
    assert repr(layer) == ("InstanceNorm2d(3, eps=1e-05, momentum=0.1, affine=False, "
                           "bias=False, track_running_stats=False)")
    assert layer.state_dict() == {} and list(layer.parameters()) == []
    x = Tensor(np.random.default_rng(4).standard_normal((2, 3, 4, 4)).astype(np.float32),
               requires_grad=True)
    out = layer(x)
    assert out.dtype == np.float32 and out.grad_fn.name() == "ViewBackward0"
    out.sum().backward()
    assert x.grad.dtype == np.float32
    affine = nn.InstanceNorm1d(3, affine=True, track_running_stats=True)
    assert list(affine.state_dict()) == ["weight", "bias", "running_mean", "running_var",
                                         "num_batches_tracked"]


def test_a_channel_count_that_differs_warns_without_affine_and_fails_with_it():
    x = Tensor(np.random.default_rng(5).standard_normal((2, 4, 6)))
    with pytest.warns(UserWarning, match="input's size at dim=1 does not match num_features"):
        nn.InstanceNorm1d(3)(x)
    with pytest.raises(ValueError, match=r"expected input's size at dim=1 to match "
                                         r"num_features \(3\), but got: 4"):
        nn.InstanceNorm1d(3, affine=True)(x)


@pytest.mark.parametrize("call, error, words", [
    (lambda: nn.InstanceNorm2d(3)(Tensor(np.ones((3, 4)))), ValueError,
     r"InstanceNorm2d expects 3D or 4D input \(got 2D"),
    (lambda: nn.InstanceNorm1d(3)(Tensor(np.ones((2, 3, 4, 4)))), ValueError,
     r"InstanceNorm1d expects 2D or 3D input \(got 4D input of shape \(2, 3, 4, 4\)\)"),
    (lambda: F.instance_norm(Tensor(np.ones((2, 3, 1, 1)))), ValueError,
     "expected more than 1 spatial element when training"),
    (lambda: F.instance_norm(Tensor(np.ones((2, 3)))), ValueError,
     r"input of shape \(N, C, \*positions\), got \(2, 3\)"),
    (lambda: F.instance_norm(Tensor(np.ones((2, 3, 4))), use_input_stats=False), ValueError,
     "without use_input_stats needs running_mean and running_var"),
    (lambda: F.instance_norm(Tensor(np.ones((2, 3, 4))), weight=Tensor(np.ones(2))),
     ValueError, r"weight of shape \(2,\) does not fit input \(2, 3, 4\) with 3 channels"),
])
def test_bad_input_is_refused_with_what_was_wrong(call, error, words):
    with pytest.raises(error, match=words):
        call()
