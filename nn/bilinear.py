"""The bilinear layer, as torch.nn's: bilinear (re-exported by nn.functional) and the
Bilinear module, y = x1^T A x2 + b for each output feature: out[..., o] =
sum_ij x1[..., i] weight[o, i, j] x2[..., j] + bias[o].

A composite of engine ops: one matrix product of x1 with the weight laid out as
(in1, out * in2), times x2, summed over in2; so its gradients are the engine's own.
Bilinear's weight and bias start uniform in [-1/sqrt(in1_features), 1/sqrt(in1_features)],
drawn from the engine's generator as PyTorch draws them (weight first), so a seeded
Bilinear holds PyTorch's numbers.
"""
from __future__ import annotations

import math
from typing import Any

from engine.tensor import Tensor, _as_tensor
from nn import init
from nn.layers import _add_weight_and_bias, _size
from nn.module import Module


def bilinear(input1: Any, input2: Any, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """x1^T weight[o] x2 + bias[o] for each output o: (..., in1) and (..., in2) inputs with
    the same leading dims, weight (out, in1, in2), bias (out,) -> (..., out)."""
    x1, x2 = _as_tensor(input1), _as_tensor(input2)
    if weight.ndim != 3:
        raise ValueError(f"bilinear(): weight must be 3-D (out_features, in1_features, "
                         f"in2_features), got shape {tuple(weight.shape)}")
    outs, ins1, ins2 = weight.shape
    if x1.ndim != x2.ndim or x1.ndim == 0:
        raise RuntimeError(f"bilinear(): input dimensions do not match: got {x1.ndim} and "
                           f"{x2.ndim}")
    for dim, (a, b) in enumerate(zip(x1.shape[:-1], x2.shape[:-1])):
        if a != b:
            raise RuntimeError(f"bilinear(): input batch dimensions do not match at dim {dim}: "
                               f"got {a} and {b}")
    for name, x, size in (("input1", x1, ins1), ("input2", x2, ins2)):
        if x.shape[-1] != size:
            raise RuntimeError(f"bilinear(): {name} size does not match weight size: got "
                               f"{x.shape[-1]} but expected {size}")
    if bias is not None and tuple(bias.shape) != (outs,):
        raise RuntimeError(f"bilinear(): bias size does not match weight size: got "
                           f"{bias.shape[-1] if bias.ndim else 1} but expected {outs}")
    batch = tuple(x1.shape[:-1])
    rows1, rows2 = x1.reshape(-1, ins1), x2.reshape(-1, ins2)
    mixed = rows1 @ weight.permute(1, 0, 2).reshape(ins1, outs * ins2)  # (rows, out * in2)
    out = (mixed.reshape(-1, outs, ins2) * rows2.unsqueeze(1)).sum(-1).reshape(*batch, outs)
    return out if bias is None else out + bias


class Bilinear(Module):
    """bilinear(input1, input2, weight, bias) with weight (out_features, in1_features,
    in2_features) and bias (out_features,), initialised as PyTorch's."""

    def __init__(self, in1_features: int, in2_features: int, out_features: int,
                 bias: bool = True, device: Any = None, dtype: Any = None) -> None:
        self.in1_features = _size("Bilinear", "in1_features", in1_features)
        self.in2_features = _size("Bilinear", "in2_features", in2_features)
        self.out_features = _size("Bilinear", "out_features", out_features)
        _add_weight_and_bias(self, (out_features, in1_features, in2_features), bias, dtype,
                             device)

    def reset_parameters(self) -> None:
        """PyTorch's initialisation, drawn from the engine's generator."""
        bound = 1 / math.sqrt(self.in1_features)
        init.uniform_(self.weight, -bound, bound)
        if self.bias is not None:
            init.uniform_(self.bias, -bound, bound)

    def forward(self, input1: Any, input2: Any) -> Tensor:
        return bilinear(input1, input2, self.weight, self.bias)

    def extra_repr(self) -> str:
        return (f"in1_features={self.in1_features}, in2_features={self.in2_features}, "
                f"out_features={self.out_features}, bias={self.bias is not None}")
