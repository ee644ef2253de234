"""nbgrader configuration of the lrcourse course.

Instructors can run plain ``nbgrader`` commands in this folder; the
``lrcourse release`` and ``lrcourse grade`` verbs load this same file, so both
routes grade alike.
"""

from lrcourse.grading.plugins import (
    CourseClearSolutions,
    GuardedOverwriteCells,
    HideHiddenTests,
    SafeExecute,
    TagTestCells,
)

c = get_config()  # noqa: F821 - provided by traitlets when nbgrader loads this file

c.CourseDirectory.course_id = "lrcourse"

# Autograding runs each submission in the course's sandbox, not in the learner's
# own kernel: tests are judged outside the learner's reach, and a cell that loops
# for ever or kills its process costs that cell, not the batch.
c.Autograde.autograde_preprocessors = [
    SafeExecute,
    "nbgrader.preprocessors.IgnorePattern",
    "nbconvert.preprocessors.ClearMetadataPreprocessor",
    "nbgrader.preprocessors.LimitOutput",
    "nbgrader.preprocessors.SaveAutoGrades",
    "nbgrader.preprocessors.AssignLatePenalties",
    "nbgrader.preprocessors.CheckCellMetadata",
]
c.SafeExecute.timeout = 60  # seconds a single cell may run
c.SafeExecute.memory_mb = 2048  # memory limit of the sandbox process

# Edited or deleted test cells come back as the instructor wrote them, and cells
# whose nbgrader metadata was stripped are recognised again; each repair is flagged.
c.Autograde.sanitize_preprocessors = [
    "nbgrader.preprocessors.ClearOutput",
    "nbgrader.preprocessors.DeduplicateIds",
    "nbgrader.preprocessors.OverwriteKernelspec",
    GuardedOverwriteCells,
    "nbgrader.preprocessors.CheckCellMetadata",
]
c.OverwriteCells.add_missing_cells = True

# Student stubs: a function body raises NotImplementedError when called; a
# top-level answer becomes `name = None`, so an untouched notebook runs through.
c.GenerateAssignment.preprocessors = [
    "nbgrader.preprocessors.IncludeHeaderFooter",
    "nbgrader.preprocessors.InstantiateTests",
    "nbgrader.preprocessors.LockCells",
    CourseClearSolutions,
    "nbgrader.preprocessors.ClearOutput",
    "nbgrader.preprocessors.CheckCellMetadata",
    "nbgrader.preprocessors.ComputeChecksums",
    "nbgrader.preprocessors.SaveCells",
    "nbgrader.preprocessors.ClearHiddenTests",
    "nbgrader.preprocessors.ClearMarkScheme",
    TagTestCells,  # Run All goes on past a failing test cell
    "nbgrader.preprocessors.ComputeChecksums",
    "nbgrader.preprocessors.CheckCellMetadata",
]
c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}
c.ClearSolutions.text_stub = "YOUR ANSWER HERE"

# Feedback shows what a test checked, never the hidden tests' code.
c.GenerateFeedback.preprocessors = [
    "nbgrader.preprocessors.GetGrades",
    HideHiddenTests,
    "nbconvert.preprocessors.CSSHTMLHeaderPreprocessor",
]
