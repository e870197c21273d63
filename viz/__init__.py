"""Computation graphs as pictures: `draw_dot` builds a graphviz Digraph, `render` writes a file."""
from viz.dot import draw_dot
from viz.render import RendererNotFound, render

__all__ = ["draw_dot", "render", "RendererNotFound"]
