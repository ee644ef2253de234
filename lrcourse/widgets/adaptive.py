"""Explorers of section 04: momentum, AdaGrad's per-coordinate rates, and a race of optimizers.

Every explorer runs all of its slider positions when it is built, so that a move is a lookup
and a redraw. Two tools make that cheap:

* :func:`lrcourse.sweeps.sweep` runs heavy-ball and Nesterov momentum for a whole grid of
  (α, β), and of start points, as one batched computation;
* :func:`run_rule` does the same for any pure update rule of :mod:`lrcourse.optimizers`
  (AdaGrad, RMSprop, Adam...) over a batch of rates and starts. Those rules take a single
  scalar ``lr``, but each of them moves the parameters by ``lr`` times a quantity that
  depends on the gradients alone. Writing ``θ = θ0 + α φ`` and running the rule on ``φ``
  with ``lr = 1`` (the gradient evaluated at ``θ``) therefore gives every rate's path at
  once, with the library's own update rule.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import ipywidgets as widgets
import numpy as np

from ..optimizers import adagrad_step, adam_step, rmsprop_step
from ..plots import PALETTE, REGIME_COLOURS, contour
from ..problems import (
    Beale,
    LogisticRegressionLoss,
    Quadratic,
    Rosenbrock,
    logistic_regression,
)
from ..sweeps import sweep
from ..train import has_diverged
from ._core import Explorer, alpha_slider, float_slider, format_readout, nearest, slider_values

__all__ = [
    "METHODS",
    "MomentumExplorer",
    "RaceExplorer",
    "RaceResult",
    "Runs",
    "SparseFeaturesExplorer",
    "race",
    "race_problems",
    "run_rule",
    "sparse_problem",
]

TARGET = 1e-6
FLOOR = 1e-16  # losses are drawn and scored no lower than this


# ------------------------------------------------------------------------- batched runs


@dataclass(eq=False)
class Runs:
    """Runs of one update rule over a batch of (start, rate) pairs.

    Attributes:
        loss: ``(*batch, steps + 1)``, NaN after a run diverged.
        path: ``(*batch, steps + 1, dim)``, NaN after a run diverged.
        diverged_at: ``batch``; the step at which a run diverged, -1 if it did not.
        recorded: the state field asked for by ``record``, ``(steps, *batch, dim)``, or None.
    """

    loss: np.ndarray
    path: np.ndarray
    diverged_at: np.ndarray
    recorded: np.ndarray | None = None


def run_rule(
    rule: Callable[..., tuple[np.ndarray, Any]],
    landscape: Any,
    lrs: Any,
    starts: Any,
    steps: int,
    record: str | None = None,
    **hyper: Any,
) -> Runs:
    """Run a pure update rule for every start and every rate at once.

    The batch is ``(len(starts), len(lrs))``. With ``θ = θ0 + α φ`` the rule runs on ``φ``
    with ``lr = 1``, which is exact for every rule whose step is ``lr`` times a function of
    the gradients (all of :mod:`lrcourse.optimizers` without weight decay). A run whose loss
    goes non-finite or explodes (:func:`lrcourse.train.has_diverged`) is frozen: its
    gradient is set to zero and the rest of its row is NaN.

    Args:
        rule: e.g. ``lrcourse.optimizers.adam_step``.
        landscape: a batched landscape (``loss``, ``grad``, ``dim``).
        lrs: the rates, shape ``(A,)``.
        starts: the start points, shape ``(S, dim)``.
        steps: updates per run.
        record: the name of a state field to keep at every step (e.g. ``"sum"``), or None.
        **hyper: the rule's other hyperparameters (betas, momentum...).

    Returns:
        :class:`Runs` with batch shape ``(S, A)``.
    """
    lrs = np.asarray(lrs, dtype=float)
    starts = np.asarray(starts, dtype=float).reshape(-1, landscape.dim)
    batch = (len(starts), len(lrs))
    theta0 = np.broadcast_to(starts[:, None, :], batch + (landscape.dim,))
    scale = lrs[None, :, None]
    phi = np.zeros(batch + (landscape.dim,))
    state = None
    loss = np.full((steps + 1,) + batch, np.nan)
    path = np.full((steps + 1,) + batch + (landscape.dim,), np.nan)
    recorded = None if record is None else np.empty((steps,) + batch + (landscape.dim,))
    alive = np.ones(batch, dtype=bool)
    best = np.full(batch, np.inf)
    diverged_at = np.full(batch, -1)
    with np.errstate(all="ignore"):
        for k in range(steps + 1):
            theta = theta0 + scale * phi
            f = landscape.loss(theta)
            dead = has_diverged(f, best) & alive
            diverged_at[dead] = k
            alive &= ~dead
            loss[k] = np.where(alive, f, np.nan)
            path[k] = np.where(alive[..., None], theta, np.nan)
            np.fmin(best, f, out=best)
            if k == steps:
                break
            g = np.where(alive[..., None], landscape.grad(theta), 0.0)
            phi, state = rule(phi, g, state, lr=1.0, **hyper)
            if recorded is not None:
                recorded[k] = getattr(state, record)
    return Runs(np.moveaxis(loss, 0, -1), np.moveaxis(path, 0, -2), diverged_at, recorded)


def _sweep_runs(landscape: Any, lrs: np.ndarray, starts: np.ndarray, momenta: Sequence[float],
                steps: int, nesterov: bool = False) -> Runs:
    """Heavy-ball (or Nesterov) runs over (start, rate, momentum) by one vectorised sweep."""
    momenta = np.asarray(momenta, dtype=float)
    grid = (len(starts), len(lrs), len(momenta))
    # sweep's grid comes from lrs and momentum: spread them over the starts' axis too
    result = sweep(landscape, np.broadcast_to(lrs[None, :, None], grid), steps,
                   x0=starts[:, None, None, :], momentum=momenta[None, None, :],
                   nesterov=nesterov, record_path=True)
    return Runs(result.loss, result.path, result.diverged_at)


# ----------------------------------------------------------------------- the race


def _rule(rule: Callable[..., Any], **fixed: Any) -> Callable[..., Any]:
    def run(landscape, lrs, starts, steps, beta):
        return run_rule(rule, landscape, lrs, starts, steps, **fixed)
    return run


def _adam(landscape, lrs, starts, steps, beta):
    return run_rule(adam_step, landscape, lrs, starts, steps, betas=(beta, 0.999))


#: The racers: name -> (uses β, colour). GD and momentum come from one sweep.
METHODS: dict[str, tuple[bool, str]] = {
    "GD": (False, PALETTE[7]),
    "momentum": (True, PALETTE[0]),
    "AdaGrad": (False, PALETTE[2]),
    "RMSprop": (False, PALETTE[4]),
    "Adam": (True, PALETTE[3]),
}
_ADAPTIVE = {
    "AdaGrad": _rule(adagrad_step),
    "RMSprop": _rule(rmsprop_step),
    "Adam": _adam,
}


@dataclass(eq=False)
class RaceResult:
    """Every racer, on one landscape, for every start, rate and β.

    Attributes:
        name: the landscape's label; ``landscape``, ``starts (S, 2)``, ``lrs (A,)``,
            ``betas (B,)`` and ``steps`` as given.
        loss, path, diverged_at: per method, arrays of shape ``(S, A, B, ...)`` (B = 1 for the
            methods without β).
    """

    name: str
    landscape: Any
    starts: np.ndarray
    lrs: np.ndarray
    betas: np.ndarray
    steps: int
    loss: dict[str, np.ndarray]
    path: dict[str, np.ndarray]
    diverged_at: dict[str, np.ndarray]

    def index(self, method: str, beta: int) -> int:
        """The β index to use for ``method`` (0 for methods without β)."""
        return beta if self.loss[method].shape[2] > 1 else 0

    def final(self, method: str, beta: int = 0) -> np.ndarray:
        """Loss after the last step, ``(S, A)``; ``inf`` where the run diverged."""
        b = self.index(method, beta)
        last = self.loss[method][:, :, b, -1]
        return np.where(self.diverged_at[method][:, :, b] >= 0, np.inf, last)

    def score(self, method: str, beta: int = 0) -> np.ndarray:
        """log10 of the geometric mean over the starts of the final loss, ``(A,)``."""
        final = np.maximum(self.final(method, beta), FLOOR)
        with np.errstate(invalid="ignore"):
            return np.log10(final).mean(axis=0)

    def best(self, method: str, beta: int = 0) -> int:
        """Index of the rate with the lowest score: the method's own best α."""
        score = self.score(method, beta)
        return int(np.argmin(np.where(np.isfinite(score), score, np.inf)))


