"""lrcourse.distributed: simulated data parallelism, batch-size scaling rules, warm-up and LARS."""

from __future__ import annotations

import doctest
import math
import warnings

import numpy as np
import pytest

import lrcourse.distributed
from lrcourse.distributed import (
    LARS,
    LARSState,
    data_parallel_grad,
    gradual_warmup,
    lars_step,
    lars_trust_ratio,
    linear_scaling,
    sqrt_scaling,
    train_data_parallel,
)
from lrcourse.nn import MLP
from lrcourse.optimizers import SGD
from lrcourse.problems import Dataset, Quadratic, load_digits, two_moons
from lrcourse.schedules import join, step_decay
from lrcourse.train import landscape_objective, supervised_objective, train

# =============================================================================================
# K workers, one gradient
# =============================================================================================


@pytest.mark.parametrize("workers", [1, 2, 4, 8])
@pytest.mark.parametrize("loss", ["cross_entropy", "mse"])
def test_data_parallel_gradient_equals_the_gradient_of_the_k_times_larger_batch(workers, loss,
                                                                                 rng):
    per_worker = 16
    X = rng.standard_normal((workers * per_worker, 5))
    if loss == "mse":
        net, y = MLP([5, 12, 3], activation="tanh", seed=1), rng.standard_normal((len(X), 3))
    else:
        net, y = MLP([5, 12, 3], seed=1), rng.integers(0, 3, len(X))
    total, grads = data_parallel_grad(net, X, y, workers=workers, loss=loss)
    big_total, big_grads = net.loss_and_grads(X, y, loss=loss)
    assert total == pytest.approx(big_total, rel=1e-12, abs=1e-14)
    for g, G in zip(grads, big_grads, strict=True):
        np.testing.assert_allclose(g, G, rtol=1e-12, atol=1e-14)


def test_data_parallel_gradient_with_uneven_shards_weights_each_worker_by_its_share(rng):
    X, y = rng.standard_normal((10, 4)), rng.integers(0, 2, 10)
    net = MLP([4, 6, 2], seed=0)
    total, grads = data_parallel_grad(net, X, y, workers=3)  # shards of 4, 3 and 3 rows
    big_total, big_grads = net.loss_and_grads(X, y)
    assert total == pytest.approx(big_total, rel=1e-12)
    for g, G in zip(grads, big_grads, strict=True):
        np.testing.assert_allclose(g, G, rtol=1e-12, atol=1e-14)


def test_each_worker_sees_only_its_own_consecutive_shard(rng):
    X, y = rng.standard_normal((12, 2)), rng.integers(0, 2, 12)

    class Spy(MLP):
        def loss_and_grads(self, X, y, loss="cross_entropy"):
            seen.append(X.copy())
            return super().loss_and_grads(X, y, loss=loss)

    seen: list[np.ndarray] = []
    data_parallel_grad(Spy([2, 2], seed=0), X, y, workers=4)
    assert len(seen) == 4
    for k, shard in enumerate(seen):
        np.testing.assert_array_equal(shard, X[3 * k: 3 * k + 3])


def test_the_gradient_of_one_shard_differs_from_the_average():
    data = two_moons(n=64, seed=0)
    net = MLP([2, 8, 2], seed=0)
    _, shard = net.loss_and_grads(data.X[:16], data.y[:16])
    _, average = data_parallel_grad(net, data.X, data.y, workers=4)
    assert np.abs(shard[0] - average[0]).max() > 1e-3  # the average is not any one worker's


# =============================================================================================
# Scaling rules and warm-up
# =============================================================================================


def test_linear_scaling_multiplies_the_rate_by_the_batch_ratio():
    assert linear_scaling(0.1, 256, 256) == 0.1
    assert linear_scaling(0.1, 256, 8192) == pytest.approx(3.2, rel=1e-15)
    assert linear_scaling(0.4, 128, 32) == pytest.approx(0.1, rel=1e-15)
    for k in (2, 3, 7):
        assert linear_scaling(0.05, 10, 10 * k) == pytest.approx(0.05 * k, rel=1e-15)


def test_sqrt_scaling_multiplies_the_rate_by_the_square_root_of_the_batch_ratio():
    assert sqrt_scaling(0.1, 256, 256) == 0.1
    assert sqrt_scaling(0.1, 256, 1024) == pytest.approx(0.2, rel=1e-15)
    assert sqrt_scaling(0.3, 10, 30) == pytest.approx(0.3 * math.sqrt(3), rel=1e-15)
    assert sqrt_scaling(0.1, 64, 4096) < linear_scaling(0.1, 64, 4096)


