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

:func:`sweep_mlp` does the same for a small network: it trains one ReLU MLP with SGD many times
(other rates, schedules, momenta, weight decays, seeds or data sets), with a leading axis of
runs on every parameter, and each run equals ``lrcourse.train.train`` number for number.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from ._validate import check_index_array, check_int, check_nonnegative, check_positive
from .nn import MLP
from .train import DIVERGENCE_FACTOR, DIVERGENCE_FLOOR, History, has_diverged

__all__ = [
    "REGIMES",
    "MLPSweep",
    "SweepResult",
    "minibatches",
    "sweep",
    "sweep_mlp",
    "sweep_sgd",
]

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
    batches = minibatches(n, batch_size, steps, seed)
    if batches is None:
        batches = [np.arange(n)] * steps
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


def minibatches(n: int, batch_size: int | None, steps: int, seed: int = 0) -> np.ndarray | None:
    """The rows of the mini-batch of every update, drawn as :func:`sweep_sgd` draws them.

    ``idx_k = rng.choice(n, batch_size, replace=False)`` for k = 0, 1, ..., steps - 1, with
    ``rng = np.random.default_rng(seed)``: fresh, independent draws, the ones
    :func:`lrcourse.train.train` makes with the same seed.

    Args:
        n: the number of rows.
        batch_size: rows per batch (1 .. n), or None for the full batch.
        steps: the number of batches.
        seed: the seed of the draws.

    Returns:
        The indices, shape ``(steps, batch_size)``; None for the full batch (None or n).

    Example:
        >>> minibatches(10, 3, steps=2, seed=0)
        array([[5, 9, 6],
               [9, 8, 0]])
    """
    if batch_size is None or batch_size == n:
        return None
    check_int(batch_size, "batch_size", minimum=1)
    if batch_size > n:
        raise ValueError(
            f"batch_size must be at most the number of rows n={n}, got batch_size={batch_size}"
        )
    rng = np.random.default_rng(seed)
    return np.array([rng.choice(n, size=batch_size, replace=False) for _ in range(steps)],
                    dtype=np.intp).reshape(steps, batch_size)


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


# ---------------------------------------------------------------------------------------------
# Many training runs of a small MLP


