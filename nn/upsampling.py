"""Resizing images and sequences, as torch.nn's: interpolate (modes 'nearest',
'nearest-exact', 'linear', 'bilinear', 'bicubic', 'trilinear', 'area', and with antialias
'lanczos'), pixel_shuffle and
pixel_unshuffle (re-exported by nn.functional), and the modules Upsample,
UpsamplingNearest2d, UpsamplingBilinear2d, PixelShuffle and PixelUnshuffle.

Every interpolation is separable: along each spatial dim, each output entry is a weighted
sum of a few input entries (1 for nearest, 2 for linear, 4 for cubic), at the places and
with the weights PyTorch's CPU kernels compute, in the input's float type and rounded as
they round (float32 for float32, floors through float32), so that the entries 'nearest'
picks agree to the entry, and with their shortcuts (a linear dim that keeps its size is
copied; 2-D 'nearest' outputs of at most 128 rows and columns together keep or halve the
index when a size is kept or doubled). That is an index along the dim and a weighted sum,
engine ops, so gradients (sent back to every entry an output used, times its weight) come
from their rules. (Where a scale factor leaves a 'nearest' or 'bicubic' size unchanged,
PyTorch's backward pass copies the gradient through though its forward pass resampled;
here the gradient is that of the values.) With antialias=True ('bilinear', 'bicubic' and
'lanczos' on images), the taps of a shrunk dim widen with the shrink factor, as a low-pass
filter's, and their weights are normalised to sum to 1, as PyTorch's and Pillow's resize
compute them; those are taps too. 'area' is the adaptive mean pool
(nn/pooling.py). pixel_shuffle and pixel_unshuffle are a reshape, a permute and a reshape.
"""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from engine.tensor import Tensor, _as_tensor, _called
from nn.module import Module
from nn.pooling import _adaptive_avg

# each mode and the number of spatial dims it takes (None: any of 1, 2, 3)
_MODES = {"nearest": None, "nearest-exact": None, "area": None, "linear": 1, "bilinear": 2,
          "bicubic": 2, "trilinear": 3, "lanczos": 2}
_CUBIC = -0.75  # the A of the cubic convolution kernel, as PyTorch's (and OpenCV's)
Sizes = int | Sequence[int]
Factors = float | Sequence[float]


def _scale(n: int, m: int, align_corners: bool, factor: float | None, acc: type) -> Any:
    """How far apart, in input entries, output entries are (area_pixel_compute_scale)."""
    if align_corners:
        return acc(n - 1) / acc(m - 1) if m > 1 else acc(0)
    return acc(1.0 / factor) if factor is not None and factor > 0 else acc(n) / acc(m)


def _source(n: int, m: int, align_corners: bool, factor: float | None, acc: type,
            cubic: bool) -> np.ndarray:
    """Where in the input each of the m outputs sits: pixel centres line up, or with
    align_corners the first and last entries (as PyTorch; below 0 is 0, but for cubic)."""
    scale, dst = _scale(n, m, align_corners, factor, acc), np.arange(m).astype(acc)
    if align_corners:
        return scale * dst
    src = scale * (dst + acc(0.5)) - acc(0.5)
    return src if cubic else np.maximum(src, acc(0))


def _floor(src: np.ndarray, n: int) -> np.ndarray:
    """floor(src) as PyTorch's kernels take it, through float32 (C's floorf), at most n - 1."""
    return np.minimum(np.floor(src.astype(np.float32)).astype(np.int64), n - 1)


def _nearest(exact: bool, n: int, m: int, factor: float | None, acc: type,
             small: bool) -> np.ndarray:
    """PyTorch's pick for each of m outputs from n entries: floor(scale * i) ('nearest', as
    OpenCV), or the entry whose centre is nearest ('nearest-exact'). `small`: PyTorch's
    kernel for 2-D outputs of at most 128 rows and columns together, which works in
    float32 and takes output sizes n and 2 n as 'nearest' shortcuts."""
    i = np.arange(m)
    if small:
        if not exact and m in (n, 2 * n):
            return i if m == n else i >> 1
        scale = _scale(n, m, False, factor, np.float32)
        src = (i + 0.5) * np.float64(scale) if exact else scale * i.astype(np.float32)
    else:
        src = _source(n, m, False, factor, acc, False).astype(np.float64) + 0.5 if exact \
            else _scale(n, m, False, factor, acc) * i.astype(acc)
    return _floor(src, n)


