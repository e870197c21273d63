"""`python -m demos`: list the demos, each with the first line of its description."""
from __future__ import annotations

import importlib
import sys

DEMOS = ("mnist", "backprop", "moons", "graph", "gpt")


def main() -> int:
    print("scratchgrad demos; run one with `python -m demos.NAME` (--help for its options):\n")
    for name in DEMOS:
        doc = importlib.import_module(f"demos.{name}").__doc__ or ""
        print(f"  {name:<9} {doc.splitlines()[0]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
