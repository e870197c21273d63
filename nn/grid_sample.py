"""Spatial transformers, as torch.nn.functional's: affine_grid (where an affine map sends
each output pixel, in [-1, 1] coordinates) and grid_sample (the input read at those places:
'bilinear', 'nearest' or 'bicubic', with 'zeros', 'border' or 'reflection' padding), for
4-D input (N, C, H, W) and 5-D input (N, C, D, H, W) ('bicubic': 4-D only).

affine_grid is a matrix product of a constant base grid with theta's transpose, so its
gradient comes from the engine's rules. grid_sample is one op with its own rule. Every
output point reads a few input entries per spatial dim (taps: 1 nearest, 2 linear, 4
cubic) and weighs them by products of per-dim weights, functions of the point's
fractional coordinate t. The taps and t come from the grid by PyTorch's formulas (its
vectorised CPU kernel's: unnormalising, clipping and reflecting, NaN clipped to 0,
non-finite and huge coordinates sent outside). The places and masks are constants; the
coordinate is piecewise affine in the grid, so the rule writes t as the forward pass's
number plus (grid - its number) times the slope: under create_graph that is the same
number with the right derivative, and gradients of gradients come out right.

Values to the bit: affine_grid's (its sums in PyTorch's order, unfused), and grid_sample's
'nearest' and 'bilinear' (each kernel's order of operations, and the 2-D one's fused
multiply-adds, reproduced); 'bicubic' values and all gradients agree to rounding.

The rule: dinput = g times each tap's weight, added at the tap (np.add.at, where points
share taps); dgrid = g times the input values times d(weights)/dt times dt/dgrid, summed
over taps and channels. 'nearest' sends no gradient to the grid (zeros, as PyTorch).
"""
from __future__ import annotations

import math
import operator
import warnings
from typing import Any, Sequence

import numpy as np

from engine._torch_math import fma32, fma64
from engine.factories import linspace
from engine.shapes import _put, cat, stack
from engine.tensor import Tensor, _as_tensor, _called, _node, _raw, _where, _zeros

_MODES = ("bilinear", "nearest", "bicubic")
_PADDINGS = ("zeros", "border", "reflection")
_CUBIC = -0.75  # the A of the cubic convolution kernel, as PyTorch's
_FAR = 2.0 ** 31  # coordinates past int32's range go outside (_downgraded)
_DEFAULT_WARNING = ("Default grid_sample and affine_grid behavior has changed to "
                    "align_corners=False since 1.3.0. Please specify align_corners=True if "
                    "the old behavior is desired. See the documentation of grid_sample for "
                    "details.")


def _align(align_corners: bool | None) -> bool:
    """align_corners, False with PyTorch's warning when it was not given."""
    if align_corners is None:
        warnings.warn(_DEFAULT_WARNING, UserWarning, stacklevel=3)
        return False
    return bool(align_corners)


# --- affine_grid ---

def _steps(n: int, align_corners: bool, dtype: np.dtype) -> np.ndarray:
    """n points across [-1, 1]: the pixel centres (the corner pixels' at +-1 when
    align_corners), as PyTorch's linspace_from_neg_one; one point sits at 0."""
    if n <= 1:
        return np.zeros(n, dtype)
    steps = linspace(-1, 1, n, dtype=dtype)._data
    return steps if align_corners else steps * dtype.type(n - 1) / dtype.type(n)


