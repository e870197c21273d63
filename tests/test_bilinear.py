"""nn/bilinear.py against torch.nn.functional.bilinear and torch.nn.Bilinear: values and the
gradients of both inputs, weight and bias with and without batch dims; the seeded
initialisation bit for bit, repr and state_dict; without PyTorch, central differences,
a value worked out by hand, float32 kept and the errors."""
from __future__ import annotations

import numpy as np
import pytest

import engine
import nn
import nn.functional as F

rng = np.random.default_rng(0)
# (name, input1 shape, input2 shape, weight shape, bias)
CASES = [("2-D", (4, 3), (4, 5), (2, 3, 5), True), ("3-D no bias", (2, 4, 3), (2, 4, 5),
                                                    (6, 3, 5), False),
         ("1-D", (3,), (5,), (2, 3, 5), True)]


def _run(lib, F, shapes, bias, dtype):
    r = np.random.default_rng(1)
    arrays = [r.standard_normal(s).astype(dtype) for s in shapes] + [
        r.standard_normal(shapes[2][0]).astype(dtype)]
    tensors = [lib.tensor(a, requires_grad=True) for a in arrays]
    out = F.bilinear(*tensors[:3], tensors[3] if bias else None)
    (out * lib.tensor(np.arange(1.0, out.numel() + 1).reshape(tuple(out.shape)).astype(dtype))
     ).sum().backward()
    return ([out.detach().numpy()] + [t.grad.numpy() for t in tensors[:3 + bias]],
            out.grad_fn.name())


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("name, s1, s2, sw, bias", CASES, ids=[c[0] for c in CASES])
def test_bilinear_is_pytorchs(torch, name, s1, s2, sw, bias, dtype):
    ours = _run(engine, F, (s1, s2, sw), bias, dtype)
    theirs = _run(torch, torch.nn.functional, (s1, s2, sw), bias, dtype)
    tight = dtype == np.float64
    for got, want in zip(ours[0], theirs[0]):
        assert got.dtype == dtype
        np.testing.assert_allclose(got, want, rtol=1e-13 if tight else 1e-5,
                                   atol=1e-13 if tight else 1e-5)
    assert ours[1] == theirs[1]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_seeded_initialisation_repr_and_state_dict_are_pytorchs(torch, dtype):
    torch.manual_seed(3)
    theirs = torch.nn.Bilinear(4, 5, 3, dtype=getattr(torch, dtype))
    engine.manual_seed(3)
    ours = nn.Bilinear(4, 5, 3, dtype=getattr(engine, dtype))
    assert repr(ours) == repr(theirs)
    mine, its = ours.state_dict(), theirs.state_dict()
    assert list(mine) == list(its) == ["weight", "bias"]
    for name in mine:
        np.testing.assert_array_equal(mine[name], its[name].numpy())  # bit for bit
    assert repr(nn.Bilinear(2, 3, 4, bias=False)) == repr(torch.nn.Bilinear(2, 3, 4, bias=False))


# --- without PyTorch ---

@pytest.mark.parametrize("name, s1, s2, sw, bias", CASES, ids=[c[0] for c in CASES])
def test_gradients_match_central_differences(name, s1, s2, sw, bias):
    r = np.random.default_rng(2)
    tensors = [engine.tensor(r.standard_normal(s), requires_grad=True, dtype=engine.float64)
               for s in (s1, s2, sw, sw[:1])]
    assert engine.gradcheck(lambda a, b, w, c: F.bilinear(a, b, w, c if bias else None), tensors)


def test_value_worked_out_by_hand_and_initial_bounds():
    w = engine.tensor([[[1.0, 2.0], [0.0, -1.0]]])  # (1, 2, 2)
    # x1^T W x2 = [1, 3] W [2, 1] = 1 * (2 + 2) + 3 * (0 - 1) = 1, plus the bias
    assert F.bilinear(engine.tensor([[1.0, 3.0]]), engine.tensor([[2.0, 1.0]]), w,
                      engine.tensor([0.5])).tolist() == [[1.5]]
    layer = nn.Bilinear(16, 3, 8)
    bound = 1 / 4  # 1 / sqrt(in1_features)
    for p in (layer.weight, layer.bias):
        assert p.dtype == engine.float32 and np.abs(p.numpy()).max() <= bound
    assert [name for name, _ in layer.named_parameters()] == ["weight", "bias"]
    assert layer(engine.ones(2, 16), engine.ones(2, 3)).shape == (2, 8)


def test_bad_shapes_raise_clear_errors():
    x, w = engine.ones(3, 4), engine.ones(2, 4, 4)
    with pytest.raises(RuntimeError, match="input batch dimensions do not match at dim 0: got 3 "
                                           "and 2"):
        F.bilinear(x, engine.ones(2, 4), w)
    with pytest.raises(RuntimeError, match="input1 size does not match weight size: got 4 but "
                                           "expected 3"):
        F.bilinear(x, x, engine.ones(2, 3, 4))
    with pytest.raises(RuntimeError, match="bias size does not match weight size: got 3 but "
                                           "expected 2"):
        F.bilinear(x, x, w, engine.ones(3))
    with pytest.raises(ValueError, match="weight must be 3-D"):
        F.bilinear(x, x, engine.ones(4, 4))
    with pytest.raises(ValueError, match="in1_features must be a positive int"):
        nn.Bilinear(0, 2, 3)
