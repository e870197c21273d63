"""One epoch of minibatch SGD on MNIST-sized data: our nn + Tensor, hand-written numpy, PyTorch.

The model is 784 -> 100 -> relu -> 10 with softmax cross-entropy, plain SGD, batch 64,
over 50,000 float32 rows in shuffled minibatches. The rows are the 10,000 real MNIST test
digits tiled five times when ../shared/data/mnist (or $SCRATCHGRAD_MNIST_TEST) holds them,
else uniform random pixels with random labels; the output says which. Four ways, each from
the same initial weights and on the same batches, so their mean batch losses must agree:

  ours   demos.mnist's epoch: its DataLoader (demos.mnist.loader, the engine's, seed 0)
         feeds nn.Sequential(Linear, ReLU, Linear), nn.cross_entropy, nn.SGD on engine.Tensor
  numpy  the same step written by hand with hand-derived gradients: the floor
  bare   the same model on bench.bare's Bare, the least a graph engine in Python can do
         (a node per layer, relu and the loss; one walk back; hand numpy's derivatives), fed
         as numpy is: the floor of any graph engine
  torch  torch.nn.Linear, F.cross_entropy, torch.optim.SGD (skipped if not installed)

numpy, bare and torch gather the same batches by hand from the rows that loader picks (read
once, untimed), so ours alone pays for its DataLoader: shuffling with PyTorch's numbers,
sampling, batching. ours and torch run through one training loop, `train_epoch`, the
same code for both.
They run within one process, each round an epoch of each way, the ways taking turns 50
batches at a time (`--turn`), so that a neighbour's load on the machine falls on all of
them alike; the first round is a discarded warm-up. Each ratio is the median over rounds
of a way's epoch time over hand numpy's in the same round. Each change of turn costs the
engine's step some of its warm caches: ours measures 1.57x hand numpy in turns of 10
batches, 1.46x in turns of 50 and 1.38x in turns of 200 (where the machine's noise shows
again), while the bare engine stays at 1.09x.

    python -m bench.minibatch
    python -m bench.minibatch --rounds 7 --rows 20000
    OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 python -m bench.minibatch   # one BLAS thread each
    python -m bench.minibatch --rows 20000 --opcodes   # Python bytecodes per batch instead

On a machine shared with other work, multi-threaded BLAS (numpy's OpenBLAS and PyTorch's
own pool alike) waits on busy cores and its times scatter; one thread each is steadier.
"""
from __future__ import annotations

import argparse
import itertools
import os
import statistics
import time
from pathlib import Path
from typing import Callable, Iterable, Iterator

import numpy as np

import nn
from bench import bytecodes
from bench.bare import Bare
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


def train_epoch(model, opt, loss_fn: Callable, batches: Iterable) -> Iterator[float]:
    """PyTorch's training loop, which runs unchanged on our nn; yields each batch's loss."""
    for xb, yb in batches:
        loss = loss_fn(model(xb), yb)
        opt.zero_grad()
        loss.backward()
        opt.step()
        yield loss.item()


def epoch_ours(weights: Weights, x: np.ndarray, y: np.ndarray, batches: list[np.ndarray],
               lr: float) -> Iterator[float]:
    model = nn.Sequential(nn.Linear(784, 100), nn.ReLU(), nn.Linear(100, 10))
    model.load_state_dict(dict(zip(["0.weight", "0.bias", "2.weight", "2.bias"], weights)))
    return train_epoch(model, nn.SGD(model.parameters(), lr=lr), nn.cross_entropy,
                       loader(x, y, len(batches[0]), seed=0))  # picks `batches` itself


def epoch_numpy(weights: Weights, x: np.ndarray, y: np.ndarray, batches: list[np.ndarray],
                lr: float) -> Iterator[float]:
    w1, b1, w2, b2 = (w.copy() for w in weights)
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
        loss = float(np.log(s[:, 0]).mean() - z[rows, yb].mean())
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
        yield loss


