"""The graph core shared by Value and Tensor: the node protocol, topological order, the
backward driver, and the switch that turns graph recording off (`no_grad`).

A node holds `data`, `grad`, a `label`, the short name of the op that made it (`_op`, ''
for leaves), its parents and its backward rule:

- parents sit in two slots, `_a` and `_b` (None when absent), and, for a Tensor op with
  more operands than two, `_more` (a tuple; empty everywhere else). `_prev` gives them
  all as one tuple.
- `_rule` is the op's backward rule, a function of the node, `rule(out)`, that adds
  `out.grad` times the local derivatives into the parents' `.grad`. It is written beside
  its op, and shared by every node that op makes (None for leaves). A Value's rule also
  carries the op's name, `rule.op`, which is where its `_op` comes from.

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
        return _nothing if rule is None or self._a is None else MethodType(rule, self)

    @_backward.setter
    def _backward(self, fn: Callable[[], None]) -> None:
        if not callable(fn):
            raise TypeError(f"_backward must be a function of no arguments, got "
                            f"{type(fn).__name__}")
        op = self._op  # a Value knows its op's name from its rule: the new rule carries it

        def rule(out: Node) -> None:
            fn()
        rule.op = op
        self._rule = rule

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


# --- the walk every backward pass makes, and the pass itself ---

_REACHED = object()  # stands in for the grad of a node the walk has reached


def _walk(root: Node, displaced: dict | None = None) -> list:
    """The nodes with parents that `root` depends on, `root` included, parents first.

    A node counts as reached when its grad is _REACHED: a backward pass resets these grads
    anyway, and on a scalar graph of a hundred thousand nodes this is a good third quicker
    than keeping a set of the nodes seen. Leaves (nodes without parents) are left out: a
    backward pass has nothing to do at them. `displaced`, when given, gets each reached
    node's grad from before, to be put back.
    """
    order: list = []
    stack = [root]
    if displaced is not None:
        displaced[root] = root.grad
    root.grad = _REACHED
    try:
        while stack:
            node = stack[-1]  # it stays on the stack until every parent is placed
            nxt = node._a
            if nxt is not None:
                if nxt._a is None or nxt.grad is _REACHED:  # a leaf, or reached: the next
                    nxt = node._b
                    if nxt is not None and (nxt._a is None or nxt.grad is _REACHED):
                        nxt = next((p for p in node._more if p._a is not None
                                    and p.grad is not _REACHED), None) if node._more else None
                if nxt is not None:
                    if displaced is not None:
                        displaced[nxt] = nxt.grad
                    nxt.grad = _REACHED
                    stack.append(nxt)
                    continue
            stack.pop()
            order.append(node)
    except BaseException:  # e.g. Ctrl-C: leave no node holding the marker
        for node in order + stack:
            node.grad = node._GRAD_ZERO if displaced is None else displaced[node]
        raise
    return order


def topological_order(root: Node) -> list:
    """Every node that `root` depends on, each after its parents, `root` last.

    The leaves come first, in the order they are met. The nodes' grads are left as they were.
    """
    if root._a is None:
        return [root]
    displaced: dict = {}
    order = _walk(root, displaced)
    for node, grad in displaced.items():
        node.grad = grad
    leaves = {p: None for node in order for p in node._prev if p._a is None}
    return [*leaves, *order]


def backward(root: Node, seed: Any) -> None:
    """Backpropagate `seed` from `root` through every node that `root` depends on.

    Interior nodes start from zero, so each call computes their gradients afresh; leaves
    keep what they had, so their gradients accumulate across calls as in PyTorch. A rule
    runs only after every child of its node has added into the node's grad.
    """
    if root._a is None:  # a leaf: d root / d root
        root.grad = seed if root.grad is None else root.grad + seed
        return
    order = _walk(root)
    zero = root._GRAD_ZERO
    for node in order:
        node.grad = zero
    root.grad = seed
    for node in reversed(order):
        rule = node._rule
        if rule is not None:
            rule(node)
