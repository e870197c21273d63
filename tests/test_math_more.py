"""engine/math_more.py: the fused products, asinh/acosh/atanh, frac, copysign, gcd, lcm, the
bitwise ops, renorm, mvlgamma, sum_to_size, split_with_sizes, unique_consecutive,
fill_diagonal_, and the aliases and in-place forms. Gradients are rows of
tests/tensor_op_table.py; here: values at the edges against PyTorch and as recorded from
torch 2.13, dtypes, int and bool ops, in-place forms, grad_fn names and errors."""
from __future__ import annotations

import math

import numpy as np
import pytest

import engine
from engine import Tensor

INF, NAN = math.inf, math.nan
X = [[3.0, 4.0], [0.3, 0.4], [6.0, 8.0]]

# (name, call on a library m, the values torch 2.13 gives in float64 by default, its dtype)
CASES = [
    ("addcmul", lambda m: m.addcmul(m.tensor([1.0, 2.0]), m.tensor([[2.0], [3.0]]),
                                   m.tensor([4.0, 5.0]), value=0.5),
     [[5.0, 7.0], [7.0, 9.5]], "float64"),
    ("addcdiv", lambda m: m.tensor([1.0, 2.0]).addcdiv(m.tensor([3.0, 1.0]), m.tensor([2.0, 0.0]),
                                                     value=-2),
     [-2.0, -INF], "float64"),
    ("addmv", lambda m: m.addmv(m.tensor([1.0, 2.0]), m.tensor([[1.0, 2.0], [3.0, 4.0]]),
                                m.tensor([5.0, 6.0]), beta=0.5, alpha=2),
     [34.5, 79.0], "float64"),
    ("addmv_beta_0_drops_nan", lambda m: m.addmv(m.tensor([NAN, INF]), m.tensor([[1.0, 2.0],
                                                 [3.0, 4.0]]), m.tensor([5.0, 6.0]), beta=0),
     [17.0, 39.0], "float64"),
    ("addr", lambda m: m.addr(m.tensor([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]), m.tensor([1.0, 2.0]),
                              m.tensor([3.0, 4.0, 5.0]), beta=2, alpha=-1),
     [[-1.0, -4.0, -5.0], [-6.0, -6.0, -10.0]], "float64"),
    ("addbmm", lambda m: m.addbmm(m.tensor([1.0]), m.arange(8.0).reshape(2, 2, 2),
                                  m.arange(8.0).reshape(2, 2, 2), alpha=0.5),
     [[25.0, 30.0], [37.0, 46.0]], "float64"),
    ("baddbmm", lambda m: m.arange(8.0).reshape(2, 2, 2).baddbmm(
        m.ones(2, 2, 2), m.arange(8.0).reshape(2, 2, 2) - 3, beta=3),
     [[[-4.0, 1.0], [2.0, 7.0]], [[16.0, 21.0], [22.0, 27.0]]], "float64"),
    ("vdot", lambda m: m.vdot(m.tensor([1.0, 2.0, 3.0]), m.tensor([4.0, -5.0, 6.0])),
     12.0, "float64"),
    ("asinh", lambda m: m.asinh(m.tensor([0.0, -0.0, 1.0, -1e-9, 1e300, -INF, NAN])),
     [0.0, -0.0, 0.881373587019543, -1e-09, 691.4686750787736, -INF, NAN], "float64"),
    ("arccosh", lambda m: m.arccosh(m.tensor([0.5, 1.0, 2.0, 1e300, INF, NAN])),
     [NAN, 0.0, 1.3169578969248166, 691.4686750787736, INF, NAN], "float64"),
    ("atanh", lambda m: m.arctanh(m.tensor([-1.0, 1.0, 2.0, 0.5, -0.0, 1e-9])),
     [-INF, INF, NAN, 0.5493061443340548, -0.0, 1e-09], "float64"),
    ("asinh_of_ints", lambda m: m.asinh(m.tensor([1, 2])),
     [0.881373587019543, 1.4436354751788103], "float64"),
    ("frac", lambda m: m.frac(m.tensor([-1.5, 2.25, -0.0, 3.0, INF, NAN, 1e20])),
     [-0.5, 0.25, 0.0, 0.0, NAN, NAN, 0.0], "float64"),
    ("copysign", lambda m: m.copysign(m.tensor([1.0, -2.0, 0.0, -0.0, INF, 3.0]),
                                      m.tensor([-0.0, 0.0, -1.0, NAN, -2.0, -INF])),
     [-1.0, 2.0, -0.0, 0.0, -INF, -3.0], "float64"),
    ("copysign_of_ints", lambda m: m.copysign(m.tensor([1, -2]), -1),
     [-1.0, -2.0], "float64"),
    ("gcd", lambda m: m.gcd(m.tensor([12, -8, 0, 7, 0]), m.tensor([18, 12, 0, -21, -5])),
     [6, 4, 0, 7, 5], "int64"),
    ("lcm", lambda m: m.tensor([4, -6, 0, 7]).lcm(m.tensor([6, 4, 5, -3])),
     [12, 12, 0, 21], "int64"),
    ("bitwise_and", lambda m: m.bitwise_and(m.tensor([12, -1, 5]), m.tensor([10, 7, 0])),
     [8, 7, 0], "int64"),
    ("bitwise_or", lambda m: m.tensor([12, -8, 5]).bitwise_or(3),
     [15, -5, 7], "int64"),
    ("bitwise_xor_bools", lambda m: m.bitwise_xor(m.tensor([True, False, True]),
                                                  m.tensor([True, True, False])),
     [False, True, True], "bool"),
    ("bitwise_not", lambda m: m.bitwise_not(m.tensor([0, 5, -1])),
     [-1, -6, 0], "int64"),
    ("bitwise_not_uint8", lambda m: ~m.tensor([0, 5, 255], dtype=m.uint8),
     [255, 250, 0], "uint8"),
    ("left_shift", lambda m: m.tensor([5, -3, 1, 1]) << m.tensor([2, 1, 64, -1]),
     [20, -6, 0, 0], "int64"),
    ("right_shift", lambda m: m.bitwise_right_shift(m.tensor([20, -3, 5, -5, 7]),
                                                    m.tensor([2, 1, 64, 70, -1])),
     [5, -2, 0, -1, 0], "int64"),
    ("right_shift_int8", lambda m: m.tensor([12, -12], dtype=m.int8) >> 2,
     [3, -3], "int8"),
    ("shift_of_bools", lambda m: m.tensor([True, False]) << 1,
     [2, 0], "int64"),
    ("number_shifted", lambda m: 2 << m.tensor([1, 2]),
     [4, 8], "int64"),
    ("renorm_rows", lambda m: m.tensor(X).renorm(2, 0, 1.0),
     [[0.5999999880000002, 0.7999999840000003], [0.3, 0.4],
      [0.5999999940000001, 0.7999999920000002]], "float64"),
    ("renorm_columns_p1", lambda m: m.renorm(m.tensor(X), 1, 1, 2.0),
     [[0.6451612833853625, 0.6451612851196671], [0.06451612833853625, 0.06451612851196671],
      [1.290322566770725, 1.2903225702393342]], "float64"),
    ("renorm_inf", lambda m: m.tensor(X).renorm(INF, -1, 5.0),
     [[2.499999958333334, 2.4999999687500005], [0.24999999583333338, 0.24999999687500007],
      [4.999999916666668, 4.999999937500001]], "float64"),
    ("mvlgamma", lambda m: m.mvlgamma(m.tensor([2.5, 3.0, 10.0]), 2),
     [0.8570478133976193, 1.5501949939575645, 25.06352584380344], "float64"),
    ("sum_to_size", lambda m: m.arange(24.0).reshape(2, 3, 4).sum_to_size(3, 1),
     [[60.0], [92.0], [124.0]], "float64"),
    ("sum_to_size_tuple", lambda m: m.arange(6.0).reshape(2, 3).sum_to_size((1, 3)),
     [[3.0, 5.0, 7.0]], "float64"),
    ("split_with_sizes", lambda m: m.arange(10.0).reshape(2, 5).split_with_sizes([2, 3], 1)[1],
     [[2.0, 3.0, 4.0], [7.0, 8.0, 9.0]], "float64"),
    ("unique_consecutive", lambda m: m.unique_consecutive(m.tensor([1, 1, 2, 2, 3, 1, 1, 2])),
     [1, 2, 3, 1, 2], "int64"),
    ("unique_consecutive_inverse", lambda m: m.tensor([[1, 1], [2, 1]]).unique_consecutive(
        return_inverse=True)[1],
     [[0, 0], [1, 2]], "int64"),
    ("unique_consecutive_counts", lambda m: m.unique_consecutive(
        m.tensor([1.0, 1.0, 2.0, 1.0]), return_counts=True)[1],
     [2, 1, 1], "int64"),
    ("unique_consecutive_dim0", lambda m: m.unique_consecutive(
        m.tensor([[1, 1], [1, 1], [2, 3], [1, 1]]), dim=0),
     [[1, 1], [2, 3], [1, 1]], "int64"),
    ("unique_consecutive_dim1_all", lambda m: m.cat(m.unique_consecutive(
        m.tensor([[1, 1, 2], [1, 1, 2]]), True, True, dim=1)[1:]),
     [0, 0, 1, 2, 1], "int64"),
    ("addcmul_of_float32_factors_into_float64",  # the product taken in float64, as PyTorch
     lambda m: m.addcmul(m.tensor([3.0]), m.tensor([0.1], dtype=m.float32),
                         m.tensor([0.3], dtype=m.float32)), [3.0300000016391277], "float64"),
    ("addcdiv_of_float32_factors_into_float64",
     lambda m: m.addcdiv(m.tensor([3.0]), m.tensor([0.1], dtype=m.float32),
                         m.tensor([0.3], dtype=m.float32)), [3.3333333250549106], "float64"),
    ("unique_consecutive_empty", lambda m: m.unique_consecutive(m.tensor([]),
                                                                 return_counts=True)[1],
     [], "int64"),
]


