"""Random tensors (transitional: numpy's default generator until the PyTorch-exact one lands)."""
from __future__ import annotations

from typing import Any

import numpy as np

from engine.factories import _made, size_of
from engine.dtypes import get_default_dtype

_rng = np.random.default_rng()


def manual_seed(seed: int) -> None:
    global _rng
    _rng = np.random.default_rng(seed)


def generator() -> np.random.Generator:
    return _rng


def randn(*size: Any, generator: Any = None, dtype: Any = None, device: Any = None,
          requires_grad: bool = False) -> Any:
    dtype = np.dtype(dtype or get_default_dtype())
    return _made(_rng.standard_normal(size_of(size, "randn")).astype(dtype), requires_grad, device)


def rand(*size: Any, generator: Any = None, dtype: Any = None, device: Any = None,
         requires_grad: bool = False) -> Any:
    dtype = np.dtype(dtype or get_default_dtype())
    return _made(_rng.random(size_of(size, "rand")).astype(dtype), requires_grad, device)
