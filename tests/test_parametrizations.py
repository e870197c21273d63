"""nn/utils/parametrizations.py: weight_norm, spectral_norm and orthogonal, by their
defining properties (g v / ||v||, sigma against numpy's singular values, orthonormal
columns), finite differences in float64, and against torch.nn.utils.parametrizations:
seeded vectors, SGD steps on a Linear and a Conv2d, state_dict names both ways."""
from __future__ import annotations

import numpy as np
import pytest

import engine
import nn
from engine.gradcheck import gradcheck
from nn.utils import parametrize
from nn.utils.parametrizations import orthogonal, spectral_norm, weight_norm

RNG = np.random.default_rng(3)


@pytest.fixture(autouse=True)
def _fresh_rng():
    """Each test draws the same numbers, whatever ran before it in its worker."""
    global RNG
    RNG = np.random.default_rng(3)
LAYERS = {"Linear": ((5, 4), (3, 5)), "Conv2d": ((2, 3, 3), (2, 2, 6, 6))}


def _layer(lib, kind):
    engine.manual_seed(0)
    return getattr(lib, kind)(*LAYERS[kind][0])


def _input(kind, dtype=np.float64):
    return RNG.standard_normal(LAYERS[kind][1]).astype(dtype)


def _as_rows(w):
    return w.reshape(w.shape[0], -1)


# --- weight_norm ---

@pytest.mark.parametrize("kind", ["Linear", "Conv2d"])
def test_weight_norm_weight_is_g_times_v_over_each_rows_norm(kind):
    m = weight_norm(_layer(nn, kind))
    g = m.parametrizations.weight.original0.detach().numpy()
    v = m.parametrizations.weight.original1.detach().numpy()
    assert g.shape == (v.shape[0],) + (1,) * (v.ndim - 1)
    want = g * v / np.sqrt((_as_rows(v) ** 2).sum(1)).reshape(g.shape)
    np.testing.assert_allclose(m.weight.detach().numpy(), want, rtol=1e-6)
    np.testing.assert_allclose(g.reshape(-1), np.sqrt((_as_rows(v) ** 2).sum(1)), rtol=1e-6)


@pytest.mark.parametrize("dim, shape", [(0, (3, 1, 1, 1)), (1, (1, 2, 1, 1)), (None, ()),
                                        (-1, ()), (-2, (1, 1, 3, 1)), (3, (1, 1, 1, 3))])
def test_weight_norm_g_has_one_entry_per_slice_along_dim(dim, shape):
    m = weight_norm(_layer(nn, "Conv2d"), dim=dim)
    g, v = (t.detach().numpy() for t in (m.parametrizations.weight.original0,
                                         m.parametrizations.weight.original1))
    assert g.shape == shape
    axes = tuple(range(4)) if shape == () else tuple(d for d in range(4) if shape[d] == 1)
    np.testing.assert_allclose(m.weight.detach().numpy(),
                               g * v / np.sqrt((v ** 2).sum(axes, keepdims=True)), rtol=1e-6)


@pytest.mark.parametrize("kind", ["Linear", "Conv2d"])
def test_weight_norm_gradients_by_finite_differences(kind):
    m = weight_norm(_layer(nn, kind).double())
    x = engine.tensor(_input(kind))
    g, v = m.parametrizations.weight.original0, m.parametrizations.weight.original1
    assert gradcheck(lambda g, v: m(x).tanh(), [g, v])


def test_removing_weight_norm_leaves_a_plain_weight_parameter():
    m = weight_norm(_layer(nn, "Linear"))
    want = m.weight.tolist()
    parametrize.remove_parametrizations(m, "weight")
    assert type(m) is nn.Linear and isinstance(m.weight, nn.Parameter)
    assert m.weight.tolist() == want and list(m.state_dict()) == ["bias", "weight"]


# --- spectral_norm ---

