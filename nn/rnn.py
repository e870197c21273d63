"""Recurrent layers, as torch.nn's: RNN, LSTM and GRU over whole sequences, and the cells
RNNCell, LSTMCell and GRUCell that take one step.

They are composites of engine ops (F.linear, sigmoid, tanh, relu, chunk, stack, cat), so
their gradients need no rules of their own. Each layer and direction projects the input of
every time step at once (one matmul, `F.linear` over the whole sequence); only the
recurrence through the hidden state loops over time.

The layers take a PackedSequence (nn.utils.rnn) as PyTorch's do: the recurrence runs over
its time steps with the batch shrinking as sequences end (batch_sizes[t] rows at step t),
so h_n and c_n hold each sequence's state after its own last step, and the reverse
direction starts each sequence at its own last entry. The initial states are given, and
h_n returned, in the caller's order of the sequences (sorted_indices and unsorted_indices
map it to the packed order and back); the output is a PackedSequence packed as the input
is. A padded batch runs the same way, as a packed one whose sequences all have its length.

Everything PyTorch fixes is kept: argument names and defaults, the parameters' names,
shapes and order in `state_dict()` (`weight_ih_l0`, `weight_hh_l0`, `bias_ih_l0`,
`bias_hh_l0`, then `..._l0_reverse` for the reverse direction, `weight_hr_l0` for LSTM's
projection), the gate order (i, f, g, o for LSTM; r, z, n for GRU, with
n = tanh(W_in x + b_in + r * (W_hn h + b_hn))), the initialisation (every parameter
uniform in [-1/sqrt(hidden_size), 1/sqrt(hidden_size)], drawn in PyTorch's order from the
engine's generator, so a seeded layer holds PyTorch's very numbers), the shapes of input,
output and states, and the dropout between layers (F.dropout, PyTorch's masks).
"""
from __future__ import annotations

import math
import warnings
from typing import Any, Callable, Sequence

import numpy as np

from engine.shapes import cat, stack
from engine.tensor import Tensor, _as_tensor, _raw
from nn import functional as F
from nn import init
from nn.layers import _empty, _size
from nn.module import Module
from nn.parameter import Parameter
from nn.utils.rnn import PackedSequence

State = tuple  # (h,) for RNN and GRU, (h, c) for LSTM
Weights = Sequence  # (w_ih, w_hh, b_ih, b_hh, w_hr), each None where absent


# --- one time step: gi is the input's projection (W_ih x + b_ih) for that step ---

def _tanh_step(gi: Tensor, state: State, w: Weights) -> State:
    """h' = tanh(W_ih x + b_ih + W_hh h + b_hh)."""
    return ((gi + F.linear(state[0], w[1], w[3])).tanh(),)


def _relu_step(gi: Tensor, state: State, w: Weights) -> State:
    """h' = relu(W_ih x + b_ih + W_hh h + b_hh)."""
    return ((gi + F.linear(state[0], w[1], w[3])).relu(),)


def _lstm_step(gi: Tensor, state: State, w: Weights) -> State:
    """Gates i, f, g, o; c' = f c + i g, h' = o tanh(c') (times W_hr with a projection)."""
    h, c = state
    i, f, g, o = (gi + F.linear(h, w[1], w[3])).chunk(4, -1)
    c = f.sigmoid() * c + i.sigmoid() * g.tanh()
    h = o.sigmoid() * c.tanh()
    return (h if w[4] is None else F.linear(h, w[4]), c)


def _gru_step(gi: Tensor, state: State, w: Weights) -> State:
    """r, z = sigmoid(W_i x + b_i + W_h h + b_h), n = tanh(W_in x + b_in + r (W_hn h + b_hn)),
    h' = (1 - z) n + z h."""
    h = state[0]
    size = h.shape[-1]
    gh = F.linear(h, w[1], w[3])
    gi_rz, gi_n = gi.split([2 * size, size], -1)
    gh_rz, gh_n = gh.split([2 * size, size], -1)
    r, z = (gi_rz + gh_rz).sigmoid().chunk(2, -1)
    n = (gi_n + r * gh_n).tanh()
    return (n + z * (h - n),)


