"""Where the course lives, and how its student release is made from the sources.

The course is an nbgrader course folder::

    course/nbgrader_config.py
    course/source/NN_slug/NN_slug.ipynb    instructor masters (solutions, hidden tests)
    course/release/NN_slug/NN_slug.ipynb   student versions, generated, committed

:func:`generate_release` regenerates the release with nbgrader itself, in a
throwaway copy of the course with a throwaway gradebook, so that releasing
never touches an instructor's real gradebook.  It is deterministic: an
unchanged source gives byte-identical student notebooks.
"""

from __future__ import annotations

import filecmp
import json
import logging
import os
import re
import shutil
import tempfile
from collections.abc import Iterable
from pathlib import Path

__all__ = [
    "CourseError",
    "assignments",
    "course_dir",
    "generate_release",
    "nbgrader_api",
    "release_problems",
    "solved_release",
    "validate_source",
]

ASSIGNMENT_NAME = re.compile(r"^\d\d_[a-z0-9_]+$")
GRADE_ID = re.compile(r"^[a-z][a-z0-9_]*$")
COURSE_ENV = "LRCOURSE_COURSE"


class CourseError(Exception):
    """Something about the course folder or a notebook that the user must fix."""


def course_dir(path: str | os.PathLike | None = None) -> Path:
    """The course folder: ``path``, else ``$LRCOURSE_COURSE``, else the clone's ``course/``."""
    beside_package = Path(__file__).resolve().parent.parent / "course"
    candidates = [path, os.environ.get(COURSE_ENV), beside_package]
    for candidate in candidates:
        if candidate is None:
            continue
        folder = Path(candidate).expanduser().resolve()
        if (folder / "nbgrader_config.py").is_file():
            return folder
        if path is not None:
            raise CourseError(
                f"{folder} is not a course folder (it has no nbgrader_config.py); "
                "pass the folder that holds source/ and release/"
            )
    raise CourseError(
        "cannot find the course folder: run from a clone of the lrcourse repository "
        f"(pip install -e .), or set {COURSE_ENV} to the folder that holds nbgrader_config.py"
    )


def assignments(course: Path, step: str = "source") -> list[str]:
    """The assignment names (``NN_slug``) present under ``course/step``, in order."""
    folder = course / step
    if not folder.is_dir():
        return []
    return sorted(p.name for p in folder.iterdir() if p.is_dir() and ASSIGNMENT_NAME.match(p.name))


def notebook_path(course: Path, assignment: str, step: str = "source") -> Path:
    return course / step / assignment / f"{assignment}.ipynb"


def solved_release(course: Path, name: str, answers: dict[str, str] | None = None):
    """The student notebook of ``name`` with every exercise answered from the source.

    What a learner who solved everything would submit: the release's cells,
    with each solution cell's text taken from the instructor's source
    (``answers`` replaces chosen ones, by grade_id).  Useful to try the
    grading pipeline end to end.
    """
    import nbformat

    release = nbformat.read(notebook_path(course, name, "release"), as_version=4)
    source = nbformat.read(notebook_path(course, name), as_version=4)
    solutions = {c.metadata["nbgrader"]["grade_id"]: c.source for c in source.cells
                 if c.metadata.get("nbgrader", {}).get("solution")}
    solutions.update(answers or {})
    for cell in release.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if grade_id in solutions:
            cell.source = solutions[grade_id]
    return release


# ------------------------------------------------------------------ validation

_MARKERS = {
    "solution": ("### BEGIN SOLUTION", "### END SOLUTION"),
    "hidden": ("### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS"),
}


def validate_source(path: Path) -> list[str]:
    """Every problem that would make nbgrader release or grade ``path`` wrongly.

    Checks what nbgrader itself lets through: solution or hidden-test markers
    in a cell without the metadata that gives them meaning, unbalanced
    markers, duplicate or malformed ``grade_id``s, unlocked or pointless test
    cells, stored outputs.
    """
    try:
        nb = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        return [f"{path.name}: not a readable notebook ({err})"]
    problems: list[str] = []
    seen: dict[str, int] = {}
    for number, cell in enumerate(nb.get("cells", []), start=1):
        where = f"{path.name}, cell {number}"
        source = "".join(cell.get("source", ""))
        meta = cell.get("metadata", {}).get("nbgrader")
        for kind, (begin, end) in _MARKERS.items():
            if source.count(begin) != source.count(end):
                problems.append(f"{where}: unbalanced {begin!r} / {end!r} markers")
            if begin in source:
                if meta is None:
                    problems.append(f"{where}: has {begin!r} but no nbgrader metadata")
                elif kind == "solution" and not meta.get("solution"):
                    problems.append(f"{where}: has solution markers but is not a solution cell")
                elif kind == "hidden" and not meta.get("grade"):
                    problems.append(f"{where}: has hidden tests but is not a grade cell")
        if cell.get("cell_type") == "code" and cell.get("outputs"):
            problems.append(f"{where}: has stored outputs; sources are kept without outputs")
        if meta is None:
            continue
        grade_id = meta.get("grade_id")
        if not grade_id:
            problems.append(f"{where}: nbgrader cell without a grade_id")
            continue
        if not GRADE_ID.match(grade_id):
            problems.append(f"{where}: grade_id {grade_id!r} should be lower_snake_case")
        if grade_id in seen:
            problems.append(f"{where}: grade_id {grade_id!r} repeats cell {seen[grade_id]}")
        seen[grade_id] = number
        if meta.get("grade") and not meta.get("solution"):
            if cell.get("cell_type") == "code" and not meta.get("locked"):
                problems.append(f"{where}: test cell {grade_id!r} must be locked")
            if cell.get("cell_type") == "code":
                problems += _test_cell_problems(where, grade_id, source)
            if not (isinstance(meta.get("points"), int | float) and meta["points"] > 0):
                problems.append(f"{where}: test cell {grade_id!r} needs points > 0")
    return problems


