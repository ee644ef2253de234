"""The maths and behaviour of lrcourse.optimizers, without torch.

Hand-derived sequences on tiny cases, properties checked by Hypothesis, param groups and
state dicts, argument validation, and the block/thread engine.
"""

from __future__ import annotations

import doctest
import math
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from lrcourse import optimizers as opt

RULES = {
    "sgd": (opt.sgd_step, opt.SGD),
    "adagrad": (opt.adagrad_step, opt.Adagrad),
    "rmsprop": (opt.rmsprop_step, opt.RMSprop),
    "adadelta": (opt.adadelta_step, opt.Adadelta),
    "adam": (opt.adam_step, opt.Adam),
    "adamw": (opt.adamw_step, opt.AdamW),
    "nadam": (opt.nadam_step, opt.NAdam),
}
# Every option of every method switched on at once (a demanding setting for the properties).
ALL_OPTIONS = {
    "sgd": {"lr": 0.05, "momentum": 0.9, "nesterov": True, "weight_decay": 0.01},
    "adagrad": {"lr": 0.05, "lr_decay": 0.01, "initial_accumulator_value": 0.1,
                "weight_decay": 0.01},
    "rmsprop": {"lr": 0.01, "centered": True, "momentum": 0.5, "weight_decay": 0.01},
    "adadelta": {"lr": 0.5, "rho": 0.8, "weight_decay": 0.01},
    "adam": {"lr": 0.01, "amsgrad": True, "weight_decay": 0.01},
    "adamw": {"lr": 0.01, "amsgrad": True, "weight_decay": 0.1},
    "nadam": {"lr": 0.01, "weight_decay": 0.01, "decoupled_weight_decay": True},
}
STATE_TYPES = {
    "sgd": opt.SGDState, "adagrad": opt.AdagradState, "rmsprop": opt.RMSpropState,
    "adadelta": opt.AdadeltaState, "adam": opt.AdamState, "adamw": opt.AdamState,
    "nadam": opt.NAdamState,
}

finite = st.floats(-100.0, 100.0, allow_nan=False, allow_infinity=False)
shapes = hnp.array_shapes(min_dims=0, max_dims=3, min_side=1, max_side=4)


def _state_arrays(state) -> dict:
    return {name: getattr(state, name) for name in state.__dataclass_fields__}


def _param_and_grads(draw_shape, data, steps):
    param = data.draw(hnp.arrays(np.float64, draw_shape, elements=finite), label="param")
    grads = [data.draw(hnp.arrays(np.float64, draw_shape, elements=finite), label=f"grad{t}")
             for t in range(steps)]
    return param, grads


# ---------------------------------------------------------------------------------------------
# Hand-derived sequences
# ---------------------------------------------------------------------------------------------


def test_sgd_first_momentum_step_copies_the_gradient_and_dampens_only_later():
    g1, g2 = np.array([1.0, -2.0]), np.array([4.0, 0.5])
    theta, state = opt.sgd_step(np.zeros(2), g1, lr=0.1, momentum=0.9, dampening=0.5)
    np.testing.assert_array_equal(state.momentum_buffer, g1)  # b_1 = g_1, not (1 − τ) g_1
    np.testing.assert_allclose(theta, -0.1 * g1, rtol=1e-15)
    theta, state = opt.sgd_step(theta, g2, state, lr=0.1, momentum=0.9, dampening=0.5)
    b2 = 0.9 * g1 + 0.5 * g2
    np.testing.assert_allclose(state.momentum_buffer, b2, rtol=1e-15)
    np.testing.assert_allclose(theta, -0.1 * g1 - 0.1 * b2, rtol=1e-15)


def test_sgd_nesterov_steps_along_gradient_plus_momentum_times_buffer():
    g1, g2 = 2.0, -1.0
    theta, state = opt.sgd_step(1.0, g1, lr=0.1, momentum=0.5, nesterov=True)
    assert float(theta) == pytest.approx(1.0 - 0.1 * (g1 + 0.5 * g1), rel=1e-15)
    theta, state = opt.sgd_step(theta, g2, state, lr=0.1, momentum=0.5, nesterov=True)
    b2 = 0.5 * g1 + g2
    assert float(theta) == pytest.approx(0.7 - 0.1 * (g2 + 0.5 * b2), rel=1e-14)


