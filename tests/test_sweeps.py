"""lrcourse.sweeps: many rates (and momenta) as one batched computation."""

from __future__ import annotations

import doctest
import warnings

import numpy as np
import pytest

import lrcourse.sweeps
from lrcourse.nn import MLP
from lrcourse.optimizers import SGD, sgd_step
from lrcourse.problems import (
    LinearRegressionLoss,
    LogisticRegressionLoss,
    Parabola,
    Quadratic,
    spirals,
    train_val_split,
    two_moons,
)
from lrcourse.schedules import cosine_annealing, one_cycle
from lrcourse.sweeps import REGIMES, minibatches, sweep, sweep_mlp, sweep_sgd
from lrcourse.train import has_diverged, supervised_objective, train


def loop_sgd(landscape, lr, momentum, nesterov, x0, steps, grad=None):
    """The reference: one run as a plain loop over sgd_step, no divergence handling."""
    grad = grad or (lambda x, k: landscape.grad(x))
    x, state, path = np.asarray(x0, dtype=float), None, []
    with np.errstate(all="ignore"):
        for k in range(steps + 1):
            path.append(x)
            if k < steps:
                x, state = sgd_step(x, grad(x, k), state, lr=lr, momentum=momentum,
                                    nesterov=nesterov)
        path = np.array(path)
        return path, landscape.loss(path)


MOONS = (two_moons(40, noise=0.25, seed=0).X, two_moons(40, noise=0.25, seed=0).y)


def regression(n=120, d=4, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d)) * np.linspace(0.5, 1.5, d)
    return LinearRegressionLoss(X, X @ rng.normal(size=d) + 0.3 * rng.normal(size=n))


# --- equal to single runs of sgd_step -------------------------------------------------------------


@pytest.mark.parametrize(("momentum", "nesterov"), [(0.0, False), (0.9, False), (0.7, True)])
def test_each_run_equals_a_single_run_loop_over_sgd_step(momentum, nesterov):
    q = Quadratic(eigenvalues=(0.3, 4.0), angle=0.5, center=(1.0, -0.5))
    lrs = np.array([0.01, 0.1, 0.2, 0.3])  # all stable, with Nesterov's β = 0.7 too
    x0 = np.array([2.0, 1.5])
    result = sweep(q, lrs, 60, x0=x0, momentum=momentum, nesterov=nesterov, record_path=True)
    for i, lr in enumerate(lrs):
        path, loss = loop_sgd(q, lr, momentum, nesterov, x0, 60)
        np.testing.assert_array_equal(result.path[i], path)
        np.testing.assert_array_equal(result.loss[i], loss)
    assert np.all(result.diverged_at == -1)


def test_each_point_of_a_momentum_grid_equals_its_single_run():
    q = Quadratic(eigenvalues=(0.5, 2.0), angle=0.3)
    lrs, momenta = np.array([0.05, 0.4, 0.9]), np.array([0.0, 0.5, 0.95])
    result = sweep(q, lrs[:, None], 40, momentum=momenta[None, :], record_path=True)
    for i, lr in enumerate(lrs):
        for j, beta in enumerate(momenta):
            path, loss = loop_sgd(q, lr, beta, False, q.x0, 40)
            np.testing.assert_array_equal(result.path[i, j], path)
            np.testing.assert_array_equal(result.loss[i, j], loss)


def test_parabola_sweep_equals_the_closed_form():
    lam, c = 3.0, -1.0
    p = Parabola(curvature=lam, center=c)
    lrs = np.array([0.01, 0.2, 1 / 3, 0.5, 0.6])
    result = sweep(p, lrs, 30, x0=1.0, record_path=True)
    k = np.arange(31)
    expected = c + (1 - lrs[:, None] * lam) ** k * (1.0 - c)
    np.testing.assert_allclose(result.path[..., 0], expected, rtol=1e-12, atol=1e-14)


# --- divergence -----------------------------------------------------------------------------------


