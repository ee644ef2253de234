"""Explorer of section 09: REINFORCE on cart-pole, several seeds, with and without a schedule.

All the runs behind the explorer are trained when it is built, by two calls of
``lrcourse.rl.train_reinforce`` (one per schedule) that train every slider position and every
seed side by side as one batched computation; a move then only looks results up.
"""

from __future__ import annotations

from html import escape
from typing import Any

import ipywidgets as widgets
import numpy as np

from ..plots import PALETTE, REGIME_COLOURS
from ..progress import silenced
from ._core import Explorer, alpha_slider, format_readout, nearest, slider_values

__all__ = ["ReinforceExplorer", "collapse_episode", "reinforce_band_figure", "smooth"]

SCHEDULES = ("constant", "cosine decay")
RANDOM_POLICY_RETURN = 22.0  # a uniform policy balances the pole for about 22 steps
COLLAPSE_LEVEL = 15.0
LEARNED_LEVEL = 150.0
TAIL = 50  # the final return of a run: the mean of its last 50 episodes

STATUS_COLOURS = {
    "learns": REGIME_COLOURS["converges"],
    "too slow": REGIME_COLOURS["too slow"],
    "unstable": REGIME_COLOURS["oscillates"],
    "collapses": REGIME_COLOURS["diverges"],
}


def smooth(returns: np.ndarray, window: int = 10) -> np.ndarray:
    """The trailing mean of the last ``window`` episodes (fewer at the start), on the last axis.

    Example:
        >>> smooth(np.array([0.0, 2.0, 4.0, 6.0]), window=2)
        array([0., 1., 3., 5.])
    """
    r = np.asarray(returns, dtype=float)
    csum = np.cumsum(r, axis=-1)
    out = csum.copy()
    out[..., window:] = csum[..., window:] - csum[..., :-window]
    counts = np.minimum(np.arange(1, r.shape[-1] + 1), window)
    return out / counts


def collapse_episode(returns: np.ndarray, level: float = COLLAPSE_LEVEL, window: int = 10,
                     min_tail: int = 30) -> int:
    """The episode from which a run stays worse than a random policy to the end, or -1.

    A run has collapsed at episode k when its trailing mean over ``window`` episodes is at
    most ``level`` from k to the last episode, and that lasts at least ``min_tail`` episodes:
    the policy pushes (almost) always one way and the pole falls within a dozen steps.

    Example:
        >>> collapse_episode(np.r_[np.full(50, 40.0), np.full(60, 9.0)])
        58
    """
    above = np.flatnonzero(smooth(returns, window) > level)
    k = int(above[-1]) + 1 if above.size else 0
    return k if k <= len(returns) - min_tail else -1


