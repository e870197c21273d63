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


# (what a learner writes, PyTorch 2.13's grad_fn name for it): ops by the overload or the
# kind of operands (a matrix product of 2-D and 1-D tensors is mv), and composites, which
# take PyTorch's name for the op the user called
GRAD_FN_NAMES = [
    ("a @ b, 2-D", lambda m, F: _t(m, 2, 3) @ _t(m, 3, 4), "MmBackward0"),
    ("a @ v", lambda m, F: _t(m, 2, 3) @ _t(m, 3), "MvBackward0"),
    ("v @ a", lambda m, F: _t(m, 3) @ _t(m, 3, 4), "SqueezeBackward4"),
    ("v @ v", lambda m, F: _t(m, 3) @ _t(m, 3), "DotBackward0"),
    ("a @ b, batched", lambda m, F: _t(m, 5, 2, 3) @ _t(m, 5, 3, 4), "UnsafeViewBackward0"),
    ("a @ b, 3-D by 2-D", lambda m, F: _t(m, 5, 2, 3) @ _t(m, 3, 4), "UnsafeViewBackward0"),
    ("sum()", lambda m, F: _t(m, 2, 3).sum(), "SumBackward0"),
    ("sum(0)", lambda m, F: _t(m, 2, 3).sum(0), "SumBackward1"),
    ("mean()", lambda m, F: _t(m, 2, 3).mean(), "MeanBackward0"),
    ("mean(1)", lambda m, F: _t(m, 2, 3).mean(1), "MeanBackward1"),
    ("var()", lambda m, F: _t(m, 2, 3).var(), "VarBackward0"),
    ("std(1)", lambda m, F: _t(m, 2, 3).std(1), "StdBackward0"),
    ("max()", lambda m, F: _t(m, 2, 3).max(), "MaxBackward1"),
    ("max(1).values", lambda m, F: _t(m, 2, 3).max(1).values, "MaxBackward0"),
    ("min()", lambda m, F: _t(m, 3).min(), "MinBackward1"),
    ("min(0)[0]", lambda m, F: _t(m, 2, 3).min(0)[0], "MinBackward0"),
    ("amax(1)", lambda m, F: _t(m, 2, 3).amax(1), "AmaxBackward0"),
    ("view(-1)", lambda m, F: _t(m, 2, 3).view(-1), "ViewBackward0"),
    ("reshape", lambda m, F: _t(m, 2, 3).reshape(3, 2), "ViewBackward0"),
    ("flatten", lambda m, F: _t(m, 2, 3).flatten(), "ViewBackward0"),
    ("unsqueeze", lambda m, F: _t(m, 2).unsqueeze(0), "UnsqueezeBackward0"),
    ("squeeze()", lambda m, F: _t(m, 1, 3, 1).squeeze(), "SqueezeBackward0"),
    ("squeeze(0)", lambda m, F: _t(m, 1, 3, 1).squeeze(0), "SqueezeBackward1"),
    ("squeeze((0, 2))", lambda m, F: _t(m, 1, 3, 1).squeeze((0, 2)), "SqueezeBackward2"),
    (".T", lambda m, F: _t(m, 2, 3).T, "PermuteBackward0"),
    ("t()", lambda m, F: _t(m, 2, 3).t(), "TBackward0"),
    ("transpose", lambda m, F: _t(m, 2, 3).transpose(0, 1), "TransposeBackward0"),
    ("mT", lambda m, F: _t(m, 2, 2, 3).mT, "TransposeBackward0"),
    ("permute", lambda m, F: _t(m, 2, 3, 4).permute(2, 0, 1), "PermuteBackward0"),
    ("a - b", lambda m, F: _t(m, 2, 3) - _t(m, 3), "SubBackward0"),
    ("a - 1", lambda m, F: _t(m, 2, 3) - 1, "SubBackward0"),
    ("1 - a", lambda m, F: 1 - _t(m, 2, 3), "RsubBackward1"),
    ("1 - a**2", lambda m, F: 1 - _t(m, 3) ** 2, "RsubBackward1"),
    ("a + b", lambda m, F: _t(m, 2, 3) + _t(m, 3), "AddBackward0"),
    ("clamp(0, 1)", lambda m, F: _t(m, 2).clamp(0, 1), "ClampBackward1"),
    ("clamp(min=0)", lambda m, F: _t(m, 2).clamp(min=0), "ClampBackward1"),
    ("clamp(tensors)", lambda m, F: _t(m, 3).clamp(m.zeros(3), m.ones(3)), "ClampBackward0"),
    ("stack", lambda m, F: m.stack([_t(m, 2), _t(m, 2)]), "StackBackward0"),
    ("cat", lambda m, F: m.cat([_t(m, 2), _t(m, 2)]), "CatBackward0"),
    ("split", lambda m, F: _t(m, 4).split(2)[0], "SplitBackward0"),
    ("chunk", lambda m, F: _t(m, 4).chunk(2)[1], "SplitBackward0"),
    ("gather", lambda m, F: _t(m, 2, 3).gather(1, m.tensor([[0], [1]])), "GatherBackward0"),
    ("sort", lambda m, F: _t(m, 2, 3).sort(1).values, "SortBackward0"),
    ("topk", lambda m, F: _t(m, 5).topk(2).values, "TopkBackward0"),
    ("masked_fill", lambda m, F: _t(m, 2).masked_fill(m.tensor([True, False]), 0.0),
     "MaskedFillBackward0"),
    ("norm", lambda m, F: _t(m, 3).norm(), "LinalgVectorNormBackward0"),
    ("F.silu", lambda m, F: F.silu(_t(m, 3)), "SiluBackward0"),
    ("F.layer_norm", lambda m, F: F.layer_norm(_t(m, 2, 3), (3,)), "NativeLayerNormBackward0"),
    ("F.batch_norm", lambda m, F: F.batch_norm(_t(m, 4, 3), None, None, training=True),
     "NativeBatchNormBackward0"),
    ("F.nll_loss", lambda m, F: F.nll_loss(_t(m, 2, 3), m.tensor([0, 2])), "NllLossBackward0"),
    ("F.binary_cross_entropy", lambda m, F: F.binary_cross_entropy(
        _t(m, 2).sigmoid(), m.tensor([0.0, 1.0], dtype=m.float64)),
     "BinaryCrossEntropyBackward0"),
    ("F.conv2d", lambda m, F: F.conv2d(_t(m, 1, 1, 4, 4), _t(m, 2, 1, 3, 3)),
     "ConvolutionBackward0"),
    ("F.conv1d", lambda m, F: F.conv1d(_t(m, 1, 1, 5), _t(m, 1, 1, 3)), "ConvolutionBackward0"),
    ("F.max_pool2d", lambda m, F: F.max_pool2d(_t(m, 1, 1, 4, 4), 2),
     "MaxPool2DWithIndicesBackward0"),
    ("F.avg_pool2d", lambda m, F: F.avg_pool2d(_t(m, 1, 1, 4, 4), 2), "AvgPool2DBackward0"),
    ("a - b, then += 1", lambda m, F: _sub_then_add(m), "AddBackward0"),
]


