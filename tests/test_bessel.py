"""engine/bessel.py: i0, i0e, i1 and i1e against their power series (and, far out, their
asymptotic series), their gradients by central differences, the limits PyTorch takes at 0,
and (when installed) PyTorch's values to the ulp and its gradients."""
from __future__ import annotations

import math

import numpy as np
import pytest

import engine
from engine import Tensor

NAMES = ["i0", "i0e", "i1", "i1e"]
POINTS = np.array([0.0, 1e-20, 0.3, -1.7, 4.0, -7.99, 8.0, 8.01, -12.5, 20.0, -29.0])


def _series(x: float, order: int) -> float:
    """I_order(x) = sum_k (x/2)**(2k + order) / (k! (k + order)!), its terms all of x's sign."""
    terms = [(x / 2) ** order / math.factorial(order)]
    for k in range(1, 120):
        terms.append(terms[-1] * (x / 2) ** 2 / (k * (k + order)))
    return math.fsum(terms)


def _oracle(name: str, x: float) -> float:
    value = _series(x, int(name[1]))
    return value * math.exp(-abs(x)) if name.endswith("e") else value


@pytest.mark.parametrize("name", NAMES)
def test_values_are_the_power_series(name):
    got = getattr(engine.special, name)(Tensor(POINTS)).numpy()
    want = [_oracle(name, x) for x in POINTS]
    np.testing.assert_allclose(got, want, rtol=4e-15, atol=0)


@pytest.mark.parametrize("x", [50.0, 300.0, -1000.0])
def test_scaled_values_far_out_are_the_asymptotic_series(x):
    """exp(-x) I_n(x) ~ (1 - (m - 1)/(8x) + (m - 1)(m - 9)/(2! (8x)**2) - ...) / sqrt(2 pi x),
    m = 4 n**2 (Abramowitz & Stegun 9.7.1), odd in x for n = 1."""
    for order, name in [(0, "i0e"), (1, "i1e")]:
        m, term, total = 4 * order ** 2, 1.0, 1.0
        for k in range(1, 12):
            term *= -(m - (2 * k - 1) ** 2) / (k * 8 * abs(x))
            total += term
        want = total / math.sqrt(2 * math.pi * abs(x)) * (math.copysign(1, x) if order else 1)
        got = getattr(engine.special, name)(Tensor([x], dtype=engine.float64)).item()
        assert got == pytest.approx(want, rel=2e-15)


def test_edges_infinities_and_nan():
    """As PyTorch 2.13 (recorded): its i0 and i1 are nan at +-inf (exp(inf) / sqrt(inf)),
    where the scaled forms are 0; exp(800) overflows to inf."""
    x = Tensor([math.inf, -math.inf, math.nan, 800.0, -800.0], dtype=engine.float64)
    for name in NAMES:
        got = getattr(engine.special, name)(x).tolist()
        assert math.isnan(got[2])
        if name.endswith("e"):
            assert got[:2] == [0.0, 0.0] and 0.0140 < abs(got[3]) < 0.0142
        else:
            assert math.isnan(got[0]) and math.isnan(got[1]) and got[3] == math.inf
    assert engine.special.i1(x)[4].item() == -math.inf
    assert engine.i0(Tensor([0.0], dtype=engine.float64)).item() == 1.0
    assert engine.i0(Tensor([0.0])).item() == 1 - 2 ** -24  # PyTorch's float32 sum's, recorded
    assert engine.special.i1(Tensor([-0.0])).item() == 0


@pytest.mark.parametrize("name", NAMES)
def test_gradients_match_central_differences(name):
    x = Tensor(POINTS[2:], requires_grad=True)  # (away from 0, where the rule takes limits)
    assert engine.gradcheck(getattr(engine.special, name), [x])


@pytest.mark.parametrize("name", NAMES)
def test_second_derivatives_match_central_differences_of_the_first(name):
    f = getattr(engine.special, name)
    x = Tensor(POINTS[2:], requires_grad=True)
    g, = engine.autograd.grad(f(x).sum(), x, create_graph=True)
    second, = engine.autograd.grad(g.sum(), x)

    def first(at: np.ndarray) -> np.ndarray:
        t = Tensor(at, requires_grad=True)
        return engine.autograd.grad(f(t).sum(), t)[0].numpy()
    eps = 1e-6
    want = (first(POINTS[2:] + eps) - first(POINTS[2:] - eps)) / (2 * eps)
    np.testing.assert_allclose(second.numpy(), want, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("name, slope", [("i0", 0.0), ("i0e", 0.0), ("i1", 0.5), ("i1e", 0.5)])
def test_the_slope_at_zero_is_the_limit(name, slope):
    x = Tensor([0.0, -0.0, 1e-300], requires_grad=True)
    getattr(engine.special, name)(x).sum().backward()
    assert x.grad.tolist() == [slope] * 3


def test_names_dtypes_and_in_place_form():
    assert engine.i0 is engine.special.i0 or engine.i0.__wrapped__ is engine.special.i0
    assert engine.i0(Tensor([1, 2])).dtype == engine.float32  # ints compute in float32
    assert engine.special.i1(Tensor(np.ones(2, np.float16))).dtype == engine.float16
    x = Tensor([1.0, 2.0])
    assert x.i0_() is x and np.allclose(x.numpy(), [_oracle("i0", 1), _oracle("i0", 2)])
    out = engine.zeros(2)
    assert engine.i0(Tensor([1.0, 2.0]), out=out) is out and np.allclose(out.numpy(), x.numpy())


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name", NAMES)
def test_values_match_pytorch_to_the_ulp(torch, name, dtype):
    rng = np.random.default_rng(0)
    x = np.concatenate([rng.uniform(-30, 30, 20000), rng.uniform(-9, 9, 20000),
                        POINTS]).astype(dtype)
    got = getattr(engine.special, name)(Tensor(x)).numpy()
    want = getattr(torch.special, name)(torch.tensor(x)).numpy()
    assert got.dtype == want.dtype
    ulps = np.abs(got - want) / np.spacing(np.abs(want))
    # float32: PyTorch's to the bit but at about 1 point in 2000; float64 within 2e-15
    assert ulps.max() <= (5 if dtype == "float32" else 20)
    if dtype == "float32":
        assert np.mean(ulps == 0) > 0.999


@pytest.mark.parametrize("name", NAMES)
def test_gradients_and_grad_fn_match_pytorch(torch, name):
    results = []
    for m in (engine, torch):
        x = m.tensor(np.append(POINTS, [0.0, -0.0]), requires_grad=True)
        y = getattr(m.special, name)(x)
        g, = m.autograd.grad(y.sum(), x, create_graph=True)
        second, = m.autograd.grad(g.sum(), x)
        results.append((g.detach().numpy(), second.numpy(), y.grad_fn.name()))
    assert results[0][2] == results[1][2]
    np.testing.assert_allclose(results[0][0], results[1][0], rtol=1e-13, atol=1e-300)
    np.testing.assert_allclose(results[0][1], results[1][1], rtol=1e-12, atol=1e-300)
