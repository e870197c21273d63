"""Neural-net building blocks on the engine: Module, scalar MLPs, layers, losses, optimizers."""
from nn import scalar
from nn.layers import Linear, ReLU, Sequential, Sigmoid, Tanh, manual_seed
from nn.losses import cross_entropy, hinge_loss, mse_loss
from nn.module import Module
from nn.optim import SGD, Adam

__all__ = ["Module", "scalar", "Linear", "ReLU", "Tanh", "Sigmoid", "Sequential", "manual_seed",
           "mse_loss", "cross_entropy", "hinge_loss", "SGD", "Adam"]
