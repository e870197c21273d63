"""More of PyTorch's math ops and their spellings, on Tensor and as `engine.NAME`: the fused
products addcmul, addcdiv, addmv, addr, addbmm, baddbmm and vdot; asinh, acosh, atanh,
frac and copysign; gcd, lcm and the bitwise ops of int and bool tensors; renorm, mvlgamma,
sum_to_size, split_with_sizes, unique_consecutive and fill_diagonal_; and the aliases and
in-place forms PyTorch has for ops defined elsewhere (multiply_, eq_, cumsum_, ...).

The products and renorm are composites of engine ops (their grad_fn named as PyTorch's);
asinh, acosh, atanh, frac and copysign are primitives, each with its rule right below.
"""
from __future__ import annotations

from typing import Any, Callable, Sequence

import numpy as np

# (modules, not names: they may still be loading when this one is)
from engine import arithmetic, elementwise, products, reductions, shapes
from engine.in_place_forms import in_place_form
from engine.tensor import (_IEEE, Operand, Tensor, _called, _check_broadcast, _elementwise,
                           _floating, _leaf, _node, _operands, _raw, _where, _zeros)


def _scaled(x: Tensor, factor: float) -> Tensor:
    return x if factor == 1 else x * factor


def _plus(input: Operand, beta: float, product: Tensor, alpha: float, op: str) -> Tensor:
    """beta * input + alpha * product (input ignored at beta = 0, nan included, as PyTorch)."""
    input = input if isinstance(input, Tensor) else Tensor(input)
    if input._data.ndim > product._data.ndim or any(
            n not in (1, m) for n, m in zip(input._data.shape[::-1], product._data.shape[::-1])):
        raise RuntimeError(f"{op}: input of shape {tuple(input.shape)} does not broadcast to "
                           f"the product's shape {tuple(product.shape)}")
    out = _scaled(product, alpha) if beta == 0 else (
        _scaled(input, beta) + _scaled(product, alpha))
    return _called(out, op)


def addcmul(input: Operand, tensor1: Operand, tensor2: Operand, *, value: float = 1) -> Tensor:
    """input + value * tensor1 * tensor2, the three broadcast, as torch.addcmul: in the
    dtype the three promote to (a float64 input keeps float32 factors' product exact)."""
    a, t1, t2 = _operands("addcmul", input, tensor1, tensor2)
    return _called(a + _scaled(t1 * t2, value), "addcmul")


def addcdiv(input: Operand, tensor1: Operand, tensor2: Operand, *, value: float = 1) -> Tensor:
    """input + value * tensor1 / tensor2, the three broadcast, as torch.addcdiv (which
    refuses two int tensors: their division was once integer division)."""
    if all(_raw(t).dtype.kind in "biu" if isinstance(t, Tensor) else isinstance(t, int)
           for t in (tensor1, tensor2)):
        raise RuntimeError("addcdiv: integer division is not supported; use "
                           "(input + value * tensor1 / tensor2) or convert with .float()")
    a, t1, t2 = _operands("addcdiv", input, tensor1, tensor2)  # (the dtype of all three)
    return _called(a + _scaled(t1 / t2, value), "addcdiv")


def addmv(input: Operand, mat: Tensor, vec: Tensor, *, beta: float = 1,
          alpha: float = 1) -> Tensor:
    """beta * input + alpha * (mat @ vec), as torch.addmv."""
    return _plus(input, beta, products.mv(mat, vec), alpha, "addmv")


def addr(input: Operand, vec1: Tensor, vec2: Tensor, *, beta: float = 1,
         alpha: float = 1) -> Tensor:
    """beta * input + alpha * outer(vec1, vec2), as torch.addr."""
    return _plus(input, beta, products.outer(vec1, vec2), alpha, "addr")


def addbmm(input: Operand, batch1: Tensor, batch2: Tensor, *, beta: float = 1,
           alpha: float = 1) -> Tensor:
    """beta * input + alpha * (the sum over the batch of batch1[i] @ batch2[i])."""
    return _plus(input, beta, products.bmm(batch1, batch2).sum(0), alpha, "addbmm")


def baddbmm(input: Operand, batch1: Tensor, batch2: Tensor, *, beta: float = 1,
            alpha: float = 1) -> Tensor:
    """beta * input + alpha * bmm(batch1, batch2), as torch.baddbmm."""
    return _plus(input, beta, products.bmm(batch1, batch2), alpha, "baddbmm")


def vdot(input: Tensor, other: Tensor) -> Tensor:
    """The dot product of two 1-D tensors (conjugating the first, a no-op for real ones)."""
    return _called(products.dot(input, other), "vdot")


# --- inverse hyperbolic functions, frac and copysign: primitives ---


