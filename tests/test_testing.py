"""engine/testing.py: torch.testing.assert_close passes and fails where PyTorch's does, with
PyTorch's messages (recorded from torch 2.13, and compared with torch where installed)."""
from __future__ import annotations

import math

import numpy as np
import pytest

import engine

# what a learner compares: (actual, expected, keyword arguments), for engine or torch
CASES = {
    "equal": lambda m: (m.tensor([1.0, 2.0]), m.tensor([1.0, 2.0]), {}),
    "float32 within its tolerance": lambda m: (m.tensor([1.0, 2.0]), m.tensor([1.0, 2.000001]), {}),
    "float32 beyond it": lambda m: (m.tensor([1.0, 2.0]), m.tensor([1.0, 2.1]), {}),
    "float64 beyond it": lambda m: (m.tensor([[1.0, 2.0], [3.0, 4.0]], dtype=m.float64), m.tensor([[1.0, 2.0], [3.0 + 1e-5, 4.5]], dtype=m.float64), {}),
    "dtypes differ": lambda m: (m.tensor([1.0, 2.0]), m.tensor([1.0, 2.0], dtype=m.float64), {}),
    "dtypes differ, unchecked": lambda m: (m.tensor([1.0, 2.0]), m.tensor([1.0, 2.0], dtype=m.float64), {"check_dtype": False}),
    "shapes differ": lambda m: (m.tensor([1.0, 2.0]), m.tensor([1.0, 2.0, 3.0]), {}),
    "ints exact": lambda m: (m.tensor([1, 2]), m.tensor([1, 3]), {}),
    "nan": lambda m: (m.tensor([1.0, math.nan]), m.tensor([1.0, math.nan]), {}),
    "nan, equal_nan": lambda m: (m.tensor([1.0, math.nan]), m.tensor([1.0, math.nan]), {"equal_nan": True}),
    "inf": lambda m: (m.tensor([math.inf, -math.inf]), m.tensor([math.inf, -math.inf]), {}),
    "given tolerances": lambda m: (m.tensor([1.0, 2.0]), m.tensor([1.0, 2.1]), {"rtol": 0.0, "atol": 0.2}),
    "scalars": lambda m: (1.0, 1.1, {}),
    "scalars close": lambda m: (1.0, 1.0 + 1e-9, {}),
    "sequences": lambda m: ([m.tensor([1.0]), m.tensor([2.0])], [m.tensor([1.0]), m.tensor([2.5])], {}),
    "own message": lambda m: (m.tensor([1.0]), m.tensor([2.0]), {"msg": "weights moved"}),
}
# torch 2.13's outcome of each: None where it passes, else its AssertionError's message
RECORDED = {
    'equal': None,
    'float32 within its tolerance': None,
    'float32 beyond it':
        'Tensor-likes are not close!\n'
        '\n'
        'Mismatched elements: 1 / 2 (50.0%)\n'
        'Greatest absolute difference: 0.09999990463256836 at index (1,) (up '
        'to 1e-05 allowed)\n'
        'Greatest relative difference: 0.04761900380253792 at index (1,) (up '
        'to 1.3e-06 allowed)',
    'float64 beyond it':
        'Tensor-likes are not close!\n'
        '\n'
        'Mismatched elements: 2 / 4 (50.0%)\n'
        'Greatest absolute difference: 0.5 at index (1, 1) (up to 1e-07 allowed)\n'
        'Greatest relative difference: 0.1111111111111111 at index (1, 1) (up '
        'to 1e-07 allowed)',
    'dtypes differ':
        "The values for attribute 'dtype' do not match: torch.float32 != torch.float64.",
    'dtypes differ, unchecked': None,
    'shapes differ':
        "The values for attribute 'shape' do not match: torch.Size([2]) != torch.Size([3]).",
    'ints exact':
        'Tensor-likes are not equal!\n'
        '\n'
        'Mismatched elements: 1 / 2 (50.0%)\n'
        'Greatest absolute difference: 1 at index (1,)\n'
        'Greatest relative difference: 0.3333333432674408 at index (1,)',
    'nan':
        'Tensor-likes are not close!\n'
        '\n'
        'Mismatched elements: 1 / 2 (50.0%)\n'
        'Greatest absolute difference: nan at index (1,) (up to 1e-05 allowed)\n'
        'Greatest relative difference: nan at index (1,) (up to 1.3e-06 allowed)',
    'nan, equal_nan': None,
    'inf': None,
    'given tolerances': None,
    'scalars':
        'Scalars are not close!\n'
        '\n'
        'Expected 1.1 but got 1.0.\n'
        'Absolute difference: 0.10000000000000009 (up to 1e-07 allowed)\n'
        'Relative difference: 0.09090909090909098 (up to 1e-07 allowed)',
    'scalars close': None,
    'sequences':
        'Tensor-likes are not close!\n'
        '\n'
        'Mismatched elements: 1 / 1 (100.0%)\n'
        'Greatest absolute difference: 0.5 at index (0,) (up to 1e-05 allowed)\n'
        'Greatest relative difference: 0.20000000298023224 at index (0,) (up '
        'to 1.3e-06 allowed)\n'
        '\n'
        'The failure occurred for item [1]',
    'own message': 'weights moved',
}


def _outcome(m, name):
    actual, expected, kwargs = CASES[name](m)
    try:
        m.testing.assert_close(actual, expected, **kwargs)
    except AssertionError as e:
        return str(e)
    return None


@pytest.mark.parametrize("name", CASES)
def test_assert_close_passes_and_fails_with_pytorchs_messages(name):
    assert _outcome(engine, name) == RECORDED[name]


@pytest.mark.parametrize("name", CASES)
def test_the_recorded_outcomes_are_pytorchs(name):
    torch = pytest.importorskip("torch")
    assert _outcome(torch, name) == RECORDED[name]


def test_arrays_and_callable_messages_and_the_older_assert_allclose():
    engine.testing.assert_close(np.array([1.0, 2.0]), engine.tensor([1.0, 2.0], dtype=engine.float64))
    with pytest.raises(AssertionError, match="^wrapped: Tensor-likes are not close!"):
        engine.testing.assert_close(engine.tensor([1.0]), engine.tensor([2.0]),
                                    msg=lambda text: "wrapped: " + text)
    engine.testing.assert_allclose(engine.tensor([1.0, math.nan]),
                                   engine.tensor([1.0, math.nan], dtype=engine.float64))


@pytest.mark.parametrize("call, error, message", [
    (lambda: engine.testing.assert_close(engine.tensor([1.0]), engine.tensor([1.0]), rtol=0.1),
     ValueError, "Both 'rtol' and 'atol' must be either specified or omitted, but got no atol"),
    (lambda: engine.testing.assert_close("1", "1"), TypeError, "actual is a str"),
    (lambda: engine.testing.assert_close({"a": engine.tensor(1.0)}, {"b": engine.tensor(1.0)}),
     AssertionError, "keys of the mappings do not match"),
])
def test_bad_calls_say_what_was_wrong(call, error, message):
    with pytest.raises(error, match=message):
        call()
