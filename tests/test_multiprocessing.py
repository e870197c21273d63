"""engine/multiprocessing.py: torch.multiprocessing's name for Python's multiprocessing, and
the one difference it documents (tensors cross between processes as copies)."""
from __future__ import annotations

import multiprocessing
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import engine
import engine.multiprocessing as mp
from engine import Tensor

ROOT = Path(__file__).resolve().parents[1]


def _doubled(t: Tensor) -> Tensor:
    return t * 2


def _zeroed(t: Tensor) -> Tensor:
    return t.zero_()


def test_it_is_pythons_multiprocessing_where_pytorch_code_looks_for_it():
    assert mp.__all__ == multiprocessing.__all__
    assert all(getattr(mp, name) is getattr(multiprocessing, name) for name in mp.__all__)


def test_import_engine_as_torch_finds_multiprocessing():
    code = "import engine as torch\nprint(torch.multiprocessing.Pool.__module__)"
    run = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert run.stdout == "multiprocessing.context\n", run.stderr


def test_it_has_what_torch_multiprocessing_has_of_pythons(torch):
    import torch.multiprocessing
    assert set(multiprocessing.__all__) <= set(dir(torch.multiprocessing))


def test_a_pool_maps_tensors_and_sends_back_tensors():
    t = engine.arange(6.0).reshape(2, 3)
    with mp.Pool(2) as pool:
        out = pool.map(_doubled, [t, t + 1])
    assert all(type(o) is Tensor and o.dtype == np.float32 for o in out)
    np.testing.assert_array_equal(out[0], t.numpy() * 2)
    np.testing.assert_array_equal(out[1], t.numpy() * 2 + 2)


def test_a_tensor_changed_in_place_by_another_process_is_a_copy_there():
    """The documented difference: PyTorch would move t into shared memory, and see it zeroed."""
    t = engine.ones(3)
    with mp.Pool(1) as pool:
        out = pool.apply(_zeroed, (t,))
    assert out.tolist() == [0.0, 0.0, 0.0]
    assert t.tolist() == [1.0, 1.0, 1.0]
