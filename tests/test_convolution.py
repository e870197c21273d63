"""nn/convolution.py and the layers on it (Conv1d, Conv2d, Conv3d, the pools, BatchNorm2d,
BatchNorm3d): values against a direct sum over each window, PyTorch's initial weights,
values and running statistics, clear errors, and a small CNN trained on real MNIST digits
on both engines. The gradients of every op are checked in tests/tensor_op_table.py's rows
(central differences, PyTorch, float32, second derivatives)."""
from __future__ import annotations

import numpy as np
import pytest

import engine
import nn
import nn.functional as F
from engine import Tensor

CONV_SETTINGS = [  # input shape, weight shape, keyword settings
    ((2, 3, 6, 5), (4, 3, 3, 3), {}),
    ((2, 3, 6, 5), (4, 3, 3, 2), {"stride": 2, "padding": 1}),
    ((1, 4, 7, 7), (6, 2, 3, 3), {"groups": 2, "dilation": 2, "padding": "same"}),
    ((1, 2, 5, 6), (3, 2, 2, 2), {"padding": "same"}),  # even kernel: one more after
    ((3, 5, 5), (2, 3, 1, 1), {}),  # unbatched, 1x1
    ((2, 2, 4, 5), (3, 2, 4, 5), {"padding": "valid"}),  # the kernel covers the input
    ((2, 2, 5, 7), (3, 2, 2, 3), {"stride": (2, 1), "padding": (1, 0), "dilation": (1, 2)}),
    ((2, 2, 4, 5, 4), (3, 2, 2, 3, 2), {}),  # 3-D
    ((1, 4, 5, 4, 6), (4, 2, 3, 2, 3), {"stride": (2, 1, 2), "padding": (1, 0, 1),
                                        "dilation": (1, 2, 1), "groups": 2}),
    ((2, 4, 4, 5), (3, 2, 2, 2, 3), {"padding": "same"}),  # unbatched, even kernel
    ((1, 2, 3, 3, 3), (2, 2, 3, 3, 3), {"stride": 2, "padding": 1}),
]


def _conv(w_shape, functional=F):
    """conv1d, conv2d or conv3d, by the weight's dims."""
    return getattr(functional, f"conv{len(w_shape) - 2}d")


