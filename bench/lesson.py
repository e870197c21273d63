"""Benchmark: the lesson's full-batch forward + backward in engine.Tensor, numpy by hand, PyTorch.

The computation is the lesson's: x (50,000 x 784 float32) -> lin 784->50 -> relu -> lin
50->1 -> MSE against float targets, then every gradient, including the input's. Three
variants compute it:
  numpy   nn.manual.forward_and_backward, the hand-derived gradients (the floor to beat)
  engine  the same model (nn.manual.forward) on engine.Tensor autograd
  torch   the same model on PyTorch CPU autograd (skipped when PyTorch is not installed)
The data are uniform random float32 pixels in [0, 1) and random digit labels 0-9 as the
targets; the cost depends on the shapes only. Arrays are wrapped without copying
(`Tensor(x)`, `torch.from_numpy`), so no variant pays for conversion.

Time: the variants run interleaved in one process (the order rotating each round), with
PyTorch set to as many threads as numpy's BLAS uses, so drift of the machine hits all of
them alike. Reported: best and median wall seconds with the min-max spread, the median
CPU seconds of the process (less disturbed by other load on a shared machine), and ratios
to the hand-written numpy.

Memory: each variant runs in a fresh subprocess of its own. Two measures of the extra
memory that forward + backward needs on top of the inputs: the peak resident set size
(ru_maxrss) minus its value just before the step, for every variant; and tracemalloc's
peak, which tracks numpy's allocations (not PyTorch's), for the two numpy variants. Then
the minor page faults of a second step: memory the allocator handed back to the system
and has to fault in (and zero) again, a cost that shows in the time.

Run: python -m bench.lesson [--rounds N] [--n ROWS]
"""
from __future__ import annotations

import argparse
import importlib.util
import json
import os
import resource
import statistics
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path
from typing import Callable

import numpy as np

from engine import Tensor
from nn import manual

HIDDEN = 50
PIXELS = 784
VARIANTS = ["numpy", "engine", "torch"]
ROOT = Path(__file__).resolve().parents[1]  # where `python -m bench.lesson` runs


def make_data(n: int) -> dict[str, np.ndarray]:
    """Random pixels and labels of the lesson's shapes, and the lesson's initial weights."""
    rng = np.random.default_rng(0)
    return {"x": rng.random((n, PIXELS), dtype=np.float32),
            "y": rng.integers(0, 10, n).astype(np.float32),
            "w1": (rng.standard_normal((PIXELS, HIDDEN)) / np.sqrt(PIXELS)).astype(np.float32),
            "b1": np.zeros(HIDDEN, np.float32),
            "w2": (rng.standard_normal((HIDDEN, 1)) / np.sqrt(HIDDEN)).astype(np.float32),
            "b2": np.zeros(1, np.float32)}


def blas_threads() -> int:
    """How many threads numpy's BLAS uses (threadpoolctl when installed, else the CPU count)."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return os.cpu_count() or 1
    return max((i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"),
               default=os.cpu_count() or 1)


def make_step(variant: str, data: dict[str, np.ndarray]) -> Callable[[], None]:
    """A function running forward + backward once for `variant`, keeping nothing from before."""
    names = ("x", "w1", "b1", "w2", "b2")
    if variant == "numpy":
        params = {k: data[k] for k in names}

        def numpy_step() -> None:
            manual.forward_and_backward(y=data["y"], **params)
        return numpy_step
    if variant == "engine":
        leaves, y = {k: Tensor(data[k], requires_grad=True) for k in names}, Tensor(data["y"])
    else:
        import torch
        torch.set_num_threads(blas_threads())
        leaves = {k: torch.from_numpy(data[k]).requires_grad_() for k in names}
        y = torch.from_numpy(data["y"])

    def autograd_step() -> None:
        for t in leaves.values():
            t.grad = None
        manual.forward(y=y, **leaves)["loss"].backward()
    return autograd_step


def probe_memory(variant: str, n: int) -> dict[str, float]:
    """In this (fresh) process: extra peak memory of one forward + backward, in MB, and the
    page faults of a second one (memory the allocator gave back and must fault in again)."""
    step = make_step(variant, make_data(n))
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    tracemalloc.start()
    step()
    traced = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    after = resource.getrusage(resource.RUSAGE_SELF)
    step()
    faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt - after.ru_minflt
    return {"rss_mb": (after.ru_maxrss - before) / 1024,
            "traced_mb": traced / 2**20 if variant != "torch" else float("nan"),
            "faults": faults}


def measure_memory(variants: list[str], n: int) -> dict[str, dict[str, float]]:
    """Each variant's probe_memory, each in a subprocess of its own."""
    results = {}
    for variant in variants:
        done = subprocess.run([sys.executable, "-m", "bench.lesson", "--probe", variant,
                               "--n", str(n)], cwd=ROOT, capture_output=True, text=True,
                              check=True)
        results[variant] = json.loads(done.stdout.splitlines()[-1])
    return results


