"""Dtypes as PyTorch names and promotes them, on numpy's dtypes.

`engine.float32`, `engine.long`, ... and `t.dtype` print as PyTorch's (`torch.float32`) and
stand for numpy dtypes (DType, below), so `t.dtype == engine.float32` and
`np.zeros(3, engine.long)` both work. A Python float (or a list of them) becomes the default
float dtype (float32, as in PyTorch; `set_default_dtype` changes it), a Python int int64,
a bool bool; numpy arrays keep their dtype.

When an op mixes dtypes, PyTorch's rule decides the result, and it differs from numpy's:
the operands are ranked by category, bool < int < float, and
- tensors with dims decide first; among them the usual promotion (float32 with float64 is
  float64, uint8 with int8 int16, but int64 with float32 is float32, not numpy's float64);
- a 0-d tensor counts only if its category is higher than theirs (a float32 vector times
  a float64 0-d tensor stays float32; an int vector times it is float64);
- a Python number likewise, and then as the default dtype of its category
  (`int_tensor * 0.5` is float32, `uint8_tensor - 1` stays uint8 and wraps around).
"""
from __future__ import annotations

from typing import Any, Iterable

import numpy as np

bool_ = np.dtype(np.bool_)
uint8 = np.dtype(np.uint8)
int8 = np.dtype(np.int8)
int16 = np.dtype(np.int16)
int32 = np.dtype(np.int32)
int64 = np.dtype(np.int64)
float16 = np.dtype(np.float16)
float32 = np.dtype(np.float32)
float64 = np.dtype(np.float64)



class _NoNumpyType:
    """A PyTorch dtype numpy has no type for (bfloat16): named, so code that lists PyTorch's
    dtypes runs, and refused with a clear error wherever a tensor would take it (numpy asks
    an object for its `.dtype`, which raises)."""

    def __init__(self, name: str) -> None:
        self.name = name

    @property
    def dtype(self) -> np.dtype:
        raise TypeError(f"{self.name}: numpy, which holds this engine's numbers, has no "
                        f"{self.name} type; use float32 (or float16)")

    def __repr__(self) -> str:
        return f"torch.{self.name}"


bfloat16 = _NoNumpyType("bfloat16")


class DType:
    """A dtype as PyTorch shows it (`torch.float32`, the class is `torch.dtype`), standing
    for a numpy dtype: it compares and hashes equal to that dtype, numpy takes it wherever
    it takes a dtype (through `.dtype`), and numpy's attributes (kind, itemsize, type, ...)
    are read through. Tensor.dtype and `engine.float32`, ... are these; the engine computes
    with the numpy dtypes underneath."""

    __slots__ = ("dtype", "name", "kind", "itemsize", "type")

    def __init__(self, numpy_dtype: np.dtype) -> None:
        self.dtype = numpy_dtype
        self.name, self.kind = numpy_dtype.name, numpy_dtype.kind
        self.itemsize, self.type = numpy_dtype.itemsize, numpy_dtype.type

    @property
    def is_floating_point(self) -> bool:
        return self.kind == "f"

    @property
    def is_signed(self) -> bool:
        return self.kind in "if"

    is_complex = False

    def __getattr__(self, name: str) -> Any:  # numpy's other attributes: char, str, ...
        return getattr(self.dtype, name)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, DType):
            return self.dtype == other.dtype
        try:
            return bool(self.dtype == other)
        except TypeError:  # (bfloat16, which numpy cannot read)
            return False

    def __hash__(self) -> int:
        return hash(self.dtype)

    def __repr__(self) -> str:
        return f"torch.{'bool' if self.kind == 'b' else self.name}"

    def __reduce__(self) -> tuple:  # unpickled as the one instance of its dtype
        return wrap, (self.dtype.str,)


_WRAPPED = {d: DType(d) for d in (bool_, uint8, int8, int16, int32, int64, float16, float32,
                                  float64)}


def wrap(numpy_dtype: Any) -> DType:
    """The DType of a numpy dtype (one instance per dtype)."""
    wrapped = _WRAPPED.get(numpy_dtype)
    if wrapped is None:
        numpy_dtype = np.dtype(numpy_dtype)
        wrapped = _WRAPPED.setdefault(numpy_dtype, DType(numpy_dtype))
    return wrapped


# PyTorch's names, as `engine` (and so `import engine as torch`) offers them
NAMES = {"bool": bool_, "uint8": uint8, "int8": int8, "int16": int16, "short": int16,
         "int32": int32, "int": int32, "int64": int64, "long": int64, "float16": float16,
         "half": float16, "float32": float32, "float": float32, "float64": float64,
         "double": float64}
NAMES = {**{name: _WRAPPED[d] for name, d in NAMES.items()}, "bfloat16": bfloat16,
         "dtype": DType}

_CATEGORY = {"b": 0, "u": 1, "i": 1, "f": 2}  # bool < int < float
_defaults = [bool_, int64, float32]  # the dtype of a Python bool, int and float, by category


def category(dtype: np.dtype) -> int:
    """0 for bool, 1 for ints, 2 for floats (a TypeError for anything else)."""
    try:
        return _CATEGORY[dtype.kind]
    except KeyError:
        raise TypeError(f"tensors hold bools, ints or floats, not {dtype}") from None


def get_default_dtype() -> DType:
    """The dtype Python floats become (float32 unless set_default_dtype changed it)."""
    return wrap(_defaults[2])


def set_default_dtype(d: Any) -> None:
    """Make Python floats (and float factories without a dtype) become `d`, as PyTorch's."""
    dtype = np.dtype(d)
    if dtype.kind != "f":
        raise TypeError(f"set_default_dtype takes a float dtype (float32 or float64), got {dtype}")
    _defaults[2] = dtype


