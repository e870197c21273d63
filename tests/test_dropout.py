"""nn/dropout.py against torch.nn.functional's: channel dropout (dropout1d/2d/3d) and alpha
dropout draw PyTorch's masks from a seeded generator, bit for bit, with PyTorch's output,
gradient and grad_fn, for every input layout each function takes; every dropout (plain
F.dropout's mask is made here too) on inputs whose memory order is not row-major
(transposed, permuted, sliced, broadcast), whose masks PyTorch draws in memory order; the
modules' reprs and train/eval switch; and, without PyTorch, masks recorded from torch 2.13,
whole channels dropped and kept scaled, alpha dropout's kept mean and variance, the errors
and warnings."""
from __future__ import annotations

import warnings

import numpy as np
import pytest

import engine
import nn
import nn.functional as F

# (function, input shape): batched and unbatched layouts, and the deprecated ones
CASES = [("dropout1d", (2, 3, 4)), ("dropout1d", (3, 4)), ("dropout2d", (2, 3, 4, 5)),
         ("dropout2d", (2, 3, 4)), ("dropout2d", (3, 4)), ("dropout3d", (2, 3, 2, 2, 2)),
         ("dropout3d", (3, 2, 2, 2)), ("dropout3d", (3, 4)), ("alpha_dropout", (5, 6)),
         ("feature_alpha_dropout", (5, 6, 3)), ("feature_alpha_dropout", (5, 6))]


