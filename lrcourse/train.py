"""A training loop that records what happened, stops when training diverges, and the LR range test.

An *objective* is anything with

- ``params``: a list of NumPy arrays, updated in place by the optimizer, and
- ``loss_and_grads(rng) -> (loss, grads)``: the loss at the current parameters and one gradient
  per parameter (``rng`` is a ``np.random.Generator``, for mini-batches or gradient noise),
- optionally ``val_loss() -> float``: the loss on held-out data.

:func:`landscape_objective` and :func:`supervised_objective` build one from a landscape of
:mod:`lrcourse.problems` or from a network of :mod:`lrcourse.nn`. :func:`train` runs an
optimizer of :mod:`lrcourse.optimizers` on it and returns a :class:`History`; :func:`lr_find`
runs the LR range test and puts everything back as it found it.

Step counting: ``t`` (or ``k``) is the number of updates done so far. ``History.loss[k]`` is the
loss at the parameters after ``k`` updates, so a run of ``steps`` updates records ``steps + 1``
losses, and ``History.lr[t]`` is the rate used by update ``t`` (``t = 0`` first), the same
convention as the schedules of :mod:`lrcourse.schedules` and as :func:`lrcourse.sweeps.sweep`.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from ._validate import (
    check_choice,
    check_finite_array,
    check_int,
    check_nonnegative,
    check_positive,
    check_unit_interval,
)

__all__ = [
    "DIVERGENCE_FACTOR",
    "DIVERGENCE_FLOOR",
    "Callback",
    "DivergenceWarning",
    "EarlyStopping",
    "History",
    "LRFinderResult",
    "Objective",
    "PlateauLR",
    "has_diverged",
    "landscape_objective",
    "lr_find",
    "suggest_min_div_10",
    "suggest_steepest",
    "suggest_valley",
    "supervised_objective",
    "train",
]

DIVERGENCE_FACTOR = 1e4
"""Default ``divergence_factor``: a loss 10,000 times its best so far counts as an explosion."""

DIVERGENCE_FLOOR = 1e-3
"""Default ``divergence_floor``: a smaller best loss counts as this size (see has_diverged)."""


class DivergenceWarning(RuntimeWarning):
    """Training diverged: a loss or gradient went non-finite, or the loss exploded."""


# ---------------------------------------------------------------------------------------------
# Protocols


class Objective(Protocol):
    """What :func:`train` and :func:`lr_find` optimise (a structural type: no base class needed)."""

    params: list[np.ndarray]

    def loss_and_grads(self, rng: np.random.Generator) -> tuple[float, list[np.ndarray]]: ...


class Callback(Protocol):
    """Called by :func:`train` once per recorded loss; return True to stop training."""

    def __call__(self, t: int, loss: float, history: History) -> bool | None: ...


# ---------------------------------------------------------------------------------------------
# History


@dataclass(eq=False)
class History:
    """What a call of :func:`train` recorded, step by step.

    Attributes:
        loss: ``loss[k]`` is the loss after ``k`` updates; ``steps + 1`` values for a full run.
            For a mini-batch objective it is the loss of the batch used by update ``k``.
        lr: ``lr[t]`` is the rate used by update ``t`` (the largest over the param groups).
        val_loss: validation losses, or None when none were measured.
        val_steps: the number of updates done when each ``val_loss`` was measured.
        path: ``path[k]`` is the parameters after ``k`` updates, all arrays flattened and
            concatenated (for a landscape objective: the point x), or None.
        momentum: ``momentum[t]`` set by a momentum schedule for update ``t``, or None.
        diverged: whether training stopped because it diverged.
        diverged_at: the step ``k`` whose loss (or gradient) tripped the detector, else None.
        reason: why training stopped before its last step (divergence or a callback), else None.

    Example:
        >>> h = History(loss=np.array([4.0, 1.0, 0.25]), lr=np.array([0.5, 0.5]))
        >>> h.final_loss, h.steps_to(1.0), h.steps_to(0.1)
        (0.25, 1, None)
    """

    loss: np.ndarray
    lr: np.ndarray
    val_loss: np.ndarray | None = None
    val_steps: np.ndarray | None = None
    path: np.ndarray | None = None
    momentum: np.ndarray | None = None
    diverged: bool = False
    diverged_at: int | None = None
    reason: str | None = None

    @property
    def final_loss(self) -> float:
        """The last recorded loss; NaN when training diverged (as in SweepResult.final_loss)."""
        if self.diverged or len(self.loss) == 0:
            return math.nan
        return float(self.loss[-1])

    def steps_to(self, target: float) -> int | None:
        """The first step k with ``loss[k] <= target`` (updates needed), or None if never."""
        hits = np.flatnonzero(self.loss <= target)
        return int(hits[0]) if hits.size else None


class _Recorder:
    """Fills a History in place as training runs, so that callbacks can read it at every step."""

    def __init__(self, steps: int, n_path: int | None, val_every: int | None, momentum: bool):
        self._loss = np.full(steps + 1, np.nan)
        self._lr = np.full(steps, np.nan)
        self._path = None if n_path is None else np.full((steps + 1, n_path), np.nan)
        self._momentum = np.full(steps, np.nan) if momentum else None
        n_val = 0 if val_every is None else steps // val_every + 1
        self._val = np.full(n_val, np.nan)
        self._val_steps = np.zeros(n_val, dtype=int)
        self._n_val = 0
        self.history = History(loss=self._loss[:0], lr=self._lr[:0])
        if val_every is not None:
            self.history.val_loss, self.history.val_steps = self._val[:0], self._val_steps[:0]

    def point(self, k: int, loss: float, params: Sequence[np.ndarray]) -> None:
        self._loss[k] = loss
        self.history.loss = self._loss[: k + 1]
        if self._path is not None:
            self._path[k] = np.concatenate([np.ravel(p) for p in params])
            self.history.path = self._path[: k + 1]

    def update(self, t: int, lr: float, momentum: float | None) -> None:
        self._lr[t] = lr
        self.history.lr = self._lr[: t + 1]
        if self._momentum is not None:
            self._momentum[t] = momentum
            self.history.momentum = self._momentum[: t + 1]

    def validation(self, k: int, val_loss: float) -> None:
        i = self._n_val
        self._val[i], self._val_steps[i] = val_loss, k
        self._n_val += 1
        self.history.val_loss, self.history.val_steps = self._val[: i + 1], self._val_steps[: i + 1]

    def finish(self) -> History:
        """Copy the filled parts, so the history does not keep the unused buffers alive."""
        h = self.history
        for name in ("loss", "lr", "val_loss", "val_steps", "path", "momentum"):
            value = getattr(h, name)
            if value is not None:
                setattr(h, name, value.copy())
        return h


# ---------------------------------------------------------------------------------------------
# Divergence


def has_diverged(
    loss: Any,
    best: Any,
    factor: float | None = DIVERGENCE_FACTOR,
    floor: float = DIVERGENCE_FLOOR,
) -> Any:
    """Whether a loss shows divergence: it is not finite, or it exploded above the best so far.

    The rule (elementwise, so sweeps use it on many runs at once)::

        diverged = not isfinite(loss)  or  loss - best > (factor - 1) * max(|best|, floor)

    For a positive best loss above ``floor`` this reads ``loss > factor * best``. The floor keeps
    tiny losses from tripping it (a best of 1e-20 followed by 1e-15 is noise, not divergence),
    and ``|best|`` keeps the rule meaningful for losses that can be negative. ``factor=None``
    checks finiteness only.

    Args:
        loss: the new loss (a number or an array).
        best: the smallest loss so far (same shape, or broadcastable).
        factor: how many times the best loss counts as an explosion (> 1), or None.
        floor: the smallest loss scale that counts (>= 0).

    Returns:
        A bool, or a bool array of the broadcast shape.

    Example:
        >>> has_diverged(2e4, 1.0), has_diverged(5e3, 1.0), has_diverged(1e-15, 1e-20)
        (True, False, False)
        >>> has_diverged(np.array([np.nan, np.inf, 3.0]), 1.0)
        array([ True,  True, False])
    """
    loss = np.asarray(loss, dtype=float)
    with np.errstate(all="ignore"):
        bad = ~np.isfinite(loss)
        if factor is not None:
            bad |= loss - best > (factor - 1.0) * np.maximum(np.abs(best), floor)
    return bad if bad.ndim else bool(bad)


def _divergence_reason(
    loss: float, best: float, grads: Sequence[np.ndarray], factor: float | None, floor: float
) -> str | None:
    if not math.isfinite(loss):
        return f"the loss is not finite (loss={loss})"
    if has_diverged(loss, best, factor, floor):
        threshold = best + (factor - 1.0) * max(abs(best), floor)
        return (
            f"the loss exploded: loss={loss:.4g} is above {threshold:.4g}, the limit for "
            f"divergence_factor={factor:g} times the best loss {best:.4g}"
        )
    if not all(np.isfinite(g).all() for g in grads):
        return "a gradient is not finite"
    return None


# ---------------------------------------------------------------------------------------------
# Objectives


class _LandscapeObjective:
    def __init__(self, landscape: Any, x0: Any, grad_noise: float):
        self.landscape = landscape
        self.grad_noise = grad_noise
        self.params = [x0]

    def loss_and_grads(self, rng: np.random.Generator | None = None) -> tuple[float, list]:
        x = self.params[0]
        grad = np.asarray(self.landscape.grad(x), dtype=float)
        if self.grad_noise > 0:
            if rng is None:
                raise ValueError("rng must be a np.random.Generator when grad_noise > 0, got None")
            grad = grad + self.grad_noise * rng.standard_normal(grad.shape)
        return float(self.landscape.loss(x)), [grad]

    def __repr__(self) -> str:
        noise = f", grad_noise={self.grad_noise:g}" if self.grad_noise else ""
        return f"landscape_objective({self.landscape!r}, x0={self.params[0].tolist()}{noise})"


def landscape_objective(landscape: Any, x0: Any = None, grad_noise: float = 0.0) -> Objective:
    """Turn a landscape of :mod:`lrcourse.problems` into an objective with one parameter, x.

    ``params = [x]`` with x of shape ``(landscape.dim,)`` (a copy of ``x0``); the optimizer moves
    it in place and ``History.path`` records it. With ``grad_noise = σ > 0`` the gradient is
    ``∇L(x) + σ ξ`` with ``ξ ~ N(0, I)`` drawn from the training rng: noisy SGD on a landscape.

    Args:
        landscape: an object with ``loss(x)``, ``grad(x)`` and ``dim`` (and ``x0``).
        x0: the starting point (``dim`` numbers; a scalar for a 1-D landscape);
            None starts at ``landscape.x0``.
        grad_noise: standard deviation σ of the gradient noise (>= 0).

    Returns:
        An objective with ``params``, ``loss_and_grads(rng)`` and ``landscape``.

    Example:
        >>> from lrcourse.problems import Parabola
        >>> obj = landscape_objective(Parabola(curvature=2.0), x0=1.0)
        >>> obj.params, obj.loss_and_grads(None)
        ([array([1.])], (1.0, [array([2.])]))
    """
    for name in ("loss", "grad", "dim"):
        if not hasattr(landscape, name):
            raise TypeError(
                f"landscape must have loss(x), grad(x) and dim, got landscape={landscape!r} "
                f"without {name!r}"
            )
    if x0 is None:
        x0 = getattr(landscape, "x0", None)
        if x0 is None:
            raise ValueError(
                f"x0 is needed: landscape={landscape!r} has no default x0, got x0=None"
            )
    x = np.array(x0, dtype=float)
    if x.size != landscape.dim or x.ndim > 1:
        raise ValueError(
            f"x0 must hold landscape.dim={landscape.dim} numbers, got x0 of shape {x.shape}"
        )
    check_finite_array(x, "x0")
    grad_noise = check_nonnegative(grad_noise, "grad_noise")
    return _LandscapeObjective(landscape, x.reshape(landscape.dim), grad_noise)


class _SupervisedObjective:
    def __init__(self, model, X, y, batch_size, seed, X_val, y_val, loss):
        self.model, self.X, self.y = model, X, y
        self.batch_size, self.loss = batch_size, loss
        self.X_val, self.y_val = X_val, y_val
        self.rng = np.random.default_rng(seed)
        self.params = model.params

    def loss_and_grads(self, rng: np.random.Generator | None = None) -> tuple[float, list]:
        n = len(self.X)
        if self.batch_size is None or self.batch_size >= n:
            X, y = self.X, self.y
        else:
            idx = (self.rng if rng is None else rng).choice(n, size=self.batch_size, replace=False)
            X, y = self.X[idx], self.y[idx]
        loss, grads = self.model.loss_and_grads(X, y, loss=self.loss)
        return float(loss), list(grads)

    def val_loss(self) -> float | None:
        if self.X_val is None:
            return None
        loss, _ = self.model.loss_and_grads(self.X_val, self.y_val, loss=self.loss)
        return float(loss)

    def __repr__(self) -> str:
        val = "" if self.X_val is None else f", n_val={len(self.X_val)}"
        return (
            f"supervised_objective({self.model!r}, n={len(self.X)}, "
            f"batch_size={self.batch_size}{val}, loss={self.loss!r})"
        )


def supervised_objective(
    model: Any,
    X: np.ndarray,
    y: np.ndarray,
    batch_size: int | None = None,
    seed: int = 0,
    X_val: np.ndarray | None = None,
    y_val: np.ndarray | None = None,
    loss: str = "cross_entropy",
) -> Objective:
    """Turn a network of :mod:`lrcourse.nn` and a data set into an objective.

    Each call of ``loss_and_grads(rng)`` draws a mini-batch of ``batch_size`` distinct rows
    uniformly at random (independently from call to call, i.e. ``rng.choice(n, batch_size,
    replace=False)``) and returns ``model.loss_and_grads(X[idx], y[idx], loss=loss)``; with
    ``batch_size=None`` every call uses the whole set (full-batch gradient descent).
    :func:`train` passes its own seeded generator, so a run is reproducible from ``train``'s
    ``seed``; ``seed`` here seeds the generator used when you call ``loss_and_grads()`` yourself.
    ``val_loss()`` is the loss on ``(X_val, y_val)``, or None without a validation set.

    Args:
        model: an object with ``params`` and ``loss_and_grads(X, y, loss=...)`` (e.g. an MLP).
        X, y: the training set (same number of rows).
        batch_size: rows per mini-batch (>= 1), or None for the full batch.
        seed: seed of the objective's own generator.
        X_val, y_val: an optional validation set (both or neither).
        loss: "cross_entropy" or "mse".

    Returns:
        An objective whose ``params`` are the model's own arrays.

    Example:
        >>> from lrcourse.nn import MLP
        >>> X, y = np.eye(4), np.array([0, 1, 0, 1])
        >>> obj = supervised_objective(MLP([4, 2], seed=0), X, y, batch_size=2)
        >>> loss, grads = obj.loss_and_grads(np.random.default_rng(0))
        >>> [g.shape for g in grads]
        [(4, 2), (2,)]
    """
    if not hasattr(model, "params") or not callable(getattr(model, "loss_and_grads", None)):
        raise TypeError(
            f"model must have params and loss_and_grads(X, y, loss=...), got model={model!r}"
        )
    X, y = np.asarray(X), np.asarray(y)
    if len(X) != len(y):
        raise ValueError(f"y must have one entry per row of X ({len(X)}), got y of length {len(y)}")
    if len(X) == 0:
        raise ValueError("X must hold at least one row, got an empty X")
    if batch_size is not None:
        check_int(batch_size, "batch_size", minimum=1)
    check_choice(loss, "loss", ("cross_entropy", "mse"))
    if (X_val is None) != (y_val is None):
        raise ValueError(
            f"X_val and y_val must be given together, got X_val={_brief(X_val)} and "
            f"y_val={_brief(y_val)}"
        )
    if X_val is not None:
        X_val, y_val = np.asarray(X_val), np.asarray(y_val)
        if len(X_val) != len(y_val):
            raise ValueError(
                f"y_val must have one entry per row of X_val ({len(X_val)}), "
                f"got y_val of length {len(y_val)}"
            )
    return _SupervisedObjective(model, X, y, batch_size, seed, X_val, y_val, loss)


def _brief(a: Any) -> str:
    return "None" if a is None else f"an array of shape {np.shape(a)}"


def _check_objective(objective: Any) -> None:
    if not hasattr(objective, "params") or not callable(getattr(objective, "loss_and_grads", None)):
        raise TypeError(
            f"objective must have params and loss_and_grads(rng), got objective={objective!r}"
        )


def _check_optimizer(optimizer: Any) -> None:
    if not hasattr(optimizer, "param_groups") or not callable(getattr(optimizer, "step", None)):
        raise TypeError(
            f"optimizer must have param_groups and step(grads) (e.g. lrcourse.optimizers.SGD), "
            f"got optimizer={optimizer!r}"
        )


# ---------------------------------------------------------------------------------------------
# Setting the rate (and momentum) of the param groups


def _gradient_order(optimizer: Any, objective: Any) -> list[int] | None:
    """Where each of the optimizer's parameters sits in ``objective.params``.

    An optimizer's param groups may list the model's arrays in another order, or
    leave some out (frozen layers); gradients must follow the optimizer's order.
    Returns None when the two orders are the same.
    """
    position = {id(p): i for i, p in enumerate(objective.params)}
    order = []
    for group in optimizer.param_groups:
        for param in group["params"]:
            if id(param) not in position:
                raise ValueError(
                    "optimizer has a parameter that is not one of objective.params (build the "
                    "optimizer over the model's own arrays, not copies)"
                )
            order.append(position[id(param)])
    return None if order == list(range(len(objective.params))) else order


def _in_order(grads: Sequence[Any], order: list[int] | None) -> Sequence[Any]:
    return grads if order is None else [grads[i] for i in order]


def _group_ratios(optimizer: Any) -> list[float]:
    """Each group's rate relative to the largest: what a schedule must keep."""
    rates = [float(group["lr"]) for group in optimizer.param_groups]
    top = max(rates)
    return [rate / top if top > 0 else 1.0 for rate in rates]


