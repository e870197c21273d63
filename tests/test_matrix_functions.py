"""engine/matrix_functions.py: matrix_exp, householder_product and geqrf, by hand-derived
values and properties, by finite differences, and against PyTorch."""
from __future__ import annotations

import math

import numpy as np
import pytest

import engine
from engine.gradcheck import gradcheck
from engine.matrix_functions import geqrf, householder_product, matrix_exp

RNG = np.random.default_rng(7)


@pytest.fixture(autouse=True)
def _fresh_rng():
    """Each test draws the same numbers, whatever ran before it in its worker."""
    global RNG
    RNG = np.random.default_rng(7)


@pytest.mark.parametrize("t", [0.3, 2.0, 40.0])
def test_the_exponential_of_a_skew_matrix_is_a_rotation(t):
    A = engine.tensor([[0.0, t], [-t, 0.0]], dtype=engine.float64)
    want = [[math.cos(t), math.sin(t)], [-math.sin(t), math.cos(t)]]
    np.testing.assert_allclose(matrix_exp(A).numpy(), want, rtol=0, atol=1e-13 * max(1, t))


def test_the_exponential_of_a_diagonal_and_of_a_nilpotent_matrix():
    D = engine.tensor(np.diag([-3.0, 0.0, 1.5, 7.0]))
    np.testing.assert_allclose(np.diag(matrix_exp(D).numpy()), np.exp([-3.0, 0.0, 1.5, 7.0]),
                               rtol=1e-14)
    N = engine.tensor([[0.0, 2.0, 5.0], [0.0, 0.0, 3.0], [0.0, 0.0, 0.0]], dtype=engine.float32)
    want = [[1.0, 2.0, 8.0], [0.0, 1.0, 3.0], [0.0, 0.0, 1.0]]  # I + N + N²/2, as N³ = 0
    assert matrix_exp(N).tolist() == want
    assert matrix_exp(N).dtype == engine.float32


@pytest.mark.parametrize("scale", [0.1, 3.0])
def test_matrix_exp_gradient_by_finite_differences(scale):
    A = engine.tensor(RNG.standard_normal((2, 3, 3)) * scale, requires_grad=True)
    assert gradcheck(matrix_exp, [A])


def test_householder_product_is_the_product_of_the_reflections():
    a = RNG.standard_normal((5, 3))
    tau = RNG.standard_normal(2)
    Q = np.eye(5)
    for i in range(2):
        v = np.tril(a, -1)[:, i] + np.eye(5, 3)[:, i]
        Q = Q @ (np.eye(5) - tau[i] * np.outer(v, v))
    got = householder_product(engine.tensor(a), engine.tensor(tau)).numpy()
    np.testing.assert_allclose(got, Q[:, :3], rtol=1e-13, atol=1e-14)


def test_geqrf_expands_to_the_qr_decomposition():
    a = RNG.standard_normal((2, 6, 4)).astype(np.float32)
    x, tau = geqrf(engine.tensor(a))
    Q = householder_product(x, tau).numpy()
    R = np.triu(x.numpy()[..., :4, :])
    np.testing.assert_allclose(Q @ R, a, atol=2e-6)
    np.testing.assert_allclose(np.swapaxes(Q, -1, -2) @ Q, np.broadcast_to(np.eye(4), (2, 4, 4)),
                               atol=1e-6)


def test_householder_product_gradient_by_finite_differences():
    A = engine.tensor(RNG.standard_normal((2, 4, 3)), requires_grad=True)
    tau = engine.tensor(RNG.standard_normal((2, 2)), requires_grad=True)
    assert gradcheck(householder_product, [A, tau])


def test_the_namespaces_hold_them():
    assert engine.matrix_exp is matrix_exp and engine.linalg.matrix_exp is matrix_exp
    assert engine.linalg.householder_product is householder_product and engine.geqrf is geqrf


@pytest.mark.parametrize("call, message", [
    (lambda: matrix_exp(engine.zeros(2, 3)), "square matrices, but they are 2 by 3"),
    (lambda: matrix_exp(engine.zeros(3)), "at least 2 dimensions"),
    (lambda: matrix_exp(engine.zeros(2, 2, dtype=engine.int64)), "float32 or float64"),
    (lambda: householder_product(engine.zeros(3, 4), engine.zeros(2)),
     r"input.shape\[-2\] must be greater than or equal to input.shape\[-1\]"),
    (lambda: householder_product(engine.zeros(4, 3), engine.zeros(4)),
     r"input.shape\[-1\] must be greater than or equal to tau.shape\[-1\]"),
    (lambda: householder_product(engine.zeros(2, 4, 3), engine.zeros(3, 3)),
     r"batch dimensions of tau to be equal to input.shape\[:-2\], but got \[3\]"),
    (lambda: geqrf(engine.zeros(3)), "at least 2 dimensions"),
])
def test_bad_input_raises_pytorchs_runtime_error(call, message):
    with pytest.raises(RuntimeError, match=message):
        call()


