"""Derivatives of whole functions, as torch.autograd.functional: vjp, jvp, jacobian,
hessian, vhp and hvp.

Each takes `func` and its `inputs` (a Tensor, or a tuple of them) and builds on
`engine.grad`, exactly as PyTorch's do: the same names, signatures, shapes and tuple
conventions, the same `create_graph` (results stay graph nodes, to differentiate again) and
`strict` (refuse an output that does not depend on an input, instead of giving zeros).
Forward-mode products come from the double-backward trick: the gradient of
`u . func(x)` with respect to x is linear in `u`, so its gradient with respect to u
along `v` is the Jacobian times v. `vectorize=True` is accepted and computes the same
result row by row; there is no forward mode (`strategy="forward-mode"` is refused).

Values work too, as 0-d tensors: `inputs` is a Value or a tuple of Values, `func` returns
a Value (or a tuple), and every result is a Value (a leaf, or a graph node under
`create_graph=True`), in the nesting PyTorch gives 0-d tensors: `hessian(f, (x, y))` is
((d2f/dx2, d2f/dxdy), (d2f/dydx, d2f/dy2)). A Value always takes part in the graph, so
`strict` can only find an output that no path joins to an input.
"""
from __future__ import annotations

from typing import Any, Callable, Sequence

import numpy as np

from engine.grad_mode import enable_grad, is_grad_enabled, set_grad_enabled
from engine.graph import Node, grad
from engine.shapes import stack
from engine.tensor import Tensor, _leaf
from engine.value import Value

Inputs = Any  # a Tensor or Value, or a tuple of them
__all__ = ["vjp", "jvp", "jacobian", "hessian", "vhp", "hvp"]


# --- the bookkeeping PyTorch's functions share ---

def _as_tuple(x: Any, what: str, fn: str) -> tuple[bool, tuple]:
    """(whether x was a tuple, x as a tuple), or a TypeError naming what is not a node."""
    is_tuple = isinstance(x, (tuple, list))
    xs = tuple(x) if is_tuple else (x,)
    for i, el in enumerate(xs):
        if not isinstance(el, Node):
            where = f"the value at index {i} has" if is_tuple else f"the given {what} has"
            raise TypeError(f"The {what} given to {fn} must be either a Tensor (or Value) or a "
                            f"tuple of them, but {where} type {type(el).__name__}")
    if len({type(el) for el in xs}) > 1:
        raise TypeError(f"The {what} given to {fn} mix Values and Tensors; use one engine")
    return is_tuple, xs


def _tuple_postprocess(res: Any, was_tuple: bool | tuple[bool, bool]) -> Any:
    """Unpack the one-entry tuples the caller did not pass as tuples (PyTorch's shapes)."""
    if isinstance(was_tuple, tuple):
        outer, inner = was_tuple
        if not inner:
            res = tuple(r[0] for r in res)
        return res if outer else res[0]
    return res if was_tuple else res[0]


def _preprocess(xs: tuple, create_graph: bool, need_graph: bool) -> tuple:
    """Inputs func is called on: with create_graph, an identity in the caller's graph (so
    the results stay functions of the caller's nodes); else fresh leaves."""
    out = []
    for x in xs:
        if isinstance(x, Value):
            out.append(x * 1.0 if create_graph else Value(x.data))
        elif create_graph and x.requires_grad:
            out.append(x.reshape(x.shape))
        else:
            out.append(x.detach().requires_grad_(need_graph))
    return tuple(out)


def _postprocess(x: Any, create_graph: bool) -> Any:
    """Results out of the graph unless create_graph (nested tuples too)."""
    if isinstance(x, tuple):
        return tuple(_postprocess(el, create_graph) for el in x)
    if create_graph:
        return x
    return Value(x.data) if isinstance(x, Value) else x.detach()


def _zeros_like(x: Node, requires_grad: bool = False) -> Node:
    if isinstance(x, Value):
        return Value(0.0)
    return _leaf(np.zeros(x.shape, x.dtype)).requires_grad_(requires_grad)


def _in_graph(x: Node) -> bool:
    """Whether x depends on the graph: a Tensor that requires grad, a Value made by an op."""
    return x.requires_grad if isinstance(x, Tensor) else x._a is not None


