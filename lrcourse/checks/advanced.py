"""Checks for section 08 (advanced topics): learning the rate, searching for it, splitting it.

Four function exercises:

* ``hypergradient_update(lr, grad, prev_grad, hyper_lr)``: one step of hypergradient descent
  on the rate (reference: :func:`lrcourse.tuning.hypergradient_update`);
* ``random_search_lr(f, low, high, n, rng)``: random search over log α with a fixed protocol;
* ``expected_improvement(mean, std, best)``: the acquisition of Bayesian optimisation
  (reference: :func:`lrcourse.tuning.expected_improvement`, ξ = 0);
* ``layer_groups(model, head_lr, body_lr)``: param groups with one rate for the head and one
  for the body, checked by building :class:`lrcourse.optimizers.SGD` and taking a step.
"""

from __future__ import annotations

import copy
import math
from typing import Any

import numpy as np

from ._core import DIFFERS, Case, Exercise, Mistake, Raised, make_check

__all__ = [
    "check_expected_improvement",
    "check_hypergradient_update",
    "check_layer_groups",
    "check_random_search_lr",
]


def _is_number(value: Any) -> bool:
    return (isinstance(value, int | float | np.integer | np.floating)
            and not isinstance(value, bool)) or (isinstance(value, np.ndarray)
                                                 and value.ndim == 0)


# ---------------------------------------------------------------- hypergradient descent


def _dots(grad: list, prev: list) -> list[float]:
    return [float(np.sum(np.asarray(g, float) * np.asarray(p, float)))
            for g, p in zip(grad, prev, strict=True)]


