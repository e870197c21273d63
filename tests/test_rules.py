"""viz/rules.py: the derivative formulas the explorer shows, read from the engine's docstrings,
parsed, written back and evaluated against the engine's own numbers on every op of the op
tables (tests/op_table.py for Value and both engines, tests/tensor_op_table.py for Tensor)."""
from __future__ import annotations

import math
from typing import Any, Callable

import numpy as np
import pytest

from engine import Tensor, Value, topological_order
from op_table import OPS
from tensor_op_table import TENSOR_OPS
from viz.dot import node_grad, set_node_grad
from viz.rules import ABSENT, closure_of, evaluate, parse_rule, rule_of, symbols, write

# --- every op of both engines, each at one point of its domain ---


def _value_graph(f: Callable, draws: list) -> Value:
    rng = np.random.default_rng(0)
    return f(*(Value(float(d(rng, ()))) for d in draws))


def _tensor_graph(f: Callable, draws: list, all_shapes: list) -> Tensor:
    """f on float64 Tensors at the row's shapes with the most dims in every operand
    (matmul's formulas transpose the last two)."""
    rng = np.random.default_rng(0)
    combos = [shapes if len(draws) > 1 else (shapes,) for shapes in all_shapes]
    point = max(combos, key=lambda shapes: min(len(s) for s in shapes))
    return f(*(Tensor(d(rng, s), requires_grad=True, dtype=np.float64)
               for d, s in zip(draws, point)))


BROADCAST = [((2, 3), (3,), (2, 1))]  # shapes for the shared rows: every operand stretched
VALUE_GRAPHS = [pytest.param(lambda f=f, d=d: _value_graph(f, d), id=f"Value-{name}")
                for name, f, d in OPS]
GRAPHS = (VALUE_GRAPHS
          + [pytest.param(lambda f=f, d=d: _tensor_graph(
              f, d, [BROADCAST[0][:len(d)]] if len(d) > 1 else [(2, 3)]), id=f"Tensor-{name}")
             for name, f, d in OPS]
          + [pytest.param(lambda f=f, d=d, s=s: _tensor_graph(f, d, s), id=f"Tensor-{name}")
             for name, f, _, d, s in TENSOR_OPS])


def _interior(root: Any) -> list:
    return [node for node in topological_order(root) if node._prev]


def sum_to(x: Any, shape: tuple) -> np.ndarray:
    """x summed over the dims broadcasting added or stretched, back to `shape`."""
    x = np.asarray(x, np.float64)
    x = x.sum(axis=tuple(range(x.ndim - len(shape)))) if x.ndim > len(shape) else x
    stretched = tuple(k for k, n in enumerate(shape) if n == 1 and x.shape[k] != 1)
    return x.sum(axis=stretched, keepdims=True) if stretched else x


def engine_adds(node: Any, g: Any) -> dict[int, np.ndarray]:
    """What node._backward() adds into each parent that takes a gradient, by id, given g."""
    touched = {id(p): p for p in (node, *node._prev)}
    saved = {k: node_grad(p) for k, p in touched.items()}
    try:
        for p in touched.values():
            p.zero_grad()
        set_node_grad(node, g)
        node._backward()
        added = {id(p): node_grad(p) for p in node._prev}
        return {k: np.asarray(grad, np.float64) for k, grad in added.items() if grad is not None}
    finally:
        for k, p in touched.items():
            set_node_grad(p, saved[k])


def with_reduced_dims(x: Any, node: Any) -> Any:
    """x of node's shape with the dims its reduction took back as size 1, as the rules'
    notation reads g and the node's own value (x as it is for other ops)."""
    closure = closure_of(node)
    if closure.get("keepdims", True):
        return x
    ndim = np.ndim(node._prev[0].data)
    axes = range(ndim) if closure["axis"] is None else np.atleast_1d(closure["axis"]) % ndim
    return np.expand_dims(x, tuple(sorted(axes)))


