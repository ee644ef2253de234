"""Run a submission in the sandbox and judge its tests in this process.

:func:`run_submission` is the grader's executor.  It sends the learner's
cells to a fresh sandbox process (:mod:`lrcourse.grading.sandbox`), watches
it, and judges what comes back:

* learner cells run in order; their outputs are kept for feedback;
* at each test cell the sandbox collects the learner's outputs for the checks
  that the *instructor's* copy of the cell calls, and this process judges them
  against the reference library, out of the learner's reach;
* a cell that runs longer than ``timeout`` seconds, or that kills the process
  (``os._exit``, a crash, memory past ``memory_mb``), is stopped and reported;
  the sandbox restarts and goes on after it, so later work still counts;
* every test cell ends with a verdict: a pass line, or an error with the
  diagnosis.  A test the run never reached is an error saying why.
"""

from __future__ import annotations

import json
import os
import selectors
import signal
import subprocess
import sys
import time
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..checks._core import decode, report
from .plan import TestCellError, parse_test_cell
from .scan import scan_cells

__all__ = ["CellVerdict", "RunResult", "run_submission"]

MAX_RESTARTS = 6
STARTUP_SECONDS = 60.0


@dataclass
class CellVerdict:
    """The verdict on one test cell."""

    index: int
    passed: bool
    messages: list[str] = field(default_factory=list)


@dataclass
class RunResult:
    """What running one submission gave."""

    outputs: dict[int, list[dict]] = field(default_factory=dict)  # cell index -> outputs
    verdicts: dict[int, CellVerdict] = field(default_factory=dict)
    flags: list[str] = field(default_factory=list)  # for manual review, with the reason
    events: list[str] = field(default_factory=list)  # what happened (timeouts, crashes)


def _is_test_cell(cell: Any) -> bool:
    meta = cell.get("metadata", {}).get("nbgrader", {})
    return bool(meta.get("grade")) and not meta.get("solution") and cell.get("cell_type") == "code"


def run_submission(
    cells: Sequence[Any],
    timeout: float = 60.0,
    memory_mb: int = 2048,
    cwd: str | None = None,
    trusted: Collection[str] = (),
) -> RunResult:
    """Execute ``cells`` (nbformat cells; test cells as the instructor wrote them) safely.

    ``trusted`` holds the sources of the instructor's own code cells: those are
    not scanned for tampering and may set up IPython (``%matplotlib``).
    """
    trusted = {t.strip() for t in trusted}
    result = RunResult()
    plan_cells: list[dict] = []
    planned: dict[int, list] = {}
    learner_cells = []
    for index, cell in enumerate(cells):
        if cell.get("cell_type") != "code":
            continue
        if _is_test_cell(cell):
            try:
                planned[index] = parse_test_cell(cell["source"])
            except TestCellError as err:
                result.verdicts[index] = CellVerdict(index, False, [f"not graded: {err}"])
                continue
            plan_cells.append({"index": index, "kind": "test", "checks": [
                {"check": p.check, "target": p.target, "kwargs": _public(p)}
                for p in planned[index]]})
        else:
            ours = cell["source"].strip() in trusted
            plan_cells.append({"index": index, "kind": "code", "source": cell["source"],
                               "trusted": ours})
            if not ours:
                learner_cells.append((index, cell["source"]))
    result.flags += [str(f) for f in scan_cells(learner_cells)]

    received: dict[int, list] = {}
    skip: set[int] = set()
    for _attempt in range(MAX_RESTARTS + 1):
        plan = {"cells": plan_cells, "skip": sorted(skip), "no_checks": sorted(received),
                "memory_mb": memory_mb, "cwd": cwd}
        stopped_at, reason = _run_once(plan, timeout, result, received)
        if stopped_at is None:
            break
        result.events.append(f"cell {stopped_at + 1}: {reason}")
        skip.add(stopped_at)
        if stopped_at in planned:
            received.setdefault(stopped_at, [{"error": reason}] * len(planned[stopped_at]))
        else:
            result.outputs[stopped_at] = [_error_output("GradingStopped", reason)]
    else:
        result.events.append(f"gave up after {MAX_RESTARTS} restarts; later cells did not run")

    for index, checks in planned.items():
        if index in result.verdicts:
            continue
        got = received.get(index)
        if got is None:
            result.verdicts[index] = CellVerdict(index, False, [
                "not graded: the run stopped before this test (see the grading notes)"])
            continue
        result.verdicts[index] = _judge(index, checks, got)
    return result


def _public(planned: Any) -> dict:
    """The arguments of a check call that may enter the learner's process."""
    from ..checks import __dict__ as checks_namespace

    check = checks_namespace.get(planned.check)
    secret = getattr(getattr(check, "exercise", None), "secret_params", ())
    return {k: v for k, v in planned.kwargs.items() if k not in secret}


