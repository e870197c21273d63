"""engine/inplace.py: an in-place change of a view writes through to what the view was
taken from, in value and in gradient, as PyTorch's views share their base's storage; and
an in-place change of a base reaches its views (and `.detach()`ed aliases), whose values,
gradients and versions follow, as they share PyTorch's one version counter.

The oracle is numpy: each view op is applied to the flat positions 0..11 of a (3, 4)
tensor, so its entries say where the view sits in the base; the expected base is the base
with those entries changed, and the expected gradient of sum(base * weights) follows from
the same positions. PyTorch, where installed, is run on the same programs too.
"""
from __future__ import annotations

import copy
import pickle

import numpy as np
import pytest
from differential import both_ran
from hypothesis import given
from hypothesis import strategies as st

import engine
import nn.functional as F
from engine import Tensor

POSITIONS = np.arange(12).reshape(3, 4)
# view op: (on a Tensor, on a numpy array of positions)
VIEWS = {
    "select": (lambda t: t[1], lambda a: a[1]),
    "slice": (lambda t: t[:, 1:3], lambda a: a[:, 1:3]),
    "step": (lambda t: t[::2], lambda a: a[::2]),
    "ellipsis": (lambda t: t[..., 0], lambda a: a[..., 0]),
    "narrow": (lambda t: t.narrow(1, 1, 2), lambda a: a[:, 1:3]),
    "t": (lambda t: t.t(), lambda a: a.T),
    "permute": (lambda t: t.permute(1, 0), lambda a: a.T),
    "view": (lambda t: t.view(-1), lambda a: a.reshape(-1)),
    "unflatten": (lambda t: t.unflatten(1, (2, 2)), lambda a: a.reshape(3, 2, 2)),
    "unsqueeze": (lambda t: t.unsqueeze(0), lambda a: a[None]),
    "diagonal": (lambda t: t.diagonal(), lambda a: np.diagonal(a)),
    "diagonal above": (lambda t: t.diagonal(1), lambda a: np.diagonal(a, 1)),
    "chunk": (lambda t: t.chunk(2, 1)[1], lambda a: a[:, 2:]),
    "view of a view": (lambda t: t[:, 1:].t()[2], lambda a: a[:, 1:].T[2]),
}
BASE = np.linspace(-2.0, 3.5, 12).reshape(3, 4)
WEIGHTS = np.arange(1.0, 13.0).reshape(3, 4)


def expected(view: str, scale: float, shift: np.ndarray | None = None) -> tuple:
    """The base after `view *= scale` (then `+= shift`) and d sum(base * WEIGHTS) / d base."""
    at = VIEWS[view][1](POSITIONS).reshape(-1)
    value, grad = BASE.reshape(-1).copy(), WEIGHTS.reshape(-1).copy()
    value[at] *= scale
    grad[at] *= scale
    if shift is not None:
        value[at] += shift.reshape(-1)
    return value.reshape(3, 4), grad.reshape(3, 4)


@pytest.mark.parametrize("view", VIEWS)
def test_a_view_changed_in_place_outside_the_graph_changes_its_base(view):
    t = Tensor(BASE.copy())
    VIEWS[view][0](t).mul_(-3.0)
    np.testing.assert_array_equal(t.numpy(), expected(view, -3.0)[0])


@pytest.mark.parametrize("view", VIEWS)
def test_a_view_changed_in_place_in_the_graph_changes_its_base_and_its_gradient(view):
    y = Tensor(BASE.copy(), requires_grad=True)
    base = y * 1
    VIEWS[view][0](base).mul_(-3.0)
    (base * Tensor(WEIGHTS)).sum().backward()
    value, grad = expected(view, -3.0)
    np.testing.assert_array_equal(base.detach().numpy(), value)
    np.testing.assert_array_equal(y.grad.numpy(), grad)
    assert base.grad_fn.name() == "CopySlices"


@pytest.mark.parametrize("view", VIEWS)
def test_an_operand_that_requires_grad_reaches_a_base_that_does_not(view):
    """zeros.view.add_(w): the base, a plain tensor, becomes a graph node of w."""
    t = Tensor(BASE.copy())
    v = VIEWS[view][0](t)
    w = Tensor(np.linspace(0.5, 1.5, v.numel()).reshape(v.shape), requires_grad=True)
    v.mul_(2.0).add_(w)
    assert t.requires_grad
    (t * Tensor(WEIGHTS)).sum().backward()
    value, _ = expected(view, 2.0, w.detach().numpy())
    np.testing.assert_array_equal(t.detach().numpy(), value)
    np.testing.assert_array_equal(w.grad.numpy(), VIEWS[view][1](WEIGHTS))


def test_setitem_and_augmented_assignment_on_a_view_reach_the_base():
    y = Tensor(BASE.copy(), requires_grad=True)
    base = y * 1
    base[0][1] = y[2, 3] * 10  # a view's __setitem__
    row = base[1]
    row += y[0]  # a view's __iadd__ (row is not assigned back into base)
    base.sum().backward()
    want = BASE.copy()
    want[0, 1] = 10 * BASE[2, 3]
    want[1] += BASE[0]
    np.testing.assert_allclose(base.detach().numpy(), want, rtol=1e-15)
    grad = np.ones((3, 4))
    grad[0, 1] = 0  # base[0, 1] no longer holds y[0, 1] ...
    grad[2, 3] += 10  # ... but 10 y[2, 3]
    grad[0] += 1  # and row 1 adds y's row 0
    np.testing.assert_array_equal(y.grad.numpy(), grad)


