"""scratchgrad's autodiff core: scalar `Value`s, numpy `Tensor`s, one graph engine."""
from engine.gradcheck import GradcheckError, gradcheck
from engine.graph import is_grad_enabled, no_grad, topological_order
from engine.tensor import Tensor
from engine.value import Value

__all__ = ["Value", "Tensor", "no_grad", "is_grad_enabled", "topological_order", "gradcheck",
           "GradcheckError"]
