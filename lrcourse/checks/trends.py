"""Checks for section 10 (future trends): successive halving, LARS's trust ratio, AdamW.

* ``successive_halving(lrs, f_budget, min_budget, eta=3) -> best_lr`` is judged on what it
  returns and on every call it makes to ``f_budget`` (which rates, with which budget): the
  check wraps the objective and records the rungs. The protocol is that of
  :func:`lrcourse.tuning.successive_halving` with the configurations given instead of drawn
  (see :func:`halving_reference`; the tests check that the two agree).
* ``lars_trust_ratio(weight, grad, trust_coefficient=0.001, weight_decay=0.0, eps=1e-9)``
  is compared with :func:`lrcourse.distributed.lars_trust_ratio`.
* ``adamw_step(theta, grad, m, v, t, lr, beta1=0.9, beta2=0.999, eps=1e-8,
  weight_decay=0.01) -> (theta, m, v)`` is compared with
  :func:`lrcourse.optimizers.adamw_step` (torch's AdamW), through the same machinery as
  section 04's update rules.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ._core import DIFFERS, Case, Exercise, Mistake, make_check
from .steps import StepExercise, adam_by_hand, first_step_division, floats

__all__ = ["check_adamw_step", "check_lars_trust_ratio", "check_successive_halving"]


# =============================================================================================
# Successive halving
# =============================================================================================


@dataclass(frozen=True)
class GdLoss:
    """The loss after ``budget`` steps of gradient descent at rate ``lr`` on ½ Σ λ_i x_i².

    From the start ``x0``: L = ½ Σ λ_i (1 − lr λ_i)^(2·budget) x0_i². A run whose loss
    ends above ``1e4`` times its start is a failure: NaN, as a diverged training run reports.
    Small budgets favour larger rates than large budgets do, as in real training.
    """

    curvatures: tuple[float, ...] = (1.0, 10.0)
    x0: tuple[float, ...] = (1.0, 1.0)

    def __call__(self, lr: float, budget: float) -> float:
        lam, x0 = np.array(self.curvatures), np.array(self.x0)
        with np.errstate(all="ignore"):
            loss = float(0.5 * np.sum(lam * (1.0 - float(lr) * lam) ** (2.0 * float(budget))
                                      * x0**2))
        start = float(0.5 * np.sum(lam * x0**2))
        return loss if math.isfinite(loss) and loss <= 1e4 * start else math.nan


@dataclass(frozen=True)
class Overfitting:
    """A validation-like loss: the GD loss plus ``rise`` per unit of budget (long runs overfit).

    Scores at different budgets then do not compare: the lowest score of all trials can come
    from an early rung, from a rate the later rungs rightly drop.
    """

    base: GdLoss = GdLoss()
    rise: float = 0.08

    def __call__(self, lr: float, budget: float) -> float:
        return self.base(lr, budget) + self.rise * float(budget)


@dataclass(frozen=True)
class Flat:
    """An objective on which every rate ties: the protocol must keep the earliest ones."""

    value: float = 1.0

    def __call__(self, lr: float, budget: float) -> float:
        return self.value


MAX_RUNGS = 40
"""More rungs than any case needs: a rule that never shrinks the rung is cut off here."""


class EndlessLoop(RuntimeError):
    """The learner's loop kept calling the objective long after the protocol would stop."""


def _rank(scores: Sequence[float], worst: bool = False, nan_first: bool = False) -> np.ndarray:
    """Indices from best to worst; NaN last, ties keep the given order (a stable sort)."""
    s = np.array(scores, dtype=float)
    if worst:
        s = -s
    fill = -np.inf if nan_first else np.inf
    return np.argsort(np.where(np.isnan(s), fill, s), kind="stable")


