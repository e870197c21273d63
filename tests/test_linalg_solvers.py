"""engine/linalg_solvers.py's inv_ex and cholesky_ex (the other ops of that file are tested
in tests/test_linalg.py): info as LAPACK reports it (recorded from PyTorch 2.13, labelled),
values, gradients by central differences, and (when installed) PyTorch itself."""
from __future__ import annotations

import numpy as np
import pytest

import engine
import engine.linalg as LA
from engine.linalg import LinAlgError

NAN = float("nan")
# (matrices, info as torch.linalg.inv_ex 2.13 reports it: getrf's first zero pivot)
SINGULAR = [
    ([[[1.0, 2], [2, 4]], [[2.0, 1], [1, 3]], [[0.0, 1], [1, 0]], [[0.0, 0], [0, 1]]],
     [2, 0, 0, 1]),
    ([[1.0, 2, 3], [2, 4, 6], [1, 1, 1]], 3),
    ([[1.0, 0, 0], [0, 1, 0], [0, 0, 0]], 3),
    ([[0.0, 0, 0], [0, 0, 0], [0, 0, 0]], 1),
]
# (matrices, info as torch.linalg.cholesky_ex 2.13 reports it: the order of the first
# leading minor that is not positive-definite)
INDEFINITE = [
    ([[[4.0, 2], [2, 3]], [[1.0, 2], [2, 1]], [[-1.0, 0], [0, 1]], [[1.0, 0], [0, -1]]],
     [0, 2, 1, 2]),
    ([[1.0, 2, 3], [2, 1, 5], [3, 5, 20]], 2),
    ([[4.0, 2, 3, 1], [2, 5, 5, 2], [3, 5, 2, 3], [1, 2, 3, 30]], 3),
    ([[NAN, 0], [0, 1]], 1),
]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("matrices, info", SINGULAR)
def test_inv_ex_info_is_getrfs_zero_pivot(matrices, info, dtype):
    result = LA.inv_ex(engine.tensor(np.array(matrices, dtype)))
    assert result.info.dtype == engine.int32 and result.info.tolist() == info
    assert result.inverse.dtype == engine.tensor(np.ones(1, dtype)).dtype
    a = np.array(matrices, dtype).reshape(-1, *np.shape(matrices)[-2:])
    for k, m in enumerate(a):  # the invertible ones are inverted
        if np.ravel(info)[k] == 0:
            np.testing.assert_allclose(result.inverse.numpy().reshape(a.shape)[k] @ m,
                                       np.eye(len(m)), atol=1e-5)


@pytest.mark.parametrize("upper", [False, True])
@pytest.mark.parametrize("matrices, info", INDEFINITE)
def test_cholesky_ex_info_is_the_order_of_the_failing_minor(matrices, info, upper):
    result = LA.cholesky_ex(engine.tensor(matrices), upper=upper)
    assert result.info.dtype == engine.int32 and result.info.tolist() == info
    low = result.L.numpy()
    low = low.swapaxes(-1, -2) if upper else low
    for k, (m, factor) in enumerate(zip(np.reshape(matrices, (-1,) + low.shape[-2:]),
                                        low.reshape((-1,) + low.shape[-2:]))):
        order = np.ravel(info)[k] or len(m)  # the factor is right as far as it went
        done = order - 1 if np.ravel(info)[k] else order
        np.testing.assert_allclose((factor[:done] @ factor[:done].T), m[:done, :done],
                                   atol=1e-12)
        assert not np.triu(factor, 1).any()


def test_check_errors_raises_pytorchs_linalg_error():
    with pytest.raises(LinAlgError, match=r"linalg.inv_ex: \(Batch element 0\): The diagonal "
                                          "element 2 is zero"):
        LA.inv_ex(engine.tensor(SINGULAR[0][0]), check_errors=True)
    with pytest.raises(LinAlgError, match=r"linalg.cholesky_ex: \(Batch element 1\): .*the "
                                          "leading minor of order 2 is not positive-definite"):
        LA.cholesky_ex(engine.tensor(INDEFINITE[0][0]), check_errors=True)
    assert LA.inv_ex(engine.eye(2), check_errors=True).info.tolist() == 0


def _spd(rng: np.random.Generator) -> np.ndarray:
    x = rng.standard_normal((2, 3, 3))
    return x @ x.swapaxes(-1, -2) + 3 * np.eye(3)


