"""Datasets, samplers and the DataLoader: how a training loop gets its minibatches, as
torch.utils.data.

A DataLoader is four small pieces in a row, each one replaceable:

    dataset[i]            one sample, e.g. (image, label)        Dataset, TensorDataset, Subset
    sampler               the order of the indices i             SequentialSampler, RandomSampler
    batch sampler         those indices in groups of batch_size  BatchSampler
    collate_fn(samples)   a group of samples -> one batch        default_collate

so one epoch is `for indices in batch_sampler: yield collate_fn([dataset[i] for i in indices])`,
which is what `DataLoader._batches` does. `shuffle=True` means a RandomSampler, which draws
from the engine's generator (engine/random.py, PyTorch's numbers): after the same
`manual_seed`, a DataLoader shuffles exactly as PyTorch's does.

With `num_workers > 0` worker processes do the fetching and collating, each on its own
copy of the dataset, while the main process trains: that part is engine/utils/workers.py.
The batches come in the same order as without workers.
"""
from __future__ import annotations

import copy
import itertools
import math
import multiprocessing
import warnings
from collections.abc import Iterable, Iterator, Mapping, MutableMapping, MutableSequence, Sequence
from typing import Any, Callable, Generic, TypeVar

import numpy as np

import engine.random
from engine import Tensor, stack, tensor
from engine.utils.workers import WorkerIterator, WorkerPool, get_worker_info

__all__ = ["Dataset", "IterableDataset", "TensorDataset", "Subset", "random_split", "Sampler",
           "SequentialSampler", "RandomSampler", "SubsetRandomSampler", "BatchSampler",
           "default_collate", "default_convert", "DataLoader", "get_worker_info"]

T_co = TypeVar("T_co", covariant=True)


# --- datasets: what a sample is ---

class Dataset(Generic[T_co]):
    """A map from indices to samples: subclasses define `__getitem__`, and `__len__`, which
    the samplers and `len(DataLoader)` need."""

    def __getitem__(self, index: Any) -> T_co:
        raise NotImplementedError(f"{type(self).__name__} must define __getitem__ "
                                  "(the sample at an index)")


class IterableDataset(Dataset[T_co]):
    """A stream of samples: subclasses define `__iter__`. With workers, each worker iterates
    its own copy: split the stream with `get_worker_info()` so that no sample comes twice."""

    def __iter__(self) -> Iterator[T_co]:
        raise NotImplementedError(f"{type(self).__name__} must define __iter__ (its samples)")


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


class Subset(Dataset[T_co]):
    """The samples of `dataset` at `indices`, in that order."""

    def __init__(self, dataset: Dataset[T_co], indices: Sequence[int]) -> None:
        self.dataset = dataset
        self.indices = indices

    def __getitem__(self, index: Any) -> T_co:
        if isinstance(index, list):  # a batch of indices, as PyTorch's Subset takes
            return self.dataset[[self.indices[i] for i in index]]
        return self.dataset[self.indices[index]]

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


# --- samplers: in which order, and in which groups ---

class Sampler(Generic[T_co]):
    """An iterable of dataset indices (or, for a batch sampler, of lists of them): subclasses
    define `__iter__`, and `__len__` when they know it."""

    def __iter__(self) -> Iterator[T_co]:
        raise NotImplementedError(f"{type(self).__name__} must define __iter__ (its indices)")


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


class _Forever(Sampler[None]):
    """An IterableDataset's sampler: it has no indices, so each batch asks for the next samples."""

    def __iter__(self) -> Iterator[None]:
        return itertools.repeat(None)


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


# --- collation: a list of samples -> one batch ---

_CANNOT_COLLATE = ("default_collate: batch must contain tensors, numpy arrays, numbers, dicts "
                   "or lists; found {} (pass a collate_fn of your own for it)")

