"""engine/utils/checkpoint.py, torch.utils.checkpoint: gradients through a checkpoint equal
those of the same run without it (exactly, dropout too, since the rerun draws the forward's
numbers), the activations are really let go of between forward and backward, both
variants match PyTorch's on the same weights and seed, and bad calls are refused."""
from __future__ import annotations

import contextlib
import warnings

import numpy as np
import pytest

import engine
import nn
from engine.utils.checkpoint import CheckpointError, checkpoint, checkpoint_sequential
from nn.examples import make_gpt

VARIANTS = [False, True]  # use_reentrant


def mlp(m, p: float = 0.3):
    """A stack with dropout, built from `m` (engine or torch) after seed 0: the same weights."""
    m.manual_seed(0)
    return m.nn.Sequential(
        m.nn.Linear(8, 16), m.nn.GELU(), m.nn.Dropout(p), m.nn.Linear(16, 16), m.nn.Tanh(),
        m.nn.Dropout(p), m.nn.Linear(16, 16), m.nn.ReLU(), m.nn.Dropout(p), m.nn.Linear(16, 4))


def grads(*tensors) -> list:
    """Copies of the tensors' .grad arrays, which are then reset."""
    out = []
    for t in tensors:
        out.append(np.array(t.grad.numpy()))
        t.grad = None
    return out


def assert_same(ours: list, theirs: list) -> None:
    assert len(ours) == len(theirs)
    for a, b in zip(ours, theirs):
        np.testing.assert_array_equal(a, b)


def interior_bytes(root) -> int:
    """The bytes of the arrays the graph's nodes with parents hold, each buffer once: the
    activations a backward pass would read."""
    held = {}
    for node in engine.topological_order(root):
        if node._a is not None and node._data is not None:
            base = node._data
            while base.base is not None:
                base = base.base
            held[id(base)] = base.nbytes
    return sum(held.values())


# --- the same gradients as without the checkpoint ---

@pytest.mark.parametrize("use_reentrant", VARIANTS)
def test_gradients_reach_inputs_and_closed_over_weights_exactly(use_reentrant):
    engine.manual_seed(0)
    lin = nn.Linear(3, 5)
    x = engine.randn(4, 3, requires_grad=True)

    def f(x):
        return (lin(x).relu() * 2).sin()

    f(x).pow(2).sum().backward()
    plain = grads(x, lin.weight, lin.bias)
    y = checkpoint(f, x, use_reentrant=use_reentrant)
    assert y.grad_fn.name() == ("CheckpointFunctionBackward" if use_reentrant else "SinBackward0")
    y.pow(2).sum().backward()
    assert_same(grads(x, lin.weight, lin.bias), plain)


@pytest.mark.parametrize("use_reentrant", VARIANTS)
def test_dropout_draws_the_same_mask_in_the_rerun_and_the_stream_goes_on_as_without(
        use_reentrant):
    model = mlp(engine)
    x = engine.randn(6, 8, requires_grad=True)
    params = list(model.parameters())
    engine.manual_seed(1)
    model(x).pow(2).mean().backward()
    plain, after = grads(x, *params), engine.rand(4).tolist()
    engine.manual_seed(1)
    y = checkpoint(model, x, use_reentrant=use_reentrant)
    y.pow(2).mean().backward()
    assert_same(grads(x, *params), plain)
    assert engine.rand(4).tolist() == after  # the rerun drew from a state of its own


def test_without_preserve_rng_state_the_rerun_draws_other_masks():
    model = mlp(engine, p=0.5)
    x = engine.randn(6, 8, requires_grad=True)
    engine.manual_seed(1)
    model(x).pow(2).mean().backward()
    plain = grads(x)
    engine.manual_seed(1)
    checkpoint(model, x, use_reentrant=False, preserve_rng_state=False).pow(2).mean().backward()
    assert not np.array_equal(grads(x)[0], plain[0])


