"""The machinery behind every ``check_*`` function: cases, verdicts, diagnoses.

A check is split in two halves so that grading can keep them apart:

* **collect** runs the learner's code on seeded cases and returns plain data
  (arrays, numbers, strings, or a record of the exception raised);
* **judge** compares that data with the reference library and, when they
  differ, names the likely mistake.

In a notebook both halves run in the learner's kernel and a failure raises
``AssertionError`` with the diagnosis.  The grader runs *collect* in a
separate, sandboxed process and *judge* in its own, where nothing the
learner's code did (patching ``numpy.allclose``, say) can reach it.
"""

from __future__ import annotations

import base64
import contextlib
import copy
import importlib
import io
import math
import os
import types
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = [
    "DIFFERS",
    "Case",
    "Exercise",
    "Mistake",
    "Raised",
    "ValueExercise",
    "collect",
    "read_rate",
    "read_rates",
    "decode",
    "encode",
    "make_check",
    "register",
    "report",
    "run_check",
    "verdicts",
]

DIFFERS = "the values differ from the reference"
"""The base judge's verdict when no known mistake explains a wrong answer: subclasses that
can say more compare ``super().judge(...)`` with it."""

# --------------------------------------------------------------------------- cases


@dataclass(frozen=True)
class Case:
    """One input to the learner's function, and how to describe it to them.

    ``data`` holds what only the judge needs (a problem to re-run a chosen
    value on, the key of a multiple-choice question).
    """

    args: tuple = ()
    kwargs: Mapping[str, Any] = field(default_factory=dict)
    label: str = ""
    data: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Mistake:
    """A common mistake: what it would return, and what to tell the learner."""

    message: str
    output: Callable[[Case], Any]


@dataclass(frozen=True)
class Raised:
    """The learner's code raised instead of returning."""

    type_name: str
    message: str

    def __str__(self) -> str:
        return f"{self.type_name}: {self.message}" if self.message else self.type_name


# ------------------------------------------------------------------------ exercise


class Exercise:
    """One graded task: seeded cases, the reference answer, the usual mistakes.

    Subclasses set ``name`` (the function the learner writes), ``forbidden``
    (dotted names of reference functions the learner must not call from it)
    and implement :meth:`cases` and :meth:`expected`; most also list
    :meth:`mistakes`.  Outputs are compared with :meth:`close`.
    """

    name: str = ""
    what: str = "function"  # "function" (called on cases) or "value" (a chosen value)
    forbidden: tuple[str, ...] = ()
    # parameters that only the judge may see (the key of a question): the grader
    # never sends them into the learner's process
    secret_params: tuple[str, ...] = ()
    rtol: float = 1e-9
    atol: float = 1e-12

    def cases(self, seed: int, hidden: bool, **params: Any) -> list[Case]:
        raise NotImplementedError

    def expected(self, case: Case) -> Any:
        raise NotImplementedError

    def mistakes(self) -> Sequence[Mistake]:
        return ()

    # -- collect side (runs the learner's code) -----------------------------------

    def run(self, fn: Any, case: Case) -> Any:
        """Call the learner's function on a case, on copies of the inputs."""
        args = copy.deepcopy(case.args)
        kwargs = copy.deepcopy(dict(case.kwargs))
        out = fn(*args, **kwargs)
        for given, kept in zip(args, case.args, strict=True):
            if isinstance(kept, np.ndarray) and not _same(given, kept):
                return MutatedInput()
        return out

    # -- judge side (runs the reference) ------------------------------------------

    def check_output(self, case: Case, got: Any, want: Any) -> str | None:
        """Type and shape problems, diagnosed before values are compared."""
        if got is None and want is not None:
            return "your function returned None: is a `return` statement missing?"
        if isinstance(want, np.ndarray) or isinstance(want, float | int):
            try:
                arr = np.asarray(got, dtype=float)
            except (TypeError, ValueError):
                return f"expected a number or array, got a value of type {type(got).__name__}"
            if arr.shape != np.shape(want):
                return (
                    f"expected shape {np.shape(want)}, got shape {arr.shape}: "
                    "check which axis your result runs along"
                )
        return None

    def close(self, got: Any, want: Any) -> bool:
        return _close(got, want, self.rtol, self.atol)

    def title(self, **params: Any) -> str:
        """How messages name the task."""
        return self.name

    def passed(self, n: int, hidden: bool) -> str:
        """What a passing check prints."""
        kind = "hidden " if hidden else ""
        return f"\u2714 {self.name}: {n} {kind}case{'s' if n != 1 else ''} pass"

    def judge(self, case: Case, got: Any) -> str | None:
        """``None`` when ``got`` is right for ``case``, else a diagnosis."""
        if isinstance(got, Raised):
            if got.type_name == "NotImplementedError":
                return "not written yet: replace `raise NotImplementedError()` with your code"
            return f"your function raised {got}"
        if isinstance(got, MutatedInput):
            return (
                "your function changed an input array in place (e.g. `theta -= ...`); "
                "build a new array instead (`theta = theta - ...`), so the caller's "
                "values stay as they were"
            )
        want = self.expected(case)
        problem = self.check_output(case, got, want)
        if problem is not None:
            return problem
        if self.close(got, want):
            return None
        for mistake in self.mistakes():
            try:
                wrong = mistake.output(case)
            except Exception:  # a mistake that does not apply to this case
                continue
            if self.close(got, wrong):
                return mistake.message
        return DIFFERS