def race(name: str, landscape: Any, starts: Any, lrs: Any, betas: Sequence[float],
         steps: int) -> RaceResult:
    """Run GD, momentum, AdaGrad, RMSprop and Adam (torch's defaults) on one landscape.

    Momentum and Adam's β1 take every value of ``betas``; the other methods use their
    defaults. All of it is a handful of batched computations (see :func:`run_rule`).
    """
    starts = np.asarray(starts, dtype=float)
    lrs = np.asarray(lrs, dtype=float)
    betas = np.asarray(betas, dtype=float)
    heavy = _sweep_runs(landscape, lrs, starts, [0.0, *betas], steps)
    loss = {"GD": heavy.loss[:, :, :1], "momentum": heavy.loss[:, :, 1:]}
    path = {"GD": heavy.path[:, :, :1], "momentum": heavy.path[:, :, 1:]}
    diverged = {"GD": heavy.diverged_at[:, :, :1], "momentum": heavy.diverged_at[:, :, 1:]}
    for method, run in _ADAPTIVE.items():
        uses_beta = METHODS[method][0]
        runs = [run(landscape, lrs, starts, steps, b) for b in (betas if uses_beta else [0.0])]
        loss[method] = np.stack([r.loss for r in runs], axis=2)
        path[method] = np.stack([r.path for r in runs], axis=2).astype(np.float32)
        diverged[method] = np.stack([r.diverged_at for r in runs], axis=2)
    path = {m: p.astype(np.float32) for m, p in path.items()}
    return RaceResult(name, landscape, starts, lrs, betas, steps, loss, path, diverged)


