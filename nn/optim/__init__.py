"""Optimizers, as torch.optim (also reached as `engine.optim`, so `import engine as torch;
torch.optim.AdamW(...)` works): SGD, Adam, AdamW, RMSprop, Adagrad, and `lr_scheduler`."""
from nn.optim import lr_scheduler
from nn.optim.adam import Adam, AdamW
from nn.optim.optimizer import Optimizer
from nn.optim.rmsprop import Adagrad, RMSprop
from nn.optim.sgd import SGD

__all__ = ["Optimizer", "SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "lr_scheduler"]
