"""nn/layers.py: Linear, Embedding, Identity, Flatten, Dropout, the activations and the loss
modules against PyTorch (values, gradients, initial weights from the same seed, repr) and
finite differences; their errors."""
from __future__ import annotations

import numpy as np
import pytest

import engine
import nn
from engine import Tensor, gradcheck
from nn import Linear, ReLU, Sequential, Sigmoid, Tanh

rng = np.random.default_rng(0)


def f64(shape) -> Tensor:
    return Tensor(rng.normal(size=shape), requires_grad=True, dtype=np.float64)


def torch_state(torch, module: nn.Module) -> dict:
    """Our module's state_dict as torch tensors, which torch's load_state_dict wants."""
    return {name: torch.from_numpy(array.numpy()) for name, array in module.state_dict().items()}


@pytest.mark.parametrize("shape", [(5, 4), (2, 5, 4), (4,)])
@pytest.mark.parametrize("bias", [True, False])
def test_linear_matches_pytorch_in_value_and_every_gradient(torch, shape, bias):
    ours = Linear(4, 3, bias=bias, dtype=np.float64)
    theirs = torch.nn.Linear(4, 3, bias=bias)
    theirs.load_state_dict(torch_state(torch, ours))  # the same layout: no transposes
    x = f64(shape)
    tx = torch.tensor(x.numpy(), requires_grad=True)
    out, tout = ours(x), theirs(tx)
    np.testing.assert_allclose(out.numpy(), tout.detach().numpy(), rtol=1e-12)
    upstream = rng.normal(size=out.shape)
    out.backward(upstream)
    tout.backward(torch.tensor(upstream))
    for p, tp in zip(ours.parameters(), theirs.parameters()):
        np.testing.assert_allclose(p.grad, tp.grad.numpy(), rtol=1e-12)
    np.testing.assert_allclose(x.grad, tx.grad.numpy(), rtol=1e-12)


def test_linear_weight_is_out_by_in_as_pytorchs():
    layer = Linear(4, 3)
    assert layer.weight.shape == (3, 4) and layer.bias.shape == (3,)
    assert isinstance(layer.weight, nn.Parameter) and layer.weight.dtype == np.float32
    assert [n for n, _ in layer.named_parameters()] == ["weight", "bias"]


def test_linear_gradients_match_central_differences():
    layer = Linear(3, 2, dtype=np.float64)
    x = f64((4, 3))
    assert gradcheck(lambda x, w, b: (layer(x) ** 2).sum(), [x, layer.weight, layer.bias])


@pytest.mark.parametrize("make, torch_make", [
    (lambda: Linear(300, 40), lambda torch: torch.nn.Linear(300, 40)),
    (lambda: Linear(3, 2, bias=False), lambda torch: torch.nn.Linear(3, 2, bias=False)),
    (lambda: nn.Embedding(10, 4), lambda torch: torch.nn.Embedding(10, 4)),
    (lambda: nn.Embedding(10, 20, padding_idx=-2),
     lambda torch: torch.nn.Embedding(10, 20, padding_idx=-2)),
    (lambda: nn.LayerNorm(5), lambda torch: torch.nn.LayerNorm(5)),
    (lambda: nn.BatchNorm1d(3), lambda torch: torch.nn.BatchNorm1d(3)),
])
def test_layers_start_from_pytorchs_weights_after_the_same_seed(torch, make, torch_make):
    torch.set_default_dtype(torch.float32)  # the fixture's float64 would draw other numbers
    engine.manual_seed(42)
    torch.manual_seed(42)
    ours, theirs = make(), torch_make(torch)
    want = theirs.state_dict()
    assert list(ours.state_dict()) == list(want)
    for name, array in ours.state_dict().items():
        assert array.dtype == want[name].numpy().dtype
        np.testing.assert_array_equal(array, want[name].numpy(), err_msg=name)


def test_linear_init_is_uniform_within_one_over_sqrt_fan_in():
    """PyTorch's default, kaiming_uniform_ with a = sqrt(5), for weight and bias alike."""
    nn.manual_seed(1)
    layer = Linear(400, 300)
    bound = 1 / np.sqrt(400)
    for p in (layer.weight, layer.bias):
        assert p.dtype == np.float32 and p.requires_grad
        assert np.abs(p.numpy()).max() <= bound
    weight = layer.weight.numpy()
    assert abs(weight.mean()) < 0.01 * bound
    assert weight.std() == pytest.approx(bound / np.sqrt(3), rel=0.01)


