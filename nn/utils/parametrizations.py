"""torch.nn.utils.parametrizations: weight_norm, spectral_norm and orthogonal, each a
parametrization registered with nn.utils.parametrize, so state_dict names are PyTorch's
(`parametrizations.weight.original0` and `original1` for weight_norm's g and v,
`parametrizations.weight.original` with `parametrizations.weight.0._u` and `_v` for
spectral_norm, `parametrizations.weight.0.base` for orthogonal).

spectral_norm draws its vectors u and v from the global generator as PyTorch does, and
runs PyTorch's power iterations (15 at registration, then n_power_iterations on each
access of the weight in training mode, none in eval mode), so a seeded program gets
PyTorch's numbers. orthogonal has PyTorch's three maps (matrix_exp and cayley, the default
matrix_exp for square matrices; householder, the default for the others), with and
without the dynamic trivialization; left out: complex (unitary) weights, which this
engine does not hold, and weight_norm's hook that loads checkpoints of the legacy
weight_norm (keys weight_g, weight_v).
"""
from __future__ import annotations

import enum

import numpy as np

from engine import dtypes, random
from engine.grad_mode import no_grad
from engine.linalg_solvers import solve
from engine.math_more import vdot
from engine.matrix_functions import geqrf, householder_product, matrix_exp
from engine.products import mv
from engine.shapes import cat
from engine.tensor import Tensor
from nn.module import Module
from nn.normalization import normalize
from nn.utils import parametrize
from nn.utils.spectral_norm import check_iterations, output_dim
from nn.utils.weight_norm import _weight_norm, norm_except_dim

__all__ = ["orthogonal", "spectral_norm", "weight_norm"]


def _is_orthogonal(Q: Tensor) -> bool:
    """Whether Q's columns are orthonormal to PyTorch's tolerance, 10 n eps."""
    n, k = Q.shape[-2:]
    eps = 10.0 * n * float(np.finfo(Q.numpy().dtype).eps)
    return bool(np.allclose(Q.mT.numpy() @ Q.numpy(), np.eye(k), rtol=1e-5, atol=eps))


def _make_orthogonal(A: Tensor) -> Tensor:
    """Q of A = QR (A tall) with R's diagonal non-negative, as PyTorch computes it."""
    X, tau = geqrf(A)
    Q = householder_product(X, tau)
    return Q * X.diagonal(dim1=-2, dim2=-1).sign().unsqueeze(-2)


class _OrthMaps(enum.Enum):
    matrix_exp = enum.auto()
    cayley = enum.auto()
    householder = enum.auto()


