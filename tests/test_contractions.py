"""engine/contractions.py: tensordot, inner, chain_matmul, cdist. Gradients are rows of
tests/tensor_op_table.py and its KINKS (zero distances, ties for p = inf); here: values
against PyTorch and worked out by hand, the matrix-product form of cdist, warnings, grad_fn
names and errors."""
from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

import engine
from engine import Tensor

A = np.arange(24.0).reshape(2, 3, 4)
B = np.arange(12.0).reshape(3, 4)


def test_tensordot_and_inner_by_hand():
    a, b = engine.tensor([[1.0, 2.0], [3.0, 4.0]]), engine.tensor([[1.0, 0.0], [2.0, 1.0]])
    assert engine.tensordot(a, b).tolist() == 11.0  # the sum of the entrywise products
    assert engine.tensordot(a, b, 1).tolist() == (a @ b).tolist()
    assert engine.tensordot(a, b, ([0], [1])).tolist() == [[1.0, 5.0], [2.0, 8.0]]
    assert engine.tensordot(a, b, 0).shape == (2, 2, 2, 2)
    assert engine.inner(a, b).tolist() == [[1.0, 4.0], [3.0, 10.0]]
    assert a.inner(engine.tensor(2.0)).tolist() == [[2.0, 4.0], [6.0, 8.0]]


@pytest.mark.parametrize("dims", [2, 0, 1, ([1], [0]), ([2, 1], [1, 0]), ([-1], [-1]),
                                  "tensor"])
def test_tensordot_matches_pytorch(torch, dims):
    a, b = (A, B) if dims != ([-1], [-1]) else (A, B[:2])
    ours_dims, their_dims = ((Tensor([[1], [0]]), torch.tensor([[1], [0]])) if dims == "tensor"
                             else (dims, dims))
    ours = engine.tensordot(Tensor(a), Tensor(b) if dims != 1 else Tensor(b.T.copy()), ours_dims)
    theirs = torch.tensordot(torch.tensor(a), torch.tensor(b) if dims != 1 else
                             torch.tensor(b.T.copy()), their_dims)
    assert ours.shape == tuple(theirs.shape)
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


def test_inner_matches_pytorch(torch):
    for a, b in ((A, B), (B, B), (B[0], B[1]), (np.array(2.0), B)):
        np.testing.assert_array_equal(engine.inner(Tensor(a), Tensor(b)).numpy(),
                                      torch.inner(torch.tensor(a), torch.tensor(b)).numpy())


def test_chain_matmul_is_multi_dot_with_pytorchs_deprecation_warning():
    a, b, c = engine.ones(2, 3), engine.ones(3, 4) * 2, engine.ones(4, 1) * 3
    with pytest.warns(UserWarning, match="torch.chain_matmul is deprecated"):
        out = engine.chain_matmul(a, b, c)
    assert out.tolist() == [[72.0], [72.0]]
    with pytest.warns(UserWarning):
        single = engine.chain_matmul(a)
    assert single.tolist() == a.tolist() and single is not a


def test_chain_matmul_matches_pytorch_and_sends_gradients(torch):
    rng = np.random.default_rng(0)
    arrays = [rng.standard_normal(s) for s in ((2, 3), (3, 5), (5, 2), (2, 4))]
    ours = [Tensor(x, requires_grad=True) for x in arrays]
    theirs = [torch.tensor(x, requires_grad=True) for x in arrays]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        out, want = engine.chain_matmul(*ours), torch.chain_matmul(*theirs)
    np.testing.assert_allclose(out.numpy(), want.detach().numpy(), rtol=1e-12)
    out.sum().backward()
    want.sum().backward()
    for x, t in zip(ours, theirs):
        np.testing.assert_allclose(x.grad.numpy(), t.grad.numpy(), rtol=1e-12)


