"""The graph core shared by Value and Tensor: the node protocol, topological order, and the
backward driver.

A node holds `data` (a Value's float; a Tensor keeps its array in `_data`), `grad`, a
`label`, the short name of the op that made it (`_op`, '' for leaves), its parents and its
backward rule:

- parents sit in two slots, `_a` and `_b` (None when absent), and, for a Tensor op with
  more operands than two, `_more` (a tuple; empty everywhere else). `_prev` gives them
  all as one tuple. A node without parents is a leaf.
- `_rule` is the op's backward rule, written beside its op and shared by every node that
  op makes (None for leaves). A rule in the common form is a vector-Jacobian product,
  `rule(g, out, need, *inputs) -> one gradient per input (None where not needed)`: given
  g = d(root)/d(out), the op's output and inputs, it returns d(root)/d(input) for each
  input whose `need` is True. A Value's fast rule works in place instead, micrograd's way
  (see engine/value.py), and carries this form beside it as `rule.vjp`.

Why not one tuple of parents and a fresh closure per node, as micrograd does: each is one
more object for Python's cyclic garbage collector to track and scan again and again while
the graph grows, and on scalar graphs of a hundred thousand nodes those scans cost more
than the arithmetic. A Value node here is one tracked object.

Two drivers share one walk:
- micrograd's, for `Value.backward()`: every node's `.grad` is filled in place, interior
  nodes included, as micrograd's users expect to read them.
- the general one, for Tensors, `engine.grad()` and `create_graph=True`: gradients travel
  in a dictionary that belongs to the call, so concurrent calls never see each other's
  bookkeeping; leaves accumulate into `.grad` under a lock, so threads that backpropagate
  into one shared weight lose nothing. Under `create_graph=True` the rules run on the
  nodes themselves with recording on, so the gradients are graph nodes too and can be
  differentiated again (the backward pass is itself a computation graph).

How an op's derivative is written so that it can be differentiated again (the one rule
for this mode): a rule computes its gradients with differentiable operations only, and
never reaches past a node into its numbers. Under create_graph it receives nodes, and
everything it does to them is recorded, so what it returns is the gradient as a graph.
- A Tensor rule is ONE function for both passes (engine/tensor.py says which operations
  and helpers arrays and Tensors share): there is no second copy of a derivative, so the
  first and the second derivative cannot drift apart.
- A Value op has two forms: the fast in-place rule that `backward()` runs, and its `vjp`,
  which engine.grad and create_graph run. tests/test_higher_order.py compares the two on
  every op-table row and on random programs, and shows a planted drift being caught.
Constants a rule branches on (a mask, a sign, whether an exponent is 0) are read from
the numbers; their derivative is 0 where they are constant, as in PyTorch.

The walk uses an explicit stack, so graph depth is limited by memory, not by Python's
recursion limit.
"""
from __future__ import annotations

import contextlib
import itertools
import math
import operator
import threading
from typing import Any, Iterable, Sequence

from engine.grad_mode import enable_grad


class Node:
    """What Value and Tensor share: parents, `zero_grad()`."""

    __slots__ = ()
    requires_grad = True  # Tensor overrides it per tensor; every Value takes part in the graph
    _GRAD_ZERO: Any = 0.0  # what a node's grad is reset to: 0.0 for Value, None for Tensor
    _vsum = None  # Tensor: the versions its op saw (see Tensor); Values are never changed in place
    _seen = math.inf  # Tensor: `last_change` when it was made (see changed() and remade())
    _releasable = False  # whether a backward pass frees the graph behind it (Tensor: as PyTorch)
    _hooks: Any = ()  # Tensor.register_hook's: a dict of the tensor's own once it has one
    _rule_is_vjp = False  # Tensor: its rule is the vjp; a Value carries it as rule.vjp
    # the floating-point mode a backward pass runs in (Tensor: no numpy warnings at inf and nan)
    _arithmetic = staticmethod(contextlib.nullcontext)

    @property
    def _prev(self) -> tuple:
        """The parent nodes, in operand order (empty for a leaf)."""
        a = self._a
        if a is None:
            return ()
        if self._seen < last_remake:
            self._relink()
            a = self._a
        b = self._b
        return (a,) if b is None else (a, b, *self._more)

    def zero_grad(self) -> None:
        """Reset this node's gradient (0.0 for a Value, None for a Tensor)."""
        self.grad = self._GRAD_ZERO


