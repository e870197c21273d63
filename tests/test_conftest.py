"""tests/conftest.py and tests/without_torch: a run without PyTorch counts the checks it
skipped in one summary line."""
from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_without_torch_the_skipped_checks_are_counted_in_one_line():
    env = {**os.environ, "PYTHONPATH": str(ROOT / "tests" / "without_torch")}
    hidden = subprocess.run([sys.executable, "-c", "import torch"], env=env,
                            capture_output=True, text=True)
    assert hidden.returncode == 1 and "No module named 'torch'" in hidden.stderr
    # test_lr_scheduler.py compares with PyTorch in three test functions, through the
    # fixture, and holds no other skip
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-n", "0", "-p",
                           "no:cacheprovider", "tests/test_lr_scheduler.py"], cwd=ROOT, env=env,
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stdout
    skipped = [line for line in done.stdout.splitlines() if line.startswith("SKIPPED")]
    assert len(skipped) == 1, skipped
    count = re.fullmatch(r"SKIPPED \[(\d+)\] tests/conftest\.py:\d+: PyTorch is not installed, "
                         r"so these checks against it were skipped; \.venv/bin/python -m pip "
                         r"install torch==2\.13\.0 runs them", skipped[0])
    assert count, skipped[0]
    assert re.search(rf"\b{count[1]} skipped\b", done.stdout.splitlines()[-1])
    assert int(count[1]) > 3  # the parametrized functions' cases, each counted
