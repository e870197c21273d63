"""PyTorch's function transforms, as torch.func: grad, grad_and_value, vjp, jvp, jacrev,
jacfwd, hessian and vmap (also `engine.vmap`), with functional_call and stack_module_state
(in nn/utils/stateless.py) for running a Module on parameters held in a dict.

Arguments and results are pytrees, as PyTorch's (engine/pytree.py): Tensors, or tuples,
lists, dicts and namedtuples of them, nested; `grad(loss)(params_dict, x, y)` returns a dict.

How the transforms nest without levels of wrapped tensors: each call of a differentiating
transform is a `_Level`. It gives `func` inputs of its own: a fresh leaf that requires grad,
or, where the caller's tensor is itself in a graph that is being recorded, an identity node
on top of it, so gradients also reach the caller's leaves. After `func` has run, one walk of
its graph tells whether the output depends on any tensor that requires grad other than the
level's own inputs (an outer transform's input, a Parameter the function closes over, the
caller's leaf): only then can anyone differentiate the result again, and only then does the
level record its backward pass (create_graph). A plain top-level call runs the fast
backward and returns tensors that do not require grad, as torch.func's do; `grad(grad(f))`,
`jacrev(grad(f))`, `hessian` and a transform inside a training step's `loss.backward()`
give the higher derivatives. What a level returns (values, aux, gradients) is taken out of
the graph unless it depends on such an outer tensor.

Reverse mode throughout: `jvp` uses the double-backward trick (engine/functional.py's), and
`jacfwd` computes what `jacrev` does, by one backward pass per output entry; its
`randomness` is checked (a draw under 'error' is refused, as PyTorch's) but otherwise has no
effect, since `func` runs once. `vmap` runs `func` on each slice along the batch dimension in
a Python loop (one call per batch entry, never per element) and stacks the results: honest
and general, and differentiable, since the slicing and the stack are graph ops. Its
randomness: 'different' lets each slice draw its own numbers, 'same' replays the generator
state for every slice (so every slice gets the numbers one unbatched call draws, as
PyTorch's), 'error' refuses a draw from the default generator, seen as a change of its
state (so a draw from a Generator of the caller's own passes, and one by another thread
meanwhile is refused too). `chunk_size` is checked and changes nothing: slices run one
at a time anyway. A batch of size 0 runs func once, on zeros, for the shapes of its
outputs. With `out_dims=None`, an output whose numbers differ between slices is
refused (PyTorch refuses one that depends on the batch at all).
"""
from __future__ import annotations

import functools
import importlib
from typing import Any, Callable

import numpy as np

from engine.functional import _block, _fill_in_zeros, _grad, _one_hots, _zeros_like
from engine.generator import default_generator
from engine.grad_mode import enable_grad, is_grad_enabled
from engine.pytree import broadcast_prefix, describe, flatten, unflatten
from engine.shapes import stack
from engine.tensor import Tensor, _leaf

_STATELESS = ("functional_call", "stack_module_state")  # nn/utils/stateless.py's, on first use
__all__ = ["grad", "grad_and_value", "vjp", "jvp", "jacrev", "jacfwd", "hessian", "vmap",
           *_STATELESS]
_RANDOMNESS = ("error", "different", "same")


def _tensors_only(leaves: list, where: str) -> None:
    """Refuse, with PyTorch's message, an output of func that is not a Tensor."""
    for leaf in leaves:
        if not isinstance(leaf, Tensor):
            raise RuntimeError(f"{where}: expected f(*primals) to return only tensors, got "
                               f"unsupported type {type(leaf)}")


# --- one call of a differentiating transform ---

