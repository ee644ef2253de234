"""Time one optimizer step on 10^6 float64 parameters: lrcourse.optimizers vs torch.optim.

Run:  python benchmarks/optimizers.py [--size 1000000] [--repeats 30]

Prints the median (and best) time per step of each method and option, ours beside torch.optim's
default CPU implementation (``foreach=None``: on CPU, the single-tensor loop), with the
ratio ours/torch; first with both libraries at their default thread counts, then both at one
thread (the like-for-like comparison). Without torch installed, only our column is printed.
Figures only: nothing here asserts on time.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time

import numpy as np

from lrcourse import optimizers as lro

try:
    import torch
except ImportError:  # the benchmark still times our side
    torch = None

# (label, our class, torch class name, hyperparameters)
CASES = [
    ("SGD", lro.SGD, "SGD", {"lr": 1e-3}),
    ("SGD momentum", lro.SGD, "SGD", {"lr": 1e-3, "momentum": 0.9}),
    ("SGD nesterov + wd", lro.SGD, "SGD",
     {"lr": 1e-3, "momentum": 0.9, "nesterov": True, "weight_decay": 1e-4}),
    ("Adagrad", lro.Adagrad, "Adagrad", {"lr": 1e-2}),
    ("RMSprop", lro.RMSprop, "RMSprop", {"lr": 1e-2}),
    ("RMSprop centered + mom.", lro.RMSprop, "RMSprop",
     {"lr": 1e-2, "centered": True, "momentum": 0.9}),
    ("Adadelta", lro.Adadelta, "Adadelta", {"lr": 1.0}),
    ("Adam", lro.Adam, "Adam", {"lr": 1e-3}),
    ("Adam amsgrad", lro.Adam, "Adam", {"lr": 1e-3, "amsgrad": True}),
    ("AdamW", lro.AdamW, "AdamW", {"lr": 1e-3}),
    ("NAdam", lro.NAdam, "NAdam", {"lr": 2e-3}),
]
SINGLE_THREAD_CASES = ("SGD momentum", "Adam")
TARGET_CASES, TARGET = ("SGD momentum", "Adam"), 1.5  # the library issue's target, at defaults


def our_step(cls, hyper: dict, size: int):
    """A closure doing one step of our optimizer on ``size`` parameters."""
    rng = np.random.default_rng(0)
    param = rng.standard_normal(size)
    grads = [1e-3 * rng.standard_normal(size)]
    optimizer = cls([param], **hyper)
    return lambda: optimizer.step(grads)


def torch_step(name: str, hyper: dict, size: int):
    """A closure doing one step of torch.optim's default CPU implementation (foreach=None)."""
    generator = torch.Generator().manual_seed(0)
    param = torch.randn(size, dtype=torch.float64, generator=generator, requires_grad=True)
    param.grad = 1e-3 * torch.randn(size, dtype=torch.float64, generator=generator)
    return getattr(torch.optim, name)([param], **hyper).step


def time_ms(steps, repeats: int, warmup: int = 3, round_size: int = 5):
    """(median, best) time per call of each closure, in ms.

    The closures take turns in rounds of ``round_size`` timed calls (ours x5, torch x5,
    ours x5...) so that a load change on a shared machine affects both columns alike. Each
    turn starts with ``warmup`` untimed calls: they absorb the hand-over (torch's OpenMP
    threads keep spinning for a moment after its steps, and idle threads take a while to
    wake), so the timed calls run back to back, as steps do in a training loop. The best
    time is the least disturbed by other processes.
    """
    times: list[list[float]] = [[] for _ in steps]
    for _ in range(-(-repeats // round_size)):
        for step, record in zip(steps, times, strict=True):
            for _ in range(warmup):
                step()
            for _ in range(round_size):
                start = time.perf_counter()
                step()
                record.append(time.perf_counter() - start)
    return [(1e3 * statistics.median(record), 1e3 * min(record)) for record in times]


def measure(cases, size: int, repeats: int):
    rows = []
    for label, cls, torch_name, hyper in cases:
        steps = [our_step(cls, hyper, size)]
        if torch is not None:
            steps.append(torch_step(torch_name, hyper, size))
        times = time_ms(steps, repeats)
        rows.append((label, times[0], times[1] if torch is not None else None))
    return rows


def _table(rows, title: str) -> None:
    print(f"\n{title}")
    header = (f"{'optimizer':<26}{'ours (ms)':>11}{'torch (ms)':>12}{'ours/torch':>12}"
              f"{'best: ours':>13}{'torch':>8}{'ratio':>8}")
    print(header)
    print("-" * len(header))
    for label, ours, theirs in rows:
        if theirs is None:
            print(f"{label:<26}{ours[0]:>11.2f}{'-':>12}{'-':>12}{ours[1]:>13.2f}")
            continue
        print(f"{label:<26}{ours[0]:>11.2f}{theirs[0]:>12.2f}{ours[0] / theirs[0]:>11.2f}x"
              f"{ours[1]:>13.2f}{theirs[1]:>8.2f}{ours[1] / theirs[1]:>7.2f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=10**6, help="number of float64 parameters")
    parser.add_argument("--repeats", type=int, default=30, help="timed steps (median reported)")
    args = parser.parse_args()

    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    print(f"{args.size:,} float64 parameters, median of {args.repeats} steps")
    print(f"python {platform.python_version()}, numpy {np.__version__}, {cpus} CPU(s)")
    print(f"lrcourse.optimizers threads: {lro.get_num_threads()}")
    if torch is None:
        print("torch: not installed (our times only)")
    else:
        from torch.optim.optimizer import _default_to_fused_or_foreach

        _, foreach = _default_to_fused_or_foreach([torch.zeros(1)], differentiable=False)
        kind = "foreach (multi-tensor)" if foreach else "single-tensor (_single_tensor_*)"
        print(f"torch {torch.__version__}, threads: {torch.get_num_threads()}, "
              f"default CPU implementation (foreach=None): {kind}")

    rows = measure(CASES, args.size, args.repeats)
    _table(rows, "Default threads (both libraries)")
    if torch is not None:
        print()
        for label, ours, theirs in rows:
            if label in TARGET_CASES:
                ratio = ours[0] / theirs[0]
                verdict = "met" if ratio <= TARGET else "NOT met"
                print(f"target {label}: median ours/torch {ratio:.2f}x <= {TARGET}x -> {verdict}")

    our_threads = lro.get_num_threads()
    torch_threads = None if torch is None else torch.get_num_threads()
    lro.set_num_threads(1)
    if torch is not None:
        torch.set_num_threads(1)
    try:
        cases = [case for case in CASES if case[0] in SINGLE_THREAD_CASES]
        _table(measure(cases, args.size, args.repeats), "One thread each (like for like)")
    finally:
        lro.set_num_threads(our_threads)
        if torch is not None:
            torch.set_num_threads(torch_threads)


if __name__ == "__main__":
    main()