def _t(m, *shape):
    return m.tensor(np.random.default_rng(0).standard_normal(shape), requires_grad=True)


def _sub_then_add(m):
    y = _t(m, 3) - _t(m, 3)
    y += 1  # the node it is now was made by +
    return y


@pytest.mark.parametrize("make, want", [row[1:] for row in GRAD_FN_NAMES],
                         ids=[row[0] for row in GRAD_FN_NAMES])
def test_grad_fn_names_are_pytorchs(make, want):
    out = make(engine, F)
    assert out.grad_fn.name() == want
    out.sum().backward()  # the graph is released; the name stays, as PyTorch's does
    assert out.grad_fn.name() == want


@pytest.mark.parametrize("make, want", [row[1:] for row in GRAD_FN_NAMES],
                         ids=[row[0] for row in GRAD_FN_NAMES])
def test_the_recorded_grad_fn_names_are_pytorchs(make, want):
    torch = pytest.importorskip("torch")
    assert make(torch, torch.nn.functional).grad_fn.name() == want


def _walk(grad_fn) -> list:
    """The backward graph below grad_fn, depth first, each name indented by its depth."""
    if grad_fn is None:
        return ["None"]
    return [grad_fn.name()] + ["  " + line for f, _ in grad_fn.next_functions
                               for line in _walk(f)]


