"""viz/__main__.py: `python -m viz` renders its examples, run as a user would, in a subprocess
(the table of refused arguments calls its main() in this process)."""
from __future__ import annotations

import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from viz.__main__ import main as viz_main

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
    for word in ("--example", "neuron", "lesson", "--out", "--format", "svg", "png", "pdf"):
        assert word in done.stdout


def test_neuron_renders_into_out_without_dot_on_path(tmp_path):
    # PATH is an empty folder: graphviz-pure must be found beside the interpreter
    done = run_viz(cwd=tmp_path, path_env=str(tmp_path))
    assert done.returncode == 0, done.stderr
    assert (done.stdout, done.stderr) == ("wrote out/neuron.svg\n", "")
    assert os.listdir(tmp_path / "out") == ["neuron.svg"]  # the demos' convention: out/
    svg = ET.parse(tmp_path / "out" / "neuron.svg").getroot()
    texts = [t.text for t in svg.iter("{http://www.w3.org/2000/svg}text")]
    # micrograd's neuron: o = tanh(0.8814) = 0.7071, do/dx1 = w1 (1 - o**2) = -1.5
    assert "data 0.7071" in texts and "grad -1.5" in texts


def test_lesson_renders_every_format_asked_for(tmp_path):
    done = run_viz("--example", "lesson", "--format", "png", "dot", "--out", "pics",
                   cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == ["wrote pics/lesson.png", "wrote pics/lesson.dot"]
    assert (tmp_path / "pics" / "lesson.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert sorted(os.listdir(tmp_path / "pics")) == ["lesson.dot", "lesson.png"]


def test_lesson_dot_has_the_784_50_1_model(tmp_path):
    done = run_viz("--example", "lesson", "--rows", "3", "--format", "dot", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    source = (tmp_path / "out" / "lesson.dot").read_text()
    for text in ("(3, 784) float32", "w1 | {(784, 50) float32", "b1 | {(50,) float32",
                 "w2 | {(50, 1) float32", "b2 | {(1,) float32", "loss | {scalar float32",
                 "label=relu", "label=select", "rankdir=TB"):
        assert text in source


@pytest.mark.parametrize("args, message", [
    (["--format", "gif"], "argument --format: invalid choice: 'gif'"),
    (["--out", "a-file/sub"], "--out a-file/sub: cannot create this folder"),
    (["--example", "lesson", "--rows", "0"], "--rows must be at least 1, got 0"),
    (["--example", "lesson", "--seed", "-1"], "--seed must be 0 or more, got -1"),
    (["--max-nodes", "0"], "--max-nodes must be at least 1, got 0"),
])
def test_bad_arguments_fail_with_a_message(tmp_path, monkeypatch, capsys, args, message):
    (tmp_path / "a-file").write_text("")
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as exit:
        viz_main(args)
    assert exit.value.code not in (0, None)
    assert message in capsys.readouterr().err
    assert [p.name for p in tmp_path.iterdir()] == ["a-file"]  # refused before writing anything


def test_explore_writes_a_page_beside_the_picture(tmp_path):
    done = run_viz("--explore", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == ["wrote out/neuron.svg", "wrote out/neuron.html"]
    page = (tmp_path / "out" / "neuron.html").read_text()
    assert page.startswith("<!DOCTYPE html>") and "<svg" in page and "src=" not in page


def test_an_explore_page_that_cannot_be_written_is_reported_in_clear_lines(tmp_path):
    (tmp_path / "out" / "neuron.html").mkdir(parents=True)  # a folder where the page goes
    done = run_viz("--format", "dot", "--explore", cwd=tmp_path)
    assert done.returncode == 1
    assert done.stdout == "wrote out/neuron.dot\n"
    assert done.stderr == ("python -m viz: error: cannot write out/neuron.html: it is a folder; "
                           "give a file name\n"
                           "python -m viz: 1 of 2 files not written: out/neuron.html\n")


def test_without_dot_each_format_that_can_be_made_is_and_the_rest_are_reported(tmp_path):
    done = run_viz("--format", "pdf", "png", "--explore", cwd=tmp_path, path_env=str(tmp_path))
    assert done.returncode == 1
    assert done.stdout.splitlines() == ["wrote out/neuron.png", "wrote out/neuron.html"]
    errors = done.stderr.splitlines()
    assert len(errors) == 2 and "Traceback" not in done.stderr
    assert errors[0].startswith("python -m viz: error: PDF output needs Graphviz's `dot`")
    assert "saved in out/neuron.dot" in errors[0]
    assert errors[1] == "python -m viz: 1 of 3 files not written: out/neuron.pdf"
    assert sorted(os.listdir(tmp_path / "out")) == ["neuron.dot", "neuron.html", "neuron.png"]


def test_the_explore_page_colours_the_examples_parameters(tmp_path):
    done = run_viz("--explore", "--format", "dot", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    page = (tmp_path / "out" / "neuron.html").read_text()
    assert page.count('fill="#b7e1a1"') == 4  # w1, w2, b and the legend's swatch
