"""Tensor ops that pick or move entries without changing them: indexing (`a[index]`, and
the op that writes values at an index, which in-place assignment records), reshape and
view, permute and transpose, squeeze and unsqueeze, flatten, expand, gather, tril and
triu, cat and stack, split and chunk.

Each is one function, both the Tensor method and PyTorch's function (where PyTorch has
one). The gradient of a rearrangement is the same rearrangement undone.
"""
from __future__ import annotations

from typing import Any, Callable, Sequence

import numpy as np

from engine.in_place_forms import in_place_form
from engine.tensor import (Operand, Tensor, _as_tensor, _called, _leaf, _node, _operands,
                           _private, _raw, _saves_nothing)


def _sizes(args: tuple) -> tuple:
    """f(2, 3) and f((2, 3)) (or a list, or a torch.Size-like tuple) as (2, 3)."""
    return tuple(args[0]) if len(args) == 1 and isinstance(args[0], (tuple, list)) else args


def dim_index(dim: int, ndim: int, op: str) -> int:
    """dim, counted from the end when negative, as an index in [0, ndim), or an IndexError."""
    if not isinstance(dim, (int, np.integer)) or isinstance(dim, bool) or not -ndim <= dim < ndim:
        raise IndexError(f"{op}: dim {dim!r} is out of range for {ndim} dims "
                         f"(from {-ndim} to {ndim - 1})")
    return int(dim) % ndim


# --- indexing: a[index], and writing values at an index ---

def _index(index: Any, shape: tuple) -> Any:
    """An index into a tensor of `shape` for numpy, meaning what it means to PyTorch: Tensors
    and ranges as arrays, and ints beside arrays applied first (_ints_first)."""
    if isinstance(index, Tensor):
        return index._data
    if isinstance(index, range):
        return np.arange(index.start, index.stop, index.step)
    if isinstance(index, tuple):
        index = tuple(_index(i, shape) if isinstance(i, (Tensor, range)) else i for i in index)
        if any(_is_int(i) for i in index) and any(_is_array(i) for i in index):
            return _ints_first(index, shape)
    return index


def _is_int(part: Any) -> bool:
    return isinstance(part, (int, np.integer)) and not isinstance(part, bool)


def _is_array(part: Any) -> bool:
    return isinstance(part, (np.ndarray, list))


def _ints_first(index: tuple, shape: tuple) -> tuple:
    """`index`, mixing ints and arrays, as one array per dim of the picked entries' positions,
    where numpy and PyTorch agree. PyTorch selects with the ints first, then indexes what is
    left with the arrays; numpy counts the ints among the arrays, so x[0, :, [0, 1]] of a
    (2, 3, 4) tensor would be (2, 3) there, not PyTorch's (3, 2)."""
    arrays = [np.asarray(i) if _is_array(i) else i for i in index]
    first = tuple(p for a in arrays for p in (  # a mask covers as many dims as it has
        [slice(None)] * (a.ndim if a.dtype == np.bool_ else 1) if _is_array(a) else [a]))
    then = tuple(a if isinstance(a, np.ndarray) or a is Ellipsis else slice(None)
                 for a in arrays if not _is_int(a))
    grids = np.indices(shape, sparse=True)  # each dim's positions, along that dim
    try:
        return tuple(np.broadcast_to(grid, shape)[first][then] for grid in grids)
    except IndexError:  # (numpy's message would count dims after the ints took theirs)
        raise IndexError(f"index {index!r:.80} does not fit a tensor of shape {shape}: an "
                         "entry is out of range for its dim") from None


def _is_basic(index: Any) -> bool:
    """True for numpy basic indexing (ints, slices, None, ...): no entry is picked twice."""
    if type(index) is np.ndarray:  # the usual advanced index (a batch's rows), told at once
        return False
    parts = index if isinstance(index, tuple) else (index,)
    return all(p is None or p is Ellipsis or isinstance(p, slice)
               or (isinstance(p, (int, np.integer)) and not isinstance(p, bool)) for p in parts)


