"""viz/explore.py and explore.js: the recorder against the engine, the page in a real browser.

The browser tests drive the system's headless Chromium with Playwright (never a downloaded
browser) and skip, saying why, where either is missing. CI installs both.
"""
from __future__ import annotations

import html
import io
import json
import math
import os
import random
import re
import sys
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import nn
from engine import Tensor, Value, topological_order
from op_table import OPS
from viz import draw_dot, examples, keep_grads
from viz.browser import NoBrowser, headless_chromium
from viz.dot import KINDS, label_text, node_grad
from viz.explore import explore, grad_summary, page_data, record
from viz.rules import evaluate, parse_rule

# --- graphs: each builder returns a fresh root whose grads have never been filled ---

def value_graph() -> Value:
    """micrograd's lecture expression, with `a` used three times (twice in one op)."""
    a, b, c, f = (Value(x, label=n) for x, n in ((2.0, "a"), (-3.0, "b"), (10.0, "c"),
                                                  (-2.0, "f")))
    e = a * b
    d = e + c
    L = d * f
    out = L + a * a - b ** 2 / 4
    for node, name in ((e, "e"), (d, "d"), (L, "L"), (out, "out")):
        node.label = name
    return out


def neuron() -> Value:
    """A micrograd-style neuron on three inputs, tanh(w . x + b), in a squared error."""
    random.seed(1)
    unit = nn.scalar.Neuron(3, nonlin=False)
    for name, p in unit.named_parameters():
        p.label = name
    xs = [Value(x, label=f"x{i}") for i, x in enumerate((0.5, -1.5, 2.0))]
    out = unit(xs).tanh()
    out.label = "out"
    loss = (out - 1.0) ** 2
    loss.label = "loss"
    return loss


def tensor_mlp() -> Tensor:
    """A 4-5-3 Tensor MLP with ReLU, cross-entropy over six rows, its layers spelled out in
    two-operand ops (x @ w, + b, log_softmax, a pick), as these pages' tests were drawn
    for (nn.Linear and F.cross_entropy are single nodes of three and one operands)."""
    nn.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 5), nn.ReLU(), nn.Linear(5, 3))
    x = Tensor(np.random.default_rng(0).standard_normal((6, 4)).astype(np.float32), label="x")
    first, _, last = model
    h = (x @ first.weight.T + first.bias).relu()
    log_probs = (h @ last.weight.T + last.bias).log_softmax(1)
    loss = -log_probs[np.arange(6), np.array([0, 1, 2, 0, 1, 2])].mean()
    loss.label = "loss"
    return loss


def long_sum(n: int = 60) -> Value:
    """tanh(x0 w0 + ... + w0²): about 3n nodes, for cutting at max_nodes. w0 sits near the
    root, in w0², and also at the far end of the sum, in a node past a cut."""
    xs = [Value(0.1 * i - 2.0, label=f"x{i}") for i in range(n)]
    ws = [Value(math.sin(i + 1), label=f"w{i}") for i in range(n)]
    total = sum((x * w for x, w in zip(xs, ws)), Value(0.0, label="b"))
    return (total + ws[0] * ws[0]).tanh()


GRAPHS = [value_graph, neuron, tensor_mlp]


def same_grad(a: Any, b: Any) -> bool:
    """Two engine grads are the same: equal floats, equal arrays, or both None."""
    if a is None or b is None:
        return a is None and b is None
    return bool(np.array_equal(a, b))


def engine_grads(root: Any, nodes: list) -> list:
    """The grads `root.backward()` gives these nodes on a fresh graph, interior tensors'
    included (kept by keep_grads), the graph kept for the next call."""
    for node in topological_order(root):
        node.zero_grad()
    keep_grads(root).backward(retain_graph=True)
    return [node_grad(node) for node in nodes]


# --- the recorder ---

@pytest.mark.parametrize("build", GRAPHS)
def test_recorded_grads_are_the_engines(build: Callable) -> None:
    root = build()
    rec = record(root)
    expected = engine_grads(root, rec.nodes)
    assert len(rec.nodes) == len(topological_order(root))
    for node, got, want in zip(rec.nodes, rec.grads, expected):
        assert same_grad(got, want), node.label