def _direct_conv(x, w, b=None, stride=1, padding=0, dilation=1, groups=1):
    """A convolution by its definition, one output entry at a time (a test's reference
    only)."""
    nd = w.ndim - 2
    unbatched = x.ndim == nd + 1
    x = x[None] if unbatched else x
    s, d = (np.broadcast_to(v, nd) for v in (stride, dilation))
    k = np.array(w.shape[2:])
    if padding == "same":
        total = d * (k - 1)
        pads = [(t // 2, t - t // 2) for t in total]
    else:
        pads = [(p, p) for p in np.broadcast_to(0 if padding == "valid" else padding, nd)]
    x = np.pad(x, [(0, 0), (0, 0), *pads])
    span = d * (k - 1) + 1
    out_sizes = (np.array(x.shape[2:]) - span) // s + 1
    out = np.zeros((x.shape[0], w.shape[0], *out_sizes))
    per_group, in_group = w.shape[0] // groups, w.shape[1]
    for o in range(w.shape[0]):
        c = o // per_group * in_group
        for at in np.ndindex(*out_sizes):
            window = x[(slice(None), slice(c, c + in_group),
                        *(slice(i * st, i * st + sp, dl) for i, st, sp, dl in zip(at, s, span, d)))]
            out[(slice(None), o, *at)] = (window * w[o]).sum(axis=tuple(range(1, nd + 2))) + (
                0 if b is None else b[o])
    return out[0] if unbatched else out


@pytest.mark.parametrize("x_shape, w_shape, settings", CONV_SETTINGS)
def test_conv_is_the_sum_over_each_window(x_shape, w_shape, settings):
    rng = np.random.default_rng(0)
    x, w, b = rng.standard_normal(x_shape), rng.standard_normal(w_shape), rng.standard_normal(
        w_shape[0])
    got = _conv(w_shape)(Tensor(x), Tensor(w), Tensor(b), **settings)
    np.testing.assert_allclose(got.numpy(), _direct_conv(x, w, b, **settings), rtol=1e-12,
                               atol=1e-12)


# PyTorch's own note that it copies the input for an even kernel with padding='same'
@pytest.mark.filterwarnings("ignore:Using padding='same' with even kernel lengths")
@pytest.mark.parametrize("x_shape, w_shape, settings", CONV_SETTINGS)
def test_conv_in_float32_matches_pytorch_and_stays_float32(torch, x_shape, w_shape, settings):
    rng = np.random.default_rng(1)
    arrays = [rng.standard_normal(s).astype(np.float32) for s in (x_shape, w_shape)]
    ours = [Tensor(a, requires_grad=True) for a in arrays]
    theirs = [torch.tensor(a, requires_grad=True) for a in arrays]
    out = _conv(w_shape)(*ours, **settings)  # bias None
    want = _conv(w_shape, torch.nn.functional)(*theirs, **settings)
    assert out.grad_fn.name() == want.grad_fn.name()
    assert out.dtype == np.float32
    np.testing.assert_allclose(out.numpy(), want.detach().numpy(), rtol=1e-5, atol=1e-5)
    g = rng.standard_normal(out.shape).astype(np.float32)
    out.backward(Tensor(g))
    want.backward(torch.tensor(g))
    for ours_x, theirs_x in zip(ours, theirs):
        assert ours_x.grad.dtype == np.float32
        np.testing.assert_allclose(np.asarray(ours_x.grad), theirs_x.grad.numpy(), rtol=1e-4,
                                   atol=1e-4)


def test_conv1d_is_conv2d_over_a_height_of_1():
    rng = np.random.default_rng(2)
    x, w = Tensor(rng.standard_normal((2, 4, 9))), Tensor(rng.standard_normal((6, 2, 3)))
    got = F.conv1d(x, w, stride=2, padding=1, dilation=2, groups=2)
    want = F.conv2d(x.unsqueeze(2), w.unsqueeze(2), stride=(1, 2), padding=(0, 1),
                    dilation=(1, 2), groups=2).squeeze(2)
    np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-12)


W_2D = np.random.default_rng(2).standard_normal((6, 2, 2, 3))


@pytest.mark.parametrize("three, two", [  # the 3-D op with depth settings 1, the 2-D one
    (lambda t: F.conv3d(t, Tensor(W_2D[:, :, None]), None, (1, 1, 2), (0, 0, 1), (1, 1, 2), 2),
     lambda t: F.conv2d(t, Tensor(W_2D), None, (1, 2), (0, 1), (1, 2), 2)),
    (lambda t: F.max_pool3d(t, (1, 2, 3), (1, 1, 2), (0, 1, 1), (1, 2, 1), True),
     lambda t: F.max_pool2d(t, (2, 3), (1, 2), (1, 1), (2, 1), True)),
    (lambda t: F.avg_pool3d(t, (1, 3, 3), (1, 2, 2), (0, 1, 1), True, False),
     lambda t: F.avg_pool2d(t, 3, 2, 1, True, False)),
    (lambda t: F.adaptive_avg_pool3d(t, (None, 4, 5)), lambda t: F.adaptive_avg_pool2d(t, (4, 5))),
])
def test_3d_ops_over_a_depth_of_1_are_the_2d_ones_on_each_slice(three, two):
    """Without PyTorch: a 3-D op that takes one depth slice at a time, step 1, is the 2-D op
    on each slice, in value and in gradient."""
    x = Tensor(np.random.default_rng(3).standard_normal((2, 4, 3, 6, 7)), requires_grad=True)
    slices = [Tensor(x.numpy()[:, :, i], requires_grad=True) for i in range(3)]
    got, want = three(x), [two(t) for t in slices]
    np.testing.assert_allclose(got.numpy(), np.stack([t.numpy() for t in want], axis=2),
                               rtol=1e-12, atol=1e-14)
    g = np.random.default_rng(4).standard_normal(got.shape)
    got.backward(Tensor(g))
    for i, (t, out) in enumerate(zip(slices, want)):
        out.backward(Tensor(g[:, :, i]))
        np.testing.assert_allclose(np.asarray(x.grad)[:, :, i], np.asarray(t.grad), rtol=1e-12,
                                   atol=1e-14)


POOLS = [  # our call, PyTorch's (by name), the input shape
    ("max_pool2d", (3, 2, 1), (2, 3, 7, 6)),
    ("max_pool2d", ((2, 3), (1, 2), 0, 2), (2, 3, 7, 8)),  # dilation 2
    ("avg_pool2d", (3, 2, 1), (2, 3, 7, 6)),
    ("avg_pool2d", ((3, 2), 1, (1, 0), False, False), (2, 3, 5, 6)),  # padding not counted
    ("adaptive_avg_pool2d", (1,), (2, 3, 6, 4)),
    ("adaptive_avg_pool2d", ((3, None),), (3, 6, 4)),
    ("adaptive_avg_pool2d", ((3, 4),), (2, 3, 7, 6)),  # windows of unequal sizes, overlapping
    ("adaptive_avg_pool2d", (5,), (3, 7, 7)),
    ("max_pool3d", (3, 2, 1), (2, 2, 5, 6, 5)),
    ("max_pool3d", ((2, 3, 2), (1, 2, 2), 0, (2, 1, 1), True), (1, 2, 6, 7, 5)),  # ceil_mode
    ("max_pool3d", (2, 1), (2, 3, 4, 3)),  # unbatched
    ("avg_pool3d", (3, 2, 1), (2, 2, 5, 6, 5)),
    ("avg_pool3d", ((3, 2, 2), (2, 1, 2), (1, 0, 1), True, False), (2, 2, 6, 5, 5)),
    ("avg_pool3d", (2, 1, 0, False, True, 3), (3, 4, 3, 4)),  # divisor_override, unbatched
    ("avg_pool3d", (3, 2, 1, True, True, 5), (1, 2, 6, 5, 6)),  # divisor_override, ceil_mode
    ("adaptive_avg_pool3d", ((2, 3, None),), (2, 2, 4, 7, 5)),
    ("adaptive_avg_pool3d", (1,), (2, 3, 4, 4)),
    ("adaptive_avg_pool3d", ((2, 2, 3),), (1, 2, 4, 6, 6)),  # the sizes divide: equal windows
]


@pytest.mark.parametrize("name, args, shape", POOLS)
@pytest.mark.parametrize("ties", [False, True])
def test_pools_match_pytorch_with_ties_and_strides_other_than_the_kernel(torch, name, args,
                                                                       shape, ties):
    """Ties (entries rounded to few values) send max_pool's gradient to PyTorch's pick."""
    x = np.random.default_rng(3).standard_normal(shape)
    x = np.round(x) if ties else x
    ours, theirs = Tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    out, want = getattr(F, name)(ours, *args), getattr(torch.nn.functional, name)(theirs, *args)
    np.testing.assert_allclose(out.numpy(), want.detach().numpy(), rtol=1e-12)
    assert out.grad_fn.name() == want.grad_fn.name()
    g = np.random.default_rng(4).standard_normal(out.shape)
    out.backward(Tensor(g))
    want.backward(torch.tensor(g))
    np.testing.assert_allclose(np.asarray(ours.grad), theirs.grad.numpy(), rtol=1e-12)


def test_max_pool2d_sends_g_to_the_first_of_tied_entries_and_gives_their_indices(torch):
    x = np.zeros((1, 1, 4, 4))  # every window a tie
    out, index = F.max_pool2d(Tensor(x, requires_grad=True), 2, 1, return_indices=True)
    _, want = torch.nn.functional.max_pool2d(torch.tensor(x), 2, 1, return_indices=True)
    np.testing.assert_array_equal(index.numpy(), want.numpy())
    assert index.dtype == np.int64


@pytest.mark.parametrize("args, shape", [
    ((3, 2, 1), (2, 2, 5, 6, 5)), (((2, 3, 2), (1, 2, 2), (1, 1, 0), (2, 1, 1), True),
                                   (1, 2, 6, 7, 5)), ((2, 1), (2, 3, 4, 3))])
def test_max_pool3d_indices_are_where_each_output_came_from(args, shape):
    """Without PyTorch: each index, into D * H * W, reads the output back from the input, and
    lies inside its window."""
    x = np.round(np.random.default_rng(5).standard_normal(shape))  # ties
    out, index = F.max_pool3d(Tensor(x), *args, return_indices=True)
    assert index.dtype == np.int64 and index.shape == out.shape
    flat, picks = x.reshape(*x.shape[:-3], -1), index.numpy().reshape(*index.shape[:-3], -1)
    np.testing.assert_array_equal(np.take_along_axis(flat, picks, -1).reshape(out.shape),
                                  out.numpy())


@pytest.mark.parametrize("args, shape", [
    ((3, 2, 1), (2, 2, 5, 6, 5)), (((2, 3, 2), (1, 2, 2), (1, 1, 0), (2, 1, 1), True),
                                   (1, 2, 6, 7, 5)), ((2, 1), (2, 3, 4, 3))])
def test_max_pool3d_indices_are_pytorchs_on_ties(torch, args, shape):
    x = np.round(np.random.default_rng(5).standard_normal(shape))
    _, index = F.max_pool3d(Tensor(x), *args, return_indices=True)
    _, want = torch.nn.functional.max_pool3d(torch.tensor(x), *args, return_indices=True)
    np.testing.assert_array_equal(index.numpy(), want.numpy())


def test_max_pool2d_gradient_goes_to_each_windows_largest_entry():
    x = Tensor(np.arange(16.0)[::-1].reshape(1, 1, 4, 4).copy(), requires_grad=True)
    F.max_pool2d(x, 2).sum().backward()  # the largest of each 2x2 block: its top left
    want = np.zeros((4, 4))
    want[::2, ::2] = 1
    np.testing.assert_array_equal(np.asarray(x.grad)[0, 0], want)


def test_pad_follows_pytorchs_order_from_the_last_dim(torch):
    x = np.arange(6.0).reshape(2, 3)
    for pads in [(1, 2), (0, 1, 2, 0), (-1, 1, 1, -1)]:
        np.testing.assert_array_equal(F.pad(Tensor(x), pads, value=-1).numpy(),
                                      torch.nn.functional.pad(torch.tensor(x), pads,
                                                              value=-1).numpy())


def test_pad_widths_on_the_last_dim_first():
    out = F.pad(Tensor(np.ones((2, 3))), (1, 0, 0, 2))  # last dim: 1 before; first: 2 after
    assert out.shape == (4, 4)
    assert out.numpy()[:, 0].sum() == 0 and out.numpy()[2:].sum() == 0


def test_conv2d_keeps_float32_through_a_float32_model():
    x = Tensor(np.ones((2, 1, 8, 8), np.float32))
    model = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(),
                          nn.MaxPool2d(2), nn.AvgPool2d(2, 1), nn.AdaptiveAvgPool2d(1))
    out = model(x)
    assert out.shape == (2, 4, 1, 1) and out.dtype == np.float32


