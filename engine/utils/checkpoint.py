"""Activation checkpointing, as `torch.utils.checkpoint`: `checkpoint(function, *args)`
returns what function(*args) returns without keeping the activations computed inside it
until the backward pass, which computes them again by running function a second time;
`checkpoint_sequential` does that to each segment of an nn.Sequential but the last. Memory
for compute: a stack of checkpointed blocks keeps only the blocks' inputs between forward
and backward, and one block's activations at a time during the backward pass.

`use_reentrant` picks one of PyTorch's two variants. Left out (None) it warns, with
PyTorch 2.13's message, and means True, as PyTorch 2.13 does.

use_reentrant=False (what PyTorch recommends). The forward records its graph as usual;
once function returns, the arrays of the nodes made inside it that nothing but that graph
holds are freed, as PyTorch frees the activations only autograd saved (PyTorch lets go of
them as they are saved, so its forward peaks lower). Outputs, inputs, parameters
and any tensor someone else holds keep theirs. The graph keeps its shape, so gradients
reach everything function used, inputs and the parameters it closes over alike, through
`backward`, `engine.grad` and `create_graph=True`. When a backward pass first reaches an
output (a hook on it), function runs again on the saved inputs, with recording on and
the generator's state of the forward (preserve_rng_state, so dropout draws the same
masks), and the rerun's arrays go back into the freed nodes, matched node for node from
the outputs. A rerun that computes something else (another op, shape or dtype) raises
CheckpointError. Until then a freed node's `_data` is None: a picture of the graph drawn
between forward and backward cannot show those values. Unlike PyTorch's, the rerun always
runs function to its end (`early_stop` is accepted and has no effect), and `debug` adds
nothing: the error always names the ops that differ. (Autocast changes no op here, so the
rerun needs no autocast state.)

use_reentrant=True: PyTorch's CheckpointFunction, an autograd.Function. Its forward runs
function under no_grad; its backward reruns it on detached inputs and backpropagates
through the rerun, into the parameters' `.grad` directly. As in PyTorch, gradients flow
only when some input requires grad, keyword arguments and `context_fn` are refused, and
only `backward()` without `inputs` gives what PyTorch gives: under `engine.grad` the inputs'
gradients are right but the parameters' `.grad` fill up (PyTorch raises). Each output that
a gradient reaches reruns function once.
"""
from __future__ import annotations

import contextlib
import operator
import sys
import threading
import warnings
import weakref
from typing import Any, Callable, Iterator

from engine import autograd
from engine.autograd import Function, FunctionCtx
from engine.generator import get_rng_state, set_rng_state
from engine.grad_mode import enable_grad
from engine.tensor import Tensor

__all__ = ["checkpoint", "checkpoint_sequential", "CheckpointError", "CheckpointFunction",
           "check_backward_validity", "detach_variable", "noop_context_fn"]

_CHECKS = ("default", "none")  # determinism_check's values, as PyTorch's
_EXPLICIT = ("use_reentrant=False is recommended, but if you need to preserve the current "
             "default behavior, you can pass use_reentrant=True. Refer to docs for more "
             "details on the differences between the two variants.")


class CheckpointError(RuntimeError):
    """The rerun in backward computed something else than the forward did."""


def noop_context_fn() -> tuple[contextlib.AbstractContextManager, ...]:
    """The default context_fn: no context around the forward, none around the rerun."""
    return contextlib.nullcontext(), contextlib.nullcontext()


def check_backward_validity(inputs: tuple) -> None:
    """Warn, as PyTorch does, when no tensor input requires grad (the reentrant variant then
    gives no gradient at all)."""
    if not any(isinstance(x, Tensor) and x.requires_grad for x in inputs):
        warnings.warn("None of the inputs have requires_grad=True. Gradients will be None",
                      stacklevel=2)


def detach_variable(inputs: tuple) -> tuple:
    """Each input out of the graph (tensors detached, requiring grad as before), as PyTorch's."""
    if not isinstance(inputs, tuple):
        raise RuntimeError("Only tuple of tensors is supported. Got Unsupported input type: "
                           f"{type(inputs).__name__}")
    return tuple(x.detach().requires_grad_(x.requires_grad) if isinstance(x, Tensor) else x
                 for x in inputs)


