"""torch.poisson: Poisson counts at the given rates, drawn from a seeded engine.Generator
as PyTorch's CPU kernel draws them, so a seeded program gets PyTorch's numbers.

PyTorch's sample_poisson (aten/src/ATen/native/Distributions.h) takes one rate at a time,
in order, drawing float64 uniforms (53 bits of two 32-bit words, the first one high, as
engine/generator.py makes them): below rate 10, Knuth's method multiplies uniforms until
the product falls to e**-rate or below (the count is how many it took, less one); from
rate 10 on, Hoermann's transformed rejection (1993) draws pairs (U, V) until one is
accepted. How many uniforms a rate takes depends on what they are, so each rate's draws
start where the previous rate's ended: the sampler walks the rates one by one (a loop over
entries that no array operation can replace without changing the numbers). The
arithmetic is the C library's, through Python's math module; the one function Python
computes its own way, lgamma, and the compiler's fused multiply-adds in the acceptance
test, could differ from PyTorch's in the last bit, which changes a count only when a draw
lands within that bit of a bin's or the test's edge.
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np

from engine.generator import Generator, default_generator
from engine.tensor import Tensor, _node, _zeros


class _Uniforms:
    """The generator's float64 uniforms, read one at a time from blocks drawn ahead; `done`
    leaves the generator as if exactly the uniforms read had been drawn."""

    def __init__(self, gen: Generator, expected: int) -> None:
        self._gen, self._state, self._fresh = gen, gen._mt.state, gen._fresh
        self._block: list[float] = []
        self._at = self._used = 0
        self._more = max(expected, 64)

    def __call__(self) -> float:
        if self._at == len(self._block):
            self._block = self._gen._uniform(self._more, np.dtype(np.float64)).tolist()
            self._at = 0
        self._at += 1
        self._used += 1
        return self._block[self._at - 1]

    def done(self) -> None:
        self._gen._mt.state, self._gen._fresh = self._state, self._fresh
        self._gen._uniform(self._used, np.dtype(np.float64))


def _count(rate: float, uniform: _Uniforms) -> int:
    """One Poisson count at `rate`, as PyTorch's sample_poisson draws it."""
    if rate >= 10:  # transformed rejection with squeeze (Hoermann)
        root, log_rate = math.sqrt(rate), math.log(rate)
        b = 0.931 + 2.53 * root
        a = -0.059 + 0.02483 * b
        inverse_alpha = 1.1239 + 1.1328 / (b - 3.4)
        v_r = 0.9277 - 3.6224 / (b - 2)
        while True:
            u = uniform() - 0.5
            v = uniform()
            us = 0.5 - abs(u)
            k = math.floor((2 * a / us + b) * u + rate + 0.43)
            if us >= 0.07 and v <= v_r:
                return k
            if k < 0 or (us < 0.013 and v > us):
                continue
            if (math.log(v) + math.log(inverse_alpha) - math.log(a / (us * us) + b)
                    <= -rate + k * log_rate - math.lgamma(k + 1)):
                return k
    if rate == 0:
        return 0
    limit, product, count = math.exp(-rate), 1.0, 0
    while True:
        product *= uniform()
        if product <= limit:
            return count
        count += 1


def poisson(input: Tensor, generator: Generator | None = None) -> Tensor:
    """A Poisson count at each rate of input (a float tensor of rates >= 0, read in
    row-major order), in input's dtype, as torch.poisson; its gradient is 0, as PyTorch's."""
    rates = input._data
    if rates.dtype.kind != "f":
        raise TypeError(f"poisson takes a float tensor of rates, got {rates.dtype} (convert "
                        "with .float())")
    if not (rates >= 0).all() or not np.isfinite(rates).all():
        raise ValueError("poisson: every rate must be a finite number >= 0, got "
                         f"{rates[~((rates >= 0) & np.isfinite(rates))].ravel()[:3]}")
    if generator is not None and not isinstance(generator, Generator):
        raise TypeError(f"generator must be an engine.Generator, got {type(generator).__name__}")
    flat = rates.astype(np.float64).ravel().tolist()
    uniform = _Uniforms(generator or default_generator,
                        int(sum(r + 1 if r < 10 else 3 for r in flat)))
    counts = [_count(rate, uniform) for rate in flat]
    uniform.done()
    samples = np.array(counts, np.float64).astype(rates.dtype).reshape(rates.shape)

    def rule(g: Any, out: Any, need: list, a: Any) -> tuple:
        """da = 0."""
        return (_zeros(g, a),)
    return _node(samples, "poisson", rule, input)


__all__ = ["poisson"]