def formula_adds(node: Any, g: Any) -> dict[int, np.ndarray] | None:
    """What the rule's formulas give for each parent, by id (None: some clause is prose)."""
    rule, constants = rule_of(node)
    out: dict[int, np.ndarray] = {}
    env = {**closure_of(node), **constants, **dict.fromkeys(rule.absent, ABSENT),
           "g": with_reduced_dims(g, node), "e": math.e}
    env.update(zip(rule.operands, (np.asarray(p.data, np.float64) for p in node._prev)))
    me = with_reduced_dims(np.asarray(node.data, np.float64), node)
    for k, parent in enumerate(node._prev):
        if not parent.requires_grad:  # a constant operand: no gradient to check
            continue
        clause = rule.clause(k)
        if clause.formula is None:
            return None
        result = symbols(clause.formula) - set(env)  # the node's own value: t, s, ...
        local = evaluate(clause.formula, {**env, **dict.fromkeys(result, me)})
        shape = np.shape(parent.data)
        share = sum_to(np.broadcast_to(local, np.broadcast_shapes(np.shape(local), shape)),
                       shape)
        out[id(parent)] = out.get(id(parent), 0) + share
    return out


def _gradient_in(node: Any) -> Any:
    """A gradient arriving at node: random numbers of its shape (a float for a Value)."""
    g = np.random.default_rng(1).uniform(0.5, 1.5, np.shape(node.data))
    return float(g) if isinstance(node, Value) else g


@pytest.mark.parametrize("build", GRAPHS)
def test_every_op_states_its_rule_for_every_operand(build: Callable) -> None:
    for node in _interior(build()):
        rule, _ = rule_of(node)
        assert rule is not None, f"{node._op}: no docstring states its derivative"
        for k in range(len(node._prev)):
            clause = rule.clause(k)
            assert clause is not None and clause.text, f"{node._op}: nothing for operand {k}"


def _with_formulas(build: Callable) -> list:
    """The nodes of build()'s graph whose rules are formulas (the others are words)."""
    return [node for node in _interior(build()) if formula_adds(node, _gradient_in(node))]


# the graphs with a rule stated as a formula: every op but the rearrangements, which state
# theirs in words
FORMULA_GRAPHS = [p for p in GRAPHS if _with_formulas(p.values[0])]
IN_WORDS = {"reshape", "view", "squeeze", "squeeze_dim", "squeeze_dims", "unsqueeze",  # (ops
            "permute", "t", "transpose",  # named as PyTorch names them, reshape's and permute's rules)
            "index", "select", "slice", "index_put", "cat", "tril", "triu", "diagonal",
            "cumsum", "cumprod", "logcumsumexp",  # (running sums of g from the end)
            # (the windows' gradients added back at their places: col2im, not entrywise)
            "conv1d", "conv2d", "conv3d", "max_pool2d", "max_pool3d", "avg_pool2d",
            "avg_pool3d", "pad",
            "adaptive_avg_pool2d",  # (avg_pool2d's node, named so where its windows are equal)
            "einsum"}  # (an einsum of g with the other operands, named by subscripts)


def test_only_the_rearrangements_state_their_rule_in_words() -> None:
    """A formula that stops parsing (a typo, a renamed mask such as where's `cond`) would
    drop out of the check above unnoticed; here it fails."""
    words = {node._op for p in GRAPHS for node in _interior(p.values[0]())
             if rule_of(node)[0].clause(0).formula is None}
    assert words == IN_WORDS


def assert_formulas_give_the_engines_numbers(nodes: list) -> None:
    for node in nodes:
        g = _gradient_in(node)
        want = formula_adds(node, g)
        got = engine_adds(node, g)
        assert got and set(got) <= set(want), node._op
        for k, added in got.items():
            np.testing.assert_allclose(added, want[k], rtol=1e-6, atol=1e-9, err_msg=node._op)


@pytest.mark.parametrize("build", FORMULA_GRAPHS)
def test_the_stated_formulas_give_the_engines_numbers(build: Callable) -> None:
    """The words the explorer shows, evaluated at a point, against what the rule adds there:
    a docstring that says (1 + t²) for tanh fails here (see the planted rule below)."""
    assert_formulas_give_the_engines_numbers(_with_formulas(build))


def _t(*xs: float) -> Tensor:
    return Tensor(np.array(xs), requires_grad=True)


