"""Backprop you can step through: one self-contained HTML page per computation graph.

`explore(root)` records the forward and backward passes of the graph ending at `root`
(a Value or a Tensor) and builds a page that replays them node by node: the graph laid out
as `draw_dot` lays it out, Prev / Next / Play / Reset, the arrow keys and a slider. Forward
steps reveal the nodes in topological order; backward steps, in reverse order, highlight
the node whose rule runs and show, for each parent, the rule with its numbers and the
parent's grad before and after.

Every number comes from the engine: `record` runs the graph's own backward rules one node
at a time (`node._backward()`, the node protocol's zero-argument rule) and keeps each
parent's grad before and after. The page's JavaScript (explore.js beside this file) only
shows what was recorded. For Tensors it shows shapes and each gradient's norm and mean
rather than every entry.

Graphs past `max_nodes` are cut as `draw_dot` cuts them: the nodes nearest the root stay,
the rest are one "N more nodes" marker, and what their rules add into kept nodes is shown
as steps of that marker, so the gradients on the page are still the engine's.
"""
from __future__ import annotations

import html
import json
import math
import os
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from engine import topological_order
from engine.atomic import check_writable, write_bytes
from engine import graph
from engine.graph import Node
from viz.dot import (SMALL_TENSOR, breadth_first, check_graph_args, draw_dot, node_data,
                     node_grad, set_node_grad, tensor_stats)

SCRIPT = Path(__file__).with_name("explore.js")
INFIX = {"+", "*", "**", "@"}  # ops written between their operands


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


def _is_tensor(node: Any) -> bool:
    return isinstance(node_data(node), np.ndarray)


def _seed(root: Any) -> Any:
    """d root / d root: 1.0 for a Value, ones for a one-entry Tensor."""
    if not _is_tensor(root):
        return 1.0
    if not root.requires_grad:
        raise ValueError("explore needs a Tensor that requires grad: this one has no graph "
                         "(made inside no_grad(), or from tensors without requires_grad=True)")
    data = node_data(root)
    if data.size != 1:
        raise ValueError(f"explore starts backward from a one-entry output, this one has "
                         f"shape {data.shape}; reduce it first (e.g. .sum() or a loss)")
    return np.ones(data.shape, data.dtype)


def _copy(grad: Any) -> Any:
    """A grad as it is now, safe from a rule that adds into the array in place."""
    return grad.copy() if isinstance(grad, np.ndarray) else grad


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
    if root._rule is graph._released:
        raise ValueError("explore needs the graph behind its root, and backward() has released "
                         "this one: call explore before backward(), or backward(retain_graph=True)")
    seed = _seed(root)
    order = topological_order(root)
    nodes = breadth_first(root)[:max_nodes]
    index = {id(node): i for i, node in enumerate(nodes)}
    parents = [[index.get(id(p)) for p in node._prev] for node in nodes]
    forward = [index[id(n)] for n in order if id(n) in index]

    # the grads as the nodes hold them (a graph of its own after create_graph), put back as is
    saved = [(node, "_grad" if hasattr(node, "_grad") else "grad") for node in order]
    saved = [(node, slot, getattr(node, slot)) for node, slot in saved]
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
        for node, slot, grad in saved:
            setattr(node, slot, grad)
    return Recording(nodes, parents, forward, backward, grads, len(order) - len(nodes))


# --- what the page shows: names, numbers, rules as text ---

def _number(x: float) -> str:
    """4 significant digits with a real minus sign, negatives in parentheses: (−3), 0.5."""
    text = f"{float(x):.4g}".replace("-", "−")
    return f"({text})" if text.startswith("−") else text


def _json_number(x: Any) -> float | str:
    """A float for JSON, which has no nan or inf: those become the strings 'nan', 'inf'."""
    x = float(x)
    return x if math.isfinite(x) else str(x)


def grad_summary(grad: Any) -> float | str | dict | None:
    """A grad as the page shows it: the number for a Value, norm and mean for a Tensor."""
    if grad is None:
        return None
    if not isinstance(grad, np.ndarray):
        return _json_number(grad)
    wide = grad.astype(np.float64)  # float32 sums of many entries lose digits the page shows
    return {"norm": _json_number(np.sqrt(np.square(wide).sum())),
            "mean": _json_number(wide.mean()) if wide.size else 0.0}