def test_writing_through_is_differentiable_twice(float64_default):
    def f(y: Tensor) -> Tensor:
        u = y * y
        u[1:, :2].mul_(y[0, :2])  # a view's entries times another view
        u.diagonal().add_(y[2, 1:].sin())
        return (u * u).sum()

    def grad_at(x: np.ndarray) -> np.ndarray:
        z = Tensor(x, requires_grad=True)
        return engine.grad(f(z), z)[0].numpy()
    y = Tensor(BASE.copy() / 2, requires_grad=True)
    assert engine.autograd.gradcheck(f, (y,))
    (g,) = engine.grad(f(y), y, create_graph=True)
    direction = np.linspace(-1, 1, 12).reshape(3, 4)
    (hessian_times_direction,) = engine.grad((g * Tensor(direction)).sum(), y)
    step = 1e-5  # the Hessian times the direction by central differences of the gradient
    numeric = (grad_at(BASE / 2 + step * direction) - grad_at(BASE / 2 - step * direction)) / (
        2 * step)
    np.testing.assert_allclose(hessian_times_direction.numpy(), numeric, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("call, message", [
    (lambda y: y[0].mul_(2), "a view of a leaf Variable that requires grad is being used in "
                             "an in-place operation."),
    (lambda y: (y * 1).expand(2, 3, 4).mul_(2), "more than one element of the written-to "
                                                "tensor refers to a single memory location"),
])
def test_what_pytorch_refuses_is_refused(call, message):
    y = Tensor(BASE.copy(), requires_grad=True)
    with pytest.raises(RuntimeError, match=message):
        call(y)
    np.testing.assert_array_equal(y.detach().numpy(), BASE)  # nothing half-written


def test_changing_a_views_shape_in_place_leaves_its_base_alone():
    y = Tensor(BASE.copy(), requires_grad=True)
    base = y * 1
    row = base[0]
    row.unsqueeze_(0)
    assert row.shape == (1, 4) and base.shape == (3, 4)
    np.testing.assert_array_equal(base.detach().numpy(), BASE)


# --- a base changed in place: its views, aliases and the graphs that saved them follow


@pytest.mark.parametrize("view", VIEWS)
def test_a_view_sees_its_base_change_in_the_graph_and_its_gradient_follows(view):
    """v = base[...]; base.mul_(-3): v holds the new numbers, and d sum(v) / d y is -3 at
    v's entries, as PyTorch's regenerated view gives (it was silently the old numbers)."""
    y = Tensor(BASE.copy(), requires_grad=True)
    base = y * 1
    v = VIEWS[view][0](base)
    base.mul_(-3.0)
    at = VIEWS[view][1](POSITIONS)
    np.testing.assert_array_equal(v.detach().numpy(), BASE.reshape(-1)[at] * -3.0)
    v.sum().backward()
    want = np.zeros(12)
    np.add.at(want, at.reshape(-1), -3.0)
    np.testing.assert_array_equal(y.grad.numpy(), want.reshape(3, 4))


@pytest.mark.parametrize("view", [view for view in VIEWS if view != "chunk"])
def test_a_view_sees_a_write_through_another_view_of_its_base(view):
    y = Tensor(BASE.copy(), requires_grad=True)
    base = y * 1
    sibling, changed = VIEWS[view][0](base), VIEWS[view][0](base)
    changed.mul_(-3.0)
    want, _ = expected(view, -3.0)
    np.testing.assert_array_equal(sibling.detach().numpy(), VIEWS[view][1](want))
    (sibling * 2).sum().backward()
    grad = np.zeros(12)
    np.add.at(grad, VIEWS[view][1](POSITIONS).reshape(-1), -6.0)
    np.testing.assert_array_equal(y.grad.numpy(), grad.reshape(3, 4))


def test_a_view_of_a_plain_tensor_joins_the_graph_its_base_joins():
    t = Tensor(np.zeros((2, 3)))
    row = t[1]
    w = Tensor(np.array([1.0, 2.0, 3.0]), requires_grad=True)
    t.add_(w)
    assert row.requires_grad and row.tolist() == [1.0, 2.0, 3.0]
    (row * Tensor(np.array([4.0, 5.0, 6.0]))).sum().backward()
    assert w.grad.tolist() == [4.0, 5.0, 6.0]


def test_aliases_share_a_change_made_in_the_graph():
    """.detach(), .numpy() and the array a tensor was made from see it, as in PyTorch."""
    array = BASE.copy()
    y = Tensor(array)  # shares the array's memory, as torch.from_numpy
    w = Tensor(np.full((3, 4), 2.0), requires_grad=True)
    x = Tensor(BASE.copy(), requires_grad=True)
    t = x * 1
    detached, numbers = t.detach(), t.numpy()
    before = detached._version, t._version
    y.mul_(w)
    t.mul_(-3.0)
    np.testing.assert_array_equal(array, BASE * 2)
    np.testing.assert_array_equal(detached.numpy(), BASE * -3)
    np.testing.assert_array_equal(numbers, BASE * -3)
    assert (detached._version, t._version) == (before[0] + 1, before[1] + 1)  # counted for both


@pytest.mark.parametrize("change", ["no_grad mul_", "optimizer step", "mul_ in the graph",
                                    "a view's add_"])
def test_a_graph_that_saved_a_view_refuses_after_its_base_changes(change):
    """y = a @ m.t() saved m.t() for a's gradient; m changed since: PyTorch raises, and so
    must we (the rule would read the new numbers: a silently wrong gradient before)."""
    a = Tensor(np.ones((4, 3)), requires_grad=True)
    if change == "optimizer step":
        m = Tensor(np.ones((2, 3)), requires_grad=True)
        y = a @ m.t()
        (m * m).sum().backward()
        engine.optim.SGD([m], lr=0.5).step()
    else:
        m = Tensor(np.ones((2, 3))) * 1 if change == "mul_ in the graph" else Tensor(
            np.ones((2, 3)))
        y = a @ m.t()
        if change == "no_grad mul_":
            with engine.no_grad():
                m.mul_(5.0)
        elif change == "mul_ in the graph":
            m.mul_(Tensor(np.full((2, 3), 5.0), requires_grad=True))
        else:
            m[0].add_(1.0)
    with pytest.raises(RuntimeError, match="modified by an in-place operation"):
        y.sum().backward()


def test_a_view_made_once_serves_every_training_step():
    """wt = w.t() made once (as in a model's __init__): each step's backward goes through it
    to w, and the optimizer's change of w is wt's too, as in PyTorch (before, the second
    step raised: the view was released, and then counted as modified)."""
    start = np.arange(6.0).reshape(2, 3) / 10
    w = Tensor(start.copy(), requires_grad=True)
    wt = w.t()
    opt = engine.optim.SGD([w], lr=0.1)
    x = Tensor(np.ones((4, 3)))
    want = start.copy()
    for _ in range(3):
        loss = ((x @ wt) ** 2).sum()
        opt.zero_grad()
        loss.backward()
        opt.step()
        rows = want.sum(axis=1)  # every row of x @ w.T is these sums: the loss is 4 sum(rows^2)
        np.testing.assert_allclose(loss.item(), 4 * (rows ** 2).sum(), rtol=1e-14)
        want -= 0.1 * 8 * rows[:, None]
    np.testing.assert_allclose(wt.detach().numpy(), want.T, rtol=1e-14)


def test_the_operand_of_an_in_place_op_keeps_the_numbers_it_read():
    """t.add_(t[0] * w): t[0] is about to change, and w's gradient is t[0] as it was."""
    x = Tensor(np.array([[1.0, 2.0], [3.0, 4.0]]), requires_grad=True)
    w = Tensor(np.array([10.0, 100.0]), requires_grad=True)
    t = x * 1
    t.add_(t[0] * w)
    assert t.tolist() == [[11.0, 202.0], [13.0, 204.0]]
    t.sum().backward()
    assert w.grad.tolist() == [2.0, 4.0]  # both rows added t[0] * w: 2 t[0]
    assert x.grad.tolist() == [[21.0, 201.0], [1.0, 1.0]]


def test_pickle_and_deepcopy_keep_numbers_not_sharing():
    t = Tensor(BASE.copy())
    t.label = "base"
    view = t[1]
    for again in (pickle.loads(pickle.dumps(view)), copy.deepcopy(view)):
        again.mul_(0.0)
        np.testing.assert_array_equal(t.numpy(), BASE)
        assert "_family" not in vars(again) and "_view_of" not in vars(again)
    assert copy.deepcopy(t).label == "base"


# PyTorch refuses in-place changes of views that come several at once (chunk's, split's)
@pytest.mark.parametrize("view", [view for view in VIEWS if view != "chunk"])
def test_as_pytorch(torch, view):
    def run(m):
        y = m.tensor(BASE.copy(), requires_grad=True)
        base = y * 1
        v = VIEWS[view][0](base)
        w = m.tensor(np.linspace(0.5, 1.5, v.numel()).reshape(tuple(v.shape)),
                     requires_grad=True)
        v.mul_(w).sub_(w * w)
        (base * m.tensor(WEIGHTS)).sum().backward()
        return base.detach().numpy(), y.grad.numpy(), w.grad.numpy()
    for ours, theirs in zip(run(engine), run(torch)):
        np.testing.assert_allclose(ours, theirs, rtol=1e-15, atol=1e-15)


@pytest.mark.parametrize("view", [view for view in VIEWS if view != "chunk"])
def test_views_follow_their_base_as_pytorchs(torch, view):
    def run(m):
        y = m.tensor(BASE.copy(), requires_grad=True)
        base = y * 1
        v, sibling = VIEWS[view][0](base), VIEWS[view][0](base)
        base.mul_(-3.0)
        sibling.add_(m.tensor(np.linspace(0.5, 1.5, v.numel()).reshape(tuple(v.shape))))
        (v * v).sum().backward()
        return v.detach().numpy(), y.grad.numpy(), int(v._version > 0)
    for ours, theirs in zip(run(engine), run(torch)):
        np.testing.assert_allclose(ours, theirs, rtol=1e-15, atol=1e-15)


def _program(seed: int, m, children: bool = False):
    """A random program on tensors sharing memory: views of views of a base in the graph or
    plain, in-place changes of any of them by numbers or by a graph node, then a loss over
    all of them. `children`: also ops that save nothing (t + 0.5, a sum, a negation) taken
    of them along the way and never changed, which the loss reads too. Returns their
    numbers and the gradients, or the error it raised."""
    rng = np.random.default_rng(seed)
    made = [lambda t: t + 0.5, lambda t: t.sum(0), lambda t: -t, lambda t: t.clone()]
    views = [lambda t: t[1], lambda t: t[:, 1:3], lambda t: t.t(), lambda t: t.view(-1),
             lambda t: t[::2], lambda t: t.diagonal(), lambda t: t.unsqueeze(0)]
    y = m.tensor(BASE.copy(), requires_grad=True)
    w = m.tensor(WEIGHTS / 10, requires_grad=True)
    live = [y * 1 if rng.random() < 0.7 else m.tensor(BASE + 5)]
    kept = []
    try:
        for _ in range(rng.integers(1, 6)):
            t, k = live[rng.integers(len(live))], rng.random()
            if children and rng.random() < 0.5:
                kept.append(made[rng.integers(len(made))](t))
            if k < 0.4 or len(live) == 1:
                live.append(views[rng.integers(len(views))](t) if t.dim() == 2 else t[:1])
            elif k < 0.7:
                t.mul_(float(rng.choice([2.0, -0.5])))
            else:
                t.add_(w.sum() * 0.1 if k < 0.85 else 1.0)
        numbers = [x.detach().numpy().copy() for x in live + kept]
        sum((x * x).sum() for x in live + kept).backward()
    except RuntimeError as e:
        return str(e)
    return numbers, [None if x.grad is None else x.grad.numpy() for x in (y, w)]


@pytest.mark.parametrize("children", [False, True], ids=["", "with nodes made along the way"])
def test_random_programs_of_views_and_in_place_changes_as_pytorchs(torch, children):
    """Where PyTorch runs the program, we give its numbers and gradients (PyTorch refuses
    some that we run: views made before their plain base joined the graph)."""
    ran = 0
    for seed in range(300):
        theirs = _program(seed, torch, children)
        if isinstance(theirs, str):
            continue
        ours = _program(seed, engine, children)
        assert not isinstance(ours, str), (seed, ours)
        for a, b in zip(ours[0] + ours[1], theirs[0] + theirs[1]):
            assert (a is None) == (b is None), seed
            if a is not None:
                np.testing.assert_allclose(a, b, rtol=1e-13, atol=1e-13, err_msg=str(seed))
        ran += 1
    assert ran > 150  # (208 of these 300)


def _zeroed(m, fill):
    x = m.tensor(W0, requires_grad=True)
    p = x * 1.0
    fill(p)
    kept = p.requires_grad
    p.abs_().sqrt_()  # an infinite gradient at 0 reaches the fill: it sends 0, not 0 * inf
    (p + 1.0).sum().backward()
    return kept, x.grad


@pytest.mark.parametrize("fill", [lambda p: p.zero_(), lambda p: p.fill_(0.0),
                                  lambda p: p.copy_(np.zeros(3))], ids=["zero_", "fill_", "copy_"])
def test_a_tensor_filled_in_the_graph_stays_in_it_with_a_zero_gradient(fill):
    """As PyTorch's ZeroBackward0 and CopyBackwards: p still requires grad, and x's gradient
    is exactly 0 (it used to be None, x having left the graph)."""
    kept, grad = _zeroed(engine, fill)
    assert kept and np.array_equal(grad.numpy(), np.zeros_like(W0))


def test_a_tensor_filled_in_the_graph_as_pytorchs(torch):
    for fill in (lambda p: p.zero_(), lambda p: p.copy_(torch.zeros(3))):
        kept, grad = _zeroed(torch, fill)
        assert kept and np.array_equal(grad.numpy(), np.zeros_like(W0))


def test_an_expanded_or_read_only_tensor_is_not_changed_in_place():
    """PyTorch's error for an expanded tensor (its entries share memory), and one naming the
    read-only numpy array, instead of numpy's 'assignment destination is read-only'."""
    frozen = np.ones((2, 3))
    frozen.flags.writeable = False
    changes = [lambda t: t.mul_(2.0), lambda t: t.relu_(), lambda t: t.zero_(),
               lambda t: t.__setitem__(0, 5.0), lambda t: t.normal_(),
               lambda t: engine.add(engine.ones(2, 3, dtype=engine.float64), 1.0, out=t)]
    for change in changes:
        with pytest.raises(RuntimeError, match="single memory location. Please clone"):
            change(engine.ones(1, 3, dtype=engine.float64).expand(2, 3))
        with pytest.raises(RuntimeError, match="read-only numpy array.*t.clone"):
            change(engine.from_numpy(frozen))
    assert np.array_equal(frozen, np.ones((2, 3)))


# Random programs of ops and in-place ops on tensors in the graph (the views above aside):
# each step takes a tensor made so far and either applies an op to it or changes it in place
# (by a number, by another tensor of the graph, or outside the graph under no_grad); the
# loss reads every tensor made. They found ops that let a tensor fall out of the graph
# (zero_ on a tensor that required grad) and gradients through a changed tensor's old node.
MADE = {
    "+": lambda m, t: t + 0.5, "*": lambda m, t: t * 1.5, "square": lambda m, t: t * t,
    "exp": lambda m, t: t.exp(), "tanh": lambda m, t: t.tanh(), "sigmoid": lambda m, t: t.sigmoid(),
    "relu": lambda m, t: t.relu(), "neg": lambda m, t: -t, "abs": lambda m, t: t.abs(),
    "** 3": lambda m, t: t ** 3, "sqrt": lambda m, t: (t.abs() + 1).sqrt(),
    "1 /": lambda m, t: 1.0 / (t.abs() + 1), "clamp": lambda m, t: t.clamp(-1, 1),
    "softmax": lambda m, t: t.softmax(-1), "log_softmax": lambda m, t: t.log_softmax(-1),
    "sum": lambda m, t: t.sum(0, keepdim=True).expand_as(t), "t": lambda m, t: t.t(),
    "view": lambda m, t: t.view(3, 3), "cat": lambda m, t: m.cat([t, t])[:3],
    "where": lambda m, t: m.where(t > 0, t, t * 2), "@": lambda m, t: t @ t.t(),
    "max": lambda m, t: t.max(-1, keepdim=True)[0].expand_as(t) * 1.0,
}
CHANGED = {
    "add_": lambda t, o: t.add_(o), "mul_": lambda t, o: t.mul_(o), "mul_ 0.5": lambda t, o: t.mul_(-0.5),
    "relu_": lambda t, o: t.relu_(), "tanh_": lambda t, o: t.tanh_(), "sigmoid_": lambda t, o: t.sigmoid_(),
    "exp_": lambda t, o: t.exp_(), "clamp_": lambda t, o: t.clamp_(-0.7, 0.7),
    "zero_": lambda t, o: t.zero_(), "copy_": lambda t, o: t.copy_(o),
    "t[0] =": lambda t, o: t.__setitem__(0, o[0]), "div_": lambda t, o: t.div_(2.0),
    "masked_fill_": lambda t, o: t.masked_fill_(o.detach() > 0, 0.25),
    "sub_": lambda t, o: t.sub_(o, alpha=2), "pow_": lambda t, o: t.pow_(2),
    "sqrt_": lambda t, o: t.abs_().sqrt_(), "addcmul_": lambda t, o: t.addcmul_(o, o, value=0.5),
    "lerp_": lambda t, o: t.lerp_(o, 0.3),
}


def _in_place_program(seed: int, m, x: np.ndarray, w: np.ndarray, untracked: bool = True):
    """The seed's program on leaves x and w: (the loss, every tensor made) or the error it
    raised. `untracked`: with changes made under no_grad, which autograd does not see."""
    rng = np.random.default_rng(seed)
    x, w = m.tensor(x, requires_grad=True), m.tensor(w, requires_grad=True)
    made = [x * 1.0, w + 0.0]
    try:
        for _ in range(rng.integers(2, 8)):
            t = made[rng.integers(len(made))]
            if rng.random() < 0.55:
                made.append(list(MADE.values())[rng.integers(len(MADE))](m, t))
                continue
            change, other = list(CHANGED.values())[rng.integers(len(CHANGED))], made[
                rng.integers(len(made))]
            if untracked and rng.random() < 0.1:
                with m.no_grad():
                    t.mul_(1.25)
            else:
                change(t, w * 0.5 if other is t else other)
        return sum((t * m.tensor(WEIGHTS[:3, :3] / 10)).sum() for t in made), made, (x, w)
    except RuntimeError as e:
        return str(e)


def _run(seed: int, m, untracked: bool = True):
    """The program's numbers and its leaves' gradients, or the error it raised."""
    rng = np.random.default_rng(10_000 + seed)
    ran = _in_place_program(seed, m, rng.standard_normal((3, 3)), rng.standard_normal((3, 3)),
                            untracked)
    if isinstance(ran, str):
        return ran
    loss, made, leaves = ran
    try:
        loss.backward()
    except RuntimeError as e:
        return str(e)
    return ([t.detach().numpy().copy() for t in made],
            [None if t.grad is None else t.grad.numpy() for t in leaves])


def test_random_in_place_programs_as_pytorchs(torch):
    """Where both run a program they agree in every number and gradient, a gradient that is
    None included. (Ours runs some that PyTorch refuses: the node PyTorch would need, its
    saved numbers since changed, was kept here with a copy of them.)"""
    both = 0
    for seed, (ours, theirs) in both_ran(_run, range(400), engine, torch):
        both += 1
        for a, b in zip(ours[0] + ours[1], theirs[0] + theirs[1]):
            assert (a is None) == (b is None), seed
            if a is not None:
                np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12, err_msg=str(seed))
    assert both > 200  # (231 of these 400)


