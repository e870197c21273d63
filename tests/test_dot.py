"""viz/dot.py: draw_dot's nodes, edges, labels, styles, cut and released markers and bad
input; keep_grads."""
from __future__ import annotations

import math
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest

from engine import Value, topological_order
from viz import draw_dot, examples, keep_grads
from viz.dot import FAST_LAYOUT, KINDS, LARGE, label_text, number_text, tensor_stats

NODE = re.compile(r'^\t(\w+) \[label=("(?:[^"\\]|\\.)*"|<.*>|\S+)(.*)\]$')
EDGE = re.compile(r"^\t(\w+) -> (\w+)(?: \[(.*)\])?$")
RECORD_ESCAPE = re.compile(r"\\(.)")


def parse(dot) -> tuple[dict[str, dict], list[tuple[str, str]]]:
    """(node id -> {'label': text, 'attrs': rest}, edges) from a Digraph's body lines."""
    nodes, edges = {}, []
    for line in dot.body:
        line = line.rstrip("\n")
        if m := EDGE.match(line):
            edges.append((m[1], m[2]))
        elif m := NODE.match(line):
            label = m[2][1:-1] if m[2].startswith('"') else m[2]
            nodes[m[1]] = {"label": label, "attrs": m[3]}
        else:
            raise AssertionError(f"unexpected DOT line {line!r}")
    return nodes, edges


def records(dot) -> dict[str, str]:
    """node id -> the text of each value node's record, its braces and escapes removed."""
    nodes, _ = parse(dot)
    return {k: RECORD_ESCAPE.sub(r"\1", v["label"].strip("{}")).replace("{", "").replace("}", "")
            for k, v in nodes.items() if k.startswith("v")}


def ops(dot) -> dict[str, str]:
    """node id -> the label of each op oval."""
    nodes, _ = parse(dot)
    return {k: v["label"] for k, v in nodes.items() if k.startswith("op")}


def triples(dot) -> set[tuple[tuple[str, ...], str, str]]:
    """(sorted input names, op, output name) for every op, naming nodes by their record."""
    _, edges = parse(dot)
    rec, op = records(dot), ops(dot)
    out = {}
    for a, b in edges:
        if b in op:
            out.setdefault(b, [[], None])[0].append(rec[a].split(" | ")[0])
        elif a in op:
            out.setdefault(a, [[], None])[1] = rec[b].split(" | ")[0]
    return {(tuple(sorted(ins)), op[o], res) for o, (ins, res) in out.items()}


def kind_of(dot, record_text: str) -> str:
    """Which KINDS style the node whose record starts with `record_text` is drawn in."""
    nodes, _ = parse(dot)
    (node_id,) = [k for k, r in records(dot).items() if r.startswith(record_text)]
    attrs = nodes[node_id]["attrs"]
    matches = [k for k, (style, _) in KINDS.items()
               if all(f"{a}={v}" in attrs or f'{a}="{v}"' in attrs for a, v in style.items())
               and style]
    return matches[0] if matches else "value"


@pytest.fixture
def neuron():
    """micrograd's neuron, o = tanh(x1 w1 + x2 w2 + b), as `python -m viz` draws it."""
    return examples.neuron()


def test_neuron_records_hold_hand_computed_data_and_grads(neuron):
    o, _ = neuron
    # n = -6 + 0 + 6.8814 = 0.8814, o = tanh(n) = 1/sqrt 2, do/dn = 1 - o**2 = 0.5,
    # d/dx1 = w1 * 0.5, d/dw1 = x1 * 0.5, d/dx2 = w2 * 0.5, d/dw2 = x2 * 0.5
    assert sorted(records(draw_dot(o)).values()) == sorted([
        "o | data 0.7071 | grad 1", "n | data 0.8814 | grad 0.5", "data -6 | grad 0.5",
        "x1*w1 | data -6 | grad 0.5", "x2*w2 | data 0 | grad 0.5", "b | data 6.881 | grad 0.5",
        "x1 | data 2 | grad -1.5", "w1 | data -3 | grad 1", "x2 | data 0 | grad 0.5",
        "w2 | data 1 | grad 0"])


