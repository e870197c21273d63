"""What `register_hook` and a Module's `register_forward_hook` return, as
`torch.utils.hooks.RemovableHandle`: `handle.remove()` takes the hook out again (also as a
`with` block). Hooks are kept in a dict of their own per tensor or module, by handle id, in
the order they were registered."""
from __future__ import annotations

import itertools
from typing import Any, Callable

_ids = itertools.count()


class RemovableHandle:
    """Takes one hook out of the dict it was put in."""

    def __init__(self, hooks: dict) -> None:
        self.hooks_dict_ref, self.id = hooks, next(_ids)

    def remove(self) -> None:
        self.hooks_dict_ref.pop(self.id, None)

    def __enter__(self) -> RemovableHandle:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.remove()


def add(hooks: dict, hook: Callable, what: str) -> RemovableHandle:
    """Put `hook` into `hooks` and return its handle; `what` names the hook in an error."""
    if not callable(hook):
        raise TypeError(f"{what} takes a function, got {type(hook).__name__} {hook!r:.40}")
    handle = RemovableHandle(hooks)
    hooks[handle.id] = hook
    return handle
