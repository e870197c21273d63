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
    "xlog1py": (lambda torch, x, y: torch.special.xlog1py(x, y),
                [[0.0, 2.0, -1.0, 0.0], [-0.5, 3.0, 2.0, -1.0]]),
    "logsumexp": (lambda torch, x: torch.special.logsumexp(x, 0), [[-1.5, 0.2, 3.0]]),
    "softmax": (lambda torch, x: torch.special.softmax(x, 0), [[-1.5, 0.2, 3.0]]),
    "log_softmax": (lambda torch, x: torch.special.log_softmax(x, 0), [[-1.5, 0.2, 3.0]]),
    "ndtr": (lambda torch, x: torch.special.ndtr(x), [[-40.0, 0.0, 1.0]]),
    "ndtri": (lambda torch, x: torch.special.ndtri(x), [[0.01, 0.5, 0.975]]),
    "gammaln": (lambda torch, x: torch.special.gammaln(x), [[-2.3, 0.3, 7.0]]),
    # (digamma's gradient at 15 and more from 0: PyTorch's trigamma is 5e-10 off at 1)
    "digamma": (lambda torch, x: torch.special.digamma(x), [[-15.3, 20.0, 35.5]]),
    "psi": (lambda torch, x: torch.special.psi(x), [[-15.3, 20.0, 35.5]]),
    "polygamma": (lambda torch, x: torch.special.polygamma(2, x), [[-1.5, 0.4, 3.0]]),
    "multigammaln": (lambda torch, x: torch.special.multigammaln(x, 3), [[1.6, 2.5, 17.0]]),
    **{name: (lambda torch, x, name=name: getattr(torch.special, name)(x), [[-9.5, 0.4, 3.0]])
       for name in ("i0", "i0e", "i1", "i1e")},  # (more in tests/test_bessel.py)
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
    with pytest.raises(AttributeError, match="bessel_j0"):
        engine.special.bessel_j0(Tensor([1.0]))


@pytest.mark.parametrize("p", [1, 2, 4])
def test_multigammaln_is_its_sum_of_lgammas_and_keeps_float32(p):
    a = Tensor([[1.6, 2.5], [3.0, 17.25]])
    got = engine.special.multigammaln(a, p)
    assert got.dtype == engine.float32 and got.shape == (2, 2)
    x = a.numpy().astype(np.float64)
    want = sum(engine.lgamma(Tensor(x - j / 2)).numpy() for j in range(p))
    np.testing.assert_allclose(got.numpy(), want + p * (p - 1) / 4 * np.log(np.pi), rtol=1e-6)


def test_multigammaln_takes_any_a_as_pytorch_does(torch):
    """PyTorch 2.13 no longer checks that a > (p - 1) / 2: below, inf at a pole, else the sum."""
    a = [-0.3, 0.2, 0.5, 1.0, -1.0]
    got = engine.special.multigammaln(Tensor(a, dtype=np.float64), 3)
    want = torch.special.multigammaln(torch.tensor(a, dtype=torch.float64), 3)
    np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-13)
    assert np.isinf(got.numpy()[2:]).all()


def test_multigammaln_refuses_p_below_1_and_bool_tensors():
    with pytest.raises(ValueError, match="p has to be greater than or equal to 1"):
        engine.special.multigammaln(Tensor([2.0]), 0)
    with pytest.raises(TypeError, match="boolean"):
        engine.special.multigammaln(Tensor([True]), 2)
    with pytest.raises(TypeError):
        engine.special.multigammaln(Tensor([2.0]), 1.5)