@contextlib.contextmanager
def _generator_at(state: Any) -> Iterator[None]:
    """Run the block with the default generator at `state` (None: as it is), then put back
    the state it had, so that the rerun draws nothing from the program's stream."""
    if state is None:
        yield
        return
    now = get_rng_state()
    set_rng_state(state)
    try:
        yield
    finally:
        set_rng_state(now)


def _reentrant(use_reentrant: bool | None, where: str) -> bool:
    """use_reentrant as PyTorch 2.13 reads it: None warns and means True."""
    if use_reentrant is None:
        warnings.warn(where, stacklevel=3)
        return True
    return bool(use_reentrant)


def checkpoint(function: Callable, *args: Any, use_reentrant: bool | None = None,
               context_fn: Callable[[], tuple] = noop_context_fn,
               determinism_check: str = "default", debug: bool = False,
               early_stop: bool = True, preserve_rng_state: bool = True,
               **kwargs: Any) -> Any:
    """function(*args, **kwargs), its activations recomputed in backward rather than kept,
    as torch.utils.checkpoint.checkpoint (see the module's docstring for the variants)."""
    use_reentrant = _reentrant(use_reentrant, (
        "torch.utils.checkpoint: the use_reentrant parameter should be passed explicitly. "
        "Starting in PyTorch 2.9, calling checkpoint without use_reentrant will raise an "
        "exception. " + _EXPLICIT))
    if not callable(function):
        raise TypeError(f"checkpoint takes the function to run first; got "
                        f"{type(function).__name__} {function!r:.40}")
    if use_reentrant:
        if kwargs:
            raise ValueError("Unexpected keyword arguments: " + ",".join(kwargs))
        if context_fn is not noop_context_fn or debug is not False:
            raise ValueError("Passing `context_fn` or `debug` is only supported when "
                             "use_reentrant=False.")
        return CheckpointFunction.apply(function, preserve_rng_state, *args)
    if determinism_check not in _CHECKS:
        raise ValueError(f"determinism_check should be one of {list(_CHECKS)}, but got "
                         f"{determinism_check}")
    forward_context, recompute_context = context_fn()
    rng_state = get_rng_state() if preserve_rng_state else None
    with forward_context:
        ret = function(*args, **kwargs)
    outputs = _tensors(ret)
    made, freed = _free_interior(outputs)
    if freed:
        recompute = _Recompute(function, args, kwargs, rng_state, recompute_context,
                               determinism_check == "default", outputs, made, freed)
        for i in made:
            if outputs[i]._a is not None:  # a node: its backward may need what was freed
                outputs[i].register_hook(recompute)
    return ret


def checkpoint_sequential(functions: Any, segments: int, input: Any,
                          use_reentrant: bool | None = None, **kwargs: Any) -> Any:
    """Run `functions` (an nn.Sequential, or a list of modules or functions) one after the
    other on `input`, in `segments` segments, each but the last checkpointed, as
    torch.utils.checkpoint.checkpoint_sequential."""
    use_reentrant = _reentrant(use_reentrant, (
        "torch.utils.checkpoint.checkpoint_sequential: the use_reentrant parameter should "
        "be passed explicitly. In version 2.9 we will raise an exception if use_reentrant "
        "is not passed. " + _EXPLICIT))
    preserve = kwargs.pop("preserve_rng_state", True)
    if kwargs:
        raise ValueError("Unexpected keyword arguments: " + ",".join(kwargs))
    nn = sys.modules.get("nn")  # (not imported: if nn is not loaded, this is no Sequential)
    if nn is not None and isinstance(functions, nn.Sequential):
        functions = list(functions.children())
    segments = operator.index(segments)
    if not 1 <= segments <= len(functions):
        raise ValueError(f"checkpoint_sequential: segments must be between 1 and the number "
                         f"of functions, {len(functions)}; got {segments}")
    size = len(functions) // segments
    for start in range(0, size * (segments - 1), size):
        input = checkpoint(_run(functions[start:start + size]), input,
                           use_reentrant=use_reentrant, preserve_rng_state=preserve)
    return _run(functions[size * (segments - 1):])(input)


