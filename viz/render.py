"""Graphs to files: `render` writes .svg, .png, .pdf or .dot, laid out by viz.layout.

Only the requested file is written. When no layout program can draw it, the graph's DOT
source is saved beside it instead (the error says where), so the work is not lost and
the picture can be made once a program is installed.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import graphviz

from engine.atomic import check_writable, write_bytes
from viz.dot import draw_dot
from viz.layout import MAX_PIXELS, layout

FORMATS = {".dot": None, ".svg": "svg", ".png": "png", ".pdf": "pdf"}


def _check_path(path: Path) -> str | None:
    """The format `path` asks for (None for .dot), or a clear error about the path."""
    suffix = path.suffix.lower()
    if suffix not in FORMATS:
        got = f"got {suffix!r}" if suffix else "it has none"
        raise ValueError(f"cannot tell which format to write to {path}: the suffix must be "
                         f"one of {', '.join(FORMATS)}; {got}")
    check_writable(path)
    return FORMATS[suffix]


def render(graph: Any, path: str | os.PathLike, *, timeout: float = 60.0,
           max_pixels: int | None = MAX_PIXELS, **draw_options: Any) -> Path:
    """Write `graph` (a Value, a Tensor, or a graphviz graph) to `path`; return the path.

    The suffix picks the format: .svg, .png, .pdf (needs system Graphviz), or .dot (the
    source, no layout program needed). `draw_options` go to `draw_dot` (rankdir,
    show_grad, max_nodes, params).
    timeout: seconds each layout program may run (system `dot`, then graphviz-pure).
    max_pixels: a PNG's longest side; a bigger drawing is scaled down to fit (None: full
        size). SVG and PDF are always full size: they zoom without losing detail.
    When layout fails, the .dot source is saved next to `path` and the error says so.
    """
    path = Path(path)
    fmt = _check_path(path)
    if isinstance(graph, (graphviz.Digraph, graphviz.Graph, graphviz.Source)):
        if draw_options:
            raise TypeError(f"render got a finished Digraph and draw options "
                            f"{sorted(draw_options)}; pass the root node to apply them")
        source = graph.source
    else:
        source = draw_dot(graph, **draw_options).source
    if fmt is None:
        return write_bytes(path, source.encode("utf-8"))
    try:
        image = layout(source, fmt, timeout, max_pixels=max_pixels)
    except (RuntimeError, TimeoutError) as e:  # RendererNotFound is a RuntimeError
        dot_path = path.with_suffix(".dot")
        write_bytes(dot_path, source.encode("utf-8"))
        raise type(e)(f"{e}. The graph is saved in {dot_path} for when a layout program can "
                      f"draw it (dot -T{fmt} {dot_path} -o {path})") from None
    return write_bytes(path, image)
