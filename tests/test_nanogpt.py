"""nanoGPT's model.py, as Karpathy wrote it, on this engine with only its imports changed.

tests/fixtures/nanogpt/model.py is the file from karpathy/nanoGPT (MIT licence; the README
there says which commit). `load_model` changes its three import lines, `import torch`,
`import torch.nn as nn` and `from torch.nn import functional as F`, to this engine's
(`engine` as torch, `nn`, `nn.functional`) and nothing else, so the model runs its own
code: weight tying, `self.apply(self._init_weights)`, the flash-attention path
(`F.scaled_dot_product_attention`), `configure_optimizers` (AdamW with parameter groups,
`inspect.signature`), `crop_block_size`, and `generate` with temperature and top-k.

`run` trains a small GPT for a few steps from a seeded generator and samples from it. Our
engine draws PyTorch's numbers, so the losses, gradient norms and sampled tokens must be
PyTorch's: recorded in tests/fixtures/nanogpt/torch_run.json, and compared with a live
PyTorch run where it is installed (SCRATCHGRAD_NANOGPT_TORCH=record writes the recording
anew).
"""
from __future__ import annotations

import json
import os
import sys
import types
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from engine.atomic import write_bytes

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "nanogpt"
RECORDING = FIXTURES / "torch_run.json"
IMPORTS = {"import torch\n": "import engine as torch\n",
           "import torch.nn as nn\n": "import nn\n",
           "from torch.nn import functional as F\n": "from nn import functional as F\n"}


def load_model(ours: bool) -> types.ModuleType:
    """nanoGPT's model.py as a module: on this engine (imports changed), or on PyTorch."""
    source = (FIXTURES / "model.py").read_text()
    if ours:
        for old, new in IMPORTS.items():
            assert source.count(old) == 1, f"model.py no longer has the line {old!r}"
            source = source.replace(old, new)
    name = f"nanogpt_model_{'ours' if ours else 'torch'}"
    module = types.ModuleType(name)
    sys.modules[name] = module  # (dataclasses look their module up)
    exec(compile(source, str(FIXTURES / "model.py"), "exec"), module.__dict__)
    return module


def run(torch: Any, model: types.ModuleType, steps: int = 6) -> dict:
    """Train a 2-layer GPT for `steps` AdamW steps on seeded random tokens (nanoGPT's
    train.py step: clip the gradient norm at 1), then sample 20 tokens with top-k."""
    torch.manual_seed(0)
    config = model.GPTConfig(block_size=16, vocab_size=65, n_layer=2, n_head=2, n_embd=32,
                             dropout=0.0, bias=True)
    gpt = model.GPT(config)
    optimizer = gpt.configure_optimizers(weight_decay=0.1, learning_rate=1e-2,
                                         betas=(0.9, 0.95), device_type="cpu")
    batches = torch.Generator().manual_seed(1)
    losses, norms = [], []
    for _ in range(steps):
        x = torch.randint(0, 65, (4, 16), generator=batches)
        y = torch.randint(0, 65, (4, 16), generator=batches)
        _, loss = gpt(x, y)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        norms.append(float(torch.nn.utils.clip_grad_norm_(gpt.parameters(), 1.0)))
        optimizer.step()
        losses.append(loss.item())
    gpt.eval()
    tokens = gpt.generate(torch.zeros((1, 1), dtype=torch.long), 20, temperature=0.8, top_k=10)
    return {"losses": losses, "grad_norms": norms, "tokens": tokens[0].tolist(),
            "state_names": list(gpt.state_dict())}


def check_same(ours: dict, theirs: dict) -> None:
    np.testing.assert_allclose(ours["losses"], theirs["losses"], rtol=2e-5)
    np.testing.assert_allclose(ours["grad_norms"], theirs["grad_norms"], rtol=1e-4)
    assert ours["tokens"] == theirs["tokens"]
    assert ours["state_names"] == theirs["state_names"]


@pytest.fixture(scope="module")
def ours() -> dict:
    import engine
    return run(engine, load_model(ours=True))


def test_nanogpt_trains_and_samples_as_pytorch_did(ours):
    recorded = json.loads(RECORDING.read_text())
    assert ours["losses"][-1] < ours["losses"][0]  # it learns
    # the tied weight is in the state under both of its names, as in PyTorch's state_dict
    assert {"lm_head.weight", "transformer.wte.weight"} <= set(ours["state_names"])
    check_same(ours, recorded)


def test_nanogpt_matches_a_live_pytorch_run(ours):
    torch = pytest.importorskip("torch")
    torch.set_num_threads(1)
    theirs = run(torch, load_model(ours=False))
    if os.environ.get("SCRATCHGRAD_NANOGPT_TORCH") == "record":
        theirs["torch"] = torch.__version__
        write_bytes(RECORDING, (json.dumps(theirs, indent=1) + "\n").encode())
    check_same(ours, theirs)


def test_a_pytorch_nanogpt_state_dict_loads_into_ours_and_back():
    torch = pytest.importorskip("torch")
    import engine
    mine, theirs = load_model(ours=True), load_model(ours=False)
    settings = dict(block_size=8, vocab_size=11, n_layer=1, n_head=2, n_embd=8, bias=False)
    torch.manual_seed(3)
    source = theirs.GPT(theirs.GPTConfig(**settings)).eval()
    engine.manual_seed(4)  # other numbers: the copy must replace every one of them
    target = mine.GPT(mine.GPTConfig(**settings)).eval()
    target.load_state_dict(source.state_dict())
    tokens = np.array([[1, 5, 2, 9, 0, 3]])
    expected, _ = source(torch.as_tensor(tokens))
    got, _ = target(engine.as_tensor(tokens))
    np.testing.assert_allclose(got.numpy(), expected.detach().numpy(), rtol=1e-5, atol=1e-6)
    # the tie survives the copy: one tensor, so training keeps the two names equal
    assert target.lm_head.weight is target.transformer.wte.weight
    back = theirs.GPT(theirs.GPTConfig(**settings))
    back.load_state_dict({k: torch.from_numpy(v) for k, v in target.state_dict().items()})
    assert all(torch.equal(a, b) for a, b in zip(back.state_dict().values(),
                                                 source.state_dict().values()))


def test_crop_block_size_shortens_the_model_it_runs_on():
    import engine
    model = load_model(ours=True)
    gpt = model.GPT(model.GPTConfig(block_size=16, vocab_size=11, n_layer=1, n_head=2,
                                    n_embd=8))
    gpt.crop_block_size(4)
    assert tuple(gpt.transformer.wpe.weight.shape) == (4, 8)
    logits, loss = gpt(engine.zeros((2, 4), dtype=engine.long))
    assert tuple(logits.shape) == (2, 1, 11) and loss is None
    with pytest.raises(AssertionError, match="Cannot forward sequence of length 5"):
        gpt(engine.zeros((2, 5), dtype=engine.long))
