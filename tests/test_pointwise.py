"""engine/pointwise.py: logaddexp, logaddexp2, hypot, fmax, fmin, nextafter, float_power,
ldexp, frexp, deg2rad, rad2deg, sgn, fix, positive, and heaviside, signbit, isneginf,
isposinf, isreal, isin. Gradients are rows of tests/tensor_op_table.py and its KINKS; here:
values at the edges against PyTorch and as recorded from torch 2.13, dtypes, errors, the
ops outside the graph, and the in-place forms."""
from __future__ import annotations

import math

import numpy as np
import pytest

import engine
from engine import Tensor

INF, NAN = math.inf, math.nan
A = [0.0, -INF, INF, INF, -INF, 1.0, NAN, 3.0, -2.0, -0.0, 1e308]
B = [0.0, -INF, INF, -INF, 2.0, 1e308, 1.0, NAN, 5.0, 0.0, 1e308]

# (name, call on a library m, float64 values torch 2.13 gives)
CASES = [
    ("logaddexp", lambda m: m.logaddexp(m.tensor(A), m.tensor(B)),
     [0.6931471805599453, -INF, INF, INF, 2.0, 1e308, NAN, NAN, 5.000911466453775,
      0.6931471805599453, 1e308]),
    ("logaddexp2", lambda m: m.logaddexp2(m.tensor(A), m.tensor(B)),
     [1.0, -INF, INF, INF, 2.0, 1e308, NAN, NAN, 5.011227255423254, 1.0, 1e308]),
    ("hypot", lambda m: m.hypot(m.tensor(A), m.tensor(B)),
     [0.0, INF, INF, INF, INF, 1e308, NAN, NAN, 5.385164807134504, 0.0, 1.4142135623730952e308]),
    ("fmax", lambda m: m.fmax(m.tensor(A), m.tensor(B)),
     [0.0, -INF, INF, INF, 2.0, 1e308, 1.0, 3.0, 5.0, 0.0, 1e308]),
    ("fmin", lambda m: m.fmin(m.tensor(A), m.tensor(B)),
     [0.0, -INF, INF, -INF, -INF, 1.0, 1.0, 3.0, -2.0, -0.0, 1e308]),
    ("nextafter", lambda m: m.nextafter(m.tensor([1.0, 0.0, -2.0, NAN, 3.0]),
                                        m.tensor([2.0, -1.0, -2.0, 0.0, INF])),
     [1.0000000000000002, -5e-324, -2.0, NAN, 3.0000000000000004]),
    ("float_power", lambda m: m.float_power(m.tensor([2.0, 0.0, -8.0]), m.tensor([3.0, 0.0, 1 / 3])),
     [8.0, 1.0, NAN]),
    ("ldexp", lambda m: m.ldexp(m.tensor([1.0, 3.0, -0.5]), m.tensor([2.5, -1.0, 1074.0])),
     [5.656854249492381, 1.5, -INF]),
    ("deg2rad", lambda m: m.deg2rad(m.tensor([180.0, -90.0, 1.0])),
     [3.141592653589793, -1.5707963267948966, 0.017453292519943295]),
    ("rad2deg", lambda m: m.rad2deg(m.tensor([math.pi, 1.0])), [180.0, 57.29577951308232]),
    ("sgn", lambda m: m.sgn(m.tensor([-2.0, 0.0, -0.0, NAN, INF])), [-1.0, 0.0, 0.0, 0.0, 1.0]),
    ("fix", lambda m: m.fix(m.tensor([-2.5, 2.5, -0.5])), [-2.0, 2.0, -0.0]),
    ("heaviside", lambda m: m.heaviside(m.tensor([NAN, 0.0, -0.0, -1.0, 2.0]), m.tensor([0.5])),
     [0.0, 0.5, 0.5, 0.0, 1.0]),
]


@pytest.mark.parametrize("make, want", [pytest.param(f, w, id=n) for n, f, w in CASES])
def test_values_at_the_edges_as_recorded_from_pytorch(float64_default, make, want):
    got = make(engine)
    np.testing.assert_array_equal(got.numpy(), want)
    assert got.dtype == engine.float64


