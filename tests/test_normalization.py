"""nn/normalization.py: LayerNorm and BatchNorm1d against PyTorch (outputs, gradients,
running statistics over several steps, train vs eval), closed forms without PyTorch, repr,
and errors."""
from __future__ import annotations

import math

import numpy as np
import pytest

import nn
from engine import Tensor, gradcheck

rng = np.random.default_rng(0)


def twins(torch, ours: nn.Module, theirs):
    """ours with random weights (not the initial ones and zeros, so every term counts), and
    theirs holding the same."""
    for p in ours.parameters():
        p.numpy()[...] = rng.normal(size=p.shape)
    theirs.load_state_dict({k: torch.from_numpy(v.numpy()) for k, v in ours.state_dict().items()})
    return ours, theirs


def assert_same_pass(torch, ours, theirs, x: np.ndarray, rtol: float) -> None:
    """The same output, and the same gradients for x and every parameter, from both."""
    ox, tx = Tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    out, tout = ours(ox), theirs(tx)
    np.testing.assert_allclose(out.numpy(), tout.detach().numpy(), rtol=rtol, atol=1e-13)
    upstream = rng.normal(size=x.shape)
    out.backward(upstream)
    tout.backward(torch.tensor(upstream))
    np.testing.assert_allclose(ox.grad, tx.grad.numpy(), rtol=100 * rtol, atol=1e-12)
    for (name, p), tp in zip(ours.named_parameters(), theirs.parameters()):
        np.testing.assert_allclose(p.grad, tp.grad.numpy(), rtol=100 * rtol, err_msg=name)


LAYER_NORMS = {  # arguments, input shape
    "last dim": ((5,), (2, 3, 5)),
    "two dims": (((3, 5),), (2, 3, 5)),
    "no affine": ((5,), (4, 5), {"elementwise_affine": False}),
    "no bias": ((5,), (4, 5), {"bias": False}),
    "eps": ((4,), (3, 4), {"eps": 0.1}),
}


@pytest.mark.parametrize("case", LAYER_NORMS)
def test_layer_norm_matches_pytorch(torch, case):
    args, shape, *kwargs = LAYER_NORMS[case]
    kwargs = kwargs[0] if kwargs else {}
    ours, theirs = twins(torch, nn.LayerNorm(*args, dtype=np.float64, **kwargs),
                         torch.nn.LayerNorm(*args, **kwargs))
    assert_same_pass(torch, ours, theirs, rng.normal(size=shape) * 3 + 1, rtol=1e-12)
    assert repr(ours) == repr(theirs)


def test_layer_norm_normalises_each_sample_and_starts_as_the_identity_affine():
    layer = nn.LayerNorm(6)
    assert layer.weight.dtype == np.float32
    np.testing.assert_array_equal(layer.weight.numpy(), np.ones(6))
    np.testing.assert_array_equal(layer.bias.numpy(), np.zeros(6))
    out = layer(Tensor(rng.normal(size=(4, 6)) * 5 + 2, dtype=np.float32)).numpy()
    assert out.dtype == np.float32
    np.testing.assert_allclose(out.mean(axis=1), 0, atol=1e-6)
    np.testing.assert_allclose(out.var(axis=1), 1, rtol=1e-4)  # var / (var + eps), eps 1e-5


def test_layer_norm_gradients_match_central_differences():
    layer = nn.LayerNorm((2, 3), dtype=np.float64)
    for p in layer.parameters():
        p.numpy()[...] = rng.normal(size=p.shape)
    x = Tensor(rng.normal(size=(4, 2, 3)), requires_grad=True)
    weights = rng.normal(size=(4, 2, 3))
    assert gradcheck(lambda x, w, b: (layer(x) * weights).sum(), [x, layer.weight, layer.bias])


def test_layer_norm_refuses_an_input_of_another_shape():
    with pytest.raises(ValueError, match=r"\(\.\.\., 5\).*got input \(2, 4\)"):
        nn.LayerNorm(5)(Tensor(np.ones((2, 4))))


# --- BatchNorm1d ---

BATCH_NORMS = {  # keyword arguments, input shape
    "default": ({}, (8, 3)),
    "with length": ({}, (4, 3, 5)),
    "momentum": ({"momentum": 0.5}, (8, 3)),
    "cumulative average": ({"momentum": None}, (8, 3)),
    "no affine": ({"affine": False}, (8, 3)),
    "no bias": ({"bias": False}, (8, 3)),
    "untracked": ({"track_running_stats": False}, (8, 3)),
}


