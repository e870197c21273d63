"""torch.nn.utils' parameters_to_vector and vector_to_parameters: a model's parameters as
one flat vector and back (for evolution strategies, line searches, second-order methods).
"""
from __future__ import annotations

from typing import Iterable

from engine.shapes import cat
from engine.tensor import Tensor


def _tensors(parameters: Iterable[Tensor], what: str) -> list[Tensor]:
    params = [parameters] if isinstance(parameters, Tensor) else list(parameters)
    for i, p in enumerate(params):
        if not isinstance(p, Tensor):
            raise TypeError(f"{what} takes Tensors (model.parameters()); parameter {i} is a "
                            f"{type(p).__name__}")
    return params


def parameters_to_vector(parameters: Iterable[Tensor]) -> Tensor:
    """The parameters flattened and joined into one vector, in the graph (d p = the slice
    of g at p's place)."""
    return cat([p.reshape(-1) for p in _tensors(parameters, "parameters_to_vector")])


def vector_to_parameters(vec: Tensor, parameters: Iterable[Tensor]) -> None:
    """Copy consecutive slices of vec into the parameters' `.data`, each reshaped to its
    parameter's shape (shared with vec, as PyTorch's views are); nothing is recorded."""
    if not isinstance(vec, Tensor):
        raise TypeError(f"expected a Tensor, but got: {type(vec).__name__}")
    params = _tensors(parameters, "vector_to_parameters")
    needed = sum(p.numel() for p in params)
    if vec.ndim != 1 or vec.numel() != needed:
        raise ValueError(f"vector_to_parameters: the parameters hold {needed} entries, so vec "
                         f"must be 1-D of that length; got shape {tuple(vec.shape)}")
    start = 0
    for p in params:
        p.data = vec[start:start + p.numel()].view_as(p).data
        start += p.numel()
