"""nn/utils/rnn.py: pad_sequence, pack_padded_sequence, pad_packed_sequence, pack_sequence,
unpad_sequence, unpack_sequence and PackedSequence against torch.nn.utils.rnn (values, batch
sizes, indices and gradients), and RNN, LSTM and GRU over PackedSequences against torch.nn
in float64 (output, h_n, c_n, and the gradients of the input, the initial states and every
parameter; dropout's masks); without PyTorch, PyTorch's documented examples, packing and
padding done by hand, round trips, each sequence of a packed batch run on its own, central
differences, shapes, dtypes and the errors."""
from __future__ import annotations

import numpy as np
import pytest

import engine
import nn
from engine import Tensor, gradcheck
from nn.utils.rnn import (PackedSequence, invert_permutation, pack_padded_sequence,
                          pack_sequence, pad_packed_sequence, pad_sequence, unpack_sequence,
                          unpad_sequence)

rng = np.random.default_rng(0)


def sequences(lengths: list[int], trailing: tuple = (3,)) -> list[np.ndarray]:
    """Random float64 sequences (length, *trailing)."""
    return [rng.normal(size=(n, *trailing)) for n in lengths]


def by_hand(x: np.ndarray, lengths: list[int], batch_first: bool) -> tuple:
    """Packing written as its definition, entry row by entry row: for each time step, the
    step's entry of every sequence still running, longest first (equal lengths in batch
    order); returns (data, batch_sizes, sorted order)."""
    order = sorted(range(len(lengths)), key=lambda b: -lengths[b])
    rows, batch_sizes = [], []
    for t in range(max(lengths)):
        running = [b for b in order if lengths[b] > t]
        batch_sizes.append(len(running))
        rows += [x[b, t] if batch_first else x[t, b] for b in running]
    return np.stack(rows), batch_sizes, order


# --- without PyTorch ---

def test_pytorchs_documented_examples():
    # torch.nn.utils.rnn's docstrings: pack_sequence, pad_packed_sequence, pad_sequence
    packed = pack_sequence([engine.tensor([1, 2, 3]), engine.tensor([4, 5]), engine.tensor([6])])
    assert packed.data.tolist() == [1, 4, 6, 2, 5, 3]
    assert packed.batch_sizes.tolist() == [3, 2, 1]
    assert packed.sorted_indices is None and packed.unsorted_indices is None
    seq = engine.tensor([[1, 2, 0], [3, 0, 0], [4, 5, 6]])
    packed = pack_padded_sequence(seq, [2, 1, 3], batch_first=True, enforce_sorted=False)
    assert packed.data.tolist() == [4, 1, 3, 5, 2, 6]
    assert packed.batch_sizes.tolist() == [3, 2, 1]
    assert packed.sorted_indices.tolist() == [2, 0, 1]
    assert packed.unsorted_indices.tolist() == [1, 2, 0]
    unpacked, lengths = pad_packed_sequence(packed, batch_first=True)
    assert unpacked.tolist() == [[1, 2, 0], [3, 0, 0], [4, 5, 6]]
    assert lengths.tolist() == [2, 1, 3]
    a, b, c = engine.ones(25, 300), engine.ones(22, 300), engine.ones(15, 300)
    assert pad_sequence([a, b, c]).shape == (25, 3, 300)


# the last: enough sequences with ties that an unstable sort would reorder them
@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("lengths", [[4, 4, 2, 1], [2, 5, 1, 5, 3], [3],
                                     [1 + 7 * i % 4 for i in range(40)]],
                         ids=["sorted", "unsorted", "one", "forty with ties"])
