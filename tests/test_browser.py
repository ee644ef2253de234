"""The explorers in a real browser: every release notebook in Voila, and section 01 in JupyterLab.

Skips where Chromium is missing, except in CI (CI=true), where that is a failure: .ci/run
installs Debian's chromium.
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import pytest

from lrcourse.course import notebook_path

from .browser import CHROMIUM, CHROMIUM_ARGS, chromium_available, start_server, stop_server
from .conftest import ASSIGNMENTS, COURSE, IN_CI, ROOT

ARTIFACTS = ROOT / "test-artifacts" / "screenshots"

if not chromium_available():
    if IN_CI:
        raise RuntimeError("CI must run the browser tests: install Debian's chromium (.ci/run)")
    pytest.skip("Chromium is not installed (apt-get install -y chromium)", allow_module_level=True)

sync_api = pytest.importorskip("playwright.sync_api")
RELEASED = [a for a in ASSIGNMENTS if notebook_path(COURSE, a, "release").is_file()]


@pytest.fixture(scope="session")
def server(tmp_path_factory):
    root = tmp_path_factory.mktemp("notebooks")
    for name in RELEASED:
        shutil.copyfile(notebook_path(COURSE, name, "release"), root / f"{name}.ipynb")
    running = start_server(root, tmp_path_factory.mktemp("jupyter-home"))
    yield running
    stop_server(running)


@pytest.fixture(scope="session")
def browser(server):
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, headless=True,
                                              args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser, server):
    context = browser.new_context(viewport={"width": 1280, "height": 1000})
    blocked: list[str] = []

    def only_local(route):
        if route.request.url.startswith(server.url):
            route.continue_()
        else:
            blocked.append(route.request.url)
            route.abort()

    context.route("**/*", only_local)
    page = context.new_page()
    page.blocked = blocked
    yield page
    context.close()


def move_and_wait(page, explorer, presses: int = 12) -> tuple[str, str, str, str]:
    """Move the explorer's α slider with the keyboard; readout and image, before and after."""
    readout = explorer.locator(".lrcourse-readout")
    image = explorer.locator(".lrcourse-plot")
    before, before_src = readout.inner_text(), image.get_attribute("src")
    handle = explorer.locator(".lrcourse-alpha .noUi-handle").first
    handle.scroll_into_view_if_needed()
    handle.focus()
    for _ in range(presses):
        page.keyboard.press("ArrowLeft" if "diverge" in before else "ArrowRight")
    page.wait_for_function(
        "([el, text]) => el.innerText !== text", arg=[readout.element_handle(), before],
        timeout=30_000)
    stable, last = 0.0, readout.inner_text()
    while stable < 1.0:  # the kernel has caught up when the readout stops changing
        time.sleep(0.25)
        now = readout.inner_text()
        stable = stable + 0.25 if now == last else 0.0
        last = now
    return before, last, before_src, image.get_attribute("src")


@pytest.mark.parametrize("name", RELEASED)
def test_voila_renders_the_release_and_its_explorer_responds_to_the_keyboard(page, server, name):
    page.goto(f"{server.url}/voila/render/{name}.ipynb?token={server.token}", timeout=180_000)
    page.wait_for_selector(".lrcourse-explorer .lrcourse-alpha", timeout=180_000)
    assert page.locator("text=There was an error when executing cell").count() == 0
    assert page.locator("[data-mime-type='application/vnd.jupyter.stderr']").count() == 0
    explorer = page.locator(".lrcourse-explorer").first
    before, after, src_before, src_after = move_and_wait(page, explorer)
    assert after != before, "the readout did not change"
    assert src_after != src_before, "the plot image did not change"
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    explorer.screenshot(path=str(ARTIFACTS / f"voila-{name}.png"))
    assert all(not url.startswith(server.url) for url in page.blocked)


def _kernel_idle_and_connected(server, path: str) -> bool:
    sessions = server.api("/api/sessions")
    for session in sessions:
        kernel = session.get("kernel") or {}
        if session.get("path") == path and kernel.get("connections", 0) >= 1:
            return kernel.get("execution_state") == "idle"
    return False


def wait_until(condition, timeout: float, what: str) -> None:
    deadline = time.time() + timeout
    while not condition():
        if time.time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.25)


# JavaScript run in JupyterLab: the notebook panel's session context is the truth about
# the kernel (the toolbar's execution indicator alone races with kernel start-up).
SESSION_READY = """async () => {
    const app = window.jupyterapp;
    const panel = app && app.shell.currentWidget;
    if (!panel || !panel.sessionContext) { return "no notebook yet"; }
    const context = panel.sessionContext;
    await context.ready;
    if (!context.session || !context.session.kernel) {
        await context.changeKernel({name: "python3"});
    }
    const kernel = context.session.kernel;
    return kernel.connectionStatus + "/" + kernel.status;
}"""
RUN_ALL = """async () => {
    const app = window.jupyterapp;
    await app.commands.execute("notebook:run-all-cells");
    return "ok";
}"""
KERNEL_STATE = """() => {
    const kernel = window.jupyterapp.shell.currentWidget.sessionContext.session.kernel;
    return kernel.connectionStatus + "/" + kernel.status;
}"""


@pytest.mark.skipif("01_learning_rate" not in RELEASED, reason="section 01 not released")
def test_jupyterlab_runs_section_01_and_its_slider_updates_the_plot(page, server):
    name = "01_learning_rate.ipynb"
    page.goto(f"{server.url}/lab/tree/{name}?token={server.token}", timeout=180_000)
    page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=180_000)
    page.wait_for_function("() => window.jupyterapp && window.jupyterapp.shell.currentWidget"
                           " && window.jupyterapp.shell.currentWidget.sessionContext",
                           timeout=60_000)
    wait_until(lambda: page.evaluate(SESSION_READY) == "connected/idle", 120,
               "a connected, idle kernel")
    assert _kernel_idle_and_connected(server, name)  # the server agrees
    page.evaluate(RUN_ALL)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    try:  # JupyterLab renders far-away cells lazily: wait for the handle to exist
        page.wait_for_selector(".lrcourse-explorer .lrcourse-alpha .noUi-handle",
                               state="attached", timeout=120_000)
        wait_until(lambda: page.evaluate(KERNEL_STATE) == "connected/idle", 120,
                   "Run All to finish")
    finally:
        page.screenshot(path=str(ARTIFACTS / "jupyterlab-01-after-run-all.png"))
    explorer = page.locator(".lrcourse-explorer").first
    before, after, src_before, src_after = move_and_wait(page, explorer)
    assert after != before and src_after != src_before
    # no stale moves: the readout reports the value the slider shows now
    shown = explorer.locator(".lrcourse-alpha .widget-readout").inner_text().strip()
    assert f"α: {float(shown):.3g}" in after
    explorer.screenshot(path=str(ARTIFACTS / "jupyterlab-01.png"))


def test_screenshots_are_not_kept_in_git():
    assert "/test-artifacts/" in (ROOT / ".gitignore").read_text()
    assert isinstance(ARTIFACTS, Path)
