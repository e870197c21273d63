"""PyTorch's `torch.autograd` names: `grad`, `backward`, and `functional` (jacobian,
hessian, hvp and friends, in engine/functional.py)."""
from __future__ import annotations

from typing import Any, Sequence

from engine import functional  # noqa: F401  (torch.autograd.functional)
from engine.graph import Node, grad, run_backward

__all__ = ["grad", "backward", "functional"]


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
