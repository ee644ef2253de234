"""Successive halving: try many configurations cheaply, give more budget to the best.

The budget is whatever makes a trial more expensive and more telling: training steps,
epochs, samples. Few steps are enough to tell a rate that diverges or barely moves from a
good one, so most of the compute can go to the few configurations still in the race.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from lrcourse._validate import check_callable, check_int, check_positive
from lrcourse.progress import progress
from lrcourse.tuning.search import (
    Distribution,
    SearchResult,
    check_space,
    evaluate,
    sample_configs,
)

__all__ = ["successive_halving"]


def _budget(min_budget: float, eta: float, rung: int) -> Any:
    """min_budget · η^rung, an int when both are ints (a number of steps stays a whole number)."""
    if isinstance(min_budget, int | np.integer) and isinstance(eta, int | np.integer):
        return int(min_budget) * int(eta) ** rung
    return float(min_budget) * float(eta) ** rung


def successive_halving(
    f_budget: Callable[[dict[str, float], Any], float],
    space: dict[str, Distribution],
    n: int,
    min_budget: float,
    eta: float = 3,
    seed: int = 0,
    max_budget: float | None = None,
) -> SearchResult:
    """Successive halving (Jamieson & Talwalkar, 2016): Hyperband's inner loop (Li et al., 2018).

    Start with n configurations drawn as in :func:`random_search` (same seed, same
    configurations), then, rung after rung::

        rung i = 0, 1, ...:  run each of the n_i surviving configurations with budget
                             r_i = min_budget · η^i               (n_0 = n)
                             keep the ⌊n_i / η⌋ best for rung i + 1  (failed trials rank last,
                             ties keep the earlier trial)
        stop after the rung where fewer than η configurations remain (so ⌊n_i / η⌋ = 0),
        or before a rung whose budget would exceed max_budget

    so n_i = ⌊n / η^i⌋, and the compute spent is Σ_i n_i r_i budget units: with n = η^s each
    rung costs n · min_budget, and s + 1 rungs cost (s + 1) n · min_budget, against
    n · η^s · min_budget for running all n configurations with the largest budget.
    Every evaluation is a fresh ``f_budget(params, r_i)``: a survivor's earlier, smaller run
    is not resumed, and its compute counts again in full.

    Args:
        f_budget: the objective ``f_budget(params: dict, budget) -> float``; lower is better,
            NaN/inf = failed. The budget is an int when ``min_budget`` and ``eta`` are ints.
        space: the search space.
        n: the number of configurations at the first rung (>= 1).
        min_budget: the budget of the first rung (> 0).
        eta: the factor η > 1: keep one configuration in η, give each η times the budget.
        seed: the seed of the configurations.
        max_budget: the largest budget a rung may use (>= min_budget), or None (no limit).

    Returns:
        A :class:`SearchResult` with ``method="successive_halving"``, every trial in the order
        run (rung 0 first), its ``budgets`` and ``rungs``; ``best_*`` are taken over the trials
        of the last rung, and ``compute`` is Σ n_i r_i.

    Example:
        >>> from lrcourse.tuning import Uniform
        >>> def f(params, budget):                # a noisy estimate whose noise falls
        ...     return (params["lr"] - 0.3) ** 2 + 0.1 / budget
        >>> r = successive_halving(f, {"lr": Uniform(0, 1)}, n=27, min_budget=1, eta=3)
        >>> np.bincount(r.rungs), np.unique(r.budgets), r.compute
        (array([27,  9,  3,  1]), array([ 1,  3,  9, 27]), 108.0)
        >>> round(r.best_params["lr"], 4), round(r.best_value, 4)    # 0.1/27 of noise left
        (0.2997, 0.0037)
    """
    check_callable(f_budget, "f_budget")
    space = check_space(space)
    n = check_int(n, "n", minimum=1)
    check_positive(min_budget, "min_budget")
    check_positive(eta, "eta")
    if not eta > 1:
        raise ValueError(f"eta must be a number > 1, got eta={eta!r}")
    seed = check_int(seed, "seed")
    if max_budget is not None:
        check_positive(max_budget, "max_budget")
        if max_budget < min_budget:
            raise ValueError(
                f"max_budget must be >= min_budget={min_budget!r}, got max_budget={max_budget!r}"
            )

    survivors = sample_configs(space, n, np.random.default_rng(seed))
    params: list[dict[str, float]] = []
    values: list[float] = []
    budgets: list[Any] = []
    rungs: list[int] = []
    rung = 0
    while True:
        budget = _budget(min_budget, eta, rung)
        description = f"rung {rung}: {len(survivors)} x budget {budget:g}"
        scores = np.array([
            evaluate(f_budget, p, budget) for p in progress(survivors, description=description)
        ])
        params += survivors
        values += scores.tolist()
        budgets += [budget] * len(survivors)
        rungs += [rung] * len(survivors)
        keep = math.floor(len(survivors) / eta)
        next_budget = _budget(min_budget, eta, rung + 1)
        if keep == 0 or (max_budget is not None and next_budget > max_budget):
            break
        order = np.argsort(np.where(np.isfinite(scores), scores, np.inf), kind="stable")
        survivors = [survivors[i] for i in order[:keep]]
        rung += 1
    return SearchResult(
        "successive_halving", params, np.array(values), budgets=np.array(budgets),
        rungs=np.array(rungs),
    )