class ValueExercise(Exercise):
    """A task whose answer is a value the learner chooses (a rate, a schedule...).

    The judge re-runs the value on the exercise's problems (``expected`` is
    then what the value must satisfy, checked by :meth:`judge`).
    """

    what = "value"

    def run(self, fn: Any, case: Case) -> Any:
        return fn


def read_rate(got: Any) -> tuple[float | None, str | None]:
    """A learner's chosen learning rate as a float, or what is wrong with it.

    Returns ``(rate, None)``, or ``(None, diagnosis)`` when ``got`` is not a
    positive, finite number (or reading it raised).
    """
    if isinstance(got, Raised):
        return None, f"reading your answer raised {got}"
    if got is None:
        return None, "no answer yet: replace None with a number"
    if not isinstance(got, int | float | np.floating | np.integer) or isinstance(got, bool):
        return None, f"expected a number, got a value of type {type(got).__name__}"
    rate = float(got)
    if not math.isfinite(rate) or rate <= 0:
        return None, f"a learning rate is a positive number, got {rate!r}"
    return rate, None


def read_rates(got: Any, name: str, steps: int) -> tuple[np.ndarray | None, str | None]:
    """A learner's schedule, evaluated at t = 0 .. steps - 1, as rates, or what is wrong.

    Returns ``(rates, None)``, or ``(None, diagnosis)`` when ``got`` is not one finite rate
    >= 0 per step; ``name`` is the schedule's name in the learner's notebook.
    """
    try:
        rates = np.asarray(got, dtype=float)
    except (TypeError, ValueError):
        return None, f"{name}(t) must return a learning rate (a number) for each step t"
    if rates.shape != (steps,):
        return None, f"{name} must give one rate per step t = 0 .. {steps - 1}"
    bad = np.flatnonzero(~np.isfinite(rates) | (rates < 0))
    if bad.size:
        return None, (f"every rate must be a finite number >= 0; {name}({int(bad[0])}) = "
                      f"{rates[bad[0]]!r}")
    return rates, None


@dataclass(frozen=True)
class MutatedInput:
    """The learner's function changed one of the arrays it was given."""


def _same(a: np.ndarray, b: np.ndarray) -> bool:
    return a.shape == b.shape and bool(np.array_equal(a, b, equal_nan=True))


def _close(got: Any, want: Any, rtol: float, atol: float) -> bool:
    """Recursive closeness that does not rely on ``numpy.allclose``."""
    if isinstance(want, str | bool | type(None)):
        return type(got) is type(want) and got == want
    if isinstance(want, Mapping):
        return (
            isinstance(got, Mapping)
            and set(got) == set(want)
            and all(_close(got[k], want[k], rtol, atol) for k in want)
        )
    if isinstance(want, tuple | list):
        return (
            isinstance(got, tuple | list)
            and len(got) == len(want)
            and all(_close(g, w, rtol, atol) for g, w in zip(got, want, strict=True))
        )
    try:
        g = np.asarray(got, dtype=float)
        w = np.asarray(want, dtype=float)
    except (TypeError, ValueError):
        return False
    if g.shape != w.shape:
        return False
    same_nan = np.isnan(g) == np.isnan(w)
    with np.errstate(invalid="ignore", over="ignore"):
        ok = (g == w) | (np.abs(g - w) <= atol + rtol * np.abs(w))
    return bool(np.all(same_nan & (ok | np.isnan(w))))


# ----------------------------------------------------------------- the registry

_REGISTRY: dict[str, Exercise] = {}


def register(exercise: Exercise) -> Exercise:
    """Make an exercise known to the grader by its name."""
    if exercise.name in _REGISTRY:
        raise ValueError(f"an exercise named {exercise.name!r} is already registered")
    _REGISTRY[exercise.name] = exercise
    return exercise


def exercise(name: str) -> Exercise:
    try:
        return _REGISTRY[name]
    except KeyError:
        raise ValueError(f"no exercise named {name!r}") from None


# ------------------------------------------------------------------ delegation