def test_diverged_at_matches_a_direct_simulation_of_the_divergence_rule():
    q = Quadratic(eigenvalues=(1.0, 10.0), angle=0.2)
    lrs = np.linspace(0.15, 0.4, 26)  # stable below 2/10 = 0.2
    momenta = np.array([0.0, 0.3])
    result = sweep(q, lrs[:, None], 80, momentum=momenta[None, :])
    for i, lr in enumerate(lrs):
        for j, beta in enumerate(momenta):
            _, loss = loop_sgd(q, lr, beta, False, q.x0, 80)
            best, expected = np.inf, -1
            for k, value in enumerate(loss):
                if has_diverged(value, best):
                    expected = k
                    break
                best = min(best, value)
            assert result.diverged_at[i, j] == expected
            stop = 81 if expected < 0 else expected + 1
            np.testing.assert_array_equal(result.loss[i, j, :stop], loss[:stop])
            assert np.all(np.isnan(result.loss[i, j, stop:]))
    assert (result.diverged_at >= 0).any() and (result.diverged_at == -1).any()


def test_divergent_runs_raise_no_warning_and_do_not_disturb_the_others():
    p = Parabola()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        result = sweep(p, [0.5, 1e3, 1e200, 1.5], 2000, x0=1.0, divergence_factor=None)
    assert list(result.diverged_at[[0, 3]]) == [-1, -1]
    assert result.diverged_at[1] > 0 and result.diverged_at[2] == 1  # (1e200)² overflows
    np.testing.assert_array_equal(result.final_loss[[0, 3]], result.loss[[0, 3], -1])
    assert np.all(np.isnan(result.final_loss[[1, 2]]))


class RawParabola:
    """L(x) = x²/2, batched, computed without silencing NumPy: its overflow would warn."""

    dim, x0, minimum = 1, np.array([1.0]), np.array([0.0])

    def loss(self, x):
        return 0.5 * x[..., 0] ** 2

    def grad(self, x):
        return x.copy()


def test_numpy_overflow_inside_the_landscape_does_not_leak_a_warning():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        result = sweep(RawParabola(), [0.5, 3.0, 1e200], 2000, divergence_factor=None,
                       momentum=0.5, nesterov=True)
    assert result.diverged_at[0] == -1 and result.diverged_at[2] == 1
    assert result.diverged_at[1] > 100


def test_a_frozen_run_keeps_its_path_up_to_divergence_and_nan_after():
    result = sweep(Parabola(), [3.0], 30, x0=1.0, record_path=True)
    k = result.diverged_at[0]
    assert k == 7  # loss 0.5 · 4^k > 1e4 · 0.5 first at k = 7
    np.testing.assert_array_equal(result.path[0, : k + 1, 0], (-2.0) ** np.arange(k + 1))
    assert np.all(np.isnan(result.path[0, k + 1 :]))


# --- shapes ---------------------------------------------------------------------------------------


def test_grid_broadcast_shapes_of_every_output():
    q = Quadratic()
    result = sweep(q, np.geomspace(1e-3, 1, 5)[:, None], 12, momentum=np.linspace(0, 0.9, 4)[None],
                   record_path=True)
    assert result.lrs.shape == result.momentum.shape == (5, 4)
    assert result.loss.shape == (5, 4, 13)
    assert result.path.shape == (5, 4, 13, 2)
    assert result.diverged_at.shape == result.final_loss.shape == (5, 4)
    assert result.steps_to(0.1).shape == result.regime().shape == (5, 4)
    assert result.reversals.shape == (5, 4, 11)
    np.testing.assert_array_equal(result.lrs[:, 0], np.geomspace(1e-3, 1, 5))


def test_paired_one_dimensional_lrs_and_momenta_give_a_one_dimensional_sweep():
    result = sweep(Parabola(), [0.1, 0.2, 0.3], 5, momentum=[0.0, 0.5, 0.9])
    assert result.loss.shape == (3, 6)
    np.testing.assert_array_equal(result.momentum, [0.0, 0.5, 0.9])


def test_x0_may_differ_per_run():
    starts = np.array([[1.0], [-2.0]])
    result = sweep(Parabola(), [0.1, 0.1], 3, x0=starts, record_path=True)
    np.testing.assert_array_equal(result.path[:, 0], starts)


