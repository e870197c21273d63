"""LBFGS, as torch.optim.LBFGS: a quasi-Newton method that re-evaluates the loss through a
closure several times a step, with a fixed step or a strong-Wolfe line search.

All parameters are treated as one flat vector (their entries in order), as PyTorch does; the
algorithm is torch's, operation for operation, on numpy arrays in the parameters' dtype,
with its numbers (curvature products, step lengths) kept as numpy scalars of that dtype
where torch keeps 0-d tensors, so float32 rounds where torch's does.
"""
from __future__ import annotations

from typing import Any, Callable, Iterable

import numpy as np

from engine.grad_mode import enable_grad
from engine.tensor import Tensor
from nn.optim.optimizer import Optimizer, check, saved_array

Closure = Callable[[], Any]
# what a step leaves in the state for the next, in torch's order
_HISTORY = ("d", "t", "old_dirs", "old_stps", "ro", "H_diag", "prev_flat_grad", "prev_loss")


def _cubic_interpolate(x1: Any, f1: Any, g1: Any, x2: Any, f2: Any, g2: Any,
                       bounds: tuple | None = None) -> Any:
    """The minimizer, within bounds (default [x1, x2]), of the cubic through two points with
    their values f and slopes g; the bounds' midpoint when the cubic has none."""
    xmin_bound, xmax_bound = bounds if bounds is not None else (
        (x1, x2) if x1 <= x2 else (x2, x1))
    d1 = g1 + g2 - 3 * (f1 - f2) / (x1 - x2)
    d2_square = d1 ** 2 - g1 * g2
    if d2_square >= 0:
        d2 = np.sqrt(d2_square)
        if x1 <= x2:
            min_pos = x2 - (x2 - x1) * ((g2 + d2 - d1) / (g2 - g1 + 2 * d2))
        else:
            min_pos = x1 - (x1 - x2) * ((g1 + d2 - d1) / (g1 - g2 + 2 * d2))
        return min(max(min_pos, xmin_bound), xmax_bound)
    return (xmin_bound + xmax_bound) / 2.0


def _strong_wolfe(obj_func: Callable, x: list, t: Any, d: np.ndarray, f: float,
                  g: np.ndarray, gtd: Any, c1: float = 1e-4, c2: float = 0.9,
                  tolerance_change: float = 1e-9, max_ls: int = 25) -> tuple:
    """(loss, flat gradient, step length, evaluations) of a line search along d from x
    for a step t meeting the strong Wolfe conditions: torch's bracketing phase, then its
    zoom by cubic interpolation."""
    d_norm = np.abs(d).max()
    g = g.copy()
    f_new, g_new = obj_func(x, t, d)
    ls_func_evals = 1
    gtd_new = g_new.dot(d)
    t_prev, f_prev, g_prev, gtd_prev = 0, f, g, gtd
    done = False
    ls_iter = 0
    while ls_iter < max_ls:
        if f_new > (f + c1 * t * gtd) or (ls_iter > 1 and f_new >= f_prev):
            bracket, bracket_f = [t_prev, t], [f_prev, f_new]
            bracket_g, bracket_gtd = [g_prev, g_new.copy()], [gtd_prev, gtd_new]
            break
        if abs(gtd_new) <= -c2 * gtd:
            bracket, bracket_f, bracket_g = [t], [f_new], [g_new]
            done = True
            break
        if gtd_new >= 0:
            bracket, bracket_f = [t_prev, t], [f_prev, f_new]
            bracket_g, bracket_gtd = [g_prev, g_new.copy()], [gtd_prev, gtd_new]
            break
        # extrapolate, between 1.01 t and 10 t
        min_step = t + 0.01 * (t - t_prev)
        max_step = t * 10
        tmp = t
        t = _cubic_interpolate(t_prev, f_prev, gtd_prev, t, f_new, gtd_new,
                               bounds=(min_step, max_step))
        t_prev, f_prev, g_prev, gtd_prev = tmp, f_new, g_new.copy(), gtd_new
        f_new, g_new = obj_func(x, t, d)
        ls_func_evals += 1
        gtd_new = g_new.dot(d)
        ls_iter += 1
    if ls_iter == max_ls:
        bracket, bracket_f, bracket_g = [0, t], [f, f_new], [g, g_new]

    # zoom: shrink the bracket until a point meets the conditions
    insuf_progress = False
    low_pos, high_pos = (0, 1) if bracket_f[0] <= bracket_f[-1] else (1, 0)
    while not done and ls_iter < max_ls:
        if abs(bracket[1] - bracket[0]) * d_norm < tolerance_change:
            break
        t = _cubic_interpolate(bracket[0], bracket_f[0], bracket_gtd[0],
                               bracket[1], bracket_f[1], bracket_gtd[1])
        # a point too near the bracket's ends makes little progress: move it inside
        eps = 0.1 * (max(bracket) - min(bracket))
        if min(max(bracket) - t, t - min(bracket)) < eps:
            if insuf_progress or t >= max(bracket) or t <= min(bracket):
                if abs(t - max(bracket)) < abs(t - min(bracket)):
                    t = max(bracket) - eps
                else:
                    t = min(bracket) + eps
                insuf_progress = False
            else:
                insuf_progress = True
        else:
            insuf_progress = False
        f_new, g_new = obj_func(x, t, d)
        ls_func_evals += 1
        gtd_new = g_new.dot(d)
        ls_iter += 1
        if f_new > (f + c1 * t * gtd) or f_new >= bracket_f[low_pos]:
            bracket[high_pos], bracket_f[high_pos] = t, f_new
            bracket_g[high_pos], bracket_gtd[high_pos] = g_new.copy(), gtd_new
            low_pos, high_pos = (0, 1) if bracket_f[0] <= bracket_f[1] else (1, 0)
        else:
            if abs(gtd_new) <= -c2 * gtd:
                done = True
            elif gtd_new * (bracket[high_pos] - bracket[low_pos]) >= 0:
                bracket[high_pos], bracket_f[high_pos] = bracket[low_pos], bracket_f[low_pos]
                bracket_g[high_pos] = bracket_g[low_pos]
                bracket_gtd[high_pos] = bracket_gtd[low_pos]
            bracket[low_pos], bracket_f[low_pos] = t, f_new
            bracket_g[low_pos], bracket_gtd[low_pos] = g_new.copy(), gtd_new
    return bracket_f[low_pos], bracket_g[low_pos], bracket[low_pos], ls_func_evals


