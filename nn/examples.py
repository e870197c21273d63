"""A small GPT written the PyTorch way, once, for either library: `make_gpt(torch)` or
`make_gpt(engine)` returns the model class built from that library's `nn`,
`nn.functional` and tensor functions, so the same lines train on PyTorch and here.

It is the model of Karpathy's "Let's build GPT" lecture: token and position embeddings,
blocks of multi-head causal self-attention (each head its own key, query and value Linear,
a lower-triangular `tril` buffer masking the future through masked_fill) and a ReLU MLP
(a Sequential), each behind a LayerNorm and added back onto its input, Dropout, a final
LayerNorm and a Linear head; F.cross_entropy for the loss. tests/test_examples_gpt.py trains
it on both libraries from the same weights and compares every step; bench/transformer.py
times its training step against PyTorch.
"""
from __future__ import annotations

from typing import Any


def make_gpt(torch: Any) -> type:
    """The GPT class on `torch`: the torch module itself, or `engine` (import engine as torch)."""
    nn = torch.nn
    F = torch.nn.functional

    class Head(nn.Module):
        """One head of causal self-attention."""

        def __init__(self, n_embd: int, head_size: int, block_size: int, dropout: float) -> None:
            super().__init__()
            self.key = nn.Linear(n_embd, head_size, bias=False)
            self.query = nn.Linear(n_embd, head_size, bias=False)
            self.value = nn.Linear(n_embd, head_size, bias=False)
            self.register_buffer("tril", torch.tril(torch.ones(block_size, block_size)))
            self.dropout = nn.Dropout(dropout)

        def forward(self, x: Any) -> Any:
            B, T, C = x.shape
            k, q = self.key(x), self.query(x)  # (B, T, head_size)
            wei = q @ k.transpose(-2, -1) * k.shape[-1] ** -0.5  # (B, T, T) affinities
            wei = wei.masked_fill(self.tril[:T, :T] == 0, float("-inf"))  # no looking ahead
            wei = self.dropout(F.softmax(wei, dim=-1))
            return wei @ self.value(x)

    class MultiHeadAttention(nn.Module):
        """Several heads side by side, their outputs joined and projected back."""

        def __init__(self, n_embd: int, n_head: int, block_size: int, dropout: float) -> None:
            super().__init__()
            size = n_embd // n_head
            self.heads = nn.ModuleList([Head(n_embd, size, block_size, dropout)
                                        for _ in range(n_head)])
            self.proj = nn.Linear(size * n_head, n_embd)
            self.dropout = nn.Dropout(dropout)

        def forward(self, x: Any) -> Any:
            out = torch.cat([h(x) for h in self.heads], dim=-1)
            return self.dropout(self.proj(out))

    class Block(nn.Module):
        """Communication (attention), then computation (an MLP), each on a LayerNorm of x
        and added back onto x."""

        def __init__(self, n_embd: int, n_head: int, block_size: int, dropout: float) -> None:
            super().__init__()
            self.sa = MultiHeadAttention(n_embd, n_head, block_size, dropout)
            self.ffwd = nn.Sequential(nn.Linear(n_embd, 4 * n_embd), nn.ReLU(),
                                      nn.Linear(4 * n_embd, n_embd), nn.Dropout(dropout))
            self.ln1 = nn.LayerNorm(n_embd)
            self.ln2 = nn.LayerNorm(n_embd)

        def forward(self, x: Any) -> Any:
            x = x + self.sa(self.ln1(x))
            return x + self.ffwd(self.ln2(x))

    class GPT(nn.Module):
        """Token ids (B, T) in, next-token logits (B, T, vocab_size) out, and the loss when
        targets are given."""

        def __init__(self, vocab_size: int, n_embd: int = 64, n_head: int = 4, n_layer: int = 2,
                     block_size: int = 32, dropout: float = 0.0) -> None:
            super().__init__()
            self.block_size = block_size
            self.token_embedding_table = nn.Embedding(vocab_size, n_embd)
            self.position_embedding_table = nn.Embedding(block_size, n_embd)
            self.blocks = nn.Sequential(*[Block(n_embd, n_head, block_size, dropout)
                                          for _ in range(n_layer)])
            self.ln_f = nn.LayerNorm(n_embd)
            self.lm_head = nn.Linear(n_embd, vocab_size)

        def forward(self, idx: Any, targets: Any = None) -> tuple[Any, Any]:
            B, T = idx.shape
            x = self.token_embedding_table(idx) + self.position_embedding_table(torch.arange(T))
            logits = self.lm_head(self.ln_f(self.blocks(x)))
            if targets is None:
                return logits, None
            B, T, C = logits.shape
            return logits, F.cross_entropy(logits.view(B * T, C), targets.view(B * T))

        def generate(self, idx: Any, max_new_tokens: int) -> Any:
            """idx (B, T) extended by max_new_tokens sampled tokens."""
            for _ in range(max_new_tokens):
                logits, _ = self(idx[:, -self.block_size:])
                probs = F.softmax(logits[:, -1, :], dim=-1)
                idx = torch.cat((idx, torch.multinomial(probs, num_samples=1)), dim=1)
            return idx

    return GPT
