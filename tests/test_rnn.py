"""nn/rnn.py: RNN, LSTM, GRU and their cells against torch.nn in float64 (outputs, final
states, and the gradients of the input, the initial states and every parameter), seeded
initialisation bit for bit, state_dict names and strict loading both ways, dropout between
layers, a few Adam steps of a char-level LSTM; without PyTorch, values recorded from it,
central differences, shapes, float32-keeping and the errors."""
from __future__ import annotations

from collections import namedtuple

import numpy as np
import pytest

import engine
import nn
import nn.functional as F
from engine import Tensor, gradcheck

rng = np.random.default_rng(0)

LAYERS = {  # class, args, kwargs, input shape, with initial states
    "rnn tanh": ("RNN", (3, 4), {}, (5, 2, 3), False),
    "rnn tanh h0": ("RNN", (3, 4), {}, (5, 2, 3), True),
    "rnn relu 2 layers": ("RNN", (3, 4, 2), {"nonlinearity": "relu"}, (5, 2, 3), True),
    "rnn no bias bidirectional": ("RNN", (3, 4), {"bias": False, "bidirectional": True},
                                  (6, 2, 3), True),
    "lstm": ("LSTM", (3, 4), {}, (5, 2, 3), False),
    "lstm h0 c0": ("LSTM", (3, 4), {}, (5, 2, 3), True),
    "lstm 2 layers bidirectional": ("LSTM", (3, 4, 2), {"bidirectional": True}, (7, 2, 3), True),
    "lstm batch_first": ("LSTM", (3, 4), {"batch_first": True}, (2, 5, 3), True),
    "lstm unbatched": ("LSTM", (3, 4, 2), {}, (5, 3), True),
    "lstm unbatched no states": ("LSTM", (3, 4), {"bidirectional": True}, (5, 3), False),
    "lstm no bias": ("LSTM", (3, 4, 2), {"bias": False}, (5, 2, 3), False),
    "lstm proj_size": ("LSTM", (3, 4, 2), {"proj_size": 2, "bidirectional": True},
                       (5, 2, 3), True),
    "gru": ("GRU", (3, 4), {}, (5, 2, 3), False),
    "gru h0": ("GRU", (3, 4), {}, (5, 2, 3), True),
    "gru 2 layers bidirectional": ("GRU", (3, 4, 2), {"bidirectional": True}, (9, 2, 3), True),
    "gru batch_first no bias": ("GRU", (3, 4, 2), {"batch_first": True, "bias": False},
                                (2, 5, 3), True),
    "gru unbatched": ("GRU", (3, 4), {}, (5, 3), True),
}

CELLS = {  # class, args, kwargs, input shape, with a state
    "rnn cell": ("RNNCell", (3, 4), {}, (2, 3), True),
    "rnn cell relu no state": ("RNNCell", (3, 4), {"nonlinearity": "relu"}, (2, 3), False),
    "rnn cell unbatched no bias": ("RNNCell", (3, 4), {"bias": False}, (3,), True),
    "lstm cell": ("LSTMCell", (3, 4), {}, (2, 3), True),
    "lstm cell no state": ("LSTMCell", (3, 4), {}, (2, 3), False),
    "lstm cell unbatched no bias": ("LSTMCell", (3, 4), {"bias": False}, (3,), True),
    "gru cell": ("GRUCell", (3, 4), {}, (2, 3), True),
    "gru cell no state": ("GRUCell", (3, 4), {}, (2, 3), False),
    "gru cell unbatched no bias": ("GRUCell", (3, 4), {"bias": False}, (3,), True),
}


def twins(torch, name: str, args: tuple, kwargs: dict):
    """Ours in float64 with random weights, and torch's twin loading them strictly."""
    ours = getattr(nn, name)(*args, dtype=np.float64, **kwargs)
    for p in ours.parameters():
        p.numpy()[...] = rng.normal(size=p.shape) * 0.6
    theirs = getattr(torch.nn, name)(*args, **kwargs)
    theirs.load_state_dict({k: torch.from_numpy(v.numpy()) for k, v in ours.state_dict().items()})
    return ours, theirs


