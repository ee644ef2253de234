"""nbgrader configuration of the lrcourse course.

Instructors can run plain ``nbgrader`` commands in this folder; the
``lrcourse release`` and ``lrcourse grade`` verbs load this same file, so both
routes grade alike.
"""

from lrcourse.grading.plugins import HideHiddenTests

c = get_config()  # noqa: F821 - provided by traitlets when nbgrader loads this file

c.CourseDirectory.course_id = "lrcourse"

# Seconds a single cell may run while autograding; a learner's infinite loop
# costs that cell, not the batch.
c.Execute.timeout = 60
c.Execute.interrupt_on_timeout = True

# A learner who deletes a test cell gets it back, graded as usual.
c.OverwriteCells.add_missing_cells = True

c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}
c.ClearSolutions.text_stub = "YOUR ANSWER HERE"

# Feedback shows what a test checked, never the hidden tests' code.
c.GenerateFeedback.preprocessors = [
    "nbgrader.preprocessors.GetGrades",
    HideHiddenTests,
    "nbconvert.preprocessors.CSSHTMLHeaderPreprocessor",
]
