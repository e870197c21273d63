"""Local response normalisation (AlexNet's), as torch.nn's: local_response_norm
(re-exported by nn.functional) and the LocalResponseNorm module. Each entry is divided by
(k + alpha * mean of the squares of `size` neighbouring channels) ** beta, the window
centred on its own channel (size // 2 before, (size - 1) // 2 after, zeros beyond the
edges counted in the mean, as PyTorch's average pool counts them).

A composite of engine ops: the window's sum is `size` shifted slices of the zero-padded
squares added up (a loop over the window, not over entries).
"""
from __future__ import annotations

from typing import Any

from engine.tensor import Tensor, _as_tensor
from nn.convolution import pad
from nn.module import Module


def local_response_norm(input: Any, size: int, alpha: float = 1e-4, beta: float = 0.75,
                        k: float = 1.0) -> Tensor:
    """x / (k + alpha * mean(x**2 over `size` channels around x's)) ** beta, channels
    being dim 1 of an (N, C, ...) input."""
    x = _as_tensor(input)
    if x.ndim < 3:
        raise ValueError(f"local_response_norm: expected 3D or higher dimensionality input "
                         f"(N, C, ...), got {x.ndim} dimensions")
    if size < 1:
        raise ValueError(f"local_response_norm: size (the channels averaged over) must be at "
                         f"least 1, got {size}")
    if x.numel() == 0:
        return x
    channels = x.shape[1]
    # zeros before and after the channels: F.pad's widths go from the last dim back
    squares = pad(x * x, (0, 0) * (x.ndim - 2) + (size // 2, (size - 1) // 2))
    window = squares[:, :channels]
    for offset in range(1, size):
        window = window + squares[:, offset:offset + channels]
    return x / ((window / size) * alpha + k) ** beta


class LocalResponseNorm(Module):
    """local_response_norm(input, size, alpha, beta, k) over the channels (dim 1)."""

    def __init__(self, size: int, alpha: float = 1e-4, beta: float = 0.75,
                 k: float = 1.0) -> None:
        self.size, self.alpha, self.beta, self.k = size, alpha, beta, k

    def forward(self, input: Any) -> Tensor:
        return local_response_norm(input, self.size, self.alpha, self.beta, self.k)

    def extra_repr(self) -> str:
        return f"{self.size}, alpha={self.alpha}, beta={self.beta}, k={self.k}"
