"""demos.gpt's model written elsewhere, to check it and to measure it against.

- `torch_parameters`, `torch_loss`, `TorchTwin`: the same GPT in PyTorch (an oracle:
  tests/test_gpt.py trains it beside ours, bench.gpt times it);
- `LocalValue`: a minimal scalar Value in microgpt's style (ScalarGPT runs on any Value
  class: tests show it, bench.gpt times it against ours).

Oracles belong to the tests and the benchmarks, not to a demo; this module lives with the
tests, and bench/gpt.py imports it from here (`tests.gpt_twins`), so the tests never import
from bench. Nothing here is imported by the package.
"""
from __future__ import annotations

import math
from typing import Any, Mapping

import numpy as np

from demos.gpt import ADAM
from demos.gpt_model import BLOCK_WEIGHTS, RMS_EPS, Batch, Config

# --- PyTorch's twin


def torch_parameters(state: Mapping[str, np.ndarray]) -> dict:
    """Leaf torch tensors requiring grad, one per weight of a GPT state dict."""
    import torch

    return {name: torch.tensor(np.asarray(w), requires_grad=True) for name, w in state.items()}


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


class TorchTwin:
    """PyTorch's model as a twin for demos.gpt.check: torch.optim.Adam from the same weights."""

    tolerance = 1e-6  # the largest gap from the Tensor engine, float64 on both

    def __init__(self, state: Mapping[str, np.ndarray], config: Config, lr: float) -> None:
        import torch

        self.config, self.params = config, torch_parameters(state)
        self.adam = torch.optim.Adam(self.params.values(), lr=lr, **ADAM)

    def loss_and_grads(self, batch: Batch) -> tuple[float, dict[str, np.ndarray]]:
        self.adam.zero_grad()
        loss = torch_loss(self.params, batch, self.config)
        loss.backward()
        return loss.item(), {name: p.grad.numpy() for name, p in self.params.items()}

    def step(self, lr: float) -> None:
        self.adam.param_groups[0]["lr"] = lr
        self.adam.step()


# --- microgpt's Value


class LocalValue:
    """A scalar node in microgpt's style: it keeps its operands and, as a tuple of numbers,
    the derivative of its value with respect to each."""

    __slots__ = ("data", "grad", "_children", "_local_grads")

    def __init__(self, data: float, children: tuple = (), local_grads: tuple = ()) -> None:
        self.data = data
        self.grad = 0.0
        self._children = children
        self._local_grads = local_grads

    def __add__(self, other: Any) -> LocalValue:
        other = other if isinstance(other, LocalValue) else LocalValue(other)
        return LocalValue(self.data + other.data, (self, other), (1.0, 1.0))

    def __mul__(self, other: Any) -> LocalValue:
        other = other if isinstance(other, LocalValue) else LocalValue(other)
        return LocalValue(self.data * other.data, (self, other), (other.data, self.data))

    def __pow__(self, exponent: float) -> LocalValue:
        return LocalValue(self.data ** exponent, (self,), (exponent * self.data ** (exponent - 1),))

    def exp(self) -> LocalValue:
        e = math.exp(self.data)
        return LocalValue(e, (self,), (e,))

    def log(self) -> LocalValue:
        return LocalValue(math.log(self.data), (self,), (1.0 / self.data,))

    def relu(self) -> LocalValue:
        return LocalValue(max(0.0, self.data), (self,), (float(self.data > 0),))

    def __neg__(self) -> LocalValue:
        return self * -1.0

    def __sub__(self, other: Any) -> LocalValue:
        return self + -other

    def __truediv__(self, other: Any) -> LocalValue:
        return self * other ** -1.0

    __radd__ = __add__
    __rmul__ = __mul__

    def backward(self) -> None:
        """Every node's gradient, by the chain rule in reverse topological order."""
        order, seen = [], set()

        def visit(node: LocalValue) -> None:  # recursive, as microgpt's
            if node not in seen:
                seen.add(node)
                for child in node._children:
                    visit(child)
                order.append(node)
        visit(self)
        self.grad = 1.0
        for node in reversed(order):
            for child, local in zip(node._children, node._local_grads):
                child.grad += local * node.grad

