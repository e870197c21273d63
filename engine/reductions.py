"""Tensor ops that reduce along dims: sum, prod, mean, var, std (and var_mean, std_mean), max
and min (and their indices), amax, amin, argmax, argmin, norm, dist, logsumexp, log_softmax,
softmax, all, any; and the running ones: cumsum, cumprod, logcumsumexp, diff.

Each is one function, which is both the Tensor method and PyTorch's function. Dims are
given as PyTorch's `dim=` / `keepdim=` or numpy's `axis=` / `keepdims=` (PyTorch accepts
both too); a dim may be negative, or a tuple of dims where PyTorch allows one.
"""
from __future__ import annotations

import builtins
import math
from collections import namedtuple
from typing import Any, Callable

import numpy as np

# modules, not names: arithmetic, gradients and shapes import this file (through tensor) in turn
from engine import arithmetic, dtypes, elementwise, gradients, shapes
from engine.tensor import (_IEEE, Tensor, _called, _exp, _floating, _leaf, _log, _node, _raw,
                           _saves, _saves_nothing, _OUT, _where)

Dims = Any  # an int, a tuple or list of ints, or None for every dim
min_max = namedtuple("min_max", ["values", "indices"])  # what max(dim) and min(dim) return


def _dims(op: str, ndim: int, dim: Dims, keepdim: bool | None, axis: Dims,
          keepdims: bool | None) -> tuple[Any, bool]:
    """PyTorch's dim= / keepdim= or numpy's axis= / keepdims=, checked: (dims, keepdim)."""
    if axis is not None:
        if dim is not None:
            raise TypeError(f"{op}: pass dim= or its numpy name axis=, not both")
        dim = axis
    if keepdims is not None:
        keepdim = keepdims
    if isinstance(dim, list):
        dim = tuple(dim)
    if dim == ():  # PyTorch's "no dims named": every dim (numpy's axis=() reduces none)
        dim = None
    span = builtins.max(ndim, 1)  # a 0-d tensor takes dim 0 or -1, as in PyTorch
    for d in (dim if isinstance(dim, tuple) else () if dim is None else (dim,)):
        if not isinstance(d, (int, np.integer)) or isinstance(d, bool) or not -span <= d < span:
            raise IndexError(f"{op}: dim {d!r} is out of range for a tensor of {ndim} dims "
                             f"(from {-span} to {span - 1})")
    if ndim == 0 and dim is not None:
        dim = None
    return dim, bool(keepdim)


def empty_along(shape: tuple, axis: Any) -> bool:
    """Whether a reduction along axis (an int, a tuple, or None for all) meets a dim of size
    0: a max, min or norm there has no value, while one along other dims is just empty."""
    if axis is None:
        return 0 in shape
    return builtins.any(shape[d] == 0 for d in (axis if isinstance(axis, tuple) else (axis,)))


def _unreduce(g: Any, shape: tuple, axis: Any, keepdims: bool) -> Any:
    """The gradient of a reduction along `axis`, with the reduced dims back as size 1."""
    if keepdims or axis is None and not g.ndim:
        return g if keepdims else g.reshape((1,) * len(shape))
    axes = axis if isinstance(axis, tuple) else (axis,)
    kept = list(g.shape)
    for d in sorted(a % len(shape) for a in axes):
        kept.insert(d, 1)
    return g.reshape(tuple(kept))


def sum(input: Tensor, dim: Dims = None, keepdim: bool = False, *, dtype: Any = None,
        axis: Dims = None, keepdims: bool | None = None) -> Tensor:
    """Sum along dims (all by default); ints and bools sum as int64, as in PyTorch;
    da = g, spread back over the summed dims."""
    axis, keepdims = _dims("sum", input.ndim, dim, keepdim, axis, keepdims)
    if dtype is None and input._data.dtype.kind in "biu":
        dtype = dtypes.int64

    data = input._data
    if dtype is None and data.ndim == 2 and axis in (0, -2):
        # down the rows as autograd sums the gradient of a bias added to rows (x @ W + b,
        # engine/gradients.py), so that g.sum(0) by hand is that gradient bit for bit, as
        # in PyTorch (makemore part 4 checks its hand-derived gradients with ==)
        out = sum_along(data, 0)
        out = out if keepdims else out.reshape(-1)
    else:
        out = data.sum(axis=axis, keepdims=keepdims, dtype=dtype)

    def rule(g: Any, out: Any, need: list, a: Any) -> tuple:
        return (g if a.ndim == 0 else _expand(_unreduce(g, a.shape, axis, keepdims), a.shape),)
    return _saves_nothing(_node(out, "sum" if axis is None else "sum_dim", rule, input))