def test_adam_two_steps_equal_the_algorithm_computed_by_hand():
    lr, b1, b2, eps = 0.01, 0.9, 0.999, 1e-8
    theta, g = 0.3, [2.0, -0.5]
    m = v = 0.0
    expected = theta
    for t, gt in enumerate(g, start=1):
        m = b1 * m + (1 - b1) * gt
        v = b2 * v + (1 - b2) * gt**2
        m_hat, v_hat = m / (1 - b1**t), v / (1 - b2**t)
        expected -= lr * m_hat / (math.sqrt(v_hat) + eps)
    param, state = np.array(theta), None
    for gt in g:
        param, state = opt.adam_step(param, np.array(gt), state, lr=lr)
    assert float(param) == pytest.approx(expected, rel=1e-14)
    assert float(state.exp_avg) == pytest.approx(m, rel=1e-14)
    assert float(state.exp_avg_sq) == pytest.approx(v, rel=1e-14)
    assert state.step == 2


def test_adam_with_a_constant_gradient_moves_lr_per_step_thanks_to_bias_correction():
    # m̂_t = g and v̂_t = g² exactly for every t, so each step is lr·g/(|g| + ε).
    g, lr = np.array([3.0, -0.02]), 0.01
    param, state = np.zeros(2), None
    for _ in range(3):
        param, state = opt.adam_step(param, g, state, lr=lr)
    np.testing.assert_allclose(param, -3 * lr * g / (np.abs(g) + 1e-8), rtol=1e-12)


def test_amsgrad_keeps_the_max_of_the_raw_second_moment_then_bias_corrects_it():
    lr, b1, b2, eps = 0.1, 0.9, 0.999, 1e-8
    g = [10.0, 0.1]
    v1 = (1 - b2) * g[0] ** 2
    v2 = b2 * v1 + (1 - b2) * g[1] ** 2
    assert v2 < v1
    m1 = (1 - b1) * g[0]
    m2 = b1 * m1 + (1 - b1) * g[1]
    theta1 = -lr * (m1 / (1 - b1)) / (math.sqrt(v1 / (1 - b2)) + eps)
    # step 2 divides by the bias-corrected MAX of the raw v (v1), not by max of v̂ (v̂2 > v̂1)
    theta2 = theta1 - lr * (m2 / (1 - b1**2)) / (math.sqrt(v1 / (1 - b2**2)) + eps)
    param, state = opt.adam_step(0.0, g[0], lr=lr, amsgrad=True)
    param, state = opt.adam_step(param, g[1], state, lr=lr, amsgrad=True)
    assert float(state.max_exp_avg_sq) == pytest.approx(v1, rel=1e-15)
    assert float(state.exp_avg_sq) == pytest.approx(v2, rel=1e-15)
    assert float(param) == pytest.approx(theta2, rel=1e-13)


def test_adam_weight_decay_is_the_l2_term_added_to_the_gradient():
    rng = np.random.default_rng(0)
    theta, grads, lam = rng.standard_normal(4), rng.standard_normal((5, 4)), 0.3
    decayed, plain = theta.copy(), theta.copy()
    s1 = s2 = None
    for g in grads:
        decayed, s1 = opt.adam_step(decayed, g, s1, lr=0.01, weight_decay=lam)
        plain, s2 = opt.adam_step(plain, g + lam * plain, s2, lr=0.01)
    np.testing.assert_allclose(decayed, plain, rtol=1e-13)


def test_adamw_with_zero_gradient_shrinks_by_one_minus_current_lr_times_wd():
    lrs, wd = [0.1, 0.05, 0.01], 0.5
    param, state = np.array([2.0, -4.0]), None
    for lr in lrs:
        param, state = opt.adamw_step(param, np.zeros(2), state, lr=lr, weight_decay=wd)
    factor = np.prod([1 - lr * wd for lr in lrs])
    np.testing.assert_allclose(param, factor * np.array([2.0, -4.0]), rtol=1e-15)


def test_adamw_decay_never_enters_the_moments():
    rng = np.random.default_rng(1)
    theta, grads = rng.standard_normal(3), rng.standard_normal((4, 3))
    pw, sw = theta.copy(), None
    pa, sa = theta.copy(), None
    for g in grads:
        pw, sw = opt.adamw_step(pw, g, sw, weight_decay=0.5)
        pa, sa = opt.adam_step(pa, g, sa)
    np.testing.assert_array_equal(sw.exp_avg, sa.exp_avg)
    np.testing.assert_array_equal(sw.exp_avg_sq, sa.exp_avg_sq)
    assert not np.allclose(pw, pa)


