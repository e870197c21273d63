"""The Tensor-only op table: each op with its PyTorch twin, how to draw its operands and
the shapes to check it at. tests/test_tensor.py checks every row against central
differences, PyTorch and float32-keeping (after the rows of tests/op_table.py, which both
engines share); tests/test_rules.py checks the derivative each op's docstring states.
KINKS: the points where an op's derivative is a convention (kinks, ties, nan), with
PyTorch's answers recorded, so that they are checked without PyTorch too."""
from __future__ import annotations

import math

import numpy as np

import engine
import nn.functional as F
from engine import Tensor
from op_table import away_from_zero, positive, real


def unit(rng: np.random.Generator, shape: tuple) -> np.ndarray:
    """Inside (-1, 1), away from its ends: for asin, acos (and tan, away from its poles)."""
    return rng.uniform(-0.9, 0.9, shape)


def _torch():
    """torch, for the torch twins of a few rows below (called only by tests that have it)."""
    import torch
    return torch


SHAPES = [(), (3,), (2, 3), (1, 3), (2, 1, 3)]
PAIRS = [(a, b) for a in SHAPES for b in SHAPES]  # every pair broadcasts; most stretch a dim
MATMUL_PAIRS = [((3,), (3,)), ((3,), (3, 2)), ((2, 3), (3,)), ((2, 3), (3, 4)),
                ((2, 2, 3), (3, 4)), ((2, 3), (2, 3, 4)), ((2, 1, 2, 3), (3, 3, 2)),
                ((4, 2, 3), (3,)), ((3,), (4, 3, 2)),
                ((2, 3, 4, 5), (2, 3, 5, 2)), ((2, 1, 4, 5), (3, 5, 2))]  # (B, H, T, D)
MASK = np.array([True, False, True])
CAUSAL = engine.tril(engine.ones(4, 4)) == 0  # True above the diagonal: the future
EMBED_INDEX = np.array([[0, 3, 3, 1], [4, 0, 3, 3]])  # (B, T) tokens, repeats included
ROWS_FROM_END = np.array([[-1, 0, -5], [2, -1, 4]])  # rows counted from the end, repeated
SHIFT = np.array([[0.0, -1.0, 0.5, -2.0]] * 4)  # a float attention mask, added to the scores
QKV = [((2, 2, 4, 3), (2, 2, 4, 3), (2, 2, 4, 3))]  # (B, heads, T, head size)
REPEATS = np.array([2, 0, 1])  # repeat_interleave's counts, one per entry
QS = [0.0, 0.25, 0.6, 1.0]  # quantile's q as a tensor
ROW_BLOCKED = np.tril(np.ones((4, 4), bool)) & (np.arange(4) != 1)[:, None]  # query 1 sees none


def _tf(name):
    """torch.nn.functional.NAME, for the twins of the convolution rows."""
    return getattr(_torch().nn.functional, name)


def attention(q, k, v, future):
    """Causal self-attention weights applied to v, on our Tensors or torch's."""
    scores = q @ k.transpose(-2, -1) * q.shape[-1] ** -0.5
    return scores.masked_fill(future, -math.inf).softmax(-1) @ v


def _torch_sdpa(*args, **kwargs):
    """PyTorch's scaled_dot_product_attention by its math path: the CPU's flash kernel has
    no second derivative to compare with."""
    from torch.nn.attention import SDPBackend, sdpa_kernel
    with sdpa_kernel(SDPBackend.MATH):
        return _torch().nn.functional.scaled_dot_product_attention(*args, **kwargs)


def _picks_minus_1(logits, tensor):
    """makemore part 4's `dlogits[range(n), Yb] -= 1; dlogits /= n` on a graph node (there
    a softmax, which PyTorch cannot backprop through after it is changed in place)."""
    d = logits * 2
    d[range(2), tensor([2, 0])] -= 1
    d /= 2
    return d


def _rows_added(w, zeros_like):
    """makemore part 4's dC: rows of w added one by one at 0-d int tensor indexes, repeats
    included (`dC[ix] += demb[k, j]`)."""
    out = zeros_like(w)
    picks = zeros_like(w[:, 0]).long() + 1  # [1, 1, 1, 1], of the same kind of tensor
    picks[0] = 0
    for k in range(w.shape[0]):
        out[picks[k]] += w[k] * (k + 1)
    return out


def _lib(x):
    """engine for our Tensors, torch for torch's: rows that call PyTorch's functions by name
    run on both."""
    return engine if isinstance(x, Tensor) else _torch()


def _of(x, array):
    """An int or bool array as a tensor of x's library (the index arguments of the rows)."""
    return Tensor(np.asarray(array)) if isinstance(x, Tensor) else _torch().as_tensor(
        np.asarray(array))


def _written(x, method, *args, **kwargs):
    """x * 1 (a graph node) changed by its in-place `method` (scatter_, index_put_, ...)."""
    out = x * 1
    getattr(out, method)(*args, **kwargs)
    return out


def _vander_twin(x):
    """torch.vander(x)'s columns x**2, x, 1, made without it: its backward fails a version
    check in torch 2.13."""
    return _torch().stack([x * x, x, x ** 0], 1)