# F.linear's backward graph in PyTorch 2.13, for input of each number of dims, with and
# without a bias, the input requiring grad or not (AccumulateGrad written as Acc)
LINEAR_WALKS = {
    (2, True): "AddmmBackward0|  Acc|  {x}|  TBackward0|    Acc",
    (2, False): "MmBackward0|  {x}|  TBackward0|    Acc",
    (3, True): "ViewBackward0|  AddmmBackward0|    Acc|    {view}|    TBackward0|      Acc",
    (3, False): "UnsafeViewBackward0|  MmBackward0|    {view}|    TBackward0|      Acc",
    (1, True): "ViewBackward0|  AddmmBackward0|    Acc|    {view}|    TBackward0|      Acc",
    (1, False): "SqueezeBackward4|  MmBackward0|    {unsqueeze}|    TBackward0|      Acc",
}


@pytest.mark.parametrize("ndim, bias", list(LINEAR_WALKS))
@pytest.mark.parametrize("input_grad", [False, True])
def test_linears_backward_graph_is_pytorchs(ndim, bias, input_grad):
    acc = "torch::autograd::AccumulateGrad"
    # what the input contributes: nothing, its AccumulateGrad, or a view of it first
    x, view, unsqueeze = (("Acc", "ViewBackward0|      Acc", "UnsqueezeBackward0|      Acc")
                          if input_grad else ("None",) * 3)
    want = LINEAR_WALKS[ndim, bias].format(x=x, view=view, unsqueeze=unsqueeze)
    want = want.replace("Acc", acc).split("|")

    def walk(m, F):
        shapes = {1: (3,), 2: (2, 3), 3: (5, 2, 3)}[ndim]
        args = [m.ones(*shapes, requires_grad=input_grad), m.ones(4, 3, requires_grad=True)]
        return _walk(F.linear(*args, *([m.ones(4, requires_grad=True)] if bias else [])).grad_fn)
    assert walk(engine, F) == want
    torch = pytest.importorskip("torch")
    assert walk(torch, torch.nn.functional) == want


def test_a_composite_is_drawn_as_the_ops_that_ran():
    """Only the grad_fn takes PyTorch's name: the graph (and its picture) keeps a - b as
    a + (-b), and a matrix product is drawn as @."""
    from viz.dot import OP_NAMES
    a, b = (engine.ones(2, 2, requires_grad=True) for _ in range(2))
    diff, product = a - b, a @ b
    assert diff._op == "+" and diff._b._op == "neg" and diff.grad_fn.name() == "SubBackward0"
    assert OP_NAMES[product._op] == "@" and product.grad_fn.name() == "MmBackward0"


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


def test_normalize_writes_into_out_as_pytorchs(torch):
    x = np.arange(6.0).reshape(2, 3)
    ours, theirs = engine.empty(2, 3, dtype=engine.float64), torch.empty(2, 3)
    assert F.normalize(engine.tensor(x), p=1.0, dim=0, out=ours) is ours
    torch.nn.functional.normalize(torch.tensor(x), p=1.0, dim=0, out=theirs)
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-12)


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


def _parameters(fn: object) -> tuple[list[str], bool, bool] | None:
    """fn's named parameters in order, whether it takes *args, whether **kwargs; None where
    Python cannot tell (a C function)."""
    import inspect
    try:
        params = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):
        return None
    kinds = {p.kind for p in params}
    return ([p.name for p in params if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)],
            inspect.Parameter.VAR_POSITIONAL in kinds, inspect.Parameter.VAR_KEYWORD in kinds)


