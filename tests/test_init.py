"""nn/init.py: each initialiser draws PyTorch's very numbers from the same seed (generator
given or default), with PyTorch's bounds and standard deviations; gains and fans; the
distributions' ranges and spreads without PyTorch; errors."""
from __future__ import annotations

import math

import numpy as np
import pytest

import engine
import nn
from engine import Tensor

# name, the call written once for `init` = nn.init or torch.nn.init, the tensor's shape
INITIALISERS = {
    "uniform_": (lambda init, t, g: init.uniform_(t, -0.3, 0.7, generator=g), (40, 30)),
    "normal_": (lambda init, t, g: init.normal_(t, 0.5, 0.02, generator=g), (40, 30)),
    "normal_few": (lambda init, t, g: init.normal_(t, generator=g), (3, 4)),
    "constant_": (lambda init, t, g: init.constant_(t, 0.25), (3, 4)),
    "ones_": (lambda init, t, g: init.ones_(t), (3, 4)),
    "zeros_": (lambda init, t, g: init.zeros_(t), (3, 4)),
    "eye_": (lambda init, t, g: init.eye_(t), (3, 4)),
    "dirac_": (lambda init, t, g: init.dirac_(t), (4, 3, 3)),
    "dirac_groups": (lambda init, t, g: init.dirac_(t, groups=2), (6, 2, 3, 4)),
    "dirac_3d": (lambda init, t, g: init.dirac_(t, 3), (3, 2, 3, 2, 5)),
    "xavier_uniform_": (lambda init, t, g: init.xavier_uniform_(t, gain=1.5, generator=g),
                        (20, 30)),
    "xavier_normal_": (lambda init, t, g: init.xavier_normal_(t, generator=g), (20, 30, 2)),
    "kaiming_uniform_": (lambda init, t, g: init.kaiming_uniform_(t, a=math.sqrt(5),
                                                                   generator=g), (20, 30)),
    "kaiming_uniform_relu_fan_out": (lambda init, t, g: init.kaiming_uniform_(
        t, mode="fan_out", nonlinearity="relu", generator=g), (20, 30, 3)),
    "kaiming_normal_": (lambda init, t, g: init.kaiming_normal_(t, generator=g), (20, 30)),
    "kaiming_normal_tanh": (lambda init, t, g: init.kaiming_normal_(
        t, mode="fan_out", nonlinearity="tanh", generator=g), (20, 30)),
    # [a, b] with most of the mass: normal draws, the ones outside drawn again
    "trunc_normal_": (lambda init, t, g: init.trunc_normal_(t, generator=g), (40, 30)),
    "trunc_normal_std": (lambda init, t, g: init.trunc_normal_(t, std=0.02, generator=g),
                         (40, 30)),
    "trunc_normal_few": (lambda init, t, g: init.trunc_normal_(t, a=-0.5, b=0.5, generator=g),
                         (3, 4)),
    # [a, b] in a tail (2% of the mass): uniform proposals, accepted by the density
    "trunc_normal_tail": (lambda init, t, g: init.trunc_normal_(t, 0.0, 1.0, 2.0, 3.0,
                                                                generator=g), (40, 30)),
    "trunc_normal_offset": (lambda init, t, g: init.trunc_normal_(t, 1.0, 0.5, -0.3, 0.2,
                                                                  generator=g), (3, 4)),
    # normals from g, each column's zeroed rows from a randperm of the default generator
    "sparse_": (lambda init, t, g: init.sparse_(t, 0.3, std=0.5, generator=g), (10, 6)),
    "sparse_few": (lambda init, t, g: init.sparse_(t, 0.5, generator=g), (3, 4)),
    "sparse_all": (lambda init, t, g: init.sparse_(t, 1.5, generator=g), (4, 3)),
}


@pytest.mark.parametrize("name", INITIALISERS)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("with_generator", [True, False])
def test_initialisers_draw_pytorchs_numbers_from_the_same_seed(torch, name, dtype,
                                                               with_generator):
    call, shape = INITIALISERS[name]
    ours = Tensor(np.empty(shape, dtype), requires_grad=True)
    theirs = torch.empty(shape, dtype=getattr(torch, dtype), requires_grad=True)
    engine.manual_seed(3), torch.manual_seed(3)  # (sparse_ draws from it with a generator too)
    if with_generator:
        g, tg = engine.Generator().manual_seed(4), torch.Generator().manual_seed(4)
    else:
        g = tg = None
    assert call(nn.init, ours, g) is ours
    call(torch.nn.init, theirs, tg)
    assert ours.requires_grad and ours.grad is None
    np.testing.assert_array_equal(ours.numpy(), theirs.detach().numpy())
    # and the generator has moved on as PyTorch's, however many draws it took
    np.testing.assert_array_equal(engine.rand(5, generator=g, dtype=engine.float32).numpy(),
                                  torch.rand(5, generator=tg, dtype=torch.float32).numpy())


