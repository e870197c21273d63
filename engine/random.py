"""Seeded random numbers that are PyTorch's CPU numbers, bit for bit.

`Generator().manual_seed(s)` here and `torch.Generator().manual_seed(s)` hold the same
Mersenne Twister (MT19937: numpy's, seeded as PyTorch seeds it) and turn its 32-bit words
into numbers the same way, so a seeded program prints PyTorch's numbers and samples its
names. How words become numbers (read from PyTorch's kernels, checked against torch 2.13.0
in tests/test_random.py):

- uniform: float32 is the low 24 bits of one word times 2**-24, float64 the low 53 bits of
  two words (first word high) times 2**-53: exact multiples of 2**-24 (2**-53) in [0, 1).
- normal, fewer than 16 numbers or a non-contiguous array: Box-Muller in float64 on a pair
  of uniforms, one number at a time; the pair's second number waits in the generator for
  the next draw (`torch.randn(1)` twice gives both halves of one pair).
- normal, 16 or more: all the uniforms first, then Box-Muller on blocks of 16 (entry j
  pairs with j + 8); if 16 does not divide n, the last 16 entries are redrawn and redone.
- integers in [low, high): a word (two when high - low >= 2**28) modulo high - low; into a
  float dtype, [low, high) first narrowed where low + 1 or high - 1 rounds past it.
- exponential, cauchy, geometric: one float64 uniform each; log-normal: e**(one float64
  normal), drawn one at a time as above.
- multinomial: with replacement and several samples, one float64 uniform per sample looked
  up in the cumulative sum; one sample, or no replacement, the argmax (top k) of p / q with
  exponential noise q = -log1p(-u).

The last bit needs PyTorch's exact arithmetic: the C library's log and cos, the fused
multiply-adds its compiler emits, and for float32 normals of 16 or more its AVX2 polynomial
kernel. engine/_torch_math.py reproduces those; the results therefore assume glibc's libm
and an x86-64 CPU with AVX2, as PyTorch's own do. One thing is not reproduced: the order of
categories with equal keys in multinomial without replacement (zero-probability ones drawn
because num_samples exceeds the nonzero ones), which in PyTorch comes from std::nth_element.

The fillers `uniform_ normal_ bernoulli_ random_ exponential_ cauchy_ log_normal_
geometric_` write into a numpy array in place what PyTorch's same-named Tensor methods draw
(for nn.init and Tensor methods); the factories `rand randn randint randperm multinomial
normal bernoulli` and `*_like` return engine Tensors.
"""
from __future__ import annotations

import math
import numbers
import warnings
from typing import Any

import numpy as np

from engine._torch_math import box_muller16_float, fma32, fma64, libm
from engine.generator import (Generator, check_device, default_generator, fork_rng,
                              get_rng_state, initial_seed, manual_seed, seed, set_rng_state)

__all__ = ["Generator", "default_generator", "manual_seed", "seed", "initial_seed",
           "get_rng_state", "set_rng_state", "fork_rng", "uniform_", "normal_", "bernoulli_",
           "random_", "exponential_", "cauchy_", "log_normal_", "geometric_", "rand", "randn",
           "randint", "randperm", "multinomial", "normal", "bernoulli", "rand_like",
           "randn_like", "randint_like"]


def _generator(generator: Generator | None) -> Generator:
    """The generator to draw from: the one given, else the default one."""
    if generator is None:
        return default_generator
    if not isinstance(generator, Generator):
        raise TypeError(f"generator must be an engine.Generator, got {type(generator).__name__}")
    return generator


# --- fillers: what PyTorch's in-place Tensor methods draw, into a numpy array ---

_FLOATS = (np.dtype(np.float32), np.dtype(np.float64))
_NUMBERS = _FLOATS + tuple(map(np.dtype, (np.bool_, np.uint8, np.int8, np.int16, np.int32,
                                          np.int64)))


def _target(array: Any, fn: str, floats_only: bool = True) -> np.ndarray:
    """The array to fill, checked: a writable numpy array of a supported dtype."""
    if not isinstance(array, np.ndarray):
        raise TypeError(f"{fn} fills a numpy array in place, got {type(array).__name__}; "
                        "for a Tensor pass t.numpy()")
    if not array.flags.writeable:
        raise ValueError(f"{fn}: the array is read-only (a broadcast view?); pass a writable copy")
    if array.dtype not in (_FLOATS if floats_only else _NUMBERS):
        wanted = "float32 or float64" if floats_only else "bool, int8-64, uint8 or float"
        raise TypeError(f"{fn} fills {wanted} arrays, got {array.dtype}")
    return array


