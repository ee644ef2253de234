"""Schedules: closed forms at chosen steps, properties, validation (no torch needed).

The cross-check against torch.optim.lr_scheduler lives in test_schedules_torch.py.
"""

from __future__ import annotations

import doctest
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lrcourse import schedules as S
from lrcourse.schedules import ReduceLROnPlateau

ULP = np.finfo(float).eps


def values(sched, steps):
    return sched(np.asarray(steps))


# ---------------------------------------------------------------------------
# The Schedule object: scalars, arrays, repr
# ---------------------------------------------------------------------------

CATALOGUE = [
    S.constant(0.1),
    S.constant_factor(0.1, 0.25, 7),
    S.step_decay(0.1, 7, 0.5),
    S.multistep_decay(0.1, [3, 10, 11], 0.3),
    S.exponential_decay(0.1, 0.97),
    S.inverse_time_decay(0.1, 0.2),
    S.polynomial_decay(0.1, 20, 1.5),
    S.linear_warmup(0.1, 0.2, 0.9, 9),
    S.cosine_annealing(0.1, 9, 0.01),
    S.cosine_annealing_clamped(0.1, 9, 0.01),
    S.cosine_warm_restarts(0.1, 3, 2, 0.01),
    S.cyclical(0.01, 0.1, 4, 6, "triangular2"),
    S.cyclical(0.01, 0.1, 4, mode="exp_range", gamma=0.99),
    S.cyclical(0.01, 0.1, 4, 6, "triangular").momentum,
    S.one_cycle(0.1, 40, three_phase=True),
    S.one_cycle(0.1, 40, anneal_strategy="linear").momentum,
    S.inverse_sqrt(0.1, 8),
    S.warmup(S.cosine_annealing(0.1, 20), 5, 0.1),
    S.join([S.constant(0.1), S.exponential_decay(0.1, 0.9), S.constant(0.01)], [5, 15]),
]
CATALOGUE_IDS = [repr(s).split("(")[0] + str(i) for i, s in enumerate(CATALOGUE)]


@pytest.mark.parametrize("sched", CATALOGUE, ids=CATALOGUE_IDS)
def test_array_of_steps_gives_the_elementwise_values(sched):
    t = np.arange(40)
    elementwise = [sched(int(k)) for k in t]
    np.testing.assert_array_equal(sched(t), elementwise)
    np.testing.assert_array_equal(sched(list(t)), elementwise)


@pytest.mark.parametrize("sched", CATALOGUE, ids=CATALOGUE_IDS)
def test_scalar_step_gives_a_python_float_and_arrays_keep_their_shape(sched):
    assert type(sched(3)) is float
    assert type(sched(np.int64(3))) is float
    grid = np.arange(12).reshape(3, 4)
    out = sched(grid)
    assert isinstance(out, np.ndarray) and out.shape == (3, 4)
    np.testing.assert_array_equal(out.ravel(), sched(grid.ravel()))
    assert sched(np.array([], dtype=int)).shape == (0,)


def test_fractional_steps_interpolate_smooth_schedules():
    sched = S.cosine_annealing(1.0, T_max=2)
    assert sched(1.0) == pytest.approx(0.5)
    assert sched(0.5) == pytest.approx((1 + math.cos(math.pi / 4)) / 2)


def test_repr_is_the_call_that_rebuilds_the_schedule():
    sched = S.cosine_annealing(lr=0.1, T_max=100, eta_min=0.0)
    assert repr(sched) == "cosine_annealing(lr=0.1, T_max=100, eta_min=0.0)"
    namespace = vars(S)
    for original in CATALOGUE:
        if ".momentum" in repr(original):
            continue
        rebuilt = eval(repr(original), namespace)
        assert repr(rebuilt) == repr(original)
        np.testing.assert_array_equal(rebuilt(np.arange(30)), original(np.arange(30)))


def test_momentum_schedules_say_whose_momentum_they_are():
    sched = S.one_cycle(0.1, 40)
    assert repr(sched.momentum) == repr(sched) + ".momentum"
    assert S.constant(0.1).momentum is None


def test_schedule_wraps_a_users_vectorised_function():
    halving = S.Schedule(lambda t: 2.0**-t, "halving", {})
    assert repr(halving) == "halving()"
    np.testing.assert_array_equal(halving([0, 1, 2]), [1.0, 0.5, 0.25])


