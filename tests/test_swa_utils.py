"""nn/optim/swa_utils.py: AveragedModel (the running mean, an EMA by multi_avg_fn and by
avg_fn, buffers averaged or copied), update_bn and SWALR, each written once and run on this
library and on PyTorch's (the `library` fixture), with the numbers worked out by hand."""
from __future__ import annotations

import importlib

import numpy as np
import pytest


def swa(library, how):
    """A model trained a few SGD steps with its weights averaged `how`; the averaged model's
    state and its output."""
    swa_utils = importlib.import_module(f"{library.__name__}.optim.swa_utils")
    library.manual_seed(0)
    model = library.nn.Sequential(library.nn.Linear(3, 4), library.nn.BatchNorm1d(4),
                                  library.nn.Linear(4, 1))
    options = {"running mean": {},
               "ema": {"multi_avg_fn": swa_utils.get_ema_multi_avg_fn(0.9)},
               "ema one at a time": {"avg_fn": swa_utils.get_ema_avg_fn(0.75)},
               "buffers too": {"use_buffers": True}}[how]
    averaged = swa_utils.AveragedModel(model, **options)
    optimizer = library.optim.SGD(model.parameters(), lr=0.1)
    x = library.randn(8, 3)
    for _ in range(4):
        loss = model(x).pow(2).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        averaged.update_parameters(model)
    averaged.eval()
    return ({k: v.detach().numpy().copy() for k, v in averaged.state_dict().items()},
            averaged(x).detach().numpy())


@pytest.mark.parametrize("how", ["running mean", "ema", "ema one at a time", "buffers too"])
def test_averaged_model_as_pytorchs(library, how):
    state, out = swa(library, how)
    assert list(state) == ["n_averaged", "module.0.weight", "module.0.bias", "module.1.weight",
                           "module.1.bias", "module.1.running_mean", "module.1.running_var",
                           "module.1.num_batches_tracked", "module.2.weight", "module.2.bias"]
    assert state["n_averaged"] == 4
    if library.__name__ == "torch":  # the same numbers here (the engine's run is the reference)
        import engine
        ours, ours_out = swa(engine, how)
        for k, v in state.items():
            np.testing.assert_allclose(ours[k], v, rtol=1e-5, atol=1e-7, err_msg=k)
        np.testing.assert_allclose(ours_out, out, rtol=1e-5, atol=1e-6)


def test_the_running_mean_and_the_ema_by_hand(library):
    swa_utils = importlib.import_module(f"{library.__name__}.optim.swa_utils")
    w = library.nn.Parameter(library.zeros(1))
    model = library.nn.Module()
    model.w = w
    mean = swa_utils.AveragedModel(model)
    ema = swa_utils.AveragedModel(model, multi_avg_fn=swa_utils.get_ema_multi_avg_fn(0.5))
    for value in (1.0, 2.0, 6.0):
        with library.no_grad():
            w.fill_(value)
        mean.update_parameters(model)
        ema.update_parameters(model)
    assert mean.module.w.item() == pytest.approx(3.0)  # (1 + 2 + 6) / 3
    assert ema.module.w.item() == pytest.approx(3.75)  # 1, then 1.5, then 3.75


def test_update_bn_recomputes_the_running_statistics_as_a_plain_average(library):
    swa_utils = importlib.import_module(f"{library.__name__}.optim.swa_utils")
    model = library.nn.Sequential(library.nn.BatchNorm1d(2))
    model.eval()
    batches = [library.tensor([[1.0, 0.0], [3.0, 2.0]]), library.tensor([[5.0, 4.0], [7.0, 6.0]])]
    swa_utils.update_bn([(b, None) for b in batches], model)
    assert model[0].running_mean.tolist() == pytest.approx([4.0, 3.0])  # mean of 2 and 6, 1 and 5
    assert model[0].running_var.tolist() == pytest.approx([2.0, 2.0])  # unbiased, each batch
    assert model[0].momentum == 0.1 and not model.training  # put back


def test_swalr_learning_rates_are_pytorchs_to_the_last_bit(torch):
    import engine
    rates = []
    for lib in (engine, torch):
        swa_utils = importlib.import_module(f"{lib.__name__}.optim.swa_utils")
        opt = lib.optim.SGD([{"params": [lib.zeros(1, requires_grad=True)]},
                             {"params": [lib.zeros(1, requires_grad=True)], "lr": 0.5}], lr=0.1)
        for strategy, epochs in (("cos", 5), ("linear", 3), ("cos", 0)):
            scheduler = swa_utils.SWALR(opt, swa_lr=[0.05, 0.01], anneal_epochs=epochs,
                                        anneal_strategy=strategy)
            for _ in range(8):
                opt.step()
                scheduler.step()
                rates.append([g["lr"] for g in opt.param_groups])
    half = len(rates) // 2
    assert rates[:half] == rates[half:]
    assert rates[7] == [0.05, 0.01]  # annealed to swa_lr, and held


def test_bad_arguments_are_refused():
    import engine
    swa_utils = importlib.import_module("engine.optim.swa_utils")
    with pytest.raises(ValueError, match="Invalid decay value 1.5"):
        swa_utils.get_ema_multi_avg_fn(1.5)
    with pytest.raises(ValueError, match="Only one of avg_fn and multi_avg_fn"):
        swa_utils.AveragedModel(engine.nn.Linear(1, 1), avg_fn=swa_utils.get_swa_avg_fn(),
                                multi_avg_fn=swa_utils.get_swa_multi_avg_fn())
    opt = engine.optim.SGD([engine.zeros(1, requires_grad=True)], lr=0.1)
    with pytest.raises(ValueError, match="anneal_strategy must be one of"):
        swa_utils.SWALR(opt, 0.05, anneal_strategy="step")
