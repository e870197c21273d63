"""torch.testing: `assert_close`, the check PyTorch's own tests and tutorials use to compare
tensors, with PyTorch's default tolerances for each dtype and its messages.

Two tensors (or arrays, numbers, or sequences and mappings of them, compared entry by
entry) are close when they have one shape and dtype and |actual - expected| <= atol +
rtol * |expected| everywhere; ints and bools must be equal. Without rtol and atol, they
come from the dtype: float32 (1.3e-6, 1e-5), float64 (1e-7, 1e-7), float16 (1e-3, 1e-5).
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Callable

import numpy as np

from engine import dtypes
from engine.tensor import Tensor

_TOLERANCES = {np.dtype(np.float16): (1e-3, 1e-5), np.dtype(np.float32): (1.3e-6, 1e-5),
               np.dtype(np.float64): (1e-7, 1e-7)}  # (rtol, atol), PyTorch's


def assert_close(actual: Any, expected: Any, *, allow_subclasses: bool = True,
                 rtol: float | None = None, atol: float | None = None, equal_nan: bool = False,
                 check_device: bool = True, check_dtype: bool = True, check_layout: bool = True,
                 check_stride: bool = False, msg: str | Callable[[str], str] | None = None
                 ) -> None:
    """Raise an AssertionError saying where and by how much actual and expected differ,
    unless they are close (see the module's docstring); as torch.testing.assert_close."""
    if (rtol is None) != (atol is None):
        raise ValueError("Both 'rtol' and 'atol' must be either specified or omitted, but got "
                         f"no {'rtol' if rtol is None else 'atol'}.")
    problem = _difference(actual, expected, "", rtol, atol, equal_nan, check_dtype)
    if problem is not None:
        raise AssertionError(msg(problem) if callable(msg) else msg or problem)


def _difference(actual: Any, expected: Any, path: str, rtol: float | None, atol: float | None,
                equal_nan: bool, check_dtype: bool) -> str | None:
    """What differs between actual and expected, at `path` inside the containers; None if
    nothing does."""
    pairs = None
    if isinstance(actual, Mapping) and isinstance(expected, Mapping):
        if set(actual) != set(expected):
            return (f"The keys of the mappings do not match: {sorted(map(str, actual))} != "
                    f"{sorted(map(str, expected))}.")
        pairs = [(f"[{key!r}]", actual[key], expected[key]) for key in actual]
    elif _is_sequence(actual) and _is_sequence(expected):
        if len(actual) != len(expected):
            return f"The length of the sequences mismatch: {len(actual)} != {len(expected)}"
        pairs = [(f"[{i}]", a, e) for i, (a, e) in enumerate(zip(actual, expected))]
    if pairs is not None:
        for step, a, e in pairs:
            problem = _difference(a, e, path + step, rtol, atol, equal_nan, check_dtype)
            if problem is not None:
                return problem
        return None
    problem = _arrays_differ(_array(actual, "actual"), _array(expected, "expected"), rtol, atol,
                             equal_nan, check_dtype)
    return problem if problem is None or not path else (
        f"{problem}\n\nThe failure occurred for item {path}")


def _arrays_differ(a: np.ndarray, e: np.ndarray, rtol: float | None, atol: float | None,
                   equal_nan: bool, check_dtype: bool) -> str | None:
    if a.shape != e.shape:
        return (f"The values for attribute 'shape' do not match: torch.Size({list(a.shape)}) "
                f"!= torch.Size({list(e.shape)}).")
    if check_dtype and a.dtype != e.dtype:
        return (f"The values for attribute 'dtype' do not match: {dtypes.wrap(a.dtype)} != "
                f"{dtypes.wrap(e.dtype)}.")
    if rtol is None:  # the looser of the two dtypes' (ints and bools: exact)
        (r1, a1), (r2, a2) = (_TOLERANCES.get(x.dtype, (0.0, 0.0)) for x in (a, e))
        rtol, atol = max(r1, r2), max(a1, a2)
    # in the dtypes' common float dtype (float32 for ints, the default), as PyTorch computes
    # the differences it reports
    exact = a.dtype.kind != "f" and e.dtype.kind != "f"
    common = np.result_type(a.dtype, e.dtype)
    common = common if common.kind == "f" else np.dtype(np.float32 if exact else np.float64)
    af, ef = a.astype(common), e.astype(common)
    with np.errstate(invalid="ignore", over="ignore", divide="ignore"):
        difference = np.abs(af - ef)
        close = (difference <= atol + rtol * np.abs(ef)) | (af == ef)  # (== : infinities)
        relative = difference / np.abs(ef)
    if equal_nan:
        close |= np.isnan(af) & np.isnan(ef)
    if close.all():
        return None
    if exact:  # ints: the difference as an int, and no tolerance
        difference = np.abs(a.astype(np.int64) - e.astype(np.int64))
    allowed = {"absolute": "" if exact else f" (up to {atol} allowed)",
               "relative": "" if exact else f" (up to {rtol} allowed)"}
    if not a.ndim:
        return (f"Scalars are not {'equal' if exact else 'close'}!\n\nExpected {e.item()} but "
                f"got {a.item()}.\nAbsolute difference: {difference.item()}"
                f"{allowed['absolute']}\nRelative difference: {float(relative)}"
                f"{allowed['relative']}")
    bad = ~close
    lines = [f"Tensor-likes are not {'equal' if exact else 'close'}!", "",
             f"Mismatched elements: {int(bad.sum())} / {bad.size} "
             f"({100 * bad.sum() / bad.size:.1f}%)"]
    for name, values in (("absolute", difference), ("relative", relative)):
        at = np.unravel_index(int(np.argmax(values)), values.shape)  # (a nan counts as largest)
        value = values[at].item()
        value = value if exact and name == "absolute" else float(value)
        lines.append(f"Greatest {name} difference: {value} at index "
                     f"{tuple(int(i) for i in at)}{allowed[name]}")
    return "\n".join(lines)


def assert_allclose(actual: Any, expected: Any, rtol: float | None = None,
                    atol: float | None = None, equal_nan: bool = True, msg: str = "") -> None:
    """The older torch.testing.assert_allclose: assert_close without the dtype check, nan
    equal to nan by default."""
    assert_close(actual, expected, rtol=rtol, atol=atol, equal_nan=equal_nan,
                 check_dtype=False, msg=msg or None)


def _is_sequence(x: Any) -> bool:
    return isinstance(x, Sequence) and not isinstance(x, str)


def _array(x: Any, what: str) -> np.ndarray:
    if isinstance(x, Tensor):
        return x._data
    if isinstance(x, (np.ndarray, np.generic, bool, int, float)):
        # a Python float compares as float64 and an int as int64, as PyTorch's scalars
        return np.asarray(x)
    raise TypeError(f"assert_close compares Tensors, arrays, numbers and sequences or "
                    f"mappings of them; {what} is a {type(x).__name__}")


__all__ = ["assert_close", "assert_allclose"]
