"""Shared fixtures: the course folder, its assignments, and a seeded rng."""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import numpy as np
import pytest

from lrcourse.course import assignments, course_dir

ROOT = Path(__file__).resolve().parent.parent
COURSE = course_dir(ROOT / "course")
# LRCOURSE_ASSIGNMENTS=03_schedules,04_adaptive limits the course tests to some assignments
# (handy while writing one); CI runs them all.
ASSIGNMENTS = [
    a for a in assignments(COURSE)
    if not os.environ.get("LRCOURSE_ASSIGNMENTS")
    or a in os.environ["LRCOURSE_ASSIGNMENTS"].split(",")
]
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


@pytest.fixture
def no_warnings():
    """Turn every warning into an error: explorers and checks must be quiet."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        yield


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(20261123)


@pytest.fixture(scope="session")
def course() -> Path:
    return COURSE
