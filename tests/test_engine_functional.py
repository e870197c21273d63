"""engine/functional.py (torch.autograd.functional's names): every function against
PyTorch's on a table of functions, against central differences of the engine's own
derivatives, on Values as 0-d tensors, with create_graph and strict; and the Hessian of
the lesson's MSE loss."""
from __future__ import annotations

import numpy as np
import pytest

import engine
import engine.functional as EF
from engine import Tensor, Value
from nn import manual

RNG = np.random.default_rng(0)
X, Y = RNG.standard_normal(3), RNG.standard_normal((2, 3))
V3, V23 = RNG.standard_normal(3), RNG.standard_normal((2, 3))


def scalar_f(a, b=None):
    """A function with one one-entry output, of one input or two."""
    s = a.tanh() * (a * a).sum()
    return (s * s).sum() if b is None else s.sum() * (b.exp() * a).sum()


def pair_f(a, b):
    """Two outputs of two inputs."""
    return (a * b).tanh(), a.exp().sum() * b


# name, call(functional module, make-a-tensor): the same call on ours and on PyTorch's
CALLS = [
    ("jacobian", lambda F, t: F.jacobian(lambda a: a.tanh() * a.sum(), t(X))),
    ("jacobian_tuples", lambda F, t: F.jacobian(pair_f, (t(X), t(Y)))),
    ("jacobian_tuple_out", lambda F, t: F.jacobian(lambda a: (a.exp(), a.sum()), t(X))),
    ("jacobian_unused_input", lambda F, t: F.jacobian(lambda a, b: a * 2, (t(X), t(Y)))),
    ("jacobian_create_graph", lambda F, t: F.jacobian(lambda a: a.tanh() * a.sum(), t(X),
                                                      create_graph=True)),
    ("jacobian_vectorize", lambda F, t: F.jacobian(pair_f, (t(X), t(Y)), vectorize=True)),
    ("hessian", lambda F, t: F.hessian(scalar_f, t(X))),
    ("hessian_tuple", lambda F, t: F.hessian(scalar_f, (t(X), t(Y)))),
    ("hessian_linear", lambda F, t: F.hessian(lambda a: a.sum() * 3, t(X))),
    ("hessian_of_one_entry_out", lambda F, t: F.hessian(lambda a: (a ** 3).sum().reshape(1, 1),
                                                        t(X))),
    ("vjp", lambda F, t: F.vjp(pair_f, (t(X), t(Y)), (t(V23), t(V23)))),
    ("vjp_scalar_without_v", lambda F, t: F.vjp(scalar_f, t(X))),
    ("jvp", lambda F, t: F.jvp(pair_f, (t(X), t(Y)), (t(V3), t(V23)))),
    ("jvp_linear", lambda F, t: F.jvp(lambda a: a * 3, t(X), t(V3))),
    ("vhp", lambda F, t: F.vhp(scalar_f, (t(X), t(Y)), (t(V3), t(V23)))),
    ("hvp", lambda F, t: F.hvp(scalar_f, (t(X), t(Y)), (t(V3), t(V23)))),
    ("hvp_single", lambda F, t: F.hvp(scalar_f, t(X), t(V3))),
    ("hvp_create_graph", lambda F, t: F.hvp(scalar_f, t(X), t(V3), create_graph=True)),
]


def ours(a):
    return Tensor(a, dtype=np.float64)


def assert_same(got, want, path="result"):
    """Same nesting of tuples, same shapes, same numbers."""
    if isinstance(want, tuple):
        assert isinstance(got, tuple) and len(got) == len(want), f"{path}: {got!r:.80}"
        for i, (g, w) in enumerate(zip(got, want)):
            assert_same(g, w, f"{path}[{i}]")
        return
    assert isinstance(got, Tensor) and got.shape == tuple(want.shape), path
    np.testing.assert_allclose(got.numpy(), want.detach().numpy(), rtol=1e-10, atol=1e-12,
                               err_msg=path)


@pytest.mark.parametrize("call", [pytest.param(c, id=n) for n, c in CALLS])
def test_matches_torch_autograd_functional(torch, call):
    import torch.autograd.functional as TF
    assert_same(call(EF, ours), call(TF, torch.tensor))


def _leaves(result):
    return [r for part in result for r in _leaves(part)] if isinstance(result, tuple) else [result]


@pytest.mark.parametrize("name, call", [pytest.param(n, c, id=n) for n, c in CALLS])
def test_results_are_out_of_the_graph_unless_create_graph(name, call):
    results = _leaves(call(EF, ours))
    if name.endswith("create_graph"):
        assert any(r.requires_grad for r in results)
    else:
        assert not any(r.requires_grad for r in results)


