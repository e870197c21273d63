"""nn/conv_transpose.py: conv_transpose1d/2d/3d against their definition (every input entry
times its kernel added at its window), as the adjoint of conv2d, against central
differences and against PyTorch (values, the gradients of input, weight and bias, second
derivatives, float32); ConvTranspose1d/2d/3d's initial weights, names, printout, output_size
and state_dict loading as PyTorch's; clear errors; and a small DCGAN generator
(ConvTranspose2d, BatchNorm2d, ReLU, Tanh) step for step beside PyTorch's."""
from __future__ import annotations

import numpy as np
import pytest

import engine
import nn
import nn.functional as F
from engine import Tensor

# (input shape, weight shape, stride, padding, output_padding, groups, dilation)
SETTINGS_2D = [
    ((2, 4, 3, 3), (4, 3, 3, 3), 1, 0, 0, 1, 1),
    ((2, 4, 5, 6), (4, 3, 3, 2), 2, 1, 1, 1, 1),
    ((1, 4, 4, 5), (4, 2, 3, 3), 3, 2, 2, 2, 1),  # groups: 6 output channels
    ((2, 2, 5, 4), (2, 3, 2, 3), 2, 0, 1, 1, 2),  # dilation
    ((1, 4, 5, 3), (4, 1, 3, 2), 1, 1, 1, 4, 2),  # output_padding < dilation, stride 1
    ((2, 2, 3, 4), (2, 3, 3, 2), (2, 3), (1, 0), (1, 2), 1, (1, 2)),
    ((2, 2, 4, 4), (2, 3, 4, 4), 2, 3, 0, 1, 1),  # padding crops most of the windows
    ((3, 5, 4), (3, 2, 3, 3), 2, 1, 1, 1, 1),  # unbatched
]
SETTINGS_1D = [
    ((2, 4, 7), (4, 3, 3), 1, 0, 0, 1, 1),
    ((2, 4, 5), (4, 2, 4), 2, 1, 1, 2, 1),
    ((2, 2, 6), (2, 3, 3), 3, 2, 1, 1, 2),
    ((4, 5), (4, 2, 2), 2, 0, 0, 1, 1),  # unbatched
]
SETTINGS_3D = [
    ((2, 2, 3, 4, 3), (2, 3, 2, 3, 2), 1, 0, 0, 1, 1),
    ((1, 4, 3, 2, 3), (4, 1, 3, 2, 2), (2, 1, 2), (1, 0, 1), (1, 0, 0), 2, (1, 2, 1)),
    ((2, 3, 2, 3), (2, 2, 2, 2, 3), 2, 1, 1, 1, 1),  # unbatched
]
ALL = ([(2, s) for s in SETTINGS_2D] + [(1, s) for s in SETTINGS_1D]
       + [(3, s) for s in SETTINGS_3D])
IDS = [f"{nd}d-{i}" for i, (nd, _) in enumerate(ALL)]


def _arrays(setting, seed=0, dtype=np.float64):
    x_shape, w_shape, *_, groups, _ = setting
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(s).astype(dtype)
            for s in (x_shape, w_shape, (w_shape[1] * groups,))]


def _direct(x, w, b, stride, padding, output_padding, groups, dilation):
    """A transposed convolution by its definition, one input entry at a time: its channel's
    kernels times it, added at its window of the output (a test's reference only)."""
    nd = w.ndim - 2
    unbatched = x.ndim == nd + 1
    x = x[None] if unbatched else x
    s, p, o, d = (np.broadcast_to(v, nd) for v in (stride, padding, output_padding, dilation))
    kernel, per_group, out_group = w.shape[2:], x.shape[1] // groups, w.shape[1]
    full = [(n - 1) * st + dl * (k - 1) + 1 + op
            for n, k, st, dl, op in zip(x.shape[2:], kernel, s, d, o)]
    out = np.zeros((x.shape[0], out_group * groups, *full))
    for at in np.ndindex(*x.shape[2:]):
        for c in range(x.shape[1]):
            g = c // per_group
            for k in np.ndindex(*kernel):
                place = tuple(i * st + j * dl for i, j, st, dl in zip(at, k, s, d))
                out[(slice(None), slice(g * out_group, (g + 1) * out_group), *place)] += (
                    x[(slice(None), c, *at)][:, None] * w[(c, slice(None), *k)])
    out = out[(..., *(slice(pi, f - pi) for pi, f in zip(p, full)))]
    out = out + b.reshape(-1, *(1,) * nd)
    return out[0] if unbatched else out


