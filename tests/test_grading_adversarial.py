"""Grading that cannot be gamed, never leaks, and never stops a batch.

Every kind of hostile or broken submission in tests/adversarial.py is graded in ONE
real `lrcourse grade` batch, next to honest submissions and next to each hostile
submission's honest twin (the same work with the trick removed).  The rule: a
submission never earns more than its twin, and honest work next to a trick keeps
its points.
"""

from __future__ import annotations

import csv
import hashlib
import json
import subprocess
import sys

import nbformat
import pytest

from lrcourse.cli import main

from .adversarial import KINDS, NAME, answered
from .conftest import COURSE

pytestmark = pytest.mark.skipif(
    not (COURSE / "release" / NAME).is_dir(), reason=f"{NAME} is not in the course"
)

TIMEOUT = "8"  # seconds per cell, so that endless loops are cut quickly here
# kind -> words that its flags (for review) or notes (what happened) must contain
EXPECTED_FLAGS = {
    "numpy_patched": "replaces numpy.allclose",
    "input_transformer": "input transformer",
    "sys_exit": "sys.exit",
    "os_exit_top_level": "os._exit",
    "os_exit_in_function": "os._exit",
    "segfault": "ctypes",
    "test_cell_edited": "was edited",
    "test_cell_deleted": "was missing",
    "metadata_stripped": "lost its nbgrader metadata",
}
EXPECTED_NOTES = {
    "infinite_loop": "stopped after 8 s",
    "infinite_loop_in_function": "stopped after 8 s",
    "memory_bomb": "ran out of memory",
    "os_exit_top_level": "ended the grading process",
    "os_exit_in_function": "ended the grading process",
    "segfault": "crashed (SIGSEGV)",
}


def _key(nb) -> str:
    return hashlib.sha1(json.dumps(nb, sort_keys=True).encode()).hexdigest()[:10]


@pytest.fixture(scope="module")
def batch(tmp_path_factory):
    root = tmp_path_factory.mktemp("adversarial")
    submitted = root / "submitted"
    twin_of = {}
    twins = {}

    def put(student: str, nb, filename: str = f"{NAME}.ipynb") -> None:
        folder = submitted / student / NAME
        folder.mkdir(parents=True)
        nbformat.write(nb, folder / filename)

    for kind, build in KINDS.items():
        nb, twin = build()
        put(kind, nb)
        if twin is not None:
            key = f"twin-{_key(twin)}"
            twin_of[kind] = key
            twins[key] = twin
    for key, twin in twins.items():
        put(key, twin)
    put("renamed", answered(), filename="my homework (final).ipynb")
    (submitted / "notjson" / NAME).mkdir(parents=True)
    (submitted / "notjson" / NAME / f"{NAME}.ipynb").write_text("{ this is not json")
    out = root / "out"
    assert main(["grade", str(submitted), "--out", str(out), "--jobs", "2",
                 "--timeout", TIMEOUT, "--course", str(COURSE)]) == 0
    rows = {r["student"]: r for r in csv.DictReader((out / "grades.csv").open())}
    return out, rows, twin_of, root


def score(row) -> float:
    return float(row["score"])


def test_the_batch_completes_with_a_row_for_every_submission(batch):
    out, rows, twin_of, _ = batch
    expected = set(KINDS) | set(twin_of.values()) | {"renamed", "notjson"}
    assert set(rows) == expected


@pytest.mark.parametrize("kind", [k for k in KINDS if k != "one_wrong"])
def test_a_trick_never_earns_more_than_the_same_work_without_it(batch, kind):
    _, rows, twin_of, _ = batch
    assert score(rows[kind]) <= score(rows[twin_of[kind]])


@pytest.mark.parametrize("kind", [k for k in KINDS if k != "one_wrong"])
def test_honest_work_next_to_a_trick_keeps_its_points(batch, kind):
    _, rows, twin_of, _ = batch
    assert score(rows[kind]) == score(rows[twin_of[kind]])


def test_the_tricks_earn_nothing_by_themselves(batch):
    _, rows, _, _ = batch
    assert score(rows["fake_pass_output"]) == 0
    assert score(rows["blank"]) == 0
    assert score(rows["numpy_patched"]) == 3  # exactly the two honest exercises
    assert score(rows["correct"]) == float(rows["correct"]["max_score"]) == 7