def test_cdist_by_hand():
    x1 = engine.tensor([[0.0, 0.0], [3.0, 4.0]])
    x2 = engine.tensor([[0.0, 0.0], [3.0, 0.0]])
    assert engine.cdist(x1, x2).tolist() == [[0.0, 3.0], [5.0, 4.0]]
    assert engine.cdist(x1, x2, 1).tolist() == [[0.0, 3.0], [7.0, 4.0]]
    assert engine.cdist(x1, x2, 0).tolist() == [[0.0, 1.0], [2.0, 1.0]]
    assert engine.cdist(x1, x2, math.inf).tolist() == [[0.0, 3.0], [4.0, 4.0]]
    mm = engine.cdist(x1, x2, compute_mode="use_mm_for_euclid_dist")
    assert mm.tolist() == [[0.0, 3.0], [5.0, 4.0]]


@pytest.mark.parametrize("p", [2.0, 1.0, 0.5, 3.0, 0.0, math.inf])
@pytest.mark.parametrize("shapes", [((3, 2), (4, 2)), ((2, 1, 4, 3), (3, 5, 3)),
                                    ((30, 3), (4, 3)), ((2, 0), (3, 0))])
def test_cdist_matches_pytorch(torch, p, shapes):
    rng = np.random.default_rng(1)
    a, b = (rng.standard_normal(s) for s in shapes)
    a[0, ..., :1] = b[..., 0, :1] if a.ndim == b.ndim else a[0, ..., :1]  # an equal coordinate
    ours = [Tensor(x, requires_grad=True) for x in (a, b)]
    theirs = [torch.tensor(x, requires_grad=True) for x in (a, b)]
    out, want = engine.cdist(*ours, p), torch.cdist(*theirs, p)
    assert out.shape == tuple(want.shape)
    np.testing.assert_allclose(out.numpy(), want.detach().numpy(), rtol=1e-12, atol=1e-14)
    if out.numel():
        weights = rng.standard_normal(out.shape)
        (out * Tensor(weights)).sum().backward()
        (want * torch.tensor(weights)).sum().backward()
        for x, t in zip(ours, theirs):
            np.testing.assert_allclose(x.grad.numpy(), t.grad.numpy(), rtol=1e-10, atol=1e-12)


def test_cdist_takes_the_matrix_product_form_when_pytorch_does():
    """Between more than 25 points with p = 2 PyTorch computes sqrt(|a|**2 + |b|**2 - 2 a.b)
    (grad_fn ViewBackward0), which rounds differently from the differences' norm."""
    rng = np.random.default_rng(2)
    a = engine.tensor(rng.standard_normal((26, 3)) * 1e3, requires_grad=True)
    b = engine.tensor(rng.standard_normal((2, 3)) * 1e3)
    assert engine.cdist(a, b).grad_fn.name() == "ViewBackward0"
    assert engine.cdist(a[:25], b).grad_fn.name() == "CdistBackward0"
    direct = engine.cdist(a, b, compute_mode="donot_use_mm_for_euclid_dist")
    assert direct.grad_fn.name() == "CdistBackward0"
    np.testing.assert_allclose(engine.cdist(a, b).numpy(), direct.numpy(), rtol=1e-5)


def test_grad_fn_names_are_pytorchs():
    a, b = engine.ones(2, 3, requires_grad=True), engine.ones(3, 3)
    assert engine.tensordot(a, b, 1).grad_fn.name() == "ViewBackward0"
    assert engine.inner(a, b).grad_fn.name() == "ViewBackward0"
    assert engine.cdist(a, b, 3.0).grad_fn.name() == "CdistBackward0"
    assert engine.cdist(a, b, math.inf).grad_fn.name() == "CdistBackward0"


