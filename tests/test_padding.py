"""nn/padding.py and the modes of F.pad they call: each layer's result worked out by hand,
against PyTorch (values, gradients, grad_fn names, printouts; negative widths, replicate
wider than the input, circular after a crop), against central differences, and clear
errors."""
from __future__ import annotations

import numpy as np
import pytest

import engine
import nn
import nn.functional as F
from engine import Tensor

ROW = Tensor(np.array([[[1.0, 2.0, 3.0]]]))


@pytest.mark.parametrize("layer, want", [
    (nn.ZeroPad1d((2, 1)), [0, 0, 1, 2, 3, 0]),
    (nn.ConstantPad1d(1, 3.5), [3.5, 1, 2, 3, 3.5]),
    (nn.ReflectionPad1d((2, 1)), [3, 2, 1, 2, 3, 2]),  # the mirror without its edge
    (nn.ReplicationPad1d((2, 4)), [1, 1, 1, 2, 3, 3, 3, 3, 3]),  # wider than the input too
    (nn.CircularPad1d((2, 1)), [2, 3, 1, 2, 3, 1]),  # wrapped around
    (nn.ReflectionPad1d((-1, 2)), [2, 3, 2, 1]),  # a negative width crops
    (nn.CircularPad1d((-1, 2)), [2, 3, 2, 3]),  # circular: the crop first, then the wrap
])
def test_one_d_layers_by_hand(layer, want):
    assert layer(ROW).tolist() == [[want]]


def test_two_d_layers_by_hand():
    x = Tensor(np.array([[1.0, 2.0], [3.0, 4.0]]))  # padded as (C, W) = the last 2 dims
    assert nn.ZeroPad2d((1, 0, 0, 1))(x).tolist() == [[0, 1, 2], [0, 3, 4], [0, 0, 0]]
    assert nn.ReplicationPad2d(1)(x).tolist() == [[1, 1, 2, 2], [1, 1, 2, 2], [3, 3, 4, 4],
                                                  [3, 3, 4, 4]]
    assert nn.ReflectionPad2d((1, 0, 1, 0))(x).tolist() == [[4, 3, 4], [2, 1, 2], [4, 3, 4]]
    assert nn.CircularPad2d((0, 1, 1, 0))(x).tolist() == [[3, 4, 3], [1, 2, 1], [3, 4, 3]]
    assert nn.ConstantPad3d((1, 0, 0, 0, 0, 1), -1.0)(Tensor(np.ones((1, 1, 1)))).tolist() == \
        [[[-1.0, 1.0]], [[-1.0, -1.0]]]


def test_gradient_sums_back_where_an_entry_was_used():
    x = Tensor(np.array([[[1.0, 2.0, 3.0]]]), requires_grad=True)
    nn.ReflectionPad1d((2, 1))(x).sum().backward()  # [3, 2, 1, 2, 3, 2]
    assert x.grad.tolist() == [[[1.0, 3.0, 2.0]]]
    x.grad = None
    nn.ReplicationPad1d((2, 4))(x).sum().backward()
    assert x.grad.tolist() == [[[3.0, 1.0, 5.0]]]


LAYERS = [  # a layer, the input shape it pads
    (lambda nn: nn.ZeroPad1d(2), (2, 3, 5)),
    (lambda nn: nn.ZeroPad2d((1, 2, 3, 0)), (2, 3, 4, 5)),
    (lambda nn: nn.ConstantPad1d((2, -1), 3.5), (3, 5)),
    (lambda nn: nn.ConstantPad2d(1, 0), (2, 3, 4, 5)),
    (lambda nn: nn.ConstantPad3d((1, 0, 2, 1, 0, 1), 2.0), (2, 3, 2, 3, 4)),
    (lambda nn: nn.ReflectionPad1d((1, 2)), (2, 3, 5)),
    (lambda nn: nn.ReflectionPad2d(1), (3, 4, 5)),
    (lambda nn: nn.ReflectionPad2d((3, 3, -1, 2)), (2, 3, 4, 5)),
    (lambda nn: nn.ReflectionPad3d(1), (1, 2, 3, 3, 4)),
    (lambda nn: nn.ReplicationPad1d((4, 7)), (2, 3, 5)),
    (lambda nn: nn.ReplicationPad2d((1, 0, -2, 3)), (2, 3, 4, 5)),
    (lambda nn: nn.ReplicationPad3d((0, 1, 2, 0, 1, 1)), (1, 2, 3, 3, 4)),
    (lambda nn: nn.CircularPad1d((5, 0)), (2, 3, 5)),
    (lambda nn: nn.CircularPad2d((2, -3, 1, 1)), (2, 3, 4, 5)),
    (lambda nn: nn.CircularPad3d(1), (1, 2, 3, 3, 4)),
]


