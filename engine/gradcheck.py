"""Check an engine's gradients against central finite differences in float64.

Works for any function of Values and/or float64 Tensors, its output a Value or a Tensor
of any shape: the analytic Jacobian comes from `backward()`, a row per output entry, the
numeric one from (f(x + eps) - f(x - eps)) / (2 eps) per input entry. Inputs' existing
`.grad`s are left as they were.
"""
from __future__ import annotations

from typing import Any, Callable

from engine.grad_mode import no_grad
from engine.graph import Node


class GradcheckError(AssertionError):
    """Analytic and numeric gradients disagree; the message lists every mismatch."""


def _entries(out: Any) -> Any:
    """f's output as a flat float64 array (one entry for a Value)."""
    import numpy as np  # here, not at the top: `import engine` stays free of numpy

    return np.asarray(out.data, np.float64).reshape(-1)


def _array(x: Node) -> Any:
    """A Tensor's numpy array (None for a Value, whose data is a float)."""
    return x.numpy() if hasattr(x, "numpy") else None


def gradcheck(f: Callable[..., Any], inputs: Any, eps: float = 1e-6, atol: float = 1e-5,
              rtol: float = 1e-4, raise_exception: bool = True) -> bool:
    """True when the derivatives of f(*inputs) match central differences, as
    torch.autograd.gradcheck.

    f returns a Value or a Tensor of any shape: every entry of its Jacobian is checked, a
    row per output entry by a backward pass seeded with that entry's one-hot gradient.
    The inputs are checked where they are Values or Tensors that require grad (float64);
    anything else is passed to f as it is. `inputs` may also be a single Tensor.
    Passes when |analytic - numeric| <= atol + rtol * |numeric|. On a mismatch it raises
    GradcheckError naming each input entry (and output entry), analytic and numeric value,
    or returns False when `raise_exception=False`.
    """
    import numpy as np

    inputs = [inputs] if isinstance(inputs, Node) else list(inputs)
    checked = [i for i, x in enumerate(inputs) if isinstance(x, Node) and x.requires_grad]
    if not checked:
        raise TypeError(f"gradcheck needs a Value, or a Tensor that requires grad, among its "
                        f"inputs; got {', '.join(type(x).__name__ for x in inputs) or 'none'}")
    for i in checked:
        array = _array(inputs[i])
        if array is not None and array.dtype != np.float64:
            raise TypeError(f"gradcheck input {i} is {array.dtype}; finite differences need "
                            "float64, e.g. Tensor(data, requires_grad=True, dtype=np.float64)")

    out = f(*inputs)
    shape = np.shape(_entries(out)) if _array(out) is None else out.numpy().shape
    size = int(np.prod(shape))
    analytic = {i: np.zeros((size,) + np.shape(inputs[i].data)) for i in checked}
    saved = {i: inputs[i].grad for i in checked}
    try:
        for k in range(size):
            for i in checked:
                inputs[i].zero_grad()
            out = f(*inputs) if k else out  # (a backward pass lets go of the graph)
            if size == 1:
                out.backward()
            else:
                seed = np.zeros(shape, out.numpy().dtype)
                seed.flat[k] = 1
                out.backward(type(out)(seed))
            for i in checked:  # a Tensor's .grad is a Tensor: np reads it
                grad = inputs[i].grad
                analytic[i][k] = 0 if grad is None else np.asarray(grad, float)
    finally:
        for i, g in saved.items():
            inputs[i].grad = g

    def numeric(set_entry: Callable[[float], None], x0: float) -> Any:
        with no_grad():
            set_entry(x0 + eps)
            up = _entries(f(*inputs))
            set_entry(x0 - eps)
            down = _entries(f(*inputs))
        set_entry(x0)
        return (up - down) / (2 * eps)

    problems = []
    for i in checked:
        x = inputs[i]
        name = f"input {i}" + (f" ({x.label!r})" if getattr(x, "label", "") else "")
        array = _array(x)
        if array is not None:  # set entries in the array itself, so every op sees them
            entries = [(idx, lambda v, a=array, idx=idx: a.__setitem__(idx, v), array[idx])
                       for idx in np.ndindex(array.shape)]
        else:
            entries = [((), lambda v, x=x: setattr(x, "data", v), x.data)]
        for idx, set_entry, x0 in entries:
            wants = numeric(set_entry, float(x0))
            for k, want in enumerate(wants):
                got = float(analytic[i][(k,) + idx])
                if not abs(got - want) <= atol + rtol * abs(want):
                    where = f"{name}[{', '.join(map(str, idx))}]" if idx else name
                    if size > 1:
                        at = ", ".join(map(str, np.unravel_index(k, shape)))
                        where += f" -> output[{at}]"
                    problems.append(f"{where}: analytic {got:.8g}, numeric {want:.8g}")
    if problems and raise_exception:
        raise GradcheckError("gradients disagree with central differences (eps="
                             f"{eps:g}):\n  " + "\n  ".join(problems))
    return not problems
