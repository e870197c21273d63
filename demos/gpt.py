"""A small character-level GPT learns to make up names, on the Tensor engine or on scalar Values.

    python -m demos.gpt                     Tensor engine: batches of 32 names, 1,000 steps
    python -m demos.gpt --engine value      scalar Values, one name per step, as microgpt
    python -m demos.gpt --check             both engines agree, step by step
    python -m demos.gpt --resume out/gpt_tensor.safetensors   train on from a checkpoint

The model (demos/gpt_model.py) is microgpt's: token and position embeddings, RMSNorm,
causal multi-head self-attention and a ReLU MLP per layer, each with a residual
connection, and an output projection of its own; 16-dim embeddings, 4 heads, block 16,
1 layer by default. Training minimises the mean over predicted positions of
-log p(next character) with nn.Adam (lr 0.01, betas 0.85 and 0.99, eps 1e-8), the learning
rate falling linearly to 0 over the run; then the model samples new names at a
temperature (0.5: bolder than greedy, tamer than 1).

--engine tensor (the default) runs a batch of names per step on engine.Tensor, padding
shorter names and leaving the padding out of the loss; it writes the weights
(gpt_tensor.safetensors, Module.save), the loss curve (gpt_tensor_loss.png) and the graph
of one attention head on one name (gpt_attention_head.svg). --engine value builds the same
model out of engine.Value scalars, one character at a time with a cache of keys and values,
one name per step, and writes its weights and loss curve (gpt_value.*). Both report the
loss on the held-out last 10% of the names (computed by the Tensor engine). A run whose
loss stops being a number stops there and says so. A checkpoint keeps the model's sizes
and characters in its metadata: --resume PATH trains on from it without repeating
--n-embd and the rest (Adam's moments and the learning-rate schedule start afresh).

--check starts both engines from the same weights in float64 and takes a few Adam steps on
the same batches of names: the losses of every step and the gradients of every weight
must agree within 1e-9, or it exits 1. (PyTorch's twin of the model, the oracle of
tests/test_gpt.py and bench.gpt, lives in tests/gpt_twins.py.)

Data: makemore's names.txt (32,033 names), from --data PATH, else the cache folder
($SCRATCHGRAD_DATA or ~/.cache/scratchgrad), else the copy shipped in this package,
else a download checked by SHA-256 (see demos/data.py: load_names).
"""
from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path
from typing import Any, Callable, Iterator, Mapping

import numpy as np

import nn
from demos._common import (Diverged, add_seed_argument, demo_parser, number, output_folder,
                           pyplot, require, save_figure)
from demos.data import DataError, load_names
from demos.gpt_model import (GPT, Batch, Config, ScalarGPT, Tokenizer, encode_names,
                             make_batch, rmsnorm)
from engine import Value, no_grad
from nn.checkpoint import read_metadata

ADAM = {"betas": (0.85, 0.99), "eps": 1e-8}
HELD_OUT = 0.1  # the last tenth of the names file: never trained on
# What one training step may hold for backward: a model and batch larger than this would
# take the machine's memory rather than train.
MAX_STEP_BYTES = 1 << 30
VALUE_BYTES = 104  # one engine.Value node of a graph, measured with tracemalloc
SIZES = ("n_embd", "n_head", "n_layer", "block_size")  # the options that shape the model


# --- training, evaluation, sampling


def learning_rate(step: int, steps: int, lr: float) -> float:
    """microgpt's schedule: lr at step 0, falling linearly towards 0 at `steps`."""
    return lr * (1 - step / steps)


def held_out_loss(loss: Callable[[Batch], float], tokens: np.ndarray, counts: np.ndarray,
                  chunk: int = 1024) -> float:
    """Mean -log p(next token) over every position of every held-out name, given the mean
    loss of a batch, `loss(batch)` (any engine's, without recording a graph)."""
    weighted = 0.0
    for start in range(0, len(tokens), chunk):
        rows = np.arange(start, min(start + chunk, len(tokens)))
        weighted += loss(make_batch(tokens, counts, rows)) * counts[rows].sum()
    return weighted / counts.sum()


def batch_rows(n: int, batch_size: int, steps: int,
               rng: np.random.Generator) -> Iterator[np.ndarray]:
    """The rows of each step's batch: passes over range(n), each in a fresh random order."""
    order = np.array([], np.int64)
    for _ in range(steps):
        while len(order) < batch_size:  # a batch larger than the names takes several passes
            order = np.concatenate([order, rng.permutation(n)])
        rows, order = order[:batch_size], order[batch_size:]
        yield rows


