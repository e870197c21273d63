"""Utilities under PyTorch's names: `engine.utils.data` is `torch.utils.data` (Dataset,
DataLoader, samplers), also reachable as `torch.utils.data` after `import engine as torch`;
`engine.utils.hooks` has the handles that registering a hook returns."""
from engine.utils import data, hooks

__all__ = ["data", "hooks"]
