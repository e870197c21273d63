"""Graphs to files: `render` writes .dot, .svg, .png or .pdf, finding a layout program.

The layout program is Graphviz's `dot` when it is on PATH, else `graphviz-pure` (a pip
package, declared as a dependency, with dot's command line and no system libraries) on
PATH or in the Python environment's scripts folder, since people often run a virtualenv's
python without activating it. graphviz-pure writes SVG and PNG but not PDF, so PDF needs
Graphviz itself. The graph's .dot source is written next to the requested file before any
layout runs, so it survives a missing or failing program.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path
from typing import Any

import graphviz

from engine.atomic import atomic_write
from viz.dot import draw_dot

FORMATS = {".dot": None, ".svg": "svg", ".png": "png", ".pdf": "pdf"}
NEEDS_GRAPHVIZ = {"pdf"}  # formats graphviz-pure cannot write
PNG_DPI = "144"  # twice the screen default, so text stays sharp on a slide
INSTALL_HINT = ("install one: `pip install graphviz-pure` (no system packages needed), or "
                "Graphviz itself (apt install graphviz, brew install graphviz, "
                "conda install graphviz, or https://graphviz.org/download/)")


class RendererNotFound(RuntimeError):
    """No layout program can write the requested format."""


def _scripts_dirs() -> list[str]:
    """Where pip puts commands for this Python: beside the interpreter, then sysconfig's."""
    dirs = [os.path.dirname(sys.executable), sysconfig.get_path("scripts"),
            sysconfig.get_path("scripts", f"{os.name}_user")]
    return list(dict.fromkeys(d for d in dirs if d))


def find_graphviz_pure() -> str | None:
    """Path of the graphviz-pure command, on PATH or where pip put it, or None."""
    return shutil.which("graphviz-pure") or shutil.which(
        "graphviz-pure", path=os.pathsep.join(_scripts_dirs()))


def find_program(fmt: str = "svg") -> str:
    """Path of the program to lay out a graph as `fmt`: Graphviz's dot, else graphviz-pure."""
    dot = shutil.which("dot")
    if dot:
        return dot
    if fmt in NEEDS_GRAPHVIZ:
        raise RendererNotFound(
            f"{fmt.upper()} output needs Graphviz's `dot`, which is not on PATH "
            "(graphviz-pure writes SVG and PNG but not PDF): install Graphviz (apt install "
            "graphviz, brew install graphviz, conda install graphviz), or ask for .svg/.png")
    pure = find_graphviz_pure()
    if pure:
        return pure
    raise RendererNotFound(
        "no layout program found: Graphviz's `dot` is not on PATH and `graphviz-pure` is "
        f"neither on PATH nor in {', '.join(_scripts_dirs())}; {INSTALL_HINT}")


def layout(source: str, fmt: str, timeout: float = 60.0, program: str | None = None) -> bytes:
    """DOT `source` laid out and drawn as `fmt` ('svg', 'png', 'pdf') by `program`, a
    command with dot's flags (default: the one `find_program` finds)."""
    program = program or find_program(fmt)
    args = [program, f"-T{fmt}"] + ([f"-Gdpi={PNG_DPI}"] if fmt == "png" else [])
    try:
        done = subprocess.run(args, input=source.encode("utf-8"), capture_output=True,
                              timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        raise TimeoutError(f"{program} took more than {timeout:g} s to lay out the graph; "
                           "draw fewer nodes (max_nodes=...) or allow more time "
                           "(timeout=...)") from None
    if done.returncode != 0:
        raise RuntimeError(f"{program} -T{fmt} failed (exit {done.returncode}): "
                           f"{done.stderr.decode('utf-8', 'replace').strip()}")
    return done.stdout


def _write_atomic(path: Path, data: bytes) -> None:
    """Write `data` to `path` all at once, or raise an OSError naming the path."""
    try:
        with atomic_write(path) as f:
            f.write(data)
    except OSError as e:
        raise type(e)(f"cannot write {path}: {e.strerror or e}") from e


def _check_path(path: Path) -> str | None:
    """The format `path` asks for (None for .dot), or a clear error about the path."""
    suffix = path.suffix.lower()
    if suffix not in FORMATS:
        got = f"got {suffix!r}" if suffix else "it has none"
        raise ValueError(f"cannot tell which format to write to {path}: the suffix must be "
                         f"one of {', '.join(FORMATS)}; {got}")
    folder = path.parent
    if not folder.is_dir():
        raise FileNotFoundError(f"cannot write {path}: the folder {folder} does not exist "
                                "(create it first)")
    if path.is_dir():
        raise IsADirectoryError(f"cannot write {path}: it is a folder; give a file name")
    if not os.access(folder, os.W_OK):
        raise PermissionError(f"cannot write {path}: no permission to write in {folder}")
    return FORMATS[suffix]


def render(graph: Any, path: str | os.PathLike, *, timeout: float = 60.0,
           **draw_options: Any) -> Path:
    """Write `graph` (a Value, a Tensor, or a graphviz graph) to `path`; return the path.

    The suffix picks the format: .dot (no layout program needed), .svg, .png, .pdf.
    `draw_options` go to `draw_dot` (rankdir, show_grad, max_nodes, params). The .dot
    source is written next to `path` first, so it is there even when layout fails.
    `timeout`: seconds the layout program may run before it is stopped (TimeoutError).
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
    dot_path = path if fmt is None else path.with_suffix(".dot")
    _write_atomic(dot_path, source.encode("utf-8"))
    if fmt is None:
        return path
    try:
        image = layout(source, fmt, timeout)
    except RendererNotFound as e:
        raise RendererNotFound(f"{e}. The graph is saved in {dot_path} for when one is "
                               f"installed (dot -T{fmt} {dot_path} -o {path})") from None
    _write_atomic(path, image)
    return path
