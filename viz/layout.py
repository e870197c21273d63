"""Layout programs: which one is installed, and DOT source laid out and drawn by it.

The programs are Graphviz's `dot` when it is on PATH, then `graphviz-pure` (a pip package,
declared as a dependency, with dot's command line and no system libraries) on PATH or in
the Python environment's scripts folder, since people often run a virtualenv's python
without activating it. graphviz-pure writes SVG and PNG but not PDF, so PDF needs Graphviz
itself. When `dot` fails or runs out of time on a graph, graphviz-pure gets its turn: on
very large graphs it is often the faster of the two.

Layout time grows much faster than the graph, so before starting on a big one `layout`
says how big it is and what that may cost, and one that would run for many minutes is
refused up front, with the same advice, unless the caller allows the time.
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import sysconfig

NEEDS_GRAPHVIZ = {"pdf"}  # formats graphviz-pure cannot write
PNG_DPI = 144  # twice the screen default, so text stays sharp on a slide
MAX_PIXELS = 4000  # a PNG's longest side by default: bigger ones make image viewers balk
INSTALL_HINT = ("install one: `pip install graphviz-pure` (no system packages needed), or "
                "Graphviz itself (apt install graphviz, brew install graphviz, "
                "conda install graphviz, or https://graphviz.org/download/)")


# Layout time against the number of nodes drawn (records and ops) of micrograd's demo loss,
# every node drawn, dot / graphviz-pure on the project's 2-core machine: 1,600 nodes 0.4 /
# 0.3 s; 4,200 nodes 2.4 / 0.7 s; 8,100 nodes 18 / 4 s; 15,800 nodes over 200 s with both.
QUIET_NODES = 4_000  # up to this many nodes, seconds at most: nothing to say
SLOW_NODES = 10_000  # past this many, many minutes: refused unless timeout allows that much
SLOW_TIMEOUT = 300.0
SMALLER = "max_nodes=2000 draws the 2,000 nodes nearest the output in seconds"
_NAME = r"(\w+|\"(?:[^\"\\]|\\.)*\")"  # a DOT id: a word, or a quoted string
_NODE = re.compile(rf"^\s*{_NAME}\s*\[", re.MULTILINE)
_EDGE = re.compile(rf"^\s*{_NAME}\s*-[->]", re.MULTILINE)


class RendererNotFound(RuntimeError):
    """No layout program can write the requested format."""


class LayoutTooSlow(TimeoutError):
    """A graph so large that laying it out would take longer than the caller allows."""


def graph_size(source: str) -> tuple[int, int]:
    """How many node and edge statements DOT source has (each on a line of its own, as
    graphviz writes them)."""
    nodes = [name for name in _NODE.findall(source) if name not in ("graph", "node", "edge")]
    return len(nodes), len(_EDGE.findall(source))


def announce(source: str, timeout: float) -> None:
    """Say on stderr, before a big layout starts, how big it is and what it may cost; raise
    LayoutTooSlow, before any work, for one that would take longer than `timeout` allows."""
    nodes, edges = graph_size(source)
    if nodes <= QUIET_NODES:
        return
    size = f"{nodes:,} nodes and {edges:,} edges"
    if nodes > SLOW_NODES and timeout < SLOW_TIMEOUT:
        raise LayoutTooSlow(
            f"a graph of {size} can take many minutes to lay out (15,800 nodes ran past 200 "
            f"s here), more than timeout={timeout:g} s allows: draw fewer nodes ({SMALLER}), "
            f"or allow the time (timeout={SLOW_TIMEOUT:g} or more) to try anyway")
    cost = "many minutes" if nodes > SLOW_NODES else "a minute"
    print(f"viz: laying out {size}, which can take up to {cost} (each layout program gets "
          f"{timeout:g} s); {SMALLER}", file=sys.stderr, flush=True)


def _scripts_dirs() -> list[str]:
    """Where pip puts commands for this Python: beside the interpreter, then sysconfig's."""
    dirs = [os.path.dirname(sys.executable), sysconfig.get_path("scripts"),
            sysconfig.get_path("scripts", f"{os.name}_user")]
    return list(dict.fromkeys(d for d in dirs if d))


