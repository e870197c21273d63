"""nn/transformer.py: MultiheadAttention and the Transformer layers against torch.nn
(outputs and input and parameter gradients in float64 for every mask kind and layout; in
training with dropout, from the same seed, in float32 and float64; PyTorch's initial
numbers after the same seed, state_dict names and loading both ways), values recorded from
PyTorch for runs without it, deep copies, and errors."""
from __future__ import annotations


import numpy as np
import pytest

import engine
import nn
from engine import Tensor

rng = np.random.default_rng(0)
E, H, L, S, N = 8, 2, 4, 5, 3  # embed_dim, heads, target and source lengths, batch


def randomize(module: nn.Module) -> nn.Module:
    """module with random weights (not the initial zeros and ones, so every term counts)."""
    for p in module.parameters():
        p.numpy()[...] = rng.normal(size=p.shape)
    return module


def twin(torch, ours: nn.Module, theirs):
    """theirs in ours's dtype holding ours's weights, loaded strictly, in ours's mode."""
    state = {k: torch.from_numpy(v.numpy()) for k, v in ours.state_dict().items()}
    theirs = theirs.to(next(iter(state.values())).dtype)
    theirs.load_state_dict(state)
    return theirs.train(ours.training)


def assert_same(torch, ours, theirs, inputs: list, masks: dict, rtol: float = 1e-10,
                atol: float = 1e-12, **kwargs) -> None:
    """Same outputs (and attention weights), and the same gradients for every input and
    parameter (to 100 rtol, 10 atol), from ours and theirs called alike."""
    xs = [Tensor(x, requires_grad=True) for x in inputs]
    txs = [torch.tensor(x, requires_grad=True) for x in inputs]
    if len(inputs) == 3 and inputs[0] is inputs[1] is inputs[2]:  # self-attention
        xs, txs = [xs[0]] * 3, [txs[0]] * 3
    out = ours(*xs, **{k: np.asarray(m) for k, m in masks.items()}, **kwargs)
    tout = theirs(*txs, **{k: torch.tensor(m) for k, m in masks.items()}, **kwargs)
    out, tout = (out, tout) if isinstance(out, tuple) else ((out,), (tout,))
    for o, t in zip(out, tout):
        if t is None:
            assert o is None
            continue
        np.testing.assert_allclose(o.numpy(), t.detach().numpy(), rtol=rtol, atol=atol)
    upstream = rng.normal(size=out[0].shape)
    out[0].backward(upstream)
    tout[0].backward(torch.tensor(upstream))
    for i, (x, tx) in enumerate(zip(xs, txs)):
        np.testing.assert_allclose(np.asarray(x.grad), tx.grad.numpy(), rtol=rtol * 100,
                                   atol=atol * 10, err_msg=f"input {i}")
    theirs_params = dict(theirs.named_parameters())
    for name, p in ours.named_parameters():
        np.testing.assert_allclose(np.asarray(p.grad), theirs_params[name].grad.numpy(),
                                   rtol=rtol * 100, atol=atol * 10, err_msg=name)


# --- MultiheadAttention ---

def _bool(shape: tuple) -> np.ndarray:
    """A random bool mask that leaves every row at least one allowed key."""
    mask = rng.random(shape) < 0.4
    mask[..., 0] = False
    return mask


MASKS = {  # name: masks for (L, S) attention over a batch of N
    "none": {},
    "key padding": {"key_padding_mask": _bool((N, S))},
    "bool 2-D": {"attn_mask": _bool((L, S))},
    "float 2-D": {"attn_mask": rng.normal(size=(L, S))},
    "bool 3-D": {"attn_mask": _bool((N * H, L, S))},
    "float 3-D": {"attn_mask": rng.normal(size=(N * H, L, S))},
    "2-D and key padding": {"attn_mask": _bool((L, S)), "key_padding_mask": _bool((N, S))},
}


@pytest.mark.parametrize("need_weights, average", [(True, True), (True, False),
                                                   (False, True)])