def affine_grid(theta: Tensor, size: Sequence[int], align_corners: bool | None = None) -> Tensor:
    """The grid (N, H, W, 2), or (N, D, H, W, 3), where the affine maps theta (N, 2, 3), or
    (N, 3, 4), send the pixels of an output of size (N, C, H, W), or (N, C, D, H, W), as
    torch's F.affine_grid: base grid (x, y, [z], 1) @ theta^T; dtheta = g^T @ base."""
    align = _align(align_corners)
    theta = _as_tensor(theta)
    if theta.dtype.kind != "f":
        raise ValueError(f"Expected theta to have floating point type, but got {theta.dtype}")
    size = [int(n) for n in size]
    if len(size) not in (4, 5):
        raise ValueError("affine_grid takes a 4D size (N, C, H, W) or a 5D size (N, C, D, H, W), "
                         f"for 2D and 3D affine transforms; got size {tuple(size)}")
    nd = len(size) - 2
    if theta.ndim != 3 or tuple(theta.shape[1:]) != (nd, nd + 1):
        raise ValueError(f"Expected a batch of {nd}D affine matrices of shape Nx{nd}x{nd + 1} "
                         f"for size {tuple(size)}. Got {tuple(theta.shape)}.")
    spatial = size[2:]
    if align and min(spatial) == 1:
        warnings.warn("Since version 1.3.0, affine_grid behavior has changed for unit-size "
                      "grids when align_corners=True. This is not an intended use case of "
                      "affine_grid. See the documentation of affine_grid for details.",
                      UserWarning, stacklevel=2)
    elif min(size) <= 0:
        raise ValueError(f"Expected non-zero, positive output size. Got {tuple(size)}")
    if theta.shape[0] != size[0]:
        raise RuntimeError(f"affine_grid: theta holds {theta.shape[0]} matrices but size asks "
                           f"for a batch of {size[0]}; they must match")
    dtype = theta.dtype
    along = np.meshgrid(*(_steps(n, align, dtype) for n in spatial), indexing="ij")
    # the base grid's columns: x (along the last dim), y (the one before), [z], then 1
    base = np.stack([*along[::-1], np.ones(spatial, dtype)], -1).reshape(-1, nd + 1)
    # base @ theta^T, its sums taken in order (x, y, [z], 1), as PyTorch's kernel rounds them
    columns = theta.transpose(1, 2)
    out = Tensor(base[:, :1]) * columns[:, None, 0]
    for k in range(1, nd + 1):
        out = out + Tensor(base[:, k:k + 1]) * columns[:, None, k]
    return _called(out.reshape(size[0], *spatial, nd), "affine_grid_generator")


# --- grid_sample: where each output point reads, by PyTorch's formulas ---

def _unnormalize(g: np.ndarray, n: int, align: bool, nd: int) -> tuple[np.ndarray, Any]:
    """Grid values (-1 and 1: the corner pixels' centres with align_corners, else their
    outer edges) as coordinates in a dim of n pixels, and d coordinate / d grid."""
    dt = g.dtype.type
    scale = dt(n - 1) / dt(2) if align else dt(n) / dt(2)
    if nd == 2:  # the 2-D kernel's arithmetic (vectorised, with an FMA), the 3-D one's below
        return ((g + 1) * scale if align else _fma(g + 1, scale, dt(-0.5))), scale
    return ((g + 1) / 2 * dt(n - 1) if align else ((g + 1) * dt(n) - 1) / 2), scale


def _fma(a: np.ndarray, b: Any, c: Any) -> np.ndarray:
    """a * b + c rounded once, as the FMA instructions PyTorch's compiled kernels use (where
    that is not finite, the emulation's error terms are not either: a * b + c there)."""
    with np.errstate(invalid="ignore", over="ignore"):
        fused = (fma32 if a.dtype == np.float32 else fma64)(a, b, c).astype(a.dtype, copy=False)
        plain = a * b + c
    return np.where(np.isfinite(plain), fused, plain)


def _joined(numpy_op: Any, engine_op: Any, parts: list, axis: int) -> Any:
    """numpy's stack or concatenate for arrays, the engine's for Tensors (under create_graph)."""
    return (engine_op if any(isinstance(p, Tensor) for p in parts) else numpy_op)(parts, axis)


def _clip(c: np.ndarray, n: int, nd: int) -> tuple[np.ndarray, np.ndarray]:
    """c clipped into [0, n - 1], and its slope: 0 at and past either end. NaN goes to 0
    in PyTorch's 2-D kernel, to n - 1 in its 3-D one (their clamps' argument orders)."""
    dt = c.dtype.type
    low = np.fmax(c, dt(0)) if nd == 2 else np.maximum(c, dt(0))
    out = np.minimum(low, dt(n - 1)) if nd == 2 else np.fmin(low, dt(n - 1))
    return out, ((low != 0) & (out != n - 1)).astype(c.dtype)


