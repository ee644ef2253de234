"""Explorer of section 06: speed against stability of mini-batch SGD, over (α, batch size).

Everything is computed once, when the explorer is built: for every batch size of the
slider, :func:`batch_runs` runs every rate of the α slider for 16 seeds as one vectorised
computation (:func:`sweep_seeds`). A slider move then looks up those runs.

The measurements the notebook and its grader share (:func:`batch_problem`,
:func:`sweep_seeds`, :func:`stability_edge`) are defined in :mod:`lrcourse.checks.challenges`
and re-exported here.
"""

from __future__ import annotations

import functools
import math

import ipywidgets as widgets
import numpy as np

from ..checks.challenges import batch_problem, edge_estimate, stability_edge, sweep_seeds
from ..plots import PALETTE, REGIME_COLOURS
from ..sweeps import SweepResult
from ._core import Explorer, alpha_slider, format_readout

__all__ = [
    "BATCH_SIZES",
    "SpeedStabilityExplorer",
    "batch_problem",
    "batch_runs",
    "edge_estimate",
    "stability_edge",
    "sweep_seeds",
]

BATCH_SIZES = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512)
LR_LOW, LR_HIGH, PER_DECADE = 1e-2, 10**0.5, 20


def _rates(low: float, high: float, per_decade: int) -> np.ndarray:
    """The values of an ``alpha_slider(…, low, high, steps_per_decade=per_decade)``."""
    n = int(round((math.log10(high) - math.log10(low)) * per_decade)) + 1
    return 10 ** (math.log10(low) + np.arange(n) / per_decade)


def batch_runs(
    d: int = 16,
    seed: int = 0,
    batch_sizes: tuple[int, ...] = BATCH_SIZES,
    seeds: int = 16,
    steps: int = 200,
    low: float = LR_LOW,
    high: float = LR_HIGH,
    per_decade: int = PER_DECADE,
) -> dict[int, SweepResult]:
    """SGD on ``batch_problem(d, seed)`` for every batch size, rate and seed (cached).

    Args:
        d, seed: the problem, as in :func:`batch_problem`.
        batch_sizes: the batch sizes, each at most 512 (the number of samples).
        seeds: runs per (rate, batch size), with batch seeds 0, 1, ..., seeds - 1.
        steps: updates per run.
        low, high, per_decade: the log-spaced grid of rates (that of the α slider).

    Returns:
        ``{B: sweep_seeds(...)}``, each a ``SweepResult`` over (seeds, rates). The result is
        cached: the notebook's figure and the explorer share one computation (do not
        modify it).

    Example:
        >>> runs = batch_runs(batch_sizes=(4, 512), seeds=4, steps=50)
        >>> print(sorted(runs), runs[4].loss.shape)
        [4, 512] (4, 51, 51)
    """
    return _batch_runs(d, seed, tuple(batch_sizes), seeds, steps, low, high, per_decade)


@functools.lru_cache(maxsize=4)
def _batch_runs(d, seed, batch_sizes, seeds, steps, low, high, per_decade):
    loss = batch_problem(d=d, seed=seed)
    lrs = _rates(low, high, per_decade)
    return {b: sweep_seeds(loss, lrs, steps, b, range(seeds)) for b in batch_sizes}


def _summary(runs: SweepResult, target: float) -> dict[str, np.ndarray]:
    """Per rate: median steps to the target, share of failed runs, first divergence."""
    steps = runs.steps_to(target)  # (S, R), -1 if never
    reached = steps >= 0
    with np.errstate(all="ignore"):
        median = np.array([np.median(col[ok]) if ok.any() else np.nan
                           for col, ok in zip(steps.T, reached.T, strict=True)])
    diverged = runs.diverged_at >= 0
    first = np.where(diverged, runs.diverged_at, np.iinfo(int).max).min(axis=0)
    safe = ~np.isnan(median) & reached.all(axis=0)
    best = int(np.nanargmin(np.where(safe, median, np.nan))) if safe.any() else None
    return {"median": median, "failed": 1.0 - reached.mean(axis=0), "diverged": diverged,
            "first": first, "reached": reached, "steps": steps, "best": best}