def test_packing_is_its_definition_and_padding_undoes_it(batch_first, lengths):
    steps = max(lengths) + 1  # a step of padding no sequence reaches
    x = rng.normal(size=(len(lengths), steps, 2) if batch_first else (steps, len(lengths), 2))
    sorted_ = lengths == sorted(lengths, reverse=True)
    packed = pack_padded_sequence(Tensor(x), lengths, batch_first, enforce_sorted=sorted_)
    data, batch_sizes, order = by_hand(x, lengths, batch_first)
    np.testing.assert_array_equal(packed.data.numpy(), data)
    assert packed.batch_sizes.tolist() == batch_sizes and packed.batch_sizes.dtype == np.int64
    if sorted_:
        assert packed.sorted_indices is None and packed.unsorted_indices is None
    else:
        assert packed.sorted_indices.tolist() == order
        assert packed.unsorted_indices.tolist() == list(np.argsort(order))
        assert packed.sorted_indices.dtype == packed.unsorted_indices.dtype == np.int64
    padded, back = pad_packed_sequence(packed, batch_first, padding_value=-7.0,
                                       total_length=steps + 2)
    expected = np.full((steps + 2, len(lengths), 2), -7.0)
    for b, n in enumerate(lengths):
        expected[:n, b] = x[b, :n] if batch_first else x[:n, b]
    np.testing.assert_array_equal(padded.numpy(),
                                  expected.transpose(1, 0, 2) if batch_first else expected)
    assert back.tolist() == lengths and back.dtype == np.int64


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("padding_side", ["right", "left"])
def test_pad_sequence_and_unpad_sequence_by_hand(batch_first, padding_side):
    lengths = [2, 4, 1]
    seqs = sequences(lengths, (2, 3))
    padded = pad_sequence([Tensor(s) for s in seqs], batch_first, 0.5, padding_side)
    expected = np.full((3, 4, 2, 3), 0.5)
    for b, s in enumerate(seqs):
        if padding_side == "left":
            expected[b, 4 - len(s):] = s
        else:
            expected[b, :len(s)] = s
    np.testing.assert_array_equal(padded.numpy(),
                                  expected if batch_first else expected.swapaxes(0, 1))
    if padding_side == "right":
        for got, s in zip(unpad_sequence(padded, Tensor(np.array(lengths)), batch_first), seqs):
            np.testing.assert_array_equal(got.numpy(), s)


def test_pad_sequence_keeps_the_first_sequences_dtype_and_unbinds_a_tensor():
    padded = pad_sequence([engine.tensor([1, 2]), engine.tensor([3.5])], padding_value=0.5)
    assert padded.dtype == np.int64 and padded.tolist() == [[1, 3], [2, 0]]
    rows = engine.tensor([[0.0, 1.0], [2.0, 3.0], [4.0, 5.0]])
    assert pad_sequence(rows).tolist() == [[0.0, 2.0, 4.0], [1.0, 3.0, 5.0]]


@pytest.mark.parametrize("lengths", [[3, 1, 4, 1, 5], [2, 2, 2], [1]])
def test_unpack_sequence_gives_back_what_pack_sequence_packed(lengths):
    seqs = sequences(lengths)
    for got, s in zip(unpack_sequence(pack_sequence([Tensor(s) for s in seqs],
                                                    enforce_sorted=False)), seqs):
        np.testing.assert_array_equal(got.numpy(), s)


def test_lengths_may_be_a_list_an_int_tensor_or_an_array():
    x = Tensor(rng.normal(size=(3, 2)))
    for lengths in ([3, 1], Tensor(np.array([3, 1])), Tensor(np.array([3, 1], np.int32)),
                    np.array([3, 1])):
        packed = pack_padded_sequence(x, lengths)
        np.testing.assert_array_equal(packed.data.numpy(), x.numpy()[[0, 0, 1, 2], [0, 1, 0, 0]])
        assert packed.batch_sizes.tolist() == [2, 1, 1]