def test_spectral_norm_sigma_approaches_the_largest_singular_value():
    engine.manual_seed(0)
    m = spectral_norm(nn.Linear(7, 5).double())
    W = m.parametrizations.weight.original.detach().numpy()
    for _ in range(60):  # each access in training mode is one more power iteration
        m.weight
    top = np.linalg.svd(W, compute_uv=False)[0]
    sigma = W[0, 0] / m.weight[0, 0].item()
    assert abs(sigma - top) <= 1e-9 * top
    assert abs(np.linalg.svd(m.weight.detach().numpy(), compute_uv=False)[0] - 1) <= 1e-9


def test_spectral_norm_iterates_in_training_mode_only():
    m = spectral_norm(_layer(nn, "Linear"), n_power_iterations=2)
    sn = m.parametrizations.weight[0]
    u = sn._u.detach().numpy().copy()
    assert abs(np.linalg.norm(u) - 1) < 1e-6 and sn._v.shape == (5,) and sn._u.shape == (4,)
    m.eval()
    m(engine.tensor(_input("Linear", np.float32)))
    assert (sn._u.numpy() == u).all()
    m.train()
    m(engine.tensor(_input("Linear", np.float32)))
    assert not (sn._u.numpy() == u).all()
    assert list(m.state_dict()) == ["bias", "parametrizations.weight.original",
                                    "parametrizations.weight.0._u", "parametrizations.weight.0._v"]


@pytest.mark.parametrize("kind", ["Linear", "Conv2d"])
def test_spectral_norm_gradient_by_finite_differences(kind):
    m = spectral_norm(_layer(nn, kind).double()).eval()  # eval: u, v stay put between calls
    x = engine.tensor(_input(kind))
    assert gradcheck(lambda w: m(x).tanh(), [m.parametrizations.weight.original])


def test_spectral_norm_of_a_vector_divides_by_its_norm_and_transposed_convs_use_dim_1():
    m = spectral_norm(_layer(nn, "Linear"), name="bias")
    b = m.parametrizations.bias.original.detach().numpy()
    np.testing.assert_allclose(m.bias.detach().numpy(), b / np.linalg.norm(b), rtol=1e-6)
    t = spectral_norm(nn.ConvTranspose2d(2, 3, 2))  # weight (in 2, out 3, 2, 2)
    assert t.parametrizations.weight[0]._u.shape == (3,)
    assert t.parametrizations.weight[0]._v.shape == (8,)


# --- orthogonal ---

@pytest.mark.parametrize("shape", [(4, 4), (6, 3), (3, 6), (2, 4, 4), (2, 3, 5)])
@pytest.mark.parametrize("orthogonal_map", [None, "matrix_exp", "cayley", "householder"])
@pytest.mark.parametrize("trivialization", [True, False])
def test_orthogonal_gives_orthonormal_columns_or_rows(shape, orthogonal_map, trivialization):
    m = nn.Module()
    m.weight = nn.Parameter(engine.tensor(RNG.standard_normal(shape)))
    orthogonal(m, orthogonal_map=orthogonal_map, use_trivialization=trivialization)
    Q = m.weight.detach().numpy()
    gram = Q.swapaxes(-1, -2) @ Q if shape[-2] >= shape[-1] else Q @ Q.swapaxes(-1, -2)
    np.testing.assert_allclose(gram, np.broadcast_to(np.eye(min(shape[-2:])), gram.shape),
                               atol=1e-12)


def test_orthogonal_starts_from_the_qr_factor_of_the_weight():
    m = nn.Linear(4, 4).double()
    W = m.weight.detach().numpy().copy()
    orthogonal(m)
    q, r = np.linalg.qr(W)
    np.testing.assert_allclose(m.weight.detach().numpy(), q * np.sign(np.diag(r)), atol=1e-13)
    P = np.eye(4)[[2, 0, 3, 1]]  # already orthogonal: kept as it is
    m.weight = engine.tensor(P)
    np.testing.assert_allclose(m.weight.detach().numpy(), P, atol=1e-15)
    assert list(m.state_dict()) == ["bias", "parametrizations.weight.original",
                                    "parametrizations.weight.0.base"]


@pytest.mark.parametrize("orthogonal_map, shape", [("matrix_exp", (3, 3)), ("cayley", (4, 2)),
                                                   ("householder", (4, 3)),
                                                   ("householder", (2, 4))])
