"""engine/value.py: every op against central differences and PyTorch; graph semantics."""
from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import engine
from engine import Value, gradcheck
from op_table import EDGES, OPS, STEPS, programs, run_program

# Each row of the shared op table (tests/op_table.py) at two points drawn from its domain.
OP_CASES = [pytest.param(f, point, id=f"{name}{point}")
            for i, (name, f, draws) in enumerate(OPS)
            for point in zip(*(d(np.random.default_rng(i), 2).tolist() for d in draws))]


@pytest.mark.parametrize("f, point", OP_CASES)
def test_op_gradient_matches_central_differences(f, point):
    assert gradcheck(f, [Value(x) for x in point], atol=1e-7, rtol=1e-6)


@pytest.mark.parametrize("f, point", OP_CASES)
def test_op_matches_pytorch(torch, f, point):
    ours = [Value(x) for x in point]
    out = f(*ours)
    out.backward()
    theirs = [torch.tensor(x, requires_grad=True) for x in point]
    t_out = f(*theirs)
    t_out.backward()
    assert out.data == pytest.approx(t_out.item(), rel=1e-12)
    for v, t in zip(ours, theirs):
        assert v.grad == pytest.approx(t.grad.item(), rel=1e-10)


# --- micrograd's own engine tests, on our API, against PyTorch ---

def test_micrograd_sanity_check(torch):
    x = Value(-4.0)
    z = 2 * x + 2 + x
    q = z.relu() + z * x
    h = (z * z).relu()
    y = h + q + q * x
    y.backward()

    xt = torch.tensor([-4.0], requires_grad=True)
    zt = 2 * xt + 2 + xt
    qt = zt.relu() + zt * xt
    ht = (zt * zt).relu()
    yt = ht + qt + qt * xt
    yt.backward()

    assert y.data == yt.data.item()
    assert x.grad == xt.grad.item()


def test_micrograd_more_ops(torch):
    a, b = Value(-4.0), Value(2.0)
    c = a + b
    d = a * b + b ** 3
    c += c + 1
    c += 1 + c + (-a)
    d += d * 2 + (b + a).relu()
    d += 3 * d + (b - a).relu()
    e = c - d
    f = e ** 2
    g = f / 2.0
    g += 10.0 / f
    g.backward()

    at, bt = torch.tensor([-4.0], requires_grad=True), torch.tensor([2.0], requires_grad=True)
    ct = at + bt
    dt = at * bt + bt ** 3
    ct = ct + ct + 1
    ct = ct + 1 + ct + (-at)
    dt = dt + dt * 2 + (bt + at).relu()
    dt = dt + 3 * dt + (bt - at).relu()
    et = ct - dt
    ft = et ** 2
    gt = ft / 2.0
    gt = gt + 10.0 / ft
    gt.backward()

    assert g.data == pytest.approx(gt.item(), abs=1e-6)
    assert a.grad == pytest.approx(at.grad.item(), abs=1e-6)
    assert b.grad == pytest.approx(bt.grad.item(), abs=1e-6)


# --- random expression graphs, mixing every op and reusing nodes ---

def finite(*xs):
    return all(math.isfinite(x) and abs(x) < 1e8 for x in xs)


@settings(max_examples=60, deadline=None)
@given(programs())
def test_random_graphs_match_pytorch(torch, program):
    start, steps = program
    ours = [Value(x) for x in start]
    out = run_program(ours, steps)
    out.backward()
    assume(finite(out.data, *(v.grad for v in ours)))  # squaring 25 times overflows both engines
    theirs = [torch.tensor(x, requires_grad=True) for x in start]
    t_out = run_program(theirs, steps)
    t_out.backward()
    assert out.data == pytest.approx(t_out.item(), rel=1e-9, abs=1e-9)
    for v, t in zip(ours, theirs):
        t_grad = 0.0 if t.grad is None else t.grad.item()
        assert v.grad == pytest.approx(t_grad, rel=1e-8, abs=1e-9)


# relu and abs are left out: a kink within eps of an intermediate value fools central differences
SMOOTH_STEPS = sorted(set(STEPS) - {"relu", "abs"})


@settings(max_examples=40, deadline=None)
@given(programs(SMOOTH_STEPS))
def test_random_graphs_match_central_differences(program):
    start, steps = program
    values = [Value(x) for x in start]
    out = run_program(values, steps)
    out.backward()
    assume(finite(out.data, *(v.grad for v in values)) and abs(out.data) < 1e4)
    assert gradcheck(lambda *xs: run_program(xs, steps), [Value(x) for x in start],
                     atol=1e-5, rtol=1e-4)


# --- algebraic properties ---

smooth_unary = st.sampled_from(["exp", "tanh", "sigmoid", "log", "sqrt", "number_ops", "pow"])


