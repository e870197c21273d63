"""Checks demos/gpt.py: training, sampling and the command line of the names GPT.

The engines are checked against each other by the demo's own --check, and against
PyTorch's twin (tests/gpt_twins.py) by the same comparison, run here in a few small steps
and shown able to fail; the command line runs as a user runs it, offline, with every
number bounded and names files that are not lists of names refused in one line.
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from gpt_twins import TorchTwin
from test_demos import run_demo

from demos import data, gpt, gpt_model
from demos.data import read_names

ROOT = Path(__file__).resolve().parents[1]
SEEDS = "between 0 and 18,446,744,073,709,551,615"
NAMES = ["emma", "olivia", "ava", "isabella", "sophia", "mia", "zoe", "al", "bo", "x"]


# --- --check: the engines side by side, and PyTorch's twin beside them


def check_gaps(out: str) -> list[tuple[str, float]]:
    """Each `NAME vs tensor` comparison --check printed, with its larger gap; all passed."""
    gaps = re.findall(r"(\w+) vs tensor: loss (\S+), gradients (\S+) \((pass|FAIL)", out)
    assert all(verdict == "pass" for *_, verdict in gaps), out
    return [(name, max(float(loss), float(grad))) for name, loss, grad, _ in gaps]


def test_check_agrees_across_engines(capsys) -> None:
    assert gpt.main(["--check", "--steps", "3", "--batch-size", "3"]) == 0
    out = capsys.readouterr().out
    gaps = check_gaps(out)
    assert [name for name, _ in gaps] == ["value"] * 3  # after 2 Adam steps too
    assert all(gap <= gpt.ScalarTwin.tolerance for _, gap in gaps)
    assert "all losses and gradients agree" in out


def test_check_agrees_with_pytorchs_twin(capsys, torch) -> None:
    names = read_names(data.SHIPPED_NAMES)[:6]
    tokenizer = gpt_model.Tokenizer(names)
    config = gpt_model.Config(tokenizer.vocab_size)
    twins = {"value": gpt.ScalarTwin, "torch": TorchTwin}
    assert gpt.check(names, tokenizer, config, 2, 3, lr=0.01, seed=0, twins=twins)
    gaps = check_gaps(capsys.readouterr().out)
    assert [name for name, _ in gaps] == ["value", "torch"] * 2
    assert all(gap <= twins[name].tolerance for name, gap in gaps)


def test_check_fails_on_a_wrong_gradient(capsys, monkeypatch) -> None:
    def skewed_rmsnorm(x: list) -> list:  # the scalar side's eps 1000x too large
        scale = (gpt_model.total(xi * xi for xi in x) * (1.0 / len(x)) + 1e-2) ** -0.5
        return [xi * scale for xi in x]
    monkeypatch.setattr(gpt_model, "scalar_rmsnorm", skewed_rmsnorm)
    assert gpt.main(["--check", "--steps", "1", "--batch-size", "2"]) == 1
    out = capsys.readouterr().out
    assert "value vs tensor" in out and "FAIL" in out and "MISMATCH" in out


def test_check_fails_when_the_optimizers_disagree(capsys, monkeypatch) -> None:
    class Skewed(gpt.ScalarTwin):  # its Adam steps 1% further than the Tensor side's
        def step(self, lr: float) -> None:
            super().step(lr * 1.01)
    names = read_names(data.SHIPPED_NAMES)[:4]
    tokenizer = gpt_model.Tokenizer(names)
    config = gpt_model.Config(tokenizer.vocab_size)
    assert not gpt.check(names, tokenizer, config, 2, 2, lr=0.01, seed=0,
                         twins={"value": Skewed})
    out = capsys.readouterr().out
    assert out.count("(pass") == 1 and out.count("(FAIL") == 1  # the first step, then not


def test_largest_gap_names_mismatched_weights() -> None:
    a = {"w": np.zeros(3), "v": np.ones(2)}
    assert gpt.largest_gap(a, {"w": np.array([0.0, -0.5, 0.25]), "v": np.ones(2)}) == 0.5
    with pytest.raises(ValueError, match="'u'"):
        gpt.largest_gap(a, {"w": np.zeros(3), "u": np.ones(2)})


# --- the command line, as a user runs it


def written(stdout: str, cwd: Path) -> list[Path]:
    """Every file a `wrote PATH` line names; each must exist."""
    paths = [cwd / line.removeprefix("wrote ") for line in stdout.splitlines()
             if line.startswith("wrote ")]
    missing = [p for p in paths if not p.is_file()]
    assert not missing, f"'wrote' lines name missing files: {missing}"
    return paths


def test_help(tmp_path: Path) -> None:
    out = run_demo("gpt", "--help", cwd=tmp_path).stdout
    assert out.startswith("usage: python -m demos.gpt")
    for flag in ("--engine", "--check", "--data", "--temperature", "--out"):
        assert flag in out


def test_tensor_engine_trains_samples_and_writes(tmp_path: Path) -> None:
    done = run_demo("gpt", "--steps", 4, "--eval-every", 2, "--samples", 3, "--no-download",
                    "--out", "out", cwd=tmp_path)
    assert "Traceback" not in done.stderr
    assert re.search(r"step +4/4  loss \d\.\d{4}  held-out loss \d\.\d{4}", done.stdout)
    assert len(re.findall(r"^sample +\d+: [a-z]*$", done.stdout, re.MULTILINE)) == 3
    paths = {p.name for p in written(done.stdout, tmp_path)}
    assert paths == {"gpt_tensor.safetensors", "gpt_tensor_loss.png",
                     "gpt_attention_head.svg"}
    assert (tmp_path / "out" / "gpt_tensor_loss.png").read_bytes()[:4] == b"\x89PNG"
    tokenizer = gpt_model.Tokenizer(read_names(data.SHIPPED_NAMES))
    model = gpt_model.GPT(gpt_model.Config(tokenizer.vocab_size))
    model.load(tmp_path / "out" / "gpt_tensor.safetensors")  # it fits the default model


def test_value_engine_trains_one_name_a_step(tmp_path: Path) -> None:
    names = tmp_path / "names.txt"
    names.write_text("\n".join(NAMES * 2))
    done = run_demo("gpt", "--engine", "value", "--data", names, "--steps", 2, "--samples", 2,
                    "--n-embd", 8, "--n-head", 2, "--out", "out", cwd=tmp_path)
    assert "Traceback" not in done.stderr
    assert "scalar engine.Value, one name per step, 2 steps" in done.stdout
    assert re.search(r"held-out loss on the last 2 names: \d\.\d{4}", done.stdout)
    assert {p.name for p in written(done.stdout, tmp_path)} == {"gpt_value.safetensors",
                                                                "gpt_value_loss.png"}


@pytest.fixture(scope="module")
def first(tmp_path_factory) -> Path:
    """A folder holding names.txt and first/gpt_tensor.safetensors, 2 steps on it with small
    sizes: the checkpoint that the --resume tests resume from (each in a copy of the folder)."""
    folder = tmp_path_factory.mktemp("gpt_first")
    (folder / "names.txt").write_text("\n".join(NAMES * 2))
    run_demo("gpt", "--data", "names.txt", "--steps", 2, "--samples", 0, "--n-embd", 8,
             "--n-head", 2, "--block-size", 12, "--out", "first", cwd=folder)
    return folder


def test_resume_takes_sizes_and_characters_from_the_checkpoint(first: Path,
                                                               tmp_path: Path) -> None:
    shutil.copytree(first, tmp_path, dirs_exist_ok=True)
    first = tmp_path / "first" / "gpt_tensor.safetensors"
    config, tokenizer = gpt.read_checkpoint_metadata(first)
    assert config == gpt_model.Config(tokenizer.vocab_size, n_embd=8, n_head=2, block_size=12)
    assert tokenizer.chars == sorted(set("".join(NAMES)))

    fewer = tmp_path / "fewer.txt"  # names with fewer characters keep the checkpoint's tokens
    fewer.write_text("\n".join(["emma", "ava", "mia"] * 4))
    done = run_demo("gpt", "--data", fewer, "--resume", first, "--steps", 2, "--samples", 0,
                    "--out", "second", cwd=tmp_path)
    assert f"resuming from {first}" in done.stdout
    assert (f"8-dim embeddings, 2 heads, block 12, vocabulary {tokenizer.vocab_size}"
            in done.stdout)
    before, after = gpt_model.GPT(config), gpt_model.GPT(config)
    before.load(first)
    after.load(tmp_path / "second" / "gpt_tensor.safetensors")  # trained on from `first`
    assert not np.array_equal(before.state_dict()["wte"], after.state_dict()["wte"])
    config_after, tokenizer_after = gpt.read_checkpoint_metadata(
        tmp_path / "second" / "gpt_tensor.safetensors")
    assert config_after == config and tokenizer_after.chars == tokenizer.chars


def run_main(args: list[str], cwd: Path, monkeypatch, capsys) -> tuple[int, str]:
    """demos.gpt's main(args) run in cwd in this process: its exit code and its stderr."""
    monkeypatch.chdir(cwd)
    try:
        code = gpt.main([str(arg) for arg in args])
    except SystemExit as e:
        code = e.code
    return code, capsys.readouterr().err


