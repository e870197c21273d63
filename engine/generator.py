"""PyTorch's CPU random generator: the Mersenne Twister, its seeding and its state bytes.

`Generator().manual_seed(s)` holds the MT19937 that `torch.Generator().manual_seed(s)`
holds: numpy's `MT19937` given the state PyTorch's seeding makes (the reference seeding of
the twister, init_genrand, from the low 32 bits of the seed), so both produce the same
32-bit words. Besides the words, PyTorch's generator
keeps the second normal of a Box-Muller pair for the next draw; `get_state` writes all of it
in PyTorch's 5056-byte layout, so a state moves between the two libraries. What the words
become (uniforms, normals, integers) is engine/random.py's story. `fork_rng` puts the
default generator's state back after a block, as torch.random.fork_rng.
"""
from __future__ import annotations

import contextlib
import numbers
import os
from typing import Any, Iterable, Iterator

import numpy as np

_TORCH_DEFAULT_SEED = 67280421310721  # what torch.Generator() holds before manual_seed
_N = 624  # MT19937's state: 624 words


def _init_genrand(seed: int) -> np.ndarray:
    """The twister's 624 state words from a 32-bit seed, as its reference code (and PyTorch,
    and numpy's legacy seeding) makes them; the first draw then twists them."""
    words = [seed]
    for i in range(1, _N):
        words.append((1812433253 * (words[-1] ^ (words[-1] >> 30)) + i) & 0xFFFFFFFF)
    return np.array(words, np.uint32)


def check_device(device: Any, fn: str) -> None:
    """Only the CPU exists here: refuse 'cuda' & co. rather than silently ignoring them."""
    if device is not None and str(device) not in ("cpu", "cpu:0"):
        raise ValueError(f"{fn}: device={device!r} is not available; this engine computes on "
                         "the CPU with numpy, so pass device=None or 'cpu'")