class HypergradientUpdate(Exercise):
    """``hypergradient_update(lr, grad, prev_grad, hyper_lr)``: α_t = α_{t−1} + β g_t·g_{t−1}."""

    name = "hypergradient_update"
    forbidden = ("lrcourse.tuning.hypergradient_update",)

    def cases(self, seed: int, hidden: bool, **params: Any) -> list[Case]:
        rng = np.random.default_rng(seed)
        cases = [
            Case((0.1, [np.array([1.0, 2.0])], [np.array([1.0, 1.0])], 0.01),
                 label="one parameter, grad=[1, 2], prev_grad=[1, 1], lr=0.1, hyper_lr=0.01 "
                       "(gradients agree: the rate grows)"),
            Case((0.1, [np.array([-1.0, 0.5])], [np.array([3.0, 0.0])], 0.01),
                 label="one parameter, grad=[-1, 0.5], prev_grad=[3, 0], lr=0.1, "
                       "hyper_lr=0.01 (a zig-zag: the rate shrinks)"),
        ]
        shapes = [(2, 3), (3,)]
        grad = [rng.normal(size=s) for s in shapes]
        prev = [rng.normal(size=s) for s in shapes]
        cases.append(Case((0.05, grad, prev, 0.02),
                          label="two parameters, a 2x3 matrix and a vector of 3 (seeded), "
                                "lr=0.05, hyper_lr=0.02"))
        if hidden:
            shapes = [(4, 5), (5,), (5, 2), (2,)]
            grad = [rng.normal(size=s) for s in shapes]
            prev = [g + 0.3 * rng.normal(size=g.shape) for g in grad]
            cases += [
                Case((0.01, grad, prev, 1e-3), label="the four parameters of an MLP"),
                Case((0.3, grad, prev, 0.0), label="hyper_lr = 0"),
                Case((0.02, [g for g in grad], [-3.0 * g for g in grad], 0.05),
                     label="a large zig-zag that takes the rate below zero"),
                Case((0.1, [np.array(2.0), np.array([1.0, -1.0])],
                      [np.array(-0.5), np.array([4.0, 1.0])], 0.1),
                     label="a 0-d parameter among others"),
            ]
        return cases

    def expected(self, case: Case) -> float:
        lr, grad, prev, beta = case.args
        return float(lr + beta * sum(_dots(grad, prev)))

    def check_output(self, case: Case, got: Any, want: Any) -> str | None:
        if got is None:
            return "your function returned None: is a `return` statement missing?"
        if isinstance(got, list | tuple) or (isinstance(got, np.ndarray) and got.ndim > 0):
            return ("you returned an array (or a list of them), but the rate is one number. "
                    "The hypergradient is a dot product: multiply g_t and g_{t-1} entry by "
                    "entry and SUM over every entry of every parameter array, then "
                    "lr + hyper_lr * that sum")
        if not _is_number(got):
            return f"expected a number (the new rate), got a value of type {type(got).__name__}"
        return None

    def mistakes(self) -> list[Mistake]:
        def rule(f):
            def out(c: Case) -> float:
                lr, grad, prev, beta = c.args
                return float(f(lr, grad, prev, beta))
            return out

        return [
            Mistake("the sign is flipped: the hypergradient is ∂L/∂α = −g_t·g_{t−1}, so a "
                    "gradient step on α ADDS hyper_lr * (g_t·g_{t−1}). Gradients that agree "
                    "mean the last step was too short: the rate must grow",
                    rule(lambda a, g, p, b: a - b * sum(_dots(g, p)))),
            Mistake("you used the current gradient twice (g_t·g_t = |g_t|²): that is always "
                    "positive, so the rate could only grow. Use the dot product of the "
                    "current gradient with the PREVIOUS one",
                    rule(lambda a, g, p, b: a + b * sum(_dots(g, g)))),
            Mistake("you used the previous gradient twice (g_{t−1}·g_{t−1}); the dot product "
                    "pairs the current gradient with the previous one",
                    rule(lambda a, g, p, b: a + b * sum(_dots(p, p)))),
            Mistake("only the first parameter array entered the dot product: sum g·g_prev "
                    "over EVERY parameter array (the rate is shared by all of them)",
                    rule(lambda a, g, p, b: a + b * _dots(g, p)[0])),
            Mistake("you averaged the products (np.mean) instead of summing them: the "
                    "dot product is a sum over every entry",
                    rule(lambda a, g, p, b: a + b * float(np.mean(np.concatenate(
                        [(np.asarray(x, float) * np.asarray(y, float)).ravel()
                         for x, y in zip(g, p, strict=True)]))))),
            Mistake("you averaged the per-parameter dot products; add them up instead",
                    rule(lambda a, g, p, b: a + b * float(np.mean(_dots(g, p))))),
            Mistake("you returned the change of the rate, hyper_lr * g_t·g_{t−1}, not the new "
                    "rate lr + hyper_lr * g_t·g_{t−1}",
                    rule(lambda a, g, p, b: b * sum(_dots(g, p)))),
            Mistake("that is a multiplicative update, lr * (1 + hyper_lr * g·g_prev); this "
                    "exercise (Baydin et al.'s SGD-HD) is additive: lr + hyper_lr * g·g_prev",
                    rule(lambda a, g, p, b: a * (1 + b * sum(_dots(g, p))))),
            Mistake("you clipped the rate at 0; return lr + hyper_lr * g·g_prev as it is "
                    "(the training loop, train_hypergradient, does the clipping)",
                    rule(lambda a, g, p, b: max(0.0, a + b * sum(_dots(g, p))))),
        ]


check_hypergradient_update = make_check(HypergradientUpdate())


# ---------------------------------------------------------------- random search


def bowl(lr: float) -> float:
    """(log10 lr + 2)²: smallest at lr = 0.01."""
    return (math.log10(lr) + 2.0) ** 2


def edge(lr: float) -> float:
    """log10 of the loss after 30 steps of gradient descent with rate lr on a quadratic with
    curvatures 0.1 and 1, from (1, 1); NaN when the run diverges (lr >= 2)."""
    if lr >= 2.0:
        return math.nan
    loss = sum(0.5 * lam * (1.0 - lr * lam) ** 60 for lam in (0.1, 1.0))
    return math.log10(loss)


def bumpy(lr: float) -> float:
    """A bowl in log lr with ripples: several local minima."""
    u = math.log10(lr)
    return 0.2 * (u + 1.5) ** 2 + 0.3 * math.sin(6.0 * u)


