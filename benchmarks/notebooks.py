"""Execute every source notebook in a fresh kernel; print wall time and peak memory.

    python benchmarks/notebooks.py               # all assignments
    python benchmarks/notebooks.py 03_schedules  # some

Peak memory is the kernel process's maximum resident set size (``ru_maxrss``),
read by a cell appended to a copy of the notebook.  Targets: 10 s and 500 MB
per notebook (30 s for the case studies).
"""

from __future__ import annotations

import sys
import tempfile
import time

import nbformat
from nbclient import NotebookClient

from lrcourse.course import assignments, course_dir, notebook_path

PROBE = "import resource as _r\nprint('PEAK_KB', _r.getrusage(_r.RUSAGE_SELF).ru_maxrss)"
LIMITS = {"09_case_studies": 30.0}


def run(name: str) -> tuple[float, float, int]:
    nb = nbformat.read(notebook_path(course_dir(), name), as_version=4)
    nb.cells.append(nbformat.v4.new_code_cell(PROBE))
    with tempfile.TemporaryDirectory() as tmp:
        client = NotebookClient(nb, timeout=600, kernel_name="python3", allow_errors=True,
                                resources={"metadata": {"path": tmp}})
        start = time.perf_counter()
        client.execute()
        seconds = time.perf_counter() - start
    errors = sum(o.output_type == "error" for c in nb.cells for o in c.get("outputs", []))
    text = "".join(o.get("text", "") for o in nb.cells[-1].outputs)
    peak_mb = int(text.split("PEAK_KB")[1].split()[0]) / 1024 if "PEAK_KB" in text else float("nan")
    return seconds, peak_mb, errors


def main(names: list[str]) -> None:
    names = names or assignments(course_dir())
    print(f"{'notebook':<22} {'seconds':>8} {'limit':>6} {'peak MB':>8} {'errors':>7}")
    for name in names:
        seconds, peak, errors = run(name)
        limit = LIMITS.get(name, 10.0)
        flag = "" if seconds <= limit and peak <= 500 and not errors else "  <-- over target"
        print(f"{name:<22} {seconds:8.1f} {limit:6.0f} {peak:8.0f} {errors:7d}{flag}")


if __name__ == "__main__":
    main(sys.argv[1:])
