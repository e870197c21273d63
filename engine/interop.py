"""How a Tensor meets Python and numpy: in another dtype or on a device (`float()`,
`long()`, `to(...)`), as a number (`item`, `float(t)`, `int(t)`, an
index), as lists (`tolist`), as a sequence (`len`, iteration), as text (PyTorch's printing),
and as an array: numpy's functions see a tensor as its array and give arrays, as for a
torch tensor; `array * t` stays a Tensor op in the graph; DLPack lets `torch.tensor(t)` and
`torch.from_dlpack(t)` read it.

The methods below are added to Tensor (the end of the file says so).
"""
from __future__ import annotations

from typing import Any

import numpy as np

from engine import dtypes, printing
from engine.tensor import Tensor, _raw, add_methods


class _LegacyType(type):
    """PyTorch's legacy typed tensors, torch.FloatTensor and the rest: calling one makes a
    tensor of its dtype (`torch.FloatTensor([1, 2])`, or `torch.LongTensor(2, 3)` of that
    shape, uninitialised), and isinstance(t, torch.FloatTensor) tells float32 tensors."""

    dtype: np.dtype

    def __call__(cls, *args: Any) -> Tensor:
        if len(args) == 1 and not isinstance(args[0], (int, np.integer)):
            return Tensor(_raw(args[0]), dtype=cls.dtype)  # data (a list, array, tensor)
        return Tensor(np.empty(args, cls.dtype))  # sizes

    def __instancecheck__(cls, obj: Any) -> bool:
        return isinstance(obj, Tensor) and obj._data.dtype == cls.dtype


LEGACY_TYPES = {name: _LegacyType(name, (), {"dtype": np.dtype(dtype)}) for name, dtype in (
    ("FloatTensor", np.float32), ("DoubleTensor", np.float64), ("HalfTensor", np.float16),
    ("LongTensor", np.int64), ("IntTensor", np.int32), ("ShortTensor", np.int16),
    ("CharTensor", np.int8), ("ByteTensor", np.uint8), ("BoolTensor", np.bool_))}
_LEGACY_NAMES = {cls.dtype: name for name, cls in LEGACY_TYPES.items()}
globals().update(LEGACY_TYPES)  # engine.FloatTensor, ...


