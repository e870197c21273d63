"""`torch.distributed`, as one process on one CPU sees it: no process group can be made.

Training scripts import `init_process_group` and call it only when launched by `torchrun`
(nanoGPT's train.py checks the RANK environment variable); run as one process they never
call it, and if they do, the error says how to run them here.
"""
from __future__ import annotations

from typing import Any


def is_available() -> bool:
    return False


def is_initialized() -> bool:
    return False


def init_process_group(*args: Any, **kwargs: Any) -> None:
    raise RuntimeError("init_process_group: this engine trains in one process on the CPU, "
                       "so it has no distributed backend; run the script with python, not "
                       "torchrun (unset RANK and WORLD_SIZE)")


destroy_process_group = init_process_group
