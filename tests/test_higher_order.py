"""Gradients of gradients (engine.grad and backward(create_graph=True)) on both engines:
every op of the op tables differentiated twice, against PyTorch (torch.autograd.grad with
create_graph=True, twice) and against central differences of the engine's own first
gradient; random Value DAGs and random Tensor programs against PyTorch; and the check
that a Value's two forms of one derivative cannot drift apart unseen.

How each op's derivative is written for this mode (one place: engine/graph.py's
docstring): a Tensor rule is one function, written once for arrays and Tensors, so the
gradient a create_graph pass builds is the very formula a normal pass computes, and there
is no second copy to drift. A Value op has two forms of its derivative, the fast
in-place rule (micrograd's, for `backward()`) and its `vjp` (for engine.grad and
create_graph): `test_fast_rule_and_vjp_agree` compares the two on every row, and
`test_a_drifted_vjp_is_caught` plants a wrong vjp to show that comparison failing.
"""
from __future__ import annotations

import math
import warnings
from types import SimpleNamespace

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import engine
import nn.functional
import test_tensor
from engine import Tensor, Value
from op_table import EDGES, OPS, programs, real, run_program

# Where PyTorch's second derivative is an artefact of how it masks a first derivative:
# d(0**p)/dp is 0 for p >= 0, as `g * where(a == 0, 0, out * log(a))`; differentiating that
# again sends 0 * log(0) = nan through the masked branch. 0**p is 0 for every p near 2, so
# its second derivative is 0: ours, and central differences of the first derivative, say so.
# At p = 0 the first derivative jumps (-inf to the left, 0 to the right): there is no second
# derivative, and ours is the masked branch's 0.
TORCH_NAN_AT = {"d(0**p)/dp, p > 0", "d(0**p)/dp, p = 0"}
JUMPS_AT = {"d(0**p)/dp, p = 0"}


def _array(x):
    """A gradient (ours, a torch tensor, a Value, a float or None) as a float64 array."""
    if x is None:
        return np.zeros(())
    if hasattr(x, "detach") and not isinstance(x, Tensor):  # torch: also its lazy zeros
        return x.detach().numpy(force=True).astype(np.float64)
    return np.asarray(x.data if isinstance(x, Value) else x, dtype=np.float64)


def full_hessian(grad, f, xs, one_hot):
    """Every second derivative of the scalar f(*xs), as a matrix over all entries of xs:
    `grad` (engine.grad or torch.autograd.grad) with create_graph=True, then once per
    entry of the first gradient, seeded by `one_hot(g, index)`."""
    sizes = [int(np.prod(np.shape(_array(x)))) for x in xs]
    firsts = grad(f(*xs), xs, create_graph=True, allow_unused=True)
    rows = []
    for g, x, size in zip(firsts, xs, sizes):
        for idx in np.ndindex(np.shape(_array(x))):
            if g is None or not g.requires_grad:  # a constant first derivative
                rows.append(np.zeros(sum(sizes)))
                continue
            seconds = grad(g, xs, grad_outputs=one_hot(g, idx), retain_graph=True,
                           allow_unused=True)
            rows.append(np.concatenate([np.broadcast_to(_array(s), (n,)) if s is None
                                        else _array(s).ravel() for s, n in zip(seconds, sizes)]))
    return np.array(rows).reshape(sum(sizes), sum(sizes))


def _torch_one_hot(torch):
    def one_hot(g, idx):
        seed = torch.zeros_like(g)
        seed[idx] = 1
        return seed
    return one_hot


def _our_one_hot(g, idx):
    if isinstance(g, Value):
        return None
    seed = np.zeros(g.shape, g.dtype)
    seed[idx] = 1
    return seed


def _close(ours, theirs, tol=1e-9):
    """|ours - theirs| <= tol (1 + |theirs|) entrywise, nan and inf where the other has them."""
    np.testing.assert_allclose(ours, theirs, rtol=tol, atol=tol, equal_nan=True)


# --- Value: every op of OPS at two points of its domain, and every edge ---