def test_nadam_two_steps_equal_the_algorithm_computed_by_hand():
    lr, b1, b2, eps, psi = 0.01, 0.9, 0.999, 1e-8, 4e-3
    g = [1.5, -0.25]
    theta, m, v, prod = 0.7, 0.0, 0.0, 1.0
    for t, gt in enumerate(g, start=1):
        mu = b1 * (1 - 0.5 * 0.96 ** (t * psi))
        mu_next = b1 * (1 - 0.5 * 0.96 ** ((t + 1) * psi))
        prod *= mu
        m = b1 * m + (1 - b1) * gt
        v = b2 * v + (1 - b2) * gt**2
        denom = math.sqrt(v / (1 - b2**t)) + eps
        theta -= lr * (1 - mu) / (1 - prod) * gt / denom
        theta -= lr * mu_next / (1 - prod * mu_next) * m / denom
    param, state = np.array(0.7), None
    for gt in g:
        param, state = opt.nadam_step(param, gt, state, lr=lr)
    assert float(param) == pytest.approx(theta, rel=1e-14)
    assert state.mu_product == pytest.approx(prod, rel=1e-15)


def test_nadam_decoupled_weight_decay_shrinks_by_one_minus_lr_wd_with_zero_gradient():
    param, _ = opt.nadam_step(np.array([3.0]), np.zeros(1), lr=0.1, weight_decay=0.2,
                              decoupled_weight_decay=True)
    np.testing.assert_allclose(param, [3.0 * (1 - 0.1 * 0.2)], rtol=1e-15)
    coupled, _ = opt.nadam_step(np.array([3.0]), np.zeros(1), lr=0.1, weight_decay=0.2)
    assert coupled[0] < 3.0 * (1 - 0.1 * 0.2)  # the L2 gradient makes a full NAdam step


def test_adagrad_rate_decays_as_lr_over_one_plus_t_minus_one_times_lr_decay():
    lr, decay, eps, g = 0.1, 0.5, 1e-10, 2.0
    theta, acc, param, state = 0.0, 0.0, 0.0, None
    for t in range(1, 4):
        acc += g * g
        theta -= lr / (1 + (t - 1) * decay) * g / (math.sqrt(acc) + eps)
        param, state = opt.adagrad_step(param, g, state, lr=lr, lr_decay=decay)
        assert float(param) == pytest.approx(theta, rel=1e-14)
    assert float(state.sum) == 12.0


def test_adagrad_initial_accumulator_value_starts_the_sum_of_squares():
    param, state = opt.adagrad_step(0.0, 3.0, lr=1.0, initial_accumulator_value=16.0)
    assert float(state.sum) == 25.0
    assert float(param) == pytest.approx(-3.0 / (5.0 + 1e-10), rel=1e-15)


def test_rmsprop_centered_divides_by_the_running_variance_estimate():
    lr, alpha, eps, g = 0.01, 0.9, 1e-8, [1.0, 3.0]
    v = gbar = theta = 0.0
    for gt in g:
        v = alpha * v + (1 - alpha) * gt**2
        gbar = alpha * gbar + (1 - alpha) * gt
        theta -= lr * gt / (math.sqrt(v - gbar**2) + eps)
    param, state = 0.0, None
    for gt in g:
        param, state = opt.rmsprop_step(param, gt, state, lr=lr, alpha=alpha, centered=True)
    assert float(param) == pytest.approx(theta, rel=1e-13)
    assert float(state.grad_avg) == pytest.approx(gbar, rel=1e-15)


def test_rmsprop_momentum_buffer_starts_at_zero_unlike_sgd():
    g, alpha, eps = 2.0, 0.99, 1e-8
    _, state = opt.rmsprop_step(0.0, g, lr=0.1, momentum=0.9)
    first = g / (math.sqrt((1 - alpha) * g * g) + eps)  # b_1 = 0.9·0 + g/(√v_1 + ε)
    assert float(state.momentum_buffer) == pytest.approx(first, rel=1e-15)


def test_adadelta_puts_eps_inside_both_roots_and_lr_multiplies_the_step():
    rho, eps, g = 0.9, 1e-6, [1.0, -2.0]
    v = u = 0.0
    deltas = []
    for gt in g:
        v = rho * v + (1 - rho) * gt**2
        delta = math.sqrt(u + eps) / math.sqrt(v + eps) * gt
        u = rho * u + (1 - rho) * delta**2
        deltas.append(delta)
    for lr in (1.0, 0.25):
        param, state = 0.0, None
        for gt in g:
            param, state = opt.adadelta_step(param, gt, state, lr=lr)
        assert float(param) == pytest.approx(-lr * sum(deltas), rel=1e-14)
        assert float(state.acc_delta) == pytest.approx(u, rel=1e-14)  # the state ignores lr


