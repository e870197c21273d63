"""nn/loss.py's modules against torch.nn's: every reduction, weight and pos_weight, the
deprecated size_average/reduce, reprs and buffers; values worked out by hand without
PyTorch; errors. (The functions' gradients are rows of tests/tensor_op_table.py.)"""
from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

import engine
import nn
import nn.functional as F

rng = np.random.default_rng(0)
LOGITS = rng.normal(size=(4, 3)) * 3
PROBS = 1 / (1 + np.exp(-LOGITS))
LABELS = (rng.random((4, 3)) > 0.5).astype(np.float64)
WEIGHT = rng.random(3) + 0.5
# (module name, keyword arguments, which input it takes)
CASES = [("BCELoss", {}, "probs"), ("BCELoss", {"reduction": "sum"}, "probs"),
         ("BCELoss", {"weight": WEIGHT, "reduction": "none"}, "probs"),
         ("BCEWithLogitsLoss", {}, "logits"),
         ("BCEWithLogitsLoss", {"pos_weight": WEIGHT * 2, "weight": WEIGHT}, "logits"),
         ("L1Loss", {}, "logits"), ("L1Loss", {"reduction": "none"}, "logits"),
         ("SmoothL1Loss", {"beta": 0.5}, "logits"), ("SmoothL1Loss", {"beta": 0.0}, "logits"),
         ("HuberLoss", {"delta": 2.0, "reduction": "sum"}, "logits"),
         ("KLDivLoss", {"reduction": "batchmean"}, "log_probs"),
         ("KLDivLoss", {"reduction": "sum", "log_target": True}, "log_probs"),
         ("L1Loss", {"size_average": False}, "logits"),
         ("MSELoss", {"size_average": False}, "logits"), ("MSELoss", {"reduce": False}, "logits")]


def _run(lib, name, kwargs, kind):
    """(repr, loss, input gradient) of the loss module, for lib = engine or torch."""
    make = {k: lib.tensor(v) if isinstance(v, np.ndarray) else v for k, v in kwargs.items()}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the deprecated size_average, as PyTorch warns of it
        layer = getattr(lib.nn, name)(**make)
    x = lib.tensor({"probs": PROBS, "logits": LOGITS,
                    "log_probs": LOGITS - np.log(np.exp(LOGITS).sum(1, keepdims=True))}[kind],
                   requires_grad=True)
    target = lib.tensor(LABELS if kind != "log_probs" else (
        np.log(PROBS / PROBS.sum(1, keepdims=True)) if kwargs.get("log_target") else
        PROBS / PROBS.sum(1, keepdims=True)))
    loss = layer(x, target)
    loss.sum().backward()
    return repr(layer), loss.detach().numpy(), x.grad.numpy()


@pytest.mark.parametrize("name, kwargs, kind", CASES,
                         ids=[f"{n}-{'-'.join(k)}" for n, k, _ in CASES])
def test_each_loss_module_is_pytorchs(torch, name, kwargs, kind):
    ours, theirs = _run(engine, name, kwargs, kind), _run(torch, name, kwargs, kind)
    assert ours[0] == theirs[0]
    np.testing.assert_allclose(ours[1], theirs[1], rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(ours[2], theirs[2], rtol=1e-12, atol=1e-14)


def test_values_worked_out_by_hand():
    x, t = engine.tensor([0.0, 2.0]), engine.tensor([1.0, 0.0])
    assert F.l1_loss(x, t).item() == 1.5
    assert F.smooth_l1_loss(x, t, beta=1.0).item() == pytest.approx((0.5 + 1.5) / 2)
    assert F.huber_loss(x, t, delta=1.0).item() == pytest.approx((0.5 + 1.5) / 2)
    # log(1 + e^-x) for label 1 at x = 0, log(1 + e^2) for label 0 at x = 2
    assert F.binary_cross_entropy_with_logits(x, t).item() == pytest.approx(
        (math.log(2) + math.log(1 + math.e ** 2)) / 2)
    huge = F.binary_cross_entropy_with_logits(engine.tensor([1000.0, -1000.0]),
                                              engine.tensor([0.0, 1.0]), reduction="none")
    assert huge.tolist() == [1000.0, 1000.0]  # no overflow
    assert F.binary_cross_entropy(engine.tensor([0.0]), engine.tensor([1.0])).item() == 100.0


def test_logits_bce_is_one_node_as_pytorchs(torch):
    for lib, functional in ((engine, F), (torch, torch.nn.functional)):
        x = lib.zeros(2, 3, requires_grad=True)
        loss = functional.binary_cross_entropy_with_logits(x, lib.ones(2, 3),
                                                           weight=lib.ones(3))
        assert loss.grad_fn.name() == "BinaryCrossEntropyWithLogitsBackward0"
        assert loss.grad_fn.next_functions[0][0].variable is x


def test_weights_are_buffers_named_as_pytorchs(torch):
    ours = nn.BCEWithLogitsLoss(weight=engine.ones(3), pos_weight=engine.ones(3))
    theirs = torch.nn.BCEWithLogitsLoss(weight=torch.ones(3), pos_weight=torch.ones(3))
    assert list(ours.state_dict()) == list(theirs.state_dict()) == ["weight", "pos_weight"]
    assert list(ours.parameters()) == []


@pytest.mark.parametrize("make, error, message", [
    (lambda: F.l1_loss(engine.ones(2, 1), engine.ones(2)), ValueError,
     r"l1_loss: input has shape \(2, 1\) but target \(2,\)"),
    (lambda: nn.HuberLoss(reduction="avg"), ValueError, "reduction"),
    (lambda: F.binary_cross_entropy([0.5], engine.ones(1)), TypeError,
     "binary_cross_entropy takes input as a Tensor, got a list"),
    (lambda: F.binary_cross_entropy_with_logits(  # (PyTorch refuses it too)
        engine.ones(2), engine.ones(2), pos_weight=engine.ones(2, requires_grad=True)),
     RuntimeError, "not differentiable with respect to 'pos_weight'.*pos_weight.detach"),
])
def test_bad_input_is_named(make, error, message):
    with pytest.raises(error, match=message):
        make()


def test_mse_loss_weight_must_have_the_inputs_shape():
    x = engine.zeros(2, 3)
    with pytest.raises(ValueError, match=r"weight has shape \(3,\); it must have the input's "
                                         r"shape \(2, 3\)"):
        F.mse_loss(x, engine.ones(2, 3), weight=engine.ones(3))
    with pytest.warns(UserWarning, match="size_average and reduce"):
        assert F.mse_loss(x, engine.ones(2, 3), False).item() == 6.0  # size_average=False: sum
