"""nn/activation_more.py against torch.nn's: each function's output and gradient on the same
numbers, kinks included, in float64 and float32; the modules' reprs; the seeded draws of
rrelu (training) and gumbel_softmax, bit for bit; and, without PyTorch, central
differences (engine.gradcheck), values worked out by hand or recorded from torch 2.13,
rrelu's and gumbel_softmax's randomness checked statistically, and the errors."""
from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

import engine
import nn
import nn.functional as F

# kinks of every function here: 0, +-0.5 (the shrinks' lambd), 0.25 (a threshold)
X = np.array([[-4.0, -3.0, -1.0, -0.5, 0.0, 0.25], [0.5, 1.0, 3.0, 6.0, 25.0, -7.0]])
WEIGHTS = np.arange(12.0).reshape(2, 6) % 3 + 1
# (name, the function called on a module `lib` of F: engine's nn.functional or torch's)
FUNCTIONS = [
    ("softmin", lambda F, x: F.softmin(x, 1)),
    ("softmin dim 0 dtype", lambda F, x: F.softmin(x, 0, dtype=x.dtype)),
    ("selu", lambda F, x: F.selu(x)),
    ("celu", lambda F, x: F.celu(x)),
    ("celu alpha 0.5", lambda F, x: F.celu(x, 0.5)),
    ("rrelu eval", lambda F, x: F.rrelu(x)),
    ("rrelu eval bounds", lambda F, x: F.rrelu(x, 0.1, 0.6)),
    ("threshold", lambda F, x: F.threshold(x, 0.25, -2.0)),
    ("tanhshrink", lambda F, x: F.tanhshrink(x)),
    ("softshrink", lambda F, x: F.softshrink(x)),
    ("softshrink 1", lambda F, x: F.softshrink(x, 1.0)),
    ("hardshrink", lambda F, x: F.hardshrink(x)),
    ("hardshrink 3", lambda F, x: F.hardshrink(x, 3.0)),
]
MODULES = [("Softmin", (1,)), ("Softmin", (0,)), ("SELU", ()), ("SELU", (True,)), ("CELU", ()),
           ("CELU", (0.5,)), ("RReLU", ()), ("RReLU", (0.1, 0.3)), ("Threshold", (0.25, 20.0)),
           ("Threshold", (0.25, 20.0, True)), ("Tanhshrink", ()), ("Softshrink", ()),
           ("Softshrink", (1.0,)), ("Hardshrink", ()), ("Hardshrink", (3.0,))]


def _run(lib, F, f, dtype):
    """(output, input gradient, grad_fn name) of f on X in `dtype`."""
    x = lib.tensor(X.astype(dtype), requires_grad=True)
    out = f(F, x)
    (out * lib.tensor(WEIGHTS.astype(dtype))).sum().backward()
    return out.detach().numpy(), x.grad.numpy(), out.grad_fn.name()


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("name, f", FUNCTIONS, ids=[n for n, _ in FUNCTIONS])
def test_each_function_gives_pytorchs_output_gradient_and_grad_fn(torch, name, f, dtype):
    ours, theirs = _run(engine, F, f, dtype), _run(torch, torch.nn.functional, f, dtype)
    tight = dtype == np.float64
    np.testing.assert_allclose(ours[0], theirs[0], rtol=1e-14 if tight else 1e-6,
                               atol=1e-15 if tight else 1e-7)
    # (float32: softmin's gradient of equal weights is 0 up to rounding, 2e-7 here)
    np.testing.assert_allclose(ours[1], theirs[1], rtol=1e-14 if tight else 1e-6,
                               atol=1e-15 if tight else 1e-6)
    assert ours[2] == theirs[2]
    assert ours[0].dtype == ours[1].dtype == dtype


def test_celu_gradient_is_the_true_derivative_where_pytorchs_rounds_1_over_alpha(torch):
    # PyTorch's celu backward scales by 1 / float32(alpha) even in float64: for alpha = 0.7
    # its gradient is off by ~1e-8 relative; ours is exp(x / alpha) exactly
    x = engine.tensor([-1.0, -0.3], dtype=engine.float64, requires_grad=True)
    F.celu(x, 0.7).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), np.exp(x.detach().numpy() / 0.7), rtol=1e-15)
    theirs = torch.tensor([-1.0, -0.3], requires_grad=True)
    torch.nn.functional.celu(theirs, 0.7).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), theirs.grad.numpy(), rtol=1e-7)


