"""torch.special: the special functions as PyTorch code calls them, `torch.special.erf(x)`,
on Tensors and differentiable, each the engine's op of that name (engine/elementwise.py,
engine/gamma.py, engine/reductions.py) or a composite of ops.

The numpy functions beneath erf, erfc and erfinv are in engine/error_function.py, those
beneath gammaln (lgamma), digamma (psi) and polygamma in engine/gamma_function.py, the
modified Bessel functions i0, i0e, i1 and i1e with their ops in engine/bessel.py. The
functions of torch.special not here (zeta, the Bessel functions of the first and second
kinds, ...) are not implemented: asking for one raises AttributeError.
"""
from __future__ import annotations

import math
import operator

import numpy as np

from engine.bessel import i0, i0e, i1, i1e
from engine.elementwise import (erf, erfc, erfinv, exp2, expm1, log1p, logit, round, sinc, xlog1py,
                                xlogy)
from engine.elementwise import sigmoid as expit
from engine.gamma import digamma, polygamma
from engine.gamma import lgamma as gammaln
from engine.reductions import log_softmax, logsumexp, softmax
from engine.tensor import Tensor, _floating

psi = digamma
__all__ = ["erf", "erfc", "erfinv", "exp2", "expit", "expm1", "log1p", "logit", "round",
           "sinc", "xlogy", "xlog1py", "log_softmax", "logsumexp", "softmax", "ndtr", "ndtri",
           "gammaln", "digamma", "psi", "polygamma", "multigammaln", "i0", "i0e", "i1", "i1e"]


def ndtr(input: Tensor) -> Tensor:
    """P(N(0, 1) <= a), the standard normal CDF: erfc(-a / sqrt(2)) / 2 (accurate far into
    the left tail, where 1 + erf would lose every digit)."""
    return erfc(input * -math.sqrt(0.5)) * 0.5


def ndtri(input: Tensor) -> Tensor:
    """The a with ndtr(a) = p, the standard normal quantile: sqrt(2) erfinv(2 p - 1)."""
    return erfinv(input * 2 - 1) * math.sqrt(2)


def multigammaln(input: Tensor, p: int) -> Tensor:
    """ln of the multivariate gamma function of dimension p: the sum of lgamma(a - j / 2)
    over j = 0 .. p - 1, plus p (p - 1) / 4 ln(pi). As PyTorch 2.13's, it does not check
    that a > (p - 1) / 2: below, it is the same sum (inf where a term is at a pole)."""
    p = operator.index(p)
    if input._data.dtype == np.bool_:
        raise TypeError("multigammaln: the input tensor may not be a boolean tensor")
    if p < 1:
        raise ValueError(f"multigammaln: p has to be greater than or equal to 1, got {p}")
    a = _floating(input)
    halves = Tensor(np.arange(1 - p, 1, dtype=a._data.dtype) / 2)  # PyTorch's order of the terms
    return gammaln(a.unsqueeze(-1) + halves).sum(-1) + p * (p - 1) / 4 * math.log(math.pi)
