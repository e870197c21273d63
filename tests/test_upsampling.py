"""nn/upsampling.py: interpolate in every mode by hand, against central differences and
against PyTorch over a grid of sizes, scale factors and align_corners (values, gradients,
grad_fn names, float32 kept), with antialias too; pixel_shuffle and pixel_unshuffle; the
Upsample modules' printouts; clear errors."""
from __future__ import annotations

import numpy as np
import pytest

import engine
import nn
import nn.functional as F
from engine import Tensor

# mode, spatial dims, align_corners values it takes
MODES = [("nearest", 1, [None]), ("nearest", 2, [None]), ("nearest", 3, [None]),
         ("nearest-exact", 1, [None]), ("nearest-exact", 2, [None]), ("linear", 1, [False, True]),
         ("bilinear", 2, [False, True]), ("bicubic", 2, [False, True]),
         ("trilinear", 3, [False, True]), ("area", 1, [None]), ("area", 2, [None])]
CASES = [(mode, nd, corners, n, how) for mode, nd, corners_taken in MODES
         for corners in corners_taken for n in (1, 4, 5)
         for how in ({"size": 1}, {"size": 3}, {"size": 8}, {"size": 13},
                     {"scale_factor": 2}, {"scale_factor": 0.5}, {"scale_factor": 2.5},
                     {"scale_factor": 1 / 3}, {"scale_factor": 1.7, "recompute_scale_factor": True})
         if "size" in how or int(n * how["scale_factor"]) >= 1]


def _call(f, mode, nd, corners, n, how, x):
    """f (ours or PyTorch's interpolate) at a case: the other dims' sizes fixed, so that a
    case with one dim keeping its size has the others change."""
    extra = {"size": (how["size"], *(7, 2)[:nd - 1])} if "size" in how else {
        **how, "scale_factor": (how["scale_factor"], *(2.0, 0.5)[:nd - 1])}
    return f(x, mode=mode, align_corners=corners, **extra)


def _input(nd, n, dtype=np.float64, seed=0):
    return np.random.default_rng(seed).standard_normal((2, 3, n, *(3, 4)[:nd - 1])).astype(dtype)


@pytest.mark.parametrize("mode, nd, corners, n, how", CASES)
def test_values_gradients_and_grad_fn_match_pytorch(torch, mode, nd, corners, n, how):
    x = _input(nd, n)
    ours, theirs = Tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    out = _call(F.interpolate, mode, nd, corners, n, how, ours)
    want = _call(torch.nn.functional.interpolate, mode, nd, corners, n, how, theirs)
    assert out.shape == tuple(want.shape)
    np.testing.assert_allclose(out.numpy(), want.detach().numpy(), rtol=1e-12, atol=1e-14)
    assert out.grad_fn.name() == want.grad_fn.name()
    g = np.random.default_rng(1).standard_normal(want.shape)
    out.backward(Tensor(g))
    want.backward(torch.tensor(g))
    np.testing.assert_allclose(np.asarray(ours.grad), theirs.grad.numpy(), rtol=1e-12,
                               atol=1e-13)


@pytest.mark.parametrize("mode, nd, corners", [(m, nd, c[-1]) for m, nd, c in MODES])
def test_gradients_match_central_differences(mode, nd, corners):
    x = Tensor(_input(nd, 4), requires_grad=True)
    for how in ({"size": 7}, {"size": 3}, {"scale_factor": 1.5}):
        assert engine.gradcheck(lambda x: _call(F.interpolate, mode, nd, corners, 4, how, x),
                                (x,))


@pytest.mark.parametrize("mode, scale", [("nearest", 1.1), ("bicubic", 1.1), ("nearest", 1.2)])
def test_where_a_dim_keeps_its_size_the_gradient_is_that_of_the_values(torch, mode, scale):
    """With a scale factor that leaves a dim's size as it was (int(4 * 1.1) = 4), PyTorch's
    forward pass resamples that dim by the factor but its backward pass copies the gradient
    through as if nothing moved; the values here are PyTorch's, and so the gradient is
    theirs, checked by central differences instead."""
    nd = 1 if mode == "nearest" else 2
    x = _input(nd, 4)
    ours = Tensor(x, requires_grad=True)
    out = F.interpolate(ours, scale_factor=scale, mode=mode)
    want = torch.nn.functional.interpolate(torch.tensor(x), scale_factor=scale, mode=mode)
    np.testing.assert_allclose(out.numpy(), want.numpy(), rtol=1e-12, atol=1e-14)
    assert engine.gradcheck(lambda x: F.interpolate(x, scale_factor=scale, mode=mode), (ours,))