def state_shapes(layer, batch: tuple) -> list[tuple]:
    """The shapes of h0 (and c0) for a layer or cell, batch () when unbatched."""
    if isinstance(layer, nn.RNNBase):
        count = layer.num_layers * layer.num_directions
        shapes = [(count, *batch, layer.proj_size or layer.hidden_size)]
        if isinstance(layer, nn.LSTM):
            shapes.append((count, *batch, layer.hidden_size))
        return shapes
    return [(*batch, layer.hidden_size)] * (2 if isinstance(layer, nn.LSTMCell) else 1)


def run_both(torch, ours, theirs, shape: tuple, with_state: bool, batch: tuple) -> None:
    """Same outputs, and same gradients for the input, the states and every parameter,
    from a random upstream gradient on every output."""
    x = rng.normal(size=shape)
    states = [rng.normal(size=s) for s in state_shapes(ours, batch)] if with_state else []
    ox, tx = Tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    os_ = [Tensor(s, requires_grad=True) for s in states]
    ts_ = [torch.tensor(s, requires_grad=True) for s in states]

    def call(layer, x, s):
        hx = None if not s else (tuple(s) if len(s) == 2 else s[0])
        result = layer(x, hx)
        flat = []
        for r in result if isinstance(result, tuple) else (result,):
            flat.extend(r if isinstance(r, tuple) else (r,))
        return flat

    outs, touts = call(ours, ox, os_), call(theirs, tx, ts_)
    assert len(outs) == len(touts)
    loss, tloss = 0, 0
    for o, t in zip(outs, touts):
        assert tuple(o.shape) == tuple(t.shape)
        np.testing.assert_allclose(o.numpy(), t.detach().numpy(), rtol=1e-10, atol=1e-13)
        up = rng.normal(size=tuple(o.shape))
        loss, tloss = loss + (o * Tensor(up)).sum(), tloss + (t * torch.tensor(up)).sum()
    loss.backward()
    tloss.backward()
    for ours_leaf, their_leaf in zip([ox, *os_], [tx, *ts_]):
        np.testing.assert_allclose(np.asarray(ours_leaf.grad), their_leaf.grad.numpy(),
                                   rtol=1e-10, atol=1e-12)
    theirs_by_name = dict(theirs.named_parameters())
    for name, p in ours.named_parameters():
        np.testing.assert_allclose(np.asarray(p.grad), theirs_by_name[name].grad.numpy(),
                                   rtol=1e-10, atol=1e-12, err_msg=name)


@pytest.mark.parametrize("case", LAYERS)
def test_layer_matches_pytorch(torch, case):
    name, args, kwargs, shape, with_state = LAYERS[case]
    ours, theirs = twins(torch, name, args, kwargs)
    batch = () if len(shape) == 2 else (shape[0] if kwargs.get("batch_first") else shape[1],)
    run_both(torch, ours, theirs, shape, with_state, batch)
    assert repr(ours) == repr(theirs)


@pytest.mark.parametrize("case", CELLS)
def test_cell_matches_pytorch(torch, case):
    name, args, kwargs, shape, with_state = CELLS[case]
    ours, theirs = twins(torch, name, args, kwargs)
    run_both(torch, ours, theirs, shape, with_state, shape[:-1])
    assert repr(ours) == repr(theirs)
    assert (ours.bias_ih is None) == (theirs.bias_ih is None) == (not kwargs.get("bias", True))


SEEDED = [("RNN", (3, 5, 2), {"nonlinearity": "relu"}), ("LSTM", (3, 5, 2), {}),
          ("GRU", (4, 3), {"bidirectional": True, "bias": False}),
          ("LSTM", (3, 5, 2), {"proj_size": 2, "bidirectional": True}),
          ("RNNCell", (3, 4), {}), ("LSTMCell", (2, 3), {}), ("GRUCell", (3, 4), {})]


@pytest.mark.parametrize("name, args, kwargs", SEEDED)
def test_seeded_initialisation_is_pytorchs_bit_for_bit(torch, name, args, kwargs):
    engine.manual_seed(0)
    ours = getattr(nn, name)(*args, **kwargs)
    torch.manual_seed(0)
    theirs = getattr(torch.nn, name)(*args, dtype=torch.float32, **kwargs)
    ours_state, their_state = ours.state_dict(), theirs.state_dict()
    assert list(ours_state) == list(their_state)
    for key, value in their_state.items():
        assert ours_state[key].dtype == np.float32
        np.testing.assert_array_equal(ours_state[key], value.numpy(), err_msg=key)


