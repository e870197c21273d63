"""engine/gamma_function.py and engine/gamma.py: lgamma against Python's math.lgamma over the
whole float range and against its Taylor series beside its zeros 1 and 2; digamma and
polygamma against closed forms, their recurrence and PyTorch's; PyTorch's values at the poles
and infinities; float32 kept; the Tensor ops' names, methods and derivatives of every order
against PyTorch's."""
from __future__ import annotations

import math
from decimal import Decimal, localcontext

import numpy as np
import pytest

import engine
from engine import Tensor
from engine.gamma_function import digamma, lgamma, polygamma

# the closed forms in decimal, far beyond float64's 17 digits: one evaluated in float64 can
# lose more digits to cancellation than the function it checks
DIGITS = 50
EULER = Decimal("0.57721566490153286060651209008240243104215933593992")
PI = Decimal("3.14159265358979323846264338327950288419716939937510")
CATALAN = Decimal("0.91596559417721901505460351493238411077414937428167")
ZETA = {2: PI ** 2 / 6, 3: Decimal("1.20205690315959428539973816151144999076498629234049"),
        4: PI ** 4 / 90, 5: Decimal("1.03692775514336992633136548645703416805708091950191"),
        6: PI ** 6 / 945, 7: Decimal("1.00834927738192282683979754984979675959986356056524"),
        8: PI ** 8 / 9450}


def _zeta(s: int) -> Decimal:
    """Riemann's zeta(s): the constants above, or for the larger s of the tests (13, 21) the
    sum of k**-s to k = 200, whose tail is below 200**(1 - s) / (s - 1) < 1e-28."""
    return ZETA[s] if s in ZETA else sum(Decimal(k) ** -s for k in range(1, 201))


def _not_whole(x: np.ndarray) -> np.ndarray:
    return x[x != np.round(x)]


def _assert_near(got: np.ndarray, want: np.ndarray, tol: float, scale: np.ndarray) -> None:
    """got within tol (|want| + scale) of want, entry by entry; inf and nan where want is."""
    with np.errstate(invalid="ignore", over="ignore"):
        same = (got == want) | (np.isnan(got) & np.isnan(want))
        far = ~same & ~(np.abs(got - want) <= tol * (np.abs(want) + scale))
    assert not far.any(), f"got {got[far][:5]}, want {want[far][:5]}"


# from tiny to near lgamma's overflow, across the poles at 0, -1, -2, ..., far to the left
X = np.concatenate([
    np.linspace(-30, 40, 70_001), np.geomspace(5e-324, 2e305, 5_000),
    -_not_whole(np.geomspace(5e-324, 4e15, 5_000)),
    np.random.default_rng(0).uniform(-300, 300, 5_000),
    1 + np.geomspace(1e-16, 0.1, 500), 1 - np.geomspace(1e-16, 0.1, 500),  # lgamma's zeros
    2 + np.geomspace(1e-16, 0.1, 500), 2 - np.geomspace(1e-16, 0.1, 500),
    [0.5, 1.5, 2.5, 9.5, 10.0, -0.5, -1e15 - 0.5, 2.55e305, 2.6e305]])


def _math_lgamma(x: float) -> float:
    """math.lgamma, with PyTorch's inf where math raises (poles, overflow)."""
    try:
        return math.lgamma(x)
    except (ValueError, OverflowError):
        return math.inf


def test_lgamma_matches_pythons():
    """To 1e-13 where |lgamma| >= 0.01; nearer its zeros, to 2e-15, the error of Python's
    own lgamma beside 1 and 2 (a Lanczos sum, not the C library's)."""
    want = np.array([_math_lgamma(x) for x in X])
    got = lgamma(X)
    away = ~(np.abs(want) < 0.01)
    np.testing.assert_allclose(got[away], want[away], rtol=1e-13)
    np.testing.assert_allclose(got[~away], want[~away], rtol=0, atol=2e-15)


def _lgamma_beside(at: int, z: Decimal) -> Decimal:
    """lgamma(at + z), at = 1 or 2, for |z| <= 1e-3, from the Taylor series (Abramowitz &
    Stegun 6.1.33): lgamma(1 + z) = -gamma z + sum over k >= 2 of (-1)**k zeta(k) z**k / k,
    and lgamma(2 + z) = lgamma(1 + z) + ln(1 + z), the same with 1 - gamma and zeta(k) - 1."""
    shift = at - 1
    return (shift - EULER) * z + sum((-1) ** k * (ZETA[k] - shift) * z ** k / k
                                     for k in range(2, 9))


