"""Datasets, as torch.utils.data.dataset: what a sample is. A map-style Dataset gives the
sample at an index; an IterableDataset is a stream of them; TensorDataset, Subset and
random_split build datasets from tensors and from other datasets, ConcatDataset (`a + b`)
and ChainDataset one after another, StackDataset side by side."""
from __future__ import annotations

import bisect
import itertools
import math
import warnings
from collections.abc import Iterable, Iterator, Sequence
from typing import Any, Generic, TypeVar

from engine.utils.data.sampler import _is_int, _length, _randperm

__all__ = ["Dataset", "IterableDataset", "TensorDataset", "Subset", "random_split",
           "ConcatDataset", "ChainDataset", "StackDataset"]

T_co = TypeVar("T_co", covariant=True)


class Dataset(Generic[T_co]):
    """A map from indices to samples: subclasses define `__getitem__`, and `__len__`, which
    the samplers and `len(DataLoader)` need (a DataLoader says which one is missing)."""

    def __add__(self, other: Dataset) -> ConcatDataset:
        """This dataset's samples, then other's."""
        return ConcatDataset([self, other])


class IterableDataset(Dataset[T_co]):
    """A stream of samples: subclasses define `__iter__`. With workers, each worker iterates
    its own copy: split the stream with `get_worker_info()` so that no sample comes twice."""

    def __add__(self, other: Dataset) -> ChainDataset:
        """This stream's samples, then other's."""
        return ChainDataset([self, other])


class TensorDataset(Dataset[tuple]):
    """Rows of tensors of one length: `TensorDataset(x, y)[i]` is `(x[i], y[i])`."""

    def __init__(self, *tensors: Any) -> None:
        shapes = [getattr(t, "shape", None) for t in tensors]
        if not tensors or any(not s for s in shapes):
            raise ValueError("TensorDataset takes one or more tensors of at least one dim, got "
                             + (", ".join(f"{type(t).__name__} of shape {s}"
                                          for t, s in zip(tensors, shapes)) or "none"))
        if len({s[0] for s in shapes}) > 1:
            raise ValueError("TensorDataset: the tensors must have the same first dim (their "
                             f"length), got shapes {', '.join(str(tuple(s)) for s in shapes)}")
        self.tensors = tensors

    def __getitem__(self, index: Any) -> tuple:
        return tuple(t[index] for t in self.tensors)

    def __len__(self) -> int:
        return self.tensors[0].shape[0]


def _samples(dataset: Any, indices: list) -> list:
    """dataset's samples at indices: by its __getitems__ (a whole batch at once) if it has
    one, as PyTorch's fetcher asks, else one by one."""
    getitems = getattr(dataset, "__getitems__", None)
    return getitems(indices) if callable(getitems) else [dataset[i] for i in indices]


class Subset(Dataset[T_co]):
    """The samples of `dataset` at `indices`, in that order."""

    def __init__(self, dataset: Dataset[T_co], indices: Sequence[int]) -> None:
        self.dataset = dataset
        self.indices = indices

    def __getitem__(self, index: Any) -> T_co:
        if isinstance(index, list):  # a batch of indices, as PyTorch's Subset takes
            return self.dataset[[self.indices[i] for i in index]]
        return self.dataset[self.indices[index]]

    def __getitems__(self, indices: list) -> list:
        """A batch at once, by the dataset's own __getitems__ when it has one."""
        return _samples(self.dataset, [self.indices[i] for i in indices])

    def __len__(self) -> int:
        return len(self.indices)