# name, function of Tensors, the same on torch tensors (None: the same code runs on both),
# how to draw each input, the input shapes to check it at
TENSOR_OPS = [
    ("pow_method", lambda a: a.pow(3), None, [real], SHAPES),
    ("rsqrt", lambda a: a.rsqrt(), None, [positive], SHAPES),
    ("clamp", lambda a: a.clamp(-0.5, 0.7), None, [real], SHAPES),
    ("clamp_min", lambda a: a.clamp_min(0.5), None, [real], SHAPES),
    ("clamp_max", lambda a: a.clamp(max=0.5), None, [real], SHAPES),
    ("clamp_tensors", lambda x, lo, hi: x.clamp(lo, hi), None, [real, real, real],
     [((2, 3), (3,), (2, 1)), ((3,), (), (3,))]),
    ("maximum", lambda a, b: a.maximum(b), None, [real, real], PAIRS),
    ("minimum", lambda a, b: a.minimum(b), None, [real, real], PAIRS),
    ("where", lambda a, b: engine.where(MASK, a, b),
     lambda a, b: _torch().where(_torch().as_tensor(MASK), a, b), [real, real], PAIRS),
    ("where_method", lambda a, b: a.where(MASK, b),
     lambda a, b: a.where(_torch().as_tensor(MASK), b), [real, real], [((2, 3), (3,))]),
    ("where_number", lambda a: engine.where(MASK, 0.5, a),
     lambda a: _torch().where(_torch().as_tensor(MASK), 0.5, a), [real], SHAPES),
    ("masked_fill", lambda a: a.masked_fill(MASK, -1.5),
     lambda a: a.masked_fill(_torch().as_tensor(MASK), -1.5), [real], SHAPES[1:]),
    ("cat", lambda a, b: engine.cat([a, b, a], -1), lambda a, b: _torch().cat([a, b, a], -1),
     [real, real], [((3,), (2,)), ((2, 3), (2, 1)), ((2, 1, 3), (2, 1, 1))]),
    ("cat_dim0", lambda a, b: engine.cat((a, b), dim=0), lambda a, b: _torch().cat((a, b), 0),
     [real, real], [((2, 3), (1, 3))]),
    ("stack", lambda a, b: engine.stack([a, b, a], 1), lambda a, b: _torch().stack([a, b, a], 1),
     [real, real], [((3,), (3,)), ((2, 3), (2, 3))]),
    ("stack_last", lambda a, b: engine.stack([a, b], dim=-1),
     lambda a, b: _torch().stack([a, b], -1), [real, real], [((2, 3), (2, 3))]),
    ("tril", lambda a: a.tril(), None, [real], [(3, 3), (2, 3, 4)]),
    ("triu_diagonal", lambda a: a.triu(1), None, [real], [(3, 3), (2, 3, 4)]),
    ("tril_function", lambda a: engine.tril(a, -1), lambda a: _torch().tril(a, -1), [real],
     [(3, 4)]),
    ("triu_function", lambda a: engine.triu(a), lambda a: _torch().triu(a), [real], [(3, 4)]),
    ("attention", lambda q, k, v: attention(q, k, v, CAUSAL),
     lambda q, k, v: attention(q, k, v, _torch().as_tensor(CAUSAL.numpy())),
     [real, real, real], [((2, 2, 4, 3), (2, 2, 4, 3), (2, 2, 4, 3))]),
    ("sdpa_causal", lambda q, k, v: F.scaled_dot_product_attention(q, k, v, is_causal=True),
     lambda q, k, v: _torch_sdpa(q, k, v, is_causal=True),
     [real, real, real], QKV),
    ("sdpa_bool_mask_scale",
     lambda q, k, v: F.scaled_dot_product_attention(q, k, v, ~CAUSAL, scale=0.3),
     lambda q, k, v: _torch_sdpa(
         q, k, v, ~_torch().as_tensor(CAUSAL.numpy()), scale=0.3), [real, real, real], QKV),
    ("sdpa_float_mask", lambda q, k, v: F.scaled_dot_product_attention(q, k, v, SHIFT),
     lambda q, k, v: _torch_sdpa(
         q, k, v, _torch().as_tensor(SHIFT, dtype=q.dtype)), [real, real, real], QKV),
    ("sdpa_grouped_heads",
     lambda q, k, v: F.scaled_dot_product_attention(q, k, v, is_causal=True, enable_gqa=True),
     lambda q, k, v: _torch_sdpa(
         q, k, v, is_causal=True, enable_gqa=True), [real, real, real],
     [((1, 4, 4, 3), (1, 2, 4, 3), (1, 2, 4, 3))]),
    ("sdpa_fully_masked_row",  # PyTorch gives zeros there, not NaN
     lambda q, k, v: F.scaled_dot_product_attention(q, k, v, ROW_BLOCKED),
     lambda q, k, v: _torch_sdpa(q, k, v, _torch().as_tensor(ROW_BLOCKED)), [real, real, real],
     QKV),
    ("contiguous_after_transpose", lambda a: a.transpose(0, 1).contiguous().view(-1), None,
     [real], [(2, 3), (2, 1, 3)]),
    ("sort", lambda a: a.sort().values, None, [real], SHAPES),
    ("sort_descending_dim0", lambda a: a.sort(dim=0, descending=True)[0], None, [real],
     SHAPES[1:]),
    ("sort_function", lambda a: engine.sort(a, 1).values, lambda a: _torch().sort(a, 1).values,
     [real], [(2, 3), (2, 1, 3)]),
    ("topk", lambda a: a.topk(2).values, None, [real], [(3,), (2, 3), (2, 1, 3)]),
    ("topk_smallest_dim0", lambda a: a.topk(1, dim=0, largest=False).values, None, [real],
     [(2, 3), (2, 1, 3)]),
    ("topk_function", lambda a: engine.topk(a, 3, -1)[0], lambda a: _torch().topk(a, 3, -1)[0],
     [real], [(2, 3)]),
    ("sin", lambda a: a.sin(), None, [real], SHAPES),
    ("cos", lambda a: engine.cos(a), lambda a: _torch().cos(a), [real], SHAPES),
    ("log1p", lambda a: a.log1p(), None, [positive], SHAPES),
    ("sign", lambda a: a.sign() * a, None, [real], SHAPES),  # 0 from sign, a's own g from *
    ("floor_ceil_trunc_round", lambda a: (a * 3).floor() + a.ceil() + a.trunc() + a.round() + a,
     None, [real], [(2, 3)]),
    ("reciprocal", lambda a: a.reciprocal(), None, [positive], SHAPES),
    ("lerp", lambda a, b: a.lerp(b, 0.3), None, [real, real], [((2, 3), (3,)), ((3,), (2, 3))]),
    ("lerp_tensor_weight", lambda a, b, w: engine.lerp(a, b, w),
     lambda a, b, w: _torch().lerp(a, b, w), [real, real, real], [((2, 3), (2, 3), (3,))]),
    ("cumsum", lambda a: a.cumsum(-1), None, [real], SHAPES[1:]),
    ("cumsum_dim0", lambda a: engine.cumsum(a, 0), lambda a: _torch().cumsum(a, 0), [real],
     [(2, 3), (2, 1, 3)]),
    ("flip", lambda a: a.flip(0), None, [real], SHAPES),  # a 0-d tensor: itself
    ("flip_dims", lambda a: engine.flip(a, (0, -1)), lambda a: _torch().flip(a, (0, -1)),
     [real], [(2, 3), (2, 1, 3)]),
    ("roll", lambda a: a.roll(1, 1), None, [real], [(2, 3), (2, 1, 3)]),
    ("roll_flat", lambda a: a.roll(-2), None, [real], [(3,), (2, 3)]),
    ("roll_dims", lambda a: engine.roll(a, (1, -1), (0, 1)),
     lambda a: _torch().roll(a, (1, -1), (0, 1)), [real], [(2, 3)]),
    ("repeat", lambda a: a.repeat(2, 3), None, [real], [(3,), (2, 3), (1, 3)]),
    ("repeat_more_dims", lambda a: a.repeat(2, 1, 2), None, [real], [(3,), (2, 3)]),
    ("tile", lambda a: engine.tile(a, (2,)), lambda a: _torch().tile(a, (2,)), [real],
     [(3,), (2, 3)]),
    ("index_select", lambda a: a.index_select(-1, engine.tensor([2, 0, 2])), lambda a:
     a.index_select(-1, _torch().tensor([2, 0, 2])), [real], [(3,), (2, 3), (2, 1, 3)]),
    ("select_narrow", lambda a: a.select(0, 1) + a.narrow(0, 0, 1).squeeze(0), None, [real],
     [(2, 3), (2, 1, 3)]),
    ("unbind", lambda a: engine.stack(a.unbind(1)[::-1], 1),
     lambda a: _torch().stack(a.unbind(1)[::-1], 1), [real], [(2, 3), (2, 1, 3)]),
    ("masked_select", lambda a: a.masked_select(MASK), lambda a: a.masked_select(
        _torch().as_tensor(MASK)), [real], [(3,), (2, 3), (2, 1, 3)]),
    ("movedim", lambda a: a.movedim(0, -1), None, [real], [(2, 3), (2, 1, 3)]),
    ("view_as_mT", lambda a, b: a.view_as(b).mT * b.mT, None, [real, real], [((2, 3), (3, 2))]),
    ("mm", lambda a, b: a.mm(b), None, [real, real], [((2, 3), (3, 4))]),
    ("bmm", lambda a, b: engine.bmm(a, b), lambda a, b: _torch().bmm(a, b), [real, real],
     [((2, 2, 3), (2, 3, 4))]),
    ("mv", lambda a, b: a.mv(b), None, [real, real], [((2, 3), (3,))]),
    ("dot", lambda a, b: engine.dot(a, b), lambda a, b: _torch().dot(a, b), [real, real],
     [((3,), (3,))]),
    ("outer", lambda a, b: a.outer(b), None, [real, real], [((3,), (2,))]),
    ("addmm", lambda c, a, b: engine.addmm(c, a, b, beta=0.5, alpha=2.0),
     lambda c, a, b: _torch().addmm(c, a, b, beta=0.5, alpha=2.0), [real, real, real],
     [((4,), (2, 3), (3, 4)), ((2, 4), (2, 3), (3, 4))]),
    ("einsum_batched_matmul", lambda a, b: engine.einsum("bij,bjk->bik", a, b),
     lambda a, b: _torch().einsum("bij,bjk->bik", a, b), [real, real],
     [((2, 2, 3), (2, 3, 2))]),
    ("einsum_attention_scores", lambda q, k: engine.einsum("bhqd,bhkd->bhqk", q, k),
     lambda q, k: _torch().einsum("bhqd,bhkd->bhqk", q, k), [real, real],
     [((1, 2, 3, 2), (1, 2, 4, 2))]),
    ("einsum_ellipsis_broadcast", lambda a, b: engine.einsum("...ij,...jk->...ik", a, b),
     lambda a, b: _torch().einsum("...ij,...jk->...ik", a, b), [real, real],
     [((2, 2, 3), (3, 2)), ((2, 1, 2, 3), (2, 3, 2))]),
    ("einsum_three_operands", lambda a, b, c: engine.einsum("ij,jk,kl->il", a, b, c),
     lambda a, b, c: _torch().einsum("ij,jk,kl->il", a, b, c), [real, real, real],
     [((2, 3), (3, 2), (2, 2))]),
    ("einsum_implicit_and_list", lambda a, b: engine.einsum("ij,jk", [a, b]),
     lambda a, b: _torch().einsum("ij,jk", [a, b]), [real, real], [((2, 3), (3, 2))]),
    ("einsum_sum_outer_transpose", lambda a, b: engine.einsum("ij,k->kji", a, b),
     lambda a, b: _torch().einsum("ij,k->kji", a, b), [real, real], [((2, 3), (2,))]),
    ("einsum_letters_one_operand_has", lambda a, b: engine.einsum("ij,k->i", a, b),
     lambda a, b: _torch().einsum("ij,k->i", a, b), [real, real], [((2, 3), (4,))]),
    # engine/construct.py: built from indexing, reshape, expand and cat (no rules of their own)
    ("diag_of_vector", lambda a: a.diag(), None, [real], [(3,)]),
    ("diag_above_and_below", lambda a: engine.diag(a, 1) + engine.diag(a, -1).T,
     lambda a: _torch().diag(a, 1) + _torch().diag(a, -1).T, [real], [(3,)]),
    ("diag_of_matrix", lambda a: engine.diag(a, -1), lambda a: _torch().diag(a, -1), [real],
     [(3, 3), (4, 2)]),
    ("diagonal_dims", lambda a: a.diagonal(1, 2, 0), None, [real], [(3, 2, 4)]),
    ("trace", lambda a: a.trace(), None, [real], [(3, 3), (2, 4)]),
    ("meshgrid", lambda a, b: engine.stack(engine.meshgrid(a, b, indexing="xy")),
     lambda a, b: _torch().stack(_torch().meshgrid(a, b, indexing="xy")), [real, real],
     [((2,), (3,))]),
    ("broadcast_tensors", lambda a, b: engine.cat(engine.broadcast_tensors(a, b)),
     lambda a, b: _torch().cat(_torch().broadcast_tensors(a, b)), [real, real],
     [((2, 1), (3,)), ((), (2, 3))]),
    ("atleast_3d", lambda a: engine.atleast_3d(a) * 2, lambda a: _torch().atleast_3d(a) * 2,
     [real], [(), (3,), (2, 3)]),
    ("hstack_vstack", lambda a, b: engine.hstack([a, b]).reshape(2, 3) * engine.vstack([a, b]),
     lambda a, b: _torch().hstack([a, b]).reshape(2, 3) * _torch().vstack([a, b]), [real, real],
     [((3,), (3,))]),
    ("column_stack_dstack", lambda a, b: engine.column_stack([a, b]).sum() * engine.dstack([a, a]),
     lambda a, b: _torch().column_stack([a, b]).sum() * _torch().dstack([a, a]), [real, real],
     [((2, 3), (2, 1))]),
    ("repeat_interleave", lambda a: a.repeat_interleave(2), None, [real], [(2, 3)]),
    ("repeat_interleave_counts_dim", lambda a: a.repeat_interleave(REPEATS, dim=1),
     lambda a: a.repeat_interleave(_torch().as_tensor(REPEATS), dim=1), [real], [(2, 3)]),
    ("kron", lambda a, b: engine.kron(a, b), lambda a, b: _torch().kron(a, b), [real, real],
     [((2, 3), (3, 2)), ((3,), (2, 2))]),
    # median, mode, quantile (engine/sorting.py): gathers, so the gradient goes to the picks
    ("median", lambda a: a.median(), None, [real], [(3,), (2, 4)]),
    ("median_dim", lambda a: engine.median(a, 1, keepdim=True).values,
     lambda a: _torch().median(a, 1, keepdim=True).values, [real], [(2, 4), (3, 3)]),
    ("mode_of_a_repeated_row", lambda a: engine.cat([a, a[:1]]).mode(0).values,
     lambda a: _torch().cat([a, a[:1]]).mode(0).values, [real], [(4, 2)]),
    ("mode_of_distinct_entries_is_the_smallest", lambda a: a.mode().values, None, [real],
     [(3,), (2, 3)]),
    ("quantile", lambda a: a.quantile(0.3), None, [real], [(5,), (2, 3)]),
    ("quantile_list_dim", lambda a: a.quantile(engine.tensor(QS, dtype=a.dtype), dim=1),
     lambda a: a.quantile(_torch().tensor(QS, dtype=a.dtype), dim=1), [real], [(2, 5)]),
    ("quantile_midpoint_keepdim", lambda a: a.quantile(0.5, 0, True, interpolation="midpoint"),
     None, [real], [(4, 3)]),
    ("embedding", lambda w: w[EMBED_INDEX], lambda w: w[_torch().as_tensor(EMBED_INDEX)],
     [real], [(5, 3)]),
    ("embedding_tensor_index", lambda w: w[Tensor(EMBED_INDEX)],
     lambda w: w[_torch().as_tensor(EMBED_INDEX)], [real], [(5, 3)]),
    ("rows_from_end", lambda w: w[ROWS_FROM_END], lambda w: w[_torch().as_tensor(ROWS_FROM_END)],
     [real], [(5,), (5, 3), (5, 2, 2)]),
    ("sum", lambda a: a.sum(), None, [real], SHAPES),
    # -- elementwise math (engine/elementwise.py) --
    ("expm1", lambda a: a.expm1(), None, [real], SHAPES),
    ("log2", lambda a: a.log2(), None, [positive], SHAPES),
    ("exp2", lambda a: engine.exp2(a), lambda a: _torch().exp2(a), [real], SHAPES),
    ("tan", lambda a: a.tan(), None, [unit], SHAPES),
    ("sinh", lambda a: a.sinh(), None, [real], SHAPES),
    ("cosh", lambda a: engine.cosh(a), lambda a: _torch().cosh(a), [real], SHAPES),
    ("asin", lambda a: a.asin(), None, [unit], SHAPES),
    ("acos", lambda a: engine.acos(a), lambda a: _torch().acos(a), [unit], SHAPES),
    ("atan", lambda a: a.arctan(), None, [real], SHAPES),
    ("atan2", lambda a, b: a.atan2(b), None, [real, real], PAIRS),
    ("atan2_function", lambda a, b: engine.atan2(a, b), lambda a, b: _torch().atan2(a, b),
     [real, real], [((2, 3), (3,))]),
    ("erf", lambda a: a.erf(), None, [real], SHAPES),
    ("erf_function", lambda a: engine.erf(a * 3), lambda a: _torch().erf(a * 3), [real],
     [(2, 3)]),  # out to the tails
    ("erfc", lambda a: a.erfc(), None, [real], SHAPES),
    ("erfc_function", lambda a: engine.erfc(a * 3), lambda a: _torch().erfc(a * 3), [real],
     [(2, 3)]),  # out to the tails
    ("erfinv", lambda a: a.erfinv(), None, [unit], SHAPES),
    ("erfinv_function", lambda a: engine.erfinv(a * 1.1), lambda a: _torch().erfinv(a * 1.1),
     [unit], [(2, 3)]),  # out to |a| 0.99, beyond the central range
    ("logcumsumexp", lambda a: a.logcumsumexp(-1), None, [real], SHAPES),
    # -- the gamma function (engine/gamma.py), 0.1 and more from its poles. PyTorch's trigamma
    # stops its asymptotic series at x**-7 after six steps up, 5e-10 off at 1: where a row
    # meets it (digamma's gradient, lgamma's second), x is at least 8 or at most -7, 1e-11
    # off, and polygamma_1's values, checked to 1e-12, at 20 +- 2 --
    ("lgamma", lambda a: (a + 10).lgamma(), None, [real], SHAPES),
    ("lgamma_negative", lambda a: engine.lgamma(a * 0.2 - 7.5),
     lambda a: _torch().lgamma(a * 0.2 - 7.5), [real], [(2, 3)]),
    ("digamma", lambda a: (a + 10).digamma(), None, [real], SHAPES),
    ("digamma_negative", lambda a: engine.digamma(a * 0.2 - 7.5),
     lambda a: _torch().digamma(a * 0.2 - 7.5), [real], [(2, 3)]),
    ("polygamma_1", lambda a: engine.polygamma(1, a + 20), lambda a: _torch().polygamma(1, a + 20),
     [real], SHAPES),
    ("polygamma_1_negative", lambda a: (a * 0.2 - 7.5).polygamma(1), None, [real], [(2, 3)]),
    ("polygamma_2", lambda a: engine.polygamma(2, a + 2.5),
     lambda a: _torch().polygamma(2, a + 2.5), [real], SHAPES),
    ("polygamma_2_negative", lambda a: (a * 0.2 - 2.5).polygamma(2), None, [real], [(2, 3)]),
    ("polygamma_3", lambda a: a.polygamma(3), None, [positive], [(2, 3)]),
    ("polygamma_3_negative", lambda a: engine.polygamma(3, a * 0.2 - 0.5),
     lambda a: _torch().polygamma(3, a * 0.2 - 0.5), [real], [(2, 3)]),
    ("special_multigammaln", lambda a: engine.special.multigammaln(a + 10, 3),
     lambda a: _torch().special.multigammaln(a + 10, 3), [real], SHAPES),
    ("logcumsumexp_function", lambda a: engine.logcumsumexp(a * 30, 0),  # e**90: no overflow
     lambda a: _torch().logcumsumexp(a * 30, 0), [real], [(3,), (4, 2)]),
    ("mse_loss", lambda a, b: F.mse_loss(a, b), lambda a, b: _tf("mse_loss")(a, b),
     [real, real], [((2, 3), (2, 3))]),
    ("mse_loss_sum", lambda a, b: F.mse_loss(a, b, reduction="sum"),
     lambda a, b: _tf("mse_loss")(a, b, reduction="sum"), [real, real], [((4,), (4,))]),
    ("mse_loss_none", lambda a, b: F.mse_loss(a, b, reduction="none"),
     lambda a, b: _tf("mse_loss")(a, b, reduction="none"), [real, real], [((2, 2), (2, 2))]),
    ("mse_loss_weighted", lambda a, b, w: F.mse_loss(a, b, weight=w),
     lambda a, b, w: _tf("mse_loss")(a, b, weight=w), [real, real, positive],
     [((2, 3), (2, 3), (2, 3))]),
    ("mse_loss_weighted_sum", lambda a, b, w: F.mse_loss(a, b, None, None, "sum", w),
     lambda a, b, w: _tf("mse_loss")(a, b, None, None, "sum", w), [real, real, positive],
     [((4,), (4,), (4,))]),
    ("mse_loss_weighted_none", lambda a, b, w: F.mse_loss(a, b, reduction="none", weight=w),
     lambda a, b, w: _tf("mse_loss")(a, b, reduction="none", weight=w),
     [real, real, positive], [((2, 2), (2, 2), (2, 2))]),
    ("sinc", lambda a: a.sinc(), None, [real], SHAPES),
    ("sinc_function", lambda a: engine.sinc(a * 3), lambda a: _torch().sinc(a * 3), [real],
     [(2, 3)]),
    ("xlogy", lambda a, b: a.xlogy(b), None, [real, positive], PAIRS),
    ("xlogy_function", lambda a, b: engine.xlogy(a, b), lambda a, b: _torch().xlogy(a, b),
     [real, positive], [((2, 3), (3,))]),
    ("logit", lambda a: (a * 0.5 + 0.5).logit(), None, [unit], SHAPES),
    ("logit_eps", lambda a: engine.logit(a * 0.3 + 0.5, 0.1),  # (beyond eps: KINKS)
     lambda a: _torch().logit(a * 0.3 + 0.5, 0.1), [unit], [(2, 3)]),
    # -- torch.special's own functions (engine/special.py) --
    ("special_ndtr", lambda a: engine.special.ndtr(a * 3),
     lambda a: _torch().special.ndtr(a * 3), [real], SHAPES),
    ("special_ndtri", lambda a: engine.special.ndtri(a * 0.5 + 0.5),
     lambda a: _torch().special.ndtri(a * 0.5 + 0.5), [unit], SHAPES),
    # -- arithmetic by PyTorch's names (engine/arithmetic.py) --
    ("add_alpha", lambda a, b: engine.add(a, b, alpha=-2.5),
     lambda a, b: _torch().add(a, b, alpha=-2.5), [real, real], [((2, 3), (3,))]),
    ("sub_alpha", lambda a, b: engine.sub(a, b, alpha=0.5),
     lambda a, b: _torch().sub(a, b, alpha=0.5), [real, real], [((2, 3), (2, 1))]),
    ("mul_function", lambda a, b: engine.mul(a, b), lambda a, b: _torch().mul(a, b),
     [real, real], [((2, 3), (3,))]),
    ("true_divide", lambda a, b: engine.true_divide(a, b),
     lambda a, b: _torch().true_divide(a, b), [real, away_from_zero], [((2, 3), (3,))]),
    ("div_floor", lambda a, b: engine.div(a, b, rounding_mode="floor"),
     lambda a, b: _torch().div(a, b, rounding_mode="floor"), [real, away_from_zero],
     [((2, 3), (3,))]),
    ("div_trunc_method", lambda a, b: a.div(b, rounding_mode="trunc"), None,
     [real, away_from_zero], [((2, 3), (3,))]),
    ("remainder", lambda a, b: a.remainder(b), None, [real, away_from_zero], PAIRS),
    ("remainder_operator", lambda a, b: a % b, None, [real, away_from_zero], [((2, 3), (3,))]),
    ("remainder_number", lambda a: engine.remainder(a, -0.7),
     lambda a: _torch().remainder(a, -0.7), [real], SHAPES),
    ("fmod", lambda a, b: a.fmod(b), None, [real, away_from_zero], PAIRS),
    ("pow_function", lambda a, b: engine.pow(a, b), lambda a, b: _torch().pow(a, b),
     [positive, real], [((2, 3), (3,))]),
    ("pow_number_base", lambda a: engine.pow(1.5, a), lambda a: _torch().pow(1.5, a), [real],
     SHAPES),
    ("matmul_function", lambda a, b: engine.matmul(a, b), lambda a, b: _torch().matmul(a, b),
     [real, real], [((2, 3), (3, 4))]),
    ("nan_to_num", lambda a: engine.nan_to_num(a.log(), posinf=2.0),  # nan below 0
     lambda a: _torch().nan_to_num(a.log(), posinf=2.0), [real], [(2, 3), (4, 3)]),
    # -- products, norms and differences (engine/reductions.py) --
    ("prod", lambda a: a.prod(), None, [real], SHAPES),
    ("prod_dim", lambda a: engine.prod(a, -1), lambda a: _torch().prod(a, -1), [real],
     SHAPES[1:]),
    ("prod_dim_keepdim", lambda a: a.prod(0, keepdim=True), None, [real], SHAPES[1:]),
    ("norm", lambda a: a.norm(), None, [real], SHAPES),
    ("norm_dim", lambda a: engine.norm(a, dim=-1), lambda a: _torch().norm(a, dim=-1), [real],
     SHAPES[1:]),
    ("norm_p3_keepdim", lambda a: a.norm(3, 0, keepdim=True), None, [real], SHAPES[1:]),
    ("norm_p_half", lambda a: a.norm(0.5, -1), None, [real], SHAPES[1:]),
    ("norm_1", lambda a: a.norm(1, -1), None, [real], SHAPES[1:]),
    ("norm_inf", lambda a: a.norm(math.inf, -1), None, [real], SHAPES[1:]),
    ("norm_minus_inf", lambda a: a.norm(-math.inf), None, [real], SHAPES),
    ("dist", lambda a, b: engine.dist(a, b), lambda a, b: _torch().dist(a, b), [real, real],
     [((2, 3), (3,)), ((3,), ())]),
    ("dist_p3", lambda a, b: a.dist(b, 3), None, [real, real], [((2, 3), (2, 3))]),
    ("var_mean", lambda a: engine.stack(engine.var_mean(a, 1)),
     lambda a: _torch().stack(_torch().var_mean(a, 1)), [real], [(2, 3), (2, 4, 3)]),
    ("std_mean_correction", lambda a: engine.stack(engine.std_mean(a, 0, correction=0)),
     lambda a: _torch().stack(_torch().std_mean(a, 0, correction=0)), [real], [(2, 3)]),
    ("cumprod", lambda a: a.cumprod(-1), None, [real], SHAPES),
    ("cumprod_dim0", lambda a: engine.cumprod(a, 0), lambda a: _torch().cumprod(a, 0), [real],
     [(3, 2), (2, 1, 3)]),
    ("diff", lambda a: a.diff(), None, [real], SHAPES[1:]),
    ("diff_n2_dim0_prepend", lambda a: engine.diff(a, 2, 0, prepend=a[:1] * 2),
     lambda a: _torch().diff(a, 2, 0, prepend=a[:1] * 2), [real], [(3, 2), (2, 1, 3)]),
    ("sum_axis", lambda a: a.sum(0), None, [real], SHAPES[1:]),
    ("sum_keepdims", lambda a: a.sum(axis=-1, keepdims=True), None, [real], SHAPES[1:]),
    ("sum_dim_keepdim", lambda a: a.sum(dim=-1, keepdim=True), None, [real], SHAPES[1:]),
    ("sum_dims", lambda a: a.sum(dim=(0, -1)), None, [real], [(2, 3), (2, 1, 3)]),
    ("log10", lambda a: a.log10(), None, [positive], SHAPES),
    ("log10_function", lambda a: engine.log10(a), lambda a: _torch().log10(a), [positive],
     [(2, 3)]),
    ("var", lambda a: a.var(), None, [real], SHAPES[1:]),  # unbiased: over n - 1
    ("var_dims_keepdim", lambda a: a.var((0, 1), keepdim=True), None, [real],
     [(2, 3), (2, 1, 3)]),  # BatchNorm1d over (batch, time), as makemore part 5
    ("var_unbiased_false", lambda a: a.var(-1, unbiased=False), None, [real], SHAPES[1:]),
    ("var_correction", lambda a: a.var(0, correction=0), None, [real], [(2, 3)]),
    ("std", lambda a: a.std(), None, [real], SHAPES[1:]),
    ("std_dim_keepdim", lambda a: a.std(0, keepdim=True), None, [real], [(2, 3), (2, 1, 3)]),
    ("picks_minus_1_in_place", lambda a: _picks_minus_1(a, engine.tensor),
     lambda a: _picks_minus_1(a, _torch().tensor), [real], [(2, 3)]),  # makemore 4, exercise 2
    ("rows_added_in_place_one_by_one", lambda w: _rows_added(w, engine.zeros_like),
     lambda w: _rows_added(w, _torch().zeros_like), [real], [(4, 3)]),  # part 4's dC
    ("mean", lambda a: a.mean(), None, [real], SHAPES),
    ("mean_axis", lambda a: a.mean(axis=0), None, [real], SHAPES[1:]),
    ("mean_dim_list", lambda a: a.mean(dim=[0, -1]), None, [real], [(2, 3), (2, 1, 3)]),
    ("max", lambda a: a.max(), None, [real], SHAPES),
    ("max_dim", lambda a: a.max(-1).values, None, [real], SHAPES[1:]),
    ("max_dim_keepdim", lambda a: a.max(dim=0, keepdim=True)[0], None, [real], SHAPES[1:]),
    ("max_axis_keepdims", lambda a: a.max(axis=-1, keepdims=True).values,
     lambda a: a.max(-1, keepdim=True).values, [real], SHAPES[1:]),
    ("amax", lambda a: a.amax(-1), None, [real], SHAPES[1:]),
    ("amax_dims", lambda a: a.amax((0, -1), keepdim=True), None, [real], [(2, 3), (2, 1, 3)]),
    ("min", lambda a: a.min(), None, [real], SHAPES),
    ("min_dim", lambda a: a.min(dim=0).values, None, [real], SHAPES[1:]),
    ("amin", lambda a: a.amin(0), None, [real], SHAPES[1:]),
    ("logsumexp", lambda a: a.logsumexp(), lambda a: a.reshape(-1).logsumexp(0), [real], SHAPES),
    ("logsumexp_axis", lambda a: a.logsumexp(axis=-1, keepdims=True),
     lambda a: a.logsumexp(-1, keepdim=True), [real], SHAPES[1:]),
    ("logsumexp_dim", lambda a: a.logsumexp(dim=0), lambda a: a.logsumexp(0), [real],
     SHAPES[1:]),
    ("softmax", lambda a: a.softmax(-1), None, [real], SHAPES[1:]),
    ("softmax_dim", lambda a: a.softmax(dim=0), None, [real], SHAPES[1:]),
    ("log_softmax", lambda a: a.log_softmax(-1), None, [real], SHAPES[1:]),
    ("log_softmax_axis0", lambda a: a.log_softmax(0), None, [real], SHAPES[1:]),
    ("log_softmax_dim", lambda a: a.log_softmax(dim=-1), None, [real], SHAPES[1:]),
    ("reshape", lambda a: a.reshape(-1), None, [real], SHAPES),
    ("reshape_tuple", lambda a: a.reshape((1, -1, 1)), None, [real], SHAPES),
    ("squeeze", lambda a: a.squeeze(), None, [real], SHAPES),
    ("squeeze_dim", lambda a: a.squeeze(0), None, [real], SHAPES[1:]),  # a no-op unless size 1
    ("squeeze_dims", lambda a: a.squeeze((0, 1)), None, [real], [(1, 3), (2, 1, 3)]),
    ("unsqueeze", lambda a: a.unsqueeze(0), None, [real], SHAPES),
    ("unsqueeze_last", lambda a: a.unsqueeze(-1), None, [real], SHAPES),
    ("T", lambda a: a.T, lambda a: a.permute(*reversed(range(a.ndim))) if a.ndim else a,
     [real], SHAPES),
    ("t", lambda a: a.t(), None, [real], [(), (3,), (2, 3)]),
    ("transpose", lambda a: a.transpose(0, -1), None, [real], SHAPES[1:]),
    ("permute", lambda a: a.permute(2, 0, 1), None, [real], [(2, 1, 3)]),
    ("permute_tuple", lambda a: a.permute((2, 0, -2)), None, [real], [(2, 1, 3)]),
    ("clone", lambda a: a.clone() * a, None, [real], SHAPES),
    ("matmul", lambda a, b: a @ b, None, [real, real], MATMUL_PAIRS),
    # convolution and pooling (nn/convolution.py); the second shape of a conv row pairs a
    # 1x1 kernel with an unbatched input, or a kernel as large as the input
    ("conv2d_stride_padding", lambda x, w, b: F.conv2d(x, w, b, stride=2, padding=1),
     lambda x, w, b: _tf("conv2d")(x, w, b, stride=2, padding=1), [real, real, real],
     [((2, 2, 5, 4), (3, 2, 3, 3), (3,)), ((2, 3, 3), (4, 2, 1, 1), (4,))]),
    ("conv2d_same_dilation_groups", lambda x, w: F.conv2d(x, w, None, 1, "same", 2, 2),
     lambda x, w: _tf("conv2d")(x, w, None, 1, "same", 2, 2), [real, real],
     [((1, 4, 5, 5), (4, 2, 2, 3))]),  # an even kernel: 'same' pads one more after
    ("conv2d_pairs_valid", lambda x, w: F.conv2d(x, w, stride=(2, 1), padding="valid",
                                                  dilation=(1, 2)),
     lambda x, w: _tf("conv2d")(x, w, stride=(2, 1), padding="valid", dilation=(1, 2)),
     [real, real], [((2, 2, 5, 6), (3, 2, 2, 2)), ((1, 2, 3, 7), (2, 2, 3, 4))]),
    ("conv1d", lambda x, w, b: F.conv1d(x, w, b, stride=2, padding=1),
     lambda x, w, b: _tf("conv1d")(x, w, b, stride=2, padding=1), [real, real, real],
     [((2, 2, 7), (3, 2, 3), (3,)), ((2, 6), (3, 2, 2), (3,))]),
    ("max_pool2d", lambda x: F.max_pool2d(x, 3, 2, 1), lambda x: _tf("max_pool2d")(x, 3, 2, 1),
     [real], [(2, 2, 5, 6), (2, 4, 4)]),
    ("max_pool2d_dilation", lambda x: F.max_pool2d(x, (2, 3), (1, 2), dilation=(2, 1)),
     lambda x: _tf("max_pool2d")(x, (2, 3), (1, 2), dilation=(2, 1)), [real], [(1, 2, 5, 6)]),
    ("avg_pool2d", lambda x: F.avg_pool2d(x, (2, 3), (1, 2), 1),
     lambda x: _tf("avg_pool2d")(x, (2, 3), (1, 2), 1), [real], [(2, 2, 4, 5), (2, 3, 3)]),
    ("avg_pool2d_count_exclude_pad", lambda x: F.avg_pool2d(x, 3, 2, 1, count_include_pad=False),
     lambda x: _tf("avg_pool2d")(x, 3, 2, 1, count_include_pad=False), [real], [(1, 2, 5, 6)]),
    ("adaptive_avg_pool2d", lambda x: F.adaptive_avg_pool2d(x, (1, 3)),
     lambda x: _tf("adaptive_avg_pool2d")(x, (1, 3)), [real], [(2, 2, 4, 6), (2, 3, 3)]),
    ("pad", lambda x: F.pad(x, (1, 2, -1, 0), value=0.5),
     lambda x: _tf("pad")(x, (1, 2, -1, 0), value=0.5), [real], [(2, 3, 4), (3, 2)]),
    ("max_pool2d_ceil_mode", lambda x: F.max_pool2d(x, 2, 2, ceil_mode=True),
     lambda x: _tf("max_pool2d")(x, 2, 2, ceil_mode=True), [real], [(1, 2, 5, 7)]),
    ("avg_pool2d_ceil_mode", lambda x: F.avg_pool2d(x, 3, 2, 1, ceil_mode=True),
     lambda x: _tf("avg_pool2d")(x, 3, 2, 1, ceil_mode=True), [real], [(1, 2, 6, 5)]),
    ("avg_pool2d_ceil_mode_exclude_pad",
     lambda x: F.avg_pool2d(x, 3, 2, 1, ceil_mode=True, count_include_pad=False),
     lambda x: _tf("avg_pool2d")(x, 3, 2, 1, ceil_mode=True, count_include_pad=False), [real],
     [(1, 2, 6, 5)]),
    ("conv3d", lambda x, w, b: F.conv3d(x, w, b, stride=(2, 1, 1), padding=1, dilation=(1, 1, 2)),
     lambda x, w, b: _tf("conv3d")(x, w, b, stride=(2, 1, 1), padding=1, dilation=(1, 1, 2)),
     [real, real, real], [((2, 2, 3, 4, 5), (3, 2, 2, 3, 2), (3,)),
                          ((2, 3, 3, 2), (4, 2, 1, 1, 1), (4,))]),
    ("conv3d_same_groups", lambda x, w: F.conv3d(x, w, None, 1, "same", (2, 1, 2), 2),
     lambda x, w: _tf("conv3d")(x, w, None, 1, "same", (2, 1, 2), 2), [real, real],
     [((1, 4, 3, 4, 3), (2, 2, 2, 3, 2))]),
    ("max_pool3d", lambda x: F.max_pool3d(x, (2, 3, 2), (1, 2, 2), 1, (2, 1, 1), True),
     lambda x: _tf("max_pool3d")(x, (2, 3, 2), (1, 2, 2), 1, (2, 1, 1), True), [real],
     [(1, 2, 4, 5, 4), (2, 3, 4, 3)]),
    ("avg_pool3d", lambda x: F.avg_pool3d(x, (2, 3, 2), (1, 2, 2), 1, True, False),
     lambda x: _tf("avg_pool3d")(x, (2, 3, 2), (1, 2, 2), 1, True, False), [real],
     [(1, 2, 4, 5, 4), (2, 3, 4, 3)]),
    ("avg_pool3d_divisor_override", lambda x: F.avg_pool3d(x, 2, 1, divisor_override=3),
     lambda x: _tf("avg_pool3d")(x, 2, 1, divisor_override=3), [real], [(2, 1, 3, 3, 4)]),
    ("adaptive_avg_pool3d", lambda x: F.adaptive_avg_pool3d(x, (2, 3, None)),
     lambda x: _tf("adaptive_avg_pool3d")(x, (2, 3, None)), [real],
     [(1, 2, 4, 5, 3), (2, 3, 6, 3)]),
    ("adaptive_max_pool3d", lambda x: F.adaptive_max_pool3d(x, (2, 3, 2)),
     lambda x: _tf("adaptive_max_pool3d")(x, (2, 3, 2)), [real], [(1, 2, 3, 5, 4)]),
    ("pad_reflect", lambda x: F.pad(x, (2, 1, 0, 2), "reflect"),
     lambda x: _tf("pad")(x, (2, 1, 0, 2), mode="reflect"), [real], [(1, 2, 3, 4), (2, 3, 4)]),
    ("pad_replicate", lambda x: F.pad(x, (3, 1), "replicate"),
     lambda x: _tf("pad")(x, (3, 1), mode="replicate"), [real], [(2, 3), (2, 2, 3)]),
    ("pad_circular", lambda x: F.pad(x, (1, 2, 2, 0), "circular"),
     lambda x: _tf("pad")(x, (1, 2, 2, 0), mode="circular"), [real], [(1, 2, 3, 4)]),
    ("rmatmul_array", lambda b: np.arange(6, dtype=np.float32).reshape(2, 3) @ b,
     lambda b: b.new_tensor(np.arange(6.0).reshape(2, 3)) @ b, [real], [(3,), (3, 4)]),
    # -- indexed writes (engine/index_writes.py): index_put and indexing underneath --
    ("scatter", lambda a, s: a.scatter(0, _of(a, [[0, 1, 2, 0], [2, 0, 0, 1]]), s), None,
     [real, real], [((3, 4), (2, 4))]),
    ("scatter_value", lambda a: _lib(a).scatter(a, 1, _of(a, [[2], [0], [1]]), value=-1.5),
     None, [real], [(3, 4)]),
    ("scatter_add", lambda a, s: a.scatter_add(1, _of(a, [[0, 0, 3], [2, 2, 2]]), s), None,
     [real, real], [((2, 4), (2, 3))]),
    *[(f"scatter_reduce_{r}" + ("" if i else "_without_self"),
       lambda a, s, r=r, i=i: a.scatter_reduce(0, _of(a, [[0, 2, 2, 1], [2, 2, 0, 1],
                                                          [0, 2, 0, 1]]), s, r, include_self=i),
       None, [real, real], [((3, 4), (3, 4))])
      for r in ("sum", "prod", "mean", "amax", "amin") for i in (True, False)],
    ("index_add", lambda a, s: a.index_add(1, _of(a, [0, 3, 0]), s, alpha=-2.0), None,
     [real, real], [((2, 4), (2, 3))]),
    ("index_copy", lambda a, s: _lib(a).index_copy(a, 0, _of(a, [2, 0]), s), None,
     [real, real], [((3, 4), (2, 4))]),
    ("index_fill", lambda a: a.index_fill(1, _of(a, [0, 3, 0]), -1.0), None, [real], [(2, 4)]),
    ("index_fill_tensor", lambda a, v: a.index_fill(1, _of(a, [0, 3, 0]), v), None,
     [real, real], [((2, 4), ())]),
    ("index_put_accumulate", lambda a, v: a.index_put((_of(a, [0, 0, 2]), _of(a, [1, 1, 3])), v,
                                                      accumulate=True), None,
     [real, real], [((3, 4), (3,))]),
    ("index_put_rows", lambda a, v: _lib(a).index_put(a, (_of(a, [2, 0]),), v), None,
     [real, real], [((3, 4), (4,))]),
    ("masked_scatter", lambda a, s: a.masked_scatter(_of(a, [[True, False, True, False]]), s),
     None, [real, real], [((3, 4), (7,))]),
    ("put", lambda a, s: a.put(_of(a, [0, -1, 5]), s), None, [real, real], [((3, 4), (3,))]),
    ("put_accumulate", lambda a, s: _lib(a).put(a, _of(a, [0, 0, 5]), s, accumulate=True),
     None, [real, real], [((3, 4), (3,))]),
    ("select_scatter", lambda a, s: a.select_scatter(s, 1, -1), None, [real, real],
     [((3, 4), (3,))]),
    ("slice_scatter", lambda a, s: _lib(a).slice_scatter(a, s, 1, 1, None, 2), None,
     [real, real], [((3, 4), (3, 2))]),
    ("diagonal_scatter", lambda a, s: a.diagonal_scatter(s), None, [real, real],
     [((3, 4), (3,))]),
    ("diagonal_scatter_dims", lambda a, s: _lib(a).diagonal_scatter(a, s, 1, 2, 0), None,
     [real, real], [((3, 2, 4), (2, 2))]),
    ("take", lambda a: a.take(_of(a, [[0, 11], [-1, 0]])), None, [real], [(3, 4)]),
    ("take_along_dim", lambda a: _lib(a).take_along_dim(a, _of(a, [[0], [2], [1]]), 1), None,
     [real], [(3, 4)]),
    ("take_along_dim_flat", lambda a: a.take_along_dim(_of(a, [5, 0, 5])), None, [real],
     [(3, 4)]),
    ("scatter_in_place", lambda a, s: _written(a, "scatter_", 0, _of(a, [[0, 1, 2, 0]]), s),
     None, [real, real], [((3, 4), (1, 4))]),
    ("index_add_in_place", lambda a: _written(a, "index_add_", 0, _of(a, [2, 0]), a[:2] * 3),
     None, [real], [(3, 2)]),
    ("index_put_in_place", lambda a, v: _written(a, "index_put_", (_of(a, [1, 1]),), v,
                                                 accumulate=True), None, [real, real],
     [((3, 2), (2, 2))]),
    # -- more entry-by-entry math (engine/pointwise.py) --
    ("logaddexp", lambda a, b: a.logaddexp(b), None, [real, real], PAIRS),
    ("logaddexp2", lambda a, b: _lib(a).logaddexp2(a * 3, b), None, [real, real],
     [((2, 3), (3,))]),
    ("hypot", lambda a, b: a.hypot(b), None, [real, real], PAIRS),
    ("hypot_in_place", lambda a, b: _written(a, "hypot_", b), None, [real, real],
     [((2, 3), (3,))]),
    ("fmax", lambda a, b: a.fmax(b), None, [real, real], PAIRS),
    ("fmin", lambda a, b: _lib(a).fmin(a, b), None, [real, real], [((2, 3), (3,)), ((3,), ())]),
    ("nextafter", lambda a, b: a.nextafter(b), None, [real, real], [((2, 3), (3,))]),
    ("float_power", lambda a, b: a.float_power(b).to(a.dtype), None, [positive, real],
     [((2, 3), (3,))]),
    ("float_power_number", lambda a: _lib(a).float_power(a, 3).to(a.dtype), None, [real],
     SHAPES),
    ("ldexp", lambda a, b: a.ldexp(b), None, [real, real], [((2, 3), (3,)), ((), (2,))]),
    ("frexp_mantissa", lambda a: _lib(a).frexp(a * 3).mantissa, None, [real], SHAPES),
    ("deg2rad_rad2deg", lambda a: a.deg2rad() + _lib(a).rad2deg(a), None, [real], SHAPES),
    ("sgn_fix_positive", lambda a: a.sgn() * a + _lib(a).fix(a * 3) + a.positive(), None,
     [real], [(2, 3)]),
    # -- rearranging and splitting (engine/rearrange.py) --
    ("ravel_swapaxes", lambda a: _lib(a).swapaxes(a, 0, -1).ravel(), None, [real],
     [(2, 3), (2, 1, 3)]),
    ("unflatten", lambda a: a.unflatten(-1, (2, -1)), None, [real], [(4,), (3, 4)]),
    ("fliplr_flipud", lambda a: a.fliplr() * 2 + _lib(a).flipud(a), None, [real],
     [(2, 2), (3, 3, 2)]),
    *[(f"rot90_{k}", lambda a, k=k: a.rot90(k, [0, -1]), None, [real], [(2, 3), (2, 4, 3)])
      for k in (1, 2, 3)],
    ("narrow_copy", lambda a: a.narrow_copy(-1, 1, 2), None, [real], [(3,), (2, 4)]),
    ("tensor_split", lambda a: _lib(a).cat([p * (k + 1) for k, p in enumerate(
        a.tensor_split([1, 3], dim=-1))], -1), None, [real], [(5,), (2, 5)]),
    ("tensor_split_sections", lambda a: _lib(a).cat([p * (k + 1) for k, p in enumerate(
        _lib(a).tensor_split(a, 3))]), None, [real], [(5,), (4, 2)]),
    ("hsplit_vsplit_dsplit", lambda a: a.hsplit(2)[1].sum() * 2 + a.vsplit([1])[1].sum()
     + _lib(a).dsplit(a, [1])[0] * 3, None, [real], [(2, 4, 2)]),
    # -- tensors assembled from entries (engine/assemble.py) --
    ("diag_embed", lambda a: a.diag_embed(1), None, [real], [(3,), (2, 3)]),
    ("diag_embed_dims", lambda a: _lib(a).diag_embed(a, -1, 0, 2), None, [real], [(2, 3)]),
    ("diagflat", lambda a: a.diagflat(-1), None, [real], [(3,), (2, 2)]),
    ("block_diag", lambda a, b, c: _lib(a).block_diag(a, b, c), None, [real, real, real],
     [((), (3,), (2, 3))]),
    ("cartesian_prod", lambda a, b: _lib(a).cartesian_prod(a, b, a), None, [real, real],
     [((3,), (2,))]),
    ("combinations", lambda a: _lib(a).combinations(a, 3), None, [real], [(4,)]),
    ("combinations_with_replacement", lambda a: _lib(a).combinations(a, with_replacement=True),
     None, [real], [(3,)]),
    ("vander", lambda a: engine.vander(a), _vander_twin, [real], [(3,)]),
    ("vander_increasing", lambda a: engine.vander(a, 5, increasing=True),
     lambda a: _torch().stack([a ** 0, a, a * a, a * a * a, a * a * a * a], 1), [real], [(3,)]),
    # -- order statistics (engine/order_stats.py) --
    ("msort", lambda a: a.msort(), None, [real], [(3,), (3, 2)]),
    ("aminmax", lambda a: _lib(a).stack(list(_lib(a).aminmax(a))), None, [real], SHAPES),
    ("aminmax_dim", lambda a: _lib(a).stack(list(a.aminmax(dim=-1, keepdim=True))), None,
     [real], [(3,), (2, 3)]),
    ("cummax", lambda a: a.cummax(-1).values, None, [real], [(3,), (2, 4)]),
    ("cummin", lambda a: _lib(a).cummin(a, 0)[0], None, [real], [(4,), (4, 2)]),
    ("kthvalue", lambda a: a.kthvalue(2, 0, keepdim=True).values, None, [real], [(3,), (3, 2)]),
    ("nanmedian", lambda a: a.nanmedian(), None, [real], SHAPES),
    ("nanmedian_dim", lambda a: _lib(a).nanmedian(a, 1).values, None, [real], [(2, 4), (3, 3)]),
    ("nanquantile", lambda a: a.nanquantile(0.3, dim=-1), None, [real], [(5,), (2, 5)]),
    # -- sums and statistics (engine/statistics.py) --
    ("nansum", lambda a: a.nansum(), None, [real], SHAPES),
    ("nansum_dim", lambda a: _lib(a).nansum(a, 1, keepdim=True), None, [real], [(2, 3)]),
    ("nanmean", lambda a: a.nanmean(-1), None, [real], [(3,), (2, 3)]),
    ("cov", lambda a: a.cov(), None, [real], [(5,), (3, 5)]),
    ("cov_weights", lambda a, w: _lib(a).cov(a, correction=0, fweights=_of(a, [1, 2, 1, 0, 3]),
                                             aweights=w), None, [real, positive],
     [((3, 5), (5,))]),
    ("corrcoef", lambda a: a.corrcoef(), None, [real], [(3, 5)]),
    ("trapezoid", lambda y: _lib(y).trapezoid(y), None, [real], [(4,), (3, 4)]),
    ("trapezoid_x_dim", lambda y, x: _lib(y).trapezoid(y, x, dim=0), None, [real, real],
     [((4, 3), (4,)), ((4, 3), (4, 3))]),
    ("trapz_dx", lambda y: _lib(y).trapz(y, dx=0.5), None, [real], [(3, 4)]),
    ("cumulative_trapezoid", lambda y, x: _lib(y).cumulative_trapezoid(y, x), None,
     [real, real], [((3, 4), (4,))]),
    ("cumulative_trapezoid_dx", lambda y: _lib(y).cumulative_trapezoid(y, dx=2.0, dim=0), None,
     [real], [(3, 4)]),
    # -- products and distances (engine/contractions.py) --
    ("tensordot", lambda a, b: _lib(a).tensordot(a, b), None, [real, real], [((2, 3, 4), (3, 4))]),
    ("tensordot_dims", lambda a, b: _lib(a).tensordot(a, b, ([2, 0], [1, 0])), None,
     [real, real], [((2, 3, 4), (2, 4))]),
    ("inner", lambda a, b: a.inner(b), None, [real, real], [((2, 3), (4, 3)), ((), (2,))]),
    *[(f"cdist_p{p}", lambda a, b, p=p: engine.cdist(a, b, p),  # (torch's cdist has no second
       lambda a, b, p=p: _torch().linalg.vector_norm(  # derivative: its norm of differences)
           a.unsqueeze(-2) - b.unsqueeze(-3), p, -1), [real, real],
       [((3, 2), (4, 2)), ((2, 1, 3, 2), (3, 4, 2))]) for p in (2.0, 1.0, 0.5, 3.0, math.inf)],
    ("cdist_matrix_product", lambda a, b: _lib(a).cdist(a, b), None, [real, real],
     [((27, 2), (3, 2))]),
    # -- fused products, inverse hyperbolics, frac, copysign, renorm (engine/math_more.py) --
    ("addcmul", lambda a, b, c: _lib(a).addcmul(a, b, c, value=0.5), None, [real] * 3,
     [((2, 3), (3,), (2, 1))]),
    ("addcdiv_in_place", lambda a, b, c: _written(a, "addcdiv_", b, c, value=2.0), None,
     [real, real, away_from_zero], [((2, 3), (3,), (2, 1))]),
    ("addmv", lambda a, m, v: _lib(a).addmv(a, m, v, beta=0.5, alpha=2.0), None, [real] * 3,
     [((2,), (2, 3), (3,))]),
    ("addr", lambda a, u, v: a.addr(u, v, alpha=3.0), None, [real] * 3, [((2, 3), (2,), (3,))]),
    ("addbmm", lambda a, b, c: _lib(a).addbmm(a, b, c, beta=2.0), None, [real] * 3,
     [((2, 4), (3, 2, 3), (3, 3, 4))]),
    ("baddbmm_in_place", lambda a, b, c: _written(a, "baddbmm_", b, c, alpha=0.5), None,
     [real] * 3, [((2, 2, 4), (2, 2, 3), (2, 3, 4))]),
    ("addmm_in_place", lambda a, b, c: _written(a, "addmm_", b, c), None, [real] * 3,
     [((2, 4), (2, 3), (3, 4))]),
    ("vdot", lambda a, b: _lib(a).vdot(a, b), None, [real, real], [((3,), (3,))]),
    ("asinh", lambda a: a.asinh(), None, [real], SHAPES),
    ("acosh", lambda a: _lib(a).arccosh(a + 2), None, [positive], SHAPES),
    ("atanh", lambda a: _lib(a).atanh(a), None, [unit], SHAPES),  # (torch's atanh_: no grad)
    ("frac", lambda a: (a * 3).frac(), None, [real], SHAPES),
    ("copysign", lambda a, b: a.copysign(b), None, [away_from_zero, away_from_zero], PAIRS),
    ("copysign_number", lambda a: _lib(a).copysign(a, -1.0), None, [real], SHAPES),
    ("renorm", lambda a: a.renorm(2, 0, 0.5), None, [real], [(3, 4), (2, 3, 2)]),
    ("renorm_p1_dim1", lambda a: _lib(a).renorm(a, 1, 1, 0.8), None, [real], [(3, 4)]),
    # (from 10: PyTorch's trigamma, in its second derivative, is good to 5e-10 near 3; see above)
    ("mvlgamma", lambda a: (a + 10).mvlgamma(3), None, [positive], SHAPES),
    ("sum_to_size", lambda a: a.sum_to_size(3, 1), None, [real], [(2, 3, 4), (3, 4)]),
    ("split_with_sizes", lambda a: a.split_with_sizes([1, 3], 1)[1], None, [real], [(2, 4)]),
]