def test_gradual_warmup_climbs_linearly_from_the_base_rate_to_the_scaled_rate():
    base, scaled, W = 0.1, 3.2, 5
    sched = gradual_warmup(base, scaled, W)
    t = np.arange(12)
    expected = np.where(t < W, base + (scaled - base) * t / W, scaled)  # Goyal et al. (2017)
    np.testing.assert_allclose(sched(t), expected, rtol=1e-14)
    assert sched(0) == pytest.approx(base, rel=1e-15) and sched(W) == scaled


def test_gradual_warmup_of_zero_steps_is_the_scaled_rate_from_the_start():
    np.testing.assert_array_equal(gradual_warmup(0.1, 0.8, 0)([0, 1, 5]), [0.8, 0.8, 0.8])


def test_gradual_warmup_joins_with_a_decay_that_starts_at_the_scaled_rate():
    sched = join([gradual_warmup(0.1, 0.4, 3), step_decay(0.4, step_size=2, gamma=0.5)], [3])
    np.testing.assert_allclose(sched(range(8)), [0.1, 0.2, 0.3, 0.4, 0.4, 0.2, 0.2, 0.1])


# =============================================================================================
# Training with K workers
# =============================================================================================


def _digits() -> Dataset:
    d = load_digits()
    return Dataset(X=d.X / d.X.max(), y=d.y)


def test_train_data_parallel_records_the_warmed_up_linearly_scaled_rate():
    net = MLP([2, 8, 2], seed=0)
    h = train_data_parallel(net, two_moons(200, seed=0), workers=4, per_worker_batch=8,
                            steps=12, base_lr=0.05, lr_rule="linear", warmup_steps=6)
    np.testing.assert_allclose(h.lr, gradual_warmup(0.05, 0.2, 6)(np.arange(12)), rtol=1e-14)


@pytest.mark.parametrize(("rule", "expected"), [("none", 0.05), ("linear", 0.8), ("sqrt", 0.2)])
def test_train_data_parallel_scales_the_rate_from_the_base_batch(rule, expected):
    h = train_data_parallel(MLP([2, 8, 2], seed=0), two_moons(200, seed=0), workers=16,
                            per_worker_batch=4, steps=3, base_lr=0.05, base_batch=4, lr_rule=rule)
    np.testing.assert_allclose(h.lr, expected, rtol=1e-14)


def test_k_workers_train_exactly_like_one_worker_with_the_k_times_larger_batch():
    data = two_moons(200, seed=1)
    a, b = MLP([2, 8, 2], seed=0), MLP([2, 8, 2], seed=0)
    many = train_data_parallel(a, data, workers=8, per_worker_batch=4, steps=30, base_lr=0.3,
                               lr_rule="none", seed=3)
    one = train_data_parallel(b, data, workers=1, per_worker_batch=32, steps=30, base_lr=0.3,
                              lr_rule="none", seed=3)
    np.testing.assert_allclose(many.loss, one.loss, rtol=1e-12)
    for p, q in zip(a.params, b.params, strict=True):
        np.testing.assert_allclose(p, q, rtol=1e-10, atol=1e-13)


def test_train_data_parallel_equals_train_on_the_same_batches_with_the_same_schedule():
    data = two_moons(200, seed=2)
    a, b = MLP([2, 8, 2], seed=0), MLP([2, 8, 2], seed=0)
    h = train_data_parallel(a, data, workers=2, per_worker_batch=16, steps=20, base_lr=0.1,
                            warmup_steps=5, seed=4)
    obj = supervised_objective(b, data.X, data.y, batch_size=32)
    reference = train(obj, SGD(b.params, lr=0.2), 20, schedule=gradual_warmup(0.1, 0.2, 5), seed=4)
    np.testing.assert_allclose(h.loss, reference.loss, rtol=1e-12)