def race_problems() -> dict[str, tuple[Any, np.ndarray]]:
    """The race's landscapes and their four start points A-D."""
    return {
        "Rosenbrock": (Rosenbrock(), np.array([(-1.2, 1.0), (-1.5, 2.5), (1.8, 0.5),
                                               (0.0, -0.5)])),
        "Beale": (Beale(), np.array([(1.0, 1.5), (-1.0, 1.0), (2.0, -1.0), (-3.0, 0.5)])),
        "quadratic κ=100": (Quadratic.from_condition(100.0),
                            np.array([(-2.5, 1.5), (2.0, 2.0), (-1.0, -2.5), (2.5, -0.5)])),
        "quadratic κ=100, rotated": (
            Quadratic.from_condition(100.0, angle=math.pi / 4),
            np.array([(-2.5, 1.5), (2.0, 2.0), (-1.0, -2.5), (2.5, -0.5)])),
    }


class RaceExplorer(Explorer):
    """GD, momentum, AdaGrad, RMSprop and Adam side by side on four landscapes.

    Controls: the rate α (shared by all methods, unless "each at its own best α" is ticked,
    which gives every method the rate with its lowest geometric-mean final loss over the four
    starts), β (momentum's β and Adam's β1), the landscape and the start. All
    4 landscapes x 4 starts x 51 rates x 4 β are run when the explorer is built.
    """

    BETAS = (0.0, 0.5, 0.9, 0.99)

    def __init__(self, steps: int = 200, lr: float = 1e-3, beta: float = 0.9,
                 problem: str = "Rosenbrock", start: int = 0, own_best: bool = False) -> None:
        self.steps = steps
        slider = alpha_slider(lr, 1e-4, 10.0, "learning rate α", steps_per_decade=10)
        self.lrs = slider_values(slider)
        self.results = {
            name: race(name, landscape, starts, self.lrs, self.BETAS, steps)
            for name, (landscape, starts) in race_problems().items()
        }
        beta_slider = widgets.SelectionSlider(
            options=list(self.BETAS), value=beta, description="β (momentum, Adam's β1)",
            continuous_update=True, style={"description_width": "initial"},
            layout=widgets.Layout(width="420px"))
        problems = widgets.Dropdown(options=list(self.results), value=problem,
                                    description="landscape")
        starts = widgets.Dropdown(options=[(s, i) for i, s in enumerate("ABCD")], value=start,
                                  description="start")
        own = widgets.Checkbox(value=own_best, description="each method at its own best α",
                               indent=False)
        controls = {"lr": slider, "beta": beta_slider, "problem": problems, "start": starts,
                    "own_best": own}
        best = {"beta": 0.9, "own_best": True}
        super().__init__(controls, best=best, width=10.5, height=4.3,
                         best_label="each at its own best α")
        for name in self.results:  # draw every landscape once, now, not on a later move
            self._show(name)
            self.show_view(name, draw=True)
            self.fig.set_layout_engine("none")  # every view keeps the axes of the first draw
        self.refresh()

    def setup(self, fig):
        grid = fig.add_gridspec(1, 2, width_ratios=(1.0, 1.25))
        self.maps = {}
        for name, result in self.results.items():
            ax = fig.add_subplot(grid[0, 0], label=name)
            contour(ax, result.landscape, n=100)
            ax.set_xlabel("θ₁")
            ax.set_ylabel("θ₂")
            ax.set_title(name)
            ax.plot(result.starts[:, 0], result.starts[:, 1], "s", color="0.6", markersize=4)
            for label, (x, y) in zip("ABCD", result.starts, strict=True):
                ax.annotate(label, (x, y), textcoords="offset points", xytext=(5, 4),
                            fontsize=8, color="0.35")
            self.maps[name] = ax
        ax_loss = fig.add_subplot(grid[0, 1])
        ax_loss.set_yscale("log")
        ax_loss.set_xlim(0, self.steps)
        ax_loss.set_ylim(FLOOR, 1e4)
        ax_loss.set_xlabel("step k")
        ax_loss.set_ylabel("loss (log scale)")
        ax_loss.set_title("loss per step")
        self.ax_loss = ax_loss
        self.paths, self.curves, self.starts_dots = {}, {}, {}
        artists = []
        for name, ax in self.maps.items():
            self.starts_dots[name], = ax.plot([], [], "s", color="black", markersize=6)
            artists.append(self.starts_dots[name])
            for method, (_, colour) in METHODS.items():
                line, = ax.plot([], [], "-", color=colour, linewidth=1.3, label=method)
                self.paths[name, method] = line
                artists.append(line)
        for method, (_, colour) in METHODS.items():
            self.curves[method], = ax_loss.plot([], [], color=colour, linewidth=1.4,
                                                label=method)
            artists.append(self.curves[method])
        ax_loss.legend(loc="lower left", fontsize=8, frameon=True, ncols=2)
        self._show(next(iter(self.results)))
        return artists

    def _show(self, name: str) -> None:
        for key, ax in self.maps.items():
            ax.set_visible(key == name)

    def update(self, lr: float, beta: float, problem: str, start: int, own_best: bool) -> str:
        self._show(problem)
        self.show_view(problem)
        result = self.results[problem]
        b = self.BETAS.index(beta)
        shared = nearest(self.lrs, lr)
        x0 = result.starts[start]
        self.starts_dots[problem].set_data([x0[0]], [x0[1]])
        items = {"start": f"({x0[0]:g}, {x0[1]:g})"}
        if not own_best:
            items["α"] = f"{self.lrs[shared]:.3g}"
        finals = {}
        for name in self.results:
            visible = name == problem
            self.starts_dots[name].set_visible(visible)
            for method in METHODS:
                self.paths[name, method].set_visible(visible)
        for method in METHODS:
            a = result.best(method, b) if own_best else shared
            bi = result.index(method, b)
            path = result.path[method][start, a, bi]
            ok = np.all(np.isfinite(path), axis=1)
            self.paths[problem, method].set_data(path[ok, 0], path[ok, 1])
            loss = result.loss[method][start, a, bi]
            fin = np.isfinite(loss)
            self.curves[method].set_data(np.flatnonzero(fin), np.maximum(loss[fin], FLOOR))
            diverged = int(result.diverged_at[method][start, a, bi])
            rate = f" (α={self.lrs[a]:.2g})" if own_best else ""
            if diverged >= 0:
                items[method] = f"diverged at step {diverged}{rate}"
            else:
                finals[method] = float(loss[-1])
                items[method] = f"{loss[-1]:.2g}{rate}"
        if not finals:
            return format_readout(items, "diverges")
        winner = min(finals, key=finals.get)
        return format_readout(items, f"lowest final loss: {winner}")