def test_random_in_place_programs_against_central_differences():
    """Every program ours runs without untracked changes, its gradient against central
    differences of its loss in float64."""
    checked = 0
    for seed in range(60):
        rng = np.random.default_rng(10_000 + seed)
        x, w = rng.standard_normal((3, 3)), rng.standard_normal((3, 3))
        ran = _run(seed, engine, untracked=False)
        if isinstance(ran, str):
            continue
        for k, grad in enumerate(ran[1]):
            numeric = np.zeros((3, 3))
            for i in np.ndindex(3, 3):
                loss = []
                for step in (1e-6, -1e-6):
                    leaves = [x.copy(), w.copy()]
                    leaves[k][i] += step
                    with engine.no_grad():
                        loss.append(_in_place_program(seed, engine, *leaves, False)[0].item())
                numeric[i] = (loss[0] - loss[1]) / 2e-6
            got = np.zeros((3, 3)) if grad is None else grad
            np.testing.assert_allclose(got, numeric, rtol=1e-5, atol=1e-5, err_msg=str(seed))
        checked += 1
    assert checked > 20


def _brute_where(view: np.ndarray, base: np.ndarray) -> tuple:
    """Each view entry's index in base, by a dictionary of every base entry's address."""
    start = base.__array_interface__["data"][0]
    index = {start + sum(i * s for i, s in zip(ix, base.strides)): ix
             for ix in np.ndindex(*base.shape)}
    found = [index[view.__array_interface__["data"][0] + sum(i * s for i, s in zip(ix, view.strides))]
             for ix in np.ndindex(*view.shape)]
    return tuple(np.array([f[k] for f in found], dtype=np.intp).reshape(view.shape)
                 for k in range(base.ndim))