def _function(nd):
    return getattr(F, f"conv_transpose{nd}d")


@pytest.mark.parametrize("nd, setting", ALL, ids=IDS)
def test_conv_transpose_is_each_input_entry_times_its_kernel_added_at_its_window(nd, setting):
    x, w, b = _arrays(setting)
    got = _function(nd)(Tensor(x), Tensor(w), Tensor(b), *setting[2:])
    np.testing.assert_allclose(got.numpy(), _direct(x, w, b, *setting[2:]), rtol=1e-12,
                               atol=1e-12)


@pytest.mark.parametrize("nd, setting", ALL, ids=IDS)
def test_conv_transpose_is_the_adjoint_of_the_convolution(nd, setting):
    """<conv_transpose(y, w), x> = <y, conv(x, w)> for every x and y: the convolution with
    the same settings maps the transposed output's shape back to the input's (and past it
    where output_padding is at least the stride, a dilation's extra: those entries unused)."""
    y, w, _ = _arrays(setting)
    stride, padding, _, groups, dilation = setting[2:]
    up = _function(nd)(Tensor(y), Tensor(w), None, *setting[2:]).numpy()
    x = np.random.default_rng(1).standard_normal(up.shape)
    conv = getattr(F, f"conv{nd}d")
    down = conv(Tensor(x), Tensor(w), None, stride, padding, dilation, groups).numpy()
    down = down[(..., *(slice(n) for n in y.shape[y.ndim - nd:]))]
    assert down.shape == y.shape
    np.testing.assert_allclose((up * x).sum(), (y * down).sum(), rtol=1e-12)


@pytest.mark.parametrize("nd, setting", [ALL[i] for i in (1, 2, 5, 7, 9, 11, 13, 14)],
                         ids=[IDS[i] for i in (1, 2, 5, 7, 9, 11, 13, 14)])
def test_gradients_of_input_weight_and_bias_match_central_differences(nd, setting):
    x, w, b = (Tensor(a, requires_grad=True) for a in _arrays(setting))
    assert engine.gradcheck(lambda x, w, b: _function(nd)(x, w, b, *setting[2:]), (x, w, b))


@pytest.mark.parametrize("nd, setting", ALL, ids=IDS)
def test_values_and_gradients_match_pytorch(torch, nd, setting):
    arrays = _arrays(setting)
    ours = [Tensor(a, requires_grad=True) for a in arrays]
    theirs = [torch.tensor(a, requires_grad=True) for a in arrays]
    out = _function(nd)(*ours, *setting[2:])
    want = getattr(torch.nn.functional, f"conv_transpose{nd}d")(*theirs, *setting[2:])
    np.testing.assert_allclose(out.numpy(), want.detach().numpy(), rtol=1e-12, atol=1e-12)
    assert out.grad_fn.name() == want.grad_fn.name()
    g = np.random.default_rng(2).standard_normal(want.shape)
    out.backward(Tensor(g))
    want.backward(torch.tensor(g))
    for name, a, t in zip(("input", "weight", "bias"), ours, theirs):
        np.testing.assert_allclose(np.asarray(a.grad), t.grad.numpy(), rtol=1e-12, atol=1e-12,
                                   err_msg=name)