# Kinks and ties: name, function, inputs, then PyTorch's output and the gradient of its sum
# for each input, recorded from torch 2.13.0+cpu (test_tensor.py checks the record against
# the torch installed)
KINKS = [
    ("relu", lambda a: a.relu(), [[-1.0, 0.0, 2.0]],  # nothing through 0
     [0.0, 0.0, 2.0], [[0.0, 0.0, 1.0]]),
    ("clamp_min", lambda a: a.clamp_min(0.0), [[-1.0, 0.0, 2.0]],  # everything through 0
     [0.0, 0.0, 2.0], [[0.0, 1.0, 1.0]]),
    ("clamp", lambda a: a.clamp(0.0, 1.0), [[-1.0, 0.0, 0.5, 1.0, 2.0]],
     [0.0, 0.0, 0.5, 1.0, 1.0], [[0.0, 1.0, 1.0, 1.0, 0.0]]),
    ("clamp_equal_bounds", lambda a: a.clamp(1.0, 1.0), [[0.0, 1.0, 2.0]],
     [1.0, 1.0, 1.0], [[0.0, 1.0, 0.0]]),
    ("clamp_crossed_bounds", lambda a: a.clamp(2.0, 1.0), [[0.0, 1.5, 3.0]],
     [1.0, 1.0, 1.0], [[0.0, 0.0, 0.0]]),
    ("clamp_tensor_bounds", lambda x, lo, hi: x.clamp(lo, hi),
     [[0.0, 1.0, 2.0, 3.0, 4.0, 2.0], [1.0, 1.0, 1.0, 3.0, 5.0, 3.0],
      [3.0, 3.0, 3.0, 2.0, 4.0, 3.0]],  # ties with each bound, crossed bounds, lo == hi
     [1.0, 1.0, 2.0, 2.0, 4.0, 3.0],
     [[0.0, 1.0, 1.0, 0.0, 0.0, 0.0], [1.0, 0.0, 0.0, 0.0, 0.0, 0.0],
      [0.0, 0.0, 0.0, 1.0, 1.0, 0.0]]),
    ("clamp_nan", lambda a: a.clamp(0.0, 1.0), [[math.nan]], [math.nan], [[0.0]]),
    ("maximum", lambda a, b: a.maximum(b), [[1.0, 2.0, 3.0, math.nan], [1.0, 3.0, 2.0, 0.0]],
     [1.0, 3.0, 3.0, math.nan], [[0.5, 0.0, 1.0, 1.0], [0.5, 1.0, 0.0, 1.0]]),
    ("minimum", lambda a, b: a.minimum(b), [[1.0, 2.0, 3.0, math.nan], [1.0, 3.0, 2.0, 0.0]],
     [1.0, 2.0, 2.0, math.nan], [[0.5, 1.0, 0.0, 1.0], [0.5, 0.0, 1.0, 1.0]]),
    ("max_ties", lambda a: a.max(), [[[1.0, 3.0, 3.0], [2.0, 0.0, 3.0]]],
     3.0, [[[0.0, 1 / 3, 1 / 3], [0.0, 0.0, 1 / 3]]]),
    ("min_ties", lambda a: a.min(), [[1.0, 1.0, 3.0]], 1.0, [[0.5, 0.5, 0.0]]),
    ("max_pool2d_ties", lambda a: F.max_pool2d(a, 2, 1) if isinstance(a, Tensor)
     else _tf("max_pool2d")(a, 2, 1), [[[[1.0, 1.0, 0.0], [1.0, 1.0, 2.0]]]],
     [[[1.0, 2.0]]], [[[[1.0, 0.0, 0.0], [0.0, 0.0, 1.0]]]]),  # the first of a window's ties
]

