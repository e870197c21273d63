"""nn/examples.py: the GPT written once the PyTorch way trains on our engine as on PyTorch.

The bar of issue 20: the same model class built from each library (make_gpt(engine),
make_gpt(torch)), the same initial weights (copied through state_dict; our seeded
initialisation draws PyTorch's very numbers anyway), 30 AdamW steps on the same batches of
names with dropout off: the losses and every parameter agree to 1e-5 relative in float32,
and to 1e-9 in float64. With dropout on, it trains (and, drawing PyTorch's masks from the
same seed, still follows PyTorch)."""
from __future__ import annotations

from pathlib import Path

import numpy as np

import engine
import viz
from nn.examples import make_gpt

NAMES = (Path(__file__).resolve().parents[1] / "demos" / "names.txt").read_text().split()
CHARS = sorted(set("".join(NAMES)) | {"."})  # '.' separates the names
TEXT = np.array([CHARS.index(c) for c in ".".join(NAMES[:4000]) + "."])
SIZES = dict(n_embd=32, n_head=4, n_layer=2, block_size=16)


def batches(steps: int, batch_size: int = 8, seed: int = 0) -> list[tuple[np.ndarray, ...]]:
    """(inputs, targets) pairs of random windows of the names, targets one character on."""
    rng = np.random.default_rng(seed)
    starts = rng.integers(0, len(TEXT) - SIZES["block_size"] - 1, (steps, batch_size))
    windows = TEXT[starts[..., None] + np.arange(SIZES["block_size"] + 1)]
    return [(w[:, :-1], w[:, 1:]) for w in windows]


def train(torch, model, steps: list, lr: float = 3e-3) -> list[float]:
    """The training loop, written once for both libraries; the loss of each step."""
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr)
    losses = []
    for inputs, targets in steps:
        _, loss = model(torch.tensor(inputs), torch.tensor(targets))
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return losses


def twins(torch, dtype: str = "float32", dropout: float = 0.0):
    """Our GPT and PyTorch's, PyTorch's holding our initial weights."""
    ours = make_gpt(engine)(len(CHARS), dropout=dropout, **SIZES).to(getattr(engine, dtype))
    theirs = make_gpt(torch)(len(CHARS), dropout=dropout, **SIZES).to(getattr(torch, dtype))
    theirs.load_state_dict({k: torch.from_numpy(v.numpy()) for k, v in ours.state_dict().items()})
    return ours, theirs


def relative_gap(ours, theirs) -> float:
    """The largest ||ours - theirs|| / ||theirs|| over the parameters."""
    want = theirs.state_dict()
    return max(np.linalg.norm(v - want[k].numpy()) / np.linalg.norm(want[k].numpy())
               for k, v in ours.state_dict().items())


def test_the_same_seed_gives_pytorchs_initial_gpt(torch):
    torch.set_default_dtype(torch.float32)
    engine.manual_seed(1337)
    torch.manual_seed(1337)
    ours = make_gpt(engine)(len(CHARS), **SIZES)
    theirs = make_gpt(torch)(len(CHARS), **SIZES)
    want = theirs.state_dict()
    assert list(ours.state_dict()) == list(want)  # the same names: blocks.0.sa.heads.0.key...
    for name, array in ours.state_dict().items():
        np.testing.assert_array_equal(array, want[name].numpy(), err_msg=name)
    assert repr(ours) == repr(theirs)


def test_30_steps_of_training_agree_with_pytorch_in_float32(torch):
    """Float32 rounding differs in the last bits (summation orders), and Adam, which divides
    by the gradients' size, magnifies that for the few weights whose gradients are near
    zero; so parameters are compared as tensors (PyTorch's own float32 run is 1e-6 from its
    float64 run by this measure)."""
    ours, theirs = twins(torch)
    steps = batches(30)
    our_losses, their_losses = train(engine, ours, steps), train(torch, theirs, steps)
    np.testing.assert_allclose(our_losses, their_losses, rtol=1e-5)
    assert relative_gap(ours, theirs) < 1e-5
    assert all(p.dtype == np.float32 for p in ours.parameters())


def test_30_steps_of_training_agree_with_pytorch_entry_by_entry_in_float64(torch):
    ours, theirs = twins(torch, "float64")
    steps = batches(30)
    np.testing.assert_allclose(train(engine, ours, steps), train(torch, theirs, steps),
                               rtol=1e-12)
    want = theirs.state_dict()
    for name, array in ours.state_dict().items():
        np.testing.assert_allclose(array, want[name].numpy(), rtol=1e-9, atol=1e-12,
                                   err_msg=name)


def test_with_dropout_on_it_trains():
    engine.manual_seed(0)
    model = make_gpt(engine)(len(CHARS), dropout=0.2, **SIZES)
    losses = train(engine, model, batches(60, batch_size=16, seed=1), lr=1e-2)
    # from about ln(27) = 3.3 (uniform guesses) to well under it (2.4 after these 60 steps)
    assert losses[0] > 3.0 and np.mean(losses[-20:]) < 2.6
    model.eval()  # dropout off: the loss of held-out windows is lower than a uniform guess's
    inputs, targets = batches(1, batch_size=64, seed=2)[0]
    with engine.no_grad():
        _, loss = model(engine.tensor(inputs), engine.tensor(targets))
    assert loss.item() < 2.6


def test_with_dropout_on_it_draws_pytorchs_masks_and_follows_pytorch(torch):
    ours, theirs = twins(torch, dropout=0.2)
    engine.manual_seed(5)
    torch.manual_seed(5)
    steps = batches(10)
    np.testing.assert_allclose(train(engine, ours, steps), train(torch, theirs, steps),
                               rtol=1e-5)


def test_it_samples_and_its_graph_draws_and_steps_in_the_explorer(tmp_path):
    engine.manual_seed(0)
    model = make_gpt(engine)(len(CHARS), **SIZES)
    with engine.no_grad():
        out = model.generate(engine.zeros((2, 1), dtype=engine.long), 20)
    assert out.shape == (2, 21) and out.dtype == np.int64
    assert 0 <= out.numpy().min() and out.numpy().max() < len(CHARS)
    inputs, targets = batches(1)[0]
    _, loss = model(engine.tensor(inputs), engine.tensor(targets))
    picture = viz.draw_dot(loss, max_nodes=60)
    assert "cross_entropy" in picture.source and "more nodes" in picture.source
    viz.explore(loss, tmp_path / "gpt.html")  # backprop through it, node by node
    page = (tmp_path / "gpt.html").read_text()
    assert all(op in page for op in ("linear", "layer_norm", "embedding", "softmax"))
