"""nn/pooling.py: the 1-D pools and the adaptive pools (2-D and 3-D too) against windows
worked out by hand, central differences and PyTorch (values, gradients, where ties send
them, indices, grad_fn names, float32), the modules' printouts, and clear errors."""
from __future__ import annotations

import numpy as np
import pytest

import engine
import nn
import nn.functional as F
from engine import Tensor

POOLS = [  # function name, arguments after the input, input shape
    ("avg_pool1d", (3,), (2, 3, 9)),
    ("avg_pool1d", (3, 2, 1), (2, 3, 8)),
    ("avg_pool1d", (3, 2, 1, True, False), (2, 3, 8)),  # ceil_mode, padding not counted
    ("avg_pool1d", (2, 1), (3, 7)),  # unbatched
    ("max_pool1d", (2,), (2, 3, 9)),
    ("max_pool1d", (3, 2, 1, 2), (2, 3, 9)),  # dilation
    ("max_pool1d", (3, 2, 1, 1, True), (2, 3, 8)),  # ceil_mode
    ("max_pool1d", (2, 1), (3, 6)),  # unbatched
    ("adaptive_avg_pool1d", (3,), (2, 3, 7)),  # windows of different sizes that overlap
    ("adaptive_avg_pool1d", (7,), (2, 3, 5)),  # more outputs than inputs
    ("adaptive_avg_pool1d", (1,), (3, 6)),
    ("adaptive_max_pool1d", (3,), (2, 3, 7)),
    ("adaptive_max_pool1d", (4,), (3, 10)),
    ("adaptive_max_pool2d", ((3, 5),), (2, 3, 7, 9)),
    ("adaptive_max_pool2d", ((4, None),), (3, 7, 9)),  # None keeps the width
    ("adaptive_max_pool2d", (5,), (2, 2, 3, 4)),
    ("adaptive_max_pool2d", (1,), (2, 2, 3, 4)),
    ("adaptive_max_pool3d", ((2, 3, 2),), (2, 2, 3, 7, 5)),
    ("adaptive_max_pool3d", ((None, 2, 4),), (2, 3, 5, 6)),  # unbatched; None keeps the depth
    ("adaptive_max_pool3d", (1,), (1, 2, 2, 3, 4)),
]
IDS = [f"{name}-{i}" for i, (name, _, _) in enumerate(POOLS)]


def _input(shape, ties, seed=0):
    x = np.random.default_rng(seed).standard_normal(shape)
    return np.round(x) if ties else x


@pytest.mark.parametrize("name, args, shape", POOLS, ids=IDS)
def test_gradients_match_central_differences(name, args, shape):
    x = Tensor(_input(shape, False), requires_grad=True)
    assert engine.gradcheck(lambda x: getattr(F, name)(x, *args), (x,))


@pytest.mark.parametrize("ties", [False, True])
@pytest.mark.parametrize("name, args, shape", POOLS, ids=IDS)
def test_values_gradients_and_grad_fn_match_pytorch(torch, name, args, shape, ties):
    """Ties (entries rounded to few values) send a max pool's gradient to PyTorch's pick."""
    x = _input(shape, ties)
    ours, theirs = Tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    out = getattr(F, name)(ours, *args)
    want = getattr(torch.nn.functional, name)(theirs, *args)
    np.testing.assert_allclose(out.numpy(), want.detach().numpy(), rtol=1e-12, atol=1e-15)
    assert out.grad_fn.name() == want.grad_fn.name()
    g = np.random.default_rng(1).standard_normal(want.shape)
    out.backward(Tensor(g))
    want.backward(torch.tensor(g))
    np.testing.assert_allclose(np.asarray(ours.grad), theirs.grad.numpy(), rtol=1e-12,
                               atol=1e-15)


@pytest.mark.parametrize("name, args, shape", [p for p in POOLS if "max" in p[0]],
                         ids=[i for i, p in zip(IDS, POOLS) if "max" in p[0]])
