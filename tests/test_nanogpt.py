"""nanoGPT (model.py, train.py, sample.py), as Karpathy wrote it, on this engine with only its
imports changed.

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

The scripts run as a user runs them, in a folder of their own: `python train.py` with
nanoGPT's CPU settings (`--device=cpu --compile=False`, float32, a small model, gradient
accumulation, the cosine schedule, an evaluation and a checkpoint `out/ckpt.pt` written
with `torch.save`), on makemore's names as characters (data/names/train.bin, val.bin and
meta.pkl, made as nanoGPT's shakespeare_char/prepare.py makes its own), then `python
sample.py`, which reads the checkpoint with `torch.load` and writes names. train.py's two
torch imports that are not `import torch` become `from nn.parallel import ...` and `from
engine.distributed import ...`.
"""
from __future__ import annotations

import json
import os
import pickle
import re
import shutil
import subprocess
import sys
import types
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from engine.atomic import write_bytes

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "fixtures" / "nanogpt"
RECORDING = FIXTURES / "torch_run.json"
IMPORTS = {"import torch\n": "import engine as torch\n",
           "import torch.nn as nn\n": "import nn\n",
           "from torch.nn import functional as F\n": "from nn import functional as F\n"}
SCRIPT_IMPORTS = {
    "model.py": IMPORTS,
    "train.py": {"import torch\n": "import engine as torch\n",
                 "from torch.nn.parallel import": "from nn.parallel import",
                 "from torch.distributed import": "from engine.distributed import"},
    "sample.py": {"import torch\n": "import engine as torch\n"},
    "configurator.py": {},
}
# nanoGPT's README's CPU recipe, smaller: float32, a one-layer model, 8 steps of 2 micro-batches
TRAIN = ["--dataset=names", "--device=cpu", "--compile=False", "--dtype=float32",
         "--eval_iters=3", "--eval_interval=4", "--log_interval=1", "--block_size=16",
         "--batch_size=4", "--gradient_accumulation_steps=2", "--n_layer=1", "--n_head=2",
         "--n_embd=16", "--max_iters=8", "--lr_decay_iters=8", "--warmup_iters=2",
         "--learning_rate=0.01", "--min_lr=0.001", "--dropout=0.0"]
SAMPLE = ["--device=cpu", "--compile=False", "--dtype=float32", "--num_samples=2",
          "--max_new_tokens=30", "--start=\n"]


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
    back.load_state_dict({k: torch.from_numpy(v.numpy()) for k, v in target.state_dict().items()})
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


# --- train.py and sample.py, run as scripts ---


def script_folder(folder: Path, ours: bool) -> Path:
    """nanoGPT's scripts (imports changed when `ours`) and makemore's names as its data set,
    as shakespeare_char/prepare.py lays one out: uint16 ids of characters, 90% to train."""
    folder.mkdir()
    for name, changes in SCRIPT_IMPORTS.items():
        source = (FIXTURES / name).read_text()
        for old, new in changes.items() if ours else ():
            assert source.count(old) == 1, f"{name} no longer has {old!r} once"
            source = source.replace(old, new)
        (folder / name).write_text(source)
    text = (ROOT / "demos" / "names.txt").read_text()
    chars = sorted(set(text))
    ids = np.array([chars.index(c) for c in text], np.uint16)
    data = folder / "data" / "names"
    data.mkdir(parents=True)
    cut = int(0.9 * len(ids))
    ids[:cut].tofile(data / "train.bin")
    ids[cut:].tofile(data / "val.bin")
    meta = {"vocab_size": len(chars), "itos": dict(enumerate(chars)),
            "stoi": {c: i for i, c in enumerate(chars)}}
    (data / "meta.pkl").write_bytes(pickle.dumps(meta))  # the scripts read it back themselves
    # sample.py imports tiktoken (GPT-2's tokenizer) but uses it only for a data set without
    # meta.pkl: a stand-in that says so, where the package is not installed
    (folder / "tiktoken.py").write_text(
        "def get_encoding(name):\n    raise RuntimeError('the tiktoken stand-in of "
        "tests/test_nanogpt.py: this data set has meta.pkl')\n")
    return folder