def _set_lr(optimizer: Any, lr: float, ratios: Sequence[float]) -> None:
    for group, ratio in zip(optimizer.param_groups, ratios, strict=True):
        group["lr"] = lr * ratio


def _momentum_key(optimizer: Any) -> str | None:
    """Which hyperparameter a momentum schedule drives: SGD/RMSprop "momentum", Adam "betas"."""
    group = optimizer.param_groups[0]
    return "betas" if "betas" in group else "momentum" if "momentum" in group else None


def _set_momentum(optimizer: Any, key: str, value: float) -> None:
    for group in optimizer.param_groups:
        group[key] = (value, group["betas"][1]) if key == "betas" else value


def _scheduled(schedule: Callable[[int], float], t: int, name: str) -> float:
    value = schedule(t)
    try:
        value = float(value)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must return a number, got {name}({t})={value!r}") from None
    if not math.isfinite(value) or value < 0:
        raise ValueError(f"{name} must return a finite number >= 0, got {name}({t})={value!r}")
    return value


# ---------------------------------------------------------------------------------------------
# Callbacks


class EarlyStopping:
    """Stop training when a monitored loss has not improved for ``patience`` evaluations.

    An evaluation improves when ``value < best - min_delta``. With ``monitor="val_loss"`` the
    callback acts only at the steps where :func:`train` measured a validation loss (``val_every``);
    with ``monitor="loss"`` at every step. The state resets at step 0, so one instance can serve
    several runs. After a run, ``best`` and ``best_step`` tell where the monitored loss was best.

    Example:
        >>> stop = EarlyStopping(patience=2, monitor="loss")
        >>> h = History(loss=np.array([]), lr=np.array([]))
        >>> [stop(t, loss, h) for t, loss in enumerate([3.0, 2.0, 2.5, 2.1])]
        [False, False, False, True]
        >>> stop.best, stop.best_step
        (2.0, 1)
    """

    def __init__(self, patience: int = 10, min_delta: float = 0.0, monitor: str = "val_loss"):
        self.patience = check_int(patience, "patience", minimum=1)
        self.min_delta = check_nonnegative(min_delta, "min_delta")
        self.monitor = check_choice(monitor, "monitor", ("val_loss", "loss"))
        self._reset()

    def _reset(self) -> None:
        self.best, self.best_step, self.bad_evaluations = math.inf, None, 0

    def __call__(self, t: int, loss: float, history: History) -> bool:
        if t == 0:
            self._reset()
        value = _monitored(self.monitor, t, loss, history)
        if value is None:
            return False
        if value < self.best - self.min_delta:
            self.best, self.best_step, self.bad_evaluations = value, t, 0
            return False
        self.bad_evaluations += 1
        return self.bad_evaluations >= self.patience

    def __repr__(self) -> str:
        return (
            f"EarlyStopping(patience={self.patience}, min_delta={self.min_delta:g}, "
            f"monitor={self.monitor!r})"
        )


