"""nn/local_response_norm.py against torch.nn.functional.local_response_norm and
torch.nn.LocalResponseNorm: values and input gradients for 3-, 4- and 5-D inputs and
several window sizes; without PyTorch, central differences, a value worked out by hand,
float32 kept and the error."""
from __future__ import annotations

import numpy as np
import pytest

import engine
import nn
import nn.functional as F

CASES = [((2, 6, 4), 3), ((2, 7, 3, 4), 5), ((1, 4, 2, 2, 3), 2), ((2, 3, 4), 8)]


def _run(lib, F, shape, size, dtype):
    x = lib.tensor((np.random.default_rng(0).standard_normal(shape) * 3).astype(dtype),
                   requires_grad=True)
    out = F.local_response_norm(x, size, alpha=0.3, beta=0.6, k=1.5)
    (out * lib.tensor(np.arange(1.0, out.numel() + 1).reshape(shape).astype(dtype))
     ).sum().backward()
    return out.detach().numpy(), x.grad.numpy(), out.grad_fn.name()


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("shape, size", CASES, ids=[f"{s}-{n}" for s, n in CASES])
def test_local_response_norm_is_pytorchs(torch, shape, size, dtype):
    ours = _run(engine, F, shape, size, dtype)
    theirs = _run(torch, torch.nn.functional, shape, size, dtype)
    tight = dtype == np.float64
    np.testing.assert_allclose(ours[0], theirs[0], rtol=1e-13 if tight else 1e-5)
    np.testing.assert_allclose(ours[1], theirs[1], rtol=1e-12 if tight else 1e-4,
                               atol=1e-13 if tight else 1e-5)
    assert ours[2] == theirs[2] and ours[0].dtype == ours[1].dtype == dtype


def test_module_is_pytorchs(torch):
    ours, theirs = nn.LocalResponseNorm(3, 0.1, 0.5, 2.0), torch.nn.LocalResponseNorm(3, 0.1,
                                                                                      0.5, 2.0)
    assert repr(ours) == repr(theirs)
    x = np.random.default_rng(1).standard_normal((2, 5, 3, 3))
    np.testing.assert_allclose(ours(engine.tensor(x)).numpy(), theirs(torch.tensor(x)).numpy(),
                               rtol=1e-14)


# --- without PyTorch ---

@pytest.mark.parametrize("shape, size", CASES, ids=[f"{s}-{n}" for s, n in CASES])
def test_gradients_match_central_differences(shape, size):
    x = engine.tensor(np.random.default_rng(2).standard_normal(shape), requires_grad=True,
                      dtype=engine.float64)
    assert engine.gradcheck(lambda t: F.local_response_norm(t, size, 0.3, 0.6, 1.5), [x])


def test_value_worked_out_by_hand():
    x = engine.tensor([[[1.0], [2.0], [3.0]]], dtype=engine.float64)  # 3 channels, 1 position
    out = F.local_response_norm(x, 3, alpha=3.0, beta=1.0, k=1.0)
    # windows (0, 1), (1, 2, 3), (2, 3) of the squares, summed over 3: 5/3, 14/3, 13/3
    assert out.reshape(-1).tolist() == pytest.approx([1 / 6, 2 / 15, 3 / 14])
    assert F.local_response_norm(engine.ones(1, 2, 2), 2).dtype == engine.float32


def test_inputs_without_channels_and_positions_are_refused():
    with pytest.raises(ValueError, match="expected 3D or higher dimensionality input"):
        F.local_response_norm(engine.ones(2, 3), 2)


def test_a_size_below_1_is_refused():
    """(size 0 cropped a channel: an output of shape (1, 0, 4, 4), or a broadcasting error.)"""
    with pytest.raises(ValueError, match="size .* must be at least 1, got 0"):
        F.local_response_norm(engine.ones(1, 1, 4, 4), 0)