@pytest.mark.parametrize("trivialization", [True, False])
def test_orthogonal_gradients_by_finite_differences(orthogonal_map, shape, trivialization):
    m = nn.Module()
    m.weight = nn.Parameter(engine.tensor(RNG.standard_normal(shape)))
    orthogonal(m, orthogonal_map=orthogonal_map, use_trivialization=trivialization)
    X = m.parametrizations.weight.original
    with engine.no_grad():  # away from the starting point, where every map is flat
        X += engine.tensor(RNG.standard_normal(shape) * 0.3)
    C = engine.tensor(RNG.standard_normal(shape))
    assert gradcheck(lambda X: (m.weight * C).sum(), [X])


@pytest.mark.parametrize("call, error, message", [
    (lambda: orthogonal(_layer(nn, "Linear"), "bias"), ValueError,
     "Expected a matrix or batch of matrices. Got a tensor of 1 dimensions."),
    (lambda: orthogonal(_layer(nn, "Linear"), orthogonal_map="svd"), ValueError,
     'orthogonal_map has to be one of "matrix_exp", "cayley", "householder". Got: svd'),
    (lambda: orthogonal(_layer(nn, "Linear"), "nope"), ValueError,
     "has no parameter or buffer with name 'nope'"),
    (lambda: spectral_norm(_layer(nn, "Linear"), n_power_iterations=0), ValueError,
     "Expected n_power_iterations to be positive, but got n_power_iterations=0"),
    (lambda: spectral_norm(_layer(nn, "Linear"), dim=2), IndexError,
     r"expected to be in range of \[-2, 1\] but got 2"),
    (lambda: weight_norm(_layer(nn, "Linear"), dim=2), IndexError,
     r"expected to be in range of \[-2, 1\], but got 2"),
    (lambda: setattr(orthogonal(_layer(nn, "Linear"), orthogonal_map="cayley",
                                use_trivialization=False), "weight", engine.eye(4, 5)),
     NotImplementedError, "not possible to assign to the matrix exponential or the Cayley"),
])
def test_errors_are_pytorchs(call, error, message):
    with pytest.raises(error, match=message):
        call()


# --- against PyTorch ---

PARAMETRIZATIONS = ["weight_norm", "spectral_norm", "orthogonal"]


def same_layers(torch, kind, dtype):
    """Our layer and torch's with the same weights, in dtype."""
    ours = _layer(nn, kind)
    theirs = getattr(torch.nn, kind)(*LAYERS[kind][0])
    theirs.load_state_dict({k: torch.tensor(v) for k, v in ours.state_dict().items()})
    if dtype == "float64":
        ours.double()
        theirs.double()
    return ours, theirs


def _twins(torch, kind, name, dtype):
    """Our layer and torch's with the same weights, `name` registered on both after the
    same seed (spectral_norm's u and v, orthogonal's completion are drawn from it)."""
    ours, theirs = same_layers(torch, kind, dtype)
    engine.manual_seed(5)
    torch.manual_seed(5)
    import nn.utils.parametrizations as ours_p
    getattr(ours_p, name)(ours)
    getattr(torch.nn.utils.parametrizations, name)(theirs)
    return ours, theirs


def _deviation(ours, theirs):
    """The largest difference between the two state_dicts, relative to each entry's largest."""
    state = ours.state_dict()
    return max(np.abs(state[k] - v.numpy()).max() / max(np.abs(v.numpy()).max(), 1e-30)
               for k, v in theirs.state_dict().items())


@pytest.mark.parametrize("dtype, tol", [("float32", 2e-4), ("float64", 1e-11)])
@pytest.mark.parametrize("kind", ["Linear", "Conv2d"])
@pytest.mark.parametrize("name", PARAMETRIZATIONS)
def test_sgd_steps_match_pytorch(name, kind, dtype, tol):
    torch = pytest.importorskip("torch")
    if name == "orthogonal" and dtype == "float32":
        tol = 1e-3  # PyTorch's own float32 originals end 4e-4 from its float64 ones here
    ours, theirs = _twins(torch, kind, name, dtype)
    train_side_by_side(torch, ours, theirs, _input(kind, dtype), tol)