@pytest.mark.parametrize("shape", [(5, 3), (3, 5), (4, 2, 3), (4, 4)])
@pytest.mark.parametrize("dtype, tolerance", [("float32", 1e-5), ("float64", 1e-12)])
def test_orthogonal_is_pytorchs_matrix_from_the_same_seed(torch, shape, dtype, tolerance):
    ours, theirs = np.empty(shape, dtype), torch.empty(shape, dtype=getattr(torch, dtype))
    g, tg = engine.Generator().manual_seed(5), torch.Generator().manual_seed(5)
    nn.init.orthogonal_(Tensor(ours), gain=1.5, generator=g)
    torch.nn.init.orthogonal_(theirs, gain=1.5, generator=tg)
    np.testing.assert_allclose(ours, theirs.numpy(), rtol=0, atol=tolerance)
    np.testing.assert_array_equal(engine.rand(5, generator=g, dtype=engine.float32).numpy(),
                                  torch.rand(5, generator=tg, dtype=torch.float32).numpy())


@pytest.mark.parametrize("shape", [(5, 3), (3, 5), (4, 2, 3)])
def test_orthogonal_rows_or_columns_are_orthonormal_times_the_gain(shape):
    w = nn.init.orthogonal_(Tensor(np.empty(shape)), gain=2.0).numpy().reshape(shape[0], -1)
    small = w.T @ w if w.shape[0] >= w.shape[1] else w @ w.T
    np.testing.assert_allclose(small, 4.0 * np.eye(len(small)), atol=1e-12)


def test_dirac_passes_the_channels_through_a_convolution():
    conv = nn.Conv2d(3, 3, 3, padding=1, bias=False)
    nn.init.dirac_(conv.weight)
    x = engine.randn(2, 3, 5, 5)
    assert (conv(x).detach().numpy() == x.numpy()).all()


@pytest.mark.parametrize("name, kwargs, bound", [
    ("uniform_", {"a": -0.3, "b": 0.7}, None),
    ("kaiming_uniform_", {"a": math.sqrt(5)}, 1 / math.sqrt(30)),  # nn.Linear's weights
    ("kaiming_uniform_", {"nonlinearity": "relu"}, math.sqrt(6 / 30)),
    ("xavier_uniform_", {}, math.sqrt(6 / 50)),
])
def test_uniform_initialisers_fill_their_range_evenly(name, kwargs, bound):
    t = Tensor(np.empty((20, 30), np.float32))
    getattr(nn.init, name)(t, **kwargs)
    low, high = (kwargs["a"], kwargs["b"]) if bound is None else (-bound, bound)
    x = t.numpy()
    assert low <= x.min() and x.max() < high
    # uniform on [low, high): mean in the middle, sd (high - low) / sqrt(12); 600 draws
    assert x.mean() == pytest.approx((low + high) / 2, abs=0.15 * (high - low))
    assert x.std() == pytest.approx((high - low) / math.sqrt(12), rel=0.1)


@pytest.mark.parametrize("name, kwargs, std", [
    ("normal_", {"mean": 0.5, "std": 0.02}, 0.02),
    ("kaiming_normal_", {}, math.sqrt(2 / (1 + 0.01 ** 2)) / math.sqrt(30)),
    ("kaiming_normal_", {"mode": "fan_out", "nonlinearity": "relu"}, math.sqrt(2 / 200)),
    ("xavier_normal_", {"gain": 2.0}, 2 * math.sqrt(2 / 230)),
])
def test_normal_initialisers_have_their_standard_deviation(name, kwargs, std):
    t = Tensor(np.empty((200, 30), np.float64))  # fan_in 30, fan_out 200
    getattr(nn.init, name)(t, **kwargs)
    assert t.numpy().std() == pytest.approx(std, rel=0.05)  # 6,000 draws: sd of sd ~1%
    assert t.numpy().mean() == pytest.approx(kwargs.get("mean", 0.0), abs=4 * std / 77)


@pytest.mark.parametrize("a, b, mean, std", [
    (-2.0, 2.0, 0.0, 0.8796),  # N(0, 1) cut at 2 sd: sd sqrt(1 - 4 phi(2) / (2 Phi(2) - 1))
    (2.0, 3.0, 2.3158, 0.2480),  # a tail: mean (phi(2) - phi(3)) / (Phi(3) - Phi(2))
])
def test_trunc_normal_stays_in_its_range_with_the_truncated_moments(a, b, mean, std):
    t = nn.init.trunc_normal_(Tensor(np.empty((200, 50), np.float32)), a=a, b=b)
    x = t.numpy()
    assert a <= x.min() and x.max() <= b
    assert x.mean() == pytest.approx(mean, abs=4 * std / 100)  # 10,000 draws
    assert x.std() == pytest.approx(std, rel=0.03)


