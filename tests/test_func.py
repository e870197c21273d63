"""engine/func.py (torch.func: grad, grad_and_value, vjp, jvp, jacrev, jacfwd, hessian,
vmap) and nn/utils/stateless.py (functional_call, stack_module_state): every call of a table
against closed forms or central differences in float64, and the same call on torch.func;
nesting (grad of grad, transforms inside a training step's backward), the per-sample-gradient
and model-ensembling tutorials, vmap's in_dims, out_dims and randomness, and the errors, with
PyTorch's messages."""
from __future__ import annotations

from collections import OrderedDict, namedtuple

import numpy as np
import pytest

import engine
import engine.func as ef
import nn
import nn.functional as F
from engine import Tensor
from engine.functional import hessian as autograd_hessian
from engine.functional import jacobian as autograd_jacobian
from engine.pytree import broadcast_prefix, describe, flatten, unflatten

RNG = np.random.default_rng(0)
X, Y, M = RNG.standard_normal(3), RNG.standard_normal((2, 3)), RNG.standard_normal((4, 3))
V3, V23 = RNG.standard_normal(3), RNG.standard_normal((2, 3))


# --- numpy twins of the functions the table transforms, and central differences ---

def f1(a):
    """sum(sin(a) a^2): its gradient g1 and the diagonal of its Hessian h1 are below."""
    return (np.sin(a) * a * a).sum()


def g1(a):
    return np.cos(a) * a * a + 2 * a * np.sin(a)


def h1(a):
    return 2 * np.sin(a) + 4 * a * np.cos(a) - a * a * np.sin(a)


def f2_grads(a, b):
    """The gradient of f2(a, b) = sum(exp(a)) * sum(b^2) in a and in b."""
    return np.exp(a) * (b * b).sum(), 2 * b * np.exp(a).sum()


def pair(a, b):
    """Two outputs of two inputs, in numpy."""
    return np.tanh(a * b), np.exp(a).sum() * b


Pair = namedtuple("Pair", "a b")


def fd(f, *args, argnum=0, eps=1e-6):
    """Central differences of numpy f in args[argnum], in float64: shape f's + the argument's."""
    x = np.asarray(args[argnum], np.float64)
    cols = []
    for i in range(x.size):
        step = np.zeros(x.size)
        step[i] = eps
        moved = [list(args), list(args)]
        moved[0][argnum], moved[1][argnum] = x + step.reshape(x.shape), x - step.reshape(x.shape)
        cols.append((np.asarray(f(*moved[0])) - np.asarray(f(*moved[1]))) / (2 * eps))
    return np.moveaxis(np.array(cols), 0, -1).reshape(np.shape(f(*args)) + x.shape)