def default_for(kind: int) -> np.dtype:
    """The dtype a Python number of this category becomes."""
    return _defaults[kind]


def promote(a: np.dtype, b: np.dtype) -> np.dtype:
    """PyTorch's promote_types: within a category as numpy does; across, the higher one."""
    if a == b:
        return a
    ca, cb = category(a), category(b)
    if ca != cb:
        return a if ca > cb else b
    return np.promote_types(a, b)


def _combine(higher: np.dtype | None, lower: np.dtype | None) -> np.dtype | None:
    """A weaker group's dtype counts only if its category is higher (c10's combine_categories)."""
    if higher is None:
        return lower
    if lower is None or category(higher) == 2:
        return higher
    if category(higher) == 0 or category(lower) == 2:
        return promote(higher, lower)
    return higher


def _promote_all(dtypes: Iterable[np.dtype]) -> np.dtype | None:
    result = None
    for d in dtypes:
        result = d if result is None else promote(result, d)
    return result


def result_dtype(dims: Iterable[np.dtype], zero_dims: Iterable[np.dtype],
                 numbers: Iterable[int]) -> np.dtype:
    """The dtype of an op on tensors with dims, 0-d tensors and Python numbers (by category)."""
    numbers = _promote_all(_defaults[c] for c in numbers)
    result = _combine(_promote_all(dims), _combine(_promote_all(zero_dims), numbers))
    if result is None:
        raise TypeError("an op needs at least one operand")
    return result


def as_array(data: Any, dtype: Any = None, what: str = "data") -> np.ndarray:
    """data as a numpy array of bools, ints or floats, as `torch.tensor` reads it.

    Python floats become the default float dtype; numpy arrays keep theirs unless `dtype`
    says otherwise. A TypeError names anything that is not numbers.
    """
    try:
        array = np.asarray(data)
    except ValueError as e:  # ragged nested lists
        raise ValueError(f"{what} must be a rectangular array of numbers: {e}") from None
    if array.dtype.kind not in "biuf":
        raise TypeError(f"{what} must be numbers (bool, int or float), got "
                        f"{type(data).__name__} {data!r:.60} (numpy dtype {array.dtype})")
    if dtype is not None:
        target = np.dtype(dtype)
        if target.kind not in "biuf":
            raise TypeError(f"{what}: dtype must be a bool, int or float dtype, got {target}")
    elif array.dtype.kind == "f" and not isinstance(data, (np.ndarray, np.generic)):
        target = _defaults[2]  # Python floats, as PyTorch: the default float dtype
    elif array.dtype.kind in "iu" and not isinstance(data, (np.ndarray, np.generic)):
        target = int64
    else:
        return array
    return array if array.dtype == target else array.astype(target)


def promote_types(type1: Any, type2: Any) -> DType:
    """The dtype two dtypes promote to, as torch.promote_types (float32 with int64 is float32)."""
    return wrap(promote(np.dtype(type1), np.dtype(type2)))


def result_type(tensor1: Any, tensor2: Any) -> DType:
    """The dtype an op on these two (tensors or Python numbers) gives, as torch.result_type."""
    dims, zero_dims, numbers = [], [], []
    for x in (tensor1, tensor2):
        array = getattr(x, "_data", None)
        if array is not None:
            (dims if array.ndim else zero_dims).append(array.dtype)
        elif isinstance(x, (bool, int, float)):
            numbers.append(0 if isinstance(x, bool) else 1 if isinstance(x, int) else 2)
        else:
            raise TypeError(f"result_type takes Tensors or Python numbers, got {type(x).__name__}")
    return wrap(result_dtype(dims, zero_dims, numbers))


def _dtype_for_info(type: Any, kinds: str, fn: str) -> np.dtype:
    dtype = np.dtype(_defaults[2] if type is None else type)
    if dtype.kind not in kinds:
        raise TypeError(f"{fn} takes a {'float' if kinds == 'f' else 'int'} dtype, got {dtype} "
                        f"(use {'iinfo' if kinds == 'f' else 'finfo'})")
    return dtype


class finfo:
    """A float dtype's limits, as torch.finfo: bits, eps, max, min, tiny (=
    smallest_normal) and resolution, as Python floats (numpy's finfo, which has the same
    fields); finfo() describes the default float dtype."""

    def __init__(self, type: Any = None) -> None:
        dtype = _dtype_for_info(type, "f", "finfo")
        info = np.finfo(dtype)
        self.bits, self.dtype = info.bits, dtype.name
        self.eps, self.max, self.min = float(info.eps), float(info.max), float(info.min)
        self.tiny = self.smallest_normal = float(info.smallest_normal)
        self.resolution = 10.0 ** -info.precision  # PyTorch gives the power of ten exactly

    def __repr__(self) -> str:
        return (f"finfo(resolution={self.resolution}, min={self.min}, max={self.max}, "
                f"eps={self.eps}, smallest_normal={self.smallest_normal}, tiny={self.tiny}, "
                f"dtype={self.dtype})")


class iinfo:
    """An int dtype's limits, as torch.iinfo: bits, max, min (Python ints; numpy's iinfo)."""

    def __init__(self, type: Any) -> None:
        dtype = _dtype_for_info(type, "iu", "iinfo")
        info = np.iinfo(dtype)
        self.bits, self.dtype = info.bits, dtype.name
        self.max, self.min = int(info.max), int(info.min)

    def __repr__(self) -> str:
        return f"iinfo(min={self.min}, max={self.max}, dtype={self.dtype})"
