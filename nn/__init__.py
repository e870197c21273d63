"""Neural-net building blocks on the engine, as torch.nn: Module and Parameter, layers,
containers, normalisation, `functional` (`import nn.functional as F`), `init`, `utils`
(gradient clipping); plus the scalar MLPs of micrograd (`nn.scalar`) and the optimizers
(`nn.optim`, as torch.optim).

The losses are reachable at the top level too (`nn.cross_entropy`), and so are the
optimizers (`nn.SGD`, `nn.Adam`, `nn.AdamW`).
"""
from nn import functional, init, parallel, scalar, utils
from nn.container import ModuleDict, ModuleList, Sequential
from nn.functional import cross_entropy, hinge_loss, mse_loss, nll_loss
from nn.layers import (GELU, AdaptiveAvgPool2d, AvgPool2d, Conv1d, Conv2d, CrossEntropyLoss,
                       Dropout, Embedding, Flatten, Identity, Linear, LogSoftmax, MaxPool2d,
                       MSELoss, NLLLoss, ReLU, Sigmoid, Softmax, Tanh, manual_seed)
from nn.module import Module
from nn.normalization import BatchNorm1d, BatchNorm2d, LayerNorm
from nn.parameter import Parameter
from nn import optim
from nn.optim import SGD, Adam, AdamW

__all__ = ["Module", "Parameter", "Linear", "Embedding", "Identity", "Flatten", "Dropout",
           "ReLU", "GELU", "Tanh", "Sigmoid", "Softmax", "LogSoftmax", "LayerNorm",
           "BatchNorm1d", "BatchNorm2d", "Conv1d", "Conv2d", "MaxPool2d", "AvgPool2d",
           "AdaptiveAvgPool2d", "Sequential", "ModuleList", "ModuleDict", "CrossEntropyLoss",
           "MSELoss", "NLLLoss", "functional", "init", "optim", "scalar", "utils", "manual_seed",
           "mse_loss", "cross_entropy", "nll_loss", "hinge_loss", "SGD", "Adam", "AdamW"]
