"""Karpathy's five makemore lectures, run cell by cell on this engine, against PyTorch's run.

The notebooks are copies of karpathy/nn-zero-to-hero's lectures/makemore/*.ipynb
(tests/fixtures/makemore/, MIT licence; README.md there says which commit). At test time
the runner adapts each one, changing exactly this and nothing else:

- the two import lines: a line `import torch` becomes `import engine as torch`, a line
  `import torch.nn.functional as F` becomes `import nn.functional as F`;
- the training loops' lengths, by the replacements in `SHORTER` (each must occur in the
  notebook exactly as often as it says, or the test fails).

Each adapted notebook runs in a real Jupyter kernel in a fresh folder holding names.txt,
as tests/notebook_run.py runs one (this interpreter, this checkout first on PYTHONPATH, one
BLAS/OpenMP thread: with more, part 5's training was ten times slower on a busy machine).

PyTorch's side is the same notebook with only the loops shortened. Its outcome per cell
(ran, or the exception it raised) and each cell's text output are recorded in
tests/fixtures/makemore/torch_run.json, with the torch version, so the checks need no
PyTorch. Running it takes a minute or two more, so it is opt-in:
SCRATCHGRAD_MAKEMORE_TORCH=1 runs PyTorch's side too and checks the recording against it;
SCRATCHGRAD_MAKEMORE_TORCH=record writes the recording anew.

The bars (issue 19): every cell that runs on PyTorch runs here; part 4's `cmp` lines all
say `approximate: True`, and `exact: True` wherever PyTorch's do; part 1's cells that draw
from a seeded Generator print what PyTorch's print (the same numbers, the same names).

Parts 1, 2, 3 and 5 take over half a minute together, mostly in cells that count or
evaluate over all 228,000 bigrams or 182,000 training contexts (as long on PyTorch), so
they are marked slow and run when SCRATCHGRAD_SLOW=1 (CI sets it); part 4, which backprops
the whole MLP by hand and compares every gradient with autograd's, runs every time.
"""
from __future__ import annotations

import copy
import json
import os
import re
from pathlib import Path
from typing import Callable

import pytest

from engine.atomic import write_bytes
import notebook_run
from notebook_run import code_cells, execute, needs_kernel, summary

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "fixtures" / "makemore"
RECORDING = FIXTURES / "torch_run.json"
PARTS = ["part1_bigrams", "part2_mlp", "part3_bn", "part4_backprop", "part5_cnn1"]
IMPORTS = {"import torch": "import engine as torch",
           "import torch.nn.functional as F": "import nn.functional as F"}
# notebook -> [(text in its source, the shorter text, how many times the text occurs)]
SHORTER = {
    "part1_bigrams": [],  # its one training loop is already `for k in range(1)`
    "part2_mlp": [("for i in range(200000):", "for i in range(1000):", 1)],
    "part3_bn": [("max_steps = 200000", "max_steps = 1000", 2)],
    "part4_backprop": [("max_steps = 200000", "max_steps = 1000", 1)],
    # 1000 at least: a later cell averages the losses in rows of 1000 (view(-1, 1000))
    "part5_cnn1": [("max_steps = 200000", "max_steps = 1000", 1)],
}
LECTURES = [part if part == "part4_backprop" else pytest.param(part, marks=pytest.mark.slow)
            for part in PARTS]  # the module's docstring says why
TORCH = os.environ.get("SCRATCHGRAD_MAKEMORE_TORCH", "")
CMP = re.compile(r"^(\w+) +\| exact: (True|False) *\| approximate: (True|False) *\| "
                 r"maxdiff: (\S+)$", re.MULTILINE)


def source(part: str) -> dict:
    """The stored lecture notebook."""
    import nbformat
    return nbformat.read(FIXTURES / f"makemore_{part}.ipynb", as_version=4)


def adapted(part: str, engine: bool) -> dict:
    """The lecture with its loops shortened and, for the engine, its two imports swapped;
    outputs cleared."""
    return notebook_run.adapted(copy.deepcopy(source(part)), SHORTER[part],
                                IMPORTS if engine else {}, part)


def run_lecture(nb: dict, cwd: Path) -> dict:
    """nb run in cwd, beside the names.txt that the lectures read."""
    (cwd / "names.txt").write_bytes((ROOT / "demos" / "names.txt").read_bytes())
    return execute(nb, cwd)


def sampling_cells() -> list[int]:
    """Part 1's code cells that draw from a seeded Generator (`generator=g`)."""
    return [i for i, cell in enumerate(code_cells(source("part1_bigrams")))
            if "generator=g" in cell.source]


def bar_texts(part: str, run: dict) -> list:
    """What the bars read of a run: part 1's sampling cells' texts, part 4's cmp lines as
    (name, exact, approximate) (maxdiff varies from run to run on PyTorch: MKL's sums
    depend on how the arrays happen to be aligned in memory)."""
    if part == "part1_bigrams":
        return [run["texts"][i] for i in sampling_cells()]
    if part == "part4_backprop":
        return [line[:3] for line in CMP.findall("\n".join(run["texts"]))]
    return []


