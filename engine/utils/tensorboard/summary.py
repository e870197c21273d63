"""The `Summary` protobufs SummaryWriter logs, as torch.utils.tensorboard.summary makes them:
scalars, text, histograms and the hparams plugin's three messages, each returned encoded
(engine/utils/tensorboard/records.py), field for field what PyTorch's would serialize to.

Field numbers are those of TensorBoard's summary.proto, tensor.proto and the hparams
plugin's api.proto and plugin_data.proto.
"""
from __future__ import annotations

import functools
from typing import Any

import numpy as np

from engine.utils.tensorboard.records import (double, integer, length_delimited,
                                              packed_doubles, packed_singles, single)

__all__ = ["scalar", "text", "histogram", "hparams"]

_DT_FLOAT, _DT_DOUBLE, _DT_STRING = 1, 2, 7  # TensorProto's dtypes
_STRING, _FLOAT64 = 1, 3  # the hparams plugin's DataType (numbers and bools are FLOAT64)
_STATUS_SUCCESS = 1


def make_np(x: Any, who: str) -> np.ndarray:
    """x as a numpy array, as torch's make_np: arrays as they are, numbers as one-element
    arrays, tensors (ours, or anything with __array__) as their values; anything else is a
    TypeError that says what to pass (PyTorch raises a bare NotImplementedError there)."""
    if isinstance(x, np.ndarray):
        return x
    if np.isscalar(x):
        return np.array([x])
    if hasattr(x, "__array__"):
        return np.asarray(x.detach() if hasattr(x, "detach") else x)
    raise TypeError(f"{who}: got {type(x).__name__}, but a number, numpy array or tensor is "
                    "expected (log a loss as loss.item())")


def _value(tag: str, content: bytes, metadata: bytes = b"") -> bytes:
    """A Summary holding one Summary.Value: tag (1), its content field, metadata (9)."""
    if not isinstance(tag, str):
        raise TypeError(f"a TensorBoard tag must be a str, got {type(tag).__name__}")
    value = length_delimited(1, tag) + content + (
        length_delimited(9, metadata, always=True) if metadata else b"")
    return length_delimited(1, value, always=True)


def _plugin(name: str, content: bytes = b"") -> bytes:
    """SummaryMetadata naming the plugin that shows the value: plugin_data (1) = PluginData
    {plugin_name (1), content (2)}."""
    return length_delimited(1, length_delimited(1, name) + length_delimited(2, content),
                            always=True)


def scalar(tag: str, value: Any, new_style: bool = False,
           double_precision: bool = False) -> bytes:
    """One number: as simple_value (a float32), or with new_style as a scalars-plugin tensor
    (float32, or float64 with double_precision)."""
    array = make_np(value, f"add_scalar({tag!r})").squeeze()
    if array.ndim != 0:
        raise AssertionError(f"add_scalar({tag!r}): the value should hold one element, got "
                             f"{array.size} in {array.ndim} dimensions")
    if array.dtype.kind not in "biuf":
        raise ValueError(f"add_scalar({tag!r}): the value should be a number, got {value!r}")
    number = float(array)
    if not new_style:
        return _value(tag, single(2, number, always=True))
    if double_precision:
        tensor = integer(1, _DT_DOUBLE) + packed_doubles(6, [number])
    else:
        tensor = integer(1, _DT_FLOAT) + packed_singles(5, [number])
    return _value(tag, length_delimited(8, tensor, always=True), _plugin("scalars"))


def text(tag: str, text_string: str) -> bytes:
    """A string for the text plugin (which renders it as Markdown), under tag/text_summary:
    a DT_STRING tensor of shape [1]."""
    if not isinstance(text_string, str):
        raise TypeError(f"add_text({tag!r}): the text must be a str, got "
                        f"{type(text_string).__name__}")
    shape = length_delimited(2, integer(1, 1), always=True)  # dim (2) = Dim {size (1) = 1}
    tensor = (integer(1, _DT_STRING) + length_delimited(2, shape, always=True)
              + length_delimited(8, text_string.encode("utf_8"), always=True))
    # TextPluginData(version=0) serializes to nothing
    return _value(f"{tag}/text_summary", length_delimited(8, tensor, always=True),
                  _plugin("text"))


@functools.cache
def tensorflow_bins() -> np.ndarray:
    """The bucket edges of SummaryWriter's default bins="tensorflow": ±1e-12 growing by
    1.1 a step up to 1e20, and 0 (a running product, as torch builds them, to the bit)."""
    positive = np.cumprod(np.r_[1e-12, np.full(800, 1.1)])  # 1.1**774 passes 1e32
    positive = positive[positive < 1e20]
    return np.concatenate([-positive[::-1], [0.0], positive])