class _Level:
    """The inputs one transform call gave func, and what of its results leaves it in a graph."""

    def __init__(self) -> None:
        self.outer = is_grad_enabled()  # whether the caller records graphs at all
        self._own: set = set()
        self._memo: dict = {}  # node -> whether it reaches a tensor outside this level

    def enter(self, x: Any) -> Tensor:
        """x as func sees it: a leaf of this level's own, or an identity node on x when the
        caller's graph runs through x."""
        if not isinstance(x, Tensor):
            raise ValueError(f"Thing passed to transform API must be Tensor, got {type(x)}")
        if self.outer and x.requires_grad:
            return x.view_as(x)
        return self.adopt(x.detach().requires_grad_())

    def adopt(self, leaf: Tensor) -> Tensor:
        """leaf, counted as this level's own."""
        self._own.add(leaf)
        return leaf

    def reaches(self, nodes: list) -> bool:
        """Whether a node depends on a tensor that requires grad and is not this level's
        own: then an outer transform, or the caller's backward, may differentiate it."""
        memo, own = self._memo, self._own
        for root in nodes:
            if not isinstance(root, Tensor) or not root.requires_grad:
                continue
            pending = [root]
            while pending:  # post-order, iteratively: graphs may be deep
                node = pending[-1]
                if node in memo:
                    pending.pop()
                    continue
                parents = node._prev
                if not parents:
                    memo[node] = node not in own
                    pending.pop()
                    continue
                todo = [p for p in parents if p not in memo and p.requires_grad]
                if todo:
                    pending.extend(todo)
                    continue
                memo[node] = any(p.requires_grad and memo[p] for p in parents)
                pending.pop()
            if memo[root]:
                return True
        return False

    def leave(self, x: Any, keep: bool) -> Any:
        """x as the caller gets it: in the graph when `keep` and it reaches outside this level
        (so the caller can differentiate it), else out of it."""
        if not isinstance(x, Tensor):
            raise RuntimeError(f"Expected tensors, got unsupported type {type(x)}")
        if not x.requires_grad or keep and self.reaches([x]):
            return x
        return x.detach()

    def leave_tree(self, tree: Any, keep: bool) -> Any:
        """leave() on every leaf of a pytree (aux, the outputs)."""
        leaves, spec = flatten(tree)
        return unflatten([self.leave(x, keep) for x in leaves], spec)


def _gradients(outs: list, inputs: list, seeds: list | None, create: bool,
               retain: bool | None = None) -> tuple:
    """d outs / d inputs seeded with `seeds` (engine.grad), zeros for inputs not reached."""
    return _fill_in_zeros(_grad(tuple(outs), tuple(inputs), seeds, create_graph=create,
                                retain_graph=retain), tuple(inputs), False, "back")


def _argnums(argnums: Any, nargs: int) -> tuple[int, ...]:
    """argnums as a tuple of positions in [0, nargs), or PyTorch's error."""
    single = isinstance(argnums, int) and not isinstance(argnums, bool)
    if not single and not isinstance(argnums, tuple):
        raise RuntimeError(f"argnums must be int or Tuple[int, ...], got: {type(argnums)}")
    nums = (argnums,) if single else argnums
    if not nums:
        raise RuntimeError("argnums must be non-empty")
    for a in nums:
        if not isinstance(a, int) or isinstance(a, bool):
            raise RuntimeError(f"argnums must be int or Tuple[int, ...], got: {type(argnums)}")
        if not -nargs <= a < nargs:
            raise RuntimeError(f"Got argnum={a}, but only {nargs} positional inputs")
    wrapped = tuple(a % nargs for a in nums)
    if len(set(wrapped)) != len(wrapped):
        raise RuntimeError(f"argnums elements must be unique, got {argnums}")
    return wrapped


def _enter_args(level: _Level, args: tuple, argnums: Any) -> tuple[list, list, list]:
    """(the arguments with those at argnums entered, their leaves, each one's structure)."""
    nums = _argnums(argnums, len(args))
    args = list(args)
    inputs, specs = [], []
    for i in nums:
        leaves, spec = flatten(args[i])
        entered = [level.enter(x) for x in leaves]
        args[i] = unflatten(entered, spec)
        inputs.append(entered)
        specs.append(spec)
    return args, inputs, specs


def _by_argnums(argnums: Any, per_arg: list) -> Any:
    """One result per differentiated argument, nested as argnums is (an int: just one)."""
    return tuple(per_arg) if isinstance(argnums, tuple) else per_arg[0]


def _split_aux(out: Any, has_aux: bool, where: str) -> tuple[Any, Any]:
    """(output, aux) of func: aux is None unless has_aux, when func must return a pair."""
    if not has_aux:
        return out, None
    if not (isinstance(out, tuple) and len(out) == 2):
        raise RuntimeError(f"{where}: output of function f should be a tuple: (output, aux) "
                           "if has_aux is True")
    return out


# --- grad, vjp, jvp ---