def test_manual_seed_makes_initial_weights_repeatable():
    nn.manual_seed(3)
    a = Linear(5, 4)
    nn.manual_seed(3)
    b = Linear(5, 4)
    c = Linear(5, 4)
    np.testing.assert_array_equal(a.weight.numpy(), b.weight.numpy())
    np.testing.assert_array_equal(a.bias.numpy(), b.bias.numpy())
    assert not np.array_equal(b.weight.numpy(), c.weight.numpy())


def test_linear_takes_numpy_input_and_keeps_float32():
    layer = Linear(4, 2)
    out = layer(np.ones((3, 4), dtype=np.float32))
    assert out.dtype == np.float32 and out.shape == (3, 2)


@pytest.mark.parametrize("args", [(0, 3), (3, -1), (2.5, 3), (True, 3), ("4", 3)])
def test_linear_refuses_sizes_that_are_not_positive_ints(args):
    with pytest.raises(ValueError, match="must be a positive int"):
        Linear(*args)


def test_linear_names_the_expected_and_given_input_shape():
    with pytest.raises(ValueError, match=r"shape \(\.\.\., 4\).*got \(3, 5\)"):
        Linear(4, 2)(np.ones((3, 5)))


def test_a_layer_on_another_device_or_of_ints_is_refused():
    with pytest.raises(RuntimeError, match="CPU only"):
        Linear(2, 2, device="cuda")
    with pytest.raises(TypeError, match="weights are floats"):
        Linear(2, 2, dtype=np.int64)


# --- Embedding ---

def test_embedding_matches_pytorch_with_padding(torch):
    ours = nn.Embedding(6, 3, padding_idx=2, dtype=np.float64)
    theirs = torch.nn.Embedding(6, 3, padding_idx=2)
    theirs.load_state_dict(torch_state(torch, ours))
    index = np.array([[2, 0, 5], [5, 5, 1]])
    out, tout = ours(index), theirs(torch.tensor(index))
    np.testing.assert_array_equal(out.numpy(), tout.detach().numpy())
    upstream = rng.normal(size=out.shape)
    out.backward(upstream)
    tout.backward(torch.tensor(upstream))
    np.testing.assert_allclose(ours.weight.grad, theirs.weight.grad.numpy(), rtol=1e-12)


def test_embedding_sums_the_gradient_of_repeated_rows_and_none_into_padding():
    layer = nn.Embedding(4, 2, padding_idx=0, dtype=np.float64)
    assert not layer.weight.numpy()[0].any()  # the padding row starts at zero
    out = layer(np.array([[3, 0, 3], [1, 3, 0]]))
    out.backward(np.ones((2, 3, 2)))
    np.testing.assert_array_equal(layer.weight.grad, [[0, 0], [1, 1], [0, 0], [3, 3]])


EMBEDDING_SETTINGS = [{"max_norm": 1.0}, {"max_norm": 0.5, "norm_type": 1.0},
                      {"scale_grad_by_freq": True}, {"scale_grad_by_freq": True, "padding_idx": 1},
                      {"sparse": True}]


@pytest.mark.parametrize("settings", EMBEDDING_SETTINGS, ids=lambda k: "-".join(map(str, k.items())))
def test_embedding_settings_match_pytorch(torch, settings):
    table = rng.normal(size=(6, 3)) * 2  # norms above and below the max_norms
    index = np.array([[2, 0, 5], [5, 5, 1]])
    upstream = rng.normal(size=(2, 3, 3))
    results = []
    for lib in (engine, torch):
        layer = lib.nn.Embedding(6, 3, _weight=lib.tensor(table.copy()), **settings)
        out = layer(lib.tensor(index))
        out.backward(lib.tensor(upstream))
        grad = layer.weight.grad
        results.append((repr(layer), out.detach().numpy(), layer.weight.detach().numpy(),
                        (grad.to_dense() if grad.is_sparse else grad).numpy()))
    (ours_repr, *ours), (theirs_repr, *theirs) = results
    assert ours_repr == theirs_repr
    for a, b in zip(ours, theirs):  # output, the table (renormed in place), its gradient
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-15)
    if "max_norm" in settings:  # the rows picked now have norms of at most max_norm
        norms = np.linalg.norm(ours[1][np.unique(index)], ord=settings.get("norm_type", 2),
                               axis=1)
        assert (norms <= settings["max_norm"] + 1e-9).all() and not np.allclose(ours[1], table)