def test_neuron_edges_run_from_inputs_through_op_ovals(neuron):
    o, _ = neuron
    dot = draw_dot(o)
    assert triples(dot) == {
        (("w1", "x1"), "*", "x1*w1"), (("w2", "x2"), "*", "x2*w2"),
        (("x1*w1", "x2*w2"), "+", "data -6"), (("b", "data -6"), "+", "n"),
        (("n",), "tanh", "o")}
    _, edges = parse(dot)
    assert len(edges) == 5 + 9  # one edge out of each op, one into it per operand


def test_show_grad_false_drops_every_grad(neuron):
    o, _ = neuron
    texts = records(draw_dot(o, show_grad=False)).values()
    assert "o | data 0.7071" in texts
    assert not any("grad" in t for t in texts)


@pytest.mark.parametrize("rankdir, outer_braces", [("LR", True), ("RL", True),
                                                   ("TB", False), ("BT", False)])
def test_rankdir_keeps_name_data_grad_side_by_side(neuron, rankdir, outer_braces):
    o, _ = neuron
    dot = draw_dot(o, rankdir=rankdir)
    assert f"rankdir={rankdir}" in dot.source
    nodes, _ = parse(dot)
    # in left-right layouts a record needs one pair of braces to lay its fields in a row
    assert nodes["v0"]["label"].startswith("{") is outer_braces


def test_kinds_root_parameters_and_inputs_are_styled_apart(neuron):
    o, params = neuron
    dot = draw_dot(o, params=params)
    assert kind_of(dot, "o |") == "root"
    assert {kind_of(dot, f"{p} |") for p in ("w1", "w2", "b")} == {"parameter"}
    # a Value always requires grad: its inputs get the requires-grad colour, not parameter's
    assert {kind_of(dot, f"{x} |") for x in ("x1", "x2")} == {"grad_input"}
    assert kind_of(dot, "n |") == "value"
    legend = parse(dot)[0]["legend"]["label"]
    assert [t for _, t in KINDS.values() if f">{t}<" in legend] == [
        "output (root)", "parameter", "input, requires grad", "intermediate"]


def test_without_params_nothing_is_a_parameter(neuron):
    o, _ = neuron
    dot = draw_dot(o)
    assert kind_of(dot, "w1 |") == "grad_input"
    assert ">parameter<" not in parse(dot)[0]["legend"]["label"]


class _Model:
    """Anything with named_parameters() counts as a Module; viz does not import nn."""

    def __init__(self, **params):
        self.params = params

    def named_parameters(self):
        return iter(self.params.items())


@pytest.mark.parametrize("wrap", [dict, lambda p: list(p.items()), lambda p: _Model(**p)],
                         ids=["dict", "pairs", "module"])
def test_parameter_names_replace_labels(wrap):
    w, x = Value(0.5, label="w"), Value(3.0, label="x")
    y = w * x
    dot = draw_dot(y, params=wrap({"0.weight": w}))
    assert "0.weight | data 0.5 | grad 0" in records(dot).values()
    assert kind_of(dot, "0.weight") == "parameter"


def test_params_of_the_wrong_type_say_what_is_accepted():
    with pytest.raises(TypeError, match="named_parameters.*got int"):
        draw_dot(Value(1.0), params=5)


def test_record_special_characters_are_escaped():
    v = Value(1.0, label='{a|b} <c> "d" \\e')
    (label,) = [n["label"] for k, n in parse(draw_dot(v))[0].items() if k == "v0"]
    assert label == r'{\{a\|b\} \<c\> \"d\" \\e | data 1 | grad 0}'


def test_ops_with_a_number_operand_and_reused_operands():
    a = Value(3.0, label="a")
    b = a * a
    b.label = "b"
    c = b ** 2
    c.label = "c"
    dot = draw_dot(c)
    assert set(ops(dot).values()) == {"*", "**2"}
    _, edges = parse(dot)
    a_id = next(k for k, r in records(dot).items() if r.startswith("a |"))
    assert sum(1 for src, _ in edges if src == a_id) == 2  # a enters a * a twice


