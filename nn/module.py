"""Module: the base class of every layer, finding its state by walking its attributes.

A Module's *state* is every `Value` and `Tensor` it holds: directly, in sub-Modules, or in
lists, tuples and dicts of either, so a subclass only assigns them in `__init__` and never
registers anything. PyTorch's registering calls (`register_buffer`, `register_parameter`,
`add_module`) work too: they assign the attribute, and `register_buffer(...,
persistent=False)` also keeps the tensor out of `state_dict()`.

Its *parameters* are the part of the state that trains: Values, `nn.Parameter`s (frozen or
not, as in PyTorch), and other Tensors with `requires_grad`. The rest are *buffers*
(running statistics, masks). Names are dotted paths, as in PyTorch: `layers.0.weight`,
`neurons.3.w.1`; two nodes reached under one name (a dict key 'a.b' beside an attribute
path a.b) are an error. A module's own nodes come first, in the order they were assigned,
then each sub-module's, which is PyTorch's order when a module assigns its parameters
before its sub-modules.

`state_dict()` maps those names to the tensors, detached but sharing their memory, as
PyTorch's (so `sd[k].copy_(w)` loads a weight, and a copy to keep needs `copy.deepcopy`; a
Value gives a 0-d array of its number), and `save`/`load` keep them in PyTorch's
safetensors files; nn/checkpoint.py does that work.
"""
from __future__ import annotations

import collections
import os
from typing import Any, Callable, Iterator, Mapping

import numpy as np

from engine.devices import check as check_device
from engine.devices import dtype_of_to
from engine.graph import Node
from engine.tensor import Tensor
from engine.utils import hooks
from engine.utils.hooks import RemovableHandle
from nn import checkpoint
from nn.backward_hooks import BackwardHooks
from nn.parameter import Parameter


def _is_parameter(node: Any) -> bool:
    """Values, Parameters (even frozen) and Tensors that require grad train; the rest is buffers."""
    return not isinstance(node, Tensor) or isinstance(node, Parameter) or node.requires_grad


def _check_name(kind: str, name: Any) -> None:
    if not isinstance(name, str):
        raise TypeError(f"{kind} name must be a string, got {type(name).__name__} {name!r:.40}")
    if not name or "." in name:
        raise KeyError(f"{kind} name {name!r} must be non-empty and hold no '.' (a dot "
                       "separates the parts of a dotted name)")


def set_plain_attribute(module: Module, name: str, value: Any) -> None:
    """Set module.name outside the module's state, as PyTorch keeps a tensor it never
    registered (the weight legacy weight_norm recomputes before each forward); deleting
    the attribute and discarding the name from `_plain_attributes` makes the name state again."""
    module.__dict__.setdefault("_plain_attributes", set()).add(name)
    object.__setattr__(module, name, value)