def _nothing() -> None:
    """A leaf's `_backward()`: it has no parents to send a gradient to."""


def _released(*args: Any) -> None:
    """The rule of a node whose graph a backward pass has let go of."""
    raise RuntimeError(
        "Trying to backward through the graph a second time: backward() releases the graph "
        "it ran through, as in PyTorch. Pass retain_graph=True to the first backward() (or "
        "to engine.grad()) to keep it, or build the graph again.")


# --- in-place changes: when the last one happened ---

_ticks = itertools.count(1)  # (next() on it is one step under the GIL: no tick is lost or reused)
last_change = 0  # the tick of the latest in-place change of any tensor
last_remake = -1  # the tick of the latest change in the graph (see remade())


def changed() -> None:
    """Note that some tensor's numbers changed in place (engine/inplace.py calls it). A
    backward pass compares a node's versions with those its op saw only if a change came
    after it saw them (`_seen`): most passes follow a forward pass that changed nothing."""
    global last_change
    last_change = next(_ticks)


def remade() -> int:
    """Note that a tensor changed in place in the graph: the same object now stands for a new
    node (`p.mul_(3)`: MulBackward), while nodes made earlier still link the object. Each
    walk relinks such a node to its parents as they were when it was made (Tensor's
    `_relink`), as PyTorch's graph links ops, not tensors. Returns the change's tick."""
    global last_remake
    last_remake = last_change
    return last_change


# --- the walk every backward pass makes ---

def _order(roots: Iterable[Node]) -> list:
    """The nodes with parents that `roots` depend on, roots included, each after its parents.

    Leaves are left out: a backward pass has nothing to do at them. The set of nodes seen
    belongs to this call only.
    """
    order: list = []
    seen: set = set()
    add = seen.add
    for root in roots:
        if root._a is None or root in seen:
            continue
        add(root)
        if root._seen < last_remake:  # (Values are never changed in place: _seen is inf)
            root._relink()
        stack = [root]
        while stack:
            node = stack[-1]  # it stays on the stack until every parent is placed
            nxt = node._a
            if nxt._a is None or nxt in seen:  # a leaf, or placed already: the next parent
                nxt = node._b
                if nxt is not None and (nxt._a is None or nxt in seen):
                    nxt = next((p for p in node._more if p._a is not None and p not in seen),
                               None) if node._more else None
            if nxt is not None:
                add(nxt)
                if nxt._seen < last_remake:  # before its parents are looked at
                    nxt._relink()
                stack.append(nxt)
                continue
            stack.pop()
            order.append(node)
    return order


def topological_order(root: Node) -> list:
    """Every node that `root` depends on, each after its parents, `root` last.

    The leaves come first, in the order they are met.
    """
    order = _order([root])
    if not order:
        return [root]
    leaves = {p: None for node in order for p in node._prev if p._a is None}
    return [*leaves, *order]


# --- micrograd's driver: every node's .grad, filled in place ---

_REACHED = object()  # stands in for the grad of a Value the marking walk has reached