class PlateauLR:
    """Feed a monitored loss to a ReduceLROnPlateau and set the optimizer's rate from it.

    At each new value of the monitored loss, ``lr = plateau.step(value)`` becomes the rate of the
    optimizer's largest param group, the others keeping their ratio to it (as with a schedule in
    :func:`train`, which must then be None). Never stops training.

    Args:
        plateau: a :class:`lrcourse.schedules.ReduceLROnPlateau` (anything with ``step(metric)``).
        optimizer: the optimizer being trained.
        monitor: "val_loss" (at the steps it is measured) or "loss" (every step).
    """

    def __init__(self, plateau: Any, optimizer: Any, monitor: str = "val_loss"):
        if not callable(getattr(plateau, "step", None)):
            raise TypeError(f"plateau must have step(metric), got plateau={plateau!r}")
        _check_optimizer(optimizer)
        self.plateau, self.optimizer = plateau, optimizer
        self.monitor = check_choice(monitor, "monitor", ("val_loss", "loss"))
        self._ratios = _group_ratios(optimizer)

    def __call__(self, t: int, loss: float, history: History) -> bool:
        value = _monitored(self.monitor, t, loss, history)
        if value is not None:
            _set_lr(self.optimizer, float(self.plateau.step(value)), self._ratios)
        return False

    def __repr__(self) -> str:
        return f"PlateauLR({self.plateau!r}, monitor={self.monitor!r})"


