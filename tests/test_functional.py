"""nn/functional.py: every function against PyTorch, central differences and (for the
primitives with rules of their own) second derivatives by create_graph; the losses against
closed forms and a numpy oracle that needs no PyTorch; errors for bad input."""
from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import engine
import nn
import nn.functional as F
from engine import Tensor, Value, gradcheck
from nn import cross_entropy, hinge_loss, mse_loss

rng = np.random.default_rng(0)
LABELS = np.array([[2, 0, 1, 3, 1], [0, 0, 3, 2, 1], [1, 3, 0, 0, 2]])  # (3, 5): 4 classes

# name, the call written once for F = nn.functional or torch.nn.functional, input shapes.
# Each input is drawn from a normal distribution and requires grad.
FUNCTIONS = {
    "linear": (lambda F, x, w, b: F.linear(x, w, b), [(4, 3), (2, 3), (2,)]),
    "linear_batch_dims": (lambda F, x, w, b: F.linear(x, w, b), [(2, 4, 3), (5, 3), (5,)]),
    "linear_vector": (lambda F, x, w: F.linear(x, w), [(3,), (2, 3)]),
    "linear_no_bias": (lambda F, x, w: F.linear(x, w), [(2, 4, 3), (2, 3)]),
    # squared, so that the gradient depends on the table and has a second derivative
    "embedding": (lambda F, w: F.embedding(_index(F, LABELS), w) ** 2, [(4, 3)]),
    "embedding_padding": (lambda F, w: F.embedding(_index(F, LABELS), w, padding_idx=1) ** 2,
                          [(4, 3)]),
    "layer_norm": (lambda F, x, w, b: F.layer_norm(x, (5,), w, b), [(2, 4, 5), (5,), (5,)]),
    "layer_norm_2_dims": (lambda F, x, w: F.layer_norm(x, (3, 4), w), [(2, 3, 4), (3, 4)]),
    "layer_norm_plain": (lambda F, x: F.layer_norm(x, [4]), [(3, 4)]),
    "gelu": (lambda F, x: F.gelu(x * 3), [(3, 5)]),
    "gelu_tanh": (lambda F, x: F.gelu(x * 3, approximate="tanh"), [(3, 5)]),
    "silu": (lambda F, x: F.silu(x), [(3, 5)]),
    "softmax": (lambda F, x: F.softmax(x, dim=1), [(3, 5, 2)]),
    "log_softmax": (lambda F, x: F.log_softmax(x, dim=-1), [(3, 5)]),
    "cross_entropy": (lambda F, x: F.cross_entropy(x, _index(F, LABELS[0])), [(5, 4)]),
    "cross_entropy_positions": (lambda F, x: F.cross_entropy(x, _index(F, LABELS)), [(3, 4, 5)]),
    "cross_entropy_ignore_sum": (lambda F, x: F.cross_entropy(
        x, _index(F, LABELS), ignore_index=0, reduction="sum"), [(3, 4, 5)]),
    "cross_entropy_none": (lambda F, x: F.cross_entropy(
        x, _index(F, LABELS[0]), ignore_index=3, reduction="none"), [(5, 4)]),
    "nll_loss": (lambda F, x: F.nll_loss(F.log_softmax(x, 1), _index(F, LABELS)), [(3, 4, 5)]),
    "mse_loss": (lambda F, x, y: F.mse_loss(x, y), [(3, 4), (3, 4)]),
    "batch_norm_training": (lambda F, x, w, b: F.batch_norm(x, None, None, w, b, True),
                            [(6, 3), (3,), (3,)]),
    "batch_norm_length": (lambda F, x: F.batch_norm(x, None, None, training=True),
                          [(4, 3, 2)]),
}
# the primitives: ops with a rule of their own, so their second derivatives are checked too
PRIMITIVES = ["linear", "linear_batch_dims", "linear_vector", "embedding", "embedding_padding",
              "layer_norm", "layer_norm_2_dims", "gelu", "gelu_tanh", "softmax", "log_softmax",
              "cross_entropy", "cross_entropy_positions", "cross_entropy_ignore_sum",
              "cross_entropy_none"]
# padding_idx's row takes part in the output but gets no gradient, by definition (PyTorch's):
# finite differences see the dependence, so that case is checked against PyTorch only
DIFFERENTIABLE = [name for name in FUNCTIONS if name != "embedding_padding"]


def _index(F, labels: np.ndarray):
    """Integer labels as the library's tensor (ours takes arrays too; torch wants tensors)."""
    return labels if F is nn.functional else __import__("torch").as_tensor(labels)


def _arrays(name: str) -> list[np.ndarray]:
    r = np.random.default_rng(abs(hash(name)) % 2**32)
    return [r.normal(size=shape) for shape in FUNCTIONS[name][1]]


