"""What PyTorch code asks a tensor about itself and its memory (`shape`, `dtype`, `size()`,
`numel()`, `is_leaf`, `is_cuda`, `is_inference()`,
`stride()`, `storage_offset()`, `data_ptr()`, ...), views of that memory at any strides
(`as_strided`), the Python callbacks written over each entry (`apply_`, `map_`), the
casts to PyTorch's small int types
(`byte()`, `short()`, `char()`, `bfloat16()`), sliding windows (`unfold`), the
shape-changing in-place ops (`squeeze_`, `unsqueeze_`, `t_`, `transpose_`, `swapaxes_`,
`swapdims_`, `resize_`) and the sampling methods `bernoulli()` and `multinomial()`.

The memory facts read the numpy array: PyTorch's strides count entries where numpy's count
bytes; a tensor whose array is a view of another array has its storage offset measured
from that array's first byte. The engine runs on the CPU only, in ordinary memory.
That array (or the tensor's own, when it views none) is the tensor's storage as
`as_strided` counts it: its result is a numpy view of that array, which the engine knows
as a view of its input, so in-place changes write through (engine/inplace.py).

The methods below are added to Tensor (the end of the file says so).
"""
from __future__ import annotations

import numbers
from typing import Any, Callable

import numpy as np

from engine import dtypes, printing, shapes
from engine.tensor import Tensor, _called, _node, _raw, _recording, add_methods


def _int(value: Any, what: str, op: str) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{op}: {what} must be an int, got {value!r}")
    return int(value)


def _ints(values: Any, what: str) -> tuple:
    if not isinstance(values, (tuple, list)):
        raise TypeError(f"as_strided(): argument '{what}' must be tuple of ints, but got "
                        f"{type(values).__name__}")
    return tuple(_int(v, f"each entry of {what}", "as_strided()") for v in values)


def _refuse_grad(t: Tensor, op: str) -> None:
    """PyTorch's refusal, in any grad mode: a Python callback has no gradient."""
    if t.requires_grad:
        raise RuntimeError(f"Can't call {op}() on Variable that requires grad. Use "
                           f"var.detach().{op}() instead.")


def _called_per_entry(fn: Callable, op: str, *arrays: np.ndarray) -> np.ndarray:
    """fn on the entries of `arrays` (as Python numbers, in their places), each answer a
    real number (a TypeError otherwise), cast to the first array's dtype as PyTorch casts
    (a float answer to an int tensor loses its fraction)."""
    def checked(*xs: Any) -> Any:
        out = fn(*xs)
        if not isinstance(out, numbers.Real):
            raise TypeError(f"{op}: the callable must return a real number, not "
                            f"{type(out).__name__}")
        return out
    answers = np.frompyfunc(checked, len(arrays), 1)(*(a.astype(object) for a in arrays))
    return np.asarray(answers).astype(arrays[0].dtype)


def _storage(data: np.ndarray) -> tuple[np.ndarray, int]:
    """The array holding `data`'s storage (the array it views, else itself) and the entries
    between that array's first byte and data's first entry."""
    base = data.base
    if not isinstance(base, np.ndarray):
        return data, 0
    return base, (data.ctypes.data - base.ctypes.data) // data.itemsize