def _draw_axes(array: np.ndarray) -> list[int]:
    """The axes in the order PyTorch's TensorIterator fills an array: memory order, from the
    largest stride to the smallest (for a C-contiguous array, 0, 1, 2, ...)."""
    return sorted(range(array.ndim), key=lambda axis: -abs(array.strides[axis]))


def _store(array: np.ndarray, values: np.ndarray) -> None:
    """Write values, in the order they were drawn, into array."""
    view = array.transpose(_draw_axes(array))
    view[...] = values.reshape(view.shape)


def uniform_(array: np.ndarray, a: float = 0.0, b: float = 1.0,
             generator: Generator | None = None) -> np.ndarray:
    """Fill with U[a, b) as `t.uniform_(a, b, generator=g)` (and nn.init.uniform_) draw."""
    _target(array, "uniform_")
    low, high = array.dtype.type(a), array.dtype.type(b)  # PyTorch casts bounds to the dtype
    if not low <= high:
        raise ValueError(f"uniform_ expects a <= b (the range [a, b)), got a={a}, b={b}")
    with np.errstate(over="ignore"):
        span = high - low  # in the array's dtype, as PyTorch computes it
    if not np.isfinite(span):
        raise ValueError(f"uniform_: b - a overflows {array.dtype} (a={a}, b={b})")
    x = _generator(generator)._uniform(array.size, array.dtype)
    if (low, high) != (0, 1):
        x = fma32(x, span, low) if array.dtype == np.float32 else fma64(x, span, low)
        x[x == high] = low  # rounding can land on b; PyTorch folds it back to a
    _store(array, x)
    return array


_BLOCK = 64 * 1024  # normals transformed per numpy pass (a multiple of 16)


def normal_(array: np.ndarray, mean: float = 0.0, std: float = 1.0,
            generator: Generator | None = None) -> np.ndarray:
    """Fill with N(mean, std**2) as `t.normal_(mean, std, generator=g)` (and nn.init.normal_)."""
    _target(array, "normal_")
    if not std >= 0:
        raise ValueError(f"normal_ expects std >= 0.0, got std={std}")
    gen, n = _generator(generator), array.size
    if n < 16 or not array.flags.c_contiguous:
        z = _normal_pairs(gen, n)  # one at a time, the generator caching half a pair
        _store(array, fma64(z, std, mean).astype(array.dtype))
        return array
    flat = array.reshape(-1)
    boxes = box_muller16_float if array.dtype == np.float32 else _box_muller16_double
    mean, std = array.dtype.type(mean), array.dtype.type(std)
    flat[:] = gen._uniform(n, array.dtype)
    whole = n - n % 16
    for start in range(0, whole, _BLOCK):  # blocks that stay in the CPU cache: 3x faster
        stop = min(start + _BLOCK, whole)
        flat[start:stop] = boxes(flat[start:stop], mean, std)
    if n % 16:  # PyTorch redraws the last 16 entries (overlapping the last whole block)
        flat[n - 16:] = boxes(gen._uniform(16, array.dtype), mean, std)
    return array


def _normal_pairs(gen: Generator, n: int) -> np.ndarray:
    """n standard normals drawn one at a time as PyTorch's scalar normal_distribution does:
    u1, u2 -> r = sqrt(-2 log1p(-u2)), angle 2 pi u1; r cos, then r sin (which, if not
    needed now, waits in the generator for the next call)."""
    z = np.empty(n)
    start = 0
    if n and gen._next_normal is not None:
        z[0], gen._next_normal, start = gen._next_normal, None, 1
    pairs = (n - start + 1) // 2
    u = gen._uniform(2 * pairs, np.dtype(np.float64)).reshape(pairs, 2)
    radius = np.sqrt(-2.0 * libm(math.log1p, -u[:, 1]))
    angle = 2.0 * math.pi * u[:, 0]
    both = np.stack([radius * libm(math.cos, angle), radius * libm(math.sin, angle)], 1)
    both = both.reshape(-1)
    z[start:] = both[:n - start]
    if len(both) > n - start:
        gen._next_normal = float(both[-1])
    return z


def _box_muller16_double(u: np.ndarray, mean: np.float64, std: np.float64) -> np.ndarray:
    """PyTorch's float64 normal_fill_16 on each block of 16 uniforms: entry j and j + 8 make
    a pair, radius sqrt(-2 log(1 - u_j)), angle 2 pi u_(j+8)."""
    block = u.reshape(-1, 2, 8)
    radius = np.sqrt(-2.0 * libm(math.log, 1.0 - block[:, 0]))
    angle = 2.0 * math.pi * block[:, 1]
    out = np.stack([radius * libm(math.cos, angle), radius * libm(math.sin, angle)], 1)
    return fma64(out, std, mean).reshape(-1)