@pytest.mark.parametrize("build", GRAPHS)
def test_contributions_to_each_node_add_up_to_its_grad(build: Callable) -> None:
    rec = record(build())
    total: dict[int, Any] = {}
    for step in rec.backward:
        for c in step.contributions:
            delta = c.after if c.before is None else c.after - c.before
            total[c.node] = delta + total.get(c.node, 0)
    for i, grad in enumerate(rec.grads):
        if grad is None:
            assert i not in total
        else:
            np.testing.assert_allclose(total[i], grad, rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("build", GRAPHS)
def test_steps_follow_topological_order(build: Callable) -> None:
    root = build()
    rec = record(root)
    position = {id(n): k for k, n in enumerate(topological_order(root))}
    assert [position[id(rec.nodes[i])] for i in rec.forward] == sorted(position.values())
    runs = [position[id(rec.nodes[s.node])] for s in rec.backward[1:]]
    assert runs == sorted(runs, reverse=True)
    assert rec.backward[0].node == 0 and rec.backward[0].contributions[0].node == 0


def test_a_node_used_twice_receives_two_contributions() -> None:
    rec = record(value_graph())
    a = next(i for i, n in enumerate(rec.nodes) if n.label == "a")
    senders = [rec.nodes[s.node].label or rec.nodes[s.node]._op
               for s in rec.backward if any(c.node == a for c in s.contributions)]
    assert len(senders) == 2  # a * b, and a * a, which adds both its operands' shares at once
    assert "e" in senders


def test_recording_leaves_the_graph_as_it_was() -> None:
    root = keep_grads(tensor_mlp())
    root.backward(retain_graph=True)
    root.backward(retain_graph=True)  # leaves hold twice the gradient now
    before = [(n, node_grad(n)) for n in topological_order(root)]
    assert all(grad is not None for node, grad in before if node.requires_grad)
    record(root)
    for node, grad in before:
        assert node_grad(node) is grad


def test_recording_the_graph_of_a_gradient_keeps_the_gradients_graphs() -> None:
    """After backward(create_graph=True) the grads are graph nodes (x.grad's graph is what
    the page shows); recording puts those very nodes back, not their numbers."""
    x = Value(1.5, label="x")
    (x ** 3 - x * x).backward(create_graph=True)
    t = Tensor([1.5, -0.5], requires_grad=True, dtype=np.float64)
    (t * t * t).sum().backward(create_graph=True)
    grads = [x.grad, t.grad]
    for root in (x.grad, t.grad.sum()):
        record(root)
    assert [x.grad, t.grad] == grads and x.grad.data == 3 * 1.5 ** 2 - 2 * 1.5
    assert x.grad._prev and t.grad.requires_grad


def test_the_rule_shows_the_engines_numbers() -> None:
    a, b, f = Value(2.0, label="a"), Value(-3.0, label="b"), Value(-2.0, label="f")
    c = a * b
    c.label = "c"
    root = c * f
    data = page_data(record(root), "t")
    rules = [e["rule"] for s in data["steps"] if s["kind"] == "backward" for e in s["entries"]]
    assert "a.grad += b × g = (−3) × (−2) = 6" in rules
    assert "b.grad += a × g = 2 × (−2) = −4" in rules


def test_a_cut_graph_keeps_draw_dots_nodes_and_still_shows_the_engines_grads() -> None:
    root = long_sum()
    total = len(topological_order(root))
    rec = record(root, max_nodes=30)
    assert len(rec.nodes) == 30 and rec.cut == total - 30
    source = draw_dot(root, max_nodes=30).source
    for i, node in enumerate(rec.nodes):  # node i is the one draw_dot draws as v{i}
        line = re.search(rf"^\s*v{i} \[label=(.*)$", source, re.MULTILINE).group(1)
        assert (node.label or f"data {node.data:.4g}") in line
    assert f"{rec.cut:,} more nodes" in source
    assert any(s.node is None for s in rec.backward)  # what the cut part sends is shown
    for node, got, want in zip(rec.nodes, rec.grads, engine_grads(root, rec.nodes)):
        assert same_grad(got, want), node.label


@pytest.mark.parametrize("bad, error, words", [
    (3.0, TypeError, "got float"),
    (Tensor(np.ones(3, np.float32), requires_grad=True) * 2, ValueError, "shape (3,)"),
    (Tensor(np.ones(1, np.float32)), ValueError, "requires grad"),
])
def test_bad_roots_are_refused_clearly(bad: Any, error: type, words: str) -> None:
    with pytest.raises(error, match=re.escape(words)):
        explore(bad)


def test_a_graph_backward_released_is_refused_with_what_to_do() -> None:
    root = tensor_mlp()
    root.backward()
    advice = r"call explore before backward\(\), or backward\(retain_graph=True\)"
    with pytest.raises(ValueError, match=r"released the graph behind its root: " + advice):
        explore(root)
    with pytest.raises(ValueError, match=r"released the graph behind 1 of its nodes: " + advice):
        explore(root * 2)  # a graph built on top of the released one


def test_bad_max_nodes_is_refused() -> None:
    with pytest.raises(ValueError, match="max_nodes must be a positive int"):
        explore(value_graph(), max_nodes=0)


def test_grad_summary_is_what_the_page_shows() -> None:
    assert grad_summary(None) is None
    assert grad_summary(-1.5) == -1.5
    assert grad_summary(float("nan")) == "nan"
    g = np.array([[3.0, 4.0]], np.float32)
    assert grad_summary(g) == {"norm": 5.0, "mean": 3.5}


# --- the page as a file ---

def test_the_page_is_one_self_contained_file(tmp_path: Path) -> None:
    path = tmp_path / "backprop.html"
    page = explore(value_graph(), path)
    text = path.read_text(encoding="utf-8")
    assert text == page.html
    assert os.listdir(tmp_path) == ["backprop.html"]  # written atomically, nothing left over
    assert not re.search(r"<script[^>]+src=|<link|@import|url\(", text)
    urls = set(re.findall(r"https?://[^\s\"'<>]+", text))
    assert urls <= {"http://www.w3.org/2000/svg", "http://www.w3.org/1999/xlink"}  # names only
    assert Path(__file__).parents[1].joinpath("viz", "explore.js").read_text() in text


def test_jupyter_shows_the_page_in_a_frame() -> None:
    page = explore(value_graph())
    srcdoc = re.fullmatch(r'<iframe srcdoc="([^"]*)".*</iframe>', page._repr_html_(), re.DOTALL)
    assert html.unescape(srcdoc.group(1)) == page.html


def test_saving_names_a_bad_path(tmp_path: Path) -> None:
    page = explore(value_graph())
    with pytest.raises(FileNotFoundError, match=re.escape(str(tmp_path / "no" / "p.html"))):
        page.save(tmp_path / "no" / "p.html")
    with pytest.raises(IsADirectoryError, match="it is a folder"):
        page.save(tmp_path)


def test_a_bad_path_or_rankdir_is_refused_before_any_work(tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    def no_work(*args: Any) -> None:
        raise AssertionError("explore recorded the graph before checking its arguments")
    monkeypatch.setattr(sys.modules["viz.explore"], "build_page", no_work)  # the module
    with pytest.raises(FileNotFoundError, match="the folder .*no does not exist"):
        explore(value_graph(), tmp_path / "no" / "p.html")
    with pytest.raises(ValueError, match="rankdir must be one of LR, TB, RL, BT, got 'XY'"):
        explore(value_graph(), rankdir="XY")


def test_micrograds_values_are_refused_with_where_they_work() -> None:
    engine = pytest.importorskip("micrograd.engine", reason="micrograd (the dev extra) is needed")
    with pytest.raises(TypeError, match="explore steps through scratchgrad's Value and Tensor "
                                        "graphs, got micrograd.engine.Value; draw_dot draws"):
        explore(engine.Value(2.0) * 3)


def test_a_masked_tensors_stats_are_of_its_finite_entries_and_count_the_masked() -> None:
    scores = Tensor(np.arange(16, dtype=np.float32).reshape(4, 4), requires_grad=True)
    masked = scores.masked_fill(np.triu(np.ones((4, 4), bool), 1), float("-inf"))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        page = explore(masked.softmax(-1)[0, 0])
    i = next(k for k, node in enumerate(page.recording.nodes) if node is masked)
    data = page_data(page.recording, "")["nodes"][i]["data"]
    finite = [0, 4, 5, 8, 9, 10, 12, 13, 14, 15]  # on and below the diagonal of arange(16)
    assert data["-inf"] == 6 and "nan" not in data and "inf" not in data
    assert (data["min"], data["max"]) == (0, 15) and data["mean"] == pytest.approx(np.mean(finite))
    assert data["std"] == pytest.approx(np.std(finite))


def _rules(page: Any) -> list[str]:
    """Every backward entry's rule text on a page."""
    data = page_data(page.recording, "")
    return [e["rule"] for s in data["steps"] if s["kind"] == "backward" for e in s["entries"]]


def test_the_rules_words_come_from_the_engines_docstrings() -> None:
    x = Tensor(np.array([[0.5, -1.0]], np.float32), requires_grad=True, label="x")
    w = Tensor(np.array([[2.0], [3.0]], np.float32), requires_grad=True, label="w")
    a = Value(0.5, label="a")
    tanh = a.tanh()
    tanh.label = "t"
    rules = _rules(explore((x @ w).clamp(min=0.0).sum())) + _rules(explore(tanh * 2))
    assert any(r.startswith("x.grad += g @ wᵀ, to shape (1, 2)") for r in rules)
    assert any(r.startswith("w.grad += xᵀ @ g, to shape (2, 1)") for r in rules)
    # clamp's rule, stated in its docstring's second paragraph; its bound is a constant
    assert any(r.startswith("v2.grad += g where v3 ≤ v2 ≤ max") for r in rules)
    assert "t.grad += 2 × g = 2 × 1 = 2" in rules  # a * c: c the number the rule was made for
    assert "a.grad += (1 − tanh(a)²) × g = (1 − tanh(0.5)²) × 2 = 1.573" in rules


SHOWN_RULE = re.compile(r".+\.grad \+= .+? = (.+) = ([^=]+)")  # formula = numbers = result


@pytest.mark.parametrize("f, draws", [pytest.param(f, d, id=n) for n, f, d in OPS])
def test_the_numbers_each_value_rule_shows_compute_what_the_engine_added(
        f: Callable, draws: list) -> None:
    """The page's `a.grad += b × g = (−3) × (−2) = 6`, its numbers read back and computed,
    against the engine's own contribution: the check on what a reader is shown."""
    rng = np.random.default_rng(0)
    root = f(*(Value(float(d(rng, ())), label=f"x{k}") for k, d in enumerate(draws)))
    rec = record(root)
    data = page_data(rec, "")
    shown = [(e, c) for s, step in zip(data["steps"][len(rec.forward):], rec.backward)
             for e, c in zip(s["entries"], step.contributions)]
    checked = 0
    for entry, c in shown:
        m = SHOWN_RULE.fullmatch(entry["rule"])
        if m is None:  # `g` alone (a sum), or the seed: the number is the result itself
            continue
        numbers = parse_rule(f"da = {m[1]}").clause(0).formula
        assert numbers is not None, entry["rule"]
        added = c.after - c.before
        # the numbers shown have 4 digits: a wrong rule, (1 + t²) for tanh, is off by far more
        assert evaluate(numbers, {"e": math.e}) == pytest.approx(added, rel=1e-2), entry["rule"]
        assert float(m[2].replace("−", "-")) == pytest.approx(added, rel=1e-3), entry["rule"]
        checked += 1
    assert checked or {n._op for n in rec.nodes if n._prev} <= {"+"}


def test_a_hand_written_rule_is_shown_as_the_derivative_it_applies() -> None:
    a = Value(3.0, label="a")
    out = Value(9.0, (a,), "square", label="out")

    def rule() -> None:
        a.grad += 2 * a.data * out.grad
    out._backward = rule
    assert "a.grad += ∂out/∂a × g = 6 × 1 = 6" in _rules(explore(out))


@pytest.mark.parametrize("wrap", [dict, lambda p: list(p.items()), nn.Sequential])
def test_params_name_and_colour_nodes_as_draw_dot_does(wrap: Callable) -> None:
    nn.manual_seed(0)
    layer = nn.Linear(3, 2)
    x = Tensor(np.ones((4, 3), np.float32), label="x")
    params = wrap(dict(layer.named_parameters())) if wrap is not nn.Sequential \
        else nn.Sequential(layer)
    loss = layer(x).sum()
    page = explore(loss, params=params)
    names = [n["name"] for n in page_data(page.recording, "", params)["nodes"]]
    want = draw_dot(loss, params=params).source
    for node, name in zip(page.recording.nodes, names):
        if node is layer.weight or node is layer.bias:
            assert name.endswith("weight" if node is layer.weight else "bias")
            assert re.search(rf"\b{re.escape(name)}\b", want)  # draw_dot's name for it
    fill = KINDS["parameter"][0]["fillcolor"]
    assert page.html.count(f'fill="{fill}"') == draw_dot(loss, params=params).pipe(
        format="svg", encoding="utf-8").count(f'fill="{fill}"') >= 2
    with pytest.raises(TypeError, match="params takes a Module"):
        explore(loss, params=3)


def test_an_unnamed_or_shared_name_gets_the_pictures_node_id() -> None:
    a, b = Value(1.0, label="a"), Value(2.0, label="a")
    names = [n["name"] for n in page_data(record(a * b + 1), "")["nodes"]]
    assert names == ["v0", "v1", "a (v2)", "a (v3)"]  # v0 = v1 + 1, v1 = a * a


def test_a_composite_label_is_bracketed_before_grad_and_in_formulas() -> None:
    x1, w1 = Value(2.0, label="x1"), Value(-3.0, label="w1")
    x1w1 = x1 * w1
    x1w1.label = "x1*w1"
    out = x1w1 + Value(1.0, label="b")
    out.label = "n"
    page = page_data(record(out), "")
    rules = [e["rule"] for s in page["steps"] if s["kind"] == "backward" for e in s["entries"]]
    assert "(x1*w1).grad += g = 1" in rules
    assert "x1.grad += w1 × g = (−3) × 1 = −3" in rules
    assert any(s["text"] == "n = (x1*w1) + b = −5" for s in page["steps"])


def test_a_contribution_of_zeros_raises_no_alarm() -> None:
    w = Value(2.0, label="w")
    out = (w * -1.0).relu() + w * 3  # the relu is off: its share into w is 0
    out.label = "out"
    entries = [e for s in page_data(record(out), "")["steps"] if s["kind"] == "backward"
               for e in s["entries"]]
    into_w = [e for e in entries if e["rule"].startswith("w.grad")]
    assert len(into_w) == 2
    assert [e["nothing"] for e in into_w] == [e["before"] == e["after"] for e in into_w]
    assert any(e["nothing"] for e in entries) and not all(e["nothing"] for e in entries)


@pytest.mark.parametrize("label", [float("nan"), float("inf"), b"by\xfftes", object(),
                                   "lone \ud800 surrogate", 7, "AT&amp;T </script>"],
                         ids=["nan", "inf", "bytes", "object", "surrogate", "int", "html"])
def test_any_label_makes_a_page_whose_json_is_valid(label: Any) -> None:
    x = Tensor(np.ones(2, np.float32), requires_grad=True, label=label)
    page = explore((x * 2).sum(), title=f"title {label_text(label)} \udc80")
    page.html.encode("utf-8")  # no lone surrogate left to break the file
    text = re.search(r'<script type="application/json" id="explore-data">(.*?)</script>',
                     page.html, re.DOTALL).group(1)

    def no_constants(name: str) -> None:
        raise AssertionError(f"the page's JSON holds {name}, which JSON has not")
    data = json.loads(text, parse_constant=no_constants)
    shown = label_text(label)
    assert shown and shown in [n["label"] for n in data["nodes"]]
    assert draw_dot((x * 2).sum()).source.count("\ud800") == 0


def test_minus_zero_is_written_zero() -> None:
    a = Value(-0.0, label="a")
    out = a * 2.0
    rules = _rules(explore(out))
    assert "a.grad += 2 × g = 2 × 1 = 2" in rules
    texts = [s["text"] for s in page_data(record(out), "")["steps"]]
    assert "v0 = a * c = 0" in texts and not any("−0" in t for t in texts)


@pytest.mark.usefixtures("without_dot")
def test_without_system_graphviz_graphviz_pure_lays_the_page_out() -> None:
    page = explore(neuron())
    svg = page.html[page.html.index("<svg"):page.html.index("</svg>")]
    titles = set(re.findall(r"<title>(\w+)</title>", svg))
    assert {f"v{i}" for i in range(len(page.recording.nodes))} <= titles


# --- in a real browser ---

@pytest.fixture(scope="module")
def browser() -> Any:
    """Headless system Chromium under Playwright, or a skip saying what is missing."""
    try:
        with headless_chromium() as browser:
            yield browser
    except NoBrowser as e:
        pytest.skip(f"{e}; the browser tests need it")


class Page:
    """An explorer page opened offline, with every request, console error and page error."""

    def __init__(self, browser: Any, path: Path, size: tuple[int, int] = (1200, 700)) -> None:
        self.url = path.resolve().as_uri()
        self.context = browser.new_context(offline=True,
                                           viewport={"width": size[0], "height": size[1]})
        self.requests: list[str] = []
        self.errors: list[str] = []
        self.context.route("**/*", self._route)
        self.page = self.context.new_page()
        self.page.on("request", lambda r: self.requests.append(r.url))
        self.page.on("console", lambda m: m.type == "error" and self.errors.append(m.text))
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.goto(self.url)

    def _route(self, route: Any) -> None:
        if route.request.url == self.url:
            route.continue_()
        else:
            route.abort()

    def total(self) -> int:
        return int(self.page.get_attribute("#slider", "max"))

    def at(self) -> str:
        return self.page.inner_text("#counter")

    def press(self, key: str, times: int = 1) -> None:
        for _ in range(times):
            self.page.keyboard.press(key)

    def badges(self) -> list[dict[str, str]]:
        """What each node's badge shows, by node index: value, norm and mean, or none."""
        return self.page.eval_on_selector_all("text.badge", """badges => badges
            .sort((a, b) => a.dataset.node - b.dataset.node)
            .map(b => Object.fromEntries([...b.querySelectorAll('tspan[class]')]
                .map(t => [t.getAttribute('class'), t.textContent])))""")

    def close(self) -> None:
        """Close the page, checking that it made no request but its own and logged no error."""
        self.context.close()
        assert self.requests == [self.url]
        assert self.errors == []


@pytest.fixture
def open_page(browser: Any) -> Callable[..., Page]:
    """open_page(path, size=(w, h)): the file in a fresh offline browser context of that
    window size; checked on teardown."""
    pages: list[Page] = []

    def open_(path: Path, size: tuple[int, int] = (1200, 700)) -> Page:
        pages.append(Page(browser, path, size))
        return pages[-1]

    yield open_
    for page in pages:
        page.close()


def shown_number(text: str) -> float:
    """A number as the page writes it: 4 digits, a real minus sign."""
    return float(text.replace("\u2212", "-"))


def assert_shows(shown: dict[str, str], grad: Any) -> None:
    """A badge shows the engine's grad, to the 4 digits it prints."""
    want = grad_summary(grad)
    if want is None:
        assert shown == {"gnone": "none"}
    elif isinstance(want, dict):
        assert shown_number(shown["gnorm"]) == pytest.approx(want["norm"], rel=1e-3, abs=1e-12)
        assert shown_number(shown["gmean"]) == pytest.approx(want["mean"], rel=1e-3, abs=1e-12)
    else:
        assert shown_number(shown["gvalue"]) == pytest.approx(want, rel=1e-3, abs=1e-12)


@pytest.mark.parametrize("build", GRAPHS)
def test_stepping_through_shows_the_engines_grads(build: Callable, open_page: Callable,
                                                  tmp_path: Path) -> None:
    root = build()
    page = explore(root, tmp_path / "p.html")
    view = open_page(tmp_path / "p.html")
    view.press("ArrowRight", view.total())
    assert view.at() == f"step {view.total()} / {view.total()}"
    assert view.page.is_disabled("#next")
    expected = engine_grads(root, page.recording.nodes)
    shown = view.badges()
    assert len(shown) == len(expected)
    for badge, grad in zip(shown, expected):
        assert_shows(badge, grad)


def test_a_reused_node_shows_its_contributions(open_page: Callable, tmp_path: Path) -> None:
    root = value_graph()
    page = explore(root, tmp_path / "p.html")
    view = open_page(tmp_path / "p.html")
    view.press("End")
    labels = [n.label for n in page.recording.nodes]
    reused = {labels[i]: b for i, b in enumerate(view.badges()) if "gcount" in b}
    assert sorted(reused) == ["a", "b"]  # a in a * b and a * a, b in a * b and b ** 2
    for badge in reused.values():
        assert badge["gcount"] == " (2 contributions)"
    assert_shows({"gvalue": reused["a"]["gvalue"]}, engine_grads(root, page.recording.nodes)[
        labels.index("a")])
    view.press("Home")
    while "2nd contribution: a is used more than once" not in view.page.inner_text("#step"):
        assert view.page.is_enabled("#next"), "no step shows a's second contribution"
        view.press("ArrowRight")


def test_a_contribution_of_zeros_is_shown_without_an_alarm(open_page: Callable,
                                                           tmp_path: Path) -> None:
    w = Value(2.0, label="w")
    out = (w * -1.0).relu() + w * 3  # w's share through the relu, which is off, is 0
    explore(out, tmp_path / "p.html")
    view = open_page(tmp_path / "p.html")
    texts = []
    while view.page.is_enabled("#next"):
        view.press("ArrowRight")
        texts.append(view.page.inner_text("#step"))
    into_w = [t for t in texts if "\nw.grad " in t]
    assert len(into_w) == 2
    assert "w.grad 3 → 3" in into_w[1] and "contribution" not in into_w[1]


def test_left_arrow_undoes_a_step(open_page: Callable, tmp_path: Path) -> None:
    explore(neuron(), tmp_path / "p.html")
    view = open_page(tmp_path / "p.html")
    view.press("ArrowRight", view.total() - 2)
    before, counter = view.badges(), view.at()
    view.press("ArrowRight")
    assert view.badges() != before
    view.press("ArrowLeft")
    assert view.badges() == before and view.at() == counter


def test_reset_clears_the_grads(open_page: Callable, tmp_path: Path) -> None:
    explore(tensor_mlp(), tmp_path / "p.html")
    view = open_page(tmp_path / "p.html")
    view.press("End")
    assert any("gnorm" in b for b in view.badges())
    view.page.click("#reset")
    assert view.at() == f"step 0 / {view.total()}"
    assert all(b == {"gnone": "none"} for b in view.badges())
    assert view.page.locator("#graph svg g.pending").count() > 0  # nodes hidden again


def test_the_slider_and_play_move_through_the_steps(open_page: Callable, tmp_path: Path) -> None:
    explore(value_graph(), tmp_path / "p.html")
    view = open_page(tmp_path / "p.html")
    view.page.fill("#slider", "5")
    assert view.at() == f"step 5 / {view.total()}"
    view.page.click("#play")
    view.page.wait_for_function("explorer.step > 5", timeout=20_000)  # one 700 ms tick
    view.page.click("#play")
    assert view.page.inner_text("#play") == "Play"


def test_a_backward_step_explains_the_rule(open_page: Callable, tmp_path: Path) -> None:
    a, b, f = Value(2.0, label="a"), Value(-3.0, label="b"), Value(-2.0, label="f")
    c = a * b
    c.label = "c"
    explore(c * f, tmp_path / "p.html")
    view = open_page(tmp_path / "p.html")
    view.press("End")
    step = view.page.inner_text("#step")
    assert "a.grad += b × g = (−3) × (−2) = 6" in step
    assert "a.grad 0 → 6" in step


def test_clicking_a_node_shows_its_record(open_page: Callable, tmp_path: Path) -> None:
    page = explore(tensor_mlp(), tmp_path / "p.html")
    view = open_page(tmp_path / "p.html")
    view.press("End")
    i = next(i for i, n in enumerate(page.recording.nodes) if n._op == "mm")  # (drawn as @)
    node = page.recording.nodes[i]
    view.page.click(f"#graph svg g.node:has(> title:text-is('v{i}'))")
    record_text = view.page.inner_text("#record")
    names = [n["name"] for n in page_data(page.recording, "")["nodes"]]
    for words in ("op\t@", f"shape\t({', '.join(map(str, node.data.shape))}) float32",
                  *(names[p] for p in page.recording.parents[i])):
        assert words in record_text


def test_a_cut_graph_steps_to_the_engines_grads(open_page: Callable, tmp_path: Path) -> None:
    root = long_sum()
    page = explore(root, tmp_path / "p.html", max_nodes=30)
    view = open_page(tmp_path / "p.html")
    assert view.page.locator("#graph svg g.node:has(> title:text-is('cut'))").count() == 1
    view.press("End")
    assert view.at() == f"step {view.total()} / {view.total()}"
    for badge, grad in zip(view.badges(), engine_grads(root, page.recording.nodes), strict=True):
        assert_shows(badge, grad)


def test_the_graphviz_pure_page_works_in_the_browser(open_page: Callable, tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    root = neuron()
    with monkeypatch.context() as m:  # only while writing: the browser's launcher needs PATH
        (tmp_path / "empty").mkdir()
        m.setenv("PATH", str(tmp_path / "empty"))
        page = explore(root, tmp_path / "p.html")
    view = open_page(tmp_path / "p.html")
    view.press("ArrowRight", view.total())
    for badge, grad in zip(view.badges(), engine_grads(root, page.recording.nodes), strict=True):
        assert_shows(badge, grad)


def test_a_screenshot_is_not_blank(open_page: Callable, tmp_path: Path) -> None:
    image = pytest.importorskip("PIL.Image", reason="Pillow (a matplotlib dependency) is "
                                                    "needed to read the screenshot")
    explore(neuron(), tmp_path / "p.html")
    view = open_page(tmp_path / "p.html")
    view.press("ArrowRight", view.total() // 2)
    shot = image.open(io.BytesIO(view.page.screenshot())).convert("RGB")
    pixels = np.asarray(shot).reshape(-1, 3).astype(np.int64)
    colors = np.unique(pixels @ [1 << 16, 1 << 8, 1])
    not_white = (pixels < 240).any(axis=1).mean()
    assert len(colors) > 50 and not_white > 0.02


def test_a_200_node_page_steps_through_every_step(open_page: Callable, tmp_path: Path) -> None:
    """Every forward and backward step of a cut page ends on the engine's grads.
    `python -m bench.explore` times each step of a 500-node page frame by frame."""
    root = examples.demo_loss(100)
    page = explore(root, tmp_path / "p.html", max_nodes=200)
    assert len(page.recording.nodes) == 200 and page.recording.cut > 60_000
    view = open_page(tmp_path / "p.html")
    assert view.page.evaluate("""() => {
        for (let k = 1; k <= explorer.total; k++) explorer.go(k);
        return explorer.step; }""") == view.total()
    for badge, grad in zip(view.badges(), engine_grads(root, page.recording.nodes), strict=True):
        assert_shows(badge, grad)


# --- the view: the window filled, each step followed at a readable size, zoom and pan ---

WINDOWS = [(1280, 800), (1024, 700)]  # the sizes issue 25 read the lesson's page at

# In the page: after each step, every node it visits (its own, and unless `own` those it
# sends gradient to) that is not inside the graph pane, or whose text is under `min` px.
VISITS = """([min, own]) => {
  const data = JSON.parse(document.getElementById("explore-data").textContent);
  const pane = document.getElementById("graph");
  const boxes = new Map([...pane.querySelector("svg").querySelectorAll("g.node")]
    .map((g) => [g.querySelector("title").textContent, g]));
  const problems = [];
  let visits = 0;
  for (let k = 1; k <= explorer.total; k++) {
    explorer.go(k);
    const step = data.steps[k - 1];
    const r = pane.getBoundingClientRect();
    const right = Math.min(r.left + pane.clientWidth, innerWidth);
    const bottom = Math.min(r.top + pane.clientHeight, innerHeight);
    const visited = [step.node, ...(own ? [] : step.entries || []).map((e) => e.node)];
    for (const i of new Set(visited.filter((i) => i !== null))) {
      visits++;
      const g = boxes.get("v" + i);
      const b = g.getBoundingClientRect();
      if (b.left < r.left || b.top < r.top || b.right > right || b.bottom > bottom) {
        problems.push("step " + k + ": v" + i + " out of sight");
      }
      for (const t of g.querySelectorAll("text")) {
        // its size on screen: its font size scaled as the SVG is drawn now
        const px = parseFloat(t.getAttribute("font-size")) *
          t.getBoundingClientRect().height / t.getBBox().height;
        if (px < min) problems.push("step " + k + ": v" + i + " text at " + px + " px");
      }
    }
  }
  return { problems, visits };
}"""

FILLS = """() => Object.fromEntries([...document.querySelectorAll("#graph svg g.node")]
  .map((g) => [g.querySelector("title").textContent,
               (g.querySelector("polygon, path, ellipse") || g).getAttribute("fill")]))"""


def window_fit(view: Page) -> dict[str, float]:
    """How the page sits in the window: its scroll size, the window's, and main's bottom."""
    return view.page.evaluate("""() => ({
        scrollHeight: document.documentElement.scrollHeight, innerHeight,
        scrollWidth: document.documentElement.scrollWidth, innerWidth,
        mainBottom: document.querySelector("main").getBoundingClientRect().bottom })""")


@pytest.fixture(scope="module")
def lesson_page(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The page `python -m demos.backprop` writes: the lesson's model on 4 digits."""
    from demos import backprop
    out = tmp_path_factory.mktemp("backprop")
    backprop.main(["--limit", "100", "--no-torch", "--out", str(out)])
    return out / "backprop_lesson.html"


@pytest.mark.parametrize("size", WINDOWS, ids=[f"{w}x{h}" for w, h in WINDOWS])
def test_the_lesson_page_fits_the_window_and_every_step_is_in_sight_and_readable(
        open_page: Callable, lesson_page: Path, size: tuple[int, int]) -> None:
    view = open_page(lesson_page, size)
    fit = window_fit(view)
    assert fit["scrollHeight"] == fit["innerHeight"] == fit["mainBottom"] == size[1]
    assert fit["scrollWidth"] == fit["innerWidth"] == size[0]
    seen = view.page.evaluate(VISITS, [11, False])
    assert seen["problems"] == [] and seen["visits"] > view.total()
    assert window_fit(view) == fit  # stepping scrolls the pane, never the page

    # the parameters wear draw_dot's colours: the lesson's graph has the same nodes in the
    # same order on any digits
    data = json.loads(view.page.text_content("#explore-data"))
    loss, params = examples.lesson(*examples.random_digits(4, 0))
    picture = draw_dot(loss, params=params).pipe(format="svg", encoding="utf-8")
    theirs = dict(re.findall(r'<title>(v\d+)</title>\s*<(?:polygon|path)[^>]*fill="([^"]+)"',
                             picture))
    ours = view.page.evaluate(FILLS)
    parameters = [f"v{i}" for i, n in enumerate(data["nodes"]) if n["name"] in params]
    assert len(parameters) == len(params) == 4
    for node in parameters:
        assert ours[node] == theirs[node] == KINDS["parameter"][0]["fillcolor"]


@pytest.mark.parametrize("size", [(1600, 900), (760, 600), (480, 800), (360, 640)])
def test_the_page_is_exactly_the_window_at_any_size(open_page: Callable, tmp_path: Path,
                                                     size: tuple[int, int]) -> None:
    explore(tensor_mlp(), tmp_path / "p.html", rankdir="TB", title="a long title " * 6)
    view = open_page(tmp_path / "p.html", size)
    view.press("End")
    fit = window_fit(view)
    assert fit["scrollHeight"] == fit["innerHeight"] == fit["mainBottom"] == size[1]
    assert fit["scrollWidth"] == fit["innerWidth"] == size[0]
    # a narrow window may not hold a node and all its parents at a readable size
    assert view.page.evaluate(VISITS, [11, size[0] < 700])["problems"] == []


def whole_graph_in_sight(view: Page) -> bool:
    return view.page.evaluate("""() => {
        const s = document.querySelector('#graph svg').getBoundingClientRect();
        const p = document.getElementById('graph').getBoundingClientRect();
        return s.left >= p.left && s.top >= p.top && s.right <= p.right && s.bottom <= p.bottom;
    }""")


def test_a_small_graph_opens_whole_at_a_readable_size(open_page: Callable,
                                                       tmp_path: Path) -> None:
    a, b = Value(2.0, label="a"), Value(-3.0, label="b")
    explore(a * b + a.exp(), tmp_path / "p.html")  # the README's example
    view = open_page(tmp_path / "p.html", (1024, 700))
    assert whole_graph_in_sight(view)
    assert view.page.evaluate("explorer.zoom >= explorer.readable")
    view.press("End")
    assert whole_graph_in_sight(view)


def test_the_reader_zooms_and_pans_and_can_stop_the_view_following(open_page: Callable,
                                                                    tmp_path: Path) -> None:
    explore(long_sum(40), tmp_path / "p.html", rankdir="TB")
    view = open_page(tmp_path / "p.html", (1024, 700))
    def zoom() -> float:
        return view.page.evaluate("explorer.zoom")

    def scroll() -> list[int]:
        return view.page.evaluate("(g => [g.scrollLeft, g.scrollTop])(document.getElementById('graph'))")
    start = zoom()
    assert start == pytest.approx(view.page.evaluate("explorer.readable"))  # too big to fit
    view.press("+")
    assert zoom() == pytest.approx(start * 1.25)
    view.press("-")
    view.press("-")
    assert zoom() == pytest.approx(start * 1.25 * 0.8 * 0.8)
    view.press("0")  # the whole graph: it fits the pane, at whatever size that takes
    assert whole_graph_in_sight(view) and zoom() < start
    view.page.click("#zoom-in")
    view.page.click("#zoom-in")
    before = scroll()
    pane = view.page.locator("#graph").bounding_box()
    view.page.mouse.move(pane["x"] + 200, pane["y"] + 200)
    view.page.mouse.down()
    view.page.mouse.move(pane["x"] + 100, pane["y"] + 120, steps=5)
    view.page.mouse.up()
    assert scroll() != before  # dragged
    view.press("f")  # follow off: stepping leaves the view where the reader put it
    assert not view.page.is_checked("#follow")
    here = scroll(), zoom()
    view.press("End")
    assert (scroll(), zoom()) == here
    view.press("f")
    assert zoom() >= view.page.evaluate("explorer.readable")