def sample_names(sampler: Callable[[], Callable[[int], np.ndarray]], tokenizer: Tokenizer,
                 count: int, temperature: float, block_size: int,
                 rng: np.random.Generator) -> list[str]:
    """`count` names, each drawn character by character from softmax(logits / temperature)
    until BOS (the end of a name) or block_size characters."""
    names = []
    for _ in range(count):
        feed, token, ids = sampler(), tokenizer.bos, []
        for _ in range(block_size):
            logits = feed(token).astype(np.float64)  # the max first: a tiny temperature
            p = np.exp((logits - logits.max()) / temperature)  # would make inf - inf
            token = int(rng.choice(len(p), p=p / p.sum()))
            if token == tokenizer.bos:
                break
            ids.append(token)
        names.append(tokenizer.decode(ids))
    return names


def tensor_trainer(model: GPT, tokens: np.ndarray, counts: np.ndarray, steps: int,
                   batch_size: int, lr: float, rng: np.random.Generator) -> Callable[[int], float]:
    """step(i) -> loss: Adam on the next batch of names (fresh random order each pass)."""
    optimizer = nn.Adam(model.parameters(), lr=lr, **ADAM)
    batches = batch_rows(len(tokens), batch_size, steps, rng)

    def step(i: int) -> float:
        loss = model.loss(make_batch(tokens, counts, next(batches)))
        optimizer.zero_grad()
        loss.backward()
        optimizer.param_groups[0]["lr"] = learning_rate(i, steps, lr)
        optimizer.step()
        return loss.item()
    return step


def value_trainer(model: ScalarGPT, optimizer: Any, documents: list[list[int]], steps: int,
                  lr: float) -> Callable[[int], float]:
    """step(i) -> loss: microgpt's step, `optimizer` (an Adam over model.parameters()) on
    one name, documents[i] (cycling)."""
    def step(i: int) -> float:
        loss = model.loss([documents[i % len(documents)]])
        optimizer.zero_grad()
        loss.backward()
        optimizer.param_groups[0]["lr"] = learning_rate(i, steps, lr)
        optimizer.step()
        return loss.data
    return step


def fit(step: Callable[[int], float], steps: int, unit: str,
        report: Callable[[int, float], str | None]) -> tuple[list[float], float]:
    """step(0), step(1), ... under a progress bar; `report(i, loss)` may return a line to
    print. Returns the losses and the seconds the steps took (reports not included).

    A loss that is not a finite number raises Diverged: the steps before it overflowed,
    which numpy is told not to warn about, since this says it in one line.
    """
    from tqdm import tqdm  # the demos extra

    losses, seconds = [], 0.0
    with tqdm(range(steps), unit=unit, leave=False, disable=None) as bar, \
            np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        for i in bar:
            start = time.perf_counter()
            losses.append(step(i))
            seconds += time.perf_counter() - start
            if not math.isfinite(losses[-1]):
                raise Diverged(f"the loss became {losses[-1]} at step {i + 1}")
            bar.set_postfix(loss=f"{losses[-1]:.3f}", refresh=False)
            line = report(i, losses[-1])
            if line:
                bar.write(line)
    return losses, seconds


# --- --check: both engines, step by step


class ScalarTwin:
    """--check's other engine: ScalarGPT on engine.Value from the same weights, nn.Adam.

    A twin gives its loss and gradients on a batch (`loss_and_grads`) and takes an Adam
    step (`step`); tests/gpt_twins.py gives PyTorch's model the same two methods.
    """

    tolerance = 1e-9  # the largest gap from the Tensor engine, float64 on both

    def __init__(self, state: Mapping[str, np.ndarray], config: Config, lr: float) -> None:
        self.model = ScalarGPT(Value, state, config)
        self.optimizer = nn.Adam(self.model.parameters(), lr=lr, **ADAM)

    def loss_and_grads(self, batch: Batch) -> tuple[float, dict[str, np.ndarray]]:
        self.optimizer.zero_grad()
        loss = self.model.loss(batch.documents())
        loss.backward()
        return loss.data, self.model.gradients()

    def step(self, lr: float) -> None:
        self.optimizer.param_groups[0]["lr"] = lr
        self.optimizer.step()


