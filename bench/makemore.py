"""makemore's MLP training step (Karpathy's lecture, part 2): ours, hand-written numpy, a bare
graph engine, PyTorch.

The step of the lecture's training loop, on its names: a batch of 32 contexts of 3
characters, a 27x10 embedding table C, a 30 -> 200 tanh layer, 200 -> 27 logits,
F.cross_entropy, and SGD written as the lecture writes it (`p.grad = None`, backward,
`p.data += -lr * p.grad`). Four ways, from the same weights (the lecture's seed; ours
draws PyTorch's numbers) on the same batches:

  ours   the lecture's code with `import engine as torch` and `import nn.functional as F`
  numpy  the same arithmetic with hand-derived gradients and no graph: the floor
  bare   the lecture's code on `Bare`, the least a graph engine in Python can do (nodes
         with an array, parents and a rule; a topological walk; nothing else): the floor
         of any graph engine written in Python, ours included
  torch  the lecture's code on PyTorch (skipped if not installed)

Each way runs in a child process of its own, one BLAS/torch thread each, and times its
steps by CPU time (`time.process_time`) after unmeasured warm-up steps. The children take
turns a block of steps at a time, round after round, so a neighbour's load on a shared
machine, which comes and goes over seconds, falls on all ways of a round alike (processes
taking turns whole, a second each, saw their medians differ 2x). Each ratio is the median
over rounds of a way's median step in the round over hand numpy's.

    python -m bench.makemore
    python -m bench.makemore --rounds 300 --steps 10
    python -m bench.makemore --profile ours     # cProfile's top lines of our step
    python -m bench.makemore --opcodes          # Python bytecodes per step: ours, numpy, bare
"""
from __future__ import annotations

import argparse
import cProfile
import json
import os
import pstats
import random
import statistics
import subprocess
import sys
import time
from typing import Callable

import numpy as np

from bench import bytecodes
from bench.bare import Bare
from demos._common import number

ONE_THREAD = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
BLOCK, EMBED, HIDDEN, BATCH, LR = 3, 10, 200, 32, 0.1
WAYS = {"ours": "engine.Tensor", "numpy": "hand-written numpy", "bare": "a bare graph engine",
        "torch": "PyTorch"}


def dataset() -> tuple[np.ndarray, np.ndarray, int]:
    """The lecture's training split (its first 80% of the shuffled names) as contexts of
    BLOCK character ids and the id of the character after each; and the vocabulary size."""
    from demos.data import load_names

    words, _ = load_names(download=False)
    chars = sorted(set("".join(words)))
    stoi = {s: i + 1 for i, s in enumerate(chars)}
    stoi["."] = 0
    random.seed(42)
    random.shuffle(words)
    xs, ys = [], []
    for w in words[:int(0.8 * len(words))]:
        context = [0] * BLOCK
        for ch in w + ".":
            xs.append(context)
            ys.append(stoi[ch])
            context = context[1:] + [stoi[ch]]
    return np.array(xs, np.int64), np.array(ys, np.int64), len(stoi)


def stepper(way: str, steps: int) -> Callable[[int], float]:
    """step(i) -> loss of the i-th batch, for `way`; every way draws the same batches."""
    xs, ys, vocab = dataset()
    batches = np.random.default_rng(0).integers(0, len(xs), (steps, BATCH))
    if way == "numpy":
        return numpy_stepper(xs, ys, vocab, batches)
    if way == "bare":
        return bare_stepper(xs, ys, vocab, batches)
    if way == "ours":
        import engine as torch
        import nn.functional as F
    else:
        import torch
        import torch.nn.functional as F
        torch.set_num_threads(1)
    # the lecture's cells, as they are
    Xtr, Ytr = torch.tensor(xs), torch.tensor(ys)
    g = torch.Generator().manual_seed(2147483647)
    C = torch.randn((vocab, EMBED), generator=g)
    W1 = torch.randn((BLOCK * EMBED, HIDDEN), generator=g)
    b1 = torch.randn(HIDDEN, generator=g)
    W2 = torch.randn((HIDDEN, vocab), generator=g)
    b2 = torch.randn(vocab, generator=g)
    parameters = [C, W1, b1, W2, b2]
    for p in parameters:
        p.requires_grad = True
    batches = [torch.tensor(ix) for ix in batches]

    def step(i: int) -> float:
        ix = batches[i]
        emb = C[Xtr[ix]]  # (32, 3, 10)
        h = torch.tanh(emb.view(-1, BLOCK * EMBED) @ W1 + b1)  # (32, 200)
        logits = h @ W2 + b2  # (32, 27)
        loss = F.cross_entropy(logits, Ytr[ix])
        for p in parameters:
            p.grad = None
        loss.backward()
        for p in parameters:
            p.data += -LR * p.grad
        return loss.item()
    return step