@pytest.mark.parametrize("case", BATCH_NORMS)
def test_batch_norm_matches_pytorch_in_training_steps_then_eval(torch, case):
    kwargs, shape = BATCH_NORMS[case]
    ours, theirs = twins(torch, nn.BatchNorm1d(3, dtype=np.float64, **kwargs),
                         torch.nn.BatchNorm1d(3, **kwargs))
    for step in range(4):  # the running statistics follow the batches
        assert_same_pass(torch, ours, theirs, rng.normal(size=shape) * (step + 1) + step,
                         rtol=1e-10)
        for name, array in ours.state_dict().items():
            np.testing.assert_allclose(array, theirs.state_dict()[name].numpy(), rtol=1e-12,
                                       err_msg=f"step {step}: {name}")
    ours.eval(), theirs.eval()
    x = rng.normal(size=shape)
    np.testing.assert_allclose(ours(Tensor(x)).numpy(), theirs(torch.tensor(x)).detach().numpy(),
                               rtol=1e-10, atol=1e-12)
    assert repr(ours) == repr(theirs)


def test_batch_norm_running_statistics_by_hand():
    """running = 0.9 running + 0.1 batch, with the batch's unbiased variance; eval uses them."""
    layer = nn.BatchNorm1d(2, dtype=np.float64)
    x = np.array([[1.0, 10.0], [3.0, 10.0], [8.0, 16.0]])
    out = layer(Tensor(x)).numpy()
    mean, biased = x.mean(axis=0), x.var(axis=0)
    np.testing.assert_allclose(out, (x - mean) / np.sqrt(biased + 1e-5))
    np.testing.assert_allclose(layer.running_mean.numpy(), 0.1 * mean)
    np.testing.assert_allclose(layer.running_var.numpy(), 0.9 + 0.1 * x.var(axis=0, ddof=1))
    assert layer.num_batches_tracked.item() == 1
    layer.eval()
    np.testing.assert_allclose(layer(Tensor(x)).numpy(),
                               (x - 0.1 * mean) / np.sqrt(0.9 + 0.1 * x.var(axis=0, ddof=1) + 1e-5))
    assert layer.num_batches_tracked.item() == 1  # eval leaves the statistics alone


def test_batch_norm_state_is_pytorchs_names_and_dtypes():
    layer = nn.BatchNorm1d(4)
    state = layer.state_dict()
    assert list(state) == ["weight", "bias", "running_mean", "running_var",
                           "num_batches_tracked"]
    assert state["num_batches_tracked"].dtype == np.int64
    assert state["running_var"].dtype == np.float32
    assert [n for n, _ in layer.named_parameters()] == ["weight", "bias"]
    assert list(nn.BatchNorm1d(4, track_running_stats=False).state_dict()) == ["weight", "bias"]


def test_batch_norm_gradients_match_central_differences():
    layer = nn.BatchNorm1d(3, dtype=np.float64)
    x = Tensor(rng.normal(size=(5, 3, 2)), requires_grad=True)
    weights = rng.normal(size=(5, 3, 2))
    assert gradcheck(lambda x, w, b: (layer(x) * weights).sum(), [x, layer.weight, layer.bias])


@pytest.mark.parametrize("shape, message", [
    ((4, 5), r"shape \(n, 3\) or \(n, 3, length\), got \(4, 5\)"),
    ((4,), r"got \(4,\)"),
    ((1, 3), "more than 1 value per channel"),
])
def test_batch_norm_refuses_what_it_cannot_normalise(shape, message):
    with pytest.raises(ValueError, match=message):
        nn.BatchNorm1d(3)(Tensor(np.ones(shape)))


# --- RMSNorm, GroupNorm, CosineSimilarity ---

NEW_LAYERS = [("RMSNorm", (4,), {}, (3, 4)), ("RMSNorm", ((2, 4),), {"eps": 1e-3}, (3, 2, 4)),
              ("RMSNorm", (4,), {"elementwise_affine": False}, (3, 4)),
              ("GroupNorm", (2, 4), {}, (3, 4, 5)), ("GroupNorm", (1, 4), {"affine": False},
                                                     (2, 4)),
              ("CosineSimilarity", (), {"dim": -1}, (3, 4))]


@pytest.mark.parametrize("name, args, kwargs, shape", NEW_LAYERS,
                         ids=[f"{n}{a}{k}" for n, a, k, _ in NEW_LAYERS])
