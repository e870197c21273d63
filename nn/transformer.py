"""Attention and the Transformer layers, as torch.nn's: MultiheadAttention,
TransformerEncoderLayer and TransformerEncoder, TransformerDecoderLayer and
TransformerDecoder, and Transformer (with its generate_square_subsequent_mask).

Each is a composite of engine ops and nn layers (F.linear, F.softmax,
F.scaled_dot_product_attention, LayerNorm, Dropout), so its gradients are theirs. The
constructors, defaults, parameter names and layouts are PyTorch's (`in_proj_weight` (3E, E),
`out_proj.weight`, `layers.0.self_attn.in_proj_weight`, ...), so a PyTorch state_dict loads
strictly; and the initial weights are drawn as PyTorch draws them, in PyTorch's order, so
after the same seed the two hold the same numbers.

Masks follow PyTorch: a bool mask is True where attention is NOT allowed (key_padding_mask:
True for the keys to ignore), a float mask is added to the scores. As in PyTorch, a query
row with every key masked gives NaN weights when the weights are asked for
(need_weights=True) and zero weights otherwise (scaled_dot_product_attention's rule), which
is what the Transformer layers use. PyTorch's inference fast paths (nested tensors, fused
kernels) are not mirrored: in eval mode under no_grad PyTorch's TransformerEncoder zeroes
the outputs at padded positions before its final norm, where this one computes them.
"""
from __future__ import annotations

import copy
import math
from typing import Any, Callable

import numpy as np

from engine.devices import check as check_device
from engine.dtypes import get_default_dtype
from engine.shapes import cat
from engine.tensor import Tensor, _as_tensor
from nn import functional as F
from nn import init
from nn.container import ModuleList
from nn.layers import Dropout, Linear, _empty, _size
from nn.module import Module
from nn.normalization import LayerNorm
from nn.parameter import Parameter


def _float_mask(mask: Any, name: str, dtype: np.dtype) -> Tensor | None:
    """A mask as PyTorch's _canonical_mask makes it: bool True -> -inf, False -> 0; a float
    mask as it is (it is added to the scores); either in the inputs' dtype."""
    if mask is None:
        return None
    mask = _as_tensor(mask)
    if mask.dtype == np.bool_:
        return Tensor(np.where(mask.numpy(), -np.inf, 0).astype(dtype))
    if mask.dtype.kind != "f":
        raise TypeError(f"only bool and floating types of {name} are supported, got "
                        f"{mask.dtype}")
    return mask._cast(dtype)


def _shape_error(what: str, got: tuple, expected: str) -> ValueError:
    return ValueError(f"MultiheadAttention: {what} must have shape {expected}, got "
                      f"{tuple(got)}")