def _reflect(c: np.ndarray, n: int, align: bool) -> tuple[np.ndarray, np.ndarray]:
    """c mirrored at the ends of [0, n - 1] (align_corners) or [-0.5, n - 0.5] until it
    falls inside, and its slope (+1 or -1)."""
    dt = c.dtype.type
    if align and n <= 1:
        return np.zeros_like(c), np.zeros_like(c)
    low, twice_span = (dt(0), dt(2 * (n - 1))) if align else (dt(-0.5), dt(2 * n))
    shifted = c - low
    size = np.abs(shifted)
    with np.errstate(invalid="ignore"):  # inf: NaN, clipped to 0 next, as PyTorch's
        extra = size - np.trunc(size / twice_span) * twice_span
    back = twice_span - extra
    flip = extra > back
    return np.where(flip, back, extra) + low, np.where(flip ^ (shifted < 0), dt(-1), dt(1))


def _padded(c: np.ndarray, n: int, padding_mode: str, align: bool,
            nd: int) -> tuple[np.ndarray, Any]:
    """Coordinates c brought into the dim as padding_mode says, and d result / d c."""
    if padding_mode == "zeros":
        return c, 1
    slope = 1
    if padding_mode == "reflection":
        c, slope = _reflect(c, n, align)
    c, inside = _clip(c, n, nd)
    return c, slope * inside


def _downgraded(c: np.ndarray) -> np.ndarray:
    """c, but -100 (outside) where it is not finite or past int32's range, as PyTorch's
    conversion of coordinates to ints."""
    return np.where(np.abs(c) < _FAR, c, c.dtype.type(-100))


def _weights(mode: str, frac: np.ndarray, low: np.ndarray, shift: Any) -> tuple[Any, Any]:
    """Each tap's weight (taps, N, 1, Q) at fraction t = frac + shift, and their derivative
    in t (None for 'nearest'). shift is 0, or under create_graph a Tensor worth 0 that
    carries t's derivative; low is 1 - frac as PyTorch's kernel rounds it."""
    if mode == "nearest":
        return np.ones((1, *frac.shape), frac.dtype), None
    if mode == "bilinear":
        slope = np.array([-1, 1], frac.dtype).reshape(2, 1, 1, 1)
        return shift * slope + np.stack([low, frac]), slope
    # cubic convolution: the taps sit at distances t + 1, t, 1 - t, 2 - t
    slope = np.array([1, 1, -1, -1], frac.dtype).reshape(4, 1, 1, 1)
    s = (shift + frac) * slope + np.array([1, 0, 1, 2], frac.dtype).reshape(4, 1, 1, 1)
    a, inner = _CUBIC, np.array([False, True, True, False]).reshape(4, 1, 1, 1)
    near = (s * (a + 2) - (a + 3)) * s * s + 1  # the kernel on [0, 1]
    far = ((s * a - 5 * a) * s + 8 * a) * s - 4 * a  # and on [1, 2]
    dnear = (s * (3 * (a + 2)) - 2 * (a + 3)) * s
    dfar = (s * (3 * a) - 10 * a) * s + 8 * a
    return _where(inner, near, far), _where(inner, dnear, dfar) * slope


def _outer(factors: Sequence[Any], combine: Any, order: Sequence[int] | None = None) -> Any:
    """Per-dim factors (taps_d, N, 1, Q) combined over every choice of one tap per dim,
    (prod taps_d, N, 1, Q), the taps of the first dim outermost; `order`: the dims in the
    order they are combined (the rounding of a product depends on it)."""
    nd, out = len(factors), None
    for d in range(nd) if order is None else order:
        f = factors[d]
        f = f.reshape((1,) * d + (f.shape[0],) + (1,) * (nd - 1 - d) + tuple(f.shape[1:]))
        out = f if out is None else combine(out, f)
    return out.reshape(math.prod(f.shape[0] for f in factors), *out.shape[nd:])