def test_lgamma_is_exactly_0_at_1_and_2_and_keeps_its_digits_beside_them():
    assert lgamma([1.0, 2.0]).tolist() == [0.0, 0.0]
    z = np.geomspace(1e-300, 1e-3, 300)
    with localcontext() as context:
        context.prec = DIGITS
        for at, x in ((1, 1 + z), (1, 1 - z), (2, 2 + z), (2, 2 - z)):
            x = x[x != at]
            beside = [Decimal(v) - at for v in x]  # exact
            want = [_lgamma_beside(at, d) for d in beside]
            np.testing.assert_allclose(lgamma(x), np.array(want, dtype=float), rtol=1e-15)


def test_lgamma_far_out_is_stirlings_leading_terms():
    """x ln x - x - ln(x) / 2 + ln(2 pi) / 2 + 1 / (12 x) is exact to float64 at 1e10."""
    x = np.array([1e10, 1e15, 1e300])
    want = x * (np.log(x) - 1) - 0.5 * np.log(x) + 0.5 * math.log(2 * math.pi) + 1 / (12 * x)
    np.testing.assert_allclose(lgamma(x), want, rtol=1e-15)
    assert lgamma([1e-300])[0] == pytest.approx(-math.log(1e-300), rel=1e-15)
    assert lgamma([-1e-300])[0] == pytest.approx(-math.log(1e-300), rel=1e-15)


def _digamma_closed_forms() -> list[tuple[float, Decimal]]:
    half = -EULER - 2 * Decimal(2).ln()  # digamma(1/2)
    return ([(1.0, -EULER), (0.5, half), (0.25, -EULER - PI / 2 - 3 * Decimal(2).ln()),
             (0.75, -EULER + PI / 2 - 3 * Decimal(2).ln()), (-0.5, half + 2),
             (-1.5, half + 2 + Decimal(2) / 3), (1e-300, -1 / Decimal(1e-300) - EULER)]
            + [(k + 1.0, -EULER + sum(Decimal(1) / j for j in range(1, k + 1)))
               for k in (1, 5, 30)]
            + [(k + 0.5, half + sum(Decimal(2) / (2 * j - 1) for j in range(1, k + 1)))
               for k in (3, 40)])


def _closed_form_check(got: np.ndarray, forms: list[tuple[float, Decimal]]) -> None:
    np.testing.assert_allclose(got, np.array([float(v) for _, v in forms]), rtol=2e-15)


def test_digamma_at_its_closed_forms():
    with localcontext() as context:
        context.prec = DIGITS
        forms = _digamma_closed_forms()
    _closed_form_check(digamma(np.array([x for x, _ in forms])), forms)


def _polygamma_closed_forms(n: int) -> list[tuple[float, Decimal]]:
    """psi_n(1) = (-1)**(n + 1) n! zeta(n + 1), psi_n(1/2) = (2**(n + 1) - 1) psi_n(1), and
    from them the recurrence psi_n(x + 1) = psi_n(x) + (-1)**n n! x**-(n + 1)."""
    at_1 = (-1) ** (n + 1) * math.factorial(n) * _zeta(n + 1)
    at_half = (2 ** (n + 1) - 1) * at_1
    step = (-1) ** n * math.factorial(n)
    forms = [(1.0, at_1), (0.5, at_half), (-0.5, at_half - step * Decimal(-0.5) ** -(n + 1)),
             (6.0, at_1 + step * sum(Decimal(k) ** -(n + 1) for k in range(1, 6))),
             (-2.5, at_half - step * sum(Decimal(k - 0.5) ** -(n + 1) for k in (0, -1, -2)))]
    if n == 1:
        forms.append((0.25, PI ** 2 + 8 * CATALAN))
    return forms


@pytest.mark.parametrize("n", [1, 2, 3, 4, 12, 20])
def test_polygamma_at_its_closed_forms(n):
    with localcontext() as context:
        context.prec = DIGITS
        forms = _polygamma_closed_forms(n)
    _closed_form_check(polygamma(n, np.array([x for x, _ in forms])), forms)


@pytest.mark.parametrize("n", [0, 1, 2, 5, 12])
def test_polygamma_steps_by_its_recurrence_across_every_branch(n):
    """psi_n(x + 1) - psi_n(x) = (-1)**n n! x**-(n + 1), for x on both sides of the
    reflection at 0 and of the step up to the asymptotic series."""
    x = _not_whole(np.linspace(-25.3, 35.7, 6_001))
    step = (-1) ** n * math.factorial(n) * x ** -(n + 1.0)
    before, after = polygamma(n, x), polygamma(n, x + 1)
    _assert_near(after - before, step, 1e-14, np.abs(before) + np.abs(after))


def test_polygamma_far_out():
    x = np.array([1e10, 1e100, 1e300])
    np.testing.assert_allclose(digamma(x), np.log(x) - 0.5 / x, rtol=1e-16)
    np.testing.assert_allclose(polygamma(1, x), 1 / x + 0.5 / x / x, rtol=1e-16)
    np.testing.assert_allclose(polygamma(3, x[:1]), 2 / x[:1] ** 3, rtol=1e-9)


