"""Computation graphs as graphviz Digraphs: `draw_dot` draws any node of the node protocol.

A node is drawn from what the protocol promises (`data`, `grad`, `_prev`, `_op`, `label`,
`requires_grad`): a node whose `data` is a numpy array is a Tensor, anything else a scalar
Value, so this module needs neither class (and draws micrograd's own Values too). Each node
becomes a record (label | data | grad), and the op that made it a small oval in front of
it, as micrograd draws them.

The walk is breadth-first from the root with an explicit queue, so depth costs memory, not
recursion; when a graph has more than `max_nodes` nodes, the ones nearest the root are kept
and the rest become one "N more nodes" marker, so a huge graph still draws in a blink and
stays readable. A graph that backward() has released (Tensor graphs are, as in PyTorch,
unless `retain_graph=True`) has a marker saying so where its parents would be.

`keep_grads(root)` prepares a Tensor graph for a picture with every gradient: PyTorch's
backward keeps only the leaves' gradients.
"""
from __future__ import annotations

import numbers
import os
from pathlib import Path
from typing import Any, Iterable, Mapping

import graphviz
import numpy as np

from engine import graph
from engine.atomic import write_bytes
from viz.layout import layout

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
    "grad_input": ({"style": "filled", "fillcolor": "#d9c8ee"}, "input, requires grad"),
    "input": ({"style": "filled", "fillcolor": "#c9daf8"}, "input"),
    "constant": ({"style": "filled,dashed", "fillcolor": "#eeeeee", "fontcolor": "#555555"},
                 "constant"),
    "value": ({}, "intermediate"),
}
# op names drawn as a reader knows them ('[]': indexing's old name; the others are PyTorch's
# names for a matmul by its operands' dims, and for the overloads of squeeze, sum and clamp)
OP_NAMES = {"[]": "index", "mm": "@", "mv": "@", "dot": "@", "vm": "@", "matmul": "@",
            "squeeze_dim": "squeeze", "squeeze_dims": "squeeze", "sum_dim": "sum",
            "clamp_tensors": "clamp"}

# Control characters and lone surrogates become their Python escapes (NUL -> \x00): dot
# would stop reading a label at a NUL byte, the others draw as nothing, and a lone
# surrogate cannot be written as UTF-8 at all.
_UNPRINTABLE = {c: repr(chr(c))[1:-1]
                for c in (*range(0x20), *range(0x7F, 0xA0), *range(0xD800, 0xE000))}
# Graphviz reads HTML entities in every label (`AT&amp;T` would draw as AT&T), so & is
# written as an entity itself; backslashes and {}|<>" are record syntax.
_RECORD_SPECIALS = str.maketrans({"&": "&amp;", **{c: "\\" + c for c in '{}|<>"'}})


class Digraph(graphviz.Digraph):
    """A graphviz.Digraph that lays itself out with the programs viz.layout finds.

    So `pipe()`, `render()`, `view()` and Jupyter's display (which pipes) all work where
    Graphviz's `dot` is not installed: the pip-installed `graphviz-pure` stands in.
    """

    def pipe(self, format: str | None = None, *, encoding: str | None = None) -> bytes | str:
        """The graph laid out as `format` (default: self.format): bytes, or str given `encoding`."""
        out = layout(self.source, format or self.format)
        return out if encoding is None else out.decode(encoding)

    @property
    def _render(self):
        """What graphviz's `render()` calls to run dot on the saved source: ours instead, so
        render() keeps graphviz's file naming, cleanup and view."""
        return _render_file


def _render_file(engine: str, format: str, filepath: str | os.PathLike, *,
                 outfile: str | os.PathLike | None = None, raise_if_result_exists: bool = False,
                 renderer: str | None = None, formatter: str | None = None,
                 **unused: Any) -> str:
    """The DOT file at `filepath` drawn as `format` into `outfile` (default: filepath.format),
    as graphviz's render() would have dot do it; returns the path written.

    `unused` takes the options that change nothing here: quiet (the program's messages are
    captured anyway), neato_no_op and overwrite_filepath (the source is read before writing).
    """
    if engine != "dot" or renderer or formatter:
        raise ValueError(f"viz lays graphs out with dot and its default renderer only, got "
                         f"engine={engine!r} renderer={renderer!r} formatter={formatter!r}")
    out = Path(outfile) if outfile is not None else Path(f"{os.fspath(filepath)}.{format}")
    if raise_if_result_exists and out.exists():
        raise graphviz.FileExistsError(f"output file exists: {os.fspath(out)!r}")
    write_bytes(out, layout(Path(filepath).read_text(encoding="utf-8"), format))
    return os.fspath(out)