def test_steps_to_and_final_loss():
    result = sweep(Parabola(curvature=1.0), [0.5, 0.0, 3.0], 10, x0=1.0)
    # loss_k = 0.5 · 0.25^k at α = 0.5
    assert list(result.steps_to(0.5 * 0.25**3)) == [3, -1, -1]
    assert result.steps_to(1.0)[0] == 0
    np.testing.assert_allclose(result.final_loss[:2], [0.5 * 0.25**10, 0.5], rtol=1e-14)
    assert np.isnan(result.final_loss[2])


# --- regimes --------------------------------------------------------------------------------------


@pytest.mark.parametrize("lam", [0.5, 1.0, 8.0])
def test_regime_labels_on_the_parabola_at_known_rates(lam):
    alpha_lambda = np.array([1e-4, 0.3, 0.9, 1.0, 1.1, 1.5, 1.9, 2.05, 2.5, 10.0])
    expected = ["too slow", "converges", "converges", "converges", "oscillates", "oscillates",
                "oscillates", "diverges", "diverges", "diverges"]
    result = sweep(Parabola(curvature=lam, center=0.3), alpha_lambda / lam, 100, x0=2.0)
    assert list(result.regime()) == expected


def test_regime_boundaries_sit_at_one_and_two_over_lambda():
    lam = 4.0
    alpha_lambda = np.linspace(0.05, 2.95, 59)  # steps of 0.05, avoiding 1 and 2 exactly
    alpha_lambda = alpha_lambda[np.abs(alpha_lambda - np.round(alpha_lambda)) > 1e-9]
    labels = sweep(Parabola(curvature=lam), alpha_lambda / lam, 200, x0=1.0).regime()
    assert np.all(labels[alpha_lambda < 1] == "converges")
    assert np.all(labels[(alpha_lambda > 1) & (alpha_lambda < 2)] == "oscillates")
    assert np.all(labels[alpha_lambda > 2] == "diverges")


def test_heavy_ball_oscillates_above_critical_damping_and_not_below():
    # On a parabola, heavy ball has complex roots (oscillates) when β > (1 - √(αλ))².
    lam, alpha = 1.0, 0.04  # critical β = 0.64
    result = sweep(Parabola(curvature=lam), alpha, 300, x0=1.0, momentum=[0.3, 0.5, 0.8, 0.95])
    assert list(result.regime()) == ["converges", "converges", "oscillates", "oscillates"]


def test_regime_too_slow_depends_on_tol():
    result = sweep(Parabola(), [0.02], 100, x0=1.0)  # gap ratio 0.98^200 ≈ 0.0176
    assert result.regime(tol=1e-3)[0] == "too slow"
    assert result.regime(tol=0.05)[0] == "converges"


def test_regime_labels_are_the_documented_four():
    labels = sweep(Quadratic(), np.geomspace(1e-4, 1, 30)[:, None], 50,
                   momentum=np.linspace(0, 0.99, 10)[None]).regime()
    assert set(np.unique(labels)) == set(REGIMES)


def test_regime_uses_the_best_loss_seen_when_the_minimum_is_unknown():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 2))
    loss = LogisticRegressionLoss(X, (X[:, 0] + 0.5 * rng.normal(size=60) > 0).astype(int))
    result = sweep(loss, [0.5, 1.0, 2.0], 200)
    assert result.loss_min == np.nanmin(result.loss)


# --- stochastic sweeps ----------------------------------------------------------------------------


def test_sweep_sgd_each_run_equals_a_minibatch_loop_with_the_same_batches():
    loss = regression()
    lrs = np.array([0.01, 0.1, 0.3])
    seed, batch = 4, 10
    result = sweep_sgd(loss, lrs, 30, batch_size=batch, seed=seed, momentum=0.5,
                       record_path=True)
    rng = np.random.default_rng(seed)
    batches = [rng.choice(loss.n, size=batch, replace=False) for _ in range(30)]
    for i, lr in enumerate(lrs):
        path, full_loss = loop_sgd(loss, lr, 0.5, False, loss.x0, 30,
                                   grad=lambda x, k: loss.minibatch_grad(x, batches[k]))
        # the same update; only BLAS may round a batched X product differently (~1e-16)
        np.testing.assert_allclose(result.path[i], path, rtol=1e-13, atol=1e-15)
        np.testing.assert_allclose(result.loss[i], full_loss, rtol=1e-13)


