"""The explorer base: slider values, log-nearest lookup, and one cached background per view."""

from __future__ import annotations

import doctest

import ipywidgets as widgets
import numpy as np
import pytest

import lrcourse.widgets._core
from lrcourse.widgets import Explorer, alpha_slider, nearest, slider_values


def test_slider_values_are_every_position_of_the_log_slider():
    slider = alpha_slider(0.1, 1e-3, 10.0, steps_per_decade=5)
    values = slider_values(slider)
    assert len(values) == 21
    np.testing.assert_allclose(values[[0, 10, -1]], [1e-3, 0.1, 10.0])
    for v in values:  # the slider can take each of them
        slider.value = float(v)
        assert slider.value == pytest.approx(v)


def test_nearest_compares_on_a_log_scale():
    values = np.array([0.01, 0.1, 1.0])
    assert nearest(values, 0.04) == 1  # log-closer to 0.1 than to 0.01
    assert nearest(values, 0.02) == 0
    assert nearest(values, 50.0) == 2


class TwoViews(Explorer):
    """A static line that depends on the view, and a dot that moves with α."""

    def __init__(self):
        self.full_draws = 0
        view = widgets.Dropdown(options=["up", "down"], value="up")
        super().__init__({"lr": alpha_slider(0.1, 0.01, 1.0), "view": view})
        original = self.canvas.draw

        def counted():
            self.full_draws += 1
            original()
        self.canvas.draw = counted

    def setup(self, fig):
        self.ax = fig.subplots()
        self.ax.set(xscale="log", xlim=(0.01, 1.0), ylim=(-1, 1))
        self.static, = self.ax.plot([0.01, 1.0], [0, 0], color="0.5")
        self.dot, = self.ax.plot([], [], "o")
        return [self.dot]

    def update(self, lr, view):
        if self.show_view(view):
            self.static.set_ydata([-0.5, 0.5] if view == "up" else [0.5, -0.5])
        self.dot.set_data([lr], [0.0])
        return f"{view} {lr:.2g}"


def test_show_view_draws_each_view_once_and_restores_it_on_a_later_visit():
    e = TwoViews()
    first_up = e.png()
    e.controls["view"].value = "down"
    down = e.png()
    assert down != first_up and e.full_draws == 1
    e.controls["view"].value = "up"
    assert e.png() == first_up and e.full_draws == 1  # restored, not redrawn
    e.controls["lr"].value = 0.5
    e.controls["view"].value = "down"
    e.controls["lr"].value = 0.1
    assert e.png() == down and e.full_draws == 1


def test_show_view_reports_a_change_and_can_draw_a_view_ahead_of_time():
    e = TwoViews()
    assert e.show_view("up") is False
    e.static.set_ydata([0.5, -0.5])
    assert e.show_view("down", draw=True) is True and e.full_draws == 1
    e.show_view("up")
    e.static.set_ydata([-0.5, 0.5])
    e.controls["view"].value = "down"  # already drawn: a move costs no full draw
    assert e.full_draws == 1


def test_redraw_background_forgets_every_view():
    e = TwoViews()
    e.controls["view"].value = "down"
    e.controls["view"].value = "up"
    draws = e.full_draws
    e.redraw_background()
    e.refresh()
    e.controls["view"].value = "down"
    assert e.full_draws == draws + 2


def test_docstring_examples_print_what_they_say():
    result = doctest.testmod(lrcourse.widgets._core, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0 and result.failed == 0
