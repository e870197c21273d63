"""torch.autocast (torch.amp.autocast in PyTorch): the mixed-precision region, as a context
manager and a decorator, with PyTorch's arguments, checks and warnings, and
is_autocast_enabled / get_autocast_dtype to ask about it.

Here the region is recorded but changes no op: inside it, matrix products and the rest run
in their operands' own dtypes, where PyTorch's CPU autocast computes them in bfloat16 (or
float16). Training scripts written for GPUs (nanoGPT's `ctx = torch.autocast(...)`) run
unchanged, in full precision: what `enabled=False` gives in PyTorch. The region's state is
per thread, as PyTorch's.
"""
from __future__ import annotations

import functools
import threading
import warnings
from typing import Any, Callable

from engine import dtypes

_DEVICES = ("cpu", "cuda", "ipu", "xpu", "mkldnn", "opengl", "opencl", "ideep", "hip", "ve",
            "fpga", "maia", "xla", "lazy", "vulkan", "mps", "meta", "hpu", "mtia",
            "privateuseone")
_DEFAULTS = {"cpu": "bfloat16", "cuda": "float16"}  # each device's autocast dtype, as PyTorch's
_state = threading.local()  # .regions: the (device_type, dtype, enabled) of open regions


def _regions() -> list:
    if not hasattr(_state, "regions"):
        _state.regions = []
    return _state.regions


class autocast:
    """A region in which PyTorch would run eligible ops in a lower precision `dtype` on
    `device_type`; here it only records that (see the module's docstring). 'cuda' is
    disabled with PyTorch's warning (there is no GPU), as is a CPU dtype other than
    bfloat16 and float16."""

    def __init__(self, device_type: str, dtype: Any = None, enabled: bool = True,
                 cache_enabled: bool | None = None) -> None:
        if not isinstance(device_type, str):
            raise ValueError(f"Expected `device_type` of type `str`, got: `{type(device_type)}`")
        if device_type.split(":")[0] not in _DEVICES:
            raise ValueError(f"autocast: expected one of {', '.join(_DEVICES)} as device_type, "
                             f"got {device_type!r}")
        self.device = device_type
        if dtype is None:
            dtype = dtypes.NAMES[_DEFAULTS.get(device_type, "bfloat16")]
        # (bfloat16, which numpy has no type for, is one of the engine's dtypes as it is)
        self.fast_dtype = dtype if dtype in dtypes.NAMES.values() else dtypes.wrap(dtype)
        self._enabled = bool(enabled)
        if self._enabled and device_type != "cpu":
            warnings.warn(f"User provided device_type of '{device_type}', but it is not "
                          "available here (this engine computes on the CPU). Disabling autocast.",
                          UserWarning, stacklevel=2)
            self._enabled = False
        elif self._enabled and self.fast_dtype not in (dtypes.NAMES["bfloat16"],
                                                       dtypes.NAMES["float16"]):
            warnings.warn("In CPU autocast, but the target dtype is not supported. Disabling "
                          "autocast.\nCPU Autocast only supports dtypes of torch.bfloat16, "
                          "torch.float16 currently.", UserWarning, stacklevel=2)
            self._enabled = False

    def __enter__(self) -> autocast:
        _regions().append((self.device, self.fast_dtype, self._enabled))
        return self

    def __exit__(self, *exc: Any) -> None:
        _regions().pop()

    def __call__(self, func: Callable) -> Callable:
        """The function run inside this region each time it is called (as a decorator)."""
        @functools.wraps(func)
        def decorated(*args: Any, **kwargs: Any) -> Any:
            with autocast(self.device, self.fast_dtype, self._enabled):
                return func(*args, **kwargs)
        return decorated


def is_autocast_enabled(device_type: str | None = None) -> bool:
    """Whether the innermost autocast region for device_type (default 'cuda', as PyTorch's
    argument-free form asks) is enabled."""
    device = device_type or "cuda"
    for region_device, _, enabled in reversed(_regions()):
        if region_device == device:
            return enabled
    return False


def get_autocast_dtype(device_type: str) -> Any:
    """The dtype autocast regions on device_type use: the innermost one's, else the
    device's default (bfloat16 on the CPU, float16 on CUDA)."""
    for region_device, dtype, _ in reversed(_regions()):
        if region_device == device_type:
            return dtype
    return dtypes.NAMES[_DEFAULTS.get(device_type, "bfloat16")]


__all__ = ["autocast", "is_autocast_enabled", "get_autocast_dtype"]
