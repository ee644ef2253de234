"""Explorers of section 08: a rate that learns itself, and a search that models its objective.

Two helpers come first, because the notebook uses them too:

* :class:`RateObjective`: the tuning problem of the section, f(α) = log10 of the validation
  loss of a linear regression after 100 steps of mini-batch SGD at rate α; ``curve`` evaluates
  it for many rates at once (one vectorised sweep).
* :func:`hypergradient_sweep`: hypergradient descent (SGD-HD) for a whole grid of starting
  rates α₀ and hyper-rates β at once, run for run equal to
  :func:`lrcourse.tuning.train_hypergradient`.

Each explorer computes everything its sliders can ask for when it is built; a move is then a
lookup and a redraw of a few artists.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..nn import MLP
from ..optimizers import SGD
from ..plots import PALETTE, REGIME_COLOURS
from ..problems import LinearRegressionLoss, linear_regression
from ..progress import silenced
from ..sweeps import sweep, sweep_sgd
from ..train import (
    DIVERGENCE_FACTOR,
    DIVERGENCE_FLOOR,
    has_diverged,
    supervised_objective,
    train,
)
from ..tuning import LogUniform, SearchResult, bayes_search
from ._core import Explorer, alpha_slider, format_readout, int_slider, nearest, slider_values

__all__ = [
    "BayesSearchExplorer",
    "HypergradientExplorer",
    "QuadraticLoss",
    "RateObjective",
    "SharedFeatureTasks",
    "TransferResult",
    "hypergradient_sweep",
    "transfer_experiment",
]


# ------------------------------------------------------------------------- the problems


def regression_split(seed: int = 1) -> tuple[LinearRegressionLoss, LinearRegressionLoss]:
    """The linear regression of this section: 10 features, 200 rows to train, 100 to validate.

    Targets y = x·w + noise (standard deviation 1); the features are rescaled by factors from
    0.2 to 2, so the curvatures of the training loss spread over two decades (λ from about
    0.04 to 3.9) and the stability limit of full-batch gradient descent is 2/λ_max ≈ 0.51.
    """
    data = linear_regression(n=300, d=10, noise=1.0, seed=seed)
    X = data.X * np.geomspace(0.2, 2.0, 10)
    return (LinearRegressionLoss(X[:200], data.y[:200]),
            LinearRegressionLoss(X[200:], data.y[200:]))


class QuadraticLoss:
    """A least-squares loss in closed form: the same values as ``LinearRegressionLoss``, faster.

    With A = XᵀX/n, b = Xᵀy/n and c = ‖y‖²/(2n)::

        L(w) = 1/(2n) ‖X w − y‖² = ½ wᵀ A w − bᵀ w + c,     ∇L(w) = A w − b

    so a batch of m weight vectors costs m·d² operations instead of m·n·d. Batched like the
    landscapes of :mod:`lrcourse.problems` (points of shape (..., d)).
    """

    def __init__(self, loss: LinearRegressionLoss) -> None:
        X, y = loss.X, loss.y
        n = len(y)
        self.A = X.T @ X / n
        self.b = X.T @ y / n
        self.c = float(y @ y) / (2 * n)
        self.dim = X.shape[1]
        self.x0 = np.zeros(self.dim)
        self.minimum = loss.minimum
        self.lam_max = float(loss.lam_max)

    def loss(self, w: Any) -> Any:
        w = np.asarray(w, dtype=float)
        return 0.5 * np.einsum("...i,...i->...", w @ self.A, w) - w @ self.b + self.c

    def grad(self, w: Any) -> Any:
        return np.asarray(w, dtype=float) @ self.A - self.b


class RateObjective:
    """f(α) = log10 of the validation loss after ``steps`` updates of mini-batch SGD at rate α.

    The model is the linear regression of :func:`regression_split`, started at w = 0 and trained
    with batches of ``batch_size`` rows (the same sequence of batches for every α, drawn from
    ``seed``). A run that diverges gives NaN: a failed trial. The log makes the objective vary
    on a scale a Gaussian process can follow (losses span orders of magnitude); it has the same
    minimiser as the loss itself.

    Attributes:
        space: the search space, ``{"lr": LogUniform(low, high)}``.
        train_loss, val_loss: the two landscapes.

    Example:
        >>> f = RateObjective()
        >>> round(f({"lr": 0.05}), 3), f({"lr": 1.0})
        (0.079, nan)
    """

    def __init__(self, steps: int = 100, batch_size: int = 2, seed: int = 0,
                 low: float = 1e-4, high: float = 1.0) -> None:
        self.steps, self.batch_size, self.seed = steps, batch_size, seed
        self.train_loss, self.val_loss = regression_split()
        self.space = {"lr": LogUniform(low, high)}

    def curve(self, lrs: Any) -> tuple[np.ndarray, np.ndarray]:
        """f at every rate of ``lrs`` at once, and the step each run diverged at.

        The runs are those of :func:`lrcourse.sweeps.sweep_sgd` (its batches, its divergence
        rule), one per rate.

        Returns:
            ``(values, diverged_at)``: NaN and the step for runs that diverged, -1 otherwise.
        """
        runs = sweep_sgd(self.train_loss, lrs, self.steps, self.batch_size, seed=self.seed,
                         record_path=True)
        with np.errstate(all="ignore"):
            values = np.log10(self.val_loss.loss(runs.path[..., -1, :]))
        return np.where(runs.diverged_at >= 0, np.nan, values), runs.diverged_at

    def __call__(self, params: dict[str, float]) -> float:
        values, _ = self.curve(np.array([params["lr"]]))
        return float(values[0])

    def __repr__(self) -> str:
        return (f"RateObjective(steps={self.steps}, batch_size={self.batch_size}, "
                f"space={self.space})")


def hypergradient_sweep(
    landscape: Any,
    lr0: Any,
    hyper_lr: Any,
    steps: int,
    x0: Any = None,
    divergence_factor: float | None = DIVERGENCE_FACTOR,
    divergence_floor: float = DIVERGENCE_FLOOR,
) -> dict[str, np.ndarray]:
    """SGD with hypergradient descent on the rate, for a grid of (α₀, β) at once.

    Every run follows :func:`lrcourse.tuning.train_hypergradient` on a landscape::

        g_t = ∇L(x_t)
        α_t = max(0, α_{t−1} + β g_t · g_{t−1})   for t >= 1,   α_0 = α₀
        x_{t+1} = x_t − α_t g_t

    with the divergence rule of :func:`lrcourse.train.train` (a run that diverges is frozen:
    NaN from the next step on).

    Args:
        landscape: a batched landscape (``loss``, ``grad``, ``dim``, ``x0``).
        lr0: starting rates α₀ >= 0, any shape broadcastable with ``hyper_lr``.
        hyper_lr: hyper-rates β >= 0.
        steps: updates per run.
        x0: the start (None: ``landscape.x0``).
        divergence_factor, divergence_floor: as in :func:`lrcourse.train.train`.

    Returns:
        A dict of arrays over the broadcast grid G: ``loss`` (G, steps + 1), ``lr``
        (G, steps), the α_t of each update, and ``diverged_at`` (G), -1 for runs that did not.
    """
    lr0, beta = np.broadcast_arrays(np.asarray(lr0, dtype=float),
                                    np.asarray(hyper_lr, dtype=float))
    grid = lr0.shape
    start = np.asarray(landscape.x0 if x0 is None else x0, dtype=float).reshape(landscape.dim)
    x = np.broadcast_to(start, grid + (landscape.dim,)).copy()
    alpha, beta = lr0.copy(), beta.copy()
    loss = np.full(grid + (steps + 1,), np.nan)
    rates = np.full(grid + (steps,), np.nan)
    diverged_at = np.full(grid, -1)
    alive = np.ones(grid, dtype=bool)
    best = np.full(grid, np.inf)
    prev = None
    with np.errstate(all="ignore"):
        for t in range(steps + 1):
            f = np.asarray(landscape.loss(x), dtype=float)
            g = np.asarray(landscape.grad(x), dtype=float)
            dead = alive & (has_diverged(f, best, divergence_factor, divergence_floor)
                            | ~np.all(np.isfinite(g), axis=-1))
            loss[..., t] = np.where(alive, f, np.nan)
            diverged_at[dead] = t
            alive &= ~dead
            best = np.where(alive, np.fmin(best, f), best)
            if t == steps or not alive.any():
                break
            if prev is not None:
                new = alpha + beta * np.einsum("...d,...d->...", g, prev)
                alpha = np.where(np.isfinite(new), np.maximum(new, 0.0), alpha)
            rates[..., t] = np.where(alive, alpha, np.nan)
            x = np.where(alive[..., None], x - alpha[..., None] * g, start)
            prev = np.where(alive[..., None], g, 0.0)
    return {"loss": loss, "lr": rates, "diverged_at": diverged_at}


# ------------------------------------------------------------------------- transfer


class SharedFeatureTasks:
    """Classification tasks that share hidden features: a source task and a related target.

    A fixed "teacher" turns an input x ∈ R^20 (standard normal) into 5 features
    h(x) = tanh(x W); each task labels x by the largest of a few linear read-outs of h::

        source:  y = argmax_c (h(x) U_source)_c,   10 classes
        target:  y = argmax_c (h(x) U_target)_c,    3 classes

    Both need the same features h and nothing else, so a network that learnt h on the source
    has the hard part of the target done: only a new read-out (the head) is missing.

    Args:
        seed: the seed of the teacher (W, U_source, U_target).
    """

    dim, features, source_classes, target_classes = 20, 5, 10, 3

    def __init__(self, seed: int = 0) -> None:
        rng = np.random.default_rng(seed)
        self.W = rng.standard_normal((self.dim, self.features)) * 2.0 / math.sqrt(self.dim)
        self.U_source = rng.standard_normal((self.features, self.source_classes))
        self.U_target = rng.standard_normal((self.features, self.target_classes))

    def sample(self, task: str, n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
        """n labelled examples ``(X, y)`` of the "source" or the "target" task."""
        U = {"source": self.U_source, "target": self.U_target}[task]
        X = np.random.default_rng(seed).standard_normal((n, self.dim))
        return X, np.argmax(np.tanh(X @ self.W) @ U, axis=1)


def head_body_groups(model: Any, head_lr: float, body_lr: float) -> list[dict[str, Any]]:
    """Param groups of an MLP: the last layer (the head) at ``head_lr``, the rest at ``body_lr``.

    A body at rate 0 is left out of the optimizer altogether: it is frozen.
    """
    groups = [{"params": model.params[-2:], "lr": head_lr}]
    if body_lr > 0 and len(model.params) > 2:
        groups.insert(0, {"params": model.params[:-2], "lr": body_lr})
    return groups


def _fit(model: Any, groups: list[dict[str, Any]], X: np.ndarray, y: np.ndarray, steps: int,
         momentum: float = 0.9, batch: int | None = None, seed: int = 0) -> None:
    """SGD with momentum over the given param groups (parameters in no group do not move)."""
    optimizer = SGD(groups, lr=groups[0]["lr"], momentum=momentum)
    train(supervised_objective(model, X, y, batch_size=batch), optimizer, steps,
          divergence_factor=None, seed=seed, warn=False)


@dataclass
class TransferResult:
    """Target-task test accuracies of the transfer experiment.

    Attributes:
        ratios: body rate / head rate of each column (0: frozen body, 1: one rate for all).
        head_lrs: the head rates (rows).
        seeds: the seeds (last axis).
        accuracy: fine-tuned from the pretrained body, shape (head_lrs, ratios, seeds).
        scratch: the same network trained from a random initialisation with one rate,
            shape (head_lrs, seeds).
        source_accuracy: the pretrained networks on fresh source examples, shape (seeds,).
    """

    ratios: np.ndarray
    head_lrs: np.ndarray
    seeds: np.ndarray
    accuracy: np.ndarray
    scratch: np.ndarray
    source_accuracy: np.ndarray


def transfer_experiment(ratios: Any, head_lrs: Any, seeds: Any, n_target: int = 50,
                        steps: int = 60, hidden: int = 32, pretrain_steps: int = 300,
                        tasks: SharedFeatureTasks | None = None) -> TransferResult:
    """Pre-train on the source task, fine-tune on the target with differential rates.

    For each seed s:

    1. pre-train ``MLP([20, hidden, 10], tanh)`` on 4,000 source examples: ``pretrain_steps``
       steps of SGD (rate 0.3, momentum 0.9, batches of 64);
    2. draw ``n_target`` labelled target examples (seed s) and, for every head rate η and
       ratio r, copy the pretrained body (W1, b1) into ``MLP([20, hidden, 3])`` with a new,
       randomly initialised head (W2, b2), and take ``steps`` full-batch steps of SGD with
       momentum 0.9, the head at rate η and the body at rate r·η (r = 0: the body is left out
       of the optimizer);
    3. train the same network from scratch with one rate η (the baseline);
    4. measure accuracy on 2,000 fresh target examples.

    Returns:
        A :class:`TransferResult`.
    """
    tasks = tasks if tasks is not None else SharedFeatureTasks()
    ratios = np.asarray(ratios, dtype=float)
    head_lrs = np.asarray(head_lrs, dtype=float)
    seeds = np.asarray(seeds, dtype=int)
    X_source, y_source = tasks.sample("source", 4000, seed=1)
    X_check, y_check = tasks.sample("source", 2000, seed=2)
    X_test, y_test = tasks.sample("target", 2000, seed=3)
    sizes = [tasks.dim, hidden, tasks.target_classes]
    accuracy = np.zeros((len(head_lrs), len(ratios), len(seeds)))
    scratch = np.zeros((len(head_lrs), len(seeds)))
    source_accuracy = np.zeros(len(seeds))
    for k, seed in enumerate(seeds):
        body = MLP([tasks.dim, hidden, tasks.source_classes], activation="tanh",
                   init="xavier", seed=int(seed))
        _fit(body, [{"params": body.params, "lr": 0.3}], X_source, y_source, pretrain_steps,
             batch=64, seed=int(seed))
        source_accuracy[k] = body.accuracy(X_check, y_check)
        X, y = tasks.sample("target", n_target, seed=100 + int(seed))
        for i, eta in enumerate(head_lrs):
            for j, ratio in enumerate(ratios):
                net = MLP(sizes, activation="tanh", init="xavier", seed=1000 + int(seed))
                net.set_params(body.get_params()[:-2] + net.get_params()[-2:])
                _fit(net, head_body_groups(net, eta, ratio * eta), X, y, steps)
                accuracy[i, j, k] = net.accuracy(X_test, y_test)
            net = MLP(sizes, activation="tanh", init="xavier", seed=1000 + int(seed))
            _fit(net, [{"params": net.params, "lr": eta}], X, y, steps)
            scratch[i, k] = net.accuracy(X_test, y_test)
    return TransferResult(ratios, head_lrs, seeds, accuracy, scratch, source_accuracy)


# ------------------------------------------------------------------------- hypergradient


class HypergradientExplorer(Explorer):
    """Hypergradient descent from any starting rate: α_t, the loss, and a map over (α₀, β).

    Full-batch gradient descent on the linear regression of :func:`regression_split`, with the
    rate learned online (:func:`hypergradient_sweep`), against a fixed rate α₀ and against the
    best fixed rate of a sweep. The map shows the final loss over every (α₀, β) pair. A run is
    called "converges" when its final L − L* is within 10 times the best fixed rate's, "too
    slow" otherwise; the reset button picks the β that is good from the most starting rates.

    Args:
        steps: updates per run.
        lr: the starting rate α₀ shown first.
        hyper_lr: the hyper-rate β shown first.
    """

    def __init__(self, steps: int = 100, lr: float = 1e-3, hyper_lr: float = 0.03) -> None:
        self.problem = QuadraticLoss(regression_split()[0])
        self.steps = steps
        self.floor = float(self.problem.loss(self.problem.minimum))
        slider = alpha_slider(lr, 1e-4, 10**0.5, "starting rate α₀", steps_per_decade=10)
        beta_slider = alpha_slider(hyper_lr, 1e-5, 1.0, "hyper-rate β", steps_per_decade=4)
        self.lrs, self.betas = slider_values(slider), slider_values(beta_slider)
        self.runs = hypergradient_sweep(self.problem, self.lrs[:, None], self.betas[None, :],
                                        steps)
        self.fixed = sweep(self.problem, self.lrs, steps)
        fine = np.geomspace(1e-3, 1.0, 301)
        gaps = sweep(self.problem, fine, steps).final_loss - self.floor
        k = int(np.nanargmin(gaps))
        self.best_fixed_lr, self.best_fixed_gap = float(fine[k]), float(gaps[k])
        self.best_fixed_curve = sweep(self.problem, [self.best_fixed_lr], steps).loss[0]
        self.limit = 2.0 / self.problem.lam_max
        final = self.runs["loss"][..., -1] - self.floor
        self.final = np.where(self.runs["diverged_at"] >= 0, np.nan, final)
        # "good": within 10x of the best fixed rate; the most robust β is good from most starts
        self.good = np.nan_to_num(self.final, nan=np.inf) <= 10 * self.best_fixed_gap
        share = self.good.mean(axis=0)
        self.robust_beta = float(self.betas[int(np.argmax(share))])
        super().__init__({"lr": slider, "hyper_lr": beta_slider},
                         best={"lr": float(self.lrs[nearest(self.lrs, lr)]),
                               "hyper_lr": self.robust_beta},
                         width=10.5, height=3.5, best_label="use the most robust β")

    def setup(self, fig):
        from matplotlib.colors import LogNorm
        from matplotlib.ticker import NullLocator

        ax_rate, ax_loss, ax_map = fig.subplots(1, 3, width_ratios=(1, 1, 1.15))
        ax_rate.set_yscale("log")
        ax_rate.set_xlim(0, self.steps)
        ax_rate.set_ylim(3e-5, 1e3)
        ax_rate.axhline(self.best_fixed_lr, color=PALETTE[2], linestyle="--", linewidth=1.2,
                        label=f"best fixed α = {self.best_fixed_lr:.2g}")
        ax_rate.axhline(self.limit, color=PALETTE[3], linestyle=":", linewidth=1.2,
                        label=f"2/λ_max = {self.limit:.2g}")
        ax_rate.set_xlabel("step t")
        ax_rate.set_ylabel("learning rate α_t (log)")
        ax_rate.set_title("the rate, learned online")
        self.rate_line, = ax_rate.plot([], [], color=PALETTE[0], label="α_t (hypergradient)")
        self.start_line, = ax_rate.plot([], [], color="0.5", linewidth=1,
                                        label="α₀ kept fixed")
        ax_rate.legend(loc="upper left", fontsize=7, frameon=True)

        ax_loss.set_yscale("log")
        ax_loss.set_xlim(0, self.steps)
        ax_loss.set_ylim(1e-3, 1e3)
        ax_loss.set_xlabel("step t")
        ax_loss.set_ylabel("L − L* (log)")
        ax_loss.set_title("loss above its minimum")
        ax_loss.plot(np.arange(self.steps + 1), self.best_fixed_curve - self.floor,
                     color=PALETTE[2], linestyle="--", linewidth=1.2, label="best fixed α")
        self.fixed_line, = ax_loss.plot([], [], color="0.5", linewidth=1, label="α₀ fixed")
        self.hd_line, = ax_loss.plot([], [], color=PALETTE[0], label="hypergradient")
        ax_loss.legend(loc="upper right", fontsize=7, frameon=True)

        shown = np.where(np.isfinite(self.final), np.maximum(self.final, 1e-4), np.nan)
        mesh = ax_map.pcolormesh(self.lrs, self.betas, shown.T, shading="nearest",
                                 norm=LogNorm(1e-3, 10.0), cmap="viridis")
        blown = np.where(np.isnan(self.final), 1.0, np.nan)
        ax_map.pcolormesh(self.lrs, self.betas, blown.T, shading="nearest", cmap="Reds",
                          vmin=0, vmax=1.6)
        bar = fig.colorbar(mesh, ax=ax_map, label=f"L − L* after {self.steps} steps")
        bar.ax.yaxis.set_minor_locator(NullLocator())
        ax_map.axvline(self.limit, color="white", linestyle=":", linewidth=1)
        ax_map.set_xscale("log")
        ax_map.set_yscale("log")
        ax_map.set_xlabel("starting rate α₀")
        ax_map.set_ylabel("hyper-rate β")
        ax_map.set_title("final loss (red: diverged)")
        self.cross, = ax_map.plot([], [], "+", color=PALETTE[3], markersize=14,
                                  markeredgewidth=2)
        for axes in (ax_rate, ax_loss, ax_map):  # minor ticks on five log axes cost a redraw
            axes.xaxis.set_minor_locator(NullLocator())
            axes.yaxis.set_minor_locator(NullLocator())
        return [self.rate_line, self.start_line, self.fixed_line, self.hd_line, self.cross]

    def update(self, lr: float, hyper_lr: float) -> str:
        i, j = nearest(self.lrs, lr), nearest(self.betas, hyper_lr)
        a0, beta = self.lrs[i], self.betas[j]
        rate = self.runs["lr"][i, j]
        ok = np.isfinite(rate)
        self.rate_line.set_data(np.arange(self.steps)[ok], np.maximum(rate[ok], 1e-12))
        self.start_line.set_data([0, self.steps], [a0, a0])
        hd = self.runs["loss"][i, j] - self.floor
        fin = np.isfinite(hd)
        self.hd_line.set_data(np.arange(self.steps + 1)[fin], np.maximum(hd[fin], 1e-12))
        fixed = self.fixed.loss[i] - self.floor
        fin = np.isfinite(fixed)
        self.fixed_line.set_data(np.arange(self.steps + 1)[fin], np.maximum(fixed[fin], 1e-12))
        self.cross.set_data([a0], [beta])
        items = {"α₀": f"{a0:.3g}", "β": f"{beta:.3g}"}
        fixed_gap = self.fixed.final_loss[i] - self.floor
        fixed_text = "diverged" if np.isnan(fixed_gap) else f"{fixed_gap:.3g}"
        stop = int(self.runs["diverged_at"][i, j])
        if stop >= 0:
            items.update({"diverged at step": str(stop), "α₀ fixed: final L − L*": fixed_text})
            return format_readout(items, "diverges")
        gap = float(self.final[i, j])
        items.update({
            "learned α after the last step": f"{rate[ok][-1]:.3g}",
            "final L − L*": f"{gap:.3g}",
            "α₀ fixed": fixed_text,
            "best fixed α": f"{self.best_fixed_gap:.3g}",
        })
        status = "converges" if self.good[i, j] else "too slow"
        return format_readout(items, status)


# ------------------------------------------------------------------------- Bayesian search


class BayesSearchExplorer(Explorer):
    """Step through a Bayesian optimisation of α: the GP's belief, expected improvement, the
    point chosen, and a probe rate at which to read them off against the true objective.

    Everything comes from one :func:`lrcourse.tuning.bayes_search` trace (the GP's mean, std and
    EI on a 201-point grid of rates, per iteration) and one vectorised evaluation of the true
    objective on that grid; the probe slider's positions are exactly the grid's rates.

    Args:
        objective: a :class:`RateObjective` (None: a default one).
        result: a bayes_search result on that objective (None: run one with ``n`` and ``seed``).
        n, seed: the budget and seed of that search.
        lr: the probe rate shown first.
        iteration: the iteration shown first (1 = the GP fitted to the initial points).
    """

    def __init__(self, objective: RateObjective | None = None,
                 result: SearchResult | None = None, n: int = 12, seed: int = 0,
                 lr: float = 1e-2, iteration: int = 1) -> None:
        self.objective = objective if objective is not None else RateObjective()
        if result is None:
            with silenced():
                result = bayes_search(self.objective, self.objective.space, n=n, seed=seed)
        if not result.trace:
            raise ValueError("result must come from bayes_search with n > n_init (a trace)")
        self.result, self.trace = result, result.trace
        self.grid = np.asarray(self.trace[0].grid["lr"], dtype=float)
        low, high = self.grid[0], self.grid[-1]
        per_decade = (len(self.grid) - 1) / math.log10(high / low)
        slider = alpha_slider(lr, low, high, "probe rate α", steps_per_decade=round(per_decade))
        self.lrs = slider_values(slider)
        self.true, self.true_diverged = self.objective.curve(self.grid)
        self.trial_lrs = result.param("lr")
        self.trial_values = result.values
        k = len(self.trace)
        it = int_slider(min(max(iteration, 1), k), 1, k, "iteration")
        best_lr = float(self.lrs[nearest(self.lrs, result.best_params["lr"])])
        super().__init__({"lr": slider, "iteration": it}, best={"lr": best_lr, "iteration": k},
                         width=8.5, height=5.2, best_label="show the search's best α")

    def setup(self, fig):
        ax, ax_ei = fig.subplots(2, 1, sharex=True, height_ratios=(1.8, 1))
        finite = self.true[np.isfinite(self.true)]
        low, high = float(finite.min()), float(finite.max())
        pad = 0.15 * (high - low)
        self.ylim = (low - pad, high + pad)
        ax.set_xscale("log")
        ax.set_xlim(self.grid[0], self.grid[-1])
        ax.set_ylim(*self.ylim)
        ax.plot(self.grid, self.true, color="0.35", linewidth=1.2, label="true f(α)")
        blown = self.grid[self.true_diverged >= 0]
        if blown.size:
            ax.axvspan(blown[0], self.grid[-1], color=REGIME_COLOURS["diverges"], alpha=0.12,
                       label="SGD diverges")
        ax.set_ylabel("f(α) = log₁₀ val. loss")
        ax.set_title("Bayesian optimisation of the learning rate")
        self.bands = []
        for step in self.trace:
            band = ax.fill_between(self.grid, step.mean - 2 * step.std, step.mean + 2 * step.std,
                                   color=PALETTE[5], alpha=0.3, linewidth=0)
            band.set_visible(False)
            self.bands.append(band)
        self.mean_line, = ax.plot([], [], color=PALETTE[0], linewidth=1.5,
                                  label="GP mean ± 2 std")
        self.seen, = ax.plot([], [], "o", color="black", markersize=5, label="trials so far")
        self.failed, = ax.plot([], [], "x", color=PALETTE[3], markersize=8,
                               markeredgewidth=2, label="failed trial (diverged)")
        self.next_line = ax.axvline(self.grid[0], color=PALETTE[1], linestyle="--",
                                    linewidth=1.5, label="next trial (largest EI)")
        self.probe_line = ax.axvline(self.grid[0], color=PALETTE[4], linewidth=1)
        self.probe_gp, = ax.plot([], [], "_", color=PALETTE[4], markersize=14,
                                 markeredgewidth=2)
        self.probe_bar, = ax.plot([], [], color=PALETTE[4], linewidth=3, alpha=0.6)
        self.probe_true, = ax.plot([], [], "D", color=PALETTE[4], markersize=6,
                                   label="probe: true f")
        ax.legend(loc="upper left", fontsize=7, frameon=True, ncols=2)

        ax_ei.set_ylim(0, 1.12)
        ax_ei.set_xlabel("learning rate α (log scale)")
        ax_ei.set_ylabel("EI / max EI")
        self.ei_fills = []
        for step in self.trace:
            top = float(np.max(step.ei))
            scaled = step.ei / top if top > 0 else step.ei
            fill = ax_ei.fill_between(self.grid, 0, scaled, color=PALETTE[2], alpha=0.35,
                                      linewidth=0)
            fill.set_visible(False)
            self.ei_fills.append(fill)
        self.ei_line, = ax_ei.plot([], [], color=PALETTE[2], linewidth=1.2)
        self.ei_next = ax_ei.axvline(self.grid[0], color=PALETTE[1], linestyle="--",
                                     linewidth=1.5)
        self.ei_probe = ax_ei.axvline(self.grid[0], color=PALETTE[4], linewidth=1)
        self.ei_dot, = ax_ei.plot([], [], "o", color=PALETTE[4], markersize=5)
        return [*self.bands, *self.ei_fills, self.mean_line, self.seen, self.failed,
                self.next_line, self.probe_line, self.probe_bar, self.probe_gp, self.probe_true,
                self.ei_line, self.ei_next, self.ei_probe, self.ei_dot]

    def update(self, lr: float, iteration: int) -> str:
        k = min(max(int(iteration), 1), len(self.trace)) - 1
        step = self.trace[k]
        for j, (band, fill) in enumerate(zip(self.bands, self.ei_fills, strict=True)):
            band.set_visible(j == k)
            fill.set_visible(j == k)
        self.mean_line.set_data(self.grid, step.mean)
        m = step.trial
        lrs, values = self.trial_lrs[:m], self.trial_values[:m]
        ok = np.isfinite(values)
        self.seen.set_data(lrs[ok], values[ok])
        self.failed.set_data(lrs[~ok], np.full((~ok).sum(), self.ylim[1] - 0.04 *
                                               (self.ylim[1] - self.ylim[0])))
        nxt = step.next_params["lr"]
        for line in (self.next_line, self.ei_next):
            line.set_xdata([nxt, nxt])
        top = float(np.max(step.ei))
        scaled = step.ei / top if top > 0 else step.ei
        self.ei_line.set_data(self.grid, scaled)

        i = nearest(self.grid, lr)
        a = float(self.grid[i])
        for line in (self.probe_line, self.ei_probe):
            line.set_xdata([a, a])
        mu, sd, ei = float(step.mean[i]), float(step.std[i]), float(step.ei[i])
        self.probe_gp.set_data([a], [mu])
        self.probe_bar.set_data([a, a], [mu - 2 * sd, mu + 2 * sd])
        self.ei_dot.set_data([a], [scaled[i]])
        best_i = int(np.nanargmin(np.where(ok, values, np.nan))) if ok.any() else None
        items = {
            "iteration": f"{k + 1} of {len(self.trace)} (GP fitted to {m} trials)",
            "best so far": ("none" if best_i is None else
                            f"f = {values[best_i]:.3f} at α = {lrs[best_i]:.3g}"),
            "next trial": f"α = {nxt:.3g}",
            "probe α": f"{a:.3g}",
            "GP": f"{mu:.3f} ± {sd:.3f}",
            "EI": f"{ei:.2g}",
        }
        stop = int(self.true_diverged[i])
        if stop >= 0:
            self.probe_true.set_data([], [])
            items["true f"] = "SGD diverged"
            items["diverged at step"] = str(stop)
            return format_readout(items, "diverges")
        true = float(self.true[i])
        self.probe_true.set_data([a], [true])
        items["true f"] = f"{true:.3f}"
        return format_readout(items)
