"""Convolution and pooling, as torch.nn.functional's: conv1d, conv2d, conv3d, max_pool2d,
max_pool3d, avg_pool2d, avg_pool3d, adaptive_avg_pool2d, adaptive_avg_pool3d and pad
(`F.conv2d` and the rest; the layers that hold their settings and weights are in
nn/layers.py). Each is written once for any number of spatial dims.

Every op here is im2col: the windows a kernel visits, laid side by side as the columns of
a matrix (`_unfold`, a strided view of the padded input, copied once), so that a
convolution is one matrix product with the weights and a pool is one reduction. The way
back is col2im (`_fold`): each window's gradient added back at its place, one strided
slice per kernel offset. The two are each other's transposes, so each is the other's
gradient; as `_pad` with the widths negated is pad's. Written for arrays and for Tensors
(then as graph nodes), they let every rule below run under `create_graph=True` too.

Shapes are PyTorch's: input (N, C, *spatial) or, unbatched, (C, *spatial); weight
(out_channels, in_channels / groups, *kernel). Bad settings and shapes raise a
ValueError naming them.
"""
from __future__ import annotations

import functools
import math
from typing import Any, Sequence

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from engine.tensor import Tensor, _as_tensor, _called, _expand, _node, _where

IntOrTuple = int | Sequence[int]
_PADDINGS = ("valid", "same")
_SPATIAL = {1: "L", 2: "H, W", 3: "D, H, W"}  # the spatial dims' names, by their count
_KERNEL = {1: "kernel", 2: "kH, kW", 3: "kD, kH, kW"}


def _ints(op: str, name: str, value: Any, nd: int, least: int) -> tuple[int, ...]:
    """An int or nd ints (each >= least) as an nd-tuple, or a ValueError naming them."""
    values = (value,) * nd if isinstance(value, (int, np.integer)) else tuple(value)
    if len(values) != nd or not all(isinstance(v, (int, np.integer)) and not isinstance(v, bool)
                                    and v >= least for v in values):
        raise ValueError(f"{op}: {name} must be an int >= {least} or {nd} of them, got {value!r}")
    return tuple(int(v) for v in values)