def test_minibatches_are_the_draws_of_the_training_loop():
    rng = np.random.default_rng(7)
    expected = [rng.choice(50, size=4, replace=False) for _ in range(6)]
    np.testing.assert_array_equal(minibatches(50, 4, steps=6, seed=7), expected)
    assert minibatches(50, None, steps=6) is None and minibatches(50, 50, steps=6) is None
    assert minibatches(50, 4, steps=0).shape == (0, 4)


def test_sweep_sgd_shares_the_batch_sequence_across_rates():
    loss = regression()
    a = sweep_sgd(loss, [0.05, 0.2, 0.05], 25, batch_size=8, seed=1)
    np.testing.assert_array_equal(a.loss[0], a.loss[2])
    b = sweep_sgd(loss, [0.05], 25, batch_size=8, seed=2)
    assert not np.array_equal(a.loss[0], b.loss[0])


def test_sweep_sgd_full_batch_equals_sweep():
    loss = regression()
    lrs = np.geomspace(1e-3, 1.0, 7)
    a = sweep_sgd(loss, lrs, 40, batch_size=None, momentum=0.8)
    b = sweep(loss, lrs, 40, momentum=0.8)
    np.testing.assert_array_equal(a.loss, b.loss)
    np.testing.assert_array_equal(a.diverged_at, b.diverged_at)


def test_noise_makes_small_batches_diverge_below_the_full_batch_stability_limit():
    # Full-batch GD is stable up to 2/λ_max; with batches of 2 the per-batch curvature is
    # far larger, so some rates below that limit already blow up.
    loss = regression(n=200, d=4, seed=3)
    lrs = np.linspace(0.5, 0.95, 10) * 2 / loss.lam_max
    full = sweep_sgd(loss, lrs, 200, batch_size=None, seed=0)
    small = sweep_sgd(loss, lrs, 200, batch_size=2, seed=0)
    assert np.all(full.diverged_at == -1)
    assert np.any(small.diverged_at >= 0)


# --- many MLP training runs -----------------------------------------------------------------------


def moons(seed=0, n=300):
    """Two noisy moons, split in halves: (train, val)."""
    return train_val_split(two_moons(n, noise=0.25, seed=seed), frac=0.5, seed=seed)


def library_run(sizes, data, lr, steps, momentum=0.0, weight_decay=0.0, batch_size=None,
                seed=0, batch_seed=0, val_every=None):
    """One run of lrcourse.train.train, as the docstring of sweep_mlp states (lr and momentum
    are per-update arrays)."""
    (X, y), (X_val, y_val) = data
    net = MLP(list(sizes), seed=seed)
    obj = supervised_objective(net, X, y, batch_size=batch_size, X_val=X_val, y_val=y_val)
    lr, momentum = np.broadcast_to(lr, (steps,)), np.broadcast_to(momentum, (steps,))
    opt = SGD(net.params, lr=float(lr[0]), momentum=float(momentum[0]),
              weight_decay=weight_decay)
    h = train(obj, opt, steps, schedule=lambda t: lr[t],
              momentum_schedule=(lambda t: momentum[t]) if momentum.any() else None,
              val_every=val_every, seed=batch_seed, warn=False)
    return h, net


def assert_run_is_the_library_run(runs, r, history, net):
    mine = runs.history(r)
    assert mine.diverged == history.diverged and mine.diverged_at == history.diverged_at
    np.testing.assert_array_equal(mine.loss, history.loss)
    np.testing.assert_array_equal(mine.lr, history.lr)
    if history.val_loss is not None:
        np.testing.assert_array_equal(mine.val_loss, history.val_loss)
        np.testing.assert_array_equal(mine.val_steps, history.val_steps)
    flat = np.concatenate([p[r].ravel() for p in runs.params])  # frozen where it diverged
    np.testing.assert_array_equal(flat, np.concatenate([p.ravel() for p in net.params]))


