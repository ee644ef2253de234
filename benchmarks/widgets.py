"""How long a slider move takes in every explorer of the course.

    python benchmarks/widgets.py [NAME ...]

For each explorer (built with its default arguments), 50 moves of its
learning-rate slider across the slider's whole range, timed from the value
change to the finished update (the new numbers computed, the artists moved,
the PNG encoded for the browser).  Targets: median <= 50 ms, p95 <= 100 ms.
"""

from __future__ import annotations

import sys
import time
import warnings

import numpy as np

from lrcourse.widgets.registry import all_explorers

MOVES = 50


def positions(slider) -> np.ndarray:
    if hasattr(slider, "base"):  # FloatLogSlider: min/max are exponents
        return np.geomspace(slider.base**slider.min, slider.base**slider.max, MOVES)
    return np.linspace(slider.min, slider.max, MOVES)


def measure(cls) -> tuple[float, float, float, int]:
    start = time.perf_counter()
    explorer = cls()
    build = time.perf_counter() - start
    slider = next(iter(explorer.controls.values()))
    times = []
    before = explorer.updates
    for value in positions(slider):
        start = time.perf_counter()
        slider.value = float(value)
        times.append(time.perf_counter() - start)
    moved = explorer.updates - before
    return build, float(np.median(times)), float(np.percentile(times, 95)), moved


def main(names: list[str]) -> None:
    warnings.simplefilter("error")  # an explorer must not warn, even at extreme rates
    print(f"{'explorer':<44} {'build s':>8} {'median ms':>10} {'p95 ms':>8} {'updates':>8}")
    for cls in all_explorers():
        label = f"{cls.__module__.rsplit('.', 1)[-1]}.{cls.__name__}"
        if names and not any(n in label for n in names):
            continue
        try:
            build, median, p95, updates = measure(cls)
        except Exception as err:  # report it and go on with the others
            print(f"{label:<44} failed: {type(err).__name__}: {str(err)[:60]}")
            continue
        flag = "" if median <= 0.050 and p95 <= 0.100 else "  <-- over target"
        print(f"{label:<44} {build:8.2f} {1e3 * median:10.1f} {1e3 * p95:8.1f} {updates:8d}{flag}")


if __name__ == "__main__":
    main(sys.argv[1:])
