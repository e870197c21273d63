"""nn/grid_sample.py: grid_sample over every mode, padding and align_corners, 4-D and 5-D,
against a loop-by-loop numpy oracle, central differences (first and second derivatives)
and PyTorch (values, both gradients, gradients of gradients, float32, NaN and far-away
points, grad_fn names); affine_grid by hand and against PyTorch; warnings and errors as
PyTorch's; the Spatial Transformer Networks tutorial's network end to end."""
from __future__ import annotations

import warnings

import numpy as np
import pytest

import engine
import nn
import nn.functional as F
from engine import Tensor

MODES = {2: ("bilinear", "nearest", "bicubic"), 3: ("bilinear", "nearest")}
CASES = [(nd, mode, padding, align) for nd in (2, 3) for mode in MODES[nd]
         for padding in ("zeros", "border", "reflection") for align in (False, True)]
SHAPES = {2: ((2, 3, 4, 5), (3, 6)), 3: ((2, 2, 3, 4, 3), (2, 3, 2))}  # input, output points


def _grid(nd: int, sizes: tuple, points: tuple, align: bool, seed: int,
          smooth: bool = False) -> np.ndarray:
    """A grid (N, *points, nd) reaching past [-1, 1]. `smooth`: every coordinate a
    fraction 0.1-0.4 or 0.6-0.9 past a whole pixel, away from the kinks (whole pixels, the
    reflections' and nearest's half pixels); else random, with a third of the entries
    exactly on pixel centres, borders (half pixels) and +-1."""
    rng = np.random.default_rng(seed)
    shape = (sizes[0], *points, nd)
    n = np.array(sizes[2:][::-1], float)  # each grid entry's dim: x the last one
    if smooth:
        whole = rng.integers(-2, n.astype(int) + 2, shape)
        coord = whole + rng.uniform(0.1, 0.4, shape) + 0.5 * rng.integers(0, 2, shape)
    else:
        coord = rng.uniform(-2.5, n + 1.5, shape)
        exact = rng.random(shape) < 1 / 3
        coord[exact] = (np.round(2 * coord) / 2)[exact]
    grid = 2 * coord / (n - 1) - 1 if align else (2 * coord + 1) / n - 1
    if not smooth:
        grid.reshape(-1)[:4] = (-1, 1, -1, 1)
    return grid


# --- a numpy oracle, point by point, by the documented formulas ---

def _source(g: float, n: int, nd: int, padding: str, align: bool) -> float:
    """The pixel coordinate of grid value g (PyTorch's arithmetic: its 2-D kernel's and
    its 3-D kernel's round differently)."""
    if nd == 2:
        c = (g + 1) * ((n - 1) / 2) if align else (g + 1) * (n / 2) - 0.5
    else:
        c = (g + 1) / 2 * (n - 1) if align else ((g + 1) * n - 1) / 2
    if padding == "reflection":
        low, span = (0.0, n - 1.0) if align else (-0.5, float(n))
        if span > 0:
            d = abs(c - low)
            flips, extra = divmod(d, span)
            c = low + (extra if flips % 2 == 0 else span - extra)
        else:
            c = 0.0
    if padding != "zeros":
        c = min(max(c, 0.0), n - 1.0)
    return c


def _oracle(x: np.ndarray, grid: np.ndarray, mode: str, padding: str,
            align: bool) -> np.ndarray:
    """grid_sample in 'nearest' and 'bilinear', one output point at a time."""
    n_batch, channels, *sizes = x.shape
    out = np.zeros((n_batch, channels, *grid.shape[1:-1]))
    for b, *point in np.ndindex(*grid.shape[:-1]):
        coords = [_source(grid[(b, *point, len(sizes) - 1 - d)], n, len(sizes), padding, align)
                  for d, n in enumerate(sizes)]
        if mode == "nearest":
            taps = [[(int(np.rint(c)), 1.0)] for c in coords]
        else:
            taps = [[(int(np.floor(c)), 1 - c % 1), (int(np.floor(c)) + 1, c % 1)]
                    for c in coords]
        for corner in np.ndindex(*(len(t) for t in taps)):
            places = [taps[d][k][0] for d, k in enumerate(corner)]
            if all(0 <= p < n for p, n in zip(places, sizes)):
                weight = np.prod([taps[d][k][1] for d, k in enumerate(corner)])
                out[(b, slice(None), *point)] += weight * x[(b, slice(None), *places)]
    return out


