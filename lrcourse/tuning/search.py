"""Search spaces, the record of a search, and the two plain searches: grid and random.

A *search space* is a dict from a hyperparameter's name to a one-dimensional range::

    space = {"lr": LogUniform(1e-4, 1.0), "momentum": Uniform(0.0, 0.99)}

Every range is a monotone map from the unit interval [0, 1] onto its values, so that every
search works in the unit cube [0, 1]^d and only converts at the end: a grid is evenly spaced
in the unit cube (hence log-spaced along a ``LogUniform`` axis), a random draw is uniform in it
(hence log-uniform), and the Gaussian process of :func:`~lrcourse.tuning.bayes_search` models
the objective over it (hence over log α).

An *objective* is a function ``f(params) -> float`` of one configuration (a dict such as
``{"lr": 0.01, "momentum": 0.9}``); lower is better, and NaN or inf marks a failed trial
(a diverged run, say). Every search returns a :class:`SearchResult`.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from lrcourse._validate import check_callable, check_finite, check_int, check_positive
from lrcourse.progress import progress

__all__ = [
    "Distribution",
    "LogUniform",
    "SearchResult",
    "Uniform",
    "grid_search",
    "random_search",
]


# ---------------------------------------------------------------------------------------------
# Ranges


class Distribution:
    """A one-dimensional search range: a monotone map from the unit interval onto values.

    Subclasses define ``from_unit`` (u in [0, 1] -> value) and ``to_unit`` (its inverse).
    Sampling u uniformly in [0, 1] and mapping it is how every range is sampled.
    """

    low: float
    high: float

    def from_unit(self, u: Any) -> np.ndarray:
        raise NotImplementedError

    def to_unit(self, value: Any) -> np.ndarray:
        raise NotImplementedError

    def sample(self, rng: np.random.Generator, size: int | None = None) -> Any:
        """Draw values: ``from_unit(U)`` with U uniform in [0, 1)."""
        return self.from_unit(rng.random(size))


def _check_range(low: Any, high: Any, cls: str) -> tuple[float, float]:
    low, high = check_finite(low, "low"), check_finite(high, "high")
    if not low < high:
        raise ValueError(f"{cls} needs low < high, got low={low!r} and high={high!r}")
    return low, high


class Uniform(Distribution):
    """Values spread evenly between ``low`` and ``high``: momentum, dropout, a warm-up fraction.

    Formula::

        value = low + u (high - low),   u in [0, 1]

    Args:
        low, high: the ends of the range (finite, low < high).

    Example:
        >>> Uniform(0.0, 0.99).from_unit([0.0, 0.5, 1.0])
        array([0.   , 0.495, 0.99 ])
    """

    def __init__(self, low: float, high: float) -> None:
        self.low, self.high = _check_range(low, high, "Uniform")

    def from_unit(self, u: Any) -> np.ndarray:
        return self.low + np.asarray(u, dtype=float) * (self.high - self.low)

    def to_unit(self, value: Any) -> np.ndarray:
        return (np.asarray(value, dtype=float) - self.low) / (self.high - self.low)

    def __repr__(self) -> str:
        return f"Uniform({self.low:g}, {self.high:g})"


class LogUniform(Distribution):
    """Values spread evenly in log scale: each decade between ``low`` and ``high`` equally likely.

    The natural range for a learning rate, whose effect depends on its order of magnitude:
    drawing uniformly in [1e-4, 1] would put 90% of the draws above 0.1.

    Formula::

        value = low (high / low)^u,   u in [0, 1]     (log value = log low + u log(high/low))

    Args:
        low, high: the ends of the range (0 < low < high).

    Example:
        >>> LogUniform(1e-4, 1.0).from_unit([0.0, 0.5, 1.0])
        array([1.e-04, 1.e-02, 1.e+00])
    """

    def __init__(self, low: float, high: float) -> None:
        check_positive(low, "low")
        self.low, self.high = _check_range(low, high, "LogUniform")

    def from_unit(self, u: Any) -> np.ndarray:
        return self.low * (self.high / self.low) ** np.asarray(u, dtype=float)

    def to_unit(self, value: Any) -> np.ndarray:
        return np.log(np.asarray(value, dtype=float) / self.low) / math.log(self.high / self.low)

    def __repr__(self) -> str:
        return f"LogUniform({self.low:g}, {self.high:g})"


def check_space(space: Any) -> dict[str, Distribution]:
    """A search space: a non-empty dict from names (str) to ranges (Uniform, LogUniform)."""
    if not isinstance(space, dict) or not space:
        raise TypeError(
            "space must be a non-empty dict of ranges, e.g. {'lr': LogUniform(1e-4, 1.0)}, "
            f"got space={space!r}"
        )
    for name, dist in space.items():
        if not isinstance(name, str):
            raise TypeError(f"space keys must be names (str), got the key {name!r}")
        if not isinstance(dist, Distribution):
            raise TypeError(
                f"space[{name!r}] must be a range such as Uniform(0, 1) or LogUniform(1e-4, 1), "
                f"got space[{name!r}]={dist!r}"
            )
    return dict(space)


def from_units(space: dict[str, Distribution], units: np.ndarray) -> list[dict[str, float]]:
    """Configurations from points of the unit cube (one row per configuration)."""
    columns = [dist.from_unit(units[:, j]) for j, dist in enumerate(space.values())]
    return [
        {name: float(column[i]) for name, column in zip(space, columns, strict=True)}
        for i in range(len(units))
    ]


def grid_units(d: int, n: int) -> np.ndarray:
    """The regular grid of at most n points in [0, 1]^d: k = ⌊n^(1/d)⌋ points per axis, ends
    included (the centre 0.5 when k = 1), the last axis varying fastest; shape (k^d, d)."""
    k = max(1, int(round(n ** (1.0 / d))))
    while k**d > n and k > 1:
        k -= 1
    while (k + 1) ** d <= n:
        k += 1
    axis = np.linspace(0.0, 1.0, k) if k > 1 else np.array([0.5])
    mesh = np.meshgrid(*([axis] * d), indexing="ij")
    return np.stack([m.ravel() for m in mesh], axis=1)


# ---------------------------------------------------------------------------------------------
# Evaluating the objective


def evaluate(f: Callable[..., Any], params: dict[str, float], *extra: Any) -> float:
    """``float(f(params, *extra))``, without NumPy's overflow warnings (failed trials: NaN/inf)."""
    with np.errstate(all="ignore"):
        value = f(dict(params), *extra)
    try:
        return float(value)
    except (TypeError, ValueError):
        raise TypeError(
            f"f must return a number (lower is better), got f({params!r})={value!r}"
        ) from None


