"""nn/manual.py: the lesson's hand-derived gradients, both forms, against autograd and PyTorch."""
from __future__ import annotations

import numpy as np
import pytest

from engine import Tensor
from nn import manual

NAMES = ["w1", "b1", "w2", "b2", "x"]


def _params(rng, m, h, dtype):
    """The lesson's initialisation: w1 scaled by 1/sqrt(m), w2 by 1/sqrt(h), zero biases."""
    return {"w1": (rng.standard_normal((m, h)) / np.sqrt(m)).astype(dtype),
            "b1": np.zeros(h, dtype),
            "w2": (rng.standard_normal((h, 1)) / np.sqrt(h)).astype(dtype),
            "b2": np.zeros(1, dtype)}


def _random_lesson(dtype):
    rng = np.random.default_rng(0)
    x = rng.random((200, 30)).astype(dtype)
    y = rng.integers(0, 10, 200).astype(dtype)
    return x, y, _params(rng, 30, 8, dtype)


def _engine(x, y, p):
    """The same model (manual.forward) through engine.Tensor autograd."""
    t = {k: Tensor(a, requires_grad=True, dtype=a.dtype) for k, a in dict(p, x=x).items()}
    loss = manual.forward(y=Tensor(y, dtype=y.dtype), **t)["loss"]
    loss.backward()
    return loss.item(), {k: np.asarray(t[k].grad) for k in NAMES}


def _pytorch(torch, x, y, p):
    """The same model (manual.forward) through PyTorch's autograd."""
    t = {k: torch.from_numpy(a).requires_grad_() for k, a in dict(p, x=x).items()}
    loss = manual.forward(y=torch.from_numpy(y), **t)["loss"]
    loss.backward()
    return loss.item(), {k: t[k].grad.numpy() for k in NAMES}


def _modules(x, y, p):
    model = manual.Model(p["w1"], p["b1"], p["w2"], p["b2"])
    loss = model(x, y)
    return loss, model.backward()


def _assert_agree(got, want, rtol, atol):
    (loss, grads), (want_loss, want_grads) = got, want
    assert loss == pytest.approx(want_loss, rel=rtol)
    for k in NAMES:
        scale = np.abs(want_grads[k]).max()  # float32 error is relative to the largest entry
        np.testing.assert_allclose(grads[k], want_grads[k], rtol=rtol, atol=atol * scale,
                                   err_msg=f"gradient of {k}")


def test_both_manual_forms_give_the_same_numbers():
    x, y, p = _random_lesson(np.float32)
    loss, grads = manual.forward_and_backward(x, y, **p)
    module_loss, module_grads = _modules(x, y, p)
    assert module_loss == loss
    for k in NAMES:
        assert grads[k].dtype == np.float32 and grads[k].shape == dict(p, x=x)[k].shape
        np.testing.assert_array_equal(module_grads[k], grads[k])


def test_manual_matches_engine_autograd_on_random_data():
    x, y, p = _random_lesson(np.float64)
    _assert_agree(_engine(x, y, p), manual.forward_and_backward(x, y, **p), 1e-10, 1e-12)


def _at_the_kink(dtype):
    """A lesson whose first layer is exactly 0 on every other row (zero pixels, zero bias)."""
    x, y, p = _random_lesson(dtype)
    x[::2] = 0
    return x, y, p


def test_no_gradient_passes_relus_kink():
    x, y, p = _at_the_kink(np.float64)
    _, grads = manual.forward_and_backward(x, y, **p)
    assert not grads["x"][::2].any()  # l1 is 0 there: relu passes nothing back to x
    assert grads["x"][1::2].any()
    for got in (_modules(x, y, p), _engine(x, y, p)):
        _assert_agree(got, manual.forward_and_backward(x, y, **p), 1e-10, 1e-12)


def test_pytorch_agrees_at_relus_kink(torch):
    x, y, p = _at_the_kink(np.float64)
    _assert_agree(_pytorch(torch, x, y, p), manual.forward_and_backward(x, y, **p), 1e-10, 1e-12)


def test_forward_is_one_model_on_arrays_and_tensors():
    x, y, p = _random_lesson(np.float32)
    steps = manual.forward(x, y, **p)
    assert steps["l2"].dtype == np.float32 and steps["out"].shape == (200, 1)
    tensors = manual.forward(Tensor(x), Tensor(y), **{k: Tensor(a) for k, a in p.items()})
    for name, array in steps.items():
        np.testing.assert_array_equal(tensors[name].numpy(), array, err_msg=name)