_STEPS: dict[str, tuple[int, Callable[[Tensor, State, Weights], State]]] = {
    "RNN_TANH": (1, _tanh_step), "RNN_RELU": (1, _relu_step),
    "LSTM": (4, _lstm_step), "GRU": (3, _gru_step)}


def _rnn_mode(nonlinearity: str) -> str:
    if nonlinearity not in ("tanh", "relu"):
        raise ValueError(f"Unknown nonlinearity '{nonlinearity}'. Select from 'tanh' or 'relu'.")
    return f"RNN_{nonlinearity.upper()}"


def _pieces(x: Tensor, sizes: list[int]) -> list[Tensor]:
    """x cut along dim 0 into consecutive pieces of the given sizes (one per time step).
    Halves first: a slice's gradient fills an array of its input's shape, so L slices of the
    whole tensor would cost O(L^2) in the backward pass; slicing halves of halves costs
    O(L log L)."""
    if len(sizes) <= 4:
        return list(x.split(sizes))
    half = len(sizes) // 2
    cut = sum(sizes[:half])
    return _pieces(x[:cut], sizes[:half]) + _pieces(x[cut:], sizes[half:])


def _rows(state: State, rows: slice) -> State:
    """Those rows (sequences) of every part of a state."""
    return tuple(part[rows] for part in state)


def _tensor(owner: str, what: str, x: Any) -> Tensor:
    """x as a Tensor; a tuple or list (a PackedSequence where it cannot go, say) is
    refused."""
    if isinstance(x, (tuple, list)):
        raise TypeError(f"{owner} takes {what} as one Tensor, got a {type(x).__name__}")
    return _as_tensor(x)


def _check_state(owner: str, name: str, h: Any, shape: tuple) -> Tensor:
    h = _tensor(owner, name, h)
    if tuple(h.shape) != shape:
        raise RuntimeError(f"{owner}: expected {name} of size {shape}, got {tuple(h.shape)}")
    return h


class _Recurrent(Module):
    """What the layers and cells share: their sizes, bias and PyTorch's initialisation."""

    def _setup(self, mode: str, input_size: int, hidden_size: int, bias: bool) -> None:
        owner = type(self).__name__
        self.mode = mode
        self.input_size = _size(owner, "input_size", input_size)
        self.hidden_size = _size(owner, "hidden_size", hidden_size)
        self.bias = bool(bias)

    def _input(self, input: Any, batched_ndim: int) -> Tensor:
        """input as a Tensor of batched_ndim dims or one fewer (unbatched), of input_size
        features."""
        owner = type(self).__name__
        x = _tensor(owner, "input", input)
        if x.ndim not in (batched_ndim - 1, batched_ndim):
            raise ValueError(f"{owner}: Expected input to be {batched_ndim - 1}D or "
                             f"{batched_ndim}D, got {x.ndim}D tensor of shape {tuple(x.shape)} "
                             "instead")
        if x.shape[-1] != self.input_size:
            raise RuntimeError(f"{owner}: input.size(-1) must be equal to input_size. Expected "
                               f"{self.input_size}, got {x.shape[-1]} (input of shape "
                               f"{tuple(x.shape)})")
        return x

    def reset_parameters(self) -> None:
        """PyTorch's initialisation: every parameter uniform in [-1/sqrt(hidden_size),
        1/sqrt(hidden_size)], drawn in order from the engine's generator."""
        bound = 1.0 / math.sqrt(self.hidden_size)
        for weight in self.parameters():
            init.uniform_(weight, -bound, bound)


