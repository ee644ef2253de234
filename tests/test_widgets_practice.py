"""Section 05's explorer: live, quiet, and it names what each rate does (the batched runs it
stands on are tested in tests/test_sweeps.py)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from lrcourse.checks.practice import DIAGNOSES, diagnose_history
from lrcourse.widgets.practice import RangeTestExplorer

from .explorers import move_rate

pytestmark = pytest.mark.usefixtures("no_warnings")


@pytest.fixture(scope="module")
def explorer():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        return RangeTestExplorer(lr=0.3)


# ------------------------------------------------------------------------- explorer


def test_the_first_control_is_a_log_scale_rate_slider(explorer):
    first = next(iter(explorer.controls.values()))
    assert type(first).__name__ == "FloatLogSlider"
    assert first.min == pytest.approx(-3) and first.max == pytest.approx(1)


def test_moving_the_rate_over_its_range_changes_the_readout_and_the_picture(explorer):
    readouts, pictures = move_rate(explorer, np.logspace(-3, 1, 9))
    assert len(set(readouts)) == 9 and len(pictures) == 9


def test_the_readout_names_every_diagnosis_somewhere_on_the_slider(explorer):
    readouts, _ = move_rate(explorer, explorer.lrs)
    seen = {label for label in DIAGNOSES for text in readouts if text.startswith(label)}
    assert seen == set(DIAGNOSES)


def test_the_readout_is_the_reference_diagnosis_of_the_run_shown(explorer):
    for i in (0, 15, 27, 38):
        explorer.controls["lr"].value = float(explorer.lrs[i])
        label = diagnose_history(explorer.runs.history(i))
        assert explorer.readout_text().startswith(label)


def test_the_largest_rates_diverge_and_the_detector_step_is_shown(explorer):
    explorer.controls["lr"].value = 10.0
    assert explorer.readout_text().startswith("diverging")
    stopped = np.flatnonzero(explorer.runs.diverged_at >= 0)
    assert stopped.size
    explorer.controls["lr"].value = float(explorer.lrs[stopped[0]])
    assert f"diverged at step: {explorer.runs.diverged_at[stopped[0]]}" in explorer.readout_text()


def test_reset_restores_the_rate_with_the_lowest_final_validation_loss(explorer):
    explorer.controls["lr"].value = 5.0
    explorer.reset()
    best = explorer.controls["lr"].value
    final = np.where(explorer.runs.diverged_at < 0, explorer.runs.val_loss[:, -1], np.inf)
    assert best == pytest.approx(explorer.lrs[np.argmin(final)])
    assert explorer.readout_text().startswith("fine")


def test_the_range_test_behind_the_explorer_left_no_trace_and_marks_its_rules(explorer):
    assert set(explorer.test.suggestions) == {"steepest", "min_div_10", "valley"}
    assert explorer.test.stopped_early
