"""engine/linalg.py (with linalg_solvers.py, linalg_spectral.py and linalg_functions.py):
torch.linalg as engine.linalg. Every differentiable function is checked against central
differences (engine.gradcheck, float64, batched), and against PyTorch in value, gradient,
second derivative and grad_fn name, each case written once for both libraries (`m` is
engine or torch); float32 stays float32. Without PyTorch: the identities the results must
satisfy (A inv(A) = I, Q R = A with Q orthonormal, U diag(S) Vh = A, ...), norms and
gradients worked out by hand or recorded from PyTorch 2.13, and the errors."""
from __future__ import annotations

import math
import warnings
from typing import Any, Callable

import numpy as np
import pytest

import engine
import engine.linalg as LA  # (also gives Tensor its methods: t.det(), t.inverse(), ...)
from engine import Tensor, gradcheck
from engine.linalg import LinAlgError

INF = math.inf


# --- inputs: each a function of a numpy Generator ---

def normal(*shape: int) -> Callable:
    return lambda rng: rng.standard_normal(shape)


def square(*shape: int) -> Callable:
    """Well-conditioned matrices: a random one plus 3 I."""
    return lambda rng: rng.standard_normal(shape) + 3 * np.eye(shape[-1])


def spd(*shape: int) -> Callable:
    """Symmetric positive-definite matrices: X X^T + n I."""
    def draw(rng: np.random.Generator) -> np.ndarray:
        x = rng.standard_normal(shape)
        return x @ x.swapaxes(-1, -2) + shape[-1] * np.eye(shape[-1])
    return draw


def orthonormal(rng: np.random.Generator, shape: tuple) -> np.ndarray:
    return np.linalg.qr(rng.standard_normal(shape))[0]


def spread_sym(*shape: int) -> Callable:
    """Symmetric matrices with eigenvalues 3 apart (eigenvectors are then well defined)."""
    def draw(rng: np.random.Generator) -> np.ndarray:
        q = orthonormal(rng, shape)
        return (q * (3.0 * np.arange(shape[-1]) - 4)[..., None, :]) @ q.swapaxes(-1, -2)
    return draw


def spread_sv(*shape: int) -> Callable:
    """Matrices with singular values 1 apart (singular vectors are then well defined)."""
    def draw(rng: np.random.Generator) -> np.ndarray:
        m, n = shape[-2:]
        k = min(m, n)
        u = orthonormal(rng, shape[:-2] + (m, k))
        v = orthonormal(rng, shape[:-2] + (n, k))
        return (u * np.arange(k + 1.0, 1.0, -1)) @ v.swapaxes(-1, -2)
    return draw


def singular(rng: np.random.Generator) -> np.ndarray:
    """A 3 by 3 matrix of rank 2 (its second row twice the first)."""
    x = rng.standard_normal((3, 3))
    x[1] = 2 * x[0]
    return x


# --- the cases: fn(m, *tensors) with m engine or torch, gauge-invariant where a
# decomposition's vectors are only fixed up to sign ---

def joined(m: Any, outs: Any) -> Any:
    return m.cat([o.reshape(-1) for o in outs])


def sym(x: Any) -> Any:
    """The symmetric part, so that finite differences see what eigh and cholesky read."""
    return (x + x.mT) / 2


def eigh_parts(m: Any, a: Any, UPLO: str = "L") -> Any:
    w, v = m.linalg.eigh(sym(a), UPLO=UPLO)
    return joined(m, [w, v * v])


def svd_parts(m: Any, a: Any) -> Any:
    u, s, vh = m.linalg.svd(a, full_matrices=False)
    return joined(m, [u * u, s, vh * vh])


def svd_rebuilt(m: Any, a: Any) -> Any:
    """U diag(S) Vh from the full SVD (only its first k columns of U and rows of Vh)."""
    k = min(a.shape[-2:])
    u, s, vh = m.linalg.svd(a)
    return (u[..., :k] * s[..., None, :]) @ vh[..., :k, :]


