"""lrcourse.tuning: searches, the Gaussian process and expected improvement, successive halving,
hypergradient descent and Reptile."""

from __future__ import annotations

import doctest
import importlib
import math
import warnings

import numpy as np
import pytest

from lrcourse.nn import MLP
from lrcourse.optimizers import SGD
from lrcourse.problems import Quadratic, SineTask, sine_tasks
from lrcourse.schedules import polynomial_decay
from lrcourse.train import DivergenceWarning, landscape_objective, train
from lrcourse.tuning import (
    GaussianProcess,
    LogUniform,
    SearchResult,
    Uniform,
    adapt,
    adapt_and_evaluate,
    bayes_search,
    expected_improvement,
    grid_search,
    hypergradient_update,
    random_search,
    reptile,
    successive_halving,
    train_hypergradient,
)

SPACE_1D = {"lr": LogUniform(1e-5, 1.0)}
SPACE_2D = {"lr": LogUniform(1e-5, 1.0), "momentum": Uniform(0.0, 0.99)}


def bowl_1d(params):
    """Smooth in log α, minimum 0 at α = 3e-3."""
    return (math.log10(params["lr"]) - math.log10(3e-3)) ** 2


def bowl_2d(params):
    """Smooth in (log α, β), minimum 0 at α = 10^-2.5, β = 0.8."""
    return (math.log10(params["lr"]) + 2.5) ** 2 + 4 * (params["momentum"] - 0.8) ** 2


# =============================================================================================
# Ranges, grid and random search
# =============================================================================================


def test_log_uniform_puts_the_middle_of_the_unit_interval_at_the_geometric_mean():
    dist = LogUniform(1e-4, 1.0)
    assert dist.from_unit(0.5) == pytest.approx(1e-2, rel=1e-12)
    u = np.linspace(0, 1, 7)
    np.testing.assert_allclose(dist.to_unit(dist.from_unit(u)), u, atol=1e-12)


def test_uniform_maps_the_unit_interval_linearly_and_back():
    dist = Uniform(-1.0, 3.0)
    np.testing.assert_allclose(dist.from_unit([0, 0.25, 1]), [-1.0, 0.0, 3.0])
    np.testing.assert_allclose(dist.to_unit([-1.0, 0.0, 3.0]), [0, 0.25, 1])


def test_random_search_draws_each_decade_of_a_log_uniform_range_equally_often():
    r = random_search(lambda p: 0.0, {"lr": LogUniform(1e-4, 1.0)}, n=4000, seed=1)
    counts = np.bincount(np.floor(np.log10(r.param("lr")) + 4).astype(int), minlength=4)
    assert counts.sum() == 4000
    np.testing.assert_allclose(counts / 4000, 0.25, atol=0.03)


def test_random_search_draws_uniform_ranges_uniformly_in_value():
    r = random_search(lambda p: 0.0, {"m": Uniform(0.0, 1.0)}, n=4000, seed=2)
    counts = np.bincount(np.floor(r.param("m") * 4).astype(int), minlength=4)
    np.testing.assert_allclose(counts / 4000, 0.25, atol=0.03)


def test_grid_search_in_one_dimension_is_logspace_with_exact_ends():
    r = grid_search(lambda p: 0.0, {"lr": LogUniform(1e-4, 1.0)}, n=5)
    np.testing.assert_allclose(r.param("lr"), np.logspace(-4, 0, 5), rtol=1e-12)
    assert r.param("lr")[0] == 1e-4 and r.param("lr")[-1] == 1.0


@pytest.mark.parametrize(("d", "n", "per_axis"), [(2, 10, 3), (2, 9, 3), (2, 16, 4), (3, 26, 2),
                                                  (3, 27, 3), (1, 1, 1)])
def test_grid_search_uses_floor_of_the_dth_root_of_n_points_per_axis(d, n, per_axis):
    space = {f"x{i}": Uniform(0.0, 1.0) for i in range(d)}
    r = grid_search(lambda p: 0.0, space, n=n)
    assert len(r) == per_axis**d
    for name in space:
        assert len(np.unique(r.param(name))) == per_axis


def test_grid_search_with_one_point_per_axis_takes_the_middle_of_the_range():
    r = grid_search(lambda p: 0.0, {"lr": LogUniform(1e-4, 1.0), "m": Uniform(0, 1)}, n=3)
    assert r.params == [{"lr": pytest.approx(1e-2), "m": 0.5}]


