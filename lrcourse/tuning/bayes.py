"""Bayesian optimisation: a Gaussian process models the objective, expected improvement picks
where to look next.

Each iteration fits a Gaussian process (GP) to the trials so far, in the unit cube of the
search space (so over log α for a ``LogUniform`` rate), and evaluates next where the expected
improvement over the best value is largest: where the GP predicts a low value (exploitation)
or is unsure (exploration). Everything is NumPy: a kernel, a Cholesky factorisation, the
normal CDF from ``math.erf``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from lrcourse._validate import (
    check_callable,
    check_choice,
    check_finite,
    check_finite_array,
    check_int,
    check_nonnegative,
    check_positive,
)
from lrcourse.progress import progress
from lrcourse.tuning.search import (
    Distribution,
    SearchResult,
    check_space,
    evaluate,
    from_units,
    grid_units,
)

__all__ = [
    "LENGTH_SCALES",
    "NOISES",
    "BayesStep",
    "GaussianProcess",
    "bayes_search",
    "expected_improvement",
]

LENGTH_SCALES = np.geomspace(0.01, 10.0, 31)
"""The length scales ℓ tried when a :class:`GaussianProcess` fits ℓ (inputs of order 1)."""

NOISES = np.array([1e-8, 1e-6, 1e-4, 1e-3, 1e-2, 3e-2, 1e-1, 3e-1])
"""The noise variances tried when a :class:`GaussianProcess` fits the noise (y standardised)."""

_SQRT5 = math.sqrt(5.0)


# ---------------------------------------------------------------------------------------------
# The Gaussian process


def _correlation(kernel: str, r: np.ndarray) -> np.ndarray:
    """ρ(r) of the kernel, r = distance / length scale."""
    if kernel == "rbf":
        return np.exp(-0.5 * r**2)
    return (1.0 + _SQRT5 * r + (5.0 / 3.0) * r**2) * np.exp(-_SQRT5 * r)


def _distances(A: np.ndarray, B: np.ndarray) -> np.ndarray:
    """Euclidean distances between the rows of A (n, d) and of B (m, d): shape (n, m)."""
    squared = (A**2).sum(1)[:, None] + (B**2).sum(1)[None, :] - 2.0 * A @ B.T
    return np.sqrt(np.maximum(squared, 0.0))


def _cholesky(K: np.ndarray) -> np.ndarray:
    """Lower Cholesky factor of K, adding a growing jitter to the diagonal if K is not quite
    positive definite in floating point (two trials at the same point, noise = 0)."""
    jitter = 0.0
    while True:
        try:
            return np.linalg.cholesky(K + jitter * np.eye(len(K)))
        except np.linalg.LinAlgError:
            jitter = 1e-12 if jitter == 0.0 else 10.0 * jitter
            if jitter > 1e-2:
                raise


def _as_points(X: Any, name: str, dim: int | None = None) -> np.ndarray:
    X = np.asarray(X, dtype=float)
    if X.ndim == 1:
        X = X[:, None]
    if X.ndim != 2 or (dim is not None and X.shape[1] != dim):
        want = "(n, d)" if dim is None else f"(n, {dim})"
        raise ValueError(f"{name} must have shape {want}, got {name} of shape {X.shape}")
    check_finite_array(X, name)
    return X


class GaussianProcess:
    """Gaussian-process regression with an isotropic RBF or Matérn-5/2 kernel, in NumPy.

    Model, for inputs x in R^d (scaled to about [0, 1]) and standardised targets
    ỹ = (y − mean(y)) / std(y)::

        f ~ GP(0, k),   k(x, x') = σ_f² ρ(‖x − x'‖ / ℓ),   ỹ_i = f(x_i) + ε_i,  ε_i ~ N(0, σ_n²)
        RBF:          ρ(r) = exp(−r²/2)
        Matérn 5/2:   ρ(r) = (1 + √5 r + 5r²/3) exp(−√5 r)

    Fit, with K = k(X, X) + σ_n² I = L Lᵀ (Cholesky) and α = K⁻¹ ỹ = Lᵀ \\ (L \\ ỹ)::

        log p(ỹ | X) = −½ ỹᵀ α − Σ_i log L_ii − (n/2) log 2π      (log marginal likelihood)

    A hyperparameter given as None is chosen on a grid (``LENGTH_SCALES``, ``NOISES``) as the
    one of largest log marginal likelihood. Prediction at new points x*::

        mean(x*) = k(x*, X) α                          then × std(y) + mean(y)
        var(x*)  = σ_f² − ‖L \\ k(X, x*)‖²              then × std(y)²   (of f, without noise)

    Matérn 5/2 (twice differentiable samples) is the usual choice for Bayesian optimisation;
    the RBF's infinitely smooth samples are often too smooth for a loss curve.

    Args:
        kernel: "matern52" or "rbf".
        length_scale: ℓ > 0, or None to fit it.
        noise: σ_n² >= 0, in units of the variance of y, or None to fit it.
        signal_var: σ_f² > 0, in units of the variance of y.

    Attributes (after ``fit``):
        length_scale_, noise_: the hyperparameters used (given or fitted).
        log_marginal_likelihood_: log p(ỹ | X) at those hyperparameters.
        X_, y_: the training data.

    Example:
        >>> X = np.array([0.0, 0.3, 0.6, 1.0])
        >>> gp = GaussianProcess(length_scale=0.3, noise=1e-10).fit(X, np.sin(6 * X))
        >>> mean, std = gp.predict(np.array([0.3, 0.45]))
        >>> mean.round(4), std.round(3)
        (array([0.9738, 0.3612]), array([0.   , 0.162]))
    """

    def __init__(
        self,
        kernel: str = "matern52",
        length_scale: float | None = None,
        noise: float | None = 1e-6,
        signal_var: float = 1.0,
    ) -> None:
        self.kernel = check_choice(kernel, "kernel", ("matern52", "rbf"))
        self.length_scale = None if length_scale is None else check_positive(
            length_scale, "length_scale")
        self.noise = None if noise is None else check_nonnegative(noise, "noise")
        self.signal_var = check_positive(signal_var, "signal_var")

    def __repr__(self) -> str:
        return (
            f"GaussianProcess(kernel={self.kernel!r}, length_scale={self.length_scale!r}, "
            f"noise={self.noise!r}, signal_var={self.signal_var!r})"
        )

    def _factor(self, D: np.ndarray, y: np.ndarray, length_scale: float, noise: float):
        K = self.signal_var * _correlation(self.kernel, D / length_scale)
        K[np.diag_indices_from(K)] += noise
        L = _cholesky(K)
        alpha = np.linalg.solve(L.T, np.linalg.solve(L, y))
        log_ml = (-0.5 * y @ alpha - np.log(np.diag(L)).sum()
                  - 0.5 * len(y) * math.log(2 * math.pi))
        return L, alpha, float(log_ml)

    def fit(self, X: Any, y: Any) -> GaussianProcess:
        """Condition the GP on observations y at inputs X (fitting ℓ and σ_n² if None).

        Args:
            X: inputs, shape (n, d) (or (n,) for d = 1), finite.
            y: observations, shape (n,), finite.

        Returns:
            ``self``, fitted.
        """
        X = _as_points(X, "X")
        y = np.asarray(y, dtype=float)
        if y.shape != (len(X),):
            raise ValueError(f"y must have shape ({len(X)},), one value per row of X, "
                             f"got y of shape {y.shape}")
        check_finite_array(y, "y")
        self._y_mean = float(y.mean())
        spread = float(y.std())
        self._y_std = spread if spread > 0 else 1.0
        target = (y - self._y_mean) / self._y_std
        D = _distances(X, X)
        length_scales = LENGTH_SCALES if self.length_scale is None else [self.length_scale]
        noises = NOISES if self.noise is None else [self.noise]
        best = None
        for ell in length_scales:
            for noise in noises:
                try:
                    L, alpha, log_ml = self._factor(D, target, float(ell), float(noise))
                except np.linalg.LinAlgError:
                    continue
                if best is None or log_ml > best[-1]:
                    best = (float(ell), float(noise), L, alpha, log_ml)
        if best is None:
            raise np.linalg.LinAlgError("the kernel matrix is not positive definite")
        self.length_scale_, self.noise_, self._L, self._alpha, self.log_marginal_likelihood_ = best
        self.X_, self.y_ = X, y
        return self

    def predict(self, X: Any) -> tuple[np.ndarray, np.ndarray]:
        """The posterior mean and standard deviation of f at new inputs.

        Args:
            X: inputs, shape (m, d) (or (m,) for d = 1).

        Returns:
            ``(mean, std)``, two arrays of shape (m,) in the units of y; ``std`` is the
            uncertainty about f itself (observation noise not included).
        """
        if not hasattr(self, "X_"):
            raise RuntimeError("predict needs a fitted GaussianProcess: call fit(X, y) first")
        X = _as_points(X, "X", dim=self.X_.shape[1])
        r = _distances(self.X_, X) / self.length_scale_
        Ks = self.signal_var * _correlation(self.kernel, r)
        mean = Ks.T @ self._alpha
        v = np.linalg.solve(self._L, Ks)
        var = np.maximum(self.signal_var - (v**2).sum(axis=0), 0.0)
        return mean * self._y_std + self._y_mean, np.sqrt(var) * self._y_std


# ---------------------------------------------------------------------------------------------
# Expected improvement

_erf = np.vectorize(math.erf, otypes=[float])


def expected_improvement(mean: Any, std: Any, best: float, xi: float = 0.0) -> Any:
    """How much a point is expected to improve on the best value so far (for minimisation).

    With the GP's belief f(x) ~ N(μ, σ²) and the best value so far f*::

        EI(x) = E[max(f* − ξ − f(x), 0)]
              = (f* − ξ − μ) Φ(z) + σ φ(z),   z = (f* − ξ − μ) / σ      if σ > 0
              = max(f* − ξ − μ, 0)                                       if σ = 0
        Φ(z) = ½ (1 + erf(z / √2)),   φ(z) = exp(−z²/2) / √(2π)

    The first term rewards a low predicted mean (exploitation), the second uncertainty
    (exploration). ξ >= 0 asks for an improvement of at least ξ, tilting towards exploration.

    Args:
        mean: μ, the predicted mean(s).
        std: σ >= 0, the predicted standard deviation(s), broadcastable with ``mean``.
        best: f*, the best (lowest) value observed so far.
        xi: ξ >= 0.

    Returns:
        EI >= 0: a float for scalar inputs, else an array of the broadcast shape.

    Example:
        >>> print(round(expected_improvement(0.0, 1.0, best=0.0), 6))   # = φ(0) = 1/√(2π)
        0.398942
        >>> expected_improvement(np.array([-1.0, 0.0, 1.0]), np.array([0.0, 0.0, 0.5]), best=0.0)
        array([1.        , 0.        , 0.00424535])
    """
    mu = np.asarray(mean, dtype=float)
    sigma = np.asarray(std, dtype=float)
    best = check_finite(best, "best")
    xi = check_nonnegative(xi, "xi")
    if np.any(~np.isfinite(mu)):
        raise ValueError("mean must be finite everywhere, got non-finite values in mean")
    if np.any(~np.isfinite(sigma) | (sigma < 0)):
        raise ValueError("std must be finite and >= 0 everywhere, got negative or non-finite std")
    mu, sigma = np.broadcast_arrays(mu, sigma)
    improvement = best - xi - mu
    positive = sigma > 0
    z = np.where(positive, improvement / np.where(positive, sigma, 1.0), 0.0)
    cdf = 0.5 * (1.0 + _erf(z / math.sqrt(2.0)))
    pdf = np.exp(-0.5 * z**2) / math.sqrt(2.0 * math.pi)
    ei = np.where(positive, improvement * cdf + sigma * pdf, np.maximum(improvement, 0.0))
    ei = np.maximum(ei, 0.0)  # rounding can leave -1e-20 where Φ(z) and φ(z) both vanish
    return float(ei) if ei.ndim == 0 else ei


# ---------------------------------------------------------------------------------------------
# The search


@dataclass(eq=False, repr=False)
class BayesStep:
    """One iteration of :func:`bayes_search`: the GP fitted to the trials so far, and its choice.

    Attributes:
        trial: the index of the trial this step proposed (the GP saw trials 0 .. trial-1).
        grid: the plotting grid, name -> values (the grid of :func:`grid_search` with
            ``plot_points`` points: 1-D, exactly ``plot_points`` values).
        mean, std: the GP's prediction of the objective on the grid.
        ei: the expected improvement on the grid.
        best: the best value before this step (the f* of EI).
        next_params: the configuration proposed: the candidate of largest EI.
        next_ei: its expected improvement.
        length_scale, noise: the GP's hyperparameters at this step (in the unit cube).
    """

    trial: int
    grid: dict[str, np.ndarray]
    mean: np.ndarray
    std: np.ndarray
    ei: np.ndarray
    best: float
    next_params: dict[str, float]
    next_ei: float
    length_scale: float
    noise: float

    def __repr__(self) -> str:
        return (
            f"BayesStep(trial={self.trial}, best={self.best:.4g}, next_params="
            f"{self.next_params}, next_ei={self.next_ei:.3g}, length_scale={self.length_scale:.3g})"
        )


def bayes_search(
    f: Callable[[dict[str, float]], float],
    space: dict[str, Distribution],
    n: int,
    seed: int = 0,
    n_init: int | None = None,
    gp: GaussianProcess | None = None,
    xi: float = 0.0,
    n_candidates: int = 1000,
    plot_points: int = 201,
) -> SearchResult:
    """Bayesian optimisation of ``f``: a Gaussian process and expected improvement.

    In the unit cube of the space (log scale along ``LogUniform`` axes)::

        evaluate f at n_init random points          (the first n_init of random_search(seed))
        for each further trial:
            y_i = f(x_i), a failed (NaN/inf) value replaced by the worst finite one so far
            fit the GP to (x_i, y_i)                   (fitting ℓ and the noise, unless given)
            f* = the best value so far
            candidates: n_candidates uniform points, the plotting grid, and n_candidates/5
                        points around the best trial (Gaussian, σ = 0.05, clipped to the cube)
            x_next = the candidate of largest expected_improvement(mean, std, f*, ξ)
            evaluate f at x_next

    Each step is recorded in ``result.trace`` (a :class:`BayesStep`): the GP's mean, std and
    EI over a plotting grid, and the point chosen, so an explorer can replay the search.

    Args:
        f: the objective, ``f(params: dict) -> float``; lower is better, NaN/inf = failed.
        space: the search space.
        n: the number of evaluations (>= 1), the initial ones included.
        seed: the seed of the initial points and of the candidates.
        n_init: the number of random initial points (1 <= n_init <= n); None: min(n, 2d + 2).
        gp: the model, refitted at each step; None: ``GaussianProcess("matern52",
            length_scale=None, noise=None)`` (both fitted by marginal likelihood).
        xi: the ξ of expected improvement (>= 0), in the units of f.
        n_candidates: random candidates per step (>= 1).
        plot_points: the size of the plotting grid of the trace (>= 2).

    Returns:
        A :class:`SearchResult` with ``method="bayes"`` and ``trace``.

    Example:
        >>> from lrcourse.tuning import LogUniform
        >>> f = lambda p: (math.log10(p["lr"]) + 2) ** 2          # best at lr = 0.01
        >>> r = bayes_search(f, {"lr": LogUniform(1e-5, 1.0)}, n=10, seed=0)
        >>> round(r.best_params["lr"], 4), len(r.trace), r.trace[0].trial
        (0.01, 6, 4)
    """
    check_callable(f, "f")
    space = check_space(space)
    n = check_int(n, "n", minimum=1)
    seed = check_int(seed, "seed")
    d = len(space)
    n_init = min(n, 2 * d + 2) if n_init is None else check_int(n_init, "n_init", minimum=1)
    if n_init > n:
        raise ValueError(f"n_init must be <= n={n}, got n_init={n_init}")
    if gp is None:
        gp = GaussianProcess("matern52", length_scale=None, noise=None)
    elif not isinstance(gp, GaussianProcess):
        raise TypeError(f"gp must be a GaussianProcess or None, got gp={gp!r}")
    xi = check_nonnegative(xi, "xi")
    n_candidates = check_int(n_candidates, "n_candidates", minimum=1)
    plot_points = check_int(plot_points, "plot_points", minimum=2)

    rng = np.random.default_rng(seed)
    units = list(rng.random((n_init, d)))
    params = from_units(space, np.array(units))
    values = [evaluate(f, p) for p in progress(params, description="initial points")]
    plot_units = grid_units(d, plot_points)
    plot_params = from_units(space, plot_units)
    grid = {name: np.array([p[name] for p in plot_params]) for name in space}
    trace = []
    for trial in progress(range(n_init, n), description="Bayesian optimisation"):
        X, y = np.array(units), np.array(values)
        finite = np.isfinite(y)
        y = np.where(finite, y, y[finite].max() if finite.any() else 0.0)
        gp.fit(X, y)
        best = float(y[finite].min()) if finite.any() else 0.0
        incumbent = X[np.argmin(np.where(finite, y, np.inf))]
        local = incumbent + 0.05 * rng.standard_normal((max(1, n_candidates // 5), d))
        candidates = np.vstack([plot_units, rng.random((n_candidates, d)), np.clip(local, 0, 1)])
        mean, std = gp.predict(candidates)
        ei = expected_improvement(mean, std, best, xi)
        choice = int(np.argmax(ei))
        m = len(plot_units)
        chosen = from_units(space, candidates[choice : choice + 1])[0]
        trace.append(BayesStep(
            trial=trial, grid=grid, mean=mean[:m], std=std[:m], ei=ei[:m], best=best,
            next_params=chosen, next_ei=float(ei[choice]), length_scale=gp.length_scale_,
            noise=gp.noise_,
        ))
        units.append(candidates[choice])
        params.append(chosen)
        values.append(evaluate(f, chosen))
    return SearchResult("bayes", params, np.array(values), trace=trace)