KINKS += [  # the math functions' conventions (engine/elementwise.py, arithmetic.py, reductions.py)
    ("prod_zeros", lambda a: a.prod(-1), [[[2.0, 0.0, 3.0], [0.0, 0.0, 5.0], [2.0, 3.0, 4.0]]],
     [0.0, 0.0, 24.0], [[[0.0, 6.0, 0.0], [0.0, 0.0, 0.0], [12.0, 8.0, 6.0]]]),
    ("prod_one_zero", lambda a: a.prod(), [[2.0, 0.0, 3.0]], 0.0, [[0.0, 6.0, 0.0]]),
    ("cumprod_zeros", lambda a: a.cumprod(1), [[[2.0, 0.0, 3.0, 0.5], [0.0, 0.0, 5.0, 1.0]]],
     [[2.0, 0.0, 0.0, 0.0], [0.0, 0.0, 0.0, 0.0]], [[[1.0, 11.0, 0.0, 0.0], [1.0, 0.0, 0.0, 0.0]]]),
    ("norm_zero_row", lambda a: a.norm(dim=-1), [[[0.0, 0.0], [3.0, 4.0]]],
     [0.0, 5.0], [[[0.0, 0.0], [0.6, 0.8]]]),
    ("norm_p3_zero_row", lambda a: a.norm(3, -1), [[[0.0, 0.0], [3.0, 4.0]]],
     [0.0, 4.497941445275415], [[[0.0, 0.0], [0.4448513517305356, 0.7908468475209521]]]),
    ("norm_inf_ties", lambda a: a.norm(math.inf), [[-2.0, 2.0, 1.0]], 2.0, [[-0.5, 0.5, 0.0]]),
    ("norm_-inf_ties", lambda a: a.norm(-math.inf), [[-2.0, 1.0, -1.0]], 1.0,
     [[0.0, 0.5, -0.5]]),
    ("std_of_a_constant_row", lambda a: a.std(-1), [[[1.0, 1.0], [1.0, 3.0]]],
     [0.0, 1.4142135623730951], [[[0.0, 0.0], [-0.7071067811865475, 0.7071067811865475]]]),
    ("sum_over_no_dims_named", lambda a: a.sum(()), [[[1.0, 2.0], [3.0, 4.0]]], 10.0,
     [[[1.0, 1.0], [1.0, 1.0]]]),  # PyTorch's "no dims": all of them (numpy's: none)
    ("mean_over_no_dims_named", lambda a: a.mean([], True), [[[1.0, 2.0], [3.0, 4.0]]],
     [[2.5]], [[[0.25, 0.25], [0.25, 0.25]]]),
    ("cumsum_0d", lambda a: a.cumsum(0), [2.0], 2.0, [1.0]),
    ("quantile_lower_picks_an_infinity", lambda a: a.quantile(0.0, interpolation="lower"),
     [[-math.inf, 1.0, 2.0, math.inf]], -math.inf, [[1.0, 0.0, 0.0, 0.0]]),
    ("quantile_nearest_picks_an_infinity", lambda a: a.quantile(1.0, interpolation="nearest"),
     [[-math.inf, 1.0, 2.0, math.inf]], math.inf, [[0.0, 0.0, 0.0, 1.0]]),
    ("median_of_nothing", lambda a: a.median(), [[]], math.nan, [[]]),
    ("atan2_origin", lambda a, b: a.atan2(b), [[0.0, -0.0, 1.0], [0.0, 0.0, 0.0]],
     [0.0, -0.0, 1.5707963267948966], [[0.0, 0.0, 0.0], [-0.0, 0.0, -1.0]]),
    ("asin_domain_ends", lambda a: a.asin(), [[-1.0, 1.0, 2.0]],
     [-1.5707963267948966, 1.5707963267948966, math.nan], [[math.inf, math.inf, math.nan]]),
    ("xlogy_zeros", lambda a, b: a.xlogy(b), [[0.0, 0.0, 0.0, 1.0, 2.0],
                                                [0.0, -1.0, 2.0, 0.0, math.nan]],
     [0.0, 0.0, 0.0, -math.inf, math.nan],
     [[0.0, 0.0, 0.6931471805599453, -math.inf, math.nan], [math.nan, -0.0, 0.0, math.inf,
                                                            math.nan]]),
    ("logcumsumexp_of_-inf", lambda a: a.logcumsumexp(0), [[-math.inf, 0.0, -1000.0]],
     [-math.inf, 0.0, 0.0], [[math.nan, 2.0, 0.0]]),  # (e**-1000 underflows: no gradient)
    ("sinc_zero", lambda a: a.sinc(), [[0.0, -0.0]], [1.0, 1.0], [[0.0, 0.0]]),
    ("logit_ends", lambda a: a.logit(), [[0.0, 1.5]], [-math.inf, math.nan],
     [[math.inf, math.nan]]),  # (1: inf, as 0's gradient)
    ("logit_eps_bounds", lambda a: a.logit(0.25), [[0.0, 0.25, 0.75, 1.0]],
     [-1.0986122886681098, -1.0986122886681098, 1.0986122886681098, 1.0986122886681098],
     [[0.0, 5.333333333333333, 5.333333333333333, 0.0]]),
    ("erfinv_domain_ends", lambda a: a.erfinv(), [[-1.0, 2.0, 0.0]],  # (+1: test_special.py)
     [-math.inf, math.nan, 0.0], [[math.inf, math.nan, 0.8862269254527579]]),
    # the gamma function's poles and infinities (PyTorch's trigamma at the negative integers,
    # finite, 1e32 or so from sin(pi x)'s rounding, where ours is inf, is left to
    # tests/test_gamma_function.py; digamma's -inf at 0 and inf at -0 are in two rows, as
    # the sum of both would warn of inf - inf)
    ("lgamma_poles", lambda a: a.lgamma(), [[0.0, -0.0, -1.0, math.inf, -math.inf, math.nan]],
     [math.inf, math.inf, math.inf, math.inf, math.inf, math.nan],
     [[-math.inf, math.inf, math.nan, math.inf, math.nan, math.nan]]),
    ("digamma_at_0", lambda a: a.digamma(), [[0.0, -math.inf, math.nan]],
     [-math.inf, math.nan, math.nan], [[math.inf, math.nan, math.nan]]),
    ("digamma_at_-0", lambda a: a.digamma(), [[-0.0, math.inf]], [math.inf, math.inf],
     [[math.inf, 0.0]]),
    ("polygamma_1_poles", lambda a: a.polygamma(1), [[0.0, -0.0, math.inf, -math.inf, math.nan]],
     [math.inf, math.inf, 0.0, math.nan, math.nan], [[-math.inf, -math.inf, math.nan, -math.inf,
                                                      math.nan]]),
    ("polygamma_2_poles", lambda a: a.polygamma(2),
     [[0.0, -0.0, -1.0, math.inf, -math.inf, math.nan]],
     [-math.inf, -math.inf, -math.inf, math.nan, -math.inf, math.nan],
     [[math.inf, math.inf, math.inf, math.nan, math.inf, math.nan]]),
    ("nan_to_num", lambda a: a.nan_to_num(), [[1.0, math.nan, math.inf]],
     [1.0, 0.0, 1.7976931348623157e+308], [[1.0, 0.0, 0.0]]),
    ("remainder_by_zero", lambda a, b: a.remainder(b), [[1.0, -1.0, 0.5], [0.0, 0.5, 0.5]],
     [math.nan, -0.0, 0.0], [[1.0, 1.0, 1.0], [-math.inf, 2.0, -1.0]]),
]