def number_text(x: Any, digits: int = 4) -> str:
    """A number in 4 significant digits: 0.7071, -3, 1.235e+05, inf; -0 is written 0."""
    return f"{float(x) + 0.0:.{digits}g}"  # + 0.0 turns -0.0 into 0.0


def label_text(label: Any) -> str:
    """Any label as the text that pictures and pages show: '' for None; bytes decoded as
    UTF-8 (bytes that are not, as \\x escapes); anything else, a nan or an object, as
    str() writes it; control characters and lone surrogates as Python escapes."""
    if label is None:
        return ""
    if isinstance(label, (bytes, bytearray)):
        text = bytes(label).decode("utf-8", "backslashreplace")
    else:
        try:
            text = str(label)
        except Exception:  # an object whose __str__ fails still gets a name
            text = f"<{type(label).__name__}>"
    return text.translate(_UNPRINTABLE)


def _cell(text: Any) -> str:
    """Text as one record field: control characters, &, backslashes and {}|<>" escaped."""
    return label_text(text).replace("\\", "\\\\").translate(_RECORD_SPECIALS)


def _plain(text: Any) -> str:
    """Text as a plain (non-record) label: control characters, backslashes and & escaped."""
    return graphviz.escape(label_text(text)).replace("&", "&amp;")


def _group(fields: list[str]) -> str:
    """Record fields as one field laid across the enclosing ones (braces turn direction)."""
    return "{" + " | ".join(fields) + "}"


def _values(a: Any) -> str:
    """A number or nested lists of numbers, each in 4 significant digits."""
    if isinstance(a, np.ndarray):
        a = a.tolist()
    if isinstance(a, list):
        return "[" + ", ".join(_values(v) for v in a) + "]"
    return number_text(a)


NON_FINITE = ("nan", "inf", "-inf")


def tensor_stats(a: np.ndarray) -> dict[str, float | int]:
    """mean, std, min and max of the finite entries (in float64: float32 sums lose digits),
    then how many entries are nan, inf or -inf, where there are any: a causal mask's -inf
    entries are counted ({'mean': ..., '-inf': 16}) rather than making every stat nan."""
    wide = np.asarray(a).astype(np.float64, copy=False).ravel()
    finite = np.isfinite(wide)
    kept = wide if finite.all() else wide[finite]
    stats: dict[str, float | int] = {}
    if kept.size:
        stats.update(mean=kept.mean(), std=kept.std(), min=kept.min(), max=kept.max())
    if kept.size < wide.size:
        counts = (np.isnan(wide).sum(), (wide == np.inf).sum(), (wide == -np.inf).sum())
        stats.update((name, int(n)) for name, n in zip(NON_FINITE, counts) if n)
    return stats


def stats_lines(stats: dict[str, float | int]) -> list[str]:
    """tensor_stats as the lines a record shows: 'mean 1 std 0', 'min 1 max 1', '16 -inf'."""
    s = {k: number_text(v) for k, v in stats.items() if k not in NON_FINITE}
    lines = [f"mean {s['mean']} std {s['std']}", f"min {s['min']} max {s['max']}"] if s else []
    counts = [f"{stats[k]:,} {k}" for k in NON_FINITE if k in stats]
    return lines + ([", ".join(counts)] if counts else [])


def _summary(name: str, a: np.ndarray) -> str:
    """'data [1, 2]' for a small array, else 'data' beside its stats, one line each."""
    if a.size <= SMALL_TENSOR:
        return _cell(f"{name} {_values(a)}")
    return _group([_cell(name), _group([_cell(line) for line in stats_lines(tensor_stats(a))])])


def is_tensor(node: Any) -> bool:
    """Whether a node holds an array (a Tensor: its data an ndarray, or a Tensor itself)
    rather than one number (a Value, micrograd's or ours)."""
    return not isinstance(node.data, numbers.Number)


def node_grad(node: Any) -> Any:
    """A node's gradient as it holds it now: a Tensor's own grad (a Tensor, or None), read
    without PyTorch's warning about the .grad of interior tensors; a Value's float."""
    if is_tensor(node) and hasattr(node, "_grad"):
        return node._grad
    return node.grad