def flat(lr: float) -> float:
    """The same value everywhere: every trial ties."""
    return 1.0


def _reference_search(f, low, high, n, rng, draw=None, better=None):
    """The protocol, with optional slips: ``draw(rng)`` makes a rate, ``better(v, best)``."""
    draw = draw or (lambda r: 10 ** r.uniform(math.log10(low), math.log10(high)))
    better = better or (lambda v, b: v < b)
    best_lr, best_value = math.nan, math.inf
    for _ in range(n):
        lr = float(draw(rng))
        value = float(f(lr))
        if math.isnan(value):
            continue
        if best_lr != best_lr or better(value, best_value):
            best_lr, best_value = lr, value
    return best_lr, best_value


class RandomSearchLr(Exercise):
    """``random_search_lr(f, low, high, n, rng)``: log-uniform draws, one at a time; the best."""

    name = "random_search_lr"
    forbidden = (
        "lrcourse.tuning.random_search",
        "lrcourse.tuning.grid_search",
        "lrcourse.tuning.bayes_search",
        "lrcourse.tuning.search.LogUniform.from_unit",
        "lrcourse.tuning.search.sample_configs",
    )

    def cases(self, seed: int, hidden: bool, **params: Any) -> list[Case]:
        def rng(k: int) -> np.random.Generator:
            return np.random.default_rng(1000 * seed + k)

        cases = [
            Case((bowl, 1e-4, 1.0, 10, rng(0)),
                 label="f(lr) = (log10 lr + 2)^2, low=1e-4, high=1, n=10, "
                       f"rng=np.random.default_rng({1000 * seed})"),
            Case((edge, 1e-3, 10.0, 20, rng(1)),
                 label="f = log10 loss after 30 GD steps on a quadratic (NaN when it diverges, "
                       f"lr >= 2), low=1e-3, high=10, n=20, rng=np.random.default_rng("
                       f"{1000 * seed + 1})"),
        ]
        if hidden:
            cases += [
                Case((bumpy, 1e-5, 10.0, 30, rng(2)), label="a bumpy objective"),
                Case((bowl, 1e-3, 1e-1, 1, rng(3)), label="a single trial"),
                Case((edge, 0.05, 5.0, 25, rng(4)), label="a range where many runs diverge"),
                Case((flat, 1e-4, 1.0, 6, rng(5)), label="an objective where all trials tie"),
                Case((bowl, 2e-6, 3e-2, 50, rng(6)), label="another range and budget"),
            ]
        return cases

    def run(self, fn: Any, case: Case) -> Any:
        """The learner's result, and the rates f was evaluated at (to count the trials)."""
        f, low, high, n, rng = copy.deepcopy(case.args)
        calls: list[float] = []

        def counted(lr: Any) -> Any:
            calls.append(float(lr))
            return f(lr)

        with np.errstate(all="ignore"):
            out = fn(counted, low, high, n, rng)
        return {"result": out, "calls": calls}

    def expected(self, case: Case) -> tuple[float, float]:
        return _reference_search(*copy.deepcopy(case.args))

    def check_output(self, case: Case, got: Any, want: Any) -> str | None:
        if got is None:
            return "your function returned None: is a `return` statement missing?"
        if not isinstance(got, tuple | list) or len(got) != 2:
            return ("return a pair (best_lr, best_value), e.g. `return best_lr, best_value`, "
                    f"got {type(got).__name__}")
        if not all(_is_number(v) for v in got):
            return "both best_lr and best_value must be numbers"
        return None

    def close(self, got: Any, want: Any) -> bool:
        return super().close([float(v) for v in got], list(want))

    def mistakes(self) -> list[Mistake]:
        def slip(**how):
            def out(c: Case) -> tuple[float, float]:
                f, low, high, n, rng = copy.deepcopy(c.args)
                if "n" in how:
                    n = how["n"](n)
                draw = how.get("draw")
                return _reference_search(f, low, high, n, rng,
                                         draw=None if draw is None else draw(low, high),
                                         better=how.get("better"))
            return out

        def swapped(c: Case) -> tuple[float, float]:
            lr, value = self.expected(c)
            return value, lr

        def logged(c: Case) -> tuple[float, float]:
            lr, value = self.expected(c)
            return math.log10(lr), value

        def last(c: Case) -> tuple[float, float]:
            f, low, high, n, rng = copy.deepcopy(c.args)
            lr = math.nan
            for _ in range(n):
                lr = 10 ** rng.uniform(math.log10(low), math.log10(high))
            return lr, f(lr)

        def argmin_with_nan(c: Case) -> tuple[float, float]:
            f, low, high, n, rng = copy.deepcopy(c.args)
            lrs = [10 ** rng.uniform(math.log10(low), math.log10(high)) for _ in range(n)]
            values = [f(lr) for lr in lrs]
            i = int(np.argmin(values))
            if not math.isnan(values[i]):
                raise ValueError("no NaN: the mistake does not apply")
            return lrs[i], values[i]

        return [
            Mistake("your rates are drawn uniformly in α (rng.uniform(low, high)): then almost "
                    "every draw lands in the top decade of the range. Draw the EXPONENT "
                    "uniformly: lr = 10 ** rng.uniform(log10(low), log10(high))",
                    slip(draw=lambda lo, hi: lambda r: r.uniform(lo, hi))),
            Mistake("you kept the LARGEST value of f; the objective is a loss: keep the "
                    "smallest", slip(better=lambda v, b: v > b)),
            Mistake("on ties keep the EARLIEST trial: replace the best only when the new value "
                    "is strictly smaller (<, not <=)", slip(better=lambda v, b: v <= b)),
            Mistake("a failed trial (f returned NaN) was taken as the best: comparisons with "
                    "NaN are always False, and np.argmin/np.min return NaN; skip NaN values "
                    "(math.isnan) when you look for the best", argmin_with_nan),
            Mistake("you returned (best_value, best_lr): return (best_lr, best_value)", swapped),
            Mistake("you returned log10 of the best rate; return the rate itself", logged),
            Mistake("you returned the LAST trial, not the best one", last),
            Mistake("off by one: you ran n - 1 trials; run exactly n",
                    slip(n=lambda n: n - 1)),
            Mistake("off by one: you ran n + 1 trials; run exactly n",
                    slip(n=lambda n: n + 1)),
            Mistake("you mixed two logarithms (10 ** of a natural-log range, or e ** of a "
                    "log10 range): draw u = rng.uniform(log10(low), log10(high)), then 10 ** u",
                    slip(draw=lambda lo, hi: lambda r: 10 ** r.uniform(math.log(lo),
                                                                       math.log(hi)))),
            Mistake("you mixed two logarithms (10 ** of a natural-log range, or e ** of a "
                    "log10 range): draw u = rng.uniform(log10(low), log10(high)), then 10 ** u",
                    slip(draw=lambda lo, hi: lambda r: math.exp(r.uniform(math.log10(lo),
                                                                          math.log10(hi))))),
        ]

    def judge(self, case: Case, got: Any) -> str | None:
        if not isinstance(got, dict) or "result" not in got:
            return super().judge(case, got)
        calls, got = got.get("calls", []), got["result"]
        verdict = super().judge(case, got)
        n = case.args[3]
        trials = len(set(calls))
        if verdict is None and trials != n:
            return (f"the best is right, but f was evaluated at {trials} different rates: "
                    f"the protocol runs exactly n = {n} trials (off by one?)")
        if verdict != DIFFERS:
            return verdict
        f, low, high, n, rng = copy.deepcopy(case.args)
        drawn = [10 ** rng.uniform(math.log10(low), math.log10(high)) for _ in range(n)]
        lr, value = float(got[0]), float(got[1])
        if not any(abs(lr - d) <= 1e-9 * d for d in drawn):
            return ("your best_lr is not one of the rates the protocol draws. Use the rng you "
                    "are given (no new np.random.default_rng, no np.random.*), and make exactly "
                    "one call rng.uniform(log10(low), log10(high)) per trial, in order")
        if not (value == f(lr) or abs(value - f(lr)) <= 1e-9 * abs(f(lr))):
            return "best_value must be f(best_lr), the objective at the rate you return"
        return "that is one of the drawn rates, but not the one with the smallest f"