def _check(got: Tensor, want: list, dtype: str) -> None:
    assert str(got.dtype) == f"torch.{dtype}"
    np.testing.assert_allclose(got.numpy(), np.asarray(want, dtype=got.numpy().dtype),
                               rtol=1e-12, atol=0, equal_nan=True)
    # signed zeros too (copysign, frac, asinh)
    if got.dtype.is_floating_point:
        numbers = ~np.isnan(np.asarray(want))
        np.testing.assert_array_equal(np.signbit(got.numpy())[numbers],
                                      np.signbit(np.asarray(want))[numbers])


@pytest.mark.parametrize("name, call, want, dtype", CASES, ids=[c[0] for c in CASES])
def test_values_as_recorded_from_torch(float64_default, name, call, want, dtype):
    _check(call(engine), want, dtype)


@pytest.mark.parametrize("name, call, want, dtype", CASES, ids=[c[0] for c in CASES])
def test_values_match_torch(float64_default, name, call, want, dtype):
    torch = pytest.importorskip("torch")
    torch.set_default_dtype(torch.float64)
    try:
        expected = call(torch)
    finally:
        torch.set_default_dtype(torch.float32)
    got = call(engine)
    assert str(got.dtype) == str(expected.dtype)
    np.testing.assert_allclose(got.numpy(), expected.numpy(), rtol=1e-12, atol=0, equal_nan=True)