# name, call(func module, tensor namespace, make-a-tensor), what it should give (numpy)
CASES = [
    ("grad", lambda fn, E, t: fn.grad(lambda a: (a.sin() * a * a).sum())(t(X)),
     lambda: g1(X)),
    ("grad_argnums_tuple", lambda fn, E, t: fn.grad(
        lambda a, b: a.exp().sum() * (b * b).sum(), argnums=(0, 1))(t(X), t(Y)),
     lambda: f2_grads(X, Y)),
    ("grad_negative_argnum", lambda fn, E, t: fn.grad(
        lambda a, b: a.exp().sum() * (b * b).sum(), argnums=-1)(t(X), t(Y)),
     lambda: f2_grads(X, Y)[1]),
    ("grad_and_value_aux", lambda fn, E, t: fn.grad_and_value(
        lambda a: ((a.sin() * a * a).sum(), {"twice": a * 2}), has_aux=True)(t(X)),
     lambda: (g1(X), (f1(X), {"twice": 2 * X}))),
    ("grad_aux", lambda fn, E, t: fn.grad(lambda a: ((a * a).sum(), a.exp()), has_aux=True)(
        t(X)), lambda: (2 * X, np.exp(X))),
    ("grad_dict_argument", lambda fn, E, t: fn.grad(
        lambda p, x: ((p["w"] @ x + p["b"]) ** 2).sum())({"w": t(Y), "b": t(X[:2])}, t(X)),
     lambda: {"w": np.outer(2 * (Y @ X + X[:2]), X), "b": 2 * (Y @ X + X[:2])}),
    ("grad_unused_input", lambda fn, E, t: fn.grad(lambda a, b: (b * b).sum())(t(X), t(Y)),
     lambda: np.zeros(3)),
    ("grad_of_grad", lambda fn, E, t: fn.grad(fn.grad(lambda a: a.sin() * a * a))(t(0.3)),
     lambda: h1(np.array(0.3))),
    ("grad_of_summed_grad", lambda fn, E, t: fn.grad(
        lambda a: fn.grad(lambda b: (b.sin() * b * b).sum())(a).sum())(t(X)),
     lambda: h1(X)),
    ("jacrev_of_grad", lambda fn, E, t: fn.jacrev(fn.grad(lambda a: (a.sin() * a * a).sum()))(
        t(X)), lambda: np.diag(h1(X))),
    ("hessian", lambda fn, E, t: fn.hessian(lambda a: (a.sin() * a * a).sum())(t(X)),
     lambda: np.diag(h1(X))),
    ("hessian_of_a_vector", lambda fn, E, t: fn.hessian(lambda a: a ** 3)(t(X)),
     lambda: 6 * X[:, None, None] * np.eye(3)[:, :, None] * np.eye(3)[:, None, :]),
    ("grad_namedtuple_argument", lambda fn, E, t: fn.grad(lambda p: (p.a * p.b.exp()).sum())(
        Pair(t(X), t(V3))), lambda: Pair(np.exp(V3), X * np.exp(V3))),
    ("hessian_argnums", lambda fn, E, t: fn.hessian(
        lambda a, b: a.exp().sum() * (b * b).sum(), argnums=(0, 1))(t(X), t(Y)),
     lambda: tuple(tuple(fd(lambda a, b: f2_grads(a, b)[i], X, Y, argnum=j) for j in (0, 1))
                   for i in (0, 1))),
    ("jacrev_argnums", lambda fn, E, t: fn.jacrev(
        lambda a, b: ((a * b).tanh(), a.exp().sum() * b), argnums=(0, 1))(t(X), t(Y)),
     lambda: tuple(tuple(fd(lambda a, b: pair(a, b)[i], X, Y, argnum=j) for j in (0, 1))
                   for i in (0, 1))),
    ("jacfwd", lambda fn, E, t: fn.jacfwd(lambda a, b: (a * b).tanh(), argnums=1)(t(X), t(Y)),
     lambda: fd(lambda a, b: pair(a, b)[0], X, Y, argnum=1)),
    ("jacfwd_dict_output", lambda fn, E, t: fn.jacfwd(lambda a: {"e": a.exp(), "s": a.sum()})(
        t(X)), lambda: {"e": np.diag(np.exp(X)), "s": np.ones(3)}),
    ("jacrev_dict_argument", lambda fn, E, t: fn.jacrev(lambda d: d["a"] * d["b"].sum())(
        {"a": t(X), "b": t(Y)}),
     lambda: {"a": np.eye(3) * Y.sum(), "b": X[:, None, None] * np.ones((3, 2, 3))}),
    ("jacrev_aux", lambda fn, E, t: fn.jacrev(lambda a: (a.exp(), a.sum()), has_aux=True)(t(X)),
     lambda: (np.diag(np.exp(X)), X.sum())),
    ("vjp", lambda fn, E, t: (lambda out, back: (out, back((t(V23), t(V23)))))(
        *fn.vjp(lambda a, b: ((a * b).tanh(), a.exp().sum() * b), t(X), t(Y))),
     lambda: (pair(X, Y), tuple(
         sum(np.tensordot(V23, fd(lambda a, b: pair(a, b)[i], X, Y, argnum=j), 2)
             for i in (0, 1)) for j in (0, 1)))),
    ("vjp_aux", lambda fn, E, t: (lambda out, back, aux: (out, back(t(V3)), aux))(
        *fn.vjp(lambda a: (a.exp(), a * 3), t(X), has_aux=True)),
     lambda: (np.exp(X), (V3 * np.exp(X),), 3 * X)),
    ("jvp", lambda fn, E, t: fn.jvp(lambda a, b: ((a * b).tanh(), a.exp().sum() * b),
                                    (t(X), t(Y)), (t(V3), t(V23))),
     lambda: (pair(X, Y), tuple(
         np.tensordot(fd(lambda a, b: pair(a, b)[i], X, Y, argnum=0), V3, 1)
         + np.tensordot(fd(lambda a, b: pair(a, b)[i], X, Y, argnum=1), V23, 2)
         for i in (0, 1)))),
    ("jvp_of_grad", lambda fn, E, t: fn.jvp(fn.grad(lambda a: (a.sin() * a * a).sum()),
                                            (t(X),), (t(V3),)),
     lambda: (g1(X), h1(X) * V3)),
    ("jvp_aux", lambda fn, E, t: fn.jvp(lambda a: (a * a, {"a": a + 1}), (t(X),), (t(V3),),
                                        has_aux=True),
     lambda: (X * X, 2 * X * V3, {"a": X + 1})),
    ("vmap", lambda fn, E, t: fn.vmap(lambda r: r.exp().sum())(t(M)),
     lambda: np.exp(M).sum(1)),
    ("vmap_in_dims", lambda fn, E, t: fn.vmap(lambda c, b: c * b.sum(), in_dims=(1, None))(
        t(M), t(Y)), lambda: M.T * Y.sum()),
    ("vmap_negative_dims", lambda fn, E, t: fn.vmap(lambda c: c.cumsum(0), in_dims=-1,
                                                    out_dims=-1)(t(M)),
     lambda: M.cumsum(0)),
    ("vmap_out_dims_tuple", lambda fn, E, t: fn.vmap(lambda r: (r.sum(), r * 2),
                                                     out_dims=(0, 1))(t(M)),
     lambda: (M.sum(1), 2 * M.T)),
    ("vmap_nested_in_dims", lambda fn, E, t: fn.vmap(
        lambda d, c: d["w"] @ c + d["b"], in_dims=({"w": None, "b": 0}, 0))(
        {"w": t(Y), "b": t(M[:, :2])}, t(M)), lambda: M @ Y.T + M[:, :2]),
    ("vmap_list_in_dims", lambda fn, E, t: fn.vmap(lambda xs: xs[0] * xs[1],
                                                   in_dims=([0, None],))([t(M), t(X)]),
     lambda: M * X),
    ("vmap_unbatched_outputs", lambda fn, E, t: fn.vmap(
        lambda r, s: (r * s, E.ones(2, dtype=r.dtype)), in_dims=(0, None),
        out_dims=(0, None))(t(M), 2.0), lambda: (2 * M, np.ones(2))),
    ("vmap_output_not_depending_on_the_batch", lambda fn, E, t: fn.vmap(
        lambda r: E.ones(2, dtype=r.dtype))(t(M)), lambda: np.ones((4, 2))),
    ("vmap_kwargs_are_not_mapped", lambda fn, E, t: fn.vmap(lambda r, s: r * s)(
        t(M), s=t(X)), lambda: M * X),
    ("vmap_of_vmap", lambda fn, E, t: fn.vmap(fn.vmap(lambda a, b: a * b, in_dims=(None, 0)),
                                              in_dims=(0, None))(t(X), t(M[:, 0])),
     lambda: np.outer(X, M[:, 0])),
    ("vmap_empty_batch", lambda fn, E, t: fn.vmap(lambda r: r.sum(), out_dims=0)(
        t(np.zeros((0, 3)))), lambda: np.zeros(0)),
    ("vmap_of_grad", lambda fn, E, t: fn.vmap(fn.grad(lambda r: (r.sin() * r * r).sum()))(
        t(M)), lambda: g1(M)),
    ("grad_of_vmap", lambda fn, E, t: fn.grad(
        lambda c: fn.vmap(lambda r: (r.sin() * r * r).sum())(c).sum())(t(M)),
     lambda: g1(M)),
    ("jacrev_of_vmap", lambda fn, E, t: fn.jacrev(fn.vmap(lambda r: r.exp().sum()))(t(M)),
     lambda: np.exp(M)[:, None, :] * np.eye(4)[:, :, None]),
]
IDS = [name for name, *_ in CASES]


