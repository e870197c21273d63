"""More of PyTorch's ops that move entries without changing them (engine/shapes.py holds
the common ones): swapaxes/swapdims, ravel, unflatten, fliplr, flipud, rot90, narrow_copy,
the splits tensor_split, hsplit, vsplit and dsplit, and argwhere.

Each is made of engine/shapes.py's ops (reshape, transpose, indexing), so none has
derivative code of its own, and each is both the Tensor method and PyTorch's function.
"""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from engine import functions, shapes  # (modules: they may still be loading when this is)
from engine.tensor import Tensor, _called


def swapaxes(input: Tensor, axis0: int, axis1: int) -> Tensor:
    """transpose, by numpy's name, as torch.swapaxes."""
    return shapes.transpose(input, axis0, axis1)


def swapdims(input: Tensor, dim0: int, dim1: int) -> Tensor:
    """transpose, as torch.swapdims."""
    return shapes.transpose(input, dim0, dim1)


def ravel(input: Tensor) -> Tensor:
    """The entries as a 1-D tensor, as torch.ravel."""
    return shapes.reshape(input, -1)


def unflatten(input: Tensor, dim: int, sizes: Sequence[int]) -> Tensor:
    """dim split into dims of the given sizes (one may be -1), as torch.unflatten."""
    shape = input._data.shape
    d = shapes.dim_index(dim, max(len(shape), 1), "unflatten")
    sizes = tuple(int(n) for n in sizes)
    if not sizes:
        raise ValueError("unflatten: sizes must name at least one size")
    if sizes.count(-1) > 1:
        raise ValueError(f"unflatten: only one size may be -1 (inferred), got {list(sizes)}")
    known = int(np.prod([n for n in sizes if n != -1]))
    n = shape[d] if shape else 1
    if (-1 in sizes and (known == 0 or n % known)) or (-1 not in sizes and known != n):
        raise ValueError(f"unflatten: sizes {list(sizes)} don't multiply up to the size of dim "
                         f"{d} ({n}) of the tensor")
    return shapes.reshape(input, shape[:d] + sizes + shape[d + 1:])


def fliplr(input: Tensor) -> Tensor:
    """The columns in reverse order (dim 1), for tensors of at least 2 dims, as torch.fliplr."""
    if input._data.ndim < 2:
        raise ValueError(f"fliplr needs a tensor of at least 2 dims, got shape "
                         f"{input._data.shape}")
    return _called(shapes.flip(input, 1), "flip")


def flipud(input: Tensor) -> Tensor:
    """The rows in reverse order (dim 0), for tensors of at least 1 dim, as torch.flipud."""
    if input._data.ndim < 1:
        raise ValueError("flipud needs a tensor of at least 1 dim, got a 0-d one")
    return _called(shapes.flip(input, 0), "flip")


def rot90(input: Tensor, k: int = 1, dims: Sequence[int] = (0, 1)) -> Tensor:
    """The plane of dims turned k quarter turns from the first dim towards the second, as
    torch.rot90 (a flip and a transpose)."""
    ndim = input._data.ndim
    if len(dims) != 2:
        raise ValueError(f"rot90: dims must name 2 dims, got {list(dims)}")
    if ndim < 2:
        raise ValueError(f"rot90 needs a tensor of at least 2 dims, got shape {input._data.shape}")
    d0, d1 = (shapes.dim_index(d, ndim, "rot90") for d in dims)
    if d0 == d1:
        raise ValueError(f"rot90: the two dims must differ, got {d0} and {d1}")
    k %= 4
    if k == 1:
        out = shapes.transpose(shapes.flip(input, d1), d0, d1)
    elif k == 2:
        out = shapes.flip(input, (d0, d1))
    elif k == 3:
        out = shapes.transpose(shapes.flip(input, d0), d0, d1)
    else:
        out = input.clone()
    return _called(out, "rot90")


def narrow_copy(input: Tensor, dim: int, start: int, length: int) -> Tensor:
    """narrow's entries as a new tensor (not a view), as torch.narrow_copy."""
    return _called(shapes.narrow(input, dim, start, length).clone(), "narrow_copy")


