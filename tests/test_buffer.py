"""nn/buffer.py and Module.__setattr__: nn.Buffer registers a buffer when assigned, as in
PyTorch 2.5."""
from __future__ import annotations

import numpy as np
import pytest

import engine
import nn
from nn import Module


class Holder(Module):
    def __init__(self) -> None:
        self.weight = nn.Parameter(engine.ones(2))
        self.mean = nn.Buffer(engine.zeros(2))
        self.mask = nn.Buffer(engine.ones(2), persistent=False)
        self.plain = engine.full((2,), 3.0)


def test_assigned_buffers_are_buffers_and_only_persistent_ones_are_saved():
    m = Holder()
    assert [n for n, _ in m.named_buffers()] == ["mean", "mask", "plain"]
    assert [n for n, _ in m.named_parameters()] == ["weight"]
    assert list(m.state_dict()) == ["weight", "mean", "plain"]
    m.mask = nn.Buffer(engine.ones(2))  # made persistent again, as PyTorch's setattr does
    assert "mask" in m.state_dict()


def test_buffer_is_the_detached_tensor_and_isinstance_tells_it():
    t = engine.arange(3.0)
    b = nn.Buffer(t)
    assert isinstance(b, engine.Tensor) and isinstance(b, nn.Buffer)
    assert not isinstance(t, nn.Buffer) and not isinstance(np.ones(2), nn.Buffer)
    assert b.data_ptr() == t.data_ptr() and b.persistent is True
    assert nn.Buffer().shape == (0,)
    with pytest.raises(TypeError, match="Tensor"):
        nn.Buffer([1.0, 2.0])


def test_buffers_match_torch():
    torch = pytest.importorskip("torch")

    class TorchHolder(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.weight = torch.nn.Parameter(torch.ones(2))
            self.mean = torch.nn.Buffer(torch.zeros(2))
            self.mask = torch.nn.Buffer(torch.ones(2), persistent=False)

    ours, theirs = Holder(), TorchHolder()
    assert list(ours.state_dict())[:2] == list(theirs.state_dict())
    assert [n for n, _ in ours.named_buffers()][:2] == [n for n, _ in theirs.named_buffers()]
