"""viz/examples.py: the example graphs hold the numbers their lessons derive by hand."""
from __future__ import annotations

import math

import numpy as np
import pytest

from engine import topological_order
from nn import manual
from viz import examples


def test_neuron_matches_micrograds_lecture():
    o, params = examples.neuron()
    # n = 2 * -3 + 0 * 1 + 6.8814 = 0.8814 and o = tanh(n) = 1 / sqrt 2, so do/dn = 1/2
    assert o.data == pytest.approx(1 / math.sqrt(2))
    leaves = {v.label: v for v in topological_order(o) if not v._prev}
    assert sorted(leaves) == ["b", "w1", "w2", "x1", "x2"]
    grads = {name: v.grad for name, v in leaves.items()}
    assert grads == pytest.approx({"x1": -1.5, "w1": 1.0, "x2": 0.5, "w2": 0.0, "b": 0.5})
    assert {name: p.label for name, p in params.items()} == {"w1": "w1", "w2": "w2", "b": "b"}


def test_lesson_weights_are_the_notebooks():
    w = examples.lesson_weights(784, seed=3)
    assert {k: (a.shape, a.dtype) for k, a in w.items()} == {
        "w1": ((784, 50), np.float32), "b1": ((50,), np.float32),
        "w2": ((50, 1), np.float32), "b2": ((1,), np.float32)}
    assert not w["b1"].any() and not w["b2"].any()
    assert w["w1"].std() == pytest.approx(1, abs=0.02)  # standard normal, as in the notebook
    np.testing.assert_array_equal(w["w1"], examples.lesson_weights(784, seed=3)["w1"])


def test_random_digits_look_like_mnist_batches():
    x, y = examples.random_digits(5, seed=1)
    assert (x.shape, x.dtype, y.shape, y.dtype) == ((5, 784), np.float32, (5,), np.float32)
    assert 0 <= x.min() and x.max() < 1
    assert set(y.tolist()) <= set(range(10))


@pytest.mark.parametrize("rows", [1, 4])
def test_lesson_gradients_equal_the_hand_derived_ones(rows):
    x, y = examples.random_digits(rows, seed=rows)
    loss, params = examples.lesson(x, y, seed=7)
    expected_loss, expected = manual.forward_and_backward(
        x, y, *examples.lesson_weights(784, seed=7).values())
    assert loss.item() == pytest.approx(float(expected_loss), rel=1e-5)
    leaves = {t.label: t for t in topological_order(loss) if not t._prev and t.label}
    for name in ("w1", "b1", "w2", "b2", "x"):
        scale = np.abs(expected[name]).max()
        np.testing.assert_allclose(leaves[name].grad, expected[name], atol=1e-5 * scale)
    assert set(params) == {"w1", "b1", "w2", "b2"}
    assert all(params[name] is leaves[name] for name in params)


def test_every_lesson_leaf_is_named_or_a_constant():
    loss, _ = examples.lesson(*examples.random_digits(3, seed=0))
    leaves = [t for t in topological_order(loss) if not t._prev]
    assert sorted(t.label for t in leaves if t.label) == ["b1", "b2", "w1", "w2", "x", "y"]
    assert all(t.numel() == 1 for t in leaves if not t.label)  # e.g. the 2 of ** 2
