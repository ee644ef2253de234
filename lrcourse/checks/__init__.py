"""What the notebooks' test cells call: checks that teach.

Each ``check_<name>(your_function)`` runs your function on seeded cases,
compares it with the reference library and, at the first difference, raises
``AssertionError`` naming the likely mistake (a flipped sign, a missing
bias correction, an off-by-one in the step count...), the case, and the
expected and obtained values.
"""

from ._core import Case, Exercise, Mistake, ValueExercise, collect, make_check, report, run_check
from .basics import (
    check_alpha_ill_conditioned,
    check_alpha_one_step,
    check_classify_regime,
    check_gd_step,
    check_max_stable_lr,
    check_parabola_iterate,
    check_run_gd,
)
from .choice import check_choice

__all__ = [
    "Case",
    "Exercise",
    "Mistake",
    "ValueExercise",
    "check_alpha_ill_conditioned",
    "check_alpha_one_step",
    "check_choice",
    "check_classify_regime",
    "check_gd_step",
    "check_max_stable_lr",
    "check_parabola_iterate",
    "check_run_gd",
    "collect",
    "make_check",
    "report",
    "run_check",
]