class _Orthogonal(Module):
    """X -> an orthogonal matrix (orthonormal columns if tall, rows if wide) per map."""

    def __init__(self, weight: Tensor, orthogonal_map: _OrthMaps, *,
                 use_trivialization: bool = True) -> None:
        super().__init__()
        self.shape = weight.shape
        self.orthogonal_map = orthogonal_map
        if use_trivialization:
            self.register_buffer("base", None)

    def forward(self, X: Tensor) -> Tensor:
        n, k = X.shape[-2:]
        transposed = n < k
        if transposed:
            X = X.mT
            n, k = k, n
        if self.orthogonal_map in (_OrthMaps.matrix_exp, _OrthMaps.cayley):
            X = X.tril()
            if n != k:
                X = cat([X, X.new_zeros(n, n - k).expand(*X.shape[:-2], -1, -1)], dim=-1)
            A = X - X.mT  # skew-symmetric
            if self.orthogonal_map == _OrthMaps.matrix_exp:
                Q = matrix_exp(A)
            else:
                identity = np.eye(n, dtype=A.numpy().dtype)
                Q = solve(identity - 0.5 * A, identity + 0.5 * A)
            if n != k:
                Q = Q[..., :k]
        else:
            A = X.tril(diagonal=-1)
            tau = 2.0 / (1.0 + (A * A).sum(dim=-2))
            Q = householder_product(A, tau)
            Q = Q * X.diagonal(dim1=-2, dim2=-1).int().unsqueeze(-2)  # the signs, as PyTorch's
        if hasattr(self, "base"):
            Q = self.base @ Q
        return Q.mT if transposed else Q

    def right_inverse(self, Q: Tensor) -> Tensor:
        """An X with forward(X) = Q (Q orthogonalised first if it is not orthogonal)."""
        with no_grad():
            if Q.shape != self.shape:
                raise ValueError(f"Expected a matrix or batch of matrices of shape {self.shape}. "
                                 f"Got a tensor of shape {Q.shape}.")
            Q_init = Q
            n, k = Q.shape[-2:]
            transpose = n < k
            if transpose:
                Q = Q.mT
                n, k = k, n
            if not hasattr(self, "base"):
                if self.orthogonal_map in (_OrthMaps.cayley, _OrthMaps.matrix_exp):
                    # NotImplementedError is the parametrization protocol's "no inverse", as
                    # PyTorch's: registering catches it and keeps the weight as the original
                    # (forward(W) is then PyTorch's weight too); only assigning reaches the user
                    raise NotImplementedError("It is not possible to assign to the matrix "
                                              "exponential or the Cayley parametrizations when "
                                              "use_trivialization=False. Register with "
                                              "use_trivialization=True (the default) to assign "
                                              "orthogonal matrices, or set "
                                              "parametrizations[name].original instead.")
                A, tau = geqrf(Q)
                a, i = A.numpy(), np.arange(k)  # A's own numbers: its diagonal set in place
                a[..., i, i] = np.sign(a[..., i, i]) * np.where(tau.numpy() == 0, -1, 1)
                return A.mT if transpose else A
            if n == k:
                Q = Q.clone() if _is_orthogonal(Q) else _make_orthogonal(Q)
            else:
                N = random.randn(*(tuple(Q.shape[:-2]) + (n, n - k)), dtype=Q.dtype)
                Q = _make_orthogonal(cat([Q, N], dim=-1))
            self.base = Q
            rows, columns = Q_init.shape[-2:]
            neg_Id = -np.eye(rows, columns, dtype=Q_init.numpy().dtype)
            return Tensor(np.broadcast_to(neg_Id, Q_init.shape).copy())


def orthogonal(module: Module, name: str = "weight", orthogonal_map: str | None = None, *,
               use_trivialization: bool = True) -> Module:
    """Make module.<name> (a matrix or a batch of them) orthogonal: orthonormal columns if
    tall, rows if wide; returns module. orthogonal_map is "matrix_exp", "cayley" or
    "householder" (default matrix_exp for square matrices, householder otherwise)."""
    weight = getattr(module, name, None)
    if not isinstance(weight, Tensor):
        raise ValueError(f"Module '{module}' has no parameter or buffer with name '{name}'")
    if weight.ndim < 2:
        raise ValueError("Expected a matrix or batch of matrices. "
                         f"Got a tensor of {weight.ndim} dimensions.")
    if weight.dtype not in (dtypes.float32, dtypes.float64):
        raise TypeError(f"orthogonal: the weight must be float32 or float64, got {weight.dtype}")
    if orthogonal_map is None:
        orthogonal_map = "matrix_exp" if weight.shape[-2] == weight.shape[-1] else "householder"
    orth_enum = getattr(_OrthMaps, str(orthogonal_map), None)
    if orth_enum is None:
        raise ValueError('orthogonal_map has to be one of "matrix_exp", "cayley", '
                         f'"householder". Got: {orthogonal_map}')
    orth = _Orthogonal(weight, orth_enum, use_trivialization=use_trivialization)
    parametrize.register_parametrization(module, name, orth, unsafe=True)
    return module


