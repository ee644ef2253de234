"""Explorer of section 07: train and validation curves of a network that can overfit.

Every position of the controls (13 rates × 3 schedules) is trained once, when the explorer
is built, as one batched computation (:func:`lrcourse.checks.overfitting.moons_runs`); a
move then looks up that run and moves a few artists.
"""

from __future__ import annotations

import html

import ipywidgets as widgets
import numpy as np
from matplotlib.colors import LinearSegmentedColormap, to_rgb

from ..checks.overfitting import SCHEDULES, STEPS, moons_runs, moons_task
from ..plots import PALETTE
from ._core import Explorer, alpha_slider, nearest, slider_values

__all__ = ["OverfittingExplorer", "fit_status"]

STATUS_COLOURS = {
    "diverges": "#D55E00",
    "overfits": "#CC79A7",
    "fits": "#009E73",
    "still learning": "#56B4E9",
}

#: how much the final validation loss may exceed the best one before we call it overfitting
OVERFIT_MARGIN = 0.05


def fit_status(best_val: float, final_val: float, best_step: int, steps: int,
               diverged_at: int) -> str:
    """Name what a run did: "diverges", "overfits", "still learning" or "fits".

    - diverges: training blew up (``diverged_at >= 0``);
    - overfits: the final validation loss is more than 0.05 above the best one;
    - still learning: the best validation loss came in the last 10% of the run;
    - fits: it ended close to its best validation loss.
    """
    if diverged_at >= 0:
        return "diverges"
    if final_val > best_val + OVERFIT_MARGIN:
        return "overfits"
    if best_step >= 0.9 * steps:
        return "still learning"
    return "fits"


def _readout(items: dict[str, str], status: str) -> str:
    colour = STATUS_COLOURS[status]
    parts = [f"<b style='color:{colour}'>{status}</b>"]
    parts += [f"<b>{html.escape(k)}</b>: {html.escape(v)}" for k, v in items.items()]
    return " &nbsp;·&nbsp; ".join(parts)