def _numeric_jacobian(f, x, eps=1e-6):
    """d f / d x by central differences, shape f.shape + x.shape (f of one float64 array)."""
    cols = []
    for idx in np.ndindex(x.shape):
        up, down = x.copy(), x.copy()
        up[idx] += eps
        down[idx] -= eps
        cols.append((f(up) - f(down)) / (2 * eps))
    return np.moveaxis(np.array(cols), 0, -1).reshape(np.shape(f(x)) + x.shape)


def test_jacobian_and_hessian_match_central_differences():
    def f(a):
        return a.tanh() * a.sum() + a.exp()

    def array_f(a):
        with engine.no_grad():
            return f(ours(a)).numpy()

    np.testing.assert_allclose(EF.jacobian(f, ours(X)).numpy(), _numeric_jacobian(array_f, X),
                               rtol=1e-6, atol=1e-8)

    def gradient(a):
        return EF.vjp(scalar_f, ours(a))[1].numpy()

    np.testing.assert_allclose(EF.hessian(scalar_f, ours(X)).numpy(),
                               _numeric_jacobian(gradient, X), rtol=1e-6, atol=1e-7)


def test_products_agree_with_the_jacobian_and_hessian():
    """vjp = v J, jvp = J v, hvp = H v = v H = vhp: each product from its matrix."""
    f = lambda a: a.tanh() * a.sum() + a.exp()  # noqa: E731
    jac = EF.jacobian(f, ours(X)).numpy()
    np.testing.assert_allclose(EF.vjp(f, ours(X), ours(V3))[1].numpy(), V3 @ jac, rtol=1e-12)
    np.testing.assert_allclose(EF.jvp(f, ours(X), ours(V3))[1].numpy(), jac @ V3, rtol=1e-12)
    hess = EF.hessian(scalar_f, ours(X)).numpy()
    np.testing.assert_allclose(hess, hess.T, rtol=1e-12)
    for product in (EF.hvp, EF.vhp):
        value, hv = product(scalar_f, ours(X), ours(V3))
        np.testing.assert_allclose(hv.numpy(), hess @ V3, rtol=1e-10)
        assert value.item() == pytest.approx(scalar_f(ours(X)).item(), rel=1e-15)


def test_create_graph_results_differentiate_again():
    """d/dx of (H(x) v) . w, through hvp's own graph, is a third derivative; it matches
    central differences of hvp itself."""
    x = ours(X).requires_grad_()
    _, hv = EF.hvp(scalar_f, x, ours(V3), create_graph=True)
    w = RNG.standard_normal(3)
    (g,) = engine.grad((hv * ours(w)).sum(), x)

    def hv_dot_w(a):
        return EF.hvp(scalar_f, ours(a), ours(V3))[1].numpy() @ w

    np.testing.assert_allclose(g.numpy(), _numeric_jacobian(hv_dot_w, X), rtol=1e-5, atol=1e-6)
    assert x.grad is None  # functional never writes .grad


# --- Values, as 0-d tensors ---

def value_f(a, b):
    return (a * b).tanh() * a.exp() + b ** 3


def test_values_give_values_in_pytorchs_nesting(torch):
    import torch.autograd.functional as TF
    point = (0.5, -1.2)
    H = EF.hessian(value_f, tuple(Value(p) for p in point))
    H_torch = TF.hessian(value_f, tuple(torch.tensor(p) for p in point))
    assert all(isinstance(h, Value) for row in H for h in row)
    np.testing.assert_allclose([[h.data for h in row] for row in H], H_torch, rtol=1e-12)
    J = EF.jacobian(lambda a: (a.exp(), a * a), Value(0.5))
    assert [j.data for j in J] == pytest.approx([np.exp(0.5), 1.0], rel=1e-15)
    _, hv = EF.hvp(value_f, tuple(Value(p) for p in point), (Value(1.0), Value(2.0)))
    _, hv_torch = TF.hvp(value_f, tuple(torch.tensor(p) for p in point),
                         (torch.tensor(1.0), torch.tensor(2.0)))
    np.testing.assert_allclose([h.data for h in hv], [h.item() for h in hv_torch], rtol=1e-12)
    _, jv = EF.jvp(lambda a: (a.exp(), a * a), Value(0.5), Value(2.0))
    assert [j.data for j in jv] == pytest.approx([2 * np.exp(0.5), 2.0], rel=1e-15)


def test_values_and_tensors_agree():
    point = (0.5, -1.2)
    H = EF.hessian(value_f, tuple(Value(p) for p in point))
    H_tensor = EF.hessian(value_f, tuple(ours(p) for p in point))
    np.testing.assert_allclose([[h.data for h in row] for row in H],
                               [[h.item() for h in row] for row in H_tensor], rtol=1e-14)
    d2 = EF.hessian(lambda a: a ** 3, Value(2.0))
    assert isinstance(d2, Value) and d2.data == 12.0 and d2._a is None  # a leaf: no graph


