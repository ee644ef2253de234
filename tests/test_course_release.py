"""The student release is generated from the sources, stays in sync, and leaks nothing."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import nbformat
import pytest
from nbgrader.validator import Validator

from lrcourse.course import CourseError, generate_release, notebook_path, validate_source

from .conftest import ASSIGNMENTS, COURSE

pytestmark = pytest.mark.skipif(not ASSIGNMENTS, reason="the course has no assignments yet")


def test_committed_release_equals_a_fresh_generation_from_source():
    changed = generate_release(COURSE, check_only=True)
    assert changed == [], f"run `lrcourse release`: these drifted from source: {changed}"


def test_regenerating_an_unchanged_source_changes_no_byte(tmp_path):
    copy = tmp_path / "course"
    shutil.copytree(COURSE, copy, ignore=shutil.ignore_patterns("release"))
    assert generate_release(copy)  # first generation writes every file
    first = {p: p.read_bytes() for p in (copy / "release").rglob("*") if p.is_file()}
    assert generate_release(copy) == []
    assert {p: p.read_bytes() for p in (copy / "release").rglob("*") if p.is_file()} == first


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_source_notebook_is_well_formed_and_stored_without_outputs(name):
    assert validate_source(notebook_path(COURSE, name)) == []


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_source_notebook_passes_its_own_tests(name):
    result = Validator().validate(str(notebook_path(COURSE, name)))
    assert not result.get("failed") and not result.get("errored"), result


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_every_test_cell_fails_on_the_untouched_release(name):
    # invert=True reports the test cells that PASS: there must be none.
    result = Validator(invert=True).validate(str(notebook_path(COURSE, name, "release")))
    assert not result.get("passed"), f"tests that pass on the stubs: {result['passed']}"


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_release_contains_no_solution_and_no_hidden_test(name):
    path = notebook_path(COURSE, name, "release")
    text = path.read_text()
    for marker in ("BEGIN SOLUTION", "END SOLUTION", "BEGIN HIDDEN TESTS", "hidden=True"):
        assert marker not in text
    released = {line.strip() for cell in nbformat.read(path, as_version=4).cells
                for line in cell.source.splitlines()}
    assert not hidden_only_lines(name) & released


def hidden_only_lines(name: str) -> set[str]:
    """Lines of the hidden-test regions that do not also appear in the visible part."""
    lines: set[str] = set()
    for cell in nbformat.read(notebook_path(COURSE, name), as_version=4).cells:
        if "### BEGIN HIDDEN TESTS" in cell.source:
            visible, rest = cell.source.split("### BEGIN HIDDEN TESTS")
            hidden = rest.split("### END HIDDEN TESTS")[0]
            lines |= {x.strip() for x in hidden.splitlines()} - {x.strip() for x in
                                                                visible.splitlines()}
    return lines - {""}


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_every_exercise_has_a_locked_test_cell_with_hidden_tests(name):
    nb = nbformat.read(notebook_path(COURSE, name), as_version=4)
    grade_cells = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade")]
    assert len(grade_cells) >= 3, "each section has at least three graded exercises"
    for cell in grade_cells:
        meta = cell.metadata["nbgrader"]
        assert meta["locked"] and meta["points"] > 0
        assert "### BEGIN HIDDEN TESTS" in cell.source, f"{meta['grade_id']} has no hidden tests"


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_first_code_cell_makes_lrcourse_importable_on_colab(name):
    nb = nbformat.read(notebook_path(COURSE, name, "release"), as_version=4)
    first = next(c for c in nb.cells if c.cell_type == "code")
    assert 'find_spec("lrcourse")' in first.source and "%pip install" in first.source


def _course_with(tmp_path: Path, cells: list) -> Path:
    copy = tmp_path / "course"
    copy.mkdir()
    shutil.copyfile(COURSE / "nbgrader_config.py", copy / "nbgrader_config.py")
    nb = nbformat.v4.new_notebook()
    nb.cells = cells
    path = copy / "source" / "01_bad" / "01_bad.ipynb"
    path.parent.mkdir(parents=True)
    nbformat.write(nb, path)
    return copy


def _meta(**kw):
    return {"nbgrader": {"schema_version": 3, **kw}}


@pytest.mark.parametrize(
    ("cell", "complaint"),
    [
        (nbformat.v4.new_code_cell("x = 1\n### BEGIN SOLUTION\nx = 2\n### END SOLUTION"),
         "has '### BEGIN SOLUTION' but no nbgrader metadata"),
        (nbformat.v4.new_code_cell(
            "pass", metadata=_meta(solution=True, grade=False, locked=False)),
         "without a grade_id"),
        (nbformat.v4.new_code_cell(
            "check()\n### BEGIN HIDDEN TESTS\ncheck(1)\n",
            metadata=_meta(grade_id="t", solution=False, grade=True, locked=True, points=1)),
         "unbalanced"),
        (nbformat.v4.new_code_cell(
            "check()", metadata=_meta(grade_id="t", solution=False, grade=True, locked=False,
                                      points=1)),
         "must be locked"),
        (nbformat.v4.new_code_cell(
            "check()", metadata=_meta(grade_id="Bad-Id", solution=False, grade=True, locked=True,
                                      points=1)),
         "lower_snake_case"),
    ],
)
def test_release_refuses_a_malformed_source_with_a_clear_message(tmp_path, cell, complaint):
    course = _course_with(tmp_path, [cell])
    with pytest.raises(CourseError, match="malformed") as err:
        generate_release(course)
    assert complaint in str(err.value)
    assert "01_bad.ipynb, cell 1" in str(err.value)


def test_release_refuses_a_notebook_that_is_not_json(tmp_path):
    course = _course_with(tmp_path, [])
    notebook_path(course, "01_bad").write_text("{not json")
    with pytest.raises(CourseError, match="not a readable notebook"):
        generate_release(course)


def test_release_of_an_unknown_assignment_names_the_known_ones():
    with pytest.raises(CourseError, match="unknown assignment '99_nope'; the course has: "):
        generate_release(COURSE, ["99_nope"], check_only=True)


def test_duplicate_grade_ids_are_reported(tmp_path):
    meta = _meta(grade_id="same", solution=True, grade=False, locked=False)
    course = _course_with(tmp_path, [nbformat.v4.new_code_cell("a = 1", metadata=meta),
                                     nbformat.v4.new_code_cell("b = 2", metadata=json.loads(
                                         json.dumps(meta)))])
    assert any("repeats cell 1" in p for p in validate_source(notebook_path(course, "01_bad")))


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_release_test_cells_let_run_all_go_on_past_them(name):
    nb = nbformat.read(notebook_path(COURSE, name, "release"), as_version=4)
    tests = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade")
             and not c.metadata["nbgrader"].get("solution")]
    assert tests and all("raises-exception" in c.metadata.get("tags", []) for c in tests)