def test_large_batch_needs_the_scaled_rate_and_warmup_to_match_small_batch_progress():
    data, K, b, base_lr = _digits(), 8, 16, 0.2
    steps = 1600 // K  # the same number of samples as 1600 steps of one worker

    def final(lr_rule, warmup_steps):
        h = train_data_parallel(MLP([64, 64, 10], seed=0), data, K, b, steps, base_lr,
                                lr_rule=lr_rule, warmup_steps=warmup_steps, eval_data=data,
                                eval_every=steps // 5, seed=0)
        return h.val_loss

    unscaled, scaled, warmed = final("none", 0), final("linear", 0), final("linear", 40)
    assert warmed[-1] < 0.5 * unscaled[-1]  # same rate, K× fewer steps: too slow
    assert warmed[-1] < 0.5 * scaled[-1]    # K× the rate from step 0: unstable early
    assert np.any(np.diff(scaled) > 0) and np.all(np.diff(warmed[1:]) < 0.01)


def test_train_data_parallel_accepts_a_pair_and_an_optimizer_instance():
    data = two_moons(100, seed=0)
    net = MLP([2, 8, 2], seed=0)
    opt = LARS(net.params, lr=1.0, trust_coefficient=0.02, exclude_bias=True)
    h = train_data_parallel(net, (data.X, data.y), 2, 10, steps=20, base_lr=0.5, optimizer=opt)
    np.testing.assert_allclose(h.lr, 1.0)  # 2 workers: 2 × 0.5
    assert h.loss[-1] < h.loss[0]


# =============================================================================================
# LARS
# =============================================================================================


def test_lars_trust_ratio_is_eta_times_the_weight_norm_over_grad_norm_plus_decayed_weight_norm(
        rng):
    w, g = rng.standard_normal((4, 3)), rng.standard_normal((4, 3))
    eta, beta, eps = 0.002, 0.01, 1e-9
    expected = eta * np.linalg.norm(w) / (np.linalg.norm(g) + beta * np.linalg.norm(w) + eps)
    assert lars_trust_ratio(w, g, eta, beta, eps) == pytest.approx(expected, rel=1e-14)


def test_lars_trust_ratio_scales_with_the_weights_and_inversely_with_the_gradient(rng):
    w, g = rng.standard_normal(6), rng.standard_normal(6)
    ratio = lars_trust_ratio(w, g, 0.01, eps=0.0)
    assert lars_trust_ratio(3 * w, g, 0.01, eps=0.0) == pytest.approx(3 * ratio, rel=1e-14)
    assert lars_trust_ratio(w, 5 * g, 0.01, eps=0.0) == pytest.approx(ratio / 5, rel=1e-14)


def test_lars_trust_ratio_is_one_when_either_norm_is_zero():
    assert lars_trust_ratio(np.zeros(3), np.ones(3)) == 1.0
    assert lars_trust_ratio(np.ones(3), np.zeros(3), weight_decay=0.1) == 1.0
    assert lars_trust_ratio(np.zeros((2, 2)), np.zeros((2, 2))) == 1.0


def test_lars_trust_ratio_eps_only_guards_the_division():
    w, g = np.array([3.0, 4.0]), np.array([1e-12, 0.0])
    assert lars_trust_ratio(w, g, 0.001, eps=1e-9) == pytest.approx(0.001 * 5 / (1e-12 + 1e-9))
    assert lars_trust_ratio(w, g, 0.001, eps=0.0) == pytest.approx(0.001 * 5 / 1e-12)


def _hand_lars(params, grads_seq, lr, momentum, weight_decay, eta, eps):
    """LARS by hand, one layer at a time: the formula of lars_step's docstring."""
    params = [p.copy() for p in params]
    buffers = [None] * len(params)
    for grads in grads_seq:
        for i, (p, g) in enumerate(zip(params, grads, strict=True)):
            wn, gn = np.sqrt(np.sum(p**2)), np.sqrt(np.sum(g**2))
            ratio = eta * wn / (gn + weight_decay * wn + eps) if wn > 0 and gn > 0 else 1.0
            d = ratio * (g + weight_decay * p)
            buffers[i] = d if buffers[i] is None else momentum * buffers[i] + d
            params[i] = p - lr * buffers[i]
    return params


def test_lars_updates_the_arrays_in_place_as_the_hand_computation_says(rng):
    W, b = 5 * rng.standard_normal((3, 4)), np.zeros(4)  # a zero bias: trust ratio 1
    grads_seq = [[rng.standard_normal((3, 4)), rng.standard_normal(4)] for _ in range(4)]
    expected = _hand_lars([W, b], grads_seq, lr=0.5, momentum=0.9, weight_decay=1e-3,
                          eta=0.01, eps=1e-9)
    W_id, b_id = id(W), id(b)
    opt = LARS([W, b], lr=0.5, momentum=0.9, weight_decay=1e-3, trust_coefficient=0.01)
    for grads in grads_seq:
        opt.step(grads)
    assert [id(p) for p in opt.param_groups[0]["params"]] == [W_id, b_id]
    np.testing.assert_allclose(W, expected[0], rtol=1e-13)
    np.testing.assert_allclose(b, expected[1], rtol=1e-13)


def test_each_layer_moves_by_lr_times_eta_times_its_own_norm_whatever_its_gradient_scale(rng):
    small, big = rng.standard_normal(5), 100 * rng.standard_normal((2, 5))
    before = [small.copy(), big.copy()]
    LARS([small, big], lr=0.5, momentum=0.0, trust_coefficient=0.02, eps=0.0).step(
        [1e-4 * rng.standard_normal(5), 1e4 * rng.standard_normal((2, 5))])
    for now, then in zip([small, big], before, strict=True):
        assert np.linalg.norm(now - then) == pytest.approx(0.5 * 0.02 * np.linalg.norm(then))


def test_lars_step_pure_rule_equals_the_class_and_leaves_its_inputs_alone(rng):
    w = rng.standard_normal((2, 3))
    grads = [rng.standard_normal((2, 3)) for _ in range(3)]
    w_in, state = w.copy(), None
    for g in grads:
        g_in = g.copy()
        w_in_before = w_in.copy()
        w_new, state = lars_step(w_in, g_in, state, lr=0.2, momentum=0.9, weight_decay=0.01,
                                 trust_coefficient=0.05)
        np.testing.assert_array_equal(w_in, w_in_before)
        np.testing.assert_array_equal(g_in, g)
        w_in = w_new
    opt = LARS([w], lr=0.2, momentum=0.9, weight_decay=0.01, trust_coefficient=0.05)
    for g in grads:
        opt.step([g])
    np.testing.assert_array_equal(w, w_in)
    assert isinstance(state, LARSState)
    np.testing.assert_array_equal(state.momentum_buffer, opt.state[0]["momentum_buffer"])


def test_lars_without_momentum_keeps_no_buffer_and_takes_the_scaled_step(rng):
    w, g = rng.standard_normal(4), rng.standard_normal(4)
    new, state = lars_step(w, g, lr=0.3, momentum=0.0, trust_coefficient=0.01)
    np.testing.assert_allclose(new, w - 0.3 * lars_trust_ratio(w, g, 0.01) * g, rtol=1e-14)
    assert state.momentum_buffer is None


def test_lars_exclude_bias_gives_one_dimensional_parameters_plain_momentum_sgd(rng):
    W, b = rng.standard_normal((3, 2)), rng.standard_normal(2)
    gW, gb = rng.standard_normal((3, 2)), rng.standard_normal(2)
    b_before, W_before = b.copy(), W.copy()
    LARS([W, b], lr=0.1, momentum=0.9, weight_decay=0.5, trust_coefficient=0.01,
         exclude_bias=True).step([gW, gb])
    np.testing.assert_allclose(b, b_before - 0.1 * gb, rtol=1e-14)  # no ratio, no decay
    ratio = lars_trust_ratio(W_before, gW, 0.01, 0.5)
    np.testing.assert_allclose(W, W_before - 0.1 * ratio * (gW + 0.5 * W_before), rtol=1e-14)


def test_lars_param_groups_keep_their_own_rate_and_coefficients(rng):
    w1, w2 = rng.standard_normal(3), rng.standard_normal(3)
    g1, g2 = rng.standard_normal(3), rng.standard_normal(3)
    e1, e2 = w1.copy(), w2.copy()
    opt = LARS([{"params": [w1]}, {"params": [w2], "lr": 0.01, "trust_coefficient": 0.1}],
               lr=1.0, momentum=0.0, trust_coefficient=0.001)
    opt.step([g1, g2])
    np.testing.assert_allclose(w1, e1 - 1.0 * lars_trust_ratio(e1, g1, 0.001) * g1)
    np.testing.assert_allclose(w2, e2 - 0.01 * lars_trust_ratio(e2, g2, 0.1) * g2)


def test_lars_state_dict_round_trip_continues_the_same_path(rng):
    grads = [[rng.standard_normal(3)] for _ in range(4)]
    w = np.array([1.0, -2.0, 0.5])
    opt = LARS([w], lr=0.3, momentum=0.9, trust_coefficient=0.05)
    for g in grads[:2]:
        opt.step(g)
    saved, w_saved = opt.state_dict(), w.copy()
    for g in grads[2:]:
        opt.step(g)
    w2 = w_saved.copy()
    fresh = LARS([w2], lr=99.0)
    fresh.load_state_dict(saved)
    for g in grads[2:]:
        fresh.step(g)
    np.testing.assert_array_equal(w2, w)
    assert fresh.param_groups[0]["lr"] == 0.3 and fresh.param_groups[0]["trust_coefficient"] == 0.05


def test_lars_trains_under_train_with_a_schedule_driving_its_global_rate():
    obj = landscape_objective(Quadratic.from_condition(10.0), x0=[-2.5, 1.5])
    opt = LARS(obj.params, lr=1.0, momentum=0.9, trust_coefficient=0.05)
    h = train(obj, opt, steps=60, schedule=gradual_warmup(0.1, 1.0, 10))
    np.testing.assert_allclose(h.lr[:3], [0.1, 0.19, 0.28])
    assert not h.diverged and h.loss[-1] < 0.05 * h.loss[0]


# =============================================================================================
# Validation and doctests
# =============================================================================================


def _net():
    return MLP([2, 4, 2], seed=0)


@pytest.mark.parametrize(("call", "error", "name"), [
    (lambda: data_parallel_grad(_net(), np.ones((4, 2)), np.zeros(4, int), workers=0), ValueError,
     "workers"),
    (lambda: data_parallel_grad(_net(), np.ones((4, 2)), np.zeros(4, int), workers=5), ValueError,
     "workers"),
    (lambda: data_parallel_grad(_net(), np.ones((4, 2)), np.zeros(3, int), workers=2), ValueError,
     "y must have one entry"),
    (lambda: data_parallel_grad("net", np.ones((4, 2)), np.zeros(4, int), 2), TypeError, "model"),
    (lambda: data_parallel_grad(_net(), np.ones((4, 2)), np.zeros(4, int), 2, loss="l1"),
     ValueError, "loss"),
    (lambda: linear_scaling(-0.1, 32, 64), ValueError, "base_lr"),
    (lambda: linear_scaling(0.1, 0, 64), ValueError, "base_batch"),
    (lambda: sqrt_scaling(0.1, 32, 2.5), TypeError, "batch"),
    (lambda: gradual_warmup(0.5, 0.1, 5), ValueError, "scaled_lr"),
    (lambda: gradual_warmup(0.1, 0.5, -1), ValueError, "warmup_steps"),
    (lambda: train_data_parallel(_net(), two_moons(20), 4, 8, 5, 0.1), ValueError,
     "workers \\* per_worker_batch"),
    (lambda: train_data_parallel(_net(), two_moons(20), 2, 4, 5, 0.1, lr_rule="cubic"),
     ValueError, "lr_rule"),
    (lambda: train_data_parallel(_net(), two_moons(20), 2, 4, 5, 0.1, optimizer=3), TypeError,
     "optimizer"),
    (lambda: train_data_parallel(_net(), two_moons(20), 2, 4, 5, 0.1, eval_every=2), ValueError,
     "eval_data"),
    (lambda: train_data_parallel(_net(), "data", 2, 4, 5, 0.1), TypeError, "data"),
    (lambda: train_data_parallel(_net(), two_moons(20), 1, 4, 5, 0.1, base_batch=8,
                                 warmup_steps=3), ValueError, "warmup_steps"),
    (lambda: lars_trust_ratio(np.ones(3), np.ones(2)), ValueError, "grad"),
    (lambda: lars_trust_ratio(np.ones(3), np.ones(3), trust_coefficient=0.0), ValueError,
     "trust_coefficient"),
    (lambda: lars_trust_ratio(np.ones(3), np.ones(3), eps=-1.0), ValueError, "eps"),
    (lambda: lars_trust_ratio(np.ones(3), np.array([1.0, np.nan, 0.0])), ValueError, "grad"),
    (lambda: LARS([np.ones(2)], lr=-1.0), ValueError, "lr"),
    (lambda: LARS([np.ones(2)], momentum=1.0), ValueError, "momentum"),
    (lambda: LARS([np.ones(2)], weight_decay=-0.1), ValueError, "weight_decay"),
    (lambda: LARS([np.ones(2)], exclude_bias="yes"), TypeError, "exclude_bias"),
    (lambda: LARS([np.ones(2)]).step([np.ones(3)]), ValueError, "grads\\[0\\]"),
    (lambda: lars_step(np.ones(2), np.ones(2), state="buffer"), TypeError, "state"),
])
def test_invalid_arguments_raise_an_error_naming_the_argument(call, error, name):
    with pytest.raises(error, match=name):
        call()


def test_lars_class_applies_a_non_finite_gradient_silently_like_every_optimizer_class():
    param = np.ones(2)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        LARS([param], lr=0.1).step([np.array([np.inf, 0.0])])
    assert not np.isfinite(param).all()


def test_docstring_examples_run():
    result = doctest.testmod(lrcourse.distributed,
                             optionflags=doctest.NORMALIZE_WHITESPACE | doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0