class MultiheadAttention(Module):
    """Attention over num_heads heads of embed_dim // num_heads numbers each:
    softmax(q k^T / sqrt(head_dim) + mask) v per head, heads concatenated and projected by
    out_proj. Inputs are (L, N, E), (N, L, E) with batch_first, or unbatched (L, E);
    returns (output, attention weights or None)."""

    def __init__(self, embed_dim: int, num_heads: int, dropout: float = 0.0, bias: bool = True,
                 add_bias_kv: bool = False, add_zero_attn: bool = False,
                 kdim: int | None = None, vdim: int | None = None, batch_first: bool = False,
                 device: Any = None, dtype: Any = None) -> None:
        self.embed_dim = _size("MultiheadAttention", "embed_dim", embed_dim)
        self.num_heads = _size("MultiheadAttention", "num_heads", num_heads)
        if embed_dim % num_heads:
            raise ValueError(f"MultiheadAttention: embed_dim ({embed_dim}) must be divisible "
                             f"by num_heads ({num_heads})")
        self.kdim = embed_dim if kdim is None else _size("MultiheadAttention", "kdim", kdim)
        self.vdim = embed_dim if vdim is None else _size("MultiheadAttention", "vdim", vdim)
        self._qkv_same_embed_dim = self.kdim == embed_dim and self.vdim == embed_dim
        self.dropout, self.batch_first = dropout, batch_first
        self.head_dim = embed_dim // num_heads
        self.in_proj_weight = self.q_proj_weight = self.k_proj_weight = self.v_proj_weight = None
        if self._qkv_same_embed_dim:
            self.in_proj_weight = Parameter(_empty((3 * embed_dim, embed_dim), dtype, device))
        else:
            self.q_proj_weight = Parameter(_empty((embed_dim, embed_dim), dtype, device))
            self.k_proj_weight = Parameter(_empty((embed_dim, self.kdim), dtype, device))
            self.v_proj_weight = Parameter(_empty((embed_dim, self.vdim), dtype, device))
        self.in_proj_bias = Parameter(_empty((3 * embed_dim,), dtype, device)) if bias else None
        self.bias_k = self.bias_v = None
        if add_bias_kv:  # a learned key and value every query may attend to
            self.bias_k = Parameter(_empty((1, 1, embed_dim), dtype, device))
            self.bias_v = Parameter(_empty((1, 1, embed_dim), dtype, device))
        self.add_zero_attn = add_zero_attn  # a key and value of zeros, likewise
        # made (and drawn) before _reset_parameters, as in PyTorch: its own init draws first
        self.out_proj = Linear(embed_dim, embed_dim, bias, device, dtype)
        self._reset_parameters()

    def _reset_parameters(self) -> None:
        """PyTorch's: xavier_uniform_ projections, zero biases."""
        for weight in (self.in_proj_weight, self.q_proj_weight, self.k_proj_weight,
                       self.v_proj_weight):
            if weight is not None:
                init.xavier_uniform_(weight)
        if self.in_proj_bias is not None:
            init.constant_(self.in_proj_bias, 0.0)
            init.constant_(self.out_proj.bias, 0.0)
        for extra in (self.bias_k, self.bias_v):
            if extra is not None:
                init.xavier_normal_(extra)

    def _projections(self, query: Tensor, key: Tensor, value: Tensor
                     ) -> tuple[Tensor, Tensor, Tensor]:
        """query, key, value (length, N, dim) each projected to (N, heads, length, head_dim)."""
        e = self.embed_dim
        if self._qkv_same_embed_dim:
            weights = [self.in_proj_weight[i * e:(i + 1) * e] for i in range(3)]
        else:
            weights = [self.q_proj_weight, self.k_proj_weight, self.v_proj_weight]
        bias = self.in_proj_bias
        biases = [None] * 3 if bias is None else [bias[i * e:(i + 1) * e] for i in range(3)]
        return tuple(F.linear(x, w, b).reshape(x.shape[0], x.shape[1], self.num_heads,
                                               self.head_dim).permute(1, 2, 0, 3)
                     for x, w, b in zip((query, key, value), weights, biases))

    def _check(self, query: Tensor, key: Tensor, value: Tensor, key_padding_mask: Tensor | None,
               attn_mask: Tensor | None) -> None:
        """Clear errors for inputs and masks (batched: (L, N, E) here) of the wrong shapes."""
        length, batch, dim = query.shape
        keys = key.shape[0]
        if dim != self.embed_dim:
            raise _shape_error("query", query.shape, f"(L, N, embed_dim={self.embed_dim})")
        if key.shape[-1] != self.kdim or key.shape[1] != batch:
            raise _shape_error("key", key.shape, f"(S, N={batch}, kdim={self.kdim})")
        if value.shape[-1] != self.vdim or value.shape[:2] != key.shape[:2]:
            raise _shape_error("value", value.shape, f"(S={keys}, N={batch}, vdim={self.vdim})")
        if key_padding_mask is not None and tuple(key_padding_mask.shape) != (batch, keys):
            raise _shape_error("key_padding_mask", key_padding_mask.shape,
                               f"(N, S) = {(batch, keys)}")
        if attn_mask is not None and tuple(attn_mask.shape) not in (
                (length, keys), (batch * self.num_heads, length, keys)):
            raise _shape_error("attn_mask", attn_mask.shape,
                               f"(L, S) = {(length, keys)} or (N * num_heads, L, S) = "
                               f"{(batch * self.num_heads, length, keys)}")

    def forward(self, query: Any, key: Any, value: Any, key_padding_mask: Any = None,
                need_weights: bool = True, attn_mask: Any = None,
                average_attn_weights: bool = True,
                is_causal: bool = False) -> tuple[Tensor, Tensor | None]:
        query, key, value = map(_as_tensor, (query, key, value))
        if query.ndim not in (2, 3) or key.ndim != query.ndim or value.ndim != query.ndim:
            raise ValueError(f"MultiheadAttention takes a batched (3-D) or unbatched (2-D) "
                             f"query, key and value alike; got shapes {tuple(query.shape)}, "
                             f"{tuple(key.shape)}, {tuple(value.shape)}")
        batched = query.ndim == 3
        if not batched:
            query, key, value = (x.unsqueeze(1) for x in (query, key, value))
            if key_padding_mask is not None:
                key_padding_mask = _as_tensor(key_padding_mask).unsqueeze(0)
        elif self.batch_first:
            query, key, value = (x.transpose(0, 1) for x in (query, key, value))
        dtype = query.dtype
        key_padding_mask = _float_mask(key_padding_mask, "key_padding_mask", dtype)
        attn_mask = _float_mask(attn_mask, "attn_mask", dtype)
        self._check(query, key, value, key_padding_mask, attn_mask)
        if is_causal and attn_mask is None:
            raise ValueError("MultiheadAttention: is_causal is a hint that attn_mask is the "
                             "causal mask; pass that mask too (e.g. "
                             "nn.Transformer.generate_square_subsequent_mask(L))")
        causal = is_causal and key_padding_mask is None and not need_weights
        length, batch = query.shape[:2]
        keys = key.shape[0]
        q, k, v = self._projections(query, key, value)
        mask = None if causal else attn_mask
        if mask is not None and mask.ndim == 3:
            mask = mask.reshape(batch, self.num_heads, length, keys)
        # the extra keys (bias_k, then a zero key): one more column each, which no mask hides
        extra = [(self.bias_k, self.bias_v)] if self.bias_k is not None else []
        if self.add_zero_attn:
            extra.append((k.new_zeros(1, 1, self.embed_dim), v.new_zeros(1, 1, self.embed_dim)))
        for bias_k, bias_v in extra:
            k, v = (cat([x, b.reshape(1, self.num_heads, 1, self.head_dim).expand(
                batch, self.num_heads, 1, self.head_dim)], 2) for x, b in ((k, bias_k),
                                                                           (v, bias_v)))
            mask = None if mask is None else F.pad(mask, (0, 1))
            if key_padding_mask is not None:
                key_padding_mask = F.pad(key_padding_mask, (0, 1))
            keys += 1
        if key_padding_mask is not None:
            padding = key_padding_mask.reshape(batch, 1, 1, keys)
            mask = padding if mask is None else mask + padding
        dropout_p = self.dropout if self.training else 0.0
        weights = None
        if need_weights:  # PyTorch's explicit path: a fully masked row gives NaN
            scores = (q * math.sqrt(1.0 / self.head_dim)) @ k.transpose(-2, -1)
            weights = F.softmax(scores if mask is None else scores + mask, -1)
            if dropout_p > 0:
                weights = F.dropout(weights, dropout_p)
            heads = weights @ v
        else:
            heads = F.scaled_dot_product_attention(q, k, v, mask, dropout_p, is_causal=causal)
        out = self.out_proj(heads.permute(2, 0, 1, 3).reshape(length, batch, self.embed_dim))
        if weights is not None and average_attn_weights:
            weights = weights.mean(1)
        if not batched:
            return out.squeeze(1), None if weights is None else weights.squeeze(0)
        return (out.transpose(0, 1) if self.batch_first else out), weights


