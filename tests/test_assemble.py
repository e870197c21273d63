"""engine/assemble.py: diag_embed, diagflat, block_diag, cartesian_prod, combinations,
vander. Gradients are rows of tests/tensor_op_table.py; here: values, shapes and dtypes
against PyTorch and as recorded from torch 2.13, grad_fn names, and errors."""
from __future__ import annotations

import pytest

import engine

V = [1.0, 2.0, 3.0]
M = [[1.0, 2.0], [3.0, 4.0]]

# (name, call on a library m (engine or torch), the value torch 2.13 gives, its shape)
CASES = [
    ("diag_embed", lambda m: m.diag_embed(m.tensor(M), 1),
     [[[0.0, 1.0, 0.0], [0.0, 0.0, 2.0], [0.0, 0.0, 0.0]],
      [[0.0, 3.0, 0.0], [0.0, 0.0, 4.0], [0.0, 0.0, 0.0]]], (2, 3, 3)),
    ("diag_embed_dims", lambda m: m.tensor(M).diag_embed(-1, 0, 2),
     [[[0.0, 0.0, 0.0], [0.0, 0.0, 0.0]], [[1.0, 0.0, 0.0], [3.0, 0.0, 0.0]],
      [[0.0, 2.0, 0.0], [0.0, 4.0, 0.0]]], (3, 2, 3)),
    ("diagflat", lambda m: m.diagflat(m.tensor(M), -1),
     [[0.0, 0.0, 0.0, 0.0, 0.0], [1.0, 0.0, 0.0, 0.0, 0.0], [0.0, 2.0, 0.0, 0.0, 0.0],
      [0.0, 0.0, 3.0, 0.0, 0.0], [0.0, 0.0, 0.0, 4.0, 0.0]], (5, 5)),
    ("block_diag", lambda m: m.block_diag(m.tensor(5.0), m.tensor(V[:2]), m.tensor(M)),
     [[5.0, 0.0, 0.0, 0.0, 0.0], [0.0, 1.0, 2.0, 0.0, 0.0], [0.0, 0.0, 0.0, 1.0, 2.0],
      [0.0, 0.0, 0.0, 3.0, 4.0]], (4, 5)),
    ("block_diag_promotes", lambda m: m.block_diag(m.tensor([[1]]), m.tensor([[2.5]])),
     [[1.0, 0.0], [0.0, 2.5]], (2, 2)),
    ("block_diag_of_nothing", lambda m: m.block_diag(), [[]], (1, 0)),
    ("cartesian_prod", lambda m: m.cartesian_prod(m.tensor(V[:2]), m.tensor([5.0, 6.0]),
                                                  m.tensor([7.0])),
     [[1.0, 5.0, 7.0], [1.0, 6.0, 7.0], [2.0, 5.0, 7.0], [2.0, 6.0, 7.0]], (4, 3)),
    ("combinations", lambda m: m.combinations(m.tensor(V + [4.0]), 3),
     [[1.0, 2.0, 3.0], [1.0, 2.0, 4.0], [1.0, 3.0, 4.0], [2.0, 3.0, 4.0]], (4, 3)),
    ("combinations_with_replacement",
     lambda m: m.combinations(m.tensor(V), with_replacement=True),
     [[1.0, 1.0], [1.0, 2.0], [1.0, 3.0], [2.0, 2.0], [2.0, 3.0], [3.0, 3.0]], (6, 2)),
    ("combinations_of_more_than_there_are", lambda m: m.combinations(m.tensor(V), 4), [],
     (0, 4)),
    ("combinations_of_none", lambda m: m.combinations(m.tensor(V), 0), [], (0,)),
    ("vander", lambda m: m.vander(m.tensor([0.0, 2.0, -1.0])),
     [[0.0, 0.0, 1.0], [4.0, 2.0, 1.0], [1.0, -1.0, 1.0]], (3, 3)),
    ("vander_ints_increasing", lambda m: m.vander(m.tensor([1, 2, 3], dtype=m.int8), 4,
                                                  increasing=True),
     [[1, 1, 1, 1], [1, 2, 4, 8], [1, 3, 9, 27]], (3, 4)),
    ("vander_no_columns", lambda m: m.vander(m.tensor(V), 0), [[], [], []], (3, 0)),
]


@pytest.mark.parametrize("make, want, shape", [pytest.param(*c[1:], id=c[0]) for c in CASES])
def test_values_as_recorded_from_pytorch(make, want, shape):
    got = make(engine)
    assert got.tolist() == want and got.shape == shape


@pytest.mark.parametrize("make, want, shape", [pytest.param(*c[1:], id=c[0]) for c in CASES])
def test_the_recorded_values_are_pytorchs(torch, make, want, shape):
    torch.set_default_dtype(torch.float32)  # (block_diag() takes the default dtype)
    got = make(torch)
    assert got.tolist() == want and tuple(got.shape) == shape


def test_dtypes_are_pytorchs():
    assert engine.block_diag().dtype == engine.float32
    assert engine.block_diag(engine.tensor([[1]]), engine.tensor([[2.5]])).dtype == engine.float32
    assert engine.vander(engine.tensor([1, 2], dtype=engine.int8)).dtype == engine.int64
    assert engine.vander(engine.tensor([True, False])).dtype == engine.int64
    assert engine.diag_embed(engine.tensor([1, 2])).dtype == engine.int64


def test_grad_fn_names_are_pytorchs():
    v = engine.tensor(V, requires_grad=True)
    names = {"DiagEmbedBackward0": v.diag_embed(), "BlockDiagBackward0": engine.block_diag(v, v),
             "StackBackward0": engine.cartesian_prod(v, v), "FlipBackward0": engine.vander(v)}
    assert {name: t.grad_fn.name() for name, t in names.items()} == {n: n for n in names}
    assert engine.combinations(v).grad_fn.name() == "StackBackward0"
    assert engine.diagflat(v).grad_fn.name() == "DiagEmbedBackward0"  # (PyTorch's too)
    assert engine.cartesian_prod(v) is v


def test_vander_gradient_is_the_powers_derivative_at_zero_too():
    """d/dx of x**3, x**2, x, 1 at x = 0 and 2: 0, 0, 1, 0 and 12, 4, 1, 0 (by hand; PyTorch's
    own vander cannot be differentiated in 2.13)."""
    x = engine.tensor([0.0, 2.0], requires_grad=True)
    engine.vander(x, 4).sum().backward()
    assert x.grad.tolist() == [1.0, 17.0]


@pytest.mark.parametrize("make, error, message", [
    (lambda: engine.diag_embed(engine.ones(2), 0, 0, 0), ValueError, "must differ"),
    (lambda: engine.block_diag(engine.ones(2, 2, 2)), ValueError,
     r"at most 2 dims; tensor 0 has shape \(2, 2, 2\)"),
    (lambda: engine.cartesian_prod(engine.ones(2, 2)), ValueError, "1-D tensors"),
    (lambda: engine.cartesian_prod(engine.ones(2), engine.ones(2, dtype=engine.float64)),
     TypeError, "one dtype"),
    (lambda: engine.cartesian_prod(), TypeError, "at least one tensor"),
    (lambda: engine.combinations(engine.ones(2, 2)), ValueError, "a 1-D tensor"),
    (lambda: engine.combinations(engine.ones(2), -1), ValueError, "must not be negative"),
    (lambda: engine.vander(engine.ones(2, 2)), ValueError, "a 1-D tensor"),
    (lambda: engine.vander(engine.ones(2), -1), ValueError, "must not be negative"),
])
def test_errors_name_what_was_wrong(make, error, message):
    with pytest.raises(error, match=message):
        make()
