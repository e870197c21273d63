"""engine/in_place_forms.py: `t.op_(...)` writes op's result into t, and records the write
in the graph when an operand alone requires grad (checked against hand-derived slopes and
PyTorch), reading an operand made from t at t's old value."""
from __future__ import annotations

import numpy as np
import pytest

import engine
from engine import Tensor


def test_the_form_is_named_documented_and_writes_into_the_tensor():
    x = Tensor(np.array([3.0, 4.0]))
    method = engine.Tensor.hypot_
    assert method.__name__ == "hypot_" and "in place" in method.__doc__
    assert x.hypot_(Tensor(np.array([4.0, 3.0]))) is x and x.tolist() == [5.0, 5.0]


# in-place ops whose other operand alone requires grad: (call, d out/d y at x, y, by hand)
IN_PLACE_WITH_A_GRAPHED_OPERAND = {
    "atan2_": (lambda m, a, y: a.atan2_(y), lambda x, y: -x / (x * x + y * y)),
    "lerp_ end": (lambda m, a, y: a.lerp_(y, 0.25), lambda x, y: np.full_like(x, 0.25)),
    "lerp_ weight": (lambda m, a, y: a.lerp_(m.ones(3, dtype=m.float64), y),
                     lambda x, y: 1 - x),
    "clamp_ min": (lambda m, a, y: a.clamp_(min=y), lambda x, y: (y > x).astype(float)),
    "xlogy_": (lambda m, a, y: a.xlogy_(y), lambda x, y: x / y),
}


@pytest.mark.parametrize("name", IN_PLACE_WITH_A_GRAPHED_OPERAND)
def test_an_in_place_op_records_the_graph_of_an_operand_that_requires_grad(name):
    """zeros(3).atan2_(y): the write is a graph node because y requires grad, though the
    tensor written into does not (before, its numbers were written and y's graph lost)."""
    call, slope = IN_PLACE_WITH_A_GRAPHED_OPERAND[name]
    x, y = np.array([0.5, -1.5, 2.0]), np.array([1.25, 0.75, 3.0])
    a, b = Tensor(x.copy()), Tensor(y, requires_grad=True)
    assert call(engine, a, b) is a and a.requires_grad
    a.sum().backward()
    np.testing.assert_allclose(b.grad.numpy(), slope(x, y), rtol=1e-12)
    torch = pytest.importorskip("torch")
    theirs = torch.tensor(y, requires_grad=True)
    call(torch, torch.tensor(x.copy()), theirs).sum().backward()
    np.testing.assert_allclose(b.grad.numpy(), theirs.grad.numpy(), rtol=1e-12)


def test_an_in_place_form_reads_an_operand_made_from_its_tensor_at_its_old_value():
    """x.hypot_(x * x): the operand's graph is rewired to x's old self, so no cycle forms."""
    w = Tensor(np.array([1.0, 2.0]), requires_grad=True)
    x = w * 1
    x.hypot_(x * x)  # sqrt(x**2 + x**4) of the old x
    x.sum().backward()
    old = np.array([1.0, 2.0])
    np.testing.assert_allclose(x.numpy(), np.hypot(old, old * old), rtol=1e-15)
    np.testing.assert_allclose(w.grad.numpy(), (old + 2 * old ** 3) / np.hypot(old, old * old),
                               rtol=1e-14)