def _monitored(monitor: str, t: int, loss: float, history: History) -> float | None:
    if monitor == "loss":
        return loss
    if history.val_steps is not None and len(history.val_steps) and history.val_steps[-1] == t:
        return float(history.val_loss[-1])
    return None


# ---------------------------------------------------------------------------------------------
# train


def train(
    objective: Objective,
    optimizer: Any,
    steps: int,
    schedule: Callable[[int], float] | None = None,
    momentum_schedule: Callable[[int], float] | None = None,
    callbacks: Sequence[Callback] = (),
    record_path: bool = False,
    val_every: int | None = None,
    divergence_factor: float | None = DIVERGENCE_FACTOR,
    divergence_floor: float = DIVERGENCE_FLOOR,
    seed: int = 0,
    warn: bool = True,
) -> History:
    """Run ``steps`` updates of ``optimizer`` on ``objective``; stop early if training diverges.

    The loop, with ``t`` the number of updates done so far::

        for t = 0, 1, ..., steps:
            L_t, g_t = objective.loss_and_grads(rng)           # at the current parameters
            record L_t (and the parameters, if record_path)
            if L_t or g_t diverges: mark the history, warn once, stop
            if t % val_every == 0: record objective.val_loss()
            if any callback(t, L_t, history) returns True: stop
            if t == steps: stop
            lr_t = schedule(t)  → every param group: lr_t · (its lr / the largest lr at the start)
            β_t = momentum_schedule(t)  → "momentum" (SGD, RMSprop) or betas[0] (Adam family)
            optimizer.step(g_t)                                 # update t

    Differential rates: the schedule sets the rate of the group with the largest rate when
    ``train`` is called, and every group keeps its ratio to it (a frozen group at lr 0 stays
    frozen; if every group starts at 0 they all follow the schedule). ``History.lr`` records the
    largest group's rate, i.e. exactly ``schedule(t)``. Without a schedule the rates are left
    as they are (a :class:`PlateauLR` callback may change them). For a one-cycle or cyclical
    schedule, pass ``momentum_schedule=schedule.momentum`` to cycle momentum as torch does.

    Divergence: at the first step whose loss is not finite, or exploded
    (``loss - best > (divergence_factor - 1) · max(|best|, divergence_floor)``, see
    :func:`has_diverged`; best = smallest loss so far), or whose gradient is not finite, training
    stops without applying that update. The history keeps everything up to and including that
    step, with ``diverged=True``, ``diverged_at`` and ``reason``, and one
    :class:`DivergenceWarning` names the step and the rate. All the numerics run under
    ``np.errstate(all="ignore")``: no NumPy overflow or invalid-value warnings leak.

    Args:
        objective: see :class:`Objective` (``landscape_objective``, ``supervised_objective``).
        optimizer: a stateful optimizer of :mod:`lrcourse.optimizers` over ``objective.params``.
        steps: number of updates (>= 0).
        schedule: ``t -> lr`` (e.g. from :mod:`lrcourse.schedules`), or None.
        momentum_schedule: ``t -> momentum`` (e.g. ``one_cycle(...).momentum``), or None.
        callbacks: functions ``(t, loss, history) -> bool | None``; True stops training.
        record_path: record the parameters at every step in ``History.path``.
        val_every: measure ``objective.val_loss()`` every that many steps (>= 1), from step 0.
        divergence_factor: the explosion factor (> 1), or None to check finiteness only.
        divergence_floor: the loss scale below which a best loss stops shrinking the limit (>= 0).
        seed: seed of the generator passed to ``objective.loss_and_grads``.
        warn: emit the DivergenceWarning (the history is marked either way).

    Returns:
        A :class:`History`.

    Example:
        >>> from lrcourse.optimizers import SGD
        >>> from lrcourse.problems import Parabola
        >>> obj = landscape_objective(Parabola(curvature=1.0), x0=1.0)
        >>> h = train(obj, SGD(obj.params, lr=0.5), steps=3, record_path=True)
        >>> print(h.loss, h.path.ravel(), h.lr)
        [0.5       0.125     0.03125   0.0078125] [1.    0.5   0.25  0.125] [0.5 0.5 0.5]

        Above α = 2/λ the error grows by |1 - αλ| = 2 per step, the loss by 4:

        >>> obj = landscape_objective(Parabola(curvature=1.0), x0=1.0)
        >>> with warnings.catch_warnings(record=True) as caught:
        ...     warnings.simplefilter("always")
        ...     h = train(obj, SGD(obj.params, lr=3.0), steps=100)
        >>> h.diverged, h.diverged_at, len(h.loss), [w.category.__name__ for w in caught]
        (True, 7, 8, ['DivergenceWarning'])
    """
    _check_objective(objective)
    _check_optimizer(optimizer)
    steps = check_int(steps, "steps", minimum=0)
    for name, value in (("schedule", schedule), ("momentum_schedule", momentum_schedule)):
        if value is not None and not callable(value):
            raise TypeError(f"{name} must be a function of the step t, got {name}={value!r}")
    callbacks = tuple(callbacks)
    for callback in callbacks:
        if not callable(callback):
            raise TypeError(
                f"callbacks must be functions (t, loss, history) -> bool, got {callback!r} "
                f"in callbacks"
            )
        if isinstance(callback, PlateauLR) and schedule is not None:
            raise ValueError(
                "callbacks must not hold a PlateauLR when a schedule is given (the schedule "
                f"would overwrite its rates), got schedule={schedule!r}"
            )
    if val_every is not None:
        check_int(val_every, "val_every", minimum=1)
    if divergence_factor is not None:
        check_positive(divergence_factor, "divergence_factor")
        if divergence_factor <= 1:
            raise ValueError(
                f"divergence_factor must be a number > 1 (or None), "
                f"got divergence_factor={divergence_factor!r}"
            )
    divergence_floor = check_nonnegative(divergence_floor, "divergence_floor")
    momentum_key = None
    if momentum_schedule is not None:
        momentum_key = _momentum_key(optimizer)
        if momentum_key is None:
            raise ValueError(
                f"momentum_schedule needs an optimizer with a 'momentum' or 'betas' "
                f"hyperparameter, got optimizer={optimizer!r}"
            )

    rng = np.random.default_rng(seed)
    ratios = _group_ratios(optimizer)
    order = _gradient_order(optimizer, objective)
    n_path = sum(np.size(p) for p in objective.params) if record_path else None
    recorder = _Recorder(steps, n_path, val_every, momentum_schedule is not None)
    history = recorder.history
    best = math.inf
    with np.errstate(all="ignore"):
        for t in range(steps + 1):
            loss, grads = objective.loss_and_grads(rng)
            loss = float(loss)
            recorder.point(t, loss, objective.params)
            reason = _divergence_reason(loss, best, grads, divergence_factor, divergence_floor)
            if reason is not None:
                _mark_diverged(history, t, reason, optimizer, warn)
                break
            best = min(best, loss)
            if val_every is not None and t % val_every == 0:
                val_loss = objective.val_loss() if hasattr(objective, "val_loss") else None
                if val_loss is None:
                    raise ValueError(
                        f"val_every needs an objective with a validation loss, got "
                        f"val_every={val_every} and objective={objective!r}"
                    )
                recorder.validation(t, float(val_loss))
            stopper = next((c for c in callbacks if c(t, loss, history)), None)
            if stopper is not None and t < steps:
                history.reason = f"stopped by the callback {stopper!r} at step {t}"
                break
            if t == steps:
                break
            if schedule is not None:
                _set_lr(optimizer, _scheduled(schedule, t, "schedule"), ratios)
            momentum = None
            if momentum_schedule is not None:
                momentum = _scheduled(momentum_schedule, t, "momentum_schedule")
                _set_momentum(optimizer, momentum_key, momentum)
            recorder.update(t, max(g["lr"] for g in optimizer.param_groups), momentum)
            optimizer.step(_in_order(grads, order))
    return recorder.finish()