@dataclass(eq=False)
class MLPSweep:
    """The runs of :func:`sweep_mlp`; the leading axes of every array index the runs.

    Attributes:
        lr: ``lr[..., t]``, the rate of update t, shape ``(*runs, steps)``.
        momentum: ``momentum[..., t]``, the momentum of update t, shape ``(*runs, steps)``.
        weight_decay: the L2 coefficient of each run, shape ``runs``.
        loss: ``loss[..., k]``, the loss of the batch drawn at step k (what ``History.loss``
            records), shape ``(*runs, steps + 1)``; NaN after the step where a run diverged.
        val_steps: the steps at which validation was measured, shape (V,), or None.
        val_loss: the loss on the validation set at those steps, ``(*runs, V)``, or None.
        train_loss: the loss on the whole training set at those steps, ``(*runs, V)``, or None.
        diverged_at: the step at which each run diverged, -1 for runs that did not.
        final_train_loss: the loss on the whole training set after the last update, NaN for
            runs that diverged.
        params: the final parameters, one array ``(R, *shape)`` per layer (W1, b1, W2, ...),
            the R runs flattened in order. A diverged run keeps the parameters it had when it
            diverged, as ``train`` does.
        best_params: the parameters of each run at its lowest validation loss (the first on
            ties), like ``params``, or None (see ``keep_best``).
    """

    lr: np.ndarray
    momentum: np.ndarray
    weight_decay: np.ndarray
    loss: np.ndarray
    val_steps: np.ndarray | None
    val_loss: np.ndarray | None
    train_loss: np.ndarray | None
    diverged_at: np.ndarray
    final_train_loss: np.ndarray
    params: list[np.ndarray]
    best_params: list[np.ndarray] | None = None

    def __len__(self) -> int:
        return len(self.diverged_at)

    @property
    def shape(self) -> tuple[int, ...]:
        """The shape of the runs (``(R,)``, or what :meth:`reshape` made of it)."""
        return self.diverged_at.shape

    def reshape(self, *shape: int) -> MLPSweep:
        """The same runs with their leading axes reshaped (e.g. to settings x seeds).

        ``params`` and ``best_params`` keep one flat axis of runs.
        """
        def lead(a: np.ndarray | None, tail: int) -> np.ndarray | None:
            return None if a is None else a.reshape(*shape, *a.shape[a.ndim - tail:])

        return replace(self, lr=lead(self.lr, 1), momentum=lead(self.momentum, 1),
                       weight_decay=lead(self.weight_decay, 0), loss=lead(self.loss, 1),
                       val_loss=lead(self.val_loss, 1), train_loss=lead(self.train_loss, 1),
                       diverged_at=lead(self.diverged_at, 0),
                       final_train_loss=lead(self.final_train_loss, 0))

    def history(self, i: int | tuple[int, ...]) -> History:
        """Run ``i`` as the :class:`lrcourse.train.History` that ``train`` would have returned."""
        stop = int(self.diverged_at[i])
        n = self.loss.shape[-1] if stop < 0 else stop + 1
        val, steps = None, None
        if self.val_loss is not None:
            keep = self.val_steps < n if stop < 0 else self.val_steps < stop
            val, steps = self.val_loss[i][keep].copy(), self.val_steps[keep].copy()
        return History(
            loss=self.loss[i][:n].copy(), lr=self.lr[i][: n - 1].copy(), val_loss=val,
            val_steps=steps, diverged=stop >= 0, diverged_at=None if stop < 0 else stop,
            reason=None if stop < 0 else "diverged",
        )

    def logits(self, X: np.ndarray, best: bool = False) -> np.ndarray:
        """The outputs of every run's network on inputs X (n, d): shape (R, n, classes).

        Args:
            X: the inputs, shared by all runs.
            best: use ``best_params`` (the weights early stopping would keep) instead of
                the final ones.
        """
        params = self.best_params if best else self.params
        if params is None:
            raise ValueError("best=True needs the runs of sweep_mlp(..., keep_best=True)")
        return _forward(params, np.asarray(X, dtype=float))[-1]

    @property
    def best_index(self) -> np.ndarray:
        """Index of the lowest validation loss of each run (the first one on ties)."""
        return np.argmin(np.where(np.isnan(self.val_loss), np.inf, self.val_loss), axis=-1)

    def _at_best(self, values: np.ndarray) -> np.ndarray:
        return np.take_along_axis(values, self.best_index[..., None], axis=-1)[..., 0]

    @property
    def best_step(self) -> np.ndarray:
        """The step of each run's lowest validation loss: where early stopping would restore."""
        return self.val_steps[self.best_index]

    @property
    def best_val(self) -> np.ndarray:
        """Each run's lowest validation loss."""
        return self._at_best(self.val_loss)

    @property
    def gap_at_best(self) -> np.ndarray:
        """Validation minus training loss at each run's best step."""
        return self.best_val - self._at_best(self.train_loss)

    @property
    def final_val(self) -> np.ndarray:
        """Validation loss at the last measurement (NaN for a run that diverged)."""
        return self.val_loss[..., -1]

    @property
    def final_gap(self) -> np.ndarray:
        """Validation minus training loss at the last measurement (NaN if diverged)."""
        return self.val_loss[..., -1] - self.train_loss[..., -1]


def _per_run(value: Any, runs: int, steps: int | None, name: str) -> np.ndarray:
    """One number for all runs, one per run (runs,), or, with ``steps``, one per run and update
    (runs, steps): broadcast to (runs,) or (runs, steps). Finite and >= 0."""
    a = np.asarray(value, dtype=float)
    shapes = [(), (runs,)] + ([(runs, steps)] if steps is not None else [])
    if a.shape not in shapes:
        raise ValueError(
            f"{name} must be a number, one value per run ({runs},)"
            + (f" or one per run and update ({runs}, {steps})" if steps is not None else "")
            + f", got {name} of shape {a.shape}"
        )
    if not np.all(np.isfinite(a) & (a >= 0)):
        raise ValueError(f"{name} must hold finite numbers >= 0, got {name} containing "
                         f"{a[~(np.isfinite(a) & (a >= 0))].ravel()[0]!r}")
    if a.ndim == 1 and steps is not None:
        a = a[:, None]
    return np.broadcast_to(a, (runs,) if steps is None else (runs, steps))


def _forward(params: list[np.ndarray], X: np.ndarray) -> list[np.ndarray]:
    """Inputs and layer outputs ``[X, h_1, ..., h_L]`` of R stacked ReLU MLPs (X: (n, d) shared,
    or (R, n, d)), computed as ``MLP.forward`` computes one."""
    hs = [X]
    layers = len(params) // 2
    for layer in range(layers):
        h = np.matmul(hs[-1], params[2 * layer])
        h += params[2 * layer + 1][:, None, :]
        if layer < layers - 1:
            np.maximum(h, 0.0, out=h)
        hs.append(h)
    return hs