def test_engine_grad_and_second_derivatives_through_the_checkpoint():
    engine.manual_seed(0)
    w = engine.randn(3, 3, requires_grad=True)
    x = engine.randn(2, 3, requires_grad=True)

    def f(x):
        return (x @ w).tanh().pow(3).sum(1)

    results = []
    for run in (f, lambda x: checkpoint(f, x, use_reentrant=False)):
        gx, gw = engine.grad(run(x).sum(), (x, w), create_graph=True)
        results.append([gx.detach().numpy(), gw.detach().numpy(),
                        *[g.numpy() for g in engine.grad((gx * gx).sum(), (x, w))]])
    assert_same(results[1], results[0])
    assert x.grad is None and w.grad is None  # engine.grad fills no .grad


def test_tuple_outputs_keyword_and_number_arguments_and_retained_graphs():
    engine.manual_seed(0)
    w = engine.randn(3, requires_grad=True)
    x = engine.randn(2, 3, requires_grad=True)

    def f(x, scale, *, shift):
        h = (x * w).tanh() * scale + shift
        return h.sin(), h.exp()

    def loss(a, b):
        return a.sum() + (b * b).sum()

    shift = engine.ones(3)
    loss(*f(x, 3.0, shift=shift)).backward()
    plain = grads(x, w)
    out = loss(*checkpoint(f, x, 3.0, shift=shift, use_reentrant=False))
    out.backward(retain_graph=True)
    assert_same(grads(x, w), plain)
    out.backward()  # the recomputed activations stay with a retained graph
    assert_same(grads(x, w), plain)


def test_an_input_without_grad_still_gives_the_weights_theirs():
    engine.manual_seed(0)
    lin = nn.Linear(3, 2)
    x = engine.randn(4, 3)
    lin(x).tanh().sum().backward()
    plain = grads(lin.weight, lin.bias)
    checkpoint(lambda t: lin(t).tanh(), x, use_reentrant=False).sum().backward()
    assert_same(grads(lin.weight, lin.bias), plain)
    with pytest.warns(UserWarning, match="None of the inputs have requires_grad=True"):
        out = checkpoint(lambda t: lin(t).tanh(), x, use_reentrant=True)
    assert not out.requires_grad  # the reentrant variant gives none, as PyTorch's


def test_what_others_hold_stays_whole_and_nested_checkpoints_work():
    engine.manual_seed(0)
    w = engine.randn(3, 3, requires_grad=True)
    x = engine.randn(2, 3, requires_grad=True)
    outside = {}  # "doubled", made outside, used inside: not the checkpoint's to free
    kept = []

    def inner(t):
        return (t @ outside["doubled"]).cos()

    def f(x, nested):
        h = (x @ outside["doubled"]).tanh()
        kept.append(h)
        g = (h * 3).sin()
        return (checkpoint(inner, g, use_reentrant=False) if nested else inner(g)).exp()

    for nested in (False, True):
        outside["doubled"] = w * 2
        f(x, nested).sum().backward()
        plain = grads(x, w)
        outside["doubled"] = w * 2
        y = checkpoint(f, x, nested, use_reentrant=False)
        assert kept[-1]._data is not None and outside["doubled"]._data is not None
        assert y._a._data is None  # exp's argument: made inside, held by nothing else
        y.sum().backward()
        assert_same(grads(x, w), plain)
    assert checkpoint(lambda t: t, x, use_reentrant=False) is x


# --- memory ---

