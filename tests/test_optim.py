"""nn/optim: SGD, Adam, AdamW, RMSprop and Adagrad against torch.optim's trajectories (100 steps, every option,
parameter groups), against numbers recorded from PyTorch for runs without it, closed forms,
state_dict round trips (ours and PyTorch's), Value parameters, training to convergence,
and errors."""
from __future__ import annotations

import json
import random
from pathlib import Path

import numpy as np
import pytest

import engine
import nn
from engine import Tensor, Value
from nn import SGD, Adam, AdamW, Linear, ReLU, Sequential

rng = np.random.default_rng(0)
X = rng.normal(size=(8, 3))
Y = rng.normal(size=(8, 1))
START = [rng.normal(size=s) for s in [(3, 4), (4,), (4, 1), (1,)]]
STEPS = 100


def loss_of(x, y, w1, b1, w2, b2):
    """A small tanh net's MSE, written once for our Tensors and for torch tensors alike."""
    out = (x @ w1 + b1).tanh() @ w2 + b2
    return ((out - y) ** 2).mean()


def trajectory(torch, make, dtype="float64", steps=STEPS):
    """(losses, final parameters as arrays) of `steps` steps of one loop, on `torch` =
    engine (ours) or torch."""
    params = [torch.tensor(p, dtype=getattr(torch, dtype), requires_grad=True) for p in START]
    x, y = (torch.tensor(a, dtype=getattr(torch, dtype)) for a in (X, Y))
    optimizer = make(torch.optim, params)
    losses = []
    for _ in range(steps):
        optimizer.zero_grad()
        loss = loss_of(x, y, *params)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return np.array(losses), [np.array(p.detach().numpy()) for p in params]


def groups(optim_class, first: dict, second: dict, **defaults):
    """An optimizer with two parameter groups: the first layer's and the second's."""
    return lambda optim, p: getattr(optim, optim_class)(
        [{"params": p[:2], **first}, {"params": p[2:], **second}], **defaults)


OPTIMIZERS = {
    "sgd": lambda optim, p: optim.SGD(p, lr=0.1),
    "sgd_momentum": lambda optim, p: optim.SGD(p, lr=0.05, momentum=0.9),
    "sgd_dampening": lambda optim, p: optim.SGD(p, lr=0.05, momentum=0.9, dampening=0.3),
    "sgd_nesterov": lambda optim, p: optim.SGD(p, lr=0.05, momentum=0.9, nesterov=True),
    "sgd_weight_decay": lambda optim, p: optim.SGD(p, lr=0.1, weight_decay=0.01),
    "sgd_maximize": lambda optim, p: optim.SGD(p, lr=0.002, momentum=0.5, maximize=True),
    "sgd_all": lambda optim, p: optim.SGD(p, lr=0.05, momentum=0.8, weight_decay=0.05,
                                          nesterov=True),
    "sgd_groups": groups("SGD", {"momentum": 0.9}, {"lr": 0.02, "dampening": 0.5,
                                                    "momentum": 0.5}, lr=0.05),
    "adam": lambda optim, p: optim.Adam(p, lr=0.01),
    "adam_betas_eps": lambda optim, p: optim.Adam(p, lr=0.02, betas=(0.8, 0.99), eps=1e-6),
    "adam_weight_decay": lambda optim, p: optim.Adam(p, lr=0.01, weight_decay=0.1),
    "adam_amsgrad": lambda optim, p: optim.Adam(p, lr=0.02, amsgrad=True),
    "adam_maximize": lambda optim, p: optim.Adam(p, lr=0.01, maximize=True),
    "adam_groups": groups("Adam", {"betas": (0.5, 0.9)}, {"lr": 0.003, "weight_decay": 0.1},
                          lr=0.01),
    "adamw": lambda optim, p: optim.AdamW(p, lr=0.01),
    "adamw_weight_decay": lambda optim, p: optim.AdamW(p, lr=0.02, weight_decay=0.5),
    "adamw_amsgrad": lambda optim, p: optim.AdamW(p, lr=0.02, weight_decay=0.1, amsgrad=True),
    "adamw_groups": groups("AdamW", {"weight_decay": 0.0}, {"amsgrad": True}, lr=0.01),
    "rmsprop": lambda optim, p: optim.RMSprop(p, lr=0.01),
    "rmsprop_centered_momentum": lambda optim, p: optim.RMSprop(
        p, lr=0.005, alpha=0.9, momentum=0.8, centered=True, weight_decay=0.01),
    "rmsprop_groups": groups("RMSprop", {"momentum": 0.5}, {"centered": True,
                                                            "maximize": True}, lr=0.002),
    "adagrad": lambda optim, p: optim.Adagrad(p, lr=0.1),
    "adagrad_all": lambda optim, p: optim.Adagrad(p, lr=0.2, lr_decay=0.01, weight_decay=0.05,
                                                  initial_accumulator_value=0.1, eps=1e-6),
    "adagrad_maximize": lambda optim, p: optim.Adagrad(p, lr=0.01, maximize=True),
}


