"""nn/optim.py: SGD and Adam against torch.optim trajectories, closed forms, Value
parameters, training to convergence, and their errors."""
from __future__ import annotations

import random

import numpy as np
import pytest

import nn
from engine import Tensor, Value
from nn import SGD, Adam, Linear, ReLU, Sequential

rng = np.random.default_rng(0)
X = rng.normal(size=(8, 3))
Y = rng.normal(size=(8, 1))
START = [rng.normal(size=s) for s in [(3, 4), (4,), (4, 1), (1,)]]


def loss_of(x, y, w1, b1, w2, b2):
    """A small tanh net's MSE, written once for our Tensors and for torch tensors alike."""
    out = (x @ w1 + b1).tanh() @ w2 + b2
    return ((out - y) ** 2).mean()


def trajectory(opt, params, x, y, steps=50):
    """`steps` steps of the same loop, for our Tensors and for torch tensors alike."""
    for _ in range(steps):
        opt.zero_grad()
        loss_of(x, y, *params).backward()
        opt.step()
    return params


def our_trajectory(make_optimizer, dtype):
    params = [Tensor(p.copy(), requires_grad=True, dtype=dtype) for p in START]
    return trajectory(make_optimizer(nn, params), params, Tensor(X, dtype=dtype),
                      Tensor(Y, dtype=dtype))


def torch_trajectory(torch, make_optimizer, dtype):
    params = [torch.tensor(p, dtype=dtype, requires_grad=True) for p in START]
    return trajectory(make_optimizer(torch.optim, params), params, torch.tensor(X, dtype=dtype),
                      torch.tensor(Y, dtype=dtype))


