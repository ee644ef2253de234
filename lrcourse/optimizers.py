"""Optimizers: every update rule the course teaches, equal to ``torch.optim`` in float64.

Each method exists in two forms over ONE implementation of its maths:

* a **pure update rule**, ``adam_step(param, grad, state) -> (new_param, new_state)``: what a
  learner writes by hand. It never changes its inputs; ``state=None`` means "first step".
* a **stateful class**, ``Adam(params).step(grads)``, shaped like ``torch.optim``: it updates
  the model's own arrays in place, and its param groups give each group its own learning rate.

=================  ================  ===========  =======================
method             pure rule         class        state
=================  ================  ===========  =======================
SGD (+momentum)    ``sgd_step``      ``SGD``      ``SGDState``
AdaGrad            ``adagrad_step``  ``Adagrad``  ``AdagradState``
RMSprop            ``rmsprop_step``  ``RMSprop``  ``RMSpropState``
Adadelta           ``adadelta_step`` ``Adadelta`` ``AdadeltaState``
Adam (+AMSGrad)    ``adam_step``     ``Adam``     ``AdamState``
AdamW              ``adamw_step``    ``AdamW``    ``AdamState``
NAdam (+NAdamW)    ``nadam_step``    ``NAdam``    ``NAdamState``
=================  ================  ===========  =======================

Defaults, state names and update rules are torch 2.13's; the numbers equal those of its
single-tensor implementation (its default on CPU) to about 1e-12 in float64 over hundreds of
steps. Where a textbook or another library writes a method differently, the docstring says so.

A gradient holding NaN or infinity: the pure rules refuse it (``ValueError`` naming it, the
learner's bug caught where it happens); the classes apply it, as ``torch.optim`` does, without
NumPy warnings, and leave the diagnosis to the training loop, which checks every gradient.

Layout of this file: shared machinery first (argument checks, the in-place element-wise engine,
the ``Optimizer`` base class), then one section per method holding its state, its in-place
kernel, its pure rule and its class, then ``make_optimizer``.
"""

from __future__ import annotations

import contextvars
import copy
import inspect
import math
import os
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import dataclass, fields
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from lrcourse._validate import (
    check_choice,
    check_finite_array,
    check_int,
    check_lr,
    check_nonnegative,
    check_positive,
    check_probability,
    check_same_shape,
    check_unit_interval,
)

__all__ = [
    "Adadelta",
    "AdadeltaState",
    "Adagrad",
    "AdagradState",
    "Adam",
    "AdamState",
    "AdamW",
    "NAdam",
    "NAdamState",
    "Optimizer",
    "RMSprop",
    "RMSpropState",
    "SGD",
    "SGDState",
    "adadelta_step",
    "adagrad_step",
    "adam_step",
    "adamw_step",
    "get_num_threads",
    "make_optimizer",
    "nadam_step",
    "rmsprop_step",
    "set_num_threads",
    "sgd_step",
]


# =============================================================================================
# Argument checks shared by the methods
# =============================================================================================


def _check_flag(value: Any, name: str) -> bool:
    if not isinstance(value, bool | np.bool_):
        raise TypeError(f"{name} must be True or False, got {name}={value!r}")
    return bool(value)


def _check_betas(betas: Any) -> tuple[float, float]:
    if not isinstance(betas, tuple | list) or len(betas) != 2:
        raise TypeError(f"betas must be a pair (beta1, beta2), got betas={betas!r}")
    return (
        check_unit_interval(betas[0], "betas[0]"),
        check_unit_interval(betas[1], "betas[1]"),
    )


def _check_grad_array(param: np.ndarray, grad: ArrayLike, name: str) -> np.ndarray:
    """The gradient as a float array of the parameter's shape (its values are not read)."""
    grad = np.asarray(grad)
    if np.issubdtype(grad.dtype, np.integer):
        grad = grad.astype(np.float64)
    elif not np.issubdtype(grad.dtype, np.floating):
        raise TypeError(
            f"{name} must be an array of real numbers, got {name} of dtype {grad.dtype}"
        )
    check_same_shape(param, grad, name)
    return grad


def _check_grad(param: np.ndarray, grad: ArrayLike, name: str) -> np.ndarray:
    """``_check_grad_array``, and every value finite (for the pure rules)."""
    grad = _check_grad_array(param, grad, name)
    # One sum screens the whole gradient (a NaN or an inf anywhere makes it non-finite) without
    # np.isfinite's boolean copy; the element-wise check only runs to confirm and word the
    # error. Not np.dot: its BLAS threads keep spinning on the cores the update needs. (Split
    # over threads it is no faster: reading the gradient once is bound by memory.)
    with np.errstate(over="ignore", invalid="ignore"):
        screen = np.sum(grad)
    if not math.isfinite(screen):
        check_finite_array(grad, name)
    return grad


def _check_param(param: Any, name: str) -> np.ndarray:
    if not isinstance(param, np.ndarray):
        raise TypeError(
            f"{name} must be a NumPy array (the optimizer updates it in place), "
            f"got {name} of type {type(param).__name__}"
        )
    if not np.issubdtype(param.dtype, np.floating):
        raise TypeError(f"{name} must be a floating-point array, got {name} of dtype {param.dtype}")
    if not param.flags.writeable:
        raise ValueError(
            f"{name} must be writeable (it is updated in place), got a read-only array"
        )
    return param


# =============================================================================================
# The element-wise engine: kernels update arrays in place, block by block
# =============================================================================================
#
# Every kernel below is element-wise: element i of the result depends only on element i of the
# inputs. So a kernel may run on consecutive blocks of the (flattened) arrays and give exactly
# the numbers of one call on the whole arrays. It is faster: a kernel makes about ten passes
# over its arrays, and on blocks of a few hundred thousand elements every pass after the
# first reads the CPU cache instead of main memory. Blocks also spread over threads, since NumPy
# releases the GIL inside its loops (torch's own element-wise kernels use all cores too).
# 2**17 elements (1 MiB in float64): smaller blocks cost more in Python calls and thread
# hand-offs than they save in cache misses (benchmarks/optimizers.py).

_BLOCK = 1 << 17


def _default_threads() -> int:
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return max(1, os.cpu_count() or 1)


_num_threads = _default_threads()
_pool: ThreadPoolExecutor | None = None
_pool_key: tuple[int, int] | None = None  # (process id, workers): a forked child needs its own


def set_num_threads(n: int) -> None:
    """Set how many threads the optimizers use on large parameters (like ``torch.set_num_threads``).

    Parameters of fewer than 262,144 elements are always updated by the calling thread alone.
    The results do not depend on the number of threads.

    Args:
        n: number of threads, >= 1 (the default is the number of CPUs this process may use).

    Example:
        >>> from lrcourse.optimizers import get_num_threads, set_num_threads
        >>> before = get_num_threads()
        >>> set_num_threads(1)
        >>> get_num_threads()
        1
        >>> set_num_threads(before)
    """
    global _num_threads
    _num_threads = check_int(n, "n", minimum=1)


def get_num_threads() -> int:
    """The number of threads the optimizers use on large parameters (see ``set_num_threads``)."""
    return _num_threads


def _workers() -> ThreadPoolExecutor:
    """The pool of ``_num_threads - 1`` helpers (the calling thread does a share of the work)."""
    global _pool, _pool_key
    n = max(1, _num_threads - 1)
    key = (os.getpid(), n)
    if _pool is None or _pool_key != key:
        if _pool is not None and _pool_key is not None and _pool_key[0] == key[0]:
            _pool.shutdown(wait=False)
        _pool = ThreadPoolExecutor(max_workers=n, thread_name_prefix="lrcourse-optimizers")
        _pool_key = key
    return _pool


