"""`torch.nn.parallel`, as one process on one CPU sees it: a model cannot be spread over
devices or processes here (see engine/distributed.py)."""
from __future__ import annotations

from typing import Any


class DistributedDataParallel:
    """Not available: one process, one CPU. Its error says to use the model itself."""

    def __init__(self, module: Any, *args: Any, **kwargs: Any) -> None:
        raise RuntimeError("DistributedDataParallel: this engine trains in one process on the "
                           "CPU; use the model itself (run the script with python, not torchrun)")


DataParallel = DistributedDataParallel