@pytest.mark.parametrize("size, scale", [((10, 6), 2.01), ((35, 30), 2.01), ((30, 40), 1.01),
                                         ((70, 3), 1.5)])
def test_nearest_takes_pytorchs_two_kernels_for_small_and_large_images(torch, size, scale):
    """PyTorch resizes images of at most 128 output rows and columns together with a kernel
    whose picks for sizes kept or doubled are i and i // 2 whatever the scale factor; larger
    ones with floor(i / scale)."""
    for dtype in (np.float64, np.float32):
        x = np.random.default_rng(2).standard_normal((1, 2, *size)).astype(dtype)
        for mode in ("nearest", "nearest-exact"):
            out = F.interpolate(Tensor(x), scale_factor=scale, mode=mode)
            want = torch.nn.functional.interpolate(torch.tensor(x), scale_factor=scale, mode=mode)
            np.testing.assert_array_equal(out.numpy(), want.numpy())


def test_nearest_picks_by_hand():
    x = Tensor(np.array([[[[1.0, 2.0], [3.0, 4.0]]]]))
    assert F.interpolate(x, scale_factor=2).tolist() == [[[[1, 1, 2, 2], [1, 1, 2, 2],
                                                           [3, 3, 4, 4], [3, 3, 4, 4]]]]
    row = Tensor(np.array([[[0.0, 1.0, 2.0]]]))
    assert F.interpolate(row, size=2).tolist() == [[[0.0, 1.0]]]  # floor(i * 3 / 2)
    assert F.interpolate(row, size=2, mode="nearest-exact").tolist() == [[[0.0, 2.0]]]
    # sizes kept or doubled: i and i // 2 in an image, floor(i / 2.01) in a row
    assert F.interpolate(Tensor(np.array([[[0.0, 1.0, 0.0, 0.0]]])), scale_factor=2.01,
                         mode="nearest").tolist() == [[[0, 0, 0, 1, 1, 0, 0, 0]]]
    assert F.interpolate(Tensor(np.array([[[[0.0, 1.0, 0.0, 0.0]]]])), scale_factor=2.01,
                         mode="nearest").numpy()[0, 0, 0].tolist() == [0, 0, 1, 1, 0, 0, 0, 0]


def test_linear_cubic_and_area_by_hand():
    pair = Tensor(np.array([[[0.0, 1.0]]]))
    assert F.interpolate(pair, size=3, mode="linear", align_corners=True).tolist() == \
        [[[0.0, 0.5, 1.0]]]
    # pixel centres line up: outputs at -0.25 (held at 0), 0.25, 0.75 and 1.25 (held at 1)
    assert F.interpolate(pair, size=4, mode="linear").tolist() == [[[0.0, 0.25, 0.75, 1.0]]]
    image = Tensor(np.array([[[[0.0, 1.0], [2.0, 3.0]]]]))
    assert F.interpolate(image, size=3, mode="bicubic", align_corners=True).tolist() == \
        [[[[0.0, 0.5, 1.0], [1.0, 1.5, 2.0], [2.0, 2.5, 3.0]]]]
    # the cubic kernel (A = -0.75) at the offsets 1.25, 0.75, ...: exact binary fractions
    spike = Tensor(np.array([[[[0.0, 1.0, 0.0, 0.0]]]]))
    assert F.interpolate(spike, size=(1, 8), mode="bicubic").numpy()[0, 0, 0].tolist() == [
        -0.10546875, 0.26171875, 0.87890625, 0.87890625, 0.26171875, -0.10546875, -0.03515625,
        0.0]
    # area: windows [0, 3) and [2, 5), the adaptive mean pool
    assert F.interpolate(Tensor(np.array([[[1.0, 2.0, 3.0, 4.0, 5.0]]])), size=2,
                         mode="area").tolist() == [[[2.0, 4.0]]]


