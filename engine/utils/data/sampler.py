"""Samplers, as torch.utils.data.sampler: the order of a dataset's indices, and their
grouping into batches. The random ones draw from the engine's generator (engine/random.py,
PyTorch's numbers), so after the same `manual_seed` they shuffle exactly as PyTorch's do.

The argument checks and random draws the other modules of engine.utils.data share are here
too, at the bottom.
"""
from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator, Sequence
from typing import Any, Generic, TypeVar

import numpy as np

import engine.random

__all__ = ["Sampler", "SequentialSampler", "RandomSampler", "SubsetRandomSampler",
           "WeightedRandomSampler", "BatchSampler"]

T_co = TypeVar("T_co", covariant=True)


class Sampler(Generic[T_co]):
    """An iterable of dataset indices (or, for a batch sampler, of lists of them): subclasses
    define `__iter__` (a DataLoader says so if one does not), and `__len__` when they know
    it."""


class SequentialSampler(Sampler[int]):
    """0, 1, ..., len(data_source) - 1."""

    def __init__(self, data_source: Any) -> None:
        self.data_source = data_source

    def __iter__(self) -> Iterator[int]:
        return iter(range(len(self)))

    def __len__(self) -> int:
        return _length(self.data_source, "SequentialSampler")


class RandomSampler(Sampler[int]):
    """Indices in random order: a new permutation every epoch or, with `replacement=True`,
    `num_samples` independent draws.

    Without a generator, every epoch seeds a new one from the default generator, as PyTorch
    does, so `manual_seed` fixes the order of every epoch.
    """

    def __init__(self, data_source: Any, replacement: bool = False,
                 num_samples: int | None = None, generator: Any = None) -> None:
        _require(isinstance(replacement, bool), "replacement", replacement, "a boolean value",
                 TypeError)
        self.data_source = data_source
        self.replacement = replacement
        self._num_samples = num_samples
        self.generator = generator
        _require(_is_int(self.num_samples) and self.num_samples > 0, "num_samples",
                 self.num_samples, "a positive integer value")

    @property
    def num_samples(self) -> int:
        """How many indices an epoch has: len(data_source) unless given."""
        if self._num_samples is None:
            return _length(self.data_source, "RandomSampler")
        return self._num_samples

    def __iter__(self) -> Iterator[int]:
        # chained in C: an epoch's indices reach BatchSampler without a Python step each
        return itertools.chain.from_iterable(self._draws())

    def _draws(self) -> Iterator[list[int]]:
        """The epoch's indices in the pieces PyTorch draws them in, each drawn when the one
        before has been used up, as PyTorch's generator draws them."""
        n = _length(self.data_source, "RandomSampler")
        if n == 0:
            raise ValueError("RandomSampler: the dataset is empty, there is nothing to draw")
        generator = _seeded_generator() if self.generator is None else self.generator
        if self.replacement:  # 32 draws at a time, as PyTorch makes them, so the numbers match
            for start in range(0, self.num_samples, 32):
                yield _randint(n, min(32, self.num_samples - start), generator)
        else:
            for _ in range(self.num_samples // n):
                yield _randperm(n, generator)
            if self.num_samples % n:
                yield _randperm(n, generator)[:self.num_samples % n]
            else:  # PyTorch draws one more permutation here, to keep none of it
                engine.random.discard_randperm(n, generator)

    def __len__(self) -> int:
        return self.num_samples


class SubsetRandomSampler(Sampler[int]):
    """The given indices, in a new random order every epoch."""

    def __init__(self, indices: Sequence[int], generator: Any = None) -> None:
        self.indices = indices
        self.generator = generator

    def __iter__(self) -> Iterator[int]:
        for i in _randperm(len(self.indices), self.generator):
            yield self.indices[i]

    def __len__(self) -> int:
        return len(self.indices)


class WeightedRandomSampler(Sampler[int]):
    """num_samples indices of [0, len(weights)), each drawn with probability proportional to
    its weight (torch.multinomial's draws, in float64, as PyTorch's)."""

    def __init__(self, weights: Sequence[float], num_samples: int, replacement: bool = True,
                 generator: Any = None) -> None:
        _require(_is_int(num_samples) and num_samples > 0, "num_samples", num_samples,
                 "a positive integer value")
        _require(isinstance(replacement, bool), "replacement", replacement, "a boolean value")
        self.weights = engine.tensor(weights, dtype=engine.float64)
        if self.weights.ndim != 1:
            raise ValueError(f"weights should be a 1d sequence but given weights have shape "
                             f"{tuple(self.weights.shape)}")
        self.num_samples = num_samples
        self.replacement = replacement
        self.generator = generator

    def __iter__(self) -> Iterator[int]:
        drawn = engine.random.multinomial(self.weights, self.num_samples, self.replacement,
                                          generator=self.generator)
        return iter(drawn.numpy().tolist())

    def __len__(self) -> int:
        return self.num_samples


class BatchSampler(Sampler[list]):
    """The sampler's indices in lists of batch_size; the last one shorter, or dropped if
    drop_last. `list(BatchSampler(range(5), 2, False))` is [[0, 1], [2, 3], [4]]."""

    def __init__(self, sampler: Iterable, batch_size: int, drop_last: bool) -> None:
        _require(_is_int(batch_size) and batch_size > 0, "batch_size", batch_size,
                 "a positive integer value")
        _require(isinstance(drop_last, bool), "drop_last", drop_last, "a boolean value")
        self.sampler = sampler
        self.batch_size = batch_size
        self.drop_last = drop_last

    def __iter__(self) -> Iterator[list]:
        indices = iter(self.sampler)
        while batch := list(itertools.islice(indices, self.batch_size)):
            if len(batch) < self.batch_size and self.drop_last:
                return
            yield batch

    def __len__(self) -> int:
        if self.drop_last:
            return len(self.sampler) // self.batch_size
        return -(-len(self.sampler) // self.batch_size)


def _length(data_source: Any, who: str) -> int:
    """len(data_source), or an error saying who needed it and what to do."""
    if not hasattr(data_source, "__len__"):
        raise TypeError(f"{who} needs the length of its dataset, and "
                        f"{type(data_source).__name__} has no __len__: define one, pass a "
                        "sampler of your own, or make it an IterableDataset")
    return len(data_source)


def _is_int(x: Any) -> bool:
    return isinstance(x, int) and not isinstance(x, bool)


def _require(ok: bool, name: str, value: Any, what: str, error: type = ValueError) -> None:
    """Raise `error` saying that argument `name` should be `what`, in PyTorch's words."""
    if not ok:
        raise error(f"{name} should be {what}, but got {name}={value!r}")


# --- random numbers, from the engine's generator (PyTorch's streams) ---

def _randperm(n: int, generator: Any) -> list[int]:
    """torch.randperm(n, generator=generator).tolist()."""
    return engine.random.randperm(n, generator=generator).numpy().tolist()


def _randint(high: int, size: int, generator: Any) -> list[int]:
    """torch.randint(high, (size,), generator=generator).tolist()."""
    return engine.random.randint(high, (size,), generator=generator).numpy().tolist()


def _seed(generator: Any) -> int:
    """A seed in [0, 2**63) from generator (None: the default one), drawn as PyTorch draws
    one: `torch.empty((), dtype=torch.int64).random_(generator=generator)`."""
    return int(engine.random.random_(np.empty((), np.int64), generator=generator))


def _seeded_generator() -> engine.random.Generator:
    """A new generator seeded from the default one: what a RandomSampler without a generator
    of its own shuffles an epoch with, as in PyTorch."""
    return engine.random.Generator().manual_seed(_seed(None))