def test_float32_stays_float32():
    x = engine.tensor([0.5, 0.25])
    for y in (x.asinh(), x.atanh(), (x + 1).acosh(), x.frac(), x.copysign(-1),
              x.reshape(1, 2).renorm(2, 0, 0.1), engine.addcmul(x, x, x),
              x.addcdiv(x, x, value=2), engine.vdot(x, x)):
        assert y.dtype == engine.float32
    assert engine.asinh(engine.tensor([1, 2])).dtype == engine.float32


def test_copysign_gradient_is_0_at_0():
    """PyTorch's: g t / a, 0 where a is 0 (either zero), whatever b's sign."""
    a = engine.tensor([0.0, -0.0, 2.0, -3.0], requires_grad=True)
    y = engine.copysign(a, engine.tensor([-1.0, 1.0, -0.0, 0.0]))
    y.sum().backward()
    assert y.grad_fn.name() == "CopysignBackward0"
    assert a.grad.tolist() == [0.0, 0.0, -1.0, -1.0]  # recorded from torch 2.13


@pytest.mark.parametrize("call, name", [
    (lambda x, m: m.addcmul(x, x, x), "AddcmulBackward0"),
    (lambda x, m: m.addcdiv(x, x, x), "AddcdivBackward0"),
    (lambda x, m: m.addmv(x, m.ones(2, 2), x), "AddmvBackward0"),
    (lambda x, m: m.addr(m.ones(2, 2), x, x), "AddrBackward0"),
    (lambda x, m: m.addbmm(m.ones(2, 2), x.reshape(1, 2, 1), x.reshape(1, 1, 2)),
     "AddbmmBackward0"),
    (lambda x, m: m.baddbmm(m.ones(1, 2, 2), x.reshape(1, 2, 1), x.reshape(1, 1, 2)),
     "BaddbmmBackward0"),
    (lambda x, m: m.vdot(x, x), "VdotBackward0"),
    (lambda x, m: x.asinh(), "AsinhBackward0"),
    (lambda x, m: x.arccosh(), "AcoshBackward0"),
    (lambda x, m: x.atanh(), "AtanhBackward0"),
    (lambda x, m: x.frac(), "FracBackward0"),
    (lambda x, m: x.copysign(x), "CopysignBackward0"),
    (lambda x, m: x.reshape(2, 1).renorm(2, 0, 1), "RenormBackward0"),
    (lambda x, m: m.mvlgamma(x + 2, 2), "MvlgammaBackward0"),
    (lambda x, m: x.reshape(2, 1).sum_to_size(1, 1), "SumBackward1"),
])
def test_grad_fn_names_are_pytorchs(call, name):
    x = engine.tensor([0.5, 0.25], requires_grad=True)
    assert type(call(x, engine).grad_fn).__name__ == name or call(x, engine).grad_fn.name() == name


