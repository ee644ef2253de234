"""Checks for section 07 (learning rate and overfitting), and the runs they re-train.

The section's setting is small on purpose: 40 noisy two-moons points, a 2-32-32-2 ReLU
network (1,186 parameters, about 30 per training point) and mini-batch SGD. It overfits
within a few hundred steps, and a whole grid of such runs trains in about a second because
:func:`train_many` runs them side by side as one batched NumPy computation. Each run equals
``lrcourse.train.train`` on an ``lrcourse.nn.MLP`` with ``lrcourse.optimizers.SGD``, number
for number (tests/test_checks_overfitting.py checks it), so the notebook, its explorer and
the grader all see the runs the library would produce.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from ..nn import MLP
from ..problems import Dataset, train_val_split, two_moons
from ..schedules import constant, cosine_annealing, step_decay
from ..train import EarlyStopping, History, has_diverged

__all__ = [
    "check_budget_setting",
    "check_early_stopping_step",
    "check_gap_report",
]

from ._core import Case, Exercise, Mistake, Raised, ValueExercise, make_check

# ------------------------------------------------------------------ the setting

N_TRAIN = 40
N_VAL = 200
NOISE = 0.3
SIZES = (2, 32, 32, 2)
BATCH_SIZE = 8
STEPS = 1000
VAL_EVERY = 10
SCHEDULES = ("constant", "cosine", "step")


def moons_task(seed: int) -> tuple[Dataset, Dataset]:
    """The section's data for one seed: 40 noisy two-moons points to train on, 200 to validate.

    Both parts come from one draw of ``two_moons(n=240, noise=0.3, seed=100 + seed)``, split at
    random with ``train_val_split`` (seeded by ``seed``).
    """
    data = two_moons(n=N_TRAIN + N_VAL, noise=NOISE, seed=100 + int(seed))
    return train_val_split(data, frac=N_VAL / (N_TRAIN + N_VAL), seed=int(seed))


def schedule_rates(lr: float, schedule: str = "constant", steps: int = STEPS) -> np.ndarray:
    """The rate of every update t = 0 .. steps-1 for one of the section's three schedules.

    - ``"constant"``: α at every step;
    - ``"cosine"``: half a cosine from α down to 0 at the last step (``cosine_annealing``);
    - ``"step"``: α, divided by 10 after each quarter of the run (``step_decay``).
    """
    if schedule == "constant":
        rule = constant(lr)
    elif schedule == "cosine":
        rule = cosine_annealing(lr, T_max=steps)
    elif schedule == "step":
        rule = step_decay(lr, step_size=max(1, steps // 4), gamma=0.1)
    else:
        raise ValueError(f"schedule must be one of {SCHEDULES}, got schedule={schedule!r}")
    return np.asarray(rule(np.arange(steps)), dtype=float)


# -------------------------------------------------------------- batched training


@dataclass(eq=False)
class Runs:
    """Train and validation curves of many runs; leading axes index the runs.

    Attributes:
        lrs: ``lrs[..., t]``, the rate of update t.
        weight_decay: the L2 coefficient of each run.
        val_steps: the steps at which both losses were measured, shape (V,).
        train_loss: the loss on the whole training set at those steps, ``(..., V)``.
        val_loss: the loss on the validation set at those steps, ``(..., V)``.
        batch_loss: the mini-batch loss of every step, ``(..., steps + 1)`` (what
            ``History.loss`` records).
        diverged_at: the step where a run diverged (``lrcourse.train``'s rule), else -1.
            Its losses are NaN from there on.
        params: the final parameters, one stacked array per layer (runs flattened first).
        best_params: the parameters at each run's lowest validation loss, or None.
    """

    lrs: np.ndarray
    weight_decay: np.ndarray
    val_steps: np.ndarray
    train_loss: np.ndarray
    val_loss: np.ndarray
    batch_loss: np.ndarray
    diverged_at: np.ndarray
    params: list[np.ndarray]
    best_params: list[np.ndarray] | None = None

    @property
    def shape(self) -> tuple[int, ...]:
        return self.diverged_at.shape

    def reshape(self, *shape: int) -> Runs:
        """The same runs with their leading axes reshaped (e.g. to settings x seeds)."""
        def lead(a: np.ndarray, tail: int) -> np.ndarray:
            return a.reshape(*shape, *a.shape[a.ndim - tail:])

        return replace(self, lrs=lead(self.lrs, 1), weight_decay=lead(self.weight_decay, 0),
                       train_loss=lead(self.train_loss, 1), val_loss=lead(self.val_loss, 1),
                       batch_loss=lead(self.batch_loss, 1),
                       diverged_at=lead(self.diverged_at, 0))

    @property
    def best_index(self) -> np.ndarray:
        """Index of the lowest validation loss of each run (the first one on ties)."""
        return np.argmin(np.where(np.isnan(self.val_loss), np.inf, self.val_loss), axis=-1)

    def _at(self, values: np.ndarray, index: np.ndarray) -> np.ndarray:
        return np.take_along_axis(values, index[..., None], axis=-1)[..., 0]

    @property
    def best_step(self) -> np.ndarray:
        """The step of each run's lowest validation loss: where early stopping would restore."""
        return self.val_steps[self.best_index]

    @property
    def best_val(self) -> np.ndarray:
        return self._at(self.val_loss, self.best_index)

    @property
    def gap_at_best(self) -> np.ndarray:
        """Validation minus training loss at each run's best step."""
        return self.best_val - self._at(self.train_loss, self.best_index)

    @property
    def final_val(self) -> np.ndarray:
        """Validation loss after the last update (NaN for a run that diverged)."""
        return self.val_loss[..., -1]

    @property
    def final_gap(self) -> np.ndarray:
        """Validation minus training loss after the last update (NaN if diverged)."""
        return self.val_loss[..., -1] - self.train_loss[..., -1]


def _stack(values: Any, runs: int, tail: int, dtype: Any) -> np.ndarray:
    a = np.asarray(values, dtype=dtype)
    return np.broadcast_to(a, (runs, *a.shape[a.ndim - tail:]))


def _cross_entropy(logits: np.ndarray, onehot: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-run mean softmax cross-entropy and its log-probabilities (as lrcourse.nn computes).

    ``onehot`` marks each row's label (boolean, the shape of ``logits``); picking a label's
    log-probability as a sum with zeros gives exactly the number that indexing gives.
    """
    shifted = logits - logits.max(axis=-1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))
    picked = np.where(onehot, log_probs, 0.0).sum(axis=-1)
    return -picked.mean(axis=-1), log_probs


def forward_many(params: Sequence[np.ndarray], X: np.ndarray) -> list[np.ndarray]:
    """Inputs and layer outputs ``[X, h_1, ..., h_L]`` of R stacked ReLU MLPs on X (R, n, d)."""
    hs = [X]
    layers = len(params) // 2
    for layer in range(layers):
        h = hs[-1] @ params[2 * layer]
        h += params[2 * layer + 1][:, None, :]
        if layer < layers - 1:
            np.maximum(h, 0.0, out=h)
        hs.append(h)
    return hs


def _layer_views(flat: np.ndarray, shapes: Sequence[tuple[int, ...]]) -> list[np.ndarray]:
    """Views of the rows of ``flat`` (R, P) as per-layer arrays (R, *shape), in order."""
    views, start = [], 0
    for shape in shapes:
        size = math.prod(shape)
        views.append(flat[:, start:start + size].reshape(len(flat), *shape))
        start += size
    return views


def train_many(
    X: np.ndarray,
    y: np.ndarray,
    X_val: np.ndarray,
    y_val: np.ndarray,
    lrs: Any,
    steps: int,
    init_seeds: Any = 0,
    batch_seeds: Any = 0,
    weight_decay: Any = 0.0,
    sizes: Sequence[int] = SIZES,
    batch_size: int | None = BATCH_SIZE,
    val_every: int = VAL_EVERY,
    keep_best: bool = False,
) -> Runs:
    """Train R ReLU MLPs with mini-batch SGD side by side: one NumPy computation for all.

    Run r is, number for number::

        net = MLP(sizes, seed=init_seeds[r])                  # He initialisation
        obj = supervised_objective(net, X[r], y[r], batch_size, X_val=X_val[r], y_val=y_val[r])
        train(obj, SGD(net.params, lr=..., weight_decay=weight_decay[r]), steps,
              schedule=lambda t: lrs[r, t], val_every=val_every, seed=batch_seeds[r])

    that is, at every step t = 0 .. steps: the loss and gradient on a mini-batch drawn by
    ``rng.choice(n, batch_size, replace=False)`` from ``default_rng(batch_seeds[r])``; stop the
    run if it diverges (``has_diverged`` on the batch losses, or a non-finite gradient); every
    ``val_every`` steps the loss on the whole training set and on the validation set; then
    ``θ ← θ - lr_t (g + λ θ)``. A diverged run keeps the parameters it had when it diverged
    (as ``train`` does) and its later losses are NaN.

    Args:
        X, y: training inputs (n, d) and labels (n,), shared by all runs, or one set per run
            (R, n, d) and (R, n). X_val, y_val: the same for validation.
        lrs: the rate of each run (R,), or of each run and update (R, steps).
        steps: updates per run.
        init_seeds, batch_seeds: per run (or one for all): seed of the initialisation, and of
            the mini-batch sequence.
        weight_decay: the L2 coefficient λ, per run or one for all.
        sizes: layer widths of the MLP.
        batch_size: rows per mini-batch, or None for the whole training set.
        val_every: measure both losses every that many steps, from step 0.
        keep_best: also keep each run's parameters at its lowest validation loss.

    Returns:
        :class:`Runs`, with one leading axis of length R.
    """
    lrs = np.asarray(lrs, dtype=float)
    if lrs.ndim == 1:
        lrs = np.repeat(lrs[:, None], steps, axis=1)
    R = len(lrs)
    if lrs.shape != (R, steps) or not np.all(np.isfinite(lrs) & (lrs >= 0)):
        raise ValueError(f"lrs must hold finite rates >= 0 of shape (R,) or (R, {steps}), "
                         f"got shape {lrs.shape}")
    X, X_val = _stack(X, R, 2, float), _stack(X_val, R, 2, float)
    y, y_val = _stack(y, R, 1, np.int64), _stack(y_val, R, 1, np.int64)
    decay = _stack(weight_decay, R, 0, float)
    init_seeds = _stack(init_seeds, R, 0, np.int64)
    batch_seeds = _stack(batch_seeds, R, 0, np.int64)
    # All parameters of a run live in one row of `theta` (R, P); the layers are views into it,
    # and the gradients likewise into one row of `grad`, so that the divergence check and the
    # update are single operations over every run and every parameter.
    shapes = [shape for fan_in, fan_out in zip(sizes[:-1], sizes[1:], strict=True)
              for shape in ((fan_in, fan_out), (fan_out,))]
    theta = np.empty((R, sum(math.prod(shape) for shape in shapes)))
    grad = np.empty_like(theta)
    params, grads = _layer_views(theta, shapes), _layer_views(grad, shapes)
    nets = {int(s): MLP(sizes, seed=int(s)).params for s in np.unique(init_seeds)}
    for r, s in enumerate(init_seeds):
        for p, value in zip(params, nets[int(s)], strict=True):
            p[r] = value
    n, classes = X.shape[1], sizes[-1]
    onehot = y[..., None] == np.arange(classes)
    onehot_val = y_val[..., None] == np.arange(classes)
    rows = np.arange(R)[:, None]
    full_batch = batch_size is None or batch_size >= n
    if not full_batch:
        drawn = {}
        for s in np.unique(batch_seeds):
            rng = np.random.default_rng(int(s))
            drawn[int(s)] = [rng.choice(n, size=batch_size, replace=False)
                             for _ in range(steps + 1)]
        batches = np.array([drawn[int(s)] for s in batch_seeds])  # (R, steps + 1, batch)

    n_val = steps // val_every + 1
    train_loss, val_loss = np.full((R, n_val), np.nan), np.full((R, n_val), np.nan)
    batch_loss = np.full((R, steps + 1), np.nan)
    diverged_at = np.full(R, -1)
    alive = np.ones(R, dtype=bool)
    lowest, best_val = np.full(R, np.inf), np.full(R, np.inf)
    best_theta = theta.copy() if keep_best else None
    layers = len(sizes) - 1
    decays = bool(np.any(decay))

    with np.errstate(all="ignore"):
        for t in range(steps + 1):
            if full_batch:
                Xb, hot = X, onehot
            else:
                Xb, hot = X[rows, batches[:, t]], onehot[rows, batches[:, t]]
            hs = forward_many(params, Xb)
            loss, log_probs = _cross_entropy(hs[-1], hot)
            # backpropagation, as MLP.loss_and_grads does it
            g = np.exp(log_probs) - hot  # p - 1 at the label, p - 0 (= p) elsewhere
            g /= hot.shape[1]
            for layer in reversed(range(layers)):
                if layer < layers - 1:
                    g *= hs[layer + 1] > 0
                np.matmul(hs[layer].transpose(0, 2, 1), g, out=grads[2 * layer])
                g.sum(axis=1, out=grads[2 * layer + 1])
                if layer > 0:  # (the gradient with respect to the inputs is not needed)
                    g = g @ params[2 * layer].transpose(0, 2, 1)

            bad = alive & (has_diverged(loss, lowest) | ~np.isfinite(grad).all(axis=1))
            batch_loss[alive, t] = loss[alive]
            diverged_at[bad] = t
            alive &= ~bad
            lowest = np.where(alive, np.minimum(lowest, loss), lowest)

            if t % val_every == 0:
                k = t // val_every
                val = _cross_entropy(forward_many(params, X_val)[-1], onehot_val)[0]
                fit = _cross_entropy(forward_many(params, X)[-1], onehot)[0]
                val_loss[alive, k], train_loss[alive, k] = val[alive], fit[alive]
                if best_theta is not None:
                    better = alive & (val_loss[:, k] < best_val)
                    best_val[better] = val_loss[better, k]
                    best_theta[better] = theta[better]
            if t == steps or not alive.any():
                break
            if decays:
                grad += decay[:, None] * theta
            grad *= lrs[:, t, None]
            np.subtract(theta, grad, out=theta, where=alive[:, None])  # diverged runs stay put

    best_params = None if best_theta is None else _layer_views(best_theta, shapes)
    return Runs(lrs=lrs, weight_decay=decay.copy(), val_steps=np.arange(n_val) * val_every,
                train_loss=train_loss, val_loss=val_loss, batch_loss=batch_loss,
                diverged_at=diverged_at, params=params, best_params=best_params)


def moons_runs(
    settings: Sequence[Mapping[str, Any]],
    seeds: Sequence[int],
    steps: int = STEPS,
    keep_best: bool = False,
) -> Runs:
    """Every setting on every seed of the section's task, as one batched computation.

    A setting is a dict ``{"lr": α, "schedule": "constant" | "cosine" | "step",
    "weight_decay": λ}`` (schedule and weight decay optional), or ``{"rates": array}`` with the
    rate of every update. Seed s fixes the data (``moons_task(s)``), the initialisation and the
    order of the mini-batches.

    Returns:
        :class:`Runs` of shape ``(len(settings), len(seeds))``.

    Example:
        >>> runs = moons_runs([{"lr": 0.1}, {"lr": 0.1, "schedule": "cosine"}], seeds=[0, 1],
        ...                   steps=200)
        >>> runs.shape, runs.val_loss.shape
        ((2, 2), (2, 2, 11))
    """
    seeds = [int(s) for s in seeds]
    tasks = [moons_task(s) for s in seeds]
    rates = []
    for setting in settings:
        if "rates" in setting:
            rates.append(np.broadcast_to(np.asarray(setting["rates"], dtype=float), (steps,)))
        else:
            rates.append(schedule_rates(float(setting["lr"]),
                                        setting.get("schedule", "constant"), steps))
    C, S = len(settings), len(seeds)
    seed_of = np.tile(np.arange(S), C)
    runs = train_many(
        np.array([t.X for t, _ in tasks])[seed_of], np.array([t.y for t, _ in tasks])[seed_of],
        np.array([v.X for _, v in tasks])[seed_of], np.array([v.y for _, v in tasks])[seed_of],
        lrs=np.repeat(np.array(rates), S, axis=0),
        steps=steps,
        init_seeds=np.array(seeds)[seed_of],
        batch_seeds=1000 + np.array(seeds)[seed_of],
        weight_decay=np.repeat([float(s.get("weight_decay", 0.0)) for s in settings], S),
        keep_best=keep_best,
    )
    return runs.reshape(C, S)


def mean_spread(values: np.ndarray) -> str:
    """``mean ± standard deviation`` over the last axis, NaNs left out, as text."""
    values = np.asarray(values, dtype=float)
    ok = values[np.isfinite(values)]
    if ok.size == 0:
        return "—"
    return f"{ok.mean():.3f} ± {ok.std():.3f}"


# ========================================================= exercise 1: gap_report

REPORT_KEYS = ("best_step", "best_val", "gap_at_best", "final_gap")


def reference_gap_report(steps: Any, train_loss: Any, val_loss: Any) -> dict[str, Any]:
    """The summary of one run's curves (what ``Runs`` computes for many)."""
    steps = np.asarray(steps)
    train_loss, val_loss = np.asarray(train_loss, float), np.asarray(val_loss, float)
    i = int(np.argmin(val_loss))
    return {
        "best_step": int(steps[i]),
        "best_val": float(val_loss[i]),
        "gap_at_best": float(val_loss[i] - train_loss[i]),
        "final_gap": float(val_loss[-1] - train_loss[-1]),
    }


def _u_curves(rng: np.random.Generator, n: int, every: int) -> tuple[np.ndarray, ...]:
    """Seeded curves shaped like an overfitting run: train falls, val falls then rises."""
    steps = np.arange(n) * every
    x = np.linspace(0, 1, n)
    train = 0.7 * np.exp(-rng.uniform(3, 6) * x) + 0.01 * rng.random(n)
    turn = rng.uniform(0.2, 0.6)
    val = 0.72 * np.exp(-4 * x) + 0.3 + rng.uniform(0.5, 2) * np.maximum(x - turn, 0) ** 2
    val = val + 0.02 * rng.standard_normal(n)
    return steps, np.round(train, 4), np.round(val, 4)


class GapReport(Exercise):
    """``gap_report(steps, train_loss, val_loss)``: the numbers that describe overfitting."""

    name = "gap_report"

    def cases(self, seed: int, hidden: bool, **params: Any) -> list[Case]:
        rng = np.random.default_rng(seed)
        cases = [
            Case((np.array([0, 10, 20, 30, 40]), np.array([0.7, 0.5, 0.3, 0.2, 0.1]),
                  np.array([0.72, 0.55, 0.45, 0.5, 0.65])),
                 label="steps [0, 10, 20, 30, 40], train [0.7, 0.5, 0.3, 0.2, 0.1], "
                       "val [0.72, 0.55, 0.45, 0.5, 0.65]"),
            Case((np.array([0, 50, 100]), np.array([0.69, 0.6, 0.55]),
                  np.array([0.7, 0.62, 0.58])),
                 label="a run still learning: val lowest at the last step "
                       "(steps [0, 50, 100], train [0.69, 0.6, 0.55], val [0.7, 0.62, 0.58])"),
        ]
        steps, train, val = _u_curves(rng, 21, 20)
        cases.append(Case((steps, train, val), label="a seeded U-shaped run, 21 measurements "
                          "every 20 steps"))
        if hidden:
            steps, train, val = _u_curves(rng, 101, 20)
            cases.append(Case((steps, train, val), label="another seeded run"))
            cases.append(Case((np.array([0]), np.array([0.7]), np.array([0.71])),
                              label="a single measurement"))
            cases.append(Case((np.array([0, 5, 10, 15]), np.array([0.6, 0.4, 0.3, 0.25]),
                               np.array([0.6, 0.5, 0.5, 0.55])),
                              label="two measurements tie for the lowest validation loss"))
            steps, train, val = _u_curves(rng, 30, 7)
            cases.append(Case((list(steps), list(train), list(val)),
                              label="plain Python lists, measurements every 7 steps"))
        return cases

    def expected(self, case: Case) -> dict[str, Any]:
        return reference_gap_report(*case.args)

    def check_output(self, case: Case, got: Any, want: Any) -> str | None:
        if got is None:
            return "your function returned None: is a `return` statement missing?"
        if not isinstance(got, Mapping):
            return f"return a dict with the keys {REPORT_KEYS}, got a {type(got).__name__}"
        missing = [k for k in REPORT_KEYS if k not in got]
        extra = [k for k in got if k not in REPORT_KEYS]
        if missing or extra:
            return (f"the dict must have exactly the keys {REPORT_KEYS}"
                    + (f"; missing {missing}" if missing else "")
                    + (f"; unexpected {extra}" if extra else ""))
        for key in REPORT_KEYS:
            if np.ndim(got[key]) != 0:
                return f"{key} must be one number, got an array of shape {np.shape(got[key])}"
            try:
                value = float(got[key])
            except (TypeError, ValueError):
                return f"{key} must be a number, got {got[key]!r}"
            if math.isnan(value):
                return f"{key} must be a number, got NaN"
        return None

    def judge(self, case: Case, got: Any) -> str | None:
        verdict = super().judge(case, got)
        if verdict != "the values differ from the reference":
            return verdict
        want = self.expected(case)
        wrong = [k for k in REPORT_KEYS if not self.close(float(got[k]), want[k])]
        return f"these entries are not right: {', '.join(wrong)}"

    def mistakes(self) -> list[Mistake]:
        def wrong(pick: Callable | None = None, **change: Callable) -> Callable[[Case], dict]:
            """The report, with the best index chosen by ``pick``, then entries replaced."""
            def out(c: Case) -> dict[str, Any]:
                steps, train, val = (np.asarray(a, dtype=float) for a in c.args)
                i = int(np.argmin(val)) if pick is None else int(pick(train, val))
                report = {"best_step": int(steps[i]), "best_val": float(val[i]),
                          "gap_at_best": float(val[i] - train[i]),
                          "final_gap": float(val[-1] - train[-1])}
                for key, f in change.items():
                    report[key] = f(steps, train, val, i)
                return report
            return out

        def lowest_train(train: np.ndarray, val: np.ndarray) -> int:
            return int(np.argmin(train))

        def last_minimum(train: np.ndarray, val: np.ndarray) -> int:
            return len(val) - 1 - int(np.argmin(val[::-1]))

        return [
            Mistake("the gap is the validation loss minus the training loss (it is positive "
                    "when the network does better on the data it trained on); yours has the "
                    "opposite sign",
                    wrong(gap_at_best=lambda s, t, v, i: t[i] - v[i],
                          final_gap=lambda s, t, v, i: t[-1] - v[-1])),
            Mistake("best_step is a position in the array, not a step: return steps[i], "
                    "the number of updates at that measurement",
                    wrong(best_step=lambda s, t, v, i: i)),
            Mistake("the best point is where the VALIDATION loss is lowest; you took the "
                    "lowest training loss (which is usually the last, most overfitted one)",
                    wrong(pick=lowest_train)),
            Mistake("best_val is the validation loss at the best step, not the training loss",
                    wrong(best_val=lambda s, t, v, i: t[i])),
            Mistake("final_gap is measured at the LAST measurement (the model you would have "
                    "without early stopping), not at the best one",
                    wrong(final_gap=lambda s, t, v, i: v[i] - t[i])),
            Mistake("gap_at_best is measured at the best step, not at the end of training",
                    wrong(gap_at_best=lambda s, t, v, i: v[-1] - t[-1])),
            Mistake("on ties take the FIRST step with the lowest validation loss (what "
                    "np.argmin does): an early stopper keeps the earlier checkpoint",
                    wrong(pick=last_minimum)),
        ]


check_gap_report = make_check(GapReport())

# ================================================= exercise 2: early_stopping_step


def reference_early_stopping(values: Any, patience: int, min_delta: float = 0.0):
    """``(stop, best)`` from the library's EarlyStopping, fed one evaluation at a time."""
    stopper = EarlyStopping(patience=patience, min_delta=min_delta, monitor="loss")
    history = History(loss=np.array([]), lr=np.array([]))
    stop = None
    for i, value in enumerate(np.asarray(values, dtype=float)):
        if stopper(i, float(value), history):
            stop = i
            break
    return stop, stopper.best_step


def _stop_rule(values: Any, patience: int, min_delta: float, *, ties_improve: bool = False,
               extra: int = 0, reset: bool = True, delta: bool = True):
    """A family of early-stopping rules, the right one and the usual slips."""
    best, best_i, bad = math.inf, None, 0
    for i, v in enumerate(np.asarray(values, dtype=float)):
        margin = min_delta if delta else 0.0
        improved = v <= best - margin if ties_improve else v < best - margin
        if improved:
            best, best_i = v, i
            if reset:
                bad = 0
        else:
            bad += 1
        if bad >= patience + extra:
            return i, best_i
    return None, best_i


def _val_curve(rng: np.random.Generator, n: int) -> np.ndarray:
    x = np.linspace(0, 1, n)
    turn = rng.uniform(0.25, 0.6)
    curve = 0.4 + 0.5 * np.exp(-6 * x) + rng.uniform(0.3, 1.0) * np.maximum(x - turn, 0) ** 2
    return np.round(curve + 0.015 * rng.standard_normal(n), 3)


class EarlyStoppingStep(Exercise):
    """``early_stopping_step(val_losses, patience, min_delta=0.0)`` -> ``(stop, best)``."""

    name = "early_stopping_step"
    forbidden = ("lrcourse.train.EarlyStopping.__call__",)

    def cases(self, seed: int, hidden: bool, **params: Any) -> list[Case]:
        rng = np.random.default_rng(seed)
        u_shape = np.array([1.0, 0.8, 0.7, 0.72, 0.69, 0.75, 0.8, 0.9, 1.0])
        cases = [
            Case((u_shape, 2), label="val [1.0, 0.8, 0.7, 0.72, 0.69, 0.75, 0.8, 0.9, 1.0], "
                                     "patience=2"),
            Case((u_shape, 1), label="the same curve, patience=1"),
            Case((np.array([1.0, 0.9, 0.8, 0.7]), 2),
                 label="val [1.0, 0.9, 0.8, 0.7] (always improving), patience=2"),
            Case((np.array([1.0, 0.8, 0.795, 0.793, 0.9]), 2, 0.01),
                 label="val [1.0, 0.8, 0.795, 0.793, 0.9], patience=2, min_delta=0.01"),
            Case((np.array([0.9, 0.8, 0.8, 0.8, 0.85, 0.9]), 2),
                 label="val [0.9, 0.8, 0.8, 0.8, 0.85, 0.9] (a tie is not an improvement), "
                       "patience=2"),
        ]
        curve = _val_curve(rng, 40)
        cases.append(Case((curve, 5), label="a seeded U-shaped curve of 40 evaluations, "
                                            "patience=5"))
        if hidden:
            cases += [
                Case((_val_curve(rng, 100), 10), label="another seeded curve"),
                Case((_val_curve(rng, 100), 3, 0.005), label="a seeded curve with min_delta"),
                Case((np.array([0.5]), 1), label="a single evaluation"),
                Case((np.array([0.7, 0.6, np.nan, np.nan, np.nan]), 2),
                     label="a run that diverged (NaN validation losses)"),
                Case((np.array([0.7, 0.6, 0.65, 0.55, 0.6, 0.62, 0.5, 0.7, 0.8]), 3),
                     label="improvements after a few bad evaluations"),
                Case((list(_val_curve(rng, 30)), 4), label="a plain Python list"),
                Case((np.full(6, 0.5), 3), label="a flat curve"),
            ]
        return cases

    def expected(self, case: Case) -> tuple:
        return reference_early_stopping(*case.args)

    def check_output(self, case: Case, got: Any, want: Any) -> str | None:
        if got is None:
            return "your function returned None: is a `return` statement missing?"
        if not isinstance(got, tuple | list) or len(got) != 2:
            return "return a pair (stop, best): two indices, stop may be None"
        stop, best = got
        if stop is not None and (isinstance(stop, bool) or not isinstance(stop, int | np.integer)):
            if isinstance(stop, float | np.floating) and float(stop).is_integer():
                return "stop must be an int (an index) or None, not a float"
            return f"stop must be an int index or None, got {stop!r}"
        if best is not None and (isinstance(best, bool) or not isinstance(best, int | np.integer)):
            return f"best must be an int index, got {best!r}"
        return None

    def judge(self, case: Case, got: Any) -> str | None:
        verdict = super().judge(case, got)
        if verdict != "the values differ from the reference":
            return verdict
        (want_stop, want_best), (stop, best) = self.expected(case), got
        if want_stop is None and stop is not None:
            if stop in (-1, len(case.args[0]) - 1, len(case.args[0])):
                return ("here the rule never fires, and then stop must be None (training "
                        f"simply runs to the end); you returned {stop}")
            return f"here the rule never fires (stop is None), but you returned stop={stop}"
        if want_stop is not None and stop is None:
            return (f"the rule fires at evaluation {want_stop} here, but you returned "
                    "stop=None")
        if stop == want_stop:
            return (f"stop is right, best is not: the checkpoint to keep is the last "
                    f"improvement, evaluation {want_best}, not {best}")
        return (f"the rule should fire at evaluation {want_stop}, yours at {stop}: count the "
                "evaluations since the last improvement and stop when the count reaches "
                "patience")

    def mistakes(self) -> list[Mistake]:
        def rule(**how: Any):
            return lambda c: _stop_rule(*c.args, **how) if len(c.args) == 3 else _stop_rule(
                *c.args, 0.0, **how)

        def peek(c: Case):
            stop, _ = reference_early_stopping(*c.args)
            values = np.asarray(c.args[0], dtype=float)
            return stop, int(np.nanargmin(values))

        return [
            Mistake("off by one: the rule fires at the evaluation where the number of "
                    "evaluations without improvement REACHES patience (count >= patience), "
                    "not when it exceeds it", rule(extra=1)),
            Mistake("off by one: count an evaluation as bad only after comparing it with the "
                    "best so far; with patience p the rule fires on the p-th bad evaluation",
                    rule(extra=-1)),
            Mistake("a value equal to the best so far is not an improvement: improve only "
                    "when value < best - min_delta (strictly)", rule(ties_improve=True)),
            Mistake("min_delta is ignored: an improvement must beat the best by MORE than "
                    "min_delta (value < best - min_delta)", rule(delta=False)),
            Mistake("the count of bad evaluations must restart at 0 at each improvement: "
                    "patience counts evaluations since the last improvement, not in total",
                    rule(reset=False)),
            Mistake("best must be the best evaluation seen up to the stop: an early stopper "
                    "cannot look at values that come after it stopped", peek),
        ]


check_early_stopping_step = make_check(EarlyStoppingStep())

# ================================================= exercise 3: budget_setting

BUDGET_TARGET = 0.42


class BudgetSetting(ValueExercise):
    """Choose a rate and a schedule whose FINAL validation loss is low: no early stopping."""

    name = "budget_setting"

    def cases(self, seed: int, hidden: bool, **params: Any) -> list[Case]:
        target = float(params.get("target", BUDGET_TARGET))
        seeds = list(params.get("seeds", [3, 4, 5, 6, 7] if hidden else [0, 1, 2]))
        label = ("other seeds (data, initialisation and batches you have not seen)" if hidden
                 else f"seeds {seeds}")
        return [Case(label=f"{STEPS} steps, mean final validation loss < {target:g}, {label}",
                     data={"seeds": seeds, "target": target})]

    def expected(self, case: Case) -> float:
        return case.data["target"]

    def run(self, fn: Any, case: Case) -> Any:
        # plain data only: the grader re-trains in its own process
        if isinstance(fn, Mapping):
            return {str(k): v if isinstance(v, str) else _number(v) for k, v in fn.items()}
        return fn

    def judge(self, case: Case, got: Any) -> str | None:
        if isinstance(got, Raised):
            return f"reading your answer raised {got}"
        problem = _setting_problem(got)
        if problem is not None:
            return problem
        setting = {"lr": float(got["lr"]), "schedule": got["schedule"]}
        runs = moons_runs([setting], case.data["seeds"])
        if np.any(runs.diverged_at >= 0):
            k = int(runs.diverged_at[runs.diverged_at >= 0][0])
            return (f"with lr = {setting['lr']:g} training diverged at step {k}: the rate is "
                    "far too large")
        final = float(np.mean(runs.final_val))
        target = case.data["target"]
        if final < target:
            return None
        best, at = float(np.mean(runs.best_val)), int(np.mean(runs.best_step))
        if at >= 0.8 * STEPS:
            return (f"the mean final validation loss is {final:.3f}, above {target:g}, and it "
                    f"was still falling at the end (best {best:.3f} around step {at}): the run "
                    f"learns too little in {STEPS} steps; a larger rate would get further")
        return (f"the mean final validation loss is {final:.3f}, above {target:g}. It was "
                f"{best:.3f} around step {at}, then the network went on fitting the noise: "
                "this setting does too much learning after the best point. Less total rate "
                "(a smaller α, or a schedule that decays) ends training closer to it")


def _number(v: Any) -> Any:
    try:
        return float(v)
    except (TypeError, ValueError):
        return repr(v)[:80]


def _setting_problem(got: Any) -> str | None:
    if got is None:
        return ("no answer yet: set budget_setting to a dict like "
                "{\"lr\": 0.05, \"schedule\": \"constant\"}")
    if not isinstance(got, Mapping):
        return ("budget_setting must be a dict like {\"lr\": 0.05, \"schedule\": \"constant\"}, "
                f"got a value of type {type(got).__name__}")
    keys = set(got)
    if keys != {"lr", "schedule"}:
        return ("budget_setting must have exactly the keys 'lr' and 'schedule', "
                f"got {sorted(map(str, keys))}")
    if got["schedule"] not in SCHEDULES:
        return f"schedule must be one of {SCHEDULES}, got {got['schedule']!r}"
    lr = got["lr"]
    if isinstance(lr, str) or not np.isfinite(lr) or lr <= 0:
        return f"lr must be a positive number, got {lr!r}"
    return None


check_budget_setting = make_check(BudgetSetting())
