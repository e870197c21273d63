"""nn/optim/lr_scheduler.py: every scheduler's learning rates equal torch.optim.lr_scheduler's
over 100 steps, with several groups, stacked schedulers and jumps to an epoch (and
OneCycleLR's momentum, ReduceLROnPlateau's response to a metric); closed forms without
PyTorch; state_dict; errors."""
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
    "MultiplicativeLR": lambda sched, opt: sched.MultiplicativeLR(opt, lambda e: 0.95),
    "ConstantLR": lambda sched, opt: sched.ConstantLR(opt, factor=0.25, total_iters=12),
    "PolynomialLR": lambda sched, opt: sched.PolynomialLR(opt, total_iters=60, power=2.0),
    "CosineAnnealingWarmRestarts": lambda sched, opt: sched.CosineAnnealingWarmRestarts(
        opt, T_0=10, T_mult=2, eta_min=0.001),
    "OneCycleLR": lambda sched, opt: sched.OneCycleLR(opt, max_lr=[1.0, 2.0], total_steps=100),
    "OneCycleLR_linear_three_phase": lambda sched, opt: sched.OneCycleLR(
        opt, max_lr=0.5, epochs=10, steps_per_epoch=10, pct_start=0.25,
        anneal_strategy="linear", three_phase=True),
    "CyclicLR": lambda sched, opt: sched.CyclicLR(opt, base_lr=[0.01, 0.1], max_lr=[0.1, 0.7],
                                                 step_size_up=7),
    "CyclicLR_triangular2_uneven": lambda sched, opt: sched.CyclicLR(
        opt, 0.01, 0.1, step_size_up=5, step_size_down=12, mode="triangular2"),
    "CyclicLR_exp_range": lambda sched, opt: sched.CyclicLR(opt, 0.001, 0.5, step_size_up=8,
                                                           mode="exp_range", gamma=0.97),
    "CyclicLR_scale_fn_by_batch": lambda sched, opt: sched.CyclicLR(
        opt, 0.001, 0.5, 6, scale_fn=lambda x: 1 / (1 + x / 10), scale_mode="iterations"),
    "SequentialLR": lambda sched, opt: sched.SequentialLR(
        opt, [sched.LinearLR(opt, start_factor=0.1, total_iters=10),
              sched.CosineAnnealingLR(opt, T_max=50), sched.StepLR(opt, 5)], milestones=[10, 60]),
    "ChainedScheduler": lambda sched, opt: sched.ChainedScheduler(
        [sched.ConstantLR(opt, factor=0.1, total_iters=5), sched.ExponentialLR(opt, 0.9)]),
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


def momenta(torch, make, steps=100):
    """The momentum (SGD) and beta1 (Adam) OneCycleLR sets at each step, on `torch`."""
    out = []
    for optimizer, key in ((torch.optim.SGD, "momentum"), (torch.optim.Adam, "betas")):
        opt = optimizer([torch.zeros(2, requires_grad=True)], lr=0.1)
        scheduler = make(torch.optim.lr_scheduler, opt)
        row = []
        for _ in range(steps):
            opt.step()
            scheduler.step()
            value = opt.param_groups[0][key]
            row.append(value[0] if key == "betas" else value)
        out.append(row)
    return np.array(out)


def one_cycle(sched, opt):
    return sched.OneCycleLR(opt, max_lr=1.0, total_steps=100)


def test_one_cycle_moves_momentum_against_the_lr_as_pytorchs(torch):
    np.testing.assert_array_equal(momenta(engine, one_cycle), momenta(torch, one_cycle))


def cyclic(sched, opt):
    return sched.CyclicLR(opt, 0.01, 0.1, step_size_up=4, base_momentum=0.7, max_momentum=0.95)


def test_cyclic_lr_moves_momentum_against_the_lr_as_pytorchs(torch):
    np.testing.assert_array_equal(momenta(engine, cyclic, steps=30),
                                  momenta(torch, cyclic, steps=30))


