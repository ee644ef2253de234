"""Learning-rate schedules: pure, vectorised functions of the step t.

A schedule maps the step ``t`` (``t = 0`` is the first update) to the learning
rate used for that update. The factories below check their arguments up front
and return a :class:`Schedule`, a small callable with a readable repr::

    >>> sched = cosine_annealing(lr=0.1, T_max=100)
    >>> sched
    cosine_annealing(lr=0.1, T_max=100, eta_min=0.0)
    >>> sched(0), sched(50)
    (0.1, 0.05)
    >>> sched([0, 100, 200])                     # arrays in, arrays out
    array([0.1, 0. , 0.1])

Every schedule equals a ``torch.optim.lr_scheduler`` class: ``sched(t)`` is what
``scheduler.get_last_lr()`` returns after ``t`` calls of ``scheduler.step()``,
i.e. the rate of the optimizer's update number ``t`` (counted from 0). Torch
computes most rates recursively (``lr_t = lr_{t-1} * ratio``) while we use the
closed form, so the two agree up to rounding: a few ulp per step, far below
1e-12 relative (see each docstring for the exceptions and their size).

Steps may be fractional (for smooth plots); torch only ever uses whole steps.
``ReduceLROnPlateau`` reacts to a metric, so it is a small state machine
rather than a function of t.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from lrcourse._validate import (
    check_callable,
    check_choice,
    check_increasing,
    check_int,
    check_lr,
    check_nonnegative,
    check_positive,
    check_probability,
    check_unit_interval,
)

__all__ = [
    "PlateauCut",
    "ReduceLROnPlateau",
    "Schedule",
    "constant",
    "constant_factor",
    "cosine_annealing",
    "cosine_annealing_clamped",
    "cosine_warm_restarts",
    "cyclical",
    "exponential_decay",
    "inverse_sqrt",
    "inverse_time_decay",
    "join",
    "linear_warmup",
    "multistep_decay",
    "one_cycle",
    "polynomial_decay",
    "step_decay",
    "warmup",
]


# ---------------------------------------------------------------------------
# The Schedule object
# ---------------------------------------------------------------------------


def _as_steps(t: Any) -> np.ndarray:
    """Steps as a float64 array; every entry must be a finite number >= 0."""
    raw = np.asarray(t)
    if raw.dtype.kind not in "iuf":
        raise TypeError(f"t must be a step number >= 0 or an array of them, got t={t!r}")
    steps = raw.astype(np.float64)
    bad = ~(np.isfinite(steps) & (steps >= 0))
    if bad.any():
        first_bad = raw.reshape(-1)[np.argmax(bad.reshape(-1))].item()
        check_nonnegative(first_bad, "t")  # raises, naming t and the offending value
    return steps


class Schedule:
    """A learning-rate schedule: a pure function of the step t, vectorised over arrays.

    ``sched(t)`` returns a float for a single step and an array (same shape)
    for an array of steps. The factories of this module build these; to wrap a
    function of your own, pass ``fn`` taking a 1-D float array of steps (all
    >= 0) and returning the rates as an array of the same length.

    Args:
        fn: the vectorised rule ``steps -> rates``.
        name: the name shown by ``repr`` (the factory's name).
        args: the arguments shown by ``repr``, in order.
        momentum: the momentum (or Adam beta1) schedule that goes with this
            learning-rate schedule, for cyclical and one-cycle policies.

    Example:
        >>> halving = Schedule(lambda t: 0.1 * 2.0 ** -t, "halving", {"lr": 0.1})
        >>> halving
        halving(lr=0.1)
        >>> halving([0, 1, 2])
        array([0.1  , 0.05 , 0.025])
    """

    def __init__(
        self,
        fn: Callable[[np.ndarray], np.ndarray],
        name: str,
        args: dict[str, Any] | None = None,
        momentum: Schedule | None = None,
    ) -> None:
        self._fn = fn
        self.name = name
        self.args = dict(args) if args is not None else None
        self.momentum = momentum

    def __call__(self, t: Any) -> float | np.ndarray:
        steps = _as_steps(t)
        flat = steps.reshape(-1)
        values = np.broadcast_to(np.asarray(self._fn(flat), dtype=np.float64), flat.shape)
        if steps.ndim == 0:
            return float(values[0])
        return values.reshape(steps.shape).copy()

    def __repr__(self) -> str:
        if self.args is None:
            return self.name
        shown = ", ".join(f"{key}={value!r}" for key, value in self.args.items())
        return f"{self.name}({shown})"


def _call_on(schedule: Callable[[Any], Any], steps: np.ndarray) -> np.ndarray:
    """Rates of any schedule (ours, or a vectorised function of t) on a 1-D array of steps."""
    return np.broadcast_to(np.asarray(schedule(steps), dtype=np.float64), steps.shape)


# ---------------------------------------------------------------------------
# Constant and stepwise schedules
# ---------------------------------------------------------------------------


def constant(lr: float) -> Schedule:
    """The same rate at every step.

    Formula::

        lr(t) = lr

    Args:
        lr: the learning rate (>= 0).

    Returns:
        A :class:`Schedule`.

    Example:
        >>> constant(0.01)([0, 1, 1000])
        array([0.01, 0.01, 0.01])

    Torch: an optimizer without a scheduler (or ``LambdaLR(opt, lambda t: 1.0)``).
    """
    lr = check_lr(lr)
    return Schedule(lambda t: np.full(t.shape, lr), "constant", {"lr": lr})


def constant_factor(lr: float, factor: float = 1.0 / 3, total_iters: int = 5) -> Schedule:
    """A reduced rate for the first ``total_iters`` steps, then the full rate.

    Formula::

        lr(t) = lr * factor     if t < total_iters
                lr              otherwise

    Args:
        lr: the full learning rate (>= 0).
        factor: the multiplier used during the first steps, in [0, 1].
        total_iters: how many steps use the reduced rate (>= 1).

    Returns:
        A :class:`Schedule`.

    Example:
        >>> constant_factor(0.1, factor=0.5, total_iters=2)([0, 1, 2, 3])
        array([0.05, 0.05, 0.1 , 0.1 ])

    Torch: ``ConstantLR(opt, factor, total_iters)``. Torch returns to the full
    rate by multiplying by ``1 / factor`` (so it may differ from ``lr`` by an
    ulp, and fails with ``factor=0``); with ``total_iters=0`` it never returns
    to ``lr`` at all, which is why 0 is refused here.
    """
    lr = check_lr(lr)
    factor = check_probability(factor, "factor")
    total_iters = check_int(total_iters, "total_iters", minimum=1)

    def fn(t: np.ndarray) -> np.ndarray:
        return np.where(t < total_iters, lr * factor, lr)

    return Schedule(fn, "constant_factor", {"lr": lr, "factor": factor, "total_iters": total_iters})


def step_decay(lr: float, step_size: int, gamma: float = 0.1) -> Schedule:
    """Multiply the rate by ``gamma`` every ``step_size`` steps.

    Formula::

        lr(t) = lr * gamma ** floor(t / step_size)

    Args:
        lr: the initial learning rate (>= 0).
        step_size: the number of steps between two decays (>= 1).
        gamma: the multiplier applied at each decay (> 0).

    Returns:
        A :class:`Schedule`.

    Example:
        >>> step_decay(0.1, step_size=2, gamma=0.5)([0, 1, 2, 3, 4])
        array([0.1  , 0.1  , 0.05 , 0.05 , 0.025])

    Torch: ``StepLR(opt, step_size, gamma)`` (which multiplies by ``gamma``
    recursively; equal up to an ulp per decay).
    """
    lr = check_lr(lr)
    step_size = check_int(step_size, "step_size", minimum=1)
    gamma = check_positive(gamma, "gamma")

    def fn(t: np.ndarray) -> np.ndarray:
        return lr * gamma ** np.floor(t / step_size)

    return Schedule(fn, "step_decay", {"lr": lr, "step_size": step_size, "gamma": gamma})


def multistep_decay(lr: float, milestones: Sequence[int], gamma: float = 0.1) -> Schedule:
    """Multiply the rate by ``gamma`` at each milestone step.

    Formula::

        lr(t) = lr * gamma ** (number of milestones m with m <= t)

    The milestone step itself already uses the reduced rate.

    Args:
        lr: the initial learning rate (>= 0).
        milestones: strictly increasing steps (integers >= 0) at which to decay.
        gamma: the multiplier applied at each milestone (> 0).

    Returns:
        A :class:`Schedule`.

    Example:
        >>> multistep_decay(1.0, milestones=[2, 4], gamma=0.1)([0, 1, 2, 3, 4, 5])
        array([1.  , 1.  , 0.1 , 0.1 , 0.01, 0.01])

    Torch: ``MultiStepLR(opt, milestones, gamma)``. Torch also accepts a
    repeated milestone (decaying twice there); here it is refused as a typo.
    """
    lr = check_lr(lr)
    milestones = check_increasing(milestones, "milestones", minimum=0)
    gamma = check_positive(gamma, "gamma")
    marks = np.asarray(milestones, dtype=np.float64)

    def fn(t: np.ndarray) -> np.ndarray:
        return lr * gamma ** np.searchsorted(marks, t, side="right").astype(np.float64)

    return Schedule(fn, "multistep_decay", {"lr": lr, "milestones": milestones, "gamma": gamma})


# ---------------------------------------------------------------------------
# Smooth decays
# ---------------------------------------------------------------------------


def exponential_decay(lr: float, gamma: float) -> Schedule:
    """Multiply the rate by ``gamma`` at every step.

    Formula::

        lr(t) = lr * gamma ** t

    Args:
        lr: the initial learning rate (>= 0).
        gamma: the multiplier per step (> 0; < 1 to decay).

    Returns:
        A :class:`Schedule`.

    Example:
        >>> exponential_decay(1.0, gamma=0.5)([0, 1, 2, 3])
        array([1.   , 0.5  , 0.25 , 0.125])

    Torch: ``ExponentialLR(opt, gamma)`` (recursive; equal up to about one ulp
    per step, i.e. ~1e-14 relative after 100 steps).
    """
    lr = check_lr(lr)
    gamma = check_positive(gamma, "gamma")
    return Schedule(lambda t: lr * gamma**t, "exponential_decay", {"lr": lr, "gamma": gamma})


def inverse_time_decay(lr: float, k: float) -> Schedule:
    """Decay the rate like 1/t, the classic Robbins-Monro schedule.

    Formula::

        lr(t) = lr / (1 + k t)

    Args:
        lr: the initial learning rate (>= 0).
        k: the decay speed (>= 0); the rate halves at t = 1/k.

    Returns:
        A :class:`Schedule`.

    Example:
        >>> inverse_time_decay(1.0, k=0.5)([0, 2, 6, 14])
        array([1.   , 0.5  , 0.25 , 0.125])

    Torch: no class of its own; ``LambdaLR(opt, lambda t: 1 / (1 + k * t))``
    (equal up to an ulp).
    """
    lr = check_lr(lr)
    k = check_nonnegative(k, "k")
    return Schedule(lambda t: lr / (1 + k * t), "inverse_time_decay", {"lr": lr, "k": k})


def polynomial_decay(lr: float, total_iters: int = 5, power: float = 1.0) -> Schedule:
    """Decay the rate to 0 over ``total_iters`` steps along a polynomial, then stay at 0.

    Formula::

        lr(t) = lr * (1 - min(t, total_iters) / total_iters) ** power

    Args:
        lr: the initial learning rate (>= 0).
        total_iters: the step at which the rate reaches 0 (>= 1).
        power: the exponent of the polynomial (>= 0; 1 is a straight line).

    Returns:
        A :class:`Schedule`.

    Example:
        >>> polynomial_decay(1.0, total_iters=4, power=2.0)([0, 1, 2, 3, 4, 5])
        array([1.    , 0.5625, 0.25  , 0.0625, 0.    , 0.    ])

    Torch: ``PolynomialLR(opt, total_iters, power)`` (recursive; equal up to
    an ulp per step).
    """
    lr = check_lr(lr)
    total_iters = check_int(total_iters, "total_iters", minimum=1)
    power = check_nonnegative(power, "power")

    def fn(t: np.ndarray) -> np.ndarray:
        return lr * (1.0 - np.minimum(t, total_iters) / total_iters) ** power

    return Schedule(fn, "polynomial_decay", {"lr": lr, "total_iters": total_iters, "power": power})


def linear_warmup(
    lr: float, start_factor: float = 1.0 / 3, end_factor: float = 1.0, total_iters: int = 5
) -> Schedule:
    """Move the rate in a straight line from ``lr * start_factor`` to ``lr * end_factor``.

    Formula, with ``T = total_iters``::

        lr(t) = lr * (start_factor + (end_factor - start_factor) * min(t, T) / T)

    With ``start_factor < end_factor`` this is a warm-up; the other way round a
    linear decay. The rate stays at ``lr * end_factor`` after ``total_iters``.

    Args:
        lr: the base learning rate (>= 0).
        start_factor: the multiplier at t = 0, in [0, 1].
        end_factor: the multiplier from t = total_iters on, in [0, 1].
        total_iters: the length of the ramp in steps (>= 1).

    Returns:
        A :class:`Schedule`.

    Example:
        >>> linear_warmup(0.1, start_factor=0.5, total_iters=4)([0, 1, 2, 3, 4, 5])
        array([0.05  , 0.0625, 0.075 , 0.0875, 0.1   , 0.1   ])

    Torch: ``LinearLR(opt, start_factor, end_factor, total_iters)`` (recursive;
    equal up to an ulp per step). Torch refuses ``start_factor=0`` because its
    recursion divides by it; the closed form has no such limit.
    """
    lr = check_lr(lr)
    start_factor = check_probability(start_factor, "start_factor")
    end_factor = check_probability(end_factor, "end_factor")
    total_iters = check_int(total_iters, "total_iters", minimum=1)

    def fn(t: np.ndarray) -> np.ndarray:
        progress = np.minimum(total_iters, t) / total_iters
        return lr * (start_factor + (end_factor - start_factor) * progress)

    args = {
        "lr": lr,
        "start_factor": start_factor,
        "end_factor": end_factor,
        "total_iters": total_iters,
    }
    return Schedule(fn, "linear_warmup", args)


# ---------------------------------------------------------------------------
# Cosine schedules
# ---------------------------------------------------------------------------


def cosine_annealing(lr: float, T_max: int, eta_min: float = 0.0) -> Schedule:
    """Follow half a cosine from ``lr`` down to ``eta_min`` over ``T_max`` steps (then back up).

    Formula::

        lr(t) = eta_min + (lr - eta_min) * (1 + cos(pi t / T_max)) / 2

    This is torch's behaviour, quirk included: after ``T_max`` the cosine goes
    on, so the rate climbs back to ``lr`` at ``2 T_max`` and keeps oscillating
    with period ``2 T_max``. Use :func:`cosine_annealing_clamped` to stay at
    ``eta_min``, or :func:`cosine_warm_restarts` to jump back up.

    Args:
        lr: the initial (largest) learning rate (>= 0).
        T_max: the number of steps of the descent (>= 1).
        eta_min: the rate reached at ``t = T_max`` (>= 0).

    Returns:
        A :class:`Schedule`.

    Example:
        >>> cosine_annealing(0.1, T_max=4)([0, 2, 4, 6, 8])
        array([0.1 , 0.05, 0.  , 0.05, 0.1 ])

    Torch: ``CosineAnnealingLR(opt, T_max, eta_min)``.

    How close: torch updates the rate recursively, multiplying ``eta_{t-1} -
    eta_min`` by ``(1 + cos(pi t / T_max)) / (1 + cos(pi (t-1) / T_max))``, and
    restarts that recursion at each ``t0 = T_max + 1 (mod 2 T_max)`` by adding
    ``(lr - eta_min) (1 - cos(pi / T_max)) / 2``. Up to ``T_max`` the closed
    form agrees with it to ~1e-14 relative. On the rising branches torch's
    float value of ``1 + cos(pi t0 / T_max)`` is off by up to ~1e-16 / (pi /
    T_max)**2 relative (1e-10 at T_max = 2000), and the recursion carries that
    error along. So for t > T_max we write the same rate as::

        (1 - cos(pi / T_max)) / 2 * (1 + cos(pi t / T_max)) / (1 + cos(pi t0 / T_max))

    (an identity in exact arithmetic), which reproduces torch to ~1e-14 for
    every T_max when ``eta_min = 0``. With ``eta_min > 0`` torch also amplifies
    the rounding of ``eta_min + increment`` at each ``t0``; that noise, about
    5e-17 T_max**2 eta_min / lr (3e-13 at T_max = 100 with eta_min = lr / 2),
    cannot be reproduced without replaying the recursion step by step.
    """
    lr = check_lr(lr)
    T_max = check_int(T_max, "T_max", minimum=1)
    eta_min = check_nonnegative(eta_min, "eta_min")
    restart_increment = (1 - math.cos(math.pi / T_max)) / 2

    def fn(t: np.ndarray) -> np.ndarray:
        falling = (1 + np.cos(np.pi * t / T_max)) / 2
        # Torch's recursion restarts at t0 = T_max + 1 (mod 2 T_max); see the docstring.
        t0 = T_max + 1 + 2 * T_max * np.floor((t - T_max - 1) / (2 * T_max))
        rising = (
            restart_increment * (1 + np.cos(np.pi * t / T_max)) / (1 + np.cos(np.pi * t0 / T_max))
        )
        return eta_min + (lr - eta_min) * np.where(t > T_max, rising, falling)

    return Schedule(fn, "cosine_annealing", {"lr": lr, "T_max": T_max, "eta_min": eta_min})


def cosine_annealing_clamped(lr: float, T_max: int, eta_min: float = 0.0) -> Schedule:
    """Follow half a cosine from ``lr`` down to ``eta_min`` over ``T_max`` steps, then stay there.

    Formula::

        lr(t) = eta_min + (lr - eta_min) * (1 + cos(pi min(t, T_max) / T_max)) / 2

    The course's variant of :func:`cosine_annealing`: identical up to
    ``T_max``, but it does not rise again afterwards (the usual intent when
    training runs longer than ``T_max``; optax' ``cosine_decay_schedule`` with
    ``alpha = eta_min / lr`` behaves the same way).

    Args:
        lr: the initial (largest) learning rate (>= 0).
        T_max: the number of steps of the descent (>= 1).
        eta_min: the rate reached at ``t = T_max`` and kept afterwards (>= 0).

    Returns:
        A :class:`Schedule`.

    Example:
        >>> cosine_annealing_clamped(0.1, T_max=4)([0, 2, 4, 6, 8])
        array([0.1 , 0.05, 0.  , 0.  , 0.  ])

    Torch: ``CosineAnnealingLR(opt, T_max, eta_min)`` for ``t <= T_max``;
    torch has no clamped class.
    """
    lr = check_lr(lr)
    T_max = check_int(T_max, "T_max", minimum=1)
    eta_min = check_nonnegative(eta_min, "eta_min")

    def fn(t: np.ndarray) -> np.ndarray:
        return eta_min + (lr - eta_min) * (1 + np.cos(np.pi * np.minimum(t, T_max) / T_max)) / 2

    return Schedule(fn, "cosine_annealing_clamped", {"lr": lr, "T_max": T_max, "eta_min": eta_min})


def cosine_warm_restarts(
    lr: float,
    T_0: int,
    T_mult: int = 1,
    eta_min: float = 0.0,
) -> Schedule:
    """Cosine descents from ``lr`` to ``eta_min``, restarting at ``lr``, each T_mult times longer.

    Formula (SGDR)::

        lr(t) = eta_min + (lr - eta_min) * (1 + cos(pi T_cur / T_i)) / 2

    where cycle i lasts ``T_i = T_0 * T_mult**i`` steps and ``T_cur`` counts the
    steps since the cycle began. Restarts happen at ``t = T_0 (1 + T_mult + ...
    + T_mult**(i-1))``, e.g. 10, 30, 70, 150 for ``T_0=10, T_mult=2``. The
    rate at a restart step is ``lr``; ``eta_min`` itself is never reached.

    Args:
        lr: the rate at the start of each cycle (>= 0).
        T_0: the length of the first cycle in steps (>= 1).
        T_mult: the growth factor of the cycle length (an integer >= 1).
        eta_min: the rate approached at the end of each cycle (>= 0).

    Returns:
        A :class:`Schedule`.

    Example:
        >>> sched = cosine_warm_restarts(1.0, T_0=2, T_mult=2)
        >>> sched([0, 1, 2, 3, 4, 5, 6]).round(4)
        array([1.    , 0.5   , 1.    , 0.8536, 0.5   , 0.1464, 1.    ])

    Torch: ``CosineAnnealingWarmRestarts(opt, T_0, T_mult, eta_min)`` stepped
    without an epoch argument (equal to the last bit: the cycle is found with
    integers; torch's ``step(epoch)`` form uses a float logarithm instead).
    """
    lr = check_lr(lr)
    T_0 = check_int(T_0, "T_0", minimum=1)
    T_mult = check_int(T_mult, "T_mult", minimum=1)
    eta_min = check_nonnegative(eta_min, "eta_min")

    def fn(t: np.ndarray) -> np.ndarray:
        if T_mult == 1:
            cycle_start = T_0 * np.floor(t / T_0)
            cycle_length = np.full(t.shape, float(T_0))
        else:
            # Cycles grow geometrically, so this loop runs about log(t / T_0) times.
            cycle_start = np.zeros(t.shape)
            cycle_length = np.full(t.shape, float(T_0))
            done = t >= cycle_start + cycle_length
            while done.any():
                cycle_start = np.where(done, cycle_start + cycle_length, cycle_start)
                cycle_length = np.where(done, cycle_length * T_mult, cycle_length)
                done = t >= cycle_start + cycle_length
        T_cur = t - cycle_start
        return eta_min + (lr - eta_min) * (1 + np.cos(np.pi * T_cur / cycle_length)) / 2

    args = {"lr": lr, "T_0": T_0, "T_mult": T_mult, "eta_min": eta_min}
    return Schedule(fn, "cosine_warm_restarts", args)


# ---------------------------------------------------------------------------
# Cyclical and one-cycle policies (with their momentum cycles)
# ---------------------------------------------------------------------------


def _python_number(x: float) -> int | float:
    """Torch hands a custom scale_fn Python ints (cycle numbers, step counts); so do we."""
    return int(x) if float(x).is_integer() else float(x)


def cyclical(
    base_lr: float,
    max_lr: float,
    step_size_up: int = 2000,
    step_size_down: int | None = None,
    mode: str = "triangular",
    gamma: float = 1.0,
    scale_fn: Callable[[float], float] | None = None,
    scale_mode: str = "cycle",
    base_momentum: float = 0.8,
    max_momentum: float = 0.9,
) -> Schedule:
    """Cycle the rate between ``base_lr`` and ``max_lr`` in triangles (Smith's CLR).

    Formula, with ``S = step_size_up + step_size_down`` and ``r = step_size_up / S``::

        cycle = floor(1 + t / S)                   (1, 2, 3, ...)
        x     = 1 + t / S - cycle                  (position in the cycle, [0, 1))
        h     = x / r              if x <= r       (rising edge)
                (x - 1) / (r - 1)  otherwise       (falling edge)
        lr(t) = base_lr + (max_lr - base_lr) * h * scale
        momentum(t) = max_momentum - (max_momentum - base_momentum) * h * scale

    ``scale`` is 1 for ``"triangular"``, ``1 / 2**(cycle - 1)`` for
    ``"triangular2"`` (the amplitude halves every cycle) and ``gamma**t`` for
    ``"exp_range"``. A custom ``scale_fn`` replaces the mode and is called on
    the cycle number (``scale_mode="cycle"``) or on t (``"iterations"``); as in
    torch, ``scale_mode`` is ignored unless ``scale_fn`` is given. Peaks are at
    ``t = step_size_up + k S``, troughs (``base_lr``) at ``t = k S``.

    Args:
        base_lr: the lower rate, at the start of each cycle (>= 0).
        max_lr: the upper rate, at the peak of each cycle (>= 0).
        step_size_up: steps of the rising edge (>= 1).
        step_size_down: steps of the falling edge (>= 1); None means ``step_size_up``.
        mode: ``"triangular"``, ``"triangular2"`` or ``"exp_range"``.
        gamma: the per-step factor of ``"exp_range"`` (> 0).
        scale_fn: optional custom amplitude scaling, a function of one number.
        scale_mode: ``"cycle"`` or ``"iterations"``: what ``scale_fn`` receives.
        base_momentum: momentum at the peaks of the rate, in [0, 1).
        max_momentum: momentum at the troughs of the rate, in [0, 1).

    Returns:
        A :class:`Schedule`; its ``.momentum`` is the opposite momentum cycle
        (for SGD's ``momentum`` or Adam's ``beta1``).

    Example:
        >>> sched = cyclical(0.1, 0.5, step_size_up=2, mode="triangular2")
        >>> sched(range(9))
        array([0.1, 0.3, 0.5, 0.3, 0.1, 0.2, 0.3, 0.2, 0.1])
        >>> sched.momentum([0, 1, 2])
        array([0.9 , 0.85, 0.8 ])

    Torch: ``CyclicLR(opt, base_lr, max_lr, step_size_up, step_size_down,
    mode, gamma, scale_fn, scale_mode, cycle_momentum=True, base_momentum,
    max_momentum)``, with the momentum it writes into the optimizer; equal to
    the last bit up to ``gamma**t`` (an ulp).
    """
    base_lr = check_lr(base_lr, "base_lr")
    max_lr = check_lr(max_lr, "max_lr")
    step_size_up = check_int(step_size_up, "step_size_up", minimum=1)
    if step_size_down is not None:
        step_size_down = check_int(step_size_down, "step_size_down", minimum=1)
    mode = check_choice(mode, "mode", ("triangular", "triangular2", "exp_range"))
    gamma = check_positive(gamma, "gamma")
    if scale_fn is not None:
        check_callable(scale_fn, "scale_fn")
    scale_mode = check_choice(scale_mode, "scale_mode", ("cycle", "iterations"))
    base_momentum = check_unit_interval(base_momentum, "base_momentum")
    max_momentum = check_unit_interval(max_momentum, "max_momentum")

    total_size = float(step_size_up) + float(
        step_size_down if step_size_down is not None else step_size_up
    )
    step_ratio = step_size_up / total_size
    if scale_fn is None:
        scale_mode_used = "iterations" if mode == "exp_range" else "cycle"
    else:
        scale_mode_used = scale_mode

    def height_and_scale(t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        cycle = np.floor(1 + t / total_size)
        x = 1.0 + t / total_size - cycle
        height = np.where(x <= step_ratio, x / step_ratio, (x - 1) / (step_ratio - 1))
        if scale_fn is not None:
            arg = cycle if scale_mode_used == "cycle" else t
            scale = np.array([scale_fn(_python_number(a)) for a in arg], dtype=np.float64)
        elif mode == "triangular":
            scale = np.ones(t.shape)
        elif mode == "triangular2":
            scale = 1 / (2.0 ** (cycle - 1))
        else:
            scale = gamma**t
        return height, scale

    def lr_fn(t: np.ndarray) -> np.ndarray:
        height, scale = height_and_scale(t)
        return base_lr + (max_lr - base_lr) * height * scale

    def momentum_fn(t: np.ndarray) -> np.ndarray:
        height, scale = height_and_scale(t)
        return max_momentum - (max_momentum - base_momentum) * height * scale

    args = {
        "base_lr": base_lr,
        "max_lr": max_lr,
        "step_size_up": step_size_up,
        "step_size_down": step_size_down,
        "mode": mode,
        "gamma": gamma,
        "scale_fn": scale_fn,
        "scale_mode": scale_mode,
        "base_momentum": base_momentum,
        "max_momentum": max_momentum,
    }
    sched = Schedule(lr_fn, "cyclical", args)
    sched.momentum = Schedule(momentum_fn, f"{sched!r}.momentum")
    return sched


def _anneal_cos(start: float, end: float, pct: np.ndarray) -> np.ndarray:
    return end + (start - end) / 2.0 * (np.cos(np.pi * pct) + 1)


def _anneal_linear(start: float, end: float, pct: np.ndarray) -> np.ndarray:
    return (end - start) * pct + start


def _piecewise(
    t: np.ndarray, phases: list[tuple[float, float, float]], anneal: Callable[..., np.ndarray]
) -> np.ndarray:
    """Anneal within phases (end_step, start_value, end_value); the last phase takes the rest."""
    out = np.empty(t.shape)
    unassigned = np.ones(t.shape, dtype=bool)
    start_step = 0.0
    for i, (end_step, start_value, end_value) in enumerate(phases):
        last = i == len(phases) - 1
        here = unassigned if last else unassigned & (t <= end_step)
        pct = (t[here] - start_step) / (end_step - start_step)
        out[here] = anneal(start_value, end_value, pct)
        unassigned &= ~here
        start_step = end_step
    return out


def one_cycle(
    max_lr: float,
    total_steps: int,
    pct_start: float = 0.3,
    anneal_strategy: str = "cos",
    div_factor: float = 25.0,
    final_div_factor: float = 1e4,
    three_phase: bool = False,
    base_momentum: float = 0.85,
    max_momentum: float = 0.95,
) -> Schedule:
    """The 1cycle policy: warm up to ``max_lr``, then anneal far below the start.

    With ``initial_lr = max_lr / div_factor``, ``min_lr = initial_lr /
    final_div_factor`` and ``p = pct_start * total_steps``, the rate anneals
    (cosine or linear) through the phases, each ending at the step shown::

        two-phase:    initial_lr -> max_lr     (step p - 1)
                      max_lr     -> min_lr     (step total_steps - 1)
        three-phase:  initial_lr -> max_lr     (step p - 1)
                      max_lr     -> initial_lr (step 2p - 2)
                      initial_lr -> min_lr     (step total_steps - 1)

        cos:    anneal(a, b, pct) = b + (a - b) (1 + cos(pi pct)) / 2
        linear: anneal(a, b, pct) = a + (b - a) pct

    where ``pct`` is the fraction of the current phase done. Momentum runs the
    opposite way, ``max_momentum -> base_momentum -> max_momentum`` (and stays
    at ``max_momentum`` in the third phase). The last update, ``t =
    total_steps - 1``, uses exactly ``min_lr`` with ``"cos"`` (with ``"linear"``,
    ``(min_lr - start) * 1 + start`` may be an ulp of the start value off).
    ``t = total_steps`` is allowed, as in torch: it is the value after the last
    ``scheduler.step()``, never used for an update and extrapolated past the end
    (with ``"cos"`` it rises slightly above ``min_lr``, with ``"linear"`` it
    falls below and may be negative). Larger t raise ``ValueError``.

    Args:
        max_lr: the peak learning rate (>= 0).
        total_steps: the number of updates of the whole cycle (>= 1).
        pct_start: the fraction of steps spent warming up, in (0, 1)
            (at most 0.5 with ``three_phase``); ``pct_start * total_steps``
            must exceed 1 so that the warm-up lasts at least one step.
        anneal_strategy: ``"cos"`` or ``"linear"``.
        div_factor: ``initial_lr = max_lr / div_factor`` (> 0).
        final_div_factor: ``min_lr = initial_lr / final_div_factor`` (> 0).
        three_phase: add a symmetric descent back to ``initial_lr`` before
            annihilating the rate (the paper's version) instead of fastai's
            two phases.
        base_momentum: momentum at the peak of the rate, in [0, 1).
        max_momentum: momentum at the start and end, in [0, 1).

    Returns:
        A :class:`Schedule`; its ``.momentum`` is the opposite momentum cycle
        (for SGD's ``momentum`` or Adam's ``beta1``).

    Example:
        >>> sched = one_cycle(1.0, total_steps=6, pct_start=0.5, anneal_strategy="linear",
        ...                   div_factor=10.0, final_div_factor=10.0)
        >>> sched(range(6)).round(4)
        array([0.1 , 0.55, 1.  , 0.67, 0.34, 0.01])
        >>> sched.momentum(range(6)).round(4)
        array([0.95  , 0.9   , 0.85  , 0.8833, 0.9167, 0.95  ])

    Torch: ``OneCycleLR(opt, max_lr, total_steps, pct_start, anneal_strategy,
    cycle_momentum=True, base_momentum, max_momentum, div_factor,
    final_div_factor, three_phase)``, with the momentum it writes into the
    optimizer; equal to the last bit. Torch divides by zero when
    ``pct_start * total_steps == 1`` and, with ``three_phase`` and
    ``pct_start > 0.5``, never reaches its third phase; both are refused here.
    """
    max_lr = check_lr(max_lr, "max_lr")
    total_steps = check_int(total_steps, "total_steps", minimum=1)
    pct_start = check_positive(pct_start, "pct_start")
    pct_start = check_unit_interval(pct_start, "pct_start")
    anneal_strategy = check_choice(anneal_strategy, "anneal_strategy", ("cos", "linear"))
    div_factor = check_positive(div_factor, "div_factor")
    final_div_factor = check_positive(final_div_factor, "final_div_factor")
    base_momentum = check_unit_interval(base_momentum, "base_momentum")
    max_momentum = check_unit_interval(max_momentum, "max_momentum")
    three_phase = bool(three_phase)
    if not pct_start * total_steps > 1:
        raise ValueError(
            "pct_start * total_steps must be > 1 so that the warm-up lasts at least one step, "
            f"got pct_start={pct_start!r}, total_steps={total_steps!r}"
        )
    if three_phase and pct_start > 0.5:
        raise ValueError(
            "pct_start must be <= 0.5 with three_phase=True (the two first phases take "
            f"2 * pct_start of the steps), got pct_start={pct_start!r}"
        )

    initial_lr = max_lr / div_factor
    min_lr = initial_lr / final_div_factor
    # Same phase ends as torch, float rounding included (0.29 * 100 - 1 = 27.999999999999996).
    warm_end = float(pct_start * total_steps) - 1
    if three_phase:
        lr_phases = [
            (warm_end, initial_lr, max_lr),
            (float(2 * pct_start * total_steps) - 2, max_lr, initial_lr),
            (total_steps - 1, initial_lr, min_lr),
        ]
        momentum_phases = [
            (warm_end, max_momentum, base_momentum),
            (float(2 * pct_start * total_steps) - 2, base_momentum, max_momentum),
            (total_steps - 1, max_momentum, max_momentum),
        ]
    else:
        lr_phases = [(warm_end, initial_lr, max_lr), (total_steps - 1, max_lr, min_lr)]
        momentum_phases = [
            (warm_end, max_momentum, base_momentum),
            (total_steps - 1, base_momentum, max_momentum),
        ]
    anneal = _anneal_cos if anneal_strategy == "cos" else _anneal_linear

    def check_range(t: np.ndarray) -> None:
        if t.size and t.max() > total_steps:
            raise ValueError(
                f"t must be <= total_steps={total_steps} for this one_cycle schedule "
                f"(torch's OneCycleLR raises too), got t={_python_number(t.max())!r}"
            )

    def lr_fn(t: np.ndarray) -> np.ndarray:
        check_range(t)
        return _piecewise(t, lr_phases, anneal)

    def momentum_fn(t: np.ndarray) -> np.ndarray:
        check_range(t)
        return _piecewise(t, momentum_phases, anneal)

    args = {
        "max_lr": max_lr,
        "total_steps": total_steps,
        "pct_start": pct_start,
        "anneal_strategy": anneal_strategy,
        "div_factor": div_factor,
        "final_div_factor": final_div_factor,
        "three_phase": three_phase,
        "base_momentum": base_momentum,
        "max_momentum": max_momentum,
    }
    sched = Schedule(lr_fn, "one_cycle", args)
    sched.momentum = Schedule(momentum_fn, f"{sched!r}.momentum")
    return sched


def inverse_sqrt(peak_lr: float, warmup_steps: int) -> Schedule:
    """The Transformer schedule: linear warm-up to ``peak_lr``, then decay like 1/sqrt(t).

    Formula, with ``s = t + 1`` (the paper's step_num, 1 at the first update)
    and ``W = warmup_steps``::

        lr(t) = peak_lr * min(s / W, sqrt(W / s))

    The rate grows linearly, ``peak_lr * (t + 1) / W``, reaches ``peak_lr``
    at ``t = W - 1`` where the two branches meet (the curve is continuous),
    then falls as ``peak_lr * sqrt(W / (t + 1))``. Vaswani et al.'s
    ``d_model**-0.5 * min(s**-0.5, s * W**-1.5)`` is this schedule with
    ``peak_lr = (d_model * W)**-0.5``.

    Args:
        peak_lr: the largest rate, reached at ``t = warmup_steps - 1`` (>= 0).
        warmup_steps: the length of the linear warm-up (>= 1).

    Returns:
        A :class:`Schedule`.

    Example:
        >>> inverse_sqrt(1.0, warmup_steps=4)([0, 1, 2, 3, 15])
        array([0.25, 0.5 , 0.75, 1.  , 0.5 ])

    Torch: no class of its own; ``LambdaLR(opt, lambda t: min((t + 1) / W,
    math.sqrt(W / (t + 1))))`` with ``lr = peak_lr`` (equal to the last bit).
    """
    peak_lr = check_lr(peak_lr, "peak_lr")
    warmup_steps = check_int(warmup_steps, "warmup_steps", minimum=1)

    def fn(t: np.ndarray) -> np.ndarray:
        s = t + 1
        return peak_lr * np.minimum(s / warmup_steps, np.sqrt(warmup_steps / s))

    return Schedule(fn, "inverse_sqrt", {"peak_lr": peak_lr, "warmup_steps": warmup_steps})


# ---------------------------------------------------------------------------
# Composition
# ---------------------------------------------------------------------------


def warmup(
    schedule: Schedule | Callable[[Any], Any], warmup_steps: int, start_factor: float = 0.0
) -> Schedule:
    """Prepend a linear warm-up to ``schedule``, which then starts from its own step 0.

    Formula, with ``W = warmup_steps`` and ``peak = schedule(0)``::

        lr(t) = peak * (start_factor + (1 - start_factor) t / W)   if t < W
                schedule(t - W)                                    otherwise

    So ``warmup(cosine_annealing(0.1, T_max=90), 10)`` climbs from 0 to 0.1 in
    10 steps and then runs the whole 90-step cosine. With the default
    ``start_factor=0`` the first update uses a rate of exactly 0.

    Args:
        schedule: the schedule to run after the warm-up (a :class:`Schedule`,
            or any function of t that accepts arrays).
        warmup_steps: the length of the warm-up (>= 0; 0 returns the schedule unchanged).
        start_factor: the fraction of ``peak`` used at t = 0, in [0, 1].

    Returns:
        A :class:`Schedule`.

    Example:
        >>> sched = warmup(constant(0.1), warmup_steps=4)
        >>> sched
        warmup(schedule=constant(lr=0.1), warmup_steps=4, start_factor=0.0)
        >>> sched(range(6))
        array([0.   , 0.025, 0.05 , 0.075, 0.1  , 0.1  ])

    Torch: ``SequentialLR(opt, [LinearLR(opt, start_factor, 1.0, W), X],
    milestones=[W])`` when ``X``'s first rate is the optimizer's lr (torch
    needs ``start_factor > 0``), or ``LambdaLR`` with the formula above.
    """
    check_callable(schedule, "schedule")
    warmup_steps = check_int(warmup_steps, "warmup_steps", minimum=0)
    start_factor = check_probability(start_factor, "start_factor")

    def fn(t: np.ndarray) -> np.ndarray:
        out = np.empty(t.shape)
        ramp = t < warmup_steps
        if ramp.any():
            peak = _call_on(schedule, np.zeros(1))[0]
            out[ramp] = peak * (start_factor + (1 - start_factor) * t[ramp] / warmup_steps)
        if (~ramp).any():
            out[~ramp] = _call_on(schedule, t[~ramp] - warmup_steps)
        return out

    args = {"schedule": schedule, "warmup_steps": warmup_steps, "start_factor": start_factor}
    return Schedule(fn, "warmup", args)


def join(schedules: Sequence[Schedule], boundaries: Sequence[int]) -> Schedule:
    """Run schedules one after another; each stage restarts from its own step 0.

    Formula, with boundaries ``b_1 < b_2 < ... < b_{n-1}`` and ``b_0 = 0``::

        lr(t) = schedules[k](t - b_k)    for b_k <= t < b_{k+1}

    Args:
        schedules: the n stages (:class:`Schedule` objects, or functions of t
            that accept arrays).
        boundaries: the n - 1 steps (strictly increasing, >= 1) at which the
            next stage starts.

    Returns:
        A :class:`Schedule`.

    Example:
        >>> sched = join([linear_warmup(0.1, 0.5, 1.0, 2), step_decay(0.1, 2, 0.5)], [3])
        >>> sched(range(7))
        array([0.05 , 0.075, 0.1  , 0.1  , 0.1  , 0.05 , 0.05 ])

    Torch: ``SequentialLR(opt, schedulers, milestones=boundaries)`` when all
    stages start from the optimizer's lr; optax: ``join_schedules``.
    """
    if isinstance(schedules, Schedule) or not isinstance(schedules, Sequence) or not schedules:
        raise TypeError(
            f"schedules must be a non-empty list of schedules, got schedules={schedules!r}"
        )
    for i, sched in enumerate(schedules):
        check_callable(sched, f"schedules[{i}]")
    boundaries = check_increasing(boundaries, "boundaries", minimum=1)
    if len(boundaries) != len(schedules) - 1:
        raise ValueError(
            f"boundaries must have {len(schedules) - 1} entries, one fewer than the "
            f"{len(schedules)} schedules, got boundaries={boundaries!r}"
        )
    schedules = tuple(schedules)
    starts = (0, *boundaries)
    marks = np.asarray(boundaries, dtype=np.float64)

    def fn(t: np.ndarray) -> np.ndarray:
        stage = np.searchsorted(marks, t, side="right")
        out = np.empty(t.shape)
        for k, sched in enumerate(schedules):
            here = stage == k
            if here.any():
                out[here] = _call_on(sched, t[here] - starts[k])
        return out

    return Schedule(fn, "join", {"schedules": list(schedules), "boundaries": list(boundaries)})


# ---------------------------------------------------------------------------
# Reduce on plateau: a state machine driven by a metric
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class PlateauCut:
    """One reduction of the rate: at the call ``epoch`` (counted from 0) the rate went
    from ``old_lr`` to ``new_lr``, used from epoch ``epoch + 1`` on."""

    epoch: int
    old_lr: float
    new_lr: float


class ReduceLROnPlateau:
    """Cut the rate by ``factor`` when a metric has stopped improving for ``patience`` epochs.

    The rule, once per call of ``step(metric)`` (after each epoch)::

        improved = metric < best * (1 - threshold)   mode="min", threshold_mode="rel"
                   metric < best - threshold         mode="min", threshold_mode="abs"
                   metric > best * (1 + threshold)   mode="max", threshold_mode="rel"
                   metric > best + threshold         mode="max", threshold_mode="abs"
        if improved: best = metric; bad = 0   else: bad = bad + 1
        if cooling down: cooldown_counter -= 1; bad = 0     (bad epochs are ignored)
        if bad > patience:
            new = max(lr * factor, min_lr)
            if lr - new > eps: lr = new                      (tiny cuts are skipped)
            cooldown_counter = cooldown; bad = 0

    ``best`` starts at +inf (``"min"``) or -inf (``"max"``), so the first
    metric always counts as an improvement.

    Args:
        lr: the initial learning rate (>= 0).
        mode: ``"min"`` (lower metric is better, e.g. a loss) or ``"max"`` (accuracy).
        factor: the multiplier of a cut, in [0, 1).
        patience: how many epochs without improvement are tolerated (>= 0).
        threshold: the least improvement that counts (>= 0), relative or absolute.
        threshold_mode: ``"rel"`` or ``"abs"``.
        cooldown: epochs after a cut during which bad epochs are not counted (>= 0).
        min_lr: the rate is never cut below this (>= 0).
        eps: a cut smaller than this is skipped (>= 0).

    Attributes:
        lr: the rate to use for the next epoch.
        best: the best metric seen so far.
        num_bad_epochs: epochs since the last improvement (reset by cuts and cooldown).
        cooldown_counter: epochs of cooldown still to go.
        last_epoch: how many times ``step`` has been called.
        history: the cuts made, as :class:`PlateauCut` records.

    Example:
        >>> plateau = ReduceLROnPlateau(0.1, factor=0.5, patience=1)
        >>> [plateau.step(loss) for loss in [1.0, 0.5, 0.6, 0.7, 0.4]]
        [0.1, 0.1, 0.1, 0.05, 0.05]
        >>> plateau.history
        [PlateauCut(epoch=3, old_lr=0.1, new_lr=0.05)]

    Torch: ``ReduceLROnPlateau(opt, mode, factor, patience, threshold,
    threshold_mode, cooldown, min_lr, eps)``; ``step`` returns the optimizer's
    lr after torch's ``scheduler.step(metric)``, equal to the last bit.
    """

    def __init__(
        self,
        lr: float,
        mode: str = "min",
        factor: float = 0.1,
        patience: int = 10,
        threshold: float = 1e-4,
        threshold_mode: str = "rel",
        cooldown: int = 0,
        min_lr: float = 0.0,
        eps: float = 1e-8,
    ) -> None:
        self.initial_lr = check_lr(lr)
        self.mode = check_choice(mode, "mode", ("min", "max"))
        self.factor = check_unit_interval(factor, "factor")
        self.patience = check_int(patience, "patience", minimum=0)
        self.threshold = check_nonnegative(threshold, "threshold")
        self.threshold_mode = check_choice(threshold_mode, "threshold_mode", ("rel", "abs"))
        self.cooldown = check_int(cooldown, "cooldown", minimum=0)
        self.min_lr = check_lr(min_lr, "min_lr")
        self.eps = check_nonnegative(eps, "eps")
        self.lr = self.initial_lr
        self.best = math.inf if self.mode == "min" else -math.inf
        self.num_bad_epochs = 0
        self.cooldown_counter = 0
        self.last_epoch = 0
        self.history: list[PlateauCut] = []

    def is_better(self, metric: float, best: float) -> bool:
        """Whether ``metric`` improves on ``best`` by more than the threshold."""
        if self.mode == "min" and self.threshold_mode == "rel":
            return metric < best * (1.0 - self.threshold)
        if self.mode == "min":
            return metric < best - self.threshold
        if self.threshold_mode == "rel":
            return metric > best * (self.threshold + 1.0)
        return metric > best + self.threshold

    def step(self, metric: float) -> float:
        """Record one epoch's metric; return the rate to use for the next epoch."""
        try:
            current = float(metric)
        except (TypeError, ValueError):
            raise TypeError(f"metric must be a real number, got metric={metric!r}") from None
        epoch = self.last_epoch
        self.last_epoch += 1
        if self.is_better(current, self.best):
            self.best = current
            self.num_bad_epochs = 0
        else:
            self.num_bad_epochs += 1
        if self.cooldown_counter > 0:
            self.cooldown_counter -= 1
            self.num_bad_epochs = 0
        if self.num_bad_epochs > self.patience:
            new_lr = max(self.lr * self.factor, self.min_lr)
            if self.lr - new_lr > self.eps:
                self.history.append(PlateauCut(epoch, self.lr, new_lr))
                self.lr = new_lr
            # As in torch, the cooldown starts even when the cut was too small to apply.
            self.cooldown_counter = self.cooldown
            self.num_bad_epochs = 0
        return self.lr

    def __repr__(self) -> str:
        return (
            f"ReduceLROnPlateau(lr={self.initial_lr!r}, mode={self.mode!r}, "
            f"factor={self.factor!r}, patience={self.patience!r}, "
            f"threshold={self.threshold!r}, threshold_mode={self.threshold_mode!r}, "
            f"cooldown={self.cooldown!r}, min_lr={self.min_lr!r}, eps={self.eps!r})"
        )