def as_strided(input: Tensor, size: Any, stride: Any, storage_offset: int | None = None
               ) -> Tensor:
    """A view of input's storage: `size` entries `stride` entries apart from `storage_offset`
    (input's own when None); d input = at each input entry, the g of every output entry at
    its place, summed and shared among the input entries at that place (PyTorch's rule)."""
    size, stride = _ints(size, "size"), _ints(stride, "stride")
    if len(size) != len(stride):
        raise RuntimeError(f"mismatch in length of strides and shape: as_strided got size "
                           f"{list(size)} and stride {list(stride)}")
    data = input._data
    owner, own_offset = _storage(data)
    offset = own_offset if storage_offset is None else _int(storage_offset, "storage_offset",
                                                            "as_strided()")
    if min(stride, default=0) < 0:
        raise RuntimeError(f"as_strided: Negative strides are not supported at the moment, "
                           f"got strides: {list(stride)}")
    if min(size, default=0) < 0:
        raise RuntimeError(f"as_strided: sizes must not be negative, got {list(size)}")
    if offset < 0:
        raise RuntimeError(f"Tensor: invalid storage offset {offset}")
    item, entries = data.itemsize, owner.nbytes // data.itemsize
    empty = 0 in size
    needed = offset + 1 + sum((n - 1) * s for n, s in zip(size, stride))
    if not empty and needed > entries:
        raise RuntimeError(f"setStorage: sizes {list(size)}, strides {list(stride)}, storage "
                           f"offset {offset}, and itemsize {item} requiring a storage size of "
                           f"{needed * item} are out of bounds for storage of size "
                           f"{entries * item}")
    try:
        view = np.ndarray(size, data.dtype, buffer=owner, offset=min(offset, entries) * item,
                          strides=tuple(s * item for s in stride))
    except (TypeError, ValueError, BufferError):
        raise RuntimeError("as_strided: this tensor's memory is not one block of entries "
                           "(numpy's stride tricks made it); call .contiguous() first") from None
    in_geometry = (data.shape, tuple(s // item for s in data.strides), own_offset)

    def rule(g: Any, out: Any, need: list, a: Any) -> tuple:
        return (_as_strided_backward(g, in_geometry, (size, stride, offset)),)
    return _node(view, "as_strided", rule, input)


def _as_strided_backward(g: Any, in_geometry: tuple, out_geometry: tuple) -> Any:
    """The gradient of as_strided, as PyTorch's as_strided_backward: g added up at each
    output entry's storage place, then read at each input entry's place, divided by how
    many input entries share that place."""
    from engine.inplace import strided_positions  # (here: engine.inplace may be loading)
    at_in, at_out = (strided_positions(*geometry) for geometry in (in_geometry, out_geometry))
    places = np.concatenate([at_in.reshape(-1), at_out.reshape(-1)])
    first = places.min() if places.size else 0  # only the span of places met is summed over
    span = places.max(initial=-1) + 1 - first
    summed = shapes._put(g.reshape(-1), np.broadcast_to(np.int8(0), (span,)),
                         at_out.reshape(-1) - first, basic=False)
    grad = summed[at_in - first]
    count = np.bincount(at_in.reshape(-1) - first, minlength=span)
    if count.max(initial=0) > 1:  # input entries share places (an expanded input)
        grad = grad / count[at_in - first].astype(_raw(g).dtype)
    return grad


def as_strided_(input: Tensor, size: Any, stride: Any, storage_offset: int | None = None
                ) -> Tensor:
    """input made, in place, as_strided(input, size, stride, storage_offset)."""
    return input._reshaped_in_place(lambda t: as_strided(t, size, stride, storage_offset),
                                    "as_strided_")


class _Facts:
    """Tensor's memory facts, casts, windows, shape-changing in-place ops and sampling."""

    @property
    def shape(self) -> printing.Size:
        return printing.Size(self._data.shape)

    @property
    def ndim(self) -> int:
        return self._data.ndim

    @property
    def dtype(self) -> dtypes.DType:
        """The entries' dtype, as PyTorch prints it (torch.float32), equal to numpy's."""
        return dtypes.wrap(self._data.dtype)

    @property
    def device(self) -> Any:
        from engine.devices import device
        return device("cpu")

    @property
    def is_leaf(self) -> bool:
        """True for tensors no recorded op made (PyTorch's meaning)."""
        return self._rule is None

    @property
    def retains_grad(self) -> bool:
        return self._retains

    def size(self, dim: int | None = None) -> printing.Size | int:
        """The shape, or the size of one dim, as PyTorch's `size()`."""
        return printing.Size(self._data.shape) if dim is None else self._data.shape[dim]

    def dim(self) -> int:
        return self._data.ndim

    def numel(self) -> int:
        """How many entries."""
        return self._data.size

    nelement = numel

    is_cuda = False
    is_cpu = True
    is_sparse = False  # the engine's tensors are dense numpy arrays

    def is_complex(self) -> bool:
        return False  # numpy holds this engine's numbers as real dtypes only

    def is_signed(self) -> bool:
        """True for floats and signed ints, False for uint8 and bool, as PyTorch's."""
        return self._data.dtype.kind in "fi"

    def is_inference(self) -> bool:
        """True for a tensor made inside `inference_mode()`, or a view of one, as PyTorch's;
        PyTorch's limits on such tensors (no in-place change outside inference_mode, none
        saved for backward) are not enforced here."""
        return self._inference

    def is_pinned(self) -> bool:
        return False

    def is_shared(self) -> bool:
        return False

    def share_memory_(self) -> Tensor:
        return self

    def pin_memory(self) -> Tensor:
        return self

    def is_same_size(self, other: Tensor) -> bool:
        if not isinstance(other, Tensor):
            raise TypeError(f"is_same_size expects a Tensor, got {type(other).__name__}")
        return self._data.shape == other._data.shape

    def get_device(self) -> int:
        """-1: PyTorch's answer for a CPU tensor."""
        return -1

    def ndimension(self) -> int:
        return self._data.ndim

    def stride(self, dim: int | None = None) -> Any:
        """Entries (not bytes, as numpy counts) to step to the next index along each dim."""
        strides = tuple(s // self._data.itemsize for s in self._data.strides)
        if dim is None:
            return strides
        d = _int(dim, "dim", "stride")
        if not -len(strides) <= d < max(len(strides), 1) or not strides:
            raise IndexError(f"stride: dim {dim} is out of range for a tensor of "
                             f"{self._data.ndim} dims")
        return strides[d]

    def storage_offset(self) -> int:
        """Entries between the start of the array this tensor views (0 if it views none)
        and its first entry."""
        return _storage(self._data)[1]

    def data_ptr(self) -> int:
        """The address of the first entry: two tensors that share it share memory."""
        return self._data.ctypes.data

    def apply_(self, callable: Callable[[Any], Any]) -> Tensor:
        """callable(x) written over each entry x, in place, as PyTorch's (CPU-only) apply_: x
        a Python number; one Python call per entry, so for small tensors and tests."""
        _refuse_grad(self, "apply_")
        np.copyto(self._data, _called_per_entry(callable, "apply_", self._data))
        self._changed()
        return self

    def map_(self, tensor: Tensor, callable: Callable[[Any, Any], Any]) -> Tensor:
        """callable(x, y) written over each entry x, y the entry of `tensor` (of this dtype,
        broadcast to this shape) in its place, in place, as PyTorch's (CPU-only) map_."""
        if not isinstance(tensor, Tensor):
            raise TypeError(f"map_: 'tensor' must be a Tensor, got {type(tensor).__name__}")
        for t in (self, tensor):
            _refuse_grad(t, "map_")
        if tensor._data.dtype != self._data.dtype:
            raise TypeError(f"map_: expected a {self.dtype} tensor for 'other' (got "
                            f"{tensor.dtype}); convert it with .to({self.dtype}) first")
        try:
            other = np.broadcast_to(tensor._data, self._data.shape)
        except ValueError:
            raise RuntimeError(f"map_: 'tensor' of shape {tuple(tensor.shape)} does not expand "
                               f"to this tensor's shape {tuple(self.shape)}") from None
        np.copyto(self._data, _called_per_entry(callable, "map_", self._data, other))
        self._changed()
        return self

    def byte(self) -> Tensor:
        return self._cast(np.uint8)

    def char(self) -> Tensor:
        return self._cast(np.int8)

    def short(self) -> Tensor:
        return self._cast(np.int16)

    def bfloat16(self) -> Tensor:
        """A TypeError: numpy has no bfloat16 to hold the numbers in."""
        return self._cast(dtypes.bfloat16)

    def unfold(self, dimension: int, size: int, step: int) -> Tensor:
        """Windows of `size` entries, `step` apart, along `dimension`: that dim becomes the
        window count and the windows' entries a new last dim, as PyTorch's `unfold`.
        Composed from indexing, so the gradient adds each window's part back."""
        size, step = _int(size, "size", "unfold"), _int(step, "step", "unfold")
        if self._data.ndim == 0:
            if dimension not in (0, -1) or size > 1 or step < 1:
                raise IndexError(f"unfold: a 0-d tensor takes dimension 0 and size at most "
                                 f"1, got dimension={dimension}, size={size}")
            return _called(self.reshape(1)[:size], "unfold")
        d = _int(dimension, "dimension", "unfold")
        n = self._data.ndim
        if not -n <= d < n:
            raise IndexError(f"unfold: dimension {dimension} is out of range for a tensor of "
                             f"{n} dims")
        d %= n
        length = self._data.shape[d]
        if size < 0 or size > length:
            raise RuntimeError(f"unfold: size {size} must be between 0 and the length "
                               f"{length} of dimension {d}")
        if step <= 0:
            raise RuntimeError(f"unfold: step must be positive, got {step}")
        starts = np.arange(0, length - size + 1, step)
        windows = starts[:, None] + np.arange(size)
        moved = self.movedim(d, -1)[..., windows]
        return _called(moved.movedim(-2, d), "unfold")

    def _reshaped_in_place(self, fn: Callable[[Tensor], Tensor], op: str) -> Tensor:
        """self = fn(self), fn a view op that changes the shape: in the graph this tensor
        becomes fn's result node; outside it, its array becomes the view."""
        if self.requires_grad and _recording():
            self._check_in_place(op)
            old = self._snapshot(copy=False)
            # _take, not _become: its shape changes, not its numbers, so no base takes them
            self._take(fn(old), old, None)
            return self
        self._data = fn(self.detach())._data
        self._changed()
        return self

    def squeeze_(self, dim: Any = None) -> Tensor:
        return self._reshaped_in_place(lambda t: t.squeeze(dim), "squeeze_")

    def unsqueeze_(self, dim: int) -> Tensor:
        return self._reshaped_in_place(lambda t: t.unsqueeze(dim), "unsqueeze_")

    def t_(self) -> Tensor:
        return self._reshaped_in_place(lambda t: t.t(), "t_")

    def transpose_(self, dim0: int, dim1: int) -> Tensor:
        return self._reshaped_in_place(lambda t: t.transpose(dim0, dim1), "transpose_")

    def swapaxes_(self, axis0: int, axis1: int) -> Tensor:
        return self.transpose_(axis0, axis1)

    def swapdims_(self, dim0: int, dim1: int) -> Tensor:
        return self.transpose_(dim0, dim1)

    def resize_(self, *sizes: Any) -> Tensor:
        """A new shape of as many entries, read in memory order; PyTorch's growing or
        shrinking of the storage is not supported."""
        if len(sizes) == 1 and isinstance(sizes[0], (tuple, list)):
            sizes = tuple(sizes[0])
        shape = tuple(_int(s, "each size", "resize_") for s in sizes)
        if self.requires_grad:
            raise RuntimeError("resize_: cannot resize a tensor that requires grad (as in "
                               "PyTorch); use reshape, or resize .detach()")
        if int(np.prod(shape)) != self._data.size or min(shape, default=0) < 0:
            raise RuntimeError(f"resize_: this engine only resizes to the same number of "
                               f"entries ({self._data.size}), got shape {shape}; make a new "
                               "tensor (engine.empty) to grow or shrink")
        array = self._data if self._data.flags.c_contiguous else self._data.ravel(order="K")
        self._data = array.reshape(shape)
        self._changed()
        return self

    def bernoulli(self, p: float | None = None, *, generator: Any = None) -> Tensor:
        """engine.bernoulli(self, p, generator=generator)."""
        from engine.random import bernoulli
        return bernoulli(self, p, generator=generator)

    def multinomial(self, num_samples: int, replacement: bool = False, *,
                    generator: Any = None) -> Tensor:
        """engine.multinomial(self, ...)."""
        from engine.random import multinomial
        return multinomial(self, num_samples, replacement, generator=generator)


Tensor.as_strided, Tensor.as_strided_ = as_strided, as_strided_
add_methods(Tensor, _Facts)