@pytest.mark.parametrize("method, args, kwargs", [
    ("addcmul_", ([1.0, 2.0], [3.0, -1.0]), {"value": 2}),
    ("addcdiv_", ([1.0, 2.0], [3.0, -1.0]), {"value": 2}),
    ("asinh_", (), {}), ("arcsinh_", (), {}), ("atanh_", (), {}), ("arctanh_", (), {}),
    ("frac_", (), {}), ("copysign_", ([-1.0, 1.0],), {}),
    ("absolute_", (), {}), ("negative_", (), {}), ("multiply_", ([2.0, 3.0],), {}),
    ("subtract_", ([2.0, 3.0],), {"alpha": 2}), ("divide_", ([2.0, 4.0],), {}),
    ("true_divide_", ([2.0, 4.0],), {}), ("arccos_", (), {}), ("arcsin_", (), {}),
    ("arctan_", (), {}), ("arctan2_", ([2.0, -1.0],), {}), ("cumsum_", (0,), {}),
    ("cumprod_", (0,), {}), ("eq_", ([0.5, 1.0],), {}), ("ne_", ([0.5, 1.0],), {}),
    ("lt_", (0.3,), {}), ("le_", (0.5,), {}), ("gt_", (0.3,), {}), ("ge_", (0.5,), {}),
    ("greater_", (0.3,), {}), ("greater_equal_", (0.5,), {}), ("less_", (0.3,), {}),
    ("less_equal_", (0.5,), {}), ("not_equal_", ([0.5, 1.0],), {}),
    ("logical_and_", ([0.0, 1.0],), {}), ("logical_or_", ([0.0, 0.0],), {}),
    ("logical_xor_", ([1.0, 1.0],), {}), ("logical_not_", (), {}),
])
def test_in_place_forms_write_the_op_into_the_tensor(method, args, kwargs):
    """Each in-place form gives the op's values in the tensor's own dtype, in the same array
    (so views see it); checked against the op and, with torch, against torch's in-place."""
    start = [0.5, -0.25]
    x = engine.tensor(start, dtype=engine.float64)
    view = x[:]
    tensors = [engine.tensor(a, dtype=engine.float64) if isinstance(a, list) else a for a in args]
    want = getattr(engine.tensor(start, dtype=engine.float64), method[:-1])(*tensors, **kwargs)
    assert getattr(x, method)(*tensors, **kwargs) is x
    assert x.dtype == engine.float64
    np.testing.assert_allclose(view.numpy(), want.numpy().astype(np.float64), rtol=1e-15)
    try:
        import torch
    except ImportError:
        return
    t = torch.tensor(start, dtype=torch.float64)
    getattr(t, method)(*[torch.tensor(a, dtype=torch.float64) if isinstance(a, list) else a
                         for a in args], **kwargs)
    np.testing.assert_allclose(x.numpy(), t.numpy(), rtol=1e-14)