def test_pytrees_flatten_and_rebuild_and_prefixes_spread():
    tree = {"a": [1, (2, Pair(3, 4))], "b": OrderedDict(c=5)}
    leaves, spec = flatten(tree)
    assert leaves == [1, 2, 3, 4, 5]
    rebuilt = unflatten([x * 10 for x in leaves], spec)
    assert rebuilt == {"a": [10, (20, Pair(30, 40))], "b": OrderedDict(c=50)}
    assert type(rebuilt["a"][1][1]) is Pair and type(rebuilt["b"]) is OrderedDict
    assert describe(spec) == "{'a': [*, (*, Pair(*, *))], 'b': {'c': *}}"
    assert broadcast_prefix({"a": [0, None], "b": 1}, tree) == [0, None, None, None, 1]
    assert broadcast_prefix({"a": 0}, tree) is None  # a key missing
    assert broadcast_prefix({"a": (0, None), "b": 1}, tree) is None  # a tuple for a list


def leaves_match(got, want, tol, of_torch=False, path="result"):
    """got (our pytree) against want (numpy, or torch's pytree): one structure, shapes, values."""
    if isinstance(want, (tuple, list, dict)):
        assert type(got) is type(want), (path, type(got), type(want))
        keys = list(want) if isinstance(want, dict) else range(len(want))
        assert (list(got) if isinstance(got, dict) else len(got)) == (
            keys if isinstance(want, dict) else len(want)), path
        return max([leaves_match(got[k], want[k], tol, of_torch, f"{path}[{k!r}]")
                    for k in keys] or [0.0])
    assert isinstance(got, Tensor), (path, type(got))
    want = want.detach().numpy() if of_torch else np.asarray(want)
    assert got.shape == want.shape, (path, got.shape, want.shape)
    if of_torch:
        assert str(got.dtype) == str(want.dtype).replace("float", "torch.float"), path
    deviation = float(np.max(np.abs(got.numpy() - want), initial=0.0))
    assert deviation <= tol, (path, deviation)
    return deviation


@pytest.mark.parametrize("name, call, expected", CASES, ids=IDS)
def test_each_transform_gives_the_closed_form_or_central_differences(name, call, expected):
    got = call(ef, engine, lambda a: engine.tensor(a, dtype=engine.float64))
    leaves_match(got, expected(), tol=1e-7)


@pytest.mark.parametrize("name, call, expected", CASES, ids=IDS)
def test_each_transform_matches_torch_func(name, call, expected, torch):
    got = call(ef, engine, lambda a: engine.tensor(a, dtype=engine.float64))
    want = call(torch.func, torch, lambda a: torch.tensor(a, dtype=torch.float64))
    leaves_match(got, want, tol=1e-12, of_torch=True)


def test_jacobians_and_hessians_agree_with_autograd_functional():
    def f(a):
        return (a.tanh() * a.sum()).exp()
    x = engine.tensor(X, dtype=engine.float64)
    want = autograd_jacobian(f, x).numpy()
    assert np.allclose(ef.jacrev(f)(x).numpy(), want, rtol=0, atol=1e-14)
    assert np.allclose(ef.jacfwd(f)(x).numpy(), want, rtol=0, atol=1e-14)
    assert np.allclose(want, fd(lambda a: np.exp(np.tanh(a) * a.sum()), X), atol=1e-7)
    s = lambda a: f(a).sum()  # noqa: E731
    assert np.allclose(ef.hessian(s)(x).numpy(), autograd_hessian(s, x).numpy(), atol=1e-13)