def grad_and_value(func: Callable, argnums: int | tuple[int, ...] = 0,
                   has_aux: bool = False) -> Callable:
    """A function returning (gradient of func at argnums, func's value), as torch.func's;
    with has_aux, func returns (value, aux) and this (gradient, (value, aux))."""
    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> tuple:
        where = "grad_and_value(f)(*args)"
        level = _Level()
        with enable_grad():
            args, inputs, specs = _enter_args(level, args, argnums)
            out, aux = _split_aux(func(*args, **kwargs), has_aux, where)
            if not isinstance(out, Tensor):
                raise RuntimeError(f"{where}: Expected f(*args) to return a Tensor, got "
                                   f"{type(out)}")
            if out.ndim != 0:
                raise RuntimeError(f"{where}: Expected f(*args) to return a scalar Tensor, got "
                                   f"tensor with {out.ndim} dims. Maybe you wanted to use the "
                                   "vjp or jacrev APIs instead?")
            create = level.outer and level.reaches([out])
            # before the backward pass, which lets go of the graph when it records none
            value = level.leave(out, create)
            aux = level.leave_tree(aux, level.outer) if has_aux else None
            flat = [level.leave(g, create) for g in _gradients(
                [out], [x for xs in inputs for x in xs], None, create)]
        grads, start = [], 0
        for xs, spec in zip(inputs, specs):
            grads.append(unflatten(flat[start:start + len(xs)], spec))
            start += len(xs)
        grads = _by_argnums(argnums, grads)
        return (grads, (value, aux)) if has_aux else (grads, value)
    return wrapper


def grad(func: Callable, argnums: int | tuple[int, ...] = 0, has_aux: bool = False) -> Callable:
    """A function returning the gradient of func (a scalar Tensor) at its arguments argnums,
    as torch.func.grad; with has_aux, (gradient, aux)."""
    both = grad_and_value(func, argnums, has_aux)

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        grads, value = both(*args, **kwargs)
        return (grads, value[1]) if has_aux else grads
    return wrapper


def vjp(func: Callable, *primals: Any, has_aux: bool = False) -> tuple:
    """(func(*primals), vjp_fn[, aux]): vjp_fn(cotangents) gives, for each primal, the
    cotangents times func's Jacobian there, as torch.func.vjp; it may be called again."""
    where = "vjp(f, *primals)"
    level = _Level()
    with enable_grad():
        leaves, spec = flatten(primals)
        inputs = [level.enter(x) for x in leaves]
        out, aux = _split_aux(func(*unflatten(inputs, spec)), has_aux, where)
        outs, out_spec = flatten(out)
        _tensors_only(outs, where)
        keep = level.outer and level.reaches(outs)
        result = level.leave_tree(out, keep)

    def vjp_fn(cotangents: Any, retain_graph: bool = True, create_graph: bool | None = None
               ) -> tuple:
        """The vector-Jacobian product for each primal, in the primals' structure."""
        seeds, seed_spec = flatten(cotangents)
        if seed_spec != out_spec:
            raise RuntimeError("Expected pytree structure of cotangents to be the same as "
                               "pytree structure of outputs to the function. cotangents: "
                               f"{describe(seed_spec)}, primal output: {describe(out_spec)}")
        for i, (v, o) in enumerate(zip(seeds, outs)):
            if not isinstance(v, Tensor):
                raise TypeError(f"gradients can be either Tensors or None, but got "
                                f"{type(v).__name__}")
            if v.shape != o.shape:
                raise RuntimeError(f"Mismatch in shape: grad_output[{i}] has a shape of "
                                   f"{v.shape} and output[{i}] has a shape of {o.shape}.")
        create = create_graph if create_graph is not None else is_grad_enabled() and (
            keep or any(v.requires_grad for v in seeds))
        with enable_grad():
            grads = _gradients(outs, inputs, seeds, create, retain_graph)
        return tuple(unflatten([level.leave(g, create) for g in grads], spec))

    return (result, vjp_fn, level.leave_tree(aux, level.outer)) if has_aux else (result, vjp_fn)


