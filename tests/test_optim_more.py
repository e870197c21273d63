"""nn/optim's Adamax, NAdam, RAdam (adam_variants.py), Adadelta, Rprop, ASGD and LBFGS:
trajectories against torch.optim's in float64 and float32 (every option, parameter groups,
an lr scheduler), state_dict both ways with PyTorch, the documented formulas written out in
numpy and LBFGS's convergence for runs without it, Value parameters, and errors."""
from __future__ import annotations

import io
import math

import numpy as np
import pytest

import engine
import nn
from engine import Tensor, Value
from nn.optim import ASGD, LBFGS, Adadelta, Adamax, NAdam, RAdam, Rprop
from test_optim import START, X, Y, groups, loss_of, trajectory

STEPS = 60
OPTIMIZERS = {
    "adamax": lambda optim, p: optim.Adamax(p, lr=0.01),
    "adamax_all": lambda optim, p: optim.Adamax(p, lr=0.02, betas=(0.8, 0.99), eps=1e-6,
                                                weight_decay=0.1),
    "adamax_maximize": lambda optim, p: optim.Adamax(p, lr=0.005, maximize=True),
    "nadam": lambda optim, p: optim.NAdam(p, lr=0.01),
    "nadam_momentum_decay": lambda optim, p: optim.NAdam(p, lr=0.02, betas=(0.8, 0.99),
                                                         momentum_decay=0.05),
    "nadam_weight_decay": lambda optim, p: optim.NAdam(p, lr=0.01, weight_decay=0.1),
    "nadam_decoupled": lambda optim, p: optim.NAdam(p, lr=0.01, weight_decay=0.2,
                                                    decoupled_weight_decay=True),
    "nadam_maximize": lambda optim, p: optim.NAdam(p, lr=0.002, maximize=True),
    "radam": lambda optim, p: optim.RAdam(p, lr=0.01),
    "radam_short_warmup": lambda optim, p: optim.RAdam(p, lr=0.01, betas=(0.9, 0.9)),
    "radam_weight_decay": lambda optim, p: optim.RAdam(p, lr=0.01, weight_decay=0.1),
    "radam_decoupled": lambda optim, p: optim.RAdam(p, lr=0.01, weight_decay=0.2,
                                                    decoupled_weight_decay=True),
    "radam_maximize": lambda optim, p: optim.RAdam(p, lr=0.002, maximize=True),
    "adadelta": lambda optim, p: optim.Adadelta(p),
    "adadelta_all": lambda optim, p: optim.Adadelta(p, lr=0.5, rho=0.8, eps=1e-5,
                                                    weight_decay=0.05),
    "adadelta_maximize": lambda optim, p: optim.Adadelta(p, lr=0.1, maximize=True),
    "rprop": lambda optim, p: optim.Rprop(p, lr=0.01),
    "rprop_all": lambda optim, p: optim.Rprop(p, lr=0.05, etas=(0.3, 1.5),
                                              step_sizes=(1e-3, 0.1)),
    "rprop_maximize": lambda optim, p: optim.Rprop(p, lr=0.001, step_sizes=(1e-6, 0.01),
                                                   maximize=True),
    "asgd": lambda optim, p: optim.ASGD(p, lr=0.05),
    "asgd_averaging": lambda optim, p: optim.ASGD(p, lr=0.05, lambd=1e-2, alpha=0.6, t0=20,
                                                  weight_decay=0.01),
    "asgd_maximize": lambda optim, p: optim.ASGD(p, lr=0.002, t0=5, maximize=True),
    "groups": groups("NAdam", {"betas": (0.5, 0.9)}, {"lr": 0.003, "weight_decay": 0.1},
                     lr=0.01),
    "groups_asgd": groups("ASGD", {"t0": 10}, {"lr": 0.01, "lambd": 0.1}, lr=0.05),
}


