"""Hypergradient descent: learn the learning rate online, by gradient descent on the rate itself.

Baydin, Cornish, Martínez Rubio, Schmidt & Wood (2018), "Online learning rate adaptation with
hypergradient descent", ICLR. The derivative of the loss with respect to the rate used at the
previous step costs one dot product of two consecutive gradients: if they point the same way
the last step was too short (raise α), if they point against each other it overshot (lower α).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from lrcourse._validate import check_finite, check_int, check_lr, check_nonnegative
from lrcourse.optimizers import SGD
from lrcourse.train import (
    DIVERGENCE_FACTOR,
    DIVERGENCE_FLOOR,
    Callback,
    History,
    Objective,
    train,
)

__all__ = ["hypergradient_update", "train_hypergradient"]


def _as_list(grads: Any, name: str) -> list[np.ndarray]:
    if isinstance(grads, np.ndarray) or np.isscalar(grads):
        return [np.asarray(grads, dtype=float)]
    if isinstance(grads, Sequence):
        return [np.asarray(g, dtype=float) for g in grads]
    raise TypeError(f"{name} must be an array or a list of arrays, got {name}={grads!r}")


def hypergradient_update(lr: float, grad: Any, prev_grad: Any, hyper_lr: float) -> float:
    """One step of hypergradient descent on the learning rate of SGD (Baydin et al., 2018).

    With plain SGD, θ_t = θ_{t−1} − α_{t−1} g_{t−1}, where g_t = ∇L(θ_t) is the gradient at the
    parameters after t updates. The loss there depends on the last rate through θ_t::

        ∂L(θ_t)/∂α_{t−1} = ∇L(θ_t) · ∂θ_t/∂α_{t−1} = −g_t · g_{t−1}      (the hypergradient)

    and one gradient step on α with the hyper-rate β gives the rate of the next update::

        α_t = α_{t−1} − β ∂L(θ_t)/∂α_{t−1} = α_{t−1} + β g_t · g_{t−1}
        θ_{t+1} = θ_t − α_t g_t

    Baydin et al. index the gradient by the update that uses it (their g_t = ∇f(θ_{t−1}),
    θ_t = θ_{t−1} − α_t g_t): the same recursion α_t = α_{t−1} + β g_t · g_{t−1}, with the
    indices of g and α one higher than here. The dot product runs over every parameter (all
    arrays flattened). β has the units of α / ‖g‖², so a β that suits one problem can be far
    too large for another. Nothing here keeps α >= 0 (:func:`train_hypergradient` does).

    Args:
        lr: α_{t−1}, the rate of the previous update (finite).
        grad: g_t, the gradient now: an array, or a list of arrays (one per parameter).
        prev_grad: g_{t−1}, the gradient the previous update used, shaped like ``grad``.
        hyper_lr: β >= 0, the learning rate of the learning rate.

    Returns:
        α_t, the rate for the next update.

    Example:
        Gradients that agree raise the rate, gradients that disagree (zig-zag) lower it:

        >>> hypergradient_update(0.1, np.array([1.0, 2.0]), np.array([1.0, 1.0]), hyper_lr=0.01)
        0.13
        >>> hypergradient_update(0.1, [np.array([-1.0]), np.array(2.0)],
        ...                      [np.array([3.0]), np.array(0.5)], hyper_lr=0.01)
        0.08
    """
    lr = check_finite(lr, "lr")
    hyper_lr = check_nonnegative(hyper_lr, "hyper_lr")
    grads, prev = _as_list(grad, "grad"), _as_list(prev_grad, "prev_grad")
    if len(grads) != len(prev):
        raise ValueError(
            f"prev_grad must hold one array per array of grad ({len(grads)}), got {len(prev)}"
        )
    for i, (g, p) in enumerate(zip(grads, prev, strict=True)):
        if g.shape != p.shape:
            raise ValueError(
                f"prev_grad[{i}] must have the shape of grad[{i}] {g.shape}, got {p.shape}"
            )
    dot = sum(float(np.vdot(g, p)) for g, p in zip(grads, prev, strict=True))
    return lr + hyper_lr * dot


class _LearnedRate:
    """An objective that, at each new gradient, first moves the SGD rate by its hypergradient.

    :func:`train` records ``group["lr"]`` after calling ``loss_and_grads`` and before the update,
    so ``History.lr[t]`` is exactly the α_t that update t uses.
    """

    def __init__(self, objective: Objective, optimizer: SGD, hyper_lr: float):
        self.objective, self.optimizer, self.hyper_lr = objective, optimizer, hyper_lr
        self.params = objective.params
        self.prev: list[np.ndarray] | None = None

    def loss_and_grads(self, rng: np.random.Generator) -> tuple[float, list[np.ndarray]]:
        loss, grads = self.objective.loss_and_grads(rng)
        group = self.optimizer.param_groups[0]
        if self.prev is not None:
            lr = hypergradient_update(group["lr"], grads, self.prev, self.hyper_lr)
            if math.isfinite(lr):  # a non-finite gradient stops train anyway
                group["lr"] = max(lr, 0.0)
        self.prev = [np.array(g, dtype=float) for g in grads]
        return loss, grads

    def val_loss(self) -> float | None:
        val_loss = getattr(self.objective, "val_loss", None)
        return None if val_loss is None else val_loss()

    def __repr__(self) -> str:
        return f"hypergradient({self.objective!r}, hyper_lr={self.hyper_lr:g})"


def train_hypergradient(
    objective: Objective,
    lr0: float,
    hyper_lr: float,
    steps: int,
    seed: int = 0,
    callbacks: Sequence[Callback] = (),
    record_path: bool = False,
    val_every: int | None = None,
    divergence_factor: float | None = DIVERGENCE_FACTOR,
    divergence_floor: float = DIVERGENCE_FLOOR,
    warn: bool = True,
) -> History:
    """Train with SGD whose rate is learned online by hypergradient descent (SGD-HD).

    The loop of :func:`lrcourse.train.train` (divergence detection, callbacks, validation),
    with the rate of each update set from the last two gradients::

        α_0 = lr0
        for t = 0, 1, ..., steps − 1:
            g_t = ∇L(θ_t)                                   (objective.loss_and_grads)
            α_t = max(0, α_{t−1} + β g_t · g_{t−1})         if t >= 1  (hypergradient_update)
            θ_{t+1} = θ_t − α_t g_t                         (in place, lrcourse.optimizers.SGD)

    ``History.lr[t]`` is α_t: the rate learned so far. Baydin et al. (their Algorithm "SGD-HD")
    use the same recursion with ∇_α u_0 = 0, i.e. α_0 for the first update; the clipping at 0
    is ours: a negative rate would climb the loss, while a rate of 0 recovers by itself (θ
    stays put, so the next two gradients agree and α grows again).

    Args:
        objective: see :class:`lrcourse.train.Objective`; its ``params`` are updated in place.
        lr0: α_0 >= 0, the starting rate.
        hyper_lr: β >= 0, the rate of the rate (0 gives plain SGD at lr0).
        steps: number of updates (>= 0).
        seed, callbacks, record_path, val_every, divergence_factor, divergence_floor, warn:
            as in :func:`lrcourse.train.train`.

    Returns:
        A :class:`lrcourse.train.History`; ``lr`` holds the learned rates.

    Example:
        From a rate 100 times too small on a parabola of curvature 1 (best rate 1):

        >>> from lrcourse.problems import Parabola
        >>> from lrcourse.train import landscape_objective
        >>> obj = landscape_objective(Parabola(curvature=1.0), x0=10.0)
        >>> h = train_hypergradient(obj, lr0=0.01, hyper_lr=0.01, steps=20)
        >>> h.lr[[0, 1, 2, 5]].round(3), bool(h.loss[-1] < 1e-6)
        (array([0.01, 1.  , 1.  , 1.  ]), True)
    """
    lr0 = check_lr(lr0, "lr0")
    hyper_lr = check_nonnegative(hyper_lr, "hyper_lr")
    steps = check_int(steps, "steps", minimum=0)
    if not hasattr(objective, "params") or not callable(getattr(objective, "loss_and_grads", None)):
        raise TypeError(
            f"objective must have params and loss_and_grads(rng), got objective={objective!r}"
        )
    optimizer = SGD(objective.params, lr=lr0)
    return train(
        _LearnedRate(objective, optimizer, hyper_lr), optimizer, steps, callbacks=callbacks,
        record_path=record_path, val_every=val_every, divergence_factor=divergence_factor,
        divergence_floor=divergence_floor, seed=seed, warn=warn,
    )
