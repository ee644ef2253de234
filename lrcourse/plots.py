"""Plotting helpers with one look across the course.

Colours come from the Okabe-Ito palette, which stays distinguishable under
the common forms of colour blindness.  Losses and learning rates are drawn
on log scales, because what matters about them is their order of magnitude.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

__all__ = [
    "PALETTE",
    "REGIME_COLOURS",
    "apply_style",
    "contour",
    "figure",
    "loss_axes",
    "plot_losses",
    "plot_lr_find",
    "plot_path",
    "plot_regime_map",
    "plot_schedules",
]

#: Okabe & Ito (2008), "Color Universal Design": blue, orange, green, vermillion,
#: reddish purple, sky blue, yellow, black.
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#000000")

#: One colour per training regime, used by every regime map and readout.
REGIME_COLOURS = {
    "converges": "#009E73",
    "oscillates": "#E69F00",
    "diverges": "#D55E00",
    "too slow": "#56B4E9",
}

_STYLE = {
    "axes.prop_cycle": None,  # filled in by apply_style
    "axes.grid": True,
    "grid.alpha": 0.3,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "figure.dpi": 100,
    "legend.frameon": False,
    "font.size": 10,
}


def apply_style() -> None:
    """Use the course's palette and quiet axes in every later matplotlib figure.

    In a notebook this also turns on inline figures, so that a figure made
    with :func:`figure` shows when it is the last expression of a cell.
    """
    import matplotlib as mpl
    from cycler import cycler

    style = dict(_STYLE, **{"axes.prop_cycle": cycler(color=list(PALETTE))})
    try:
        from IPython import get_ipython
    except ImportError:  # plain Python: nothing to turn on
        shell = None
    else:
        shell = get_ipython()
    if shell is not None:
        shell.run_line_magic("matplotlib", "inline")
    mpl.rcParams.update(style)


def figure(width: float = 8.0, height: float = 3.5, ncols: int = 1, nrows: int = 1):
    """A figure and its axes, not attached to pyplot (safe to update in place).

    Returns:
        ``(fig, axes)``, with ``axes`` a single Axes when there is one.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    fig = Figure(figsize=(width, height), layout="constrained")
    FigureCanvasAgg(fig)
    axes = fig.subplots(nrows, ncols, squeeze=True)
    return fig, axes


def loss_axes(ax: Axes, ylabel: str = "loss", xlabel: str = "step") -> Axes:
    """Label an axes for a loss curve, on a log scale."""
    ax.set_yscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    return ax


def plot_losses(
    ax: Axes, curves: dict[str, Sequence[float]], floor: float = 1e-16, **kwargs: Any
) -> list:
    """Several loss curves on one log-scale axes (values clipped below at ``floor``)."""
    loss_axes(ax)
    lines = []
    for (label, values), colour in zip(curves.items(), _cycle(), strict=False):
        y = np.maximum(np.asarray(values, dtype=float), floor)
        lines += ax.plot(np.arange(y.size), y, label=label, color=colour, **kwargs)
    if len(curves) > 1:
        ax.legend()
    return lines


def contour(
    ax: Axes, landscape: Any, bounds: Sequence[float] | None = None, n: int = 160, levels: int = 18
) -> None:
    """Log-spaced contour lines of a 2-D landscape, with its minimum marked.

    ``bounds`` is ``[(x_low, x_high), (y_low, y_high)]``, as landscapes give it.
    """
    (x0, x1), (y0, y1) = bounds if bounds is not None else landscape.bounds
    xs, ys = np.meshgrid(np.linspace(x0, x1, n), np.linspace(y0, y1, n))
    z = landscape.loss(np.stack([xs, ys], axis=-1))
    low = float(np.min(z))
    shifted = z - low + 1e-3 * (float(np.max(z)) - low + 1e-12)
    lv = np.geomspace(float(shifted.min()), float(shifted.max()), levels)
    ax.contour(xs, ys, shifted, levels=lv, colors="0.6", linewidths=0.7)
    minimum = getattr(landscape, "minimum", None)
    if minimum is not None:
        m = np.asarray(minimum, dtype=float).reshape(-1, 2)
        ax.plot(m[:, 0], m[:, 1], marker="*", color="black", markersize=11, linestyle="none")
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    ax.set_aspect("equal", adjustable="box")


def plot_path(ax: Axes, path: np.ndarray, label: str | None = None, colour: str | None = None):
    """An optimizer's path (steps, 2) on a contour plot: line, dots, start marker."""
    path = np.asarray(path, dtype=float)
    (line,) = ax.plot(path[:, 0], path[:, 1], "-o", markersize=2.5, linewidth=1.2,
                      color=colour or PALETTE[0], label=label)
    return line


def plot_schedules(ax: Axes, schedules: dict[str, Any], steps: int) -> list:
    """Learning rate against step for several schedules, on a log scale."""
    t = np.arange(steps)
    lines = []
    for (label, schedule), colour in zip(schedules.items(), _cycle(), strict=False):
        lines += ax.plot(t, schedule(t), label=label, color=colour)
    ax.set_yscale("log")
    ax.set_xlabel("step t")
    ax.set_ylabel("learning rate η(t)")
    ax.legend(fontsize=8)
    return lines


def plot_lr_find(ax: Axes, result: Any, suggestions: bool = True) -> None:
    """The LR range test: raw and smoothed loss against the rate, suggestions marked."""
    ax.plot(result.lrs, result.losses, color=PALETTE[5], alpha=0.5, label="loss")
    ax.plot(result.lrs, result.smoothed, color=PALETTE[0], label="smoothed")
    ax.set_xscale("log")
    ax.set_xlabel("learning rate")
    ax.set_ylabel("loss")
    if suggestions:
        for (name, lr), colour in zip(result.suggestions.items(), PALETTE[1:], strict=False):
            ax.axvline(lr, color=colour, linestyle="--", label=f"{name}: {lr:.2g}")
    ax.legend(fontsize=8)


def plot_regime_map(
    ax: Axes, lrs: np.ndarray, momenta: np.ndarray, labels: np.ndarray
) -> Any:
    """A map of regimes (converges, oscillates, diverges, too slow) over (α, β)."""
    from matplotlib.colors import ListedColormap

    names = list(REGIME_COLOURS)
    codes = np.vectorize(names.index)(np.asarray(labels))
    cmap = ListedColormap([REGIME_COLOURS[n] for n in names])
    mesh = ax.pcolormesh(lrs, momenta, codes.T, cmap=cmap, vmin=-0.5, vmax=len(names) - 0.5,
                         shading="nearest")
    ax.set_xscale("log")
    ax.set_xlabel("learning rate α")
    ax.set_ylabel("momentum β")
    from matplotlib.patches import Patch

    ax.legend(handles=[Patch(color=REGIME_COLOURS[n], label=n) for n in names],
              loc="upper left", fontsize=8, frameon=True)
    return mesh


def _cycle():
    while True:
        yield from PALETTE
