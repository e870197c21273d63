"""nn/loss_more.py against torch.nn.functional's and torch.nn's: every loss's value and
gradients (of every input that takes one) in float64 over every reduction and option, its
grad_fn, the modules' reprs and the deprecated size_average/reduce; and, without PyTorch,
central differences (engine.gradcheck), values worked out by hand, float32 kept and the
errors."""
from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

import engine
import nn
import nn.functional as F

rng = np.random.default_rng(0)
X, Y, Z = (rng.standard_normal((4, 5)) for _ in range(3))
V1, V2 = rng.standard_normal(4), rng.standard_normal(4)
SIGNS = np.array([1.0, -1.0, 1.0, -1.0])
SIGNS2 = np.where(rng.random((4, 5)) > 0.5, 1.0, -1.0)
BITS = (rng.random((4, 5)) > 0.5).astype(np.float64)
COUNTS = rng.poisson(2.0, (4, 5)).astype(np.float64)
LISTS = np.array([[3, 0, -1, 1, 2], [1, 2, 3, 4, 0], [-1, 0, 0, 0, 0], [2, 2, -1, 3, 3]])
CLASSES = np.array([0, 4, 2, 2])
W5 = rng.random(5) + 0.5

# (name, call(F, *tensors), arrays, which arrays take a gradient); run for each reduction
LOSSES = [
    ("margin_ranking", lambda F, a, b, t, r: F.margin_ranking_loss(a, b, t, 0.3, reduction=r),
     (V1, V2, SIGNS), (0, 1)),
    ("triplet", lambda F, a, b, c, r: F.triplet_margin_loss(a, b, c, reduction=r), (X, Y, Z),
     (0, 1, 2)),
    ("triplet p1 swap", lambda F, a, b, c, r: F.triplet_margin_loss(
        a, b, c, margin=2.0, p=1, eps=1e-3, swap=True, reduction=r), (X, Y, Z), (0, 1, 2)),
    ("cosine_embedding", lambda F, a, b, t, r: F.cosine_embedding_loss(a, b, t, 0.1,
                                                                        reduction=r),
     (X, Y, SIGNS), (0, 1)),
    ("cosine_embedding 1-D", lambda F, a, b, t, r: F.cosine_embedding_loss(a, b, t, -0.2,
                                                                            reduction=r),
     (V1, V2, np.array(-1.0)), (0, 1)),
    ("hinge_embedding", lambda F, a, t, r: F.hinge_embedding_loss(a, t, 0.5, reduction=r),
     (X, SIGNS2), (0,)),
    ("soft_margin", lambda F, a, t, r: F.soft_margin_loss(a, t, reduction=r), (X * 3, SIGNS2),
     (0,)),
    ("multilabel_soft_margin", lambda F, a, t, r: F.multilabel_soft_margin_loss(a, t,
                                                                                reduction=r),
     (X, BITS), (0, 1)),
    ("multilabel_soft_margin weight", lambda F, a, t, w, r: F.multilabel_soft_margin_loss(
        a, t, w, reduction=r), (X, BITS, W5), (0,)),
    ("multilabel_margin", lambda F, a, t, r: F.multilabel_margin_loss(a, t, reduction=r),
     (X, LISTS), (0,)),
    ("multilabel_margin 1-D", lambda F, a, t, r: F.multilabel_margin_loss(a, t, reduction=r),
     (X[0], LISTS[0]), (0,)),
    ("multi_margin", lambda F, a, t, r: F.multi_margin_loss(a, t, reduction=r),
     (X, CLASSES), (0,)),
    ("multi_margin p2 weight", lambda F, a, t, w, r: F.multi_margin_loss(
        a, t, p=2, margin=0.7, weight=w, reduction=r), (X, CLASSES, W5), (0,)),
    ("multi_margin 1-D", lambda F, a, t, r: F.multi_margin_loss(a, t, reduction=r),
     (X[0], CLASSES[:1]), (0,)),
    ("multi_margin 0-d target", lambda F, a, t, r: F.multi_margin_loss(a, t, reduction=r),
     (X[0], np.array(CLASSES[0])), (0,)),
    ("poisson_nll", lambda F, a, t, r: F.poisson_nll_loss(a, t, reduction=r), (X, COUNTS),
     (0, 1)),
    ("poisson_nll full rates", lambda F, a, t, r: F.poisson_nll_loss(
        a, t, log_input=False, full=True, eps=1e-4, reduction=r), (np.abs(X), COUNTS), (0,)),
    ("gaussian_nll", lambda F, a, t, v, r: F.gaussian_nll_loss(a, t, v, reduction=r),
     (X, Y, np.abs(Z)), (0, 1, 2)),
    ("gaussian_nll full, var one dim short, clamped",
     lambda F, a, t, v, r: F.gaussian_nll_loss(a, t, v, full=True, eps=0.3, reduction=r),
     (X, Y, np.abs(Z[:, 0])), (0, 1, 2)),
    ("gaussian_nll var (1, 5)", lambda F, a, t, v, r: F.gaussian_nll_loss(a, t, v, reduction=r),
     (X, Y, np.abs(Z[:1])), (0, 1, 2)),
    ("gaussian_nll var a float", lambda F, a, t, r: F.gaussian_nll_loss(a, t, 0.5, reduction=r),
     (X, Y), (0, 1)),
]
REDUCTIONS = ("mean", "sum", "none")
CASES = [(name, f, arrays, grads, r) for name, f, arrays, grads in LOSSES for r in REDUCTIONS]