def _validate_v(v: tuple, other: tuple, other_is_tuple: bool) -> None:
    if len(other) != len(v):
        if other_is_tuple:
            raise RuntimeError(f"v is a tuple of invalid length: should be {len(other)} but "
                               f"got {len(v)}.")
        raise RuntimeError("The given v should contain a single Tensor.")
    for i, (el_v, el_other) in enumerate(zip(v, other)):
        if type(el_v) is not type(el_other):
            raise TypeError(f"Entry {i} in v is a {type(el_v).__name__}, where the function "
                            f"has a {type(el_other).__name__}")
        if isinstance(el_v, Tensor) and el_v.shape != el_other.shape:
            entry = f"Entry {i} in " if other_is_tuple else ""
            raise RuntimeError(f"{entry}v has invalid size: should be {el_other.shape} but "
                               f"got {el_v.shape}.")


def _check_requires_grad(xs: tuple, kind: str, strict: bool) -> None:
    """Under strict, refuse an entry that cannot depend on the inputs (PyTorch's messages)."""
    if not strict:
        return
    for i, x in enumerate(xs):
        if x is None:
            raise RuntimeError(f"The output of the user-provided function is independent of "
                               f"input {i}. This is not allowed in strict mode.")
        if isinstance(x, Tensor) and not x.requires_grad:
            raise RuntimeError({
                "hessian": f"The hessian of the user-provided function with respect to input "
                           f"{i} is independent of the input. This is not allowed in strict "
                           "mode. You should ensure that your function is thrice "
                           "differentiable and that the hessian depends on the inputs.",
                "jacobian": f"While computing the hessian, found that the jacobian of the "
                            f"user-provided function with respect to input {i} is "
                            "independent of the input. This is not allowed in strict mode. "
                            "You should ensure that your function is twice differentiable and "
                            "that the jacobian depends on the inputs (this would be violated "
                            "by a linear function for example).",
                "grad_inputs": f"The gradient with respect to input {i} is independent of "
                               "the inputs of the user-provided function. This is not allowed "
                               "in strict mode.",
            }.get(kind, f"Output {i} of the user-provided function does not require "
                        "gradients. The outputs must be computed in a differentiable manner "
                        "from the input when running in strict mode."))


_INDEPENDENT = {
    "back": "The output of the user-provided function is independent of input {}.",
    "back_trick": "The gradient with respect to the input is independent of entry {} in the "
                  "grad_outputs when using the double backward trick to compute forward "
                  "mode gradients.",
    "double_back": "The jacobian of the user-provided function is independent of input {}.",
    "double_back_trick": "The hessian of the user-provided function is independent of entry "
                         "{} in the grad_jacobian.",
}


def _fill_in_zeros(grads: tuple, refs: tuple, strict: bool, stage: str) -> tuple:
    """Zeros (shaped like refs) where a gradient is None; under strict, an error."""
    out = []
    for i, (g, ref) in enumerate(zip(grads, refs)):
        if g is None:
            if strict:
                raise RuntimeError(_INDEPENDENT[stage].format(i) +
                                   " This is not allowed in strict mode.")
            g = _zeros_like(ref)
        out.append(g)
    return tuple(out)


def _grad(outputs: tuple, inputs: tuple, grad_outputs: Sequence | None = None,
          create_graph: bool = False, retain_graph: bool | None = None) -> tuple:
    """engine.grad of the outputs that are in the graph; None for inputs none reaches."""
    if grad_outputs is None:
        grad_outputs = (None,) * len(outputs)
    kept = [(out, g) for out, g in zip(outputs, grad_outputs)
            if out is not None and (isinstance(out, Value) or out.requires_grad)]
    if not kept:
        return (None,) * len(inputs)
    outs, seeds = zip(*kept)
    grads = grad(list(outs), list(inputs), list(seeds), retain_graph=retain_graph,
                 create_graph=create_graph, allow_unused=True)
    return tuple(Value(g) if type(g) is float else g for g in grads)  # a Value's is a float


def _one_hots(out: Node) -> list:
    """The seeds that pick each entry of out in turn (one backward pass per Jacobian row)."""
    if isinstance(out, Value):
        return [1.0]
    seeds = np.zeros((out.numel(), out.numel()), out.dtype)
    np.fill_diagonal(seeds, 1)
    return list(seeds.reshape((out.numel(), *out.shape)))


def _block(rows: list, out: Node, x: Node) -> Node:
    """One output's Jacobian rows for one input, shaped out.shape + x.shape."""
    if isinstance(out, Value):
        return rows[0]
    if not rows:  # an output with no entries
        return _leaf(np.zeros(out.shape + x.shape, x.dtype))
    return stack(rows).reshape(out.shape + x.shape)


