"""nn/scalar.py: micrograd's Neuron, Layer and MLP on our Values."""
from __future__ import annotations

import random

import pytest

from engine import Value
from nn.scalar import MLP, Layer, Neuron


def hinge_step(model, xs, ys, lr):
    """One step of micrograd's demo: max-margin loss + 1e-4 L2, backward, SGD."""
    scores = [model(x) for x in xs]
    losses = [(1 + -y * s).relu() for y, s in zip(ys, scores)]
    loss = sum(losses) * (1.0 / len(losses)) + 1e-4 * sum(p * p for p in model.parameters())
    model.zero_grad()
    loss.backward()
    for p in model.parameters():
        p.data -= lr * p.grad
    return loss.data, scores


def test_mlp_learns_a_separable_problem():
    random.seed(1)
    xs = [[random.uniform(-1, 1), random.uniform(-1, 1)] for _ in range(40)]
    ys = [1.0 if x0 + 0.5 * x1 > 0 else -1.0 for x0, x1 in xs]
    model = MLP(2, [8, 8, 1])
    first, _ = hinge_step(model, xs, ys, 0.1)
    for _ in range(60):
        last, scores = hinge_step(model, xs, ys, 0.1)
    assert last < 0.25 * first
    accuracy = sum((s.data > 0) == (y > 0) for s, y in zip(scores, ys)) / len(ys)
    assert accuracy >= 0.95


def test_same_weights_order_and_steps_as_micrograd():
    micrograd = pytest.importorskip("micrograd.nn")
    random.seed(7)
    ours = MLP(2, [4, 4, 1])
    random.seed(7)
    theirs = micrograd.MLP(2, [4, 4, 1])
    assert [p.data for p in ours.parameters()] == [p.data for p in theirs.parameters()]
    xs = [[0.5, -1.0], [1.5, 0.25], [-0.75, 0.5]]
    ys = [1.0, -1.0, 1.0]
    for _ in range(5):
        our_loss, _ = hinge_step(ours, [[Value(v) for v in x] for x in xs], ys, 0.5)
        their_loss, _ = hinge_step(theirs, [[micrograd.Value(v) for v in x] for x in xs], ys, 0.5)
        assert our_loss == pytest.approx(their_loss, rel=1e-12)
    assert [p.data for p in ours.parameters()] == pytest.approx(
        [p.data for p in theirs.parameters()], rel=1e-12)
    assert repr(ours) == repr(theirs)


def test_parameters_come_neuron_by_neuron_weights_then_bias():
    model = MLP(3, [2, 1])
    names = [name for name, _ in model.named_parameters()]
    assert names[:4] == ["layers.0.neurons.0.w.0", "layers.0.neurons.0.w.1",
                         "layers.0.neurons.0.w.2", "layers.0.neurons.0.b"]
    assert len(names) == 2 * 4 + 1 * 3
    assert model.parameters()[3] is model.layers[0].neurons[0].b


def test_layer_returns_one_value_or_a_list():
    assert isinstance(Layer(2, 1)([1.0, 2.0]), Value)
    out = Layer(2, 3)([1.0, 2.0])
    assert isinstance(out, list) and len(out) == 3


def test_neuron_computes_relu_of_affine_map():
    n = Neuron(2)
    n.w[0].data, n.w[1].data, n.b.data = 0.5, -1.0, 0.25
    assert n([2.0, 0.5]).data == pytest.approx(0.75)
    assert n([0.0, 1.0]).data == 0.0
    assert Neuron(2, nonlin=False)([0.0, 0.0])._op == "+"


def test_zero_grad_resets_every_parameter():
    model = MLP(2, [3, 1])
    model([1.0, -1.0]).backward()
    assert any(p.grad != 0 for p in model.parameters())
    model.zero_grad()
    assert all(p.grad == 0.0 for p in model.parameters())


def test_wrong_number_of_inputs_is_named():
    with pytest.raises(ValueError, match="takes 3 inputs, got 2"):
        MLP(3, [2, 1])([1.0, 2.0])
