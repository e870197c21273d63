"""torch.nn.utils.parametrize: a module's tensor computed from others on every access.

`register_parametrization(module, "weight", p)` moves the weight to
`module.parametrizations.weight.original` (or `original0`, `original1`, ... when p's
`right_inverse` returns several tensors) and gives the module a class of its own,
`Parametrized<Class>`, whose `weight` property returns p(original): so the state is named
as PyTorch names it (`parametrizations.weight.original`) and a state_dict moves between the
two libraries. Assigning `module.weight = X` stores right_inverse(X) in the originals.
Several parametrizations on one tensor chain, the first registered applied first.
`cached()` computes each parametrized tensor once inside its block.

As PyTorch, a parametrized module cannot be pickled (only its state_dict saved), but it can
be deep-copied.
"""
from __future__ import annotations

import collections.abc
import copy
from contextlib import contextmanager
from typing import Any, Iterator, Sequence

from engine.grad_mode import no_grad
from engine.tensor import Tensor
from nn.container import ModuleDict, ModuleList
from nn.module import Module
from nn.parameter import Parameter

__all__ = ["cached", "ParametrizationList", "register_parametrization", "is_parametrized",
           "remove_parametrizations", "type_before_parametrizations",
           "transfer_parametrizations_and_params"]

_cache_depth = 0
_cache: dict[tuple[int, str], Tensor] = {}


@contextmanager
def cached() -> Iterator[None]:
    """Inside the block, each parametrized tensor is computed on its first access and reused
    (a weight used at every step of an RNN); the values are dropped on leaving it."""
    global _cache_depth
    _cache_depth += 1
    try:
        yield
    finally:
        _cache_depth -= 1
        if not _cache_depth:
            _cache.clear()


def _register_parameter_or_buffer(module: Module, name: str, X: Tensor) -> None:
    if isinstance(X, Parameter):
        module.register_parameter(name, X)
    else:
        module.register_buffer(name, X)


def _set(dest: Tensor, src: Tensor) -> None:
    """dest takes src's numbers (and shape), keeping its identity, as PyTorch's set_: an
    optimizer holding dest goes on training it."""
    dest.data = src.detach()


def _check(ok: bool, what: str, name: str, before: Any, after: Any) -> None:
    """PyTorch's ValueError when a parametrization changed the tensor's dtype or shape."""
    if not ok:
        raise ValueError(f"Registering a parametrization may not change the {what} of the "
                         f"tensor, unless the `unsafe` flag is enabled.\n"
                         f"module.{name}.{what}: {before}\n"
                         f"parametrization(module.{name}).{what}: {after}")