def asinh(input: Tensor) -> Tensor:
    """arsinh a; da = g / sqrt(a**2 + 1)."""
    def rule(g: Any, out: Any, need: list, a: Any) -> tuple:
        return (g / elementwise._numpy_or_engine("sqrt", a * a + 1),)
    return _node(np.arcsinh(_floating(input)._data), "asinh", rule, input)


def acosh(input: Tensor) -> Tensor:
    """arcosh a (nan below 1); da = g / sqrt(a**2 - 1)."""
    def rule(g: Any, out: Any, need: list, a: Any) -> tuple:
        with np.errstate(**_IEEE):
            return (g / elementwise._numpy_or_engine("sqrt", a * a - 1),)
    with np.errstate(invalid="ignore"):
        return _node(np.arccosh(_floating(input)._data), "acosh", rule, input)


def atanh(input: Tensor) -> Tensor:
    """artanh a (nan outside [-1, 1], +-inf at its ends); da = g / (1 - a**2)."""
    def rule(g: Any, out: Any, need: list, a: Any) -> tuple:
        with np.errstate(**_IEEE):
            return (g / (1 - a * a),)
    with np.errstate(**_IEEE):
        return _node(np.arctanh(_floating(input)._data), "atanh", rule, input)


def frac(input: Tensor) -> Tensor:
    """a - trunc(a), the fractional part with a's sign; da = g."""
    if input._data.dtype.kind != "f":
        raise TypeError(f"frac takes float tensors, got {input._data.dtype}")

    def rule(g: Any, out: Any, need: list, a: Any) -> tuple:
        return (g,)
    with np.errstate(invalid="ignore"):
        return _node(input._data - np.trunc(input._data), "frac", rule, input)


def copysign(input: Operand, other: Operand) -> Tensor:
    """|a| with b's sign (signed zeros and nan's sign bit included), as torch.copysign;
    da = g t / a (0 where a is 0, as PyTorch's), db = 0."""
    a, b = _operands("copysign", input, other, floating=True)
    _check_broadcast("copysign", a._data.shape, b._data.shape)

    def rule(g: Any, out: Any, need: list, a: Any, b: Any) -> tuple:
        with np.errstate(**_IEEE):
            return (_where(_raw(a) == 0, 0, g * out / a) if need[0] else None,
                    _zeros(g, b) if need[1] else None)
    return _node(np.copysign(a._data, b._data), "copysign", rule, a, b)


# --- int ops: no gradient ---


def _integer_operands(op: str, input: Operand, other: Operand, bools: bool = True
                      ) -> tuple[Tensor, Tensor]:
    a, b = _operands(op, input, other)
    if a._data.dtype.kind == "f" or (a._data.dtype.kind == "b" and not bools):
        kinds = "int and bool" if bools else "int"
        raise TypeError(f"{op} takes {kinds} tensors, got {a._data.dtype} (convert with "
                        f".long() or use a float op)")
    return a, b


def gcd(input: Operand, other: Operand) -> Tensor:
    """The greatest common divisor entry by entry (non-negative; gcd(0, 0) = 0)."""
    a, b = _integer_operands("gcd", input, other, bools=False)
    return _leaf(_elementwise(np.gcd, a, b, "gcd"))


def lcm(input: Operand, other: Operand) -> Tensor:
    """The least common multiple entry by entry (non-negative; 0 where either is 0)."""
    a, b = _integer_operands("lcm", input, other, bools=False)
    return _leaf(_elementwise(np.lcm, a, b, "lcm"))


def bitwise_and(input: Operand, other: Operand) -> Tensor:
    """a & b: bitwise for ints, logical for bools."""
    return _leaf(_elementwise(np.bitwise_and, *_integer_operands("bitwise_and", input, other),
                              "bitwise_and"))


def bitwise_or(input: Operand, other: Operand) -> Tensor:
    """a | b: bitwise for ints, logical for bools."""
    return _leaf(_elementwise(np.bitwise_or, *_integer_operands("bitwise_or", input, other),
                              "bitwise_or"))


def bitwise_xor(input: Operand, other: Operand) -> Tensor:
    """a ^ b: bitwise for ints, logical for bools."""
    return _leaf(_elementwise(np.bitwise_xor, *_integer_operands("bitwise_xor", input, other),
                              "bitwise_xor"))


def bitwise_not(input: Tensor) -> Tensor:
    """~a: bitwise not of an int tensor, logical not of a bool one."""
    if input._data.dtype.kind == "f":
        raise TypeError(f"bitwise_not takes int and bool tensors, got {input._data.dtype}")
    return _leaf(np.invert(input._data))


