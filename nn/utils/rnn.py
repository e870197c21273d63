"""torch.nn.utils.rnn: batches of sequences of different lengths, for the recurrent layers.

A padded batch holds B sequences in one (T, B, *) tensor ((B, T, *) with batch_first),
each followed by padding up to the longest one's length T. A PackedSequence holds only
their entries, time step by time step, in `data` (sum of the lengths, *): step t's rows
are those of the sequences still running at t, longest first, and `batch_sizes[t]` counts
them, so it never grows with t. RNN, LSTM and GRU take a PackedSequence and run each
sequence to its own last entry and no further.

pad_sequence, pack_padded_sequence, pad_packed_sequence, pack_sequence, unpad_sequence and
unpack_sequence convert between lists of sequences, padded batches and PackedSequences, as
PyTorch's do, with PyTorch's signatures and errors. Each is a few engine ops (cat, stack,
and indexing with index arrays that numpy computes from the lengths), so gradients flow
through `data` and the padded tensors by those ops' own rules.

Sorting by length (enforce_sorted=False) is stable: sequences of equal length keep their
order. PyTorch's sort does not promise that, so with ties its sorted_indices may differ
from ours; the padded results and the sequences' outputs do not.
"""
from __future__ import annotations

from collections.abc import Iterable
from typing import Any, NamedTuple

import numpy as np

from engine.shapes import cat, stack
from engine.tensor import Tensor, _as_tensor, _raw

__all__ = ["PackedSequence", "invert_permutation", "pack_padded_sequence",
           "pad_packed_sequence", "pad_sequence", "unpad_sequence", "pack_sequence",
           "unpack_sequence"]


class _PackedFields(NamedTuple):
    data: Tensor
    batch_sizes: Tensor
    sorted_indices: Tensor | None
    unsorted_indices: Tensor | None


class PackedSequence(_PackedFields):
    """Sequences of different lengths, packed: `data` holds step 0 of every sequence, then
    step 1 of those still running, and so on; `batch_sizes` (int64, one per step) says how
    many rows each step has. The sequences are in decreasing order of length there;
    `sorted_indices[i]` is the position in the caller's batch of the i-th of them and
    `unsorted_indices` is its inverse (both None when the batch came sorted). Made by
    pack_padded_sequence or pack_sequence, as in PyTorch."""

    def __new__(cls, data: Tensor, batch_sizes: Tensor, sorted_indices: Tensor | None = None,
                unsorted_indices: Tensor | None = None) -> PackedSequence:
        if unsorted_indices is None:
            unsorted_indices = invert_permutation(sorted_indices)
        return super().__new__(cls, data, batch_sizes, sorted_indices, unsorted_indices)

    def _with_data(self, data: Tensor) -> PackedSequence:
        """Itself if data is its own, else the same packing around data."""
        if data is self.data:
            return self
        return type(self)(data, self.batch_sizes, self.sorted_indices, self.unsorted_indices)

    def to(self, *args: Any, **kwargs: Any) -> PackedSequence:
        """`data.to(...)` (a dtype; the CPU is the only device); batch_sizes and the indices
        stay int64."""
        return self._with_data(self.data.to(*args, **kwargs))

    def float(self) -> PackedSequence:
        return self._with_data(self.data.float())

    def double(self) -> PackedSequence:
        return self._with_data(self.data.double())

    def half(self) -> PackedSequence:
        return self._with_data(self.data.half())

    def long(self) -> PackedSequence:
        return self._with_data(self.data.long())

    def int(self) -> PackedSequence:
        return self._with_data(self.data.int())

    def cpu(self) -> PackedSequence:
        return self

    @property
    def is_cuda(self) -> bool:
        return False

    def is_pinned(self) -> bool:
        return False


def invert_permutation(permutation: Tensor | None) -> Tensor | None:
    """The inverse of a permutation of 0 .. n-1 (None for None)."""
    if permutation is None:
        return None
    return Tensor(np.argsort(np.asarray(_raw(permutation))).astype(np.int64))