def test_a_lone_leaf_is_one_root_record():
    dot = draw_dot(Value(-2.5, label="z"))
    assert records(dot) == {"v0": "z | data -2.5 | grad 0"}
    assert kind_of(dot, "z") == "root"
    legend = parse(dot)[0]["legend"]["label"]
    assert "output (root)" in legend and ">op<" not in legend  # no op drawn, none explained


def test_numbers_use_four_significant_digits():
    v = Value(math.pi, label="pi") * 1e6
    v.label = "big"
    texts = records(draw_dot(v)).values()
    assert "pi | data 3.142 | grad 0" in texts
    assert "big | data 3.142e+06 | grad 0" in texts


def chain(n: int) -> Value:
    """A Value after n additions: n + 1 nodes in a line, the root holding n."""
    v = Value(0.0)
    for _ in range(n):
        v = v + 1.0
    return v


def test_max_nodes_keeps_the_nearest_and_counts_the_rest():
    dot = draw_dot(chain(99), max_nodes=10)
    texts = records(dot).values()
    assert len(texts) == 10
    assert sorted(float(t.split()[1]) for t in texts) == list(range(90, 100))
    nodes, edges = parse(dot)
    assert nodes["cut"]["label"] == "90 more nodes"
    (into,) = [b for a, b in edges if a == "cut"]
    assert records(dot)[into.replace("op", "v")].startswith("data 90")


def test_max_nodes_on_a_wide_graph_counts_every_hidden_node():
    xs = [Value(1.0) for _ in range(64)]
    while len(xs) > 1:  # a balanced tree of sums: 127 nodes, each holding its leaf count
        xs = [a + b for a, b in zip(xs[::2], xs[1::2])]
    root = xs[0]
    total = len(topological_order(root))
    dot = draw_dot(root, max_nodes=20)
    assert parse(dot)[0]["cut"]["label"] == f"{total - 20} more nodes"
    # breadth first: the root, its 2 parents, 4 grandparents, 8 below them, then 5 of 16
    assert sorted(float(t.split()[1]) for t in records(dot).values()) == \
        [4.0] * 5 + [8.0] * 8 + [16.0] * 4 + [32.0] * 2 + [64.0]


def test_max_nodes_none_draws_everything_and_no_marker():
    dot = draw_dot(chain(700), max_nodes=None)
    nodes, _ = parse(dot)
    assert len(records(dot)) == 701
    assert "cut" not in nodes


@pytest.mark.parametrize("n, fast", [(LARGE - 1, False), (LARGE, True)])
def test_graphs_past_large_get_the_fast_layout(n, fast):
    source = draw_dot(chain(n), max_nodes=None).source  # n + 1 nodes
    assert all((f"{k}={v}" in source) is fast for k, v in FAST_LAYOUT.items())


def test_a_long_chain_draws_without_recursion_error():
    root = chain(20_000)  # far deeper than the recursion limit
    assert sys.getrecursionlimit() < 20_000
    dot = draw_dot(root)
    assert len(records(dot)) == 500
    assert parse(dot)[0]["cut"]["label"] == "19,501 more nodes"


@pytest.mark.parametrize("kwargs, error, match", [
    ({"rankdir": "XY"}, ValueError, "rankdir must be one of LR, TB, RL, BT, got 'XY'"),
    ({"max_nodes": 0}, ValueError, "max_nodes must be a positive int or None, got 0"),
    ({"max_nodes": 2.5}, ValueError, "max_nodes must be a positive int or None, got 2.5"),
])
def test_bad_options_are_named(kwargs, error, match):
    with pytest.raises(error, match=re.escape(match)):
        draw_dot(Value(1.0), **kwargs)


@pytest.mark.parametrize("root, name", [([1.0], "list"), (2.0, "float"),
                                        (np.zeros(3), "ndarray")])
def test_a_root_that_is_not_a_node_is_named(root, name):
    with pytest.raises(TypeError, match=f"got {name}, which has no"):
        draw_dot(root)


class _Unprintable:
    def __str__(self):
        raise RuntimeError("no text")