def _shift(input: Operand, other: Operand, left: bool) -> Tensor:
    """a shifted by b bits; a shift outside [0, bits) gives 0 (a's sign bits for a right
    shift of a signed a), as PyTorch's, where C's shifts are undefined."""
    op = "bitwise_left_shift" if left else "bitwise_right_shift"
    a, b = _integer_operands(op, input, other)
    if a._data.dtype.kind == "b":  # bools shift as the ints they are
        a, b = a.long(), b.long()
    x, n = np.broadcast_arrays(a._data, b._data.astype(a._data.dtype))
    bits = 8 * x.dtype.itemsize
    inside = (n >= 0) & (n < bits)
    safe = np.where(inside, n, 0)
    if left:
        return _leaf(np.where(inside, np.left_shift(x, safe), 0).astype(x.dtype))
    fill = np.right_shift(x, bits - 1) if x.dtype.kind == "i" else np.zeros_like(x)
    return _leaf(np.where(inside, np.right_shift(x, safe), fill).astype(x.dtype))


def bitwise_left_shift(input: Operand, other: Operand) -> Tensor:
    """a << b, as torch.bitwise_left_shift."""
    return _shift(input, other, left=True)


def bitwise_right_shift(input: Operand, other: Operand) -> Tensor:
    """a >> b (arithmetic for signed ints), as torch.bitwise_right_shift."""
    return _shift(input, other, left=False)


# --- composites of shapes and reductions ---


def renorm(input: Tensor, p: float, dim: int, maxnorm: float) -> Tensor:
    """Each sub-tensor along dim scaled down to p-norm maxnorm where its norm is above it
    (by maxnorm / (norm + 1e-7), as PyTorch), the others kept, as torch.renorm."""
    if input._data.dtype.kind != "f":
        raise TypeError(f"renorm takes float tensors, got {input._data.dtype}")
    if input.ndim < 2:
        raise RuntimeError(f"renorm: the input needs at least 2 dims, got shape "
                           f"{tuple(input.shape)}")
    if p <= 0:
        raise RuntimeError(f"renorm: p must be positive, got {p}")
    if maxnorm < 0:
        raise RuntimeError(f"renorm: maxnorm must be non-negative, got {maxnorm}")
    axis = shapes.dim_index(dim, max(input.ndim, 1), "renorm")
    others = tuple(k for k in range(input.ndim) if k != axis)
    norms = reductions.norm(input, p, others, keepdim=True)
    factor = elementwise.where(norms._data > maxnorm, maxnorm / (norms + 1e-7), 1.0)
    return _called(input * factor, "renorm")


def mvlgamma(input: Tensor, p: int) -> Tensor:
    """The log of the multivariate gamma function of dimension p (torch.special.multigammaln)."""
    from engine.special import multigammaln  # (it imports elementwise's names at its load)
    return _called(multigammaln(input, p), "mvlgamma")


def sum_to_size(self: Tensor, *size: Any) -> Tensor:
    """self summed over the dims that broadcasting size to self's shape would add or stretch."""
    size = tuple(size[0]) if len(size) == 1 and isinstance(size[0], (tuple, list)) else size
    shape = self._data.shape
    lead = len(shape) - len(size)
    if lead < 0 or any(n not in (1, m) for n, m in zip(size, shape[lead:])):
        raise RuntimeError(f"sum_to_size: size {list(size)} is not expandable to the tensor's "
                           f"shape {list(shape)}")
    out = self.sum(tuple(range(lead))) if lead else self
    stretched = tuple(k for k, n in enumerate(size) if n == 1 and shape[lead + k] != 1)
    return out.sum(stretched, keepdim=True) if stretched else out


def split_with_sizes(input: Tensor, split_sizes: Sequence[int], dim: int = 0
                     ) -> tuple[Tensor, ...]:
    """Pieces of the sizes listed along dim (they must add up to its size)."""
    return shapes.split(input, list(split_sizes), dim)


def unique_consecutive(input: Tensor, return_inverse: bool = False,
                       return_counts: bool = False, dim: int | None = None) -> Any:
    """The entries (or sub-tensors along dim) with each run of equal ones kept once, as
    torch.unique_consecutive; with return_inverse, each one's run number; with
    return_counts, each run's length."""
    x = input._data
    if dim is None:
        flat = x.reshape(-1)
        starts = np.ones(flat.shape, bool)
        starts[1:] = flat[1:] != flat[:-1]
        values = flat[starts]
        inverse_shape = x.shape
    else:
        axis = shapes.dim_index(dim, max(x.ndim, 1), "unique_consecutive")
        rows = np.moveaxis(x, axis, 0).reshape(x.shape[axis], -1)
        starts = np.ones(rows.shape[0], bool)
        starts[1:] = (rows[1:] != rows[:-1]).any(axis=1)
        values = np.compress(starts, x, axis=axis)
        inverse_shape = (x.shape[axis],)
    out = _leaf(values)
    if not (return_inverse or return_counts):
        return out
    inverse = _leaf((np.cumsum(starts) - 1).reshape(inverse_shape).astype(np.int64))
    counts = _leaf(np.diff(np.append(np.flatnonzero(starts), starts.size)).astype(np.int64))
    return ((out,) + ((inverse,) if return_inverse else ())
            + ((counts,) if return_counts else ()))