def _run(lib, F, f, arrays, grads, reduction, dtype=np.float64):
    """(loss, the gradients of the inputs in `grads`, grad_fn name) for lib = engine or torch."""
    inputs = [lib.tensor(a.astype(dtype) if a.dtype.kind == "f" else a,
                         requires_grad=i in grads) for i, a in enumerate(arrays)]
    out = f(F, *inputs, reduction)
    weights = np.arange(1.0, out.numel() + 1).reshape(tuple(out.shape)).astype(dtype)
    (out * lib.tensor(weights)).sum().backward()
    return (out.detach().numpy(), [inputs[i].grad.numpy() for i in grads],
            out.grad_fn.name())


@pytest.mark.parametrize("name, f, arrays, grads, reduction", CASES,
                         ids=[f"{c[0]}-{c[4]}" for c in CASES])
def test_each_loss_is_pytorchs_in_value_gradients_and_grad_fn(torch, name, f, arrays, grads,
                                                              reduction):
    ours = _run(engine, F, f, arrays, grads, reduction)
    theirs = _run(torch, torch.nn.functional, f, arrays, grads, reduction)
    assert ours[0].shape == theirs[0].shape
    np.testing.assert_allclose(ours[0], theirs[0], rtol=1e-13, atol=1e-14)
    for got, want in zip(ours[1], theirs[1]):
        np.testing.assert_allclose(got, want, rtol=1e-13, atol=1e-14)
    assert ours[2] == theirs[2]


@pytest.mark.parametrize("name, f, arrays, grads, reduction",
                         [c for c in CASES if c[4] == "mean"], ids=[c[0] for c in LOSSES])
def test_float32_stays_float32_and_agrees_with_pytorch(torch, name, f, arrays, grads, reduction):
    ours = _run(engine, F, f, arrays, grads, reduction, np.float32)
    theirs = _run(torch, torch.nn.functional, f, arrays, grads, reduction, np.float32)
    assert ours[0].dtype == np.float32 and all(g.dtype == np.float32 for g in ours[1])
    np.testing.assert_allclose(ours[0], theirs[0], rtol=2e-6)
    for got, want in zip(ours[1], theirs[1]):
        np.testing.assert_allclose(got, want, rtol=2e-5, atol=1e-6)


