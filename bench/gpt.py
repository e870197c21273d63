"""demos.gpt's model against PyTorch, and engine.Value against a microgpt-style Value.

Three parts, each engine in processes of its own, alternating, so drift of the machine
hits all alike:

  step    one training step on a batch of 32 names, engine.Tensor vs PyTorch (CPU), one
          thread each (BLAS and torch): median step time and memory. With the scalar
          part's step time it also gives names per second, Tensor vs engine.Value.
  train   1,000 steps at batch 32 from the same initial weights on the same batches, ours
          and PyTorch's: the loss on the held-out last 10% of the names must agree within
          0.05; then each samples names.
  scalar  issue 9: the microgpt-shaped model (1 layer, 16-dim embeddings, 4 heads, block
          16, characters, Adam, one name per step) on engine.Value and on LocalValue, a
          minimal Value in microgpt's style (tests/gpt_twins.py: each op stores its local
          derivatives; backward multiplies them by the node's gradient), with Python's
          garbage collector on, as users run it. Same names, same initial weights: the
          losses must be equal.

PyTorch's twin of the model and LocalValue live with the tests (tests/gpt_twins.py), which
check them; this benchmark imports them from there.

    python -m bench.gpt                    all three, about a minute
    python -m bench.gpt scalar --rounds 5 --scalar-steps 30
"""
from __future__ import annotations

import argparse
import gc
import json
import os
import statistics
import subprocess
import sys
import time
from typing import Any

import numpy as np

import nn
from demos._common import number
from demos.gpt import ADAM
from engine import Tensor

ONE_THREAD = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
HELD_OUT_TOLERANCE = 0.05
SEED = 0
LR = 0.01  # demos.gpt's default
WARMUP = 20  # steps run before the step part measures


# --- the baseline's optimizer


class FlatAdam:
    """nn.Adam for LocalValue, which is no engine node (nn's optimizers take those only):
    the weights' numbers pass through nn.Adam as one flat float64 Tensor, so both Values
    are updated by the very same rule."""

    def __init__(self, params: list, lr: float) -> None:
        self.params = params
        self.flat = Tensor(np.array([p.data for p in params]), requires_grad=True,
                           dtype=np.float64)
        self.adam = nn.Adam([self.flat], lr=lr, **ADAM)
        self.param_groups = self.adam.param_groups  # a trainer sets the rate Adam reads

    def zero_grad(self) -> None:
        for p in self.params:
            p.grad = 0.0

    def step(self) -> None:
        self.flat.grad = Tensor(np.array([p.grad for p in self.params]))  # grads are Tensors
        self.adam.step()
        for p, x in zip(self.params, self.flat.numpy().tolist()):
            p.data = x


# --- what each child process runs


def setup() -> dict[str, Any]:
    """The names, split as demos.gpt splits them, their tokens, the default model's config."""
    from demos.data import load_names
    from demos.gpt import HELD_OUT
    from demos.gpt_model import Config, Tokenizer, encode_names

    names, _ = load_names(download=False)
    cut = len(names) - round(len(names) * HELD_OUT)
    tokenizer = Tokenizer(names)
    config = Config(tokenizer.vocab_size)
    return {"tokenizer": tokenizer, "config": config,
            "train": encode_names(names[:cut], tokenizer, config.block_size),
            "held": encode_names(names[cut:], tokenizer, config.block_size)}


def memory_mib(field: str) -> float:
    """VmRSS (resident now) or VmHWM (the peak) of this process, from Linux's /proc.

    Not getrusage's ru_maxrss: a child started by fork and exec inherits its parent's
    peak there, and the parent of these children has imported torch.
    """
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024  # kB
    raise RuntimeError(f"no {field} in /proc/self/status")