def _out_sizes(op: str, spatial: tuple, kernel: tuple, stride: tuple,
               dilation: tuple) -> tuple[int, ...]:
    """How many windows fit along each dim of the padded input, or a ValueError."""
    span = tuple(d * (k - 1) + 1 for k, d in zip(kernel, dilation))
    if any(s > n for s, n in zip(span, spatial)):
        raise ValueError(f"{op}: the kernel {kernel} (dilation {dilation}, so spanning {span}) "
                         f"is larger than the padded input {spatial}; pad the input or use a "
                         "smaller kernel")
    return tuple((n - s) // st + 1 for n, s, st in zip(spatial, span, stride))


def _batched(op: str, input: Any, nd: int) -> tuple[Tensor, bool]:
    """input as (N, C, *spatial) and whether it came unbatched (C, *spatial)."""
    x = _as_tensor(input)
    if x.ndim not in (nd + 1, nd + 2):
        raise ValueError(f"{op} takes input of shape (N, C, {_SPATIAL[nd]}) or (C, "
                         f"{_SPATIAL[nd]}), got {tuple(x.shape)}")
    if x.dtype.kind != "f":
        raise TypeError(f"{op} takes float input, got {x.dtype} (convert with .float())")
    return (x.unsqueeze(0), True) if x.ndim == nd + 1 else (x, False)


# --- im2col and col2im, for arrays and Tensors ---

def _unfold(x: Any, kernel: tuple, stride: tuple, dilation: tuple) -> Any:
    """The windows of x (N, C, *spatial) a kernel visits, (N, C, *kernel, *out) (for an
    array, a read-only view); dx = g added back at each window's place (col2im)."""
    nd = len(kernel)
    if isinstance(x, Tensor):
        shape = x.shape[2:]

        def rule(g: Any, out: Any, need: list, x: Any) -> tuple:
            return (_fold(g, shape, kernel, stride, dilation),)
        windows = _unfold(x._data, kernel, stride, dilation)
        return _node(np.ascontiguousarray(windows), "im2col", rule, x)
    span = tuple(d * (k - 1) + 1 for k, d in zip(kernel, dilation))
    windows = sliding_window_view(x, span, axis=tuple(range(2, 2 + nd)))
    windows = windows[(..., *(slice(None, None, s) for s in stride),
                       *(slice(None, None, d) for d in dilation))]
    return windows.transpose(0, 1, *range(2 + nd, 2 + 2 * nd), *range(2, 2 + nd))


def _fold(cols: Any, shape: tuple, kernel: tuple, stride: tuple, dilation: tuple) -> Any:
    """Windows (N, C, *kernel, *out) added back at their places in (N, C, *shape), where
    overlapping windows sum; dcols = g's windows (im2col)."""
    if isinstance(cols, Tensor):
        def rule(g: Any, out: Any, need: list, cols: Any) -> tuple:
            return (_unfold(g, kernel, stride, dilation),)
        return _node(_fold(cols._data, shape, kernel, stride, dilation), "col2im", rule, cols)
    out_sizes = cols.shape[2 + len(kernel):]
    x = np.zeros(cols.shape[:2] + tuple(shape), cols.dtype)
    for offset in np.ndindex(*kernel):  # a loop over the kernel, each step a strided slice
        place = tuple(slice(i * d, i * d + s * (n - 1) + 1, s)
                      for i, d, s, n in zip(offset, dilation, stride, out_sizes))
        x[(slice(None), slice(None), *place)] += cols[(slice(None), slice(None), *offset)]
    return x


def _pad(x: Any, widths: Sequence[tuple[int, int]], value: float = 0.0) -> Any:
    """x with widths[i] = (before, after) entries of value added along dim i (taken off
    where negative); dx = g cropped back to x's shape (g padded by the widths negated)."""
    if isinstance(x, Tensor):
        back = [(-before, -after) for before, after in widths]

        def rule(g: Any, out: Any, need: list, x: Any) -> tuple:
            return (_pad(g, back),)
        return _node(_pad(x._data, widths, value), "pad", rule, x)
    out = np.full([n + before + after for n, (before, after) in zip(x.shape, widths)], value,
                  x.dtype)
    into = tuple(slice(max(before, 0), n - max(after, 0))
                 for n, (before, after) in zip(out.shape, widths))
    take = tuple(slice(max(-before, 0), n - max(-after, 0))
                 for n, (before, after) in zip(x.shape, widths))
    out[into] = x[take]
    return out


# where each entry of a dim of size n padded by (before, after) is taken from, by mode
_SOURCES = {
    "reflect": lambda i, n: np.abs((i + n - 1) % (2 * n - 2) - (n - 1)) if n > 1 else i * 0,
    "replicate": lambda i, n: np.clip(i, 0, n - 1),
    "circular": lambda i, n: i % n,
}


def pad(input: Tensor, pad: Sequence[int], mode: str = "constant",
        value: float | None = None) -> Tensor:
    """input with pad = (before, after, before, after, ...) entries added along its last
    dim, the one before, ... as PyTorch's F.pad: `value` (0 by default) in constant mode;
    the input mirrored without its edge ('reflect'), its edge repeated ('replicate') or
    wrapped around ('circular'), each an index into the input, so its gradient sums back
    where an entry was used. In every mode negative widths take entries off."""
    x = _as_tensor(input)
    if mode not in ("constant", *_SOURCES):
        raise ValueError(f"pad: mode {mode!r} is not one of 'constant', "
                         f"{', '.join(map(repr, _SOURCES))}")
    pad = tuple(pad)
    if len(pad) % 2 or len(pad) > 2 * x.ndim:
        raise ValueError(f"pad: the pad tuple needs (before, after) pairs for at most the "
                         f"input's {x.ndim} dims, got {pad} for input {tuple(x.shape)}")
    pairs = [tuple(pad[k:k + 2]) for k in range(0, len(pad), 2)][::-1]
    widths = [(0, 0)] * (x.ndim - len(pairs)) + pairs
    for dim, (n, (before, after)) in enumerate(zip(x.shape, widths)):
        if n + before + after < 0:
            raise ValueError(f"pad: dim {dim} of size {n} padded by ({before}, {after}) would "
                             f"have a negative size (input {tuple(x.shape)}, pad {pad})")
        # (replicate: any width; circular: what is left after negative widths crop)
        limit = {"reflect": n - 1, "circular": n + min(before, 0) + min(after, 0)}.get(mode)
        if limit is not None and max(before, after) > limit:
            raise ValueError(f"pad: {mode} padding of dim {dim} (size {n}) by ({before}, "
                             f"{after}) needs widths from 0 to {limit} (or negative ones, "
                             "which crop)")
    if mode == "constant":
        return _pad(x, widths, 0 if value is None else value)
    out = x
    for dim, (n, (before, after)) in enumerate(zip(x.shape, widths)):
        if before or after:
            start = 0
            if mode == "circular":  # as PyTorch: negative widths crop first, then it wraps
                start, n = max(-before, 0), n + min(before, 0) + min(after, 0)
                before, after = max(before, 0), max(after, 0)
            source = start + _SOURCES[mode](np.arange(-before, n + after), n)
            out = out[(slice(None),) * dim + (source,)]
    if out is x or mode == "circular":  # (PyTorch's circular pad is slices copied in place)
        return out
    return _called(out, f"{'reflection' if mode == 'reflect' else 'replication'}_pad"
                        f"{len(pairs)}d")  # PyTorch's ReflectionPad2DBackward0, ...


# --- convolution ---

def _convolution(op: str, x: Tensor, w: Tensor, b: Tensor | None, stride: tuple,
                 widths: list, dilation: tuple, groups: int) -> Tensor:
    """Each output channel's kernel (weight) slid over the padded input, its products summed
    (a cross-correlation), plus bias; dinput = each window's weight times g added back
    at its place (col2im of weight^T @ g), dweight = g times the windows summed over
    batch and positions, dbias = g summed over batch and positions."""
    nd = w.ndim - 2
    n, out_channels, kernel = x.shape[0], w.shape[0], tuple(w.shape[2:])
    per_group, k = out_channels // groups, math.prod(w.shape[1:])
    padded = _pad(x._data, widths) if any(map(any, widths)) else x._data
    out_sizes = _out_sizes(op, padded.shape[2:], kernel, stride, dilation)
    length = math.prod(out_sizes)
    # (N, groups, in/groups * kernel, positions): one copy of the windows, then one matmul
    cols = _unfold(padded, kernel, stride, dilation).reshape(n, groups, k, length)
    out = (w._data.reshape(groups, per_group, k) @ cols).reshape(n, out_channels, *out_sizes)
    if b is not None:
        out += b._data.reshape(out_channels, *(1,) * nd)
    crop = (..., *(slice(before, before + size) for (before, _), size
                   in zip(widths[2:], x.shape[2:])))

    def rule(g: Any, out: Any, need: list, x: Any, w: Any, b: Any = None) -> tuple:
        g_rows = g.reshape(n, groups, per_group, length)
        dx = dw = db = None
        if need[0]:
            dcols = w.reshape(groups, per_group, k).swapaxes(-1, -2) @ g_rows
            dx = _fold(dcols.reshape(n, x.shape[1], *kernel, *out_sizes), padded.shape[2:],
                       kernel, stride, dilation)[crop]
        if need[1]:  # the windows again from a Tensor x, so that they are in the graph
            windows = cols if not isinstance(x, Tensor) else _unfold(
                _pad(x, widths), kernel, stride, dilation).reshape(n, groups, k, length)
            dw = (g_rows @ windows.swapaxes(-1, -2)).sum(axis=0).reshape(w.shape)
        if b is not None and need[2]:
            db = g.sum(axis=(0, *range(2, 2 + nd)))
        return dx, dw, db
    return _node(out, op, rule, x, w, *(() if b is None else (b,)))


def _conv_operands(op: str, nd: int, input: Any, weight: Any, bias: Any) -> tuple:
    """(x with a batch dim, whether it came without one, weight, bias) as Tensors of one
    dtype, for a convolution or a transposed one."""
    x, unbatched = _batched(op, input, nd)
    w = _as_tensor(weight)
    b = None if bias is None else _as_tensor(bias)
    if any(t.dtype != x.dtype for t in (w, *(() if b is None else (b,)))):
        raise TypeError(f"{op}: input, weight and bias must have one dtype, got input "
                        f"{x.dtype}, weight {w.dtype}" + ("" if b is None else f", bias {b.dtype}"))
    return x, unbatched, w, b


def _conv(op: str, nd: int, input: Any, weight: Tensor, bias: Tensor | None,
          stride: IntOrTuple, padding: IntOrTuple | str, dilation: IntOrTuple,
          groups: int) -> Tensor:
    """conv1d, conv2d and conv3d: the settings and shapes checked, then _convolution."""
    x, unbatched, w, b = _conv_operands(op, nd, input, weight, bias)
    stride = _ints(op, "stride", stride, nd, 1)
    dilation = _ints(op, "dilation", dilation, nd, 1)
    if not isinstance(groups, (int, np.integer)) or groups < 1:
        raise ValueError(f"{op}: groups must be a positive int, got {groups!r}")
    if w.ndim != nd + 2:
        raise ValueError(f"{op} takes a weight of shape (out_channels, in_channels / groups, "
                         f"{_KERNEL[nd]}), got {tuple(w.shape)}")
    if x.shape[1] != w.shape[1] * groups or w.shape[0] % groups:
        raise ValueError(f"{op}: a weight of shape {tuple(w.shape)} with groups={groups} takes "
                         f"{w.shape[1] * groups} input channels (and out_channels divisible "
                         f"by groups), but the input of shape {tuple(x.shape)} has "
                         f"{x.shape[1]}")
    if b is not None and b.shape != (w.shape[0],):
        raise ValueError(f"{op}: a bias of shape {tuple(b.shape)} does not fit a weight of shape "
                         f"{tuple(w.shape)}; it needs shape ({w.shape[0]},)")
    kernel = tuple(w.shape[2:])
    if isinstance(padding, str):
        if padding not in _PADDINGS:
            raise ValueError(f"{op}: invalid padding string {padding!r}, should be one of "
                             f"{_PADDINGS} or an int or {nd} ints")
        if padding == "same" and stride != (1,) * nd:
            raise ValueError(f"{op}: padding='same' is not supported for strided "
                             f"convolutions (stride {stride})")
        # 'same': the kernel's span less 1, split with the odd one after, as PyTorch
        totals = [d * (k - 1) if padding == "same" else 0 for k, d in zip(kernel, dilation)]
        spatial = [(t // 2, t - t // 2) for t in totals]
    else:
        spatial = [(p, p) for p in _ints(op, "padding", padding, nd, 0)]
    out = _convolution(op, x, w, b, stride, [(0, 0), (0, 0), *spatial], dilation, int(groups))
    return out.squeeze(0) if unbatched else out


def conv2d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride: IntOrTuple = 1,
           padding: IntOrTuple | str = 0, dilation: IntOrTuple = 1, groups: int = 1) -> Tensor:
    """A 2-D convolution (cross-correlation) of input (N, C, H, W) or (C, H, W) with weight
    (out_channels, C / groups, kH, kW), plus bias (out_channels,), as torch's F.conv2d;
    padding is an int, a pair, 'valid' (none) or 'same' (the output keeps H, W)."""
    return _conv("conv2d", 2, input, weight, bias, stride, padding, dilation, groups)


def conv1d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride: IntOrTuple = 1,
           padding: IntOrTuple | str = 0, dilation: IntOrTuple = 1, groups: int = 1) -> Tensor:
    """A 1-D convolution of input (N, C, L) or (C, L) with weight (out_channels, C / groups,
    kernel), as torch's F.conv1d (the settings as conv2d's)."""
    return _conv("conv1d", 1, input, weight, bias, stride, padding, dilation, groups)


def conv3d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride: IntOrTuple = 1,
           padding: IntOrTuple | str = 0, dilation: IntOrTuple = 1, groups: int = 1) -> Tensor:
    """A 3-D convolution of input (N, C, D, H, W) or (C, D, H, W) with weight (out_channels,
    C / groups, kD, kH, kW), as torch's F.conv3d (the settings as conv2d's)."""
    return _conv("conv3d", 3, input, weight, bias, stride, padding, dilation, groups)


