"""Shared fixtures: PyTorch as an optional oracle, a PATH without Graphviz, and the real MNIST
test digits."""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np
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
    torch = pytest.importorskip("torch")
    torch.set_default_dtype(torch.float64)
    yield torch
    torch.set_default_dtype(torch.float32)


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
