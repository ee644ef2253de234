"""What the update-rule exercises share (sections 04 and 10): a learner's step function is
checked on single steps and on a short run, and its usual slips are recognised.

:class:`StepExercise` is the base of ``check_momentum_step``, ``check_adam_step``,
``check_adamw_step``...; :func:`adam_by_hand` writes Adam out with one thing changed, the
wrong rules those checks recognise.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from ._core import DIFFERS, Case, Exercise, Mistake

__all__ = ["Rule", "StepExercise", "adam_by_hand", "first_step_division", "floats"]

Rule = Callable[..., tuple]
"""An update rule ``rule(theta, grad, *state, *hyper) -> (theta, *state)``."""


def floats(x: Any) -> np.ndarray:
    """``x`` as an array of floats (a learner may return lists or ints)."""
    return np.asarray(x, dtype=float)


class StepExercise(Exercise):
    """An update rule ``rule(theta, grad, *state, *hyper) -> (theta, *state)``.

    Subclasses give the names of the returned values (``parts``), the number of positional
    hyperparameters after the state (``lr``, and ``t`` for Adam...), the library reference
    (:meth:`reference`), the usual wrong rules (:meth:`wrong_rules`), the cases, and the
    hints for a run where only some parts are wrong (:meth:`partial_hints`).

    A case is either one call (``args``/``kwargs``) or, when ``data["steps"]`` is set, a
    short run on the quadratic f(θ) = ½ Σ λ_i θ_i² from a zero state, where the check
    feeds each step's returned state into the next call (its output is the list of every
    step's returned tuple).
    """

    parts: tuple[str, ...] = ()

    def reference(self, *args: Any, **kwargs: Any) -> tuple:
        raise NotImplementedError

    def wrong_rules(self) -> Sequence[tuple[str, Rule]]:
        return ()

    def partial_hints(self) -> dict[str, str]:
        """Messages keyed by the name of the only part that is right ('state' = all but θ)."""
        return {}

    def call_args(self, theta: np.ndarray, grad: np.ndarray, state: tuple, k: int,
                  data: dict) -> tuple[tuple, dict]:
        """The arguments of step ``k`` (0-based) of a run case."""
        return (theta, grad, *state, data["lr"]), dict(data.get("hyper", {}))

    # -- collect ----------------------------------------------------------------------

    def run(self, fn: Any, case: Case) -> Any:
        if not case.data.get("steps"):
            return super().run(fn, case)
        return self._loop(fn, case)

    def _loop(self, fn: Any, case: Case) -> Any:
        data = case.data
        theta = floats(data["theta0"]).copy()
        lam = floats(data["curvature"])
        state = tuple(np.zeros_like(theta) for _ in self.parts[1:])
        outputs = []
        for k in range(data["steps"]):
            args, kwargs = self.call_args(theta, lam * theta, state, k, data)
            out = fn(*args, **kwargs)
            if not (isinstance(out, tuple | list) and len(out) == len(self.parts)):
                return out  # check_output words the problem
            outputs.append(tuple(out))
            theta, state = floats(out[0]), tuple(floats(s) for s in out[1:])
        return outputs

    # -- judge ------------------------------------------------------------------------

    def _apply(self, rule: Rule, case: Case) -> Any:
        """What ``rule`` returns on ``case`` (a tuple, or a list of tuples for a run)."""
        with np.errstate(all="ignore"):
            if not case.data.get("steps"):
                return tuple(floats(x) for x in rule(*case.args, **dict(case.kwargs)))
            data = case.data
            theta = floats(data["theta0"]).copy()
            lam = floats(data["curvature"])
            state = tuple(np.zeros_like(theta) for _ in self.parts[1:])
            outputs = []
            for k in range(data["steps"]):
                args, kwargs = self.call_args(theta, lam * theta, state, k, data)
                out = tuple(floats(x) for x in rule(*args, **kwargs))
                outputs.append(out)
                theta, state = out[0], out[1:]
            return outputs

    def expected(self, case: Case) -> Any:
        return self._apply(self.reference, case)

    def mistakes(self) -> list[Mistake]:
        def output(rule: Rule) -> Callable[[Case], Any]:
            return lambda case: self._apply(rule, case)

        return [Mistake(message, output(rule)) for message, rule in self.wrong_rules()]

    def check_output(self, case: Case, got: Any, want: Any) -> str | None:
        names = ", ".join(self.parts)
        if case.data.get("steps"):
            if isinstance(got, list) and len(got) == len(want):
                for out, ref in zip(got, want, strict=True):
                    problem = self._check_one(out, ref, names)
                    if problem is not None:
                        return problem
                return None
            return self._check_one(got, want[0], names)
        return self._check_one(got, want, names)

    def _check_one(self, got: Any, want: tuple, names: str) -> str | None:
        if got is None:
            return f"your function returned None: end it with `return {names}`"
        if not isinstance(got, tuple | list):
            shape = np.shape(got) if isinstance(got, np.ndarray | float | int) else None
            if shape == np.shape(want[0]):
                return f"you returned only {self.parts[0]}; return all {len(self.parts)} " \
                       f"values: `return {names}`"
            return f"return a tuple ({names}), got a value of type {type(got).__name__}"
        if len(got) != len(self.parts):
            return f"return {len(self.parts)} values ({names}), got {len(got)}"
        for name, part, ref in zip(self.parts, got, want, strict=True):
            try:
                arr = np.asarray(part, dtype=float)
            except (TypeError, ValueError):
                return f"{name} should be an array of numbers, got {type(part).__name__}"
            if arr.shape != np.shape(ref):
                return (f"{name} has shape {arr.shape}, expected {np.shape(ref)} (the shape "
                        "of theta): work element by element, without sums over coordinates")
        return None

    def judge(self, case: Case, got: Any) -> str | None:
        verdict = Exercise.judge(self, case, got)
        if verdict != DIFFERS:
            return verdict
        # no known mistake fits: say which of the returned values are wrong
        want = self.expected(case)
        pair = (got[0], want[0]) if case.data.get("steps") else (got, want)
        wrong = [name for name, g, w in zip(self.parts, *pair, strict=True)
                 if not self.close(g, w)]
        hints = self.partial_hints()
        theta, state = self.parts[0], [n for n in wrong if n != self.parts[0]]
        if not wrong:
            return ("the first step is right but a later one is not: pass the state your "
                    "function returned into the next call, and return the raw state")
        if wrong == [theta] and "state" in hints:
            return hints["state"]
        if theta not in wrong and "theta" in hints:
            return hints["theta"]
        if len(state) == 1 and state[0] in hints:
            return hints[state[0]]
        return f"{' and '.join(wrong)} differ from the reference"


def adam_by_hand(*, first: str = "torch", second: str = "torch", power: int = 0,
                  correct_m: bool = True, correct_v: bool = True, eps_inside: bool = False,
                  root: bool = True, sign: float = 1.0, keep: str = "raw",
                  old_moments: bool = False, constant_correction: bool = False) -> Rule:
    """Adam written out, with one thing changed: the mistakes the check recognises."""

    def wrong(theta, grad, m, v, t, lr, beta1=0.9, beta2=0.999, eps=1e-8):
        theta, g, m, v = floats(theta), floats(grad), floats(m), floats(v)
        m_new = {"torch": beta1 * m + (1 - beta1) * g,
                 "swapped": (1 - beta1) * m + beta1 * g}[first]
        v_new = {"torch": beta2 * v + (1 - beta2) * g * g,
                 "swapped": (1 - beta2) * v + beta2 * g * g,
                 "unsquared": beta2 * v + (1 - beta2) * g}[second]
        n = t + power
        c1 = (1 - beta1) if constant_correction else (1 - beta1**n)
        c2 = (1 - beta2) if constant_correction else (1 - beta2**n)
        m_use, v_use = (m, v) if old_moments else (m_new, v_new)
        m_hat = m_use / c1 if correct_m else m_use
        v_hat = v_use / c2 if correct_v else v_use
        if not root:
            denom = v_hat + eps
        elif eps_inside:
            denom = np.sqrt(v_hat + eps)
        else:
            denom = np.sqrt(v_hat) + eps
        new = theta - sign * lr * m_hat / denom
        if keep == "corrected":
            return new, m_new / c1, v_new / c2
        return new, m_new, v_new

    return wrong


def first_step_division(case: Case, got: Any) -> str | None:
    """The diagnosis of an Adam-family step whose bias correction divides by zero at t = 1.

    A single-step case of ``rule(theta, grad, m, v, t, ...)`` with t = 1 whose θ is not finite:
    the same numbers as the reference elsewhere, but 1 − β^(t−1) vanishes on the first step.
    Returns None when that is not what happened.
    """
    if case.data.get("steps") or not (isinstance(got, tuple | list) and len(got) == 3):
        return None
    if case.args[4] == 1 and not np.all(np.isfinite(np.asarray(got[0], dtype=float))):
        return ("theta is not finite: on the first step (t = 1) your bias correction "
                "divides by zero. The corrections are 1 − β^t with t counted from 1")
    return None
