"""The in-place form of an op, `t.op_(...)`: op(t, ...) written into t, as PyTorch's in-place
methods, recorded in the graph when t or any tensor operand requires grad.

This module imports nothing of the engine, so that every op module can make its in-place
forms while engine/tensor.py is still loading them.
"""
from __future__ import annotations

from typing import Any, Callable


def in_place_form(op: Callable) -> Callable:
    """`t.op_(...)`: t.op(...) written into t (engine/inplace.py's Tensor._in_place)."""
    def method(self: Any, *args: Any, **kwargs: Any) -> Any:
        # an operand that requires grad makes the write a graph node even where t does not
        # (zeros(3).atan2_(y) sends y its gradient, as in PyTorch)
        other = next((x for x in (*args, *kwargs.values())
                      if getattr(x, "requires_grad", False) is True), None)
        return self._in_place(lambda t, _: op(t, *args, **kwargs), other, f"{op.__name__}_")
    method.__name__ = method.__qualname__ = f"{op.__name__}_"
    method.__doc__ = f"{op.__name__}, written into this tensor in place."
    return method