def test_packed_sequence_is_pytorchs_named_tuple():
    data, batch_sizes = Tensor(np.arange(6.0)), Tensor(np.array([3, 2, 1]))
    packed = PackedSequence(data, batch_sizes, Tensor(np.array([2, 0, 1])))
    assert PackedSequence._fields == ("data", "batch_sizes", "sorted_indices",
                                      "unsorted_indices")
    got_data, got_sizes, sorted_indices, unsorted_indices = packed
    assert got_data is data and got_sizes is batch_sizes
    assert unsorted_indices.tolist() == [1, 2, 0]  # the inverse, when not given
    assert invert_permutation(Tensor(np.array([3, 0, 2, 1]))).tolist() == [1, 3, 2, 0]
    assert invert_permutation(None) is None
    assert packed.to(engine.float64) is packed and packed.double() is packed
    single = packed.float()
    assert single.data.dtype == np.float32 and packed.data.dtype == np.float64
    assert single.batch_sizes is batch_sizes and single.sorted_indices is sorted_indices
    assert packed.to(dtype=engine.float32).data.dtype == np.float32
    assert packed.long().data.dtype == np.int64
    assert packed.to("cpu") is packed and packed.cpu() is packed
    assert packed.is_cuda is False and packed.is_pinned() is False


def test_nn_utils_rnn_is_torch_nn_utils_rnn():
    assert nn.utils.rnn.pack_padded_sequence is pack_padded_sequence
    assert engine.nn.utils.rnn.PackedSequence is PackedSequence
    assert callable(nn.utils.clip_grad_norm_)  # the gradient clipping stays where it was


def test_gradients_match_central_differences():
    weights = Tensor(rng.normal(size=(5, 3, 3)))

    def repacked(x):  # every op of the module on the way: pack, pad, unpad, pad, pack, unpack
        packed = pack_padded_sequence(x, [2, 4, 1], batch_first=True, enforce_sorted=False)
        padded, lengths = pad_packed_sequence(packed, padding_value=0.3, total_length=5)
        seqs = unpad_sequence(padded, lengths)
        again = pad_sequence(seqs, batch_first=True, padding_side="left")
        back = unpack_sequence(pack_sequence(list(again), enforce_sorted=False))
        return (padded * weights).sum() + sum((s * s).sum() for s in back)
    x = Tensor(rng.normal(size=(3, 4, 3)), requires_grad=True)
    assert gradcheck(repacked, [x])


@pytest.mark.parametrize("name, args, kwargs", [
    ("LSTM", (2, 2), {"bidirectional": True, "proj_size": 1}),
    ("GRU", (2, 2, 2), {}),
    ("RNN", (2, 3), {"bidirectional": True, "nonlinearity": "relu"}),
])
def test_packed_layer_gradients_match_central_differences(name, args, kwargs):
    layer = getattr(nn, name)(*args, dtype=np.float64, **kwargs)
    count, size = layer.num_layers * layer.num_directions, layer.proj_size or layer.hidden_size
    x = Tensor(rng.normal(size=(4, 3, 2)), requires_grad=True)
    h0 = Tensor(rng.normal(size=(count, 3, size)), requires_grad=True)
    c0 = Tensor(rng.normal(size=(count, 3, layer.hidden_size)), requires_grad=True)
    weights = Tensor(rng.normal(size=(9, layer.num_directions * size)))

    def loss(x, h0, c0, *params):
        out, finals = layer(pack_padded_sequence(x, [2, 4, 3], enforce_sorted=False),
                            (h0, c0) if name == "LSTM" else h0)
        finals = finals if name == "LSTM" else (finals,)
        return (out.data * weights).sum() + sum((h * h).sum() for h in finals)
    states = [h0, c0] if name == "LSTM" else [h0, None]
    assert gradcheck(loss, [x, *states, *layer.parameters()])