def _activation(activation: str | Callable) -> Callable:
    if activation == "relu":
        return F.relu
    if activation == "gelu":
        return F.gelu
    if callable(activation):
        return activation
    raise ValueError(f"activation should be 'relu', 'gelu' or a callable, not {activation!r}")


def _detect_is_causal_mask(mask: Tensor | None, is_causal: bool | None, size: int) -> bool:
    """PyTorch's: is_causal as given, else whether mask is the causal mask of `size`."""
    if is_causal is not None or mask is None:
        return bool(is_causal)
    causal = np.triu(np.full((size, size), -np.inf), 1)
    return mask.shape == causal.shape and bool((mask.numpy() == causal).all())


def _seq_len(x: Tensor, batch_first: bool) -> int:
    return x.shape[1 if batch_first and x.ndim == 3 else 0]


class _Layer(Module):
    """What the encoder and decoder layers share: the feed-forward block, its norms and
    dropouts, made in PyTorch's order."""

    def _feed_forward(self, d_model: int, dim_feedforward: int, dropout: float,
                      activation: str | Callable, layer_norm_eps: float, norm_first: bool,
                      bias: bool, device: Any, dtype: Any, norms: int) -> None:
        self.linear1 = Linear(d_model, dim_feedforward, bias, device, dtype)
        self.dropout = Dropout(dropout)
        self.linear2 = Linear(dim_feedforward, d_model, bias, device, dtype)
        self.norm_first = norm_first
        for i in range(1, norms + 1):
            setattr(self, f"norm{i}", LayerNorm(d_model, layer_norm_eps, bias=bias,
                                                device=device, dtype=dtype))
        for i in range(1, norms + 1):
            setattr(self, f"dropout{i}", Dropout(dropout))
        self.activation = _activation(activation)

    def _ff_block(self, x: Tensor) -> Tensor:
        out = self.linear2(self.dropout(self.activation(self.linear1(x))))
        return getattr(self, self._ff_dropout)(out)

    def _sa_block(self, x: Tensor, attn_mask: Any, key_padding_mask: Any,
                  is_causal: bool) -> Tensor:
        return self.dropout1(self.self_attn(x, x, x, attn_mask=attn_mask,
                                            key_padding_mask=key_padding_mask,
                                            need_weights=False, is_causal=is_causal)[0])


