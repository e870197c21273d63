"""Pytrees, as torch.utils._pytree has them: nested tuples, lists, dicts (and OrderedDicts)
and namedtuples whose other contents are leaves. engine/func.py's transforms take and return
them: `flatten` gives the leaves left to right and the structure, `unflatten` puts leaves
back, `broadcast_prefix` spreads a prefix such as vmap's in_dims over the leaves beneath it,
and `describe` draws a structure as PyTorch's messages do."""
from __future__ import annotations

from collections import OrderedDict
from typing import Any

_NODES = (tuple, list, dict, OrderedDict)


def _is_node(tree: Any) -> bool:
    """Whether tree is a pytree node (a tuple, list, dict or namedtuple) rather than a leaf."""
    return type(tree) in _NODES or isinstance(tree, tuple) and hasattr(tree, "_fields")


def flatten(tree: Any) -> tuple[list, Any]:
    """The leaves of a pytree, left to right, and its structure (None for a leaf)."""
    if not _is_node(tree):
        return [tree], None
    if isinstance(tree, dict):
        keys, children = list(tree), list(tree.values())
    else:
        keys, children = None, list(tree)
    leaves, specs = [], []
    for child in children:
        more, spec = flatten(child)
        leaves += more
        specs.append(spec)
    return leaves, (type(tree), keys, tuple(specs))


def unflatten(leaves: list, spec: Any) -> Any:
    """The pytree of structure `spec` holding `leaves`, in flatten's order."""
    return _build(iter(leaves), spec)


def _build(leaves: Any, spec: Any) -> Any:
    """The pytree of structure spec, its leaves taken from the iterator `leaves`."""
    if spec is None:
        return next(leaves)
    kind, keys, specs = spec
    children = [_build(leaves, s) for s in specs]
    if keys is not None:
        return kind(zip(keys, children))
    return kind._make(children) if hasattr(kind, "_fields") else kind(children)


def describe(spec: Any) -> str:
    """A structure as PyTorch's messages draw it: (*, *), [*], {'a': *}."""
    if spec is None:
        return "*"
    kind, keys, specs = spec
    parts = [describe(s) for s in specs]
    if keys is not None:
        return "{" + ", ".join(f"{k!r}: {p}" for k, p in zip(keys, parts)) + "}"
    inner = ", ".join(parts)
    if kind is list:
        return f"[{inner}]"
    return f"{kind.__name__}({inner})" if kind is not tuple else f"({inner})"


def broadcast_prefix(prefix: Any, tree: Any) -> list | None:
    """The leaves of `prefix` (a pytree whose structure starts tree's), each repeated for the
    leaves of tree beneath it; None when prefix does not fit tree."""
    if not _is_node(prefix):
        return [prefix] * len(flatten(tree)[0])
    if type(prefix) is not type(tree):
        return None
    if isinstance(prefix, dict):
        if set(prefix) != set(tree):
            return None
        pairs = [(prefix[k], tree[k]) for k in tree]
    elif len(prefix) != len(tree):
        return None
    else:
        pairs = list(zip(prefix, tree))
    out: list = []
    for p, t in pairs:
        sub = broadcast_prefix(p, t)
        if sub is None:
            return None
        out += sub
    return out