check_random_search_lr = make_check(RandomSearchLr())


# ---------------------------------------------------------------- expected improvement


def _cdf(z: Any) -> Any:
    erf = np.vectorize(math.erf, otypes=[float])
    return 0.5 * (1.0 + erf(np.asarray(z, float) / math.sqrt(2.0)))


def _pdf(z: Any) -> Any:
    return np.exp(-0.5 * np.asarray(z, float) ** 2) / math.sqrt(2.0 * math.pi)


def _ei(mean, std, best, *, sign=1.0, cdf=_cdf, pdf=_pdf, first=True, second=True,
        power=1, zero_std="max"):
    """EI and its usual slips (``sign=-1``: maximisation; ``power=2``: variance for std)."""
    mu, sd = np.broadcast_arrays(np.asarray(mean, float), np.asarray(std, float))
    scale = sd ** power
    imp = sign * (best - mu)
    with np.errstate(all="ignore"):
        z = imp / scale
        value = (imp * cdf(z) if first else 0.0) + (scale * pdf(z) if second else 0.0)
    if zero_std == "max":
        value = np.where(sd > 0, value, np.maximum(imp, 0.0))
    elif zero_std == "raw":
        value = np.where(sd > 0, value, imp)
    out = np.asarray(value, dtype=float)
    return float(out) if out.ndim == 0 else out


