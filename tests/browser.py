"""A real Jupyter server and a real Chromium, for the browser tests.

Chromium is Debian's (``apt-get install chromium``), driven by Playwright through
``executable_path``; Playwright's own browser download is never used.  Every
request that is not to the local server is blocked.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from lrcourse.cli import free_port

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]
# nbgrader's instructor tools and the classic-notebook shim are not for the app view
VOILA_DENY = ["@jupyter/nbgrader", "@jupyter-notebook/lab-extension"]


@dataclass
class Server:
    url: str
    token: str
    root: Path
    process: subprocess.Popen

    def api(self, path: str) -> object:
        with urllib.request.urlopen(f"{self.url}{path}?token={self.token}", timeout=10) as r:
            return json.load(r)


def start_server(root: Path, home: Path, python: str = sys.executable) -> Server:
    """JupyterLab + Voila on 127.0.0.1 with a token and isolated config/runtime/settings."""
    home.mkdir(parents=True, exist_ok=True)
    # no "would you like news?" toast over the page
    notification = home / "settings" / "@jupyterlab" / "apputils-extension"
    notification.mkdir(parents=True, exist_ok=True)
    (notification / "notification.jupyterlab-settings").write_text('{"fetchNews": "false"}')
    port = free_port(18800)
    token = "browser-test-token"
    env = dict(
        os.environ,
        JUPYTER_CONFIG_DIR=str(home / "config"), JUPYTER_RUNTIME_DIR=str(home / "runtime"),
        JUPYTERLAB_SETTINGS_DIR=str(home / "settings"),
        JUPYTERLAB_WORKSPACES_DIR=str(home / "workspaces"), IPYTHONDIR=str(home / "ipython"),
    )
    cmd = [
        python, "-m", "jupyterlab", "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={port}",
        "--ServerApp.port_retries=0", f"--IdentityProvider.token={token}",
        "--ServerApp.open_browser=False", f"--ServerApp.root_dir={root}", "--allow-root",
        f"--VoilaConfiguration.extension_denylist={json.dumps(VOILA_DENY)}",
        "--LabApp.news_url=None", "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
        "--LabApp.expose_app_in_browser=True",  # tests watch JupyterLab's session context
    ]
    log = (home / "server.log").open("w")
    process = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT,
                               start_new_session=True)
    server = Server(f"http://127.0.0.1:{port}", token, root, process)
    deadline = time.time() + 120
    while True:
        try:
            server.api("/api/status")
            return server
        except OSError as err:
            if process.poll() is not None or time.time() > deadline:
                stop_server(server)
                log = home / "server.log"
                raise RuntimeError(f"the Jupyter server did not start: {log}") from err
            time.sleep(0.5)


def stop_server(server: Server) -> None:
    if server.process.poll() is None:
        os.killpg(server.process.pid, signal.SIGTERM)
        try:
            server.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(server.process.pid, signal.SIGKILL)
            server.process.wait()


def chromium_available() -> bool:
    return Path(CHROMIUM).is_file() and shutil.which("chromium") is not None