def set_node_grad(node: Any, grad: Any) -> None:
    """Set a node's gradient: for a Tensor an array (copied) or None, or a grad Tensor as
    node_grad gave it (kept as it is); a float for a Value."""
    if is_tensor(node) and hasattr(node, "_grad"):
        if grad is not None and not isinstance(grad, graph.Node):
            from engine.tensor import Tensor  # (a Parameter's grad is a plain Tensor)
            grad = Tensor(np.array(grad))
        node._grad = grad
    else:
        node.grad = grad


def is_released(node: Any) -> bool:
    """Whether backward() has let go of the graph behind this node (a Tensor's, as PyTorch
    does unless retain_graph=True): it keeps its op's name but no longer its parents."""
    return getattr(node, "_rule", None) is graph._released


# What a picture shows in front of such a node, where its parents would be drawn.
RELEASED = ("the graph behind this node was released by backward()",
            "draw it before backward(), or call backward(retain_graph=True)")


def _label(node: Any, name: str, kind: str, show_grad: bool, rankdir: str) -> str:
    """A node's record: name | data | grad for a Value; a Tensor's name beside a stack of
    shape and dtype, data and grad; a constant's value alone."""
    if kind == "constant":
        fields = [_cell(_values(np.asarray(node.data)))]
    elif is_tensor(node):
        data = np.asarray(node.data)
        stack = [_cell(f"{'scalar' if data.ndim == 0 else data.shape} {data.dtype}"),
                 _summary("data", data)]
        grad = node_grad(node) if show_grad else None
        if grad is not None:
            stack.append(_summary("grad", np.asarray(grad)))
        fields = [_group(stack)]
    else:
        fields = [_cell(f"data {number_text(node.data)}")]
        if show_grad:
            fields.append(_cell(f"grad {number_text(node.grad)}"))
    if name:
        fields.insert(0, _cell(name))
    row = " | ".join(fields)
    # left-right layouts turn a record's direction, so one more pair of braces turns it back
    return _group([row]) if rankdir in ("LR", "RL") else row


def node_names(nodes: list, params: Any = None) -> list[str]:
    """Each node's name as pictures and pages show it: its name in `params` (see
    draw_dot) for a parameter, else its label as text ('' for none: micrograd's Values
    carry no label)."""
    names = parameter_names(params)
    return [names.get(id(node)) or label_text(getattr(node, "label", None)) for node in nodes]


def node_kind(node: Any, name: str, is_root: bool, is_parameter: bool) -> str:
    """Which of KINDS a node is drawn as: its role in the graph."""
    if is_root:
        return "root"
    if is_parameter:
        return "parameter"
    if node._prev or is_released(node):
        return "value"
    if getattr(node, "requires_grad", True):  # a Value's is always True; micrograd's has none
        return "grad_input"
    if not name and np.size(node.data) == 1:
        return "constant"  # a bare number the code wrote, e.g. the 2 in `x * 2`
    return "input"


def parameter_names(params: Any) -> dict[int, str]:
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
            names[id(p)] = label_text(name)
    except (TypeError, ValueError):
        raise TypeError("params takes a Module (anything with named_parameters()), a dict "
                        "{name: parameter}, or (name, parameter) pairs; got "
                        f"{type(params).__name__}") from None
    return names


def breadth_first(root: Any) -> list:
    """Every node `root` depends on, nearest first, each once: the order in which draw_dot
    (and viz.explore) keep nodes, so `[:max_nodes]` of it is what they draw."""
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


def check_graph_args(root: Any, max_nodes: Any, caller: str, rankdir: str = "LR") -> None:
    """A TypeError unless `root` looks like a graph node, a ValueError for a bad max_nodes
    or rankdir."""
    missing = [a for a in ("data", "_prev", "_op") if not hasattr(root, a)]
    if missing:
        raise TypeError(f"{caller} takes a graph node (a Value or a Tensor), got "
                        f"{type(root).__name__}, which has no {', '.join(missing)}")
    if max_nodes is not None and (not isinstance(max_nodes, int) or max_nodes < 1):
        raise ValueError(f"max_nodes must be a positive int or None, got {max_nodes!r}")
    if rankdir not in RANKDIRS:
        raise ValueError(f"rankdir must be one of {', '.join(RANKDIRS)}, got {rankdir!r}")