def bernoulli_(array: np.ndarray, p: Any = 0.5,
               generator: Generator | None = None) -> np.ndarray:
    """Fill with 0/1 (True/False) draws, 1 with probability p, as `t.bernoulli_(p)`.

    A number p compares a float64 uniform per entry with p; an array p (broadcast to the
    array's shape) compares a uniform of p's float dtype with each entry of p."""
    _target(array, "bernoulli_", floats_only=False)
    gen = _generator(generator)
    if isinstance(p, numbers.Real):
        if not 0 <= p <= 1:
            raise ValueError(f"bernoulli_ expects p in [0, 1], got p={p}")
        u, p = gen._uniform(array.size, np.dtype(np.float64)), float(p)
    else:
        p = _probabilities(p, "bernoulli_")
        if not np.all((p >= 0) & (p <= 1)):
            raise ValueError(f"bernoulli_ expects every probability in [0, 1], got "
                             f"{p[~((p >= 0) & (p <= 1))].ravel()[:3]}...")
        try:
            p = np.broadcast_to(p, array.shape).transpose(_draw_axes(array)).ravel()
        except ValueError:
            raise ValueError(f"bernoulli_: probabilities of shape {p.shape} do not broadcast "
                             f"to the array's shape {array.shape}") from None
        u = gen._uniform(array.size, p.dtype)
    _store(array, (u < p).astype(array.dtype))
    return array


def _probabilities(p: Any, fn: str) -> np.ndarray:
    """p as a float32 or float64 array (a Tensor, an array, a list)."""
    p = np.asarray(p)
    if p.dtype not in (np.float32, np.float64):
        raise TypeError(f"{fn} expects float32 or float64 probabilities, got {p.dtype}")
    return p


def exponential_(array: np.ndarray, lambd: float = 1.0,
                 generator: Generator | None = None) -> np.ndarray:
    """Fill with Exp(lambd) draws as `t.exponential_(lambd)`: -1/lambd * log1p(-u), u a
    float64 uniform, computed in float64."""
    _target(array, "exponential_")
    if not lambd > 0:
        raise ValueError(f"exponential_ expects lambd > 0.0, got lambd={lambd}")
    _store(array, _exponential(_generator(generator), array.size, lambd).astype(array.dtype))
    return array


def _exponential(gen: Generator, n: int, lambd: float = 1.0) -> np.ndarray:
    u = gen._uniform(n, np.dtype(np.float64))
    return (-1.0 / lambd) * libm(math.log1p, -u)


def cauchy_(array: np.ndarray, median: float = 0.0, sigma: float = 1.0,
            generator: Generator | None = None) -> np.ndarray:
    """Fill with Cauchy(median, sigma) draws as `t.cauchy_()`: median + sigma tan(pi (u -
    1/2)), u a float64 uniform, one at a time in float64, as PyTorch's."""
    _target(array, "cauchy_")
    if not sigma > 0:
        raise ValueError(f"cauchy_ expects sigma > 0.0, got sigma={sigma}")
    u = _generator(generator)._uniform(array.size, np.dtype(np.float64))
    _store(array, fma64(libm(math.tan, math.pi * (u - 0.5)), sigma, median).astype(array.dtype))
    return array


def log_normal_(array: np.ndarray, mean: float = 1.0, std: float = 2.0,
                generator: Generator | None = None) -> np.ndarray:
    """Fill with e**N(mean, std**2) draws as `t.log_normal_()`: the normals drawn one at a
    time in float64, as PyTorch's (a pair's second waits in the generator)."""
    _target(array, "log_normal_")
    if not std > 0:
        raise ValueError(f"log_normal_ expects std > 0.0, got std={std}")
    z = _normal_pairs(_generator(generator), array.size)
    _store(array, libm(math.exp, fma64(z, std, mean)).astype(array.dtype))
    return array


def geometric_(array: np.ndarray, p: float, generator: Generator | None = None) -> np.ndarray:
    """Fill with the number of Bernoulli(p) trials up to the first success, as
    `t.geometric_(p)`: ceil(log(u) / log1p(-p)), u a float64 uniform, as PyTorch's."""
    _target(array, "geometric_", floats_only=False)
    if not 0 < p < 1:
        raise ValueError(f"geometric_ expects p to be in (0, 1), got p={p}")
    u = _generator(generator)._uniform(array.size, np.dtype(np.float64))
    _store(array, np.ceil(libm(math.log, u) / math.log1p(-p)).astype(array.dtype))
    return array


