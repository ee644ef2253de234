"""Every source notebook runs top to bottom in a fresh kernel, with no front end attached."""

from __future__ import annotations

import nbformat
import pytest
from nbclient import NotebookClient

from lrcourse.course import notebook_path

from .conftest import ASSIGNMENTS, COURSE

pytestmark = pytest.mark.skipif(not ASSIGNMENTS, reason="the course has no assignments yet")


def execute(path, tmp_path):
    nb = nbformat.read(path, as_version=4)
    NotebookClient(
        nb, timeout=300, kernel_name="python3", allow_errors=True,
        resources={"metadata": {"path": str(tmp_path)}},
    ).execute()
    return nb


@pytest.fixture(scope="module", params=ASSIGNMENTS)
def executed(request, tmp_path_factory):
    path = notebook_path(COURSE, request.param)
    return request.param, execute(path, tmp_path_factory.mktemp(request.param))


def test_source_notebook_runs_without_an_error_or_a_warning(executed):
    name, nb = executed
    for number, cell in enumerate(nb.cells, start=1):
        for out in cell.get("outputs", []):
            assert out.output_type != "error", (
                f"{name}, cell {number}: {out.get('ename')}: {out.get('evalue')}"
            )
            if out.output_type == "stream" and out.name == "stderr":
                assert "Warning" not in out.text, f"{name}, cell {number}: {out.text[:300]}"


def test_every_explorer_falls_back_to_a_static_figure_without_a_front_end(executed):
    name, nb = executed
    explorers = [
        out for cell in nb.cells for out in cell.get("outputs", [])
        if "application/vnd.lrcourse.explorer+json" in out.get("data", {})
    ]
    assert explorers, f"{name} has no live explorer"
    for out in explorers:
        assert out["data"]["image/png"], "an explorer without its static picture"


def test_every_exercise_test_passes_on_the_solutions(executed):
    name, nb = executed
    for cell in nb.cells:
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("grade"):
            text = "".join(o.get("text", "") for o in cell.outputs if o.output_type == "stream")
            assert "\u2714" in text, f"{name}: {meta['grade_id']} printed no pass line"