def _expand(g: Any, shape: tuple) -> Any:
    return g.expand(shape) if isinstance(g, Tensor) else np.broadcast_to(g, shape)


def _extreme(input: Tensor, pick: Any, op: str, axis: Any, keepdims: bool) -> Tensor:
    """The max or min m along axis, values only; da = g where a == m, split evenly among
    the entries tied for m, as torch.amax and torch.max() without a dim (symmetric where
    picking one entry would depend on the order)."""
    if empty_along(input._data.shape, axis):
        raise RuntimeError(f"{op}() over a dim with no entries has no value (shape "
                           f"{input._data.shape}); give it entries first")
    top = pick(input._data, axis=axis, keepdims=True)

    def rule(g: Any, out: Any, need: list, a: Any) -> tuple:
        hit = _raw(a) == top
        count = hit.sum(axis=axis, keepdims=True, dtype=_raw(g).dtype)
        return (hit * (_unreduce(g, a.shape, axis, keepdims) / count),)
    kept = top if keepdims else np.squeeze(top, axis)
    return _node(kept, op, rule, input)


def _with_indices(input: Tensor, arg: Any, op: str, dim: int | None, keepdim: bool) -> min_max:
    """(values, indices) of max or min along one dim, as torch.max(dim); the gradient
    goes to the one entry each index picks (the first of ties)."""
    if dim is None:  # a 0-d tensor: itself, at index 0
        return min_max(input.clone(), _leaf(np.zeros((), np.int64)))
    if not input._data.shape[dim]:
        raise IndexError(f"{op}(dim={dim}) of a tensor with no entries along that dim")
    idx = np.expand_dims(arg(input._data, axis=dim), dim)
    values = input.gather(dim, _leaf(idx))
    if not keepdim:
        values, idx = values.squeeze(dim), np.squeeze(idx, dim)
    return min_max(_called(values, f"{op}_dim"), _leaf(idx))


def _max_or_min(input: Tensor, dim: Any, keepdim: bool, axis: Dims, keepdims: bool | None,
                name: str, pick: Callable, arg: Callable, pairwise: str) -> Any:
    """max or min as PyTorch has them: the whole tensor's extreme entry, (values, indices)
    along `dim`, or, given a tensor as `dim`, the elementwise extreme with it."""
    if isinstance(dim, Tensor):
        return getattr(input, pairwise)(dim)
    whole = dim is None and axis is None
    dim, keepdim = _dims(name, input.ndim, dim, keepdim, axis, keepdims)
    if whole:
        return _extreme(input, pick, name, None, False)
    return _with_indices(input, arg, name, dim, keepdim)


def max(input: Tensor, dim: Any = None, keepdim: bool = False, *, axis: Dims = None,
        keepdims: bool | None = None) -> Any:
    """The largest entry (a 0-d tensor); `max(dim)` gives (values, indices) along dim, as
    PyTorch; `max(other)` is `maximum(other)`."""
    return _max_or_min(input, dim, keepdim, axis, keepdims, "max", np.max, np.argmax, "maximum")


def min(input: Tensor, dim: Any = None, keepdim: bool = False, *, axis: Dims = None,
        keepdims: bool | None = None) -> Any:
    """The smallest entry; `min(dim)` gives (values, indices); `min(other)` is `minimum`."""
    return _max_or_min(input, dim, keepdim, axis, keepdims, "min", np.min, np.argmin, "minimum")


def amax(input: Tensor, dim: Dims = None, keepdim: bool = False) -> Tensor:
    """Largest entries along dims (all by default), ties sharing the gradient evenly."""
    return _extreme(input, np.max, "amax", *_dims("amax", input.ndim, dim, keepdim, None, None))


def amin(input: Tensor, dim: Dims = None, keepdim: bool = False) -> Tensor:
    """Smallest entries along dims (all by default), ties sharing the gradient evenly."""
    return _extreme(input, np.min, "amin", *_dims("amin", input.ndim, dim, keepdim, None, None))