OPTIMIZERS = {
    "sgd": lambda lib, p: lib.SGD(p, lr=0.1),
    "sgd_momentum": lambda lib, p: lib.SGD(p, lr=0.05, momentum=0.9),
    "sgd_dampening": lambda lib, p: lib.SGD(p, lr=0.05, momentum=0.9, dampening=0.3),
    "sgd_nesterov": lambda lib, p: lib.SGD(p, lr=0.05, momentum=0.9, nesterov=True),
    "sgd_weight_decay": lambda lib, p: lib.SGD(p, lr=0.1, weight_decay=0.01),
    "sgd_all": lambda lib, p: lib.SGD(p, lr=0.05, momentum=0.8, weight_decay=0.05,
                                      nesterov=True),
    "adam": lambda lib, p: lib.Adam(p, lr=0.01),
    "adam_betas_eps": lambda lib, p: lib.Adam(p, lr=0.02, betas=(0.8, 0.99), eps=1e-6),
    "adam_weight_decay": lambda lib, p: lib.Adam(p, lr=0.01, weight_decay=0.1),
}


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_trajectory_matches_torch_optim_in_float64(torch, name):
    ours = our_trajectory(OPTIMIZERS[name], np.float64)
    theirs = torch_trajectory(torch, OPTIMIZERS[name], torch.float64)
    for p, tp in zip(ours, theirs):
        np.testing.assert_allclose(p.data, tp.detach().numpy(), rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("name", ["sgd_all", "adam_weight_decay"])
def test_trajectory_stays_float32_and_matches_torch_within_float32_tolerance(torch, name):
    ours = our_trajectory(OPTIMIZERS[name], np.float32)
    theirs = torch_trajectory(torch, OPTIMIZERS[name], torch.float32)
    for p, tp in zip(ours, theirs):
        assert p.dtype == np.float32
        np.testing.assert_allclose(p.data, tp.detach().numpy(), rtol=1e-4, atol=1e-5)


def quadratic_steps(opt, p, steps):
    """Run `steps` steps on f(p) = sum(p**2) / 2, whose gradient is p itself."""
    for _ in range(steps):
        opt.zero_grad()
        ((p * p).sum() * 0.5).backward()
        opt.step()


def test_plain_sgd_on_a_quadratic_shrinks_geometrically():
    p = Tensor(np.array([1.0, -2.0]), requires_grad=True, dtype=np.float64)
    quadratic_steps(SGD([p], lr=0.1), p, 10)
    np.testing.assert_allclose(p.data, np.array([1.0, -2.0]) * 0.9 ** 10)


def test_momentum_on_a_quadratic_follows_the_heavy_ball_recurrence():
    # with g = p: b_t = mu b_{t-1} + p_{t-1} (b_1 = p_0), p_t = p_{t-1} - lr b_t
    p = Tensor(np.array([1.0]), requires_grad=True, dtype=np.float64)
    quadratic_steps(SGD([p], lr=0.1, momentum=0.5), p, 3)
    expected, buf = 1.0, 0.0
    for _ in range(3):
        buf = 0.5 * buf + expected
        expected -= 0.1 * buf
    assert p.data[0] == pytest.approx(expected, rel=1e-12)


def test_adam_first_step_moves_each_entry_by_lr_against_its_gradient_sign():
    p = Tensor(np.array([3.0, -0.001, 50.0]), requires_grad=True, dtype=np.float64)
    quadratic_steps(Adam([p], lr=0.01), p, 1)
    # m_hat = g, v_hat = g**2, so the step is lr * g / (|g| + eps)
    np.testing.assert_allclose(p.data, [2.99, -0.001 + 0.01 * 0.001 / (0.001 + 1e-8), 49.99])


def test_step_updates_the_parameter_arrays_in_place():
    p = Tensor(np.ones(3), requires_grad=True)
    array = p.numpy()
    quadratic_steps(Adam([p]), p, 2)
    assert p.numpy() is array and not np.all(array == 1)


def test_a_parameter_without_gradient_is_left_alone():
    used, unused = (Tensor(np.ones(2), requires_grad=True) for _ in range(2))
    opt = SGD([used, unused], lr=0.5, momentum=0.9)
    (used * used).sum().backward()
    opt.step()
    np.testing.assert_array_equal(unused.data, [1, 1])
    np.testing.assert_array_equal(used.data, [0, 0])


def test_zero_grad_resets_tensors_to_none_and_values_to_zero():
    t, v = Tensor(np.ones(2), requires_grad=True), Value(2.0)
    opt = SGD([t, v], lr=0.1)
    (t.sum()).backward()
    (v * v).backward()
    opt.zero_grad()
    assert t.grad is None and v.grad == 0.0


@pytest.mark.parametrize("make", [lambda p: SGD(p, lr=0.01, momentum=0.9, nesterov=True),
                                  lambda p: Adam(p, lr=0.05, weight_decay=0.01)])
def test_value_parameters_follow_the_same_rule_as_a_tensor(make):
    start = [0.5, -1.5, 2.0]
    values = [Value(s) for s in start]
    tensor = Tensor(np.array(start), requires_grad=True, dtype=np.float64)
    opt_v, opt_t = make(values), make([tensor])
    for _ in range(20):
        opt_v.zero_grad()
        opt_t.zero_grad()
        sum(v ** 4 for v in values).backward()
        (tensor ** 4).sum().backward()
        opt_v.step()
        opt_t.step()
    assert np.all(np.abs(tensor.data) < np.abs(start))  # both descended, and stayed finite
    np.testing.assert_allclose([v.data for v in values], tensor.data, rtol=1e-12)
    assert all(type(v.data) is float for v in values)


def test_sgd_on_values_is_micrograds_update():
    random.seed(0)
    mlp = nn.scalar.MLP(2, [4, 1])
    twin = nn.scalar.MLP(2, [4, 1])
    twin.load_state_dict(mlp.state_dict())
    opt = SGD(mlp.parameters(), lr=0.05)
    for model in (mlp, twin):
        model.zero_grad()
        nn.hinge_loss([model(x) for x in ([1.0, 2.0], [-1.0, 0.5])], [1, -1]).backward()
    opt.step()
    for p in twin.parameters():
        p.data -= 0.05 * p.grad
    assert [p.data for p in mlp.parameters()] == pytest.approx([p.data for p in twin.parameters()])


def two_blobs(n=64):
    x = np.concatenate([rng.normal(-2, 0.5, (n // 2, 2)), rng.normal(2, 0.5, (n // 2, 2))])
    return x.astype(np.float32), np.repeat([0, 1], n // 2)


@pytest.mark.parametrize("make", [lambda p: SGD(p, lr=0.1),
                                  lambda p: SGD(p, lr=0.05, momentum=0.9, nesterov=True),
                                  lambda p: Adam(p, lr=0.05, weight_decay=1e-4)])
def test_training_a_sequential_drives_a_separable_problems_loss_near_zero(make):
    nn.manual_seed(0)
    model = Sequential(Linear(2, 8), ReLU(), Linear(8, 2))
    x, y = two_blobs()
    opt = make(model.parameters())
    for _ in range(200):
        opt.zero_grad()
        loss = nn.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
    assert loss.item() < 0.02


@pytest.mark.parametrize("make, error, message", [
    (lambda: SGD([], lr=0.1), ValueError, "got no parameters"),
    (lambda: SGD(Tensor(np.ones(2), requires_grad=True)), TypeError, "takes an iterable"),
    (lambda: SGD(Sequential(Linear(2, 2))), TypeError, r"model.parameters\(\), got a Sequential"),
    (lambda: SGD([Tensor(np.ones(2))]), TypeError, "parameter 0 is a Tensor without requires_grad"),
    (lambda: SGD([np.ones(2)]), TypeError, "parameter 0 is a ndarray"),
    (lambda: SGD([{"params": []}]), TypeError, "parameter groups"),
    (lambda: SGD([Value(1.0)] * 2), ValueError, "parameter 1 appears twice"),
    (lambda: SGD([Value(1.0)], lr=-0.1), ValueError, "lr must be >= 0"),
    (lambda: SGD([Value(1.0)], lr="0.1"), TypeError, "lr must be a real number, got str"),
    (lambda: SGD([Value(1.0)], nesterov=True), ValueError, "Nesterov momentum needs"),
    (lambda: Adam([Value(1.0)], betas=(0.9, 1.0)), ValueError, r"betas\[1\] must be in \[0, 1\)"),
    (lambda: Adam([Value(1.0)], eps=-1), ValueError, "eps must be >= 0"),
    (lambda: Adam([Value(1.0)], betas=0.9), TypeError, r"betas must be a pair .* got float 0.9"),
    (lambda: Adam([Value(1.0)], betas=(0.9,)), ValueError, r"betas must be a pair .* got 1 value:"),
    (lambda: Adam([Value(1.0)], betas=(0.9, 0.99, 0.999)), ValueError,
     r"betas must be a pair .* got 3 values"),
    (lambda: Adam([Value(1.0)], betas="ab"), TypeError, "betas must be a pair .* got str"),
])
def test_bad_arguments_are_refused_clearly(make, error, message):
    with pytest.raises(error, match=message):
        make()
