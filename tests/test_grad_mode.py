"""engine/grad_mode.py: no_grad, enable_grad, set_grad_enabled: per thread, as context
managers and decorators (also of generator functions), never stuck off."""
from __future__ import annotations

import random
import threading

import pytest

import engine
from engine import Value


def test_no_grad_nests_and_restores_the_outer_state():
    with engine.no_grad():
        with engine.no_grad():
            assert not engine.is_grad_enabled()
        assert not engine.is_grad_enabled()
    assert engine.is_grad_enabled()


# --- grad mode: per thread, one saved state per entry, never stuck off ---

def test_a_no_grad_decorated_recursive_function_leaves_grad_mode_on():
    @engine.no_grad()
    def f(n):
        return f(n - 1) if n else 0

    f(3)
    assert engine.is_grad_enabled()
    x = Value(3.0)
    (x * x).backward()
    assert x.grad == 6.0


def test_one_no_grad_instance_nested_in_itself_restores_the_mode():
    ng = engine.no_grad()
    with ng:
        with ng:
            assert not engine.is_grad_enabled()
        assert not engine.is_grad_enabled()
    assert engine.is_grad_enabled()


def test_no_grad_without_parentheses_decorates_too():
    @engine.no_grad
    def f(v):
        return v * 2

    assert f(Value(1.0))._prev == () and engine.is_grad_enabled()


def test_enable_grad_inside_no_grad_records_and_restores():
    a = Value(2.0)
    with engine.no_grad():
        with engine.enable_grad():
            b = a * a
        assert not engine.is_grad_enabled()
    assert b._prev == (a, a) and engine.is_grad_enabled()


def test_set_grad_enabled_as_a_call_a_block_and_a_decorator():
    engine.set_grad_enabled(False)
    try:
        assert not engine.is_grad_enabled()
    finally:
        engine.set_grad_enabled(True)
    assert engine.is_grad_enabled()
    with engine.set_grad_enabled(False):
        assert not engine.is_grad_enabled()
    assert engine.is_grad_enabled()

    @engine.set_grad_enabled(False)
    def f():
        return engine.is_grad_enabled()

    assert engine.is_grad_enabled()  # decorating switches nothing
    assert f() is False and engine.is_grad_enabled()
    with pytest.raises(TypeError, match="True or False"):
        engine.set_grad_enabled("no")


def test_grad_mode_is_per_thread():
    inside, seen_elsewhere = threading.Event(), []

    def other():
        inside.wait()
        seen_elsewhere.append(engine.is_grad_enabled())

    t = threading.Thread(target=other)
    t.start()
    with engine.no_grad():
        inside.set()
        t.join()
    assert seen_elsewhere == [True] and engine.is_grad_enabled()


def _train(seed, steps):
    """A few SGD steps of a tiny scalar model; the parameters' values after each step."""
    rng = random.Random(seed)
    w, b = Value(rng.uniform(-1, 1)), Value(0.0)
    trace = []
    for _ in range(steps):
        x, y = rng.uniform(-1, 1), rng.uniform(-1, 1)
        loss = (w * x + b - y) ** 2
        w.grad = b.grad = 0.0
        loss.backward()
        with engine.no_grad():
            w.data -= 0.1 * w.grad
            b.data -= 0.1 * b.grad
        trace.append((w.data, b.data, w.grad, b.grad))
    return trace


def _evaluate(seed, steps, out):
    """Ops inside no_grad, over and over: they must record nothing and switch off no one."""
    for i in range(steps):
        with engine.no_grad():
            v = Value(float(i)) * 2 + 1
            out.append(v._prev == ())


def test_threads_in_and_out_of_no_grad_leave_each_other_alone():
    steps = 1000
    serial = [_train(seed, steps) for seed in range(4)]
    results, recorded_nothing = [None] * 4, []

    def trainer(k):
        results[k] = _train(k, steps)

    threads = [threading.Thread(target=trainer, args=(k,)) for k in range(4)]
    threads += [threading.Thread(target=_evaluate, args=(k, steps, recorded_nothing))
                for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == serial
    assert len(recorded_nothing) == 4 * steps and all(recorded_nothing)
    assert engine.is_grad_enabled()


def test_no_grad_on_a_generator_function_runs_its_body_without_grad():
    """Issue 21, 8: as torch.no_grad, the body of a decorated generator runs in the mode at
    every step, and the caller gets its own mode back at every yield."""
    x = Value(2.0)

    @engine.no_grad()
    def steps():
        for _ in range(2):
            yield engine.is_grad_enabled(), (x * x)._prev

    seen = []
    for mode, parents in steps():
        seen.append((mode, parents, engine.is_grad_enabled()))
    assert seen == [(False, (), True), (False, (), True)]


def test_a_generator_in_no_grad_finished_on_another_thread_does_not_crash():
    """Issue 21, 13: the saved mode is kept on the instance, not on a per-thread stack."""
    def gen():
        with engine.no_grad():
            yield 1
            yield 2

    g = gen()
    next(g)
    errors = []

    def finish():
        try:
            for _ in g:
                pass
        except Exception as e:  # noqa: BLE001  (the test reports any)
            errors.append(e)

    t = threading.Thread(target=finish)
    t.start()
    t.join()
    # As in PyTorch, the exit restores the mode of the thread it runs on; this thread's own
    # mode stays as the generator set it, so put it back.
    engine.set_grad_enabled(True)
    assert errors == []


# --- inference_mode ---

def test_inference_mode_records_no_graph_and_restores_both_modes():
    x = engine.tensor([1.0, 2.0], requires_grad=True)
    assert not engine.is_inference_mode_enabled()
    with engine.inference_mode():
        assert not engine.is_grad_enabled() and engine.is_inference_mode_enabled()
        assert not (x * 2).requires_grad
        with engine.inference_mode(False):  # as PyTorch's: recording back on
            assert engine.is_grad_enabled() and not engine.is_inference_mode_enabled()
            assert (x * 2).requires_grad
        assert not engine.is_grad_enabled() and engine.is_inference_mode_enabled()
    assert engine.is_grad_enabled() and not engine.is_inference_mode_enabled()


def test_inference_mode_decorates_with_and_without_parentheses():
    x = engine.tensor([1.0], requires_grad=True)

    @engine.inference_mode
    def bare():
        return x * 2, engine.is_inference_mode_enabled()

    @engine.inference_mode()
    def called():
        return x * 2

    out, inside = bare()
    assert inside and not out.requires_grad and not called().requires_grad
    assert engine.is_grad_enabled() and not engine.is_inference_mode_enabled()


def test_inference_mode_matches_pytorchs_modes(torch):
    def modes(lib):
        seen = []
        with lib.no_grad(), lib.inference_mode(False):
            seen.append((lib.is_grad_enabled(), lib.is_inference_mode_enabled()))
        with lib.inference_mode():
            seen.append((lib.is_grad_enabled(), lib.is_inference_mode_enabled()))
        return seen
    assert modes(engine) == modes(torch)


def test_inference_mode_refuses_a_non_bool():
    with pytest.raises(TypeError, match="True or False, got str"):
        engine.inference_mode("yes")