class ReinforceExplorer(Explorer):
    """REINFORCE on cart-pole: the return of every seed, for a rate and a schedule.

    Left: the return per episode (a trailing mean of 10) of every seed, and their mean.
    Right: the final return (last 50 episodes) against α for both schedules, mean and the
    range of the seeds; the cursor marks the current choice.

    Args:
        lr: the rate shown first.
        schedule: "constant" or "cosine decay" (the factor cos-annealed from 1 to 0).
        episodes: episodes per run (one episode per update).
        seeds: how many seeds per rate.
        max_steps: the longest episode of cart-pole.
    """

    def __init__(self, lr: float = 1e-3, schedule: str = "constant", episodes: int = 200,
                 seeds: int = 8, max_steps: int = 200) -> None:
        from ..rl import CartPole, train_reinforce
        from ..schedules import cosine_annealing

        slider = alpha_slider(lr, 1e-4, 10**-1.6, "learning rate α", steps_per_decade=5)
        self.lrs = slider_values(slider)
        toggle = widgets.ToggleButtons(options=list(SCHEDULES), value=schedule,
                                       description="schedule",
                                       style={"description_width": "initial"})
        self.episodes, self.n_seeds = episodes, seeds
        env = CartPole(max_steps=max_steps)
        factors = {"constant": None, "cosine decay": cosine_annealing(1.0, T_max=episodes)}
        #: returns[schedule]: shape (rates, seeds, episodes)
        with silenced():  # a bar would show as an empty box in an exported notebook
            self.returns = {
                name: train_reinforce(env, list(self.lrs), episodes, seed=list(range(seeds)),
                                      schedule=factor).returns
                for name, factor in factors.items()
            }
        self.smoothed = {name: smooth(r) for name, r in self.returns.items()}
        self.final = {name: r[..., -TAIL:].mean(axis=-1) for name, r in self.returns.items()}
        self.collapsed = {name: np.array([[collapse_episode(run) for run in by_rate]
                                          for by_rate in r])
                          for name, r in self.returns.items()}
        means = np.array([self.final[name].mean(axis=1) for name in SCHEDULES])
        s, i = np.unravel_index(int(np.argmax(means)), means.shape)
        best = {"lr": float(self.lrs[i]), "schedule": SCHEDULES[s]}
        super().__init__({"lr": slider, "schedule": toggle}, best=best, height=3.6,
                         best_label="reset to the best α and schedule")

    def setup(self, fig):
        ax_runs, ax_rates = fig.subplots(1, 2, width_ratios=(1.25, 1))
        ax_runs.set_xlim(0, self.episodes)
        ax_runs.set_ylim(0, 205)
        ax_runs.set_xlabel("episode")
        ax_runs.set_ylabel("return (steps balanced)")
        ax_runs.set_title(f"{self.n_seeds} seeds (trailing mean of 10 episodes)")
        ax_runs.axhline(RANDOM_POLICY_RETURN, color="0.6", linestyle=":", linewidth=1)
        ax_runs.text(self.episodes * 0.99, RANDOM_POLICY_RETURN + 3, "random policy",
                     ha="right", fontsize=8, color="0.45")
        self.seed_lines = [ax_runs.plot([], [], linewidth=0.9, alpha=0.8)[0]
                           for _ in range(self.n_seeds)]
        self.mean_line, = ax_runs.plot([], [], color="black", linewidth=2.2, label="mean")
        ax_runs.legend(loc="upper left", fontsize=8)

        for name, colour in zip(SCHEDULES, (PALETTE[0], PALETTE[1]), strict=True):
            final = self.final[name]
            mean = final.mean(axis=1)
            ax_rates.fill_between(self.lrs, final.min(axis=1), final.max(axis=1), color=colour,
                                  alpha=0.15, linewidth=0)
            ax_rates.plot(self.lrs, mean, "-o", color=colour, markersize=3, label=name)
        ax_rates.set_xscale("log")
        ax_rates.set_ylim(0, 205)
        ax_rates.set_xlabel("learning rate α")
        ax_rates.set_ylabel(f"return, last {TAIL} episodes")
        ax_rates.set_title("mean, and the range of the seeds")
        ax_rates.legend(loc="upper left", fontsize=8)
        self.cursor = ax_rates.axvline(self.lrs[0], color="0.3", linewidth=1)
        self.marker, = ax_rates.plot([], [], "o", markersize=9, markerfacecolor="none",
                                     markeredgewidth=2, color="black")
        return [*self.seed_lines, self.mean_line, self.cursor, self.marker]

    def outcome(self, i: int, schedule: str) -> tuple[str, dict[str, str]]:
        """The status word and the numbers of rate ``i`` under ``schedule``."""
        final = self.final[schedule][i]
        collapsed = self.collapsed[schedule][i]
        n_collapsed = int(np.sum(collapsed >= 0))
        n_learned = int(np.sum(final >= LEARNED_LEVEL))
        items = {
            f"return, last {TAIL} episodes": f"{final.mean():.0f} ± {final.std():.0f} "
                                             f"(mean ± sd over {self.n_seeds} seeds)",
            f"seeds that learned (≥ {LEARNED_LEVEL:.0f})": f"{n_learned}/{self.n_seeds}",
        }
        if n_collapsed:
            first = int(collapsed[collapsed >= 0].min())
            items["collapsed"] = (f"{n_collapsed}/{self.n_seeds} seeds, the first at episode "
                                  f"{first}")
        if n_collapsed >= 2:
            status = "collapses"
        elif final.std() > 35:
            status = "unstable"
        elif final.mean() >= 120:
            status = "learns"
        else:
            status = "too slow"
        return status, items

    def update(self, lr: float, schedule: str) -> str:
        i = nearest(self.lrs, lr)
        curves = self.smoothed[schedule][i]
        final = self.final[schedule][i]
        collapsed = self.collapsed[schedule][i]
        x = np.arange(1, self.episodes + 1)
        for line, curve, end, fell in zip(self.seed_lines, curves, final, collapsed,
                                          strict=True):
            line.set_data(x, curve)
            if fell >= 0:
                line.set_color(STATUS_COLOURS["collapses"])
            elif end >= LEARNED_LEVEL:
                line.set_color(STATUS_COLOURS["learns"])
            else:
                line.set_color(PALETTE[5])
        self.mean_line.set_data(x, curves.mean(axis=0))
        self.cursor.set_xdata([self.lrs[i], self.lrs[i]])
        self.marker.set_data([self.lrs[i]], [final.mean()])
        self.marker.set_color(PALETTE[0] if schedule == SCHEDULES[0] else PALETTE[1])
        status, items = self.outcome(i, schedule)
        head = (f"<b style='color:{STATUS_COLOURS[status]}'>{escape(status)}</b>"
                " &nbsp;·&nbsp; ")
        return head + format_readout({"α": f"{self.lrs[i]:.3g}", "schedule": schedule, **items})


def reinforce_band_figure(explorer: ReinforceExplorer,
                          rates: Any = (2.5e-4, 1e-3, 1.6e-3, 1e-2)):
    """One panel per rate: the return per episode with and without the schedule, mean and
    the range of the seeds.

    Uses the runs the explorer already trained (the slider positions nearest to ``rates``).
    """
    from ..plots import figure

    fig, axes = figure(2.6 * len(rates), 3.0, ncols=len(rates))
    axes = np.atleast_1d(axes)
    x = np.arange(1, explorer.episodes + 1)
    for ax, rate in zip(axes, rates, strict=True):
        i = nearest(explorer.lrs, rate)
        for name, colour in zip(SCHEDULES, (PALETTE[0], PALETTE[1]), strict=True):
            curves = explorer.smoothed[name][i]
            ax.fill_between(x, curves.min(axis=0), curves.max(axis=0), color=colour,
                            alpha=0.15, linewidth=0)
            ax.plot(x, curves.mean(axis=0), color=colour, linewidth=2, label=name)
        ax.axhline(RANDOM_POLICY_RETURN, color="0.6", linestyle=":", linewidth=1)
        ax.set_ylim(0, 205)
        ax.set_xlim(0, explorer.episodes)
        ax.set_xlabel("episode")
        ax.set_title(f"α = {explorer.lrs[i]:.2g}")
    axes[0].set_ylabel("return (trailing mean of 10)")
    axes[0].legend(loc="upper left", fontsize=8)
    fig.suptitle(f"REINFORCE on cart-pole: mean and range of {explorer.n_seeds} seeds",
                 fontsize=10)
    return fig
