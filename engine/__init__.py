"""scratchgrad's autodiff core: scalar `Value`s, numpy `Tensor`s, one graph engine.

`from engine import Value` loads no numpy: Tensor, its factories (`tensor randn rand zeros
ones arange manual_seed`) and the ops PyTorch spells as functions (`where cat stack tril
triu`) load on first use, so scalar programs start as fast as the pure-Python engines they
replace.
"""
from __future__ import annotations

import importlib
from typing import Any

from engine.gradcheck import GradcheckError, gradcheck
from engine.graph import (enable_grad, is_grad_enabled, no_grad, set_grad_enabled,
                          topological_order)
from engine.value import Value

_LAZY = {name: "engine.tensor" for name in (
    "Tensor", "tensor", "randn", "rand", "zeros", "ones", "arange", "manual_seed",
    "set_printoptions", "where", "cat", "stack", "tril", "triu")}

__all__ = ["Value", "no_grad", "enable_grad", "set_grad_enabled", "is_grad_enabled",
           "topological_order", "gradcheck", "GradcheckError", *_LAZY]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    if name == "utils":  # `torch.utils.data` after `import engine as torch`
        return importlib.import_module("engine.utils")
    raise AttributeError(f"module 'engine' has no attribute {name!r}")


def __dir__() -> list[str]:
    return __all__
