"""nn/activation.py's modules against torch.nn's: the same output and input gradient on the
same numbers (kinks included), the same repr, in-place forms that keep the graph, PReLU's
parameter and its state_dict name; and, without PyTorch, values worked out by hand.
(The functions' gradients are rows of tests/tensor_op_table.py, kinks in its KINKS.)"""
from __future__ import annotations

import numpy as np
import pytest

import engine
import nn
import nn.functional as F

X = np.array([[-4.0, -3.0, -1.0, -0.5, 0.0, 0.25], [0.5, 1.0, 3.0, 6.0, 25.0, -7.0]],
             np.float32)
# (module name, constructor arguments): every activation module, defaults and options
MODULES = [("LeakyReLU", ()), ("LeakyReLU", (0.2,)), ("ELU", ()), ("ELU", (0.5,)),
           ("Softplus", ()), ("Softplus", (2.0, 10.0)), ("Mish", ()), ("SiLU", ()),
           ("Hardtanh", ()), ("Hardtanh", (-2.0, 3.0)), ("ReLU6", ()), ("Hardswish", ()),
           ("Hardsigmoid", ()), ("Softsign", ()), ("LogSigmoid", ()), ("GLU", ()),
           ("GLU", (0,)), ("PReLU", ())]


def _run(lib, name, args):
    """(module repr, output, input gradient) of the module on X, for lib = nn or torch.nn."""
    layer = getattr(lib, name)(*args).float()  # (the torch fixture's default is float64)
    x = (engine if lib is nn else _torch()).tensor(X, requires_grad=True)
    out = layer(x)
    weights = np.arange(out.numel()).reshape(tuple(out.shape)) % 3 + 1.0
    (out * (engine if lib is nn else _torch()).tensor(weights, dtype=out.dtype)).sum().backward()
    return repr(layer), out.detach().numpy(), x.grad.numpy()


def _torch():
    import torch
    return torch


@pytest.mark.parametrize("name, args", MODULES, ids=[f"{n}{a}" for n, a in MODULES])
def test_each_module_gives_pytorchs_output_gradient_and_repr(torch, name, args):
    ours, theirs = _run(nn, name, args), _run(torch.nn, name, args)
    assert ours[0] == theirs[0]
    np.testing.assert_allclose(ours[1], theirs[1], rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(ours[2], theirs[2], rtol=1e-6, atol=1e-7)
    assert ours[1].dtype == ours[2].dtype == np.float32


def test_values_worked_out_by_hand():
    x = engine.tensor([-2.0, 0.0, 3.0, 7.0])
    assert nn.LeakyReLU(0.1)(x).tolist() == pytest.approx([-0.2, 0.0, 3.0, 7.0])
    assert nn.ReLU6()(x).tolist() == [0.0, 0.0, 3.0, 6.0]
    assert nn.Hardtanh()(x).tolist() == [-1.0, 0.0, 1.0, 1.0]
    assert nn.Softsign()(x).tolist() == pytest.approx([-2 / 3, 0.0, 0.75, 0.875])
    assert nn.Softplus(threshold=5.0)(x).tolist()[-1] == 7.0  # above the threshold: x itself
    assert nn.GLU()(engine.tensor([2.0, 0.0])).tolist() == [1.0]  # 2 * sigmoid(0)
    assert F.logsigmoid(engine.tensor([-1000.0])).tolist() == [-1000.0]  # no overflow


def test_kinks_take_pytorchs_one_sided_slopes():
    x = engine.tensor([0.0, 6.0, -1.0, 1.0], requires_grad=True)
    (F.leaky_relu(x[:1], 0.2) + F.relu6(x[:2]).sum() + F.hardtanh(x[2:]).sum()).sum().backward()
    # leaky_relu'(0) is the slope, relu6 passes nothing at 0 and 6, hardtanh none at its bounds
    assert x.grad.tolist() == pytest.approx([0.2, 0.0, 0.0, 0.0])


def test_inplace_forms_write_into_the_input_and_keep_the_graph():
    leaf = engine.tensor([-1.0, 2.0], requires_grad=True)
    x = leaf * 1
    out = nn.LeakyReLU(0.5, inplace=True)(x)
    assert out is x and x.tolist() == [-0.5, 2.0]
    out.sum().backward()
    assert leaf.grad.tolist() == [0.5, 1.0]


def test_prelu_learns_its_slope_and_names_it_as_pytorch():
    layer = nn.PReLU(num_parameters=3, init=0.1)
    assert [name for name, _ in layer.named_parameters()] == ["weight"]
    assert layer.weight.tolist() == pytest.approx([0.1] * 3)
    out = layer(engine.tensor([[-1.0, -2.0, 3.0]]))
    out.sum().backward()
    assert layer.weight.grad.tolist() == [-1.0, -2.0, 0.0]


def test_prelu_state_dict_loads_into_pytorchs(torch):
    ours = nn.PReLU(2)
    theirs = torch.nn.PReLU(2)
    theirs.load_state_dict({k: torch.from_numpy(np.array(v)) for k, v in ours.state_dict().items()})
    assert list(theirs.state_dict()) == list(ours.state_dict())


@pytest.mark.parametrize("make, error, message", [
    (lambda: F.glu(engine.ones(3)), ValueError, r"glu halves dim -1, which must be even"),
    (lambda: nn.PReLU(2)(engine.ones(2, 3)), ValueError,
     r"2 slopes need input with 2 channels in dim 1, got input of shape \(2, 3\)"),
])
def test_bad_input_is_named(make, error, message):
    with pytest.raises(error, match=message):
        make()


def test_hardtanhs_old_argument_names_work_with_pytorchs_warning():
    with pytest.warns(FutureWarning, match="is deprecated and renamed to") as warned:
        layer = nn.Hardtanh(min_value=-2.0, max_value=3.0)
    assert [str(w.message) for w in warned] == [
        "keyword argument `min_value` is deprecated and renamed to `min_val`",
        "keyword argument `max_value` is deprecated and renamed to `max_val`"]
    assert (layer.min_val, layer.max_val) == (-2.0, 3.0)
    assert layer(engine.tensor([-5.0, 5.0])).tolist() == [-2.0, 3.0]
    with pytest.raises(ValueError, match=r"max_val \(1.0\) must be greater than min_val \(1.0\)"):
        nn.Hardtanh(1.0, 1.0)  # PyTorch refuses equal bounds too
