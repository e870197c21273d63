"""Backprop you can step through: one self-contained HTML page per computation graph.

`explore(root)` records the forward and backward passes of the graph ending at `root`
(a Value or a Tensor) and builds a page that replays them node by node: the graph as
`draw_dot` draws it (same names, same colours, `params=` as there), Prev / Next / Play /
Reset, the arrow keys and a slider. Forward steps reveal the nodes in topological order;
backward steps, in reverse order, highlight the node whose rule runs and show, for each
parent, the rule with its numbers and the parent's grad before and after. The view
follows the step at a size that can be read, and the reader can zoom and pan.

Every number comes from the engine: `record` runs the graph's own backward rules one node
at a time (`node._backward()`, the node protocol's zero-argument rule) and keeps each
parent's grad before and after. The rules' words come from the engine too: the docstring
beside each rule, read by viz.rules. The page's JavaScript and style sheet (explore.js and
explore.css beside this file) only show what was recorded. For Tensors it shows shapes and
each gradient's norm and mean rather than every entry.

Graphs past `max_nodes` are cut as `draw_dot` cuts them: the nodes nearest the root stay,
the rest are one "N more nodes" marker, and what their rules add into kept nodes is shown
as steps of that marker, so the gradients on the page are still the engine's.
"""
from __future__ import annotations

import html
import json
import math
import numbers
import os
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import numpy as np

from engine import topological_order
from engine.atomic import check_writable, write_bytes
from engine.graph import Node
from viz.dot import (OP_NAMES, SMALL_TENSOR, breadth_first, check_graph_args, draw_dot, is_released,
                     is_tensor, label_text, node_grad, node_names, number_text,
                     parameter_names, set_node_grad, tensor_stats)
from viz.rules import ABSENT, Rule, evaluate, rule_of, symbols, write

SCRIPT = Path(__file__).with_name("explore.js")
STYLE = Path(__file__).with_name("explore.css")
INFIX = {"+", "*", "/", "**", "@"}  # ops written between their operands
# a name that reads as one thing before `.grad` or in a formula: w1, layers.0.weight, a (v3)
SIMPLE_NAME = re.compile(r"[\w.\[\]']+( \(v\d+\))?")
# room under each node for its grad badge (draw_dot's spacing is tighter): between ranks
# when they are stacked, between the nodes of a rank when ranks run left to right
DIGITS = (4, 6, 9, 17)  # significant digits tried for a rule's numbers, fewest first
PAGE_SPACING = {"TB": {"ranksep": "0.55"}, "BT": {"ranksep": "0.55"},
                "LR": {"nodesep": "0.4"}, "RL": {"nodesep": "0.4"}}


# --- the recorder: the engine's own backward rules, one node at a time ---

@dataclass
class Contribution:
    """What one backward step added into one parent: its grad before and after the rule."""

    node: int  # the parent, as an index into Recording.nodes
    before: Any  # the engine's grad objects: float for a Value, array or None for a Tensor
    after: Any


@dataclass
class Step:
    """One backward step: the rule of `node` ran (None: rules of nodes past max_nodes)."""

    node: int | None
    contributions: list[Contribution]


@dataclass
class Recording:
    """A graph's passes as the engine ran them, over the nodes kept for the picture.

    nodes[i] is drawn as `v{i}` by draw_dot; parents[i] lists indices of its parents (None
    for one past max_nodes); forward lists kept nodes parents first; backward[0] seeds the
    root; grads[i] is nodes[i].grad when the pass is done.
    """

    nodes: list
    parents: list[list[int | None]]
    forward: list[int]
    backward: list[Step]
    grads: list
    cut: int  # how many nodes the graph has past max_nodes


def _seed(root: Any) -> Any:
    """d root / d root: 1.0 for a Value, ones for a one-entry Tensor."""
    if not is_tensor(root):
        return 1.0
    if not root.requires_grad:
        raise ValueError("explore needs a Tensor that requires grad: this one has no graph "
                         "(made inside no_grad(), or from tensors without requires_grad=True)")
    data = np.asarray(root.data)
    if data.size != 1:
        raise ValueError(f"explore starts backward from a one-entry output, this one has "
                         f"shape {data.shape}; reduce it first (e.g. .sum() or a loss)")
    return np.ones(data.shape, data.dtype)


def _copy(grad: Any) -> Any:
    """A grad as it is now, as a number or a numpy array of its own, safe from a rule that
    adds into it in place (a Tensor's grad, an array or a Tensor, is copied)."""
    if grad is None or isinstance(grad, numbers.Number):
        return grad
    return np.array(grad)


