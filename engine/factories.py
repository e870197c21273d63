"""Tensors made from data or filled with one number, with PyTorch's signatures: tensor,
as_tensor, from_numpy, zeros, ones, full, empty, eye, arange, linspace, the *_like forms,
and the methods that make a tensor of another's dtype (`t.new_zeros(2, 3)`, ...).

Sizes come as `zeros(2, 3)` or `zeros((2, 3))`. Floats are the default dtype (float32)
unless `dtype=` says otherwise; `device` may only be the CPU. Random tensors are in
engine/random.py.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from engine import devices
from engine._torch_math import fma32, fma64
from engine.dtypes import as_array, get_default_dtype
from engine.tensor import Tensor, _raw, add_methods


def size_of(size: tuple, fn: str) -> tuple[int, ...]:
    """The shape a factory was given, `fn(2, 3)` or `fn((2, 3))`, checked."""
    shape = tuple(size[0]) if len(size) == 1 and isinstance(size[0], (tuple, list)) else size
    if not shape and not size:
        raise TypeError(f"{fn}() needs a size, e.g. {fn}(2, 3), or {fn}(()) for a 0-d tensor")
    if not all(isinstance(n, (int, np.integer)) and not isinstance(n, bool) and n >= 0
               for n in shape):
        raise ValueError(f"{fn}: a size is non-negative ints, got {shape}")
    return tuple(int(n) for n in shape)


def _made(array: np.ndarray, requires_grad: bool, device: Any) -> Tensor:
    devices.check(device)
    return Tensor(array, requires_grad)


def tensor(data: Any, dtype: Any = None, device: Any = None,
           requires_grad: bool = False) -> Tensor:
    """A Tensor holding a copy of data, as torch.tensor (`Tensor(array)` shares the array)."""
    source = _raw(data)
    array = as_array(source, dtype, "tensor(data)")
    if isinstance(source, np.ndarray) and np.may_share_memory(array, source):
        array = array.copy()
    return _made(array, requires_grad, device)


def as_tensor(data: Any, dtype: Any = None, device: Any = None) -> Tensor:
    """data as a Tensor, sharing memory where it can (a Tensor of that dtype is returned as is)."""
    if isinstance(data, Tensor) and (dtype is None or data.dtype == np.dtype(dtype)):
        return data
    return _made(as_array(_raw(data), dtype, "as_tensor(data)"), False, device)


def from_numpy(ndarray: np.ndarray) -> Tensor:
    """A Tensor sharing the array's memory and dtype, as torch.from_numpy."""
    if not isinstance(ndarray, np.ndarray):
        raise TypeError(f"from_numpy takes a numpy array, got {type(ndarray).__name__} (for "
                        "other data use engine.tensor(...))")
    return Tensor(ndarray, dtype=ndarray.dtype)


def _filled(size: tuple, value: Any, dtype: Any, requires_grad: bool, device: Any,
            fn: str) -> Tensor:
    if dtype is None:
        dtype = as_array(value).dtype if not isinstance(value, float) else get_default_dtype()
    return _made(np.full(size_of(size, fn), value, dtype), requires_grad, device)


def zeros(*size: Any, dtype: Any = None, device: Any = None,
          requires_grad: bool = False) -> Tensor:
    """All zeros, the default float dtype unless dtype says otherwise, as torch.zeros."""
    return _filled(size, 0.0, dtype, requires_grad, device, "zeros")


def ones(*size: Any, dtype: Any = None, device: Any = None,
         requires_grad: bool = False) -> Tensor:
    """All ones, as torch.ones."""
    return _filled(size, 1.0, dtype, requires_grad, device, "ones")


def empty(*size: Any, dtype: Any = None, device: Any = None,
          requires_grad: bool = False) -> Tensor:
    """A tensor whose entries are to be written; here they are zeros (never stale memory)."""
    return _filled(size, 0.0, dtype, requires_grad, device, "empty")


def full(size: Any, fill_value: Any, dtype: Any = None, device: Any = None,
         requires_grad: bool = False) -> Tensor:
    """Every entry fill_value, in its dtype (a Python float: the default float dtype)."""
    return _filled((size,), fill_value, dtype, requires_grad, device, "full")


def _like(input: Any, value: Any, dtype: Any, requires_grad: bool, device: Any,
          fn: str) -> Tensor:
    shape = np.shape(_raw(input))
    dtype = np.asarray(_raw(input)).dtype if dtype is None else dtype
    return _filled((shape,), value, dtype, requires_grad, device, fn)


def zeros_like(input: Any, dtype: Any = None, device: Any = None,
               requires_grad: bool = False) -> Tensor:
    """Zeros of input's shape and dtype."""
    return _like(input, 0, dtype, requires_grad, device, "zeros_like")