def test_the_kernels_keep_float32_and_give_its_nearest_value():
    x = _not_whole(X[np.abs(X) < 1e3].astype(np.float32))
    got = lgamma(x)
    assert got.dtype == np.float32
    want = np.array([_math_lgamma(float(v)) for v in x]).astype(np.float32)
    finite = np.isfinite(want)
    assert np.array_equal(np.isfinite(got), finite)
    ulps = np.abs(got[finite] - want[finite]) / np.spacing(np.abs(want[finite]))
    assert ulps.max() <= 1
    assert digamma(x).dtype == polygamma(2, x).dtype == np.float32
    assert lgamma(np.array([3, 4])).dtype == np.float64  # ints: float64


def test_polygamma_takes_n_from_0_to_170():
    np.testing.assert_array_equal(polygamma(0, [0.3, -2.7]), digamma([0.3, -2.7]))
    assert polygamma(170, [1.0])[0] == pytest.approx(-float(math.factorial(170)), rel=1e-13)
    for n in (-1, 171):
        with pytest.raises(ValueError, match="from 0 to 170"):
            polygamma(n, [1.0])


# --- against PyTorch ---

def test_lgamma_matches_pytorchs(torch):
    want = torch.lgamma(torch.from_numpy(X)).numpy()
    np.testing.assert_allclose(lgamma(X), want, rtol=1e-13, atol=1e-15)
    x32 = X[np.abs(X) < 1e38].astype(np.float32)
    got32, want32 = lgamma(x32), torch.lgamma(torch.from_numpy(x32)).numpy()
    np.testing.assert_allclose(got32, want32, rtol=1e-5, atol=1e-6)  # (torch's lgammaf)


# PyTorch's trigamma stops its asymptotic series at x**-7 after six steps up: 5e-10 off at 1.
# Its digamma and trigamma take tan and sin of pi times x's fraction towards 0 (1e-12 off
# beside the negative integers; trigamma's sin(pi x) has no digits left by x = -1e14). Its
# polygamma for n >= 2 sums zeta term by term from x (for hours at x = -1e15 - 0.5), so left
# of 0 its error is relative to the term of the nearest pole, n! / d**(n + 1) at a distance d.
TORCH_TOLERANCE = {0: 2e-12, 1: 1e-9, 2: 1e-12, 3: 1e-12, 4: 1e-12}


def _scale(n: int, x: np.ndarray) -> np.ndarray:
    """The size of psi_n about x: psi_n(x + 1), and left of 0 the nearest pole's term."""
    with np.errstate(over="ignore", divide="ignore"):
        pole = np.where(x < 0, math.factorial(n) * np.abs(x - np.round(x)) ** -(n + 1.0), 0)
        return np.abs(polygamma(n, x + 1)) + pole


@pytest.mark.parametrize("n", TORCH_TOLERANCE)
def test_polygamma_matches_pytorchs(torch, n):
    """To PyTorch's own precision, relative to the size of psi_n about x: at a zero (of
    digamma, or left of 0 of the even n's) the values and not the digits count."""
    x = _not_whole(X[(X > -1e3) & (X < 1e300)])
    want = torch.polygamma(n, torch.from_numpy(x)).numpy()
    _assert_near(polygamma(n, x), want, TORCH_TOLERANCE[n], _scale(n, x))
    x32 = _not_whole(x[np.abs(x) < 1e3].astype(np.float32))
    got32 = polygamma(n, x32)
    assert got32.dtype == np.float32
    with np.errstate(over="ignore"):  # (beyond float32: inf, as ours)
        want32 = torch.polygamma(n, torch.from_numpy(x32).double()).numpy().astype(np.float32)
    _assert_near(got32, want32, 2.4e-7, _scale(n, x32))  # (2 float32 ulps)


EDGES = [0.0, -0.0, -1.0, -2.0, -1e20, math.inf, -math.inf, math.nan, 5e-324, -5e-324,
         1e-300, -1e-300, 1e308, 3e305]


def test_lgamma_digamma_and_polygamma_give_pytorchs_values_at_poles_and_infinities(torch):
    x = np.array(EDGES)
    t = torch.from_numpy(x)
    np.testing.assert_allclose(lgamma(x), torch.lgamma(t).numpy(), rtol=1e-15)
    np.testing.assert_allclose(digamma(x), torch.digamma(t).numpy(), rtol=1e-15)
    for n in (2, 3, 4):
        np.testing.assert_allclose(polygamma(n, x), torch.polygamma(n, t).numpy(), rtol=1e-15)
    # trigamma: PyTorch's is finite at the negative integers (pi**2 / sin(pi x)**2, sin
    # rounded away from 0: 6.6e32 at -1), ours inf as at 0 and as the others
    trigamma = torch.polygamma(1, t).numpy()
    whole = (x < 0) & (x > -np.inf) & (x == np.round(x))
    np.testing.assert_allclose(polygamma(1, x[~whole]), trigamma[~whole], rtol=1e-15)
    assert (polygamma(1, x[whole]) == np.inf).all() and np.isfinite(trigamma[whole]).all()