class OverfittingExplorer(Explorer):
    """Train and validation loss of a 2-32-32-2 network on 40 noisy points, per rate and schedule.

    Left: the loss on the training set and on the validation set every 10 steps, the gap
    between them shaded, the best validation loss starred. Right: what the network predicts
    over the plane at its best step (what early stopping keeps) and after the last step.

    Args:
        lr: the rate shown first (snapped to the slider's 13 positions, 1e-3 to 10).
        schedule: "constant", "cosine" or "step", shown first.
        seed: the seed of the data, initialisation and mini-batches.
    """

    grid_size = 48

    def __init__(self, lr: float = 0.3, schedule: str = "constant", seed: int = 0) -> None:
        if schedule not in SCHEDULES:
            raise ValueError(f"schedule must be one of {SCHEDULES}, got schedule={schedule!r}")
        slider = alpha_slider(lr, 1e-3, 10.0, "learning rate α", steps_per_decade=3)
        self.lrs = slider_values(slider)
        toggle = widgets.ToggleButtons(options=list(SCHEDULES), value=schedule,
                                       description="schedule",
                                       style={"description_width": "initial",
                                              "button_width": "80px"})
        self.task = moons_task(seed)
        settings = [{"lr": float(a), "schedule": s} for s in SCHEDULES for a in self.lrs]
        self.runs = moons_runs(settings, [seed], keep_best=True).reshape(
            len(SCHEDULES), len(self.lrs))
        self.maps_best, self.maps_final = self._maps()
        best_val = np.where(self.runs.diverged_at[0] >= 0, np.inf, self.runs.best_val[0])
        best = {"lr": float(self.lrs[int(np.argmin(best_val))]), "schedule": "constant"}
        super().__init__({"lr": slider, "schedule": toggle}, best=best, width=9.5, height=3.3,
                         best_label="reset to the best early-stopped α")

    def _maps(self) -> tuple[np.ndarray, np.ndarray]:
        """P(class 1) on a grid of the plane, for every run, at its best and last step."""
        (x0, x1), (y0, y1) = self.extent = (-1.7, 2.7), (-1.3, 1.5)
        xs, ys = np.meshgrid(np.linspace(x0, x1, self.grid_size),
                             np.linspace(y0, y1, self.grid_size))
        points = np.stack([xs.ravel(), ys.ravel()], axis=1)
        out = []
        for best in (True, False):
            with np.errstate(all="ignore"):
                logits = self.runs.logits(points, best=best)
                p1 = 1.0 / (1.0 + np.exp(logits[..., 0] - logits[..., 1]))
            out.append(p1.reshape(len(SCHEDULES), len(self.lrs), self.grid_size, self.grid_size))
        out[1][self.runs.diverged_at >= 0] = np.nan  # a diverged network: no picture (grey)
        return out[0], out[1]

    def setup(self, fig):
        ax_loss, ax_best, ax_final = fig.subplots(1, 3, width_ratios=(1.7, 1, 1))
        steps = self.runs.val_steps
        ax_loss.set_yscale("log")
        ax_loss.set_xlim(0, STEPS)
        ax_loss.set_ylim(5e-3, 4.0)
        ax_loss.set_xlabel("step")
        ax_loss.set_ylabel("loss (log scale)")
        self.gap = ax_loss.fill_between(steps, np.ones_like(steps), np.ones_like(steps),
                                        color=PALETTE[1], alpha=0.2, linewidth=0,
                                        label="gap")
        self.train_line, = ax_loss.plot([], [], color=PALETTE[0], label="training")
        self.val_line, = ax_loss.plot([], [], color=PALETTE[3], label="validation")
        self.best_dot, = ax_loss.plot([], [], "*", color="black", markersize=11,
                                      label="best validation")
        ax_loss.legend(loc="lower left", bbox_to_anchor=(0.0, 1.0), fontsize=8, ncol=4,
                       handlelength=1.5, columnspacing=1.0, borderaxespad=0.2)

        # pale versions of the two class colours, so that the points stay visible on top
        pale = [0.45 * np.array(to_rgb(c)) + 0.55 for c in (PALETTE[0], PALETTE[1])]
        cmap = LinearSegmentedColormap.from_list(
            "moons", [pale[0], "#FFFFFF", pale[1]]).with_extremes(bad="0.85")
        (x0, x1), (y0, y1) = self.extent
        X, y = self.task[0].X, self.task[0].y
        self.images, points = [], []
        for ax, title in ((ax_best, "network at the best step"),
                          (ax_final, "network after the last step")):
            image = ax.imshow(np.full((self.grid_size, self.grid_size), 0.5), origin="lower",
                              extent=(x0, x1, y0, y1), cmap=cmap, vmin=0, vmax=1,
                              aspect="auto", interpolation="bilinear")
            # drawn after the picture (both move with the blit), so they stay on top of it
            for label, colour in ((0, PALETTE[0]), (1, PALETTE[1])):
                points.append(ax.scatter(X[y == label, 0], X[y == label, 1], s=14,
                                         color=colour, edgecolor="black", linewidth=0.5))
            ax.set_title(title, fontsize=9)
            ax.set_xticks([])
            ax.set_yticks([])
            self.images.append(image)
        self.note = ax_final.text(0.5, 0.5, "", transform=ax_final.transAxes, ha="center",
                                  va="center", fontsize=10, color=STATUS_COLOURS["diverges"],
                                  bbox={"facecolor": "white", "edgecolor": "none"})
        return [self.gap, self.train_line, self.val_line, self.best_dot, *self.images, *points,
                self.note]

    def update(self, lr: float, schedule: str) -> str:
        i, j = SCHEDULES.index(schedule), nearest(self.lrs, lr)
        runs = self.runs
        steps = runs.val_steps
        train, val = runs.train_loss[i, j], runs.val_loss[i, j]
        ok = np.isfinite(train) & np.isfinite(val)
        floor = 1e-6
        self.train_line.set_data(steps[ok], np.maximum(train[ok], floor))
        self.val_line.set_data(steps[ok], np.maximum(val[ok], floor))
        upper = np.maximum(val[ok], floor)
        lower = np.maximum(train[ok], floor)
        verts = np.concatenate([np.stack([steps[ok], upper], 1),
                                np.stack([steps[ok][::-1], lower[::-1]], 1)])
        self.gap.set_verts([verts] if len(verts) else [])
        best_step, best_val = int(runs.best_step[i, j]), float(runs.best_val[i, j])
        self.best_dot.set_data([best_step], [best_val])
        self.images[0].set_data(self.maps_best[i, j])
        self.images[1].set_data(self.maps_final[i, j])

        diverged = int(runs.diverged_at[i, j])
        final_val = float(runs.final_val[i, j])
        status = fit_status(best_val, final_val, best_step, STEPS, diverged)
        items = {"α": f"{self.lrs[j]:.3g}", "schedule": schedule,
                 "best val loss": f"{best_val:.3f} at step {best_step}"}
        self.note.set_text(f"diverged at step {diverged}" if diverged >= 0 else "")
        if diverged >= 0:
            items["diverged at step"] = str(diverged)
        else:
            items["final val loss"] = f"{final_val:.3f}"
            items["final gap"] = f"{float(runs.final_gap[i, j]):.3f}"
        return _readout(items, status)
