"""Checks for section 03 (fixed, scheduled and cyclical rates), and its reference problem.

The schedule exercises compare a learner's pure function of the step ``t`` with
:mod:`lrcourse.schedules` on ints and on arrays of steps. ``Plateau`` is a small class
checked against :class:`lrcourse.schedules.ReduceLROnPlateau` on seeded metric sequences.
``my_schedule`` is a schedule the learner chooses; the judge trains :class:`NoisyLogistic`
with it and compares the result with the best fixed rate on the same mini-batches.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from .. import schedules as lib
from ..problems import LogisticRegressionLoss, logistic_regression
from ._core import Case, Exercise, Mistake, Raised, ValueExercise, make_check, read_rates

__all__ = [
    "NoisyLogistic",
    "check_cosine_annealing",
    "check_exponential_decay",
    "check_my_schedule",
    "check_plateau",
    "check_step_decay",
    "check_triangular_cyclical",
    "diagnose_schedule",
]

# ------------------------------------------------------------------ the reference problem


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return np.exp(-np.logaddexp(0.0, -z))


class _Objective:
    """One SGD run of :class:`NoisyLogistic` for :func:`lrcourse.train.train`."""

    def __init__(self, problem: NoisyLogistic) -> None:
        self.problem = problem
        self.params = [np.zeros(problem.dim)]

    def loss_and_grads(self, rng: np.random.Generator) -> tuple[float, list[np.ndarray]]:
        p, w = self.problem, self.params[0]
        i = int(rng.integers(0, p.n))
        return float(p.loss.loss(w)), [p.loss.minibatch_grad(w, np.array([i]))]

    def val_loss(self) -> float:
        return float(self.problem.val.loss(self.params[0]))


class NoisyLogistic:
    """Plain SGD (one random sample per step) on a logistic regression: section 03's problem.

    ``logistic_regression(n=600, d=4, seed=3)`` plus a bias column; the first 400 rows train,
    the last 200 validate. The training loss is the mean cross-entropy plus ``l2/2 ‖w‖²``
    (``l2 = 0.01``); its minimiser ``w_star`` comes from Newton's method. Every run starts at
    ``w = 0``; update ``t`` uses the sample ``i_t`` drawn by ``np.random.default_rng(seed)``::

        w_{t+1} = w_t - η_t (∇ℓ_{i_t}(w_t) + l2 w_t),      i_t ~ uniform{0..n-1}

    :meth:`run` performs many runs at once (schedules × seeds) and reports the **excess
    loss** ``L(w_t) - L(w_star)``; each run equals ``lrcourse.train.train`` with
    ``SGD(lr=η_0)``, the schedule, and :meth:`objective` (same samples, same numbers).

    Near ``w_star`` the noise of one-sample gradients has covariance ``C`` (``noise_cov``),
    and a constant rate η cannot bring the excess loss below the stationary level of the
    linearised dynamics (:meth:`noise_floor`), ``≈ η tr(C) / 4`` for small η.
    """

    def __init__(self, steps: int = 300, l2: float = 1e-2, n_train: int = 400,
                 n_val: int = 200, data_seed: int = 3) -> None:
        data = logistic_regression(n=n_train + n_val, d=4, seed=data_seed)
        X = np.hstack([data.X, np.ones((len(data.X), 1))])
        self.loss = LogisticRegressionLoss(X[:n_train], data.y[:n_train], l2=l2)
        self.val = LogisticRegressionLoss(X[n_train:], data.y[n_train:])
        self.steps, self.l2, self.n, self.dim = steps, l2, n_train, X.shape[1]
        w = np.zeros(self.dim)
        for _ in range(30):  # Newton's method: the loss is smooth and strongly convex
            w = w - np.linalg.solve(self.loss.hessian(w), self.loss.grad(w))
        self.w_star = w
        self.loss_star = float(self.loss.loss(w))
        self.hessian = self.loss.hessian(w)
        Xt, yt = self.loss.X, self.loss.y
        per_sample = (_sigmoid(Xt @ w) - yt)[:, None] * Xt + l2 * w
        self.noise_cov = per_sample.T @ per_sample / n_train
        # margins s_i x_i, transposed: the loss of many weight vectors is one matrix product
        self._signed = (Xt * (2.0 * yt - 1.0)[:, None]).T.copy()
        self._batches: dict[tuple, tuple[np.ndarray, np.ndarray]] = {}
        self._best: dict[tuple, tuple[float, float]] = {}

    def __repr__(self) -> str:
        return f"NoisyLogistic(steps={self.steps}, n={self.n}, dim={self.dim}, l2={self.l2:g})"

    def objective(self) -> _Objective:
        """A fresh run (w = 0) for ``lrcourse.train.train``, with a validation loss."""
        return _Objective(self)

    def excess(self, w: np.ndarray) -> np.ndarray:
        """``L(w) - L(w_star)`` for weights of shape ``(..., dim)``."""
        data = np.mean(np.logaddexp(0.0, -(w @ self._signed)), axis=-1)
        return data + 0.5 * self.l2 * np.sum(w * w, axis=-1) - self.loss_star

    def noise_floor(self, lr: Any) -> np.ndarray:
        """Stationary excess loss of SGD at constant rate ``lr``, linearised around ``w_star``.

        With ``H = Q diag(λ) Qᵀ`` and ``C' = Qᵀ C Q``, the stationary covariance of
        ``w - w_star`` is ``S_ij = η C'_ij / (λ_i + λ_j - η λ_i λ_j)`` and the excess loss is
        ``½ Σ_i λ_i S_ii = Σ_i η C'_ii / (2 (2 - η λ_i)) ≈ η tr(C) / 4``.
        """
        lam, q = np.linalg.eigh(self.hessian)
        c = np.diag(q.T @ self.noise_cov @ q)
        eta = np.asarray(lr, dtype=float)[..., None]
        return np.sum(eta * c / (2.0 * (2.0 - eta * lam)), axis=-1)

    def samples(self, seeds: Sequence[int], steps: int) -> tuple[np.ndarray, np.ndarray]:
        """The sample of every update: features (S, steps, dim) and labels (S, steps)."""
        key = (tuple(int(s) for s in seeds), steps)
        if key not in self._batches:
            idx = np.array([np.random.default_rng(s).integers(0, self.n, size=steps)
                            for s in key[0]]).reshape(len(key[0]), steps)
            self._batches[key] = (self.loss.X[idx], self.loss.y[idx].astype(float))
            if len(self._batches) > 8:
                self._batches.pop(next(iter(self._batches)))
        return self._batches[key]

    def run(self, rates: Any, seeds: Sequence[int] = range(16), record: bool = True,
            every: int = 1, start: Any = None) -> np.ndarray:
        """Train with every row of ``rates`` and every seed at once.

        Args:
            rates: ``η_t`` for ``t = 0..N-1``, shape (N,) or (R, N) for R schedules.
            seeds: the seeds of the sample sequences (S of them).
            record: return the excess loss along the way, shape (R, S, N // every + 1)
                (after 0, every, 2 every, ..., N updates); otherwise only after the last
                update, shape (R, S).
            every: record every that many updates (it must divide N).
            start: the initial weights, shape (dim,); None is w = 0 (as in every exercise).

        Returns:
            The excess loss ``L(w_t) - L(w_star)``.
        """
        rates = np.asarray(rates, dtype=float)
        rates = rates[None] if rates.ndim == 1 else rates
        n_runs, steps = rates.shape
        if record and steps % every:
            raise ValueError(f"every must divide the number of steps {steps}, got every={every}")
        X, y = self.samples(seeds, steps)
        w = np.zeros((n_runs, len(X), self.dim))
        if start is not None:
            w = w + np.asarray(start, dtype=float)
        curves = np.empty((n_runs, len(X), steps // every + 1)) if record else None
        with np.errstate(over="ignore", invalid="ignore"):
            for t in range(steps):
                if record and t % every == 0:
                    curves[..., t // every] = self.excess(w)
                x = X[:, t]
                z = np.sum(w * x, axis=-1)
                g = (_sigmoid(z) - y[:, t])[..., None] * x + self.l2 * w
                w = w - rates[:, t, None, None] * g
            final = self.excess(w)
        if record:
            curves[..., -1] = final
            return curves
        return final

    def linearised(self, rates: Any) -> tuple[float, float, np.ndarray]:
        """Where the final excess loss comes from, in the dynamics linearised around w_star.

        Along each eigenvector of ``H`` (curvature λ, noise variance c, start offset z₀²),
        the mean squared offset obeys ``v_{t+1} = (1 - η_t λ)² v_t + η_t² c``. So the final
        excess loss ``½ Σ λ v_N`` is the sum of

        - a **transient**: ``½ Σ λ z₀² Π_t (1 - η_t λ)²``, what is left of the start, and
        - **noise**: ``Σ_t n_t`` with ``n_t = ½ Σ λ η_t² c Π_{s>t} (1 - η_s λ)²``, the noise
          injected by update t, faded by the rate of every later update.

        Returns:
            ``(transient, noise, n)``, with ``n`` the noise left over from each update (N,).
        """
        rates = np.asarray(rates, dtype=float)
        lam, q = np.linalg.eigh(self.hessian)
        c = np.diag(q.T @ self.noise_cov @ q)
        z0 = (q.T @ self.w_star) ** 2
        with np.errstate(over="ignore", invalid="ignore"):
            shrink = (1.0 - rates[:, None] * lam) ** 2  # (N, dim)
            after = np.cumprod(shrink[::-1], axis=0)[::-1]  # Π_{s>=t}
            later = np.vstack([after[1:], np.ones((1, lam.size))])  # Π_{s>t}
            injected = 0.5 * (rates[:, None] ** 2) * (lam * c) * later
            transient = 0.5 * float(np.sum(lam * z0 * after[0])) if rates.size else 0.0
        return transient, float(np.sum(injected)), injected.sum(axis=1)

    def best_constant(self, seeds: Sequence[int], steps: int | None = None) -> tuple[float, float]:
        """The constant rate (of ``CONSTANT_GRID``) with the lowest mean final excess loss."""
        steps = self.steps if steps is None else steps
        key = (tuple(int(s) for s in seeds), steps)
        if key not in self._best:
            grid = CONSTANT_GRID
            final = self.run(np.repeat(grid[:, None], steps, axis=1), seeds, record=False)
            mean = final.mean(axis=1)
            i = int(np.argmin(mean))
            self._best[key] = (float(grid[i]), float(mean[i]))
        return self._best[key]


CONSTANT_GRID = np.geomspace(0.02, 0.5, 13)
"""The fixed rates a chosen schedule is compared with (the best is about 0.06)."""

TARGET_RATIO = 0.8
"""A chosen schedule must end at most this fraction of the best fixed rate's excess loss."""

STATUSES = ("converges", "too large", "too slow", "too noisy")


def diagnose_schedule(problem: NoisyLogistic, rates: np.ndarray, final: float,
                      target: float, mean_curve: np.ndarray | None = None
                      ) -> tuple[str, str | None]:
    """Name what a schedule does on ``problem``: ``(status, advice)``.

    ``status`` is one of :data:`STATUSES`: "converges" (mean final excess loss <= target;
    no advice), "too large" (the mean loss rose above its start), "too slow" (in the
    linearised dynamics, what is left of the start outweighs the noise) or "too noisy"
    (the noise of the large rates outweighs it).
    """
    rates = np.asarray(rates, dtype=float)
    if np.isfinite(final) and final <= target:
        return "converges", None
    if mean_curve is not None:
        early = mean_curve[: max(len(mean_curve) // 10, 2)]
        if not np.all(np.isfinite(early)) or np.mean(early) > mean_curve[0]:
            k = len(early)
            return "too large", (
                f"over the first {k} steps the loss went up on average instead of down: rates "
                f"up to {float(np.max(rates[:k])):.3g} are too large for this problem. Start "
                "lower (a few tenths at most), or warm up")
    if not np.isfinite(final):
        return "too large", "the loss is not finite: the rates are far too large"
    transient, noise, injected = problem.linearised(rates)
    if transient >= noise:
        return "too slow", (
            f"the run has not forgotten its start (the rates add up to only "
            f"{float(np.sum(rates)):.3g}): the rate is too small, or decays too early. Keep "
            "it larger for longer")
    tail = float(np.mean(rates[-max(len(rates) // 10, 1):]))
    floor = float(problem.noise_floor(tail))
    if floor > target:
        return "too noisy", (
            f"your last rates are about {tail:.3g}: at that rate the gradient noise alone "
            f"keeps the excess loss near {floor:.3g} (the noise floor grows with the rate). "
            f"Let the rate decay to about {0.5 * target * tail / floor:.2g} by the end")
    share = np.cumsum(injected[::-1])[::-1]
    k = int(np.flatnonzero(share >= 0.5 * share[0])[-1])
    return "too noisy", (
        f"half of what remains is noise injected after step {k}, where the rate was still "
        f"{rates[k]:.3g}: the noise of a step fades only as later steps add up rate, and "
        "too little rate comes after. Start decaying earlier and more gradually (every "
        "step a little, rather than all at the end)")


# --------------------------------------------------------------- schedule functions


class _ScheduleExercise(Exercise):
    """A schedule written as a pure, vectorised function of the step ``t``."""

    rtol = 1e-9
    atol = 1e-15
    params: tuple[str, ...] = ()

    def reference(self, *params: Any) -> Callable[[Any], Any]:
        raise NotImplementedError

    def expected(self, case: Case) -> Any:
        t, *params = case.args
        return self.reference(*params)(t)

    def label(self, t: Any, params: Sequence[Any]) -> str:
        shown = ", ".join(f"{n}={v!r}" for n, v in zip(self.params, params, strict=True))
        if isinstance(t, np.ndarray):
            return f"t = np.arange({t[0]}, {t[-1] + 1}) (an array), {shown}"
        return f"t = {t!r}, {shown}"

    def case(self, t: Any, *params: Any, label: str | None = None) -> Case:
        return Case((t, *params), label=label or self.label(t, params))

    def check_output(self, case: Case, got: Any, want: Any) -> str | None:
        if isinstance(want, np.ndarray):
            try:
                arr = np.asarray(got, dtype=float)
            except (TypeError, ValueError):
                return ("for an array of steps, return an array of rates (one per step), got "
                        f"a value of type {type(got).__name__}")
            if arr.shape != want.shape:
                if arr.ndim == 0:
                    return ("for an array of steps you returned a single number: compute with "
                            "NumPy operations on the whole array t (np.floor, np.cos, ** ...) "
                            "so that each step gets its own rate")
                return f"for {want.size} steps, return {want.size} rates; got shape {arr.shape}"
            return None
        return super().check_output(case, got, want)

    def judge(self, case: Case, got: Any) -> str | None:
        if (isinstance(got, Raised) and isinstance(case.args[0], np.ndarray)
                and got.type_name in ("TypeError", "ValueError")):
            return (f"your function works on one step but raised {got} on an array of steps. "
                    "Make it vectorised: use NumPy functions (np.floor, np.cos, np.minimum, "
                    "np.where) instead of math.floor / math.cos / int() / if, which only "
                    "handle one number")
        return super().judge(case, got)

    def variant(self, f: Callable[..., Any]) -> Callable[[Case], Any]:
        def out(case: Case) -> Any:
            t, *params = case.args
            with np.errstate(all="ignore"):
                return f(np.asarray(t, dtype=float), *params)
        return out


class StepDecay(_ScheduleExercise):
    """``step_decay(t, lr0, step_size, gamma)``: lr0 * gamma ** floor(t / step_size)."""

    name = "step_decay"
    params = ("lr0", "step_size", "gamma")
    forbidden = ("lrcourse.schedules.step_decay", "lrcourse.schedules.multistep_decay",
                 "lrcourse.schedules.Schedule.__call__")

    def reference(self, lr0: float, step_size: int, gamma: float) -> Any:
        return lib.step_decay(lr0, step_size, gamma)

    def cases(self, seed: int, hidden: bool, **params: Any) -> list[Case]:
        rng = np.random.default_rng(seed)
        cases = [
            self.case(0, 0.1, 10, 0.5),
            self.case(9, 0.1, 10, 0.5),
            self.case(10, 0.1, 10, 0.5),
            self.case(25, 0.1, 10, 0.5),
            self.case(np.arange(0, 8), 1.0, 3, 0.1),
        ]
        if hidden:
            lr0, size = float(10 ** rng.uniform(-3, 0)), int(rng.integers(2, 40))
            gamma = float(rng.uniform(0.05, 0.95))
            cases += [
                Case((np.arange(0, 7 * size), lr0, size, gamma), label="a long array of steps"),
                Case((size, lr0, size, gamma), label="exactly at a decay step"),
                Case((size - 1, lr0, size, gamma), label="just before a decay step"),
                Case((np.arange(0, 12), lr0, 1, gamma), label="step_size = 1"),
                Case((np.arange(0, 50), lr0, size, 1.0), label="gamma = 1"),
                Case((np.int64(3 * size + 1), lr0, size, gamma), label="a NumPy integer step"),
            ]
        return cases

    def mistakes(self) -> list[Mistake]:
        v = self.variant
        return [
            Mistake("the exponent must be a whole number: floor(t / step_size). Without the "
                    "floor the rate decays smoothly at every step (that is exponential decay), "
                    "not in steps", v(lambda t, a, s, g: a * g ** (t / s))),
            Mistake("off by one: the rate drops one step too early. The first decay happens at "
                    "t = step_size (update number step_size + 1, counting from t = 0), not at "
                    "t = step_size - 1", v(lambda t, a, s, g: a * g ** np.floor((t + 1) / s))),
            Mistake("off by one: the rate drops one step too late, as if t started at 1. Here "
                    "t = 0 is the first update, and the first decay is at t = step_size",
                    v(lambda t, a, s, g: a * g ** np.floor(np.maximum(t - 1, 0) / s))),
            Mistake("the rate is already decayed at t = 0: the exponent is floor(t / "
                    "step_size), which is 0 for the first step_size steps",
                    v(lambda t, a, s, g: a * g ** (np.floor(t / s) + 1))),
            Mistake("gamma is a factor applied once per period, so it goes in the exponent: "
                    "lr0 * gamma ** floor(t / step_size), not lr0 * gamma * floor(...)",
                    v(lambda t, a, s, g: a * g * np.floor(t / s))),
            Mistake("the rate after k decays is lr0 * gamma**k; you used (1 - gamma) as the "
                    "factor", v(lambda t, a, s, g: a * (1 - g) ** np.floor(t / s))),
        ]


check_step_decay = make_check(StepDecay())


class ExponentialDecay(_ScheduleExercise):
    """``exponential_decay(t, lr0, gamma)``: lr0 * gamma ** t."""

    name = "exponential_decay"
    params = ("lr0", "gamma")
    forbidden = ("lrcourse.schedules.exponential_decay", "lrcourse.schedules.Schedule.__call__")

    def reference(self, lr0: float, gamma: float) -> Any:
        return lib.exponential_decay(lr0, gamma)

    def cases(self, seed: int, hidden: bool, **params: Any) -> list[Case]:
        rng = np.random.default_rng(seed)
        cases = [
            self.case(0, 0.5, 0.9),
            self.case(1, 0.5, 0.9),
            self.case(3, 0.5, 0.9),
            self.case(np.arange(0, 6), 1.0, 0.5),
        ]
        if hidden:
            lr0, gamma = float(10 ** rng.uniform(-3, 0)), float(rng.uniform(0.9, 0.999))
            cases += [
                Case((np.arange(0, 500), lr0, gamma), label="a long array of steps"),
                Case((np.arange(0, 20), lr0, 1.0), label="gamma = 1"),
                Case((np.int64(37), lr0, gamma), label="a NumPy integer step"),
                Case((np.array([0, 5, 50]), lr0, gamma), label="steps that are not consecutive"),
            ]
        return cases

    def mistakes(self) -> list[Mistake]:
        v = self.variant
        return [
            Mistake("off by one: the rate at t = 0 must be lr0 itself (t counts the updates "
                    "already done, from 0), so the power is gamma ** t, not gamma ** (t + 1)",
                    v(lambda t, a, g: a * g ** (t + 1))),
            Mistake("off by one, as if t started at 1: here the first update is t = 0 and "
                    "uses lr0 * gamma ** 0 = lr0", v(lambda t, a, g: a * g ** (t - 1))),
            Mistake("gamma multiplies the rate once per step, so it is raised to the power t: "
                    "lr0 * gamma ** t, not lr0 * gamma * t", v(lambda t, a, g: a * g * t)),
            Mistake("gamma is the factor per step (0.9 keeps 90%), not a decay speed: use "
                    "lr0 * gamma ** t rather than lr0 * exp(-gamma * t)",
                    v(lambda t, a, g: a * np.exp(-g * t))),
            Mistake("gamma is the fraction kept per step, so the factor is gamma, not "
                    "(1 - gamma)", v(lambda t, a, g: a * (1 - g) ** t)),
        ]


check_exponential_decay = make_check(ExponentialDecay())


class CosineAnnealing(_ScheduleExercise):
    """``cosine_annealing(t, lr0, T_max, eta_min=0.0)``: half a cosine from lr0 to eta_min."""

    name = "cosine_annealing"
    params = ("lr0", "T_max", "eta_min")
    forbidden = ("lrcourse.schedules.cosine_annealing",
                 "lrcourse.schedules.cosine_annealing_clamped",
                 "lrcourse.schedules.cosine_warm_restarts",
                 "lrcourse.schedules.Schedule.__call__")

    def reference(self, lr0: float, T_max: int, eta_min: float = 0.0) -> Any:
        return lib.cosine_annealing(lr0, T_max, eta_min)

    def cases(self, seed: int, hidden: bool, **params: Any) -> list[Case]:
        rng = np.random.default_rng(seed)
        cases = [
            self.case(0, 0.1, 100, 0.0),
            self.case(50, 0.1, 100, 0.0),
            self.case(100, 0.1, 100, 0.0),
            self.case(25, 0.1, 100, 0.01),
            self.case(np.arange(0, 9), 1.0, 8, 0.0),
        ]
        if hidden:
            lr0 = float(10 ** rng.uniform(-3, 0))
            T = int(rng.integers(5, 400))
            low = float(lr0 * rng.uniform(0.01, 0.5))
            cases += [
                Case((np.arange(0, T + 1), lr0, T, 0.0), label="a whole descent, as an array"),
                Case((np.arange(0, T + 1), lr0, T, low), label="a whole descent with eta_min"),
                Case((np.arange(0, 2), lr0, 1, low), label="T_max = 1"),
                Case((np.int64(T // 3), lr0, T, low), label="a NumPy integer step"),
            ]
        return cases

    def mistakes(self) -> list[Mistake]:
        v = self.variant

        def cos(f: Callable[..., Any]) -> Callable[[Case], Any]:
            def out(case: Case) -> Any:
                t, a, T, m = case.args
                return m + (a - m) * f(np.asarray(t, dtype=float), T)
            return out

        return [
            Mistake("missing the halving: (1 + cos(pi t / T_max)) runs from 2 to 0, so it must "
                    "be divided by 2 to go from lr0 to eta_min",
                    cos(lambda t, T: 1 + np.cos(np.pi * t / T))),
            Mistake("cos(pi t / T_max) alone runs from 1 down to -1, so the rate turns "
                    "negative after T_max / 2; use (1 + cos(pi t / T_max)) / 2, which runs "
                    "from 1 to 0", cos(lambda t, T: np.cos(np.pi * t / T))),
            Mistake("the descent lasts T_max steps: divide by T_max, not T_max - 1 (the rate "
                    "reaches eta_min exactly at t = T_max)",
                    cos(lambda t, T: (1 + np.cos(np.pi * t / (T - 1))) / 2)),
            Mistake("the angle is pi * t / T_max (half a turn over the descent); without pi "
                    "the cosine hardly moves", cos(lambda t, T: (1 + np.cos(t / T)) / 2)),
            Mistake("that is a quarter cosine, cos(pi t / (2 T_max)); cosine annealing uses "
                    "half a period: (1 + cos(pi t / T_max)) / 2",
                    cos(lambda t, T: np.cos(np.pi * t / (2 * T)))),
            Mistake("eta_min is missing: the rate must go from lr0 down to eta_min, "
                    "eta_min + (lr0 - eta_min) * (1 + cos(pi t / T_max)) / 2",
                    v(lambda t, a, T, m: a * (1 + np.cos(np.pi * t / T)) / 2)),
            Mistake("eta_min is added on top of the whole cosine: scale the cosine by "
                    "(lr0 - eta_min), not by lr0",
                    v(lambda t, a, T, m: m + a * (1 + np.cos(np.pi * t / T)) / 2)),
        ]


check_cosine_annealing = make_check(CosineAnnealing())


def _triangle(t: np.ndarray, base: float, top: float, size: float) -> np.ndarray:
    cycle = np.floor(1 + t / (2 * size))
    x = np.abs(t / size - 2 * cycle + 1)
    return base + (top - base) * np.maximum(0.0, 1 - x)


class TriangularCyclical(_ScheduleExercise):
    """``triangular_cyclical(t, base_lr, max_lr, step_size)``: Smith's triangular cycle."""

    name = "triangular_cyclical"
    params = ("base_lr", "max_lr", "step_size")
    forbidden = ("lrcourse.schedules.cyclical", "lrcourse.schedules.Schedule.__call__")

    def reference(self, base_lr: float, max_lr: float, step_size: int) -> Any:
        return lib.cyclical(base_lr, max_lr, step_size_up=step_size, mode="triangular")

    def cases(self, seed: int, hidden: bool, **params: Any) -> list[Case]:
        rng = np.random.default_rng(seed)
        cases = [
            self.case(0, 0.01, 0.1, 10),
            self.case(5, 0.01, 0.1, 10),
            self.case(10, 0.01, 0.1, 10),
            self.case(15, 0.01, 0.1, 10),
            self.case(20, 0.01, 0.1, 10),
            self.case(np.arange(0, 13), 0.0, 1.0, 3),
        ]
        if hidden:
            base = float(10 ** rng.uniform(-4, -2))
            top = base * float(10 ** rng.uniform(0.5, 2))
            size = int(rng.integers(2, 60))
            cases += [
                Case((np.arange(0, 6 * size + 1), base, top, size), label="three whole cycles"),
                Case((3 * size, base, top, size), label="a peak of a later cycle"),
                Case((4 * size + 1, base, top, size), label="just after a trough"),
                Case((np.arange(0, 8), base, top, 1), label="step_size = 1"),
                Case((np.int64(size // 2 + 7 * size), base, top, size),
                     label="a NumPy integer step"),
            ]
        return cases

    def mistakes(self) -> list[Mistake]:
        v = self.variant
        return [
            Mistake("wrong period: a whole cycle (up, then down) lasts 2 * step_size steps; "
                    "step_size is the length of ONE half (the rise). Yours completes a cycle "
                    "every step_size steps",
                    v(lambda t, b, m, s: _triangle(t, b, m, s / 2))),
            Mistake("wrong period: the rise lasts step_size steps and the fall another "
                    "step_size, so the peaks are at t = step_size, 3 step_size, ... Yours "
                    "rises for 2 * step_size", v(lambda t, b, m, s: _triangle(t, b, m, 2 * s))),
            Mistake("the cycle starts at the bottom: the rate is base_lr at t = 0 and max_lr at "
                    "t = step_size; yours starts at the top",
                    v(lambda t, b, m, s: b + m - _triangle(t, b, m, s))),
            Mistake("base_lr is missing: the rate rises from base_lr to max_lr, i.e. "
                    "base_lr + (max_lr - base_lr) * h with h going 0 -> 1 -> 0",
                    v(lambda t, b, m, s: m * (_triangle(t, b, m, s) - b) / (m - b))),
            Mistake("the triangle's height is max_lr - base_lr, added to base_lr; you added "
                    "the whole max_lr on top of base_lr",
                    v(lambda t, b, m, s: b + m * (_triangle(t, b, m, s) - b) / (m - b))),
            Mistake("after the first cycle the triangle must start again: find the cycle "
                    "with np.floor(1 + t / (2 * step_size)) (or take t modulo 2 * step_size)",
                    v(lambda t, b, m, s: b + (m - b) * np.maximum(0.0, 1 - np.abs(t / s - 1)))),
        ]


check_triangular_cyclical = make_check(TriangularCyclical())

# --------------------------------------------------------------------- the plateau rule


def _plateau_rule(lr: float, factor: float, patience: int, threshold: float,
                  metrics: Sequence[float], *, early: bool = False, reset: bool = True,
                  absolute: bool = False, strict: bool = False, best_always: bool = False,
                  previous: bool = False, late: bool = False, best0: float = math.inf,
                  one_minus: bool = False) -> list[float]:
    """The plateau rule with one of the usual slips switched on (for the diagnoses)."""
    best, prev, bad, out = best0, math.inf, 0, []
    for m in metrics:
        ref = prev if previous else best
        if strict:
            better = m < ref
        elif absolute:
            better = m < ref - threshold
        else:
            better = m < ref * (1 - threshold)
        if better:
            best, bad = m, 0
        else:
            bad += 1
            if best_always:
                best = min(best, m)
        prev = m
        used = lr
        if (bad >= patience) if early else (bad > patience):
            lr = lr * (1 - factor) if one_minus else lr * factor
            if reset:
                bad = 0
        out.append(used if late else lr)
    return out


class PlateauExercise(Exercise):
    """``Plateau(lr, factor, patience, threshold)`` with ``.step(metric) -> lr``."""

    name = "Plateau"
    forbidden = ("lrcourse.schedules.ReduceLROnPlateau.__init__",
                 "lrcourse.schedules.ReduceLROnPlateau.step",
                 "lrcourse.schedules.ReduceLROnPlateau.is_better")
    rtol = 1e-12
    atol = 0.0

    def cases(self, seed: int, hidden: bool, **params: Any) -> list[Case]:
        rng = np.random.default_rng(seed)

        def curve(n: int, floor: float, noise: float) -> tuple[float, ...]:
            k = np.arange(n)
            values = floor + 1.0 / (1.0 + 0.4 * k) + noise * rng.standard_normal(n)
            return tuple(float(x) for x in np.round(values, 4))

        cases = [
            Case((0.1, {"factor": 0.5, "patience": 1, "threshold": 0.0},
                  (1.0, 0.5, 0.6, 0.7, 0.4, 0.45, 0.5, 0.55)),
                 label="lr=0.1, factor=0.5, patience=1, threshold=0, "
                       "metrics [1.0, 0.5, 0.6, 0.7, 0.4, 0.45, 0.5, 0.55]"),
            Case((1.0, {"factor": 0.1, "patience": 2, "threshold": 0.01},
                  (0.5, 0.49, 0.487, 0.484, 0.481, 0.491, 0.483, 0.48)),
                 label="lr=1.0, factor=0.1, patience=2, threshold=0.01 (an improvement must "
                       "beat the best by 1%), metrics [0.5, 0.49, 0.487, 0.484, 0.481, 0.491, "
                       "0.483, 0.48]"),
            Case((0.5, {"factor": 0.3, "patience": 3, "threshold": 1e-4}, curve(40, 0.3, 0.02)),
                 label="lr=0.5, factor=0.3, patience=3, threshold=1e-4, a noisy validation "
                       f"curve of 40 evaluations (seed {seed})"),
        ]
        if hidden:
            cases += [
                Case((0.2, {"factor": 0.5, "patience": 0, "threshold": 0.0},
                      curve(25, 0.5, 0.05)), label="patience = 0"),
                Case((1.0, {"factor": 0.5, "patience": 2, "threshold": 0.0},
                      (1.0,) + (1.0,) * 12), label="a long flat stretch (several cuts)"),
                Case((0.3, {"factor": 0.2, "patience": 1, "threshold": 0.05},
                      (1.0, 0.97, 0.94, 0.93, 0.9, 0.89, 0.88, 0.8, 0.79, 0.78)),
                     label="small improvements that add up"),
                Case((0.1, {}, curve(30, 0.2, 0.01)), label="the default arguments"),
                Case((0.5, {"factor": 0.3, "patience": 4, "threshold": 1e-3},
                      curve(60, 0.25, 0.03)), label="another seed"),
            ]
        return cases

    def run(self, cls: Any, case: Case) -> Any:
        lr, kwargs, metrics = case.args
        alone = cls(lr, **kwargs)
        rates = [_number(alone.step(m)) for m in metrics]
        # Two more objects, stepped in turn: with state kept on the class (or in globals)
        # they would disagree with the first one, or with each other.
        pair, seen = (cls(lr, **kwargs), cls(lr, **kwargs)), ([], [])
        for m in metrics:
            for plateau, out in zip(pair, seen, strict=True):
                out.append(_number(plateau.step(m)))
        if not (_same(seen[0], rates) and _same(seen[1], rates)):
            return SHARED
        return rates

    def expected(self, case: Case) -> list[float]:
        lr, kwargs, metrics = case.args
        ref = lib.ReduceLROnPlateau(lr, mode="min", threshold_mode="rel", cooldown=0,
                                    min_lr=0.0, eps=0.0, **kwargs)
        return [ref.step(m) for m in metrics]

    def check_output(self, case: Case, got: Any, want: Any) -> str | None:
        if got == SHARED:
            return ("two Plateau objects share their state: a new one must not remember what "
                    "another saw. Keep best, the count and the rate on self, set in __init__ "
                    "(self.best = ...), not as class attributes or global variables")
        if not isinstance(got, list) or len(got) != len(want):
            return "step(metric) must return the learning rate, a number"
        for x in got:
            if isinstance(x, Raised):
                return f"step(metric) must return the learning rate, a number; it returned {x}"
        return None

    def judge(self, case: Case, got: Any) -> str | None:
        if isinstance(got, Raised):
            return f"creating a Plateau or calling its step raised {got}"
        return super().judge(case, got)

    def mistakes(self) -> list[Mistake]:
        def slip(**flags: Any) -> Callable[[Case], list[float]]:
            def out(case: Case) -> list[float]:
                lr, kwargs, metrics = case.args
                k = {"factor": 0.1, "patience": 10, "threshold": 1e-4, **kwargs}
                return _plateau_rule(lr, k["factor"], k["patience"], k["threshold"], metrics,
                                     **flags)
            return out

        return [
            Mistake("you cut one evaluation too early: the rate is cut when the number of "
                    "evaluations without improvement EXCEEDS patience (bad > patience). With "
                    "patience=2, two bad evaluations are tolerated and the third one triggers "
                    "the cut",
                    slip(early=True)),
            Mistake("after a cut, reset the count of bad evaluations to 0; otherwise every "
                    "following bad evaluation cuts the rate again", slip(reset=False)),
            Mistake("the threshold is relative: an evaluation improves when metric < best * (1 - "
                    "threshold), not metric < best - threshold", slip(absolute=True)),
            Mistake("an evaluation counts as an improvement only if the metric beats the best by "
                    "the relative threshold, metric < best * (1 - threshold); you compared "
                    "metric < best", slip(strict=True)),
            Mistake("update best only when an evaluation counts as an improvement: a metric that "
                    "is lower by less than the threshold must not become the new best",
                    slip(best_always=True)),
            Mistake("compare each metric with the best one so far, not with the previous "
                    "evaluation's", slip(previous=True)),
            Mistake("step must return the rate to use from the next evaluation on, i.e. after "
                    "this evaluation's cut; you returned the rate from before the cut",
                    slip(late=True)),
            Mistake("best must start at +infinity (float('inf')), so that the first metric "
                    "always counts as an improvement", slip(best0=0.0)),
            Mistake("a cut multiplies the rate by factor (0.1 keeps 10%), not by (1 - factor)",
                    slip(one_minus=True)),
        ]


SHARED = "two objects disagree"


def _same(a: list, b: list) -> bool:
    """Equal lists, where NaN equals NaN (a learner's rate may be NaN)."""
    return len(a) == len(b) and all(x == y or (x != x and y != y) for x, y in zip(a, b,
                                                                                 strict=True))


def _number(x: Any) -> Any:
    try:
        return float(x)
    except (TypeError, ValueError):
        return Raised("TypeError", f"returned {type(x).__name__} {x!r}"[:200])


check_plateau = make_check(PlateauExercise())

# ------------------------------------------------------------------ choose a schedule

_PROBLEM: NoisyLogistic | None = None
RUNS = 256  # sample orders the judge averages over: the mean is then good to about 3%


def reference_problem() -> NoisyLogistic:
    """The one :class:`NoisyLogistic` the judge uses (built once per process)."""
    global _PROBLEM
    if _PROBLEM is None:
        _PROBLEM = NoisyLogistic()
    return _PROBLEM


class MySchedule(ValueExercise):
    """Choose ``my_schedule(t)`` that beats the best fixed rate on :class:`NoisyLogistic`."""

    name = "my_schedule"

    def cases(self, seed: int, hidden: bool, **params: Any) -> list[Case]:
        steps, runs = int(params.get("steps", 300)), int(params.get("runs", RUNS))
        first = 1000 * (seed + 1) if hidden else 0
        where = "other sample orders" if hidden else f"{runs} sample orders"
        return [Case(label=f"{steps} steps of SGD on the noisy logistic regression, {where}",
                     data={"steps": steps, "seeds": list(range(first, first + runs))})]

    def run(self, fn: Any, case: Case) -> Any:
        if fn is None:
            return None
        steps = case.data["steps"]
        t = np.arange(steps)
        with np.errstate(all="ignore"):
            try:
                rates = np.asarray(fn(t), dtype=float)
            except Exception:  # e.g. not vectorised: ask step by step below
                rates = None
            if rates is not None and rates.ndim > 0:
                return rates
            out = []
            for k in range(steps):
                value = fn(k)
                try:
                    out.append(float(value))
                except (TypeError, ValueError):
                    raise TypeError(f"my_schedule({k}) returned {value!r:.60}, not a number"
                                    ) from None
        return np.array(out)

    def expected(self, case: Case) -> float:
        problem = reference_problem()
        return TARGET_RATIO * problem.best_constant(case.data["seeds"], case.data["steps"])[1]

    def judge(self, case: Case, got: Any) -> str | None:
        if isinstance(got, Raised):
            return f"calling my_schedule(t) raised {got}"
        if got is None:
            return ("no schedule yet: set my_schedule to a function of the step t, or to a "
                    "schedule from lrcourse.schedules")
        steps, seeds = case.data["steps"], case.data["seeds"]
        rates, problem = read_rates(got, "my_schedule", steps)
        if problem is not None:
            return problem
        problem = reference_problem()
        lr_best, loss_best = problem.best_constant(seeds, steps)
        target = TARGET_RATIO * loss_best
        final = float(problem.run(rates, seeds, record=False).mean())
        if np.isfinite(final) and final <= target:
            return None
        curve = problem.run(rates, seeds[:64])[0].mean(axis=0)
        status, advice = diagnose_schedule(problem, rates, final, target, curve)
        return (f"after {steps} steps the mean excess loss is {final:.3g}; the target is "
                f"{target:.3g} ({TARGET_RATIO:g} x {loss_best:.3g}, what the best fixed rate, "
                f"{lr_best:.2g}, reaches). {status.capitalize()}: {advice}")

    def passed(self, n: int, hidden: bool) -> str:
        kind = "on other sample orders" if hidden else "on the reference sample orders"
        return f"\u2714 my_schedule beats the best fixed rate by {1 - TARGET_RATIO:.0%} {kind}"


check_my_schedule = make_check(MySchedule())
