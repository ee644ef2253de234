"""Tuning the learning rate: search for it, learn it online, meta-learn it.

Searches share one shape of API (learn one, know all): an objective ``f(params) -> float``
(lower is better, NaN/inf = failed), a search space of ranges, a budget ``n`` and a ``seed``;
each returns a :class:`SearchResult`.

====================  =================================================================
module                contents
====================  =================================================================
``search``            ``Uniform``, ``LogUniform``; ``grid_search``, ``random_search``;
                      ``SearchResult``
``bayes``             ``GaussianProcess``, ``expected_improvement``, ``bayes_search``,
                      ``BayesStep`` (one recorded iteration)
``halving``           ``successive_halving`` (Hyperband's inner loop)
``hypergradient``     ``hypergradient_update``, ``train_hypergradient`` (Baydin et al., 2018)
``reptile``           ``adapt``, ``adapt_and_evaluate``, ``reptile`` (Nichol et al., 2018)
====================  =================================================================

Example:
    >>> import math
    >>> space = {"lr": LogUniform(1e-4, 1.0)}
    >>> f = lambda p: (math.log10(p["lr"]) + 2) ** 2        # best at lr = 0.01
    >>> [round(s(f, space, n=9).best_value, 3) for s in (grid_search, random_search, bayes_search)]
    [0.0, 0.03, 0.001]
"""

from lrcourse.tuning.bayes import (
    LENGTH_SCALES,
    NOISES,
    BayesStep,
    GaussianProcess,
    bayes_search,
    expected_improvement,
)
from lrcourse.tuning.halving import successive_halving
from lrcourse.tuning.hypergradient import hypergradient_update, train_hypergradient
from lrcourse.tuning.reptile import adapt, adapt_and_evaluate, reptile
from lrcourse.tuning.search import (
    Distribution,
    LogUniform,
    SearchResult,
    Uniform,
    grid_search,
    random_search,
)

__all__ = [
    "LENGTH_SCALES",
    "NOISES",
    "BayesStep",
    "Distribution",
    "GaussianProcess",
    "LogUniform",
    "SearchResult",
    "Uniform",
    "adapt",
    "adapt_and_evaluate",
    "bayes_search",
    "expected_improvement",
    "grid_search",
    "hypergradient_update",
    "random_search",
    "reptile",
    "successive_halving",
    "train_hypergradient",
]
