"""nn/utils/weight_norm.py: the legacy hook-based weight_norm and remove_weight_norm, and
norm_except_dim / _weight_norm, by their definition, finite differences, and against
torch.nn.utils.weight_norm (state names, its FutureWarning, SGD steps)."""
from __future__ import annotations

import warnings

import numpy as np
import pytest

import engine
import nn
from engine.gradcheck import gradcheck
from nn.utils.weight_norm import norm_except_dim
from test_parametrizations import LAYERS, _input, _layer, same_layers, train_side_by_side


def _weight_norm(module, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        return nn.utils.weight_norm(module, **kwargs)


def test_it_warns_as_pytorch_that_it_is_deprecated():
    with pytest.warns(FutureWarning, match="`torch.nn.utils.weight_norm` is deprecated in favor "
                                           "of `torch.nn.utils.parametrizations.weight_norm`"):
        nn.utils.weight_norm(nn.Linear(3, 2))


def test_weight_becomes_g_and_v_and_the_weight_a_plain_attribute():
    m = _layer(nn, "Linear")
    w = m.weight.detach().numpy().copy()
    _weight_norm(m)
    assert type(m) is nn.Linear and repr(m) == "Linear(in_features=5, out_features=4, bias=True)"
    assert list(m.state_dict()) == ["bias", "weight_g", "weight_v"]
    assert [n for n, _ in m.named_parameters()] == ["bias", "weight_g", "weight_v"]
    assert (m.weight_v.numpy() == w).all() and m.weight_g.shape == (4, 1)
    np.testing.assert_allclose(m.weight_g.numpy()[:, 0], np.linalg.norm(w, axis=1), rtol=1e-6)
    np.testing.assert_allclose(m.weight.detach().numpy(), w, rtol=1e-6)


def test_the_weight_is_recomputed_before_each_forward():
    m = _weight_norm(_layer(nn, "Linear"))
    with engine.no_grad():
        m.weight_g *= 3.0
    x = engine.tensor(_input("Linear", np.float32))
    m(x)
    v = m.weight_v.numpy()
    want = m.weight_g.numpy() * v / np.linalg.norm(v, axis=1, keepdims=True)
    np.testing.assert_allclose(m.weight.detach().numpy(), want, rtol=1e-6)


def test_dim_none_normalises_the_whole_tensor():
    m = _weight_norm(_layer(nn, "Conv2d"), dim=None)
    assert m.weight_g.shape == ()
    np.testing.assert_allclose(m.weight_g.item(), np.linalg.norm(m.weight_v.numpy()), rtol=1e-6)


@pytest.mark.parametrize("kind", ["Linear", "Conv2d"])
def test_gradients_to_g_and_v_by_finite_differences(kind):
    m = _weight_norm(_layer(nn, kind).double())
    x = engine.tensor(_input(kind))
    assert gradcheck(lambda g, v: m(x).tanh(), [m.weight_g, m.weight_v])


def test_remove_leaves_a_plain_weight_parameter():
    m = _weight_norm(_layer(nn, "Linear"))
    with engine.no_grad():
        m.weight_g *= 2.0
    v = m.weight_v.numpy()
    want = m.weight_g.numpy() * v / np.linalg.norm(v, axis=1, keepdims=True)
    nn.utils.remove_weight_norm(m)
    assert isinstance(m.weight, nn.Parameter) and not hasattr(m, "weight_g")
    assert list(m.state_dict()) == ["bias", "weight"] and not m.__dict__["_forward_pre_hooks"]
    np.testing.assert_allclose(m.weight.detach().numpy(), want, rtol=1e-6)


def test_norm_except_dim_by_hand():
    v = engine.tensor(np.arange(24.0).reshape(2, 3, 4))
    a = v.numpy()
    assert norm_except_dim(v, 2, 1).numpy().reshape(-1).tolist() == pytest.approx(
        [np.sqrt((a[:, i] ** 2).sum()) for i in range(3)])
    assert norm_except_dim(v, 2, -1).item() == pytest.approx(np.sqrt((a ** 2).sum()))
    assert norm_except_dim(v, 1, -2).shape == (1, 3, 1)


@pytest.mark.parametrize("call, error, message", [
    (lambda: _weight_norm(_weight_norm(_layer(nn, "Linear"))), RuntimeError,
     "Cannot register two weight_norm hooks on the same parameter weight"),
    (lambda: nn.utils.remove_weight_norm(_layer(nn, "Linear")), ValueError,
     "weight_norm of 'weight' not found in Linear"),
    (lambda: _weight_norm(_layer(nn, "Linear"), name="wieght"), AttributeError, "wieght"),
    (lambda: _weight_norm(nn.BatchNorm1d(3), name="running_mean"), KeyError, "running_mean"),
    (lambda: _weight_norm(_layer(nn, "Linear"), dim=2), IndexError,
     r"expected to be in range of \[-2, 1\], but got 2"),
])
def test_errors_are_pytorchs(call, error, message):
    with pytest.raises(error, match=message):
        call()


@pytest.mark.parametrize("dtype, tol", [("float32", 2e-4), ("float64", 1e-11)])
@pytest.mark.parametrize("kind", list(LAYERS))
def test_sgd_steps_match_pytorch(kind, dtype, tol):
    torch = pytest.importorskip("torch")
    ours, theirs = same_layers(torch, kind, dtype)
    _weight_norm(ours)
    with pytest.warns(FutureWarning):
        torch.nn.utils.weight_norm(theirs)
    train_side_by_side(torch, ours, theirs, _input(kind, dtype), tol)


@pytest.mark.parametrize("dim", [0, 1, 2, 3, -1, -2, -3, -4])
def test_norm_except_dim_matches_pytorch(dim):
    torch = pytest.importorskip("torch")
    v = np.random.default_rng(0).standard_normal((3, 2, 4, 2))
    ours = norm_except_dim(engine.tensor(v), 2, dim).numpy()
    theirs = torch.norm_except_dim(torch.tensor(v), 2, dim).numpy()
    assert ours.shape == theirs.shape
    np.testing.assert_allclose(ours, theirs, rtol=1e-14)
