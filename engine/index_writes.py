"""Tensor ops that write entries at an index, as PyTorch's: scatter (a tensor's entries or
one value), scatter_add, scatter_reduce ('sum', 'prod', 'mean', 'amax', 'amin'),
index_add, index_copy, index_fill, index_put, masked_scatter, put, select_scatter,
slice_scatter and diagonal_scatter; and the reads that go with them, take and
take_along_dim.

Each writes with engine/shapes.py's index_put op (a copy of the tensor with values put at
an index, or added there) and reads with indexing, so none has derivative code of its own:
the tensor written into gets g with the written places zeroed (all of g where values are
added), and the values get g read back at their places, as PyTorch's rules give.
scatter_reduce's 'prod', 'amax' and 'amin' gather each place's values into rows and reduce
those with prod, amax and amin, whose rules are PyTorch's here too: the product of the
others (zeros included), and ties sharing g evenly. (PyTorch's amax and amin also count
the tensor's own entry among the ties when it equals the result but include_self is
False; so does this one, and, as there, that entry gets no gradient.)

Each is both the Tensor method and PyTorch's function. The in-place forms (`scatter_`,
`index_add_`, `index_put_`, ...) record the op in the graph as engine/inplace.py's do, so
`out = zeros(n); out.scatter_(0, i, x)` sends x its gradient.
"""
from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from engine import reductions, shapes  # modules: both may still be loading when this is
from engine.dtypes import as_array
from engine.tensor import Tensor, _as_tensor, _called, _cast_to, _leaf, _raw
from engine.in_place_forms import in_place_form

_REDUCTIONS = ("sum", "prod", "mean", "amax", "amin")


# --- checking the arguments ---

def _index_array(index: Any, op: str) -> np.ndarray:
    """The entries of an index tensor, which must hold int64 or int32, as PyTorch's."""
    idx = np.asarray(index._data if isinstance(index, Tensor) else index)
    if idx.dtype not in (np.int64, np.int32):
        raise TypeError(f"{op}(): the index must be an int64 (or int32) tensor, got {idx.dtype}")
    return idx


def _in_range(idx: np.ndarray, size: int, dim: int, op: str, negative: bool = False) -> np.ndarray:
    """idx, each entry checked to lie in [0, size) (in [-size, size) when `negative`, then
    counted from the end), or an IndexError naming the first that does not."""
    low = -size if negative else 0
    bad = (idx < low) | (idx >= size)
    if bad.any():
        raise IndexError(f"{op}(): index {idx[bad].flat[0]} is out of bounds for dimension "
                         f"{dim} with size {size}")
    return idx % max(size, 1) if negative else idx


def _same_dtype(input: Tensor, values: Tensor, op: str, name: str) -> Tensor:
    if values._data.dtype != input._data.dtype:
        raise TypeError(f"{op}(): {name} is {values._data.dtype} but the tensor written into is "
                        f"{input._data.dtype}; they must match, as in PyTorch (convert one "
                        "with .to(dtype))")
    return values


def _value(value: Any, input: Tensor, op: str) -> Tensor:
    """A number (or a 0-d tensor) to write, in input's dtype; a tensor keeps its graph."""
    if isinstance(value, Tensor):
        if value._data.ndim:
            raise ValueError(f"{op}(): the value must be a number or a 0-d tensor, got shape "
                             f"{value._data.shape}")
        return _cast_to(value, input._data.dtype)
    return _leaf(np.array(as_array(value, what=f"{op} value")).astype(input._data.dtype))


# --- scatter and its reductions: the index says where along dim, its own place the rest ---

