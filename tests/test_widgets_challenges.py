"""Section 06 explorer: live over (α, B), quiet when runs blow up, and true to the measurements."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from lrcourse.widgets.challenges import (
    BATCH_SIZES,
    SpeedStabilityExplorer,
    batch_runs,
    stability_edge,
)

from .explorers import move_rate, rate_range

pytestmark = pytest.mark.usefixtures("no_warnings")


@pytest.fixture(scope="module")
def explorer():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        return SpeedStabilityExplorer()


def test_the_first_control_is_a_log_scale_learning_rate_slider(explorer):
    first = next(iter(explorer.controls.values()))
    assert first is explorer.controls["lr"]
    assert type(first).__name__ == "FloatLogSlider"


def test_moving_the_rate_across_its_range_changes_readout_and_picture(explorer):
    before = explorer.updates
    readouts, pictures = move_rate(explorer, rate_range(explorer))
    assert len(readouts) >= 6 and len(pictures) >= 6
    assert explorer.updates - before >= 12


def test_moving_the_batch_size_changes_readout_and_picture(explorer):
    explorer.controls["lr"].value = 0.1
    readouts, pictures = set(), set()
    for b in BATCH_SIZES:
        explorer.controls["batch"].value = b
        readouts.add(explorer.readout_text())
        pictures.add(explorer.png())
    assert len(readouts) == len(BATCH_SIZES) and len(pictures) == len(BATCH_SIZES)


@pytest.mark.parametrize("batch", [1, 4, 512])
def test_the_largest_rate_reports_divergence_with_its_step(explorer, batch):
    explorer.controls["batch"].value = batch
    slider = explorer.controls["lr"]
    slider.value = 10**slider.max
    text = explorer.readout_text()
    assert "diverges" in text and "diverged at step" in text and "16 of 16 runs" in text


def test_the_smallest_rate_is_too_slow_for_the_full_batch(explorer):
    explorer.controls["batch"].value = 512
    explorer.controls["lr"].value = 0.01
    assert explorer.readout_text().startswith("too slow")


def test_a_rate_above_the_noise_floor_is_named_as_such(explorer):
    explorer.controls["batch"].value = 4
    explorer.controls["lr"].value = 0.25
    text = explorer.readout_text()
    assert "noise floor" in text and "diverged" not in text


def test_reset_moves_to_the_fastest_rate_at_which_every_run_reaches_the_target(explorer):
    for batch in (4, 64):
        explorer.controls["batch"].value = batch
        explorer.controls["lr"].value = 10 ** explorer.controls["lr"].max
        explorer.reset()
        assert explorer.controls["lr"].value == pytest.approx(explorer.best["lr"])
        assert explorer.controls["batch"].value == batch
        assert explorer.readout_text().startswith("converges")
        assert "16 of 16 runs" in explorer.readout_text()


def test_the_fastest_safe_rate_sits_well_below_the_edge(explorer):
    summary = explorer.summary[4]
    fastest = explorer.lrs[summary["best"]]
    assert fastest < 0.5 * explorer.edges[4]
    assert summary["failed"][explorer.lrs < explorer.edges[4]].max() > 0.5  # failures come first


def test_an_unknown_batch_size_is_refused():
    with pytest.raises(ValueError, match="batch must be one of"):
        SpeedStabilityExplorer(batch=3)


def test_the_runs_are_computed_once_and_shared():
    assert batch_runs() is batch_runs()


def test_the_edge_grows_like_b_below_the_critical_batch_size_and_not_above():
    runs = batch_runs()
    edge = {b: stability_edge(r) for b, r in runs.items()}
    assert 2.5 < edge[4] / edge[1] < 4.5  # about linear below B* ≈ 11
    assert edge[256] / edge[64] < 1.1  # flat above it
    assert edge[512] == pytest.approx(edge[256])


def test_doubling_rate_and_batch_together_keeps_the_noise_floor(explorer):
    floors = []
    for batch, lr in ((4, 0.1), (8, 0.2)):
        i = int(np.argmin(np.abs(np.log(explorer.lrs / lr))))
        gap = explorer.runs[batch].loss[:, i, -50:] - explorer.loss_min
        floors.append(np.median(gap))
    assert 0.75 < floors[1] / floors[0] < 1.33


def test_the_docstring_example_of_batch_runs_holds():
    import doctest

    import lrcourse.widgets.challenges as module

    result = doctest.testmod(module, extraglobs={"np": np},
                             optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted >= 2 and result.failed == 0
