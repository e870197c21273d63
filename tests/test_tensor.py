"""engine/tensor.py: ops against central differences and PyTorch (tests/tensor_op_table.py),
and against Value on the shared op table (tests/op_table.py); dtypes, gradient ownership,
errors, factories."""
from __future__ import annotations

import math
import re
import subprocess
import sys
import tracemalloc
import warnings
from pathlib import Path

import numpy as np
import pytest
from differential import both_ran
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import engine
from engine import Tensor, Value, gradcheck
from op_table import EDGES, OPS, START, programs, row_names, run_program, value_ops
from tensor_op_table import EMBED_INDEX, KINKS, MASK, PAIRS, SHAPES, TENSOR_OPS


# The rows of tests/op_table.py, each at every shape (and every broadcasting pair of shapes),
# in the form of tests/tensor_op_table.py's rows, which follow them.
SHARED = [(name, f, None, draws, SHAPES if len(draws) == 1 else PAIRS) for name, f, draws in OPS]
OP_CASES = [pytest.param(f, tf or f, draw, shapes if len(draw) > 1 else (shapes,),
                         id=f"{name}{list(shapes)}")
            for name, f, tf, draw, all_shapes in SHARED + TENSOR_OPS for shapes in all_shapes]


def _inputs(draw, shapes):
    rng = np.random.default_rng(0)
    return [np.asarray(d(rng, s)) for d, s in zip(draw, shapes)]


def _weighted(f, weights):
    """f's output dotted with fixed random weights: a scalar that depends on every entry."""
    return lambda *xs: (f(*xs) * weights).sum()


def _weights_for(f, arrays):
    with engine.no_grad():
        shape = f(*[Tensor(a, dtype=np.float64) for a in arrays]).shape
    return np.random.default_rng(1).standard_normal(shape)


@pytest.mark.parametrize("f, tf, draw, shapes", OP_CASES)
def test_op_gradient_matches_central_differences(f, tf, draw, shapes):
    arrays = _inputs(draw, shapes)
    inputs = [Tensor(a, requires_grad=True, dtype=np.float64) for a in arrays]
    assert gradcheck(_weighted(f, _weights_for(f, arrays)), inputs)


@pytest.mark.parametrize("f, tf, draw, shapes", OP_CASES)
def test_op_matches_pytorch(torch, f, tf, draw, shapes):
    arrays = _inputs(draw, shapes)
    weights = _weights_for(f, arrays)
    ours = [Tensor(a, requires_grad=True, dtype=np.float64) for a in arrays]
    theirs = [torch.tensor(a, requires_grad=True) for a in arrays]
    out, want = f(*ours), tf(*theirs)
    np.testing.assert_allclose(out.data, want.detach().numpy(), rtol=1e-12, atol=1e-12)
    _weighted(f, weights)(*ours).backward()
    _weighted(tf, torch.tensor(weights))(*theirs).backward()
    for x, t in zip(ours, theirs):
        np.testing.assert_allclose(x.grad, t.grad.numpy(), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("f, tf, draw, shapes", OP_CASES)
def test_op_keeps_float32(f, tf, draw, shapes):
    inputs = [Tensor(a, requires_grad=True, dtype=np.float32) for a in _inputs(draw, shapes)]
    out = f(*inputs)
    assert out.dtype == np.float32
    out.backward(np.ones(out.shape))
    assert all(x.grad.dtype == np.float32 for x in inputs)


# --- the scalar and the tensor engine: one op table, the same answers ---

def test_every_op_of_value_has_a_row_and_a_tensor_twin():
    ops = value_ops()
    assert {"__add__", "__rpow__", "__neg__", "exp", "sqrt"} <= ops  # the search finds ops
    assert [op for op in sorted(ops) if not row_names(op)] == [], "ops without a row in OPS"
    public = {name for name in dir(Value) if not name.startswith("_")}
    assert sorted((ops | public) - set(dir(Tensor))) == [], "Value names Tensor lacks"


@pytest.mark.parametrize("f, draws", [pytest.param(f, d, id=name) for name, f, d in OPS])
def test_scalar_and_tensor_engines_agree_on_every_shared_op(f, draws):
    columns = [d(np.random.default_rng(0), 6) for d in draws]
    tensors = [Tensor(c, requires_grad=True, dtype=np.float64) for c in columns]
    out = f(*tensors)
    out.sum().backward()
    for i in range(6):
        values = [Value(float(c[i])) for c in columns]
        v = f(*values)
        v.backward()
        assert out.data[i] == pytest.approx(v.data, rel=1e-12, abs=1e-15)
        for value, tensor in zip(values, tensors):
            assert tensor.grad[i] == pytest.approx(value.grad, rel=1e-12, abs=1e-15)


@pytest.mark.parametrize("f, ref, x, grad",
                         [pytest.param(f, r, x, grad, id=n) for n, f, r, x, grad in EDGES])
def test_domain_edges_give_torchs_answers_without_warnings(f, ref, x, grad):
    """numpy's value and PyTorch's gradient, as recorded in the table (test_value.py checks
    the record against torch)."""
    ours = Tensor(x, requires_grad=True, dtype=np.float64)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the edge is meant: numpy must not warn about it
        out = f(ours)
        out.backward()
    with np.errstate(all="ignore"):
        want = ref(np.float64(x))
    np.testing.assert_allclose(out.numpy(), want, rtol=1e-12, equal_nan=True)
    np.testing.assert_allclose(np.asarray(ours.grad), grad, rtol=1e-12, equal_nan=True)


def _finite(*xs):
    return all(np.all(np.isfinite(x)) and np.all(np.abs(x) < 1e8) for x in xs)


@settings(max_examples=60)
@given(programs())
def test_scalar_and_tensor_engines_agree_on_random_programs(program):
    start, steps = program
    values = [Value(x) for x in start]
    tensors = [Tensor(x, requires_grad=True, dtype=np.float64) for x in start]
    v, t = run_program(values, steps), run_program(tensors, steps)
    v.backward()
    assume(_finite(v.data, *(value.grad for value in values)))
    t.backward()
    assert t.data == pytest.approx(v.data, rel=1e-9, abs=1e-12)
    for value, tensor in zip(values, tensors):
        grad = 0.0 if tensor.grad is None else tensor.grad  # a leaf the program never used
        assert grad == pytest.approx(value.grad, rel=1e-9, abs=1e-12)


@settings(max_examples=30)
@given(programs(start=st.lists(START, min_size=4, max_size=4)))
def test_scalar_and_tensor_engines_agree_elementwise_on_1d(program):
    rows, steps = program
    values = [[Value(x) for x in row] for row in rows]
    outs = [run_program(column, steps) for column in zip(*values)]
    sum(outs).backward()
    assume(_finite([o.data for o in outs], [[v.grad for v in row] for row in values]))
    tensors = [Tensor(row, requires_grad=True, dtype=np.float64) for row in rows]
    t = run_program(tensors, steps)
    t.sum().backward()
    np.testing.assert_allclose(t.data, [o.data for o in outs], rtol=1e-9, atol=1e-12)
    for row, tensor in zip(values, tensors):
        grad = np.zeros(4) if tensor.grad is None else tensor.grad
        np.testing.assert_allclose(grad, [v.grad for v in row], rtol=1e-9, atol=1e-12)


# --- indexing, kinks and ties ---

# basic indexes, int arrays with repeats, a pair of int arrays, a bool mask
INDEXES = [1, -1, slice(1, 3), (slice(None), 0), (-1, slice(None, None, 2)),
           (None, Ellipsis, 1), [0, 2, 2], (np.array([0, 3, 0]), np.array([1, 1, 1])),
           np.array([[True, False, True]] * 4), EMBED_INDEX[:, :3] % 4]


def _torch_index(torch, index):
    parts = index if isinstance(index, tuple) else (index,)
    return tuple(torch.as_tensor(p) if isinstance(p, (np.ndarray, list)) else p for p in parts)


@pytest.mark.parametrize("index", INDEXES, ids=repr)
def test_getitem_gradient_matches_central_differences_and_pytorch(torch, index):
    a = np.random.default_rng(0).standard_normal((4, 3))
    f = _weighted(lambda t: t[index], _weights_for(lambda t: t[index], [a]))
    assert gradcheck(f, [Tensor(a, requires_grad=True, dtype=np.float64)])
    ours = Tensor(a, requires_grad=True, dtype=np.float64)
    theirs = torch.tensor(a, requires_grad=True)
    np.testing.assert_array_equal(ours[index].data, theirs[_torch_index(torch, index)].detach())
    ours[index].sum().backward()
    theirs[_torch_index(torch, index)].sum().backward()
    np.testing.assert_array_equal(ours.grad, theirs.grad)


# ints beside arrays: PyTorch selects with the ints first, numpy counts them among the arrays
MIXED = {"x[0, :, [0, 1]]": ((0, slice(None), [0, 1]), (3, 2)),
         "x[1, None, :, [2, 2, 0]]": ((1, None, slice(None), [2, 2, 0]), (1, 3, 3)),
         "x[..., 1, None, [0, 3]]": ((Ellipsis, 1, None, [0, 3]), (2, 1, 2)),
         "x[[1, 0], :, -1]": (([1, 0], slice(None), -1), (2, 3)),
         "x[0, mask]": ((0, np.array([[True, False, True, False]] * 3)), (6,)),
         "x[:, 2, [1]]": ((slice(None), 2, [1]), (2, 1))}


@pytest.mark.parametrize("case", MIXED)
def test_ints_beside_arrays_select_first_as_in_pytorch(case):
    index, shape = MIXED[case]
    data = np.arange(24.0).reshape(2, 3, 4)
    x = Tensor(data, requires_grad=True, dtype=np.float64)
    picked = x[index]
    assert tuple(picked.shape) == shape
    first = tuple(slice(None) if isinstance(i, (list, np.ndarray)) else i for i in index)
    rest = tuple(i if isinstance(i, (list, np.ndarray)) else slice(None) for i in index
                 if not isinstance(i, int))
    np.testing.assert_array_equal(picked.numpy(), data[first][rest])  # ints first, by hand
    assert gradcheck(lambda t: (t[index] * np.arange(1.0, picked.numel() + 1).reshape(shape)
                                ).sum(), [x])


def test_ints_beside_arrays_out_of_range_name_the_index_and_shape():
    x = Tensor(np.zeros((2, 3, 4)))
    for index in [(5, slice(None), [0, 1]), (0, slice(None), [0, 9])]:
        with pytest.raises(IndexError, match=r"does not fit a tensor of shape \(2, 3, 4\): an "
                                              "entry is out of range"):
            x[index]
        with pytest.raises(IndexError, match=r"shape \(2, 3, 4\)"):
            x[index] = 1.0


@pytest.mark.parametrize("case", MIXED)
def test_ints_beside_arrays_get_and_set_as_pytorchs(torch, case):
    index, shape = MIXED[case]
    data = np.arange(24.0).reshape(2, 3, 4)
    value = np.random.default_rng(0).standard_normal(shape)
    results = []
    for m, parts in ((engine, index), (torch, _torch_index(torch, index))):
        x = m.tensor(data, requires_grad=True)
        v = m.tensor(value, requires_grad=True)
        y = x * 1.0
        picked = y[parts] * 1.0
        y[parts] = v
        ((y * m.tensor(data)).sum() + (picked * picked).sum()).backward()
        results.append([picked.detach().numpy(), y.detach().numpy(), x.grad.numpy(),
                        v.grad.numpy()])
    for ours, theirs in zip(*results):
        np.testing.assert_array_equal(ours, theirs)


def test_getitem_sums_repeated_picks_and_takes_tensor_indexes():
    a = Tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)
    a[Tensor([0, 0, 1]), Tensor([2, 2, 0])].sum().backward()
    np.testing.assert_array_equal(a.grad, [[0, 0, 2], [1, 0, 0]])