def find_graphviz_pure() -> str | None:
    """Path of the graphviz-pure command, on PATH or where pip put it, or None."""
    return shutil.which("graphviz-pure") or shutil.which(
        "graphviz-pure", path=os.pathsep.join(_scripts_dirs()))


def find_programs(fmt: str = "svg") -> list[str]:
    """Paths of the programs that can lay out a graph as `fmt`, best first: dot, graphviz-pure.

    Raises RendererNotFound, saying what to install, when there is none.
    """
    programs = [p for p in (shutil.which("dot"),
                            None if fmt in NEEDS_GRAPHVIZ else find_graphviz_pure()) if p]
    if programs:
        return programs
    if fmt in NEEDS_GRAPHVIZ:
        raise RendererNotFound(
            f"{fmt.upper()} output needs Graphviz's `dot`, which is not on PATH "
            "(graphviz-pure writes SVG and PNG but not PDF): install Graphviz (apt install "
            "graphviz, brew install graphviz, conda install graphviz), or ask for .svg/.png")
    raise RendererNotFound(
        "no layout program found: Graphviz's `dot` is not on PATH and `graphviz-pure` is "
        f"neither on PATH nor in {', '.join(_scripts_dirs())}; {INSTALL_HINT}")


def _run(program: str, source: str, fmt: str, timeout: float, max_pixels: int | None) -> bytes:
    """One program's drawing of `source` as `fmt`; TimeoutError or RuntimeError on failure."""
    args = [program, f"-T{fmt}"]
    if fmt == "png":
        args.append(f"-Gdpi={PNG_DPI}")
        if max_pixels is not None:  # dot scales a drawing down (never up) to fit `size` inches
            inches = max_pixels / PNG_DPI
            args.append(f"-Gsize={inches:.4f},{inches:.4f}")
    try:
        done = subprocess.run(args, input=source.encode("utf-8"), capture_output=True,
                              timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        raise TimeoutError(f"{program} took more than {timeout:g} s to lay out the graph"
                           ) from None
    if done.returncode != 0:
        raise RuntimeError(f"{program} -T{fmt} failed (exit {done.returncode}): "
                           f"{done.stderr.decode('utf-8', 'replace').strip()}")
    return done.stdout


def layout(source: str, fmt: str, timeout: float = 60.0, program: str | None = None,
           max_pixels: int | None = MAX_PIXELS) -> bytes:
    """DOT `source` laid out and drawn as `fmt` ('svg', 'png', 'pdf').

    program: a command with dot's flags; by default each of `find_programs(fmt)` in turn,
        the next one trying when one fails or takes more than `timeout` seconds.
    max_pixels: a PNG's longest side, the drawing scaled down to fit; None for full size.
    A graph of more than QUIET_NODES nodes is announced on stderr first; one of more than
    SLOW_NODES is refused (LayoutTooSlow) unless timeout is at least SLOW_TIMEOUT.
    """
    if max_pixels is not None and (not isinstance(max_pixels, int) or max_pixels < 1):
        raise ValueError(f"max_pixels must be a positive int or None, got {max_pixels!r}")
    programs = [program] if program else find_programs(fmt)
    announce(source, timeout)
    failures = []
    for candidate in programs:
        try:
            return _run(candidate, source, fmt, timeout, max_pixels)
        except (TimeoutError, RuntimeError) as e:
            failures.append(e)
    message = "; then ".join(map(str, failures))
    if isinstance(failures[-1], TimeoutError):
        message += "; draw fewer nodes (max_nodes=...) or allow more time (timeout=...)"
    raise type(failures[-1])(message)