def test_grid_search_varies_the_last_name_fastest_and_evaluates_in_that_order():
    seen = []
    r = grid_search(lambda p: seen.append(dict(p)) or 0.0,
                    {"a": Uniform(0, 1), "b": Uniform(10, 20)}, n=4)
    assert [(p["a"], p["b"]) for p in r.params] == [(0, 10), (0, 20), (1, 10), (1, 20)]
    assert seen == r.params


def test_grid_search_finds_the_best_grid_point():
    r = grid_search(bowl_1d, {"lr": LogUniform(1e-6, 1.0)}, n=7)
    assert r.best_params["lr"] == pytest.approx(1e-3)
    assert r.best_value == pytest.approx(bowl_1d({"lr": 1e-3}))


def test_random_search_is_reproducible_from_its_seed_and_changes_with_it():
    a = random_search(bowl_2d, SPACE_2D, n=8, seed=3)
    b = random_search(bowl_2d, SPACE_2D, n=8, seed=3)
    c = random_search(bowl_2d, SPACE_2D, n=8, seed=4)
    assert a.params == b.params and np.array_equal(a.values, b.values)
    assert a.params != c.params


def test_random_search_first_configurations_do_not_depend_on_n():
    short = random_search(bowl_2d, SPACE_2D, n=5, seed=0)
    long = random_search(bowl_2d, SPACE_2D, n=12, seed=0)
    assert long.params[:5] == short.params


def test_search_result_holds_every_trial_in_order_with_values_of_f():
    r = random_search(bowl_2d, SPACE_2D, n=6, seed=0)
    assert r.method == "random" and len(r) == 6 and r.values.shape == (6,)
    assert all(set(p) == {"lr", "momentum"} for p in r.params)
    np.testing.assert_array_equal(r.values, [bowl_2d(p) for p in r.params])
    assert r.best_value == r.values.min() and r.best_params == r.params[np.argmin(r.values)]
    assert r.compute == 6.0


def test_failed_trials_never_count_as_best_and_best_so_far_is_inf_until_a_success():
    values = iter([np.nan, np.inf, 3.0, np.nan, 1.0, 2.0])
    r = random_search(lambda p: next(values), SPACE_1D, n=6, seed=0)
    np.testing.assert_array_equal(r.best_so_far(), [np.inf, np.inf, 3.0, 3.0, 1.0, 1.0])
    assert r.best_index == 4 and r.best_value == 1.0


def test_a_search_where_every_trial_failed_has_no_best():
    r = random_search(lambda p: math.nan, SPACE_1D, n=3, seed=0)
    assert r.best_params is None and math.isnan(r.best_value) and r.best_index is None


def test_best_so_far_never_increases_and_ends_at_the_best_value():
    r = random_search(bowl_2d, SPACE_2D, n=30, seed=5)
    curve = r.best_so_far()
    assert np.all(np.diff(curve) <= 0) and curve[-1] == r.best_value


def test_numpy_overflow_inside_the_objective_is_silenced_and_recorded_as_a_failure():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        r = random_search(lambda p: np.exp(np.float64(1e5)) * 0, SPACE_1D, n=2, seed=0)
    assert np.all(np.isnan(r.values))


def test_best_params_is_a_copy_that_cannot_change_the_record():
    r = random_search(bowl_1d, SPACE_1D, n=4, seed=0)
    r.best_params["lr"] = -1.0
    assert r.best_params["lr"] > 0


# =============================================================================================
# The Gaussian process
# =============================================================================================


def test_gp_mean_interpolates_noise_free_data_and_its_std_vanishes_there():
    X = np.array([[0.0], [0.2], [0.45], [0.7], [1.0]])
    y = np.sin(5 * X[:, 0]) + X[:, 0]
    gp = GaussianProcess(length_scale=0.3, noise=1e-12).fit(X, y)
    mean, std = gp.predict(X)
    np.testing.assert_allclose(mean, y, atol=1e-6)
    assert np.all(std < 1e-4)


def test_gp_std_grows_with_the_distance_from_the_data_towards_the_prior_std():
    X, y = np.array([[0.3], [0.5]]), np.array([1.0, 3.0])
    gp = GaussianProcess(length_scale=0.1, noise=1e-10, kernel="rbf").fit(X, y)
    _, std = gp.predict(np.array([0.5, 0.55, 0.6, 0.7, 0.9, 3.0]))
    assert np.all(np.diff(std) > 0)
    assert std[-1] == pytest.approx(np.std(y), rel=1e-6)  # prior std σ_f = 1 × std(y)