class _Interop:
    """Tensor's conversions."""

    def float(self) -> Tensor:
        """As float32 (itself if it is), PyTorch's `.float()`; gradients go back in the old dtype."""
        return self._cast(np.float32)

    def double(self) -> Tensor:
        """As float64 (itself if it is), PyTorch's `.double()`."""
        return self._cast(np.float64)

    def half(self) -> Tensor:
        return self._cast(np.float16)

    def long(self) -> Tensor:
        """As int64 (itself if it is), PyTorch's `.long()`: class labels, indices."""
        return self._cast(np.int64)

    def int(self) -> Tensor:
        return self._cast(np.int32)

    def bool(self) -> Tensor:
        return self._cast(np.bool_)

    def type(self, dtype: Any = None) -> Any:
        """`t.type(dtype)` casts, as PyTorch's (a dtype, a legacy type such as
        torch.FloatTensor, or its name 'torch.FloatTensor'); `t.type()` names the legacy type."""
        if dtype is None:
            return f"torch.{_LEGACY_NAMES[self._data.dtype]}"
        if isinstance(dtype, str) and dtype.startswith("torch.") and dtype.endswith("Tensor"):
            dtype = LEGACY_TYPES[dtype.removeprefix("torch.")]
        return self._cast(dtype.dtype if isinstance(dtype, _LegacyType) else dtype)

    def type_as(self, other: Tensor) -> Tensor:
        return self._cast(other.dtype)

    def to(self, *args: Any, **kwargs: Any) -> Tensor:
        """`to(dtype)`, `to(device)`, `to(device, dtype)` or `to(other)`: a cast (itself when
        nothing changes, unless copy=True); the device must be the CPU (the only one this
        engine has)."""
        from engine.devices import dtype_of_to
        dtype, copy = dtype_of_to(args, dict(kwargs))
        out = self if dtype is None else self._cast(dtype)
        return out.clone() if copy and out is self else out

    def cpu(self) -> Tensor:
        return self

    def is_floating_point(self) -> bool:
        return self._data.dtype.kind == "f"

    def element_size(self) -> int:
        """Bytes per entry."""
        return self._data.itemsize

    @property
    def itemsize(self) -> int:
        return self._data.itemsize

    @property
    def nbytes(self) -> int:
        return self._data.nbytes

    def item(self) -> float | int | bool:
        """The one entry as a Python number."""
        if self._data.size != 1:
            raise ValueError(f"item() needs a one-entry tensor, this one has shape "
                             f"{self._data.shape}")
        return self._data.item()

    def tolist(self) -> Any:
        """The entries as (nested lists of) Python numbers."""
        return self._data.tolist()

    def __float__(self) -> float:
        return float(self.item())

    def __int__(self) -> int:  # int(t) of a one-entry tensor, as in PyTorch
        return int(self.item())

    def __index__(self) -> int:
        """range(t), lst[t]: a one-entry integer (or bool) tensor as an int, as in PyTorch."""
        if self._data.dtype.kind not in "iub":
            raise TypeError(f"only integer tensors can be used as an index, this one is "
                            f"{self._data.dtype}")
        return int(self.item())

    def __bool__(self) -> bool:
        if self._data.size != 1:
            raise RuntimeError(f"the truth value of a tensor of shape {self._data.shape} is "
                               "ambiguous; use .any() or .all()")
        return bool(self._data)

    def __len__(self) -> int:
        if not self._data.ndim:
            raise TypeError("len() of a 0-d tensor")
        return self._data.shape[0]

    def __iter__(self) -> Any:
        if not self._data.ndim:
            raise TypeError("iteration over a 0-d tensor")
        return (self[i] for i in range(self._data.shape[0]))

    def numpy(self, *, force: bool = False) -> np.ndarray:
        """The data array itself (shared, not copied; `force` is PyTorch's way past its
        refusals, which this engine does not make)."""
        return self._data

    def __array__(self, dtype: Any = None, copy: bool | None = None) -> np.ndarray:
        """The data for numpy (`np.asarray(t)`, `np.allclose(t, ...)`), shared unless copied."""
        return np.array(self._data, dtype=dtype, copy=copy)

    def __dlpack__(self, **kwargs: Any) -> Any:
        """The array through DLPack, so `torch.tensor(t)` and `torch.from_dlpack(t)` read it."""
        return self._data.__dlpack__(**kwargs)

    def __dlpack_device__(self) -> Any:
        return self._data.__dlpack_device__()

    def __array_function__(self, func: Any, types: Any, args: tuple, kwargs: dict) -> Any:
        """numpy's other functions (np.any, np.mean, np.concatenate, ...) see tensors as
        their arrays too."""
        return func(*_arrays(args), **_arrays(kwargs))

    def __array_ufunc__(self, ufunc: np.ufunc, method: str, *inputs: Any, **kwargs: Any) -> Any:
        """numpy's functions see a tensor as its array and give arrays, as for a torch tensor
        (`np.exp(t)`, `np.isfinite(t.grad)`, `np.clip(g, -1, 1, out=g)` in place); an
        operator with an array on the left (`array * t`) stays a Tensor op in the graph."""
        reflected = _REFLECTED.get(ufunc)
        if reflected and method == "__call__" and not kwargs and len(inputs) == 2:
            x, y = inputs
            return getattr(x, reflected[0])(y) if x is self else getattr(y, reflected[1])(x)
        if "out" in kwargs:
            kwargs["out"] = tuple(_raw(o) for o in kwargs["out"])
        return getattr(ufunc, method)(*(_raw(x) for x in inputs), **kwargs)

    def __repr__(self) -> str:
        """As PyTorch prints it: `tensor([1.5000, 2.0000], grad_fn=<MulBackward0>)`."""
        data, extras = self._data, []
        if not data.size and data.ndim != 1:
            extras.append(f"size={data.shape}")
        if data.dtype not in ((dtypes.get_default_dtype(),) if not data.size else
                              (dtypes.get_default_dtype(), dtypes.int64, dtypes.bool_)):
            extras.append(f"dtype=torch.{data.dtype}")
        if self._rule is not None:
            extras.append(f"grad_fn=<{self.grad_fn.name()}>")
        elif self.requires_grad:
            extras.append("requires_grad=True")
        if self.label:
            extras.append(f"label={self.label!r}")
        return printing.tensor_repr(data, extras)

    def __format__(self, spec: str) -> str:
        """f"{t}" and f"{t:.4f}" of a 0-d tensor format its number, as PyTorch's do."""
        return self.item().__format__(spec) if not self._data.ndim else object.__format__(self, spec)


def _arrays(x: Any) -> Any:
    """x with every Tensor in it (in lists, tuples and dicts too) replaced by its array."""
    if isinstance(x, Tensor):
        return x._data
    if isinstance(x, (list, tuple)):
        return type(x)(_arrays(v) for v in x)
    if isinstance(x, dict):
        return {k: _arrays(v) for k, v in x.items()}
    return x


# numpy's ufunc -> the Tensor methods for `tensor op other` and `other op tensor`
_REFLECTED = {np.add: ("__add__", "__radd__"), np.subtract: ("__sub__", "__rsub__"),
              np.multiply: ("__mul__", "__rmul__"), np.true_divide: ("__truediv__", "__rtruediv__"),
              np.power: ("__pow__", "__rpow__"), np.matmul: ("__matmul__", "__rmatmul__"),
              np.less: ("__lt__", "__gt__"), np.less_equal: ("__le__", "__ge__"),
              np.greater: ("__gt__", "__lt__"), np.greater_equal: ("__ge__", "__le__"),
              np.equal: ("__eq__", "__eq__"), np.not_equal: ("__ne__", "__ne__")}


add_methods(Tensor, _Interop)
