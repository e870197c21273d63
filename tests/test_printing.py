"""engine/printing.py: tensors, their shapes and f-strings of them print as PyTorch prints
them, character for character (line breaks, padding, summaries, suffixes)."""
from __future__ import annotations

import numpy as np
import pytest

import engine
from engine import Tensor

RNG = np.random.default_rng(0)
F32 = np.float32
# (id, array): every dtype kind, 0-d, empty, wide rows, several dims, summarised, the
# magnitudes that switch to scientific notation, whole floats, non-finite entries
ARRAYS = [
    ("0-d float", np.array(1.5, F32)), ("0-d int", np.array(3)), ("0-d bool", np.array(True)),
    ("empty", np.zeros(0, F32)), ("empty 2-d", np.zeros((0, 3), F32)),
    ("empty int 2-d", np.zeros((2, 0), np.int64)), ("empty int32", np.zeros(0, np.int32)),
    ("empty float64", np.zeros(0)),
    ("one-hot rows", np.eye(27, dtype=F32)[[0, 5, 13, 13, 1]]),
    ("27 floats", RNG.standard_normal(27).astype(F32)),
    ("5 x 27", RNG.standard_normal((5, 27)).astype(F32)),
    ("3-d, large", RNG.standard_normal((3, 4, 5)).astype(F32) * 1000),
    ("2000 floats", RNG.standard_normal(2000).astype(F32)),
    ("228 x 100", RNG.standard_normal((228, 100)).astype(F32)),
    ("40 x 40 x 3", RNG.standard_normal((40, 40, 3)).astype(F32)),
    ("tiny and one", np.array([1e-5, 1.0], F32)), ("huge and one", np.array([1e9, 1], F32)),
    ("inf nan", np.array([np.inf, -np.inf, np.nan, 1.5], F32)),
    ("inf and whole", np.array([np.inf, 2, 3], F32)), ("nan", np.array([np.nan], F32)),
    ("zeros", np.zeros(2, F32)), ("minus zero", np.array([-0.0, 1.0], F32)),
    ("ints", RNG.integers(-1000, 1000, 30)),
    ("int32 counts", RNG.integers(0, 3, (27, 27)).astype(np.int32)),
    ("bools", RNG.random(10) > 0.5), ("bool row", np.array([[True, False]])),
    ("float64", RNG.standard_normal(10)), ("uint8", np.arange(12, dtype=np.uint8).reshape(3, 4)),
    ("float16", np.array([1.5, 2.25], np.float16)),
    ("tiny, summarised", RNG.standard_normal((2000, 3)).astype(F32) * 1e-6),
    ("wide span", np.array([123456789.0, 1.0])), ("negative whole", np.array([-1.0, 2.0, -3.0])),
    ("small", RNG.standard_normal(4).astype(F32) * 1e-5),
]


@pytest.fixture
def torch():
    """torch with its default dtype float32, as ours (conftest's fixture sets float64)."""
    return pytest.importorskip("torch")


@pytest.mark.parametrize("array", [a for _, a in ARRAYS], ids=[name for name, _ in ARRAYS])
def test_tensors_print_as_pytorch_prints_them(torch, array):
    assert repr(Tensor(array)) == repr(torch.tensor(array))
    assert str(Tensor(array)) == str(torch.tensor(array))


@pytest.mark.parametrize("shape", [(1,), (3,), (27,), (5, 27)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_suffixes_go_on_a_new_line_when_the_last_one_is_full(torch, shape, dtype):
    x = RNG.standard_normal(shape).astype(dtype)
    assert repr(Tensor(x, requires_grad=True)) == repr(torch.tensor(x, requires_grad=True))
    ours, theirs = Tensor(x, requires_grad=True) * 2, torch.tensor(x, requires_grad=True) * 2
    assert repr(ours) == repr(theirs)  # ..., grad_fn=<MulBackward0>)


def test_a_loss_names_its_grad_fn_as_pytorch_does(torch):
    """F.cross_entropy is one op here; PyTorch's ends in nll_loss, and so does its name."""
    import nn.functional as F
    logits = RNG.standard_normal((4, 3)).astype(F32)
    target = np.array([0, 2, 1, 1])
    ours = F.cross_entropy(Tensor(logits, requires_grad=True), Tensor(target))
    theirs = torch.nn.functional.cross_entropy(torch.tensor(logits, requires_grad=True),
                                               torch.tensor(target))
    assert repr(ours) == repr(theirs)  # tensor(1.2345, grad_fn=<NllLossBackward0>)


def test_print_options_follow_set_printoptions(torch):
    x = RNG.standard_normal((4, 30)).astype(F32)
    try:
        for options in [dict(precision=2), dict(linewidth=120), dict(threshold=50, edgeitems=2),
                        dict(sci_mode=True), dict(profile="short"),
                        dict(precision=2, linewidth=140, sci_mode=False)]:  # fast.ai's lessons'
            engine.set_printoptions(**options)
            torch.set_printoptions(**options)
            for numbers in (x, x * 1e-5):  # tiny numbers print in scientific notation unless...
                assert repr(Tensor(numbers)) == repr(torch.tensor(numbers)), options
    finally:
        engine.set_printoptions(profile="default")
        torch.set_printoptions(profile="default")


@pytest.mark.parametrize("shape", [(), (3,), (2, 3), (0, 4)])
def test_shapes_are_sizes_that_print_as_torch_size(torch, shape):
    t = engine.zeros(shape)
    assert repr(t.shape) == repr(t.size()) == repr(torch.zeros(shape).shape)
    assert t.shape == shape and isinstance(t.shape, tuple) and hash(t.shape) == hash(shape)
    assert t.shape.numel() == torch.zeros(shape).shape.numel()
    assert repr(t.shape[1:]) == repr(torch.zeros(shape).shape[1:])
    assert repr(engine.Size([2, 3])) == "torch.Size([2, 3])"


def test_f_strings_of_0d_tensors_format_their_number(torch):
    for value in (2.4543561935424805, -3, True):
        ours, theirs = engine.tensor(value), torch.tensor(value)
        assert f"{ours}" == f"{theirs}"
        if not isinstance(value, bool):
            assert f"{ours:.3f}" == f"{theirs:.3f}" and f"{ours:>10.2e}" == f"{theirs:>10.2e}"
    assert f"{Tensor([1.0, 2.0])}" == f"{torch.tensor([1.0, 2.0])}"
    with pytest.raises(TypeError):
        f"{Tensor([1.0, 2.0]):.2f}"  # as PyTorch: only a 0-d tensor formats as a number
