"""How fast graphs become pictures: draw_dot on a 60,000-node graph, full SVG of 2,000 nodes.

1. draw_dot with max_nodes=500 on the loss graph of micrograd's demo step (MLP(2, [16, 16,
   1]), hinge loss on 100 points + L2, about 65,000 Values); target under 0.5 s. Alternated
   with micrograd's recursive draw_dot (from its trace_graph notebook), which draws every
   node, on the same graph and on a 60,000-op chain, where its recursion gives out.
2. draw_dot and layout to SVG, every node drawn, of two graphs of about 2,000 nodes: the
   demo's hinge loss on 3 points, and on 2 points with the L2 term, a 337-long chain fed
   by every weight, whose long edges are what slows dot down (draw_dot's fast layout past
   1,000 nodes keeps it to seconds); target 10 s. Each layout program present (system
   Graphviz `dot`, `graphviz-pure`) runs in turn.

    python -m bench.viz
    python -m bench.viz --rounds 3
"""
from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import time
from typing import Any, Callable

from graphviz import Digraph

from engine import Value, topological_order
from viz import draw_dot
from viz.examples import demo_loss
from viz.layout import find_graphviz_pure, layout


def micrograd_draw_dot(root: Any, format: str = "svg", rankdir: str = "LR") -> Digraph:
    """micrograd's draw_dot, as in its trace_graph notebook: a recursive trace, every node."""
    nodes, edges = set(), set()

    def build(v: Any) -> None:
        if v not in nodes:
            nodes.add(v)
            for child in v._prev:
                edges.add((child, v))
                build(child)
    build(root)
    dot = Digraph(format=format, graph_attr={"rankdir": rankdir})
    for n in nodes:
        uid = str(id(n))
        dot.node(name=uid, label="{ data %.4f | grad %.4f }" % (n.data, n.grad), shape="record")
        if n._op:
            dot.node(name=uid + n._op, label=n._op)
            dot.edge(uid + n._op, uid)
    for n1, n2 in edges:
        dot.edge(str(id(n1)), str(id(n2)) + n2._op)
    return dot


def timed(fn: Callable[[], Any]) -> tuple[float, str]:
    """Seconds one call takes, and 'ok' or the error that stopped it."""
    start = time.perf_counter()
    try:
        fn()
        outcome = "ok"
    except (RecursionError, TimeoutError) as e:
        outcome = f"{type(e).__name__}: {e}"
    return time.perf_counter() - start, outcome


def interleaved(runs: dict[str, Callable[[], Any]], rounds: int,
                target: Callable[[str], float | None]) -> dict[str, float]:
    """Time each run `rounds` times, taking turns so machine drift hits all alike; report."""
    times: dict[str, list[float]] = {name: [] for name in runs}
    outcomes = {}
    for _ in range(rounds):
        for name, fn in runs.items():
            seconds, outcomes[name] = timed(fn)
            times[name].append(seconds)
    medians = {}
    for name in runs:
        med = medians[name] = statistics.median(times[name])
        goal = target(name)
        verdict = f"  target < {goal:g} s: {'met' if med < goal else 'MISSED'}" if goal else ""
        print(f"  {name:<62} median {med:7.3f} s  (range {min(times[name]):.3f}-"
              f"{max(times[name]):.3f}, n={rounds})  {outcomes[name]}{verdict}")
    return medians


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.viz", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=7, help="timed runs of each (default 7)")
    parser.add_argument("--timeout", type=float, default=300.0,
                        help="seconds to allow one layout (default 300)")
    args = parser.parse_args(argv)
    print("command:", "python -m bench.viz", *(argv if argv is not None else sys.argv[1:]))

    loss = demo_loss(100)
    chain = Value(0.0)
    for _ in range(60_000):
        chain = chain + 1.0
    print(f"1. draw_dot (graph -> Digraph): demo loss {len(topological_order(loss)):,} nodes, "
          f"chain {len(topological_order(chain)):,} nodes, recursion limit "
          f"{sys.getrecursionlimit()}")
    ours, theirs = "ours, demo loss, max_nodes=500", "micrograd draw_dot, demo loss (all nodes)"
    med = interleaved({
        ours: lambda: draw_dot(loss, max_nodes=500),
        theirs: lambda: micrograd_draw_dot(loss),
        "ours, 60,000-op chain, max_nodes=500": lambda: draw_dot(chain, max_nodes=500),
        "micrograd draw_dot, 60,000-op chain": lambda: micrograd_draw_dot(chain),
    }, args.rounds, lambda name: 0.5 if name.startswith("ours") else None)
    print(f"  micrograd's full draw / ours on the demo loss: {med[theirs] / med[ours]:.1f}x "
          "(theirs draws every node: a picture nobody can lay out or read)")

    programs = {"dot": shutil.which("dot"), "graphviz-pure": find_graphviz_pure()}
    print("2. draw_dot + layout to SVG, every node drawn (max_nodes=None):",
          ", ".join(f"{name} = {path}" for name, path in programs.items()))
    graphs = {"demo hinge loss, 3 points": demo_loss(3, l2=False),
              "demo hinge loss, 2 points, + L2 of 337 weights": demo_loss(2)}

    def full_render(root: Value, program: str) -> bytes:
        return layout(draw_dot(root, max_nodes=None).source, "svg", args.timeout, program)

    interleaved({f"{name} ({len(topological_order(root)):,} nodes), {prog}":
                 lambda root=root, path=path: full_render(root, path)
                 for name, root in graphs.items()
                 for prog, path in programs.items() if path},
                max(3, args.rounds // 2), lambda name: 10)

if __name__ == "__main__":
    main()