def fill_diagonal_(self: Tensor, fill_value: float, wrap: bool = False) -> Tensor:
    """The main diagonal (of a matrix, or of a tensor with all dims equal) set to fill_value
    in place; wrap: in a tall matrix, start again below every N rows, as numpy's."""
    if self.ndim < 2 or (self.ndim > 2 and len(set(self.shape)) != 1):
        raise RuntimeError(f"fill_diagonal_: the tensor needs at least 2 dims, all of one "
                           f"length beyond 2, got shape {tuple(self.shape)}")
    mask = np.zeros(self._data.shape, bool)
    np.fill_diagonal(mask, True, wrap=wrap)
    return self._in_place(lambda t, _: elementwise.where(mask, fill_value, t), None,
                          "fill_diagonal_")


def _spelling(name: str) -> Callable:
    """Tensor.NAME under another of PyTorch's names, looked up when called (the module that
    defines it may still be loading when this one is)."""
    def method(self: Tensor, *args: Any, **kwargs: Any) -> Any:
        return getattr(self, name)(*args, **kwargs)
    method.__name__ = method.__qualname__ = name
    method.__doc__ = f"Tensor.{name}, under another of PyTorch's names."
    return method


def absolute(input: Tensor) -> Tensor:
    """|a|, as torch.absolute (torch.abs)."""
    return input.abs()


def multiply(input: Operand, other: Operand) -> Tensor:
    """input * other, as torch.multiply (torch.mul)."""
    return arithmetic.mul(input, other)


def subtract(input: Operand, other: Operand, *, alpha: float = 1) -> Tensor:
    """input - alpha * other, as torch.subtract (torch.sub)."""
    return arithmetic.sub(input, other, alpha=alpha)


_OPS = [addcmul, addcdiv, addmv, addr, addbmm, baddbmm, asinh, acosh, atanh, frac, copysign,
        gcd, lcm, bitwise_and, bitwise_or, bitwise_xor, bitwise_not, bitwise_left_shift,
        bitwise_right_shift, renorm, mvlgamma]
for _op in _OPS:
    setattr(Tensor, _op.__name__, _op)
    setattr(Tensor, f"{_op.__name__}_", in_place_form(_op))
for _op in (vdot, sum_to_size, split_with_sizes, unique_consecutive, fill_diagonal_):
    setattr(Tensor, _op.__name__, _op)
arcsinh, arccosh, arctanh = asinh, acosh, atanh
Tensor.arcsinh, Tensor.arccosh, Tensor.arctanh = asinh, acosh, atanh
Tensor.arcsinh_, Tensor.arccosh_, Tensor.arctanh_ = Tensor.asinh_, Tensor.acosh_, Tensor.atanh_
Tensor.__lshift__, Tensor.__rshift__ = bitwise_left_shift, bitwise_right_shift
Tensor.__rlshift__ = lambda self, other: bitwise_left_shift(other, self)
Tensor.__rrshift__ = lambda self, other: bitwise_right_shift(other, self)
Tensor.__ilshift__, Tensor.__irshift__ = Tensor.bitwise_left_shift_, Tensor.bitwise_right_shift_
Tensor.__iand__, Tensor.__ior__, Tensor.__ixor__ = (
    Tensor.bitwise_and_, Tensor.bitwise_or_, Tensor.bitwise_xor_)

# PyTorch's other names for ops defined in other modules, and their in-place forms
for _alias, _name in {"absolute": "abs", "absolute_": "abs_", "multiply": "mul",
                      "multiply_": "mul_", "subtract": "sub", "subtract_": "sub_",
                      "negative_": "neg_", "divide_": "div_", "true_divide_": "div_",
                      "arccos_": "acos_", "arcsin_": "asin_", "arctan_": "atan_",
                      "arctan2_": "atan2_", "greater_": "gt_", "greater_equal_": "ge_",
                      "less_": "lt_", "less_equal_": "le_", "not_equal_": "ne_"}.items():
    setattr(Tensor, _alias, _spelling(_name))
for _name in ("addmm", "cumsum", "cumprod", "eq", "ne", "lt", "le", "gt", "ge", "logical_and",
              "logical_or", "logical_xor", "logical_not"):
    setattr(Tensor, f"{_name}_", in_place_form(_spelling(_name)))
