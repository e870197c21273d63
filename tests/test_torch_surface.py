"""The parts of PyTorch's tensor API that GPTs and tutorials written the PyTorch way reach
for, beyond the lessons: named comparisons, isnan/isinf/isfinite, nonzero, count_nonzero,
the new_* factories and from_numpy, dtype facts (element_size, nbytes, ...), contiguous,
grad_fn with next_functions, the matrix products' dim checks and the errors of the
rearranging ops. Each is compared with PyTorch where it is installed and with recorded
answers otherwise. (Their gradients are rows of tests/tensor_op_table.py.)"""
from __future__ import annotations

import math

import numpy as np
import pytest

import engine
import nn.functional as F

X = [[0.0, 2.5, -1.0], [math.nan, 0.0, math.inf]]


@pytest.mark.parametrize("name", ["eq", "ne", "lt", "le", "gt", "ge"])
def test_named_comparisons_are_the_operators(name):
    x, y = engine.tensor(X), engine.tensor([0.0, 1.0, -1.0])
    want = {"eq": x == y, "ne": x != y, "lt": x < y, "le": x <= y, "gt": x > y,
            "ge": x >= y}[name]
    assert getattr(x, name)(y).tolist() == want.tolist()
    assert getattr(engine, name)(x, 0.0).tolist() == getattr(x, name)(0.0).tolist()


def test_named_comparisons_and_number_tests_match_pytorch():
    torch = pytest.importorskip("torch")
    ours, theirs = engine.tensor(X), torch.tensor(X)
    for name in ("eq", "ne", "lt", "le", "gt", "ge", "greater", "less_equal", "not_equal"):
        assert getattr(ours, name)(1.0).tolist() == getattr(theirs, name)(1.0).tolist(), name
    for name in ("isnan", "isinf", "isfinite", "sign", "count_nonzero"):
        assert getattr(ours, name)().tolist() == getattr(theirs, name)().tolist(), name
    assert ours.nonzero().tolist() == theirs.nonzero().tolist()
    assert [t.tolist() for t in ours.nonzero(as_tuple=True)] == [
        t.tolist() for t in theirs.nonzero(as_tuple=True)]


def test_number_tests_and_nonzero_as_recorded_from_pytorch():
    x = engine.tensor(X)
    assert x.isnan().tolist() == [[False, False, False], [True, False, False]]
    assert x.isinf().tolist() == [[False, False, False], [False, False, True]]
    assert x.isfinite().tolist() == [[True, True, True], [False, True, False]]
    assert x.sign().tolist()[1][:2] == [0.0, 0.0]  # 0 at nan, as torch.sign
    assert x.nonzero().tolist() == [[0, 1], [0, 2], [1, 0], [1, 2]]
    assert x.count_nonzero(dim=1).tolist() == [2, 2] and x.nonzero().dtype == engine.int64
    assert engine.tensor(0.0).nonzero().shape == (0, 0)
    assert engine.tensor(1.0).nonzero().shape == (1, 0)


def test_new_factories_take_the_tensors_dtype_and_from_numpy_shares_memory():
    t = engine.ones(2, dtype=engine.float64)
    assert t.new_zeros(2, 3).dtype == engine.float64 and t.new_zeros((2, 3)).shape == (2, 3)
    assert t.new_ones(1).tolist() == [1.0] and t.new_full((2,), 7).tolist() == [7.0, 7.0]
    assert t.new_tensor([1, 2]).dtype == engine.float64 and t.new_empty(4).shape == (4,)
    assert t.new_zeros(2, dtype=engine.int64).dtype == engine.int64
    array = np.arange(3)
    shared = engine.from_numpy(array)
    shared[0] = 9
    assert array.tolist() == [9, 1, 2] and shared.dtype == engine.int64
    with pytest.raises(TypeError, match="from_numpy takes a numpy array, got list"):
        engine.from_numpy([1, 2])


def test_dtype_facts():
    t = engine.zeros(2, 3)
    assert (t.element_size(), t.itemsize, t.nbytes) == (4, 4, 24)
    assert t.is_floating_point() and not t.long().is_floating_point()


def test_contiguous_copies_only_what_is_not_in_row_major_order():
    t = engine.randn(2, 3, requires_grad=True)
    assert t.contiguous() is t and t.is_contiguous()
    turned = t.transpose(0, 1)
    assert not turned.is_contiguous()
    copy = turned.contiguous()
    assert copy.is_contiguous() and not np.shares_memory(copy.numpy(), t.numpy())
    copy.view(-1).sum().backward()
    assert t.grad.tolist() == [[1.0] * 3] * 2


