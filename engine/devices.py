"""Devices, as PyTorch names them. This engine computes on the CPU only: `device('cpu')`
and `.to('cpu')` are accepted, anything else is refused with a message saying so, and
`cuda.is_available()` and `accelerator.is_available()` are False, so PyTorch code that
picks its device runs unchanged (PyTorch 2.6's tutorials ask `torch.accelerator`, then
`torch.set_default_device`)."""
from __future__ import annotations

from typing import Any


_KINDS = ("cpu", "cuda", "mps", "xpu", "mtia", "meta", "hpu", "xla", "ipu", "privateuseone")


class device:
    """A place tensors live, as PyTorch names one (`device('cpu')`, `device('cuda', 0)`,
    `device('cuda:1')`). Any of PyTorch's kinds can be named, as there (a tutorial may ask
    `torch.device('cuda').index`), but only the CPU can hold a tensor: putting one anywhere
    else is refused (`check`)."""

    def __init__(self, type: Any, index: int | None = None) -> None:
        name = type.type if isinstance(type, device) else type
        if not isinstance(name, str):
            raise TypeError(f"device takes a name such as 'cpu', got {name!r:.40}")
        kind, _, number = name.partition(":")
        if kind not in _KINDS:
            raise RuntimeError(f"device {name!r}: expected one of {', '.join(_KINDS)} at the "
                               "start of a device name")
        self.type = kind
        self.index = index if index is not None else (int(number) if number else None)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, str):
            other = device(other)
        return (isinstance(other, device) and other.type == self.type
                and other.index == self.index)

    def __hash__(self) -> int:
        return hash((self.type, self.index))

    def __str__(self) -> str:
        return self.type if self.index is None else f"{self.type}:{self.index}"

    def __repr__(self) -> str:
        index = "" if self.index is None else f", index={self.index}"
        return f"device(type={self.type!r}{index})"


class _Cuda:
    """`torch.cuda` as seen from a machine without a GPU."""

    @staticmethod
    def is_available() -> bool:
        return False

    @staticmethod
    def device_count() -> int:
        return 0

    @staticmethod
    def manual_seed(seed: int) -> None:
        """Nothing to seed without a GPU (PyTorch also accepts this call then)."""

    manual_seed_all = manual_seed

    @staticmethod
    def is_bf16_supported() -> bool:
        return False

    @property
    def amp(self) -> Any:
        """torch.cuda.amp, for its GradScaler (engine/amp.py; it works on the CPU here)."""
        from engine import amp  # here: amp imports the Tensor core, which imports this module
        return amp


cuda = _Cuda()


class _Accelerator:
    """`torch.accelerator` (PyTorch 2.6) as seen from a machine with none."""

    @staticmethod
    def is_available() -> bool:
        return False

    @staticmethod
    def current_accelerator() -> None:
        return None

    @staticmethod
    def device_count() -> int:
        return 0


accelerator = _Accelerator()


def set_default_device(device: Any) -> None:
    """Where factories put tensors by default, as torch.set_default_device: the CPU (or
    None, PyTorch's way of saying the CPU); any other device is refused."""
    check(device)


def get_default_device() -> device:
    return device("cpu")


def check(where: Any) -> None:
    """Refuse any device but the CPU (None means the default, the CPU)."""
    if where is not None and device(where).type != "cpu":
        raise RuntimeError(f"device {str(where)!r}: this engine computes on the CPU only "
                           "(numpy); use 'cpu' (engine.cuda.is_available() is False)")


def dtype_of_to(args: tuple, kwargs: dict) -> tuple[Any, bool]:
    """The dtype a `to(...)` call asks for (None if none) and whether it asks for a copy,
    after refusing any device but the CPU: `to(dtype)`, `to(device)`, `to(device, dtype)`,
    `to(tensor)`, each with `non_blocking` and `copy` after it by position or keyword, as
    Tensor.to and Module.to take them in PyTorch (`memory_format`: strided is the only one)."""
    from engine.tensor import Tensor  # here: engine.tensor imports this module
    dtype, where = kwargs.pop("dtype", None), kwargs.pop("device", None)
    flags = [kwargs.pop("non_blocking", False), kwargs.pop("copy", False)]
    kwargs.pop("memory_format", None)
    if kwargs:
        raise TypeError(f"to() got unexpected arguments {sorted(kwargs)}")
    given = [arg for arg in args if not isinstance(arg, bool)]
    for i, flag in enumerate(arg for arg in args if isinstance(arg, bool)):
        flags[i] = flag  # (positional non_blocking, then copy)
    for arg in given:
        if isinstance(arg, Tensor):
            dtype = arg.dtype
        elif isinstance(arg, (str, device)):
            where = arg
        else:
            dtype = arg
    check(where)
    return dtype, bool(flags[1])
