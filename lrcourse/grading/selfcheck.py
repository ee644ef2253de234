"""``lrcourse check NOTEBOOK``: a learner's own check of a notebook, before submitting.

Runs the notebook in the grading sandbox, with its test cells as the student
release has them (so an edited or deleted test cell does not change the
verdict), and reports each exercise: pass or fail, the diagnosis, the points.
Only the visible tests exist in a learner's copy; hidden tests never run here.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import nbformat

from ..course import CourseError, assignments, notebook_path
from .runner import run_submission

__all__ = ["ExerciseReport", "self_check"]


@dataclass
class ExerciseReport:
    grade_id: str
    points: float
    earned: float
    messages: list[str]


def _grade_id(cell) -> str | None:
    meta = cell.get("metadata", {}).get("nbgrader", {})
    return meta.get("grade_id") if meta.get("grade") and not meta.get("solution") else None


def _release_for(nb, path: Path, course: Path):
    """The student release this notebook came from (by name, else by its grade ids)."""
    ids = {c.metadata.get("nbgrader", {}).get("grade_id") for c in nb.cells} - {None}
    names = assignments(course, "release")
    candidates = [n for n in names if path.stem.startswith(n)] or names
    best, overlap = None, 0
    for name in candidates:
        release = nbformat.read(notebook_path(course, name, "release"), as_version=4)
        shared = len(ids & {c.metadata.get("nbgrader", {}).get("grade_id") for c in release.cells})
        if shared > overlap:
            best, overlap = release, shared
    if best is None:
        raise CourseError(f"{path.name} does not look like a notebook of this course")
    return best


def restore_test_cells(nb, release) -> list:
    """The learner's cells, with every test cell as the release has it (missing ones added)."""
    tests = {_grade_id(c): c for c in release.cells if _grade_id(c)}
    cells, seen = [], set()
    for cell in nb.cells:
        grade_id = _grade_id(cell)
        if grade_id in tests:
            cell = nbformat.from_dict(dict(cell, source=tests[grade_id].source))
            seen.add(grade_id)
        cells.append(cell)
    order = [c.metadata.get("nbgrader", {}).get("grade_id") for c in release.cells]
    for grade_id, test in tests.items():
        if grade_id in seen:
            continue
        before = order[: order.index(grade_id)]
        at = len(cells)
        for i, cell in enumerate(cells):  # after the last cell that precedes it in the release
            if cell.metadata.get("nbgrader", {}).get("grade_id") in before:
                at = i + 1
        cells.insert(at, test)
    return cells


def self_check(path: Path, course: Path, timeout: float = 60.0) -> list[ExerciseReport]:
    """Run ``path`` in the sandbox; one report per exercise, in notebook order."""
    try:
        nb = nbformat.reads(Path(path).read_text(encoding="utf-8"), as_version=4)
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, nbformat.reader.NotJSONError) as err:
        raise CourseError(f"{path} is not a readable notebook ({str(err)[:100]})") from None
    release = _release_for(nb, Path(path), course)
    cells = restore_test_cells(nb, release)
    trusted = [c.source for c in release.cells if c.cell_type == "code"
               and not c.metadata.get("nbgrader", {}).get("solution")]
    result = run_submission(cells, timeout=timeout, cwd=str(Path(path).resolve().parent),
                            trusted=trusted)
    reports = []
    for index, cell in enumerate(cells):
        grade_id = _grade_id(cell)
        if grade_id is None:
            continue
        verdict = result.verdicts[index]
        points = float(cell.metadata["nbgrader"].get("points", 0))
        reports.append(ExerciseReport(grade_id, points, points if verdict.passed else 0.0,
                                      verdict.messages))
    return reports
