"""The names GPT of demos.gpt, on Tensors (`GPT`) and on scalars (`ScalarGPT`), and the
tokens it reads (`Tokenizer`, `Batch`).

The model is the one Karpathy's microgpt trains with a scalar autograd engine: token and
position embeddings, RMSNorm (no gain), then per layer causal multi-head self-attention
and a ReLU MLP (4x wide), each wrapped in a residual connection, and an output projection
(lm_head) of its own, not tied to the token embedding, as in microgpt. No biases. Every
weight starts as a Gaussian with standard deviation 0.08. Defaults are microgpt's size:
16-dim embeddings, 4 heads, block 16, 1 layer (4,192 weights on 27 characters).

`GPT` takes a batch of names at once, padded on the right, the padding left out of the
loss. `ScalarGPT` builds the same model out of Value scalars, one character at a time with
a cache of keys and values, as microgpt does; it starts from a GPT's state dict and gives
its gradients back in that layout, so the two engines can be compared number by number.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Mapping, Sequence

import numpy as np

import nn
from engine import Tensor, no_grad, ones, tril

INIT_STD = 0.08  # microgpt's: every weight starts as Gaussian noise of this size
RMS_EPS = 1e-5
IGNORE = -1  # the target of a padding position: cross_entropy leaves it out
BLOCK_WEIGHTS = ("attn.wq", "attn.wk", "attn.wv", "attn.wo", "fc1", "fc2")  # in each layer


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

    @property
    def n_weights(self) -> int:
        """How many numbers the model learns: embeddings, each layer's six matrices, lm_head."""
        c = self.n_embd
        return (2 * self.vocab_size + self.block_size) * c + 12 * c * c * self.n_layer


# --- names as tokens


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
                return self(np.array([tokens])).numpy()[0, -1]
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
