"""PyTorch's switches for running faster on its hardware, as this CPU-only numpy engine
answers them, so that training scripts that set them run unchanged:

- `torch.backends.cuda.matmul.allow_tf32 = True`, `torch.backends.cudnn.benchmark = True`:
  flags that only change how a GPU computes; they are kept and have no effect here (as on
  a CPU-only build of PyTorch). `torch.backends.mps.is_available()` is False.
- `torch.compile(model)`: PyTorch's compiler makes a faster version of the model with the
  same results; this engine has no compiler, so it returns the model itself, unchanged.
- `torch.set_float32_matmul_precision('high')`, `torch.use_deterministic_algorithms(True)`:
  stored and reported back; numpy's float32 matmul is always full precision, and every op
  here is deterministic.
- `torch.set_num_threads(1)`: PyTorch's threads within an op; here the threads of numpy's
  BLAS, the one part of numpy that runs on several (its matrix products), set through
  threadpoolctl.
"""
from __future__ import annotations

from typing import Any, Callable

import threadpoolctl


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


_settings = {"float32_matmul_precision": "highest", "deterministic": False, "warn_only": False}


def set_float32_matmul_precision(precision: str) -> None:
    """Store PyTorch's float32 matmul setting ('highest', 'high' or 'medium'), which lets a
    GPU trade precision for speed; numpy's float32 matmul always computes in full float32
    precision, so here it changes nothing but what get_float32_matmul_precision returns."""
    if precision not in ("highest", "high", "medium"):
        raise ValueError(f"set_float32_matmul_precision takes 'highest', 'high' or 'medium', "
                         f"got {precision!r}")
    _settings["float32_matmul_precision"] = precision


def get_float32_matmul_precision() -> str:
    """The precision set_float32_matmul_precision stored ('highest' until set)."""
    return _settings["float32_matmul_precision"]


def use_deterministic_algorithms(mode: bool, *, warn_only: bool = False) -> None:
    """Store PyTorch's switch to deterministic algorithms: every op of this engine is
    deterministic already (same inputs, same bits), so it changes nothing else."""
    if not isinstance(mode, bool):
        raise TypeError(f"use_deterministic_algorithms takes True or False, got "
                        f"{type(mode).__name__}")
    _settings["deterministic"], _settings["warn_only"] = mode, warn_only


def are_deterministic_algorithms_enabled() -> bool:
    """What use_deterministic_algorithms stored (False until set, as in PyTorch)."""
    return _settings["deterministic"]


def is_deterministic_algorithms_warn_only_enabled() -> bool:
    """The warn_only use_deterministic_algorithms stored."""
    return _settings["warn_only"]


def set_num_threads(n: int) -> None:
    """Run numpy's BLAS (matrix products) on n threads from now on, as PyTorch's intra-op
    threads; the rest of numpy runs on one thread anyway."""
    if type(n) is not int:
        raise RuntimeError(f"set_num_threads expects an int, but got {type(n).__name__}")
    if n < 1:
        raise RuntimeError("set_num_threads expects a positive integer")
    threadpoolctl.threadpool_limits(n, user_api="blas")  # not a `with`: the limit stays


def get_num_threads() -> int:
    """The threads numpy's BLAS runs on (1 if numpy has no BLAS threads to report)."""
    return max((lib["num_threads"] for lib in threadpoolctl.threadpool_info()
                if lib["user_api"] == "blas"), default=1)