@pytest.mark.parametrize("args, message", [
    (["--n-embd", "16"], "--n-embd 16 does not match first/gpt_tensor.safetensors's 8: leave it "
                         "out"),
    (["--data", "other.txt"], "other.txt holds characters that first/gpt_tensor.safetensors has "
                              "no token for: 'nqu'"),
    (["--check"], "--check starts both engines from the same fresh weights"),
])
def test_resume_refuses_what_does_not_fit_in_one_line(first: Path, tmp_path: Path,
                                                      monkeypatch, capsys, args: list[str],
                                                      message: str) -> None:
    shutil.copytree(first, tmp_path, dirs_exist_ok=True)
    (tmp_path / "other.txt").write_text("\n".join(["quinn", "emma"] * 5))
    code, err = run_main(["--data", "names.txt", "--resume", "first/gpt_tensor.safetensors",
                          *args], tmp_path, monkeypatch, capsys)
    assert code in (1, 2) and message in err


# In this process: the command line's own wiring is what test_help and the tests below
# that run `python -m demos.gpt` check.
@pytest.mark.parametrize("args, message", [
    (["--n-embd", "10", "--n-head", "4"], "--n-embd (10) must be a multiple of --n-head (4)"),
    (["--temperature", "0"], "argument --temperature: must be a finite number greater than 0"),
    (["--lr", "nan"], "argument --lr: must be a finite number greater than 0 and at most 1, "
                      "got nan"),
    (["--steps", "0"], "argument --steps: must be between 1 and 1,000,000, got 0"),
    (["--seed", "-1"], f"argument --seed: must be {SEEDS}, got -1"),
    (["--samples", "-2"], "argument --samples: must be between 0 and 10,000, got -2"),
    (["--engine", "value", "--eval-every", "5"], "--eval-every is for the Tensor engine"),
    (["--check", "--steps", "9000", "--batch-size", "4"],
     "--check with --steps 9000 and --batch-size 4 needs 36,000 names to train on; "),
    (["--data", "no-such-file.txt"], "no-such-file.txt: no such file or folder"),
])
def test_bad_arguments_are_one_clear_line(tmp_path: Path, monkeypatch, capsys,
                                          args: list[str], message: str) -> None:
    code, err = run_main(args, tmp_path, monkeypatch, capsys)
    assert code in (1, 2) and message in err
    assert list(tmp_path.iterdir()) == []  # refused before writing anything