class RNNBase(_Recurrent):
    """A stack of num_layers recurrent layers, each one or two directions (bidirectional);
    RNN, LSTM and GRU choose the step (`mode`)."""

    def __init__(self, mode: str, input_size: int, hidden_size: int, num_layers: int = 1,
                 bias: bool = True, batch_first: bool = False, dropout: float = 0.0,
                 bidirectional: bool = False, proj_size: int = 0, device: Any = None,
                 dtype: Any = None) -> None:
        owner = type(self).__name__
        self._setup(mode, input_size, hidden_size, bias)
        self.num_layers = _size(owner, "num_layers", num_layers)
        if isinstance(dropout, bool) or not isinstance(dropout, (int, float)) or not (
                0 <= dropout <= 1):
            raise ValueError("dropout should be a number in range [0, 1] representing the "
                             f"probability of an element being zeroed, got {dropout!r}")
        if dropout > 0 and num_layers == 1:
            warnings.warn("dropout option adds dropout after all but last recurrent layer, so "
                          "non-zero dropout expects num_layers greater than 1, but got "
                          f"dropout={dropout} and num_layers={num_layers}", stacklevel=3)
        if proj_size and mode != "LSTM":
            raise ValueError("proj_size argument is only supported for LSTM, not RNN or GRU")
        if not isinstance(proj_size, (int, np.integer)) or proj_size < 0:
            raise ValueError(f"proj_size should be a non-negative int, got {proj_size!r}")
        if proj_size >= hidden_size:
            raise ValueError(f"proj_size ({proj_size}) has to be smaller than hidden_size "
                             f"({hidden_size})")
        self.batch_first = bool(batch_first)
        self.dropout = float(dropout)
        self.bidirectional = bool(bidirectional)
        self.proj_size = int(proj_size)
        gates, _ = _STEPS[mode]
        out = self.proj_size or self.hidden_size
        self._flat_weights_names: list[str] = []
        for layer in range(self.num_layers):
            layer_input = self.input_size if layer == 0 else out * self.num_directions
            for direction in range(self.num_directions):
                suffix = f"_l{layer}" + ("_reverse" if direction else "")
                shapes = {"weight_ih": (gates * hidden_size, layer_input),
                          "weight_hh": (gates * hidden_size, out)}
                if self.bias:
                    shapes.update(bias_ih=(gates * hidden_size,), bias_hh=(gates * hidden_size,))
                if self.proj_size:
                    shapes["weight_hr"] = (self.proj_size, hidden_size)
                for name, shape in shapes.items():
                    setattr(self, name + suffix, Parameter(_empty(shape, dtype, device)))
                    self._flat_weights_names.append(name + suffix)
        self.reset_parameters()

    @property
    def num_directions(self) -> int:
        return 2 if self.bidirectional else 1

    def flatten_parameters(self) -> None:
        """PyTorch packs its weights for cuDNN here; these are used as they are."""

    @property
    def _flat_weights(self) -> list[Parameter]:
        """The parameters in PyTorch's order: layer by layer, each direction's in turn."""
        return [getattr(self, name) for name in self._flat_weights_names]

    @property
    def all_weights(self) -> list[list[Parameter]]:
        """The parameters of each layer and direction, as PyTorch's: [[weight_ih_l0,
        weight_hh_l0, bias_ih_l0, bias_hh_l0], ...]."""
        per = len(self._flat_weights_names) // (self.num_layers * self.num_directions)
        weights = self._flat_weights
        return [weights[i:i + per] for i in range(0, len(weights), per)]

    def _weights(self, layer: int, direction: int) -> Weights:
        suffix = f"_l{layer}" + ("_reverse" if direction else "")
        return tuple(getattr(self, name + suffix, None) for name in (
            "weight_ih", "weight_hh", "bias_ih", "bias_hh", "weight_hr"))

    def _initial_states(self, hx: Any, n: int, dtype: Any, batched: bool) -> list[State]:
        """One state per layer and direction for n sequences, from hx (checked) or zeros."""
        owner, count = type(self).__name__, self.num_layers * self.num_directions
        sizes = [self.proj_size or self.hidden_size]
        names = ["hx"]
        if self.mode == "LSTM":
            sizes.append(self.hidden_size)
            names = ["hx[0] (h_0)", "hx[1] (c_0)"]
        if hx is None:
            return [tuple(Tensor(np.zeros((n, size), dtype)) for size in sizes)] * count
        if self.mode == "LSTM":
            if not isinstance(hx, (tuple, list)) or len(hx) != 2:
                raise TypeError(f"LSTM's hx is a tuple (h_0, c_0), got {type(hx).__name__}")
            parts = list(hx)
        else:
            parts = [hx]
        states = []
        for part, name, size in zip(parts, names, sizes):
            part = _tensor(owner, name, part)
            if part.ndim != (3 if batched else 2):
                raise RuntimeError(
                    f"{owner}: for {'batched 3' if batched else 'unbatched 2'}-D input, {name} "
                    f"should also be {3 if batched else 2}-D but got {part.ndim}-D tensor")
            if not batched:
                part = part.unsqueeze(1)
            expected = (count, n, size)
            if tuple(part.shape) != expected:
                shown = expected if batched else (count, size)
                got = tuple(part.shape) if batched else tuple(part.shape[::2])
                raise RuntimeError(f"{owner}: Expected {name} of size {shown}, got {got}")
            states.append(part.unbind(0))
        return list(zip(*states))

    def _run(self, x: Tensor, batch_sizes: list[int], state: State, w: Weights,
             reverse: bool) -> tuple[Tensor, State]:
        """One layer in one direction over packed x (sum(batch_sizes), H_in), whose step t
        holds the first batch_sizes[t] sequences: its outputs (sum(batch_sizes), H_out) and
        each sequence's state after its last step (after its first, in reverse)."""
        _, step = _STEPS[self.mode]
        inputs = _pieces(F.linear(x, w[0], w[2]), batch_sizes)
        outputs: list = [None] * len(inputs)
        if reverse:
            # Each sequence starts at its own last step, so going back in time the batch
            # grows: the sequences that join start from their initial states.
            initial, state = state, _rows(state, slice(batch_sizes[-1]))
            for t in reversed(range(len(inputs))):
                running = state[0].shape[0]
                if batch_sizes[t] > running:
                    joining = _rows(initial, slice(running, batch_sizes[t]))
                    state = tuple(cat([part, new]) for part, new in zip(state, joining))
                state = step(inputs[t], state, w)
                outputs[t] = state[0]
            return cat(outputs), state
        # The sequences that end leave the batch (its last rows: the shortest come last),
        # their states set aside as final; those that end later sit in earlier rows.
        ended: list[State] = []
        for t in range(len(inputs)):
            if batch_sizes[t] < state[0].shape[0]:
                ended.insert(0, _rows(state, slice(batch_sizes[t], None)))
                state = _rows(state, slice(batch_sizes[t]))
            state = step(inputs[t], state, w)
            outputs[t] = state[0]
        if ended:
            state = tuple(cat([part, *(rows[k] for rows in ended)])
                          for k, part in enumerate(state))
        return cat(outputs), state

    def _layers(self, x: Tensor, batch_sizes: list[int],
                states: list[State]) -> tuple[Tensor, list[Tensor]]:
        """Every layer and direction over packed x: the last layer's output and the final
        states, stacked ([h_n] or [h_n, c_n], each (D * num_layers, N, ...))."""
        last = []
        for layer in range(self.num_layers):
            outputs = []
            for direction in range(self.num_directions):
                index = layer * self.num_directions + direction
                out, state = self._run(x, batch_sizes, states[index],
                                       self._weights(layer, direction), reverse=direction == 1)
                outputs.append(out)
                last.append(state)
            x = cat(outputs, -1) if self.bidirectional else outputs[0]
            if self.dropout and self.training and layer < self.num_layers - 1:
                x = F.dropout(x, self.dropout, True)
        return x, [stack(list(parts)) for parts in zip(*last)]

    def _packed(self, input: PackedSequence, hx: Any) -> tuple[PackedSequence, Any]:
        """forward for a PackedSequence: its data (sum of lengths, H_in) through the layers."""
        x = self._input(input.data, 2)
        if x.ndim != 2:
            raise RuntimeError(f"{type(self).__name__}: a PackedSequence's data must have 2 "
                               f"dimensions (sum of the lengths, input_size), got {x.ndim}")
        batch_sizes = np.asarray(_raw(input.batch_sizes)).tolist()
        states = self._initial_states(hx, batch_sizes[0], x.dtype, True)
        if hx is not None and input.sorted_indices is not None:
            # hx is in the caller's order of the sequences, the packed rows longest first
            order = np.asarray(_raw(input.sorted_indices))
            states = [tuple(part[order] for part in state) for state in states]
        out, finals = self._layers(x, batch_sizes, states)
        if input.unsorted_indices is not None:
            order = np.asarray(_raw(input.unsorted_indices))
            finals = [h[:, order] for h in finals]
        output = PackedSequence(out, input.batch_sizes, input.sorted_indices,
                                input.unsorted_indices)
        return output, (tuple(finals) if self.mode == "LSTM" else finals[0])

    def forward(self, input: Any, hx: Any = None) -> tuple[Any, Any]:
        """input (L, N, H_in), (N, L, H_in) with batch_first, (L, H_in) unbatched, or a
        PackedSequence -> output (L, N, D * H_out) laid out as the input is (a
        PackedSequence for one), and h_n (D * num_layers, N, H_out), (h_n, c_n) for LSTM."""
        if isinstance(input, PackedSequence):
            return self._packed(input, hx)
        x = self._input(input, 3)
        batched = x.ndim == 3
        if not batched:
            x = x.unsqueeze(1)
        elif self.batch_first:
            x = x.transpose(0, 1)
        steps, n, features = x.shape
        states = self._initial_states(hx, n, x.dtype, batched)
        # a padded batch runs as a packed one whose n sequences all last every step
        out, finals = self._layers(x.reshape(steps * n, features), [n] * steps, states)
        out = out.reshape(steps, n, out.shape[-1])
        if not batched:
            out = out.squeeze(1)
            finals = [h.squeeze(1) for h in finals]
        elif self.batch_first:
            out = out.transpose(0, 1)
        return out, (tuple(finals) if self.mode == "LSTM" else finals[0])

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}"
        if self.proj_size:
            s += f", proj_size={self.proj_size}"
        if self.num_layers != 1:
            s += f", num_layers={self.num_layers}"
        if not self.bias:
            s += ", bias=False"
        if self.batch_first:
            s += ", batch_first=True"
        if self.dropout:
            s += f", dropout={self.dropout}"
        if self.bidirectional:
            s += ", bidirectional=True"
        return s


