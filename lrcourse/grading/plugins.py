"""nbgrader preprocessors that the course's ``nbgrader_config.py`` plugs in."""

from __future__ import annotations

import re
from typing import Any

from nbconvert.preprocessors import Preprocessor
from traitlets import Bool

HIDDEN_REGION = re.compile(
    r"^[ \t]*### BEGIN HIDDEN TESTS.*?^[ \t]*### END HIDDEN TESTS[ \t]*\n?",
    re.MULTILINE | re.DOTALL,
)
HIDDEN_NOTE = "# (hidden tests ran here; their code stays with the instructor)\n"


def strip_hidden_tests(source: str) -> str:
    """Replace every hidden-test region of a cell's source by a one-line note."""
    return HIDDEN_REGION.sub(HIDDEN_NOTE, source)


def is_grade_cell(cell: Any) -> bool:
    return bool(cell.get("metadata", {}).get("nbgrader", {}).get("grade", False))


class HideHiddenTests(Preprocessor):
    """Keep hidden tests out of feedback: their code, and tracebacks through it.

    nbgrader's feedback shows test cells as they ran, hidden tests included
    (nbgrader issue #1363).  This removes the hidden regions from grade cells
    and reduces every error in a grade cell to its one-line message, which the
    course's checks write for learners.
    """

    enabled = Bool(True)  # nbconvert skips preprocessors that are not enabled

    def preprocess_cell(self, cell: Any, resources: Any, index: int) -> tuple[Any, Any]:
        if cell.cell_type == "code" and is_grade_cell(cell):
            cell.source = strip_hidden_tests(cell.source)
            for output in cell.get("outputs", []):
                if output.get("output_type") == "error":
                    name, message = output.get("ename", "Error"), output.get("evalue", "")
                    output["traceback"] = [f"{name}: {message}"]
        return cell, resources
