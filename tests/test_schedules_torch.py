"""Every schedule equals torch.optim.lr_scheduler, step by step, in float64.

For each schedule, seeded random hyperparameters drive a real torch optimizer
for 100+ updates; the rate torch uses for update t (``get_last_lr()`` after t
calls of ``scheduler.step()``) must equal ``sched(t)`` to 1e-12 relative. For
cyclical and one-cycle policies, the momentum torch writes into the optimizer
(SGD's ``momentum``, Adam's ``beta1``) must equal ``sched.momentum(t)``.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

torch = pytest.importorskip("torch")
from torch.optim import lr_scheduler as tls  # noqa: E402

from lrcourse import schedules as S  # noqa: E402

SEEDS = range(8)
RTOL = 1e-12


@pytest.fixture(autouse=True)
def float64_torch():
    previous = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    yield
    torch.set_default_dtype(previous)


def run_torch(make_scheduler, lr, steps, optimizer="sgd"):
    """Rates and momenta torch uses for updates 0..steps (the last one after the final step)."""
    param = torch.nn.Parameter(torch.zeros(3))
    if optimizer == "sgd":
        opt = torch.optim.SGD([param], lr=lr, momentum=0.5)
    else:
        opt = torch.optim.Adam([param], lr=lr)
    scheduler = make_scheduler(opt)
    lrs, momenta = [], []
    for t in range(steps + 1):
        group = opt.param_groups[0]
        assert scheduler.get_last_lr()[0] == group["lr"]
        lrs.append(group["lr"])
        momenta.append(group["momentum"] if optimizer == "sgd" else group["betas"][0])
        if t < steps:
            param.grad = torch.ones_like(param)
            opt.step()
            scheduler.step()
    return np.array(lrs), np.array(momenta)


def assert_same_rates(ours, theirs, scale, rtol=RTOL):
    """Equal to ``rtol`` relative; values that torch rounds to ~0 are compared absolutely."""
    np.testing.assert_allclose(ours, theirs, rtol=rtol, atol=1e-15 * scale)


def log_uniform(rng, low, high):
    return float(10 ** rng.uniform(math.log10(low), math.log10(high)))


# ---------------------------------------------------------------------------
# Simple decays
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("seed", SEEDS)
def test_constant_equals_an_unscheduled_torch_optimizer(seed):
    rng = np.random.default_rng(seed)
    lr = log_uniform(rng, 1e-4, 1.0)
    theirs, _ = run_torch(lambda opt: tls.LambdaLR(opt, lambda t: 1.0), lr, 120)
    np.testing.assert_array_equal(S.constant(lr)(np.arange(121)), theirs)


@pytest.mark.parametrize("seed", SEEDS)
def test_constant_factor_equals_torch_constant_lr(seed):
    rng = np.random.default_rng(seed)
    lr, factor, total = (
        log_uniform(rng, 1e-4, 1.0),
        rng.uniform(0.05, 1.0),
        int(rng.integers(1, 80)),
    )
    theirs, _ = run_torch(lambda opt: tls.ConstantLR(opt, factor, total), lr, 120)
    assert_same_rates(S.constant_factor(lr, factor, total)(np.arange(121)), theirs, lr)


@pytest.mark.parametrize("seed", SEEDS)
def test_step_decay_equals_torch_step_lr(seed):
    rng = np.random.default_rng(seed)
    lr, step_size, gamma = (
        log_uniform(rng, 1e-4, 1.0),
        int(rng.integers(1, 40)),
        rng.uniform(0.2, 1.1),
    )
    theirs, _ = run_torch(lambda opt: tls.StepLR(opt, step_size, gamma), lr, 150)
    assert_same_rates(S.step_decay(lr, step_size, gamma)(np.arange(151)), theirs, lr)


@pytest.mark.parametrize("seed", SEEDS)
def test_multistep_decay_equals_torch_multistep_lr(seed):
    rng = np.random.default_rng(seed)
    lr, gamma = log_uniform(rng, 1e-4, 1.0), rng.uniform(0.1, 0.9)
    milestones = sorted(int(m) for m in rng.choice(150, size=rng.integers(0, 6), replace=False))
    theirs, _ = run_torch(lambda opt: tls.MultiStepLR(opt, milestones, gamma), lr, 150)
    assert_same_rates(S.multistep_decay(lr, milestones, gamma)(np.arange(151)), theirs, lr)


@pytest.mark.parametrize("seed", SEEDS)
def test_exponential_decay_equals_torch_exponential_lr(seed):
    rng = np.random.default_rng(seed)
    lr, gamma = log_uniform(rng, 1e-4, 1.0), rng.uniform(0.9, 1.02)
    theirs, _ = run_torch(lambda opt: tls.ExponentialLR(opt, gamma), lr, 200)
    assert_same_rates(S.exponential_decay(lr, gamma)(np.arange(201)), theirs, lr)


@pytest.mark.parametrize("seed", SEEDS)
def test_inverse_time_decay_equals_torch_lambda_lr(seed):
    rng = np.random.default_rng(seed)
    lr, k = log_uniform(rng, 1e-4, 1.0), log_uniform(rng, 1e-3, 1.0)
    theirs, _ = run_torch(lambda opt: tls.LambdaLR(opt, lambda t: 1 / (1 + k * t)), lr, 150)
    assert_same_rates(S.inverse_time_decay(lr, k)(np.arange(151)), theirs, lr)


@pytest.mark.parametrize("seed", SEEDS)
def test_polynomial_decay_equals_torch_polynomial_lr(seed):
    rng = np.random.default_rng(seed)
    lr, total, power = log_uniform(rng, 1e-4, 1.0), int(rng.integers(1, 200)), rng.uniform(0, 3)
    theirs, _ = run_torch(lambda opt: tls.PolynomialLR(opt, total, power), lr, 200)
    assert_same_rates(S.polynomial_decay(lr, total, power)(np.arange(201)), theirs, lr)


@pytest.mark.parametrize("seed", SEEDS)
def test_linear_warmup_equals_torch_linear_lr(seed):
    rng = np.random.default_rng(seed)
    lr, start, end = log_uniform(rng, 1e-4, 1.0), rng.uniform(0.01, 1.0), rng.uniform(0.0, 1.0)
    total = int(rng.integers(1, 120))
    theirs, _ = run_torch(lambda opt: tls.LinearLR(opt, start, end, total), lr, 150)
    assert_same_rates(S.linear_warmup(lr, start, end, total)(np.arange(151)), theirs, lr)


# ---------------------------------------------------------------------------
# Cosine schedules
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("seed", SEEDS)
def test_cosine_annealing_equals_torch_including_the_rise_after_t_max(seed):
    rng = np.random.default_rng(seed)
    lr, T_max = log_uniform(rng, 1e-4, 1.0), int(rng.integers(1, 100))
    eta_min = 0.0 if seed % 2 else lr * rng.uniform(0, 0.5)
    steps = max(150, 5 * T_max)  # two and a half periods: falls, rises, falls
    theirs, _ = run_torch(lambda opt: tls.CosineAnnealingLR(opt, T_max, eta_min), lr, steps)
    assert_same_rates(S.cosine_annealing(lr, T_max, eta_min)(np.arange(steps + 1)), theirs, lr)


def test_cosine_rising_branch_matches_torch_where_the_textbook_form_does_not():
    # T_max = 373: torch's 1 + cos(pi (T_max + 1) / T_max) is off by 3e-12 relative,
    # and its recursion carries that error over the whole rising branch.
    lr, T_max = 0.1, 373
    steps = 5 * T_max
    theirs, _ = run_torch(lambda opt: tls.CosineAnnealingLR(opt, T_max), lr, steps)
    t = np.arange(steps + 1)
    textbook = lr * (1 + np.cos(np.pi * t / T_max)) / 2
    assert np.max(np.abs(textbook - theirs)) > 1e-12 * lr
    assert np.max(np.abs(S.cosine_annealing(lr, T_max)(t) - theirs)) < 1e-14 * lr


@pytest.mark.parametrize(
    ("T_max", "eta_ratio", "bound"),
    [(1000, 0.0, 1e-13), (100, 0.5, 1e-12), (1000, 0.5, 1e-10)],
)
def test_cosine_annealing_distance_to_torch_is_within_the_documented_bound(T_max, eta_ratio, bound):
    # With eta_min > 0 torch amplifies the rounding of eta_min at each restart of its
    # recursion (~5e-17 T_max^2 eta_min / lr); before T_max the two agree to ~1e-14.
    lr = 0.1
    eta_min = eta_ratio * lr
    steps = 3 * T_max
    theirs, _ = run_torch(lambda opt: tls.CosineAnnealingLR(opt, T_max, eta_min), lr, steps)
    ours = S.cosine_annealing(lr, T_max, eta_min)(np.arange(steps + 1))
    assert np.max(np.abs(ours - theirs)[: T_max + 1]) < 1e-13 * lr
    assert np.max(np.abs(ours - theirs)) < bound * lr


@pytest.mark.parametrize("seed", SEEDS)
def test_cosine_annealing_clamped_equals_torch_until_t_max_then_holds_eta_min(seed):
    rng = np.random.default_rng(seed)
    lr, T_max = log_uniform(rng, 1e-4, 1.0), int(rng.integers(1, 100))
    eta_min = 0.0 if seed % 2 else lr * rng.uniform(0, 0.5)
    theirs, _ = run_torch(lambda opt: tls.CosineAnnealingLR(opt, T_max, eta_min), lr, 150)
    ours = S.cosine_annealing_clamped(lr, T_max, eta_min)(np.arange(151))
    assert_same_rates(ours[: T_max + 1], theirs[: T_max + 1], lr)
    np.testing.assert_array_equal(ours[T_max:], eta_min)


@pytest.mark.parametrize("seed", SEEDS)
def test_cosine_warm_restarts_equals_torch_including_growing_cycles(seed):
    rng = np.random.default_rng(seed)
    lr, T_0, T_mult = log_uniform(rng, 1e-4, 1.0), int(rng.integers(1, 20)), int(rng.integers(1, 4))
    eta_min = 0.0 if seed % 2 else lr * rng.uniform(0, 0.5)
    make = lambda opt: tls.CosineAnnealingWarmRestarts(opt, T_0, T_mult, eta_min)  # noqa: E731
    theirs, _ = run_torch(make, lr, 300)
    assert_same_rates(S.cosine_warm_restarts(lr, T_0, T_mult, eta_min)(np.arange(301)), theirs, lr)


# ---------------------------------------------------------------------------
# Cyclical and one-cycle, with their momentum
# ---------------------------------------------------------------------------


def random_cyclical(rng, mode, custom):
    base_lr = log_uniform(rng, 1e-4, 1e-2)
    kwargs = {
        "base_lr": base_lr,
        "max_lr": base_lr * rng.uniform(1.0, 100.0),
        "step_size_up": int(rng.integers(1, 30)),
        "step_size_down": None if rng.random() < 0.3 else int(rng.integers(1, 30)),
        "mode": mode,
        "gamma": rng.uniform(0.95, 1.0),
        "base_momentum": rng.uniform(0.5, 0.85),
        "max_momentum": rng.uniform(0.85, 0.99),
    }
    if custom == "cycle":
        kwargs.update(scale_fn=lambda x: 0.7**x, scale_mode="cycle")
    elif custom == "iterations":
        kwargs.update(scale_fn=lambda x: 1 / (1 + 0.01 * x), scale_mode="iterations")
    return kwargs


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
@pytest.mark.parametrize(
    ("mode", "custom"),
    [
        ("triangular", None),
        ("triangular2", None),
        ("exp_range", None),
        ("triangular", "cycle"),
        ("exp_range", "iterations"),
    ],
)
def test_cyclical_rates_and_momentum_equal_torch_cyclic_lr(seed, optimizer, mode, custom):
    rng = np.random.default_rng(seed)
    kwargs = random_cyclical(rng, mode, custom)
    make = lambda opt: tls.CyclicLR(opt, cycle_momentum=True, **kwargs)  # noqa: E731
    theirs_lr, theirs_momentum = run_torch(make, kwargs["base_lr"], 200, optimizer)
    sched = S.cyclical(**kwargs)
    t = np.arange(201)
    assert_same_rates(sched(t), theirs_lr, kwargs["max_lr"])
    assert_same_rates(sched.momentum(t), theirs_momentum, 1.0)


def random_one_cycle(rng, three_phase, anneal_strategy):
    total_steps = int(rng.integers(20, 250))
    low = 1.5 / total_steps  # the warm-up lasts at least one step
    return {
        "max_lr": log_uniform(rng, 1e-3, 1.0),
        "total_steps": total_steps,
        "pct_start": float(rng.uniform(low, 0.5 if three_phase else 0.95)),
        "anneal_strategy": anneal_strategy,
        "div_factor": rng.uniform(2.0, 50.0),
        "final_div_factor": log_uniform(rng, 1.0, 1e5),
        "three_phase": three_phase,
        "base_momentum": rng.uniform(0.5, 0.9),
        "max_momentum": rng.uniform(0.9, 0.99),
    }


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
@pytest.mark.parametrize("three_phase", [False, True])
@pytest.mark.parametrize("anneal_strategy", ["cos", "linear"])
def test_one_cycle_rates_and_momentum_equal_torch_one_cycle_lr(
    seed, optimizer, three_phase, anneal_strategy
):
    rng = np.random.default_rng(seed)
    kwargs = random_one_cycle(rng, three_phase, anneal_strategy)
    make = lambda opt: tls.OneCycleLR(opt, cycle_momentum=True, **kwargs)  # noqa: E731
    steps = kwargs["total_steps"]  # t = total_steps is the value after the very last step
    theirs_lr, theirs_momentum = run_torch(make, 1.0, steps, optimizer)
    sched = S.one_cycle(**kwargs)
    t = np.arange(steps + 1)
    assert_same_rates(sched(t), theirs_lr, kwargs["max_lr"])
    assert_same_rates(sched.momentum(t), theirs_momentum, 1.0)


def test_one_cycle_with_default_arguments_equals_torch_to_the_last_bit():
    theirs, theirs_momentum = run_torch(
        lambda opt: tls.OneCycleLR(opt, 0.1, total_steps=100), 1.0, 100
    )
    sched = S.one_cycle(0.1, total_steps=100)
    np.testing.assert_array_equal(sched(np.arange(101)), theirs)
    np.testing.assert_array_equal(sched.momentum(np.arange(101)), theirs_momentum)


def test_one_cycle_raises_like_torch_after_total_steps():
    param = torch.nn.Parameter(torch.zeros(1))
    opt = torch.optim.SGD([param], lr=1.0, momentum=0.9)
    scheduler = tls.OneCycleLR(opt, 0.1, total_steps=10)
    for _ in range(10):
        opt.step()
        scheduler.step()
    opt.step()
    with pytest.raises(ValueError):
        scheduler.step()
    sched = S.one_cycle(0.1, total_steps=10)
    assert sched(10) == scheduler.get_last_lr()[0]
    with pytest.raises(ValueError, match="total_steps=10"):
        sched(11)


# ---------------------------------------------------------------------------
# Transformer schedule and composition
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("seed", SEEDS)
def test_inverse_sqrt_equals_torch_lambda_lr_with_the_noam_factor(seed):
    rng = np.random.default_rng(seed)
    peak, W = log_uniform(rng, 1e-4, 1e-2), int(rng.integers(1, 60))
    factor = lambda t: min((t + 1) / W, math.sqrt(W / (t + 1)))  # noqa: E731
    theirs, _ = run_torch(lambda opt: tls.LambdaLR(opt, factor), peak, 200)
    assert_same_rates(S.inverse_sqrt(peak, W)(np.arange(201)), theirs, peak)


@pytest.mark.parametrize("seed", SEEDS)
def test_warmup_then_cosine_equals_torch_lambda_lr_and_sequential_lr(seed):
    rng = np.random.default_rng(seed)
    lr, W, T_max = log_uniform(rng, 1e-4, 1.0), int(rng.integers(1, 40)), int(rng.integers(1, 80))
    start = float(rng.uniform(0.01, 1.0))
    ours = S.warmup(S.cosine_annealing(lr, T_max), W, start)(np.arange(151))

    def factor(t):
        if t < W:
            return start + (1 - start) * t / W
        return (1 + math.cos(math.pi * (t - W) / T_max)) / 2

    via_lambda, _ = run_torch(lambda opt: tls.LambdaLR(opt, factor), lr, 150)
    assert_same_rates(ours, via_lambda, lr)

    def sequential(opt):
        stages = [tls.LinearLR(opt, start, 1.0, W), tls.CosineAnnealingLR(opt, T_max)]
        return tls.SequentialLR(opt, stages, milestones=[W])

    via_sequential, _ = run_torch(sequential, lr, 150)
    assert_same_rates(ours, via_sequential, lr)


@pytest.mark.parametrize("seed", SEEDS)
def test_join_equals_torch_sequential_lr_with_each_stage_on_its_local_step(seed):
    rng = np.random.default_rng(seed)
    lr = log_uniform(rng, 1e-4, 1.0)
    T_max, gamma, step_size = (
        int(rng.integers(5, 60)),
        rng.uniform(0.9, 0.99),
        int(rng.integers(1, 20)),
    )
    factor, T_0 = rng.uniform(0.1, 0.9), int(rng.integers(2, 10))
    ours_and_torch = [
        (S.linear_warmup(lr, 0.1, 1.0, 10), lambda opt: tls.LinearLR(opt, 0.1, 1.0, 10)),
        (S.cosine_annealing(lr, T_max), lambda opt: tls.CosineAnnealingLR(opt, T_max)),
        (S.exponential_decay(lr, gamma), lambda opt: tls.ExponentialLR(opt, gamma)),
        (S.step_decay(lr, step_size, 0.5), lambda opt: tls.StepLR(opt, step_size, 0.5)),
        (S.constant_factor(lr, factor, 7), lambda opt: tls.ConstantLR(opt, factor, 7)),
        (
            S.cosine_warm_restarts(lr, T_0, 2),
            lambda opt: tls.CosineAnnealingWarmRestarts(opt, T_0, 2),
        ),
        (S.polynomial_decay(lr, 30, 2.0), lambda opt: tls.PolynomialLR(opt, 30, 2.0)),
    ]
    picks = rng.choice(len(ours_and_torch), size=int(rng.integers(2, 5)), replace=False)
    boundaries = sorted(
        int(b) for b in rng.choice(np.arange(1, 150), size=len(picks) - 1, replace=False)
    )
    ours = S.join([ours_and_torch[i][0] for i in picks], boundaries)

    def sequential(opt):
        stages = [ours_and_torch[i][1](opt) for i in picks]
        return tls.SequentialLR(opt, stages, milestones=boundaries)

    theirs, _ = run_torch(sequential, lr, 200)
    assert_same_rates(ours(np.arange(201)), theirs, lr)


# ---------------------------------------------------------------------------
# ReduceLROnPlateau
# ---------------------------------------------------------------------------


def plateau_metrics(rng, n, mode):
    """A noisy curve that improves, stalls for a while, improves again."""
    trend = np.concatenate(
        [
            np.linspace(1.0, 0.5, n // 3),
            np.full(n // 3, 0.5),
            np.linspace(0.5, 0.2, n - 2 * (n // 3)),
        ]
    )
    metrics = trend + rng.normal(0, 0.02, n)
    return metrics if mode == "min" else 1 - metrics


@pytest.mark.parametrize("seed", range(16))
def test_reduce_lr_on_plateau_equals_torch_on_random_metric_sequences(seed):
    rng = np.random.default_rng(seed)
    kwargs = {
        "mode": ["min", "max"][seed % 2],
        "factor": float(rng.uniform(0.1, 0.9)),
        "patience": int(rng.integers(0, 8)),
        "threshold": float(rng.choice([0.0, 1e-4, 1e-2, 0.05])),
        "threshold_mode": ["rel", "abs"][(seed // 2) % 2],
        "cooldown": int(rng.integers(0, 5)),
        "min_lr": float(rng.choice([0.0, 1e-3, 2e-2])),
        "eps": float(rng.choice([1e-8, 1e-3])),
    }
    lr = 0.1
    metrics = plateau_metrics(rng, 150, kwargs["mode"])
    param = torch.nn.Parameter(torch.zeros(1))
    opt = torch.optim.SGD([param], lr=lr)
    theirs = tls.ReduceLROnPlateau(opt, **kwargs)
    ours = S.ReduceLROnPlateau(lr, **kwargs)
    torch_lrs, our_lrs = [], []
    for metric in metrics:
        opt.step()
        theirs.step(float(metric))
        torch_lrs.append(opt.param_groups[0]["lr"])
        our_lrs.append(ours.step(metric))
        assert ours.num_bad_epochs == theirs.num_bad_epochs
        assert ours.cooldown_counter == theirs.cooldown_counter
    np.testing.assert_array_equal(our_lrs, torch_lrs)
    cut_epochs = [i for i in range(1, 150) if torch_lrs[i] != torch_lrs[i - 1]]
    cut_epochs = ([0] if torch_lrs[0] != lr else []) + cut_epochs
    assert [cut.epoch for cut in ours.history] == cut_epochs