# Functions with kinks or ties, at the kinks and ties: PyTorch's subgradients.
KINK_CASES = [pytest.param(*row[1:], id=row[0]) for row in KINKS]


@pytest.mark.parametrize("f, data, out, grads", KINK_CASES)
def test_kinks_and_ties_get_pytorchs_gradients(f, data, out, grads):
    """The output, and the gradient of its sum, that PyTorch gives (recorded in the table)."""
    ours = [Tensor(x, requires_grad=True, dtype=np.float64) for x in data]
    got = f(*ours)
    np.testing.assert_array_equal(got.numpy(), out)
    got.sum().backward()
    for x, want in zip(ours, grads):
        np.testing.assert_array_equal(np.asarray(x.grad), want)


@pytest.mark.parametrize("f, data, out, grads", KINK_CASES)
def test_the_recorded_kink_gradients_are_pytorchs(torch, f, data, out, grads):
    theirs = [torch.tensor(x, requires_grad=True) for x in data]
    want = f(*theirs)
    np.testing.assert_array_equal(want.detach().numpy(), out)
    want.sum().backward()
    for t, recorded in zip(theirs, grads):
        np.testing.assert_array_equal(t.grad.numpy(), recorded,
                                      err_msg=f"torch {torch.__version__}")


def test_max_splits_the_gradient_evenly_among_ties(torch):
    data = [[1.0, 3.0, 3.0], [2.0, 2.0, 2.0]]
    a = Tensor(data, requires_grad=True)
    a.amax(1).sum().backward()
    np.testing.assert_allclose(a.grad, [[0, 0.5, 0.5], [1 / 3, 1 / 3, 1 / 3]])
    t = torch.tensor(data, requires_grad=True)
    t.amax(1).sum().backward()
    np.testing.assert_allclose(a.grad, t.grad.numpy(), rtol=1e-6)


def test_max_along_a_dim_gives_values_and_indices_and_the_gradient_to_the_index(torch):
    data = [[1.0, 3.0, 3.0], [2.0, 2.0, 2.0]]
    a, t = Tensor(data, requires_grad=True), torch.tensor(data, requires_grad=True)
    ours, theirs = a.max(1), t.max(1)
    values, indices = ours  # a named tuple, as torch's
    np.testing.assert_array_equal(values, theirs.values.detach().numpy())
    np.testing.assert_array_equal(ours.indices, theirs.indices.numpy())
    assert indices.dtype == np.int64
    (values * Tensor([1.0, 2.0])).sum().backward()
    (theirs.values * torch.tensor([1.0, 2.0])).sum().backward()
    np.testing.assert_array_equal(a.grad, t.grad.numpy())  # the first of ties takes it all
    assert a.max().item() == 3.0 and a.min(0).values.tolist() == [1.0, 2.0, 2.0]


# --- against PyTorch on random broadcasting shapes ---

numbers = st.floats(-2, 2, allow_nan=False)
BINARY = [lambda a, b: a + b, lambda a, b: a - b, lambda a, b: a * b,
          lambda a, b: a / (b * b + 1), lambda a, b: (a * a + 1) ** b]


@pytest.mark.parametrize("f", BINARY, ids=["add", "sub", "mul", "div", "pow"])
@settings(max_examples=20)
@given(st.data())
def test_broadcasting_matches_pytorch(torch, f, data):
    shapes = data.draw(hnp.mutually_broadcastable_shapes(num_shapes=2, max_dims=4, max_side=3))
    arrays = [data.draw(hnp.arrays(np.float64, s, elements=numbers)) for s in shapes.input_shapes]
    ours = [Tensor(a, requires_grad=True, dtype=np.float64) for a in arrays]
    theirs = [torch.tensor(a, requires_grad=True) for a in arrays]
    out, want = f(*ours), f(*theirs)
    np.testing.assert_allclose(out.data, want.detach().numpy(), rtol=1e-12)
    out.backward(np.ones(out.shape))
    want.backward(torch.ones(want.shape))
    for x, t in zip(ours, theirs):
        assert x.grad.shape == x.shape
        np.testing.assert_allclose(x.grad, t.grad.numpy(), rtol=1e-10, atol=1e-12)


def test_lesson_model_in_float32_matches_pytorch(torch):
    rng = np.random.default_rng(0)
    arrays = {"x": rng.random((300, 784), dtype=np.float32),
              "w1": (rng.standard_normal((784, 50)) / 28).astype(np.float32),
              "b1": np.zeros(50, np.float32),
              "w2": (rng.standard_normal((50, 1)) / 7).astype(np.float32),
              "b2": np.zeros(1, np.float32)}
    y = rng.integers(0, 10, 300).astype(np.float32)

    def model(x, w1, b1, w2, b2, y):
        return ((((x @ w1 + b1).relu() @ w2 + b2)[:, 0] - y) ** 2).mean()

    ours = {k: Tensor(a, requires_grad=True) for k, a in arrays.items()}
    theirs = {k: torch.from_numpy(a).requires_grad_() for k, a in arrays.items()}
    loss = model(**ours, y=y)
    want = model(**theirs, y=torch.from_numpy(y))
    loss.backward()
    want.backward()
    assert loss.dtype == np.float32 and loss.item() == pytest.approx(want.item(), rel=1e-5)
    for k in arrays:
        assert ours[k].grad.dtype == np.float32
        np.testing.assert_allclose(ours[k].grad, theirs[k].grad.numpy(), rtol=1e-4, atol=1e-8)


# --- dtypes ---

@pytest.mark.parametrize("data, dtype, want", [
    ([1.5, 2.0], None, np.float32), (np.ones(2), None, np.float64),
    (np.ones(2, np.float16), None, np.float16), (2.5, None, np.float32),
    (np.float64(2.5), None, np.float64),
    ([1, 2], None, np.int64), ([True], None, np.bool_),
    (np.ones(2), np.float64, np.float64), ([1, 2], np.float32, np.float32),
])
def test_constructor_dtypes(data, dtype, want):
    assert Tensor(data, dtype=dtype).dtype == want


def test_constructor_shares_an_array_of_the_wanted_dtype():
    array = np.ones(3, np.float32)
    t = Tensor(array)
    assert t.numpy() is array and t.data.numpy() is array  # .data: a Tensor sharing it


