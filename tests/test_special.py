"""engine/special.py: torch.special on Tensors, as PyTorch code calls it
(`torch.special.erf(x)`): every function returns a Tensor in the graph with PyTorch's
values and gradients (the op tables check the ops beneath it at every shape)."""
from __future__ import annotations

import numpy as np
import pytest

import engine
from engine import Tensor

# name -> the call, written once for `torch` = engine or torch, and its inputs
CALLS = {
    "erf": (lambda torch, x: torch.special.erf(x), [[-1.5, 0.2, 2.0]]),
    "erfc": (lambda torch, x: torch.special.erfc(x), [[-1.5, 0.2, 6.0]]),
    "erfinv": (lambda torch, x: torch.special.erfinv(x), [[-0.9, 0.1, 0.999]]),
    "exp2": (lambda torch, x: torch.special.exp2(x), [[-1.5, 0.2, 3.0]]),
    "expit": (lambda torch, x: torch.special.expit(x), [[-30.0, 0.2, 3.0]]),
    "expm1": (lambda torch, x: torch.special.expm1(x), [[-1.5, 1e-10, 3.0]]),
    "log1p": (lambda torch, x: torch.special.log1p(x), [[-0.5, 1e-10, 3.0]]),
    "logit": (lambda torch, x: torch.special.logit(x), [[0.1, 0.5, 0.9]]),
    "logit_eps": (lambda torch, x: torch.special.logit(x, eps=0.2), [[0.1, 0.5, 0.9]]),
    "round": (lambda torch, x: torch.special.round(x), [[-1.6, 0.4, 2.5]]),
    "sinc": (lambda torch, x: torch.special.sinc(x), [[-1.5, 0.0, 0.3]]),
    "xlogy": (lambda torch, x, y: torch.special.xlogy(x, y), [[0.0, 2.0, -1.0], [0.5, 3.0, 2.0]]),
    "logsumexp": (lambda torch, x: torch.special.logsumexp(x, 0), [[-1.5, 0.2, 3.0]]),
    "softmax": (lambda torch, x: torch.special.softmax(x, 0), [[-1.5, 0.2, 3.0]]),
    "log_softmax": (lambda torch, x: torch.special.log_softmax(x, 0), [[-1.5, 0.2, 3.0]]),
    "ndtr": (lambda torch, x: torch.special.ndtr(x), [[-40.0, 0.0, 1.0]]),
    "ndtri": (lambda torch, x: torch.special.ndtri(x), [[0.01, 0.5, 0.975]]),
}


def test_every_function_is_called_here():
    assert {name.split("_eps")[0] for name in CALLS} == set(engine.special.__all__)


@pytest.mark.parametrize("name", CALLS)
def test_each_function_is_a_graph_op(name):
    call, inputs = CALLS[name]
    xs = [Tensor(x, requires_grad=True, dtype=np.float64) for x in inputs]
    out = call(engine, *xs)
    assert isinstance(out, Tensor) and out.requires_grad  # not an array that drops the graph
    out.sum().backward()
    assert all(x.grad is not None and x.grad.shape == x.shape for x in xs)


@pytest.mark.parametrize("name", CALLS)
def test_each_function_gives_pytorchs_values_and_gradients(torch, name):
    call, inputs = CALLS[name]
    ours = [Tensor(x, requires_grad=True, dtype=np.float64) for x in inputs]
    theirs = [torch.tensor(x, requires_grad=True, dtype=torch.float64) for x in inputs]
    got, want = call(engine, *ours), call(torch, *theirs)
    np.testing.assert_allclose(got.detach().numpy(), want.detach().numpy(), rtol=1e-13)
    got.sum().backward()
    want.sum().backward()
    for x, t in zip(ours, theirs):
        np.testing.assert_allclose(x.grad.numpy(), t.grad.numpy(), rtol=1e-12)


def test_a_function_torch_special_has_but_we_lack_raises_attribute_error():
    with pytest.raises(AttributeError, match="gammaln"):
        engine.special.gammaln(Tensor([1.0]))
