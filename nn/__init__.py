"""Neural-net building blocks on the engine: Module, scalar MLPs, layers, losses, optimizers.

As torch.nn: `nn.functional` (`import nn.functional as F`) holds the functional forms;
the losses are reachable at the top level too (`nn.cross_entropy`).
"""
from nn import functional, scalar
from nn.functional import cross_entropy, hinge_loss, mse_loss, nll_loss
from nn.layers import Linear, ReLU, Sequential, Sigmoid, Tanh, manual_seed
from nn.module import Module
from nn.optim import SGD, Adam

__all__ = ["Module", "scalar", "Linear", "ReLU", "Tanh", "Sigmoid", "Sequential", "manual_seed",
           "functional", "mse_loss", "cross_entropy", "nll_loss", "hinge_loss", "SGD", "Adam"]
