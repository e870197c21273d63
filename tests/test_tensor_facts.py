"""engine/tensor_facts.py: memory facts, small-int casts, unfold, the shape-changing
in-place ops and the bernoulli/multinomial methods, against hand-worked values, central
differences and (when installed) PyTorch."""
from __future__ import annotations

import numpy as np
import pytest

import engine
from engine import Tensor


def test_device_and_memory_facts_are_a_cpu_tensors():
    x = engine.zeros(2, 3)
    assert x.is_cuda is False and x.is_cpu is True
    assert not x.is_complex() and not x.is_pinned() and not x.is_shared()
    assert x.share_memory_() is x and x.pin_memory() is x
    assert x.get_device() == -1 and x.ndimension() == 2
    assert x.is_same_size(engine.ones(2, 3)) and not x.is_same_size(engine.ones(3, 2))
    with pytest.raises(TypeError, match="Tensor"):
        x.is_same_size((2, 3))


def test_is_signed_by_dtype():
    assert engine.tensor([1.0]).is_signed() and engine.tensor([1]).is_signed()
    assert not engine.tensor([1], dtype=engine.uint8).is_signed()
    assert not engine.tensor([True]).is_signed()


def test_strides_count_entries_and_offsets_are_measured_from_the_base():
    t = engine.arange(12.0).reshape(3, 4)
    assert t.stride() == (4, 1) and t.stride(0) == 4 and t.stride(-1) == 1
    view = t[1:, ::2]
    assert view.stride() == (4, 2) and view.storage_offset() == 4
    assert t.t().stride() == (1, 4)
    assert engine.ones(3).storage_offset() == 0
    with pytest.raises(IndexError, match="out of range"):
        t.stride(2)
    with pytest.raises(TypeError, match="int"):
        t.stride(1.0)


def test_data_ptr_tells_shared_memory():
    t = engine.arange(6.0)
    assert t.view(2, 3).data_ptr() == t.data_ptr()
    assert t[2:].data_ptr() == t.data_ptr() + 2 * t.element_size()
    assert t.clone().data_ptr() != t.data_ptr()


def test_small_int_casts_and_bfloat16_refusal():
    x = engine.tensor([1.7, -2.0, 3.0])
    assert x.byte().dtype == engine.uint8 and x.char().dtype == engine.int8
    assert x.short().dtype == engine.int16
    assert x.short().tolist() == [1, -2, 3]
    with pytest.raises(TypeError, match="bfloat16"):
        x.bfloat16()


def test_unfold_values_by_hand():
    x = engine.arange(7.0)
    assert x.unfold(0, 3, 2).tolist() == [[0, 1, 2], [2, 3, 4], [4, 5, 6]]
    m = engine.arange(6.0).reshape(2, 3)
    assert m.unfold(0, 2, 1).tolist() == [[[0, 3], [1, 4], [2, 5]]]
    assert m.unfold(1, 2, 1).shape == (2, 2, 2)
    assert engine.tensor(3.0).unfold(0, 1, 1).tolist() == [3.0]
    assert engine.ones(4, dtype=engine.float32).unfold(0, 2, 2).dtype == engine.float32


def test_unfold_gradient_adds_overlapping_windows_back():
    x = engine.arange(5.0, requires_grad=True)
    x.unfold(0, 3, 1).sum().backward()
    assert x.grad.tolist() == [1, 2, 3, 2, 1]
    assert engine.gradcheck(lambda t: t.unfold(1, 2, 2) ** 2,
                            [engine.tensor(np.random.default_rng(0).random((2, 5)),
                                           requires_grad=True)])


def test_unfold_errors():
    x = engine.ones(3)
    with pytest.raises(RuntimeError, match="size"):
        x.unfold(0, 4, 1)
    with pytest.raises(RuntimeError, match="step"):
        x.unfold(0, 2, 0)
    with pytest.raises(IndexError, match="out of range"):
        x.unfold(1, 1, 1)


def test_unfold_against_torch():
    torch = pytest.importorskip("torch")
    a = np.random.default_rng(1).standard_normal((3, 7, 2))
    w = np.random.default_rng(2).standard_normal((3, 3, 2, 3))
    x, tx = Tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    y, ty = x.unfold(1, 3, 2), tx.unfold(1, 3, 2)
    assert y.shape == ty.shape and y.grad_fn.name() == ty.grad_fn.name()
    np.testing.assert_allclose(y.detach().numpy(), ty.detach().numpy(), atol=0)
    (y * Tensor(w)).sum().backward()
    (ty * torch.tensor(w)).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), atol=1e-12)


