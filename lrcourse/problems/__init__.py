"""Problems to optimise: loss landscapes with exact derivatives, and small data sets.

- ``landscapes``: Parabola, Quadratic, Rosenbrock, Beale, BumpyWell, Saddle; every one is
  batched (points of shape ``(..., dim)``) and has ``loss``, ``grad``, ``hessian``, ``dim``,
  ``x0``, ``minimum``, ``bounds`` and ``name``.
- ``regression``: LinearRegressionLoss, LogisticRegressionLoss, the same interface over a
  weight vector, plus ``minibatch_grad`` for stochastic gradients.
- ``datasets``: seeded generators (linear and logistic regression, two moons, spirals,
  the sine task family), ``train_val_split`` and ``load_digits``.
"""

from lrcourse.problems.datasets import (
    Dataset,
    SineTask,
    linear_regression,
    load_digits,
    logistic_regression,
    sine_tasks,
    spirals,
    train_val_split,
    two_moons,
)
from lrcourse.problems.landscapes import (
    Beale,
    BumpyWell,
    Landscape,
    Parabola,
    Quadratic,
    Rosenbrock,
    Saddle,
)
from lrcourse.problems.regression import LinearRegressionLoss, LogisticRegressionLoss

__all__ = [
    "Beale",
    "BumpyWell",
    "Dataset",
    "Landscape",
    "LinearRegressionLoss",
    "LogisticRegressionLoss",
    "Parabola",
    "Quadratic",
    "Rosenbrock",
    "Saddle",
    "SineTask",
    "linear_regression",
    "load_digits",
    "logistic_regression",
    "sine_tasks",
    "spirals",
    "train_val_split",
    "two_moons",
]