def _vector(v: Inputs | None, like: tuple, like_tuple: bool, create_graph: bool, fn: str,
            of: str) -> tuple | None:
    """v checked against `like` (func's inputs or outputs); None only for one one-entry."""
    if v is None:
        if len(like) != 1 or (isinstance(like[0], Tensor) and like[0].numel() != 1):
            raise RuntimeError(f"The vector v can only be None if {of} a single Tensor with a "
                               "single element.")
        return None
    _, v = _as_tuple(v, "v", fn)
    v = _preprocess(v, create_graph, need_graph=False)
    _validate_v(v, like, like_tuple)
    return v


def _call(func: Callable, inputs: tuple, fn: str, strict: bool) -> tuple[bool, tuple]:
    """func on the inputs: (whether it returned a tuple, its outputs as a tuple)."""
    outputs_tuple, outputs = _as_tuple(func(*inputs), "outputs of the user-provided function",
                                       fn)
    _check_requires_grad(outputs, "outputs", strict)
    return outputs_tuple, outputs


_INPUT_IS = "the input to the user-provided function is"


# --- the functions ---

def vjp(func: Callable, inputs: Inputs, v: Inputs | None = None, create_graph: bool = False,
        strict: bool = False) -> tuple:
    """(func(inputs), v^T J): the vector-Jacobian product, one backward pass. v may be left
    out only when func returns a single one-entry Tensor (or a Value)."""
    with enable_grad():
        inputs_tuple, inputs = _as_tuple(inputs, "inputs", "vjp")
        inputs = _preprocess(inputs, create_graph, need_graph=True)
        outputs_tuple, outputs = _call(func, inputs, "vjp", strict)
        v = _vector(v, outputs, outputs_tuple, create_graph, "vjp",
                    "the user-provided function returns")
    with set_grad_enabled(create_graph or is_grad_enabled()):
        result = _fill_in_zeros(_grad(outputs, inputs, v, create_graph=create_graph), inputs,
                                strict, "back")
    return (_tuple_postprocess(_postprocess(outputs, create_graph), outputs_tuple),
            _tuple_postprocess(_postprocess(result, create_graph), inputs_tuple))


def jvp(func: Callable, inputs: Inputs, v: Inputs | None = None, create_graph: bool = False,
        strict: bool = False) -> tuple:
    """(func(inputs), J v): the Jacobian-vector product, by the double-backward trick (two
    backward passes). v may be left out only for a single one-entry input."""
    with enable_grad():
        inputs_tuple, inputs = _as_tuple(inputs, "inputs", "jvp")
        inputs = _preprocess(inputs, create_graph, need_graph=True)
        v = _vector(v, inputs, inputs_tuple, create_graph, "jvp", _INPUT_IS)
        outputs_tuple, outputs = _call(func, inputs, "jvp", strict)
        # u . func(x), with u of func's shapes: its gradient in x is linear in u
        us = tuple(_zeros_like(out, requires_grad=True) for out in outputs)
        grad_inputs = _grad(outputs, inputs, us, create_graph=True)
        _check_requires_grad(grad_inputs, "grad_inputs", strict)
    with set_grad_enabled(create_graph or is_grad_enabled()):
        result = _fill_in_zeros(_grad(grad_inputs, us, v, create_graph=create_graph), outputs,
                                strict, "back_trick")
    return (_tuple_postprocess(_postprocess(outputs, create_graph), outputs_tuple),
            _tuple_postprocess(_postprocess(result, create_graph), outputs_tuple))


def jacobian(func: Callable, inputs: Inputs, create_graph: bool = False, strict: bool = False,
             vectorize: bool = False, strategy: str = "reverse-mode") -> Any:
    """d func(inputs) / d inputs, one backward pass per output entry. For one Tensor in and
    one out, a Tensor of shape out.shape + in.shape; with tuples, a tuple per output (of one
    per input), as PyTorch's."""
    if strategy != "reverse-mode":
        raise ValueError(f"jacobian: strategy {strategy!r} is not available here: the engine "
                         "has reverse mode only (strategy='reverse-mode'); jvp() gives "
                         "Jacobian-vector products")
    with enable_grad():
        inputs_tuple, inputs = _as_tuple(inputs, "inputs", "jacobian")
        inputs = _preprocess(inputs, create_graph, need_graph=True)
        outputs_tuple, outputs = _call(func, inputs, "jacobian", strict)
        result = []
        for i, out in enumerate(outputs):
            rows: list[list] = [[] for _ in inputs]
            for seed in _one_hots(out):
                row = _grad((out,), inputs, (seed,), create_graph=create_graph,
                            retain_graph=True)
                for k, (g, x) in enumerate(zip(row, inputs)):
                    if g is None:
                        if strict:
                            raise RuntimeError(f"Output {i} of the user-provided function is "
                                               f"independent of input {k}. This is not "
                                               "allowed in strict mode.")
                        g = _zeros_like(x)
                    elif strict and create_graph and not _in_graph(g):
                        raise RuntimeError(f"The jacobian of the user-provided function is "
                                           f"independent of input {k}. This is not allowed "
                                           "in strict mode when create_graph=True.")
                    rows[k].append(g)
            result.append(tuple(_block(r, out, x) for r, x in zip(rows, inputs)))
        result = _postprocess(tuple(result), create_graph)
    return _tuple_postprocess(result, (outputs_tuple, inputs_tuple))


