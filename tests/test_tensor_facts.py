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


# as_strided cases: (input shape, a view taken first, size, stride, storage_offset)
_AS_STRIDED = [
    ((12,), None, (3, 4), (4, 1), None),
    ((12,), None, (3, 3), (1, 1), None),  # overlapping windows: their gradients add up
    ((12,), None, (2, 2), (1, 0), 2),
    ((12,), lambda t: t[3:], (3,), (2,), 0),  # reaches before its input: those entries drop
    ((12,), lambda t: t[3:], (3,), (2,), None),  # None: the input's own offset, 3
    ((3,), lambda t: t.expand(2, 3), (2, 2), (1, 0), 0),  # input entries share places
    ((2, 3), lambda t: t.t(), (2, 3), (1, 2), 0),
    ((2, 3), None, (0, 3), (1, 2), 0),
    ((2, 3), None, (), (), 5),
]


def _as_strided_case(module: object, case: tuple, a: np.ndarray) -> tuple:
    shape, first, size, stride, offset = case
    x = module.tensor(a, requires_grad=True)
    return x, module.as_strided(first(x) if first else x, size, stride, offset)


@pytest.mark.parametrize("case", _AS_STRIDED)
def test_as_strided_reads_the_storage_as_numpy_does(case):
    a = np.random.default_rng(0).standard_normal(case[0])
    _, y = _as_strided_case(engine, case, a)
    start = case[4] if case[4] is not None else (0 if case[1] is None else 3)  # t[3:]: 3
    want = np.lib.stride_tricks.as_strided(a.reshape(-1)[start:], case[2],
                                           tuple(s * a.itemsize for s in case[3]))
    np.testing.assert_array_equal(y.detach().numpy(), want)
    assert y.stride() == case[3] and y.storage_offset() == start


def test_as_strided_gradient_by_hand_and_central_differences():
    x = engine.arange(5.0, requires_grad=True)
    x.as_strided((3, 2), (1, 1)).sum().backward()  # rows [0, 1], [1, 2], [2, 3]
    assert x.grad.tolist() == [1, 2, 2, 1, 0]
    b = engine.arange(3.0, requires_grad=True)  # (2, 3) expanded: two entries at each place
    b.expand(2, 3).as_strided((2, 2), (1, 0), 0).backward(engine.tensor([[1.0, 2], [3, 4]]))
    assert b.grad.tolist() == [3, 7, 0]  # torch's as_strided_backward shares, expand sums
    rng = np.random.default_rng(3)
    assert engine.gradcheck(lambda t: t[1:].as_strided((3, 3), (2, 1), 2) ** 2,
                            [engine.tensor(rng.random(12), requires_grad=True)])
    # second derivative: the entries are t1², t2², t2², t3², so the sum of their squares is
    # t1⁴ + 2 t2⁴ + t3⁴, its gradient (0, 4t1³, 8t2³, 4t3³, 0, 0), whose sum has gradient:
    t = engine.arange(6.0, requires_grad=True)
    g, = engine.autograd.grad(((t ** 2).as_strided((2, 2), (1, 1), 1) ** 2).sum(), t,
                              create_graph=True)
    g.sum().backward()
    assert g.tolist() == [0, 4, 64, 108, 0, 0] and t.grad.tolist() == [0, 12, 96, 108, 0, 0]


def test_as_strided_is_a_view_in_place_changes_write_through():
    a = engine.arange(12.0)
    a.as_strided((2, 2), (4, 1), 1).mul_(10)
    assert a.tolist() == [0, 10, 20, 3, 4, 50, 60, 7, 8, 9, 10, 11]
    w = engine.arange(6.0, requires_grad=True)
    b = w * 1
    b.as_strided((2,), (2,), 1).mul_(3)
    (b * engine.arange(6.0)).sum().backward()
    assert b.tolist() == [0, 3, 2, 9, 4, 5] and w.grad.tolist() == [0, 3, 2, 9, 4, 5]
    x = engine.arange(6.0)
    assert x.as_strided_((2, 2), (1, 2), 1) is x
    assert x.tolist() == [[1, 3], [2, 4]] and x.stride() == (1, 2) and x.storage_offset() == 1


@pytest.mark.parametrize("args, error, match", [
    (((3, 4), (4, 1), 1), RuntimeError, "requiring a storage size of 52 are out of bounds "
                                        "for storage of size 48"),
    (((2,), (-1,)), RuntimeError, "Negative strides"),
    (((2,), (1,), -1), RuntimeError, "invalid storage offset -1"),
    (((2, 2), (1,)), RuntimeError, "mismatch in length of strides and shape"),
    (((2,), (1.5,)), TypeError, "stride"),
    ((3, (1,)), TypeError, "size"),
    (((2,), (1,), 1.0), TypeError, "storage_offset"),
])
def test_as_strided_errors(args, error, match):
    with pytest.raises(error, match=match):
        engine.arange(12.0).as_strided(*args)