@pytest.mark.parametrize("name, args", MODULES, ids=[f"{n}{a}" for n, a in MODULES])
def test_each_module_is_pytorchs(torch, name, args):
    ours, theirs = getattr(nn, name)(*args), getattr(torch.nn, name)(*args)
    assert repr(ours) == repr(theirs)
    x = X.astype(np.float32)
    engine.manual_seed(0)  # (RReLU draws its slopes in training: the same ones)
    got = ours(engine.tensor(x)).numpy()  # (in-place modules write into this copy)
    torch.manual_seed(0)
    np.testing.assert_allclose(got, theirs(torch.tensor(x)).numpy(), rtol=1e-6, atol=1e-7)
    assert got.dtype == np.float32


def test_softmax2d_takes_the_channel_dim(torch):
    x = np.random.default_rng(0).normal(size=(2, 3, 4, 5))
    for shape in ((2, 3, 4, 5), (3, 4, 5)):
        np.testing.assert_allclose(
            nn.Softmax2d()(engine.tensor(x.reshape(-1)[:math.prod(shape)].reshape(shape))).numpy(),
            torch.nn.Softmax2d()(torch.tensor(x.reshape(-1)[:math.prod(shape)].reshape(shape))
                                 ).numpy(), rtol=1e-14)


# --- without PyTorch ---

SMOOTH = np.array([[-2.1, -0.7, 0.3], [1.3, 2.2, -1.6]])  # no kink of any function here


@pytest.mark.parametrize("name, f", FUNCTIONS, ids=[n for n, _ in FUNCTIONS])
def test_gradients_match_central_differences(name, f):
    x = engine.tensor(SMOOTH, requires_grad=True, dtype=engine.float64)
    assert engine.gradcheck(lambda t: f(F, t), [x])


def test_second_derivatives_match_central_differences():
    x = engine.tensor(SMOOTH, requires_grad=True, dtype=engine.float64)
    for f in (F.selu, lambda t: F.celu(t, 0.7), F.tanhshrink, lambda t: F.softmin(t, 1)):
        def first(t, f=f):
            with engine.enable_grad():  # (gradcheck evaluates f under no_grad too)
                (grad,) = engine.autograd.grad(f(t).sum(), t, create_graph=True)
            return grad
        assert engine.gradcheck(first, [x])


def test_values_worked_out_by_hand():
    x = engine.tensor([-2.0, -0.5, 0.0, 0.5, 2.0], dtype=engine.float64)
    scale, alpha = 1.0507009873554805, 1.6732632423543772
    np.testing.assert_allclose(F.selu(x).numpy(), [scale * alpha * math.expm1(-2.0),
                                                   scale * alpha * math.expm1(-0.5), 0.0,
                                                   scale * 0.5, scale * 2.0], rtol=1e-15)
    np.testing.assert_allclose(F.celu(x, 2.0).numpy(), [2 * math.expm1(-1.0),
                                                        2 * math.expm1(-0.25), 0, 0.5, 2],
                               rtol=1e-15)
    assert F.rrelu(x).tolist() == pytest.approx([-2 * 11 / 48, -0.5 * 11 / 48, 0, 0.5, 2])
    assert F.threshold(x, 0.0, 9.0).tolist() == [9.0, 9.0, 9.0, 0.5, 2.0]
    assert F.softshrink(x, 0.5).tolist() == [-1.5, 0.0, 0.0, 0.0, 1.5]
    assert F.hardshrink(x, 0.5).tolist() == [-2.0, 0.0, 0.0, 0.0, 2.0]
    assert F.tanhshrink(x).tolist() == pytest.approx([-2 + math.tanh(2), -0.5 + math.tanh(0.5),
                                                      0, 0.5 - math.tanh(0.5), 2 - math.tanh(2)])
    e = np.exp([1.0, 0.0, -1.0])
    assert F.softmin(engine.tensor([-1.0, 0.0, 1.0]), 0).tolist() == pytest.approx(e / e.sum())


