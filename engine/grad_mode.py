"""Grad mode: whether ops record the graph, per thread, as in PyTorch.

`no_grad()`, `enable_grad()`, `set_grad_enabled(mode)` and `inference_mode()` work as
context managers and as decorators (on functions and on generator functions, whose body
then runs in that mode at every step, wherever it is resumed). `is_grad_enabled()` tells
the current mode, `is_inference_mode_enabled()` whether inference_mode is on.
"""
from __future__ import annotations

import functools
import inspect
import threading
from typing import Any, Callable

# `threads_off` counts the threads that have recording switched off. Ops read it first, so
# while no thread is inside `no_grad()` (the usual case, and every training step) checking
# the mode costs one attribute read; only then do they ask this thread's own mode.
threads_off = 0
_lock = threading.Lock()
_local = threading.local()  # .enabled: this thread's mode, when it has set one


def is_grad_enabled() -> bool:
    """True unless this thread is inside `no_grad()` (or `set_grad_enabled(False)`)."""
    return threads_off == 0 or getattr(_local, "enabled", True)


def _set_mode(enabled: bool) -> None:
    global threads_off
    if is_grad_enabled() != enabled:
        with _lock:
            threads_off += -1 if enabled else 1
        _local.enabled = enabled


class _ModeSwitch:
    """A context manager and decorator that sets the grad mode on entry and restores, on
    exit, the mode it found.

    The modes to restore are kept on the instance, one per entry (last in, first out), as
    PyTorch keeps its one: so an instance can be nested or reused, and a generator that
    entered it on one thread can be finished on another.
    """

    mode: bool

    def __new__(cls, *args: Any) -> Any:
        if cls is not set_grad_enabled and len(args) == 1 and callable(args[0]):
            return cls()(args[0])  # `@no_grad` without parentheses, as PyTorch allows
        return super().__new__(cls)

    def __init__(self) -> None:
        self._saved: list[bool] = []

    def __enter__(self) -> None:
        self._saved.append(is_grad_enabled())
        _set_mode(self.mode)

    def __exit__(self, *exc: object) -> None:
        _set_mode(self._saved.pop())

    def clone(self) -> _ModeSwitch:
        """A fresh switch to the same mode (so each call of a decorated function has its own)."""
        return type(self)()

    def __call__(self, fn: Callable) -> Callable:
        if inspect.isgeneratorfunction(fn):
            return self._wrap_generator(fn)

        @functools.wraps(fn)
        def with_mode(*args: Any, **kwargs: Any) -> Any:
            with self.clone():
                return fn(*args, **kwargs)
        return with_mode

    def _wrap_generator(self, fn: Callable) -> Callable:
        """A generator function whose body runs in this mode each time it is resumed, and
        whose caller gets its own mode back at every yield (as torch.no_grad does)."""
        @functools.wraps(fn)
        def with_mode(*args: Any, **kwargs: Any) -> Any:
            gen = fn(*args, **kwargs)
            try:
                with self.clone():
                    sent = gen.send(None)
                while True:
                    try:
                        received = yield sent
                    except GeneratorExit:
                        with self.clone():
                            gen.close()
                        raise
                    except BaseException as e:
                        with self.clone():
                            sent = gen.throw(e)
                    else:
                        with self.clone():
                            sent = gen.send(received)
            except StopIteration as stop:
                return stop.value
        return with_mode


class no_grad(_ModeSwitch):
    """Record no graph inside: results are plain leaves (for updates and evaluation)."""

    mode = False


class enable_grad(_ModeSwitch):
    """Record the graph inside, even within `no_grad()`."""

    mode = True


class set_grad_enabled(_ModeSwitch):
    """`set_grad_enabled(False)` switches recording off for this thread at once, as in
    PyTorch; used in a `with` block (or as a decorator) it restores the mode it found."""

    def __init__(self, mode: bool) -> None:
        if not isinstance(mode, bool):
            raise TypeError(f"set_grad_enabled takes True or False, got {type(mode).__name__}")
        super().__init__()
        self.mode = mode
        self._before: bool | None = is_grad_enabled()  # what a `with` block must restore
        _set_mode(mode)

    def __enter__(self) -> None:
        before, self._before = self._before, None  # later entries save the mode they find
        self._saved.append(is_grad_enabled() if before is None else before)
        _set_mode(self.mode)

    def clone(self) -> set_grad_enabled:
        clone = object.__new__(set_grad_enabled)
        clone._saved, clone.mode, clone._before = [], self.mode, None
        return clone

    def __call__(self, fn: Callable) -> Callable:
        if self._before is not None:  # as a decorator it switches nothing until called
            _set_mode(self._before)
            self._before = None
        return super().__call__(fn)


_inference = threading.local()  # .enabled: whether this thread is inside inference_mode()
# the threads inside inference_mode(): ops ask is_inference_mode_enabled() (a slow read of a
# thread-local attribute this thread may lack) only while it is not 0
threads_inferring = 0


def is_inference_mode_enabled() -> bool:
    """True inside `inference_mode()` (and not inside an `inference_mode(False)` in it)."""
    return getattr(_inference, "enabled", False)


def _set_inference(enabled: bool) -> None:
    global threads_inferring
    if is_inference_mode_enabled() != enabled:
        with _lock:
            threads_inferring += 1 if enabled else -1
        _inference.enabled = enabled


class inference_mode(_ModeSwitch):
    """`no_grad()` for evaluation, as PyTorch's: records no graph inside (PyTorch also
    skips its bookkeeping for in-place checks there, which this engine does not have).
    `inference_mode(False)` switches recording back on, as PyTorch's does."""

    def __init__(self, mode: bool = True) -> None:
        if not isinstance(mode, bool):
            raise TypeError(f"inference_mode takes True or False, got {type(mode).__name__}")
        super().__init__()
        self.inference, self.mode = mode, not mode
        self._was: list[bool] = []

    def __enter__(self) -> None:
        self._was.append(is_inference_mode_enabled())
        _set_inference(self.inference)
        super().__enter__()

    def __exit__(self, *exc: object) -> None:
        super().__exit__(*exc)
        _set_inference(self._was.pop())

    def clone(self) -> inference_mode:
        return inference_mode(self.inference)
