"""torch.special: the special functions as PyTorch code calls them, `torch.special.erf(x)`,
on Tensors and differentiable, each the engine's op of that name (engine/elementwise.py,
engine/reductions.py) or a composite of ops.

The numpy functions beneath erf, erfc and erfinv are in engine/error_function.py. The
functions of torch.special not here (gammaln, digamma, the Bessel functions, ...) are not
implemented: asking for one raises AttributeError.
"""
from __future__ import annotations

import math

from engine.elementwise import erf, erfc, erfinv, exp2, expm1, log1p, logit, round, sinc, xlogy
from engine.elementwise import sigmoid as expit
from engine.reductions import log_softmax, logsumexp, softmax
from engine.tensor import Tensor

__all__ = ["erf", "erfc", "erfinv", "exp2", "expit", "expm1", "log1p", "logit", "round",
           "sinc", "xlogy", "log_softmax", "logsumexp", "softmax", "ndtr", "ndtri"]


def ndtr(input: Tensor) -> Tensor:
    """P(N(0, 1) <= a), the standard normal CDF: erfc(-a / sqrt(2)) / 2 (accurate far into
    the left tail, where 1 + erf would lose every digit)."""
    return erfc(input * -math.sqrt(0.5)) * 0.5


def ndtri(input: Tensor) -> Tensor:
    """The a with ndtr(a) = p, the standard normal quantile: sqrt(2) erfinv(2 p - 1)."""
    return erfinv(input * 2 - 1) * math.sqrt(2)
