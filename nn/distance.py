"""The distance between pairs of vectors, as torch.nn's: pairwise_distance (re-exported by
nn.functional) and the PairwiseDistance module. (Cosine similarity, its angular cousin,
lives with the normalisations in nn/normalization.py.)

pairwise_distance is the p-norm of x1 - x2 + eps along the last dim, a composite of engine
ops: eps keeps the norm away from 0, where its gradient is undefined.
"""
from __future__ import annotations

from typing import Any

from engine.tensor import Tensor, _as_tensor, _called, _operands
from nn.module import Module


def pairwise_distance(x1: Any, x2: Any, p: float = 2.0, eps: float = 1e-6,
                      keepdim: bool = False) -> Tensor:
    """||x1 - x2 + eps||_p along the last dim (x1 and x2 broadcast), as PyTorch's."""
    a, b = _operands("pairwise_distance", x1, x2, floating=True)
    try:
        difference = a - b + eps
    except ValueError:
        raise ValueError(f"pairwise_distance: x1 of shape {tuple(a.shape)} and x2 of shape "
                         f"{tuple(b.shape)} do not broadcast to one shape") from None
    dim = max(a.ndim, b.ndim) - 1 if max(a.ndim, b.ndim) else -1
    return _called(difference.norm(p, dim, keepdim), "pairwise_distance")


class PairwiseDistance(Module):
    """pairwise_distance(x1, x2, p, eps, keepdim): the p-norm of x1 - x2 + eps along the
    last dim."""

    def __init__(self, p: float = 2.0, eps: float = 1e-6, keepdim: bool = False) -> None:
        self.norm, self.eps, self.keepdim = p, eps, keepdim

    def forward(self, x1: Any, x2: Any) -> Tensor:
        return pairwise_distance(_as_tensor(x1), _as_tensor(x2), self.norm, self.eps,
                                 self.keepdim)