def test_float32_stays_float32():
    x = engine.tensor(M, dtype=engine.float32)
    f = lambda r: (r.sin() * r).sum()  # noqa: E731
    for result in (ef.grad(f)(x), ef.vmap(ef.grad(f))(x), ef.jacrev(ef.grad(f))(x[0]),
                   ef.vmap(lambda r: r * 2, in_dims=1)(x), ef.jvp(f, (x,), (x,))[1]):
        assert result.dtype == engine.float32


# --- what comes out of a transform, and how it nests in an outer graph ---

def flags(fn, E, t):
    """Whether each result requires grad: top level, a closed-over weight, the caller's leaf."""
    w = t(X).requires_grad_()
    x = t(V3)
    top = fn.grad(lambda a: (a * a).sum())(x)
    through_w = fn.grad(lambda a: (a * w).sum())(x)
    w_elsewhere = fn.grad(lambda a: (a * a).sum() + w.sum())(x)
    grads, value = fn.grad_and_value(lambda a: (a * a).sum() + w.sum())(x)
    caller_leaf = fn.grad(lambda a: (a * a * a).sum())(w)
    with E.no_grad():
        quiet = fn.grad(lambda a: (a * w).sum())(w)
    out, _ = fn.vjp(lambda a: a * 2, x)
    return [r.requires_grad for r in (top, through_w, w_elsewhere, grads, value, caller_leaf,
                                      quiet, out)]


def test_results_require_grad_only_where_an_outer_tensor_does():
    got = flags(ef, engine, lambda a: engine.tensor(a, dtype=engine.float64))
    assert got == [False, True, False, False, True, True, False, False]


def test_results_require_grad_as_torch_funcs_do(torch):
    assert flags(ef, engine, lambda a: engine.tensor(a, dtype=engine.float64)) == flags(
        torch.func, torch, lambda a: torch.tensor(a, dtype=torch.float64))


def training_step(fn, E, t):
    """A loss made of a gradient: backward() reaches the caller's leaf through grad(f)."""
    w = t(X).requires_grad_()
    g = fn.grad(lambda a: (a.sin() * a * a).sum())(w)
    (g * g).sum().backward()
    return w.grad


def test_a_transform_inside_a_training_steps_backward():
    got = training_step(ef, engine, lambda a: engine.tensor(a, dtype=engine.float64))
    assert np.allclose(got.numpy(), 2 * g1(X) * h1(X), rtol=0, atol=1e-12)


def test_a_transform_inside_a_training_steps_backward_as_torch(torch):
    got = training_step(ef, engine, lambda a: engine.tensor(a, dtype=engine.float64))
    want = training_step(torch.func, torch, lambda a: torch.tensor(a, dtype=torch.float64))
    assert np.abs(got.numpy() - want.numpy()).max() < 1e-12


def per_sample_penalty(fn, E, t):
    """sum over samples of |d loss_i / d w|^2 for a linear model, differentiated in w."""
    w = t(X).requires_grad_()
    xs, ys = t(M), t(M[:, 0] * 0.5)

    def loss(w, x, y):
        return 0.5 * ((w * x).sum() - y) ** 2
    per_sample = fn.vmap(fn.grad(loss), in_dims=(None, 0, 0))(w, xs, ys)
    (per_sample ** 2).sum().backward()
    return per_sample.detach(), w.grad


def test_gradients_flow_through_vmap_of_grad():
    per_sample, w_grad = per_sample_penalty(ef, engine,
                                            lambda a: engine.tensor(a, dtype=engine.float64))
    residual = M @ X - M[:, 0] * 0.5  # loss_i' = residual_i x_i
    assert np.allclose(per_sample.numpy(), residual[:, None] * M, rtol=0, atol=1e-12)
    want = (2 * residual * (M * M).sum(1)) @ M
    assert np.allclose(w_grad.numpy(), want, rtol=0, atol=1e-12)


def test_gradients_flow_through_vmap_of_grad_as_torch(torch):
    ours = per_sample_penalty(ef, engine, lambda a: engine.tensor(a, dtype=engine.float64))
    theirs = per_sample_penalty(torch.func, torch,
                                lambda a: torch.tensor(a, dtype=torch.float64))
    for got, want in zip(ours, theirs):
        assert np.abs(got.numpy() - want.numpy()).max() < 1e-12


def test_vjp_fn_can_be_called_again_and_is_linear():
    x = engine.tensor(X, dtype=engine.float64)
    _, back = ef.vjp(lambda a: a.exp() * a.sum(), x)
    v = engine.tensor(V3, dtype=engine.float64)
    (first,), (again,), (double,) = back(v), back(v), back(v * 2)
    want = np.tensordot(V3, fd(lambda a: np.exp(a) * a.sum(), X), 1)
    assert np.allclose(first.numpy(), want, atol=1e-7)
    assert np.array_equal(first.numpy(), again.numpy())
    assert np.allclose(double.numpy(), 2 * first.numpy(), rtol=0, atol=1e-14)


# --- the tutorials: per-sample gradients, model ensembles ---

class MLP(nn.Module):
    """torch.func's per-sample-gradient tutorial's model, small."""

    def __init__(self):
        self.fc1 = nn.Linear(4, 6, dtype=engine.float64)
        self.fc2 = nn.Linear(6, 3, dtype=engine.float64)

    def forward(self, x):
        return self.fc2(self.fc1(x).tanh())


