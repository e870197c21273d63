"""The gamma function's Tensor ops: lgamma, digamma and polygamma, each PyTorch's function
(`engine.lgamma(t)`, `engine.polygamma(n, t)`) and Tensor method (`t.lgamma()`,
`t.polygamma(n)`, in place `t.lgamma_()`), with its rule right below it, as in
engine/elementwise.py. Each rule is the next op of the family, which under create_graph runs
as that op, so derivatives of any order follow. Their numpy kernels are in
engine/gamma_function.py; torch.special's names for them are in engine/special.py.
"""
from __future__ import annotations

import operator
from typing import Any

import numpy as np

from engine import gamma_function
from engine.tensor import _IEEE, Tensor, _floating, _node
from engine.in_place_forms import in_place_form


def _polygamma_of(n: int, x: Any) -> Any:
    """polygamma(n, x): the kernel's for an array, the op's for a Tensor (under create_graph)."""
    return polygamma(n, x) if isinstance(x, Tensor) else gamma_function.polygamma(n, x)


def lgamma(input: Tensor) -> Tensor:
    """ln |Gamma(a)| (inf at 0, at the negative integers and at +-inf); da = g digamma(a)."""
    def rule(g: Any, out: Any, need: list, a: Any) -> tuple:
        with np.errstate(**_IEEE):
            return (g * _polygamma_of(0, a),)
    return _node(gamma_function.lgamma(_floating(input)._data), "lgamma", rule, input)


def digamma(input: Tensor) -> Tensor:
    """lgamma's derivative (-inf at 0, inf at -0, nan at the negative integers); da = g
    polygamma(1, a)."""
    def rule(g: Any, out: Any, need: list, a: Any) -> tuple:
        with np.errstate(**_IEEE):
            return (g * _polygamma_of(1, a),)
    return _node(gamma_function.digamma(_floating(input)._data), "digamma", rule, input)


def polygamma(n: int, input: Tensor) -> Tensor:
    """digamma's n-th derivative, n a whole number from 0 (digamma) to 170, as
    torch.polygamma(n, input); da = g polygamma(n + 1, a)."""
    n = operator.index(n)  # a float n is a TypeError, as in PyTorch

    def rule(g: Any, out: Any, need: list, a: Any) -> tuple:
        with np.errstate(**_IEEE):
            return (g * _polygamma_of(n + 1, a),)
    return _node(gamma_function.polygamma(n, _floating(input)._data), "polygamma", rule, input)


class _Methods:
    """Tensor's method whose arguments come in another order than the function's."""

    def polygamma(self: Tensor, n: int) -> Tensor:
        """polygamma(n, self), PyTorch's `t.polygamma(n)`."""
        return polygamma(n, self)


Tensor.lgamma, Tensor.digamma, Tensor.polygamma = lgamma, digamma, _Methods.polygamma
Tensor.lgamma_, Tensor.digamma_, Tensor.polygamma_ = map(
    in_place_form, (lgamma, digamma, _Methods.polygamma))
__all__ = ["lgamma", "digamma", "polygamma"]
