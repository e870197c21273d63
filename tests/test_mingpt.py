"""minGPT (karpathy/minGPT), as Karpathy wrote it, on this engine with only its imports
changed: its adder project trains a GPT to add numbers and its demo notebook trains one to
sort, and both print what they print on PyTorch.

tests/fixtures/mingpt/ holds the package (mingpt/__init__.py, model.py, trainer.py,
utils.py), projects/adder/adder.py (as adder.py) and demo.ipynb from the repository, byte
for byte (MIT licence; the README there says which commit and lists each file's git blob
id, which the first test checks). `folder` copies them into a folder of their own, laid out
as the repository (the package beside the scripts), swapping their torch imports for this
engine's (`engine` as torch, `nn`, `nn.functional`, `engine.utils.data`,
`engine.utils.data.dataloader`) and nothing else.

adder.py runs as a user runs it, `python adder.py --section.key=value ...` (minGPT's CfgNode
takes those overrides of its config): 1-digit sums, a 1-layer GPT of width 16 (model_type
None, so that n_layer, n_head and n_embd are used) at learning rate 5e-3, 251 iterations with
its default 4 DataLoader workers. It prints its config and the loss every 10 iterations; at
iteration 0 (and every 500th, which would double the test's time) it evaluates both splits
by greedy generation, printing mistakes and scores, and saves model.pt with torch.save when
the score improves. The notebook runs cell
by cell in a Jupyter kernel (tests/notebook_run.py) with three numbers changed (SHORTER):
41 training iterations instead of 2000, the loss printed every 10 iterations instead of
every 100, and 5 evaluation batches per split instead of 50. Its data set sends a problem
to train or test by `hash(pickle.dumps(...))`, which depends on Python's hash seed, so both
kernels run with PYTHONHASHSEED=0.

Our generator draws PyTorch's numbers (the weights, dropout's masks, RandomSampler's
indices, the notebook's problems) and our layers initialise as PyTorch's, so from one seed
the runs agree to float32 rounding. The adder prints every line PyTorch prints, its 26
losses (5 decimals) within one unit of the last: at full precision they differed by at most
5.7e-7 relative over all 251 iterations (3.4e-6 over 501); its evaluation is identical.
The notebook prints what PyTorch's prints, its losses within one unit of the 5th decimal
(5e-6 relative at full precision at iteration 40), its evaluation's scores within 1%
(identical here). It stops there because its gpt-nano (3 layers, 48 wide) amplifies
rounding as training goes on: the losses part 3e-5 at iteration 50, 4e-4 at 60, 4% at 100,
as PyTorch's own run parts from itself when one weight of its initial model moves by one
ulp (4% at 100 too).

PyTorch's output is recorded in tests/fixtures/mingpt/torch_run.json, and compared live
where PyTorch is installed (SCRATCHGRAD_MINGPT_TORCH=record writes the recording anew);
there PyTorch also reads the model.pt our adder saved.
"""
from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from engine.atomic import write_bytes
import notebook_run
from notebook_run import code_cells, execute, needs_kernel, summary

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "fixtures" / "mingpt"
RECORDING = FIXTURES / "torch_run.json"
# file -> the import lines it swaps, each of which must occur in it exactly once
IMPORTS = {
    "mingpt/__init__.py": {},
    "mingpt/model.py": {"import torch\n": "import engine as torch\n",
                        "import torch.nn as nn\n": "import nn\n",
                        "from torch.nn import functional as F\n":
                            "from nn import functional as F\n"},
    "mingpt/trainer.py": {"import torch\n": "import engine as torch\n",
                          "from torch.utils.data.dataloader import DataLoader\n":
                              "from engine.utils.data.dataloader import DataLoader\n"},
    "mingpt/utils.py": {"import torch\n": "import engine as torch\n"},
    "adder.py": {"import torch\n": "import engine as torch\n",
                 "from torch.utils.data import Dataset\n":
                     "from engine.utils.data import Dataset\n",
                 "from torch.utils.data.dataloader import DataLoader\n":
                     "from engine.utils.data.dataloader import DataLoader\n"},
}
NOTEBOOK_IMPORTS = {"import torch": "import engine as torch",
                    "from torch.utils.data import Dataset": "from engine.utils.data import Dataset",
                    "from torch.utils.data.dataloader import DataLoader":
                        "from engine.utils.data.dataloader import DataLoader"}
# (text in the notebook's source, the shorter text, how many times the text occurs)
SHORTER = [("train_config.max_iters = 2000", "train_config.max_iters = 41", 1),
           ("if trainer.iter_num % 100 == 0:", "if trainer.iter_num % 10 == 0:", 1),
           ("max_batches=50", "max_batches=5", 2)]
ADDER = ["--data.ndigit=1", "--model.model_type=None", "--model.n_layer=1",
         "--model.n_head=2", "--model.n_embd=16", "--trainer.learning_rate=5e-3",
         "--trainer.max_iters=251"]