PACKED_LAYERS = {  # class, args, kwargs, lengths (enforce_sorted when sorted), initial states
    "rnn tanh": ("RNN", (3, 4), {}, [5, 3, 3, 1], False),
    "rnn relu 2 layers h0": ("RNN", (3, 4, 2), {"nonlinearity": "relu"}, [2, 5, 1, 4], True),
    "rnn bidirectional no bias": ("RNN", (3, 4), {"bidirectional": True, "bias": False},
                                  [2, 5, 1, 4], True),
    "lstm": ("LSTM", (3, 4), {}, [4, 4, 2], False),
    "lstm h0 c0 unsorted": ("LSTM", (3, 4), {}, [1, 3, 5, 2], True),
    "lstm 2 layers bidirectional": ("LSTM", (3, 4, 2), {"bidirectional": True},
                                    [3, 6, 1, 4, 4], True),
    "lstm batch_first": ("LSTM", (3, 4), {"batch_first": True}, [2, 4, 3], True),
    "lstm proj_size 2 layers bidirectional": ("LSTM", (3, 4, 2), {"proj_size": 2,
                                                                  "bidirectional": True},
                                              [3, 5, 2], True),
    "lstm no bias": ("LSTM", (3, 4, 2), {"bias": False}, [3, 1, 2], False),
    "gru": ("GRU", (3, 4), {}, [5, 2, 2], False),
    "gru 2 layers bidirectional h0": ("GRU", (3, 4, 2), {"bidirectional": True},
                                      [2, 6, 3, 1], True),
    "gru batch_first no bias": ("GRU", (3, 4, 2), {"batch_first": True, "bias": False},
                                [4, 1, 3], True),
    "gru one sequence": ("GRU", (3, 4), {"bidirectional": True}, [4], True),
    "lstm one length": ("LSTM", (3, 4), {"bidirectional": True}, [3, 3, 3], True),
}


def random_layer(name: str, args: tuple, kwargs: dict, dtype=np.float64):
    layer = getattr(nn, name)(*args, dtype=dtype, **kwargs)
    for p in layer.parameters():
        p.numpy()[...] = rng.normal(size=p.shape) * 0.6
    return layer


def state_shapes(layer, batch: int) -> list[tuple]:
    """The shapes of h0 (and c0) of a layer for a batch of sequences."""
    count = layer.num_layers * layer.num_directions
    shapes = [(count, batch, layer.proj_size or layer.hidden_size)]
    if isinstance(layer, nn.LSTM):
        shapes.append((count, batch, layer.hidden_size))
    return shapes


def hx(states: list):
    return None if not states else (tuple(states) if len(states) == 2 else states[0])


def flat(finals) -> list:
    return list(finals) if isinstance(finals, tuple) else [finals]


@pytest.mark.parametrize("case", PACKED_LAYERS)
def test_packed_layers_run_each_sequence_as_if_it_were_alone(case):
    name, args, kwargs, lengths, with_state = PACKED_LAYERS[case]
    layer = random_layer(name, args, kwargs)
    seqs = sequences(lengths)
    shapes = state_shapes(layer, len(lengths))
    states = [rng.normal(size=s) for s in shapes] if with_state else []
    packed = pack_sequence([Tensor(s) for s in seqs], enforce_sorted=False)
    out, finals = layer(packed, hx([Tensor(s) for s in states]))
    assert out.batch_sizes is packed.batch_sizes and out.sorted_indices is packed.sorted_indices
    assert out.data.shape == (sum(lengths), layer.num_directions * shapes[0][-1])
    assert [h.shape for h in flat(finals)] == shapes
    for b, (got, s) in enumerate(zip(unpack_sequence(out), seqs)):
        alone, alone_finals = layer(Tensor(s), hx([Tensor(state[:, b]) for state in states]))
        np.testing.assert_allclose(got.numpy(), alone.numpy(), rtol=1e-12, atol=1e-14)
        for h, h_alone in zip(flat(finals), flat(alone_finals)):
            np.testing.assert_allclose(h.numpy()[:, b], h_alone.numpy(), rtol=1e-12, atol=1e-14)


def test_float32_stays_float32():
    lstm = nn.LSTM(3, 4, 2, bidirectional=True)
    x = Tensor(rng.normal(size=(5, 3, 3)).astype(np.float32), requires_grad=True)
    out, (h, c) = lstm(pack_padded_sequence(x, [5, 2, 3], enforce_sorted=False))
    assert out.data.dtype == h.dtype == c.dtype == np.float32
    padded, _ = pad_packed_sequence(out)
    padded.sum().backward()
    assert x.grad.dtype == np.float32 and padded.dtype == np.float32
    assert all(p.grad.dtype == np.float32 for p in lstm.parameters())


def zeros(*shape):
    return Tensor(np.zeros(shape))