def test_kinks_pass_the_gradient_as_pytorchs_clamp_min_and_not_as_its_margin_kernels(torch):
    for lib, F_ in ((engine, F), (torch, torch.nn.functional)):
        x = lib.tensor([1.0, 0.0, 2.0], requires_grad=True)
        # both at their tie (0): margin ranking's clamp_min passes g (d/dx1 = -y = 1,
        # d/dx2 = y); multi_margin's z = 1 - x[2] + x[0] > 0 test passes nothing
        (F_.margin_ranking_loss(x[:1], x[1:2], lib.tensor([-1.0]), margin=-1.0)
         + F_.multi_margin_loss(x.unsqueeze(0), lib.tensor([2]))).backward()
        assert x.grad.tolist() == [1.0, -1.0, 0.0]


MODULES = [
    ("MarginRankingLoss", {"margin": 0.3}, (V1, V2, SIGNS)),
    ("MarginRankingLoss", {"size_average": False}, (V1, V2, SIGNS)),
    ("TripletMarginLoss", {"p": 1.0, "swap": True}, (X, Y, Z)),
    ("TripletMarginLoss", {"reduce": False}, (X, Y, Z)),
    ("CosineEmbeddingLoss", {"margin": 0.2, "reduction": "sum"}, (X, Y, SIGNS)),
    ("HingeEmbeddingLoss", {"margin": 2.0}, (X, SIGNS2)),
    ("SoftMarginLoss", {"reduction": "none"}, (X, SIGNS2)),
    ("MultiLabelSoftMarginLoss", {"weight": W5}, (X, BITS)),
    ("MultiLabelMarginLoss", {}, (X, LISTS)),
    ("MultiMarginLoss", {"p": 2, "weight": W5, "margin": 0.5}, (X, CLASSES)),
    ("PoissonNLLLoss", {"log_input": False, "full": True}, (np.abs(X), COUNTS)),
    ("GaussianNLLLoss", {"full": True, "eps": 0.1}, (X, Y, np.abs(Z))),
]


@pytest.mark.parametrize("name, kwargs, arrays", MODULES, ids=[f"{m[0]}{m[1]}" for m in MODULES])
def test_each_module_is_pytorchs(torch, name, kwargs, arrays):
    results = []
    for lib in (engine, torch):
        made = {k: lib.tensor(v) if isinstance(v, np.ndarray) else v for k, v in kwargs.items()}
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the deprecated size_average, as PyTorch warns
            layer = getattr(lib.nn, name)(**made)
        x = lib.tensor(arrays[0], requires_grad=True)
        out = layer(x, *(lib.tensor(a) for a in arrays[1:]))
        out.sum().backward()
        results.append((repr(layer), out.detach().numpy(), x.grad.numpy(),
                        sorted(dict(layer.named_buffers()))))
    assert results[0][0] == results[1][0] and results[0][3] == results[1][3]
    np.testing.assert_allclose(results[0][1], results[1][1], rtol=1e-13, atol=1e-14)
    np.testing.assert_allclose(results[0][2], results[1][2], rtol=1e-13, atol=1e-14)


# --- without PyTorch ---

SMOOTH_CASES = [c for c in LOSSES if c[0] not in ("multi_margin 0-d target",)]


@pytest.mark.parametrize("name, f, arrays, grads", SMOOTH_CASES, ids=[c[0] for c in SMOOTH_CASES])
def test_gradients_match_central_differences(name, f, arrays, grads):
    # (the random inputs keep every margin and clamp well away from its kink)
    inputs = [engine.tensor(a, requires_grad=i in grads, dtype=engine.float64)
              if a.dtype.kind == "f" else engine.tensor(a) for i, a in enumerate(arrays)]
    assert engine.gradcheck(lambda *t: f(F, *t, "none"), inputs)


