"""engine/devices.py: the CPU is the one device, and PyTorch's ways of picking one
(torch.cuda, PyTorch 2.6's torch.accelerator, set_default_device) run and pick it."""
from __future__ import annotations

import pytest

import engine


def _pick(torch):
    """The device code of PyTorch 2.6's tutorials ("Tensors and autograd", ...)."""
    device = (torch.accelerator.current_accelerator().type if torch.accelerator.is_available()
              else "cpu")
    torch.set_default_device(device)
    return device, repr(torch.get_default_device()), torch.accelerator.device_count()


def test_the_tutorials_device_code_picks_the_cpu():
    assert _pick(engine) == ("cpu", "device(type='cpu')", 0)
    assert not engine.cuda.is_available() and engine.device("cpu") == "cpu"


def test_pytorch_picks_the_same_here(torch):
    assert _pick(torch) == _pick(engine)  # a machine without a GPU, as this one


@pytest.mark.parametrize("where", ["cuda", "mps", "cuda:1"])
def test_another_default_device_is_refused(where):
    with pytest.raises(RuntimeError, match=f"device '{where}': this engine computes on the CPU"):
        engine.set_default_device(where)