def _taps(mode: str, n: int, m: int, align_corners: bool, factor: float | None, acc: type,
          small: bool) -> tuple[np.ndarray, np.ndarray]:
    """For a dim of n entries resized to m: which input entries each output sums, (taps, m),
    and with what weights, as PyTorch's CPU kernels compute them in `acc`, the input's
    float type."""
    if mode in ("nearest", "nearest-exact"):
        return _nearest(mode == "nearest-exact", n, m, factor, acc, small)[None], np.ones((1, m))
    cubic = mode == "bicubic"
    src = _source(n, m, align_corners, factor, acc, cubic)
    index = _floor(src, n)
    t = np.clip(src - index.astype(acc), acc(0), acc(1))  # how far past index[k] it sits
    if cubic:
        a, one = acc(_CUBIC), acc(1)

        def near(x: np.ndarray) -> np.ndarray:  # the kernel on [0, 1]
            return ((a + 2) * x - (a + 3)) * x * x + 1

        def far(x: np.ndarray) -> np.ndarray:  # and on [1, 2]
            return ((a * x - 5 * a) * x + 8 * a) * x - 4 * a
        return (np.clip(index + np.arange(-1, 3)[:, None], 0, n - 1),
                np.stack([far(t + one), near(t), near(one - t), far(acc(2) - t)]))
    if m == n:  # PyTorch copies a dim whose size stays, whatever the scale factor
        index, t = np.arange(n), np.zeros(n, acc)
    return np.stack([index, index + (index < n - 1)]), np.stack([acc(1) - t, t])


def _cubic(a: float) -> Any:
    """The cubic convolution kernel with parameter a, on |x| < 2 (Keys)."""
    def kernel(x: np.ndarray) -> np.ndarray:
        x = np.abs(x)
        return np.where(x < 1, ((a + 2) * x - (a + 3)) * x * x + 1,
                        np.where(x < 2, ((a * x - 5 * a) * x + 8 * a) * x - 4 * a, 0))
    return kernel


def _lanczos3(x: np.ndarray) -> np.ndarray:
    """sinc(x) sinc(x / 3) on |x| < 3, Lanczos' windowed sinc (np.sinc is sin(pi x) / (pi x))."""
    return np.where(np.abs(x) < 3, np.sinc(x) * np.sinc(x / 3), 0)


# antialias filters: the taps each spans at scale 1 and the filter (PyTorch's aa_filter;
# its antialiased cubic takes Keys' a = -0.5, as Pillow, where the plain one takes -0.75)
_FILTERS = {"bilinear": (2, lambda x: np.maximum(1 - np.abs(x), 0)), "bicubic": (4, _cubic(-0.5)),
            "lanczos": (6, _lanczos3)}


def _antialiased_taps(mode: str, n: int, m: int, align_corners: bool, factor: float | None,
                      acc: type) -> tuple[np.ndarray, np.ndarray]:
    """_taps for antialias=True (PyTorch's _compute_indices_min_size_weights_aa): output i
    centred at scale (i + 1/2); where the dim shrinks (scale > 1) the filter is stretched by
    the scale, so each output averages every input it covers; the weights over the inputs
    in reach, [xmin, xmin + size), are normalised to sum to 1."""
    width, kernel = _FILTERS[mode]
    scale = _scale(n, m, align_corners, factor, acc)
    support = width / 2 * scale if scale >= 1 else acc(width / 2)
    stretch = 1 / scale if scale >= 1 else acc(1)
    centre = scale * (np.arange(m, dtype=acc) + acc(0.5))  # (in acc throughout, as PyTorch's)
    low = np.maximum((centre - support + acc(0.5)).astype(np.int64), 0)
    size = np.minimum((centre + support + acc(0.5)).astype(np.int64), n) - low
    k = np.arange(size.max())[:, None]
    at = (k + low).astype(acc) - centre + acc(0.5)
    weight = np.where(k < size, kernel(at * stretch), 0).astype(acc)
    total = weight.sum(axis=0)
    weight = weight / np.where(total == 0, 1, total)
    return np.minimum(low + k, n - 1), weight


