"""Computation graphs as pictures: `draw_dot` builds a graphviz Digraph, `render` writes a file,
`keep_grads(loss)` before `loss.backward(retain_graph=True)` keeps every gradient to show.

Inside: dot.py draws, layout.py finds and runs the layout program, render.py writes files,
explore.py (with explore.js) writes a page that steps through backprop node by node,
examples.py builds the example graphs that `python -m viz` and demos.graph draw.
"""
import sys

try:
    import graphviz  # noqa: F401  (a dependency of the package; checked here for a clear message)
except ImportError as e:  # most often: a Python other than the venv the README sets up
    raise ImportError(
        f"viz needs the `graphviz` Python package, and this Python ({sys.executable}) does "
        "not have it. Installing scratchgrad brings it: run the venv's Python that the "
        "README's commands set up (.venv/bin/python, or `source .venv/bin/activate` first), "
        "or install into this one with `pip install -e .` in the checkout") from e

from viz.dot import draw_dot, keep_grads  # noqa: E402
from viz.explore import explore  # noqa: E402
from viz.layout import LayoutTooSlow, RendererNotFound  # noqa: E402
from viz.render import render  # noqa: E402

__all__ = ["draw_dot", "keep_grads", "render", "explore", "RendererNotFound",
           "LayoutTooSlow"]
