"""Optimizer: the base class of torch.optim's optimizers, with their parameter groups,
per-parameter state, state_dict() and load_state_dict().

An optimizer holds `param_groups`, a list of dicts, each with its "params" and its own
options (lr, momentum, ...; those not given come from the optimizer's defaults, so a
scheduler can change one group's lr). `state[p]` holds what a parameter's rule keeps
between steps (momentum buffers, moment estimates), as engine Tensors, as PyTorch does.

Each optimizer writes its rule once, `_update(group, param, grad, state)`, as an in-place
update of a numpy array of parameter numbers from an array of their gradients, with
PyTorch's formulas in PyTorch's order of operations. Tensor parameters are updated in
place, one array each, in their own dtype (float32 stays float32); this touches the arrays
directly, never Tensor ops, so it records no graph and needs no `no_grad()`. Value
parameters (a scalar MLP's) are gathered into one float64 array per group and step,
updated by the same rule, and written back, so micrograd-style models train with the same
optimizers; their state is kept for the group as a whole (one entry per Value in
state_dict()).
"""
from __future__ import annotations

import functools
import math
import numbers
from typing import Any, Callable, Iterable, Mapping

import numpy as np

from engine.dtypes import default_for
from engine.grad_mode import enable_grad
from engine.graph import Node
from engine.tensor import Tensor
from engine.utils import hooks
from engine.utils.hooks import RemovableHandle
from nn.module import Module
from nn.parameter import Parameter