@settings(max_examples=50, deadline=None)
@given(st.floats(-2, 2), smooth_unary, smooth_unary)
def test_gradient_of_sum_is_sum_of_gradients(x, f, g):
    f, g = STEPS[f][1], STEPS[g][1]
    a = Value(x)
    (f(a) + g(a)).backward()
    fa, ga = Value(x), Value(x)
    f(fa).backward()
    g(ga).backward()
    assert a.grad == pytest.approx(fa.grad + ga.grad, rel=1e-12, abs=1e-12)


@settings(max_examples=50, deadline=None)
@given(st.floats(-2, 2), smooth_unary, smooth_unary)
def test_product_rule(x, f, g):
    f, g = STEPS[f][1], STEPS[g][1]
    a = Value(x)
    (f(a) * g(a)).backward()
    fa, ga = Value(x), Value(x)
    fv, gv = f(fa), g(ga)
    fv.backward()
    gv.backward()
    assert a.grad == pytest.approx(fa.grad * gv.data + fv.data * ga.grad, rel=1e-10, abs=1e-12)


# --- graph semantics ---

def test_reused_node_gets_every_path():
    a = Value(3.0)
    b = a + a
    c = b + b
    c.backward()
    assert a.grad == 4.0
    assert b.grad == 2.0


def test_leaf_gradients_accumulate_across_backward_calls():
    a, b = Value(2.0), Value(-3.0)
    c = a * b + a
    c.backward()
    assert (a.grad, b.grad) == (-2.0, 2.0)
    c.backward()
    # leaves accumulate, as in PyTorch; the interior node is recomputed, not doubled twice
    assert (a.grad, b.grad) == (-4.0, 4.0)
    assert c.grad == 1.0


def test_zeroing_leaves_between_calls_repeats_the_same_gradient():
    a = Value(0.5)
    out = (a * a).tanh()
    out.backward()
    first = a.grad
    a.grad = 0.0
    out.backward()
    assert a.grad == first


def test_backward_on_a_leaf_seeds_it_and_accumulates_across_calls():
    a = Value(5.0)
    a.backward()
    assert a.grad == 1.0
    a.backward()
    assert a.grad == 2.0  # d a / d a, added in twice, as for any leaf (and in PyTorch)


def test_million_op_chain_backprops_within_the_default_recursion_limit():
    import sys
    assert sys.getrecursionlimit() <= 10_000
    x = Value(1.0)
    y = x
    for _ in range(1_000_000):
        y = y * 1.0
    y.backward()
    assert x.grad == 1.0


def test_no_grad_records_no_graph_and_restores_afterwards():
    a = Value(2.0)
    with engine.no_grad():
        assert not engine.is_grad_enabled()
        b = a * 3 + a.exp()
    assert b._prev == () and b._op == "+"  # the op is named, not linked
    b._backward()  # no parents to send anything to
    assert a.grad == 0.0
    assert b.data == pytest.approx(6 + math.exp(2))
    assert engine.is_grad_enabled()
    c = a * 3
    assert c._prev == (a,)


def test_no_grad_as_decorator_and_after_an_exception():
    @engine.no_grad()
    def update(v):
        return v * 2

    assert update(Value(1.0))._prev == ()
    with pytest.raises(RuntimeError):
        with engine.no_grad():
            raise RuntimeError("boom")
    assert engine.is_grad_enabled()


def test_values_hash_and_compare_by_identity():
    a, b = Value(1.0), Value(1.0)
    assert a != b and a == a
    assert len({a, b}) == 2


def test_repr_shows_data_grad_and_label():
    v = Value(2.5, label="w")
    v.grad = -0.5
    assert repr(v) == "Value(data=2.5, grad=-0.5, label='w')"


def test_numbers_of_every_real_kind_are_accepted_as_floats():
    for x in (3, 3.0, np.float32(3.0), np.int64(3), True):
        v = Value(x)
        assert type(v.data) is float and v.data == float(x)
    assert type((Value(1.0) + np.float64(2.0)).data) is float


# --- bad input: a TypeError naming the type, at once ---

@pytest.mark.parametrize("make, names", [
    (lambda: Value("a"), "str"),
    (lambda: Value(None), "NoneType"),
    (lambda: Value([1.0, 2.0]), "list"),
    (lambda: Value(1 + 2j), "complex"),
    (lambda: Value(np.ones(3)), "ndarray"),
    (lambda: Value(1) + "x", "str"),
    (lambda: "x" + Value(1), "str"),
    (lambda: Value(1) - None, "NoneType"),
    (lambda: Value(1) * [2], "list"),
    (lambda: Value(1) / "2", "str"),
    (lambda: Value(1) ** "2", "str"),
    (lambda: None ** Value(1), "NoneType"),
])
def test_bad_input_raises_type_error_naming_the_type(make, names):
    with pytest.raises(TypeError, match=names):
        make()