@pytest.mark.parametrize("other", [2, 2.5, np.float64(2.5), np.ones(3), [1, 2, 3],
                                   Tensor([1, 2, 3]), Tensor([True, False, True])],
                         ids=["int", "float", "np.float64", "float64 array", "list",
                              "int tensor", "bool tensor"])
@pytest.mark.parametrize("op", [lambda a, b: a + b, lambda a, b: b - a, lambda a, b: a * b,
                                lambda a, b: b / a, lambda a, b: a ** b],
                         ids=["add", "rsub", "mul", "rdiv", "pow"])
def test_other_operands_take_the_float_tensors_dtype(op, other):
    for dtype in (np.float32, np.float64):
        a = Tensor([1.0, 2.0, 3.0], requires_grad=True, dtype=dtype)
        out = op(a, other)
        out.sum().backward()
        # a float64 array is a float64 tensor to PyTorch, which promotes float32 to it
        want = np.float64 if isinstance(other, np.ndarray) else dtype
        assert out.dtype == want and a.grad.dtype == dtype


def test_int_tensors_compute_but_cannot_require_grad():
    labels = Tensor([1, 2, 3])
    assert (labels + 1).dtype == np.int64
    assert (labels / 2).dtype == np.float32  # true division makes floats, as in PyTorch
    assert (labels * 0.5).dtype == np.float32
    assert (labels == Tensor([1, 0, 3])).float().mean().item() == pytest.approx(2 / 3)
    with pytest.raises(TypeError, match="mean.*int64.*float"):
        labels.mean()  # PyTorch asks for a float tensor too
    with pytest.raises(TypeError, match="only float tensors can require grad.*int64"):
        Tensor([1, 2], requires_grad=True)


DTYPES = ["bool", "uint8", "int32", "int64", "float32", "float64"]


@pytest.mark.parametrize("other", [True, 3, -1, 2.5, *(f"tensor {d}" for d in DTYPES)], ids=str)
@pytest.mark.parametrize("dtype", DTYPES)
def test_dtypes_promote_as_in_pytorch(torch, dtype, other):
    """A tensor of each dtype meets a Python number or a tensor of each dtype: the result's
    dtype and entries are PyTorch's (uint8 - 1 wraps around to 255, int * 2.5 is float32)."""
    torch.set_default_dtype(torch.float32)  # PyTorch's own default (the fixture sets float64)

    def operand(make, data):
        return make(np.array(data).astype(other.split()[1])) if isinstance(other, str) else other

    ours = Tensor([1, 0, 1], dtype=dtype)
    theirs = torch.tensor(np.array([1, 0, 1]).astype(dtype))
    o_ours = operand(lambda a: Tensor(a, dtype=a.dtype), [1, 1, 0])
    o_theirs = operand(torch.tensor, [1, 1, 0])
    for op in (lambda a, b: a + b, lambda a, b: a * b, lambda a, b: b * a, lambda a, b: a / b,
               lambda a, b: a < b):
        with np.errstate(divide="ignore", invalid="ignore"):
            out = op(ours, o_ours)
        want = op(theirs, o_theirs)
        assert str(out.dtype) == str(want.dtype)
        np.testing.assert_array_equal(out.data, want.numpy())


def test_float_ops_of_int_tensors_are_float32_and_stay_float32_with_a_float32_parameter():
    counts = Tensor([0, 1, 2])
    param = Tensor([0.5, 0.5, 0.5], requires_grad=True)
    for f in (Tensor.exp, Tensor.log, Tensor.tanh, Tensor.sigmoid, Tensor.sqrt, Tensor.rsqrt,
              Tensor.softmax, Tensor.log_softmax, Tensor.logsumexp):
        with np.errstate(divide="ignore"):
            out = f(counts) + param
        assert out.dtype == np.float32, f.__name__
    (counts.exp() * param).sum().backward()
    assert param.grad.dtype == np.float32
    assert counts.relu().dtype == counts.abs().dtype == (-counts).dtype == np.int64


def test_uint8_arithmetic_wraps_around_as_in_pytorch():
    pixels = Tensor(np.array([0, 200, 255], np.uint8))
    assert (pixels - 1).dtype == np.uint8 and (pixels - 1).data.tolist() == [255, 199, 254]
    assert (pixels + pixels).data.tolist() == [0, 144, 254]
    assert (pixels * 0.5).dtype == np.float32


def test_mixed_float_dtypes_send_each_operand_a_gradient_in_its_own_dtype():
    a = Tensor([1.0, 2.0], requires_grad=True)
    b = Tensor([3.0, 4.0], requires_grad=True, dtype=np.float64)
    (a * b).sum().backward()
    assert a.grad.dtype == np.float32 and b.grad.dtype == np.float64


# --- requires_grad, skipped work, no_grad, accumulation ---

@pytest.mark.parametrize("a_grad, b_grad", [(True, True), (True, False), (False, True),
                                            (False, False)])
def test_requires_grad_propagates(a_grad, b_grad):
    a = Tensor([1.0, 2.0], requires_grad=a_grad)
    b = Tensor([3.0, 4.0], requires_grad=b_grad)
    out = a * b + 1
    assert out.requires_grad == (a_grad or b_grad)
    if not out.requires_grad:
        assert out._prev == () and out._rule is None and out._op == ""
        return
    out.sum().backward()
    for t, other in ((a, b), (b, a)):
        if t.requires_grad:
            np.testing.assert_array_equal(t.grad, other.data)
        else:
            assert t.grad is None


def _backward_peak_bytes(x_requires_grad):
    x = Tensor(np.ones((2000, 500), np.float32), requires_grad=x_requires_grad)
    w = Tensor(np.ones((500, 4), np.float32), requires_grad=True)
    loss = (x @ w).sum()
    tracemalloc.start()
    loss.backward()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak, x.numpy().nbytes


def test_no_input_gradient_matmul_for_an_input_that_needs_none():
    peak, x_bytes = _backward_peak_bytes(x_requires_grad=False)
    assert peak < x_bytes / 4
    peak, x_bytes = _backward_peak_bytes(x_requires_grad=True)  # the measure sees the matmul
    assert x_bytes <= peak < 1.5 * x_bytes  # and the input's gradient is not copied again


def test_no_grad_records_nothing():
    a = Tensor([1.0, 2.0], requires_grad=True)
    with engine.no_grad():
        out = (a * 2).exp().sum()
    assert not out.requires_grad and out._prev == () and out._rule is None
    assert (a * 2).requires_grad  # and the switch is back on after the block


def test_leaves_accumulate_and_interior_tensors_keep_a_grad_only_when_asked(torch):
    """PyTorch's rules: leaves accumulate across calls; an interior tensor has no .grad
    unless it called retain_grad() (and then it accumulates too); the graph is released by
    backward() unless retain_graph=True."""
    a, t = Tensor([1.0, 2.0], requires_grad=True), torch.tensor([1.0, 2.0], requires_grad=True)
    for x in (a, t):
        mid, kept = x * 3, x * 3
        kept.retain_grad()
        out = (mid * kept).sum()
        out.backward(retain_graph=True)
        out.backward()
        with pytest.warns(UserWarning, match="retain_grad"):
            assert mid.grad is None
        np.testing.assert_allclose(x.grad.numpy(), 2 * 18 * np.array([1.0, 2.0]))  # twice 18a
        np.testing.assert_allclose(kept.grad.numpy(), 2 * 3 * np.array([1.0, 2.0]))
        with pytest.raises(RuntimeError, match="second time"):
            out.backward()


def test_backward_on_a_leaf_seeds_it_and_accumulates_across_calls():
    """PyTorch: torch.tensor(1.5, requires_grad=True).backward() twice leaves grad 2."""
    a = Tensor(1.5, requires_grad=True)
    a.backward()
    assert a.grad.item() == 1.0
    a.backward()
    assert a.grad.item() == 2.0
    b = Tensor([1.5, -2.0], requires_grad=True)
    b.backward(np.array([1.0, 3.0]))
    b.backward(np.array([0.5, 0.5]))
    assert b.grad.tolist() == [1.5, 3.5]


def test_reused_node_collects_every_use():
    a = Tensor([0.5, -1.5], requires_grad=True)
    b = a * a  # used three times below
    (b + b * b + b.exp()).sum().backward()
    bd = a.numpy() ** 2
    np.testing.assert_allclose(a.grad, (1 + 2 * bd + np.exp(bd)) * 2 * a.data, rtol=1e-6)


def test_backward_never_writes_into_a_shared_gradient():
    a = Tensor([1.0, 2.0], requires_grad=True)
    b = Tensor([3.0, 4.0], requires_grad=True)
    (a + b).sum().backward()  # a and b may receive the very same array
    first_b = b.grad.clone()
    (a * 5).sum().backward()
    np.testing.assert_array_equal(b.grad, first_b)
    np.testing.assert_array_equal(a.grad, [6.0, 6.0])