def _test_cell_problems(where: str, grade_id: str, source: str) -> list[str]:
    from .checks import __all__ as known_checks
    from .grading.plan import TestCellError, parse_test_cell

    try:
        planned = parse_test_cell(source)
    except TestCellError as err:
        return [f"{where}: test cell {grade_id!r}: {err}"]
    return [
        f"{where}: test cell {grade_id!r} calls {p.check}, which lrcourse.checks does not define"
        for p in planned
        if p.check not in known_checks
    ]


def release_problems(course: Path, names: Iterable[str] | None = None) -> list[str]:
    """Problems of every source notebook (or of ``names``)."""
    problems = []
    for name in names or assignments(course):
        path = notebook_path(course, name)
        if not path.is_file():
            problems.append(f"{name}: missing {path.relative_to(course)}")
        else:
            problems.extend(validate_source(path))
    return problems


# --------------------------------------------------------------------- nbgrader


def nbgrader_api(course: Path, root: Path, db_path: Path, **settings: dict):
    """An ``NbGraderAPI`` for a working copy at ``root`` with the course's config.

    ``settings`` override configuration sections, e.g. ``SafeExecute={"timeout": 10}``.
    """
    from nbgrader.apps import NbGraderAPI
    from nbgrader.coursedir import CourseDirectory
    from traitlets.config.loader import PyFileConfigLoader

    config = PyFileConfigLoader("nbgrader_config.py", path=str(course)).load_config()
    config.CourseDirectory.root = str(root)
    config.CourseDirectory.db_url = f"sqlite:///{db_path}"
    config.Exchange.root = str(root / "exchange")
    config.NbGraderAPI.log_level = logging.ERROR
    for section, values in settings.items():
        for key, value in values.items():
            setattr(config[section], key, value)
    coursedir = CourseDirectory(config=config)
    return NbGraderAPI(coursedir=coursedir, config=config)


def generate_release(
    course: Path, names: Iterable[str] | None = None, check_only: bool = False
) -> list[str]:
    """Regenerate ``course/release`` from ``course/source`` with nbgrader.

    Returns the release files that changed (relative paths).  With
    ``check_only`` nothing is written: a non-empty result means the committed
    release has drifted from its source.
    """
    names = list(names or assignments(course))
    unknown = [n for n in names if not notebook_path(course, n).is_file()]
    if unknown:
        known = ", ".join(assignments(course)) or "none"
        raise CourseError(f"unknown assignment {unknown[0]!r}; the course has: {known}")
    problems = release_problems(course, names)
    if problems:
        raise CourseError("the source notebooks are malformed:\n  " + "\n  ".join(problems))

    changed: list[str] = []
    with tempfile.TemporaryDirectory(prefix="lrcourse-release-") as tmp:
        root = Path(tmp) / "course"
        for name in names:
            shutil.copytree(course / "source" / name, root / "source" / name)
        api = nbgrader_api(course, root, Path(tmp) / "gradebook.db")
        for name in names:
            result = api.generate_assignment(name, force=True, create=True)
            if not result["success"]:
                detail = (result.get("error") or result.get("log") or "").strip().splitlines()
                last = detail[-1] if detail else "no detail"
                raise CourseError(f"nbgrader could not release {name}: {last}")
        for name in names:
            changed += _sync_tree(root / "release" / name, course / "release" / name, check_only)
        if names == assignments(course):  # a full release also drops retired assignments
            for stale in set(assignments(course, "release")) - set(names):
                changed.append(f"{stale}/ (no longer in source)")
                if not check_only:
                    shutil.rmtree(course / "release" / stale)
    return [str(Path(c)) for c in changed]


def _sync_tree(new: Path, old: Path, check_only: bool) -> list[str]:
    """Make ``old`` equal ``new``; return the relative paths that differed."""
    changed = []
    new_files = {p.relative_to(new) for p in new.rglob("*") if p.is_file()}
    old_files = {p.relative_to(old) for p in old.rglob("*") if p.is_file()}
    for rel in sorted(new_files | old_files):
        a, b = new / rel, old / rel
        if rel in new_files and rel in old_files and filecmp.cmp(a, b, shallow=False):
            continue
        changed.append(f"{old.name}/{rel}")
        if check_only:
            continue
        if rel in new_files:
            b.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(a, b)
        else:
            b.unlink()
    return changed