class Module:
    """Base class, as torch.nn.Module: define `forward`; parameters, buffers and sub-modules
    are found in the attributes."""

    training = True
    _hooked = False  # whether a hook was ever registered on this module (then __call__ looks)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        forward = getattr(self, "forward", None)
        if forward is None:
            raise TypeError(f"{type(self).__name__} has no forward(); define "
                            "forward(self, x) to say what calling it computes")
        if not self._hooked:  # (most modules: one attribute read, then the forward)
            return forward(*args, **kwargs)
        return self._call_hooked(forward, args, kwargs)

    def _call_hooked(self, forward: Callable, args: tuple, kwargs: dict) -> Any:
        """forward(*args, **kwargs) with this module's hooks, in PyTorch's order."""
        before, after = self.__dict__.get("_forward_pre_hooks"), self.__dict__.get("_forward_hooks")
        for hook in list(before.values()) if before else ():
            changed = hook(self, args)
            if changed is not None:
                args = changed if isinstance(changed, tuple) else (changed,)
        backward = self.__dict__.get("_backward_hooks") or self.__dict__.get(
            "_backward_pre_hooks")
        if backward:  # (in PyTorch's order: inputs before the forward hooks, outputs after)
            backward = BackwardHooks(self, self.__dict__.get("_backward_hooks", {}),
                                     self.__dict__.get("_backward_pre_hooks", {}))
            args = backward.inputs(args)
        output = forward(*args, **kwargs)
        for hook in list(after.values()) if after else ():
            changed = hook(self, args, output)
            if changed is not None:
                output = changed
        return backward.outputs(output) if backward else output

    def register_forward_pre_hook(self, hook: Callable[..., Any]) -> RemovableHandle:
        """Call hook(module, args) before each forward(); a value it returns (a tuple, or
        one argument) replaces the arguments. Returns a handle whose remove() undoes it."""
        return self._add_hook("_forward_pre_hooks", hook, "register_forward_pre_hook")

    def register_forward_hook(self, hook: Callable[..., Any]) -> RemovableHandle:
        """Call hook(module, args, output) after each forward() (fast.ai's activation
        statistics, feature extraction); a value it returns replaces the output."""
        return self._add_hook("_forward_hooks", hook, "register_forward_hook")

    def register_full_backward_hook(self, hook: Callable[..., Any]) -> RemovableHandle:
        """Call hook(module, grad_input, grad_output) when a backward pass has the gradients
        of this module's positional tensor inputs (None where an input takes none) and
        outputs; a tuple it returns replaces grad_input (nn/backward_hooks.py)."""
        return self._add_hook("_backward_hooks", hook, "register_full_backward_hook")

    def register_full_backward_pre_hook(self, hook: Callable[..., Any]) -> RemovableHandle:
        """Call hook(module, grad_output) when a backward pass has the gradients of this
        module's outputs, before they go on into it; a tuple it returns replaces them."""
        return self._add_hook("_backward_pre_hooks", hook, "register_full_backward_pre_hook")

    def _add_hook(self, kind: str, hook: Callable[..., Any], what: str) -> RemovableHandle:
        handle = hooks.add(self.__dict__.setdefault(kind, {}), hook, what)
        object.__setattr__(self, "_hooked", True)
        return handle

    # --- PyTorch's registering calls, over plain attributes ---

    def register_buffer(self, name: str, tensor: Tensor | None, persistent: bool = True) -> None:
        """Hold `tensor` as state that does not train (running statistics, a mask); with
        `persistent=False` it stays out of state_dict() and checkpoints."""
        _check_name("buffer", name)
        if tensor is not None and not isinstance(tensor, Tensor):
            raise TypeError(f"register_buffer({name!r}) takes a Tensor or None, got "
                            f"{type(tensor).__name__}")
        setattr(self, name, tensor)
        self._mark_persistent(name, persistent)

    def _mark_persistent(self, name: str, persistent: bool) -> None:
        transient = self.__dict__.setdefault("_non_persistent_buffers", set())
        (transient.discard if persistent else transient.add)(name)

    def __setattr__(self, name: str, value: Any) -> None:
        """`self.x = nn.Buffer(t, persistent=...)` registers x as a buffer, as PyTorch's."""
        if isinstance(value, Tensor) and getattr(value, "_is_buffer", False):
            self._mark_persistent(name, value.persistent)
        object.__setattr__(self, name, value)

    def register_parameter(self, name: str, param: Parameter | None) -> None:
        """Hold `param` (a Parameter, or None for an absent one such as bias=False)."""
        _check_name("parameter", name)
        if param is not None and not isinstance(param, Parameter):
            raise TypeError(f"register_parameter({name!r}) takes an nn.Parameter or None, got "
                            f"{type(param).__name__}; wrap a tensor as nn.Parameter(t)")
        setattr(self, name, param)

    def add_module(self, name: str, module: Module | None) -> None:
        """Hold `module` as a sub-module under `name`."""
        _check_name("module", name)
        if module is not None and not isinstance(module, Module):
            raise TypeError(f"add_module({name!r}) takes a Module or None, got "
                            f"{type(module).__name__}")
        setattr(self, name, module)

    register_module = add_module

    # --- walking the state ---

    def _members(self, remove_duplicate: bool = True) -> Iterator[tuple[str, Any]]:
        """(dotted name, object) for every Value, Tensor and sub-Module held here, each once,
        depth first. One held twice is named by its plain attribute if it has one, as PyTorch
        names what an assignment or `add_module` registers (a list that also holds it, which
        PyTorch would not look into, does not rename it); else by its first path. With
        `remove_duplicate=False`, under each plain attribute that holds it, as PyTorch's
        state_dict names a module or tensor assigned to two attributes."""
        found = list(self._held())
        attribute: dict[int, str] = {}
        for name, value in found:
            if "." not in name:
                attribute.setdefault(id(value), name)
        seen = set()
        for name, value in found:
            if (not remove_duplicate and "." not in name) or (
                    id(value) not in seen and attribute.get(id(value), name) == name):
                seen.add(id(value))
                yield name, value

    def _held(self) -> Iterator[tuple[str, Any]]:
        """(dotted name, object) for every Value, Tensor and sub-Module in the attributes and
        in lists, tuples and dicts of them, depth first, as often as each is held."""
        plain = self.__dict__.get("_plain_attributes", ())  # see set_plain_attribute
        stack = [(name, value) for name, value in reversed(vars(self).items())
                 if name not in plain]
        while stack:
            name, value = stack.pop()
            if isinstance(value, (list, tuple)):
                stack.extend((f"{name}.{i}", v) for i, v in reversed(list(enumerate(value))))
            elif isinstance(value, dict):
                stack.extend((f"{name}.{k}", v) for k, v in reversed(list(value.items())))
            elif isinstance(value, (Node, Module)):
                yield name, value

    def named_children(self) -> Iterator[tuple[str, Module]]:
        """(name, module) for each direct sub-module, once."""
        for name, value in self._members():
            if isinstance(value, Module):
                yield name, value

    def children(self) -> Iterator[Module]:
        return (m for _, m in self.named_children())

    def named_modules(self, memo: set | None = None, prefix: str = "",
                      remove_duplicate: bool = True) -> Iterator[tuple[str, Module]]:
        """This module and every sub-module, depth first, each once unless
        `remove_duplicate=False`, with dotted names ('' for this one)."""
        seen = set() if memo is None else memo
        stack = [(prefix, self)]
        while stack:
            path, module = stack.pop()
            if remove_duplicate:
                if id(module) in seen:
                    continue
                seen.add(id(module))
            yield path, module
            stack.extend(reversed([(f"{path}.{name}" if path else name, child)
                                   for name, child in module._members(remove_duplicate)
                                   if isinstance(child, Module)]))

    def modules(self) -> Iterator[Module]:
        return (m for _, m in self.named_modules())

    def get_submodule(self, target: str) -> Module:
        """The sub-module at a dotted name ('' for this one), as named by named_modules()."""
        for name, module in self.named_modules():
            if name == target:
                return module
        raise AttributeError(f"{type(self).__name__} has no sub-module {target!r}")

    def set_submodule(self, target: str, module: Module, strict: bool = False) -> None:
        """Put `module` at a dotted name (replacing what is there; with strict=True only
        replacing a sub-module), as PyTorch's."""
        if not isinstance(module, Module):
            raise TypeError(f"set_submodule takes a Module, got {type(module).__name__}")
        owner_name, _, name = target.rpartition(".")
        owner = self.get_submodule(owner_name)
        if strict and not isinstance(getattr(owner, name, None), Module):
            raise AttributeError(f"{type(owner).__name__} has no sub-module {name!r} to replace "
                                 "(strict=True); pass strict=False to add one")
        setattr(owner, name, module)

    def get_parameter(self, target: str) -> Tensor:
        """The parameter at a dotted name, as named by named_parameters() (a tied one under
        either of its names)."""
        return self._named_node(target, True)

    def get_buffer(self, target: str) -> Tensor:
        """The buffer at a dotted name, as named by named_buffers()."""
        return self._named_node(target, False)

    def _named_node(self, target: str, parameter: bool) -> Tensor:
        for name, node in self._named_nodes(remove_duplicate=False):
            if name == target and _is_parameter(node) == parameter:
                return node
        kind = "parameter" if parameter else "buffer"
        raise AttributeError(f"{type(self).__name__} has no {kind} {target!r}")

    def _named_nodes(self, persistent_only: bool = False, recurse: bool = True,
                     prefix: str = "", remove_duplicate: bool = True
                     ) -> Iterator[tuple[str, Any]]:
        """(dotted name, node) for every Value and Tensor, each once unless
        `remove_duplicate=False` (then a node that two modules hold, such as a weight tied
        between the embedding and the output layer, comes under each one's name, as in
        PyTorch's state_dict); a module's own first.

        Raises ValueError when two different nodes would get the same name.
        """
        seen, names = set(), set()
        modules = self.named_modules(prefix=prefix, remove_duplicate=remove_duplicate) if (
            recurse) else [(prefix, self)]
        for path, module in modules:
            left_out = getattr(module, "_non_persistent_buffers", ()) if persistent_only else ()
            for name, value in module._members(remove_duplicate):
                if isinstance(value, Module) or name in left_out or (
                        remove_duplicate and id(value) in seen):
                    continue
                full = f"{path}.{name}" if path else name
                if full in names:
                    raise ValueError(f"two nodes of this {type(self).__name__} are both named "
                                     f"{full!r} (a dict key or attribute with a dot in it?); "
                                     "rename one, or a checkpoint could not tell them apart")
                seen.add(id(value))
                names.add(full)
                yield full, value

    def _named_state(self) -> Iterator[tuple[str, Any]]:
        """(dotted name, node) for what state_dict() and checkpoints hold: parameters and
        persistent buffers, a shared one under every name it has."""
        return self._named_nodes(persistent_only=True, remove_duplicate=False)

    def named_parameters(self, prefix: str = "", recurse: bool = True) -> Iterator[tuple[str, Any]]:
        """(dotted name, parameter) pairs, each parameter once, in state order."""
        return ((n, p) for n, p in self._named_nodes(False, recurse, prefix) if _is_parameter(p))

    def parameters(self, recurse: bool = True) -> Iterator[Any]:
        """Every parameter once, in the order of named_parameters()."""
        return (p for _, p in self.named_parameters(recurse=recurse))

    def named_buffers(self, prefix: str = "", recurse: bool = True) -> Iterator[tuple[str, Tensor]]:
        """(dotted name, buffer) pairs: Tensors held here that are not parameters."""
        return ((n, b) for n, b in self._named_nodes(False, recurse, prefix)
                if not _is_parameter(b))

    def buffers(self, recurse: bool = True) -> Iterator[Tensor]:
        return (b for _, b in self.named_buffers(recurse=recurse))

    # --- training ---

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Reset every parameter's gradient before the next backward(): None for Tensors
        (zeros in place with set_to_none=False), 0.0 for Values."""
        for p in self.parameters():
            if set_to_none or not isinstance(p, Tensor) or p._grad is None:
                p.zero_grad()
            else:
                p._grad.detach_()
                p._grad._data[...] = 0

    def train(self, mode: bool = True) -> Module:
        """Set training mode here and in every sub-Module; returns self."""
        if not isinstance(mode, bool):
            raise ValueError(f"train(mode) takes a bool, got {type(mode).__name__} {mode!r:.40}")
        for module in self.modules():
            module.training = mode
        return self

    def eval(self) -> Module:
        """Evaluation mode (train(False)); returns self."""
        return self.train(False)

    def requires_grad_(self, requires_grad: bool = True) -> Module:
        """Switch gradients on or off for every parameter (freezing); returns self."""
        for p in list(self.parameters()):
            if isinstance(p, Tensor):
                p.requires_grad_(requires_grad)
        return self

    def apply(self, fn: Callable[[Module], Any]) -> Module:
        """fn(module) for every sub-module, children before parents, then this one (as
        PyTorch, e.g. for custom initialisation); returns self."""
        for child in self.children():
            child.apply(fn)
        fn(self)
        return self

    # --- devices and dtypes: the CPU only; casts change the numbers in place ---

    def to(self, *args: Any, **kwargs: Any) -> Module:
        """`to(device)`, `to(dtype)`, `to(device, dtype)` or `to(tensor)`: the device must be
        the CPU; a float dtype casts every float parameter and buffer in place."""
        dtype, _ = dtype_of_to(args, dict(kwargs))
        if dtype is not None:
            dtype = np.dtype(dtype)
            if dtype.kind != "f":
                raise TypeError(f"Module.to only takes a float dtype, got {dtype}")
            self._cast(dtype)
        return self

    def cpu(self) -> Module:
        return self

    def cuda(self, device: Any = None) -> Module:
        check_device("cuda")  # refuses, saying this engine has the CPU only
        return self

    def float(self) -> Module:
        return self._cast(np.dtype(np.float32))

    def double(self) -> Module:
        return self._cast(np.dtype(np.float64))

    def half(self) -> Module:
        return self._cast(np.dtype(np.float16))

    def _cast(self, dtype: np.dtype) -> Module:
        """Every float Tensor here (parameters, buffers, their grads) as `dtype`, in place."""
        for _, t in self._named_nodes():
            if isinstance(t, Tensor) and t._data.dtype.kind == "f":
                t._data = t._data.astype(dtype, copy=False)
                if t._grad is not None:
                    t._grad._data = t._grad._data.astype(dtype, copy=False)
        return self

    # --- checkpoints (nn/checkpoint.py does the work) ---

    def state_dict(self, *, destination: dict | None = None, prefix: str = "",
                   keep_vars: bool = False) -> dict[str, Any]:
        """Dotted name (after `prefix`) -> every parameter and persistent buffer, frozen ones
        too, as PyTorch's: each detached, sharing its memory (`keep_vars`: the tensor
        itself), into `destination` if given; a Value's number as a 0-d array."""
        state = collections.OrderedDict() if destination is None else destination
        for name, node in self._named_state():
            state[prefix + name] = node if keep_vars else (
                node.detach() if isinstance(node, Tensor) else np.array(node.data))
        return state

    def load_state_dict(self, state_dict: Mapping[str, Any],
                        strict: bool = True) -> checkpoint.IncompatibleKeys:
        """Copy numbers (numpy arrays, torch tensors, ...) into the state in place, keeping its
        dtypes; a ValueError lists every name, dtype and shape that does not fit, and
        nothing is changed. Returns the missing and unexpected names, as PyTorch does
        (with `strict`, there are none: they are errors)."""
        return checkpoint.load_state_dict(self, state_dict, strict)

    def save(self, path: str | os.PathLike, metadata: Mapping[str, str] | None = None) -> None:
        """Write state_dict() to `path` as a .safetensors file, atomically, with `metadata`
        (strings to strings) in its header."""
        checkpoint.save(self, path, metadata)

    def load(self, path: str | os.PathLike) -> None:
        """Read a checkpoint (from save(), from PyTorch's safetensors, or an old .npz) into
        this module, checking everything against it before reading any number."""
        checkpoint.load(self, path)

    # --- printing, as PyTorch prints modules ---

    def extra_repr(self) -> str:
        """What goes between the parentheses besides the sub-modules (a layer's sizes)."""
        return ""

    def __repr__(self) -> str:
        extra = self.extra_repr()
        lines = extra.split("\n") if extra else []
        children = [f"({name}): " + repr(child).replace("\n", "\n  ")
                    for name, child in self.named_children()]
        if len(lines) == 1 and not children:
            return f"{type(self).__name__}({lines[0]})"
        body = "".join(f"\n  {line}" for line in lines + children)
        return f"{type(self).__name__}({body}\n)" if body else f"{type(self).__name__}()"