def test_kinks_take_pytorchs_sides():
    x = engine.tensor([0.0, 0.5, -0.5, 0.25], dtype=engine.float64, requires_grad=True)
    (F.selu(x[:1]).sum() * 1 + F.celu(x[:1], 2.0).sum() * 10 + F.softshrink(x[1:3]).sum() * 100
     + F.hardshrink(x[1:3]).sum() * 1000 + F.threshold(x[3:], 0.25, 1.0).sum()).backward()
    # selu and celu take the exponential side at 0 (scale alpha, then 1); the shrinks and
    # threshold pass nothing at their bounds
    assert x.grad.tolist() == pytest.approx([1.0507009873554805 * 1.6732632423543772 + 10,
                                             0.0, 0.0, 0.0])


def test_grad_fn_names_are_pytorchs_as_recorded_from_it():
    x = engine.tensor(SMOOTH, requires_grad=True)
    names = {"SoftmaxBackward0": F.softmin(x, 1), "EluBackward0": F.selu(x),
             "CeluBackward0": F.celu(x), "RreluWithNoiseBackward0": F.rrelu(x),
             "ThresholdBackward0": F.threshold(x, 0.1, 2.0), "SubBackward0": F.tanhshrink(x),
             "SoftshrinkBackward0": F.softshrink(x), "HardshrinkBackward0": F.hardshrink(x),
             "AddBackward0": F.gumbel_softmax(x, hard=True)}
    for name, out in names.items():
        assert out.grad_fn.name() == name
    assert F.rrelu(x, training=True).grad_fn.name() == "RreluWithNoiseBackward0"


def test_float32_stays_float32():
    x = engine.tensor(SMOOTH.astype(np.float32), requires_grad=True)
    for f in (F.selu, F.celu, F.rrelu, F.tanhshrink, F.softshrink, F.hardshrink,
              lambda t: F.softmin(t, 1), lambda t: F.threshold(t, 0.0, 1.0),
              lambda t: F.rrelu(t, training=True), F.gumbel_softmax):
        out = f(x)
        out.sum().backward()
        assert out.dtype == x.grad.dtype == engine.float32


def test_inplace_forms_write_into_the_input_and_keep_the_graph():
    leaf = engine.tensor([-1.0, 2.0], requires_grad=True)
    for f, slope in ((F.selu_, 1.0507009873554805 * 1.6732632423543772 * math.exp(-1)),
                     (lambda t: F.celu_(t, 2.0), math.exp(-0.5)),
                     (lambda t: F.threshold_(t, 0.0, 5.0), 0.0),
                     (F.rrelu_, 11 / 48)):
        leaf.grad = None
        x = leaf * 1
        out = f(x)
        assert out is x
        out.sum().backward()
        assert leaf.grad.tolist() == pytest.approx([slope, 1.0 if f is not F.selu_ else
                                                    1.0507009873554805], rel=1e-6)
    x = engine.tensor([-1.0, 3.0])
    assert nn.Threshold(0.0, 7.0, inplace=True)(x) is x and x.tolist() == [7.0, 3.0]


# --- rrelu in training and gumbel_softmax: seeded, PyTorch's numbers ---

@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_rrelu_training_draws_pytorchs_slopes_bit_for_bit(torch, dtype):
    x = np.random.default_rng(1).normal(size=(5, 7)).astype(dtype)
    results = []
    for lib in (engine, torch):
        lib.manual_seed(4)
        t = lib.tensor(x, requires_grad=True)
        out = (F if lib is engine else torch.nn.functional).rrelu(t, 0.1, 0.4, training=True)
        out.sum().backward()
        results.append((out.detach().numpy(), t.grad.numpy(),
                        lib.rand(3, dtype=lib.float32).numpy()))
    for ours, theirs in zip(*results):  # outputs, gradients, and the generator after
        np.testing.assert_array_equal(ours, theirs)


def test_rrelu_training_as_recorded_from_pytorch():
    engine.manual_seed(0)
    assert F.rrelu(-engine.ones(6), training=True).tolist() == [
        -0.3270943760871887, -0.27246248722076416, -0.22070477902889252,
        -0.31682243943214417, -0.259380042552948, -0.2898224890232086]
    engine.manual_seed(0)
    assert F.rrelu(-engine.ones(3, dtype=engine.float64), training=True).tolist() == [
        -0.3270943753763652, -0.2724624717499558, -0.22070477981821893]