def halving_reference(
    lrs: Sequence[float], f_budget: Callable[[float, Any], float], min_budget: Any,
    eta: Any = 3, *, keep_rule: Callable[[int, Any], int] | None = None, grow: bool = True,
    worst: bool = False, nan_first: bool = False, stop_early: bool = False,
    best_of_all: bool = False, first_budget_factor: Any = 1,
) -> tuple[float | None, list[tuple[Any, list[float]]]]:
    """Successive halving over given rates: (best rate, the rungs run as (budget, rates)).

    The protocol of :func:`lrcourse.tuning.successive_halving`::

        survivors = lrs; r = min_budget
        repeat:  score every survivor with f_budget(lr, r), in order
                 keep = ⌊len(survivors) / η⌋
                 if keep == 0: return the survivor with the lowest score (the first on ties,
                               NaN never; None if every score is NaN)
                 survivors = the `keep` lowest scores, best first (ties: the earlier; NaN last)
                 r = r · η

    The keyword arguments plant the mistakes the check diagnoses.
    """
    keep_rule = keep_rule or (lambda n, e: int(math.floor(n / e)))
    survivors = [float(lr) for lr in lrs]
    budget = min_budget * first_budget_factor
    rungs: list[tuple[Any, list[float]]] = []
    every: list[tuple[float, float]] = []
    for _ in range(MAX_RUNGS):
        if stop_early and len(survivors) == 1 and rungs:
            return survivors[0], rungs
        scores = [float(f_budget(lr, budget)) for lr in survivors]
        rungs.append((budget, list(survivors)))
        every += list(zip(scores, survivors, strict=True))
        keep = keep_rule(len(survivors), eta)
        if keep <= 0:
            pool = every if best_of_all else list(zip(scores, survivors, strict=True))
            order = _rank([s for s, _ in pool], worst=worst, nan_first=nan_first)
            best = pool[int(order[0])]
            failed = math.isnan(best[0]) and not (worst or nan_first)
            return (None if failed else best[1]), rungs
        order = _rank(scores, worst=worst, nan_first=nan_first)
        survivors = [survivors[i] for i in order[:keep]]
        if grow:
            budget = budget * eta
    raise RuntimeError(f"successive halving did not stop within {MAX_RUNGS} rungs")


def _rungs_of(calls: Sequence[tuple[float, float]]) -> list[list[Any]]:
    """Group a call log into rungs: consecutive calls with one budget, rates sorted."""
    rungs: list[list[Any]] = []
    for lr, budget in calls:
        if rungs and rungs[-1][0] == budget:
            rungs[-1][1].append(lr)
        else:
            rungs.append([budget, [lr]])
    return [[b, sorted(rates)] for b, rates in rungs]


def _is_number(x: Any) -> bool:
    return isinstance(x, int | float | np.integer | np.floating) and not isinstance(x, bool)