def _cross_entropy(logits: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-run mean softmax cross-entropy and its gradient with respect to the logits (R, n, C),
    number for number as ``lrcourse.nn.softmax_cross_entropy`` computes them run by run.

    ``labels``: the class of each row, (n,) shared by the runs or (R, n).
    """
    runs, n, classes = logits.shape
    # A loop over the short class axis is much faster than a NumPy reduction along it, and
    # gives the same numbers: the maximum is exact, and NumPy adds fewer than 8 terms in
    # order, left to right.
    top = logits[..., 0].copy()
    for c in range(1, classes):
        np.maximum(top, logits[..., c], out=top)
    shifted = logits - top[..., None]
    exps = np.exp(shifted)
    if classes < 8:
        total = exps[..., 0].copy()
        for c in range(1, classes):
            total += exps[..., c]
    else:
        total = exps.sum(axis=-1)
    log_probs = shifted - np.log(total)[..., None]
    at_label = (np.arange(runs)[:, None], np.arange(n), labels)
    loss = -log_probs[at_label].mean(axis=-1)
    grad = np.exp(log_probs)
    grad[at_label] -= 1.0
    grad /= n
    return loss, grad


def _layer_views(flat: np.ndarray, shapes: list[tuple[int, ...]]) -> list[np.ndarray]:
    """Views of the rows of ``flat`` (R, P) as per-layer arrays (R, *shape), in order."""
    views, start = [], 0
    for shape in shapes:
        size = math.prod(shape)
        views.append(flat[:, start:start + size].reshape(len(flat), *shape))
        start += size
    return views


def _data(X: Any, y: Any, runs: int, classes: int, name: str) -> tuple[np.ndarray, np.ndarray]:
    """Inputs (n, d) or (runs, n, d) as floats, and their integer labels (n,) or (runs, n)."""
    X, y = np.asarray(X, dtype=float), np.asarray(y)
    if X.ndim not in (2, 3) or (X.ndim == 3 and len(X) != runs):
        raise ValueError(f"{name} must have shape (n, d), or ({runs}, n, d) for one set per run, "
                         f"got {name} of shape {X.shape}")
    label = "y" if name == "X" else "y_val"
    if y.shape != X.shape[:-1]:
        raise ValueError(f"{label} must have one label per row of {name}, shape {X.shape[:-1]}, "
                         f"got {label} of shape {y.shape}")
    return X, check_index_array(y.reshape(-1), label, classes).reshape(y.shape)


def sweep_mlp(
    sizes: list[int],
    X: np.ndarray,
    y: np.ndarray,
    lr: Any,
    steps: int,
    *,
    momentum: Any = 0.0,
    weight_decay: Any = 0.0,
    seed: Any = 0,
    batch_size: int | None = None,
    batch_seed: Any = 0,
    X_val: np.ndarray | None = None,
    y_val: np.ndarray | None = None,
    val_every: int | None = None,
    keep_best: bool = False,
    loss_scale: float = 1.0,
) -> MLPSweep:
    """Train a ReLU MLP with SGD many times at once: one NumPy computation for all the runs.

    Run r is, number for number (with ``loss_scale = 1``)::

        net = MLP(sizes, seed=seed[r])                   # ReLU, He initialisation
        obj = supervised_objective(net, X[r], y[r], batch_size, X_val=X_val[r], y_val=y_val[r])
        opt = SGD(net.params, lr=lr[r, 0], momentum=momentum[r, 0],
                  weight_decay=weight_decay[r])
        train(obj, opt, steps, schedule=lambda t: lr[r, t],
              momentum_schedule=lambda t: momentum[r, t], val_every=val_every,
              seed=batch_seed[r])

    that is, at every step t = 0 .. steps, on the batch drawn by ``rng.choice(n, batch_size,
    replace=False)`` from ``default_rng(batch_seed[r])`` (the whole set when ``batch_size`` is
    None), with the softmax cross-entropy L and ``g_t = ∇L(θ_t) + λ θ_t``::

        stop if L diverges (lrcourse.train.has_diverged) or g_t is not finite
        b_t = g_t at the first update with μ_t ≠ 0,  b_t = μ_t b_{t-1} + g_t after it
        θ_{t+1} = θ_t - α_t b_t      (α_t g_t while μ_t = 0)

    and every ``val_every`` steps the loss on the validation set and on the whole training
    set. A diverged run keeps the parameters it had when it diverged, its later losses are NaN,
    and nothing warns. ``loss_scale`` multiplies the loss (so every gradient), as summing the
    loss over a batch instead of averaging it would.

    Args:
        sizes: the layer widths of the MLP.
        X, y: the training set, inputs (n, d) and integer labels (n,) shared by all runs, or
            one set per run, (R, n, d) and (R, n).
        lr: the rates α >= 0, one per run (R,), or per run and update (R, steps): a schedule.
        steps: the number of updates of each run.
        momentum: SGD momentum μ in [0, 1): a number, one per run, or per run and update.
        weight_decay: the L2 coefficient λ >= 0, a number or one per run.
        seed: the seed of the initialisation, a number or one per run.
        batch_size: rows per mini-batch, or None for full-batch gradient descent.
        batch_seed: the seed of the mini-batch draws (``train``'s ``seed``), a number or one
            per run; runs with the same seed (and data) see the same batches.
        X_val, y_val: a validation set, shared or per run like X and y.
        val_every: measure the validation and training losses every that many steps, from
            step 0 (needs X_val and y_val), or None.
        keep_best: also keep each run's parameters at its lowest validation loss.
        loss_scale: a factor on the loss (> 0).

    Returns:
        An :class:`MLPSweep` of R runs.

    Example:
        >>> from lrcourse.problems import two_moons
        >>> data = two_moons(100, noise=0.2, seed=0)
        >>> runs = sweep_mlp([2, 8, 2], data.X, data.y, lr=[0.01, 0.3, 3.0, 100.0], steps=100)
        >>> runs.final_train_loss.round(3), runs.diverged_at
        (array([0.495, 0.318, 0.113,   nan]), array([-1, -1, -1,  2]))

        The third run is the library's training loop, number for number:

        >>> from lrcourse.optimizers import SGD
        >>> from lrcourse.train import supervised_objective, train
        >>> net = MLP([2, 8, 2], seed=0)
        >>> h = train(supervised_objective(net, data.X, data.y), SGD(net.params, lr=3.0), 100)
        >>> bool(np.array_equal(h.loss, runs.loss[2]))
        True
    """
    steps = check_int(steps, "steps", minimum=0)
    sizes = list(sizes)
    rates = np.asarray(lr, dtype=float)
    if rates.ndim not in (1, 2):
        raise ValueError(f"lr must hold one rate per run (R,) or per run and update "
                         f"(R, {steps}), got lr of shape {rates.shape}")
    R = len(rates)
    rates = _per_run(rates, R, steps, "lr")
    momenta = _per_run(momentum, R, steps, "momentum")
    if np.any(momenta >= 1):
        raise ValueError(f"momentum must be in [0, 1), got momentum containing "
                         f"{momenta[momenta >= 1].ravel()[0]!r}")
    decay = _per_run(weight_decay, R, None, "weight_decay")
    init_seeds = _per_run(seed, R, None, "seed").astype(np.int64)
    batch_seeds = _per_run(batch_seed, R, None, "batch_seed").astype(np.int64)
    check_positive(loss_scale, "loss_scale")
    X, y = _data(X, y, R, sizes[-1], "X")
    validate = val_every is not None
    if validate:
        check_int(val_every, "val_every", minimum=1)
        if X_val is None or y_val is None:
            raise ValueError(f"val_every needs X_val and y_val, got val_every={val_every} "
                             "without a validation set")
        X_val, y_val = _data(X_val, y_val, R, sizes[-1], "X_val")
    elif keep_best:
        raise ValueError("keep_best needs validation losses to pick the best step: give "
                         "X_val, y_val and val_every, got keep_best=True and val_every=None")

    # All the parameters of a run live in one row of `theta` (R, P), the layers are views into
    # it, and likewise the gradients in `grad`: the divergence check and the update are then
    # single operations over every run and every parameter.
    shapes = [shape for fan_in, fan_out in zip(sizes[:-1], sizes[1:], strict=True)
              for shape in ((fan_in, fan_out), (fan_out,))]
    theta = np.empty((R, sum(math.prod(shape) for shape in shapes)))
    grad, buffer = np.empty_like(theta), np.zeros_like(theta)
    params, grads = _layer_views(theta, shapes), _layer_views(grad, shapes)
    nets = {int(s): MLP(sizes, seed=int(s)).params for s in np.unique(init_seeds)}
    for r, s in enumerate(init_seeds):
        for p, value in zip(params, nets[int(s)], strict=True):
            p[r] = value
    n = X.shape[-2]
    full_batch = batch_size is None or batch_size >= n
    if not full_batch:  # the draws of `train`, one sequence per batch seed
        drawn = {int(s): minibatches(n, batch_size, steps + 1, int(s))
                 for s in np.unique(batch_seeds)}
        batches = np.array([drawn[int(s)] for s in batch_seeds])  # (R, steps + 1, batch)
        if X.ndim == 3:
            rows = np.arange(R)[:, None]
        elif len(drawn) == 1:  # shared data and batches: one (batch, d) input for all runs
            batches = batches[0]

    loss = np.full((R, steps + 1), np.nan)
    n_val = steps // val_every + 1 if validate else 0
    val_loss, train_loss = np.full((R, n_val), np.nan), np.full((R, n_val), np.nan)
    diverged_at = np.full(R, -1)
    alive = np.ones(R, dtype=bool)
    lowest, best_val = np.full(R, np.inf), np.full(R, np.inf)
    best_theta = theta.copy() if keep_best else None
    started = np.zeros(R, dtype=bool)  # whether a run's momentum buffer holds a gradient
    layers = len(sizes) - 1
    decays, uses_momentum = bool(np.any(decay)), bool(np.any(momenta))

    def full_loss(inputs: np.ndarray, labels: np.ndarray) -> np.ndarray:
        return loss_scale * _cross_entropy(_forward(params, inputs)[-1], labels)[0]

    with np.errstate(all="ignore"):
        for t in range(steps + 1):
            if full_batch:
                Xb, yb = X, y
            elif X.ndim == 3:
                Xb, yb = X[rows, batches[:, t]], y[rows, batches[:, t]]
            else:
                Xb, yb = X[batches[..., t, :]], y[batches[..., t, :]]
            hs = _forward(params, Xb)
            value, g = _cross_entropy(hs[-1], yb)
            if loss_scale != 1:
                value *= loss_scale
                g *= loss_scale
            # backpropagation, as MLP.loss_and_grads does it
            for layer in reversed(range(layers)):
                if layer < layers - 1:
                    g *= hs[layer + 1] > 0
                np.matmul(np.swapaxes(hs[layer], -1, -2), g, out=grads[2 * layer])
                # the sum over rows, in MLP's order (row by row), twice as fast with the rows
                # made the outer axis
                np.ascontiguousarray(np.swapaxes(g, 0, 1)).sum(axis=0, out=grads[2 * layer + 1])
                if layer > 0:  # (the gradient with respect to the inputs is not needed)
                    g = g @ np.swapaxes(params[2 * layer], -1, -2)

            bad = alive & (has_diverged(value, lowest) | ~np.isfinite(grad).all(axis=1))
            loss[alive, t] = value[alive]
            diverged_at[bad] = t
            alive &= ~bad
            lowest = np.where(alive, np.minimum(lowest, value), lowest)

            if validate and t % val_every == 0:
                k = t // val_every
                val_loss[alive, k] = full_loss(X_val, y_val)[alive]
                fit = value if full_batch else full_loss(X, y)
                train_loss[alive, k] = fit[alive]
                if best_theta is not None:
                    better = alive & (val_loss[:, k] < best_val)
                    best_val[better] = val_loss[better, k]
                    best_theta[better] = theta[better]
            if t == steps or not alive.any():
                break
            if decays:
                grad += decay[:, None] * theta
            step = grad
            if uses_momentum:
                beta = momenta[:, t]
                on = beta != 0
                # torch's buffer: the gradient itself at its first use, then β b + g; a step
                # with β = 0 leaves the buffer alone and steps along the gradient
                fresh = on & ~started
                buffer = np.where(fresh[:, None], grad,
                                  np.where(on[:, None], beta[:, None] * buffer + grad, buffer))
                started |= on
                step = np.where(on[:, None], buffer, grad)
            step *= rates[:, t, None]
            np.subtract(theta, step, out=theta, where=alive[:, None])  # diverged runs stay put

        if full_batch:
            final = loss[:, -1]
        else:
            final = full_loss(X, y)
    final = np.where(alive, final, np.nan)
    return MLPSweep(
        lr=np.array(rates), momentum=np.array(momenta), weight_decay=np.array(decay),
        loss=loss, val_steps=np.arange(n_val) * val_every if validate else None,
        val_loss=val_loss if validate else None, train_loss=train_loss if validate else None,
        diverged_at=diverged_at, final_train_loss=final, params=params,
        best_params=None if best_theta is None else _layer_views(best_theta, shapes),
    )