@pytest.mark.parametrize("make, want", [pytest.param(f, w, id=n) for n, f, w in CASES])
def test_the_recorded_values_are_pytorchs(torch, make, want):
    np.testing.assert_array_equal(make(torch).numpy(), want)


def test_frexp_gives_a_named_mantissa_and_an_int32_exponent(torch):
    x = [5e-324, 1.5, -3.0, 0.0, INF, NAN]
    ours = engine.frexp(engine.tensor(x, dtype=engine.float64))
    assert type(ours).__name__ == "frexp" and ours._fields == ("mantissa", "exponent")
    np.testing.assert_array_equal(ours.mantissa.numpy(), [0.5, 0.75, -0.75, 0.0, INF, NAN])
    assert ours.exponent.tolist() == [-1073, 1, 2, 0, 0, 0]
    assert ours.exponent.dtype == engine.int32
    theirs = torch.frexp(torch.tensor(x))
    np.testing.assert_array_equal(theirs.mantissa.numpy(), ours.mantissa.numpy())
    assert theirs.exponent.tolist() == ours.exponent.tolist()
    m, e = engine.tensor([6.0], requires_grad=True).frexp()
    assert not e.requires_grad and m.grad_fn.name() == "FrexpBackward0"


def test_dtypes_follow_pytorch():
    f32, i64 = engine.tensor([1.0, 2.0]), engine.tensor([1, 2])
    assert engine.float_power(f32, 2).dtype == engine.float64  # always float64
    assert engine.float_power(i64, i64).dtype == engine.float64
    assert engine.float_power(2, f32).tolist() == [2.0, 4.0]
    assert engine.ldexp(i64, i64).dtype == engine.float32  # ints: the default float
    assert engine.ldexp(f32.half(), i64).dtype == engine.float16
    assert engine.ldexp(f32, i64.double()).dtype == engine.float64  # the two promote
    assert engine.ldexp(engine.tensor(1.0, dtype=engine.float64), f32).dtype == engine.float32
    assert engine.deg2rad(i64).dtype == engine.float32
    assert engine.rad2deg(engine.tensor([1])).tolist() == [57.295780181884766]  # float32's
    assert engine.hypot(f32, engine.tensor([1.0], dtype=engine.float64)).dtype == engine.float64
    assert engine.fmax(engine.tensor([3], dtype=engine.int32), i64).dtype == engine.int64
    assert engine.fmax(i64, engine.tensor([0, 5])).tolist() == [1, 5]
    assert engine.sgn(i64 - 2).tolist() == [-1, 0] and engine.fix(i64).dtype == engine.int64
    assert engine.nextafter(f32, engine.tensor([2.0], dtype=engine.float64)).dtype == \
        engine.float64


def test_the_tests_and_steps_give_bool_tensors_outside_the_graph():
    x = engine.tensor([-INF, -0.0, 0.0, NAN, -NAN, 2.0], requires_grad=True)
    assert engine.signbit(x).tolist() == [True, True, False, False, True, False]
    assert x.isneginf().tolist() == [True] + [False] * 5
    assert engine.isposinf(x).tolist() == [False] * 6
    assert x.isreal().tolist() == [True] * 6
    assert engine.signbit(engine.tensor([-3, 0, 2])).tolist() == [True, False, False]
    assert engine.signbit(engine.tensor([True])).tolist() == [False]
    assert engine.isneginf(engine.tensor([1, 2])).tolist() == [False, False]
    for out in (engine.signbit(x), engine.isneginf(x), x.heaviside(engine.tensor([0.5]))):
        assert not out.requires_grad


def test_isin_takes_a_number_on_either_side_and_never_finds_nan():
    x = engine.tensor([[1, 2], [3, 4]])
    assert engine.isin(x, engine.tensor([[2], [3]])).tolist() == [[False, True], [True, False]]
    assert engine.isin(x, 3, invert=True).tolist() == [[True, True], [False, True]]
    assert engine.isin(2, engine.tensor([1.0, 2.0])).tolist() is True
    assert engine.isin(engine.tensor([NAN, 1.0]), engine.tensor([NAN])).tolist() == [False, False]
    assert engine.isin(engine.tensor([1.0, 2.5]), engine.tensor([1, 2])).tolist() == [True, False]


