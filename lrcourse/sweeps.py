"""Many learning rates (and momentum values) at once, as one batched NumPy computation.

A sweep runs gradient descent with heavy-ball momentum, in torch's form, for every point of a
grid of rates α and momenta β, all together: the iterate has shape ``(*grid, dim)`` and the
landscapes of :mod:`lrcourse.problems` take batched points. A 200 x 200 regime map of
100-step runs costs about as much as a few hundred NumPy calls on 40,000-row arrays
(``benchmarks/sweeps.py`` times it).

The update, per run (``v_0 = 0``, so the first step is plain gradient descent, as in torch)::

    g_k = ∇L(x_k)
    v_{k+1} = β v_k + g_k
    x_{k+1} = x_k - α v_{k+1}                    # nesterov=False
    x_{k+1} = x_k - α (g_k + β v_{k+1})          # nesterov=True

so each run equals ``lrcourse.optimizers.sgd_step`` with ``lr=α, momentum=β`` step for step
(bit for bit where the landscape computes a batch of points as it computes one).
A run that diverges (:func:`lrcourse.train.has_diverged`: its loss goes non-finite or
explodes) is frozen at that step without any warning: ``diverged_at`` records the step, its
loss there is kept and the rest of its row is NaN.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from ._validate import check_int, check_nonnegative
from .train import DIVERGENCE_FACTOR, DIVERGENCE_FLOOR, has_diverged

__all__ = ["REGIMES", "SweepResult", "sweep", "sweep_sgd"]

REGIMES = ("converges", "oscillates", "diverges", "too slow")
"""The labels of :meth:`SweepResult.regime`."""


@dataclass(eq=False)
class SweepResult:
    """The runs of a sweep: one per point of the (α, β) grid.

    Attributes:
        lrs: α of each run, shape ``grid``.
        momentum: β of each run, shape ``grid``.
        loss: ``loss[..., k]`` is the loss after ``k`` updates, shape ``(*grid, steps + 1)``;
            NaN after the step where a run diverged. For :func:`sweep_sgd`, the full-data loss.
        diverged_at: the step where each run diverged, -1 for runs that did not, shape ``grid``.
        path: the iterates, ``(*grid, steps + 1, dim)`` (NaN after divergence), or None.
        reversals: ``reversals[..., j]`` is True when update ``j + 1`` points against update ``j``
            (``Δx_j · Δx_{j+1} < 0``, ``Δx_j = x_{j+1} - x_j``), shape ``(*grid, steps - 1)``.
        loss_min: the reference minimum loss for :meth:`regime`: the loss at the landscape's
            known minimum, else the smallest loss any run reached.
        nesterov: whether the runs used Nesterov momentum.
    """

    lrs: np.ndarray
    momentum: np.ndarray
    loss: np.ndarray
    diverged_at: np.ndarray
    path: np.ndarray | None
    reversals: np.ndarray
    loss_min: float
    nesterov: bool = False

    @property
    def steps(self) -> int:
        """Number of updates of each run."""
        return self.loss.shape[-1] - 1

    @property
    def final_loss(self) -> np.ndarray:
        """Loss after the last update, shape ``grid``; NaN for runs that diverged."""
        return np.where(self.diverged_at >= 0, np.nan, self.loss[..., -1])

    def steps_to(self, target: float) -> np.ndarray:
        """First step k with ``loss[..., k] <= target`` (updates needed), -1 if never; shape grid.

        Example:
            >>> from lrcourse.problems import Parabola
            >>> result = sweep(Parabola(), lrs=[0.1, 0.5, 1.0, 3.0], steps=100, x0=1.0)
            >>> result.steps_to(1e-6)
            array([63, 10,  1, -1])
        """
        hit = self.loss <= target
        return np.where(hit.any(axis=-1), np.argmax(hit, axis=-1), -1)

    def regime(self, tol: float = 1e-3, noise: float = 1e-10) -> np.ndarray:
        """Label each run "converges", "oscillates", "diverges" or "too slow".

        With ``gap_k = loss_k - loss_min``, the first rule that holds gives the label:

        1. "diverges": the run diverged (``diverged_at >= 0``) or ended above where it started
           (``loss_T > loss_0``);
        2. "oscillates": the direction of travel reversed (``Δx_j · Δx_{j+1} < 0``) at least
           twice, counting only turns at points still far from the minimum
           (``gap > noise · gap_0``, so that round-off around the minimum does not count);
        3. "converges": the gap shrank by ``tol`` (``gap_T <= tol · gap_0``);
        4. "too slow": none of these.

        On a parabola of curvature λ, plain gradient descent gives "converges" for
        ``α < 1/λ`` (monotone), "oscillates" for ``1/λ < α < 2/λ`` (``x - x*`` changes sign
        every step, shrinking), "diverges" above ``2/λ``, and "too slow" when α is so small
        that ``(1 - αλ)^(2T) > tol``. The rule is meant for deterministic sweeps; in
        :func:`sweep_sgd` the gradient noise makes runs reverse all the time.

        Args:
            tol: the fraction of the initial gap counted as converged, in (0, 1).
            noise: the fraction of the initial gap below which turns are ignored, in [0, 1).

        Returns:
            An array of the labels of :data:`REGIMES`, shape ``grid``.

        Example:
            >>> from lrcourse.problems import Parabola
            >>> sweep(Parabola(), lrs=[1e-4, 0.5, 1.5, 2.5], steps=100, x0=1.0).regime()
            array(['too slow', 'converges', 'oscillates', 'diverges'], dtype='<U10')
        """
        check_nonnegative(tol, "tol")
        if not 0 < tol < 1:
            raise ValueError(f"tol must be in (0, 1), got tol={tol!r}")
        check_nonnegative(noise, "noise")
        if not noise < 1:
            raise ValueError(f"noise must be in [0, 1), got noise={noise!r}")
        with np.errstate(all="ignore"):
            gap = self.loss - self.loss_min
            gap0 = gap[..., :1]
            turns = self.reversals & (gap[..., 1:-1] > noise * gap0)
            oscillates = turns.sum(axis=-1) >= 2
            converges = gap[..., -1] <= tol * gap[..., 0]
            diverges = (self.diverged_at >= 0) | (self.loss[..., -1] > self.loss[..., 0])
        labels = np.full(self.diverged_at.shape, "too slow", dtype="<U10")
        labels[converges] = "converges"
        labels[oscillates] = "oscillates"
        labels[diverges] = "diverges"
        return labels


def _check_array(values: Any, name: str, upper: float | None = None) -> np.ndarray:
    """An array of finite numbers >= 0 (and < upper); the message names the argument."""
    try:
        a = np.asarray(values, dtype=float)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be an array of numbers, got {name}={values!r}") from None
    bad = ~np.isfinite(a) | (a < 0)
    if upper is not None:
        bad |= a >= upper
    if bad.any():
        limits = "finite numbers >= 0" if upper is None else f"numbers in [0, {upper:g})"
        raise ValueError(
            f"{name} must hold {limits}, got {name} containing {a[bad].ravel()[0]!r}"
        )
    return a


def _setup(landscape, name, lrs, momentum, x0, steps, needs):
    for attr in needs:
        if not hasattr(landscape, attr):
            raise TypeError(
                f"{name} must have {', '.join(needs)}, got {name}={landscape!r} without {attr!r}"
            )
    lrs = _check_array(lrs, "lrs")
    momentum = _check_array(momentum, "momentum", upper=1.0)
    try:
        grid = np.broadcast_shapes(lrs.shape, momentum.shape)
    except ValueError:
        raise ValueError(
            f"momentum must broadcast against lrs of shape {lrs.shape} (e.g. lrs[:, None] and "
            f"momentum[None, :] for a grid), got momentum of shape {momentum.shape}"
        ) from None
    steps = check_int(steps, "steps", minimum=0)
    dim = int(landscape.dim)
    if x0 is None:
        x0 = getattr(landscape, "x0", None)
        if x0 is None:
            raise ValueError(f"x0 is needed: landscape={landscape!r} has no default x0, got None")
    start = np.asarray(x0, dtype=float)
    if start.ndim == 0 and dim == 1:
        start = start.reshape(1)
    try:
        start = np.broadcast_to(start, grid + (dim,))
    except ValueError:
        raise ValueError(
            f"x0 must have shape ({dim},) or broadcast to (*grid, {dim}) = {grid + (dim,)}, "
            f"got x0 of shape {np.shape(x0)}"
        ) from None
    if not np.all(np.isfinite(start)):
        raise ValueError("x0 must be finite everywhere, got non-finite values in x0")
    n = math.prod(grid)
    flat = (
        np.broadcast_to(lrs, grid).reshape(n).copy(),
        np.broadcast_to(momentum, grid).reshape(n).copy(),
        start.reshape(n, dim).copy(),
    )
    return grid, steps, flat


def _loss_min(landscape: Any, loss: np.ndarray) -> float:
    minimum = getattr(landscape, "minimum", None)
    if minimum is not None:
        with np.errstate(all="ignore"):
            value = np.asarray(landscape.loss(np.asarray(minimum, dtype=float)), dtype=float)
        if value.size == 1 and np.isfinite(value):
            return float(value)
    finite = loss[np.isfinite(loss)]
    return float(finite.min()) if finite.size else math.nan


def _heavy_ball(loss_fn, grad_fn, x0, lrs, momentum, nesterov, steps, record_path, factor, floor):
    """The batched loop over N runs (rows). Returns loss, diverged_at, path, reversals."""
    n, dim = x0.shape
    x, v = x0.copy(), np.zeros_like(x0)
    alpha, beta = lrs[:, None], momentum[:, None]  # views: freezing a run zeroes its alpha
    alive, all_alive = np.ones(n, dtype=bool), True
    best = np.full(n, np.inf)
    # Step-major buffers: each step writes one contiguous row; callers get transposed views.
    loss = np.full((steps + 1, n), np.nan)
    diverged_at = np.full(n, -1)
    reversals = np.zeros((max(steps - 1, 0), n), dtype=bool)
    path = np.full((steps + 1, n, dim), np.nan) if record_path else None
    previous = None
    for k in range(steps + 1):
        f = np.asarray(loss_fn(x), dtype=float)
        dead = has_diverged(f, best, factor, floor)
        if not all_alive:
            dead &= alive
        loss[k] = f if all_alive else np.where(alive, f, np.nan)
        if path is not None:
            path[k] = x if all_alive else np.where(alive[:, None], x, np.nan)
        if dead.any():
            # Freeze: park the run at its start with no step size, so that its further
            # (ignored) iterations stay finite instead of overflowing.
            diverged_at[dead] = k
            alive &= ~dead
            all_alive = False
            lrs[dead] = 0.0
            x[dead], v[dead] = x0[dead], 0.0
        np.fmin(best, f, out=best)
        if k == steps or not alive.any():
            break
        g = grad_fn(x, k)
        v *= beta
        v += g
        step = alpha * (g + beta * v) if nesterov else alpha * v
        x -= step
        if previous is not None:
            turned = np.einsum("nd,nd->n", step, previous) < 0
            reversals[k - 1] = turned if all_alive else turned & alive
        previous = step
    return loss.T, diverged_at, None if path is None else path.transpose(1, 0, 2), reversals.T


def _result(grid, lrs, momentum, nesterov, out, landscape) -> SweepResult:
    loss, diverged_at, path, reversals = out
    steps = loss.shape[1] - 1
    return SweepResult(
        lrs=lrs.reshape(grid),
        momentum=momentum.reshape(grid),
        loss=loss.reshape(grid + (steps + 1,)),
        diverged_at=diverged_at.reshape(grid),
        path=None if path is None else path.reshape(grid + path.shape[1:]),
        reversals=reversals.reshape(grid + reversals.shape[1:]),
        loss_min=_loss_min(landscape, loss),
        nesterov=nesterov,
    )


def sweep(
    landscape: Any,
    lrs: Any,
    steps: int,
    x0: Any = None,
    momentum: Any = 0.0,
    nesterov: bool = False,
    record_path: bool = False,
    divergence_factor: float | None = DIVERGENCE_FACTOR,
    divergence_floor: float = DIVERGENCE_FLOOR,
) -> SweepResult:
    """Run (momentum) gradient descent on a landscape for a whole grid of rates at once.

    ``lrs`` and ``momentum`` broadcast to the grid: ``lrs[:, None]`` with ``momentum[None, :]``
    gives a ``len(lrs) x len(momentum)`` regime map; two 1-D arrays of the same length pair up.
    The update is the heavy-ball rule of the module docstring (torch's SGD), with the
    divergence rule of :func:`lrcourse.train.has_diverged` applied to each run separately.
    No warnings: runs that blow up are frozen and marked in ``diverged_at``.

    Args:
        landscape: a batched landscape (``loss``, ``grad``, ``dim``) of :mod:`lrcourse.problems`.
        lrs: rates α >= 0 (any shape).
        steps: updates per run (>= 0).
        x0: the start, shape ``(dim,)`` (a scalar for 1-D) or broadcastable to
            ``(*grid, dim)``; None uses ``landscape.x0``.
        momentum: momenta β in [0, 1) (any shape broadcastable with ``lrs``).
        nesterov: Nesterov momentum.
        record_path: keep every iterate in ``SweepResult.path``.
        divergence_factor, divergence_floor: the explosion rule, as in :func:`lrcourse.train.train`.

    Returns:
        A :class:`SweepResult` over the grid.

    Example:
        >>> from lrcourse.problems import Parabola
        >>> result = sweep(Parabola(curvature=1.0), lrs=[0.5, 1.0, 1.5, 2.5], steps=30, x0=1.0)
        >>> result.loss[:, :3]
        array([[0.5    , 0.125  , 0.03125],
               [0.5    , 0.     , 0.     ],
               [0.5    , 0.125  , 0.03125],
               [0.5    , 1.125  , 2.53125]])
        >>> result.diverged_at
        array([-1, -1, -1, 12])
    """
    grid, steps, (lr, mom, start) = _setup(
        landscape, "landscape", lrs, momentum, x0, steps, ("loss", "grad", "dim")
    )
    _check_divergence(divergence_factor, divergence_floor)
    with np.errstate(all="ignore"):
        out = _heavy_ball(
            landscape.loss,
            lambda x, k: landscape.grad(x),
            start,
            lr.copy(),
            mom,
            bool(nesterov),
            steps,
            bool(record_path),
            divergence_factor,
            divergence_floor,
        )
    return _result(grid, lr, mom, bool(nesterov), out, landscape)


def sweep_sgd(
    loss: Any,
    lrs: Any,
    steps: int,
    batch_size: int | None,
    seed: int = 0,
    momentum: Any = 0.0,
    nesterov: bool = False,
    x0: Any = None,
    record_path: bool = False,
    divergence_factor: float | None = DIVERGENCE_FACTOR,
    divergence_floor: float = DIVERGENCE_FLOOR,
) -> SweepResult:
    """Mini-batch SGD for a grid of rates at once, every run seeing the same batches.

    At update k all runs use the same batch: ``idx_k = rng.choice(n, batch_size,
    replace=False)`` with ``rng = np.random.default_rng(seed)`` (fresh, independent draws each
    step), and the gradient ``loss.minibatch_grad(x, idx_k)``; the heavy-ball rule and the
    divergence rule are those of :func:`sweep`. So the runs differ only by their rate (and
    momentum), which is what "largest stable rate against batch size" needs. The recorded loss
    is the loss on the whole data set (``loss.loss(x)``), the quantity one wants to compare.
    ``batch_size=None`` (or ``n``) gives full-batch gradient descent, equal to :func:`sweep`.

    Args:
        loss: a data-set landscape with ``minibatch_grad(x, idx)`` and ``X`` (n rows), such as
            ``LinearRegressionLoss`` or ``LogisticRegressionLoss``.
        lrs, steps, momentum, nesterov, x0, record_path, divergence_factor, divergence_floor:
            as in :func:`sweep` (x0=None starts at ``loss.x0``).
        batch_size: rows per batch (1 .. n), or None for the full batch.
        seed: seed of the batch sequence.

    Returns:
        A :class:`SweepResult`.
    """
    grid, steps, (lr, mom, start) = _setup(
        loss, "loss", lrs, momentum, x0, steps, ("loss", "minibatch_grad", "X", "dim")
    )
    _check_divergence(divergence_factor, divergence_floor)
    n = len(loss.X)
    if batch_size is None:
        batch_size = n
    check_int(batch_size, "batch_size", minimum=1)
    if batch_size > n:
        raise ValueError(
            f"batch_size must be at most the number of rows n={n}, got batch_size={batch_size}"
        )
    rng = np.random.default_rng(seed)
    if batch_size == n:
        batches = [np.arange(n)] * steps
    else:
        batches = [rng.choice(n, size=batch_size, replace=False) for _ in range(steps)]
    with np.errstate(all="ignore"):
        out = _heavy_ball(
            loss.loss,
            lambda x, k: loss.minibatch_grad(x, batches[k]),
            start,
            lr.copy(),
            mom,
            bool(nesterov),
            steps,
            bool(record_path),
            divergence_factor,
            divergence_floor,
        )
    return _result(grid, lr, mom, bool(nesterov), out, loss)


def _check_divergence(factor: float | None, floor: float) -> None:
    if factor is not None:
        if isinstance(factor, bool) or not isinstance(factor, int | float | np.number):
            raise TypeError(f"divergence_factor must be a number, got divergence_factor={factor!r}")
        if not (math.isfinite(factor) and factor > 1):
            raise ValueError(
                "divergence_factor must be a number > 1 (or None), "
                f"got divergence_factor={factor!r}"
            )
    check_nonnegative(floor, "divergence_floor")