def packed(data, batch_sizes):
    return PackedSequence(data, Tensor(np.array(batch_sizes)))


# each: our call, the error, its message, and the same call on torch.nn.utils.rnn (None
# where PyTorch checks nothing or differs) that must raise the same type of error
ERRORS = [
    (lambda: pack_padded_sequence(zeros(4, 3), [2, 3, 1]), RuntimeError,
     r"`lengths` array must be sorted in decreasing order when `enforce_sorted` is True.*"
     r"\(lengths: \[2, 3, 1\]\)",
     lambda R, torch: R.pack_padded_sequence(torch.zeros(4, 3), [2, 3, 1])),
    (lambda: pack_padded_sequence(zeros(4, 3), [3, 2, 0]), RuntimeError,
     r"Length of all samples has to be greater than 0.*\(lengths: \[3, 2, 0\]\)",
     lambda R, torch: R.pack_padded_sequence(torch.zeros(4, 3), [3, 2, 0])),
    (lambda: pack_padded_sequence(zeros(4, 3), [3, 0, 1], enforce_sorted=False), RuntimeError,
     "Length of all samples has to be greater than 0",
     lambda R, torch: R.pack_padded_sequence(torch.zeros(4, 3), [3, 0, 1], enforce_sorted=False)),
    (lambda: pack_padded_sequence(zeros(4, 3), [3, 2]), RuntimeError,
     r"Expected `len\(lengths\)` to be equal to batch_size, but got 2 \(batch_size=3\)",
     lambda R, torch: R.pack_padded_sequence(torch.zeros(4, 3), [3, 2])),
    (lambda: pack_padded_sequence(zeros(3, 4), [3, 2], batch_first=True), RuntimeError,
     r"Expected `len\(lengths\)` to be equal to batch_size, but got 2 \(batch_size=3\)",
     lambda R, torch: R.pack_padded_sequence(torch.zeros(3, 4), [3, 2], batch_first=True)),
    (lambda: pack_padded_sequence(zeros(4, 3), [[3, 2, 1]]), RuntimeError,
     r"'lengths' should be a 1-D list or int64 tensor.*got shape \(1, 3\)",
     lambda R, torch: R.pack_padded_sequence(torch.zeros(4, 3), torch.tensor([[3, 2, 1]]))),
    (lambda: pack_padded_sequence(zeros(4, 3), [5, 2, 1]), ValueError,
     "a length of 5 is more than the input's 4 time steps", None),
    (lambda: pack_padded_sequence(zeros(3), [3]), ValueError,
     r"input is a padded batch \(T, B, \*\).*got shape \(3,\)", None),
    (lambda: pack_padded_sequence(zeros(3, 0), []), RuntimeError, "Cannot pack empty tensors",
     lambda R, torch: R.pack_padded_sequence(torch.zeros(3, 0), [])),
    (lambda: pack_sequence([engine.tensor([1]), engine.tensor([4, 5])]), RuntimeError,
     "must be sorted in decreasing order",
     lambda R, torch: R.pack_sequence([torch.tensor([1]), torch.tensor([4, 5])])),
    (lambda: pad_packed_sequence(pack_sequence([zeros(3), zeros(1)]), total_length=2),
     ValueError, "Expected total_length to be at least the length of the longest sequence in "
     "input, but got total_length=2 and max sequence length being 3",
     lambda R, torch: R.pad_packed_sequence(R.pack_sequence([torch.zeros(3), torch.zeros(1)]),
                                            total_length=2)),
    (lambda: pad_sequence([]), RuntimeError, "received an empty list of sequences",
     lambda R, torch: R.pad_sequence([])),
    (lambda: pad_sequence(5), RuntimeError,
     "Expected iterable for input sequences, but got arg of type: <class 'int'>",
     lambda R, torch: R.pad_sequence(5)),
    (lambda: pad_sequence([zeros(2, 3), zeros(3, 4)]), RuntimeError,
     r"sequence 0 has shape \(2, 3\) and sequence 1 \(3, 4\)",
     lambda R, torch: R.pad_sequence([torch.zeros(2, 3), torch.zeros(3, 4)])),
    (lambda: pad_sequence([zeros(2), engine.tensor(1.0)]), RuntimeError,
     r"sequence 0 has shape \(2,\) and sequence 1 \(\)", None),
    (lambda: pad_sequence([zeros(2)], padding_side="up"), RuntimeError,
     "Expected padding_side to be one of left or right, but got up.",
     lambda R, torch: R.pad_sequence([torch.zeros(2)], padding_side="up")),
    (lambda: unpad_sequence(zeros(4, 3), [2, 1]), ValueError,
     "unpad_sequence: 2 lengths for a batch of 3 sequences", None),
    (lambda: nn.LSTM(3, 4)(packed(zeros(4, 2), [2, 2])), RuntimeError,
     r"input.size\(-1\) must be equal to input_size. Expected 3, got 2",
     lambda R, torch: torch.nn.LSTM(3, 4)(R.PackedSequence(torch.zeros(4, 2),
                                                          torch.tensor([2, 2])))),
    (lambda: nn.LSTM(4, 2)(packed(zeros(4), [2, 2])), RuntimeError,
     r"LSTM: a PackedSequence's data must have 2 dimensions .*got 1",
     lambda R, torch: torch.nn.LSTM(4, 2)(R.PackedSequence(torch.zeros(4), torch.tensor([2, 2])))),
    (lambda: nn.GRU(3, 4)(packed(zeros(5, 3), [3, 2]), zeros(1, 2, 4)), RuntimeError,
     r"Expected hx of size \(1, 3, 4\), got \(1, 2, 4\)",
     lambda R, torch: torch.nn.GRU(3, 4)(R.PackedSequence(torch.zeros(5, 3), torch.tensor([3, 2])),
                                         torch.zeros(1, 2, 4))),
    (lambda: nn.LSTMCell(3, 4)(packed(zeros(4, 3), [2, 2])), TypeError,
     "LSTMCell takes input as one Tensor, got a PackedSequence", None),
    (lambda: nn.GRU(3, 4)(packed(zeros(4, 3), [2, 2]), packed(zeros(4, 3), [2, 2])), TypeError,
     "GRU takes hx as one Tensor, got a PackedSequence", None),
]