def _weights(name: str, arrays: list[np.ndarray]) -> np.ndarray:
    """Fixed random weights for the output, so that a scalar depends on every entry."""
    with engine.no_grad():
        shape = FUNCTIONS[name][0](F, *[Tensor(a) for a in arrays]).shape
    return np.random.default_rng(1).normal(size=shape)


@pytest.mark.parametrize("name", DIFFERENTIABLE)
def test_function_gradient_matches_central_differences(name):
    arrays = _arrays(name)
    call, weights = FUNCTIONS[name][0], _weights(name, arrays)
    inputs = [Tensor(a, requires_grad=True) for a in arrays]
    assert gradcheck(lambda *xs: (call(F, *xs) * weights).sum(), inputs)


@pytest.mark.parametrize("name", FUNCTIONS)
def test_function_matches_pytorch(torch, name):
    arrays = _arrays(name)
    call, weights = FUNCTIONS[name][0], _weights(name, arrays)
    ours = [Tensor(a, requires_grad=True) for a in arrays]
    theirs = [torch.tensor(a, requires_grad=True) for a in arrays]
    out, want = call(F, *ours), call(torch.nn.functional, *theirs)
    np.testing.assert_allclose(out.numpy(), want.detach().numpy(), rtol=1e-12, atol=1e-14)
    (out * weights).sum().backward()
    (want * torch.tensor(weights)).sum().backward()
    for x, t in zip(ours, theirs):
        np.testing.assert_allclose(x.grad, t.grad.numpy(), rtol=1e-10, atol=1e-14)


@pytest.mark.parametrize("name", FUNCTIONS)
def test_function_keeps_float32(name):
    inputs = [Tensor(a, requires_grad=True, dtype=np.float32) for a in _arrays(name)]
    out = FUNCTIONS[name][0](F, *inputs)
    assert out.dtype == np.float32
    out.backward(np.ones(out.shape, np.float32))
    assert all(x.grad.dtype == np.float32 for x in inputs)


def _second(name: str, arrays: list[np.ndarray]):
    """x -> d(weighted output)/dx by create_graph, dotted with other fixed weights: a scalar
    whose gradient is the second derivative."""
    call, weights = FUNCTIONS[name][0], _weights(name, arrays)
    directions = [np.random.default_rng(2).normal(size=a.shape) for a in arrays]

    def f(*xs):
        with engine.enable_grad():  # gradcheck evaluates f without recording
            grads = engine.grad((call(F, *xs) * weights).sum(), xs, create_graph=True,
                                allow_unused=True)
            return sum((g * d).sum() for g, d in zip(grads, directions) if g is not None)
    return f, weights, directions


@pytest.mark.parametrize("name", [name for name in PRIMITIVES if name in DIFFERENTIABLE])
def test_primitive_second_derivative_matches_central_differences(name):
    arrays = _arrays(name)
    f, _, _ = _second(name, arrays)
    assert gradcheck(f, [Tensor(a, requires_grad=True) for a in arrays])


@pytest.mark.parametrize("name", PRIMITIVES)
def test_primitive_second_derivative_matches_pytorch(torch, name):
    arrays = _arrays(name)
    f, weights, directions = _second(name, arrays)
    ours = [Tensor(a, requires_grad=True) for a in arrays]
    f(*ours).backward()
    theirs = [torch.tensor(a, requires_grad=True) for a in arrays]
    out = (FUNCTIONS[name][0](torch.nn.functional, *theirs) * torch.tensor(weights)).sum()
    grads = torch.autograd.grad(out, theirs, create_graph=True)
    sum((g * torch.tensor(d)).sum() for g, d in zip(grads, directions)).backward()
    for x, t in zip(ours, theirs):  # None: no second-order dependence (linear in x)
        np.testing.assert_allclose(0 if x.grad is None else x.grad,
                                   0 if t.grad is None else t.grad.numpy(), rtol=1e-9, atol=1e-12)


def test_linear_is_one_node_with_no_transpose():
    x, w, b = (Tensor(a, requires_grad=True) for a in _arrays("linear"))
    out = F.linear(x, w, b)
    assert out._op == "linear" and out._prev == (x, w, b)


def test_every_primitive_states_its_rule_for_each_operand():
    """viz.explore shows each node's rule from its op's docstring, one clause per operand."""
    from viz.rules import rule_of

    for name in PRIMITIVES:
        inputs = [Tensor(a, requires_grad=True) for a in _arrays(name)]
        node = next(n for n in engine.topological_order(FUNCTIONS[name][0](F, *inputs))
                    if n._op and n._op in name)  # the primitive (embedding is squared after)
        rule, _ = rule_of(node)
        assert rule is not None, name
        assert all(rule.clause(k).text for k in range(len(node._prev))), name


