"""engine/factories.py's logspace against PyTorch and by hand. (The other factories are
checked where they are used: tests/test_tensor.py, tests/test_functions.py.)"""
from __future__ import annotations

import numpy as np
import pytest

import engine


@pytest.mark.parametrize("args, kwargs", [((0, 3, 4), {}), ((-1, 2, 5), {"base": 2.0}),
                                          ((2, -2, 7), {"dtype": "float64"}), ((1, 1, 1), {}),
                                          ((0, 1, 0), {})])
def test_logspace_matches_pytorch(torch, args, kwargs):
    dtype = kwargs.pop("dtype", "float32")
    got = engine.logspace(*args, dtype=getattr(engine, dtype), **kwargs)
    want = torch.logspace(*args, dtype=getattr(torch, dtype), **kwargs)
    assert got.dtype == getattr(engine, dtype)
    rtol = 1e-6 if dtype == "float32" else 1e-14
    np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=rtol)


def test_logspace_by_hand():
    assert engine.logspace(0, 2, 3).tolist() == [1.0, 10.0, 100.0]
    assert engine.logspace(0, 3, 4, base=2).dtype == engine.float32
    assert engine.logspace(0, 3, 4, base=2).tolist() == [1.0, 2.0, 4.0, 8.0]
    with pytest.raises(ValueError, match="steps must be a non-negative int"):
        engine.logspace(0, 1, -1)