# --- layers ---

@pytest.mark.parametrize("make", [
    lambda nn: nn.Conv2d(1, 16, 3, padding=1),
    lambda nn: nn.Conv2d(4, 6, (3, 2), stride=2, groups=2, bias=False),
    lambda nn: nn.Conv1d(3, 5, 4, dilation=2, padding="same"),
    lambda nn: nn.BatchNorm2d(7),
    lambda nn: nn.Conv3d(2, 3, 2),
    lambda nn: nn.Conv3d(4, 6, (3, 2, 1), stride=(2, 1, 1), padding=(1, 0, 0), dilation=2,
                         groups=2, bias=False, padding_mode="circular"),
    lambda nn: nn.Conv3d(3, 2, 3, padding="same"),
    lambda nn: nn.BatchNorm3d(5),
])
def test_layers_start_from_pytorchs_weights_after_the_same_seed(torch, make):
    torch.set_default_dtype(torch.float32)  # the fixture's float64 would draw other numbers
    engine.manual_seed(0)
    torch.manual_seed(0)
    ours, theirs = make(nn), make(torch.nn)
    want = theirs.state_dict()
    assert list(ours.state_dict()) == list(want)
    for name, array in ours.state_dict().items():
        np.testing.assert_array_equal(array, want[name].numpy(), err_msg=name)
    assert repr(ours) == repr(theirs)


