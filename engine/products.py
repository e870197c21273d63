"""Products by PyTorch's names: mm, bmm, mv, dot, outer, addmm, and einsum.

The matrix products check the dims PyTorch's version takes (where `@` would broadcast,
these refuse) and are then made of `@`, `*` and sums, so they need no derivative code of
their own. einsum is a primitive: its rule is einsum again (each operand's gradient is g
contracted with the other operands onto that operand's subscripts).
"""
from __future__ import annotations

import string
from typing import Any

import numpy as np

from engine.tensor import Tensor, _as_tensor, _expand, _node, _operands


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
    """beta * input + alpha * (mat1 @ mat2), input broadcast to the product's shape (and
    left out at beta = 0, nan and inf in it too, as PyTorch)."""
    from engine.math_more import _plus  # (math_more imports this module)
    return _plus(input, beta, mm(mat1, mat2), alpha, "addmm")


def _subscripts(equation: str, ndims: list[int]) -> tuple[list[str], str]:
    """Each operand's subscripts and the output's, spelt out: '...' becomes letters of its
    own (broadcast from the right, as numpy's), an implicit output the letters used once."""
    equation = equation.replace(" ", "")
    inputs, arrow, output = equation.partition("->")
    inputs = inputs.split(",")
    if len(inputs) != len(ndims):
        raise ValueError(f"einsum: the equation {equation!r} has {len(inputs)} operands, "
                         f"{len(ndims)} were given")
    spare = [c for c in string.ascii_letters if c not in equation]
    widest = max(ndim - len(s.replace("...", "")) for s, ndim in zip(inputs, ndims))
    broadcast = "".join(spare[:max(widest, 0)])
    spelt = []
    for k, (subs, ndim) in enumerate(zip(inputs, ndims)):
        named = len(subs.replace("...", ""))
        if "..." in subs:
            subs = subs.replace("...", broadcast[len(broadcast) - (ndim - named):])
        if len(subs) != ndim or (subs and not subs.isalpha()):  # ('' for a 0-d operand)
            raise ValueError(f"einsum: operand {k} has {ndim} dims, but its subscripts "
                             f"{inputs[k]!r} name {len(subs)} (letters a-z, A-Z and '...')")
        if len(set(subs)) != len(subs):
            raise ValueError(f"einsum: operand {k}'s subscripts {inputs[k]!r} repeat a letter "
                             "(a diagonal), which this einsum does not take")
        spelt.append(subs)
    if arrow:
        output = output.replace("...", broadcast)
    else:
        used = "".join(spelt)
        output = broadcast + "".join(sorted(c for c in set(used) - set(broadcast)
                                            if used.count(c) == 1))
    if len(set(output)) != len(output) or not set(output) <= set("".join(spelt)):
        raise ValueError(f"einsum: the output {equation.partition('->')[2]!r} must name "
                         "letters of the operands, each once")
    return spelt, output


def _einsum(spec: str, *xs: Any) -> Any:
    """einsum of arrays (numpy's) or of Tensors (the engine's, under create_graph)."""
    if any(isinstance(x, Tensor) for x in xs):
        return einsum(spec, *xs)
    return np.einsum(spec, *xs, optimize=len(xs) > 2)


def einsum(equation: str, *operands: Any) -> Tensor:
    """Sums of products named by subscripts, as torch.einsum ('bij,bjk->bik', 'i,j->ij',
    '...ij->...ji'); d operand k = g contracted with the other operands onto k's
    subscripts (and broadcast along the letters only k has)."""
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])  # torch.einsum('ij,jk', [a, b])
    tensors = _operands("einsum", *operands) if len(operands) > 1 else (_as_tensor(operands[0]),)
    inputs, output = _subscripts(equation, [t._data.ndim for t in tensors])
    sizes: dict[str, int] = {}
    for subs, t in zip(inputs, tensors):
        for c, n in zip(subs, t._data.shape):
            if sizes.setdefault(c, n) != n and 1 not in (n, sizes[c]):
                raise ValueError(f"einsum: subscript {c!r} has sizes {sizes[c]} and {n}")
            sizes[c] = max(sizes[c], n)
    spec = ",".join(inputs) + "->" + output
    data = np.einsum(spec, *(t._data for t in tensors), optimize=len(tensors) > 2)

    def rule(g: Any, out: Any, need: list, *xs: Any) -> tuple:
        grads = []
        for k, subs in enumerate(inputs):
            if not need[k]:
                grads.append(None)
                continue
            others = [(s, x) for j, (s, x) in enumerate(zip(inputs, xs)) if j != k]
            kept = "".join(c for c in subs if c in output or any(c in s for s, _ in others))
            grad = _einsum(",".join([output] + [s for s, _ in others]) + "->" + kept,
                           g, *[x for _, x in others])
            # letters only operand k has, and those the others hold at size 1 (broadcast):
            # its gradient is the same along them; the driver sums it down where k has 1
            shape = tuple(grad.shape[kept.index(c)] if c in kept else 1 for c in subs)
            full = tuple(sizes[c] for c in subs)
            if shape != full:
                grad = _expand(grad.reshape(shape), full)
            grads.append(grad)
        return grads
    return _node(np.asarray(data), "einsum", rule, *tensors)


for _op in (mm, bmm, mv, dot, outer, addmm):
    setattr(Tensor, _op.__name__, _op)
Tensor.ger = outer
__all__ = ["mm", "bmm", "mv", "dot", "outer", "addmm", "einsum"]