def getitem(input: Tensor, index: Any) -> Tensor:
    """a[index] (ints, slices, None, ..., int or bool arrays and Tensors, ranges);
    da = g put back where it came from, summed where an entry was picked twice."""
    index = _index(index, input._data.shape)
    try:
        picked = input._data[index]
    except IndexError as e:
        raise IndexError(f"index {index!r:.80} does not fit a tensor of shape "
                         f"{input._data.shape}: {e}") from None
    basic = _is_basic(index)
    if basic and type(picked) is not np.ndarray:  # one entry: numpy gives a copy of it, as
        # a number; PyTorch's x[1] is a 0-d view, which sees x change and changes x
        picked = input._data[(*index, Ellipsis) if isinstance(index, tuple) else (index, ...)]

    def rule(g: Any, out: Any, need: list, a: Any) -> tuple:
        return (_put(g, a, index, basic),)
    out = _saves_nothing(_node(picked, _view_op(index) if basic else "index", rule, input))
    if out._rule is not None and not basic:
        index = _private(index)  # (what the rule reads: a basic index holds no arrays)
    return out


def _view_op(index: Any) -> str:
    """What PyTorch calls a basic index's op (its grad_fn): the last view it takes, a select
    for an int, a slice, an unsqueeze for None; in a tuple a whole dim (:, ...) takes none,
    and a tuple of nothing else is an alias (a bare a[:] is a slice)."""
    if isinstance(index, slice):
        return "slice"
    for part in reversed(index if isinstance(index, tuple) else (index,)):
        if part is None:
            return "unsqueeze"
        if isinstance(part, slice):
            if part != slice(None):
                return "slice"
        elif part is not Ellipsis:
            return "select"
    return "alias"


def _put(g: Any, like: Any, index: Any, basic: bool) -> Any:
    """An array shaped like `like` holding g at `index`, zeros elsewhere; entries picked
    more than once sum their shares (np.add.at), where assignment would keep the last."""
    if isinstance(g, Tensor):
        zeros = _leaf(np.zeros(like.shape, g.dtype))
        return _index_put(zeros, index, g, accumulate=not basic)
    out = np.zeros(like.shape, g.dtype)
    if basic:
        out[index] = g
    elif type(index) is np.ndarray and index.dtype.kind in "iu" and out.size:
        # rows picked by an array of ids (an embedding's lookup): add.at on the flat
        # positions of their entries, numpy's fast 1-d path, about twice as quick
        # (a row -k from the end starts k rows before the flat array's end: still right)
        width = out[0].size
        flat = (index.reshape(-1, 1) * width + np.arange(width)).reshape(-1)
        np.add.at(out.reshape(-1), flat, g.reshape(-1))
    else:
        np.add.at(out, index, g)
    return out


def _zero_at(g: Any, index: Any) -> Any:
    """g with the entries at `index` set to 0 (a copy)."""
    if isinstance(g, Tensor):
        return _index_put(g, index, _leaf(np.zeros((), g.dtype)), accumulate=False)
    out = g.copy()
    out[index] = 0
    return out


def _index_put(target: Tensor, index: Any, value: Tensor, accumulate: bool,
               into: np.ndarray | None = None) -> Tensor:
    """target with value written at index (added there when `accumulate`), as a new node,
    its numbers a copy of target's or the array `into` (holding target's numbers already);
    target gets g with 0 where written over (all of g when `accumulate`), value gets
    g[index], summed to value's shape."""
    out = target._data.copy() if into is None else into
    try:
        if accumulate:
            np.add.at(out, index, value._data)
        else:
            out[index] = value._data
    except ValueError:
        raise ValueError(f"cannot put a value of shape {value._data.shape} at index "
                         f"{index!r:.80} of a tensor of shape {target._data.shape}") from None

    def rule(g: Any, out: Any, need: list, t: Any, v: Any) -> tuple:
        dt = (g if accumulate else _zero_at(g, index)) if need[0] else None
        return dt, (g[index] if need[1] else None)
    written = _saves_nothing(_node(out, "index_put", rule, target, value))
    if written._rule is not None:
        index = _private(index)
    return written


# --- rearranging ---