def record(root: Any, max_nodes: int | None = 500) -> Recording:
    """Run backward from `root` one rule at a time and record every contribution.

    Every grad in the graph starts from zero (None for Tensors), so the recorded gradients
    are what `root.backward()` gives on a fresh graph. The grads the nodes held before are
    put back afterwards: recording changes nothing in the user's graph.
    """
    check_graph_args(root, max_nodes, "explore")
    if not isinstance(root, Node):  # it runs the engine's own rules, so it needs its nodes
        raise TypeError(f"explore steps through scratchgrad's Value and Tensor graphs, got "
                        f"{type(root).__module__}.{type(root).__name__}; draw_dot draws other "
                        "micrograd-style nodes (micrograd's Value too)")
    seed = _seed(root)
    order = topological_order(root)
    released = [node for node in order if is_released(node)]
    if released:
        whose = "its root" if is_released(root) else f"{len(released):,} of its nodes"
        raise ValueError(f"explore needs the whole graph, and backward() has released the graph "
                         f"behind {whose}: call explore before backward(), or "
                         "backward(retain_graph=True)")
    nodes = breadth_first(root)[:max_nodes]
    index = {id(node): i for i, node in enumerate(nodes)}
    parents = [[index.get(id(p)) for p in node._prev] for node in nodes]
    forward = [index[id(n)] for n in order if id(n) in index]

    saved = [node_grad(node) for node in order]
    try:
        for node in order:
            node.zero_grad()
        zero = node_grad(root)
        set_node_grad(root, seed)
        backward = [Step(0, [Contribution(0, zero, _copy(seed))])]
        hidden: dict[int, Contribution] = {}  # what cut nodes' rules added, merged per parent
        for node in reversed(order):
            if not node._prev:
                continue
            kept = [p for p in dict.fromkeys(index.get(id(p)) for p in node._prev)
                    if p is not None]
            before = [_copy(node_grad(nodes[p])) for p in kept]
            node._backward()
            # a Tensor parent that needs no grad gets none: nothing to show
            step = [Contribution(p, b, _copy(node_grad(nodes[p]))) for p, b in zip(kept, before)
                    if b is not None or node_grad(nodes[p]) is not None]
            i = index.get(id(node))
            if i is None:
                for c in step:
                    hidden.setdefault(c.node, c).after = c.after
                continue
            if hidden:  # what the cut part added so far, shown before this node's own step
                backward.append(Step(None, list(hidden.values())))
                hidden = {}
            backward.append(Step(i, step))
        if hidden:
            backward.append(Step(None, list(hidden.values())))
        grads = [_copy(node_grad(node)) for node in nodes]
    finally:
        for node, grad in zip(order, saved):
            set_node_grad(node, grad)
    return Recording(nodes, parents, forward, backward, grads, len(order) - len(nodes))


# --- what the page shows: names, numbers, rules as text ---

def page_names(nodes: list, params: Any = None) -> list[str]:
    """The names the page's text uses: draw_dot's (a parameter's from `params`, else the
    label), made unique: an unnamed node is `v3`, a name two nodes share is `a (v3)`."""
    names = node_names(nodes, params)
    counts = Counter(names)
    return [name if name and counts[name] == 1 else f"{name} (v{i})" if name else f"v{i}"
            for i, name in enumerate(names)]


def bracketed(name: str) -> str:
    """A name as one term of a formula: `(x1*w1)` for a composite label, so that
    `(x1*w1).grad` does not read as x1 * (w1.grad)."""
    return name if SIMPLE_NAME.fullmatch(name) else f"({name})"


def _number(x: float, digits: int = 4) -> str:
    """4 significant digits with a real minus sign, negatives in parentheses: (−3), 0.5."""
    text = number_text(x, digits).replace("-", "−")
    return f"({text})" if text.startswith("−") else text


def _json_number(x: Any) -> float | str:
    """A float for JSON, which has no nan or inf: those become the strings 'nan', 'inf'."""
    x = float(x) + 0.0  # and -0.0 becomes 0.0
    return x if math.isfinite(x) else str(x)


def grad_summary(grad: Any) -> float | str | dict | None:
    """A grad as the page shows it: the number for a Value, norm and mean for a Tensor."""
    if grad is None:
        return None
    if isinstance(grad, numbers.Number):
        return _json_number(grad)
    wide = np.asarray(grad).astype(np.float64)  # float32 sums lose digits the page shows
    return {"norm": _json_number(np.sqrt(np.square(wide).sum())),
            "mean": _json_number(wide.mean()) if wide.size else 0.0}