def test_embedding_from_pretrained_is_frozen_unless_told(torch):
    table = rng.normal(size=(4, 2))
    for lib in (engine, torch):
        frozen = lib.nn.Embedding.from_pretrained(lib.tensor(table), padding_idx=3)
        trained = lib.nn.Embedding.from_pretrained(lib.tensor(table), freeze=False)
        assert not frozen.weight.requires_grad and trained.weight.requires_grad
        assert repr(frozen) == "Embedding(4, 2, padding_idx=3)"
        np.testing.assert_array_equal(frozen(lib.tensor([3, 0])).numpy(), table[[3, 0]])
    with pytest.raises(ValueError, match=r"2-D table .* got shape \(4,\)"):
        nn.Embedding.from_pretrained(engine.zeros(4))


@pytest.mark.parametrize("args, error, message", [
    ((0, 3), ValueError, "num_embeddings must be a positive int"),
    ((4, 3, 4), ValueError, r"padding_idx must lie in \[-4, 4\)"),
])
def test_embedding_refuses_bad_sizes(args, error, message):
    with pytest.raises(error, match=message):
        nn.Embedding(*args)


# --- Dropout, Identity, Flatten ---

def test_dropout_is_active_in_training_only():
    layer = nn.Dropout(0.5)
    x = Tensor(np.ones((50, 40), np.float32))
    dropped = layer(x).numpy()
    assert set(np.unique(dropped)) == {0.0, 2.0}
    layer.eval()
    assert layer(x) is x
    with pytest.raises(ValueError, match="between 0 and 1"):
        nn.Dropout(-0.1)


def test_identity_and_flatten_match_pytorch(torch):
    x = rng.normal(size=(2, 3, 4, 5))
    assert nn.Identity(54, unused="ignored")(x) is x
    for args in [(), (0,), (1, 2), (2, -1)]:
        np.testing.assert_array_equal(nn.Flatten(*args)(Tensor(x)).numpy(),
                                      torch.nn.Flatten(*args)(torch.tensor(x)).numpy())


# --- activations ---

ACTIVATIONS = {  # ours, PyTorch's, given the torch module
    "ReLU": (nn.ReLU(), lambda torch: torch.nn.ReLU()),
    "Tanh": (nn.Tanh(), lambda torch: torch.nn.Tanh()),
    "Sigmoid": (nn.Sigmoid(), lambda torch: torch.nn.Sigmoid()),
    "GELU": (nn.GELU(), lambda torch: torch.nn.GELU()),
    "GELU_tanh": (nn.GELU("tanh"), lambda torch: torch.nn.GELU("tanh")),
    "Softmax": (nn.Softmax(dim=0), lambda torch: torch.nn.Softmax(dim=0)),
    "LogSoftmax": (nn.LogSoftmax(1), lambda torch: torch.nn.LogSoftmax(1)),
}


@pytest.mark.parametrize("name", ACTIVATIONS)
def test_activation_matches_pytorch(torch, name):
    ours, theirs = ACTIVATIONS[name][0], ACTIVATIONS[name][1](torch)
    x = Tensor(np.array([[-30.0, -1.5, -0.2], [0.3, 2.0, 30.0]]), requires_grad=True,
               dtype=np.float64)
    tx = torch.tensor(x.numpy(), requires_grad=True)
    out, tout = ours(x), theirs(tx)
    # atol: far in a tail, where the answer is below 1e-15, the two round differently (our
    # GELU(-30) is -30 Phi(-30) = -1.5e-196, PyTorch's 1 + erf(-21.2) gives -0)
    np.testing.assert_allclose(out.numpy(), tout.detach().numpy(), rtol=1e-12, atol=1e-15)
    upstream = rng.normal(size=x.shape)
    out.backward(upstream)
    tout.backward(torch.tensor(upstream))
    np.testing.assert_allclose(x.grad, tx.grad.numpy(), rtol=1e-12, atol=1e-15)
    assert repr(ours) == repr(theirs)