def random_(array: np.ndarray, *bounds: int | None, generator: Generator | None = None,
            **named: int | None) -> np.ndarray:
    """Fill with integers as `t.random_()`, `t.random_(to)` or `t.random_(from, to)` draw
    (also by PyTorch's keywords, `t.random_(to=9)`, `t.random_(**{"from": 2, "to": 9})`).

    With bounds, [from, to): a word (two words when to - from >= 2**28) modulo the range,
    plus from; to=None means up to the dtype's largest value. Without bounds, 0 up to the
    dtype's largest value (2**24 for float32, 2**53 for float64), as PyTorch's random_()."""
    _target(array, "random_", floats_only=False)
    gen, n, dtype = _generator(generator), array.size, array.dtype
    if named:  # PyTorch's keywords: to=, or from= with it
        if "to" not in named or set(named) - {"from", "to"}:
            raise TypeError(f"random_ takes the keywords to= and from= (with to=), got "
                            f"{sorted(named)}")
        bounds = (*bounds, named.get("from", 0), named["to"])
    if len(bounds) > 2:
        raise TypeError(f"random_ takes at most two bounds (from, to), got {len(bounds)}")
    if not bounds:
        values = _random_default(gen, n, dtype)
    else:
        low, high = (0, bounds[0]) if len(bounds) == 1 else bounds
        values = _random_from_to(gen, n, dtype, low, high, "random_")
    _store(array, values)
    return array


def _integer_tensor(value: Any) -> bool:
    """Whether value is a 0-d integer Tensor (PyTorch takes one for a bound)."""
    data = getattr(value, "_data", None)
    return isinstance(data, np.ndarray) and data.ndim == 0 and data.dtype.kind in "iu"


def _largest(dtype: np.dtype) -> int:
    """The largest integer a dtype holds exactly, as PyTorch bounds random_ with it."""
    if dtype.kind == "f":
        return 2 ** (np.finfo(dtype).nmant + 1)
    return 1 if dtype == np.bool_ else int(np.iinfo(dtype).max)


def _smallest(dtype: np.dtype) -> int:
    if dtype.kind == "f":
        return -_largest(dtype)
    return 0 if dtype == np.bool_ else int(np.iinfo(dtype).min)


def _random_default(gen: Generator, n: int, dtype: np.dtype) -> np.ndarray:
    if dtype == np.bool_:
        return (gen._words(n) & np.uint64(1)).astype(np.bool_)
    wide = dtype in (np.int64, np.float64)  # these take two words per number
    words = gen._words64(n) if wide else gen._words(n)
    span = _largest(dtype) + 1  # 2**24 + 1 for float32, 2**31 for int32, ...
    return (words % np.uint64(span)).astype(dtype)


def _representable(low: int, high: int, dtype: np.dtype) -> tuple[int, int]:
    """[low, high) narrowed, as PyTorch's update_from and update_to narrow it, where low + 1
    or high - 1 rounds past the bound in the float dtype: so that every draw, rounded to the
    dtype, stays inside (2**25 in float32: up to 2**25 - 2)."""
    digits = np.finfo(dtype).nmant + 1
    low_plus_1 = int(dtype.type(low + 1))
    if low_plus_1 < low:
        low = low_plus_1 + (1 << (abs(low + 1).bit_length() - 1 - digits + 1))
    high_minus_1 = int(dtype.type(high - 1))
    if high_minus_1 >= high:
        high = high_minus_1 - (1 << (abs(high - 1).bit_length() - 1 - digits + 1))
    return low, high


def _random_from_to(gen: Generator, n: int, dtype: np.dtype, low: int, high: int | None,
                    fn: str) -> np.ndarray:
    for name, value in (("low", low), ("high", high)):
        if value is not None and (isinstance(value, bool) or not isinstance(
                value, numbers.Integral) and not _integer_tensor(value)):
            raise TypeError(f"{fn}: {name} must be an int, got {type(value).__name__} {value!r}")
    low = int(low)
    if high is None:
        high = _largest(dtype) + 1
    else:
        high = int(high)
        if not low < high:
            raise ValueError(f"{fn} expects low < high, got low={low} >= high={high}")
        if dtype.kind == "f":
            low, high = _representable(low, high, dtype)
            if not low < high:
                raise ValueError(f"{fn} expects low cast to {dtype} below high cast to it, "
                                 f"got low={low} >= high={high}")
    if low < _smallest(dtype) or high - 1 > _largest(dtype):
        message = (f"{fn}: [low, high) = [{low}, {high}) does not fit {dtype} "
                   f"([{_smallest(dtype)}, {_largest(dtype)}])")
        if dtype.kind != "f":
            raise ValueError(message)
        warnings.warn(message + "; PyTorch warns too and rounds", stacklevel=3)
    span = high - low
    words = gen._words64(n) if span >= 2**28 else gen._words(n)
    if span == 2**64:  # all of int64: PyTorch takes the 64-bit word as it is
        return words.view(np.int64)
    offsets = words % np.uint64(span)
    return (offsets + np.uint64(low % 2**64)).view(np.int64).astype(dtype)  # int64 wrap-around