class _Plan:
    """Where each of grid_sample's Q output points reads, from the grid's numbers: per
    spatial dim the fraction t and dt/dgrid; over all dims, `index`, each tap's place in
    the input flattened, (taps, N, C, Q), past its end where the tap falls outside."""

    def __init__(self, grid: np.ndarray, sizes: tuple[int, ...], mode: str, padding_mode: str,
                 align: bool, channels: int) -> None:
        n_batch, nd = grid.shape[0], len(sizes)
        points = math.prod(grid.shape[1:-1])
        self.mode, self.nd, self.grid = mode, nd, grid.reshape(n_batch, 1, points, nd)
        self.fracs, self.lows, self.slopes, places, insides = [], [], [], [], []
        for d, n in enumerate(sizes):
            c, slope = _unnormalize(self.grid[..., nd - 1 - d], n, align, nd)
            if mode != "bicubic":  # bicubic pads its taps instead, below
                c, inside = _padded(c, n, padding_mode, align, nd)
                slope = slope * inside
            if nd == 3:  # the 3-D kernel sends bad coordinates outside before weighing
                c = _downgraded(c)
            base = np.rint(c) if mode == "nearest" else np.floor(c)
            with np.errstate(invalid="ignore"):
                frac = c - base  # (NaN for inf: the 2-D kernel's weights, and output, too)
            offsets = {"nearest": [0], "bilinear": [0, 1], "bicubic": [-1, 0, 1, 2]}[mode]
            at = base + np.array(offsets, grid.dtype).reshape(-1, 1, 1, 1)
            if mode == "bicubic":
                at = _padded(at, n, padding_mode, align, nd)[0]
            at = _downgraded(at)
            place = at.astype(np.int64)  # (whole numbers, >= 0 unless outside)
            insides.append((place >= 0) & (place < n))
            places.append(np.clip(place, 0, n - 1) * math.prod(sizes[d + 1:]))
            self.fracs.append(frac)
            self.lows.append(base + 1 - c if nd == 3 else 1 - frac)  # (each kernel's way)
            self.slopes.append(np.broadcast_to(slope, c.shape))
        # each tap's place in the input flattened, or, outside, the 0 that `padded` appends
        inside = _outer(insides, operator.and_)
        spatial = math.prod(sizes)
        start = (np.arange(n_batch)[:, None] * channels + np.arange(channels)) * spatial
        self.index = np.where(inside, start[:, :, None] + _outer(places, operator.add),
                              n_batch * channels * spatial)

    def padded(self, x: Any) -> Any:
        """x flattened, then a 0: what taps outside read."""
        return _joined(np.concatenate, cat, [x.reshape(-1), np.zeros(1, _raw(x).dtype)], 0)

    def weights(self, grid: Any) -> tuple[Any, list]:
        """Each tap's weight (taps, N, 1, Q) and, per spatial dim, its derivative in that
        dim's coordinate. Under create_graph, `grid` is the grid's node, and t is its
        number plus (grid - its number) * dt/dgrid: the coordinate is piecewise affine."""
        each = []
        for d, (frac, low, slope) in enumerate(zip(self.fracs, self.lows, self.slopes)):
            shift = 0
            if isinstance(grid, Tensor):
                j = self.nd - 1 - d
                shift = (grid.reshape(self.grid.shape)[..., j] - self.grid[..., j]) * slope
            each.append(_weights(self.mode, frac, low, shift))
        # PyTorch's 2-D kernel multiplies the y weight by the x one, its 3-D one x by y by z
        w = _outer([w for w, _ in each], operator.mul, None if self.nd == 2 else [2, 1, 0])
        if self.mode == "nearest":
            return w, []
        return w, [_outer([dwe if e == d else we for e, (we, dwe) in enumerate(each)],
                          operator.mul) for d in range(self.nd)]


