"""Explorers of sections 01 and 02: one rate, one landscape, what happens.

Each explorer runs its sweep once, over every position of its sliders, when it
is built; a slider move then looks up the precomputed run and moves a few
artists.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..plots import PALETTE, REGIME_COLOURS, contour
from ..problems import BumpyWell, Parabola, Quadratic
from ..sweeps import sweep
from ._core import Explorer, alpha_slider, format_readout, nearest, slider_values

__all__ = ["BumpyWellExplorer", "ParabolaExplorer", "QuadraticExplorer", "RegimeMapExplorer"]

TARGET = 1e-6


def outcome(
    result: Any, regimes: np.ndarray, i: Any, target: float = TARGET
) -> tuple[str, dict[str, str]]:
    """The readout of run ``i`` of a sweep: its regime and its numbers."""
    diverged = int(result.diverged_at[i])
    if diverged >= 0:
        return "diverges", {"diverged at step": str(diverged)}
    regime = str(regimes[i])
    steps = int(result.steps_to(target)[i])
    reached = f"{steps} steps" if steps >= 0 else f"not within {result.steps} steps"
    return regime, {
        "final loss": f"{float(result.loss[i][-1]):.3g}",
        f"loss < {target:g}": reached,
    }


class ParabolaExplorer(Explorer):
    """Gradient descent on a parabola: the path on the curve, the loss per step.

    Args:
        curvature: λ of L(x) = λ/2 x².
        x0: the start.
        steps: updates per run.
        lr: the rate shown first.
    """

    def __init__(self, curvature: float = 2.0, x0: float = 2.0, steps: int = 30,
                 lr: float = 0.1) -> None:
        self.problem = Parabola(curvature=curvature)
        self.x0, self.steps = float(x0), steps
        slider = alpha_slider(lr, 1e-3 / curvature, 3.0 / curvature, "learning rate α")
        self.lrs = slider_values(slider)
        self.result = sweep(self.problem, self.lrs, steps, x0=self.x0, record_path=True)
        self.regimes = self.result.regime()
        best = float(self.lrs[nearest(self.lrs, 1 / curvature)])
        super().__init__({"lr": slider}, best={"lr": best})

    def setup(self, fig):
        ax_curve, ax_loss = fig.subplots(1, 2)
        span = 1.6 * abs(self.x0)
        x = np.linspace(-span, span, 300)
        ax_curve.plot(x, self.problem.loss(x[:, None]), color="0.55", linewidth=1)
        ax_curve.set_xlim(-span, span)
        ax_curve.set_ylim(-0.05 * self.problem.loss(np.array([span])), 1.05 * self.problem.loss(
            np.array([span])))
        ax_curve.set_xlabel("θ")
        ax_curve.set_ylabel("L(θ)")
        ax_curve.set_title("the path on the curve")
        self.path_line, = ax_curve.plot([], [], "-o", color=PALETTE[0], markersize=3.5,
                                        linewidth=1)
        self.start_dot, = ax_curve.plot([], [], "s", color=PALETTE[3], markersize=6)
        ax_loss.set_yscale("log")
        ax_loss.set_xlim(0, self.steps)
        ax_loss.set_ylim(1e-14, 1e4)
        ax_loss.set_xlabel("step k")
        ax_loss.set_ylabel("loss (log scale)")
        ax_loss.set_title("loss per step")
        ax_loss.axhline(TARGET, color="0.6", linestyle=":", linewidth=1)
        self.loss_line, = ax_loss.plot([], [], "-o", color=PALETTE[0], markersize=2.5)
        return [self.path_line, self.start_dot, self.loss_line]

    def update(self, lr: float) -> str:
        i = nearest(self.lrs, lr)
        path = self.result.path[i, :, 0]
        loss = self.result.loss[i]
        shown = np.isfinite(path)
        self.path_line.set_data(path[shown], self.problem.loss(path[shown][:, None]))
        self.start_dot.set_data([self.x0], [float(self.problem.loss(np.array([self.x0])))])
        self.loss_line.set_data(np.arange(loss.size)[np.isfinite(loss)],
                                np.maximum(loss[np.isfinite(loss)], 1e-300))
        status, items = outcome(self.result, self.regimes, i)
        for line in (self.path_line, self.loss_line):
            line.set_color(REGIME_COLOURS[status])
        lam = self.problem.curvature
        items = {"α": f"{self.lrs[i]:.3g}", "αλ": f"{self.lrs[i] * lam:.3g}", **items}
        return format_readout(items, status)


class QuadraticExplorer(Explorer):
    """Gradient descent on a 2-D quadratic of a given condition number.

    The contour plot shows the path; the readout names the regime live.
    """

    def __init__(self, condition_number: float = 10.0, steps: int = 60, lr: float = 0.5,
                 angle: float = 0.5) -> None:
        self.problem = Quadratic.from_condition(condition_number, lam_max=1.0, angle=angle)
        self.steps = steps
        slider = alpha_slider(lr, 1e-2, 2.6, "learning rate α")
        self.lrs = slider_values(slider)
        self.result = sweep(self.problem, self.lrs, steps, record_path=True)
        self.regimes = self.result.regime()
        q = self.problem
        best = 2.0 / (q.lam_min + q.lam_max)
        super().__init__({"lr": slider}, best={"lr": float(self.lrs[nearest(self.lrs, best)])})

    def setup(self, fig):
        ax_map, ax_loss = fig.subplots(1, 2, width_ratios=(1, 1.3))
        contour(ax_map, self.problem)
        ax_map.set_title(f"condition number κ = {self.problem.condition_number:g}")
        self.path_line, = ax_map.plot([], [], "-o", color=PALETTE[0], markersize=2.5,
                                      linewidth=1)
        ax_loss.set_yscale("log")
        ax_loss.set_xlim(0, self.steps)
        ax_loss.set_ylim(1e-14, 1e4)
        ax_loss.set_xlabel("step k")
        ax_loss.set_ylabel("loss (log scale)")
        ax_loss.axhline(TARGET, color="0.6", linestyle=":", linewidth=1)
        self.loss_line, = ax_loss.plot([], [], color=PALETTE[0])
        return [self.path_line, self.loss_line]

    def update(self, lr: float) -> str:
        i = nearest(self.lrs, lr)
        status, items = outcome(self.result, self.regimes, i)
        path = self.result.path[i]
        ok = np.all(np.isfinite(path), axis=1)
        self.path_line.set_data(path[ok, 0], path[ok, 1])
        loss = self.result.loss[i]
        fin = np.isfinite(loss)
        self.loss_line.set_data(np.arange(loss.size)[fin], np.maximum(loss[fin], 1e-300))
        for line in (self.path_line, self.loss_line):
            line.set_color(REGIME_COLOURS[status])
        q = self.problem
        items = {"α": f"{self.lrs[i]:.3g}", "2/λ_max": f"{2 / q.lam_max:.3g}", **items}
        return format_readout(items, status)


class BumpyWellExplorer(Explorer):
    """Gradient descent on a 1-D landscape with local minima: where does it settle?"""

    def __init__(self, steps: int = 300, lr: float = 0.02) -> None:
        self.problem = BumpyWell()
        self.steps = steps
        slider = alpha_slider(lr, 1e-3, 2.0, "learning rate α")
        self.lrs = slider_values(slider)
        self.result = sweep(self.problem, self.lrs, steps, record_path=True)
        final = self.result.path[:, -1, 0]
        good = np.flatnonzero(np.abs(final) < 1e-6)
        best = float(self.lrs[good[len(good) // 2]]) if good.size else lr
        super().__init__({"lr": slider}, best={"lr": best}, best_label="reset to a good α")

    def setup(self, fig):
        ax = fig.subplots()
        (low, high), = self.problem.bounds
        x = np.linspace(low, high, 800)
        ax.plot(x, self.problem.loss(x[:, None]), color="0.55", linewidth=1)
        for m in self.problem.local_minima:
            ax.axvline(m, color="0.85", linewidth=0.8, zorder=0)
        ax.set_xlim(low, high)
        ax.set_ylim(-0.3, float(self.problem.loss(np.array([high]))) + 0.5)
        ax.set_xlabel("θ")
        ax.set_ylabel("L(θ)")
        self.path_line, = ax.plot([], [], "-o", color=PALETTE[0], markersize=2.5, linewidth=0.8)
        self.end_dot, = ax.plot([], [], "*", color=PALETTE[3], markersize=12)
        return [self.path_line, self.end_dot]

    def update(self, lr: float) -> str:
        i = nearest(self.lrs, lr)
        path = self.result.path[i, :, 0]
        ok = np.isfinite(path)
        self.path_line.set_data(path[ok], self.problem.loss(path[ok][:, None]))
        if int(self.result.diverged_at[i]) >= 0:
            self.end_dot.set_data([], [])
            return format_readout({"α": f"{self.lrs[i]:.3g}",
                                   "diverged at step": str(int(self.result.diverged_at[i]))},
                                  "diverges")
        end = float(path[-1])
        self.end_dot.set_data([end], [float(self.problem.loss(np.array([end])))])
        if abs(end) < 1e-4:
            where = "the global minimum (θ = 0)"
            status = "converges"
        elif np.min(np.abs(self.problem.local_minima - end)) < 1e-3:
            where = f"a local minimum (θ ≈ {end:.3f})"
            status = "converges"
        else:
            where = f"nowhere yet (θ = {end:.3f})"
            status = "oscillates"
        return format_readout({"α": f"{self.lrs[i]:.3g}", "settled in": where,
                               "final loss": f"{float(self.result.loss[i, -1]):.3g}"}, status)


class RegimeMapExplorer(Explorer):
    """Steps to reach a target loss over (α, condition number κ), with the theory's lines.

    The map comes from one vectorised sweep per κ; the sliders move a cross-hair
    and the readout reports that run.
    """

    def __init__(self, steps: int = 200, lr: float = 0.5, kappa: float = 10.0) -> None:
        self.steps = steps
        slider = alpha_slider(lr, 1e-2, 2.5, "learning rate α")
        kappa_slider = alpha_slider(kappa, 1.0, 1000.0, "condition number κ", 10)
        self.lrs = slider_values(slider)
        self.kappas = slider_values(kappa_slider)
        runs = [sweep(Quadratic.from_condition(k, lam_max=1.0, angle=0.4), self.lrs, steps)
                for k in self.kappas]
        self.steps_to = np.array([r.steps_to(TARGET) for r in runs]).astype(float)
        self.diverged = np.array([r.diverged_at for r in runs])
        super().__init__({"lr": slider, "kappa": kappa_slider}, best=None, height=3.8)

    def setup(self, fig):
        from matplotlib.colors import LogNorm

        ax = fig.subplots()
        shown = np.where(self.steps_to > 0, self.steps_to, np.nan)
        mesh = ax.pcolormesh(self.lrs, self.kappas, shown, norm=LogNorm(1, self.steps),
                             cmap="viridis_r", shading="nearest")
        never = np.where((self.steps_to < 0) & (self.diverged < 0), 1.0, np.nan)
        ax.pcolormesh(self.lrs, self.kappas, never, cmap="Greys", vmin=0, vmax=3,
                      shading="nearest")
        blown = np.where(self.diverged >= 0, 1.0, np.nan)
        ax.pcolormesh(self.lrs, self.kappas, blown, cmap="Reds", vmin=0, vmax=1.6,
                      shading="nearest")
        fig.colorbar(mesh, ax=ax, label=f"steps to loss < {TARGET:g}")
        k = self.kappas
        ax.plot(2.0 / (1 + 1 / k), k, color="white", linestyle="--", linewidth=1.2,
                label="α = 2/(λ_min+λ_max): fastest")
        ax.axvline(2.0, color="black", linewidth=1.2, label="α = 2/λ_max: stability edge")
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("learning rate α (λ_max = 1)")
        ax.set_ylabel("condition number κ")
        ax.legend(loc="lower left", fontsize=8, frameon=True)
        self.cross, = ax.plot([], [], "+", color=PALETTE[3], markersize=16, markeredgewidth=2)
        return [self.cross]

    def update(self, lr: float, kappa: float) -> str:
        i, j = nearest(self.kappas, kappa), nearest(self.lrs, lr)
        self.cross.set_data([self.lrs[j]], [self.kappas[i]])
        items = {"α": f"{self.lrs[j]:.3g}", "κ": f"{self.kappas[i]:.3g}"}
        if self.diverged[i, j] >= 0:
            return format_readout({**items, "diverged at step": str(self.diverged[i, j])},
                                  "diverges")
        n = int(self.steps_to[i, j])
        if n < 0:
            return format_readout({**items, f"loss < {TARGET:g}": f"not within {self.steps}"},
                                  "too slow")
        return format_readout({**items, f"steps to loss < {TARGET:g}": str(n)}, "converges")
