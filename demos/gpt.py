"""A small character-level GPT learns to make up names, on the Tensor engine or on scalar Values.

    python -m demos.gpt                     Tensor engine: batches of 32 names, 1,000 steps
    python -m demos.gpt --engine value      scalar Values, one name per step, as microgpt
    python -m demos.gpt --check             both engines and PyTorch agree, step by step
    python -m demos.gpt --resume out/gpt_tensor.safetensors   train on from a checkpoint

The model is the one Karpathy's microgpt trains with a scalar autograd engine: token and
position embeddings, RMSNorm (no gain), then per layer causal multi-head self-attention
and a ReLU MLP (4x wide), each wrapped in a residual connection, and an output projection
(lm_head) of its own, not tied to the token embedding, as in microgpt. No biases. Every
weight starts as a Gaussian with standard deviation 0.08. Defaults are microgpt's size:
16-dim embeddings, 4 heads, block 16, 1 layer (4,192 weights on 27 characters). Training
minimises the mean over predicted positions of -log p(next character) with Adam (lr 0.01,
betas 0.85 and 0.99, eps 1e-8), the learning rate falling linearly to 0 over the run;
then the model samples new names at a temperature (0.5: bolder than greedy, tamer than 1).

--engine tensor (the default) runs a batch of names per step on engine.Tensor, padding
shorter names and leaving the padding out of the loss; it writes the weights
(gpt_tensor.safetensors, Module.save), the loss curve (gpt_tensor_loss.png) and the graph
of one attention head on one name (gpt_attention_head.svg). --engine value builds the same
model out of engine.Value scalars, one character at a time with a cache of keys and values,
one name per step, and writes its weights and loss curve (gpt_value.*). Both report the
loss on the held-out last 10% of the names (computed by the Tensor engine). A checkpoint
keeps the model's sizes and characters in its metadata: --resume PATH trains on from it
without repeating --n-embd and the rest (Adam's moments and the learning-rate schedule
start afresh).

--check starts both engines, and PyTorch when installed, from the same weights in
float64 and takes a few Adam steps on the same batches of names: the losses of every
step and the gradients of every weight must agree, within 1e-9 between the two engines
and 1e-6 with PyTorch. It exits 1 if they do not.

Data: makemore's names.txt (32,033 names), from --data PATH, else the cache folder
($SCRATCHGRAD_DATA or ~/.cache/scratchgrad), else the copy shipped in this package,
else a download checked by SHA-256 (see demos/data.py: load_names).
"""
from __future__ import annotations

import argparse
import functools
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Mapping, Sequence

import numpy as np

import nn
from demos._common import (add_seed_argument, demo_parser, number, output_folder, pyplot,
                           require, save_figure)
from demos.data import DataError, load_names
from engine import Tensor, Value, no_grad, ones, tril
from nn.checkpoint import read_metadata

INIT_STD = 0.08  # microgpt's: every weight starts as Gaussian noise of this size
RMS_EPS = 1e-5
IGNORE = -1  # the target of a padding position: cross_entropy leaves it out
ADAM = {"betas": (0.85, 0.99), "eps": 1e-8}
HELD_OUT = 0.1  # the last tenth of the names file: never trained on
CHECK_TOLERANCE = {"value": 1e-9, "torch": 1e-6}  # largest gap from the Tensor engine
BLOCK_WEIGHTS = ("attn.wq", "attn.wk", "attn.wv", "attn.wo", "fc1", "fc2")  # in each layer
SIZES = ("n_embd", "n_head", "n_layer", "block_size")  # the options that shape the model


# --- names as tokens