def _arg(input: Tensor, pick: Any, op: str, dim: Any, keepdim: bool, axis: Any,
         keepdims: bool | None) -> Tensor:
    dim, keepdim = _dims(op, input.ndim, dim, keepdim, axis, keepdims)
    # as PyTorch: only a reduced dim of size 0 has no answer; (0, 3) along dim 1 gives (0,)
    if dim is None and not input._data.size:
        raise IndexError(f"{op}() of an empty tensor of shape {tuple(input.shape)} has no "
                         "answer; give a dim of non-zero size to reduce along")
    if dim is not None and not input._data.shape[dim]:
        raise IndexError(f"{op}(): dim {dim} of shape {tuple(input.shape)} has size 0, so it "
                         "has no entry to pick")
    if dim is None:
        idx = np.asarray(pick(input._data))
        return _leaf(idx.reshape((1,) * input.ndim) if keepdim else idx)
    return _leaf(pick(input._data, axis=dim, keepdims=keepdim))


def argmax(input: Tensor, dim: int | None = None, keepdim: bool = False, *,
           axis: int | None = None, keepdims: bool | None = None) -> Tensor:
    """The index of the largest entry along dim (of the flattened tensor when dim is None)."""
    return _arg(input, np.argmax, "argmax", dim, keepdim, axis, keepdims)


def argmin(input: Tensor, dim: int | None = None, keepdim: bool = False, *,
           axis: int | None = None, keepdims: bool | None = None) -> Tensor:
    """The index of the smallest entry along dim (of the flattened tensor when dim is None)."""
    return _arg(input, np.argmin, "argmin", dim, keepdim, axis, keepdims)


def _count(input: Tensor, axis: Any) -> int:
    shape = input._data.shape
    if axis is None:
        return input._data.size
    return math.prod(shape[a] for a in (axis if isinstance(axis, tuple) else (axis,)))


def mean(input: Tensor, dim: Dims = None, keepdim: bool = False, *, dtype: Any = None,
         axis: Dims = None, keepdims: bool | None = None) -> Tensor:
    """Average along dims (all by default): the sum over the count (nan for no entries)."""
    if input._data.dtype.kind != "f" and dtype is None:
        raise TypeError(f"mean() of a {input._data.dtype} tensor: convert it first "
                        "(t.float().mean()), as PyTorch asks")
    axis, keepdim = _dims("mean", input.ndim, dim, keepdim, axis, keepdims)
    total = sum(input._cast(dtype) if dtype is not None else input, axis, keepdim)
    n = _count(input, axis)
    return _called(total / n if n else total * math.nan, "mean" if axis is None else "mean_dim")


def var(input: Tensor, dim: Dims = None, unbiased: bool | None = None, keepdim: bool = False,
        *, correction: float | None = None, axis: Dims = None,
        keepdims: bool | None = None) -> Tensor:
    """Variance along dims: the mean squared distance from the mean, over n - correction
    (1 by default, Bessel's: `unbiased=False` or `correction=0` for the plain mean)."""
    if unbiased is not None and correction is not None:
        raise TypeError("var: pass unbiased= or correction=, not both")
    if isinstance(dim, bool):  # torch.var(x, False): the old positional `unbiased`
        dim, unbiased = None, dim
    correction = (1 if unbiased is None or unbiased else 0) if correction is None else correction
    axis, keepdim = _dims("var", input.ndim, dim, keepdim, axis, keepdims)
    x = _floating(input)
    diff = x - mean(x, axis, True)
    n = _count(input, axis)
    return _called(sum(diff * diff, axis, keepdim) / builtins.max(n - correction, 0), "var")


def std(input: Tensor, dim: Dims = None, unbiased: bool | None = None, keepdim: bool = False,
        *, correction: float | None = None, axis: Dims = None,
        keepdims: bool | None = None) -> Tensor:
    """Standard deviation along dims: sqrt of var (n - 1 in the denominator by default),
    with gradient 0 where it is 0, as PyTorch's."""
    return _called(elementwise.root_or_zero(var(input, dim, unbiased, keepdim,
                                                correction=correction, axis=axis,
                                                keepdims=keepdims)), "std")