def test_seeded_initialisation_matches_numbers_recorded_from_pytorch():
    # recorded from torch 2.13.0: torch.manual_seed(0); torch.nn.LSTM(3, 5, 2), and
    # torch.manual_seed(0); torch.nn.GRUCell(3, 4)
    engine.manual_seed(0)
    lstm = nn.LSTM(3, 5, 2)
    np.testing.assert_array_equal(lstm.weight_ih_l0[0].numpy(), np.float32(
        [-0.003348207799717784, 0.23990486562252045, -0.36807698011398315]))
    np.testing.assert_array_equal(lstm.bias_hh_l1[-3:].numpy(), np.float32(
        [-0.34091898798942566, 0.2221803218126297, -0.4060116112232208]))
    engine.manual_seed(0)
    cell = nn.GRUCell(3, 4)
    np.testing.assert_array_equal(cell.weight_ih[0].numpy(), np.float32(
        [-0.003743410110473633, 0.26822179555892944, -0.4115225672721863]))
    np.testing.assert_array_equal(cell.bias_hh[-2:].numpy(),
                                  np.float32([-0.3765294551849365, -0.38567835092544556]))


def fixed(layer):
    """Weights that need no generator: 0.5 sin(0.7 k + i) for entry k of parameter i."""
    for i, p in enumerate(layer.parameters()):
        p.numpy()[...] = np.sin(np.arange(p.numel()) * 0.7 + i).reshape(p.shape) * 0.5
    return layer


# recorded from torch 2.13.0 in float64: the last output step of each layer with fixed()
# weights over the input cos(0.3 k), k = 0 .. 23, shaped (4, 2, 3)
RECORDED = {
    ("RNN", "relu"): [[1.4823018703631474, 0.3667964479606869],
                      [1.568493406250265, 0.6655361866624494]],
    ("LSTM", None): [[-0.32876353425649263, -0.26748294286059654],
                     [-0.26844490763474155, -0.41144740724080575]],
    ("GRU", None): [[-0.40310457626118906, -0.2374050112993532],
                    [-0.3517647446455282, -0.47675499635907875]],
}


@pytest.mark.parametrize("name, nonlinearity", RECORDED)
def test_outputs_match_numbers_recorded_from_pytorch(name, nonlinearity):
    kwargs = {"nonlinearity": nonlinearity} if nonlinearity else {}
    layer = fixed(getattr(nn, name)(3, 2, dtype=np.float64, **kwargs))
    out, _ = layer(Tensor(np.cos(np.arange(24) * 0.3).reshape(4, 2, 3)))
    np.testing.assert_allclose(out[-1].numpy(), RECORDED[name, nonlinearity], rtol=1e-12)


@pytest.mark.parametrize("name, kwargs", [("RNN", {"bidirectional": True}),
                                          ("LSTM", {"num_layers": 2, "proj_size": 1}),
                                          ("GRU", {"num_layers": 2})])
def test_gradients_match_central_differences(name, kwargs):
    layer = getattr(nn, name)(2, 3, dtype=np.float64, **kwargs)
    x = Tensor(rng.normal(size=(4, 2, 2)), requires_grad=True)
    weights = Tensor(rng.normal(size=(4, 2, layer.num_directions * (layer.proj_size or 3))))
    params = list(layer.parameters())
    assert gradcheck(lambda x, *p: (layer(x)[0] * weights).sum(), [x, *params])


def test_cell_gradients_match_central_differences():
    cell = nn.LSTMCell(2, 3, dtype=np.float64)
    x, h, c = (Tensor(rng.normal(size=s), requires_grad=True) for s in [(2, 2), (2, 3), (2, 3)])
    assert gradcheck(lambda x, h, c: sum((s * s).sum() for s in cell(x, (h, c))), [x, h, c])


