"""Probability distributions, as torch.distributions: Categorical, Bernoulli and Normal.

What reinforcement-learning and sampling code asks of them: `sample()` (outside the graph),
`rsample()` for Normal (the reparameterised draw, loc + eps * scale, through which
gradients flow), `log_prob(value)` and `entropy()` (in the graph: REINFORCE's
`-(dist.log_prob(action) * reward).sum()` backpropagates into the logits), and the
parameters in both forms (`probs` and `logits`). Each is a composite of engine ops, and
draws its numbers as PyTorch does from the same seeded generator (Categorical through
multinomial, Bernoulli through bernoulli, Normal through normal_), so a seeded run samples
what PyTorch samples.
"""
from __future__ import annotations

import math
from typing import Any, Sequence

import numpy as np

from engine.grad_mode import no_grad
from engine.random import bernoulli, multinomial, normal
from engine.tensor import Tensor, _as_tensor

_HALF_LOG_2PI = 0.5 * math.log(2 * math.pi)


def _shape(sample_shape: Sequence[int] | int) -> tuple[int, ...]:
    return (sample_shape,) if isinstance(sample_shape, int) else tuple(sample_shape)


def _parameter(value: Any) -> Tensor:
    """A distribution's parameter as a float Tensor (a number in the default float dtype)."""
    t = _as_tensor(value)
    return t if t.dtype.kind == "f" else t.float()


def _one_of(name: str, probs: Any, logits: Any) -> None:
    if (probs is None) == (logits is None):
        raise ValueError(f"{name}: either `probs` or `logits` must be specified, but not both")


class Distribution:
    """What the distributions share: batch and event shapes, the shape of a sample."""

    batch_shape: tuple[int, ...]
    event_shape: tuple[int, ...] = ()

    def _extended_shape(self, sample_shape: Sequence[int] | int = ()) -> tuple[int, ...]:
        return _shape(sample_shape) + tuple(self.batch_shape) + tuple(self.event_shape)

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class Categorical(Distribution):
    """One of K classes, with probabilities `probs` (normalised along the last dim) or
    unnormalised log-probabilities `logits`; the leading dims are a batch of them."""

    def __init__(self, probs: Any = None, logits: Any = None,
                 validate_args: bool | None = None) -> None:
        _one_of("Categorical", probs, logits)
        param = _parameter(probs if probs is not None else logits)
        if param.ndim < 1:
            raise ValueError(f"Categorical: `{'probs' if probs is not None else 'logits'}` "
                             "must have at least one dim (the classes)")
        if probs is not None:
            self.probs = param / param.sum(-1, keepdim=True)
            eps = float(np.finfo(param.dtype).eps)  # PyTorch's clamp_probs, then the log
            self.logits = self.probs.clamp(eps, 1 - eps).log()
        else:
            self.logits = param - param.logsumexp(-1, keepdim=True)
            self.probs = self.logits.softmax(-1)
        self.batch_shape = tuple(param.shape[:-1])
        self._num_events = param.shape[-1]

    def sample(self, sample_shape: Sequence[int] | int = ()) -> Tensor:
        """Class indices of shape sample_shape + batch_shape (int64), as PyTorch draws them."""
        shape = _shape(sample_shape)
        with no_grad():
            flat = multinomial(self.probs.reshape(-1, self._num_events),
                               max(math.prod(shape), 1), True).T
        return flat.reshape(self._extended_shape(shape))

    def log_prob(self, value: Any) -> Tensor:
        """The log-probability of each class index in `value` (broadcast with the batch)."""
        index = _as_tensor(value).long().unsqueeze(-1)
        shape = np.broadcast_shapes(tuple(index.shape), tuple(self.logits.shape))
        return self.logits.expand(shape).gather(-1, index.expand(shape)[..., :1]).squeeze(-1)

    def entropy(self) -> Tensor:
        """-sum(p log p) over the classes (a class of probability 0 adds 0)."""
        logits = self.logits.clamp(min=float(np.finfo(self.logits.dtype).min))
        return -(logits * self.probs).sum(-1)

    @property
    def mode(self) -> Tensor:
        return self.probs.argmax(-1)

    @property
    def param_shape(self) -> tuple[int, ...]:
        return tuple(self.probs.shape)