def test_max_pools_return_pytorchs_indices(torch, name, args, shape):
    x = _input(shape, True)
    out, index = getattr(F, name)(Tensor(x), *args, return_indices=True)
    want, their_index = getattr(torch.nn.functional, name)(torch.tensor(x), *args,
                                                           return_indices=True)
    assert index.dtype == engine.int64
    np.testing.assert_array_equal(index.numpy(), their_index.numpy())
    np.testing.assert_array_equal(out.numpy(), want.numpy())


def test_adaptive_windows_by_hand():
    """5 entries pooled to 3: windows [0, 2), [1, 4), [3, 5), PyTorch's floor and ceil of
    i * 5 / 3 and (i + 1) * 5 / 3; the middle one is the widest."""
    x = Tensor(np.array([[[1.0, 2.0, 4.0, 8.0, 16.0]]]), requires_grad=True)
    np.testing.assert_allclose(F.adaptive_avg_pool1d(x, 3).numpy(), [[[1.5, 14 / 3, 12.0]]])
    out, index = F.adaptive_max_pool1d(x, 3, return_indices=True)
    assert out.tolist() == [[[2.0, 8.0, 16.0]]] and index.tolist() == [[[1, 3, 4]]]
    F.adaptive_avg_pool1d(x, 3).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [[[0.5, 0.5 + 1 / 3, 1 / 3, 1 / 3 + 0.5, 0.5]]])
    image = Tensor(np.arange(12.0).reshape(1, 1, 3, 4))
    out, index = F.adaptive_max_pool2d(image, (2, 3), return_indices=True)
    # rows [0, 2), [1, 3); columns [0, 2), [1, 3), [2, 4): each window's bottom right
    assert out.tolist() == [[[[5.0, 6.0, 7.0], [9.0, 10.0, 11.0]]]]
    assert index.tolist() == [[[[5, 6, 7], [9, 10, 11]]]]


def test_one_d_pools_by_hand():
    x = Tensor(np.array([[1.0, 3.0, 2.0, 5.0, 4.0]]), requires_grad=True)  # unbatched (C, L)
    assert F.max_pool1d(x, 2).tolist() == [[3.0, 5.0]]
    out, index = F.max_pool1d(x, 3, 2, 1, return_indices=True)
    assert out.tolist() == [[3.0, 5.0, 5.0]] and index.tolist() == [[1, 3, 3]]
    out.sum().backward()
    assert x.grad.tolist() == [[0.0, 1.0, 0.0, 2.0, 0.0]]
    np.testing.assert_allclose(F.avg_pool1d(x, 3, 2, 1).numpy(), [[4 / 3, 10 / 3, 3.0]])
    np.testing.assert_allclose(F.avg_pool1d(x, 3, 2, 1, count_include_pad=False).numpy(),
                               [[2.0, 10 / 3, 4.5]])


def test_ceil_mode_fits_a_kernel_wider_than_the_input_once():
    """As PyTorch: the one window starts inside the input and takes what it covers."""
    x = Tensor(np.array([[1.0, 2.0, 3.0, 4.0]]), requires_grad=True)
    out = F.max_pool1d(x, 3, 2, 0, 2, ceil_mode=True)  # taps 0, 2 (and 4, past the end)
    assert out.tolist() == [[3.0]]
    out.sum().backward()
    assert x.grad.tolist() == [[0.0, 0.0, 1.0, 0.0]]
    assert F.avg_pool1d(Tensor(np.array([[1.0, 2.0, 3.0]])), 4, 2, 1, ceil_mode=True).tolist() == [
        [1.5, 5 / 3]]  # (0 + 1 + 2 + 3) / 4, then (2 + 3 + 0) / 3: padding, not the end, counts
    with pytest.raises(ValueError, match="larger than the padded input"):
        F.max_pool1d(x, 3, 2, 0, 2)  # without ceil_mode no window fits, as PyTorch says


