"""Simulated data-parallel training: K workers, one global batch, and the rates that go with it.

In data-parallel training K workers hold copies of the model; each computes the gradient on its
own shard of the global batch, the gradients are averaged (an all-reduce) and every copy takes
the same step. Averaging K shard gradients of the mean loss gives exactly the gradient of the
K-times larger batch (:func:`data_parallel_grad`), so K workers are one large-batch SGD. What
changes is the batch size B, and with it the rate: a larger batch averages away gradient noise
and allows (and needs) a larger rate for the same progress per sample:

- the linear scaling rule (Goyal et al., 2017): B → kB, α → kα (:func:`linear_scaling`);
- the square-root rule (Krizhevsky, 2014; Hoffer et al., 2017): α → √k α (:func:`sqrt_scaling`);
- gradual warm-up (Goyal et al., 2017): climb from the small-batch rate to the scaled one over
  the first steps, when the network changes fast (:func:`gradual_warmup`);
- LARS (You et al., 2017): a per-layer rate from the ratio of weight and gradient norms
  (:func:`lars_trust_ratio`, :func:`lars_step`, :class:`LARS`).

:func:`train_data_parallel` puts these together on a network of :mod:`lrcourse.nn`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
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
    check_same_shape,
    check_unit_interval,
)
from lrcourse.optimizers import Optimizer, make_optimizer
from lrcourse.schedules import Schedule, constant, warmup
from lrcourse.train import DIVERGENCE_FACTOR, DIVERGENCE_FLOOR, Callback, History, train

__all__ = [
    "LARS",
    "LARSState",
    "data_parallel_grad",
    "gradual_warmup",
    "lars_step",
    "lars_trust_ratio",
    "linear_scaling",
    "sqrt_scaling",
    "train_data_parallel",
]


# =============================================================================================
# K workers, one gradient
# =============================================================================================


def _check_model(model: Any) -> None:
    if not hasattr(model, "params") or not callable(getattr(model, "loss_and_grads", None)):
        raise TypeError(
            f"model must have params and loss_and_grads(X, y, loss=...) (e.g. an "
            f"lrcourse.nn.MLP), got model={model!r}"
        )


def data_parallel_grad(
    model: Any, X: np.ndarray, y: np.ndarray, workers: int, loss: str = "cross_entropy"
) -> tuple[float, list[np.ndarray]]:
    """The loss and gradient of a batch, computed by K simulated workers and averaged.

    The batch of n rows is cut into K consecutive shards S_k (``np.array_split``: sizes
    n_k differ by at most one); worker k computes the mean loss of its shard and its gradient,
    and the all-reduce averages them, weighted by shard size::

        L = Σ_k (n_k / n) L_k,   g = Σ_k (n_k / n) ∇L_k,   L_k = (1/n_k) Σ_{i∈S_k} ℓ_i

    which is exactly the mean loss of the whole batch, (1/n) Σ_i ℓ_i, and its gradient (up to
    rounding). With equal shards (n = K b) the weights are all 1/K: the plain average that
    frameworks' all-reduce computes.

    Args:
        model: an object with ``params`` and ``loss_and_grads(X, y, loss=...)`` (e.g. an MLP).
        X, y: the global batch (n rows; n >= workers).
        workers: K >= 1.
        loss: "cross_entropy" or "mse" (see :meth:`lrcourse.nn.MLP.loss_and_grads`).

    Returns:
        ``(loss, grads)``, grads aligned with ``model.params``.

    Example:
        Four workers give the gradient of the whole batch:

        >>> from lrcourse.nn import MLP
        >>> rng = np.random.default_rng(0)
        >>> X, y = rng.standard_normal((32, 3)), rng.integers(0, 2, 32)
        >>> net = MLP([3, 8, 2], seed=0)
        >>> loss, grads = data_parallel_grad(net, X, y, workers=4)
        >>> big_loss, big_grads = net.loss_and_grads(X, y)
        >>> bool(abs(loss - big_loss) < 1e-15)
        True
        >>> print(max(float(abs(g - G).max()) for g, G in zip(grads, big_grads)) < 1e-15)
        True
    """
    _check_model(model)
    X, y = np.asarray(X), np.asarray(y)
    if len(X) != len(y):
        raise ValueError(f"y must have one entry per row of X ({len(X)}), got y of length {len(y)}")
    workers = check_int(workers, "workers", minimum=1)
    if workers > len(X):
        raise ValueError(
            f"workers must be <= the number of rows in the batch ({len(X)}), got workers={workers}"
        )
    check_choice(loss, "loss", ("cross_entropy", "mse"))
    n = len(X)
    total_loss, total_grads = 0.0, [np.zeros_like(p) for p in model.params]
    for shard in np.array_split(np.arange(n), workers):
        weight = len(shard) / n
        shard_loss, shard_grads = model.loss_and_grads(X[shard], y[shard], loss=loss)
        total_loss += weight * shard_loss
        for total, g in zip(total_grads, shard_grads, strict=True):
            total += weight * g
    return float(total_loss), total_grads


# =============================================================================================
# Scaling the rate with the batch
# =============================================================================================


def _scaling_args(base_lr: float, base_batch: int, batch: int) -> tuple[float, int, int]:
    return (
        check_lr(base_lr, "base_lr"),
        check_int(base_batch, "base_batch", minimum=1),
        check_int(batch, "batch", minimum=1),
    )


def linear_scaling(base_lr: float, base_batch: int, batch: int) -> float:
    """The linear scaling rule (Goyal et al., 2017): multiply the batch by k, the rate by k.

    Formula::

        α(B) = α_0 · B / B_0

    Why: k SGD steps of batch B_0 with rate α_0 move θ by −α_0 Σ_j g_j; one step of batch
    k B_0 with rate k α_0 moves it by −k α_0 · (1/k) Σ_j g_j, the same when the gradients
    barely change over those k steps. It fails early in training (the gradients change fast:
    hence warm-up) and above a problem-dependent batch size (the rate hits the stability bound).

    Args:
        base_lr: α_0 >= 0, a rate that works with batch B_0.
        base_batch: B_0 >= 1.
        batch: B >= 1, the new (global) batch size.

    Returns:
        α(B).

    Example:
        >>> linear_scaling(0.1, base_batch=256, batch=8192)     # Goyal et al.: 32 × 256
        3.2
    """
    base_lr, base_batch, batch = _scaling_args(base_lr, base_batch, batch)
    return base_lr * batch / base_batch


def sqrt_scaling(base_lr: float, base_batch: int, batch: int) -> float:
    """The square-root scaling rule: multiply the batch by k, the rate by √k.

    Formula::

        α(B) = α_0 · √(B / B_0)

    Why: the noise of a batch gradient has a standard deviation ∝ 1/√B, so α/√B, the size of
    the noise in one step, stays the same if α ∝ √B (Krizhevsky, 2014; Hoffer et al., 2017).
    It grows the rate more cautiously than :func:`linear_scaling`; adaptive methods such as
    Adam are often scaled this way.

    Args:
        base_lr: α_0 >= 0, a rate that works with batch B_0.
        base_batch: B_0 >= 1.
        batch: B >= 1, the new (global) batch size.

    Returns:
        α(B).

    Example:
        >>> sqrt_scaling(0.1, base_batch=256, batch=1024)
        0.2
    """
    base_lr, base_batch, batch = _scaling_args(base_lr, base_batch, batch)
    return base_lr * math.sqrt(batch / base_batch)


def gradual_warmup(base_lr: float, scaled_lr: float, warmup_steps: int) -> Schedule:
    """Goyal et al.'s gradual warm-up: climb linearly from the small-batch rate to the scaled one.

    Formula, with W = warmup_steps (t = 0 is the first update)::

        α(t) = α_0 + (α_scaled − α_0) · t / W      for t < W
        α(t) = α_scaled                            for t >= W

    Built from :func:`lrcourse.schedules.warmup` (``start_factor = α_0 / α_scaled``). To decay
    afterwards, join it with a decay that starts from α_scaled: ``join([gradual_warmup(...),
    step_decay(α_scaled, ...)], [W])``. Goyal et al. warm up over 5 epochs.

    Args:
        base_lr: α_0 >= 0, the rate at t = 0 (the rate of the small batch).
        scaled_lr: α_scaled >= α_0, > 0 (e.g. from :func:`linear_scaling`).
        warmup_steps: W >= 0 (0: α_scaled from the start).

    Returns:
        A :class:`lrcourse.schedules.Schedule`.

    Example:
        >>> sched = gradual_warmup(0.1, 0.5, warmup_steps=4)
        >>> sched(range(6))
        array([0.1, 0.2, 0.3, 0.4, 0.5, 0.5])
    """
    base_lr = check_lr(base_lr, "base_lr")
    scaled_lr = check_positive(scaled_lr, "scaled_lr")
    warmup_steps = check_int(warmup_steps, "warmup_steps")
    if scaled_lr < base_lr:
        raise ValueError(
            f"scaled_lr must be >= base_lr={base_lr!r} (a warm-up climbs), "
            f"got scaled_lr={scaled_lr!r}"
        )
    return warmup(constant(scaled_lr), warmup_steps, start_factor=base_lr / scaled_lr)


# =============================================================================================
# Training
# =============================================================================================


class _DataParallelObjective:
    """Each call draws one global batch of K·b distinct rows and lets K workers share it."""

    def __init__(self, model, X, y, workers, per_worker_batch, loss, X_eval, y_eval):
        self.model, self.X, self.y = model, X, y
        self.workers, self.per_worker_batch, self.loss = workers, per_worker_batch, loss
        self.X_eval, self.y_eval = X_eval, y_eval
        self.params = model.params

    def loss_and_grads(self, rng: np.random.Generator) -> tuple[float, list[np.ndarray]]:
        idx = rng.choice(len(self.X), size=self.workers * self.per_worker_batch, replace=False)
        return data_parallel_grad(self.model, self.X[idx], self.y[idx], self.workers, self.loss)

    def val_loss(self) -> float | None:
        if self.X_eval is None:
            return None
        return float(self.model.loss_and_grads(self.X_eval, self.y_eval, loss=self.loss)[0])

    def __repr__(self) -> str:
        return (
            f"data_parallel({self.model!r}, workers={self.workers}, "
            f"per_worker_batch={self.per_worker_batch})"
        )


def _xy(data: Any, name: str) -> tuple[np.ndarray, np.ndarray]:
    if hasattr(data, "X") and hasattr(data, "y"):
        return np.asarray(data.X), np.asarray(data.y)
    if isinstance(data, tuple) and len(data) == 2:
        return np.asarray(data[0]), np.asarray(data[1])
    raise TypeError(
        f"{name} must be a Dataset (with X and y) or a pair (X, y), got {name}={data!r}"
    )


_RULES: dict[str, Callable[[float, int, int], float]] = {
    "none": lambda base_lr, base_batch, batch: base_lr,
    "linear": linear_scaling,
    "sqrt": sqrt_scaling,
}


def train_data_parallel(
    model: Any,
    data: Any,
    workers: int,
    per_worker_batch: int,
    steps: int,
    base_lr: float,
    base_batch: int | None = None,
    lr_rule: str = "linear",
    warmup_steps: int = 0,
    optimizer: str | Any = "sgd",
    loss: str = "cross_entropy",
    seed: int = 0,
    eval_data: Any = None,
    eval_every: int | None = None,
    callbacks: Sequence[Callback] = (),
    divergence_factor: float | None = DIVERGENCE_FACTOR,
    divergence_floor: float = DIVERGENCE_FLOOR,
    warn: bool = True,
) -> History:
    """Train with K simulated workers: global batch B = K·b, the rate scaled from a base batch.

    The plan::

        B = workers · per_worker_batch                       (the global batch)
        α = rule(base_lr, base_batch, B)                     (lr_rule: "none", "linear", "sqrt")
        schedule = gradual_warmup(base_lr, α, warmup_steps)  (constant α if warmup_steps = 0)
        each step t: draw B distinct rows, worker k takes rows k·b .. (k+1)·b − 1,
                     data_parallel_grad → the gradient of the B rows,
                     optimizer.step with rate schedule(t)            (lrcourse.train.train)

    To compare batch sizes at equal work, give the larger batch proportionally fewer steps
    (same number of samples seen: steps · B).

    Args:
        model: a network of :mod:`lrcourse.nn` (``params`` updated in place).
        data: the training set, a :class:`lrcourse.problems.Dataset` or a pair (X, y).
        workers: K >= 1.
        per_worker_batch: b >= 1 rows per worker per step (K·b <= the number of rows).
        steps: number of updates (>= 0).
        base_lr: α_0 >= 0, a rate that works with ``base_batch``.
        base_batch: B_0, the batch size ``base_lr`` was tuned for; None: ``per_worker_batch``
            (one worker alone is the reference).
        lr_rule: "linear" (:func:`linear_scaling`), "sqrt" (:func:`sqrt_scaling`) or "none"
            (keep base_lr).
        warmup_steps: W >= 0, the length of the :func:`gradual_warmup`.
        optimizer: a name for :func:`lrcourse.optimizers.make_optimizer` (default "sgd", no
            momentum), or an optimizer over ``model.params`` such as ``SGD(model.params,
            lr=0.1, momentum=0.9)`` or :class:`LARS`; the schedule sets its rate at every step.
        loss: "cross_entropy" or "mse".
        seed: the seed of the batches.
        eval_data: a set to measure ``val_loss`` on (e.g. the whole training set), or None.
        eval_every: measure it every that many steps (>= 1), needed with eval_data.
        callbacks, divergence_factor, divergence_floor, warn: as in :func:`lrcourse.train.train`.

    Returns:
        A :class:`lrcourse.train.History`; ``lr[t]`` is the schedule's rate.

    Example:
        Eight workers, batch 8 × 16 = 128, rate scaled from 0.05 (batch 16) to 0.4 over 10 steps:

        >>> from lrcourse.nn import MLP
        >>> from lrcourse.problems import two_moons
        >>> h = train_data_parallel(MLP([2, 16, 2], seed=0), two_moons(n=200, seed=0),
        ...                         workers=8, per_worker_batch=16, steps=50, base_lr=0.05,
        ...                         warmup_steps=10)
        >>> h.lr[[0, 5, 10, 49]], bool(h.loss[-1] < h.loss[0])
        (array([0.05 , 0.225, 0.4  , 0.4  ]), True)
    """
    _check_model(model)
    X, y = _xy(data, "data")
    if len(X) != len(y):
        raise ValueError(f"data must have one target per row of X ({len(X)}), got {len(y)}")
    workers = check_int(workers, "workers", minimum=1)
    per_worker_batch = check_int(per_worker_batch, "per_worker_batch", minimum=1)
    batch = workers * per_worker_batch
    if batch > len(X):
        raise ValueError(
            f"workers * per_worker_batch must be <= the number of samples ({len(X)}), got "
            f"workers={workers} and per_worker_batch={per_worker_batch} (batch {batch})"
        )
    base_batch = per_worker_batch if base_batch is None else check_int(
        base_batch, "base_batch", minimum=1)
    rule = _RULES[check_choice(lr_rule, "lr_rule", _RULES)]
    base_lr = check_lr(base_lr, "base_lr")
    lr = rule(base_lr, base_batch, batch)
    warmup_steps = check_int(warmup_steps, "warmup_steps")
    if warmup_steps and lr < base_lr:
        raise ValueError(
            f"warmup_steps must be 0 when the scaled rate {lr:g} is below base_lr={base_lr:g} "
            f"(batch {batch} < base_batch {base_batch}), got warmup_steps={warmup_steps}"
        )
    if warmup_steps and lr > 0:
        schedule = gradual_warmup(base_lr, lr, warmup_steps)
    else:
        schedule = constant(lr)
    check_choice(loss, "loss", ("cross_entropy", "mse"))
    X_eval = y_eval = None
    if (eval_data is None) != (eval_every is None):
        raise ValueError(
            f"eval_data and eval_every must be given together, got eval_every={eval_every!r} "
            f"and eval_data={'None' if eval_data is None else 'a data set'}"
        )
    if eval_data is not None:
        X_eval, y_eval = _xy(eval_data, "eval_data")
    if isinstance(optimizer, str):
        optimizer = make_optimizer(optimizer, model.params, lr=lr)
    elif not hasattr(optimizer, "param_groups") or not callable(getattr(optimizer, "step", None)):
        raise TypeError(
            f"optimizer must be a name such as 'sgd' or an optimizer over model.params, "
            f"got optimizer={optimizer!r}"
        )
    objective = _DataParallelObjective(model, X, y, workers, per_worker_batch, loss, X_eval, y_eval)
    return train(
        objective, optimizer, steps, schedule=schedule, callbacks=callbacks,
        val_every=eval_every, divergence_factor=divergence_factor,
        divergence_floor=divergence_floor, seed=seed, warn=warn,
    )


# =============================================================================================
# LARS
# =============================================================================================


def _norms_ratio(weight: np.ndarray, grad: np.ndarray, trust_coefficient: float,
                 weight_decay: float, eps: float) -> float:
    w_norm = float(np.linalg.norm(weight.ravel()))
    g_norm = float(np.linalg.norm(grad.ravel()))
    if w_norm == 0.0 or g_norm == 0.0:
        return 1.0
    return trust_coefficient * w_norm / (g_norm + weight_decay * w_norm + eps)


def lars_trust_ratio(
    weight: ArrayLike,
    grad: ArrayLike,
    trust_coefficient: float = 0.001,
    weight_decay: float = 0.0,
    eps: float = 1e-9,
) -> float:
    """The layer-wise trust ratio of LARS (You, Gitman & Ginsburg, 2017): a rate per layer.

    For one layer's weights w and gradient ∇w (all entries of the array; Euclidean norms)::

        λ = η ‖w‖ / (‖∇w‖ + β ‖w‖ + ε)      if ‖w‖ > 0 and ‖∇w‖ > 0
        λ = 1                               otherwise

    with η = trust_coefficient, β = weight_decay. The local rate of the paper (section 3 and
    Algorithm 1) is η‖w‖/(‖∇w‖ + β‖w‖); ε only guards the division. The step of a layer is
    then about η ‖w‖ times the global rate, whatever the scale of its gradient: it changes
    each layer by a set *fraction* of its norm, which keeps large rates stable in layers whose
    gradients are large relative to their weights.

    Zero norms: the paper leaves λ undefined there; we return 1, as NVIDIA Apex's ``LARC``
    (``if param_norm != 0 and grad_norm != 0``) and optax's ``scale_by_trust_ratio``
    (``where(param_norm == 0 or update_norm == 0, 1, ratio)``) do: a layer whose weights are
    all zero (a bias at initialisation) then takes a plain SGD step, instead of a step of
    size 0 that would keep it at zero forever. (optax divides by the norm of the decayed
    update, ‖∇w + βw‖, rather than by ‖∇w‖ + β‖w‖; Apex adds ε as here, 1e-8 by default.)

    Args:
        weight: w, one layer's parameter array.
        grad: ∇w, the same shape.
        trust_coefficient: η > 0 (0.001 in the paper).
        weight_decay: β >= 0.
        eps: ε >= 0.

    Returns:
        λ, a float.

    Example:
        >>> w, g = np.array([3.0, 4.0]), np.array([0.6, 0.8])       # ‖w‖ = 5, ‖g‖ = 1
        >>> round(lars_trust_ratio(w, g, trust_coefficient=0.01), 9)  # 0.01 · 5 / 1
        0.05
        >>> lars_trust_ratio(np.zeros(3), np.ones(3))                 # zero weights: no scaling
        1.0
    """
    weight = np.asarray(weight, dtype=float)
    grad = np.asarray(grad, dtype=float)
    check_same_shape(weight, grad, "grad")
    check_finite_array(weight, "weight")
    check_finite_array(grad, "grad")
    trust_coefficient = check_positive(trust_coefficient, "trust_coefficient")
    weight_decay = check_nonnegative(weight_decay, "weight_decay")
    eps = check_nonnegative(eps, "eps")
    return _norms_ratio(weight, grad, trust_coefficient, weight_decay, eps)


@dataclass(frozen=True, eq=False)
class LARSState:
    """State of LARS: the momentum buffer b (None without momentum, or before the first step)."""

    momentum_buffer: np.ndarray | None = None


def _check_flag(value: Any, name: str) -> bool:
    if not isinstance(value, bool | np.bool_):
        raise TypeError(f"{name} must be True or False, got {name}={value!r}")
    return bool(value)


def _lars_hyper(lr, momentum, weight_decay, trust_coefficient, eps,
                exclude_bias) -> dict[str, Any]:
    return {
        "lr": check_lr(lr),
        "momentum": check_unit_interval(momentum, "momentum"),
        "weight_decay": check_nonnegative(weight_decay, "weight_decay"),
        "trust_coefficient": check_positive(trust_coefficient, "trust_coefficient"),
        "eps": check_nonnegative(eps, "eps"),
        "exclude_bias": _check_flag(exclude_bias, "exclude_bias"),
    }


def _lars_update(param, grad, state, *, lr, momentum, weight_decay, trust_coefficient, eps,
                 exclude_bias):
    """One LARS step on one layer, in place (param and state)."""
    if exclude_bias and param.ndim <= 1:
        ratio, decay = 1.0, 0.0
    else:
        ratio = _norms_ratio(param, grad, trust_coefficient, weight_decay, eps)
        decay = weight_decay
    d = ratio * (grad + decay * param) if decay else ratio * grad
    if momentum != 0:
        buffer = state.get("momentum_buffer")
        if buffer is None:
            buffer = state["momentum_buffer"] = np.array(d, dtype=param.dtype)
        else:
            buffer *= momentum
            buffer += d
        d = buffer
    param -= lr * d


def lars_step(
    param: ArrayLike,
    grad: ArrayLike,
    state: LARSState | None = None,
    *,
    lr: float = 0.1,
    momentum: float = 0.9,
    weight_decay: float = 0.0,
    trust_coefficient: float = 0.001,
    eps: float = 1e-9,
) -> tuple[np.ndarray, LARSState]:
    """One LARS step on one layer: SGD with momentum, the step scaled by the layer's trust ratio.

    With γ = lr, μ = momentum, β = weight_decay, at step t = 1, 2, ...::

        λ_t ← lars_trust_ratio(θ_{t-1}, g_t, η, β, ε)         (1 for zero norms)
        d_t ← λ_t (g_t + β θ_{t-1})
        b_t ← d_t                   if t = 1,   else  μ b_{t-1} + d_t     (if μ ≠ 0)
        θ_t ← θ_{t-1} − γ b_t       (θ_{t-1} − γ d_t without momentum)

    The global rate γ stays outside the momentum buffer, as in torch's SGD (and in NVIDIA Apex's
    ``LARC`` wrapped around it, with ``clip=False``). You et al.'s Algorithm 1 writes it inside,
    v_t = μ v_{t-1} + γ_t λ_t (g_t + βθ), θ_t = θ_{t-1} − v_t: the same path while γ is constant,
    a different one when a schedule changes γ (here the new γ acts at once). Torch has no LARS;
    optax's ``lars`` applies the rate before its momentum, like the paper. Where λ_t = 1 (a
    zero norm) the decay still applies here; Apex's ``LARC`` skips it for such a layer.

    Args:
        param: θ_{t-1}, one layer's parameters (not modified).
        grad: g_t, the gradient, same shape (not modified).
        state: the state after the previous step, or None before the first step.
        lr: γ >= 0, the global rate (schedules act on this one).
        momentum: μ in [0, 1).
        weight_decay: β >= 0, added to the gradient (L2) and to the trust ratio's denominator.
        trust_coefficient: η > 0.
        eps: ε >= 0.

    Returns:
        ``(new_param, new_state)``: a new array θ_t and a new ``LARSState``.

    Example:
        The step is γ η ‖θ‖ long, whatever the size of the gradient:

        >>> theta, state = lars_step(np.array([3.0, 4.0]), np.array([60.0, 80.0]), lr=1.0,
        ...                          trust_coefficient=0.01)
        >>> print(theta, np.linalg.norm(theta - [3.0, 4.0]).round(9))
        [2.97 3.96] 0.05
    """
    hyper = _lars_hyper(lr, momentum, weight_decay, trust_coefficient, eps, False)
    param = np.array(param, dtype=float)  # a copy: the caller's array is never written
    grad = np.asarray(grad, dtype=float)
    check_same_shape(param, grad, "grad")
    check_finite_array(grad, "grad")
    live: dict[str, Any] = {}
    if state is not None:
        if not isinstance(state, LARSState):
            raise TypeError(
                f"state must be a LARSState or None, got state of type {type(state).__name__}"
            )
        for field in fields(state):
            value = getattr(state, field.name)
            if value is not None:
                value = np.array(value, dtype=float)
                check_same_shape(param, value, f"state.{field.name}")
                live[field.name] = value
    _lars_update(param, grad, live, **hyper)
    return param, LARSState(**live)


class LARS(Optimizer):
    """LARS (You et al., 2017): SGD with momentum and a per-layer rate, in place.

    Each parameter array is one layer: its step is scaled by its own trust ratio, as in
    :func:`lars_step` (see there for the algorithm and the placement of the rate). A class of
    :mod:`lrcourse.optimizers`: param groups with their own hyperparameters, ``step(grads)``,
    ``state_dict()`` / ``load_state_dict()``, and :func:`lrcourse.train.train` drives its
    ``lr`` with a schedule.

    Args:
        params: list of arrays (updated in place), or list of param-group dicts.
        lr, momentum, weight_decay, trust_coefficient, eps: as in :func:`lars_step`.
        exclude_bias: give parameters with ndim <= 1 (biases, normalisation scales) plain SGD
            with momentum: no trust ratio and no weight decay, as the LARS of SimCLR, BYOL and
            Barlow Twins do (optax: ``trust_ratio_mask``, ``weight_decay_mask``).

    Example:
        >>> from lrcourse.nn import MLP
        >>> net = MLP([2, 4, 1], seed=0)
        >>> opt = LARS(net.params, lr=1.0, momentum=0.9, trust_coefficient=0.01, exclude_bias=True)
        >>> W = net.params[0].copy()
        >>> _, grads = net.loss_and_grads(np.ones((3, 2)), np.zeros(3), loss="mse")
        >>> opt.step(grads)
        >>> round(float(np.linalg.norm(net.params[0] - W) / np.linalg.norm(W)), 9)   # γ η
        0.01
    """

    _hyper = staticmethod(_lars_hyper)
    _update = staticmethod(_lars_update)

    def __init__(
        self,
        params: Iterable[np.ndarray] | Iterable[dict[str, Any]],
        lr: float = 0.1,
        momentum: float = 0.9,
        weight_decay: float = 0.0,
        trust_coefficient: float = 0.001,
        eps: float = 1e-9,
        exclude_bias: bool = False,
    ) -> None:
        super().__init__(params, {
            "lr": lr, "momentum": momentum, "weight_decay": weight_decay,
            "trust_coefficient": trust_coefficient, "eps": eps, "exclude_bias": exclude_bias,
        })
