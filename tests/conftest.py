"""Shared fixtures: PyTorch as an optional oracle (`torch`; `library`, engine then torch), a
PATH without Graphviz, and the real MNIST test digits; without PyTorch, one summary line
counting the checks against it that were skipped; the `slow` marker, for tests that run only
when SCRATCHGRAD_SLOW=1 (CI sets it)."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any

# One BLAS and one OpenMP thread for the suite and every process it starts, set before numpy
# and torch load: its arrays are small, and on a 2-core machine numpy's OpenBLAS threads and
# PyTorch's OpenMP threads spin against each other and against other work (a 0.3 s test of
# 30 training steps took 20 s on a loaded machine). A value the caller set is kept.
for _threads in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_threads, "1")

import numpy as np  # noqa: E402  (after the thread counts)
import pytest
from hypothesis import HealthCheck, settings

# The torch fixture only imports a module and sets a dtype: safe to share across the examples
# of one @given test. No deadline: timings on shared CI machines swing by 2x. Derandomized,
# so CI runs the same examples every time; HYPOTHESIS_PROFILE=explore draws new ones.
settings.register_profile("scratchgrad", deadline=None, derandomize=True,
                          suppress_health_check=[HealthCheck.function_scoped_fixture])
settings.register_profile("explore", parent=settings.get_profile("scratchgrad"),
                          derandomize=False)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "scratchgrad"))

# The workplace keeps real MNIST test digits (IDX) beside the checkout, not in the project:
# $SCRATCHGRAD_MNIST_TEST, else ../shared/data/mnist, else the workplace's /work/shared copy.
_CANDIDATES = [Path(os.environ["SCRATCHGRAD_MNIST_TEST"])] if "SCRATCHGRAD_MNIST_TEST" in os.environ \
    else [Path(__file__).resolve().parents[2] / "shared" / "data" / "mnist",
          Path("/work/shared/data/mnist")]
MNIST_DIR = next((p for p in _CANDIDATES if (p / "t10k-images-idx3-ubyte.gz").exists()),
                 _CANDIDATES[0])


@pytest.fixture
def torch():
    """The torch module, or a skip when PyTorch is not installed (CI installs it)."""
    torch = pytest.importorskip("torch")  # the line every skip for want of torch is counted at
    torch.set_default_dtype(torch.float64)
    yield torch
    torch.set_default_dtype(torch.float32)


@pytest.fixture(params=["engine", "torch"])
def library(request: pytest.FixtureRequest) -> Any:
    """engine, then torch (skipped where PyTorch is not installed): for a check written once
    with PyTorch's answers in it, so that it runs without PyTorch too and shows they are
    PyTorch's where it is installed."""
    if request.param == "engine":
        import engine
        return engine
    return pytest.importorskip("torch")


@pytest.fixture
def float64_default():
    """The engine's default float dtype float64 for the test, as the torch fixture sets
    PyTorch's: so numbers made from Python floats compare with recorded float64 values."""
    import engine
    engine.set_default_dtype(engine.float64)
    yield
    engine.set_default_dtype(engine.float32)


_NO_TORCH = "No module named 'torch'"
_TORCH_FIXTURE_LINE = next(number for number, line in
                           enumerate(Path(__file__).read_text().splitlines(), 1)
                           if 'importorskip("torch")' in line)
_NO_TORCH_REASON = ("PyTorch is not installed, so these checks against it were skipped; "
                    ".venv/bin/python -m pip install torch==2.13.0 runs them")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> pytest.TestReport:
    """A skip for want of torch (its fixture, or an importorskip of torch or of a module that
    needs it) is reported at one place with one reason, so that `-ra` prints them as one
    line, `SKIPPED [count] tests/conftest.py:...`, rather than one line per test function."""
    report = yield
    if report.skipped and isinstance(report.longrepr, tuple):
        reason = report.longrepr[2].removeprefix("Skipped: ")
        if reason.startswith("could not import") and reason.endswith(_NO_TORCH):
            report.longrepr = (__file__, _TORCH_FIXTURE_LINE, _NO_TORCH_REASON)
    return report


SLOW = os.environ.get("SCRATCHGRAD_SLOW") == "1"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "slow: a long run (a whole lecture notebook, say) that "
                                       "a shorter test covers in part; SCRATCHGRAD_SLOW=1 runs it")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Unless SCRATCHGRAD_SLOW=1, tests marked slow are skipped, and the summary says so."""
    if SLOW:
        return
    skip = pytest.mark.skip(reason="slow: SCRATCHGRAD_SLOW=1 runs it (CI does)")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)


@pytest.fixture
def without_dot(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """PATH holds no `dot` (nor anything else); graphviz-pure is found beside sys.executable."""
    empty = tmp_path / "empty-path"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))


@pytest.fixture(scope="session")
def mnist_dir() -> Path:
    """Folder with t10k-images-idx3-ubyte.gz and t10k-labels-idx1-ubyte.gz, or a skip."""
    if not (MNIST_DIR / "t10k-images-idx3-ubyte.gz").exists():
        pytest.skip(f"real MNIST test digits not found at {MNIST_DIR} "
                    "(set SCRATCHGRAD_MNIST_TEST to a folder holding the IDX files)")
    return MNIST_DIR


@pytest.fixture(scope="session")
def mnist_test(mnist_dir: Path) -> tuple[np.ndarray, np.ndarray]:
    """The 10,000 real test digits: float32 pixels in [0, 1] of shape (n, 784), int64 labels."""
    from demos.mnist_files import read_idx
    x = read_idx(mnist_dir / "t10k-images-idx3-ubyte.gz").reshape(-1, 784)
    y = read_idx(mnist_dir / "t10k-labels-idx1-ubyte.gz")
    return x.astype(np.float32) / 255, y.astype(np.int64)
