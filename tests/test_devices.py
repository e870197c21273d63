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


def test_any_of_pytorchs_devices_can_be_named_as_the_basics_tutorial_does():
    # "Tensors" (Learn the Basics) evaluates this whether or not there is a GPU: & does
    # not short-circuit
    assert not (engine.cuda.is_available() & (engine.device("cuda").index is not None))
    assert (repr(engine.device("cuda", 1)), str(engine.device("mps:0"))) == (
        "device(type='cuda', index=1)", "mps:0")
    assert engine.device("cpu:0") != engine.device("cpu") and engine.device("cpu") == "cpu"


def test_only_the_cpu_can_hold_a_tensor():
    for put in (lambda: engine.ones(2, device=engine.device("cuda")),
                lambda: engine.ones(2).to("cuda:0"),
                lambda: engine.ones(2).to(engine.device("mps"))):
        with pytest.raises(RuntimeError, match="this engine computes on the CPU only"):
            put()
    with pytest.raises(RuntimeError, match="expected one of cpu, cuda"):
        engine.device("gpu")