def test_rrelu_training_slopes_are_uniform_and_are_the_gradient():
    engine.manual_seed(7)
    x = engine.tensor(np.r_[-np.ones(20000), np.ones(10)], dtype=engine.float64,
                      requires_grad=True)
    out = nn.RReLU(0.2, 0.5)(x)
    out.sum().backward()
    slopes = -out.detach().numpy()[:20000]
    assert slopes.min() >= 0.2 and slopes.max() < 0.5
    assert out.tolist()[20000:] == [1.0] * 10
    assert abs(slopes.mean() - 0.35) < 0.003 and abs(slopes.var() - 0.3 ** 2 / 12) < 0.0005
    assert np.array_equal(x.grad.numpy(), np.r_[slopes, np.ones(10)])
    layer = nn.RReLU(0.2, 0.5).eval()
    assert layer(engine.tensor([-1.0])).tolist() == [pytest.approx(-0.35)]  # eval: fixed


@pytest.mark.parametrize("hard, dim", [(False, -1), (True, -1), (True, 0)])
def test_gumbel_softmax_is_pytorchs_bit_for_bit_noise_included(torch, hard, dim):
    x = np.random.default_rng(1).normal(size=(5, 7))
    w = np.random.default_rng(2).random((5, 7))
    results = []
    for lib in (engine, torch):
        lib.manual_seed(4)
        t = lib.tensor(x, requires_grad=True)
        out = (F if lib is engine else torch.nn.functional).gumbel_softmax(t, 0.5, hard, dim=dim)
        (out * lib.tensor(w)).sum().backward()
        results.append((out.detach().numpy(), t.grad.numpy()))
    np.testing.assert_allclose(results[0][0], results[1][0], rtol=1e-14, atol=1e-16)
    np.testing.assert_allclose(results[0][1], results[1][1], rtol=1e-13, atol=1e-16)


def test_gumbel_softmax_as_recorded_from_pytorch():
    engine.manual_seed(0)
    out = F.gumbel_softmax(engine.tensor([[0.0, 1.0, 2.0]]), tau=1)
    np.testing.assert_allclose(out.numpy(), [[0.01964656636118889, 0.1522790491580963,
                                              0.8280743956565857]], rtol=1e-6)
    engine.manual_seed(0)
    assert F.gumbel_softmax(engine.tensor([[0.0, 1.0, 2.0], [2.0, 1.0, 0.0]]),
                            hard=True).tolist() == [[0.0, 0.0, 1.0], [1.0, 0.0, 0.0]]


def test_gumbel_max_samples_the_softmax_and_hard_passes_the_soft_gradient():
    logits = engine.tensor([[0.5, -1.0, 1.5, 0.0]] * 20000, dtype=engine.float64)
    engine.manual_seed(3)
    picks = F.gumbel_softmax(logits, tau=0.5, hard=True)
    assert set(np.unique(picks.numpy())) == {0.0, 1.0} and picks.sum(1).tolist() == [1.0] * 20000
    p = np.exp([0.5, -1.0, 1.5, 0.0])
    np.testing.assert_allclose(picks.numpy().mean(0), p / p.sum(), atol=0.01)  # Gumbel-max
    x = engine.tensor([[0.5, -1.0, 1.5, 0.0]], dtype=engine.float64, requires_grad=True)
    w = engine.tensor([[1.0, 2.0, 3.0, 4.0]], dtype=engine.float64)
    grads = []
    for hard in (False, True):
        x.grad = None
        engine.manual_seed(5)
        (F.gumbel_softmax(x, 0.7, hard) * w).sum().backward()
        grads.append(x.grad.numpy())
    np.testing.assert_allclose(grads[0], grads[1], rtol=1e-15)  # straight through


# --- errors ---

def test_bad_arguments_raise_clear_errors():
    x = engine.tensor(SMOOTH)
    with pytest.raises(RuntimeError, match="alpha cannot be 0"):
        F.celu(x, 0.0)
    with pytest.raises(RuntimeError, match="lambda must be at least 0"):
        F.softshrink(x, -1.0)
    with pytest.raises(RuntimeError, match="lower bound .* less than or equal to the upper"):
        F.rrelu(x, 0.5, 0.1)
    with pytest.raises(ValueError, match="Softmax2d: expected input to be 3D or 4D, got 2D"):
        nn.Softmax2d()(x)
    with pytest.warns(UserWarning, match="implicit dimension choice for softmin"):
        F.softmin(x)
    with pytest.warns(UserWarning, match="`eps` parameter is deprecated"):
        F.gumbel_softmax(x, eps=1e-5)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        F.softmin(x, 1)
