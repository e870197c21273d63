"""engine/elementwise.py's math functions at their edges (nan, +-inf, +-0, the ends of their
domains): values and gradients against PyTorch, and against values worked out by hand so
that they are checked without it. (Their gradients at ordinary points: tests/test_tensor.py's
op table.)"""
from __future__ import annotations

import math

import numpy as np
import pytest

import engine
from engine import Tensor

INF, NAN = math.inf, math.nan
EDGES = [-INF, -2.0, -1.0, -0.5, -0.0, 0.0, 0.5, 1.0, 2.0, INF, NAN]
UNARY = ["expm1", "log2", "exp2", "tan", "sinh", "cosh", "asin", "acos", "atan", "erf"]


def _value_and_grad(f, x, *others):
    """f(x, *others) and the gradient of its sum for x and every other, as arrays."""
    inputs = [Tensor(np.asarray(v, np.float64), requires_grad=True) for v in (x, *others)]
    out = f(*inputs)
    out.backward(engine.ones_like(out))  # (not .sum(): inf - inf would warn)
    return out.numpy(), [t.grad.numpy() for t in inputs]


def _torch_value_and_grad(torch, f, x, *others):
    inputs = [torch.tensor(v, dtype=torch.float64, requires_grad=True) for v in (x, *others)]
    out = f(*inputs)
    out.backward(torch.ones_like(out))
    return out.detach().numpy(), [t.grad.numpy() for t in inputs]


@pytest.mark.parametrize("name", UNARY)
def test_unary_values_and_gradients_at_edges_match_pytorch(torch, name):
    with np.errstate(all="raise"):  # and without numpy's warnings
        got, (grad,) = _value_and_grad(getattr(engine, name), EDGES)
    want, (want_grad,) = _torch_value_and_grad(torch, getattr(torch, name), EDGES)
    np.testing.assert_allclose(got, want, rtol=1e-13, atol=1e-300)
    np.testing.assert_allclose(grad, want_grad, rtol=1e-13, atol=1e-300)
    assert (np.signbit(got) == np.signbit(want))[~np.isnan(want)].all()  # -0.0 kept


ZEROS = [0.0, -0.0, 0.0, -0.0, 1.0, -1.0, 1.0, -1.0, INF, -INF, INF, NAN, 1e-200]
OTHERS = [0.0, 0.0, -0.0, -0.0, -1.0, -1.0, 0.0, INF, INF, -INF, 1.0, 1.0, 1e-200]


def test_atan2_quadrants_signed_zeros_and_gradients_match_pytorch(torch):
    got, grads = _value_and_grad(engine.atan2, ZEROS, OTHERS)
    want, want_grads = _torch_value_and_grad(torch, torch.atan2, ZEROS, OTHERS)
    np.testing.assert_array_equal(got, want)
    assert (np.signbit(got) == np.signbit(want))[~np.isnan(want)].all()
    for grad, want_grad in zip(grads, want_grads):
        np.testing.assert_allclose(grad, want_grad, rtol=1e-15)


PI = math.pi
# hand-worked values: (function, input, value, d value / d input)
BY_HAND = [
    ("asin", 2.0, NAN, NAN), ("asin", 1.0, PI / 2, INF), ("asin", -1.0, -PI / 2, INF),
    ("asin", -0.0, -0.0, 1.0), ("acos", 1.0, 0.0, -INF), ("acos", -1.0, PI, -INF),
    ("acos", 0.0, PI / 2, -1.0), ("acos", -2.0, NAN, NAN), ("atan", INF, PI / 2, 0.0),
    ("atan", -INF, -PI / 2, 0.0), ("atan", 1.0, PI / 4, 0.5), ("tan", PI / 4, 1.0, 2.0),
    ("tan", INF, NAN, NAN), ("sinh", -0.0, -0.0, 1.0), ("cosh", -0.0, 1.0, -0.0),
    ("sinh", 1000.0, INF, INF), ("cosh", -1000.0, INF, -INF), ("expm1", -INF, -1.0, 0.0),
    ("expm1", 1e-20, 1e-20, 1.0), ("expm1", 1000.0, INF, INF), ("exp2", 10.0, 1024.0,
                                                                 1024.0 * math.log(2)),
    ("exp2", -INF, 0.0, 0.0), ("log2", 8.0, 3.0, 1 / (8 * math.log(2))),
    ("log2", 0.0, -INF, INF), ("log2", -1.0, NAN, -1 / math.log(2)), ("log2", INF, INF, 0.0),
    ("erf", 0.0, 0.0, 2 / math.sqrt(PI)), ("erf", INF, 1.0, 0.0), ("erf", -INF, -1.0, 0.0),
    ("erf", 1.0, math.erf(1.0), 2 / math.sqrt(PI) / math.e), ("erf", NAN, NAN, NAN),
]


