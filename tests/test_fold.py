"""nn/fold.py: unfold's columns are the input's windows (by hand), fold adds them back
(fold of unfold counts each entry's windows), gradients against central differences and
PyTorch, PyTorch's values, grad_fn names, module printouts and clear errors."""
from __future__ import annotations

import numpy as np
import pytest

import engine
import nn
import nn.functional as F
from engine import Tensor

SETTINGS = [  # input shape, keyword settings
    ((2, 3, 4, 5), {"kernel_size": 2}),
    ((2, 2, 6, 7), {"kernel_size": (3, 2), "dilation": (1, 2), "padding": (1, 2),
                    "stride": (2, 1)}),
    ((1, 3, 5, 5), {"kernel_size": 3, "stride": 2, "padding": 1}),
    ((3, 4, 5), {"kernel_size": (2, 3), "dilation": 2}),  # unbatched
]


def test_unfold_lays_each_window_out_as_a_column():
    x = np.arange(2 * 3 * 4, dtype=np.float64).reshape(1, 2, 3, 4)
    cols = F.unfold(Tensor(x), (2, 3)).numpy()
    assert cols.shape == (1, 2 * 6, 2 * 2)
    for position, (i, j) in enumerate(np.ndindex(2, 2)):  # windows in row-major order
        np.testing.assert_array_equal(cols[0, :, position], x[0, :, i:i + 2, j:j + 3].reshape(-1))


def test_fold_of_unfold_multiplies_each_entry_by_its_number_of_windows():
    x = np.random.default_rng(0).standard_normal((2, 3, 5, 6))
    settings = {"kernel_size": (2, 3), "padding": 1, "stride": (1, 2)}
    back = F.fold(F.unfold(Tensor(x), **settings), (5, 6), **settings).numpy()
    counts = F.fold(F.unfold(Tensor(np.ones((1, 1, 5, 6))), **settings), (5, 6),
                    **settings).numpy()
    # a 2x3 kernel, stride (1, 2), padding 1: every row is in 2 windows; the columns (1 to 6
    # of the padded 8) in windows over padded columns 0-2, 2-4, 4-6: 1, 2, 1, 2, 1, 1
    np.testing.assert_array_equal(counts[0, 0], [[2, 4, 2, 4, 2, 2]] * 5)
    np.testing.assert_allclose(back, x * counts, rtol=1e-12)


def test_fold_adds_overlapping_columns_by_hand():
    cols = Tensor(np.ones((1, 4, 2)))  # two 2x2 windows of ones, one column apart
    assert F.fold(cols, (2, 3), 2).tolist() == [[[[1.0, 2.0, 1.0], [1.0, 2.0, 1.0]]]]


@pytest.mark.parametrize("shape, settings", SETTINGS)
def test_gradients_match_central_differences(shape, settings):
    x = Tensor(np.random.default_rng(1).standard_normal(shape), requires_grad=True)
    assert engine.gradcheck(lambda x: F.unfold(x, **settings), (x,))
    cols = F.unfold(x, **settings).detach().requires_grad_()
    assert engine.gradcheck(lambda c: F.fold(c, shape[-2:], **settings), (cols,))


@pytest.mark.parametrize("shape, settings", SETTINGS)
def test_values_gradients_and_grad_fn_match_pytorch(torch, shape, settings):
    rng = np.random.default_rng(2)
    x = rng.standard_normal(shape)
    ours, theirs = Tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    out, want = F.unfold(ours, **settings), torch.nn.functional.unfold(theirs, **settings)
    c = rng.standard_normal(want.shape)
    cols, their_cols = Tensor(c, requires_grad=True), torch.tensor(c, requires_grad=True)
    back = F.fold(cols, shape[-2:], **settings)
    their_back = torch.nn.functional.fold(their_cols, shape[-2:], **settings)
    for got, expected, inputs in ((out, want, (ours, theirs)), (back, their_back,
                                                                 (cols, their_cols))):
        np.testing.assert_allclose(got.numpy(), expected.detach().numpy(), rtol=1e-12)
        assert got.grad_fn.name() == expected.grad_fn.name()
        g = rng.standard_normal(expected.shape)
        got.backward(Tensor(g))
        expected.backward(torch.tensor(g))
        np.testing.assert_allclose(np.asarray(inputs[0].grad), inputs[1].grad.numpy(),
                                   rtol=1e-12)


def test_grad_fn_names_and_float32_as_pytorchs():
    x = Tensor(np.ones((1, 2, 3, 3), np.float32), requires_grad=True)
    cols = F.unfold(x, 2)
    assert cols.grad_fn.name() == "Im2ColBackward0" and cols.dtype == np.float32
    assert F.unfold(x[0], 2).grad_fn.name() == "Im2ColBackward0"  # unbatched too
    back = F.fold(cols, 3, 2)
    assert back.grad_fn.name() == "Col2ImBackward0" and back.dtype == np.float32
    back.sum().backward()
    assert x.grad.dtype == np.float32


def test_modules_call_the_functions_and_print_as_pytorchs():
    unfold, fold = nn.Unfold(2, padding=1), nn.Fold((4, 5), 2, padding=1)
    assert repr(unfold) == "Unfold(kernel_size=2, dilation=1, padding=1, stride=1)"
    assert repr(fold) == "Fold(output_size=(4, 5), kernel_size=2, dilation=1, padding=1, stride=1)"
    x = Tensor(np.random.default_rng(3).standard_normal((1, 2, 4, 5)))
    np.testing.assert_array_equal(fold(unfold(x)).numpy(),
                                  F.fold(F.unfold(x, 2, padding=1), (4, 5), 2, padding=1).numpy())


@pytest.mark.parametrize("make", [lambda nn: nn.Unfold((2, 3), dilation=2, stride=(1, 2)),
                                  lambda nn: nn.Fold(4, 2)])
def test_module_printouts_match_pytorch(torch, make):
    assert repr(make(nn)) == repr(make(torch.nn))


@pytest.mark.parametrize("call, error, words", [
    (lambda: F.fold(Tensor(np.ones((1, 5, 16))), (5, 5), 2), ValueError,
     r"input's dim 1 is 5, not divisible by the product of kernel_size \(2, 2\)"),
    (lambda: F.fold(Tensor(np.ones((1, 8, 10))), (5, 5), 2), ValueError,
     r"has 4 \* 4 = 16 windows, but the input's last dim is 10"),
    (lambda: F.fold(Tensor(np.ones((8,))), (5, 5), 2), ValueError,
     r"input of shape \(N, C \* kH \* kW, L\) or \(C \* kH \* kW, L\), got \(8,\)"),
    (lambda: F.unfold(Tensor(np.ones((1, 1, 2, 2))), 3), ValueError,
     r"kernel \(3, 3\).*larger than the padded input \(2, 2\)"),
    (lambda: F.unfold(Tensor(np.ones((2, 2))), 1), ValueError,
     r"input of shape \(N, C, H, W\) or \(C, H, W\), got \(2, 2\)"),
    (lambda: F.unfold(Tensor(np.ones((1, 1, 4, 4))), 2, stride=0), ValueError,
     "stride must be an int >= 1"),
])
def test_bad_input_is_refused_with_what_was_wrong(call, error, words):
    with pytest.raises(error, match=words):
        call()
