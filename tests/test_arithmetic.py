"""engine/arithmetic.py: PyTorch's arithmetic by name, at the edges the op table's random
draws never meet: signs of remainder and fmod, division by 0, ints, nan and inf, the
rounding modes; against PyTorch, and against values worked out by hand without it."""
from __future__ import annotations

import math
import operator

import numpy as np
import pytest

import engine
from engine import Tensor

INF, NAN = math.inf, math.nan
A = [7.5, -7.5, 7.5, -7.5, 1.0, 0.5, -0.0, INF, NAN, 3.0, 1.0]
B = [2.0, 2.0, -2.0, -2.0, 0.1, 0.0, 2.0, 2.0, 1.0, INF, -INF]
FUNCTIONS = {
    "remainder": lambda m, a, b: m.remainder(a, b),
    "fmod": lambda m, a, b: m.fmod(a, b),
    "floor_divide": lambda m, a, b: m.floor_divide(a, b),
    "div_trunc": lambda m, a, b: m.div(a, b, rounding_mode="trunc"),
    "div_floor": lambda m, a, b: m.div(a, b, rounding_mode="floor"),
    "percent": lambda m, a, b: a % b,
    "floordiv": lambda m, a, b: a // b,
}


def _run(module, f, a, b, **tensor_kwargs):
    x = module.tensor(a, **tensor_kwargs)
    y = module.tensor(b, **tensor_kwargs)
    return f(module, x, y)


@pytest.mark.parametrize("name", FUNCTIONS)
def test_float_edges_match_pytorch_values_and_gradients(torch, name):
    f = FUNCTIONS[name]
    ours = [Tensor(np.array(v), requires_grad=True) for v in (A, B)]
    theirs = [torch.tensor(v, requires_grad=True) for v in (A, B)]
    got, want = f(engine, *ours), f(torch, *theirs)
    np.testing.assert_array_equal(got.detach().numpy(), want.detach().numpy())
    signs = np.signbit(got.detach().numpy()) == np.signbit(want.detach().numpy())
    assert signs[~np.isnan(want.detach().numpy())].all()  # -0.0 kept
    if name == "floor_divide" or name == "floordiv":
        return  # PyTorch has no derivative for floor_divide; ours is div_floor's 0
    got.backward(engine.ones_like(got))
    want.backward(torch.ones_like(want))
    for o, t in zip(ours, theirs):
        np.testing.assert_array_equal(o.grad.numpy(), t.grad.numpy())


IA, IB = [7, -7, 7, -7, 6, 0], [2, 2, -2, -2, 3, 5]


@pytest.mark.parametrize("name", FUNCTIONS)
def test_int_results_match_pytorch_and_keep_the_dtype(torch, name):
    got = _run(engine, FUNCTIONS[name], IA, IB)
    want = _run(torch, FUNCTIONS[name], IA, IB)
    assert got.dtype == np.int64 and want.dtype == torch.int64
    np.testing.assert_array_equal(got.numpy(), want.numpy())


