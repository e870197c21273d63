"""PyTorch's switches for running faster on its hardware, as this CPU-only numpy engine
answers them, so that training scripts that set them run unchanged:

- `torch.backends.cuda.matmul.allow_tf32 = True`, `torch.backends.cudnn.benchmark = True`:
  flags that only change how a GPU computes; they are kept and have no effect here (as on
  a CPU-only build of PyTorch). `torch.backends.mps.is_available()` is False.
- `torch.compile(model)`: PyTorch's compiler makes a faster version of the model with the
  same results; this engine has no compiler, so it returns the model itself, unchanged.
"""
from __future__ import annotations

from typing import Any, Callable


class _Flags:
    """A set of switches, each an attribute that can be read and set."""

    def __init__(self, **flags: Any) -> None:
        self.__dict__.update(flags)

    def __repr__(self) -> str:
        return f"flags({', '.join(f'{k}={v!r}' for k, v in vars(self).items())})"


class _Mps:
    """Apple's GPUs: none here."""

    @staticmethod
    def is_available() -> bool:
        return False

    @staticmethod
    def is_built() -> bool:
        return False


cuda = _Flags(matmul=_Flags(allow_tf32=False, allow_fp16_reduced_precision_reduction=True))
cudnn = _Flags(allow_tf32=True, benchmark=False, deterministic=False, enabled=True)
mps = _Mps()


def compile(model: Callable | None = None, **options: Any) -> Any:
    """`model` itself (a Module or function), which runs as it is: no compiler here. Used
    as a decorator with options (`@torch.compile(mode=...)`), it returns one that does the
    same."""
    return (lambda fn: fn) if model is None else model