# ------------------------------------------------------------------------- momentum


def heavy_ball_edge(beta: Any, lam_max: float, nesterov: bool = False) -> Any:
    """The largest stable rate of (Nesterov) momentum on a quadratic with top curvature λ_max.

    Heavy ball: α < 2(1 + β)/λ_max. Nesterov (torch's form): α < 2(1 + β)/((1 + 2β) λ_max).
    """
    beta = np.asarray(beta, dtype=float)
    if nesterov:
        return 2.0 * (1.0 + beta) / ((1.0 + 2.0 * beta) * lam_max)
    return 2.0 * (1.0 + beta) / lam_max


def heavy_ball_optimum(lam_min: float, lam_max: float) -> tuple[float, float]:
    """Polyak's best (α, β) for heavy-ball momentum on a quadratic.

    α* = 4/(√λ_max + √λ_min)²,  β* = ((√κ − 1)/(√κ + 1))²; the error then shrinks by √β* per
    step, against (κ − 1)/(κ + 1) for gradient descent at its best rate.
    """
    root_min, root_max = math.sqrt(lam_min), math.sqrt(lam_max)
    alpha = 4.0 / (root_max + root_min) ** 2
    beta = ((root_max - root_min) / (root_max + root_min)) ** 2
    return alpha, beta