@given(st.integers(0, 10_000))
def test_where_finds_each_entry_of_any_view_in_its_base(seed):
    """engine.inplace._where against a brute-force search, on random views (slices with
    steps, transposes, reshapes) of random views of an array: the positions the base
    takes a view's new entries at."""
    from engine.inplace import _where
    rng = np.random.default_rng(seed)
    owner = np.arange(4 * 5 * 6, dtype=np.float64).reshape(4, 5, 6)

    def some_view(a: np.ndarray) -> np.ndarray:
        a = a[tuple(slice(rng.integers(0, 2), None, rng.integers(1, 3)) for _ in a.shape)]
        a = a.transpose(rng.permutation(a.ndim))
        return a[0] if a.ndim > 1 and rng.random() < 0.3 else a
    base = some_view(owner)
    view = some_view(base)
    if view.size:
        for got, want in zip(_where(view, base), _brute_where(view, base)):
            np.testing.assert_array_equal(got, want)


def test_a_base_with_interleaved_strides_is_searched():
    """A base laid out with strides (2, 3) entries, as np.lib.stride_tricks can make one:
    offsets do not divide out dim by dim, so _where sorts the base's addresses instead."""
    buffer = np.arange(8, dtype=np.float32)
    weird = np.lib.stride_tricks.as_strided(buffer, (3, 2), (8, 12))
    t = Tensor(weird)
    w = Tensor(np.array([10.0, 20.0, 30.0], np.float32), requires_grad=True)
    want = weird.copy()
    want[:, 0] += [10, 20, 30]
    t[:, 0].add_(w)
    np.testing.assert_array_equal(t.detach().numpy(), want)
    np.testing.assert_array_equal(weird, want)  # t's memory is the array's, as from_numpy's
    (t * Tensor(np.arange(1.0, 7.0, dtype=np.float32).reshape(3, 2))).sum().backward()
    np.testing.assert_array_equal(w.grad.numpy(), [1, 3, 5])


