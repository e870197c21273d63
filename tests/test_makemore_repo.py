"""makemore.py (karpathy/makemore), as Karpathy wrote it, run on this engine with only its
imports changed: all six model types train, and print what PyTorch prints.

tests/fixtures/makemore_repo/makemore.py is the file from the repository (MIT licence; the
README there says which commit and shows the change): `script_folder` swaps its six torch
imports for this engine's, `engine` as torch, `nn`, `nn.functional`, `engine.utils.data`,
`engine.utils.data.dataloader` and `engine.utils.tensorboard`, and nothing else.

It runs as a user runs it, `python makemore.py --type T` on makemore's names, small models
(one layer, 16 channels, batches of 8). Five types run 21 steps, which print the loss at
steps 0, 10 and 20; the transformer, makemore's default, runs 501 steps with makemore's
default 4 DataLoader workers: it prints samples at steps 200 and 400, and at step 500
evaluates, logs the two losses to TensorBoard (events file in its --work-dir) and saves
model.pt with torch.save. Then `--resume --sample-only` loads model.pt and prints 50 names.

Our generator draws PyTorch's numbers and our layers initialise as PyTorch's, so the runs
print what PyTorch's print: every line the same, the losses printed to 4 decimals within
one unit of the last (over 1,000 steps of each type, two of the 606 printed losses differed
by that unit, the rest were equal), the evaluation losses printed in full within 1e-6
relative (they differed by at most 1.8e-7, two float32 roundings), the sampled names
identical. PyTorch's output is recorded in tests/fixtures/makemore_repo/torch_run.json, and
compared live where PyTorch is installed (SCRATCHGRAD_MAKEMORE_REPO_TORCH=record writes the
recording anew); there PyTorch also reads our model.pt, `torch.load(path, weights_only=True)`.
Our runs are processes of their own, side by side; PyTorch's share two processes (SHARED),
which printed the same bytes as seven.
"""
from __future__ import annotations

import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from engine.atomic import write_bytes
from tensorboard_events import scalars

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "fixtures" / "makemore_repo"
RECORDING = FIXTURES / "torch_run.json"
IMPORTS = {"import torch\n": "import engine as torch\n",
           "import torch.nn as nn\n": "import nn\n",
           "from torch.nn import functional as F\n": "from nn import functional as F\n",
           "from torch.utils.data import Dataset\n": "from engine.utils.data import Dataset\n",
           "from torch.utils.data.dataloader import DataLoader\n":
               "from engine.utils.data.dataloader import DataLoader\n",
           "from torch.utils.tensorboard import SummaryWriter\n":
               "from engine.utils.tensorboard import SummaryWriter\n"}
SMALL = ["--n-layer", "1", "--n-head", "2", "--n-embd", "16", "--n-embd2", "16",
         "--batch-size", "8"]
RUNS = {kind: ["--type", kind, "-o", f"out_{kind}", "--max-steps", "21", "--num-workers", "0",
               *SMALL] for kind in ("bigram", "mlp", "rnn", "gru", "bow")}
RUNS["transformer"] = ["--type", "transformer", "-o", "out_transformer", "--max-steps", "501",
                       *SMALL]
SAMPLE = ["--type", "transformer", "-o", "out_transformer", "--resume", "--sample-only", *SMALL]
DASHES = "-" * 80


def script_folder(folder: Path, ours: bool) -> Path:
    """makemore.py (imports changed when `ours`) and names.txt in a folder of their own.
    PyTorch's SummaryWriter needs the tensorboard package: where it is missing, PyTorch's
    run gets ours, its one line changed (what it logs is not compared with what it prints)."""
    folder.mkdir()
    source = (FIXTURES / "makemore.py").read_text()
    swaps = IMPORTS if ours else {} if importlib.util.find_spec("tensorboard") else {
        old: new for old, new in IMPORTS.items() if "SummaryWriter" in old}
    for old, new in swaps.items():
        assert source.count(old) == 1, f"makemore.py no longer has the line {old!r}"
        source = source.replace(old, new)
    (folder / "makemore.py").write_text(source)
    shutil.copy(ROOT / "demos" / "names.txt", folder / "names.txt")
    return folder