@pytest.mark.parametrize("call, error, match, theirs", ERRORS)
def test_errors_name_what_is_wrong(call, error, match, theirs):
    with pytest.raises(error, match=match):
        call()


# --- against PyTorch ---

def leaf(lib, x: np.ndarray):
    return lib.tensor(x, requires_grad=True)


def assert_same_packing(ours, theirs) -> None:
    """Same data (to rounding), batch_sizes and indices, int64 as PyTorch's."""
    np.testing.assert_allclose(ours.data.numpy(), theirs.data.detach().numpy(), rtol=1e-10,
                               atol=1e-13)
    np.testing.assert_array_equal(ours.batch_sizes.numpy(), theirs.batch_sizes.numpy())
    assert ours.batch_sizes.dtype == np.int64
    for mine, their in [(ours.sorted_indices, theirs.sorted_indices),
                        (ours.unsorted_indices, theirs.unsorted_indices)]:
        assert (mine is None) == (their is None)
        if mine is not None:
            np.testing.assert_array_equal(mine.numpy(), their.numpy())
            assert mine.dtype == np.int64


def backward_both(torch, pairs: list) -> None:
    """A random upstream gradient on each (ours, theirs) output pair, then backward."""
    loss, tloss = 0, 0
    for o, t in pairs:
        up = rng.normal(size=tuple(o.shape))
        loss, tloss = loss + (o * Tensor(up)).sum(), tloss + (t * torch.tensor(up)).sum()
    loss.backward()
    tloss.backward()