# name -> (fn of a module and a tensor, the input, with a failing matrix in the batch too)
EX = {
    "inv_ex": (lambda m, a: m.linalg.inv_ex(a).inverse,
               lambda rng: rng.standard_normal((2, 3, 3)) + 2 * np.eye(3)),
    # (symmetrised: the factor reads one triangle, its gradient is symmetric, as PyTorch's)
    "cholesky_ex": (lambda m, a: m.linalg.cholesky_ex((a + a.mT) / 2).L, _spd),
    "cholesky_ex_upper": (lambda m, a: m.linalg.cholesky_ex((a + a.mT) / 2, upper=True).L,
                          _spd),
}


def _with_failure(a: np.ndarray) -> np.ndarray:
    bad = a.copy()
    bad[1] = 0
    return bad


@pytest.mark.parametrize("name", EX)
def test_gradients_are_the_ops_and_match_central_differences(name):
    fn, draw = EX[name]
    a = draw(np.random.default_rng(0))
    assert engine.gradcheck(lambda t: fn(engine, t), [engine.tensor(a, requires_grad=True)])
    op = LA.inv if name == "inv_ex" else LA.cholesky
    x = engine.tensor(_with_failure(a), requires_grad=True)  # the failed one gets no share
    out = fn(engine, x)
    (out[0] * engine.tensor(np.cos(np.arange(9.0)).reshape(3, 3))).sum().backward()
    y = engine.tensor(a[0], requires_grad=True)
    kwargs = {"upper": True} if name.endswith("upper") else {}
    (op(y, **kwargs) * engine.tensor(np.cos(np.arange(9.0)).reshape(3, 3))).sum().backward()
    np.testing.assert_allclose(x.grad.numpy()[0], y.grad.numpy(), rtol=1e-12)
    assert not x.grad.numpy()[1].any()


@pytest.mark.parametrize("name", EX)
@pytest.mark.parametrize("fail", [False, True])
def test_values_and_gradients_match_pytorch(torch, name, fail):
    fn, draw = EX[name]
    a = draw(np.random.default_rng(1))
    a = _with_failure(a) if fail else a
    results = []
    for m in (engine, torch):
        x = m.tensor(a, requires_grad=True)
        out = fn(m, x)
        (out[0] * m.tensor(np.cos(np.arange(9.0)).reshape(3, 3))).sum().backward()
        results.append((out.detach().numpy(), x.grad.numpy()[0], out.grad_fn.name()))
    assert results[0][2] == results[1][2]
    np.testing.assert_allclose(results[0][0], results[1][0], rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(results[0][1], results[1][1], rtol=1e-9, atol=1e-11)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("matrices, info", SINGULAR)
def test_inv_ex_matches_pytorch_on_singular_matrices(torch, matrices, info, dtype):
    ours = LA.inv_ex(engine.tensor(np.array(matrices, dtype)))
    theirs = torch.linalg.inv_ex(torch.tensor(np.array(matrices, dtype)))
    assert ours.info.tolist() == theirs.info.tolist() == info
    np.testing.assert_allclose(ours.inverse.numpy(), theirs.inverse.numpy(), rtol=1e-5,
                               equal_nan=True)


@pytest.mark.parametrize("upper", [False, True])
@pytest.mark.parametrize("matrices, info", INDEFINITE)
def test_cholesky_ex_matches_pytorch_on_indefinite_matrices(torch, matrices, info, upper):
    ours = LA.cholesky_ex(engine.tensor(np.array(matrices)), upper=upper)
    theirs = torch.linalg.cholesky_ex(torch.tensor(np.array(matrices)), upper=upper)
    assert ours.info.tolist() == theirs.info.tolist() == info
    assert type(ours).__name__ == type(theirs).__name__ and ours._fields == ("L", "info")
    np.testing.assert_allclose(ours.L.numpy(), theirs.L.numpy(), rtol=1e-12, equal_nan=True)
    with pytest.raises(torch.linalg.LinAlgError) as error:
        torch.linalg.cholesky_ex(torch.tensor(matrices), check_errors=True)
    with pytest.raises(LinAlgError, match=str(error.value).split(":")[0]):
        LA.cholesky_ex(engine.tensor(matrices), check_errors=True)


def test_slogdets_gradient_is_nan_for_a_singular_matrix_and_right_for_the_rest(library):
    """(One singular matrix in the batch made the backward pass raise LinAlgError.)"""
    A = library.tensor([[[1.0, 2.0], [2.0, 4.0]], [[2.0, 1.0], [0.0, 3.0]]],
                       dtype=library.float64, requires_grad=True)
    _, logabsdet = library.linalg.slogdet(A)
    logabsdet[1].backward()
    grad = A.grad.numpy()
    assert np.isnan(grad[0]).all()
    np.testing.assert_allclose(grad[1], [[0.5, 0.0], [-1 / 6, 1 / 3]], rtol=1e-15)
