"""Utilities under PyTorch's names: `engine.utils.data` is `torch.utils.data` (Dataset,
DataLoader, samplers), also reachable as `torch.utils.data` after `import engine as torch`."""
from engine.utils import data

__all__ = ["data"]