def sum_along(x: np.ndarray, axis: Any) -> np.ndarray:
    """x summed along axis (an int or a tuple), keeping it as size 1.

    Along the last axis of a contiguous float array, or the first of a 2-D one, this is a
    matrix-vector product with ones: numpy's own sum runs row by row there, several times
    slower for short rows (softmax over 32 keys, layer_norm over 64 features)."""
    if x.dtype.kind == "f" and x.flags.c_contiguous and x.size and x.ndim:
        if axis in (-1, x.ndim - 1):
            n = x.shape[-1]
            return (x.reshape(-1, n) @ gradients._ones(n, x.dtype)).reshape(x.shape[:-1] + (1,))
        if axis == 0 and x.ndim == 2:
            return (gradients._ones(x.shape[0], x.dtype) @ x).reshape(1, -1)
    return x.sum(axis=axis, keepdims=True)


def max_along(x: np.ndarray, axis: Any) -> np.ndarray:
    """x's largest entries along axis, keeping it as size 1.

    Along the last axis of a contiguous array numpy's max runs row by row, several times
    slower for short rows than the maxima down the columns of its transposed copy."""
    if x.flags.c_contiguous and x.ndim > 1 and x.size and axis in (-1, x.ndim - 1):
        n = x.shape[-1]
        return x.reshape(-1, n).T.copy().max(axis=0).reshape(x.shape[:-1] + (1,))
    return x.max(axis=axis, keepdims=True)


def _dual_sum(g: Any, axis: Any) -> Any:
    """sum_along for an array, Tensor.sum for a Tensor (a rule under create_graph)."""
    return g.sum(axis=axis, keepdims=True) if isinstance(g, Tensor) else sum_along(g, axis)


# The smallest sum of a row of exp(x - M) for which the shift by the array's largest entry M
# is exact (see _exps): the square root of the dtype's smallest normal number, e**-43.7 in
# float32, e**-354 in float64. (Other float dtypes always shift by each row's largest.)
_SHIFT_FLOOR = {np.dtype(t): math.sqrt(np.finfo(t).tiny) for t in (np.float32, np.float64)}


def _exps(x: np.ndarray, axis: Any) -> tuple[np.ndarray, np.ndarray, Any]:
    """(exp(x - c), its sum along axis kept as size 1, c), c a shift that keeps exp from
    overflowing: softmax and logsumexp without the risk of e**1000.

    The classic shift is each row's largest entry m; but numpy finds a row's maximum slowly
    (it runs row by row), and the whole array's largest entry M, one fast pass, serves as
    well wherever a row's sum of exp(x - M) is at least F = sqrt(smallest normal number):
    then m - M >= ln F - ln(row length), so exp keeps full precision for every entry within
    -ln F (43 in float32) of m, and the entries it flushes are below e**-43 of exp(m - M),
    beneath float32's and float64's rounding. Otherwise each row's own largest is used,
    and 0 for rows of -inf (their exp is 0, their sum 0, as PyTorch's)."""
    floor = _SHIFT_FLOOR.get(x.dtype)
    if floor is not None and x.size and axis is not None and x.ndim:
        top = x.max()  # (the method: np.max's Python wrapper would double its cost)
        if math.isfinite(top):
            e = np.exp(x - top)
            total = sum_along(e, axis)
            if total.min() >= floor:  # (and no sum is inf: no entry exceeds top)
                return e, total, top
    top = max_along(x, axis) if x.size else np.zeros((1,) * x.ndim, x.dtype)
    top = np.where(np.isfinite(top), top, 0)  # all -inf (or an inf) would give inf - inf = nan
    with np.errstate(invalid="ignore"):
        e = np.exp(x - top)
    return e, (e.sum(axis=axis, keepdims=True) if axis is None else sum_along(e, axis)), top


def _logsumexp(x: np.ndarray, axis: Any, exps: tuple | None = None) -> np.ndarray:
    """log(sum(exp(x))) along axis with keepdims, shifted so exp cannot overflow; from
    `exps`, what _exps(x, axis) gave, when the caller has it already."""
    _, total, top = _exps(x, axis) if exps is None else exps
    if not np.ndim(top):  # shifted by the whole array's largest entry: no sum is 0
        return top + np.log(total)
    with np.errstate(divide="ignore", invalid="ignore"):  # a row of -inf has the sum 0
        return top + np.log(total)