def check(name: str, value: Any, low: float = 0.0, high: float = math.inf) -> float:
    """A hyperparameter as float, or an error naming it and its allowed range."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {type(value).__name__} {value!r:.40}")
    if not low <= value < high:
        allowed = f">= {low:g}" if high == math.inf else f"in [{low:g}, {high:g})"
        raise ValueError(f"{name} must be {allowed}, got {value!r}")
    return float(value)


def refuse_differentiable(differentiable: bool) -> None:
    """Refuse differentiable=True: steps here are numpy updates outside the graph."""
    if differentiable:
        raise ValueError("differentiable=True (gradients through the optimizer step) is "
                         "not supported here")


def pair(name: str, value: Any, example: str) -> tuple:
    """A hyperparameter pair such as betas as a tuple, or an error naming it and showing
    `example` (the caller checks each number's range)."""
    if not isinstance(value, (tuple, list)):
        raise TypeError(f"{name} must be a pair {example}, got {type(value).__name__} "
                        f"{value!r:.40}")
    if len(value) != 2:
        raise ValueError(f"{name} must be a pair {example}, got {len(value)} "
                         f"value{'s' * (len(value) != 1)}: {value!r:.60}")
    return tuple(value)


def buffer(state: dict, name: str, like: np.ndarray) -> np.ndarray:
    """The array of state[name], made as zeros shaped like `like` on first use."""
    if name not in state:
        state[name] = Tensor(np.zeros_like(like))
    return state[name]._data


def scalar(state: dict, name: str, start: float) -> np.ndarray:
    """The 0-d array of state[name], made as `start` on first use in the default float dtype,
    as torch.optim keeps such numbers (the step count, NAdam's mu_product, ASGD's eta and
    mu)."""
    if name not in state:
        state[name] = Tensor(np.array(start, default_for(2)))
    return state[name]._data


def count_step(state: dict) -> float:
    """state's step count, one more (a 0-d Tensor, float32 unless the default float dtype
    is float64, as torch.optim keeps it)."""
    step = scalar(state, "step", 0.0)
    step += 1
    return float(step)


def lerp_(buffer: np.ndarray, end: np.ndarray, weight: float) -> None:
    """buffer += weight * (end - buffer) in place, rounded as torch's lerp_ (which works from
    `end` when weight >= 0.5)."""
    if abs(weight) < 0.5:
        buffer += weight * (end - buffer)
    else:
        buffer[...] = end - (end - buffer) * (1 - weight)


class Optimizer:
    """Base class: parameter groups, state, zero_grad(), step(); subclasses give `_update`
    and `_check_group`, and name in `_scalar_state` the 0-d numbers their state keeps besides
    the step count (loaded in the parameter's dtype, as torch.optim does)."""

    _scalar_state: tuple[str, ...] = ()
    _hooked = False  # whether a step hook was registered on it (see _with_step_hooks)

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "step" in cls.__dict__:  # an optimizer's own step() runs the step hooks too
            cls.step = _with_step_hooks(cls.__dict__["step"])

    def __init__(self, params: Iterable[Any], defaults: dict[str, Any]) -> None:
        if type(self).step is Optimizer.step and not hasattr(self, "_update"):
            raise TypeError(f"{type(self).__name__} has no update rule: define step(), as a "
                            "PyTorch optimizer does, or _update(group, param, grad, state), "
                            "which this class's step() applies to each parameter's array "
                            "in place (state: that parameter's memory between steps)")
        if isinstance(params, (Node, Module, Mapping)):
            raise TypeError(f"{type(self).__name__} takes an iterable of parameters, e.g. "
                            f"model.parameters(), got a {type(params).__name__}")
        self.defaults = defaults
        self.state: dict[Any, dict] = {}
        self.param_groups: list[dict] = []
        self._value_states: list[dict] = []  # per group: the state of its Values as a whole
        groups = list(params)
        if not groups:
            raise ValueError(f"{type(self).__name__} got no parameters to optimize")
        for group in groups if isinstance(groups[0], dict) else [{"params": groups}]:
            self.add_param_group(group)

    def add_param_group(self, param_group: dict) -> None:
        """Add a group of parameters with options of its own (the rest from the defaults),
        e.g. a layer to fine-tune at a smaller lr."""
        if not isinstance(param_group, dict):
            raise TypeError(f"a parameter group is a dict with 'params' (and options), got a "
                            f"{type(param_group).__name__}; pass all groups as dicts or none")
        group = dict(param_group)
        params = group.get("params")
        if isinstance(params, Node):
            params = [params]
        elif isinstance(params, (set, frozenset)):
            raise TypeError("parameters must be in an ordered collection (a list), not a set: "
                            "the order their state is saved in must not change between runs")
        group["params"] = params = list(params if params is not None else [])
        taken = {id(p) for g in self.param_groups for p in g["params"]}
        for i, p in enumerate(params):
            if not isinstance(p, Node) or isinstance(p, Tensor) and not (
                    p.requires_grad or isinstance(p, Parameter)):
                raise TypeError(f"parameter {i} is a {type(p).__name__}"
                                f"{' without requires_grad' if isinstance(p, Node) else ''}; "
                                "an optimizer updates Values and Tensors with requires_grad=True")
            if isinstance(p, Tensor) and not p.is_leaf:
                raise ValueError(f"parameter {i} was made by an op ({p._op!r}); only leaf "
                                 "tensors can be optimized")
            if id(p) in taken:
                raise ValueError(f"parameter {i} appears twice; it would be updated twice a step")
            taken.add(id(p))
        for name, default in self.defaults.items():
            group.setdefault(name, default)
        self._check_group(group)
        self.param_groups.append(group)
        self._value_states.append({})

    def _check_group(self, group: dict) -> None:
        """Refuse options out of range, naming them."""
        check("lr", group["lr"])

    @property
    def lr(self) -> float:
        """Not an attribute, as in torch.optim: each parameter group has its "lr"."""
        raise AttributeError(_NO_LR)

    @lr.setter
    def lr(self, value: float) -> None:  # an assignment would otherwise be silently ignored
        raise AttributeError(_NO_LR)

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Reset gradients: None for Tensors (zeros in place with set_to_none=False), 0.0
        for Values."""
        for group in self.param_groups:
            for p in group["params"]:
                if set_to_none or not isinstance(p, Tensor) or p._grad is None:
                    p.zero_grad()
                else:
                    p._grad.detach_()
                    p._grad._data[...] = 0

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """Update every parameter from its gradient (Tensors whose grad is None are left
        alone); `closure`, if given, recomputes the loss first and its result is returned."""
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()
        for group, value_state in zip(self.param_groups, self._value_states):
            values = []
            for p in group["params"]:
                if not isinstance(p, Tensor):
                    values.append(p)
                elif p._grad is not None:
                    self._update(group, p._data, p._grad._data, self.state.setdefault(p, {}))
                    p._changed()  # a graph that used the old numbers must not backprop
            if values:
                data = np.array([v.data for v in values], np.float64)
                self._update(group, data, np.array([v.grad for v in values], np.float64),
                             value_state)
                for v, x in zip(values, data.tolist()):
                    v.data = x
        return loss

    def register_step_pre_hook(self, hook: Callable[..., Any]) -> RemovableHandle:
        """Call hook(optimizer, args, kwargs) before each step() (args begin with the
        optimizer, as PyTorch's); a pair (new_args, new_kwargs) it returns replaces them."""
        self._hooked = True
        return hooks.add(self.__dict__.setdefault("_step_pre_hooks", {}), hook,
                         "register_step_pre_hook")

    def register_step_post_hook(self, hook: Callable[..., Any]) -> RemovableHandle:
        """Call hook(optimizer, args, kwargs) after each step()."""
        self._hooked = True
        return hooks.add(self.__dict__.setdefault("_step_post_hooks", {}), hook,
                         "register_step_post_hook")

    # --- saving and restoring ---

    def state_dict(self) -> dict[str, Any]:
        """{'state': {index: {name: Tensor or number}}, 'param_groups': [options with
        'params' as indices]}, parameters numbered in group order, as torch.optim's."""
        state, groups, index = {}, [], 0
        for group, value_state in zip(self.param_groups, self._value_states):
            numbers = []
            for p in group["params"]:
                numbers.append(index)
                if isinstance(p, Tensor) and self.state.get(p):
                    state[index] = dict(self.state[p])
                index += 1
            values = [i for p, i in zip(group["params"], numbers) if not isinstance(p, Tensor)]
            for j, i in enumerate(values if value_state else ()):
                state[i] = {k: Tensor(np.array(v._data if v.ndim == 0 else v._data[j]))
                            for k, v in value_state.items()}
            groups.append({**{k: v for k, v in group.items() if k != "params"},
                           "params": numbers})
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict: Mapping[str, Any]) -> None:
        """Take the state and options of state_dict() (ours or torch.optim's), matching
        parameters by position; the numbers are copied, in each parameter's dtype."""
        groups = state_dict["param_groups"]
        if len(groups) != len(self.param_groups):
            raise ValueError(f"the state has {len(groups)} parameter groups, this optimizer "
                             f"{len(self.param_groups)}")
        for i, (saved, ours) in enumerate(zip(groups, self.param_groups)):
            if len(saved["params"]) != len(ours["params"]):
                raise ValueError(f"parameter group {i} has {len(saved['params'])} parameters "
                                 f"in the state, {len(ours['params'])} in this optimizer")
        saved_state = state_dict["state"]
        self.state, self._value_states = {}, []
        for saved, group in zip(groups, self.param_groups):
            values, value_entries = [], []
            for number, p in zip(saved["params"], group["params"]):
                entry = saved_state.get(number)
                if not isinstance(p, Tensor):
                    values.append(p)
                    value_entries.append(entry)
                elif entry:
                    self.state[p] = {k: self._loaded(v, p, k) for k, v in entry.items()}
            self._value_states.append(_stacked(value_entries, self._scalar_state)
                                      if values else {})
            group.update({k: v for k, v in saved.items() if k != "params"})

    def _loaded(self, value: Any, param: Tensor, name: str) -> Any:
        """A saved state entry of `param` as this optimizer keeps it."""
        return _copied(value, param, name, self._scalar_state)

    def __repr__(self) -> str:
        text = f"{type(self).__name__} ("
        for i, group in enumerate(self.param_groups):
            text += f"\nParameter Group {i}\n" + "".join(
                f"    {k}: {group[k]}\n" for k in sorted(group) if k != "params")
        return text + ")"


_NO_LR = ("an optimizer's learning rate is its parameter groups' \"lr\", as in torch.optim: "
          "set `for group in optimizer.param_groups: group['lr'] = ...`, or use a scheduler "
          "from nn.optim.lr_scheduler")


def saved_array(value: Any) -> np.ndarray:
    """An array of a saved state entry (our Tensor, a torch tensor, an array, a number)."""
    for step in ("detach", "cpu", "numpy"):  # torch's way out; our Tensor has them too
        if callable(getattr(value, step, None)):
            value = getattr(value, step)()
    return np.array(value)


def _copied(value: Any, param: Tensor, name: str, scalars: tuple[str, ...]) -> Any:
    """A saved state entry as a Tensor of our own: param's dtype and shape for buffers,
    param's dtype for the 0-d `scalars`; the step count in its own dtype, as PyTorch keeps
    it."""
    if value is None:
        return None
    array = saved_array(value)
    if array.ndim == 0 and name == "step":
        return Tensor(array.copy())
    if array.shape != param.shape and not (array.ndim == 0 and name in scalars):
        raise ValueError(f"state entry {name!r} has shape {array.shape}, but its parameter "
                         f"has shape {tuple(param.shape)}")
    return Tensor(array.astype(param.dtype))


def _stacked(entries: list, scalars: tuple[str, ...]) -> dict:
    """The state of a group's Values as a whole from one saved entry per Value (empty when
    they have none yet); the step count and the `scalars` are the group's, one number."""
    if not entries or not all(entries):
        return {}
    return {k: Tensor(saved_array(entries[0][k]).copy()) if k == "step"
            else Tensor(np.array(saved_array(entries[0][k]), np.float64)) if k in scalars
            else Tensor(np.array([saved_array(e[k]) for e in entries], np.float64))
            for k in entries[0]}


_global_pre_hooks: dict = {}  # every optimizer's step hooks (register_optimizer_step_*_hook)
_global_post_hooks: dict = {}


def register_optimizer_step_pre_hook(hook: Callable[..., Any]) -> RemovableHandle:
    """Call hook(optimizer, args, kwargs) before every optimizer's step(), before its own."""
    return hooks.add(_global_pre_hooks, hook, "register_optimizer_step_pre_hook")


def register_optimizer_step_post_hook(hook: Callable[..., Any]) -> RemovableHandle:
    """Call hook(optimizer, args, kwargs) after every optimizer's step(), after its own."""
    return hooks.add(_global_post_hooks, hook, "register_optimizer_step_post_hook")


def _with_step_hooks(step: Callable[..., Any]) -> Callable[..., Any]:
    """step, with the step pre-hooks called before it and the post-hooks after, as PyTorch
    wraps every optimizer's step (so a subclass's step that calls its base's runs them
    twice, as PyTorch's does)."""
    @functools.wraps(step)
    def stepped(self: Optimizer, *args: Any, **kwargs: Any) -> Any:
        if not (self._hooked or _global_pre_hooks or _global_post_hooks):
            return step(self, *args, **kwargs)
        optimizer, args = self, (self, *args)
        own = optimizer.__dict__
        pre, post = own.get("_step_pre_hooks", {}), own.get("_step_post_hooks", {})
        for hook in [*_global_pre_hooks.values(), *pre.values()]:
            result = hook(optimizer, args, kwargs)
            if result is not None:
                if not (isinstance(result, tuple) and len(result) == 2):
                    raise RuntimeError(f"a step pre-hook must return None or a tuple (new_args, "
                                       f"new_kwargs), got {result!r:.60}")
                args, kwargs = result
        out = step(*args, **kwargs)
        for hook in [*post.values(), *_global_post_hooks.values()]:
            hook(optimizer, args, kwargs)
        return out
    return stepped


Optimizer.step = _with_step_hooks(Optimizer.step)  # type: ignore[method-assign]
