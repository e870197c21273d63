"""DataLoader worker processes: what `iter(DataLoader(..., num_workers=n))` runs.

Each worker has its own copy of the dataset and collate_fn (inherited under 'fork',
pickled under 'spawn' and 'forkserver') and its own queue of tasks, (task number, index
sampler step), and puts (task number, pickled batch) on one queue shared by all of them.
The main process keeps prefetch_factor tasks per worker in flight, hands them out in turn
and yields the batches in task order, so an epoch is the same as without workers. Workers
are seeded as PyTorch seeds them, so their random numbers differ from each other's and from
one epoch to the next, and match PyTorch's workers' after the same seed.

Workers stop when the epoch ends, on an error, on Ctrl-C, and when the iterator is dropped
or collected; a worker whose main process has died exits on its own. With
persistent_workers=True the loader keeps them from one epoch to the next (a WorkerPool),
and they stop when the loader is collected, on an error, or when Python exits.
"""
from __future__ import annotations

import dataclasses
import math
import multiprocessing
import os
import pickle
import queue
import random
import signal
import sys
import time
import traceback
import weakref
from typing import Any, Callable

import numpy as np

import engine.random

# How often a waiting process checks that the other side is alive, and how long stopping
# waits for a busy worker before ending it: a dead worker or main process is noticed within
# a quarter second, at the cost of four wake-ups a second of an idle worker.
_POLL_SECONDS = 0.25
_NO_MORE = object()  # the index sampler's end (None is an IterableDataset's index)
_NEW_EPOCH = "new epoch"  # to a persistent worker: begin the dataset's stream again


@dataclasses.dataclass(frozen=True)
class WorkerInfo:
    """What get_worker_info() tells code running in a worker."""
    id: int
    num_workers: int
    seed: int
    dataset: Any


_worker_info: WorkerInfo | None = None


def get_worker_info() -> WorkerInfo | None:
    """In a DataLoader worker, its id, num_workers, seed and copy of the dataset; None in
    the main process."""
    return _worker_info


class _Exhausted:
    """A worker's answer when its copy of an IterableDataset has run out."""


class _WorkerError:
    """An exception raised in a worker, carried to the main process with its traceback as text."""

    def __init__(self, worker_id: int, doing: str = "") -> None:
        self.kind = sys.exc_info()[0]
        self.text = (f"Caught {self.kind.__name__} in DataLoader worker process {worker_id}"
                     f"{doing}.\nOriginal {traceback.format_exc()}")

    def reraise(self) -> None:
        # KeyError shows its message's repr; _Verbatim keeps the traceback's lines as lines
        text = _Verbatim(self.text) if self.kind is KeyError else self.text
        try:
            # a StopIteration out of __next__ would end the epoch early without a word
            error = RuntimeError(text) if self.kind is StopIteration else self.kind(text)
        except Exception:  # an exception type that takes other arguments
            error = RuntimeError(text)
        raise error


class _Verbatim(str):
    def __repr__(self) -> str:
        return self