def hessian(func: Callable, inputs: Inputs, create_graph: bool = False, strict: bool = False,
            vectorize: bool = False, outer_jacobian_strategy: str = "reverse-mode") -> Any:
    """The matrix of second derivatives of a function with one one-entry output: the
    Jacobian of its gradient. For one Tensor input, shape in.shape + in.shape; for a tuple
    of inputs, a tuple of tuples (block i, j: d2 f / d input_i d input_j)."""
    inputs_tuple, inputs = _as_tuple(inputs, "inputs", "hessian")

    def single_output(*xs: Node) -> Node:
        out = func(*xs)
        out_tuple, outs = _as_tuple(out, "outputs of the user-provided function", "hessian")
        _check_requires_grad(outs, "outputs", strict)
        if out_tuple or not isinstance(out, (Tensor, Value)):
            raise RuntimeError("The function given to hessian should return a single Tensor")
        if isinstance(out, Tensor):
            if out.numel() != 1:
                raise RuntimeError("The Tensor returned by the function given to hessian "
                                   f"should contain a single element; it has shape "
                                   f"{out.shape}")
            return out.squeeze()
        return out

    def gradient(*xs: Node) -> tuple:
        jac = jacobian(single_output, xs, create_graph=True)
        _check_requires_grad(jac, "jacobian", strict)
        return jac

    result = jacobian(gradient, inputs, create_graph=create_graph, strict=strict,
                      vectorize=vectorize, strategy=outer_jacobian_strategy)
    return _tuple_postprocess(result, (inputs_tuple, inputs_tuple))


def vhp(func: Callable, inputs: Inputs, v: Inputs | None = None, create_graph: bool = False,
        strict: bool = False) -> tuple:
    """(func(inputs), v^T H) for a function with one one-entry output: two backward
    passes, the second through the first."""
    return _hessian_product(func, inputs, v, create_graph, strict, "vhp")


def hvp(func: Callable, inputs: Inputs, v: Inputs | None = None, create_graph: bool = False,
        strict: bool = False) -> tuple:
    """(func(inputs), H v) for a function with one one-entry output, by the double-backward
    trick as PyTorch's (equal to vhp where the Hessian is symmetric, as it is for a
    function twice continuously differentiable)."""
    return _hessian_product(func, inputs, v, create_graph, strict, "hvp")


def _hessian_product(func: Callable, inputs: Inputs, v: Inputs | None, create_graph: bool,
                     strict: bool, fn: str) -> tuple:
    with enable_grad():
        inputs_tuple, inputs = _as_tuple(inputs, "inputs", fn)
        inputs = _preprocess(inputs, create_graph, need_graph=True)
        v = _vector(v, inputs, inputs_tuple, create_graph, fn, _INPUT_IS)
        outputs_tuple, outputs = _call(func, inputs, fn, strict)
        if outputs_tuple:
            raise RuntimeError(f"The function given to {fn} should return a single Tensor")
        if isinstance(outputs[0], Tensor) and outputs[0].numel() != 1:
            raise RuntimeError(f"The Tensor returned by the function given to {fn} should "
                               f"contain a single element; it has shape {outputs[0].shape}")
        jac = _grad(outputs, inputs, create_graph=True)
        _check_requires_grad(jac, "jacobian", strict)
        if fn == "hvp":  # H v as the gradient in u of (H^T u) . v, u a zero that requires grad
            us = tuple(_zeros_like(x, requires_grad=True) for x in inputs)
            double_back = _grad(jac, inputs, us, create_graph=True)
            _check_requires_grad(jac, "hessian", strict)
    with set_grad_enabled(create_graph or is_grad_enabled()):
        if fn == "hvp":
            grads = _grad(double_back, us, v, create_graph=create_graph)
            result = _fill_in_zeros(grads, inputs, strict, "double_back_trick")
        else:
            grads = _grad(jac, inputs, v, create_graph=create_graph)
            result = _fill_in_zeros(grads, inputs, strict, "double_back")
    return (_tuple_postprocess(_postprocess(outputs, create_graph), outputs_tuple),
            _tuple_postprocess(_postprocess(result, create_graph), inputs_tuple))