class Bernoulli(Distribution):
    """1 with probability `probs` (or sigmoid(`logits`)), else 0, entry by entry."""

    def __init__(self, probs: Any = None, logits: Any = None,
                 validate_args: bool | None = None) -> None:
        _one_of("Bernoulli", probs, logits)
        if probs is not None:
            self.probs = _parameter(probs)
            eps = float(np.finfo(self.probs.dtype).eps)
            clamped = self.probs.clamp(eps, 1 - eps)
            self.logits = clamped.log() - (-clamped).log1p()
        else:
            self.logits = _parameter(logits)
            self.probs = self.logits.sigmoid()
        self.batch_shape = tuple(self.probs.shape)

    def sample(self, sample_shape: Sequence[int] | int = ()) -> Tensor:
        """0s and 1s (in the parameters' float dtype), as PyTorch draws them."""
        with no_grad():
            return bernoulli(self.probs.expand(self._extended_shape(sample_shape)))

    def log_prob(self, value: Any) -> Tensor:
        """log p where value is 1, log(1 - p) where it is 0, from the logits (stable)."""
        # here, not at the top: nn is built on the engine, which imports nothing from nn
        from nn.loss import binary_cross_entropy_with_logits
        target = _as_tensor(value)._cast(self.logits.dtype)
        shape = np.broadcast_shapes(tuple(target.shape), tuple(self.logits.shape))
        return -binary_cross_entropy_with_logits(self.logits.expand(shape), target.expand(shape),
                                                 reduction="none")

    def entropy(self) -> Tensor:
        """-(p log p + (1 - p) log(1 - p))."""
        from nn.loss import binary_cross_entropy_with_logits
        return binary_cross_entropy_with_logits(self.logits, self.probs, reduction="none")

    @property
    def mean(self) -> Tensor:
        return self.probs

    @property
    def variance(self) -> Tensor:
        return self.probs * (1 - self.probs)


class Normal(Distribution):
    """The Gaussian with mean `loc` and standard deviation `scale` (the two broadcast)."""

    def __init__(self, loc: Any, scale: Any, validate_args: bool | None = None) -> None:
        loc, scale = _parameter(loc), _parameter(scale)
        shape = np.broadcast_shapes(tuple(loc.shape), tuple(scale.shape))
        self.loc, self.scale = loc.expand(shape), scale.expand(shape)
        if validate_args and not bool((self.scale > 0).all()):
            raise ValueError("Normal: scale must be positive")
        self.batch_shape = shape

    def sample(self, sample_shape: Sequence[int] | int = ()) -> Tensor:
        """Draws outside the graph, as PyTorch's normal(loc, scale) draws them."""
        shape = self._extended_shape(sample_shape)
        with no_grad():
            return normal(self.loc.expand(shape), self.scale.expand(shape))

    def rsample(self, sample_shape: Sequence[int] | int = ()) -> Tensor:
        """loc + eps * scale with eps standard normal: a draw gradients flow through."""
        shape = self._extended_shape(sample_shape)
        eps = Tensor(np.empty(shape, self.loc.dtype)).normal_()
        return self.loc + eps * self.scale

    def log_prob(self, value: Any) -> Tensor:
        """-(value - loc)^2 / (2 scale^2) - log(scale) - log(sqrt(2 pi))."""
        value = _as_tensor(value)
        return -((value - self.loc) ** 2) / (2 * self.scale ** 2) - self.scale.log() \
            - _HALF_LOG_2PI

    def entropy(self) -> Tensor:
        """1/2 + log(sqrt(2 pi)) + log(scale)."""
        return 0.5 + _HALF_LOG_2PI + self.scale.log()

    @property
    def mean(self) -> Tensor:
        return self.loc

    @property
    def stddev(self) -> Tensor:
        return self.scale

    @property
    def variance(self) -> Tensor:
        return self.scale ** 2


__all__ = ["Distribution", "Categorical", "Bernoulli", "Normal"]
