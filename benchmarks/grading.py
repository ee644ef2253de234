"""Grading cost: 30 honest submissions of the heaviest section, one and two at a time.

    python benchmarks/grading.py [ASSIGNMENT] [--n 30]

Prints the plain execution time of the notebook (a fresh kernel, nbclient), the
seconds per submission with --jobs 1 and --jobs 2, and the speed-up.  Targets:
per-submission cost <= 1.5 x plain execution + 1 s; speed-up on 2 cores >= 1.6 x.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

from lrcourse.course import assignments, course_dir, solved_release
from lrcourse.grading.batch import find_submissions, grade_batch


def plain_seconds(nb: nbformat.NotebookNode, repeats: int = 3) -> float:
    times = []
    for _ in range(repeats):
        copy = nbformat.from_dict(nb)
        with tempfile.TemporaryDirectory() as tmp:
            start = time.perf_counter()
            NotebookClient(copy, timeout=600, kernel_name="python3", allow_errors=True,
                           resources={"metadata": {"path": tmp}}).execute()
            times.append(time.perf_counter() - start)
    return sorted(times)[len(times) // 2]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("assignment", nargs="?")
    parser.add_argument("--n", type=int, default=30)
    args = parser.parse_args()
    course = course_dir()
    names = [n for n in assignments(course) if n in assignments(course, "release")]
    nb_by_name = {name: solved_release(course, name) for name in names}
    if args.assignment:
        name = args.assignment
        plain = plain_seconds(nb_by_name[name])
    else:  # the heaviest: the longest plain execution
        timed = {n: plain_seconds(nb_by_name[n], repeats=1) for n in names}
        name = max(timed, key=timed.get)
        plain = plain_seconds(nb_by_name[name])
    print(f"assignment: {name}; plain execution (fresh kernel, median of 3): {plain:.2f} s")
    with tempfile.TemporaryDirectory() as tmp:
        submitted = Path(tmp) / "submitted"
        for i in range(args.n):
            folder = submitted / f"student{i:02d}" / name
            folder.mkdir(parents=True)
            nbformat.write(nb_by_name[name], folder / f"{name}.ipynb")
        subs = find_submissions(submitted, course)
        seconds = {}
        for jobs in (1, 2):
            start = time.perf_counter()
            results = grade_batch(course, subs, Path(tmp) / f"out{jobs}", jobs=jobs)
            seconds[jobs] = time.perf_counter() - start
            full = sum(r.score == r.max_score for r in results)
            print(f"--jobs {jobs}: {seconds[jobs]:.1f} s for {args.n} submissions "
                  f"= {seconds[jobs] / args.n:.2f} s each ({full}/{args.n} full marks)")
    per = seconds[1] / args.n
    target = 1.5 * plain + 1.0
    print(f"per-submission cost {per:.2f} s; target <= 1.5 x {plain:.2f} + 1 = {target:.2f} s"
          f" -> {'met' if per <= target else 'NOT met'}")
    speedup = seconds[1] / seconds[2]
    print(f"speed-up with 2 jobs: {speedup:.2f}x; target >= 1.6x -> "
          f"{'met' if speedup >= 1.6 else 'NOT met'}")


if __name__ == "__main__":
    sys.exit(main())