class ExpectedImprovement(Exercise):
    """``expected_improvement(mean, std, best)``: EI for minimisation, elementwise."""

    name = "expected_improvement"
    forbidden = ("lrcourse.tuning.expected_improvement",)
    rtol = 1e-7
    atol = 1e-12

    def cases(self, seed: int, hidden: bool, **params: Any) -> list[Case]:
        rng = np.random.default_rng(seed)
        cases = [
            Case((0.0, 1.0, 0.0), label="mean=0, std=1, best=0 (numbers)"),
            Case((np.array([-1.0, 0.0, 1.0, 2.0]), np.array([0.5, 1.0, 0.5, 1.0]), 0.0),
                 label="mean=[-1, 0, 1, 2], std=[0.5, 1, 0.5, 1], best=0"),
            Case((np.array([-1.0, 0.0, 0.5, 0.2]), np.array([0.0, 0.0, 0.0, 0.3]), 0.0),
                 label="mean=[-1, 0, 0.5, 0.2], std=[0, 0, 0, 0.3], best=0 (std = 0 where "
                       "the GP has seen the point)"),
        ]
        if hidden:
            mean, std = rng.normal(size=(3, 4)), rng.uniform(0.05, 2.0, size=(3, 4))
            cases += [
                Case((mean, std, float(rng.normal())), label="a 3x4 array (another seed)"),
                Case((np.array([5.0, 8.0, 40.0]), np.array([0.1, 0.2, 0.5]), 0.0),
                     label="means far above the best, small std"),
                Case((np.array([-3.0, 2.0]), np.zeros(2), -1.0), label="std = 0 everywhere"),
                Case((np.array([0.3, -0.2]), np.array([10.0, 3.0]), 0.1), label="a large std"),
                Case((1.5, 0.0, 1.5), label="numbers, std = 0 and mean = best"),
            ]
        return cases

    def run(self, fn: Any, case: Case) -> Any:
        with np.errstate(all="ignore"):
            return super().run(fn, case)

    def expected(self, case: Case) -> Any:
        from ..tuning import expected_improvement

        mean, std, best = case.args
        return expected_improvement(mean, std, best)

    def judge(self, case: Case, got: Any) -> str | None:
        if isinstance(got, Raised) and got.type_name == "TypeError" and (
                "length-1" in got.message or "0-dimensional" in got.message
                or "must be real number" in got.message):
            return (f"your function raised {got}. math.erf takes one number at a time: use "
                    "normal_cdf from the cell above (it is vectorised), or np.vectorize")
        return super().judge(case, got)

    def check_output(self, case: Case, got: Any, want: Any) -> str | None:
        problem = super().check_output(case, got, want)
        if problem is not None:
            return problem
        g = np.asarray(got, dtype=float)
        std = np.broadcast_to(np.asarray(case.args[1], float), np.shape(want))
        if np.any(np.isnan(g)):
            if np.all(std[np.isnan(g)] == 0):
                return ("NaN where std = 0: z = (best − mean) / std is 0/0 there. Where "
                        "std = 0 the GP is certain, so EI = max(best − mean, 0): handle those "
                        "entries separately (np.where, dividing by np.where(std > 0, std, 1))")
            return "your result contains NaN"
        return None

    def mistakes(self) -> list[Mistake]:
        def of(**how):
            return lambda c: _ei(*c.args, **how)

        return [
            Mistake("the sign is for maximisation: we MINIMISE a loss, so the improvement is "
                    "best − mean (a point predicted below the best is promising)",
                    of(sign=-1.0)),
            Mistake("the exploration term std * φ(z) is missing: EI = (best − mean) Φ(z) + "
                    "std φ(z)", of(second=False)),
            Mistake("the exploitation term (best − mean) Φ(z) is missing: EI = (best − mean) "
                    "Φ(z) + std φ(z)", of(first=False)),
            Mistake("Φ and φ are swapped: the CDF Φ multiplies the improvement, the density φ "
                    "multiplies the std", of(cdf=_pdf, pdf=_cdf)),
            Mistake("you used the variance std² where the standard deviation belongs (in z and "
                    "in the second term)", of(power=2)),
            Mistake("the normal CDF is Φ(z) = ½ (1 + erf(z / √2)): the √2 is missing",
                    of(cdf=lambda z: 0.5 * (1.0 + np.vectorize(math.erf, otypes=[float])(z)))),
            Mistake("where std = 0, EI is max(best − mean, 0): an improvement cannot be "
                    "negative, so a certain point above the best has EI 0",
                    of(zero_std="raw")),
        ]


