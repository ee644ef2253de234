"""Reptile: first-order meta-learning of an initialisation that adapts fast, with two rates.

Nichol, Achiam & Schulman (2018), "On first-order meta-learning algorithms". From the
meta-parameters θ, a few SGD steps on one task (the *inner* rate α) reach φ; θ then moves a
fraction ε of the way towards φ (the *outer* rate). Over many tasks θ drifts to a point from
which every task of the family is a few steps away. Here the tasks are the sine waves of
:func:`lrcourse.problems.sine_tasks` and the model a small :class:`lrcourse.nn.MLP`.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from lrcourse._validate import check_int, check_lr
from lrcourse.progress import progress
from lrcourse.train import DivergenceWarning, History, has_diverged

__all__ = ["adapt", "adapt_and_evaluate", "reptile"]


def _check_model(model: Any) -> None:
    if not hasattr(model, "params") or not callable(getattr(model, "loss_and_grads", None)):
        raise TypeError(
            f"model must have params and loss_and_grads(X, y, loss=...) (an lrcourse.nn.MLP), "
            f"got model={model!r}"
        )


def _check_task(task: Any, name: str) -> None:
    if not callable(getattr(task, "sample", None)):
        raise TypeError(
            f"{name} must have sample(k, seed) (an lrcourse.problems.SineTask), got {name}={task!r}"
        )


def _sgd_steps(model: Any, X: np.ndarray, y: np.ndarray, lr: float, steps: int) -> None:
    """``steps`` full-batch SGD steps on (X, y) with the MSE loss, in place."""
    for _ in range(steps):
        _, grads = model.loss_and_grads(X, y, loss="mse")
        for p, g in zip(model.params, grads, strict=True):
            p -= lr * g


def _query_loss(model: Any, task: Any, n_query: int) -> float:
    """The MSE of the model against the task on n_query points spread evenly over its inputs."""
    low, high = getattr(task, "x_range", (-5.0, 5.0))
    x = np.linspace(low, high, n_query)[:, None]
    loss, _ = model.loss_and_grads(x, task(x[:, 0]), loss="mse")
    return float(loss)


def adapt(model: Any, task: Any, inner_lr: float, steps: int, k: int,
          seed: int = 0) -> list[np.ndarray]:
    """The parameters φ reached by ``steps`` SGD steps on K shots of one task (the inner loop).

    Formula, from θ = the model's current parameters, on the K points ``task.sample(k, seed)``::

        φ_0 = θ,   φ_{j+1} = φ_j − α ∇L_task(φ_j),   j = 0 .. steps−1
        L_task(φ) = (1/K) Σ_i (net_φ(x_i) − y_i)²                 (full batch, MSE)

    The model's parameters are left as they were.

    Args:
        model: an :class:`lrcourse.nn.MLP` with one input and one output.
        task: a task with ``sample(k, seed)`` (an :class:`lrcourse.problems.SineTask`).
        inner_lr: α >= 0, the inner (task) learning rate.
        steps: the number of SGD steps (>= 0).
        k: the number of shots K (>= 1).
        seed: the seed of the shots.

    Returns:
        φ, a list of new arrays shaped like ``model.params``.

    Example:
        >>> from lrcourse.nn import MLP
        >>> from lrcourse.problems import sine_tasks
        >>> net, task = MLP([1, 40, 40, 1], activation="tanh", seed=0), sine_tasks(1, seed=0)[0]
        >>> phi = adapt(net, task, inner_lr=0.01, steps=5, k=10)
        >>> [p.shape for p in phi] == [p.shape for p in net.params]
        True
    """
    _check_model(model)
    _check_task(task, "task")
    inner_lr = check_lr(inner_lr, "inner_lr")
    steps = check_int(steps, "steps")
    k = check_int(k, "k", minimum=1)
    shots = task.sample(k, seed=check_int(seed, "seed"))
    theta = [p.copy() for p in model.params]
    try:
        with np.errstate(all="ignore"):
            _sgd_steps(model, shots.X, shots.y, inner_lr, steps)
        return [p.copy() for p in model.params]
    finally:
        for p, saved in zip(model.params, theta, strict=True):
            p[...] = saved


def adapt_and_evaluate(model: Any, task: Any, inner_lr: float, steps: int, k: int,
                       seed: int = 0, n_query: int = 100) -> float:
    """The loss on a task after adapting to K shots of it: what meta-learning should make small.

    Formula, with φ = :func:`adapt` ``(model, task, inner_lr, steps, k, seed)``::

        loss = (1/m) Σ_j (net_φ(x_j) − task(x_j))²,   x_j evenly spaced over task.x_range,
                                                      m = n_query

    i.e. the error over the whole input range, not just at the K shots. The model's parameters
    are left as they were: compare a fresh network (a random initialisation) with a
    meta-trained one by calling this on each.

    Args:
        model: an :class:`lrcourse.nn.MLP` with one input and one output; its parameters are
            the starting point.
        task: an :class:`lrcourse.problems.SineTask` (``sample``, ``x_range``, callable).
        inner_lr: α >= 0, the adaptation rate.
        steps: the number of SGD steps (>= 0; 0 measures the starting point itself).
        k: the number of shots K (>= 1).
        seed: the seed of the shots.
        n_query: the number of evaluation points (>= 1).

    Returns:
        The mean squared error after adaptation (NaN or inf if the inner loop diverged).

    Example:
        >>> from lrcourse.nn import MLP
        >>> from lrcourse.problems import SineTask
        >>> net, task = MLP([1, 40, 40, 1], activation="tanh", seed=0), SineTask(2.0, 0.5)
        >>> before = adapt_and_evaluate(net, task, inner_lr=0.01, steps=0, k=10)
        >>> after = adapt_and_evaluate(net, task, inner_lr=0.01, steps=50, k=10)
        >>> bool(after < before)
        True
    """
    n_query = check_int(n_query, "n_query", minimum=1)
    phi = adapt(model, task, inner_lr, steps, k, seed)
    theta = [p.copy() for p in model.params]
    try:
        for p, value in zip(model.params, phi, strict=True):
            p[...] = value
        with np.errstate(all="ignore"):
            return _query_loss(model, task, n_query)
    finally:
        for p, saved in zip(model.params, theta, strict=True):
            p[...] = saved


def _outer_rate(outer_lr: float | Callable[[int], float], t: int) -> float:
    if not callable(outer_lr):
        return outer_lr
    value = outer_lr(t)
    try:
        value = float(value)
    except (TypeError, ValueError):
        raise TypeError(f"outer_lr must return a number, got outer_lr({t})={value!r}") from None
    if not math.isfinite(value) or value < 0:
        raise ValueError(f"outer_lr must return a finite number >= 0, got outer_lr({t})={value!r}")
    return value


def reptile(
    model: Any,
    tasks: Sequence[Any],
    inner_lr: float,
    outer_lr: float | Callable[[int], float],
    inner_steps: int,
    meta_iterations: int,
    seed: int = 0,
    k: int = 10,
    meta_batch: int = 1,
    eval_tasks: Sequence[Any] | None = None,
    eval_every: int | None = None,
    n_query: int = 100,
    warn: bool = True,
) -> History:
    """Meta-train the model's initialisation with Reptile (Nichol et al., 2018), in place.

    The batched version of the paper's Algorithm 2, with plain SGD in the inner loop::

        for t = 0, 1, ..., meta_iterations − 1:
            draw meta_batch tasks τ_1..τ_B from ``tasks`` (uniformly, with replacement),
                then a seed for the K shots of each
            φ_b = adapt(θ_t, τ_b):  inner_steps SGD steps of rate α on K shots of τ_b
            θ_{t+1} = θ_t + ε_t · (1/B) Σ_b (φ_b − θ_t)           (the outer, "meta" step)

    Two rates with two jobs: the inner rate α must adapt to one task in a few steps (too small:
    φ barely moves and θ learns nothing; too large: the inner loop diverges), the outer rate
    ε_t sets how far θ follows each task (ε = 1 jumps to φ and forgets the other tasks; a small
    ε averages over many). The paper anneals ε linearly to 0: pass a schedule, e.g.
    ``lrcourse.schedules.polynomial_decay(1.0, total_iters=meta_iterations)``.
    (φ − θ_t = −α Σ_j ∇L_τ(φ_j): with inner_steps = 1 Reptile is SGD of rate εα on the average
    task loss, the "joint training" baseline; several inner steps make it learn to adapt.)

    Recorded, as :func:`lrcourse.train.train` does for a run:

    - ``loss[t]``: the post-adaptation loss of θ_t on the first task drawn at iteration t
      (the error of φ over the task's whole input range, as in :func:`adapt_and_evaluate`),
      for t = 0 .. meta_iterations (one more adaptation is measured at the end);
    - ``lr[t]``: ε_t;
    - every ``eval_every`` iterations from 0, ``val_loss``: the mean of
      :func:`adapt_and_evaluate` (inner_steps steps, K shots, seed 0) over ``eval_tasks``.

    Training stops, keeping the history, if the loss turns non-finite or explodes
    (:func:`lrcourse.train.has_diverged`), with one :class:`DivergenceWarning`.

    Args:
        model: an :class:`lrcourse.nn.MLP` with one input and one output (e.g.
            ``MLP([1, 40, 40, 1], activation="tanh")``); its ``params`` are θ, updated in place.
        tasks: the meta-training tasks (:func:`lrcourse.problems.sine_tasks`).
        inner_lr: α >= 0, the inner SGD rate.
        outer_lr: ε >= 0, or a schedule ``t -> ε_t`` (e.g. of :mod:`lrcourse.schedules`).
        inner_steps: SGD steps per task (>= 1).
        meta_iterations: the number of outer updates (>= 0).
        seed: the seed of the tasks and shots drawn.
        k: shots per task K (>= 1).
        meta_batch: tasks per outer update B (>= 1).
        eval_tasks: held-out tasks for ``val_loss``, or None.
        eval_every: how often to evaluate on ``eval_tasks`` (>= 1), needed with eval_tasks.
        n_query: the number of evaluation points per task (>= 1).
        warn: emit the DivergenceWarning (the history is marked either way).

    Returns:
        A :class:`lrcourse.train.History` (``loss``, ``lr``, ``val_loss``, ``val_steps``).

    Example:
        >>> from lrcourse.nn import MLP
        >>> from lrcourse.problems import sine_tasks
        >>> net = MLP([1, 40, 40, 1], activation="tanh", seed=0)
        >>> h = reptile(net, sine_tasks(1000, seed=0), inner_lr=0.02, outer_lr=0.5,
        ...             inner_steps=10, meta_iterations=300, eval_tasks=sine_tasks(20, seed=1),
        ...             eval_every=100)
        >>> h.val_steps, h.val_loss.round(2)
        (array([  0, 100, 200, 300]), array([3.22, 1.57, 1.31, 0.7 ]))
    """
    _check_model(model)
    if isinstance(tasks, str) or not isinstance(tasks, Sequence) or not tasks:
        raise TypeError(f"tasks must be a non-empty list of tasks, got tasks={tasks!r}")
    for i, task in enumerate(tasks):
        _check_task(task, f"tasks[{i}]")
    inner_lr = check_lr(inner_lr, "inner_lr")
    if not callable(outer_lr):
        outer_lr = check_lr(outer_lr, "outer_lr")
    inner_steps = check_int(inner_steps, "inner_steps", minimum=1)
    meta_iterations = check_int(meta_iterations, "meta_iterations")
    rng = np.random.default_rng(check_int(seed, "seed"))
    k = check_int(k, "k", minimum=1)
    meta_batch = check_int(meta_batch, "meta_batch", minimum=1)
    n_query = check_int(n_query, "n_query", minimum=1)
    if (eval_tasks is None) != (eval_every is None):
        raise ValueError(
            f"eval_tasks and eval_every must be given together, got eval_tasks="
            f"{'None' if eval_tasks is None else 'a list'} and eval_every={eval_every!r}"
        )
    if eval_every is not None:
        eval_every = check_int(eval_every, "eval_every", minimum=1)
        if isinstance(eval_tasks, str) or not isinstance(eval_tasks, Sequence) or not eval_tasks:
            raise TypeError(f"eval_tasks must be a non-empty list of tasks, got {eval_tasks!r}")

    losses, rates, val_losses, val_steps = [], [], [], []
    history = History(loss=np.array([]), lr=np.array([]))
    best = math.inf
    with np.errstate(all="ignore"):
        for t in progress(range(meta_iterations + 1), description="Reptile"):
            if eval_every is not None and t % eval_every == 0:
                val_losses.append(np.mean([
                    adapt_and_evaluate(model, task, inner_lr, inner_steps, k, 0, n_query)
                    for task in eval_tasks
                ]))
                val_steps.append(t)
            theta = [p.copy() for p in model.params]
            drawn = [tasks[int(i)] for i in rng.integers(len(tasks), size=meta_batch)]
            shot_seeds = rng.integers(2**31, size=meta_batch)
            step = [np.zeros_like(p) for p in theta]
            for b, (task, shot_seed) in enumerate(zip(drawn, shot_seeds, strict=True)):
                shots = task.sample(k, seed=int(shot_seed))
                _sgd_steps(model, shots.X, shots.y, inner_lr, inner_steps)
                if b == 0:
                    losses.append(_query_loss(model, drawn[0], n_query))
                for s, p, start in zip(step, model.params, theta, strict=True):
                    s += p - start
                    p[...] = start
            if has_diverged(losses[-1], best):
                history.diverged, history.diverged_at = True, t
                history.reason = f"the post-adaptation loss diverged ({losses[-1]:.3g})"
                if warn:
                    warnings.warn(
                        f"Reptile diverged at meta-iteration {t} (inner_lr={inner_lr:g}): "
                        f"{history.reason}; the history is kept up to iteration {t}",
                        DivergenceWarning, stacklevel=2,
                    )
                break
            best = min(best, losses[-1])
            if t == meta_iterations:
                break
            epsilon = _outer_rate(outer_lr, t)
            rates.append(epsilon)
            for p, s in zip(model.params, step, strict=True):
                p += (epsilon / meta_batch) * s
    history.loss, history.lr = np.array(losses), np.array(rates)
    if eval_every is not None:
        history.val_loss, history.val_steps = np.array(val_losses), np.array(val_steps)
    return history
