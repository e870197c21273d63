"""engine/poisson_sampler.py: torch.poisson, drawn from a seeded Generator as PyTorch's CPU
kernel draws it (Knuth's product below rate 10, Hoermann's transformed rejection above):
the same counts as torch, and the generator left where torch leaves its own."""
from __future__ import annotations

import numpy as np
import pytest

import engine

RATES = [0.5, 3.0, 0.0, 9.99, 10.0, 25.0, 1000.0, 1e6]


def test_counts_and_the_stream_after_them_as_recorded_from_pytorch():
    g = engine.Generator().manual_seed(2147483647)
    counts = engine.poisson(engine.tensor(RATES, dtype=engine.float64), generator=g)
    # torch 2.13: torch.poisson(rates, generator=torch.Generator().manual_seed(2147483647))
    assert counts.tolist() == [1.0, 1.0, 0.0, 15.0, 4.0, 30.0, 1006.0, 998832.0]
    assert engine.rand(2, generator=g, dtype=engine.float64).tolist() == \
        [0.8202880946132034, 0.16082906886380344]
    engine.manual_seed(0)
    assert engine.poisson(engine.full((2, 3), 4.0)).tolist() == [[7.0, 3.0, 5.0], [4.0, 6.0, 3.0]]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_counts_and_generator_state_match_pytorch_bit_for_bit(torch, dtype):
    rates = np.concatenate([np.linspace(0, 40, 400), [1e3, 1e5, 0.01]]).astype(dtype)
    for seed in (0, 1234, 2**40 + 7):
        ours, theirs = engine.Generator().manual_seed(seed), torch.Generator().manual_seed(seed)
        got = engine.poisson(engine.tensor(rates.reshape(-1, 1)), generator=ours)
        want = torch.poisson(torch.tensor(rates.reshape(-1, 1)), generator=theirs)
        np.testing.assert_array_equal(got.numpy(), want.numpy())
        assert str(got.dtype) == str(want.dtype)
        np.testing.assert_array_equal(ours.get_state(), theirs.get_state().numpy())


def test_the_default_generator_is_used_and_advanced(torch):
    engine.manual_seed(7)
    torch.manual_seed(7)
    rates = np.full(50, 12.5)
    np.testing.assert_array_equal(engine.poisson(engine.tensor(rates)).numpy(),
                                  torch.poisson(torch.tensor(rates)).numpy())
    np.testing.assert_array_equal(engine.randn(20, dtype=engine.float64).numpy(),
                                  torch.randn(20, dtype=torch.float64).numpy())


def test_counts_have_the_poisson_mean_and_variance():
    g = engine.Generator().manual_seed(3)
    for rate in (0.3, 4.0, 40.0):
        counts = engine.poisson(engine.full((40000,), rate), generator=g).numpy()
        assert counts.min() >= 0 and (counts == np.round(counts)).all()
        assert abs(counts.mean() - rate) < 5 * np.sqrt(rate / counts.size)
        assert abs(counts.var() / rate - 1) < 0.05


def test_the_gradient_is_zero_as_pytorchs():
    rates = engine.tensor([1.0, 20.0], requires_grad=True)
    counts = engine.poisson(rates)
    assert counts.requires_grad and counts.grad_fn.name() == "PoissonBackward0"
    counts.sum().backward()
    assert rates.grad.tolist() == [0.0, 0.0]


@pytest.mark.parametrize("rates, error, message", [
    ([-1.0], ValueError, "finite number >= 0"),
    ([float("nan")], ValueError, "finite number >= 0"),
    ([float("inf")], ValueError, "finite number >= 0"),
    ([1], TypeError, "float tensor of rates"),
])
def test_bad_rates_are_refused(rates, error, message):
    with pytest.raises(error, match=message):
        engine.poisson(engine.tensor(rates))


def test_a_generator_of_another_kind_is_refused():
    with pytest.raises(TypeError, match="engine.Generator"):
        engine.poisson(engine.ones(2), generator=np.random.default_rng(0))
