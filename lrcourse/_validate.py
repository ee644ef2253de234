"""Argument checks shared by the whole library.

Every public function validates its arguments up front and raises an error
that names the argument and quotes the value it got, e.g.
``ValueError: lr must be a finite number >= 0, got lr=-0.1``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from numbers import Real
from typing import Any

import numpy as np

__all__ = [
    "check_at_least",
    "check_callable",
    "check_choice",
    "check_finite",
    "check_finite_array",
    "check_increasing",
    "check_index_array",
    "check_int",
    "check_lr",
    "check_nonnegative",
    "check_positive",
    "check_probability",
    "check_same_shape",
    "check_unit_interval",
]


def _real(value: Any, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, Real | np.floating | np.integer):
        raise TypeError(f"{name} must be a real number, got {name}={value!r}")
    return float(value)


def check_lr(lr: Any, name: str = "lr") -> float:
    """A learning rate: a finite real number >= 0."""
    x = _real(lr, name)
    if not math.isfinite(x) or x < 0:
        raise ValueError(f"{name} must be a finite number >= 0, got {name}={lr!r}")
    return x


def check_positive(value: Any, name: str) -> float:
    """A finite real number > 0 (eps, a period, a factor...)."""
    x = _real(value, name)
    if not math.isfinite(x) or x <= 0:
        raise ValueError(f"{name} must be a finite number > 0, got {name}={value!r}")
    return x


def check_nonnegative(value: Any, name: str) -> float:
    """A finite real number >= 0 (weight decay, a minimum rate...)."""
    x = _real(value, name)
    if not math.isfinite(x) or x < 0:
        raise ValueError(f"{name} must be a finite number >= 0, got {name}={value!r}")
    return x


def check_unit_interval(value: Any, name: str) -> float:
    """A coefficient in [0, 1): betas, momentum, the smoothing of an average."""
    x = _real(value, name)
    if not 0.0 <= x < 1.0:
        raise ValueError(f"{name} must be in [0, 1), got {name}={value!r}")
    return x


def check_probability(value: Any, name: str) -> float:
    """A fraction in [0, 1] (dampening, pct_start...)."""
    x = _real(value, name)
    if not 0.0 <= x <= 1.0:
        raise ValueError(f"{name} must be in [0, 1], got {name}={value!r}")
    return x


def check_int(value: Any, name: str, minimum: int = 0) -> int:
    """An integer >= ``minimum`` (a step count, a period, a patience)."""
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise TypeError(f"{name} must be an integer, got {name}={value!r}")
    if value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {name}={value!r}")
    return int(value)


def check_choice(value: Any, name: str, choices: Iterable[str]) -> str:
    """One of a fixed set of strings (a mode, an annealing strategy...)."""
    choices = tuple(choices)
    if value not in choices:
        options = ", ".join(repr(c) for c in choices)
        raise ValueError(f"{name} must be one of {options}, got {name}={value!r}")
    return value


def check_same_shape(param: np.ndarray, grad: np.ndarray, name: str = "grad") -> None:
    """A gradient must have exactly the shape of its parameter."""
    if np.shape(param) != np.shape(grad):
        raise ValueError(
            f"{name} must have the shape of its parameter {np.shape(param)}, "
            f"got {name} of shape {np.shape(grad)}"
        )


def check_finite_array(array: np.ndarray, name: str) -> None:
    """Reject NaN or infinite entries where they cannot be meant (e.g. a gradient)."""
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{name} must be finite everywhere, got non-finite values in {name}")


def check_finite(value: Any, name: str) -> float:
    """Any finite real number (an angle, a coordinate of a centre...)."""
    x = _real(value, name)
    if not math.isfinite(x):
        raise ValueError(f"{name} must be a finite number, got {name}={value!r}")
    return x


def check_at_least(value: Any, name: str, minimum: float) -> float:
    """A finite real number >= ``minimum`` (a condition number >= 1...)."""
    x = _real(value, name)
    if not math.isfinite(x) or x < minimum:
        raise ValueError(f"{name} must be a finite number >= {minimum:g}, got {name}={value!r}")
    return x


def check_index_array(value: Any, name: str, size: int) -> np.ndarray:
    """A 1-D array of integers in [0, size): class labels, or indices of samples."""
    array = np.asarray(value)
    if array.ndim != 1:
        raise ValueError(
            f"{name} must be a 1-D array of integers in [0, {size}), "
            f"got {name} of shape {array.shape}"
        )
    if array.dtype.kind == "f" and np.all(np.isfinite(array)) and np.all(array == np.round(array)):
        array = array.astype(np.intp)  # labels stored as floats 0.0, 1.0 are still labels
    if array.dtype.kind not in "iu":
        raise TypeError(
            f"{name} must be a 1-D array of integers in [0, {size}), "
            f"got {name} of dtype {array.dtype}"
        )
    if array.size and (array.min() < 0 or array.max() >= size):
        raise ValueError(
            f"{name} must be a 1-D array of integers in [0, {size}), "
            f"got {name} with values in [{array.min()}, {array.max()}]"
        )
    return array.astype(np.intp, copy=False)


def check_callable(value: Any, name: str) -> Any:
    """Something to call: a schedule, a custom scaling function, a callback."""
    if not callable(value):
        raise TypeError(f"{name} must be callable, got {name}={value!r}")
    return value


def check_increasing(values: Any, name: str, minimum: int = 0) -> tuple[int, ...]:
    """A strictly increasing sequence of integers >= ``minimum`` (milestones, stage boundaries)."""
    if isinstance(values, str) or not isinstance(values, Iterable):
        raise TypeError(f"{name} must be a sequence of integers, got {name}={values!r}")
    items = tuple(values)
    for i, value in enumerate(items):
        check_int(value, f"{name}[{i}]", minimum)
    if any(items[i + 1] <= items[i] for i in range(len(items) - 1)):
        raise ValueError(f"{name} must be strictly increasing, got {name}={values!r}")
    return tuple(int(value) for value in items)
