"""nn/functional.py: mse_loss, cross_entropy and hinge_loss against PyTorch, finite differences
and closed forms, and their errors for bad input."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import nn
from engine import Tensor, Value, gradcheck
from nn import cross_entropy, hinge_loss, mse_loss

rng = np.random.default_rng(0)


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
    with pytest.raises(ValueError, match=r"pred has shape \(5, 1\) but target \(5,\)"):
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
