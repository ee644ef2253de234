"""The one kind of explorer every notebook uses.

An :class:`Explorer` is a row of controls (a log-scale learning-rate slider
first), a picture, and a readout.  Moving a control recomputes the outcome
and redraws only what changed:

* the figure is built once; the artists that move (``animated`` ones) are
  drawn over a cached image of everything else (blitting), and the result is
  sent to the browser as a PNG in an ``ipywidgets.Image``;
* sliders send values while they are dragged (``continuous_update``).  The
  widget front end keeps at most one update in flight and sends only the
  newest value once the kernel is free again, so the kernel never works
  through a queue of stale moves.  An update that arrives while one is being
  drawn (possible when an update itself yields) is folded into it.

Without a front end (nbclient in CI, an HTML export) the explorer's display
falls back to one static PNG at its default values: the display bundle
carries the picture next to the widget, and exporters without widget state
show the picture.
"""

from __future__ import annotations

import base64
import io
import math
import time
import warnings
from collections.abc import Hashable, Mapping
from typing import Any

import ipywidgets as widgets
import numpy as np
from matplotlib.artist import Artist
from matplotlib.figure import Figure

__all__ = [
    "Explorer",
    "alpha_slider",
    "float_slider",
    "format_readout",
    "int_slider",
    "nearest",
    "slider_values",
]

EXPLORER_CLASS = "lrcourse-explorer"
EXPLORER_MIME = "application/vnd.lrcourse.explorer+json"
READOUT_CLASS = "lrcourse-readout"
ALPHA_CLASS = "lrcourse-alpha"
RESET_CLASS = "lrcourse-reset"
PLOT_CLASS = "lrcourse-plot"


def alpha_slider(
    value: float, low: float, high: float, description: str = "α", steps_per_decade: int = 20
) -> widgets.FloatLogSlider:
    """A log-scale learning-rate slider from ``low`` to ``high``, with its readout."""
    slider = widgets.FloatLogSlider(
        value=value,
        base=10,
        min=math.log10(low),
        max=math.log10(high),
        step=1.0 / steps_per_decade,
        description=description,
        readout_format=".3g",
        continuous_update=True,
        style={"description_width": "initial"},
        layout=widgets.Layout(width="420px"),
    )
    slider.add_class(ALPHA_CLASS)
    return slider


def slider_values(slider: widgets.FloatLogSlider) -> np.ndarray:
    """Every value a log-scale slider can take, in order: ``base ** (min + step k)``.

    An explorer precomputes its runs at exactly these values, so a move is a lookup.

    Example:
        >>> slider_values(alpha_slider(0.1, 0.01, 1.0, steps_per_decade=2)).round(4)
        array([0.01  , 0.0316, 0.1   , 0.3162, 1.    ])
    """
    n = int(round((slider.max - slider.min) / slider.step)) + 1
    return slider.base ** (slider.min + slider.step * np.arange(n))


def nearest(values: np.ndarray, value: float) -> int:
    """The index of the entry of ``values`` (positive) closest to ``value`` on a log scale.

    Example:
        >>> nearest(np.array([0.01, 0.1, 1.0]), 0.4)
        2
    """
    return int(np.argmin(np.abs(np.log(values) - np.log(value))))


def float_slider(value: float, low: float, high: float, step: float, description: str):
    """A linear slider for another knob (momentum, a decay factor...)."""
    return widgets.FloatSlider(
        value=value, min=low, max=high, step=step, description=description,
        continuous_update=True, readout_format=".3g",
        style={"description_width": "initial"}, layout=widgets.Layout(width="420px"),
    )


def int_slider(value: int, low: int, high: int, description: str, step: int = 1):
    """An integer slider (a number of steps, a period...)."""
    return widgets.IntSlider(
        value=value, min=low, max=high, step=step, description=description,
        continuous_update=True, style={"description_width": "initial"},
        layout=widgets.Layout(width="420px"),
    )


