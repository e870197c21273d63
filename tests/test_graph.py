"""engine/graph.py: the iterative topological order, the two backward drivers (micrograd's
in place, and the general one: threads, released graphs, engine.grad, create_graph)."""
from __future__ import annotations

import sys
import threading

import numpy as np
import pytest

import engine
from engine import Value, topological_order


def test_order_puts_every_parent_before_its_children_once_and_root_last():
    a, b = Value(1.0), Value(2.0)
    c = a * b
    d = c + a
    e = d * c + b
    order = topological_order(e)
    assert order[-1] is e
    assert len(order) == len(set(order)) == 6  # a, b, c, d, d*c, e
    position = {node: i for i, node in enumerate(order)}
    for node in order:
        for parent in node._prev:
            assert position[parent] < position[node]


def test_order_of_a_leaf_is_the_leaf():
    a = Value(1.0)
    assert topological_order(a) == [a]


def test_deep_chain_walks_without_recursion():
    x = y = Value(0.0)
    for _ in range(20_000):
        y = y + 1
    order = topological_order(y)
    assert len(order) == 20_001 and order[0] is x and order[-1] is y
    assert sys.getrecursionlimit() < 20_000


def test_wide_fan_in_every_path_adds_up():
    a = Value(0.5)
    total = sum((a * k for k in range(1, 101)), Value(0.0))
    total.backward()
    assert a.grad == pytest.approx(sum(range(1, 101)))


def test_backward_skips_nothing_reachable_and_touches_nothing_else():
    a, b, unrelated = Value(2.0), Value(3.0), Value(4.0)
    side = unrelated * a  # uses a, but is not part of out's graph
    out = a * b
    out.backward()
    assert (a.grad, b.grad, unrelated.grad, side.grad) == (3.0, 2.0, 0.0, 0.0)


# --- the general driver: concurrent passes, released graphs, engine.grad ---

@pytest.fixture
def switch_often():
    """Threads switch every microsecond, so a race that can happen does happen."""
    before = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    yield
    sys.setswitchinterval(before)