def test_shape_changing_in_place_ops_outside_the_graph():
    x = engine.zeros(2, 1, 3)
    version = x._version
    assert x.squeeze_() is x and x.shape == (2, 3) and x._version == version + 1
    assert x.unsqueeze_(0).shape == (1, 2, 3)
    y = engine.arange(6.0).reshape(2, 3)
    assert y.t_().tolist() == [[0, 3], [1, 4], [2, 5]]
    z = engine.arange(6.0).reshape(1, 2, 3)
    assert z.transpose_(0, 2).shape == (3, 2, 1)
    assert z.swapaxes_(0, 1).shape == (2, 3, 1) and z.swapdims_(1, 2).shape == (2, 1, 3)
    r = engine.arange(6.0)
    assert r.resize_(2, 3) is r and r.tolist() == [[0, 1, 2], [3, 4, 5]]
    assert r.resize_((3, 2)).shape == (3, 2)


def test_shape_changing_in_place_ops_in_the_graph():
    x = engine.tensor([[1.0, 2.0, 3.0]], requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf"):
        x.squeeze_()
    with pytest.raises(RuntimeError, match="leaf"):
        x.t_()
    y = x * 2
    assert y.squeeze_(0) is y and y.shape == (3,)
    y.unsqueeze_(1)
    (y * engine.tensor([[1.0], [10.0], [100.0]])).sum().backward()
    assert x.grad.tolist() == [[2.0, 20.0, 200.0]]
    with engine.no_grad():
        x.squeeze_()
    assert x.shape == (3,)


def test_resize_refusals():
    with pytest.raises(RuntimeError, match="same number"):
        engine.zeros(3).resize_(4)
    with pytest.raises(RuntimeError, match="requires grad"):
        engine.zeros(3, requires_grad=True).resize_(3, 1)


def test_shape_changing_in_place_ops_against_torch():
    torch = pytest.importorskip("torch")
    a = np.random.default_rng(3).standard_normal((2, 3))
    w = np.random.default_rng(4).standard_normal((3, 1, 2))
    grads = []
    for lib, make in ((engine, Tensor), (torch, torch.tensor)):
        x = make(a, requires_grad=True)
        y = x * 3
        assert y.t_() is y and y.unsqueeze_(1) is y
        y.transpose_(0, 2).swapdims_(0, 2)
        (y * make(w)).sum().backward()
        grads.append((y.detach().numpy(), x.grad.numpy()))
    np.testing.assert_allclose(grads[0][0], grads[1][0], atol=1e-12)
    np.testing.assert_allclose(grads[0][1], grads[1][1], atol=1e-12)


def test_bernoulli_and_multinomial_methods_follow_the_functions():
    p = engine.tensor([0.0, 1.0, 0.0, 1.0])
    assert p.bernoulli().tolist() == [0.0, 1.0, 0.0, 1.0]
    assert p.bernoulli(1.0).tolist() == [1.0, 1.0, 1.0, 1.0]
    assert p.multinomial(2).tolist() in ([1, 3], [3, 1])
    g1, g2 = engine.Generator().manual_seed(5), engine.Generator().manual_seed(5)
    q = engine.tensor([0.2, 0.5, 0.3])
    assert (q.multinomial(5, True, generator=g1).tolist()
            == engine.multinomial(q, 5, True, generator=g2).tolist())
    g1.manual_seed(7)
    g2.manual_seed(7)
    assert q.bernoulli(generator=g1).tolist() == engine.bernoulli(q, generator=g2).tolist()
    with pytest.raises(ValueError, match="without replacement"):
        q.multinomial(4)


def test_sampling_methods_match_torch_numbers():
    torch = pytest.importorskip("torch")
    engine.manual_seed(11)
    torch.manual_seed(11)
    probs = [0.1, 0.6, 0.3, 0.9]
    assert (engine.tensor(probs).bernoulli().tolist()
            == torch.tensor(probs).bernoulli().tolist())
    assert (engine.tensor(probs).multinomial(3).tolist()
            == torch.tensor(probs).multinomial(3).tolist())