def _marking_order(root: Node) -> list:
    """_order for micrograd's driver: the same walk, but a node counts as reached when its
    grad is _REACHED rather than when a set holds it. The driver resets those grads anyway
    and runs one pass at a time, and on a scalar graph of a hundred thousand nodes this is
    a good third quicker than a set. (Values have at most two parents.)"""
    order: list = []
    stack = [root]
    root.grad = _REACHED
    try:
        while stack:
            node = stack[-1]
            nxt = node._a
            if nxt._a is None or nxt.grad is _REACHED:
                nxt = node._b
                if nxt is not None and (nxt._a is None or nxt.grad is _REACHED):
                    nxt = None
            if nxt is not None:
                nxt.grad = _REACHED
                stack.append(nxt)
                continue
            stack.pop()
            order.append(node)
    except BaseException:  # e.g. Ctrl-C: leave no node holding the marker
        for node in order + stack:
            node.grad = node._GRAD_ZERO
        raise
    return order


_values_lock = threading.RLock()  # interior Value grads live on the nodes: one pass at a time


def backward_in_place(root: Node, seed: Any) -> None:
    """Backpropagate `seed` from `root`, each rule adding into its parents' `.grad`.

    Interior nodes start from zero, so each call computes their gradients afresh; leaves
    keep what they had, so their gradients accumulate across calls as in PyTorch. A rule
    runs only after every child of its node has added into the node's grad. Passes over
    Values are serialised: their interior gradients live on the shared nodes.
    """
    with _values_lock:
        if root._a is None:  # a leaf: d root / d root
            root.grad += seed
            return
        order = _marking_order(root)
        zero = root._GRAD_ZERO
        for node in order:
            node.grad = zero
        root.grad = seed
        for node in reversed(order):
            node._rule(node)


# --- the general driver: gradients in a dictionary of the call's own ---

_leaf_lock = threading.Lock()  # a leaf's .grad: read, add, write back, as one step
_NEEDS = {True: (True,), False: (False,)}  # `need` for a node with one parent
_as_is = contextlib.nullcontext()
_requires_grad = operator.attrgetter("requires_grad")


def run_backward(roots: Sequence[Node], seeds: Sequence[Any], *, create_graph: bool = False,
                 retain_graph: bool | None = None,
                 inputs: Sequence[Node] | None = None) -> dict | None:
    """Backpropagate each seed from its root through everything the roots depend on.

    Without `inputs`, leaves that require grad accumulate into `.grad` (as do nodes that
    asked to `retain_grad()`); with `inputs`, nothing is written and the gradient of each
    input is returned in a dict, as `engine.grad` does. `create_graph=True` runs the
    rules on the nodes with recording on, so every gradient is itself a graph node.
    Unless `retain_graph` (by default `create_graph`), each Tensor node lets go of its
    parents once its rule has run, so the activations it held can be freed, as in PyTorch
    (a Value graph is micrograd's: it stays as built).
    """
    release = create_graph if retain_graph is None else retain_graph
    release = not release
    captured: dict | None = None if inputs is None else {node: None for node in inputs}
    handed: set = set()  # ids of gradient arrays given to nodes in this call (see Tensor)
    # the gradient reaching each node so far; once every node with parents has run its
    # rule, what is left are the leaves' gradients, summed over all their uses
    grads: dict = {}
    for root, seed in zip(roots, seeds):
        grads[root] = grads[root] + seed if root in grads else seed
    order = _order(roots)
    pop = grads.pop
    # a normal pass hands the rules arrays, so they make no nodes and need no grad mode
    with (enable_grad() if create_graph else _as_is,
          type(roots[0])._arithmetic() if roots else _as_is):
        for node in reversed(order):
            g = pop(node, None)
            if g is None:  # no root's gradient reaches it
                continue
            if node._hooks:
                g = node._hooked(g, create_graph)
            if node._seen != last_change and node._vsum is not None and (
                    node._vsum != node._versions()):
                node._modified_in_place()
            if captured is not None:
                if node in captured:
                    captured[node] = g
            elif node._retains:
                with _leaf_lock:
                    node._accumulate(g, handed, retained=True)
            a, b = node._a, node._b
            vjp = node._rule if node._rule_is_vjp else node._vjp()
            if b is None:  # one parent, the common case, spelt out
                parents, need = (a,), _NEEDS[a.requires_grad]
                results = vjp(g, node, need, a) if create_graph else vjp(
                    g, node._raw(node), need, a._raw(a))
            else:
                parents = (a, b, *node._more)
                need = [*map(_requires_grad, parents)]  # (map: no function object per node,
                if create_graph:  # as a comprehension makes)
                    results = vjp(g, node, need, *parents)
                else:
                    raw = node._raw
                    results = vjp(g, raw(node), need, *map(raw, parents))
            for p, r, needed in zip(parents, results, need):
                if r is None or not needed:
                    if captured is not None and captured.get(p, 0) is None:
                        captured[p] = 0  # reached, but its gradient is zero: used all the same
                    continue
                r = p._fit(r)
                grads[p] = grads[p] + r if p in grads else r
            if release and node._releasable:
                node._rule = _released
                node._a = node._b = None
                node._more = ()
    for leaf in grads:
        if leaf._rule is _released:  # an interior node of a graph already backpropagated
            _released()
        if leaf._hooks:
            grads[leaf] = leaf._hooked(grads[leaf], create_graph)
    if captured is not None:
        for leaf, g in grads.items():
            if leaf in captured:
                captured[leaf] = g
        return captured
    with _leaf_lock:
        for leaf, g in grads.items():
            leaf._accumulate(g, handed)
    return None