def largest_gap(reference: Mapping[str, np.ndarray], other: Mapping[str, np.ndarray]) -> float:
    """The largest absolute difference between two sets of named arrays of the same shapes."""
    if reference.keys() != other.keys():
        raise ValueError(f"the two sets of gradients name different weights: "
                         f"{sorted(reference.keys() ^ other.keys())}")
    return max(float(np.max(np.abs(reference[k] - other[k]))) for k in reference)


def check(names: list[str], tokenizer: Tokenizer, config: Config, steps: int, batch_size: int,
          lr: float, seed: int, twins: Mapping[str, type] | None = None) -> bool:
    """Train the Tensor model and its `twins` (name -> class, default the scalar model) side
    by side from the same float64 weights on the same batches; print and compare every step."""
    model = GPT(config, seed, dtype=np.float64)
    optimizer = nn.Adam(model.parameters(), lr=lr, **ADAM)
    others = {name: twin(model.state_dict(), config, lr)
              for name, twin in (twins or {"value": ScalarTwin}).items()}
    tokens, counts = encode_names(names[:steps * batch_size], tokenizer, config.block_size)
    ok = True
    for step in range(steps):
        batch = make_batch(tokens, counts, np.arange(step * batch_size, (step + 1) * batch_size))
        optimizer.zero_grad()
        loss = model.loss(batch)
        loss.backward()
        grads = {name: np.asarray(p.grad) for name, p in model.named_parameters()}
        row = [(f"step {step + 1}: loss {loss.item():.6f} on {int(batch.mask.sum())} "
                f"positions of {batch_size} names")]
        for name, twin in others.items():
            twin_loss, twin_grads = twin.loss_and_grads(batch)
            loss_gap = abs(twin_loss - loss.item())
            grad_gap = largest_gap(grads, twin_grads)
            agree = max(loss_gap, grad_gap) <= twin.tolerance
            ok &= agree
            row.append(f"{name} vs tensor: loss {loss_gap:.1e}, gradients {grad_gap:.1e} "
                       f"({'pass' if agree else 'FAIL'}, tolerance {twin.tolerance:g})")
        print("\n  ".join(row))
        rate = learning_rate(step, steps, lr)
        optimizer.param_groups[0]["lr"] = rate
        optimizer.step()
        for twin in others.values():
            twin.step(rate)
    print("all losses and gradients agree" if ok else "MISMATCH: see the FAIL lines above")
    return ok


# --- pictures