def test_a_checkpointed_stack_keeps_only_the_segment_boundaries():
    batch, width, blocks = 32, 64, 16
    engine.manual_seed(0)
    layers = [m for _ in range(blocks) for m in (nn.Linear(width, width), nn.Tanh())]
    x = engine.randn(batch, width, requires_grad=True)
    activation = batch * width * 4  # one float32 (batch, width) array
    plain = nn.Sequential(*layers)(x).sum()
    # every Linear and every Tanh keeps its output, and the sum its number
    assert interior_bytes(plain) == 2 * blocks * activation + 4
    out = checkpoint_sequential(layers, 4, x, use_reentrant=False).sum()
    # the three checkpointed segments keep only their outputs; the last is not checkpointed
    assert interior_bytes(out) == (3 + 2 * blocks // 4) * activation + 4
    out.backward()
    gx = grads(x)
    plain.backward()
    assert_same(gx, grads(x))


def test_a_gpt_keeps_a_fraction_of_its_activations_and_the_same_gradients():
    engine.manual_seed(0)
    model = make_gpt(engine)(vocab_size=11, n_embd=16, n_head=2, n_layer=4, block_size=8,
                             dropout=0.2)
    idx = engine.randint(0, 11, (3, 8))
    params = list(model.parameters())
    engine.manual_seed(5)
    _, loss = model(idx, idx)
    kept_plain = interior_bytes(loss)
    loss.backward()
    plain = grads(*params)
    engine.manual_seed(5)
    loss = gpt_loss(engine, model, idx, use_reentrant=False)
    assert interior_bytes(loss) < kept_plain / 2
    loss.backward()
    assert_same(grads(*params), plain)


def gpt_loss(m, model, idx, use_reentrant):
    """make_gpt's forward with its blocks run through checkpoint_sequential."""
    B, T = idx.shape
    x = model.token_embedding_table(idx) + model.position_embedding_table(m.arange(T))
    x = m.utils.checkpoint.checkpoint_sequential(model.blocks, len(model.blocks), x,
                                                 use_reentrant=use_reentrant)
    logits = model.lm_head(model.ln_f(x))
    return m.nn.functional.cross_entropy(logits.view(B * T, -1), idx.view(B * T))


# --- against PyTorch ---

def torch_and_ours(run) -> float:
    """The largest difference between what `run(m)` gives for torch and for engine."""
    torch = pytest.importorskip("torch")
    pairs = zip(run(engine), run(torch))
    return max(float(np.abs(np.asarray(a, np.float64) - np.asarray(b, np.float64)).max())
               for a, b in pairs)


@pytest.mark.parametrize("use_reentrant", VARIANTS)
def test_checkpoint_sequential_with_dropout_matches_pytorch(use_reentrant):
    def run(m):
        model = mlp(m)
        x = m.randn(6, 8, requires_grad=True)
        m.manual_seed(1)
        loss = m.utils.checkpoint.checkpoint_sequential(model, 3, x,
                                                        use_reentrant=use_reentrant).pow(2).mean()
        loss.backward()
        return [loss.detach().numpy(), x.grad.numpy(),
                *[p.grad.numpy() for p in model.parameters()], m.rand(3).numpy()]
    assert torch_and_ours(run) < 1e-6


@pytest.mark.parametrize("use_reentrant", VARIANTS)
def test_a_gpt_through_checkpoint_sequential_matches_pytorch(use_reentrant):
    def run(m):
        m.manual_seed(0)
        model = make_gpt(m)(vocab_size=11, n_embd=16, n_head=2, n_layer=3, block_size=8,
                            dropout=0.2)
        idx = m.randint(0, 11, (3, 8))
        m.manual_seed(5)
        loss = gpt_loss(m, model, idx, use_reentrant)
        loss.backward()
        return [loss.detach().numpy(), *[p.grad.numpy() for p in model.parameters()]]
    assert torch_and_ours(run) < 1e-5


def test_keyword_arguments_tuples_and_engine_grad_match_pytorch():
    def run(m):
        m.manual_seed(0)
        w = m.randn(3, requires_grad=True)
        x = m.randn(2, 3, requires_grad=True)

        def f(x, scale, *, shift):
            h = (x * w).tanh() * scale + shift
            return h.sin(), h.exp()

        a, b = m.utils.checkpoint.checkpoint(f, x, 0.5, shift=m.ones(3), use_reentrant=False)
        return [g.numpy() for g in m.autograd.grad(a.sum() + (b * b).sum(), (x, w))]
    assert torch_and_ours(run) < 1e-5


def test_use_reentrant_left_out_warns_as_pytorch_and_means_true():
    torch = pytest.importorskip("torch")
    for m in (engine, torch):
        x = m.ones(3, requires_grad=True)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            y = m.utils.checkpoint.checkpoint(m.sin, x)
            m.utils.checkpoint.checkpoint_sequential([m.nn.ReLU()], 1, x)
        messages = [str(w.message) for w in caught if "use_reentrant" in str(w.message)]
        if m is engine:
            ours, name = messages, y.grad_fn.name()
    assert ours == messages and len(ours) == 2
    assert name == y.grad_fn.name() == "CheckpointFunctionBackward"


def test_the_same_errors_as_pytorch():
    torch = pytest.importorskip("torch")

    def errors(m):
        x = m.ones(2, 3, requires_grad=True)
        cp, seq = m.utils.checkpoint.checkpoint, m.utils.checkpoint.checkpoint_sequential
        calls = [
            lambda: cp(m.sin, x, use_reentrant=False, determinism_check="exact"),
            lambda: cp(m.sin, x, use_reentrant=True, foo=1),
            lambda: cp(m.sin, x, use_reentrant=True, context_fn=lambda: None),
            lambda: cp(m.sin, x, use_reentrant=True, debug=True),
            lambda: seq([m.nn.ReLU()], 1, x, use_reentrant=False, foo=1),
            lambda: seq([m.nn.ReLU()] * 2, 2.0, x, use_reentrant=False),
            lambda: seq([m.nn.ReLU()] * 2, 3, x, use_reentrant=False),
        ]
        for use_reentrant in VARIANTS:  # an input changed in place before backward
            x2 = x * 1
            y = cp(lambda t: (t * 2).sin(), x2, use_reentrant=use_reentrant)
            with m.no_grad():
                x2.add_(1)
            calls.append(lambda y=y: y.sum().backward())
        shape = [3]
        y = cp(lambda t: t[:, :shape[0]].sin().sum(1), x, use_reentrant=False)
        calls.append(lambda: (shape.__setitem__(0, 2), y.sum().backward()))
        found = []
        for call in calls:
            with pytest.raises(Exception) as info:
                call()
            found.append((type(info.value).__name__, str(info.value)))
        return found

    ours, theirs = errors(engine), errors(torch)
    assert [kind for kind, _ in ours] == [kind for kind, _ in theirs]
    assert [text for _, text in ours[:5]] == [text for _, text in theirs[:5]]
    assert ours[-1][0] == "CheckpointError" and "(2, 3) float32, recomputed (2, 2)" in ours[-1][1]


# --- errors, and what they say ---

def test_a_rerun_that_computes_something_else_is_caught():
    x = engine.ones(2, 3, requires_grad=True)
    flag = [True]
    y = checkpoint(lambda t: (t.sin() if flag[0] else t.cos()) * 2, x, use_reentrant=False)
    flag[0] = False
    with pytest.raises(CheckpointError, match="'sin' with 1 inputs then, 'cos' with 1"):
        y.sum().backward()
    count = [1]
    y = checkpoint(lambda t: ((t * 2).sin(),) * count[0], x, use_reentrant=False)[0]
    count[0] = 2
    with pytest.raises(CheckpointError, match="returned 2 tensors, the original forward pass 1"):
        y.sum().backward()


def test_bad_calls_are_named():
    x = engine.ones(3, requires_grad=True)
    with pytest.raises(TypeError, match="checkpoint takes the function to run first; got int"):
        checkpoint(3, x, use_reentrant=False)
    for segments in (0, 4):
        with pytest.raises(ValueError, match=f"between 1 and the number of functions, 3; got "
                                             f"{segments}"):
            checkpoint_sequential([nn.ReLU()] * 3, segments, x, use_reentrant=False)


def test_context_fn_wraps_the_forward_and_the_rerun():
    entered = []

    @contextlib.contextmanager
    def note(what):
        entered.append(what)
        yield

    x = engine.ones(3, requires_grad=True)
    y = checkpoint(lambda t: t.sin().exp(), x, use_reentrant=False,
                   context_fn=lambda: (note("forward"), note("rerun")))
    assert entered == ["forward"]
    y.sum().backward()
    assert entered == ["forward", "rerun"]
    np.testing.assert_allclose(x.grad.numpy(), np.exp(np.sin(1.0)) * np.cos(1.0), rtol=1e-6)