def jvp(func: Callable, primals: Any, tangents: Any, *, strict: bool = False,
        has_aux: bool = False) -> tuple:
    """(func(*primals), its Jacobian times tangents[, aux]), as torch.func.jvp, by the
    double-backward trick: the gradient of u . func(x) is linear in u, and its gradient in u
    along the tangents is J v. (`strict` is accepted and ignored, as PyTorch's.)"""
    where = "jvp(f, primals, tangents)"
    for name, value in (("primals", primals), ("tangents", tangents)):
        if not isinstance(value, tuple):
            raise RuntimeError(f"{where}: Expected {name} to be a tuple. E.g. it should be "
                               "valid to call f(*primals).")
    leaves, spec = flatten(primals)
    vs, v_spec = flatten(tangents)
    if v_spec != spec:
        raise RuntimeError(f"{where}: Expected primals and tangents to have the same python "
                           "structure. For example, if primals is a tuple of 3 tensors, "
                           f"tangents also must be. Got primals with structure "
                           f"{describe(spec)} and tangents with structure {describe(v_spec)}")
    if not leaves:
        raise RuntimeError(f"{where}: Expected primals to contain at least one Tensor.")
    for x, v in zip(leaves, vs):
        if not isinstance(v, Tensor):
            raise RuntimeError(f"{where}: Expected tangents to only contain Tensors, got "
                               f"{type(v)}")
        if isinstance(x, Tensor) and v.shape != x.shape:
            raise RuntimeError("Trying to set a forward gradient that has a different size "
                               "than that of the original Tensor, this is not supported. "
                               f"Tensor is of size {list(x.shape)} while the given forward "
                               f"gradient is of size {list(v.shape)}.")
    level = _Level()
    with enable_grad():
        inputs = [level.enter(x) for x in leaves]
        out, aux = _split_aux(func(*unflatten(inputs, spec)), has_aux, where)
        outs, out_spec = flatten(out)
        _tensors_only(outs, where)
        us = [level.adopt(_zeros_like(o, requires_grad=True)) if o.requires_grad else None
              for o in outs]
        kept = [(o, u) for o, u in zip(outs, us) if u is not None]
        back = _grad(tuple(o for o, _ in kept), tuple(inputs), [u for _, u in kept],
                     create_graph=True) if kept else (None,) * len(inputs)
        create = level.outer and (level.reaches(outs) or any(v.requires_grad for v in vs))
        result = level.leave_tree(out, create)
        forward = [None] * len(outs)
        if kept:
            pairs = [(g, v) for g, v in zip(back, vs) if g is not None]
            if pairs:
                picked = iter(_gradients([g for g, _ in pairs], [u for _, u in kept],
                                         [v for _, v in pairs], create))
                forward = [None if u is None else level.leave(next(picked), create)
                           for u in us]
        forward = [_zeros_like(o) if f is None else f for f, o in zip(forward, outs)]
    tangent_out = unflatten(forward, out_spec)
    if has_aux:
        return result, tangent_out, level.leave_tree(aux, level.outer)
    return result, tangent_out


# --- Jacobians ---

def jacrev(func: Callable, argnums: int | tuple[int, ...] = 0, *, has_aux: bool = False,
           chunk_size: int | None = None) -> Callable:
    """A function returning the Jacobian of func at its arguments argnums, as
    torch.func.jacrev: for each output leaf, per argument, a Tensor of shape out.shape +
    input.shape (nested as the output, then argnums, then the argument); one backward pass
    per output entry (chunk_size, which batches them in PyTorch, changes nothing here)."""
    if chunk_size is not None and chunk_size <= 0:
        raise ValueError("jacrev: `chunk_size` should be greater than 0.")

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        where = "vjp(f, *primals)"
        level = _Level()
        with enable_grad():
            args, inputs, specs = _enter_args(level, args, argnums)
            out, aux = _split_aux(func(*args, **kwargs), has_aux, where)
            outs, out_spec = flatten(out)
            _tensors_only(outs, where)
            flat = [x for xs in inputs for x in xs]
            create = level.outer and level.reaches(outs)
            if has_aux:
                aux = level.leave_tree(aux, level.outer)
            blocks = []
            for o in outs:
                rows = [_gradients([o], flat, [seed], create, retain=True)
                        for seed in _one_hots(o)]
                per_input = [level.leave(_block([r[k] for r in rows], o, x), create)
                             for k, x in enumerate(flat)]
                per_arg, start = [], 0
                for xs, spec in zip(inputs, specs):
                    per_arg.append(unflatten(per_input[start:start + len(xs)], spec))
                    start += len(xs)
                blocks.append(_by_argnums(argnums, per_arg))
        jac = unflatten(blocks, out_spec)
        return (jac, aux) if has_aux else jac
    return wrapper


