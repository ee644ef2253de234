"""Autograde a folder of submissions with nbgrader: grade table plus feedback.

Each submission is graded on its own, in a throwaway nbgrader course root
holding a copy of a template gradebook, and its scores are then written into
the batch's gradebook.  So a submission that breaks (a file that is not a
notebook, a kernel that dies) costs only itself, and grading several at once
(``jobs``) gives exactly the scores of grading them one by one.
"""

from __future__ import annotations

import contextlib
import csv
import html
import json
import shutil
import tempfile
import warnings
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from multiprocessing import get_context
from pathlib import Path

from ..course import CourseError, assignments, nbgrader_api

__all__ = ["GradeResult", "Submission", "find_submissions", "grade_batch"]


@dataclass(frozen=True)
class Submission:
    """One learner's notebook for one assignment."""

    student: str
    assignment: str
    path: Path


@dataclass
class GradeResult:
    """What grading one submission gave."""

    student: str
    assignment: str
    status: str  # "graded", "unreadable", "failed"
    score: float = 0.0
    max_score: float = 0.0
    cells: dict[str, float] = field(default_factory=dict)  # grade_id -> score
    message: str = ""
    feedback: str = ""  # path of the feedback HTML, relative to the output folder
    flags: list[str] = field(default_factory=list)  # why an instructor should look
    notes: list[str] = field(default_factory=list)  # what happened while grading


# ------------------------------------------------------------------ discovery


def find_submissions(
    folder: Path, course: Path, assignment: str | None = None
) -> list[Submission]:
    """The submissions under ``folder``, in either of two layouts.

    * nbgrader's ``<student>/<assignment>/<notebook>.ipynb`` (the folder may
      also be a course root that holds ``submitted/``);
    * a flat folder of ``<student>.ipynb`` files for one ``assignment``, as an
      LMS exports them.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise CourseError(f"no such folder: {folder} (pass the folder that holds the submissions)")
    known = assignments(course)
    if assignment is not None and assignment not in known:
        raise CourseError(f"unknown assignment {assignment!r}; the course has: {', '.join(known)}")
    if (folder / "submitted").is_dir():
        folder = folder / "submitted"

    flat = sorted(p for p in folder.glob("*.ipynb") if p.is_file())
    if flat:
        if assignment is None:
            raise CourseError(
                f"{folder} holds notebooks directly: name their assignment with --assignment "
                f"(one of {', '.join(known)})"
            )
        return [Submission(p.stem, assignment, p) for p in flat]

    found = []
    for student_dir in sorted(p for p in folder.iterdir() if p.is_dir()):
        for assignment_dir in sorted(p for p in student_dir.iterdir() if p.is_dir()):
            name = assignment_dir.name
            if name not in known or (assignment is not None and name != assignment):
                continue
            notebooks = sorted(assignment_dir.glob("*.ipynb"))
            expected = assignment_dir / f"{name}.ipynb"
            # a lone notebook under another name is still this assignment's
            if expected not in notebooks and len(notebooks) == 1:
                expected = notebooks[0]
            path = expected
            found.append(Submission(student_dir.name, name, path))
    if not found:
        raise CourseError(
            f"no submissions found in {folder}: expected <student>/<assignment>/<assignment>.ipynb "
            "or a flat folder of <student>.ipynb files with --assignment"
        )
    return found


# --------------------------------------------------------------------- grading


def _prepare(course: Path, names: Sequence[str], template: Path, db: Path) -> None:
    """A course root whose gradebook knows ``names``; the batch's gradebook ``db`` too."""
    for name in names:
        shutil.copytree(course / "source" / name, template / "source" / name)
    fresh = not db.exists()
    # a new batch starts from the template's gradebook; an existing one (earlier
    # batches' grades) learns the assignments it may not have yet
    for gradebook in (template / "gradebook.db",) if fresh else (template / "gradebook.db", db):
        api = nbgrader_api(course, template, gradebook)
        for name in names:
            result = api.generate_assignment(name, force=True, create=True)
            if not result["success"]:
                raise CourseError(f"nbgrader could not prepare {name} for grading")
    if fresh:
        shutil.copyfile(template / "gradebook.db", db)