# --- errors, with PyTorch's messages ---

@pytest.mark.parametrize("call, message", [
    (lambda: EF.jacobian(lambda a, b: a * 2, (ours(X), ours(Y)), strict=True),
     "Output 0 of the user-provided function is independent of input 1"),
    (lambda: EF.hessian(lambda a: a.sum() * 3, ours(X), strict=True),
     "jacobian of the user-provided function with respect to input 0 is independent"),
    (lambda: EF.vjp(lambda a, b: (a * 2).sum(), (ours(X), ours(Y)), strict=True),
     "The output of the user-provided function is independent of input 1"),
    (lambda: EF.jvp(lambda a: ours(V3), ours(X), ours(V3), strict=True),
     "Output 0 of the user-provided function does not require gradients"),
    (lambda: EF.vjp(lambda a: a * 2, ours(X), ours(Y)),
     r"v has invalid size: should be torch.Size\(\[3\]\) but got torch.Size\(\[2, 3\]\)"),
    (lambda: EF.vjp(pair_f, (ours(X), ours(Y)), (ours(V23),)),
     "v is a tuple of invalid length: should be 2 but got 1"),
    (lambda: EF.vjp(lambda a: a * 2, ours(X)),
     "v can only be None if the user-provided function returns a single Tensor with a "
     "single element"),
    (lambda: EF.hvp(scalar_f, ours(X)),
     "v can only be None if the input to the user-provided function is a single Tensor"),
    (lambda: EF.hessian(lambda a: a * 2, ours(X)),
     r"should contain a single element; it has shape torch.Size\(\[3\]\)"),
    (lambda: EF.hvp(pair_f, (ours(X), ours(Y)), (ours(V3), ours(V23))),
     "The function given to hvp should return a single Tensor"),
    (lambda: EF.jacobian(lambda a: a, ours(X), strategy="forward-mode"),
     "reverse mode only"),
], ids=["strict jacobian", "strict hessian of a linear function", "strict vjp",
        "strict jvp of a constant", "v's shape", "v's length", "vjp without v",
        "hvp without v", "hessian of a vector", "hvp of two outputs", "forward mode"])
def test_errors_say_what_was_wrong(call, message):
    with pytest.raises((RuntimeError, ValueError), match=message):
        call()


@pytest.mark.parametrize("inputs, message", [
    ([1.0], "the value at index 0 has type float"),
    (np.ones(3), "the given inputs has type ndarray"),
    ((Value(1.0), ours(X)), "mix Values and Tensors"),
])
def test_inputs_must_be_nodes_of_one_engine(inputs, message):
    with pytest.raises(TypeError, match=message):
        EF.jacobian(lambda *xs: xs[0], inputs)


def test_reachable_as_torch_spells_it():
    assert engine.autograd.functional.hessian is engine.functional.hessian is EF.hessian


# --- the bar: the Hessian of the lesson's loss in its weights ---

def lesson_loss(x, y):
    """nn.manual's model, lin -> relu -> lin -> MSE, as a function of the weights; relu is
    the lesson's clamp_min(0.), which our tensors and PyTorch's both have."""
    def loss(w1, b1, w2, b2):
        return manual.mse(manual.lin(manual.lin(x, w1, b1).clamp_min(0.0), w2, b2), y)
    return loss


def test_hessian_of_the_lessons_mse_loss_matches_pytorch(torch):
    import torch.autograd.functional as TF
    rng = np.random.default_rng(3)
    n, m, h = 8, 4, 5
    x, y = rng.standard_normal((n, m)), rng.standard_normal(n)
    weights = [rng.standard_normal(s) / 2 for s in [(m, h), (h,), (h, 1), (1,)]]
    H = EF.hessian(lesson_loss(ours(x), ours(y)), tuple(ours(w) for w in weights))
    H_torch = TF.hessian(lesson_loss(torch.tensor(x), torch.tensor(y)),
                         tuple(torch.tensor(w) for w in weights))
    assert_same(H, H_torch)
    full = np.block([[H[i][j].numpy().reshape(weights[i].size, weights[j].size)
                      for j in range(4)] for i in range(4)])
    assert full.shape == (31, 31) and np.abs(full).max() > 0.1  # every block is there
    np.testing.assert_allclose(full, full.T, rtol=1e-12, atol=1e-14)
    worst = max(np.abs(H[i][j].numpy() - H_torch[i][j].numpy()).max()
                for i in range(4) for j in range(4))
    assert worst < 1e-12