@pytest.mark.parametrize("op", ["max", "avg"])
def test_ceil_mode_windows_as_pytorchs(torch, op):
    """Every length, kernel, stride, dilation and padding up to small sizes. (Dilation with
    padding is left out: PyTorch 2.13 crashes the process where a window is all padding.)"""
    checked = 0
    for length in range(1, 7):
        for k in range(1, 5):
            for s in range(1, 4):
                for d, p in [(1, p) for p in range(k // 2 + 1)] + [(2, 0)] * (op == "max"):
                    x = np.random.default_rng(length).standard_normal((1, 2, length))
                    results = []
                    for m, FF in ((engine, F), (torch, torch.nn.functional)):
                        t = m.tensor(x, requires_grad=True)
                        try:
                            out = (FF.max_pool1d(t, k, s, p, d, ceil_mode=True) if op == "max"
                                   else FF.avg_pool1d(t, k, s, p, ceil_mode=True))
                        except (ValueError, RuntimeError):
                            results.append(None)
                            continue
                        (out * m.tensor(np.arange(1.0, out.numel() + 1).reshape(tuple(
                            out.shape)))).sum().backward()
                        results.append((out.detach().numpy(), t.grad.numpy()))
                    ours, theirs = results
                    assert (ours is None) == (theirs is None), (length, k, s, d, p)
                    if ours is not None:
                        checked += 1
                        for a, b in zip(ours, theirs):
                            np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)
    assert checked > 100


def test_first_of_tied_entries_gets_the_gradient():
    x = Tensor(np.zeros((1, 1, 3, 5)), requires_grad=True)  # every window a tie
    out, index = F.adaptive_max_pool2d(x, (2, 2), return_indices=True)
    assert index.tolist() == [[[[0, 2], [5, 7]]]]  # each window's top left
    out.sum().backward()
    assert x.grad.numpy()[0, 0].tolist() == [[1, 0, 1, 0, 0], [1, 0, 1, 0, 0], [0] * 5]


def test_grad_fn_names_and_float32_as_pytorchs():
    x = Tensor(np.random.default_rng(2).standard_normal((2, 3, 6, 6)).astype(np.float32),
               requires_grad=True)
    names = {"adaptive_max_pool2d": F.adaptive_max_pool2d(x, 3),
             "adaptive_max_pool2d unbatched": F.adaptive_max_pool2d(x[0], 3),
             "adaptive_max_pool1d": F.adaptive_max_pool1d(x[0], 4),
             "adaptive_avg_pool1d": F.adaptive_avg_pool1d(x[0], 4),
             "max_pool1d": F.max_pool1d(x[0], 2), "avg_pool1d": F.avg_pool1d(x[0], 2)}
    assert {k: v.grad_fn.name() for k, v in names.items()} == {
        "adaptive_max_pool2d": "AdaptiveMaxPool2DBackward0",
        "adaptive_max_pool2d unbatched": "AdaptiveMaxPool2DBackward0",
        "adaptive_max_pool1d": "SqueezeBackward1", "adaptive_avg_pool1d": "SqueezeBackward1",
        "max_pool1d": "SqueezeBackward1", "avg_pool1d": "SqueezeBackward1"}
    for out in names.values():
        assert out.dtype == np.float32
        out.sum().backward()
        assert x.grad.dtype == np.float32


MODULES = [
    lambda nn: nn.AvgPool1d(3), lambda nn: nn.AvgPool1d(3, 2, 1, True, False),
    lambda nn: nn.MaxPool1d(2), lambda nn: nn.MaxPool1d(3, 2, 1, 2, True, True),
    lambda nn: nn.AdaptiveAvgPool1d(3), lambda nn: nn.AdaptiveMaxPool2d((2, None)),
    lambda nn: nn.AdaptiveMaxPool2d(3, True), lambda nn: nn.AdaptiveMaxPool1d(3, True),
    lambda nn: nn.AdaptiveMaxPool3d((2, None, 3)), lambda nn: nn.AdaptiveMaxPool3d(2, True),
]


@pytest.mark.parametrize("make", MODULES)
def test_modules_print_and_compute_as_pytorchs(torch, make):
    ours, theirs = make(nn), make(torch.nn)
    assert repr(ours) == repr(theirs)
    shapes = {"1d": (2, 3, 7), "2d": (2, 3, 6, 7), "3d": (2, 3, 4, 6, 7)}
    x = _input(shapes[type(ours).__name__[-2:]], True)
    out, want = ours(Tensor(x)), theirs(torch.tensor(x))
    for got, expected in zip(out if isinstance(out, tuple) else (out,),
                             want if isinstance(want, tuple) else (want,)):
        np.testing.assert_allclose(got.numpy(), expected.numpy(), rtol=1e-12)


def test_modules_without_torch():
    assert repr(nn.AvgPool1d(3)) == "AvgPool1d(kernel_size=(3,), stride=(3,), padding=(0,))"
    assert repr(nn.MaxPool1d(2)) == ("MaxPool1d(kernel_size=2, stride=2, padding=0, dilation=1, "
                                     "ceil_mode=False)")
    assert repr(nn.AdaptiveMaxPool2d((2, None))) == "AdaptiveMaxPool2d(output_size=(2, None))"
    x = Tensor(np.arange(8.0).reshape(1, 1, 8))
    assert nn.AvgPool1d(4)(x).tolist() == [[[1.5, 5.5]]]
    out, index = nn.AdaptiveMaxPool1d(3, return_indices=True)(x)
    assert out.tolist() == [[[2.0, 5.0, 7.0]]] and index.tolist() == [[[2, 5, 7]]]


@pytest.mark.parametrize("call, error, words", [
    (lambda: F.max_pool1d(Tensor(np.ones((1, 1, 4))), 2, padding=2), ValueError,
     "max_pool1d: padding 2 should be at most half of the kernel 2"),
    (lambda: F.avg_pool1d(Tensor(np.ones((1, 1, 2))), 4), ValueError,
     "avg_pool1d: the kernel 4 .* larger than the padded input length 2"),
    (lambda: F.max_pool1d(Tensor(np.ones((1, 1, 3, 4))), 2), ValueError,
     r"max_pool1d takes input of shape \(N, C, L\) or \(C, L\), got \(1, 1, 3, 4\)"),
    (lambda: F.avg_pool1d(Tensor(np.ones((1, 1, 4))), (2, 2)), ValueError,
     "kernel_size must be an int >= 1 or 1 of them"),
    (lambda: F.adaptive_max_pool2d(Tensor(np.ones((1, 1, 4, 4))), (2, 0)), ValueError,
     r"output_size must be a positive int or None, or 2 of them, got \(2, 0\)"),
    (lambda: F.adaptive_avg_pool1d(Tensor(np.ones((1, 1, 4))), (2, 2)), ValueError,
     "or 1 of them"),
    (lambda: F.adaptive_max_pool3d(Tensor(np.ones((1, 4, 4))), 2), ValueError,
     r"adaptive_max_pool3d takes input of shape \(N, C, D, H, W\) or \(C, D, H, W\), got "
     r"\(1, 4, 4\)"),
    (lambda: F.adaptive_max_pool3d(Tensor(np.ones((1, 1, 4, 4, 4))), (2, 2)), ValueError,
     r"output_size must be a positive int or None, or 3 of them, got \(2, 2\)"),
    (lambda: F.adaptive_max_pool2d(Tensor(np.ones((1, 1, 4, 4), np.int64)), 2), TypeError,
     "takes float input, got torch.int64"),
])
def test_bad_input_is_refused_with_what_was_wrong(call, error, words):
    with pytest.raises(error, match=words):
        call()


def test_a_divisor_override_of_0_is_refused_as_pytorch():
    """(0 was taken as no override: the plain mean, silently.)"""
    x = engine.tensor(np.arange(16.0).reshape(1, 1, 4, 4))
    with pytest.raises(RuntimeError, match="divisor must be not zero"):
        F.avg_pool2d(x, 2, divisor_override=0)
    assert F.avg_pool2d(x, 2, divisor_override=2).tolist() == [[[[5.0, 9.0], [21.0, 25.0]]]]