def grade_one(
    course: Path, template: Path, submission: Submission, work: Path, limits: dict | None = None
) -> GradeResult:
    """Autograde one submission in its own throwaway root (safe to run in parallel).

    ``limits`` overrides the sandbox's ``timeout`` and ``memory_mb``.
    """
    student, name = submission.student, submission.assignment
    result = GradeResult(student, name, status="graded")
    try:
        nb = json.loads(submission.path.read_text(encoding="utf-8"))
        if not isinstance(nb, dict) or "cells" not in nb:
            raise ValueError("it has no cells")
    except (OSError, UnicodeDecodeError, ValueError) as err:
        result.status = "unreadable"
        result.message = f"the file could not be read as a notebook ({str(err)[:120]})"
        result.max_score, result.cells = _scores(template / "gradebook.db", name, student)
        return result

    root = work / f"{student}--{name}"
    shutil.copytree(template / "source" / name, root / "source" / name)
    shutil.copyfile(template / "gradebook.db", root / "gradebook.db")
    dest = root / "submitted" / student / name / f"{name}.ipynb"
    dest.parent.mkdir(parents=True)
    shutil.copyfile(submission.path, dest)

    api = nbgrader_api(course, root, root / "gradebook.db", SafeExecute=limits or {})
    with _quiet_gradebook():
        graded = api.autograde(name, student, force=True, create=True)
        if not graded["success"]:
            result.status = "failed"
            result.message = _last_line(graded) or "nbgrader could not grade this notebook"
        else:
            api.generate_feedback(name, student, force=True)
    result.max_score, result.cells = _scores(root / "gradebook.db", name, student)
    result.score = sum(result.cells.values())
    graded_nb = root / "autograded" / student / name / f"{name}.ipynb"
    if graded_nb.is_file():
        info = json.loads(graded_nb.read_text(encoding="utf-8")).get("metadata", {})
        result.flags = list(info.get("lrcourse", {}).get("flags", []))
        result.notes = list(info.get("lrcourse", {}).get("events", []))
    if result.flags and result.status == "graded":
        result.status = "flagged"
    feedback = root / "feedback" / student / name / f"{name}.html"
    if feedback.is_file():
        result.feedback = str(feedback)
    return result


def _last_line(api_result: dict) -> str:
    lines = (api_result.get("error") or api_result.get("log") or "").strip().splitlines()
    return lines[-1][:300] if lines else ""


@contextlib.contextmanager
def _quiet_gradebook() -> Iterator[None]:
    """nbgrader's gradebook warns about its own SQLAlchemy session use; keep that off screens."""
    from sqlalchemy.exc import SAWarning

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SAWarning)
        yield


def _scores(db: Path, name: str, student: str) -> tuple[float, dict[str, float]]:
    from nbgrader.api import Gradebook, MissingEntry

    with _quiet_gradebook(), Gradebook(f"sqlite:///{db}") as gb:
        assignment = gb.find_assignment(name)
        max_score = float(assignment.max_score)
        try:
            submission = gb.find_submission(name, student)
        except MissingEntry:
            return max_score, {cell.name: 0.0 for cell in _grade_cells(assignment)}
        cells = {}
        for notebook in submission.notebooks:
            for grade in notebook.grades:
                cells[grade.name] = float(grade.score)
    return max_score, cells


def _grade_cells(assignment) -> Iterable:
    for notebook in assignment.notebooks:
        yield from notebook.grade_cells


def _record(db: Path, result: GradeResult) -> None:
    """Write one result into the batch's gradebook."""
    from nbgrader.api import Gradebook

    with _quiet_gradebook(), Gradebook(f"sqlite:///{db}") as gb:
        gb.update_or_create_student(result.student)
        gb.update_or_create_submission(result.assignment, result.student)
        notebook = result.assignment
        for grade_id, score in result.cells.items():
            grade = gb.find_grade(grade_id, notebook, result.assignment, result.student)
            grade.auto_score = score
            grade.needs_manual_grade = bool(result.flags)  # formgrader lists it for review
        gb.db.commit()