def trainer(engine: str, data: dict[str, Any], steps: int, batch_size: int):
    """(step(i) -> loss, loss of a batch without a graph, the weights as numpy arrays) of a
    run of `steps` at `batch_size`, 'tensor' (demos.gpt's own) or 'torch' (its twin), both
    from GPT(config, SEED) in float32 and drawing the same batches."""
    from demos.gpt import batch_rows, learning_rate, tensor_trainer
    from demos.gpt_model import GPT, make_batch
    from tests.gpt_twins import torch_loss, torch_parameters

    tokens, counts = data["train"]
    model, rng = GPT(data["config"], SEED), np.random.default_rng(SEED)
    if engine == "tensor":
        step = tensor_trainer(model, tokens, counts, steps, batch_size, LR, rng)
        return step, model.mean_loss, model.state_dict

    import torch

    torch.set_num_threads(1)
    params = torch_parameters(model.state_dict())
    adam = torch.optim.Adam(params.values(), lr=LR, **ADAM)
    batches = batch_rows(len(tokens), batch_size, steps, rng)

    def step_torch(i: int) -> float:
        loss = torch_loss(params, make_batch(tokens, counts, next(batches)), data["config"])
        adam.zero_grad()
        loss.backward()
        adam.param_groups[0]["lr"] = learning_rate(i, steps, LR)
        adam.step()
        return loss.item()

    def mean_loss(batch: Any) -> float:
        with torch.no_grad():
            return torch_loss(params, batch, data["config"]).item()
    return step_torch, mean_loss, lambda: {k: p.detach().numpy() for k, p in params.items()}


def timed(step: Any, steps: range) -> tuple[list[float], list[float]]:
    """Seconds and loss of step(i) for each i in steps."""
    times, losses = [], []
    for i in steps:
        start = time.perf_counter()
        losses.append(step(i))
        times.append(time.perf_counter() - start)
    return times, losses


def child_step(engine: str, steps: int, batch_size: int) -> dict:
    """Time `steps` training steps after WARMUP unmeasured ones; memory around them."""
    step, _, _ = trainer(engine, setup(), WARMUP + steps, batch_size)
    for i in range(WARMUP):
        step(i)
    peak_before = memory_mib("VmHWM")
    times, losses = timed(step, range(WARMUP, WARMUP + steps))
    peak = memory_mib("VmHWM")
    return {"times": times, "losses": losses, "peak_rss_mib": peak,
            "peak_growth_mib": peak - peak_before}


def child_train(engine: str, steps: int, batch_size: int, samples: int) -> dict:
    """demos.gpt's Tensor-engine training run (or PyTorch's twin); held-out loss, samples."""
    from demos.gpt import held_out_loss, sample_names
    from demos.gpt_model import GPT

    data = setup()
    step, mean_loss, weights = trainer(engine, data, steps, batch_size)
    times, _ = timed(step, range(steps))
    held = held_out_loss(mean_loss, *data["held"])
    model = GPT(data["config"])  # samples through our engine, from either's weights
    model.load_state_dict(weights())
    names = sample_names(model.sampler, data["tokenizer"], samples, 0.5,
                         data["config"].block_size, np.random.default_rng(SEED))
    return {"held_out": held, "seconds": sum(times), "samples": names}


def child_scalar(engine: str, steps: int, gc_on: bool) -> dict:
    """demos.gpt's scalar model, one name per step, on engine.Value or LocalValue."""
    if not gc_on:
        gc.disable()
    from demos.gpt import value_trainer
    from demos.gpt_model import GPT, ScalarGPT
    from engine import Value
    from tests.gpt_twins import LocalValue

    data = setup()
    tokens, counts = data["train"]
    order = np.random.default_rng(SEED).permutation(len(tokens))[:steps]
    documents = [tokens[i, :counts[i] + 1].tolist() for i in order]
    state = GPT(data["config"], SEED, dtype=np.float64).state_dict()
    if engine == "engine":
        model = ScalarGPT(Value, state, data["config"])
        optimizer = nn.Adam(model.parameters(), lr=LR, **ADAM)
    else:
        model = ScalarGPT(LocalValue, state, data["config"])
        optimizer = FlatAdam(model.parameters(), LR)
    # the learning rate of the first steps of microgpt's 1,000
    times, losses = timed(value_trainer(model, optimizer, documents, 1000, LR), range(steps))
    return {"times": times, "losses": losses}