@pytest.fixture(scope="module")
def ours(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], dict]:
    """ours(part): summary() of the adapted lecture run on this engine; once per part."""
    needs_kernel()
    done: dict[str, dict] = {}

    def run(part: str) -> dict:
        if part not in done:
            done[part] = summary(run_lecture(adapted(part, engine=True),
                                             tmp_path_factory.mktemp(f"engine_{part}")))
        return done[part]
    return run


@pytest.fixture(scope="module")
def recorded() -> dict:
    """PyTorch's recorded run: {"torch": version, "parts": {part: summary}}."""
    return json.loads(RECORDING.read_text())


def theirs(recorded: dict, part: str) -> dict:
    return recorded["parts"][part]


def test_fixtures_are_the_lectures_with_their_licence():
    assert "MIT License" in (FIXTURES / "LICENSE").read_text()
    assert "Andrej Karpathy" in (FIXTURES / "LICENSE").read_text()
    assert sorted(p.name for p in FIXTURES.glob("*.ipynb")) == [
        f"makemore_{part}.ipynb" for part in PARTS]


@pytest.mark.parametrize("part", PARTS)
def test_adapting_changes_only_the_imports_and_the_loop_lengths(part: str):
    needs_kernel()
    before = [cell.source.split("\n") for cell in code_cells(source(part))]
    after = [cell.source.split("\n") for cell in code_cells(adapted(part, engine=True))]
    assert [len(lines) for lines in before] == [len(lines) for lines in after]
    allowed = set(IMPORTS.items()) | {(line, line.replace(old, new)) for lines in before
                                      for line in lines for old, new, _ in SHORTER[part]
                                      if old in line}
    changed = {(a, b) for old, new in zip(before, after) for a, b in zip(old, new) if a != b}
    assert changed and changed <= allowed
    assert sum(a.strip() in IMPORTS for a, _ in changed) >= 1  # every lecture imports torch


@pytest.mark.parametrize("part", LECTURES)
def test_every_cell_that_runs_on_pytorch_runs_on_the_engine(ours: Callable, recorded: dict,
                                                              part: str):
    want, got = theirs(recorded, part)["outcomes"], ours(part)["outcomes"]
    assert len(got) == len(want)
    broken = [f"cell {i}: {g}" for i, (w, g) in enumerate(zip(want, got))
              if w == "ok" and g != "ok"]
    assert not broken, f"{part}: cells that run on PyTorch but not here: {broken}"


@pytest.mark.slow
def test_part1_samples_pytorchs_names(ours: Callable, recorded: dict):
    """Every cell of part 1 that draws from a seeded Generator (torch.rand, randn,
    multinomial) shows what PyTorch's shows: the same numbers, the same names."""
    cells, sampling = code_cells(source("part1_bigrams")), sampling_cells()
    names = [i for i in sampling if "print(''.join(out))" in cells[i].source]
    assert len(sampling) == 8 and len(names) == 2  # two cells print 5 names each
    want, got = theirs(recorded, "part1_bigrams"), ours("part1_bigrams")
    for i in names:
        printed = want["texts"][i].split()
        assert len(printed) == 5 and all(name.endswith(".") for name in printed)
    assert bar_texts("part1_bigrams", got) == bar_texts("part1_bigrams", want)


def test_part4_manual_gradients_match_autograd_as_on_pytorch(ours: Callable, recorded: dict):
    """Part 4's cmp(name, hand-derived gradient, tensor) lines: every one approximately
    equal to autograd's, and exactly equal wherever PyTorch's hand-derived ones are."""
    want = bar_texts("part4_backprop", theirs(recorded, "part4_backprop"))
    got = bar_texts("part4_backprop", ours("part4_backprop"))
    assert len(want) == 28  # 26 in exercise 1, one in each of exercises 2 and 3
    assert [name for name, *_ in got] == [name for name, *_ in want]
    assert all(approximate == "True" for _, _, approximate in got), got
    not_exact = [name for (name, exact, _), (_, torch_exact, _) in zip(got, want)
                 if torch_exact == "True" and exact != "True"]
    assert not not_exact, f"exact on PyTorch but not here: {not_exact}"


@pytest.mark.skipif(TORCH not in ("1", "record"),
                    reason="PyTorch's run takes a minute or two: "
                           "SCRATCHGRAD_MAKEMORE_TORCH=1 runs it")
@pytest.mark.parametrize("part", PARTS)
def test_pytorchs_run_is_the_recorded_one(tmp_path: Path, part: str):
    torch = pytest.importorskip("torch")
    needs_kernel()
    run = summary(run_lecture(adapted(part, engine=False), tmp_path))
    everything = json.loads(RECORDING.read_text()) if RECORDING.exists() else {"parts": {}}
    if TORCH == "record":
        everything["torch"] = torch.__version__
        everything["parts"][part] = run
        write_bytes(RECORDING, (json.dumps(everything, indent=1, sort_keys=True) + "\n").encode())
    assert everything["torch"] == torch.__version__, "recorded with another torch: record anew"
    # part 2 draws from the unseeded generator, so only the bars' texts must repeat
    assert everything["parts"][part]["outcomes"] == run["outcomes"]
    assert bar_texts(part, everything["parts"][part]) == bar_texts(part, run)
