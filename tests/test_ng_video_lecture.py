"""Karpathy's "Let's build GPT" lecture code (bigram.py and gpt.py of karpathy/ng-video-lecture),
run as scripts, as a learner runs them, on this engine with only their imports changed.

The scripts have no command line: their hyperparameters are lines at the top, which the
test sets to a size a CPU trains in seconds (`SIZES`), as a learner without a GPU does; the
three torch import lines become this engine's (`engine` as torch, `nn`, `nn.functional`).
Everything else is the lecture's: `torch.manual_seed(1337)`, batches from `torch.randint`,
the bigram table and the GPT of heads, blocks, LayerNorm and dropout 0.2 with
`self.apply(self._init_weights)`, `@torch.no_grad()` evaluation in eval mode, AdamW with
`zero_grad(set_to_none=True)`, and `generate` sampling with `torch.multinomial`.

Our engine draws PyTorch's numbers, so what the scripts print (the parameter count, each
evaluation's train and val loss, the generated text) must be what they print on PyTorch:
recorded in tests/fixtures/ng_video_lecture/torch_run.json, and compared with a live PyTorch
run where it is installed (SCRATCHGRAD_NGV_TORCH=record writes the recording anew).
"""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from engine.atomic import write_bytes
from test_nanogpt import IMPORTS  # the same three lines as nanoGPT's model.py: ours for torch's

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "fixtures" / "ng_video_lecture"
RECORDING = FIXTURES / "torch_run.json"
SIZES = {
    "bigram.py": {"batch_size": 4, "block_size": 8, "max_iters": 30, "eval_interval": 10,
                  "eval_iters": 3},
    "gpt.py": {"batch_size": 4, "block_size": 16, "max_iters": 30, "eval_interval": 10,
               "learning_rate": 1e-3, "eval_iters": 3, "n_embd": 32, "n_head": 4,
               "n_layer": 2},
}
GENERATE = ("max_new_tokens=500", "max_new_tokens=60")


def script(name: str, ours: bool) -> str:
    """The lecture's script at SIZES, on this engine when `ours`."""
    source = (FIXTURES / name).read_text()
    changes = [(re.compile(rf"^{key} = .*$", re.M), f"{key} = {value!r}")
               for key, value in SIZES[name].items()]
    for pattern, line in changes:
        source, count = pattern.subn(line, source)
        assert count == 1, f"{name} no longer sets {line.split()[0]} on a line of its own"
    assert source.count(GENERATE[0]) == 1
    source = source.replace(*GENERATE)
    for old, new in IMPORTS.items() if ours else ():
        if old in source or name == "gpt.py":  # (bigram.py has all three as well)
            assert source.count(old) == 1, f"{name} no longer has the line {old!r}"
            source = source.replace(old, new)
    return source


def run(folder: Path, name: str, ours: bool) -> str:
    """What `python NAME` prints in a folder holding the script and the lecture's input.txt."""
    folder.mkdir(exist_ok=True)
    shutil.copy(FIXTURES / "input.txt", folder / "input.txt")
    (folder / name).write_text(script(name, ours))
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1",
           "OPENBLAS_NUM_THREADS": "1"}
    done = subprocess.run([sys.executable, name], cwd=folder, env=env, capture_output=True,
                          text=True, timeout=600)
    assert done.returncode == 0, f"{name} failed:\n{done.stdout[-2000:]}\n{done.stderr[-3000:]}"
    return done.stdout


def printed(stdout: str) -> dict:
    """The evaluations' losses ([step, train, val] each) and what follows them: the text."""
    evals = re.findall(r"^step (\d+): train loss ([\d.]+), val loss ([\d.]+)$", stdout, re.M)
    return {"evals": [[int(s), float(t), float(v)] for s, t, v in evals],
            "head": stdout.split("step 0:", 1)[0],
            "text": re.split(r"^step \d+: .*$\n", stdout, flags=re.M)[-1]}


def check_same(ours: str, theirs: str) -> None:
    ours, theirs = printed(ours), printed(theirs)
    steps = [e[0] for e in ours["evals"]]
    assert steps == [e[0] for e in theirs["evals"]] and steps[:3] == [0, 10, 20]
    # printed to 4 places: float32 sums in another order may move the last one
    np.testing.assert_allclose(np.array(ours["evals"]), np.array(theirs["evals"]), atol=2e-4)
    assert ours["head"] == theirs["head"]  # gpt.py: '0.029562 M parameters'
    assert ours["text"] == theirs["text"] and len(ours["text"]) > 60  # 60 sampled characters


@pytest.fixture(scope="module")
def ours(tmp_path_factory) -> dict:
    folder = tmp_path_factory.mktemp("ng_video_lecture")
    return {name: run(folder, name, ours=True) for name in SIZES}


@pytest.mark.parametrize("name", SIZES)
def test_the_lectures_script_prints_here_what_it_printed_on_pytorch(ours, name):
    recorded = json.loads(RECORDING.read_text())
    check_same(ours[name], recorded[name])
    if name == "gpt.py":
        evals = printed(ours[name])["evals"]
        assert evals[-1][1] < evals[0][1] - 0.3  # it learns: the train loss falls


@pytest.mark.parametrize("name", SIZES)
def test_the_lectures_script_prints_here_what_it_prints_on_pytorch_live(ours, name, tmp_path):
    torch = pytest.importorskip("torch")
    theirs = run(tmp_path, name, ours=False)
    if os.environ.get("SCRATCHGRAD_NGV_TORCH") == "record":
        recorded = json.loads(RECORDING.read_text()) if RECORDING.exists() else {}
        recorded.update({"torch": torch.__version__, name: theirs})
        write_bytes(RECORDING, (json.dumps(recorded, indent=1) + "\n").encode())
    check_same(ours[name], theirs)