@pytest.mark.parametrize("make", [
    lambda nn: nn.MaxPool2d(3, 2, 1), lambda nn: nn.MaxPool2d((2, 3)),
    lambda nn: nn.AvgPool2d(2), lambda nn: nn.AdaptiveAvgPool2d(1),
    lambda nn: nn.MaxPool3d(2), lambda nn: nn.MaxPool3d((2, 3, 2), 1, 1, 2, True, True),
    lambda nn: nn.AvgPool3d(2), lambda nn: nn.AvgPool3d((2, 3, 2), 1, 1, True, False, 2),
    lambda nn: nn.AdaptiveAvgPool3d((2, None, 3)),
])
def test_pool_layers_print_and_compute_as_pytorchs(torch, make):
    ours, theirs = make(nn), make(torch.nn)
    assert repr(ours) == repr(theirs)
    x = np.round(np.random.default_rng(7).standard_normal((2, 3, 6, 7, 6)), 1)
    x = x[:, :, 0] if "2d" in repr(ours) else x
    out, want = ours(Tensor(x)), theirs(torch.tensor(x))
    for got, expected in zip(out if isinstance(out, tuple) else (out,),
                             want if isinstance(want, tuple) else (want,)):
        np.testing.assert_allclose(got.numpy(), expected.numpy(), rtol=1e-12, atol=1e-15)