def _mark_diverged(history: History, t: int, reason: str, optimizer: Any, warn: bool) -> None:
    history.diverged, history.diverged_at, history.reason = True, t, reason
    if not warn:
        return
    if t > 0:
        lr = f"update {t - 1} used lr={history.lr[-1]:g}"
    else:
        lr = f"before any update, lr={max(g['lr'] for g in optimizer.param_groups):g}"
    warnings.warn(
        f"training diverged at step {t} ({lr}): {reason}; the history is kept up to step {t}",
        DivergenceWarning,
        stacklevel=3,
    )


# ---------------------------------------------------------------------------------------------
# The LR range test


@dataclass(eq=False)
class LRFinderResult:
    """What :func:`lr_find` measured.

    Attributes:
        lrs: the rates tried, in increasing order.
        losses: ``losses[i]`` is the loss after the update made with ``lrs[i]``.
        smoothed: the bias-corrected moving average of ``losses``.
        suggestions: {"steepest": ..., "min_div_10": ..., "valley": ...} (NaN when undefined).
        stopped_early: whether the test stopped on divergence before ``end_lr``.
    """

    lrs: np.ndarray
    losses: np.ndarray
    smoothed: np.ndarray
    suggestions: dict[str, float] = field(default_factory=dict)
    stopped_early: bool = False