def test_rms_group_and_cosine_layers_are_pytorchs(torch, name, args, kwargs, shape):
    x = np.random.default_rng(0).normal(size=shape)
    runs = []
    for lib, make in ((nn, lambda a: Tensor(a, requires_grad=True, dtype=np.float64)),
                      (torch.nn, lambda a: torch.tensor(a, requires_grad=True))):
        layer = getattr(lib, name)(*args, **kwargs).double()
        inputs = [make(x)] + ([make(x[::-1].copy())] if name == "CosineSimilarity" else [])
        out = layer(*inputs)
        (out * out).sum().backward()
        runs.append((repr(layer), list(layer.state_dict()), out.detach().numpy(),
                     [i.grad.numpy() for i in inputs]))
    (r1, s1, o1, g1), (r2, s2, o2, g2) = runs
    assert r1 == r2 and s1 == s2
    np.testing.assert_allclose(o1, o2, rtol=1e-12, atol=1e-14)
    for a, b in zip(g1, g2):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


def test_rms_norm_by_hand():
    x = Tensor([[3.0, 4.0]], dtype=np.float64)
    out = nn.RMSNorm(2, eps=0.0)(x)  # sqrt(mean(9, 16)) = sqrt(12.5)
    np.testing.assert_allclose(out.numpy(), [[3 / 12.5 ** 0.5, 4 / 12.5 ** 0.5]])
    assert nn.RMSNorm(2).eps is None  # the dtype's epsilon, at run time (PyTorch >= 2.4)


def test_group_norm_refuses_channels_it_cannot_split():
    with pytest.raises(ValueError, match="divisible by num_groups=3"):
        nn.functional.group_norm(Tensor(np.ones((2, 4))), 3)


@pytest.mark.parametrize("p, want", [
    (-math.inf, [[5e11, -4e12, 2e12, 0.0]]),  # over the smallest |x|, 0, clamped at eps
    (0, [[0.16666666666666666, -1.3333333333333333, 0.6666666666666666, 0.0]]),  # 3 nonzeros
    (3, [[0.1201179916541501, -0.9609439332332008, 0.4804719666166004, 0.0]]),
    (-1, [[5e11, -4e12, 2e12, 0.0]]),  # 1 / sum(1 / |x|) with an |x| of 0: 0, clamped at eps
])
def test_normalize_by_every_order_of_norm(library, p, want):
    """PyTorch's normalize divides by input.norm(p, dim), every order of it."""
    x = library.tensor([[0.5, -4.0, 2.0, 0.0]], dtype=library.float64)
    np.testing.assert_allclose(library.nn.functional.normalize(x, p=p).numpy(), want,
                               rtol=1e-15)
    x = library.tensor([[0.5, -4.0, 2.0]], dtype=library.float64)
    if p == -math.inf:  # no 0 this time: over 0.5
        assert library.nn.functional.normalize(x, p=p).tolist() == [[1.0, -8.0, 4.0]]


@pytest.mark.parametrize("make", [
    lambda lib: lib.nn.BatchNorm1d(3), lambda lib: lib.nn.LayerNorm(3),
    lambda lib: lib.nn.GroupNorm(1, 3), lambda lib: lib.nn.RMSNorm(3),
    lambda lib: lib.nn.InstanceNorm1d(3, affine=True, track_running_stats=True)])
def test_reset_parameters_and_running_stats_put_a_layer_back_as_it_started(library, make):
    layer = make(library)
    start = {k: v.clone() for k, v in layer.state_dict().items()}
    for _ in range(2):  # a training step moves the running statistics (and the count)
        x = library.tensor([[[1.0, 2.0], [3.0, -1.0], [0.5, 0.0]]] * 2)  # (n, channels, length)
        out = layer(x.transpose(1, 2) if isinstance(layer, (library.nn.LayerNorm,
                                                            library.nn.RMSNorm)) else x)
        out.sum().backward()
    with library.no_grad():
        for p in layer.parameters():
            p.add_(0.5)
    assert any(not library.equal(v, start[k]) for k, v in layer.state_dict().items())
    if hasattr(layer, "reset_running_stats"):
        layer.reset_running_stats()
        for name in ("running_mean", "running_var", "num_batches_tracked"):
            assert library.equal(layer.state_dict()[name], start[name])
    layer.reset_parameters()
    for k, v in layer.state_dict().items():
        assert library.equal(v, start[k]), k