def test_values_worked_out_by_hand():
    t = engine.tensor
    assert F.margin_ranking_loss(t([1.0, 2.0]), t([2.0, 1.0]), t([1.0, 1.0]), 0.5,
                                 reduction="none").tolist() == [1.5, 0.0]
    # distances 1 (to positive) and 2 (to negative), eps 0
    assert F.triplet_margin_loss(t([[0.0, 0.0]]), t([[1.0, 0.0]]), t([[0.0, 2.0]]), margin=1.5,
                                 eps=0.0).item() == pytest.approx(0.5)
    assert F.cosine_embedding_loss(t([[1.0, 0.0], [1.0, 0.0]]), t([[0.0, 1.0], [1.0, 1.0]]),
                                   t([1.0, -1.0]), reduction="none").tolist() == pytest.approx(
        [1.0, math.sqrt(0.5)])
    assert F.hinge_embedding_loss(t([0.3, 0.3]), t([1.0, -1.0]), reduction="none").tolist() == \
        pytest.approx([0.3, 0.7])
    assert F.soft_margin_loss(t([0.0, 1000.0]), t([1.0, -1.0]), reduction="none").tolist() == \
        pytest.approx([math.log(2), 1000.0])  # no overflow
    # classes 0 and 2 of 3 are targets: margins 1 - (x0 - x1) and 1 - (x2 - x1), over 3
    assert F.multilabel_margin_loss(t([[0.5, 0.2, 1.0]]), t([[0, 2, -1]])).item() == \
        pytest.approx((0.7 + 0.2) / 3)
    assert F.multi_margin_loss(t([[0.1, 0.2, 0.4, 0.8]]), t([3])).item() == pytest.approx(
        (0.3 + 0.4 + 0.6) / 4)
    assert F.poisson_nll_loss(t([0.0]), t([2.0]), reduction="sum").item() == 1.0
    assert F.poisson_nll_loss(t([0.0]), t([2.0]), full=True).item() == pytest.approx(
        1 + 2 * math.log(2) - 2 + 0.5 * math.log(4 * math.pi))
    assert F.gaussian_nll_loss(t([1.0]), t([3.0]), t([4.0])).item() == pytest.approx(
        0.5 * (math.log(4) + 1))
    assert F.gaussian_nll_loss(t([1.0]), t([3.0]), t([0.0]), eps=0.5).item() == pytest.approx(
        0.5 * (math.log(0.5) + 8))  # var clamped at eps


def test_gaussian_nll_var_gradient_passes_the_clamp_as_pytorchs():
    # PyTorch clamps var under no_grad: where clamped, var still gets the gradient that the
    # clamped value's formula gives
    var = engine.tensor([0.0, 4.0], dtype=engine.float64, requires_grad=True)
    F.gaussian_nll_loss(engine.zeros(2, dtype=engine.float64),
                        engine.tensor([1.0, 2.0], dtype=engine.float64), var,
                        eps=0.5, reduction="sum").backward()
    # d/dv of (ln v + d**2 / v) / 2 = (1 / v - d**2 / v**2) / 2 at v = 0.5 and at v = 4
    assert var.grad.tolist() == pytest.approx([(2 - 4) / 2, (0.25 - 4 / 16) / 2])


def test_grad_fn_names_are_pytorchs_as_recorded_from_it():
    x = engine.tensor(X, requires_grad=True)
    v = engine.tensor(V1, requires_grad=True)
    assert F.margin_ranking_loss(v, v * 2, engine.tensor(SIGNS)).grad_fn.name() == "MeanBackward0"
    assert F.margin_ranking_loss(v, v * 2, engine.tensor(SIGNS), reduction="none"
                                 ).grad_fn.name() == "ClampMinBackward0"
    assert F.soft_margin_loss(x, engine.tensor(SIGNS2)).grad_fn.name() == \
        "SoftMarginLossBackward0"
    assert F.multi_margin_loss(x, CLASSES).grad_fn.name() == "MultiMarginLossBackward0"
    assert F.multilabel_margin_loss(x, LISTS).grad_fn.name() == "MultilabelMarginLossBackward0"
    assert F.poisson_nll_loss(x, engine.tensor(COUNTS), reduction="none").grad_fn.name() == \
        "SubBackward0"
    assert F.pairwise_distance(x, x * 2).grad_fn.name() == "NormBackward1"