def _run(f: Callable[..., Any], configs: list[dict[str, float]], description: str) -> np.ndarray:
    return np.array([evaluate(f, p) for p in progress(configs, description=description)])


# ---------------------------------------------------------------------------------------------
# The record of a search


@dataclass(eq=False, repr=False)
class SearchResult:
    """Every trial of a search, in the order it was run, and the best of them.

    Attributes:
        method: "grid", "random", "bayes" or "successive_halving".
        params: ``params[i]`` is the i-th configuration tried (a dict name -> value).
        values: ``values[i]`` is the objective at ``params[i]``; NaN or inf marks a failure.
        budgets: for successive halving, the budget each trial was run with; else None.
        rungs: for successive halving, the rung (0, 1, ...) of each trial; else None.
        trace: for Bayesian search, one :class:`~lrcourse.tuning.BayesStep` per proposal
            (the GP and the acquisition it was chosen from); else None.

    Example:
        >>> r = SearchResult("random", [{"lr": 0.1}, {"lr": 1.0}, {"lr": 0.01}],
        ...                  np.array([0.5, np.nan, 0.2]))
        >>> r.best_params, r.best_value, r.best_so_far()
        ({'lr': 0.01}, 0.2, array([0.5, 0.5, 0.2]))
    """

    method: str
    params: list[dict[str, float]]
    values: np.ndarray
    budgets: np.ndarray | None = None
    rungs: np.ndarray | None = None
    trace: list[Any] | None = None

    def __len__(self) -> int:
        return len(self.values)

    @property
    def best_index(self) -> int | None:
        """The index of the best trial: the lowest finite value, the first one on ties; None
        if every trial failed. For successive halving, only the trials run with the largest
        budget count (values at different budgets do not compare)."""
        values = np.where(np.isfinite(self.values), self.values, np.inf)
        if self.budgets is not None and len(values):
            values = np.where(self.budgets == self.budgets.max(), values, np.inf)
        if not len(values) or not np.isfinite(values.min()):
            return None
        return int(np.argmin(values))

    @property
    def best_params(self) -> dict[str, float] | None:
        """The configuration of the best trial (a copy), or None if every trial failed."""
        i = self.best_index
        return None if i is None else dict(self.params[i])

    @property
    def best_value(self) -> float:
        """The objective at the best trial, NaN if every trial failed."""
        i = self.best_index
        return math.nan if i is None else float(self.values[i])

    def best_so_far(self) -> np.ndarray:
        """The best value after each trial: ``min(values[:i+1])`` over finite values.

        ``inf`` until the first trial that did not fail. The curve to compare searches at equal
        numbers of evaluations (for successive halving compare ``best_value`` at equal
        ``compute`` instead: its trials ran with different budgets).
        """
        return np.minimum.accumulate(np.where(np.isfinite(self.values), self.values, np.inf))

    @property
    def compute(self) -> float:
        """The compute spent: the sum of the budgets for successive halving, else the number of
        trials (one unit per evaluation)."""
        return float(self.budgets.sum()) if self.budgets is not None else float(len(self.values))

    def param(self, name: str) -> np.ndarray:
        """The values of one hyperparameter over the trials, in order (for plots)."""
        if not self.params or name not in self.params[0]:
            known = ", ".join(self.params[0]) if self.params else "none"
            raise KeyError(f"name must be a hyperparameter of the search ({known}), got {name!r}")
        return np.array([p[name] for p in self.params])

    def __repr__(self) -> str:
        return (
            f"SearchResult(method={self.method!r}, trials={len(self.values)}, "
            f"best_value={self.best_value:.4g}, best_params={self.best_params})"
        )