@pytest.fixture
def default_dtype(torch, request):
    """Both libraries' default float dtype set to the test's, as it decides the dtype of
    the 0-d numbers in an optimizer's state (NAdam's mu_product, ASGD's eta and mu)."""
    dtype = request.param
    torch.set_default_dtype(getattr(torch, dtype))
    engine.set_default_dtype(getattr(engine, dtype))
    yield dtype
    engine.set_default_dtype(engine.float32)


def _gap(ours: tuple, theirs: tuple) -> float:
    """The largest difference between two trajectories' losses and final parameters."""
    (losses, params), (want_losses, want_params) = ours, theirs
    return max([np.abs(losses - want_losses).max()] +
               [np.abs(p - w).max() for p, w in zip(params, want_params)])


@pytest.mark.parametrize("default_dtype, tolerance", [("float64", 1e-13), ("float32", 5e-6)],
                         indirect=["default_dtype"])
@pytest.mark.parametrize("name", OPTIMIZERS)
def test_trajectory_matches_torch_optim_over_60_steps(torch, default_dtype, tolerance, name):
    """float64: the two differ in the last bits (4e-15 measured); float32: by rounding,
    torch's kernels fusing some multiply-adds (2e-6 measured). (Some of these runs, as
    Adadelta's with rho=0.8, later reach a stretch that magnifies the last bits a
    thousandfold in either library: 60 steps stay before it.)"""
    ours = trajectory(engine, OPTIMIZERS[name], default_dtype, STEPS)
    assert ours[1][0].dtype == default_dtype
    assert _gap(ours, trajectory(torch, OPTIMIZERS[name], default_dtype, STEPS)) < tolerance


@pytest.mark.parametrize("name", ["nadam", "radam_decoupled", "adamax_all", "asgd_averaging"])
def test_an_lr_scheduler_drives_them_as_pytorchs(torch, float64_default, name):
    finals = []
    for lib in (engine, torch):
        params = [lib.tensor(p, requires_grad=True) for p in START]
        optimizer = OPTIMIZERS[name](lib.optim, params)
        scheduler = lib.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=40)
        for _ in range(STEPS):
            _steps(lib, optimizer, params, 1)
            scheduler.step()
        finals.append([p.detach().numpy() for p in params])
    for ours, theirs in zip(*finals):
        np.testing.assert_allclose(ours, theirs, rtol=1e-13, atol=1e-15)


@pytest.mark.parametrize("name", ["adamax", "nadam", "radam", "adadelta"])
def test_a_group_with_lr_0_stays_where_it_is(name):
    params = [Tensor(p, requires_grad=True) for p in START]
    optimizer = OPTIMIZERS[name](nn.optim, params)
    for group in optimizer.param_groups:
        group["lr"] = 0.0
    loss_of(Tensor(X), Tensor(Y), *params).backward()
    optimizer.step()
    for p, start in zip(params, START):
        np.testing.assert_array_equal(p.numpy(), start)


def test_rprop_leaves_an_entry_with_a_nan_gradient_where_it_is(library):
    """Its step is sign(g) times the entry's step size, and torch.sign(nan) is 0 (numpy's is
    nan, which made the parameter nan)."""
    p = library.tensor([1.0, 2.0], requires_grad=True)
    optimizer = library.optim.Rprop([p], lr=0.1)
    p.grad = library.tensor([math.nan, 0.5])
    optimizer.step()
    assert p.detach().tolist() == [1.0, 1.899999976158142]


# --- the documented formulas, written out in numpy: checks without PyTorch ---

def _adamax(p, steps, lr=0.01, b1=0.9, b2=0.999, eps=1e-8):
    m, u = np.zeros_like(p), np.zeros_like(p)
    for t in range(1, steps + 1):
        g = p  # the gradient of sum(p**2) / 2
        m = b1 * m + (1 - b1) * g
        u = np.maximum(b2 * u, np.abs(g) + eps)
        p = p - lr * m / ((1 - b1 ** t) * u)
    return p