@pytest.mark.parametrize("label, text", [
    (None, ""), ("", ""), ("w1", "w1"), (float("nan"), "nan"), (float("-inf"), "-inf"),
    (7, "7"), (b"x1", "x1"), (b"\xffx", "\\xffx"), ("a\ud800b", "a\\ud800b"),
    ("tab\there", "tab\\there"), (_Unprintable(), "<_Unprintable>"),
])
def test_one_rule_turns_any_label_into_text(label, text):
    assert label_text(label) == text


@pytest.mark.parametrize("label", [float("nan"), b"by\xfftes", "lone \udc80", _Unprintable()],
                         ids=["nan", "bytes", "surrogate", "object"])
def test_labels_of_any_kind_draw(label, without_dot):
    x = _Node(np.ones(3, np.float32), label=label)
    dot = draw_dot(x)
    assert label_text(label) in records(dot)["v0"]
    assert dot.pipe(format="svg").startswith(b"<?xml")  # the source encodes as UTF-8


@pytest.mark.parametrize("label", ["AT&amp;T", "a &lt; b", "&#65;", "R&D"])
def test_html_entities_in_labels_are_escaped_for_graphviz(label):
    dot = draw_dot(Value(1.0, label=label) * 2)
    escaped = label.replace("&", "&amp;")
    assert f"{escaped} | data 1 | grad 0" in records(dot).values()


def test_minus_zero_is_drawn_as_zero():
    v = Value(-0.0, label="z")
    texts = records(draw_dot(v * 1.0)).values()
    assert "z | data 0 | grad 0" in texts and not any("-0" in t for t in texts)
    assert number_text(-0.0) == "0" and number_text(-1e-20) == "-1e-20"


# --- tensors, through the node protocol alone ---

class _Node:
    """A Tensor as viz sees it: the node protocol plus requires_grad."""

    def __init__(self, data, grad=None, prev=(), op="", label="", requires_grad=False):
        self.data, self.grad, self._prev, self._op = data, grad, prev, op
        self.label, self.requires_grad = label, requires_grad
        self._backward = None


def test_big_tensors_show_shape_dtype_and_stats_of_data_and_grad():
    data = np.arange(100, dtype=np.float32).reshape(4, 25)
    x = _Node(data, grad=np.ones((4, 25), np.float32), label="x", requires_grad=True)
    # 0..99: mean 49.5, std sqrt((100**2 - 1) / 12) = 28.866; grad all ones
    assert records(draw_dot(x))["v0"] == (
        "x | (4, 25) float32 | data | mean 49.5 std 28.87 | min 0 max 99 | "
        "grad | mean 1 std 0 | min 1 max 1")


def test_masked_entries_are_counted_and_the_stats_are_of_the_rest():
    data = np.where(np.tril(np.ones((8, 8), bool)), np.arange(64.0).reshape(8, 8), -np.inf)
    data[0, 0] = np.nan
    x = _Node(data.astype(np.float32), label="scores")
    finite = data[np.isfinite(data)]
    record = records(draw_dot(x))["v0"]
    assert (f"data | mean {finite.mean():.4g} std {finite.std():.4g} | "
            f"min {finite.min():.4g} max {finite.max():.4g} | 1 nan, 28 -inf") in record
    assert tensor_stats(data) == pytest.approx({"mean": finite.mean(), "std": finite.std(),
                                                "min": 8.0, "max": 63.0, "nan": 1, "-inf": 28})


def test_a_tensor_with_no_finite_entry_shows_its_counts():
    x = _Node(np.full((3, 4), -np.inf, np.float32), label="m")
    assert records(draw_dot(x))["v0"] == "m | (3, 4) float32 | data | 12 -inf"


class _TensorData:
    """Data that is an array-like object rather than an ndarray, as a Tensor's `.data` is
    when it is itself a Tensor (PyTorch's surface)."""

    def __init__(self, array):
        self.array = array

    def __array__(self, dtype=None, copy=None):
        return np.asarray(self.array, dtype=dtype)


def test_a_tensor_whose_data_is_a_tensor_draws_from_its_array():
    w = _Node(_TensorData(np.array([[1.0, 2.0]], np.float32)),
              grad=_TensorData(np.array([[0.5, -0.5]], np.float32)), label="w")
    assert records(draw_dot(w))["v0"] == "w | (1, 2) float32 | data [[1, 2]] | grad [[0.5, -0.5]]"