@pytest.mark.parametrize("make, shape", LAYERS)
def test_layers_match_pytorch(torch, make, shape):
    ours, theirs = make(nn), make(torch.nn)
    assert repr(ours) == repr(theirs)
    x = np.random.default_rng(0).standard_normal(shape)
    a, t = Tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    out, want = ours(a), theirs(t)
    np.testing.assert_array_equal(out.numpy(), want.detach().numpy())
    if not repr(ours).startswith("Circular"):  # (PyTorch's is CopySlices, its slices copied)
        assert out.grad_fn.name() == want.grad_fn.name()
    g = np.random.default_rng(1).standard_normal(want.shape)
    out.backward(Tensor(g))
    want.backward(torch.tensor(g))
    np.testing.assert_allclose(np.asarray(a.grad), t.grad.numpy(), rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("make, shape", LAYERS[5:8] + LAYERS[9:11] + LAYERS[12:14])
def test_gradients_match_central_differences(make, shape):
    x = Tensor(np.random.default_rng(2).standard_normal(shape), requires_grad=True)
    assert engine.gradcheck(make(nn), (x,))


def test_grad_fn_names_as_recorded_from_pytorch():
    x = Tensor(np.ones((1, 2, 4, 4), np.float32), requires_grad=True)
    names = [F.pad(x, (1, 1), "reflect"), F.pad(x, (1, 1, 1, 1), "reflect"),
             F.pad(x, (1, 1), "replicate"), F.pad(x, (1, 1, 0, 2), "replicate"),
             F.pad(x, (1, 1)), F.pad(x, (-1, 1, 1, 1), value=2.0)]
    assert [t.grad_fn.name() for t in names] == [
        "ReflectionPad1DBackward0", "ReflectionPad2DBackward0", "ReplicationPad1DBackward0",
        "ReplicationPad2DBackward0", "ConstantPadNdBackward0", "ConstantPadNdBackward0"]
    assert all(t.dtype == np.float32 for t in names)


def test_printouts_without_torch():
    assert repr(nn.ZeroPad2d((1, 2, 3, 4))) == "ZeroPad2d((1, 2, 3, 4))"
    assert repr(nn.ConstantPad1d(2, 3.5)) == "ConstantPad1d(padding=(2, 2), value=3.5)"
    assert repr(nn.ReflectionPad2d(1)) == "ReflectionPad2d((1, 1, 1, 1))"
    assert repr(nn.CircularPad3d((1, 0, 0, 1, 2, 2))) == "CircularPad3d((1, 0, 0, 1, 2, 2))"


@pytest.mark.parametrize("call, error, words", [
    (lambda: nn.ZeroPad2d((1, 2, 3)), ValueError,
     r"ZeroPad2d takes an int or 4 ints as padding, got \(1, 2, 3\)"),
    (lambda: nn.ReflectionPad1d(1.5), ValueError, "takes an int or 2 ints"),
    (lambda: nn.ReflectionPad1d(3)(ROW), ValueError,
     r"reflect padding of dim 2 \(size 3\) by \(3, 3\) needs widths from 0 to 2"),
    (lambda: nn.CircularPad1d((4, 0))(ROW), ValueError,
     r"circular padding of dim 2 \(size 3\) by \(4, 0\) needs widths from 0 to 3"),
    (lambda: nn.CircularPad1d((2, -2))(ROW), ValueError,  # 1 entry left after the crop
     r"by \(2, -2\) needs widths from 0 to 1"),
    (lambda: nn.ReplicationPad1d((-2, -2))(ROW), ValueError, "would have a negative size"),
])
def test_bad_input_is_refused_with_what_was_wrong(call, error, words):
    with pytest.raises(error, match=words):
        call()