def run_script(folder: Path, script: str, args: list[str]) -> str:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1",
           "OPENBLAS_NUM_THREADS": "1"}
    done = subprocess.run([sys.executable, script, *args], cwd=folder, env=env,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, f"{script} failed:\n{done.stdout[-2000:]}\n{done.stderr[-3000:]}"
    return done.stdout


def training_log(stdout: str) -> dict:
    """The losses train.py prints: each step's, and each evaluation's train and val loss."""
    return {"steps": [float(x) for x in re.findall(r"^iter \d+: loss ([\d.]+)", stdout, re.M)],
            "evals": [[float(a), float(b)] for a, b in re.findall(
                r"^step \d+: train loss ([\d.]+), val loss ([\d.]+)", stdout, re.M)]}


def samples(stdout: str) -> list[str]:
    """The texts sample.py prints after reading meta.pkl, each followed by a line of dashes."""
    return stdout.split("Loading meta from data/names/meta.pkl...\n", 1)[1].split(
        "\n---------------\n")[:-1]


@pytest.fixture(scope="module")
def our_scripts(tmp_path_factory) -> dict:
    folder = script_folder(tmp_path_factory.mktemp("nanogpt") / "ours", ours=True)
    log = training_log(run_script(folder, "train.py", TRAIN))
    return {"folder": folder, "log": log,
            "samples": samples(run_script(folder, "sample.py", SAMPLE))}


def check_same_training(ours: dict, theirs: dict) -> None:
    assert len(ours["steps"]) == len(theirs["steps"]) == 9  # iterations 0 to 8
    np.testing.assert_allclose(ours["steps"], theirs["steps"], atol=2e-4)
    np.testing.assert_allclose(ours["evals"], theirs["evals"], atol=2e-4)


def test_train_py_and_sample_py_run_here_as_they_ran_on_pytorch(our_scripts):
    recorded = json.loads(RECORDING.read_text())["scripts"]
    log = our_scripts["log"]
    assert log["evals"][-1][0] < log["evals"][0][0]  # the training loss fell
    check_same_training(log, recorded["log"])
    assert (our_scripts["folder"] / "out" / "ckpt.pt").exists()
    assert our_scripts["samples"] == recorded["samples"] and len(our_scripts["samples"]) == 2


def test_train_py_and_sample_py_match_pytorch_live_and_read_each_others_checkpoints(
        our_scripts, tmp_path):
    pytest.importorskip("torch")
    folder = script_folder(tmp_path / "torch", ours=False)
    theirs = {"log": training_log(run_script(folder, "train.py", TRAIN)),
              "samples": samples(run_script(folder, "sample.py", SAMPLE))}
    if os.environ.get("SCRATCHGRAD_NANOGPT_TORCH") == "record":
        recorded = json.loads(RECORDING.read_text())
        recorded["scripts"] = theirs
        write_bytes(RECORDING, (json.dumps(recorded, indent=1) + "\n").encode())
    check_same_training(our_scripts["log"], theirs["log"])
    assert our_scripts["samples"] == theirs["samples"]
    # PyTorch's sample.py reads the checkpoint our train.py wrote, and ours reads PyTorch's
    shutil.copy(our_scripts["folder"] / "out" / "ckpt.pt", folder / "out" / "ckpt.pt")
    assert samples(run_script(folder, "sample.py", SAMPLE)) == our_scripts["samples"]
    shutil.copy(tmp_path / "torch" / "out" / "ckpt.pt", our_scripts["folder"] / "theirs.pt")
    (our_scripts["folder"] / "theirs").mkdir()
    shutil.copy(folder / "out" / "ckpt.pt", our_scripts["folder"] / "theirs" / "ckpt.pt")
    assert samples(run_script(our_scripts["folder"], "sample.py",
                              SAMPLE + ["--out_dir=theirs"])) == theirs["samples"]