def test_small_tensors_show_their_values():
    w = _Node(np.array([[1.0, 2.0], [3.0, 4.0]]), grad=np.array([[0.5, 0], [0, -0.25]]),
              label="w")
    assert records(draw_dot(w))["v0"] == (
        "w | (2, 2) float64 | data [[1, 2], [3, 4]] | grad [[0.5, 0], [0, -0.25]]")


def test_scalar_tensor_without_grad_shows_no_grad_line():
    loss = _Node(np.array(0.25, np.float32), label="loss")
    assert records(draw_dot(loss))["v0"] == "loss | scalar float32 | data 0.25"


@pytest.mark.parametrize("rankdir, label", [
    ("LR", "{w | {(3,) int64 | data [0, 0, 0]}}"),
    ("TB", "w | {(3,) int64 | data [0, 0, 0]}"),
])
def test_tensor_records_stack_their_lines_beside_the_name(rankdir, label):
    w = _Node(np.zeros(3, np.int64), label="w")
    assert parse(draw_dot(w, rankdir=rankdir))[0]["v0"]["label"] == label


@pytest.mark.parametrize("params, w_kind", [(None, "grad_input"), ("w", "parameter")])
def test_tensor_kinds_parameter_inputs_constant(params, w_kind):
    w = _Node(np.ones((3, 2), np.float32), label="w", requires_grad=True)
    x = _Node(np.ones((4, 3), np.float32), label="x")
    two = _Node(np.array(2.0, np.float32))
    xw = _Node(x.data @ w.data, prev=(x, w), op="@", requires_grad=True)
    y = _Node(xw.data * 2, prev=(xw, two), op="*", label="y", requires_grad=True)
    dot = draw_dot(y, params=params and {"w": w})
    assert kind_of(dot, "w |") == w_kind  # a parameter only when the model's parameters say so
    assert kind_of(dot, "x |") == "input"
    assert kind_of(dot, "2") == "constant"  # a constant shows its value alone
    assert kind_of(dot, "(4, 2)") == "value"
    assert triples(dot) == {(("w", "x"), "@", "(4, 2) float32"),
                            (("(4, 2) float32", "2"), "*", "y")}


@pytest.mark.parametrize("op, shown", [("[]", "index"), ("index", "index"), ("@", "@")])
def test_op_names_are_drawn_as_words_a_reader_knows(op, shown):
    x = _Node(np.arange(3.0), label="x")
    assert set(ops(draw_dot(_Node(x.data[:2], prev=(x,), op=op))).values()) == {shown}


@pytest.mark.parametrize("text", ["a\x00b", "\x00", "tab\there", "bell\x07", "nl\nx"])
def test_control_characters_in_labels_and_ops_are_drawn_as_escapes(text):
    x = Value(1.0, label=text)
    y = _Node(2.0, grad=0.0, prev=(x,), op=text, label="y")
    dot = draw_dot(y)
    assert "\x00" not in dot.source and "\x07" not in dot.source
    escaped = repr(text)[1:-1]  # e.g. NUL as the four characters \x00
    assert f"{escaped} | data 1 | grad 0" in records(dot).values()
    assert set(ops(dot).values()) == {escaped.replace("\\", "\\\\")}


# --- the real Tensor engine and nn's modules ---

def test_lesson_graph_on_tensors_has_every_step_and_shape():
    from engine import Tensor

    x = Tensor(np.full((4, 784), 0.5, np.float32), label="x")
    w1 = Tensor(np.full((784, 50), 0.25, np.float32), requires_grad=True, label="w1")
    b1 = Tensor(np.zeros(50, np.float32), requires_grad=True, label="b1")
    l1 = x @ w1 + b1
    l1.label = "l1"
    loss = l1.relu().sum()
    loss.label = "loss"
    keep_grads(loss).backward(retain_graph=True)  # every grad kept, and the graph to draw
    dot = draw_dot(loss)
    texts = records(dot).values()
    # each entry of x @ w1 is 784 * 0.5 * 0.25 = 98 (exact in float32); loss sums 4 * 50
    assert "loss | scalar float32 | data 1.96e+04 | grad 1" in texts
    assert "l1 | (4, 50) float32 | data | mean 98 std 0 | min 98 max 98 | " \
           "grad | mean 1 std 0 | min 1 max 1" in texts
    # d loss / d w1 = x^T @ ones: every entry 4 * 0.5 = 2
    assert "w1 | (784, 50) float32 | data | mean 0.25 std 0 | min 0.25 max 0.25 | " \
           "grad | mean 2 std 0 | min 2 max 2" in texts
    assert "x | (4, 784) float32 | data | mean 0.5 std 0 | min 0.5 max 0.5" in texts
    assert set(ops(dot).values()) == {"@", "+", "relu", "sum"}
    assert kind_of(dot, "w1") == "grad_input" and kind_of(dot, "x |") == "input"