def _nadam(p, steps, lr=0.01, b1=0.9, b2=0.999, eps=1e-8, psi=4e-3):
    m, v, product = np.zeros_like(p), np.zeros_like(p), 1.0
    for t in range(1, steps + 1):
        g = p
        mu = b1 * (1 - 0.5 * 0.96 ** (t * psi))
        mu_next = b1 * (1 - 0.5 * 0.96 ** ((t + 1) * psi))
        product *= mu
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        m_hat = mu_next * m / (1 - product * mu_next) + (1 - mu) * g / (1 - product)
        p = p - lr * m_hat / (np.sqrt(v / (1 - b2 ** t)) + eps)
    return p


def _radam(p, steps, lr=0.01, b1=0.9, b2=0.999, eps=1e-8):
    m, v = np.zeros_like(p), np.zeros_like(p)
    rho_inf = 2 / (1 - b2) - 1
    for t in range(1, steps + 1):
        g = p
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        m_hat = m / (1 - b1 ** t)
        rho = rho_inf - 2 * t * b2 ** t / (1 - b2 ** t)
        if rho > 5:
            r = np.sqrt((rho - 4) * (rho - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho))
            p = p - lr * m_hat * r * np.sqrt(1 - b2 ** t) / (np.sqrt(v) + eps)
        else:
            p = p - lr * m_hat
    return p


def _adadelta(p, steps, lr=1.0, rho=0.9, eps=1e-6):
    v, u = np.zeros_like(p), np.zeros_like(p)
    for _ in range(steps):
        g = p
        v = rho * v + (1 - rho) * g * g
        delta = np.sqrt(u + eps) / np.sqrt(v + eps) * g
        u = rho * u + (1 - rho) * delta * delta
        p = p - lr * delta
    return p


def _rprop(p, steps, lr=0.01, etas=(0.5, 1.2), sizes=(1e-6, 50)):
    size, prev = np.full_like(p, lr), np.zeros_like(p)
    for _ in range(steps):
        g = p.copy()
        size = np.clip(size * np.select([g * prev > 0, g * prev < 0], etas[::-1], 1), *sizes)
        g[g * prev < 0] = 0
        p, prev = p - np.sign(g) * size, g
    return p


def _asgd(p, steps, lr=0.05, lambd=1e-4, alpha=0.75, t0=1e6):
    eta, mu, ax = lr, 1.0, np.zeros_like(p)
    for t in range(1, steps + 1):
        p = p * (1 - lambd * eta) - eta * p
        ax = ax + mu * (p - ax)
        eta, mu = lr / (1 + lambd * lr * t) ** alpha, 1 / max(1, t - t0)
    return p


FORMULAS = {"adamax": _adamax, "nadam": _nadam, "radam": _radam, "adadelta": _adadelta,
            "rprop": _rprop, "asgd": _asgd}


@pytest.mark.parametrize("steps", [1, 3, 12])
@pytest.mark.parametrize("name", FORMULAS)
def test_steps_on_a_quadratic_follow_the_documented_formula(float64_default, name, steps):
    start = np.array([3.0, -0.5, 1e-3, 0.0, 40.0])
    p = Tensor(start.copy(), requires_grad=True, dtype=np.float64)
    optimizer = OPTIMIZERS[name](nn.optim, [p])
    for _ in range(steps):
        optimizer.zero_grad()
        ((p * p).sum() * 0.5).backward()
        optimizer.step()
    np.testing.assert_allclose(p.numpy(), FORMULAS[name](start, steps), rtol=1e-13, atol=1e-15)


def test_radam_takes_plain_momentum_steps_while_its_variance_estimate_is_unreliable():
    """rho_t > 5 from t = 6 on for beta2 = 0.999: the first five steps are lr * m_hat, which
    for a constant gradient g is lr * g each."""
    p = Tensor(np.array([0.0]), requires_grad=True, dtype=np.float64)
    optimizer = RAdam([p], lr=0.1)
    for step in range(1, 7):
        optimizer.zero_grad()
        (p * 2.0).sum().backward()
        optimizer.step()
        if step <= 5:
            assert p.numpy()[0] == pytest.approx(-0.2 * step, rel=1e-12)
    assert p.numpy()[0] > -0.2 * 5 - 0.2 * 0.5  # the first rectified step is a small one