VALUE_CASES = [pytest.param(f, point, id=f"{name}{point}")
               for i, (name, f, draws) in enumerate(OPS)
               for point in zip(*(d(np.random.default_rng(i), 2).tolist() for d in draws))]


def value_hessian(f, point):
    return full_hessian(engine.grad, f, [Value(x) for x in point], _our_one_hot)


def value_gradient(f, point):
    """The first derivative by engine.grad (the vjp forms, on floats)."""
    xs = [Value(x) for x in point]
    return np.array([_array(g) for g in engine.grad(f(*xs), xs, allow_unused=True)])


def numeric_jacobian(gradient, point, eps=1e-6):
    """Central differences of a gradient function: column j is d gradient / d x_j."""
    point = np.asarray(point, dtype=np.float64)
    cols = []
    for j in range(point.size):
        step = np.zeros_like(point)
        step.flat[j] = eps
        cols.append((gradient(point + step) - gradient(point - step)) / (2 * eps))
    return np.array(cols).T


@pytest.mark.parametrize("f, point", VALUE_CASES)
def test_value_second_derivatives_match_central_differences(f, point):
    want = numeric_jacobian(lambda p: value_gradient(f, p.tolist()), point)
    np.testing.assert_allclose(value_hessian(f, point), want, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("f, point", VALUE_CASES)
def test_value_second_derivatives_match_pytorch(torch, f, point):
    theirs = full_hessian(torch.autograd.grad, f, [torch.tensor(x, requires_grad=True)
                                                   for x in point], _torch_one_hot(torch))
    _close(value_hessian(f, point), theirs, tol=1e-12)


@pytest.mark.parametrize("name, f, x", [pytest.param(n, f, x, id=n) for n, f, _, x, _ in EDGES])
def test_value_second_derivatives_at_the_edges_match_pytorch(torch, name, f, x):
    ours = value_hessian(f, [x])
    theirs = full_hessian(torch.autograd.grad, f, [torch.tensor(x, requires_grad=True)],
                          _torch_one_hot(torch))
    if name in TORCH_NAN_AT:
        assert np.isnan(theirs).all() and (ours == 0).all()
        if name not in JUMPS_AT:
            np.testing.assert_allclose(
                ours, numeric_jacobian(lambda p: value_gradient(f, p.tolist()), [x]), atol=1e-9)
        return
    _close(ours, theirs, tol=1e-12)


@pytest.mark.parametrize("name, f, draws", [pytest.param(*row, id=row[0]) for row in OPS])
def test_value_and_tensor_second_derivatives_agree(name, f, draws):
    """The scalar and the tensor engine on one row: the Hessian of f at 6 points, entry by
    entry (each point's Hessian is small; the tensor one is summed over the 6 columns)."""
    columns = [d(np.random.default_rng(0), 6) for d in draws]
    tensors = [Tensor(c, requires_grad=True, dtype=np.float64) for c in columns]
    for j in range(len(draws)):
        (g,) = engine.grad(f(*tensors).sum(), [tensors[j]], create_graph=True)
        seconds = (engine.grad(g.sum(), tensors, allow_unused=True) if g.requires_grad
                   else [None] * len(draws))
        for i in range(6):
            want = value_hessian(f, [c[i] for c in columns])[j]
            got = [0.0 if s is None else float(s[i]) for s in seconds]
            np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-14)


# --- drift: the fast in-place rule and the vjp are two forms of one derivative ---

def assert_fast_rule_and_vjp_agree(f, point):
    """backward() (the fast rules) and engine.grad() (the vjps) give the same gradient,
    nan where the other has nan."""
    xs = [Value(x) for x in point]
    f(*xs).backward()
    fast = [x.grad for x in xs]
    np.testing.assert_allclose(value_gradient(f, point), fast, rtol=1e-15, atol=0,
                               equal_nan=True, err_msg="fast rule and vjp disagree")


EVERY_VALUE_POINT = VALUE_CASES + [pytest.param(f, [x], id=n) for n, f, _, x, _ in EDGES]


@pytest.mark.parametrize("f, point", EVERY_VALUE_POINT)
def test_fast_rule_and_vjp_agree(f, point):
    assert_fast_rule_and_vjp_agree(f, point)