def test_in_place_comparisons_keep_the_dtype_by_hand():
    x = engine.tensor([1, 2, 3])
    x.eq_(engine.tensor([1, 0, 3]))
    assert x.dtype == engine.int64 and x.tolist() == [1, 0, 1]
    y = engine.tensor([1.5, 2.0])
    y.lt_(2)
    assert y.dtype == engine.float32 and y.tolist() == [1.0, 0.0]
    b = engine.tensor([True, False])
    b.logical_not_()
    assert b.tolist() == [False, True]


def test_in_place_forms_record_the_graph():
    """addmm_, addcmul_ and atanh_ on a graph node: gradients as the out-of-place op's."""
    rng = np.random.default_rng(0)
    a, b, c = (Tensor(rng.uniform(-0.5, 0.5, s), requires_grad=True, dtype=np.float64)
               for s in ((2, 2), (2, 3), (3, 2)))
    for method, args in (("addmm_", (b, c)), ("addcmul_", (a, a)), ("atanh_", ()),
                         ("addbmm_", (b.unsqueeze(0), c.unsqueeze(0)))):
        out = a * 1
        getattr(out, method)(*args)
        grads = engine.autograd.grad(out.sum(), [a, b, c], retain_graph=True, allow_unused=True)
        fresh = getattr(a * 1, method[:-1])(*args)
        want = engine.autograd.grad(fresh.sum(), [a, b, c], retain_graph=True,
                                    allow_unused=True)
        for g, w in zip(grads, want):
            assert (g is None) == (w is None)
            if g is not None:
                np.testing.assert_allclose(g.numpy(), w.numpy(), rtol=1e-14)


def test_bitwise_in_place_and_operators():
    x = engine.tensor([12, 5])
    x &= engine.tensor([10, 4])
    x |= 1
    x ^= engine.tensor([3, 0])
    x <<= 2
    x >>= 1
    assert x.tolist() == [20, 10]  # ((12&10)|1)^3 = 10, ((5&4)|1)^0 = 5, then *4 / 2
    y = engine.tensor([0, -1], dtype=engine.int32)
    y.bitwise_not_()
    assert y.dtype == engine.int32 and y.tolist() == [-1, 0]
    g = engine.tensor([12, 18])
    g.gcd_(engine.tensor([18, 4]))
    g.lcm_(engine.tensor([4, 4]))
    assert g.tolist() == [12, 4]


@pytest.mark.parametrize("call", [
    lambda m: m.tensor([1.5]) & m.tensor([1.0]),
    lambda m: m.bitwise_or(m.tensor([1.5]), 1),
    lambda m: m.bitwise_xor(m.tensor([1]), m.tensor([1.5])),
    lambda m: m.bitwise_not(m.tensor([1.5])),
    lambda m: m.tensor([1.5]) << 1,
    lambda m: m.bitwise_right_shift(m.tensor([3.0]), 1),
    lambda m: m.gcd(m.tensor([1.5]), m.tensor([2.0])),
    lambda m: m.lcm(m.tensor([True]), m.tensor([True])),
    lambda m: m.frac(m.tensor([1, 2])),
])
def test_float_tensors_are_refused_by_int_ops(call):
    with pytest.raises(TypeError, match="int"):
        call(engine)
    try:
        import torch
    except ImportError:
        return
    with pytest.raises((NotImplementedError, RuntimeError)):  # PyTorch refuses them too
        call(torch)