def _scatter_setup(input: Tensor, dim: int, index: Any, src: Tensor | None,
                   op: str) -> tuple[Tensor, tuple, Tensor | None, int]:
    """(input as at least 1-D, the numpy index of the places written, src cut to index's
    shape, dim), after PyTorch's checks. A 0-d tensor, index or src counts as 1-D."""
    x = input.reshape(1) if not input._data.ndim else input
    idx = _index_array(index, op)
    idx = idx.reshape(1) if not idx.ndim else idx
    d = shapes.dim_index(dim, x._data.ndim, op)
    if idx.ndim != x._data.ndim:
        raise ValueError(f"{op}(): the index must have the tensor's number of dims, "
                         f"{x._data.ndim}, got shape {idx.shape}")
    if src is not None:
        src = src.reshape(1) if not src._data.ndim else src
        if src._data.ndim != idx.ndim:
            raise ValueError(f"{op}(): the index must have src's number of dims, "
                             f"{src._data.ndim}, got shape {idx.shape}")
    fits = all(n <= m for k, (n, m) in enumerate(zip(idx.shape, x._data.shape)) if k != d)
    if not fits or (src is not None and any(n > m for n, m in zip(idx.shape, src._data.shape))):
        raise ValueError(f"{op}(): index of shape {idx.shape} must be no larger than the "
                         f"tensor's shape {x._data.shape} apart from dim {d}, and no larger "
                         f"than src's shape {None if src is None else src._data.shape}")
    idx = _in_range(idx, x._data.shape[d], d, op)
    grid = list(np.ogrid[tuple(slice(n) for n in idx.shape)])
    grid[d] = idx
    if src is not None and src._data.shape != idx.shape:
        src = src[tuple(slice(n) for n in idx.shape)]
    return x, tuple(grid), src, d


def _shaped_as(out: Tensor, input: Tensor, op: str) -> Tensor:
    """out (computed on a 1-D view of a 0-d input) back in input's shape, named `op`."""
    if out._data.shape != input._data.shape:
        out = out.reshape(input._data.shape)
    return _called(out, op)


def scatter(input: Tensor, dim: int, index: Any, src: Any = None, value: Any = None, *,
            reduce: str | None = None) -> Tensor:
    """A copy of input with src's entries written along dim at the places index gives:
    out[index[i][j]][j] = src[i][j] for dim 0 (or `value` everywhere index points), as
    torch.scatter. d input = g with the written places zeroed, d src = g read back at index
    (gather's). `reduce` ('add' or 'multiply', PyTorch's older form) combines instead of
    writing, as scatter_reduce's 'sum' and 'prod' with the tensor's own entries included."""
    if src is None and value is None:
        raise TypeError("scatter() needs src (a tensor) or value (a number)")
    if value is None and not isinstance(src, Tensor):
        src, value = None, src
    if reduce is not None:
        if reduce not in ("add", "multiply"):
            raise ValueError(f"scatter(): reduce must be 'add' or 'multiply', got {reduce!r}")
        if src is not None:
            warnings.warn("The reduce argument of torch.scatter with Tensor src is deprecated "
                          "and will be removed in a future PyTorch release. Use "
                          "torch.scatter_reduce instead for more reduction options.",
                          UserWarning, stacklevel=2)
        else:
            shape = np.shape(_raw(index))
            src = _leaf(np.full(shape, _value(value, input, "scatter")._data, input._data.dtype))
        out = scatter_reduce(input, dim, index, src, "sum" if reduce == "add" else "prod")
        return _called(out, "scatter")
    if src is not None:
        _same_dtype(input, _as_tensor(src), "scatter", "src")
        x, where, part, _ = _scatter_setup(input, dim, index, src, "scatter")
        return _shaped_as(shapes._index_put(x, where, part, accumulate=False), input, "scatter")
    x, where, _, _ = _scatter_setup(input, dim, index, None, "scatter")
    written = shapes._index_put(x, where, _value(value, input, "scatter"), accumulate=False)
    return _shaped_as(written, input, "scatter_value")


def scatter_add(input: Tensor, dim: int, index: Any, src: Tensor) -> Tensor:
    """A copy of input with src's entries added along dim at the places index gives (each
    place summing every entry sent there), as torch.scatter_add; d input = g, d src = g
    read back at index."""
    _same_dtype(input, _as_tensor(src), "scatter_add", "src")
    x, where, part, _ = _scatter_setup(input, dim, index, src, "scatter_add")
    return _shaped_as(shapes._index_put(x, where, part, accumulate=True), input, "scatter_add")