@pytest.mark.parametrize("shape", [(5, 3), (3, 5), (2, 4, 4), (4, 1), (1, 3)])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_geqrf_in_the_graph_gives_lapacks_numbers(shape, dtype):
    """In the graph geqrf is LAPACK's Householder steps in differentiable ops; its numbers
    are LAPACK's to rounding, in the input's dtype."""
    a = RNG.standard_normal(shape).astype(dtype)
    plain = geqrf(engine.tensor(a))
    graphed = geqrf(engine.tensor(a, requires_grad=True))
    tol = 2e-6 if dtype == "float32" else 1e-14
    for p, g in zip(plain, graphed):
        assert g.requires_grad and g.dtype == p.dtype == engine.tensor(a).dtype
        np.testing.assert_allclose(g.detach().numpy(), p.numpy(), atol=tol)


@pytest.mark.parametrize("shape", [(2, 5, 3), (3, 5), (4, 4)])
def test_geqrf_gradient_by_finite_differences(shape):
    A = engine.tensor(RNG.standard_normal(shape), requires_grad=True)
    assert gradcheck(lambda A: geqrf(A)[0], [A]) and gradcheck(lambda A: geqrf(A)[1], [A])


def test_geqrf_of_a_zero_column_leaves_it_with_tau_0_and_a_finite_gradient():
    A = engine.tensor([[0.0, 1.0], [0.0, 2.0], [0.0, 3.0]], requires_grad=True)
    x, tau = geqrf(A)
    assert tau.detach().numpy()[0] == 0 and x.detach().numpy()[:, 0].tolist() == [0, 0, 0]
    (x.sum() + tau.sum()).backward()
    assert np.isfinite(A.grad.numpy()).all()


def test_geqrfs_q_has_pytorchs_qr_gradient(torch):
    """PyTorch cannot differentiate geqrf, but its linalg.qr is geqrf then householder_product:
    Q's gradient through ours must be its qr's."""
    a, g = RNG.standard_normal((2, 5, 3)), RNG.standard_normal((2, 5, 3))
    A, tA = engine.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    householder_product(*geqrf(A)).backward(engine.tensor(g))
    torch.linalg.qr(tA).Q.backward(torch.tensor(g))
    np.testing.assert_allclose(A.grad.numpy(), tA.grad.numpy(), atol=1e-12)


@pytest.mark.parametrize("scale", [0.05, 1.0, 6.0])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_matrix_exp_and_its_gradient_match_pytorch(scale, dtype):
    torch = pytest.importorskip("torch")
    a = (RNG.standard_normal((3, 4, 4)) * scale).astype(dtype)
    g = RNG.standard_normal((3, 4, 4)).astype(dtype)
    ours = engine.tensor(a, requires_grad=True)
    theirs = torch.tensor(a, requires_grad=True)
    out, tout = matrix_exp(ours), torch.matrix_exp(theirs)
    out.backward(engine.tensor(g))
    tout.backward(torch.tensor(g))
    tol = 1e-5 if dtype == "float32" else 1e-13
    for x, y in ((out.detach().numpy(), tout.detach().numpy()),
                 (ours.grad.numpy(), theirs.grad.numpy())):
        assert np.abs(x - y).max() <= tol * np.abs(y).max()


def test_householder_product_geqrf_and_gradients_match_pytorch():
    torch = pytest.importorskip("torch")
    a, t = RNG.standard_normal((2, 5, 3)), RNG.standard_normal((2, 3))
    g = RNG.standard_normal((2, 5, 3))
    A, tau = engine.tensor(a, requires_grad=True), engine.tensor(t, requires_grad=True)
    tA, ttau = torch.tensor(a, requires_grad=True), torch.tensor(t, requires_grad=True)
    out, tout = householder_product(A, tau), torch.linalg.householder_product(tA, ttau)
    out.backward(engine.tensor(g))
    tout.backward(torch.tensor(g))
    np.testing.assert_allclose(out.detach().numpy(), tout.detach().numpy(), atol=1e-13)
    np.testing.assert_allclose(A.grad.numpy(), tA.grad.numpy(), atol=1e-12)
    np.testing.assert_allclose(tau.grad.numpy(), ttau.grad.numpy(), atol=1e-12)
    x, tau = geqrf(engine.tensor(a))
    tx, ttau = torch.geqrf(torch.tensor(a))
    np.testing.assert_allclose(x.numpy(), tx.numpy(), atol=1e-13)
    np.testing.assert_allclose(tau.numpy(), ttau.numpy(), atol=1e-13)


def test_each_matrix_of_a_batch_is_scaled_by_its_own_norm(library):
    """A nan, an inf or a large matrix beside it costs a matrix no accuracy (the batch was
    scaled as one: e**10 came out 21868 beside a nan, e**0.5 1.648514 beside 1e4)."""
    exp = library.linalg.matrix_exp
    assert exp(library.tensor([[[float("nan")]], [[10.0]]], dtype=library.float64))[1].item() \
        == pytest.approx(22026.465794806718, rel=1e-14)
    assert exp(library.tensor([[[1e4]], [[0.5]]]))[1].item() == pytest.approx(1.6487212181091309,
                                                                             rel=1e-6)