# graphs whose leaves could end up sharing a gradient array: the same g to both operands,
# broadcast (read-only) views, reshaped or sliced views, g passed on unchanged
OWNERSHIP = {
    "add": lambda a, b: (a + b) * 1,
    "add_root": lambda a, b: a + b,
    "add_interior": lambda a, b: (a + b) * 2 + a,
    "sum": lambda a, b: a.sum() + b.sum(),
    "mean": lambda a, b: (a.mean() * b).sum(),
    "reshape": lambda a, b: a.reshape(-1).sum() + b.T.sum(),
    "cat": lambda a, b: engine.cat([a, b]).sum(),
    "stack": lambda a, b: engine.stack([a, b]).sum(),
    "clone": lambda a, b: a.clone() + b.clone(),
    "index": lambda a, b: a[0] + b[:, 1],
    "float": lambda a, b: a.double() + b.double(),
    "matmul_vector": lambda a, b: a[0] @ b,
    "where": lambda a, b: engine.where(MASK, a, b),
}


@pytest.mark.parametrize("build", OWNERSHIP.values(), ids=OWNERSHIP.keys())
def test_every_leaf_owns_a_writable_gradient(build):
    a = Tensor(np.ones((3, 3)), requires_grad=True)
    b = Tensor(np.ones((3, 3)), requires_grad=True)
    out = build(a, b)
    nodes = engine.topological_order(out)
    for node in nodes:
        if not node.is_leaf:
            node.retain_grad()  # a retained gradient must not share memory with a leaf's either
    out.backward(np.ones(out.shape))
    others = [node.grad.numpy() for node in nodes if node.grad is not None]
    for leaf in (a, b):
        assert leaf.grad.numpy().flags.writeable
        assert sum(np.shares_memory(leaf.grad.numpy(), g) for g in others) == 1  # its own


def test_leaves_no_longer_share_a_gradient_issue_11_repro():
    a, b = Tensor([1.0, 2.0], requires_grad=True), Tensor([3.0, 4.0], requires_grad=True)
    (a + b).backward(np.array([1.0, 1.0]))
    assert a.grad is not b.grad
    a.grad *= 0.5
    np.testing.assert_array_equal(b.grad, [1.0, 1.0])
    w = Tensor(np.ones((2, 3)), requires_grad=True)
    (w * 4).sum().backward()
    np.clip(w.grad, -1, 1, out=w.grad)  # in-place gradient clipping, numpy's way
    w.grad.clamp_(-2, 0.5)  # and PyTorch's
    np.testing.assert_array_equal(w.grad, np.full((2, 3), 0.5))


@pytest.mark.parametrize("shape, kwargs", [((0,), {}), ((0, 3), {}), ((0, 3), {"dim": 0}),
                                           ((3, 0), {"dim": 1}), ((3, 0), {"dim": 0})])
def test_mean_of_no_entries_is_nan_as_in_pytorch(torch, shape, kwargs):
    ours = Tensor(np.zeros(shape), requires_grad=True, dtype=np.float64)
    theirs = torch.zeros(shape, requires_grad=True)
    out, want = ours.mean(**kwargs), theirs.mean(**kwargs)
    np.testing.assert_array_equal(out.data, want.detach().numpy())  # nan where no entries
    out.sum().backward()
    want.sum().backward()
    assert ours.grad.shape == shape


@pytest.mark.parametrize("x", [[0.0, -1.0, 1e-30, math.inf, math.nan], [1, 10, 1000],
                               [True, False], [], 100.0],
                         ids=["edges", "ints", "bools", "empty", "0-d"])
def test_log10_at_its_edges_and_of_ints_and_bools_matches_pytorch(x):
    torch = pytest.importorskip("torch")  # with its default float32, as ours
    ours, theirs = Tensor(x), torch.tensor(x)
    got, want = ours.log10(), theirs.log10()
    assert str(got.dtype) == str(want.dtype)
    np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-6)
    if ours.dtype.kind == "f":  # ints and bools cannot require grad
        a, b = Tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
        a.log10().sum().backward()
        b.log10().sum().backward()
        np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-6)


def test_20000_op_chain_backprops():
    x = Tensor(1.0, requires_grad=True, dtype=np.float64)
    y = x
    for _ in range(20_000):
        y = y * 0.9999
    y.backward()
    assert x.grad.item() == pytest.approx(0.9999 ** 20_000, rel=1e-9)


# --- comparisons, numerics at the edges, the small API ---

@pytest.mark.parametrize("op", ["__lt__", "__le__", "__gt__", "__ge__", "__eq__", "__ne__"])
def test_comparisons_give_bool_tensors_outside_the_graph(op):
    a = np.array([[1.0, 2.0, 3.0]])
    b = np.array([[2.0], [1.0]])
    out = getattr(Tensor(a, requires_grad=True), op)(Tensor(b))
    assert out.dtype == np.bool_ and not out.requires_grad
    np.testing.assert_array_equal(out.data, getattr(a, op)(b))
    t = Tensor(a)
    assert t in {t}  # hashable by identity despite __eq__


def test_logsumexp_and_log_softmax_are_stable_for_large_logits():
    logits = Tensor([[1000.0, 1000.0, -1000.0], [0.0, 1000.0, 0.0]], requires_grad=True)
    lse = logits.logsumexp(axis=1)
    np.testing.assert_allclose(lse.data, [1000 + math.log(2), 1000], rtol=1e-6)
    logp = logits.log_softmax(axis=1)
    assert np.all(np.isfinite(logp.data))
    (lse.sum() + logp[:, 0].sum()).backward()
    assert np.all(np.isfinite(logits.grad))
    assert Tensor([-np.inf, -np.inf]).logsumexp().item() == -np.inf


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("gap", [0, 20, 40, 44, 60, 80, 90, 100, 400, 720, 800])
def test_logsumexp_keeps_full_precision_for_rows_far_below_the_largest(dtype, gap):
    # Row 0 holds the array's largest entries; every other row sits `gap` below it, so a
    # shift by the array's largest entry alone would flush their smaller terms to zero.
    rng = np.random.default_rng(gap)
    x = rng.standard_normal((16, 27)) * 4
    x[1:] -= gap
    x = x.astype(dtype)
    wide = x.astype(np.longdouble)
    top = wide.max(axis=1, keepdims=True)
    exact = (top + np.log(np.exp(wide - top).sum(axis=1, keepdims=True)))[:, 0]
    got = Tensor(x).logsumexp(axis=1).numpy()
    eps = np.finfo(dtype).eps
    np.testing.assert_allclose(got, exact.astype(np.float64), rtol=4 * eps, atol=0)
    probs = Tensor(x).softmax(axis=1).numpy()
    np.testing.assert_allclose(probs.sum(axis=1), 1, rtol=32 * eps)


def test_small_api():
    t = Tensor([[1.0, 2.0, 3.0]], requires_grad=True, label="w")
    assert t.shape == (1, 3) and t.ndim == 2 and t.dtype == np.float32
    assert t.sum().item() == 6.0 and float(t.max()) == 3.0
    assert repr(t * 2) == "tensor([[2., 4., 6.]], grad_fn=<MulBackward0>)"
    assert repr(Tensor([1.5], dtype=np.float64)) == "tensor([1.5000], dtype=torch.float64)"
    assert "label='w'" in repr(t)


# --- PyTorch's names, for the lesson and everyday PyTorch code ---

def test_g_is_a_free_slot_the_engine_never_reads():
    w = Tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    with pytest.raises(AttributeError):
        getattr(w, "g")  # unset until someone stores a gradient there
    w.g = "anything"  # the lesson stores hand-computed gradients here
    plain = Tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    for t in (w, plain):
        (t @ t).sum().backward()
    np.testing.assert_array_equal(w.grad, plain.grad)
    assert w.g == "anything"


def test_numpy_sees_a_tensor_as_its_array():
    t = Tensor([[1.0, 2.0], [3.0, 4.0]])
    assert np.allclose(t, [[1, 2], [3, 4]]) and not np.allclose(t, 0)
    assert np.shares_memory(np.asarray(t), t.data)
    assert np.asarray(t, dtype=np.float64).dtype == np.float64
    assert not np.shares_memory(np.array(t, copy=True), t.data)


def test_requires_grad_detach_clone_item_numpy():
    a = Tensor([1.0, 2.0])
    assert a.requires_grad_() is a and a.requires_grad
    b = a * 2
    d = b.detach()
    assert not d.requires_grad and d._prev == () and np.shares_memory(d, b)
    c = b.clone()
    assert c.requires_grad and c._prev == (b,) and not np.shares_memory(c, b)
    assert b.sum().item() == 6.0 and b.numpy() is b.data.numpy()
    assert not b.data.requires_grad and b.data.is_leaf  # PyTorch's .data: outside the graph
    assert a.requires_grad_(False) is a and not a.requires_grad
    with pytest.raises(TypeError, match="only float tensors can require grad.*int64"):
        Tensor([1, 2]).requires_grad_()
    with pytest.raises(RuntimeError, match=r"made by '\*': only leaves.*detach"):
        b.requires_grad_(False)


def test_casts_follow_pytorch_and_send_gradients_back_in_the_old_dtype(torch):
    x32 = Tensor([1.5, -2.0], requires_grad=True)
    assert x32.float() is x32 and x32.double().dtype == np.float64
    assert Tensor([1, 2]).float().dtype == np.float32 and x32.long().data.tolist() == [1, -2]
    w = np.array([0.25, 3.0])
    (x32.double() * w).sum().backward()
    t = torch.tensor([1.5, -2.0], dtype=torch.float32, requires_grad=True)
    (t.double() * torch.tensor(w)).sum().backward()
    assert x32.grad.dtype == np.float32
    np.testing.assert_array_equal(x32.grad, t.grad.numpy())


