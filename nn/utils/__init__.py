"""torch.nn.utils: gradient clipping here, clip_grad_norm_ (the usual guard against a step
too large, as nanoGPT's training loop calls it) and clip_grad_value_; and `rnn`, the
variable-length sequences the recurrent layers take (PackedSequence, pack_padded_sequence,
pad_sequence, ...), and parameters_to_vector / vector_to_parameters
(nn/utils/convert_parameters.py); `parametrize` and `parametrizations` (weight_norm,
spectral_norm, orthogonal), and the legacy hook-based weight_norm and spectral_norm;
`stateless.functional_call` (a module run with other tensors as its parameters, as
torch.func's).

The clipping functions change the parameters' `.grad` in place, between `backward()` and
`optimizer.step()`. The norm is PyTorch's (get_total_norm): each gradient's p-norm, then the p-norm of
those, in the gradients' dtype; the scale min(max_norm / (norm + 1e-6), 1) multiplies
every gradient.
"""
from __future__ import annotations

import math
from typing import Iterable

import numpy as np

from engine.tensor import Tensor
from nn.utils import parametrizations, parametrize, rnn, stateless
from nn.utils.convert_parameters import parameters_to_vector, vector_to_parameters
from nn.utils.spectral_norm import remove_spectral_norm, spectral_norm
from nn.utils.weight_norm import remove_weight_norm, weight_norm

__all__ = ["clip_grad_norm_", "clip_grad_value_", "get_total_norm", "clip_grads_with_norm_",
           "rnn", "parameters_to_vector", "vector_to_parameters", "parametrize", "parametrizations", "weight_norm",
           "remove_weight_norm", "spectral_norm", "remove_spectral_norm", "stateless"]


def _parameters(parameters: Tensor | Iterable[Tensor]) -> list[Tensor]:
    """The parameters as a list (a generator is read once), each checked to be a Tensor."""
    params = [parameters] if isinstance(parameters, Tensor) else list(parameters)
    for i, p in enumerate(params):
        if not isinstance(p, Tensor):
            raise TypeError(f"gradient clipping takes Tensors (model.parameters()); parameter "
                            f"{i} is a {type(p).__name__}")
    return params


def _grads(parameters: Tensor | Iterable[Tensor]) -> list[np.ndarray]:
    """The arrays of the gradients the parameters hold (those without one are skipped)."""
    return [p._grad._data for p in _parameters(parameters) if p._grad is not None]


def _norm(x: np.ndarray, p: float) -> np.ndarray:
    """The p-norm of all of x's entries, in x's dtype, as torch.linalg.vector_norm: inf and
    -inf the largest and smallest |x|, 0 the count of entries that are not 0 (nan too)."""
    x = np.abs(x.reshape(-1))
    if p == 2:
        return np.sqrt(x @ x)
    if p in (math.inf, -math.inf):
        return x.max(initial=x.dtype.type(0)) if p > 0 else x.min(initial=x.dtype.type(math.inf))
    if p == 0:
        return (x != 0).sum(dtype=x.dtype)
    return np.sum(x ** x.dtype.type(p)) ** x.dtype.type(1 / p)


def _total_norm(arrays: list[np.ndarray], p: float, error_if_nonfinite: bool) -> Tensor:
    """The p-norm of the arrays' p-norms, in their dtype (0 for none)."""
    if not arrays:
        return Tensor(np.zeros((), np.float32))
    total = _norm(np.stack([_norm(a, p) for a in arrays]), p)
    if error_if_nonfinite and not np.isfinite(total):
        raise RuntimeError(f"The total norm of order {p} for gradients from `parameters` is "
                           "non-finite, so it cannot be clipped. To disable this error and "
                           "scale the gradients by the non-finite norm anyway, set "
                           "`error_if_nonfinite=False`")
    return Tensor(np.asarray(total))


def _scale(grads: list[np.ndarray], max_norm: float, total: np.ndarray) -> None:
    """Every gradient times min(max_norm / (total + 1e-6), 1), in place."""
    scale = np.minimum(total.dtype.type(max_norm) / (total + total.dtype.type(1e-6)), 1)
    for g in grads:
        g *= scale


def get_total_norm(tensors: Tensor | Iterable[Tensor], norm_type: float = 2.0,
                   error_if_nonfinite: bool = False, foreach: bool | None = None) -> Tensor:
    """The p-norm of the tensors' p-norms (the p-norm of all their entries at once), in
    their dtype, as PyTorch's; a 0-d Tensor, outside the graph (0 for no tensors)."""
    return _total_norm([t._data for t in _parameters(tensors)], float(norm_type),
                       error_if_nonfinite)


def clip_grads_with_norm_(parameters: Tensor | Iterable[Tensor], max_norm: float,
                          total_norm: Tensor, foreach: bool | None = None) -> None:
    """Scale every gradient by min(max_norm / (total_norm + 1e-6), 1), in place."""
    _scale(_grads(parameters), max_norm,
           np.asarray(total_norm._data if isinstance(total_norm, Tensor) else total_norm))


def clip_grad_norm_(parameters: Tensor | Iterable[Tensor], max_norm: float,
                    norm_type: float = 2.0, error_if_nonfinite: bool = False,
                    foreach: bool | None = None) -> Tensor:
    """Scale the gradients so that their joint p-norm is at most max_norm; returns that norm
    as it was before (a 0-d Tensor): get_total_norm, then clip_grads_with_norm_."""
    grads = _grads(parameters)
    total = _total_norm(grads, float(norm_type), error_if_nonfinite)
    _scale(grads, max_norm, total._data)
    return total


def clip_grad_value_(parameters: Tensor | Iterable[Tensor], clip_value: float,
                     foreach: bool | None = None) -> None:
    """Clip every gradient entry into [-clip_value, clip_value]."""
    for g in _grads(parameters):
        np.clip(g, -clip_value, clip_value, out=g)