def reshape(input: Tensor, *shape: int | tuple[int, ...]) -> Tensor:
    """Entries in a new shape, `t.reshape(2, 3)` or `t.reshape((2, 3))` (one size may be -1);
    da = g reshaped back."""
    return _reshaped(input, _sizes(shape), "reshape")


def _reshaped(input: Tensor, shape: tuple, op: str) -> Tensor:
    """Entries in a new shape, the node named `op` after the function the user called (view,
    squeeze, ...), as PyTorch names its grad_fn; da = g reshaped back."""
    try:
        data = input._data.reshape(shape)
    except (ValueError, TypeError):
        raise ValueError(f"cannot reshape a tensor of shape {input._data.shape} "
                         f"({input._data.size} entries) into {shape}") from None

    def rule(g: Any, out: Any, need: list, a: Any) -> tuple:
        return (g.reshape(a.shape),)
    return _saves_nothing(_node(data, op, rule, input))


def view(input: Tensor, *shape: Any) -> Tensor:
    """PyTorch's `view`: the entries in a new shape, sharing their memory (refused where
    that needs a copy: reshape copies), or `view(dtype)` reinterpreting the bytes."""
    if len(shape) == 1 and not isinstance(shape[0], (int, np.integer, tuple, list)):
        return Tensor(input._data.view(np.dtype(shape[0])))
    out = _reshaped(input, _sizes(shape), "view")
    if out._view_of is not input and out._data.size:  # (a copy: writes would not reach x;
        # _node marks a result that views its operand's memory)
        raise RuntimeError(f"view size is not compatible with input tensor's size and stride "
                           f"(at least one dimension spans across two contiguous subspaces): "
                           f"a tensor of shape {tuple(input.shape)} with strides "
                           f"{input.stride()} cannot be viewed as {tuple(out.shape)}. Use "
                           ".reshape(...) instead (or .contiguous().view(...)), as in PyTorch")
    return out


def permute(input: Tensor, *dims: int | tuple[int, ...]) -> Tensor:
    """Dims reordered, `permute(2, 0, 1)` or `permute((2, 0, 1))` (reversed when none are
    given); da = g in the order undone."""
    return _permuted(input, dims, "permute")


def _permuted(input: Tensor, dims: tuple, op: str) -> Tensor:
    """Dims reordered, the node named `op` after the function the user called (t, transpose);
    da = g in the order undone."""
    ndim = input._data.ndim
    dims = tuple(dim_index(d, ndim, "permute") for d in _sizes(dims)) or tuple(
        reversed(range(ndim)))
    if sorted(dims) != list(range(ndim)):
        raise ValueError(f"permute needs each of the {ndim} dims once, got {dims}")
    undo = tuple(int(i) for i in np.argsort(dims))

    def rule(g: Any, out: Any, need: list, a: Any) -> tuple:
        return (g.permute(undo) if isinstance(g, Tensor) else np.transpose(g, undo),)
    return _saves_nothing(_node(np.transpose(input._data, dims), op, rule, input))


def transpose(input: Tensor, dim0: int, dim1: int) -> Tensor:
    """Dims dim0 and dim1 swapped, as PyTorch's `transpose` (numpy's is `permute` here)."""
    ndim = max(input._data.ndim, 1)
    dims = list(range(input._data.ndim))
    dim0, dim1 = (dim_index(d, ndim, "transpose") for d in (dim0, dim1))
    if input._data.ndim:
        dims[dim0], dims[dim1] = dims[dim1], dims[dim0]
    return _permuted(input, dims, "transpose")


def t(input: Tensor) -> Tensor:
    """The matrix transpose, for tensors of at most 2 dims, as PyTorch's `t()`."""
    if input._data.ndim > 2:
        raise ValueError(f"t() transposes tensors of at most 2 dims, this one has shape "
                         f"{input._data.shape}; use transpose(dim0, dim1) or permute")
    return _permuted(input, (), "t")


def _T(input: Tensor) -> Tensor:
    """All dims reversed (the matrix transpose for 2-D)."""
    return permute(input)


