"""Computation graphs as graphviz Digraphs: `draw_dot` draws any node of the node protocol.

A node is drawn from what the protocol promises (`data`, `grad`, `_prev`, `_op`, `label`):
a node whose `data` is a numpy array is a Tensor, anything else a scalar Value, so this
module needs neither class. Each node becomes a record (label | data | grad), and the op
that made it a small oval in front of it, as micrograd draws them.

The walk is breadth-first from the root with an explicit queue, so depth costs memory, not
recursion; when a graph has more than `max_nodes` nodes, the ones nearest the root are kept
and the rest become one "N more nodes" marker, so a huge graph still draws in a blink and
stays readable.
"""
from __future__ import annotations

from typing import Any, Iterable, Mapping

import graphviz
import numpy as np

RANKDIRS = ("LR", "TB", "RL", "BT")
SMALL_TENSOR = 8  # tensors with at most this many numbers show them; larger ones show stats

GRAPH_ATTR = {"nodesep": "0.25", "ranksep": "0.4", "fontname": "Helvetica", "fontsize": "12"}
NODE_ATTR = {"shape": "record", "fontname": "Helvetica", "fontsize": "12", "height": "0.3"}
EDGE_ATTR = {"arrowsize": "0.7", "color": "#555555"}
OP_ATTR = {"shape": "ellipse", "fontsize": "11", "width": "0.3", "height": "0.3",
           "margin": "0.03,0.02", "style": "filled", "fillcolor": "#f2f2f2"}
CUT_ATTR = {"shape": "box", "style": "dashed,rounded", "fontcolor": "#555555",
            "color": "#888888"}
CUT_EDGE_ATTR = {"style": "dashed", "color": "#888888"}
# dot's crossing minimisation, placement and spline routing slow down sharply with long
# edges (a weight used early in the forward pass and late in an L2 term): one 2,300-node
# graph took over 5 minutes. A graph past LARGE nodes is for searching, not reading, so it
# gets straight edges and bounded effort (nslimit and mclimit scale dot's iterations),
# which lay that graph out in 2 s with graphviz-pure and 5 s with Graphviz 2.43.
LARGE = 1000
FAST_LAYOUT = {"splines": "line", "nslimit": "0.02", "mclimit": "0.05"}

# Node kinds, in legend order: what each looks like and what the legend calls it.
KINDS = {
    "root": ({"style": "filled,bold", "fillcolor": "#ffd966", "penwidth": "2"}, "output (root)"),
    "parameter": ({"style": "filled", "fillcolor": "#b7e1a1"}, "parameter"),
    "leaf": ({"style": "filled", "fillcolor": "#c9daf8"}, "input (leaf)"),
    "constant": ({"style": "filled,dashed", "fillcolor": "#eeeeee", "fontcolor": "#555555"},
                 "constant"),
    "value": ({}, "intermediate"),
}

_RECORD_SPECIALS = str.maketrans({c: "\\" + c for c in '{}|<>"'})


class Digraph(graphviz.Digraph):
    """A graphviz.Digraph that lays itself out with the program `viz.render` finds.

    So it displays in Jupyter (which calls `pipe`) even where Graphviz's `dot` is not
    installed: the pip-installed `graphviz-pure` stands in.
    """

    def pipe(self, format: str | None = None, *, encoding: str | None = None) -> bytes | str:
        """The graph laid out as `format` (default: self.format): bytes, or str given `encoding`."""
        from viz.render import layout  # viz.render imports this module, so import it late

        out = layout(self.source, format or self.format)
        return out if encoding is None else out.decode(encoding)


def _number(x: Any) -> str:
    """A number in 4 significant digits: 0.7071, -3, 1.235e+05."""
    return f"{float(x):.4g}"


def _cell(text: str) -> str:
    """Text as one record field: backslashes and {}|<>" escaped."""
    return text.replace("\\", "\\\\").translate(_RECORD_SPECIALS)