def test_3d_layers_without_torch():
    engine.manual_seed(0)
    conv = nn.Conv3d(2, 3, 2)
    assert conv.weight.shape == (3, 2, 2, 2, 2) and conv.bias.shape == (3,)
    assert list(conv.state_dict()) == ["weight", "bias"]
    # recorded from torch 2.13 after torch.manual_seed(0); torch.nn.Conv3d(2, 3, 2)
    np.testing.assert_array_equal(conv.weight.numpy()[0, 0, 0], np.array(
        [[-0.0018717050552368164, 0.13411089777946472],
         [-0.20576128363609314, -0.18398475646972656]], np.float32))
    np.testing.assert_array_equal(conv.bias.numpy(), np.array(
        [-0.1108737587928772, -0.009020596742630005, 0.15989017486572266], np.float32))
    assert repr(nn.Conv3d(2, 4, (3, 2, 1), stride=2, padding=1, groups=2, bias=False,
                          padding_mode="circular")) == (
        "Conv3d(2, 4, kernel_size=(3, 2, 1), stride=(2, 2, 2), padding=(1, 1, 1), groups=2, "
        "bias=False, padding_mode=circular)")
    assert repr(nn.AvgPool3d((2, 3, 2), 1, 1)) == ("AvgPool3d(kernel_size=(2, 3, 2), stride=1, "
                                                   "padding=1)")
    assert repr(nn.BatchNorm3d(3)) == ("BatchNorm3d(3, eps=1e-05, momentum=0.1, affine=True, "
                                       "bias=True, track_running_stats=True)")
    x = Tensor(np.arange(8.0).reshape(1, 1, 2, 2, 2))
    assert nn.MaxPool3d(2)(x).tolist() == [[[[[7.0]]]]]
    assert nn.AvgPool3d(2)(x).tolist() == [[[[[3.5]]]]]
    assert nn.AdaptiveAvgPool3d((2, 1, 1))(x).tolist() == [[[[[1.5]], [[5.5]]]]]


@pytest.mark.parametrize("mode", ["reflect", "replicate", "circular"])
@pytest.mark.parametrize("padding", [1, (1, 0, 2), "same"])
def test_conv3d_padding_modes_are_pytorchs(torch, mode, padding):
    x = np.random.default_rng(0).normal(size=(2, 2, 4, 5, 4))
    ours = nn.Conv3d(2, 3, (3, 2, 3), padding=padding, padding_mode=mode).double()
    theirs = torch.nn.Conv3d(2, 3, (3, 2, 3), padding=padding, padding_mode=mode).double()
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
    a, b = Tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    out, want = ours(a), theirs(b)
    np.testing.assert_allclose(out.numpy(), want.detach().numpy(), rtol=1e-12, atol=1e-12)
    out.sum().backward()
    want.sum().backward()
    np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(ours.weight.grad.numpy(), theirs.weight.grad.numpy(), rtol=1e-10)


