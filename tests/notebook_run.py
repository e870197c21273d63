"""Running a lecture notebook cell by cell in a Jupyter kernel, and reading what each cell
did: shared by the tests that hold lecture notebooks against PyTorch's recorded run of them
(test_makemore.py, test_minibatch_notebook.py).

The kernel is nbclient's `python3` (this interpreter), started in a folder of the caller's
choosing, with this checkout first on PYTHONPATH, matplotlib drawing off screen and one
BLAS/OpenMP thread (on a busy machine, BLAS thread hand-offs made a 32x256 matmul take
milliseconds; and PyTorch's OpenMP threads deadlock a process forked after they start).
"""
from __future__ import annotations

import importlib.util
import os
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def needs_kernel() -> None:
    """Skip, saying what to install, unless a notebook can run in a kernel here."""
    for module in ("nbclient", "ipykernel", "nbformat"):
        if importlib.util.find_spec(module) is None:
            pytest.skip(f"{module} is not installed, so no notebook can run in a kernel "
                        '(pip install -e ".[dev]" brings it)')


def code_cells(nb: dict) -> list[dict]:
    return [cell for cell in nb["cells"] if cell["cell_type"] == "code"]


def adapted(nb: dict, shorter: list, lines: dict[str, str], name: str) -> dict:
    """nb with each (old, new, count) of `shorter` replaced in its code (old must occur
    `count` times: a changed notebook is noticed), each code line that is a key of `lines`
    replaced by its value (the imports swapped), and its outputs cleared; nb itself changes."""
    cells = code_cells(nb)
    for old, new, count in shorter:
        found = sum(cell.source.count(old) for cell in cells)
        assert found == count, f"{name}: {old!r} occurs {found} times, expected {count}"
        for cell in cells:
            cell.source = cell.source.replace(old, new)
    for cell in cells:
        cell.outputs, cell.execution_count = [], None
        cell.source = "\n".join(lines.get(line, line) for line in cell.source.split("\n"))
    return nb


def execute(nb: dict, cwd: Path, env: dict[str, str] | None = None) -> dict:
    """nb after running every cell in a fresh kernel in cwd, with `env` added to the
    environment (errors recorded in the cells, not raised)."""
    from nbclient import NotebookClient
    one_thread = dict.fromkeys(["OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"],
                               "1")
    full_env = {**os.environ, **one_thread, "MPLBACKEND": "agg", **(env or {}),
                "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT),
                                                            os.environ.get("PYTHONPATH")]))}
    client = NotebookClient(nb, kernel_name="python3", timeout=900, allow_errors=True)
    return client.execute(cwd=str(cwd), env=full_env)


def outcome(cell: dict) -> str:
    """'ok', or the name of the exception the cell raised."""
    errors = [out.ename for out in cell.outputs if out.output_type == "error"]
    return errors[0] if errors else "ok"


def text(cell: dict) -> str:
    """What the cell printed, then the text of its result (e.g. a tensor's repr)."""
    printed = "".join(out.text for out in cell.outputs
                      if out.output_type == "stream" and out.name == "stdout")
    shown = "".join(out.data.get("text/plain", "") for out in cell.outputs
                    if out.output_type == "execute_result")
    return printed + shown


def summary(nb: dict) -> dict:
    """Per code cell: its outcome and its text (memory addresses blanked)."""
    cells = code_cells(nb)
    return {"outcomes": [outcome(c) for c in cells],
            "texts": [re.sub(r" at 0x[0-9a-f]+", " at 0x...", text(c)) for c in cells]}