CASES = {
    "det": (lambda m, a: m.linalg.det(a), [square(2, 3, 3)]),
    "det_rank_2": (lambda m, a: m.linalg.det(a), [singular]),
    "slogdet": (lambda m, a: m.linalg.slogdet(a).logabsdet, [square(2, 3, 3)]),
    "slogdet_sign": (lambda m, a: m.linalg.slogdet(-a).sign[..., None, None] * a,
                     [square(2, 3, 3)]),
    "logdet": (lambda m, a: m.logdet(a), [spd(2, 3, 3)]),
    "inv": (lambda m, a: m.linalg.inv(a), [square(2, 3, 3)]),
    "inverse": (lambda m, a: a.inverse() + m.inverse(a), [square(3, 3)]),
    "solve": (lambda m, a, b: m.linalg.solve(a, b), [square(2, 3, 3), normal(2, 3, 2)]),
    "solve_vectors": (lambda m, a, b: m.linalg.solve(a, b), [square(2, 3, 3), normal(2, 3)]),
    "solve_1d": (lambda m, a, b: m.linalg.solve(a, b), [square(3, 3), normal(3)]),
    "solve_broadcast": (lambda m, a, b: m.linalg.solve(a, b), [square(3, 3), normal(2, 3, 2)]),
    "solve_left_false": (lambda m, a, b: m.linalg.solve(a, b, left=False),
                         [square(2, 3, 3), normal(2, 4, 3)]),
    "cholesky": (lambda m, a: m.linalg.cholesky(sym(a)), [spd(2, 3, 3)]),
    "cholesky_upper": (lambda m, a: m.linalg.cholesky(sym(a), upper=True), [spd(3, 3)]),
    "cholesky_solve": (lambda m, b, low: m.cholesky_solve(b, low.tril()),
                       [normal(2, 3, 2), square(3, 3)]),
    "qr_tall": (lambda m, a: joined(m, m.linalg.qr(a)), [normal(2, 4, 3)]),
    "qr_square": (lambda m, a: joined(m, m.linalg.qr(a, mode="complete")), [normal(3, 3)]),
    "qr_wide": (lambda m, a: joined(m, m.linalg.qr(a)), [normal(2, 3, 4)]),
    "eigh": (eigh_parts, [spread_sym(2, 3, 3)]),
    "eigh_upper": (lambda m, a: eigh_parts(m, a, "U"), [spread_sym(3, 3)]),
    "eigvalsh": (lambda m, a: m.linalg.eigvalsh(sym(a)), [spread_sym(2, 3, 3)]),
    "svd_tall": (svd_parts, [spread_sv(2, 4, 3)]),
    "svd_wide": (svd_parts, [spread_sv(2, 3, 4)]),
    "svd_square": (svd_parts, [spread_sv(3, 3)]),
    "svd_rebuilt_tall": (svd_rebuilt, [spread_sv(4, 2)]),
    "svd_rebuilt_wide": (svd_rebuilt, [spread_sv(2, 2, 4)]),
    "svdvals": (lambda m, a: m.linalg.svdvals(a), [spread_sv(2, 4, 3)]),
    "pinv_tall": (lambda m, a: m.linalg.pinv(a), [spread_sv(2, 4, 3)]),
    "pinv_wide": (lambda m, a: m.linalg.pinv(a), [spread_sv(3, 4)]),
    "pinv_hermitian": (lambda m, a: m.linalg.pinv(sym(a), hermitian=True), [spread_sym(3, 3)]),
    "pinverse": (lambda m, a: a.pinverse(), [spread_sv(3, 3)]),
    "matrix_power_0": (lambda m, a: m.linalg.matrix_power(a, 0), [square(2, 3, 3)]),
    "matrix_power_1": (lambda m, a: m.linalg.matrix_power(a, 1), [square(3, 3)]),
    "matrix_power_3": (lambda m, a: m.matrix_power(a / 3, 3), [square(2, 3, 3)]),
    "matrix_power_6": (lambda m, a: a.matrix_power(6) / 1e3, [square(3, 3)]),
    "matrix_power_-2": (lambda m, a: m.linalg.matrix_power(a, -2), [square(2, 3, 3)]),
    "multi_dot": (lambda m, *xs: m.linalg.multi_dot(xs),
                  [normal(3), normal(3, 4), normal(4, 2), normal(2, 5), normal(5)]),
    "multi_dot_matrices": (lambda m, *xs: m.linalg.multi_dot(xs),
                           [normal(2, 5), normal(5, 3), normal(3, 4)]),
    "cross": (lambda m, a, b: m.linalg.cross(a, b), [normal(2, 4, 3), normal(1, 4, 3)]),
    "cross_dim": (lambda m, a, b: a.cross(b, dim=1), [normal(2, 3, 4), normal(2, 3, 4)]),
    "vecdot": (lambda m, a, b: m.linalg.vecdot(a, b, dim=1), [normal(2, 3, 4), normal(3, 1)]),
    "norm": (lambda m, a: m.linalg.norm(a), [normal(2, 3, 4)]),
    "norm_nuc": (lambda m, a: m.linalg.norm(a, "nuc"), [spread_sv(4, 3)]),
    "norm_dim": (lambda m, a: m.linalg.norm(a, 3, dim=1, keepdim=True), [normal(2, 3, 4)]),
    **{f"vector_norm_{p}": (lambda m, a, p=p: m.linalg.vector_norm(a, p, dim=(0, 2)),
                            [normal(2, 3, 4)]) for p in (2, 1, INF, -INF, 0, 3, 0.5, -1)},
    **{f"matrix_norm_{p}": (lambda m, a, p=p: m.linalg.matrix_norm(a, p), [spread_sv(2, 4, 3)])
       for p in ("fro", "nuc", 2, -2, 1, -1, INF, -INF)},
    **{f"matrix_norm_dims_{p}": (
        lambda m, a, p=p: m.linalg.matrix_norm(a, p, dim=(2, 0), keepdim=True),
        [normal(3, 2, 4)]) for p in ("fro", "nuc", 2, 1, -INF)},
}
# PyTorch 2.13's gradient of det at an exactly singular matrix is 0 in a plain backward (the
# cofactors, ours, only under create_graph=True): compared with that below, not here
NOT_AS_TORCH_BACKWARD = {"det_rank_2"}
# A^0's grad_fn is PyTorch's 'torch::autograd::CopyBackwards', which no name of ours can be
OTHER_GRAD_FN = {"matrix_power_0": "WhereBackward0"}