def _group(fields: list[str]) -> str:
    """Record fields as one field laid across the enclosing ones (braces turn direction)."""
    return "{" + " | ".join(fields) + "}"


def _values(a: Any) -> str:
    """A number or nested lists of numbers, each in 4 significant digits."""
    if isinstance(a, np.ndarray):
        a = a.tolist()
    if isinstance(a, list):
        return "[" + ", ".join(_values(v) for v in a) + "]"
    return _number(a)


def _summary(name: str, a: np.ndarray) -> str:
    """'data [1, 2]' for a small array, else 'data' beside mean and std over min and max."""
    if a.size <= SMALL_TENSOR:
        return _cell(f"{name} {_values(a)}")
    as_float = a.astype(np.float64, copy=False)  # stats of float32 data without float32 rounding
    return _group([_cell(name), _group([
        _cell(f"mean {_number(as_float.mean())} std {_number(as_float.std())}"),
        _cell(f"min {_number(as_float.min())} max {_number(as_float.max())}")])])


def _label(node: Any, name: str, kind: str, show_grad: bool, rankdir: str) -> str:
    """A node's record: name | data | grad for a Value; a Tensor's name beside a stack of
    shape and dtype, data and grad; a constant's value alone."""
    data = node.data
    if kind == "constant":
        fields = [_cell(_values(data))]
    elif isinstance(data, np.ndarray):
        stack = [_cell(f"{'scalar' if data.ndim == 0 else data.shape} {data.dtype}"),
                 _summary("data", data)]
        if show_grad and node.grad is not None:
            stack.append(_summary("grad", np.asarray(node.grad)))
        fields = [_group(stack)]
    else:
        fields = [_cell(f"data {_number(data)}")]
        if show_grad:
            fields.append(_cell(f"grad {_number(node.grad)}"))
    if name:
        fields.insert(0, _cell(str(name)))
    row = " | ".join(fields)
    # left-right layouts turn a record's direction, so one more pair of braces turns it back
    return _group([row]) if rankdir in ("LR", "RL") else row


def _kind(node: Any, is_root: bool, is_named: bool) -> str:
    """Which of KINDS a node is: root, parameter, leaf, constant, or an intermediate value."""
    if is_root:
        return "root"
    if is_named:
        return "parameter"
    if node._prev:
        return "value"
    if not isinstance(node.data, np.ndarray):  # a Value leaf: an input unless named above
        return "leaf"
    if node.requires_grad:
        return "parameter"
    if not node.label and node.data.size == 1:
        return "constant"  # a bare number the code wrote, e.g. the 2 in `x * 2`
    return "leaf"


def _parameter_names(params: Any) -> dict[int, str]:
    """id(parameter) -> name, from a Module, a dict, or (name, parameter) pairs."""
    if params is None:
        return {}
    if hasattr(params, "named_parameters"):
        pairs: Iterable = params.named_parameters()
    elif isinstance(params, Mapping):
        pairs = params.items()
    else:
        pairs = params
    names = {}
    try:
        for name, p in pairs:
            names[id(p)] = str(name)
    except (TypeError, ValueError):
        raise TypeError("params takes a Module (anything with named_parameters()), a dict "
                        "{name: parameter}, or (name, parameter) pairs; got "
                        f"{type(params).__name__}") from None
    return names


def _breadth_first(root: Any) -> list:
    """Every node `root` depends on, nearest first, each once."""
    order = [root]
    seen = {id(root)}  # ids, not nodes: a Tensor's == is elementwise
    for node in order:  # the list grows while it is walked, which makes it the BFS queue
        for parent in node._prev:
            if id(parent) not in seen:
                seen.add(id(parent))
                order.append(parent)
    return order