def scatter_reduce(input: Tensor, dim: int, index: Any, src: Tensor, reduce: str, *,
                   include_self: bool = True) -> Tensor:
    """A copy of input where each place index points at holds the reduction ('sum',
    'prod', 'mean', 'amax' or 'amin') of the src entries sent there, and of input's own
    entry unless include_self is False, as torch.scatter_reduce. 'mean' of ints rounds
    down, as PyTorch's. The gradient is the reduction's: g for a sum, g / count for a mean,
    the product of the others for a product, g shared evenly among the ties for amax and
    amin; places no entry is sent to keep input's entry and its gradient."""
    if reduce not in _REDUCTIONS:
        raise ValueError(f"scatter_reduce(): reduce must be one of {', '.join(_REDUCTIONS)}, "
                         f"got {reduce!r}")
    src = _same_dtype(input, _as_tensor(src), "scatter_reduce", "src")
    x, where, part, _ = _scatter_setup(input, dim, index, src, "scatter_reduce")
    if not part._data.size:
        return _shaped_as(x.clone(), input, "scatter_reduce")
    if reduce in ("sum", "mean"):
        base = x if include_self else shapes._index_put(
            x, where, _leaf(np.zeros((), x._data.dtype)), accumulate=False)
        out = shapes._index_put(base, where, part, accumulate=True)
        if reduce == "mean":
            count = np.full(x._data.shape, int(include_self), np.int64)
            np.add.at(count, where, 1)
            count = np.maximum(count, 1).astype(x._data.dtype)
            out = out / count if x._data.dtype.kind == "f" else _leaf(
                np.floor_divide(out._data, count))
    else:
        out = _reduced_rows(x, where, part, reduce, include_self)
    return _shaped_as(out, input, "scatter_reduce")


def _identity(reduce: str, dtype: np.dtype) -> Any:
    """What amax ('amin') starts from: the smallest (largest) value of dtype."""
    if dtype.kind == "f":
        return -np.inf if reduce == "amax" else np.inf
    info = np.iinfo(dtype)
    return info.min if reduce == "amax" else info.max


def _reduced_rows(x: Tensor, where: tuple, part: Tensor, reduce: str,
                  include_self: bool) -> Tensor:
    """scatter_reduce's 'prod', 'amax' and 'amin': each place's members (the src entries
    sent there, after input's own entry when it takes part) gathered into rows, the rows of
    one length reduced together by prod, amax or amin, the results written at their places.

    One row per place, so no padding value can tie with the members; a loop over the row
    lengths that occur, not over entries."""
    shape, n = x._data.shape, x._data.size
    target = np.ravel_multi_index(np.broadcast_arrays(*where), shape).reshape(-1)
    places = np.unique(target)
    if reduce == "prod":
        own = places if include_self else places[:0]
        entries = x.reshape(-1) if include_self else None
    else:  # PyTorch counts input's entry among the ties when it equals the result
        result = x._data.copy()
        if not include_self:
            result[where] = _identity(reduce, result.dtype)
        with np.errstate(invalid="ignore"):  # (nan, which the result takes on, as PyTorch)
            (np.maximum if reduce == "amax" else np.minimum).at(result, where, part._data)
        flat_result, flat_x = result.reshape(-1), x._data.reshape(-1)
        own = places if include_self else places[flat_x[places] == flat_result[places]]
        entries = x.reshape(-1) if include_self else _leaf(flat_x)
    members = shapes.cat([entries, part.reshape(-1)]) if entries is not None else part.reshape(-1)
    offset = n if entries is not None else 0
    place_of = np.concatenate([own, target])  # own entries first: a row starts with them
    member = np.concatenate([own, offset + np.arange(target.size)])
    order = np.argsort(place_of, kind="stable")
    member = member[order]
    counts = np.bincount(place_of, minlength=n)[places]
    starts = np.cumsum(counts) - counts
    reducer = {"prod": reductions.prod, "amax": reductions.amax, "amin": reductions.amin}[reduce]
    results, written = [], []
    for length in np.unique(counts):
        rows = np.nonzero(counts == length)[0]
        picks = member[starts[rows, None] + np.arange(length)]
        results.append(reducer(members[picks], -1))
        written.append(places[rows])
    values = results[0] if len(results) == 1 else shapes.cat(results)
    at = np.unravel_index(np.concatenate(written), shape)
    return shapes._index_put(x, at, values, accumulate=False)


# --- the index_* ops: whole slices along dim, one per index entry ---