def test_asgd_averages_the_parameters_from_t0_on(float64_default):
    p = Tensor(np.array([1.0, -2.0]), requires_grad=True, dtype=np.float64)
    optimizer = ASGD([p], lr=0.1, lambd=0.0, t0=3)
    seen = []
    for _ in range(8):
        optimizer.zero_grad()
        (p * p).sum().backward()
        optimizer.step()
        seen.append(p.numpy().copy())
    # mu = 1 / max(1, t - t0) after step t serves the next step: ax follows p up to step
    # t0 + 2, then averages the parameters since then
    np.testing.assert_allclose(optimizer.state[p]["ax"].numpy(), np.mean(seen[4:], axis=0),
                               rtol=1e-12)


# --- state_dict, both ways with PyTorch ---

def _steps(lib, optimizer, params, n):
    for _ in range(n):
        optimizer.zero_grad()
        loss_of(lib.tensor(X), lib.tensor(Y), *params).backward()
        optimizer.step()


def _to_torch(torch, state_dict):
    """Our state_dict as PyTorch reads it: through engine.save's .pt bytes and torch.load."""
    buffer = io.BytesIO()
    engine.save(state_dict, buffer)
    buffer.seek(0)
    return torch.load(buffer)


def _exchanged(torch, make, run, steps, first):
    """(ours, our parameters, PyTorch's optimizer, its parameters), made by `make` from
    START, after `run(lib, optimizer, params, steps)` on the `first` side ("ours" or
    "theirs") and that side's state_dict and parameters copied to the other."""
    ours_params = [Tensor(p.copy(), requires_grad=True) for p in START]
    theirs_params = [torch.tensor(p, requires_grad=True) for p in START]
    ours, theirs = make(nn.optim, ours_params), make(torch.optim, theirs_params)
    if first == "ours":
        run(engine, ours, ours_params, steps)
        theirs.load_state_dict(_to_torch(torch, ours.state_dict()))
    else:
        run(torch, theirs, theirs_params, steps)
        ours.load_state_dict(theirs.state_dict())
    with torch.no_grad():
        for t, o in zip(theirs_params, ours_params):
            if first == "ours":
                t.copy_(torch.tensor(o.numpy()))
            else:
                o.numpy()[...] = t.detach().numpy()
    return ours, ours_params, theirs, theirs_params


STATE_CASES = ["adamax_all", "nadam_decoupled", "radam_weight_decay", "adadelta_all",
               "rprop_all", "asgd_averaging", "groups", "groups_asgd"]


