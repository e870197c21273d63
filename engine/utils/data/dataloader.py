"""The DataLoader, as torch.utils.data.dataloader: a dataset's batches, one epoch per
iteration, loaded in this process or in worker processes (engine/utils/workers.py).
default_collate, default_convert and get_worker_info are importable from here too, as from
PyTorch's module."""
from __future__ import annotations

import itertools
import multiprocessing
import warnings
from collections.abc import Iterable, Iterator
from typing import Any, Callable, Generic, TypeVar

import numpy as np

from engine.utils.data.collate import default_collate, default_convert
from engine.utils.data.dataset import Dataset, IterableDataset, TensorDataset, _samples
from engine.utils.data.sampler import (BatchSampler, RandomSampler, Sampler, SequentialSampler,
                                       _is_int, _length, _require, _seed)
from engine.utils.workers import WorkerIterator, WorkerPool, get_worker_info

__all__ = ["DataLoader", "get_worker_info", "default_collate", "default_convert"]

T_co = TypeVar("T_co", covariant=True)


_NEEDED = {"__getitem__": "__getitem__(self, index), returning the sample at an index "
                           "(or make it an IterableDataset with __iter__)",
           "__iter__": "__iter__(self), yielding them one by one"}


def _check_defines(source: Any, method: str, name: str) -> None:
    """A TypeError naming what `source` (the dataset or a sampler) must define, if it lacks
    the method the DataLoader reads it by: Dataset and Sampler, the bases a user subclasses,
    leave it to the subclass."""
    if not callable(getattr(type(source), method, None)):
        what = {"__getitem__": "samples", "__iter__": "samples" if name == "dataset"
                else "indices"}[method]
        raise TypeError(f"DataLoader: the {name} {type(source).__name__} does not define "
                        f"{method}, which gives its {what}: define {_NEEDED[method]}")


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
    and `worker_init_fn(worker_id)` runs in each worker before its first batch. Batches
    come in the sampler's order with workers too (`in_order=False` allows PyTorch to hand
    over whichever batch is ready first; here it changes nothing).

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
                 prefetch_factor: int | None = None, persistent_workers: bool = False,
                 pin_memory_device: str = "", in_order: bool = True) -> None:
        prefetch_factor = _check_worker_options(num_workers, timeout, prefetch_factor,
                                                multiprocessing_context, persistent_workers)
        for name, fn in (("collate_fn", collate_fn), ("worker_init_fn", worker_init_fn)):
            if fn is not None and not callable(fn):
                raise TypeError(f"{name} should be callable, got {type(fn).__name__}")
        if pin_memory or pin_memory_device:
            warnings.warn("pin_memory=True or pin_memory_device has no effect: there is no "
                          "accelerator to pin memory for", stacklevel=2)

        iterable = isinstance(dataset, IterableDataset)
        _check_defines(dataset, "__iter__" if iterable else "__getitem__", "dataset")
        for name, order in (("sampler", sampler), ("batch_sampler", batch_sampler)):
            if order is not None:
                _check_defines(order, "__iter__", name)
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
        self.pin_memory_device = pin_memory_device
        self.in_order = in_order  # (batches come in order either way, as in_order=False allows)

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
        # PyTorch draws a seed for the workers whenever it makes an iterator, with workers or
        # without (persistent workers keep theirs: their iterator is only reset); drawing it
        # here too keeps a seeded program's random numbers in step with PyTorch's.
        fetch = _Fetcher(self.dataset, self.collate_fn, self.batch_sampler is not None,
                         self.drop_last)
        if self.num_workers == 0:
            _seed(self.generator)
            return self._batches(fetch)
        pool = self.__dict__.get("_pool")
        if pool is None or not pool.stop.alive:  # none yet, or stopped by an error
            pool = WorkerPool(self, fetch, _seed(self.generator))
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
        return self.collate_fn(_samples(self.dataset, index))

    def restart(self) -> None:
        """Begin an IterableDataset's stream again at the next batch (a new epoch)."""
        self._stream, self._ended = None, False

    _ended = False  # the stream ran out within a batch: it is not asked again this epoch

    def _from_stream(self, index: Any) -> Any:
        """The next batch of an IterableDataset; StopIteration when it has run out."""
        if self._ended:
            raise StopIteration
        if self._stream is None:
            self._stream = iter(self.dataset)
        if not self.batched:
            return self.collate_fn(next(self._stream))
        samples = list(itertools.islice(self._stream, len(index)))
        if len(samples) < len(index):  # (as PyTorch's, which stops asking an iterator
            self._ended = True  # that may not be done: one yielding again after it stopped)
        if not samples or (self.drop_last and len(samples) < len(index)):
            raise StopIteration
        return self.collate_fn(samples)


class _Forever(Sampler[None]):
    """An IterableDataset's sampler: it has no indices, so each batch asks for the next samples."""

    def __iter__(self) -> Iterator[None]:
        return itertools.repeat(None)


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