@pytest.mark.parametrize("reduce", ["all", "any"])
@pytest.mark.parametrize("kwargs", [{}, {"dim": 1}, {"axis": 0, "keepdims": True},
                                    {"dim": -1, "keepdim": True}], ids=str)
def test_all_and_any_match_pytorch(torch, reduce, kwargs):
    data = np.array([[1.0, 0.0], [2.0, 3.0]])
    out = getattr(Tensor(data), reduce)(**kwargs)
    torch_kwargs = {{"axis": "dim", "keepdims": "keepdim"}.get(k, k): v for k, v in kwargs.items()}
    want = getattr(torch.tensor(data), reduce)(**torch_kwargs)
    assert out.dtype == np.bool_ and not out.requires_grad
    np.testing.assert_array_equal(out.data, want.numpy())



ROWS = [[1.0, 5.0, 5.0], [math.nan, 2.0, 0.0]]  # a tie (the first wins) and a nan (it wins)


@pytest.mark.parametrize("reduce", ["argmax", "argmin"])
@pytest.mark.parametrize("data, kwargs", [
    (ROWS, {}), (ROWS, {"dim": 1}), (ROWS, {"dim": -1}), (ROWS, {"dim": 0, "keepdim": True}),
    (ROWS, {"keepdim": True}), ([[1, 3], [4, 2]], {"dim": 0}), (3.0, {}), (3.0, {"dim": 0}),
    (np.zeros((0, 3)), {"dim": 1}), (np.zeros((0, 3)), {"dim": 1, "keepdim": True}),
], ids=str)
def test_argmax_and_argmin_match_pytorch(torch, reduce, data, kwargs):
    data = np.asarray(data)
    out = getattr(Tensor(data, requires_grad=data.dtype.kind == "f"), reduce)(**kwargs)
    want = getattr(torch.tensor(data), reduce)(**kwargs)
    assert out.dtype == np.int64 and not out.requires_grad
    assert out.shape == want.shape
    np.testing.assert_array_equal(out, want.numpy())


@pytest.mark.parametrize("reduce", ["argmax", "argmin"])
@pytest.mark.parametrize("shape, kwargs", [((0, 3), {}), ((3, 0), {"dim": 1}), ((0,), {"dim": 0})],
                         ids=str)
def test_argmax_and_argmin_of_no_entries_fail_as_in_pytorch(torch, reduce, shape, kwargs):
    with pytest.raises(IndexError):
        getattr(torch.zeros(shape), reduce)(**kwargs)
    with pytest.raises(IndexError, match=rf"{reduce}\(\).*{re.escape(str(shape))}"):
        getattr(Tensor(np.zeros(shape, np.float32)), reduce)(**kwargs)


@pytest.mark.parametrize("shape", [(4, 2), (0, 2), (5,), ()], ids=str)
def test_len_is_the_first_dim_as_in_pytorch(torch, shape):
    ours, theirs = Tensor(np.zeros(shape, np.float32)), torch.zeros(shape)
    if not shape:
        with pytest.raises(TypeError, match="len\\(\\) of a 0-d tensor"):
            len(theirs)
        with pytest.raises(TypeError, match="len\\(\\) of a 0-d tensor"):
            len(ours)
    else:
        assert len(ours) == len(theirs) == shape[0]


# --- factories ---

@pytest.mark.parametrize("factory", ["randn", "rand", "zeros", "ones"])
def test_factories_take_sizes_as_pytorch_does(factory):
    make = getattr(engine, factory)
    for shape in (make(2, 3).shape, make((2, 3)).shape, make([2, 3]).shape):
        assert shape == (2, 3)
    assert make(()).shape == () and make(0).shape == (0,)
    assert make(2).dtype == np.float32 and make(2, dtype=np.float64).dtype == np.float64
    leaf = make(2, requires_grad=True)
    assert leaf.requires_grad and leaf._prev == ()


def test_zeros_and_ones_of_any_dtype():
    assert engine.zeros(2, 2).data.tolist() == [[0, 0], [0, 0]]
    assert engine.ones(3, dtype=np.int64).data.tolist() == [1, 1, 1]
    assert engine.ones(3, dtype=np.int64).dtype == np.int64


def test_manual_seed_repeats_randn_and_rand():
    engine.manual_seed(7)
    first = engine.randn(5).data, engine.rand(5).data
    engine.manual_seed(7)
    again = engine.randn(5).data, engine.rand(5).data
    engine.manual_seed(8)
    other = engine.randn(5).data
    np.testing.assert_array_equal(first[0], again[0])
    np.testing.assert_array_equal(first[1], again[1])
    assert not np.array_equal(first[0], other)


def test_randn_is_standard_normal_and_rand_uniform():
    engine.manual_seed(0)
    normal, uniform = engine.randn(200_000).data, engine.rand(200_000).data
    assert abs(normal.mean()) < 0.01 and abs(normal.std() - 1) < 0.01
    assert abs(np.mean(np.abs(normal) < 1) - 0.6827) < 0.01  # the one-sigma share
    assert uniform.min() >= 0 and uniform.max() < 1 and abs(uniform.mean() - 0.5) < 0.01


@pytest.mark.parametrize("args, kwargs", [((5,), {}), ((2, 8, 2), {}), ((0, 1, 0.25), {}),
                                          ((5,), {"dtype": np.float64}), ((1.5,), {})],
                         ids=str)
def test_arange_matches_pytorch(torch, args, kwargs):
    out = engine.arange(*args, **kwargs)
    torch_kwargs = {k: getattr(torch, np.dtype(v).name) if k == "dtype" else v
                    for k, v in kwargs.items()}
    want = torch.arange(*args, **torch_kwargs)
    if "dtype" not in kwargs and want.dtype == torch.float64:
        want = want.float()  # the fixture makes float64 torch's default; ours stays float32
    assert str(out.dtype) == str(want.dtype)
    np.testing.assert_array_equal(out.data, want.numpy())


def test_tensor_copies_its_data_as_torch_tensor_does():
    source = np.array([1.0, 2.0], np.float32)
    t = engine.tensor(source, requires_grad=True)
    source[0] = 9.0
    assert t.data.tolist() == [1.0, 2.0] and t.requires_grad and t.dtype == np.float32
    assert engine.tensor([1, 2]).dtype == np.int64 and engine.tensor(2.5).dtype == np.float32
    assert engine.tensor([1, 2], dtype=np.float64).dtype == np.float64
    u = engine.tensor(t)
    assert not np.shares_memory(u.data, t.data) and not u.requires_grad


def test_engine_tensor_is_callable_however_engine_tensor_was_imported():
    import engine.tensor as module  # binds engine.tensor to the module

    assert module.Tensor is Tensor
    assert engine.tensor([1.0, 2.0]).data.tolist() == [1.0, 2.0]


def test_importing_value_loads_no_numpy():
    code = ("import sys; from engine import Value; import engine; engine.Value(1.0); "
            "assert 'numpy' not in sys.modules, 'numpy was imported'")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_every_module_of_the_packages_can_be_the_first_one_imported():
    # a cycle between engine's files breaks only the import that enters it at the wrong file
    # (`import engine.gradients` first once did), so each module starts a fresh import
    code = """if True:
        import pathlib, sys, importlib, warnings
        warnings.simplefilter("error")
        names = [".".join(p.with_suffix("").parts) for pkg in ("engine", "nn", "viz")
                 for p in sorted(pathlib.Path(pkg).rglob("*.py")) if p.stem != "__main__"]
        for name in names:
            for loaded in [m for m in sys.modules if m.split(".")[0] in ("engine", "nn", "viz")]:
                del sys.modules[loaded]
            importlib.import_module(name.removesuffix(".__init__"))
        print(len(names))
    """
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          cwd=Path(__file__).parents[1])
    assert done.returncode == 0, done.stderr
    assert int(done.stdout) > 40


@pytest.mark.parametrize("make, error, message", [
    (lambda: engine.randn(), TypeError, r"randn needs a size, once: e.g. randn\(2, 3\)"),
    (lambda: engine.zeros(2, -1), ValueError, r"zeros: a size is non-negative ints, got \(2, -1\)"),
    (lambda: engine.ones(2.5), ValueError, r"ones: a size is non-negative ints, got \(2.5,\)"),
    (lambda: engine.zeros(2, device="cuda"), RuntimeError, r"'cuda'.*CPU only"),
], ids=["no size", "negative", "float size", "device"])
def test_factory_errors_name_what_was_wrong(make, error, message):
    with pytest.raises(error, match=message):
        make()


# --- every error says what was wrong ---

