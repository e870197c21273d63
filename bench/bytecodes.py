"""Python bytecodes a piece of work runs, by function: the interpreter's share of a step,
counted the same on every run however loaded the machine (numpy's work runs in C, below any
bytecode; PyTorch's in C++). bench.makemore and bench.minibatch count their steps with it
(`--opcodes`)."""
from __future__ import annotations

import collections
import os
import sys
from typing import Any, Callable, Iterable


def count(run: Callable[..., Any], calls: Iterable[tuple]) -> collections.Counter:
    """Bytecodes per function ('file:line name') over run(*args) for each args in `calls`
    (called from here, untraced: no wrapper's bytecodes are counted)."""
    counted: collections.Counter = collections.Counter()

    def trace(frame: Any, event: str, arg: Any) -> Any:
        frame.f_trace_opcodes, frame.f_trace_lines = True, False
        code = frame.f_code
        where = f"{os.path.relpath(code.co_filename)}:{code.co_firstlineno} {code.co_name}"

        def each(frame: Any, event: str, arg: Any) -> Any:
            if event == "opcode":
                counted[where] += 1
            return each
        return each
    sys.settrace(trace)
    try:
        for args in calls:
            run(*args)
    finally:
        sys.settrace(None)
    return counted


def report(counts: dict[str, collections.Counter], times: int, what: str, whats: str,
           top: int) -> None:
    """Print bytecodes per `what` (over `times` `whats`) for ours, hand numpy and the bare
    engine, and ours' `top` functions."""
    ours, bare, numpy = (sum(counts[way].values()) / times for way in ("ours", "bare", "numpy"))
    print(f"Python bytecodes per {what} over {times} {whats}: ours {ours:.0f}, hand numpy "
          f"{numpy:.0f} "
          f"(ours' own: {ours - numpy:.0f}), a bare graph engine {bare:.0f}")
    for where, n in counts["ours"].most_common(top):
        print(f"  {n / times:7.0f}  {where}")