def _slices_setup(input: Tensor, dim: int, index: Any, source: Tensor | None, op: str,
                  negative: bool = False) -> tuple[Tensor, int, np.ndarray]:
    """(input as at least 1-D, dim, the 1-D index checked against dim's size) for the
    index_* ops; source, when given, must be input's shape with one slice per index entry."""
    x = input.reshape(1) if not input._data.ndim else input
    d = shapes.dim_index(dim, x._data.ndim, op)
    idx = _index_array(index, op)
    if idx.ndim > 1:
        raise ValueError(f"{op}(): the index must be 0-d or 1-D, got shape {idx.shape}")
    idx = _in_range(idx.reshape(-1), x._data.shape[d], d, op, negative)
    if source is not None:
        want = x._data.shape[:d] + (idx.size,) + x._data.shape[d + 1:]
        got = source._data.shape or (1,)
        if got != want:
            raise ValueError(f"{op}(): source must have the tensor's shape with one slice per "
                             f"index entry along dim {d}, {want}; got {source._data.shape}")
    return x, d, idx


def index_add(input: Tensor, dim: int, index: Any, source: Tensor, *, alpha: Any = 1) -> Tensor:
    """A copy of input with alpha * source[..., i, ...] added to slice index[i] along dim
    (repeated indices add up), as torch.index_add; d input = g, d source = alpha g[index]."""
    source = _same_dtype(input, _as_tensor(source), "index_add", "source")
    x, d, idx = _slices_setup(input, dim, index, source, "index_add")
    value = source.reshape(x._data.shape[:d] + (idx.size,) + x._data.shape[d + 1:])
    added = shapes._index_put(x, shapes._along(d, idx), value if alpha == 1 else value * alpha,
                              accumulate=True)
    return _shaped_as(added, input, "index_add")


def index_copy(input: Tensor, dim: int, index: Any, source: Tensor) -> Tensor:
    """A copy of input with source[..., i, ...] written to slice index[i] along dim, as
    torch.index_copy; d input = g with those slices zeroed, d source = g[index]."""
    source = _same_dtype(input, _as_tensor(source), "index_copy", "source")
    x, d, idx = _slices_setup(input, dim, index, source, "index_copy")
    value = source.reshape(x._data.shape[:d] + (idx.size,) + x._data.shape[d + 1:])
    copied = shapes._index_put(x, shapes._along(d, idx), value, accumulate=False)
    return _shaped_as(copied, input, "index_copy")


def index_fill(input: Tensor, dim: int, index: Any, value: Any) -> Tensor:
    """A copy of input with the slices index names along dim (negative ones counted from
    the end) filled with value, a number or a 0-d tensor, as torch.index_fill; d input = g
    with those slices zeroed, d value = the sum of g over them (each slice once)."""
    x, d, idx = _slices_setup(input, dim, index, None, "index_fill", negative=True)
    filled = shapes._index_put(x, shapes._along(d, np.unique(idx)),
                               _value(value, input, "index_fill"), accumulate=False)
    return _shaped_as(filled, input, "index_fill_tensor" if isinstance(value, Tensor)
                      else "index_fill")


def index_put(input: Tensor, indices: Any, values: Any, accumulate: bool = False) -> Tensor:
    """A copy of input with values written at input[indices] (a tuple of int or bool index
    tensors, None for a whole dim), or added there when `accumulate`, as torch.index_put;
    the assignment `t[indices] = values` without changing t. d input = g with the written
    places zeroed (all of g when accumulating), d values = g[indices]."""
    if not isinstance(indices, (tuple, list)):
        raise TypeError(f"index_put(): indices must be a tuple or list of index tensors, got "
                        f"{type(indices).__name__}")
    parts = []
    for k, part in enumerate(indices):
        if part is None:
            parts.append(slice(None))
            continue
        array = np.asarray(_raw(part))
        if array.dtype not in (np.int64, np.int32, np.bool_, np.uint8):
            raise TypeError(f"index_put(): index {k} must be an int64, int32 or bool tensor, "
                            f"got {array.dtype}")
        parts.append(array.astype(bool) if array.dtype == np.uint8 else array)
    values = _same_dtype(input, _as_tensor(values), "index_put", "values")
    try:
        return shapes._index_put(input, tuple(parts), values, accumulate=bool(accumulate))
    except IndexError as e:
        raise IndexError(f"index_put(): the indices do not fit a tensor of shape "
                         f"{input._data.shape}: {e}") from None


