"""What a test cell asks for, read from its source without running it.

The course's test cells are plain lists of check calls::

    from lrcourse.checks import check_gd_step

    check_gd_step(gd_step)
    ### BEGIN HIDDEN TESTS
    check_gd_step(gd_step, seed=4021, hidden=True)
    ### END HIDDEN TESTS

Each call names one exercise, the learner's variable it checks, and literal
arguments.  Because the grader reads these from the instructor's copy of the
cell, the arguments that decide a grade (seeds, hidden cases, the key of a
multiple-choice question) never come from the learner's process.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from typing import Any

__all__ = ["PlannedCheck", "TestCellError", "parse_test_cell"]


class TestCellError(ValueError):
    """A test cell that is not a plain list of check calls."""

    __test__ = False  # not a pytest test class


@dataclass(frozen=True)
class PlannedCheck:
    """One ``check_<name>(target, **kwargs)`` call of a test cell."""

    check: str
    target: str
    kwargs: dict[str, Any] = field(default_factory=dict)


def parse_test_cell(source: str) -> list[PlannedCheck]:
    """The check calls of a test cell, in order.

    Raises:
        TestCellError: the cell holds anything but imports from
            ``lrcourse.checks`` and calls ``check_x(name, key=literal, ...)``.
    """
    try:
        tree = ast.parse(source)
    except SyntaxError as err:
        message = f"the test cell does not parse: {err.msg} (line {err.lineno})"
        raise TestCellError(message) from None
    planned = []
    for node in tree.body:
        if isinstance(node, ast.ImportFrom) and node.module == "lrcourse.checks":
            continue
        call = node.value if isinstance(node, ast.Expr) else None
        if not (
            isinstance(call, ast.Call)
            and isinstance(call.func, ast.Name)
            and call.func.id.startswith("check_")
        ):
            raise TestCellError(
                f"line {node.lineno}: a test cell may only import from lrcourse.checks "
                "and call check_...(name, key=value, ...)"
            )
        if len(call.args) != 1 or not isinstance(call.args[0], ast.Name):
            raise TestCellError(
                f"line {node.lineno}: {call.func.id} takes one positional argument, the name "
                "of the learner's function or variable"
            )
        kwargs = {}
        for keyword in call.keywords:
            if keyword.arg is None:
                raise TestCellError(f"line {node.lineno}: no **kwargs in a test cell")
            try:
                kwargs[keyword.arg] = ast.literal_eval(keyword.value)
            except ValueError:
                raise TestCellError(
                    f"line {node.lineno}: {keyword.arg}= must be a literal (a number, string, "
                    "list...), so the grader can read it without running code"
                ) from None
        planned.append(PlannedCheck(call.func.id, call.args[0].id, kwargs))
    if not planned:
        raise TestCellError("the test cell calls no check")
    return planned
