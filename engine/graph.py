"""The graph core shared by Value and Tensor: topological order, the backward driver, no_grad.

A node is anything with `data`, `grad`, `_prev` (the tuple of parent nodes), `_op` (a
short name, '' for leaves) and `_backward`: None for leaves, else the op's local
derivative, a function defined beside the op as `_backward(g, *parents)` that adds each
parent's chain-rule share of the node's gradient `g` into that parent's `.grad`.

Why parents come in as arguments instead of being captured by a closure: the function
then holds no cells (nor the node itself, so no reference cycle), a node costs three
objects for Python's cyclic garbage collector to scan instead of six or more, and the
collector's passes over a large live graph are most of what a micrograd step spends.

The walk uses an explicit stack, so graph depth is limited by memory, not by Python's
recursion limit.
"""
from __future__ import annotations

from contextlib import ContextDecorator
from typing import Any


class _GradMode:
    enabled = True


def is_grad_enabled() -> bool:
    """True unless inside `no_grad()`."""
    return _GradMode.enabled


class no_grad(ContextDecorator):
    """Context manager (or decorator) inside which ops record no graph: no parents, no closures.

    Used for parameter updates and evaluation. It is process-wide, not per thread.
    """

    def __enter__(self) -> None:
        self._prev = _GradMode.enabled
        _GradMode.enabled = False

    def __exit__(self, *exc: object) -> None:
        _GradMode.enabled = self._prev


def topological_order(root: Any) -> list:
    """Every node that `root` depends on, parents before children, `root` last."""
    order = []
    seen = {root}
    stack = [(root, iter(root._prev))]
    while stack:
        node, parents = stack[-1]
        for parent in parents:
            if parent not in seen:
                seen.add(parent)
                stack.append((parent, iter(parent._prev)))
                break
        else:  # all parents are placed, so the node can be
            stack.pop()
            order.append(node)
    return order


def backward(root: Any, seed: Any, empty: Any) -> None:
    """Backpropagate `seed` from `root` through every node that `root` depends on.

    Interior nodes are reset to `empty` first, so each call computes their gradients
    afresh; leaves keep what they had, so their gradients accumulate across calls as in
    PyTorch. A closure runs only once every child has added into its node's grad.
    """
    order = topological_order(root)
    for node in order:
        if node._prev:
            node.grad = empty
    root.grad = seed if root.grad is None else root.grad + seed
    for node in reversed(order):
        if node._backward is not None and node.grad is not None:
            node._backward(node.grad, *node._prev)