def grad(outputs: Node | Sequence[Node], inputs: Node | Sequence[Node],
         grad_outputs: Any = None, retain_graph: bool | None = None,
         create_graph: bool = False, allow_unused: bool = False) -> tuple:
    """d(outputs)/d(inputs) as a tuple, one per input, without touching any `.grad`, as
    `torch.autograd.grad`.

    `grad_outputs` seeds each output (a one-entry output defaults to 1); the gradient of
    several outputs is the sum of theirs. With `create_graph=True` the gradients are graph
    nodes that can be differentiated again. An input the outputs do not depend on raises
    unless `allow_unused=True`, which gives None for it.
    """
    outputs = [outputs] if isinstance(outputs, Node) else list(outputs)
    single = isinstance(inputs, Node)
    inputs = [inputs] if single else list(inputs)
    for name, nodes in (("outputs", outputs), ("inputs", inputs)):
        if not nodes or not all(isinstance(n, Node) for n in nodes):
            raise TypeError(f"grad() takes {name} as a Value or Tensor, or a non-empty sequence "
                            f"of them; got {nodes!r:.80}")
    for i, x in enumerate(inputs):
        if not x.requires_grad:
            raise RuntimeError(f"grad(): input {i} does not require grad, so no gradient can "
                               "be computed for it; make it with requires_grad=True")
    if grad_outputs is None or isinstance(grad_outputs, Node) or not isinstance(
            grad_outputs, (list, tuple)):
        grad_outputs = [grad_outputs] * len(outputs) if grad_outputs is None else [grad_outputs]
    if len(grad_outputs) != len(outputs):
        raise ValueError(f"grad(): {len(grad_outputs)} grad_outputs for {len(outputs)} outputs")
    seeds = [out._seed(g, create_graph, "grad_outputs") for out, g in zip(outputs, grad_outputs)]
    for i, out in enumerate(outputs):
        if not out.requires_grad:
            raise RuntimeError(f"grad(): output {i} does not require grad: no graph was "
                               "recorded for it")
    captured = run_backward(outputs, seeds, create_graph=create_graph,
                            retain_graph=retain_graph, inputs=inputs)
    result = []
    handed: set = set()  # ids of the arrays returned so far: each input gets one of its own
    for i, x in enumerate(inputs):
        g = captured[x]
        if g is None and not allow_unused:
            raise RuntimeError(f"grad(): input {i} was not used to compute the outputs; pass "
                               "allow_unused=True to get None for it")
        result.append(g if g is None else x._grad_value(g, create_graph, handed))
    return tuple(result)
