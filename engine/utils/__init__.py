"""Utilities under PyTorch's names: `engine.utils.data` is `torch.utils.data` (Dataset,
DataLoader, samplers), also reachable as `torch.utils.data` after `import engine as torch`;
`engine.utils.hooks` has the handles that registering a hook returns;
`engine.utils.checkpoint` is `torch.utils.checkpoint` (activation checkpointing);
`engine.utils.tensorboard` is `torch.utils.tensorboard` (SummaryWriter).

Each is loaded on first use: the data pipeline brings in multiprocessing, which a program
that only registers a hook (every nn.Module can) should not pay for, in import time or in
objects for the garbage collector to scan.
"""
from __future__ import annotations

import importlib
from typing import Any

__all__ = ["data", "hooks", "checkpoint", "tensorboard"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        return importlib.import_module(f"engine.utils.{name}")
    raise AttributeError(f"module 'engine.utils' has no attribute {name!r}")
