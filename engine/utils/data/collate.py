"""Collation, as torch.utils.data._utils.collate: how a DataLoader makes one batch of a
list of samples (default_collate), or converts one sample when it does not batch
(default_convert)."""
from __future__ import annotations

import copy
from collections.abc import Mapping, MutableMapping, MutableSequence, Sequence
from typing import Any

import numpy as np

from engine import Tensor, stack, tensor
from engine.dtypes import result_dtype

__all__ = ["default_collate", "default_convert"]

_CANNOT_COLLATE = ("default_collate: batch must contain tensors, numpy arrays, numbers, dicts "
                   "or lists; found {} (pass a collate_fn of your own for it)")

def default_collate(batch: list) -> Any:
    """A list of samples as one batch, as torch's default_collate.

    Tensors, numpy arrays and numbers are stacked into one Tensor with a new first dim
    (Python floats become float64, ints int64, bools bool); dicts, namedtuples, tuples and
    lists are collated field by field, keeping their type, except that a tuple becomes a
    list, as in PyTorch; strings and bytes stay a list.
    """
    elem = batch[0]
    if isinstance(elem, Tensor):
        return stack(batch)
    if isinstance(elem, np.ndarray):
        if elem.dtype.kind not in "biuf":  # strings, objects
            raise TypeError(_CANNOT_COLLATE.format(f"numpy arrays of dtype {elem.dtype}"))
        return stack([Tensor(b, dtype=b.dtype) for b in batch])
    if isinstance(elem, (np.bool_, np.number)):  # in the dtype PyTorch's promotion gives
        # them (int64 and float32: float32, where numpy's would be float64)
        dtype = result_dtype([np.asarray(b).dtype for b in batch], [], [])
        return Tensor(np.asarray(batch, dtype), dtype=dtype)
    if isinstance(elem, float):
        return tensor(batch, dtype=np.float64)
    if isinstance(elem, int):  # bool is an int too: a batch of bools stays bool, as in PyTorch
        return tensor(batch)
    if isinstance(elem, (str, bytes)):
        return batch
    if isinstance(elem, Mapping):
        return _rebuilt(elem, {key: default_collate([s[key] for s in batch]) for key in elem})
    if isinstance(elem, tuple) and hasattr(elem, "_fields"):  # a namedtuple
        return type(elem)(*(default_collate(field) for field in zip(*batch)))
    if isinstance(elem, Sequence):
        lengths = {len(sample) for sample in batch}
        if len(lengths) > 1:
            raise RuntimeError(f"default_collate: each sample in a batch must have the same "
                               f"length, got lengths {sorted(lengths)}")
        fields = [default_collate(field) for field in zip(*batch)]
        return fields if isinstance(elem, tuple) else _rebuilt(elem, fields)
    raise TypeError(_CANNOT_COLLATE.format(type(elem).__name__))


def default_convert(data: Any) -> Any:
    """One sample with its numpy arrays as Tensors, through dicts, tuples and lists, as torch's
    default_convert: what a DataLoader with batch_size=None applies to what the dataset gives."""
    if isinstance(data, Tensor):  # first: the Sequence check below is an ABC's, and slow
        return data
    if isinstance(data, (np.ndarray, np.bool_, np.number)):
        if data.dtype.kind not in "biuf":  # strings and objects stay as they are, as in PyTorch
            return data
        return Tensor(data, dtype=data.dtype)
    if isinstance(data, Mapping):
        return _rebuilt(data, {key: default_convert(value) for key, value in data.items()})
    if isinstance(data, tuple) and hasattr(data, "_fields"):
        return type(data)(*(default_convert(d) for d in data))
    if isinstance(data, tuple):
        return [default_convert(d) for d in data]
    if isinstance(data, Sequence) and not isinstance(data, (str, bytes)):
        return _rebuilt(data, [default_convert(d) for d in data])
    return data


def _rebuilt(elem: Any, values: dict | list) -> Any:
    """values (a dict, or a list) in elem's own container type, as PyTorch rebuilds them: a
    mutable container is copied and updated, so a subclass keeps its other attributes."""
    try:
        if isinstance(elem, MutableMapping):
            clone = copy.copy(elem)
            clone.update(values)
            return clone
        if isinstance(elem, MutableSequence):
            clone = copy.copy(elem)
            for i, value in enumerate(values):
                clone[i] = value
            return clone
        return type(elem)(values)
    except TypeError:  # a type that cannot be copied, updated or built from values (range)
        return values
