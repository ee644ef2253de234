"""Explorers of section 05 (practical tips), and the batched MLP training they stand on.

:func:`sweep_mlp` trains one small MLP at many learning rates (or schedules) at once: every
parameter gets a leading axis of runs, so one NumPy computation advances all of them. Each run
equals ``lrcourse.train.train`` with ``lrcourse.nn.MLP`` and ``lrcourse.optimizers.SGD``
(tests/test_widgets_practice.py checks it to rounding), which is what makes an explorer that
shows a real training run for every position of its rate slider cheap enough to build live.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ..checks.practice import MOONS_SIZES, MOONS_VAL_EVERY, describe, diagnose_history, evidence
from ..checks.practice import moons as moons_data
from ..nn import MLP
from ..optimizers import SGD
from ..plots import PALETTE, plot_lr_find
from ..train import (
    DIVERGENCE_FACTOR,
    DIVERGENCE_FLOOR,
    History,
    has_diverged,
    lr_find,
    supervised_objective,
)
from ._core import Explorer, alpha_slider, format_readout
from .basics import nearest, slider_values

__all__ = ["DIAGNOSIS_COLOURS", "MLPSweep", "RangeTestExplorer", "diagnosis_html", "sweep_mlp"]


# ---------------------------------------------------------------------------------------------
# Many training runs of one MLP at once


@dataclass(eq=False)
class MLPSweep:
    """The runs of :func:`sweep_mlp`, one row per run.

    Attributes:
        lr: ``lr[i, t]``, the rate of update ``t`` of run ``i``, shape (runs, steps).
        loss: ``loss[i, k]``, the training loss after ``k`` updates (of the batch used by update
            ``k`` for mini-batches), shape (runs, steps + 1); NaN after a run diverged.
        val_loss: validation losses, shape (runs, evaluations), NaN after divergence; or None.
        val_steps: the steps at which they were measured, or None.
        diverged_at: the step at which each run diverged, -1 for runs that did not.
        final_train_loss: the loss on the whole training set after the last update, NaN for
            runs that diverged.
    """

    lr: np.ndarray
    loss: np.ndarray
    val_loss: np.ndarray | None
    val_steps: np.ndarray | None
    diverged_at: np.ndarray
    final_train_loss: np.ndarray

    def __len__(self) -> int:
        return len(self.loss)

    def history(self, i: int) -> History:
        """Run ``i`` as the :class:`lrcourse.train.History` that ``train`` would have returned."""
        stop = int(self.diverged_at[i])
        n = self.loss.shape[1] if stop < 0 else stop + 1
        val, steps = None, None
        if self.val_loss is not None:
            keep = self.val_steps < n if stop < 0 else self.val_steps < stop
            val, steps = self.val_loss[i, keep].copy(), self.val_steps[keep].copy()
        return History(
            loss=self.loss[i, :n].copy(), lr=self.lr[i, : n - 1].copy(), val_loss=val,
            val_steps=steps, diverged=stop >= 0, diverged_at=None if stop < 0 else stop,
            reason=None if stop < 0 else "diverged",
        )


def _per_run(value: Any, runs: int, steps: int, name: str) -> np.ndarray:
    """A number, one per run (runs,), or one per run and step (runs, steps) -> (runs, steps)."""
    arr = np.asarray(value, dtype=float)
    if arr.ndim == 0:
        return np.full((runs, steps), float(arr))
    if arr.ndim == 1 and len(arr) == runs:
        return np.repeat(arr[:, None], steps, axis=1)
    if arr.shape == (runs, steps):
        return arr
    raise ValueError(
        f"{name} must be a number, one value per run ({runs},) or per run and step "
        f"({runs}, {steps}), got {name} of shape {arr.shape}"
    )


def _cross_entropy(logits: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-run mean softmax cross-entropy and its gradient, logits of shape (runs, n, C)."""
    # The class axis is short: a loop over it is much faster than a NumPy reduction along it.
    top = logits[..., 0].copy()
    for c in range(1, logits.shape[2]):
        np.maximum(top, logits[..., c], out=top)
    shifted = logits - top[..., None]
    exps = np.exp(shifted)
    total = exps[..., 0].copy()
    for c in range(1, logits.shape[2]):
        total += exps[..., c]
    log_probs = shifted - np.log(total)[..., None]
    rows = np.arange(len(y))
    loss = -log_probs[:, rows, y].mean(axis=1)
    grad = np.exp(log_probs)
    grad[:, rows, y] -= 1.0
    return loss, grad / len(y)