def _inputs(name: str, dtype: Any = np.float64) -> list[np.ndarray]:
    rng = np.random.default_rng(sum(map(ord, name)))
    return [draw(rng).astype(dtype) for draw in CASES[name][1]]


def _leaves(m: Any, arrays: list) -> list:
    return [m.tensor(x.copy(), requires_grad=True) for x in arrays]


def _weights(shape: tuple) -> np.ndarray:
    return np.cos(np.arange(1.0, 1.0 + math.prod(shape))).reshape(shape)


@pytest.mark.parametrize("name", CASES)
def test_gradients_match_central_differences(name):
    fn = CASES[name][0]
    assert gradcheck(lambda *xs: fn(engine, *xs), _leaves(engine, _inputs(name)))


def _value_and_grads(m: Any, name: str, arrays: list) -> tuple:
    xs = _leaves(m, arrays)
    out = CASES[name][0](m, *xs)
    grad = engine.grad if m is engine else m.autograd.grad
    grads = grad((out * m.tensor(_weights(tuple(out.shape)))).sum(), xs, allow_unused=True)
    return (out.detach().numpy(), [np.zeros(x.shape) if g is None else g.numpy()
                                   for g, x in zip(grads, xs)], out.grad_fn.name())


@pytest.mark.parametrize("name", sorted(set(CASES) - NOT_AS_TORCH_BACKWARD))
def test_values_gradients_and_grad_fn_match_pytorch(torch, name):
    arrays = _inputs(name)
    ours, theirs = _value_and_grads(engine, name, arrays), _value_and_grads(torch, name, arrays)
    np.testing.assert_allclose(ours[0], theirs[0], rtol=1e-10, atol=1e-12)
    for got, want in zip(ours[1], theirs[1]):
        np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-11)
    assert ours[2] == theirs[2] or (ours[2], theirs[2]) == (
        OTHER_GRAD_FN.get(name), "torch::autograd::CopyBackwards")


@pytest.mark.parametrize("name", ["det", "inv", "qr_tall", "eigh", "svd_wide", "pinv_tall",
                                  "cholesky", "solve", "matrix_norm_2", "cross"])
def test_float32_stays_float32(name):
    arrays = _inputs(name, np.float32)
    value, grads, _ = _value_and_grads(engine, name, arrays)
    assert value.dtype == np.float32 and all(g.dtype == np.float32 for g in grads)
    want, want_grads, _ = _value_and_grads(engine, name, [x.astype(np.float64) for x in arrays])
    np.testing.assert_allclose(value, want, rtol=1e-3, atol=1e-4)
    for got, expected in zip(grads, want_grads):
        np.testing.assert_allclose(got, expected, rtol=1e-3, atol=1e-3)


# --- second derivatives: create_graph=True gives a graph of the gradient ---

SECOND = ["det", "det_rank_2", "slogdet", "inv", "solve", "cholesky", "qr_tall", "qr_wide",
          "eigh", "svd_tall", "svd_wide", "pinv_wide", "matrix_norm_nuc", "matrix_power_-2"]


def _hessian_times(m: Any, name: str, arrays: list, v: list) -> list:
    """H v for the loss sum(weights * fn(x)), through create_graph=True."""
    xs = _leaves(m, arrays)
    grad = engine.grad if m is engine else m.autograd.grad
    out = CASES[name][0](m, *xs)
    firsts = grad((out * m.tensor(_weights(tuple(out.shape)))).sum(), xs, create_graph=True)
    return [h.detach().numpy() for h in grad(sum((g * m.tensor(d)).sum()
                                                 for g, d in zip(firsts, v)), xs)]


def _first(arrays: list, name: str) -> list:
    return _value_and_grads(engine, name, arrays)[1]


