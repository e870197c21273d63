"""One epoch of minibatch SGD on MNIST-sized data: our nn + Tensor, hand-written numpy, PyTorch.

The model is 784 -> 100 -> relu -> 10 with softmax cross-entropy, plain SGD, batch 64,
over 50,000 float32 rows in shuffled minibatches. The rows are the 10,000 real MNIST test
digits tiled five times when ../shared/data/mnist (or $SCRATCHGRAD_MNIST_TEST) holds them,
else uniform random pixels with random labels; the output says which. Three ways, each from
the same initial weights and on the same batches, so their mean epoch losses must agree:

  ours   demos.mnist's epoch: its DataLoader (demos.mnist.loader, the engine's, seed 0)
         feeds nn.Sequential(Linear, ReLU, Linear), nn.cross_entropy, nn.SGD on engine.Tensor
  numpy  the same step written by hand with hand-derived gradients: the floor
  torch  torch.nn.Linear, F.cross_entropy, torch.optim.SGD (skipped if not installed)

numpy and torch gather the same batches by hand from the rows that loader picks (read
once, untimed), so ours alone pays for its DataLoader: shuffling with PyTorch's numbers,
sampling, batching. ours and torch run through one training loop, `train_epoch`, the
same code for both.
They alternate within one process, round after round (the first epoch of each is a
discarded warm-up), so machine drift hits all alike.

    python -m bench.minibatch
    python -m bench.minibatch --rounds 7 --rows 20000
    OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 python -m bench.minibatch   # one BLAS thread each

On a machine shared with other work, multi-threaded BLAS (numpy's OpenBLAS and PyTorch's
own pool alike) waits on busy cores and its times scatter; one thread each is steadier.
"""
from __future__ import annotations

import argparse
import os
import statistics
import time
from pathlib import Path
from typing import Callable, Iterable

import numpy as np

import nn
from demos.mnist import loader

MNIST_DIR = Path(os.environ.get("SCRATCHGRAD_MNIST_TEST",
                                Path(__file__).resolve().parents[2] / "shared" / "data" / "mnist"))
Weights = list  # w1 (100, 784), b1 (100,), w2 (10, 100), b2 (10,), float32: PyTorch's layout