CHILDREN = {"step": child_step, "train": child_train, "scalar": child_scalar}


def run_child(part: str, env: dict[str, str] | None = None, **kwargs: Any) -> dict:
    """One part's child in a fresh Python process; its JSON result."""
    done = subprocess.run([sys.executable, "-m", "bench.gpt", "--child", part,
                           "--child-args", json.dumps(kwargs)], capture_output=True, text=True,
                          env={**os.environ, **(env or {})}, check=False)
    if done.returncode != 0:
        sys.exit(f"bench.gpt child {part} {kwargs} failed:\n{done.stderr}")
    return json.loads(done.stdout)


# --- the parts, as the parent runs them


def median_ms(times: list[float]) -> float:
    return statistics.median(times) * 1e3


def alternate(part: str, engines: dict[str, str], rounds: int, env: dict[str, str] | None = None,
              **kwargs: Any) -> dict[str, list[dict]]:
    """`rounds` child processes per engine, the engines taking turns; prints each engine's
    median step (the median of the processes' medians) and returns the results by engine.
    `engines` maps each engine's name to how it is shown."""
    results = {engine: [] for engine in engines}
    for _ in range(rounds):
        for engine, runs in results.items():
            runs.append(run_child(part, env, engine=engine, **kwargs))
    for engine, runs in results.items():
        per_process = [median_ms(r["times"]) for r in runs]
        print(f"  {engines[engine]:30s} median step {statistics.median(per_process):7.3f} ms "
              f"(process medians {min(per_process):.3f} to {max(per_process):.3f})")
    return results


def speedup(slow: list[dict], fast: list[dict], bar: float) -> float:
    """Print and return how many times faster `fast` is (on medians), with the per-round
    spread and whether it clears `bar`."""
    ratio = (statistics.median(median_ms(r["times"]) for r in slow)
             / statistics.median(median_ms(r["times"]) for r in fast))
    rounds = [median_ms(s["times"]) / median_ms(f["times"]) for s, f in zip(slow, fast)]
    print(f"  speed-up {ratio:.2f}x on medians, per-round {min(rounds):.2f}x to "
          f"{max(rounds):.2f}x (bar: >= {bar:g}x: {'met' if ratio >= bar else 'NOT met'})")
    return ratio


def part_step(rounds: int, steps: int) -> float:
    """Tensor engine vs PyTorch; returns our median step in ms."""
    print(f"\n## step: one training step, batch of 32 names, one thread each; {rounds} "
          f"processes per engine, alternating, {steps} steps each (after {WARMUP} unmeasured)")
    results = alternate("step", {"tensor": "engine.Tensor", "torch": "PyTorch"}, rounds,
                        ONE_THREAD, steps=steps, batch_size=32)
    speedup(results["torch"], results["tensor"], bar=1.0)
    for engine, runs in results.items():
        print(f"  {engine}: peak RSS {statistics.median(r['peak_rss_mib'] for r in runs):.1f} "
              f"MiB, raised by {statistics.median(r['peak_growth_mib'] for r in runs):.1f} MiB "
              f"during the measured steps")
    first = [runs[0]["losses"] for runs in results.values()]
    print(f"  the two float32 runs' losses differ by at most "
          f"{max(abs(a - b) for a, b in zip(*first)):.1e} over {steps} steps")
    return statistics.median(median_ms(r["times"]) for r in results["tensor"])


def part_train(steps: int, samples: int) -> None:
    print(f"\n## train: {steps} steps at batch 32, same initial weights and batches, one "
          "thread each")
    results = {engine: run_child("train", ONE_THREAD, engine=engine, steps=steps,
                                 batch_size=32, samples=samples)
               for engine in ("tensor", "torch")}
    for engine, r in results.items():
        print(f"  {engine:6s}  held-out loss {r['held_out']:.4f}  ({r['seconds']:.1f} s)  "
              f"samples: {', '.join(r['samples'])}")
    gap = abs(results["tensor"]["held_out"] - results["torch"]["held_out"])
    verdict = "met" if gap <= HELD_OUT_TOLERANCE else "NOT met"
    print(f"  held-out difference {gap:.4f} (bar: <= {HELD_OUT_TOLERANCE}: {verdict})")