# --- factories: engine Tensors, with PyTorch's signatures ---

def _tensor(array: np.ndarray, requires_grad: bool, fn: str) -> Any:
    from engine.tensor import Tensor  # here, so that engine.tensor may import this module
    if requires_grad and array.dtype.kind != "f":
        raise TypeError(f"{fn}: only float tensors can require grad, this one is {array.dtype}")
    return Tensor(array, requires_grad=requires_grad, dtype=array.dtype)


def _shape(sizes: tuple, size: Any, fn: str) -> tuple[int, ...]:
    """The shape from fn(2, 3), fn((2, 3)), fn([2, 3]) or fn(size=(2, 3)), checked."""
    if (size is None) == (not sizes):
        raise TypeError(f"{fn} needs a size, once: e.g. {fn}(2, 3), {fn}((2, 3)) or "
                        f"{fn}(()) for a 0-d tensor")
    if size is not None:
        sizes = (size,)
    if len(sizes) == 1 and isinstance(sizes[0], (tuple, list)):
        sizes = tuple(sizes[0])
    for n in sizes:
        if isinstance(n, bool) or not isinstance(n, numbers.Integral):
            raise TypeError(f"{fn}: a size is ints, got {type(n).__name__} {n!r} in {sizes}")
        if n < 0:
            raise ValueError(f"{fn}: negative dimension {n} in size {tuple(sizes)}")
    return tuple(int(n) for n in sizes)


def _float_dtype(dtype: Any, fn: str, default: Any = np.float32) -> np.dtype:
    dtype = np.dtype(default if dtype is None else dtype)
    if dtype not in (np.float32, np.float64):
        raise TypeError(f"{fn} makes float32 or float64 numbers, got dtype={dtype}")
    return dtype


def rand(*sizes: int | tuple[int, ...], size: Any = None, generator: Generator | None = None,
         dtype: Any = None, requires_grad: bool = False, device: Any = None) -> Any:
    """Uniform samples in [0, 1), float32 unless dtype says otherwise, as torch.rand."""
    check_device(device, "rand")
    array = np.empty(_shape(sizes, size, "rand"), _float_dtype(dtype, "rand"))
    return _tensor(uniform_(array, 0.0, 1.0, generator), requires_grad, "rand")


def randn(*sizes: int | tuple[int, ...], size: Any = None, generator: Generator | None = None,
          dtype: Any = None, requires_grad: bool = False, device: Any = None) -> Any:
    """Standard normal samples, float32 unless dtype says otherwise, as torch.randn."""
    check_device(device, "randn")
    array = np.empty(_shape(sizes, size, "randn"), _float_dtype(dtype, "randn"))
    return _tensor(normal_(array, 0.0, 1.0, generator), requires_grad, "randn")


def randint(*args: Any, size: Any = None, low: int | None = None, high: int | None = None,
            generator: Generator | None = None, dtype: Any = None,
            requires_grad: bool = False, device: Any = None) -> Any:
    """Integers uniform in [low, high), int64 unless dtype says otherwise, as torch.randint:
    randint(high, size) or randint(low, high, size), also by keyword."""
    check_device(device, "randint")
    named = {"low": low, "high": high, "size": size}
    positional = {0: (), 1: ("high",), 2: ("high", "size"), 3: ("low", "high", "size")}.get(
        len(args))
    if positional is None:
        raise TypeError(f"randint takes (high, size) or (low, high, size), got {len(args)} "
                        "positional arguments")
    for name, value in zip(positional, args):
        if named[name] is not None:
            raise TypeError(f"randint got {name} twice, positionally and by keyword")
        named[name] = value
    if named["high"] is None or named["size"] is None:
        raise TypeError("randint needs high and size, e.g. randint(10, (3,)) or "
                        "randint(0, 10, (3,))")
    if not isinstance(named["size"], (tuple, list)):
        raise TypeError(f"randint: size must be a tuple of ints, e.g. (3,), got "
                        f"{type(named['size']).__name__} {named['size']!r}")
    array = np.empty(_shape((), named["size"], "randint"),
                     np.dtype(np.int64 if dtype is None else dtype))
    _target(array, "randint", floats_only=False)
    _store(array, _random_from_to(_generator(generator), array.size, array.dtype,
                                  named["low"] or 0, named["high"], "randint"))
    return _tensor(array, requires_grad, "randint")


_INSIDE_OUT = 0xFFFFFFFF // 20  # from this n on, PyTorch's randperm permutes "inside out"


