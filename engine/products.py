"""Matrix products by PyTorch's names: mm, bmm, mv, dot, outer and addmm.

Each checks the dims PyTorch's version takes (where `@` would broadcast, these refuse) and
is then made of `@`, `*` and sums, so none needs derivative code of its own.
"""
from __future__ import annotations

from typing import Any

from engine.tensor import Tensor, _as_tensor


def _check(op: str, *operands: tuple[Any, int]) -> list[Tensor]:
    """The operands as Tensors, each with the number of dims `op` takes, or a ValueError."""
    tensors = [_as_tensor(x) for x, _ in operands]
    if any(t.ndim != ndim for t, (_, ndim) in zip(tensors, operands)):
        wanted = " and ".join(f"{ndim}-D" for _, ndim in operands)
        got = " and ".join(str(tuple(t.shape)) for t in tensors)
        raise ValueError(f"{op} takes {wanted} tensors, got shapes {got}")
    return tensors


def mm(input: Tensor, mat2: Tensor) -> Tensor:
    """The product of two matrices, (n, m) @ (m, p)."""
    a, b = _check("mm", (input, 2), (mat2, 2))
    return a @ b


def bmm(input: Tensor, mat2: Tensor) -> Tensor:
    """A batch of matrix products, (b, n, m) @ (b, m, p), the batch sizes equal."""
    a, b = _check("bmm", (input, 3), (mat2, 3))
    if a.shape[0] != b.shape[0]:
        raise ValueError(f"bmm: batch sizes {a.shape[0]} and {b.shape[0]} differ")
    return a @ b


def mv(input: Tensor, vec: Tensor) -> Tensor:
    """A matrix times a vector, (n, m) @ (m,)."""
    a, v = _check("mv", (input, 2), (vec, 1))
    return (a @ v.unsqueeze(1)).squeeze(1)  # a matrix product: @'s rule in its 2-D form


def dot(input: Tensor, other: Tensor) -> Tensor:
    """The sum of the products of two vectors of one length."""
    a, b = _check("dot", (input, 1), (other, 1))
    if a.shape[0] != b.shape[0]:
        raise ValueError(f"dot: vectors of lengths {a.shape[0]} and {b.shape[0]}")
    return (a * b).sum()


def outer(input: Tensor, vec2: Tensor) -> Tensor:
    """Every product of an entry of one vector with an entry of the other, (n, m)."""
    a, b = _check("outer", (input, 1), (vec2, 1))
    return a.unsqueeze(1) * b


def addmm(input: Tensor, mat1: Tensor, mat2: Tensor, *, beta: float = 1,
          alpha: float = 1) -> Tensor:
    """beta * input + alpha * (mat1 @ mat2), input broadcast to the product's shape."""
    product = mm(mat1, mat2)
    return (input if beta == 1 else beta * input) + (product if alpha == 1 else alpha * product)


for _op in (mm, bmm, mv, dot, outer, addmm):
    setattr(Tensor, _op.__name__, _op)
Tensor.ger = outer
__all__ = ["mm", "bmm", "mv", "dot", "outer", "addmm"]