class RNN(RNNBase):
    """Elman RNN: h_t = tanh(W_ih x_t + b_ih + W_hh h_(t-1) + b_hh) (or relu)."""

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1,
                 nonlinearity: str = "tanh", bias: bool = True, batch_first: bool = False,
                 dropout: float = 0.0, bidirectional: bool = False, device: Any = None,
                 dtype: Any = None) -> None:
        self.nonlinearity = nonlinearity
        super().__init__(_rnn_mode(nonlinearity), input_size, hidden_size, num_layers, bias,
                         batch_first, dropout, bidirectional, device=device, dtype=dtype)


class LSTM(RNNBase):
    """Long short-term memory: gates i, f, g, o; c_t = f c_(t-1) + i g, h_t = o tanh(c_t)
    (projected to proj_size by weight_hr when proj_size > 0)."""

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1,
                 bias: bool = True, batch_first: bool = False, dropout: float = 0.0,
                 bidirectional: bool = False, proj_size: int = 0, device: Any = None,
                 dtype: Any = None) -> None:
        super().__init__("LSTM", input_size, hidden_size, num_layers, bias, batch_first,
                         dropout, bidirectional, proj_size, device, dtype)


class GRU(RNNBase):
    """Gated recurrent unit: gates r, z, n; n = tanh(W_in x + b_in + r (W_hn h + b_hn)),
    h_t = (1 - z) n + z h_(t-1)."""

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1,
                 bias: bool = True, batch_first: bool = False, dropout: float = 0.0,
                 bidirectional: bool = False, device: Any = None, dtype: Any = None) -> None:
        super().__init__("GRU", input_size, hidden_size, num_layers, bias, batch_first,
                         dropout, bidirectional, device=device, dtype=dtype)


