"""How tensors and their shapes print: as PyTorch prints them, so a notebook shows what a
PyTorch lecture shows (`tensor([0.7081, 0.3542, 0.1054])`, `tensor([[1., 2.]],
grad_fn=<MulBackward0>)`, `torch.Size([32, 27])`), line breaks included.

The layout follows torch/_tensor_str.py: floats get 4 decimals, or scientific notation when
their magnitudes span too much; floats that are all whole numbers print as `2.`; every
entry is padded to the widest; a row holds as many entries as fit in 80 columns; big
tensors are summarised with `...`. `set_printoptions` takes torch.set_printoptions'
arguments.
"""
from __future__ import annotations

import math
from typing import Any, Callable

import numpy as np

_options = {"precision": 4, "threshold": 1000, "edgeitems": 3, "linewidth": 80,
            "sci_mode": None}

# our op names -> PyTorch's grad_fn names (the rest are capitalised: exp -> ExpBackward0).
# A name ending in a number is PyTorch's whole name: its overloads are numbered
# (sum() is SumBackward0, sum(dim) SumBackward1), and some of its ops end in another
# one (a vector times a matrix is a matrix product squeezed back to 1-D).
_GRAD_FN = {"+": "Add", "*": "Mul", "/": "Div", "**": "Pow", "index": "Index",
            "index_put": "IndexPut", "log_softmax": "LogSoftmax", "logsumexp": "LogSumExp",
            "float32": "ToCopy", "float64": "ToCopy", "float16": "ToCopy",
            "det": "LinalgDet", "slogdet": "LinalgSlogdet", "inv": "LinalgInvEx",  # linalg
            "solve": "LinalgSolveEx", "cholesky": "LinalgCholeskyEx", "qr": "LinalgQr",
            "eigh": "LinalgEigh", "svd": "LinalgSvd", "pinv": "LinalgPinv",
            "cross_entropy": "NllLoss",  # PyTorch's cross_entropy ends in nll_loss
            "pairwise_distance": "NormBackward1",  # ... and pairwise_distance in norm(p, dim)
            "mm": "Mm", "mv": "Mv", "dot": "Dot", "vm": "SqueezeBackward4",
            "matmul": "UnsafeViewBackward0", "reshape": "View", "flatten": "View",
            "squeeze": "Squeeze", "squeeze_dim": "SqueezeBackward1",
            "squeeze_dims": "SqueezeBackward2", "sum_dim": "SumBackward1",
            "max": "MaxBackward1", "min": "MinBackward1", "clamp": "ClampBackward1",
            "clamp_tensors": "Clamp", "norm": "LinalgVectorNorm",
            "layer_norm": "NativeLayerNorm", "conv1d": "Convolution", "conv2d": "Convolution",
            "conv3d": "Convolution", "max_pool2d": "MaxPool2DWithIndices",
            "max_pool3d": "MaxPool3DWithIndices", "rsub": "RsubBackward1",
            "max_unpool2d": "MaxUnpool2D",
            "mean_dim": "MeanBackward1", "max_dim": "Max", "min_dim": "Min",
            "batch_norm": "NativeBatchNorm", "pad": "ConstantPadNd",
            "scatter_value": "ScatterBackward1", "index_fill_tensor": "IndexFillBackward1",
            "logaddexp2": "Logaddexp2Backward0", "pow_tensors": "PowBackward1",
            "pow_number_base": "PowBackward2", "nanmedian_dim": "NanmedianBackward1",
            "rot90": "Rot90Backward0", "i0": "I0Backward0", "special_i1": "SpecialI1Backward0",
            "copy_slices": "CopySlices"}  # a view written in place, into its base (inplace.py)


def set_printoptions(precision: int | None = None, threshold: int | None = None,
                     edgeitems: int | None = None, linewidth: int | None = None,
                     profile: str | None = None, sci_mode: bool | None = None) -> None:
    """How tensors print, with torch.set_printoptions' arguments."""
    if profile is not None:
        _options.update({"default": dict(precision=4, threshold=1000, edgeitems=3, linewidth=80),
                         "short": dict(precision=2, threshold=1000, edgeitems=2, linewidth=80),
                         "full": dict(precision=4, threshold=np.inf, edgeitems=3, linewidth=80)
                         }[profile])
    given = {"precision": precision, "threshold": threshold, "edgeitems": edgeitems,
             "linewidth": linewidth}
    _options.update({k: v for k, v in given.items() if v is not None})
    _options["sci_mode"] = sci_mode


class Size(tuple):
    """A tensor's shape, a tuple that prints as PyTorch's: `torch.Size([2, 3])`."""

    def __repr__(self) -> str:
        return f"torch.Size({list(self)})"

    def __getitem__(self, index: Any) -> Any:
        item = tuple.__getitem__(self, index)
        return Size(item) if isinstance(index, slice) else item

    def numel(self) -> int:
        """How many entries a tensor of this shape holds."""
        return int(np.prod(self, dtype=np.int64))