def test_float32_stays_float32_and_grad_fn_names_are_pytorchs():
    x = Tensor(_input(2, 4, np.float32), requires_grad=True)
    names = {mode: F.interpolate(x, scale_factor=2, mode=mode) for mode in
             ("nearest", "nearest-exact", "bilinear", "bicubic", "area")}
    names["area to 1"] = F.interpolate(x, size=1, mode="area")
    names["linear"] = F.interpolate(x[0], scale_factor=2, mode="linear")
    names["trilinear"] = F.interpolate(x[None], scale_factor=2, mode="trilinear")
    assert {k: v.grad_fn.name() for k, v in names.items()} == {
        "nearest": "UpsampleNearest2DBackward0", "nearest-exact": "UpsampleNearestExact2DBackward0",
        "bilinear": "UpsampleBilinear2DBackward0", "bicubic": "UpsampleBicubic2DBackward0",
        "area": "AdaptiveAvgPool2DBackward0", "area to 1": "MeanBackward1",
        "linear": "UpsampleLinear1DBackward0", "trilinear": "UpsampleTrilinear3DBackward0"}
    for out in names.values():
        assert out.dtype == np.float32
        out.sum().backward()
        assert x.grad.dtype == np.float32


@pytest.mark.parametrize("mode, nd, corners", [(m, nd, c[-1]) for m, nd, c in MODES])
def test_float32_matches_pytorch(torch, mode, nd, corners):
    x = _input(nd, 5, np.float32)
    for how in ({"size": 9}, {"scale_factor": 0.7}):
        out = _call(F.interpolate, mode, nd, corners, 5, how, Tensor(x))
        want = _call(torch.nn.functional.interpolate, mode, nd, corners, 5, how,
                     torch.tensor(x))
        np.testing.assert_allclose(out.numpy(), want.numpy(), rtol=1e-5, atol=1e-6)


def test_integer_images_resize_by_nearest():
    x = Tensor(np.array([[[[1, 2], [3, 4]]]], np.uint8))
    out = F.interpolate(x, size=(3, 3))
    assert out.dtype == np.uint8 and out.tolist() == [[[[1, 1, 2], [1, 1, 2], [3, 3, 4]]]]


# --- antialias ---

AA_MODES = [("bilinear", False), ("bilinear", True), ("bicubic", False), ("bicubic", True),
            ("lanczos", False)]
AA_SIZES = [{"size": (3, 2)}, {"size": (7, 11)}, {"size": (1, 1)}, {"size": (9, 3)},
            {"scale_factor": 0.7}, {"scale_factor": (0.3, 2.5)}, {"scale_factor": (1.3, 0.45)}]


