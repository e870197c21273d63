"""viz/__main__.py: `python -m viz` renders its examples, run as a user would, in a subprocess."""
from __future__ import annotations

import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def run_viz(*args: str, cwd: Path, path_env: str | None = None) -> subprocess.CompletedProcess:
    """`python -m viz ARGS` in `cwd`, the checkout importable, PATH replaced when given."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    if path_env is not None:
        env["PATH"] = path_env
    return subprocess.run([sys.executable, "-m", "viz", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=60)


def test_help_names_the_examples_and_formats(tmp_path):
    done = run_viz("--help", cwd=tmp_path)
    assert done.returncode == 0
    for word in ("--example", "neuron", "lesson", "--out", ".svg", ".png"):
        assert word in done.stdout


def test_neuron_renders_to_svg_without_dot_on_path(tmp_path):
    # PATH is an empty folder: graphviz-pure must be found beside the interpreter
    done = run_viz(cwd=tmp_path, path_env=str(tmp_path))
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "neuron.svg"
    svg = ET.parse(tmp_path / "neuron.svg").getroot()
    texts = [t.text for t in svg.iter("{http://www.w3.org/2000/svg}text")]
    # micrograd's neuron: o = tanh(0.8814) = 0.7071, do/dx1 = w1 (1 - o**2) = -1.5
    assert "data 0.7071" in texts and "grad -1.5" in texts


def test_lesson_renders_to_png(tmp_path):
    out = tmp_path / "lesson.png"
    done = run_viz("--example", "lesson", "--out", str(out), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert Path(done.stdout.strip()) == out
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert out.stat().st_size > 20_000


def test_lesson_dot_has_the_784_50_1_model(tmp_path):
    out = tmp_path / "lesson.dot"
    done = run_viz("--example", "lesson", "--rows", "3", "--out", str(out), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    source = out.read_text()
    for text in ("(3, 784) float32", "w1 | {(784, 50) float32", "b1 | {(50,) float32",
                 "w2 | {(50, 1) float32", "b2 | {(1,) float32", "loss | {scalar float32",
                 "label=relu", "rankdir=TB"):
        assert text in source


@pytest.mark.parametrize("args, message", [
    (["--out", "pic.gif"], "pic.gif: the suffix must be one of"),
    (["--out", "no/such/folder/pic.svg"], "the folder no/such/folder does not exist"),
    (["--example", "lesson", "--rows", "0"], "--rows must be at least 1, got 0"),
    (["--max-nodes", "0"], "max_nodes must be a positive int"),
])
def test_bad_arguments_fail_with_a_message(tmp_path, args, message):
    done = run_viz(*args, cwd=tmp_path)
    assert done.returncode != 0
    assert message in done.stderr
    assert "Traceback" not in done.stderr
