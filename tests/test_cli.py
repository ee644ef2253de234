"""The `lrcourse` command: help, clear one-line errors, and a lab that keeps learners' work."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from lrcourse.cli import free_port, main, sync_workspace

from .conftest import ASSIGNMENTS, COURSE


def run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "lrcourse.cli", *args],
        capture_output=True, text=True, cwd=cwd, timeout=600,
    )


@pytest.mark.parametrize("verb", ["lab", "release", "grade", "check"])
def test_every_verb_has_help(verb):
    result = run(verb, "--help")
    assert result.returncode == 0
    assert f"usage: lrcourse {verb}" in result.stdout


def test_lab_help_names_the_default_workspace():
    assert "lrcourse-workspace" in run("lab", "--help").stdout


def test_grade_of_a_missing_folder_is_one_line_that_says_what_to_do(tmp_path):
    result = run("grade", str(tmp_path / "nowhere"))
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert "no such folder" in lines[0] and "pass the folder that holds the submissions" in lines[0]


def test_grade_of_an_unknown_assignment_lists_the_known_ones(tmp_path):
    (tmp_path / "alice.ipynb").write_text("{}")
    result = run("grade", str(tmp_path), "--assignment", "99_nope")
    assert result.returncode == 2
    assert "unknown assignment '99_nope'" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_grade_of_a_flat_folder_without_assignment_asks_for_it(tmp_path):
    (tmp_path / "alice.ipynb").write_text("{}")
    result = run("grade", str(tmp_path))
    assert result.returncode == 2 and "--assignment" in result.stderr


def test_release_check_passes_on_the_committed_course():
    if not ASSIGNMENTS:
        pytest.skip("no assignments yet")
    assert main(["release", "--check"]) == 0


def test_release_of_a_folder_that_is_not_a_course_says_so(tmp_path, capsys):
    assert main(["release", "--course", str(tmp_path)]) == 2
    assert "is not a course folder" in capsys.readouterr().err


# ----------------------------------------------------------------- workspace


def _course_copy(tmp_path: Path) -> Path:
    copy = tmp_path / "course"
    shutil.copytree(COURSE, copy)
    return copy


@pytest.mark.skipif(not ASSIGNMENTS, reason="no assignments yet")
def test_workspace_gets_every_student_notebook_and_no_source(tmp_path):
    ws = tmp_path / "ws"
    sync_workspace(COURSE, ws)
    names = sorted(p.stem for p in ws.glob("*.ipynb"))
    assert names == ASSIGNMENTS
    for path in ws.glob("*.ipynb"):
        assert "BEGIN SOLUTION" not in path.read_text()


@pytest.mark.skipif(not ASSIGNMENTS, reason="no assignments yet")
def test_a_second_sync_never_overwrites_a_learners_edit(tmp_path):
    ws = tmp_path / "ws"
    sync_workspace(COURSE, ws)
    mine = ws / f"{ASSIGNMENTS[0]}.ipynb"
    nb = json.loads(mine.read_text())
    nb["cells"][0]["source"] = "my own notes"
    mine.write_text(json.dumps(nb))
    edited = mine.read_bytes()
    assert sync_workspace(COURSE, ws) == []
    assert mine.read_bytes() == edited


@pytest.mark.skipif(not ASSIGNMENTS, reason="no assignments yet")
def test_a_course_update_is_saved_beside_the_learners_copy(tmp_path):
    course = _course_copy(tmp_path)
    ws = tmp_path / "ws"
    sync_workspace(course, ws)
    name = ASSIGNMENTS[0]
    mine = ws / f"{name}.ipynb"
    mine.write_text(mine.read_text().replace("Learning", "Learnt"))  # the learner's edit
    edited = mine.read_bytes()
    release = course / "release" / name / f"{name}.ipynb"
    release.write_text(release.read_text().replace("\"cells\"", "\"cells\"", 1) + "\n")
    actions = sync_workspace(course, ws)
    assert mine.read_bytes() == edited
    assert (ws / f"{name}.updated.ipynb").read_bytes() == release.read_bytes()
    assert any("updated" in a for a in actions)


@pytest.mark.skipif(not ASSIGNMENTS, reason="no assignments yet")
def test_a_new_notebook_from_a_course_update_is_added(tmp_path):
    course = _course_copy(tmp_path)
    ws = tmp_path / "ws"
    sync_workspace(course, ws)
    extra = course / "release" / "99_extra"
    extra.mkdir()
    shutil.copyfile(course / "release" / ASSIGNMENTS[0] / f"{ASSIGNMENTS[0]}.ipynb",
                    extra / "99_extra.ipynb")
    assert "added 99_extra.ipynb" in sync_workspace(course, ws)


@pytest.mark.skipif(not ASSIGNMENTS, reason="no assignments yet")
def test_lab_serves_the_workspace_notebooks_and_keeps_edits_across_runs(tmp_path):
    ws = tmp_path / "ws"
    port = free_port(18900)
    env = dict(os.environ, JUPYTER_TOKEN="lab-test-token", JUPYTER_CONFIG_DIR=str(tmp_path / "cfg"),
               JUPYTER_RUNTIME_DIR=str(tmp_path / "rt"))

    def start() -> subprocess.Popen:
        return subprocess.Popen(
            [sys.executable, "-m", "lrcourse.cli", "lab", "--no-browser", "--dir", str(ws),
             "--port", str(port)],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env,
            start_new_session=True,
        )

    def contents(name: str) -> dict:
        url = f"http://127.0.0.1:{port}/api/contents/{name}?token=lab-test-token"
        deadline = time.time() + 90
        while True:
            try:
                with urllib.request.urlopen(url, timeout=5) as response:
                    assert response.status == 200
                    return json.load(response)
            except OSError:
                if time.time() > deadline:
                    raise
                time.sleep(0.5)

    def stop(proc: subprocess.Popen) -> str:
        os.killpg(proc.pid, signal.SIGTERM)
        out, _ = proc.communicate(timeout=30)
        return out

    name = f"{ASSIGNMENTS[0]}.ipynb"
    proc = start()
    try:
        served = contents(name)
        assert served["type"] == "notebook" and served["content"]["cells"]
    finally:
        out = stop(proc)
    assert re.search(rf"http://127\.0\.0\.1:{port}/lab\?token=lab-test-token", out)

    nb = json.loads((ws / name).read_text())
    nb["cells"][0]["source"] = "learner was here"
    (ws / name).write_text(json.dumps(nb))
    proc = start()
    try:
        served = contents(name)
        first = served["content"]["cells"][0]["source"]
        assert first == "learner was here"
    finally:
        stop(proc)


def test_check_of_a_file_that_is_not_a_notebook_is_one_line(tmp_path):
    bad = tmp_path / "mine.ipynb"
    bad.write_text("{ not json")
    result = run("check", str(bad))
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "is not a readable notebook" in lines[0]


def test_check_of_a_missing_notebook_says_so(tmp_path):
    result = run("check", str(tmp_path / "nowhere.ipynb"))
    assert result.returncode == 2 and "no such notebook" in result.stderr