# Ops whose rules never read w's numbers: those that read shapes and settings only
# (engine/tensor.py's _saves_nothing), those that read their output only (_saves_output),
# and those that read w only for another operand's gradient (_saves). PyTorch saves nothing
# of w for them either, so after w changes in place both backpropagate, and the gradient is
# the one the unchanged w would get.
C = np.array([[2.0, -1.0, 0.5], [0.25, 3.0, -2.0]])
SAVES_NOTHING = {
    "exp": lambda lib, w: w.exp(),
    "tanh": lambda lib, w: w.tanh(),
    "sigmoid": lambda lib, w: w.sigmoid(),
    "relu": lambda lib, w: w.relu(),
    "sqrt": lambda lib, w: w.exp().sqrt(),
    "softmax": lambda lib, w: w.softmax(-1),
    "log_softmax": lambda lib, w: w.log_softmax(-1),
    "w * c": lambda lib, w: w * lib.tensor(C),
    "w / c": lambda lib, w: w / lib.tensor(C),
    "w @ c": lambda lib, w: w @ lib.tensor(C.T.copy()),
    "where": lambda lib, w: lib.where(lib.tensor(C > 0), w, lib.tensor(C)),
    "add": lambda lib, w: w + 1.5,
    "sub": lambda lib, w: 2.0 - w,
    "neg": lambda lib, w: -w,
    "clone": lambda lib, w: w.clone(),
    "cast": lambda lib, w: w.double(),
    "sum": lambda lib, w: w.sum(0),
    "mean": lambda lib, w: w.mean(1),
    "reshape": lambda lib, w: w.reshape(3, 2),
    "view": lambda lib, w: w.view(-1),
    "permute": lambda lib, w: w.permute(1, 0),
    "t": lambda lib, w: w.t(),
    "expand": lambda lib, w: w[:1].expand(4, 3),
    "cat": lambda lib, w: lib.cat([w, w], 0),
    "stack": lambda lib, w: lib.stack([w, w]),
    "slice": lambda lib, w: w[1:],
    "select": lambda lib, w: w[0],
    "index": lambda lib, w: w[[1, 0, 1]],
    "embedding": lambda lib, w: (F if lib is engine else lib.nn.functional).embedding(
        lib.tensor([[1, 0], [1, 1]]), w),
}
W0 = np.array([[0.5, -1.0, 2.0], [1.5, 0.25, -3.0]])


