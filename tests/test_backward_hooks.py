"""nn/backward_hooks.py: a Module's register_full_backward_hook and
register_full_backward_pre_hook against PyTorch's: what the hooks see (grad_input,
grad_output, in order), what their replacements do to the gradients further back (guided
backprop's clamp), several inputs and outputs, inputs that take no gradient, removal; and
worked out by hand without PyTorch."""
from __future__ import annotations

import numpy as np
import pytest

import engine
import nn


def _tolist(grads):
    return [None if g is None else g.tolist() for g in grads]


def assert_same(ours, theirs):
    """Nested lists, tuples and strings equal, numbers to float32's rounding."""
    if isinstance(ours, (list, tuple)):
        assert isinstance(theirs, (list, tuple)) and len(ours) == len(theirs), (ours, theirs)
        for a, b in zip(ours, theirs):
            assert_same(a, b)
    elif isinstance(ours, float):
        assert ours == pytest.approx(theirs, rel=1e-5, abs=1e-6)
    else:
        assert ours == theirs


class TwoInTwoOut:
    """A module of two inputs and two outputs, written once for either library."""

    def __init__(self, lib):
        class Module(lib.nn.Module):
            def forward(self, x, y, scale=1.0):
                return x * y * scale, (x - y).tanh()
        self.module = Module()


def run(lib, x_grad=True, guided=False):
    """A small net's backward pass with hooks on each kind of module; what the hooks saw and
    the input's gradient."""
    lib.manual_seed(0)
    net = lib.nn.Sequential(lib.nn.Linear(3, 4), lib.nn.ReLU(), lib.nn.Linear(4, 2))
    seen = []
    net[0].register_full_backward_hook(
        lambda m, gi, go: seen.append(("linear 0", _tolist(gi), _tolist(go))))
    if guided:  # guided backprop: only positive gradients pass back through the ReLU
        net[1].register_full_backward_hook(lambda m, gi, go: (gi[0].clamp(min=0),))
    net[2].register_full_backward_pre_hook(lambda m, go: seen.append(("pre 2", _tolist(go))))
    x = lib.tensor([[1.0, -2.0, 0.5], [0.3, 0.1, -1.0]], requires_grad=x_grad)
    (net(x) * lib.tensor([1.0, -3.0])).sum().backward()
    return seen, (x.grad.tolist() if x_grad else None), net[0].weight.grad.tolist()


@pytest.mark.parametrize("x_grad", [True, False])
@pytest.mark.parametrize("guided", [False, True])
def test_the_hooks_see_and_change_what_pytorchs_do(torch, x_grad, guided):
    torch.set_default_dtype(torch.float32)
    results = []
    for lib in (engine, torch):
        if x_grad:
            results.append(run(lib, x_grad, guided))
        else:  # the first layer's hook fires with grad_input (None,): PyTorch warns of it
            with pytest.warns(UserWarning, match="since no inputs require gradients"):
                results.append(run(lib, x_grad, guided))
    # the same calls, in the same order, with the same gradients; the same results
    assert_same(*results)


def test_several_inputs_and_outputs_as_pytorchs(torch):
    torch.set_default_dtype(torch.float32)
    results = []
    for lib in (engine, torch):
        module = TwoInTwoOut(lib).module
        seen = []
        module.register_full_backward_pre_hook(lambda m, go: seen.append(_tolist(go)))
        handle = module.register_full_backward_hook(
            lambda m, gi, go: (seen.append((_tolist(gi), _tolist(go))), (gi[0] * 2, gi[1]))[1])
        x = lib.tensor([0.5, -1.0], requires_grad=True)
        y = lib.tensor([2.0, 3.0], requires_grad=True)
        a, b = module(x, y, scale=3.0)
        (a.sum() + (b * b).sum()).backward()
        handle.remove()
        x.grad = y.grad = None
        a, b = module(x, y)  # removed: nothing more is seen
        a.sum().backward()
        results.append((seen, x.grad.tolist(), y.grad.tolist()))
    assert len(results[0][0]) == 3  # pre, full, then the pre-hook alone
    assert_same(*results)


def test_by_hand_without_pytorch():
    layer = nn.Linear(2, 1, bias=False)
    layer.weight.data = engine.tensor([[2.0, -1.0]])
    seen = {}
    layer.register_full_backward_hook(lambda m, gi, go: seen.update(gi=gi, go=go))
    x = engine.tensor([[1.0, 1.0]], requires_grad=True)
    (layer(x) * 3).sum().backward()
    assert seen["go"][0].tolist() == [[3.0]]  # d loss / d output
    assert seen["gi"][0].tolist() == [[6.0, -3.0]]  # d loss / d input = 3 w
    assert x.grad.tolist() == [[6.0, -3.0]]
    layer.register_full_backward_hook(lambda m, gi, go: (gi[0] * 0,))
    x.grad = None
    layer(x).sum().backward()
    assert x.grad.tolist() == [[0.0, 0.0]]  # the replacement is what goes on


def test_a_replacement_of_the_wrong_shape_is_refused():
    layer = nn.Linear(2, 2)
    layer.register_full_backward_hook(lambda m, gi, go: (engine.zeros(3),))
    with pytest.raises(RuntimeError, match=r"a backward hook returned a gradient of shape "
                                           r"\(3,\) for grad_input of shape \(1, 2\)"):
        layer(engine.ones(1, 2, requires_grad=True)).sum().backward()


def test_no_hooks_run_without_a_graph():
    layer = nn.Linear(2, 2)
    calls = []
    layer.register_full_backward_hook(lambda m, gi, go: calls.append(1))
    with engine.no_grad():
        out = layer(engine.ones(1, 2))
    assert not out.requires_grad and calls == []


def test_a_gradient_replaced_by_none_sends_zeros():
    """(PyTorch sends nothing there, so a leaf's .grad stays None; here it is 0.)"""
    module = TwoInTwoOut(engine).module
    module.register_full_backward_hook(lambda m, gi, go: (gi[0], None))
    x, y = engine.ones(2, requires_grad=True), engine.ones(2, requires_grad=True)
    module(x, y)[0].sum().backward()
    assert x.grad.tolist() == [1.0, 1.0] and y.grad.tolist() == [0.0, 0.0]