def _run(functions: list) -> Callable[[Any], Any]:
    """One segment: its functions applied in turn."""
    def forward(input: Any) -> Any:
        for function in functions:
            input = function(input)
        return input
    return forward


def _tensors(ret: Any) -> list:
    """The tensors in what function returned (in tuples, lists and dict values too), in
    order, a tensor returned twice listed twice."""
    if isinstance(ret, Tensor):
        return [ret]
    if isinstance(ret, dict):
        ret = list(ret.values())
    if isinstance(ret, (tuple, list)):
        return [t for item in ret for t in _tensors(item)]
    return []


# --- the non-reentrant variant: free what only the graph holds, put it back in backward ---

def _refcount(node: Tensor) -> int:
    """How many references to node there are (this call's own included)."""
    return sys.getrefcount(node)


def _walk_refs() -> int:
    """The references that _free_interior's own bookkeeping adds to the node it asks about
    (a local name and a key of its count), measured once, so the test is exact."""
    probe = object()
    counted = {probe: 0}
    return _refcount(probe) - counted[probe]


_WALK_REFS = _walk_refs()


def _free_interior(outputs: list) -> tuple[list, dict]:
    """Free the arrays of the nodes behind `outputs` that only the graph behind them holds:
    what function made and nobody kept. Returns the positions of the outputs function made
    (those whose only holders are the returned value and the graph) and the freed nodes,
    each with the shape and dtype it had.

    A node qualifies when its reference count is the references counted from the nodes
    that qualified already (a parent slot each), so a tensor that anything else holds, an
    input, a parameter, a tensor a module stored, stays whole, and so does all behind it.
    (Python's reference count is the one way to know that nothing else can reach a node:
    the graph's nodes do not know who else holds them.)
    """
    counted = dict.fromkeys(outputs, 0)
    for i in range(len(outputs)):  # each held by its place in the returned value and here
        counted[outputs[i]] += 2  # (no loop variable: it would hold one too)
    is_output = {id(o) for o in counted}
    stack = [o for o in counted if _refcount(o) - counted[o] == _WALK_REFS]
    made = {id(o) for o in stack}
    freed: dict = {}

    def reach(p: Tensor) -> None:
        """Count one more reference to p from the nodes that qualified; free it if that
        is all of them."""
        count = counted[p] = counted.get(p, 0) + 1
        if p._data is None or _refcount(p) - count != _WALK_REFS:
            return  # held elsewhere, or freed already by a checkpoint inside this one
        stack.append(p)
        if id(p) in is_output:
            made.add(id(p))
        else:
            freed[p] = (p._data.shape, p._data.dtype)
            p._data = None

    while stack:
        node = stack.pop()
        if node._a is None:
            continue
        reach(node._a)  # parents one at a time: a tuple of them would hold them too
        if node._b is not None:
            reach(node._b)
            for i in range(len(node._more)):
                reach(node._more[i])
    return [i for i, o in enumerate(outputs) if id(o) in made], freed


class _Recompute:
    """What a non-reentrant checkpoint keeps for its backward pass: the call, the
    generator's state, the outputs function made (weakly) and the freed nodes. Called as a
    hook of those outputs, it reruns function once and puts the freed arrays back."""

    def __init__(self, function: Callable, args: tuple, kwargs: dict, rng_state: Any,
                 context: Any, check: bool, outputs: list, made: list, freed: dict) -> None:
        self.function, self.args, self.kwargs = function, args, kwargs
        self.rng_state, self.context, self.check = rng_state, context, check
        self.versions = [(t, t._version) for t in _tensors([args, kwargs])]
        self.count = len(outputs)
        self.outputs = [(i, weakref.ref(outputs[i])) for i in made]
        self.freed = freed
        self.lock = threading.Lock()  # two threads' backward passes: one rerun

    def __call__(self, grad: Tensor) -> None:
        with self.lock:
            if self.function is None:
                return
            self._recompute()
            # let go of the inputs and nodes: the graph alone holds them from here
            self.function = self.args = self.kwargs = self.rng_state = None
            self.outputs, self.freed, self.versions = [], {}, []

    def _recompute(self) -> None:
        for i, (t, version) in enumerate(self.versions):
            if t._version != version:
                raise RuntimeError(
                    f"checkpoint: tensor input {i} of the checkpointed function was modified "
                    "by an in-place operation between the forward and the backward pass, so "
                    "its recomputation would give other activations. Change a copy instead.")
        with _generator_at(self.rng_state), enable_grad(), self.context:
            ret = self.function(*self.args, **self.kwargs)
        rerun = _tensors(ret)
        if len(rerun) != self.count:
            raise CheckpointError(
                f"torch.utils.checkpoint: the recomputation returned {len(rerun)} tensors, the "
                f"original forward pass {self.count}: the checkpointed function must do the "
                "same when it runs again in backward")
        pairs = [(o, rerun[i]) for i, ref in self.outputs if (o := ref()) is not None]
        _restore(pairs, {id(o) for o, _ in pairs}, self.freed, self.check)


