"""Live explorers for the course's notebooks (ipywidgets + matplotlib)."""

from ._core import (
    Explorer,
    alpha_slider,
    float_slider,
    format_readout,
    int_slider,
    nearest,
    slider_values,
)

__all__ = [
    "Explorer",
    "alpha_slider",
    "float_slider",
    "format_readout",
    "int_slider",
    "nearest",
    "slider_values",
]