def histogram(tag: str, values: Any, bins: Any = "tensorflow",
              max_bins: int | None = None) -> bytes:
    """A HistogramProto of values, made as torch's make_histogram makes it: numpy's
    histogram over `bins` (numpy's choices, or "tensorflow": tensorflow_bins()), merged
    down to at most max_bins, cut to the buckets from the first to the last that holds a
    value, with an empty one before them (TensorBoard reads only each bucket's right edge)."""
    values = make_np(values, f"add_histogram({tag!r})").astype(float).reshape(-1)
    if values.size == 0:
        raise ValueError(f"add_histogram({tag!r}): the input has no element")
    if isinstance(bins, str) and bins == "tensorflow":
        bins = tensorflow_bins()
    counts, limits = np.histogram(values, bins=bins)
    if max_bins is not None and len(counts) > max_bins:
        step = len(counts) // max_bins
        counts = np.pad(counts, (0, -len(counts) % step)).reshape(-1, step).sum(axis=-1)
        limits = np.r_[limits[:-1:step], limits[-1]]
    filled = np.cumsum(counts > 0)
    if not filled[-1]:  # PyTorch's raises here too, as "The histogram is empty"
        raise ValueError(f"add_histogram({tag!r}): no value falls in the bins, from "
                         f"{limits[0]:g} to {limits[-1]:g}; give bins that hold them")
    start, end = np.searchsorted(filled, [0, filled[-1] - 1], side="right")
    end += 1
    counts = counts[start - 1:end] if start > 0 else np.r_[0, counts[:end]]
    limits = limits[start:end + 1]
    histo = (double(1, values.min()) + double(2, values.max()) + double(3, len(values))
             + double(4, values.sum()) + double(5, values.dot(values))
             + packed_doubles(6, limits) + packed_doubles(7, counts))
    return _value(tag, length_delimited(5, histo, always=True))


def hparams(hparam_dict: dict, metric_dict: dict,
            hparam_domain_discrete: dict | None = None) -> tuple[bytes, bytes, bytes]:
    """The hparams plugin's experiment, session start and session end Summaries, as torch's
    `hparams`: strings and numbers (bools too: torch tests for a number first) become the
    session's values, None is left out, a tensor gives its first element. Its dict's
    entries are written in the dict's order, where PyTorch's protobuf writes a map's entries
    in an order of its own, different from run to run."""
    for name, given in (("hparam_dict", hparam_dict), ("metric_dict", metric_dict),
                        ("hparam_domain_discrete", hparam_domain_discrete or {})):
        if not isinstance(given, dict):
            raise TypeError(f"parameter: {name} should be a dictionary, nothing logged.")
    domains = hparam_domain_discrete or {}
    for k, v in domains.items():
        if (k not in hparam_dict or not isinstance(v, list)
                or not all(isinstance(d, type(hparam_dict[k])) for d in v)):
            raise TypeError(f"parameter: hparam_domain_discrete[{k}] should be a list of same "
                            f"type as hparam_dict[{k}].")
    infos, session = b"", b""
    for k, v in hparam_dict.items():
        if v is None:
            continue
        if isinstance(v, (int, float, str)):
            value, kind = _struct_value(v), _STRING if isinstance(v, str) else _FLOAT64
            listed = ([length_delimited(1, _struct_value(d), always=True) for d in domains[k]]
                      if k in domains else None)
        elif hasattr(v, "__array__"):
            number = make_np(v, f"add_hparams({k!r})").reshape(-1)[0]
            value, kind, listed = double(2, float(number), always=True), _FLOAT64, None
        else:
            raise ValueError("value should be one of int, float, str, bool, or torch.Tensor")
        # HParamInfo: name (1), type (4), domain_discrete (5) = ListValue {values (1)}
        info = length_delimited(1, k) + integer(4, kind)
        if listed is not None:
            info += length_delimited(5, b"".join(listed), always=True)
        infos += length_delimited(4, info, always=True)
        # SessionStartInfo's map hparams (1): entries {key (1), value (2)}
        entry = length_delimited(1, k) + length_delimited(2, value, always=True)
        session += length_delimited(1, entry, always=True)
    # Experiment's metric_infos (5): MetricInfo {name (1) = MetricName {tag (2)}}
    metrics = b"".join(length_delimited(5, length_delimited(1, length_delimited(2, k),
                                                            always=True), always=True)
                       for k in metric_dict)
    # HParamsPluginData: version (1) = 0, then one of experiment (2), session_start_info (3),
    # session_end_info (4) = SessionEndInfo {status (1)}
    experiment = length_delimited(2, infos + metrics, always=True)
    start = length_delimited(3, session, always=True)
    end = length_delimited(4, integer(1, _STATUS_SUCCESS), always=True)
    return tuple(_value(f"_hparams_/{name}", b"", _plugin("hparams", content))
                 for name, content in (("experiment", experiment),
                                       ("session_start_info", start),
                                       ("session_end_info", end)))


def _struct_value(v: str | float) -> bytes:
    """A google.protobuf.Value: string_value (3) for a str, else number_value (2)."""
    if isinstance(v, str):
        return length_delimited(3, v, always=True)
    return double(2, float(v), always=True)
