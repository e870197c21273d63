"""Freed array memory kept in the process for the next training step (glibc's malloc).

A training step allocates and frees the same large arrays every time. By default glibc
gives a large freed array's memory back to the operating system: arrays from 128 KiB up
are mapped and unmapped one by one, and the heap is trimmed whenever its free top passes a
threshold. The next step then pays a page fault for every 4 KiB it takes back: ~1,300 per
step of bench/transformer.py's small GPT, a sixth of the step's CPU time. Raising the two
thresholds (arrays up to 32 MiB come from the heap, which is trimmed past 128 MiB free)
keeps that memory for reuse; the price is that the process's resident memory stays near
its peak between steps instead of shrinking.

`keep_freed_memory()` runs once, when the Tensor engine loads, and only where the C
library is glibc; elsewhere it does nothing.
"""
from __future__ import annotations

import ctypes
import ctypes.util
import platform

_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3  # mallopt's parameter numbers (malloc.h)
_TRIM, _MMAP = 128 << 20, 32 << 20


def keep_freed_memory() -> bool:
    """Ask glibc to keep freed memory for reuse; True if it took the settings."""
    if platform.system() != "Linux" or platform.libc_ver()[0] != "glibc":
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        return bool(libc.mallopt(_M_TRIM_THRESHOLD, _TRIM)) and bool(
            libc.mallopt(_M_MMAP_THRESHOLD, _MMAP))
    except (OSError, AttributeError):  # no such library or function: leave malloc alone
        return False
