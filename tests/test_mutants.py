"""tests/mutants.py, the test of the tests, stays runnable: each planted bug's text occurs
exactly once in its source file, and names test files that exist. (Running the mutants
takes minutes; `.venv/bin/python tests/mutants.py` does that.)"""
from __future__ import annotations

import pytest

from mutants import MUTANTS, ROOT


@pytest.mark.parametrize("mutant", MUTANTS, ids=[m.name for m in MUTANTS])
def test_each_mutant_applies_exactly_once_and_names_its_tests(mutant):
    source = (ROOT / mutant.path).read_text()
    assert source.count(mutant.old) == 1, f"{mutant.path} no longer holds {mutant.old!r}"
    assert mutant.new != mutant.old
    assert mutant.tests and all((ROOT / t).is_file() for t in mutant.tests)