def default_collate(batch: list) -> Any:
    """A list of samples as one batch, as torch's default_collate.

    Tensors, numpy arrays and numbers are stacked into one Tensor with a new first dim
    (Python floats become float64, ints int64, bools bool); dicts, namedtuples, tuples and
    lists are collated field by field, keeping their type, except that a tuple becomes a
    list, as in PyTorch; strings and bytes stay a list.
    """
    elem = batch[0]
    if isinstance(elem, Tensor):
        return stack(batch)
    if isinstance(elem, np.ndarray):
        if elem.dtype.kind not in "biuf":  # strings, objects
            raise TypeError(_CANNOT_COLLATE.format(f"numpy arrays of dtype {elem.dtype}"))
        return stack([Tensor(b, dtype=b.dtype) for b in batch])
    if isinstance(elem, (np.bool_, np.number)):
        array = np.asarray(batch)
        return Tensor(array, dtype=array.dtype)
    if isinstance(elem, float):
        return tensor(batch, dtype=np.float64)
    if isinstance(elem, int):  # bool is an int too: a batch of bools stays bool, as in PyTorch
        return tensor(batch)
    if isinstance(elem, (str, bytes)):
        return batch
    if isinstance(elem, Mapping):
        return _rebuilt(elem, {key: default_collate([s[key] for s in batch]) for key in elem})
    if isinstance(elem, tuple) and hasattr(elem, "_fields"):  # a namedtuple
        return type(elem)(*(default_collate(field) for field in zip(*batch)))
    if isinstance(elem, Sequence):
        lengths = {len(sample) for sample in batch}
        if len(lengths) > 1:
            raise RuntimeError(f"default_collate: each sample in a batch must have the same "
                               f"length, got lengths {sorted(lengths)}")
        fields = [default_collate(field) for field in zip(*batch)]
        return fields if isinstance(elem, tuple) else _rebuilt(elem, fields)
    raise TypeError(_CANNOT_COLLATE.format(type(elem).__name__))


def default_convert(data: Any) -> Any:
    """One sample with its numpy arrays as Tensors, through dicts, tuples and lists, as torch's
    default_convert: what a DataLoader with batch_size=None applies to what the dataset gives."""
    if isinstance(data, (np.ndarray, np.bool_, np.number)):
        if data.dtype.kind not in "biuf":  # strings and objects stay as they are, as in PyTorch
            return data
        return Tensor(data, dtype=data.dtype)
    if isinstance(data, Mapping):
        return _rebuilt(data, {key: default_convert(value) for key, value in data.items()})
    if isinstance(data, tuple) and hasattr(data, "_fields"):
        return type(data)(*(default_convert(d) for d in data))
    if isinstance(data, tuple):
        return [default_convert(d) for d in data]
    if isinstance(data, Sequence) and not isinstance(data, (str, bytes)):
        return _rebuilt(data, [default_convert(d) for d in data])
    return data


def _rebuilt(elem: Any, values: dict | list) -> Any:
    """values (a dict, or a list) in elem's own container type, as PyTorch rebuilds them: a
    mutable container is copied and updated, so a subclass keeps its other attributes."""
    try:
        if isinstance(elem, MutableMapping):
            clone = copy.copy(elem)
            clone.update(values)
            return clone
        if isinstance(elem, MutableSequence):
            clone = copy.copy(elem)
            for i, value in enumerate(values):
                clone[i] = value
            return clone
        return type(elem)(values)
    except TypeError:  # a type that cannot be copied, updated or built from values (range)
        return values


# --- the DataLoader ---

