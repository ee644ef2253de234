"""nbgrader preprocessors that the course's ``nbgrader_config.py`` plugs in."""

from __future__ import annotations

import re
from typing import Any

from nbconvert.preprocessors import Preprocessor
from nbgrader.preprocessors import ClearSolutions as _ClearSolutions
from nbgrader.preprocessors import OverwriteCells as _OverwriteCells
from traitlets import Bool, Float, Int

HIDDEN_REGION = re.compile(
    r"^[ \t]*### BEGIN HIDDEN TESTS.*?^[ \t]*### END HIDDEN TESTS[ \t]*\n?",
    re.MULTILINE | re.DOTALL,
)
HIDDEN_NOTE = "# (hidden tests ran here; their code stays with the instructor)\n"


def strip_hidden_tests(source: str) -> str:
    """Replace every hidden-test region of a cell's source by a one-line note."""
    return HIDDEN_REGION.sub(HIDDEN_NOTE, source)


def released(source: str) -> str:
    """A test cell's source as the student release has it (hidden regions removed)."""
    return HIDDEN_REGION.sub("", source)


def _lines(source: str) -> list[str]:
    return [line.rstrip() for line in source.strip().splitlines()]


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


class SafeExecute(Preprocessor):
    """Execute a submission in the grading sandbox instead of the learner's own kernel.

    Replaces nbgrader's ``Execute`` in ``Autograde.autograde_preprocessors``.
    Learner cells run in a separate, memory-limited process with a per-cell
    time limit; test cells are judged in the grader's process from the
    learner's outputs (see :mod:`lrcourse.grading.runner`).  Every test cell
    ends with a verdict, so nbgrader scores it as usual.  What an instructor
    should look at goes into ``metadata.lrcourse.flags``, and a note at the top
    of the notebook tells the learner what happened.
    """

    enabled = Bool(True)
    timeout = Float(60.0, help="Seconds one cell may run.").tag(config=True)
    memory_mb = Int(2048, help="Memory limit of the sandbox process, in MB.").tag(config=True)

    def preprocess(self, nb: Any, resources: Any) -> tuple[Any, Any]:
        import nbformat

        from .runner import run_submission

        cwd = (resources or {}).get("metadata", {}).get("path") or None
        result = run_submission(nb.cells, timeout=self.timeout, memory_mb=self.memory_mb,
                                cwd=cwd, trusted=self._instructor_sources(resources))
        count = 0
        for index, cell in enumerate(nb.cells):
            if cell.cell_type != "code":
                continue
            count += 1
            cell.execution_count = count
            if index in result.verdicts:
                cell.outputs = _verdict_outputs(result.verdicts[index])
            else:
                cell.outputs = [nbformat.from_dict(o) for o in result.outputs.get(index, [])]
        earlier = nb.metadata.get("lrcourse", {}).get("flags", [])  # from the sanitizing step
        result.flags = list(earlier) + result.flags
        nb.metadata["lrcourse"] = {"flags": result.flags, "events": result.events}
        if result.flags or result.events:
            nb.cells.insert(0, nbformat.v4.new_markdown_cell(_notes(result)))
        return nb, resources


    def _instructor_sources(self, resources: Any) -> set[str]:
        """The code cells of the instructor's source notebook (solutions excluded)."""
        import json
        from pathlib import Path

        try:
            coursedir = self.parent.parent.coursedir  # exporter -> converter
            info = resources["nbgrader"]
            folder = coursedir.format_path(coursedir.source_directory, ".", info["assignment"])
            nb = json.loads((Path(folder) / f"{info['notebook']}.ipynb").read_text("utf-8"))
        except (AttributeError, KeyError, OSError, ValueError):
            self.log.warning("SafeExecute: no source notebook; every cell counts as the learner's")
            return set()
        return {
            "".join(c.get("source", "")).strip() for c in nb.get("cells", [])
            if c.get("cell_type") == "code"
            and not c.get("metadata", {}).get("nbgrader", {}).get("solution")
        }