def _check_curve(lrs: Any, smoothed: Any, minimum: int) -> tuple[np.ndarray, np.ndarray]:
    lrs, smoothed = np.asarray(lrs, dtype=float), np.asarray(smoothed, dtype=float)
    if lrs.ndim != 1 or len(lrs) < minimum:
        raise ValueError(
            f"lrs must be a 1-D array of at least {minimum} rates, got lrs of shape {lrs.shape}"
        )
    if smoothed.shape != lrs.shape:
        raise ValueError(
            f"smoothed must have the shape of lrs {lrs.shape}, got smoothed of shape "
            f"{smoothed.shape}"
        )
    if not np.all(np.isfinite(lrs) & (lrs > 0)):
        raise ValueError("lrs must be finite numbers > 0, got lrs with values <= 0 or non-finite")
    check_finite_array(smoothed, "smoothed")
    return lrs, smoothed


def suggest_steepest(lrs: Any, smoothed: Any) -> float:
    """The rate where the loss falls fastest per decade: argmin of d(smoothed)/d(log lr).

    The slope is ``np.gradient(smoothed, log(lrs))`` (central differences inside, one-sided at
    the two ends). :func:`lr_find` passes the curve trimmed of its first and last points.

    Example:
        >>> lrs = np.logspace(-5, 0, 6)
        >>> suggest_steepest(lrs, np.array([1.0, 0.97, 0.5, 0.45, 0.4, 2.0]))
        0.001
    """
    lrs, smoothed = _check_curve(lrs, smoothed, minimum=2)
    slope = np.gradient(smoothed, np.log(lrs))
    return float(lrs[np.argmin(slope)])