@pytest.mark.parametrize("name", sorted(RULES))
def test_step_counter_is_one_after_the_first_update(name):
    rule, _ = RULES[name]
    _, state = rule(np.ones(2), np.ones(2), **ALL_OPTIONS[name])
    if name == "sgd":
        assert isinstance(state, opt.SGDState)  # SGD keeps no counter, like torch
    else:
        assert state.step == 1
        _, state = rule(np.ones(2), np.ones(2), state, **ALL_OPTIONS[name])
        assert state.step == 2


@pytest.mark.parametrize("name", sorted(RULES))
def test_maximize_equals_minimizing_with_the_negated_gradient(name):
    rule, _ = RULES[name]
    hyper = {k: v for k, v in ALL_OPTIONS[name].items() if k != "weight_decay"}
    rng = np.random.default_rng(3)
    theta, grads = rng.standard_normal(3), rng.standard_normal((4, 3))
    up, su = theta.copy(), None
    down, sd = theta.copy(), None
    for g in grads:
        up, su = rule(up, g, su, maximize=True, **hyper)
        down, sd = rule(down, -g, sd, **hyper)
    np.testing.assert_array_equal(up, down)


@pytest.mark.parametrize("name", sorted(RULES))
def test_lr_zero_changes_nothing_but_the_state(name):
    rule, _ = RULES[name]
    hyper = {**ALL_OPTIONS[name], "lr": 0.0}
    theta = np.array([1.0, -2.0])
    new, state = rule(theta, np.array([0.3, 0.4]), **hyper)
    np.testing.assert_array_equal(new, theta)
    moved = [v for v in _state_arrays(state).values() if isinstance(v, np.ndarray)]
    assert moved and all(np.any(v != 0) for v in moved)


# ---------------------------------------------------------------------------------------------
# Properties (Hypothesis)
# ---------------------------------------------------------------------------------------------


@settings(max_examples=50, deadline=None)
@given(shape=shapes, data=st.data(), lr=st.floats(1e-4, 1.0))
def test_sgd_without_momentum_is_plain_gradient_descent(shape, data, lr):
    param, grads = _param_and_grads(shape, data, 5)
    expected = param.copy()
    state = None
    for g in grads:
        expected = expected - lr * g
        param, state = opt.sgd_step(param, g, state, lr=lr, momentum=0.0)
    np.testing.assert_allclose(param, expected, rtol=1e-14, atol=1e-12)
    assert state.momentum_buffer is None


@settings(max_examples=100, deadline=None)
@given(curvature=st.floats(1e-3, 1e3), center=finite, start=finite)
def test_gradient_descent_at_lr_one_over_curvature_lands_on_the_parabola_minimum(
        curvature, center, start):
    # f(x) = λ/2 (x − c)², ∇f = λ(x − c): x − (1/λ) λ (x − c) = c
    grad = curvature * (start - center)
    new, _ = opt.sgd_step(start, grad, lr=1.0 / curvature)
    assert float(new) == pytest.approx(center, abs=1e-12 * (1 + abs(start) + abs(center)))


@settings(max_examples=25, deadline=None)
@given(name=st.sampled_from(sorted(RULES)), shape=shapes, data=st.data())
def test_no_rule_mutates_its_param_grad_or_state(name, shape, data):
    rule, _ = RULES[name]
    param, (g1, g2) = _param_and_grads(shape, data, 2)
    _, state = rule(param, g1, **ALL_OPTIONS[name])
    saved = (param.copy(), g2.copy(),
             {k: np.copy(v) for k, v in _state_arrays(state).items() if v is not None})
    new, new_state = rule(param, g2, state, **ALL_OPTIONS[name])
    np.testing.assert_array_equal(param, saved[0])
    np.testing.assert_array_equal(g2, saved[1])
    for key, value in saved[2].items():
        np.testing.assert_array_equal(getattr(state, key), value, err_msg=key)
        if isinstance(value, np.ndarray):
            assert getattr(new_state, key) is not getattr(state, key)
    assert new is not param


@settings(max_examples=25, deadline=None)
@given(name=st.sampled_from(sorted(RULES)), shape=shapes, data=st.data())
def test_pure_rule_equals_the_stateful_class_over_many_steps(name, shape, data):
    rule, cls = RULES[name]
    param, grads = _param_and_grads(shape, data, 30)
    live = param.copy()
    optimizer = cls([live], **ALL_OPTIONS[name])
    state = None
    for g in grads:
        param, state = rule(param, g, state, **ALL_OPTIONS[name])
        optimizer.step([g])
    np.testing.assert_array_equal(live, param)
    for key, value in _state_arrays(state).items():
        if value is not None:
            np.testing.assert_array_equal(optimizer.state[0][key], value, err_msg=key)