def _resample(x: Tensor, dim: int, index: np.ndarray, weight: np.ndarray) -> Tensor:
    """x with dim `dim` replaced by m entries, each sum_k weight[k] * x[index[k]] along it."""
    taps, m = index.shape
    picked = x[(slice(None),) * dim + (index.reshape(-1),)]
    shape = (*x.shape[:dim], taps, m, *x.shape[dim + 1:])
    weights = Tensor(weight.astype(x.dtype).reshape(taps, m, *(1,) * (x.ndim - dim - 1)))
    return (picked.reshape(shape) * weights).sum(dim)


def _output_sizes(x: Tensor, size: Sizes | None, scale_factor: Factors | None,
                  recompute: bool) -> tuple[tuple[int, ...], tuple[float | None, ...]]:
    """The output's spatial sizes and the scale factors the kernels use (None: in / out),
    from exactly one of size and scale_factor, as F.interpolate takes them."""
    spatial = tuple(x.shape[2:])
    nd = len(spatial)
    if (size is None) == (scale_factor is None):
        raise ValueError("interpolate: give exactly one of size or scale_factor, got "
                         + ("both" if size is not None else "neither"))
    if size is not None:
        if recompute:
            raise ValueError("interpolate: recompute_scale_factor is not meaningful with an "
                             "explicit size")
        sizes = tuple(size) if isinstance(size, (list, tuple)) else (size,) * nd
        if len(sizes) != nd:
            raise ValueError(f"interpolate: input with spatial dims {list(spatial)} needs an "
                             f"output size of {nd} ints, got {size!r}")
        if not all(isinstance(n, (int, np.integer)) and not isinstance(n, bool) for n in sizes):
            raise TypeError(f"interpolate: size must be an int or {nd} ints, got {size!r}")
        return tuple(int(n) for n in sizes), (None,) * nd
    factors = tuple(scale_factor) if isinstance(scale_factor, (list, tuple)) \
        else (scale_factor,) * nd
    if len(factors) != nd:
        raise ValueError(f"interpolate: input with spatial dims {list(spatial)} needs "
                         f"{nd} scale factors, got {scale_factor!r}")
    factors = tuple(float(f) for f in factors)
    sizes = tuple(int(n * f) for n, f in zip(spatial, factors))  # (C's cast: truncated)
    return sizes, (None,) * nd if recompute else factors