def draw_dot(root: Any, format: str = "svg", rankdir: str = "LR", *, show_grad: bool = True,
             max_nodes: int | None = 500, params: Any = None) -> Digraph:
    """The computation graph ending at `root` (a Value or a Tensor) as a graphviz Digraph.

    format: what `pipe()`, `render()` and Jupyter produce, 'svg' or 'png' (others need
        system Graphviz); format and rankdir come first, as in micrograd's draw_dot.
    rankdir: 'LR' (inputs left, output right), 'TB', 'RL' or 'BT'.
    show_grad: also show gradients. A Tensor shows one only once backward has filled it,
        which for an interior tensor takes `retain_grad()` (`keep_grads(root)` below
        calls it on all of them).
    max_nodes: keep the nodes nearest the root, the rest become one "N more nodes" marker;
        None draws every node. Past LARGE (1,000) nodes, edges are straight and the
        layout effort bounded, so that dot finishes in seconds.
    params: a model's parameters and their names — a Module (anything with
        `named_parameters()`), a dict {name: parameter}, or (name, parameter) pairs. Only
        these are drawn as parameters, under these names; other nodes show their `label`.

    Colours, explained by a legend, say each node's role: the root gold and bold;
    parameters green; other leaves that require grad (every Value leaf, and Tensors like
    an input whose gradient you want) lilac; inputs that need no grad blue; constants grey
    and dashed (unnamed one-number Tensors that need no grad, like the 2 in `x ** 2`);
    ops small grey ovals. A node whose graph backward() released (every Tensor node, unless
    `backward(retain_graph=True)`) is drawn with a dashed box in front saying so.

    The result displays itself in Jupyter, and its `.pipe()`, `.render()` and `.view()`
    work without system Graphviz; `viz.render(root, path)` writes a file in one call.
    """
    check_graph_args(root, max_nodes, "draw_dot", rankdir)
    if format not in graphviz.FORMATS:
        raise ValueError(f"format must be an output format such as 'svg' or 'png', got "
                         f"{format!r}" + (" (rankdir is the third argument: pass rankdir=...)"
                                          if format in RANKDIRS else ""))
    params_by_id = parameter_names(params)

    nodes = breadth_first(root)
    kept = nodes[:max_nodes]
    names = node_names(kept, params)
    index = {id(node): i for i, node in enumerate(kept)}
    graph_attr = {"rankdir": rankdir, **GRAPH_ATTR}
    if len(kept) > LARGE:
        graph_attr.update(FAST_LAYOUT)
    title = f"computation graph of {names[0]}" if names[0] else "computation graph"
    dot = Digraph(name=_plain(title), filename="graph.gv", format=format,
                  graph_attr=graph_attr, node_attr=NODE_ATTR, edge_attr=EDGE_ATTR)
    kinds, cut_into, released = set(), [], []
    for i, (node, name) in enumerate(zip(kept, names)):
        kind = node_kind(node, name, i == 0, id(node) in params_by_id)
        kinds.add(kind)
        dot.node(f"v{i}", _label(node, name, kind, show_grad, rankdir), **KINDS[kind][0])
        if is_released(node):
            released.append(i)
        elif not node._prev:
            continue
        op = OP_NAMES.get(node._op, node._op)
        dot.node(f"op{i}", _plain(op), **OP_ATTR)
        dot.edge(f"op{i}", f"v{i}")
        for parent in node._prev:
            j = index.get(id(parent))
            if j is None:
                cut_into.append(i)
            else:
                dot.edge(f"v{j}", f"op{i}")
    for marker, text, into in (("cut", f"{len(nodes) - len(kept):,} more nodes", cut_into),
                               ("released", "\\n".join(RELEASED), released)):
        if into:
            dot.node(marker, text, **CUT_ATTR)
            for i in dict.fromkeys(into):  # one edge per op, in order
                dot.edge(marker, f"op{i}", **CUT_EDGE_ATTR)
    has_ops = any(node._prev or is_released(node) for node in kept)
    dot.node("legend", _legend(kinds, has_ops), shape="plaintext", fontsize="10")
    return dot


def keep_grads(root: Any) -> Any:
    """Have `root`'s next backward() keep the gradient of every tensor in its graph, and
    return `root`: `viz.keep_grads(loss).backward(retain_graph=True)`, then draw_dot(loss)
    shows every gradient and the whole graph.

    A Tensor graph keeps only its leaves' gradients, as PyTorch's does; this calls
    `retain_grad()` on each interior tensor that requires grad. Values keep every gradient
    anyway, so their graphs are left as they are.
    """
    check_graph_args(root, None, "keep_grads")
    if is_released(root):
        raise ValueError("keep_grads needs the graph behind its root, and backward() has "
                         "released this one (and kept no interior gradient): build the graph "
                         "again and call keep_grads before backward(retain_graph=True)")
    for node in breadth_first(root):
        if node._prev and hasattr(node, "retain_grad"):  # Values have no such method
            node.retain_grad()
    return root