def plot_losses(losses: list[float], held_out: list[tuple[int, float]], title: str,
                path: Path) -> Path:
    """Each step's training loss, its running mean, and the held-out loss where measured."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(7, 4))
    steps = np.arange(1, len(losses) + 1)
    window = max(1, len(losses) // 50)
    smooth = np.convolve(losses, np.ones(window) / window, mode="valid")
    ax.plot(steps, losses, color="#9ab8d8", lw=0.6, label="each step")
    ax.plot(steps[window - 1:], smooth, color="#1f4e9e", label=f"mean of {window} steps")
    if held_out:
        ax.plot(*zip(*held_out), "o-", color="#c0392b", label="held-out names")
    ax.set(xlabel="step", ylabel="loss: mean -log p(next character)", title=title)
    ax.grid(alpha=0.3)
    ax.legend()
    return save_figure(fig, path)


def draw_attention_head(model: GPT, tokenizer: Tokenizer, name: str, path: Path) -> list[Path]:
    """The graph of the first layer's head 0 on one name, from the weights to the head's
    output; returns the files written (the picture, or its .dot source when no layout
    program could draw it)."""
    import viz

    batch = make_batch(*encode_names([name], tokenizer, model.config.block_size), np.array([0]))
    head = model.blocks[0].attn.heads(rmsnorm(model.embed(batch.inputs)))[:, 0]
    head.label = f"head 0 on {name!r}"
    try:
        return [viz.render(head, path, params=model, rankdir="TB", show_grad=False)]
    except (viz.RendererNotFound, RuntimeError, TimeoutError) as e:  # render kept the .dot
        print(f"could not lay out the attention graph ({e})", file=sys.stderr)
        source = path.with_suffix(".dot")
        return [source] if source.exists() else []


# --- checkpoints


def checkpoint_metadata(config: Config, tokenizer: Tokenizer) -> dict[str, str]:
    """What a checkpoint needs beside the weights to rebuild the model: sizes and characters."""
    return {"model": "demos.gpt", "chars": "".join(tokenizer.chars),
            **{name: str(getattr(config, name)) for name in ("vocab_size", *SIZES)}}


def read_checkpoint_metadata(path: str) -> tuple[Config, Tokenizer]:
    """The sizes and characters a checkpoint of this demo was written with; a ValueError
    naming the file when its metadata does not give them."""
    metadata = read_metadata(path)
    if metadata.get("model") != "demos.gpt" or "chars" not in metadata:
        raise ValueError(f"{path} is not a checkpoint of demos.gpt: its metadata has no model "
                         "sizes and characters")
    tokenizer = Tokenizer(metadata["chars"])
    sizes = {name: metadata.get(name, "") for name in ("vocab_size", *SIZES)}
    if not all(value.isdigit() for value in sizes.values()):
        raise ValueError(f"{path}: its metadata gives sizes {sizes}, not whole numbers")
    config = Config(**{name: int(value) for name, value in sizes.items()})
    if config.vocab_size != tokenizer.vocab_size:
        raise ValueError(f"{path}: its metadata gives vocab_size {config.vocab_size} for "
                         f"{len(tokenizer.chars)} characters + BOS")
    return config, tokenizer


# --- the command line


def parse_args(argv: list[str] | None) -> tuple[argparse.ArgumentParser, argparse.Namespace]:
    parser = demo_parser("gpt", __doc__)
    parser.add_argument("--engine", choices=("tensor", "value"), default="tensor",
                        help="tensor: batches on engine.Tensor; value: one name per step on "
                             "engine.Value (default: tensor)")
    parser.add_argument("--check", action="store_true",
                        help="compare the two engines step by step instead of training")
    parser.add_argument("--data", default=None,
                        help="a text file of names, one per line (default: makemore's names.txt "
                             "from the cache, the package, or a download)")
    parser.add_argument("--no-download", action="store_true", help="never download names.txt")
    parser.add_argument("--steps", type=number(int, 1, 1_000_000), default=None,
                        help="training steps (default: 1000; with --check, 3)")
    parser.add_argument("--batch-size", type=number(int, 1, 4096), default=None,
                        help="names per step on the Tensor engine (default: 32; with --check, "
                             "4); the value engine takes one, as microgpt")
    parser.add_argument("--lr", type=number(float, 0, 1, inclusive=False), default=0.01,
                        help="Adam's learning rate at step 0, at most 1; it falls linearly to "
                             "0 (default: 0.01)")
    parser.add_argument("--n-embd", type=number(int, 1, 1024),
                        help="embedding size (default: 16)")
    parser.add_argument("--n-head", type=number(int, 1, 64), help="attention heads (default: 4)")
    parser.add_argument("--n-layer", type=number(int, 1, 64),
                        help="transformer layers (default: 1)")
    parser.add_argument("--block-size", type=number(int, 1, 1024),
                        help="longest context in tokens; longer names are cut (default: 16)")
    parser.add_argument("--resume", metavar="PATH", default=None,
                        help="start from a checkpoint this demo wrote: its weights, sizes and "
                             "characters")
    parser.add_argument("--temperature", type=number(float, 0, 100, inclusive=False),
                        default=0.5, help="sampling temperature, > 0 (default: 0.5)")
    parser.add_argument("--samples", type=number(int, 0, 10_000), default=20,
                        help="names to sample (default: 20)")
    parser.add_argument("--eval-every", type=number(int, 1, 1_000_000), default=None,
                        help="Tensor engine: held-out loss every this many steps (default: 100)")
    add_seed_argument(parser, 0, "weights, name order and sampling")
    parser.add_argument("--out", default="out", help="folder for the files written (default: out)")
    args = parser.parse_args(argv)
    if args.check and args.resume:
        parser.error("--check starts both engines from the same fresh weights; it takes no "
                     "--resume")
    for flag, value in (("--batch-size", args.batch_size), ("--eval-every", args.eval_every)):
        if args.engine == "value" and value is not None and not args.check:
            parser.error(f"{flag} is for the Tensor engine (and --check); the value engine "
                         "takes one name per step, as microgpt")
    return parser, args


def step_bytes(config: Config, batch_size: int, engine: str) -> int:
    """About how much memory one training step holds for backward. On Values, each weight
    meets each position in a product and a sum: two nodes; on Tensors (float32), each
    layer's activations for every position."""
    if engine == "value":
        return 2 * batch_size * config.block_size * config.n_weights * VALUE_BYTES
    per_layer = 16 * config.n_embd + 2 * config.n_head * config.block_size  # q k v, MLP, scores
    return 4 * batch_size * config.block_size * (config.n_layer * per_layer + config.vocab_size)