@dataclass(frozen=True)
class Config:
    """The model's sizes; microgpt's by default."""

    vocab_size: int
    n_embd: int = 16
    n_head: int = 4
    n_layer: int = 1
    block_size: int = 16

    def __post_init__(self) -> None:
        for name in ("vocab_size", "n_embd", "n_head", "n_layer", "block_size"):
            value = getattr(self, name)
            if not isinstance(value, int) or value < 1:
                raise ValueError(f"Config.{name} must be a positive int, got {value!r}")
        if self.n_embd % self.n_head:
            raise ValueError(f"n_embd ({self.n_embd}) must be a multiple of n_head "
                             f"({self.n_head}): each head takes an equal slice")

    @property
    def head_dim(self) -> int:
        return self.n_embd // self.n_head


class Tokenizer:
    """Characters to token ids and back: each character of the names gets an id in sorted
    order, and BOS, the last id, marks where a name begins and ends."""

    def __init__(self, names: Iterable[str]) -> None:
        self.chars = sorted(set("".join(names)))
        self.ids = {c: i for i, c in enumerate(self.chars)}
        self.bos = len(self.chars)

    @property
    def vocab_size(self) -> int:
        return len(self.chars) + 1

    def encode(self, name: str) -> list[int]:
        """BOS, the name's characters, BOS."""
        try:
            return [self.bos, *(self.ids[c] for c in name), self.bos]
        except KeyError as e:
            raise ValueError(f"name {name!r} has the character {e.args[0]!r}, which is not in "
                             "the vocabulary (built from the names the tokenizer was made "
                             "with)") from None

    def decode(self, ids: Iterable[int]) -> str:
        return "".join(self.chars[i] for i in ids)


@dataclass(frozen=True)
class Batch:
    """Names as rows of token ids, padded on the right to the longest name of the batch."""

    inputs: np.ndarray   # (B, T) int64: the token at each position (0 on padding)
    targets: np.ndarray  # (B, T) int64: the token that follows it
    mask: np.ndarray     # (B, T) bool: True on real positions, False on padding

    def documents(self) -> list[list[int]]:
        """Each name's tokens without padding, as the scalar engine reads them."""
        return [[*row[:n].tolist(), int(after[n - 1])]
                for row, after, n in zip(self.inputs, self.targets, self.mask.sum(axis=1))]


def encode_names(names: Sequence[str], tokenizer: Tokenizer,
                 block_size: int) -> tuple[np.ndarray, np.ndarray]:
    """Every name as one row of tokens, cut to block_size + 1, zero-padded; and how many
    positions of each row predict a next token (min(block_size, len(name) + 1))."""
    tokens = np.zeros((len(names), block_size + 1), np.int64)
    counts = np.zeros(len(names), np.int64)
    for i, name in enumerate(names):
        ids = tokenizer.encode(name)[:block_size + 1]
        tokens[i, :len(ids)] = ids
        counts[i] = len(ids) - 1
    return tokens, counts


def make_batch(tokens: np.ndarray, counts: np.ndarray, rows: np.ndarray) -> Batch:
    """The batch of the given rows of encode_names' output, as long as its longest name."""
    n = counts[rows]
    t = int(n.max())
    return Batch(tokens[rows, :t], tokens[rows, 1:t + 1], np.arange(t) < n[:, None])


# --- the model on Tensors


def gaussian(rng: np.random.Generator, shape: tuple[int, ...], dtype: Any) -> Tensor:
    """A weight drawn from N(0, INIT_STD**2)."""
    return Tensor(rng.normal(0.0, INIT_STD, shape), requires_grad=True, dtype=dtype)


def rmsnorm(x: Tensor) -> Tensor:
    """x / sqrt(mean(x**2) + eps) along the last dim, with no learned gain (as microgpt)."""
    return x * ((x * x).mean(axis=-1, keepdims=True) + RMS_EPS).rsqrt()


@functools.lru_cache(maxsize=64)
def future(t: int) -> np.ndarray:
    """(t, t) bool: True where a position would look ahead (above the diagonal).

    The scores there are filled with -inf, so softmax gives them weight exp(-inf) = 0,
    and the gradient there is exactly 0 too.
    """
    mask = ~tril(ones(t, t, dtype=bool)).numpy()
    mask.flags.writeable = False  # one constant, shared by every step through the cache
    return mask


