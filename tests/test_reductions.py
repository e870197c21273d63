"""engine/reductions.py's prod, norm, dist, var_mean, std_mean and diff where the op table's
random draws never go: zeros in a product (first and second derivatives), norms of zero
vectors, int inputs, bad arguments; against PyTorch and against values worked out by hand.
(Their gradients at ordinary points: tests/test_tensor.py's op table; the zero cases are
also its KINKS.)"""
from __future__ import annotations

import math

import numpy as np
import pytest

import engine
from engine import Tensor

ZEROS = [[2.0, 0.0, 3.0, 0.5], [0.0, 0.0, 5.0, 1.0], [2.0, 3.0, 4.0, 0.5], [-0.0, 1.0, 2.0, 3.0]]


def _hessian_diagonal_and_grad(module, f, data):
    """f's gradient and the gradient of (gradient * weights).sum(), for a module (engine or
    torch) whose grad takes create_graph."""
    x = module.tensor(data, dtype=module.float64, requires_grad=True)
    grad_fn = engine.grad if module is engine else module.autograd.grad
    (g,) = grad_fn(f(x).sum(), x, create_graph=True)
    weights = module.tensor(np.arange(1.0, 1.0 + np.size(data)).reshape(np.shape(data)))
    (h,) = grad_fn((g * weights).sum(), x)
    return np.asarray(g.detach().numpy()), np.asarray(h.numpy())


@pytest.mark.parametrize("dim", [None, 0, 1])
def test_prod_with_zeros_first_and_second_derivatives_match_pytorch(torch, dim):
    f = (lambda x: x.prod()) if dim is None else (lambda x: x.prod(dim))
    ours = _hessian_diagonal_and_grad(engine, f, ZEROS)
    theirs = _hessian_diagonal_and_grad(torch, f, ZEROS)
    for got, want in zip(ours, theirs):
        np.testing.assert_allclose(got, want, rtol=1e-14)


@pytest.mark.parametrize("dim", [0, 1])
def test_cumprod_with_zeros_first_and_second_derivatives_match_pytorch(torch, dim):
    weights = np.arange(1.0, 17.0).reshape(4, 4)  # so that each output counts differently

    def f(x):
        return x.cumprod(dim) * (Tensor(weights) if isinstance(x, Tensor) else
                                 torch.tensor(weights))
    ours = _hessian_diagonal_and_grad(engine, f, ZEROS)
    theirs = _hessian_diagonal_and_grad(torch, f, ZEROS)
    for got, want in zip(ours, theirs):
        np.testing.assert_allclose(got, want, rtol=1e-14)
    x, t = Tensor(ZEROS, requires_grad=True), torch.tensor(ZEROS, requires_grad=True)
    f(x).sum().backward()  # the first derivative without a graph: its own code
    f(t).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), t.grad.numpy(), rtol=1e-14)


def test_cumprod_by_hand():
    x = Tensor([2.0, 0.0, 3.0, 0.5], requires_grad=True)
    y = x.cumprod(0)
    assert y.tolist() == [2.0, 0.0, 0.0, 0.0]
    y.sum().backward()
    # d/dx0 = 1 + x1 + x1 x2 + ... = 1; at the zero: x0 (1 + x2 + x2 x3) = 2 * 5.5;
    # past it: 0 (x1's 0 is a factor of every product they are in)
    assert x.grad.tolist() == [1.0, 11.0, 0.0, 0.0]
    assert engine.cumprod(Tensor([1, 2, 3]), 0).tolist() == [1, 2, 6]
    assert engine.cumprod(Tensor([1, 2, 3]), 0).dtype == np.int64
    assert engine.cumprod(Tensor(3.0), 0).item() == 3.0


def test_prod_with_zeros_by_hand():
    x = Tensor([[2.0, 0.0, 3.0], [0.0, 0.0, 5.0], [2.0, 3.0, 4.0]], requires_grad=True)
    y = x.prod(1)
    assert y.tolist() == [0.0, 0.0, 24.0]
    y.sum().backward()
    # a lone 0 gets the others' product, its neighbours 0; two zeros: all 0
    assert x.grad.tolist() == [[0.0, 6.0, 0.0], [0.0, 0.0, 0.0], [12.0, 8.0, 6.0]]


def test_prod_of_ints_is_int64_and_keeps_its_dtype_argument():
    assert engine.prod(Tensor([1, 2, 3])).dtype == np.int64
    assert engine.prod(Tensor([True, True])).item() == 1
    assert engine.prod(Tensor([1.5, 2.0], dtype=engine.float32)).dtype == np.float32
    assert Tensor([[1, 2], [3, 4]]).prod(0, dtype=engine.float64).tolist() == [3.0, 8.0]
    with pytest.raises(TypeError, match="one dim"):
        engine.prod(Tensor([[1.0]]), (0, 1))


