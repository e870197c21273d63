"""A test of the tests: plant each bug of issue 23's table, one at a time, in a copy of the
tree, run the tests that should catch it with PyTorch and without, and count the failures.

    .venv/bin/python tests/mutants.py              # every mutant, on the tests it names
    .venv/bin/python tests/mutants.py relu adam    # the mutants whose name has one of the words
    .venv/bin/python tests/mutants.py --all        # the whole suite for each mutant (slow)

Each mutant is a small textual patch of one source file, which must apply exactly once: a
mutant whose text the source no longer holds is an error, never a pass. The working tree is
not touched: its files (those git tracks, and new ones it does not ignore) are copied to a
temporary folder, and pytest runs there with the copy first on PYTHONPATH, so processes the
tests start import the copy too. "Without torch" adds tests/without_torch to PYTHONPATH,
which hides PyTorch from the tests and everything they start, as a venv without it would.
The first row runs the same tests on the unchanged copy: they must pass for the counts
below it to mean anything. The exit status is 1 if a mutant goes uncaught in either column.
"""
from __future__ import annotations

import importlib.util
import os
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


@dataclass
class Mutant:
    name: str
    path: str  # the source file, relative to the checkout
    old: str  # text that occurs exactly once in it
    new: str  # what the bug puts there instead
    tests: list[str]  # the test files that should catch it


MUTANTS = [
    Mutant("explorer's text shows Value tanh's rule as (1 + t^2)", "engine/value.py",
           '"""d(tanh a): da = (1 - tanh(a)**2) g"""', '"""d(tanh a): da = (1 + tanh(a)**2) g"""',
           ["tests/test_rules.py", "tests/test_explore.py"]),
    Mutant("explorer's text shows Tensor tanh's rule as (1 + t^2)", "engine/elementwise.py",
           '"""tanh a; da = g (1 - tanh(a)**2)."""', '"""tanh a; da = g (1 + tanh(a)**2)."""',
           ["tests/test_rules.py", "tests/test_explore.py"]),
    Mutant("nn.manual.relu_grad passes gradient at 0", "nn/manual.py",
           "return out_g * (inp > 0)", "return out_g * (inp >= 0)", ["tests/test_manual.py"]),
    Mutant("Value d(a**b)/db at a = b = 0", "engine/value.py",
           "flat = a.data == 0 and b.data >= 0", "flat = a.data == 0 and b.data > 0",
           ["tests/test_value.py", "tests/test_higher_order.py"]),
    Mutant("a Value leaf's .backward() twice overwrites", "engine/graph.py",
           "root.grad += seed", "root.grad = seed", ["tests/test_value.py", "tests/test_graph.py"]),
    Mutant("a Tensor leaf's .backward() twice overwrites", "engine/graph.py",
           "    for root, seed in zip(roots, seeds):\n",
           "    for root, seed in zip(roots, seeds):\n        if root._a is None:\n"
           "            root.zero_grad()\n",
           ["tests/test_tensor.py", "tests/test_graph.py"]),
    Mutant("Value relu passes gradient at 0", "engine/value.py",
           "if not out._a.data <= 0:", "if not out._a.data < 0:",
           ["tests/test_value.py", "tests/test_scalar.py"]),
    Mutant("Tensor relu passes gradient at 0", "engine/elementwise.py",
           "_kept(_raw(out) != 0, g)", "_kept(_raw(a) >= 0, g)",
           ["tests/test_tensor.py", "tests/test_layers.py"]),
    Mutant("Adam bias correction uses t-1", "nn/optim/adam.py",
           "(1 - beta2 ** t) ** 0.5", "(1 - beta2 ** (t - 1)) ** 0.5", ["tests/test_optim.py"]),
    Mutant("maximum gives full g to both sides of a tie", "engine/elementwise.py",
           "shared = _where(x == y, g * 0.5, g)", "shared = g", ["tests/test_tensor.py"]),
    Mutant("nan gradients let through the kink mask", "engine/elementwise.py",
           "return g * keep if np.isfinite(_raw(g)).all() else _where(keep, g, 0)",
           "return g * keep", ["tests/test_tensor.py"]),
    Mutant("SGD dampens the first momentum step", "nn/optim/sgd.py",
           'Tensor(np.array(grad, param.dtype))',
           'Tensor(np.array((1 - group["dampening"]) * grad, param.dtype))',
           ["tests/test_optim.py"]),
    Mutant("cross_entropy reduces over the wrong class dim", "nn/functional.py",
           "exps = _exps(x, 1)", "exps = _exps(x, -1)",
           ["tests/test_functional.py", "tests/test_layers.py"]),
    Mutant("an in-place change does not move the change clock", "engine/inplace.py",
           "        graph.changed()\n", "", ["tests/test_graph.py", "tests/test_inplace.py"]),
    Mutant("a product is taken for an op that saves nothing", "engine/tensor.py",
           '"*", rule, a, b)\n        return _saves(out, (_B if a.requires_grad else 0) | (_A '
           'if b.requires_grad else 0))',
           '"*", rule, a, b)\n        return _saves_nothing(out)',
           ["tests/test_inplace.py", "tests/test_graph.py"]),
    Mutant("indexing reads the caller's index array at backward", "engine/shapes.py",
           "        index = _private(index)  # (what the rule reads", "        pass  # (",
           ["tests/test_inplace.py", "tests/test_tensor.py"]),
    Mutant("randperm's swaps forget what earlier swaps brought", "engine/random.py",
           "start = np.where(last >= 0, last, where)", "start = where",
           ["tests/test_random.py"]),
]


