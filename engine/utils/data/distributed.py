"""DistributedSampler, as torch.utils.data.distributed: each of `num_replicas` processes
takes every num_replicas-th index of one shared order, starting at its `rank`.

This engine trains in one process (engine/distributed.py has no process group), so the
sampler cannot ask a group for its size and rank: pass `num_replicas` and `rank`. It then
gives the indices PyTorch's gives that rank, shuffled from `seed + epoch` as PyTorch's.
"""
from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any, TypeVar

import engine.random
from engine.utils.data.sampler import Sampler, _is_int, _length, _randperm

__all__ = ["DistributedSampler"]

T_co = TypeVar("T_co", covariant=True)


class DistributedSampler(Sampler[T_co]):
    """This rank's share of the dataset's indices: all ranks' shares together are one
    permutation (padded by repeating its start, or cut with drop_last, to split evenly)."""

    def __init__(self, dataset: Any, num_replicas: int | None = None, rank: int | None = None,
                 shuffle: bool = True, seed: int = 0, drop_last: bool = False) -> None:
        if num_replicas is None or rank is None:
            # ValueError, as PyTorch's when no process group has been initialized
            raise ValueError("DistributedSampler: this engine has no distributed process "
                             "group to read the number of processes and this one's rank "
                             "from; pass num_replicas= and rank=")
        if not (_is_int(num_replicas) and num_replicas > 0):
            raise ValueError(f"DistributedSampler: num_replicas should be a positive int, got "
                             f"{num_replicas!r}")
        if not (_is_int(rank) and 0 <= rank < num_replicas):
            raise ValueError(f"Invalid rank {rank}, rank should be in the interval "
                             f"[0, {num_replicas - 1}]")
        n = _length(dataset, "DistributedSampler")
        self.dataset = dataset
        self.num_replicas = num_replicas
        self.rank = rank
        self.epoch = 0
        self.drop_last = drop_last
        if drop_last and n % num_replicas:  # the largest even split that drops the fewest
            self.num_samples = math.ceil((n - num_replicas) / num_replicas)
        else:
            self.num_samples = math.ceil(n / num_replicas)
        self.total_size = self.num_samples * num_replicas
        self.shuffle = shuffle
        self.seed = seed

    def __iter__(self) -> Iterator[T_co]:
        n = len(self.dataset)
        if self.shuffle:  # every rank draws the same order from the shared seed
            generator = engine.random.Generator().manual_seed(self.seed + self.epoch)
            indices = _randperm(n, generator)
        else:
            indices = list(range(n))
        if self.drop_last:
            indices = indices[:self.total_size]
        else:
            padding = self.total_size - n
            indices += (indices * math.ceil(padding / n))[:padding] if n else []
        return iter(indices[self.rank:self.total_size:self.num_replicas])

    def __len__(self) -> int:
        return self.num_samples

    def set_epoch(self, epoch: int) -> None:
        """Shuffle the next epoch from seed + epoch: call it before each epoch, as in PyTorch."""
        self.epoch = epoch
