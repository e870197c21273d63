"""engine/backends.py, engine/distributed.py and nn/parallel.py: what a CPU-only engine says
to the switches and launchers of GPU training scripts (nanoGPT's train.py sets the first and
imports the others)."""
from __future__ import annotations

import pytest

import engine
import nn
from engine.distributed import destroy_process_group, init_process_group
from nn.parallel import DistributedDataParallel


def test_gpu_switches_are_kept_and_compile_returns_the_model():
    engine.backends.cuda.matmul.allow_tf32 = True
    engine.backends.cudnn.allow_tf32 = True
    assert engine.backends.cuda.matmul.allow_tf32 and not engine.backends.mps.is_available()
    model = nn.Linear(2, 3)
    assert engine.compile(model) is model
    assert engine.compile(mode="reduce-overhead")(model) is model  # the decorator form
    assert not engine.cuda.is_available() and not engine.cuda.is_bf16_supported()


@pytest.mark.parametrize("call", [lambda: init_process_group(backend="gloo"),
                                  destroy_process_group,
                                  lambda: DistributedDataParallel(nn.Linear(2, 2))])
def test_launching_many_processes_is_refused_with_what_to_do(call):
    with pytest.raises(RuntimeError, match="one process on the CPU.*not torchrun"):
        call()
    assert not engine.distributed.is_available() and not engine.distributed.is_initialized()


def test_bfloat16_is_named_and_refused_where_a_tensor_would_take_it():
    dtypes = {"float32": engine.float32, "bfloat16": engine.bfloat16}  # train.py's table
    assert repr(dtypes["bfloat16"]) == "torch.bfloat16"
    with pytest.raises(TypeError, match="numpy, .* has no bfloat16 type; use float32"):
        engine.zeros(2, dtype=engine.bfloat16)
    with pytest.raises(TypeError, match="has no bfloat16 type"):
        engine.ones(2).to(engine.bfloat16)


def test_matmul_precision_and_determinism_are_stored_and_checked():
    assert engine.get_float32_matmul_precision() == "highest"
    try:
        engine.set_float32_matmul_precision("high")
        assert engine.get_float32_matmul_precision() == "high"
        with pytest.raises(ValueError, match="'highest', 'high' or 'medium', got 'low'"):
            engine.set_float32_matmul_precision("low")
        assert engine.get_float32_matmul_precision() == "high"
    finally:
        engine.set_float32_matmul_precision("highest")
    assert not engine.are_deterministic_algorithms_enabled()
    try:
        engine.use_deterministic_algorithms(True, warn_only=True)
        assert engine.are_deterministic_algorithms_enabled()
        assert engine.is_deterministic_algorithms_warn_only_enabled()
        with pytest.raises(TypeError, match="True or False, got int"):
            engine.use_deterministic_algorithms(1)
    finally:
        engine.use_deterministic_algorithms(False)
    assert not engine.are_deterministic_algorithms_enabled()


def test_the_settings_start_as_pytorchs(torch):
    assert engine.get_float32_matmul_precision() == torch.get_float32_matmul_precision()
    assert (engine.are_deterministic_algorithms_enabled()
            == torch.are_deterministic_algorithms_enabled())


def _blas_threads() -> set:
    """What threadpoolctl reads from numpy's BLAS libraries themselves."""
    threadpoolctl = pytest.importorskip("threadpoolctl")
    return {lib["num_threads"] for lib in threadpoolctl.threadpool_info()
            if lib["user_api"] == "blas"}


def test_set_num_threads_sets_numpys_blas_threads():
    if not _blas_threads():
        pytest.skip("this numpy reports no BLAS library to threadpoolctl")
    before = engine.get_num_threads()
    try:
        for n in (1, 2):
            engine.set_num_threads(n)
            assert _blas_threads() == {n} and engine.get_num_threads() == n
    finally:
        engine.set_num_threads(before)
    assert engine.get_num_threads() == before


# torch 2.13's messages, recorded; test_set_num_threads_refuses_as_torch checks them live
NUM_THREADS_ERRORS = [(0, "set_num_threads expects a positive integer"),
                      (-1, "set_num_threads expects a positive integer"),
                      (1.5, "set_num_threads expects an int, but got float"),
                      (True, "set_num_threads expects an int, but got bool"),
                      ("2", "set_num_threads expects an int, but got str")]


@pytest.mark.parametrize("n, message", NUM_THREADS_ERRORS)
def test_set_num_threads_refuses_what_torch_refuses(n, message):
    before = engine.get_num_threads()
    with pytest.raises(RuntimeError) as caught:
        engine.set_num_threads(n)
    assert str(caught.value) == message
    assert engine.get_num_threads() == before


@pytest.mark.parametrize("n, message", NUM_THREADS_ERRORS)
def test_set_num_threads_refuses_as_torch(torch, n, message):
    with pytest.raises(RuntimeError) as caught:
        torch.set_num_threads(n)
    assert str(caught.value) == message


def test_version_is_the_packages():
    metadata = pytest.importorskip("importlib.metadata")
    assert engine.__version__ == metadata.version("scratchgrad")
    assert [int(part) for part in engine.__version__.split(".")] >= [0, 1, 0]
