"""Checks for section 07 (learning rate and overfitting), and the runs they re-train.

The section's setting is small on purpose: 40 noisy two-moons points, a 2-32-32-2 ReLU
network (1,186 parameters, about 30 per training point) and mini-batch SGD. It overfits
within a few hundred steps, and a whole grid of such runs trains in about a second because
:func:`lrcourse.sweeps.sweep_mlp` runs them side by side as one batched NumPy computation.
Each run equals ``lrcourse.train.train`` on an ``lrcourse.nn.MLP`` with
``lrcourse.optimizers.SGD``, number for number (tests/test_sweeps.py checks it), so the
notebook, its explorer and the grader all see the runs the library would produce.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from ..problems import Dataset, train_val_split, two_moons
from ..schedules import constant, cosine_annealing, step_decay
from ..sweeps import MLPSweep, sweep_mlp
from ..train import EarlyStopping, History

__all__ = [
    "check_budget_setting",
    "check_early_stopping_step",
    "check_gap_report",
]

from ._core import DIFFERS, Case, Exercise, Mistake, Raised, ValueExercise, make_check

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


def moons_runs(
    settings: Sequence[Mapping[str, Any]],
    seeds: Sequence[int],
    steps: int = STEPS,
    keep_best: bool = False,
) -> MLPSweep:
    """Every setting on every seed of the section's task, as one batched computation.

    A setting is a dict ``{"lr": α, "schedule": "constant" | "cosine" | "step",
    "weight_decay": λ}`` (schedule and weight decay optional), or ``{"rates": array}`` with the
    rate of every update. Seed s fixes the data (``moons_task(s)``), the initialisation and the
    order of the mini-batches.

    Returns:
        :class:`lrcourse.sweeps.MLPSweep` of shape ``(len(settings), len(seeds))``.

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
    runs = sweep_mlp(
        SIZES,
        np.array([t.X for t, _ in tasks])[seed_of], np.array([t.y for t, _ in tasks])[seed_of],
        np.repeat(np.array(rates), S, axis=0),
        steps,
        weight_decay=np.repeat([float(s.get("weight_decay", 0.0)) for s in settings], S),
        seed=np.array(seeds)[seed_of],
        batch_size=BATCH_SIZE,
        batch_seed=1000 + np.array(seeds)[seed_of],
        X_val=np.array([v.X for _, v in tasks])[seed_of],
        y_val=np.array([v.y for _, v in tasks])[seed_of],
        val_every=VAL_EVERY,
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
    """The summary of one run's curves (what ``MLPSweep`` computes for many)."""
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
        if verdict != DIFFERS:
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
        if verdict != DIFFERS:
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