def contiguous(input: Tensor, memory_format: Any = None) -> Tensor:
    """The tensor itself when its entries lie in row-major order, else a row-major copy in
    the graph (clone's: da = g), as PyTorch's `.contiguous()` before a `.view`."""
    return input if input._data.flags.c_contiguous else input.clone()


def is_contiguous(input: Tensor, memory_format: Any = None) -> bool:
    """Whether the entries lie in row-major order (a transpose's do not)."""
    return bool(input._data.flags.c_contiguous)


def squeeze(input: Tensor, dim: int | tuple | None = None) -> Tensor:
    """The dims of size 1 removed: all of them, or those among `dim` (an int or tuple)."""
    shape = input._data.shape
    if dim is None:
        drop = range(len(shape))
    else:  # a 0-d tensor takes dim 0 or -1, as in PyTorch
        drop = {dim_index(d, max(len(shape), 1), "squeeze")
                for d in (dim if isinstance(dim, (tuple, list)) else (dim,))}
    op = "squeeze" if dim is None else "squeeze_dims" if isinstance(dim, (tuple, list)) else (
        "squeeze_dim")  # (PyTorch's three overloads)
    return _reshaped(input, tuple(n for i, n in enumerate(shape) if n != 1 or i not in drop), op)


def unsqueeze(input: Tensor, dim: int) -> Tensor:
    """A dim of size 1 inserted at `dim` (from -ndim-1 to ndim)."""
    shape = input._data.shape
    i = dim_index(dim, len(shape) + 1, "unsqueeze")
    return _reshaped(input, shape[:i] + (1,) + shape[i:], "unsqueeze")


def flatten(input: Tensor, start_dim: int = 0, end_dim: int = -1) -> Tensor:
    """Dims start_dim..end_dim merged into one."""
    shape = input._data.shape
    if not shape:
        return _reshaped(input, (1,), "flatten")
    start, end = (dim_index(d, len(shape), "flatten") for d in (start_dim, end_dim))
    if start > end:
        raise ValueError(f"flatten: start_dim {start_dim} comes after end_dim {end_dim}")
    return _reshaped(input, shape[:start] + (-1,) + shape[end + 1:], "flatten")


def expand(input: Tensor, *sizes: int | tuple[int, ...]) -> Tensor:
    """The tensor broadcast to `sizes` (-1 keeps a dim), as PyTorch's `expand`;
    da = g, summed back over the stretched dims."""
    sizes = _sizes(sizes)
    shape = input._data.shape
    lead = len(sizes) - len(shape)
    if lead < 0:
        raise ValueError(f"expand: {sizes} has fewer dims than the tensor's shape {shape}")
    target = tuple(shape[i - lead] if n == -1 and i >= lead else n for i, n in enumerate(sizes))
    try:
        data = np.broadcast_to(input._data, target)
    except ValueError:
        raise ValueError(f"expand: a tensor of shape {shape} cannot be broadcast to {sizes} "
                         "(each dim must match or be 1)") from None

    def rule(g: Any, out: Any, need: list, a: Any) -> tuple:
        return (g,)  # the driver sums it back to a's shape
    return _saves_nothing(_node(data, "expand", rule, input))


def broadcast_to(input: Tensor, shape: tuple) -> Tensor:
    return expand(input, shape)


def expand_as(input: Tensor, other: Tensor) -> Tensor:
    return expand(input, other.shape)


def _along(dim: int, index: Any) -> tuple:
    """An index that applies `index` to dim `dim` (counted from 0) and keeps the others."""
    return (slice(None),) * dim + (index,)


def index_select(input: Tensor, dim: int, index: Any) -> Tensor:
    """The entries at the 1-D int `index` along dim, as torch.index_select (getitem's rule)."""
    idx = np.asarray(_raw(index))
    if idx.dtype.kind not in "iu" or idx.ndim > 1:
        raise ValueError(f"index_select takes a 1-D int index, got {idx.dtype} of shape "
                         f"{idx.shape}")
    return input[_along(dim_index(dim, max(input._data.ndim, 1), "index_select"),
                        idx.reshape(-1))]