def test_error_for_arrays_points_to_tensor():
    with pytest.raises(TypeError, match="engine.Tensor"):
        Value([1.0, 2.0])


# --- domain edges: IEEE 754 results, the same as numpy and PyTorch, never an exception ---

EDGE_CASES = [pytest.param(f, ref, x, grad, id=name) for name, f, ref, x, grad in EDGES]


def _same(ours: float, theirs: float) -> bool:
    return ours == theirs or (math.isnan(ours) and math.isnan(theirs)) \
        or ours == pytest.approx(theirs, rel=1e-12)


@pytest.mark.parametrize("f, ref, x, grad", EDGE_CASES)
def test_domain_edges_give_numpys_value_and_pytorchs_recorded_gradient(f, ref, x, grad):
    with np.errstate(all="ignore"):
        want = float(ref(np.float64(x)))
    v = Value(x)
    out = f(v)
    out.backward()
    assert out.data == want or (math.isnan(out.data) and math.isnan(want))
    assert _same(v.grad, grad), f"gradient {v.grad}, PyTorch's {grad}"


@pytest.mark.parametrize("f, ref, x, grad", EDGE_CASES)
def test_the_recorded_edge_gradients_are_pytorchs(torch, f, ref, x, grad):
    t = torch.tensor(x, requires_grad=True)
    t_out = f(t)
    t_out.backward()
    with np.errstate(all="ignore"):
        assert _same(t_out.item(), float(ref(np.float64(x))))
    assert _same(t.grad.item(), grad), f"torch {torch.__version__} gives {t.grad.item()}"


# --- micrograd's own protocol: `node._backward()` by hand, nodes built by hand ---

def lecture_neuron(value_class, squash):
    """The micrograd lecture's neuron, o = squash(x1*w1 + x2*w2 + b), with its labels."""
    x1, x2, w1, w2 = value_class(2.0), value_class(0.0), value_class(-3.0), value_class(1.0)
    b = value_class(6.8813735870195432)
    x1w1, x2w2 = x1 * w1, x2 * w2
    x1w1x2w2 = x1w1 + x2w2
    n = x1w1x2w2 + b
    nodes = dict(x1=x1, x2=x2, w1=w1, w2=w2, b=b, x1w1=x1w1, x2w2=x2w2, x1w1x2w2=x1w1x2w2,
                 n=n, o=squash(n))
    for name, node in nodes.items():
        node.label = name
    return nodes


def backprop_by_hand(nodes):
    """The lecture's cells, in order: seed o, then each node's _backward(), leaves included."""
    nodes["o"].grad = 1.0
    for name in ("o", "n", "b", "x1w1x2w2", "x2w2", "x1w1", "x1", "w1", "x2", "w2"):
        nodes[name]._backward()
    return {name: node.grad for name, node in nodes.items()}


def test_backward_by_hand_gives_the_lectures_numbers():
    grads = backprop_by_hand(lecture_neuron(Value, Value.tanh))
    o = math.tanh(2.0 * -3.0 + 6.8813735870195432)
    dn = 1 - o * o  # 0.5 at this bias, as the lecture chose it
    assert grads["o"] == 1.0 and grads["n"] == grads["b"] == grads["x1w1x2w2"] == dn
    assert grads["x1"] == pytest.approx(-3.0 * dn) and grads["w1"] == pytest.approx(2.0 * dn)
    assert grads["x2"] == pytest.approx(1.0 * dn) and grads["w2"] == 0.0


def test_backward_by_hand_equals_backward_and_micrograd():
    micrograd = pytest.importorskip("micrograd.engine")
    by_hand = backprop_by_hand(lecture_neuron(Value, Value.relu))
    auto = lecture_neuron(Value, Value.relu)
    auto["o"].backward()
    theirs = backprop_by_hand(lecture_neuron(micrograd.Value, micrograd.Value.relu))
    assert by_hand == {name: node.grad for name, node in auto.items()} == theirs


def test_a_leafs_backward_does_nothing():
    a = Value(2.0)
    a.grad = 3.0
    a._backward()
    assert (a.data, a.grad) == (2.0, 3.0)


def tanh_by_hand(self):
    """The lecture's own tanh, written against micrograd's constructor and protocol."""
    x = self.data
    t = (math.exp(2 * x) - 1) / (math.exp(2 * x) + 1)
    out = Value(t, (self, ), "tanh")

    def _backward():
        self.grad += (1 - t ** 2) * out.grad
    out._backward = _backward
    return out


def test_a_node_built_by_hand_backprops_and_draws():
    import viz

    built = lecture_neuron(Value, tanh_by_hand)
    built["o"].backward()
    engine_made = lecture_neuron(Value, Value.tanh)
    engine_made["o"].backward()
    for name in built:
        assert built[name].grad == pytest.approx(engine_made[name].grad, rel=1e-12)
    o = built["o"]
    assert o._prev == (built["n"],) and o._op == "tanh"
    assert "tanh" in viz.draw_dot(o).source