def logsumexp(input: Tensor, dim: Dims = None, keepdim: bool = False, *, axis: Dims = None,
              keepdims: bool | None = None) -> Tensor:
    """log(sum(exp(a))) along dims, stable for large logits; da = g softmax(a)."""
    axis, keepdims = _dims("logsumexp", input.ndim, dim, keepdim, axis, keepdims)
    kept = _logsumexp(_floating(input)._data, axis)

    def rule(g: Any, out: Any, need: list, a: Any) -> tuple:
        lse = _unreduce(out, a.shape, axis, keepdims)
        return (_exp(a - lse) * _unreduce(g, a.shape, axis, keepdims),)
    return _node(kept if keepdims else np.squeeze(kept, axis), "logsumexp", rule, input)


def _softmax_input(op: str, input: Tensor, dim: int | None, axis: int | None,
                   dtype: Any) -> tuple[int, np.ndarray]:
    """The dim (the last by default) and the float array softmax and log_softmax work on."""
    dim, _ = _dims(op, input.ndim, dim, False, axis, None)
    dim = -1 if dim is None else dim
    return dim, (_floating(input) if dtype is None else input._cast(dtype))._data


def log_softmax(input: Tensor, dim: int | None = None, *, axis: int | None = None,
                dtype: Any = None) -> Tensor:
    """a - logsumexp(a) along dim (the last by default); da = g - softmax(a) sum(g).

    A primitive rather than `a - a.logsumexp(...)`: one pass fewer over the logits and
    no broadcast gradient to sum back, on the path every classifier takes.
    """
    dim, x = _softmax_input("log_softmax", input, dim, axis, dtype)
    lse = _logsumexp(x, dim)
    with np.errstate(invalid="ignore"):
        data = x - lse
    if (lse == np.inf).any():  # a row with +inf has no softmax: all nan, as PyTorch gives it
        data = np.where(lse == np.inf, np.nan, data)

    def rule(g: Any, out: Any, need: list, a: Any) -> tuple:
        return (g - _exp(out) * _dual_sum(g, dim),)
    return _saves(_node(data, "log_softmax", rule, input), _OUT)


def softmax(input: Tensor, dim: int | None = None, *, axis: int | None = None,
            dtype: Any = None) -> Tensor:
    """e**a / sum(e**a) along dim (the last by default), shifted so it cannot overflow;
    da = s (g - sum(g s)), s the softmax."""
    dim, x = _softmax_input("softmax", input, dim, axis, dtype)
    e, total, top = _exps(x, dim)
    with np.errstate(divide="ignore", invalid="ignore"):
        e /= total
    if np.ndim(top) and (total == np.inf).any():  # a row with +inf: all nan, as PyTorch's
        e = np.where(total == np.inf, np.nan, e)

    def rule(g: Any, out: Any, need: list, a: Any) -> tuple:
        return (out * (g - _dual_sum(g * out, dim)),)
    return _saves(_node(e, "softmax", rule, input), _OUT)


def cumsum(input: Tensor, dim: int, *, dtype: Any = None) -> Tensor:
    """Running sums along dim, as torch.cumsum (ints and bools sum as int64); da = the
    running sums of g taken from the end (each entry feeds every sum from its place on)."""
    axis = shapes.dim_index(dim, builtins.max(input.ndim, 1), "cumsum")
    x = input._data if dtype is None else input._cast(dtype)._data
    data = np.cumsum(x, axis=axis, dtype=np.int64 if x.dtype.kind in "biu" else x.dtype)

    def rule(g: Any, out: Any, need: list, a: Any) -> tuple:
        return (_reverse_cumsum(g, axis),)
    return _node(data.reshape(x.shape), "cumsum", rule, input if dtype is None else
                 input._cast(dtype))

def _reverse_cumsum(g: Any, axis: int) -> Any:
    """Running sums of g along axis taken from the end (what each entry of a running sum or
    product feeds)."""
    if not g.ndim:  # a 0-d tensor's running sum is itself
        return g
    if isinstance(g, Tensor):
        return g.flip(axis).cumsum(axis).flip(axis)
    return np.flip(np.cumsum(np.flip(g, axis), axis), axis)


