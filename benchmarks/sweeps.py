"""Time a 200 x 200 (α, β) regime map: one vectorised sweep against a plain Python loop.

The workload: 40,000 heavy-ball runs of 100 steps on a 2-D ill-conditioned quadratic
(κ = 100, rotated by 30°), α log-spaced over [1e-3, 3] and β over [0, 0.99], with the
per-run divergence detection of the sweep. The vectorised time is the median of a few
repeats of ``lrcourse.sweeps.sweep``; the loop runs the same maths one run at a time on a
random subset of the grid and is extrapolated to all 40,000 runs (the output says so).

Run:  python benchmarks/sweeps.py [--repeats 5] [--loop-runs 400]
"""

from __future__ import annotations

import argparse
import math
import statistics
import time

import numpy as np

from lrcourse.problems import Quadratic
from lrcourse.sweeps import sweep
from lrcourse.train import has_diverged

GRID = 200
STEPS = 100


def problem() -> tuple[Quadratic, np.ndarray, np.ndarray]:
    landscape = Quadratic.from_condition(100.0, lam_max=1.0, angle=math.pi / 6)
    lrs = np.geomspace(1e-3, 3.0, GRID)
    momenta = np.linspace(0.0, 0.99, GRID)
    return landscape, lrs, momenta


def vectorised(landscape, lrs, momenta):
    return sweep(landscape, lrs[:, None], STEPS, momentum=momenta[None, :])


def one_run(landscape, lr, beta, x0):
    """The same heavy-ball run and divergence rule as the sweep, for one (α, β)."""
    x, v, best = x0.copy(), np.zeros_like(x0), math.inf
    losses = []
    with np.errstate(all="ignore"):
        for k in range(STEPS + 1):
            loss = float(landscape.loss(x))
            losses.append(loss)
            if has_diverged(loss, best):
                return losses, k
            best = min(best, loss)
            if k == STEPS:
                break
            g = landscape.grad(x)
            v = beta * v + g
            x = x - lr * v
    return losses, -1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5, help="repeats of the vectorised sweep")
    parser.add_argument("--loop-runs", type=int, default=400, help="runs timed in the loop")
    args = parser.parse_args()

    landscape, lrs, momenta = problem()
    n_runs = GRID * GRID
    print(f"{GRID} x {GRID} = {n_runs:,} heavy-ball runs of {STEPS} steps on {landscape!r}")

    vectorised(landscape, lrs, momenta)  # warm-up (allocations, caches)
    times = []
    for _ in range(args.repeats):
        start = time.perf_counter()
        result = vectorised(landscape, lrs, momenta)
        times.append(time.perf_counter() - start)
    t_vec = statistics.median(times)
    print(f"vectorised sweep:  {t_vec * 1e3:8.1f} ms  (median of {args.repeats}; "
          f"min {min(times) * 1e3:.1f}, max {max(times) * 1e3:.1f})")

    rng = np.random.default_rng(0)
    picks = rng.choice(n_runs, size=min(args.loop_runs, n_runs), replace=False)
    x0 = landscape.x0
    mismatches = 0
    start = time.perf_counter()
    for flat in picks:
        i, j = divmod(int(flat), GRID)
        losses, diverged_at = one_run(landscape, lrs[i], momenta[j], x0)
        mismatches += diverged_at != result.diverged_at[i, j]
    t_subset = time.perf_counter() - start
    t_loop = t_subset * n_runs / len(picks)
    print(f"plain Python loop: {t_loop:8.1f} s   (extrapolated from {len(picks)} random runs "
          f"timed at {t_subset:.2f} s)")
    print(f"speed-up:          {t_loop / t_vec:8.0f} x")

    labels, counts = np.unique(result.regime(), return_counts=True)
    summary = ", ".join(f"{name} {count}" for name, count in zip(labels, counts, strict=True))
    print(f"regimes: {summary}")
    print(f"check: the loop's diverged_at disagrees with the sweep's on {mismatches} of "
          f"{len(picks)} runs")


if __name__ == "__main__":
    main()