@pytest.mark.parametrize("nd, mode, padding, align", [c for c in CASES if c[1] != "bicubic"])
def test_values_match_a_point_by_point_oracle(nd, mode, padding, align):
    xs, points = SHAPES[nd]
    x = np.random.default_rng(0).standard_normal(xs)
    for smooth in (False, True) if mode == "bilinear" else (True,):  # (no ties for nearest)
        grid = _grid(nd, xs, points, align, 1, smooth)
        got = F.grid_sample(Tensor(x), Tensor(grid), mode, padding, align).numpy()
        np.testing.assert_allclose(got, _oracle(x, grid, mode, padding, align), atol=1e-12)


@pytest.mark.parametrize("mode", ["bilinear", "nearest", "bicubic"])
@pytest.mark.parametrize("align", [False, True])
def test_the_identity_grid_reads_the_input_back(mode, align):
    x = np.random.default_rng(2).standard_normal((2, 3, 5, 4))
    theta = np.tile(np.eye(2, 3), (2, 1, 1))
    grid = F.affine_grid(Tensor(theta), x.shape, align_corners=align)
    np.testing.assert_allclose(F.grid_sample(Tensor(x), grid, mode, align_corners=align)
                               .numpy(), x, atol=1e-14)


def test_by_hand():
    x = Tensor(np.array([[[[1.0, 2.0], [3.0, 4.0]]]]), requires_grad=True)
    grid = Tensor(np.array([[[[0.0, 0.0], [1.0, -1.0], [3.0, 0.0], [0.5, 0.0]]]]),
                  requires_grad=True)
    out = F.grid_sample(x, grid, align_corners=True)
    # the centre is the mean; (1, -1) the top right; x = 3 lies a pixel past the right
    # edge (zeros there); x = 0.5 is 3/4 of the way from the left column to the right
    np.testing.assert_allclose(out.numpy(), [[[[2.5, 2.0, 0.0, 2.75]]]])
    out.sum().backward()
    # d out / d x at the centre: (right - left) / 2 columns' worth per grid unit
    np.testing.assert_allclose(grid.grad.numpy()[0, 0, 0], [0.5, 1.0])
    np.testing.assert_allclose(x.grad.numpy(), [[[[0.25 + 0.125, 0.25 + 1 + 0.375],
                                                  [0.25 + 0.125, 0.25 + 0.375]]]])


@pytest.mark.parametrize("nd, mode, padding, align", CASES)
def test_gradients_match_central_differences(nd, mode, padding, align):
    xs, points = SHAPES[nd]
    xs, points = (1, *xs[1:]), points[:-1] + (2,)  # fewer outputs: one backward pass each
    x = Tensor(np.random.default_rng(3).standard_normal(xs), requires_grad=True)
    grid = Tensor(_grid(nd, xs, points, align, 4, smooth=True), requires_grad=True)
    assert engine.gradcheck(lambda x, grid: F.grid_sample(x, grid, mode, padding, align),
                            (x, grid), atol=1e-7)


@pytest.mark.parametrize("nd, mode, padding, align", [c for c in CASES if c[3]])
def test_second_derivatives_match_central_differences(nd, mode, padding, align):
    xs, points = SHAPES[nd]
    xs, points = (1, 2, *xs[2:]), points[:-1] + (1,)
    x = Tensor(np.random.default_rng(5).standard_normal(xs), requires_grad=True)
    grid = Tensor(_grid(nd, xs, points, align, 6, smooth=True), requires_grad=True)

    def gradients(x: Tensor, grid: Tensor) -> Tensor:
        with engine.enable_grad():  # (gradcheck's differences run without grad)
            out = F.grid_sample(x, grid, mode, padding, align)
            dx, dgrid = engine.autograd.grad((out * out).sum(), (x, grid), create_graph=True)
        return engine.cat([dx.reshape(-1), dgrid.reshape(-1)])
    assert engine.gradcheck(gradients, (x, grid), atol=1e-6)