def test_batchnorm3d_running_statistics_and_eval_match_pytorch(torch):
    ours = nn.BatchNorm3d(3, momentum=0.3, dtype=np.float64)
    theirs = torch.nn.BatchNorm3d(3, momentum=0.3)
    rng = np.random.default_rng(5)
    for step in range(3):
        x = rng.standard_normal((2, 3, 3, 4, 2)) * (step + 1) + step
        a, b = Tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
        out, want = ours(a), theirs(b)
        np.testing.assert_allclose(out.numpy(), want.detach().numpy(), rtol=1e-10, atol=1e-12)
        g = rng.standard_normal(x.shape)
        out.backward(Tensor(g))
        want.backward(torch.tensor(g))
        np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-9, atol=1e-12)
    for name, array in ours.state_dict().items():
        np.testing.assert_allclose(array, theirs.state_dict()[name].numpy(), rtol=1e-12,
                                   err_msg=name)
    ours.eval()
    theirs.eval()
    x = rng.standard_normal((2, 3, 3, 4, 2))
    np.testing.assert_allclose(ours(Tensor(x)).numpy(), theirs(torch.tensor(x)).detach().numpy(),
                               rtol=1e-10)


def test_batchnorm3d_normalises_each_channel_over_batch_and_positions():
    x = np.random.default_rng(6).standard_normal((4, 2, 3, 3, 2)) * 5 + 2
    layer = nn.BatchNorm3d(2, dtype=np.float64)
    out = layer(Tensor(x)).numpy()
    np.testing.assert_allclose(out.mean(axis=(0, 2, 3, 4)), 0, atol=1e-12)
    np.testing.assert_allclose(out.var(axis=(0, 2, 3, 4)), 1, rtol=1e-4)
    np.testing.assert_allclose(layer.running_var.numpy(),
                               0.9 + 0.1 * x.transpose(1, 0, 2, 3, 4).reshape(2, -1).var(1, ddof=1))
    weights = np.random.default_rng(7).standard_normal(x.shape)
    assert engine.gradcheck(lambda x, w, b: (layer(x) * Tensor(weights)).sum(),
                            [Tensor(x, requires_grad=True), layer.weight, layer.bias])


def test_batchnorm2d_running_statistics_and_eval_match_pytorch(torch):
    ours = nn.BatchNorm2d(3, momentum=0.3, dtype=np.float64)
    theirs = torch.nn.BatchNorm2d(3, momentum=0.3)
    rng = np.random.default_rng(5)
    for step in range(3):
        x = rng.standard_normal((4, 3, 5, 6)) * (step + 1) + step
        out, want = ours(Tensor(x, requires_grad=True)), theirs(torch.tensor(x))
        np.testing.assert_allclose(out.numpy(), want.detach().numpy(), rtol=1e-10, atol=1e-12)
    for name, array in ours.state_dict().items():
        np.testing.assert_allclose(array, theirs.state_dict()[name].numpy(), rtol=1e-12,
                                   err_msg=name)
    ours.eval()
    theirs.eval()
    x = rng.standard_normal((2, 3, 5, 6))
    np.testing.assert_allclose(ours(Tensor(x)).numpy(), theirs(torch.tensor(x)).detach().numpy(),
                               rtol=1e-10)


def test_batchnorm2d_normalises_each_channel_over_batch_and_positions():
    x = np.random.default_rng(6).standard_normal((4, 2, 3, 3)) * 5 + 2
    out = nn.BatchNorm2d(2, dtype=np.float64)(Tensor(x)).numpy()
    np.testing.assert_allclose(out.mean(axis=(0, 2, 3)), 0, atol=1e-12)
    np.testing.assert_allclose(out.var(axis=(0, 2, 3)), 1, rtol=1e-4)


# --- errors that say what was wrong ---