def interpolate(input: Tensor, size: Sizes | None = None, scale_factor: Factors | None = None,
                mode: str = "nearest", align_corners: bool | None = None,
                recompute_scale_factor: bool | None = None, antialias: bool = False) -> Tensor:
    """input (N, C, *spatial) resized to `size`, or scaled by `scale_factor`, as torch's
    F.interpolate: 'nearest' (PyTorch's pick, floor(i * in / out)), 'nearest-exact' (the
    nearest entry), 'linear' / 'bilinear' / 'trilinear' (1, 2, 3 spatial dims) and 'bicubic'
    (2), with align_corners (the corner entries' centres line up, not the image edges),
    and 'area' (the mean over each output entry's share of the input). antialias=True, for
    'bilinear', 'bicubic' and 'lanczos' (which needs it) on images, filters as it shrinks,
    as Pillow's resize does."""
    x = _as_tensor(input)
    if mode not in _MODES:
        raise ValueError(f"interpolate: mode {mode!r} is not one of "
                         f"{', '.join(map(repr, _MODES))}")
    if mode in ("nearest", "nearest-exact", "area"):
        if align_corners is not None:
            raise ValueError("interpolate: align_corners can only be set with the "
                             "interpolating modes linear | bilinear | bicubic | trilinear, "
                             f"not {mode!r}")
    if antialias and not (mode in _FILTERS and x.ndim == 4):
        raise ValueError("interpolate: antialias=True takes modes 'bilinear', 'bicubic' and "
                         f"'lanczos' on 4D input (N, C, H, W), got mode {mode!r} on "
                         f"{x.ndim}D input")
    if mode == "lanczos" and (align_corners or not antialias):
        raise ValueError("interpolate: mode 'lanczos' needs antialias=True and takes no "
                         "align_corners=True")
    nd = x.ndim - 2
    wants = _MODES[mode]
    if not 1 <= nd <= 3 or wants not in (None, nd):
        takes = "3D, 4D or 5D" if wants is None else f"{wants + 2}D"
        raise ValueError(f"interpolate: mode {mode!r} takes {takes} input (N, C, *spatial), "
                         f"got {x.ndim}D input of shape {tuple(x.shape)}")
    if mode not in ("nearest", "nearest-exact") and x.dtype.kind != "f":
        raise TypeError(f"interpolate: mode {mode!r} takes float input, got {x.dtype} "
                        "(convert with .float())")
    sizes, factors = _output_sizes(x, size, scale_factor, bool(recompute_scale_factor) or (
        mode == "area" and size is None))
    if min(sizes) < 1:
        raise ValueError(f"interpolate: input and output sizes should be greater than 0, got "
                         f"input {tuple(x.shape[2:])} and output {sizes}")
    if mode == "area":  # PyTorch's 1-D adaptive pool is the 2-D one squeezed; to 1 a mean
        name = "squeeze_dim" if nd == 1 else "mean_dim" if max(sizes) == 1 else \
            f"adaptive_avg_pool{nd}d"
        return _called(_adaptive_avg(x, sizes), name)
    acc = x.dtype.type if x.dtype in (np.float32, np.float64) else np.float32
    if antialias:  # (a dim that keeps its size is copied, as PyTorch's kernel skips it)
        taps = [None if n == m else _antialiased_taps(mode, n, m, bool(align_corners), f, acc)
                for n, m, f in zip(x.shape[2:], sizes, factors)]
    else:
        small = nd == 2 and sum(sizes) <= 128
        taps = [_taps(mode, n, m, bool(align_corners), f, acc, small)
                for n, m, f in zip(x.shape[2:], sizes, factors)]
    if mode in ("nearest", "nearest-exact"):  # one pick of every entry: one index
        out = x[(slice(None), slice(None), *np.ix_(*(index[0] for index, _ in taps)))]
    else:
        out = x
        for dim, tap in enumerate(taps, 2):
            out = out if tap is None else _resample(out, dim, *tap)
    name = {"nearest": "upsample_nearest", "nearest-exact": "_upsample_nearest_exact"}.get(
        mode, f"upsample_{mode}")
    # PyTorch's UpsampleBilinear2DBackward0, UpsampleBicubic2DAaBackward0, ...
    return _called(out, f"{'_' if antialias else ''}{name}{nd}d{'_aa' if antialias else ''}")


# --- pixel shuffle ---

def _factor(op: str, name: str, r: Any) -> int:
    if not isinstance(r, (int, np.integer)) or isinstance(r, bool) or r < 1:
        raise ValueError(f"{op}: {name} must be a positive int, got {r!r}")
    return int(r)


