"""Optimizers, as torch.optim (also reached as `engine.optim`, so `import engine as torch;
torch.optim.AdamW(...)` works): SGD, Adam, AdamW, Adamax, NAdam, RAdam, RMSprop, Adagrad,
Adadelta, Rprop, ASGD, LBFGS, and `lr_scheduler` and `swa_utils` (averaged weights)."""
from nn.optim import lr_scheduler, swa_utils
from nn.optim.adadelta import Adadelta
from nn.optim.adam import Adam, AdamW
from nn.optim.adam_variants import Adamax, NAdam, RAdam
from nn.optim.asgd import ASGD
from nn.optim.lbfgs import LBFGS
from nn.optim.optimizer import Optimizer
from nn.optim.rmsprop import Adagrad, RMSprop
from nn.optim.rprop import Rprop
from nn.optim.sgd import SGD

__all__ = ["Optimizer", "SGD", "Adam", "AdamW", "Adamax", "NAdam", "RAdam", "RMSprop",
           "Adagrad", "Adadelta", "Rprop", "ASGD", "LBFGS", "lr_scheduler", "swa_utils"]
