"""nn/distance.py against torch.nn.functional.pairwise_distance and torch.nn.PairwiseDistance:
values, both inputs' gradients and grad_fn for several norms, eps, keepdim and broadcast
inputs; without PyTorch, central differences, values worked out by hand and float32 kept."""
from __future__ import annotations

import math

import numpy as np
import pytest

import engine
import nn
import nn.functional as F

rng = np.random.default_rng(0)
A, B = rng.standard_normal((4, 5)), rng.standard_normal((4, 5))
# (name, x1, x2, p, eps, keepdim)
CASES = [("p2", A, B, 2.0, 1e-6, False), ("p1 keepdim", A, B, 1.0, 1e-3, True),
         ("p3", A, B, 3.0, 1e-6, False), ("p inf, broadcast", A, B[0], math.inf, 1e-6, False),
         ("p 0.5", A, B, 0.5, 1e-6, False), ("1-D", A[0], B[0], 2.0, 1e-6, False),
         ("3-D", A.reshape(2, 2, 5), B.reshape(2, 2, 5), 2.0, 0.0, True)]


def _run(lib, F, x1, x2, p, eps, keepdim):
    a, b = lib.tensor(x1, requires_grad=True), lib.tensor(x2, requires_grad=True)
    out = F.pairwise_distance(a, b, p, eps, keepdim)
    (out * lib.tensor(np.arange(1.0, out.numel() + 1).reshape(tuple(out.shape)))).sum().backward()
    return out.detach().numpy(), a.grad.numpy(), b.grad.numpy(), out.grad_fn.name()


@pytest.mark.parametrize("name, x1, x2, p, eps, keepdim", CASES, ids=[c[0] for c in CASES])
def test_pairwise_distance_is_pytorchs(torch, name, x1, x2, p, eps, keepdim):
    ours = _run(engine, F, x1, x2, p, eps, keepdim)
    theirs = _run(torch, torch.nn.functional, x1, x2, p, eps, keepdim)
    for got, want in zip(ours[:3], theirs[:3]):
        assert got.shape == want.shape
        np.testing.assert_allclose(got, want, rtol=1e-13, atol=1e-15)
    assert ours[3] == theirs[3] == "NormBackward1"


def test_module_is_pytorchs(torch):
    ours, theirs = nn.PairwiseDistance(p=1.0, keepdim=True), torch.nn.PairwiseDistance(p=1.0,
                                                                                      keepdim=True)
    assert repr(ours) == repr(theirs) == "PairwiseDistance()"
    np.testing.assert_allclose(ours(engine.tensor(A), engine.tensor(B)).numpy(),
                               theirs(torch.tensor(A), torch.tensor(B)).numpy(), rtol=1e-14)


# --- without PyTorch ---

@pytest.mark.parametrize("name, x1, x2, p, eps, keepdim", CASES, ids=[c[0] for c in CASES])
def test_gradients_match_central_differences(name, x1, x2, p, eps, keepdim):
    inputs = [engine.tensor(x, requires_grad=True, dtype=engine.float64) for x in (x1, x2)]
    assert engine.gradcheck(lambda a, b: F.pairwise_distance(a, b, p, eps, keepdim), inputs)


def test_values_worked_out_by_hand():
    x1, x2 = engine.tensor([[0.0, 0.0], [1.0, 1.0]]), engine.tensor([[3.0, 4.0], [1.0, 1.0]])
    assert F.pairwise_distance(x1, x2, eps=0.0).tolist() == [5.0, 0.0]
    assert F.pairwise_distance(x1, x2, 1, eps=0.0).tolist() == [7.0, 0.0]
    assert F.pairwise_distance(x1, x2, math.inf, eps=0.0, keepdim=True).tolist() == [[4.0], [0.0]]
    # eps is added to the difference, so equal vectors are eps * sqrt(dim) apart
    assert F.pairwise_distance(x1[1], x2[1]).item() == pytest.approx(1e-6 * math.sqrt(2))


def test_float32_stays_float32_and_bad_shapes_are_named():
    out = F.pairwise_distance(engine.ones(3, 2), engine.zeros(3, 2))
    assert out.dtype == engine.float32
    with pytest.raises(ValueError, match=r"x1 of shape \(3, 2\) and x2 of shape \(2, 2\) do not "
                                         "broadcast"):
        F.pairwise_distance(engine.ones(3, 2), engine.ones(2, 2))