def test_grad_fn_shows_the_backward_graph_as_pytorchs():
    a = engine.randn(3, requires_grad=True)
    y = (a * engine.randn(3)).sum()
    assert a.grad_fn is None and repr(y.grad_fn).startswith("<SumBackward0 object at 0x")
    ((mul, _),) = y.grad_fn.next_functions
    assert mul.name() == "MulBackward0" and mul == y.grad_fn.next_functions[0][0]
    (accumulate, _), (constant, _) = mul.next_functions
    assert accumulate.variable is a and constant is None
    assert accumulate.name() == "torch::autograd::AccumulateGrad"


def test_grad_fn_names_match_pytorch():
    torch = pytest.importorskip("torch")
    for make in (lambda m: m.randn(3, requires_grad=True).exp().sum(),
                 lambda m: m.randn(3, requires_grad=True).sigmoid() * m.randn(3),
                 lambda m: m.randn(3, requires_grad=True).tanh().cumsum(0)):
        ours, theirs = make(engine).grad_fn, make(torch).grad_fn
        assert ours.name() == theirs.name()
        assert [f and f.name() for f, _ in ours.next_functions] == [
            f and f.name() for f, _ in theirs.next_functions]


def _names(torch, F) -> list:
    """The 60-minute blitz's walk back from an MSE loss (MSELoss, Linear as addmm, its
    bias), and the views and negation of a tensor, by their grad_fn names."""
    x, target = torch.ones(2, 3), torch.ones(2, 4)
    w1, b1, w2, b2 = (torch.ones(*shape, requires_grad=True)
                      for shape in ((5, 3), (5,), (4, 5), (4,)))
    loss = F.mse_loss(F.linear(F.linear(x, w1, b1).relu(), w2, b2), target)
    linear = loss.grad_fn.next_functions[0][0]
    walk = [loss.grad_fn.name(), linear.name(), linear.next_functions[0][0].name()]
    views = [-w1, w1[0], w1[1:], w1[:, 0], w1[None], w1[:], w1[:, ...], w1[[0, 1]]]
    return walk + [v.grad_fn.name() for v in views]


def test_grad_fn_names_of_a_walk_back_and_of_views_are_pytorchs():
    import nn.functional as F
    want = ["MseLossBackward0", "AddmmBackward0", "torch::autograd::AccumulateGrad",
            "NegBackward0", "SelectBackward0", "SliceBackward0", "SelectBackward0",
            "UnsqueezeBackward0", "SliceBackward0", "AliasBackward0", "IndexBackward0"]
    assert _names(engine, F) == want
    torch = pytest.importorskip("torch")
    assert _names(torch, torch.nn.functional) == want


@pytest.mark.parametrize("call, error, message", [
    (lambda: engine.mm(engine.ones(3), engine.ones(3, 2)), ValueError,
     r"mm takes 2-D and 2-D tensors, got shapes \(3,\) and \(3, 2\)"),
    (lambda: engine.bmm(engine.ones(2, 1, 3), engine.ones(3, 3, 1)), ValueError,
     "bmm: batch sizes 2 and 3 differ"),
    (lambda: engine.dot(engine.ones(2), engine.ones(3)), ValueError,
     "dot: vectors of lengths 2 and 3"),
    (lambda: engine.ones(2, 3).narrow(1, 2, 2), ValueError,
     "narrow: start 2 and length 2 do not fit dim 1 of size 3"),
    (lambda: engine.ones(2, 3).roll((1, 2), (0,)), ValueError, "roll: 2 shifts for 1 dims"),
    (lambda: engine.ones(2, 3).repeat(2), ValueError,
     r"repeat: \(2,\) has fewer sizes than the tensor has dims \(2, 3\)"),
    (lambda: engine.ones(3).index_select(0, engine.tensor([0.5])), ValueError,
     "index_select takes a 1-D int index, got float32"),
    (lambda: engine.ones(3).masked_select(engine.ones(3)), TypeError,
     "masked_select takes a bool mask, got float32"),
    (lambda: engine.ones(3).masked_select(engine.ones(2) > 0), ValueError,
     r"a mask of shape \(2,\) does not broadcast to the tensor's shape \(3,\)"),
    (lambda: engine.ones(2, 3).movedim((0, 1), 0), ValueError,
     "movedim: 2 source dims for 1 destinations"),
    (lambda: engine.ones(3).mT, ValueError, r"mT needs at least 2 dims, got shape \(3,\)"),
    (lambda: F.scaled_dot_product_attention(engine.ones(1, 2, 2), engine.ones(1, 2, 2),
                                            engine.ones(1, 2, 2), engine.ones(2, 2) > 0,
                                            is_causal=True), ValueError,
     "pass is_causal=True or an attn_mask, not both"),
], ids=["mm dims", "bmm batch", "dot lengths", "narrow", "roll", "repeat", "index_select",
        "masked_select dtype", "masked_select shape", "movedim", "mT", "sdpa mask"])
