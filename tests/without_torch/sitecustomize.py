"""Hides PyTorch, as if it were not installed: `import torch` raises ModuleNotFoundError and
`importlib.util.find_spec("torch")` is None. Python runs this file at start-up when its
folder is on PYTHONPATH, so the suite and every process it starts (demos, Jupyter kernels)
run as they would in a venv without torch:

    PYTHONPATH=$PWD/tests/without_torch .venv/bin/python -m pytest

(an absolute path: tests start processes in other folders).

tests/mutants.py runs tests this way for its "without torch" column. (This module shadows
any other sitecustomize; a venv has none.)"""
import importlib.machinery
import sys


class _PathFinderWithoutTorch(importlib.machinery.PathFinder):
    """Python's finder for modules on sys.path, blind to torch and its submodules."""

    @classmethod
    def find_spec(cls, name, path=None, target=None):
        if name.partition(".")[0] == "torch":
            return None
        return super().find_spec(name, path, target)


sys.meta_path[:] = [_PathFinderWithoutTorch if finder is importlib.machinery.PathFinder
                    else finder for finder in sys.meta_path]