def select(input: Tensor, dim: int, index: int) -> Tensor:
    """The slice at position `index` of dim, that dim removed (t.select(0, i) is t[i])."""
    return input[_along(dim_index(dim, input._data.ndim, "select"), index)]


def narrow(input: Tensor, dim: int, start: int, length: int) -> Tensor:
    """The entries start .. start + length - 1 along dim (a view, as in PyTorch)."""
    dim = dim_index(dim, input._data.ndim, "narrow")
    size = input._data.shape[dim]
    start = start + size if start < 0 else start
    if not (0 <= start <= size and 0 <= length <= size - start):
        raise ValueError(f"narrow: start {start} and length {length} do not fit dim {dim} of "
                         f"size {size}")
    return input[_along(dim, slice(start, start + length))]


def unbind(input: Tensor, dim: int = 0) -> tuple[Tensor, ...]:
    """The slices along dim, that dim removed, as a tuple."""
    dim = dim_index(dim, input._data.ndim, "unbind")
    return tuple(select(input, dim, i) for i in range(input._data.shape[dim]))


def flip(input: Tensor, dims: int | Sequence[int]) -> Tensor:
    """The entries in reverse order along each of `dims` (getitem's rule flips g back)."""
    ndim = input._data.ndim
    index = [slice(None)] * max(ndim, 1)  # a 0-d tensor takes dim 0 or -1, as in PyTorch
    for d in (dims,) if isinstance(dims, int) else dims:
        index[dim_index(d, max(ndim, 1), "flip")] = slice(None, None, -1)
    return input[tuple(index[:ndim])]


def roll(input: Tensor, shifts: int | Sequence[int],
         dims: int | Sequence[int] | None = None) -> Tensor:
    """Entries moved `shifts` places along dims, those pushed off the end coming back at the
    start; with no dims, along the flattened tensor and reshaped back."""
    if dims is None:
        return roll(input.reshape(-1), shifts, 0).reshape(input._data.shape)
    shifts, dims = ((shifts,), (dims,)) if isinstance(dims, int) else (shifts, dims)
    if len(shifts) != len(dims):
        raise ValueError(f"roll: {len(shifts)} shifts for {len(dims)} dims")
    out = input
    for shift, dim in zip(shifts, dims):
        dim = dim_index(dim, max(input._data.ndim, 1), "roll")
        n = input._data.shape[dim]
        out = out[_along(dim, (np.arange(n) - shift) % max(n, 1))]
    return out


def repeat(input: Tensor, *sizes: int | tuple[int, ...]) -> Tensor:
    """The tensor tiled `sizes` times along each dim (more sizes than dims add leading
    dims), as PyTorch's `repeat` (numpy's `tile`): an expand between two reshapes."""
    sizes = _sizes(sizes)
    shape = input._data.shape
    if len(sizes) < len(shape):
        raise ValueError(f"repeat: {sizes} has fewer sizes than the tensor has dims {shape}")
    shape = (1,) * (len(sizes) - len(shape)) + shape
    spread = tuple(n for size in shape for n in (1, size))  # a dim of 1 before each dim
    tiled = tuple(n for count, size in zip(sizes, shape) for n in (count, size))
    return reshape(expand(reshape(input, spread), tiled),
                   tuple(count * size for count, size in zip(sizes, shape)))


def tile(input: Tensor, dims: Sequence[int]) -> Tensor:
    """torch.tile: repeat, with too few sizes filled with 1s on the left."""
    dims = tuple(dims)
    return repeat(input, (1,) * (input._data.ndim - len(dims)) + dims)


def masked_select(input: Tensor, mask: Any) -> Tensor:
    """The entries where the bool mask (broadcast to the tensor's shape) is True, in a 1-D
    tensor (getitem's rule)."""
    picked = np.asarray(_raw(mask))
    if picked.dtype != np.bool_:
        raise TypeError(f"masked_select takes a bool mask, got {picked.dtype}")
    try:
        picked = np.broadcast_to(picked, input._data.shape)
    except ValueError:
        raise ValueError(f"masked_select: a mask of shape {picked.shape} does not broadcast to "
                         f"the tensor's shape {input._data.shape}") from None
    return input[picked]


