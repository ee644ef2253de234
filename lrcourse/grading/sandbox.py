"""The grading sandbox: runs one submission's cells in a fresh, limited process.

The parent (:mod:`lrcourse.grading.runner`) starts ``python -m
lrcourse.grading.sandbox FD`` and sends it a plan on stdin; this process
sends events back, one JSON object per line, on file descriptor ``FD``:

    {"event": "ready"}
    {"event": "start", "cell": i}                      before each cell
    {"event": "outputs", "cell": i, "outputs": [...]}  what a learner cell showed
    {"event": "checks", "cell": i, "results": [...]}   the learner's outputs at a test cell
    {"event": "integrity", "cell": i, "flags": [...]}  grader code or hooks changed
    {"event": "done"}

Learner cells run in an IPython shell (magics work, no kernel, no display).
Test cells do not run as code here: for each check the instructor's cell
calls, the sandbox looks up the learner's function or value and runs the
*collect* half of the check on it; the parent judges.  Nothing sent back is
trusted beyond being data to judge.
"""

from __future__ import annotations

import io
import json
import os
import resource
import sys
import types
from typing import Any

MAX_TEXT = 20_000  # characters of a cell's printed output kept for feedback
OUT_OF_MEMORY = 86  # exit code: a cell hit the memory limit; the grader restarts past it


def _limit_memory(megabytes: int) -> None:
    limit = megabytes * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


def _functions_of(modules: list[types.ModuleType]) -> dict[str, tuple[Any, Any]]:
    """Every function and method of ``modules``, with its code object, by dotted name."""
    found = {}
    for module in modules:
        for name, obj in vars(module).items():
            if isinstance(obj, types.FunctionType) and obj.__module__ == module.__name__:
                found[f"{module.__name__}.{name}"] = (obj, obj.__code__)
            elif isinstance(obj, type) and obj.__module__ == module.__name__:
                for attr, member in vars(obj).items():
                    if isinstance(member, types.FunctionType):
                        found[f"{module.__name__}.{name}.{attr}"] = (member, member.__code__)
    return found


def _tampered(snapshot: dict[str, tuple[Any, Any]]) -> list[str]:
    from lrcourse.checks._core import resolve

    changed = []
    for dotted, (fn, code) in snapshot.items():
        try:
            now = resolve(dotted)
        except (ImportError, AttributeError):
            changed.append(dotted)
            continue
        if now is not fn or fn.__code__ is not code:
            changed.append(dotted)
    return changed


HOOKS = ("input_transformers_cleanup", "input_transformers_post", "ast_transformers")


def _hooks(shell: Any) -> dict[str, list]:
    """Copies of IPython's hook lists, to compare and to put back."""
    saved = {name: list(getattr(shell, name)) for name in HOOKS}
    saved["events"] = [(event, list(fns)) for event, fns in shell.events.callbacks.items()]
    return saved


def _restore_hooks(shell: Any, saved: dict[str, list]) -> None:
    """Undo what a learner's cell did to IPython's hooks, so later cells run as written."""
    for name in HOOKS:
        getattr(shell, name)[:] = saved[name]
    for event, fns in saved["events"]:
        shell.events.callbacks[event][:] = fns