@pytest.mark.parametrize("make, error, message", [
    (lambda: Tensor("abc"), TypeError, r"must be numbers.*got str 'abc'"),
    (lambda: Tensor(None), TypeError, r"must be numbers.*got NoneType"),
    (lambda: Tensor(np.array([object()])), TypeError, r"must be numbers.*ndarray.*object"),
    (lambda: Tensor([1 + 2j]), TypeError, r"must be numbers.*complex"),
    (lambda: Tensor([[1.0], [1.0, 2.0]]), ValueError, r"rectangular"),
    (lambda: Tensor([1.0], dtype=str), TypeError, r"dtype must be a bool, int or float"),
    (lambda: Tensor([1.0]) + "a", TypeError, r"Tensor \+ operand must be numbers.*got str"),
    (lambda: Tensor(np.ones((2, 3))) + Tensor(np.ones(4)), ValueError,
     r"Tensor \+: shapes \(2, 3\) and \(4,\) do not broadcast"),
    (lambda: Tensor(np.ones((2, 3))) * np.ones((3, 2)), ValueError,
     r"Tensor \*: shapes \(2, 3\) and \(3, 2\)"),
    (lambda: Tensor(np.ones(3)) < Tensor(np.ones(2)), ValueError,
     r"Tensor <: shapes \(3,\) and \(2,\)"),
    (lambda: Tensor(np.ones((2, 3))) @ Tensor(np.ones((4, 5))), ValueError,
     r"Tensor @: shapes \(2, 3\) and \(4, 5\) do not fit; the left's last dim \(3\) must "
     r"equal the right's second-to-last dim \(4\)"),
    (lambda: Tensor(np.ones(3)) @ Tensor(2.0), ValueError, r"at least one dim"),
    (lambda: Tensor(np.ones(6)).reshape(4, 2), ValueError,
     r"cannot reshape a tensor of shape \(6,\).*into \(4, 2\)"),
    (lambda: Tensor(np.ones(2), requires_grad=True).backward(), RuntimeError,
     r"left out only for a one-entry output.*shape \(2,\)"),
    (lambda: Tensor(np.ones(2), requires_grad=True).backward(np.ones(3)), ValueError,
     r"gradient=\) has shape \(3,\).*has shape \(2,\)"),
    (lambda: Tensor(1.0).backward(), RuntimeError, r"does not require grad"),
    (lambda: Tensor(np.ones(2)).item(), ValueError, r"one-entry tensor.*\(2,\)"),
    (lambda: Tensor(np.ones(3)) ** Tensor(np.ones(2)), ValueError,
     r"Tensor \*\*: shapes \(3,\) and \(2,\) do not broadcast"),
    (lambda: Tensor(np.ones((2, 3))).sum(axis=0, dim=1), TypeError,
     r"sum: pass dim= or its numpy name axis=, not both"),
    (lambda: Tensor(np.ones((2, 3))).squeeze(2), IndexError,
     r"squeeze: dim 2 is out of range for 2 dims \(from -2 to 1\)"),
    (lambda: Tensor(np.ones((2, 3))).unsqueeze(-4), IndexError,
     r"unsqueeze: dim -4 is out of range for 3 dims"),
    (lambda: Tensor(np.ones((2, 3, 4))).t(), ValueError, r"t\(\) transposes tensors of at most 2"),
    (lambda: Tensor(np.ones(3)).tril(), ValueError, r"tril needs a tensor of at least 2 dims"),
    (lambda: Tensor(np.ones(3)).clamp(), TypeError, r"clamp needs min=, max= or both"),
    (lambda: engine.where(np.ones(3), 1.0, 2.0), TypeError,
     r"where takes a bool mask \(e.g. x > 0 or mask == 0\), got float64"),
    (lambda: engine.where(MASK, np.ones(2), 0.0), ValueError,
     r"Tensor where: shapes \(3,\) and \(2,\) and \(\) do not broadcast"),
    (lambda: Tensor(np.ones(3)).masked_fill(np.ones((2, 3), bool), 0.0), ValueError,
     r"masked_fill: a mask of shape \(2, 3\) does not broadcast to the tensor's shape \(3,\)"),
    (lambda: engine.cat([Tensor(np.ones((2, 3))), Tensor(np.ones((3, 2)))]), ValueError,
     r"cat: shapes \(2, 3\), \(3, 2\) do not fit together along dim 0"),
    (lambda: engine.cat(Tensor(np.ones(3))), TypeError, r"cat takes a non-empty list or tuple"),
    (lambda: engine.cat([Tensor(np.ones(3))], dim=1), IndexError, r"cat: dim 1 is out of range"),
    (lambda: engine.stack([Tensor(np.ones(3)), Tensor(np.ones(2))]), ValueError,
     r"stack needs tensors of one shape"),
    (lambda: engine.stack([]), TypeError, r"stack takes a non-empty list or tuple"),
], ids=["string", "None", "object array", "complex", "ragged", "bad dtype", "string operand",
        "broadcast", "broadcast array", "compare", "matmul", "matmul 0-d", "reshape",
        "non-scalar backward", "grad shape", "no graph", "item", "pow", "axis and dim",
        "squeeze dim", "unsqueeze dim", "t of 3-d", "tril of 1-d", "clamp without bounds",
        "where mask", "where shapes", "masked_fill mask", "cat shapes", "cat of a tensor",
        "cat dim", "stack shapes", "stack of nothing"])
def test_errors_name_what_was_wrong(make, error, message):
    with pytest.raises(error, match=message):
        make()