@pytest.mark.parametrize("masks", MASKS.values(), ids=MASKS.keys())
def test_attention_like_torch(torch, masks, need_weights, average):
    ours = randomize(nn.MultiheadAttention(E, H, dtype=np.float64))
    theirs = twin(torch, ours, torch.nn.MultiheadAttention(E, H))
    inputs = [rng.normal(size=(n, N, E)) for n in (L, S, S)]
    assert_same(torch, ours, theirs, inputs, masks, need_weights=need_weights,
                average_attn_weights=average)


LAYOUTS = {  # name: constructor keywords, input shapes (query, key, value), masks
    "batch_first": ({"batch_first": True}, [(N, L, E), (N, S, E), (N, S, E)],
                    {"key_padding_mask": _bool((N, S))}),
    "unbatched": ({}, [(L, E), (S, E), (S, E)], {"key_padding_mask": _bool((S,))}),
    "unbatched, per-head mask": ({}, [(L, E), (S, E), (S, E)],
                                 {"attn_mask": rng.normal(size=(H, L, S))}),
    "kdim and vdim": ({"kdim": 3, "vdim": 6}, [(L, N, E), (S, N, 3), (S, N, 6)],
                      {"attn_mask": _bool((L, S))}),
    "no bias": ({"bias": False}, [(L, N, E), (S, N, E), (S, N, E)], {}),
}


@pytest.mark.parametrize("need_weights", [True, False])
@pytest.mark.parametrize("kwargs, shapes, masks", LAYOUTS.values(), ids=LAYOUTS.keys())
def test_attention_layouts_like_torch(torch, kwargs, shapes, masks, need_weights):
    ours = randomize(nn.MultiheadAttention(E, H, dtype=np.float64, **kwargs))
    theirs = twin(torch, ours, torch.nn.MultiheadAttention(E, H, **kwargs))
    inputs = [rng.normal(size=shape) for shape in shapes]
    assert_same(torch, ours, theirs, inputs, masks, need_weights=need_weights)


@pytest.mark.parametrize("need_weights", [True, False])
def test_self_attention_causal_hint_like_torch(torch, need_weights):
    """is_causal with the causal mask: PyTorch drops the mask for sdpa's causal path when it
    can; the numbers are the same either way."""
    ours = randomize(nn.MultiheadAttention(E, H, dtype=np.float64, batch_first=True))
    theirs = twin(torch, ours, torch.nn.MultiheadAttention(E, H, batch_first=True))
    x = rng.normal(size=(N, L, E))
    mask = nn.Transformer.generate_square_subsequent_mask(L, dtype=np.float64).numpy()
    assert_same(torch, ours, theirs, [x, x, x], {"attn_mask": mask}, is_causal=True,
                need_weights=need_weights)


@pytest.mark.parametrize("need_weights", [True, False])
def test_fully_masked_rows_like_torch(torch, need_weights):
    """A query that may see no key: NaN when the weights are asked for, zero attention
    (the output is out_proj's bias) when not, as in PyTorch."""
    ours = randomize(nn.MultiheadAttention(E, H, dtype=np.float64))
    theirs = twin(torch, ours, torch.nn.MultiheadAttention(E, H))
    mask = _bool((L, L))
    mask[1] = True
    x = rng.normal(size=(L, N, E))
    out, _ = ours(x, x, x, attn_mask=mask, need_weights=need_weights)
    tout, _ = theirs(*[torch.tensor(x)] * 3, attn_mask=torch.tensor(mask),
                     need_weights=need_weights)
    np.testing.assert_allclose(out.numpy(), tout.detach().numpy(), rtol=1e-10, atol=1e-12)
    assert np.isnan(out.numpy()[1]).all() == need_weights


def test_attention_weights_in_eval_and_dropout_in_training():
    """Weights are a distribution over keys per query; attention dropout acts in training
    only."""
    engine.manual_seed(0)
    attention = nn.MultiheadAttention(E, H, dropout=0.5, dtype=np.float64)
    x = rng.normal(size=(L, N, E))
    attention.eval()
    out, weights = attention(x, x, x, average_attn_weights=False)
    assert weights.shape == (N, H, L, L)
    np.testing.assert_allclose(weights.numpy().sum(-1), 1)
    np.testing.assert_array_equal(attention(x, x, x)[0].numpy(), out.numpy())
    attention.train()
    _, dropped = attention(x, x, x, average_attn_weights=False)
    kept = dropped.numpy() != 0
    assert 0 < kept.mean() < 1
    np.testing.assert_allclose(dropped.numpy()[kept], 2 * weights.numpy()[kept])