def test_sweep_mlp_each_run_equals_the_library_training_loop_number_for_number():
    tr, va = moons()
    data = ((tr.X, tr.y), (va.X, va.y))
    lrs = [0.01, 0.3, 2.0, 500.0]
    runs = sweep_mlp([2, 8, 2], tr.X, tr.y, lrs, 40, momentum=0.5, weight_decay=1e-3,
                     X_val=va.X, y_val=va.y, val_every=5, batch_size=16, batch_seed=3)
    for i, lr in enumerate(lrs):
        h, net = library_run([2, 8, 2], data, lr, 40, momentum=0.5, weight_decay=1e-3,
                             batch_size=16, batch_seed=3, val_every=5)
        assert_run_is_the_library_run(runs, i, h, net)
        if not h.diverged:
            full = net.loss_and_grads(tr.X, tr.y)[0]
            assert runs.final_train_loss[i] == full
    assert runs.diverged_at[-1] >= 0 and np.isnan(runs.final_train_loss[-1])


def test_sweep_mlp_schedules_with_their_momentum_cycle_run_as_in_the_library():
    tr, va = moons()
    data = ((tr.X, tr.y), (va.X, va.y))
    t = np.arange(30)
    cycle = one_cycle(1.0, 30)
    momentum = np.stack([cycle.momentum(t), np.where(t < 5, 0.0, 0.9),
                         np.where((t >= 10) & (t < 15), 0.0, 0.9)])
    lrs = np.stack([cycle(t), cosine_annealing(0.5, 30)(t), np.full(30, 0.2)])
    runs = sweep_mlp([2, 8, 8, 2], tr.X, tr.y, lrs, 30, momentum=momentum, batch_size=32)
    for r in range(3):  # (runs 1 and 2 switch momentum off for a while, as torch allows)
        h, net = library_run([2, 8, 8, 2], data, lrs[r], 30, momentum=momentum[r],
                             batch_size=32)
        assert_run_is_the_library_run(runs, r, h, net)


@pytest.mark.parametrize("classes", [3, 10])
def test_sweep_mlp_equals_the_library_for_more_classes(classes):
    tr, va = train_val_split(spirals(300, classes=classes, noise=0.2, seed=0), frac=0.5, seed=0)
    data = ((tr.X, tr.y), (va.X, va.y))
    runs = sweep_mlp([2, 16, classes], tr.X, tr.y, [0.1, 1.0], 25, batch_size=20, seed=[1, 2],
                     X_val=va.X, y_val=va.y, val_every=5)
    for r, lr in enumerate([0.1, 1.0]):
        h, net = library_run([2, 16, classes], data, lr, 25, batch_size=20, seed=r + 1,
                             val_every=5)
        assert_run_is_the_library_run(runs, r, h, net)


@pytest.mark.parametrize(("lr", "schedule", "weight_decay"),
                         [(0.3, "constant", 0.0), (0.1, "cosine", 1e-2), (30.0, "constant", 0.0)])
def test_sweep_mlp_runs_on_their_own_data_and_seeds_equal_the_library(lr, schedule,
                                                                       weight_decay):
    # section 07's setting: 40 points per run, a 2-32-32-2 network, batches of 8, each run
    # with its own data, initialisation and batches
    tasks = [moons(seed, n=240) for seed in (0, 1)]
    rates = np.full(100, lr) if schedule == "constant" else cosine_annealing(lr, 100)(
        np.arange(100))
    X, y = np.array([t.X[:40] for t, _ in tasks]), np.array([t.y[:40] for t, _ in tasks])
    X_val, y_val = np.array([v.X for _, v in tasks]), np.array([v.y for _, v in tasks])
    runs = sweep_mlp([2, 32, 32, 2], X, y, np.stack([rates, rates]), 100,
                     weight_decay=weight_decay, seed=[0, 1], batch_size=8,
                     batch_seed=[1000, 1001], X_val=X_val, y_val=y_val, val_every=10)
    for r in range(2):
        h, net = library_run([2, 32, 32, 2], ((X[r], y[r]), (X_val[r], y_val[r])), rates, 100,
                             weight_decay=weight_decay, batch_size=8, seed=r,
                             batch_seed=1000 + r, val_every=10)
        assert_run_is_the_library_run(runs, r, h, net)
        if h.diverged:  # the losses after a divergence are NaN
            k = h.diverged_at
            assert np.all(np.isnan(runs.loss[r, k + 1:]))
            assert np.isnan(runs.final_val[r]) and np.isnan(runs.final_train_loss[r])
    if lr == 30.0:
        assert np.all(runs.diverged_at >= 0)