class Generator:
    """PyTorch's CPU random generator: MT19937 plus the cached second Box-Muller normal."""

    def __init__(self, device: Any = "cpu") -> None:
        check_device(device, "Generator")
        self._mt = np.random.MT19937()
        self.manual_seed(_TORCH_DEFAULT_SEED)

    @property
    def device(self) -> str:
        """Where the generator lives: always the CPU."""
        return "cpu"

    def manual_seed(self, seed: int) -> Generator:
        """Reseed (any int in [-2**63, 2**64)) and return the generator, as torch's."""
        if isinstance(seed, bool) or not isinstance(seed, numbers.Integral):
            raise TypeError(f"manual_seed expects an int, got {type(seed).__name__} {seed!r}")
        seed = int(seed)
        if not -2**63 <= seed < 2**64:
            raise ValueError(f"manual_seed expects a seed in [-2**63, 2**64), got {seed}")
        self._seed = seed % 2**64  # negative seeds wrap to uint64, as in PyTorch
        self._mt.state = {"bit_generator": "MT19937",
                          "state": {"key": _init_genrand(self._seed & 0xFFFFFFFF), "pos": _N}}
        self._fresh = True  # no word drawn since seeding (torch's state bytes say next=0)
        self._next_normal: float | None = None  # second half of a Box-Muller pair
        self._next_float_normal: float | None = None  # kept for the state bytes only
        return self

    def seed(self) -> int:
        """Reseed from the operating system's entropy and return the new seed."""
        seed = int.from_bytes(os.urandom(8), "little")
        self.manual_seed(seed)
        return seed

    def initial_seed(self) -> int:
        """The seed of the last manual_seed (or seed)."""
        return self._seed

    # The state is PyTorch's 5056-byte CPUGeneratorImplState, so states move both ways:
    # torch.Generator().set_state(torch.from_numpy(g.get_state().numpy())) and back.
    _STATE = np.dtype([("seed", "<u8"), ("left", "<i4"), ("seeded", "<i4"), ("next", "<u8"),
                       ("words", "<u8", _N), ("normal_x", "<f8"), ("normal_y", "<f8"),
                       ("normal_rho", "<f8"), ("normal_valid", "<i4"), ("pad", "<i4"),
                       ("float_normal", "<f4"), ("float_normal_valid", "u1"),
                       ("tail", "u1", 3)])

    def get_state(self) -> Any:
        """The state as PyTorch's byte layout: a uint8 Tensor of 5056 entries, as PyTorch's."""
        mt = self._mt.state["state"]
        state = np.zeros((), self._STATE)
        state["seed"], state["seeded"], state["words"] = self._seed, 1, mt["key"]
        # numpy's `pos` counts words read since the last twist (624: twist before the next);
        # PyTorch counts words `left` until the twist, and `next` to read.
        pos = int(mt["pos"])
        state["left"] = 1 if pos == _N else _N + 1 - pos
        state["next"] = 0 if pos == _N and self._fresh else pos
        if self._next_normal is not None:
            state["normal_valid"], state["normal_y"] = 1, self._next_normal
        if self._next_float_normal is not None:
            state["float_normal_valid"], state["float_normal"] = 1, self._next_float_normal
        from engine.tensor import Tensor  # (here: the Tensor core loads this module)
        return Tensor(np.frombuffer(state.tobytes(), np.uint8).copy())

    def set_state(self, new_state: Any) -> Generator:
        """Restore a state from get_state (ours or torch's, as any uint8 array-like)."""
        raw = np.asarray(getattr(new_state, "_data", new_state))
        if raw.dtype != np.uint8 or raw.shape != (self._STATE.itemsize,):
            raise ValueError(f"set_state expects the uint8 array of {self._STATE.itemsize} "
                             f"bytes that get_state returns, got {raw.dtype} {raw.shape}")
        state = np.frombuffer(raw.tobytes(), self._STATE)[0]
        left, nxt = int(state["left"]), int(state["next"])
        if not (state["seeded"] and 0 < left <= _N and nxt <= _N
                and (left == 1 or left + nxt == _N + 1)):
            raise ValueError(f"set_state: not a valid MT19937 state (seeded="
                             f"{state['seeded']}, left={left}, next={nxt})")
        self._mt.state = {"bit_generator": "MT19937", "state": {
            "key": state["words"].astype(np.uint32), "pos": _N if left == 1 else nxt}}
        self._seed = int(state["seed"])
        self._fresh = left == 1 and nxt == 0
        self._next_normal = float(state["normal_y"]) if state["normal_valid"] else None
        self._next_float_normal = (float(state["float_normal"])
                                   if state["float_normal_valid"] else None)
        return self

    def __repr__(self) -> str:
        return f"Generator(device='cpu', initial_seed={self._seed})"

    # --- raw draws: every number below is made from these ---

    def _words(self, n: int) -> np.ndarray:
        """n 32-bit words (as uint64, for room to compute in)."""
        self._fresh = self._fresh and n == 0
        return self._mt.random_raw(n)

    def _words64(self, n: int) -> np.ndarray:
        """n 64-bit words, each from two 32-bit words, the first one high."""
        pairs = self._words(2 * n).reshape(n, 2)
        return (pairs[:, 0] << np.uint64(32)) | pairs[:, 1]

    def _uniform(self, n: int, dtype: np.dtype) -> np.ndarray:
        """n uniforms in [0, 1): float32 from 24 bits of a word, float64 from 53 of two."""
        if dtype == np.float64:
            return (self._words64(n) & np.uint64(2**53 - 1)).astype(np.float64) * 2.0**-53
        return (self._words(n) & np.uint64(2**24 - 1)).astype(np.float32) * np.float32(2**-24)


default_generator = Generator()
default_generator.seed()  # like PyTorch's, seeded from the OS until manual_seed is called


def manual_seed(seed: Any) -> Generator:
    """Reseed the default generator and return it, as torch.manual_seed (int(seed) first)."""
    return default_generator.manual_seed(int(seed))


def seed() -> int:
    """Reseed the default generator from the OS and return the seed, as torch.seed."""
    return default_generator.seed()


def initial_seed() -> int:
    """The default generator's seed, as torch.initial_seed."""
    return default_generator.initial_seed()


def get_rng_state() -> Any:
    """The default generator's state (PyTorch's 5056 bytes), as torch.get_rng_state."""
    return default_generator.get_state()


def set_rng_state(new_state: Any) -> None:
    """Restore the default generator's state, as torch.set_rng_state."""
    default_generator.set_state(new_state)


@contextlib.contextmanager
def fork_rng(devices: Iterable[int] | None = None, enabled: bool = True) -> Iterator[None]:
    """The default generator's state, put back when the block ends (by an exception too), as
    torch.random.fork_rng; `enabled=False` forks nothing. Only the CPU exists here, so
    `devices` names none: an AssertionError otherwise, as PyTorch's without CUDA."""
    if not enabled:
        yield
        return
    devices = [] if devices is None else list(devices)
    if devices:
        raise AssertionError(f"fork_rng: devices={devices} names CUDA devices, and this engine "
                             "has only the CPU (Torch not compiled with CUDA enabled); leave "
                             "devices out or pass devices=[]")
    state = get_rng_state()
    try:
        yield
    finally:
        set_rng_state(state)