def jacfwd(func: Callable, argnums: int | tuple[int, ...] = 0, has_aux: bool = False, *,
           randomness: str = "error") -> Callable:
    """torch.func.jacfwd's Jacobian, computed in reverse mode as jacrev's (the same
    numbers); under randomness='error' a random draw in func is refused, as PyTorch's."""
    _check_randomness(randomness)
    reverse = jacrev(func, argnums, has_aux=has_aux)

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        return _guarded(randomness, lambda: reverse(*args, **kwargs))
    return wrapper


def hessian(func: Callable, argnums: int | tuple[int, ...] = 0) -> Callable:
    """The second derivatives of func at its arguments argnums, jacfwd(jacrev(func)), as
    torch.func.hessian: shape out.shape + input.shape + input.shape."""
    return jacfwd(jacrev(func, argnums), argnums)


# --- vmap ---

def _check_randomness(randomness: Any) -> None:
    """Refuse a randomness other than PyTorch's three, with its message."""
    if randomness not in _RANDOMNESS:
        raise RuntimeError("Only allowed values for randomness are 'error', 'different', or "
                           f"'same'. Got {randomness}")


def _guarded(randomness: str, run: Callable[[], Any]) -> Any:
    """run(), refused under 'error' if it drew from the default generator (whose state is
    then put back)."""
    if randomness != "error":
        return run()
    before = default_generator.get_state()
    result = run()
    if not np.array_equal(default_generator.get_state(), before):
        default_generator.set_state(before)
        raise RuntimeError("vmap: called random operation while in randomness error mode. "
                           "Please either use the 'same' or 'different' randomness flags on "
                           "vmap or perform the randomness operation out of vmap")
    return result


def vmap(func: Callable, in_dims: int | tuple = 0, out_dims: int | tuple | None = 0,
         randomness: str = "error", *, chunk_size: int | None = None) -> Callable:
    """func mapped over a batch dimension of its inputs (in_dims: per argument an int, None
    for an argument shared by every slice, or a nested structure matching it), results
    stacked along out_dims, as torch.func.vmap; one call of func per batch entry."""
    _check_randomness(randomness)
    if chunk_size is not None and (not isinstance(chunk_size, int) or chunk_size <= 0):
        raise ValueError(f"vmap: chunk_size should be None or greater than 0. (got "
                         f"{chunk_size})")

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        return _guarded(randomness, lambda: _vmapped(func, in_dims, out_dims, randomness,
                                                     args, kwargs))
    return wrapper


def _slices(func: Callable, in_dims: Any, args: tuple) -> tuple[list, Any, int]:
    """(per argument leaf: its slices along its in_dim, or None; the arguments' structure;
    the batch size), or PyTorch's error for in_dims that do not fit the arguments."""
    name = getattr(func, "__name__", repr(func))
    where = f"vmap({name}, in_dims={in_dims!r}, ...)(<inputs>)"
    if not args:
        raise ValueError(f"vmap({name})(<inputs>): got no inputs. Maybe you forgot to add "
                         "inputs, or you are trying to vmap over a function with no inputs. "
                         "The latter is unsupported.")
    if isinstance(in_dims, bool) or not isinstance(in_dims, (int, tuple)):
        raise ValueError(f"{where}: expected `in_dims` to be int or a (potentially nested) "
                         f"tuple matching the structure of inputs, got: {type(in_dims)}.")
    leaves, spec = flatten(args)
    dims = broadcast_prefix(in_dims, args)
    if dims is None:
        raise ValueError(f"{where}: in_dims is not compatible with the structure of `inputs`. "
                         f"in_dims has structure {describe(flatten(in_dims)[1])} but inputs "
                         f"has structure {describe(spec)}.")
    sizes, picked = [], []
    for x, d in zip(leaves, dims):
        if d is None:
            picked.append(None)
            continue
        if isinstance(d, bool) or not isinstance(d, int):
            raise ValueError(f"{where}: Got in_dim={d} for an input but in_dim must be either "
                             "an integer dimension or None.")
        if not isinstance(x, Tensor):
            raise ValueError(f"{where}: Got in_dim={d} for an input but the input is of type "
                             f"{type(x)}. We cannot vmap over non-Tensor arguments, please "
                             "use None as the respective in_dim")
        if not -x.ndim <= d < x.ndim:
            raise ValueError(f"{where}: Got in_dim={d} for some input, but that input is a "
                             f"Tensor of dimensionality {x.ndim} so expected in_dim to satisfy "
                             f"-{x.ndim} <= in_dim < {x.ndim}.")
        sizes.append(x.shape[d % x.ndim])
        picked.append(d % x.ndim)
    if not sizes:
        raise ValueError("vmap: Expected at least one Tensor to vmap over")
    if len(set(sizes)) > 1:
        raise ValueError("vmap: Expected all tensors to have the same size in the mapped "
                         f"dimension, got sizes {sizes} for the mapped dimension")
    columns = []
    for x, d in zip(leaves, picked):
        if d is None:
            columns.append(None)
        elif sizes[0] == 0:  # func still runs once, on zeros, to learn its outputs' shapes
            shape = x.shape[:d] + x.shape[d + 1:]
            columns.append([_leaf(np.zeros(shape, x.dtype))])
        else:
            columns.append(x.unbind(d))
    return [(x, c) for x, c in zip(leaves, columns)], spec, sizes[0]