def test_linears_stated_rule_gives_the_engines_gradients():
    from viz.rules import evaluate, rule_of

    x, w, b = (Tensor(a, requires_grad=True) for a in _arrays("linear_batch_dims"))
    out = F.linear(x, w, b)
    g = np.random.default_rng(6).normal(size=out.shape)
    rule, _ = rule_of(out)
    env = {"g": g, "input": x.numpy(), "weight": w.numpy(), "bias": b.numpy()}
    stated = [evaluate(rule.clause(k).formula, env) for k in range(3)]
    out.backward(g)
    for k, x in enumerate((x, w, b)):  # summed over the batch dims, as the docstring says
        lead = tuple(range(stated[k].ndim - x.ndim))
        np.testing.assert_allclose(stated[k].sum(axis=lead), x.grad, rtol=1e-12)


def test_cross_entropy_is_one_node():
    x = Tensor(_arrays("cross_entropy")[0], requires_grad=True)
    out = F.cross_entropy(x, LABELS[0])
    assert out._op == "cross_entropy" and out._prev == (x,)


def f64(data) -> Tensor:
    return Tensor(np.asarray(data, dtype=np.float64), requires_grad=True, dtype=np.float64)


def assert_matches_torch(torch, loss, torch_loss, x, *rest):
    """Same loss value and same gradient for x as PyTorch's function on the same numbers."""
    ours = f64(x)
    theirs = torch.tensor(np.asarray(x, dtype=np.float64), requires_grad=True)
    out = loss(ours, *rest)
    tout = torch_loss(theirs, *(torch.tensor(r) for r in rest))
    out.backward()
    tout.backward()
    # A loss is a difference of terms as large as the inputs, so its rounding error is
    # relative to them, not to the (possibly tiny) loss: an absolute floor scaled by |x|.
    floor = 1e-14 * max(1.0, float(np.abs(x).max()))
    np.testing.assert_allclose(out.item(), tout.item(), rtol=1e-12, atol=floor)
    np.testing.assert_allclose(ours.grad, theirs.grad.numpy(), rtol=1e-10, atol=1e-15)


# --- mse_loss ---

@pytest.mark.parametrize("shape", [(7,), (4, 3)])
def test_mse_matches_pytorch(torch, shape):
    assert_matches_torch(torch, mse_loss, torch.nn.functional.mse_loss,
                         rng.normal(size=shape), rng.normal(size=shape))


def test_mse_gradient_matches_central_differences_for_both_inputs():
    assert gradcheck(mse_loss, [f64(rng.normal(size=(3, 2))), f64(rng.normal(size=(3, 2)))])


def test_mse_refuses_shapes_that_would_broadcast_to_a_wrong_loss():
    with pytest.raises(ValueError, match=r"input has shape \(5, 1\) but target \(5,\)"):
        mse_loss(Tensor(np.zeros((5, 1))), np.zeros(5))


def test_mse_keeps_float32():
    loss = mse_loss(Tensor(np.ones(3, dtype=np.float32), requires_grad=True), [1.0, 2.0, 3.0])
    assert loss.dtype == np.float32 and loss.item() == pytest.approx(5 / 3)


# --- cross_entropy ---

@pytest.mark.parametrize("scale", [1.0, 1000.0])
def test_cross_entropy_matches_pytorch_even_for_huge_logits(torch, scale):
    logits = rng.normal(size=(6, 4)) * scale
    labels = rng.integers(0, 4, size=6)
    assert_matches_torch(torch, cross_entropy, torch.nn.functional.cross_entropy, logits, labels)


@settings(max_examples=25)
@given(n=st.integers(1, 6), classes=st.integers(2, 6), scale=st.sampled_from([1e-3, 1.0, 1e3]),
       seed=st.integers(0, 2**32 - 1))
def test_cross_entropy_matches_pytorch_for_random_shapes(torch, n, classes, scale, seed):
    r = np.random.default_rng(seed)
    assert_matches_torch(torch, cross_entropy, torch.nn.functional.cross_entropy,
                         r.normal(size=(n, classes)) * scale, r.integers(0, classes, size=n))


def test_cross_entropy_of_huge_logits_is_finite_with_closed_form_gradient():
    logits = f64([[1000.0, -1000.0, 0.0], [0.0, 1000.0, 1000.0]])
    loss = cross_entropy(logits, np.array([1, 2]))
    loss.backward()
    # row 0: the true class is 2000 below the top one; row 1: a tie, so log 2
    assert loss.item() == pytest.approx((2000.0 + np.log(2)) / 2)
    # gradient (softmax - onehot) / n
    np.testing.assert_allclose(logits.grad, [[0.5, -0.5, 0.0], [0.0, 0.25, -0.25]], atol=1e-12)


def test_cross_entropy_gradient_matches_central_differences():
    assert gradcheck(lambda z: cross_entropy(z, np.array([0, 2, 1, 2])),
                     [f64(rng.normal(size=(4, 3)))])


def test_cross_entropy_takes_int_tensor_labels_and_keeps_float32():
    logits = Tensor(rng.normal(size=(3, 5)), requires_grad=True, dtype=np.float32)
    a = cross_entropy(logits, Tensor(np.array([4, 0, 2])))
    b = cross_entropy(logits, np.array([4, 0, 2], dtype=np.uint8))
    assert a.dtype == np.float32 and a.item() == b.item()


