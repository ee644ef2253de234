"""Checks for section 05 (practical tips), and the section's reference runs.

- ``steepest_lr`` and ``one_cycle_lr`` are compared with :func:`lrcourse.train.suggest_steepest`
  and :func:`lrcourse.schedules.one_cycle` on seeded cases.
- ``diagnose`` names what went wrong in a training history. The reference rule is
  :func:`diagnose_history`; the cases are the real runs of the notebook's gallery and seeded
  synthetic histories of each kind, drawn well inside their kind (far from every threshold),
  so that any sound reading of the evidence gets them right.
- ``alpha_digits`` is a rate read off a range test; the judge trains the network with it.

The **moons problem** of the section: ``two_moons(300, noise=0.25, seed=0)`` split in halves
(``train_val_split(frac=0.5, seed=0)``), an ``MLP([2, 16, 16, 2])`` (ReLU, He initialisation),
full-batch SGD for 300 steps, the validation loss measured every 10 steps.
"""

from __future__ import annotations

import copy
import functools
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..nn import MLP
from ..optimizers import SGD
from ..problems import load_digits, train_val_split, two_moons
from ..schedules import one_cycle
from ..train import History, lr_find, suggest_steepest, supervised_objective, train
from ._core import Case, Exercise, Mistake, ValueExercise, make_check, read_rate

__all__ = [
    "DIAGNOSES",
    "check_alpha_digits",
    "check_diagnose",
    "check_one_cycle_lr",
    "check_steepest_lr",
    "diagnose_history",
    "synthetic_history",
]

# ------------------------------------------------------------------------ the moons problem

MOONS_SIZES = [2, 16, 16, 2]
MOONS_STEPS = 300
MOONS_VAL_EVERY = 10


def moons() -> tuple[Any, Any]:
    """The section's data: (train, val), 150 points each, of two noisy interleaved moons."""
    return train_val_split(two_moons(300, noise=0.25, seed=0), frac=0.5, seed=0)


def moons_run(lr: float, seed: int = 0, n_train: int | None = None, sizes: Any = None,
              steps: int = MOONS_STEPS) -> History:
    """Full-batch SGD at a constant rate on the moons problem (``n_train``: a smaller set)."""
    key = (float(lr), seed, n_train, None if sizes is None else tuple(sizes), steps)
    return copy.deepcopy(_moons_run(*key))


@functools.lru_cache(maxsize=16)
def _moons_run(lr: float, seed: int, n_train: int | None, sizes: tuple | None,
               steps: int) -> History:
    # cached: a check builds its cases several times (collect, judge, report)
    tr, va = moons()
    X, y = (tr.X, tr.y) if n_train is None else (tr.X[:n_train], tr.y[:n_train])
    net = MLP(list(sizes or MOONS_SIZES), seed=seed)
    obj = supervised_objective(net, X, y, X_val=va.X, y_val=va.y)
    return train(obj, SGD(net.params, lr=lr), steps, val_every=MOONS_VAL_EVERY, warn=False)


# The notebook's gallery: one real run of each kind (section 4 of the notebook).
GALLERY: dict[str, dict[str, Any]] = {
    "too low": {"lr": 0.003},
    "plateau": {"lr": 0.03},
    "fine": {"lr": 0.4},
    "too high": {"lr": 2.5},
    "diverging": {"lr": 8.0},
    "overfitting": {"lr": 0.1, "n_train": 30, "sizes": [2, 32, 32, 2], "steps": 800},
}


def gallery_history(kind: str) -> History:
    """The gallery's run of ``kind`` (one of :data:`DIAGNOSES`), recomputed."""
    return moons_run(**GALLERY[kind])


# -------------------------------------------------------------------------------- diagnosis

DIAGNOSES = ("diverging", "too high", "overfitting", "fine", "too low", "plateau")
"""The labels of ``diagnose``, in the order in which their evidence is checked."""