@settings(max_examples=40, deadline=None)
@given(name=st.sampled_from(sorted(RULES)), shape=shapes, data=st.data())
def test_any_parameter_shape_keeps_its_shape_and_stays_finite(name, shape, data):
    rule, _ = RULES[name]
    param, grads = _param_and_grads(shape, data, 3)
    state = None
    for g in grads:
        param, state = rule(param, g, state, **ALL_OPTIONS[name])
    assert param.shape == shape
    assert param.dtype == np.float64
    assert np.all(np.isfinite(param))


@settings(max_examples=100, deadline=None)
@given(grad=hnp.arrays(np.float64, st.integers(1, 8),
                       elements=st.floats(1e-3, 1e6) | st.floats(-1e6, -1e-3)),
       lr=st.floats(1e-5, 1.0))
def test_adam_first_step_moves_each_coordinate_by_lr_times_sign_of_gradient(grad, lr):
    new, _ = opt.adam_step(np.zeros_like(grad), grad, lr=lr)
    # exactly −lr·g/(|g| + ε): within lr·ε/|g| <= lr·1e-5 of −lr·sign(g)
    np.testing.assert_allclose(new, -lr * np.sign(grad), rtol=1e-5)


@settings(max_examples=30, deadline=None)
@given(name=st.sampled_from(sorted(RULES)), data=st.data())
def test_integer_inputs_are_promoted_to_float(name, data):
    rule, _ = RULES[name]
    param = data.draw(hnp.arrays(np.int64, 3, elements=st.integers(-5, 5)))
    grad = data.draw(hnp.arrays(np.int64, 3, elements=st.integers(-5, 5)))
    new, _ = rule(param, grad, **ALL_OPTIONS[name])
    expected, _ = rule(param.astype(float), grad.astype(float), **ALL_OPTIONS[name])
    assert new.dtype == np.float64
    np.testing.assert_array_equal(new, expected)


# ---------------------------------------------------------------------------------------------
# Stateful classes: param groups, skipping, state dicts
# ---------------------------------------------------------------------------------------------


def test_each_param_group_moves_with_its_own_learning_rate():
    w1, w2, w3 = np.ones(2), np.ones(3), np.ones(1)
    sgd = opt.SGD([{"params": [w1], "lr": 1e-4}, {"params": [w2, w3]}], lr=1e-1)
    sgd.step([np.full(2, 2.0), np.full(3, 2.0), np.full(1, 2.0)])
    np.testing.assert_allclose(w1, 1 - 2e-4, rtol=1e-15)
    np.testing.assert_allclose(w2, 0.8, rtol=1e-15)
    np.testing.assert_allclose(w3, 0.8, rtol=1e-15)


def test_group_entries_override_defaults_and_the_rest_are_inherited():
    adam = opt.Adam([{"params": [np.ones(1)], "amsgrad": True}, {"params": [np.ones(1)]}],
                    lr=0.3, betas=(0.5, 0.9))
    first, second = adam.param_groups
    assert first["amsgrad"] is True and second["amsgrad"] is False
    assert first["lr"] == second["lr"] == 0.3
    assert first["betas"] == second["betas"] == (0.5, 0.9)


def test_a_schedule_writing_group_lr_changes_the_next_step():
    w = np.zeros(1)
    sgd = opt.SGD([w], lr=1.0)
    sgd.step([np.ones(1)])
    sgd.param_groups[0]["lr"] = 0.25
    sgd.step([np.ones(1)])
    assert w[0] == -1.25


def test_adagrad_group_initial_accumulator_value_is_honoured():
    # torch 2.13 would start both sums at the constructor's 0.5 (documented difference)
    adagrad = opt.Adagrad([{"params": [np.ones(1)], "initial_accumulator_value": 3.0},
                           {"params": [np.ones(1)]}], initial_accumulator_value=0.5)
    adagrad.step([np.ones(1), np.ones(1)])
    assert (adagrad.state[0]["sum"][0], adagrad.state[1]["sum"][0]) == (4.0, 1.5)


def test_a_none_gradient_skips_its_parameter_and_leaves_its_state_empty():
    frozen, trained = np.ones(2), np.ones(2)
    adam = opt.Adam([frozen, trained], lr=0.1)
    adam.step([None, np.ones(2)])
    np.testing.assert_array_equal(frozen, np.ones(2))
    assert adam.state[0] == {} and adam.state[1]["step"] == 1