def masked_scatter(input: Tensor, mask: Any, source: Tensor) -> Tensor:
    """A copy of input (broadcast with mask) with source's first entries, in order, written
    where the bool mask is True, as torch.masked_scatter; d input = g where the mask is
    False, d source = g[mask] at its first entries, 0 at the rest."""
    marks = np.asarray(_raw(mask))
    if marks.dtype != np.bool_:
        raise TypeError(f"masked_scatter(): the mask must be a bool tensor, got {marks.dtype}")
    source = _same_dtype(input, _as_tensor(source), "masked_scatter", "source")
    try:
        shape = np.broadcast_shapes(input._data.shape, marks.shape)
    except ValueError:
        raise ValueError(f"masked_scatter(): a mask of shape {marks.shape} does not broadcast "
                         f"with the tensor's shape {input._data.shape}") from None
    x = input if input._data.shape == shape else input.expand(shape)
    marks = np.broadcast_to(marks, shape)
    count = int(marks.sum())
    if source._data.size < count:
        raise ValueError(f"masked_scatter(): the mask marks {count} places but source has only "
                         f"{source._data.size} entries")
    flat = source.reshape(-1)
    part = flat if flat._data.size == count else flat[:count]
    return _called(shapes._index_put(x, marks, part, accumulate=False), "masked_scatter")


def put(input: Tensor, index: Any, source: Tensor, accumulate: bool = False) -> Tensor:
    """A copy of input with source's entries written at the flat positions index gives
    (input seen as 1-D, negative positions counted from the end), or added there when
    `accumulate`, as torch.put; d input = g with the written places zeroed (all of g when
    accumulating), d source = g read back at index."""
    source = _same_dtype(input, _as_tensor(source), "put", "source")
    idx = _index_array(index, "put").reshape(-1)
    if idx.size != source._data.size:
        raise ValueError(f"put(): source and index must have as many entries, got "
                         f"{source._data.size} and {idx.size}")
    x = input.reshape(1) if not input._data.ndim else input
    idx = _flat_positions(idx, x._data.size, "put")
    written = shapes._index_put(x, np.unravel_index(idx, x._data.shape), source.reshape(-1),
                                accumulate=bool(accumulate))
    return _shaped_as(written, input, "put")


def _flat_positions(idx: np.ndarray, n: int, op: str) -> np.ndarray:
    """Flat positions in [-n, n), counted from the end when negative, or an IndexError."""
    bad = (idx < -n) | (idx >= n)
    if bad.any():
        raise IndexError(f"{op}(): out of range: tried to access index {idx[bad][0]} on a "
                         f"tensor of {n} elements")
    return idx % max(n, 1)


# --- writing one slice, a range of slices or a diagonal ---

def _embedded(input: Tensor, src: Any, where: Any, slot_shape: tuple, op: str) -> Tensor:
    """A copy of input with src (cast to input's dtype) written at `where`, whose shape
    is slot_shape; d input = g with that part zeroed, d src = that part of g."""
    src = _as_tensor(src)
    if src._data.shape != slot_shape:
        raise ValueError(f"{op}(): src must have the shape of the part it replaces, "
                         f"{slot_shape}; got {src._data.shape}")
    return _called(shapes._index_put(input, where, _cast_to(src, input._data.dtype),
                                     accumulate=False), op)


def select_scatter(input: Tensor, src: Any, dim: int, index: int) -> Tensor:
    """A copy of input with the slice input.select(dim, index) replaced by src, as
    torch.select_scatter."""
    d = shapes.dim_index(dim, input._data.ndim, "select_scatter")
    size = input._data.shape[d]
    if not -size <= index < size:
        raise IndexError(f"select_scatter(): index {index} is out of range for dim {d} of "
                         f"size {size}")
    where = shapes._along(d, index % size)
    return _embedded(input, src, where, input._data[where].shape, "select_scatter")


def slice_scatter(input: Tensor, src: Any, dim: int = 0, start: int | None = None,
                  end: int | None = None, step: int = 1) -> Tensor:
    """A copy of input with the slice start:end:step along dim replaced by src, as
    torch.slice_scatter."""
    if step <= 0:
        raise ValueError(f"slice_scatter(): step must be positive, got {step}")
    d = shapes.dim_index(dim, input._data.ndim, "slice_scatter")
    where = shapes._along(d, slice(start, end, step))
    return _embedded(input, src, where, input._data[where].shape, "slice_scatter")