def test_float32_stays_float32():
    """A float64 float mask is cast to the inputs' dtype, as PyTorch requires it to be."""
    attention = nn.MultiheadAttention(E, H)
    x = rng.normal(size=(L, N, E)).astype(np.float32)
    out, weights = attention(x, x, x, attn_mask=rng.normal(size=(L, L)))
    assert out.dtype == weights.dtype == np.float32


# --- encoder and decoder layers ---

LAYER_KINDS = {  # name: constructor keywords
    "post-norm relu": {},
    "norm_first gelu": {"norm_first": True, "activation": "gelu"},
    "batch_first callable": {"batch_first": True, "activation": nn.functional.gelu},
}


def _layer_pair(torch, cls: str, kwargs: dict, training: bool, dropout: float = 0.0,
                dtype: type = np.float64):
    ours = randomize(getattr(nn, cls)(E, H, 16, dropout=dropout, dtype=dtype, **kwargs))
    theirs_kwargs = dict(kwargs)
    if callable(kwargs.get("activation")):
        theirs_kwargs["activation"] = torch.nn.functional.gelu
    theirs = getattr(torch.nn, cls)(E, H, 16, dropout=dropout, **theirs_kwargs)
    return ours.train(training), twin(torch, ours.train(training), theirs)


def _seq(kwargs: dict, length: int) -> np.ndarray:
    return rng.normal(size=(N, length, E) if kwargs.get("batch_first") else (length, N, E))


@pytest.mark.parametrize("training", [False, True], ids=["eval", "train"])
@pytest.mark.parametrize("kwargs", LAYER_KINDS.values(), ids=LAYER_KINDS.keys())
def test_encoder_layer_like_torch(torch, kwargs, training):
    ours, theirs = _layer_pair(torch, "TransformerEncoderLayer", kwargs, training)
    masks = {"src_mask": _bool((S, S)), "src_key_padding_mask": _bool((N, S))}
    assert_same(torch, ours, theirs, [_seq(kwargs, S)], masks)


@pytest.mark.parametrize("training", [False, True], ids=["eval", "train"])
@pytest.mark.parametrize("kwargs", LAYER_KINDS.values(), ids=LAYER_KINDS.keys())
def test_decoder_layer_like_torch(torch, kwargs, training):
    ours, theirs = _layer_pair(torch, "TransformerDecoderLayer", kwargs, training)
    # bool, as the padding masks are: PyTorch warns when the kinds differ
    causal = np.triu(np.ones((L, L), bool), 1)
    masks = {"tgt_mask": causal, "memory_mask": _bool((L, S)),
             "tgt_key_padding_mask": _bool((N, L)), "memory_key_padding_mask": _bool((N, S))}
    assert_same(torch, ours, theirs, [_seq(kwargs, L), _seq(kwargs, S)], masks)


@pytest.mark.parametrize("masks", [{}, {"mask": "causal"},
                                   {"src_key_padding_mask": _bool((N, S))}],
                         ids=["no mask", "causal mask", "key padding"])
def test_two_layer_encoder_with_norm_like_torch(torch, masks):
    layer = nn.TransformerEncoderLayer(E, H, 16, dropout=0.0, dtype=np.float64)
    ours = randomize(nn.TransformerEncoder(layer, 2, nn.LayerNorm(E, dtype=np.float64)))
    theirs = twin(torch, ours, torch.nn.TransformerEncoder(
        torch.nn.TransformerEncoderLayer(E, H, 16, dropout=0.0), 2, torch.nn.LayerNorm(E),
        enable_nested_tensor=False))
    if masks.get("mask") == "causal":
        masks = {"mask": nn.Transformer.generate_square_subsequent_mask(S).numpy()
                 .astype(np.float64)}
    assert_same(torch, ours.eval(), theirs.eval(), [rng.normal(size=(S, N, E))], masks)