@pytest.mark.parametrize("name", sorted(RULES))
def test_state_dict_roundtrip_replays_the_same_steps(name):
    _, cls = RULES[name]
    rng = np.random.default_rng(5)
    params = [rng.standard_normal(3), rng.standard_normal((2, 2))]
    grads = [[rng.standard_normal(p.shape) for p in params] for _ in range(10)]
    optimizer = cls([{"params": params[:1], "lr": 0.01}, {"params": params[1:]}],
                    **ALL_OPTIONS[name])
    for g in grads[:5]:
        optimizer.step(g)
    saved_state, saved_params = optimizer.state_dict(), [p.copy() for p in params]
    for g in grads[5:]:
        optimizer.step(g)
    expected = [p.copy() for p in params]
    for p, saved in zip(params, saved_params, strict=True):
        p[...] = saved
    optimizer.param_groups[0]["lr"] = 123.0  # must be restored too
    optimizer.load_state_dict(saved_state)
    for g in grads[5:]:
        optimizer.step(g)
    for p, e in zip(params, expected, strict=True):
        np.testing.assert_array_equal(p, e)


def test_state_dict_is_a_deep_copy_untouched_by_later_steps():
    w = np.ones(2)
    adam = opt.Adam([w], lr=0.1)
    adam.step([np.ones(2)])
    saved = adam.state_dict()
    before = saved["state"][0]["exp_avg"].copy()
    adam.step([np.ones(2)])
    np.testing.assert_array_equal(saved["state"][0]["exp_avg"], before)
    assert saved["state"][0]["step"] == 1
    assert saved["param_groups"][0]["params"] == [0]


def test_load_state_dict_rejects_a_different_group_layout():
    one = opt.SGD([np.ones(1), np.ones(1)], lr=0.1)
    two = opt.SGD([{"params": [np.ones(1)]}, {"params": [np.ones(1)]}], lr=0.1)
    with pytest.raises(ValueError, match="param groups"):
        one.load_state_dict(two.state_dict())


def test_load_state_dict_rejects_state_of_another_shape():
    small, large = opt.Adam([np.ones(2)]), opt.Adam([np.ones(3)])
    large.step([np.ones(3)])
    with pytest.raises(ValueError, match="shape"):
        small.load_state_dict(large.state_dict())


def test_add_param_group_adds_parameters_with_their_own_lr():
    w1, w2 = np.zeros(1), np.zeros(1)
    sgd = opt.SGD([w1], lr=1.0)
    sgd.add_param_group({"params": w2, "lr": 0.5})
    sgd.step([np.ones(1), np.ones(1)])
    assert (w1[0], w2[0]) == (-1.0, -0.5)


def test_make_optimizer_builds_the_class_named():
    w = np.zeros(2)
    adam = opt.make_optimizer("adam", [w], lr=0.5, amsgrad=True)
    assert type(adam) is opt.Adam
    assert adam.param_groups[0]["amsgrad"] is True
    for name in RULES:
        assert type(opt.make_optimizer(name, [np.zeros(1)])).__name__.lower() == name


def test_repr_names_the_class_and_its_hyperparameters():
    text = repr(opt.SGD([np.zeros(1)], lr=0.1, momentum=0.9))
    assert text.startswith("SGD(lr=0.1, momentum=0.9") and "1 parameter(s)" in text


