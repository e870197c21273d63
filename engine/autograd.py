"""PyTorch's `torch.autograd` names: `grad`, `backward`, `gradcheck`, `functional`
(jacobian, hessian, hvp and friends, in engine/functional.py), and `Function`, an
operation whose derivative its author writes by hand, with the `ctx` it gets."""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from engine import functional  # noqa: F401  (torch.autograd.functional)
from engine.grad_mode import enable_grad, is_grad_enabled, no_grad
from engine.gradcheck import gradcheck
from engine.graph import Node, grad, run_backward
from engine.tensor import Tensor, _leaf, _node

__all__ = ["grad", "backward", "gradcheck", "functional", "Function", "FunctionCtx"]


def backward(tensors: Node | Sequence[Node], grad_tensors: Any = None,
             retain_graph: bool | None = None, create_graph: bool = False) -> None:
    """Backpropagate from several outputs at once into the leaves' `.grad`, as
    torch.autograd.backward (each output seeded with its grad_tensor, 1 by default)."""
    outputs = [tensors] if isinstance(tensors, Node) else list(tensors)
    seeds = grad_tensors if isinstance(grad_tensors, (list, tuple)) else [grad_tensors] * len(outputs)
    if len(seeds) != len(outputs):
        raise ValueError(f"backward: {len(seeds)} grad_tensors for {len(outputs)} tensors")
    run_backward(outputs, [out._seed(g, create_graph, "grad_tensors")
                           for out, g in zip(outputs, seeds)],
                 create_graph=create_graph, retain_graph=retain_graph)


class FunctionCtx:
    """What a Function's forward leaves for its backward, as PyTorch's `ctx`: the tensors
    saved with save_for_backward, which inputs need a gradient (`needs_input_grad`), and
    any attribute the forward sets on it (ctx.scale = ...)."""

    def __init__(self, needs_input_grad: tuple) -> None:
        self.needs_input_grad = needs_input_grad
        self.materialize_grads = True
        self._saved: tuple = ()
        self._versions: tuple = ()
        self._non_differentiable: set = set()

    def save_for_backward(self, *tensors: Tensor | None) -> None:
        """Keep tensors (inputs or outputs) for backward, as `ctx.saved_tensors`."""
        for i, t in enumerate(tensors):
            if t is not None and not isinstance(t, Tensor):
                raise TypeError(f"save_for_backward takes Tensors or None; argument {i} is a "
                                f"{type(t).__name__}: keep other values as attributes of ctx")
        self._saved = tensors
        self._versions = tuple(None if t is None else t._version for t in tensors)

    @property
    def saved_tensors(self) -> tuple:
        """The tensors given to save_for_backward, unchanged since (else an error)."""
        for i, (t, version) in enumerate(zip(self._saved, self._versions)):
            if t is not None and t._version != version:
                raise RuntimeError(f"saved tensor {i} of this Function was modified by an "
                                   "in-place operation after save_for_backward: its backward "
                                   "would use the wrong numbers. Change a copy instead.")
        return self._saved

    def mark_non_differentiable(self, *outputs: Tensor) -> None:
        """Outputs that get no gradient (indices, masks): they leave the graph."""
        self._non_differentiable.update(id(t) for t in outputs)

    def set_materialize_grads(self, value: bool) -> None:
        """Whether backward gets zeros (True, the default) or None for outputs that no
        gradient reached."""
        self.materialize_grads = value