def test_transformer_like_torch(torch):
    ours = randomize(nn.Transformer(E, H, 2, 2, 16, dropout=0.0, dtype=np.float64,
                                    batch_first=True))
    theirs = twin(torch, ours, torch.nn.Transformer(E, H, 2, 2, 16, dropout=0.0,
                                                    batch_first=True))
    masks = {"tgt_mask": nn.Transformer.generate_square_subsequent_mask(L, dtype=np.float64)
             .numpy(), "src_key_padding_mask": _bool((N, S))}
    assert_same(torch, ours, theirs, [rng.normal(size=(N, S, E)), rng.normal(size=(N, L, E))],
                masks)


# --- in training, with dropout ---

# The seeded generator drops what PyTorch's drops only if every dropout draws in PyTorch's
# order, shape and memory layout: with batch_first, MultiheadAttention returns a transposed
# view, whose mask (the layer's dropout1) PyTorch draws in the view's memory order.
PRECISIONS = {  # name: dtype, rtol, atol (gradients to 100 rtol, 10 atol)
    "float64": (np.float64, 1e-10, 1e-12),
    "float32": (np.float32, 1e-5, 5e-4),  # norm_first outputs (no final norm) reach 100
}


def _seeded_same(torch, ours, theirs, inputs: list, masks: dict, precision: str,
                 **kwargs) -> None:
    """assert_same in training, both generators seeded alike, in the precision's dtype."""
    dtype, rtol, atol = PRECISIONS[precision]
    engine.manual_seed(1), torch.manual_seed(1)
    assert_same(torch, ours, theirs, [x.astype(dtype) for x in inputs], masks, rtol, atol,
                **kwargs)


@pytest.mark.parametrize("precision", PRECISIONS)
@pytest.mark.parametrize("need_weights", [True, False], ids=["weights", "sdpa"])
@pytest.mark.parametrize("batch_first", [False, True], ids=["LNE", "batch_first"])
def test_attention_dropout_like_torch(torch, batch_first, need_weights, precision):
    ours = randomize(nn.MultiheadAttention(E, H, dropout=0.3, batch_first=batch_first,
                                           dtype=PRECISIONS[precision][0]))
    theirs = twin(torch, ours, torch.nn.MultiheadAttention(E, H, dropout=0.3,
                                                           batch_first=batch_first))
    kwargs = {"batch_first": batch_first}
    query, memory = _seq(kwargs, L), _seq(kwargs, S)
    _seeded_same(torch, ours, theirs, [query, memory, memory], MASKS["key padding"],
                 precision, need_weights=need_weights, average_attn_weights=False)


@pytest.mark.parametrize("precision", PRECISIONS)
@pytest.mark.parametrize("kwargs", LAYER_KINDS.values(), ids=LAYER_KINDS.keys())
@pytest.mark.parametrize("cls", ["TransformerEncoderLayer", "TransformerDecoderLayer"])
def test_layers_with_dropout_like_torch(torch, cls, kwargs, precision):
    ours, theirs = _layer_pair(torch, cls, kwargs, True, 0.3, PRECISIONS[precision][0])
    lengths = [S] if cls == "TransformerEncoderLayer" else [L, S]
    _seeded_same(torch, ours, theirs, [_seq(kwargs, n) for n in lengths], {}, precision)


@pytest.mark.filterwarnings("ignore:enable_nested_tensor is True")  # PyTorch's, not batch_first
@pytest.mark.parametrize("precision", PRECISIONS)
@pytest.mark.parametrize("batch_first", [False, True], ids=["LNE", "batch_first"])
def test_transformer_with_dropout_like_torch(torch, batch_first, precision):
    dtype = PRECISIONS[precision][0]
    ours = randomize(nn.Transformer(E, H, 2, 2, 16, dropout=0.3, dtype=dtype,
                                    batch_first=batch_first))
    theirs = twin(torch, ours, torch.nn.Transformer(E, H, 2, 2, 16, dropout=0.3,
                                                    batch_first=batch_first))
    kwargs = {"batch_first": batch_first}
    masks = {"tgt_mask": nn.Transformer.generate_square_subsequent_mask(L, dtype=dtype)
             .numpy(), "src_key_padding_mask": _bool((N, S))}
    _seeded_same(torch, ours, theirs, [_seq(kwargs, S), _seq(kwargs, L)], masks, precision)