@pytest.mark.parametrize("make, error, message", [
    (lambda: engine.tensordot(engine.ones(2, 3), engine.ones(2, 3), ([0], [1])), ValueError,
     "contracted dims must match, but a has size 2 in dim 0 and b has size 3 in dim 1"),
    (lambda: engine.tensordot(engine.ones(2, 3), engine.ones(2, 3), -1), ValueError,
     "dims >= 0"),
    (lambda: engine.tensordot(engine.ones(2, 3), engine.ones(2, 3), 3), ValueError,
     "more than the dims"),
    (lambda: engine.tensordot(engine.ones(2), engine.ones(2), "all"), TypeError,
     "an int or a pair of lists"),
    (lambda: engine.tensordot(engine.ones(2), engine.ones(2), ([0], [0, 0])), ValueError,
     "of one length"),
    (lambda: engine.inner(engine.ones(2, 3), engine.ones(2)), ValueError,
     "the last dims must match"),
    (lambda: engine.chain_matmul(engine.ones(2), engine.ones(2)), ValueError, "2-D matrices"),
    (lambda: engine.chain_matmul(), ValueError, "one or more matrices"),
    (lambda: engine.cdist(engine.ones(2, 3), engine.ones(2, 2)), ValueError,
     "the same number of columns"),
    (lambda: engine.cdist(engine.ones(3), engine.ones(3)), ValueError, "at least 2 dims"),
    (lambda: engine.cdist(engine.ones(2, 3), engine.ones(2, 3), -1.0), ValueError, "p >= 0"),
    (lambda: engine.cdist(engine.ones(2, 3, dtype=engine.int64),
                          engine.ones(2, 3, dtype=engine.int64)), TypeError, "float tensors"),
    (lambda: engine.cdist(engine.ones(2, 3), engine.ones(2, 3), compute_mode="fast"),
     ValueError, "compute_mode must be one of"),
])
def test_errors_name_what_was_wrong(make, error, message):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        with pytest.raises(error, match=message):
            make()


@pytest.mark.parametrize("equation, shapes", [
    ("ij,ij->i", [(3, 1), (3, 3)]), ("ij,ij->i", [(3, 3), (1, 3)]),  # size 1 against n
    ("...j,...j->...", [(2, 1, 3), (4, 3)]), ("i,->i", [(3,), ()]), ("ij,ij->", [(2, 3), (2, 3)]),
    ("i,i->", [(1,), (4,)])])
def test_einsum_gradients_with_broadcast_letters_and_0d_operands(library, equation, shapes):
    """A letter one operand holds at size 1 broadcasts, as PyTorch's (its backward crashed),
    and an operand or output of no letters ('') is taken (refused, which also broke every
    scalar einsum under create_graph)."""
    rng = np.random.default_rng(0)
    data = [rng.normal(size=s) for s in shapes]
    xs = [library.tensor(d, dtype=library.float64, requires_grad=True) for d in data]
    out = library.einsum(equation, *xs)
    (out * out).sum().backward()
    expected = np.einsum(equation, *data)
    np.testing.assert_allclose(out.detach().numpy(), expected, rtol=1e-12)
    for k, x in enumerate(xs):  # against central differences
        def f(v, k=k):
            args = [v if j == k else d for j, d in enumerate(data)]
            return float((np.einsum(equation, *args) ** 2).sum())
        numeric = np.zeros_like(data[k])
        for i in np.ndindex(data[k].shape):
            step = np.zeros_like(data[k])
            step[i] = 1e-6
            numeric[i] = (f(data[k] + step) - f(data[k] - step)) / 2e-6
        np.testing.assert_allclose(x.grad.numpy(), numeric, rtol=1e-6, atol=1e-8)


def test_a_scalar_einsums_gradient_can_be_differentiated_again(library):
    A = library.tensor([[1.0, 2.0], [3.0, 4.0]], dtype=library.float64, requires_grad=True)
    (g,) = library.autograd.grad(library.einsum("ij,ij->", A, A), A, create_graph=True)
    g.sum().backward()
    assert A.grad.tolist() == [[2.0, 2.0], [2.0, 2.0]]
