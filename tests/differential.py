"""Random programs run on the engine and on PyTorch, side by side: the seeds both ran."""
from __future__ import annotations

from typing import Any, Callable, Iterable, Iterator


def both_ran(program: Callable[[int, Any], Any], seeds: Iterable[int],
             *libraries: Any) -> Iterator[tuple[int, list]]:
    """(seed, [its result on each library]) for every seed that no library refused; a
    program returns the text of the error it raised when it is refused."""
    for seed in seeds:
        results = [program(seed, library) for library in libraries]
        if not any(isinstance(result, str) for result in results):
            yield seed, results