class TransformerEncoderLayer(_Layer):
    """Self-attention then a feed-forward block (linear1, activation, linear2), each with
    a residual connection and a LayerNorm: after it (post-norm, the default) or before it
    (norm_first=True)."""
    _ff_dropout = "dropout2"

    def __init__(self, d_model: int, nhead: int, dim_feedforward: int = 2048,
                 dropout: float = 0.1, activation: str | Callable = F.relu,
                 layer_norm_eps: float = 1e-5, batch_first: bool = False,
                 norm_first: bool = False, bias: bool = True, device: Any = None,
                 dtype: Any = None) -> None:
        self.self_attn = MultiheadAttention(d_model, nhead, dropout=dropout, bias=bias,
                                            batch_first=batch_first, device=device, dtype=dtype)
        self._feed_forward(d_model, dim_feedforward, dropout, activation, layer_norm_eps,
                           norm_first, bias, device, dtype, norms=2)

    def forward(self, src: Any, src_mask: Any = None, src_key_padding_mask: Any = None,
                is_causal: bool = False) -> Tensor:
        x = _as_tensor(src)
        if self.norm_first:
            x = x + self._sa_block(self.norm1(x), src_mask, src_key_padding_mask, is_causal)
            return x + self._ff_block(self.norm2(x))
        x = self.norm1(x + self._sa_block(x, src_mask, src_key_padding_mask, is_causal))
        return self.norm2(x + self._ff_block(x))


