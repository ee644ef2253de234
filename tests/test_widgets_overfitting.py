"""Explorer of section 07: live over its whole range, quiet, honest readout, and a working reset."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from lrcourse.checks.overfitting import SCHEDULES, moons_runs
from lrcourse.widgets.overfitting import OverfittingExplorer, fit_status

pytestmark = pytest.mark.usefixtures("no_warnings")


@pytest.fixture(scope="module")
def explorer():
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # building must be quiet too
        return OverfittingExplorer(lr=0.215, schedule="constant", seed=0)


def test_moving_the_rate_across_its_range_changes_readout_and_picture(explorer):
    slider = explorer.controls["lr"]
    readouts, pictures = set(), set()
    for value in explorer.lrs:
        slider.value = float(value)
        readouts.add(explorer.readout_text())
        pictures.add(explorer.png())
    assert len(readouts) == len(explorer.lrs) and len(pictures) == len(explorer.lrs)


def test_the_largest_rate_reports_divergence_with_its_step(explorer):
    slider = explorer.controls["lr"]
    for schedule in SCHEDULES:
        explorer.controls["schedule"].value = schedule
        slider.value = 10**slider.max
        text = explorer.readout_text()
        assert text.startswith("diverges") and "diverged at step" in text
    explorer.controls["schedule"].value = "constant"


def test_the_smallest_rate_is_still_learning_and_a_middle_one_overfits(explorer):
    slider = explorer.controls["lr"]
    slider.value = 10**slider.min
    assert explorer.readout_text().startswith("still learning")
    slider.value = 0.215
    assert explorer.readout_text().startswith("overfits")


def test_the_schedule_toggle_changes_the_run_shown(explorer):
    explorer.controls["lr"].value = 0.215
    seen = set()
    for schedule in SCHEDULES:
        explorer.controls["schedule"].value = schedule
        seen.add((explorer.readout_text(), explorer.png()))
        assert f"schedule: {schedule}" in explorer.readout_text()
    assert len(seen) == len(SCHEDULES)
    explorer.controls["schedule"].value = "constant"


def test_the_readout_reports_the_precomputed_run(explorer):
    explorer.controls["schedule"].value = "cosine"
    explorer.controls["lr"].value = 0.1
    runs = moons_runs([{"lr": 0.1, "schedule": "cosine"}], [0])
    text = explorer.readout_text()
    assert f"best val loss: {runs.best_val[0, 0]:.3f} at step {runs.best_step[0, 0]}" in text
    assert f"final val loss: {runs.final_val[0, 0]:.3f}" in text
    assert f"final gap: {runs.final_gap[0, 0]:.3f}" in text
    explorer.controls["schedule"].value = "constant"


def test_reset_restores_the_best_early_stopped_rate(explorer):
    explorer.controls["lr"].value = 10**explorer.controls["lr"].min
    explorer.controls["schedule"].value = "step"
    explorer.reset()
    assert explorer.values["schedule"] == explorer.best["schedule"] == "constant"
    assert explorer.values["lr"] == pytest.approx(explorer.best["lr"])
    constant = explorer.runs.best_val[0]
    ok = explorer.runs.diverged_at[0] < 0
    assert explorer.best["lr"] == pytest.approx(
        explorer.lrs[np.argmin(np.where(ok, constant, np.inf))])


def test_a_diverged_run_has_no_final_map(explorer):
    i = SCHEDULES.index("constant")
    diverged = explorer.runs.diverged_at[i] >= 0
    assert diverged.any()
    assert np.all(np.isnan(explorer.maps_final[i][diverged]))
    assert np.all(np.isfinite(explorer.maps_best[i]))


def test_the_explorer_rejects_an_unknown_schedule():
    with pytest.raises(ValueError, match="schedule must be one of"):
        OverfittingExplorer(schedule="linear")


@pytest.mark.parametrize(
    ("args", "status"),
    [
        ((0.35, 0.6, 100, 1000, 500), "diverges"),
        ((0.35, 0.6, 100, 1000, -1), "overfits"),
        ((0.35, 0.38, 950, 1000, -1), "still learning"),
        ((0.35, 0.38, 300, 1000, -1), "fits"),
    ],
)
def test_fit_status_names_what_a_run_did(args, status):
    assert fit_status(*args) == status
