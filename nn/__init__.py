"""Neural-net building blocks on the engine: Module, scalar MLPs, layers, losses, optimizers."""
from nn import scalar
from nn.module import Module

__all__ = ["Module", "scalar"]
