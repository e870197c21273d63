"""PyTorch's own tutorials, run on this library with only their imports changed
(tests/fixtures/pytorch_tutorials, BSD 3-Clause), each printing what PyTorch printed from
the same seed (recorded in torch_run.json: SCRATCHGRAD_TUTORIALS_TORCH=1 checks the record
against torch, =record writes it):
- "What is torch.nn really?" trains its logistic regression, its nn.Module, nn.Linear,
  optim, Dataset and DataLoader refactors and its CNNs on real MNIST digits;
- the 60-minute blitz's "Neural Networks" builds LeNet, backpropagates, walks back its
  grad_fns and takes an SGD step; Learn the Basics' "Tensors" makes, indexes, joins and
  multiplies tensors (out= too) and shares memory with numpy, its "Build the Neural
  Network" prints a model, its prediction and its parameters, and its "Autograd" shows
  grad_fns, backpropagates vector-Jacobian products and accumulates them;
- "Learning PyTorch with Examples": a cubic fitted to sin(x) by nn.Sequential and
  MSELoss, and the dynamic net that draws its depth with Python's `random` (seeded 0)
  at every step, 30,000 steps of momentum SGD.
(The same page's custom autograd.Function runs in tests/test_autograd.py.)"""
from __future__ import annotations

import gzip
import json
import os
import pickle
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from engine.atomic import write_bytes

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "fixtures" / "pytorch_tutorials"
RECORDING = FIXTURES / "torch_run.json"
TORCH = os.environ.get("SCRATCHGRAD_TUTORIALS_TORCH", "")
TRAIN = 8000  # of the 10,000 test digits; the other 2,000 are the validation set

# The only change to the tutorial: its imports of torch become imports of this library.
IMPORTS = [(r"^import torch\.nn\.functional as F$", "import nn.functional as F"),
           (r"^import torch\.nn as nn$", "import nn"),
           (r"^import torch\.optim as optim$", "import nn.optim as optim"),
           (r"^import torch$", "import engine as torch"),
           (r"^from torch import ", "from engine import "),
           (r"^from torch\.utils\.data import ", "from engine.utils.data import ")]

# Run in a fresh interpreter in the folder holding data/mnist/mnist.pkl.gz: the tutorial
# downloads that file only when it is missing (so `requests`, which it imports for that,
# may be a stand-in; so may torchvision, which Build the Model imports and never uses),
# draws from the generators seeded 0 (PyTorch's and Python's), plots off screen.
RUNNER = """
import importlib.util, sys, types
for name, parts in (("requests", ()), ("torchvision", ("datasets", "transforms"))):
    if importlib.util.find_spec(name) is None:  # a stand-in for what is not installed
        stub = sys.modules[name] = types.ModuleType(name)
        for part in parts:
            setattr(stub, part, None)
import matplotlib
matplotlib.use("Agg")
import random
import {lib}
{lib}.manual_seed(0)
random.seed(0)
exec(compile(sys.stdin.read(), "{name}.py", "exec"), {{"__name__": "__main__"}})
"""


def tutorial_source(name: str, engine: bool) -> str:
    source = (FIXTURES / f"{name}.py").read_text()
    if engine:
        for pattern, replacement in IMPORTS:
            source = re.sub(pattern, replacement, source, flags=re.MULTILINE)
    return source