def test_grad_fn_is_pytorchs_convolution():
    x, w = Tensor(np.ones((1, 2, 3, 3)), requires_grad=True), Tensor(np.ones((2, 1, 2, 2)))
    assert F.conv_transpose2d(x, w).grad_fn.name() == "ConvolutionBackward0"
    assert F.conv_transpose2d(x, w, padding=1, output_padding=1, stride=2).grad_fn.name() == \
        "ConvolutionBackward0"
    assert F.conv_transpose2d(x[0], w).grad_fn.name() == "SqueezeBackward1"  # as PyTorch's


def test_second_derivatives_match_pytorch(torch):
    setting = SETTINGS_2D[1]
    arrays = _arrays(setting)
    ours = [Tensor(a, requires_grad=True) for a in arrays]
    theirs = [torch.tensor(a, requires_grad=True) for a in arrays]
    got, want = [], []
    for m, fn, ts in ((engine, F.conv_transpose2d, ours),
                      (torch, torch.nn.functional.conv_transpose2d, theirs)):
        out = fn(*ts, *setting[2:])
        grads = m.autograd.grad((out * out).sum(), ts[:2], create_graph=True)
        (grads[0] ** 2).sum().__add__((grads[1] ** 3).sum()).backward()
        (got if m is engine else want).append([np.asarray(t.grad) if m is engine else
                                               t.grad.numpy() for t in ts])
    for name, a, t in zip(("input", "weight", "bias"), got[0], want[0]):
        np.testing.assert_allclose(a, t, rtol=1e-10, atol=1e-10, err_msg=name)


@pytest.mark.parametrize("nd, setting", [ALL[1], ALL[2], ALL[9], ALL[13]],
                         ids=[IDS[1], IDS[2], IDS[9], IDS[13]])
def test_float32_stays_float32_and_matches_pytorch(torch, nd, setting):
    arrays = _arrays(setting, dtype=np.float32)
    ours = [Tensor(a, requires_grad=True) for a in arrays]
    theirs = [torch.tensor(a, requires_grad=True) for a in arrays]
    out = _function(nd)(*ours, *setting[2:])
    want = getattr(torch.nn.functional, f"conv_transpose{nd}d")(*theirs, *setting[2:])
    assert out.dtype == np.float32
    np.testing.assert_allclose(out.numpy(), want.detach().numpy(), rtol=1e-5, atol=1e-5)
    g = np.random.default_rng(3).standard_normal(want.shape).astype(np.float32)
    out.backward(Tensor(g))
    want.backward(torch.tensor(g))
    for a, t in zip(ours, theirs):
        assert a.grad.dtype == np.float32
        np.testing.assert_allclose(np.asarray(a.grad), t.grad.numpy(), rtol=1e-4, atol=1e-4)


def test_a_stride_2_transposed_convolution_by_hand():
    """Each entry's 2x2 kernel (1, 2; 3, 4) placed 2 apart: the blocks tile the output."""
    x = Tensor(np.array([[[[1.0, 10.0]]]]))
    w = Tensor(np.array([[[[1.0, 2.0], [3.0, 4.0]]]]))
    assert F.conv_transpose2d(x, w, stride=2).tolist() == [[[[1, 2, 10, 20], [3, 4, 30, 40]]]]
    # stride 1: the windows overlap and add; padding 1 takes the border off
    assert F.conv_transpose2d(x, w).tolist() == [[[[1, 12, 20], [3, 34, 40]]]]
    assert F.conv_transpose1d(Tensor([[[1.0, 10.0]]]), Tensor([[[1.0, 2.0, 3.0]]]), padding=1,
                              output_padding=0).tolist() == [[[12.0, 23.0]]]


# --- the layers ---

LAYERS = [
    lambda nn: nn.ConvTranspose2d(4, 6, 3),
    lambda nn: nn.ConvTranspose2d(4, 6, (3, 2), stride=2, padding=1, output_padding=1,
                                  groups=2, bias=False, dilation=2),
    lambda nn: nn.ConvTranspose1d(2, 3, 4, stride=2),
    lambda nn: nn.ConvTranspose1d(4, 8, 3, padding=1, groups=4),
    lambda nn: nn.ConvTranspose3d(2, 4, 3),
    lambda nn: nn.ConvTranspose3d(4, 6, (3, 2, 2), stride=(2, 1, 1), padding=(1, 0, 1),
                                  output_padding=(1, 0, 0), groups=2, bias=False, dilation=2),
]