def test_unbatched_batch_first_and_state_shapes_agree_with_the_batched_layer():
    lstm = nn.LSTM(3, 4, 2, bidirectional=True, dtype=np.float64)
    x = rng.normal(size=(5, 2, 3))
    out, (h, c) = lstm(Tensor(x))
    assert out.shape == (5, 2, 8) and h.shape == c.shape == (4, 2, 4)
    out1, (h1, c1) = lstm(Tensor(x[:, 1]))
    np.testing.assert_allclose(out1.numpy(), out[:, 1].numpy(), rtol=1e-14)
    np.testing.assert_allclose(h1.numpy(), h[:, 1].numpy(), rtol=1e-14)
    lstm.batch_first = True
    out_bf, (h_bf, _) = lstm(Tensor(x.transpose(1, 0, 2)))
    np.testing.assert_allclose(out_bf.numpy(), out.numpy().transpose(1, 0, 2), rtol=1e-14)
    np.testing.assert_allclose(h_bf.numpy(), h.numpy(), rtol=1e-14)
    # the forward direction's last step is h_n's first row, the reverse's first step its second
    np.testing.assert_array_equal(out.numpy()[-1, :, :4], h.numpy()[2])
    np.testing.assert_array_equal(out.numpy()[0, :, 4:], h.numpy()[3])


def test_float32_stays_float32():
    gru = nn.GRU(3, 4, 2)
    x = Tensor(rng.normal(size=(5, 2, 3)).astype(np.float32), requires_grad=True)
    out, h = gru(x)
    assert out.dtype == h.dtype == np.float32
    out.sum().backward()
    assert x.grad.dtype == np.float32
    assert all(p.grad.dtype == np.float32 for p in gru.parameters())
    h, c = nn.LSTMCell(3, 4)(x[0])
    assert h.dtype == c.dtype == np.float32