def test_errors_name_what_was_wrong(call, error, message):
    with pytest.raises(error, match=message):
        call()


def test_attention_dropout_drops_whole_weights_from_the_engines_generator():
    engine.manual_seed(4)
    q = k = v = engine.randn(1, 2, 4, 3)
    engine.manual_seed(5)
    dropped = F.scaled_dot_product_attention(q, k, v, dropout_p=0.5, is_causal=True)
    engine.manual_seed(5)
    causal = engine.tril(engine.ones(4, 4)) > 0
    weights = (q @ k.transpose(-2, -1) * (1 / math.sqrt(3))).masked_fill(~causal, -math.inf)
    by_hand = F.dropout(weights.softmax(-1), 0.5) @ v
    np.testing.assert_allclose(dropped.numpy(), by_hand.numpy(), rtol=1e-6)


def test_every_name_engine_exports_is_the_function_or_class_not_a_module_of_that_name():
    # importing engine/device.py once bound `engine.device` to the module, so that
    # `torch.device("cpu")` failed once the engine had loaded it
    import types

    import engine.tensor  # noqa: F401  (loads every module the Tensor core pulls in)
    for name in engine._LAZY:
        value = getattr(engine, name)
        assert not isinstance(value, types.ModuleType) or callable(value), name
    assert engine.device("cpu") == "cpu" and str(engine.device("cpu")) == "cpu"


@pytest.mark.parametrize("call, message", [
    (lambda: engine.einsum("ij,jk->ik", engine.ones(2, 3)), "has 2 operands, 1 were given"),
    (lambda: engine.einsum("ijk->i", engine.ones(2, 3)),
     r"operand 0 has 2 dims, but its subscripts 'ijk' name 3"),
    (lambda: engine.einsum("ii->i", engine.ones(2, 2)), "repeat a letter \\(a diagonal\\)"),
    (lambda: engine.einsum("ij,jk->ik", engine.ones(2, 3), engine.ones(4, 2)),
     "subscript 'j' has sizes 3 and 4"),
    (lambda: engine.einsum("ij->iq", engine.ones(2, 3)), "must name letters of the operands"),
], ids=["count", "dims", "diagonal", "sizes", "output"])
def test_einsum_errors_name_what_was_wrong(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def _outs(torch) -> list:
    """PyTorch's functions writing into out=, as the 60-minute blitz's tensor tutorial does."""
    x, y = torch.ones(2, 3), torch.full((2, 3), 2.0)
    result = torch.empty(2, 3)
    view = result[0]
    made = [torch.add(x, y, out=result) is result, view.tolist()]
    wide = torch.empty(2, 3, dtype=torch.float64)
    made.append(str(torch.mul(x, y, out=wide)))
    empty = torch.empty(0)
    made.append(tuple(torch.cat([x, y], 0, out=empty).shape))
    values, indices = torch.empty(2), torch.empty(2, dtype=torch.long)
    got = torch.max(y * torch.arange(3.0), 1, out=(values, indices))
    made += [got.values is values, indices.tolist()]
    with torch.no_grad():
        made.append(torch.tanh(torch.zeros(2, requires_grad=True), out=torch.ones(2)).tolist())
    return made


def test_functions_write_into_out_as_pytorchs():
    want = [True, [3.0, 3.0, 3.0], "tensor([[2., 2., 2.],\n        [2., 2., 2.]], "
            "dtype=torch.float64)", (4, 3), True, [2, 2], [0.0, 0.0]]
    assert _outs(engine) == want
    torch = pytest.importorskip("torch")
    assert _outs(torch) == want


def test_a_non_empty_out_of_another_shape_is_resized_with_pytorchs_warning():
    out = engine.empty(5)
    with pytest.warns(UserWarning, match=r"resized since it had shape \[5\].*shape \[2, 3\]"):
        assert engine.add(engine.ones(2, 3), 1, out=out).shape == (2, 3)


@pytest.mark.parametrize("call, error, message", [
    (lambda: engine.add(engine.ones(2, requires_grad=True), 1, out=engine.empty(2)),
     RuntimeError, r"add\(\): functions with out=... arguments don't support automatic "),
    (lambda: engine.add(engine.ones(2), 0.5, out=engine.empty(2, dtype=engine.long)),
     RuntimeError, r"result type torch.float32 can't be cast to the desired output type "
                   r"torch.int64"),
    (lambda: engine.exp(engine.ones(2), out=[0.0, 0.0]), TypeError,
     r"exp\(\): out= takes a Tensor, got list"),
    (lambda: engine.max(engine.ones(2, 2), 1, out=engine.empty(2)), TypeError,
     r"max\(\): out= takes 2 tensors here, as a tuple"),
])
def test_out_refuses_what_pytorch_refuses(call, error, message):
    with pytest.raises(error, match=message):
        call()