@pytest.mark.parametrize("name", ACTIVATIONS)
def test_activation_gradient_matches_central_differences(name):
    x = Tensor(np.array([[-1.5, -0.2], [0.3, 2.0]]), requires_grad=True, dtype=np.float64)
    assert gradcheck(lambda x: (ACTIVATIONS[name][0](x) * np.arange(1.0, 5.0).reshape(2, 2)
                                ).sum(), [x])


def test_gelu_refuses_an_unknown_approximation():
    with pytest.raises(ValueError, match="'none' or 'tanh'"):
        nn.GELU("erf")


# --- losses as modules ---

@pytest.mark.parametrize("make, labels", [
    (lambda lib: lib.CrossEntropyLoss(), [1, 0, 3]),
    (lambda lib: lib.CrossEntropyLoss(ignore_index=0, reduction="sum"), [1, 0, 3]),
    (lambda lib: lib.NLLLoss(reduction="none"), [2, 2, 0]),
    (lambda lib: lib.MSELoss(), None),
])
def test_loss_modules_match_pytorch(torch, make, labels):
    x = rng.normal(size=(3, 4))
    target = rng.normal(size=(3, 4)) if labels is None else np.array(labels)
    ours, theirs = make(nn), make(torch.nn)
    np.testing.assert_allclose(ours(Tensor(x), target).numpy(),
                               theirs(torch.tensor(x), torch.tensor(target)).numpy(), rtol=1e-12)
    assert repr(ours) == repr(theirs)


def test_a_loss_module_refuses_an_unknown_reduction():
    with pytest.raises(ValueError, match="reduction must be one of"):
        nn.MSELoss(reduction="mean_squared")


# --- layers together ---

def test_sequential_of_layers_matches_pytorch_after_a_state_dict_copy(torch):
    ours = Sequential(Linear(6, 5, dtype=np.float64), Tanh(), Linear(5, 4, dtype=np.float64),
                      ReLU(), Linear(4, 2, dtype=np.float64), Sigmoid())
    theirs = torch.nn.Sequential(torch.nn.Linear(6, 5), torch.nn.Tanh(), torch.nn.Linear(5, 4),
                                 torch.nn.ReLU(), torch.nn.Linear(4, 2), torch.nn.Sigmoid())
    theirs.load_state_dict(torch_state(torch, ours))
    x = rng.normal(size=(7, 6))
    out, tout = ours(Tensor(x)), theirs(torch.tensor(x))
    np.testing.assert_allclose(out.numpy(), tout.detach().numpy(), rtol=1e-12)
    out.sum().backward()
    tout.sum().backward()
    for (name, p), tp in zip(ours.named_parameters(), theirs.parameters()):
        np.testing.assert_allclose(p.grad, tp.grad.numpy(), rtol=1e-10, err_msg=name)


def test_a_digit_classifier_on_real_mnist_matches_pytorch_in_loss_and_gradients(torch, mnist_test):
    x, y = mnist_test[0][:256].astype(np.float64), mnist_test[1][:256]
    ours = Sequential(Linear(784, 100, dtype=np.float64), ReLU(), Linear(100, 10, dtype=np.float64))
    theirs = torch.nn.Sequential(torch.nn.Linear(784, 100), torch.nn.ReLU(),
                                 torch.nn.Linear(100, 10))
    theirs.load_state_dict(torch_state(torch, ours))
    loss = nn.cross_entropy(ours(x), y)
    tloss = torch.nn.functional.cross_entropy(theirs(torch.tensor(x)), torch.tensor(y))
    loss.backward()
    tloss.backward()
    assert loss.item() == pytest.approx(tloss.item(), rel=1e-12)
    for p, tp in zip(ours.parameters(), theirs.parameters()):
        np.testing.assert_allclose(p.grad, tp.grad.numpy(), rtol=1e-9, atol=1e-15)