def _grad_after_change(lib, op, change: bool) -> np.ndarray:
    """d(out . G)/dw for out = op(w), w changed in place between the forward and backward."""
    w = lib.tensor(W0, requires_grad=True)
    out = SAVES_NOTHING[op](lib, w)
    seed = np.random.default_rng(0).standard_normal(tuple(out.shape))
    if change:
        with lib.no_grad():
            w.mul_(-3.0)
    out.backward(lib.tensor(seed, dtype=out.dtype))
    return w.grad.numpy()


@pytest.mark.parametrize("op", SAVES_NOTHING)
def test_an_op_that_saves_nothing_backpropagates_after_its_operand_changes(op):
    assert np.array_equal(_grad_after_change(engine, op, True),
                          _grad_after_change(engine, op, False))


@pytest.mark.parametrize("op", SAVES_NOTHING)
def test_an_op_that_saves_nothing_backpropagates_after_a_change_as_pytorchs(torch, op):
    np.testing.assert_allclose(_grad_after_change(engine, op, True),
                               _grad_after_change(torch, op, True), rtol=0, atol=1e-15)


def _exp_output(w: Tensor) -> tuple:
    out = w.exp()
    return out, out


READS = {  # name: w -> (out, the tensor then changed in place), out's rule reading it
    "w * w": lambda w: (w * w, w),
    "w @ w.t()": lambda w: (w @ w.t(), w),
    "w.abs() + w": lambda w: (w.abs() + w, w),
    "c / w": lambda w: (engine.tensor(C) / w, w),
    "w ** 3": lambda w: (w ** 3, w),
    "clamp": lambda w: (w.clamp(-1, 1), w),
    "exp, its output changed": _exp_output,
}


@pytest.mark.parametrize("op", READS)
def test_an_op_that_reads_what_changed_refuses(op):
    w = engine.tensor(W0, requires_grad=True)
    out, changed = READS[op](w)
    loss = out.sum()
    with engine.no_grad():
        changed.mul_(-3.0)
    with pytest.raises(RuntimeError, match="modified by an in-place operation"):
        loss.backward()


def test_a_shape_changed_in_place_after_use_is_refused_not_mis_shaped():
    w = engine.tensor(W0, requires_grad=True)
    out = (w + 1.0).sum()
    with engine.no_grad():
        w.t_()
    with pytest.raises(RuntimeError, match=r"shape \(2, 3\) reached a tensor of shape \(3, 2\)"):
        out.backward()


# A tensor changed in place in the graph is the same object standing for a new node
# (p.mul_(3): MulBackward). Nodes made from it before the change must still send their
# gradient to what it was, as PyTorch's graph links ops, not tensors: without that, `y = p + 1;
# p.mul_(3)` gave x three times its gradient, silently. Each program has an in-place form and
# the same arithmetic without in-place changes; both engines and both forms must agree.
def _add_then_mul_(lib, x, w, in_place):
    p = x * 2.0
    y = p + 1.0
    p.mul_(3.0) if in_place else p * 3.0
    return y.sum()