def test_docstring_examples_print_what_they_show():
    result = doctest.testmod(S, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted >= 25
    assert result.failed == 0


# ---------------------------------------------------------------------------
# Closed forms, step by step
# ---------------------------------------------------------------------------


def test_constant_is_the_same_at_every_step():
    np.testing.assert_array_equal(values(S.constant(0.3), [0, 1, 10**9]), 0.3)


def test_constant_factor_is_reduced_before_total_iters_and_full_from_it_on():
    sched = S.constant_factor(0.4, factor=0.25, total_iters=3)
    np.testing.assert_array_equal(values(sched, [0, 1, 2]), 0.1)
    np.testing.assert_array_equal(values(sched, [3, 4, 100]), 0.4)


def test_step_decay_decays_at_the_multiple_of_step_size_itself():
    sched = S.step_decay(1.0, step_size=3, gamma=0.5)
    np.testing.assert_array_equal(
        values(sched, range(10)), [1, 1, 1, 0.5, 0.5, 0.5, 0.25, 0.25, 0.25, 0.125]
    )


def test_multistep_decay_uses_the_reduced_rate_on_the_milestone_step():
    sched = S.multistep_decay(2.0, milestones=[3, 5], gamma=0.5)
    np.testing.assert_array_equal(values(sched, range(7)), [2, 2, 2, 1, 1, 0.5, 0.5])


def test_multistep_decay_at_milestone_zero_decays_the_first_update():
    assert S.multistep_decay(1.0, [0], 0.1)(0) == 0.1
    assert S.multistep_decay(1.0, [], 0.1)(1000) == 1.0


def test_exponential_decay_multiplies_by_gamma_each_step():
    sched = S.exponential_decay(0.8, gamma=0.9)
    v = values(sched, range(50))
    assert v[0] == 0.8
    np.testing.assert_allclose(v[1:] / v[:-1], 0.9, rtol=1e-14)


def test_inverse_time_decay_halves_the_rate_at_one_over_k():
    sched = S.inverse_time_decay(0.6, k=0.25)
    assert sched(0) == 0.6
    assert sched(4) == pytest.approx(0.3, rel=1e-15)
    t = np.arange(100)
    np.testing.assert_allclose(values(sched, t) * (1 + 0.25 * t), 0.6, rtol=1e-15)


def test_polynomial_decay_follows_the_power_and_stays_at_zero():
    sched = S.polynomial_decay(1.0, total_iters=4, power=2.0)
    np.testing.assert_allclose(
        values(sched, range(7)), [1, 9 / 16, 1 / 4, 1 / 16, 0, 0, 0], rtol=1e-15
    )
    line = S.polynomial_decay(1.0, total_iters=10, power=1.0)
    np.testing.assert_allclose(np.diff(values(line, range(11))), -0.1, rtol=1e-13)


def test_linear_warmup_runs_from_start_factor_to_end_factor_and_holds():
    sched = S.linear_warmup(0.2, start_factor=0.25, end_factor=1.0, total_iters=4)
    np.testing.assert_allclose(
        values(sched, range(7)), [0.05, 0.0875, 0.125, 0.1625, 0.2, 0.2, 0.2], rtol=1e-15
    )
    decay = S.linear_warmup(1.0, start_factor=1.0, end_factor=0.0, total_iters=2)
    np.testing.assert_array_equal(values(decay, range(4)), [1.0, 0.5, 0.0, 0.0])


def test_cosine_annealing_reaches_eta_min_at_t_max_and_lr_again_at_twice_t_max():
    lr, eta, T = 0.3, 0.1, 10
    sched = S.cosine_annealing(lr, T_max=T, eta_min=eta)
    assert sched(0) == lr
    assert sched(T // 2) == pytest.approx((lr + eta) / 2, rel=1e-14)
    assert sched(T) == eta
    assert sched(3 * T // 2) == pytest.approx((lr + eta) / 2, rel=1e-14)
    assert sched(2 * T) == pytest.approx(lr, rel=1e-14)
    assert sched(3 * T) == pytest.approx(eta, rel=1e-14)


def test_cosine_annealing_rise_after_t_max_mirrors_the_descent():
    sched = S.cosine_annealing(1.0, T_max=7, eta_min=0.2)
    k = np.arange(1, 8)
    np.testing.assert_allclose(values(sched, 7 + k), values(sched, 7 - k), rtol=1e-14)
    np.testing.assert_allclose(
        values(sched, np.arange(60) + 14), values(sched, np.arange(60)), rtol=1e-13
    )


def test_cosine_annealing_rising_branch_is_the_textbook_cosine_up_to_rounding():
    t = np.arange(2000)
    sched = S.cosine_annealing(0.1, T_max=373)
    textbook = 0.1 * (1 + np.cos(np.pi * t / 373)) / 2
    np.testing.assert_allclose(sched(t), textbook, rtol=0, atol=1e-10 * 0.1)


def test_cosine_annealing_clamped_equals_cosine_until_t_max_then_stays_at_eta_min():
    plain = S.cosine_annealing(0.5, T_max=12, eta_min=0.05)
    clamped = S.cosine_annealing_clamped(0.5, T_max=12, eta_min=0.05)
    np.testing.assert_array_equal(values(clamped, range(13)), values(plain, range(13)))
    np.testing.assert_array_equal(values(clamped, range(12, 100)), 0.05)
    assert plain(24) > 0.49  # the torch schedule climbs back; the clamped one does not


def test_cosine_warm_restarts_restart_at_the_partial_sums_of_a_geometric_series():
    lr, eta, T_0 = 1.0, 0.1, 3
    sched = S.cosine_warm_restarts(lr, T_0=T_0, T_mult=2, eta_min=eta)
    restarts = [0, 3, 9, 21, 45, 93]  # 3 (1 + 2 + ... + 2^(i-1))
    np.testing.assert_array_equal(values(sched, restarts), lr)
    for start, end in zip(restarts, restarts[1:], strict=False):
        T_i = end - start
        assert T_i == 3 * 2 ** restarts.index(start)
        last = eta + (lr - eta) * (1 + math.cos(math.pi * (T_i - 1) / T_i)) / 2
        assert sched(end - 1) == pytest.approx(last, rel=1e-14)
    assert sched(9 + 6) == pytest.approx(eta + (lr - eta) / 2, rel=1e-14)  # half-way in T_2 = 12
    assert np.count_nonzero(values(sched, range(94)) == lr) == len(restarts)


def test_cosine_warm_restarts_with_t_mult_one_is_periodic():
    sched = S.cosine_warm_restarts(0.5, T_0=5)
    np.testing.assert_array_equal(values(sched, np.arange(50) + 5), values(sched, np.arange(50)))
    assert sched(4) == pytest.approx(0.5 * (1 + math.cos(math.pi * 4 / 5)) / 2)


def test_cyclical_triangular_has_peaks_and_troughs_at_the_step_sizes():
    sched = S.cyclical(0.1, 0.5, step_size_up=4, step_size_down=2)
    v = values(sched, range(19))
    np.testing.assert_array_equal(v[[0, 6, 12, 18]], 0.1)
    np.testing.assert_allclose(v[[4, 10, 16]], 0.5, rtol=1e-15)
    np.testing.assert_allclose(v[:5], [0.1, 0.2, 0.3, 0.4, 0.5], rtol=1e-14)
    np.testing.assert_allclose(v[4:7], [0.5, 0.3, 0.1], rtol=1e-14)


def test_cyclical_momentum_runs_opposite_to_the_rate():
    sched = S.cyclical(
        0.1, 0.5, step_size_up=4, step_size_down=2, base_momentum=0.8, max_momentum=0.9
    )
    t = np.arange(30)
    lr_height = (sched(t) - 0.1) / 0.4
    momentum_depth = (0.9 - sched.momentum(t)) / 0.1
    np.testing.assert_allclose(lr_height, momentum_depth, atol=1e-13)
    assert sched.momentum(4) == pytest.approx(0.8) and sched.momentum(6) == 0.9


def test_cyclical_triangular2_halves_the_amplitude_every_cycle():
    sched = S.cyclical(0.0, 0.8, step_size_up=3)
    halving = S.cyclical(0.0, 0.8, step_size_up=3, mode="triangular2")
    peaks = 3 + 6 * np.arange(5)
    np.testing.assert_allclose(values(sched, peaks), 0.8)
    np.testing.assert_allclose(values(halving, peaks), [0.8, 0.4, 0.2, 0.1, 0.05], rtol=1e-14)
    np.testing.assert_array_equal(values(halving, 6 * np.arange(5)), 0.0)


def test_cyclical_exp_range_scales_the_height_by_gamma_to_the_step():
    gamma = 0.9
    sched = S.cyclical(0.1, 0.5, step_size_up=2, mode="exp_range", gamma=gamma)
    peaks = 2 + 4 * np.arange(5)
    np.testing.assert_allclose(values(sched, peaks), 0.1 + 0.4 * gamma**peaks, rtol=1e-14)
    t = np.array([1, 5, 9])  # half-way up
    np.testing.assert_allclose(values(sched, t), 0.1 + 0.2 * gamma**t, rtol=1e-14)


def test_cyclical_custom_scale_fn_replaces_the_mode_and_follows_scale_mode():
    by_cycle = S.cyclical(
        0.0, 1.0, 2, mode="exp_range", scale_fn=lambda c: 1 / c, scale_mode="cycle"
    )
    by_step = S.cyclical(0.0, 1.0, 2, scale_fn=lambda t: 1 / (1 + t), scale_mode="iterations")
    np.testing.assert_allclose(values(by_cycle, [2, 6, 10]), [1, 1 / 2, 1 / 3])
    np.testing.assert_allclose(values(by_step, [2, 6, 10]), [1 / 3, 1 / 7, 1 / 11])


def test_cyclical_scale_mode_is_ignored_without_scale_fn_as_in_torch():
    plain = S.cyclical(0.1, 0.5, 3, mode="triangular2")
    odd = S.cyclical(0.1, 0.5, 3, mode="triangular2", scale_mode="iterations")
    np.testing.assert_array_equal(values(plain, range(40)), values(odd, range(40)))


def test_one_cycle_runs_initial_to_max_to_min_with_the_last_step_at_min_lr():
    max_lr, div, final_div = 1.0, 20.0, 100.0
    sched = S.one_cycle(
        max_lr, total_steps=100, pct_start=0.25, div_factor=div, final_div_factor=final_div
    )
    assert sched(0) == pytest.approx(max_lr / div, rel=1e-15)
    assert sched(24) == max_lr  # the end of the warm-up: pct_start * total_steps - 1
    assert sched(99) == max_lr / div / final_div  # exactly, with cosine annealing
    v = values(sched, range(100))
    assert np.all(np.diff(v[:25]) > 0) and np.all(np.diff(v[24:]) < 0)


def test_one_cycle_linear_is_piecewise_linear_and_ends_within_an_ulp_of_min_lr():
    sched = S.one_cycle(
        1.0, total_steps=21, pct_start=0.5, anneal_strategy="linear", div_factor=10.0
    )
    v = values(sched, range(21))
    np.testing.assert_allclose(np.diff(v[:10]), 0.9 / 9.5, rtol=1e-12)  # warm-up ends at 9.5
    min_lr = 0.1 / 1e4
    assert abs(v[20] - min_lr) <= 2 * ULP * 1.0


def test_one_cycle_three_phase_returns_to_initial_lr_before_annihilating():
    sched = S.one_cycle(1.0, total_steps=100, pct_start=0.3, three_phase=True, div_factor=10.0)
    assert sched(29) == 1.0
    assert sched(58) == pytest.approx(0.1, rel=1e-14)  # 2 pct_start total_steps - 2
    assert sched(99) == 0.1 / 1e4
    v = values(sched, range(100))
    np.testing.assert_allclose(v[29 - np.arange(1, 29)], v[29 + np.arange(1, 29)], rtol=1e-12)


def test_one_cycle_momentum_is_lowest_at_the_peak_rate_and_flat_in_phase_three():
    two = S.one_cycle(1.0, total_steps=50, pct_start=0.2, base_momentum=0.8, max_momentum=0.9)
    assert two.momentum(0) == pytest.approx(0.9) and two.momentum(9) == pytest.approx(0.8)
    assert two.momentum(49) == 0.9
    three = S.one_cycle(1.0, total_steps=50, pct_start=0.2, three_phase=True, max_momentum=0.9)
    np.testing.assert_allclose(values(three.momentum, range(18, 51)), 0.9, rtol=1e-15)


def test_one_cycle_accepts_total_steps_and_refuses_later_steps():
    sched = S.one_cycle(1.0, total_steps=10)
    # t = total_steps is torch's value after its last step: the cosine, extrapolated, rises
    assert sched(9) == 1.0 / 25 / 1e4 and sched(10) > sched(9)
    linear = S.one_cycle(1.0, total_steps=10, anneal_strategy="linear")
    assert linear(10) < linear(9)  # the straight line goes on below min_lr
    with pytest.raises(ValueError, match=r"t must be <= total_steps=10.*t=11"):
        sched(11)
    with pytest.raises(ValueError, match="total_steps=10"):
        sched.momentum(np.arange(12))


def test_inverse_sqrt_is_continuous_and_peaks_at_the_end_of_warmup():
    peak, W = 0.02, 16
    sched = S.inverse_sqrt(peak, W)
    assert sched(W - 1) == peak
    t = np.arange(W)
    np.testing.assert_allclose(values(sched, t), peak * (t + 1) / W, rtol=1e-15)
    later = np.arange(W - 1, 10 * W)
    np.testing.assert_allclose(values(sched, later), peak * np.sqrt(W / (later + 1)), rtol=1e-15)
    assert sched(4 * W - 1) == pytest.approx(peak / 2, rel=1e-15)


def test_inverse_sqrt_reproduces_the_transformer_paper_with_peak_d_model_w():
    d_model, W = 512, 4000
    sched = S.inverse_sqrt((d_model * W) ** -0.5, W)
    for step_num in [1, 100, 3999, 4000, 4001, 10_000]:
        paper = d_model**-0.5 * min(step_num**-0.5, step_num * W**-1.5)
        assert sched(step_num - 1) == pytest.approx(paper, rel=1e-12)


def test_warmup_ramps_to_the_schedules_first_value_then_runs_it_from_step_zero():
    inner = S.cosine_annealing(0.1, T_max=20, eta_min=0.01)
    sched = S.warmup(inner, warmup_steps=5, start_factor=0.2)
    np.testing.assert_allclose(
        values(sched, range(5)), 0.1 * (0.2 + 0.8 * np.arange(5) / 5), rtol=1e-15
    )
    np.testing.assert_array_equal(values(sched, np.arange(5, 60)), values(inner, np.arange(55)))
    assert sched(25) == 0.01  # warmup_steps + T_max


def test_warmup_with_zero_start_factor_begins_at_zero_and_zero_steps_is_the_schedule():
    inner = S.exponential_decay(0.1, 0.9)
    assert S.warmup(inner, 10)(0) == 0.0
    np.testing.assert_array_equal(values(S.warmup(inner, 0), range(20)), values(inner, range(20)))


def test_join_gives_each_stage_its_local_step():
    first = S.linear_warmup(0.1, 0.0, 1.0, 4)
    second = S.exponential_decay(0.1, 0.5)
    third = S.constant(0.001)
    sched = S.join([first, second, third], boundaries=[4, 7])
    np.testing.assert_array_equal(values(sched, range(4)), values(first, range(4)))
    np.testing.assert_array_equal(values(sched, [4, 5, 6]), [0.1, 0.05, 0.025])
    np.testing.assert_array_equal(values(sched, [7, 8, 100]), 0.001)


def test_join_nests_and_accepts_plain_vectorised_functions():
    inner = S.join([S.constant(1.0), S.constant(2.0)], [2])
    sched = S.join([inner, lambda t: 10.0 + t], [3])
    np.testing.assert_array_equal(values(sched, range(6)), [1, 1, 2, 10, 11, 12])


# ---------------------------------------------------------------------------
# ReduceLROnPlateau: the state machine on hand-made metric sequences
# ---------------------------------------------------------------------------


def run_plateau(plateau, metrics):
    return [plateau.step(m) for m in metrics]


def test_plateau_cuts_after_more_than_patience_bad_epochs():
    plateau = ReduceLROnPlateau(1.0, factor=0.5, patience=2, threshold=0.0)
    lrs = run_plateau(plateau, [5, 5, 5, 5, 5, 5, 5, 4])
    # epoch 0 sets best; epochs 1, 2 are tolerated; epoch 3 is the third bad one -> cut
    assert lrs == [1, 1, 1, 0.5, 0.5, 0.5, 0.25, 0.25]
    assert [c.epoch for c in plateau.history] == [3, 6]
    assert plateau.history[0] == S.PlateauCut(epoch=3, old_lr=1.0, new_lr=0.5)


def test_plateau_with_zero_patience_cuts_at_every_bad_epoch():
    lrs = run_plateau(ReduceLROnPlateau(1.0, factor=0.5, patience=0), [3, 4, 2, 5])
    assert lrs == [1, 0.5, 0.5, 0.25]


def test_plateau_improvement_resets_the_count_of_bad_epochs():
    plateau = ReduceLROnPlateau(1.0, factor=0.5, patience=2, threshold=0.0)
    run_plateau(plateau, [5, 6, 6, 4, 6, 6])
    assert plateau.lr == 1.0 and plateau.num_bad_epochs == 2 and plateau.best == 4


def test_plateau_cooldown_ignores_bad_epochs_after_a_cut():
    plateau = ReduceLROnPlateau(1.0, factor=0.5, patience=0, cooldown=2, threshold=0.0)
    lrs = run_plateau(plateau, [1, 2, 2, 2, 2, 2])
    # cut at epoch 1, cooldown covers epochs 2 and 3, the next cut comes at epoch 4
    assert lrs == [1, 0.5, 0.5, 0.5, 0.25, 0.25]
    assert plateau.cooldown_counter == 1  # the second cooldown has one epoch left


def test_plateau_relative_threshold_ignores_small_improvements():
    plateau = ReduceLROnPlateau(1.0, factor=0.5, patience=0, threshold=0.1, threshold_mode="rel")
    lrs = run_plateau(plateau, [1.0, 0.95, 0.85])
    # 0.95 is not below 1.0 * 0.9 -> bad epoch, cut; 0.85 is below 0.9 -> improvement
    assert lrs == [1, 0.5, 0.5] and plateau.best == 0.85


def test_plateau_absolute_threshold_compares_with_best_minus_threshold():
    plateau = ReduceLROnPlateau(1.0, factor=0.5, patience=0, threshold=0.1, threshold_mode="abs")
    lrs = run_plateau(plateau, [10.0, 9.95, 9.8, 9.75])
    assert lrs == [1, 0.5, 0.5, 0.25]


def test_plateau_max_mode_treats_larger_metrics_as_improvements():
    plateau = ReduceLROnPlateau(1.0, mode="max", factor=0.5, patience=1, threshold=0.0)
    lrs = run_plateau(plateau, [0.5, 0.6, 0.6, 0.55, 0.7])
    assert lrs == [1, 1, 1, 0.5, 0.5] and plateau.best == 0.7


def test_plateau_max_mode_relative_threshold_needs_best_times_one_plus_threshold():
    plateau = ReduceLROnPlateau(1.0, mode="max", factor=0.5, patience=0, threshold=0.1)
    assert run_plateau(plateau, [1.0, 1.05, 1.2]) == [1, 0.5, 0.5]


def test_plateau_never_cuts_below_min_lr():
    plateau = ReduceLROnPlateau(1.0, factor=0.1, patience=0, min_lr=0.05)
    lrs = run_plateau(plateau, [1, 2, 2, 2, 2])
    assert lrs == [1, 0.1, 0.05, 0.05, 0.05]
    assert [(c.old_lr, c.new_lr) for c in plateau.history] == [(1, 0.1), (0.1, 0.05)]


def test_plateau_skips_a_cut_smaller_than_eps():
    plateau = ReduceLROnPlateau(1e-3, factor=0.5, patience=0, eps=1e-3)
    assert run_plateau(plateau, [1, 2, 3]) == [1e-3, 1e-3, 1e-3]
    assert plateau.history == []
    bigger = ReduceLROnPlateau(1e-3, factor=0.5, patience=0, eps=1e-4)
    assert run_plateau(bigger, [1, 2]) == [1e-3, 5e-4]


def test_plateau_first_metric_always_sets_best_and_nan_is_a_bad_epoch():
    plateau = ReduceLROnPlateau(1.0, factor=0.5, patience=0)
    plateau.step(1e9)
    assert plateau.best == 1e9 and plateau.num_bad_epochs == 0
    assert plateau.step(float("nan")) == 0.5


def test_plateau_accepts_numpy_scalars_and_refuses_non_numbers():
    plateau = ReduceLROnPlateau(0.1)
    plateau.step(np.float32(1.0))
    plateau.step(np.array(0.5))
    with pytest.raises(TypeError, match="metric"):
        plateau.step("low")


# ---------------------------------------------------------------------------
# Properties (hypothesis)
# ---------------------------------------------------------------------------

lrs = st.floats(1e-6, 10.0)
steps = st.lists(st.integers(0, 10_000), min_size=1, max_size=40)
HYPO = settings(max_examples=60, deadline=None)


@st.composite
def decaying_schedules(draw):
    lr = draw(lrs)
    kind = draw(st.sampled_from(["step", "multistep", "exp", "inv", "poly", "linear", "cos"]))
    if kind == "step":
        return S.step_decay(lr, draw(st.integers(1, 50)), draw(st.floats(0.01, 1.0)))
    if kind == "multistep":
        marks = sorted(draw(st.sets(st.integers(0, 500), max_size=6)))
        return S.multistep_decay(lr, marks, draw(st.floats(0.01, 1.0)))
    if kind == "exp":
        return S.exponential_decay(lr, draw(st.floats(0.5, 1.0)))
    if kind == "inv":
        return S.inverse_time_decay(lr, draw(st.floats(0.0, 10.0)))
    if kind == "poly":
        return S.polynomial_decay(lr, draw(st.integers(1, 500)), draw(st.floats(0.0, 5.0)))
    if kind == "linear":
        end = draw(st.floats(0.0, 1.0))
        return S.linear_warmup(lr, draw(st.floats(end, 1.0)), end, draw(st.integers(1, 500)))
    return S.cosine_annealing_clamped(lr, draw(st.integers(1, 500)), lr * draw(st.floats(0.0, 1.0)))


@HYPO
@given(decaying_schedules())
def test_decaying_schedules_never_increase(sched):
    v = sched(np.arange(700))
    assert np.all(np.diff(v) <= 0), repr(sched)


@HYPO
@given(
    lr=lrs,
    T_max=st.integers(1, 300),
    eta_ratio=st.floats(0.0, 1.0),
    t=steps,
)
def test_clamped_cosine_stays_between_eta_min_and_lr(lr, T_max, eta_ratio, t):
    eta_min = lr * eta_ratio
    v = S.cosine_annealing_clamped(lr, T_max, eta_min)(t)
    assert np.all(v >= eta_min) and np.all(v <= lr * (1 + 4 * ULP))  # eta + (lr - eta) * 1


@HYPO
@given(
    lr=lrs, T_0=st.integers(1, 50), T_mult=st.integers(1, 4), eta_ratio=st.floats(0.0, 1.0), t=steps
)
def test_warm_restarts_stay_between_eta_min_and_lr(lr, T_0, T_mult, eta_ratio, t):
    eta_min = lr * eta_ratio
    v = S.cosine_warm_restarts(lr, T_0, T_mult, eta_min)(t)
    assert np.all(v >= eta_min) and np.all(v <= lr * (1 + 4 * ULP))  # eta + (lr - eta) * 1


@HYPO
@given(
    base=lrs,
    span=st.floats(0.0, 10.0),
    up=st.integers(1, 100),
    down=st.one_of(st.none(), st.integers(1, 100)),
    mode=st.sampled_from(["triangular", "triangular2", "exp_range"]),
    gamma=st.floats(0.9, 1.0),
    t=steps,
)
def test_cyclical_stays_between_base_and_max_and_momentum_between_its_bounds(
    base, span, up, down, mode, gamma, t
):
    sched = S.cyclical(
        base, base + span, up, down, mode, gamma, base_momentum=0.8, max_momentum=0.95
    )
    v, m = sched(t), sched.momentum(t)
    assert np.all(v >= base) and np.all(v <= (base + span) * (1 + 4 * ULP))
    assert np.all(m >= 0.8 * (1 - 4 * ULP)) and np.all(m <= 0.95)


@HYPO
@given(
    max_lr=lrs,
    total=st.integers(4, 2000),
    pct=st.floats(0.01, 0.99),
    linear=st.booleans(),
    three=st.booleans(),
    div=st.floats(1.0, 100.0),
    final_div=st.floats(1.0, 1e5),
)
def test_one_cycle_stays_between_min_lr_and_max_lr(
    max_lr, total, pct, linear, three, div, final_div
):
    pct = min(pct, 0.5) if three else pct
    if pct * total <= 1:
        pct = 1.5 / total
    strategy = "linear" if linear else "cos"
    sched = S.one_cycle(max_lr, total, pct, strategy, div, final_div, three, 0.85, 0.95)
    t = np.arange(total)
    v, m = sched(t), sched.momentum(t)
    min_lr = max_lr / div / final_div
    # linear annealing computes (min_lr - max_lr) * 1 + max_lr: off by an ulp of max_lr
    assert np.all(v >= min_lr - 2 * ULP * max_lr) and np.all(v <= max_lr * (1 + 4 * ULP))
    assert np.all(m >= 0.85 * (1 - 4 * ULP)) and np.all(m <= 0.95 * (1 + 4 * ULP))


@HYPO
@given(peak=lrs, W=st.integers(1, 5000), t=steps)
def test_inverse_sqrt_never_exceeds_its_peak(peak, W, t):
    assert np.all(S.inverse_sqrt(peak, W)(t) <= peak)


@HYPO
@given(
    boundaries=st.sets(st.integers(1, 300), min_size=1, max_size=4).map(sorted),
    gammas=st.lists(st.floats(0.5, 1.0), min_size=5, max_size=5),
    t=steps,
)
def test_join_equals_the_active_stage_at_its_local_step(boundaries, gammas, t):
    stages = [
        S.exponential_decay(0.1 * (k + 1), g) for k, g in enumerate(gammas[: len(boundaries) + 1])
    ]
    sched = S.join(stages, boundaries)
    starts = [0, *boundaries]
    for step, value in zip(t, sched(t), strict=True):
        k = sum(step >= b for b in boundaries)
        assert value == stages[k](step - starts[k])


@HYPO
@given(st.sampled_from(CATALOGUE), st.lists(st.integers(0, 39), max_size=30))
def test_any_order_of_steps_gives_the_elementwise_values(sched, t):
    np.testing.assert_array_equal(sched(np.array(t, dtype=int)), [sched(k) for k in t])


@HYPO
@given(
    metrics=st.lists(st.floats(-1e3, 1e3), min_size=1, max_size=60),
    factor=st.floats(0.0, 0.99),
    patience=st.integers(0, 5),
    cooldown=st.integers(0, 3),
    min_lr=st.floats(0.0, 0.05),
    mode=st.sampled_from(["min", "max"]),
    threshold_mode=st.sampled_from(["rel", "abs"]),
)
def test_plateau_rate_never_rises_and_never_cuts_below_min_lr(
    metrics, factor, patience, cooldown, min_lr, mode, threshold_mode
):
    plateau = ReduceLROnPlateau(0.1, mode, factor, patience, 1e-3, threshold_mode, cooldown, min_lr)
    lrs_seen = [0.1] + [plateau.step(m) for m in metrics]
    assert all(b <= a for a, b in zip(lrs_seen, lrs_seen[1:], strict=False))
    assert min(lrs_seen) >= min(0.1, min_lr)
    for cut in plateau.history:
        assert cut.new_lr == max(cut.old_lr * factor, min_lr)
        assert lrs_seen[cut.epoch] == cut.old_lr and lrs_seen[cut.epoch + 1] == cut.new_lr


# ---------------------------------------------------------------------------
# Validation: every bad argument is named, with its value
# ---------------------------------------------------------------------------

BAD_ARGUMENTS = [
    (S.constant, {"lr": -0.1}, ValueError, "lr"),
    (S.constant, {"lr": float("nan")}, ValueError, "lr"),
    (S.constant, {"lr": "0.1"}, TypeError, "lr"),
    (S.constant_factor, {"lr": 0.1, "factor": 1.5}, ValueError, "factor"),
    (S.constant_factor, {"lr": 0.1, "total_iters": 0}, ValueError, "total_iters"),
    (S.step_decay, {"lr": 0.1, "step_size": 0}, ValueError, "step_size"),
    (S.step_decay, {"lr": 0.1, "step_size": 2.5}, TypeError, "step_size"),
    (S.step_decay, {"lr": 0.1, "step_size": 2, "gamma": 0.0}, ValueError, "gamma"),
    (S.step_decay, {"lr": 0.1, "step_size": 2, "gamma": -0.5}, ValueError, "gamma"),
    (S.multistep_decay, {"lr": 0.1, "milestones": [30, 10]}, ValueError, "milestones"),
    (S.multistep_decay, {"lr": 0.1, "milestones": [10, 10]}, ValueError, "milestones"),
    (S.multistep_decay, {"lr": 0.1, "milestones": [-1, 10]}, ValueError, r"milestones\[0\]"),
    (S.multistep_decay, {"lr": 0.1, "milestones": 10}, TypeError, "milestones"),
    (S.exponential_decay, {"lr": 0.1, "gamma": 0.0}, ValueError, "gamma"),
    (S.inverse_time_decay, {"lr": 0.1, "k": -1.0}, ValueError, "k"),
    (S.polynomial_decay, {"lr": 0.1, "total_iters": 0}, ValueError, "total_iters"),
    (S.polynomial_decay, {"lr": 0.1, "power": -1.0}, ValueError, "power"),
    (S.linear_warmup, {"lr": 0.1, "start_factor": 1.5}, ValueError, "start_factor"),
    (S.linear_warmup, {"lr": 0.1, "end_factor": -0.5}, ValueError, "end_factor"),
    (S.cosine_annealing, {"lr": 0.1, "T_max": 0}, ValueError, "T_max"),
    (S.cosine_annealing, {"lr": 0.1, "T_max": -5}, ValueError, "T_max"),
    (S.cosine_annealing, {"lr": 0.1, "T_max": 10, "eta_min": -1e-3}, ValueError, "eta_min"),
    (S.cosine_annealing_clamped, {"lr": 0.1, "T_max": 0}, ValueError, "T_max"),
    (S.cosine_warm_restarts, {"lr": 0.1, "T_0": 0}, ValueError, "T_0"),
    (S.cosine_warm_restarts, {"lr": 0.1, "T_0": 5, "T_mult": 0}, ValueError, "T_mult"),
    (S.cosine_warm_restarts, {"lr": 0.1, "T_0": 5, "T_mult": 1.5}, TypeError, "T_mult"),
    (S.cyclical, {"base_lr": -0.1, "max_lr": 0.1}, ValueError, "base_lr"),
    (S.cyclical, {"base_lr": 0.1, "max_lr": -1.0}, ValueError, "max_lr"),
    (S.cyclical, {"base_lr": 0.1, "max_lr": 1.0, "step_size_up": 0}, ValueError, "step_size_up"),
    (
        S.cyclical,
        {"base_lr": 0.1, "max_lr": 1.0, "step_size_down": 0},
        ValueError,
        "step_size_down",
    ),
    (S.cyclical, {"base_lr": 0.1, "max_lr": 1.0, "mode": "sawtooth"}, ValueError, "mode"),
    (S.cyclical, {"base_lr": 0.1, "max_lr": 1.0, "gamma": 0.0}, ValueError, "gamma"),
    (S.cyclical, {"base_lr": 0.1, "max_lr": 1.0, "scale_fn": 2.0}, TypeError, "scale_fn"),
    (S.cyclical, {"base_lr": 0.1, "max_lr": 1.0, "scale_mode": "epoch"}, ValueError, "scale_mode"),
    (S.cyclical, {"base_lr": 0.1, "max_lr": 1.0, "max_momentum": 1.0}, ValueError, "max_momentum"),
    (S.one_cycle, {"max_lr": -1.0, "total_steps": 100}, ValueError, "max_lr"),
    (S.one_cycle, {"max_lr": 0.1, "total_steps": 0}, ValueError, "total_steps"),
    (S.one_cycle, {"max_lr": 0.1, "total_steps": 100, "pct_start": 0.0}, ValueError, "pct_start"),
    (S.one_cycle, {"max_lr": 0.1, "total_steps": 100, "pct_start": 1.0}, ValueError, "pct_start"),
    (S.one_cycle, {"max_lr": 0.1, "total_steps": 100, "pct_start": -0.2}, ValueError, "pct_start"),
    (S.one_cycle, {"max_lr": 0.1, "total_steps": 10, "pct_start": 0.1}, ValueError, "pct_start"),
    (
        S.one_cycle,
        {"max_lr": 0.1, "total_steps": 100, "pct_start": 0.6, "three_phase": True},
        ValueError,
        "pct_start",
    ),
    (
        S.one_cycle,
        {"max_lr": 0.1, "total_steps": 100, "anneal_strategy": "exp"},
        ValueError,
        "anneal_strategy",
    ),
    (S.one_cycle, {"max_lr": 0.1, "total_steps": 100, "div_factor": 0.0}, ValueError, "div_factor"),
    (
        S.one_cycle,
        {"max_lr": 0.1, "total_steps": 100, "final_div_factor": -1.0},
        ValueError,
        "final_div_factor",
    ),
    (
        S.one_cycle,
        {"max_lr": 0.1, "total_steps": 100, "base_momentum": 1.2},
        ValueError,
        "base_momentum",
    ),
    (S.inverse_sqrt, {"peak_lr": -1.0, "warmup_steps": 10}, ValueError, "peak_lr"),
    (S.inverse_sqrt, {"peak_lr": 1.0, "warmup_steps": 0}, ValueError, "warmup_steps"),
    (S.warmup, {"schedule": 0.1, "warmup_steps": 10}, TypeError, "schedule"),
    (S.warmup, {"schedule": S.constant(0.1), "warmup_steps": -1}, ValueError, "warmup_steps"),
    (
        S.warmup,
        {"schedule": S.constant(0.1), "warmup_steps": 5, "start_factor": 2.0},
        ValueError,
        "start_factor",
    ),
    (
        S.join,
        {"schedules": [S.constant(0.1), S.constant(0.2)], "boundaries": []},
        ValueError,
        "boundaries",
    ),
    (S.join, {"schedules": [S.constant(0.1)], "boundaries": [5]}, ValueError, "boundaries"),
    (S.join, {"schedules": [S.constant(0.1)] * 3, "boundaries": [9, 5]}, ValueError, "boundaries"),
    (
        S.join,
        {"schedules": [S.constant(0.1)] * 2, "boundaries": [0]},
        ValueError,
        r"boundaries\[0\]",
    ),
    (S.join, {"schedules": [], "boundaries": []}, TypeError, "schedules"),
    (S.join, {"schedules": S.constant(0.1), "boundaries": []}, TypeError, "schedules"),
    (
        S.join,
        {"schedules": [S.constant(0.1), "cosine"], "boundaries": [3]},
        TypeError,
        r"schedules\[1\]",
    ),
    (ReduceLROnPlateau, {"lr": -0.1}, ValueError, "lr"),
    (ReduceLROnPlateau, {"lr": 0.1, "mode": "minimum"}, ValueError, "mode"),
    (ReduceLROnPlateau, {"lr": 0.1, "factor": 1.0}, ValueError, "factor"),
    (ReduceLROnPlateau, {"lr": 0.1, "patience": -1}, ValueError, "patience"),
    (ReduceLROnPlateau, {"lr": 0.1, "threshold": -1e-4}, ValueError, "threshold"),
    (ReduceLROnPlateau, {"lr": 0.1, "threshold_mode": "relative"}, ValueError, "threshold_mode"),
    (ReduceLROnPlateau, {"lr": 0.1, "cooldown": 1.5}, TypeError, "cooldown"),
    (ReduceLROnPlateau, {"lr": 0.1, "min_lr": -1.0}, ValueError, "min_lr"),
    (ReduceLROnPlateau, {"lr": 0.1, "eps": -1.0}, ValueError, "eps"),
]


@pytest.mark.parametrize(
    ("factory", "kwargs", "error", "name"),
    BAD_ARGUMENTS,
    ids=[f"{f.__name__}-{n}-{i}" for i, (f, _, _, n) in enumerate(BAD_ARGUMENTS)],
)
def test_bad_argument_raises_an_error_naming_the_argument_and_its_value(
    factory, kwargs, error, name
):
    with pytest.raises(error, match=rf"^{name} .*got .*{name}="):
        factory(**kwargs)


@pytest.mark.parametrize(
    ("t", "error", "shown"),
    [
        (-1, ValueError, "t=-1"),
        (np.array([0, 3, -2]), ValueError, "t=-2"),
        (float("nan"), ValueError, "t=nan"),
        (np.array([1.0, np.inf]), ValueError, "t=inf"),
        (True, TypeError, "t=True"),
        ("3", TypeError, "t='3'"),
    ],
)
def test_a_step_that_is_negative_or_not_a_number_is_refused_by_every_schedule(t, error, shown):
    for sched in CATALOGUE:
        with pytest.raises(error, match=rf"^t .*{shown}"):
            sched(t)