@pytest.mark.parametrize("name, x, value, slope", BY_HAND,
                         ids=[f"{row[0]}({row[1]})" for row in BY_HAND])
def test_values_and_slopes_worked_out_by_hand(name, x, value, slope):
    got, (grad,) = _value_and_grad(getattr(engine, name), x)
    np.testing.assert_allclose(got, value, rtol=1e-15)
    assert np.signbit(got) == np.signbit(value) or math.isnan(value)
    np.testing.assert_allclose(grad, slope, rtol=1e-15)


def test_atan2_by_hand_quadrants_and_its_gradient_at_the_origin():
    got, (da, db) = _value_and_grad(engine.atan2, ZEROS[:8], OTHERS[:8])
    np.testing.assert_array_equal(got, [0.0, -0.0, PI, -PI, PI * 3 / 4, -PI * 3 / 4, PI / 2,
                                        -0.0])
    assert list(np.signbit(got[:2])) == [False, True]
    np.testing.assert_array_equal(da[:4], 0.0)  # PyTorch's 0, not 0/0, at the origin
    np.testing.assert_array_equal(db[:4], 0.0)
    np.testing.assert_allclose(da[4:6], -0.5)  # b / (a**2 + b**2) at (+-1, -1)
    np.testing.assert_allclose(db[4:6], [-0.5, 0.5])


@pytest.mark.parametrize("name", UNARY)
def test_float32_stays_float32_and_ints_become_floats(name):
    f = getattr(engine, name)
    assert f(Tensor([0.5, 1.0], dtype=engine.float32)).dtype == np.float32
    assert f(Tensor([0, 1])).dtype == np.float32  # the default float dtype, as PyTorch's


@pytest.mark.parametrize("name", [*UNARY, "atan2"])
def test_in_place_and_alias_forms(name):
    args = (Tensor([0.25, -0.5]),) if name == "atan2" else ()
    x = Tensor([0.5, -0.25])
    want = getattr(engine, name)(x, *args).numpy()
    assert getattr(x, f"{name}_")(*args) is x
    np.testing.assert_array_equal(x.numpy(), want)


def test_numpy_style_names_are_the_same_functions():
    assert engine.arcsin is engine.asin and engine.arctan2 is engine.atan2
    assert Tensor.arccos is Tensor.acos and Tensor.arctan is Tensor.atan


def test_second_derivatives_through_the_new_rules():
    x = Tensor([0.3, -0.7], requires_grad=True, dtype=engine.float64)
    for name, second in [("asin", lambda v: v / (1 - v * v) ** 1.5),
                         ("atan", lambda v: -2 * v / (1 + v * v) ** 2),
                         ("erf", lambda v: -4 * v * np.exp(-v * v) / math.sqrt(PI)),
                         ("tan", lambda v: 2 * np.tan(v) / np.cos(v) ** 2),
                         ("sinh", np.sinh), ("cosh", np.cosh)]:
        (g,) = engine.grad(getattr(engine, name)(x).sum(), x, create_graph=True)
        (h,) = engine.grad(g.sum(), x)
        np.testing.assert_allclose(h.numpy(), second(x.numpy()), rtol=1e-12, err_msg=name)


def test_square_is_a_power_of_two():
    """As PyTorch's: a bool tensor's square is int64, a uint8's stays uint8, and the grad_fn
    of a float's is PowBackward0 with the gradient 2a."""
    assert Tensor(np.array([True, False])).square().tolist() == [1, 0]
    assert Tensor(np.array([True, False])).square().dtype == np.int64
    assert Tensor(np.array([3], np.uint8)).square().dtype == np.uint8
    x = Tensor([1.5, -2.0], requires_grad=True, dtype=engine.float64)
    y = x.square()
    y.sum().backward()
    assert y.grad_fn.name() == "PowBackward0" and x.grad.tolist() == [3.0, -4.0]


def test_round_to_decimals_as_pytorchs_kernel(library):
    """x scaled by 10**decimals in its dtype, rounded half to even, scaled back; its gradient
    is 0, as every step function's."""
    x = library.tensor([1.2345, -2.5, 1234.5, 0.125, 3e38], requires_grad=True)
    y = library.round(x, decimals=2)
    y.sum().backward()
    assert y.tolist() == [1.2300000190734863, -2.5, 1234.5, 0.11999999731779099, math.inf]
    assert x.round(decimals=-2).tolist() == [0.0, -0.0, 1200.0, 0.0, 3.0000000054977558e+38]
    assert x.grad.tolist() == [0.0] * 5 and y.dtype == library.float32


def test_round_to_decimals_takes_float_tensors():
    with pytest.raises(TypeError, match=r"round\(decimals=1\) takes a float tensor"):
        engine.round(engine.tensor([15, 25]), decimals=1)
    assert engine.round(engine.tensor([15, 25])).tolist() == [15, 25]  # ints as they are
