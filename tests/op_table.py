"""The ops both engines share, as tables that tests/test_value.py and tests/test_tensor.py
run on their engine: each row is written once, as code that runs on a Value, on a Tensor
and on a torch tensor alike.

- OPS: every op of Value (`value_ops()` finds them, and a test makes sure each has a row),
  with the domain to draw each operand from.
- EDGES: points where an op's value or derivative is an edge case (inf, nan, a kink, 0**p),
  with numpy's value and PyTorch's gradient (recorded) as the answers wanted.
- STEPS: ops in forms that stay in their domain, for random programs that reuse nodes.
"""
from __future__ import annotations

import inspect
import math
from typing import Callable

import numpy as np
from hypothesis import strategies as st

from engine import Value


def real(rng: np.random.Generator, shape: tuple) -> np.ndarray:
    return rng.uniform(-2, 2, shape)


def away_from_zero(rng: np.random.Generator, shape: tuple) -> np.ndarray:
    """For division and the kinks of relu, abs and clamp."""
    return rng.uniform(0.2, 2, shape) * rng.choice([-1.0, 1.0], shape)


def positive(rng: np.random.Generator, shape: tuple) -> np.ndarray:
    """For log, sqrt and fractional powers."""
    return rng.uniform(0.2, 2, shape)


# name (an op's name, optionally with a _suffix), function, how to draw each operand
OPS = [
    ("add", lambda a, b: a + b, [real, real]),
    ("add_number", lambda a: a + 2.5, [real]),
    ("radd", lambda a: 2.5 + a, [real]),
    ("sub", lambda a, b: a - b, [real, real]),
    ("sub_number", lambda a: a - 4, [real]),
    ("rsub", lambda a: 1 - a, [real]),
    ("mul", lambda a, b: a * b, [real, real]),
    ("mul_number", lambda a: a * 3, [real]),
    ("rmul", lambda a: 2 * a, [real]),
    ("truediv", lambda a, b: a / b, [real, away_from_zero]),
    ("truediv_number", lambda a: a / 4, [real]),
    ("rtruediv", lambda a: 3 / a, [away_from_zero]),
    ("neg", lambda a: -a, [real]),
    ("pow", lambda a, b: a ** b, [positive, real]),
    ("pow_int", lambda a: a ** 3, [real]),
    ("pow_negative", lambda a: a ** -2, [away_from_zero]),
    ("pow_fraction", lambda a: a ** 0.5, [positive]),
    ("rpow", lambda a: 2 ** a, [real]),
    ("exp", lambda a: a.exp(), [real]),
    ("log", lambda a: a.log(), [positive]),
    ("tanh", lambda a: a.tanh(), [real]),
    ("sigmoid", lambda a: a.sigmoid(), [real]),
    ("sigmoid_far", lambda a: (a * 20).sigmoid(), [real]),
    ("relu", lambda a: a.relu(), [away_from_zero]),
    ("abs", lambda a: a.abs(), [away_from_zero]),
    ("abs_builtin", lambda a: abs(a), [away_from_zero]),
    ("sqrt", lambda a: a.sqrt(), [positive]),
    ("reused", lambda a: a * a + a.exp() * a, [real]),
]


def value_ops() -> set[str]:
    """The names of Value's ops: its methods and operators that make a new Value from Values
    or numbers (`__add__`, `__rpow__`, `exp`, ...), found by calling each one."""
    ops = set()
    for name, member in vars(Value).items():
        private = name.startswith("_") and not name.startswith("__")
        if not callable(member) or private or name == "__init__":
            continue
        required = [p for p in inspect.signature(member).parameters.values()
                    if p.default is inspect.Parameter.empty]
        try:
            out = member(Value(0.5), *[0.5] * (len(required) - 1))
        except TypeError:  # not an op taking numbers (none of Value's methods today)
            continue
        if isinstance(out, Value):
            ops.add(name)
    return ops


def row_names(op: str) -> list[str]:
    """The OPS rows that exercise `op` ('__add__' -> 'add', 'add_number')."""
    bare = op.strip("_")
    return [name for name, *_ in OPS if name == bare or name.startswith(bare + "_")]


