"""Layout programs: which one is installed, and DOT source laid out and drawn by it.

The programs are Graphviz's `dot` when it is on PATH, then `graphviz-pure` (a pip package,
declared as a dependency, with dot's command line and no system libraries) on PATH or in
the Python environment's scripts folder, since people often run a virtualenv's python
without activating it. graphviz-pure writes SVG and PNG but not PDF, so PDF needs Graphviz
itself. When `dot` fails or runs out of time on a graph, graphviz-pure gets its turn: on
very large graphs it is often the faster of the two.
"""
from __future__ import annotations

import os
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
    """
    if max_pixels is not None and (not isinstance(max_pixels, int) or max_pixels < 1):
        raise ValueError(f"max_pixels must be a positive int or None, got {max_pixels!r}")
    programs = [program] if program else find_programs(fmt)
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
