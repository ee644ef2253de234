"""Grading the course: releasing student notebooks, autograding, feedback."""
