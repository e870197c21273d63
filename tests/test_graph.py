"""engine/graph.py: the iterative topological order, the backward driver and no_grad."""
from __future__ import annotations

import sys

import pytest

import engine
from engine import Value, topological_order


def test_order_puts_every_parent_before_its_children_once_and_root_last():
    a, b = Value(1.0), Value(2.0)
    c = a * b
    d = c + a
    e = d * c + b
    order = topological_order(e)
    assert order[-1] is e
    assert len(order) == len(set(order)) == 6  # a, b, c, d, d*c, e
    position = {node: i for i, node in enumerate(order)}
    for node in order:
        for parent in node._prev:
            assert position[parent] < position[node]


def test_order_of_a_leaf_is_the_leaf():
    a = Value(1.0)
    assert topological_order(a) == [a]


def test_deep_chain_walks_without_recursion():
    x = y = Value(0.0)
    for _ in range(200_000):
        y = y + 1
    order = topological_order(y)
    assert len(order) == 200_001 and order[0] is x and order[-1] is y
    assert sys.getrecursionlimit() < 200_000


def test_wide_fan_in_every_path_adds_up():
    a = Value(0.5)
    total = sum((a * k for k in range(1, 101)), Value(0.0))
    total.backward()
    assert a.grad == pytest.approx(sum(range(1, 101)))


def test_backward_skips_nothing_reachable_and_touches_nothing_else():
    a, b, unrelated = Value(2.0), Value(3.0), Value(4.0)
    side = unrelated * a  # uses a, but is not part of out's graph
    out = a * b
    out.backward()
    assert (a.grad, b.grad, unrelated.grad, side.grad) == (3.0, 2.0, 0.0, 0.0)


def test_no_grad_nests_and_restores_the_outer_state():
    with engine.no_grad():
        with engine.no_grad():
            assert not engine.is_grad_enabled()
        assert not engine.is_grad_enabled()
    assert engine.is_grad_enabled()