def diagonal_scatter(input: Tensor, src: Any, offset: int = 0, dim1: int = 0,
                     dim2: int = 1) -> Tensor:
    """A copy of input with its diagonal input.diagonal(offset, dim1, dim2) replaced by
    src (the diagonal as its last dim), as torch.diagonal_scatter."""
    ndim = input._data.ndim
    if ndim < 2:
        raise ValueError(f"diagonal_scatter(): needs a tensor of at least 2 dims, got shape "
                         f"{input._data.shape}")
    d1, d2 = (shapes.dim_index(d, ndim, "diagonal_scatter") for d in (dim1, dim2))
    if d1 == d2:
        raise ValueError(f"diagonal_scatter(): dim1 and dim2 must differ, both are {d1}")
    diagonal = input._data.diagonal(offset, d1, d2)
    start = max(-offset, 0)
    rows = np.arange(start, start + diagonal.shape[-1])
    where = tuple(rows if k == d1 else rows + offset if k == d2 else slice(None)
                  for k in range(ndim))
    src = _as_tensor(src)
    if src._data.shape != diagonal.shape:
        raise ValueError(f"diagonal_scatter(): src must have the diagonal's shape "
                         f"{diagonal.shape}; got {src._data.shape}")
    # numpy puts the diagonal's dim where the two index arrays stand when they are
    # neighbours, else first; the diagonal's own layout has it last
    to = min(d1, d2) if abs(d1 - d2) == 1 else 0
    moved = src if to == ndim - 2 else shapes.movedim(src, -1, to)
    return _embedded(input, moved, where, input._data[where].shape, "diagonal_scatter")


# --- reads ---

def take(input: Tensor, index: Any) -> Tensor:
    """The entries of input seen as 1-D at the positions index gives (negative ones counted
    from the end), in index's shape, as torch.take; d input = g put back there (summed where
    a position is taken twice)."""
    idx = _index_array(index, "take")
    flat = input.reshape(-1)
    return _called(flat[_flat_positions(idx, flat._data.size, "take")], "take")


def take_along_dim(input: Tensor, indices: Any, dim: int | None = None) -> Tensor:
    """Entries picked along dim by indices, the two broadcast in the other dims, as
    torch.take_along_dim (of input and indices seen as 1-D when dim is None); gather's
    gradient."""
    idx = _index_array(indices, "take_along_dim")
    if dim is None:
        flat = input.reshape(-1)
        picks = _in_range(idx.reshape(-1), flat._data.size, 0, "take_along_dim")
        return shapes.gather(flat, 0, picks)
    if idx.ndim != input._data.ndim:
        raise ValueError(f"take_along_dim(): input and indices must have as many dims, got "
                         f"{input._data.ndim} and {idx.ndim}")
    d = shapes.dim_index(dim, max(input._data.ndim, 1), "take_along_dim")
    if not idx.ndim:
        return shapes.gather(input, d, _in_range(idx, 1, 0, "take_along_dim"))
    wanted = list(input._data.shape)
    wanted[d] = idx.shape[d]
    try:
        shape = np.broadcast_shapes(tuple(wanted), idx.shape)
    except ValueError:
        raise ValueError(f"take_along_dim(): input of shape {input._data.shape} and indices of "
                         f"shape {idx.shape} do not broadcast apart from dim {d}") from None
    idx = _in_range(np.broadcast_to(idx, shape), input._data.shape[d], d, "take_along_dim")
    full = shape[:d] + (input._data.shape[d],) + shape[d + 1:]
    x = input if input._data.shape == full else input.expand(full)
    return shapes.gather(x, d, idx)


# --- the in-place forms ---

_IN_PLACE = (scatter, scatter_add, scatter_reduce, index_add, index_copy, index_fill, index_put,
             masked_scatter, put)
for _op in (*_IN_PLACE, select_scatter, slice_scatter, diagonal_scatter, take, take_along_dim):
    setattr(Tensor, _op.__name__, _op)
for _op in _IN_PLACE:
    setattr(Tensor, f"{_op.__name__}_", in_place_form(_op))
__all__ = ["scatter", "scatter_add", "scatter_reduce", "index_add", "index_copy", "index_fill",
           "index_put", "masked_scatter", "put", "select_scatter", "slice_scatter",
           "diagonal_scatter", "take", "take_along_dim"]