def _both(torch, x, grid, mode, padding, align, g=None) -> list:
    """Ours and PyTorch's grid_sample: each output, and with `g` its dinput and dgrid."""
    results = []
    for lib, functional in ((engine, F), (torch, torch.nn.functional)):
        xt, gt = lib.tensor(x, requires_grad=True), lib.tensor(grid, requires_grad=True)
        out = functional.grid_sample(xt, gt, mode, padding, align)
        if g is None:
            results.append((out,))
        else:
            out.backward(lib.tensor(g))
            results.append((out, xt.grad.numpy(), gt.grad.numpy()))
    return results


def _compare(ours: tuple, theirs: tuple, atol: float, rtol: float = 0.0) -> None:
    np.testing.assert_allclose(ours[0].detach().numpy(), theirs[0].detach().numpy(), atol=atol)
    for got, want in zip(ours[1:], theirs[1:]):
        np.testing.assert_allclose(got, want, rtol=rtol, atol=atol)


@pytest.mark.parametrize("nd, mode, padding, align", CASES)
def test_values_and_gradients_match_pytorch(torch, nd, mode, padding, align):
    xs, points = SHAPES[nd]
    rng = np.random.default_rng(7)
    x, grid = rng.standard_normal(xs), _grid(nd, xs, points, align, 8)
    ours, theirs = _both(torch, x, grid, mode, padding, align,
                         rng.standard_normal((xs[0], xs[1], *points)))
    assert ours[0].grad_fn.name() == theirs[0].grad_fn.name()
    _compare(ours, theirs, atol=1e-12, rtol=1e-12)
    if mode != "bicubic":  # bilinear and nearest values to the bit
        np.testing.assert_array_equal(ours[0].detach().numpy(), theirs[0].detach().numpy())


@pytest.mark.parametrize("nd, mode, padding, align", CASES)
def test_gradients_of_gradients_match_pytorch(torch, nd, mode, padding, align):
    xs, points = SHAPES[nd]
    rng = np.random.default_rng(9)
    x, grid = rng.standard_normal(xs), _grid(nd, xs, points, align, 10, smooth=True)
    results = []
    for lib, functional in ((engine, F), (torch, torch.nn.functional)):
        xt, gt = lib.tensor(x, requires_grad=True), lib.tensor(grid, requires_grad=True)
        out = functional.grid_sample(xt, gt, mode, padding, align)
        dx, dgrid = lib.autograd.grad((out * out).sum(), (xt, gt), create_graph=True)
        ((dx * dx).sum() + (dgrid * dgrid).sum()).backward()
        results.append([dx.detach().numpy(), dgrid.detach().numpy(), xt.grad.numpy(),
                        gt.grad.numpy()])
    for got, want in zip(*results):
        np.testing.assert_allclose(got, want, rtol=1e-11, atol=1e-9)


@pytest.mark.parametrize("nd, mode", [(nd, mode) for nd in (2, 3) for mode in MODES[nd]])
def test_float32_stays_float32_and_matches_pytorch(torch, nd, mode):
    rng = np.random.default_rng(11)
    x = rng.standard_normal((2, 3, 6, 7, 5)[:nd + 2]).astype(np.float32)
    points = (4, 5, 3)[:nd]
    grid = _grid(nd, x.shape, points, False, 12, smooth=True).astype(np.float32)
    g = rng.standard_normal((2, 3, *points)).astype(np.float32)
    ours, theirs = _both(torch, x, grid, mode, "reflection", False, g)
    assert ours[0].numpy().dtype == ours[1].dtype == ours[2].dtype == np.float32
    _compare(ours, theirs, atol=1e-4, rtol=1e-4)
    if mode != "bicubic":  # bilinear and nearest values to the bit, as PyTorch rounds them
        np.testing.assert_array_equal(ours[0].detach().numpy(), theirs[0].detach().numpy())