def logcumsumexp(input: Tensor, dim: int) -> Tensor:
    """log(cumsum(exp(a))) along dim, as torch.logcumsumexp, without overflow; da = the
    running sums from the end of g e**(a - t): each entry's share of every total it feeds."""
    axis = shapes.dim_index(dim, builtins.max(input.ndim, 1), "logcumsumexp")
    x = _floating(input)._data
    data = _running_logsumexp(x.reshape(x.shape or (1,)), axis).reshape(x.shape)

    def rule(g: Any, out: Any, need: list, a: Any) -> tuple:
        # PyTorch's form (after TensorFlow's): g split by its sign, the log of each part
        # less t summed from the end by this op again, so no exp can overflow
        floor = np.finfo(_raw(a).dtype).min  # the log of "no gradient here"
        with np.errstate(divide="ignore"):
            log_g = _log(abs(g))
        shares = [_exp(_reverse_logcumsumexp(_where(keep, log_g, floor) - out, axis) + a)
                  for keep in (_raw(g) > 0, _raw(g) < 0)]
        return (shares[0] - shares[1],)
    return _node(data, "logcumsumexp", rule, input)


def _running_logsumexp(x: np.ndarray, axis: int) -> np.ndarray:
    with np.errstate(invalid="ignore"):  # -inf with -inf: numpy's logaddexp gives -inf
        return np.logaddexp.accumulate(x, axis=axis)


def _reverse_logcumsumexp(v: Any, axis: int) -> Any:
    """logcumsumexp of v along axis taken from the end."""
    if isinstance(v, Tensor):
        return v.flip(axis).logcumsumexp(axis).flip(axis)
    flipped = np.flip(v.reshape(v.shape or (1,)), axis)
    return np.flip(_running_logsumexp(flipped, axis), axis).reshape(v.shape)


def cumprod(input: Tensor, dim: int, *, dtype: Any = None) -> Tensor:
    """Running products along dim, as torch.cumprod (ints and bools multiply as int64); da =
    the running sums of g t from the end, over a (through zeros: g times the products of
    the others, as PyTorch's)."""
    if input.ndim == 0:
        return cumprod(input.reshape(1), dim, dtype=dtype).reshape(())
    axis = shapes.dim_index(dim, input.ndim, "cumprod")
    x = input if dtype is None else input._cast(dtype)
    wide = dtypes.int64 if x._data.dtype.kind in "biu" else x._data.dtype
    with np.errstate(over="ignore", invalid="ignore"):
        data = np.cumprod(x._data, axis=axis, dtype=wide)

    def rule(g: Any, out: Any, need: list, a: Any) -> tuple:
        zero = _raw(a) == 0
        with np.errstate(**_IEEE):
            if not zero.any():
                return (_reverse_cumsum(g * out, axis) / a,)
            if isinstance(a, Tensor):  # a graph of the gradient, right at the zeros too
                return (_cumprod_slopes(g, a, axis),)
            # Each row's first zero z: before it the formula above holds; at it, the
            # product before it times the sum of g times the running products after it;
            # past it, 0 (z's factor is in every product that reaches them).
            place = np.arange(a.shape[axis]).reshape([-1 if d == axis else 1
                                                      for d in range(a.ndim)])
            z = np.where(zero.any(axis, keepdims=True), zero.argmax(axis, keepdims=True),
                         a.shape[axis])
            before = place < z
            safe = np.where(before, a, 1)
            after = np.cumprod(np.where(place <= z, 1, a), axis)
            at_zero = (np.prod(safe, axis, keepdims=True)
                       * np.where(place >= z, g * after, 0).sum(axis, keepdims=True))
            return (np.where(before, _reverse_cumsum(g * out, axis) / safe,
                             np.where(place == z, at_zero, 0)),)
    return _node(data, "cumprod", rule, x)


def _cumprod_slopes(g: Tensor, a: Tensor, axis: int) -> Tensor:
    """a's gradient through cumprod as a graph: entry k gets the sum over j >= k of g_j
    times the product of a_0 .. a_j but a_k. Row k of an (n, n) stack holds a with a_k set
    to 1: n times the memory, which only a second derivative through zeros asks for."""
    x, gs = a.swapaxes(axis, -1), g.swapaxes(axis, -1)
    n = x.shape[-1]
    running = _where(np.eye(n, dtype=bool), 1, x[..., None, :]).cumprod(-1)
    later = np.triu(np.ones((n, n), bool))  # j >= k
    return (_where(later, running, 0) * gs[..., None, :]).sum(-1).swapaxes(axis, -1)



