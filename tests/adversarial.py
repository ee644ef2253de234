"""Hostile and broken submissions, built from the real student release of a section.

Each builder returns ``(notebook, twin)``: the submission, and the same work with
its trick removed.  The grader's rule is that a submission never earns more than
its twin.  ``twin`` is ``None`` where the file is not a notebook at all.
"""

from __future__ import annotations

import copy
from collections.abc import Callable

import nbformat

from lrcourse.course import notebook_path

from .conftest import COURSE

NAME = "01_learning_rate"
HONEST_ANSWERS = {  # grade_id -> source, an honest learner's solutions
    "gd_step": "def gd_step(theta, grad, lr):\n    return theta - lr * grad\n",
    "run_gd": (
        "def run_gd(grad_fn, theta0, lr, steps):\n"
        "    path = [np.asarray(theta0, dtype=float)]\n"
        "    for _ in range(steps):\n"
        "        path.append(gd_step(path[-1], grad_fn(path[-1]), lr))\n"
        "    return np.array(path)\n"
    ),
    "parabola_iterate": (
        "def parabola_iterate(x0, curvature, lr, k):\n"
        "    return x0 * (1 - lr * curvature) ** np.asarray(k, dtype=float)\n"
    ),
    "predict_overshoot": 'prediction_overshoot = "c"\n',
    "alpha_one_step": "alpha_one_step = 0.25\n",
}
POINTS = {"gd_step": 1, "run_gd": 2, "parabola_iterate": 2, "predict_overshoot": 1,
          "alpha_one_step": 1}


def release() -> nbformat.NotebookNode:
    return nbformat.read(notebook_path(COURSE, NAME, "release"), as_version=4)


def answered(ids=HONEST_ANSWERS) -> nbformat.NotebookNode:
    """The release with honest answers for the exercises in ``ids``."""
    nb = release()
    for cell in nb.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if grade_id in ids:
            cell.source = HONEST_ANSWERS[grade_id]
    return nb


def _cell(nb, grade_id: str):
    return next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id)


def _insert_after(nb, grade_id: str, source: str) -> None:
    index = nb.cells.index(_cell(nb, grade_id))
    nb.cells.insert(index + 1, nbformat.v4.new_code_cell(source))


def _with_cell(source: str, after: str = "gd_step", ids=HONEST_ANSWERS):
    def build():
        twin = answered(ids)
        nb = copy.deepcopy(twin)
        _insert_after(nb, after, source)
        return nb, twin
    return build


ONLY_FIRST = {k: HONEST_ANSWERS[k] for k in ("gd_step", "parabola_iterate")}


def _test_cell_edited():
    twin = answered(ONLY_FIRST)
    nb = copy.deepcopy(twin)
    _cell(nb, "run_gd_tests").source = "pass"
    _cell(nb, "predict_overshoot_tests").source = "print('\u2714 all tests pass')"
    return nb, twin


def _test_cell_deleted():
    twin = answered(ONLY_FIRST)
    nb = copy.deepcopy(twin)
    nb.cells = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id")
                not in ("run_gd_tests", "alpha_one_step_tests")]
    return nb, twin


def _metadata_stripped():
    twin = answered(ONLY_FIRST)
    nb = copy.deepcopy(twin)
    for cell in nb.cells:
        cell.metadata = {}
    return nb, twin


def _delegates():
    twin = answered({k: v for k, v in HONEST_ANSWERS.items() if k != "gd_step"})
    nb = copy.deepcopy(twin)
    _cell(nb, "gd_step").source = (
        "from lrcourse.optimizers import sgd_step as _step\n\n"
        "def gd_step(theta, grad, lr):\n"
        "    return _step(np.asarray(theta, float), np.asarray(grad, float), lr=lr)[0]\n"
    )
    return nb, twin


def _fake_passes():
    twin = release()
    nb = copy.deepcopy(twin)
    for cell in nb.cells:
        if cell.metadata.get("nbgrader", {}).get("solution"):
            cell.source = "print('\u2714 gd_step: 3 cases pass')\nprint('All tests passed!')"
    return nb, twin


def _exit_in_function():
    twin = answered({k: v for k, v in HONEST_ANSWERS.items() if k != "run_gd"})
    nb = copy.deepcopy(twin)
    _cell(nb, "run_gd").source = (
        "import os\n\ndef run_gd(grad_fn, theta0, lr, steps):\n    os._exit(0)\n")
    return nb, twin


def _loop_in_function():
    twin = answered({k: v for k, v in HONEST_ANSWERS.items() if k != "parabola_iterate"})
    nb = copy.deepcopy(twin)
    _cell(nb, "parabola_iterate").source = (
        "def parabola_iterate(x0, curvature, lr, k):\n    while True:\n        pass\n")
    return nb, twin


PATCH_NUMPY = (
    "import numpy\n"
    "numpy.allclose = lambda *a, **k: True\n"
    "numpy.isclose = lambda a, b, *r, **k: numpy.ones(numpy.shape(a), dtype=bool)\n"
    "numpy.testing.assert_allclose = lambda *a, **k: None\n"
    "numpy.array_equal = lambda *a, **k: True\n"
)
WRONG_ITERATE = (
    "def parabola_iterate(x0, curvature, lr, k):\n    return x0 * (1 + lr * curvature) ** k\n")
BLANK_LATER_CELLS = "get_ipython().input_transformers_cleanup.append(lambda lines: [])"
MEMORY_BOMB = "hog = []\nwhile True:\n    hog.append(bytearray(200_000_000))"

#: kind -> builder returning (submission, twin).  Tricks sit next to honest work on
#: SOME exercises, so "honest work keeps its points" is tested too.
KINDS: dict[str, Callable] = {
    "correct": lambda: (answered(), answered()),
    "blank": lambda: (release(), release()),
    "one_wrong": lambda: (_replace(answered(), "parabola_iterate", WRONG_ITERATE), None),
    "test_cell_edited": _test_cell_edited,
    "test_cell_deleted": _test_cell_deleted,
    "metadata_stripped": _metadata_stripped,
    "numpy_patched": _with_cell(PATCH_NUMPY, ids=ONLY_FIRST),
    "input_transformer": _with_cell(BLANK_LATER_CELLS, ids=ONLY_FIRST),
    "delegates_to_reference": _delegates,
    "sys_exit": _with_cell("import sys\nsys.exit(0)", after="run_gd", ids=ONLY_FIRST),
    "os_exit_top_level": _with_cell("import os\nos._exit(0)", after="run_gd", ids=ONLY_FIRST),
    "os_exit_in_function": _exit_in_function,
    "infinite_loop": _with_cell("while True:\n    pass", after="run_gd", ids=ONLY_FIRST),
    "infinite_loop_in_function": _loop_in_function,
    "memory_bomb": _with_cell(MEMORY_BOMB, after="run_gd", ids=ONLY_FIRST),
    "segfault": _with_cell("import ctypes\nctypes.string_at(0)", after="run_gd", ids=ONLY_FIRST),
    "fake_pass_output": _fake_passes,
}


def _replace(nb, grade_id, source):
    _cell(nb, grade_id).source = source
    return nb


def points_of(nb) -> float:
    """What an honest grader must give ``nb`` (its answers that are honest and right)."""
    earned = 0.0
    for grade_id, source in HONEST_ANSWERS.items():
        cells = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id]
        if cells and cells[0].source == source:
            earned += POINTS[grade_id]
    return earned