def _vmapped(func: Callable, in_dims: Any, out_dims: Any, randomness: str, args: tuple,
             kwargs: dict) -> Any:
    """func on each slice of args, its outputs stacked along out_dims."""
    name = getattr(func, "__name__", repr(func))
    columns, spec, size = _slices(func, in_dims, args)
    start = default_generator.get_state() if randomness == "same" else None
    outputs = []
    for b in range(max(size, 1)):
        if start is not None:
            default_generator.set_state(start)
        sliced = [x if c is None else c[b] for x, c in columns]
        outputs.append(flatten(func(*unflatten(sliced, spec), **kwargs)))
    out_spec = outputs[0][1]
    if any(s != out_spec for _, s in outputs):
        raise ValueError(f"vmap({name}, ...): `{name}` returned outputs of different "
                         f"structures for different slices: {describe(out_spec)} and "
                         f"{describe(next(s for _, s in outputs if s != out_spec))}")
    where = f"vmap({name}, ..., out_dims={out_dims!r})"
    if not all(d is None or isinstance(d, int) and not isinstance(d, bool)
               for d in flatten(out_dims)[0]):
        raise ValueError(f"{where}: `out_dims` must be an int, None or a python collection of "
                         "ints representing where in the outputs the vmapped dimension should "
                         "appear.")
    dims = broadcast_prefix(out_dims, unflatten(outputs[0][0], out_spec))
    if dims is None:
        raise ValueError(f"{where}(<inputs>): out_dims is not compatible with the structure "
                         f"of `outputs`. out_dims has structure "
                         f"{describe(flatten(out_dims)[1])} but outputs has structure "
                         f"{describe(out_spec)}.")
    results = []
    for k, d in enumerate(dims):
        column = [leaves[k] for leaves, _ in outputs]
        if d is None:
            results.append(_unbatched(column, name))
            continue
        first = column[0]
        if not isinstance(first, Tensor):
            raise ValueError(f"vmap({name}, ...): `{name}` must only return Tensors, got type "
                             f"{type(first)}. Did you mean to set out_dims= to None for "
                             "output?")
        n = first.ndim + 1
        if not -n <= d < n:
            raise IndexError(f"vmap({name}, ...): out_dim={d} is out of range for an output "
                             f"of {first.ndim} dims per slice (expected to be in range of "
                             f"[{-n}, {n - 1}], but got {d})")
        if size == 0:
            shape = list(first.shape)
            shape.insert(d % n, 0)
            results.append(_leaf(np.zeros(shape, first.dtype)))
        else:
            results.append(stack(column, d))
    return unflatten(results, out_spec)


def _unbatched(column: list, name: str) -> Any:
    """The one value an output with out_dim None has in every slice, or PyTorch's error."""
    first = column[0]
    if isinstance(first, Tensor):
        a = first.numpy()
        for other in column[1:]:
            b = other.numpy() if isinstance(other, Tensor) else None
            if b is None or b.shape != a.shape or not np.array_equal(
                    a, b, equal_nan=a.dtype.kind in "fc"):
                raise ValueError(f"vmap({name}, ...): `{name}` can not return a "
                                 "BatchedTensor when out_dim is None")
    return first


def __getattr__(name: str) -> Any:
    if name in _STATELESS:  # they work on nn's Modules: loaded when asked for
        return getattr(importlib.import_module("nn.utils.stateless"), name)
    raise AttributeError(f"module 'engine.func' has no attribute {name!r}")