def pixel_shuffle(input: Tensor, upscale_factor: int) -> Tensor:
    """(*, C * r * r, H, W) -> (*, C, H * r, W * r), r = upscale_factor, as torch's
    F.pixel_shuffle: each channel group of r * r becomes an r-by-r block of pixels."""
    x = _as_tensor(input)
    r = _factor("pixel_shuffle", "upscale_factor", upscale_factor)
    if x.ndim < 3:
        raise ValueError(f"pixel_shuffle expects input to have at least 3 dimensions, but got "
                         f"input of shape {tuple(x.shape)}")
    *batch, c, h, w = x.shape
    if c % (r * r):
        raise ValueError(f"pixel_shuffle expects its input's 'channel' dimension to be "
                         f"divisible by the square of upscale_factor, but input.size(-3)={c} "
                         f"is not divisible by {r * r}")
    b = len(batch)
    out = x.reshape(*batch, c // (r * r), r, r, h, w).permute(*range(b), b, b + 3, b + 1,
                                                                 b + 4, b + 2)
    return _called(out.reshape(*batch, c // (r * r), h * r, w * r), "pixel_shuffle")


def pixel_unshuffle(input: Tensor, downscale_factor: int) -> Tensor:
    """(*, C, H * r, W * r) -> (*, C * r * r, H, W), r = downscale_factor, as torch's
    F.pixel_unshuffle: pixel_shuffle undone."""
    x = _as_tensor(input)
    r = _factor("pixel_unshuffle", "downscale_factor", downscale_factor)
    if x.ndim < 3:
        raise ValueError(f"pixel_unshuffle expects input to have at least 3 dimensions, but "
                         f"got input of shape {tuple(x.shape)}")
    *batch, c, h, w = x.shape
    for name, n in (("height", h), ("width", w)):
        if n % r:
            raise ValueError(f"pixel_unshuffle expects {name} to be divisible by "
                             f"downscale_factor, but it is {n}, not divisible by {r}")
    b = len(batch)
    out = x.reshape(*batch, c, h // r, r, w // r, r).permute(*range(b), b, b + 2, b + 4, b + 1,
                                                             b + 3)
    return _called(out.reshape(*batch, c * r * r, h // r, w // r), "pixel_unshuffle")


# --- modules ---

class Upsample(Module):
    """F.interpolate with this module's size or scale_factor, mode and align_corners."""

    def __init__(self, size: Sizes | None = None, scale_factor: Factors | None = None,
                 mode: str = "nearest", align_corners: bool | None = None,
                 recompute_scale_factor: bool | None = None) -> None:
        self.name = type(self).__name__
        self.size = size
        self.scale_factor = tuple(float(f) for f in scale_factor) \
            if isinstance(scale_factor, tuple) else float(scale_factor) if scale_factor else None
        self.mode, self.align_corners = mode, align_corners
        self.recompute_scale_factor = recompute_scale_factor

    def forward(self, input: Any) -> Tensor:
        return interpolate(input, self.size, self.scale_factor, self.mode, self.align_corners,
                           recompute_scale_factor=self.recompute_scale_factor)

    def extra_repr(self) -> str:
        shown = f"scale_factor={self.scale_factor!r}" if self.scale_factor is not None \
            else f"size={self.size!r}"
        return f"{shown}, mode={self.mode!r}"


class UpsamplingNearest2d(Upsample):
    """Upsample in mode 'nearest' (the older name)."""

    def __init__(self, size: Sizes | None = None, scale_factor: Factors | None = None) -> None:
        super().__init__(size, scale_factor, mode="nearest")


class UpsamplingBilinear2d(Upsample):
    """Upsample in mode 'bilinear' with align_corners=True (the older name, and default)."""

    def __init__(self, size: Sizes | None = None, scale_factor: Factors | None = None) -> None:
        super().__init__(size, scale_factor, mode="bilinear", align_corners=True)


class PixelShuffle(Module):
    """F.pixel_shuffle: (*, C * r * r, H, W) -> (*, C, H * r, W * r)."""

    def __init__(self, upscale_factor: int) -> None:
        self.upscale_factor = upscale_factor

    def forward(self, input: Any) -> Tensor:
        return pixel_shuffle(input, self.upscale_factor)

    def extra_repr(self) -> str:
        return f"upscale_factor={self.upscale_factor}"


class PixelUnshuffle(Module):
    """F.pixel_unshuffle: (*, C, H * r, W * r) -> (*, C * r * r, H, W)."""

    def __init__(self, downscale_factor: int) -> None:
        self.downscale_factor = downscale_factor

    def forward(self, input: Any) -> Tensor:
        return pixel_unshuffle(input, self.downscale_factor)

    def extra_repr(self) -> str:
        return f"downscale_factor={self.downscale_factor}"