@pytest.mark.parametrize("nd, mode, padding, align", CASES)
def test_nan_infinite_and_far_points_as_pytorchs(torch, nd, mode, padding, align):
    xs, _ = SHAPES[nd]
    x = np.random.default_rng(13).standard_normal(xs)
    grid = np.zeros((xs[0], 6, *(1,) * (nd - 1), nd))
    grid.reshape(xs[0], 6, nd)[:, :, -1] = [np.nan, np.inf, -np.inf, 1e20, -3e9, 0.5]
    grid.reshape(xs[0], 6, nd)[1, :, 0] = [np.nan, np.inf, -np.inf, 1e20, -3e9, 0.5]
    # PyTorch's own backward pass crashes on some of these; it is compared where it does not
    backward = nd == 2 and padding == "zeros"
    g = np.ones((xs[0], xs[1], 6, *(1,) * (nd - 1)))
    ours, theirs = _both(torch, x, grid, mode, padding, align, g if backward else None)
    _compare(ours, theirs, atol=1e-12)


def test_far_points_read_zeros_with_zeros_padding_and_the_edge_with_border():
    grid = Tensor(np.array([[[[1e20, 0.0], [0.0, -3e9], [5.0, 0.0]]]]))
    x = engine.arange(9.0, dtype=engine.float64).reshape(1, 1, 3, 3)
    assert F.grid_sample(x, grid, align_corners=False).tolist() == [[[[0.0, 0.0, 0.0]]]]
    # border: x far right is the last column, y far up the first row; the middle row's
    assert F.grid_sample(x, grid, padding_mode="border", align_corners=False).tolist() == \
        [[[[5.0, 1.0, 5.0]]]]


@pytest.mark.parametrize("x_shape, grid_shape", [((0, 2, 3, 3), (0, 2, 2, 2)),
                                                  ((2, 0, 3, 3), (2, 2, 2, 2)),
                                                  ((2, 2, 3, 3), (2, 0, 2, 2)),
                                                  ((1, 1, 3, 3, 3), (1, 0, 1, 1, 3))])
@pytest.mark.parametrize("mode", ["bilinear", "nearest"])
def test_empty_batches_channels_and_grids(x_shape, grid_shape, mode):
    x = engine.ones(*x_shape, requires_grad=True)
    grid = engine.ones(*grid_shape, requires_grad=True)
    out = F.grid_sample(x, grid, mode, align_corners=False)
    assert tuple(out.shape) == (*x_shape[:2], *grid_shape[1:-1])
    out.sum().backward()
    assert tuple(x.grad.shape) == x_shape and tuple(grid.grad.shape) == grid_shape


# --- affine_grid ---

AFFINE_SIZES = [(2, 3, 4, 5), (2, 1, 1, 4), (2, 2, 3, 4, 5), (2, 1, 3, 1, 2)]