def ones_like(input: Any, dtype: Any = None, device: Any = None,
              requires_grad: bool = False) -> Tensor:
    """Ones of input's shape and dtype."""
    return _like(input, 1, dtype, requires_grad, device, "ones_like")


def empty_like(input: Any, dtype: Any = None, device: Any = None,
               requires_grad: bool = False) -> Tensor:
    return _like(input, 0, dtype, requires_grad, device, "empty_like")


def full_like(input: Any, fill_value: Any, dtype: Any = None, device: Any = None,
              requires_grad: bool = False) -> Tensor:
    return _like(input, fill_value, dtype, requires_grad, device, "full_like")


def eye(n: int, m: int | None = None, dtype: Any = None, device: Any = None,
        requires_grad: bool = False) -> Tensor:
    """Ones on the diagonal of an n x m matrix (m = n by default)."""
    return _made(np.eye(n, m, dtype=dtype or get_default_dtype()), requires_grad, device)


def arange(start: float, end: float | None = None, step: float = 1, *, dtype: Any = None,
           device: Any = None, requires_grad: bool = False) -> Tensor:
    """start, start + step, ... up to end (excluded); int64 when all three are ints, else
    the default float dtype, as torch.arange."""
    if end is None:  # arange(5) counts from 0
        start, end = 0, start
    if step == 0:
        raise ValueError("arange: step must be nonzero")
    ints = all(isinstance(v, (int, np.integer)) for v in (start, end, step))
    dtype = dtype or (np.int64 if ints else get_default_dtype())
    return _made(np.arange(start, end, step).astype(dtype), requires_grad, device)


def linspace(start: float, end: float, steps: int, *, dtype: Any = None, device: Any = None,
             requires_grad: bool = False) -> Tensor:
    """`steps` evenly spaced numbers from start to end, both included, as torch.linspace
    (which fills the first half from start and the second half from end; in float32 and
    float64, with its step in the dtype and each number one fused multiply-add, so to the
    bit)."""
    if not isinstance(steps, (int, np.integer)) or steps < 0:
        raise ValueError(f"linspace: steps must be a non-negative int, got {steps!r}")
    dtype = np.dtype(dtype or get_default_dtype())
    if steps == 1:
        return _made(np.full(1, start, dtype), requires_grad, device)
    i = np.arange(steps)
    half = steps // 2
    if dtype in (np.float32, np.float64):
        kind, fma = dtype.type, (fma32 if dtype == np.float32 else fma64)
        step = (kind(end) - kind(start)) / kind(max(steps - 1, 1))
        values = np.where(i < half, fma(step, i.astype(dtype), kind(start)),
                          fma(-step, (steps - 1 - i).astype(dtype), kind(end)))
        return _made(values.astype(dtype), requires_grad, device)
    step = (end - start) / max(steps - 1, 1)
    values = np.where(i < half, start + step * i, end - step * (steps - 1 - i))
    return _made(values.astype(dtype), requires_grad, device)


def logspace(start: float, end: float, steps: int, base: float = 10.0, *, dtype: Any = None,
             device: Any = None, requires_grad: bool = False) -> Tensor:
    """base ** each of linspace(start, end, steps), as torch.logspace (computed in float64,
    then cast to dtype, the default float dtype unless given)."""
    exponents = linspace(start, end, steps, dtype=np.float64)._data
    values = np.power(np.float64(base), exponents)
    return _made(values.astype(np.dtype(dtype or get_default_dtype())), requires_grad, device)


class _New:
    """Tensor's `new_*` methods: a new tensor in this one's dtype unless `dtype` is given."""

    def new_tensor(self, data: Any, dtype: Any = None, device: Any = None,
                   requires_grad: bool = False) -> Tensor:
        return tensor(data, dtype or self.dtype, device, requires_grad)

    def new_zeros(self, *size: Any, dtype: Any = None, device: Any = None,
                  requires_grad: bool = False) -> Tensor:
        return zeros(*size, dtype=dtype or self.dtype, device=device, requires_grad=requires_grad)

    def new_ones(self, *size: Any, dtype: Any = None, device: Any = None,
                 requires_grad: bool = False) -> Tensor:
        return ones(*size, dtype=dtype or self.dtype, device=device, requires_grad=requires_grad)

    def new_empty(self, *size: Any, dtype: Any = None, device: Any = None,
                  requires_grad: bool = False) -> Tensor:
        return empty(*size, dtype=dtype or self.dtype, device=device, requires_grad=requires_grad)

    def new_full(self, size: Any, fill_value: Any, dtype: Any = None, device: Any = None,
                 requires_grad: bool = False) -> Tensor:
        return full(size, fill_value, dtype or self.dtype, device, requires_grad)


add_methods(Tensor, _New)
__all__ = ["tensor", "as_tensor", "from_numpy", "zeros", "ones", "empty", "full", "zeros_like", "ones_like",
           "empty_like", "full_like", "eye", "arange", "linspace", "logspace"]