class Function:
    """An operation with a derivative written by hand, as torch.autograd.Function.

    Subclass it with two static methods, `forward(ctx, *args)` and
    `backward(ctx, *grad_outputs)` (or `forward(*args)` plus `setup_context(ctx, inputs,
    output)`), and call `YourFunction.apply(*args)`. forward computes its outputs with
    recording off; backward gets one gradient per output and returns one per input (None
    for inputs that are not tensors or need none). Written with Tensor ops, backward can
    be differentiated again (create_graph=True).

    Each differentiable output is a node of the graph. With several outputs, each sends
    its gradient back by a call of backward of its own, the other gradients zero (None
    after set_materialize_grads(False)); a backward is linear in its gradients, so the
    inputs get what one call with them all would give.
    """

    setup_context = None  # PyTorch 2's form: forward(*args), then setup_context(ctx, ...)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        raise RuntimeError(f"{type(self).__name__} is used through its class: call "
                           f"{type(self).__name__}.apply(...), not an instance")

    @classmethod
    def apply(cls, *args: Any) -> Any:
        for method in ("forward", "backward"):
            if not callable(getattr(cls, method, None)):
                raise TypeError(f"{cls.__name__} must define a static method {method}: "
                                "forward(ctx, *args) and backward(ctx, *grad_outputs)")
        ctx = FunctionCtx(tuple(isinstance(a, Tensor) and a.requires_grad for a in args))
        with no_grad():
            if cls.setup_context is None:
                output = cls.forward(ctx, *args)
            else:
                output = cls.forward(*args)
                cls.setup_context(ctx, args, output)
        if not (is_grad_enabled() and any(ctx.needs_input_grad)):
            return output
        outputs = output if isinstance(output, tuple) else (output,)
        differentiable = [i for i, o in enumerate(outputs) if isinstance(o, Tensor)
                          and o.dtype.kind == "f" and id(o) not in ctx._non_differentiable]
        inputs = [a for a in args if isinstance(a, Tensor)]
        nodes = {i: _node(outputs[i]._data, cls.__name__,
                          _output_rule(cls, ctx, args, outputs, differentiable, i), *inputs)
                 for i in differentiable}
        # outputs saved for backward are the graph's nodes, so that a second derivative
        # reaches through them
        made = {id(outputs[i]): node for i, node in nodes.items()}
        ctx._saved = tuple(made.get(id(t), t) for t in ctx._saved)
        ctx._versions = tuple(None if t is None else t._version for t in ctx._saved)
        result = tuple(nodes.get(i, o) for i, o in enumerate(outputs))
        return result if isinstance(output, tuple) else result[0]


def _output_rule(cls: type, ctx: FunctionCtx, args: tuple, outputs: tuple,
                 differentiable: list, i: int) -> Any:
    """The rule of output i: backward with its gradient (the others zero or None), giving
    one gradient per tensor input, checked."""
    def rule(g: Any, out: Any, need: list, *inputs: Any) -> tuple:
        graphed = isinstance(g, Tensor)  # create_graph: the gradients are graph nodes
        grads = [None] * len(outputs)
        for j in differentiable:
            if ctx.materialize_grads:
                grads[j] = _leaf(np.zeros_like(outputs[j]._data))
        grads[i] = g if graphed else _leaf(np.array(g))  # its own: backward may change it
        with enable_grad() if graphed else no_grad():
            results = cls.backward(ctx, *grads)
        results = results if isinstance(results, tuple) else (results,)
        if len(results) < len(args) or any(r is not None for r in results[len(args):]):
            raise RuntimeError(f"{cls.__name__}.backward returned {len(results)} gradients; "
                               f"forward took {len(args)} inputs: return one for each (None "
                               "for those that need none)")
        given = []
        for k, (a, r) in enumerate(zip(args, results)):
            if not isinstance(a, Tensor):
                if r is not None:
                    raise RuntimeError(f"{cls.__name__}.backward returned a gradient for "
                                       f"input {k}, which is a {type(a).__name__}, not a "
                                       "Tensor: return None there")
                continue
            if r is not None:
                if not isinstance(r, Tensor):
                    raise TypeError(f"{cls.__name__}.backward returned a {type(r).__name__} "
                                    f"for input {k}; return a Tensor (or None)")
                try:
                    fits = np.broadcast_shapes(a.shape, r.shape) == r.shape
                except ValueError:
                    fits = False
                if not fits:
                    raise RuntimeError(f"{cls.__name__}.backward returned a gradient of shape "
                                       f"{tuple(r.shape)} for input {k} of shape "
                                       f"{tuple(a.shape)}: it must have the input's shape")
                if not graphed:  # an array of its own, unless backward made it
                    kept = any(r is t for t in (*args, *ctx._saved))
                    r = np.array(r._data) if kept else r._data
            given.append(r)
        return tuple(given)
    return rule