# ---------------------------------------------------------------------------------------------
# Grid and random search


def grid_search(f: Callable[[dict[str, float]], float], space: dict[str, Distribution],
                n: int) -> SearchResult:
    """Evaluate ``f`` on a regular grid over the space: log-spaced along ``LogUniform`` axes.

    With d hyperparameters the grid has k = ⌊n^(1/d)⌋ points per axis, ends included (the
    middle of the range when k = 1), so k^d <= n trials: exactly n in one dimension.
    Trials run in ``itertools.product`` order, the last name of the space varying fastest::

        u_i = i / (k - 1),  i = 0..k-1;   value = dist.from_unit(u_i) along each axis

    A grid spends its budget on k values per axis only: when one hyperparameter matters
    much more than the others, random search (n distinct values per axis) finds a better
    one at the same budget (Bergstra & Bengio, 2012).

    Args:
        f: the objective, ``f(params: dict) -> float``; lower is better, NaN/inf = failed.
        space: the search space, e.g. ``{"lr": LogUniform(1e-4, 1.0)}``.
        n: the largest number of evaluations (>= 1).

    Returns:
        A :class:`SearchResult` with ``method="grid"``.

    Example:
        >>> r = grid_search(lambda p: (math.log10(p["lr"]) + 2) ** 2,
        ...                 {"lr": LogUniform(1e-4, 1.0)}, n=5)
        >>> r.param("lr"), r.best_params
        (array([1.e-04, 1.e-03, 1.e-02, 1.e-01, 1.e+00]), {'lr': 0.01})
        >>> len(grid_search(lambda p: 0.0, {"a": Uniform(0, 1), "b": Uniform(0, 1)}, n=10))
        9
    """
    check_callable(f, "f")
    space = check_space(space)
    n = check_int(n, "n", minimum=1)
    configs = from_units(space, grid_units(len(space), n))
    for name, dist in space.items():  # exact ends, free of the rounding of from_unit
        for p in configs:
            p[name] = min(max(p[name], dist.low), dist.high)
    return SearchResult("grid", configs, _run(f, configs, "grid search"))


def random_search(f: Callable[[dict[str, float]], float], space: dict[str, Distribution],
                  n: int, seed: int = 0) -> SearchResult:
    """Evaluate ``f`` at n configurations drawn independently from the space.

    Each configuration is a point U of the unit cube drawn uniformly, mapped axis by axis
    (``value = dist.from_unit(U_j)``): uniform along ``Uniform`` axes, log-uniform along
    ``LogUniform`` ones. The points are ``np.random.default_rng(seed).random((n, d))``, so
    the first m configurations do not depend on n, and :func:`bayes_search` and
    :func:`successive_halving` with the same seed start from these same configurations.

    Args:
        f: the objective, ``f(params: dict) -> float``; lower is better, NaN/inf = failed.
        space: the search space.
        n: the number of evaluations (>= 1).
        seed: the seed of the draws.

    Returns:
        A :class:`SearchResult` with ``method="random"``.

    Example:
        >>> r = random_search(lambda p: (math.log10(p["lr"]) + 2) ** 2,
        ...                   {"lr": LogUniform(1e-4, 1.0)}, n=20, seed=0)
        >>> len(r), round(r.best_params["lr"], 4), r.best_so_far()[[0, 4, 19]].round(3)
        (20, 0.0147, array([0.3  , 0.3  , 0.028]))
    """
    check_callable(f, "f")
    space = check_space(space)
    n = check_int(n, "n", minimum=1)
    seed = check_int(seed, "seed")
    configs = sample_configs(space, n, np.random.default_rng(seed))
    return SearchResult("random", configs, _run(f, configs, "random search"))


def sample_configs(space: dict[str, Distribution], n: int,
                   rng: np.random.Generator) -> list[dict[str, float]]:
    """n configurations drawn from the space with ``rng.random((n, d))`` (see random_search)."""
    return from_units(space, rng.random((n, len(space))))