# name, function, numpy's value of the same function (the reference for the value), point,
# and the gradient there: PyTorch's, recorded from torch 2.13.0+cpu (test_value.py checks the
# record against the torch installed), so that the suite checks it without PyTorch too
inf, nan = math.inf, math.nan
EDGES = [
    ("log(0)", lambda a: a.log(), np.log, 0.0, inf),
    ("log(-1)", lambda a: a.log(), np.log, -1.0, -1.0),
    ("sqrt(-1)", lambda a: a.sqrt(), np.sqrt, -1.0, nan),
    ("sqrt(0)", lambda a: a.sqrt(), np.sqrt, 0.0, inf),
    ("0**-1", lambda a: a ** -1, lambda a: a ** -1.0, 0.0, -inf),
    ("-0.0**-1", lambda a: a ** -1, lambda a: a ** -1.0, -0.0, -inf),
    ("0**-2", lambda a: a ** -2, lambda a: a ** -2.0, 0.0, -inf),
    ("(-8)**(1/3)", lambda a: a ** (1 / 3), lambda a: a ** (1 / 3), -8.0, nan),
    ("1/0", lambda a: 1 / a, lambda a: 1 / a, 0.0, -inf),
    ("exp(1000)", lambda a: a.exp(), np.exp, 1000.0, inf),
    ("10**400", lambda a: a ** 400, lambda a: a ** 400.0, 10.0, inf),
    ("2**a overflow", lambda a: 2 ** a, lambda a: 2.0 ** a, 5000.0, inf),
    ("sigmoid(-1000)", lambda a: a.sigmoid(), lambda a: 0.5 * (1 + np.tanh(a / 2)), -1000.0,
     0.0),
    ("tanh(1000)", lambda a: a.tanh(), np.tanh, 1000.0, 0.0),
    ("sqrt(-inf)", lambda a: a.sqrt(), np.sqrt, -inf, nan),
    ("(-inf)**0.5", lambda a: a ** 0.5, np.sqrt, -inf, nan),
    ("(-inf)**1.5 gradient", lambda a: a ** 1.5, lambda a: a ** 1.5, -inf, nan),
    ("(-1e200)**3.5", lambda a: a ** 3.5, lambda a: a ** 3.5, -1e200, nan),
    ("(-1e-200)**-5.5", lambda a: a ** -5.5, lambda a: a ** -5.5, -1e-200, nan),
    ("(-1e200)**3", lambda a: a ** 3, lambda a: a ** 3.0, -1e200, inf),
    ("d(0**p)/dp, p < 0", lambda p: 0.0 ** p, lambda p: 0.0 ** p, -1.0, -inf),
    ("d(0**p)/dp, p > 0", lambda p: 0.0 ** p, lambda p: 0.0 ** p, 2.0, 0.0),
    ("d(0**p)/dp, p = 0", lambda p: 0.0 ** p, lambda p: 0.0 ** p, 0.0, 0.0),
    ("relu(nan)", lambda a: a.relu(), lambda a: a, nan, 1.0),
    ("relu(-1) under a nan gradient", lambda a: a.relu() * nan, lambda a: a * nan,
     -1.0, 0.0),
    ("relu(0)", lambda a: a.relu(), lambda a: a, 0.0, 0.0),
    ("abs(0) under an inf gradient", lambda a: (a.abs() + 1) * inf,
     lambda a: (a + 1) * inf, 0.0, nan),
    ("abs(nan)", lambda a: a.abs(), np.abs, nan, 0.0),
    ("x**0 under a nan gradient", lambda a: a ** 0 * nan, lambda a: a * nan, 2.0, 0.0),
    ("x**0 at 0", lambda a: a ** 0, lambda a: a ** 0.0, 0.0, 0.0),
    ("log(0) gradient", lambda a: a.log(), np.log, 0.0, inf),
    ("sigmoid(nan)", lambda a: a.sigmoid(), lambda a: a, nan, nan),
    ("exp(800) gradient", lambda a: a.exp(), np.exp, 800.0, inf),
]


# Random programs: each step applies one op to nodes already in the pool; inner forms keep
# every op in its domain (log and sqrt of x*x + 1, a division by y*y + 1) so that both
# engines stay finite. name: (arity, function)
STEPS: dict[str, tuple[int, Callable]] = {
    "add": (2, lambda x, y: x + y),
    "sub": (2, lambda x, y: x - y),
    "mul": (2, lambda x, y: x * y),
    "div": (2, lambda x, y: x / (y * y + 1)),
    "pow_value": (2, lambda x, y: (x * x + 1) ** y.tanh()),
    "number_ops": (1, lambda x: 3 - 2 * x / 4 + 1),
    "pow": (1, lambda x: x ** 2 - (x * x + 1) ** -1.5),
    "rpow": (1, lambda x: 2 ** x.tanh()),
    "exp": (1, lambda x: x.tanh().exp()),
    "log": (1, lambda x: (x * x + 1).log()),
    "tanh": (1, lambda x: x.tanh()),
    "sigmoid": (1, lambda x: x.sigmoid()),
    "relu": (1, lambda x: x.relu()),
    "sqrt": (1, lambda x: (x * x + 0.5).sqrt()),
    "abs": (1, lambda x: x.abs()),
    "neg": (1, lambda x: -x),
}


START = st.floats(-2, 2).filter(lambda v: abs(v) > 1e-3)


ALL_STEPS = sorted(STEPS)


def programs(step_names: list[str] = ALL_STEPS,
             start: st.SearchStrategy = START) -> st.SearchStrategy:
    """Start values (each drawn from `start`) and a list of (op, operand index, operand
    index) steps."""
    return st.tuples(
        st.lists(start, min_size=1, max_size=4),
        st.lists(st.tuples(st.sampled_from(step_names), st.integers(0, 99), st.integers(0, 99)),
                 min_size=1, max_size=25),
    )


def run_program(inputs: list, steps: list) -> object:
    """Apply the steps to a growing pool; operands are picked (and so reused) by index.
    The result is the sum of every step's node, so that each step counts."""
    pool = list(inputs)
    for name, i, j in steps:
        arity, op = STEPS[name]
        args = (pool[i % len(pool)], pool[j % len(pool)])[:arity]
        pool.append(op(*args))
    out = pool[len(inputs)]
    for node in pool[len(inputs) + 1:]:
        out = out + node
    return out