def test_the_ops_have_pytorchs_names_and_dtypes(torch):
    data = [0.5, 2.5, -1.5]
    for call in (lambda m, a: m.lgamma(a), lambda m, a: m.digamma(a),
                 lambda m, a: m.polygamma(2, a), lambda m, a: a.lgamma(),
                 lambda m, a: a.digamma(), lambda m, a: a.polygamma(3),
                 lambda m, a: m.special.gammaln(a), lambda m, a: m.special.psi(a),
                 lambda m, a: m.special.polygamma(1, a)):
        ours = call(engine, Tensor(data, requires_grad=True))
        theirs = call(torch, torch.tensor(data, requires_grad=True, dtype=torch.float32))
        assert ours.dtype == engine.float32 and ours.grad_fn.name() == theirs.grad_fn.name()
        np.testing.assert_allclose(ours.detach().numpy(), theirs.detach().numpy(), rtol=1e-6)
    for op in (engine.lgamma, engine.digamma):  # ints make floats of the default dtype
        assert op(Tensor([3, 4])).dtype == engine.float32
    assert engine.polygamma(1, Tensor([3, 4])).dtype == engine.float32


def test_in_place_forms_and_out():
    a = Tensor([0.5, 3.0, -2.5], dtype=np.float64)
    for name, call in [("lgamma", lambda t: t.lgamma()), ("digamma", lambda t: t.digamma()),
                       ("polygamma", lambda t: t.polygamma(2))]:
        b = a.clone()
        in_place = getattr(b, f"{name}_")(*([2] if name == "polygamma" else []))
        assert in_place is b
        np.testing.assert_array_equal(b.numpy(), call(a).numpy())
    out = engine.empty(3, dtype=engine.float64)
    engine.polygamma(1, a, out=out)
    np.testing.assert_array_equal(out.numpy(), a.polygamma(1).numpy())


def test_polygamma_takes_a_whole_n_from_0():
    with pytest.raises(TypeError):
        engine.polygamma(1.5, Tensor([1.0]))
    with pytest.raises(ValueError, match="n must be a whole number"):
        engine.polygamma(-1, Tensor([1.0]))


# --- derivatives of every order, through create_graph ---

POINTS = [0.3, 1.7, 9.5, -0.4, -2.6, -7.3]


def _derivatives(grad, f, x, order):
    """f'(x), f''(x), ... up to `order`, each the gradient of the last one's sum."""
    found, y = [], f(x)
    for k in range(order):
        (y,) = grad(y.sum(), [x], create_graph=k < order - 1)
        found.append(y)
    return found


@pytest.mark.parametrize("f, torch_f", [
    pytest.param(lambda t: t.lgamma(), None, id="lgamma"),
    pytest.param(lambda t: t.digamma(), None, id="digamma"),
    pytest.param(lambda t: t.polygamma(2), None, id="polygamma_2"),
    pytest.param(lambda t: engine.polygamma(0, t), lambda t: t.polygamma(0), id="polygamma_0")])
def test_derivatives_of_every_order_are_pytorchs(torch, f, torch_f):
    """Three derivatives, through create_graph, against torch.autograd.grad's; trigamma's
    with PyTorch's trigamma tolerance (above)."""
    ours = _derivatives(engine.autograd.grad, f, Tensor(POINTS, requires_grad=True,
                                                          dtype=np.float64), 3)
    theirs = _derivatives(torch.autograd.grad, torch_f or f,
                          torch.tensor(POINTS, requires_grad=True), 3)
    for got, want in zip(ours, theirs):
        np.testing.assert_allclose(got.detach().numpy(), want.detach().numpy(), rtol=1e-9)
    assert ours[0].requires_grad and ours[1].requires_grad  # graphs, not constants


def test_derivatives_of_every_order_are_the_next_polygammas():
    """d/dx lgamma = digamma, d/dx psi_n = psi_(n+1): each derivative, taken through the
    graph of the one before, is the kernel's next function, entry by entry."""
    x = Tensor(POINTS, requires_grad=True, dtype=np.float64)
    found = _derivatives(engine.autograd.grad, lambda t: t.lgamma(), x, 4)
    for n, got in enumerate(found):
        np.testing.assert_allclose(got.detach().numpy(), polygamma(n, np.array(POINTS)),
                                   rtol=1e-15)