@pytest.mark.parametrize("build", [
    lambda: _t(1.0, 2.0, 3.0).maximum(_t(1.0, 0.0, 5.0)),  # a tie: each gets half of g
    lambda: _t(1.0, 2.0, 3.0).minimum(_t(1.0, 0.0, 5.0)),
    lambda: _t(-1.0, 0.5, 2.0).clamp(_t(1.0, 0.0, 0.0), _t(0.5, 1.0, 1.0)),  # crossed bounds
    lambda: _t(-1.0, 0.5, 2.0).clamp(max=_t(0.5, -1.0, 1.0)),  # no min to cross
    lambda: _t(-1.0, 0.5, 2.0).clamp(min=_t(0.5, 1.0, 3.0)),  # no max
], ids=["maximum_tie", "minimum_tie", "clamp_crossed", "clamp_max_only", "clamp_min_only"])
def test_the_formulas_hold_at_ties_and_crossed_bounds(build: Callable) -> None:
    """Points the random draws above never meet, where PyTorch's rules take their edge cases."""
    assert_formulas_give_the_engines_numbers([build()])


@pytest.mark.parametrize("build", VALUE_GRAPHS)
def test_every_value_rule_is_a_formula(build: Callable) -> None:
    for node in _interior(build()):
        assert formula_adds(node, 1.0) is not None, node._op


def test_a_planted_wrong_formula_is_caught() -> None:
    """The check above fails for a tanh rule stated as (1 + t²) instead of (1 − t²)."""
    x = Tensor(np.array([0.3, -1.2]), requires_grad=True)
    node = x.tanh()
    g = np.array([1.0, 0.5])
    added = engine_adds(node, g)[id(x)]
    for doc, agrees in (("tanh a; da = (1 - t**2) g.", True),
                        ("tanh a; da = (1 + t**2) g.", False)):
        formula = parse_rule(doc).clause(0).formula
        local = evaluate(formula, {"g": g, "a": x.numpy(), "t": node.numpy()})
        assert np.allclose(local, added) == agrees, doc


# --- the parser ---

@pytest.mark.parametrize("doc, clauses", [
    ("a * b; da = g b, db = g a.", {"a": "g × b", "b": "g × a"}),
    ("a / b; da = g / b, db = -g a / b**2", {"a": "g / b", "b": "−g × a / b²"}),
    ("d(a * b): da = b g, db = a g", {"a": "b × g", "b": "a × g"}),
    ("tanh a; da = (1 - tanh(a)**2) g.", {"a": "(1 − tanh(a)²) × g"}),
    ("da = s (1 - s) g", {"a": "s × (1 − s) × g"}),
    ("da = g / (2 sqrt(a))", {"a": "g / (2 × sqrt(a))"}),
    ("a @ b; da = g @ b^T, db = a^T @ g (1-D a: a row).", {"a": "g @ bᵀ", "b": "aᵀ @ g"}),
    ("da = b a**(b-1) g, none where b == 0; db = a**b ln(a) g, 0 where a == 0 <= b.",
     {"a": "b × a^(b − 1) × g", "b": "a^b × ln(a) × g"}),
    ("max(a, 0); da = g where a > 0 or nan, none at all where a <= 0",
     {"a": "g where a > 0 or nan"}),
    ("|a|; da = sign(a) g with torch.sign's 0 at 0", {"a": "sign(a) × g"}),
    ("dx = g where min <= x <= max; dmin = g where x < min (and min < max); dmax = g",
     {"x": "g where min ≤ x ≤ max", "min": "g where x < min", "max": "g"}),
    ("da = g / 2 where a == b, g where a == m (m the result); db = g where b > a, none else",
     {"a": "g / 2 where a = b, g where a = m", "b": "g where b > a"}),
    ("da = g where a > 0, 1 + g; db = g where a > 0 or b < a", {"a": "g where a > 0",
                                                               "b": "g where a > 0 or b < a"}),
    ("da = a - (b - c) g, db = (a - b) - c", {"a": "a − (b − c) × g", "b": "a − b − c"}),
    ("da = -(a + b), db = (-a)**2", {"a": "−(a + b)", "b": "(−a)²"}),
])
def test_formulas_are_parsed_and_written_back(doc: str, clauses: dict[str, str]) -> None:
    rule = parse_rule(doc)
    assert rule.operands == list(clauses)
    assert {c.name: write(c.formula, str) for c in rule.clauses} == clauses