def _data_summary(node: Any) -> Any:
    """A node's data for its record: the number, or a Tensor's shape, stats and entries."""
    if not is_tensor(node):
        return _json_number(node.data)
    data = np.asarray(node.data)
    summary: dict[str, Any] = {"shape": list(data.shape), "dtype": str(data.dtype)}
    if data.size:
        summary.update({k: _json_number(v) for k, v in tensor_stats(data).items()})
        first = data.ravel()[:SMALL_TENSOR].astype(np.float64)
        summary["entries"] = [_json_number(v) for v in first]
    return summary


def _writer(rule: Rule, constants: dict[str, float], operands: list[str], g: str,
            me: str, digits: int = 4) -> Callable[[str], str]:
    """How a rule's formula writes each symbol: operands and the result by the given
    texts (names or numbers), the numbers the rule was made for as numbers."""
    texts = {**dict(zip(rule.operands, operands)), "g": g, "e": "e",
             **{name: _number(c, digits) for name, c in constants.items()},
             # a clamp's missing max stays `max`, a where's mask its name
             **{name: name for name in (*rule.absent, *rule.masks)}}
    return lambda symbol: texts.get(symbol, me)


def _local_rule(node: Any, k: int, names: list[str], me: str, g: Any,
                added: Any) -> tuple[str, str | None]:
    """The rule node's op applies to its operand k, as the engine's docstring states it:
    (with the graph's names, with the numbers, g the gradient the node sends, or None).
    Where the engine states none (a hand-installed `_backward`), the derivative's symbol,
    and for a Value what the rule `added` per unit of g."""
    rule, constants = rule_of(node)
    clause = rule.clause(k) if rule else None
    if clause is None:
        local = f"∂{bracketed(me)}/∂{bracketed(names[k])} × g"
        if added is None or is_tensor(node) or g == 0 or not math.isfinite(g):
            return local, None
        return local, f"{_number(added / g)} × {_number(g)}"
    if clause.formula is None:  # a rule in words
        return clause.text, None
    named = write(clause.formula, _writer(rule, constants, [bracketed(n) for n in names], "g",
                                          bracketed(me)))
    if is_tensor(node) or clause.formula[0] == "sym":  # `g` alone: its number is the result
        return named, None
    digits = _digits_needed(rule, clause.formula, constants, node, g)
    numbers_ = [_number(p.data, digits) for p in node._prev]
    return named, write(clause.formula, _writer(rule, constants, numbers_, _number(g, digits),
                                                _number(node.data, digits), digits))


def _digits_needed(rule: Rule, formula: tuple, constants: dict[str, float], node: Any,
                   g: float) -> int:
    """How many significant digits a Value rule's numbers need for the formula to still
    give its value, 4 if they do: 1 − s for a sigmoid's s = 0.99998 needs 6."""
    values = {**constants, **dict(zip(rule.operands, (p.data for p in node._prev))), "g": g}
    result = dict.fromkeys(symbols(formula) - set(values) - {"e"} - set(rule.absent), node.data)
    fixed = {"e": math.e, **dict.fromkeys(rule.absent, ABSENT)}
    with np.errstate(all="ignore"):
        want = float(evaluate(formula, {**values, **result, **fixed}))
        for digits in DIGITS:
            rounded = {k: float(number_text(v, digits)) for k, v in {**values, **result}.items()}
            got = float(evaluate(formula, {**rounded, **fixed}))
            if math.isclose(got, want, rel_tol=1e-3) or (math.isnan(got) and math.isnan(want)):
                return digits
    return DIGITS[-1]


def _delta(c: Contribution) -> Any:
    """What a contribution added: after − before (before None counts as zero)."""
    return c.after if c.before is None else c.after - c.before


def _rule_text(rec: Recording, step: Step, c: Contribution, names: list[str]) -> str:
    """`a.grad += b × g = (−3) × (−2) = 6`: the rule with the engine's numbers."""
    target = bracketed(names[c.node])
    if step.node is None:
        return f"{target}.grad += what the nodes past the cut send it"
    if step is rec.backward[0]:
        return f"{target}.grad = 1 (d{target}/d{target}, the seed)"
    node, me = rec.nodes[step.node], names[step.node]
    parent_names = _parent_names(rec, step.node, names)
    at = [k for k, p in enumerate(rec.parents[step.node]) if p == c.node]  # twice for a * a
    alone = _delta(c) if len(at) == 1 else None  # what one operand's share added
    rules = [_local_rule(node, k, parent_names, me, rec.grads[step.node], alone) for k in at]
    formulas = " + ".join(f for f, _ in rules)
    if is_tensor(node):
        added = grad_summary(_delta(c))["norm"]
        shape = np.asarray(node._prev[at[0]].data).shape
        return f"{target}.grad += {formulas}, to shape {shape} (‖added‖ = {_number(added)})"
    numbers_ = [n for _, n in rules]
    shown = " = " + " + ".join(numbers_) if all(numbers_) else ""
    return f"{target}.grad += {formulas}{shown} = {_number(_delta(c)).strip('()')}"