@pytest.mark.parametrize("name", STATE_CASES)
def test_state_dict_goes_both_ways_with_pytorch(torch, float64_default, name):
    """12 steps on one side, its state_dict loaded into the other's optimizer (parameters at
    the same numbers), 18 more steps on both: the same parameters; the state's keys, names
    and dtypes are PyTorch's."""
    for first in ("ours", "theirs"):
        ours, ours_params, theirs, theirs_params = _exchanged(torch, OPTIMIZERS[name], _steps,
                                                              12, first)
        mine, want = ours.state_dict(), theirs.state_dict()
        assert mine["param_groups"] == want["param_groups"]
        for i, entry in want["state"].items():
            assert list(mine["state"][i]) == list(entry)
            for key, value in entry.items():
                assert mine["state"][i][key].dtype == value.numpy().dtype, key
                np.testing.assert_allclose(mine["state"][i][key].numpy(), value.numpy(),
                                           rtol=1e-15)
        _steps(engine, ours, ours_params, 18)
        _steps(torch, theirs, theirs_params, 18)
        for o, t in zip(ours_params, theirs_params):
            np.testing.assert_allclose(o.numpy(), t.detach().numpy(), rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("name", STATE_CASES)
def test_state_dict_round_trip_continues_the_same_trajectory(float64_default, name):
    def run(split):
        params = [Tensor(p.copy(), requires_grad=True) for p in START]
        optimizer = OPTIMIZERS[name](nn.optim, params)
        _steps(engine, optimizer, params, split)
        resumed = OPTIMIZERS[name](nn.optim, params)
        resumed.load_state_dict(optimizer.state_dict())
        _steps(engine, resumed, params, 20 - split)
        return [p.numpy() for p in params]
    for a, b in zip(run(0), run(7)):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("make", [lambda p: NAdam(p, lr=0.05, weight_decay=0.01),
                                  lambda p: ASGD(p, lr=0.05, t0=3),
                                  lambda p: Rprop(p, lr=0.05),
                                  lambda p: RAdam(p, lr=0.05, decoupled_weight_decay=True,
                                                  weight_decay=0.1)])
def test_value_parameters_follow_the_same_rule_as_a_tensor_and_resume(float64_default, make):
    start = [0.5, -1.5, 2.0]
    tensor = Tensor(np.array(start), requires_grad=True, dtype=np.float64)
    values = [Value(s) for s in start]
    opt_t, opt_v = make([tensor]), make(values)
    for step in range(20):
        if step == 9:  # the Values' state, saved and restored, one entry each
            state = opt_v.state_dict()
            assert len(state["state"]) == 3
            opt_v = make(values)
            opt_v.load_state_dict(state)
        for optimizer, quartic in ((opt_v, lambda: sum(v ** 4 for v in values)),
                                   (opt_t, lambda: (tensor ** 4).sum())):
            optimizer.zero_grad()
            quartic().backward()
            optimizer.step()
    np.testing.assert_allclose([v.data for v in values], tensor.numpy(), rtol=1e-12)


# --- LBFGS ---

LBFGS_CASES = {
    "lbfgs": lambda optim, p: optim.LBFGS(p, lr=0.5),
    "lbfgs_history": lambda optim, p: optim.LBFGS(p, lr=0.8, history_size=3, max_iter=7),
    "lbfgs_tolerances": lambda optim, p: optim.LBFGS(p, max_iter=40, max_eval=30,
                                                     tolerance_grad=1e-4,
                                                     tolerance_change=1e-6),
    "lbfgs_strong_wolfe": lambda optim, p: optim.LBFGS(p, line_search_fn="strong_wolfe"),
    "lbfgs_strong_wolfe_history": lambda optim, p: optim.LBFGS(
        p, lr=0.8, history_size=4, max_iter=10, line_search_fn="strong_wolfe"),
}


def lbfgs_run(lib, make, steps, dtype="float64"):
    """(losses step(closure) returned, final parameters, the state's func_evals and
    n_iter) of `steps` steps on the tanh net's loss."""
    params = [lib.tensor(p, dtype=getattr(lib, dtype), requires_grad=True) for p in START]
    x, y = (lib.tensor(a, dtype=getattr(lib, dtype)) for a in (X, Y))
    optimizer = make(lib.optim, params)

    def closure():
        optimizer.zero_grad()
        loss = loss_of(x, y, *params)
        loss.backward()
        return loss
    losses = [optimizer.step(closure).item() for _ in range(steps)]
    state = optimizer.state[params[0]]
    return (np.array(losses), [np.array(p.detach().numpy()) for p in params],
            (state["func_evals"], state["n_iter"]))


@pytest.mark.parametrize("name", LBFGS_CASES)
def test_lbfgs_matches_torch_step_for_step(torch, name):
    """Five steps of up to 20 iterations, in float64: the same number of loss evaluations
    and iterations, and the same numbers to 1e-6 (1e-9 measured; the history's updates
    magnify the last bits over ~50 iterations)."""
    ours, theirs = (lbfgs_run(lib, LBFGS_CASES[name], 5) for lib in (engine, torch))
    assert ours[2] == theirs[2]
    assert _gap(ours[:2], theirs[:2]) < 1e-6


@pytest.mark.parametrize("line_search_fn", [None, "strong_wolfe"])
@pytest.mark.parametrize("dtype, tolerance", [("float64", 1e-14), ("float32", 1e-6)])
def test_lbfgs_first_iterations_match_torch_to_rounding(torch, dtype, tolerance,
                                                        line_search_fn):
    def make(optim, p):
        return optim.LBFGS(p, lr=0.5, max_iter=5, line_search_fn=line_search_fn)
    ours, theirs = (lbfgs_run(lib, make, 1, dtype) for lib in (engine, torch))
    assert ours[1][0].dtype == dtype and ours[2] == theirs[2]
    assert _gap(ours[:2], theirs[:2]) < tolerance


@pytest.mark.parametrize("name", ["lbfgs_history", "lbfgs_strong_wolfe_history"])
def test_lbfgs_state_dict_goes_both_ways_with_pytorch(torch, name):
    for first in ("ours", "theirs"):
        ours, ours_params, theirs, theirs_params = _exchanged(torch, LBFGS_CASES[name],
                                                              _lbfgs_steps, 2, first)
        assert list(ours.state_dict()["state"][0]) == list(theirs.state_dict()["state"][0])
        _lbfgs_steps(engine, ours, ours_params, 2)
        _lbfgs_steps(torch, theirs, theirs_params, 2)
        assert ours.state[ours_params[0]]["n_iter"] == theirs.state[theirs_params[0]]["n_iter"]
        for o, t in zip(ours_params, theirs_params):
            np.testing.assert_allclose(o.numpy(), t.detach().numpy(), rtol=1e-9, atol=1e-12)


def _lbfgs_steps(lib, optimizer, params, n):
    def closure():
        optimizer.zero_grad()
        loss = loss_of(lib.tensor(X), lib.tensor(Y), *params)
        loss.backward()
        return loss
    for _ in range(n):
        optimizer.step(closure)


def _rosenbrock_closure(optimizer, p):
    def closure():
        optimizer.zero_grad()
        x, y = p[0], p[1]
        loss = (1 - x) ** 2 + 100 * (y - x * x) ** 2
        loss.backward()
        return loss
    return closure


@pytest.mark.parametrize("line_search_fn, steps", [(None, 50), ("strong_wolfe", 3)])
def test_lbfgs_finds_rosenbrocks_minimum(line_search_fn, steps):
    """From (-1.5, 2) up the curved valley to (1, 1), where the loss's change falls below
    tolerance_change (1e-5 away, as PyTorch's)."""
    p = Tensor(np.array([-1.5, 2.0]), requires_grad=True, dtype=np.float64)
    optimizer = LBFGS([p], line_search_fn=line_search_fn)
    closure = _rosenbrock_closure(optimizer, p)
    for _ in range(steps):
        optimizer.step(closure)
    np.testing.assert_allclose(p.numpy(), [1.0, 1.0], atol=2e-5)
    assert optimizer.state[p]["n_iter"] < 150  # where gradient descent takes thousands


def test_lbfgs_solves_a_quadratic():
    """The minimum of x A x / 2 - b x, A's curvatures spread over 30x, is A^-1 b."""
    a = np.diag([1.0, 3.0, 10.0, 30.0])
    b = np.array([1.0, -2.0, 0.5, 4.0])
    p = Tensor(np.zeros(4), requires_grad=True, dtype=np.float64)
    optimizer = LBFGS([p], max_iter=50, line_search_fn="strong_wolfe", tolerance_grad=1e-12,
                      tolerance_change=1e-15)

    def closure():
        optimizer.zero_grad()
        loss = 0.5 * (p * (Tensor(a) @ p)).sum() - (Tensor(b) * p).sum()
        loss.backward()
        return loss
    optimizer.step(closure)
    np.testing.assert_allclose(p.numpy(), np.linalg.solve(a, b), rtol=1e-6)


def test_lbfgs_returns_the_first_loss_and_stops_at_a_minimum():
    p = Tensor(np.array([0.0, 0.0]), requires_grad=True, dtype=np.float64)
    optimizer = LBFGS([p])
    calls = []

    def closure():
        calls.append(1)
        optimizer.zero_grad()
        loss = (p * p).sum() + 2.0
        loss.backward()
        return loss
    assert optimizer.step(closure).item() == 2.0
    assert len(calls) == 1 and optimizer.state[p]["func_evals"] == 1  # gradient already 0


# --- errors ---

ONE = [Value(1.0)]


@pytest.mark.parametrize("make, error, message", [
    (lambda: Adamax(ONE, lr=-1), ValueError, "lr must be >= 0"),
    (lambda: Adamax(ONE, betas=(1.0, 0.9)), ValueError, r"betas\[0\] must be in \[0, 1\)"),
    (lambda: NAdam(ONE, momentum_decay=-1), ValueError, "momentum_decay must be >= 0"),
    (lambda: NAdam(ONE, betas=0.9), TypeError, "betas must be a pair"),
    (lambda: RAdam(ONE, eps=-1e-8), ValueError, "eps must be >= 0"),
    (lambda: RAdam(ONE, differentiable=True), ValueError, "differentiable=True"),
    (lambda: Adadelta(ONE, rho=1.5), ValueError, r"rho must be in \[0, 1\], got 1.5"),
    (lambda: Adadelta(ONE, weight_decay=-1), ValueError, "weight_decay must be >= 0"),
    (lambda: Rprop(ONE, etas=(1.5, 1.2)), ValueError, "0 < etaminus < 1 < etaplus"),
    (lambda: Rprop(ONE, etas=(0.5,)), ValueError, "etas must be a pair"),
    (lambda: Rprop(ONE, step_sizes=("a", 1)), TypeError, r"step_sizes\[0\] must be a real"),
    (lambda: ASGD(ONE, weight_decay=-1), ValueError, "weight_decay must be >= 0"),
    (lambda: ASGD(ONE, t0="1e6"), TypeError, "t0 must be a real number"),
    (lambda: LBFGS(ONE), TypeError, "LBFGS optimizes Tensors"),
    (lambda: LBFGS([Tensor(np.ones(2), requires_grad=True)], line_search_fn="armijo"),
     RuntimeError, "only 'strong_wolfe' is supported"),
    (lambda: LBFGS([Tensor(np.ones(2), requires_grad=True)], history_size=2.5), TypeError,
     "history_size must be an int, got float"),
    (lambda: LBFGS([Tensor(np.ones(2), requires_grad=True)], max_iter="20"), TypeError,
     "max_iter must be a real number"),
    (lambda: LBFGS([{"params": [Tensor(np.ones(2), requires_grad=True)]},
                    {"params": [Tensor(np.ones(2), requires_grad=True)]}]), ValueError,
     "doesn't support per-parameter options"),
])
def test_bad_arguments_are_refused_clearly(make, error, message):
    with pytest.raises(error, match=message):
        make()


def test_engine_optim_has_them_all():
    for name in ("Adamax", "NAdam", "RAdam", "Adadelta", "Rprop", "ASGD", "LBFGS"):
        assert getattr(engine.optim, name) is getattr(nn.optim, name)
        assert name in nn.optim.__all__


@pytest.mark.parametrize("name", ["Adamax", "NAdam", "RAdam", "Adadelta", "Rprop", "ASGD",
                                  "LBFGS"])
def test_defaults_and_repr_are_pytorchs(torch, name):
    ours = getattr(nn.optim, name)([Tensor(np.ones(2), requires_grad=True)])
    theirs = getattr(torch.optim, name)([torch.ones(2, requires_grad=True)])
    assert ours.defaults == theirs.defaults
    assert repr(ours) == repr(theirs)