SURFACES = [("nn.functional", "torch.nn.functional"), ("nn", "torch.nn"),
            ("nn.optim", "torch.optim"), ("nn.optim.lr_scheduler", "torch.optim.lr_scheduler"),
            ("nn.init", "torch.nn.init"), ("nn.utils", "torch.nn.utils"),
            ("nn.utils.rnn", "torch.nn.utils.rnn"), ("engine.utils.data", "torch.utils.data"),
            ("engine.utils.checkpoint", "torch.utils.checkpoint")]


@pytest.mark.parametrize("ours, theirs", SURFACES, ids=[ours for ours, _ in SURFACES])
def test_every_function_and_class_takes_pytorchs_parameters_in_pytorchs_order(torch, ours,
                                                                              theirs):
    """Code written for PyTorch passes arguments by position and by name: each name both
    libraries have takes the same parameters, in the same order (where PyTorch's takes *args,
    dispatching on them, there is no order to follow; where it takes **kwargs, ours may name
    what it accepts there)."""
    import importlib
    ours, theirs = importlib.import_module(ours), importlib.import_module(theirs)
    compared, differ = 0, []
    for name in dir(theirs):
        if name.startswith("_") or not hasattr(ours, name) or not callable(getattr(theirs, name)):
            continue
        o, t = _parameters(getattr(ours, name)), _parameters(getattr(theirs, name))
        if o is None or t is None or t[1]:
            continue
        compared += 1
        names = o[0] if not t[2] else [n for n in o[0] if n in t[0]]
        if names != t[0]:
            differ.append(f"{name}: ours {o[0]}, PyTorch's {t[0]}")
    print(f"{compared} compared")
    assert compared >= 3 and not differ, "\n".join(differ)


def test_pytorchs_module_paths_with_torch_spelt_engine_are_the_nn_modules():
    """So that renaming torch to engine in a program's imports is enough: `import
    engine.nn as nn`, `from engine.optim.lr_scheduler import StepLR` (one module each, not
    copies: a class is the same class by either path)."""
    import importlib
    import subprocess
    import sys
    from pathlib import Path
    for path in ("nn", "nn.functional", "nn.init", "nn.utils.rnn", "optim", "optim.optimizer",
                 "optim.lr_scheduler"):
        real = path if path.startswith("nn") else f"nn.{path}"
        module = importlib.import_module(f"engine.{path}")
        assert module is importlib.import_module(real) and module.__name__ == real
        assert module.__spec__.name == real  # its own spec, kept
    program = """
import engine
import engine.nn as nn
import engine.nn.functional as F
from engine.optim.lr_scheduler import StepLR
from engine.utils.data import DataLoader, TensorDataset
engine.manual_seed(0)
model = nn.Sequential(nn.Linear(2, 8), nn.ReLU(), nn.Linear(8, 1))
optimizer = engine.optim.SGD(model.parameters(), lr=0.1)
scheduler = StepLR(optimizer, 1, 0.5)
x = engine.randn(16, 2)
for xb, yb in DataLoader(TensorDataset(x, x.sum(1, keepdim=True)), batch_size=8):
    loss = F.mse_loss(model(xb), yb)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    scheduler.step()
print(type(scheduler).__module__, scheduler.get_last_lr())
"""
    done = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True,
                          cwd=Path(__file__).resolve().parents[1], timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["nn.optim.lr_scheduler", "[0.025]"]
    with pytest.raises(ModuleNotFoundError, match="nn.nothing"):
        importlib.import_module("engine.nn.nothing")


def test_python_protocols_as_pytorchs(library):
    """Comparing with a list is Python's (t == [1, 0] is False: not elementwise); to(...,
    copy=True) copies; copy.copy and pickle make a leaf without .grad, deepcopy keeps a
    tensor's .grad but not a Parameter's; addmm at beta=0 leaves input out, nan too."""
    import copy
    import pickle
    t = library.tensor([1, 0])
    assert (t == [1, 0]) is False and (t != [1, 0]) is True
    with pytest.raises(TypeError):
        t < [1, 1]
    x = library.tensor([1.0, 2.0], requires_grad=True)
    for copied in (x.to(library.float32, copy=True), x.to("cpu", copy=True),
                   x.to(library.float64, False, True)):
        with library.no_grad():
            copied[0] = 9.0
    assert x.tolist() == [1.0, 2.0]
    y = copy.copy(x * 2)
    assert y.requires_grad and y.is_leaf and y.grad_fn is None
    x.grad = library.ones(2)
    assert pickle.loads(pickle.dumps(x)).grad is None
    assert copy.deepcopy(x).grad.tolist() == [1.0, 1.0]
    layer = library.nn.Linear(2, 2)
    layer.weight.grad = library.ones(2, 2)
    assert copy.deepcopy(layer).weight.grad is None
    nan = library.full((2, 2), math.nan)
    assert library.addmm(nan, library.ones(2, 2), library.ones(2, 2), beta=0).tolist() == [
        [2.0, 2.0], [2.0, 2.0]]