def movedim(input: Tensor, source: int | Sequence[int],
            destination: int | Sequence[int]) -> Tensor:
    """Dims moved from `source` to `destination`, the others keeping their order."""
    ndim = input._data.ndim
    source, destination = ([d] if isinstance(d, int) else list(d) for d in (source, destination))
    if len(source) != len(destination):
        raise ValueError(f"movedim: {len(source)} source dims for {len(destination)} "
                         "destinations")
    source = [dim_index(d, ndim, "movedim") for d in source]
    destination = [dim_index(d, ndim, "movedim") for d in destination]
    order = [d for d in range(ndim) if d not in source]  # numpy's moveaxis, on the dims
    for to, d in sorted(zip(destination, source)):
        order.insert(to, d)
    return permute(input, *order)


def view_as(input: Tensor, other: Tensor) -> Tensor:
    return reshape(input, other._data.shape)


def _mT(input: Tensor) -> Tensor:
    """The last two dims swapped: a batch of matrices, each transposed (a 0-d tensor itself,
    as PyTorch's)."""
    if input._data.ndim == 0:
        return input
    if input._data.ndim < 2:
        raise ValueError(f"mT needs at least 2 dims, got shape {input._data.shape}")
    return transpose(input, -2, -1)


def gather(input: Tensor, dim: int, index: Any) -> Tensor:
    """Entries picked along `dim` by an int tensor of the same number of dims, as
    torch.gather: out[i][j] = input[index[i][j]][j] for dim 0; da = g put back there."""
    idx = np.asarray(_raw(index))
    if idx.dtype.kind not in "iu" or idx.ndim != input._data.ndim:
        raise ValueError(f"gather takes an int index with the tensor's {input._data.ndim} dims, "
                         f"got {idx.dtype} of shape {idx.shape}")
    dim = dim_index(dim, max(input._data.ndim, 1), "gather")
    if not idx.ndim:
        return input[()]
    grid = list(np.ogrid[tuple(slice(n) for n in idx.shape)])
    grid[dim] = idx
    return _called(input[tuple(grid)], "gather")


def _triangle(input: Tensor, part: Callable, diagonal: int) -> Tensor:
    """np.tril or np.triu of the last two dims; da = the same part of g."""
    if input._data.ndim < 2:
        raise ValueError(f"{part.__name__} needs a tensor of at least 2 dims, got shape "
                         f"{input._data.shape}")

    def rule(g: Any, out: Any, need: list, a: Any) -> tuple:
        return (getattr(g, part.__name__)(diagonal) if isinstance(g, Tensor)
                else part(g, diagonal),)
    return _node(part(input._data, diagonal), part.__name__, rule, input)


def tril(input: Any, diagonal: int = 0) -> Tensor:
    """The entries on and below a diagonal of the last two dims, the others 0, as
    torch.tril (diagonal > 0: above the main one; < 0: below it)."""
    return _triangle(_as_tensor(input), np.tril, diagonal)


def triu(input: Any, diagonal: int = 0) -> Tensor:
    """The entries on and above a diagonal of the last two dims, the others 0, as torch.triu."""
    return _triangle(_as_tensor(input), np.triu, diagonal)


def _sequence(tensors: Any, op: str) -> tuple[Tensor, ...]:
    if isinstance(tensors, Tensor) or not isinstance(tensors, (list, tuple)) or not tensors:
        raise TypeError(f"{op} takes a non-empty list or tuple of Tensors, got {tensors!r:.60}")
    return _operands(op, *tensors)