class RNNCellBase(_Recurrent):
    """One step of a recurrent layer: weight_ih, weight_hh, bias_ih, bias_hh, each of
    num_chunks blocks of hidden_size rows (PyTorch's signature, so a cell of one's own can
    subclass it and write its forward)."""

    mode: str | None = None  # which of _STEPS the cells below take their step from

    def __init__(self, input_size: int, hidden_size: int, bias: bool, num_chunks: int,
                 device: Any = None, dtype: Any = None) -> None:
        self._setup(self.mode, input_size, hidden_size, bias)
        rows = num_chunks * self.hidden_size
        self.weight_ih = Parameter(_empty((rows, self.input_size), dtype, device))
        self.weight_hh = Parameter(_empty((rows, self.hidden_size), dtype, device))
        self.bias_ih = self.bias_hh = None  # (as PyTorch's, without bias)
        if self.bias:
            self.bias_ih = Parameter(_empty((rows,), dtype, device))
            self.bias_hh = Parameter(_empty((rows,), dtype, device))
        self.reset_parameters()

    def _step(self, input: Any, hx: Any) -> State:
        """input (N, H_in) or (H_in,) and hx (h, or (h, c) for LSTMCell; zeros if None) ->
        the next state, batched as the input is."""
        owner = type(self).__name__
        x = self._input(input, 2)
        batched = x.ndim == 2
        if not batched:
            x = x.unsqueeze(0)
        expected = (x.shape[0], self.hidden_size)
        count = 2 if self.mode == "LSTM" else 1
        if hx is None:
            state = tuple(Tensor(np.zeros(expected, x.dtype)) for _ in range(count))
        else:
            if self.mode == "LSTM" and (not isinstance(hx, (tuple, list)) or len(hx) != 2):
                raise TypeError(f"LSTMCell's hx is a tuple (h_0, c_0), got {type(hx).__name__}")
            parts = hx if self.mode == "LSTM" else (hx,)
            names = ["hx[0] (h_0)", "hx[1] (c_0)"] if count == 2 else ["hx"]
            state = tuple(_check_state(owner, name, part, expected if batched else expected[1:])
                          for name, part in zip(names, parts))
            if not batched:
                state = tuple(h.unsqueeze(0) for h in state)
        w = (self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh, None)
        state = _STEPS[self.mode][1](F.linear(x, w[0], w[2]), state, w)
        return state if batched else tuple(h.squeeze(0) for h in state)

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}"
        if not self.bias:
            s += ", bias=False"
        if getattr(self, "nonlinearity", "tanh") != "tanh":
            s += f", nonlinearity={self.nonlinearity}"
        return s


class RNNCell(RNNCellBase):
    """h' = tanh(W_ih x + b_ih + W_hh h + b_hh) (or relu)."""

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True,
                 nonlinearity: str = "tanh", device: Any = None, dtype: Any = None) -> None:
        self.nonlinearity, self.mode = nonlinearity, _rnn_mode(nonlinearity)
        super().__init__(input_size, hidden_size, bias, 1, device, dtype)

    def forward(self, input: Any, hx: Any = None) -> Tensor:
        return self._step(input, hx)[0]


class LSTMCell(RNNCellBase):
    """One LSTM step: returns (h', c')."""

    mode = "LSTM"

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True,
                 device: Any = None, dtype: Any = None) -> None:
        super().__init__(input_size, hidden_size, bias, 4, device, dtype)

    def forward(self, input: Any, hx: Any = None) -> tuple[Tensor, Tensor]:
        return self._step(input, hx)


class GRUCell(RNNCellBase):
    """One GRU step: returns h'."""

    mode = "GRU"

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True,
                 device: Any = None, dtype: Any = None) -> None:
        super().__init__(input_size, hidden_size, bias, 3, device, dtype)

    def forward(self, input: Any, hx: Any = None) -> Tensor:
        return self._step(input, hx)[0]