@pytest.mark.parametrize("call, error, words", [
    (lambda: F.conv2d(Tensor(np.ones((2, 3, 8, 8))), Tensor(np.ones((4, 1, 3, 3)))),
     ValueError, r"weight of shape \(4, 1, 3, 3\) with groups=1 takes 1 input channels.*"
                 r"\(2, 3, 8, 8\) has 3"),
    (lambda: F.conv2d(Tensor(np.ones((1, 1, 2, 2))), Tensor(np.ones((1, 1, 3, 3)))),
     ValueError, r"kernel \(3, 3\).*larger than the padded input \(2, 2\)"),
    (lambda: F.conv2d(Tensor(np.ones((1, 1, 4, 4))), Tensor(np.ones((1, 1, 3, 3))),
                      padding="full"), ValueError, "invalid padding string 'full'"),
    (lambda: F.conv2d(Tensor(np.ones((1, 1, 4, 4))), Tensor(np.ones((1, 1, 3, 3))), stride=2,
                      padding="same"), ValueError, "not supported for strided"),
    (lambda: F.conv2d(Tensor(np.ones((1, 4, 4))), Tensor(np.ones((1, 1, 3)))),
     ValueError, r"weight of shape \(out_channels, .*got \(1, 1, 3\)"),
    (lambda: F.conv2d(Tensor(np.ones((4, 4))), Tensor(np.ones((1, 1, 3, 3)))),
     ValueError, r"input of shape \(N, C, H, W\) or \(C, H, W\), got \(4, 4\)"),
    (lambda: F.conv2d(Tensor(np.ones((1, 1, 4, 4), np.float32)), Tensor(np.ones((1, 1, 3, 3)))),
     TypeError, "input torch.float32, weight torch.float64"),
    (lambda: F.conv2d(Tensor(np.ones((1, 1, 4, 4))), Tensor(np.ones((2, 1, 3, 3))),
                      Tensor(np.ones(3))), ValueError, r"bias of shape \(3,\).*needs shape \(2,\)"),
    (lambda: F.max_pool2d(Tensor(np.ones((1, 1, 2, 2))), 3),  # (ceil_mode fits it once)
     ValueError, r"kernel \(3, 3\).*is larger than the padded input \(2, 2\)"),
    (lambda: F.max_pool2d(Tensor(np.ones((1, 1, 4, 4))), 2, padding=2),
     ValueError, "at most half of the kernel"),
    (lambda: F.avg_pool2d(Tensor(np.ones((1, 1, 4, 4))), 0), ValueError, "kernel_size must be"),
    (lambda: F.adaptive_avg_pool2d(Tensor(np.ones((1, 1, 7, 7))), 0),
     ValueError, r"a positive int, pair or None\); got input \(1, 1, 7, 7\) and output_size 0"),
    (lambda: F.pad(Tensor(np.ones((2, 3))), (1,)), ValueError, "pairs"),
    (lambda: F.pad(Tensor(np.ones((2, 3))), (-2, -2)), ValueError, "negative size"),
    (lambda: F.pad(Tensor(np.ones((2, 3))), (3, 0), mode="reflect"),
     ValueError, r"reflect padding of dim 1 \(size 3\) by \(3, 0\) needs widths from 0 to 2"),
    (lambda: F.pad(Tensor(np.ones((2, 3))), (1, 1), mode="mirror"),
     ValueError, "mode 'mirror' is not one of 'constant', 'reflect'"),
    (lambda: nn.Conv2d(3, 4, 3, groups=2), ValueError, "divisible by groups"),
    (lambda: nn.Conv2d(3, 4, 3, padding_mode="mirror"), ValueError,
     r"padding_mode must be one of \['zeros', 'reflect', 'replicate', 'circular'\]"),
    (lambda: nn.BatchNorm2d(3)(Tensor(np.ones((2, 3, 4)))), ValueError,
     r"\(n, 3, h, w\), got \(2, 3, 4\)"),
    (lambda: nn.BatchNorm3d(3)(Tensor(np.ones((2, 3, 4, 4)))), ValueError,
     r"\(n, 3, d, h, w\), got \(2, 3, 4, 4\)"),
    (lambda: F.conv3d(Tensor(np.ones((1, 4, 4))), Tensor(np.ones((1, 1, 3, 3, 3)))),
     ValueError, r"conv3d takes input of shape \(N, C, D, H, W\) or \(C, D, H, W\), got "
                 r"\(1, 4, 4\)"),
    (lambda: F.conv3d(Tensor(np.ones((1, 1, 4, 4, 4))), Tensor(np.ones((1, 1, 3, 3)))),
     ValueError, r"weight of shape \(out_channels, in_channels / groups, kD, kH, kW\), got "
                 r"\(1, 1, 3, 3\)"),
    (lambda: F.conv3d(Tensor(np.ones((1, 1, 2, 4, 4))), Tensor(np.ones((1, 1, 3, 3, 3)))),
     ValueError, r"kernel \(3, 3, 3\).*larger than the padded input \(2, 4, 4\)"),
    (lambda: F.max_pool3d(Tensor(np.ones((4, 4, 4, 4, 4, 4))), 2), ValueError,
     r"max_pool3d takes input of shape \(N, C, D, H, W\) or \(C, D, H, W\), got "
     r"\(4, 4, 4, 4, 4, 4\)"),
    (lambda: F.avg_pool3d(Tensor(np.ones((4, 4, 4))), 2), ValueError,
     r"avg_pool3d takes input of shape \(N, C, D, H, W\)"),
    (lambda: F.avg_pool3d(Tensor(np.ones((1, 1, 4, 4, 4))), (2, 2, 2), padding=(0, 2, 0)),
     ValueError, r"avg_pool3d: padding \(0, 2, 0\) should be at most half of the kernel"),
    (lambda: F.max_pool3d(Tensor(np.ones((1, 1, 4, 4, 4))), (2, 2)), ValueError,
     r"kernel_size must be an int >= 1 or 3 of them, got \(2, 2\)"),
    (lambda: F.adaptive_avg_pool3d(Tensor(np.ones((1, 1, 4, 4))), (2, 2)), ValueError,
     r"a positive int, triple or None\); got input \(1, 1, 4, 4\) and output_size \(2, 2\)"),
])
def test_bad_input_is_refused_with_what_was_wrong(call, error, words):
    with pytest.raises(error, match=words):
        call()