@settings(max_examples=60)
@given(programs())
def test_fast_rules_and_vjps_agree_on_random_programs(program):
    start, steps = program
    xs = [Value(x) for x in start]
    run_program(xs, steps).backward()
    assume(all(math.isfinite(x.grad) and abs(x.grad) < 1e12 for x in xs))
    np.testing.assert_allclose(value_gradient(lambda *v: run_program(v, steps), start),
                               [x.grad for x in xs], rtol=1e-12, atol=1e-12)


def test_a_drifted_vjp_is_caught(monkeypatch):
    """A planted bug: tanh's vjp forgets the square (1 - t instead of 1 - t**2). The fast
    rule is right, so backward() and every first-derivative test of it still pass; the
    comparison with engine.grad does not."""
    tanh = next(p for p in VALUE_CASES if p.id.startswith("tanh"))
    assert_fast_rule_and_vjp_agree(*tanh.values)  # as shipped
    monkeypatch.setattr(Value._tanh_rule, "vjp", lambda g, out, need, a: (g * (1.0 - out),))
    with pytest.raises(AssertionError, match="fast rule and vjp disagree"):
        assert_fast_rule_and_vjp_agree(*tanh.values)


def test_a_drifted_fast_rule_is_caught(monkeypatch):
    """The other way round: exp's fast rule (the one backward() runs) gets a stray factor
    2, and the vjp, which create_graph differentiates, is left right."""
    exp = next(p for p in VALUE_CASES if p.id.startswith("exp"))
    right = Value.exp.__defaults__[0]

    def drifted(out):
        out._a.grad += 2.0 * out.grad * out.data
    drifted.op, drifted.vjp = right.op, right.vjp
    monkeypatch.setattr(Value.exp, "__defaults__", (drifted,))
    with pytest.raises(AssertionError, match="fast rule and vjp disagree"):
        assert_fast_rule_and_vjp_agree(*exp.values)


# --- Tensor: every row of the Tensor op table (shared rows at every shape, TENSOR_OPS),
# as tests/test_tensor.py lays them out ---

def hessian_along(grad, f, xs, weights, us):
    """(H u summed over inputs, first gradients): the scalar sum(f(xs) * weights), its
    gradient g by `grad` with create_graph=True, then the gradient of sum_i g_i . u_i."""
    firsts = grad((f(*xs) * weights).sum(), xs, create_graph=True, allow_unused=True)
    terms = [(g * u).sum() for g, u in zip(firsts, us) if g is not None and g.requires_grad]
    if not terms:  # the op is linear: every second derivative is 0
        return [np.zeros(np.shape(_array(x))) for x in xs], firsts
    seconds = grad(sum(terms[1:], terms[0]), xs, allow_unused=True)
    return [np.zeros(np.shape(_array(x))) if s is None else _array(s)
            for s, x in zip(seconds, xs)], firsts


def _tensor_case(draw, shapes, f):
    arrays = test_tensor._inputs(draw, shapes)
    rng = np.random.default_rng(2)
    return arrays, test_tensor._weights_for(f, arrays), [rng.standard_normal(a.shape)
                                                          for a in arrays]


def _ours(arrays, dtype=np.float64):
    return [Tensor(a, requires_grad=True, dtype=dtype) for a in arrays]


@pytest.mark.parametrize("f, tf, draw, shapes", test_tensor.OP_CASES)
def test_tensor_second_derivatives_match_pytorch(torch, f, tf, draw, shapes):
    arrays, weights, us = _tensor_case(draw, shapes, f)
    ours, _ = hessian_along(engine.grad, f, _ours(arrays), Tensor(weights),
                            [Tensor(u) for u in us])
    theirs, _ = hessian_along(torch.autograd.grad, tf,
                              [torch.tensor(a, requires_grad=True) for a in arrays],
                              torch.tensor(weights), [torch.tensor(u) for u in us])
    for got, want in zip(ours, theirs):
        _close(got, want, tol=1e-10)