def sweep_mlp(
    sizes: list[int],
    X: np.ndarray,
    y: np.ndarray,
    lr: Any,
    steps: int,
    *,
    momentum: Any = 0.0,
    weight_decay: Any = 0.0,
    seed: int = 0,
    X_val: np.ndarray | None = None,
    y_val: np.ndarray | None = None,
    val_every: int | None = None,
    batch_size: int | None = None,
    batch_seed: int = 0,
    loss_scale: float = 1.0,
) -> MLPSweep:
    """Train ``MLP(sizes, seed=seed)`` with SGD once per rate (or schedule), all runs at once.

    Run ``i`` is, to rounding, what this gives (with ``loss_scale = 1``)::

        net = MLP(sizes, seed=seed)      # ReLU, He initialisation: every run starts the same
        obj = supervised_objective(net, X, y, batch_size, X_val=X_val, y_val=y_val)
        opt = SGD(net.params, lr=lr[i, 0], momentum=momentum[i, 0], weight_decay=weight_decay[i])
        train(obj, opt, steps, schedule=lambda t: lr[i, t],
              momentum_schedule=lambda t: momentum[i, t], val_every=val_every, seed=batch_seed)

    All runs see the same mini-batches. ``loss_scale`` multiplies the loss (and so every
    gradient), as summing a loss over a batch instead of averaging it would. A run that diverges
    (:func:`lrcourse.train.has_diverged`) is frozen there, without a warning.

    Args:
        sizes: the layer widths of the MLP.
        X, y: the training set.
        lr: the rates: one per run (runs,), or per run and update (runs, steps).
        steps: the number of updates.
        momentum: SGD momentum: a number, one per run, or per run and update.
        weight_decay: L2 weight decay, a number or one per run.
        seed: the seed of the network's initialisation.
        X_val, y_val, val_every: a validation set, measured every ``val_every`` steps.
        batch_size: rows per mini-batch, or None for full-batch gradient descent.
        batch_seed: the seed of the mini-batch draws (``train``'s ``seed``).
        loss_scale: a factor on the loss (> 0).

    Returns:
        An :class:`MLPSweep`.
    """
    lr = np.asarray(lr, dtype=float)
    runs = len(lr)
    lr = _per_run(lr, runs, steps, "lr")
    mom = _per_run(momentum, runs, steps, "momentum")
    decay = _per_run(weight_decay, runs, 1, "weight_decay")[:, 0]
    if np.any(lr < 0) or np.any(mom < 0) or np.any(mom >= 1) or np.any(decay < 0):
        raise ValueError("lr and weight_decay must be >= 0 and momentum in [0, 1)")
    X, y = np.asarray(X, dtype=float), np.asarray(y)
    template = MLP(sizes, seed=seed).params
    params = [np.repeat(p[None], runs, axis=0) for p in template]
    buffers = [np.zeros_like(p) for p in params]
    shapes = [(runs,) + (1,) * p.ndim for p in template]
    layers = len(sizes) - 1
    use_momentum = bool(np.any(mom != 0))
    any_decay = bool(np.any(decay))
    rng = np.random.default_rng(batch_seed)

    def forward(inputs: np.ndarray) -> list[np.ndarray]:
        outs = [inputs]
        for layer in range(layers):
            z = np.matmul(outs[-1], params[2 * layer])
            z += params[2 * layer + 1][:, None, :]
            if layer < layers - 1:
                np.maximum(z, 0.0, out=z)
            outs.append(z)
        return outs

    loss = np.full((runs, steps + 1), np.nan)
    n_val = 0 if val_every is None else steps // val_every + 1
    val = np.full((runs, n_val), np.nan) if val_every is not None else None
    diverged_at = np.full(runs, -1)
    alive = np.ones(runs, dtype=bool)
    best = np.full(runs, np.inf)
    with np.errstate(all="ignore"):
        for t in range(steps + 1):
            if batch_size is None or batch_size >= len(X):
                Xb, yb = X, y
            else:
                idx = rng.choice(len(X), size=batch_size, replace=False)
                Xb, yb = X[idx], y[idx]
            ones = np.ones(len(Xb))
            outs = forward(Xb)
            value, g = _cross_entropy(outs[-1], yb)
            value *= loss_scale
            loss[alive, t] = value[alive]
            # with finite logits the gradient p - onehot is finite too: the loss decides
            bad = alive & has_diverged(value, best, DIVERGENCE_FACTOR, DIVERGENCE_FLOOR)
            diverged_at[bad] = t
            alive &= ~bad
            best = np.where(alive, np.minimum(best, value), best)
            if val is not None and t % val_every == 0:
                v, _ = _cross_entropy(forward(X_val)[-1], y_val)
                val[alive, t // val_every] = loss_scale * v[alive]
            if t == steps:
                break
            g *= loss_scale
            rate = np.where(alive, lr[:, t], 0.0)
            for layer in reversed(range(layers)):
                w, b = 2 * layer, 2 * layer + 1
                grad_w = np.matmul(np.swapaxes(outs[layer], -1, -2), g)
                grad_b = np.matmul(ones, g)  # the sum over rows, as one fast product
                if layer > 0:  # a contiguous transpose makes the product twice as fast
                    g = np.matmul(g, np.ascontiguousarray(np.swapaxes(params[w], 1, 2)))
                    g *= outs[layer] > 0
                for k, grad in ((w, grad_w), (b, grad_b)):
                    shape = shapes[k]
                    if any_decay:
                        grad += decay.reshape(shape) * params[k]
                    if use_momentum:
                        if t == 0:
                            buffers[k][...] = grad
                        else:
                            buffers[k] *= mom[:, t].reshape(shape)
                            buffers[k] += grad
                        grad = buffers[k]
                    params[k] -= rate.reshape(shape) * grad
        final, _ = _cross_entropy(forward(X)[-1], y)
    final = np.where(alive, loss_scale * final, np.nan)
    steps_val = None if val is None else np.arange(n_val) * val_every
    return MLPSweep(lr, loss, val, steps_val, diverged_at, final)


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