def grade_batch(
    course: Path,
    submissions: Sequence[Submission],
    out: Path,
    jobs: int = 1,
    timeout: float | None = None,
    memory_mb: int | None = None,
) -> list[GradeResult]:
    """Grade ``submissions`` into ``out``: grades.csv, feedback/, gradebook.db.

    ``timeout`` (seconds per cell) and ``memory_mb`` override the course's
    sandbox limits; ``jobs`` submissions are graded at once, each in its own
    process, with results identical to grading them one by one.
    """
    limits = {k: v for k, v in (("timeout", timeout), ("memory_mb", memory_mb)) if v is not None}
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    names = sorted({s.assignment for s in submissions})
    db = out / "gradebook.db"
    with tempfile.TemporaryDirectory(prefix="lrcourse-grade-") as tmp:
        work = Path(tmp)
        template = work / "template"
        _prepare(course, names, template, db)
        args = [(course, template, s, work, limits) for s in submissions]
        results = _grade_all(args, jobs)
        for result in results:
            _publish_feedback(result, out)
            _record(db, result)
    _write_table(out / "grades.csv", results, course)
    return results


def _grade_all(args: list[tuple], jobs: int) -> list[GradeResult]:
    """Grade every submission, ``jobs`` at a time, in the order given."""
    if jobs <= 1 or len(args) <= 1:
        return [_grade_one_safely(a) for a in args]
    results: list[GradeResult | None] = [None] * len(args)
    with ProcessPoolExecutor(max_workers=jobs, mp_context=get_context("spawn")) as pool:
        futures = [pool.submit(_grade_one_safely, a) for a in args]
        for i, future in enumerate(futures):
            try:
                results[i] = future.result()
            except BrokenProcessPool:
                pass  # a worker died (not the sandbox: that is caught inside); redo below
    # anything a dead worker took down is graded again here, one at a time
    return [r if r is not None else _grade_one_safely(a) for r, a in zip(results, args,
                                                                         strict=True)]


def _grade_one_safely(args: tuple) -> GradeResult:
    course, template, submission, work, limits = args
    try:
        return grade_one(course, template, submission, work, limits)
    except Exception as err:  # one submission's failure never stops the batch
        return GradeResult(
            submission.student, submission.assignment, status="failed",
            message=f"grading failed: {type(err).__name__}: {str(err)[:200]}",
        )


def _publish_feedback(result: GradeResult, out: Path) -> None:
    target = out / "feedback" / result.student / f"{result.assignment}.html"
    target.parent.mkdir(parents=True, exist_ok=True)
    if result.feedback:
        shutil.copyfile(result.feedback, target)
    else:
        target.write_text(_notice_html(result), encoding="utf-8")
    result.feedback = str(target.relative_to(out))


def _notice_html(result: GradeResult) -> str:
    title = html.escape(f"{result.assignment}: feedback for {result.student}")
    body = html.escape(result.message or result.status)
    return (
        f"<!DOCTYPE html>\n<html><head><meta charset='utf-8'><title>{title}</title></head>"
        f"<body><h1>{title}</h1><p>Score: {result.score:g} / {result.max_score:g}</p>"
        f"<p>{body}</p></body></html>\n"
    )


def _write_table(path: Path, results: Sequence[GradeResult], course: Path) -> None:
    cell_ids: list[str] = []
    for r in results:
        cell_ids += [c for c in r.cells if c not in cell_ids]
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        head = ["student", "assignment", "status", "score", "max_score"]
        writer.writerow([*head, *cell_ids, "message", "notes", "flags"])
        for r in sorted(results, key=lambda r: (r.assignment, r.student)):
            writer.writerow(
                [r.student, r.assignment, r.status, f"{r.score:g}", f"{r.max_score:g}"]
                + [f"{r.cells[c]:g}" if c in r.cells else "" for c in cell_ids]
                + [r.message, " | ".join(r.notes), " | ".join(r.flags)]
            )
