"""The explorer of section 09: REINFORCE on cart-pole, live, quiet, and honest about seeds."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from lrcourse.widgets.cases import (
    SCHEDULES,
    ReinforceExplorer,
    collapse_episode,
    reinforce_band_figure,
    smooth,
)

from .explorers import move_rate, rate_range


@pytest.fixture(scope="module")
def explorer():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        return ReinforceExplorer()


pytestmark = pytest.mark.usefixtures("no_warnings")


def test_the_first_control_is_a_log_scale_rate_slider_and_every_position_was_trained(explorer):
    slider = next(iter(explorer.controls.values()))
    assert type(slider).__name__ == "FloatLogSlider"
    assert len(explorer.lrs) == 13
    for name in SCHEDULES:
        assert explorer.returns[name].shape == (13, 8, 200)


def test_moving_the_rate_across_its_range_changes_readout_and_picture(explorer):
    before = explorer.updates
    readouts, pictures = move_rate(explorer, rate_range(explorer))
    assert len(readouts) >= 6 and len(pictures) >= 6
    assert explorer.updates - before >= 12


def test_the_largest_rate_reports_collapsed_seeds_and_the_episode(explorer):
    explorer.controls["schedule"].value = "constant"
    explorer.controls["lr"].value = 10**explorer.controls["lr"].max
    text = explorer.readout_text()
    assert text.startswith("collapses") and "the first at episode" in text


def test_a_tiny_rate_is_too_slow_and_its_seeds_agree(explorer):
    explorer.controls["lr"].value = 10**explorer.controls["lr"].min
    text = explorer.readout_text()
    assert text.startswith("too slow") and "collapsed" not in text


def test_switching_the_schedule_changes_the_readout_at_the_same_rate(explorer):
    explorer.controls["lr"].value = 1.6e-3
    explorer.controls["schedule"].value = "constant"
    constant = explorer.readout_text()
    explorer.controls["schedule"].value = "cosine decay"
    decayed = explorer.readout_text()
    assert constant != decayed and "cosine decay" in decayed


def test_reset_restores_the_best_rate_and_schedule(explorer):
    explorer.controls["lr"].value = 10**explorer.controls["lr"].min
    explorer.reset()
    means = {name: explorer.final[name].mean(axis=1) for name in SCHEDULES}
    best = max((m.max(), name, float(explorer.lrs[int(np.argmax(m))]))
               for name, m in means.items())
    assert explorer.controls["schedule"].value == best[1]
    assert explorer.controls["lr"].value == pytest.approx(best[2])
    assert explorer.readout_text().startswith("learns")


def test_a_good_rate_learns_on_most_seeds_and_beats_the_random_policy(explorer):
    i = int(np.argmin(np.abs(np.log(explorer.lrs / 1e-3))))
    final = explorer.final["constant"][i]
    assert np.mean(final >= 150) >= 0.5 and final.mean() > 5 * 22


def test_the_band_figure_has_one_panel_per_rate_with_both_schedules(explorer):
    fig = reinforce_band_figure(explorer, rates=(2.5e-4, 1e-3, 1e-2))
    assert len(fig.axes) == 3
    assert all(len(ax.get_lines()) == 3 for ax in fig.axes)  # two schedules and the random line


def test_the_display_bundle_carries_a_static_picture(explorer):
    import base64

    bundle = explorer._repr_mimebundle_()
    assert base64.b64decode(bundle["image/png"]).startswith(b"\x89PNG")


def test_smoothing_is_a_trailing_mean_that_starts_with_fewer_episodes():
    np.testing.assert_allclose(smooth(np.array([3.0, 5.0, 7.0, 9.0]), window=3),
                               [3.0, 4.0, 5.0, 7.0])


def test_a_run_that_stays_below_the_level_to_the_end_has_collapsed_there():
    returns = np.r_[np.full(100, 60.0), np.full(100, 9.0)]
    k = collapse_episode(returns)
    assert 100 <= k <= 110
    assert collapse_episode(np.full(200, 25.0)) == -1  # a random policy has not collapsed
    assert collapse_episode(np.r_[np.full(190, 60.0), np.full(10, 9.0)]) == -1  # too short


def test_the_docstring_examples_of_the_module_hold():
    import doctest

    import lrcourse.widgets.cases as module

    result = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted >= 2 and result.failed == 0