def _data_summary(data: Any) -> Any:
    """A node's data for its record: the number, or a Tensor's shape, stats and entries."""
    if not isinstance(data, np.ndarray):
        return _json_number(data)
    summary: dict[str, Any] = {"shape": list(data.shape), "dtype": str(data.dtype)}
    if data.size:
        summary.update({k: _json_number(v) for k, v in tensor_stats(data).items()})
        first = data.ravel()[:SMALL_TENSOR].astype(np.float64)
        summary["entries"] = [_json_number(v) for v in first]
    return summary


def _value_rule(op: str, k: int, node: Any, g: float, delta: float, names: list[str],
                me: str) -> tuple[str, str]:
    """The local rule a Value op applies to parent k, `me` being the node's own name:
    (formula, formula with numbers), the second empty where it would repeat the result."""
    prev, out = node._prev, node_data(node)
    a, name = node_data(prev[0]), names[0]
    if op == "+":
        return "g", ""
    if op == "*" and len(prev) == 2:
        other = prev[1 - k]
        return f"{names[1 - k]}.data × g", f"{_number(node_data(other))} × {_number(g)}"
    if op == "**" and len(prev) == 2:
        b = node_data(prev[1])
        if k == 0:
            return (f"{names[1]} × {name}^({names[1]} − 1) × g",
                    f"{_number(b)} × {_number(a)}^{_number(b - 1)} × {_number(g)}")
        return f"{me} × ln({name}) × g", f"{_number(out)} × ln{_number(a)} × {_number(g)}"
    rules = {
        "exp": (f"{me} × g", lambda: f"{_number(out)} × {_number(g)}"),
        "log": (f"g / {name}", lambda: f"{_number(g)} / {_number(a)}"),
        "tanh": (f"(1 − {me}²) × g", lambda: f"(1 − {_number(out)}²) × {_number(g)}"),
        "sigmoid": (f"{me} × (1 − {me}) × g",
                    lambda: f"{_number(out)} × (1 − {_number(out)}) × {_number(g)}"),
        "relu": (f"g × [{name} > 0]", lambda: f"{_number(g)} × {int(a > 0)}"),
        "abs": (f"sign({name}) × g", lambda: f"sign{_number(a)} × {_number(g)}"),
        "sqrt": (f"g / (2 × {me})", lambda: f"{_number(g)} / (2 × {_number(out)})"),
    }
    if op in rules:
        formula, numbers = rules[op]
        return formula, numbers()
    if op.startswith("**"):
        p = op[2:]
        return (f"{p} × {name}^({p} − 1) × g",
                f"{p} × {_number(a)}^({p} − 1) × {_number(g)}")
    # a number the op keeps (the c of a * c) or a hand-written rule: the local derivative
    # is what the engine added per unit of g
    local = "c" if op == "*" else f"∂{me}/∂{names[k]}"
    if g == 0 or not math.isfinite(g):
        return f"{local} × g", f"{local} × {_number(g)}"
    return f"{local} × g", f"{_number(delta / g)} × {_number(g)}"


# Each Tensor op's rule per operand (a single one serves every operand), as the page words
# it: {0} and {1} are the operands' names, {me} the node's own.
TENSOR_RULES = {
    "+": ("g", "g"), "*": ("g × {1}", "g × {0}"), "@": ("g @ {1}ᵀ", "{0}ᵀ @ g"),
    "**": ("g × {1} × {0}^({1} − 1)", "g × {me} × ln {0}"), "exp": ("g × {me}",),
    "log": ("g / {0}",), "tanh": ("g × (1 − {me}²)",),
    "sigmoid": ("g × {me} × (1 − {me})",),
    "relu": ("g where {0} > 0",), "clamp_min": ("g where {0} ≥ min",),
    "sum": ("g spread over the summed dims",), "max": ("g to the entries that are the max",),
    "reshape": ("g reshaped back",), "permute": ("g with the dims put back",),
    "index": ("g put back where the entries came from",),
    "log_softmax": ("g − softmax({0}) × sum(g)",), "logsumexp": ("softmax({0}) × g",),
}


def _tensor_rule(op: str, k: int, parent: Any, names: list[str], me: str) -> str:
    """The local rule a Tensor op applies to parent k, in words and symbols."""
    forms = TENSOR_RULES.get(op)
    formula = forms[min(k, len(forms) - 1)].format(*names, me=me) if forms \
        else f"∂{me}/∂{names[k]} · g"
    return f"{formula}, to shape {node_data(parent).shape}"