def _run(lib, name, shape, p, dtype, view=lambda t: t, inplace=False):
    """out, the input's gradient and out's grad_fn name, for the function on view(input)
    (in place on a view of a copy of the input with inplace)."""
    x = np.random.default_rng(1).normal(size=shape).astype(dtype)
    lib.manual_seed(4)
    t = lib.tensor(x, requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the deprecated layouts warn, as PyTorch's do
        out = getattr(F if lib is engine else lib.nn.functional, name)(
            view(t * 1 if inplace else t), p, True, inplace)
    w = np.random.default_rng(2).random(out.shape).astype(dtype)
    (out * lib.tensor(w)).sum().backward()
    return out.detach().numpy(), t.grad.numpy(), out.grad_fn.name()


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("p", [0.3, 1.0])
@pytest.mark.parametrize("name, shape", CASES, ids=[f"{n}{s}" for n, s in CASES])
def test_each_dropout_is_pytorchs_bit_for_bit(torch, name, shape, p, dtype):
    ours, theirs = _run(engine, name, shape, p, dtype), _run(torch, name, shape, p, dtype)
    np.testing.assert_array_equal(ours[0], theirs[0])
    np.testing.assert_array_equal(ours[1], theirs[1])
    assert ours[2] == theirs[2] and ours[0].dtype == ours[1].dtype == dtype


# Views of a (4, 6, 5) input that are not row-major. PyTorch draws the mask of plain and
# alpha dropout into empty_like(input), in the input's memory order (a broadcast axis kept
# in place); channel masks are contiguous whatever the input.
VIEWS = {"transposed": lambda t: t.transpose(0, 1), "permuted": lambda t: t.permute(2, 0, 1),
         "permuted slice": lambda t: t.permute(2, 0, 1)[:, 1:, ::2],
         "expanded": lambda t: t[:, :1].expand(4, 3, 5)}


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("view", VIEWS.values(), ids=VIEWS.keys())
@pytest.mark.parametrize("name", ["dropout", "alpha_dropout", "feature_alpha_dropout",
                                  "dropout1d", "dropout2d"])
def test_masks_of_non_row_major_inputs_are_pytorchs(torch, name, view, dtype):
    ours = _run(engine, name, (4, 6, 5), 0.4, dtype, view)
    theirs = _run(torch, name, (4, 6, 5), 0.4, dtype, view)
    np.testing.assert_array_equal(ours[0], theirs[0])
    np.testing.assert_array_equal(ours[1], theirs[1])
    assert ours[2] == theirs[2]


@pytest.mark.parametrize("view", [VIEWS["transposed"], VIEWS["permuted slice"]],
                         ids=["transposed", "permuted slice"])
@pytest.mark.parametrize("name", ["dropout", "alpha_dropout"])
def test_in_place_on_a_view_drops_what_pytorch_drops(torch, name, view):
    ours = _run(engine, name, (4, 6, 5), 0.4, np.float32, view, inplace=True)
    theirs = _run(torch, name, (4, 6, 5), 0.4, np.float32, view, inplace=True)
    np.testing.assert_array_equal(ours[0], theirs[0])
    np.testing.assert_array_equal(ours[1], theirs[1])


MODULES = [("Dropout1d", ()), ("Dropout2d", (0.2,)), ("Dropout3d", (0.2, True)),
           ("AlphaDropout", (0.1,)), ("FeatureAlphaDropout", ())]


@pytest.mark.parametrize("name, args", MODULES, ids=[n for n, _ in MODULES])
def test_each_module_is_pytorchs(torch, name, args):
    ours, theirs = getattr(nn, name)(*args), getattr(torch.nn, name)(*args)
    assert repr(ours) == repr(theirs)
    x = np.random.default_rng(0).normal(size=(2, 3, 4, 5, 2)[:3 if name == "Dropout1d" else
                                                            5 if name == "Dropout3d" else 4])
    for mode in ("train", "eval"):
        getattr(ours, mode)(), getattr(theirs, mode)()
        engine.manual_seed(1), torch.manual_seed(1)
        np.testing.assert_array_equal(ours(engine.tensor(x)).numpy(),
                                      theirs(torch.tensor(x)).numpy())


# --- without PyTorch ---

def test_masks_as_recorded_from_pytorch():
    engine.manual_seed(0)
    assert F.dropout2d(engine.ones(2, 3, 1, 1), 0.5).reshape(-1).tolist() == [
        0.0, 0.0, 2.0, 0.0, 0.0, 0.0]
    engine.manual_seed(0)
    assert F.dropout1d(engine.ones(4, 2), 0.5).tolist() == [[0.0, 0.0], [0.0, 0.0], [2.0, 2.0],
                                                           [0.0, 0.0]]
    engine.manual_seed(0)
    low, high = -0.7791939377784729, 0.7791939377784729
    assert F.alpha_dropout(engine.zeros(6), 0.5, True).tolist() == [low, low, high, low, low, low]
    engine.manual_seed(0)
    assert F.feature_alpha_dropout(engine.zeros(2, 2, 2), 0.5, True).tolist() == [
        [[low, low], [low, low]], [[high, high], [low, low]]]
    # a transposed input's mask, drawn in its memory order (drawn row-major, it would be
    # F.dropout(ones(4, 3))'s mask: [[0, 0, 2], [0, 0, 0], [2, 2, 0], [2, 2, 2]])
    engine.manual_seed(0)
    assert F.dropout(engine.ones(3, 4).t(), 0.5).tolist() == [
        [0.0, 0.0, 0.0], [0.0, 0.0, 2.0], [2.0, 2.0, 2.0], [0.0, 2.0, 2.0]]
    engine.manual_seed(0)
    assert F.alpha_dropout(engine.zeros(3, 4).t(), 0.5, True).tolist() == [
        [low, low, low], [low, low, high], [high, high, high], [low, high, high]]


@pytest.mark.parametrize("name, shape, channel_dims", [
    ("dropout1d", (8, 6, 5), 2), ("dropout1d", (6, 5), 1), ("dropout2d", (8, 6, 3, 4), 2),
    ("dropout3d", (4, 6, 2, 3, 2), 2), ("dropout3d", (6, 2, 3, 2), 1)])
def test_whole_channels_are_dropped_and_the_rest_scaled(name, shape, channel_dims):
    engine.manual_seed(3)
    x = engine.tensor(np.random.default_rng(0).uniform(1, 2, shape), requires_grad=True)
    out = getattr(F, name)(x, 0.25)
    out.sum().backward()
    mask = x.grad.numpy()  # the gradient is the mask: 0, or 1 / (1 - p) where kept
    assert np.array_equal(out.detach().numpy(), x.detach().numpy() * mask)
    per_channel = mask.reshape(shape[:channel_dims] + (-1,))
    assert np.all(per_channel == per_channel[..., :1])  # one factor per channel
    assert set(np.unique(per_channel)) == {0.0, 1 / 0.75}


def test_no_dropout_in_eval_mode_or_at_p_0_and_zeros_at_p_1():
    x = engine.tensor(np.ones((2, 3, 4)), requires_grad=True)
    for f in (F.dropout1d, F.alpha_dropout, F.feature_alpha_dropout):
        assert f(x, 0.5, False) is x and f(x, 0.0, True) is x
        assert f(x, 1.0, True).tolist() == np.zeros((2, 3, 4)).tolist()
    layer = nn.Dropout1d(0.9).eval()
    assert layer(x) is x


def test_alpha_dropout_keeps_mean_and_variance_of_a_standard_normal():
    engine.manual_seed(0)
    x = engine.randn(200000, dtype=engine.float64)
    out = F.alpha_dropout(x, 0.2, True).numpy()
    assert abs(out.mean()) < 0.01 and abs(out.var() - 1) < 0.01
    alpha, a = 1.7580993408473766, (0.8 * (1 + 0.2 * 1.7580993408473766 ** 2)) ** -0.5
    # kept: x a + b; dropped: SELU's saturation -alpha, scaled and shifted the same way
    b = alpha * a * 0.2
    kept = np.isclose(out, x.numpy() * a + b, rtol=1e-14)
    assert np.all(kept | np.isclose(out, -alpha * a + b, rtol=1e-14))
    assert abs(1 - kept.mean() - 0.2) < 0.01


def test_inplace_writes_into_the_input():
    engine.manual_seed(0)
    x = engine.ones(4, 2)
    assert F.dropout1d(x, 0.5, inplace=True) is x
    assert x.tolist() == [[0.0, 0.0], [0.0, 0.0], [2.0, 2.0], [0.0, 0.0]]  # as recorded above


def test_grad_fn_names_are_pytorchs_as_recorded_from_it():
    x = engine.ones(2, 3, 4, requires_grad=True)
    assert F.dropout1d(x, 0.5).grad_fn.name() == "MulBackward0"
    assert F.dropout1d(x[0], 0.5).grad_fn.name() == "SqueezeBackward1"  # PyTorch unsqueezes
    assert F.alpha_dropout(x, 0.5, True).grad_fn.name() == "AddBackward0"
    assert F.feature_alpha_dropout(x, 1.0, True).grad_fn.name() == "MulBackward0"


def test_bad_inputs_raise_or_warn_as_pytorch():
    with pytest.raises(ValueError, match="dropout probability has to be between 0 and 1"):
        F.dropout2d(engine.ones(2, 3, 4, 4), 1.5)
    with pytest.raises(ValueError, match="between 0 and 1"):
        nn.AlphaDropout(-0.1)
    with pytest.raises(RuntimeError, match="dropout1d: Expected 2D or 3D input, but received a "
                                           "4D input"):
        F.dropout1d(engine.ones(2, 3, 4, 4))
    with pytest.raises(RuntimeError, match="Feature dropout requires at least 2 dimensions"):
        with pytest.warns(UserWarning):
            F.dropout2d(engine.ones(4))
    with pytest.raises(RuntimeError, match="Feature dropout requires at least 2 dimensions"):
        F.feature_alpha_dropout(engine.ones(4), 0.5, True)
    # p = 1 zeroes everything before the shape is looked at, as PyTorch's
    assert F.feature_alpha_dropout(engine.ones(4), 1.0, True).tolist() == [0.0] * 4
    with pytest.warns(UserWarning):
        assert F.dropout2d(engine.ones(3), 1.0).tolist() == [0.0] * 3
    with pytest.warns(UserWarning, match="dropout2d: Received a 2-D input to dropout2d"):
        F.dropout2d(engine.ones(3, 4))
    with pytest.warns(UserWarning, match="assuming that channel-wise 1D dropout"):
        F.dropout2d(engine.ones(2, 3, 4))
    with pytest.warns(UserWarning, match="dropout3d: Received a 3-D input to dropout3d"):
        F.dropout3d(engine.ones(2, 3, 4))
