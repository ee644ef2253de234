"""Checks for section 06 (challenges): initialisation, batch size, speed against stability.

Besides the checks, this module holds the two measurements that section 06 and its judge
share, so that the notebook's figures and the grader measure the same thing:

- :func:`batch_problem`, the least-squares problem whose rows differ in size;
- :func:`sweep_seeds`, mini-batch SGD for many rates *and* many seeds as one computation
  (run ``s`` equals ``lrcourse.sweeps.sweep_sgd(..., seed=seeds[s])``), and
  :func:`stability_edge`, the rate at which half of the seeds diverge.

(The notebook imports them through ``lrcourse.widgets.challenges``.)
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from .._validate import check_int, check_positive
from ..problems import LinearRegressionLoss, linear_regression
from ..sweeps import SweepResult, minibatches
from ..train import DIVERGENCE_FACTOR, DIVERGENCE_FLOOR, has_diverged
from ._core import (
    DIFFERS,
    Case,
    Exercise,
    Mistake,
    Raised,
    ValueExercise,
    make_check,
    read_rate,
)

__all__ = ["check_alpha_edge", "check_he_init", "check_scaled_lr", "check_xavier_init"]

# ------------------------------------------------------------------ measurements


def batch_problem(
    d: int = 16, seed: int = 0, n: int = 512, spread: float = 0.3, noise: float = 0.5
) -> LinearRegressionLoss:
    """Least squares on samples of unequal size, the problem of section 06's batch-size parts.

    z_i ~ N(0, I_d),  y_i' = w·z_i + noise·ε_i   (``linear_regression(n, d, noise, seed)``)
    log s_i ~ N(0, spread²)                          (``np.random.default_rng(seed + 1000)``)
    x_i = s_i z_i,  y_i = s_i y_i'

    Scaling a row and its target together keeps the true weights w, but, as in real data,
    some samples weigh more than others: that makes single runs near the edge of
    stability differ from seed to seed.

    Args:
        d: features, >= 1.
        seed: the seed of the data.
        n: samples, >= 1.
        spread: the standard deviation of log s_i, >= 0.
        noise: the noise on the targets, >= 0.

    Returns:
        A ``LinearRegressionLoss`` (its ``A`` is the Hessian, ``minimum`` the least-squares
        weights).

    Example:
        >>> loss = batch_problem(d=16, seed=0)
        >>> print(loss.X.shape, round(loss.lam_max, 2), round(float(np.trace(loss.A)), 1))
        (512, 16) 1.74 18.8
    """
    data = linear_regression(n=n, d=d, noise=noise, seed=seed)
    scale = np.exp(spread * np.random.default_rng(seed + 1000).standard_normal(n))
    return LinearRegressionLoss(data.X * scale[:, None], data.y * scale)


def sweep_seeds(
    loss: LinearRegressionLoss,
    lrs: Any,
    steps: int,
    batch_size: int | None,
    seeds: Sequence[int],
    divergence_factor: float = DIVERGENCE_FACTOR,
    divergence_floor: float = DIVERGENCE_FLOOR,
) -> SweepResult:
    """Mini-batch SGD on a least-squares loss for every (seed, rate) pair, as one computation.

    Run ``(s, j)`` is ``lrcourse.sweeps.sweep_sgd(loss, lrs[j], steps, batch_size,
    seed=seeds[s])``: it starts at ``loss.x0`` (zeros), draws its batches with
    ``np.random.default_rng(seeds[s]).choice(n, batch_size, replace=False)`` at every step,
    and is frozen when it diverges. Because the loss is quadratic, a batch only enters
    through its Hessian and its gradient at the minimiser w*::

        e = w - w*,   g_B(w) = H_B e + g_B(w*),   H_B = X_Bᵀ X_B / B
        L(w) = L(w*) + ½ eᵀ A e = L(w*) + ½ Σ_i λ_i (q_iᵀ e)²

    so all S x R runs cost a few (S, R, d) x (S, d, d) products per step. The runs are
    computed in the eigenbasis (q_i) of A, where the loss is a weighted sum of squares.

    Args:
        loss: a ``LinearRegressionLoss`` with a unique minimiser.
        lrs: the rates, a 1-D array (>= 0).
        steps: updates per run (>= 0).
        batch_size: rows per batch (1 .. n), or None for the full batch.
        seeds: the seeds of the batch sequences.
        divergence_factor, divergence_floor: the explosion rule of ``lrcourse.train``.

    Returns:
        A ``SweepResult`` over the grid (seeds, rates): ``loss`` has shape
        ``(S, R, steps + 1)``, ``diverged_at`` shape ``(S, R)``; ``loss_min`` is L(w*).
        Turns of direction are not recorded (``reversals`` is all False): gradient noise
        turns SGD around all the time, so ``regime()`` does not apply to these runs.

    Example:
        >>> loss = batch_problem()
        >>> runs = sweep_seeds(loss, lrs=[0.1, 0.3, 3.0], steps=100, batch_size=8, seeds=[0, 1])
        >>> print(runs.loss.shape, runs.diverged_at.tolist())
        (2, 3, 101) [[-1, -1, 4], [-1, -1, 4]]
    """
    if not isinstance(loss, LinearRegressionLoss) or loss.minimum is None:
        raise TypeError(
            f"loss must be a LinearRegressionLoss with a unique minimiser, got loss={loss!r}"
        )
    rates = np.asarray(lrs, dtype=float)
    if rates.ndim != 1 or not np.all(np.isfinite(rates)) or np.any(rates < 0):
        raise ValueError(f"lrs must be a 1-D array of finite numbers >= 0, got lrs={lrs!r}")
    steps = check_int(steps, "steps", minimum=0)
    seeds = [check_int(s, "seeds[i]") for s in seeds]
    if not seeds:
        raise ValueError("seeds must hold at least one seed, got seeds=[]")
    X, y = loss.X, loss.y
    n, d = X.shape
    drawn = [minibatches(n, batch_size, steps, seed) for seed in seeds]  # those of sweep_sgd
    full = drawn[0] is None
    if not full:
        batch_size = drawn[0].shape[1]
        batches = np.stack(drawn, axis=1)  # (steps, S, batch)

    S, R = len(seeds), rates.size
    w_star = loss.minimum
    loss_star = float(loss.loss(w_star))
    lam, Q = np.linalg.eigh(loss.A)
    X = X @ Q  # rotate the data: e, H_B and the gradients below live in the eigenbasis
    residual_star = X @ (Q.T @ w_star) - y  # each sample's residual at w*
    half_lam = 0.5 * lam
    e0 = np.broadcast_to((loss.x0 - w_star) @ Q, (S, R, d))
    e = e0.copy()
    alpha = np.broadcast_to(rates, (S, R)).copy()
    a = alpha[..., None]  # a view: freezing a run zeroes its rate
    history = np.full((steps + 1, S, R), np.nan)
    diverged_at = np.full((S, R), -1)
    best = np.full((S, R), np.inf)
    alive, all_alive = np.ones((S, R), dtype=bool), True
    with np.errstate(all="ignore"):
        for k in range(steps + 1):
            f = loss_star + (e * e) @ half_lam
            dead = has_diverged(f, best, divergence_factor, divergence_floor)
            if not all_alive:
                dead &= alive
            history[k] = f if all_alive else np.where(alive, f, np.nan)
            if dead.any():
                diverged_at[dead] = k
                alive &= ~dead
                all_alive = False
                alpha[dead] = 0.0
                e[dead] = e0[dead]
            np.fmin(best, f, out=best)
            if k == steps or not alive.any():
                break
            if full:
                g = e * lam + residual_star @ X / n
            else:
                Xb = X[batches[k]]  # (S, B, d)
                H = np.matmul(Xb.transpose(0, 2, 1), Xb) / batch_size
                g_star = np.einsum("sbd,sb->sd", Xb, residual_star[batches[k]]) / batch_size
                g = np.matmul(e, H) + g_star[:, None, :]
            e -= np.multiply(a, g, out=g)
    return SweepResult(
        lrs=np.broadcast_to(rates, (S, R)).copy(),
        momentum=np.zeros((S, R)),
        loss=history.transpose(1, 2, 0),
        diverged_at=diverged_at,
        path=None,
        reversals=np.zeros((S, R, max(steps - 1, 0)), dtype=bool),  # not recorded
        loss_min=loss_star,
    )


def stability_edge(result: SweepResult) -> float:
    """The rate at which half of the seeds diverge: the median, over seeds, of the smallest
    rate whose run diverged (``inf`` for a seed none of whose runs diverged).

    Args:
        result: a sweep over (seeds, rates), e.g. from :func:`sweep_seeds`.

    Returns:
        The edge, a float (``inf`` when most seeds never diverged).

    Example:
        >>> runs = sweep_seeds(batch_problem(), np.geomspace(0.1, 3, 30), 200, 8, range(8))
        >>> print(round(stability_edge(runs), 2))
        0.52
    """
    first = np.where(result.diverged_at >= 0, result.lrs, np.inf).min(axis=-1)
    return float(np.median(first))


def edge_estimate(loss: LinearRegressionLoss, batch_size: float) -> float:
    """The model of the stability edge of minibatch SGD on least squares (section 06).

    α_max(B) ≈ 2 / (λ_max + tr(H) / B),   H = ``loss.A``

    A one-step, mean-square argument: a batch of B samples adds curvature of about
    tr(H) / B to the stiffest direction. Proportional to B below the critical batch size
    tr(H) / λ_max, close to the full-batch limit 2 / λ_max above it.

    Args:
        loss: a ``LinearRegressionLoss``.
        batch_size: B >= 1.

    Returns:
        The estimated largest stable rate.

    Example:
        >>> loss = batch_problem()
        >>> print(round(edge_estimate(loss, 1), 3), round(edge_estimate(loss, 512), 3))
        0.097 1.126
    """
    check_positive(batch_size, "batch_size")
    return 2.0 / (loss.lam_max + float(np.trace(loss.A)) / batch_size)


# ------------------------------------------------------------------ initialisation


def _draws(case: Case) -> np.ndarray:
    """The standard normal numbers the exercise asks for: one call, shape (fan_in, fan_out)."""
    fan_in, fan_out = case.args[:2]
    return np.random.default_rng(case.data["seed"]).standard_normal((fan_in, fan_out))


class _InitExercise(Exercise):
    """``<init>(fan_in, fan_out, rng)``: W = σ · rng.standard_normal((fan_in, fan_out)).

    Judged exactly (the text fixes the draws) and, when the numbers differ, statistically:
    the sample variance and the shape of the distribution name the mistake.
    """

    forbidden = ("lrcourse.nn.xavier_init", "lrcourse.nn.he_init", "lrcourse.nn.naive_init")
    formula = ""

    def variance(self, fan_in: int, fan_out: int) -> float:
        raise NotImplementedError

    def wrong_variances(self) -> list[tuple[str, Any]]:
        """(diagnosis, variance(fan_in, fan_out)) of the usual slips."""
        raise NotImplementedError

    def cases(self, seed: int, hidden: bool, **params: Any) -> list[Case]:
        shapes = [(250, 80), (2, 3), (50, 400)]  # no two usual slips give equal variances
        seeds = [seed, seed + 1, seed + 2]
        if hidden:
            shapes = [(1000, 40), (40, 1000), (1, 1), (64, 64), (7, 500)]
            seeds = [seed * 7 + 11 + i for i in range(len(shapes))]
        cases = []
        for (fan_in, fan_out), s in zip(shapes, seeds, strict=True):
            label = (f"fan_in={fan_in}, fan_out={fan_out}, rng=np.random.default_rng({s})"
                     if not hidden else "another shape and seed")
            cases.append(Case((fan_in, fan_out, np.random.default_rng(s)), label=label,
                              data={"seed": s}))
        return cases

    def expected(self, case: Case) -> np.ndarray:
        fan_in, fan_out = case.args[:2]
        return math.sqrt(self.variance(fan_in, fan_out)) * _draws(case)

    def check_output(self, case: Case, got: Any, want: Any) -> str | None:
        if got is None:
            return "your function returned None: is a `return` statement missing?"
        try:
            arr = np.asarray(got, dtype=float)
        except (TypeError, ValueError):
            return f"expected an array of weights, got a value of type {type(got).__name__}"
        fan_in, fan_out = case.args[:2]
        if arr.shape == want.shape:
            return None
        if arr.shape == (fan_out, fan_in):
            return (f"W has shape {arr.shape}, the transpose of what is asked: the course's "
                    f"layers compute h @ W, so W has one row per input, shape (fan_in, "
                    f"fan_out) = {want.shape}")
        return f"expected W of shape (fan_in, fan_out) = {want.shape}, got shape {arr.shape}"

    def mistakes(self) -> list[Mistake]:
        def scaled(variance):
            def out(c: Case) -> np.ndarray:
                return math.sqrt(variance(*c.args[:2])) * _draws(c)
            return out

        def std_as_variance(c: Case) -> np.ndarray:
            return self.variance(*c.args[:2]) * _draws(c)

        return [Mistake(message, scaled(v)) for message, v in self.wrong_variances()] + [
            Mistake(f"you scaled by the variance {self.formula} itself; the standard deviation "
                    "is its square root: W = sqrt(variance) * rng.standard_normal(...)",
                    std_as_variance),
        ]

    def judge(self, case: Case, got: Any) -> str | None:
        verdict = super().judge(case, got)
        if verdict != DIFFERS:
            return verdict
        return self._statistics(case, np.asarray(got, dtype=float)) or verdict

    def _statistics(self, case: Case, W: np.ndarray) -> str | None:
        """Name the mistake from the weights' statistics (large layers only)."""
        fan_in, fan_out = case.args[:2]
        if W.size < 10_000:
            return None
        if not np.all(np.isfinite(W)):
            return "some of your weights are not finite"
        target = self.variance(fan_in, fan_out)
        mean, var = float(W.mean()), float(W.var())
        if abs(mean) > 6 * math.sqrt(target / W.size) + 1e-12:
            return (f"the weights average {mean:.3g}, far from 0: draw them centred, "
                    "N(0, σ²), so that a layer does not shift its outputs")
        ratio = var / target
        if abs(ratio - 1) < 0.08:
            kurtosis = float(np.mean((W - mean) ** 4) / var**2)
            if kurtosis < 2.4:
                return (f"the variance is right ({self.formula}) but the weights look "
                        "uniformly distributed (no tails): this exercise asks for the normal "
                        "form, sigma * rng.standard_normal((fan_in, fan_out))")
            return (f"the variance is right ({self.formula}), but the numbers are not the ones "
                    "asked for: draw all weights in one call, "
                    "rng.standard_normal((fan_in, fan_out)), from the rng you were given "
                    "(not np.random, not a transposed (fan_out, fan_in) draw), then scale")
        for message, variance in self.wrong_variances():
            if abs(var / variance(fan_in, fan_out) - 1) < 0.08:
                return message
        return (f"the sample variance of your weights is {ratio:.3g} times the target "
                f"{self.formula} = {target:.3g}")