def _restore(pairs: list, made: set, freed: dict, check: bool) -> None:
    """Walk the forward's graph and the rerun's side by side from the outputs, through the
    nodes function made, putting the rerun's array into each freed node."""
    seen: set = set()
    while pairs:
        node, again = pairs.pop()
        if node is again or id(node) in seen:  # the rerun used this very tensor: not made
            continue
        seen.add(id(node))
        if node not in freed and id(node) not in made:
            continue  # kept whole: nothing behind it was freed by this checkpoint
        parents, parents_again = node._prev, again._prev
        if node._op != again._op or len(parents) != len(parents_again):
            raise CheckpointError(
                "torch.utils.checkpoint: the recomputation ran other operations than the "
                f"original forward pass: {_name(node)} with {len(parents)} inputs then, "
                f"{_name(again)} with {len(parents_again)} now. The checkpointed function "
                "must do the same when it runs again in backward (no global state that "
                "changed in between).")
        if node in freed:
            shape, dtype = freed[node]
            data = again._data
            if check and (data.shape != shape or data.dtype != dtype):
                raise CheckpointError(
                    "torch.utils.checkpoint: Recomputed values for the following tensors have "
                    f"different metadata than during the forward pass: the {_name(node)} "
                    f"result was {shape} {dtype}, recomputed {data.shape} {data.dtype}. "
                    "Pass determinism_check='none' to skip this check.")
            node._data = data
        pairs.extend(zip(parents, parents_again))


def _name(node: Tensor) -> str:
    return repr(node._op) if node._op else "a leaf"


# --- the reentrant variant ---

class CheckpointFunction(Function):
    """PyTorch's reentrant checkpoint (use_reentrant=True): apply(function,
    preserve_rng_state, *args) runs function under no_grad; backward reruns it on the
    inputs detached and backpropagates through the rerun."""

    @staticmethod
    def forward(ctx: FunctionCtx, run_function: Callable, preserve_rng_state: bool,
                *args: Any) -> Any:
        check_backward_validity(args)
        ctx.run_function = run_function
        ctx.rng_state = get_rng_state() if preserve_rng_state else None
        ctx.inputs = args  # its tensors are read via saved_tensors, which checks versions
        ctx.save_for_backward(*(a for a in args if isinstance(a, Tensor)))
        return run_function(*args)

    @staticmethod
    def backward(ctx: FunctionCtx, *grads: Tensor | None) -> tuple:
        tensors = iter(ctx.saved_tensors)
        inputs = detach_variable(tuple(next(tensors) if isinstance(a, Tensor) else a
                                       for a in ctx.inputs))
        with _generator_at(ctx.rng_state), enable_grad():
            outputs = ctx.run_function(*inputs)
        outputs = outputs if isinstance(outputs, tuple) else (outputs,)
        reached = [(o, g) for o, g in zip(outputs, grads)
                   if isinstance(o, Tensor) and o.requires_grad and g is not None]
        if not reached:
            raise RuntimeError("none of output has requires_grad=True, this checkpoint() is "
                               "not necessary")
        autograd.backward([o for o, _ in reached], [g for _, g in reached])
        return (None, None, *(x.grad if isinstance(x, Tensor) else None for x in inputs))