def measure_time(variants: list[str], n: int,
                 rounds: int) -> tuple[dict[str, list[float]], dict[str, list[float]]]:
    """Wall and CPU seconds per forward + backward, `rounds` times each, interleaved in a
    rotating order. CPU time (all threads of the process) suffers less from other load."""
    data = make_data(n)
    steps = {v: make_step(v, data) for v in variants}
    for step in steps.values():  # warm-up: first-call allocations and lazy imports
        step()
    wall: dict[str, list[float]] = {v: [] for v in variants}
    cpu: dict[str, list[float]] = {v: [] for v in variants}
    for r in range(rounds):
        for v in variants[r % len(variants):] + variants[:r % len(variants)]:
            start, start_cpu = time.perf_counter(), time.process_time()
            steps[v]()
            wall[v].append(time.perf_counter() - start)
            cpu[v].append(time.process_time() - start_cpu)
    return wall, cpu


def _ratio(a: float, b: float) -> float:
    return a / b if b else float("nan")


def report(wall: dict[str, list[float]], cpu: dict[str, list[float]],
           memory: dict[str, dict[str, float]], n: int, rounds: int) -> None:
    base_best, base_median = min(wall["numpy"]), statistics.median(wall["numpy"])
    base_cpu, base_mem = statistics.median(cpu["numpy"]), memory["numpy"]
    print(f"lesson full batch: x {n} x {PIXELS} float32 -> lin {PIXELS}->{HIDDEN} -> relu -> "
          f"lin {HIDDEN}->1 -> MSE, forward + backward incl. the gradient for x")
    print(f"random float32 data; {rounds} interleaved rounds; BLAS threads {blas_threads()}, "
          "PyTorch set to the same\n")
    print(f"{'':8} {'-------------- wall time --------------':>39}  {'--- CPU time ---':>16}  "
          f"{'----------------- extra memory -----------------':>48}")
    print(f"{'variant':8} {'best s':>7} {'median s':>8} {'min-max s':>13} {'best':>4} "
          f"{'med':>4}  {'median s':>8} {'/np':>6}  {'RSS MB':>7} {'/np':>5} "
          f"{'traced MB':>9} {'/np':>5} {'faults':>7}")
    for v, ts in wall.items():
        best, median, mem = min(ts), statistics.median(ts), memory[v]
        cpu_median = statistics.median(cpu[v])
        print(f"{v:8} {best:7.3f} {median:8.3f} {best:6.3f}-{max(ts):6.3f} "
              f"{best / base_best:4.2f} {median / base_median:4.2f}  {cpu_median:8.3f} "
              f"{cpu_median / base_cpu:6.3f}  {mem['rss_mb']:7.1f} "
              f"{_ratio(mem['rss_mb'], base_mem['rss_mb']):5.2f} {mem['traced_mb']:9.1f} "
              f"{_ratio(mem['traced_mb'], base_mem['traced_mb']):5.2f} {mem['faults']:7d}")
    print("\nbest, med: wall time ratios to numpy (hand-written); CPU time: process time, all "
          "threads\nRSS MB: ru_maxrss growth during one forward + backward in a fresh subprocess;"
          "\ntraced MB: tracemalloc's peak of numpy's allocations in that step (PyTorch's are not"
          " traced: nan)\nfaults: minor page faults of the next step, i.e. memory the allocator"
          " returned to the\nsystem after one step and faults in again in the next")
    print(f"\nrerun: cd {ROOT} && {sys.executable} -m bench.lesson --rounds {rounds} --n {n}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.lesson",
                                     description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=15,
                        help="timed runs per variant (default 15)")
    parser.add_argument("--n", type=int, default=50_000, help="rows of x (default 50,000)")
    parser.add_argument("--probe", choices=VARIANTS, help=argparse.SUPPRESS)  # memory subprocess
    args = parser.parse_args(argv)
    if args.probe:
        print(json.dumps(probe_memory(args.probe, args.n)))
        return
    variants = VARIANTS if importlib.util.find_spec("torch") else VARIANTS[:-1]
    memory = measure_memory(variants, args.n)
    report(*measure_time(variants, args.n, args.rounds), memory, args.n, args.rounds)


if __name__ == "__main__":
    main()