def test_legacy_size_average_and_reduce_are_read_as_pytorch():
    x, y = engine.tensor(X), engine.tensor(SIGNS2)
    with pytest.warns(UserWarning, match="size_average and reduce args will be deprecated"):
        summed = F.soft_margin_loss(x, y, size_average=False)
    assert summed.item() == pytest.approx(F.soft_margin_loss(x, y, reduction="sum").item())
    with pytest.warns(UserWarning):
        assert nn.HingeEmbeddingLoss(reduce=False).reduction == "none"


def test_bad_inputs_raise_clear_errors():
    x, t = engine.tensor(X), engine.tensor
    with pytest.raises(ValueError, match="reduction must be one of"):
        F.margin_ranking_loss(t(V1), t(V2), t(SIGNS), reduction="avg")
    with pytest.raises(RuntimeError, match="All input tensors should have same dimension"):
        F.margin_ranking_loss(t(V1), t(V2).reshape(4, 1), t(SIGNS))
    with pytest.raises(ValueError, match="margin must be greater than 0, got 0"):
        F.triplet_margin_loss(x, x, x, margin=0)
    with pytest.raises(ValueError, match="TripletMarginLoss: expected margin to be greater"):
        nn.TripletMarginLoss(margin=-1.0)
    with pytest.raises(RuntimeError, match="anchor 2D, positive 1D, and negative 2D"):
        F.triplet_margin_loss(x, x[0], x)
    with pytest.raises(RuntimeError, match="multi-target not supported"):
        F.cosine_embedding_loss(x, x, t(np.ones((4, 1))))
    with pytest.raises(RuntimeError, match="0D target tensor expects 1D input tensors"):
        F.cosine_embedding_loss(x, x, t(1.0))
    with pytest.raises(ValueError, match=r"input has shape \(4, 5\) but target \(5,\)"):
        F.soft_margin_loss(x, t(np.ones(5)))
    with pytest.raises(ValueError, match="only p == 1 and p == 2 supported"):
        F.multi_margin_loss(x, CLASSES, p=3)
    with pytest.raises(RuntimeError, match="target out of range"):
        F.multi_margin_loss(x, np.array([0, 1, 5, 0]))
    with pytest.raises(RuntimeError, match=r"Expected target size \[4\], but got \[2\]"):
        F.multi_margin_loss(x, np.array([0, 1]))
    with pytest.raises(TypeError, match="integer class indices"):
        F.multi_margin_loss(x, CLASSES.astype(float))
    with pytest.raises(RuntimeError, match=r"inconsistent weight size, expected 5 but got \[3\]"):
        F.multi_margin_loss(x, CLASSES, weight=t(np.ones(3)))
    with pytest.raises(RuntimeError, match="is not differentiable with respect to 'weight'"):
        F.multi_margin_loss(x, CLASSES, weight=engine.ones(5, requires_grad=True))
    with pytest.raises(RuntimeError, match=r"inconsistent target size: \[4, 3\]"):
        F.multilabel_margin_loss(x, LISTS[:, :3])
    with pytest.raises(RuntimeError, match=r"class indices in \[0, 5\) or -1"):
        F.multilabel_margin_loss(x, np.where(LISTS == 4, 7, LISTS))
    with pytest.raises(ValueError, match="var has negative entry"):
        F.gaussian_nll_loss(x, x, -engine.ones(4, 5))
    with pytest.raises(ValueError, match="var is of incorrect size"):
        F.gaussian_nll_loss(x, x, engine.ones(4, 2))
    with pytest.raises(ValueError, match="does not broadcast to the input's shape"):
        F.gaussian_nll_loss(x[0], x, engine.ones(5))