def pad_sequence(sequences: Tensor | Iterable[Tensor], batch_first: bool = False,
                 padding_value: float = 0.0, padding_side: str = "right") -> Tensor:
    """Sequences (L_i, *) padded with padding_value to the longest length T (after them, or
    before with padding_side='left') and stacked: (T, B, *), or (B, T, *) with batch_first.
    The result has the first sequence's dtype, as PyTorch's."""
    if padding_side not in ("left", "right"):
        raise RuntimeError("Expected padding_side to be one of left or right, but got "
                           f"{padding_side}.")
    if not isinstance(sequences, Iterable):
        raise RuntimeError("pad_sequence: Expected iterable for input sequences, but got arg "
                           f"of type: {type(sequences)}")
    sequences = [_as_tensor(s) for s in sequences]
    if not sequences:
        raise RuntimeError("pad_sequence: received an empty list of sequences")
    first = sequences[0]
    for i, s in enumerate(sequences):
        if s.ndim == 0 or s.shape[1:] != first.shape[1:]:
            raise RuntimeError(f"pad_sequence: every sequence is (length, *) with the same *, "
                               f"but sequence 0 has shape {tuple(first.shape)} and sequence "
                               f"{i} {tuple(s.shape)}")
    length = max(s.shape[0] for s in sequences)
    padded = []
    for s in sequences:
        fill = Tensor(np.full((length - s.shape[0], *first.shape[1:]), padding_value,
                              first.numpy().dtype))
        s = s.to(first.dtype)
        padded.append(cat([s, fill] if padding_side == "right" else [fill, s]))
    return stack(padded, 0 if batch_first else 1)


def _lengths(owner: str, lengths: Any) -> np.ndarray:
    """lengths (a list, or a 1-D CPU integer tensor) as an int64 array."""
    array = np.asarray(_raw(lengths))
    if array.ndim != 1:
        raise RuntimeError(f"{owner}: 'lengths' should be a 1-D list or int64 tensor, one "
                           f"length per sequence, got shape {array.shape}")
    return array.astype(np.int64)


def pack_padded_sequence(input: Tensor, lengths: Tensor | list[int], batch_first: bool = False,
                         enforce_sorted: bool = True) -> PackedSequence:
    """A padded batch (T, B, *) ((B, T, *) with batch_first) of sequences of the given
    lengths, packed. With enforce_sorted the lengths must not increase; otherwise the
    sequences are sorted here, longest first, and sorted_indices records how."""
    input = _as_tensor(input)
    if input.ndim < 2:
        raise ValueError("pack_padded_sequence: input is a padded batch (T, B, *), or "
                         f"(B, T, *) with batch_first, got shape {tuple(input.shape)}")
    lengths = _lengths("pack_padded_sequence", lengths)
    steps, batch = input.shape[:2][::-1] if batch_first else input.shape[:2]
    if len(lengths) != batch:
        raise RuntimeError(f"Expected `len(lengths)` to be equal to batch_size, but got "
                           f"{len(lengths)} (batch_size={batch})")
    if batch == 0:
        raise RuntimeError("pack_padded_sequence: Cannot pack empty tensors (no sequences)")
    if enforce_sorted:
        if np.any(lengths[1:] > lengths[:-1]):
            raise RuntimeError(
                "`lengths` array must be sorted in decreasing order when `enforce_sorted` is "
                "True. You can pass `enforce_sorted=False` to pack_padded_sequence and/or "
                "pack_sequence to sidestep this requirement if you do not need ONNX "
                f"exportability. (lengths: {lengths.tolist()})")
        order, sorted_indices = np.arange(batch), None
    else:
        order = np.argsort(-lengths, kind="stable")
        sorted_indices = Tensor(order.astype(np.int64))
    lengths = lengths[order]
    if lengths[-1] <= 0:
        raise RuntimeError("Length of all samples has to be greater than 0, but found an "
                           f"element in 'lengths' that is <= 0 (lengths: {lengths.tolist()})")
    if lengths[0] > steps:
        raise ValueError(f"pack_padded_sequence: a length of {lengths[0]} is more than the "
                         f"input's {steps} time steps")
    # running[t, i]: the i-th longest sequence is still running at step t. Its True places,
    # row by row, are the packed rows in their order.
    running = np.arange(lengths[0])[:, None] < lengths[None, :]
    at_step, ith = np.nonzero(running)
    rows = order[ith]
    data = input[(rows, at_step) if batch_first else (at_step, rows)]
    return PackedSequence(data, Tensor(running.sum(1, dtype=np.int64)), sorted_indices, None)


