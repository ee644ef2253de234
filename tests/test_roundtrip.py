"""A real nbgrader round trip: generate, submit as students, autograde, feedback.

Three students per assignment: one submits the source's solutions, one the untouched
release, one the solutions with exactly one exercise wrong.  The grades must be full
marks, zero, and full marks minus exactly that exercise.
"""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import nbformat
import pytest

from lrcourse import course
from lrcourse.course import notebook_path
from lrcourse.grading.batch import find_submissions, grade_batch

from .conftest import ASSIGNMENTS, COURSE

pytestmark = pytest.mark.skipif(not ASSIGNMENTS, reason="the course has no assignments yet")

WRONG_DIR = Path(__file__).parent / "wrong_answers"


def wrong_answer(name: str) -> dict:
    """``{"solution": grade_id, "source": wrong code, "fails": [test cells]}`` of one assignment."""
    return json.loads((WRONG_DIR / f"{name}.json").read_text())


def solved_release(name: str, wrong: dict | None = None) -> nbformat.NotebookNode:
    """The student release with every solution filled in (one of them wrong, if asked)."""
    answers = {wrong["solution"]: wrong["source"]} if wrong else None
    return course.solved_release(COURSE, name, answers)


def test_every_assignment_has_a_planted_wrong_answer():
    assert set(ASSIGNMENTS) <= {p.stem for p in WRONG_DIR.glob("*.json")}


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    root = tmp_path_factory.mktemp("roundtrip")
    submitted = root / "submitted"
    for name in ASSIGNMENTS:
        versions = {
            "solved": solved_release(name),
            "blank": nbformat.read(notebook_path(COURSE, name, "release"), as_version=4),
            "onewrong": solved_release(name, wrong_answer(name)),
        }
        for student, nb in versions.items():
            path = submitted / student / name / f"{name}.ipynb"
            path.parent.mkdir(parents=True)
            nbformat.write(nb, path)
    out = root / "out"
    results = grade_batch(COURSE, find_submissions(submitted, COURSE), out, jobs=2)
    return out, {(r.student, r.assignment): r for r in results}


def test_solutions_earn_full_marks(graded):
    _, results = graded
    for name in ASSIGNMENTS:
        r = results[("solved", name)]
        assert r.status == "graded", r.message
        assert r.max_score > 0 and r.score == r.max_score, r.cells


def test_untouched_release_earns_zero(graded):
    _, results = graded
    for name in ASSIGNMENTS:
        r = results[("blank", name)]
        assert r.status == "graded" and r.score == 0, r.cells


def test_one_wrong_exercise_loses_exactly_its_points(graded):
    _, results = graded
    for name in ASSIGNMENTS:
        r = results[("onewrong", name)]
        lost = {c for c, s in r.cells.items() if s == 0}
        assert lost == set(wrong_answer(name)["fails"]), r.cells
        full = results[("solved", name)].cells
        assert r.score == r.max_score - sum(full[c] for c in lost)


def test_grade_table_lists_every_submission_with_its_score(graded):
    out, results = graded
    rows = list(csv.DictReader((out / "grades.csv").open()))
    assert len(rows) == len(results)
    for row in rows:
        assert float(row["score"]) == results[(row["student"], row["assignment"])].score


def test_feedback_exists_for_everyone_and_shows_no_hidden_test(graded):
    out, results = graded
    hidden_lines = set()
    for name in ASSIGNMENTS:
        for cell in nbformat.read(notebook_path(COURSE, name), as_version=4).cells:
            if "### BEGIN HIDDEN TESTS" in cell.source:
                visible, rest = cell.source.split("### BEGIN HIDDEN TESTS")
                region = rest.split("### END HIDDEN TESTS")[0]
                shown = {line.strip() for line in visible.splitlines()}
                hidden_lines |= {line.strip() for line in region.splitlines()} - shown - {""}
    assert hidden_lines
    for r in results.values():
        html = (out / r.feedback).read_text()
        assert "BEGIN HIDDEN TESTS" not in html and "hidden=True" not in html
        for line in hidden_lines:
            if len(line) > 12:  # skip bare brackets and the like
                assert line not in html, (r.student, r.assignment, line)


def test_gradebook_holds_the_same_scores(graded):
    from nbgrader.api import Gradebook

    out, results = graded
    with Gradebook(f"sqlite:///{out / 'gradebook.db'}") as gb:
        for (student, name), r in results.items():
            assert gb.find_submission(name, student).score == pytest.approx(r.score)


def test_a_flat_folder_of_lms_exports_is_graded_too(tmp_path):
    name = ASSIGNMENTS[0]
    flat = tmp_path / "export"
    flat.mkdir()
    nbformat.write(solved_release(name), flat / "dana.ipynb")
    shutil.copyfile(notebook_path(COURSE, name, "release"), flat / "eli.ipynb")
    (flat / "fay.ipynb").write_text("this is not a notebook")
    results = {r.student: r for r in grade_batch(
        COURSE, find_submissions(flat, COURSE, name), tmp_path / "out", jobs=1)}
    assert results["dana"].score == results["dana"].max_score > 0
    assert results["eli"].score == 0
    assert results["fay"].status == "unreadable" and results["fay"].score == 0
    assert "could not be read as a notebook" in (tmp_path / "out" / results["fay"].feedback
                                                 ).read_text()