def _parent_names(rec: Recording, i: int, names: list[str]) -> list[str]:
    """Names of node i's parents, '…' for one past the cut."""
    return [names[p] if p is not None else "…" for p in rec.parents[i]]


def _op_name(node: Any) -> str:
    """The node's op as draw_dot writes it (`@` for every kind of matrix product)."""
    return OP_NAMES.get(node._op, node._op)


def _formula(node: Any, parent_names: list[str]) -> str:
    """How a node is computed from its parents: `x1 * w1`, `tanh(n)`, `a**2`."""
    op, args = _op_name(node), [bracketed(n) for n in parent_names]
    if len(args) == 1 and op in INFIX:  # the other operand was a plain number
        args.append("c")
    if op in INFIX:
        return f" {op} ".join(args)
    if op.startswith("**"):
        return f"{args[0]}{op}"
    return f"{op}({', '.join(args)})"


def _forward_text(node: Any, name: str, parent_names: list[str]) -> str:
    """A forward step: `n = x1*w1 + b = 0.8814`, `l1 = x @ w1: shape (4, 50)`, or a leaf."""
    if not node._prev:
        return f"{name} is a leaf: an input or a parameter" if node._op == "" \
            else f"{name} was made by {_op_name(node)} with graph recording off"
    if is_tensor(node):
        return f"{name} = {_formula(node, parent_names)}: shape {np.asarray(node.data).shape}"
    return f"{name} = {_formula(node, parent_names)} = {_number(node.data).strip('()')}"


def _backward_text(rec: Recording, step: Step, names: list[str]) -> str:
    """A backward step's headline: whose rule runs, and the g it sends back."""
    if step.node is None:
        return f"the {rec.cut:,} nodes past the cut run their rules"
    me = names[step.node]
    if step is rec.backward[0]:
        return f"backward starts at {me}: d{me}/d{me} = 1"
    g = grad_summary(rec.grads[step.node])
    if g is None:
        shown = "nothing (no gradient reached it)"
    elif isinstance(g, dict):
        shown = f"g = {bracketed(me)}.grad, ‖g‖ = {_number(g['norm']).strip('()')}"
    else:
        shown = f"g = {bracketed(me)}.grad = {_number(g).strip('()')}"
    formula = _formula(rec.nodes[step.node], _parent_names(rec, step.node, names))
    return f"{me} = {formula}: its rule sends {shown} to its parents"


def _adds_nothing(c: Contribution) -> bool:
    """A contribution of zeros (a relu that was off): no news, and no alarm on the page."""
    return not np.any(np.asarray(_delta(c)))


def page_data(rec: Recording, title: str, params: Any = None) -> dict:
    """Everything explore.js shows, as JSON-ready lists and dicts."""
    shown = node_names(rec.nodes, params)  # what draw_dot writes in each record
    names = page_names(rec.nodes, params)
    nodes = [{"name": names[i], "shown": shown[i], "op": _op_name(node), "tensor": is_tensor(node),
              "label": label_text(getattr(node, "label", None)),
              "data": _data_summary(node), "parents": rec.parents[i],
              "zero": None if is_tensor(node) else 0.0, "final": grad_summary(rec.grads[i])}
             for i, node in enumerate(rec.nodes)]
    steps: list[dict] = [
        {"kind": "forward", "node": i,
         "text": _forward_text(rec.nodes[i], names[i], _parent_names(rec, i, names))}
        for i in rec.forward]
    steps += [
        {"kind": "backward", "node": step.node, "text": _backward_text(rec, step, names),
         "entries": [{"node": c.node, "rule": _rule_text(rec, step, c, names),
                      "before": grad_summary(c.before), "after": grad_summary(c.after),
                      "nothing": _adds_nothing(c)}
                     for c in step.contributions]}
        for step in rec.backward]
    return {"title": title, "nodes": nodes, "steps": steps, "cut": rec.cut}


# --- the page ---

PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>{style}</style>
</head>
<body>
<header>
<h1>{title}</h1>
<div id="controls">
<button id="reset" title="Back to the start (Home)">Reset</button>
<button id="prev" title="One step back (←)">◀ Prev</button>
<button id="play" title="Play or pause (space)">Play</button>
<button id="next" title="One step on (→)">Next ▶</button>
<input id="slider" type="range" min="0" max="0" value="0" aria-label="step">
<span id="counter"></span>
</div>
<div id="view">
<button id="zoom-out" title="Zoom out (−); Ctrl + wheel zooms where the pointer is">−</button>
<span id="zoom" title="How large the graph is drawn"></span>
<button id="zoom-in" title="Zoom in (+)">+</button>
<button id="whole" title="The whole graph in the window (0)">whole graph</button>
<label title="Move the view to each step's nodes, at a size that can be read (f)"><input
 id="follow" type="checkbox" checked> follow</label>
</div>
</header>
<main>
<div id="graph" title="drag to pan, Ctrl + wheel to zoom">{svg}</div>
<aside><section id="step"></section><section id="record"></section></aside>
</main>
<script type="application/json" id="explore-data">{data}</script>
<script>
{script}
</script>
</body>
</html>
"""


def _svg(root: Any, max_nodes: int | None, rankdir: str, params: Any) -> str:
    """The graph as draw_dot draws it (no grads: the page fills them in), laid out as SVG."""
    dot = draw_dot(root, rankdir=rankdir, show_grad=False, max_nodes=max_nodes, params=params)
    dot.graph_attr.update(PAGE_SPACING[rankdir])
    svg = dot.pipe(format="svg", encoding="utf-8")
    return svg[svg.index("<svg"):]  # the XML prolog and doctype have no place inside HTML


def build_page(root: Any, max_nodes: int | None = 500, rankdir: str = "LR",
               title: str = "backprop, node by node", params: Any = None
               ) -> tuple[str, Recording]:
    """The page's HTML and the recording it replays."""
    title = label_text(title)  # written as labels are: no control character, no lone surrogate
    rec = record(root, max_nodes)
    # allow_nan=False: a nan that slipped through would be a NaN literal, which JSON lacks
    data = json.dumps(page_data(rec, title, params), ensure_ascii=False, allow_nan=False,
                      separators=(",", ":"))
    # "<" escaped, so no string in the data can close the script element early
    data = data.replace("<", "\\u003c")
    text = PAGE.format(title=html.escape(title), style=STYLE.read_text(encoding="utf-8"),
                       svg=_svg(root, max_nodes, rankdir, params), data=data,
                       script=SCRIPT.read_text(encoding="utf-8"))
    return text, rec


class Explorer:
    """An explorer page: `.html` its text, `.save(path)` writes it, Jupyter shows it inline."""

    def __init__(self, html_text: str, recording: Recording) -> None:
        self.html = html_text
        self.recording = recording

    def save(self, path: str | os.PathLike) -> Path:
        """Write the page to `path` atomically; return the path."""
        return write_bytes(check_writable(path), self.html.encode("utf-8"))

    def _repr_html_(self) -> str:
        """The page in an iframe, so its script and ids stay apart from the notebook's."""
        return (f'<iframe srcdoc="{html.escape(self.html, quote=True)}" '
                'style="width: 100%; height: 640px; border: 1px solid #ddd" '
                'sandbox="allow-scripts"></iframe>')


def explore(root: Any, path: str | os.PathLike | None = None, max_nodes: int | None = 500,
            rankdir: str = "LR", title: str = "backprop, node by node", *,
            params: Any = None) -> Explorer:
    """A page that steps through the forward and backward passes of the graph at `root`.

    root: a Value, or a one-entry Tensor (a loss). Its grads are left as they were.
    path: where to write the page (one HTML file, no network needed); None writes nothing.
    max_nodes: keep the nodes nearest the root, as draw_dot does; None keeps every node.
    rankdir: layout direction, as for draw_dot ('LR', 'TB', 'RL', 'BT').
    title: the page's heading.
    params: a model's parameters and their names, as for draw_dot — a Module, a dict
        {name: parameter}, or (name, parameter) pairs: drawn green, under these names.
    Returns the page: `.html`, `.save(path)`, and in Jupyter it shows itself.
    """
    check_graph_args(root, max_nodes, "explore", rankdir)  # before the work, as are params
    parameter_names(params)  # (a TypeError saying what params takes) and the path:
    if path is not None:
        check_writable(path)
    page = Explorer(*build_page(root, max_nodes, rankdir, title, params))
    if path is not None:
        page.save(path)
    return page