def test_positive_is_the_tensor_itself():
    x = engine.tensor([1.0, -2.0], requires_grad=True)
    assert engine.positive(x) is x and x.positive() is x


def test_grad_fn_names_are_pytorchs():
    a, b = engine.tensor([1.0, 2.0], requires_grad=True), engine.tensor([3.0, 4.0])
    names = {"LogaddexpBackward0": a.logaddexp(b), "Logaddexp2Backward0": a.logaddexp2(b),
             "HypotBackward0": a.hypot(b), "FmaxBackward0": a.fmax(b), "FminBackward0": a.fmin(b),
             "NextafterBackward0": a.nextafter(b), "PowBackward0": a.float_power(2),
             "PowBackward1": a.float_power(b), "PowBackward2": engine.float_power(2, a),
             "LdexpBackward0": a.ldexp(b), "Deg2RadBackward0": a.deg2rad(),
             "Rad2DegBackward0": a.rad2deg(), "SgnBackward0": a.sgn(), "TruncBackward0": a.fix()}
    assert {name: t.grad_fn.name() for name, t in names.items()} == {n: n for n in names}


@pytest.mark.parametrize("make, error, message", [
    (lambda: engine.logaddexp(engine.tensor([1]), engine.tensor([2])), TypeError,
     "logaddexp takes float tensors, got int64"),
    (lambda: engine.hypot(engine.tensor([1]), 2), TypeError, "hypot takes float tensors"),
    (lambda: engine.nextafter(engine.tensor([1]), engine.tensor([2])), TypeError,
     "nextafter takes float tensors"),
    (lambda: engine.logaddexp(engine.ones(2), engine.ones(3)), ValueError, "do not broadcast"),
    (lambda: engine.frexp(engine.tensor([1])), TypeError, "frexp takes a float tensor"),
    (lambda: engine.heaviside(engine.ones(2), engine.ones(1, dtype=engine.float64)), TypeError,
     "input is float32 but values is float64"),
    (lambda: engine.heaviside(engine.ones(2), 0.5), TypeError, "values must be a Tensor"),
    (lambda: engine.positive(engine.tensor([True])), TypeError, "bool tensor"),
    (lambda: engine.isin(2, 3), TypeError, "takes a Tensor"),
    (lambda: engine.ones(2).float_power_(2), TypeError, "the base is float32 but the result is"),
])
def test_errors_name_what_was_wrong(make, error, message):
    with pytest.raises(error, match=message):
        make()


def test_in_place_forms(torch):
    for m in (engine, torch):
        x = m.tensor([1.0, 2.0])
        assert x.deg2rad_() is x and abs(x.tolist()[0] - 0.017453292519943295) < 1e-9
        y = m.tensor([-1.0, 0.0, 2.0])
        y.heaviside_(m.tensor([0.5]))
        z = m.tensor([3.0, 0.0])
        z.hypot_(m.tensor([4.0, 1.0]))
        w = m.tensor([1.5, -2.5])
        w.fix_()
        v = m.tensor([1.0, 2.0], dtype=m.float64)
        v.float_power_(m.tensor([2.0, 3.0]))
        assert (y.tolist(), z.tolist(), w.tolist(), v.tolist()) == (
            [0.0, 0.5, 1.0], [5.0, 1.0], [1.0, -2.0], [1.0, 8.0]), m.__name__


def test_an_in_place_form_records_an_operand_that_requires_grad():
    x = engine.tensor([3.0, 0.0])
    e = engine.tensor([1.0, 2.0], requires_grad=True)
    x.ldexp_(e)
    x.sum().backward()
    assert x.tolist() == [6.0, 0.0] and e.grad.tolist() == pytest.approx([6 * math.log(2), 0.0])


def test_every_gradient_matches_central_differences_at_random_points():
    rng = np.random.default_rng(5)
    a = Tensor(rng.uniform(0.5, 2, (2, 3)), requires_grad=True)
    b = Tensor(rng.uniform(-2, 2, (3,)), requires_grad=True)
    for f in (engine.logaddexp, engine.logaddexp2, engine.hypot, engine.fmax, engine.fmin,
              engine.nextafter, engine.float_power, engine.ldexp):
        assert engine.gradcheck(lambda x, y: f(x, y).sum(), [a, b])