class TransformerDecoderLayer(_Layer):
    """Self-attention over the target, attention from the target to the encoder's output
    (memory), then a feed-forward block; each with a residual connection and a LayerNorm
    (after it, or before it with norm_first=True)."""
    _ff_dropout = "dropout3"

    def __init__(self, d_model: int, nhead: int, dim_feedforward: int = 2048,
                 dropout: float = 0.1, activation: str | Callable = F.relu,
                 layer_norm_eps: float = 1e-5, batch_first: bool = False,
                 norm_first: bool = False, bias: bool = True, device: Any = None,
                 dtype: Any = None) -> None:
        self.self_attn, self.multihead_attn = (
            MultiheadAttention(d_model, nhead, dropout=dropout, bias=bias,
                               batch_first=batch_first, device=device, dtype=dtype)
            for _ in range(2))
        self._feed_forward(d_model, dim_feedforward, dropout, activation, layer_norm_eps,
                           norm_first, bias, device, dtype, norms=3)

    def _mha_block(self, x: Tensor, memory: Tensor, attn_mask: Any, key_padding_mask: Any,
                   is_causal: bool) -> Tensor:
        return self.dropout2(self.multihead_attn(x, memory, memory, attn_mask=attn_mask,
                                                 key_padding_mask=key_padding_mask,
                                                 need_weights=False, is_causal=is_causal)[0])

    def forward(self, tgt: Any, memory: Any, tgt_mask: Any = None, memory_mask: Any = None,
                tgt_key_padding_mask: Any = None, memory_key_padding_mask: Any = None,
                tgt_is_causal: bool = False, memory_is_causal: bool = False) -> Tensor:
        x, memory = _as_tensor(tgt), _as_tensor(memory)
        if self.norm_first:
            x = x + self._sa_block(self.norm1(x), tgt_mask, tgt_key_padding_mask, tgt_is_causal)
            x = x + self._mha_block(self.norm2(x), memory, memory_mask,
                                    memory_key_padding_mask, memory_is_causal)
            return x + self._ff_block(self.norm3(x))
        x = self.norm1(x + self._sa_block(x, tgt_mask, tgt_key_padding_mask, tgt_is_causal))
        x = self.norm2(x + self._mha_block(x, memory, memory_mask, memory_key_padding_mask,
                                           memory_is_causal))
        return self.norm3(x + self._ff_block(x))


class _Stack(Module):
    """num_layers deep copies of a layer (`layers.0`, `layers.1`, ...), as PyTorch makes
    them (so all start equal), and an optional final norm."""

    def __init__(self, layer: Module, num_layers: int, norm: Module | None = None) -> None:
        if not isinstance(layer, Module):
            raise TypeError(f"{type(self).__name__} takes a layer Module to copy, got "
                            f"{type(layer).__name__}")
        self.layers = ModuleList(copy.deepcopy(layer) for _ in range(num_layers))
        self.num_layers = _size(type(self).__name__, "num_layers", num_layers)
        self.norm = norm

    def _finish(self, output: Tensor) -> Tensor:
        return output if self.norm is None else self.norm(output)


class TransformerEncoder(_Stack):
    """A stack of encoder layers, then the optional norm. A mask equal to the causal
    mask is passed on with is_causal=True, as PyTorch detects it."""

    def __init__(self, encoder_layer: TransformerEncoderLayer, num_layers: int,
                 norm: Module | None = None, enable_nested_tensor: bool = True,
                 mask_check: bool = True) -> None:
        super().__init__(encoder_layer, num_layers, norm)
        # PyTorch's nested-tensor inference path is not mirrored; the flags are kept
        self.enable_nested_tensor, self.mask_check = enable_nested_tensor, mask_check

    def forward(self, src: Any, mask: Any = None, src_key_padding_mask: Any = None,
                is_causal: bool | None = None) -> Tensor:
        output = _as_tensor(src)
        mask = _float_mask(mask, "mask", output.dtype)
        src_key_padding_mask = _float_mask(src_key_padding_mask, "src_key_padding_mask",
                                           output.dtype)
        is_causal = _detect_is_causal_mask(
            mask, is_causal, _seq_len(output, self.layers[0].self_attn.batch_first))
        for layer in self.layers:
            output = layer(output, src_mask=mask, src_key_padding_mask=src_key_padding_mask,
                           is_causal=is_causal)
        return self._finish(output)