PACKINGS = {  # lengths, batch_first, enforce_sorted, trailing dims, steps of padding after
    "sorted": ([5, 3, 3, 1], False, True, (2,), 0),
    "unsorted": ([2, 5, 1, 4], False, False, (2,), 1),
    "unsorted batch_first": ([2, 5, 1, 4], True, False, (3,), 2),
    "sorted, not enforced": ([4, 2, 1], True, False, (), 0),
    "no trailing dims": ([3, 1, 2], False, False, (), 0),
    "two trailing dims": ([1, 3], False, False, (2, 3), 1),
    "one sequence": ([4], True, True, (2,), 1),
}


@pytest.mark.parametrize("case", PACKINGS)
def test_pack_padded_and_pad_packed_are_pytorchs(torch, case):
    lengths, batch_first, enforce_sorted, trailing, extra = PACKINGS[case]
    layout = (len(lengths), max(lengths) + extra)
    x = rng.normal(size=(*(layout if batch_first else layout[::-1]), *trailing))
    rnn_utils = torch.nn.utils.rnn
    ox, tx = leaf(engine, x), leaf(torch, x)
    ours = pack_padded_sequence(ox, Tensor(np.array(lengths)), batch_first, enforce_sorted)
    theirs = rnn_utils.pack_padded_sequence(tx, torch.tensor(lengths), batch_first,
                                            enforce_sorted)
    assert_same_packing(ours, theirs)
    total = max(lengths) + extra + 1
    padded, back = pad_packed_sequence(ours, batch_first, -2.5, total)
    tpadded, tback = rnn_utils.pad_packed_sequence(theirs, batch_first, -2.5, total)
    np.testing.assert_array_equal(padded.numpy(), tpadded.detach().numpy())
    np.testing.assert_array_equal(back.numpy(), tback.numpy())
    backward_both(torch, [(ours.data, theirs.data), (padded, tpadded)])
    np.testing.assert_allclose(ox.grad.numpy(), tx.grad.numpy(), rtol=1e-14, atol=0)


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("padding_side", ["right", "left"])
@pytest.mark.parametrize("trailing", [(), (2, 3)])
def test_pad_sequence_is_pytorchs(torch, batch_first, padding_side, trailing):
    seqs = sequences([3, 1, 4, 4], trailing)
    ours_in, theirs_in = [leaf(engine, s) for s in seqs], [leaf(torch, s) for s in seqs]
    padded = pad_sequence(ours_in, batch_first, 1.5, padding_side)
    tpadded = torch.nn.utils.rnn.pad_sequence(theirs_in, batch_first, 1.5, padding_side)
    np.testing.assert_array_equal(padded.numpy(), tpadded.detach().numpy())
    backward_both(torch, [(padded, tpadded)])
    for o, t in zip(ours_in, theirs_in):
        np.testing.assert_array_equal(o.grad.numpy(), t.grad.numpy())


def test_pack_sequence_unpack_sequence_and_unpad_sequence_are_pytorchs(torch):
    rnn_utils = torch.nn.utils.rnn
    seqs = sequences([2, 5, 1, 3])
    ours_in, theirs_in = [leaf(engine, s) for s in seqs], [leaf(torch, s) for s in seqs]
    ours = pack_sequence(ours_in, enforce_sorted=False)
    theirs = rnn_utils.pack_sequence(theirs_in, enforce_sorted=False)
    assert_same_packing(ours, theirs)
    unpacked, tunpacked = unpack_sequence(ours), rnn_utils.unpack_sequence(theirs)
    padded = pad_sequence(ours_in)
    # PyTorch's unpad_sequence transposes its input in place: it gets a copy
    unpadded = unpad_sequence(padded, [2, 5, 1, 3])
    tunpadded = rnn_utils.unpad_sequence(rnn_utils.pad_sequence(theirs_in),
                                         torch.tensor([2, 5, 1, 3]))
    pairs = list(zip(unpacked, tunpacked)) + list(zip(unpadded, tunpadded))
    for o, t in pairs:
        np.testing.assert_array_equal(o.numpy(), t.detach().numpy())
    backward_both(torch, pairs)
    for o, t in zip(ours_in, theirs_in):
        np.testing.assert_allclose(o.grad.numpy(), t.grad.numpy(), rtol=1e-14, atol=0)