KINKS += [  # indexed writes and the more recent math (engine/index_writes.py, pointwise.py,
    # order_stats.py, statistics.py, contractions.py)
    ("scatter_repeated_index", lambda a, s: a.scatter(0, _of(a, [0, 0]), s),  # the last write
     [[1.0, 2.0, 3.0], [5.0, 6.0]], [6.0, 2.0, 3.0], [[0.0, 1.0, 1.0], [1.0, 1.0]]),  # stays
    ("scatter_reduce_amax_ties_without_self",  # a's own 5 counts among the ties, gets nothing
     lambda a, s: a.scatter_reduce(0, _of(a, [0, 0, 1, 0]), s, "amax", include_self=False),
     [[5.0, 1.0, 2.0], [5.0, 3.0, 1.0, 5.0]],
     [5.0, 1.0, 2.0], [[0.0, 0.0, 1.0], [1 / 3, 0.0, 0.5, 1 / 3]]),
    ("scatter_reduce_amax_ties",
     lambda a, s: a.scatter_reduce(0, _of(a, [0, 0, 1, 0]), s, "amax"),
     [[5.0, 1.0, 2.0], [5.0, 3.0, 1.0, 5.0]],
     [5.0, 1.0, 2.0], [[1 / 3, 0.5, 1.0], [1 / 3, 0.0, 0.5, 1 / 3]]),
    ("scatter_reduce_amax_of_-inf",
     lambda a, s: a.scatter_reduce(0, _of(a, [0, 0, 1]), s, "amax", include_self=False),
     [[-math.inf, 1.0, 2.0], [-math.inf, -math.inf, 1.0]],
     [-math.inf, 1.0, 2.0], [[0.0, 0.0, 1.0], [1 / 3, 1 / 3, 0.5]]),
    ("scatter_reduce_amin_nan", lambda a, s: a.scatter_reduce(0, _of(a, [0, 0, 1, 2]), s, "amin"),
     [[1.0, 1.0, math.nan], [math.nan, 3.0, 1.0, 0.0]],
     [math.nan, 1.0, math.nan], [[math.nan, 0.5, math.nan], [math.nan, math.nan, 0.5, math.nan]]),
    ("scatter_reduce_prod_zeros",  # one zero: the others' product; two: 0
     lambda a, s: a.scatter_reduce(0, _of(a, [0, 0, 1, 2, 2]), s, "prod"),
     [[2.0, 0.0, 3.0], [0.0, 3.0, 4.0, 0.0, 0.0]],
     [0.0, 0.0, 0.0], [[0.0, 4.0, 0.0], [6.0, 0.0, 0.0, 0.0, 0.0]]),
    ("scatter_reduce_mean_without_self",
     lambda a, s: a.scatter_reduce(0, _of(a, [0, 0, 2]), s, "mean", include_self=False),
     [[1.0, 2.0, 3.0], [4.0, 8.0, 5.0]], [6.0, 2.0, 5.0], [[0.0, 1.0, 0.0], [0.5, 0.5, 1.0]]),
    ("index_fill_repeated_index", lambda a, v: a.index_fill(0, _of(a, [0, 2, 0]), v),
     [[1.0, 2.0, 3.0], 7.0], [7.0, 2.0, 7.0], [[0.0, 1.0, 0.0], 2.0]),  # each slice once
    ("take_repeated", lambda a: a.take(_of(a, [1, 1, -1])), [[1.0, 2.0, 3.0]],
     [2.0, 2.0, 3.0], [[0.0, 2.0, 1.0]]),
    ("fmax_nan_and_ties", lambda a, b: a.fmax(b),  # a tie, and two nans: a gets g
     [[1.0, math.nan, 2.0, math.nan, 1.0], [1.0, 0.0, math.nan, math.nan, 3.0]],
     [1.0, 0.0, 2.0, math.nan, 3.0], [[1.0, 0.0, 1.0, 1.0, 0.0], [0.0, 1.0, 0.0, 0.0, 1.0]]),
    ("fmin_nan_and_ties", lambda a, b: a.fmin(b),
     [[1.0, math.nan, 2.0, math.nan, 1.0], [1.0, 0.0, math.nan, math.nan, 3.0]],
     [1.0, 0.0, 2.0, math.nan, 1.0], [[1.0, 0.0, 1.0, 1.0, 1.0], [0.0, 1.0, 0.0, 0.0, 0.0]]),
    ("logaddexp_of_-inf", lambda a, b: a.logaddexp(b),  # (one sign of inf a row, so that
     [[0.0, -math.inf, -math.inf], [0.0, -math.inf, 2.0]],  # their sum is no nan)
     [0.6931471805599453, -math.inf, 2.0], [[0.5, math.nan, 0.0], [0.5, math.nan, 1.0]]),
    ("logaddexp_of_inf", lambda a, b: a.logaddexp(b),
     [[math.inf, math.inf], [math.inf, -math.inf]],
     [math.inf, math.inf], [[math.nan, 1.0], [math.nan, 0.0]]),
    ("logaddexp2_of_infinities", lambda a, b: a.logaddexp2(b),
     [[1.0, -math.inf, -math.inf], [1.0, -math.inf, 3.0]],
     [2.0, -math.inf, 3.0], [[0.5, math.nan, 0.0], [0.5, math.nan, 1.0]]),
    ("logaddexp2_of_inf", lambda a, b: a.logaddexp2(b), [[math.inf], [math.inf]],
     [math.inf], [[math.nan], [math.nan]]),
    ("hypot_at_zero", lambda a, b: a.hypot(b), [[0.0, 3.0, -3.0], [0.0, 4.0, 0.0]],  # 0 / 0
     [0.0, 5.0, 3.0], [[math.nan, 0.6, -1.0], [math.nan, 0.8, 0.0]]),
    ("nextafter_equal_and_nan", lambda a, b: a.nextafter(b),  # nothing where a == b
     [[math.nan, 1.0, 1.0, 2.0], [1.0, math.nan, 1.0, 3.0]],
     [math.nan, math.nan, 1.0, 2.0000000000000004], [[1.0, 1.0, 0.0, 1.0], [0.0, 0.0, 0.0, 0.0]]),
    ("float_power_edges", lambda a, b: a.float_power(b),
     [[0.0, 0.0, -2.0, 4.0], [0.5, 0.0, 2.0, -0.5]], [0.0, 1.0, 4.0, 0.5],
     [[math.inf, 0.0, -4.0, -0.0625], [0.0, 0.0, math.nan, 0.6931471805599453]]),
    ("ldexp_of_zero", lambda a, b: a.ldexp(b), [[0.0, 3.0], [1.5, -1.0]],
     [0.0, 1.5], [[2.8284271247461903, 0.5], [0.0, 1.0397207708399179]]),
    ("frexp_subnormal", lambda a: _lib(a).frexp(a).mantissa,  # g / 2**-1073 is inf
     [[5e-324, 1.0, 0.0, -0.75]], [0.5, 0.5, 0.0, -0.75], [[math.inf, 0.5, 1.0, 1.0]]),
    ("cummax_ties_and_nan", lambda a: a.cummax(0).values,  # the latest tie, then latest nan
     [[1.0, 3.0, 3.0, 2.0, math.nan, 5.0, math.nan]],
     [1.0, 3.0, 3.0, 3.0, math.nan, math.nan, math.nan], [[1.0, 1.0, 2.0, 0.0, 2.0, 0.0, 1.0]]),
    ("cummin_ties_and_nan", lambda a: a.cummin(0).values,
     [[3.0, 1.0, 1.0, 2.0, math.nan, 0.0, math.nan]],
     [3.0, 1.0, 1.0, 1.0, math.nan, math.nan, math.nan], [[1.0, 1.0, 2.0, 0.0, 2.0, 0.0, 1.0]]),
    ("aminmax_ties", lambda a: _lib(a).stack(list(a.aminmax(dim=1))),  # shared evenly
     [[[1.0, 3.0, 3.0], [1.0, 1.0, 0.0]]], [[1.0, 0.0], [3.0, 1.0]],
     [[[1.0, 0.5, 0.5], [0.5, 0.5, 1.0]]]),
    ("kthvalue_ties", lambda a: a.kthvalue(2).values, [[3.0, 1.0, 3.0, 1.0, 2.0]],  # the 2nd 1
     1.0, [[0.0, 0.0, 0.0, 1.0, 0.0]]),
    ("nansum_nanmean", lambda a: _lib(a).stack([a.nansum(), a.nanmean()]),  # nothing to nan
     [[1.0, math.nan, 3.0]], [4.0, 2.0], [[1.5, 0.0, 1.5]]),
    ("nanmedian_dim", lambda a: a.nanmedian(1).values,  # the lower middle of the numbers
     [[[4.0, math.nan, 1.0, 3.0, 2.0], [math.nan, 2.0, math.nan, 2.0, 1.0]]],
     [2.0, 2.0], [[[0.0, 0.0, 0.0, 0.0, 1.0], [0.0, 1.0, 0.0, 0.0, 0.0]]]),
    ("nanquantile", lambda a: a.nanquantile(0.4, dim=1),
     [[[4.0, math.nan, 1.0, 3.0, 2.0], [math.nan, 2.0, math.nan, math.nan, math.nan]]],
     [2.2, 2.0], [[[0.0, 0.0, 0.0, 0.20000000000000018, 0.7999999999999998],
                   [0.0, 1.0, 0.0, 0.0, 0.0]]]),
    ("corrcoef_of_a_constant_row", lambda a: a.corrcoef(),  # 0 / 0
     [[[1.0, 1.0, 1.0], [1.0, 2.0, 4.0]]], [[math.nan, math.nan], [math.nan, 1.0]],
     [[[math.nan, math.nan, math.nan], [math.nan, math.nan, math.nan]]]),
    ("cdist_zero_distance", lambda a, b: _lib(a).cdist(a, b),  # 0 there
     [[[0.0, 0.0], [3.0, 4.0]], [[0.0, 0.0], [3.0, 4.0]]],
     [[0.0, 5.0], [5.0, 0.0]], [[[-0.6, -0.8], [0.6, 0.8]], [[-0.6, -0.8], [0.6, 0.8]]]),
    ("cdist_matrix_product_zero_distance",
     lambda a, b: _lib(a).cdist(a, b, compute_mode="use_mm_for_euclid_dist"),
     [[[0.0, 0.0], [3.0, 4.0]], [[0.0, 0.0], [3.0, 4.0]]], [[0.0, 5.0], [5.0, 0.0]],
     [[[-0.6000000000000001, -0.8], [0.6000000000000001, 0.8]],
      [[-0.6000000000000001, -0.8], [0.6000000000000001, 0.8]]]),
    ("cdist_p1_zero_distance", lambda a, b: _lib(a).cdist(a, b, 1.0),
     [[[0.0, 0.0], [3.0, 4.0]], [[0.0, 0.0], [3.0, 4.0]]],
     [[0.0, 7.0], [7.0, 0.0]], [[[-1.0, -1.0], [1.0, 1.0]], [[-1.0, -1.0], [1.0, 1.0]]]),
    ("cdist_p_half_equal_coordinate", lambda a, b: _lib(a).cdist(a, b, 0.5),  # 0 along it
     [[[4.0, 0.0, 1.0]], [[0.0, 0.0, 0.0]]], [[9.0]], [[[1.5, 0.0, 3.0]], [[-1.5, 0.0, -3.0]]]),
    ("cdist_p_inf_ties", lambda a, b: _lib(a).cdist(a, b, math.inf),  # all of g to each tie
     [[[2.0, -2.0, 1.0], [0.0, 0.0, 0.0]], [[0.0, 0.0, 0.0]]],
     [[2.0], [0.0]], [[[1.0, -1.0, 0.0], [0.0, 0.0, 0.0]], [[-1.0, 1.0, 0.0]]]),
]


