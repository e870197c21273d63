"""engine/dtypes.py's PyTorch surface: finfo and iinfo, promote_types and result_type,
against PyTorch and by hand. (Promotion inside ops: tests/test_tensor.py.)"""
from __future__ import annotations

import numpy as np
import pytest

import engine

FLOATS = ["float16", "float32", "float64"]
INTS = ["uint8", "int8", "int16", "int32", "int64"]


@pytest.mark.parametrize("name", FLOATS)
def test_finfo_matches_pytorch(torch, name):
    ours, theirs = engine.finfo(getattr(engine, name)), torch.finfo(getattr(torch, name))
    for field in ("bits", "eps", "max", "min", "tiny", "smallest_normal", "resolution", "dtype"):
        assert getattr(ours, field) == getattr(theirs, field), field


@pytest.mark.parametrize("name", INTS)
def test_iinfo_matches_pytorch(torch, name):
    ours, theirs = engine.iinfo(getattr(engine, name)), torch.iinfo(getattr(torch, name))
    for field in ("bits", "max", "min", "dtype"):
        assert getattr(ours, field) == getattr(theirs, field), field


def test_limits_worked_out_by_hand():
    assert engine.finfo(engine.float32).eps == 2.0 ** -23
    assert engine.finfo().bits == 32  # the default float dtype
    assert engine.finfo(engine.float64).resolution == 1e-15
    assert (engine.iinfo(engine.int8).min, engine.iinfo(engine.int8).max) == (-128, 127)
    assert engine.iinfo(engine.uint8).bits == 8


@pytest.mark.parametrize("a", FLOATS + INTS + ["bool"])
@pytest.mark.parametrize("b", FLOATS + INTS + ["bool"])
def test_promote_types_matches_pytorch(torch, a, b):
    got = engine.promote_types(getattr(engine, a), getattr(engine, b))
    assert str(got) == str(torch.promote_types(getattr(torch, a), getattr(torch, b)))[6:]


@pytest.mark.parametrize("x, y", [
    (np.array([1, 2]), 1.0), (np.array([1, 2], np.uint8), -1), (np.array([1.0], np.float32),
                                                                np.array(1.0)),
    (np.array(True), np.array([1], np.int8)), (np.array([1], np.int32), True),
])
def test_result_type_matches_pytorch(torch, x, y):
    wrap = (lambda v, lib: lib.tensor(v) if isinstance(v, np.ndarray) else v)
    engine.set_default_dtype(engine.float64)  # as the torch fixture sets PyTorch's
    try:
        got = engine.result_type(wrap(x, engine), wrap(y, engine))
    finally:
        engine.set_default_dtype(engine.float32)
    assert str(got) == str(torch.result_type(wrap(x, torch), wrap(y, torch)))[6:]


def test_result_type_and_promotion_by_hand():
    assert engine.promote_types(engine.int64, engine.float32) == engine.float32  # not numpy's
    assert engine.result_type(engine.tensor([1, 2], dtype=engine.uint8), 1000) == engine.uint8
    assert engine.result_type(engine.tensor([1, 2]), 0.5) == engine.float32


@pytest.mark.parametrize("call, error, message", [
    (lambda: engine.finfo(engine.int32), TypeError, "float dtype, got int32 .use iinfo"),
    (lambda: engine.iinfo(engine.float32), TypeError, "int dtype, got float32 .use finfo"),
    (lambda: engine.finfo(engine.bfloat16), TypeError, "no bfloat16 type"),
    (lambda: engine.result_type("a", 1), TypeError, "Tensors or Python numbers, got str"),
])
def test_errors_name_what_was_wrong(call, error, message):
    with pytest.raises(error, match=message):
        call()
