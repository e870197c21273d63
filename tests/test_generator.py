"""engine/generator.py: seeding, the words, and the state bytes, against PyTorch's generator."""
from __future__ import annotations

import numpy as np
import pytest

import engine
import engine.random as R
from engine.generator import Generator, check_device


@pytest.fixture
def torch():
    return pytest.importorskip("torch")


def test_manual_seed_returns_the_generator_and_keeps_the_seed():
    g = Generator()
    assert g.manual_seed(2147483647) is g
    assert g.initial_seed() == 2147483647
    assert g.manual_seed(-1).initial_seed() == 2**64 - 1  # negative seeds wrap, as PyTorch's
    assert Generator().initial_seed() == 67280421310721  # torch.Generator()'s before seeding
    assert repr(g) == "Generator(device='cpu', initial_seed=18446744073709551615)"


@pytest.mark.parametrize("seed", [0, 1, 5489, 2147483647, 2**32 - 1])
def test_seeding_is_numpys_legacy_seeding(seed):
    legacy = np.random.MT19937()
    legacy._legacy_seeding(seed)  # numpy's RandomState seeding: the reference init_genrand
    assert np.array_equal(Generator().manual_seed(seed)._words(1000), legacy.random_raw(1000))


def test_only_the_low_32_bits_of_the_seed_reach_the_twister():
    high, low = Generator().manual_seed(2**40 + 5), Generator().manual_seed(5)
    assert high.initial_seed() == 2**40 + 5
    assert np.array_equal(high._words(700), low._words(700))


@pytest.mark.parametrize("seed", [0, 1, 2147483647, 2**32 - 1, 2**40 + 5, 2**64 - 1, -7])
def test_words_and_state_bytes_are_torchs(torch, seed):
    ours, theirs = Generator().manual_seed(seed), torch.Generator().manual_seed(seed)
    assert ours.get_state().numpy().tobytes() == theirs.get_state().numpy().tobytes()
    # across the twist every 624 words: state bytes after 623, 624, 625, ... words
    for n in (1, 622, 1, 1, 623, 624, 1300):
        assert np.array_equal(ours._words(n) & np.uint64(2**24 - 1),
                              (torch.rand(n, generator=theirs).numpy() * 2**24).astype(np.uint64))
        assert ours.get_state().numpy().tobytes() == theirs.get_state().numpy().tobytes()


def test_fresh_generator_state_is_torchs(torch):
    assert Generator().get_state().numpy().tobytes() == \
        torch.Generator().get_state().numpy().tobytes()


def test_state_moves_between_torch_and_here(torch):
    theirs = torch.Generator().manual_seed(7)
    torch.randn(5, generator=theirs)  # odd count: the pair's second normal waits in the state
    ours = Generator().set_state(theirs.get_state().numpy())
    assert ours._next_normal is not None
    assert np.asarray(R.randn(3, generator=ours)).tobytes() == \
        torch.randn(3, generator=theirs).numpy().tobytes()
    back = torch.Generator()
    back.set_state(torch.from_numpy(ours.get_state().numpy()))
    assert np.asarray(R.rand(700, generator=ours)).tobytes() == \
        torch.rand(700, generator=back).numpy().tobytes()


@pytest.mark.parametrize("words", [0, 1, 623, 624, 625, 1248, 5000])
def test_get_state_then_set_state_repeats_the_draws(words):
    g = Generator().manual_seed(3)
    g._words(words)
    R.randn(1, generator=g)  # leaves half a Box-Muller pair in the generator
    state = g.get_state()
    assert state.dtype == engine.uint8 and tuple(state.shape) == (5056,)  # a Tensor, as PyTorch's
    state = state.clone()  # (what PyTorch code does with it)
    first = np.asarray(R.randn(7, generator=g)), g._words(900)
    other = Generator().set_state(state)
    assert other.initial_seed() == 3
    again = np.asarray(R.randn(7, generator=other)), other._words(900)
    assert all(np.array_equal(a, b) for a, b in zip(first, again))


def test_manual_seed_forgets_the_waiting_normal():
    g = Generator().manual_seed(4)
    first = np.asarray(R.randn(1, generator=g))
    R.randn(1, generator=g.manual_seed(4))
    g.manual_seed(4)
    assert np.array_equal(np.asarray(R.randn(1, generator=g)), first)


def test_seed_reseeds_from_the_os():
    g = Generator()
    s = g.seed()
    assert 0 <= s < 2**64 and g.initial_seed() == s
    assert g.seed() != s  # two 64-bit draws from os.urandom


def _state(**fields):
    state = np.frombuffer(Generator().get_state().numpy().tobytes(), Generator._STATE).copy()
    for name, value in fields.items():
        state[name] = value
    return np.frombuffer(state.tobytes(), np.uint8)


@pytest.mark.parametrize("state, message", [
    (np.zeros(10, np.uint8), "5056 bytes"),
    (np.zeros(5056, np.int64), "5056 bytes"),
    (_state(seeded=0), "not a valid MT19937 state"),
    (_state(left=0), "not a valid MT19937 state"),
    (_state(left=625), "not a valid MT19937 state"),
    (_state(left=5, next=3), "not a valid MT19937 state"),
])
def test_set_state_refuses_what_is_not_a_state(state, message):
    with pytest.raises(ValueError, match=message):
        Generator().set_state(state)


@pytest.mark.parametrize("seed, error", [(1.5, TypeError), (True, TypeError), ("1", TypeError),
                                         (2**64, ValueError), (-2**63 - 1, ValueError)])
def test_manual_seed_refuses_what_is_not_a_64_bit_int(seed, error):
    with pytest.raises(error, match="manual_seed expects"):
        Generator().manual_seed(seed)


def test_only_the_cpu_is_a_device():
    class CPU:
        def __str__(self):
            return "cpu"
    assert Generator(CPU()).device == "cpu"
    check_device(None, "f")
    check_device("cpu:0", "f")
    with pytest.raises(ValueError, match="device='mps' is not available"):
        check_device("mps", "f")


def test_fork_rng_puts_the_default_generators_state_back():
    import engine
    engine.manual_seed(3)
    before = engine.get_rng_state()
    want = engine.rand(4).tolist()
    engine.set_rng_state(before)
    with engine.random.fork_rng():
        engine.manual_seed(99)
        inside = engine.rand(4).tolist()
    assert engine.rand(4).tolist() == want and inside != want
    engine.set_rng_state(before)
    with pytest.raises(KeyError), engine.random.fork_rng(devices=[]):
        engine.rand(100)
        raise KeyError  # an exception leaving the block restores the state too
    assert engine.rand(4).tolist() == want
    engine.set_rng_state(before)
    with engine.random.fork_rng(enabled=False):
        engine.rand(4)
    assert engine.rand(4).tolist() != want


def test_fork_rng_refuses_cuda_devices():
    import engine
    with pytest.raises(AssertionError, match="CUDA"), engine.random.fork_rng(devices=[0]):
        pass


def test_fork_rng_is_pytorchs(torch):
    import engine
    engine.manual_seed(5)
    torch.manual_seed(5)
    with engine.random.fork_rng(), torch.random.fork_rng():
        inside = engine.rand(3).tolist()
        assert inside == torch.rand(3, dtype=torch.float32).tolist()
    assert engine.rand(3).tolist() == torch.rand(3, dtype=torch.float32).tolist() == inside
    with pytest.raises(AssertionError, match="CUDA"), torch.random.fork_rng(devices=[0]):
        pass