class Explorer:
    """Controls, a figure updated in place, and a readout.

    Subclasses build the figure in :meth:`setup` and move its artists in
    :meth:`update`, which returns the readout text.  Everything the update
    needs should be precomputed (for instance a vectorised sweep over the
    slider's whole range) so that a move costs a lookup and a blit.

    Args:
        controls: the widgets, by the keyword :meth:`update` receives them as;
            the first is the learning-rate slider.
        best: values of the controls that the "reset" button restores
            (``None``: no button).
        width, height: figure size in inches.
    """

    dpi = 96

    def __init__(
        self,
        controls: Mapping[str, widgets.ValueWidget],
        best: Mapping[str, Any] | None = None,
        width: float = 8.5,
        height: float = 3.4,
        best_label: str = "reset to best α",
    ) -> None:
        from matplotlib.backends.backend_agg import FigureCanvasAgg

        self.controls = dict(controls)
        self.best = dict(best) if best else None
        self.fig = Figure(figsize=(width, height), dpi=self.dpi, layout="constrained")
        self.canvas = FigureCanvasAgg(self.fig)
        self.updates = 0
        self.last_update_seconds = 0.0
        self._drawing = False
        self._again = False

        with _quiet():
            self.animated: list[Artist] = list(self.setup(self.fig))
        for artist in self.animated:
            artist.set_animated(True)
        self._background = None
        self._view: Hashable | None = None
        self._views: dict[Hashable, Any] = {}

        pixels = f"{width * self.dpi:.0f}px"
        self.image = widgets.Image(format="png", layout=widgets.Layout(width=pixels))
        self.image.add_class(PLOT_CLASS)
        self.readout = widgets.HTML()
        self.readout.add_class(READOUT_CLASS)
        rows: list[widgets.Widget] = list(self.controls.values())
        if self.best is not None:
            self.reset_button = widgets.Button(
                description=best_label, icon="undo",
                layout=widgets.Layout(width="max-content"),  # the whole label, not cut to 148 px
            )
            self.reset_button.add_class(RESET_CLASS)
            self.reset_button.on_click(lambda _: self.reset())
            rows.append(self.reset_button)
        self.box = widgets.VBox([widgets.VBox(rows), self.readout, self.image])
        self.box.add_class(EXPLORER_CLASS)
        for control in self.controls.values():
            control.observe(self._on_change, names="value")
        self.refresh()

    # -- to be written by each explorer -------------------------------------------

    def setup(self, fig: Figure) -> list[Artist]:
        """Build the figure; return the artists that :meth:`update` will move."""
        raise NotImplementedError

    def update(self, **values: Any) -> str:
        """Move the artists for ``values``; return the readout (HTML allowed)."""
        raise NotImplementedError

    # -- machinery ---------------------------------------------------------------

    @property
    def values(self) -> dict[str, Any]:
        return {name: control.value for name, control in self.controls.items()}

    def _on_change(self, change: Mapping[str, Any]) -> None:
        if self._drawing:  # fold a move that arrives mid-draw into the next draw
            self._again = True
            return
        self.refresh()

    def refresh(self) -> None:
        """Recompute for the controls' current values and redraw the picture."""
        self._drawing = True
        try:
            while True:
                self._again = False
                start = time.perf_counter()
                with _quiet():
                    text = self.update(**self.values)
                    self.image.value = self._render()
                self.readout.value = text
                self.updates += 1
                self.last_update_seconds = time.perf_counter() - start
                if not self._again:
                    break
        finally:
            self._drawing = False

    def reset(self) -> None:
        """Put the controls back at their best values (one redraw)."""
        if self.best is None:
            return
        self._drawing = True
        try:
            for name, value in self.best.items():
                self.controls[name].value = value
        finally:
            self._drawing = False
        self.refresh()

    def redraw_background(self) -> None:
        """Forget the cached background(s) (call after changing a static artist or a limit)."""
        self._background = None
        self._views.clear()

    def show_view(self, key: Hashable, draw: bool = False) -> bool:
        """Switch to the static picture ``key``, keeping one cached background per view.

        For an explorer whose static picture depends on a control (a dropdown picks the
        landscape, a checkbox the map): call it in :meth:`update` with the control's value,
        and change the static artists when it returns True. The background of the view left
        is kept, and the one of ``key`` reused, so only the first visit of a view pays for a
        full draw. The views share the animated artists, so they must share the axes'
        positions: freeze the layout after the first full draw
        (``self.fig.set_layout_engine("none")``).

        Args:
            key: the view (any hashable value).
            draw: draw the view's background now if it has none yet, e.g. for every view
                when the explorer is built, so that no move pays for a full draw.

        Returns:
            Whether the view changed.
        """
        changed = key != self._view
        if changed:
            if self._view is not None and self._background is not None:
                self._views[self._view] = self._background
            self._view = key
            self._background = self._views.get(key)
        if draw and self._background is None:
            self.canvas.draw()  # animated artists are skipped by a full draw
            self._background = self.canvas.copy_from_bbox(self.fig.bbox)
        return changed

    def _render(self) -> bytes:
        canvas = self.canvas
        if self._background is None:
            canvas.draw()  # animated artists are skipped by a full draw
            self._background = canvas.copy_from_bbox(self.fig.bbox)
        else:
            canvas.restore_region(self._background)
        for artist in self.animated:
            self.fig.draw_artist(artist)
        return _png(np.asarray(canvas.buffer_rgba()))

    def png(self) -> bytes:
        """The current picture, as PNG bytes."""
        return self.image.value

    # -- display -------------------------------------------------------------------

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict:
        bundle = self.box._repr_mimebundle_(include=include, exclude=exclude) or {}
        bundle = dict(bundle)
        bundle["image/png"] = base64.b64encode(self.png()).decode("ascii")
        bundle["text/plain"] = f"<{type(self).__name__}: {self.readout_text()}>"
        # a marker front ends ignore, by which tests tell explorers from other widgets
        bundle[EXPLORER_MIME] = {"explorer": type(self).__name__}
        return bundle

    def readout_text(self) -> str:
        """The readout as plain text."""
        import html
        import re

        return html.unescape(re.sub(r"<[^>]+>", "", self.readout.value))


def _png(rgba: np.ndarray) -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(rgba, mode="RGBA").convert("RGB").save(buf, format="png", compress_level=1)
    return buf.getvalue()


class _quiet:
    """Silence NumPy's floating-point warnings while an explorer computes.

    Divergence is part of what explorers show: it is reported in the readout
    ("diverged at step k"), never as a wall of overflow warnings.
    """

    def __enter__(self) -> None:
        self._err = np.seterr(all="ignore")
        self._warn = warnings.catch_warnings()
        self._warn.__enter__()
        warnings.simplefilter("ignore", RuntimeWarning)

    def __exit__(self, *exc: Any) -> None:
        self._warn.__exit__(*exc)
        np.seterr(**self._err)


def format_readout(items: Mapping[str, str], status: str | None = None) -> str:
    """The readout's HTML: ``name: value`` pairs, and a coloured status word."""
    from html import escape

    parts = [f"<b>{escape(k)}</b>: {escape(v)}" for k, v in items.items()]
    if status is not None:
        from ..plots import REGIME_COLOURS

        colour = REGIME_COLOURS.get(status) or REGIME_COLOURS.get(status.split(" ")[0], "#000000")
        parts.insert(0, f"<b style='color:{colour}'>{escape(status)}</b>")
    return " &nbsp;·&nbsp; ".join(parts)