def _relative_gap(ours, theirs) -> float:
    (losses, params), (want_losses, want_params) = ours, theirs
    gaps = [np.abs(losses - want_losses).max() / np.abs(want_losses).max()]
    gaps += [np.abs(p - w).max() / np.abs(w).max() for p, w in zip(params, want_params)]
    return max(gaps)


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_trajectory_matches_torch_optim_over_100_steps(torch, name):
    gap = _relative_gap(trajectory(engine, OPTIMIZERS[name]), trajectory(torch, OPTIMIZERS[name]))
    assert gap < 1e-6  # the bar of issue 20; in float64 the two agree to about 1e-14


@pytest.mark.parametrize("name", ["sgd_all", "adam_weight_decay", "adamw_amsgrad"])
def test_trajectory_stays_float32_and_matches_torch_within_float32_rounding(torch, name):
    ours = trajectory(engine, OPTIMIZERS[name], "float32")
    assert all(p.dtype == np.float32 for p in ours[1])
    assert _relative_gap(ours, trajectory(torch, OPTIMIZERS[name], "float32")) < 1e-5


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_trajectory_matches_the_numbers_recorded_from_pytorch(name):
    """Without PyTorch too: the loss after 1, 10 and 100 steps and the final parameters, as
    torch 2.13.0 computed them in float64 (RECORDED, below)."""
    _assert_recorded(trajectory(engine, OPTIMIZERS[name]), name, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_the_recorded_numbers_are_pytorchs(torch, name):
    _assert_recorded(trajectory(torch, OPTIMIZERS[name]), name, rtol=1e-12, atol=1e-15)


def _assert_recorded(trajectory: tuple, name: str, rtol: float, atol: float) -> None:
    """The losses and final parameters of `trajectory` are RECORDED[name]'s, within rtol
    (looser for RMSprop, see below).

    RMSprop's v += (1 - alpha) g^2 (torch's addcmul_) rounds once or twice as the CPU
    kernel torch picks for the machine fuses the multiply-add or not, and numpy always
    rounds twice: torch 2.13.0's own numbers on a machine with AVX2 kernels (the CI
    machine) differ from those recorded on another by 1e-8 for plain RMSprop, whose steps
    near the minimum, g / sqrt(v) with v small, magnify that last bit over 100 steps, and
    by 2e-12 for the centered one. The other optimizers agree to float64's rounding."""
    losses, params = trajectory
    want_losses, want_params = RECORDED[name]
    if name.startswith("rmsprop"):
        rtol = max(rtol, 1e-7 if name == "rmsprop" else 1e-9)
    np.testing.assert_allclose(losses[[0, 9, 99]], want_losses, rtol=rtol)
    np.testing.assert_allclose(np.concatenate([p.ravel() for p in params]), want_params,
                               rtol=rtol, atol=atol)


# --- a 0-d parameter: the stored buffers must be updated in place (issue 21, item 4) ---

def zero_d_steps(torch, make, steps=3):
    """p, a 0-d parameter, after `steps` steps on (p - 3)**2, with `make`'s optimizer."""
    p = torch.tensor(1.0, dtype=torch.float64, requires_grad=True)
    optimizer = make(torch.optim, [p])
    for _ in range(steps):
        optimizer.zero_grad()
        ((p - 3) ** 2).backward()
        optimizer.step()
    return p.item(), optimizer


ZERO_D = {  # the optimizer, and p after 3 steps as torch 2.13.0 computes it
    "sgd_momentum_weight_decay": (
        lambda optim, p: optim.SGD(p, lr=0.1, momentum=0.9, weight_decay=0.1), 2.811979),
    "adam_amsgrad": (lambda optim, p: optim.Adam(p, lr=0.1, amsgrad=True), 1.299376607953535),
}


@pytest.mark.parametrize("name", ZERO_D)
def test_a_0d_parameter_keeps_its_state_between_steps(name):
    make, recorded = ZERO_D[name]
    p, optimizer = zero_d_steps(engine, make)
    assert p == pytest.approx(recorded, rel=1e-6)
    state = next(iter(optimizer.state.values()))
    assert all(v.ndim == 0 for v in state.values())


@pytest.mark.parametrize("name", ZERO_D)
def test_a_0d_parameter_follows_pytorch_step_by_step(torch, name):
    make, recorded = ZERO_D[name]
    for steps in (1, 2, 3, 10):
        assert zero_d_steps(engine, make, steps)[0] == pytest.approx(
            zero_d_steps(torch, make, steps)[0], rel=1e-13)
    assert zero_d_steps(torch, make)[0] == pytest.approx(recorded, rel=1e-6)


# --- closed forms ---

def quadratic_steps(opt, p, steps):
    """Run `steps` steps on f(p) = sum(p**2) / 2, whose gradient is p itself."""
    for _ in range(steps):
        opt.zero_grad()
        ((p * p).sum() * 0.5).backward()
        opt.step()


def test_plain_sgd_on_a_quadratic_shrinks_geometrically():
    p = Tensor(np.array([1.0, -2.0]), requires_grad=True, dtype=np.float64)
    quadratic_steps(SGD([p], lr=0.1), p, 10)
    np.testing.assert_allclose(p.numpy(), np.array([1.0, -2.0]) * 0.9 ** 10)


def test_momentum_with_dampening_follows_the_recurrence_from_an_undamped_first_step():
    # with g = p: b_1 = p_0 (no dampening at the first step), then b_t = mu b_{t-1} +
    # (1 - d) p_{t-1}; p_t = p_{t-1} - lr b_t
    p = Tensor(np.array([1.0]), requires_grad=True, dtype=np.float64)
    quadratic_steps(SGD([p], lr=0.1, momentum=0.5, dampening=0.3), p, 3)
    expected, buf = 1.0, None
    for _ in range(3):
        buf = expected if buf is None else 0.5 * buf + 0.7 * expected
        expected -= 0.1 * buf
    assert p.numpy()[0] == pytest.approx(expected, rel=1e-12)


def test_adam_first_step_moves_each_entry_by_lr_against_its_gradient_sign():
    p = Tensor(np.array([3.0, -0.001, 50.0]), requires_grad=True, dtype=np.float64)
    quadratic_steps(Adam([p], lr=0.01), p, 1)
    # m_hat = g, v_hat = g**2, so the step is lr * g / (|g| + eps)
    np.testing.assert_allclose(p.numpy(), [2.99, -0.001 + 0.01 * 0.001 / (0.001 + 1e-8), 49.99])


def test_adam_bias_correction_makes_a_constant_gradients_steps_equal():
    """With a constant gradient g, m_hat = g and v_hat = g**2 at every step t (the bias
    corrections 1 - beta**t undo the moving averages' start at zero): each step is lr."""
    p = Tensor(np.array([0.0]), requires_grad=True, dtype=np.float64)
    optimizer = Adam([p], lr=0.1, eps=0.0)
    for step in range(1, 6):
        optimizer.zero_grad()
        (p * 2.0).sum().backward()
        optimizer.step()
        assert p.numpy()[0] == pytest.approx(-0.1 * step, rel=1e-12)


def test_adamw_shrinks_the_weights_before_its_step():
    p = Tensor(np.array([2.0]), requires_grad=True, dtype=np.float64)
    optimizer = AdamW([p], lr=0.1, weight_decay=0.5, eps=0.0)
    (p * 3.0).sum().backward()
    optimizer.step()
    assert p.numpy()[0] == pytest.approx(2.0 * (1 - 0.1 * 0.5) - 0.1, rel=1e-12)


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
    np.testing.assert_array_equal(unused.numpy(), [1, 1])
    np.testing.assert_array_equal(used.numpy(), [0, 0])
    assert unused not in opt.state


def test_step_takes_a_closure_that_recomputes_the_loss():
    p = Tensor(np.array([3.0]), requires_grad=True, dtype=np.float64)
    opt = SGD([p], lr=0.25)

    def closure():
        opt.zero_grad()
        loss = (p * p).sum()
        loss.backward()
        return loss
    assert opt.step(closure).item() == 9.0
    assert p.numpy()[0] == 1.5


def test_zero_grad_resets_tensors_to_none_or_zero_and_values_to_zero():
    t, v = Tensor(np.ones(2), requires_grad=True), Value(2.0)
    opt = SGD([t, v], lr=0.1)
    t.sum().backward()
    (v * v).backward()
    grad = t.grad
    opt.zero_grad(set_to_none=False)
    assert t.grad is grad and not grad.numpy().any() and v.grad == 0.0
    opt.zero_grad()
    assert t.grad is None


def test_a_frozen_parameter_is_accepted_and_left_alone():
    layer = Linear(2, 2)
    layer.weight.requires_grad_(False)
    opt = SGD(layer.parameters(), lr=1.0)  # torch takes frozen parameters too
    before = layer.weight.numpy().copy()
    layer(np.ones((1, 2), np.float32)).sum().backward()
    opt.step()
    np.testing.assert_array_equal(layer.weight.numpy(), before)


# --- parameter groups and state ---

def test_parameter_groups_take_their_own_options_and_the_defaults_for_the_rest():
    a, b = Tensor(np.ones(2), requires_grad=True), Tensor(np.ones(3), requires_grad=True)
    opt = SGD([{"params": [a]}, {"params": b, "lr": 0.5, "nesterov": True, "momentum": 0.9}],
              lr=0.1)
    assert [g["lr"] for g in opt.param_groups] == [0.1, 0.5]
    assert opt.param_groups[1]["params"] == [b] and opt.param_groups[0]["momentum"] == 0.0
    c = Tensor(np.ones(1), requires_grad=True)
    opt.add_param_group({"params": [c], "momentum": 0.5})
    assert opt.param_groups[2]["lr"] == 0.1 and opt.param_groups[2]["momentum"] == 0.5
    with pytest.raises(ValueError, match="appears twice"):
        opt.add_param_group({"params": [a]})


def _continued(torch, name, split, load):
    """The trajectory of `name` when after `split` steps the optimizer is saved with
    state_dict() and a fresh one, given load(state), takes over."""
    params = [torch.tensor(p, dtype=torch.float64, requires_grad=True) for p in START]
    x, y = (torch.tensor(a, dtype=torch.float64) for a in (X, Y))
    optimizer = OPTIMIZERS[name](torch.optim, params)
    for step in range(30):
        if step == split:
            state = optimizer.state_dict()
            optimizer = OPTIMIZERS[name](torch.optim, params)
            optimizer.load_state_dict(load(state))
        optimizer.zero_grad()
        loss_of(x, y, *params).backward()
        optimizer.step()
    return [p.detach().numpy() for p in params]


@pytest.mark.parametrize("name", ["sgd_groups", "adam_amsgrad", "adamw_groups"])
def test_state_dict_round_trip_continues_the_same_trajectory(name):
    whole = _continued(engine, name, split=-1, load=lambda s: s)
    resumed = _continued(engine, name, split=12, load=lambda s: s)
    for a, b in zip(whole, resumed):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("name", ["sgd_groups", "adam_amsgrad", "adamw_groups"])
def test_pytorchs_optimizer_state_loads_and_continues_pytorchs_trajectory(torch, name):
    """Save torch.optim's state after 12 steps, load it into ours with our parameters at
    the same numbers, and continue: the same trajectory as torch's."""
    params = [torch.tensor(p, dtype=torch.float64, requires_grad=True) for p in START]
    x, y = (torch.tensor(a, dtype=torch.float64) for a in (X, Y))
    theirs = OPTIMIZERS[name](torch.optim, params)
    for _ in range(12):
        theirs.zero_grad()
        loss_of(x, y, *params).backward()
        theirs.step()
    ours_params = [Tensor(p.detach().numpy().copy(), requires_grad=True) for p in params]
    ours = OPTIMIZERS[name](nn.optim, ours_params)
    ours.load_state_dict(theirs.state_dict())
    assert [{k: v for k, v in g.items() if k != "params"} for g in ours.param_groups] == \
        [{k: v for k, v in g.items() if k != "params"} for g in theirs.param_groups]
    for _ in range(18):
        for opt, p, lib in ((theirs, params, torch), (ours, ours_params, engine)):
            opt.zero_grad()
            loss_of(lib.tensor(X), lib.tensor(Y), *p).backward()
            opt.step()
    for a, b in zip(ours_params, params):
        np.testing.assert_allclose(a.numpy(), b.detach().numpy(), rtol=1e-12)


def test_state_dict_has_pytorchs_layout(torch):
    states = []
    for lib in (engine, torch):
        p = lib.ones(2, requires_grad=True)
        opt = lib.optim.Adam([p], lr=0.1)
        (p * p).sum().backward()
        opt.step()
        states.append(opt.state_dict())
    ours, theirs = states
    assert ours["param_groups"] == theirs["param_groups"]
    assert ours["state"].keys() == theirs["state"].keys()
    assert ours["state"][0].keys() == theirs["state"][0].keys()
    for k in ours["state"][0]:
        np.testing.assert_allclose(ours["state"][0][k].numpy(), theirs["state"][0][k].numpy(),
                                   rtol=1e-6)
    assert ours["state"][0]["step"].dtype == np.float32  # as PyTorch keeps it


def test_repr_is_pytorchs(torch):
    for make in (lambda optim, p: optim.SGD(p, lr=0.1),
                 groups("AdamW", {"lr": 0.5}, {"amsgrad": True}, lr=0.01)):
        ours = make(nn.optim, [Tensor(np.ones(1), requires_grad=True) for _ in START])
        theirs = make(torch.optim, [torch.ones(1, requires_grad=True) for _ in START])
        assert repr(ours) == repr(theirs)


def test_loading_a_state_of_another_shape_is_refused():
    a = Tensor(np.ones(2), requires_grad=True)
    opt = SGD([a], lr=0.1, momentum=0.9)
    (a * a).sum().backward()
    opt.step()
    state = opt.state_dict()
    with pytest.raises(ValueError, match="2 parameter groups, this optimizer 1"):
        opt.load_state_dict({**state, "param_groups": state["param_groups"] * 2})
    other = SGD([Tensor(np.ones(3), requires_grad=True)], lr=0.1, momentum=0.9)
    with pytest.raises(ValueError, match=r"'momentum_buffer' has shape \(2,\), but its "
                                         r"parameter has shape \(3,\)"):
        other.load_state_dict(state)


# --- Value parameters (micrograd's scalar MLPs) ---

@pytest.mark.parametrize("make", [lambda p: SGD(p, lr=0.01, momentum=0.9, nesterov=True),
                                  lambda p: Adam(p, lr=0.05, weight_decay=0.01),
                                  lambda p: AdamW(p, lr=0.05, amsgrad=True)])
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
    assert np.all(np.abs(tensor.numpy()) < np.abs(start))  # both descended, and stayed finite
    np.testing.assert_allclose([v.data for v in values], tensor.numpy(), rtol=1e-12)
    assert all(type(v.data) is float for v in values)


def test_value_parameters_state_survives_a_state_dict_round_trip():
    def run(split):
        values = [Value(0.5), Value(-1.5)]
        opt = Adam(values, lr=0.1)
        for step in range(8):
            if step == split:
                state = opt.state_dict()
                assert len(state["state"]) == 2 and state["state"][1]["exp_avg"].ndim == 0
                opt = Adam(values, lr=0.1)
                opt.load_state_dict(state)
            opt.zero_grad()
            sum(v ** 2 for v in values).backward()
            opt.step()
        return [v.data for v in values]
    assert run(split=-1) == run(split=5)


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
                                  lambda p: Adam(p, lr=0.05, weight_decay=1e-4),
                                  lambda p: AdamW(p, lr=0.05)])
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
    (lambda: SGD([Tensor(np.ones(2), requires_grad=True) * 2]), ValueError,
     "only leaf tensors can be optimized"),
    (lambda: SGD([{"params": {Value(1.0)}}]), TypeError, "not a set"),
    (lambda: SGD([{"params": [Value(1.0)]}, [Value(2.0)]]), TypeError, "pass all groups as dicts"),
    (lambda: SGD([Value(1.0)] * 2), ValueError, "parameter 1 appears twice"),
    (lambda: SGD([Value(1.0)], lr=-0.1), ValueError, "lr must be >= 0"),
    (lambda: SGD([Value(1.0)], lr="0.1"), TypeError, "lr must be a real number, got str"),
    (lambda: SGD([{"params": [Value(1.0)], "momentum": -1}]), ValueError, "momentum must be >= 0"),
    (lambda: SGD([Value(1.0)], nesterov=True), ValueError, "Nesterov momentum needs"),
    (lambda: SGD([Value(1.0)], differentiable=True), ValueError, "differentiable=True"),
    (lambda: Adam([Value(1.0)], betas=(0.9, 1.0)), ValueError, r"betas\[1\] must be in \[0, 1\)"),
    (lambda: Adam([Value(1.0)], eps=-1), ValueError, "eps must be >= 0"),
    (lambda: Adam([Value(1.0)], betas=0.9), TypeError, r"betas must be a pair .* got float 0.9"),
    (lambda: Adam([Value(1.0)], betas=(0.9,)), ValueError, r"betas must be a pair .* got 1 value:"),
    (lambda: Adam([Value(1.0)], betas=(0.9, 0.99, 0.999)), ValueError,
     r"betas must be a pair .* got 3 values"),
    (lambda: AdamW([Value(1.0)], weight_decay=-0.1), ValueError, "weight_decay must be >= 0"),
    (lambda: setattr(SGD([Value(1.0)]), "lr", 0.1), AttributeError,
     r"parameter groups' \"lr\", as in torch.optim"),
])
def test_bad_arguments_are_refused_clearly(make, error, message):
    with pytest.raises(error, match=message):
        make()