# PyTorch's runs share two processes, to pay its start-up (two seconds) twice, not seven
# times: each run is makemore.py run as __main__ afresh, with its own sys.argv and stdout
SHARED = """
import contextlib, json, runpy, sys
for name, args in json.loads(sys.argv[1]).items():
    sys.argv = ["makemore.py", *args]
    with open(name + ".out", "w") as out, contextlib.redirect_stdout(out):
        try:
            runpy.run_path("makemore.py", run_name="__main__")
        except SystemExit as end:  # --sample-only ends with sys.exit()
            if end.code:
                raise
"""


def run_all(folder: Path, groups: list[dict[str, list[str]]]) -> dict[str, list[str]]:
    """Each run's printed lines (step times masked). The groups run side by side, each as a
    process (`python makemore.py ARGS` for a group of one), its runs one after the other."""
    # PYTHONPATH kept behind the checkout: tests/without_torch hides torch from the runs too
    path = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    env = {**os.environ, "PYTHONPATH": path, "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}
    started = []
    for i, runs in enumerate(groups):
        if len(runs) == 1:
            ((name, args),) = runs.items()
            command, stdout = ["makemore.py", *args], f"{name}.out"
        else:  # each run writes its own name.out
            command, stdout = ["-c", SHARED, json.dumps(runs)], f"group{i}.out"
        out = open(folder / stdout, "w")
        err = open(folder / f"group{i}.err", "w")
        with out, err:  # the child has its own copies of the two files
            started.append(subprocess.Popen([sys.executable, *command], cwd=folder, env=env,
                                            stdout=out, stderr=err))
    printed = {}
    for i, (runs, process) in enumerate(zip(groups, started)):
        code = process.wait(timeout=600)
        stdouts = {name: (folder / f"{name}.out").read_text() for name in runs
                   if (folder / f"{name}.out").exists()}
        assert code == 0, (f"makemore.py {list(runs.values())[len(stdouts) - 1]} failed:\n"
                           f"{list(stdouts.values())[-1][-2000:]}\n"
                           f"{(folder / f'group{i}.err').read_text()[-3000:]}")
        printed.update({name: re.sub(r"step time [\d.]+ms", "step time ...ms",
                                     stdout).splitlines() for name, stdout in stdouts.items()})
    return printed


def run_folder(folder: Path, ours: bool) -> dict[str, list[str]]:
    """The six training runs, and the sampling from the transformer's model.pt after it:
    ours each in a process of its own, PyTorch's in two."""
    short = {name: args for name, args in RUNS.items() if name != "transformer"}
    if not ours:
        return run_all(folder, [short, {"transformer": RUNS["transformer"], "sample": SAMPLE}])
    printed = run_all(folder, [{name: args} for name, args in RUNS.items()])
    printed.update(run_all(folder, [{"sample": SAMPLE}]))
    return printed


FLOAT = re.compile(r"-?\d+\.\d+")


def check_same(ours: dict[str, list[str]], theirs: dict[str, list[str]]) -> None:
    """Every line printed the same, but for floats: one printed with 4 decimals or fewer (a
    loss, the model's size) within one unit of its last digit, one printed in full (an
    evaluation's mean loss) within 1e-6 relative."""
    assert sorted(ours) == sorted(theirs)
    for name in theirs:
        assert len(ours[name]) == len(theirs[name]), name
        for mine, their in zip(ours[name], theirs[name]):
            assert FLOAT.sub("#", mine) == FLOAT.sub("#", their), (name, mine, their)
            for a, b in zip(FLOAT.findall(mine), FLOAT.findall(their)):
                decimals = len(b.split(".")[1])
                tolerance = 1.5 * 10**-decimals if decimals <= 4 else 1e-6 * abs(float(b))
                assert abs(float(a) - float(b)) <= tolerance, (name, mine, their)


def losses(lines: list[str]) -> dict[int, float]:
    return {int(s): float(v) for line in lines
            for s, v in re.findall(r"^step (\d+) \| loss ([\d.]+) \|", line)}


def samples(lines: list[str]) -> list[list[str]]:
    """The blocks print_samples prints between its lines of dashes."""
    text = "\n".join(lines)
    return [block.strip("\n").split("\n") for block in text.split(DASHES)[1::2]]


@pytest.fixture(scope="module")
def ours(tmp_path_factory) -> dict:
    folder = script_folder(tmp_path_factory.mktemp("makemore") / "ours", ours=True)
    return {"folder": folder, "printed": run_folder(folder, ours=True)}


def test_all_six_model_types_print_what_pytorch_printed(ours):
    recorded = json.loads(RECORDING.read_text())["printed"]
    printed = ours["printed"]
    check_same(printed, recorded)
    for kind in ("bigram", "mlp", "rnn", "gru", "bow"):
        assert sorted(losses(printed[kind])) == [0, 10, 20], kind
    transformer = losses(printed["transformer"])
    assert len(transformer) == 51 and transformer[500] < transformer[0] - 0.5  # it learns
    assert len(samples(printed["transformer"])) == 2  # at steps 200 and 400


def test_the_evaluation_is_logged_to_tensorboard_and_model_pt_is_saved(ours):
    printed = ours["printed"]["transformer"]
    (evaluation,) = [line for line in printed if line.startswith("step 500 train loss")]
    train, test = (float(x) for x in re.findall(r"loss: (\S+)", evaluation))
    work_dir = ours["folder"] / "out_transformer"
    # the training run's file, and the sampling run's (makemore makes its writer first)
    training, sampling = sorted(work_dir.glob("events.out.tfevents.*"),
                                key=lambda path: path.stat().st_mtime_ns)
    # simple_value is a float32
    assert scalars(training) == {"Loss/train": [(500, float(np.float32(train)))],
                                 "Loss/test": [(500, float(np.float32(test)))]}
    assert scalars(sampling) == {}
    assert "saving model to out_transformer/model.pt" in printed[-1]
    assert (work_dir / "model.pt").stat().st_size > 0


def test_tensorboard_reads_the_evaluation(ours):
    pytest.importorskip("tensorboard")
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
    logged = EventAccumulator(str(ours["folder"] / "out_transformer")).Reload()
    assert sorted(logged.Tags()["scalars"]) == ["Loss/test", "Loss/train"]
    assert [e.step for e in logged.Scalars("Loss/test")] == [500]


def test_resume_sample_only_loads_model_pt_and_samples_50_names(ours):
    printed = ours["printed"]["sample"]
    assert "resuming from existing model in the workdir" in printed
    (block,) = samples(printed)
    counts = [int(line.split()[0]) for line in block if "samples that are" in line]
    assert sum(counts) == 50 and len(block) == 50 + 3
    assert not any(line.startswith("step ") for line in printed)  # no training


def test_model_pt_loads_in_pytorch_as_saved(ours):
    torch = pytest.importorskip("torch")
    import engine
    path = ours["folder"] / "out_transformer" / "model.pt"
    theirs = torch.load(path, weights_only=True)
    mine = engine.load(path)
    assert list(theirs) == list(mine) and "transformer.wte.weight" in theirs
    for name, value in mine.items():
        assert theirs[name].dtype == torch.float32
        np.testing.assert_array_equal(theirs[name].numpy(), value.numpy())


def test_makemore_matches_a_live_pytorch_run_and_saves_the_same_model(ours, tmp_path):
    torch = pytest.importorskip("torch")
    folder = script_folder(tmp_path / "torch", ours=False)
    theirs = run_folder(folder, ours=False)
    if os.environ.get("SCRATCHGRAD_MAKEMORE_REPO_TORCH") == "record":
        write_bytes(RECORDING, (json.dumps({"torch": torch.__version__, "printed": theirs},
                                           indent=1) + "\n").encode())
    check_same(ours["printed"], theirs)
    # our model.pt holds PyTorch's arrays under PyTorch's names, to float32 rounding (4e-7
    # measured), but for the keys' bias: adding b to every key adds q.b to all of a query's
    # scores, which softmax ignores, so its gradient is 0 but for rounding, which Adam scales
    # up to steps of the learning rate; the two runs' rounding takes it apart (5.6e-4)
    mine = torch.load(ours["folder"] / "out_transformer" / "model.pt", weights_only=True)
    own = torch.load(folder / "out_transformer" / "model.pt", weights_only=True)
    assert list(mine) == list(own)
    keys = slice(16, 32)  # c_attn's output is (queries, keys, values), 16 each
    for name, value in own.items():
        if name.endswith("attn.c_attn.bias"):
            mine[name][keys] = value[keys]
        torch.testing.assert_close(mine[name], value, rtol=0, atol=1e-6)