def test_calling_the_reference_earns_zero_for_that_exercise_and_says_why(batch):
    out, rows, _, _ = batch
    assert rows["delegates_to_reference"]["gd_step_tests"] == "0"
    feedback = (out / "feedback" / "delegates_to_reference" / f"{NAME}.html").read_text()
    assert "calls lrcourse.optimizers.sgd_step" in feedback


@pytest.mark.parametrize("kind", sorted(EXPECTED_FLAGS))
def test_a_tampering_submission_is_flagged_with_its_reason(batch, kind):
    _, rows, _, _ = batch
    assert rows[kind]["status"] == "flagged"
    assert EXPECTED_FLAGS[kind] in rows[kind]["flags"]


@pytest.mark.parametrize("kind", sorted(EXPECTED_NOTES))
def test_a_dead_or_stuck_run_is_graded_for_what_ran_and_says_what_happened(batch, kind):
    out, rows, twin_of, _ = batch
    assert EXPECTED_NOTES[kind] in rows[kind]["notes"]
    feedback = (out / "feedback" / kind / f"{NAME}.html").read_text()
    assert "Grading notes" in feedback and EXPECTED_NOTES[kind] in feedback


def test_honest_submissions_are_not_flagged(batch):
    _, rows, twin_of, _ = batch
    for student in ["correct", "blank", "one_wrong", "renamed", *twin_of.values()]:
        assert rows[student]["status"] == "graded", (student, rows[student]["flags"])


def test_a_renamed_notebook_is_graded_as_its_assignment(batch):
    _, rows, _, _ = batch
    assert score(rows["renamed"]) == 7


def test_a_file_that_is_not_a_notebook_gets_zero_and_a_feedback_page(batch):
    out, rows, _, _ = batch
    assert rows["notjson"]["status"] == "unreadable" and score(rows["notjson"]) == 0
    assert float(rows["notjson"]["max_score"]) == 7
    assert "could not be read as a notebook" in (
        out / "feedback" / "notjson" / f"{NAME}.html").read_text()


def test_honest_submissions_get_exactly_their_solo_scores(batch, tmp_path):
    _, rows, _, root = batch
    for student in ("correct", "one_wrong"):
        solo = tmp_path / student
        (solo / student / NAME).mkdir(parents=True)
        source = root / "submitted" / student / NAME / f"{NAME}.ipynb"
        (solo / student / NAME / f"{NAME}.ipynb").write_bytes(source.read_bytes())
        assert main(["grade", str(solo), "--out", str(tmp_path / f"out-{student}"),
                     "--jobs", "1", "--course", str(COURSE)]) == 0
        alone = next(csv.DictReader((tmp_path / f"out-{student}" / "grades.csv").open()))
        assert alone["score"] == rows[student]["score"]
        cells = [k for k in alone if k.endswith("_tests")]
        assert [alone[c] for c in cells] == [rows[student][c] for c in cells]


def _hidden_lines() -> set[str]:
    from .test_course_release import hidden_only_lines

    return {line for line in hidden_only_lines(NAME) if len(line) > 6}


def test_no_feedback_page_shows_hidden_tests(batch):
    out, rows, _, _ = batch
    hidden = _hidden_lines()
    assert hidden
    for page in (out / "feedback").rglob("*.html"):
        text = page.read_text()
        assert "BEGIN HIDDEN TESTS" not in text and "hidden=True" not in text
        assert not [line for line in hidden if line in text], page


def test_the_self_check_shows_no_hidden_tests_and_fails_until_all_pass(tmp_path):
    hidden = _hidden_lines()
    for nb, expected_code in ((answered(), 0), (KINDS["blank"]()[0], 1)):
        path = tmp_path / f"{NAME}.ipynb"
        nbformat.write(nb, path)
        result = subprocess.run([sys.executable, "-m", "lrcourse.cli", "check", str(path)],
                                capture_output=True, text=True, timeout=300)
        assert result.returncode == expected_code, result.stdout + result.stderr
        assert "visible tests:" in result.stdout
        assert not [line for line in hidden if line in result.stdout + result.stderr]
