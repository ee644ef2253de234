"""Multiple-choice and predict questions: the key lives only in hidden tests."""

from __future__ import annotations

from typing import Any

__all__ = ['check_choice']

from ._core import Case, Raised, ValueExercise, make_check


def normalise(answer: Any) -> Any:
    return answer.strip().lower() if isinstance(answer, str) else answer


class Choice(ValueExercise):
    """A question answered by one of a few options, e.g. ``answer = "b"``.

    The visible test only checks that the answer is one of the options; the
    key is passed by the hidden test (``key="b"``), so it never reaches
    learners.
    """

    name = "choice"
    secret_params = ("key",)

    def cases(self, seed: int, hidden: bool, **params: Any) -> list[Case]:
        options = tuple(normalise(o) for o in params.get("options", ()))
        question = params.get("question", "this question")
        key = normalise(params.get("key"))
        return [Case(label=question, data={"options": options, "key": key})]

    def expected(self, case: Case) -> Any:
        return case.data["key"]

    def title(self, **params: Any) -> str:
        return f"The answer to {params.get('question', 'this question')}"

    def judge(self, case: Case, got: Any) -> str | None:
        if isinstance(got, Raised):
            return f"reading your answer raised {got}"
        options = case.data["options"]
        answer = normalise(got)
        if answer is None or answer == "":
            return "no answer yet: set the variable to one of the options"
        if answer not in options:
            shown = ", ".join(repr(o) for o in options)
            return f"{got!r} is not one of the options ({shown})"
        key = case.data["key"]
        if key is not None and answer != key:
            return "that is not the answer; look again at the figure and the reasoning above"
        return None

    def passed(self, n: int, hidden: bool) -> str:
        if hidden:
            return "\u2714 the answer is right"
        return "\u2714 answer recorded: it is one of the options (the grader checks which)"


check_choice = make_check(Choice())