class TransformerDecoder(_Stack):
    """A stack of decoder layers over the same memory, then the optional norm."""

    def __init__(self, decoder_layer: TransformerDecoderLayer, num_layers: int,
                 norm: Module | None = None) -> None:
        super().__init__(decoder_layer, num_layers, norm)

    def forward(self, tgt: Any, memory: Any, tgt_mask: Any = None, memory_mask: Any = None,
                tgt_key_padding_mask: Any = None, memory_key_padding_mask: Any = None,
                tgt_is_causal: bool | None = None, memory_is_causal: bool = False) -> Tensor:
        output = _as_tensor(tgt)
        mask = None if tgt_mask is None else _as_tensor(tgt_mask)
        tgt_is_causal = _detect_is_causal_mask(
            mask, tgt_is_causal, _seq_len(output, self.layers[0].self_attn.batch_first))
        for layer in self.layers:
            output = layer(output, memory, tgt_mask=tgt_mask, memory_mask=memory_mask,
                           tgt_key_padding_mask=tgt_key_padding_mask,
                           memory_key_padding_mask=memory_key_padding_mask,
                           tgt_is_causal=tgt_is_causal, memory_is_causal=memory_is_causal)
        return self._finish(output)


class Transformer(Module):
    """An encoder (num_encoder_layers layers and a final LayerNorm) and a decoder
    (likewise) as in "Attention Is All You Need"; every weight matrix starts
    xavier_uniform_, as PyTorch's."""

    def __init__(self, d_model: int = 512, nhead: int = 8, num_encoder_layers: int = 6,
                 num_decoder_layers: int = 6, dim_feedforward: int = 2048, dropout: float = 0.1,
                 activation: str | Callable = F.relu, custom_encoder: Module | None = None,
                 custom_decoder: Module | None = None, layer_norm_eps: float = 1e-5,
                 batch_first: bool = False, norm_first: bool = False, bias: bool = True,
                 device: Any = None, dtype: Any = None) -> None:
        settings = (d_model, nhead, dim_feedforward, dropout, activation, layer_norm_eps,
                    batch_first, norm_first, bias, device, dtype)
        norm = dict(eps=layer_norm_eps, bias=bias, device=device, dtype=dtype)
        self.encoder = custom_encoder if custom_encoder is not None else TransformerEncoder(
            TransformerEncoderLayer(*settings), num_encoder_layers, LayerNorm(d_model, **norm))
        self.decoder = custom_decoder if custom_decoder is not None else TransformerDecoder(
            TransformerDecoderLayer(*settings), num_decoder_layers, LayerNorm(d_model, **norm))
        for p in self.parameters():
            if p.ndim > 1:
                init.xavier_uniform_(p)
        self.d_model, self.nhead, self.batch_first = d_model, nhead, batch_first

    def forward(self, src: Any, tgt: Any, src_mask: Any = None, tgt_mask: Any = None,
                memory_mask: Any = None, src_key_padding_mask: Any = None,
                tgt_key_padding_mask: Any = None, memory_key_padding_mask: Any = None,
                src_is_causal: bool | None = None, tgt_is_causal: bool | None = None,
                memory_is_causal: bool = False) -> Tensor:
        src, tgt = _as_tensor(src), _as_tensor(tgt)
        batch = 0 if self.batch_first else 1
        if src.ndim == 3 and src.shape[batch] != tgt.shape[batch]:
            raise ValueError(f"Transformer: src {tuple(src.shape)} and tgt {tuple(tgt.shape)} "
                             f"must have the same batch size (dim {batch})")
        if src.shape[-1] != self.d_model or tgt.shape[-1] != self.d_model:
            raise ValueError(f"Transformer: src {tuple(src.shape)} and tgt {tuple(tgt.shape)} "
                             f"must both end in d_model = {self.d_model}")
        memory = self.encoder(src, mask=src_mask, src_key_padding_mask=src_key_padding_mask,
                              is_causal=src_is_causal)
        return self.decoder(tgt, memory, tgt_mask=tgt_mask, memory_mask=memory_mask,
                            tgt_key_padding_mask=tgt_key_padding_mask,
                            memory_key_padding_mask=memory_key_padding_mask,
                            tgt_is_causal=tgt_is_causal, memory_is_causal=memory_is_causal)

    @staticmethod
    def generate_square_subsequent_mask(sz: int, device: Any = None,
                                        dtype: Any = None) -> Tensor:
        """The causal mask: -inf above the diagonal (future positions), 0 elsewhere."""
        check_device(device)
        return Tensor(np.triu(np.full((sz, sz), -np.inf), 1), dtype=dtype or get_default_dtype())
