"""Forward + backward of one Conv2d layer: our nn.Conv2d (im2col, one matmul) vs PyTorch's.

Two layers of a small MNIST CNN, float32, batch 64: Conv2d(1, 16, 3, padding=1) on
(64, 1, 28, 28) and Conv2d(16, 32, 3) on (64, 16, 14, 14). Each step is layer(x), the sum
of the output times a fixed random gradient, backward (to the input and the weights),
zero_grad. Both engines start from the same weights (same seed) and must agree on the
input's gradient. They alternate step by step, so machine drift hits both alike; the
table gives medians over the rounds and our time over PyTorch's.

    OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 python -m bench.conv
    OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 python -m bench.conv --rounds 50

One BLAS thread each (PyTorch is also told torch.set_num_threads(1)): on a machine shared
with other work, threaded BLAS waits on busy cores and its times scatter.
"""
from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

import engine
import nn

CASES = [((1, 16, 3), {"padding": 1}, (64, 1, 28, 28)), ((16, 32, 3), {}, (64, 16, 14, 14))]


def _step(layer, x, g):
    """Seconds for one forward + backward, and the input's gradient."""
    start = time.perf_counter()
    x.grad = None
    layer.zero_grad()
    (layer(x) * g).sum().backward()
    return time.perf_counter() - start, x.grad


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=30, help="timed steps per layer")
    rounds = parser.parse_args().rounds
    import torch
    torch.set_num_threads(1)
    print(f"{'layer':<28} {'input':<18} {'ours':>9} {'torch':>9} {'ours/torch':>10}")
    for args, settings, shape in CASES:
        engine.manual_seed(0)
        torch.manual_seed(0)
        ours, theirs = nn.Conv2d(*args, **settings), torch.nn.Conv2d(*args, **settings)
        rng = np.random.default_rng(0)
        x = rng.standard_normal(shape).astype(np.float32)
        out_shape = tuple(ours(engine.tensor(x)).shape)
        g = rng.standard_normal(out_shape).astype(np.float32)
        mine = (engine.tensor(x, requires_grad=True), engine.tensor(g))
        yours = (torch.tensor(x, requires_grad=True), torch.tensor(g))
        times = {"ours": [], "torch": []}
        for k in range(rounds + 1):  # the first of each is a warm-up
            t_ours, dx = _step(ours, *mine)
            t_torch, tdx = _step(theirs, *yours)
            if k:
                times["ours"].append(t_ours)
                times["torch"].append(t_torch)
        np.testing.assert_allclose(np.asarray(dx), tdx.numpy(), rtol=1e-4, atol=1e-4)
        ms = {name: statistics.median(t) * 1e3 for name, t in times.items()}
        name = f"Conv2d{args}" + ("".join(f", {k}={v}" for k, v in settings.items()))
        print(f"{name:<28} {str(shape):<18} {ms['ours']:>7.2f}ms {ms['torch']:>7.2f}ms "
              f"{ms['ours'] / ms['torch']:>9.2f}x")


if __name__ == "__main__":
    main()