XS, YS = RNG.standard_normal((5, 4)), RNG.integers(0, 3, 5)


def sample_loss_numpy(params, x, y):
    """The tutorial's loss of one sample, in numpy: cross-entropy of the MLP's logits."""
    hidden = np.tanh(params["fc1.weight"] @ x + params["fc1.bias"])
    logits = params["fc2.weight"] @ hidden + params["fc2.bias"]
    return np.log(np.exp(logits - logits.max()).sum()) + logits.max() - logits[y]


def per_sample_grads(model):
    params = {k: v.detach() for k, v in model.named_parameters()}

    def compute_loss(params, sample, target):
        predictions = ef.functional_call(model, params, (sample.unsqueeze(0),))
        return F.cross_entropy(predictions, target.unsqueeze(0))
    return ef.vmap(ef.grad(compute_loss), in_dims=(None, 0, 0))(
        params, engine.tensor(XS), engine.tensor(YS))


def test_per_sample_gradients_are_each_samples_central_differences():
    model = MLP()
    grads = per_sample_grads(model)
    params = {k: v.numpy() for k, v in model.named_parameters()}
    assert list(grads) == list(params)
    for name, array in params.items():
        assert grads[name].shape == (5, *array.shape) and not grads[name].requires_grad
        for i in range(5):
            def loss_of(value):
                return sample_loss_numpy({**params, name: value}, XS[i], YS[i])
            assert np.allclose(grads[name].numpy()[i], fd(loss_of, array), atol=1e-7), name
    assert all(p.grad is None for p in model.parameters())  # the model's own stay untouched


