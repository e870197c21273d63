"""scratchgrad's autodiff core: scalar `Value`s, numpy `Tensor`s, one graph engine.

This namespace is also what PyTorch code finds under `torch.` when it says
`import engine as torch`: Tensor and its factories, the ops PyTorch spells as functions,
dtypes, random numbers from a seeded `Generator`, grad modes, `grad`, `save` and `load`
(PyTorch's .pt checkpoints), and, loaded on first use, `nn`, `optim`, `utils.data`,
`utils.tensorboard`, `autograd` (with `Function`), `special`, `linalg`, `random`,
`multiprocessing`, `cuda`, `accelerator` and `device`. PyTorch's functions of ops take
`out=` as well.

`from engine import Value` loads no numpy: everything Tensor loads on first use, so scalar
programs start as fast as the pure-Python engines they replace. The engine imports nothing
from `nn`; `engine.nn` and `engine.optim` are resolved only when asked for.
"""
from __future__ import annotations

import functools
import importlib
import importlib.abc
import importlib.util
import math
import sys
from typing import Any

from engine.gradcheck import GradcheckError, gradcheck
from engine.grad_mode import (enable_grad, inference_mode, is_grad_enabled,
                              is_inference_mode_enabled, no_grad, set_grad_enabled)
from engine.graph import grad, topological_order
from engine.value import Value

# name -> the module that defines it, imported on first use
_LAZY = {"Tensor": "engine.tensor", "set_printoptions": "engine.printing",
         "Size": "engine.printing"}
for _module, _names in {
    "engine.factories": ("tensor as_tensor from_numpy zeros ones empty full zeros_like ones_like empty_like "
                         "full_like eye arange linspace logspace"),
    "engine.random": ("Generator manual_seed seed initial_seed default_generator get_rng_state "
                      "set_rng_state rand randn randint randperm multinomial normal bernoulli "
                      "rand_like randn_like randint_like"),
    "engine.elementwise": ("exp log log10 tanh sigmoid relu abs sqrt clamp clip maximum minimum "
                           "where masked_fill rsqrt clamp_min clamp_max square neg sin cos log1p sign "
                           "floor ceil trunc round reciprocal lerp isnan isinf isfinite eq ne "
                           "lt le gt ge expm1 log2 exp2 tan sinh cosh asin acos atan atan2 erf "
                           "erfc erfinv sinc xlogy logit arcsin arccos arctan arctan2"),
    "engine.gamma": "lgamma digamma polygamma",
    "engine.bessel": "i0",
    "engine.reductions": ("sum max min amax amin argmax argmin mean var std logsumexp "
                          "log_softmax softmax all any cumsum count_nonzero prod norm dist "
                          "var_mean std_mean diff cumprod logcumsumexp"),
    "engine.shapes": ("reshape permute transpose t squeeze unsqueeze flatten expand broadcast_to "
                      "gather tril triu cat stack split chunk index_select select narrow "
                      "unbind flip roll tile masked_select movedim concat concatenate "
                      "moveaxis"),
    "engine.dtypes": ("bool uint8 int8 int16 short int32 int int64 long float16 half float32 "
                      "float float64 double bfloat16 dtype get_default_dtype set_default_dtype "
                      "promote_types result_type finfo iinfo"),
    "engine.arithmetic": ("add sub rsub mul div divide true_divide floor_divide remainder fmod pow "
                          "matmul clone detach logical_and logical_or logical_xor logical_not "
                          "nan_to_num"),
    "engine.sorting": "sort argsort topk median mode quantile",
    "engine.construct": ("diag diagonal trace tril_indices triu_indices meshgrid broadcast_tensors "
                         "atleast_1d atleast_2d atleast_3d hstack vstack dstack column_stack "
                         "repeat_interleave kron"),
    "engine.products": "mm bmm mv dot outer addmm einsum",
    "engine.linalg_functions": ("det logdet slogdet inverse pinverse matrix_power cross "
                                "cholesky_solve"),
    "engine.functions": ("isclose allclose equal histogram nonzero numel is_floating_point "
                         "is_nonzero unique bincount searchsorted bucketize"),
    "engine.devices": "device cuda accelerator set_default_device get_default_device",
    "engine.backends": ("compile set_float32_matmul_precision get_float32_matmul_precision "
                        "use_deterministic_algorithms are_deterministic_algorithms_enabled "
                        "is_deterministic_algorithms_warn_only_enabled set_num_threads "
                        "get_num_threads"),
    "engine.serialization": "save load",  # checkpoints in torch.save's .pt format
    "engine.index_writes": ("scatter scatter_add scatter_reduce index_add index_copy index_fill "
                       "index_put masked_scatter put select_scatter slice_scatter "
                       "diagonal_scatter take take_along_dim"),
    "engine.pointwise": ("logaddexp logaddexp2 hypot fmax fmin nextafter float_power ldexp "
                         "frexp deg2rad rad2deg sgn fix positive heaviside signbit isneginf "
                         "isposinf isreal isin"),
    "engine.rearrange": ("swapaxes swapdims ravel unflatten fliplr flipud rot90 narrow_copy "
                         "tensor_split hsplit vsplit dsplit argwhere"),
    "engine.assemble": "diag_embed diagflat block_diag cartesian_prod combinations vander",
    "engine.order_stats": "msort aminmax cummax cummin kthvalue nanmedian nanquantile",
    "engine.statistics": ("nansum nanmean cov corrcoef trapezoid trapz cumulative_trapezoid "
                          "histc"),
    "engine.contractions": "tensordot inner chain_matmul cdist",
    "engine.poisson_sampler": "poisson",
    "engine.matrix_functions": "matrix_exp geqrf",
    "engine.math_more": ("addcmul addcdiv addmv addr addbmm baddbmm vdot asinh acosh atanh "
                         "arcsinh arccosh arctanh frac copysign gcd lcm bitwise_and bitwise_or "
                         "bitwise_xor bitwise_not bitwise_left_shift bitwise_right_shift renorm "
                         "mvlgamma split_with_sizes unique_consecutive absolute multiply "
                         "subtract"),
    "engine.autocast_mode": "autocast is_autocast_enabled get_autocast_dtype",
    "engine.func": "vmap",  # torch.vmap is torch.func.vmap
    "engine.tensor_facts": "as_strided as_strided_",
    "engine.interop": ("FloatTensor DoubleTensor HalfTensor LongTensor IntTensor ShortTensor "
                       "CharTensor ByteTensor BoolTensor"),
}.items():
    _LAZY.update(dict.fromkeys(_names.split(), _module))
