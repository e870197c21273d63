"""engine/autocast_mode.py: torch.autocast as a context manager and a decorator, with
PyTorch's checks, defaults and warnings, and is_autocast_enabled / get_autocast_dtype; the
ops inside keep their dtypes here (see the module's docstring)."""
from __future__ import annotations

import threading
import warnings

import pytest

import engine


def test_a_cpu_region_is_enabled_with_bfloat16_by_default_and_nests():
    assert not engine.is_autocast_enabled("cpu")
    with engine.autocast("cpu") as region:
        assert region.fast_dtype == engine.bfloat16 and region.device == "cpu"
        assert engine.is_autocast_enabled("cpu") and not engine.is_autocast_enabled()
        assert engine.get_autocast_dtype("cpu") == engine.bfloat16
        with engine.autocast("cpu", enabled=False):
            assert not engine.is_autocast_enabled("cpu")
        with engine.autocast("cpu", dtype=engine.float16):
            assert engine.get_autocast_dtype("cpu") == engine.float16
        assert engine.is_autocast_enabled("cpu")
        assert (engine.ones(2, 2) @ engine.ones(2, 2)).dtype == engine.float32  # (not cast here)
    assert not engine.is_autocast_enabled("cpu")
    assert engine.get_autocast_dtype("cuda") == engine.float16


def test_as_a_decorator_each_call_runs_inside_the_region():
    @engine.autocast("cpu")
    def inside() -> bool:
        return engine.is_autocast_enabled("cpu")
    assert inside() and not engine.is_autocast_enabled("cpu")
    assert inside.__name__ == "inside"


def test_unsupported_settings_disable_the_region_with_pytorchs_warnings():
    with pytest.warns(UserWarning, match="target dtype is not supported. Disabling autocast"):
        region = engine.autocast("cpu", dtype=engine.float32)
    with region:
        assert not engine.is_autocast_enabled("cpu")
    with pytest.warns(UserWarning, match="Disabling autocast"):
        cuda = engine.autocast("cuda")
    assert cuda.fast_dtype == engine.float16 and not cuda._enabled
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        engine.autocast("cuda", enabled=False)  # (asked for nothing: no warning)


def test_the_region_is_per_thread():
    seen = []
    with engine.autocast("cpu"):
        worker = threading.Thread(target=lambda: seen.append(engine.is_autocast_enabled("cpu")))
        worker.start()
        worker.join()
    assert seen == [False]


def test_pytorchs_errors():
    with pytest.raises(ValueError, match="Expected `device_type` of type `str`"):
        engine.autocast(3)
    with pytest.raises(ValueError, match="as device_type, got 'gpu'"):
        engine.autocast("gpu")


def test_the_same_state_as_pytorch(torch):
    for make in (lambda m: m.autocast("cpu"), lambda m: m.autocast("cpu", dtype=m.float16)):
        ours, theirs = make(engine), make(torch)
        assert str(ours.fast_dtype) == str(theirs.fast_dtype)
        with ours, theirs:
            assert engine.is_autocast_enabled("cpu") == torch.is_autocast_enabled("cpu")
            assert str(engine.get_autocast_dtype("cpu")) == str(torch.get_autocast_dtype("cpu"))
