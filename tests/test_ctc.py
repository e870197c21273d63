"""nn/ctc.py against torch.nn.functional.ctc_loss and torch.nn.CTCLoss: loss and the logits'
gradient through log_softmax over every reduction, padded and concatenated targets, an
unbatched sample, another blank, zero_infinity, float32; PyTorch's own gradient with respect
to log_probs differs by exp(log_probs) (pytorch/pytorch#52241), checked as such. Without
PyTorch: the loss summed over every alignment by brute force, central differences of the
true gradient and its second derivative, infeasible targets, and the errors."""
from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

import engine
import nn
import nn.functional as F

rng = np.random.default_rng(0)


def _batch(steps, n, classes, longest, blank=0, seed=0):
    """Random logits (T, N, C), padded targets (N, longest) avoiding blank, and lengths."""
    r = np.random.default_rng(seed)
    logits = r.standard_normal((steps, n, classes))
    labels = r.choice([c for c in range(classes) if c != blank], (n, longest))
    target_lengths = r.integers(0, longest + 1, n)
    input_lengths = r.integers(max(1, steps // 2), steps + 1, n)
    return logits, labels, input_lengths, target_lengths


def _run(lib, ctc, logits, targets, input_lengths, target_lengths, dtype=np.float64, **kw):
    """(loss, logits' gradient, grad_fn name): the loss of log_softmax(logits)."""
    x = lib.tensor(logits.astype(dtype), requires_grad=True)
    out = ctc(x.log_softmax(-1), lib.tensor(targets), lib.tensor(input_lengths),
              lib.tensor(target_lengths), **kw)
    weights = np.arange(1.0, out.numel() + 1).reshape(tuple(out.shape)).astype(dtype)
    (out * lib.tensor(weights)).sum().backward()
    return out.detach().numpy(), x.grad.numpy(), out.grad_fn.name()


CASES = [("padded", dict(), {}), ("concatenated", dict(concatenated=True), {}),
         ("blank 3", dict(blank=3), {"blank": 3}), ("unbatched", dict(unbatched=True), {}),
         ("zero_infinity", dict(steps=3), {"zero_infinity": True})]


def _case(steps=10, blank=0, concatenated=False, unbatched=False):
    logits, labels, input_lengths, target_lengths = _batch(steps, 5, 6, 4, blank)
    targets = labels
    if concatenated:
        targets = np.concatenate([row[:k] for row, k in zip(labels, target_lengths)])
    if unbatched:
        logits, targets = logits[:, 0], labels[0, :target_lengths[0]]
        input_lengths, target_lengths = input_lengths[0], target_lengths[0]
    return logits, targets, input_lengths, target_lengths


@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
@pytest.mark.parametrize("name, make, kwargs", CASES, ids=[c[0] for c in CASES])
def test_loss_and_logits_gradient_are_pytorchs(torch, name, make, kwargs, reduction):
    args = _case(**make)
    ours = _run(engine, F.ctc_loss, *args, reduction=reduction, **kwargs)
    theirs = _run(torch, torch.nn.functional.ctc_loss, *args, reduction=reduction, **kwargs)
    assert ours[0].shape == theirs[0].shape
    np.testing.assert_allclose(ours[0], theirs[0], rtol=1e-13)
    np.testing.assert_allclose(ours[1], theirs[1], rtol=1e-12, atol=1e-14)
    if name != "unbatched" or reduction != "none":  # (PyTorch squeezes that one last)
        assert ours[2] == theirs[2]


def test_float32_stays_float32_and_agrees_with_pytorch(torch):
    args = _batch(30, 8, 10, 8)
    ours = _run(engine, F.ctc_loss, *args, dtype=np.float32)
    theirs = _run(torch, torch.nn.functional.ctc_loss, *args, dtype=np.float32)
    assert ours[0].dtype == ours[1].dtype == np.float32
    np.testing.assert_allclose(ours[0], theirs[0], rtol=1e-5)
    np.testing.assert_allclose(ours[1], theirs[1], rtol=1e-4, atol=1e-6)


def test_pytorchs_log_probs_gradient_adds_exp_log_probs_on_valid_frames(torch):
    # PyTorch returns the logits' gradient (as if behind log_softmax) as the gradient of
    # log_probs; ours is d loss / d log_probs itself: they differ by exp(log_probs) on each
    # sample's frames (pytorch/pytorch#52241)
    logits, labels, input_lengths, target_lengths = _batch(8, 3, 5, 3)
    lp = np.log(np.exp(logits) / np.exp(logits).sum(-1, keepdims=True))
    grads = []
    for lib, ctc in ((engine, F.ctc_loss), (torch, torch.nn.functional.ctc_loss)):
        x = lib.tensor(lp, requires_grad=True)
        ctc(x, lib.tensor(labels), lib.tensor(input_lengths), lib.tensor(target_lengths),
            reduction="sum").backward()
        grads.append(x.grad.numpy())
    frames = np.arange(8)[:, None, None] < input_lengths[None, :, None]
    np.testing.assert_allclose(grads[0] + np.exp(lp) * frames, grads[1], rtol=1e-12, atol=1e-14)


def test_module_is_pytorchs(torch):
    args = _case()
    results = []
    for lib in (engine, torch):
        layer = lib.nn.CTCLoss(blank=0, reduction="sum", zero_infinity=True)
        x = lib.tensor(args[0], requires_grad=True)
        out = layer(x.log_softmax(-1), *(lib.tensor(a) for a in args[1:]))
        out.backward()
        results.append((repr(layer), out.item(), x.grad.numpy()))
    assert results[0][0] == results[1][0] == "CTCLoss()"
    assert results[0][1] == pytest.approx(results[1][1], rel=1e-13)
    np.testing.assert_allclose(results[0][2], results[1][2], rtol=1e-12, atol=1e-14)


# --- without PyTorch ---

def _collapse(path, blank):
    """A frame labelling collapsed as CTC reads it: repeats merged, then blanks dropped."""
    merged = [c for i, c in enumerate(path) if i == 0 or c != path[i - 1]]
    return tuple(c for c in merged if c != blank)


@pytest.mark.parametrize("target, blank", [((1, 2), 0), ((1, 1), 0), ((), 0), ((2,), 1),
                                           ((0, 0, 2), 1)])
def test_loss_is_minus_log_of_the_sum_over_every_alignment(target, blank):
    steps, classes = 5, 3
    lp = np.log(np.random.default_rng(1).dirichlet(np.ones(classes), steps))
    total = sum(math.exp(sum(lp[t, c] for t, c in enumerate(path)))
                for path in itertools.product(range(classes), repeat=steps)
                if _collapse(path, blank) == target)
    loss = F.ctc_loss(engine.tensor(lp), engine.tensor(np.array(target, np.int64)),
                      engine.tensor(steps), engine.tensor(len(target)), blank=blank,
                      reduction="sum")
    assert loss.item() == pytest.approx(-math.log(total), rel=1e-13)


def test_gradient_matches_central_differences():
    logits, labels, input_lengths, target_lengths = _batch(6, 3, 4, 3)
    x = engine.tensor(logits, requires_grad=True)
    for reduction in ("none", "mean"):
        assert engine.gradcheck(lambda t: F.ctc_loss(
            t.log_softmax(-1), labels, input_lengths, target_lengths, reduction=reduction), [x])
    # and of log_probs themselves, normalised or not: the true derivative
    assert engine.gradcheck(lambda t: F.ctc_loss(t, labels, input_lengths, target_lengths), [x])


def test_second_derivative_matches_central_differences():
    logits, labels, input_lengths, target_lengths = _batch(4, 2, 3, 2)
    x = engine.tensor(logits, requires_grad=True)

    def gradient(t):
        with engine.enable_grad():  # (gradcheck evaluates f under no_grad too)
            loss = F.ctc_loss(t.log_softmax(-1), labels, input_lengths, target_lengths)
            (grad,) = engine.autograd.grad(loss, t, create_graph=True)
        return grad
    assert engine.gradcheck(gradient, [x])


def test_padded_and_concatenated_targets_give_one_loss():
    logits, labels, input_lengths, target_lengths = _batch(10, 5, 6, 4)
    lp = engine.tensor(logits).log_softmax(-1)
    concatenated = np.concatenate([row[:k] for row, k in zip(labels, target_lengths)])
    padded = F.ctc_loss(lp, labels, input_lengths, target_lengths, reduction="none")
    assert padded.tolist() == F.ctc_loss(lp, concatenated, input_lengths, target_lengths,
                                         reduction="none").tolist()
    per_label = padded.numpy() / np.maximum(target_lengths, 1)
    assert F.ctc_loss(lp, labels, input_lengths, target_lengths).item() == pytest.approx(
        per_label.mean(), rel=1e-14)


def test_a_target_that_no_alignment_fits_is_infinite_or_zeroed():
    lp = engine.tensor(np.log(np.full((3, 2, 4), 0.25)), requires_grad=True)
    labels = np.array([[1, 1, 2], [1, 2, 3]])  # 1 1 2 needs 4 frames (a blank between 1s)
    loss = F.ctc_loss(lp, labels, [3, 3], [3, 3], reduction="none")
    assert loss[0].item() == math.inf and loss[1].item() == pytest.approx(-3 * math.log(0.25))
    loss.sum().backward()
    assert not np.isfinite(lp.grad.numpy()[:, 0]).all()  # as PyTorch's (nan there)
    lp.grad = None
    zeroed = F.ctc_loss(lp, labels, [3, 3], [3, 3], reduction="none", zero_infinity=True)
    assert zeroed[0].item() == 0.0
    zeroed.sum().backward()
    assert (lp.grad.numpy()[:, 0] == 0).all() and np.isfinite(lp.grad.numpy()).all()


def test_no_frames_and_no_labels_cost_nothing():
    lp = engine.tensor(np.log(np.full((3, 2, 4), 0.25)))
    assert F.ctc_loss(lp, np.array([[1], [1]]), [0, 3], [0, 0], reduction="none").tolist() == [
        0.0, pytest.approx(-3 * math.log(0.25))]


def test_grad_fn_names_are_pytorchs_as_recorded_from_it():
    lp = engine.tensor(_batch(5, 2, 4, 2)[0], requires_grad=True).log_softmax(2)
    args = (np.array([[1, 2], [1, 1]]), [5, 5], [2, 2])
    assert F.ctc_loss(lp, *args).grad_fn.name() == "MeanBackward0"
    assert F.ctc_loss(lp, *args, reduction="sum").grad_fn.name() == "SumBackward0"
    assert F.ctc_loss(lp, *args, reduction="none").grad_fn.name() == "CtcLossBackward0"
    assert F.ctc_loss(lp, *args, reduction="none", zero_infinity=True).grad_fn.name() == \
        "WhereBackward0"


def test_bad_inputs_raise_clear_errors():
    lp = engine.tensor(_batch(6, 2, 4, 2)[0]).log_softmax(2)
    good = (np.array([[1, 2], [1, 1]]), [6, 6], [2, 2])
    with pytest.raises(RuntimeError, match="input_lengths to have value at most 6, but got "
                                           "value 7"):
        F.ctc_loss(lp, good[0], [7, 6], good[2])
    with pytest.raises(RuntimeError, match="input_lengths to have value at least 0"):
        F.ctc_loss(lp, good[0], [6, -1], good[2])
    with pytest.raises(RuntimeError, match=r"input_lengths must be of size batch_size \(2\)"):
        F.ctc_loss(lp, good[0], [6], good[2])
    with pytest.raises(RuntimeError, match="need 2 rows of at least 3 labels"):
        F.ctc_loss(lp, good[0], good[1], [3, 2])
    with pytest.raises(RuntimeError, match=r"must hold sum\(target_lengths\) = 4 labels, got 3"):
        F.ctc_loss(lp, np.array([1, 2, 1]), good[1], good[2])
    with pytest.raises(RuntimeError, match=r"blank must be in label range \[0, 4\), got 4"):
        F.ctc_loss(lp, *good, blank=4)
    with pytest.raises(ValueError, match=r"target labels must lie in \[0, 4\)"):
        F.ctc_loss(lp, np.array([[1, 9], [1, 1]]), *good[1:])
    with pytest.raises(TypeError, match="targets must be integer class indices"):
        F.ctc_loss(lp, good[0].astype(float), *good[1:])
    with pytest.raises(RuntimeError, match=r"log_probs must be floats of shape \(T, N, C\)"):
        F.ctc_loss(lp[0, 0], *good)
    with pytest.raises(ValueError, match="reduction must be one of"):
        nn.CTCLoss(reduction="avg")