def test_signs_and_rounding_worked_out_by_hand():
    a, b = Tensor(IA), Tensor(IB)
    assert engine.remainder(a, b).tolist() == [1, 1, -1, -1, 0, 0]  # b's sign
    assert engine.fmod(a, b).tolist() == [1, -1, 1, -1, 0, 0]  # a's sign
    assert engine.div(a, b, rounding_mode="trunc").tolist() == [3, -3, -3, 3, 2, 0]
    assert engine.div(a, b, rounding_mode="floor").tolist() == [3, -4, -4, 3, 2, 0]
    assert (a // b).tolist() == [3, -4, -4, 3, 2, 0] and (a % b).tolist() == [1, 1, -1, -1, 0, 0]
    assert (7 // Tensor([2, -2])).tolist() == [3, -4] and (7 % Tensor([2, -2])).tolist() == [1, -1]
    assert engine.floor_divide(Tensor(1.0), 0.1).item() == 9.0  # as Python's 1 // 0.1
    assert engine.div(a, b).dtype == np.float32  # true division makes floats


def test_gradients_worked_out_by_hand():
    a = Tensor([7.5, -7.5, 0.5], requires_grad=True)
    b = Tensor([2.0, 2.0, 0.0], requires_grad=True)
    engine.remainder(a, b).sum().backward()
    assert a.grad.tolist() == [1.0, 1.0, 1.0]
    assert b.grad.tolist() == [-3.0, 4.0, -INF]  # -floor(a / b)
    a.grad = b.grad = None
    engine.fmod(a, b).sum().backward()
    assert b.grad.tolist() == [-3.0, 3.0, -INF]  # -trunc(a / b)
    a.grad = b.grad = None
    engine.div(a, b, rounding_mode="floor").sum().backward()
    assert a.grad.tolist() == [0.0] * 3 and b.grad.tolist() == [0.0] * 3


def test_integer_division_by_zero_is_an_error_naming_the_op():
    """PyTorch raises RuntimeError, Python ZeroDivisionError: the error is both."""
    for f in (engine.remainder, engine.fmod, engine.floor_divide, operator.floordiv,
              operator.mod, lambda a, b: engine.div(a, b, rounding_mode="trunc")):
        for caught in (RuntimeError, ZeroDivisionError):
            with pytest.raises(caught, match="division by zero"):
                f(Tensor([1, 2]), Tensor([1, 0]))
    with pytest.raises(ValueError, match="rounding_mode must be None, 'trunc' or 'floor'"):
        engine.div(Tensor([1.0]), 2, rounding_mode="round")


def test_nan_to_num_values_and_gradient_by_hand():
    x = Tensor([1.0, NAN, INF, -INF], requires_grad=True)
    y = engine.nan_to_num(x)
    big = float(np.finfo(np.float32).max)
    assert y.tolist() == [1.0, 0.0, big, -big]
    y.sum().backward()
    assert x.grad.tolist() == [1.0, 0.0, 0.0, 0.0]  # only where x was finite
    assert x.nan_to_num(nan=-1.0, posinf=5.0, neginf=-5.0).tolist() == [1.0, -1.0, 5.0, -5.0]
    assert engine.nan_to_num(Tensor([1, 2])).tolist() == [1, 2]
    z = Tensor([NAN, 2.0])
    assert z.nan_to_num_(3.0) is z and z.tolist() == [3.0, 2.0]


def test_nan_to_num_matches_pytorch(torch):
    x = [1.0, NAN, INF, -INF, -0.0]
    for kwargs in ({}, {"nan": 2.0, "posinf": 1e30}, {"neginf": -3.0}):
        got = engine.nan_to_num(Tensor(x, dtype=engine.float32), **kwargs)
        want = torch.nan_to_num(torch.tensor(x, dtype=torch.float32), **kwargs)
        np.testing.assert_array_equal(got.numpy(), want.numpy())


def test_logical_functions_give_bools_and_take_any_dtype(torch):
    a, b = [0, 1, 2, 0], [0.0, 0.0, -1.5, NAN]
    for name in ("logical_and", "logical_or", "logical_xor"):
        got = getattr(engine, name)(Tensor(a), Tensor(b))
        want = getattr(torch, name)(torch.tensor(a), torch.tensor(b))
        assert got.dtype == np.bool_
        assert got.tolist() == want.tolist()
    assert engine.logical_not(Tensor(b)).tolist() == torch.logical_not(torch.tensor(b)).tolist()


def test_logical_functions_by_hand():
    a, b = Tensor([0, 1, 2, 0]), Tensor([0.0, 0.0, -1.5, NAN])  # nan is nonzero: True
    assert engine.logical_and(a, b).tolist() == [False, False, True, False]
    assert engine.logical_or(a, b).tolist() == [False, True, True, True]
    assert a.logical_xor(b).tolist() == [False, True, False, True]
    assert engine.logical_not(a).tolist() == [True, False, False, True]


def test_the_operators_by_their_names():
    x = Tensor([1.0, 2.0], requires_grad=True)
    assert engine.add(x, 1, alpha=2).tolist() == [3.0, 4.0]
    assert engine.sub(x, Tensor([1.0, 1.0]), alpha=3).tolist() == [-2.0, -1.0]
    assert engine.mul(2, x).tolist() == [2.0, 4.0] and engine.pow(2, x).tolist() == [2.0, 4.0]
    assert engine.pow(x, 2).tolist() == [1.0, 4.0]
    assert engine.true_divide(x, 4).tolist() == [0.25, 0.5] and engine.divide is engine.div
    assert engine.matmul(x, x).item() == 5.0
    c, d = engine.clone(x), engine.detach(x)
    assert c.requires_grad and not d.requires_grad and np.shares_memory(d.numpy(), x.numpy())


def test_rsub_is_sub_with_its_operands_swapped(library):
    x = library.tensor([1.0, 2.0])
    assert library.rsub(x, 5, alpha=2).tolist() == [3.0, 1.0]  # 5 - 2 x
    assert library.rsub(x, library.tensor([3.0, 3.0])).tolist() == [2.0, 1.0]


def test_floor_division_and_remainder_assignments_change_the_tensor_in_place(library):
    """a //= 2 and a %= 2 write into a (Python rebound the name to a new tensor: aliases,
    views and parameters kept their numbers)."""
    b = library.tensor([5.0, 3.0])
    a = b
    a //= 2
    c = library.tensor([5.0, 3.0])
    d = c
    d %= 2
    base = library.tensor([7, 9])
    view = base[0]
    view //= 2
    assert (b.tolist(), c.tolist(), base.tolist()) == ([2.0, 1.0], [1.0, 1.0], [3, 9])


def test_an_int_tensor_to_a_negative_number_power_is_refused_in_any_int_dtype(library):
    """(uint8 ** -1 cast -1 to 255 first, and gave 2 ** 255 wrapped, as numbers.)"""
    for dtype in (library.uint8, library.int32, library.int64):
        with pytest.raises(RuntimeError, match="Integers to negative integer powers"):
            library.tensor([2, 3], dtype=dtype) ** -1
