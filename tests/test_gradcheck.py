"""engine/gradcheck.py: it passes right gradients, and names wrong ones precisely."""
from __future__ import annotations

import math
import re

import numpy as np
import pytest

from engine import GradcheckError, Tensor, Value, gradcheck
from engine.autograd import Function


class WrongTanh(Value):
    """A Value whose tanh has a deliberately wrong derivative (1 - t instead of 1 - t**2)."""

    __slots__ = ()

    def tanh(self):
        t = super().tanh()

        def _backward():  # micrograd's way of installing a rule by hand
            self.grad += (1.0 - t.data) * t.grad
        t._backward = _backward
        return t


def test_passes_a_correct_gradient():
    assert gradcheck(lambda a, b: (a * b).tanh() + a.exp() / b, [Value(0.3), Value(1.7)])


def test_raises_naming_input_analytic_and_numeric_value():
    x, y = WrongTanh(0.8, label="x"), Value(2.0)
    with pytest.raises(GradcheckError) as info:
        gradcheck(lambda a, b: a.tanh() * b, [x, y])
    message = str(info.value)
    found = re.findall(r"input 0 \('x'\): analytic (\S+), numeric (\S+)", message)
    t = math.tanh(0.8)
    assert len(found) == 1
    assert float(found[0][0]) == pytest.approx(2 * (1 - t), rel=1e-6)
    assert float(found[0][1]) == pytest.approx(2 * (1 - t * t), rel=1e-6)
    assert "input 1" not in message  # b's gradient, tanh(0.8), is right


def test_returns_false_instead_of_raising_on_request():
    assert gradcheck(lambda a: a.tanh(), [WrongTanh(0.5)], raise_exception=False) is False


def test_leaves_existing_gradients_alone():
    a = Value(1.0)
    a.grad = 7.0
    gradcheck(lambda v: v * v, [a])
    assert a.grad == 7.0 and a.data == 1.0


def test_needs_something_to_check():
    with pytest.raises(TypeError, match="among its inputs; got float, int"):
        gradcheck(lambda a, b: a * b, [1.0, 2])


def test_passes_other_arguments_as_they_are_and_checks_tensors():
    x = Tensor(np.array([0.5, -1.0, 2.0]), requires_grad=True, dtype=np.float64)
    assert gradcheck(lambda t, k: (t * k).tanh().sum(), [x, 3.0])
    assert gradcheck(lambda t: t.exp().sum(), x)  # one tensor, as PyTorch takes it


def test_checks_every_entry_of_a_non_scalar_outputs_jacobian():
    x = Tensor(np.array([[0.5, -1.0], [2.0, 0.1]]), requires_grad=True, dtype=np.float64)
    w = Tensor(np.array([[1.0, 2.0, 0.5], [-1.0, 0.3, 0.2]]), requires_grad=True,
               dtype=np.float64)
    assert gradcheck(lambda a, b: (a @ b).tanh(), [x, w])


def test_names_the_output_entry_of_a_wrong_jacobian_entry():
    class Doubled(Function):  # d out / d x is 2, its backward says 1 for the second entry
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, g):
            return g * Tensor(np.array([2.0, 1.0]))
    x = Tensor(np.array([0.5, 1.5]), requires_grad=True, dtype=np.float64)
    with pytest.raises(GradcheckError) as info:
        gradcheck(Doubled.apply, [x])
    assert re.findall(r"input 0\[(\d)\] -> output\[(\d)\]: analytic (\S+), numeric (\S+)",
                      str(info.value)) == [("1", "1", "1", "2")]