def test_cyclic_lr_without_pytorch():
    lrs = learning_rates(engine, cyclic, steps=16)[:, 0]  # up over 4 batches, down over 4
    np.testing.assert_allclose(lrs[:9], [0.01, 0.0325, 0.055, 0.0775, 0.1, 0.0775, 0.055,
                                         0.0325, 0.01], rtol=1e-12)
    np.testing.assert_allclose(lrs[8:], lrs[:9], rtol=1e-12)  # the next cycle is the same
    momentum = momenta(engine, cyclic, steps=4)[0]  # after batches 1 .. 4: down to 0.7
    np.testing.assert_allclose(momentum, [0.8875, 0.825, 0.7625, 0.7], rtol=1e-12)
    halved = learning_rates(engine, SCHEDULERS["CyclicLR_triangular2_uneven"], steps=40)[:, 0]
    assert halved[5] == pytest.approx(0.1) and halved[22] == pytest.approx(0.055)  # 2nd peak
    with pytest.raises(ValueError, match="mode is invalid and scale_fn is None"):
        lr_scheduler.CyclicLR(SGD([Tensor(np.zeros(1), requires_grad=True)], lr=0.1), 0.1, 1.0,
                              mode="sawtooth")
    with pytest.raises(ValueError, match="must support momentum or beta1"):
        lr_scheduler.CyclicLR(nn.optim.Adagrad([Tensor(np.zeros(1), requires_grad=True)]),
                              0.1, 1.0)


def test_cyclic_lr_state_dict_keeps_no_function_and_resumes():
    opt = SGD([Tensor(np.zeros(1), requires_grad=True)], lr=0.1, momentum=0.9)
    scheduler = SCHEDULERS["CyclicLR_scale_fn_by_batch"](lr_scheduler, opt)
    for _ in range(9):
        opt.step()
        scheduler.step()
    state = scheduler.state_dict()
    assert state["_scale_fn_custom"] is None and state["last_epoch"] == 9  # (a function)
    again = lr_scheduler.CyclicLR(opt, 0.001, 0.5, 6, scale_fn=lambda x: 1 / (1 + x / 10),
                                  scale_mode="iterations", last_epoch=state["last_epoch"])
    again.load_state_dict(state)
    for s in (scheduler, again):
        s.step()
    assert again.get_last_lr() == scheduler.get_last_lr()


def test_one_cycle_without_pytorch():
    lrs = learning_rates(engine, SCHEDULERS["OneCycleLR"])[:, 0]
    # 100 steps are epochs 0 to 99: up to max_lr at epoch 29 (30% in), down to its 1/25/1e4
    assert lrs[0] == pytest.approx(1.0 / 25) and lrs[99] == pytest.approx(1.0 / 25 / 1e4)
    assert lrs.argmax() == 29 and lrs.max() == 1.0
    cycle = momenta(engine, one_cycle, steps=99)[0]  # after steps 1 .. 99
    assert cycle[28] == pytest.approx(0.85) and cycle[-1] == pytest.approx(0.95)
    with pytest.raises(ValueError, match="Tried to step 101 times"):
        learning_rates(engine, SCHEDULERS["OneCycleLR"], steps=101)


def plateau(torch, losses, **options):
    """The lr ReduceLROnPlateau sets after each metric in `losses`, on `torch`."""
    opt = torch.optim.SGD([torch.zeros(2, requires_grad=True)], lr=1.0)
    scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(opt, **options)
    lrs = []
    for loss in losses:
        scheduler.step(loss)
        lrs.append(scheduler.get_last_lr()[0])
    return lrs


PLATEAU = [1.0, 0.9, 0.95, 0.91, 0.92, 0.93, 0.85, 0.86, 0.87, 0.88, 0.89, 0.9, 0.91]
PLATEAU_OPTIONS = [dict(patience=2), dict(patience=1, cooldown=2, factor=0.5, min_lr=0.3),
                   dict(mode="max", patience=0, threshold=0.05, threshold_mode="abs")]


