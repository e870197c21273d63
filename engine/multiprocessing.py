"""torch.multiprocessing: Python's multiprocessing under PyTorch's name, so that PyTorch's
`import torch.multiprocessing as mp` reads `import engine.multiprocessing as mp` here.

Everything in it is Python's own: Pool, Process, Queue, get_context, set_start_method, ...
One difference from PyTorch: a Tensor sent to another process (through a Queue, or as a
Pool task's argument or result) arrives as a copy, pickled with its numpy array, where
PyTorch moves its storage into shared memory; so an in-place change that one process makes
is not seen by the other. Under the 'fork' start method (Linux's default before Python
3.14) a child starts with the parent's tensors as they were at the fork, as any object.
"""
from multiprocessing import *  # noqa: F403 (the whole module is the point)
from multiprocessing import __all__  # noqa: F401