@pytest.mark.parametrize("labels, error, message", [
    (np.array([0.0, 1.0, 2.0]), TypeError, "must be integer class indices, got float64"),
    (np.array([[0, 1, 2]]), ValueError, r"need labels of shape \(3,\), got \(1, 3\)"),
    (np.array([0, 1]), ValueError, r"need labels of shape \(3,\), got \(2,\)"),
    (np.array([0, 4, 1]), ValueError,
     r"must lie in \[0, 4\) for 4 classes \(or be ignore_index=-100\); got \[4\]"),
    (np.array([-1, 0, 1]), ValueError, r"must lie in \[0, 4\) for 4 classes.*; got \[-1\]"),
    # (each int dtype is range-checked in one pass as unsigned, where -1 is the largest)
    *((np.array([0, -3, 1], dtype), ValueError, r"must lie in \[0, 4\).*; got \[-3\]")
      for dtype in (np.int8, np.int16, np.int32, np.int64)),
    (np.array([0, 255, 1], np.uint8), ValueError, r"must lie in \[0, 4\).*; got \[255\]"),
])
def test_cross_entropy_rejects_bad_labels_clearly(labels, error, message):
    with pytest.raises(error, match=message):
        cross_entropy(Tensor(np.zeros((3, 4))), labels)


def test_cross_entropy_wants_logits_with_a_class_dim():
    with pytest.raises(ValueError, match=r"shape \(n, classes\) or \(n, classes, d1, ...\), "
                                         r"got shape \(4,\)"):
        cross_entropy(Tensor(np.zeros(4)), np.array([1]))
    with pytest.raises(ValueError, match=r"logits of shape \(2, 3, 4\) need labels of shape "
                                         r"\(2, 4\), got \(2, 3\)"):
        cross_entropy(Tensor(np.zeros((2, 3, 4))), np.zeros((2, 3), np.int64))


# logits shape, labels (-100: ignored), ignore_index
IGNORING = {
    "rows": ((5, 4), [1, -100, 3, 0, -100], -100),
    "per position": ((3, 4, 5), [[0, 1, -100, 2, 3], [3, 3, 3, -100, -100], [1, 0, 2, 2, 1]],
                     -100),
    "two position dims": ((2, 3, 2, 2), [[[0, 1], [2, -100]], [[1, 1], [0, 2]]], -100),
    "padding token 0": ((3, 4, 5), [[1, 2, 3, 0, 0], [3, 0, 0, 0, 0], [2, 2, 1, 3, 0]], 0),
    "every target ignored": ((2, 3), [-100, -100], -100),
}


@pytest.mark.parametrize("shape, labels, ignore_index", IGNORING.values(), ids=IGNORING.keys())
def test_cross_entropy_with_ignored_targets_and_position_dims_matches_pytorch(
        torch, shape, labels, ignore_index):
    logits, labels = rng.normal(size=shape), np.array(labels)
    ours, theirs = f64(logits), torch.tensor(logits, requires_grad=True)
    out = cross_entropy(ours, labels, ignore_index=ignore_index)
    want = torch.nn.functional.cross_entropy(theirs, torch.tensor(labels),
                                             ignore_index=ignore_index)
    out.backward()
    want.backward()
    np.testing.assert_allclose(out.item(), want.item(), rtol=1e-12, equal_nan=True)
    np.testing.assert_allclose(ours.grad, theirs.grad.numpy(), rtol=1e-10, atol=1e-15)


def test_cross_entropy_with_ignored_targets_matches_central_differences():
    labels = np.array([[0, 2, -100], [1, -100, 1]])
    assert gradcheck(lambda z: cross_entropy(z, labels), [f64(rng.normal(size=(2, 3, 3)))])


# --- hinge_loss ---

def torch_hinge(scores, y):
    return (1 - y * scores).clamp(min=0).mean()


def test_hinge_matches_pytorch(torch):
    assert_matches_torch(torch, hinge_loss, torch_hinge, np.array([2.0, 0.5, -0.3, -2.0, 0.9]),
                         np.array([1.0, 1.0, -1.0, 1.0, -1.0]))


def test_hinge_has_closed_form_value_and_gradient():
    scores = f64([2.0, 0.5, -0.3, -2.0])
    y = np.array([1, 1, -1, 1])
    loss = hinge_loss(scores, y)
    loss.backward()
    # margins 1 - y s: -1 (inactive), 0.5, 0.7, 3; active ones get d/ds = -y / n
    assert loss.item() == pytest.approx((0.5 + 0.7 + 3.0) / 4)
    np.testing.assert_allclose(scores.grad, [0.0, -0.25, 0.25, -0.25])