def test_micrograds_positional_constructor():
    a = Value(2.0)
    c = Value(5.0, (a,), "custom", "c")
    assert (c.data, c._prev, c._op, c.label, c.grad) == (5.0, (a,), "custom", "c", 0.0)
    c.backward()  # no rule installed: nothing flows, as in micrograd
    assert a.grad == 0.0


@pytest.mark.parametrize("make, words", [
    (lambda a: Value(1.0, a), "tuple of the one or two Values"),
    (lambda a: Value(1.0, (1.0,)), "tuple of the one or two Values"),
    (lambda a: Value(1.0, (a, a, a)), "one or two"),
    (lambda a: Value(1.0, (a,), 5), "_op"),
    (lambda a: Value(1.0, label=3), "label"),
])
def test_a_wrong_constructor_argument_is_a_type_error_at_once(make, words):
    with pytest.raises(TypeError, match=words):
        make(Value(2.0))


def test_installing_something_not_callable_as_backward_is_a_type_error():
    with pytest.raises(TypeError, match="function of no arguments"):
        Value(1.0)._backward = 3.0


def test_abs_builtin():
    a = Value(-3.0)
    out = abs(a)
    out.backward()
    assert (out.data, a.grad, out._op) == (3.0, -1.0, "abs")


def test_values_order_by_data_so_max_and_sorted_work():
    a, b, c = Value(2.0), Value(-1.0), Value(5.0)
    assert max([a, b, c]) is c and sorted([a, b, c]) == [b, a, c]
    assert b < 0 < a and a >= 2.0 and not a > c


def test_backward_of_a_value_made_inside_no_grad_says_why_instead_of_giving_zeros():
    x = Value(3.0)
    with engine.no_grad():
        y = x * x
    with pytest.raises(RuntimeError, match=r"made by '\*' with no graph behind it.*no_grad"):
        y.backward()
    assert x.grad == 0.0


# --- what a node costs: one object for the garbage collector, about 120 bytes ---

def test_a_node_is_one_object_for_the_garbage_collector():
    import gc

    x = y = Value(1.0)
    gc.collect()
    gc.disable()  # a collection mid-loop would free unrelated objects and skew the count
    try:
        before = len(gc.get_objects())
        for _ in range(10_000):
            y = y * 1.0 + x  # two nodes a round
        grown = len(gc.get_objects()) - before
    finally:
        gc.enable()
    # other tests' leftovers may come or go by a few; micrograd's nodes are 4 objects each
    assert 19_900 <= grown <= 20_100, grown


def test_memory_per_node():
    import tracemalloc

    y = Value(1.0)
    tracemalloc.start()
    before = tracemalloc.take_snapshot()
    for _ in range(10_000):
        y = y * 1.0
    after = tracemalloc.take_snapshot()
    tracemalloc.stop()
    per_node = sum(stat.size_diff for stat in after.compare_to(before, "filename")) / 10_000
    # a Value (80 bytes) and its data (a 24-byte float); before this design a node took 392
    assert 100 <= per_node <= 110, per_node


@pytest.mark.parametrize("program, x0", [
    (lambda x: x.log().relu(), 0.0),  # a relu at a <= 0 stops g: the log behind gets 0 * inf
    (lambda x: x.sqrt() ** 0, -1.0),  # ** 0 passes no gradient: the sqrt behind gets 0 * nan
    (lambda x: (x * 2).relu(), -1.0),  # dead: the gradient is 0, not "input not used"
    (lambda x: (x * 0.5) ** (x * 0) * 3 + x, 2.0),  # a Value exponent of 0
])
def test_engine_grad_and_backward_agree_where_no_gradient_flows(program, x0):
    """engine.grad (and backward(create_graph=True)) runs the vjp forms; where relu or ** 0
    pass nothing on, their zero still reaches the node behind, whose own rule runs, as in
    backward() and PyTorch (the node was skipped: None, or 'input was not used')."""
    x = Value(x0)
    program(x).backward()
    y = Value(x0)
    (general,) = engine.grad(program(y), [y])
    z = Value(x0)
    program(z).backward(create_graph=True)
    graphed = z.grad.data if isinstance(z.grad, Value) else z.grad
    for got in (general, graphed):
        assert (math.isnan(got) and math.isnan(x.grad)) or got == x.grad, (got, x.grad)
    torch = pytest.importorskip("torch")
    t = torch.tensor(x0, dtype=torch.float64, requires_grad=True)
    (want,) = torch.autograd.grad(program(t), [t])
    assert (math.isnan(want.item()) and math.isnan(x.grad)) or want.item() == x.grad