class CausalSelfAttention(nn.Module):
    """n_head heads, each attending over a head_dim slice of q, k and v; then `wo` mixes them."""

    def __init__(self, config: Config, rng: np.random.Generator, dtype: Any) -> None:
        c = config.n_embd
        self.n_head = config.n_head
        self.wq, self.wk, self.wv, self.wo = (gaussian(rng, (c, c), dtype) for _ in range(4))

    def heads(self, x: Tensor) -> Tensor:
        """(B, T, C) -> each head's output, (B, n_head, T, head_dim)."""
        b, t, c = x.shape
        h = self.n_head

        def split(y: Tensor) -> Tensor:  # (B, T, C) -> (B, H, T, C / H)
            return y.reshape(b, t, h, c // h).transpose(1, 2)
        q, k, v = split(x @ self.wq), split(x @ self.wk), split(x @ self.wv)
        scores = (q @ k.transpose(-1, -2) * (c // h) ** -0.5).masked_fill(future(t), -np.inf)
        weights = scores.softmax(axis=-1)
        q.label, k.label, v.label, weights.label = "q", "k", "v", "attention weights"
        return weights @ v

    def forward(self, x: Tensor) -> Tensor:
        b, t, c = x.shape
        return self.heads(x).transpose(1, 2).reshape(b, t, c) @ self.wo


class Block(nn.Module):
    """Attention, then a ReLU MLP four times as wide, each added back onto its input."""

    def __init__(self, config: Config, rng: np.random.Generator, dtype: Any) -> None:
        c = config.n_embd
        self.attn = CausalSelfAttention(config, rng, dtype)
        self.fc1 = gaussian(rng, (c, 4 * c), dtype)
        self.fc2 = gaussian(rng, (4 * c, c), dtype)

    def forward(self, x: Tensor) -> Tensor:
        x = x + self.attn(rmsnorm(x))
        return x + (rmsnorm(x) @ self.fc1).relu() @ self.fc2


class GPT(nn.Module):
    """The whole model on Tensors: batches of token rows in, next-token logits out.

    Weights are (in, out) matrices applied as `x @ w`, and named as the scalar model and
    the PyTorch twin name them: wte, wpe, blocks.0.attn.wq, ..., blocks.0.fc2, lm_head.
    """

    def __init__(self, config: Config, seed: int = 0, dtype: Any = np.float32) -> None:
        rng = np.random.default_rng(seed)
        c = config.n_embd
        self.config = config
        self.wte = gaussian(rng, (config.vocab_size, c), dtype)
        self.wpe = gaussian(rng, (config.block_size, c), dtype)
        self.blocks = [Block(config, rng, dtype) for _ in range(config.n_layer)]
        self.lm_head = gaussian(rng, (c, config.vocab_size), dtype)

    def embed(self, inputs: np.ndarray) -> Tensor:
        """Token plus position embedding, normalised: (B, T) ids -> (B, T, C)."""
        return rmsnorm(self.wte[inputs] + self.wpe[:inputs.shape[1]])

    def forward(self, inputs: np.ndarray) -> Tensor:
        """(B, T) token ids -> (B, T, vocab_size) logits for the token after each."""
        x = self.embed(inputs)
        for block in self.blocks:
            x = block(x)
        return x @ self.lm_head

    def loss(self, batch: Batch) -> Tensor:
        """Mean of -log p(target) over the batch's real positions; padding takes no part."""
        logits = self(batch.inputs)
        targets = np.where(batch.mask, batch.targets, IGNORE)
        return nn.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1),
                                ignore_index=IGNORE)

    def mean_loss(self, batch: Batch) -> float:
        """loss(batch) as a number, recording no graph (for evaluation)."""
        with no_grad():
            return self.loss(batch).item()

    def sampler(self) -> Callable[[int], np.ndarray]:
        """feed(token) -> logits of the next token, given every token fed so far."""
        tokens: list[int] = []

        def feed(token: int) -> np.ndarray:
            tokens.append(token)
            with no_grad():
                return self(np.array([tokens])).data[0, -1]
        return feed


# --- the same model on scalars


def total(values: Iterable[Any]) -> Any:
    """v0 + v1 + ...: Python's sum started from the first term, so no `0 + v0` node."""
    values = iter(values)
    return sum(values, next(values))


def linear(x: list, columns: list[list]) -> list:
    """x @ w, w given as its columns: one dot product per output."""
    return [total(w * xi for w, xi in zip(column, x)) for column in columns]


def scalar_rmsnorm(x: list) -> list:
    """rmsnorm on a list of scalars."""
    scale = (total(xi * xi for xi in x) * (1.0 / len(x)) + RMS_EPS) ** -0.5
    return [xi * scale for xi in x]


def scalar_softmax(scores: list) -> list:
    """exp(s - max) / sum: the max is a plain number, outside the graph, as microgpt's."""
    top = max(v.data for v in scores)
    exps = [(v - top).exp() for v in scores]
    norm = total(exps)
    return [e / norm for e in exps]


def scalar_logsumexp(logits: list) -> Any:
    """log(sum(exp(logits))), shifted by the max so that exp cannot overflow."""
    top = max(v.data for v in logits)
    return total((v - top).exp() for v in logits).log() + top


class ScalarGPT:
    """The same GPT on scalars: one token at a time, one scalar node per number.

    It works with any micrograd-style Value class (one with + - * / ** exp log relu and
    backward), given as `value`, so benchmarks can run it on other engines. Weights come
    from a state dict in GPT's layout (GPT(...).state_dict()); gradients and weights go
    back out in that layout, so the two engines can be compared number by number.
    """

    def __init__(self, value: type, state: Mapping[str, np.ndarray], config: Config) -> None:
        self.config = config
        self.rows = {name: [[value(x) for x in row] for row in np.asarray(w).tolist()]
                     for name, w in state.items()}

        def columns(name: str) -> list[list]:
            return [list(column) for column in zip(*self.rows[name])]
        self.wte, self.wpe = self.rows["wte"], self.rows["wpe"]
        self.blocks = [{w: columns(f"blocks.{i}.{w}") for w in BLOCK_WEIGHTS}
                       for i in range(config.n_layer)]
        self.lm_head = columns("lm_head")

    def parameters(self) -> list:
        """Every weight's scalar node, in state-dict order."""
        return [v for rows in self.rows.values() for row in rows for v in row]

    def state_dict(self) -> dict[str, np.ndarray]:
        """The weights' numbers as GPT.state_dict() holds them."""
        return {name: np.array([[v.data for v in row] for row in rows])
                for name, rows in self.rows.items()}

    def gradients(self) -> dict[str, np.ndarray]:
        """The weights' gradients, laid out as state_dict()."""
        return {name: np.array([[v.grad for v in row] for row in rows])
                for name, rows in self.rows.items()}

    def logits(self, token: int, pos: int, cache: list[tuple[list, list]]) -> list:
        """Next-token logits after `token` at `pos`; each layer's (keys, values) in `cache`
        gain this position's key and value, which later positions attend to."""
        d = self.config.head_dim
        x = scalar_rmsnorm([t + p for t, p in zip(self.wte[token], self.wpe[pos])])
        for w, (keys, values) in zip(self.blocks, cache):
            h = scalar_rmsnorm(x)
            q = linear(h, w["attn.wq"])
            keys.append(linear(h, w["attn.wk"]))
            values.append(linear(h, w["attn.wv"]))
            heads = []
            for s in range(0, len(q), d):
                scores = [total(qi * ki for qi, ki in zip(q[s:s + d], k[s:s + d])) * d ** -0.5
                          for k in keys]
                weights = scalar_softmax(scores)
                heads += [total(a * v[j] for a, v in zip(weights, values))
                          for j in range(s, s + d)]
            x = [a + b for a, b in zip(x, linear(heads, w["attn.wo"]))]
            hidden = [u.relu() for u in linear(scalar_rmsnorm(x), w["fc1"])]
            x = [a + b for a, b in zip(x, linear(hidden, w["fc2"]))]
        return linear(x, self.lm_head)

    def loss(self, documents: Sequence[Sequence[int]]) -> Any:
        """Mean of -log p(next token) over every position of every document (token lists
        with BOS at both ends, as Tokenizer.encode gives)."""
        terms = []
        for tokens in documents:
            cache = [([], []) for _ in self.blocks]
            for pos in range(min(self.config.block_size, len(tokens) - 1)):
                logits = self.logits(tokens[pos], pos, cache)
                terms.append(scalar_logsumexp(logits) - logits[tokens[pos + 1]])
        return total(terms) * (1.0 / len(terms))

    def sampler(self) -> Callable[[int], np.ndarray]:
        """feed(token) -> logits of the next token, keeping keys and values between calls."""
        cache: list[tuple[list, list]] = [([], []) for _ in self.blocks]
        pos = iter(range(self.config.block_size))
        return lambda token: np.array([v.data for v in self.logits(token, next(pos), cache)])


class ScalarAdam:
    """nn.Adam for scalar weights of any Value class: their numbers pass through it as one
    flat float64 Tensor, so both engines are updated by the very same rule."""

    def __init__(self, params: list, lr: float) -> None:
        self.params = params
        self.flat = Tensor(np.array([p.data for p in params]), requires_grad=True,
                           dtype=np.float64)
        self.adam = nn.Adam([self.flat], lr=lr, **ADAM)

    def zero_grad(self) -> None:
        """Set every weight's grad to 0.0."""
        for p in self.params:
            p.grad = 0.0

    def step(self) -> None:
        """One Adam update of every weight from its grad."""
        self.flat.grad = Tensor(np.array([p.grad for p in self.params]))
        self.adam.step()
        for p, x in zip(self.params, self.flat.data.tolist()):
            p.data = x

    @property
    def lr(self) -> float:
        return self.adam.param_groups[0]["lr"]

    @lr.setter
    def lr(self, lr: float) -> None:
        self.adam.param_groups[0]["lr"] = lr


# --- the same model in PyTorch, the oracle for --check and bench.gpt


def torch_parameters(state: Mapping[str, np.ndarray]) -> dict:
    """Leaf torch tensors requiring grad, one per weight of a GPT state dict."""
    import torch

    return {name: torch.tensor(w, requires_grad=True) for name, w in state.items()}


def torch_loss(params: Mapping[str, Any], batch: Batch, config: Config) -> Any:
    """GPT.loss written with torch ops (scaled_dot_product_attention, cross_entropy)."""
    import torch
    import torch.nn.functional as F

    def norm(x: torch.Tensor) -> torch.Tensor:
        return x * torch.rsqrt((x * x).mean(dim=-1, keepdim=True) + RMS_EPS)

    inputs = torch.from_numpy(batch.inputs)
    b, t = inputs.shape
    h, d = config.n_head, config.head_dim
    x = norm(params["wte"][inputs] + params["wpe"][:t])
    for i in range(config.n_layer):
        w = {name: params[f"blocks.{i}.{name}"] for name in BLOCK_WEIGHTS}
        y = norm(x)
        q, k, v = ((y @ w[f"attn.w{n}"]).view(b, t, h, d).transpose(1, 2) for n in "qkv")
        heads = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        x = x + heads.transpose(1, 2).reshape(b, t, h * d) @ w["attn.wo"]
        x = x + torch.relu(norm(x) @ w["fc1"]) @ w["fc2"]
    real = torch.from_numpy(batch.mask)
    return F.cross_entropy((x @ params["lm_head"])[real], torch.from_numpy(batch.targets)[real])


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


def value_trainer(model: ScalarGPT, documents: list[list[int]], steps: int,
                  lr: float) -> Callable[[int], float]:
    """step(i) -> loss: microgpt's step, Adam on one name, documents[i] (cycling)."""
    optimizer = ScalarAdam(model.parameters(), lr)

    def step(i: int) -> float:
        loss = model.loss([documents[i % len(documents)]])
        optimizer.zero_grad()
        loss.backward()
        optimizer.lr = learning_rate(i, steps, lr)
        optimizer.step()
        return loss.data
    return step


def fit(step: Callable[[int], float], steps: int, unit: str,
        report: Callable[[int, float], str | None]) -> tuple[list[float], float]:
    """step(0), step(1), ... under a progress bar; `report(i, loss)` may return a line to
    print. Returns the losses and the seconds the steps took (reports not included)."""
    from tqdm import tqdm  # the demos extra

    losses, seconds = [], 0.0
    with tqdm(range(steps), unit=unit, leave=False, disable=None) as bar:
        for i in bar:
            start = time.perf_counter()
            losses.append(step(i))
            seconds += time.perf_counter() - start
            bar.set_postfix(loss=f"{losses[-1]:.3f}", refresh=False)
            line = report(i, losses[-1])
            if line:
                bar.write(line)
    return losses, seconds


# --- --check: both engines and PyTorch, step by step


def largest_gap(reference: Mapping[str, np.ndarray], other: Mapping[str, np.ndarray]) -> float:
    """The largest absolute difference between two sets of named arrays of the same shapes."""
    if reference.keys() != other.keys():
        raise ValueError(f"the two sets of gradients name different weights: "
                         f"{sorted(reference.keys() ^ other.keys())}")
    return max(float(np.max(np.abs(reference[k] - other[k]))) for k in reference)


def check(names: list[str], tokenizer: Tokenizer, config: Config, steps: int, batch_size: int,
          lr: float, seed: int) -> bool:
    """Train the Tensor model, the scalar model and (if installed) PyTorch's side by side
    from the same float64 weights on the same batches; print and compare every step."""
    model = GPT(config, seed, dtype=np.float64)
    scalar = ScalarGPT(Value, model.state_dict(), config)
    tensor_adam = nn.Adam(model.parameters(), lr=lr, **ADAM)
    scalar_adam = ScalarAdam(scalar.parameters(), lr)
    try:
        import torch
    except ImportError:
        torch = None
        print("PyTorch is not installed: checking the two engines against each other only")
    else:
        params = torch_parameters(model.state_dict())
        torch_adam = torch.optim.Adam(params.values(), lr=lr, **ADAM)
    tokens, counts = encode_names(names[:steps * batch_size], tokenizer, config.block_size)
    ok = True
    for step in range(steps):
        batch = make_batch(tokens, counts, np.arange(step * batch_size, (step + 1) * batch_size))
        model.zero_grad()
        scalar_adam.zero_grad()
        loss = model.loss(batch)
        loss.backward()
        losses = {"tensor": loss.item()}
        grads = {"tensor": {name: p.grad for name, p in model.named_parameters()}}
        loss = scalar.loss(batch.documents())
        loss.backward()
        losses["value"], grads["value"] = loss.data, scalar.gradients()
        if torch is not None:
            torch_adam.zero_grad()
            loss = torch_loss(params, batch, config)
            loss.backward()
            losses["torch"] = loss.item()
            grads["torch"] = {name: p.grad.numpy() for name, p in params.items()}
        row = [(f"step {step + 1}: loss {losses['tensor']:.6f} on {int(batch.mask.sum())} "
                f"positions of {batch_size} names")]
        for other, tolerance in CHECK_TOLERANCE.items():
            if other in losses:
                loss_gap = abs(losses[other] - losses["tensor"])
                grad_gap = largest_gap(grads["tensor"], grads[other])
                agree = max(loss_gap, grad_gap) <= tolerance
                ok &= agree
                row.append(f"{other} vs tensor: loss {loss_gap:.1e}, gradients {grad_gap:.1e} "
                           f"({'pass' if agree else 'FAIL'}, tolerance {tolerance:g})")
        print("\n  ".join(row))
        tensor_adam.param_groups[0]["lr"] = scalar_adam.lr = learning_rate(step, steps, lr)
        tensor_adam.step()
        scalar_adam.step()
        if torch is not None:
            torch_adam.param_groups[0]["lr"] = scalar_adam.lr
            torch_adam.step()
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
                        help="compare the engines (and PyTorch) step by step instead of training")
    parser.add_argument("--data", default=None,
                        help="a text file of names, one per line (default: makemore's names.txt "
                             "from the cache, the package, or a download)")
    parser.add_argument("--no-download", action="store_true", help="never download names.txt")
    whole = number(int, 1)
    parser.add_argument("--steps", type=whole, default=None,
                        help="training steps (default: 1000; with --check, 3)")
    parser.add_argument("--batch-size", type=whole, default=None,
                        help="names per step on the Tensor engine (default: 32; with --check, "
                             "4); the value engine takes one, as microgpt")
    parser.add_argument("--lr", type=number(float, 0, inclusive=False), default=0.01,
                        help="Adam's learning rate at step 0; it falls linearly to 0 "
                             "(default: 0.01)")
    parser.add_argument("--n-embd", type=whole, help="embedding size (default: 16)")
    parser.add_argument("--n-head", type=whole, help="attention heads (default: 4)")
    parser.add_argument("--n-layer", type=whole, help="transformer layers (default: 1)")
    parser.add_argument("--block-size", type=whole,
                        help="longest context in tokens; longer names are cut (default: 16)")
    parser.add_argument("--resume", metavar="PATH", default=None,
                        help="start from a checkpoint this demo wrote: its weights, sizes and "
                             "characters")
    parser.add_argument("--temperature", type=number(float, 0, inclusive=False), default=0.5,
                        help="sampling temperature, > 0 (default: 0.5)")
    parser.add_argument("--samples", type=number(int, 0), default=20,
                        help="names to sample (default: 20)")
    parser.add_argument("--eval-every", type=whole, default=None,
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
        documents = [train_tokens[i, :train_counts[i] + 1].tolist() for i in rng.permutation(cut)]
        losses, seconds = fit(value_trainer(scalar, documents, steps, args.lr), steps, "name",
                              report)
        model.load_state_dict(scalar.state_dict())
        sampler = scalar.sampler
    print(f"trained in {seconds:.1f} s (held-out checks aside): "
          f"{steps * batch_size / seconds:,.1f} names per second")
    if not held_out or held_out[-1][0] != steps:
        held_out.append((steps, held_out_loss(model.mean_loss, held_tokens, held_counts)))
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
    print(f"data: {len(names):,} names from {source} ({cut:,} to train on, the last "
          f"{len(names) - cut:,} held out), {len(tokenizer.chars)} characters + BOS")
    if args.check:
        steps, batch_size = args.steps or 3, args.batch_size or 4
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
    print(f"model: {sum(p.numel() for p in model.parameters()):,} weights; {config.n_layer} "
          f"layer(s), {config.n_embd}-dim embeddings, {config.n_head} heads, block "
          f"{config.block_size}, vocabulary {config.vocab_size}")
    losses, held_out, sampler = train(args, model, names, cut, tokenizer)

    prefix = out / f"gpt_{args.engine}"
    model.save(prefix.with_suffix(".safetensors"), checkpoint_metadata(config, tokenizer))
    print(f"wrote {prefix.with_suffix('.safetensors')}")
    per_step = "one name" if args.engine == "value" else f"{args.batch_size or 32} names"
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