class XavierInit(_InitExercise):
    """``xavier_init(fan_in, fan_out, rng)``: Var W = 2 / (fan_in + fan_out), normal form."""

    name = "xavier_init"
    formula = "2 / (fan_in + fan_out)"

    def variance(self, fan_in: int, fan_out: int) -> float:
        return 2.0 / (fan_in + fan_out)

    def wrong_variances(self) -> list[tuple[str, Any]]:
        return [
            ("1 / fan_in keeps the forward signal only (that is LeCun's choice); Xavier "
             "averages the forward and the backward condition: Var = 2 / (fan_in + fan_out)",
             lambda i, o: 1.0 / i),
            ("1 / fan_out keeps the backward signal only; Xavier averages the forward and the "
             "backward condition: Var = 2 / (fan_in + fan_out)", lambda i, o: 1.0 / o),
            ("the factor 2 is missing: the average of 1/fan_in and 1/fan_out is close to "
             "2 / (fan_in + fan_out), not 1 / (fan_in + fan_out)", lambda i, o: 1.0 / (i + o)),
            ("2 / fan_in is He's variance, made for ReLU layers; Xavier's is "
             "2 / (fan_in + fan_out)", lambda i, o: 2.0 / i),
            ("sqrt(6 / (fan_in + fan_out)) is the bound a of the uniform version U(-a, a), "
             "whose variance is a²/3; the normal form has standard deviation "
             "sqrt(2 / (fan_in + fan_out))", lambda i, o: 6.0 / (i + o)),
            ("the fraction is upside down: the variance shrinks as layers get wider, "
             "2 / (fan_in + fan_out)", lambda i, o: (i + o) / 2.0),
        ]