def copy_tree(dest: Path) -> None:
    """The checkout's files as they are now (tracked or new, not ignored) into dest."""
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                            cwd=ROOT, capture_output=True, check=True).stdout
    for name in filter(None, listed.decode().split("\0")):
        source = ROOT / name
        if source.is_file():  # a file deleted but not yet committed is listed, and absent
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, dest / name)


def run_tests(tree: Path, tests: list[str], with_torch: bool) -> tuple[int, int]:
    """(failures and errors, tests run) of pytest on `tests` in `tree`."""
    paths = [str(tree)] + ([] if with_torch else [str(tree / "tests" / "without_torch")])
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(paths)}
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "--tb=no", "-p",
                           "no:cacheprovider", "-o", "addopts=", *tests],
                          cwd=tree, env=env, capture_output=True, text=True)
    summary = done.stdout.strip().splitlines()[-1] if done.stdout.strip() else ""
    counts = {word: int(n) for n, word in re.findall(r"(\d+) (\w+)", summary)}
    ran = sum(counts.get(w, 0) for w in ("passed", "failed", "error", "errors"))
    if done.returncode not in (0, 1) or not ran:  # 1: tests failed; else pytest itself did
        raise RuntimeError(f"pytest {' '.join(tests)} did not run (exit {done.returncode}):\n"
                           f"{done.stdout[-2000:]}{done.stderr[-2000:]}")
    return counts.get("failed", 0) + counts.get("error", 0) + counts.get("errors", 0), ran


def main(argv: list[str]) -> int:
    everything = "--all" in argv
    words = [w for w in argv if w != "--all"]
    chosen = [m for m in MUTANTS if not words or any(w.lower() in m.name.lower() for w in words)]
    if not chosen:
        raise SystemExit(f"no mutant's name has any of {words}; the mutants are:\n" +
                         "\n".join(m.name for m in MUTANTS))
    has_torch = importlib.util.find_spec("torch") is not None
    columns = [True, False] if has_torch else [False]
    print("| planted bug | source | tests | failures with torch | without torch |")
    print("|---|---|---|---|---|")
    missed = False
    with tempfile.TemporaryDirectory(prefix="scratchgrad-mutants-") as tmp:
        tree = Path(tmp)
        copy_tree(tree)
        rows = [(None, sorted({t for m in chosen for t in m.tests}))] + [
            (m, m.tests) for m in chosen]
        for mutant, tests in rows:
            tests = ["tests"] if everything else tests
            if mutant is not None:
                source = tree / mutant.path
                original = source.read_text()
                found = original.count(mutant.old)
                if found != 1:
                    raise SystemExit(f"{mutant.name}: its text occurs {found} times in "
                                     f"{mutant.path} (wanted once): update the mutant\n"
                                     f"{mutant.old}")
                source.write_text(original.replace(mutant.old, mutant.new))
            try:
                cells = []
                for with_torch in columns:
                    failed, ran = run_tests(tree, tests, with_torch)
                    cells.append(f"{failed} of {ran}")
                    missed |= (failed == 0) if mutant else (failed > 0)
                if not has_torch:
                    cells.insert(0, "(torch not installed)")
            finally:
                if mutant is not None:
                    source.write_text(original)
            name, where = (mutant.name, mutant.path) if mutant else ("none (the tree as it is)", "")
            tested = "all" if everything else "those below" if mutant is None else ", ".join(
                t.removeprefix("tests/") for t in tests)
            print(f"| {name} | {where} | {tested} | {' | '.join(cells)} |", flush=True)
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
