"""nn/optim/lr_scheduler.py: every scheduler's learning rates equal torch.optim.lr_scheduler's
over 100 steps, with several groups, stacked schedulers and jumps to an epoch; closed forms
without PyTorch; state_dict; errors."""
from __future__ import annotations

import math

import numpy as np
import pytest

import engine
import nn
from engine import Tensor
from nn.optim import SGD, lr_scheduler

# name, the scheduler written once for `sched` = ours or torch's lr_scheduler module
SCHEDULERS = {
    "StepLR": lambda sched, opt: sched.StepLR(opt, step_size=7, gamma=0.5),
    "MultiStepLR": lambda sched, opt: sched.MultiStepLR(opt, milestones=[3, 10, 10, 40],
                                                        gamma=0.3),
    "ExponentialLR": lambda sched, opt: sched.ExponentialLR(opt, gamma=0.97),
    "LinearLR": lambda sched, opt: sched.LinearLR(opt, start_factor=0.1, total_iters=20),
    "LinearLR_down": lambda sched, opt: sched.LinearLR(opt, start_factor=1.0, end_factor=0.2,
                                                       total_iters=30),
    "LambdaLR": lambda sched, opt: sched.LambdaLR(opt, lambda epoch: 1 / (1 + epoch) ** 0.5),
    "LambdaLR_per_group": lambda sched, opt: sched.LambdaLR(
        opt, [lambda e: 0.9 ** e, lambda e: 1 + math.sin(e)]),
    "CosineAnnealingLR": lambda sched, opt: sched.CosineAnnealingLR(opt, T_max=30),
    "CosineAnnealingLR_eta_min": lambda sched, opt: sched.CosineAnnealingLR(opt, T_max=17,
                                                                            eta_min=0.01),
}


def learning_rates(torch, make, steps=100, stacked=None, jump=None):
    """Each group's lr after each of `steps` (optimizer step, scheduler step) pairs, from
    two groups of a model on `torch` = engine or torch; `stacked` adds a second scheduler,
    `jump` steps to that epoch halfway."""
    a, b = torch.zeros(2, requires_grad=True), torch.zeros(3, requires_grad=True)
    opt = torch.optim.SGD([{"params": [a]}, {"params": [b], "lr": 0.5}], lr=0.1)
    schedulers = [make(torch.optim.lr_scheduler, opt)]
    if stacked:
        schedulers.append(stacked(torch.optim.lr_scheduler, opt))
    lrs = [[g["lr"] for g in opt.param_groups]]
    for step in range(steps):
        opt.step()
        for scheduler in schedulers:
            scheduler.step(jump) if jump is not None and step == steps // 2 else scheduler.step()
        lrs.append(scheduler.get_last_lr())
    return np.array(lrs)


@pytest.mark.parametrize("name", SCHEDULERS)
def test_learning_rates_are_pytorchs_to_the_last_bit(torch, name):
    np.testing.assert_array_equal(learning_rates(engine, SCHEDULERS[name]),
                                  learning_rates(torch, SCHEDULERS[name]))


@pytest.mark.parametrize("name", ["StepLR", "MultiStepLR", "ExponentialLR", "LinearLR",
                                  "CosineAnnealingLR"])
def test_stepping_to_an_epoch_uses_pytorchs_closed_form_and_warns_as_pytorch(torch, name):
    with pytest.warns(UserWarning, match="epoch"):
        ours = learning_rates(engine, SCHEDULERS[name], steps=40, jump=25)
    with pytest.warns(UserWarning, match="epoch"):
        theirs = learning_rates(torch, SCHEDULERS[name], steps=40, jump=25)
    np.testing.assert_array_equal(ours, theirs)


def test_a_warm_up_then_a_cosine_stacked_on_one_optimizer_is_pytorchs(torch):
    def warm(sched, opt):
        return sched.LinearLR(opt, start_factor=0.01, total_iters=10)

    np.testing.assert_array_equal(
        learning_rates(engine, SCHEDULERS["CosineAnnealingLR"], stacked=warm),
        learning_rates(torch, SCHEDULERS["CosineAnnealingLR"], stacked=warm))


