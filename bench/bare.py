"""The least a graph engine in Python can do, to measure the floor of any (bench.makemore,
bench.minibatch): what building a graph and walking it back cost in Python steps, with
nothing else an engine does."""
from __future__ import annotations

from typing import Any

import numpy as np


class Bare:
    """A node: its array, parents, rule and what the rule reads, nothing else; no dtypes,
    views, version counts, hooks, checks or graph release. The rules are hand numpy's
    derivatives; `p.data` and `p.grad` are arrays."""

    __slots__ = ("data", "grad", "parents", "rule", "saved", "requires_grad")

    def __init__(self, data: np.ndarray, parents: tuple = (), rule: Any = None,
                 saved: Any = None, requires_grad: bool = True) -> None:
        self.data, self.grad, self.parents, self.rule, self.saved = data, None, parents, rule, saved
        self.requires_grad = requires_grad  # (a batch of data is a leaf that needs no gradient)

    def __getitem__(self, ix: np.ndarray) -> Bare:
        return Bare(self.data[ix], (self,), Bare._take, ix.reshape(-1).copy())

    def _take(self, g: np.ndarray) -> tuple:
        table = self.parents[0].data
        d = np.zeros_like(table)
        np.add.at(d, self.saved, g.reshape(-1, table.shape[1]))
        return (d,)

    def view(self, *shape: int) -> Bare:
        return Bare(self.data.reshape(shape), (self,), Bare._view)

    def _view(self, g: np.ndarray) -> tuple:
        return (g.reshape(self.parents[0].data.shape),)

    def __matmul__(self, other: Bare) -> Bare:
        return Bare(self.data @ other.data, (self, other), Bare._matmul)

    def _matmul(self, g: np.ndarray) -> tuple:
        a, b = self.parents
        return g @ b.data.T, a.data.T @ g

    def __add__(self, other: Bare) -> Bare:  # a bias row
        return Bare(self.data + other.data, (self, other), Bare._add)

    def _add(self, g: np.ndarray) -> tuple:
        return g, g.sum(axis=0)

    def linear(self, weight: Bare, bias: Bare) -> Bare:
        """F.linear's one node: self @ weight.T + bias, weight (out_features, in_features)."""
        return Bare(self.data @ weight.data.T + bias.data, (self, weight, bias), Bare._linear)

    def _linear(self, g: np.ndarray) -> tuple:
        x, w, _ = self.parents
        return g @ w.data if x.requires_grad else None, g.T @ x.data, g.sum(axis=0)

    def tanh(self) -> Bare:
        return Bare(np.tanh(self.data), (self,), Bare._tanh)

    def _tanh(self, g: np.ndarray) -> tuple:
        return (g * (1 - self.data * self.data),)

    def relu(self) -> Bare:
        return Bare(np.maximum(self.data, 0), (self,), Bare._relu)

    def _relu(self, g: np.ndarray) -> tuple:
        return (g * (self.data > 0),)

    def cross_entropy(self, labels: np.ndarray) -> Bare:
        z = self.data - self.data.max(axis=1, keepdims=True)
        e = np.exp(z)
        s = e.sum(axis=1, keepdims=True)
        rows = np.arange(len(labels))
        loss = np.log(s[:, 0]).mean() - z[rows, labels].mean()
        return Bare(loss, (self,), Bare._cross_entropy, (e / s, rows, labels.copy()))

    def _cross_entropy(self, g: np.ndarray) -> tuple:
        probs, rows, labels = self.saved
        d = probs.copy()
        d[rows, labels] -= 1
        return (d * (g / len(rows)),)

    def backward(self) -> None:
        order, seen, stack = [], set(), [(self, False)]
        while stack:  # a depth-first walk: each node placed after all its parents
            node, placed = stack.pop()
            if placed:
                order.append(node)
            elif node not in seen:
                seen.add(node)
                stack.append((node, True))
                for p in node.parents:
                    if p.parents and p not in seen:
                        stack.append((p, False))
        grads = {self: np.ones_like(self.data)}
        for node in reversed(order):
            for p, g in zip(node.parents, node.rule(node, grads.pop(node))):
                if g is not None:
                    grads[p] = grads[p] + g if p in grads else g
        for leaf, g in grads.items():
            leaf.grad = g if leaf.grad is None else leaf.grad + g