def run_tutorial(name: str, engine: bool, cwd: Path, digits: tuple | None = None) -> list[str]:
    """The lines the tutorial prints, run on this library or on torch (objects' addresses
    left out)."""
    cwd.mkdir(parents=True, exist_ok=True)
    if digits is not None:
        x, y = digits
        (cwd / "data" / "mnist").mkdir(parents=True)
        with gzip.open(cwd / "data" / "mnist" / "mnist.pkl.gz", "wb") as f:  # its format
            pickle.dump(((x[:TRAIN], y[:TRAIN]), (x[TRAIN:], y[TRAIN:]), None), f)
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OPENBLAS_NUM_THREADS": "1",
           "OMP_NUM_THREADS": "1", "MPLBACKEND": "Agg"}
    runner = RUNNER.format(lib="engine" if engine else "torch", name=name)
    done = subprocess.run([sys.executable, "-c", runner], input=tutorial_source(name, engine),
                          cwd=cwd, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    return [re.sub(r" object at 0x[0-9a-f]+>", " object>", line)
            for line in done.stdout.splitlines()]


NUMBER = re.compile(r"-?\d+\.\d+(?:e-?\d+)?")
CNN_LINES = 9  # the four CNN fits, two epochs each, and cuda.is_available() among them


@pytest.mark.parametrize("name, imports", [("nn_tutorial", 6), ("neural_networks_tutorial", 4),
                                           ("polynomial_nn", 1), ("dynamic_net", 1),
                                           ("tensorqs_tutorial", 1), ("autogradqs_tutorial", 1),
                                           ("buildmodel_tutorial", 3)])
def test_the_fixtures_are_the_tutorials_with_their_licence(name, imports):
    assert "BSD 3-Clause" in (FIXTURES / "LICENSE").read_text()
    source = tutorial_source(name, engine=False)
    assert "pytorch/tutorials' beginner_source" in source
    found = [line for line in source.splitlines() if re.match(r"(import|from) torch\b", line)]
    assert len(found) == imports  # each rewritten, and nothing else
    ours = tutorial_source(name, engine=True)
    assert not re.search(r"^(import|from) torch\b", ours, re.MULTILINE)
    assert len(ours.splitlines()) == len(source.splitlines())


def test_what_is_torch_nn_really_prints_what_pytorch_printed(tmp_path, mnist_test):
    got = run_tutorial("nn_tutorial", True, tmp_path, mnist_test)
    want = json.loads(RECORDING.read_text())["nn_tutorial"]
    assert len(got) == len(want), got
    for i, (line, recorded) in enumerate(zip(got, want)):
        if line == recorded:
            continue
        ours, theirs = NUMBER.findall(line), NUMBER.findall(recorded)
        assert NUMBER.sub("#", line) == NUMBER.sub("#", recorded), (line, recorded)
        # the CNNs' 250 steps of momentum SGD magnify float32 rounding: a few percent apart
        tolerance = 0.05 if i >= len(want) - CNN_LINES else 1e-6
        np.testing.assert_allclose([float(v) for v in ours], [float(v) for v in theirs],
                                   rtol=tolerance, err_msg=f"line {i}: {line!r}")
    final = [float(line.split()[1]) for line in got[-CNN_LINES:] if line.startswith("1 ")]
    assert len(final) == 4 and max(final) < 1.0  # each CNN learned: 2.30 is chance


@pytest.mark.parametrize("name", ["neural_networks_tutorial", "tensorqs_tutorial",
                                  "autogradqs_tutorial", "buildmodel_tutorial"])
def test_the_basics_print_what_pytorch_printed_line_for_line(tmp_path, name):
    """The blitz: LeNet's print, its output, the MSE loss, the grad_fn walk, conv1's bias
    gradients. The basics: seeded random tensors, slices, cat, sums, the numpy bridge;
    grad_fns, backward with a gradient, accumulation."""
    got = run_tutorial(name, True, tmp_path)
    assert got == json.loads(RECORDING.read_text())[name]


@pytest.mark.parametrize("name", ["polynomial_nn", "dynamic_net"])
def test_learning_pytorch_with_examples_prints_what_pytorch_printed(tmp_path, name):
    """The losses every 100 (2,000) steps and the fitted coefficients, to float32's
    rounding: the sums over 2,000 points add in another order."""
    got = run_tutorial(name, True, tmp_path)
    want = json.loads(RECORDING.read_text())[name]
    assert [NUMBER.sub("#", line) for line in got] == [NUMBER.sub("#", line) for line in want]
    np.testing.assert_allclose([float(v) for line in got for v in NUMBER.findall(line)],
                               [float(v) for line in want for v in NUMBER.findall(line)],
                               rtol=1e-5)


@pytest.mark.skipif(TORCH not in ("1", "record"),
                    reason="PyTorch's runs take 40 s: SCRATCHGRAD_TUTORIALS_TORCH=1 runs them")
def test_pytorchs_runs_are_the_recorded_ones(tmp_path, mnist_test):
    torch = pytest.importorskip("torch")
    runs = {"torch": torch.__version__,
            "nn_tutorial": run_tutorial("nn_tutorial", False, tmp_path / "a", mnist_test),
            **{name: run_tutorial(name, False, tmp_path / name)
               for name in ("neural_networks_tutorial", "polynomial_nn", "dynamic_net",
                            "tensorqs_tutorial", "autogradqs_tutorial",
                            "buildmodel_tutorial")}}
    if TORCH == "record":
        write_bytes(RECORDING, (json.dumps(runs, indent=1) + "\n").encode())
    assert json.loads(RECORDING.read_text()) == runs, "recorded with another torch: record anew"