class HeInit(_InitExercise):
    """``he_init(fan_in, fan_out, rng)``: Var W = 2 / fan_in, normal form."""

    name = "he_init"
    formula = "2 / fan_in"

    def variance(self, fan_in: int, fan_out: int) -> float:
        return 2.0 / fan_in

    def wrong_variances(self) -> list[tuple[str, Any]]:
        return [
            ("the factor 2 is missing: a ReLU sets about half of its inputs to zero, which "
             "halves the mean square of the signal; He doubles the variance to make up for "
             "it: 2 / fan_in", lambda i, o: 1.0 / i),
            ("fan_out instead of fan_in: 2 / fan_out keeps the backward signal (torch's "
             "mode='fan_out'); this exercise, like torch's default, uses fan_in",
             lambda i, o: 2.0 / o),
            ("2 / (fan_in + fan_out) is Xavier's variance; He's, for ReLU layers, is "
             "2 / fan_in", lambda i, o: 2.0 / (i + o)),
            ("sqrt(6 / fan_in) is the bound a of the uniform version U(-a, a), whose variance "
             "is a²/3; the normal form has standard deviation sqrt(2 / fan_in)",
             lambda i, o: 6.0 / i),
            ("the fraction is upside down: the variance shrinks as the layer gets wider, "
             "2 / fan_in", lambda i, o: i / 2.0),
        ]