def test_tril_triu_in_place_and_the_other_names_of_cat_and_movedim(library):
    mask = library.ones(3, 3)
    assert mask.tril_() is mask and mask.tolist() == [[1, 0, 0], [1, 1, 0], [1, 1, 1]]
    t = library.ones(2, 3, requires_grad=True)
    (t * 1).triu_(1).sum().backward()  # in the graph: the gradient reaches the upper part only
    assert t.grad.tolist() == [[0, 1, 1], [0, 0, 1]]
    assert library.concat([library.ones(1), library.zeros(1)]).tolist() == [1, 0]
    assert library.concatenate([library.ones(1)], dim=0).tolist() == [1]
    assert tuple(library.moveaxis(library.ones(2, 3), 0, 1).shape) == (3, 2)


def test_view_refuses_what_would_need_a_copy_as_pytorchs(library):
    """(It copied: writes to the result did not reach the tensor, silently.) reshape copies."""
    x = library.arange(6.0).reshape(2, 3)
    with pytest.raises(RuntimeError, match="view size is not compatible with input tensor's "
                                           "size and stride"):
        x.t().view(-1)
    assert x.t().reshape(-1).tolist() == [0.0, 3.0, 1.0, 4.0, 2.0, 5.0]
    v = x.view(3, 2)  # a true view: a write reaches x
    v[0, 0] = 7.0
    assert x[0, 0].item() == 7.0 and tuple(x.unsqueeze(0).view(6).shape) == (6,)


def test_legacy_typed_tensors_type_reversed_and_in_as_pytorchs(library):
    """Older tutorials' torch.FloatTensor(...), t.type(), x.type(torch.LongTensor);
    reversed(t) is a flipped Tensor; `in` takes tensors and numbers only."""
    a, b = library.FloatTensor([1, 2]), library.LongTensor(2, 3)
    assert (str(a.dtype), a.tolist(), tuple(b.shape), str(b.dtype)) == (
        "torch.float32", [1.0, 2.0], (2, 3), "torch.int64")
    assert isinstance(a, library.FloatTensor) and not isinstance(a, library.LongTensor)
    x = library.tensor([1.5, 2.5])
    assert x.type() == "torch.FloatTensor" and library.tensor([True]).type() == "torch.BoolTensor"
    assert x.type(library.LongTensor).tolist() == [1, 2]
    assert str(x.type("torch.IntTensor").dtype) == "torch.int32"
    t = library.tensor([1, 2])
    assert reversed(t).tolist() == [2, 1] and isinstance(reversed(t), library.Tensor)
    assert 1 in t and library.tensor(2) in t and 3 not in t
    for item in ("a", None, [1]):
        with pytest.raises(RuntimeError, match="only supports Tensor or scalar"):
            item in t


def test_conjugate_transposes_index_of_a_bool_and_memory_format_names(library):
    import operator
    x = library.arange(6.0).reshape(2, 3)
    assert x.H.tolist() == x.mH.tolist() == x.adjoint().tolist() == x.T.tolist()
    assert operator.index(library.tensor(True)) == 1 and [10, 11][library.tensor(True)] == 11
    assert x.numpy(force=True).tolist() == x.tolist()
    for fmt in (library.contiguous_format, library.preserve_format):
        assert x.clone(memory_format=fmt).tolist() == x.tolist()
    assert repr(library.strided) == "torch.strided"