def test_closed_forms_without_pytorch():
    lrs = learning_rates(engine, SCHEDULERS["StepLR"], steps=21)[:, 0]
    np.testing.assert_allclose(lrs, 0.1 * 0.5 ** (np.arange(22) // 7), rtol=1e-15)
    lrs = learning_rates(engine, SCHEDULERS["CosineAnnealingLR"], steps=30)[:, 1]
    np.testing.assert_allclose(lrs, 0.5 * (1 + np.cos(np.pi * np.arange(31) / 30)) / 2,
                               rtol=1e-12, atol=1e-15)
    lrs = learning_rates(engine, SCHEDULERS["LinearLR"], steps=25)[:, 0]
    np.testing.assert_allclose(lrs, 0.1 * np.minimum(0.1 + 0.9 * np.arange(26) / 20, 1),
                               rtol=1e-12)
    lrs = learning_rates(engine, SCHEDULERS["MultiStepLR"], steps=45)[:, 0]
    assert [lrs[2], lrs[3], lrs[9], lrs[10], lrs[40]] == pytest.approx(
        [0.1, 0.03, 0.03, 0.03 * 0.09, 0.03 * 0.09 * 0.3], rel=1e-12)


def test_the_optimizer_steps_with_the_scheduled_lr():
    p = Tensor(np.array([1.0]), requires_grad=True, dtype=np.float64)
    opt = SGD([p], lr=1.0)
    scheduler = lr_scheduler.StepLR(opt, step_size=1, gamma=0.5)
    for _ in range(3):  # gradient 1 each step: p moves by 1, 0.5, 0.25
        opt.zero_grad()
        p.sum().backward()
        opt.step()
        scheduler.step()
    assert p.numpy()[0] == pytest.approx(1 - 1.75)
    assert opt.param_groups[0]["initial_lr"] == 1.0 and scheduler.last_epoch == 3


def test_state_dict_resumes_the_schedule():
    def make():
        opt = SGD([Tensor(np.zeros(1), requires_grad=True)], lr=0.2)
        return opt, lr_scheduler.CosineAnnealingLR(opt, T_max=10)

    opt, scheduler = make()
    for _ in range(4):
        opt.step()
        scheduler.step()
    state, opt_state = scheduler.state_dict(), opt.state_dict()
    assert "optimizer" not in state
    resumed_opt, resumed = make()
    resumed_opt.load_state_dict(opt_state)
    resumed.load_state_dict(state)
    for _ in range(3):
        for o, s in ((opt, scheduler), (resumed_opt, resumed)):
            o.step()
            s.step()
    assert resumed.get_last_lr() == scheduler.get_last_lr()


def test_lambda_lr_state_leaves_the_functions_out():
    opt = SGD([Tensor(np.zeros(1), requires_grad=True)], lr=0.2)
    assert "lr_lambdas" not in lr_scheduler.LambdaLR(opt, lambda e: 1.0).state_dict()


@pytest.mark.parametrize("make, error, message", [
    (lambda opt: lr_scheduler.StepLR("sgd", 3), TypeError, "schedules an optimizer, got a str"),
    (lambda opt: lr_scheduler.StepLR(opt, 3, last_epoch=5), KeyError, "initial_lr"),
    (lambda opt: lr_scheduler.LambdaLR(opt, [lambda e: 1, lambda e: 2]), ValueError,
     "Expected 1 lr_lambdas, but got 2"),
    (lambda opt: lr_scheduler.LinearLR(opt, start_factor=0), ValueError,
     r"start_factor must be in \(0, 1\]"),
    (lambda opt: lr_scheduler.LinearLR(opt, end_factor=2), ValueError,
     r"end_factor must be in \[0, 1\]"),
])
def test_bad_arguments_are_refused_clearly(make, error, message):
    opt = SGD([Tensor(np.zeros(1), requires_grad=True)], lr=0.2)
    with pytest.raises(error, match=message):
        make(opt)


def test_nn_optim_lr_scheduler_is_reachable_as_torch_optim_lr_scheduler():
    assert engine.optim.lr_scheduler is lr_scheduler and nn.optim.lr_scheduler is lr_scheduler
