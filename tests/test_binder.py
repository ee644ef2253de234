"""The Binder environment, rebuilt here as mybinder.org would build it.

A fresh virtual environment gets binder/requirements.txt, then binder/postBuild runs
in a copy of the repository; JupyterLab is started from that environment and serves a
student notebook.  The install time and size are written to test-artifacts/binder.txt.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import urllib.request

import pytest

from .browser import start_server, stop_server
from .conftest import ROOT

BINDER = ROOT / "binder"


def test_requirements_pin_every_package_exactly_and_leave_torch_out():
    pins = [line for line in (BINDER / "requirements.txt").read_text().splitlines()
            if line and not line.startswith("#")]
    assert pins and all("==" in line for line in pins)
    names = {line.split("==")[0].lower() for line in pins}
    assert {"numpy", "matplotlib", "ipywidgets", "jupyterlab", "nbgrader", "voila"} <= names
    assert "torch" not in names


def test_postbuild_stops_at_the_first_error_and_rebuilds_nothing():
    text = (BINDER / "postBuild").read_text()
    assert text.startswith("#!/usr/bin/env bash") and "set -euo pipefail" in text
    assert "jupyter lab build" not in text and "labextension install" not in text
    assert os.access(BINDER / "postBuild", os.X_OK)


@pytest.fixture(scope="module")
def binder_env(tmp_path_factory):
    base = tmp_path_factory.mktemp("binder")
    repo = base / "repo"
    for part in ("lrcourse", "course", "binder", "pyproject.toml", "README.md"):
        source = ROOT / part
        if source.is_dir():
            shutil.copytree(source, repo / part, ignore=shutil.ignore_patterns(
                "__pycache__", "*.egg-info", "gradebook.db"))
        else:
            shutil.copyfile(source, repo / part)
    venv = base / "venv"
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "-q"]
    subprocess.run([*pip, "-r", str(repo / "binder" / "requirements.txt")], check=True)
    env = dict(os.environ, PATH=f"{venv / 'bin'}{os.pathsep}{os.environ['PATH']}",
               VIRTUAL_ENV=str(venv), JUPYTER_CONFIG_DIR=str(base / "config"))
    subprocess.run(["bash", str(repo / "binder" / "postBuild")], cwd=repo, env=env, check=True)
    seconds = time.perf_counter() - start
    size = sum(p.stat().st_size for p in venv.rglob("*") if p.is_file() and not p.is_symlink())
    report = ROOT / "test-artifacts" / "binder.txt"
    report.parent.mkdir(parents=True, exist_ok=True)
    report.write_text(f"Binder environment: installed in {seconds:.0f} s, "
                      f"{size / 2**20:.0f} MB\n")
    return repo, venv, env, base


def test_the_course_library_imports_in_the_binder_environment(binder_env):
    repo, venv, env, _ = binder_env
    code = ("import lrcourse, lrcourse.checks\n"
            "from lrcourse.widgets.basics import ParabolaExplorer\n"
            "print(lrcourse.__file__)\nParabolaExplorer()")
    out = subprocess.run([str(venv / "bin" / "python"), "-c", code], env=env, cwd="/",
                         capture_output=True, text=True, check=True).stdout
    assert out.strip().startswith(str(repo / "lrcourse"))


def _listing(venv, env, *args: str) -> list[str]:
    import re

    result = subprocess.run([str(venv / "bin" / "jupyter"), *args], env=env,
                            capture_output=True, text=True)
    return re.sub(r"\x1b\[[0-9;]*m", "", result.stdout + result.stderr).splitlines()


def test_nbgraders_instructor_tools_are_hidden_from_learners(binder_env):
    _, venv, env, _ = binder_env
    labs = "\n".join(_listing(venv, env, "labextension", "list"))
    for plugin in ("formgrader", "create-assignment", "course-list"):
        assert f"@jupyter/nbgrader:{plugin}" in labs, labs
    servers = _listing(venv, env, "server", "extension", "list")
    for extension in ("formgrader", "course_list"):
        lines = [line for line in servers
                 if f"nbgrader.server_extensions.{extension} " in line and "abled" in line]
        assert lines and all("disabled" in line for line in lines), servers


def test_jupyterlab_from_the_binder_environment_serves_a_student_notebook(binder_env):
    repo, venv, env, base = binder_env
    server = start_server(repo, base / "home", python=str(venv / "bin" / "python"))
    try:
        path = "course/release/01_learning_rate/01_learning_rate.ipynb"
        model = server.api(f"/api/contents/{path}")
        assert model["type"] == "notebook" and model["content"]["cells"]
        url = f"{server.url}/lab/tree/{path}?token={server.token}"
        with urllib.request.urlopen(url, timeout=30) as response:
            assert response.status == 200 and b"JupyterLab" in response.read()
        specs = server.api("/api/kernelspecs")
        assert "python3" in specs["kernelspecs"]
    finally:
        stop_server(server)