def _judge(index: int, checks: list, results: list) -> CellVerdict:
    from .. import checks as checks_module

    verdict = CellVerdict(index, True)
    if len(results) != len(checks):
        return CellVerdict(index, False, ["not graded: the sandbox returned malformed results"])
    for planned, got in zip(checks, results, strict=True):
        check = getattr(checks_module, planned.check, None)
        ex = getattr(check, "exercise", None)
        if ex is None:
            verdict.passed = False
            verdict.messages.append(f"{planned.check} is not a known check")
            continue
        if not isinstance(got, dict):
            got = {"error": "malformed result"}
        if "missing" in got:
            verdict.passed = False
            verdict.messages.append(
                f"{ex.title(**planned.kwargs)}: `{planned.target}` is not defined: the cell "
                "that should define it is not written yet, or it raised an error")
            continue
        if "error" in got:
            verdict.passed = False
            verdict.messages.append(f"{ex.title(**planned.kwargs)}: {got['error']}")
            continue
        kwargs = dict(planned.kwargs)
        seed, hidden = int(kwargs.pop("seed", 0)), bool(kwargs.pop("hidden", False))
        try:
            outputs = decode(got.get("outputs"))
            message = report(ex, outputs if isinstance(outputs, list) else [], seed, hidden,
                             **kwargs)
        except Exception as err:  # malformed data from the sandbox
            message = f"{ex.title(**planned.kwargs)}: unreadable results ({type(err).__name__})"
        if message is None:
            kind = "hidden " if hidden else ""
            verdict.messages.append(f"\u2714 {ex.title(**planned.kwargs)}: {kind}tests pass")
        else:
            verdict.passed = False
            verdict.messages.append(message)
    return verdict


def _error_output(name: str, message: str) -> dict:
    return {"output_type": "error", "ename": name, "evalue": message, "traceback": [message]}


def _run_once(
    plan: dict, timeout: float, result: RunResult, received: dict[int, list]
) -> tuple[int | None, str]:
    """One sandbox process over the plan. Returns (cell it stopped at, why) or (None, "")."""
    read_fd, write_fd = os.pipe()
    env = dict(os.environ, PYTHONUNBUFFERED="1", MPLBACKEND="Agg",
               OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
    proc = subprocess.Popen(
        [sys.executable, "-m", "lrcourse.grading.sandbox", str(write_fd)],
        stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        pass_fds=(write_fd,), env=env, start_new_session=True,
    )
    os.close(write_fd)
    try:
        proc.stdin.write(json.dumps(plan).encode())
        proc.stdin.close()
    except BrokenPipeError:
        pass
    reader = os.fdopen(read_fd, "rb")
    selector = selectors.DefaultSelector()
    selector.register(reader, selectors.EVENT_READ)
    current: int | None = None
    deadline = time.monotonic() + STARTUP_SECONDS
    buffer = b""
    seen_checks: set[int] = set()
    try:
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                _kill(proc)
                if current is None:
                    return -1, "the grading process did not start"
                return current, f"stopped after {timeout:g} s (an endless loop, or far too slow)"
            if not selector.select(timeout=min(remaining, 1.0)):
                continue
            chunk = os.read(read_fd, 1 << 16)
            if not chunk:  # the process is gone
                code = proc.wait()
                if current is None:
                    return -1, f"the grading process failed to start (exit code {code})"
                return current, _death(code)
            buffer += chunk
            *lines, buffer = buffer.split(b"\n")
            for line in lines:
                try:
                    message = json.loads(line)
                    event = message["event"]
                except (ValueError, KeyError, TypeError):
                    result.flags.append("unreadable data on the grader's channel (forged?)")
                    continue
                if event == "ready":
                    deadline = time.monotonic() + timeout
                elif event == "start":
                    current = int(message["cell"])
                    deadline = time.monotonic() + timeout
                elif event == "outputs" and message.get("cell") == current:
                    result.outputs[current] = list(message.get("outputs", []))
                elif event == "checks" and message.get("cell") == current:
                    if current in seen_checks:  # only forged results come twice
                        result.flags.append(f"cell {current + 1}: results arrived twice")
                        twice = {"error": "not graded: results for this test arrived twice"}
                        received[current] = [twice] * len(received[current])
                    else:
                        seen_checks.add(current)
                        received[current] = list(message.get("results", []))
                elif event == "integrity":
                    result.flags += [f"cell {int(message.get('cell', -1)) + 1}: {f}"
                                     for f in message.get("flags", [])]
                elif event == "done":
                    proc.wait(timeout=30)
                    return None, ""
                else:
                    result.flags.append("unexpected data on the grader's channel (forged?)")
    finally:
        selector.close()
        reader.close()
        _kill(proc)


def _death(code: int) -> str:
    from .sandbox import OUT_OF_MEMORY

    if code == OUT_OF_MEMORY:
        return "the cell ran out of memory (the grader's limit); it was skipped"
    if code < 0:
        if -code == signal.SIGKILL:
            return "the process was killed (most likely it ran out of memory)"
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = f"signal {-code}"
        return f"the process crashed ({name})"
    return f"the notebook's code ended the grading process (exit code {code}: os._exit or similar)"


def _kill(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait()