def pad_packed_sequence(sequence: PackedSequence, batch_first: bool = False,
                        padding_value: float = 0.0,
                        total_length: int | None = None) -> tuple[Tensor, Tensor]:
    """The padded batch (T, B, *) ((B, T, *) with batch_first) a PackedSequence holds, in
    the order the batch had before packing, and its sequences' lengths (int64). T is the
    longest length, or total_length."""
    data = _as_tensor(sequence.data)
    sizes = np.asarray(_raw(sequence.batch_sizes), np.int64)
    steps = len(sizes)
    if total_length is not None:
        if total_length < steps:
            raise ValueError("Expected total_length to be at least the length of the longest "
                             f"sequence in input, but got total_length={total_length} and max "
                             f"sequence length being {steps}")
        steps = total_length
    batch = np.arange(sizes[0])
    lengths = (sizes[None, :] > batch[:, None]).sum(1)
    # index[t, i]: the row of data holding step t of the i-th sequence (the rows of the steps
    # before t, then i), or the padding row after data where that sequence has ended
    index = np.full((steps, len(batch)), len(data))
    index[:len(sizes)] = np.where(batch[None, :] < sizes[:, None],
                                  (np.cumsum(sizes) - sizes)[:, None] + batch[None, :],
                                  len(data))
    if sequence.unsorted_indices is not None:
        order = np.asarray(_raw(sequence.unsorted_indices))
        index, lengths = index[:, order], lengths[order]
    fill = Tensor(np.full((1, *data.shape[1:]), padding_value, data.numpy().dtype))
    padded = cat([data, fill])[index.T if batch_first else index]
    return padded, Tensor(lengths.astype(np.int64))


def unpad_sequence(padded_sequences: Tensor, lengths: Tensor | list[int],
                   batch_first: bool = False) -> list[Tensor]:
    """The sequences of a padded batch (T, B, *) ((B, T, *) with batch_first), each cut to
    its length: a list of B tensors (length, *). (PyTorch's also transposes the padded batch
    in place when not batch_first; this one leaves it as it is.)"""
    padded = _as_tensor(padded_sequences)
    lengths = _lengths("unpad_sequence", lengths).tolist()
    batch = padded.shape[0 if batch_first else 1]
    if len(lengths) != batch:
        raise ValueError(f"unpad_sequence: {len(lengths)} lengths for a batch of {batch} "
                         "sequences")
    return [padded[b, :n] if batch_first else padded[:n, b] for b, n in enumerate(lengths)]


def pack_sequence(sequences: list[Tensor], enforce_sorted: bool = True) -> PackedSequence:
    """A list of sequences (L_i, *) packed: pad_sequence, then pack_padded_sequence."""
    sequences = [_as_tensor(s) for s in sequences]
    padded = pad_sequence(sequences)
    return pack_padded_sequence(padded, [s.shape[0] for s in sequences],
                                enforce_sorted=enforce_sorted)


def unpack_sequence(packed_sequences: PackedSequence) -> list[Tensor]:
    """The list of sequences (L_i, *) a PackedSequence holds, in the order they had before
    packing."""
    padded, lengths = pad_packed_sequence(packed_sequences, batch_first=True)
    return unpad_sequence(padded, lengths, batch_first=True)
