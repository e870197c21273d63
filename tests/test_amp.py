"""engine/amp.py: GradScaler scales the loss, unscales the gradients, skips the steps whose
gradients overflowed and moves its scale as PyTorch's does; disabled, it passes through."""
from __future__ import annotations

import math

import numpy as np
import pytest

import engine
import nn


def _model_and_loss(make: object, values: list) -> tuple:
    """A 2-weight linear model (of `make`, engine or torch) and its squared loss at x = 1, 2."""
    w = make.tensor(values, requires_grad=True)
    x = make.tensor([1.0, 2.0])
    return w, ((w * x).sum() - 1) ** 2


def test_disabled_it_passes_everything_through():
    w, loss = _model_and_loss(engine, [0.5, -0.5])
    optimizer = nn.SGD([w], lr=0.1)
    scaler = engine.cuda.amp.GradScaler(enabled=False)  # nanoGPT's float32 runs
    assert scaler.scale(loss) is loss and scaler.get_scale() == 1.0 and not scaler.is_enabled()
    loss.backward()
    scaler.unscale_(optimizer)
    scaler.step(optimizer)
    scaler.update()
    np.testing.assert_allclose(w.numpy(), [0.5 - 0.1 * -3.0, -0.5 - 0.2 * -3.0], rtol=1e-6)


def test_a_step_with_overflowed_gradients_is_skipped_and_the_scale_backs_off():
    w, loss = _model_and_loss(engine, [0.5, -0.5])
    optimizer = nn.SGD([w], lr=0.1)
    scaler = engine.amp.GradScaler(init_scale=8.0, growth_interval=2)
    scaler.scale(loss).backward()
    assert w.grad.tolist() == [-24.0, -48.0]  # 8 times the gradient
    w.grad.numpy()[0] = math.inf
    scaler.step(optimizer)
    scaler.update()
    assert w.tolist() == [0.5, -0.5] and scaler.get_scale() == 4.0
    with pytest.raises(RuntimeError, match="unscale_\\(\\) has already been called"):
        scaler.unscale_(optimizer)
        scaler.unscale_(optimizer)


def test_scale_and_weights_follow_pytorchs_grad_scaler():
    torch = pytest.importorskip("torch")
    runs = []
    for make, scaler, optimizer_class in (
            (engine, engine.amp.GradScaler("cpu", init_scale=4.0, growth_interval=2), nn.SGD),
            (torch, torch.amp.GradScaler("cpu", init_scale=4.0, growth_interval=2),
             torch.optim.SGD)):
        w, _ = _model_and_loss(make, [0.5, -0.5])
        optimizer = optimizer_class([w], lr=0.05)
        scales = []
        for step in range(6):
            loss = ((w * make.tensor([1.0, 2.0])).sum() - 1) ** 2
            optimizer.zero_grad()
            scaler.scale(loss).backward()
            if step == 3:  # an overflow, as float16 gradients have them
                w.grad[1] = math.inf
            scaler.unscale_(optimizer)
            scaler.step(optimizer)
            scaler.update()
            scales.append(scaler.get_scale())
        runs.append((scales, w.detach().numpy().copy()))
    (ours, our_w), (theirs, their_w) = runs
    assert ours == theirs
    np.testing.assert_allclose(our_w, their_w, rtol=1e-6)


def test_state_dict_round_trip_and_bad_factors():
    scaler = engine.amp.GradScaler(init_scale=2.0 ** 10)
    again = engine.amp.GradScaler()
    again.load_state_dict(scaler.state_dict())
    assert again.get_scale() == 1024.0
    with pytest.raises(ValueError, match="growth_factor must be > 1"):
        engine.amp.GradScaler(growth_factor=0.5)
