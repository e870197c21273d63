"""One training step of micrograd's demo, on our engine and on micrograd 0.1.0, side by side.

The step is the one in micrograd's demo.ipynb: MLP(2, [16, 16, 1]) on 100 two-moons points,
max-margin loss + 1e-4 L2, forward, zero_grad, backward, SGD update. Each engine runs in a
fresh process with Python's garbage collector on, as the demo runs, and the processes
alternate so machine drift hits both alike. Both start from the same weights, so their
losses must agree step for step.

Also: a chain of a million ops, its backward time and peak memory; and what one node costs
in memory (tracemalloc) and in objects the garbage collector tracks.

    python -m bench.scalar_step            # needs `pip install -e ".[bench]"` for micrograd
    python -m bench.scalar_step --rounds 3 --steps 5
"""
from __future__ import annotations

import argparse
import gc
import json
import random
import resource
import statistics
import subprocess
import sys
import time
import tracemalloc

from demos.data import make_moons


def engine_classes(engine_name: str) -> tuple[type, type]:
    """The engine's Value and MLP classes: 'ours' or 'micrograd'."""
    if engine_name == "ours":
        from engine import Value
        from nn.scalar import MLP
    else:
        from micrograd.engine import Value
        from micrograd.nn import MLP
    return Value, MLP


def train(engine_name: str, steps: int, weights: list[float], X: list, y: list) -> dict:
    """micrograd's demo loop, timed per step (loss, zero_grad, backward, update)."""
    Value, MLP = engine_classes(engine_name)
    model = MLP(2, [16, 16, 1])
    for p, w in zip(model.parameters(), weights, strict=True):
        p.data = w

    def loss():
        inputs = [list(map(Value, xrow)) for xrow in X]
        scores = list(map(model, inputs))
        losses = [(1 + -yi * scorei).relu() for yi, scorei in zip(y, scores)]
        data_loss = sum(losses) * (1.0 / len(losses))
        reg_loss = 1e-4 * sum(p * p for p in model.parameters())
        return data_loss + reg_loss

    times, losses = [], []
    for k in range(steps):
        start = time.perf_counter()
        total_loss = loss()
        model.zero_grad()
        total_loss.backward()
        learning_rate = 1.0 - 0.9 * k / 100
        for p in model.parameters():
            p.data -= learning_rate * p.grad
        times.append(time.perf_counter() - start)
        losses.append(total_loss.data)
    return {"times": times, "losses": losses}


def chain(engine_name: str, n: int) -> dict:
    """Build y = x * 1 * 1 ... (n ops), backward; time it and measure peak memory."""
    Value, _ = engine_classes(engine_name)
    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    start = time.perf_counter()
    x = y = Value(1.0)
    for _ in range(n):
        y = y * 1.0
    built = time.perf_counter()
    try:
        y.backward()
    except RecursionError as e:
        return {"error": f"RecursionError: {e}"}
    done = time.perf_counter()
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - base
    assert x.grad == 1.0
    return {"build_s": built - start, "backward_s": done - built, "peak_mib": peak_kib / 1024}


def node_cost(engine_name: str, n: int) -> dict:
    """Bytes (tracemalloc) and GC-tracked objects per node of y = y * w + x, n ops."""
    Value, _ = engine_classes(engine_name)
    w, x = Value(0.5), Value(0.25)
    y = Value(1.0)
    tracked = len(gc.get_objects())
    tracemalloc.start()
    for _ in range(n // 2):
        y = y * w + x
    size = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    return {"bytes": size / n, "tracked": (len(gc.get_objects()) - tracked) / n}


def run_child(args: list[str]) -> dict:
    out = subprocess.run([sys.executable, "-m", "bench.scalar_step", *args],
                         check=True, capture_output=True, text=True)
    return json.loads(out.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=5, help="processes per engine")
    parser.add_argument("--steps", type=int, default=10, help="training steps per process")
    parser.add_argument("--chain", type=int, default=1_000_000, help="ops in the chain (0: skip)")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--setup", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.child and args.child.startswith("chain-"):
        print(json.dumps(chain(args.child[len("chain-"):], args.chain)))
        return
    if args.child and args.child.startswith("nodes-"):
        print(json.dumps(node_cost(args.child[len("nodes-"):], 100_000)))
        return
    if args.child:
        setup = json.loads(args.setup)
        print(json.dumps(train(args.child, args.steps, **setup)))
        return

    X, y = make_moons(100, noise=0.1, seed=1)
    random.seed(1337)
    from nn.scalar import MLP
    weights = [p.data for p in MLP(2, [16, 16, 1]).parameters()]
    setup = json.dumps({"weights": weights, "X": X.tolist(), "y": (2 * y - 1).tolist()})

    print(f"micrograd demo step, MLP(2, [16, 16, 1]), 100 points, {args.steps} steps x "
          f"{args.rounds} processes per engine, alternating, GC on")
    medians = {"ours": [], "micrograd": []}
    losses = {}
    for _ in range(args.rounds):
        for name in medians:
            result = run_child(["--child", name, "--steps", str(args.steps), "--setup", setup])
            medians[name].append(statistics.median(result["times"]))
            losses[name] = result["losses"]
    for name, ms in medians.items():
        print(f"  {name:10s} median step {statistics.median(ms) * 1e3:7.1f} ms  "
              f"(process medians {min(ms) * 1e3:.1f} to {max(ms) * 1e3:.1f} ms)")
    ratio = statistics.median(medians["micrograd"]) / statistics.median(medians["ours"])
    best = min(medians["micrograd"]) / min(medians["ours"])
    print(f"  speed-up over micrograd: {ratio:.2f}x on medians, {best:.2f}x best vs best")
    diff = max(abs(a - b) / abs(b) for a, b in zip(losses["ours"], losses["micrograd"]))
    same = sum(a == b for a, b in zip(losses["ours"], losses["micrograd"]))
    print(f"  losses step for step: {same}/{len(losses['ours'])} bit-identical, largest relative "
          f"difference {diff:.1e} (micrograd sums gradients in set order, which varies by run)")
    print(f"  losses: {', '.join(f'{v:.6f}' for v in losses['ours'])}")

    if args.chain:
        for name in medians:
            c = run_child(["--child", f"chain-{name}", "--chain", str(args.chain)])
            print(f"  chain of {args.chain:,} ops, {name:10s}: " + (c["error"] if "error" in c else
                  f"build {c['build_s']:.2f} s, backward {c['backward_s']:.2f} s, "
                  f"peak memory +{c['peak_mib']:.0f} MiB"))
    for name in medians:
        c = run_child(["--child", f"nodes-{name}"])
        print(f"  one node of y = y * w + x, {name:10s}: {c['bytes']:.0f} bytes (tracemalloc), "
              f"{c['tracked']:.2f} objects the garbage collector tracks")
    print("rerun: python -m bench.scalar_step")


if __name__ == "__main__":
    main()