def randperm(n: int, *, generator: Generator | None = None, dtype: Any = np.int64,
             requires_grad: bool = False, device: Any = None) -> Any:
    """A random permutation of 0 .. n-1, as torch.randperm."""
    check_device(device, "randperm")
    if isinstance(n, bool) or not isinstance(n, numbers.Integral):
        raise TypeError(f"randperm: n must be an int, got {type(n).__name__} {n!r}")
    if n < 0:
        raise ValueError(f"randperm: n must be non-negative, got {n}")
    dtype = _target(np.empty(0, dtype), "randperm", floats_only=False).dtype
    if n - 1 > _largest(dtype):
        raise ValueError(f"randperm: n={n} does not fit {dtype} exactly")
    gen, n = _generator(generator), int(n)
    if n < _INSIDE_OUT:
        # Fisher-Yates from the front: swap entry i with one of i .. n-1
        picks = gen._words(max(n - 1, 0)) % np.arange(n, 1, -1, dtype=np.uint64)
        array = _swapped(picks.astype(np.int64) + np.arange(n - 1), n)
    else:
        array = _randperm_inside_out(gen, n)
    return _tensor(array.astype(dtype), requires_grad, "randperm")


def _swapped(targets: np.ndarray, n: int) -> np.ndarray:
    """What 0 .. n-1 becomes when, for i = 0, 1, ..., entry i is swapped with entry
    targets[i] (>= i), without a Python loop over the swaps (randperm's Fisher-Yates: 3x
    quicker than the loop at n = 50,000).

    After its swap position i never changes again, and it holds what position targets[i]
    held just before: the entry the latest earlier swap into targets[i] brought there (that
    swap's own position's entry before it), or targets[i] itself if none did. So each
    position's entry is found by following earlier swaps back to a start, a chain of
    pointers that pointer jumping resolves in log2(n) passes over arrays.
    """
    steps = len(targets)
    where = np.arange(n)
    if steps == 0:
        return where
    order = np.argsort(targets, kind="stable")  # the swaps into each position, in order
    into = targets[order]
    repeat = np.flatnonzero(into[1:] == into[:-1]) + 1
    before = np.full(n, -1)  # the latest earlier swap into the same position
    before[order[repeat]] = order[repeat - 1]
    last = np.full(n, -1)  # the last swap into each position
    ends = np.append(into[:-1] != into[1:], True)
    last[into[ends]] = order[ends]
    # what position k holds at swap k, as the swap whose position's entry it is: the last
    # swap into k (read only where that came before swap k: a swap of k with itself is
    # nobody's earlier swap), or k itself if none
    start = np.where(last >= 0, last, where)
    while True:
        jumped = start[start]
        if np.array_equal(jumped, start):
            break
        start = jumped
    held = np.where(before[:steps] >= 0, start[before[:steps]], targets)
    return np.append(held, start[-1])


def discard_randperm(n: int, generator: Generator | None = None) -> None:
    """Draw what randperm(n) draws and make no permutation of it: PyTorch's RandomSampler
    draws a whole permutation at the end of every epoch and keeps none of it, and the
    generator must move on as PyTorch's does (the words alone: 0.1 ms for n = 50,000,
    against 6.5 ms for the permutation)."""
    gen = _generator(generator)
    if n < _INSIDE_OUT:
        gen._words(max(n - 1, 0))
    else:  # in randperm's pieces, so that memory stays bounded here too
        for start in range(0, n, 1 << 20):
            gen._words64(min(n - start, 1 << 20))


def _randperm_inside_out(gen: Generator, n: int) -> np.ndarray:
    """PyTorch's permutation for n >= 2**32 / 20: the "inside-out" Fisher-Yates, entry i
    joining at a position drawn from a 64-bit word modulo i + 1. A sequential loop: for the
    smallest such n, 214,748,364, about 5 minutes here (torch: 1), and identical to torch."""
    perm = np.empty(n, np.int64)
    for start in range(0, n, 1 << 20):
        stop = min(n, start + (1 << 20))
        picks = (gen._words64(stop - start) % np.arange(start + 1, stop + 1,
                                                        dtype=np.uint64)).tolist()
        for i, pick in zip(range(start, stop), picks):
            perm[i] = perm[pick]
            perm[pick] = i
    return perm