class SpeedStabilityExplorer(Explorer):
    """Mini-batch SGD for a chosen (α, B): 16 seeds' loss curves, and the trade-off over α.

    Left: the loss above its minimum for every seed (diverged runs in red). Right, for the
    chosen batch size: the median number of steps to the target, and the share of runs
    that failed (diverged, or never got there), against α.

    Args:
        lr: the rate shown first.
        batch: the batch size shown first (one of :data:`BATCH_SIZES`).
        target: a run succeeds when ``loss - L(w*) <= target``.
        steps: updates per run.
        seeds: runs per (α, B).
    """

    def __init__(self, lr: float = 0.1, batch: int = 4, target: float = 0.1, steps: int = 200,
                 seeds: int = 16) -> None:
        if batch not in BATCH_SIZES:
            raise ValueError(f"batch must be one of {BATCH_SIZES}, got batch={batch!r}")
        self.problem = batch_problem()
        self.loss_min = float(self.problem.loss(self.problem.minimum))
        self.target, self.steps, self.seeds = float(target), steps, seeds
        slider = alpha_slider(lr, LR_LOW, LR_HIGH, "learning rate α", PER_DECADE)
        self.lrs = _rates(LR_LOW, LR_HIGH, PER_DECADE)
        self.runs = batch_runs(seeds=seeds, steps=steps)
        self.summary = {b: _summary(r, self.loss_min + self.target) for b, r in self.runs.items()}
        self.edges = {b: stability_edge(r) for b, r in self.runs.items()}
        batch_slider = widgets.SelectionSlider(
            options=[(f"{b} (all)" if b == len(self.problem.X) else str(b), b)
                     for b in BATCH_SIZES],
            value=batch, description="batch size B", continuous_update=True,
            style={"description_width": "initial"}, layout=widgets.Layout(width="420px"),
        )
        best = self.summary[batch]["best"]
        super().__init__(
            {"lr": slider, "batch": batch_slider},
            best={"lr": float(self.lrs[best]) if best is not None else lr, "batch": batch},
            height=3.6, best_label="fastest safe α",
        )

    def reset(self) -> None:
        """Move α to the fastest rate at which no run fails, for the current batch size."""
        batch = self.controls["batch"].value
        best = self.summary[batch]["best"]
        if best is not None:
            self.best = {"lr": float(self.lrs[best]), "batch": batch}
        super().reset()

    def setup(self, fig):
        ax_runs, ax_trade = fig.subplots(1, 2, width_ratios=(1, 1.15))
        ax_runs.set_yscale("log")
        ax_runs.set_xlim(0, self.steps)
        gap0 = float(self.problem.loss(self.problem.x0)) - self.loss_min
        ax_runs.set_ylim(1e-3, 1e3 * gap0)
        ax_runs.set_xlabel("step k")
        ax_runs.set_ylabel("loss − L(w*) (log scale)")
        ax_runs.set_title(f"{self.seeds} runs at the chosen (α, B), one per seed; black: median",
                          fontsize=10)
        ax_runs.axhline(self.target, color="0.4", linestyle=":", linewidth=1)
        ax_runs.text(0.02 * self.steps, self.target * 0.75, "target", ha="left", va="top",
                     fontsize=8, color="0.3")
        self.ok_line, = ax_runs.plot([], [], color=PALETTE[5], linewidth=0.7)
        self.bad_line, = ax_runs.plot([], [], color=REGIME_COLOURS["diverges"], linewidth=0.9)
        self.median_line, = ax_runs.plot([], [], color="black", linewidth=1.6)

        ax_trade.set_xscale("log")
        ax_trade.set_yscale("log")
        ax_trade.set_xlim(self.lrs[0], self.lrs[-1])
        ax_trade.set_ylim(1, 1.5 * self.steps)
        ax_trade.set_xlabel("learning rate α (log scale)")
        ax_trade.set_ylabel("median steps to target", color=PALETTE[0])
        ax_fail = ax_trade.twinx()
        ax_fail.set_ylim(0, 1.05)
        ax_fail.set_ylabel("share of runs that fail", color=REGIME_COLOURS["diverges"])
        ax_fail.grid(False)
        ax_fail.spines["right"].set_visible(True)
        self.steps_line, = ax_trade.plot([], [], "-o", color=PALETTE[0], markersize=2.5)
        self.fail_line, = ax_fail.plot([], [], color=REGIME_COLOURS["diverges"],
                                       drawstyle="steps-mid", linewidth=1.4)
        self.edge_mark, = ax_fail.plot([], [], "v", color=REGIME_COLOURS["diverges"],
                                       markersize=8)
        self.cursor = ax_trade.axvline(self.lrs[0], color="black", linestyle="--",
                                       linewidth=1)
        ax_trade.set_title("for the chosen B   (▼ where half the runs diverge)", fontsize=10)
        return [self.ok_line, self.bad_line, self.median_line, self.steps_line, self.fail_line,
                self.edge_mark, self.cursor]

    def update(self, lr: float, batch: int) -> str:
        i = int(np.argmin(np.abs(np.log(self.lrs) - np.log(lr))))
        runs, summary = self.runs[batch], self.summary[batch]
        gap = runs.loss[:, i, :] - self.loss_min  # (S, steps + 1)
        diverged = summary["diverged"][:, i]
        self.ok_line.set_data(*_joined(gap[~diverged]))
        self.bad_line.set_data(*_joined(gap[diverged]))
        # a diverged run counts as infinitely far after it blew up: the median run is the
        # typical one, and it disappears once more than half of the runs have diverged
        median = np.median(np.where(np.isnan(gap), np.inf, gap), axis=0)
        self.median_line.set_data(np.arange(gap.shape[1]), np.where(np.isfinite(median),
                                                                    median, np.nan))
        self.steps_line.set_data(self.lrs, summary["median"])
        self.fail_line.set_data(self.lrs, summary["failed"])
        edge = self.edges[batch]
        self.edge_mark.set_data([edge] if np.isfinite(edge) else [], [1.0] if np.isfinite(
            edge) else [])
        self.cursor.set_xdata([self.lrs[i], self.lrs[i]])
        return self._readout(i, batch, gap, diverged)

    def _readout(self, i: int, batch: int, gap: np.ndarray, diverged: np.ndarray) -> str:
        summary, n = self.summary[batch], self.seeds
        reached = summary["reached"][:, i]
        items = {"α": f"{self.lrs[i]:.3g}", "B": str(batch)}
        if reached.any():
            items[f"reached loss − L* ≤ {self.target:g}"] = (
                f"{reached.sum()} of {n} runs, median {summary['median'][i]:.0f} steps")
        else:
            items[f"reached loss − L* ≤ {self.target:g}"] = f"no run within {self.steps} steps"
        best = summary["best"]
        if diverged.any():
            items["diverged at step"] = (f"{summary['first'][i]} "
                                         f"({diverged.sum()} of {n} runs)")
            status = "diverges"
        elif reached.all():
            status = "converges"
        elif best is not None and i < best:
            status = "too slow"
        else:
            status = "oscillates"
            floor = float(np.median(gap[:, -self.steps // 4:]))
            items["noise floor"] = f"≈ {floor:.2g}, above the target"
        if best is not None:
            items["fastest α with no failure"] = f"{self.lrs[best]:.3g}"
        return format_readout(items, status)


def _joined(curves: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Many curves as one line: x and y with a NaN between consecutive curves."""
    if curves.size == 0:
        return np.empty(0), np.empty(0)
    k = curves.shape[1]
    x = np.tile(np.append(np.arange(k, dtype=float), np.nan), curves.shape[0])
    y = np.hstack([curves, np.full((curves.shape[0], 1), np.nan)]).ravel()
    return x, np.where(y > 0, y, np.nan)