def _relu_graph():
    """w -> h = w * 3 -> loss = relu(h).sum(), on Tensors: (w, h, loss)."""
    from engine import Tensor

    w = Tensor(np.array([1.0, -2.0], np.float32), requires_grad=True, label="w")
    h = w * 3
    h.label = "h"
    loss = h.relu().sum()
    loss.label = "loss"
    return w, h, loss


@pytest.mark.parametrize("keep", [True, False], ids=["keep_grads", "as_pytorch"])
def test_interior_tensors_show_a_grad_when_kept(keep):
    w, h, loss = _relu_graph()
    if keep:
        assert keep_grads(loss) is loss
    loss.backward(retain_graph=True)
    texts = set(records(draw_dot(loss)).values())
    kept = {"loss | scalar float32 | data 3 | grad 1",
            "h | (2,) float32 | data [3, -6] | grad [1, 0]"}
    assert "w | (2,) float32 | data [1, -2] | grad [3, 0]" in texts  # a leaf keeps its grad
    assert kept <= texts if keep else not kept & texts
    assert ("loss | scalar float32 | data 3" in texts) is not keep


def test_a_released_graph_says_so_where_its_parents_were(without_dot):
    w, h, loss = _relu_graph()
    loss.backward()  # the learner's path: backward, then draw
    dot = draw_dot(loss)
    nodes, edges = parse(dot)
    assert records(dot) == {"v0": "loss | scalar float32 | data 3"}
    assert kind_of(dot, "loss") == "root" and ops(dot) == {"op0": "sum"}
    assert ("released", "op0") in edges and "dashed" in nodes["released"]["attrs"]
    shown = " ".join(t.text for t in ET.fromstring(dot.pipe()).iter(f"{SVG}text"))
    assert "the graph behind this node was released by backward()" in shown
    assert "draw it before backward(), or call backward(retain_graph=True)" in shown


def test_a_graph_built_on_a_released_one_marks_the_node_it_was_cut_at():
    w, h, loss = _relu_graph()
    loss.backward()
    total = loss * 2
    total.label = "total"
    dot = draw_dot(total)
    nodes, edges = parse(dot)
    (i,) = [k[1:] for k, r in records(dot).items() if r.startswith("loss")]
    assert kind_of(dot, "loss") == "value" and ops(dot)[f"op{i}"] == "sum"
    assert ("released", f"op{i}") in edges and (f"v{i}", "op0") in edges


def test_keep_grads_refuses_a_released_graph_and_leaves_values_alone():
    w, h, loss = _relu_graph()
    loss.backward()
    with pytest.raises(ValueError, match=r"keep_grads needs the graph behind its root, and "
                                         r"backward\(\) has released this one"):
        keep_grads(loss)
    v = Value(2.0) * 3
    assert keep_grads(v) is v and not hasattr(v, "retain_grad")


def test_nn_parameters_show_their_dotted_names():
    import nn
    from engine import Tensor

    model = nn.Sequential(nn.Linear(3, 2), nn.ReLU(), nn.Linear(2, 1))
    out = model(Tensor(np.ones((5, 3))))
    for params in (None, model, dict(model.named_parameters())):
        names = {r.split(" | ")[0] for r in records(draw_dot(out, params=params)).values()}
        assert {"0.weight", "0.bias", "2.weight", "2.bias"} <= names


# --- micrograd's way of calling it, and the Digraph without system Graphviz ---