def initial_weights(vocab: int) -> list[np.ndarray]:
    """C, W1, b1, W2, b2 as the lecture draws them (ours draws PyTorch's numbers)."""
    import engine

    g = engine.Generator().manual_seed(2147483647)
    return [engine.randn(shape, generator=g).numpy() for shape in (
        (vocab, EMBED), (BLOCK * EMBED, HIDDEN), (HIDDEN,), (HIDDEN, vocab), (vocab,))]


def numpy_stepper(xs: np.ndarray, ys: np.ndarray, vocab: int,
                  batches: np.ndarray) -> Callable[[int], float]:
    """The same step by hand: forward, the gradients derived on paper, SGD."""
    C, W1, b1, W2, b2 = initial_weights(vocab)
    rows = np.arange(BATCH)

    def step(i: int) -> float:
        ix = batches[i]
        xb, yb = xs[ix], ys[ix]
        x = C[xb].reshape(BATCH, BLOCK * EMBED)
        h = np.tanh(x @ W1 + b1)
        z = h @ W2 + b2
        z -= z.max(axis=1, keepdims=True)  # the softmax's shift, for stability
        e = np.exp(z)
        s = e.sum(axis=1, keepdims=True)
        loss = float(np.log(s[:, 0]).mean() - z[rows, yb].mean())
        dz = e / s  # d loss / d logits = (softmax - one_hot) / n
        dz[rows, yb] -= 1
        dz /= BATCH
        dh = dz @ W2.T
        dpre = dh * (1 - h * h)
        dC = np.zeros_like(C)
        np.add.at(dC, xb.reshape(-1), (dpre @ W1.T).reshape(-1, EMBED))
        for p, d in ((W2, h.T @ dz), (b2, dz.sum(axis=0)), (W1, x.T @ dpre),
                     (b1, dpre.sum(axis=0)), (C, dC)):
            p += -LR * d
        return loss
    return step


def bare_stepper(xs: np.ndarray, ys: np.ndarray, vocab: int,
                 batches: np.ndarray) -> Callable[[int], float]:
    """The lecture's step on Bare: its lines, with Bare's names for tanh and cross_entropy."""
    parameters = [Bare(w) for w in initial_weights(vocab)]
    C, W1, b1, W2, b2 = parameters

    def step(i: int) -> float:
        ix = batches[i]
        emb = C[xs[ix]]
        h = (emb.view(-1, BLOCK * EMBED) @ W1 + b1).tanh()
        logits = h @ W2 + b2
        loss = logits.cross_entropy(ys[ix])
        for p in parameters:
            p.grad = None
        loss.backward()
        for p in parameters:
            p.data += -LR * p.grad
        return float(loss.data)
    return step


# --- the child processes and the parent that alternates them


def child(way: str, steps: int, warmup: int) -> None:
    """Serve the parent: after `warmup` unmeasured steps, print "ready"; then for each line
    "k" read, run the next k steps and print their CPU seconds and losses as JSON."""
    step = stepper(way, warmup + steps)
    for i in range(warmup):
        step(i)
    print("ready", flush=True)
    done = warmup
    for line in sys.stdin:
        k, times, losses = int(line), [], []
        for i in range(done, done + k):
            start = time.process_time()
            losses.append(step(i))
            times.append(time.process_time() - start)
        done += k
        print(json.dumps({"times": times, "losses": losses}), flush=True)


def alternate(ways: list[str], rounds: int, steps: int, warmup: int) -> dict[str, list[dict]]:
    """Each way's blocks of `steps` steps, `rounds` of them, run in one child process per way,
    the ways taking turns block by block: a neighbour's load, which on a shared machine comes
    and goes over seconds, falls on every way's block of the same round alike."""
    children = {way: subprocess.Popen(
        [sys.executable, "-m", "bench.makemore", "--child", way, "--steps",
         str(rounds * steps), "--warmup", str(warmup)], stdin=subprocess.PIPE,
        stdout=subprocess.PIPE, text=True, env={**os.environ, **ONE_THREAD}) for way in ways}

    def answer(way: str) -> str:
        line = children[way].stdout.readline()
        if not line:
            sys.exit(f"bench.makemore: the child running {way} failed (its error is above)")
        return line

    try:
        for way in ways:
            answer(way)  # "ready": warmed up
        blocks: dict[str, list[dict]] = {way: [] for way in ways}
        for r in range(rounds):
            for way in ways[r % len(ways):] + ways[:r % len(ways)]:
                children[way].stdin.write(f"{steps}\n")
                children[way].stdin.flush()
                blocks[way].append(json.loads(answer(way)))
        return blocks
    finally:
        for proc in children.values():
            proc.stdin.close()
            proc.wait()


