"""Explorer of section 05 (practical tips): the LR range test, and training at a chosen rate.

Every position of the rate slider is a real training run, trained once when the explorer is
built by :func:`lrcourse.sweeps.sweep_mlp` (all runs as one NumPy computation, each equal to
``lrcourse.train.train``), so a move is a lookup.
"""

from __future__ import annotations

import numpy as np

from ..checks.practice import MOONS_SIZES, MOONS_VAL_EVERY, describe, diagnose_history, evidence
from ..checks.practice import moons as moons_data
from ..nn import MLP
from ..optimizers import SGD
from ..plots import PALETTE, plot_lr_find
from ..sweeps import sweep_mlp
from ..train import lr_find, supervised_objective
from ._core import Explorer, alpha_slider, format_readout, nearest, slider_values

__all__ = ["DIAGNOSIS_COLOURS", "RangeTestExplorer", "diagnosis_html"]


# ---------------------------------------------------------------------------------------------
# The explorer: the range test with a movable rate, and training at that rate

DIAGNOSIS_COLOURS = {
    "fine": PALETTE[2],
    "too low": PALETTE[5],
    "plateau": PALETTE[0],
    "too high": PALETTE[1],
    "overfitting": PALETTE[4],
    "diverging": PALETTE[3],
}
"""One Okabe-Ito colour per diagnosis of :func:`lrcourse.checks.practice.diagnose_history`."""


def diagnosis_html(label: str) -> str:
    """A diagnosis as a coloured word for a readout."""
    return f"<b style='color:{DIAGNOSIS_COLOURS[label]}'>{label}</b>"


class RangeTestExplorer(Explorer):
    """The LR range test of the moons MLP with a movable rate, and a real training run at it.

    Left: the range test (raw and smoothed loss against the rate, the three suggestions) with
    a marker at the slider's rate. Right: the training and validation loss of 300 full-batch
    steps at that constant rate, and the readout names the diagnosis of
    :func:`lrcourse.checks.practice.diagnose_history` with its evidence. Every slider position
    is trained once, all together, by :func:`sweep_mlp` when the explorer is built.

    Args:
        lr: the rate shown first.
        steps: training steps per run.
        seed: the initialisation seed of the MLP (the same for the range test and the runs).
    """

    def __init__(self, lr: float = 0.3, steps: int = 300, seed: int = 0) -> None:
        tr, va = moons_data()
        slider = alpha_slider(lr, 1e-3, 10.0, "learning rate α", steps_per_decade=10)
        self.lrs = slider_values(slider)
        self.steps = steps
        self.runs = sweep_mlp(MOONS_SIZES, tr.X, tr.y, self.lrs, steps, seed=seed, X_val=va.X,
                              y_val=va.y, val_every=MOONS_VAL_EVERY)
        net = MLP(MOONS_SIZES, seed=seed)
        self.test = lr_find(supervised_objective(net, tr.X, tr.y), SGD(net.params, lr=0.1),
                            start_lr=1e-4, end_lr=100.0, num_steps=200, smoothing=0.9)
        self.histories = [self.runs.history(i) for i in range(len(self.lrs))]
        self.labels = [diagnose_history(h) for h in self.histories]
        self.texts = [self._readout(i) for i in range(len(self.lrs))]
        final_val = np.where(self.runs.diverged_at < 0, self.runs.val_loss[:, -1], np.inf)
        best = float(self.lrs[int(np.argmin(final_val))])
        super().__init__({"lr": slider}, best={"lr": best}, height=3.6,
                         best_label="reset to the best α")

    def _readout(self, i: int) -> str:
        h, label = self.histories[i], self.labels[i]
        items = {"α": f"{self.lrs[i]:.3g}"}
        if h.diverged:
            items["diverged at step"] = str(h.diverged_at)
        else:
            best = int(np.argmin(h.val_loss))
            items["final training loss"] = f"{h.loss[-1]:.3g}"
            items["best validation loss"] = f"{h.val_loss[best]:.3g} (step {h.val_steps[best]})"
        why = describe(label, evidence(h))
        return f"{diagnosis_html(label)} &nbsp;·&nbsp; {format_readout(items)}<br><i>{why}</i>"

    def setup(self, fig):
        ax_test, ax_run = fig.subplots(1, 2)
        plot_lr_find(ax_test, self.test)
        ax_test.set_yscale("log")
        ax_test.set_xlim(1e-4, 1e2)
        ax_test.set_title("LR range test (200 steps, smoothing 0.9)", fontsize=10)
        self.marker = ax_test.axvline(self.lrs[0], color="black", linewidth=1.8, label="α (slider)")
        ax_test.legend(fontsize=8, loc="lower left")
        ax_run.set_yscale("log")
        ax_run.set_xlim(0, self.steps)
        ax_run.set_ylim(5e-3, 30)
        ax_run.set_xlabel("step")
        ax_run.set_ylabel("loss (log scale)")
        ax_run.set_title(f"training at constant α, {self.steps} full-batch steps", fontsize=10)
        self.train_line, = ax_run.plot([], [], color=PALETTE[0], label="training")
        self.val_line, = ax_run.plot([], [], "o-", color=PALETTE[1], markersize=2.5,
                                     linewidth=1, label="validation")
        ax_run.legend(loc="upper right", fontsize=8)
        return [self.marker, self.train_line, self.val_line]

    def update(self, lr: float) -> str:
        i = nearest(self.lrs, lr)
        h = self.histories[i]
        self.marker.set_xdata([self.lrs[i], self.lrs[i]])
        loss = np.where(np.isfinite(h.loss), h.loss, 1e300)
        self.train_line.set_data(np.arange(len(loss)), loss)
        self.val_line.set_data(h.val_steps, h.val_loss)
        return self.texts[i]