def test_a_batch_larger_than_the_names_takes_several_passes() -> None:
    batches = list(gpt.batch_rows(4, 10, 3, np.random.default_rng(0)))
    assert [len(rows) for rows in batches] == [10, 10, 10]
    assert np.all(np.bincount(np.concatenate(batches), minlength=4) >= 7)  # each name in each pass


def test_sampling_at_a_tiny_temperature_takes_the_likeliest_character() -> None:
    tokenizer = gpt_model.Tokenizer(["ab"])  # a, b, then BOS
    logits = np.array([0.0, 3.0, -1.0], np.float32)  # b is the likeliest, then BOS never comes
    names = gpt.sample_names(lambda: lambda token: logits, tokenizer, 2, 1e-39, 3,
                             np.random.default_rng(0))
    assert names == ["bbb", "bbb"]


@pytest.mark.parametrize("args, message", [
    (["--steps", str(10**20)], "argument --steps: must be between 1 and 1,000,000"),
    (["--steps", "9" * 400], "argument --steps: must be between 1 and 1,000,000, got "
                             "999999999999... (400 characters)"),
    (["--block-size", str(10**20)], "argument --block-size: must be between 1 and 1,024"),
    (["--n-embd", str(10**20)], "argument --n-embd: must be between 1 and 1,024"),
    (["--n-layer", str(10**20)], "argument --n-layer: must be between 1 and 64"),
    (["--n-head", str(10**20)], "argument --n-head: must be between 1 and 64"),
    (["--batch-size", str(10**20)], "argument --batch-size: must be between 1 and 4,096"),
    (["--samples", "9" * 400], "argument --samples: must be between 0 and 10,000"),
    (["--eval-every", "9" * 400], "argument --eval-every: must be between 1 and 1,000,000"),
    (["--lr", "1e308"], "argument --lr: must be a finite number greater than 0 and at most 1, "
                        "got 1e308"),
    (["--temperature", "1e308"], "argument --temperature: must be a finite number greater "
                                 "than 0 and at most 100, got 1e308"),
])
def test_every_number_is_bounded(tmp_path: Path, monkeypatch, capsys, args: list[str],
                                 message: str) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as exit:
        gpt.main(args)
    assert exit.value.code == 2
    *usage, error = capsys.readouterr().err.splitlines()  # argparse's usage, then one line
    assert usage[0].startswith("usage: ") and all(line.startswith(" ") for line in usage[1:])
    assert message in error
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("module, args", [
    ("demos.mnist", ["--epochs", "1", "--limit", "300", "--no-download"]),
    ("demos.gpt", ["--steps", "5", "--samples", "2"]),
])
def test_a_huge_learning_rate_gets_one_line_and_no_numpy_warning(tmp_path: Path, module: str,
                                                                 args: list[str]) -> None:
    from test_demos import run_module

    done = run_module(module, *args, "--lr", "1e30", "--out", "out", cwd=tmp_path, check=False)
    assert done.returncode == 2 and "Warning" not in done.stderr
    assert "argument --lr: must be a finite number greater than 0 and at most" in done.stderr
    assert "Probabilities contain NaN" not in done.stderr and "Traceback" not in done.stderr