# --- pooling ---

def _pool_settings(op: str, nd: int, kernel_size: IntOrTuple, stride: IntOrTuple | None,
                   padding: IntOrTuple, dilation: IntOrTuple) -> tuple[tuple, ...]:
    """(kernel, stride, padding, dilation) as nd-tuples, stride defaulting to the kernel."""
    kernel = _ints(op, "kernel_size", kernel_size, nd, 1)
    stride = kernel if stride is None or stride == [] else _ints(op, "stride", stride, nd, 1)
    padding = _ints(op, "padding", padding, nd, 0)
    dilation = _ints(op, "dilation", dilation, nd, 1)
    if any(2 * p > d * (k - 1) + 1 for p, k, d in zip(padding, kernel, dilation)):
        raise ValueError(f"{op}: padding {padding} should be at most half of the kernel "
                         f"{kernel} (dilation {dilation})")
    return kernel, stride, padding, dilation


def _ceil_count(n: int, span: int, stride: int, padding: int) -> int:
    """How many windows spanning `span` ceil_mode fits along n entries padded on each side
    (PyTorch's rule: the last may run past the end, even a kernel wider than the input,
    but must start inside the input or its left padding); below 1: none."""
    count = -(-(n + 2 * padding - span) // stride) + 1
    return count - 1 if (count - 1) * stride >= n + padding else count


def _widths(sizes: Sequence[int], kernel: tuple, stride: tuple, padding: tuple,
            dilation: tuple, ceil_mode: bool) -> list[tuple[int, int]]:
    """Each dim's (before, after) padding: `padding` on both sides, and with ceil_mode as
    much more after as a last, partly covered window needs (PyTorch's rule: a window must
    start inside the input or its left padding)."""
    widths = [(0, 0), (0, 0)]
    for n, k, s, p, d in zip(sizes, kernel, stride, padding, dilation):
        span, length = d * (k - 1) + 1, n + 2 * p
        count = _ceil_count(n, span, s, p)
        if not ceil_mode or count < 1:  # (no window at all: _out_sizes says so)
            widths.append((p, p))
            continue
        widths.append((p, p + max((count - 1) * s + span - length, 0)))
    return widths


def _max_pool(op: str, nd: int, input: Any, kernel_size: IntOrTuple,
              stride: IntOrTuple | None, padding: IntOrTuple, dilation: IntOrTuple,
              ceil_mode: bool, return_indices: bool) -> Tensor | tuple[Tensor, Tensor]:
    """The largest entry of each window of input (N, C, *spatial) or (C, *spatial), padded
    with -inf; dinput = g sent to each window's largest entry (the first one, in row-major
    order, on ties), as PyTorch. return_indices: also where each came from, as an index
    into the flattened spatial dims."""
    kernel, stride, padding, dilation = _pool_settings(op, nd, kernel_size, stride, padding,
                                                       dilation)
    x, unbatched = _batched(op, input, nd)
    widths = _widths(x.shape[2:], kernel, stride, padding, dilation, ceil_mode)
    padded = _pad(x._data, widths, -np.inf)
    out_sizes = _out_sizes(op, padded.shape[2:], kernel, stride, dilation)
    windows = _unfold(padded, kernel, stride, dilation)
    windows = windows.reshape(*x.shape[:2], math.prod(kernel), *out_sizes)
    picks = windows.argmax(axis=2)[:, :, None]  # (N, C, 1, *out): numpy's first on ties
    out = np.take_along_axis(windows, picks, 2)[:, :, 0]
    crop = (..., *(slice(p, p + n) for p, n in zip(padding, x.shape[2:])))

    def rule(g: Any, out: Any, need: list, x: Any) -> tuple:
        chosen = np.arange(math.prod(kernel)).reshape(-1, *(1,) * nd) == picks  # (N, C, K, *out)
        dcols = _where(chosen, g.reshape(*g.shape[:2], 1, *out_sizes), 0.0)
        return (_fold(dcols.reshape(*x.shape[:2], *kernel, *out_sizes), padded.shape[2:],
                      kernel, stride, dilation)[crop],)
    result = _node(out, op, rule, x)
    result = _called(result.squeeze(0), op) if unbatched else result  # (as PyTorch names it)
    if not return_indices:
        return result
    index = 0  # each pick's place in the input, row-major: one spatial dim at a time
    for d, (place, m, s, p, dil, n) in enumerate(zip(np.unravel_index(picks[:, :, 0], kernel),
                                                     out_sizes, stride, padding, dilation,
                                                     x.shape[2:])):
        starts = (np.arange(m) * s - p).reshape([-1 if e == d else 1 for e in range(nd)])
        index = index * n + starts + place * dil
    return result, Tensor(index[0] if unbatched else index)


def max_pool2d(input: Tensor, kernel_size: IntOrTuple, stride: IntOrTuple | None = None,
               padding: IntOrTuple = 0, dilation: IntOrTuple = 1, ceil_mode: bool = False,
               return_indices: bool = False) -> Tensor | tuple[Tensor, Tensor]:
    """The largest entry of each window of input (N, C, H, W) or (C, H, W), as torch's
    F.max_pool2d (the first of tied entries gets the gradient); return_indices: also where
    each came from, as an index into H * W."""
    return _max_pool("max_pool2d", 2, input, kernel_size, stride, padding, dilation, ceil_mode,
                     return_indices)


def max_pool3d(input: Tensor, kernel_size: IntOrTuple, stride: IntOrTuple | None = None,
               padding: IntOrTuple = 0, dilation: IntOrTuple = 1, ceil_mode: bool = False,
               return_indices: bool = False) -> Tensor | tuple[Tensor, Tensor]:
    """The largest entry of each window of input (N, C, D, H, W) or (C, D, H, W), as torch's
    F.max_pool3d; return_indices: also where each came from, as an index into D * H * W."""
    return _max_pool("max_pool3d", 3, input, kernel_size, stride, padding, dilation, ceil_mode,
                     return_indices)


def _avg_pool(op: str, nd: int, input: Any, kernel_size: IntOrTuple,
              stride: IntOrTuple | None, padding: IntOrTuple, ceil_mode: bool,
              count_include_pad: bool, divisor_override: int | None) -> Tensor:
    """The mean of each window of input (N, C, *spatial) or (C, *spatial), padded with zeros
    (which count, unless count_include_pad=False; divisor_override divides by that
    instead); dinput = g over the divisor spread evenly over each window."""
    kernel, stride, padding, dilation = _pool_settings(op, nd, kernel_size, stride, padding, 1)
    x, unbatched = _batched(op, input, nd)
    widths = _widths(x.shape[2:], kernel, stride, padding, dilation, ceil_mode)
    padded = _pad(x._data, widths) if any(map(any, widths)) else x._data
    out_sizes = _out_sizes(op, padded.shape[2:], kernel, stride, dilation)
    windows = _unfold(padded, kernel, stride, dilation)
    if divisor_override is not None:
        if divisor_override == 0:
            raise RuntimeError(f"{op}: divisor must be not zero (divisor_override=0), as in "
                               "PyTorch; pass None to divide by the window's size")
        divisor = float(divisor_override)
    elif widths[2:] == [(p, p) for p in padding] and (count_include_pad or not any(padding)):
        divisor = float(math.prod(kernel))
    else:  # each window's count of input entries (and padding, if it counts): one per dim
        counts = [np.minimum(starts + k, n + p * count_include_pad)
                  - (starts if count_include_pad else np.maximum(starts, 0))
                  for starts, k, n, p in ((np.arange(m) * s - p, k, n, p) for m, s, p, k, n
                                          in zip(out_sizes, stride, padding, kernel,
                                                 x.shape[2:]))]
        divisor = functools.reduce(np.multiply.outer, counts).astype(x.dtype)
    out = windows.sum(axis=tuple(range(2, 2 + nd))) / divisor
    crop = (..., *(slice(p, p + n) for p, n in zip(padding, x.shape[2:])))

    def rule(g: Any, out: Any, need: list, x: Any) -> tuple:
        share = (g / divisor).reshape(*g.shape[:2], *(1,) * nd, *out_sizes)
        return (_fold(_expand(share, (*g.shape[:2], *kernel, *out_sizes)), padded.shape[2:],
                      kernel, stride, dilation)[crop],)
    result = _node(out.astype(x.dtype, copy=False), op, rule, x)
    return _called(result.squeeze(0), op) if unbatched else result  # (as PyTorch names it)


def avg_pool2d(input: Tensor, kernel_size: IntOrTuple, stride: IntOrTuple | None = None,
               padding: IntOrTuple = 0, ceil_mode: bool = False, count_include_pad: bool = True,
               divisor_override: int | None = None) -> Tensor:
    """The mean of each window of input (N, C, H, W) or (C, H, W), as torch's F.avg_pool2d
    (padding zeros count unless count_include_pad=False; divisor_override divides by that)."""
    return _avg_pool("avg_pool2d", 2, input, kernel_size, stride, padding, ceil_mode,
                     count_include_pad, divisor_override)


def avg_pool3d(input: Tensor, kernel_size: IntOrTuple, stride: IntOrTuple | None = None,
               padding: IntOrTuple = 0, ceil_mode: bool = False, count_include_pad: bool = True,
               divisor_override: int | None = None) -> Tensor:
    """The mean of each window of input (N, C, D, H, W) or (C, D, H, W), as torch's
    F.avg_pool3d (the settings as avg_pool2d's)."""
    return _avg_pool("avg_pool3d", 3, input, kernel_size, stride, padding, ceil_mode,
                     count_include_pad, divisor_override)


def _adaptive_avg_pool(op: str, nd: int, input: Any,
                       output_size: IntOrTuple | Sequence[int | None]) -> Tensor:
    """The mean over the windows that give an output of output_size (None keeps an input
    size), as PyTorch's: equal windows where the output sizes divide the input's (1 always
    does), else PyTorch's adaptive ones, which may differ in size and overlap."""
    x = _as_tensor(input)
    sizes = (output_size,) * nd if isinstance(output_size, (int, np.integer)) or \
        output_size is None else tuple(output_size)
    spatial = tuple(x.shape[-nd:])
    want = tuple(n if m is None else m for m, n in zip(sizes, spatial))
    if len(sizes) != nd or x.ndim not in (nd + 1, nd + 2) or any(m < 1 for m in want):
        raise ValueError(f"{op} takes input (N, C, {_SPATIAL[nd]}) or (C, {_SPATIAL[nd]}) and "
                         f"an output size (a positive int, {'pair' if nd == 2 else 'triple'} "
                         f"or None); got input {tuple(x.shape)} and output_size {output_size!r}")
    if any(n % m for m, n in zip(want, spatial)):
        from nn.pooling import _adaptive_avg  # (which imports this module)
        out = _adaptive_avg(x if x.ndim == nd + 2 else x.unsqueeze(0), want)
        out = out if x.ndim == nd + 2 else out.squeeze(0)
    else:
        kernel = tuple(n // m for m, n in zip(want, spatial))
        out = _avg_pool(op, nd, x, kernel, kernel, 0, False, True, None)
    # PyTorch's grad_fn: a mean when the output is one entry per channel
    return _called(out, "mean_dim" if max(want) == 1 else op)


def adaptive_avg_pool2d(input: Tensor, output_size: IntOrTuple | Sequence[int | None]) -> Tensor:
    """The mean over the windows of input (N, C, H, W) or (C, H, W) that give an output of
    output_size (an int, a pair, None keeping an input size), as torch's
    F.adaptive_avg_pool2d."""
    return _adaptive_avg_pool("adaptive_avg_pool2d", 2, input, output_size)


def adaptive_avg_pool3d(input: Tensor, output_size: IntOrTuple | Sequence[int | None]) -> Tensor:
    """The mean over the windows of input (N, C, D, H, W) or (C, D, H, W) that give an output
    of output_size, as torch's F.adaptive_avg_pool3d."""
    return _adaptive_avg_pool("adaptive_avg_pool3d", 3, input, output_size)