def resolve(dotted: str) -> Any:
    """The object a dotted name refers to: ``lrcourse.optimizers.SGD.step``."""
    parts = dotted.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        for attr in parts[cut:]:
            obj = getattr(obj, attr)
        return obj
    raise ImportError(f"cannot resolve {dotted!r}")


@contextlib.contextmanager
def tripwire(names: Sequence[str]) -> Iterator[list[str]]:
    """Record calls to the reference functions ``names`` while the block runs.

    The function objects themselves are rewired (their ``__code__``), so a
    reference imported under another name before the check is caught too.
    """
    calls: list[str] = []
    saved = []
    for dotted in names:
        fn = resolve(dotted)
        if not isinstance(fn, types.FunctionType) or fn.__code__.co_freevars:
            continue
        original = types.FunctionType(
            fn.__code__, fn.__globals__, fn.__name__, fn.__defaults__, fn.__closure__
        )
        original.__kwdefaults__ = fn.__kwdefaults__

        def handler(*args: Any, _dotted: str = dotted, _fn: Any = original, **kwargs: Any):
            calls.append(_dotted)
            return _fn(*args, **kwargs)

        hooks = fn.__globals__.setdefault("__lrcourse_tripwire__", {})
        hooks[dotted] = handler
        stub: dict[str, Any] = {}
        exec(  # noqa: S102 - builds a stub with no free variables, same as fn
            f"def _stub(*args, **kwargs):\n"
            f"    return __lrcourse_tripwire__[{dotted!r}](*args, **kwargs)\n",
            fn.__globals__,
            stub,
        )
        saved.append((fn, fn.__code__, hooks, dotted))
        fn.__code__ = stub["_stub"].__code__
    try:
        yield calls
    finally:
        for fn, code, hooks, dotted in saved:
            fn.__code__ = code
            hooks.pop(dotted, None)


# ------------------------------------------------------- collect, judge, report


@dataclass(frozen=True)
class Delegation:
    """The learner's function called a reference it was asked to write."""

    reference: str


def _references(ex: Exercise) -> tuple[str, ...]:
    """What the learner's function must not call: the library's version, and the check's own."""
    cls = type(ex)
    own = tuple(f"{cls.__module__}.{cls.__qualname__}.{m}" for m in ("expected", "judge")
                if m in vars(cls))
    return (*ex.forbidden, *own)


def _outcome(ex: Exercise, fn: Any, case: Case) -> Any:
    with tripwire(_references(ex)) as calls:
        try:
            got = ex.run(fn, case)
        except Exception as err:  # the learner's code may raise anything
            got = Raised(type(err).__name__, str(err)[:300])
    if calls:
        return Delegation(calls[0])
    return got


def collect(ex: Exercise, fn: Any, seed: int = 0, hidden: bool = False, **params: Any) -> list:
    """The collect half: the learner's outputs on every case, as plain data."""
    return [_outcome(ex, fn, case) for case in ex.cases(seed, hidden, **params)]


def verdicts(
    ex: Exercise, outputs: Sequence[Any], seed: int = 0, hidden: bool = False, **params: Any
) -> list[str | None]:
    """The judge half: one diagnosis (or ``None`` for a pass) per case."""
    cases = ex.cases(seed, hidden, **params)
    if len(outputs) != len(cases):
        return [f"expected {len(cases)} results, the grader received {len(outputs)}"]
    out: list[str | None] = []
    for case, got in zip(cases, outputs, strict=True):
        if isinstance(got, Delegation):
            out.append(
                f"your {ex.name} calls {got.reference}, the library's version of the very "
                "thing this exercise asks you to write; write it yourself (0 points)"
            )
        else:
            out.append(ex.judge(case, got))
    return out


def report(
    ex: Exercise, outputs: Sequence[Any], seed: int = 0, hidden: bool = False, **params: Any
) -> str | None:
    """A learner-facing message about the first failing case, or ``None``."""
    cases = ex.cases(seed, hidden, **params)
    for i, verdict in enumerate(verdicts(ex, outputs, seed, hidden, **params)):
        if verdict is None:
            continue
        head = f"{ex.title(**params)} is not right yet."
        if i >= len(cases):
            return f"{head}\n{verdict}"
        case, got = cases[i], outputs[i]
        if hidden:  # say what kind of case, never its inputs
            return f"{head}\nA hidden test case ({case.label}) failed: {verdict}"
        lines = [head, f"Case {i + 1} of {len(cases)}: {case.label}"]
        if ex.what == "function" and not isinstance(got, Raised | MutatedInput | Delegation):
            lines.append(f"  expected: {_show(ex.expected(case))}")
            lines.append(f"  obtained: {_show(got)}")
        lines.append(f"Diagnosis: {verdict}")
        return "\n".join(lines)
    return None