@pytest.mark.parametrize("p", ["fro", 2, 1, 3, 0.5, math.inf, -math.inf, 0])
def test_norm_values_and_gradients_match_pytorch_including_zero_rows(torch, p):
    data = [[0.0, 0.0, 0.0], [3.0, -4.0, 0.0], [1.0, -1.0, 1.0]]
    ours = Tensor(data, requires_grad=True, dtype=engine.float64)
    theirs = torch.tensor(data, requires_grad=True)
    got, want = ours.norm(p, 1), theirs.norm(p, 1)
    np.testing.assert_allclose(got.detach().numpy(), want.detach().numpy(), rtol=1e-14)
    got.sum().backward()
    want.sum().backward()
    if theirs.grad is not None:  # (PyTorch's p=0 norm passes none; ours passes 0)
        np.testing.assert_allclose(ours.grad.numpy(), theirs.grad.numpy(), rtol=1e-14)
    else:
        assert ours.grad.tolist() == [[0.0] * 3] * 3


def test_norm_by_hand():
    x = Tensor([[3.0, 4.0], [0.0, 0.0]], requires_grad=True, dtype=engine.float64)
    assert x.norm().item() == 5.0 and engine.norm(x, 1).item() == 7.0
    assert x.norm(math.inf).item() == 4.0 and x.norm(0).item() == 2.0
    n = x.norm(dim=1)
    assert n.tolist() == [5.0, 0.0]
    n.sum().backward()
    assert x.grad.tolist() == [[0.6, 0.8], [0.0, 0.0]]  # 0, not 0/0, at the zero row
    assert engine.dist(Tensor([1.0, 2.0]), Tensor([4.0, 6.0])).item() == 5.0
    assert engine.dist(Tensor([1.0, 2.0]), Tensor([4.0, 6.0]), 1).item() == 7.0
    assert engine.norm(Tensor([1, 2, 2])).dtype == np.float32  # ints give floats
    with pytest.raises(ValueError, match="'nuc' is not supported"):
        x.norm("nuc")


def test_var_mean_and_std_mean_by_hand_and_against_pytorch(torch):
    data = [[1.0, 2.0, 6.0], [3.0, 3.0, 3.0]]
    data = np.array(data)  # (float64)
    var, mean = engine.var_mean(Tensor(data), 1)
    assert var.tolist() == [7.0, 0.0] and mean.tolist() == [3.0, 3.0]
    std, mean = engine.std_mean(Tensor(data), correction=0)
    assert mean.item() == 3.0 and std.item() == pytest.approx(math.sqrt(14 / 6), rel=1e-15)
    for kwargs in ({}, {"dim": 0, "keepdim": True}, {"dim": 1, "unbiased": False},
                   {"dim": (0, 1), "correction": 2}):
        for name in ("var_mean", "std_mean"):
            got = getattr(engine, name)(Tensor(data, dtype=engine.float64), **kwargs)
            want = getattr(torch, name)(torch.tensor(data), **kwargs)
            for g, w in zip(got, want):
                np.testing.assert_allclose(g.numpy(), w.numpy(), rtol=1e-14)


def test_norm_p_below_2_passes_0_at_zero_entries_of_a_nonzero_vector():
    x = Tensor([0.0, 4.0], requires_grad=True, dtype=engine.float64)
    x.norm(1.5).backward()
    assert x.grad[0].item() == 0.0  # not 0 * |0|**(-0.5) = nan
    assert x.grad[1].item() == pytest.approx(1.0, rel=1e-15)