@pytest.mark.parametrize("call, error, match", [
    (lambda m: m.addcdiv(m.tensor([1]), m.tensor([1]), m.tensor([2])), RuntimeError,
     "integer division"),
    (lambda m: m.addmv(m.ones(3), m.ones(2, 2), m.ones(2)), RuntimeError, "broadcast"),
    (lambda m: m.addr(m.ones(2, 3, 1), m.ones(2), m.ones(3)), RuntimeError, "broadcast"),
    (lambda m: m.ones(2, 3).sum_to_size(2), RuntimeError, "expandable"),
    (lambda m: m.ones(2, 3).sum_to_size(1, 2, 3, 1), RuntimeError, "expandable"),
    (lambda m: m.ones(2, 3).split_with_sizes([1, 2], 0), Exception, "3"),
    (lambda m: m.ones(2, 3).renorm(0, 0, 1.0), RuntimeError, "p"),
    (lambda m: m.ones(2, 3).renorm(2, 0, -1.0), RuntimeError, "maxnorm"),
    (lambda m: m.ones(2, 3, 4).fill_diagonal_(1.0), RuntimeError, "dims"),
    (lambda m: m.ones(3).fill_diagonal_(1.0), RuntimeError, "dims"),
])
def test_bad_input_is_refused(call, error, match):
    with pytest.raises(error, match=match):
        call(engine)
    try:
        import torch
    except ImportError:
        return
    with pytest.raises(Exception):  # PyTorch refuses each of them too
        call(torch)


@pytest.mark.parametrize("shape, wrap", [((3, 3), False), ((7, 3), False), ((7, 3), True),
                                         ((3, 5), True), ((2, 2, 2), False)])
def test_fill_diagonal(shape, wrap):
    x = engine.zeros(*shape)
    assert x.fill_diagonal_(2.5, wrap=wrap) is x
    want = np.zeros(shape)
    if len(shape) == 2:  # worked out by hand: (k, k), then again every N + 1 rows if wrap
        rows = [r for r in range(shape[0]) if r % (shape[1] + 1) < shape[1]] if wrap else \
            range(min(shape))
        for r in rows:
            want[r, r % (shape[1] + 1)] = 2.5
    else:
        want[0, 0, 0] = want[1, 1, 1] = 2.5
    np.testing.assert_array_equal(x.numpy(), want)
    try:
        import torch
    except ImportError:
        return
    t = torch.zeros(*shape).fill_diagonal_(2.5, wrap=wrap)
    np.testing.assert_array_equal(x.numpy(), t.numpy())


def test_fill_diagonal_in_the_graph():
    a = engine.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    out = a * 1
    out.fill_diagonal_(0.0)
    out.sum().backward()
    assert out.tolist() == [[0.0, 2.0], [3.0, 0.0]]
    assert a.grad.tolist() == [[0.0, 1.0], [1.0, 0.0]]


def test_aliases_are_the_ops():
    assert engine.arcsinh is engine.asinh
    assert engine.arccosh is engine.acosh and engine.arctanh is engine.atanh
    x = engine.tensor([3.0, -1.0])
    assert x.subtract(engine.tensor([1.0, 1.0]), alpha=2).tolist() == [1.0, -3.0]
    assert engine.subtract(x, 1.0, alpha=3).tolist() == [0.0, -4.0]
    assert x.multiply(2).tolist() == [6.0, -2.0] and x.absolute().tolist() == [3.0, 1.0]
    assert engine.multiply(2, x).tolist() == [6.0, -2.0]
    assert engine.absolute(x).tolist() == [3.0, 1.0]


def test_renorm_in_place_and_by_hand():
    x = engine.tensor([[3.0, 4.0], [0.3, 0.4]], dtype=engine.float64)
    assert x.renorm_(2, 0, 1.0) is x
    factor = 1 / (5 + 1e-7)  # the row of norm 5 scaled by maxnorm / (norm + 1e-7)
    np.testing.assert_allclose(x.numpy(), [[3 * factor, 4 * factor], [0.3, 0.4]], rtol=1e-15)
    with pytest.raises(RuntimeError, match="2 dims"):
        engine.ones(3).renorm(2, 0, 1.0)


def test_unique_consecutive_returns_as_torch():
    x = engine.tensor([[1, 1], [1, 1], [2, 3]])
    out, counts = engine.unique_consecutive(x, return_counts=True, dim=0)
    assert out.tolist() == [[1, 1], [2, 3]] and counts.tolist() == [2, 1]
    out, inverse = x.unique_consecutive(return_inverse=True, dim=1)
    assert out.tolist() == x.tolist() and inverse.tolist() == [0, 1]
    assert isinstance(x.unique_consecutive(), Tensor)