class MomentumExplorer(Explorer):
    """Heavy-ball (or Nesterov) momentum on an ill-conditioned quadratic, and its (α, β) map.

    Left, the path on the contour lines; middle, the loss per step, with gradient descent at
    the same α in grey; right, the steps needed to reach a loss of 1e-6 over the whole
    (α, β) grid (red: diverged, grey: not within the budget), with the stability edge and
    Polyak's optimum. One sweep per setting of the Nesterov box computes the whole grid.
    """

    def __init__(self, condition_number: float = 50.0, steps: int = 150, lr: float = 0.5,
                 beta: float = 0.0, nesterov: bool = False, angle: float = 0.5) -> None:
        self.problem = Quadratic.from_condition(condition_number, lam_max=1.0, angle=angle)
        self.steps = steps
        slider = alpha_slider(lr, 1e-2, 10**0.9, "learning rate α")
        beta_slider = float_slider(beta, 0.0, 0.99, 0.01, "momentum β")
        box = widgets.Checkbox(value=nesterov, description="Nesterov", indent=False)
        self.lrs = slider_values(slider)
        self.betas = np.round(np.arange(100) * 0.01, 2)
        self.runs = {
            flag: sweep(self.problem, self.lrs[:, None], steps, momentum=self.betas[None, :],
                        nesterov=flag, record_path=True)
            for flag in (False, True)
        }
        self.regimes = {flag: run.regime() for flag, run in self.runs.items()}
        self.steps_to = {flag: run.steps_to(TARGET) for flag, run in self.runs.items()}
        q = self.problem
        self.optimum = heavy_ball_optimum(q.lam_min, q.lam_max)
        # the fastest heavy-ball run of the grid: Polyak's optimum, up to the grid's spacing
        # (snapping the optimum itself to the grid can land just past the stability edge)
        fastest = np.where(self.steps_to[False] >= 0, self.steps_to[False], steps + 1)
        i, j = np.unravel_index(np.argmin(fastest), fastest.shape)
        best = {"lr": float(self.lrs[i]), "beta": float(self.betas[j]), "nesterov": False}
        super().__init__({"lr": slider, "beta": beta_slider, "nesterov": box}, best=best,
                         width=11.0, height=3.6, best_label="reset to Polyak's best (α, β)")
        for flag in (True, False):  # draw both maps once, now, not on a later move
            self._show(flag)
            self.show_view(flag, draw=True)
            self.fig.set_layout_engine("none")  # every view keeps the axes of the first draw
        self.refresh()

    def setup(self, fig):
        from matplotlib.colors import LogNorm

        grid = fig.add_gridspec(1, 3, width_ratios=(1.0, 1.1, 1.25))
        ax_path = fig.add_subplot(grid[0, 0])
        contour(ax_path, self.problem)
        ax_path.set_title(f"κ = {self.problem.condition_number:g}, λ_max = 1")
        ax_path.set_xlabel("θ₁")
        ax_path.set_ylabel("θ₂")
        ax_loss = fig.add_subplot(grid[0, 1])
        ax_loss.set_yscale("log")
        ax_loss.set_xlim(0, self.steps)
        ax_loss.set_ylim(FLOOR, 1e4)
        ax_loss.set_xlabel("step k")
        ax_loss.set_ylabel("loss (log scale)")
        ax_loss.axhline(TARGET, color="0.6", linestyle=":", linewidth=1)
        self.maps = {}
        q = self.problem
        for flag in (False, True):
            ax = fig.add_subplot(grid[0, 2], label=f"map {flag}")
            steps_to = self.steps_to[flag].astype(float)
            diverged = self.runs[flag].diverged_at
            shown = np.where(steps_to > 0, steps_to, np.nan)
            mesh = ax.pcolormesh(self.lrs, self.betas, shown.T, norm=LogNorm(1, self.steps),
                                 cmap="viridis_r", shading="nearest")
            never = np.where((steps_to < 0) & (diverged < 0), 1.0, np.nan)
            ax.pcolormesh(self.lrs, self.betas, never.T, cmap="Greys", vmin=0, vmax=3,
                          shading="nearest")
            blown = np.where(diverged >= 0, 1.0, np.nan)
            ax.pcolormesh(self.lrs, self.betas, blown.T, cmap="Reds", vmin=0, vmax=1.6,
                          shading="nearest")
            edge = heavy_ball_edge(self.betas, q.lam_max, nesterov=flag)
            ax.plot(edge, self.betas, color="black", linewidth=1.2,
                    label="stability edge " + ("2(1+β)/(1+2β)" if flag else "2(1+β)"))
            if not flag:
                ax.plot(*self.optimum, "*", color="white", markeredgecolor="black",
                        markersize=11, label="Polyak's optimum", linestyle="none")
            ax.set_xscale("log")
            ax.set_xlim(self.lrs[0], self.lrs[-1])
            ax.set_ylim(0, 0.99)
            ax.set_xlabel("learning rate α")
            ax.set_ylabel("momentum β")
            ax.set_title(("Nesterov" if flag else "heavy ball") + f": steps to loss < {TARGET:g}",
                         fontsize=9)
            ax.legend(loc="upper left", fontsize=7, frameon=True)
            self.maps[flag] = ax
        fig.colorbar(mesh, ax=list(self.maps.values()), label="steps", pad=0.01)
        self.path_line, = ax_path.plot([], [], "-o", color=PALETTE[0], markersize=2,
                                       linewidth=1)
        self.gd_line, = ax_loss.plot([], [], color="0.6", linewidth=1.2, label="GD, same α")
        self.loss_line, = ax_loss.plot([], [], color=PALETTE[0], linewidth=1.4,
                                       label="momentum")
        ax_loss.legend(loc="lower left", fontsize=8)
        self.cross = {flag: ax.plot([], [], "+", color=PALETTE[3], markersize=14,
                                    markeredgewidth=2)[0] for flag, ax in self.maps.items()}
        self._show(False)
        return [self.path_line, self.gd_line, self.loss_line, *self.cross.values()]

    def _show(self, flag: bool) -> None:
        for key, ax in self.maps.items():
            ax.set_visible(key == flag)

    def update(self, lr: float, beta: float, nesterov: bool) -> str:
        flag = bool(nesterov)
        self._show(flag)
        self.show_view(flag)
        i = nearest(self.lrs, lr)
        j = int(np.argmin(np.abs(self.betas - beta)))
        run = self.runs[flag]
        path = run.path[i, j]
        ok = np.all(np.isfinite(path), axis=1)
        self.path_line.set_data(path[ok, 0], path[ok, 1])
        for line, loss in ((self.loss_line, run.loss[i, j]), (self.gd_line, run.loss[i, 0])):
            fin = np.isfinite(loss)
            line.set_data(np.flatnonzero(fin), np.maximum(loss[fin], FLOOR))
        for key, cross in self.cross.items():
            cross.set_data([self.lrs[i]], [self.betas[j]])
            cross.set_visible(key == flag)
        status = str(self.regimes[flag][i, j])
        self.path_line.set_color(REGIME_COLOURS[status])
        edge = float(heavy_ball_edge(self.betas[j], self.problem.lam_max, nesterov=flag))
        items = {"α": f"{self.lrs[i]:.3g}", "β": f"{self.betas[j]:.2f}",
                 "stable up to α": f"{edge:.3g}"}
        if run.diverged_at[i, j] >= 0:
            items["diverged at step"] = str(int(run.diverged_at[i, j]))
            return format_readout(items, "diverges")
        n, n_gd = int(self.steps_to[flag][i, j]), int(self.steps_to[flag][i, 0])
        items[f"loss < {TARGET:g}"] = f"{n} steps" if n >= 0 else f"not within {self.steps}"
        gd = f"{n_gd} steps" if n_gd >= 0 else f"not within {self.steps}"
        if run.diverged_at[i, 0] >= 0:
            gd = f"diverged at step {int(run.diverged_at[i, 0])}"
        items["GD at this α"] = gd
        return format_readout(items, status)