class _WeightNorm(Module):
    """(g, v) -> v * g / ||v||, the norm over every dim but `dim` (all of v for None)."""

    def __init__(self, dim: int | None = 0) -> None:
        super().__init__()
        self.dim = -1 if dim is None else dim

    def forward(self, weight_g: Tensor, weight_v: Tensor) -> Tensor:
        return _weight_norm(weight_v, weight_g, self.dim)

    def right_inverse(self, weight: Tensor) -> tuple[Tensor, Tensor]:
        return norm_except_dim(weight, 2, self.dim), weight


def weight_norm(module: Module, name: str = "weight", dim: int | None = 0) -> Module:
    """Make module.<name> g * v / ||v||: its magnitude g (original0, one per slice along dim,
    one for all with dim=None) and direction v (original1) train apart; returns module."""
    parametrize.register_parametrization(module, name, _WeightNorm(dim), unsafe=True)
    return module


class _SpectralNorm(Module):
    """W -> W / sigma, sigma W's largest singular value by power iteration on buffers u, v;
    a vector is divided by its norm."""

    def __init__(self, weight: Tensor, n_power_iterations: int = 1, dim: int = 0,
                 eps: float = 1e-12) -> None:
        super().__init__()
        ndim = weight.ndim
        if dim >= ndim or dim < -ndim:
            raise IndexError("Dimension out of range (expected to be in range of "
                             f"[-{ndim}, {ndim - 1}] but got {dim})")
        check_iterations(n_power_iterations)
        self.dim = dim if dim >= 0 else dim + ndim
        self.eps = eps
        if ndim > 1:
            self.n_power_iterations = n_power_iterations
            weight_mat = self._reshape_weight_to_matrix(weight.detach())
            h, w = weight_mat.shape
            with no_grad():
                u = normalize(weight_mat.new_empty(h).normal_(0, 1), dim=0, eps=self.eps)
                v = normalize(weight_mat.new_empty(w).normal_(0, 1), dim=0, eps=self.eps)
            self.register_buffer("_u", u)
            self.register_buffer("_v", v)
            self._power_method(weight_mat, 15)

    def _reshape_weight_to_matrix(self, weight: Tensor) -> Tensor:
        """The weight as a matrix: its `dim` the rows, the other dims flattened."""
        if self.dim != 0:
            weight = weight.permute(self.dim, *(d for d in range(weight.ndim) if d != self.dim))
        return weight.flatten(1)

    def _power_method(self, weight_mat: Tensor, n_power_iterations: int) -> None:
        """n steps of u <- W v / |W v|, v <- W^T u / |W^T u|, in the buffers in place."""
        with no_grad():
            for _ in range(n_power_iterations):
                self._u.copy_(normalize(mv(weight_mat, self._v), dim=0, eps=self.eps))
                self._v.copy_(normalize(mv(weight_mat.mT, self._u), dim=0, eps=self.eps))

    def forward(self, weight: Tensor) -> Tensor:
        if weight.ndim == 1:
            return normalize(weight, dim=0, eps=self.eps)
        weight_mat = self._reshape_weight_to_matrix(weight)
        if self.training:
            self._power_method(weight_mat, self.n_power_iterations)
        u, v = self._u.clone(), self._v.clone()  # the graph keeps these values, not the buffers
        return weight / vdot(u, mv(weight_mat, v))

    def right_inverse(self, value: Tensor) -> Tensor:
        return value


def spectral_norm(module: Module, name: str = "weight", n_power_iterations: int = 1,
                  eps: float = 1e-12, dim: int | None = None) -> Module:
    """Make module.<name> W / sigma(W), sigma the largest singular value estimated by power
    iteration (dim: the weight's dim of outputs, default 1 for transposed convolutions and
    0 otherwise); returns module."""
    weight = getattr(module, name, None)
    if not isinstance(weight, Tensor):
        raise ValueError(f"Module '{module}' has no parameter or buffer with name '{name}'")
    spectral = _SpectralNorm(weight, n_power_iterations, output_dim(module, dim), eps)
    parametrize.register_parametrization(module, name, spectral)
    return module
