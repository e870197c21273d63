"""engine/dtypes.py's PyTorch surface: the dtypes as PyTorch shows them (torch.float32)
standing for numpy's, finfo and iinfo, promote_types and result_type, against PyTorch and
by hand. (Promotion inside ops: tests/test_tensor.py.)"""
from __future__ import annotations

import numpy as np
import pytest

import engine

FLOATS = ["float16", "float32", "float64"]
INTS = ["uint8", "int8", "int16", "int32", "int64"]


ALIASES = {"bool": "bool", "float": "float32", "double": "float64", "half": "float16",
           "long": "int64", "int": "int32", "short": "int16"}


@pytest.mark.parametrize("name", ["bool", *INTS, *FLOATS, *ALIASES])
def test_dtypes_print_as_pytorchs(name):
    dtype = getattr(engine, name)
    assert repr(dtype) == str(dtype) == f"torch.{ALIASES.get(name, name)}"
    data = np.zeros(2, "?" if name == "bool" else dtype)
    assert engine.tensor(data, dtype=dtype).dtype is dtype  # one instance per dtype


def test_dtypes_print_in_a_tuple_as_the_lectures_show(torch):
    x = engine.zeros(3, 2, dtype=engine.long)
    want = torch.zeros(3, 2, dtype=torch.long)
    assert str((x.shape, x.dtype)) == str((want.shape, want.dtype)) == \
        "(torch.Size([3, 2]), torch.int64)"
    assert [str(getattr(engine, n)) for n in ALIASES] == [str(getattr(torch, n)) for n in ALIASES]


def test_a_dtype_is_numpys_to_numpy_and_to_comparisons():
    dtype = engine.float32
    assert isinstance(engine.ones(1).dtype, engine.dtype)
    assert dtype == np.float32 and dtype == np.dtype("float32") and np.dtype("float32") == dtype
    assert dtype != engine.float64 and dtype != engine.bfloat16 and dtype != "not a dtype"
    assert {np.dtype("float32"): 1}[dtype] == 1 and {dtype: 2}[np.dtype("float32")] == 2
    assert np.zeros(2, engine.long).dtype == np.int64 and np.dtype(dtype).itemsize == 4
    assert (dtype.kind, dtype.itemsize, dtype.char, dtype.type) == ("f", 4, "f", np.float32)
    assert dtype.is_floating_point and dtype.is_signed and not engine.uint8.is_signed
    assert not engine.int64.is_floating_point and not dtype.is_complex
    import pickle
    assert pickle.loads(pickle.dumps(engine.float64)) is engine.float64


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
    assert str(got) == str(torch.promote_types(getattr(torch, a), getattr(torch, b)))


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
    assert str(got) == str(torch.result_type(wrap(x, torch), wrap(y, torch)))


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