@pytest.mark.parametrize("f, tf, draw, shapes", test_tensor.OP_CASES)
def test_tensor_second_derivatives_match_central_differences(f, tf, draw, shapes):
    """H u against (g(x + eps u) - g(x - eps u)) / 2 eps, g the engine's first gradient:
    every input moves at once, so one check covers every block of the Hessian."""
    arrays, weights, us = _tensor_case(draw, shapes, f)
    ours, _ = hessian_along(engine.grad, f, _ours(arrays), Tensor(weights),
                            [Tensor(u) for u in us])
    for got, want in zip(ours, _numeric_hvp(f, arrays, weights, us)):
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)


def _numeric_hvp(f, arrays, weights, us, eps=1e-6):
    """(g(x + eps u) - g(x - eps u)) / 2 eps per input, g the engine's first gradient of
    sum(f(x) * weights): H u by central differences."""
    def gradient(step):
        xs = _ours([a + step * u for a, u in zip(arrays, us)])
        return [_array(g) for g in engine.grad((f(*xs) * Tensor(weights)).sum(), xs,
                                               allow_unused=True)]
    return [(up - down) / (2 * eps) for up, down in zip(gradient(eps), gradient(-eps))]


@pytest.mark.parametrize("f, tf, draw, shapes", test_tensor.OP_CASES)
def test_tensor_second_derivatives_keep_float32(f, tf, draw, shapes):
    arrays, weights, us = _tensor_case(draw, shapes, f)
    xs = _ours(arrays, np.float32)
    firsts = engine.grad((f(*xs) * Tensor(weights.astype(np.float32))).sum(), xs,
                         create_graph=True, allow_unused=True)
    assert all(g is None or g.dtype == np.float32 for g in firsts)
    terms = [(g * Tensor(u.astype(np.float32))).sum() for g, u in zip(firsts, us)
             if g is not None and g.requires_grad]
    if terms:
        seconds = engine.grad(sum(terms[1:], terms[0]), xs, allow_unused=True)
        assert all(s is None or s.dtype == np.float32 for s in seconds)


def _picked(index):
    """a[index] squared: the square makes the gradient a graph, so the second pass runs
    indexing's rule (_put, np.add.at for repeats) backwards through index_put's rule."""
    return lambda t: t[index] * t[index]


def _written(index):
    """A copy of a with v * v written at index (_zero_at in the first pass's rule), times a."""
    def f(a, v):
        b = a * 1.0
        b[index] = v * v
        return b * a
    return f


@pytest.mark.parametrize("index", test_tensor.INDEXES, ids=repr)
def test_indexing_second_derivatives_match_pytorch_and_central_differences(torch, index):
    arrays, weights, us = _tensor_case([real], [(4, 3)], _picked(index))
    f = _picked(index)
    ours, _ = hessian_along(engine.grad, f, _ours(arrays), Tensor(weights),
                            [Tensor(u) for u in us])
    t_index = test_tensor._torch_index(torch, index)
    theirs, _ = hessian_along(torch.autograd.grad, lambda t: t[t_index] * t[t_index],
                              [torch.tensor(a, requires_grad=True) for a in arrays],
                              torch.tensor(weights), [torch.tensor(u) for u in us])
    _close(ours[0], theirs[0], tol=1e-12)
    np.testing.assert_allclose(ours[0], _numeric_hvp(f, arrays, weights, us)[0], rtol=1e-5,
                               atol=1e-6)


@pytest.mark.parametrize("index", [slice(1, 3), (slice(None), 0), [0, 2], np.array(
    [[True, False, True]] * 4)], ids=repr)