def load_rows(rows: int) -> tuple[np.ndarray, np.ndarray, str]:
    """(x float32 (rows, 784), int64 labels, a description of where they came from)."""
    if (MNIST_DIR / "t10k-images-idx3-ubyte.gz").exists():
        from demos.data import load_mnist_test
        x, y = load_mnist_test(MNIST_DIR)
        reps = -(-rows // len(x))
        x = np.tile(x.reshape(len(x), -1), (reps, 1))[:rows]
        y = np.tile(y, reps)[:rows]
        return (np.ascontiguousarray(x, dtype=np.float32), y.astype(np.int64),
                f"real MNIST test digits from {MNIST_DIR}, tiled to {rows:,} rows")
    rng = np.random.default_rng(0)
    return (rng.random((rows, 784), dtype=np.float32), rng.integers(0, 10, rows),
            f"{rows:,} rows of uniform random pixels and labels (no MNIST at {MNIST_DIR})")


def batch_rows(n: int, batch: int) -> list[np.ndarray]:
    """The rows of each batch of demos.mnist.loader(..., seed=0)'s first epoch over n rows:
    what that loader gives when the rows it loads are their own numbers."""
    rows = np.arange(n)
    return [picked.numpy() for picked, _ in loader(rows, rows, batch, seed=0)]


def train_epoch(model, opt, loss_fn: Callable, batches: Iterable) -> float:
    """PyTorch's training loop, which runs unchanged on our nn; returns the mean batch loss."""
    total, count = 0.0, 0
    for xb, yb in batches:
        loss = loss_fn(model(xb), yb)
        opt.zero_grad()
        loss.backward()
        opt.step()
        total += loss.item()
        count += 1
    return total / count


def epoch_ours(weights: Weights, x: np.ndarray, y: np.ndarray, batches: list[np.ndarray],
               lr: float) -> float:
    model = nn.Sequential(nn.Linear(784, 100), nn.ReLU(), nn.Linear(100, 10))
    model.load_state_dict(dict(zip(["0.weight", "0.bias", "2.weight", "2.bias"], weights)))
    return train_epoch(model, nn.SGD(model.parameters(), lr=lr), nn.cross_entropy,
                       loader(x, y, len(batches[0]), seed=0))  # picks `batches` itself


def epoch_numpy(weights: Weights, x: np.ndarray, y: np.ndarray, batches: list[np.ndarray],
                lr: float) -> float:
    w1, b1, w2, b2 = (w.copy() for w in weights)
    total = 0.0
    for picked in batches:
        xb, yb = x[picked], y[picked]
        n = len(xb)
        h = xb @ w1.T + b1
        a = np.maximum(h, 0)
        z = a @ w2.T + b2
        z -= z.max(axis=1, keepdims=True)  # stable softmax: shift each row by its max
        e = np.exp(z)
        s = e.sum(axis=1, keepdims=True)
        rows = np.arange(n)
        total += float(np.log(s[:, 0]).mean() - z[rows, yb].mean())
        # d loss / d z = (softmax - onehot) / n
        dz = e / s
        dz[rows, yb] -= 1
        dz /= n
        dh = dz @ w2
        dh *= h > 0
        w2 -= lr * (dz.T @ a)
        b2 -= lr * dz.sum(axis=0)
        w1 -= lr * (dh.T @ xb)
        b1 -= lr * dh.sum(axis=0)
    return total / len(batches)


def epoch_torch(weights: Weights, x: np.ndarray, y: np.ndarray, batches: list[np.ndarray],
                lr: float) -> float:
    import torch
    model = torch.nn.Sequential(torch.nn.Linear(784, 100), torch.nn.ReLU(), torch.nn.Linear(100, 10))
    with torch.no_grad():
        for p, w in zip(model.parameters(), weights):
            p.copy_(torch.from_numpy(w))
    xt, yt = torch.from_numpy(x), torch.from_numpy(y)
    return train_epoch(model, torch.optim.SGD(model.parameters(), lr=lr),
                       torch.nn.functional.cross_entropy,
                       ((xt[picked], yt[picked]) for picked in map(torch.from_numpy, batches)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=5, help="timed epochs per way")
    parser.add_argument("--rows", type=int, default=50_000)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--lr", type=float, default=0.1)
    args = parser.parse_args()

    x, y, source = load_rows(args.rows)
    batches = batch_rows(len(x), args.batch)
    nn.manual_seed(0)
    init = nn.Linear(784, 100), nn.Linear(100, 10)
    weights = [p.numpy().copy() for layer in init for p in (layer.weight, layer.bias)]
    ways: dict[str, Callable] = {"ours": epoch_ours, "numpy": epoch_numpy}
    try:
        import torch
        ways["torch"] = epoch_torch
        torch_note = f", torch {torch.__version__} with {torch.get_num_threads()} threads"
    except ImportError:
        torch_note = ", torch not installed"
    threads = {k: os.environ[k] for k in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS") if k in os.environ}
    print(f"one epoch of SGD (batch {args.batch}, lr {args.lr}, shuffled), 784-100-relu-10, "
          f"cross-entropy, on {source}; numpy {np.__version__}{torch_note}; "
          f"{os.cpu_count()} CPUs, {threads or 'default BLAS threads'}")

    times: dict[str, list[float]] = {name: [] for name in ways}
    losses = {}
    for r in range(args.rounds + 1):
        order = list(ways)[r % len(ways):] + list(ways)[:r % len(ways)]
        for name in order:
            start = time.perf_counter()
            losses[name] = ways[name](weights, x, y, batches, args.lr)
            if r:  # round 0 warms caches and BLAS threads up
                times[name].append(time.perf_counter() - start)

    floor = times["numpy"]
    for name, ts in times.items():
        paired = [t / f for t, f in zip(ts, floor)]  # same round, so the same machine state
        print(f"  {name:6s} median {statistics.median(ts):6.3f} s, best {min(ts):6.3f} s "
              f"(spread {min(ts):.3f} to {max(ts):.3f}); mean epoch loss {losses[name]:.6f}")
        print(f"         vs numpy: {statistics.median(ts) / statistics.median(floor):.2f}x on "
              f"medians, {min(ts) / min(floor):.2f}x best vs best, per-round ratios median "
              f"{statistics.median(paired):.2f}x ({min(paired):.2f} to {max(paired):.2f})")
    env = "".join(f"{k}={v} " for k, v in threads.items())
    print(f"rerun: {env}python -m bench.minibatch --rounds {args.rounds} --rows {args.rows} "
          f"--batch {args.batch} --lr {args.lr}")


if __name__ == "__main__":
    main()