def count_nonzero(input: Tensor, dim: Dims = None) -> Tensor:
    """How many entries along dim (all of them when None) are not 0, as an int64 Tensor."""
    axis, _ = _dims("count_nonzero", input.ndim, dim, False, None, None)
    return _leaf(np.asarray(np.count_nonzero(input._data, axis=axis), np.int64))


def all(input: Tensor, dim: Dims = None, keepdim: bool = False, *, axis: Dims = None,
        keepdims: bool | None = None) -> Tensor:
    """True where every entry along dim is nonzero (a bool Tensor)."""
    axis, keepdims = _dims("all", input.ndim, dim, keepdim, axis, keepdims)
    return _truth(input, np.all(input._data, axis=axis, keepdims=keepdims))


def any(input: Tensor, dim: Dims = None, keepdim: bool = False, *, axis: Dims = None,
        keepdims: bool | None = None) -> Tensor:
    """True where some entry along dim is nonzero (a bool Tensor)."""
    axis, keepdims = _dims("any", input.ndim, dim, keepdim, axis, keepdims)
    return _truth(input, np.any(input._data, axis=axis, keepdims=keepdims))


def _truth(input: Tensor, found: np.ndarray) -> Tensor:
    """all's or any's answer: bools, or 0 and 1 as uint8 for a uint8 input (PyTorch's
    convention from before it had bools)."""
    return _leaf(found.astype(np.uint8) if input._data.dtype == np.uint8 else found)


def prod(input: Tensor, dim: int | None = None, keepdim: bool = False, *, dtype: Any = None,
         axis: int | None = None, keepdims: bool | None = None) -> Tensor:
    """Product along dim (all by default; ints and bools multiply as int64); da = g t / a
    (with no 0 along dim; at a lone 0, g times the product of the others; 0 where there are
    two or more), as PyTorch's."""
    if isinstance(dim, (tuple, list)) or isinstance(axis, (tuple, list)):
        raise TypeError("prod takes one dim (an int) or None, as torch.prod")
    axis, keepdims = _dims("prod", input.ndim, dim, keepdim, axis, keepdims)
    if dtype is None and input._data.dtype.kind in "biu":
        dtype = dtypes.int64
    x = input if dtype is None else input._cast(dtype)
    with np.errstate(over="ignore", invalid="ignore"):
        data = x._data.prod(axis=axis, keepdims=keepdims)

    def rule(g: Any, out: Any, need: list, a: Any) -> tuple:
        g = _unreduce(g, a.shape, axis, keepdims)
        zero = _raw(a) == 0
        zeros = zero.sum(axis=axis, keepdims=True)
        with np.errstate(**_IEEE):
            if not zeros.any():
                return (g * (_unreduce(out, a.shape, axis, keepdims) / a),)
            if isinstance(a, Tensor):  # a graph of the gradient: one whose own derivative
                return (g * _others_product(a, axis),)  # is right at the zeros too
            others = _where(zero, 1, a).prod(axis=axis, keepdims=True)  # all but the zeros
            lone = _where(zeros == 1, others, 0)
            return (g * _where(zero, lone, _where(zeros == 0, others / _where(zero, 1, a), 0)),)
    return _node(data, "prod", rule, x)


def _others_product(a: Tensor, axis: int | None) -> Tensor:
    """Each entry's slope of a's product along axis: the product of the others, as a graph.
    Row k of an (n, n) stack holds the entries with the k-th set to 1: n times the memory,
    which only a second derivative through zeros asks for."""
    x = a.reshape(-1) if axis is None else a.swapaxes(axis, -1)
    own = np.eye(x.shape[-1], dtype=bool)
    others = _where(own, 1, x[..., None, :]).prod(-1)
    return others.reshape(a.shape) if axis is None else others.swapaxes(axis, -1)


def norm(input: Tensor, p: Any = "fro", dim: Dims = None, keepdim: bool = False, *,
         dtype: Any = None) -> Tensor:
    """The p-norm along dims (all by default), as torch.norm: 'fro' and 2 the Euclidean,
    1 the sum of |a|, inf and -inf the largest and smallest |a|, 0 the count of nonzeros,
    any other p (sum |a|**p)**(1/p); the gradient is 0 where the norm is 0, as PyTorch's."""
    if isinstance(p, str) and p != "fro":
        raise ValueError(f"norm: p={p!r} is not supported; use 'fro' or a number")
    p = 2 if p == "fro" else p
    x = _floating(input if dtype is None else input._cast(dtype))
    axis, keepdim = _dims("norm", x.ndim, dim, keepdim, None, None)
    if p == 0:  # the count of entries that are not 0 (nan among them); its gradient is 0
        return sum(elementwise.where(x._data != 0, 1.0, x.sign().abs()), axis, keepdim)
    if p == 1:
        return sum(x.abs(), axis, keepdim)
    if p in (math.inf, -math.inf):
        return (amax if p > 0 else amin)(x.abs(), axis, keepdim)
    return _p_norm(x, float(p), axis, keepdim)