# ------------------------------------------------------------------ AdaGrad, rare features


def sparse_problem(seed: int = 0) -> tuple[LogisticRegressionLoss, np.ndarray, float]:
    """Logistic regression with 10 dense and 10 rare features (each active in 2% of rows).

    Returns:
        ``(loss, w_star, loss_star)``: the landscape, its minimiser (by Newton's method) and
        the minimum loss.
    """
    data = logistic_regression(n=500, d=20, seed=seed, sparse_features=10, sparse_rate=0.02)
    loss = LogisticRegressionLoss(data.X, data.y)
    w = np.zeros(loss.dim)
    for _ in range(30):
        w = w - np.linalg.solve(loss.hessian(w), loss.grad(w))
    return loss, w, float(loss.loss(w))


class SparseFeaturesExplorer(Explorer):
    """AdaGrad on logistic regression with rare features: one effective rate per coordinate.

    Left, the effective rate α/(√G_t + ε) of every coordinate over the steps (dense features
    in blue, rare ones in orange), with gradient descent's best rate for comparison. Right,
    the distance to the minimum loss, L − L*, against gradient descent and Adam, each at its
    own best rate.
    """

    DENSE = 10

    def __init__(self, steps: int = 200, lr: float = 0.1) -> None:
        self.steps = steps
        self.problem, self.w_star, self.loss_star = sparse_problem()
        slider = alpha_slider(lr, 1e-2, 1e2, "AdaGrad's learning rate α", steps_per_decade=10)
        self.lrs = slider_values(slider)
        start = np.zeros((1, self.problem.dim))
        runs = run_rule(adagrad_step, self.problem, self.lrs, start, steps, record="sum")
        self.gap = runs.loss[0] - self.loss_star
        self.diverged_at = runs.diverged_at[0]
        self.rates = self.lrs[None, :, None] / (np.sqrt(runs.recorded[:, 0]) + 1e-10)
        self.best_index = int(np.nanargmin(np.where(self.diverged_at < 0, self.gap[:, -1],
                                                    np.nan)))
        wide = 10 ** np.arange(-2.0, 2.01, 0.25)  # the references' own rates
        gd = sweep(self.problem, wide, steps, x0=start[0])
        gd_final = np.where(gd.diverged_at < 0, gd.loss[:, -1], np.inf)
        self.gd_lr = float(wide[np.argmin(gd_final)])
        self.gd_gap = gd.loss[np.argmin(gd_final)] - self.loss_star
        adam = run_rule(adam_step, self.problem, wide, start, steps)
        adam_final = np.where(adam.diverged_at[0] < 0, adam.loss[0, :, -1], np.inf)
        self.adam_lr = float(wide[np.argmin(adam_final)])
        self.adam_gap = adam.loss[0, np.argmin(adam_final)] - self.loss_star
        best = {"lr": float(self.lrs[self.best_index])}
        super().__init__({"lr": slider}, best=best, width=10.0, height=3.6,
                         best_label="reset to AdaGrad's best α")

    def setup(self, fig):
        ax_rate, ax_gap = fig.subplots(1, 2)
        ax_rate.set_yscale("log")
        ax_rate.set_xscale("log")
        ax_rate.set_xlim(1, self.steps)
        finite = self.rates[np.isfinite(self.rates)]
        ax_rate.set_ylim(max(finite.min(), 1e-4) / 2, finite.max() * 2)
        ax_rate.axhline(self.gd_lr, color="0.4", linestyle="--", linewidth=1,
                        label=f"GD's best α = {self.gd_lr:.3g} (every coordinate)")
        ax_rate.set_xlabel("step t (log scale)")
        ax_rate.set_ylabel("effective rate α / (√G + ε)")
        ax_rate.set_title("AdaGrad's rate, one line per weight")
        t = np.arange(1, self.steps + 1)
        dense = [ax_rate.plot([], [], color=PALETTE[0], linewidth=0.9)[0]
                 for _ in range(self.DENSE)]
        rare = [ax_rate.plot([], [], color=PALETTE[1], linewidth=0.9)[0]
                for _ in range(self.problem.dim - self.DENSE)]
        dense[0].set_label("dense features")
        rare[0].set_label("rare features (2% of rows)")
        ax_rate.legend(handles=[rare[0], dense[0], ax_rate.lines[0]], loc="lower left",
                       fontsize=7.5, frameon=True)
        self.rate_lines = dense + rare
        self.t = t
        ax_gap.set_yscale("log")
        ax_gap.set_xlim(0, self.steps)
        ax_gap.set_ylim(1e-14, 10)
        ax_gap.set_xlabel("step k")
        ax_gap.set_ylabel("L − L*  (log scale)")
        ax_gap.set_title("distance to the minimum loss")
        k = np.arange(self.steps + 1)
        ax_gap.plot(k, np.maximum(self.gd_gap, 1e-300), color="0.4", linestyle="--",
                    label=f"GD, its best α = {self.gd_lr:.3g}")
        ax_gap.plot(k, np.maximum(self.adam_gap, 1e-300), color=PALETTE[3], linestyle=":",
                    label=f"Adam, its best α = {self.adam_lr:.3g}")
        self.gap_line, = ax_gap.plot([], [], color=PALETTE[2], linewidth=1.6,
                                     label="AdaGrad at the slider's α")
        ax_gap.legend(loc="lower left", fontsize=7.5, frameon=True)
        return [*self.rate_lines, self.gap_line]

    def update(self, lr: float) -> str:
        i = nearest(self.lrs, lr)
        for j, line in enumerate(self.rate_lines):
            line.set_data(self.t, self.rates[:, i, j])
        gap = self.gap[i]
        fin = np.isfinite(gap)
        self.gap_line.set_data(np.flatnonzero(fin), np.maximum(gap[fin], 1e-300))
        items = {"α": f"{self.lrs[i]:.3g}"}
        if self.diverged_at[i] >= 0:
            items["diverged at step"] = str(int(self.diverged_at[i]))
            return format_readout(items, "diverges")
        last = self.rates[-1, i]
        ratio = np.median(last[self.DENSE:]) / np.median(last[:self.DENSE])
        items["L − L* after the last step"] = (f"{gap[-1]:.2g}" if gap[-1] > 1e-15
                                               else "below 1e-15 (round-off)")
        items["rate on rare / dense weights"] = f"{ratio:.1f}×"
        status = "converges" if gap[-1] <= 1e-6 * gap[0] else "too slow"
        if status == "too slow" and np.nanmin(gap) < 1e-3 * gap[0] < gap[-1]:
            status = "oscillates"
        return format_readout(items, status)