def test_setitem_second_derivatives_match_pytorch_and_central_differences(torch, index):
    f = _written(index)
    a = np.random.default_rng(0).standard_normal((4, 3))
    with engine.no_grad():
        v_shape = Tensor(a)[index].shape
    arrays = [a, np.random.default_rng(1).standard_normal(v_shape)]
    rng = np.random.default_rng(2)
    weights, us = rng.standard_normal((4, 3)), [rng.standard_normal(x.shape) for x in arrays]
    ours, _ = hessian_along(engine.grad, f, _ours(arrays), Tensor(weights),
                            [Tensor(u) for u in us])
    t_index = test_tensor._torch_index(torch, index)
    theirs, _ = hessian_along(torch.autograd.grad, _written(t_index),
                              [torch.tensor(x, requires_grad=True) for x in arrays],
                              torch.tensor(weights), [torch.tensor(u) for u in us])
    for got, want, numeric in zip(ours, theirs, _numeric_hvp(f, arrays, weights, us)):
        _close(got, want, tol=1e-12)
        np.testing.assert_allclose(got, numeric, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name, f, x", [pytest.param(n, f, x, id=n) for n, f, _, x, _ in EDGES])
def test_tensor_second_derivatives_at_the_edges_match_pytorch_without_warnings(torch, name, f,
                                                                              x):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # inf and nan are meant: numpy must not warn
        ours = full_hessian(engine.grad, f, [Tensor(x, requires_grad=True, dtype=np.float64)],
                            _our_one_hot)
    theirs = full_hessian(torch.autograd.grad, f, [torch.tensor(x, requires_grad=True)],
                          _torch_one_hot(torch))
    if name in TORCH_NAN_AT:
        assert np.isnan(theirs).all() and (ours == 0).all()
        assert (ours == value_hessian(f, [x])).all()
        return
    _close(ours, theirs, tol=1e-12)


# --- the bars: random Value DAGs and random Tensor programs, against PyTorch ---

def _finite(*xs):
    return all(np.all(np.isfinite(x)) and np.all(np.abs(x) < 1e8) for x in xs)


@settings(max_examples=200)
@given(programs())
def test_second_derivatives_of_random_value_dags_match_pytorch(torch, program):
    start, steps = program
    ours = full_hessian(engine.grad, lambda *xs: run_program(xs, steps),
                        [Value(x) for x in start], _our_one_hot)
    assume(_finite(ours))  # squaring 25 times overflows both engines
    theirs = full_hessian(torch.autograd.grad, lambda *xs: run_program(xs, steps),
                          [torch.tensor(x, requires_grad=True) for x in start],
                          _torch_one_hot(torch))
    _close(ours, theirs, tol=1e-9 * max(1.0, np.abs(theirs).max()))


# Random Tensor programs: a pool of tensors that all broadcast to (4, 5), each step one op
# on pool members (picked by index, so reused), in forms that stay in their domains. They
# broadcast, reduce, index (with repeats and masks), multiply matrices, take softmaxes and
# cross-entropies. The same code runs on our tensors and PyTorch's: `lib` holds the few
# functions that are spelt apart.
LABELS = np.array([0, 3, 4, 1])
MASK = np.array([[True, False, False, True, False]] * 2 + [[False, True, True, False, True]] * 2)


def _full(x):
    return x.expand(4, 5)


TENSOR_STEPS = {
    "add": lambda x, y, lib: x + y,
    "sub": lambda x, y, lib: x - y,
    "mul": lambda x, y, lib: x * y,
    "div": lambda x, y, lib: x / (y * y + 1),
    "pow": lambda x, y, lib: (x * x + 1) ** y.tanh(),
    "tanh_exp": lambda x, y, lib: x.tanh().exp() - x.sigmoid(),
    "log_sqrt": lambda x, y, lib: (x * x + 1).log() + (x * x + 0.5).sqrt(),
    "relu_abs": lambda x, y, lib: x.relu() - x.abs() * 0.5 + x ** 3 * 0.1,
    "maximum": lambda x, y, lib: x.maximum(y),
    "clamp": lambda x, y, lib: x.clamp(-0.7, 0.9),
    "where": lambda x, y, lib: lib.where(lib.mask, _full(x), y),
    "sum_rows": lambda x, y, lib: _full(x).sum(0, keepdim=True),
    "sum_cols": lambda x, y, lib: _full(x * y).sum(-1, keepdim=True),
    "mean": lambda x, y, lib: _full(x).mean(),
    "var": lambda x, y, lib: _full(x).var(0),
    "amax": lambda x, y, lib: _full(x).amax(-1, keepdim=True),
    "max_dim": lambda x, y, lib: _full(x).max(0).values,
    "logsumexp": lambda x, y, lib: _full(x).logsumexp(-1, keepdim=True),
    "rows_picked": lambda x, y, lib: _full(x)[[0, 2, 2, 1]],
    "cols_picked": lambda x, y, lib: _full(x)[:, [1, 1, 0, 3, 4]] * y,
    "slice": lambda x, y, lib: _full(x)[1:3].sum(0) + _full(y)[..., 2:3],
    "masked": lambda x, y, lib: _full(x)[lib.mask].sum() * 0.1,
    "matmul": lambda x, y, lib: _full(x) @ lib.weight,
    "matmul_gram": lambda x, y, lib: (_full(x) @ _full(y).T) @ _full(x) / 5,
    "matvec": lambda x, y, lib: (_full(x) @ _full(y)[0]).unsqueeze(-1),
    "softmax": lambda x, y, lib: _full(x).softmax(-1),
    "log_softmax": lambda x, y, lib: _full(x).log_softmax(0),
    "cross_entropy": lambda x, y, lib: lib.F.cross_entropy(_full(x), lib.labels),
    "reshape": lambda x, y, lib: _full(x).reshape(5, 4).T,
    "cat": lambda x, y, lib: lib.cat([_full(x)[:1], _full(y)[1:]], 0),
}


def tensor_programs():
    """A seed for the inputs and a list of (step, operand index, operand index). The steps
    walk TENSOR_STEPS from a drawn start by a drawn stride prime to its length, so each
    program has distinct steps and 50 programs use every one several times."""
    names = sorted(TENSOR_STEPS)
    strides = [k for k in range(1, len(names)) if math.gcd(k, len(names)) == 1]

    def build(start, stride, operands):
        return [(names[(start + n * stride) % len(names)], i, j)
                for n, (i, j) in enumerate(operands)]
    steps = st.builds(build, st.integers(0, len(names) - 1), st.sampled_from(strides),
                      st.lists(st.tuples(st.integers(0, 99), st.integers(0, 99)),
                               min_size=3, max_size=12))
    return st.tuples(st.integers(0, 2 ** 32 - 1), steps)


def run_tensor_program(inputs, steps, lib):
    """The steps on a growing pool; each result is weighed, summed and put through tanh
    (so that no program is linear), and those are added up into one scalar."""
    pool = list(inputs)
    for name, i, j in steps:
        pool.append(TENSOR_STEPS[name](pool[i % len(pool)], pool[j % len(pool)], lib))
    weights = lib.tensor(np.linspace(-1, 1, 20).reshape(4, 5))
    return sum(((p * weights).sum().tanh() for p in pool[len(inputs):]), 0.0)


def _libs(torch):
    ours = SimpleNamespace(F=nn.functional, where=engine.where, cat=engine.cat,
                           tensor=Tensor, mask=MASK, labels=Tensor(LABELS))
    theirs = SimpleNamespace(F=torch.nn.functional, where=torch.where, cat=torch.cat,
                             tensor=torch.tensor, mask=torch.tensor(MASK),
                             labels=torch.tensor(LABELS))
    return ours, theirs


INPUT_SHAPES = [(4, 5), (5,), (4, 1), ()]


@settings(max_examples=50)
@given(tensor_programs())
def test_second_derivatives_of_random_tensor_programs_match_pytorch(torch, program):
    seed, steps = program
    rng = np.random.default_rng(seed)
    arrays = [rng.uniform(-1.5, 1.5, s) for s in INPUT_SHAPES]
    weight = rng.uniform(-1, 1, (5, 5))
    ours_lib, torch_lib = _libs(torch)
    ours_lib.weight, torch_lib.weight = Tensor(weight), torch.tensor(weight)
    ours = full_hessian(engine.grad, lambda *xs: run_tensor_program(xs, steps, ours_lib),
                        _ours(arrays), _our_one_hot)
    assume(_finite(ours))
    theirs = full_hessian(torch.autograd.grad,
                          lambda *xs: run_tensor_program(xs, steps, torch_lib),
                          [torch.tensor(a, requires_grad=True) for a in arrays],
                          _torch_one_hot(torch))
    assert ours.shape == (30, 30)
    _close(ours, theirs, tol=1e-9 * max(1.0, np.abs(theirs).max()))
