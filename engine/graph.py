"""The graph core shared by Value and Tensor: the node protocol, topological order, the
backward driver, and the switch that turns graph recording off (`no_grad`).

A node holds `data`, `grad`, a `label`, the short name of the op that made it (`_op`, ''
for leaves), its parents and its backward rule:

- parents sit in two slots, `_a` and `_b` (None when absent), and, for a Tensor op with
  more operands than two, `_more` (a tuple; empty everywhere else). `_prev` gives them
  all as one tuple.
- `_rule` is the op's backward rule, a function of the node, `rule(out)`, that adds
  `out.grad` times the local derivatives into the parents' `.grad`. It is written beside
  its op, and shared by every node that op makes (None for leaves).

Why not one tuple of parents and a fresh closure per node, as micrograd does: each is one
more object for Python's cyclic garbage collector to track and scan again and again while
the graph grows, and on scalar graphs of a hundred thousand nodes those scans cost more
than the arithmetic. A node here is one tracked object.

micrograd's protocol works on every node: `node._backward()` with no arguments runs the
node's rule (a leaf's does nothing), and `node._backward = fn` installs a hand-written
zero-argument rule, as micrograd's lecture and its users' own ops do.

The walk uses an explicit stack, so graph depth is limited by memory, not by Python's
recursion limit. Grad mode is per thread, as in PyTorch.
"""
from __future__ import annotations

import functools
import threading
from types import MethodType
from typing import Any, Callable



class Node:
    """What Value and Tensor share: parents, the zero-argument `_backward()`, `zero_grad()`."""

    __slots__ = ()
    requires_grad = True  # Tensor overrides it per tensor; every Value takes part in the graph
    _GRAD_ZERO: Any = 0.0  # what a node's grad is reset to: 0.0 for Value, None for Tensor

    @property
    def _prev(self) -> tuple:
        """The parent nodes, in operand order (empty for a leaf)."""
        a = self._a
        if a is None:
            return ()
        b = self._b
        return (a,) if b is None else (a, b, *self._more)

    @property
    def _backward(self) -> Callable[[], None]:
        """micrograd's `node._backward()`: send this node's grad to its parents, once."""
        rule = self._rule
        return _nothing if rule is None else MethodType(rule, self)

    @_backward.setter
    def _backward(self, fn: Callable[[], None]) -> None:
        if not callable(fn):
            raise TypeError(f"_backward must be a function of no arguments, got "
                            f"{type(fn).__name__}")
        self._rule = lambda out: fn()

    def zero_grad(self) -> None:
        """Reset this node's gradient (0.0 for a Value, None for a Tensor)."""
        self.grad = self._GRAD_ZERO


def _nothing() -> None:
    """A leaf's `_backward()`: it has no parents to send a gradient to."""


# --- grad mode: whether ops record the graph, per thread ---

# `threads_off` counts the threads that have recording switched off. Ops read it first, so
# while no thread is inside `no_grad()` (the usual case, and every training step) checking
# the mode costs one attribute read; only then do they ask this thread's own mode.
threads_off = 0
_lock = threading.Lock()
_local = threading.local()  # .enabled, and .saved: the modes to restore, one per entry


def is_grad_enabled() -> bool:
    """True unless this thread is inside `no_grad()` (or `set_grad_enabled(False)`)."""
    return threads_off == 0 or getattr(_local, "enabled", True)


def _set_mode(enabled: bool) -> None:
    global threads_off
    if is_grad_enabled() != enabled:
        with _lock:
            threads_off += -1 if enabled else 1
        _local.enabled = enabled


def _saved() -> list:
    return _local.__dict__.setdefault("saved", [])


class _ModeSwitch:
    """A context manager and decorator that sets the grad mode on entry and restores, on
    exit, the mode it found. Each entry saves that mode on a per-thread stack, so one
    instance can be nested, reused, shared by threads or decorate a recursive function."""

    mode: bool

    def __new__(cls, *args: Any) -> Any:
        if cls is not set_grad_enabled and len(args) == 1 and callable(args[0]):
            return cls()(args[0])  # `@no_grad` without parentheses, as PyTorch allows
        return super().__new__(cls)

    def __enter__(self) -> None:
        _saved().append(is_grad_enabled())
        _set_mode(self.mode)

    def __exit__(self, *exc: object) -> None:
        _set_mode(_saved().pop())

    def __call__(self, fn: Callable) -> Callable:
        @functools.wraps(fn)
        def with_mode(*args: Any, **kwargs: Any) -> Any:
            with self:
                return fn(*args, **kwargs)
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
        self.mode = mode
        self._before = is_grad_enabled()  # what the `with` block, if any, must restore
        _set_mode(mode)

    def __enter__(self) -> None:
        before, self._before = self._before, None  # later entries save the mode they find
        _saved().append(is_grad_enabled() if before is None else before)
        _set_mode(self.mode)

    def __call__(self, fn: Callable) -> Callable:
        if self._before is not None:  # as a decorator it switches nothing until called
            _set_mode(self._before)
            self._before = None
        return super().__call__(fn)


# --- the two walks every backward pass makes ---

def topological_order(root: Node) -> list:
    """Every node that `root` depends on, parents before children, `root` last."""
    order = []
    seen = {root}
    stack = [root]
    mark, push, pop, place = seen.add, stack.append, stack.pop, order.append
    # Every backward pass walks every node here up to three times, so the two parent slots
    # are spelled out rather than looped over (a loop would build a tuple each visit).
    while stack:
        node = stack[-1]  # it stays on the stack until every parent is placed
        a = node._a
        if a is not None:
            if a not in seen:
                mark(a)
                push(a)
                continue
            b = node._b
            if b is not None:
                if b not in seen:
                    mark(b)
                    push(b)
                    continue
                if node._more:  # only a node with two parents can have more
                    waiting = next((p for p in node._more if p not in seen), None)
                    if waiting is not None:
                        mark(waiting)
                        push(waiting)
                        continue
        pop()
        place(node)
    return order


def backward(root: Node, seed: Any) -> None:
    """Backpropagate `seed` from `root` through every node that `root` depends on.

    Interior nodes are reset first, so each call computes their gradients afresh; leaves
    keep what they had, so their gradients accumulate across calls as in PyTorch. A rule
    runs only after every child of its node has added into the node's grad.
    """
    order = topological_order(root)
    zero = root._GRAD_ZERO
    for node in order:
        if node._rule is not None:
            node.grad = zero
    root.grad = seed if root.grad is None or root._rule is not None else root.grad + seed
    for node in reversed(order):
        rule = node._rule
        if rule is not None:
            rule(node)