def epoch_bare(weights: Weights, x: np.ndarray, y: np.ndarray, batches: list[np.ndarray],
               lr: float) -> Iterator[float]:
    w1, b1, w2, b2 = parameters = [Bare(w.copy()) for w in weights]
    for picked in batches:
        loss = Bare(x[picked], requires_grad=False).linear(w1, b1).relu().linear(w2, b2).cross_entropy(y[picked])
        for p in parameters:
            p.grad = None
        loss.backward()
        for p in parameters:
            p.data -= lr * p.grad
        yield float(loss.data)


def epoch_torch(weights: Weights, x: np.ndarray, y: np.ndarray, batches: list[np.ndarray],
                lr: float) -> Iterator[float]:
    import torch
    model = torch.nn.Sequential(torch.nn.Linear(784, 100), torch.nn.ReLU(), torch.nn.Linear(100, 10))
    with torch.no_grad():
        for p, w in zip(model.parameters(), weights):
            p.copy_(torch.from_numpy(w))
    xt, yt = torch.from_numpy(x), torch.from_numpy(y)
    return train_epoch(model, torch.optim.SGD(model.parameters(), lr=lr),
                       torch.nn.functional.cross_entropy,
                       ((xt[picked], yt[picked]) for picked in map(torch.from_numpy, batches)))


def interleaved(epochs: dict[str, Iterator[float]], turn: int
                ) -> tuple[dict[str, list[float]], dict[str, float]]:
    """Run the ways' epochs in turns of `turn` batches each, round robin, so that a
    neighbour's load, which comes and goes over seconds on a shared machine, falls on every
    way alike: each way's batch losses and the seconds its turns took in all."""
    losses: dict[str, list[float]] = {name: [] for name in epochs}
    spent = dict.fromkeys(epochs, 0.0)
    running = dict(epochs)
    while running:
        for name, epoch in list(running.items()):
            start = time.perf_counter()
            got = list(itertools.islice(epoch, turn))
            spent[name] += time.perf_counter() - start
            losses[name] += got
            if len(got) < turn:
                del running[name]
    return losses, spent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=5, help="timed epochs per way")
    parser.add_argument("--rows", type=int, default=50_000)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--lr", type=float, default=0.1)
    parser.add_argument("--turn", type=int, default=50, help="batches a way runs per turn")
    parser.add_argument("--opcodes", action="store_true",
                        help="count Python bytecodes per batch (ours, numpy, bare) instead")
    args = parser.parse_args()

    x, y, source = load_rows(args.rows)
    batches = batch_rows(len(x), args.batch)
    nn.manual_seed(0)
    init = nn.Linear(784, 100), nn.Linear(100, 10)
    weights = [p.numpy().copy() for layer in init for p in (layer.weight, layer.bias)]
    ways: dict[str, Callable] = {"ours": epoch_ours, "numpy": epoch_numpy, "bare": epoch_bare}
    if args.opcodes:  # 50 batches of each way's epoch, after 10 that settle caches
        counts = {}
        for name, way in ways.items():
            epoch = way(weights, x, y, batches, args.lr)
            for _ in range(10):
                next(epoch)
            counts[name] = bytecodes.count(epoch.__next__, [()] * 50)
        bytecodes.report(counts, 50, "batch", "batches", 15)
        return
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
    losses: dict[str, float] = {}
    for r in range(args.rounds + 1):  # round 0 warms caches up and is not counted
        epoch, spent = interleaved({name: way(weights, x, y, batches, args.lr)
                                    for name, way in ways.items()}, args.turn)
        for name in ways:
            losses[name] = statistics.fmean(epoch[name])
            if r:
                times[name].append(spent[name])

    floor = times["numpy"]
    for name, ts in times.items():
        paired = sorted(t / f for t, f in zip(ts, floor))  # same round, turns interleaved
        print(f"  {name:6s} median {statistics.median(ts):6.3f} s an epoch (spread {min(ts):.3f} "
              f"to {max(ts):.3f}); mean batch loss {losses[name]:.6f}")
        print(f"         vs numpy: {statistics.median(paired):.2f}x (median over rounds; "
              f"{paired[0]:.2f} to {paired[-1]:.2f})")
    env = "".join(f"{k}={v} " for k, v in threads.items())
    print(f"rerun: {env}python -m bench.minibatch --rounds {args.rounds} --rows {args.rows} "
          f"--batch {args.batch} --lr {args.lr} --turn {args.turn}")


if __name__ == "__main__":
    main()