def test_sweep_mlp_measures_the_training_loss_on_the_whole_training_set():
    tr, va = moons()
    runs = sweep_mlp([2, 8, 2], tr.X, tr.y, [0.2, 0.05], 60, batch_size=10, X_val=va.X,
                     y_val=va.y, val_every=20)
    net = MLP([2, 8, 2], seed=0)
    net.set_params([p[0] for p in runs.params])
    loss, _ = net.loss_and_grads(tr.X, tr.y)
    assert runs.train_loss[0, -1] == pytest.approx(loss, rel=1e-12)
    assert runs.final_train_loss[0] == pytest.approx(loss, rel=1e-12)


def test_sweep_mlp_keep_best_keeps_the_weights_of_the_lowest_validation_loss():
    tr, va = moons(n=240)
    X, y = tr.X[:40], tr.y[:40]
    runs = sweep_mlp([2, 32, 32, 2], X, y, [0.3, 0.02], 300, batch_size=8, X_val=va.X,
                     y_val=va.y, val_every=10, keep_best=True)
    for r in range(2):
        net = MLP([2, 32, 32, 2], seed=0)
        net.set_params([p[r] for p in runs.best_params])
        loss, _ = net.loss_and_grads(va.X, va.y)
        assert loss == pytest.approx(runs.best_val[r], rel=1e-12)
        logits = runs.logits(va.X, best=True)[r]
        np.testing.assert_allclose(logits, net.forward(va.X), rtol=1e-12)
    assert runs.best_step[0] < runs.val_steps[-1]  # α = 0.3 passed its best point


def test_sweep_mlp_summaries_agree_with_their_definitions():
    tr, va = moons()
    runs = sweep_mlp([2, 8, 2], tr.X, tr.y, [0.1, 0.5, 0.1, 0.5], 100, X_val=va.X, y_val=va.y,
                     val_every=10).reshape(2, 2)
    val, train_loss = runs.val_loss[1, 0], runs.train_loss[1, 0]
    i = int(np.argmin(val))
    assert runs.shape == (2, 2) and runs.loss.shape == (2, 2, 101)
    assert runs.best_step[1, 0] == runs.val_steps[i]
    assert runs.best_val[1, 0] == val[i]
    assert runs.gap_at_best[1, 0] == pytest.approx(val[i] - train_loss[i])
    assert runs.final_gap[1, 0] == pytest.approx(val[-1] - train_loss[-1])
    np.testing.assert_array_equal(runs.val_loss[0], runs.val_loss[1])  # same settings
    np.testing.assert_array_equal(runs.history((1, 1)).loss, runs.loss[1, 1])


def test_sweep_mlp_a_summed_loss_at_rate_a_is_the_mean_loss_at_rate_c_times_a():
    tr, _ = moons()
    summed = sweep_mlp([2, 8, 2], tr.X, tr.y, [1e-3, 4e-3], 50, loss_scale=150.0)
    mean = sweep_mlp([2, 8, 2], tr.X, tr.y, [0.15, 0.6], 50)
    np.testing.assert_allclose(summed.final_train_loss / 150.0, mean.final_train_loss,
                               rtol=1e-9)


def test_sweep_mlp_diverging_runs_raise_no_warning():
    tr, _ = moons()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        runs = sweep_mlp([2, 8, 2], tr.X, tr.y, [0.1, 1e4], 20)
    assert runs.diverged_at[0] == -1 and runs.diverged_at[1] >= 0


