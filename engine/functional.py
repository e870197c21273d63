"""Derivatives of whole functions, as torch.autograd.functional: jacobian, hessian, hvp."""