def tensor_split(input: Tensor, indices_or_sections: Any, dim: int = 0) -> tuple[Tensor, ...]:
    """Pieces along dim, as torch.tensor_split: n sections (an int, or a 0-d tensor), the
    first size % n of them one entry longer; or cut at each index of a list or 1-D tensor,
    piece k being the slice [index k-1 : index k] as Python slices it (so an index past the
    end, or below the one before, gives an empty piece)."""
    if not input._data.ndim:
        raise ValueError("tensor_split needs a tensor of at least 1 dim, got a 0-d one")
    d = shapes.dim_index(dim, input._data.ndim, "tensor_split")
    size = input._data.shape[d]
    cuts = indices_or_sections._data if isinstance(indices_or_sections, Tensor) else \
        np.asarray(indices_or_sections, np.int64 if isinstance(indices_or_sections, (list, tuple))
                   else None)
    if cuts.dtype.kind not in "iu" or cuts.ndim > 1:
        raise TypeError(f"tensor_split takes an int, or a list or 1-D tensor of ints, got "
                        f"{indices_or_sections!r:.60}")
    if cuts.ndim == 0:
        sections = int(cuts)
        if sections <= 0:
            raise ValueError(f"tensor_split: the number of sections must be positive, got "
                             f"{sections}")
        lengths = [size // sections + 1] * (size % sections) + \
            [size // sections] * (sections - size % sections)
        cuts = np.cumsum(lengths)[:-1]
    ends = [0, *(int(c) for c in cuts), None]
    return tuple(input[shapes._along(d, slice(start, end))]
                 for start, end in zip(ends[:-1], ends[1:]))


def _split_along(input: Tensor, indices_or_sections: Any, dim: int, least: int,
                 op: str) -> tuple[Tensor, ...]:
    """hsplit, vsplit, dsplit: tensor_split along dim, where a number of sections must
    divide the dim's size, for tensors of at least `least` dims."""
    if input._data.ndim < least:
        raise ValueError(f"{op} needs a tensor of at least {least} dims, got shape "
                         f"{input._data.shape}")
    if isinstance(indices_or_sections, (int, np.integer)):
        size = input._data.shape[dim]
        if indices_or_sections <= 0 or size % indices_or_sections:
            raise ValueError(f"{op}: dim {dim} of size {size} does not split into "
                             f"{indices_or_sections} equal parts")
    return tensor_split(input, indices_or_sections, dim)


def hsplit(input: Tensor, indices_or_sections: Any) -> tuple[Tensor, ...]:
    """Pieces along dim 1 (dim 0 of a 1-D tensor), as torch.hsplit."""
    return _split_along(input, indices_or_sections, 1 if input._data.ndim > 1 else 0, 1,
                        "hsplit")


def vsplit(input: Tensor, indices_or_sections: Any) -> tuple[Tensor, ...]:
    """Pieces along dim 0 of a tensor of at least 2 dims, as torch.vsplit."""
    return _split_along(input, indices_or_sections, 0, 2, "vsplit")


def dsplit(input: Tensor, indices_or_sections: Any) -> tuple[Tensor, ...]:
    """Pieces along dim 2 of a tensor of at least 3 dims, as torch.dsplit."""
    return _split_along(input, indices_or_sections, 2, 3, "dsplit")


def argwhere(input: Tensor) -> Tensor:
    """The indices of the nonzero entries, one row each, as torch.argwhere (nonzero)."""
    return functions.nonzero(input)


_OPS = (swapaxes, swapdims, ravel, unflatten, fliplr, flipud, rot90, narrow_copy, tensor_split,
        hsplit, vsplit, dsplit, argwhere)
for _op in _OPS[2:]:  # (Tensor's swapaxes and swapdims are engine/shapes.py's transpose)
    setattr(Tensor, _op.__name__, _op)
__all__ = [op.__name__ for op in _OPS]