# --- nn's activations, losses and normalisations (nn/activation.py, nn/loss.py,
# nn/normalization.py): each a composite of the ops above, or binary_cross_entropy's
# primitive ---

def probability(rng: np.random.Generator, shape: tuple) -> np.ndarray:
    """For binary_cross_entropy's inputs and targets, and kl_div's targets."""
    return rng.uniform(0.05, 0.95, shape)


def _functional(name, *args, **kwargs):
    """F.name(*inputs, *args, **kwargs) on our Tensors, torch.nn.functional.name on torch's
    (the test of KINKS runs a row's one function on both); numpy arguments become tensors
    of the inputs' kind."""
    def f(*xs):
        ours = isinstance(xs[0], Tensor)
        module = F if ours else _torch().nn.functional
        as_tensor = Tensor if ours else _torch().as_tensor
        kw = {k: as_tensor(v) if isinstance(v, np.ndarray) else v for k, v in kwargs.items()}
        return getattr(module, name)(*xs, *args, **kw)
    return f


def _both(name, *args, **kwargs):
    """A row's function and (None) its torch twin: the same code runs on both."""
    return _functional(name, *args, **kwargs), None


WEIGHT = np.array([0.5, 2.0, 1.0], np.float32)  # per-entry loss weights (float32: keeps float32)