class ParametrizationList(ModuleList):
    """The parametrizations of one tensor, in order, and the original tensor(s) they are
    applied to: `original`, or `original0`, `original1`, ... (module.parametrizations.NAME)."""

    def __init__(self, modules: Sequence[Module], original: Tensor, unsafe: bool = False) -> None:
        if len(modules) == 0:
            raise ValueError("ParametrizationList requires one or more modules.")
        super().__init__(modules)
        self.unsafe = unsafe
        shape, dtype = original.shape, original.dtype
        with no_grad():
            new: Any = original
            for module in reversed(list(self)):
                if hasattr(module, "right_inverse"):
                    try:
                        new = module.right_inverse(new)
                    except NotImplementedError:
                        pass  # as no right_inverse: the identity
        if not isinstance(new, (Tensor, collections.abc.Sequence)):
            raise ValueError("'right_inverse' must return a Tensor or a Sequence of tensors "
                             f"(list, tuple...). Got {type(new).__name__}")
        self.is_tensor = isinstance(new, Tensor)
        self.ntensors = 1 if self.is_tensor else len(new)
        if self.is_tensor:
            if new.dtype != dtype:
                raise ValueError("When `right_inverse` outputs one tensor, it may not change "
                                 f"the dtype.\noriginal.dtype: {dtype}\n"
                                 f"right_inverse(original).dtype: {new.dtype}")
            if new is not original:
                _set(original, new)
            _register_parameter_or_buffer(self, "original", original)
        else:
            for i, tensor in enumerate(new):
                if not isinstance(tensor, Tensor):
                    raise ValueError("'right_inverse' must return a Tensor or a Sequence of "
                                     f"tensors (list, tuple...). Got element {i} of the "
                                     f"sequence with type {type(tensor).__name__}.")
                if isinstance(original, Parameter):
                    tensor = Parameter(tensor, original.requires_grad)
                tensor.requires_grad_(original.requires_grad)
                _register_parameter_or_buffer(self, f"original{i}", tensor)
        if not self.unsafe:
            Z = self()
            if not isinstance(Z, Tensor):
                raise ValueError(f"A parametrization must return a tensor. Got {type(Z).__name__}.")
            if Z.dtype != dtype:
                raise ValueError("Registering a parametrization may not change the dtype of the "
                                 "tensor, unless `unsafe` flag is enabled.\n"
                                 f"unparametrized dtype: {dtype}\nparametrized dtype: {Z.dtype}")
            if Z.shape != shape:
                raise ValueError("Registering a parametrization may not change the shape of the "
                                 "tensor, unless `unsafe` flag is enabled.\n"
                                 f"unparametrized shape: {shape}\nparametrized shape: {Z.shape}")

    def _members(self, remove_duplicate: bool = True) -> Iterator[tuple[str, Any]]:
        """The original tensor(s) first, then the parametrizations, as PyTorch orders them."""
        for name, value in Module._members(self, remove_duplicate):
            if not isinstance(value, Module):
                yield name, value
        yield from self._modules.items()

    def __repr__(self) -> str:
        return type(self).__name__ + super().__repr__().removeprefix("ModuleList")

    def right_inverse(self, value: Tensor) -> None:
        """Store in the originals what the parametrizations' right_inverses, last first, make
        of value (what `module.weight = value` does)."""
        with no_grad():
            for module in reversed(list(self)):
                if not hasattr(module, "right_inverse"):
                    raise RuntimeError(f"parametrization {type(module).__name__} does not "
                                       "implement right_inverse.")
                value = module.right_inverse(value)
            if self.is_tensor:
                if not isinstance(value, Tensor):
                    raise ValueError(f"`right_inverse` should return a tensor. Got "
                                     f"{type(value).__name__}")
                if value.dtype != self.original.dtype:
                    raise ValueError(f"The tensor returned by `right_inverse` has dtype "
                                     f"{value.dtype} while `original` has dtype "
                                     f"{self.original.dtype}")
                _set(self.original, value)
                return
            if not isinstance(value, collections.abc.Sequence):
                raise ValueError("'right_inverse' must return a sequence of tensors. "
                                 f"Got {type(value).__name__}.")
            if len(value) != self.ntensors:
                raise ValueError("'right_inverse' must return a sequence of tensors of length "
                                 f"{self.ntensors}. Got a sequence of length {len(value)}.")
            for i, tensor in enumerate(value):
                original = getattr(self, f"original{i}")
                if not isinstance(tensor, Tensor):
                    raise ValueError("'right_inverse' must return a sequence of tensors. Got "
                                     f"element {i} of type {type(tensor).__name__}.")
                if original.dtype != tensor.dtype:
                    raise ValueError(f"Tensor {i} returned by `right_inverse` has dtype "
                                     f"{tensor.dtype} while `original{i}` has dtype "
                                     f"{original.dtype}")
                _set(original, tensor)

    def forward(self) -> Tensor:
        """The parametrized tensor: the parametrizations applied in turn to the originals."""
        first, *rest = self
        if self.is_tensor:
            x = first(self.original)
        else:
            x = first(*(getattr(self, f"original{i}") for i in range(self.ntensors)))
        for module in rest:
            x = module(x)
        return x


def _refuse_pickling(self: Module) -> None:
    raise RuntimeError("Serialization of parametrized modules is only supported through "
                       "state_dict(). See:\nhttps://pytorch.org/tutorials/beginner/"
                       "saving_loading_models.html#saving-loading-a-general-checkpoint-for-"
                       "inference-and-or-resuming-training")


def _deepcopy(self: Module, memo: dict) -> Module:
    """A copy of the module, its class (and so its properties) shared, as PyTorch's."""
    if id(self) in memo:
        return memo[id(self)]
    replica = self.__new__(type(self))
    memo[id(self)] = replica
    replica.__dict__ = copy.deepcopy(self.__dict__, memo)
    return replica


def _inject_new_class(module: Module) -> None:
    """Give module a class of its own, Parametrized<Class>, to hold the properties."""
    cls = type(module)
    namespace: dict[str, Any] = {"__getstate__": _refuse_pickling}
    if not hasattr(cls, "__deepcopy__"):  # else copy.deepcopy would call __getstate__
        namespace["__deepcopy__"] = _deepcopy
    module.__class__ = type(f"Parametrized{cls.__name__}", (cls,), namespace)


def _inject_property(module: Module, tensor_name: str) -> None:
    """module.<tensor_name> as a property: the parametrization's output on reading, its
    right_inverse on assigning."""

    def get_parametrized(self: Module) -> Tensor:
        parametrization = self.parametrizations[tensor_name]
        if not _cache_depth:
            return parametrization()
        key = (id(self), tensor_name)
        if key not in _cache:
            _cache[key] = parametrization()
        return _cache[key]

    def set_original(self: Module, value: Tensor) -> None:
        self.parametrizations[tensor_name].right_inverse(value)

    setattr(type(module), tensor_name, property(get_parametrized, set_original))


def _held_tensor(module: Module, tensor_name: str) -> bool:
    """Whether tensor_name is one of module's own parameters or buffers (PyTorch's
    _parameters or _buffers), not a plain attribute."""
    return (isinstance(module.__dict__.get(tensor_name), Tensor)
            and tensor_name not in module.__dict__.get("_plain_attributes", ()))