@pytest.mark.parametrize("doc, text", [
    ("Sum along axis; da = g broadcast back over the summed dims.",
     "g broadcast back over the summed dims"),
    ("a[index]; da = g put back where it came from.\n\nAdvanced indexing: d = 3.",
     "g put back where it came from"),
    ("The tensors joined along a dim, as torch.cat; each gets its slice of g.",
     "each gets its slice of g"),
    ("a.where(c, b); d input = g where condition, d other = g elsewhere",
     "g where condition"),
    ("As float64; da = g in a's dtype. Rounded to ints they have no gradient.",
     "g in a's dtype"),
])
def test_a_rule_in_words_is_kept_as_written(doc: str, text: str) -> None:
    clause = parse_rule(doc).clause(0)
    assert clause.formula is None and clause.text == text


@pytest.mark.parametrize("doc", ["The data array itself (shared, not copied).",
                                 "micrograd's `node._backward()`: send this node's grad.", ""])
def test_a_docstring_without_a_derivative_states_no_rule(doc: str) -> None:
    assert parse_rule(doc) is None


def test_a_mask_the_rule_holds_is_a_condition() -> None:
    doc = "d input = g where cond, d other = g where not cond (cond: the condition)"
    rule = parse_rule(doc, masks=frozenset({"cond"}))
    assert [write(c.formula, str) for c in rule.clauses] == ["g where cond", "g where not cond"]
    cond = np.array([True, False, True])
    assert [list(evaluate(c.formula, {"g": 2.0, "cond": cond})) for c in rule.clauses] == \
        [[2.0, 0.0, 2.0], [0.0, 2.0, 0.0]]
    assert parse_rule(doc).clause(0).formula is None  # a name that is no mask: words


def test_pieces_take_the_first_condition_that_holds() -> None:
    formula = parse_rule("da = g / 2 where a == b, g where a >= b").clause(0).formula
    a, b = np.array([1.0, 2.0, 3.0]), np.array([1.0, 0.0, 5.0])
    assert list(evaluate(formula, {"g": 4.0, "a": a, "b": b})) == [2.0, 4.0, 0.0]


def test_a_comparison_with_an_absent_bound_binds_nothing() -> None:
    """Where a clamp has no min, `x > max or max < min` is `x > max` and `x < min < max`
    is `x < min`: the missing bound neither holds everywhere nor nowhere."""
    rule = parse_rule("dmin = g where x < min < max; dmax = g where x > max or max < min")
    x = np.array([-1.0, 0.5, 2.0])
    no_min = {"g": 1.0, "x": x, "min": ABSENT, "max": 1.0}
    no_max = {"g": 1.0, "x": x, "min": 0.0, "max": ABSENT}
    assert list(evaluate(rule.clause(1).formula, no_min)) == [0.0, 0.0, 1.0]
    assert list(evaluate(rule.clause(0).formula, no_max)) == [1.0, 0.0, 0.0]


def test_a_formula_evaluates_with_numbers_and_arrays() -> None:
    rule = parse_rule("dx = g where 0 < x <= top or nan; dtop = softmax(top) g")
    x = np.array([-1.0, 0.5, 2.0, np.nan])
    assert list(evaluate(rule.clause(0).formula, {"g": 2.0, "x": x, "top": 1.0})) \
        == [0.0, 2.0, 0.0, 2.0]
    soft = evaluate(rule.clause(1).formula, {"g": 1.0, "top": np.zeros((2, 4)), "axis": -1})
    np.testing.assert_allclose(soft, np.full((2, 4), 0.25))


def test_a_number_the_rule_was_made_for_is_known() -> None:
    v = Value(2.0)
    rule, constants = rule_of(v * 3)
    assert constants == {"c": 3.0} and write(rule.clause(0).formula, str) == "c × g"
    rule, constants = rule_of(v ** 3)
    assert constants == {"p": 3.0} and write(rule.clause(0).formula, str) == "p × a^(p − 1) × g"


def test_a_clamp_without_a_min_keeps_its_max_clause_for_its_second_operand() -> None:
    x = Tensor(np.array([0.5, 2.0]), requires_grad=True)
    hi = Tensor(np.array([1.0, 1.0]), requires_grad=True)
    rule, _ = rule_of(x.clamp(max=hi))
    assert rule.operands == ["x", "max"] and rule.absent == ("min",)


def test_a_hand_installed_backward_states_no_rule() -> None:
    a = Value(2.0)
    out = Value(4.0, (a,), "square")
    out._backward = lambda: None
    assert rule_of(out) == (None, {}) and rule_of(a) == (None, {})