def _run_threads(n, work):
    threads = [threading.Thread(target=work, args=(k,)) for k in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def test_threads_backpropagating_into_one_shared_weight_lose_nothing(switch_often):
    """Issue 21, 1: 8 threads x 50 backward passes into one 200k-entry weight. A leaf's
    grad is read, added to and written back under a lock (numpy releases the GIL on big
    adds, so without the lock updates are lost)."""
    w = engine.Tensor(np.zeros(200_000), requires_grad=True)

    def work(k):
        for _ in range(50):
            (w * 1.0).sum().backward()

    _run_threads(8, work)
    np.testing.assert_array_equal(w.grad, np.full(200_000, 400.0))


def test_threads_backpropagating_through_one_shared_interior_node(switch_often):
    """Issue 21, 2: h = w * 2 is built once and used by 8 threads. Each pass keeps its
    bookkeeping in a dictionary of its own, so the sums are exact (integers in float64)."""
    w = engine.Tensor(np.ones(100_000), requires_grad=True)
    h = w * 2

    def work(k):
        x = engine.Tensor(np.full(100_000, float(k + 1)))
        for _ in range(30):
            (h * x).sum().backward(retain_graph=True)

    _run_threads(8, work)
    want = 30 * 2 * sum(range(1, 9))  # d/dw sum(2w x_k), summed over every pass
    np.testing.assert_array_equal(w.grad, np.full(100_000, float(want)))


def test_a_released_graph_refuses_a_second_backward_and_frees_its_activations():
    import gc
    import weakref
    x = engine.Tensor(np.ones(3), requires_grad=True)
    h = x.exp()
    alive = weakref.ref(h)
    loss = (h * 2).sum()
    del h
    loss.backward()
    gc.collect()
    assert alive() is None  # the graph let go of the activation once its rule had run
    with pytest.raises(RuntimeError, match="second time.*retain_graph=True"):
        loss.backward()


def test_grad_returns_gradients_and_writes_no_grad():
    x = engine.Tensor([1.0, 2.0], requires_grad=True, dtype=np.float64)
    y = (x ** 3).sum()
    (g,) = engine.grad(y, x)
    np.testing.assert_array_equal(g, [3.0, 12.0])
    assert x.grad is None
    h = x * 2
    (gh,) = engine.grad((h * h).sum(), [h])  # an interior input
    np.testing.assert_array_equal(gh, [4.0, 8.0])
    z = engine.Tensor([1.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="not used.*allow_unused"):
        engine.grad((x * 2).sum(), [x, z])
    assert engine.grad((x * 2).sum(), [x, z], allow_unused=True)[1] is None
    v = Value(3.0)
    assert engine.grad(v * v * v, [v]) == (27.0,) and v.grad == 0.0


@pytest.mark.parametrize("engine_name", ["value", "tensor"])
def test_create_graph_makes_gradients_that_differentiate_again(engine_name):
    """d/dx of x**3 is 3x**2 and d2/dx2 is 6x, by backward(create_graph=True), then again."""
    x = Value(2.0) if engine_name == "value" else engine.Tensor(2.0, requires_grad=True,
                                                                 dtype=np.float64)
    (x * x * x).backward(create_graph=True)
    first = x.grad
    assert float(first.data if engine_name == "value" else first) == 12.0
    x.grad = 0.0 if engine_name == "value" else None
    first.backward()
    assert float(x.grad.data if engine_name == "value" and hasattr(x.grad, "data")
                 else x.grad) == 12.0  # 6x


def test_a_node_changed_in_place_after_use_is_refused_not_miscomputed():
    w = engine.Tensor([1.0, 2.0], requires_grad=True)
    x = engine.Tensor([3.0, 4.0])
    y = (w * x).sum()  # the rule for w needs x as it was
    x += 1
    with pytest.raises(RuntimeError, match="modified by an in-place operation"):
        y.backward()



def test_a_change_is_caught_though_nodes_made_after_it_skip_the_check():
    """A pass compares a node's versions only if some in-place change came after the node
    was made: here the sum is made after the change and skips, the product must not."""
    w = engine.Tensor([1.0, 2.0], requires_grad=True)
    x = engine.Tensor([3.0, 4.0])
    y = w * x
    x.mul_(2)
    z = y.sum()
    with pytest.raises(RuntimeError, match="'\\*' node has been modified"):
        z.backward()


def test_a_pass_after_a_forward_that_changed_nothing_reads_no_versions(monkeypatch):
    w = engine.Tensor([1.0, 2.0], requires_grad=True)
    w.data += 1  # a change before the graph (an optimizer's step)
    loss = ((w * 3.0) @ w + w).sum()
    read = []
    monkeypatch.setattr(engine.Tensor, "_versions", lambda node: read.append(node) or 0)
    loss.backward()
    assert read == [] and w.grad.tolist() == [25.0, 37.0]


# --- engine.grad and create_graph: PyTorch's semantics at the edges ---

def test_grad_through_a_graph_released_by_an_earlier_grad_raises_not_unused():
    x = engine.Tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    engine.grad((y * 3).sum(), x)  # releases y's node too
    with pytest.raises(RuntimeError, match="second time.*retain_graph=True"):
        engine.grad((y + 1).sum(), x)
    z = x * 2
    engine.grad((z * 3).sum(), x, retain_graph=True)
    np.testing.assert_array_equal(engine.grad((z + 1).sum(), x)[0], [2.0, 2.0])


@pytest.mark.parametrize("create_graph", [False, True])
def test_an_input_reached_with_zero_gradient_is_used_and_gets_zero(create_graph):
    """relu below 0 and x ** 0 send no gradient at all, but x is in the graph: PyTorch gives
    zeros there, and 'not used' is for inputs outside the graph."""
    x = Value(-1.0)
    (g,) = engine.grad(x.relu(), x, create_graph=create_graph)
    assert float(g.data if create_graph else g) == 0.0
    assert isinstance(g, Value) == create_graph
    t = engine.Tensor([2.0, 3.0], requires_grad=True, dtype=np.float64)
    (gt,) = engine.grad((t ** 0).sum(), t, create_graph=create_graph)
    np.testing.assert_array_equal(gt, [0.0, 0.0])


def test_grad_returns_arrays_of_their_own():
    a = engine.Tensor(np.ones((2, 3)), requires_grad=True)
    b = engine.Tensor(np.ones((2, 3)), requires_grad=True)
    ga, gb = engine.grad((a + b).sum(), [a, b])  # one broadcast array, handed to both
    ga += 1  # writable, and b's is not the same array
    np.testing.assert_array_equal(gb, np.ones((2, 3)))
    assert np.asarray(ga).flags.writeable and not np.shares_memory(np.asarray(ga), np.asarray(gb))


def test_grad_outputs_that_require_grad_make_a_gradient_linear_in_them():
    """The double-backward trick (engine.functional.jvp): u requires grad, so the gradient
    d(u . y)/dx is a graph in u, and its gradient along v is J v."""
    x = engine.Tensor([0.5, -1.0], requires_grad=True, dtype=np.float64)
    y = x * x * 3  # J = diag(6x)
    u = engine.zeros(2, dtype=np.float64, requires_grad=True)
    (vjp,) = engine.grad(y, x, grad_outputs=u, create_graph=True)
    assert vjp.requires_grad
    (jv,) = engine.grad(vjp, u, grad_outputs=engine.Tensor([1.0, 2.0], dtype=np.float64))
    np.testing.assert_allclose(jv, [3.0, -12.0])
    v = Value(2.0)
    w = Value(0.0)
    (vjp_v,) = engine.grad(v * v * v, v, grad_outputs=w, create_graph=True)
    assert engine.grad(vjp_v, w) == (12.0,)  # 3 v**2
    assert engine.grad(v * v, v, grad_outputs=Value(1.0)) == (4.0,)  # a float without create_graph


@pytest.mark.parametrize("engine_name", ["value", "tensor"])
def test_leaves_accumulate_graph_gradients_across_calls(engine_name):
    def make(x):
        return Value(x) if engine_name == "value" else engine.Tensor(x, requires_grad=True,
                                                                     dtype=np.float64)
    x = make(2.0)
    (x * x * x).backward(create_graph=True)  # 3x**2 = 12
    (x * x).backward(create_graph=True)  # + 2x = 16, still a graph in x
    total = x.grad
    assert float(total.data if engine_name == "value" else total) == 16.0
    (d2,) = engine.grad(total, x)
    assert float(d2) == 14.0  # 6x + 2


def test_create_graph_gives_each_leaf_a_gradient_of_its_own():
    """As PyTorch's, a leaf's graph gradient is a copy: not the seed, not another leaf's."""
    a = engine.Tensor([1.0, 2.0], requires_grad=True)
    b = engine.Tensor([3.0, 4.0], requires_grad=True)
    seed = engine.Tensor([1.0, 1.0])
    (a + b).backward(seed, create_graph=True)
    assert a.grad is not b.grad and a.grad is not seed
    a.grad.mul_(5)  # in place: no graph to record, only a's gradient changes
    np.testing.assert_array_equal(b.grad, [1.0, 1.0])
    np.testing.assert_array_equal(seed, [1.0, 1.0])


def test_value_create_graph_fills_every_node_with_a_value_as_micrograd_fills_floats():
    a, b = Value(2.0), Value(-3.0)
    h = a * b
    out = h.relu() + h * a  # relu(-6) sends nothing to h, so h's gradient is a alone
    out.backward()
    floats = {n: n.grad for n in (a, b, h)}
    out.backward(create_graph=True)  # interior grads start afresh; leaves accumulate
    assert all(isinstance(n.grad, Value) for n in (a, b, h, out))
    assert h.grad.data == floats[h]
    assert a.grad.data == 2 * floats[a] and b.grad.data == 2 * floats[b]
    (d2,) = engine.grad(h.grad, a)  # d(out)/dh = a, so its derivative in a is 1
    assert d2 == 1.0
    c = Value(-1.0)
    c.relu().backward(create_graph=True)  # nothing reaches c: a constant Value all the same
    assert isinstance(c.grad, Value) and c.grad.data == 0.0


def test_a_backward_pass_through_inf_and_nan_gives_no_numpy_warning():
    import warnings
    x = engine.Tensor(0.0, requires_grad=True, dtype=np.float64)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        (g,) = engine.grad(x ** 0, x, create_graph=True)
        p = engine.Tensor(2.0, requires_grad=True, dtype=np.float64)
        (gp,) = engine.grad(0.0 ** p, p, create_graph=True)  # 0 * ln(0) inside, masked
        (h,) = engine.grad(gp, p, allow_unused=True)
    assert float(g) == 0.0 and float(gp) == 0.0 and float(h) == 0.0


def test_grad_of_an_interior_input_with_create_graph_differentiates_again():
    """d(h**3)/dh for h = 2x, as a graph in x: 3 h**2, whose derivative in x is 12 h."""
    x = engine.Tensor([0.5, -1.0], requires_grad=True, dtype=np.float64)
    h = x * 2
    (gh,) = engine.grad((h ** 3).sum(), h, create_graph=True)
    np.testing.assert_allclose(gh, 3 * np.array([1.0, -2.0]) ** 2)
    (gx,) = engine.grad(gh.sum(), x)
    np.testing.assert_allclose(gx, 12 * np.array([1.0, -2.0]))


def test_backward_of_no_tensors_does_nothing_as_in_pytorch():
    engine.autograd.backward([])