@pytest.mark.parametrize("options", PLATEAU_OPTIONS, ids=str)
def test_reduce_on_plateau_is_pytorchs(torch, options):
    assert plateau(engine, PLATEAU, **options) == plateau(torch, PLATEAU, **options)


def test_reduce_on_plateau_without_pytorch():
    # patience 2: cut at the third metric in a row without a new best: 0.95, 0.91, 0.92 (the
    # best is 0.9); 0.85 is a new best, then 0.86, 0.87, 0.88; then 0.89, 0.9, 0.91
    assert plateau(engine, PLATEAU, patience=2) == pytest.approx(
        [1.0] * 4 + [0.1] * 5 + [0.01] * 3 + [0.001], rel=1e-12)
    lrs = plateau(engine, [1.0] * 20, patience=0, factor=0.5, min_lr=0.3)
    assert min(lrs) == 0.3 and lrs[:3] == [1.0, 0.5, 0.3]


def test_sequential_lr_state_dict_holds_its_schedulers():
    opt = SGD([Tensor(np.zeros(1), requires_grad=True)], lr=0.2)
    scheduler = SCHEDULERS["SequentialLR"](lr_scheduler, opt)
    for _ in range(12):
        opt.step()
        scheduler.step()
    state = scheduler.state_dict()
    assert [s["last_epoch"] for s in state["_schedulers"]] == [9, 2, -1]
    again_opt = SGD([Tensor(np.zeros(1), requires_grad=True)], lr=0.2)
    again = SCHEDULERS["SequentialLR"](lr_scheduler, again_opt)
    again_opt.load_state_dict(opt.state_dict())
    again.load_state_dict(state)
    for o, s in ((opt, scheduler), (again_opt, again)):
        o.step()
        s.step()
    assert again.get_last_lr() == scheduler.get_last_lr()


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


def test_lambda_lr_state_keeps_a_function_as_none_and_an_objects_attributes():
    """As PyTorch's: a function is not numbers; a callable object's attributes go back into
    it when the state is loaded."""
    opt = SGD([{"params": [Tensor(np.zeros(1), requires_grad=True)]},
               {"params": [Tensor(np.zeros(1), requires_grad=True)]}], lr=0.2)
    scheduler = lr_scheduler.LambdaLR(opt, [lambda e: 1.0, Warmup(5)])
    state = scheduler.state_dict()
    assert state["lr_lambdas"] == [None, {"steps": 5}]
    again = lr_scheduler.LambdaLR(opt, [lambda e: 1.0, Warmup(9)])
    again.load_state_dict(state)
    assert again.lr_lambdas[1].steps == 5 and again.lr_lambdas[0](3) == 1.0


@pytest.mark.parametrize("make, error, message", [
    (lambda opt: lr_scheduler.StepLR("sgd", 3), TypeError, "schedules an optimizer, got a str"),
    (lambda opt: lr_scheduler.StepLR(opt, 3, last_epoch=5), KeyError, "initial_lr"),
    (lambda opt: lr_scheduler.LambdaLR(opt, [lambda e: 1, lambda e: 2]), ValueError,
     "Expected 1 lr_lambdas, but got 2"),
    (lambda opt: lr_scheduler.LinearLR(opt, start_factor=0), ValueError,
     r"start_factor must be in \(0, 1\]"),
    (lambda opt: lr_scheduler.LinearLR(opt, end_factor=2), ValueError,
     r"end_factor must be in \[0, 1\]"),
    (lambda opt: lr_scheduler.OneCycleLR(opt, 1.0), ValueError,
     r"either total_steps OR \(epochs AND steps_per_epoch\)"),
    (lambda opt: lr_scheduler.OneCycleLR(nn.optim.Adagrad([Tensor(np.zeros(1),
                                                                  requires_grad=True)]),
                                         1.0, 10), ValueError, "must support momentum"),
    (lambda opt: lr_scheduler.SequentialLR(opt, [lr_scheduler.StepLR(opt, 2)], [3]),
     ValueError, "one milestone fewer than schedulers"),
    (lambda opt: lr_scheduler.ReduceLROnPlateau(opt, mode="lowest"), ValueError,
     "mode 'lowest' is unknown"),
    (lambda opt: lr_scheduler.CosineAnnealingWarmRestarts(opt, T_0=0), ValueError,
     "Expected positive integer T_0"),
])
def test_bad_arguments_are_refused_clearly(make, error, message):
    opt = SGD([Tensor(np.zeros(1), requires_grad=True)], lr=0.2)
    with pytest.raises(error, match=message):
        make(opt)


