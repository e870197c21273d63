"""A Module's backward hooks, as PyTorch's register_full_backward_hook and
register_full_backward_pre_hook: hook(module, grad_input, grad_output) once the gradients of
the module's inputs are known, and pre_hook(module, grad_output) once those of its outputs
are (Grad-CAM reads a layer's output gradients this way; guided backprop changes them).

PyTorch runs a module's inputs through one autograd node, and its outputs through another,
so that a hook sees every gradient at once. Here graph ops do the same: the tensors are
flattened and joined into one (`cat`), and the module gets back pieces of it, so a tensor
hook on the joined tensor sees all their gradients in one call, and what it returns
replaces them all.
"""
from __future__ import annotations

import warnings
from typing import Any, Callable, Sequence

from engine.grad_mode import is_grad_enabled
from engine.shapes import cat
from engine.tensor import Tensor

Grads = tuple  # one gradient (or None) per position


def _gated(tensors: Sequence[Tensor], on_grads: Callable[[list], list]) -> list[Tensor]:
    """The tensors (each requiring grad) passed through one node: on_grads(their gradients,
    None for those the backward pass did not reach) is called once the pass has them all,
    and returns what they become (None: zeros)."""
    joined = cat([t.reshape(-1) for t in tensors])
    ends = [0]
    for t in tensors:
        ends.append(ends[-1] + t.numel())

    def pieces(x: Tensor) -> list[Tensor]:
        return [x[a:b].reshape(t.shape).to(t.dtype) for a, b, t in zip(ends, ends[1:], tensors)]

    reached: set = set()  # the pieces whose gradient this pass has met

    def hook(g: Tensor) -> Tensor:
        parts = pieces(g)
        grads = [p if k in reached else None for k, p in enumerate(parts)]
        reached.clear()
        given = on_grads(grads)
        return cat([(p * 0 if c is None else c).reshape(-1).to(g.dtype)
                    for c, p in zip(given, parts)])
    joined.register_hook(hook)
    out = pieces(joined)
    for k, piece in enumerate(out):
        piece.register_hook(lambda g, k=k: reached.add(k))
    return out


def _positions(values: Sequence[Any]) -> list[int]:
    """Where the tensors that take part in the graph are."""
    return [i for i, v in enumerate(values) if isinstance(v, Tensor) and v.requires_grad]


def _replaced(changed: Any, given: Grads, who: str, what: str) -> Grads:
    """A hook's replacement for `given`: one gradient per position, each of its shape (None:
    zeros flow there, where PyTorch's send nothing, so a leaf's .grad is 0, not None)."""
    changed = tuple(changed) if isinstance(changed, (tuple, list)) else (changed,)
    if len(changed) != len(given):
        raise RuntimeError(f"{who} returned {len(changed)} gradients for {what}, which has "
                           f"{len(given)}: return a tuple of one per position")
    for new, old in zip(changed, given):
        if new is not None and (old is None or tuple(new.shape) != tuple(old.shape)):
            raise RuntimeError(f"{who} returned a gradient of shape {tuple(new.shape)} for "
                               f"{what} of shape {None if old is None else tuple(old.shape)}")
    return changed


class BackwardHooks:
    """One call of a module with backward hooks: gate its positional tensor inputs
    (`inputs`) before forward and its tensor outputs (`outputs`) after it."""

    def __init__(self, module: Any, hooks: dict, pre_hooks: dict) -> None:
        self.module, self.hooks, self.pre_hooks = module, hooks, pre_hooks
        self.grad_output: Grads = ()
        self.taking: list[int] = []  # the positions of the inputs that take a gradient
        self.count = 0  # how many positional inputs

    def inputs(self, args: tuple) -> tuple:
        self.count = len(args)
        self.taking = _positions(args) if is_grad_enabled() else []
        if not self.taking:
            return args

        def on_grads(grads: list) -> list:
            grad_input = [None] * self.count
            for i, g in zip(self.taking, grads):
                grad_input[i] = g
            grad_input = self._call_hooks(tuple(grad_input))
            return [grad_input[i] for i in self.taking]
        args = list(args)
        for i, piece in zip(self.taking, _gated([args[i] for i in self.taking], on_grads)):
            args[i] = piece
        return tuple(args)

    def outputs(self, output: Any) -> Any:
        single = isinstance(output, Tensor)
        outputs = (output,) if single else tuple(output) if isinstance(
            output, (tuple, list)) else ()
        taking = _positions(outputs) if is_grad_enabled() else []
        if not taking:
            return output

        def on_grads(grads: list) -> list:
            grad_output = [None] * len(outputs)
            for i, g in zip(taking, grads):
                grad_output[i] = g
            grad_output = tuple(grad_output)
            for hook in list(self.pre_hooks.values()):
                changed = hook(self.module, grad_output)
                if changed is not None:
                    grad_output = _replaced(changed, grad_output, "a backward pre-hook",
                                            "grad_output")
            self.grad_output = grad_output
            if not self.taking and self.hooks:  # no input takes a gradient: now, as PyTorch
                warnings.warn("Full backward hook is firing when gradients are computed with "
                              "respect to module outputs since no inputs require gradients "
                              "(as in PyTorch): grad_input is all None", UserWarning,
                              stacklevel=2)
                self._call_hooks((None,) * self.count)
            return [grad_output[i] for i in taking]
        gated = list(outputs)
        for i, piece in zip(taking, _gated([outputs[i] for i in taking], on_grads)):
            gated[i] = piece
        return gated[0] if single else type(output)(gated)

    def _call_hooks(self, grad_input: Grads) -> Grads:
        for hook in list(self.hooks.values()):
            changed = hook(self.module, grad_input, self.grad_output)
            if changed is not None:
                grad_input = _replaced(changed, grad_input, "a backward hook", "grad_input")
        return grad_input