def _verdict_outputs(verdict: Any) -> list:
    import nbformat

    passes = [m for m in verdict.messages if m.startswith("\u2714")]
    failures = [m for m in verdict.messages if not m.startswith("\u2714")]
    outputs = []
    if passes:
        text = "\n".join(passes) + "\n"
        outputs.append(nbformat.v4.new_output("stream", name="stdout", text=text))
    if failures or not verdict.passed:
        text = "\n\n".join(failures) or "not graded"
        outputs.append(nbformat.v4.new_output("error", ename="AssertionError", evalue=text,
                                              traceback=[text]))
    return outputs


def _notes(result: Any) -> str:
    lines = ["### Grading notes", ""]
    lines += [f"- {event}" for event in result.events]
    if result.flags:
        lines.append("- this submission was set aside for the instructor to look at:")
        lines += [f"  - {flag}" for flag in result.flags]
    return "\n".join(lines)


def _defined_names(source: str) -> set[str]:
    """Top-level functions, classes and variables a cell defines."""
    import ast

    from IPython.core.inputtransformer2 import TransformerManager

    try:
        tree = ast.parse(TransformerManager().transform_cell(source))
    except (SyntaxError, ValueError):
        return set()
    names = set()
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(node.name)
        elif isinstance(node, ast.Assign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names |= {t.id for t in targets if isinstance(t, ast.Name)}
    return names


def _add_flag(nb: Any, flag: str) -> None:
    nb.metadata.setdefault("lrcourse", {}).setdefault("flags", []).append(flag)


class GuardedOverwriteCells(_OverwriteCells):
    """nbgrader's ``OverwriteCells``, made whole for submissions that fight it.

    Besides restoring edited locked cells (nbgrader does that), it

    * gives back the metadata of cells whose nbgrader metadata was removed: a
      test cell is recognised by its visible source, a solution cell by the
      names it defines (``def gd_step``, ``alpha = ...``), so honest work in a
      stripped notebook is still graded;
    * puts back deleted test cells after the nearest cell that is still there
      (nbgrader's own placement fails when the cells around them are gone too);
    * records every such repair in ``metadata.lrcourse.flags``, for review.
    """

    def preprocess(self, nb: Any, resources: Any) -> tuple[Any, Any]:
        self._nb = nb
        from nbgrader.api import Gradebook

        info = resources["nbgrader"]
        with Gradebook(info["db_url"]) as gb:
            source_nb = gb.find_notebook(info["notebook"], info["assignment"])
            self._restore_metadata(nb, source_nb)
        return super().preprocess(nb, resources)

    def _restore_metadata(self, nb: Any, source_nb: Any) -> None:
        present = {c.metadata.get("nbgrader", {}).get("grade_id") for c in nb.cells}
        bare = [c for c in nb.cells if "nbgrader" not in c.metadata and c.cell_type == "code"]
        grade_ids = {c.name: c for c in source_nb.grade_cells}
        solution_ids = {c.name for c in source_nb.solution_cells}
        for source_cell in source_nb.source_cells:
            name = source_cell.name
            if name in present or source_cell.cell_type != "code":
                continue
            if name in grade_ids and name not in solution_ids:
                visible = _lines(released(source_cell.source))
                match = next((c for c in bare if _lines(c.source) == visible), None)
                meta = {"grade": True, "solution": False, "locked": True,
                        "points": grade_ids[name].max_score}
            elif name in solution_ids:
                wanted = _defined_names(source_cell.source)
                match = next((c for c in bare if wanted and wanted <= _defined_names(c.source)),
                             None)
                meta = {"grade": False, "solution": True, "locked": False}
            else:
                continue
            if match is not None:
                match.metadata["nbgrader"] = {"grade_id": name, "schema_version": 3, **meta}
                bare.remove(match)
                _add_flag(nb, f"cell {name!r} had lost its nbgrader metadata (restored)")

    def preprocess_cell(self, cell: Any, resources: Any, index: int) -> tuple[Any, Any]:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if grade_id is not None:
            from nbgrader.api import MissingEntry

            try:
                original = self.gradebook.find_source_cell(
                    grade_id, self.notebook_id, self.assignment_id)
            except MissingEntry:
                original = None
            # a learner's copy of a test cell never had the hidden tests: compare with that
            if original is not None and original.locked and _lines(cell.source) not in (
                _lines(original.source), _lines(released(original.source))
            ):
                _add_flag(self._nb, f"locked cell {grade_id!r} was edited (the original was "
                          "restored)")
        return super().preprocess_cell(cell, resources, index)

    def report_change(self, name: str, attr: str, old: Any, new: Any) -> None:
        super().report_change(name, attr, old, new)
        what = {"locked": "was unlocked", "points": "had its points changed",
                "cell_type": "had its type changed"}.get(attr)
        if what:  # edits of the source are flagged in preprocess_cell
            _add_flag(self._nb, f"locked cell {name!r} {what} (the original was restored)")

    def add_missing_grade_cells(self, nb: Any, resources: Any) -> tuple[Any, Any]:
        source_nb = self.gradebook.find_notebook(self.notebook_id, self.assignment_id)
        order = [c.name for c in source_nb.source_cells]
        grade_cells = {c.name: c for c in source_nb.grade_cells}
        solutions = {c.name for c in source_nb.solution_cells}

        def position(name: str) -> int | None:
            for i, cell in enumerate(nb.cells):
                if cell.metadata.get("nbgrader", {}).get("grade_id") == name:
                    return i
            return None

        for source_cell in source_nb.source_cells:
            name = source_cell.name
            if name not in grade_cells or position(name) is not None:
                continue
            cell = self.missing_cell_transform(source_cell, grade_cells[name].max_score,
                                               is_solution=name in solutions)
            at = 0
            for previous in reversed(order[: order.index(name)]):
                found = position(previous)
                if found is not None:
                    at = found + 1
                    break
            nb.cells.insert(at, cell)
            _add_flag(nb, f"cell {name!r} was missing (put back and graded)")
        return nb, resources


class CourseClearSolutions(_ClearSolutions):
    """nbgrader's ``ClearSolutions``, with stubs that let an untouched notebook run.

    A solution region inside a function body becomes, as usual::

        # YOUR CODE HERE
        raise NotImplementedError()

    which raises only when the learner's function is called.  A region at the
    top level of a cell (an answer such as ``alpha = 0.25``) becomes a
    placeholder for each name it assigns::

        # YOUR ANSWER HERE: replace None
        alpha = None

    so the untouched release runs top to bottom (in Voila, for instance), and
    the test of that answer says "no answer yet" instead of ``NameError``.
    """

    def _replace_solution_region(self, cell: Any, language: str) -> bool:
        if cell.cell_type != "code":
            return super()._replace_solution_region(cell, language)
        lines, out, region, replaced = cell.source.split("\n"), [], None, False
        for line in lines:
            top_level = not line[:1].isspace()
            if region is None and top_level and self.begin_solution_delimeter in line:
                region = []
            elif region is not None and self.end_solution_delimeter in line:
                names = sorted(_defined_names("\n".join(region)))
                out.append("# YOUR ANSWER HERE: replace None" if names else "# YOUR CODE HERE")
                out += [f"{name} = None" for name in names]
                region, replaced = None, True
            elif region is not None:
                region.append(line)
            else:
                out.append(line)
        cell.source = "\n".join(out)
        # regions inside blocks (function bodies) get nbgrader's own stub
        return super()._replace_solution_region(cell, language) or replaced


class TagTestCells(Preprocessor):
    """Tag every test cell ``raises-exception`` in the student release.

    JupyterLab's Run All (and nbclient) go on past a cell with that tag when it
    raises, so a learner who runs everything sees each unfinished exercise's
    diagnosis in its test cell and still gets every explanation and explorer
    below it.
    """

    enabled = Bool(True)

    def preprocess_cell(self, cell: Any, resources: Any, index: int) -> tuple[Any, Any]:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if cell.cell_type == "code" and meta.get("grade") and not meta.get("solution"):
            tags = cell.metadata.setdefault("tags", [])
            if "raises-exception" not in tags:
                tags.append("raises-exception")
        return cell, resources
