"""Check an engine's gradients against central finite differences in float64.

Works for any scalar function of Values and/or float64 Tensors: the analytic gradient
comes from `backward()`, the numeric one from (f(x + eps) - f(x - eps)) / (2 eps) per
input entry. Inputs' existing `.grad`s are left as they were.
"""
from __future__ import annotations

from typing import Any, Callable, Sequence

from engine.grad_mode import no_grad
from engine.graph import Node


class GradcheckError(AssertionError):
    """Analytic and numeric gradients disagree; the message lists every mismatch."""


def _scalar(out: Any) -> float:
    import numpy as np  # here, not at the top: `import engine` stays free of numpy

    data = np.asarray(out.data)
    if data.size != 1:
        raise ValueError(f"gradcheck needs f to return a scalar, got shape {data.shape}; "
                         "reduce it first, e.g. with .sum()")
    return float(data.reshape(()))


def _array(x: Node) -> Any:
    """A Tensor's numpy array (None for a Value, whose data is a float)."""
    return x.numpy() if hasattr(x, "numpy") else None


def gradcheck(f: Callable[..., Any], inputs: Sequence[Any], eps: float = 1e-6,
              atol: float = 1e-5, rtol: float = 1e-4, raise_exception: bool = True) -> bool:
    """True when d f(*inputs) / d input matches central differences for every entry.

    Passes when |analytic - numeric| <= atol + rtol * |numeric|. On a mismatch it raises
    GradcheckError naming each input, entry, analytic and numeric value, or returns False
    when `raise_exception=False`.
    """
    import numpy as np

    for i, x in enumerate(inputs):
        if not isinstance(x, Node):
            raise TypeError(f"gradcheck input {i} is a {type(x).__name__}; pass Values or Tensors")
        if _array(x) is not None and _array(x).dtype != np.float64:
            raise TypeError(f"gradcheck input {i} is {_array(x).dtype}; finite differences need "
                            "float64, e.g. Tensor(data, requires_grad=True, dtype=np.float64)")

    saved = [x.grad for x in inputs]
    for x in inputs:
        x.zero_grad()
    try:
        f(*inputs).backward()
        analytic = [np.zeros(np.shape(x.data)) if x.grad is None else np.asarray(x.grad, float)
                    for x in inputs]  # a Tensor's .data and .grad are Tensors: np reads them
    finally:
        for x, g in zip(inputs, saved):
            x.grad = g

    def numeric(set_entry: Callable[[float], None], x0: float) -> float:
        with no_grad():
            set_entry(x0 + eps)
            up = _scalar(f(*inputs))
            set_entry(x0 - eps)
            down = _scalar(f(*inputs))
        set_entry(x0)
        return (up - down) / (2 * eps)

    problems = []
    for i, x in enumerate(inputs):
        name = f"input {i}" + (f" ({x.label!r})" if getattr(x, "label", "") else "")
        array = _array(x)
        if array is not None:  # set entries in the array itself, so every op sees them
            entries = [(idx, lambda v, a=array, idx=idx: a.__setitem__(idx, v), array[idx])
                       for idx in np.ndindex(array.shape)]
        else:
            entries = [((), lambda v, x=x: setattr(x, "data", v), x.data)]
        for idx, set_entry, x0 in entries:
            want = numeric(set_entry, float(x0))
            got = float(analytic[i][idx])
            if not abs(got - want) <= atol + rtol * abs(want):
                where = f"{name}[{', '.join(map(str, idx))}]" if idx else name
                problems.append(f"{where}: analytic {got:.8g}, numeric {want:.8g}")
    if problems and raise_exception:
        raise GradcheckError("gradients disagree with central differences (eps="
                             f"{eps:g}):\n  " + "\n  ".join(problems))
    return not problems
