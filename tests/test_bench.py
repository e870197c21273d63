"""The benchmarks run as programs (tests never import bench, nor assert times): here, that
the ways of bench.makemore and bench.minibatch train the same model, so their floors (the
hand-written numpy step and the bare graph engine) compute what the engine and PyTorch
compute; and that bench.makemore's count of a step's Python bytecodes, the measure of the
engine's overhead that machine load cannot blur, adds up."""
from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_makemore_bench_ways_agree_step_for_step():
    done = subprocess.run([sys.executable, "-m", "bench.makemore", "--rounds", "1",
                           "--steps", "20", "--warmup", "0"], cwd=ROOT, capture_output=True,
                          text=True, env={**os.environ, "OMP_NUM_THREADS": "1"}, timeout=300)
    assert done.returncode == 0, done.stderr
    agree = re.search(r"losses differ by at most (\S+) over 20 steps \(first (\S+)\)",
                      done.stdout)
    assert agree, done.stdout
    largest, first = float(agree[1]), float(agree[2])
    assert 15 < first < 30  # the lecture's untrained model from its seed: a loss near 20
    assert largest <= 1e-5 * first  # float32 sums in other orders, nothing more
    for way in ("engine.Tensor", "hand-written numpy", "a bare graph engine"):
        assert re.search(rf"{re.escape(way)}\s+median step\s+\d", done.stdout), done.stdout


@pytest.mark.parametrize("command, counted_over", [
    (["bench.makemore", "--opcodes", "--steps", "3", "--top", "5"], "3 steps"),
    (["bench.minibatch", "--opcodes", "--rows", "4000"], "50 batches")])
def test_the_benches_count_the_bytecodes_of_a_step(command, counted_over):
    done = subprocess.run([sys.executable, "-m", *command], cwd=ROOT, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    counted = re.search(rf"over {counted_over}: ours (\d+), hand numpy (\d+) \(ours' own: "
                        r"(\d+)\), a bare graph engine (\d+)", done.stdout)
    assert counted, done.stdout
    ours, numpy, own, bare = map(int, counted.groups())
    assert ours > bare > numpy > 0 and own == ours - numpy
    top = re.findall(r"^\s+(\d+)\s+(\S+:\d+) (\w+)$", done.stdout, re.M)
    assert len(top) >= 5 and "run_backward" in [name for _, _, name in top], done.stdout
    assert sum(int(n) for n, _, _ in top) < ours


def test_minibatch_bench_ways_train_the_same_model():
    done = subprocess.run([sys.executable, "-m", "bench.minibatch", "--rounds", "1", "--rows",
                           "1280"], cwd=ROOT, capture_output=True, text=True,
                          env={**os.environ, "OMP_NUM_THREADS": "1"}, timeout=300)
    assert done.returncode == 0, done.stderr
    losses = dict(re.findall(r"^\s+(\w+)\s+median .*mean batch loss (\S+)$", done.stdout, re.M))
    assert {"ours", "numpy", "bare"} <= losses.keys(), done.stdout
    floor = float(losses["numpy"])
    assert 0.1 < floor < 2.5  # an epoch of 20 batches from a 10-class start (ln 10 = 2.3)
    for way, loss in losses.items():
        assert abs(float(loss) - floor) <= 1e-5 * floor, (way, done.stdout)
