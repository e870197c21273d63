"""Hooks, as PyTorch's (engine/utils/hooks.py's handles): Tensor.register_hook sees and may
replace a tensor's gradient during backward, for leaves and interior tensors, in
engine.grad and under create_graph; Module.register_forward_hook and
register_forward_pre_hook see and may replace a layer's output and arguments. Each handle's
remove() takes its hook out."""
from __future__ import annotations

import numpy as np
import pytest

import engine
import nn


def _program(make, log):
    """y = sum((3a)^2) with hooks on the leaf a and the interior b = 3a, on `make` (engine or
    torch): the interior hook logs and doubles its gradient, the leaf's logs it."""
    a = make.tensor([1.0, -2.0], requires_grad=True)
    b = a * 3
    a.register_hook(lambda g: log.append(("a", g.tolist())))
    b.register_hook(lambda g: log.append(("b", g.tolist())))
    b.register_hook(lambda g: g * 2)
    (b * b).sum().backward()
    return a.grad.tolist()


def test_tensor_hooks_see_and_replace_gradients_in_order():
    log = []
    assert _program(engine, log) == [36.0, -72.0]  # 3 * (2 * (2 * 3a))
    assert log == [("b", [6.0, -12.0]), ("a", [36.0, -72.0])]


def test_tensor_hooks_match_pytorch():
    torch = pytest.importorskip("torch")
    ours, theirs = [], []
    assert _program(engine, ours) == _program(torch, theirs)
    assert ours == theirs


def test_a_removed_hook_is_not_called_and_handles_work_as_with_blocks():
    x = engine.tensor([1.0, 2.0], requires_grad=True)
    calls = []
    handle = x.register_hook(lambda g: calls.append(1))
    handle.remove()
    with x.register_hook(lambda g: g * 0):
        (x * x).sum().backward()
    assert x.grad.tolist() == [0.0, 0.0]
    x.grad = None
    (x * x).sum().backward()
    assert x.grad.tolist() == [2.0, 4.0] and calls == []


def test_hooks_run_in_engine_grad_and_under_create_graph():
    x = engine.tensor([1.0, 2.0], requires_grad=True)
    x.register_hook(lambda g: g * 10)
    (g,) = engine.grad((x ** 3).sum(), x, create_graph=True)
    assert g.tolist() == [30.0, 120.0]  # 10 * 3x^2
    (gg,) = engine.grad(g.sum(), x)  # the hook's * 10 is part of the graph: 10 * 10 * 6x
    assert gg.tolist() == [600.0, 1200.0]


def test_a_hook_must_return_none_or_a_gradient_of_the_shape():
    x = engine.tensor([1.0, 2.0], requires_grad=True)
    x.register_hook(lambda g: g.sum())
    with pytest.raises(RuntimeError, match=r"hook of a tensor of shape \(2,\) returned"):
        (x * x).sum().backward()
    with pytest.raises(RuntimeError, match="does not require grad"):
        engine.ones(2).register_hook(print)
    with pytest.raises(TypeError, match="register_hook takes a function, got int"):
        engine.ones(2, requires_grad=True).register_hook(3)


def test_forward_hooks_record_activations_as_fastais_lesson_does():
    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    means = {}

    def record(module, args, out):  # returns None: the output goes on unchanged
        means.setdefault(list(model).index(module), float(out.mean()))
    handles = [layer.register_forward_hook(record) for layer in model]
    x = engine.randn(5, 3)
    model(x)
    assert means[1] == pytest.approx(float(model[1](model[0](x)).mean()))
    for handle in handles:
        handle.remove()
    means.clear()
    model(x)
    assert means == {}


def test_forward_hooks_may_replace_arguments_and_output():
    layer = nn.Linear(2, 2)
    layer.register_forward_pre_hook(lambda module, args: args[0] * 0)  # one argument
    layer.register_forward_hook(lambda module, args, out: out + 1)
    np.testing.assert_allclose(layer(engine.ones(1, 2)).numpy(), [layer.bias.numpy() + 1])


def test_module_hooks_match_pytorch():
    torch = pytest.importorskip("torch")
    seen = {}
    for make, lib in ((nn, engine), (torch.nn, torch)):
        lib.manual_seed(0)
        layer = make.Linear(3, 2)
        layer.register_forward_pre_hook(lambda module, args: (args[0] * 2,))
        layer.register_forward_hook(lambda module, args, out, k=lib.__name__: seen.update(
            {k: (args[0].tolist(), out.tolist())}))
        layer(lib.ones(1, 3))
    (ours_in, ours_out), (theirs_in, theirs_out) = seen["engine"], seen["torch"]
    assert ours_in == theirs_in
    np.testing.assert_allclose(ours_out, theirs_out, rtol=1e-6)
