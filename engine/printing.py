"""How tensors print: as PyTorch prints them, so a notebook shows the numbers a PyTorch
lecture shows (`tensor([0.7081, 0.3542, 0.1054])`, `tensor([[1., 2.]], grad_fn=<MulBackward0>)`).

Floats get 4 decimals, or scientific notation when their magnitudes span too much; floats
that are all whole numbers print as `2.`; big tensors are summarised with `...`.
`set_printoptions` takes torch.set_printoptions' arguments.
"""
from __future__ import annotations

from typing import Any, Callable

import numpy as np

_options = {"precision": 4, "threshold": 1000, "edgeitems": 3, "linewidth": 80,
            "sci_mode": None}

# our op names -> PyTorch's grad_fn names (the rest are capitalised: exp -> ExpBackward0)
_GRAD_FN = {"+": "Add", "*": "Mul", "/": "Div", "**": "Pow", "@": "MatMul", "index": "Index",
            "index_put": "IndexPut", "log_softmax": "LogSoftmax", "logsumexp": "LogSumExp",
            "float32": "ToCopy", "float64": "ToCopy", "float16": "ToCopy"}


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


def _float_formatter(data: np.ndarray) -> Callable[[Any], str]:
    """One format for every entry, chosen from the finite nonzero magnitudes, as PyTorch."""
    p = _options["precision"]
    finite = data[np.isfinite(data)].astype(np.float64)
    size = np.abs(finite[finite != 0])
    whole = bool(np.all(finite == np.ceil(finite)))
    spread = size.size and (size.max() / size.min() > 1000 or size.max() > 1e8)
    sci = _options["sci_mode"]
    if sci is None:
        sci = bool(spread or (not whole and size.size and size.min() < 1e-4))
    if sci:
        fmt = f"{{:.{p}e}}"
    elif whole:
        fmt = "{:.0f}."
    else:
        fmt = f"{{:.{p}f}}"
    # the widest entries are the largest and the most negative (and nan, inf, -inf)
    ends = [fmt.format(x) for x in (finite.max(), finite.min())] if finite.size else []
    ends += [str(float(x)) for x in data[~np.isfinite(data)][:1000].tolist()]
    width = max(map(len, ends), default=1)

    def show(x: Any) -> str:
        text = fmt.format(x) if np.isfinite(x) else str(float(x))
        return text.rjust(width)
    return show


def body(data: np.ndarray, prefix: str) -> str:
    """The entries as PyTorch prints them, lines indented to follow `prefix`."""
    kind = data.dtype.kind
    formatter: dict[str, Callable] = {}
    if kind == "f":
        formatter["float_kind"] = _float_formatter(data)
    elif kind == "b":
        formatter["bool"] = lambda x: str(bool(x)).rjust(5 if data.size > 1 else 0)
    return np.array2string(data, separator=", ", prefix=prefix, formatter=formatter,
                           threshold=_options["threshold"], edgeitems=_options["edgeitems"],
                           max_line_width=_options["linewidth"])


def grad_fn_name(op: str) -> str:
    """PyTorch's name of the backward node of our op, as `grad_fn=<MulBackward0>` shows it."""
    return f"{_GRAD_FN.get(op, op.replace('_', ' ').title().replace(' ', ''))}Backward0"