LOSS = re.compile(r"^iter_dt \.\.\.ms; iter (\d+): train loss ([\d.]+)$", re.MULTILINE)


def folder(path: Path, ours: bool) -> Path:
    """The package and adder.py (their imports swapped when `ours`) in a folder of their own."""
    for name, swaps in IMPORTS.items():
        source = (FIXTURES / name).read_text()
        for old, new in swaps.items() if ours else ():
            assert source.count(old) == 1, f"{name} no longer has the line {old!r} once"
            source = source.replace(old, new)
        (path / name).parent.mkdir(parents=True, exist_ok=True)
        (path / name).write_text(source)
    return path


def adapted_notebook(ours: bool) -> dict:
    """demo.ipynb with SHORTER's numbers changed and, for the engine, its imports swapped;
    outputs cleared."""
    import nbformat
    return notebook_run.adapted(nbformat.read(FIXTURES / "demo.ipynb", as_version=4), SHORTER,
                                NOTEBOOK_IMPORTS if ours else {}, "demo.ipynb")


def start_adder(path: Path) -> subprocess.Popen:
    """`python adder.py ADDER` in path, started (PYTHONPATH kept behind the checkout:
    tests/without_torch hides torch from the run too)."""
    env = {**os.environ, "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1",
           "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    return subprocess.Popen([sys.executable, "adder.py", *ADDER], cwd=path, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def step_times_masked(text: str) -> str:
    return re.sub(r"iter_dt [\d.]+ms", "iter_dt ...ms", text)


def run(path: Path, ours: bool) -> dict:
    """adder.py's printed lines and the notebook's summary() (step times masked), the two
    side by side: adder.py in a process of its own while the notebook runs in its kernel."""
    needs_kernel()
    folder(path, ours)
    adder = start_adder(path)
    try:
        notebook = summary(execute(adapted_notebook(ours), path, {"PYTHONHASHSEED": "0"}))
        stdout, stderr = adder.communicate(timeout=600)
    finally:
        adder.kill()
    assert adder.returncode == 0, f"adder.py failed:\n{stdout[-2000:]}\n{stderr[-3000:]}"
    notebook["texts"] = [step_times_masked(text) for text in notebook["texts"]]
    return {"adder": step_times_masked(stdout).splitlines(), "notebook": notebook}


FLOAT = re.compile(r"-?\d+\.\d+")


def check_same_adder(ours: list[str], theirs: list[str]) -> None:
    """Every line the same, but for its floats, each within one unit of its last printed
    digit (the losses; a score, printed to 2 decimals, is a count out of 80 or 20)."""
    assert len(ours) == len(theirs)
    for mine, their in zip(ours, theirs):
        assert FLOAT.sub("#", mine) == FLOAT.sub("#", their), (mine, their)
        for a, b in zip(FLOAT.findall(mine), FLOAT.findall(their)):
            assert abs(float(a) - float(b)) <= 1.5 * 10**-len(b.split(".")[1]), (mine, their)


def notebook_losses(texts: list[str]) -> dict[int, float]:
    return {int(i): float(v) for text in texts for i, v in LOSS.findall(text)}


EVALUATION = re.compile(r"^(?:GPT claims that (\[[\d, ]+\]) sorted is (\[[\d, ]+\]) but gt is "
                        r"(\[[\d, ]+\])|(\w+) final score: (\d+)/500 = [\d.]+% correct)$")


def evaluation(text: str) -> tuple[list[tuple], dict[str, int]]:
    """The mistakes (input, answer, sorted input) and the scores an evaluation cell printed;
    every line must be one or the other."""
    lines = text.splitlines()
    found = [EVALUATION.match(line) for line in lines]
    assert all(found), [line for line, match in zip(lines, found) if not match]
    mistakes = [tuple(json.loads(x) for x in m.groups()[:3]) for m in found if m[1]]
    return mistakes, {m[4]: int(m[5]) for m in found if m[4]}


def check_same_notebook(ours: dict, theirs: dict) -> None:
    """Every cell runs and prints what PyTorch's printed, but for the losses, each within
    one unit of its 5th decimal, and the evaluation, where argmaxes that are near ties may
    go either way: scores within 1% of PyTorch's, each mistake shown a real one."""
    assert ours["outcomes"] == theirs["outcomes"] == ["ok"] * len(theirs["outcomes"])
    mine, their = notebook_losses(ours["texts"]), notebook_losses(theirs["texts"])
    assert sorted(mine) == sorted(their) == list(range(0, 41, 10))
    for i, loss in their.items():
        assert abs(mine[i] - loss) <= 1.5e-5, (i, mine[i], loss)
    (cell,) = [i for i, text in enumerate(theirs["texts"]) if "final score" in text]
    (mistakes, mine), (_, their) = evaluation(ours["texts"][cell]), evaluation(
        theirs["texts"][cell])
    assert sorted(mine) == sorted(their) == ["test", "train"]
    assert all(abs(mine[split] - n) <= 5 for split, n in their.items()), (mine, their)
    assert all(answer != truth == sorted(problem) for problem, answer, truth in mistakes)
    same = [i for i, text in enumerate(theirs["texts"]) if i != cell and not LOSS.search(text)]
    assert [ours["texts"][i] for i in same] == [theirs["texts"][i] for i in same]


@pytest.fixture(scope="module")
def ours(tmp_path_factory: pytest.TempPathFactory) -> dict:
    path = tmp_path_factory.mktemp("mingpt")
    return {"folder": path, **run(path, ours=True)}


def upstream_blobs() -> dict[str, str]:
    """The README's table: each fixture's path and its git blob id in minGPT's repository."""
    table = re.findall(r"^\| `([^`]+)` +\| `[^`]+` +\| ([0-9a-f]{40}) \|$",
                       (FIXTURES / "README.md").read_text(), re.MULTILINE)
    return dict(table)


def test_the_fixtures_are_upstreams_files_byte_for_byte():
    blobs = upstream_blobs()
    assert sorted(blobs) == sorted([*IMPORTS, "demo.ipynb", "LICENSE"])
    for name, blob in blobs.items():
        data = (FIXTURES / name).read_bytes()
        assert hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest() == blob, name
    assert "MIT License" in (FIXTURES / "LICENSE").read_text()


def test_adapting_the_notebook_changes_only_its_imports_and_three_numbers():
    needs_kernel()
    import nbformat
    upstream = nbformat.read(FIXTURES / "demo.ipynb", as_version=4)
    before = [cell.source.split("\n") for cell in code_cells(upstream)]
    after = [cell.source.split("\n") for cell in code_cells(adapted_notebook(ours=True))]
    assert [len(lines) for lines in before] == [len(lines) for lines in after]
    expected = set(NOTEBOOK_IMPORTS.items()) | {
        (line, line.replace(old, new)) for lines in before for line in lines
        for old, new, _ in SHORTER if old in line}
    changed = {(a, b) for old, new in zip(before, after) for a, b in zip(old, new) if a != b}
    assert changed == expected


def test_adder_and_notebook_print_what_pytorch_printed(ours: dict):
    recorded = json.loads(RECORDING.read_text())
    check_same_adder(ours["adder"], recorded["adder"])
    check_same_notebook(ours["notebook"], recorded["notebook"])


def test_the_adder_learns_and_saves_its_best_model(ours: dict):
    import engine
    printed = "\n".join(ours["adder"])
    losses = [float(v) for v in re.findall(r"iter \d+: train loss ([\d.]+)", printed)]
    assert len(losses) == 26 and losses[-1] < losses[0] / 2
    assert re.findall(r"^(\w+) final score: \d+/(\d+) ", printed, re.M) == [("train", "80"),
                                                                           ("test", "20")]
    assert printed.count("saving model with new top score") == 1  # the train score is > 0
    work_dir = ours["folder"] / "out" / "adder"
    assert json.loads((work_dir / "config.json").read_text())["model"]["n_embd"] == 16
    state = engine.load(work_dir / "model.pt")
    assert "transformer.h.0.attn.bias" in state and state["lm_head.weight"].shape == (10, 16)


def test_the_notebook_learns_to_sort(ours: dict):
    texts = ours["notebook"]["texts"]
    losses = notebook_losses(texts)
    assert losses[40] < losses[0] / 2
    (score,) = [evaluation(text)[1] for text in texts if "final score" in text]
    assert all(n > 350 for n in score.values())  # of 500
    assert texts[-1].endswith("matches         : True\n")


def test_minGPT_matches_a_live_pytorch_run(ours: dict, tmp_path: Path):
    torch = pytest.importorskip("torch")
    theirs = run(tmp_path, ours=False)
    if os.environ.get("SCRATCHGRAD_MINGPT_TORCH") == "record":
        write_bytes(RECORDING, (json.dumps({"torch": torch.__version__, **theirs}, indent=1)
                                + "\n").encode())
    check_same_adder(ours["adder"], theirs["adder"])
    check_same_notebook(ours["notebook"], theirs["notebook"])
    # PyTorch reads the model.pt our adder saved (at iteration 0, after one AdamW step): its
    # arrays under its names, to float32 rounding (the most, 9e-7, in the keys' bias, whose
    # gradient is 0 but for rounding: softmax ignores a score added to all of a query's)
    mine = torch.load(ours["folder"] / "out" / "adder" / "model.pt", weights_only=True)
    own = torch.load(tmp_path / "out" / "adder" / "model.pt", weights_only=True)
    assert list(mine) == list(own)
    for name, value in own.items():
        torch.testing.assert_close(mine[name], value, rtol=0, atol=1e-5)