def register_parametrization(module: Module, tensor_name: str, parametrization: Module, *,
                             unsafe: bool = False) -> Module:
    """Make module.<tensor_name> parametrization(original), computed on each access (see the
    module docstring); returns module. Unless `unsafe`, the parametrization must keep the
    tensor's shape and dtype."""
    if not isinstance(parametrization, Module):
        raise AttributeError(f"'{type(parametrization).__name__}' object has no attribute "
                             "'train': a parametrization is an nn.Module whose forward "
                             "computes the tensor")
    parametrization.train(module.training)
    if is_parametrized(module, tensor_name):
        if not unsafe:
            Y = getattr(module, tensor_name)
            X = parametrization(Y)
            if not isinstance(X, Tensor):
                raise ValueError(f"A parametrization must return a tensor. Got {type(X).__name__}.")
            _check(X.dtype == Y.dtype, "dtype", tensor_name, Y.dtype, X.dtype)
            _check(X.shape == Y.shape, "shape", tensor_name, Y.shape, X.shape)
            if hasattr(parametrization, "right_inverse"):
                try:
                    Z = parametrization.right_inverse(X)
                except NotImplementedError:
                    pass
                else:
                    _check_inverse(Z, Y, tensor_name)
        plist = module.parametrizations[tensor_name]
        plist.append(parametrization)
        plist.unsafe |= unsafe  # once unsafe, always unsafe, as PyTorch
    elif _held_tensor(module, tensor_name):
        original = module.__dict__[tensor_name]
        parametrizations = ParametrizationList([parametrization], original, unsafe=unsafe)
        delattr(module, tensor_name)
        module.__dict__.get("_non_persistent_buffers", set()).discard(tensor_name)
        if not is_parametrized(module):
            _inject_new_class(module)
            module.parametrizations = ModuleDict()
        _inject_property(module, tensor_name)
        module.parametrizations[tensor_name] = parametrizations
    else:
        raise ValueError(f"Module '{module}' does not have a parameter, a buffer, or a "
                         f"parametrized element with name '{tensor_name}'")
    return module


def _check_inverse(Z: Any, Y: Tensor, tensor_name: str) -> None:
    """PyTorch's checks of what a chained parametrization's right_inverse returns."""
    if not isinstance(Z, Tensor):
        raise ValueError("parametrization.right_inverse must return a tensor. Got: "
                         f"{type(Z).__name__}")
    for what, want, got in (("dtype", Y.dtype, Z.dtype), ("shape", Y.shape, Z.shape)):
        if want != got:
            raise ValueError(f"The tensor returned by parametrization.right_inverse must have "
                             f"the same {what} as module.{tensor_name}, unless the `unsafe` "
                             f"flag is enabled.\nmodule.{tensor_name}.{what}: {want}\n"
                             f"returned {what}: {got}")


def is_parametrized(module: Module, tensor_name: str | None = None) -> bool:
    """Whether module has a parametrization on tensor_name (on any tensor if None)."""
    parametrizations = module.__dict__.get("parametrizations")
    if not isinstance(parametrizations, ModuleDict):
        return False
    return len(parametrizations) > 0 if tensor_name is None else tensor_name in parametrizations


def remove_parametrizations(module: Module, tensor_name: str,
                            leave_parametrized: bool = True) -> Module:
    """Undo the parametrizations on tensor_name: the tensor becomes a plain parameter (or
    buffer) again holding its current parametrized value, or with leave_parametrized=False
    the original; returns module."""
    if not is_parametrized(module, tensor_name):
        raise ValueError(f"Module {module} does not have a parametrization on {tensor_name}")
    parametrizations = module.parametrizations[tensor_name]
    if parametrizations.is_tensor:
        original = parametrizations.original
        if leave_parametrized:
            with no_grad():
                _set(original, getattr(module, tensor_name))
    elif leave_parametrized:
        t = getattr(module, tensor_name)  # with grad: whether any original requires it
        original = Parameter(t.detach()) if t.requires_grad else t
    else:
        raise ValueError("Cannot leave unparametrized (`leave_parametrized=False`) a tensor "
                         "that is parametrized in terms of a sequence of tensors.")
    delattr(type(module), tensor_name)
    del module.parametrizations[tensor_name]
    _register_parameter_or_buffer(module, tensor_name, original)
    if not is_parametrized(module):
        delattr(module, "parametrizations")
        module.__class__ = type(module).__bases__[0]
    return module


def type_before_parametrizations(module: Module) -> type:
    """The module's class before any parametrization was registered on it."""
    return type(module).__bases__[0] if is_parametrized(module) else type(module)


def transfer_parametrizations_and_params(from_module: Module, to_module: Module,
                                         tensor_name: str | None = None) -> Module:
    """Register from_module's parametrizations (of tensor_name, or all) on to_module too,
    sharing the parametrization modules and the original tensors; returns to_module."""
    if not is_parametrized(from_module):
        return to_module
    names = list(from_module.parametrizations) if tensor_name is None else [tensor_name]
    for name in names:
        if not hasattr(to_module, name):
            setattr(to_module, name, Parameter(getattr(from_module, name).detach()))
        source = from_module.parametrizations[name]
        for parametrization in source:
            register_parametrization(to_module, name, parametrization)
        target = to_module.parametrizations[name]
        originals = ["original"] if source.is_tensor else [f"original{i}" for i in
                                                           range(source.ntensors)]
        for original in originals:
            setattr(target, original, getattr(source, original))
    return to_module