check_expected_improvement = make_check(ExpectedImprovement())


# ---------------------------------------------------------------- differential rates

DEFAULT_LR = 0.0123  # the optimizer's default in the check: a group without "lr" gets this


def _param_names(n: int) -> list[str]:
    return [f"{'W' if i % 2 == 0 else 'b'}{i // 2 + 1}" for i in range(n)]


def _grads(sizes: list[int], seed: int) -> list[np.ndarray]:
    from ..nn import MLP

    rng = np.random.default_rng(seed + 17)
    return [rng.normal(size=p.shape) for p in MLP(sizes, seed=seed).params]


class LayerGroups(Exercise):
    """``layer_groups(model, head_lr, body_lr)``: two param groups, head and body."""

    name = "layer_groups"
    what = "groups"  # the report shows the diagnosis, not two dicts of arrays
    forbidden = ("lrcourse.widgets.advanced.head_body_groups",)

    def cases(self, seed: int, hidden: bool, **params: Any) -> list[Case]:
        cases = [
            Case(([4, 8, 3], seed, 0.1, 0.01),
                 label="MLP([4, 8, 3]), head_lr=0.1, body_lr=0.01"),
            Case(([4, 8, 8, 3], seed + 1, 0.5, 0.0),
                 label="MLP([4, 8, 8, 3]), head_lr=0.5, body_lr=0 (a frozen body)"),
        ]
        if hidden:
            cases += [
                Case(([6, 5, 4, 3, 2], seed + 2, 0.3, 0.003), label="a deeper network"),
                Case(([3, 2], seed + 3, 0.2, 0.05), label="a network with no hidden layer"),
                Case(([5, 7, 2], seed + 4, 0.04, 0.04), label="equal rates"),
            ]
        return cases

    def run(self, fn: Any, case: Case) -> Any:
        from ..nn import MLP
        from ..optimizers import SGD

        sizes, seed, head_lr, body_lr = case.args
        model = MLP(sizes, seed=seed)
        groups = fn(model, head_lr, body_lr)
        if not isinstance(groups, list | tuple) or not all(
                isinstance(g, dict) and "params" in g for g in groups):
            return {"problem": "return a list of dicts, each with a 'params' entry (a list of "
                               "the model's arrays) and an 'lr' entry, e.g. "
                               "[{'params': [...], 'lr': body_lr}, {'params': [...], "
                               "'lr': head_lr}]"}
        index = {id(p): i for i, p in enumerate(model.params)}
        described = []
        for g in groups:
            params = g["params"]
            params = [params] if isinstance(params, np.ndarray) else list(params)
            lr = g.get("lr")
            described.append([[index.get(id(p), -1) for p in params],
                              None if lr is None else float(lr)])
        optimizer = SGD(list(groups), lr=DEFAULT_LR)
        grads = _grads(sizes, seed)
        flat = [p for g in optimizer.param_groups for p in g["params"]]
        optimizer.step([grads[index[id(p)]] if id(p) in index else np.zeros_like(p)
                        for p in flat])
        return {"groups": described, "after": [p.copy() for p in model.params]}

    def rates(self, case: Case) -> list[float]:
        sizes, _, head_lr, body_lr = case.args
        n = 2 * (len(sizes) - 1)
        return [head_lr if i >= n - 2 else body_lr for i in range(n)]

    def expected(self, case: Case) -> list[np.ndarray]:
        from ..nn import MLP

        sizes, seed, _, _ = case.args
        start = MLP(sizes, seed=seed).params
        return [p - lr * g for p, lr, g in zip(start, self.rates(case), _grads(sizes, seed),
                                               strict=True)]

    def judge(self, case: Case, got: Any) -> str | None:
        if isinstance(got, Raised):
            if "appears twice" in got.message:
                return ("a parameter appears in two groups (or twice in one); each array "
                        f"belongs to exactly one group ({got})")
            return super().judge(case, got)
        if not isinstance(got, dict):
            return "expected a list of param-group dicts"
        if "problem" in got:
            return str(got["problem"])
        groups, after = got.get("groups", []), got.get("after", [])
        names = _param_names(len(self.rates(case)))
        if any(i < 0 for ids, _ in groups for i in ids):
            return ("your groups hold arrays that are not the model's own parameters (copies, "
                    "e.g. from get_params() or np.array(p)): the optimizer would update the "
                    "copies and the model would never change. Put model.params[i] itself "
                    "in the groups")
        if self.close(list(after), self.expected(case)):
            return None
        if any(lr is None for _, lr in groups):
            return ("a group has no 'lr' entry, so it falls back to the optimizer's default "
                    "rate: give every group its own 'lr'")
        want = self.rates(case)
        used: list[float] = [0.0] * len(want)
        for ids, lr in groups:
            for i in ids:
                used[i] = float(lr)
        n = len(want)
        head_lr, body_lr = case.args[2], case.args[3]
        if n > 2 and all(used[i] == body_lr for i in range(n - 2, n)) and all(
                used[i] == head_lr for i in range(n - 2)):
            return ("head and body are swapped: the head (the LAST layer, "
                    f"{names[-2]} and {names[-1]}) gets head_lr; every other array gets "
                    "body_lr")
        if used[-2] != used[-1]:
            return (f"the head is the whole last layer: its weights {names[-2]} AND its bias "
                    f"{names[-1]} both get head_lr")
        if n > 2 and head_lr != body_lr and all(u == head_lr for u in used):
            return "every array moved with head_lr: the body must get body_lr"
        if n > 2 and used[-4] == head_lr and head_lr != body_lr:
            return (f"the head is only the last layer ({names[-2]}, {names[-1]}); "
                    f"{names[-4]} and {names[-3]} belong to the body")
        for i, (u, w) in enumerate(zip(used, want, strict=True)):
            if u != w:
                if u == 0.0 and not any(i in ids for ids, _ in groups):
                    return (f"{names[i]} is in no group, so it never moves; it should move "
                            f"with rate {w:g}")
                return f"{names[i]} moved with rate {u:g}; it should move with rate {w:g}"
        return "the step differs from the reference"


check_layer_groups = make_check(LayerGroups())