class DataLoader(Generic[T_co]):
    """Batches of a dataset, one epoch per iteration, as torch.utils.data.DataLoader.

    `DataLoader(dataset, batch_size=64, shuffle=True)` is the usual call. `sampler` or
    `batch_sampler` replace the order and the grouping; `batch_size=None` hands each
    sampler index to the dataset as it is and collates nothing (the dataset batches
    itself). `generator` is the engine Generator to shuffle with.

    `num_workers > 0` makes the batches in that many worker processes, started with
    `multiprocessing_context` (Python's default start method unless given: 'fork' on
    Linux, where the dataset needs no pickling) and stopped at the end of the epoch, when
    the loop is left early, on an error or Ctrl-C; with `persistent_workers=True` they are
    kept for the next epoch (worker_init_fn runs once in each) until the loader is dropped
    or an error stops them, and only the newest iterator over the loader may be used then
    (as in PyTorch, where iter() resets it). `timeout` is how long to wait for one
    batch from them (0 is forever), `prefetch_factor` how many batches each has in hand,
    and `worker_init_fn(worker_id)` runs in each worker before its first batch.

    An error from the dataset or collate_fn ends the epoch, in the main process as in a
    worker (PyTorch's worker iterator could be asked for the next batch after one).
    """

    def __init__(self, dataset: Dataset[T_co], batch_size: int | None = 1,
                 shuffle: bool | None = None, sampler: Iterable | None = None,
                 batch_sampler: Iterable[list] | None = None, num_workers: int = 0,
                 collate_fn: Callable[[list], Any] | None = None, pin_memory: bool = False,
                 drop_last: bool = False, timeout: float = 0,
                 worker_init_fn: Callable[[int], None] | None = None,
                 multiprocessing_context: Any = None, generator: Any = None, *,
                 prefetch_factor: int | None = None, persistent_workers: bool = False) -> None:
        prefetch_factor = _check_worker_options(num_workers, timeout, prefetch_factor,
                                                multiprocessing_context, persistent_workers)
        for name, fn in (("collate_fn", collate_fn), ("worker_init_fn", worker_init_fn)):
            if fn is not None and not callable(fn):
                raise TypeError(f"{name} should be callable, got {type(fn).__name__}")
        if pin_memory:
            warnings.warn("pin_memory=True has no effect: there is no accelerator to pin "
                          "memory for", stacklevel=2)

        iterable = isinstance(dataset, IterableDataset)
        if iterable:
            for name, value in (("shuffle", shuffle), ("sampler", sampler),
                                ("batch_sampler", batch_sampler)):
                if value is not None and value is not False:
                    raise ValueError(f"DataLoader with IterableDataset: expected unspecified "
                                     f"{name} option, but got {name}={value!r} (the dataset's "
                                     "__iter__ sets the order)")
        if sampler is not None and shuffle:
            raise ValueError("sampler option is mutually exclusive with shuffle: the sampler "
                             "sets the order (RandomSampler shuffles)")
        if batch_sampler is not None:
            given = [name for name, set_ in (("batch_size", batch_size != 1),
                                             ("shuffle", bool(shuffle)),
                                             ("sampler", sampler is not None),
                                             ("drop_last", bool(drop_last))) if set_]
            if given:
                raise ValueError("batch_sampler option is mutually exclusive with batch_size, "
                                 "shuffle, sampler, and drop_last: the batch sampler makes the "
                                 f"batches, and {', '.join(given)} was given as well")
            batch_size, drop_last = None, False
        elif batch_size is None and drop_last:
            raise ValueError("batch_size=None option disables auto-batching and is mutually "
                             "exclusive with drop_last")
        if sampler is None:
            sampler = (_Forever() if iterable else RandomSampler(dataset, generator=generator)
                       if shuffle else SequentialSampler(dataset))
        if batch_size is not None and batch_sampler is None:
            batch_sampler = BatchSampler(sampler, batch_size, drop_last)

        self.dataset = dataset
        self.batch_size = batch_size
        self.drop_last = drop_last
        self.sampler = sampler
        self.batch_sampler = batch_sampler
        if collate_fn is None:
            collate_fn = default_collate if batch_sampler is not None else default_convert
        self.collate_fn = collate_fn
        self.generator = generator
        self.num_workers = num_workers
        self.pin_memory = pin_memory
        self.timeout = timeout
        self.worker_init_fn = worker_init_fn
        self.multiprocessing_context = _context(multiprocessing_context)
        self.prefetch_factor = prefetch_factor
        self.persistent_workers = persistent_workers

    def __setattr__(self, name: str, value: Any) -> None:
        if name in ("dataset", "batch_size", "drop_last", "sampler", "batch_sampler",
                    "persistent_workers") and name in self.__dict__:
            raise ValueError(f"{name} attribute should not be set after DataLoader is "
                             "initialized: the batches are planned then; make a new DataLoader")
        super().__setattr__(name, value)

    @property
    def _index_sampler(self) -> Iterable:
        """What each step of an epoch takes: a list of indices, or with batch_size=None one
        index for the dataset to batch itself."""
        return self.sampler if self.batch_sampler is None else self.batch_sampler

    def __len__(self) -> int:
        """Batches per epoch (for an IterableDataset, from its own len(), as PyTorch guesses)."""
        if not isinstance(self.dataset, IterableDataset):
            return len(self._index_sampler)
        n = _length(self.dataset, "len(DataLoader)")
        if self.batch_size is None:
            return n
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)

    def __iter__(self) -> Iterator[Any]:
        # PyTorch draws a seed for the workers at every iter(), with workers or without;
        # drawing it here too keeps a seeded program's random numbers in step with PyTorch's.
        base_seed = _seed(self.generator)
        fetch = _Fetcher(self.dataset, self.collate_fn, self.batch_sampler is not None,
                         self.drop_last)
        if self.num_workers == 0:
            return self._batches(fetch)
        pool = self.__dict__.get("_pool")
        if pool is None or not pool.stop.alive:  # none yet, or stopped by an error
            pool = WorkerPool(self, fetch, base_seed)
            if self.persistent_workers:
                self._pool = pool
        return WorkerIterator(self, pool, keep=self.persistent_workers)

    def _batches(self, fetch: _Fetcher) -> Iterator[Any]:
        """One epoch, loaded in this process."""
        for index in self._index_sampler:
            try:
                batch = fetch(index)
            except StopIteration:
                if fetch.iterable:  # the stream has run out
                    return
                raise  # from a map-style dataset it is a bug: Python makes it a RuntimeError
            yield batch


