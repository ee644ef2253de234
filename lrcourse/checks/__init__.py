"""What the notebooks' test cells call: checks that teach.

Each ``check_<name>(your_function)`` runs your function on seeded cases,
compares it with the reference library and, at the first difference, raises
``AssertionError`` naming the likely mistake (a flipped sign, a missing
bias correction, an off-by-one in the step count...), the case, and the
expected and obtained values.

One module per section defines its exercises; importing this package
registers all of them (the grader looks exercises up by name).
"""

from ._core import Case, Exercise, Mistake, ValueExercise, collect, make_check, report, run_check
from .adaptive import *  # noqa: F403
from .advanced import *  # noqa: F403
from .basics import *  # noqa: F403
from .cases import *  # noqa: F403
from .challenges import *  # noqa: F403
from .choice import *  # noqa: F403
from .overfitting import *  # noqa: F403
from .practice import *  # noqa: F403
from .schedules import *  # noqa: F403
from .trends import *  # noqa: F403

__all__ = [
    "Case",
    "Exercise",
    "Mistake",
    "ValueExercise",
    "collect",
    "make_check",
    "report",
    "run_check",
]
__all__ += [name for name in dir() if name.startswith("check_")]