def test_diff_by_hand_and_against_pytorch(torch):
    x = [[1.0, 4.0, 9.0, 16.0], [0.0, 1.0, 0.0, 1.0]]
    assert engine.diff(Tensor(x)).tolist() == [[3.0, 5.0, 7.0], [1.0, -1.0, 1.0]]
    assert Tensor(x).diff(n=2).tolist() == [[2.0, 2.0], [-2.0, 2.0]]
    assert Tensor(x).diff(dim=0).tolist() == [[-1.0, -3.0, -9.0, -15.0]]
    assert Tensor([1, 3, 6]).diff().tolist() == [2, 3]  # ints stay ints
    flags = Tensor(np.array([[True, False, True, True], [False, False, True, False]]))
    assert flags.diff().tolist() == [[True, True, False], [False, True, True]]  # they differ
    assert flags.diff(n=2).tolist() == [[False, True], [True, False]]
    np.testing.assert_array_equal(flags.diff(dim=0).numpy(),
                                  torch.from_numpy(flags.numpy()).diff(dim=0).numpy())
    for kwargs in ({"n": 3}, {"dim": 0, "prepend": [[0.0] * 4]},
                   {"append": [[1.0], [2.0]], "n": 2}, {"n": 5}, {"n": 0}):
        ours = {k: Tensor(v, dtype=engine.float64) if isinstance(v, list) else v for k, v in kwargs.items()}
        theirs = {k: torch.tensor(v) if isinstance(v, list) else v for k, v in kwargs.items()}
        np.testing.assert_array_equal(engine.diff(Tensor(x, dtype=engine.float64), **ours).numpy(),
                                      torch.diff(torch.tensor(x), **theirs).numpy())


EDGES = [  # what PyTorch 2.13 gives, and its dtype
    # PyTorch's "no dims named" (dim=() or []) is every dim; numpy's axis=() is none
    ("sum_no_dims", lambda m: m.ones(2, 3).sum(()), 6.0, "float64"),
    ("amax_no_dims_keepdim", lambda m: m.ones(2, 3).amax([], keepdim=True), [[1.0]], "float64"),
    ("var_no_dims", lambda m: m.tensor([[1.0, 3.0], [5.0, 7.0]]).var(()), 6.666666666666667,
     "float64"),
    # a max or norm along dims that have entries, of a tensor that has none: empty, not an error
    ("amax_of_empty_rows", lambda m: m.zeros(0, 3).amax(1), [], "float64"),
    ("norm_-inf_of_empty_rows", lambda m: m.linalg.vector_norm(m.zeros(0, 3), -math.inf, 1), [],
     "float64"),
    # nan is not 0: the 0-norm counts it
    ("vector_norm_0_counts_nan",
     lambda m: m.linalg.vector_norm(m.tensor([math.nan, 0.0, 2.0]), 0), 2.0, "float64"),
    ("norm_0_counts_nan", lambda m: m.tensor([[math.nan, 0.0], [1.0, -2.0]]).norm(0, 1),
     [1.0, 2.0], "float64"),
    # all and any of uint8 give uint8, as PyTorch's (a convention from before it had bools)
    ("all_uint8", lambda m: m.tensor([[0, 3], [1, 2]], dtype=m.uint8).all(1), [0, 1], "uint8"),
    ("any_uint8", lambda m: m.tensor([0, 3], dtype=m.uint8).any(), 1, "uint8"),
]


@pytest.mark.parametrize("make, want, dtype", [pytest.param(*row[1:], id=row[0])
                                               for row in EDGES])
def test_edges_the_random_programs_found_as_recorded_from_pytorch(float64_default, make, want,
                                                                  dtype):
    got = make(engine)
    np.testing.assert_array_equal(got.numpy(), want)
    assert str(got.dtype) == f"torch.{dtype}"


@pytest.mark.parametrize("make", [pytest.param(row[1], id=row[0]) for row in EDGES])
def test_the_recorded_edges_are_pytorchs(torch, float64_default, make):
    ours, theirs = make(engine), make(torch)
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
    assert str(ours.dtype) == str(theirs.dtype)


def test_std_and_std_mean_of_a_constant_slice_pass_0_not_nan(library):
    """The root's slope is infinite at 0; PyTorch's std gives 0 there (and std_mean's mean
    its own gradient), where sqrt(var) gave nan for the whole slice."""
    y = library.tensor([[2.0, 2.0], [1.0, 3.0]], dtype=library.float64, requires_grad=True)
    s, m = library.std_mean(y, dim=1)
    (s.sum() + m.sum()).backward()
    np.testing.assert_allclose(y.grad.numpy(), [[0.5, 0.5], [-0.20710678118654752,
                                                             1.2071067811865475]])


def test_the_2_norms_second_derivative_at_a_zero_coordinate_is_1_over_the_norm(library):
    """d2|x|/dx0^2 = 1/|x| at x0 = 0 (its first derivative x0/|x| is 0 there, but not flat):
    the rule used to cut the graph at zero entries."""
    x = library.tensor([0.0, 3.0, 4.0], dtype=library.float64, requires_grad=True)
    (g,) = library.autograd.grad(library.linalg.vector_norm(x), x, create_graph=True)
    g[0].backward()
    assert x.grad.tolist() == pytest.approx([0.2, 0.0, 0.0])