def test_per_sample_gradients_match_torch_funcs_tutorial(torch):
    model = MLP()

    class TorchMLP(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.fc1, self.fc2 = torch.nn.Linear(4, 6), torch.nn.Linear(6, 3)

        def forward(self, x):
            return self.fc2(self.fc1(x).tanh())
    theirs = TorchMLP().double()
    theirs.load_state_dict({k: torch.from_numpy(v.numpy()) for k, v in model.state_dict().items()})
    params = {k: v.detach() for k, v in theirs.named_parameters()}

    def compute_loss(params, sample, target):
        predictions = torch.func.functional_call(theirs, params, (sample.unsqueeze(0),))
        return torch.nn.functional.cross_entropy(predictions, target.unsqueeze(0))
    want = torch.func.vmap(torch.func.grad(compute_loss), in_dims=(None, 0, 0))(
        params, torch.tensor(XS), torch.tensor(YS))
    leaves_match(per_sample_grads(model), want, tol=1e-12, of_torch=True)


def ensemble(fn, stack_module_state, models, x):
    params, buffers = stack_module_state(models)

    def call(params, buffers, data):
        return fn.functional_call(models[0], (params, buffers), (data,))
    return params, fn.vmap(call, in_dims=(0, 0, None))(params, buffers, x)


def test_an_ensemble_by_stack_module_state_and_vmap():
    engine.manual_seed(0)
    models = [nn.Linear(3, 2, dtype=engine.float64) for _ in range(4)]
    params, out = ensemble(ef, ef.stack_module_state, models, engine.tensor(M))
    assert params["weight"].shape == (4, 2, 3) and params["weight"].requires_grad
    assert params["weight"]._a is None  # a fresh leaf an optimizer can take
    want = np.stack([M @ m.weight.numpy().T + m.bias.numpy() for m in models])
    assert np.allclose(out.numpy(), want, rtol=0, atol=1e-14)
    out.sum().backward()  # the stacked parameters get the gradients
    assert np.allclose(params["bias"].grad.numpy(), np.full((4, 2), 4.0))


def test_an_ensemble_as_torch_funcs(torch):
    engine.manual_seed(0)
    models = [nn.Linear(3, 2, dtype=engine.float64) for _ in range(4)]
    twins = [torch.nn.Linear(3, 2).double() for _ in models]
    for ours, theirs in zip(models, twins):
        theirs.load_state_dict({k: torch.from_numpy(v.numpy()) for k, v in ours.state_dict().items()})
    _, got = ensemble(ef, ef.stack_module_state, models, engine.tensor(M))
    _, want = ensemble(torch.func, torch.func.stack_module_state, twins, torch.tensor(M))
    leaves_match(got, want, tol=1e-14, of_torch=True)


# --- functional_call ---

class Broken(nn.Module):
    def __init__(self):
        self.inner = nn.Linear(3, 2)

    def forward(self, x):
        self.inner(x)
        raise ValueError("boom")


def test_functional_call_puts_the_parameters_back_even_after_an_exception():
    model = Broken()
    weight, bias = model.inner.weight, model.inner.bias
    with pytest.raises(ValueError, match="boom"):
        ef.functional_call(model, {"inner.weight": engine.zeros(2, 3), "inner.bias":
                                   engine.zeros(2)}, engine.ones(3))
    assert model.inner.weight is weight and model.inner.bias is bias
    assert [n for n, _ in model.named_parameters()] == ["inner.weight", "inner.bias"]


def test_functional_call_uses_the_given_tensors_and_gradients_reach_them():
    model = nn.Sequential(nn.Linear(3, 2), nn.Tanh())
    w = engine.tensor(Y, dtype=engine.float32, requires_grad=True)
    x = engine.tensor(X, dtype=engine.float32)
    out = ef.functional_call(model, {"0.weight": w}, (x,))
    pre = Y @ X + model[0].bias.numpy()
    assert np.allclose(out.numpy(), np.tanh(pre), atol=1e-6)
    out.sum().backward()
    assert np.allclose(w.grad.numpy(), np.outer(1 - np.tanh(pre) ** 2, X), atol=1e-6)
    assert model[0].weight.grad is None and model[0].weight is not w


def test_functional_call_replaces_buffers_and_takes_kwargs():
    norm = nn.BatchNorm1d(3).eval()
    x = engine.tensor(M, dtype=engine.float32)
    mean = engine.tensor(X, dtype=engine.float32)
    out = ef.functional_call(norm, ({"running_mean": mean}, {}), (), {"input": x})
    assert np.allclose(out.numpy(), (M - X) / np.sqrt(1 + 1e-5), atol=1e-6)
    assert np.array_equal(norm.running_mean.numpy(), np.zeros(3))


def tied_model(nn_module, E):
    class Tied(nn_module.Module):
        def __init__(self):
            super().__init__()
            self.a, self.b = nn_module.Linear(2, 2), nn_module.Linear(2, 2)
            self.b.weight = self.a.weight

        def forward(self, x):
            return self.b(self.a(x))
    model = Tied()
    for layer in (model.a, model.b):
        layer.bias = nn_module.Parameter(E.zeros(2))
    return model


def tie_calls(fn, nn_module, E):
    model, eye = tied_model(nn_module, E), E.eye(2) * 2
    ones = E.ones(2)
    return (fn.functional_call(model, {"a.weight": eye}, (ones,)),
            fn.functional_call(model, {"a.weight": eye, "b.weight": eye}, (ones,)))


def test_functional_call_ties_weights_as_torch():
    tied, same_tensor_twice = tie_calls(ef, nn, engine)
    assert tied.tolist() == [4.0, 4.0] and same_tensor_twice.tolist() == [4.0, 4.0]
    model = tied_model(nn, engine)
    w = model.a.weight.numpy()
    untied = ef.functional_call(model, {"a.weight": engine.eye(2) * 2}, (engine.ones(2),),
                                tie_weights=False)
    assert np.allclose(untied.numpy(), w @ np.array([2.0, 2.0]), atol=1e-6)
    with pytest.raises(ValueError, match=r"functional_call got multiple values for keys "
                                         r"\['a.weight', 'b.weight'\], which are tied"):
        ef.functional_call(model, {"a.weight": engine.eye(2), "b.weight": engine.eye(2)},
                           (engine.ones(2),))


def test_functional_call_ties_weights_as_torch_does(torch):
    got = tie_calls(ef, nn, engine)
    want = tie_calls(torch.func, torch.nn, torch)
    assert [g.tolist() for g in got] == [w.tolist() for w in want]


def test_functional_call_strict_and_unexpected_names():
    model = nn.Linear(3, 2)
    with pytest.raises(RuntimeError, match="Error\\(s\\) in reparametrizing for Linear:\n\t"
                       "Unexpected key\\(s\\): 'foo'.\n\tMissing key\\(s\\): 'bias'."):
        ef.functional_call(model, {"weight": engine.ones(2, 3), "foo": engine.ones(1)},
                           (engine.ones(3),), strict=True)
    seen = []

    class Peek(nn.Module):
        def forward(self, x):
            seen.append(self.extra)
            return x
    peek = Peek()
    ef.functional_call(peek, {"extra": engine.ones(1)}, (engine.ones(1),))
    assert seen[0].tolist() == [1.0] and not hasattr(peek, "extra")
    with pytest.raises(AttributeError, match="Linear has no attribute `a`"):
        ef.functional_call(model, {"a.b": engine.ones(1)}, (engine.ones(3),))
    with pytest.raises(ValueError, match=r"\['weight'\] appeared in multiple dictionaries"):
        ef.functional_call(model, ({"weight": engine.ones(2, 3)},
                                   {"weight": engine.ones(2, 3)}), (engine.ones(3),))
    with pytest.raises(ValueError, match="Expected all elements of parameter_and_buffer_dicts "
                                         "to be dictionaries"):
        ef.functional_call(model, [engine.ones(2, 3)], (engine.ones(3),))
    with pytest.raises(TypeError, match="the value for 'weight' is a float, not a Tensor"):
        ef.functional_call(model, {"weight": 3.0}, (engine.ones(3),))


def test_stack_module_state_refuses_models_that_differ():
    with pytest.raises(RuntimeError, match="Expected at least one model, got 0."):
        ef.stack_module_state([])
    with pytest.raises(RuntimeError, match="the same training/eval mode"):
        ef.stack_module_state([nn.Linear(2, 1), nn.Linear(2, 1).eval()])
    with pytest.raises(RuntimeError, match="to be of the same class"):
        ef.stack_module_state([nn.Linear(2, 1), nn.Tanh()])
    frozen = nn.Linear(2, 1)
    frozen.weight.requires_grad_(False)
    with pytest.raises(RuntimeError, match="Expected weight from each model to have the same "
                                           ".requires_grad"):
        ef.stack_module_state([frozen, nn.Linear(2, 1)])
    with pytest.raises(KeyError, match="model 1 has parameters"):
        ef.stack_module_state([nn.Linear(2, 1), nn.Linear(2, 1, bias=False)])
    params, buffers = ef.stack_module_state([nn.BatchNorm1d(2), nn.BatchNorm1d(2)])
    assert buffers["running_var"].tolist() == [[1.0, 1.0]] * 2
    assert not buffers["running_var"].requires_grad and params["weight"].requires_grad


# --- randomness in vmap ---

def draws(fn, E, randomness):
    E.manual_seed(3)
    batch = fn.vmap(lambda r: r + E.randn(2, dtype=E.float32), randomness=randomness)(
        E.zeros(3, 2, dtype=E.float32))
    return batch.tolist(), E.randn(1, dtype=E.float32).tolist()


SAME = [0.8033, 0.1748]  # recorded from torch 2.13 after torch.manual_seed(3)
DIFFERENT = [[0.8033, 0.1748], [0.0890, -0.6137], [0.0462, -1.3683]]


def test_randomness_same_replays_and_different_draws_on_as_recorded_from_torch():
    batch, after = draws(ef, engine, "same")
    assert np.allclose(batch, [SAME] * 3, atol=1e-4) and np.allclose(after, [0.0890], atol=1e-4)
    batch, after = draws(ef, engine, "different")
    assert np.allclose(batch, DIFFERENT, atol=1e-4) and np.allclose(after, [0.3375], atol=1e-4)


@pytest.mark.parametrize("randomness", ["same", "different"])
def test_randomness_draws_torchs_numbers(randomness, torch):
    assert draws(ef, engine, randomness) == draws(torch.func, torch, randomness)


def test_randomness_error_refuses_a_draw_and_leaves_the_generator_as_it_was():
    engine.manual_seed(5)
    state = engine.get_rng_state()
    for transform in (ef.vmap(lambda r: r + engine.randn(())), ef.jacfwd(lambda r: r * engine.rand(3)),
                      ef.vmap(lambda r: F.dropout(r, 0.5))):
        with pytest.raises(RuntimeError, match="vmap: called random operation while in "
                                               "randomness error mode"):
            transform(engine.ones(3))
        assert np.array_equal(engine.get_rng_state(), state)
    assert ef.jacfwd(lambda r: r * engine.rand(3), randomness="same")(engine.ones(3)).shape == (3, 3)


# --- errors, with PyTorch's types and messages ---

def _non_scalar(fn, E):
    return fn.grad(lambda a: a * 2)(E.ones(3))


# name, call(func module, tensor namespace), exception type, message (PyTorch's, as a regex)
ERRORS = [
    ("grad_of_a_vector", _non_scalar, RuntimeError,
     r"grad_and_value\(f\)\(\*args\): Expected f\(\*args\) to return a scalar Tensor, got "
     r"tensor with 1 dims. Maybe you wanted to use the vjp or jacrev APIs instead\?"),
    ("grad_of_a_float", lambda fn, E: fn.grad(lambda a: 1.0)(E.ones(3)), RuntimeError,
     r"Expected f\(\*args\) to return a Tensor, got <class 'float'>"),
    ("argnum_out_of_range", lambda fn, E: fn.grad(lambda a: a.sum(), argnums=2)(E.ones(3)),
     RuntimeError, r"Got argnum=2, but only 1 positional inputs"),
    ("argnums_list", lambda fn, E: fn.grad(lambda a: a.sum(), argnums=[0])(E.ones(3)),
     RuntimeError, r"argnums must be int or Tuple\[int, ...\], got: <class 'list'>"),
    ("argnums_twice", lambda fn, E: fn.grad(lambda a: a.sum(), argnums=(0, 0))(E.ones(3)),
     RuntimeError, r"argnums elements must be unique, got \(0, 0\)"),
    ("argnums_empty", lambda fn, E: fn.grad(lambda a: a.sum(), argnums=())(E.ones(3)),
     RuntimeError, r"argnums must be non-empty"),
    ("non_tensor_argument", lambda fn, E: fn.grad(lambda d: d["a"].sum())(
        {"a": E.ones(3), "b": 1.0}), ValueError,
     r"Thing passed to transform API must be Tensor, got <class 'float'>"),
    ("aux_not_a_pair", lambda fn, E: fn.grad(lambda a: a.sum(), has_aux=True)(E.ones(3)),
     RuntimeError, r"output of function f should be a tuple: \(output, aux\) if has_aux is "
                   r"True"),
    ("jacrev_of_a_float", lambda fn, E: fn.jacrev(lambda a: (a, 1.0))(E.ones(3)),
     RuntimeError, r"vjp\(f, \*primals\): expected f\(\*primals\) to return only tensors, "
                   r"got unsupported type <class 'float'>"),
    ("cotangent_structure", lambda fn, E: fn.vjp(lambda a: (a, a), E.ones(3))[1](E.ones(3)),
     RuntimeError, r"Expected pytree structure of cotangents to be the same as pytree "
                   r"structure of outputs to the function. cotangents: \*, primal output: "
                   r"\(\*, \*\)"),
    ("cotangent_shape", lambda fn, E: fn.vjp(lambda a: a, E.ones(3))[1](E.ones(4)),
     RuntimeError, r"Mismatch in shape: grad_output\[0\] has a shape of torch.Size\(\[4\]\) "
                   r"and output\[0\] has a shape of torch.Size\(\[3\]\)."),
    ("jvp_primals_not_a_tuple", lambda fn, E: fn.jvp(lambda a: a, E.ones(3), E.ones(3)),
     RuntimeError, r"jvp\(f, primals, tangents\): Expected primals to be a tuple. E.g. it "
                   r"should be valid to call f\(\*primals\)."),
    ("jvp_tangent_shape", lambda fn, E: fn.jvp(lambda a: a, (E.ones(3),), (E.ones(4),)),
     RuntimeError, r"Tensor is of size \[3\] while the given forward gradient is of size "
                   r"\[4\]."),
    ("jacrev_chunk_size", lambda fn, E: fn.jacrev(lambda a: a, chunk_size=0)(E.ones(3)),
     ValueError, r"jacrev: `chunk_size` should be greater than 0."),
    ("vmap_sizes", lambda fn, E: fn.vmap(lambda a, b: a + b)(E.ones(3), E.ones(4)), ValueError,
     r"vmap: Expected all tensors to have the same size in the mapped dimension, got sizes "
     r"\[3, 4\] for the mapped dimension"),
    ("vmap_in_dim_too_big", lambda fn, E: fn.vmap(lambda a: a, in_dims=1)(E.ones(3)),
     ValueError, r"vmap\(<lambda>, in_dims=1, ...\)\(<inputs>\): Got in_dim=1 for some input, "
                 r"but that input is a Tensor of dimensionality 1 so expected in_dim to "
                 r"satisfy -1 <= in_dim < 1."),
    ("vmap_over_a_float", lambda fn, E: fn.vmap(lambda a, b: a, in_dims=(0, 0))(E.ones(3), 1.0),
     ValueError, r"Got in_dim=0 for an input but the input is of type <class 'float'>. We "
                 r"cannot vmap over non-Tensor arguments, please use None as the respective "
                 r"in_dim"),
    ("vmap_in_dims_list", lambda fn, E: fn.vmap(lambda a: a, in_dims=[0])(E.ones(3)),
     ValueError, r"expected `in_dims` to be int or a \(potentially nested\) tuple matching the "
                 r"structure of inputs, got: <class 'list'>."),
    ("vmap_in_dims_structure", lambda fn, E: fn.vmap(lambda a, b: a, in_dims=(0,))(
        E.ones(3), E.ones(3)), ValueError,
     r"in_dims is not compatible with the structure of `inputs`"),
    ("vmap_nothing_mapped", lambda fn, E: fn.vmap(lambda a: a, in_dims=(None,))(E.ones(3)),
     ValueError, r"vmap: Expected at least one Tensor to vmap over"),
    ("vmap_no_inputs", lambda fn, E: fn.vmap(lambda: E.ones(1))(), ValueError,
     r"got no inputs. Maybe you forgot to add inputs, or you are trying to vmap over a "
     r"function with no inputs. The latter is unsupported."),
    ("vmap_returns_a_float", lambda fn, E: fn.vmap(lambda a: 1.0)(E.ones(3)), ValueError,
     r"vmap\(<lambda>, ...\): `<lambda>` must only return Tensors, got type <class 'float'>. "
     r"Did you mean to set out_dims= to None for output\?"),
    ("vmap_batched_output_with_out_dims_none", lambda fn, E: fn.vmap(
        lambda a: a, out_dims=None)(E.arange(3.0)), ValueError,
     r"`<lambda>` can not return a BatchedTensor when out_dim is None"),
    ("vmap_out_dims_structure", lambda fn, E: fn.vmap(lambda a: (a, a), out_dims=(0,))(
        E.ones(3)), ValueError, r"out_dims is not compatible with the structure of `outputs`"),
    ("vmap_out_dims_string", lambda fn, E: fn.vmap(lambda a: a, out_dims="a")(E.ones(3)),
     ValueError, r"`out_dims` must be an int, None or a python collection of ints"),
    ("vmap_out_dim_too_big", lambda fn, E: fn.vmap(lambda a: a, out_dims=2)(E.ones(3)),
     IndexError, r"expected to be in range of \[-1, 0\], but got 2"),
    ("vmap_randomness", lambda fn, E: fn.vmap(lambda a: a, randomness="foo")(E.ones(3)),
     RuntimeError, r"Only allowed values for randomness are 'error', 'different', or 'same'. "
                   r"Got foo"),
    ("vmap_chunk_size", lambda fn, E: fn.vmap(lambda a: a, chunk_size=0)(E.ones(3)),
     ValueError, r"vmap: chunk_size should be None or greater than 0. \(got 0\)"),
]
ERROR_IDS = [name for name, *_ in ERRORS]


@pytest.mark.parametrize("name, call, kind, message", ERRORS, ids=ERROR_IDS)
def test_errors_say_what_pytorchs_say(name, call, kind, message):
    with pytest.raises(kind, match=message):
        call(ef, engine)


@pytest.mark.parametrize("name, call, kind, message", ERRORS, ids=ERROR_IDS)
def test_errors_are_pytorchs(name, call, kind, message, torch):
    with pytest.raises(kind, match=message):
        call(torch.func, torch)


def test_engine_exports_torch_func_and_vmap():
    assert engine.func is ef and engine.vmap is ef.vmap
    assert engine.func.functional_call.__module__ == "nn.utils.stateless"
    with pytest.raises(AttributeError, match="no attribute 'functionalize'"):
        engine.func.functionalize