def _sum_then_add_(lib, x, w, in_place):
    p = x * 2.0
    s = p.sum()
    p = p.add_(w) if in_place else p + w
    return s + p.sum() * 0.5


def _view_child_then_base_mul_(lib, x, w, in_place):
    p = x * 2.0
    v = p.view(-1)
    y = v + 1.0  # made before the change: it read p's old numbers
    if in_place:
        p.mul_(-2.0)  # v, a view, shows p's new numbers from now on
    else:
        v = (p * -2.0).view(-1)
    return (y * lib.tensor(W0.reshape(-1))).sum() + (v * v).sum()


def _cat_then_relu_(lib, x, w, in_place):
    p = x - w
    c = lib.cat([p, p])
    p = p.relu_() if in_place else p.relu()
    return c.pow(2).sum() + (p * lib.tensor(W0)).sum()


def _expand_then_setitem(lib, x, w, in_place):
    p = x * 1.0
    y = p[:1].expand(3, 3) + lib.tensor(W_ROWS[:3])
    if in_place:
        p[0] = w[1]
    else:
        p = lib.cat([w[1:2], p[1:]])
    return y.pow(2).sum() + (p * p).sum()


def _remade_twice(lib, x, w, in_place):
    p = x * 2.0
    a = p + 1.0
    p = p.mul_(3.0) if in_place else p * 3.0
    b = p.sum(0)
    p = p.add_(w) if in_place else p + w
    return (a * lib.tensor(W0)).sum() + (b * b).sum() + (p * p).sum()


def _buffer_rows(lib, x, w, in_place):
    rows = [w[0] * 1.0]
    buf = lib.zeros(4, 3, dtype=x.dtype)
    buf[0] = rows[0]
    for t in range(1, 4):
        rows.append((buf[t - 1] if in_place else rows[-1]) + x[t % 2])
        if in_place:
            buf[t] = rows[-1]
    return ((buf if in_place else lib.stack(rows)) * lib.tensor(W_ROWS)).sum()


REMADE = {  # name: loss(lib, x, w, in_place); x and w (2, 3) leaves
    "add, then mul_": _add_then_mul_,
    "sum, then add_ of a node": _sum_then_add_,
    "view's child, then its base's mul_": _view_child_then_base_mul_,
    "cat, then relu_": _cat_then_relu_,
    "expand, then setitem": _expand_then_setitem,
    "used before and after two changes": _remade_twice,
    "rows of a buffer written in a loop": _buffer_rows,
}


def _remade_grads(lib, case, in_place):
    x = lib.tensor(W0 * 0.7 - 0.3, requires_grad=True)
    w = lib.tensor(W0[::-1].copy(), requires_grad=True)
    REMADE[case](lib, x, w, in_place).backward()
    return [x.grad.numpy(), w.grad.numpy() if w.grad is not None else np.zeros_like(W0)]


@pytest.mark.parametrize("case", REMADE)
def test_a_node_made_before_its_operand_changed_in_the_graph_keeps_its_gradient(case):
    for ours, pure in zip(_remade_grads(engine, case, True), _remade_grads(engine, case, False)):
        np.testing.assert_allclose(ours, pure, rtol=1e-15, atol=0)


@pytest.mark.parametrize("case", REMADE)
def test_a_node_made_before_its_operand_changed_in_the_graph_as_pytorchs(torch, case):
    for ours, theirs in zip(_remade_grads(engine, case, True), _remade_grads(torch, case, True)):
        np.testing.assert_allclose(ours, theirs, rtol=1e-15, atol=0)


def test_a_node_made_before_a_change_cannot_reach_a_graph_already_released():
    """PyTorch's answer too: the backward pass through the changed tensor released the graph
    that both it and the earlier node hang from."""
    x = Tensor(W0, requires_grad=True)
    p = x * 2.0
    y = p + 1.0
    p.mul_(3.0)
    p.sum().backward()
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        y.sum().backward()


def test_a_node_made_before_a_change_is_drawn_with_what_it_read():
    x = Tensor(W0, requires_grad=True)
    p = x * 2.0
    y = p + 1.0
    p.mul_(3.0)
    assert [q._op for q in y._prev] == ["*", ""]  # x * 2.0, the number 1.0
    assert y.grad_fn.next_functions[0][0].name() == "MulBackward0"
    assert y._prev[0] is not p and p._op == "*" and p._prev[0] is y._prev[0]