def _legend(kinds: set[str], has_ops: bool) -> str:
    """An HTML-like table with one swatch per kind present in the graph, and one for ops."""
    cells = []
    for kind, (attrs, text) in KINDS.items():
        if kind in kinds:
            border = ' border="2"' if kind == "root" else ""
            fill = attrs.get("fillcolor", "#ffffff")
            cells.append(f'<td bgcolor="{fill}"{border}>{text}</td>')
    if has_ops:
        cells.append(f'<td bgcolor="{OP_ATTR["fillcolor"]}" style="rounded">op</td>')
    return ('<<table border="0" cellborder="1" cellspacing="4" cellpadding="3">'
            f'<tr>{"".join(cells)}</tr></table>>')


def _check_node(root: Any) -> None:
    """A TypeError unless `root` looks like a graph node."""
    missing = [a for a in ("data", "grad", "_prev", "_op") if not hasattr(root, a)]
    if missing:
        raise TypeError(f"draw_dot takes a graph node (a Value or a Tensor), got "
                        f"{type(root).__name__}, which has no {', '.join(missing)}")


def draw_dot(root: Any, rankdir: str = "LR", show_grad: bool = True,
             max_nodes: int | None = 500, params: Any = None) -> Digraph:
    """The computation graph ending at `root` (a Value or a Tensor) as a graphviz Digraph.

    rankdir: 'LR' (inputs left, output right), 'TB', 'RL' or 'BT'.
    show_grad: also show gradients (Tensors show one only once backward has filled it).
    max_nodes: keep the nodes nearest the root, the rest become one "N more nodes" marker;
        None draws every node. Past LARGE (1,000) nodes, edges are straight and the
        layout effort bounded, so that dot finishes in seconds.
    params: names for parameters — a Module (anything with `named_parameters()`), a dict
        {name: parameter}, or (name, parameter) pairs; named nodes show the name and the
        parameter style. Without it, nodes show their own `label`.

    Styles, explained by a legend: the root is gold and bold; parameters green (named in
    `params`, or Tensor leaves that require grad); other leaves, the inputs, blue;
    constants grey and dashed (unnamed one-number Tensors that need no grad, like the 2 in
    `x ** 2`); ops small grey ovals.

    In Jupyter the result displays itself; `viz.render(graph, path)` writes it to a file
    (graphviz's own `.render()` and `.view()` need system Graphviz).
    """
    _check_node(root)
    if rankdir not in RANKDIRS:
        raise ValueError(f"rankdir must be one of {', '.join(RANKDIRS)}, got {rankdir!r}")
    if max_nodes is not None and (not isinstance(max_nodes, int) or max_nodes < 1):
        raise ValueError(f"max_nodes must be a positive int or None, got {max_nodes!r}")
    names = _parameter_names(params)

    nodes = _breadth_first(root)
    kept = nodes if max_nodes is None else nodes[:max_nodes]
    index = {id(node): i for i, node in enumerate(kept)}
    graph_attr = {"rankdir": rankdir, **GRAPH_ATTR}
    if len(kept) > LARGE:
        graph_attr.update(FAST_LAYOUT)
    dot = Digraph(format="svg", graph_attr=graph_attr, node_attr=NODE_ATTR, edge_attr=EDGE_ATTR)
    kinds, cut_into = set(), []
    for i, node in enumerate(kept):
        name = names.get(id(node)) or node.label
        kind = _kind(node, i == 0, id(node) in names)
        kinds.add(kind)
        dot.node(f"v{i}", _label(node, name, kind, show_grad, rankdir), **KINDS[kind][0])
        if not node._prev:
            continue
        dot.node(f"op{i}", graphviz.escape(node._op), **OP_ATTR)
        dot.edge(f"op{i}", f"v{i}")
        for parent in node._prev:
            j = index.get(id(parent))
            if j is None:
                cut_into.append(i)
            else:
                dot.edge(f"v{j}", f"op{i}")
    if cut_into:
        dot.node("cut", f"{len(nodes) - len(kept):,} more nodes", **CUT_ATTR)
        for i in dict.fromkeys(cut_into):  # one edge per op, in order
            dot.edge("cut", f"op{i}", **CUT_EDGE_ATTR)
    dot.node("legend", _legend(kinds, has_ops=len(kept) > 1), shape="plaintext", fontsize="10")
    return dot