_SUBMODULES = {"nn": "nn", "optim": "nn.optim", "utils": "engine.utils",
               "autograd": "engine.autograd", "functional": "engine.functional",
               "multiprocessing": "engine.multiprocessing", "amp": "engine.amp",
               "backends": "engine.backends", "distributed": "engine.distributed",
               "distributions": "engine.distributions", "special": "engine.special",
               "linalg": "engine.linalg", "testing": "engine.testing",
               "func": "engine.func", "random": "engine.random"}

e, pi, inf, nan, newaxis = math.e, math.pi, math.inf, math.nan, None  # torch's constants


class _Named:
    """A name PyTorch code passes along, as torch.contiguous_format or torch.strided: every
    tensor here is laid out in rows (strided), so ops take these and change nothing."""

    def __init__(self, name: str) -> None:
        self._name = name

    def __repr__(self) -> str:
        return f"torch.{self._name}"


contiguous_format, preserve_format = _Named("contiguous_format"), _Named("preserve_format")
channels_last, channels_last_3d = _Named("channels_last"), _Named("channels_last_3d")
strided = _Named("strided")
__version__ = "0.1.0"  # scratchgrad's (setup.cfg reads it from here), not PyTorch's

__all__ = ["__version__", "e", "pi", "inf", "nan", "newaxis", "contiguous_format",
           "preserve_format", "channels_last", "channels_last_3d", "strided", "Value",
           "no_grad", "enable_grad", "set_grad_enabled", "is_grad_enabled",
           "inference_mode", "is_inference_mode_enabled", "grad",
           "topological_order", "gradcheck", "GradcheckError", *_LAZY, *_SUBMODULES]


# the modules of ops whose PyTorch functions also take out=, the tensor to write into
_TAKING_OUT = {"engine.elementwise", "engine.gamma", "engine.arithmetic", "engine.reductions",
               "engine.shapes", "engine.products", "engine.construct", "engine.sorting"}
_TAKING_OUT |= {"engine.bessel", "engine.index_writes", "engine.pointwise", "engine.rearrange", "engine.assemble",
                "engine.order_stats", "engine.statistics", "engine.contractions"}


@functools.cache  # one for each function, whatever its names (arcsin is asin)
def _taking_out(fn: Any) -> Any:
    """fn as PyTorch's function, which takes out= too (engine/inplace.py)."""
    @functools.wraps(fn)
    def op(*args: Any, out: Any = None, **kwargs: Any) -> Any:
        if out is None:
            return fn(*args, **kwargs)
        from engine.inplace import write_out
        return write_out(out, fn(*args, **kwargs), fn.__name__)
    return op


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        module = importlib.import_module(_LAZY[name])
        if module.__name__ == "engine.dtypes" and name in module.NAMES:
            value = module.NAMES[name]
        else:
            value = getattr(module, "clamp" if name == "clip" else name)
            if module.__name__ in _TAKING_OUT:
                value = _taking_out(value)
    elif name in _SUBMODULES:
        value = importlib.import_module(_SUBMODULES[name])
    else:
        raise AttributeError(f"module 'engine' has no attribute {name!r}")
    # kept, so that `torch.tanh(x)` in a training loop is a plain read from then on (a
    # submodule the import bound under the same name, engine.tensor, stays: it is callable)
    return globals().setdefault(name, value)


class _PyTorchPaths(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """PyTorch's module paths with torch spelt engine, for the packages that live outside
    engine: `import engine.nn as nn`, `import engine.nn.functional as F`, `from
    engine.optim.lr_scheduler import StepLR` are the nn and nn.optim modules themselves, so
    that renaming torch to engine in a program's imports is enough."""

    _REAL = {"engine.nn": "nn", "engine.optim": "nn.optim"}

    def _real(self, name: str) -> str | None:
        for alias, real in self._REAL.items():
            if name == alias or name.startswith(alias + "."):
                return real + name[len(alias):]
        return None

    def find_spec(self, fullname: str, path: Any, target: Any = None) -> Any:
        if self._real(fullname) is None:
            return None
        return importlib.util.spec_from_loader(fullname, self)

    def create_module(self, spec: Any) -> Any:
        module = importlib.import_module(self._real(spec.name))  # the module, not a copy
        spec.loader_state = module.__spec__  # (importlib sets the alias's spec on it next)
        return module

    def exec_module(self, module: Any) -> None:
        """Nothing to run (it ran under its own name); it keeps its own spec."""
        module.__spec__ = module.__spec__.loader_state


sys.meta_path.insert(0, _PyTorchPaths())  # before the path finder, which would load copies


def __dir__() -> list[str]:
    return __all__


def is_tensor(obj: Any) -> bool:
    """True for an engine Tensor, as torch.is_tensor."""
    from engine.tensor import Tensor
    return isinstance(obj, Tensor)
