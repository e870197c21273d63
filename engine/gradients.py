"""A Tensor's part in backpropagation: what the backward driver (engine/graph.py) asks of a
tensor — its rule, the in-place changes it has seen, its gradient fitted to its shape and
dtype, how a gradient is added into `.grad` — micrograd's `_backward()`, which runs one
node's rule by hand (viz.explore steps through a pass that way), and PyTorch's view of the
backward graph, `grad_fn` with its `next_functions`.

The methods below are added to Tensor (the end of the file says so).
"""
from __future__ import annotations

import functools
import math
import weakref
from typing import Any, Callable

import numpy as np

from engine import grad_mode, graph, printing
from engine.dtypes import as_array
from engine.tensor import Tensor, _leaf, _raw, add_methods


@functools.lru_cache(maxsize=64)
def _ones(n: int, dtype: np.dtype) -> np.ndarray:
    """n ones, shared by every call (read-only): sums as products with a vector of ones."""
    ones = np.ones(n, dtype)
    ones.flags.writeable = False
    return ones


def _sum_to(g: Any, shape: tuple) -> Any:
    """g (an array, or a Tensor under create_graph) summed over the dims that broadcasting
    added or stretched, back to `shape`."""
    lead = g.ndim - len(shape)
    if lead and type(g) is np.ndarray and g.dtype.kind == "f" and g.size:
        # the added dims as the rows of a matrix and one product with ones: numpy's sum
        # down the columns runs several times slower at a batch's sizes (a bias's gradient)
        kept = g.shape[lead:]
        width = math.prod(kept)
        g = _ones(g.size // width, g.dtype) @ g.reshape(-1, width)
        g = g if len(kept) == 1 else g.reshape(kept)  # (a view would be copied into .grad)
    elif lead:
        g = g.sum(axis=tuple(range(lead)))
    if g.shape == shape:
        return g
    stretched = tuple(i for i, n in enumerate(shape) if n == 1 and g.shape[i] != 1)
    return g.sum(axis=stretched, keepdims=True)


class GradFn:
    """What `t.grad_fn` shows of the op that made t, as PyTorch's: its `name()`
    ('MulBackward0') and `next_functions`, where its gradients go: a (grad_fn, 0) pair per
    operand, the grad_fn being an AccumulateGrad for a leaf that requires grad and None
    for an operand that does not."""

    __slots__ = ("_tensor",)

    def __init__(self, tensor: Tensor) -> None:
        self._tensor = tensor

    def name(self) -> str:
        t = self._tensor
        return printing.grad_fn_name(t._torch_op or t._op)

    @property
    def next_functions(self) -> tuple:
        t = self._tensor
        if t._op == "linear" and t._a is not None:
            return _linear_parts(t)
        return tuple((_next(p), 0) for p in t._prev)

    def __eq__(self, other: object) -> bool:  # a new view each time, of one node
        return type(other) is type(self) and other._tensor is self._tensor

    def __hash__(self) -> int:
        return id(self._tensor)

    def __repr__(self) -> str:
        return f"<{self.name()} object at {id(self._tensor):#x}>"


class AccumulateGrad(GradFn):
    """Where a leaf that requires grad takes its gradient into `.grad` (`variable`)."""

    def name(self) -> str:
        return "torch::autograd::AccumulateGrad"

    @property
    def variable(self) -> Tensor:
        return self._tensor

    @property
    def next_functions(self) -> tuple:
        return ()

    def __repr__(self) -> str:
        return f"<AccumulateGrad object at {id(self._tensor):#x}>"


class _Part:
    """A backward node of PyTorch's that ours folds into one: F.linear is one node here,
    and in PyTorch an addmm (mm without a bias) of the input's rows and the weight's
    transpose, TBackward0, inside a view back to the input's dims when they are not 2."""

    __slots__ = ("_name", "next_functions")

    def __init__(self, name: str, next_functions: tuple) -> None:
        self._name, self.next_functions = name, next_functions

    def name(self) -> str:
        return self._name

    def __repr__(self) -> str:
        return f"<{self._name} object at {id(self):#x}>"


def _linear_parts(t: Tensor) -> tuple:
    """F.linear's next_functions as PyTorch's: addmm's operands come bias first, and an
    input of other dims than 2 is viewed as rows first."""
    x, w, *bias = t._prev
    rows = _next(x)
    if rows is not None and x._data.ndim != 2:
        view = "UnsqueezeBackward0" if x._data.ndim == 1 and not bias else "ViewBackward0"
        rows = _Part(view, ((rows, 0),))
    operands = ((rows, 0), (_Part("TBackward0", ((_next(w), 0),)), 0))
    if bias:
        operands = ((_next(bias[0]), 0), *operands)
    if x._data.ndim == 2:
        return operands
    return ((_Part("AddmmBackward0" if bias else "MmBackward0", operands), 0),)


def _next(operand: Tensor) -> GradFn | None:
    if operand._rule is not None:
        return GradFn(operand)
    return AccumulateGrad(operand) if operand.requires_grad else None


def _as_of(t: Tensor, tick: float) -> Tensor:
    """t as it was at `tick`: the node it stood for before each later change in the graph
    (see engine/inplace.py's `_take`; one held weakly is gone once a backward pass has
    released the graph that read it)."""
    while t._remade > tick:
        t = t._before() if type(t._before) is weakref.ref else t._before
        if t is None:
            graph._released()
    return t


class _Gradients:
    """Tensor's methods for the backward driver."""

    @property
    def grad_fn(self) -> GradFn | None:
        """The op that made this tensor, as a node of the backward graph (None for a leaf)."""
        return None if self._rule is None else GradFn(self)

    def _relink(self) -> None:
        """Link this node to its parents as they were when it was made, where a parent has
        since changed in place in the graph (graph.remade()): the gradient goes where the
        numbers this node read came from. A parent whose numbers its rule reads is kept: if
        it changed, the version check refuses the node, as PyTorch's refuses it."""
        reads = 0 if self._vsum is None else self._reads
        seen = self._seen
        if not reads & 2:
            self._a = _as_of(self._a, seen)
        if self._b is not None:
            if not reads & 4:
                self._b = _as_of(self._b, seen)
            self._more = tuple(p if reads >> i & 1 else _as_of(p, seen)
                               for i, p in enumerate(self._more, 3))

    def _vjp(self) -> Callable:
        return self._rule

    def _versions(self) -> int:
        """The in-place changes so far of this tensor and its inputs, those its rule reads
        (see _vsum and engine/tensor.py's _saves)."""
        reads = self._reads  # (bit i for (self, _a, _b, *_more)[i])
        if reads == -1:  # all of them, the common case
            total = self._version + self._a._version
            if self._b is not None:
                total += self._b._version
                for p in self._more:
                    total += p._version
            return total
        total = self._version if reads & 1 else 0
        if reads & 2:
            total += self._a._version
        if reads & 4 and self._b is not None:
            total += self._b._version
        for i, p in enumerate(self._more, 3):
            if reads >> i & 1:
                total += p._version
        return total

    def _modified_in_place(self) -> None:
        raise RuntimeError(
            f"one of the tensors needed to compute the gradient of a {self._op!r} node has been "
            "modified by an in-place operation since: its rule would give a wrong gradient. "
            "Change a copy instead (x = x.clone() before the in-place op, or x = x + 1 "
            "rather than x += 1).")

    def _fit(self, g: Any) -> Any:
        """g summed back to this tensor's shape and cast to its dtype."""
        data = self._data
        if g.shape != data.shape:
            g = _sum_to(g, data.shape)
            if g.shape != data.shape:  # not a broadcast: the tensor's shape changed in place
                raise RuntimeError(
                    f"a gradient of shape {tuple(g.shape)} reached a tensor of shape "
                    f"{data.shape}: the tensor's shape was changed in place (t_(), squeeze_(), "
                    "resize_(), ...) after it was used; change the shape of a copy instead")
        if g.dtype != data.dtype:
            g = g._cast(data.dtype) if isinstance(g, Tensor) else np.asarray(g).astype(data.dtype)
        return g

    def _accumulate(self, g: Any, handed: set, retained: bool = False) -> None:
        """Add this call's gradient g into `.grad` (the caller holds graph._leaf_lock).

        g is given as it is when nothing else holds it, otherwise copied: so every `.grad`
        is an array of its own, which the user may change in place. A rule can pass one
        array on twice (a + b gives g to both) or a view of it; `handed` has the ids of the
        arrays already given to a node in this pass.
        """
        if isinstance(g, Tensor):  # create_graph: the gradient is a graph node; a copy in
            # the graph, as PyTorch's, so no two .grads are one tensor
            self._grad = g.clone() if self._grad is None else self._grad + g
            return
        if retained or type(g) is not np.ndarray or g.base is not None or id(g) in handed or (
                not g.flags.writeable):
            g = np.array(g)
        handed.add(id(g))
        old = self._grad
        if old is None:
            self._grad = _leaf(g)
        elif old.requires_grad:  # an earlier create_graph pass made it a node
            self._grad = old + _leaf(g)
        else:
            old._data = old._data + g

    def register_hook(self, hook: Callable[[Tensor], Tensor | None]) -> Any:
        """Call hook(grad) whenever a backward pass has this tensor's whole gradient, before
        it goes on to the tensor's inputs (or, for a leaf, into `.grad`); a Tensor the hook
        returns replaces the gradient. Returns a handle whose remove() takes the hook out."""
        # here, not at the top: engine.utils loads the data pipeline, which needs the Tensor
        from engine.utils import hooks
        if not self.requires_grad:
            raise RuntimeError("register_hook on a tensor that does not require grad: no "
                               "gradient will ever reach it")
        if "_hooks" not in self.__dict__:
            self._hooks = {}
        return hooks.add(self._hooks, hook, "register_hook")

    def _hooked(self, g: Any, create_graph: bool) -> Any:
        """g after this tensor's hooks, each given the gradient as a Tensor of its own."""
        for hook in list(self._hooks.values()):
            given = g if isinstance(g, Tensor) else _leaf(np.array(g))
            result = hook(given)
            if result is None:
                continue
            if not isinstance(result, Tensor) or result.shape != given.shape:
                raise RuntimeError(f"a hook of a tensor of shape {tuple(self.shape)} returned "
                                   f"{result!r:.60}; it must return None or a gradient of "
                                   "that shape")
            g = result if create_graph else result._data
        return g

    def _seed(self, gradient: Any, create_graph: bool, what: str) -> Any:
        """The gradient a backward pass starts from at this tensor: 1 for a one-entry
        tensor, else `gradient`, which must have this tensor's shape."""
        if gradient is None:
            if self._data.size != 1:
                raise RuntimeError(f"{what} can be left out only for a one-entry output; this "
                                   f"one has shape {self._data.shape}: reduce it first (e.g. "
                                   ".sum()) or pass a gradient of that shape")
            seed = np.array(1, self._data.dtype).reshape(self._data.shape)  # (np.ones: 5x slower)
        else:
            seed = np.array(as_array(_raw(gradient), self._data.dtype, what))
            if seed.shape != self._data.shape:
                raise ValueError(f"{what} has shape {seed.shape}, but the tensor it is the "
                                 f"gradient of has shape {self._data.shape}")
        if create_graph:  # a gradient that is a graph node stays one (functional.jvp's trick)
            return gradient._cast(seed.dtype) if isinstance(gradient, Tensor) else _leaf(seed)
        return seed

    def _grad_value(self, g: Any, create_graph: bool, handed: set) -> Tensor:
        """What engine.grad returns for this input: g as a Tensor of its own (a rule may give
        a broadcast view, or one array to two inputs), zeros where g is 0 (see run_backward)."""
        if isinstance(g, Tensor):
            return g
        if type(g) is int:
            return _leaf(np.zeros(self._data.shape, self._data.dtype))
        if type(g) is not np.ndarray or g.base is not None or not g.flags.writeable or (
                id(g) in handed):
            g = np.array(g)
        handed.add(id(g))
        return _leaf(g)

    @property
    def _backward(self) -> Callable[[], None]:
        """micrograd's `node._backward()`: send this node's `.grad` to its parents' `.grad`,
        once, to step through backprop by hand (a leaf's does nothing)."""
        if self._a is None or self._rule is graph._released:
            return graph._nothing
        return lambda: _apply_rule(self)


def _apply_rule(node: Tensor) -> None:
    """One node's rule run by hand (micrograd's `_backward()`), grads kept on the nodes."""
    if node._grad is None:
        return
    parents = node._prev
    with grad_mode.no_grad():
        results = node._rule(node._grad._data, node._data, [p.requires_grad for p in parents],
                             *[p._data for p in parents])
        for p, r in zip(parents, results):
            if r is not None and p.requires_grad:
                r = p._fit(r)
                p._grad = _leaf(np.array(r)) if p._grad is None else _leaf(p._grad._data + r)


add_methods(Tensor, _Gradients)