def test_packed_sequence_prints_as_pytorchs(torch):
    ours = pack_sequence([engine.tensor([1, 2]), engine.tensor([3])])
    theirs = torch.nn.utils.rnn.pack_sequence([torch.tensor([1, 2]), torch.tensor([3])])
    assert repr(ours) == repr(theirs)


def twins(torch, name: str, args: tuple, kwargs: dict):
    """Ours in float64 with random weights, and torch's twin loading them strictly."""
    ours = random_layer(name, args, kwargs)
    theirs = getattr(torch.nn, name)(*args, **kwargs)
    theirs.load_state_dict({k: torch.from_numpy(v.numpy()) for k, v in ours.state_dict().items()})
    return ours, theirs


@pytest.mark.parametrize("case", PACKED_LAYERS)
def test_packed_layer_matches_pytorch(torch, case):
    name, args, kwargs, lengths, with_state = PACKED_LAYERS[case]
    ours, theirs = twins(torch, name, args, kwargs)
    rnn_utils = torch.nn.utils.rnn
    batch_first = kwargs.get("batch_first", False)
    enforce_sorted = lengths == sorted(lengths, reverse=True)
    layout = (len(lengths), max(lengths))
    x = rng.normal(size=(*(layout if batch_first else layout[::-1]), 3))
    states = [rng.normal(size=s) for s in state_shapes(ours, len(lengths))] if with_state \
        else []
    ox, tx = leaf(engine, x), leaf(torch, x)
    os_, ts_ = [leaf(engine, s) for s in states], [leaf(torch, s) for s in states]
    out, finals = ours(pack_padded_sequence(ox, lengths, batch_first, enforce_sorted), hx(os_))
    tout, tfinals = theirs(rnn_utils.pack_padded_sequence(tx, lengths, batch_first,
                                                          enforce_sorted), hx(ts_))
    assert isinstance(out, PackedSequence)
    assert_same_packing(out, tout)
    padded, _ = pad_packed_sequence(out, batch_first)
    tpadded, _ = rnn_utils.pad_packed_sequence(tout, batch_first)
    pairs = [(out.data, tout.data), (padded, tpadded)]
    pairs += list(zip(flat(finals), flat(tfinals)))
    for o, t in pairs:
        assert tuple(o.shape) == tuple(t.shape)
        np.testing.assert_allclose(o.numpy(), t.detach().numpy(), rtol=1e-10, atol=1e-13)
    backward_both(torch, pairs)
    for ours_leaf, their_leaf in zip([ox, *os_], [tx, *ts_]):
        np.testing.assert_allclose(ours_leaf.grad.numpy(), their_leaf.grad.numpy(),
                                   rtol=1e-10, atol=1e-12)
    theirs_by_name = dict(theirs.named_parameters())
    for name, p in ours.named_parameters():
        np.testing.assert_allclose(p.grad.numpy(), theirs_by_name[name].grad.numpy(),
                                   rtol=1e-10, atol=1e-12, err_msg=name)


@pytest.mark.parametrize("name", ["LSTM", "GRU", "RNN"])
def test_packed_dropout_between_layers_draws_pytorchs_masks(torch, name):
    ours, theirs = twins(torch, name, (3, 4, 3), {"dropout": 0.4, "bidirectional": True})
    x, lengths = rng.normal(size=(5, 4, 3)), [3, 5, 1, 4]
    engine.manual_seed(7)
    out, _ = ours(pack_padded_sequence(Tensor(x), lengths, enforce_sorted=False))
    torch.manual_seed(7)
    tout, _ = theirs(torch.nn.utils.rnn.pack_padded_sequence(torch.tensor(x), lengths,
                                                             enforce_sorted=False))
    np.testing.assert_allclose(out.data.numpy(), tout.data.detach().numpy(), rtol=1e-10,
                               atol=1e-13)


@pytest.mark.parametrize("call, error, match, theirs", [e for e in ERRORS if e[3]])
def test_errors_are_pytorchs_kind(torch, call, error, match, theirs):
    with pytest.raises(error):
        theirs(torch.nn.utils.rnn, torch)