def part_scalar(rounds: int, steps: int, gc_on: bool) -> float:
    """engine.Value vs LocalValue; returns engine.Value's median step in ms."""
    print(f"\n## scalar: the microgpt-shaped model, one name per step, GC "
          f"{'on' if gc_on else 'OFF'}; {rounds} processes per Value, alternating, {steps} "
          "steps each")
    results = alternate("scalar", {"engine": "engine.Value", "local": "LocalValue (microgpt's "
                                   "style)"}, rounds, steps=steps, gc_on=gc_on)
    speedup(results["local"], results["engine"], bar=2.0)
    losses = [r["losses"] for runs in results.values() for r in runs]
    gap = max(abs(a - b) for other in losses[1:] for a, b in zip(losses[0], other))
    same_first = all(other[0] == losses[0][0] for other in losses)
    print(f"  losses of all {len(losses)} processes: first step "
          f"{'bit-identical' if same_first else 'DIFFERENT'} ({losses[0][0]:.12f}); largest "
          f"difference over all steps {gap:.1e} (gradients are summed in another order, so "
          "the weights part in the last bit after the first update)")
    if gap > 1e-12:
        sys.exit("bench.gpt: the two Values' losses disagree")
    return statistics.median(median_ms(r["times"]) for r in results["engine"])


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.gpt",
                                     description=__doc__.splitlines()[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter,
                                     epilog=__doc__.split("\n", 2)[2])
    parser.add_argument("parts", nargs="*", metavar="PART",
                        help=f"which parts to run: {', '.join(CHILDREN)} (default: all)")
    whole = number(int, 1)
    parser.add_argument("--rounds", type=whole, default=5,
                        help="processes per engine (default: 5)")
    parser.add_argument("--steps", type=whole, default=200,
                        help="step: measured steps per process (default: 200)")
    parser.add_argument("--train-steps", type=whole, default=1000,
                        help="train: steps (default: 1000)")
    parser.add_argument("--scalar-steps", type=whole, default=12,
                        help="scalar: names (steps) per process (default: 12)")
    parser.add_argument("--samples", type=number(int, 0), default=10,
                        help="train: names sampled (default: 10)")
    parser.add_argument("--no-gc", action="store_true",
                        help="scalar: switch the garbage collector off, to see what it costs")
    parser.add_argument("--child", choices=CHILDREN, help=argparse.SUPPRESS)
    parser.add_argument("--child-args", default="{}", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(CHILDREN[args.child](**json.loads(args.child_args))))
        return

    unknown = set(args.parts) - set(CHILDREN)
    if unknown:
        parser.error(f"unknown part(s) {', '.join(sorted(unknown))}; choose from "
                     f"{', '.join(CHILDREN)}")
    parts = args.parts or list(CHILDREN)
    versions = f"Python {sys.version.split()[0]}, numpy {np.__version__}"
    if {"step", "train"} & set(parts):
        try:
            import torch
        except ImportError:
            sys.exit("bench.gpt: the step and train parts compare with PyTorch: "
                     "pip install torch==2.13.0 (or run only: python -m bench.gpt scalar)")
        versions += f", torch {torch.__version__}"
    print(f"{versions}, {os.cpu_count()} cores")
    step = part_step(args.rounds, args.steps) if "step" in parts else None
    if "train" in parts:
        part_train(args.train_steps, args.samples)
    scalar = (part_scalar(args.rounds, args.scalar_steps, not args.no_gc) if "scalar" in parts
              else None)
    if step and scalar:
        tensor_rate, scalar_rate = 32e3 / step, 1e3 / scalar
        print(f"\n## throughput: Tensor engine {tensor_rate:,.0f} names/s (batch 32), "
              f"engine.Value {scalar_rate:.1f} names/s (one a step): "
              f"{tensor_rate / scalar_rate:,.0f}x (bar: >= 100x)")
    print("\nrerun: python -m bench.gpt " + " ".join(sys.argv[1:]))


if __name__ == "__main__":
    main()