def _edges(data: np.ndarray) -> np.ndarray:
    """The entries a summarised print shows: the first and last `edgeitems` along each dim."""
    k = _options["edgeitems"]
    for axis, n in enumerate(data.shape):
        if n > 2 * k:
            data = np.take(data, list(range(k)) + list(range(n - k, n)), axis=axis)
    return data


def _formatter(shown: np.ndarray) -> tuple[Callable[[Any], str], int]:
    """One format for every entry and its width, chosen from the entries shown, as
    PyTorch's _Formatter: floats that are all whole print as `2.`, and in scientific
    notation when their nonzero magnitudes span more than 1000x or leave [1e-4, 1e8]."""
    p = _options["precision"]
    values = shown.reshape(-1).tolist()  # Python numbers, as PyTorch formats them
    if shown.dtype.kind != "f":
        width = max((len(f"{v}") for v in values), default=1)
        return lambda v: f"{v}".rjust(width), width
    flat = shown.reshape(-1)
    nonzero = flat[np.isfinite(flat) & (flat != 0)]
    whole, sci, width = True, False, 1
    if nonzero.size:
        size = np.abs(nonzero.astype(np.float64))
        whole = bool(np.all(nonzero == np.ceil(nonzero)))
        sci = _options["sci_mode"]
        if sci is None:
            sci = bool(size.max() / size.min() > 1000 or size.max() > 1e8 or size.min() < 1e-4)
        fmt = f"{{:.{p}e}}" if sci else "{:.0f}." if whole else f"{{:.{p}f}}"
        width = max(len(fmt.format(v)) for v in nonzero.tolist())

    def show(v: float) -> str:
        if sci:
            text = f"{v:{width}.{p}e}"
        elif whole:
            text = f"{v:.0f}" + ("" if math.isinf(v) or math.isnan(v) else ".")
        else:
            text = f"{v:.{p}f}"
        return text.rjust(width)
    return show, width


def _layout(data: np.ndarray, indent: int, summarize: bool, show: Callable, width: int) -> str:
    """The nested brackets of PyTorch's print: a row holds as many entries as fit the line
    width after `indent`; dims below the last are separated by blank lines."""
    k = _options["edgeitems"]
    cut = summarize and data.shape[0] > 2 * k
    if data.ndim == 1:
        values = data.tolist()
        if summarize and not k:
            items = ["..."]
        elif cut:
            items = [show(v) for v in values[:k]] + [" ..."] + [show(v) for v in values[-k:]]
        else:
            items = [show(v) for v in values]
        per_line = max(1, (_options["linewidth"] - indent) // (width + 2))
        lines = [", ".join(items[i:i + per_line]) for i in range(0, len(items), per_line)]
        return "[" + (",\n" + " " * (indent + 1)).join(lines) + "]"
    rows = range(data.shape[0])
    picked = [*rows[:k], None, *rows[-k:]] if cut else rows
    parts = ["..." if i is None else _layout(data[i], indent + 1, summarize, show, width)
             for i in picked]
    return "[" + ("," + "\n" * (data.ndim - 1) + " " * (indent + 1)).join(parts) + "]"


def tensor_repr(data: np.ndarray, suffixes: list[str]) -> str:
    """`tensor(...)` with the entries laid out as PyTorch lays them out, then the suffixes
    (dtype=, grad_fn=, ...), each on a new line when it would not fit on the last one."""
    prefix = "tensor("
    indent = len(prefix)
    if data.ndim == 0:
        body = _formatter(data)[0](data.item())
    elif not data.size:
        body = "[]"
    else:
        summarize = data.size > _options["threshold"]
        show, width = _formatter(_edges(data) if summarize else data)
        body = _layout(data, indent, summarize, show, width)
    text = prefix + body
    line = len(text) - text.rfind("\n") + 1  # PyTorch's count of the last line
    for suffix in suffixes:
        if line + len(suffix) + 2 > _options["linewidth"]:
            text += ",\n" + " " * indent + suffix
            line = indent + len(suffix)
        else:
            text += ", " + suffix
            line += len(suffix) + 2
    return text + ")"


def grad_fn_name(op: str) -> str:
    """PyTorch's name of the backward node of our op, as `grad_fn=<MulBackward0>` shows it
    (a custom autograd.Function's op is its class name: `MyReLUBackward`)."""
    if op[:1].isupper():
        return f"{op}Backward"
    name = _GRAD_FN.get(op) or op.replace("_", " ").title().replace(" ", "")
    return name if name[-1].isdigit() or op == "copy_slices" else f"{name}Backward0"