@pytest.mark.parametrize("make", LAYERS)
def test_layers_start_from_pytorchs_weights_after_the_same_seed(torch, make):
    torch.set_default_dtype(torch.float32)  # the fixture's float64 would draw other numbers
    engine.manual_seed(0)
    torch.manual_seed(0)
    ours, theirs = make(nn), make(torch.nn)
    want = theirs.state_dict()
    assert list(ours.state_dict()) == list(want)
    for name, array in ours.state_dict().items():
        assert array.dtype == np.float32
        np.testing.assert_array_equal(array, want[name].numpy(), err_msg=name)
    assert repr(ours) == repr(theirs)


def test_layers_weight_shape_init_range_and_printout_without_torch():
    engine.manual_seed(0)
    layer = nn.ConvTranspose2d(4, 6, (3, 2), stride=2, groups=2)
    assert layer.weight.shape == (4, 3, 3, 2) and layer.bias.shape == (6,)
    assert [name for name, _ in layer.named_parameters()] == ["weight", "bias"]
    bound = 1 / np.sqrt(3 * 3 * 2)  # the fan-in is the weight's dim 1 times the kernel
    assert np.abs(layer.weight.numpy()).max() <= bound and np.abs(layer.bias.numpy()).max() <= bound
    assert np.abs(layer.weight.numpy()).max() > 0.8 * bound
    assert repr(layer) == "ConvTranspose2d(4, 6, kernel_size=(3, 2), stride=(2, 2), groups=2)"
    # recorded from torch 2.13 after torch.manual_seed(0)
    engine.manual_seed(0)
    first = nn.ConvTranspose1d(2, 3, 4, stride=2).weight.numpy()[0, 0]
    np.testing.assert_array_equal(first, np.array(
        [-0.0021612588316202164, 0.15485791862010956, -0.2375926673412323, -0.21244730055332184],
        np.float32))


def test_a_layer_loads_pytorchs_state_dict_and_computes_the_same(torch):
    theirs = torch.nn.ConvTranspose2d(3, 4, 3, stride=2, padding=1, output_padding=1)
    ours = nn.ConvTranspose2d(3, 4, 3, stride=2, padding=1, output_padding=1, dtype=np.float64)
    ours.load_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()})
    x = np.random.default_rng(4).standard_normal((2, 3, 5, 4))
    np.testing.assert_allclose(ours(Tensor(x)).numpy(),
                               theirs(torch.tensor(x)).detach().numpy(), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("output_size", [(12, 11), [2, 4, 11, 12], (11, 12)])
def test_forward_output_size_picks_the_output_padding_as_pytorch(torch, output_size):
    theirs = torch.nn.ConvTranspose2d(3, 4, 3, stride=2)
    ours = nn.ConvTranspose2d(3, 4, 3, stride=2, dtype=np.float64)
    ours.load_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()})
    x = np.random.default_rng(5).standard_normal((2, 3, 5, 5))
    out, want = ours(Tensor(x), output_size), theirs(torch.tensor(x), output_size)
    assert out.shape == tuple(want.shape)
    np.testing.assert_allclose(out.numpy(), want.detach().numpy(), rtol=1e-12, atol=1e-12)


def test_forward_output_size_without_torch():
    layer = nn.ConvTranspose2d(1, 1, 3, stride=2)
    x = Tensor(np.ones((1, 1, 5, 5), np.float32))
    assert layer(x).shape == (1, 1, 11, 11)
    assert layer(x, output_size=(12, 11)).shape == (1, 1, 12, 11)
    with pytest.raises(ValueError, match=r"requested an output size of \[13, 11\], but valid "
                                         r"sizes range from \[11, 11\] to \[12, 12\]"):
        layer(x, output_size=(13, 11))