def _check(x: Tensor, grid: Tensor, mode: str) -> None:
    """PyTorch's checks of grid_sampler's operands, in its order and with its words."""
    sizes = f"input with sizes {list(x.shape)} and grid with sizes {list(grid.shape)}"
    if x.ndim and grid.ndim and x.shape[0] != grid.shape[0]:
        raise RuntimeError(f"grid_sampler(): expected grid and input to have same batch size, "
                           f"but got {sizes}")
    if grid.ndim and grid.shape[-1] != x.ndim - 2:
        raise RuntimeError(f"grid_sampler(): expected grid to have size {x.ndim - 2} in last "
                           f"dimension, but got grid with sizes {list(grid.shape)}")
    for d in range(2, x.ndim):
        if x.shape[d] == 0:
            raise RuntimeError(f"grid_sampler(): expected input to have non-empty spatial "
                               f"dimensions, but input has sizes {list(x.shape)} with "
                               f"dimension {d} being empty")
    if x.ndim not in (4, 5) or grid.ndim != x.ndim:
        raise RuntimeError(f"grid_sampler(): expected {4 if x.ndim == 4 else 5}D input and grid "
                           f"with same number of dimensions, but got {sizes}")
    if mode == "bicubic" and x.ndim == 5:
        raise RuntimeError("grid_sampler(): bicubic interpolation only supports 4D input")
    if x.dtype.kind != "f":
        raise TypeError(f"grid_sample takes floating point input, got {x.dtype} "
                        "(convert with .float())")
    if grid.dtype != x.dtype:
        raise RuntimeError(f"grid_sampler(): expected input and grid to have the same dtype, "
                           f"but input has {x.dtype} and grid has {grid.dtype}; convert one "
                           "with .to(other.dtype)")


def grid_sample(input: Tensor, grid: Tensor, mode: str = "bilinear",
                padding_mode: str = "zeros", align_corners: bool | None = None) -> Tensor:
    """input (N, C, H, W) read at grid (N, Ho, Wo, 2)'s places, (x, y) in [-1, 1], giving
    (N, C, Ho, Wo) (5-D: (N, C, D, H, W) at (N, Do, Ho, Wo, 3)), as torch's F.grid_sample;
    dinput = g * weight added at each tap, dgrid = g * input * dweight/dt * dt/dgrid."""
    if mode not in _MODES:
        raise ValueError("nn.functional.grid_sample(): expected mode to be 'bilinear', "
                         f"'nearest' or 'bicubic', but got: '{mode}'")
    if padding_mode not in _PADDINGS:
        raise ValueError("nn.functional.grid_sample(): expected padding_mode to be 'zeros', "
                         f"'border', or 'reflection', but got: '{padding_mode}'")
    align = _align(align_corners)
    x, grid = _as_tensor(input), _as_tensor(grid)
    _check(x, grid, mode)
    n_batch, channels, *sizes = x.shape
    outs = tuple(grid.shape[1:-1])
    plan = _Plan(grid._data, tuple(sizes), mode, padding_mode, align, channels)
    w, _ = plan.weights(grid._data)
    values = plan.padded(x._data)[plan.index]
    if mode == "bilinear" and len(sizes) == 2:  # PyTorch's 2-D sum: each product fused into
        # the running sum (FMA); its 3-D one adds them in turn, as sum(0) does
        out = values[0] * w[0]
        for value, weight in zip(values[1:], w[1:]):
            out = _fma(value, weight, out)
    else:
        out = (w * values).sum(0)

    def rule(g: Any, out: Any, need: list, x: Any, grid: Any) -> tuple:
        g = g.reshape(1, n_batch, channels, math.prod(outs))
        w, dws = plan.weights(grid)
        xz = plan.padded(x)
        dx = _put(g * w, xz, plan.index, basic=False)[:-1].reshape(x.shape) if need[0] else None
        if not need[1] or not dws:
            return dx, _zeros(g, grid) if need[1] else None
        gv = g * xz[plan.index]
        parts = [(gv * dw).sum(axis=(0, 2)) * slope[:, 0] for dw, slope in zip(dws, plan.slopes)]
        dgrid = _joined(np.stack, stack, parts[::-1], -1)  # (x, y, z), as the grid
        return dx, dgrid.reshape(grid.shape)
    return _node(out.reshape(n_batch, channels, *outs), f"grid_sampler_{len(sizes)}d", rule,
                 x, grid)