def _show(value: Any) -> str:
    if isinstance(value, np.ndarray | np.floating) and np.ndim(value) == 0:
        value = float(value)
    if isinstance(value, np.ndarray | list | tuple) and np.ndim(value) > 0:
        try:
            return np.array2string(np.asarray(value, dtype=float), precision=6, threshold=12)
        except (TypeError, ValueError):
            pass
    if isinstance(value, float):
        return f"{value:.6g}"
    return repr(value)[:200]


def run_check(ex: Exercise, fn: Any, *, seed: int = 0, hidden: bool = False, **params: Any) -> None:
    """Check ``fn`` against the reference; raise ``AssertionError`` with a diagnosis."""
    outputs = collect(ex, fn, seed, hidden, **params)
    message = report(ex, outputs, seed, hidden, **params)
    if message is not None and app_view():
        print(f"\u270e {ex.title(**params)}: not done yet. This is the read-only app view; "
              "open the notebook in JupyterLab to do the exercise.")
        return
    if message is not None:
        raise AssertionError(message)
    print(ex.passed(len(outputs), hidden))


def app_view() -> bool:
    """True in Voila, the course's read-only app view, where exercises cannot be done.

    There a failing check prints a note instead of raising, so the page shows the
    explanations and explorers without error boxes.  Grading never runs in Voila.
    """
    return "VOILA_SERVER_URL" in os.environ or "VOILA_BASE_URL" in os.environ


def make_check(ex: Exercise) -> Callable[..., None]:
    """The ``check_<name>`` function that notebooks' test cells call."""

    def check(fn: Any, *, seed: int = 0, hidden: bool = False, **params: Any) -> None:
        run_check(ex, fn, seed=seed, hidden=hidden, **params)

    check.__name__ = check.__qualname__ = f"check_{ex.name}"
    check.__doc__ = (
        f"Check your ``{ex.name}`` against the reference on seeded cases.\n\n"
        "Raises ``AssertionError`` with a diagnosis of the first failing case."
    )
    check.exercise = register(ex)  # type: ignore[attr-defined]
    return check


# --------------------------------------------------------------- serialisation
# Records cross a process boundary from the learner's sandbox to the grader, so
# only plain data is allowed: no pickle, arrays travel as .npy without objects.


def encode(value: Any) -> Any:
    """Turn an output into JSON-safe data (arrays as base64 ``.npy``)."""
    if isinstance(value, Raised):
        return {"__raised__": [value.type_name, value.message]}
    if isinstance(value, Delegation):
        return {"__delegated__": value.reference}
    if isinstance(value, MutatedInput):
        return {"__mutated__": True}
    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, int | np.integer) and not isinstance(value, bool):
        return {"__int__": str(int(value))}
    if isinstance(value, float | np.floating):
        v = float(value)
        return v if math.isfinite(v) else {"__float__": repr(v)}
    if isinstance(value, np.ndarray) or np.isscalar(value):
        arr = np.asarray(value)
        if arr.dtype == object:
            return {"__unsupported__": "an array of Python objects"}
        buf = io.BytesIO()
        np.save(buf, arr, allow_pickle=False)
        return {"__ndarray__": base64.b64encode(buf.getvalue()).decode("ascii")}
    if isinstance(value, tuple | list):
        return {"__seq__": type(value).__name__, "items": [encode(v) for v in value]}
    if isinstance(value, Mapping):
        return {"__map__": [[encode(k), encode(v)] for k, v in value.items()]}
    try:  # e.g. a learner's own number-like class
        return encode(np.asarray(value, dtype=float))
    except (TypeError, ValueError):
        return {"__unsupported__": type(value).__name__}


def decode(data: Any) -> Any:
    """Inverse of :func:`encode`; never unpickles."""
    if not isinstance(data, dict):
        return data
    if "__raised__" in data:
        type_name, message = data["__raised__"]
        return Raised(str(type_name), str(message))
    if "__delegated__" in data:
        return Delegation(str(data["__delegated__"]))
    if "__mutated__" in data:
        return MutatedInput()
    if "__int__" in data:
        return int(data["__int__"])
    if "__float__" in data:
        return float(data["__float__"])
    if "__ndarray__" in data:
        raw = base64.b64decode(data["__ndarray__"])
        return np.load(io.BytesIO(raw), allow_pickle=False)
    if "__seq__" in data:
        items = [decode(d) for d in data["items"]]
        return tuple(items) if data["__seq__"] == "tuple" else items
    if "__map__" in data:
        return {decode(k): decode(v) for k, v in data["__map__"]}
    if "__unsupported__" in data:
        return Raised("TypeError", f"returned an unsupported value ({data['__unsupported__']})")
    return data