def profile(way: str, steps: int, top: int) -> None:
    """cProfile's `top` lines (by own time) over `steps` steps of `way`, after a warm-up."""
    step = stepper(way, steps + 50)
    for i in range(50):
        step(i)
    profiler = cProfile.Profile()
    profiler.runcall(lambda: [step(i) for i in range(50, 50 + steps)])
    pstats.Stats(profiler).sort_stats("tottime").print_stats(top)


def opcodes(steps: int, top: int) -> None:
    """Python bytecodes run per step by ours, a bare engine and hand numpy, and ours' `top`
    functions (bench/bytecodes.py): all of ours' overhead over numpy is interpreter work."""
    counts = {}
    for way in ("ours", "bare", "numpy"):
        step = stepper(way, steps + 10)
        for i in range(10):  # (lazily bound names and caches settle first)
            step(i)
        counts[way] = bytecodes.count(step, [(i,) for i in range(10, 10 + steps)])
    bytecodes.report(counts, steps, "step", "steps", top)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.makemore",
                                     description=__doc__.splitlines()[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter,
                                     epilog=__doc__.split("\n", 2)[2])
    whole = number(int, 1)
    parser.add_argument("--rounds", type=whole, default=100,
                        help="rounds of turns, a block of steps per way each (default: 100)")
    parser.add_argument("--steps", type=whole, default=20,
                        help="measured steps per block (default: 20)")
    parser.add_argument("--warmup", type=number(int, 0), default=100,
                        help="unmeasured steps first (default: 100)")
    parser.add_argument("--profile", choices=WAYS, help="profile one way's step instead")
    parser.add_argument("--opcodes", action="store_true",
                        help="count the Python bytecodes of a step instead (the same on every run)")
    parser.add_argument("--top", type=whole, default=25, help="--profile, --opcodes: lines shown")
    parser.add_argument("--child", choices=WAYS, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.steps, args.warmup)
        return
    if args.profile:
        profile(args.profile, args.rounds * args.steps, args.top)
        return
    if args.opcodes:
        opcodes(min(args.steps, 50), args.top)
        return

    ways = dict(WAYS)
    try:
        import torch
        versions = f", torch {torch.__version__}"
    except ImportError:
        del ways["torch"]
        versions = ", torch not installed"
    print(f"makemore part 2's step (batch {BATCH}, {BLOCK}x{EMBED} embedding, {HIDDEN} tanh, "
          f"cross-entropy, SGD lr {LR}); Python {sys.version.split()[0]}, numpy "
          f"{np.__version__}{versions}; {os.cpu_count()} cores, one thread each; a process per way, "
          f"{args.rounds} rounds of turns, {args.steps} steps per turn, after {args.warmup}")
    blocks = alternate(list(ways), args.rounds, args.steps, args.warmup)
    medians = {way: [statistics.median(b["times"]) * 1e6 for b in runs]
               for way, runs in blocks.items()}
    for way, per_block in medians.items():
        ratios = sorted(m / f for m, f in zip(per_block, medians["numpy"]))
        low, high = ratios[len(ratios) // 10], ratios[-1 - len(ratios) // 10]
        print(f"  {ways[way]:20s} median step {statistics.median(per_block):7.1f} us; "
              f"{statistics.median(ratios):.2f}x numpy (middle 80% of rounds {low:.2f}x to "
              f"{high:.2f}x)")
    if "torch" in medians:
        ratios = [m / t for m, t in zip(medians["ours"], medians["torch"])]
        print(f"  ours / PyTorch: {statistics.median(ratios):.2f}x")
    first = [runs[0]["losses"] for runs in blocks.values()]
    print(f"  the ways' float32 losses differ by at most "
          f"{max(abs(a - b) for other in first[1:] for a, b in zip(first[0], other)):.1e} "
          f"over {args.steps} steps (first {first[0][0]:.4f})" if args.warmup == 0 else "")
    print(f"rerun: python -m bench.makemore --rounds {args.rounds} --steps {args.steps} "
          f"--warmup {args.warmup}")


if __name__ == "__main__":
    main()