def multinomial(input: Any, num_samples: int, replacement: bool = False, *,
                generator: Generator | None = None) -> Any:
    """Category indices drawn with probabilities proportional to input's rows (1-D or 2-D,
    need not sum to 1), int64, as torch.multinomial."""
    p = _probabilities(input, "multinomial")
    if p.ndim not in (1, 2):
        raise ValueError(f"multinomial expects a 1-D or 2-D input, got shape {p.shape}")
    if isinstance(num_samples, bool) or not isinstance(num_samples, numbers.Integral):
        raise TypeError(f"multinomial: num_samples must be an int, got {num_samples!r}")
    categories = p.shape[-1]
    if num_samples <= 0:
        raise ValueError(f"multinomial: num_samples must be positive, got {num_samples}")
    if not replacement and num_samples > categories:
        raise ValueError(f"multinomial: cannot draw {num_samples} samples without replacement "
                         f"from {categories} categories; pass replacement=True or fewer")
    if categories > 2**24:
        raise ValueError(f"multinomial: at most 2**24 categories, got {categories}")
    gen, rows = _generator(generator), p if p.ndim == 2 else p[None]
    if rows.shape[0] == 0:
        return _tensor(np.empty(p.shape[:-1] + (num_samples,), np.int64), False, "multinomial")
    if not np.all(np.isfinite(rows)) or np.any(rows < 0):
        raise ValueError("multinomial: probabilities must be finite and >= 0 (found a "
                         "negative, inf or nan entry)")
    if np.any(rows.sum(1) == 0):
        raise ValueError("multinomial: a row of probabilities sums to 0; nothing to draw")
    if not replacement or num_samples == 1:
        # PyTorch's shortcut: argmax (top-k) of p / q with q ~ Exp(1), the exponential race
        # (Gumbel trick); q in p's dtype.
        noise = _exponential(gen, rows.size).astype(rows.dtype).reshape(rows.shape)
        with np.errstate(divide="ignore", invalid="ignore"):  # noise 0 has odds 2**-53
            keys = rows / noise
        picks = np.argsort(-keys, axis=1, kind="stable")[:, :num_samples]
    else:
        # The cumulative distribution in p's dtype, normalised, last entry forced to 1; a
        # float64 uniform per sample falls in the first bucket whose top is >= it.
        cdf = np.cumsum(rows, axis=1, dtype=rows.dtype)
        cdf /= cdf[:, -1:]
        cdf[:, -1] = 1
        u = gen._uniform(rows.shape[0] * num_samples, np.dtype(np.float64))
        u = u.reshape(rows.shape[0], num_samples)
        picks = np.stack([np.searchsorted(c.astype(np.float64), row_u, side="left")
                          for c, row_u in zip(cdf, u)])
    return _tensor(picks.reshape(p.shape[:-1] + (num_samples,)).astype(np.int64), False,
                   "multinomial")


def normal(mean: Any = 0.0, std: Any = 1.0, size: Any = None, *,
           generator: Generator | None = None, dtype: Any = None,
           requires_grad: bool = False, device: Any = None) -> Any:
    """Normal samples, as torch.normal: normal(mean, std, size) with numbers, or with a
    Tensor mean and/or std (shapes broadcast) drawn as N(0, 1) then scaled and shifted."""
    check_device(device, "normal")
    gen = _generator(generator)
    if isinstance(mean, numbers.Real) and isinstance(std, numbers.Real):
        if size is None:
            raise TypeError("normal(mean, std) with two numbers needs a size, e.g. "
                            "normal(0.0, 1.0, (3,))")
        array = np.empty(_shape((), size, "normal"), _float_dtype(dtype, "normal"))
        return _tensor(normal_(array, mean, std, gen), requires_grad, "normal")
    if size is not None:
        raise TypeError("normal: size goes with a number mean and std; with a Tensor, "
                        "the shape is the Tensor's")
    tensors = [np.asarray(x) for x in (mean, std) if not isinstance(x, numbers.Real)]
    for x in tensors:
        _float_dtype(x.dtype, "normal")
    if not isinstance(std, numbers.Real) and np.any(np.asarray(std) < 0):
        raise ValueError("normal expects all elements of std >= 0.0")
    if isinstance(std, numbers.Real) and not std >= 0:
        raise ValueError(f"normal expects std >= 0.0, got std={std}")
    out_dtype = tensors[0].dtype
    try:
        shape = np.broadcast_shapes(*(x.shape for x in tensors))
    except ValueError:
        raise ValueError(f"normal: mean of shape {np.shape(mean)} and std of shape "
                         f"{np.shape(std)} do not broadcast") from None
    out = np.empty(shape, out_dtype)
    if isinstance(std, numbers.Real):  # PyTorch: N(0, std), then + mean
        normal_(out, 0.0, std, gen)
        out += np.asarray(mean)
    else:  # N(0, 1), then * std, then + mean, each rounded in out's dtype
        normal_(out, 0.0, 1.0, gen)
        out *= np.asarray(std)
        out += out_dtype.type(mean) if isinstance(mean, numbers.Real) else np.asarray(mean)
    return _tensor(out, requires_grad, "normal")