# Recorded from PyTorch 2.13 (float32): torch.manual_seed(0); layer =
# torch.nn.TransformerEncoderLayer(4, 2, 8, dropout=0.5, batch_first=True);
# torch.manual_seed(1); layer(x) in training, x = arange(24).reshape(2, 3, 4) / 10.
TORCH_ENCODER_LAYER_TRAINING = [
    [[-0.22898661, -0.58742493, -0.87030768, 1.68671918],
     [-1.69062948, 0.46121496, 0.32035661, 0.90905774],
     [-1.70179570, 0.43604097, 0.39554259, 0.87021202]],
    [[-1.61523676, 1.07442880, 0.05787716, 0.48293087],
     [-0.05791124, 1.64759684, -0.69886082, -0.89082462],
     [-0.15108764, -0.84432513, -0.67890227, 1.67431509]]]


def test_dropout_in_training_as_recorded_from_torch():
    """Without PyTorch: the seeded initial weights, then the seeded dropout masks of a
    batch_first layer (dropout1 drops a transposed view), give PyTorch's output."""
    engine.manual_seed(0)
    layer = nn.TransformerEncoderLayer(4, 2, 8, dropout=0.5, batch_first=True)
    engine.manual_seed(1)
    out = layer(np.arange(24, dtype=np.float32).reshape(2, 3, 4) / 10)
    assert out.dtype == np.float32
    np.testing.assert_allclose(out.numpy(), TORCH_ENCODER_LAYER_TRAINING, rtol=1e-5,
                               atol=1e-6)


# --- initialisation and state ---

INITS = {  # name: (ours, theirs) constructors given nn or torch.nn
    "MultiheadAttention": lambda m: m.MultiheadAttention(E, H),
    "MultiheadAttention kdim vdim": lambda m: m.MultiheadAttention(E, H, kdim=3, vdim=5),
    "MultiheadAttention no bias": lambda m: m.MultiheadAttention(E, H, bias=False),
    "TransformerEncoderLayer": lambda m: m.TransformerEncoderLayer(E, H, 16),
    "TransformerDecoderLayer": lambda m: m.TransformerDecoderLayer(E, H, 16, norm_first=True),
    "TransformerEncoder": lambda m: m.TransformerEncoder(m.TransformerEncoderLayer(E, H, 16), 2,
                                                         m.LayerNorm(E),
                                                         enable_nested_tensor=False),
    "TransformerDecoder": lambda m: m.TransformerDecoder(m.TransformerDecoderLayer(E, H, 16), 2),
    "Transformer": lambda m: m.Transformer(E, H, 2, 1, 16),
}


@pytest.mark.filterwarnings("ignore:enable_nested_tensor is True")  # PyTorch's, for Transformer
@pytest.mark.parametrize("make", INITS.values(), ids=INITS.keys())
def test_init_and_state_dict_like_torch(torch, make):
    """The same seed gives PyTorch's numbers bit for bit, under PyTorch's names in its
    order; PyTorch's state_dict loads strictly into ours and ours into PyTorch's."""
    torch.set_default_dtype(torch.float32)
    engine.manual_seed(0)
    ours = make(nn)
    torch.manual_seed(0)
    theirs = make(torch.nn)
    state, theirs_state = ours.state_dict(), theirs.state_dict()
    assert list(state) == list(theirs_state)
    for name, value in theirs_state.items():
        assert state[name].dtype == np.float32
        np.testing.assert_array_equal(state[name], value.numpy(), err_msg=name)
    theirs.load_state_dict({k: torch.from_numpy(v.numpy()) for k, v in state.items()}, strict=True)
    randomize(ours).load_state_dict({k: v.numpy() for k, v in theirs_state.items()},
                                    strict=True)
    for name, value in theirs_state.items():
        np.testing.assert_array_equal(ours.state_dict()[name], value.numpy(), err_msg=name)