SVG = "{http://www.w3.org/2000/svg}"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize("args, kwargs", [((), {"format": "svg", "rankdir": "LR"}),
                                          (("png", "TB"), {}), ((), {})],
                         ids=["trace_graph keywords", "positional", "defaults"])
def test_micrograds_trace_graph_call_works(neuron, args, kwargs):
    o, _ = neuron
    dot = draw_dot(o, *args, **kwargs)
    assert dot.format == kwargs.get("format", args[0] if args else "svg")
    assert f"rankdir={kwargs.get('rankdir', args[1] if args else 'LR')}" in dot.source


@pytest.mark.parametrize("format, match", [
    ("TB", "format must be an output format .* got 'TB' .*pass rankdir="),
    ("jpeg2", "format must be an output format .* got 'jpeg2'$"),
])
def test_a_bad_format_is_named(neuron, format, match):
    with pytest.raises(ValueError, match=match):
        draw_dot(neuron[0], format)


def test_micrograds_own_values_draw():
    from micrograd.engine import Value as MicrogradValue  # no label, parents in a set

    a, b = MicrogradValue(2.0), MicrogradValue(-3.0)
    c = (a * b).relu()
    c.backward()
    dot = draw_dot(c)
    assert sorted(records(dot).values()) == sorted([
        "data 0 | grad 1", "data -6 | grad 0", "data 2 | grad 0", "data -3 | grad 0"])
    assert set(ops(dot).values()) == {"*", "ReLU"}


@pytest.mark.parametrize("label, title", [("o", "computation graph of o"),
                                          ("", "computation graph")])
def test_the_graph_is_named_after_its_root(label, title):
    v = Value(1.0, label=label) * 2.0
    v.label = label
    assert draw_dot(v).source.startswith(f'digraph "{title}" {{')


def test_jupyter_display_and_pipe_work_without_system_dot(neuron, without_dot):
    dot = draw_dot(neuron[0])
    bundle = dot._repr_mimebundle_()  # what Jupyter calls to show it
    svg = ET.fromstring(bundle["image/svg+xml"])
    assert svg.tag == f"{SVG}svg"
    assert svg.find(f"{SVG}g/{SVG}title").text == "computation graph of o"
    assert ET.fromstring(dot.pipe()).tag == f"{SVG}svg"
    assert dot.pipe("png")[:8] == PNG_MAGIC


@pytest.mark.parametrize("call, written", [
    (lambda dot: dot.render("gout"), ["gout", "gout.svg"]),  # micrograd's trace_graph call
    (lambda dot: dot.render("g", format="png", cleanup=True), ["g.png"]),
    (lambda dot: dot.render(outfile="pic.png"), ["pic.gv", "pic.png"]),
    (lambda dot: dot.render(directory="sub"), ["sub/graph.gv", "sub/graph.gv.svg"]),
])
def test_digraph_render_works_without_system_dot(neuron, tmp_path, monkeypatch, without_dot,
                                                 call, written):
    monkeypatch.chdir(tmp_path)
    dot = draw_dot(neuron[0])
    out = Path(call(dot))
    assert sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*") if p.is_file()) \
        == sorted(written)
    assert out.is_file() and out.suffix in (".svg", ".png")
    if out.suffix == ".svg":
        assert "data 0.7071" in [t.text for t in ET.parse(out).getroot().iter(f"{SVG}text")]
    else:
        assert out.read_bytes()[:8] == PNG_MAGIC


def test_digraph_render_refuses_what_it_cannot_honour(neuron, tmp_path, without_dot):
    dot = draw_dot(neuron[0])
    with pytest.raises(ValueError, match="engine='neato'"):
        dot.render(tmp_path / "g", engine="neato")


def test_import_without_the_graphviz_package_says_which_python_and_how_to_install():
    # `graphviz` set to None in sys.modules makes its import fail, as in a Python without it
    code = "import sys; sys.modules['graphviz'] = None; import viz"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          cwd=Path(__file__).parent.parent)
    assert done.returncode == 1
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith("ImportError: viz needs the `graphviz` Python package")
    assert f"this Python ({sys.executable})" in last
    assert ".venv/bin/python" in last and "pip install -e ." in last
