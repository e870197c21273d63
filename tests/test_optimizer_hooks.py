"""nn/optim/optimizer.py's step hooks, as torch.optim's: register_step_pre_hook and
register_step_post_hook on one optimizer, register_optimizer_step_pre_hook and
register_optimizer_step_post_hook on all: their order, their arguments, a pre-hook's
replacement arguments, removal, and an optimizer whose step calls its base's; each written
once and run on both libraries."""
from __future__ import annotations

import importlib

import pytest


def run(lib):
    optimizer_module = importlib.import_module(f"{lib.__name__}.optim.optimizer")
    p = lib.nn.Parameter(lib.ones(2))
    opt = lib.optim.SGD([p], lr=0.1)
    calls = []
    own = opt.register_step_pre_hook(lambda o, a, k: calls.append(("pre", o is opt, len(a), k)))
    opt.register_step_post_hook(lambda o, a, k: calls.append(("post", a[0] is opt, k)))
    every = optimizer_module.register_optimizer_step_pre_hook(
        lambda o, a, k: calls.append(("every pre",)))
    every_post = optimizer_module.register_optimizer_step_post_hook(
        lambda o, a, k: calls.append(("every post",)))
    p.grad = lib.ones(2)
    try:
        opt.step()
        own.remove()
        every.remove()
        opt.step(closure=None)
    finally:
        every_post.remove()
    opt.step()  # the post-hook of its own is left
    return calls, p.detach().tolist()


def test_step_hooks_are_called_as_pytorchs(library):
    calls, weights = run(library)
    assert calls == [("every pre",), ("pre", True, 1, {}), ("post", True, {}), ("every post",),
                     ("post", True, {"closure": None}), ("every post",), ("post", True, {})]
    assert weights == pytest.approx([0.7, 0.7])


def test_a_pre_hook_replaces_the_arguments_and_a_wrong_result_is_refused(library):
    p = library.nn.Parameter(library.ones(1))
    opt = library.optim.SGD([p], lr=1.0)
    losses = []
    opt.register_step_pre_hook(lambda o, a, k: (a, {"closure": lambda: losses.append(1) or 2.0}))
    p.grad = library.ones(1)
    assert opt.step() == 2.0 and losses == [1]  # the closure the hook put in ran
    opt.register_step_pre_hook(lambda o, a, k: "wrong")
    with pytest.raises(RuntimeError, match="must return None or a tuple"):
        opt.step()


def test_an_optimizer_whose_step_calls_its_bases_runs_the_hooks_for_each(library):
    """As PyTorch's: the subclass's step and its base's each run them."""
    class Scaled(library.optim.SGD):
        def step(self, closure=None):
            for group in self.param_groups:
                for p in group["params"]:
                    p.grad.mul_(2)
            return super().step(closure)

    p = library.nn.Parameter(library.ones(1))
    opt = Scaled([p], lr=0.25)
    calls = []
    opt.register_step_pre_hook(lambda o, a, k: calls.append("pre"))
    opt.register_step_post_hook(lambda o, a, k: calls.append("post"))
    p.grad = library.ones(1)
    opt.step()
    assert calls == ["pre", "pre", "post", "post"] and p.detach().tolist() == [0.5]