def test_hinge_on_a_list_of_values_matches_the_tensor_version():
    numbers, y = [0.4, -1.2, 0.8], [1, 1, -1]
    values, tensor = [Value(s) for s in numbers], f64(numbers)
    v_loss, t_loss = hinge_loss(values, y), hinge_loss(tensor, np.array(y))
    v_loss.backward()
    t_loss.backward()
    assert isinstance(v_loss, Value) and v_loss.data == pytest.approx(t_loss.item())
    np.testing.assert_allclose([v.grad for v in values], tensor.grad)


@pytest.mark.parametrize("scores, y, message", [
    (Tensor(np.zeros(3)), np.array([0, 1, 1]), "must be -1 or \\+1"),
    (Tensor(np.zeros((3, 1))), np.array([1, -1, 1]), r"scores have shape \(3, 1\) but labels \(3,\)"),
    ([Value(0.0), Value(1.0)], [1, -1, 1], r"2 scores need labels of shape \(2,\), got \(3,\)"),
])
def test_hinge_rejects_bad_labels_clearly(scores, y, message):
    with pytest.raises(ValueError, match=message):
        hinge_loss(scores, y)


# --- empty input: nan, as in PyTorch ---

EMPTY = {
    "cross_entropy": (lambda x: cross_entropy(x, np.zeros(0, np.int64)), (0, 3),
                      lambda torch, x: torch.nn.functional.cross_entropy(
                          x, torch.zeros(0, dtype=torch.long))),
    "mse_loss": (lambda x: mse_loss(x, np.zeros(0)), (0,),
                 lambda torch, x: torch.nn.functional.mse_loss(x, torch.zeros(0))),
    "hinge_loss": (lambda x: hinge_loss(x, np.zeros(0)), (0,),
                   lambda torch, x: torch_hinge(x, torch.zeros(0))),
}


@pytest.mark.parametrize("loss, shape, torch_loss", [
    pytest.param(*case, id=name) for name, case in EMPTY.items()])
def test_a_loss_of_empty_input_is_nan_with_an_empty_gradient_as_in_torch(torch, loss, shape,
                                                                          torch_loss):
    x, tx = f64(np.zeros(shape)), torch.zeros(shape, requires_grad=True)
    out, tout = loss(x), torch_loss(torch, tx)
    out.backward()
    tout.backward()
    assert np.isnan(out.item()) and np.isnan(tout.item())
    assert x.grad.shape == tuple(tx.grad.shape) == shape


def test_hinge_of_no_values_is_nan():
    assert np.isnan(hinge_loss([], []).data)


# --- the functional forms PyTorch code calls as F.* ---

def test_one_hot_is_torchs(torch):
    labels = np.array([[0, 3], [2, 2]])
    ours = nn.functional.one_hot(Tensor(labels), num_classes=5)
    theirs = torch.nn.functional.one_hot(torch.tensor(labels), num_classes=5)
    assert ours.dtype == np.int64 and ours.shape == (2, 2, 5)
    np.testing.assert_array_equal(ours, theirs.numpy())
    np.testing.assert_array_equal(nn.functional.one_hot(Tensor([1, 0])), [[0, 1], [1, 0]])
    with pytest.raises(ValueError, match=r"lie in \[0, 3\)"):
        nn.functional.one_hot(Tensor([3]), num_classes=3)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("name", ["cross_entropy", "nll_loss"])
def test_reductions_and_ignore_index_are_torchs(torch, name, reduction):
    x = rng.normal(size=(5, 4))
    target = np.array([1, -100, 3, 0, 3])
    ours = Tensor(x, requires_grad=True)
    theirs = torch.tensor(x, requires_grad=True)
    f_ours, f_theirs = getattr(nn.functional, name), getattr(torch.nn.functional, name)
    a = f_ours(ours if name == "cross_entropy" else ours.log_softmax(1), target,
               reduction=reduction)
    b = f_theirs(theirs if name == "cross_entropy" else theirs.log_softmax(1),
                 torch.tensor(target), reduction=reduction)
    np.testing.assert_allclose(a.numpy(), b.detach().numpy(), rtol=1e-12)
    a.sum().backward()
    b.sum().backward()
    np.testing.assert_allclose(ours.grad, theirs.grad.numpy(), rtol=1e-10, atol=1e-14)
    with pytest.raises(ValueError, match="reduction must be one of"):
        f_ours(ours, target, reduction="average")


def test_softmax_without_dim_warns_and_picks_torchs_dim(torch):
    x = rng.normal(size=(2, 3))
    with pytest.warns(UserWarning, match="implicit dimension"):
        ours = nn.functional.softmax(Tensor(x))
    np.testing.assert_allclose(ours, torch.softmax(torch.tensor(x), 1).numpy(), rtol=1e-12)