check_xavier_init = make_check(XavierInit())
check_he_init = make_check(HeInit())

# ------------------------------------------------------------------ scaling rules

RULES = ("linear", "sqrt")


def _scaled(base_lr: float, base_batch: float, batch: Any, rule: str) -> Any:
    ratio = np.asarray(batch, dtype=float) / base_batch
    return base_lr * (ratio if rule == "linear" else np.sqrt(ratio))


class ScaledLr(Exercise):
    """``scaled_lr(base_lr, base_batch, batch, rule)``: the linear and square-root rules."""

    name = "scaled_lr"

    def cases(self, seed: int, hidden: bool, **params: Any) -> list[Case]:
        cases = [
            Case((0.1, 256, 1024, "linear"), label="base_lr=0.1, base_batch=256, batch=1024, "
                 "rule='linear'"),
            Case((0.1, 256, 1024, "sqrt"), label="base_lr=0.1, base_batch=256, batch=1024, "
                 "rule='sqrt'"),
            Case((0.05, 32, 8, "linear"), label="base_lr=0.05, base_batch=32, batch=8, "
                 "rule='linear' (a smaller batch)"),
            Case((0.05, 32, 8, "sqrt"), label="base_lr=0.05, base_batch=32, batch=8, "
                 "rule='sqrt' (a smaller batch)"),
            Case((0.2, 64, np.array([16, 64, 256]), "linear"),
                 label="batch as an array [16, 64, 256], base_batch=64, rule='linear'"),
        ]
        if hidden:
            rng = np.random.default_rng(seed)
            base = float(10 ** rng.uniform(-3, -1))
            cases += [
                Case((base, 100, 30, "linear"), label="a batch that does not divide evenly"),
                Case((base, 100, 30, "sqrt"), label="a batch that does not divide evenly"),
                Case((base, 128, 128, "sqrt"), label="the same batch size"),
                Case((base, 3, np.array([1, 2, 3, 300]), "sqrt"), label="an array of batches"),
                Case((base, 32, 64, "cubic"), label="an unknown rule", data={"raises": True}),
            ]
        return cases

    def expected(self, case: Case) -> Any:
        if case.data.get("raises"):
            return Raised("ValueError", "")
        value = _scaled(*case.args)
        return float(value) if np.ndim(value) == 0 else value

    def judge(self, case: Case, got: Any) -> str | None:
        if not case.data.get("raises"):
            return super().judge(case, got)
        if isinstance(got, Raised) and got.type_name == "ValueError":
            return None
        what = f"raised {got}" if isinstance(got, Raised) else f"returned {got!r}"
        return (f"for rule={case.args[3]!r} your function {what}; raise ValueError naming the "
                "rule instead, so that a typo does not silently pick a rule")

    def mistakes(self) -> list[Mistake]:
        def out(f):
            def wrong(c: Case) -> Any:
                base_lr, base_batch, batch, rule = c.args
                if rule not in RULES:
                    raise ValueError(rule)
                value = f(base_lr, base_batch, np.asarray(batch, dtype=float), rule)
                return float(value) if np.ndim(value) == 0 else value
            return wrong

        return [
            Mistake("the batch ratio is upside down: a larger batch averages away noise and "
                    "gets the larger rate, ratio = batch / base_batch",
                    out(lambda a, b0, b, r: _scaled(a, 1.0 / b0, 1.0 / b, r))),
            Mistake("the two rules are swapped: 'linear' multiplies by the ratio, 'sqrt' by "
                    "its square root", out(lambda a, b0, b, r: _scaled(
                        a, b0, b, "sqrt" if r == "linear" else "linear"))),
            Mistake("only the batch ratio goes under the square root, not the base rate",
                    out(lambda a, b0, b, r: np.sqrt(a * b / b0) if r == "sqrt" else a * b / b0)),
            Mistake("integer division: batch // base_batch drops the fraction; use "
                    "batch / base_batch", out(lambda a, b0, b, r: _scaled(a, 1.0, b // b0, r))),
            Mistake("the rate was scaled by the square of the ratio; the square-root rule uses "
                    "its square root", out(lambda a, b0, b, r: a * (b / b0) ** 2
                                           if r == "sqrt" else a * b / b0)),
        ]


check_scaled_lr = make_check(ScaledLr())

# ------------------------------------------------------------------ the measured edge

EDGE_STEPS = 200
EDGE_SEEDS = 16
EDGE_TOLERANCE = 1.3


@functools.lru_cache(maxsize=16)
def measured_edge(d: int, problem_seed: int, batch: int, first_seed: int,
                  seeds: int = EDGE_SEEDS, steps: int = EDGE_STEPS) -> float:
    """The edge of ``batch_problem(d, problem_seed)`` at a batch size, on a fine grid.

    The grid (40 rates per decade) spans a factor 2 either side of the model's estimate
    (:func:`edge_estimate`), widened to 8 should the edge fall outside it.
    """
    loss = batch_problem(d=d, seed=problem_seed)
    guess = edge_estimate(loss, batch)
    for width in (2.0, 8.0):
        lrs = 10 ** np.arange(math.log10(guess / width), math.log10(guess * width), 0.025)
        runs = sweep_seeds(loss, lrs, steps, batch, range(first_seed, first_seed + seeds))
        edge = stability_edge(runs)
        if lrs[0] < edge < lrs[-1]:
            break
    return edge


def diverged_fraction(d: int, problem_seed: int, batch: int, first_seed: int, lr: float,
                      seeds: int = EDGE_SEEDS, steps: int = EDGE_STEPS) -> float:
    """The fraction of seeds whose run at ``lr`` diverges within ``steps``."""
    loss = batch_problem(d=d, seed=problem_seed)
    runs = sweep_seeds(loss, [lr], steps, batch, range(first_seed, first_seed + seeds))
    return float(np.mean(runs.diverged_at >= 0))


class AlphaEdge(ValueExercise):
    """Predict the largest stable rate at a batch size; the judge measures it again."""

    name = "alpha_edge"

    def cases(self, seed: int, hidden: bool, **params: Any) -> list[Case]:
        d = int(params.get("d", 32))
        problem_seed = int(params.get("problem_seed", 1))
        batch = int(params.get("batch", 16))
        first = 100 + 17 * seed if hidden else 0
        where = "other batch sequences" if hidden else f"seeds 0..{EDGE_SEEDS - 1}"
        return [Case(label=f"batch_problem(d={d}, seed={problem_seed}), batch size {batch}, "
                     f"{where}",
                     data={"d": d, "problem_seed": problem_seed, "batch": batch,
                           "first_seed": first})]

    def expected(self, case: Case) -> float:
        c = case.data
        return measured_edge(c["d"], c["problem_seed"], c["batch"], c["first_seed"])

    def judge(self, case: Case, got: Any) -> str | None:
        lr, problem = read_rate(got)
        if problem is not None:
            return problem
        c = case.data
        edge = self.expected(case)
        ratio = lr / edge
        if 1 / EDGE_TOLERANCE <= ratio <= EDGE_TOLERANCE:
            return None
        loss = batch_problem(d=c["d"], seed=c["problem_seed"])
        batch = c["batch"]
        if ratio > EDGE_TOLERANCE:
            share = diverged_fraction(c["d"], c["problem_seed"], batch, c["first_seed"], lr)
            text = (f"too large: at α = {lr:.3g}, {share:.0%} of the {EDGE_SEEDS} runs diverge "
                    f"within {EDGE_STEPS} steps (the edge is where half of them do).")
            if abs(lr * loss.lam_max / 2 - 1) < 0.1:
                return (f"{text} 2/λ_max is the full-batch limit; with batches of {batch} "
                        "the gradient noise adds curvature and lowers it")
            return (f"{text} (Hint: linear scaling from a smaller batch over-predicts once B "
                    "nears the critical batch size tr(H)/λ_max.)")
        return (f"too small: at {EDGE_TOLERANCE:g} times your rate fewer than half of the runs "
                "diverge, so the edge is higher. (Hint: below the critical batch size "
                "tr(H)/λ_max the edge grows almost in proportion to B, so the square-root rule "
                "under-predicts there.)")

    def passed(self, n: int, hidden: bool) -> str:
        again = "measured again on other batch sequences: " if hidden else ""
        return (f"\u2714 alpha_edge: {again}within {EDGE_TOLERANCE - 1:.0%} of the measured "
                "edge")


check_alpha_edge = make_check(AlphaEdge())
