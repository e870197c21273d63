"""engine/factories.py's linspace and logspace against PyTorch and by hand. (The other
factories are checked where they are used: tests/test_tensor.py, tests/test_functions.py.)"""
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


LINSPACES = [(-1, 1, n) for n in (2, 3, 7, 28, 100, 1001)] + [
    (3.5, -2.25, 9), (0, 10, 37), (-7.1, 100.3, 4097), (2, 2, 5), (0, 1, 0)]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("start, end, steps", LINSPACES)
def test_linspace_is_pytorchs_to_the_bit(torch, dtype, start, end, steps):
    got = engine.linspace(start, end, steps, dtype=getattr(engine, dtype))
    want = torch.linspace(start, end, steps, dtype=getattr(torch, dtype))
    assert got.dtype == getattr(engine, dtype)
    np.testing.assert_array_equal(got.numpy(), want.numpy())


@pytest.mark.parametrize("start, end, steps", LINSPACES)
def test_linspace_by_hand(start, end, steps):
    got = engine.linspace(start, end, steps, dtype=engine.float64).numpy()
    np.testing.assert_allclose(got, np.linspace(start, end, steps), rtol=1e-15, atol=1e-15)
    if steps > 1:  # both ends exactly
        assert (got[0], got[-1]) == (start, end)
    assert engine.linspace(0, 1, 5).tolist() == [0.0, 0.25, 0.5, 0.75, 1.0]