def train_side_by_side(torch, ours, theirs, x, tol):
    """Five SGD steps on both (the loss the outputs' sum of squares), then an eval-mode
    forward: the same state names, and outputs and states within tol (relative to each
    one's largest entry) all along."""
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert _deviation(ours, theirs) <= tol
    opt = nn.optim.SGD(ours.parameters(), lr=0.05)
    topt = torch.optim.SGD(theirs.parameters(), lr=0.05)
    for step in range(6):
        if step == 5:
            ours.eval()
            theirs.eval()
        out, tout = ours(engine.tensor(x)), theirs(torch.tensor(x))
        np.testing.assert_allclose(out.detach().numpy(), tout.detach().numpy(),
                                   atol=tol * np.abs(tout.detach().numpy()).max())
        opt.zero_grad()
        (out ** 2).sum().backward()
        opt.step()
        topt.zero_grad()
        (tout ** 2).sum().backward()
        topt.step()
        assert _deviation(ours, theirs) <= tol


def test_spectral_norms_seeded_vectors_are_pytorchs():
    torch = pytest.importorskip("torch")
    ours, theirs = _twins(torch, "Conv2d", "spectral_norm", "float32")
    for buffer in ("_u", "_v"):
        np.testing.assert_allclose(getattr(ours.parametrizations.weight[0], buffer).numpy(),
                                   getattr(theirs.parametrizations.weight[0], buffer).numpy(),
                                   atol=1e-6)


@pytest.mark.parametrize("name", PARAMETRIZATIONS)
def test_state_dicts_move_both_ways_by_name(name):
    torch = pytest.importorskip("torch")
    ours, theirs = _twins(torch, "Conv2d", name, "float32")
    x = _input("Conv2d", np.float32)
    with torch.no_grad():
        for p in theirs.parameters():
            p.add_(torch.tensor(RNG.standard_normal(tuple(p.shape)).astype(np.float32) * 0.1))
    ours.eval()
    theirs.eval()
    ours.load_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()})
    np.testing.assert_allclose(ours(engine.tensor(x)).detach().numpy(),
                               theirs(torch.tensor(x)).detach().numpy(), atol=1e-4)
    with engine.no_grad():
        for p in ours.parameters():
            p += engine.tensor(RNG.standard_normal(tuple(p.shape)).astype(np.float32) * 0.1)
    theirs.load_state_dict({k: torch.tensor(v) for k, v in ours.state_dict().items()})
    np.testing.assert_allclose(ours(engine.tensor(x)).detach().numpy(),
                               theirs(torch.tensor(x)).detach().numpy(), atol=1e-4)


@pytest.mark.parametrize("shape", [(4, 4), (5, 3), (3, 5)])
@pytest.mark.parametrize("orthogonal_map", ["matrix_exp", "cayley", "householder"])
def test_orthogonal_maps_without_trivialization_match_pytorch(shape, orthogonal_map):
    torch = pytest.importorskip("torch")
    w = RNG.standard_normal(shape)
    ours, theirs = nn.Module(), torch.nn.Module()
    ours.weight = nn.Parameter(engine.tensor(w))
    theirs.weight = torch.nn.Parameter(torch.tensor(w))
    orthogonal(ours, orthogonal_map=orthogonal_map, use_trivialization=False)
    torch.nn.utils.parametrizations.orthogonal(theirs, orthogonal_map=orthogonal_map,
                                               use_trivialization=False)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    np.testing.assert_allclose(ours.parametrizations.weight.original.detach().numpy(),
                               theirs.parametrizations.weight.original.detach().numpy(),
                               atol=1e-13)
    C = RNG.standard_normal(shape)
    (ours.weight * engine.tensor(C)).sum().backward()
    (theirs.weight * torch.tensor(C)).sum().backward()
    np.testing.assert_allclose(ours.weight.detach().numpy(), theirs.weight.detach().numpy(),
                               atol=1e-12)
    np.testing.assert_allclose(ours.parametrizations.weight.original.grad.numpy(),
                               theirs.parametrizations.weight.original.grad.numpy(), atol=1e-12)