def test_docstring_examples_print_what_they_show():
    result = doctest.testmod(opt, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 20
    assert result.failed == 0


# ---------------------------------------------------------------------------------------------
# Validation: every error names the argument
# ---------------------------------------------------------------------------------------------

P, G = np.ones(2), np.ones(2)

BAD_HYPER = [
    # (method, bad keyword arguments, error type, the name the message must quote)
    ("sgd", {"lr": -0.1}, ValueError, "lr=-0.1"),
    ("sgd", {"lr": float("nan")}, ValueError, "lr=nan"),
    ("adam", {"lr": float("inf")}, ValueError, "lr=inf"),
    ("adam", {"lr": "0.1"}, TypeError, "lr='0.1'"),
    ("sgd", {"momentum": 1.0}, ValueError, "momentum=1.0"),
    ("sgd", {"momentum": -0.5}, ValueError, "momentum=-0.5"),
    ("sgd", {"dampening": 1.5}, ValueError, "dampening=1.5"),
    ("sgd", {"nesterov": True}, ValueError, "momentum=0.0"),
    ("sgd", {"nesterov": True, "momentum": 0.9, "dampening": 0.1}, ValueError, "dampening=0.1"),
    ("sgd", {"weight_decay": -1e-4}, ValueError, "weight_decay=-0.0001"),
    ("sgd", {"maximize": 1}, TypeError, "maximize=1"),
    ("adam", {"betas": (1.0, 0.999)}, ValueError, "betas[0]=1.0"),
    ("adam", {"betas": (0.9, -0.1)}, ValueError, "betas[1]=-0.1"),
    ("adamw", {"betas": 0.9}, TypeError, "betas=0.9"),
    ("nadam", {"betas": (0.9, 0.99, 0.9)}, TypeError, "betas=(0.9, 0.99, 0.9)"),
    ("adam", {"eps": 0.0}, ValueError, "eps=0.0"),
    ("adam", {"eps": -1e-8}, ValueError, "eps=-1e-08"),
    ("adam", {"amsgrad": "yes"}, TypeError, "amsgrad='yes'"),
    ("adagrad", {"lr_decay": -0.1}, ValueError, "lr_decay=-0.1"),
    ("adagrad", {"initial_accumulator_value": -1.0}, ValueError,
     "initial_accumulator_value=-1.0"),
    ("adagrad", {"eps": 0}, ValueError, "eps=0"),
    ("rmsprop", {"alpha": 1.0}, ValueError, "alpha=1.0"),
    ("rmsprop", {"momentum": 2.0}, ValueError, "momentum=2.0"),
    ("rmsprop", {"centered": None}, TypeError, "centered=None"),
    ("adadelta", {"rho": 1.2}, ValueError, "rho=1.2"),
    ("adadelta", {"eps": -1.0}, ValueError, "eps=-1.0"),
    ("nadam", {"momentum_decay": -4e-3}, ValueError, "momentum_decay=-0.004"),
    ("nadam", {"decoupled_weight_decay": "no"}, TypeError, "decoupled_weight_decay='no'"),
    ("adamw", {"weight_decay": float("nan")}, ValueError, "weight_decay=nan"),
]


@pytest.mark.parametrize("form", ["pure rule", "class"])
@pytest.mark.parametrize(("name", "kwargs", "error", "quoted"), BAD_HYPER,
                         ids=[f"{c[0]}-{c[3]}" for c in BAD_HYPER])
def test_bad_hyperparameter_raises_an_error_quoting_it(form, name, kwargs, error, quoted):
    rule, cls = RULES[name]
    with pytest.raises(error) as info:
        if form == "pure rule":
            rule(P, G, **kwargs)
        else:
            cls([np.ones(2)], **kwargs)
    assert quoted in str(info.value)


BAD_GRADS = [
    (np.ones(3), ValueError, "shape"),
    (np.array(["a", "b"]), TypeError, "real numbers"),
]
NON_FINITE_GRADS = [np.array([1.0, np.nan]), np.array([np.inf, 1.0]), np.array([-np.inf, np.inf])]


@pytest.mark.parametrize("name", sorted(RULES))
@pytest.mark.parametrize(("grad", "error", "words"), BAD_GRADS, ids=["shape", "strings"])
def test_bad_gradient_raises_an_error_naming_grad(name, grad, error, words):
    rule, cls = RULES[name]
    with pytest.raises(error, match=words) as info:
        rule(P, grad)
    assert "grad" in str(info.value)
    with pytest.raises(error, match=words) as info:
        cls([np.ones(2)]).step([grad])
    assert "grads[0]" in str(info.value)


@pytest.mark.parametrize("name", sorted(RULES))
@pytest.mark.parametrize("grad", NON_FINITE_GRADS, ids=["nan", "inf", "inf-inf"])
def test_pure_rule_refuses_a_non_finite_gradient(name, grad):
    rule, _ = RULES[name]
    with pytest.raises(ValueError, match="non-finite") as info:
        rule(P, grad)
    assert "grad" in str(info.value)


@pytest.mark.parametrize("name", sorted(RULES))
@pytest.mark.parametrize("grad", NON_FINITE_GRADS, ids=["nan", "inf", "inf-inf"])
def test_class_applies_a_non_finite_gradient_silently_like_torch(name, grad):
    # (the values themselves are checked against torch in test_optimizers_torch.py)
    _, cls = RULES[name]
    param = np.ones(2)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no NumPy overflow or invalid-value warning
        cls([param]).step([grad])
    assert not np.isfinite(param).all()


def test_huge_but_finite_gradient_is_accepted():
    # its dot product overflows; the element-wise check must then clear it
    with np.errstate(over="ignore"):
        new, _ = opt.sgd_step(np.zeros(2), np.array([1e200, -1e200]), lr=1e-200)
    np.testing.assert_allclose(new, [-1.0, 1.0])


def test_a_bad_gradient_leaves_every_parameter_untouched():
    w1, w2 = np.ones(2), np.ones(2)
    sgd = opt.SGD([w1, w2], lr=0.1)
    with pytest.raises(ValueError, match=r"grads\[1\]"):
        sgd.step([np.ones(2), np.ones(3)])
    np.testing.assert_array_equal(w1, np.ones(2))


def test_a_bad_lr_written_by_a_schedule_is_caught_at_the_next_step():
    w = np.ones(2)
    sgd = opt.SGD([w], lr=0.1)
    sgd.param_groups[0]["lr"] = -1.0
    with pytest.raises(ValueError, match=r"lr=-1\.0"):
        sgd.step([np.ones(2)])
    np.testing.assert_array_equal(w, np.ones(2))


def test_unknown_hyperparameter_in_a_param_group_raises_type_error_naming_it():
    with pytest.raises(TypeError, match="'bets'") as info:
        opt.Adam([{"params": [np.ones(1)], "bets": (0.9, 0.99)}])
    assert "param_groups[0]" in str(info.value)


def test_unknown_hyperparameter_in_make_optimizer_raises_type_error_naming_it():
    with pytest.raises(TypeError, match="'momentum'"):
        opt.make_optimizer("adam", [np.ones(1)], momentum=0.9)


def test_unknown_optimizer_name_raises_value_error_quoting_it():
    with pytest.raises(ValueError, match="name='lion'"):
        opt.make_optimizer("lion", [np.ones(1)])


@pytest.mark.parametrize(("params", "error", "words"), [
    (np.ones(3), TypeError, "single ndarray"),
    ([], ValueError, "at least one"),
    ([[1.0, 2.0]], TypeError, "NumPy array"),
    ([np.arange(3)], TypeError, "floating-point"),
    ([np.ones(2), {"params": [np.ones(1)]}], TypeError, "not a mix"),
    ([{"lr": 0.1}], TypeError, "'params'"),
], ids=["single-array", "empty", "list", "int-array", "mixed", "group-without-params"])
def test_bad_params_raise_an_error_saying_what_is_wrong(params, error, words):
    with pytest.raises(error, match=words):
        opt.SGD(params, lr=0.1)


def test_a_read_only_parameter_is_rejected():
    w = np.ones(2)
    w.flags.writeable = False
    with pytest.raises(ValueError, match="writeable"):
        opt.SGD([w])


def test_the_same_array_in_two_groups_is_rejected():
    w = np.ones(2)
    with pytest.raises(ValueError, match="appears twice"):
        opt.SGD([{"params": [w]}, {"params": [w]}])


def test_step_needs_one_gradient_per_parameter():
    sgd = opt.SGD([np.ones(1), np.ones(1)])
    with pytest.raises(ValueError, match=r"one gradient per parameter \(2\), got 1"):
        sgd.step([np.ones(1)])
    with pytest.raises(TypeError, match=r"step\(\[grad\]\)"):
        opt.SGD([np.ones(3)]).step(np.ones(3))


def test_pure_rule_rejects_a_state_of_another_method_or_shape():
    _, sgd_state = opt.sgd_step(P, G, momentum=0.9)
    with pytest.raises(TypeError, match="state must be a AdamState"):
        opt.adam_step(P, G, sgd_state)
    _, adam_state = opt.adam_step(np.ones(3), np.ones(3))
    with pytest.raises(ValueError, match=r"state.exp_avg must have the shape of param \(2,\)"):
        opt.adam_step(P, G, adam_state)


# ---------------------------------------------------------------------------------------------
# The block and thread engine: same numbers however the work is cut
# ---------------------------------------------------------------------------------------------

BIG = 5 * opt._BLOCK + 123  # several blocks and a ragged end


@pytest.fixture
def threads():
    before = opt.get_num_threads()
    yield opt.set_num_threads
    opt.set_num_threads(before)


@pytest.mark.parametrize("name", sorted(RULES))
def test_blocks_and_threads_give_the_numbers_of_one_whole_array_pass(name, threads):
    _, cls = RULES[name]
    rng = np.random.default_rng(11)
    start = rng.standard_normal((BIG, 2))
    grads = [rng.standard_normal((BIG, 2)) for _ in range(3)]
    results = []
    for n_threads, order in [(1, "C"), (3, "C"), (1, "F")]:  # F order: one unblocked call
        threads(n_threads)
        param = np.array(start, order=order)
        optimizer = cls([param], **ALL_OPTIONS[name])
        for g in grads:
            optimizer.step([np.array(g, order=order)])
        results.append(param)
    np.testing.assert_array_equal(results[0], results[1])
    np.testing.assert_array_equal(results[0], results[2])


def test_worker_threads_obey_the_callers_errstate(threads):
    threads(2)
    w = np.ones(BIG)
    adam = opt.Adam([w])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with np.errstate(over="ignore", invalid="ignore"):
            adam.step([np.full(BIG, 1e200)])  # g² overflows in every block


def test_set_num_threads_rejects_zero():
    with pytest.raises(ValueError, match="n=0"):
        opt.set_num_threads(0)