SPIKE = 1.1          # a loss above this many times the first one: too high (or diverging)
JUMPY = 0.1          # median |log(L_{k+1} / L_k)| over the second half above this: too high
VAL_RISE = 1.2       # last validation loss over its minimum above this: overfitting
FINE_FALL = 0.1      # last training loss below this fraction of the first: fine
STILL_FALLING = 1.1  # L at 60 % of the run over the last L above this: too low


@dataclass(frozen=True)
class Evidence:
    """What :func:`diagnose_history` reads off a history (see its docstring)."""

    stopped: bool
    finite: bool
    end_over_start: float
    peak_over_start: float
    peak_step: int
    jumpiness: float
    val_rise: float
    val_best_step: int
    recent_drop: float
    steps: int


def evidence(history: Any) -> Evidence:
    """The numbers behind a diagnosis, from ``history.loss`` and ``history.val_loss``."""
    loss = np.asarray(history.loss, dtype=float)
    finite = bool(loss.size >= 2 and np.all(np.isfinite(loss)) and np.all(loss > 0))
    stopped = bool(getattr(history, "diverged", False))
    n = len(loss)
    if not finite:
        return Evidence(stopped, False, math.inf, math.inf, 0, math.nan, 1.0, 0, 1.0, n - 1)
    peak = int(np.argmax(loss[1:])) + 1
    with np.errstate(all="ignore"):
        steps = np.abs(np.diff(np.log(loss[n // 2:])))
    val = getattr(history, "val_loss", None)
    val = None if val is None else np.asarray(val, dtype=float)
    val_rise, val_best = 1.0, 0
    if val is not None and len(val) >= 3 and np.all(np.isfinite(val)):
        val_best = int(np.argmin(val))
        val_rise = float(val[-1] / val[val_best])
        val_steps = getattr(history, "val_steps", None)
        if val_steps is not None and len(val_steps) == len(val):
            val_best = int(val_steps[val_best])
    return Evidence(
        stopped=stopped,
        finite=True,
        end_over_start=float(loss[-1] / loss[0]),
        peak_over_start=float(loss[peak] / loss[0]),
        peak_step=peak,
        jumpiness=float(np.median(steps)) if steps.size else 0.0,
        val_rise=val_rise,
        val_best_step=val_best,
        recent_drop=float(loss[int(0.6 * (n - 1))] / loss[-1]),
        steps=n - 1,
    )


def _shows(kind: str, ev: Evidence) -> bool:
    """Whether the evidence of ``kind`` holds, whatever the other labels say."""
    return {
        "diverging": ev.stopped or not ev.finite or ev.end_over_start > 1.0,
        "too high": ev.peak_over_start > SPIKE or ev.jumpiness > JUMPY,
        "overfitting": ev.val_rise > VAL_RISE,
        "fine": ev.end_over_start < FINE_FALL,
        "too low": ev.recent_drop > STILL_FALLING,
        "plateau": ev.recent_drop <= STILL_FALLING and ev.end_over_start >= FINE_FALL,
    }[kind]


def diagnose_history(history: Any) -> str:
    """Name what a training history shows: the first label of this list whose evidence holds.

    With ``L`` the training loss (``L[0]`` before the first update) and ``V`` the validation
    loss:

    1. ``"diverging"``: training stopped on divergence (``history.diverged``), a loss is not
       finite, or the run ended above where it started (``L[-1] > L[0]``);
    2. ``"too high"``: the loss shot more than 10 % above its start and came back
       (``max L[1:] > 1.1 L[0]``), or it jumps: over the second half, the median of
       ``|log(L[k+1] / L[k])|`` exceeds 0.1;
    3. ``"overfitting"``: the validation loss ended more than 20 % above its minimum;
    4. ``"fine"``: the training loss fell below a tenth of its start;
    5. ``"too low"``: it is still falling: ``L`` at 60 % of the run exceeds the last ``L`` by
       more than 10 %;
    6. ``"plateau"``: none of these: it fell, then stalled well above a tenth of its start.

    Example:
        >>> h = History(loss=np.geomspace(1.0, 0.5, 101), lr=np.full(100, 0.01))
        >>> diagnose_history(h)
        'too low'
    """
    ev = evidence(history)
    return next(kind for kind in DIAGNOSES if _shows(kind, ev))


def describe(kind: str, ev: Evidence) -> str:
    """The evidence of ``kind`` in a history, in words (for feedback)."""
    if kind == "diverging":
        if ev.stopped:
            return "training stopped because it diverged (history.diverged is True)"
        if not ev.finite:
            return "its loss is not finite (inf or nan)"
        return f"its loss ended at {ev.end_over_start:.3g} times where it started"
    if kind == "too high":
        if ev.peak_over_start > SPIKE:
            return (f"its loss shot up to {ev.peak_over_start:.3g} times its start (step "
                    f"{ev.peak_step}) before coming down: a step overshot")
        return (f"its loss jumps: in the second half a typical step changes it by a factor "
                f"{math.exp(ev.jumpiness):.3g} (median |log(L[k+1]/L[k])| = "
                f"{ev.jumpiness:.3g} > {JUMPY})")
    if kind == "overfitting":
        return (f"its validation loss ended {ev.val_rise:.3g} times its minimum (reached at "
                f"step {ev.val_best_step}) while the training loss went on falling")
    if kind == "fine":
        return (f"its training loss fell smoothly to {ev.end_over_start:.2%} of its start and "
                "the validation loss did not turn up")
    if kind == "too low":
        return (f"its loss is still falling steadily: {ev.recent_drop:.3g} times lower over "
                f"the last 40% of the run, and still at {ev.end_over_start:.0%} of its start")
    return (f"its loss stalled: only {ev.recent_drop:.3g} times lower over the last 40% of the "
            f"run, smooth, and stuck at {ev.end_over_start:.0%} of its start")


# ---------------------------------------------------------------- synthetic histories


def _noise(rng: np.random.Generator, n: int, sigma: float) -> np.ndarray:
    return np.exp(sigma * rng.standard_normal(n))


def _decay(t: np.ndarray, start: float, floor: float, tau: float) -> np.ndarray:
    return floor + (start - floor) * np.exp(-t / tau)


def _draft(kind: str, rng: np.random.Generator) -> History:
    """One random history of ``kind``, before the margin test of :func:`synthetic_history`."""
    T = int(rng.integers(150, 601))
    every = int(rng.choice([5, 10, 20]))
    scale = float(10 ** rng.uniform(-1.5, 1.5))
    t = np.arange(T + 1, dtype=float)
    smooth = float(rng.uniform(0.001, 0.008))
    gap = float(rng.uniform(1.0, 1.3))
    variant = int(rng.integers(0, 3))
    stopped, diverged_at = False, None
    if kind == "fine":
        floor = rng.uniform(0.005, 0.04)
        tau = T * rng.uniform(0.04, 0.15)
        train_c = _decay(t, 1.0, floor, tau)
        val_c = gap * _decay(t, 1.0, floor * rng.uniform(1.5, 4.0), tau * rng.uniform(0.8, 1.3))
    elif kind == "too low":
        tau = T * rng.uniform(0.7, 3.0)
        end = rng.uniform(0.25, 0.75)
        depth = (1.0 - end) / (1.0 - math.exp(-T / tau))
        train_c = 1.0 - depth * (1.0 - np.exp(-t / tau))
        val_c = gap * train_c
    elif kind == "plateau":
        level = rng.uniform(0.2, 0.6)
        train_c = _decay(t, 1.0, level, T * rng.uniform(0.02, 0.08))
        train_c *= 1.0 - rng.uniform(0.0, 0.02) * t / T
        val_c = gap * rng.uniform(1.0, 1.2) * train_c
    elif kind == "overfitting":
        floor = rng.uniform(0.005, 0.05)
        tau = T * rng.uniform(0.04, 0.12)
        train_c = _decay(t, 1.0, floor, tau)
        turn = T * rng.uniform(0.15, 0.5)
        best = rng.uniform(0.1, 0.4)
        rise = rng.uniform(0.5, 2.0) * np.clip((t - turn) / (T - turn), 0, None) ** rng.uniform(
            1.0, 2.0)
        val_c = gap * (_decay(t, 1.0, best, tau) + best * rise)
    elif kind == "too high":
        level = rng.uniform(0.05, 0.5)
        train_c = _decay(t, 1.0, level, T * rng.uniform(0.02, 0.1))
        if variant == 0:  # jumps from step to step
            train_c = train_c * _noise(rng, T + 1, rng.uniform(0.35, 0.8))
        elif variant == 1:  # a period-two oscillation, the signature of overshooting
            train_c = train_c * np.exp(rng.uniform(0.2, 0.6) * (-1.0) ** t)
        else:  # early spikes above the start, then a recovery
            for _ in range(int(rng.integers(1, 4))):
                k = int(rng.integers(1, max(3, T // 5)))
                train_c[k] = rng.uniform(1.5, 4.0)
        train_c[0] = 1.0
        val_c = gap * train_c * _noise(rng, T + 1, 0.02)
    elif kind == "diverging":
        if variant == 0:  # stopped by the divergence detector
            k = int(rng.integers(T // 10, T // 2))
            head = _decay(t[: k + 1], 1.0, rng.uniform(0.1, 0.6), k * rng.uniform(0.1, 0.5))
            growth = np.exp(np.cumsum(rng.uniform(0.5, 2.0, size=12)))
            last = head[-1] * growth
            train_c = np.concatenate([head, last])
            if rng.random() < 0.5:
                train_c[-1] = np.inf if rng.random() < 0.5 else np.nan
            stopped, diverged_at = True, len(train_c) - 1
        elif variant == 1:  # climbs steadily (detection off)
            train_c = np.exp(np.log(rng.uniform(2.0, 50.0)) * (t / T) ** rng.uniform(0.7, 2.0))
        else:  # a spike, then dead ReLUs: flat above the start
            k = int(rng.integers(2, 10))
            train_c = np.full(T + 1, rng.uniform(1.5, 2.5))
            train_c[:k] = np.geomspace(1.0, rng.uniform(20, 500), k)
            train_c *= np.exp(rng.uniform(0.0, 0.05) * (-1.0) ** t)
            train_c[0] = 1.0
        val_c = gap * np.where(np.isfinite(train_c), train_c, 1e6)
    else:
        raise ValueError(f"kind must be one of {DIAGNOSES}, got kind={kind!r}")
    n = len(train_c)
    loss = scale * train_c * _noise(rng, n, smooth)
    loss[0] = scale * train_c[0]
    val_steps = np.arange(0, n if not stopped else n - 1, every)
    val = scale * val_c[val_steps] * _noise(rng, len(val_steps), smooth)
    lr = np.full(n - 1, float(10 ** rng.uniform(-3, 0)))
    return History(loss=loss, lr=lr, val_loss=val, val_steps=val_steps, diverged=stopped,
                   diverged_at=diverged_at, reason="diverged" if stopped else None)


def _clear(kind: str, ev: Evidence) -> bool:
    """Whether a history of ``kind`` sits far from every threshold of the diagnosis."""
    if kind == "diverging":
        return ev.stopped or not ev.finite or ev.end_over_start >= 1.5
    if ev.stopped or not ev.finite or ev.end_over_start > 0.7:
        return False
    if kind == "too high":
        return ev.peak_over_start >= 1.5 or ev.jumpiness >= 0.25
    if ev.peak_over_start > 1.03 or ev.jumpiness > 0.03:
        return False
    if kind == "overfitting":
        return ev.val_rise >= 1.4 and ev.end_over_start <= 0.06
    if ev.val_rise > 1.08:
        return False
    if kind == "fine":
        return ev.end_over_start <= 0.06
    if ev.end_over_start < 0.16:
        return False
    if kind == "too low":
        return ev.recent_drop >= 1.2
    return ev.recent_drop <= 1.04  # plateau


def synthetic_history(kind: str, rng: np.random.Generator) -> History:
    """A random history of ``kind`` whose evidence is unmistakable (far from the thresholds).

    Shapes: exponential decays to a floor, steady declines, stalls, U-shaped validation
    curves, noise, period-two oscillations, early spikes, explosions and collapses, at random
    lengths (150 to 600 steps), loss scales (0.03 to 30) and validation intervals.
    """
    for _ in range(1000):
        h = _draft(kind, rng)
        if diagnose_history(h) == kind and _clear(kind, evidence(h)):
            return h
    raise RuntimeError(f"no clear history of kind {kind!r} found")  # pragma: no cover


class Diagnose(Exercise):
    """``diagnose(history)``: one of DIAGNOSES for a training history."""

    name = "diagnose"
    forbidden = ("lrcourse.checks.practice.diagnose_history",
                 "lrcourse.checks.practice.evidence")

    def cases(self, seed: int, hidden: bool, **params: Any) -> list[Case]:
        rng = np.random.default_rng(seed)
        if hidden:
            return [Case((synthetic_history(kind, rng),), label="a history you have not seen",
                         data={"kind": kind})
                    for _ in range(3) for kind in DIAGNOSES]
        cases = [Case((gallery_history(kind),), label=f"the gallery's {kind!r} run "
                      f"(lr={GALLERY[kind]['lr']:g})", data={"kind": kind}) for kind in DIAGNOSES]
        cases.append(Case((moons_run(6.3),), label="the moons MLP at lr=6.3 (stopped by "
                          "the divergence detector)", data={"kind": "diverging"}))
        cases += [Case((synthetic_history(kind, rng),), label=f"a synthetic {kind!r} history "
                       f"(seed {seed})", data={"kind": kind}) for kind in DIAGNOSES]
        return cases

    def expected(self, case: Case) -> str:
        return case.data["kind"]

    def check_output(self, case: Case, got: Any, want: Any) -> str | None:
        if not isinstance(got, str):
            return f"return one of {DIAGNOSES} as a string, got {got!r}"
        if got not in DIAGNOSES:
            return f"{got!r} is not one of the labels {DIAGNOSES}"
        return None

    def judge(self, case: Case, got: Any) -> str | None:
        if isinstance(got, str):
            got = str(got)  # a NumPy string is fine too
        verdict = super().judge(case, got)
        if verdict is None or self.check_output(case, got, None) is not None:
            return verdict
        want = case.data["kind"]
        ev = evidence(case.args[0])
        message = f"you answered {got!r}, but this run is {want!r}: {describe(want, ev)}"
        if DIAGNOSES.index(got) > DIAGNOSES.index(want) and _shows(got, ev):
            message += (f". It shows signs of {got!r} too, but {want!r} comes first in the "
                        "order of the checks")
        return message


check_diagnose = make_check(Diagnose())

# ------------------------------------------------------------------ the steepest slope


def _curve(rng: np.random.Generator, n: int, edge: str | None = None) -> tuple[np.ndarray,
                                                                          np.ndarray]:
    """A range-test-like curve: flat, a fall, a bottom, a rise (with small wiggles)."""
    while True:
        lo = rng.uniform(-7, -4)
        lrs = np.geomspace(10**lo, 10 ** (lo + rng.uniform(5, 8)), n)
        x = np.linspace(0, 1, n)
        centre, width = rng.uniform(0.3, 0.6), rng.uniform(0.04, 0.12)
        curve = 1.0 - rng.uniform(0.5, 0.9) / (1 + np.exp(-(x - centre) / width))
        curve += rng.uniform(0.5, 3) * np.clip(x - rng.uniform(0.75, 0.9), 0, None) ** 2
        curve *= 1 + 0.01 * np.cumsum(rng.standard_normal(n)) / np.sqrt(n)
        curve *= rng.uniform(0.3, 3)
        if edge == "first":
            curve[0] = curve[1] + rng.uniform(1.0, 2.0) * (curve[0] - curve[-1] + 1)
        elif edge == "last":
            curve[-1] = curve[-2] * rng.uniform(0.05, 0.3)
        slopes = np.sort(np.gradient(curve, np.log(lrs)))
        if slopes[1] - slopes[0] > 1e-6 * abs(slopes[0]):
            return lrs, curve


@functools.lru_cache(maxsize=1)
def _range_test_curve() -> tuple[np.ndarray, np.ndarray]:
    """The trimmed smoothed curve of a range test of the moons MLP (as lr_find uses it)."""
    tr, _ = moons()
    net = MLP(MOONS_SIZES, seed=0)
    obj = supervised_objective(net, tr.X, tr.y)
    result = lr_find(obj, SGD(net.params, lr=0.1), start_lr=1e-4, end_lr=100.0, num_steps=200,
                     smoothing=0.9)
    return result.lrs[10:-5], result.smoothed[10:-5]


class SteepestLr(Exercise):
    """``steepest_lr(lrs, smoothed)``: the rate of the steepest fall per decade."""

    name = "steepest_lr"
    forbidden = ("lrcourse.train.suggest_steepest", "lrcourse.train.lr_find")

    def cases(self, seed: int, hidden: bool, **params: Any) -> list[Case]:
        rng = np.random.default_rng(seed)
        small = (np.logspace(-5, 0, 6), np.array([1.0, 0.97, 0.5, 0.45, 0.4, 2.0]))
        cases = [
            Case(small, label="lrs = 1e-5, 1e-4, ..., 1; smoothed = [1, 0.97, 0.5, 0.45, 0.4, 2]"),
            Case(tuple(a.copy() for a in _range_test_curve()),
                 label="the range test of the moons MLP (trimmed)"),
            Case(_curve(rng, 60), label=f"a synthetic curve of 60 points (seed {seed})"),
        ]
        if hidden:
            cases += [
                Case(_curve(rng, int(rng.integers(20, 200))), label="another curve"),
                Case(_curve(rng, 37), label="another curve"),
                Case(_curve(rng, 50, edge="first"), label="a curve that is steepest at one end"),
                Case(_curve(rng, 50, edge="last"), label="a curve that is steepest at one end"),
                Case((np.array([1e-3, 1e-2, 1e-1]), np.array([2.0, 1.0, 0.2])),
                     label="three points"),
            ]
        return cases

    def expected(self, case: Case) -> float:
        return suggest_steepest(*case.args)

    def check_output(self, case: Case, got: Any, want: Any) -> str | None:
        lrs = case.args[0]
        if isinstance(got, int | np.integer) and not isinstance(got, bool) and 0 <= got < len(
                lrs) and not np.any(np.isclose(lrs, got)):
            return "you returned an index; return the rate itself, lrs[index]"
        return super().check_output(case, got, want)

    def mistakes(self) -> list[Mistake]:
        def at(f: Callable[[np.ndarray, np.ndarray], int]) -> Callable[[Case], float]:
            return lambda c: float(c.args[0][f(*c.args)])

        def interior(lrs: np.ndarray, s: np.ndarray) -> int:
            x = np.log(lrs)
            return 1 + int(np.argmin((s[2:] - s[:-2]) / (x[2:] - x[:-2])))

        return [
            Mistake("this is the steepest RISE; the rule wants the steepest fall, the most "
                    "negative slope (argmin, not argmax)",
                    at(lambda lrs, s: int(np.argmax(np.gradient(s, np.log(lrs)))))),
            Mistake("the slope must be taken against log(lr), not lr: the rates are spaced "
                    "evenly in log scale, so d/d(lr) favours the small rates",
                    at(lambda lrs, s: int(np.argmin(np.gradient(s, lrs))))),
            Mistake("that is where the loss is lowest, not where it falls fastest: the rule "
                    "takes the argmin of the slope, not of the loss",
                    at(lambda lrs, s: int(np.argmin(s)))),
            Mistake("the two end points count too: there the slope is the one-sided difference "
                    "(np.gradient does this), and here the steepest fall is at an end", at(
                        interior)),
            Mistake("off by half a step: np.diff gives forward differences, which sit between "
                    "two rates; use central differences (np.gradient) so that slope[i] "
                    "belongs to lrs[i]",
                    at(lambda lrs, s: int(np.argmin(np.diff(s) / np.diff(np.log(lrs)))))),
            Mistake("off by half a step: np.diff gives forward differences, which sit between "
                    "two rates; use central differences (np.gradient) so that slope[i] "
                    "belongs to lrs[i]",
                    at(lambda lrs, s: 1 + int(np.argmin(np.diff(s) / np.diff(np.log(lrs)))))),
        ]


check_steepest_lr = make_check(SteepestLr())

# ---------------------------------------------------------------------------- one cycle


class OneCycleLr(Exercise):
    """``one_cycle_lr(t, max_lr, total_steps, pct_start, div_factor, final_div_factor)``."""

    name = "one_cycle_lr"
    forbidden = ("lrcourse.schedules.one_cycle", "lrcourse.schedules._piecewise",
                 "lrcourse.schedules._anneal_cos")
    rtol = 1e-9

    def cases(self, seed: int, hidden: bool, **params: Any) -> list[Case]:
        rng = np.random.default_rng(seed)
        cases = [
            Case((np.arange(10), 1.0, 10), label="t = 0..9, max_lr=1, total_steps=10 "
                 "(pct_start=0.3, div_factor=25, final_div_factor=1e4)"),
            Case((0, 0.4, 100), label="t = 0, max_lr=0.4, total_steps=100: the start"),
            Case((29, 0.4, 100), label="t = 29, max_lr=0.4, total_steps=100: the peak"),
            Case((np.arange(200), 0.5, 200), {"pct_start": 0.25, "div_factor": 10.0,
                                              "final_div_factor": 100.0},
                 label="t = 0..199, max_lr=0.5, total_steps=200, pct_start=0.25, "
                 "div_factor=10, final_div_factor=100"),
        ]
        if hidden:
            total = int(rng.integers(30, 400))
            peak = float(10 ** rng.uniform(-3, 1))
            cases += [
                Case((np.arange(total), peak, total), label="another cycle"),
                Case((np.arange(50), peak, 50), {"pct_start": 0.25},
                     label="a warm-up that ends between two steps"),
                Case((total - 1, peak, total), label="the last step"),
                Case((np.arange(total), peak, total), {"pct_start": 0.5, "div_factor": 5.0,
                                                       "final_div_factor": 50.0},
                     label="other factors"),
            ]
        return cases

    def expected(self, case: Case) -> Any:
        t, max_lr, total = case.args
        sched = one_cycle(max_lr, total, **case.kwargs)
        return np.asarray(sched(t), dtype=float)

    def mistakes(self) -> list[Mistake]:
        def variant(warm_shift: float = 0.0, end_shift: float = 0.0, min_from_max: bool = False,
                    linear: bool = False, rounded: bool = False) -> Callable[[Case], np.ndarray]:
            def out(c: Case) -> np.ndarray:
                t, max_lr, total = c.args
                kw = {"pct_start": 0.3, "div_factor": 25.0, "final_div_factor": 1e4, **c.kwargs}
                start = max_lr / kw["div_factor"]
                low = (max_lr if min_from_max else start) / kw["final_div_factor"]
                warm = kw["pct_start"] * total - 1 + warm_shift
                if rounded:
                    warm = round(kw["pct_start"] * total) - 1
                end = total - 1 + end_shift
                t = np.asarray(t, dtype=float)

                def anneal(a: float, b: float, p: np.ndarray) -> np.ndarray:
                    if linear:
                        return a + (b - a) * p
                    return b + (a - b) * (1 + np.cos(np.pi * p)) / 2

                return np.where(t <= warm, anneal(start, max_lr, t / warm),
                                anneal(max_lr, low, (t - warm) / (end - warm)))
            return out

        return [
            Mistake("the warm-up is one step too long: the peak max_lr is used at step "
                    "pct_start * total_steps - 1, so the first phase ends there", variant(1.0)),
            Mistake("the cycle ends one step too late: the last update, t = total_steps - 1, "
                    "uses exactly the minimum rate", variant(0.0, 1.0)),
            Mistake("the final rate is initial_lr / final_div_factor, where initial_lr = "
                    "max_lr / div_factor; you divided max_lr itself",
                    variant(min_from_max=True)),
            Mistake("the warm-up ends at t_w = pct_start * total_steps - 1 exactly, which need "
                    "not be a whole number: do not round it (the phases use t / t_w)",
                    variant(rounded=True)),
            Mistake("these are straight lines: the one-cycle policy here anneals along a "
                    "half cosine, b + (a - b)(1 + cos(pi p)) / 2", variant(linear=True)),
        ]


check_one_cycle_lr = make_check(OneCycleLr())

# ------------------------------------------------------------ a rate from a range test

DIGITS_SIZES = [64, 32, 10]
DIGITS_STEPS = 200
DIGITS_TARGET = 0.5


def digits_pixels() -> tuple[np.ndarray, np.ndarray]:
    """200 of the 8x8 digits, in raw pixel counts 0..16 (not scaled to [0, 1])."""
    data = load_digits()
    keep = np.random.default_rng(0).permutation(len(data.y))[:200]
    return data.X[keep] * 16.0, data.y[keep]


def digits_run(lr: float, seed: int) -> tuple[float, bool]:
    """Full-batch SGD on the raw-pixel digits: (final training loss, diverged)."""
    X, y = digits_pixels()
    net = MLP(DIGITS_SIZES, seed=seed)
    h = train(supervised_objective(net, X, y), SGD(net.params, lr=lr), DIGITS_STEPS, warn=False)
    return float(h.loss[-1]), h.diverged


class AlphaDigits(ValueExercise):
    """A rate read off the range test of the raw-pixel digits; judged by training with it."""

    name = "alpha_digits"

    def cases(self, seed: int, hidden: bool, **params: Any) -> list[Case]:
        seeds = [0, 2] if not hidden else [1, 3, 4]
        return [Case(label=f"the digits MLP, initialisation seed {s}" if not hidden else
                     "another initialisation", data={"seed": s}) for s in seeds]

    def expected(self, case: Case) -> float:
        return 0.02

    def judge(self, case: Case, got: Any) -> str | None:
        lr, problem = read_rate(got)
        if problem is not None:
            return problem
        loss, diverged = digits_run(lr, case.data["seed"])
        if not diverged and loss < DIGITS_TARGET:
            return None
        if diverged or loss >= 2.0:
            return (f"with lr = {lr:.3g} training broke down (final loss "
                    f"{loss:.3g}; ln 10 = 2.30 is the loss of a network that guesses): the rate "
                    "is past the bottom of the range-test curve, where the loss turns up")
        if lr > 0.05:
            return (f"with lr = {lr:.3g} the run is unstable (final loss {loss:.3g}, target "
                    f"{DIGITS_TARGET}): pick a rate well before the bottom of the curve")
        return (f"after {DIGITS_STEPS} steps the loss is still {loss:.3g} (target "
                f"{DIGITS_TARGET}): the rate is on the flat left part of the curve; move right, "
                "into the steep descent")


check_alpha_digits = make_check(AlphaDigits())