def test_loaded_torch_weights_give_torch_outputs(torch):
    torch.set_default_dtype(torch.float32)
    theirs = torch.nn.TransformerEncoderLayer(E, H, 16, batch_first=True).eval()
    ours = nn.TransformerEncoderLayer(E, H, 16, batch_first=True).eval()
    ours.load_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()}, strict=True)
    x = rng.normal(size=(N, S, E)).astype(np.float32)
    with torch.no_grad():
        expected = theirs(torch.tensor(x)).numpy()
    out = ours(x)
    assert out.dtype == np.float32
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-5, atol=1e-5)


# Recorded from PyTorch 2.13 (torch.manual_seed(0); torch.nn.MultiheadAttention(4, 2)):
# in_proj_weight[0] and out_proj.weight[0], and its output on the input below.
TORCH_MHA_IN_PROJ_0 = [0.22242416, 0.50850672, -0.12602636, 0.45824552]
TORCH_MHA_OUT_PROJ_0 = [-0.00374341, 0.26822180, -0.41152257, -0.36796951]
TORCH_MHA_OUTPUT_0 = [-0.55075067, -0.07641729, -0.24145807, 0.19322033]


def test_seeded_values_recorded_from_torch():
    """Checks values without PyTorch: the seeded initial weights and an output."""
    engine.manual_seed(0)
    attention = nn.MultiheadAttention(4, 2)
    np.testing.assert_allclose(attention.in_proj_weight.numpy()[0], TORCH_MHA_IN_PROJ_0,
                               rtol=1e-6)
    np.testing.assert_allclose(attention.out_proj.weight.numpy()[0], TORCH_MHA_OUT_PROJ_0,
                               rtol=1e-6)
    x = np.arange(24, dtype=np.float32).reshape(3, 2, 4) / 10
    out, weights = attention(x, x, x)
    np.testing.assert_allclose(out.numpy()[0, 0], TORCH_MHA_OUTPUT_0, rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(weights.numpy().sum(-1), 1, rtol=1e-6)


def test_encoder_layers_are_independent_copies():
    layer = nn.TransformerEncoderLayer(E, H, 16)
    encoder = nn.TransformerEncoder(layer, 2)
    first, second = encoder.layers
    assert first is not layer and first is not second
    np.testing.assert_array_equal(first.linear1.weight.numpy(), second.linear1.weight.numpy())
    first.linear1.weight.numpy()[...] = 0
    assert second.linear1.weight.numpy().any() and layer.linear1.weight.numpy().any()
    assert first.self_attn.in_proj_weight is not second.self_attn.in_proj_weight
    assert len(list(encoder.parameters())) == 2 * len(list(layer.parameters()))


def test_generate_square_subsequent_mask():
    mask = nn.Transformer.generate_square_subsequent_mask(3)
    assert mask.dtype == np.float32
    np.testing.assert_array_equal(mask.numpy(), [[0, -np.inf, -np.inf], [0, 0, -np.inf],
                                                 [0, 0, 0]])


# --- add_bias_kv and add_zero_attn: extra keys every query may attend to ---

EXTRA_KEYS = [dict(add_bias_kv=True), dict(add_zero_attn=True),
              dict(add_bias_kv=True, add_zero_attn=True)]


@pytest.mark.parametrize("flags", EXTRA_KEYS, ids=str)
@pytest.mark.parametrize("masked", [False, True])
@pytest.mark.parametrize("need_weights", [True, False])
def test_extra_keys_are_pytorchs(torch, flags, masked, need_weights):
    rng = np.random.default_rng(0)
    q, k, v = rng.normal(size=(3, 2, 8)), rng.normal(size=(4, 2, 8)), rng.normal(size=(4, 2, 8))
    padding = np.zeros((2, 4), bool)
    padding[1, 3] = True
    masks = dict(attn_mask=rng.normal(size=(3, 4)), key_padding_mask=rng.normal(size=(2, 4)))
    runs = []
    for lib, make in ((nn, lambda a: Tensor(a, requires_grad=True, dtype=np.float64)),
                      (torch.nn, lambda a: torch.tensor(a, requires_grad=True))):
        (engine if lib is nn else torch).manual_seed(0)
        # drawn in float32 on both (the torch fixture's default dtype is float64), then widened
        layer = lib.MultiheadAttention(8, 2, **flags, dtype=(engine if lib is nn else torch)
                                       .float32).double()
        inputs = [make(x) for x in (q, k, v)]
        options = {name: (engine.tensor(m) if lib is nn else torch.tensor(m))
                   for name, m in masks.items()} if masked else {}
        out, weights = layer(*inputs, need_weights=need_weights, **options)
        out.sum().backward()
        grads = [x.grad.numpy() for x in inputs] + (
            [layer.bias_k.grad.numpy()] if flags.get("add_bias_kv") else [])
        state = layer.state_dict()  # numpy arrays here, tensors in torch
        runs.append((list(state), [t if isinstance(t, np.ndarray) else t.detach().numpy()
                                   for t in state.values()],
                     out.detach().numpy(), None if weights is None else
                     weights.detach().numpy(), grads))
    (names, values, out, weights, grads), theirs = runs
    assert names == theirs[0]
    for a, b in zip(values, theirs[1]):  # the same seeded initial weights, bias_k included
        np.testing.assert_array_equal(a, b)
    np.testing.assert_allclose(out, theirs[2], rtol=1e-10, atol=1e-12)
    if weights is not None:
        np.testing.assert_allclose(weights, theirs[3], rtol=1e-10, atol=1e-12)
    for a, b in zip(grads, theirs[4]):
        np.testing.assert_allclose(a, b, rtol=1e-8, atol=1e-10)


def test_a_zero_key_takes_part_in_the_softmax():
    layer = nn.MultiheadAttention(4, 1, add_zero_attn=True, bias=False)
    x = engine.zeros(2, 1, 4)  # all scores 0: the two keys and the zero key share 1/3 each
    _, weights = layer(x, x, x)
    np.testing.assert_allclose(weights.numpy(), np.full((1, 2, 3), 1 / 3), rtol=1e-6)


# --- errors ---

def test_bad_sizes_are_named():
    with pytest.raises(ValueError, match=r"embed_dim \(10\) must be divisible by num_heads \(3\)"):
        nn.MultiheadAttention(10, 3)
    with pytest.raises(ValueError, match="activation should be"):
        nn.TransformerEncoderLayer(8, 2, activation="tanh")


BAD_CALLS = {  # name: (query, key, value shapes, masks, message)
    "embed_dim": ([(L, N, 6), (S, N, 6), (S, N, 6)], {},
                  r"query must have shape \(L, N, embed_dim=8\), got \(4, 3, 6\)"),
    "key batch": ([(L, N, E), (S, 2, E), (S, 2, E)], {}, r"key must have shape"),
    "value length": ([(L, N, E), (S, N, E), (S + 1, N, E)], {}, r"value must have shape"),
    "dims": ([(L, N, E), (S, E), (S, E)], {}, r"batched \(3-D\) or unbatched \(2-D\)"),
    "attn_mask": ([(L, N, E), (S, N, E), (S, N, E)], {"attn_mask": np.zeros((S, L), bool)},
                  r"attn_mask must have shape \(L, S\) = \(4, 5\) or \(N \* num_heads, L, "
                  r"S\) = \(6, 4, 5\), got \(5, 4\)"),
    "key_padding_mask": ([(L, N, E), (S, N, E), (S, N, E)],
                         {"key_padding_mask": np.zeros((S, N), bool)},
                         r"key_padding_mask must have shape \(N, S\) = \(3, 5\), got \(5, 3\)"),
    "int mask": ([(L, N, E), (S, N, E), (S, N, E)], {"attn_mask": np.zeros((L, S), int)},
                 r"only bool and floating types of attn_mask"),
}


@pytest.mark.parametrize("shapes, masks, message", BAD_CALLS.values(), ids=BAD_CALLS.keys())
def test_bad_inputs_are_named(shapes, masks, message):
    attention = nn.MultiheadAttention(E, H)
    with pytest.raises((ValueError, TypeError), match=message):
        attention(*[np.zeros(shape, np.float32) for shape in shapes], **masks)


def test_is_causal_needs_the_mask():
    x = np.zeros((L, N, E), np.float32)
    with pytest.raises(ValueError, match="pass that mask too"):
        nn.MultiheadAttention(E, H)(x, x, x, is_causal=True)