def test_manual_matches_pytorch_on_random_data(torch):
    x, y, p = _random_lesson(np.float64)
    _assert_agree(_pytorch(torch, x, y, p), manual.forward_and_backward(x, y, **p), 1e-10, 1e-12)


def test_all_three_agree_on_real_digits(torch, mnist_test):
    images, labels = mnist_test
    x, y = images[:2000], labels[:2000].astype(np.float32)
    p = _params(np.random.default_rng(0), 784, 50, np.float32)
    want = manual.forward_and_backward(x, y, **p)
    assert want[0] > 1  # random weights are far from predicting the digit: a real gradient
    for got in (_modules(x, y, p), _engine(x, y, p), _pytorch(torch, x, y, p)):
        _assert_agree(got, want, 1e-4, 1e-5)


# --- the two gradient formulas against central differences ---

def _numeric_grad(f, array, eps=1e-6):
    """d f() / d array by central differences, entry by entry (array is changed, then restored)."""
    grad = np.zeros_like(array)
    for idx in np.ndindex(array.shape):
        x0 = array[idx]
        array[idx] = x0 + eps
        up = f()
        array[idx] = x0 - eps
        down = f()
        array[idx] = x0
        grad[idx] = (up - down) / (2 * eps)
    return grad


def test_lin_grad_matches_central_differences():
    rng = np.random.default_rng(0)
    inp, w, b = rng.standard_normal((5, 4)), rng.standard_normal((4, 3)), rng.standard_normal(3)
    out_g = rng.standard_normal((5, 3))  # the loss is sum(out_g * out), so d loss / d out = out_g

    def loss():
        return (out_g * manual.lin(inp, w, b)).sum()
    inp_g, w_g, b_g = manual.lin_grad(inp, out_g, w)
    for got, array in ((inp_g, inp), (w_g, w), (b_g, b)):
        np.testing.assert_allclose(got, _numeric_grad(loss, array), rtol=1e-7, atol=1e-9)


def test_relu_grad_matches_central_differences():
    rng = np.random.default_rng(1)
    inp = rng.uniform(0.1, 1, (4, 6)) * rng.choice([-1.0, 1.0], (4, 6))  # away from the kink
    out_g = rng.standard_normal((4, 6))
    got = manual.relu_grad(inp, out_g)
    np.testing.assert_allclose(got, _numeric_grad(lambda: (out_g * manual.relu(inp)).sum(), inp),
                               rtol=1e-7, atol=1e-9)


def test_relu_grad_passes_nothing_at_the_kink_as_the_engines_relu():
    """At 0 relu has no derivative; the lesson's (inp > 0) passes nothing there, as the
    engine's relu and PyTorch's do (clamp_min(0.) would pass everything)."""
    inp = np.array([[-1.0, 0.0, 2.0], [0.0, 3.0, -0.0]])
    out_g = np.array([[5.0, 7.0, 11.0], [13.0, 17.0, 19.0]])
    got = manual.relu_grad(inp, out_g)
    np.testing.assert_array_equal(got, [[0.0, 0.0, 11.0], [0.0, 17.0, 0.0]])
    x = Tensor(inp, requires_grad=True)
    x.relu().backward(out_g)
    np.testing.assert_array_equal(got, np.asarray(x.grad))


def test_mse_grad_matches_central_differences():
    rng = np.random.default_rng(2)
    inp, targ = rng.standard_normal((6, 1)), rng.standard_normal(6)
    loss_fn = manual.MSE()
    loss_fn(inp, targ)
    np.testing.assert_allclose(loss_fn.backward(),
                               _numeric_grad(lambda: manual.mse(inp, targ), inp), rtol=1e-7)


def test_module_base_leaves_forward_and_bwd_to_subclasses():
    with pytest.raises(AttributeError, match="forward"):
        manual.Module()(np.ones(2))

    class Forward(manual.Module):
        def forward(self, x):
            return x
    layer = Forward()
    layer(np.ones(2))
    with pytest.raises(AttributeError, match="bwd"):
        layer.backward(np.ones(2))