def _worker_loop(worker_id: int, num_workers: int, base_seed: int, fetch: Callable,
                 init_fn: Callable | None, tasks: Any, results: Any, parent: int) -> None:
    """A worker process: make the batches asked for on `tasks` until told to stop (None)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the main process's: it stops us
    global _worker_info
    seed = base_seed + worker_id  # PyTorch's seeds, for Python, the engine and numpy
    random.seed(seed)
    engine.random.manual_seed(seed)
    np.random.seed(np.random.SeedSequence([worker_id, base_seed & 0xFFFFFFFF, base_seed >> 32, 0])
                   .generate_state(4))  # the state PyTorch's worker._generate_state computes
    _worker_info = WorkerInfo(worker_id, num_workers, seed, fetch.dataset)
    failed = None
    try:
        if init_fn is not None:
            init_fn(worker_id)
    except Exception:  # reported as the answer to every task
        failed = pickle.dumps(_WorkerError(worker_id, " in worker_init_fn"))
    while True:
        try:
            message = tasks.get(timeout=_POLL_SECONDS)
        except queue.Empty:
            if os.getppid() != parent:  # the main process died without stopping us
                break
            continue
        if message is None:
            break
        if message == _NEW_EPOCH:
            fetch.restart()
            continue
        task, index = message
        results.put((task, failed if failed is not None else _answer(fetch, index, worker_id)))
    results.cancel_join_thread()  # answers not yet sent are not wanted: exit without them


def _answer(fetch: Callable, index: Any, worker_id: int) -> bytes:
    """A task's answer, pickled: its batch, _Exhausted, or the error raised making it.

    The worker pickles it itself because the queue would pickle it in a background thread
    that only prints a failure, leaving the main process waiting for a batch that never comes.
    """
    try:
        answer = fetch(index)
    except Exception as e:
        exhausted = isinstance(e, StopIteration) and fetch.iterable
        answer = _Exhausted() if exhausted else _WorkerError(worker_id)
    try:
        return pickle.dumps(answer, pickle.HIGHEST_PROTOCOL)
    except Exception:
        return pickle.dumps(_WorkerError(worker_id, " pickling its batch for the main process"))


def _stop_workers(workers: list, tasks: list, results: Any) -> None:
    """Tell each worker to stop, give them a moment to finish their batch, then terminate
    the ones still busy."""
    for q in tasks:
        q.put(None)
    deadline = time.monotonic() + _POLL_SECONDS
    for w in workers:
        if w.pid is not None:  # started
            w.join(max(0.0, deadline - time.monotonic()))
    for w in workers:
        if w.is_alive():
            w.terminate()
            w.join()
    for q in (*tasks, results):
        q.cancel_join_thread()  # nothing in them is wanted: this process need not flush them
        q.close()


class WorkerPool:
    """A DataLoader's worker processes, their task queues and the queue of their answers:
    started for one epoch, or with persistent_workers=True for all the loader's epochs."""

    def __init__(self, loader: Any, fetch: Callable, base_seed: int) -> None:
        context = loader.multiprocessing_context or multiprocessing.get_context()
        n = loader.num_workers
        self.results = context.Queue()
        self.tasks = [context.Queue() for _ in range(n)]
        self.workers = [context.Process(target=_worker_loop, daemon=True, args=(
            i, n, base_seed, fetch, loader.worker_init_fn, self.tasks[i], self.results,
            os.getpid())) for i in range(n)]
        # Stops the workers when called (an epoch's end, an error), when the pool is
        # dropped or collected with its iterator or loader, or when Python exits.
        self.stop = weakref.finalize(self, _stop_workers, self.workers, self.tasks,
                                     self.results)
        # Tasks are numbered over the pool's life, so that the answers to an epoch left
        # early are told apart from the next epoch's.
        self.next_task = 0
        self.epochs = 0
        self.arrived: dict[int, bytes] = {}  # task -> answer, come ahead of its turn
        try:
            for w in self.workers:
                w.start()
        except (pickle.PicklingError, AttributeError, TypeError) as e:
            self.stop()
            raise RuntimeError(
                f"DataLoader could not start its workers with the "
                f"{context.get_start_method()!r} start method, which pickles the dataset, "
                f"collate_fn and worker_init_fn ({e}); define them at the top level of a "
                "module, or pass multiprocessing_context='fork'") from e

    def receive(self, task: int, first: int, timeout: float) -> bytes:
        """The answer to `task`, waiting for it if need be (`timeout` seconds at most, 0 is
        forever); answers to tasks before `first`, an earlier epoch's, are dropped."""
        deadline = time.monotonic() + timeout if timeout else math.inf
        while task not in self.arrived:
            try:
                wait = min(_POLL_SECONDS, deadline - time.monotonic())
                got, answer = self.results.get(timeout=max(wait, 0.0))
                if got >= first:
                    self.arrived[got] = answer
            except queue.Empty:
                dead = [w for w in self.workers if not w.is_alive()]
                if dead:
                    raise RuntimeError("DataLoader worker (pid(s) " + ", ".join(
                        f"{w.pid}, exit code {w.exitcode}" for w in dead) +
                        ") exited unexpectedly") from None
                if time.monotonic() >= deadline:
                    raise RuntimeError(f"DataLoader timed out after {timeout} seconds "
                                       "waiting for a batch from its workers") from None
        return self.arrived.pop(task)


class WorkerIterator:
    """One epoch of a DataLoader's batches, made by the pool's workers and yielded in the
    index sampler's order. `keep`: the pool outlives the epoch (persistent_workers)."""

    def __init__(self, loader: Any, pool: WorkerPool, keep: bool) -> None:
        self._pool, self._keep = pool, keep
        self._timeout = loader.timeout
        self._indices = iter(loader._index_sampler)
        if pool.epochs:  # workers that served an epoch begin their streams again
            for q in pool.tasks:
                q.put(_NEW_EPOCH)
        pool.epochs += 1
        self._epoch = pool.epochs
        pool.arrived.clear()
        self._yielded = self._first = pool.next_task
        self._live = list(range(len(pool.workers)))  # still making batches (a stream can end)
        self._worker_of: dict[int, int] = {}  # task -> its worker, until yielded
        try:
            for _ in range(loader.prefetch_factor * len(pool.workers)):
                self._send_task()
        except BaseException:
            pool.stop()
            raise

    def __iter__(self) -> WorkerIterator:
        return self

    def __next__(self) -> Any:
        pool = self._pool
        if self._epoch != pool.epochs:
            raise RuntimeError("this DataLoader iterator's persistent workers have moved on to a "
                               "newer epoch (iter() was called on the loader again): iterate "
                               "the newest iterator")
        try:
            while self._yielded < pool.next_task:
                task = self._yielded
                # bytes from our own worker, unpickled as the queue unpickles what it carries
                answer = pickle.loads(pool.receive(task, self._first, self._timeout))
                worker = self._worker_of.pop(task)
                self._yielded += 1
                if isinstance(answer, _Exhausted):
                    self._live = [w for w in self._live if w != worker]
                    continue
                if isinstance(answer, _WorkerError):
                    answer.reraise()
                self._send_task()
                return answer
        except BaseException:  # a worker's error, a timeout, Ctrl-C: the epoch is over
            pool.stop()
            raise
        if not self._keep:
            pool.stop()
        raise StopIteration

    def _send_task(self) -> None:
        """Hand the index sampler's next step to the next live worker in turn."""
        index = next(self._indices, _NO_MORE) if self._live else _NO_MORE
        if index is _NO_MORE:
            return
        pool = self._pool
        task = pool.next_task
        worker = self._live[(task - self._first) % len(self._live)]
        pool.tasks[worker].put((task, index))
        self._worker_of[task] = worker
        pool.next_task += 1