def test_nn_optim_lr_scheduler_is_reachable_as_torch_optim_lr_scheduler():
    assert engine.optim.lr_scheduler is lr_scheduler and nn.optim.lr_scheduler is lr_scheduler


def test_a_scheduler_without_a_rule_says_what_to_define():
    class Flat(lr_scheduler.LRScheduler):
        pass

    opt = SGD([Tensor(np.zeros(1), requires_grad=True)], lr=0.2)
    with pytest.raises(TypeError, match=r"Flat has no schedule: define get_lr\(\)"):
        Flat(opt)


class Warmup:
    """A callable object as lr_lambda: its attributes go into the state, as in PyTorch."""

    def __init__(self, steps):
        self.steps = steps

    def __call__(self, epoch):
        return min(1.0, (epoch + 1) / self.steps)


CROSSING = {
    "LambdaLR": lambda sched, opt: sched.LambdaLR(opt, lambda e: 0.9 ** e),
    "LambdaLR_object": lambda sched, opt: sched.LambdaLR(opt, Warmup(5)),
    "MultiStepLR": SCHEDULERS["MultiStepLR"],
    "CyclicLR": SCHEDULERS["CyclicLR_triangular2_uneven"],
    "CosineAnnealingLR": SCHEDULERS["CosineAnnealingLR"], "StepLR": SCHEDULERS["StepLR"],
    "ReduceLROnPlateau": lambda sched, opt: sched.ReduceLROnPlateau(opt, patience=1),
}


@pytest.mark.parametrize("name", CROSSING)
@pytest.mark.parametrize("direction", ["to PyTorch", "from PyTorch"])
def test_a_schedulers_saved_state_resumes_in_the_other_library(torch, name, direction):
    """Saved with one library's save(), loaded with the other's load() and
    load_state_dict(), the schedule goes on as it would have."""
    import io
    first, second = (engine, torch) if direction == "to PyTorch" else (torch, engine)
    runs = []
    for lib in (first, second):
        opt = lib.optim.SGD([lib.zeros(1, requires_grad=True)], lr=0.1)
        runs.append((lib, opt, CROSSING[name](lib.optim.lr_scheduler, opt)))

    def step(lib, opt, scheduler, k):
        opt.step()
        scheduler.step(1.0) if name == "ReduceLROnPlateau" else scheduler.step()
        return opt.param_groups[0]["lr"]
    lrs = [step(*runs[0], k) for k in range(7)]
    f = io.BytesIO()
    first.save({"scheduler": runs[0][2].state_dict(), "optimizer": runs[0][1].state_dict()}, f)
    f.seek(0)
    state = second.load(f, weights_only=True) if second is torch else second.load(f)
    runs[1][1].load_state_dict(state["optimizer"])
    runs[1][2].load_state_dict(state["scheduler"])
    assert [step(*runs[1], k) for k in range(7, 14)] == [step(*runs[0], k) for k in range(7, 14)]
    assert lrs[-1] == state["optimizer"]["param_groups"][0]["lr"]