def _wrapped(value: Any) -> Any:
    """A state value as kept between steps: arrays and numpy numbers as Tensors (torch's
    tensors), in lists as lists; Python numbers and None as they are."""
    if isinstance(value, list):
        return [_wrapped(v) for v in value]
    return Tensor(np.asarray(value)) if isinstance(value, (np.ndarray, np.generic)) else value


def _unwrapped(value: Any) -> Any:
    """A kept state value back as arrays, a 0-d one as a numpy number of its dtype."""
    if isinstance(value, list):
        return [_unwrapped(v) for v in value]
    return value._data[()] if isinstance(value, Tensor) else value


class LBFGS(Optimizer):
    """L-BFGS, as torch.optim.LBFGS: one parameter group; `step(closure)` runs up to
    max_iter iterations (max_eval loss evaluations), each a step along
    d = -H g, H the inverse Hessian estimated from the last history_size changes of
    parameters and gradients, of length lr (min(1, 1 / |g|_1) lr the very first time), or as
    found by line_search_fn="strong_wolfe". It stops early when the largest |g| is at most
    tolerance_grad, or a step or the loss's change is below tolerance_change. Its state
    (kept on the first parameter, as torch's) survives between steps.
    """

    def __init__(self, params: Iterable[Any], lr: float = 1, max_iter: int = 20,
                 max_eval: int | None = None, tolerance_grad: float = 1e-7,
                 tolerance_change: float = 1e-9, history_size: int = 100,
                 line_search_fn: str | None = None) -> None:
        if max_eval is None:
            check("max_iter", max_iter, -np.inf)  # a number, before it is used
            max_eval = max_iter * 5 // 4
        super().__init__(params, dict(lr=lr, max_iter=max_iter, max_eval=max_eval,
                                      tolerance_grad=tolerance_grad,
                                      tolerance_change=tolerance_change,
                                      history_size=history_size,
                                      line_search_fn=line_search_fn))
        self._params = self.param_groups[0]["params"]

    def add_param_group(self, param_group: dict) -> None:
        """The one group of parameters (LBFGS has no per-group options)."""
        if self.param_groups:
            raise ValueError("LBFGS doesn't support per-parameter options (parameter groups)")
        super().add_param_group(param_group)

    def _check_group(self, group: dict) -> None:
        check("lr", group["lr"])
        for name in ("max_iter", "max_eval", "tolerance_grad", "tolerance_change"):
            check(name, group[name], -np.inf)
        size = group["history_size"]
        if isinstance(size, bool) or not isinstance(size, int):
            raise TypeError(f"history_size must be an int, got {type(size).__name__} "
                            f"{size!r:.40}")
        if group["line_search_fn"] not in (None, "strong_wolfe"):
            raise RuntimeError(f"only 'strong_wolfe' is supported as line_search_fn (or None "
                               f"for fixed steps), got {group['line_search_fn']!r}")
        for i, p in enumerate(group["params"]):
            if not isinstance(p, Tensor):
                raise TypeError(f"parameter {i} is a {type(p).__name__}; LBFGS optimizes "
                                "Tensors (one flat vector of their entries)")

    def _gather_flat_grad(self) -> np.ndarray:
        """The parameters' gradients as one flat array (zeros for a parameter without)."""
        return np.concatenate([np.zeros(p._data.size, p._data.dtype) if p._grad is None
                               else p._grad._data.ravel() for p in self._params])

    def _add_grad(self, step_size: Any, update: np.ndarray) -> None:
        """Move the parameters by step_size * update, the flat update cut to their shapes."""
        offset = 0
        for p in self._params:
            p._data += step_size * update[offset:offset + p._data.size].reshape(p._data.shape)
            p._changed()
            offset += p._data.size

    def _set_param(self, params_data: list) -> None:
        """Put the parameters back at the saved arrays."""
        for p, data in zip(self._params, params_data):
            p._data[...] = data
            p._changed()

    def _directional_evaluate(self, closure: Closure, x: list, t: Any,
                              d: np.ndarray) -> tuple[float, np.ndarray]:
        """The loss and flat gradient at x + t d; the parameters go back to x."""
        self._add_grad(t, d)
        with enable_grad():
            loss = float(closure())
        flat_grad = self._gather_flat_grad()
        self._set_param(x)
        return loss, flat_grad

    def step(self, closure: Closure) -> Any:  # type: ignore[override]
        """Run up to max_iter iterations, calling `closure` (which zeroes the gradients,
        computes the loss, calls backward() and returns the loss) as often as they need;
        return the loss from the first call."""
        group = self.param_groups[0]
        lr, max_iter, max_eval = group["lr"], group["max_iter"], group["max_eval"]
        tolerance_grad, tolerance_change = group["tolerance_grad"], group["tolerance_change"]
        history_size = group["history_size"]
        kept = self.state.setdefault(self._params[0], {})
        kept.setdefault("func_evals", 0)
        kept.setdefault("n_iter", 0)

        with enable_grad():
            orig_loss = closure()
        loss = float(orig_loss)
        current_evals = 1
        kept["func_evals"] += 1
        flat_grad = self._gather_flat_grad()
        opt_cond = np.abs(flat_grad).max() <= tolerance_grad
        if opt_cond:  # already optimal
            return orig_loss

        d, t, old_dirs, old_stps, ro, H_diag, prev_flat_grad, prev_loss = (
            _unwrapped(kept.get(k)) for k in _HISTORY)
        al = _unwrapped(kept.get("al"))
        n_iter = 0
        while n_iter < max_iter:
            n_iter += 1
            kept["n_iter"] += 1
            if kept["n_iter"] == 1:
                d = -flat_grad
                old_dirs, old_stps, ro = [], [], []
                H_diag = 1
            else:
                # the last change of gradient y and of parameters s update the history
                y = flat_grad - prev_flat_grad
                s = d * t
                ys = y.dot(s)
                if ys > 1e-10:
                    if len(old_dirs) == history_size:
                        old_dirs.pop(0)
                        old_stps.pop(0)
                        ro.pop(0)
                    old_dirs.append(y)
                    old_stps.append(s)
                    ro.append(1.0 / ys)
                    H_diag = ys / y.dot(y)
                # two-loop recursion: d = -H g
                num_old = len(old_dirs)
                if al is None:
                    al = [None] * history_size
                q = -flat_grad
                for i in range(num_old - 1, -1, -1):
                    al[i] = old_stps[i].dot(q) * ro[i]
                    q += -al[i] * old_dirs[i]
                d = r = q * H_diag
                for i in range(num_old):
                    be_i = old_dirs[i].dot(r) * ro[i]
                    r += (al[i] - be_i) * old_stps[i]
            prev_flat_grad = flat_grad.copy()
            prev_loss = loss
            t = min(1.0, 1.0 / np.abs(flat_grad).sum()) * lr if kept["n_iter"] == 1 else lr
            gtd = flat_grad.dot(d)
            if gtd > -tolerance_change:  # not a descent direction
                break

            ls_func_evals = 0
            if group["line_search_fn"] is not None:
                x_init = [p._data.copy() for p in self._params]
                loss, flat_grad, t, ls_func_evals = _strong_wolfe(
                    lambda x, t, d: self._directional_evaluate(closure, x, t, d),
                    x_init, t, d, loss, flat_grad, gtd, max_ls=max_eval - current_evals)
                self._add_grad(t, d)
                opt_cond = np.abs(flat_grad).max() <= tolerance_grad
            else:
                self._add_grad(t, d)
                if n_iter != max_iter:
                    with enable_grad():
                        loss = float(closure())
                    flat_grad = self._gather_flat_grad()
                    opt_cond = np.abs(flat_grad).max() <= tolerance_grad
                    ls_func_evals = 1
            current_evals += ls_func_evals
            kept["func_evals"] += ls_func_evals

            if n_iter == max_iter or current_evals >= max_eval or opt_cond:
                break
            if np.abs(d * t).max() <= tolerance_change:
                break
            if abs(loss - prev_loss) < tolerance_change:
                break

        if al is not None:
            kept["al"] = _wrapped(al)
        kept.update({k: _wrapped(v) for k, v in zip(_HISTORY, (
            d, t, old_dirs, old_stps, ro, H_diag, prev_flat_grad, prev_loss))})
        return orig_loss

    def _loaded(self, value: Any, param: Tensor, name: str) -> Any:
        """torch's LBFGS state entry: tensors (alone or in lists) in param's dtype."""
        if isinstance(value, (list, tuple)):
            return [self._loaded(v, param, name) for v in value]
        if value is None or isinstance(value, (int, float)):
            return value
        return Tensor(saved_array(value).astype(param.dtype))