def main() -> None:
    events = os.fdopen(int(sys.argv[1]), "w", buffering=1, encoding="utf-8")

    def send(**message: Any) -> None:
        events.write(json.dumps(message) + "\n")

    plan = json.loads(sys.stdin.read())
    os.environ["MPLBACKEND"] = "Agg"
    os.chdir(plan.get("cwd") or os.getcwd())
    _limit_memory(int(plan.get("memory_mb", 2048)))

    # Everything the harness uses is bound here, before any learner code runs.
    from IPython.core.interactiveshell import InteractiveShell
    from IPython.utils.capture import capture_output

    import lrcourse.checks as checks
    from lrcourse.checks import _core
    from lrcourse.checks._core import Raised, encode

    exercises = {name: fn.exercise for name, fn in vars(checks).items()
                 if name.startswith("check_") and hasattr(fn, "exercise")}
    guarded = [m for name, m in sorted(sys.modules.items())
               if name.startswith("lrcourse.checks") and m is not None]
    snapshot = _functions_of(guarded)
    collect = _core.collect

    shell = InteractiveShell.instance(colors="NoColor")
    shell.history_manager.enabled = False
    shell.enable_gui = lambda gui=None: None  # no GUI event loop here; inline figures only
    hooks = _hooks(shell)
    trace: dict[str, Any] = {}

    def keep_traceback(etype: Any, evalue: Any, stb: list[str]) -> None:
        trace["error"] = (etype.__name__ if etype else "Error", str(evalue), stb)

    shell._showtraceback = keep_traceback
    send(event="ready")

    skip = set(plan.get("skip", []))
    unchecked = set(plan.get("no_checks", []))
    reported: set[str] = set()
    for cell in plan["cells"]:
        index = cell["index"]
        if index in skip:
            continue
        send(event="start", cell=index)
        if cell["kind"] == "code":
            trace.clear()
            with capture_output(display=True) as captured:
                shell.run_cell(cell["source"], store_history=False)
            send(event="outputs", cell=index, outputs=_outputs(captured, trace))
            if trace.get("error", ("",))[0] == "MemoryError":
                # what the cell allocated is still held; start afresh without this cell
                events.flush()
                os._exit(OUT_OF_MEMORY)
            if cell.get("trusted"):  # the instructor's own cells may set up IPython
                hooks = _hooks(shell)
                continue
        elif cell["kind"] == "test" and index not in unchecked:
            changed = _tampered(snapshot)
            if changed:
                send(event="integrity", cell=index,
                     flags=[f"the grader's code was changed: {', '.join(changed[:3])}"])
                send(event="checks", cell=index, results=[
                    {"error": "not graded: the grader's own code was changed before this test"}
                    for _ in cell["checks"]])
                continue
            results = []
            for planned in cell["checks"]:
                ex = exercises.get(planned["check"])
                value = shell.user_ns.get(planned["target"], _MISSING)
                if ex is None:
                    results.append({"error": f"unknown check {planned['check']}"})
                elif value is _MISSING:
                    results.append({"missing": planned["target"]})
                else:
                    kwargs = dict(planned["kwargs"])
                    seed, hidden = int(kwargs.pop("seed", 0)), bool(kwargs.pop("hidden", False))
                    with capture_output(display=True):  # learners' prints are not feedback here
                        try:
                            got = collect(ex, value, seed, hidden, **kwargs)
                        except Exception as err:  # e.g. the cases could not be built
                            got = [Raised(type(err).__name__, str(err)[:300])]
                    results.append({"outputs": encode(got)})
            send(event="checks", cell=index, results=results)
        now = _hooks(shell)
        changed = [k for k in now if now[k] != hooks[k]]
        if changed:
            # flagged, then undone: a hook cannot hide the learner's later cells or tests
            _restore_hooks(shell, hooks)
            flags = [f"the notebook changed IPython's {k} (undone for grading)"
                     for k in changed if k not in reported]
            reported |= set(changed)
            if flags:
                send(event="integrity", cell=index, flags=flags)
    send(event="done")
    events.flush()
    os._exit(0)  # skip interpreter teardown: atexit hooks of learner code do not run


class _Missing:
    pass


_MISSING = _Missing()


def _outputs(captured: Any, trace: dict[str, Any]) -> list[dict]:
    """nbformat outputs for what a cell printed, displayed and raised."""
    outputs: list[dict] = []
    for name, text in (("stdout", captured.stdout), ("stderr", captured.stderr)):
        if text:
            outputs.append({"output_type": "stream", "name": name, "text": _clip(text)})
    for rich in captured.outputs:
        data = {k: v for k, v in rich.data.items()
                if k in ("text/plain", "image/png", "text/html", "text/markdown")}
        if data:
            outputs.append({"output_type": "display_data", "data": data, "metadata": {}})
    if "error" in trace:
        ename, evalue, stb = trace["error"]
        outputs.append({"output_type": "error", "ename": ename, "evalue": _clip(evalue),
                        "traceback": [_clip("\n".join(stb))]})
    return outputs


def _clip(text: str) -> str:
    return text if len(text) <= MAX_TEXT else text[:MAX_TEXT] + "\n... (output cut)"


if __name__ == "__main__":
    sys.stdout = io.TextIOWrapper(sys.stdout.buffer, encoding="utf-8", line_buffering=True)
    main()