def cat(tensors: Sequence[Operand], dim: int = 0) -> Tensor:
    """The tensors joined along an existing dim, as torch.cat; each gets its slice of g."""
    parts = _sequence(tensors, "cat")
    dim = dim_index(dim, max(parts[0]._data.ndim, 1), "cat")
    try:
        data = np.concatenate([p._data for p in parts], axis=dim)
    except ValueError:
        raise ValueError(f"cat: shapes {', '.join(str(p._data.shape) for p in parts)} do not fit "
                         f"together along dim {dim} (every other dim must match)") from None
    ends = np.cumsum([0] + [p._data.shape[dim] for p in parts])

    def rule(g: Any, out: Any, need: list, *parts: Any) -> tuple:
        lead = (slice(None),) * dim
        return tuple(g[lead + (slice(int(s), int(e)),)] if n else None
                     for n, s, e in zip(need, ends[:-1], ends[1:]))
    return _saves_nothing(_node(data, "cat", rule, *parts))


def stack(tensors: Sequence[Operand], dim: int = 0) -> Tensor:
    """Tensors of one shape joined along a new dim, as torch.stack: cat of each unsqueezed."""
    parts = _sequence(tensors, "stack")
    shapes = {p._data.shape for p in parts}
    if len(shapes) > 1:
        raise ValueError(f"stack needs tensors of one shape, got {', '.join(map(str, shapes))}")
    dim = dim_index(dim, parts[0]._data.ndim + 1, "stack")
    return _called(cat([unsqueeze(p, dim) for p in parts], dim), "stack")


def split(tensor: Tensor, split_size_or_sections: int | Sequence[int],
          dim: int = 0) -> tuple[Tensor, ...]:
    """Pieces along dim: of one size (the last may be smaller), or of the sizes listed."""
    dim = dim_index(dim, max(tensor._data.ndim, 1), "split")
    n = tensor._data.shape[dim]
    if isinstance(split_size_or_sections, (int, np.integer)):
        if split_size_or_sections <= 0:
            raise ValueError(f"split: the size of a piece must be positive, got "
                             f"{split_size_or_sections}")
        sizes = [split_size_or_sections] * (n // split_size_or_sections)
        sizes += [n % split_size_or_sections] if n % split_size_or_sections else []
    else:
        sizes = list(split_size_or_sections)
        if sum(sizes) != n:
            raise ValueError(f"split: sizes {sizes} add up to {sum(sizes)}, not dim {dim}'s {n}")
    lead = (slice(None),) * dim
    ends = np.cumsum([0] + sizes)
    return tuple(_called(tensor[lead + (slice(int(s), int(e)),)], "split")
                 for s, e in zip(ends[:-1], ends[1:]))


def chunk(input: Tensor, chunks: int, dim: int = 0) -> tuple[Tensor, ...]:
    """`chunks` pieces of (nearly) equal size along dim, as torch.chunk."""
    if chunks <= 0:
        raise ValueError(f"chunk: chunks must be positive, got {chunks}")
    n = input._data.shape[dim_index(dim, max(input._data.ndim, 1), "chunk")]
    return split(input, max(-(-n // chunks), 1), dim)


for _op in (index_select, select, narrow, unbind, flip, roll, repeat, tile, masked_select,
            movedim, view_as):
    setattr(Tensor, _op.__name__, _op)
Tensor.reshape_as, Tensor.moveaxis, Tensor.mT = view_as, movedim, property(_mT)
# the conjugate transposes: the transposes themselves, for the real numbers held here
Tensor.mH, Tensor.adjoint = property(_mT), _mT
for _op in (reshape, view, contiguous, is_contiguous, permute, transpose, t, squeeze, unsqueeze, flatten, expand,
            broadcast_to, expand_as, gather, tril, triu, split, chunk):
    setattr(Tensor, _op.__name__, _op)
Tensor.tril_, Tensor.triu_ = in_place_form(tril), in_place_form(triu)  # (attention masks)
concat = concatenate = cat  # PyTorch's other names
moveaxis = movedim
Tensor.__getitem__ = getitem
Tensor.swapaxes = Tensor.swapdims = transpose
Tensor.T = Tensor.H = property(_T)
__all__ = ["reshape", "permute", "transpose", "t", "squeeze", "unsqueeze", "flatten", "expand",
           "broadcast_to", "gather", "tril", "triu", "cat", "stack", "split", "chunk",
           "index_select", "select", "narrow", "unbind", "flip", "roll", "tile", "masked_select",
           "movedim", "concat", "concatenate", "moveaxis"]
