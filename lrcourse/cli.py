"""The ``lrcourse`` command: run the course, release it, grade it.

    lrcourse lab                 copy the student notebooks into a workspace, open JupyterLab
    lrcourse release             regenerate course/release from course/source (nbgrader)
    lrcourse grade SUBMISSIONS   autograde a folder of submissions: grades.csv + feedback
    lrcourse check NOTEBOOK      a learner's self-check of a notebook before submitting
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

from .course import CourseError, assignments, course_dir, generate_release, notebook_path

DEFAULT_WORKSPACE = "lrcourse-workspace"
MANIFEST = ".lrcourse.json"


# ------------------------------------------------------------------------- lab


def sync_workspace(course: Path, workspace: Path) -> list[str]:
    """Copy the student notebooks into ``workspace`` without touching the learner's copies.

    A notebook the learner does not have yet is copied.  One they have is
    never overwritten: when the course has changed it since it was copied,
    the new version is saved beside it as ``NN_slug.updated.ipynb``.
    Returns one line per action, for the user.
    """
    workspace.mkdir(parents=True, exist_ok=True)
    manifest_path = workspace / MANIFEST
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        manifest = {}
    actions = []
    for name in assignments(course, "release"):
        release = notebook_path(course, name, "release")
        digest = hashlib.sha256(release.read_bytes()).hexdigest()
        target = workspace / f"{name}.ipynb"
        if not target.exists():
            shutil.copyfile(release, target)
            actions.append(f"added {target.name}")
        elif manifest.get(name) not in (None, digest) and not _same_file(target, release):
            beside = workspace / f"{name}.updated.ipynb"
            shutil.copyfile(release, beside)
            actions.append(f"the course updated {target.name}: the new version is {beside.name}")
        manifest[name] = digest
    manifest_path.write_text(json.dumps(manifest, indent=1, sort_keys=True) + "\n")
    return actions


def _same_file(a: Path, b: Path) -> bool:
    return a.read_bytes() == b.read_bytes()


def free_port(start: int = 8888, tries: int = 50) -> int:
    for port in range(start, start + tries):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise CourseError(f"no free port in {start}..{start + tries - 1}: choose one with --port")


def lab_command(workspace: Path, port: int, token: str, open_browser: bool) -> list[str]:
    cmd = [
        sys.executable, "-m", "jupyterlab",
        f"--ServerApp.root_dir={workspace}",
        "--ServerApp.ip=127.0.0.1",
        f"--ServerApp.port={port}",
        "--ServerApp.port_retries=0",
        f"--IdentityProvider.token={token}",
        f"--ServerApp.open_browser={open_browser}",
    ]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        cmd.append("--allow-root")  # containers (Binder, CI) often run as root
    return cmd


def cmd_lab(args: argparse.Namespace) -> int:
    course = course_dir(args.course)
    workspace = Path(args.dir).resolve()
    for line in sync_workspace(course, workspace):
        print(line)
    port = args.port or free_port()
    token = os.environ.get("JUPYTER_TOKEN") or secrets.token_hex(16)
    print(f"Your notebooks are in {workspace}")
    print(f"JupyterLab: http://127.0.0.1:{port}/lab?token={token}", flush=True)
    proc = subprocess.Popen(lab_command(workspace, port, token, not args.no_browser))
    try:
        return proc.wait()
    except KeyboardInterrupt:
        proc.terminate()
        return proc.wait()


# --------------------------------------------------------------------- release


def cmd_release(args: argparse.Namespace) -> int:
    course = course_dir(args.course)
    changed = generate_release(course, args.assignments or None, check_only=args.check)
    if args.check:
        if changed:
            print("course/release is out of date with course/source:")
            for path in changed:
                print(f"  {path}")
            print("run `lrcourse release` and commit the result")
            return 1
        print("course/release is up to date")
        return 0
    for path in changed:
        print(f"wrote release/{path}")
    print(f"release up to date ({len(changed)} file(s) changed)")
    return 0


# ----------------------------------------------------------------------- grade


def cmd_grade(args: argparse.Namespace) -> int:
    from .grading.batch import find_submissions, grade_batch

    course = course_dir(args.course)
    submissions = find_submissions(Path(args.submissions), course, args.assignment)
    jobs = args.jobs or os.cpu_count() or 1
    out = Path(args.out)
    results = grade_batch(course, submissions, out, jobs=jobs, timeout=args.timeout,
                          memory_mb=args.memory_mb)
    width = max(len(r.student) for r in results)
    for r in sorted(results, key=lambda r: (r.assignment, r.student)):
        print(f"{r.student:<{width}}  {r.assignment}  {r.score:g}/{r.max_score:g}  {r.status}")
        for line in ([r.message] if r.message else []) + r.notes + r.flags:
            print(f"{'':<{width}}    {line}")
    print(f"grades: {out / 'grades.csv'}   feedback: {out / 'feedback'}")
    return 0


# ----------------------------------------------------------------------- check


def cmd_check(args: argparse.Namespace) -> int:
    from .grading.selfcheck import self_check

    course = course_dir(args.course)
    path = Path(args.notebook)
    if not path.is_file():
        raise CourseError(f"no such notebook: {path}")
    reports = self_check(path, course)
    total = sum(r.points for r in reports)
    earned = sum(r.earned for r in reports)
    for r in reports:
        mark = "\u2714" if r.earned == r.points else "\u2718"
        print(f"{mark} {r.grade_id:<32} {r.earned:g}/{r.points:g}")
        if r.earned < r.points:
            for message in r.messages:
                if not message.startswith("\u2714"):
                    print("    " + message.replace("\n", "\n    "))
    print(f"visible tests: {earned:g}/{total:g} points "
          "(the grader also runs hidden tests with other cases)")
    return 0 if earned == total else 1


# ------------------------------------------------------------------------ main


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="lrcourse",
        description="An auto-graded Jupyter course on the learning rate of neural networks.",
    )
    sub = parser.add_subparsers(dest="verb", required=True, metavar="VERB")

    course_help = "the course folder (default: the clone's course/, or $LRCOURSE_COURSE)"

    lab = sub.add_parser(
        "lab", help="copy the student notebooks into a workspace and open JupyterLab",
        description="Copy the student notebooks into a workspace (never overwriting a notebook "
        "you already have there) and start JupyterLab in it.",
    )
    lab.add_argument("--dir", default=DEFAULT_WORKSPACE,
                     help=f"the workspace folder (default: ./{DEFAULT_WORKSPACE})")
    lab.add_argument("--no-browser", action="store_true", help="do not open a web browser")
    lab.add_argument("--port", type=int, default=None,
                     help="the server's port (default: the first free one from 8888)")
    lab.add_argument("--course", default=None, help=course_help)
    lab.set_defaults(run=cmd_lab)

    release = sub.add_parser(
        "release", help="regenerate course/release from course/source",
        description="Regenerate the student notebooks in course/release from the instructor "
        "notebooks in course/source, with nbgrader and a throwaway gradebook.",
    )
    release.add_argument("assignments", nargs="*", metavar="ASSIGNMENT",
                         help="only these assignments (default: all)")
    release.add_argument("--check", action="store_true",
                         help="write nothing; exit 1 if the release is out of date")
    release.add_argument("--course", default=None, help=course_help)
    release.set_defaults(run=cmd_release)

    grade = sub.add_parser(
        "grade", help="autograde a folder of submissions",
        description="Autograde submitted notebooks into a grade table (grades.csv) and "
        "per-student feedback HTML. SUBMISSIONS is nbgrader's submitted/<student>/<assignment>/ "
        "layout, or a flat folder of <student>.ipynb files with --assignment.",
    )
    grade.add_argument("submissions", metavar="SUBMISSIONS", help="the folder of submissions")
    grade.add_argument("--assignment", default=None,
                       help="the assignment (NN_slug) of a flat folder of notebooks")
    grade.add_argument("--out", default="lrcourse-grades",
                       help="where grades.csv, feedback/ and gradebook.db go "
                       "(default: ./lrcourse-grades)")
    grade.add_argument("--jobs", type=int, default=None,
                       help="submissions graded at once (default: all cores)")
    grade.add_argument("--timeout", type=float, default=None,
                       help="seconds one cell may run (default: the course's, 60)")
    grade.add_argument("--memory-mb", type=int, default=None,
                       help="memory limit per submission in MB (default: the course's, 2048)")
    grade.add_argument("--course", default=None, help=course_help)
    grade.set_defaults(run=cmd_grade)

    check = sub.add_parser(
        "check", help="check your notebook before you submit it",
        description="Run your notebook in a fresh process with the course's visible tests and "
        "report each exercise: pass or fail, what is wrong, the points. Exits 1 if any fails.",
    )
    check.add_argument("notebook", metavar="NOTEBOOK", help="your notebook (.ipynb)")
    check.add_argument("--course", default=None, help=course_help)
    check.set_defaults(run=cmd_check)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.run(args)
    except CourseError as err:
        print(f"lrcourse {args.verb}: error: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