def test_training_that_diverges_stops_with_one_line() -> None:
    losses = iter([2.0, 1.5, float("nan"), 1.0])
    with pytest.raises(gpt.Diverged, match=r"the loss became nan at step 3"):
        gpt.fit(lambda i: next(losses), 4, "step", lambda i, loss: None)


# --- issue 21: names files that are not what they seem


def run_bounded(args: list[str], cwd: Path, memory: int = 1 << 30,
                timeout: float = 30) -> subprocess.CompletedProcess:
    """`python -m demos.gpt ARGS` with at most `memory` bytes of address space, or a
    failed test after `timeout` seconds (a read that blocks)."""
    import resource

    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    try:
        return subprocess.run([sys.executable, "-m", "demos.gpt", *args], cwd=cwd, env=env,
                              capture_output=True, text=True, timeout=timeout,
                              preexec_fn=limit)
    except subprocess.TimeoutExpired:
        pytest.fail(f"demos.gpt {' '.join(args)} still running after {timeout} s")


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs on this system")
@pytest.mark.parametrize("make, kind", [
    (lambda d: os.mkfifo(d / "names.txt"), "FIFO"),
    (lambda d: (d / "names.txt").symlink_to("/dev/zero"), "character device"),
    (lambda d: (d / "names.txt").mkdir(), "folder"),
], ids=["fifo", "dev-zero", "folder"])
def test_data_that_is_not_a_regular_file_is_refused_at_once(tmp_path: Path, make, kind) -> None:
    make(tmp_path)
    done = run_bounded(["--data", "names.txt", "--steps", "1"], tmp_path)
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert done.stderr.count("\n") == 1
    assert f"names.txt: not a regular file ({kind})" in done.stderr


def test_ansi_escapes_in_the_names_never_reach_the_terminal(tmp_path: Path) -> None:
    (tmp_path / "names.txt").write_text("\n".join(["\x1b[2Jx", "\x1b[31my"] * 20))
    done = run_demo("gpt", "--data", "names.txt", "--steps", 2, "--samples", 20,
                    "--out", "out", cwd=tmp_path, check=False)
    assert "\x1b" not in done.stdout + done.stderr
    assert done.returncode == 1 and "line 1 holds '\\x1b'" in done.stderr




@pytest.mark.parametrize("args", [
    ["--n-embd", "1024", "--n-layer", "64"],
    ["--engine", "value", "--n-embd", "256", "--n-head", "4"],
    ["--check", "--n-embd", "128", "--batch-size", "64"],
])
def test_a_model_too_large_for_the_machine_is_refused_before_it_is_built(
        tmp_path: Path, monkeypatch, capsys, args: list[str]) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as exit:
        gpt.main(args)
    assert exit.value.code == 2
    error = capsys.readouterr().err.splitlines()[-1]
    assert re.search(r"would take about [\d,]+ MB a step .* more than the 1,024 MB this demo "
                     r"allows; make --batch-size, --block-size, --n-embd or --n-layer "
                     r"smaller$", error), error
    assert list(tmp_path.iterdir()) == []