@pytest.mark.parametrize("size", AFFINE_SIZES)
@pytest.mark.parametrize("align", [False, True])
def test_affine_grid_by_hand_and_central_differences(size, align):
    nd = len(size) - 2
    identity = Tensor(np.tile(np.eye(nd, nd + 1), (size[0], 1, 1)))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # align_corners with a dim of 1: PyTorch warns
        grid = F.affine_grid(identity, size, align_corners=align).numpy()
    for d, n in enumerate(size[2:]):  # the identity's grid: each dim's pixel centres
        centres = (np.linspace(-1, 1, n) if align else (2 * np.arange(n) + 1) / n - 1) \
            if n > 1 else np.zeros(1)
        along = np.moveaxis(grid[..., nd - 1 - d], d + 1, -1)
        np.testing.assert_allclose(along, np.broadcast_to(centres, along.shape), atol=1e-15)
    theta = Tensor(np.random.default_rng(14).standard_normal((size[0], nd, nd + 1)),
                   requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert engine.gradcheck(lambda t: F.affine_grid(t, size, align_corners=align), (theta,))


@pytest.mark.parametrize("size", AFFINE_SIZES)
@pytest.mark.parametrize("align", [False, True])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_affine_grid_matches_pytorch(torch, size, align, dtype):
    nd = len(size) - 2
    rng = np.random.default_rng(15)
    theta = rng.standard_normal((size[0], nd, nd + 1)).astype(dtype)
    g = rng.standard_normal((size[0], *size[2:], nd)).astype(dtype)
    results = []
    for lib, functional in ((engine, F), (torch, torch.nn.functional)):
        t = lib.tensor(theta, requires_grad=True)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            grid = functional.affine_grid(t, size, align_corners=align)
        grid.backward(lib.tensor(g))
        results.append((grid, t.grad.numpy()))
    (ours, ours_grad), (theirs, their_grad) = results
    assert ours.numpy().dtype == dtype and ours.grad_fn.name() == theirs.grad_fn.name()
    np.testing.assert_array_equal(ours.detach().numpy(), theirs.detach().numpy())  # to the bit
    np.testing.assert_allclose(ours_grad, their_grad, atol=1e-5 if dtype == np.float32 else 1e-13)


# --- warnings and errors ---

def _warned(call) -> list[str]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        call()
    return [str(w.message) for w in caught if w.category is UserWarning]


@pytest.mark.parametrize("call", [
    lambda F, lib: F.affine_grid(lib.zeros(1, 2, 3), (1, 1, 2, 2)),
    lambda F, lib: F.grid_sample(lib.zeros(1, 1, 2, 2), lib.zeros(1, 1, 1, 2)),
])
def test_align_corners_left_out_warns_as_pytorch(call):
    (message,) = _warned(lambda: call(F, engine))
    assert message.startswith("Default grid_sample and affine_grid behavior has changed")
    assert _warned(lambda: F.grid_sample(engine.zeros(1, 1, 2, 2), engine.zeros(1, 1, 1, 2),
                                         align_corners=False)) == []


def test_align_corners_warning_is_pytorchs(torch):
    ours = _warned(lambda: F.grid_sample(engine.zeros(1, 1, 2, 2), engine.zeros(1, 1, 1, 2)))
    theirs = _warned(lambda: torch.nn.functional.grid_sample(torch.zeros(1, 1, 2, 2),
                                                             torch.zeros(1, 1, 1, 2)))
    assert ours == theirs


ERRORS = [  # input shape, grid shape, keywords, exception, words in the message
    ((2, 3, 4, 5), (2, 3, 3, 3), {}, RuntimeError, "size 2 in last dimension"),
    ((2, 3, 4, 5), (3, 3, 3, 2), {}, RuntimeError, "same batch size"),
    ((2, 3, 4, 5), (2, 3, 3, 3, 2), {}, RuntimeError, "4D input and grid"),
    ((3, 4, 5), (3, 3, 2), {}, RuntimeError, "size 1 in last dimension"),
    ((2, 3, 4, 5, 6), (2, 3, 3, 3, 2), {}, RuntimeError, "size 3 in last dimension"),
    ((2, 3, 0, 5), (2, 3, 3, 2), {}, RuntimeError, "non-empty spatial dimensions"),
    ((1, 1, 3, 3, 3), (1, 2, 2, 2, 3), {"mode": "bicubic"}, RuntimeError, "only supports 4D"),
    ((1, 1, 3, 3), (1, 2, 2, 2), {"mode": "linear"}, ValueError, "expected mode"),
    ((1, 1, 3, 3), (1, 2, 2, 2), {"padding_mode": "reflect"}, ValueError,
     "expected padding_mode"),
]


@pytest.mark.parametrize("x_shape, grid_shape, keywords, error, words", ERRORS)
def test_bad_shapes_and_settings_raise_as_pytorch(x_shape, grid_shape, keywords, error, words):
    with pytest.raises(error, match=words):
        F.grid_sample(engine.zeros(*x_shape), engine.zeros(*grid_shape), align_corners=False,
                      **keywords)


@pytest.mark.parametrize("x_shape, grid_shape, keywords, error, words", ERRORS)
def test_errors_are_pytorchs(torch, x_shape, grid_shape, keywords, error, words):
    with pytest.raises(error, match=words):
        torch.nn.functional.grid_sample(torch.zeros(*x_shape), torch.zeros(*grid_shape),
                                        align_corners=False, **keywords)


def test_dtypes_must_be_float_and_agree():
    with pytest.raises(RuntimeError, match="same dtype.*float32.*float64"):
        F.grid_sample(engine.zeros(1, 1, 2, 2), engine.zeros(1, 1, 1, 2, dtype=engine.float64),
                      align_corners=False)
    with pytest.raises(TypeError, match="floating point input, got .*int64"):
        F.grid_sample(engine.zeros(1, 1, 2, 2, dtype=engine.int64),
                      engine.zeros(1, 1, 1, 2, dtype=engine.int64), align_corners=False)


AFFINE_ERRORS = [  # theta shape, size, dtype, exception, words in the message
    ((2, 2, 3), (2, 1, 4), "float64", ValueError, "takes a 4D size .* or a 5D size"),
    ((2, 3, 3), (2, 1, 4, 4), "float64", ValueError, "shape Nx2x3"),
    ((3, 4), (1, 1, 2, 2, 2), "float64", ValueError, "shape Nx3x4"),
    ((2, 2, 3), (2, 1, 0, 4), "float64", ValueError, "non-zero, positive output size"),
    ((2, 2, 3), (2, 1, 4, 4), "int64", ValueError, "floating point type"),
    ((2, 2, 3), (3, 1, 4, 4), "float64", RuntimeError, "batch"),
]


@pytest.mark.parametrize("theta_shape, size, dtype, error, words", AFFINE_ERRORS)
def test_affine_grid_errors(theta_shape, size, dtype, error, words):
    with pytest.raises(error, match=words):
        F.affine_grid(engine.zeros(*theta_shape, dtype=getattr(engine, dtype)), size, False)


# where PyTorch raises another type: a size of the wrong rank is NotImplementedError there
THEIRS = {"takes a 4D size .* or a 5D size": (NotImplementedError, "only supports 4D and 5D sizes")}


@pytest.mark.parametrize("theta_shape, size, dtype, error, words", AFFINE_ERRORS)
def test_affine_grid_errors_are_pytorchs(torch, theta_shape, size, dtype, error, words):
    error, words = THEIRS.get(words, (error, words))
    with pytest.raises(error, match=words):
        torch.nn.functional.affine_grid(torch.zeros(*theta_shape, dtype=getattr(torch, dtype)),
                                        size, False)


# --- the Spatial Transformer Networks tutorial ---

def _stn(lib, nn_module, functional):
    """The tutorial's network (its localisation net, regressor and stn), in lib."""
    class Net(nn_module.Module):
        def __init__(self):
            super().__init__()
            self.localization = nn_module.Sequential(
                nn_module.Conv2d(1, 8, kernel_size=7), nn_module.MaxPool2d(2, stride=2),
                nn_module.ReLU(True), nn_module.Conv2d(8, 10, kernel_size=5),
                nn_module.MaxPool2d(2, stride=2), nn_module.ReLU(True))
            self.fc_loc = nn_module.Sequential(nn_module.Linear(10 * 3 * 3, 32),
                                               nn_module.ReLU(True), nn_module.Linear(32, 3 * 2))

        def stn(self, x):
            xs = self.localization(x)
            xs = xs.view(-1, 10 * 3 * 3)
            theta = self.fc_loc(xs)
            theta = theta.view(-1, 2, 3)
            grid = functional.affine_grid(theta, x.size())
            return functional.grid_sample(x, grid)

        def forward(self, x):
            return self.stn(x)
    return Net()


def test_spatial_transformer_tutorial_matches_pytorch(torch):
    torch.manual_seed(0)
    theirs = _stn(torch, torch.nn, torch.nn.functional).float()
    with torch.no_grad():  # the tutorial starts at the identity; nudged off whole pixels
        theirs.fc_loc[2].weight.normal_(0, 0.05)
        theirs.fc_loc[2].bias.copy_(torch.tensor([1, 0.1, 0, -0.05, 0.9, 0.02]))
    ours = _stn(engine, nn, F)
    ours.load_state_dict({k: Tensor(v.numpy()) for k, v in theirs.state_dict().items()})
    x = np.random.default_rng(16).standard_normal((4, 1, 28, 28)).astype(np.float32)
    results = []
    for lib, model in ((engine, ours), (torch, theirs)):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            out = model(lib.tensor(x))
        (out * out).mean().backward()
        results.append((out.detach().numpy(), {k: p.grad.numpy()
                                               for k, p in model.named_parameters()}))
    (out, grads), (want, their_grads) = results
    assert out.dtype == np.float32
    np.testing.assert_allclose(out, want, atol=1e-5)
    assert grads.keys() == their_grads.keys()
    for name in grads:
        np.testing.assert_allclose(grads[name], their_grads[name], rtol=1e-3, atol=1e-5,
                                   err_msg=name)