# --- a small CNN on real MNIST digits, on both engines ---

def _cnn(nn):
    return nn.Sequential(nn.Conv2d(1, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Conv2d(8, 16, 3), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(),
                         nn.Linear(16, 10))


def test_a_small_cnn_trains_on_mnist_as_in_pytorch(torch, mnist_test):
    torch.set_default_dtype(torch.float32)
    images, labels = mnist_test
    x, y = images[:64].reshape(-1, 1, 28, 28), labels[:64]
    engine.manual_seed(0)
    torch.manual_seed(0)
    ours, theirs = _cnn(nn), _cnn(torch.nn)
    opt = nn.SGD(ours.parameters(), lr=0.5)
    topt = torch.optim.SGD(theirs.parameters(), lr=0.5)
    losses, want = [], []
    for _ in range(5):
        loss = F.cross_entropy(ours(Tensor(x)), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        tloss = torch.nn.functional.cross_entropy(theirs(torch.tensor(x)), torch.tensor(y))
        topt.zero_grad()
        tloss.backward()
        topt.step()
        losses.append(loss.item())
        want.append(tloss.item())
    np.testing.assert_allclose(losses, want, rtol=1e-5, atol=1e-5)
    assert losses[-1] < losses[0]  # it learns


@pytest.mark.parametrize("mode", ["reflect", "replicate", "circular"])
@pytest.mark.parametrize("padding", [1, (1, 2), "same"])
def test_conv2d_padding_modes_are_pytorchs(torch, mode, padding):
    x = np.random.default_rng(0).normal(size=(2, 3, 5, 6))
    engine.manual_seed(0)
    ours = nn.Conv2d(3, 4, 3, padding=padding, padding_mode=mode).double()
    theirs = torch.nn.Conv2d(3, 4, 3, padding=padding, padding_mode=mode).double()
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
    assert repr(ours) == repr(theirs)
    a, b = Tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    ours(a).sum().backward()
    theirs(b).sum().backward()
    np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-10, atol=1e-12)


def test_padding_modes_by_hand():
    row = Tensor(np.array([[1.0, 2.0, 3.0]]))
    assert F.pad(row, (2, 1), "reflect").tolist() == [[3.0, 2.0, 1.0, 2.0, 3.0, 2.0]]
    assert F.pad(row, (2, 1), "replicate").tolist() == [[1.0, 1.0, 1.0, 2.0, 3.0, 3.0]]
    assert F.pad(row, (2, 1), "circular").tolist() == [[2.0, 3.0, 1.0, 2.0, 3.0, 1.0]]


def test_ceil_mode_adds_the_partly_covered_last_windows():
    x = Tensor(np.arange(25.0).reshape(1, 1, 5, 5))
    # windows of 2 at stride 2 over 5: starts 0, 2 and, with ceil_mode, 4 (one entry)
    assert F.max_pool2d(x, 2, ceil_mode=True).tolist() == [[[[6.0, 8.0, 9.0],
                                                             [16.0, 18.0, 19.0],
                                                             [21.0, 23.0, 24.0]]]]
    assert F.avg_pool2d(x, 2, ceil_mode=True)[0, 0, 2].tolist() == [20.5, 22.5, 24.0]