# --- errors ---

def _ones(*shape):
    return Tensor(np.ones(shape))


@pytest.mark.parametrize("call, error, words", [
    (lambda: F.conv_transpose2d(_ones(1, 4, 5, 5), _ones(4, 3, 3, 3), stride=2,
                                output_padding=2),
     ValueError, r"output_padding \(2, 2\) must be smaller than either stride \(2, 2\) or "
                 r"dilation \(1, 1\)"),
    (lambda: F.conv_transpose2d(_ones(1, 4, 5, 5), _ones(4, 3, 3, 3), output_padding=1),
     ValueError, "output_padding .* must be smaller than either stride"),
    (lambda: F.conv_transpose2d(_ones(1, 3, 5, 5), _ones(4, 3, 3, 3)),
     ValueError, r"weight of shape \(4, 3, 3, 3\) with groups=1 takes 4 input channels.*"
                 r"\(1, 3, 5, 5\) has 3"),
    (lambda: F.conv_transpose2d(_ones(1, 4, 5, 5), _ones(4, 3, 3, 3), groups=3),
     ValueError, "takes 4 input channels \\(divisible by groups\\)"),
    (lambda: F.conv_transpose2d(_ones(1, 4, 5, 5), _ones(4, 3, 3)),
     ValueError, r"weight of shape \(in_channels, out_channels / groups, kH, kW\), got "
                 r"\(4, 3, 3\)"),
    (lambda: F.conv_transpose2d(_ones(4, 5), _ones(4, 3, 3, 3)),
     ValueError, r"input of shape \(N, C, H, W\) or \(C, H, W\), got \(4, 5\)"),
    (lambda: F.conv_transpose2d(_ones(1, 4, 5, 5), _ones(4, 3, 3, 3), _ones(4)),
     ValueError, r"bias of shape \(4,\).*needs shape \(3,\)"),
    (lambda: F.conv_transpose2d(_ones(1, 4, 2, 2), _ones(4, 3, 3, 3), padding=3),
     ValueError, r"gives an output of size \(-2, -2\)"),
    (lambda: F.conv_transpose2d(Tensor(np.ones((1, 4, 5, 5), np.float32)), _ones(4, 3, 3, 3)),
     TypeError, "input torch.float32, weight torch.float64"),
    (lambda: F.conv_transpose1d(_ones(1, 4, 5), _ones(4, 3, 3), stride=0),
     ValueError, "stride must be an int >= 1"),
    (lambda: nn.ConvTranspose2d(3, 4, 3, groups=2), ValueError, "divisible by groups"),
    (lambda: nn.ConvTranspose2d(3, 4, 3, padding_mode="reflect"), ValueError,
     'Only "zeros" padding mode is supported for ConvTranspose2d'),
    (lambda: nn.ConvTranspose1d(3, 4, 3)(_ones(1, 3, 5), output_size=(1, 2, 3, 4)),
     ValueError, "for 3D input, output_size must have 1 or 3 elements"),
    (lambda: F.conv_transpose3d(_ones(2, 3, 3), _ones(2, 3, 2, 2, 2)),
     ValueError, r"input of shape \(N, C, D, H, W\) or \(C, D, H, W\), got \(2, 3, 3\)"),
    (lambda: F.conv_transpose3d(_ones(1, 2, 3, 3, 3), _ones(2, 3, 2, 2)),
     ValueError, r"weight of shape \(in_channels, out_channels / groups, kD, kH, kW\), got "
                 r"\(2, 3, 2, 2\)"),
    (lambda: nn.ConvTranspose3d(2, 3, 2)(_ones(1, 2, 3, 3, 3), output_size=(5, 5)),
     ValueError, "for 5D input, output_size must have 3 or 5 elements"),
])
def test_bad_input_is_refused_with_what_was_wrong(call, error, words):
    with pytest.raises(error, match=words):
        call()


# --- a DCGAN generator, as the PyTorch tutorial builds it, small ---

