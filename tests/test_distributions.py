"""engine/distributions.py: Categorical, Bernoulli and Normal sample what PyTorch samples
from the same seed, and their log_prob and entropy (and rsample) give PyTorch's values and
gradients; without PyTorch, values worked out by hand; errors."""
from __future__ import annotations

import math

import numpy as np
import pytest

import engine

LOGITS = np.array([[0.5, -1.0, 2.0], [0.0, 0.0, 1.0]])


def _categorical(lib, from_probs: bool) -> tuple:
    """A REINFORCE step on `lib` (engine or torch): samples, loss, the logits' gradient."""
    lib.manual_seed(0)
    param = lib.tensor(np.exp(LOGITS) if from_probs else LOGITS, requires_grad=True)
    dist = lib.distributions.Categorical(**{"probs" if from_probs else "logits": param})
    actions = dist.sample((4,))
    loss = -(dist.log_prob(actions) * lib.tensor([1.0, -2.0])).sum() - dist.entropy().sum()
    loss.backward()
    return actions.tolist(), loss.item(), param.grad.numpy()


def _normal(lib) -> tuple:
    lib.manual_seed(1)
    loc = lib.tensor([0.0, 1.0], requires_grad=True)
    scale = lib.tensor([2.0, 0.5], requires_grad=True)
    dist = lib.distributions.Normal(loc, scale)
    drawn, reparameterised = dist.sample((3,)), dist.rsample((3,))
    loss = (reparameterised ** 2).sum() + dist.log_prob(lib.tensor([0.5, 0.5])).sum() \
        + dist.entropy().sum()
    loss.backward()
    return drawn.numpy(), reparameterised.detach().numpy(), loc.grad.numpy(), scale.grad.numpy()


def _bernoulli(lib, from_probs: bool) -> tuple:
    lib.manual_seed(2)
    param = lib.tensor([0.2, 0.9] if from_probs else [-1.0, 2.0], requires_grad=True)
    dist = lib.distributions.Bernoulli(**{"probs" if from_probs else "logits": param})
    drawn = dist.sample((3,))
    loss = dist.log_prob(lib.tensor([1.0, 0.0])).sum() + dist.entropy().sum()
    loss.backward()
    return drawn.numpy(), loss.item(), param.grad.numpy()


@pytest.mark.parametrize("from_probs", [False, True])
def test_categorical_is_pytorchs(torch, from_probs):
    ours, theirs = _categorical(engine, from_probs), _categorical(torch, from_probs)
    assert ours[0] == theirs[0]
    assert ours[1] == pytest.approx(theirs[1], rel=1e-12)
    np.testing.assert_allclose(ours[2], theirs[2], rtol=1e-10, atol=1e-12)


def test_normal_is_pytorchs(torch):
    for ours, theirs in zip(_normal(engine), _normal(torch)):
        np.testing.assert_allclose(ours, theirs, rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("from_probs", [False, True])
def test_bernoulli_is_pytorchs(torch, from_probs):
    ours, theirs = _bernoulli(engine, from_probs), _bernoulli(torch, from_probs)
    np.testing.assert_array_equal(ours[0], theirs[0])
    assert ours[1] == pytest.approx(theirs[1], rel=1e-6)
    np.testing.assert_allclose(ours[2], theirs[2], rtol=1e-6)


def test_values_worked_out_by_hand():
    uniform = engine.distributions.Categorical(logits=engine.zeros(4))
    assert uniform.log_prob(engine.tensor(3)).item() == pytest.approx(-math.log(4))
    assert uniform.entropy().item() == pytest.approx(math.log(4))
    assert uniform.sample((5, 2)).shape == (5, 2) and uniform.sample().dtype == engine.int64
    normal = engine.distributions.Normal(0.0, 1.0)
    assert normal.log_prob(engine.tensor(0.0)).item() == pytest.approx(-0.5 * math.log(2 * math.pi))
    assert normal.entropy().item() == pytest.approx(0.5 + 0.5 * math.log(2 * math.pi))
    coin = engine.distributions.Bernoulli(probs=engine.tensor([0.25]))
    assert coin.log_prob(engine.tensor([1.0])).item() == pytest.approx(math.log(0.25))
    assert coin.variance.item() == pytest.approx(0.1875)


def test_a_seeded_categorical_samples_the_same_twice():
    dist = engine.distributions.Categorical(probs=engine.tensor([0.1, 0.6, 0.3]))
    engine.manual_seed(5)
    first = dist.sample((20,)).tolist()
    engine.manual_seed(5)
    assert dist.sample((20,)).tolist() == first and set(first) <= {0, 1, 2}


@pytest.mark.parametrize("make, message", [
    (lambda: engine.distributions.Categorical(), "either `probs` or `logits`"),
    (lambda: engine.distributions.Categorical(engine.ones(2), engine.ones(2)),
     "either `probs` or `logits`"),
    (lambda: engine.distributions.Categorical(logits=engine.tensor(1.0)), "at least one dim"),
    (lambda: engine.distributions.Normal(0.0, -1.0, validate_args=True), "scale must be positive"),
])
def test_bad_parameters_are_named(make, message):
    with pytest.raises(ValueError, match=message):
        make()