def _delta(c: Contribution) -> Any:
    """What a contribution added: after − before (before None counts as zero)."""
    return c.after if c.before is None else c.after - c.before


def _rule_text(rec: Recording, step: Step, c: Contribution, names: list[str]) -> str:
    """`a.grad += b.data × g = (−3) × (−2) = 6`: the rule with the engine's numbers."""
    target = names[c.node]
    if step.node is None:
        return f"{target}.grad += what the nodes past the cut send it"
    if step is rec.backward[0]:
        return f"{target}.grad = 1 (d{target}/d{target}, the seed)"
    node, me = rec.nodes[step.node], names[step.node]
    parent_names = _parent_names(rec, step.node, names)
    at = [k for k, p in enumerate(rec.parents[step.node]) if p == c.node]  # twice for a * a
    if _is_tensor(node):
        rules = [_tensor_rule(node._op, k, node._prev[k], parent_names, me) for k in at]
        added = grad_summary(_delta(c))["norm"]
        return f"{target}.grad += " + " + ".join(rules) + f" (‖added‖ = {_number(added)})"
    g, delta = rec.grads[step.node], _delta(c)
    rules = [_value_rule(node._op, k, node, g, delta, parent_names, me) for k in at]
    formulas = " + ".join(f for f, _ in rules)
    numbers = [n for _, n in rules]
    shown = " = " + " + ".join(numbers) if all(numbers) else ""
    return f"{target}.grad += {formulas}{shown} = {_number(delta).strip('()')}"


def _parent_names(rec: Recording, i: int, names: list[str]) -> list[str]:
    """Names of node i's parents, '…' for one past the cut."""
    return [names[p] if p is not None else "…" for p in rec.parents[i]]


def _formula(node: Any, parent_names: list[str]) -> str:
    """How a node is computed from its parents: `x1 * w1`, `tanh(n)`, `a**2`."""
    op, args = node._op, list(parent_names)
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
            else f"{name} was made by {node._op} with graph recording off"
    if _is_tensor(node):
        return f"{name} = {_formula(node, parent_names)}: shape {node_data(node).shape}"
    return f"{name} = {_formula(node, parent_names)} = {_number(node_data(node)).strip('()')}"


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
        shown = f"g = {me}.grad, ‖g‖ = {_number(g['norm']).strip('()')}"
    else:
        shown = f"g = {me}.grad = {_number(g).strip('()')}"
    formula = _formula(rec.nodes[step.node], _parent_names(rec, step.node, names))
    return f"{me} = {formula}: its rule sends {shown} to its parents"


def page_data(rec: Recording, title: str) -> dict:
    """Everything explore.js shows, as JSON-ready lists and dicts."""
    labels = Counter(node.label for node in rec.nodes)
    names = [node.label if node.label and labels[node.label] == 1
             else f"{node.label} (v{i})" if node.label else f"v{i}"
             for i, node in enumerate(rec.nodes)]
    nodes = []
    for i, node in enumerate(rec.nodes):
        tensor = _is_tensor(node)
        nodes.append({
            "name": names[i], "label": node.label, "op": node._op, "tensor": tensor,
            "shape": list(node_data(node).shape) if tensor else None,
            "data": _data_summary(node_data(node)), "parents": rec.parents[i],
            "zero": None if tensor else 0.0, "final": grad_summary(rec.grads[i])})
    steps: list[dict] = [
        {"kind": "forward", "node": i,
         "text": _forward_text(rec.nodes[i], names[i], _parent_names(rec, i, names))}
        for i in rec.forward]
    steps += [
        {"kind": "backward", "node": step.node, "text": _backward_text(rec, step, names),
         "entries": [{"node": c.node, "rule": _rule_text(rec, step, c, names),
                      "before": grad_summary(c.before), "after": grad_summary(c.after)}
                     for c in step.contributions]}
        for step in rec.backward]
    return {"title": title, "nodes": nodes, "steps": steps, "cut": rec.cut}


# --- the page ---

