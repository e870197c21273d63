"""A small transformer's training step, scratchgrad against PyTorch (CPU), same threads.

The model is nn.examples.make_gpt, the GPT of Karpathy's "Let's build GPT" lecture written
once the PyTorch way and built from either library: batch 16, block 32, 64-dim
embeddings, 4 heads, 2 layers, a 65-character vocabulary, AdamW at lr 1e-3, dropout
0 (as set by --dropout). Each library runs in child processes of its own (so neither's
objects burden the other's garbage collector), the libraries taking turns, every child
starting from the same weights (our seeded initialisation is PyTorch's) and drawing the
same batches; each times `--steps` steps after `--warmup` unmeasured ones, in wall-clock
time and in the CPU time the process used (which the load of a shared machine disturbs
less). The result is the ratio of the median step times (ours / PyTorch's): the bar of
issue 20 is at most 1.0.

    python -m bench.transformer                      5 rounds, 1 thread each
    python -m bench.transformer --rounds 9 --threads 2
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from typing import Any

import numpy as np

from demos._common import number

SIZES = dict(n_embd=64, n_head=4, n_layer=2, block_size=32)
BATCH, VOCAB, SEED, LR = 16, 65, 1337, 1e-3


def child(library: str, steps: int, warmup: int, threads: int, dropout: float) -> dict:
    """Seconds and loss of each measured step of one library's training run."""
    if library == "torch":
        import torch

        torch.set_num_threads(threads)
    else:
        import engine as torch
    from nn.examples import make_gpt

    torch.manual_seed(SEED)
    model = make_gpt(torch)(VOCAB, dropout=dropout, **SIZES)
    optimizer = torch.optim.AdamW(model.parameters(), lr=LR)
    batches = np.random.default_rng(SEED).integers(0, VOCAB, (warmup + steps, BATCH,
                                                              SIZES["block_size"] + 1))
    times, cpu, losses = [], [], []
    for tokens in batches:
        start, start_cpu = time.perf_counter(), time.process_time()
        _, loss = model(torch.tensor(tokens[:, :-1]), torch.tensor(tokens[:, 1:]))
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        times.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
        losses.append(loss.item())
    return {"times": times[warmup:], "cpu": cpu[warmup:], "losses": losses}


def run_child(library: str, threads: int, **kwargs: Any) -> dict:
    env = {**os.environ, **{k: str(threads) for k in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS",
                                                       "MKL_NUM_THREADS")}}
    done = subprocess.run([sys.executable, "-m", "bench.transformer", "--child", library,
                           "--child-args", json.dumps({"threads": threads, **kwargs})],
                          capture_output=True, text=True, env=env, check=False)
    if done.returncode != 0:
        sys.exit(f"bench.transformer child {library} failed:\n{done.stderr}")
    return json.loads(done.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.transformer",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=number(int, 1), default=5,
                        help="child processes per library, taking turns (default 5)")
    parser.add_argument("--steps", type=number(int, 1), default=30,
                        help="measured steps per child (default 30)")
    parser.add_argument("--warmup", type=number(int, 0), default=10,
                        help="unmeasured steps first (default 10)")
    parser.add_argument("--threads", type=number(int, 1), default=1,
                        help="BLAS and torch threads for both (default 1)")
    parser.add_argument("--dropout", type=number(float, 0.0), default=0.0)
    parser.add_argument("--child", choices=("ours", "torch"), help=argparse.SUPPRESS)
    parser.add_argument("--child-args", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.dropout >= 1:
        parser.error(f"--dropout must be below 1, got {args.dropout:g}")
    if args.child:
        print(json.dumps(child(args.child, **json.loads(args.child_args))))
        return

    sizes = ", ".join(f"{k} {v}" for k, v in SIZES.items())
    print(f"one training step of nn.examples.make_gpt ({sizes}, "
          f"batch {BATCH}, vocab {VOCAB}, dropout {args.dropout:g}, AdamW); {args.rounds} "
          f"processes per library, taking turns, {args.steps} steps each after {args.warmup} "
          f"unmeasured; {args.threads} thread(s) each")
    runs: dict[str, list[dict]] = {"ours": [], "torch": []}
    for _ in range(args.rounds):
        for library, results in runs.items():
            results.append(run_child(library, args.threads, steps=args.steps,
                                     warmup=args.warmup, dropout=args.dropout))
    for clock, key in (("wall-clock", "times"), ("CPU", "cpu")):
        medians = {library: [statistics.median(r[key]) * 1e3 for r in results]
                   for library, results in runs.items()}
        print(f"  {clock} time of a step:")
        for library, per_process in medians.items():
            print(f"    {library:6s} median {statistics.median(per_process):7.2f} ms "
                  f"(process medians {min(per_process):.2f} to {max(per_process):.2f})")
        ratio = statistics.median(medians["ours"]) / statistics.median(medians["torch"])
        rounds = [a / b for a, b in zip(medians["ours"], medians["torch"])]
        print(f"    ours / PyTorch: {ratio:.2f}x on medians, per round {min(rounds):.2f}x to "
              f"{max(rounds):.2f}x (bar: at most 1.0x: {'met' if ratio <= 1.0 else 'NOT met'})")
    if args.dropout == 0:
        gap = max(abs(a - b) for a, b in zip(runs["ours"][0]["losses"], runs["torch"][0]["losses"]))
        print(f"  the losses of the two float32 runs differ by at most {gap:.1e}")
    print(f"rerun: python -m bench.transformer --rounds {args.rounds} --steps {args.steps} "
          f"--warmup {args.warmup} --threads {args.threads} --dropout {args.dropout:g}")


if __name__ == "__main__":
    main()