def test_engine_optim_is_nn_optim():
    """`import engine as torch` code finds torch.optim and its schedulers there."""
    assert engine.optim is nn.optim and engine.optim.AdamW is AdamW
    assert engine.optim.lr_scheduler.StepLR is nn.optim.lr_scheduler.StepLR


# Recorded with torch 2.13.0 (CPU build) in float64 by running each case's trajectory on
# torch (test_the_recorded_numbers_are_pytorchs checks them against it): the loss after 1,
# 10 and 100 steps, and the 21 parameter entries after 100 steps, in START's order.
_RECORDING = Path(__file__).parent / "fixtures" / "optim_trajectories.json"
RECORDED = {name: (case["losses"], case["params"])
            for name, case in json.loads(_RECORDING.read_text())["trajectories"].items()}


def test_an_optimizer_without_an_update_rule_says_what_to_define():
    class Frozen(nn.optim.Optimizer):
        pass
    w = Tensor(np.ones(2, np.float32), requires_grad=True)
    with pytest.raises(TypeError, match=r"Frozen has no update rule: define step\(\)"):
        Frozen([w], {"lr": 0.1})


def test_an_optimizer_written_the_pytorch_way_defines_step_alone():
    class HalfStep(nn.optim.Optimizer):
        def __init__(self, params, lr):
            super().__init__(params, {"lr": lr})

        @engine.no_grad()
        def step(self, closure=None):
            for group in self.param_groups:
                for p in group["params"]:
                    p -= group["lr"] * p.grad / 2

    w = Tensor(np.ones(2, np.float32), requires_grad=True)
    opt = HalfStep([w], lr=0.2)
    (w * 3.0).sum().backward()
    opt.step()
    assert w.tolist() == pytest.approx([0.7, 0.7])