def test_trunc_normal_warns_of_a_mean_far_from_its_range_as_pytorch():
    with pytest.warns(UserWarning, match="mean is more than 2 std from"):
        nn.init.trunc_normal_(Tensor(np.empty(20)), mean=5.0, std=1.0, a=-1.0, b=1.0)


@pytest.mark.parametrize("nonlinearity, param, gain", [
    ("linear", None, 1), ("conv2d", None, 1), ("sigmoid", None, 1), ("tanh", None, 5 / 3),
    ("relu", None, math.sqrt(2)), ("leaky_relu", None, math.sqrt(2 / 1.0001)),
    ("leaky_relu", 0.2, math.sqrt(2 / 1.04)), ("leaky_relu", 1, 1.0), ("selu", None, 0.75)])
def test_calculate_gain_is_pytorchs_table(nonlinearity, param, gain):
    assert nn.init.calculate_gain(nonlinearity, param) == pytest.approx(gain, rel=1e-15)


def test_fans_count_the_receptive_field_as_pytorch():
    assert nn.init._calculate_fan_in_and_fan_out(Tensor(np.empty((4, 3)))) == (3, 4)
    assert nn.init._calculate_fan_in_and_fan_out(Tensor(np.empty((4, 3, 5, 2)))) == (30, 40)


def test_initialising_an_empty_tensor_warns_and_does_nothing():
    with pytest.warns(UserWarning, match="zero-element tensors is a no-op"):
        nn.init.kaiming_uniform_(Tensor(np.empty((0, 3))))


@pytest.mark.parametrize("sparsity", [0.0, 0.25, 0.5, 1.0])
def test_sparse_zeroes_a_permutations_first_rows_of_each_column(sparsity):
    """The normals of normal_ from the same seed, then per column, in column order, a
    randperm of the rows from the default generator, whose first ceil(sparsity rows) are 0."""
    w = Tensor(np.empty((8, 5), np.float32))
    engine.manual_seed(7)
    nn.init.sparse_(w, sparsity, std=2.0, generator=engine.Generator().manual_seed(1))
    want = nn.init.normal_(Tensor(np.empty((8, 5), np.float32)), 0, 2.0,
                           engine.Generator().manual_seed(1)).numpy()
    engine.manual_seed(7)
    for c in range(5):
        want[engine.randperm(8).numpy()[:math.ceil(sparsity * 8)], c] = 0
    np.testing.assert_array_equal(w.numpy(), want)
    assert ((w.numpy() == 0).sum(0) == math.ceil(sparsity * 8)).all()


def test_initialisers_write_in_place_and_record_nothing():
    layer = nn.Linear(3, 2)
    weight = layer.weight.numpy()
    nn.init.zeros_(layer.weight)
    assert layer.weight.numpy() is weight and not weight.any()
    assert layer.weight.is_leaf and layer.weight.requires_grad


@pytest.mark.parametrize("call, error, message", [
    (lambda: nn.init.calculate_gain("swish"), ValueError, "Unsupported nonlinearity swish"),
    (lambda: nn.init.calculate_gain("leaky_relu", "0.1"), ValueError, "not a valid number"),
    (lambda: nn.init.kaiming_normal_(Tensor(np.empty((2, 2))), mode="fan"), ValueError,
     "Mode fan not supported"),
    (lambda: nn.init.xavier_uniform_(Tensor(np.empty(3))), ValueError,
     r"2 or more dims, got shape \(3,\)"),
    (lambda: nn.init.eye_(Tensor(np.empty(3))), ValueError, "2-D tensors"),
    (lambda: nn.init.orthogonal_(Tensor(np.empty(3))), ValueError, r"2 or more dims.*\(3,\)"),
    (lambda: nn.init.dirac_(Tensor(np.empty((3, 3)))), ValueError, r"3-, 4- or 5-D.*\(3, 3\)"),
    (lambda: nn.init.sparse_(Tensor(np.empty(3)), 0.1), ValueError,
     r"2 dimensions.*\(3,\)"),
    (lambda: nn.init.dirac_(Tensor(np.empty((3, 3, 3))), groups=2), ValueError,
     r"dim 0 \(3\) must be divisible by groups \(2\)"),
    (lambda: nn.init.normal_(np.empty(3)), TypeError, "fills a Tensor in place, got ndarray"),
    (lambda: nn.init.trunc_normal_([0.0]), TypeError, "fills a Tensor in place, got list"),
    (lambda: nn.init.trunc_normal_(Tensor(np.empty(3)), std=0.0), ValueError,
     "needs std > 0, got std=0.0"),
])
def test_bad_arguments_are_refused_clearly(call, error, message):
    with pytest.raises(error, match=message):
        call()


def test_torch_nn_init_and_functional_are_reachable_from_engine():
    """`import engine as torch` code finds torch.nn.init and torch.nn.functional there."""
    assert engine.nn.init is nn.init and engine.nn.functional is nn.functional
    assert engine.nn.Parameter is nn.Parameter and not engine.cuda.is_available()