@pytest.mark.parametrize("case", _AS_STRIDED)
def test_as_strided_against_torch(torch, case):
    a = np.random.default_rng(0).standard_normal(case[0])
    w = np.random.default_rng(1).standard_normal(case[2])
    (x, y), (tx, ty) = (_as_strided_case(m, case, a) for m in (engine, torch))
    assert y.shape == ty.shape and y.stride() == ty.stride()
    assert y.storage_offset() == ty.storage_offset() and y.grad_fn.name() == ty.grad_fn.name()
    np.testing.assert_array_equal(y.detach().numpy(), ty.detach().numpy())
    (y * Tensor(w)).sum().backward()
    (ty * torch.tensor(w)).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), atol=1e-12)


def test_as_strided_errors_match_torch(torch):
    for args in [((3, 4), (4, 1), 1), ((2,), (-1,)), ((2,), (1,), -1), ((2, 2), (1,))]:
        with pytest.raises(RuntimeError) as ours:
            engine.arange(12.0).as_strided(*args)
        with pytest.raises(RuntimeError) as theirs:
            torch.arange(12.0).as_strided(*args)
        assert str(theirs.value).split(":")[0] in str(ours.value)


def test_apply_and_map_call_python_per_entry_in_place():
    seen = []
    x = engine.tensor([1.0, 2.0, 3.0])
    assert x.apply_(lambda v: seen.append(type(v)) or v * 2) is x
    assert x.tolist() == [2, 4, 6] and seen == [float] * 3  # Python numbers, as PyTorch's
    assert engine.tensor([1, 2, 3]).apply_(lambda v: v / 2).tolist() == [0, 1, 1]  # int kept
    assert engine.tensor([True, False]).apply_(lambda v: not v).tolist() == [False, True]
    t = engine.arange(6.0).view(2, 3).t()  # a view: its base's memory changes
    base = t.t()
    t.apply_(lambda v: v + 100)
    assert base.tolist() == [[100, 101, 102], [103, 104, 105]]
    assert engine.tensor(2.0).apply_(lambda v: v + 1).item() == 3
    y = engine.tensor([1.0, 2.0, 3.0])
    assert y.map_(engine.tensor([10.0]), lambda a, b: a + b).tolist() == [11, 12, 13]
    assert y.map_(engine.tensor([1.0, 2, 3]), lambda a, b: a * b).tolist() == [11, 24, 39]


@pytest.mark.parametrize("call, error, match", [
    (lambda: engine.ones(2, requires_grad=True).apply_(abs), RuntimeError,
     r"Can't call apply_\(\) on Variable that requires grad"),
    (lambda: engine.ones(2).map_(engine.ones(2, requires_grad=True), max), RuntimeError,
     r"Can't call map_\(\)"),
    (lambda: engine.ones(3).map_(engine.ones(2), max), RuntimeError, "does not expand"),
    (lambda: engine.ones(3).map_(engine.ones(3, dtype=engine.int64), max), TypeError,
     "expected a torch.float32 tensor"),
    (lambda: engine.ones(3).map_([1.0, 2.0, 3.0], max), TypeError, "must be a Tensor"),
    (lambda: engine.ones(2).apply_(str), TypeError, "real number, not str"),
])
def test_apply_and_map_refusals(call, error, match):
    with pytest.raises(error, match=match):
        call()


def test_apply_and_map_match_torch(torch):
    a = np.random.default_rng(4).standard_normal((3, 4))
    for m in (engine, torch):
        x = m.tensor(a).t()
        x.apply_(lambda v: v * v - 1).map_(m.tensor(a[0, :3]), lambda p, q: p / (1 + abs(q)))
        if m is engine:
            ours = x.numpy()
    np.testing.assert_array_equal(ours, x.numpy())
    for m in (engine, torch):
        with m.no_grad(), pytest.raises(RuntimeError, match="requires grad"):
            m.ones(2, requires_grad=True).apply_(abs)
    assert engine.tensor([7, 8]).apply_(lambda v: v / 3).tolist() == \
        torch.tensor([7, 8]).apply_(lambda v: v / 3).tolist()


def _inference_kinds(m: object) -> list[bool]:
    """is_inference() of tensors made in and out of inference_mode, written for both."""
    x = m.ones(3)
    w = m.ones(2, requires_grad=True)
    with m.inference_mode():
        made = [m.ones(3), x * 2, m.tensor([1.0]), x.argmax(), m.randn(2), w * 2, x.view(3)]
        x.add_(1)  # an in-place change keeps a tensor's kind
        with m.inference_mode(False):
            made.append(m.ones(2))
    with m.no_grad():
        made.append(m.ones(2))
    return [t.is_inference() for t in (*made, x, made[0].view(3), made[0] * 2)]


def test_is_inference_tells_tensors_made_in_inference_mode():
    assert _inference_kinds(engine) == [True] * 6 + [False] * 4 + [True, False]


def test_is_inference_matches_torch(torch):
    assert _inference_kinds(engine) == _inference_kinds(torch)
