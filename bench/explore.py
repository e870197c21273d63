"""How fast explorer pages are: writing one for a 500-node graph, and each step in Chromium.

1. `viz.explore(root, path)` with max_nodes=500 on two scalar graphs of micrograd's demo
   (MLP(2, [16, 16, 1]) hinge loss): on one point (982 nodes) and on 100 points with L2
   (about 65,000 nodes, most past the cut); each layout program present (system Graphviz
   `dot`, `graphviz-pure`) in turn. Target: under 2 s.
2. The 100-point page in headless system Chromium (Playwright, no browser download): for
   every forward step and every backward step (or the first `--steps` of each), the time
   `explorer.go(step + 1)` takes in JavaScript, and the time until the frame after it is
   painted, less an idle frame measured just before. Target: each step under 50 ms.

    python -m bench.explore
    python -m bench.explore --rounds 5 --steps 100

(The README's picture of a page is docs/explore.png, which `python docs/images.py` makes.)
"""
from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from viz.examples import demo_loss
from demos._common import number
from engine import Value, topological_order
from viz.browser import NoBrowser, find_chromium, headless_chromium
from viz.explore import explore

MAX_NODES = 500

# In the page: time `steps` steps from `start`, each as the JavaScript of the step and the
# time until the frame after it, and an idle frame before each as the baseline.
MEASURE = """async ([start, steps]) => {
  const frame = () => new Promise((r) => requestAnimationFrame(() => setTimeout(r, 0)));
  explorer.go(start);
  await frame();
  const js = [], painted = [], idle = [];
  for (let k = 0; k < steps && explorer.step < explorer.total; k++) {
    let t0 = performance.now();
    await frame();
    idle.push(performance.now() - t0);
    t0 = performance.now();
    explorer.go(explorer.step + 1);
    js.push(performance.now() - t0);
    await frame();
    painted.push(performance.now() - t0);
  }
  return { js, painted, idle };
}"""


def write_times(graphs: dict[str, Value], folder: Path, rounds: int) -> dict[str, Path]:
    """Time explore() writing each graph's page with each layout program; the pages written."""
    programs = {"dot": os.environ["PATH"]} if shutil.which("dot") else {}
    programs["graphviz-pure"] = ""  # no PATH: no dot; graphviz-pure is found beside python
    pages = {}
    for k, (name, root) in enumerate(graphs.items()):
        pages[name] = folder / f"page{k}.html"
        for program, path_var in programs.items():
            times = []
            for _ in range(rounds):
                saved, os.environ["PATH"] = os.environ["PATH"], path_var
                try:
                    start = time.perf_counter()
                    page = explore(root, pages[name], max_nodes=MAX_NODES)
                    times.append(time.perf_counter() - start)
                finally:
                    os.environ["PATH"] = saved
            med = statistics.median(times)
            print(f"  {name}, {program:<13} median {med:6.3f} s (range {min(times):.3f}-"
                  f"{max(times):.3f}, n={rounds}), {len(page.html) / 1e6:.2f} MB, "
                  f"{len(page.recording.backward)} backward steps; target < 2 s: "
                  f"{'met' if med < 2 else 'MISSED'}")
    return pages


def percentile(values: list[float], q: float) -> float:
    return sorted(values)[min(len(values) - 1, int(q * len(values)))]


def step_stats(times: dict[str, list[float]]) -> str:
    """MEASURE's times in a line: the JavaScript, and to the painted frame less an idle one."""
    idle = statistics.median(times["idle"])
    painted = [t - idle for t in times["painted"]]
    js = times["js"]
    return (f"JavaScript median {statistics.median(js):5.1f} ms, max {max(js):5.1f} ms; to the "
            f"painted frame, less an idle frame ({idle:.1f} ms): median "
            f"{statistics.median(painted):5.1f} ms, 95th percentile "
            f"{percentile(painted, 0.95):5.1f} ms, max {max(painted):5.1f} ms; target < 50 ms "
            f"for each step: {'met' if max(painted) < 50 else 'MISSED'}")


def step_times(browser: Any, page_path: Path, steps: int) -> None:
    """Print per-step times of the page in the browser, forward and backward."""
    context = browser.new_context(viewport={"width": 1400, "height": 800})
    page = context.new_page()
    page.goto(page_path.resolve().as_uri())
    total = page.evaluate("explorer.total")
    forward = total - page.evaluate(
        "JSON.parse(document.getElementById('explore-data').textContent).steps"
        ".filter(s => s.kind === 'backward').length")
    for phase, start, count in (("forward", 0, forward), ("backward", forward, total - forward)):
        times = page.evaluate(MEASURE, [start, min(steps, count)])
        print(f"  {phase:<8} {len(times['js'])} steps: {step_stats(times)}")
    context.close()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.explore", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=number(int, 1), default=3,
                        help="timed writes of each (default 3)")
    parser.add_argument("--steps", type=number(int, 1), default=10**9,
                        help="steps timed in each phase in the browser (default: all)")
    args = parser.parse_args(argv)
    print("command:", "python -m bench.explore", *(argv if argv is not None else sys.argv[1:]))

    graphs = {f"demo loss, {points} point{'s' if points > 1 else ''}"
              f"{' + L2' if l2 else ''} ({len(topological_order(root)):,} nodes)": root
              for points, l2 in ((1, False), (100, True)) for root in [demo_loss(points, l2)]}
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        print(f"1. explore(root, path), max_nodes={MAX_NODES}")
        pages = write_times(graphs, folder, args.rounds)

        try:
            with headless_chromium() as browser:
                name = list(pages)[-1]
                print(f"2. stepping in headless {browser.version} ({find_chromium()}): {name}")
                step_times(browser, pages[name], args.steps)
        except NoBrowser as e:
            sys.exit(f"2. skipped: {e}")


if __name__ == "__main__":
    main()