def suggest_min_div_10(lrs: Any, smoothed: Any) -> float:
    """The rate of the minimum smoothed loss, divided by 10 (fastai's "lr_min").

    Example:
        >>> lrs = np.logspace(-5, 0, 6)
        >>> suggest_min_div_10(lrs, np.array([1.0, 0.97, 0.5, 0.45, 0.4, 2.0]))
        0.01
    """
    lrs, smoothed = _check_curve(lrs, smoothed, minimum=1)
    return float(lrs[np.argmin(smoothed)] / 10)


def suggest_valley(lrs: Any, smoothed: Any) -> float:
    """A rate two thirds of the way down the longest descent of the smoothed loss.

    Our variant of fastai's "valley" (which uses the longest decreasing *subsequence*): take the
    longest *contiguous* stretch ``i = a..b`` over which the smoothed loss falls at every point
    (``smoothed[i+1] < smoothed[i]``; the first such stretch on ties) and return
    ``lrs[a + floor(2 (b - a) / 3)]``: well into the descent, short of the bottom where the
    loss is about to turn up. NaN when the loss never falls.

    Example:
        >>> lrs = np.logspace(-4, 1, 6)
        >>> suggest_valley(lrs, np.array([1.0, 1.1, 0.9, 0.5, 0.2, 3.0]))
        0.1
    """
    lrs, smoothed = _check_curve(lrs, smoothed, minimum=1)
    falls = np.diff(smoothed) < 0
    best_start, best_len, start = 0, 0, None
    for i, fall in enumerate(np.append(falls, False)):
        if fall and start is None:
            start = i
        elif not fall and start is not None:
            if i - start > best_len:
                best_start, best_len = start, i - start
            start = None
    if best_len == 0:
        return math.nan
    return float(lrs[best_start + (2 * best_len) // 3])


_SUGGESTIONS = {
    "steepest": suggest_steepest,
    "min_div_10": suggest_min_div_10,
    "valley": suggest_valley,
}


def lr_find(
    objective: Objective,
    optimizer: Any,
    start_lr: float = 1e-7,
    end_lr: float = 10.0,
    num_steps: int = 100,
    smoothing: float = 0.98,
    diverge_threshold: float = 4.0,
    skip_start: int = 10,
    skip_end: int = 5,
    seed: int = 0,
) -> LRFinderResult:
    """The LR range test (Smith 2015; fastai's ``lr_find``): raise the rate until the loss blows up.

    Starting from the current parameters and optimizer state::

        lr_i = start_lr · (end_lr / start_lr) ** (i / (num_steps - 1)),   i = 0 .. num_steps-1
        take one update with lr_i (every param group scaled as in train), then measure loss_i
        avg_i = β avg_{i-1} + (1 - β) loss_i,   avg_{-1} = 0,   β = smoothing
        smoothed_i = avg_i / (1 - β^(i+1))                    # bias correction, as in Adam
        stop if loss_i is not finite (not recorded), or if
            smoothed_i - best > (diverge_threshold - 1) · |best|   (best = min smoothed so far;
            for a positive loss: smoothed_i > diverge_threshold · best)

    Then the parameters (in place, bit for bit) and the optimizer state (``load_state_dict``,
    and the param groups' hyperparameters) are restored, even if an exception interrupts it.
    Suggestions are computed on the curve without its first ``skip_start`` and last
    ``skip_end`` points (the untrimmed curve if fewer than 3 points would remain):
    :func:`suggest_steepest`, :func:`suggest_min_div_10`, :func:`suggest_valley`.

    On a quadratic with largest curvature λ_max, where the best constant rate is 1/λ_max and
    gradient descent diverges above 2/λ_max, the three suggestions fall within
    [1/(20 λ_max), 2/λ_max] (tests/test_lr_find.py checks this on a linear regression).

    Args:
        objective: see :class:`Objective`.
        optimizer: a stateful optimizer over ``objective.params`` (with ``state_dict``).
        start_lr, end_lr: the range of rates (0 < start_lr < end_lr).
        num_steps: number of rates tried (>= 2).
        smoothing: β of the moving average, in [0, 1) (0: no smoothing).
        diverge_threshold: stop when the smoothed loss exceeds this many times its best (> 1).
        skip_start, skip_end: points left out of the suggestions at each end (>= 0).
        seed: seed of the generator passed to ``objective.loss_and_grads``.

    Returns:
        An :class:`LRFinderResult`.
    """
    _check_objective(objective)
    _check_optimizer(optimizer)
    start_lr = check_positive(start_lr, "start_lr")
    end_lr = check_positive(end_lr, "end_lr")
    if end_lr <= start_lr:
        raise ValueError(
            f"end_lr must be larger than start_lr={start_lr:g}, got end_lr={end_lr!r}"
        )
    num_steps = check_int(num_steps, "num_steps", minimum=2)
    beta = check_unit_interval(smoothing, "smoothing")
    check_positive(diverge_threshold, "diverge_threshold")
    if diverge_threshold <= 1:
        raise ValueError(
            f"diverge_threshold must be a number > 1, got diverge_threshold={diverge_threshold!r}"
        )
    skip_start = check_int(skip_start, "skip_start", minimum=0)
    skip_end = check_int(skip_end, "skip_end", minimum=0)

    rng = np.random.default_rng(seed)
    rates = start_lr * (end_lr / start_lr) ** (np.arange(num_steps) / (num_steps - 1))
    ratios = _group_ratios(optimizer)
    order = _gradient_order(optimizer, objective)
    saved_params = [np.array(p, copy=True) for p in objective.params]
    saved_state = optimizer.state_dict()
    saved_groups = [
        {k: v for k, v in group.items() if k != "params"} for group in optimizer.param_groups
    ]
    lrs, losses, smoothed = [], [], []
    stopped = False
    try:
        with np.errstate(all="ignore"):
            loss, grads = objective.loss_and_grads(rng)
            avg, best = 0.0, math.inf
            for i, lr in enumerate(rates):
                if not all(np.isfinite(g).all() for g in grads):
                    stopped = True
                    break
                _set_lr(optimizer, float(lr), ratios)
                optimizer.step(_in_order(grads, order))
                loss, grads = objective.loss_and_grads(rng)
                loss = float(loss)
                if not math.isfinite(loss):
                    stopped = True
                    break
                avg = beta * avg + (1 - beta) * loss
                smooth = avg / (1 - beta ** (i + 1))
                lrs.append(float(lr))
                losses.append(loss)
                smoothed.append(smooth)
                if smooth - best > (diverge_threshold - 1) * abs(best):
                    stopped = True
                    break
                best = min(best, smooth)
    finally:
        for p, saved in zip(objective.params, saved_params, strict=True):
            p[...] = saved
        optimizer.load_state_dict(saved_state)
        # Also by hand: an optimizer's state_dict need not carry its hyperparameters.
        for group, saved in zip(optimizer.param_groups, saved_groups, strict=True):
            group.update(saved)

    lrs, losses, smoothed = np.array(lrs), np.array(losses), np.array(smoothed)
    lo, hi = skip_start, len(lrs) - skip_end
    if hi - lo < 3:
        lo, hi = 0, len(lrs)
    suggestions = {
        name: rule(lrs[lo:hi], smoothed[lo:hi]) if hi - lo >= 3 else math.nan
        for name, rule in _SUGGESTIONS.items()
    }
    return LRFinderResult(lrs, losses, smoothed, suggestions, stopped_early=stopped)