# --- argument validation --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("call", "error", "name"),
    [
        (lambda: sweep(Parabola(), [0.1, -0.1], 5), ValueError, "lrs"),
        (lambda: sweep(Parabola(), [np.nan], 5), ValueError, "lrs"),
        (lambda: sweep(Parabola(), ["a"], 5), TypeError, "lrs"),
        (lambda: sweep(Parabola(), 0.1, 5, momentum=1.0), ValueError, "momentum"),
        (lambda: sweep(Parabola(), 0.1, 5, momentum=[-0.1]), ValueError, "momentum"),
        (lambda: sweep(Parabola(), [0.1, 0.2], 5, momentum=[0.1, 0.2, 0.3]), ValueError,
         "momentum"),
        (lambda: sweep(Parabola(), 0.1, -1), ValueError, "steps"),
        (lambda: sweep(Parabola(), 0.1, 2.0), TypeError, "steps"),
        (lambda: sweep(Quadratic(), 0.1, 5, x0=[1.0, 2.0, 3.0]), ValueError, "x0"),
        (lambda: sweep(Quadratic(), 0.1, 5, x0=[1.0, np.inf]), ValueError, "x0"),
        (lambda: sweep(object(), 0.1, 5), TypeError, "landscape"),
        (lambda: sweep(Parabola(), 0.1, 5, divergence_factor=0.5), ValueError,
         "divergence_factor"),
        (lambda: sweep(Parabola(), 0.1, 5, divergence_floor=-1.0), ValueError,
         "divergence_floor"),
        (lambda: sweep_sgd(Quadratic(), 0.1, 5, batch_size=2), TypeError, "loss"),
        (lambda: sweep_sgd(regression(), 0.1, 5, batch_size=0), ValueError, "batch_size"),
        (lambda: sweep_sgd(regression(), 0.1, 5, batch_size=1000), ValueError, "batch_size"),
        (lambda: minibatches(10, 0, 5), ValueError, "batch_size"),
        (lambda: sweep(Parabola(), 0.1, 5).regime(tol=0.0), ValueError, "tol"),
        (lambda: sweep(Parabola(), 0.1, 5).regime(tol=1.5), ValueError, "tol"),
        (lambda: sweep(Parabola(), 0.1, 5).regime(noise=1.0), ValueError, "noise"),
        (lambda: sweep_mlp([2, 4, 2], *MOONS, [0.1, 0.2], 5, momentum=[0.1, 0.2, 0.3]),
         ValueError, "momentum"),
        (lambda: sweep_mlp([2, 4, 2], *MOONS, [0.1], 5, momentum=1.0), ValueError, "momentum"),
        (lambda: sweep_mlp([2, 4, 2], *MOONS, [-0.1], 5), ValueError, "lr"),
        (lambda: sweep_mlp([2, 4, 2], *MOONS, np.ones((2, 5)), 6), ValueError, "lr"),
        (lambda: sweep_mlp([2, 4, 2], *MOONS, [0.1], 5, weight_decay=-1.0), ValueError,
         "weight_decay"),
        (lambda: sweep_mlp([2, 4, 2], *MOONS, [0.1], 5, val_every=2), ValueError, "X_val"),
        (lambda: sweep_mlp([2, 4, 2], *MOONS, [0.1], 5, keep_best=True), ValueError,
         "keep_best"),
        (lambda: sweep_mlp([2, 4, 2], *MOONS, [0.1], 5, loss_scale=0.0), ValueError,
         "loss_scale"),
        (lambda: sweep_mlp([2, 4, 2], MOONS[0], MOONS[1][:-1], [0.1], 5), ValueError, "y"),
        (lambda: sweep_mlp([2, 4, 2], *MOONS, [0.1], 5, batch_size=0), ValueError,
         "batch_size"),
    ],
)
def test_invalid_arguments_raise_an_error_naming_the_argument(call, error, name):
    with pytest.raises(error, match=name):
        call()


def test_docstring_examples_print_what_they_say():
    result = doctest.testmod(lrcourse.sweeps, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0 and result.failed == 0