@pytest.mark.parametrize("kernel", ["rbf", "matern52"])
def test_gp_prediction_equals_the_textbook_conditional_gaussian(kernel, rng):
    X, Xs = rng.random((7, 2)), rng.random((5, 2))
    y = rng.standard_normal(7)
    ell, noise = 0.4, 1e-3
    gp = GaussianProcess(kernel=kernel, length_scale=ell, noise=noise).fit(X, y)

    def k(A, B):
        r = np.linalg.norm(A[:, None, :] - B[None, :, :], axis=-1) / ell
        if kernel == "rbf":
            return np.exp(-0.5 * r**2)
        return (1 + np.sqrt(5) * r + 5 * r**2 / 3) * np.exp(-np.sqrt(5) * r)

    mu, sd = y.mean(), y.std()
    K = k(X, X) + noise * np.eye(7)
    mean = k(Xs, X) @ np.linalg.solve(K, (y - mu) / sd) * sd + mu
    var = (1.0 - np.einsum("ij,ji->i", k(Xs, X), np.linalg.solve(K, k(X, Xs)))) * sd**2
    got_mean, got_std = gp.predict(Xs)
    np.testing.assert_allclose(got_mean, mean, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(got_std, np.sqrt(var), rtol=1e-7, atol=1e-12)
    ytil = (y - mu) / sd
    log_ml = -0.5 * ytil @ np.linalg.solve(K, ytil) - 0.5 * np.linalg.slogdet(K)[1] \
        - 3.5 * np.log(2 * np.pi)
    assert gp.log_marginal_likelihood_ == pytest.approx(log_ml, rel=1e-10)


def test_gp_fitted_hyperparameters_have_the_largest_marginal_likelihood_of_the_grid(rng):
    X = rng.random((12, 1))
    y = np.sin(4 * X[:, 0]) + 0.05 * rng.standard_normal(12)
    gp = GaussianProcess(length_scale=None, noise=None).fit(X, y)
    for ell in (0.03, 0.1, 1.0, 5.0):
        for noise in (1e-6, 1e-2, 0.3):
            other = GaussianProcess(length_scale=ell, noise=noise).fit(X, y)
            assert gp.log_marginal_likelihood_ >= other.log_marginal_likelihood_
    assert 0.05 < gp.length_scale_ < 3.0  # neither the wiggliest nor the flattest model


def test_gp_accepts_a_repeated_point_without_noise_thanks_to_the_jitter():
    gp = GaussianProcess(length_scale=0.5, noise=0.0).fit([0.1, 0.1, 0.8], [1.0, 1.0, 2.0])
    mean, _ = gp.predict([0.1])
    assert mean[0] == pytest.approx(1.0, abs=1e-4)


def test_gp_predict_before_fit_says_to_fit_first():
    with pytest.raises(RuntimeError, match="fit"):
        GaussianProcess().predict([0.5])


# =============================================================================================
# Expected improvement
# =============================================================================================


@pytest.mark.parametrize(("mean", "std", "best", "xi"), [
    (0.0, 1.0, 0.0, 0.0), (1.0, 0.5, 0.0, 0.0), (-0.5, 2.0, 0.3, 0.1), (2.0, 0.7, 1.0, 0.05),
])
def test_expected_improvement_equals_a_monte_carlo_estimate(mean, std, best, xi):
    draws = np.random.default_rng(0).normal(mean, std, size=2_000_000)
    gains = np.maximum(best - xi - draws, 0.0)
    standard_error = gains.std() / np.sqrt(len(gains))
    assert abs(expected_improvement(mean, std, best, xi) - gains.mean()) < 4 * standard_error


def test_expected_improvement_is_zero_where_the_gp_is_sure_the_mean_is_no_better():
    ei = expected_improvement(np.array([0.0, 1.0, 5.0]), np.zeros(3), best=0.0)
    np.testing.assert_array_equal(ei, [0.0, 0.0, 0.0])
    assert expected_improvement(1.0, 1e-12, best=0.0) == 0.0


def test_expected_improvement_without_uncertainty_is_the_sure_improvement():
    assert expected_improvement(-2.0, 0.0, best=1.0, xi=0.5) == pytest.approx(2.5)


def test_expected_improvement_grows_with_uncertainty_and_with_a_lower_mean():
    stds = np.linspace(0.01, 3, 50)
    assert np.all(np.diff(expected_improvement(0.5, stds, best=0.0)) > 0)
    means = np.linspace(-2, 2, 50)
    assert np.all(np.diff(expected_improvement(means, 1.0, best=0.0)) < 0)


def test_expected_improvement_returns_a_float_for_scalars_and_an_array_for_arrays():
    assert isinstance(expected_improvement(0.0, 1.0, 0.0), float)
    assert expected_improvement(np.zeros((2, 3)), 1.0, 0.0).shape == (2, 3)


def test_expected_improvement_rejects_a_negative_std():
    with pytest.raises(ValueError, match="std"):
        expected_improvement(0.0, -1.0, best=0.0)


# =============================================================================================
# Bayesian optimisation
# =============================================================================================


def test_bayes_search_finds_the_best_rate_of_a_smooth_function_of_log_lr_in_ten_evaluations():
    for seed in range(3):
        r = bayes_search(bowl_1d, {"lr": LogUniform(1e-6, 1.0)}, n=10, seed=seed)
        assert abs(math.log10(r.best_params["lr"]) - math.log10(3e-3)) < 0.05


def test_bayes_search_beats_random_search_at_equal_budget_on_a_smooth_function():
    wins, ratios = 0, []
    for seed in range(5):
        bayes = bayes_search(bowl_2d, SPACE_2D, n=20, seed=seed).best_value
        rand = random_search(bowl_2d, SPACE_2D, n=20, seed=seed).best_value
        wins += bayes < rand
        ratios.append(bayes / rand)
    assert wins == 5 and np.median(ratios) < 0.1


def test_bayes_search_starts_from_the_configurations_of_random_search_with_its_seed():
    bayes = bayes_search(bowl_2d, SPACE_2D, n=9, seed=7, n_init=4)
    rand = random_search(bowl_2d, SPACE_2D, n=4, seed=7)
    assert bayes.params[:4] == rand.params
    assert bayes_search(bowl_2d, SPACE_2D, n=9, seed=7).params[:6] == \
        random_search(bowl_2d, SPACE_2D, n=6, seed=7).params  # default n_init = 2d + 2


def test_bayes_search_is_reproducible_from_its_seed():
    a = bayes_search(bowl_2d, SPACE_2D, n=9, seed=1)
    b = bayes_search(bowl_2d, SPACE_2D, n=9, seed=1)
    assert a.params == b.params


def test_bayes_trace_records_one_step_per_proposal_with_the_gp_and_ei_on_the_grid():
    r = bayes_search(bowl_1d, SPACE_1D, n=9, seed=0, n_init=3, plot_points=50)
    assert [s.trial for s in r.trace] == list(range(3, 9))
    for step in r.trace:
        assert step.grid["lr"].shape == step.mean.shape == step.std.shape == step.ei.shape == (50,)
        assert step.next_params == r.params[step.trial]
        assert step.best == pytest.approx(np.nanmin(r.values[: step.trial]))
        # the proposal maximises EI over candidates that include the plotting grid
        assert step.next_ei >= step.ei.max()
        np.testing.assert_allclose(step.ei, expected_improvement(step.mean, step.std, step.best))
    np.testing.assert_allclose(r.trace[0].grid["lr"], np.logspace(-5, 0, 50), rtol=1e-12)


def test_bayes_trace_mean_matches_the_data_it_was_fitted_to():
    r = bayes_search(bowl_1d, SPACE_1D, n=6, seed=0, n_init=5, plot_points=2,
                     gp=GaussianProcess(length_scale=0.2, noise=1e-10))
    gp = GaussianProcess(length_scale=0.2, noise=1e-10)
    units = np.log10(r.param("lr")[:5] / 1e-5)[:, None] / 5
    gp.fit(units, r.values[:5])
    mean, std = gp.predict(np.array([[0.0], [1.0]]))
    np.testing.assert_allclose(r.trace[0].mean, mean, rtol=1e-9)
    np.testing.assert_allclose(r.trace[0].std, std, rtol=1e-9)


def test_bayes_search_survives_failed_trials_and_avoids_the_region_that_fails():
    def f(p):
        return math.nan if p["lr"] > 0.1 else bowl_1d(p)

    r = bayes_search(f, SPACE_1D, n=14, seed=0)
    assert math.isfinite(r.best_value) and r.best_value < 0.05
    assert np.sum(r.param("lr")[4:] > 0.1) <= 2


def test_bayes_search_with_n_equal_to_n_init_is_random_search():
    r = bayes_search(bowl_1d, SPACE_1D, n=3, seed=2, n_init=3)
    assert r.trace == [] and r.params == random_search(bowl_1d, SPACE_1D, n=3, seed=2).params


# =============================================================================================
# Successive halving
# =============================================================================================


@pytest.mark.parametrize(("n", "eta", "counts"), [
    (27, 3, [27, 9, 3, 1]), (10, 3, [10, 3, 1]), (100, 2, [100, 50, 25, 12, 6, 3, 1]),
    (2, 3, [2]), (1, 2, [1]), (20, 2.5, [20, 8, 3, 1]),
])
def test_successive_halving_runs_floor_n_over_eta_to_the_i_configurations_at_rung_i(n, eta, counts):
    r = successive_halving(lambda p, b: bowl_1d(p), SPACE_1D, n=n, min_budget=1, eta=eta)
    assert np.bincount(r.rungs).tolist() == counts
    for i in range(len(counts)):
        assert np.all(r.budgets[r.rungs == i] == eta**i)


def test_successive_halving_compute_is_the_sum_of_the_budgets_it_passed_to_f():
    passed = []

    def f(params, budget):
        passed.append(budget)
        return bowl_1d(params) + 1.0 / budget

    r = successive_halving(f, SPACE_1D, n=27, min_budget=2, eta=3)
    assert r.compute == sum(passed) == 4 * 27 * 2  # every rung costs n · min_budget
    assert all(isinstance(b, int) for b in passed)
    np.testing.assert_array_equal(r.budgets, passed)


def test_successive_halving_promotes_exactly_the_best_of_each_rung():
    r = successive_halving(lambda p, b: bowl_2d(p) * (1 + 0.1 / b), SPACE_2D, n=40,
                           min_budget=1, eta=3, seed=4)
    for rung in range(r.rungs.max()):
        here = np.flatnonzero(r.rungs == rung)
        keep = len(here) // 3
        best = {tuple(r.params[i].items()) for i in here[np.argsort(r.values[here])[:keep]]}
        promoted = {tuple(r.params[i].items()) for i in np.flatnonzero(r.rungs == rung + 1)}
        assert promoted == best


def test_successive_halving_ranks_failed_trials_last():
    def f(p, b):
        return math.nan if p["lr"] < 1e-3 else bowl_1d(p)

    r = successive_halving(f, SPACE_1D, n=27, min_budget=1, eta=3, seed=0)
    assert np.all(r.param("lr")[r.rungs > 0] >= 1e-3)


def test_successive_halving_starts_from_the_configurations_of_random_search():
    r = successive_halving(lambda p, b: bowl_2d(p), SPACE_2D, n=9, min_budget=1, eta=3, seed=6)
    assert r.params[:9] == random_search(bowl_2d, SPACE_2D, n=9, seed=6).params


def test_successive_halving_stops_before_a_rung_above_max_budget():
    r = successive_halving(lambda p, b: bowl_1d(p), SPACE_1D, n=27, min_budget=1, eta=3,
                           max_budget=10)
    assert np.bincount(r.rungs).tolist() == [27, 9, 3]
    assert r.budgets.max() == 9 and r.compute == 81
    assert r.best_index in np.flatnonzero(r.rungs == 2)  # best among the largest budget


def test_successive_halving_budgets_are_floats_for_a_float_min_budget():
    r = successive_halving(lambda p, b: bowl_1d(p), SPACE_1D, n=9, min_budget=0.5, eta=3)
    np.testing.assert_allclose(np.unique(r.budgets), [0.5, 1.5, 4.5])


def _gd_loss(params, budget):
    """Loss of `budget` steps of gradient descent at rate params["lr"] on a κ = 100 quadratic."""
    q = Quadratic.from_condition(100.0)
    x = q.x0.copy()
    with np.errstate(all="ignore"):
        for _ in range(int(budget)):
            x = x - params["lr"] * q.grad(x)
        return float(q.loss(x))


def test_successive_halving_finds_a_better_rate_than_random_search_at_equal_compute():
    space, ratios = {"lr": LogUniform(1e-4, 10.0)}, []
    for seed in range(5):
        halving = successive_halving(_gd_loss, space, n=81, min_budget=1, eta=3, seed=seed)
        assert halving.compute == 5 * 81
        trials = int(halving.compute // 81)  # random search: every trial at the largest budget
        rand = random_search(lambda p: _gd_loss(p, 81), space, n=trials, seed=seed)
        ratios.append(halving.best_value / rand.best_value)
    assert max(ratios) < 1 and np.median(ratios) < 0.7


# =============================================================================================
# Hypergradient descent
# =============================================================================================


def test_hypergradient_update_adds_beta_times_the_dot_product_of_the_two_gradients(rng):
    g, h = rng.standard_normal(5), rng.standard_normal(5)
    assert hypergradient_update(0.3, g, h, 0.01) == pytest.approx(0.3 + 0.01 * g @ h, rel=1e-14)
    g2, h2 = rng.standard_normal((2, 3)), rng.standard_normal((2, 3))
    expected = 0.3 + 0.01 * (g @ h + np.sum(g2 * h2))
    assert hypergradient_update(0.3, [g, g2], [h, h2], 0.01) == pytest.approx(expected, rel=1e-14)


def test_hypergradient_raises_the_rate_when_gradients_agree_and_lowers_it_when_they_zigzag():
    g = np.array([1.0, -2.0])
    assert hypergradient_update(0.1, g, 0.5 * g, 0.01) > 0.1
    assert hypergradient_update(0.1, g, -0.5 * g, 0.01) < 0.1
    assert hypergradient_update(0.1, g, np.array([2.0, 1.0]), 0.01) == 0.1  # orthogonal


def test_hypergradient_is_minus_the_derivative_of_the_loss_after_the_last_step():
    q = Quadratic.from_condition(5.0, angle=0.3)
    theta, lr = np.array([1.0, -2.0]), 0.2
    g_prev = q.grad(theta)

    def loss_after(rate):
        return q.loss(theta - rate * g_prev)

    h = 1e-6
    derivative = (loss_after(lr + h) - loss_after(lr - h)) / (2 * h)
    g = q.grad(theta - lr * g_prev)
    assert hypergradient_update(lr, g, g_prev, 1.0) - lr == pytest.approx(-derivative, rel=1e-6)


def test_train_hypergradient_records_the_rates_of_the_recursion_from_lr0():
    q = Quadratic.from_condition(10.0)
    obj = landscape_objective(q, x0=[-2.5, 1.5])
    h = train_hypergradient(obj, lr0=0.05, hyper_lr=0.01, steps=30, record_path=True)
    x, lr, prev, rates = np.array([-2.5, 1.5]), 0.05, None, []
    for _ in range(30):
        g = q.grad(x)
        if prev is not None:
            lr = max(0.0, lr + 0.01 * g @ prev)
        rates.append(lr)
        x, prev = x - lr * g, g
    np.testing.assert_allclose(h.lr, rates, rtol=1e-12)
    np.testing.assert_allclose(h.path[-1], x, rtol=1e-12)


def test_train_hypergradient_with_hyper_lr_zero_is_plain_sgd():
    q = Quadratic.from_condition(10.0)
    a = landscape_objective(q)
    h = train_hypergradient(a, lr0=0.3, hyper_lr=0.0, steps=20)
    b = landscape_objective(q)
    reference = train(b, SGD(b.params, lr=0.3), steps=20)
    np.testing.assert_array_equal(h.loss, reference.loss)
    np.testing.assert_array_equal(h.lr, np.full(20, 0.3))


@pytest.mark.parametrize("lr0", [1e-3, 1.9])  # 1/1000 of 1/λ_max, and just below 2/λ_max
def test_hypergradient_moves_a_bad_starting_rate_towards_a_good_one(lr0):
    q = Quadratic.from_condition(10.0, lam_max=1.0)  # good constant rates: about 1/λ_max to 1.8
    learned = train_hypergradient(landscape_objective(q, x0=[-25, 15]), lr0, 3e-3, steps=100)
    obj = landscape_objective(q, x0=[-25, 15])
    fixed = train(obj, SGD(obj.params, lr=lr0), steps=100)
    assert 0.8 < learned.lr[-1] < 1.5
    assert learned.lr[-1] > 100 * lr0 if lr0 < 1 else learned.lr[-1] < 0.8 * lr0
    assert learned.final_loss < 0.01 * fixed.final_loss


def test_train_hypergradient_never_uses_a_negative_rate():
    q = Quadratic.from_condition(10.0)
    h = train_hypergradient(landscape_objective(q, x0=[-25, 15]), 1.9, 0.5, steps=50, warn=False)
    assert np.all(h.lr >= 0) and np.any(h.lr == 0)


# =============================================================================================
# Reptile
# =============================================================================================


def _net(seed=0):
    return MLP([1, 40, 40, 1], activation="tanh", seed=seed)


def test_reptile_lowers_the_post_adaptation_loss_on_held_out_tasks_below_a_random_init():
    train_tasks, held_out = sine_tasks(1000, seed=0), sine_tasks(20, seed=1)
    net = _net()
    reptile(net, train_tasks, inner_lr=0.02, outer_lr=0.5, inner_steps=10, meta_iterations=300)

    def post(model):
        return np.mean([adapt_and_evaluate(model, t, 0.02, 10, k=10) for t in held_out])

    meta, fresh, other = post(net), post(_net(0)), post(_net(1))
    assert meta < 0.4 * min(fresh, other)


def test_adapt_takes_full_batch_sgd_steps_on_k_shots_and_leaves_the_model_alone():
    net, task = _net(), SineTask(2.0, 0.5)
    before = net.get_params()
    phi = adapt(net, task, inner_lr=0.05, steps=3, k=7, seed=4)
    for p, q in zip(net.params, before, strict=True):
        np.testing.assert_array_equal(p, q)
    shots = task.sample(7, seed=4)
    for _ in range(3):
        _, grads = net.loss_and_grads(shots.X, shots.y, loss="mse")
        for p, g in zip(net.params, grads, strict=True):
            p -= 0.05 * g
    for p, q in zip(net.params, phi, strict=True):
        np.testing.assert_allclose(p, q, rtol=1e-14, atol=1e-15)


def test_adapt_and_evaluate_without_steps_is_the_error_of_the_starting_point_over_the_range():
    net, task = _net(), SineTask(1.5, 0.2)
    x = np.linspace(-5, 5, 100)[:, None]
    expected = np.mean((net.forward(x)[:, 0] - task(x[:, 0])) ** 2)
    assert adapt_and_evaluate(net, task, 0.1, steps=0, k=5) == pytest.approx(expected, rel=1e-12)


def test_adapt_and_evaluate_falls_with_more_adaptation_steps_and_leaves_the_model_alone():
    net, task = _net(), SineTask(3.0, 1.0)
    before = net.get_params()
    losses = [adapt_and_evaluate(net, task, 0.01, steps, k=20) for steps in (0, 20, 200)]
    assert losses[0] > losses[1] > losses[2]
    assert all(np.array_equal(p, q) for p, q in zip(net.params, before, strict=True))


def test_reptile_meta_step_moves_theta_a_fraction_epsilon_towards_the_adapted_phi():
    tasks = sine_tasks(5, seed=3)
    net = _net()
    theta = net.get_params()
    h = reptile(net, tasks, inner_lr=0.01, outer_lr=0.3, inner_steps=4, meta_iterations=1,
                seed=11, k=6)
    rng = np.random.default_rng(11)  # reptile's draws: the task, then the seed of its shots
    task = tasks[int(rng.integers(len(tasks), size=1)[0])]
    shot_seed = int(rng.integers(2**31, size=1)[0])
    probe = _net()
    phi = adapt(probe, task, 0.01, 4, 6, seed=shot_seed)
    for p, t, f in zip(net.params, theta, phi, strict=True):
        np.testing.assert_allclose(p, t + 0.3 * (f - t), rtol=1e-12, atol=1e-15)
    np.testing.assert_array_equal(h.lr, [0.3])
    assert len(h.loss) == 2


def test_reptile_with_outer_rate_zero_leaves_the_initialisation_unchanged():
    net = _net()
    before = net.get_params()
    reptile(net, sine_tasks(10), inner_lr=0.02, outer_lr=0.0, inner_steps=5, meta_iterations=20)
    assert all(np.array_equal(p, q) for p, q in zip(net.params, before, strict=True))


def test_reptile_records_a_scheduled_outer_rate_and_held_out_evaluations():
    net = _net()
    h = reptile(net, sine_tasks(50), 0.02, polynomial_decay(1.0, total_iters=10), 3, 10,
                eval_tasks=sine_tasks(3, seed=9), eval_every=5)
    np.testing.assert_allclose(h.lr, 1.0 - np.arange(10) / 10)
    np.testing.assert_array_equal(h.val_steps, [0, 5, 10])
    assert h.loss.shape == (11,) and np.all(np.isfinite(h.val_loss))


def test_reptile_with_a_meta_batch_moves_theta_towards_the_average_of_the_adapted_phis():
    tasks, net = sine_tasks(20, seed=5), _net()
    theta = net.get_params()
    reptile(net, tasks, inner_lr=0.02, outer_lr=0.6, inner_steps=3, meta_iterations=1, seed=2,
            k=5, meta_batch=3)
    rng = np.random.default_rng(2)
    drawn = [tasks[int(i)] for i in rng.integers(len(tasks), size=3)]
    shot_seeds = rng.integers(2**31, size=3)
    phis = [adapt(_net(), task, 0.02, 3, 5, seed=int(s))
            for task, s in zip(drawn, shot_seeds, strict=True)]
    for i, (p, t) in enumerate(zip(net.params, theta, strict=True)):
        mean_phi = np.mean([phi[i] for phi in phis], axis=0)
        np.testing.assert_allclose(p, t + 0.6 * (mean_phi - t), rtol=1e-12, atol=1e-15)


def test_reptile_stops_and_warns_once_when_the_inner_rate_diverges():
    net = _net()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        h = reptile(net, sine_tasks(10), inner_lr=50.0, outer_lr=0.5, inner_steps=10,
                    meta_iterations=100)
    assert h.diverged and h.diverged_at is not None and len(h.loss) == h.diverged_at + 1
    assert [w.category for w in caught] == [DivergenceWarning]


# =============================================================================================
# Validation and doctests
# =============================================================================================


def _f(p):
    return 0.0


@pytest.mark.parametrize(("call", "error", "name"), [
    (lambda: LogUniform(0.0, 1.0), ValueError, "low"),
    (lambda: LogUniform(1.0, 0.1), ValueError, "low < high"),
    (lambda: Uniform(0.0, math.inf), ValueError, "high"),
    (lambda: grid_search(_f, SPACE_1D, n=0), ValueError, "n"),
    (lambda: grid_search(_f, {"lr": (1e-4, 1.0)}, n=3), TypeError, r"space\['lr'\]"),
    (lambda: grid_search(_f, {}, n=3), TypeError, "space"),
    (lambda: random_search("f", SPACE_1D, n=3), TypeError, "f must be callable"),
    (lambda: random_search(_f, SPACE_1D, n=3, seed=-1), ValueError, "seed"),
    (lambda: random_search(lambda p: "bad", SPACE_1D, n=3), TypeError, "f must return a number"),
    (lambda: bayes_search(_f, SPACE_1D, n=3, n_init=5), ValueError, "n_init"),
    (lambda: bayes_search(_f, SPACE_1D, n=5, xi=-1.0), ValueError, "xi"),
    (lambda: bayes_search(_f, SPACE_1D, n=5, gp="rbf"), TypeError, "gp"),
    (lambda: successive_halving(_f, SPACE_1D, n=9, min_budget=0), ValueError, "min_budget"),
    (lambda: successive_halving(_f, SPACE_1D, n=9, min_budget=1, eta=1), ValueError, "eta"),
    (lambda: successive_halving(_f, SPACE_1D, n=9, min_budget=2, max_budget=1), ValueError,
     "max_budget"),
    (lambda: GaussianProcess(kernel="cubic"), ValueError, "kernel"),
    (lambda: GaussianProcess(length_scale=0.0), ValueError, "length_scale"),
    (lambda: GaussianProcess(noise=-1e-3), ValueError, "noise"),
    (lambda: GaussianProcess().fit([[0.0], [1.0]], [1.0]), ValueError, "y must have shape"),
    (lambda: GaussianProcess().fit([0.0, 1.0], [1.0, np.nan]), ValueError, "y must be finite"),
    (lambda: expected_improvement(0.0, 1.0, best=math.nan), ValueError, "best"),
    (lambda: hypergradient_update(0.1, np.ones(2), np.ones(3), 0.1), ValueError, "prev_grad"),
    (lambda: hypergradient_update(0.1, np.ones(2), np.ones(2), -0.1), ValueError, "hyper_lr"),
    (lambda: train_hypergradient(landscape_objective(Quadratic()), -1.0, 0.1, 5), ValueError,
     "lr0"),
    (lambda: train_hypergradient("obj", 0.1, 0.1, 5), TypeError, "objective"),
    (lambda: reptile(_net(), sine_tasks(2), -0.1, 0.5, 5, 10), ValueError, "inner_lr"),
    (lambda: reptile(_net(), sine_tasks(2), 0.1, -0.5, 5, 10), ValueError, "outer_lr"),
    (lambda: reptile(_net(), sine_tasks(2), 0.1, 0.5, 0, 10), ValueError, "inner_steps"),
    (lambda: reptile(_net(), [], 0.1, 0.5, 5, 10), TypeError, "tasks"),
    (lambda: reptile(_net(), sine_tasks(2), 0.1, 0.5, 5, 10, eval_every=2), ValueError,
     "eval_tasks"),
    (lambda: reptile(_net(), sine_tasks(2), 0.1, lambda t: -1.0, 5, 10), ValueError,
     r"outer_lr\(0\)"),
    (lambda: adapt("net", SineTask(1.0, 0.0), 0.1, 5, 5), TypeError, "model"),
    (lambda: adapt(_net(), SineTask(1.0, 0.0), 0.1, 5, k=0), ValueError, "k"),
])
def test_invalid_arguments_raise_an_error_naming_the_argument(call, error, name):
    with pytest.raises(error, match=name):
        call()


@pytest.mark.parametrize("module", ["", ".search", ".bayes", ".halving", ".hypergradient",
                                    ".reptile"])
def test_docstring_examples_run(module):
    result = doctest.testmod(importlib.import_module(f"lrcourse.tuning{module}"),
                             optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0 and result.failed == 0


def test_search_result_repr_names_the_method_and_the_best_trial():
    r = SearchResult("grid", [{"lr": 0.1}], np.array([2.0]))
    assert repr(r) == "SearchResult(method='grid', trials=1, best_value=2, best_params={'lr': 0.1})"