class SuccessiveHalving(Exercise):
    """``successive_halving(lrs, f_budget, min_budget, eta=3)``: the rung loop, best rate."""

    name = "successive_halving"
    what = "search"  # the diagnosis names the rung; no dump of every call
    forbidden = (
        "lrcourse.tuning.successive_halving",
        "lrcourse.tuning.random_search",
        "lrcourse.tuning.grid_search",
        "lrcourse.checks.trends.halving_reference",
    )

    def cases(self, seed: int, hidden: bool, **params: Any) -> list[Case]:
        rng = np.random.default_rng(seed)
        nine = [0.01, 0.03, 0.05, 0.1, 0.15, 0.2, 0.3, 1.0, 3.0]
        drawn = np.sort(10 ** rng.uniform(-3, 0, size=27)).tolist()
        rng.shuffle(drawn)
        cases = [
            Case((nine, GdLoss(), 2, 3),
                 label="lrs=[0.01, 0.03, 0.05, 0.1, 0.15, 0.2, 0.3, 1, 3], min_budget=2, eta=3, "
                       "f_budget(lr, b) = loss after b steps of GD on ½(x² + 10y²) from (1, 1) "
                       "(NaN when the run blows up)"),
            Case(([0.5, 0.02, 0.12, 0.07, 0.2, 0.01, 0.16, 0.04], GdLoss(), 2, 2),
                 label="lrs=[0.5, 0.02, 0.12, 0.07, 0.2, 0.01, 0.16, 0.04], min_budget=2, "
                       "eta=2, the same f_budget"),
            Case((drawn, Overfitting(GdLoss((0.5, 4.0, 20.0), (1.0, -1.0, 0.5)), 0.08), 1, 3),
                 label=f"27 log-uniform rates in [0.001, 1] (seed {seed}), min_budget=1, eta=3, "
                       "f_budget = the loss after b steps of GD on ½(0.5x² + 4y² + 20z²) "
                       "+ 0.08·b (a validation loss that rises on long runs)"),
        ]
        if hidden:
            ten = (10 ** rng.uniform(-2.5, 0.5, size=10)).tolist()
            cases += [
                Case((ten, GdLoss(), 1, 3), label="10 rates, where 10 / 3 is not whole"),
                Case(([0.05, 2.5, 0.25, 0.02, 0.18, 0.8, 0.12, 1.5, 0.08], GdLoss(), 3, 3),
                     label="several rates that blow up (NaN)"),
                Case(([0.07], GdLoss(), 5, 3), label="a single rate"),
                Case(([0.02, 0.2, 0.1, 0.01, 0.05], GdLoss((2.0, 5.0), (1.0, 2.0)), 1, 4),
                     label="eta=4"),
                Case(([0.3, 0.1, 0.2, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9], Flat(), 1, 3),
                     label="an objective on which every rate ties"),
                Case(((10 ** rng.uniform(-3, 0.3, size=16)).tolist(),
                      GdLoss((1.0, 3.0, 30.0), (2.0, 1.0, 0.3)), 1, 2), label="another seed"),
            ]
        return cases

    def run(self, fn: Any, case: Case) -> Any:
        lrs, f, min_budget, eta = copy.deepcopy(case.args)
        calls: list[tuple[float, float]] = []

        limit = 4 * len(lrs) + 40

        def recorded(lr: Any, budget: Any) -> float:
            calls.append((float(lr), float(budget)))
            if len(calls) > limit:
                raise EndlessLoop(
                    f"f_budget was called more than {limit} times: your loop does not stop. "
                    "Each rung must keep fewer configurations (n // eta), and the loop ends "
                    "after a rung where n // eta == 0")
            return f(lr, budget)

        with np.errstate(all="ignore"):
            out = fn(lrs, recorded, min_budget, eta)
        if _is_number(out):
            out = float(out)
        return {"result": out, "rungs": _rungs_of(calls)}

    def _outcome(self, case: Case, **mistake: Any) -> dict[str, Any]:
        lrs, f, min_budget, eta = copy.deepcopy(case.args)
        best, rungs = halving_reference(lrs, f, min_budget, eta, **mistake)
        calls = [(float(lr), float(b)) for b, rates in rungs for lr in rates]
        return {"result": best, "rungs": _rungs_of(calls)}  # grouped as the learner's calls

    def expected(self, case: Case) -> dict[str, Any]:
        return self._outcome(case)

    def check_output(self, case: Case, got: Any, want: Any) -> str | None:
        if not isinstance(got, dict) or "result" not in got:
            return "the check could not run your function"
        result = got["result"]
        if result is None and want["result"] is not None:
            return "your function returned None: is a `return best_lr` missing?"
        if result is not None and not _is_number(result):
            return (f"return one rate (a number), the best of the last rung, got a value of "
                    f"type {type(result).__name__}")
        if not got["rungs"]:
            return "your function never called f_budget: score every rate with f_budget(lr, r)"
        return None

    def close(self, got: Any, want: Any) -> bool:
        if got["rungs"] != want["rungs"]:
            return False
        if want["result"] is None or got["result"] is None:
            return got["result"] is want["result"]
        return abs(got["result"] - want["result"]) <= 1e-12 * abs(want["result"])

    def mistakes(self) -> list[Mistake]:
        def slip(**how: Any) -> Callable[[Case], dict[str, Any]]:
            return lambda c: self._outcome(c, **how)

        return [
            Mistake("you kept the configurations with the HIGHEST losses: f_budget returns a "
                    "loss, so keep the ⌊n/η⌋ lowest (np.argsort sorts from low to high)",
                    slip(worst=True)),
            Mistake("every rung used the same budget: multiply the budget by η after each rung "
                    "(r = min_budget · η^i), so the survivors are judged on longer runs",
                    slip(grow=False)),
            Mistake("the first rung already used min_budget · η: rung 0 runs with min_budget",
                    slip(first_budget_factor=3)),
            Mistake("off by one in the rung sizes: you kept n // eta + 1 configurations; keep "
                    "n // eta", slip(keep_rule=lambda n, e: n // e + 1 if n > 1 else 0)),
            Mistake("you dropped a fraction 1/η of the configurations and kept the rest; keep "
                    "only ⌊n/η⌋ (one in η)", slip(keep_rule=lambda n, e: n - n // e
                                                  if n // e else 0)),
            Mistake("you stopped one rung early: the last survivor must still be run with the "
                    "largest budget. The loop ends after a rung that leaves fewer than η "
                    "configurations (n // eta == 0), not when one is left",
                    slip(stop_early=True)),
            Mistake("you returned the best score over ALL trials, but scores at different "
                    "budgets do not compare: return the best rate of the LAST rung",
                    slip(best_of_all=True)),
            Mistake("a run that failed (f_budget returned NaN) was ranked as good: NaN is not "
                    "smaller than anything, so min/sorted/argmin mishandle it. Rank NaN last "
                    "(np.argsort puts NaN at the end)", slip(nan_first=True)),
        ]

    def judge(self, case: Case, got: Any) -> str | None:
        # (a slip that would never stop on this case raises, and the base judge skips it)
        verdict = super().judge(case, got)
        if verdict != DIFFERS or not isinstance(got, dict):
            return verdict
        want = self.expected(case)
        lrs, eta = case.args[0], case.args[3]
        result = got["result"]
        if (got["rungs"] == want["rungs"] and result is not None and float(result).is_integer()
                and 0 <= int(result) < len(lrs) and lrs[int(result)] == want["result"]):
            return "you returned the position of the best rate in the list; return the rate"
        for i, (mine, ref) in enumerate(zip(got["rungs"], want["rungs"], strict=False)):
            if mine[0] != ref[0]:
                return (f"rung {i} ran with budget {mine[0]:g}, the protocol's is {ref[0]:g}: "
                        f"min_budget · η^{i}")
            if len(mine[1]) != len(ref[1]):
                return (f"rung {i} scored {len(mine[1])} configurations, the protocol scores "
                        f"{len(ref[1])} (each rung keeps ⌊n / η⌋ = n // {eta} of the last)")
            if mine[1] != ref[1]:
                return (f"rung {i} scored other configurations than the protocol: keep the "
                        "⌊n/η⌋ LOWEST scores of the rung before (ties: the earlier rate)")
        if len(got["rungs"]) < len(want["rungs"]):
            return (f"you ran {len(got['rungs'])} rungs, the protocol runs "
                    f"{len(want['rungs'])}: continue until a rung leaves n // eta == 0")
        if len(got["rungs"]) > len(want["rungs"]):
            return (f"you ran {len(got['rungs'])} rungs, the protocol runs "
                    f"{len(want['rungs'])}: stop after the rung where n // eta == 0")
        return ("the rungs are right but the rate returned is not the one with the lowest "
                "score in the last rung")


check_successive_halving = make_check(SuccessiveHalving())


# =============================================================================================
# LARS's trust ratio
# =============================================================================================


def _norm(a: Any) -> float:
    return float(np.sqrt(np.sum(np.asarray(a, dtype=float) ** 2)))


def _ratio(w: Any, g: Any, eta: float, beta: float, eps: float, *, decay: bool = True,
           swapped: bool = False, zero: float | None = 1.0, norm: Callable[[Any], float] = _norm,
           optax: bool = False, coefficient: bool = True) -> float:
    """The trust ratio, and (through the keywords) its usual slips."""
    wn, gn = norm(w), norm(g)
    if swapped:
        wn, gn = gn, wn
    if zero is not None and (wn == 0.0 or gn == 0.0):
        return zero
    if optax:
        denominator = norm(np.asarray(g, float) + beta * np.asarray(w, float)) + eps
    else:
        denominator = gn + (beta * wn if decay else 0.0) + eps
    with np.errstate(all="ignore"):
        return float((eta if coefficient else 1.0) * wn / denominator)


class LarsTrustRatio(Exercise):
    """``lars_trust_ratio(weight, grad, trust_coefficient, weight_decay, eps) -> float``."""

    name = "lars_trust_ratio"
    forbidden = (
        "lrcourse.distributed.lars_trust_ratio",
        "lrcourse.distributed._norms_ratio",
        "lrcourse.distributed.lars_step",
        "lrcourse.distributed._lars_update",
    )
    rtol = 1e-9
    atol = 0.0

    def cases(self, seed: int, hidden: bool, **params: Any) -> list[Case]:
        rng = np.random.default_rng(seed)
        w2, g2 = rng.normal(size=(2, 3)), 0.01 * rng.normal(size=(2, 3))
        cases = [
            Case((np.array([3.0, 4.0]), np.array([1.2, 0.5])), {"trust_coefficient": 0.01},
                 label="weight=[3, 4], grad=[1.2, 0.5], trust_coefficient=0.01"),
            Case((w2, g2), {"trust_coefficient": 0.001, "weight_decay": 0.05},
                 label="a seeded 2x3 weight, gradient 100 times smaller, "
                       "trust_coefficient=0.001, weight_decay=0.05"),
            Case((np.zeros(3), np.array([0.5, -1.0, 2.0])), {"trust_coefficient": 0.01},
                 label="weight=[0, 0, 0] (a bias at initialisation), grad=[0.5, -1, 2]"),
        ]
        if hidden:
            shape = (4, 3, 2, 2)
            cases += [
                Case((rng.normal(size=4), np.zeros(4)), {"trust_coefficient": 0.02},
                     label="a zero gradient"),
                Case((np.zeros((2, 2)), np.zeros((2, 2))), label="zero weights and gradient"),
                Case((rng.normal(size=shape), rng.normal(size=shape)),
                     {"trust_coefficient": 0.001, "weight_decay": 1e-4},
                     label="a 4-d (convolution-like) weight"),
                Case((rng.normal(size=5), 1e-11 * rng.normal(size=5)),
                     {"trust_coefficient": 0.001}, label="a gradient smaller than eps"),
                Case((rng.normal(size=(3, 3)), rng.normal(size=(3, 3))),
                     {"trust_coefficient": 0.1, "weight_decay": 2.0, "eps": 1e-3},
                     label="a large weight decay and eps"),
                Case((np.array(2.0), np.array(-0.5)), label="0-d arrays, the defaults"),
            ]
        return cases

    def expected(self, case: Case) -> float:
        from ..distributed import lars_trust_ratio

        return float(lars_trust_ratio(*case.args, **dict(case.kwargs)))

    def _slip(self, hyper: dict[str, float] | None = None, **how: Any) -> Callable[[Case], float]:
        def out(c: Case) -> float:
            kw = {"trust_coefficient": 0.001, "weight_decay": 0.0, "eps": 1e-9, **c.kwargs,
                  **(hyper or {})}
            return _ratio(*c.args, kw["trust_coefficient"], kw["weight_decay"], kw["eps"], **how)
        return out

    def check_output(self, case: Case, got: Any, want: Any) -> str | None:
        if got is None:
            return "your function returned None: is a `return` statement missing?"
        if isinstance(got, np.ndarray) and got.ndim > 0:
            return ("you returned an array; the trust ratio is ONE number for the whole layer: "
                    "use the norms of the entire arrays, np.linalg.norm(weight) (a matrix's "
                    "norm flattens it: the Frobenius norm)")
        if not _is_number(got) and not (isinstance(got, np.ndarray) and got.ndim == 0):
            return f"return one number, got a value of type {type(got).__name__}"
        return None

    def mistakes(self) -> list[Mistake]:
        return [
            Mistake("the weight-decay term is missing from the denominator: "
                    "η‖w‖ / (‖∇w‖ + β‖w‖ + ε)", self._slip(decay=False)),
            Mistake("the norms are swapped: the ratio is η‖w‖ / ‖∇w‖ (weights on top), so a "
                    "layer whose gradient is large relative to its weights gets a SMALL rate",
                    self._slip(swapped=True)),
            Mistake("a zero norm gives 0 in the formula, and a layer with rate 0 stays at zero "
                    "for ever: when ‖w‖ = 0 or ‖∇w‖ = 0 return 1 (a plain SGD step)",
                    self._slip(zero=0.0)),
            Mistake("zero norms need a special case: when ‖w‖ = 0 or ‖∇w‖ = 0 return 1, as "
                    "Apex and optax do, instead of the formula", self._slip(zero=None)),
            Mistake("that is optax's variant, which divides by ‖∇w + βw‖; here the denominator "
                    "is ‖∇w‖ + β‖w‖ + ε (You et al.'s and the library's)", self._slip(optax=True)),
            Mistake("the norms are not square-rooted: ‖w‖ = √(Σ w²)",
                    self._slip(norm=lambda a: float(np.sum(np.asarray(a, float) ** 2)))),
            Mistake("you summed absolute values (the L1 norm); LARS uses the Euclidean norm "
                    "√(Σ w²), e.g. np.linalg.norm(w)",
                    self._slip(norm=lambda a: float(np.sum(np.abs(np.asarray(a, float)))))),
            Mistake("ε is missing: it is added to the denominator, ‖∇w‖ + β‖w‖ + ε, and "
                    "matters when the gradient is tiny", self._slip(hyper={"eps": 0.0})),
            Mistake("the trust coefficient η is missing: λ = η‖w‖ / (‖∇w‖ + β‖w‖ + ε)",
                    self._slip(coefficient=False)),
        ]


check_lars_trust_ratio = make_check(LarsTrustRatio())


# =============================================================================================
# AdamW
# =============================================================================================


def _adamw(theta, grad, m, v, t, lr, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.01):
    from ..optimizers import AdamState, adamw_step

    state = AdamState(step=int(t) - 1, exp_avg=floats(m), exp_avg_sq=floats(v))
    new, state = adamw_step(floats(theta), floats(grad), state, lr=lr, betas=(beta1, beta2),
                            eps=eps, weight_decay=weight_decay)
    shape = np.shape(theta)
    return new.reshape(shape), state.exp_avg.reshape(shape), state.exp_avg_sq.reshape(shape)


def _adamw_by_hand(*, decay: str = "before", l2: bool = False, scaled: bool = True,
                   sign: float = 1.0, **adam: Any) -> Callable[..., tuple]:
    """AdamW written out, with one thing changed (``adam``: the Adam slips of section 04)."""
    step = adam_by_hand(**adam)

    def wrong(theta, grad, m, v, t, lr, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.01):
        theta, grad = floats(theta), floats(grad)
        shrink = sign * (lr * weight_decay if scaled else weight_decay)
        g = grad + weight_decay * theta if l2 else grad
        if decay == "before":
            theta = theta - shrink * theta
        new, m_new, v_new = step(theta, g, m, v, t, lr, beta1, beta2, eps)
        if decay == "after":
            new = new - shrink * new
        return new, m_new, v_new

    return wrong


class AdamwStep(StepExercise):
    """``adamw_step(theta, grad, m, v, t, lr, beta1, beta2, eps, weight_decay)``."""

    name = "adamw_step"
    parts = ("theta", "m", "v")
    forbidden = (
        "lrcourse.optimizers.adamw_step",
        "lrcourse.optimizers.adam_step",
        "lrcourse.optimizers.nadam_step",
        "lrcourse.optimizers.Optimizer.step",
        "lrcourse.optimizers._adam_update",
        "lrcourse.optimizers._adamw_update",
        "lrcourse.checks.trends.AdamwStep.reference",
    )

    def reference(self, theta, grad, m, v, t, lr, beta1=0.9, beta2=0.999, eps=1e-8,
                  weight_decay=0.01):
        return _adamw(theta, grad, m, v, t, lr, beta1, beta2, eps, weight_decay)

    def call_args(self, theta, grad, state, k, data):
        return (theta, grad, *state, k + 1, data["lr"]), dict(data.get("hyper", {}))

    def cases(self, seed: int, hidden: bool, **params: Any) -> list[Case]:
        rng = np.random.default_rng(seed)
        z = np.zeros(3)
        cases = [
            Case((np.array([1.0, -2.0, 3.0]), np.zeros(3), z, z, 1, 0.1), {"weight_decay": 0.5},
                 label="theta=[1, -2, 3], a zero gradient, m = v = 0, t=1, lr=0.1, "
                       "weight_decay=0.5 (only the decay acts)"),
            Case((np.array([1.0, -2.0]), np.array([0.5, -1.0]), np.array([0.1, -0.2]),
                  np.array([0.01, 0.04]), 3, 0.1), {"weight_decay": 0.2},
                 label="t=3, theta=[1, -2], grad=[0.5, -1], m=[0.1, -0.2], v=[0.01, 0.04], "
                       "lr=0.1, weight_decay=0.2"),
            Case((rng.normal(size=3), 1e-2 * rng.normal(size=3), 1e-3 * rng.normal(size=3),
                  1e-5 * rng.uniform(size=3), 10, 0.05), {"weight_decay": 0.1},
                 label="t=10, 3 seeded values with gradients about 100 times smaller than "
                       "theta, lr=0.05, weight_decay=0.1"),
            Case(label="3 steps in a row (t = 1, 2, 3) on f = ½(θ₁² + 10 θ₂²) from θ = [1, 1] "
                       "and m = v = 0 (lr=0.1, weight_decay=0.3)",
                 data={"steps": 3, "theta0": [1.0, 1.0], "curvature": [1.0, 10.0],
                       "lr": 0.1, "hyper": {"weight_decay": 0.3}}),
        ]
        if hidden:
            shape = (2, 3, 2)
            cases += [
                Case((np.array(1.5), np.array(-0.3), np.array(0.0), np.array(0.0), 1, 0.5),
                     {"weight_decay": 0.1}, label="0-d arrays, first step"),
                Case((rng.normal(size=shape), rng.normal(size=shape),
                      0.1 * rng.normal(size=shape), 0.1 * rng.uniform(size=shape), 4, 0.01),
                     label="a 3-d parameter, the default weight decay"),
                Case((rng.normal(size=4), rng.normal(size=4), rng.normal(size=4),
                      rng.uniform(size=4), 2, 0.0), {"weight_decay": 0.5}, label="lr = 0"),
                Case((rng.normal(size=3), rng.normal(size=3), rng.normal(size=3),
                      rng.uniform(size=3), 50, 0.02),
                     {"beta1": 0.8, "beta2": 0.99, "eps": 1e-6, "weight_decay": 0.05},
                     label="a later step with other betas and eps"),
                Case(label="a longer run", data={"steps": 10,
                                                 "theta0": rng.normal(size=3).tolist(),
                                                 "curvature": [0.1, 1.0, 30.0], "lr": 0.05,
                                                 "hyper": {"weight_decay": 1.0,
                                                           "beta1": 0.85}}),
            ]
        return cases

    def wrong_rules(self) -> list[tuple[str, Callable[..., tuple]]]:
        return [
            ("you added λ·θ to the gradient, which is Adam's L2 penalty (torch's Adam with "
             "weight_decay): then the decay is divided by √v̂ like the rest of the gradient. "
             "AdamW shrinks θ directly, θ ← θ − lr·λ·θ, and keeps the gradient as it is",
             _adamw_by_hand(decay="none", l2=True)),
            ("the decay is applied twice: once as λ·θ added to the gradient and once directly; "
             "AdamW only shrinks θ directly (θ ← θ − lr·λ·θ)",
             _adamw_by_hand(l2=True)),
            ("the decay is not scaled by the learning rate: AdamW shrinks by lr·λ·θ, so a "
             "schedule that lowers lr lowers the decay too (you used θ − λ·θ)",
             _adamw_by_hand(scaled=False)),
            ("the decay is applied AFTER the Adam step (to the new θ); torch shrinks the OLD θ "
             "first, θ ← θ − lr·λ·θ, then takes the Adam step. The two differ by lr²·λ·step",
             _adamw_by_hand(decay="after")),
            ("the decay is applied after the step and not scaled by lr: shrink the old θ by "
             "lr·λ·θ first, then take the Adam step", _adamw_by_hand(decay="after",
                                                                    scaled=False)),
            ("the decay has the wrong sign: it must shrink θ towards 0, θ ← θ − lr·λ·θ",
             _adamw_by_hand(sign=-1.0)),
            ("the weight decay is missing: θ ← θ − lr·λ·θ before the Adam step",
             _adamw_by_hand(decay="none")),
            ("the decay is right, the Adam step is not: the bias correction is missing "
             "(m̂ = m / (1 − β1^t), v̂ = v / (1 − β2^t))",
             _adamw_by_hand(correct_m=False, correct_v=False)),
            ("ε belongs outside the square root: m̂ / (√v̂ + ε)",
             _adamw_by_hand(eps_inside=True)),
            ("off by one in the step counter: t is the number of THIS step, counting from 1; "
             "the corrections are 1 − β^t", _adamw_by_hand(power=+1)),
            ("the step uses the old m and v: update both moments first, then step",
             _adamw_by_hand(old_moments=True)),
            ("the sign of the Adam step is flipped: you stepped uphill", _flip_step()),
        ]

    def partial_hints(self) -> dict[str, str]:
        return {
            "state": "m and v are right, theta is not: shrink the old θ by lr·λ·θ, then take "
                     "the Adam step θ − lr·m̂/(√v̂ + ε) with the bias-corrected moments",
            "m": "m is wrong (v is right): m ← β1·m + (1 − β1)·g, with the gradient as given "
                 "(no λ·θ inside)",
            "v": "v is wrong (m is right): v ← β2·v + (1 − β2)·g²",
        }

    def judge(self, case: Case, got: Any) -> str | None:
        return first_step_division(case, got) or super().judge(case, got)


def _flip_step() -> Callable[..., tuple]:
    step = adam_by_hand(sign=-1.0)

    def wrong(theta, grad, m, v, t, lr, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.01):
        theta = floats(theta)
        return step(theta - lr * weight_decay * theta, grad, m, v, t, lr, beta1, beta2, eps)

    return wrong


check_adamw_step = make_check(AdamwStep())
