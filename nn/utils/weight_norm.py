"""torch.nn.utils.weight_norm, the legacy hook-based form (deprecated in PyTorch in favour
of nn.utils.parametrizations.weight_norm, with the same FutureWarning here), and the two
functions both forms compute with, torch.norm_except_dim and torch._weight_norm.

weight_norm(module) replaces the parameter `weight` by `weight_g` (its norm, one per
output row with dim=0) and `weight_v` (its direction), and a forward pre-hook recomputes
`module.weight = weight_v * weight_g / ||weight_v||` before each forward. That weight is a
plain attribute, as in PyTorch: not a parameter, not in state_dict().
"""
from __future__ import annotations

import warnings
from typing import Any

from engine import reductions
from engine.tensor import Tensor
from nn.module import Module, _is_parameter, set_plain_attribute
from nn.parameter import Parameter

__all__ = ["WeightNorm", "weight_norm", "remove_weight_norm", "norm_except_dim"]


def norm_except_dim(v: Tensor, pow: float = 2, dim: int = 0) -> Tensor:
    """The pow-norm of v over every dim but `dim`, kept as size-1 dims (over all of v, a 0-d
    tensor, when dim is -1), as torch.norm_except_dim."""
    if dim == -1:
        return reductions.norm(v, pow)
    if not -v.ndim <= dim < v.ndim:
        raise IndexError(f"Dimension out of range (expected to be in range of [{-v.ndim}, "
                         f"{v.ndim - 1}], but got {dim})")
    others = tuple(d for d in range(v.ndim) if d != dim % v.ndim)
    return reductions.norm(v, pow, others, keepdim=True) if others else v.abs()


def _weight_norm(v: Tensor, g: Tensor, dim: int = 0) -> Tensor:
    """v * (g / ||v||), the norm over every dim but `dim` (over all of v when dim is -1),
    as torch._weight_norm."""
    return v * (g / norm_except_dim(v, 2, dim))


class WeightNorm:
    """The forward pre-hook that recomputes module.<name> from <name>_g and <name>_v."""

    def __init__(self, name: str, dim: int | None) -> None:
        self.name = name
        self.dim = -1 if dim is None else dim

    def compute_weight(self, module: Module) -> Tensor:
        return _weight_norm(getattr(module, self.name + "_v"), getattr(module, self.name + "_g"),
                            self.dim)

    @staticmethod
    def apply(module: Module, name: str, dim: int | None) -> WeightNorm:
        """Replace module.<name> by <name>_g and <name>_v and register the hook."""
        warnings.warn("`torch.nn.utils.weight_norm` is deprecated in favor of "
                      "`torch.nn.utils.parametrizations.weight_norm`.", FutureWarning,
                      stacklevel=3)
        for hook in _pre_hooks(module).values():
            if isinstance(hook, WeightNorm) and hook.name == name:
                raise RuntimeError(f"Cannot register two weight_norm hooks on the same "
                                   f"parameter {name}")
        fn = WeightNorm(name, dim)
        weight = getattr(module, name)  # an AttributeError for a name it lacks, as PyTorch's
        if parameter(module, name, "weight_norm") is None:
            raise TypeError(f"weight_norm cannot be applied as parameter `{name}` is None")
        g = Parameter(norm_except_dim(weight, 2, fn.dim).detach())  # checks dim before any change
        delattr(module, name)
        module.register_parameter(name + "_g", g)
        module.register_parameter(name + "_v", Parameter(weight.detach()))
        set_plain_attribute(module, name, fn.compute_weight(module))
        module.register_forward_pre_hook(fn)
        return fn

    def remove(self, module: Module) -> None:
        """Put back module.<name> as a parameter holding the current weight."""
        weight = self.compute_weight(module)
        delattr(module, self.name)
        module._plain_attributes.discard(self.name)
        delattr(module, self.name + "_g")
        delattr(module, self.name + "_v")
        module.register_parameter(self.name, Parameter(weight.detach()))

    def __call__(self, module: Module, inputs: Any) -> None:
        set_plain_attribute(module, self.name, self.compute_weight(module))


def parameter(module: Module, name: str, fn: str) -> Tensor | None:
    """module's own parameter `name` (None if registered as None), else PyTorch's KeyError."""
    if name not in module.__dict__ or name in module.__dict__.get("_plain_attributes", ()) or (
            module.__dict__[name] is not None and not _is_parameter(module.__dict__[name])):
        raise KeyError(f"{name!r}: {fn} takes a parameter of the module, and "
                       f"{type(module).__name__}.{name} is not one")
    return module.__dict__[name]


def _pre_hooks(module: Module) -> dict:
    return module.__dict__.get("_forward_pre_hooks", {})


def remove_hook(module: Module, kind: type, name: str, what: str) -> Module:
    """Take off module's forward pre-hook of class `kind` for `name` (weight_norm's or
    spectral_norm's), its parameter restored; returns module."""
    hooks = _pre_hooks(module)
    for key, hook in hooks.items():
        if isinstance(hook, kind) and hook.name == name:
            hook.remove(module)
            del hooks[key]
            return module
    raise ValueError(f"{what} of '{name}' not found in {module}")


def weight_norm(module: Module, name: str = "weight", dim: int | None = 0) -> Module:
    """Split module.<name> into a magnitude <name>_g (per slice along dim; over the whole
    tensor when dim is None) and a direction <name>_v, recombined before each forward;
    returns module. Deprecated, as PyTorch's: parametrizations.weight_norm is the new form."""
    WeightNorm.apply(module, name, dim)
    return module


def remove_weight_norm(module: Module, name: str = "weight") -> Module:
    """Undo weight_norm: module.<name> becomes a parameter again; returns module."""
    return remove_hook(module, WeightNorm, name, "weight_norm")