def _elementwise(kernel: Callable[..., None], arrays: Sequence[np.ndarray | None], **scalars):
    """Run ``kernel(*arrays, **scalars)``, block by block (and thread by thread) when large.

    ``arrays[0]`` is the parameter; ``None`` entries (absent state) are passed through.
    """
    if arrays[0].ndim == 0:
        # NumPy turns 0-d results into scalars, which out= cannot write to: use 1-element views.
        arrays = [None if a is None else a.reshape(1) for a in arrays]
    size = arrays[0].size
    if size < 2 * _BLOCK or not all(a is None or a.flags.c_contiguous for a in arrays):
        kernel(*arrays, **scalars)
        return
    flat = [None if a is None else a.reshape(-1) for a in arrays]

    def run(start: int, stop: int) -> None:
        for lo in range(start, stop, _BLOCK):
            hi = min(lo + _BLOCK, stop)
            kernel(*[None if a is None else a[lo:hi] for a in flat], **scalars)

    n_blocks = -(-size // _BLOCK)
    threads = min(_num_threads, n_blocks // 2)
    per_thread = -(-n_blocks // max(threads, 1)) * _BLOCK
    chunks = [(lo, min(lo + per_thread, size)) for lo in range(0, size, per_thread)]
    if len(chunks) == 1:
        run(*chunks[0])
        return
    pool = _workers()
    # Each worker runs in a copy of the caller's context, so np.errstate (a context variable)
    # set around step() also silences the floating-point warnings raised in the workers.
    futures = [pool.submit(contextvars.copy_context().run, run, lo, hi) for lo, hi in chunks[1:]]
    try:
        run(*chunks[0])
    finally:
        wait(futures)
    for future in futures:
        future.result()


def _zeros(param: np.ndarray) -> np.ndarray:
    return np.zeros(param.shape, dtype=param.dtype)


def _gradient(param: np.ndarray, grad: np.ndarray, weight_decay: float, maximize: bool):
    """g = ±grad + λθ: the gradient (negated to maximize) plus the L2 term of coupled decay.

    May return ``grad`` itself: kernels only ever read ``g``.
    """
    if weight_decay == 0:
        return -grad if maximize else grad
    g = weight_decay * param
    if maximize:
        g -= grad
    else:
        g += grad
    return g


def _lerp(average: np.ndarray, x: np.ndarray, weight: float) -> None:
    """average ← average + w (x − average) = (1 − w) average + w x, in place.

    Rounded like torch's ``lerp_`` (which torch uses for first moments): the form above for
    w < 0.5, else x − (1 − w)(x − average); each form keeps the rounding error small.
    """
    if weight < 0.5:
        delta = x - average
        delta *= weight
        average += delta
    else:
        average -= x
        average *= 1.0 - weight
        average += x


def _average_square(average: np.ndarray, x: np.ndarray, beta: float) -> None:
    """average ← β average + (1 − β) x², in place (a running mean of squares)."""
    average *= beta
    square = x * x
    square *= 1.0 - beta
    average += square


# =============================================================================================
# Pure rules: copy the inputs, run the kernel, freeze the state
# =============================================================================================

_SCALAR_FIELDS = ("step", "mu_product")


def _float_copy(param: ArrayLike) -> np.ndarray:
    param = np.array(param)  # a copy: the caller's array is never written
    if np.issubdtype(param.dtype, np.floating):
        return param
    if np.issubdtype(param.dtype, np.integer):
        return param.astype(np.float64)
    raise TypeError(f"param must be an array of real numbers, got param of dtype {param.dtype}")


def _pure_inputs(param: ArrayLike, grad: ArrayLike, state: Any, state_type: type):
    """The pure rules' preamble: (copy of param, checked grad, mutable copy of the state)."""
    param = _float_copy(param)
    grad = _check_grad(param, grad, "grad")
    live: dict[str, Any] = {}
    if state is None:
        return param, grad, live
    if not isinstance(state, state_type):
        raise TypeError(
            f"state must be a {state_type.__name__} or None, got state of type "
            f"{type(state).__name__}"
        )
    for field in fields(state):
        value = getattr(state, field.name)
        if value is None:
            continue
        if field.name in _SCALAR_FIELDS:
            live[field.name] = value
            continue
        value = np.array(value, dtype=param.dtype)
        if value.shape != param.shape:
            raise ValueError(
                f"state.{field.name} must have the shape of param {param.shape}, "
                f"got state.{field.name} of shape {value.shape}"
            )
        live[field.name] = value
    return param, grad, live


# =============================================================================================
# The stateful base class
# =============================================================================================


class Optimizer:
    """Base of the stateful optimizers: param groups, per-parameter state, ``step(grads)``.

    A subclass names its hyperparameters in ``__init__`` and provides two functions of its
    method's section: ``_hyper`` (checks the hyperparameters, returns them as plain values) and
    ``_update`` (updates one parameter and its state in place). The pure rule of the same method
    calls the same ``_update``, so the two forms cannot drift apart.

    Attributes:
        param_groups: list of dicts, each with ``"params"`` (its arrays) and every
            hyperparameter; schedules write ``group["lr"]`` (and momentum or betas) between steps.
        state: one dict per parameter (flat order over the groups), with torch's names
            (``"step"``, ``"exp_avg"``...); empty until the parameter's first update.
        defaults: the hyperparameters given to the constructor.
    """

    _hyper: Callable[..., dict[str, Any]]
    _update: Callable[..., None]

    def __init__(self, params: Iterable[np.ndarray] | Iterable[dict[str, Any]], defaults: dict):
        self.defaults = type(self)._hyper(**defaults)
        self.param_groups: list[dict[str, Any]] = []
        self.state: list[dict[str, Any]] = []
        if isinstance(params, np.ndarray | dict):
            raise TypeError(
                "params must be a list of arrays or a list of dicts (param groups), got a "
                f"single {type(params).__name__}; wrap it in a list"
            )
        items = list(params)
        if not items:
            raise ValueError("params must hold at least one array, got an empty list")
        if all(isinstance(item, dict) for item in items):
            for group in items:
                self.add_param_group(group)
        elif any(isinstance(item, dict) for item in items):
            raise TypeError("params must be all arrays or all dicts (param groups), not a mix")
        else:
            self.add_param_group({"params": items})

    def _check_group_keys(self, group: dict, where: str) -> None:
        for key in group:
            if key != "params" and key not in self.defaults:
                known = ", ".join(self.defaults)
                raise TypeError(
                    f"unknown hyperparameter {key!r} in {where} for {type(self).__name__}; "
                    f"expected one of: {known}"
                )

    def add_param_group(self, group: dict[str, Any]) -> None:
        """Add a group of parameters with its own hyperparameters (the others from defaults).

        Args:
            group: dict with ``"params"`` (an array or a list of arrays) and, optionally, any
                hyperparameter of this optimizer, e.g. ``{"params": [w], "lr": 1e-4}``.
        """
        where = f"param_groups[{len(self.param_groups)}]"
        if not isinstance(group, dict) or "params" not in group:
            raise TypeError(f"{where} must be a dict with a 'params' entry, got {group!r}")
        self._check_group_keys(group, where)
        params = group["params"]
        params = [params] if isinstance(params, np.ndarray) else list(params)
        if not params:
            raise ValueError(f"{where}['params'] must hold at least one array, got none")
        seen = {id(p) for g in self.param_groups for p in g["params"]}
        for k, param in enumerate(params):
            _check_param(param, f"{where}['params'][{k}]")
            if id(param) in seen:
                raise ValueError(f"{where}['params'][{k}] appears twice: one array, one group")
            seen.add(id(param))
        hyper = {**self.defaults, **{k: v for k, v in group.items() if k != "params"}}
        self.param_groups.append({"params": params, **type(self)._hyper(**hyper)})
        self.state.extend({} for _ in params)

    def step(self, grads: Sequence[ArrayLike | None]) -> None:
        """Update every parameter in place with its gradient, one step of the method.

        A gradient of the wrong shape or type raises before any parameter changes. Its values
        are not screened: like ``torch.optim``, a NaN or an infinity in a gradient is applied
        and spreads into the parameter and the state, silently (no NumPy warnings). Catching
        that is the training loop's job (``lrcourse.train`` checks every loss and gradient and
        reports divergence once); the pure rules, a learner's tool, refuse such a gradient.

        Args:
            grads: one gradient per parameter, in group order (``None`` skips a parameter and
                leaves its state alone, like a torch parameter whose ``.grad`` is None).
        """
        if isinstance(grads, np.ndarray):
            raise TypeError(
                "grads must be a list with one gradient per parameter, got a single array; "
                "wrap it: step([grad])"
            )
        grads = list(grads)
        n_params = len(self.state)
        if len(grads) != n_params:
            raise ValueError(
                f"grads must hold one gradient per parameter ({n_params}), got {len(grads)}"
            )
        # Check everything before changing anything: a gradient of the wrong shape or a bad
        # hyperparameter must not leave the model half-updated.
        work = []
        index = 0
        for group in self.param_groups:
            hyper = type(self)._hyper(**{name: group[name] for name in self.defaults})
            for param in group["params"]:
                grad = grads[index]
                if grad is not None:
                    grad = _check_grad_array(param, grad, f"grads[{index}]")
                    work.append((param, grad, self.state[index], hyper))
                index += 1
        with np.errstate(all="ignore"):
            for param, grad, state, hyper in work:
                type(self)._update(param, grad, state, **hyper)

    def state_dict(self) -> dict[str, Any]:
        """A deep copy of the hyperparameters and state, torch's layout (parameters by index).

        Returns:
            ``{"state": {index: {...}}, "param_groups": [{..., "params": [indices]}]}``.
        """
        groups, index = [], 0
        for group in self.param_groups:
            hyper = {k: copy.deepcopy(v) for k, v in group.items() if k != "params"}
            n = len(group["params"])
            groups.append({**hyper, "params": list(range(index, index + n))})
            index += n
        state = {i: copy.deepcopy(s) for i, s in enumerate(self.state) if s}
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore hyperparameters and state saved by ``state_dict`` (deep-copied in).

        The parameters themselves are not part of the state: restore them separately.
        """
        saved_groups = state_dict["param_groups"]
        if len(saved_groups) != len(self.param_groups):
            raise ValueError(
                f"state_dict has {len(saved_groups)} param groups, "
                f"this optimizer has {len(self.param_groups)}"
            )
        hypers = []
        for k, (saved, group) in enumerate(zip(saved_groups, self.param_groups, strict=True)):
            if len(saved["params"]) != len(group["params"]):
                raise ValueError(
                    f"state_dict's param_groups[{k}] has {len(saved['params'])} parameters, "
                    f"this optimizer's has {len(group['params'])}"
                )
            self._check_group_keys(saved, f"state_dict's param_groups[{k}]")
            hypers.append(type(self)._hyper(**{n: saved[n] for n in self.defaults}))
        params = [p for group in self.param_groups for p in group["params"]]
        for i, saved_state in state_dict["state"].items():
            for name, value in saved_state.items():
                if isinstance(value, np.ndarray) and value.shape != params[i].shape:
                    raise ValueError(
                        f"state_dict's state[{i}][{name!r}] has shape {value.shape}, "
                        f"its parameter has shape {params[i].shape}"
                    )
        for group, hyper in zip(self.param_groups, hypers, strict=True):
            group.update(hyper)
        self.state = [copy.deepcopy(state_dict["state"].get(i, {})) for i in range(len(params))]

    def __repr__(self) -> str:
        hyper = ", ".join(f"{k}={v!r}" for k, v in self.defaults.items())
        n_params = len(self.state)
        return (
            f"{type(self).__name__}({hyper}; {len(self.param_groups)} group(s), "
            f"{n_params} parameter(s))"
        )


# =============================================================================================
# SGD: gradient descent, momentum, Nesterov
# =============================================================================================


@dataclass(frozen=True, eq=False)
class SGDState:
    """State of SGD: the momentum buffer b (None without momentum, or before the first step)."""

    momentum_buffer: np.ndarray | None = None


def _sgd_hyper(lr, momentum, dampening, weight_decay, nesterov, maximize) -> dict[str, Any]:
    hyper = {
        "lr": check_lr(lr),
        "momentum": check_unit_interval(momentum, "momentum"),
        "dampening": check_probability(dampening, "dampening"),
        "weight_decay": check_nonnegative(weight_decay, "weight_decay"),
        "nesterov": _check_flag(nesterov, "nesterov"),
        "maximize": _check_flag(maximize, "maximize"),
    }
    if hyper["nesterov"] and (hyper["momentum"] == 0 or hyper["dampening"] != 0):
        raise ValueError(
            "nesterov=True needs momentum > 0 and dampening = 0 (torch's rule), got "
            f"momentum={momentum!r}, dampening={dampening!r}"
        )
    return hyper


def _sgd_kernel(param, grad, momentum_buffer, *, lr, momentum, dampening, weight_decay,
                nesterov, maximize, first):
    g = _gradient(param, grad, weight_decay, maximize)
    if momentum_buffer is not None:
        if first:
            momentum_buffer[...] = g  # b_1 = g_1: the first step is not dampened
        else:
            momentum_buffer *= momentum
            momentum_buffer += g if dampening == 0 else (1.0 - dampening) * g
        g = g + momentum * momentum_buffer if nesterov else momentum_buffer
    param -= lr * g


def _sgd_update(param, grad, state, *, lr, momentum, dampening, weight_decay, nesterov,
                maximize):
    buffer, first = None, False
    if momentum != 0:
        buffer = state.get("momentum_buffer")
        first = buffer is None
        if first:
            buffer = state["momentum_buffer"] = _zeros(param)
    _elementwise(_sgd_kernel, (param, grad, buffer), lr=lr, momentum=momentum,
                 dampening=dampening, weight_decay=weight_decay, nesterov=nesterov,
                 maximize=maximize, first=first)


def sgd_step(
    param: ArrayLike,
    grad: ArrayLike,
    state: SGDState | None = None,
    *,
    lr: float = 1e-3,
    momentum: float = 0.0,
    dampening: float = 0.0,
    weight_decay: float = 0.0,
    nesterov: bool = False,
    maximize: bool = False,
) -> tuple[np.ndarray, SGDState]:
    """One step of stochastic gradient descent, optionally with (Nesterov) momentum.

    With γ = lr, μ = momentum, τ = dampening, λ = weight_decay, at step t = 1, 2, ...::

        g_t ← ∇f(θ_{t-1})                     (−∇f(θ_{t-1}) if maximize)
        if λ ≠ 0:   g_t ← g_t + λ θ_{t-1}           (L2 penalty, "coupled" weight decay)
        if μ ≠ 0:
            b_t ← g_t                          if t = 1  (the first step is not dampened)
            b_t ← μ b_{t-1} + (1 − τ) g_t      otherwise
            g_t ← g_t + μ b_t                  if nesterov
            g_t ← b_t                          otherwise
        θ_t ← θ_{t-1} − γ g_t

    This is torch's form. Sutskever et al. (2013) and Keras keep the learning rate inside the
    velocity, v ← μ v − γ g; θ ← θ + v, with v starting at 0: the same path while γ is
    constant, a different one when a schedule changes γ (here a new γ acts at once).
    Nesterov momentum is the reformulation of Bengio et al. (2013): the gradient is taken at
    θ itself, not at Sutskever's look-ahead point θ + μv.

    Args:
        param: the parameters θ_{t-1}, any shape (not modified).
        grad: the gradient ∇f(θ_{t-1}), same shape (not modified).
        state: the state after the previous step, or None before the first step.
        lr: learning rate γ >= 0.
        momentum: momentum factor μ in [0, 1); 0 is plain gradient descent.
        dampening: τ in [0, 1], scales the gradient entering the buffer after the first step.
        weight_decay: λ >= 0, adds λθ to the gradient.
        nesterov: Nesterov momentum (needs momentum > 0 and dampening = 0).
        maximize: ascend the objective instead of descending it.

    Returns:
        ``(new_param, new_state)``: a new array θ_t and a new ``SGDState``.

    Example:
        Two steps on the parabola f(θ) = θ²/2 (gradient θ), from θ = 1 with momentum 0.9:

        >>> import numpy as np
        >>> from lrcourse.optimizers import sgd_step
        >>> theta, state = sgd_step(np.array(1.0), np.array(1.0), lr=0.1, momentum=0.9)
        >>> print(theta, state.momentum_buffer)
        0.9 1.0
        >>> theta, state = sgd_step(theta, theta, state, lr=0.1, momentum=0.9)
        >>> print(round(float(theta), 6), state.momentum_buffer)
        0.72 1.8
    """
    hyper = _sgd_hyper(lr, momentum, dampening, weight_decay, nesterov, maximize)
    param, grad, live = _pure_inputs(param, grad, state, SGDState)
    _sgd_update(param, grad, live, **hyper)
    return param, SGDState(**live)


class SGD(Optimizer):
    """Stochastic gradient descent with optional (Nesterov) momentum, in place (torch's ``SGD``).

    The rule is :func:`sgd_step`'s; see there for the algorithm.

    Args:
        params: list of arrays (updated in place), or list of param-group dicts.
        lr, momentum, dampening, weight_decay, nesterov, maximize: as in :func:`sgd_step`.

    Example:
        >>> import numpy as np
        >>> from lrcourse.optimizers import SGD
        >>> w = np.array([1.0, -2.0])
        >>> opt = SGD([w], lr=0.1, momentum=0.9)
        >>> for _ in range(2):
        ...     opt.step([w])            # f(w) = |w|²/2, gradient w
        >>> w
        array([ 0.72, -1.44])
    """

    _hyper = staticmethod(_sgd_hyper)
    _update = staticmethod(_sgd_update)

    def __init__(
        self,
        params: Iterable[np.ndarray] | Iterable[dict[str, Any]],
        lr: float = 1e-3,
        momentum: float = 0.0,
        dampening: float = 0.0,
        weight_decay: float = 0.0,
        nesterov: bool = False,
        *,
        maximize: bool = False,
    ) -> None:
        super().__init__(params, {
            "lr": lr, "momentum": momentum, "dampening": dampening,
            "weight_decay": weight_decay, "nesterov": nesterov, "maximize": maximize,
        })


# =============================================================================================
# AdaGrad
# =============================================================================================


@dataclass(frozen=True, eq=False)
class AdagradState:
    """State of AdaGrad after ``step`` updates: the running sum of squared gradients."""

    step: int
    sum: np.ndarray


def _adagrad_hyper(lr, lr_decay, weight_decay, initial_accumulator_value, eps,
                   maximize) -> dict[str, Any]:
    return {
        "lr": check_lr(lr),
        "lr_decay": check_nonnegative(lr_decay, "lr_decay"),
        "weight_decay": check_nonnegative(weight_decay, "weight_decay"),
        "initial_accumulator_value": check_nonnegative(
            initial_accumulator_value, "initial_accumulator_value"),
        "eps": check_positive(eps, "eps"),
        "maximize": _check_flag(maximize, "maximize"),
    }


def _adagrad_kernel(param, grad, state_sum, *, clr, eps, weight_decay, maximize):
    g = _gradient(param, grad, weight_decay, maximize)
    state_sum += g * g
    denom = np.sqrt(state_sum)
    denom += eps
    delta = np.divide(g, denom, out=denom)  # reuses denom's memory
    delta *= clr
    param -= delta


def _adagrad_update(param, grad, state, *, lr, lr_decay, weight_decay,
                    initial_accumulator_value, eps, maximize):
    if not state:
        state["step"] = 0
        state["sum"] = np.full(param.shape, initial_accumulator_value, dtype=param.dtype)
    state["step"] += 1
    clr = lr / (1 + (state["step"] - 1) * lr_decay)
    _elementwise(_adagrad_kernel, (param, grad, state["sum"]), clr=clr, eps=eps,
                 weight_decay=weight_decay, maximize=maximize)


def adagrad_step(
    param: ArrayLike,
    grad: ArrayLike,
    state: AdagradState | None = None,
    *,
    lr: float = 1e-2,
    lr_decay: float = 0.0,
    weight_decay: float = 0.0,
    initial_accumulator_value: float = 0.0,
    eps: float = 1e-10,
    maximize: bool = False,
) -> tuple[np.ndarray, AdagradState]:
    """One AdaGrad step: each coordinate's rate shrinks with its own accumulated gradient.

    With γ = lr, η = lr_decay, λ = weight_decay, τ = initial_accumulator_value::

        G_0 ← τ                                       (state.sum)
        for t = 1, 2, ...:
            g_t ← ∇f(θ_{t-1})                 (−∇f(θ_{t-1}) if maximize)
            if λ ≠ 0:   g_t ← g_t + λ θ_{t-1}
            γ̃_t ← γ / (1 + (t − 1) η)
            G_t ← G_{t-1} + g_t²
            θ_t ← θ_{t-1} − γ̃_t g_t / (√G_t + ε)

    The per-coordinate rate γ̃_t/(√G_t + ε) only ever decreases, which is why AdaGrad can stall
    on long dense problems and shines when features are sparse (rare ones keep a large rate).
    ``lr_decay`` (γ̃_t) is torch's addition to Duchi et al. (2011). Keras' defaults differ:
    initial_accumulator_value=0.1, epsilon=1e-7, learning_rate=0.001.

    Args:
        param: the parameters θ_{t-1}, any shape (not modified).
        grad: the gradient, same shape (not modified).
        state: the state after the previous step, or None before the first step.
        lr: learning rate γ >= 0.
        lr_decay: η >= 0, inverse-time decay of the global rate.
        weight_decay: λ >= 0, adds λθ to the gradient.
        initial_accumulator_value: τ >= 0, the starting value of every G.
        eps: ε > 0, added to √G (outside the square root).
        maximize: ascend the objective instead of descending it.

    Returns:
        ``(new_param, new_state)``: a new array θ_t and a new ``AdagradState``.

    Example:
        The first step moves every coordinate by lr, whatever the gradient's size:

        >>> import numpy as np
        >>> from lrcourse.optimizers import adagrad_step
        >>> theta, state = adagrad_step(np.zeros(2), np.array([0.01, 100.0]), lr=0.1)
        >>> print(theta.round(6), state.step)
        [-0.1 -0.1] 1
    """
    hyper = _adagrad_hyper(lr, lr_decay, weight_decay, initial_accumulator_value, eps, maximize)
    param, grad, live = _pure_inputs(param, grad, state, AdagradState)
    _adagrad_update(param, grad, live, **hyper)
    return param, AdagradState(**live)


class Adagrad(Optimizer):
    """AdaGrad, in place (torch's ``Adagrad``); the rule is :func:`adagrad_step`'s.

    Unlike torch, a param group's own ``initial_accumulator_value`` is honoured (torch 2.13
    fills every group's accumulator from the constructor's value).

    Args:
        params: list of arrays (updated in place), or list of param-group dicts.
        lr, lr_decay, weight_decay, initial_accumulator_value, eps, maximize: as in
            :func:`adagrad_step`.

    Example:
        >>> import numpy as np
        >>> from lrcourse.optimizers import Adagrad
        >>> w = np.array([1.0, -2.0])
        >>> opt = Adagrad([w], lr=0.5)
        >>> opt.step([w])
        >>> w
        array([ 0.5, -1.5])
    """

    _hyper = staticmethod(_adagrad_hyper)
    _update = staticmethod(_adagrad_update)

    def __init__(
        self,
        params: Iterable[np.ndarray] | Iterable[dict[str, Any]],
        lr: float = 1e-2,
        lr_decay: float = 0.0,
        weight_decay: float = 0.0,
        initial_accumulator_value: float = 0.0,
        eps: float = 1e-10,
        *,
        maximize: bool = False,
    ) -> None:
        super().__init__(params, {
            "lr": lr, "lr_decay": lr_decay, "weight_decay": weight_decay,
            "initial_accumulator_value": initial_accumulator_value, "eps": eps,
            "maximize": maximize,
        })


# =============================================================================================
# RMSprop
# =============================================================================================


@dataclass(frozen=True, eq=False)
class RMSpropState:
    """State of RMSprop after ``step`` updates.

    ``momentum_buffer`` is None without momentum, ``grad_avg`` None unless centered.
    """

    step: int
    square_avg: np.ndarray
    momentum_buffer: np.ndarray | None = None
    grad_avg: np.ndarray | None = None


def _rmsprop_hyper(lr, alpha, eps, weight_decay, momentum, centered,
                   maximize) -> dict[str, Any]:
    return {
        "lr": check_lr(lr),
        "alpha": check_unit_interval(alpha, "alpha"),
        "eps": check_positive(eps, "eps"),
        "weight_decay": check_nonnegative(weight_decay, "weight_decay"),
        "momentum": check_unit_interval(momentum, "momentum"),
        "centered": _check_flag(centered, "centered"),
        "maximize": _check_flag(maximize, "maximize"),
    }


def _rmsprop_kernel(param, grad, square_avg, grad_avg, momentum_buffer, *, lr, alpha, eps,
                    weight_decay, momentum, maximize):
    g = _gradient(param, grad, weight_decay, maximize)
    _average_square(square_avg, g, alpha)
    if grad_avg is not None:
        _lerp(grad_avg, g, 1.0 - alpha)
        denom = grad_avg * grad_avg
        np.subtract(square_avg, denom, out=denom)  # the variance estimate v − ḡ²
        np.sqrt(denom, out=denom)
    else:
        denom = np.sqrt(square_avg)
    denom += eps
    delta = np.divide(g, denom, out=denom)  # reuses denom's memory
    if momentum_buffer is not None:
        momentum_buffer *= momentum
        momentum_buffer += delta
        delta = lr * momentum_buffer
    else:
        delta *= lr
    param -= delta


def _rmsprop_update(param, grad, state, *, lr, alpha, eps, weight_decay, momentum, centered,
                    maximize):
    if not state:
        state["step"] = 0
        state["square_avg"] = _zeros(param)
    # Created when first needed, so a schedule may switch momentum on mid-run.
    if momentum > 0 and state.get("momentum_buffer") is None:
        state["momentum_buffer"] = _zeros(param)
    if centered and state.get("grad_avg") is None:
        state["grad_avg"] = _zeros(param)
    state["step"] += 1
    arrays = (param, grad, state["square_avg"], state["grad_avg"] if centered else None,
              state["momentum_buffer"] if momentum > 0 else None)
    _elementwise(_rmsprop_kernel, arrays, lr=lr, alpha=alpha, eps=eps,
                 weight_decay=weight_decay, momentum=momentum, maximize=maximize)


def rmsprop_step(
    param: ArrayLike,
    grad: ArrayLike,
    state: RMSpropState | None = None,
    *,
    lr: float = 1e-2,
    alpha: float = 0.99,
    eps: float = 1e-8,
    weight_decay: float = 0.0,
    momentum: float = 0.0,
    centered: bool = False,
    maximize: bool = False,
) -> tuple[np.ndarray, RMSpropState]:
    """One RMSprop step: divide the gradient by a running root-mean-square of past gradients.

    With γ = lr, α = alpha, λ = weight_decay, μ = momentum, at step t = 1, 2, ...
    (v_0 = ḡ_0 = b_0 = 0)::

        g_t ← ∇f(θ_{t-1})                     (−∇f(θ_{t-1}) if maximize)
        if λ ≠ 0:   g_t ← g_t + λ θ_{t-1}
        v_t ← α v_{t-1} + (1 − α) g_t²                        (state.square_avg)
        if centered:
            ḡ_t ← α ḡ_{t-1} + (1 − α) g_t                     (state.grad_avg)
            ṽ_t ← v_t − ḡ_t²           (a variance estimate)
        else:
            ṽ_t ← v_t
        if μ > 0:
            b_t ← μ b_{t-1} + g_t / (√ṽ_t + ε)               (state.momentum_buffer)
            θ_t ← θ_{t-1} − γ b_t
        else:
            θ_t ← θ_{t-1} − γ g_t / (√ṽ_t + ε)

    ε is added outside the square root, as in torch. TensorFlow/Keras add it inside
    (√(ṽ + ε)), keep γ inside the momentum buffer, and default to rho=0.9, epsilon=1e-7,
    learning_rate=0.001; optax's rmsprop also defaults to decay=0.9 with ε inside the root.
    There is no bias correction: v starts at 0, so the first steps are larger than γ.

    Args:
        param: the parameters θ_{t-1}, any shape (not modified).
        grad: the gradient, same shape (not modified).
        state: the state after the previous step, or None before the first step.
        lr: learning rate γ >= 0.
        alpha: smoothing constant α in [0, 1) of the running mean of squares.
        eps: ε > 0, added to the root.
        weight_decay: λ >= 0, adds λθ to the gradient.
        momentum: μ in [0, 1).
        centered: normalise by the estimated variance instead of the raw second moment.
        maximize: ascend the objective instead of descending it.

    Returns:
        ``(new_param, new_state)``: a new array θ_t and a new ``RMSpropState``.

    Example:
        The first step is lr/√(1 − α) ≈ 10 lr per coordinate (v_1 = 0.01 g²):

        >>> import numpy as np
        >>> from lrcourse.optimizers import rmsprop_step
        >>> theta, state = rmsprop_step(np.zeros(2), np.array([3.0, -0.5]), lr=0.01)
        >>> print(theta.round(6))
        [-0.1  0.1]
    """
    hyper = _rmsprop_hyper(lr, alpha, eps, weight_decay, momentum, centered, maximize)
    param, grad, live = _pure_inputs(param, grad, state, RMSpropState)
    _rmsprop_update(param, grad, live, **hyper)
    return param, RMSpropState(**live)


class RMSprop(Optimizer):
    """RMSprop, in place (torch's ``RMSprop``); the rule is :func:`rmsprop_step`'s.

    Args:
        params: list of arrays (updated in place), or list of param-group dicts.
        lr, alpha, eps, weight_decay, momentum, centered, maximize: as in :func:`rmsprop_step`.

    Example:
        >>> import numpy as np
        >>> from lrcourse.optimizers import RMSprop
        >>> w = np.array([1.0, -2.0])
        >>> opt = RMSprop([w], lr=0.01, momentum=0.9, centered=True)
        >>> opt.step([w])
        >>> print(w.round(4), sorted(opt.state[0]))
        [ 0.8995 -1.8995] ['grad_avg', 'momentum_buffer', 'square_avg', 'step']
    """

    _hyper = staticmethod(_rmsprop_hyper)
    _update = staticmethod(_rmsprop_update)

    def __init__(
        self,
        params: Iterable[np.ndarray] | Iterable[dict[str, Any]],
        lr: float = 1e-2,
        alpha: float = 0.99,
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        momentum: float = 0.0,
        centered: bool = False,
        *,
        maximize: bool = False,
    ) -> None:
        super().__init__(params, {
            "lr": lr, "alpha": alpha, "eps": eps, "weight_decay": weight_decay,
            "momentum": momentum, "centered": centered, "maximize": maximize,
        })


# =============================================================================================
# Adadelta
# =============================================================================================


@dataclass(frozen=True, eq=False)
class AdadeltaState:
    """State of Adadelta after ``step`` updates: running means of g² and of Δθ²."""

    step: int
    square_avg: np.ndarray
    acc_delta: np.ndarray


def _adadelta_hyper(lr, rho, eps, weight_decay, maximize) -> dict[str, Any]:
    return {
        "lr": check_lr(lr),
        "rho": check_unit_interval(rho, "rho"),
        "eps": check_positive(eps, "eps"),
        "weight_decay": check_nonnegative(weight_decay, "weight_decay"),
        "maximize": _check_flag(maximize, "maximize"),
    }


def _adadelta_kernel(param, grad, square_avg, acc_delta, *, lr, rho, eps, weight_decay,
                     maximize):
    g = _gradient(param, grad, weight_decay, maximize)
    _average_square(square_avg, g, rho)
    std = square_avg + eps
    np.sqrt(std, out=std)
    delta = acc_delta + eps
    np.sqrt(delta, out=delta)
    delta /= std
    delta *= g
    _average_square(acc_delta, delta, rho)
    delta *= lr
    param -= delta


def _adadelta_update(param, grad, state, *, lr, rho, eps, weight_decay, maximize):
    if not state:
        state["step"] = 0
        state["square_avg"] = _zeros(param)
        state["acc_delta"] = _zeros(param)
    state["step"] += 1
    _elementwise(_adadelta_kernel, (param, grad, state["square_avg"], state["acc_delta"]),
                 lr=lr, rho=rho, eps=eps, weight_decay=weight_decay, maximize=maximize)


def adadelta_step(
    param: ArrayLike,
    grad: ArrayLike,
    state: AdadeltaState | None = None,
    *,
    lr: float = 1.0,
    rho: float = 0.9,
    eps: float = 1e-6,
    weight_decay: float = 0.0,
    maximize: bool = False,
) -> tuple[np.ndarray, AdadeltaState]:
    """One Adadelta step: the step's size comes from the running size of past steps.

    With γ = lr, ρ = rho, λ = weight_decay, at step t = 1, 2, ... (v_0 = u_0 = 0)::

        g_t ← ∇f(θ_{t-1})                     (−∇f(θ_{t-1}) if maximize)
        if λ ≠ 0:   g_t ← g_t + λ θ_{t-1}
        v_t ← ρ v_{t-1} + (1 − ρ) g_t²                        (state.square_avg)
        Δx_t ← √(u_{t-1} + ε) / √(v_t + ε) · g_t
        u_t ← ρ u_{t-1} + (1 − ρ) Δx_t²                       (state.acc_delta)
        θ_t ← θ_{t-1} − γ Δx_t

    ε sits inside both square roots (Zeiler, 2012). Zeiler's method has no learning rate:
    that is γ = 1, torch's default; torch's γ multiplies the step. Keras defaults differ
    (learning_rate=0.001, rho=0.95, epsilon=1e-7).

    Args:
        param: the parameters θ_{t-1}, any shape (not modified).
        grad: the gradient, same shape (not modified).
        state: the state after the previous step, or None before the first step.
        lr: γ >= 0, multiplies the step Δx.
        rho: ρ in [0, 1), smoothing of both running means.
        eps: ε > 0, inside both square roots.
        weight_decay: λ >= 0, adds λθ to the gradient.
        maximize: ascend the objective instead of descending it.

    Returns:
        ``(new_param, new_state)``: a new array θ_t and a new ``AdadeltaState``.

    Example:
        The first step is tiny, √ε/√(0.1 g² + ε) · g ≈ 0.0032 for g = 1:

        >>> import numpy as np
        >>> from lrcourse.optimizers import adadelta_step
        >>> theta, state = adadelta_step(np.zeros(1), np.ones(1))
        >>> print(theta.round(6), state.step)
        [-0.003162] 1
    """
    hyper = _adadelta_hyper(lr, rho, eps, weight_decay, maximize)
    param, grad, live = _pure_inputs(param, grad, state, AdadeltaState)
    _adadelta_update(param, grad, live, **hyper)
    return param, AdadeltaState(**live)


class Adadelta(Optimizer):
    """Adadelta, in place (torch's ``Adadelta``); the rule is :func:`adadelta_step`'s.

    Args:
        params: list of arrays (updated in place), or list of param-group dicts.
        lr, rho, eps, weight_decay, maximize: as in :func:`adadelta_step`.

    Example:
        >>> import numpy as np
        >>> from lrcourse.optimizers import Adadelta
        >>> w = np.array([1.0])
        >>> opt = Adadelta([w])
        >>> for _ in range(3):
        ...     opt.step([w])
        >>> print(w.round(5), opt.state[0]["step"])
        [0.99031] 3
    """

    _hyper = staticmethod(_adadelta_hyper)
    _update = staticmethod(_adadelta_update)

    def __init__(
        self,
        params: Iterable[np.ndarray] | Iterable[dict[str, Any]],
        lr: float = 1.0,
        rho: float = 0.9,
        eps: float = 1e-6,
        weight_decay: float = 0.0,
        *,
        maximize: bool = False,
    ) -> None:
        super().__init__(params, {
            "lr": lr, "rho": rho, "eps": eps, "weight_decay": weight_decay,
            "maximize": maximize,
        })


# =============================================================================================
# Adam, AMSGrad, AdamW
# =============================================================================================


@dataclass(frozen=True, eq=False)
class AdamState:
    """State of Adam and AdamW after ``step`` updates: the two moment estimates m and v.

    ``max_exp_avg_sq`` (AMSGrad's running maximum of v) is None unless amsgrad is on.
    """

    step: int
    exp_avg: np.ndarray
    exp_avg_sq: np.ndarray
    max_exp_avg_sq: np.ndarray | None = None


def _adam_hyper(lr, betas, eps, weight_decay, amsgrad, maximize) -> dict[str, Any]:
    return {
        "lr": check_lr(lr),
        "betas": _check_betas(betas),
        "eps": check_positive(eps, "eps"),
        "weight_decay": check_nonnegative(weight_decay, "weight_decay"),
        "amsgrad": _check_flag(amsgrad, "amsgrad"),
        "maximize": _check_flag(maximize, "maximize"),
    }


def _adam_kernel(param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, *, beta1, beta2,
                 step_size, eps_hat, shrink, weight_decay, maximize):
    if shrink != 1.0:
        param *= shrink  # decoupled weight decay (AdamW)
    g = _gradient(param, grad, weight_decay, maximize)
    _lerp(exp_avg, g, 1.0 - beta1)
    _average_square(exp_avg_sq, g, beta2)
    second = exp_avg_sq
    if max_exp_avg_sq is not None:
        np.maximum(max_exp_avg_sq, exp_avg_sq, out=max_exp_avg_sq)
        second = max_exp_avg_sq
    denom = np.sqrt(second)
    denom += eps_hat
    delta = np.divide(exp_avg, denom, out=denom)  # reuses denom's memory
    delta *= step_size
    param -= delta


def _adam_update(param, grad, state, *, lr, betas, eps, weight_decay, amsgrad, maximize,
                 decoupled=False):
    if not state:
        state["step"] = 0
        state["exp_avg"] = _zeros(param)
        state["exp_avg_sq"] = _zeros(param)
    if amsgrad and state.get("max_exp_avg_sq") is None:
        state["max_exp_avg_sq"] = _zeros(param)
    state["step"] += 1
    t = state["step"]
    beta1, beta2 = betas
    bias_correction1 = 1 - beta1**t
    bias_correction2_sqrt = math.sqrt(1 - beta2**t)
    # γ m̂/(√v̂ + ε) = α_t m/(√v + ε̂), with α_t = γ √(1 − β2^t)/(1 − β1^t) and
    # ε̂ = ε √(1 − β2^t): the same numbers, with the bias corrections moved onto two scalars.
    _elementwise(
        _adam_kernel,
        (param, grad, state["exp_avg"], state["exp_avg_sq"],
         state["max_exp_avg_sq"] if amsgrad else None),
        beta1=beta1, beta2=beta2,
        step_size=lr * bias_correction2_sqrt / bias_correction1,
        eps_hat=eps * bias_correction2_sqrt,
        shrink=1.0 - lr * weight_decay if decoupled else 1.0,
        weight_decay=0.0 if decoupled else weight_decay,
        maximize=maximize,
    )


def _adamw_update(param, grad, state, **hyper):
    _adam_update(param, grad, state, **hyper, decoupled=True)


def adam_step(
    param: ArrayLike,
    grad: ArrayLike,
    state: AdamState | None = None,
    *,
    lr: float = 1e-3,
    betas: tuple[float, float] = (0.9, 0.999),
    eps: float = 1e-8,
    weight_decay: float = 0.0,
    amsgrad: bool = False,
    maximize: bool = False,
) -> tuple[np.ndarray, AdamState]:
    """One Adam step (or AMSGrad): momentum divided by a root-mean-square, bias-corrected.

    With γ = lr, (β1, β2) = betas, λ = weight_decay, at step t = 1, 2, ...
    (m_0 = v_0 = v_0^max = 0)::

        g_t ← ∇f(θ_{t-1})                     (−∇f(θ_{t-1}) if maximize)
        if λ ≠ 0:   g_t ← g_t + λ θ_{t-1}           (L2 penalty, NOT AdamW's decay)
        m_t ← β1 m_{t-1} + (1 − β1) g_t                       (state.exp_avg)
        v_t ← β2 v_{t-1} + (1 − β2) g_t²                      (state.exp_avg_sq)
        m̂_t ← m_t / (1 − β1^t)
        if amsgrad:
            v_t^max ← max(v_{t-1}^max, v_t)                  (state.max_exp_avg_sq)
            v̂_t ← v_t^max / (1 − β2^t)
        else:
            v̂_t ← v_t / (1 − β2^t)
        θ_t ← θ_{t-1} − γ m̂_t / (√v̂_t + ε)

    This is Algorithm 1 of Kingma & Ba (2015), ε outside the root, t counted from 1, so the
    first step moves each coordinate by about γ·sign(g). Keras (and TensorFlow) use the
    paper's "efficient" form θ ← θ − γ_t m/(√v + ε̂) with a FIXED ε̂ = epsilon (default 1e-7):
    slightly different numbers, mostly in the first steps. (This code computes torch's
    numbers through that form with ε̂ = ε√(1 − β2^t), which is exactly equivalent.)
    AMSGrad is torch's: the maximum is over the raw v_t, then bias-corrected; Reddi et al.
    (2018) use no bias correction at all. optax.adam has these same defaults.

    Args:
        param: the parameters θ_{t-1}, any shape (not modified).
        grad: the gradient, same shape (not modified).
        state: the state after the previous step, or None before the first step.
        lr: learning rate γ >= 0.
        betas: (β1, β2), each in [0, 1): decay rates of the first and second moments.
        eps: ε > 0, added to √v̂.
        weight_decay: λ >= 0, adds λθ to the gradient (use AdamW for decoupled decay).
        amsgrad: use the running maximum of v (AMSGrad).
        maximize: ascend the objective instead of descending it.

    Returns:
        ``(new_param, new_state)``: a new array θ_t and a new ``AdamState``.

    Example:
        Bias correction makes the first step ≈ lr·sign(g), whatever the gradient's size:

        >>> import numpy as np
        >>> from lrcourse.optimizers import adam_step
        >>> theta, state = adam_step(np.zeros(3), np.array([0.5, -5.0, 2e4]), lr=0.1)
        >>> print(theta.round(6), state.step)
        [-0.1  0.1 -0.1] 1
    """
    hyper = _adam_hyper(lr, betas, eps, weight_decay, amsgrad, maximize)
    param, grad, live = _pure_inputs(param, grad, state, AdamState)
    _adam_update(param, grad, live, **hyper)
    return param, AdamState(**live)


def adamw_step(
    param: ArrayLike,
    grad: ArrayLike,
    state: AdamState | None = None,
    *,
    lr: float = 1e-3,
    betas: tuple[float, float] = (0.9, 0.999),
    eps: float = 1e-8,
    weight_decay: float = 1e-2,
    amsgrad: bool = False,
    maximize: bool = False,
) -> tuple[np.ndarray, AdamState]:
    """One AdamW step: Adam plus weight decay applied to θ directly, not through the gradient.

    With γ = lr, λ = weight_decay, at step t = 1, 2, ...::

        g_t ← ∇f(θ_{t-1})                     (−∇f(θ_{t-1}) if maximize)
        θ_t ← θ_{t-1} − γ λ θ_{t-1}                  (decoupled weight decay)
        m_t, v_t, m̂_t, v̂_t (and AMSGrad's v_t^max) exactly as in adam_step, from g_t
        θ_t ← θ_t − γ m̂_t / (√v̂_t + ε)

    The decay is multiplied by the CURRENT learning rate γ (a schedule that lowers γ lowers
    the decay too) and never enters m or v, so it is not rescaled by 1/√v̂ as Adam's L2
    penalty is. Loshchilov & Hutter (2019) write θ ← θ − η_t(α m̂/(√v̂ + ε) + λθ) with a
    schedule multiplier η_t: torch's λ equals their λ/α. Keras' AdamW decays by γλθ like
    torch; optax.adamw does too but defaults to weight_decay=1e-4 (torch: 1e-2).

    Args:
        param: the parameters θ_{t-1}, any shape (not modified).
        grad: the gradient, same shape (not modified).
        state: the state after the previous step, or None before the first step.
        lr: learning rate γ >= 0 (also scales the decay).
        betas: (β1, β2), each in [0, 1).
        eps: ε > 0, added to √v̂.
        weight_decay: λ >= 0, the decoupled decay coefficient.
        amsgrad: use the running maximum of v (AMSGrad).
        maximize: ascend the objective instead of descending it.

    Returns:
        ``(new_param, new_state)``: a new array θ_t and a new ``AdamState``.

    Example:
        With a zero gradient only the decay acts: θ ← (1 − γλ) θ.

        >>> import numpy as np
        >>> from lrcourse.optimizers import adamw_step
        >>> theta, _ = adamw_step(np.array([2.0]), np.zeros(1), lr=0.1, weight_decay=0.5)
        >>> print(theta)
        [1.9]
    """
    hyper = _adam_hyper(lr, betas, eps, weight_decay, amsgrad, maximize)
    param, grad, live = _pure_inputs(param, grad, state, AdamState)
    _adamw_update(param, grad, live, **hyper)
    return param, AdamState(**live)


class Adam(Optimizer):
    """Adam (and AMSGrad), in place (torch's ``Adam``); the rule is :func:`adam_step`'s.

    Args:
        params: list of arrays (updated in place), or list of param-group dicts.
        lr, betas, eps, weight_decay, amsgrad, maximize: as in :func:`adam_step`.

    Example:
        Differential learning rates: each group moves by about its own lr on the first step.

        >>> import numpy as np
        >>> from lrcourse.optimizers import Adam
        >>> body, head = np.ones(2), np.ones(1)
        >>> opt = Adam([{"params": [body], "lr": 1e-3}, {"params": [head]}], lr=1e-1)
        >>> opt.step([np.ones(2), np.ones(1)])
        >>> print(body, head)
        [0.999 0.999] [0.9]
    """

    _hyper = staticmethod(_adam_hyper)
    _update = staticmethod(_adam_update)

    def __init__(
        self,
        params: Iterable[np.ndarray] | Iterable[dict[str, Any]],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        amsgrad: bool = False,
        *,
        maximize: bool = False,
    ) -> None:
        super().__init__(params, {
            "lr": lr, "betas": betas, "eps": eps, "weight_decay": weight_decay,
            "amsgrad": amsgrad, "maximize": maximize,
        })


class AdamW(Adam):
    """AdamW, in place (torch's ``AdamW``); the rule is :func:`adamw_step`'s.

    Args:
        params: list of arrays (updated in place), or list of param-group dicts.
        lr, betas, eps, weight_decay, amsgrad, maximize: as in :func:`adamw_step`
            (note weight_decay defaults to 1e-2).

    Example:
        >>> import numpy as np
        >>> from lrcourse.optimizers import AdamW
        >>> w = np.array([2.0])
        >>> opt = AdamW([w], lr=0.1, weight_decay=0.5)
        >>> opt.step([np.zeros(1)])          # zero gradient: only the decay acts
        >>> opt.param_groups[0]["lr"] = 0.01  # a schedule lowers lr, and with it the decay
        >>> opt.step([np.zeros(1)])
        >>> print(w.round(6))
        [1.8905]
    """

    _update = staticmethod(_adamw_update)

    def __init__(
        self,
        params: Iterable[np.ndarray] | Iterable[dict[str, Any]],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 1e-2,
        amsgrad: bool = False,
        *,
        maximize: bool = False,
    ) -> None:
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, maximize=maximize)


# =============================================================================================
# NAdam (and NAdamW)
# =============================================================================================


@dataclass(frozen=True, eq=False)
class NAdamState:
    """State of NAdam after ``step`` updates: the product of momentum coefficients and m, v."""

    step: int
    mu_product: float
    exp_avg: np.ndarray
    exp_avg_sq: np.ndarray


def _nadam_hyper(lr, betas, eps, weight_decay, momentum_decay, decoupled_weight_decay,
                 maximize) -> dict[str, Any]:
    return {
        "lr": check_lr(lr),
        "betas": _check_betas(betas),
        "eps": check_positive(eps, "eps"),
        "weight_decay": check_nonnegative(weight_decay, "weight_decay"),
        "momentum_decay": check_nonnegative(momentum_decay, "momentum_decay"),
        "decoupled_weight_decay": _check_flag(decoupled_weight_decay, "decoupled_weight_decay"),
        "maximize": _check_flag(maximize, "maximize"),
    }


def _nadam_kernel(param, grad, exp_avg, exp_avg_sq, *, beta1, beta2, grad_coef, avg_coef,
                  eps_hat, shrink, weight_decay, maximize):
    if shrink != 1.0:
        param *= shrink  # decoupled weight decay (NAdamW)
    g = _gradient(param, grad, weight_decay, maximize)
    _lerp(exp_avg, g, 1.0 - beta1)
    _average_square(exp_avg_sq, g, beta2)
    denom = np.sqrt(exp_avg_sq)
    denom += eps_hat
    delta = avg_coef * exp_avg
    delta += grad_coef * g
    delta /= denom
    param -= delta


def _nadam_update(param, grad, state, *, lr, betas, eps, weight_decay, momentum_decay,
                  decoupled_weight_decay, maximize):
    if not state:
        state["step"] = 0
        state["mu_product"] = 1.0
        state["exp_avg"] = _zeros(param)
        state["exp_avg_sq"] = _zeros(param)
    state["step"] += 1
    t = state["step"]
    beta1, beta2 = betas
    mu = beta1 * (1.0 - 0.5 * 0.96 ** (t * momentum_decay))
    mu_next = beta1 * (1.0 - 0.5 * 0.96 ** ((t + 1) * momentum_decay))
    state["mu_product"] *= mu
    mu_product = state["mu_product"]
    bias_correction2_sqrt = math.sqrt(1 - beta2**t)
    # As in Adam, √(1 − β2^t) moves from v̂ onto the two coefficients and onto ε (ε̂).
    decoupled = decoupled_weight_decay
    _elementwise(
        _nadam_kernel,
        (param, grad, state["exp_avg"], state["exp_avg_sq"]),
        beta1=beta1, beta2=beta2,
        grad_coef=lr * (1.0 - mu) / (1.0 - mu_product) * bias_correction2_sqrt,
        avg_coef=lr * mu_next / (1.0 - mu_product * mu_next) * bias_correction2_sqrt,
        eps_hat=eps * bias_correction2_sqrt,
        shrink=1.0 - lr * weight_decay if decoupled else 1.0,
        weight_decay=0.0 if decoupled else weight_decay,
        maximize=maximize,
    )


def nadam_step(
    param: ArrayLike,
    grad: ArrayLike,
    state: NAdamState | None = None,
    *,
    lr: float = 2e-3,
    betas: tuple[float, float] = (0.9, 0.999),
    eps: float = 1e-8,
    weight_decay: float = 0.0,
    momentum_decay: float = 4e-3,
    decoupled_weight_decay: bool = False,
    maximize: bool = False,
) -> tuple[np.ndarray, NAdamState]:
    """One NAdam step: Adam with a Nesterov look-ahead on the momentum (Dozat, 2016).

    With γ = lr, (β1, β2) = betas, λ = weight_decay, ψ = momentum_decay, at step t = 1, 2, ...
    (m_0 = v_0 = 0, Π_0 = 1)::

        g_t ← ∇f(θ_{t-1})                     (−∇f(θ_{t-1}) if maximize)
        if λ ≠ 0:
            θ_{t-1} ← θ_{t-1} − γ λ θ_{t-1}            if decoupled_weight_decay (NAdamW)
            g_t ← g_t + λ θ_{t-1}                      otherwise
        μ_t ← β1 (1 − ½ · 0.96^{t ψ})          (the momentum schedule)
        μ_{t+1} ← β1 (1 − ½ · 0.96^{(t+1) ψ})
        Π_t ← Π_{t-1} μ_t                                    (state.mu_product)
        m_t ← β1 m_{t-1} + (1 − β1) g_t                       (state.exp_avg)
        v_t ← β2 v_{t-1} + (1 − β2) g_t²                      (state.exp_avg_sq)
        v̂_t ← v_t / (1 − β2^t)
        θ_t ← θ_{t-1} − γ (1 − μ_t)/(1 − Π_t) · g_t/(√v̂_t + ε)
                      − γ μ_{t+1}/(1 − Π_t μ_{t+1}) · m_t/(√v̂_t + ε)

    The schedule μ_t and the product Π_t are Dozat's and Keras'. optax.nadam instead uses the
    plain Nesterov form m̂ = β1 m_t/(1 − β1^{t+1}) + (1 − β1) g_t/(1 − β1^t), with no ψ.

    Args:
        param: the parameters θ_{t-1}, any shape (not modified).
        grad: the gradient, same shape (not modified).
        state: the state after the previous step, or None before the first step.
        lr: learning rate γ >= 0.
        betas: (β1, β2), each in [0, 1).
        eps: ε > 0, added to √v̂.
        weight_decay: λ >= 0.
        momentum_decay: ψ >= 0 in the momentum schedule μ_t.
        decoupled_weight_decay: decay θ directly, as AdamW does (NAdamW).
        maximize: ascend the objective instead of descending it.

    Returns:
        ``(new_param, new_state)``: a new array θ_t and a new ``NAdamState``.

    Example:
        The first step is a little over lr: the look-ahead adds μ_2 m_1 to the gradient term.

        >>> import numpy as np
        >>> from lrcourse.optimizers import nadam_step
        >>> theta, state = nadam_step(np.zeros(2), np.array([0.5, -2.0]), lr=0.01)
        >>> print(theta.round(6), round(state.mu_product, 6))
        [-0.010565  0.010565] 0.450073
    """
    hyper = _nadam_hyper(lr, betas, eps, weight_decay, momentum_decay, decoupled_weight_decay,
                         maximize)
    param, grad, live = _pure_inputs(param, grad, state, NAdamState)
    _nadam_update(param, grad, live, **hyper)
    return param, NAdamState(**live)


class NAdam(Optimizer):
    """NAdam (and NAdamW), in place (torch's ``NAdam``); the rule is :func:`nadam_step`'s.

    Args:
        params: list of arrays (updated in place), or list of param-group dicts.
        lr, betas, eps, weight_decay, momentum_decay, decoupled_weight_decay, maximize: as in
            :func:`nadam_step`.

    Example:
        >>> import numpy as np
        >>> from lrcourse.optimizers import NAdam
        >>> w = np.array([1.0, -1.0])
        >>> opt = NAdam([w], lr=0.01)
        >>> opt.step([w])
        >>> print(w.round(6))
        [ 0.989435 -0.989435]
    """

    _hyper = staticmethod(_nadam_hyper)
    _update = staticmethod(_nadam_update)

    def __init__(
        self,
        params: Iterable[np.ndarray] | Iterable[dict[str, Any]],
        lr: float = 2e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        momentum_decay: float = 4e-3,
        decoupled_weight_decay: bool = False,
        *,
        maximize: bool = False,
    ) -> None:
        super().__init__(params, {
            "lr": lr, "betas": betas, "eps": eps, "weight_decay": weight_decay,
            "momentum_decay": momentum_decay, "decoupled_weight_decay": decoupled_weight_decay,
            "maximize": maximize,
        })


# =============================================================================================
# Factory
# =============================================================================================

_OPTIMIZERS: dict[str, type[Optimizer]] = {
    "sgd": SGD,
    "adagrad": Adagrad,
    "rmsprop": RMSprop,
    "adadelta": Adadelta,
    "adam": Adam,
    "adamw": AdamW,
    "nadam": NAdam,
}


def make_optimizer(
    name: str, params: Iterable[np.ndarray] | Iterable[dict[str, Any]], **hyper: Any
) -> Optimizer:
    """Build an optimizer by its lower-case name (for configs, sweeps and widgets).

    Args:
        name: one of "sgd", "adagrad", "rmsprop", "adadelta", "adam", "adamw", "nadam".
        params: list of arrays (updated in place), or list of param-group dicts.
        **hyper: the class's hyperparameters (unknown names raise TypeError).

    Returns:
        The optimizer, e.g. ``make_optimizer("adam", params, lr=1e-2)`` is ``Adam(params,
        lr=1e-2)``.

    Example:
        >>> import numpy as np
        >>> from lrcourse.optimizers import make_optimizer
        >>> opt = make_optimizer("sgd", [np.zeros(3)], lr=0.1, momentum=0.9)
        >>> print(type(opt).__name__, opt.param_groups[0]["lr"], opt.param_groups[0]["momentum"])
        SGD 0.1 0.9
    """
    cls = _OPTIMIZERS[check_choice(name, "name", _OPTIMIZERS)]
    known = [p for p in inspect.signature(cls.__init__).parameters if p not in ("self", "params")]
    for key in hyper:
        if key not in known:
            raise TypeError(
                f"unknown hyperparameter {key!r} for {cls.__name__}; expected one of: "
                f"{', '.join(known)}"
            )
    return cls(params, **hyper)