def _p_norm(input: Tensor, p: float, axis: Any, keepdims: bool) -> Tensor:
    """(sum |a|**p)**(1/p); da = g a abs(a)**(p - 2) / t**(p - 1) (0 where t or a is
    0, as PyTorch's)."""
    x = input._data
    with np.errstate(over="ignore", divide="ignore"):  # (0 ** -p: inf, as meant)
        data = (np.sqrt((x * x).sum(axis=axis, keepdims=keepdims)) if p == 2 else
                (np.abs(x) ** p).sum(axis=axis, keepdims=keepdims) ** (1 / p))

    def rule(g: Any, out: Any, need: list, a: Any) -> tuple:
        t = _unreduce(out, a.shape, axis, keepdims)
        with np.errstate(**_IEEE):
            power = arithmetic._pow
            scale = a / t if p == 2 else (
                a * power(abs(a), np.asarray(p - 2), True) / power(t, np.asarray(p - 1), True))
            # 0 where the norm is 0, and (p != 2: 0 * inf there) where a is; a / t is 0 at
            # a = 0 already, and must stay in the graph there for a second derivative
            flat = _raw(t) == 0 if p == 2 else (_raw(t) == 0) | (_raw(a) == 0)
            return (_unreduce(g, a.shape, axis, keepdims) * _where(flat, 0, scale),)
    return _node(data.astype(x.dtype, copy=False), "norm", rule, input)


def dist(input: Tensor, other: Any, p: float = 2) -> Tensor:
    """The p-norm of input - other, as torch.dist."""
    return norm(input - other, p)


def var_mean(input: Tensor, dim: Dims = None, unbiased: bool | None = None,
             keepdim: bool = False, *, correction: float | None = None) -> tuple:
    """(var, mean) along dims, as torch.var_mean."""
    return (var(input, dim, unbiased, keepdim, correction=correction),
            mean(_floating(input), None if isinstance(dim, bool) else dim, keepdim))


def std_mean(input: Tensor, dim: Dims = None, unbiased: bool | None = None,
             keepdim: bool = False, *, correction: float | None = None) -> tuple:
    """(std, mean) along dims, as torch.std_mean."""
    variance, average = var_mean(input, dim, unbiased, keepdim, correction=correction)
    return elementwise.root_or_zero(variance), average


def diff(input: Tensor, n: int = 1, dim: int = -1, prepend: Any = None,
         append: Any = None) -> Tensor:
    """Differences of neighbours along dim, n times over (prepend and append joined first),
    as torch.diff (of bools, whether they differ)."""
    parts = [t if isinstance(t, Tensor) else Tensor(t) for t in (prepend, input, append)
             if t is not None]
    x = shapes.cat(parts, dim) if len(parts) > 1 else input
    for _ in range(n):
        length = x.shape[dim]
        if length == 0:  # nothing left to take differences of, as PyTorch
            break
        later, earlier = shapes.narrow(x, dim, 1, length - 1), shapes.narrow(x, dim, 0, length - 1)
        # bools: where neighbours differ (exclusive or), as PyTorch's
        x = later ^ earlier if x._data.dtype == np.bool_ else later - earlier
    return x


for _op in (sum, max, min, amax, amin, argmax, argmin, mean, var, std, logsumexp,
            log_softmax, softmax, all, any, cumsum, count_nonzero, prod, norm, dist, diff,
            cumprod, logcumsumexp):
    setattr(Tensor, _op.__name__, _op)
__all__ = ["sum", "max", "min", "amax", "amin", "argmax", "argmin", "mean", "var", "std",
           "logsumexp", "log_softmax", "softmax", "all", "any", "min_max", "cumsum",
           "count_nonzero", "prod", "norm", "dist", "var_mean", "std_mean", "diff", "cumprod",
           "logcumsumexp"]