NN_OPS = [
    ("leaky_relu", *_both("leaky_relu"), [real], SHAPES),
    ("leaky_relu_slope", *_both("leaky_relu", 0.2), [real], SHAPES[1:]),
    ("elu", *_both("elu", alpha=0.5), [real], SHAPES),
    ("softplus", *_both("softplus"), [real], SHAPES),
    ("softplus_beta_threshold", *_both("softplus", beta=2.0, threshold=1.0), [real], SHAPES[1:]),
    ("mish", *_both("mish"), [real], SHAPES),
    ("silu", *_both("silu"), [real], SHAPES),
    ("hardtanh", *_both("hardtanh"), [real], SHAPES),
    ("hardtanh_bounds", *_both("hardtanh", -0.5, 1.5), [real], SHAPES[1:]),
    ("relu6", lambda a: F.relu6(a * 4), lambda a: _torch().nn.functional.relu6(a * 4), [real],
     SHAPES),
    ("hardswish", lambda a: F.hardswish(a * 3), lambda a: _torch().nn.functional.hardswish(a * 3),
     [real], SHAPES),
    ("softsign", *_both("softsign"), [real], SHAPES),
    ("logsigmoid", *_both("logsigmoid"), [real], SHAPES),
    ("glu", *_both("glu"), [real], [(4,), (2, 4)]),
    ("glu_dim0", *_both("glu", 0), [real], [(4, 3), (2, 1, 3)]),
    ("prelu", *_both("prelu"), [real, real], [((2, 3), (3,)), ((2, 3, 2), (3,)), ((3,), (1,))]),
    ("normalize", *_both("normalize"), [real], [(2, 3), (2, 1, 3)]),
    ("normalize_p1_last", *_both("normalize", 1.0, -1), [real], [(3,), (2, 3)]),
    ("cosine_similarity", *_both("cosine_similarity"), [real, real],
     [((2, 3), (2, 3)), ((2, 3, 2), (3, 1))]),
    ("cosine_similarity_last", *_both("cosine_similarity", dim=-1), [real, real],
     [((2, 3), (3,))]),
    ("binary_cross_entropy", *_both("binary_cross_entropy"), [probability, probability],
     [((3,), (3,)), ((2, 3), (2, 3))]),
    ("binary_cross_entropy_weight_none",
     *_both("binary_cross_entropy", weight=WEIGHT, reduction="none"),
     [probability, probability], [((2, 3), (2, 3))]),
    ("binary_cross_entropy_with_logits", *_both("binary_cross_entropy_with_logits"),
     [real, probability], [((3,), (3,)), ((2, 3), (2, 3))]),
    ("binary_cross_entropy_with_logits_weights",
     *_both("binary_cross_entropy_with_logits", weight=WEIGHT, reduction="sum",
            pos_weight=WEIGHT[::-1].copy()), [real, probability], [((2, 3), (2, 3))]),
    ("l1_loss", *_both("l1_loss"), [real, real], [((3,), (3,)), ((2, 3), (2, 3))]),
    ("l1_loss_sum", *_both("l1_loss", reduction="sum"), [real, real], [((2, 3), (2, 3))]),
    ("smooth_l1_loss", *_both("smooth_l1_loss", beta=0.5), [real, real],
     [((3,), (3,)), ((2, 3), (2, 3))]),
    ("smooth_l1_loss_none", *_both("smooth_l1_loss", reduction="none"), [real, real],
     [((2, 3), (2, 3))]),
    ("huber_loss", *_both("huber_loss", delta=0.5), [real, real], [((3,), (3,)), ((2, 3), (2, 3))]),
    ("huber_loss_sum", *_both("huber_loss", reduction="sum"), [real, real], [((2, 3), (2, 3))]),
    ("kl_div_batchmean", *_both("kl_div", reduction="batchmean"), [real, probability],
     [((2, 3), (2, 3))]),
    ("kl_div_log_target_sum", *_both("kl_div", reduction="sum", log_target=True), [real, real],
     [((3,), (3,)), ((2, 3), (2, 3))]),
    ("rms_norm", lambda x, w: F.rms_norm(x, (3,), w),
     lambda x, w: _torch().nn.functional.rms_norm(x, (3,), w), [real, real],
     [((2, 3), (3,)), ((2, 1, 3), (3,))]),
    ("rms_norm_eps_two_dims", *_both("rms_norm", (2, 3), eps=1e-3), [real], [(2, 3), (2, 2, 3)]),
    ("group_norm", lambda x, w, b: F.group_norm(x, 2, w, b),
     lambda x, w, b: _torch().nn.functional.group_norm(x, 2, w, b), [real, real, real],
     [((2, 4, 3), (4,), (4,)), ((3, 4), (4,), (4,))]),
    ("group_norm_plain", *_both("group_norm", 3), [real], [(2, 3, 2)]),
]
TENSOR_OPS += NN_OPS
KINKS += [
    ("leaky_relu", _functional("leaky_relu", 0.1), [[-1.0, 0.0, 2.0]],  # the slope at 0
     [-0.1, 0.0, 2.0], [[0.1, 0.1, 1.0]]),
    ("prelu", _functional("prelu"), [[-1.0, 0.0, 2.0], [0.25]],
     [-0.25, 0.0, 2.0], [[0.25, 0.25, 1.0], [-1.0]]),
    ("elu", _functional("elu", 0.5), [[-1.0, 0.0, 2.0]],  # alpha at 0
     [-0.31606027941427883, 0.0, 2.0], [[0.18393972058572117, 0.5, 1.0]]),
    ("softplus_at_threshold", _functional("softplus", 1.0, 0.0), [[0.0, 1.0]],  # smooth at it
     [0.6931471805599453, 1.0], [[0.5, 1.0]]),
    ("hardtanh", _functional("hardtanh"), [[-2.0, -1.0, 0.0, 1.0, 2.0]],  # nothing at bounds
     [-1.0, -1.0, 0.0, 1.0, 1.0], [[0.0, 0.0, 1.0, 0.0, 0.0]]),
    ("relu6", _functional("relu6"), [[-1.0, 0.0, 3.0, 6.0, 7.0]],
     [0.0, 0.0, 3.0, 6.0, 6.0], [[0.0, 0.0, 1.0, 0.0, 0.0]]),
    ("hardswish", _functional("hardswish"), [[-4.0, -3.0, 0.0, 3.0, 4.0]],
     [-0.0, -0.0, 0.0, 3.0, 4.0], [[0.0, 0.0, 0.5, 1.0, 1.0]]),
    ("hardsigmoid", _functional("hardsigmoid"), [[-4.0, -3.0, 0.0, 3.0, 4.0]],
     [0.0, 0.0, 0.5, 1.0, 1.0], [[0.0, 0.0, 0.1666666716337204, 0.0, 0.0]]),  # (float32 1/6)
    ("logsigmoid", _functional("logsigmoid"), [[0.0]], [-0.6931471805599453], [[0.5]]),
    ("softsign", _functional("softsign"), [[0.0]], [0.0], [[1.0]]),
    ("l1_loss", _functional("l1_loss", reduction="none"), [[1.0, 2.0], [1.0, 0.0]],
     [0.0, 2.0], [[0.0, 1.0], [-0.0, -1.0]]),
    ("smooth_l1_loss", _functional("smooth_l1_loss", reduction="none", beta=0.5),
     [[0.0, 0.5, -0.5, 1.0], [0.0, 0.0, 0.0, 0.0]],
     [0.0, 0.25, 0.25, 0.75], [[0.0, 1.0, -1.0, 1.0], [0.0, -1.0, 1.0, -1.0]]),
    ("huber_loss", _functional("huber_loss", reduction="none", delta=0.5),
     [[0.0, 0.5, -0.5, 1.0], [0.0, 0.0, 0.0, 0.0]],
     [0.0, 0.125, 0.125, 0.375], [[0.0, 0.5, -0.5, 0.5], [0.0, -0.5, 0.5, -0.5]]),
    ("binary_cross_entropy_at_0_and_1",  # logs clamped at -100, x (1 - x) at float32's 1e-12
     _functional("binary_cross_entropy", reduction="none"),
     [[0.0, 1.0, 0.0, 1.0], [0.0, 0.0, 1.0, 1.0]], [0.0, 100.0, 100.0, -0.0],
     [[0.0, 1000000003995.8029, -1000000003995.8029, 0.0], [math.inf, -math.inf, math.inf,
                                                            -math.inf]]),
    ("binary_cross_entropy_with_logits_of_1000",
     _functional("binary_cross_entropy_with_logits", reduction="none"),
     [[1000.0, -1000.0, 1000.0, 0.0], [0.0, 1.0, 1.0, 0.5]],
     [1000.0, 1000.0, 0.0, 0.6931471805599453], [[1.0, -1.0, 0.0, 0.0],
                                                 [-1000.0, 1000.0, -1000.0, -0.0]]),
    ("kl_div_zero_target", _functional("kl_div", reduction="none"),
     [[-1.0, -2.0], [0.0, 0.5]], [0.0, 0.6534264097200273],
     [[-0.0, -0.5], [math.nan, 2.3068528194400546]]),  # xlogy's nan at t = 0
    ("normalize_zero_vector", _functional("normalize"), [[[0.0, 0.0]]], [[0.0, 0.0]],
     [[[1e12, 1e12]]]),
    ("cosine_similarity_zero_vector", _functional("cosine_similarity"),
     [[[0.0, 0.0]], [[1.0, 0.0]]], [0.0], [[[1e8, 0.0]], [[0.0, 0.0]]]),
]
