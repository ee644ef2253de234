"""Explorers of sections 01-02: live, quiet at extreme rates, and falling back to a picture."""

from __future__ import annotations

import pytest

from lrcourse.widgets.basics import (
    BumpyWellExplorer,
    ParabolaExplorer,
    QuadraticExplorer,
    RegimeMapExplorer,
)

from .explorers import move_rate, rate_range

EXPLORERS = [ParabolaExplorer, QuadraticExplorer, BumpyWellExplorer, RegimeMapExplorer]


pytestmark = pytest.mark.usefixtures("no_warnings")


@pytest.mark.parametrize("cls", EXPLORERS)
def test_moving_the_rate_across_its_range_changes_readout_and_picture(cls):
    explorer = cls()
    readouts, pictures = move_rate(explorer, rate_range(explorer))
    assert len(readouts) >= 6 and len(pictures) >= 6
    assert explorer.updates >= 12


@pytest.mark.parametrize("cls", EXPLORERS)
def test_the_largest_rate_reports_divergence_with_its_step(cls):
    explorer = cls()
    slider = explorer.controls["lr"]
    slider.value = 10**slider.max
    text = explorer.readout_text()
    assert "diverges" in text and "diverged at step" in text


@pytest.mark.parametrize("cls", [ParabolaExplorer, QuadraticExplorer, BumpyWellExplorer])
def test_reset_restores_the_best_rate(cls):
    explorer = cls()
    slider = explorer.controls["lr"]
    slider.value = 10**slider.min
    explorer.reset()
    assert slider.value == pytest.approx(explorer.best["lr"])


def test_parabola_best_rate_lands_in_one_step():
    explorer = ParabolaExplorer(curvature=2.0)
    explorer.reset()
    assert "loss < 1e-06: 1 steps" in explorer.readout_text()


def test_the_display_bundle_carries_a_static_picture_for_exporters():
    bundle = ParabolaExplorer()._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in bundle
    assert bundle["application/vnd.lrcourse.explorer+json"] == {"explorer": "ParabolaExplorer"}
    import base64

    assert base64.b64decode(bundle["image/png"]).startswith(b"\x89PNG")


def test_bumpy_well_small_rate_settles_in_a_local_minimum_and_good_rate_in_the_global():
    explorer = BumpyWellExplorer()
    explorer.controls["lr"].value = 0.01
    assert "a local minimum" in explorer.readout_text()
    explorer.reset()
    assert "the global minimum" in explorer.readout_text()