def test_non_shape_value_errors_keep_numpys_message():
    from engine.tensor import _elementwise

    def refuses(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        raise ValueError("numpy's own reason")
    with pytest.raises(ValueError, match="numpy's own reason"):
        _elementwise(refuses, Tensor([1.0, 2.0]), Tensor([3.0, 4.0]), "+")


@pytest.mark.parametrize("make, shown", [(lambda a, y: a - y, "-y (digit)"),
                                         (lambda a, y: a / y, "y (digit)")])
def test_an_operand_without_grad_keeps_its_name_through_a_composite(make, shown):
    a = Tensor(np.ones(3), requires_grad=True, label="a")
    y = Tensor(np.arange(1.0, 4.0), label="y (digit)")
    out = make(a, y)
    assert [p.label for p in out._prev] == ["a", shown]
    assert y.label == "y (digit)"


def test_a_one_entry_tensor_converts_to_int_and_indexes_as_in_pytorch():
    t = Tensor(np.array([3]))
    assert int(t) == 3 and list(range(t)) == [0, 1, 2] and "abcd"[t] == "d"
    assert int(Tensor(2.7)) == 2
    with pytest.raises(TypeError, match="only integer tensors"):
        range(Tensor(2.0))
    with pytest.raises(ValueError, match="one-entry"):
        int(Tensor(np.arange(3)))


def test_a_cast_to_ints_leaves_the_graph_as_in_pytorch() -> None:
    x = Tensor([1.5, -2.5, 0.0], requires_grad=True)
    rounded = x.long()
    assert rounded.dtype == np.int64 and not rounded.requires_grad and rounded._prev == ()
    assert rounded.float().requires_grad is False  # and it does not come back into it
    y = x.float() * 2.0  # a float cast of a float stays in the graph
    y.sum().backward()
    np.testing.assert_array_equal(x.grad, [2.0, 2.0, 2.0])


def test_arange_with_a_zero_step_says_so() -> None:
    with pytest.raises(ValueError, match="arange: step must be nonzero"):
        engine.arange(0, 5, 0)


def test_clamp_with_a_bound_that_does_not_broadcast_names_itself() -> None:
    with pytest.raises(ValueError, match=r"clamp.*\(2, 3\).*\(2,\)"):
        Tensor(np.ones((2, 3), np.float32)).clamp(min=[0.0, 1.0])


def test_masked_fill_keeps_the_tensors_dtype_for_a_tensor_value_too() -> None:
    x = Tensor(np.zeros((2, 2), np.float32), requires_grad=True)
    value = Tensor(2.0, requires_grad=True, dtype=np.float64)
    filled = x.masked_fill(np.eye(2, dtype=bool), value)
    assert filled.dtype == np.float32
    filled.sum().backward()
    assert value.grad == 2.0 and value.grad.dtype == np.float64  # two entries took the value


def test_transpose_of_a_dim_out_of_range_names_it() -> None:
    with pytest.raises(IndexError, match="transpose: dim 5 is out of range for 2 dims"):
        Tensor(np.ones((2, 3), np.float32)).transpose(0, 5)


# --- in-place updates, as PyTorch makes them (issue 21, 3) ---

def test_an_update_inside_no_grad_changes_the_parameter_itself():
    p = Tensor([1.0, 2.0], requires_grad=True)
    (p * p).sum().backward()
    held = p  # an optimizer holds the object: the update must reach it
    with engine.no_grad():
        p -= 0.1 * p.grad
    assert p is held and p.tolist() == pytest.approx([0.8, 1.6])
    assert p.requires_grad and p.is_leaf
    p.data += -0.5 * p.grad  # the lectures' form: through .data, outside no_grad
    assert p.tolist() == pytest.approx([-0.2, -0.4])


def test_the_lessons_hand_written_sgd_steps_match_pytorchs(torch):
    """fast.ai's 04_minibatch_training updates weights by hand three ways: `w -= w.grad * lr`
    under no_grad, then `w.grad.zero_()` or `w.grad.data.zero_()`; each zeroes the gradient
    in place, so the next backward accumulates into the same tensor."""
    x = np.linspace(-1, 1, 6).reshape(2, 3)
    runs = []
    for lib in (engine, torch):
        w = lib.tensor(x, requires_grad=True)
        seen = []
        for zero in (lambda g: g.zero_(), lambda g: g.data.zero_()):
            (w * w * w).sum().backward()
            grad = w.grad
            with lib.no_grad():
                w -= w.grad * 0.1
            zero(w.grad)
            assert w.grad is grad and w.is_leaf and w.requires_grad
            seen += [w.detach().numpy().copy(), np.asarray(w.grad).copy()]
        runs.append(seen)
    for ours, theirs in zip(*runs):
        np.testing.assert_allclose(ours, theirs, rtol=1e-12)
    assert not runs[0][-1].any()


def test_an_in_place_op_on_a_leaf_that_requires_grad_is_refused_while_recording():
    p = Tensor([1.0, 2.0], requires_grad=True)
    for update in (lambda: p.__isub__(1.0), lambda: p.__setitem__(0, 5.0), lambda: p.zero_()):
        with pytest.raises(RuntimeError, match="leaf tensor that requires grad.*no_grad"):
            update()
    assert p.tolist() == [1.0, 2.0]


def test_in_place_ops_on_graph_tensors_record_the_graph_as_pytorch_does(torch):
    """part 3's `self.out += self.bias`, part 4's `dlogits[range(n), Yb] -= 1` and `dlogits /= n`."""
    x = np.array([[0.5, -1.0, 2.0], [1.5, 0.0, -0.5]])
    results = []
    for lib, make in ((engine, lambda a: Tensor(a, requires_grad=True)),
                      (torch, lambda a: torch.tensor(a, requires_grad=True))):
        w = make(x)
        out = w * 2
        out += 1.0
        out[0, 1] = w[1, 0] * 3
        out[[0, 1], [2, 2]] -= 1
        out /= 2
        out.exp().sum().backward()
        results.append((out.detach().numpy().copy(), w.grad.numpy().copy()))
    np.testing.assert_allclose(results[0][0], results[1][0], rtol=1e-12)
    np.testing.assert_allclose(results[0][1], results[1][1], rtol=1e-12)


def test_in_place_ops_that_read_their_own_tensor_backprop_through_its_old_value():
    """`d[i] -= 1` reads d[i] before writing it, `h += h.exp()` reads h: each read is of
    the tensor before the change, so the result is not its own parent (PyTorch's graph
    links ops, not tensors). After a softmax this works here; PyTorch refuses, having
    saved the softmax's output, which it changed in place."""
    x = np.random.default_rng(0).standard_normal((2, 3))
    picks = (range(2), engine.tensor([2, 0]))
    inputs = [Tensor(x, requires_grad=True, dtype=np.float64) for _ in range(3)]

    def in_place(a):
        d = a.softmax(1)
        d[picks] -= 1
        d += d.exp()
        return d

    ones_at_picks = np.zeros((2, 3))
    ones_at_picks[[0, 1], [2, 0]] = 1

    def out_of_place(a):
        d = a.softmax(1) - Tensor(ones_at_picks)
        return d + d.exp()
    w = np.random.default_rng(1).standard_normal((2, 3))
    for f, a in [(in_place, inputs[0]), (out_of_place, inputs[1])]:
        (f(a) * w).sum().backward()
    np.testing.assert_allclose(inputs[0].grad, inputs[1].grad, rtol=1e-12)
    assert gradcheck(_weighted(in_place, w), [inputs[2]])


def test_in_place_ops_on_plain_tensors_write_into_their_memory(torch):
    counts = Tensor(np.zeros((3, 3), np.int32))  # part 1's N[ix1, ix2] += 1
    view = counts.numpy()
    for i, j in [(0, 1), (0, 1), (2, 2)]:
        counts[i, j] += 1
    assert view[0, 1] == 2 and view[2, 2] == 1 and counts.dtype == np.int32
    grads = Tensor(np.zeros((4, 2)))  # part 4's dC[ix] += demb[k, j]
    for ix, row in [(1, [1.0, 2.0]), (1, [0.5, 0.5]), (3, [1.0, 1.0])]:
        grads[Tensor(ix)] += Tensor(row)
    np.testing.assert_array_equal(grads, [[0, 0], [1.5, 2.5], [0, 0], [1, 1]])
    with pytest.raises(TypeError, match="float.*cannot be written into this int32 tensor"):
        counts += 0.5  # as PyTorch: a float result does not fit an int tensor
    g = Tensor([3.0, -4.0])
    assert g.zero_() is g and g.tolist() == [0.0, 0.0] and g.fill_(2).tolist() == [2.0, 2.0]


# --- exact arithmetic at the edges (issue 21, 5 to 7, 15 and the smaller ones) ---

def test_minimum_and_reversed_subtraction_keep_integer_and_unsigned_meaning(torch):
    u = np.array([0, 3], np.uint8)
    assert Tensor(u).minimum(Tensor(u[::-1].copy())).tolist() == [0, 0]
    big = np.array([np.iinfo(np.int64).min, 5])
    assert Tensor(big).minimum(Tensor(np.array([0, 0]))).tolist() == [big[0], 0]
    pixels = np.array([0, 100, 255], np.uint8)
    ours = 1.0 - Tensor(pixels)
    theirs = 1.0 - torch.tensor(pixels)
    assert ours.tolist() == theirs.tolist() == [1.0, -99.0, -254.0]
    assert ours.dtype == np.float32


def test_division_is_exact_where_multiplying_by_the_reciprocal_is_not(torch):
    assert (Value(49) / Value(49)).data == 1.0
    f32 = np.float32
    assert (Tensor(np.array([41], f32)) / Tensor(np.array([41], f32))).item() == 1.0
    assert (Value(-2.0) ** (Value(49) / Value(49))).data == -2.0
    for a, b in [(1e-300, 1e-310), (0.0, 1e-310), (1.0, 3.0)]:
        want = (torch.tensor(a, dtype=torch.float64) / torch.tensor(b, dtype=torch.float64)).item()
        assert (Value(a) / Value(b)).data == want
        assert (Tensor(a, dtype=np.float64) / Tensor(b, dtype=np.float64)).item() == want
    for engine_value in (Value, lambda v: Tensor(v, requires_grad=True, dtype=np.float64)):
        a, b = engine_value(1e-160), engine_value(1e-160)
        (a / b).backward()
        assert float(b.grad.item() if hasattr(b.grad, "item") else b.grad) == -1e160


def test_an_integer_power_of_an_integer_tensor_stays_integer(torch):
    assert (3 ** Tensor(35)).item() == 3 ** 35 and (3 ** Tensor(35)).dtype == np.int64
    assert (Tensor([2, 3]) ** 2).dtype == np.int64


def test_integers_to_negative_integer_powers_are_cs():
    """As PyTorch's: a tensor of exponents below 0 gives 1 for 1, -1 or 1 for -1 (odd or even)
    and 0 for every other base, 0 included (numpy refuses); a number exponent below 0 is
    refused, with PyTorch's error."""
    base = Tensor(np.array([0, 1, -1, 2, -2, 3, 0, -1, 5]))
    exponent = Tensor(np.array([-1, -3, -3, -1, -2, -5, 0, -2, 2]))
    assert (base ** exponent).tolist() == [0, 1, -1, 0, 0, 0, 1, 1, 25]
    assert (base ** exponent).dtype == np.int64
    with pytest.raises(RuntimeError, match="Integers to negative integer powers are not allowed"):
        base ** -1


def test_integers_to_negative_integer_powers_as_pytorchs(torch):
    rng = np.random.default_rng(0)
    base, exponent = rng.integers(-3, 4, 200), rng.integers(-4, 4, 200)
    for dtype in (np.int64, np.int32, np.uint8):
        b = base.astype(dtype) if dtype != np.uint8 else np.abs(base).astype(dtype)
        ours = Tensor(b) ** Tensor(exponent)
        theirs = torch.from_numpy(b) ** torch.from_numpy(exponent)
        assert ours.dtype == theirs.numpy().dtype
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_squares_cubes_and_inverse_squares_are_pytorchs_products(torch, dtype):
    """PyTorch computes a float tensor ** 2, 3 or -2 as x * x, x * x * x and 1 / (x * x): a
    cube (GELU's in minGPT) rounds twice, so a third of them differ in the last bit from
    pow's correctly rounded one. Its gradient 3 * x ** 2 is then PyTorch's too."""
    x = np.random.default_rng(0).standard_normal(10_000).astype(dtype) * 3
    x[:6] = [0.0, -0.0, np.inf, -np.inf, np.nan, 1e-30]
    for p in (2, 3, -2, 2.0, 3.0, -2.0):
        ours = Tensor(x, requires_grad=True)
        theirs = torch.from_numpy(x).requires_grad_()
        out = ours ** p
        expected = theirs ** p
        assert out.dtype == dtype
        np.testing.assert_array_equal(out.numpy(), expected.detach().numpy(), err_msg=str(p))
        if p > 0:
            g = np.random.default_rng(1).standard_normal(x.shape).astype(dtype)
            out.backward(Tensor(g))
            expected.backward(torch.from_numpy(g))
            np.testing.assert_array_equal(ours.grad.numpy(), theirs.grad.numpy(), err_msg=str(p))


@pytest.mark.parametrize("shape, dim", [((2, 0), 1), ((0, 3), 1), ((0,), 0)])
def test_softmax_family_over_no_entries_is_empty_or_minus_inf(torch, shape, dim):
    for op in ("softmax", "log_softmax", "logsumexp"):
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            ours = getattr(Tensor(np.zeros(shape)), op)(dim)
        theirs = getattr(torch.zeros(shape), op)(dim)
        assert ours.shape == tuple(theirs.shape)
        np.testing.assert_array_equal(ours, theirs.numpy())


def test_smaller_edges_follow_pytorch(torch):
    f64_scalar = Tensor(2.0, dtype=np.float64)
    assert (Tensor([1.0, 2.0]) * f64_scalar).dtype == np.float32  # a 0-d tensor is weak
    assert Tensor(np.array([200, 100], np.uint8)).sum().item() == 300  # summed as int64
    assert np.isnan(Tensor([1.0, np.inf]).softmax(0)).all()
    t = torch.tensor
    for base in (-np.inf, -0.0):
        for p in (0.5, -0.5):
            want_number = (t(base, dtype=torch.float64) ** p).item()
            want_tensor = (t(base, dtype=torch.float64) ** t(p, dtype=torch.float64)).item()
            for got, want in (((Value(base) ** p).data, want_number),
                              ((Value(base) ** Value(p)).data, want_tensor),
                              ((Tensor(base, dtype=np.float64) ** p).item(), want_number),
                              ((Tensor(base, dtype=np.float64) ** Tensor(p, dtype=np.float64)
                                ).item(), want_tensor)):
                assert str(got) == str(want), (base, p)  # str tells -0.0 from 0.0, nan from nan


# Random programs over operands of mixed dtypes (float32, float64, int64, bool, Python
# numbers) and broadcast shapes: each step applies a binary op to two values made so far or
# an op to one; the results' dtypes, shapes and numbers and the leaves' gradients must be
# PyTorch's. They found bool diff, square of bools, integer powers below 0, and median's
# gradient at ties.
PROGRAM_PAIRS = {
    "+": lambda m, a, b: a + b, "-": lambda m, a, b: a - b, "*": lambda m, a, b: a * b,
    "/": lambda m, a, b: a / b, "**": lambda m, a, b: a ** b, "//": lambda m, a, b: a // b,
    "maximum": lambda m, a, b: m.maximum(a, b), "atan2": lambda m, a, b: m.atan2(a, b),
    "where": lambda m, a, b: m.where(a > 0, a, b), "fmod": lambda m, a, b: m.fmod(a, b),
    "xlogy": lambda m, a, b: m.xlogy(a, b), "copysign": lambda m, a, b: m.copysign(a, b),
    "logaddexp": lambda m, a, b: m.logaddexp(a, b), "hypot": lambda m, a, b: m.hypot(a, b),
}
PROGRAM_OPS = {
    "sum": lambda t: t.sum(-1), "exp": lambda t: t.exp(), "log": lambda t: t.abs().log(),
    "tanh": lambda t: t.tanh(), "relu": lambda t: t.relu(), "square": lambda t: t.square(),
    "cumsum": lambda t: t.cumsum(-1), "softmax": lambda t: t.softmax(-1),
    "norm": lambda t: t.norm(), "prod": lambda t: t.prod(-1), "amax": lambda t: t.amax(-1),
    "logsumexp": lambda t: t.logsumexp(-1), "round": lambda t: t.round() * t,
    "sort": lambda t: t.sort(-1)[0], "median": lambda t: t.median(), "diff": lambda t: t.diff(),
    "flip": lambda t: t.flip(-1), "cummax": lambda t: t.cummax(-1)[0], "erf": lambda t: t.erf(),
}


def _mixed_program(seed: int, m):
    """The program's results as (dtype, shape, numbers) and its leaves' gradients, or the
    error it raised."""
    rng = np.random.default_rng(seed)
    shapes = [(3,), (2, 3), (2, 1), (1, 3), (4, 2, 3)]
    made, leaves = [], []
    try:
        for _ in range(rng.integers(2, 4)):
            kind, shape = rng.integers(5), shapes[rng.integers(len(shapes))]
            if kind < 2:
                x = m.tensor(rng.standard_normal(shape).astype([np.float32, np.float64][kind]),
                             requires_grad=True)
                leaves.append(x)
            else:
                x = [m.tensor(rng.integers(-3, 4, shape)), m.tensor(rng.random(shape) < 0.5),
                     round(float(rng.standard_normal()), 3)][kind - 2]
            made.append(x)
        for _ in range(rng.integers(1, 6)):
            if rng.random() < 0.5:
                a, b = made[rng.integers(len(made))], made[rng.integers(len(made))]
                a, b = (a, b) if isinstance(a, m.Tensor) else (b, a)
                if isinstance(a, m.Tensor):
                    made.append(list(PROGRAM_PAIRS.values())[rng.integers(len(PROGRAM_PAIRS))](
                        m, a, b if isinstance(b, m.Tensor) or rng.random() < 0.5 else m.tensor(b)))
            else:
                t = made[rng.integers(len(made))]
                if isinstance(t, m.Tensor):
                    made.append(list(PROGRAM_OPS.values())[rng.integers(len(PROGRAM_OPS))](t))
        tensors = [t for t in made if isinstance(t, m.Tensor)]
        graphed = [t for t in tensors if t.requires_grad]
        if graphed:
            sum(t.double().sum() * (k + 1) for k, t in enumerate(graphed)).backward()
        return ([(str(t.dtype).split(".")[-1], tuple(t.shape), t.detach().double().numpy())
                 for t in tensors], [None if x.grad is None else x.grad.double().numpy()
                                     for x in leaves])
    except (RuntimeError, TypeError, ValueError, NotImplementedError, IndexError) as e:
        return str(e)


def test_random_programs_of_mixed_dtypes_and_shapes_as_pytorchs(torch):
    """Where both run a program (PyTorch refuses more: softmax of ints, bool subtraction...)."""
    torch.set_default_dtype(torch.float32)  # what a float operand becomes: PyTorch's default
    both = 0
    for seed, (ours, theirs) in both_ran(_mixed_program, range(300), engine, torch):
        both += 1
        for (dtype, shape, numbers), (dtype_, shape_, numbers_) in zip(ours[0], theirs[0]):
            assert (dtype, shape) == (dtype_, shape_), seed
            tolerance = 1e-5 if dtype == "float32" else 1e-10
            np.testing.assert_allclose(numbers, numbers_, rtol=tolerance, atol=tolerance,
                                       err_msg=str(seed))
        for grad, grad_ in zip(*ours[1:], *theirs[1:]):
            assert (grad is None) == (grad_ is None), seed
            if grad is not None:
                np.testing.assert_allclose(grad, grad_, rtol=1e-4, atol=1e-5, err_msg=str(seed))
    assert both > 150  # (205 of these 300)


def _random_index(seed: int, m):
    """A random index into a random tensor (ints, slices with steps, None, ..., int lists and
    tensors, masks): what it picks, and the gradients of reading and of writing there, or
    the error it raised (PyTorch refuses negative steps, which numpy and ours take)."""
    rng = np.random.default_rng(seed)
    shape = tuple(int(n) for n in rng.integers(1, 5, rng.integers(1, 4)))
    parts, dim = [], 0
    while dim < len(shape) and rng.random() < 0.8:
        n, kind = shape[dim], rng.integers(6)
        part = [int(rng.integers(-n, n)), slice(int(rng.integers(-n, n)), None, int(
            rng.choice([1, 2, -1]))), rng.integers(-n, n, int(rng.integers(1, 4))).tolist(),
            m.tensor(rng.integers(-n, n, 2)), m.tensor(rng.random(n) < 0.5), None][kind]
        parts.append(part)
        dim += part is not None
    index = tuple(parts)
    try:
        x = m.tensor(rng.standard_normal(shape), requires_grad=True)
        picked = (x * 1.0)[index]
        picked.backward(m.tensor(np.arange(1.0, picked.numel() + 1).reshape(tuple(picked.shape))))
        y = x * 1.0
        v = m.tensor(rng.standard_normal(tuple(picked.shape)), requires_grad=True)
        y[index] = v
        (y * m.tensor(rng.standard_normal(shape))).sum().backward()
        return picked.detach().numpy(), y.detach().numpy(), x.grad.numpy(), v.grad.numpy()
    except (IndexError, ValueError, RuntimeError) as e:
        return str(e)


def test_random_indexes_as_pytorchs(torch):
    both = 0
    for seed, (ours, theirs) in both_ran(_random_index, range(400), engine, torch):
        both += 1
        for a, b in zip(ours, theirs):
            assert a.shape == b.shape, seed
            np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12, err_msg=str(seed))
    assert both > 300  # (347 of these 400)
