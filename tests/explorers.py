"""What the explorer tests share: move the rate slider, collect what the explorer shows."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np


def rate_range(explorer: Any, n: int = 12) -> np.ndarray:
    """``n`` rates, evenly spaced on a log scale over the whole of the explorer's α slider."""
    slider = explorer.controls["lr"]
    return np.geomspace(10**slider.min, 10**slider.max, n)


def move_rate(explorer: Any, values: Iterable[float]) -> tuple[set[str], set[bytes]]:
    """Set the α slider to each value in turn: the distinct readouts and pictures seen."""
    slider = explorer.controls["lr"]
    readouts, pictures = set(), set()
    for v in values:
        slider.value = float(v)
        readouts.add(explorer.readout_text())
        pictures.add(explorer.png())
    return readouts, pictures