def _generator(nn, nz=8, ngf=4, nc=3):
    return nn.Sequential(
        nn.ConvTranspose2d(nz, ngf * 4, 4, 1, 0, bias=False), nn.BatchNorm2d(ngf * 4),
        nn.ReLU(True),
        nn.ConvTranspose2d(ngf * 4, ngf * 2, 4, 2, 1, bias=False), nn.BatchNorm2d(ngf * 2),
        nn.ReLU(True),
        nn.ConvTranspose2d(ngf * 2, nc, 4, 2, 1, bias=False), nn.Tanh())


def _weights_init(nn):
    """The tutorial's custom initialisation, applied with model.apply."""
    def init(m):
        classname = m.__class__.__name__
        if classname.find("Conv") != -1:
            nn.init.normal_(m.weight.data, 0.0, 0.02)
        elif classname.find("BatchNorm") != -1:
            nn.init.normal_(m.weight.data, 1.0, 0.02)
            nn.init.constant_(m.bias.data, 0)
    return init


def _dcgan_steps(m, nn, steps=3):
    """A seeded generator, the tutorial's init, and `steps` Adam steps pulling its images
    towards a fixed target: outputs, losses, and the gradients of the last step."""
    m.manual_seed(0)
    net = _generator(nn)
    net.apply(_weights_init(nn))
    noise, target = m.randn(4, 8, 1, 1), m.rand(4, 3, 16, 16) * 2 - 1
    optimizer = m.optim.Adam(net.parameters(), lr=2e-3, betas=(0.5, 0.999))
    outputs, losses = [], []
    for _ in range(steps):
        optimizer.zero_grad()
        out = net(noise)
        loss = ((out - target) ** 2).mean()
        loss.backward()
        optimizer.step()
        outputs.append(np.array(out.detach().numpy()))
        losses.append(loss.item())
    grads = {name: np.array(p.grad.numpy()) for name, p in net.named_parameters()}
    return net, outputs, losses, grads


def test_a_dcgan_generator_trains_step_for_step_as_pytorchs(torch):
    torch.set_default_dtype(torch.float32)  # the tutorial's dtype, and its seeded draws
    engine.manual_seed(0)
    torch.manual_seed(0)
    ours, theirs = _dcgan_steps(engine, nn), _dcgan_steps(torch, torch.nn)
    assert ours[1][0].shape == (4, 3, 16, 16) and ours[1][0].dtype == np.float32
    np.testing.assert_allclose(ours[1][0], theirs[1][0], rtol=1e-5, atol=1e-6)
    for got, want in zip(ours[1], theirs[1]):
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(ours[2], theirs[2], rtol=1e-5)
    for name, grad in ours[3].items():
        assert grad.dtype == np.float32
        np.testing.assert_allclose(grad, theirs[3][name], rtol=1e-3, atol=1e-7, err_msg=name)
    for name, array in ours[0].state_dict().items():  # running statistics too
        np.testing.assert_allclose(array, theirs[0].state_dict()[name].numpy(), rtol=1e-4,
                                   atol=1e-6, err_msg=name)


def test_a_dcgan_generator_as_recorded_from_pytorch():
    """The same run without torch: its first image's corner and losses as torch 2.13 gave."""
    _, outputs, losses, grads = _dcgan_steps(engine, nn)
    np.testing.assert_allclose(outputs[0][0, :, 0, :3], [
        [0.0683491, 0.0659525, 0.0963323], [0.0678238, -0.1004791, 0.0532729],
        [-0.0229281, 0.1115401, -0.0616583]], atol=2e-6)
    np.testing.assert_allclose(losses, [0.34224567, 0.32938498, 0.32027796], rtol=1e-5)
    assert {name: g.shape for name, g in grads.items()} == {
        "0.weight": (8, 16, 4, 4), "1.weight": (16,), "1.bias": (16,), "3.weight": (16, 8, 4, 4),
        "4.weight": (8,), "4.bias": (8,), "6.weight": (8, 3, 4, 4)}