def test_state_dict_round_trip_with_pytorch(torch):
    torch.manual_seed(1)
    theirs = torch.nn.GRU(3, 4, 2, bidirectional=True, dtype=torch.float32)
    ours = nn.GRU(3, 4, 2, bidirectional=True)
    ours.load_state_dict(theirs.state_dict(), strict=True)
    x = rng.normal(size=(6, 2, 3)).astype(np.float32)
    out, h = ours(Tensor(x))
    tout, th = theirs(torch.tensor(x))
    np.testing.assert_allclose(out.numpy(), tout.detach().numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(h.numpy(), th.detach().numpy(), rtol=1e-5, atol=1e-6)
    back = torch.nn.GRU(3, 4, 2, bidirectional=True, dtype=torch.float32)
    back.load_state_dict({k: torch.from_numpy(v.numpy()) for k, v in ours.state_dict().items()},
                         strict=True)
    assert all(torch.equal(a, b) for a, b in zip(back.parameters(), theirs.parameters()))


@pytest.mark.parametrize("name", ["LSTM", "GRU", "RNN"])
def test_dropout_between_layers_draws_pytorchs_masks(torch, name):
    ours, theirs = twins(torch, name, (3, 4, 3), {"dropout": 0.4, "bidirectional": True})
    x = rng.normal(size=(5, 2, 3))
    engine.manual_seed(7)
    out, _ = ours(Tensor(x))
    torch.manual_seed(7)
    tout, _ = theirs(torch.tensor(x))
    np.testing.assert_allclose(out.numpy(), tout.detach().numpy(), rtol=1e-10, atol=1e-13)


def test_dropout_acts_only_between_layers_in_training():
    lstm = nn.LSTM(3, 4, 2, dropout=0.5, dtype=np.float64)
    plain = nn.LSTM(3, 4, 2, dtype=np.float64)
    plain.load_state_dict(lstm.state_dict())
    x = Tensor(rng.normal(size=(5, 2, 3)))
    trained, _ = lstm(x)
    expected, _ = plain(x)
    assert not np.allclose(trained.numpy(), expected.numpy())
    lstm.eval()
    np.testing.assert_array_equal(lstm(x)[0].numpy(), expected.numpy())
    with pytest.warns(UserWarning, match="num_layers greater than 1"):
        nn.GRU(3, 4, dropout=0.2)


TEXT = np.frombuffer(b"hello world, hello rnn; hello lstm", np.uint8) % 16


def char_lstm(lib):
    """embedding -> 2-layer LSTM -> linear, predicting the next of 16 chars, in float64."""

    class CharLSTM(lib.Module):
        def __init__(self):
            super().__init__()
            self.embed = lib.Embedding(16, 5)
            self.lstm = lib.LSTM(5, 8, 2, batch_first=True)
            self.head = lib.Linear(8, 16)

        def forward(self, ids):
            out, _ = self.lstm(self.embed(ids))
            return self.head(out)
    return CharLSTM().double()


def adam_losses(model, optimizer, cross_entropy, tensor, steps: int) -> list[float]:
    """The losses of `steps` Adam steps on three 12-char windows of TEXT."""
    ids = tensor(np.stack([TEXT[i:i + 12].astype(np.int64) for i in (0, 7, 14)]))
    targets = tensor(np.stack([TEXT[i + 1:i + 13].astype(np.int64) for i in (0, 7, 14)]))
    optimizer = optimizer(model.parameters(), lr=0.01)
    losses = []
    for _ in range(steps):
        loss = cross_entropy(model(ids).reshape(-1, 16), targets.reshape(-1))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return losses


def test_char_level_lstm_trains_as_pytorchs(torch):
    ours = char_lstm(nn)
    theirs = char_lstm(torch.nn)
    theirs.load_state_dict({k: torch.from_numpy(v.numpy()) for k, v in ours.state_dict().items()})
    losses = adam_losses(ours, nn.optim.Adam, F.cross_entropy, Tensor, 5)
    their_losses = adam_losses(theirs, torch.optim.Adam, torch.nn.functional.cross_entropy,
                               torch.from_numpy, 5)
    np.testing.assert_allclose(losses, their_losses, rtol=1e-10)
    assert losses[-1] < losses[0]


def test_tuples_where_one_tensor_goes_are_refused():
    # (a PackedSequence is nn.utils.rnn's: tests/test_rnn_utils.py runs the layers over them)
    foreign = namedtuple("PackedSequence", "data batch_sizes sorted_indices unsorted_indices")
    sequence = foreign(Tensor(np.zeros((4, 3))), Tensor(np.array([2, 2])), None, None)
    with pytest.raises(TypeError, match="LSTM takes input as one Tensor, got a PackedSequence"):
        nn.LSTM(3, 4)(sequence)
    with pytest.raises(TypeError, match="GRU takes hx as one Tensor, got a tuple"):
        nn.GRU(3, 4)(Tensor(np.zeros((5, 3))), (Tensor(np.zeros((1, 4))),))


@pytest.mark.parametrize("make, call, error, match", [
    (lambda: nn.LSTM(3, 4), lambda m: m(Tensor(np.zeros((5, 2, 2)))), RuntimeError,
     r"input.size\(-1\) must be equal to input_size. Expected 3, got 2"),
    (lambda: nn.GRU(3, 4), lambda m: m(Tensor(np.zeros((1, 5, 2, 3)))), ValueError,
     r"Expected input to be 2D or 3D, got 4D tensor of shape \(1, 5, 2, 3\)"),
    (lambda: nn.GRU(3, 4, 2), lambda m: m(Tensor(np.zeros((5, 2, 3))), Tensor(np.zeros((1, 2, 4)))),
     RuntimeError, r"Expected hx of size \(2, 2, 4\), got \(1, 2, 4\)"),
    (lambda: nn.LSTM(3, 4), lambda m: m(Tensor(np.zeros((5, 3))),
                                        (Tensor(np.zeros((1, 4))), Tensor(np.zeros((1, 5))))),
     RuntimeError, r"Expected hx\[1\] \(c_0\) of size \(1, 4\), got \(1, 5\)"),
    (lambda: nn.RNN(3, 4), lambda m: m(Tensor(np.zeros((5, 3))), Tensor(np.zeros((1, 1, 4)))),
     RuntimeError, "unbatched 2-D input, hx should also be 2-D but got 3-D"),
    (lambda: nn.LSTM(3, 4), lambda m: m(Tensor(np.zeros((5, 1, 3))), Tensor(np.zeros((1, 1, 4)))),
     TypeError, r"LSTM's hx is a tuple \(h_0, c_0\)"),
    (lambda: nn.RNN(3, 4, nonlinearity="sigmoid"), None, ValueError,
     "Unknown nonlinearity 'sigmoid'. Select from 'tanh' or 'relu'"),
    (lambda: nn.RNNCell(3, 4, nonlinearity="gelu"), None, ValueError, "Unknown nonlinearity"),
    (lambda: nn.LSTM(3, 4, proj_size=4), None, ValueError, "proj_size .4. has to be smaller"),
    (lambda: nn.GRU(3, 4, dropout=1.5), None, ValueError, r"range \[0, 1\]"),
    (lambda: nn.LSTM(3, 0), None, ValueError, "hidden_size must be a positive int"),
    (lambda: nn.GRUCell(3, 4), lambda m: m(Tensor(np.zeros((2, 5)))), RuntimeError,
     r"GRUCell: input.size\(-1\) must be equal to input_size. Expected 3, got 5"),
    (lambda: nn.RNNCell(3, 4), lambda m: m(Tensor(np.zeros((2, 3))), Tensor(np.zeros((3, 4)))),
     RuntimeError, r"expected hx of size \(2, 4\), got \(3, 4\)"),
    (lambda: nn.LSTMCell(3, 4), lambda m: m(Tensor(np.zeros((1, 2, 3)))), ValueError,
     "LSTMCell: Expected input to be 1D or 2D, got 3D"),
])
def test_bad_arguments_raise_errors_naming_them(make, call, error, match):
    with pytest.raises(error, match=match):
        layer = make()
        call(layer)


def _minimal_gated_cell(lib):
    """A cell of one's own on RNNCellBase, PyTorch's way: two chunks, a gate and a candidate."""
    class MinimalGatedCell(lib.nn.RNNCellBase):
        def __init__(self, input_size, hidden_size):
            super().__init__(input_size, hidden_size, bias=True, num_chunks=2)

        def forward(self, x, h):
            gi = lib.nn.functional.linear(x, self.weight_ih, self.bias_ih)
            gh = lib.nn.functional.linear(h, self.weight_hh, self.bias_hh)
            f, n = (gi + gh).chunk(2, -1)
            f = f.sigmoid()
            return (1 - f) * h + f * n.tanh()
    return MinimalGatedCell(3, 4)


def test_a_cell_of_ones_own_subclasses_rnncellbase_as_in_pytorch(torch):
    torch.set_default_dtype(torch.float32)  # (the fixture's float64 would draw other numbers)
    engine.manual_seed(0)
    ours = _minimal_gated_cell(engine)
    torch.manual_seed(0)
    theirs = _minimal_gated_cell(torch)
    assert [(k, tuple(v.shape)) for k, v in ours.state_dict().items()] == [
        (k, tuple(v.shape)) for k, v in theirs.state_dict().items()]
    for key, value in theirs.state_dict().items():  # reset_parameters' numbers, bit for bit
        np.testing.assert_array_equal(ours.state_dict()[key].numpy(), value.numpy(), err_msg=key)
    x, h = rng.standard_normal((2, 3)).astype(np.float32), rng.standard_normal((2, 4)).astype(
        np.float32)
    np.testing.assert_allclose(ours(Tensor(x), Tensor(h)).numpy(),
                               theirs(torch.tensor(x), torch.tensor(h)).detach().numpy(),
                               rtol=1e-5, atol=1e-6)
    assert repr(ours) == repr(theirs) == "MinimalGatedCell(3, 4)"


@pytest.mark.parametrize("name, kwargs, per", [
    ("LSTM", {"num_layers": 2, "bidirectional": True}, 4), ("GRU", {"bias": False}, 2),
    ("RNN", {"num_layers": 3}, 4), ("LSTM", {"proj_size": 2}, 5)])
def test_all_weights_lists_each_layer_and_directions_parameters_as_pytorch(library, name,
                                                                          kwargs, per):
    layer = getattr(library.nn, name)(3, 4, **kwargs)
    groups = layer.all_weights
    assert len(groups) == layer.num_layers * (2 if layer.bidirectional else 1)
    assert all(len(group) == per for group in groups)
    flat = [p for group in groups for p in group]
    assert len(flat) == len(list(layer.parameters()))
    assert all(p is q for p, q in zip(flat, layer.parameters()))  # the parameters, in order