STYLE = """
body { margin: 0; font: 14px/1.4 system-ui, sans-serif; color: #222; }
header { display: flex; flex-wrap: wrap; align-items: center; gap: 12px; padding: 8px 12px;
         border-bottom: 1px solid #ddd; background: #fafafa; }
header h1 { font-size: 16px; margin: 0 12px 0 0; }
#controls { display: flex; align-items: center; gap: 6px; }
#controls button { font: inherit; padding: 3px 10px; }
#slider { width: 260px; }
#counter { font-variant-numeric: tabular-nums; min-width: 150px; }
main { display: flex; height: calc(100vh - 52px); }
#graph { flex: 1; overflow: auto; padding: 8px; }
aside { width: 390px; overflow: auto; border-left: 1px solid #ddd; padding: 8px 12px; }
aside h2 { font-size: 14px; margin: 8px 0 4px; }
.rule { font-family: ui-monospace, monospace; font-size: 12.5px; margin: 6px 0;
        padding: 4px 6px; background: #fff4f0; border-left: 3px solid #e0582b; }
.change { color: #555; }
.nth { color: #b03a10; font-weight: bold; }
table.record td { padding: 1px 6px; vertical-align: top; }
table.record td:first-child { color: #666; }
a.node-link { cursor: pointer; color: #1a5fb4; text-decoration: underline; }
#canvas { position: relative; display: inline-block; }
/* each SVG a composited layer of its own (see explore.js): a step then repaints the small
   overlay, or a few nodes of the graph, but not the whole graph under them */
#canvas svg { display: block; will-change: transform; }
#canvas svg:first-child { position: relative; }
#graph.fit #canvas { display: block; max-width: var(--fit-max); }
#graph.fit svg { width: 100%; height: auto; max-height: calc(100vh - 80px); }
svg.overlay { position: absolute; left: 0; top: 0; width: 100%; height: 100%;
              pointer-events: none; }
svg g.node { cursor: pointer; }
svg g.pending { fill-opacity: 0.12; stroke-opacity: 0.12; }
.mark { fill: none; stroke-width: 3; }
.mark.active { stroke: #e0582b; }
.mark.receiving { stroke: #1a7f37; }
.mark.selected { stroke: #1a5fb4; stroke-dasharray: 5 3; }
.mark.flow path, .mark.flow polygon { stroke: #e0582b; stroke-width: 2.5; }
.mark.flow polygon { fill: #e0582b; }
text.badge { font: 10px ui-monospace, monospace; fill: #444; }
text.badge.pending { fill-opacity: 0.3; }
text.badge.fresh { fill: #1a7f37; font-weight: bold; }
text.badge .gcount { fill: #b03a10; }
"""

PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
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
<label title="Shrink the graph to the window's width"><input id="fit" type="checkbox"> fit</label>
</div>
</header>
<main>
<div id="graph">{svg}</div>
<aside><section id="step"></section><section id="record"></section></aside>
</main>
<script type="application/json" id="explore-data">{data}</script>
<script>
{script}
</script>
</body>
</html>
"""


def _svg(root: Any, max_nodes: int | None, rankdir: str) -> str:
    """The graph as draw_dot draws it (no grads: the page fills them in), laid out as SVG."""
    svg = draw_dot(root, rankdir=rankdir, show_grad=False, max_nodes=max_nodes).pipe(
        format="svg", encoding="utf-8")
    return svg[svg.index("<svg"):]  # the XML prolog and doctype have no place inside HTML


def build_page(root: Any, max_nodes: int | None = 500, rankdir: str = "LR",
               title: str = "backprop, node by node") -> tuple[str, Recording]:
    """The page's HTML and the recording it replays."""
    rec = record(root, max_nodes)
    data = json.dumps(page_data(rec, title), ensure_ascii=False, separators=(",", ":"))
    # "<" escaped, so no string in the data can close the script element early
    data = data.replace("<", "\\u003c")
    text = PAGE.format(title=html.escape(title), style=STYLE, svg=_svg(root, max_nodes, rankdir),
                       data=data, script=SCRIPT.read_text(encoding="utf-8"))
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
            rankdir: str = "LR", title: str = "backprop, node by node") -> Explorer:
    """A page that steps through the forward and backward passes of the graph at `root`.

    root: a Value, or a one-entry Tensor (a loss). Its grads are left as they were.
    path: where to write the page (one HTML file, no network needed); None writes nothing.
    max_nodes: keep the nodes nearest the root, as draw_dot does; None keeps every node.
    rankdir: layout direction, as for draw_dot ('LR', 'TB', 'RL', 'BT').
    title: the page's heading.
    Returns the page: `.html`, `.save(path)`, and in Jupyter it shows itself.
    """
    check_graph_args(root, max_nodes, "explore", rankdir)  # before the work, as is the path:
    if path is not None:
        check_writable(path)
    page = Explorer(*build_page(root, max_nodes, rankdir, title))
    if path is not None:
        page.save(path)
    return page