@pytest.mark.parametrize("mode, corners", AA_MODES)
@pytest.mark.parametrize("how", AA_SIZES, ids=str)
def test_antialias_matches_pytorch(torch, mode, corners, how):
    for shape in ((2, 3, 9, 5), (1, 2, 13, 13), (1, 1, 4, 6)):
        x = np.random.default_rng(0).standard_normal(shape)
        ours, theirs = Tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
        out = F.interpolate(ours, mode=mode, align_corners=corners, antialias=True, **how)
        want = torch.nn.functional.interpolate(theirs, mode=mode, align_corners=corners,
                                               antialias=True, **how)
        np.testing.assert_allclose(out.numpy(), want.detach().numpy(), rtol=1e-12, atol=1e-14)
        assert out.grad_fn.name() == want.grad_fn.name()  # e.g. UpsampleBicubic2DAaBackward0
        g = np.random.default_rng(1).standard_normal(want.shape)
        out.backward(Tensor(g))
        want.backward(torch.tensor(g))
        np.testing.assert_allclose(ours.grad.numpy(), theirs.grad.numpy(), rtol=1e-12,
                                   atol=1e-13)
        small = torch.tensor(x.astype(np.float32))  # float32 in, float32 out, as PyTorch's
        out32 = F.interpolate(Tensor(x.astype(np.float32)), mode=mode, align_corners=corners,
                              antialias=True, **how)
        assert out32.dtype == np.float32
        np.testing.assert_allclose(out32.numpy(), torch.nn.functional.interpolate(
            small, mode=mode, align_corners=corners, antialias=True, **how).numpy(),
            rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("mode, corners", AA_MODES)
def test_antialias_gradients_match_central_differences(mode, corners):
    x = Tensor(np.random.default_rng(2).standard_normal((1, 2, 7, 6)), requires_grad=True)
    for how in ({"size": (3, 2)}, {"size": (9, 4)}, {"scale_factor": 0.45}):
        assert engine.gradcheck(lambda x: F.interpolate(x, mode=mode, align_corners=corners,
                                                        antialias=True, **how), (x,))


def test_antialias_by_hand():
    # halving 4 entries with the triangle filter stretched to 2 entries on each side: output
    # 0 is centred at 1 and reaches entries 0, 1, 2 with weights 0.75, 0.75, 0.25 (over 1.75)
    row = Tensor(np.array([[[[1.0, 2.0, 3.0, 4.0]]]]))
    out = F.interpolate(row, size=(1, 2), mode="bilinear", antialias=True)
    np.testing.assert_allclose(out.numpy(), [[[[12 / 7, 23 / 7]]]], rtol=1e-15)
    without = F.interpolate(row, size=(1, 2), mode="bilinear")  # the plain one: 2 entries each
    np.testing.assert_allclose(without.numpy(), [[[[1.5, 3.5]]]], rtol=1e-15)
    # a constant image stays constant whatever the filter: the weights sum to 1
    flat = F.interpolate(Tensor(np.full((1, 1, 11, 7), 3.0)), size=(4, 3), mode="lanczos",
                         antialias=True)
    np.testing.assert_allclose(flat.numpy(), 3.0, rtol=1e-14)


# --- pixel shuffle ---

def test_pixel_shuffle_makes_each_channel_group_a_block_by_hand():
    x = Tensor(np.arange(8.0).reshape(1, 4, 1, 2))  # 4 channels, r = 2: one 2x2 block each
    out = F.pixel_shuffle(x, 2)
    assert out.tolist() == [[[[0.0, 2.0, 1.0, 3.0], [4.0, 6.0, 5.0, 7.0]]]]
    np.testing.assert_array_equal(F.pixel_unshuffle(out, 2).numpy(), x.numpy())


@pytest.mark.parametrize("shape, r", [((2, 12, 3, 4), 2), ((18, 2, 3), 3), ((2, 3, 4, 3, 2), 1),
                                      ((1, 2, 8, 3, 4), 2)])
def test_pixel_shuffle_and_unshuffle_match_pytorch(torch, shape, r):
    rng = np.random.default_rng(3)
    x = rng.standard_normal(shape)
    for name, arg in (("pixel_shuffle", x), ("pixel_unshuffle", x.reshape(
            *shape[:-3], shape[-3] // (r * r), shape[-2] * r, shape[-1] * r))):
        ours, theirs = Tensor(arg, requires_grad=True), torch.tensor(arg, requires_grad=True)
        out, want = getattr(F, name)(ours, r), getattr(torch.nn.functional, name)(theirs, r)
        np.testing.assert_array_equal(out.numpy(), want.detach().numpy())
        assert out.grad_fn.name() == want.grad_fn.name()
        g = rng.standard_normal(want.shape)
        out.backward(Tensor(g))
        want.backward(torch.tensor(g))
        np.testing.assert_array_equal(np.asarray(ours.grad), theirs.grad.numpy())


def test_pixel_shuffle_gradient_and_names_without_torch():
    x = Tensor(np.random.default_rng(4).standard_normal((1, 8, 2, 3)), requires_grad=True)
    assert engine.gradcheck(lambda x: F.pixel_shuffle(x, 2), (x,))
    assert F.pixel_shuffle(x, 2).grad_fn.name() == "PixelShuffleBackward0"
    assert F.pixel_unshuffle(x, 2 - 1).grad_fn.name() == "PixelUnshuffleBackward0"
    assert repr(nn.PixelShuffle(2)) == "PixelShuffle(upscale_factor=2)"
    assert repr(nn.PixelUnshuffle(3)) == "PixelUnshuffle(downscale_factor=3)"
    np.testing.assert_array_equal(nn.PixelShuffle(2)(x).numpy(), F.pixel_shuffle(x, 2).numpy())


# --- modules ---

UPSAMPLES = [
    lambda nn: nn.Upsample(scale_factor=2), lambda nn: nn.Upsample(size=(3, 4), mode="bilinear",
                                                                    align_corners=True),
    lambda nn: nn.Upsample(scale_factor=(2, 3), mode="bicubic"),
    lambda nn: nn.UpsamplingNearest2d(scale_factor=2), lambda nn: nn.UpsamplingBilinear2d(size=5),
    lambda nn: nn.Upsample(size=7, mode="nearest-exact"),
]


@pytest.mark.parametrize("make", UPSAMPLES)
def test_upsample_modules_print_and_compute_as_pytorchs(torch, make):
    ours, theirs = make(nn), make(torch.nn)
    assert repr(ours) == repr(theirs)
    x = _input(2, 4)
    np.testing.assert_allclose(ours(Tensor(x)).numpy(), theirs(torch.tensor(x)).numpy(),
                               rtol=1e-12, atol=1e-14)


def test_upsample_modules_without_torch():
    assert repr(nn.Upsample(scale_factor=2)) == "Upsample(scale_factor=2.0, mode='nearest')"
    assert repr(nn.UpsamplingBilinear2d(size=5)) == "UpsamplingBilinear2d(size=5, mode='bilinear')"
    x = Tensor(np.array([[[[0.0, 1.0]]]]))
    assert nn.UpsamplingBilinear2d(size=(1, 3))(x).tolist() == [[[[0.0, 0.5, 1.0]]]]
    assert nn.Upsample(scale_factor=(1, 2))(x).tolist() == [[[[0.0, 0.0, 1.0, 1.0]]]]


# --- errors ---

def _image(*shape, dtype=np.float64):
    return Tensor(np.ones(shape or (1, 1, 4, 4), dtype))


@pytest.mark.parametrize("call, error, words", [
    (lambda: F.interpolate(_image(), scale_factor=2, mode="cubic"), ValueError,
     "mode 'cubic' is not one of 'nearest', 'nearest-exact', 'area', 'linear'"),
    (lambda: F.interpolate(_image(), scale_factor=2, align_corners=True), ValueError,
     "align_corners can only be set with the interpolating modes"),
    (lambda: F.interpolate(_image(), size=3, scale_factor=2), ValueError,
     "exactly one of size or scale_factor, got both"),
    (lambda: F.interpolate(_image()), ValueError, "got neither"),
    (lambda: F.interpolate(_image(), size=(3, 4, 5)), ValueError,
     r"spatial dims \[4, 4\] needs an output size of 2 ints, got \(3, 4, 5\)"),
    (lambda: F.interpolate(_image(), size=(3.0, 4)), TypeError, "size must be an int or 2 ints"),
    (lambda: F.interpolate(_image(), scale_factor=(2, 3, 4)), ValueError, "needs 2 scale factors"),
    (lambda: F.interpolate(_image(1, 1, 4), scale_factor=2, mode="bicubic"), ValueError,
     r"mode 'bicubic' takes 4D input \(N, C, \*spatial\), got 3D input of shape \(1, 1, 4\)"),
    (lambda: F.interpolate(_image(), scale_factor=2, mode="linear"), ValueError,
     "mode 'linear' takes 3D input"),
    (lambda: F.interpolate(_image(4, 4), scale_factor=2), ValueError,
     "takes 3D, 4D or 5D input"),
    (lambda: F.interpolate(_image(dtype=np.int64), scale_factor=2, mode="bilinear"), TypeError,
     "mode 'bilinear' takes float input, got torch.int64"),
    (lambda: F.interpolate(_image(), scale_factor=2, antialias=True), ValueError,
     r"antialias=True takes modes 'bilinear', 'bicubic' and 'lanczos' on 4D input \(N, C, H, "
     r"W\), got mode 'nearest' on 4D input"),
    (lambda: F.interpolate(_image(1, 1, 4), scale_factor=0.5, mode="linear", antialias=True),
     ValueError, "got mode 'linear' on 3D input"),
    (lambda: F.interpolate(_image(), scale_factor=0.5, mode="lanczos"), ValueError,
     "mode 'lanczos' needs antialias=True"),
    (lambda: F.interpolate(_image(), scale_factor=0.5, mode="lanczos", antialias=True,
                           align_corners=True), ValueError, "takes no align_corners=True"),
    (lambda: F.interpolate(_image(), size=3, recompute_scale_factor=True), ValueError,
     "recompute_scale_factor is not meaningful with an explicit size"),
    (lambda: F.interpolate(_image(), scale_factor=0.2), ValueError,
     r"sizes should be greater than 0, got input \(4, 4\) and output \(0, 0\)"),
    (lambda: F.pixel_shuffle(_image(1, 5, 2, 2), 2), ValueError,
     r"input.size\(-3\)=5 is not divisible by 4"),
    (lambda: F.pixel_shuffle(_image(4, 4), 2), ValueError, "at least 3 dimensions"),
    (lambda: F.pixel_unshuffle(_image(1, 1, 3, 4), 2), ValueError,
     "height to be divisible by downscale_factor, but it is 3"),
    (lambda: F.pixel_shuffle(_image(), 0), ValueError, "upscale_factor must be a positive int"),
])
def test_bad_input_is_refused_with_what_was_wrong(call, error, words):
    with pytest.raises(error, match=words):
        call()
