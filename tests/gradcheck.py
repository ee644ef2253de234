"""The finite-difference gradient check the tests of lrcourse.nn share."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np


def finite_difference_grads(
    f: Callable[[], float], params: list[np.ndarray], h: float = 1e-6
) -> list[np.ndarray]:
    """∂f/∂p ≈ (f(p + h) - f(p - h)) / 2h, one entry at a time, restoring each entry.

    ``f`` reads the parameters in place (e.g. a network's own arrays), so each entry is
    nudged, evaluated and put back; the result has one array per parameter, shaped like it.
    """
    grads = []
    for p in params:
        g = np.zeros_like(p)
        for i in np.ndindex(p.shape):
            saved = p[i]
            p[i] = saved + h
            up = f()
            p[i] = saved - h
            down = f()
            p[i] = saved
            g[i] = (up - down) / (2 * h)
        grads.append(g)
    return grads
