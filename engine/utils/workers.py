"""DataLoader worker processes: what `iter(DataLoader(..., num_workers=n))` runs.

Each worker has its own copy of the dataset and collate_fn (inherited under 'fork',
pickled under 'spawn' and 'forkserver') and its own queue of tasks, (task number, index
sampler step), and puts (task number, pickled batch) on one queue shared by all of them.
The main process keeps prefetch_factor tasks per worker in flight, hands them out in turn
and yields the batches in task order, so an epoch is the same as without workers. Workers
are seeded as PyTorch seeds them, so their random numbers differ from each other's and from
one epoch to the next, and match PyTorch's workers' after the same seed.

Workers stop when the epoch ends, on an error, on Ctrl-C, and when the iterator is dropped
or collected; a worker whose main process has died exits on its own.
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


class WorkerIterator:
    """One epoch of a DataLoader's batches, made by `fetch` in worker processes and yielded
    in the index sampler's order."""

    def __init__(self, loader: Any, fetch: Callable, base_seed: int) -> None:
        context = loader.multiprocessing_context or multiprocessing.get_context()
        n = loader.num_workers
        self._timeout = loader.timeout
        self._indices = iter(loader._index_sampler)
        self._results = context.Queue()
        self._tasks = [context.Queue() for _ in range(n)]
        self._workers = [context.Process(target=_worker_loop, daemon=True, args=(
            i, n, base_seed, fetch, loader.worker_init_fn, self._tasks[i], self._results,
            os.getpid())) for i in range(n)]
        # Stops the workers when called: at the end of the epoch, on an error, and when this
        # iterator is dropped (a `break`, garbage collection) or Python exits.
        self._stop = weakref.finalize(self, _stop_workers, self._workers, self._tasks,
                                      self._results)
        self._live = list(range(n))  # workers still making batches (a stream can run out)
        self._sent = self._yielded = 0
        self._worker_of: dict[int, int] = {}  # task -> its worker, until yielded
        self._arrived: dict[int, bytes] = {}  # task -> answer, come ahead of its turn
        try:
            for w in self._workers:
                w.start()
        except (pickle.PicklingError, AttributeError, TypeError) as e:
            self._stop()
            raise RuntimeError(
                f"DataLoader could not start its workers with the "
                f"{context.get_start_method()!r} start method, which pickles the dataset, "
                f"collate_fn and worker_init_fn ({e}); define them at the top level of a "
                "module, or pass multiprocessing_context='fork'") from e
        try:
            for _ in range(loader.prefetch_factor * n):
                self._send_task()
        except BaseException:
            self._stop()
            raise

    def __iter__(self) -> WorkerIterator:
        return self

    def __next__(self) -> Any:
        try:
            while self._yielded < self._sent:
                answer, worker = self._receive(self._yielded)
                self._yielded += 1
                if isinstance(answer, _Exhausted):
                    self._live = [w for w in self._live if w != worker]
                    continue
                if isinstance(answer, _WorkerError):
                    answer.reraise()
                self._send_task()
                return answer
        except BaseException:  # a worker's error, a timeout, Ctrl-C: the epoch is over
            self._stop()
            raise
        self._stop()
        raise StopIteration

    def _send_task(self) -> None:
        """Hand the index sampler's next step to the next live worker in turn."""
        index = next(self._indices, _NO_MORE) if self._live else _NO_MORE
        if index is _NO_MORE:
            return
        worker = self._live[self._sent % len(self._live)]
        self._tasks[worker].put((self._sent, index))
        self._worker_of[self._sent] = worker
        self._sent += 1

    def _receive(self, task: int) -> tuple[Any, int]:
        """The answer to `task` and the worker that made it, waiting for it if need be."""
        deadline = time.monotonic() + self._timeout if self._timeout else math.inf
        while task not in self._arrived:
            try:
                wait = min(_POLL_SECONDS, deadline - time.monotonic())
                got, answer = self._results.get(timeout=max(wait, 0.0))
                self._arrived[got] = answer
            except queue.Empty:
                dead = [w for w in self._workers if not w.is_alive()]
                if dead:
                    raise RuntimeError("DataLoader worker (pid(s) " + ", ".join(
                        f"{w.pid}, exit code {w.exitcode}" for w in dead) +
                        ") exited unexpectedly") from None
                if time.monotonic() >= deadline:
                    raise RuntimeError(f"DataLoader timed out after {self._timeout} seconds "
                                       "waiting for a batch from its workers") from None
        # Bytes from our own worker, unpickled as the queue unpickles everything it carries.
        return pickle.loads(self._arrived.pop(task)), self._worker_of.pop(task)