# What a rule reads besides its operands (an index, a mask, labels) is kept as the forward
# pass read it: changing the caller's tensor, array or list in place before the backward
# pass leaves the gradient right (PyTorch raises for a tensor it saved, and for a numpy
# index reads the changed array: ours is right in both).
W_ROWS = np.arange(12.0).reshape(4, 3)
CAPTURED = {  # name: (make the reader's argument, out = op(w, it), change it in place)
    "index tensor": (lambda: Tensor(np.array([1, 0, 1])), lambda w, i: w[i],
                     lambda i: i.add_(1)),
    "index array": (lambda: np.array([1, 0, 1]), lambda w, i: w[i],
                    lambda i: i.__setitem__(0, 3)),
    "index list": (lambda: [1, 0, 1], lambda w, i: w[i], lambda i: i.__setitem__(0, 3)),
    "index in a tuple": (lambda: Tensor(np.array([2, 0])), lambda w, i: w[i, 1:],
                         lambda i: i.fill_(3)),
    "gather": (lambda: Tensor(np.array([[0], [1], [2], [0]])), lambda w, i: w.gather(1, i),
               lambda i: i.fill_(2)),
    "index_select": (lambda: Tensor(np.array([2, 2])), lambda w, i: w.index_select(1, i),
                     lambda i: i.fill_(0)),
    "take_along_dim": (lambda: Tensor(np.array([[0], [1], [2], [0]])),
                       lambda w, i: engine.take_along_dim(w, i, 1), lambda i: i.fill_(2)),
    "masked_fill": (lambda: Tensor(np.eye(4, 3, dtype=bool)),
                    lambda w, m: w.masked_fill(m, 0.0), lambda m: m.fill_(True)),
    "where": (lambda: Tensor(np.eye(4, 3, dtype=bool)), lambda w, m: engine.where(m, w, 0.0),
              lambda m: m.fill_(False)),
    "masked_select": (lambda: Tensor(np.eye(4, 3, dtype=bool)),
                      lambda w, m: w.masked_select(m), lambda m: m.fill_(True)),
    "embedding": (lambda: Tensor(np.array([1, 0, 1])), lambda w, i: F.embedding(i, w),
                  lambda i: i.add_(1)),
    "cross_entropy": (lambda: Tensor(np.array([0, 2, 1, 1])),
                      lambda w, t: F.cross_entropy(w, t, reduction="none"), lambda t: t.fill_(0)),
    "nll_loss": (lambda: Tensor(np.array([0, 2, 1, 1])),
                 lambda w, t: F.nll_loss(w, t, reduction="none"), lambda t: t.fill_(0)),
    "scatter": (lambda: Tensor(np.array([[0, 1, 2], [1, 2, 0]])),
                lambda w, i: w.scatter(0, i, w[2:] * 2.0), lambda i: i.fill_(3)),
    "scatter_add": (lambda: Tensor(np.array([[0, 1, 2], [1, 2, 0]])),
                    lambda w, i: engine.zeros_like(w).scatter_add(0, i, w[:2]),
                    lambda i: i.fill_(3)),
    "index_add": (lambda: Tensor(np.array([0, 2])),
                  lambda w, i: engine.zeros_like(w).index_add(0, i, w[:2]), lambda i: i.fill_(3)),
    "index_copy": (lambda: Tensor(np.array([0, 2])),
                   lambda w, i: w.index_copy(0, i, w[1:3] * 2.0), lambda i: i.fill_(3)),
    "index_put": (lambda: (Tensor(np.array([0, 2])),),
                  lambda w, i: w.index_put(i, w[1] * 2.0), lambda i: i[0].fill_(3)),
    "masked_scatter": (lambda: Tensor(np.eye(4, 3, dtype=bool)),
                       lambda w, m: w.masked_scatter(m, w.reshape(-1) * 2.0),
                       lambda m: m.fill_(True)),
    "setitem": (lambda: Tensor(np.array([0, 2])), lambda w, i: _set(w * 1.0, i, w[1:3]),
                lambda i: i.fill_(3)),
}


def _set(t: Tensor, index: Tensor, value: Tensor) -> Tensor:
    t[index] = value
    return t


@pytest.mark.parametrize("case", CAPTURED)
def test_what_a_rule_reads_besides_its_operands_is_kept_as_the_forward_read_it(case):
    make, op, change = CAPTURED[case]
    grads = []
    for changed in (False, True):
        w = Tensor(W_ROWS, requires_grad=True)
        it = make()
        out = op(w, it)
        if changed:
            with engine.no_grad():
                change(it)
        out.backward(Tensor(np.linspace(1.0, 2.0, out.numel()).reshape(tuple(out.shape))))
        grads.append(w.grad.numpy())
    assert np.array_equal(*grads)


@pytest.mark.parametrize("program, want", [
    # x[i] down to one entry is a 0-d view, as PyTorch's: it sees x change, and changes x
    ("x = lib.tensor([1.0, 2.0, 3.0]); y = x[1]; x.add_(10); out = y.item()", 12.0),
    ("x = lib.tensor([[1.0, 2.0], [3.0, 4.0]]); y = x[1, 0]; x.mul_(2); out = y.item()", 6.0),
    ("x = lib.tensor([1.0, 2.0, 3.0]); y = x[1]; y.mul_(5); out = x.tolist()",
     [1.0, 10.0, 3.0]),
    ("x = lib.tensor([1.0, 2.0, 3.0]); y = x[-1]; x[2] = 7; out = y.item()", 7.0),
    ("x = lib.tensor([1.0, 2.0, 3.0], requires_grad=True); z = x * 1; y = z[1]; y.mul_(3); "
     "z.sum().backward(); out = x.grad.tolist()", [1.0, 3.0, 1.0]),
    ("x = lib.tensor([1.0, 2.0, 3.0], requires_grad=True); (x[1] * 2).backward(); "
     "out = (x.grad.tolist(), (x * 1)[1].grad_fn.name())", ([0.0, 2.0, 0.0], "SelectBackward0")),
])
def test_one_entry_picked_by_ints_is_a_view(library, program, want):
    """(It was a copy: numpy gives an entry picked by ints as a number.)"""
    scope = {"lib": library}
    exec(program, scope)
    assert scope["out"] == want


def test_deepcopy_keeps_views_of_one_memory_views_of_one_copy(library):
    """As PyTorch's storages: a change through one copied view shows in the others (each
    copied tensor had memory of its own); the original is left alone."""
    import copy
    x = library.arange(6.0).reshape(2, 3)
    copied = copy.deepcopy({"x": x, "t": x.t(), "row": x[1:], "e": x[:1].expand(3, 3)})
    copied["x"][0, 1] = 9.0
    assert copied["t"].tolist() == [[0.0, 3.0], [9.0, 4.0], [2.0, 5.0]]
    assert copied["e"].tolist() == [[0.0, 9.0, 2.0]] * 3 and copied["row"].tolist() == [
        [3.0, 4.0, 5.0]]
    assert x[0, 1].item() == 1.0