def random_split(dataset: Dataset[T_co], lengths: Sequence[int | float],
                 generator: Any = None) -> list[Subset[T_co]]:
    """The dataset cut at random into Subsets of the given lengths, as torch's random_split.

    Fractions summing to 1 are lengths too: each gets floor(fraction * len(dataset)), and
    what is left over goes one by one to the first splits.
    """
    n = _length(dataset, "random_split")
    if math.isclose(sum(lengths), 1) and sum(lengths) <= 1:
        if any(not 0 <= f <= 1 for f in lengths):
            raise ValueError(f"random_split: fractions must be between 0 and 1, got {lengths}")
        sizes = [math.floor(n * f) for f in lengths]
        for i in range(n - sum(sizes)):
            sizes[i % len(sizes)] += 1
        for i, size in enumerate(sizes):
            if size == 0:
                warnings.warn(f"random_split: split {i} is empty ({lengths[i]} of {n} samples)",
                              stacklevel=2)
        lengths = sizes
    if any(not _is_int(size) or size < 0 for size in lengths):
        raise ValueError(f"random_split: lengths must be non-negative ints, or fractions "
                         f"summing to 1, got {lengths}")
    if sum(lengths) != n:
        raise ValueError(f"random_split: lengths {list(lengths)} sum to {sum(lengths)}, but the "
                         f"dataset holds {n} samples")
    order = _randperm(n, generator)
    return [Subset(dataset, order[end - size:end])
            for end, size in zip(itertools.accumulate(lengths), lengths)]


class ConcatDataset(Dataset[T_co]):
    """Map-style datasets one after another: index len(a) of `ConcatDataset([a, b])` is b[0]."""

    def __init__(self, datasets: Iterable[Dataset[T_co]]) -> None:
        self.datasets = list(datasets)
        if not self.datasets:
            raise AssertionError("datasets should not be an empty iterable")
        for dataset in self.datasets:
            if isinstance(dataset, IterableDataset):
                raise AssertionError("ConcatDataset does not support IterableDataset (chain "
                                     "streams with ChainDataset)")
        self.cumulative_sizes = list(itertools.accumulate(
            _length(dataset, "ConcatDataset") for dataset in self.datasets))

    def __len__(self) -> int:
        return self.cumulative_sizes[-1]

    def __getitem__(self, index: int) -> T_co:
        if index < 0:
            if -index > len(self):
                raise ValueError("absolute value of index should not exceed dataset length")
            index += len(self)
        which = bisect.bisect_right(self.cumulative_sizes, index)
        return self.datasets[which][index - (self.cumulative_sizes[which - 1] if which else 0)]


class ChainDataset(IterableDataset[T_co]):
    """Streams one after another."""

    def __init__(self, datasets: Iterable[Dataset[T_co]]) -> None:
        self.datasets = datasets

    def __iter__(self) -> Iterator[T_co]:
        for dataset in self.datasets:
            if not isinstance(dataset, IterableDataset):
                raise AssertionError("ChainDataset only supports IterableDataset")
            yield from dataset

    def __len__(self) -> int:
        return sum(_length(dataset, "ChainDataset") for dataset in self.datasets)


class StackDataset(Dataset[Any]):
    """Datasets of one length side by side: `StackDataset(a, b)[i]` is `(a[i], b[i])`,
    `StackDataset(image=a, text=b)[i]` is `{"image": a[i], "text": b[i]}`."""

    def __init__(self, *args: Dataset, **kwargs: Dataset) -> None:
        if args and kwargs:
            raise ValueError("Supported either ``tuple``- (via ``args``) or``dict``- (via "
                             "``kwargs``) like input/output, but both types are given.")
        if not args and not kwargs:
            raise ValueError("At least one dataset should be passed")
        self.datasets: tuple | dict = args or kwargs
        parts = args or tuple(kwargs.values())
        self._length = _length(parts[0], "StackDataset")
        if any(_length(dataset, "StackDataset") != self._length for dataset in parts):
            raise ValueError("Size mismatch between datasets")

    def __getitem__(self, index: Any) -> tuple | dict:
        if isinstance(self.datasets, dict):
            return {key: dataset[index] for key, dataset in self.datasets.items()}
        return tuple(dataset[index] for dataset in self.datasets)

    def __getitems__(self, indices: list) -> list:
        """A batch at once, each dataset's by its own __getitems__ when it has one."""
        keyed = isinstance(self.datasets, dict)
        columns = {key: _samples(dataset, indices) for key, dataset in (
            self.datasets.items() if keyed else enumerate(self.datasets))}
        for column in columns.values():
            if len(column) != len(indices):
                raise ValueError(f"Nested dataset's output size mismatch. Expected "
                                 f"{len(indices)}, got {len(column)}")
        rows = zip(*columns.values())
        return [dict(zip(columns, row)) for row in rows] if keyed else [tuple(r) for r in rows]

    def __len__(self) -> int:
        return self._length
