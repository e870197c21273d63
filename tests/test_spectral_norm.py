"""nn/utils/spectral_norm.py: the legacy hook-based spectral_norm and remove_spectral_norm,
by their definition (seeded vectors, sigma against numpy's singular values), finite
differences, and against torch.nn.utils.spectral_norm (state names, buffers, SGD steps)."""
from __future__ import annotations

import numpy as np
import pytest

import engine
import nn
from engine.gradcheck import gradcheck
from test_parametrizations import LAYERS, _input, _layer, same_layers, train_side_by_side


def _normalised(x):
    return x / np.linalg.norm(x)


def test_the_weight_moves_to_weight_orig_beside_u_and_v_drawn_from_the_generator():
    m = _layer(nn, "Conv2d")
    w = m.weight
    engine.manual_seed(11)
    u, v = engine.randn(3).numpy(), engine.randn(18).numpy()  # what it will draw: u, then v
    engine.manual_seed(11)
    nn.utils.spectral_norm(m)
    assert type(m) is nn.Conv2d and m.weight_orig is w
    assert list(m.state_dict()) == ["bias", "weight_orig", "weight_u", "weight_v"]
    assert [n for n, _ in m.named_parameters()] == ["bias", "weight_orig"]
    np.testing.assert_allclose(m.weight_u.numpy(), _normalised(u), rtol=1e-6)
    np.testing.assert_allclose(m.weight_v.numpy(), _normalised(v), rtol=1e-6)
    assert (m.weight.numpy() == w.detach().numpy()).all() and not m.weight.requires_grad


def test_a_training_forward_iterates_and_an_eval_forward_does_not():
    m = nn.utils.spectral_norm(_layer(nn, "Linear"), n_power_iterations=3)
    u0, v0 = m.weight_u.numpy().copy(), m.weight_v.numpy().copy()
    W = m.weight_orig.detach().numpy()
    x = engine.tensor(_input("Linear", np.float32))
    m(x)
    v, u = v0, u0
    for _ in range(3):  # v first, then u: the legacy order
        v = _normalised(W.T @ u)
        u = _normalised(W @ v)
    np.testing.assert_allclose(m.weight_u.numpy(), u, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(m.weight.detach().numpy(), W / (u @ W @ v), rtol=1e-5)
    m.eval()
    before = m.weight_u.numpy().copy()
    m(x)
    assert (m.weight_u.numpy() == before).all()


def test_sigma_approaches_the_largest_singular_value():
    m = nn.utils.spectral_norm(nn.Linear(7, 5).double(), n_power_iterations=60)
    m(engine.zeros(1, 7, dtype=engine.float64))
    top = np.linalg.svd(m.weight_orig.detach().numpy(), compute_uv=False)[0]
    assert abs(np.linalg.svd(m.weight.detach().numpy(), compute_uv=False)[0] - 1) <= 1e-9
    assert abs(m.weight_orig[0, 0].item() / m.weight[0, 0].item() - top) <= 1e-9 * top


@pytest.mark.parametrize("kind", list(LAYERS))
def test_gradient_to_weight_orig_by_finite_differences(kind):
    m = nn.utils.spectral_norm(_layer(nn, kind).double()).eval()
    x = engine.tensor(_input(kind))
    assert gradcheck(lambda w: m(x).tanh(), [m.weight_orig])


def test_remove_leaves_the_normalised_weight_as_a_parameter():
    m = nn.utils.spectral_norm(_layer(nn, "Linear"))
    m(engine.tensor(_input("Linear", np.float32)))
    u, v, W = m.weight_u.numpy(), m.weight_v.numpy(), m.weight_orig.detach().numpy()
    nn.utils.remove_spectral_norm(m)
    assert list(m.state_dict()) == ["bias", "weight"] and isinstance(m.weight, nn.Parameter)
    np.testing.assert_allclose(m.weight.detach().numpy(), W / (u @ W @ v), rtol=1e-6)


def test_transposed_convolutions_take_dim_1():
    m = nn.utils.spectral_norm(nn.ConvTranspose2d(2, 3, 2))
    assert m.weight_u.shape == (3,) and m.weight_v.shape == (8,)


@pytest.mark.parametrize("call, error, message", [
    (lambda: nn.utils.spectral_norm(nn.utils.spectral_norm(_layer(nn, "Linear"))),
     RuntimeError, "Cannot register two spectral_norm hooks on the same parameter weight"),
    (lambda: nn.utils.remove_spectral_norm(_layer(nn, "Linear")), ValueError,
     "spectral_norm of 'weight' not found in Linear"),
    (lambda: nn.utils.spectral_norm(_layer(nn, "Linear"), n_power_iterations=0), ValueError,
     "Expected n_power_iterations to be positive"),
    (lambda: nn.utils.spectral_norm(_layer(nn, "Linear"), name="nope"), KeyError, "nope"),
    (lambda: nn.utils.spectral_norm(nn.Linear(3, 2, bias=False), name="bias"), ValueError,
     "cannot be applied as parameter `bias` is None"),
])
def test_errors_are_pytorchs(call, error, message):
    with pytest.raises(error, match=message):
        call()


@pytest.mark.parametrize("dtype, tol", [("float32", 2e-4), ("float64", 1e-11)])
@pytest.mark.parametrize("kind", list(LAYERS))
def test_sgd_steps_and_seeded_vectors_match_pytorch(kind, dtype, tol):
    torch = pytest.importorskip("torch")
    ours, theirs = same_layers(torch, kind, dtype)
    engine.manual_seed(2)
    torch.manual_seed(2)
    nn.utils.spectral_norm(ours)
    torch.nn.utils.spectral_norm(theirs)
    for buffer in ("weight_u", "weight_v"):  # the same draws, normalised (sums in any order)
        np.testing.assert_allclose(getattr(ours, buffer).numpy(),
                                   getattr(theirs, buffer).numpy(), rtol=1e-6)
    train_side_by_side(torch, ours, theirs, _input(kind, dtype), tol)