def bernoulli(input: Any, p: float | None = None, *,
              generator: Generator | None = None) -> Any:
    """0/1 samples shaped as input, 1 with probability input (or with probability p when
    given), in input's dtype, as torch.bernoulli."""
    probabilities = _probabilities(input, "bernoulli")
    out = np.empty(probabilities.shape, probabilities.dtype)
    bernoulli_(out, probabilities if p is None else p, generator)
    return _tensor(out, False, "bernoulli")


def laid_out_like(input: Any, dtype: Any = None) -> np.ndarray:
    """An empty array shaped as input and laid out as PyTorch's `empty_like(input)` lays it
    out, in dtype or else input's dtype. PyTorch fills in memory order, so a transposed
    input gets its numbers in a transposed order (the *_like factories, dropout's mask).

    The axis order is PyTorch's infer_dense_strides (TensorIterator's too): an insertion
    sort from the innermost axis out, by stride, the smaller size inside on equal strides,
    a zero stride (a broadcast axis) comparing as neither. numpy's empty_like sorts a zero
    stride innermost instead, which would draw an expanded input's numbers out of order."""
    array = np.asarray(input)
    strides, sizes = [abs(s) for s in array.strides], array.shape

    def outside(a: int, b: int) -> int:
        """1 if axis a lies outside axis b, -1 if inside, 0 if either may."""
        if strides[a] == 0 or strides[b] == 0:
            return 0
        if strides[a] != strides[b]:
            return 1 if strides[a] > strides[b] else -1
        return 1 if sizes[a] > sizes[b] else 0

    inner_first = list(range(array.ndim))[::-1]
    for i in range(1, array.ndim):
        moving = i
        for j in range(i - 1, -1, -1):
            order = outside(inner_first[j], inner_first[moving])
            if order > 0:
                inner_first[j], inner_first[moving] = inner_first[moving], inner_first[j]
                moving = j
            elif order < 0:
                break
    outer_first = inner_first[::-1]
    empty = np.empty([sizes[a] for a in outer_first], array.dtype if dtype is None else dtype)
    return empty.transpose(np.argsort(outer_first))


def rand_like(input: Any, *, generator: Generator | None = None, dtype: Any = None,
              requires_grad: bool = False, device: Any = None) -> Any:
    """rand shaped as input (and in its dtype unless dtype says otherwise), as torch.rand_like."""
    check_device(device, "rand_like")
    array = laid_out_like(input, dtype)
    _float_dtype(array.dtype, "rand_like")
    return _tensor(uniform_(array, 0.0, 1.0, generator), requires_grad, "rand_like")


def randn_like(input: Any, *, generator: Generator | None = None, dtype: Any = None,
               requires_grad: bool = False, device: Any = None) -> Any:
    """randn shaped as input (and in its dtype unless dtype says otherwise), as
    torch.randn_like."""
    check_device(device, "randn_like")
    array = laid_out_like(input, dtype)
    _float_dtype(array.dtype, "randn_like")
    return _tensor(normal_(array, 0.0, 1.0, generator), requires_grad, "randn_like")


def randint_like(input: Any, low: int = 0, high: int | None = None, *,
                 generator: Generator | None = None, dtype: Any = None,
                 requires_grad: bool = False, device: Any = None) -> Any:
    """randint shaped as input (and in its dtype unless dtype says otherwise):
    randint_like(input, high) or randint_like(input, low, high), as torch.randint_like."""
    check_device(device, "randint_like")
    if high is None:
        low, high = 0, low
    array = _target(laid_out_like(input, dtype), "randint_like", floats_only=False)
    _store(array, _random_from_to(_generator(generator), array.size, array.dtype, low, high,
                                  "randint_like"))
    return _tensor(array, requires_grad, "randint_like")


# --- the fillers as Tensor methods: t.uniform_(a, b), t.normal_(mean, std), ... ---

def _filling_method(fill: Any) -> Any:
    """`t.NAME_(...)`: the filler on t's own array, in place, as PyTorch's method."""
    def method(self: Any, *args: Any, generator: Generator | None = None, **kwargs: Any) -> Any:
        from engine.inplace import _refuse_unwritable
        from engine.tensor import _recording
        if _recording():
            self._check_in_place(fill.__name__)
        _refuse_unwritable(self, fill.__name__)
        fill(self._data, *args, generator=generator, **kwargs)
        self._changed()
        return self
    method.__name__ = method.__qualname__ = fill.__name__
    method.__doc__ = f"{fill.__name__}: this tensor's entries drawn anew, in place."
    return method


def _add_methods() -> None:
    from engine.tensor import Tensor
    for fill in (uniform_, normal_, bernoulli_, random_, exponential_, cauchy_, log_normal_,
                 geometric_):
        setattr(Tensor, fill.__name__, _filling_method(fill))


_add_methods()
