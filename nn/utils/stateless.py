"""A Module run on parameters held in dicts, as torch.func.functional_call (and
torch.nn.utils.stateless's), and stack_module_state, which stacks several models' parameters
for vmap (engine/func.py): per-sample gradients and model ensembles.

functional_call puts the given tensors in the places of the module's own, by their dotted
names, for one call, and puts the originals back afterwards, also when the call raises.
A Module here holds its state in plain attributes (and lists, tuples and dicts of them, see
nn/module.py), so a place is found by the identity of the tensor that sits there; the
given tensors are used as they are, so gradients flow to them.
"""
from __future__ import annotations

from typing import Any, Sequence

from engine.shapes import stack
from engine.tensor import Tensor
from nn.module import Module

__all__ = ["functional_call", "stack_module_state"]
_ABSENT = object()  # an attribute the module did not have before the call


def _places(holder: Any, target: Any) -> list[tuple]:
    """The key paths under holder (a dict, list or tuple; Modules are not entered) at which
    `target` itself sits."""
    found, todo = [], [((), holder)]
    while todo:
        path, obj = todo.pop()
        for key, value in obj.items() if isinstance(obj, dict) else enumerate(obj):
            if value is target:
                found.append(path + (key,))
            elif isinstance(value, (dict, list, tuple)):
                todo.append((path + (key,), value))
    return found


def _put(holder: Any, path: tuple, value: Any) -> Any:
    """holder with value at path (a tuple on the way is rebuilt in its parent); holder itself
    unless it is a tuple."""
    key = path[0]
    if len(path) > 1:
        value = _put(holder[key], path[1:], value)
    if isinstance(holder, tuple):
        items = list(holder)
        items[key] = value
        return holder._make(items) if hasattr(holder, "_fields") else tuple(items)
    holder[key] = value
    return holder


def _merged(module: Module, dicts: Any, tie_weights: bool, strict: bool) -> dict:
    """One name -> tensor dict of the given ones, tied names filled in, checked as PyTorch's."""
    dicts = (dicts,) if isinstance(dicts, dict) else dicts
    if not isinstance(dicts, (tuple, list)) or not all(isinstance(d, dict) for d in dicts):
        raise ValueError("Expected all elements of parameter_and_buffer_dicts to be "
                         "dictionaries")
    merged: dict = {}
    for d in dicts:
        twice = sorted(set(merged) & set(d))
        if twice:
            raise ValueError(f"{twice} appeared in multiple dictionaries; behavior of "
                             "functional call is ambiguous")
        merged.update(d)
    for key, value in merged.items():
        if not isinstance(value, Tensor):
            raise TypeError(f"functional_call: the value for {key!r} is a "
                            f"{type(value).__name__}, not a Tensor")
    named = dict(module._named_nodes(remove_duplicate=False))
    if tie_weights:
        tied: dict = {}
        for name, node in named.items():
            tied.setdefault(id(node), []).append(name)
        for names in tied.values():
            given = [n for n in names if n in merged]
            if len(names) < 2 or not given:
                continue
            if len({id(merged[n]) for n in given}) > 1:
                raise ValueError(f"functional_call got multiple values for keys "
                                 f"{sorted(names)}, which are tied. Consider using "
                                 "tie_weights=False")
            merged.update(dict.fromkeys(names, merged[given[0]]))
    if strict:
        errors = []
        unexpected, missing = sorted(set(merged) - set(named)), sorted(set(named) - set(merged))
        if unexpected:
            errors.append(f"Unexpected key(s): {', '.join(map(repr, unexpected))}.")
        if missing:
            errors.append(f"Missing key(s): {', '.join(map(repr, missing))}.")
        if errors:
            raise RuntimeError(f"Error(s) in reparametrizing for {type(module).__name__}:\n\t"
                               + "\n\t".join(errors))
    return merged


def functional_call(module: Module, parameter_and_buffer_dicts: dict | Sequence[dict],
                    args: Any = None, kwargs: dict | None = None, *, tie_weights: bool = True,
                    strict: bool = False) -> Any:
    """module(*args, **kwargs) with the given tensors (dotted name -> Tensor, in one dict or a
    tuple of them) in the places of its parameters and buffers, as torch.func's; a name the
    module lacks becomes an attribute for the call (strict=True refuses it, and any name
    left out). With tie_weights, a tensor given for one of several names of one tied weight
    takes all of them."""
    merged = _merged(module, parameter_and_buffer_dicts, tie_weights, strict)
    args = () if args is None else args if isinstance(args, tuple) else (args,)
    named = dict(module._named_nodes(remove_duplicate=False))
    modules = dict(module.named_modules(remove_duplicate=False))
    undo: list = []  # (holder, path, what was there), put back last first
    try:
        for key, value in merged.items():
            parts = key.split(".")
            cut = next(i for i in range(len(parts) - 1, -1, -1)
                       if ".".join(parts[:i]) in modules)
            owner = modules[".".join(parts[:cut])]
            holder = vars(owner)
            if key in named:
                for path in _places(holder, named[key]):
                    undo.append((holder, path, named[key]))
                    _put(holder, path, value)
            elif cut == len(parts) - 1:
                undo.append((holder, (parts[-1],), holder.get(parts[-1], _ABSENT)))
                holder[parts[-1]] = value
            else:
                raise AttributeError(f"{type(owner).__name__} has no attribute `{parts[cut]}`")
        return module(*args, **({} if kwargs is None else kwargs))
    finally:
        for holder, path, original in reversed(undo):
            if original is _ABSENT:
                del holder[path[0]]
            else:
                _put(holder, path, original)


def _stacked(tensors: list, name: str) -> Tensor:
    """The models' tensors for one name stacked, a fresh leaf requiring grad if they all do."""
    wants = {t.requires_grad for t in tensors}
    if len(wants) > 1:
        raise RuntimeError(f"Expected {name} from each model to have the same .requires_grad")
    out = stack(tensors)
    return out.detach().requires_grad_() if wants == {True} else out


def stack_module_state(models: Sequence[Module]) -> tuple[dict, dict]:
    """(parameters, buffers) of several models of one class, each name's tensors stacked
    along a new first dim, for vmap over functional_call, as torch.func's."""
    models = list(models)
    if not models:
        raise RuntimeError("stack_module_state: Expected at least one model, got 0.")
    if len({m.training for m in models}) > 1:
        raise RuntimeError("stack_module_state: Expected all models to have the same "
                           "training/eval mode.")
    if len({type(m) for m in models}) > 1:
        raise RuntimeError("stack_module_state: Expected all models to be of the same class.")
    result = []
    for kind in ("named_parameters", "named_buffers"):
        each = [dict(getattr(m, kind)()) for m in models]
        for i, d in enumerate(each):
            if d.keys() != each[0].keys():
                raise KeyError(f"stack_module_state: model {i} has {kind[6:]} "
                               f"{sorted(d)}, model 0 has {sorted(each[0])}")
        result.append({name: _stacked([d[name] for d in each], name) for name in each[0]})
    return result[0], result[1]