class _Fetcher:
    """The batch for one step of the index sampler: the samples at its indices, collated.
    The main process and the workers make batches with it alike."""

    def __init__(self, dataset: Any, collate_fn: Callable, batched: bool,
                 drop_last: bool) -> None:
        self.dataset = dataset
        self.collate_fn = collate_fn
        self.batched = batched
        self.drop_last = drop_last
        self.iterable = isinstance(dataset, IterableDataset)
        self._stream: Iterator | None = None  # begun at the first batch: in a worker, after
        # worker_init_fn, which may set up the worker's copy of the dataset

    def __call__(self, index: Any) -> Any:
        if self.iterable:
            return self._from_stream(index)
        if not self.batched:
            return self.collate_fn(self.dataset[index])
        if type(self.dataset) is TensorDataset and self.collate_fn is default_collate:
            # Each tensor indexed once by the batch's indices is the batch that collating
            # its rows one by one gives (in a list, as default_collate makes of tuples),
            # without a Tensor per row: five times quicker for MNIST-sized batches.
            rows = np.asarray(index)  # one conversion for all the tensors
            if rows.ndim != 1 or rows.dtype.kind not in "iu":
                rows = list(index)  # a list indexes rows; a tuple would index dims
            return [default_convert(t[rows]) for t in self.dataset.tensors]
        getitems = getattr(self.dataset, "__getitems__", None)  # a whole batch at once, if it can
        samples = getitems(index) if getitems else [self.dataset[i] for i in index]
        return self.collate_fn(samples)

    def restart(self) -> None:
        """Begin an IterableDataset's stream again at the next batch (a new epoch)."""
        self._stream = None

    def _from_stream(self, index: Any) -> Any:
        """The next batch of an IterableDataset; StopIteration when it has run out."""
        if self._stream is None:
            self._stream = iter(self.dataset)
        if not self.batched:
            return self.collate_fn(next(self._stream))
        samples = list(itertools.islice(self._stream, len(index)))
        if not samples or (self.drop_last and len(samples) < len(index)):
            raise StopIteration
        return self.collate_fn(samples)


def _check_worker_options(num_workers: int, timeout: float, prefetch_factor: int | None,
                          multiprocessing_context: Any, persistent_workers: bool) -> int | None:
    """The DataLoader's worker options checked as PyTorch checks them; the prefetch_factor
    to use (2 per worker unless given, None without workers)."""
    _require(_is_int(num_workers) and num_workers >= 0, "num_workers", num_workers,
             "a non-negative integer (0 loads in the main process)")
    _require(timeout >= 0, "timeout", timeout, "non-negative (0 waits forever)")
    if num_workers == 0:
        for name, given in (("timeout", timeout != 0),
                            ("prefetch_factor", prefetch_factor is not None),
                            ("multiprocessing_context", multiprocessing_context is not None),
                            ("persistent_workers", bool(persistent_workers))):
            if given:
                raise ValueError(f"{name} is about worker processes, which num_workers=0 "
                                 f"does not start: pass num_workers > 0, or drop {name}")
    elif prefetch_factor is None:
        prefetch_factor = 2
    else:
        _require(_is_int(prefetch_factor) and prefetch_factor > 0, "prefetch_factor",
                 prefetch_factor, "a positive integer")
    return prefetch_factor


def _context(method: Any) -> multiprocessing.context.BaseContext | None:
    """The multiprocessing context named by `method` (a start method or a context), or None."""
    if method is None or isinstance(method, multiprocessing.context.BaseContext):
        return method
    methods = multiprocessing.get_all_start_methods()
    if method not in methods:
        raise ValueError(f"multiprocessing_context should be a start method in {methods} or "
                         f"a multiprocessing context, but got {method!r}")
    return multiprocessing.get_context(method)
