"""nn/utils/__init__.py: clip_grad_norm_ and clip_grad_value_ against torch.nn.utils (the
norm it returns, the gradients after), a closed form without PyTorch, and errors."""
from __future__ import annotations

import math

import numpy as np
import pytest

import engine
import nn
from engine import Tensor

SHAPES = [(3, 4), (5,), (2, 2, 2)]


def with_grads(lib, dtype: str, scale: float = 1.0) -> list:
    """Parameters on `lib` (engine or torch) holding the same random gradients."""
    r = np.random.default_rng(0)
    params = []
    for shape in SHAPES:
        p = lib.zeros(shape, dtype=getattr(lib, dtype), requires_grad=True)
        p.grad = lib.tensor(r.normal(size=shape).astype(dtype) * scale)
        params.append(p)
    return params


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("norm_type", [2.0, 1, math.inf, 3.0, -math.inf, 0, 0.5, -1.0])
@pytest.mark.parametrize("max_norm", [1.5, 100.0])
def test_clip_grad_norm_is_pytorchs(torch, dtype, norm_type, max_norm):
    ours, theirs = with_grads(engine, dtype), with_grads(torch, dtype)
    total = nn.utils.clip_grad_norm_(ours, max_norm, norm_type)
    want = torch.nn.utils.clip_grad_norm_(theirs, max_norm, norm_type)
    assert total.dtype == np.dtype(dtype)
    rtol = 1e-6 if dtype == "float32" else 1e-14
    np.testing.assert_allclose(total.item(), want.item(), rtol=rtol)
    for p, t in zip(ours, theirs):
        np.testing.assert_allclose(p.grad.numpy(), t.grad.numpy(), rtol=1e-6, atol=1e-7)


def test_clip_grad_norm_scales_to_the_max_norm_without_pytorch():
    params = with_grads(engine, "float64")
    before = [p.grad.numpy().copy() for p in params]
    norm = math.sqrt(sum((g ** 2).sum() for g in before))
    assert nn.utils.clip_grad_norm_(params, 1.0).item() == pytest.approx(norm, rel=1e-14)
    for p, g in zip(params, before):
        np.testing.assert_allclose(p.grad.numpy(), g / (norm + 1e-6), rtol=1e-14)
    assert math.sqrt(sum((p.grad.numpy() ** 2).sum() for p in params)) == pytest.approx(1.0)
    small = with_grads(engine, "float64", scale=1e-3)  # within the bound: left as it was
    grads = [p.grad.numpy().copy() for p in small]
    nn.utils.clip_grad_norm_(small, 1.0)
    for p, g in zip(small, grads):
        np.testing.assert_array_equal(p.grad.numpy(), g)


@pytest.mark.parametrize("norm_type, total, scaled", [
    (-math.inf, 0.5, [1.5, -0.25, 1.0]),  # the smallest |g|
    (0, 1.0, [0.75, -0.125, 0.5]),  # the count of norms != 0 (of the count of g != 0)
    (math.inf, 3.0, [0.25, -0.041666666666666664, 0.16666666666666666]),
])
def test_clip_grad_norm_of_every_order_by_hand(norm_type, total, scaled):
    p = Tensor(np.zeros(3), requires_grad=True)
    p.grad = Tensor(np.array([3.0, -0.5, 2.0]))
    assert nn.utils.clip_grad_norm_([p], 0.25, norm_type).item() == pytest.approx(total)
    np.testing.assert_allclose(p.grad.numpy(), scaled, rtol=1e-5)  # (the 1e-6 guard)


def test_clip_grad_norm_is_get_total_norm_then_clip_grads_with_norm(torch):
    ours, theirs = with_grads(engine, "float32"), with_grads(torch, "float32")
    total = nn.utils.get_total_norm([p.grad for p in ours], 3.0)
    want = torch.nn.utils.get_total_norm([p.grad for p in theirs], 3.0)
    np.testing.assert_allclose(total.item(), want.item(), rtol=1e-6)
    nn.utils.clip_grads_with_norm_(ours, 0.5, total)
    torch.nn.utils.clip_grads_with_norm_(theirs, 0.5, want)
    for p, t in zip(ours, theirs):
        np.testing.assert_allclose(p.grad.numpy(), t.grad.numpy(), rtol=1e-6, atol=1e-7)
    assert nn.utils.get_total_norm([]).item() == 0.0
    nan = Tensor(np.array([np.nan, 1.0]))
    with pytest.raises(RuntimeError, match="non-finite"):  # nan is counted by every order
        nn.utils.get_total_norm([nan], -math.inf, error_if_nonfinite=True)


def test_clip_grad_value_is_pytorchs(torch):
    ours, theirs = with_grads(engine, "float32"), with_grads(torch, "float32")
    nn.utils.clip_grad_value_(ours, 0.5)
    torch.nn.utils.clip_grad_value_(theirs, 0.5)
    for p, t in zip(ours, theirs):
        np.testing.assert_array_equal(p.grad.numpy(), t.grad.numpy())


def test_parameters_without_gradients_are_skipped_and_none_at_all_give_zero():
    p = Tensor(np.ones(3), requires_grad=True)
    assert nn.utils.clip_grad_norm_([p], 1.0).item() == 0.0
    assert nn.utils.clip_grad_norm_(nn.Linear(2, 2).parameters(), 1.0).item() == 0.0


def test_errors_name_what_was_wrong():
    p = Tensor(np.ones(2), requires_grad=True)
    p.grad = Tensor(np.array([np.inf, 1.0]))
    with pytest.raises(RuntimeError, match="non-finite, so it cannot be clipped"):
        nn.utils.clip_grad_norm_(p, 1.0, error_if_nonfinite=True)
    with pytest.raises(TypeError, match="parameter 0 is a ndarray"):
        nn.utils.clip_grad_norm_([np.ones(2)], 1.0)


def test_torch_nn_utils_is_reachable_from_engine():
    assert engine.nn.utils.clip_grad_norm_ is nn.utils.clip_grad_norm_
