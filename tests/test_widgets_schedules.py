"""Explorers of section 03: live, quiet, honest about what each schedule or cycle does."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from lrcourse import schedules as lib
from lrcourse.widgets.schedules import (
    KINDS,
    CycleExplorer,
    ScheduleComposer,
    TwoWells,
    compose,
    descend,
)

from .explorers import move_rate, rate_range

pytestmark = pytest.mark.usefixtures("no_warnings")


@pytest.fixture(scope="module")
def composer():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        return ScheduleComposer(kind="exponential", lr=0.5, factor=0.05, period=300)


@pytest.fixture(scope="module")
def cycle():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        return CycleExplorer()


# ------------------------------------------------------------------------ composer


def test_composer_rate_slider_changes_readout_and_picture_over_its_range(composer):
    before = composer.updates
    readouts, pictures = move_rate(composer, rate_range(composer, 10))
    assert len(readouts) >= 8 and len(pictures) >= 8
    assert composer.updates >= before + 10


def test_composer_names_the_four_outcomes_across_the_rate_range(composer):
    composer.controls["kind"].value = "exponential"
    seen = {}
    for lr in (3.0, 0.5, 0.3, 0.003):
        composer.controls["lr"].value = lr
        seen[lr] = composer.readout_text().split("\xa0")[0].strip()
    assert seen == {3.0: "too large", 0.5: "too noisy", 0.3: "converges", 0.003: "too slow"}


def test_composer_largest_rate_says_the_loss_went_up(composer):
    composer.controls["kind"].value = "constant"
    composer.controls["lr"].value = 10 ** composer.controls["lr"].max
    text = composer.readout_text()
    assert text.startswith("too large") and "the loss went up" in text


def test_composer_reset_restores_the_best_fixed_rate(composer):
    composer.controls["kind"].value = "cosine"
    composer.controls["lr"].value = 0.002
    composer.reset()
    assert composer.controls["kind"].value == "constant"
    assert composer.controls["lr"].value == pytest.approx(composer.best["lr"], rel=0.07)
    assert "constant(lr=" in composer.readout_text()


@pytest.mark.parametrize("kind", list(KINDS))
def test_every_kind_draws_and_shows_only_its_own_knobs(composer, kind):
    composer.controls["kind"].value = kind
    composer.controls["lr"].value = 0.3
    shown = {n for n in ("factor", "period", "low")
             if composer.controls[n].layout.display != "none"}
    assert shown == set(KINDS[kind])
    assert "schedule: " in composer.readout_text()


def test_compose_builds_the_library_schedules_it_names():
    t = np.arange(300)
    np.testing.assert_array_equal(compose("step", 0.5, 0.3, 75)(t),
                                  lib.step_decay(0.5, 75, 0.3)(t))
    # "factor per period": the exponential loses a factor gamma over each period
    sched = compose("exponential", 0.5, factor=0.1, period=100)
    assert sched(100) == pytest.approx(0.05, rel=1e-4)
    assert compose("inverse time (1/t)", 0.5, factor=0.5, period=20)(20) == pytest.approx(0.25)
    warm = compose("cosine", 0.5, period=200, warmup=50, low=0.01)
    assert warm(0) == 0 and warm(50) == pytest.approx(0.5)
    with pytest.raises(ValueError, match="kind must be one of"):
        compose("linear", 0.5)


# ------------------------------------------------------------------------- cycles


def test_cycle_rate_slider_changes_readout_and_picture_over_its_range(cycle):
    readouts, pictures = move_rate(cycle, rate_range(cycle))
    assert len(readouts) >= 8 and len(pictures) >= 8


@pytest.mark.parametrize(("landscape", "peak", "where"), [
    ("bumpy well", 0.02, "a sharp local minimum"),   # peak below 2/λ: stays
    ("bumpy well", 0.5, "the global minimum"),       # thrown out of the sharp local minimum
    ("two wells", 0.02, "the global minimum"),       # stays in the sharp global minimum
    ("two wells", 0.5, "a wide local minimum"),      # thrown out of the sharp global one
])
def test_a_cycle_leaves_sharp_minima_whether_they_are_good_or_bad(cycle, landscape, peak, where):
    cycle.controls["mode"].value = "triangular"
    cycle.controls["landscape"].value = landscape
    cycle.controls["lr"].value = peak
    assert f"ends in: {where}" in cycle.readout_text()


def test_exceeding_the_stability_limit_briefly_is_not_enough_to_escape(cycle):
    cycle.controls["landscape"].value = "bumpy well"
    cycle.controls["mode"].value = "triangular"
    cycle.controls["lr"].value = 0.15  # above 2/λ ≈ 0.1 for part of each cycle
    text = cycle.readout_text()
    assert "sharp minimum holds rates below: 0.1" in text
    assert "a sharp local minimum" in text and "steps above that: 0" not in text


def test_switching_landscape_redraws_the_background(cycle):
    cycle.controls["landscape"].value = "bumpy well"
    first = cycle.png()
    cycle.controls["landscape"].value = "two wells"
    assert cycle.png() != first and cycle._shown == "two wells"


def test_the_display_bundle_carries_a_static_picture(cycle):
    import base64

    bundle = cycle._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in bundle
    assert base64.b64decode(bundle["image/png"]).startswith(b"\x89PNG")


# ----------------------------------------------------------------------- two wells


def test_two_wells_gradient_and_hessian_match_finite_differences(rng):
    land = TwoWells()
    x = rng.uniform(-2.5, 3.5, size=(50, 1))
    h = 1e-6
    fd_grad = (land.loss(x + h) - land.loss(x - h)) / (2 * h)
    np.testing.assert_allclose(land.grad(x)[:, 0], fd_grad, rtol=1e-6, atol=1e-6)
    fd_hess = (land.grad(x + h) - land.grad(x - h))[:, 0] / (2 * h)
    np.testing.assert_allclose(land.hessian(x)[:, 0, 0], fd_hess, rtol=1e-5, atol=1e-4)


def test_two_wells_global_minimum_is_sharp_and_local_minimum_is_wide():
    land = TwoWells()
    sharp, wide = np.array([-1.0]), np.array([1.5])
    assert abs(land.grad(sharp)[0]) < 1e-12 and abs(land.grad(wide)[0]) < 1e-9
    assert land.loss(sharp) < 1e-12 < 0.49 < land.loss(wide) < 0.51
    assert land.hessian(sharp)[0, 0] == pytest.approx(40.0)
    assert land.hessian(wide)[0, 0] == pytest.approx(1.0)


def test_descend_is_gradient_descent_with_one_rate_per_step():
    land = TwoWells()
    rates = np.array([[0.01, 0.02, 0.03]])
    x = -0.8
    for r in rates[0]:
        x = x - r * float(land.grad(np.array([x]))[0])
    assert descend(land, -0.8, rates)[0, -1] == pytest.approx(x, abs=1e-15)
