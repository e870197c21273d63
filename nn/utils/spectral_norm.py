"""torch.nn.utils.spectral_norm, the legacy hook-based form (parametrizations.spectral_norm
is the new one): weight / sigma, sigma the weight's largest singular value estimated by
power iteration.

spectral_norm(module) keeps the weight as the parameter `weight_orig` and the power
iteration's vectors as the buffers `weight_u` and `weight_v` (drawn from the global
generator and normalised, as PyTorch draws them, so a seeded program gets PyTorch's
numbers); a forward pre-hook sets `module.weight = weight_orig / sigma` before each forward,
after n_power_iterations steps of the iteration in training mode (none in eval mode). That
weight is a plain attribute, as in PyTorch: not in state_dict().

Left out: PyTorch's hooks that convert checkpoints written before PyTorch 1.1, which held
the weight rather than weight_v.
"""
from __future__ import annotations

from typing import Any

from engine.grad_mode import no_grad
from engine.products import dot, mv
from engine.tensor import Tensor
from nn.module import Module, set_plain_attribute
from nn.normalization import normalize
from nn.parameter import Parameter
from nn.utils.weight_norm import parameter, remove_hook

__all__ = ["SpectralNorm", "spectral_norm", "remove_spectral_norm"]


def output_dim(module: Module, dim: int | None) -> int:
    """The weight's dim of outputs: dim if given, else 1 for a transposed convolution
    (weight (in, out, ...)) and 0 for the rest, as PyTorch chooses."""
    if dim is not None:
        return dim
    from nn.conv_transpose import ConvTranspose1d, ConvTranspose2d  # (nn.utils loads first)
    return 1 if isinstance(module, (ConvTranspose1d, ConvTranspose2d)) else 0


def check_iterations(n_power_iterations: int) -> None:
    if n_power_iterations <= 0:
        raise ValueError("Expected n_power_iterations to be positive, but got "
                         f"n_power_iterations={n_power_iterations}")


class SpectralNorm:
    """The forward pre-hook that sets module.<name> to <name>_orig / sigma."""

    def __init__(self, name: str = "weight", n_power_iterations: int = 1, dim: int = 0,
                 eps: float = 1e-12) -> None:
        check_iterations(n_power_iterations)
        self.name, self.dim = name, dim
        self.n_power_iterations, self.eps = n_power_iterations, eps

    def reshape_weight_to_matrix(self, weight: Tensor) -> Tensor:
        """The weight as a matrix: its `dim` the rows, the other dims flattened."""
        if self.dim != 0:
            weight = weight.permute(self.dim, *[d for d in range(weight.ndim) if d != self.dim])
        return weight.reshape(weight.shape[0], -1)

    def compute_weight(self, module: Module, do_power_iteration: bool) -> Tensor:
        weight = getattr(module, self.name + "_orig")
        u = getattr(module, self.name + "_u")
        v = getattr(module, self.name + "_v")
        weight_mat = self.reshape_weight_to_matrix(weight)
        if do_power_iteration:
            with no_grad():  # u and v are updated in place: they are the module's buffers
                for _ in range(self.n_power_iterations):
                    v.copy_(normalize(mv(weight_mat.t(), u), dim=0, eps=self.eps))
                    u.copy_(normalize(mv(weight_mat, v), dim=0, eps=self.eps))
                u, v = u.clone(), v.clone()  # the graph keeps these values, not the buffers
        return weight / dot(u, mv(weight_mat, v))

    def remove(self, module: Module) -> None:
        """Put back module.<name> as a parameter holding the current weight / sigma."""
        with no_grad():
            weight = self.compute_weight(module, do_power_iteration=False)
        delattr(module, self.name)
        module._plain_attributes.discard(self.name)
        for suffix in ("_u", "_v", "_orig"):
            delattr(module, self.name + suffix)
        module.register_parameter(self.name, Parameter(weight.detach()))

    def __call__(self, module: Module, inputs: Any) -> None:
        set_plain_attribute(module, self.name,
                            self.compute_weight(module, do_power_iteration=module.training))

    @staticmethod
    def apply(module: Module, name: str, n_power_iterations: int, dim: int,
              eps: float) -> SpectralNorm:
        """Move module.<name> to <name>_orig, draw <name>_u and <name>_v, register the hook."""
        for hook in module.__dict__.get("_forward_pre_hooks", {}).values():
            if isinstance(hook, SpectralNorm) and hook.name == name:
                raise RuntimeError(f"Cannot register two spectral_norm hooks on the same "
                                   f"parameter {name}")
        fn = SpectralNorm(name, n_power_iterations, dim, eps)
        weight = parameter(module, name, "spectral_norm")
        if weight is None:
            raise ValueError(f"`SpectralNorm` cannot be applied as parameter `{name}` is None")
        with no_grad():
            h, w = fn.reshape_weight_to_matrix(weight).shape
            u = normalize(weight.new_empty(h).normal_(0, 1), dim=0, eps=fn.eps)
            v = normalize(weight.new_empty(w).normal_(0, 1), dim=0, eps=fn.eps)
        delattr(module, name)
        module.register_parameter(name + "_orig", weight)
        set_plain_attribute(module, name, weight.detach())
        module.register_buffer(name + "_u", u)
        module.register_buffer(name + "_v", v)
        module.register_forward_pre_hook(fn)
        return fn


def spectral_norm(module: Module, name: str = "weight", n_power_iterations: int = 1,
                  eps: float = 1e-12, dim: int | None = None) -> Module:
    """Divide module.<name> by its spectral norm before each forward, estimated by
    n_power_iterations of power iteration per training forward; returns module."""
    SpectralNorm.apply(module, name, n_power_iterations, output_dim(module, dim), eps)
    return module


def remove_spectral_norm(module: Module, name: str = "weight") -> Module:
    """Undo spectral_norm: module.<name> becomes a parameter again; returns module."""
    return remove_hook(module, SpectralNorm, name, "spectral_norm")