def train(args: argparse.Namespace, model: GPT, names: list[str], cut: int,
          tokenizer: Tokenizer) -> tuple[list[float], list[tuple[int, float]], Callable]:
    """Train on names[:cut] with the engine args.engine asks for, printing progress; returns
    the step losses, (step, held-out loss) pairs, and a sampler of the trained model.
    `model` ends up holding the trained weights, whichever engine trained them."""
    config, steps, rng = model.config, args.steps or 1000, np.random.default_rng(args.seed)
    train_tokens, train_counts = encode_names(names[:cut], tokenizer, config.block_size)
    held_tokens, held_counts = encode_names(names[cut:], tokenizer, config.block_size)
    held_out = []
    every = (args.eval_every or 100) if args.engine == "tensor" else max(1, steps // 10)

    def report(step: int, loss: float) -> str | None:
        if (step + 1) % every and step + 1 < steps:
            return None
        line = f"step {step + 1:5d}/{steps}  loss {loss:.4f}"
        if args.engine == "tensor":  # on scalars, measuring it this often would take long
            held_out.append((step + 1, held_out_loss(model.mean_loss, held_tokens, held_counts)))
            line += f"  held-out loss {held_out[-1][1]:.4f}"
        return line

    if args.engine == "tensor":
        batch_size = args.batch_size or 32
        print(f"Tensor engine, float32, batches of {batch_size} names, {steps} steps")
        step = tensor_trainer(model, train_tokens, train_counts, steps, batch_size, args.lr, rng)
        losses, seconds = fit(step, steps, "step", report)
        sampler = model.sampler
    else:
        batch_size = 1
        print(f"scalar engine.Value, one name per step, {steps} steps")
        scalar = ScalarGPT(Value, model.state_dict(), config)
        optimizer = nn.Adam(scalar.parameters(), lr=args.lr, **ADAM)
        documents = [train_tokens[i, :train_counts[i] + 1].tolist() for i in rng.permutation(cut)]
        losses, seconds = fit(value_trainer(scalar, optimizer, documents, steps, args.lr), steps,
                              "name", report)
        model.load_state_dict(scalar.state_dict())
        sampler = scalar.sampler
    print(f"trained in {seconds:.1f} s (held-out checks aside): "
          f"{steps * batch_size / seconds:,.1f} names per second")
    if not held_out or held_out[-1][0] != steps:
        with np.errstate(over="ignore", invalid="ignore"):  # a last step that overflowed
            held_out.append((steps, held_out_loss(model.mean_loss, held_tokens, held_counts)))
    if not math.isfinite(held_out[-1][1]):  # the last update broke the weights
        raise Diverged(f"the held-out loss is {held_out[-1][1]} after the last step")
    print(f"held-out loss on the last {len(held_tokens):,} names: {held_out[-1][1]:.4f}")
    return losses, held_out, sampler


def resumed(parser: argparse.ArgumentParser, path: str, sizes: Mapping[str, int],
            names: list[str], source: str) -> tuple[Config, Tokenizer]:
    """The checkpoint's sizes and characters, or exit with one line saying why not: it is not
    this demo's, a size given on the command line differs, or the names hold a character
    the checkpoint has never seen."""
    try:
        config, tokenizer = read_checkpoint_metadata(path)
    except (OSError, ValueError) as e:
        parser.exit(1, f"{parser.prog}: error: --resume: {e}\n")
    for name, value in sizes.items():
        if value != getattr(config, name):
            parser.error(f"--{name.replace('_', '-')} {value} does not match {path}'s "
                         f"{getattr(config, name)}: leave it out, the checkpoint gives its sizes")
    unknown = sorted(set("".join(names)) - set(tokenizer.chars))
    if unknown:
        parser.exit(1, f"{parser.prog}: error: {source} holds characters that {path} has "
                       f"no token for: {''.join(unknown)!r}\n")
    return config, tokenizer


def main(argv: list[str] | None = None) -> int:
    parser, args = parse_args(argv)
    try:
        names, source = load_names(args.data, download=not args.no_download)
    except DataError as e:
        parser.exit(1, f"{parser.prog}: error: {e}\n")
    cut = len(names) - max(1, round(len(names) * HELD_OUT))
    if cut < 1:
        parser.exit(1, f"{parser.prog}: error: {source} holds {len(names)} name(s): too few to "
                       "train on some and hold the last tenth out\n")
    sizes = {name: getattr(args, name) for name in SIZES if getattr(args, name) is not None}
    if args.resume:
        config, tokenizer = resumed(parser, args.resume, sizes, names, source)
    else:
        tokenizer = Tokenizer(names)
        try:
            config = Config(tokenizer.vocab_size, **sizes)
        except ValueError as e:  # the model's own rule: the heads share the embedding equally
            parser.error(str(e).replace("n_embd", "--n-embd").replace("n_head", "--n-head"))
    if args.check:  # the scalar model runs too, on the whole batch
        engine, batch_size = "value", args.batch_size or 4
    elif args.engine == "tensor":
        engine, batch_size = "tensor", args.batch_size or 32
    else:
        engine, batch_size = "value", 1
    if step_bytes(config, batch_size, engine) > MAX_STEP_BYTES:
        parser.error(f"a model of {config.n_weights:,} weights with --block-size "
                     f"{config.block_size} would take about "
                     f"{step_bytes(config, batch_size, engine) >> 20:,} MB a step on the "
                     f"{engine} engine at {batch_size} name(s) a step, more than the "
                     f"{MAX_STEP_BYTES >> 20:,} MB this demo allows; make --batch-size, "
                     "--block-size, --n-embd or --n-layer smaller")
    print(f"data: {len(names):,} names from {source} ({cut:,} to train on, the last "
          f"{len(names) - cut:,} held out), {len(tokenizer.chars)} characters + BOS")
    if args.check:
        steps = args.steps or 3
        if steps * batch_size > cut:  # --check takes fresh names for every step
            parser.error(f"--check with --steps {steps} and --batch-size {batch_size} needs "
                         f"{steps * batch_size:,} names to train on; {source} has {cut:,}")
        return 0 if check(names[:cut], tokenizer, config, steps, batch_size, args.lr,
                          args.seed) else 1

    require(parser, "tqdm", "matplotlib")  # the demos extra, needed from here on
    out = output_folder(parser, args.out)
    model = GPT(config, args.seed, dtype=np.float32 if args.engine == "tensor" else np.float64)
    if args.resume:
        try:
            model.load(args.resume)
        except ValueError as e:  # the weights do not fit the sizes its metadata gives
            parser.exit(1, f"{parser.prog}: error: --resume: {e}\n")
        print(f"resuming from {args.resume}")
    print(f"model: {config.n_weights:,} weights; {config.n_layer} layer(s), {config.n_embd}-dim "
          f"embeddings, {config.n_head} heads, block {config.block_size}, vocabulary "
          f"{config.vocab_size}")
    try:
        losses, held_out, sampler = train(args, model, names, cut, tokenizer)
    except Diverged as e:
        parser.exit(1, f"{parser.prog}: error: training diverged: {e}; try a smaller --lr "
                       f"(it was {args.lr:g})\n")

    prefix = out / f"gpt_{args.engine}"
    model.save(prefix.with_suffix(".safetensors"), checkpoint_metadata(config, tokenizer))
    print(f"wrote {prefix.with_suffix('.safetensors')}")
    per_step = "one name" if args.engine == "value" else f"{batch_size} names"
    title = f"GPT on names, {args.engine} engine, {per_step} a step"
    print(f"wrote {plot_losses(losses, held_out, title, Path(f'{prefix}_loss.png'))}")
    if args.engine == "tensor":
        for path in draw_attention_head(model, tokenizer, names[0], out / "gpt_attention_head.svg"):
            print(f"wrote {path}")

    rng = np.random.default_rng(args.seed)
    with no_grad():
        samples = sample_names(sampler, tokenizer, args.samples, args.temperature,
                               config.block_size, rng)
    for i, name in enumerate(samples, 1):
        print(f"sample {i:2d}: {name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