@pytest.mark.parametrize("name", SECOND)
def test_second_derivatives_match_central_differences_of_the_first(name):
    arrays = _inputs(name)
    v = [np.sin(np.arange(x.size)).reshape(x.shape) for x in arrays]
    eps = 1e-6
    up = _first([x + eps * d for x, d in zip(arrays, v)], name)
    down = _first([x - eps * d for x, d in zip(arrays, v)], name)
    for got, hi, lo in zip(_hessian_times(engine, name, arrays, v), up, down):
        np.testing.assert_allclose(got, (hi - lo) / (2 * eps), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name", SECOND)
def test_second_derivatives_match_pytorch(torch, name):
    arrays = _inputs(name)
    v = [np.sin(np.arange(x.size)).reshape(x.shape) for x in arrays]
    for got, want in zip(_hessian_times(engine, name, arrays, v),
                         _hessian_times(torch, name, arrays, v)):
        np.testing.assert_allclose(got, want, rtol=1e-8, atol=1e-10)


# --- identities and values worked out by hand (no PyTorch needed) ---

def test_inv_and_solve_invert():
    a = _inputs("inv")[0]
    eye = np.broadcast_to(np.eye(3), a.shape)
    np.testing.assert_allclose((Tensor(a) @ LA.inv(Tensor(a))).numpy(), eye, atol=1e-12)
    b = np.random.default_rng(0).standard_normal((2, 3, 2))
    x = LA.solve(Tensor(a), Tensor(b)).numpy()
    np.testing.assert_allclose(a @ x, b, atol=1e-12)
    x = LA.solve(Tensor(a), Tensor(b[..., 0])).numpy()  # vectors: shape A.shape[:-1]
    np.testing.assert_allclose((a @ x[..., None])[..., 0], b[..., 0], atol=1e-12)
    c = b.swapaxes(-1, -2)
    np.testing.assert_allclose(LA.solve(Tensor(a), Tensor(c), left=False).numpy() @ a, c,
                               atol=1e-12)


def test_det_and_slogdet_by_hand():
    upper = np.triu(np.arange(1.0, 10.0).reshape(3, 3)) * [1, -1, 1]
    assert LA.det(Tensor(upper)).item() == pytest.approx(1 * -5 * 9)  # the diagonal's product
    sign, logabsdet = LA.slogdet(Tensor(upper))
    assert sign.item() == -1 and logabsdet.item() == pytest.approx(math.log(45))
    a, b = _inputs("det")[0], _inputs("inv")[0]
    np.testing.assert_allclose(LA.det(Tensor(a @ b)).numpy(),
                               LA.det(Tensor(a)).numpy() * LA.det(Tensor(b)).numpy())
    assert LA.det(engine.zeros(0, 0)).item() == 1  # the empty product
    sign, logabsdet = LA.slogdet(engine.zeros(2, 2))
    assert sign.item() == 0 and logabsdet.item() == -INF
    assert math.isnan(engine.logdet(engine.tensor([[-1.0, 0.0], [0.0, 1.0]])).item())


def test_det_gradient_is_the_cofactor_matrix_at_a_singular_matrix_too():
    """[[1, 2], [2, 4]] has rank 1 and cofactors [[4, -2], [-2, 1]] (PyTorch 2.13 gives 0 in
    a plain backward there and the cofactors under create_graph=True)."""
    a = Tensor(np.array([[1.0, 2.0], [2.0, 4.0]]), requires_grad=True)
    LA.det(a).backward()
    np.testing.assert_allclose(a.grad.numpy(), [[4, -2], [-2, 1]], atol=1e-12)
    batch = Tensor(np.array([[[1.0, 2.0], [2.0, 4.0]], [[2.0, 0.0], [0.0, 3.0]]]),
                   requires_grad=True)
    LA.det(batch).sum().backward()
    np.testing.assert_allclose(batch.grad.numpy(), [[[4, -2], [-2, 1]], [[3, 0], [0, 2]]],
                               atol=1e-12)


def test_det_gradient_at_a_singular_matrix_under_create_graph_matches_pytorch(torch):
    a = _inputs("det_rank_2")[0]
    x = engine.tensor(a, requires_grad=True)
    ours, = engine.grad(LA.det(x), x)
    y = torch.tensor(a, requires_grad=True)
    theirs, = torch.autograd.grad(torch.linalg.det(y), y, create_graph=True)
    np.testing.assert_allclose(ours.numpy(), theirs.detach().numpy(), atol=1e-12)


def test_cholesky_factors():
    a = _inputs("cholesky")[0]
    low = LA.cholesky(Tensor(a)).numpy()
    assert np.all(np.triu(low, 1) == 0) and np.all(np.diagonal(low, 0, -2, -1) > 0)
    np.testing.assert_allclose(low @ low.swapaxes(-1, -2), a, atol=1e-12)
    np.testing.assert_allclose(LA.cholesky(Tensor(a), upper=True).numpy(),
                               low.swapaxes(-1, -2))
    changed = a.copy()
    changed[..., 0, 2] = 100.0  # above the diagonal: not read
    np.testing.assert_array_equal(LA.cholesky(Tensor(changed)).numpy(), low)
    b = np.random.default_rng(1).standard_normal((2, 3, 2))
    np.testing.assert_allclose(a @ engine.cholesky_solve(Tensor(b), Tensor(low)).numpy(), b,
                               atol=1e-12)


@pytest.mark.parametrize("shape, mode", [((2, 4, 3), "reduced"), ((2, 3, 4), "reduced"),
                                         ((4, 3), "complete"), ((3, 3), "reduced")])
def test_qr_factors(shape, mode):
    a = np.random.default_rng(2).standard_normal(shape)
    q, r = (t.numpy() for t in LA.qr(Tensor(a), mode))
    m, n = shape[-2:]
    k = m if mode == "complete" else min(m, n)
    assert q.shape == shape[:-2] + (m, k) and r.shape == shape[:-2] + (k, n)
    np.testing.assert_allclose(q.swapaxes(-1, -2) @ q, np.eye(k) + 0 * q[..., :k, :], atol=1e-12)
    assert np.all(np.tril(r, -1) == 0)
    np.testing.assert_allclose(q @ r, a, atol=1e-12)
    q0, r0 = LA.qr(Tensor(a), "r")
    assert q0.shape == (0,) and np.allclose(np.abs(r0.numpy()), np.abs(LA.qr(Tensor(a))[1].numpy()))


def test_eigh_decomposes():
    a = _inputs("eigh")[0]
    w, v = (t.numpy() for t in LA.eigh(Tensor(a)))
    np.testing.assert_allclose(a @ v, v * w[..., None, :], atol=1e-12)
    np.testing.assert_allclose(v.swapaxes(-1, -2) @ v, np.broadcast_to(np.eye(3), a.shape),
                               atol=1e-12)
    assert np.all(np.diff(w) > 0)
    np.testing.assert_allclose(LA.eigvalsh(Tensor(a)).numpy(), w)
    lower_only = np.tril(a)  # UPLO='L' reads the lower triangle, 'U' the upper one
    np.testing.assert_allclose(LA.eigvalsh(Tensor(lower_only)).numpy(), w, atol=1e-12)
    np.testing.assert_allclose(LA.eigh(Tensor(np.triu(a)), UPLO="U").eigenvalues.numpy(), w,
                               atol=1e-12)
    assert LA.eigvalsh(Tensor(np.diag([3.0, -1.0, 2.0]))).tolist() == [-1.0, 2.0, 3.0]


@pytest.mark.parametrize("shape", [(2, 4, 3), (3, 5), (3, 3)])
@pytest.mark.parametrize("full", [True, False])
def test_svd_decomposes(shape, full):
    a = np.random.default_rng(3).standard_normal(shape)
    u, s, vh = (t.numpy() for t in LA.svd(Tensor(a), full_matrices=full))
    m, n = shape[-2:]
    k = min(m, n)
    assert u.shape[-1] == (m if full else k) and vh.shape[-2] == (n if full else k)
    np.testing.assert_allclose((u[..., :k] * s[..., None, :]) @ vh[..., :k, :], a, atol=1e-12)
    for q in (u, vh.swapaxes(-1, -2)):
        np.testing.assert_allclose(q.swapaxes(-1, -2) @ q, np.eye(q.shape[-1]) + 0 * q[..., :1, :1],
                                   atol=1e-12)
    assert np.all(np.diff(s) <= 0) and np.all(s >= 0)
    np.testing.assert_allclose(LA.svdvals(Tensor(a)).numpy(), s, atol=1e-12)


def test_pinv_and_matrix_rank():
    a = _inputs("pinv_tall")[0]
    p = LA.pinv(Tensor(a)).numpy()  # the Moore-Penrose conditions
    np.testing.assert_allclose(a @ p @ a, a, atol=1e-12)
    np.testing.assert_allclose(p @ a @ p, p, atol=1e-12)
    np.testing.assert_allclose(p @ a, (p @ a).swapaxes(-1, -2), atol=1e-12)
    square = _inputs("inv")[0]
    np.testing.assert_allclose(LA.pinv(Tensor(square)).numpy(), np.linalg.inv(square),
                               atol=1e-12)
    d = Tensor(np.diag([1.0, 1e-3, 1e-12]))
    assert np.allclose(LA.pinv(d, rtol=1e-2).numpy(), np.diag([1.0, 0.0, 0.0]))
    assert np.allclose(LA.pinv(d, atol=1e-6).numpy(), np.diag([1.0, 1e3, 0.0]))
    assert np.allclose(engine.pinverse(d, rcond=1e-6).numpy(), np.diag([1.0, 1e3, 0.0]))
    assert np.allclose(LA.pinv(-d, hermitian=True, atol=1e-6).numpy(), np.diag([-1.0, -1e3, 0]))
    assert LA.matrix_rank(d).item() == 3 and LA.matrix_rank(d, atol=1e-6).item() == 2
    assert LA.matrix_rank(d, tol=1e-2).item() == 1 and LA.matrix_rank(-d, hermitian=True,
                                                                       rtol=1e-2).item() == 1
    ranks = LA.matrix_rank(Tensor(np.stack([np.ones((3, 3)), np.eye(3), np.zeros((3, 3))])))
    assert ranks.tolist() == [1, 3, 0] and ranks.dtype == engine.int64
    assert not LA.matrix_rank(Tensor(np.eye(2), requires_grad=True)).requires_grad


def test_matrix_power_multi_dot_cross_vecdot_by_hand():
    a = _inputs("inv")[0]
    t = Tensor(a)
    np.testing.assert_allclose(LA.matrix_power(t, 5).numpy(), a @ a @ a @ a @ a, rtol=1e-12)
    np.testing.assert_allclose(LA.matrix_power(t, -2).numpy(),
                               np.linalg.inv(a) @ np.linalg.inv(a), rtol=1e-10)
    np.testing.assert_array_equal(LA.matrix_power(t, 0).numpy(), np.broadcast_to(np.eye(3),
                                                                                a.shape))
    ints = engine.tensor([[1, 1], [1, 0]])
    assert LA.matrix_power(ints, 10).tolist() == [[89, 55], [55, 34]]  # Fibonacci numbers
    xs = _inputs("multi_dot")
    want = xs[0] @ xs[1] @ xs[2] @ xs[3] @ xs[4]
    assert LA.multi_dot([Tensor(x) for x in xs]).item() == pytest.approx(want)
    xs = _inputs("multi_dot_matrices")
    np.testing.assert_allclose(LA.multi_dot([Tensor(x) for x in xs]).numpy(),
                               xs[0] @ xs[1] @ xs[2])
    e = np.eye(3)
    assert LA.cross(Tensor(e[0]), Tensor(e[1])).tolist() == [0, 0, 1]
    assert LA.cross(Tensor(e[1]), Tensor(e[0])).tolist() == [0, 0, -1]
    assert engine.cross(engine.tensor([1, 2, 3]), engine.tensor([4, 5, 6]), 0).tolist() == \
        [-3, 6, -3]
    with pytest.warns(UserWarning, match="without specifying the dim"):  # PyTorch's default
        along_0 = engine.cross(Tensor(np.eye(3)[:, :2]), Tensor(np.eye(3)[:, [1, 2]]))
    assert along_0.tolist() == [[0, 1], [0, 0], [1, 0]]  # e1 x e2 = e3, e2 x e3 = e1, down dim 0
    assert LA.vecdot(Tensor([[1.0, 2.0], [3.0, 4.0]]), Tensor([1.0, -1.0])).tolist() == [-1, -1]


def test_norms_by_hand():
    v = Tensor(np.array([3.0, -4.0, 0.0]))
    want = {2: 5, 1: 7, INF: 4, -INF: 0, 0: 2, 3: 91 ** (1 / 3)}
    for p, value in want.items():
        assert LA.vector_norm(v, p).item() == pytest.approx(value), p
    assert LA.norm(v).item() == 5 and LA.norm(v, 1).item() == 7
    m = Tensor(np.array([[1.0, -2.0], [3.0, 4.0]]))  # singular values sqrt(15 +- 5 sqrt(5))
    big, small = math.sqrt(15 + 5 * math.sqrt(5)), math.sqrt(15 - 5 * math.sqrt(5))
    want = {"fro": math.sqrt(30), "nuc": big + small, 2: big, -2: small, 1: 6, -1: 4,
            INF: 7, -INF: 3}
    for p, value in want.items():
        assert LA.matrix_norm(m, p).item() == pytest.approx(value), p
        assert LA.norm(m, p).item() == pytest.approx(value), p
    assert LA.norm(m).item() == pytest.approx(math.sqrt(30))  # all entries, as a vector
    assert LA.norm(m, dim=(0, 1)).item() == pytest.approx(math.sqrt(30))
    np.testing.assert_allclose(LA.norm(m, 1, dim=0).numpy(), [4, 6])
    batch = Tensor(np.stack([m.numpy(), 2 * m.numpy()]))
    np.testing.assert_allclose(LA.matrix_norm(batch, 1).numpy(), [6, 12])
    assert LA.matrix_norm(batch, "nuc", keepdim=True).shape == (2, 1, 1)
    assert LA.vector_norm(Tensor(np.ones((2, 2), np.float32)), dtype=np.float64).dtype == \
        engine.float64


# the gradients where they are a convention, recorded from PyTorch 2.13
CONVENTIONS = [
    (2, [0.0, 0.0, 0.0], [0.0, 0.0, 0.0]),  # the norm is 0: 0, not nan
    (3, [0.0, 0.0, 0.0], [0.0, 0.0, 0.0]),
    (1, [0.0, 2.0, -1.0], [0.0, 1.0, -1.0]),  # sign(0) = 0
    (INF, [3.0, -3.0, 1.0], [0.5, -0.5, 0.0]),  # a tie shares g
    (-INF, [3.0, -1.0, 1.0], [0.0, -0.5, 0.5]),
    (0.5, [0.0, 2.0, 0.0], [0.0, 1.0, 0.0]),  # 0 at the entries that are 0
    (-1, [0.0, 2.0, 1.0], [0.0, 0.0, 0.0]),  # the norm is 0
    (0, [0.0, 2.0, 1.0], [0.0, 0.0, 0.0]),
]


@pytest.mark.parametrize("p, x, want", CONVENTIONS)
def test_vector_norm_gradient_conventions_as_recorded_from_pytorch(p, x, want):
    t = Tensor(np.array(x), requires_grad=True)
    LA.vector_norm(t, p).backward()
    np.testing.assert_allclose(t.grad.numpy(), want, rtol=1e-15)


@pytest.mark.parametrize("p, x, want", CONVENTIONS)
def test_vector_norm_gradient_conventions_are_pytorchs(torch, p, x, want):
    t = torch.tensor(x, requires_grad=True)
    torch.linalg.vector_norm(t, p).backward()
    np.testing.assert_allclose(np.zeros(3) if t.grad is None else t.grad.numpy(), want,
                               rtol=1e-15)


# grad_fn names, recorded from PyTorch 2.13 (the cases above compare the rest with PyTorch)
GRAD_FNS = {"det": "LinalgDetBackward0", "slogdet": "LinalgSlogdetBackward0",
            "logdet": "WhereBackward0", "inv": "LinalgInvExBackward0",
            "solve": "LinalgSolveExBackward0", "solve_left_false": "LinalgSolveExBackward0",
            "cholesky": "LinalgCholeskyExBackward0", "cholesky_solve": "CholeskySolveBackward0",
            "eigvalsh": "LinalgEighBackward0", "svdvals": "LinalgSvdBackward0",
            "pinv_tall": "LinalgPinvBackward0", "cross": "LinalgCrossBackward0",
            "matrix_power_1": "CloneBackward0", "matrix_power_-2": "UnsafeViewBackward0",
            "multi_dot": "ViewBackward0", "norm": "LinalgVectorNormBackward0",
            "vector_norm_inf": "LinalgVectorNormBackward0", "matrix_norm_2": "AmaxBackward0",
            "matrix_norm_nuc": "SumBackward1", "matrix_norm_dims_nuc": "PermuteBackward0"}


@pytest.mark.parametrize("name", GRAD_FNS)
def test_grad_fn_names_as_recorded_from_pytorch(name):
    assert _value_and_grads(engine, name, _inputs(name))[2] == GRAD_FNS[name]


def test_decompositions_return_named_tuples_in_the_graph():
    a = Tensor(_inputs("svd_tall")[0][0], requires_grad=True)
    u, s, vh = LA.svd(a)
    assert LA.svd(a).Vh.shape == (3, 3) and LA.qr(a).R.shape == (3, 3)
    assert {t.grad_fn.name() for t in (u, s, vh)} == {"LinalgSvdBackward0"}
    w = LA.eigh(a.mT @ a).eigenvalues
    assert w.grad_fn.name() == "LinalgEighBackward0"
    sign, logabsdet = LA.slogdet(a[:3])
    assert sign.requires_grad and LA.slogdet(a[:3]).logabsdet.shape == ()
    with engine.no_grad():
        assert not LA.svdvals(a).requires_grad and not LA.eigh(a.mT @ a)[1].requires_grad


def test_the_names_pytorch_code_reaches_for():
    assert engine.linalg is LA
    a = Tensor(_inputs("inv")[0][0])
    for got, want in [(a.det(), LA.det(a)), (engine.det(a), LA.det(a)),
                      (a.inverse(), LA.inv(a)), (engine.inverse(a), LA.inv(a)),
                      (a.slogdet()[1], LA.slogdet(a)[1]), (a.matrix_power(2), a @ a),
                      (engine.matrix_power(a, -1), LA.inv(a)),
                      (engine.linalg.matmul(a, a), a @ a),
                      (LA.diagonal(a), engine.diagonal(a))]:
        np.testing.assert_array_equal(got.numpy(), want.numpy())


# --- errors ---

@pytest.mark.parametrize("call, error, match", [
    (lambda: LA.det(engine.randn(2, 3)), ValueError, "square.*2 by 3"),
    (lambda: LA.inv(engine.randn(3)), ValueError, "at least 2 dims.*\\(3,\\)"),
    (lambda: LA.eigh(engine.randn(2, 3)), ValueError, "square"),
    (lambda: LA.svd(engine.randn(3)), ValueError, "at least 2 dims"),
    (lambda: LA.det(engine.ones(2, 2, dtype=engine.int64)), TypeError, "floating.*int64"),
    (lambda: LA.inv(engine.ones(2, 2, dtype=engine.float16)), TypeError, "float16"),
    (lambda: LA.solve(engine.eye(3), engine.ones(4)), ValueError, "AX = B.*must be 3"),
    (lambda: LA.solve(engine.eye(3), engine.ones(3, 2), left=False), ValueError, "XA = B"),
    (lambda: LA.solve(engine.eye(3), engine.ones(3, dtype=engine.float64)), TypeError,
     "one dtype"),
    (lambda: LA.solve(engine.eye(3).expand(2, 3, 3), engine.ones(3, 3, 2)), ValueError,
     "batch dims.*broadcast"),
    (lambda: LA.eigh(engine.eye(2), UPLO="X"), ValueError, "UPLO"),
    (lambda: LA.qr(engine.eye(2), mode="full"), ValueError, "mode 'full'"),
    (lambda: LA.matrix_power(engine.eye(2), 2.0), TypeError, "int"),
    (lambda: LA.matrix_power(engine.ones(2, 2, dtype=engine.int64), -1), TypeError, "floating"),
    (lambda: LA.cross(engine.ones(4), engine.ones(4)), ValueError, "length 3"),
    (lambda: LA.cross(engine.ones(2, 3), engine.ones(3)), ValueError, "same number of dims"),
    (lambda: LA.multi_dot([engine.eye(2)]), ValueError, "at least 2"),
    (lambda: LA.multi_dot([engine.eye(2), engine.ones(2), engine.eye(2)]), ValueError, "2-D"),
    (lambda: LA.multi_dot([engine.ones(2, 3), engine.ones(2)]), ValueError, "cannot be mult"),
    (lambda: LA.matrix_norm(engine.ones(2)), ValueError, "at least 2 dims"),
    (lambda: LA.matrix_norm(engine.ones(2, 2), 3), ValueError, "ord=3"),
    (lambda: LA.matrix_norm(engine.ones(2, 2), dim=1), ValueError, "pair of dims"),
    (lambda: LA.vector_norm(engine.ones(2), "fro"), TypeError, "matrix_norm"),
    (lambda: LA.vector_norm(engine.ones(2, dtype=engine.int64)), TypeError, "floating"),
    (lambda: LA.vector_norm(engine.ones(0), INF), ValueError, "dim with no entries"),
    (lambda: LA.norm(engine.ones(2, 2, 2), 2), ValueError, "1-D or 2-D"),
    (lambda: engine.cross(engine.ones(2, 2), engine.ones(2, 2), 1), ValueError, "length 3"),
])
def test_bad_input_is_refused_with_what_to_change(call, error, match):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(error, match=match):
            call()


def test_singular_and_indefinite_matrices_raise_linalg_errors():
    singular_ = np.zeros((3, 3))
    singular_[0, 0] = 1
    batch = Tensor(np.stack([np.eye(3), singular_]))
    assert issubclass(LinAlgError, RuntimeError)
    with pytest.raises(LinAlgError, match=r"linalg.inv \(batch element 1\): .*singular"):
        LA.inv(batch)
    with pytest.raises(LinAlgError, match="singular.*no unique solution"):
        LA.solve(Tensor(singular_), engine.ones(3, dtype=engine.float64))
    with pytest.raises(LinAlgError, match="singular"):
        LA.matrix_power(Tensor(singular_), -1)
    indefinite = np.diag([1.0, 1.0, -1.0])
    with pytest.raises(LinAlgError, match=r"\(batch element 1\).*leading minor of order 3"):
        LA.cholesky(Tensor(np.stack([np.eye(3), indefinite])))
    with pytest.raises(LinAlgError, match="order 1"):
        LA.cholesky(-engine.eye(2))


def test_gradients_that_are_not_defined_say_so():
    with pytest.raises(RuntimeError, match="mode='r'"):
        LA.qr(engine.randn(4, 2, requires_grad=True), mode="r").R.sum().backward()
    with pytest.raises(RuntimeError, match="mode='complete'"):
        LA.qr(engine.randn(4, 2, requires_grad=True), mode="complete").Q.sum().backward()


def test_the_errors_match_pytorchs_kinds(torch):
    """PyTorch raises its LinAlgError (a RuntimeError) where ours does."""
    singular_ = torch.zeros(3, 3)
    with pytest.raises(torch.linalg.LinAlgError):
        torch.linalg.inv(singular_)
    with pytest.raises(torch.linalg.LinAlgError):
        torch.linalg.cholesky(-torch.eye(2))
    assert issubclass(torch.linalg.LinAlgError, RuntimeError)