def test_linear_and_embedding_take_torchs_layouts(torch):
    x, w, b = rng.normal(size=(4, 3)), rng.normal(size=(2, 3)), rng.normal(size=2)
    np.testing.assert_allclose(nn.functional.linear(Tensor(x), Tensor(w), Tensor(b)),
                               torch.nn.functional.linear(*map(torch.tensor, (x, w, b))).numpy(),
                               rtol=1e-12)
    table, index = rng.normal(size=(5, 2)), np.array([[4, 0], [0, 0]])
    np.testing.assert_array_equal(nn.functional.embedding(index, Tensor(table)), table[index])


# --- cross_entropy against numpy, without PyTorch ---

def numpy_cross_entropy(x: np.ndarray, labels: np.ndarray, ignore_index: int,
                        reduction: str) -> np.ndarray:
    """The definition, written out: log-softmax over the class dim (1), minus the label's."""
    shifted = x - x.max(axis=1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    counted = labels != ignore_index
    picked = np.take_along_axis(log_probs, np.expand_dims(np.where(counted, labels, 0), 1), 1)
    losses = -np.squeeze(picked, 1) * counted
    if reduction == "none":
        return losses
    return losses.sum() if reduction == "sum" else losses.sum() / counted.sum()


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("shape, ignore_index", [((5, 4), -100), ((3, 4, 5), -100),
                                                 ((3, 4, 5), 0), ((2, 4, 3, 5), 1)])
def test_cross_entropy_is_the_definition_over_the_class_dim(shape, ignore_index, reduction):
    """Class scores sit in dim 1 of (n, classes, d1, ...): the softmax runs over that dim
    only, and the mean is over the counted targets."""
    r = np.random.default_rng(3)
    x = r.normal(size=shape) * 3
    labels = r.integers(0, shape[1], shape[:1] + shape[2:])
    out = cross_entropy(Tensor(x), labels, ignore_index=ignore_index, reduction=reduction)
    # a loss is a difference of terms the size of the logits: its error is relative to them
    np.testing.assert_allclose(out.numpy(), numpy_cross_entropy(x, labels, ignore_index,
                                                                reduction), rtol=1e-12, atol=1e-13)


def test_cross_entropy_gradient_is_softmax_minus_one_hot_over_the_count():
    x = np.random.default_rng(4).normal(size=(3, 4, 5))
    logits = Tensor(x, requires_grad=True)
    labels = np.where(LABELS == 2, -100, LABELS)
    cross_entropy(logits, labels).backward()
    probs = np.exp(x) / np.exp(x).sum(axis=1, keepdims=True)
    one_hot = np.moveaxis(np.eye(4)[np.where(labels < 0, 0, labels)], -1, 1)
    counted = np.expand_dims(labels != -100, 1)
    np.testing.assert_allclose(logits.grad, (probs - one_hot) * counted / counted.sum(),
                               rtol=1e-12, atol=1e-15)


# --- dropout ---

def test_dropout_zeroes_what_pytorchs_zeroes_from_the_same_seed(torch):
    x = np.random.default_rng(5).normal(size=(4, 50)).astype(np.float32)
    engine.manual_seed(7)
    torch.manual_seed(7)
    ours = F.dropout(Tensor(x), 0.3)
    theirs = torch.nn.functional.dropout(torch.from_numpy(x), 0.3)
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


def test_dropout_keeps_each_entry_with_probability_1_minus_p_scaled_up():
    x = Tensor(np.ones((200, 500), np.float32), requires_grad=True)
    out = F.dropout(x, 0.2)
    kept = out.numpy() != 0
    assert kept.mean() == pytest.approx(0.8, abs=0.005)  # 100,000 draws: sd 0.0013
    np.testing.assert_array_equal(out.numpy()[kept], np.float32(1) / np.float32(0.8))
    out.sum().backward()  # the gradient passes where the entry was kept, scaled alike
    np.testing.assert_array_equal(x.grad.numpy(), out.numpy())


@pytest.mark.parametrize("p, training", [(0.0, True), (0.5, False)])
def test_dropout_passes_its_input_through_when_off(p, training):
    x = Tensor(np.ones(3))
    assert F.dropout(x, p, training=training) is x


def test_dropout_with_p_1_zeroes_everything():
    np.testing.assert_array_equal(F.dropout(Tensor(np.ones(5)), 1.0).numpy(), np.zeros(5))


# --- closed forms and edges ---

def test_gelu_at_the_edges_of_the_normal_cdf():
    x = Tensor(np.array([-40.0, -5.0, 0.0, 5.0, 40.0]), requires_grad=True)
    out = F.gelu(x)
    # x Phi(x); Phi(-5) = 2.866515718791939e-07 (to 16 digits), Phi(5) = 1 - that
    np.testing.assert_allclose(out.numpy(), [-0.0, -5 * 2.866515718791939e-07, 0.0,
                                             5 * (1 - 2.866515718791939e-07), 40.0],
                               rtol=1e-14, atol=1e-300)
    out.sum().backward()
    pdf5 = math.exp(-12.5) / math.sqrt(2 * math.pi)
    np.testing.assert_allclose(x.grad, [0.0, 2.866515718791939e-07 - 5 * pdf5, 0.5,
                                        1 - 2.866515718791939e-07 + 5 * pdf5, 1.0], rtol=1e-13)


def test_layer_norm_of_a_constant_row_is_zero_with_a_finite_gradient():
    x = Tensor(np.full((2, 4), 3.0), requires_grad=True)
    out = F.layer_norm(x, (4,))
    np.testing.assert_array_equal(out.numpy(), np.zeros((2, 4)))
    (out * np.arange(8.0).reshape(2, 4)).sum().backward()
    assert np.isfinite(x.grad.numpy()).all()


@pytest.mark.parametrize("call, error, message", [
    (lambda: F.linear(Tensor(np.ones((3, 5))), Tensor(np.ones((2, 4)))), ValueError,
     r"inputs of shape \(\.\.\., 4\) for a weight of shape \(2, 4\).*got \(3, 5\)"),
    (lambda: F.linear(Tensor(np.ones(4)), Tensor(np.ones((2, 4))), Tensor(np.ones(3))),
     ValueError, r"bias of shape \(3,\) does not fit a weight of shape \(2, 4\)"),
    (lambda: F.embedding(np.array([0.0, 1.0]), Tensor(np.ones((3, 2)))), TypeError,
     "integer indices, got float64"),
    (lambda: F.embedding(np.array([0, 3]), Tensor(np.ones((3, 2)))), IndexError,
     r"lie in \[0, 3\) for a table of 3 rows, got values from 0 to 3"),
    (lambda: F.layer_norm(Tensor(np.ones((2, 3))), (4,)), ValueError,
     r"input of shape \(\.\.\., 4\).*got input \(2, 3\)"),
    (lambda: F.gelu(Tensor(np.ones(2)), approximate="fast"), ValueError,
     "approximate must be 'none' or 'tanh'"),
    (lambda: F.dropout(Tensor(np.ones(2)), 1.5), ValueError, "between 0 and 1, but got 1.5"),
    (lambda: F.batch_norm(Tensor(np.ones((1, 3))), None, None, training=True), ValueError,
     "more than 1 value per channel"),
    (lambda: F.batch_norm(Tensor(np.ones(3)), None, None), ValueError, r"\(n, channels\)"),
    (lambda: F.cross_entropy(Tensor(np.ones((2, 3))), np.zeros(2, np.int64),
                             reduction="avg"), ValueError, "reduction must be one of"),
])
def test_bad_input_is_refused_clearly(call, error, message):
    with pytest.raises(error, match=message):
        call()


# cross_entropy's and nll_loss's class weights, label smoothing and probability targets
# (PyTorch's arguments): a numpy definition, finite differences, and PyTorch itself.
CE_RNG = np.random.default_rng(7)
CE_WEIGHT = CE_RNG.random(4) + 0.5
CE_CASES = []
for _shape in [(5, 4), (3, 4, 2)]:
    _x = CE_RNG.standard_normal(_shape)
    _labels = CE_RNG.integers(0, 4, _shape[:1] + _shape[2:])
    _ignored = _labels.copy()
    _ignored.flat[1] = -100
    _probs = CE_RNG.random(_shape)
    _probs /= _probs.sum(axis=1, keepdims=True)
    for _kind, _target in [("labels", _labels), ("ignored", _ignored), ("probs", _probs)]:
        for _weight in (None, CE_WEIGHT):
            for _smoothing in (0.0, 0.15):
                if _weight is None and not _smoothing and _kind != "probs":
                    continue  # the fused op, tested above
                for _reduction in ("mean", "sum", "none"):
                    CE_CASES.append(pytest.param(
                        _x, _target, _weight, _smoothing, _reduction,
                        id=f"{len(_shape)}d-{_kind}-{'weighted' if _weight is not None else 'plain'}"
                           f"-smooth{_smoothing}-{_reduction}"))


def numpy_weighted_cross_entropy(x: np.ndarray, target: np.ndarray, weight: np.ndarray | None,
                                 smoothing: float, reduction: str) -> np.ndarray:
    """PyTorch's definition written out: (1 - e) of the weighted negative log-likelihood
    plus e / classes of the weighted sum of all classes' -log q (counted positions only),
    the mean dividing both by the weights of the counted targets; for probabilities p,
    -sum w p' log q with p' = (1 - e) p + e / classes, the mean over positions."""
    shifted = x - x.max(axis=1, keepdims=True)
    log_q = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    classes = x.shape[1]
    w = np.ones(classes) if weight is None else weight
    w_along = w.reshape((1, classes) + (1,) * (x.ndim - 2))
    if target.dtype.kind == "f":
        losses = -(log_q * (target * (1 - smoothing) + smoothing / classes) * w_along).sum(1)
        total = {"mean": losses.sum() / (x.size // classes), "sum": losses.sum()}
        return total.get(reduction, losses)
    counted = target != -100
    picked = np.where(counted, target, 0)
    w_target = w[picked] * counted
    nll = -np.take_along_axis(log_q, picked[:, None], 1)[:, 0] * w_target
    spread = -(log_q * w_along).sum(1) * counted
    if reduction != "none":
        nll, spread = nll.sum(), spread.sum()
    if reduction == "mean":
        nll, spread = nll / w_target.sum(), spread / w_target.sum()
    return (1 - smoothing) * nll + smoothing / classes * spread


def _ours_cross_entropy(x, target, weight, smoothing, reduction):
    a = Tensor(x, requires_grad=True)
    loss = F.cross_entropy(a, Tensor(target), None if weight is None else Tensor(weight),
                           reduction=reduction, label_smoothing=smoothing)
    seed = np.linspace(0.5, 1.5, loss.numel()).reshape(tuple(loss.shape))
    loss.backward(Tensor(seed))
    return loss.detach().numpy(), a.grad.numpy(), seed


@pytest.mark.parametrize("x, target, weight, smoothing, reduction", CE_CASES)
def test_cross_entropy_weights_smoothing_and_probabilities_by_their_definition(
        x, target, weight, smoothing, reduction):
    value, grad, seed = _ours_cross_entropy(x, target, weight, smoothing, reduction)
    np.testing.assert_allclose(value, numpy_weighted_cross_entropy(
        x, target, weight, smoothing, reduction), rtol=1e-12, atol=1e-12)
    numeric = np.zeros_like(x)
    for i in np.ndindex(x.shape):  # central differences of sum(seed * loss)
        step = np.zeros_like(x)
        step[i] = 1e-6
        up, down = (float((seed * numpy_weighted_cross_entropy(
            x + s, target, weight, smoothing, reduction)).sum()) for s in (step, -step))
        numeric[i] = (up - down) / 2e-6
    np.testing.assert_allclose(grad, numeric, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("x, target, weight, smoothing, reduction", CE_CASES)
def test_cross_entropy_weights_smoothing_and_probabilities_as_pytorchs(
        torch, x, target, weight, smoothing, reduction):
    value, grad, seed = _ours_cross_entropy(x, target, weight, smoothing, reduction)
    b = torch.tensor(x, requires_grad=True)
    loss = torch.nn.functional.cross_entropy(
        b, torch.tensor(target), None if weight is None else torch.tensor(weight),
        reduction=reduction, label_smoothing=smoothing)
    loss.backward(torch.tensor(seed))
    np.testing.assert_allclose(value, loss.detach().numpy(), rtol=1e-13, atol=1e-14)
    np.testing.assert_allclose(grad, b.grad.numpy(), rtol=1e-13, atol=1e-14)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_nll_loss_class_weights_as_pytorchs(torch, reduction):
    x = np.log(CE_RNG.dirichlet(np.ones(4), 6))
    labels = np.array([0, 3, -100, 2, 2, 1])
    ours = F.nll_loss(Tensor(x), Tensor(labels), Tensor(CE_WEIGHT), reduction=reduction)
    theirs = torch.nn.functional.nll_loss(torch.tensor(x), torch.tensor(labels),
                                          torch.tensor(CE_WEIGHT), reduction=reduction)
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-14)


def test_cross_entropy_takes_pytorchs_arguments_in_pytorchs_order():
    x, labels = Tensor(CE_RNG.standard_normal((3, 4))), Tensor(np.array([1, 0, 3]))
    weighted = F.cross_entropy(x, labels, Tensor(CE_WEIGHT))  # weight is the third
    assert float(weighted) == float(F.cross_entropy(x, labels, weight=Tensor(CE_WEIGHT)))
    module = nn.CrossEntropyLoss(Tensor(CE_WEIGHT), label_smoothing=0.1, reduction="sum")
    assert float(module(x, labels)) == float(F.cross_entropy(
        x, labels, Tensor(CE_WEIGHT), reduction="sum", label_smoothing=0.1))
    assert list(module.state_dict()) == ["weight"]  # a buffer, as PyTorch's
    with pytest.warns(UserWarning, match="size_average and reduce"):
        assert F.cross_entropy(x, labels, reduce=False).shape == (3,)


@pytest.mark.parametrize("call, error, message", [
    (lambda x, y: F.cross_entropy(x, y, label_smoothing=1.5), ValueError, "between 0.0 and 1.0"),
    (lambda x, y: F.cross_entropy(x, y, Tensor(np.ones(3))), ValueError, "one entry per class"),
    (lambda x, y: F.cross_entropy(x, Tensor(np.ones((3, 2)))), TypeError,
     "integer class indices"),  # floats of another shape than the input's are no probabilities
])
def test_cross_entropy_refuses_bad_weights_smoothing_and_probabilities(call, error, message):
    with pytest.raises(error, match=message):
        call(Tensor(np.zeros((3, 4))), Tensor(np.array([1, 0, 3])))
