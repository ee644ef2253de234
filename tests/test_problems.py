"""Facts about lrcourse.problems: exact derivatives, known minima, batching, seeded data."""

from __future__ import annotations

import doctest
import hashlib
import importlib
import re
import warnings
from pathlib import Path

import numpy as np
import pytest

from lrcourse.problems import (
    Beale,
    BumpyWell,
    Dataset,
    LinearRegressionLoss,
    LogisticRegressionLoss,
    Parabola,
    Quadratic,
    Rosenbrock,
    Saddle,
    SineTask,
    linear_regression,
    load_digits,
    logistic_regression,
    sine_tasks,
    spirals,
    train_val_split,
    two_moons,
)

ROOT = Path(__file__).resolve().parents[1]


def _regression_data(seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((30, 3))
    return X, X @ np.array([1.0, -2.0, 0.5]) + 0.3 * rng.standard_normal(30), rng.random(30) < 0.5


def _landscapes() -> dict[str, object]:
    X, y_linear, y_binary = _regression_data()
    return {
        "parabola": Parabola(curvature=3.0, center=-0.5),
        "quadratic": Quadratic(eigenvalues=(0.5, 4.0), angle=0.7, center=(1.0, -2.0)),
        "rosenbrock": Rosenbrock(a=1.5, b=20.0),
        "beale": Beale(),
        "bumpy_well": BumpyWell(height=1.3, frequency=0.8),
        "saddle": Saddle(),
        "linear_regression": LinearRegressionLoss(X, y_linear, l2=0.1),
        "logistic_regression": LogisticRegressionLoss(X, y_binary.astype(int), l2=0.05),
    }


LANDSCAPES = _landscapes()
WITH_MINIMUM = [name for name, land in LANDSCAPES.items() if land.minimum is not None]


def _random_points(land, shape: tuple[int, ...], seed: int) -> np.ndarray:
    """Points drawn uniformly inside the landscape's plotting box."""
    low, high = np.array(land.bounds).T
    return np.random.default_rng(seed).uniform(low, high, size=shape + (land.dim,))


def _central_differences(f, x: np.ndarray, h: float = 1e-6) -> np.ndarray:
    """∂f/∂x_i ≈ (f(x + h e_i) - f(x - h e_i)) / 2h for every coordinate, batched."""
    columns = []
    for i in range(x.shape[-1]):
        step = np.zeros(x.shape[-1])
        step[i] = h
        columns.append((f(x + step) - f(x - step)) / (2 * h))
    return np.stack(columns, axis=-1)


def _assert_close_to(actual: np.ndarray, expected: np.ndarray, rtol: float = 1e-6) -> None:
    """Equal to ``rtol`` relative to the size of the expected values."""
    assert actual.shape == expected.shape
    scale = max(1.0, float(np.max(np.abs(expected))))
    np.testing.assert_allclose(actual, expected, rtol=rtol, atol=rtol * scale)


# --- exact derivatives ---------------------------------------------------------------


@pytest.mark.parametrize("name", LANDSCAPES)
@pytest.mark.parametrize("shape", [(), (5,), (2, 3)], ids=["unbatched", "batch5", "batch2x3"])
def test_gradient_equals_central_differences_of_the_loss(name, shape):
    land = LANDSCAPES[name]
    for seed in range(3):
        x = _random_points(land, shape, seed)
        _assert_close_to(land.grad(x), _central_differences(land.loss, x))


@pytest.mark.parametrize("name", LANDSCAPES)
@pytest.mark.parametrize("shape", [(), (4,)], ids=["unbatched", "batch4"])
def test_hessian_equals_central_differences_of_the_gradient(name, shape):
    land = LANDSCAPES[name]
    for seed in range(3):
        x = _random_points(land, shape, seed)
        hessian = land.hessian(x)
        _assert_close_to(hessian, _central_differences(land.grad, x))
        np.testing.assert_allclose(hessian, np.swapaxes(hessian, -1, -2), rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("name", LANDSCAPES)
def test_batched_evaluation_equals_a_loop_over_single_points(name):
    land = LANDSCAPES[name]
    x = _random_points(land, (3, 4), seed=7)
    for method in (land.loss, land.grad, land.hessian):
        batched = method(x)
        looped = np.array([[method(x[i, j]) for j in range(4)] for i in range(3)])
        np.testing.assert_allclose(batched, looped, rtol=1e-13, atol=1e-13)


@pytest.mark.parametrize("name", LANDSCAPES)
def test_one_point_gives_a_scalar_loss_a_vector_gradient_and_a_matrix_hessian(name):
    land = LANDSCAPES[name]
    x = land.x0
    assert np.shape(land.loss(x)) == ()
    assert land.grad(x).shape == (land.dim,)
    assert land.hessian(x).shape == (land.dim, land.dim)


@pytest.mark.parametrize("name", LANDSCAPES)
def test_default_start_lies_in_the_plotting_box_and_is_a_fresh_copy(name):
    land = LANDSCAPES[name]
    x0 = land.x0
    low, high = np.array(land.bounds).T
    assert len(land.bounds) == land.dim
    assert np.all((low <= x0) & (x0 <= high))
    x0 += 100.0
    assert not np.array_equal(land.x0, x0)


# --- known minima --------------------------------------------------------------------


@pytest.mark.parametrize("name", WITH_MINIMUM)
def test_gradient_vanishes_at_the_minimum_and_the_hessian_is_positive_definite(name):
    land = LANDSCAPES[name]
    np.testing.assert_allclose(land.grad(land.minimum), 0.0, atol=1e-12)
    assert np.all(np.linalg.eigvalsh(land.hessian(land.minimum)) > 0)


@pytest.mark.parametrize("name", WITH_MINIMUM)
def test_minimum_is_lower_than_every_sampled_point_of_the_box(name):
    land = LANDSCAPES[name]
    assert land.loss(land.minimum) <= land.loss(_random_points(land, (2000,), seed=1)).min()


@pytest.mark.parametrize(
    ("land", "minimum"),
    [
        (Parabola(curvature=2.0, center=3.0), [3.0]),
        (Quadratic(center=(1.0, -1.0)), [1.0, -1.0]),
        (Rosenbrock(), [1.0, 1.0]),
        (Rosenbrock(a=-2.0, b=5.0), [-2.0, 4.0]),
        (Beale(), [3.0, 0.5]),
        (BumpyWell(), [0.0]),
    ],
    ids=repr,
)
def test_analytic_landscapes_have_their_textbook_minimum_with_loss_zero(land, minimum):
    np.testing.assert_array_equal(land.minimum, minimum)
    assert land.loss(land.minimum) == 0.0


def test_known_values_away_from_the_minimum():
    assert Parabola(curvature=2.0, center=1.0).loss(np.array([4.0])) == 9.0
    assert Rosenbrock().loss(np.array([-1.2, 1.0])) == pytest.approx(24.2)
    assert Beale().loss(np.array([0.0, 0.0])) == pytest.approx(1.5**2 + 2.25**2 + 2.625**2)
    assert Saddle().loss(np.array([2.0, 4.0])) == -6.0
    assert BumpyWell(height=2.0).loss(np.array([np.sqrt(np.pi)])) == pytest.approx(np.pi / 2 + 4)


# --- the parabola and gradient descent's closed form ----------------------------------


@pytest.mark.parametrize("curvature", [0.5, 1.0, 4.0])
def test_gradient_descent_at_rate_one_over_curvature_lands_on_the_minimum_in_one_step(curvature):
    p = Parabola(curvature=curvature, center=-1.5)
    x1 = p.x0 - (1.0 / curvature) * p.grad(p.x0)
    np.testing.assert_allclose(x1, p.minimum, atol=1e-15)


def test_closed_form_equals_running_gradient_descent_k_steps():
    p = Parabola(curvature=2.0, center=0.5)
    lrs = np.array([0.1, 0.5, 0.75, 0.99, 1.2])  # creeping, one-step, oscillating, diverging
    x = np.broadcast_to(p.x0, (lrs.size, 1)).copy()
    for k in range(1, 16):
        x = x - lrs[:, None] * p.grad(x)
        np.testing.assert_allclose(p.gd_closed_form(lrs, k), x, rtol=1e-12, atol=1e-15)


def test_closed_form_is_the_geometric_factor_one_minus_lr_times_curvature():
    p = Parabola(curvature=4.0, center=1.0)
    k = np.arange(6)
    x = p.gd_closed_form(0.3, k, x0=np.array([3.0]))
    np.testing.assert_allclose(x[:, 0] - 1.0, (1 - 0.3 * 4.0) ** k * 2.0, rtol=0, atol=1e-15)


def test_closed_form_converges_below_two_over_curvature_and_diverges_above():
    p = Parabola(curvature=5.0)
    error = np.abs(p.gd_closed_form(np.array([0.38, 0.42]), 200)[:, 0])  # |1 - αλ| = 0.9, 1.1
    assert error[0] < 1e-6 < 1e6 < error[1]


# --- quadratics and conditioning ------------------------------------------------------


@pytest.mark.parametrize("kappa", [1.0, 10.0, 1000.0])
@pytest.mark.parametrize("angle", [0.0, 0.6])
def test_from_condition_gives_the_requested_condition_number_and_eigenvalues(kappa, angle):
    q = Quadratic.from_condition(kappa, lam_max=3.0, angle=angle)
    assert q.condition_number == pytest.approx(kappa, rel=1e-12)
    assert q.lam_max == pytest.approx(3.0) and q.lam_min == pytest.approx(3.0 / kappa)
    np.testing.assert_allclose(np.linalg.eigvalsh(q.A), [3.0 / kappa, 3.0], rtol=1e-12)


def test_first_eigenvalue_lies_along_the_direction_at_the_given_angle():
    angle = 0.4
    q = Quadratic(eigenvalues=(2.0, 7.0), angle=angle)
    v = np.array([np.cos(angle), np.sin(angle)])
    np.testing.assert_allclose(q.A @ v, 2.0 * v, atol=1e-14)
    np.testing.assert_allclose(q.A @ np.array([-v[1], v[0]]), 7.0 * np.array([-v[1], v[0]]))


def test_quadratic_gd_is_stable_just_below_two_over_lam_max_and_diverges_just_above():
    q = Quadratic(eigenvalues=(1.0, 10.0), angle=0.3)
    lrs = np.array([0.195, 0.205])
    x = np.broadcast_to(q.x0, (2, 2)).copy()
    for _ in range(500):
        x = x - lrs[:, None] * q.grad(x)
    assert q.loss(x)[0] < 1e-8 and q.loss(x)[1] > 1e8


# --- the bumpy well's trap ------------------------------------------------------------


def _descend(land, lrs: np.ndarray, steps: int = 2000) -> np.ndarray:
    x = np.broadcast_to(land.x0, (lrs.size, land.dim)).copy()
    for _ in range(steps):
        x = x - lrs[:, None] * land.grad(x)
    return x[:, 0]


def test_bumpy_well_local_minima_are_stationary_sharp_and_where_the_docstring_says():
    w = BumpyWell()
    x = w.local_minima[:, None]
    np.testing.assert_allclose(w.grad(x), 0.0, atol=1e-12)
    np.testing.assert_allclose(w.local_minima[2:], [2.3999, 3.4703], atol=1e-4)
    curvature = w.hessian(x)[:, 0, 0]
    assert curvature[2] == pytest.approx(19.95, abs=0.01)
    assert np.all(curvature > 19.0)  # far sharper than the global minimum (curvature 1)
    assert w.hessian(w.minimum)[0, 0] == 1.0
    assert w.loss(x[2]) == pytest.approx(3.0138, abs=1e-4)


def test_bumpy_well_small_rates_get_stuck_in_the_first_local_minimum():
    w = BumpyWell()
    final = _descend(w, np.linspace(0.001, 0.1, 100))
    np.testing.assert_allclose(final, w.local_minima[2], atol=1e-5)


def test_bumpy_well_rates_from_0_2_to_1_reach_the_global_minimum():
    w = BumpyWell()
    final = _descend(w, np.linspace(0.2, 1.0, 801))
    assert np.max(np.abs(final)) < 1e-8


def test_bumpy_well_at_rate_one_half_reaches_the_global_minimum_in_26_steps():
    w = BumpyWell()
    x = w.x0
    for _ in range(26):
        x = x - 0.5 * w.grad(x)
    assert abs(x[0]) < 1e-8


def test_bumpy_well_has_no_local_minima_when_the_ripples_are_too_weak():
    w = BumpyWell(height=0.4, frequency=1.0)  # 2hω = 0.8 <= 1: L' = x (1 + 2hω sin) > 0
    assert w.local_minima.size == 0
    x = np.linspace(0.01, 3.5, 1000)[:, None]
    assert np.all(w.grad(x) > 0)


# --- the saddle -----------------------------------------------------------------------


def test_saddle_has_zero_gradient_and_curvatures_of_both_signs_at_the_origin():
    s = Saddle()
    assert s.minimum is None
    np.testing.assert_array_equal(s.grad(s.saddle_point), [0.0, 0.0])
    assert np.linalg.eigvalsh(s.hessian(s.saddle_point)).tolist() == [-1.0, 1.0]


# --- regression losses ----------------------------------------------------------------


def test_linear_regression_hessian_and_minimiser_are_the_normal_equations():
    X, y, _ = _regression_data()
    loss = LinearRegressionLoss(X, y, l2=0.2)
    A = X.T @ X / 30 + 0.2 * np.eye(3)
    np.testing.assert_allclose(loss.A, A, rtol=1e-14)
    np.testing.assert_allclose(loss.hessian(np.zeros((2, 3))), np.stack([A, A]), rtol=1e-14)
    np.testing.assert_allclose(loss.minimum, np.linalg.solve(A, X.T @ y / 30), rtol=1e-12)
    np.testing.assert_allclose(loss.eigenvalues, np.linalg.eigvalsh(A), rtol=1e-12)
    assert loss.condition_number == pytest.approx(loss.lam_max / loss.lam_min)


def test_linear_regression_without_penalty_is_least_squares():
    X, y, _ = _regression_data()
    loss = LinearRegressionLoss(X, y)
    w, *_ = np.linalg.lstsq(X, y, rcond=None)
    np.testing.assert_allclose(loss.minimum, w, rtol=1e-12)
    assert loss.loss(w) == pytest.approx(0.5 * np.mean((X @ w - y) ** 2), rel=1e-14)


def test_linear_regression_has_no_unique_minimum_with_fewer_samples_than_features():
    rng = np.random.default_rng(0)
    loss = LinearRegressionLoss(rng.standard_normal((2, 4)), rng.standard_normal(2))
    assert loss.minimum is None and loss.condition_number == np.inf
    assert LinearRegressionLoss(loss.X, loss.y, l2=0.1).minimum is not None


@pytest.mark.parametrize("name", ["linear_regression", "logistic_regression"])
def test_minibatch_gradient_over_all_samples_equals_the_full_gradient(name):
    land = LANDSCAPES[name]
    w = _random_points(land, (4,), seed=3)
    np.testing.assert_allclose(land.minibatch_grad(w, np.arange(land.n)), land.grad(w), rtol=1e-12)


@pytest.mark.parametrize("name", ["linear_regression", "logistic_regression"])
def test_single_sample_gradients_average_to_the_full_gradient(name):
    land = LANDSCAPES[name]
    w = _random_points(land, (), seed=4)
    singles = [land.minibatch_grad(w, np.array([i])) for i in range(land.n)]
    np.testing.assert_allclose(np.mean(singles, axis=0), land.grad(w), rtol=1e-12, atol=1e-14)


def test_minibatch_gradient_uses_only_the_given_samples():
    X, y, _ = _regression_data()
    loss = LinearRegressionLoss(X, y, l2=0.3)
    w = np.array([0.2, -0.1, 0.4])
    idx = np.array([3, 3, 17])
    expected = LinearRegressionLoss(X[idx], y[idx], l2=0.3).grad(w)
    np.testing.assert_allclose(loss.minibatch_grad(w, idx), expected, rtol=1e-14)


def test_logistic_loss_at_zero_weights_is_log_two():
    X, _, y = _regression_data()
    assert LogisticRegressionLoss(X, y.astype(int)).loss(np.zeros(3)) == pytest.approx(np.log(2))


def test_logistic_loss_is_finite_and_exact_for_huge_weights_without_warnings():
    X, _, y = _regression_data()
    loss = LogisticRegressionLoss(X, y.astype(int))
    w = np.array([[1e3, -2e3, 5e2], [1e200, 1e200, -1e200]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        values, grads, hessians = loss.loss(w), loss.grad(w), loss.hessian(w)
    t = -(2 * y - 1) * (X @ w[0])  # log(1 + e^t) = max(t, 0) + log(1 + e^-|t|)
    expected = np.mean(np.maximum(t, 0.0) + np.log1p(np.exp(-np.abs(t))))
    assert values[0] == pytest.approx(expected, rel=1e-13)
    assert np.isfinite(values[1]) and values[1] > 1e199
    assert np.all(np.isfinite(grads)) and np.all(np.isfinite(hessians))


@pytest.mark.parametrize(
    "land", [Rosenbrock(), Beale(), BumpyWell(), Quadratic(), LANDSCAPES["linear_regression"]],
    ids=repr,
)
def test_far_away_points_overflow_to_inf_without_numpy_warnings(land):
    x = np.full((2, land.dim), 1e200)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        values = land.loss(x)
        land.grad(x)
        land.hessian(x)
    assert not np.any(np.isfinite(values))


# --- data sets ------------------------------------------------------------------------

GENERATORS = {
    "linear_regression": lambda seed: linear_regression(n=50, d=4, noise=0.1, seed=seed),
    "logistic_regression": lambda seed: logistic_regression(
        n=60, d=5, seed=seed, sparse_features=2
    ),
    "two_moons": lambda seed: two_moons(n=40, noise=0.1, seed=seed),
    "spirals": lambda seed: spirals(n=60, classes=3, noise=0.2, seed=seed),
    "sine_task": lambda seed: sine_tasks(num_tasks=3, seed=seed)[1].sample(10, seed=seed),
    "split": lambda seed: train_val_split(two_moons(n=40), frac=0.25, seed=seed)[1],
}


@pytest.mark.parametrize("name", GENERATORS)
def test_same_seed_gives_identical_bytes_and_another_seed_different_data(name):
    make = GENERATORS[name]
    a, b, c = make(3), make(3), make(4)
    assert a.X.tobytes() == b.X.tobytes() and a.y.tobytes() == b.y.tobytes()
    assert a.X.dtype == np.float64 and a.X.ndim == 2 and a.y.shape == (len(a.X),)
    assert not np.array_equal(a.X, c.X)


def test_linear_regression_targets_are_the_true_weights_plus_noise():
    data = linear_regression(n=500, d=3, noise=0.5, seed=1)
    assert data.X.shape == (500, 3) and data.coef.shape == (3,)
    residual = data.y - data.X @ data.coef
    assert 0.45 < residual.std() < 0.55
    clean = linear_regression(n=20, d=3, noise=0.0, seed=1)
    np.testing.assert_allclose(clean.y, clean.X @ clean.coef, rtol=1e-14)


def test_logistic_regression_rare_features_are_binary_and_active_in_few_samples():
    data = logistic_regression(n=400, d=6, seed=0, sparse_features=3, sparse_rate=0.05)
    rare = data.X[:, 3:]
    assert set(np.unique(rare)) == {0.0, 1.0}
    np.testing.assert_array_equal(rare.sum(axis=0), [20, 20, 20])
    assert np.all(np.abs(data.X[:, :3]).mean(axis=0) > 0.5)  # the dense ones are dense
    np.testing.assert_array_equal(np.abs(data.coef[3:]), [2.0, 2.0, 2.0])
    assert data.y.dtype == np.int64 and set(np.unique(data.y)) == {0, 1}


def test_logistic_regression_labels_follow_the_logistic_model():
    data = logistic_regression(n=20000, d=3, seed=2)
    probability = 1 / (1 + np.exp(-(data.X @ data.coef)))
    assert abs(data.y.mean() - probability.mean()) < 0.01


def test_two_moons_classes_are_balanced_and_lie_on_their_half_circles():
    data = two_moons(n=200, noise=0.0, seed=0)
    np.testing.assert_array_equal(np.bincount(data.y), [100, 100])
    outer, inner = data.X[data.y == 0], data.X[data.y == 1]
    np.testing.assert_allclose(np.hypot(*outer.T), 1.0)
    np.testing.assert_allclose(np.hypot(inner[:, 0] - 1, inner[:, 1] - 0.5), 1.0)
    assert np.all(outer[:, 1] >= 0) and np.all(inner[:, 1] <= 0.5)
    assert not np.all(np.diff(data.y) >= 0)  # shuffled, not sorted by class


@pytest.mark.parametrize(("n", "classes"), [(300, 3), (100, 4), (10, 2)])
def test_spirals_classes_are_balanced_when_the_count_divides(n, classes):
    data = spirals(n=n, classes=classes, seed=0)
    np.testing.assert_array_equal(np.bincount(data.y), [n // classes] * classes)
    assert np.all(np.hypot(*data.X.T) <= 1.0 + 1e-12)


def test_spirals_spread_the_remainder_over_the_first_classes():
    np.testing.assert_array_equal(np.bincount(spirals(n=11, classes=3).y), [4, 4, 3])


def test_sine_tasks_draw_amplitude_and_phase_in_their_ranges():
    tasks = sine_tasks(num_tasks=500, seed=0, amplitude_range=(0.5, 2.0), phase_range=(1.0, 2.0))
    amplitudes = np.array([t.amplitude for t in tasks])
    phases = np.array([t.phase for t in tasks])
    assert 0.5 <= amplitudes.min() < 0.6 and 1.9 < amplitudes.max() <= 2.0
    assert 1.0 <= phases.min() < 1.1 and 1.9 < phases.max() <= 2.0
    assert [t.amplitude for t in sine_tasks(num_tasks=5, seed=0)] != [
        t.amplitude for t in sine_tasks(num_tasks=5, seed=1)
    ]


def test_sine_task_samples_are_k_points_of_its_sine_inside_x_range():
    task = SineTask(amplitude=2.0, phase=0.3, x_range=(-1.0, 4.0))
    data = task.sample(25, seed=3)
    assert data.X.shape == (25, 1) and data.y.shape == (25,)
    assert np.all((-1.0 <= data.X) & (data.X <= 4.0))
    np.testing.assert_allclose(data.y, 2.0 * np.sin(data.X[:, 0] + 0.3), rtol=1e-15)
    assert not np.array_equal(task.sample(25, seed=4).X, data.X)


def test_two_tasks_sampled_with_the_same_seed_do_not_share_their_inputs():
    first, second = sine_tasks(num_tasks=2, seed=0)
    assert not np.array_equal(first.sample(5, seed=0).X, second.sample(5, seed=0).X)


def test_train_val_split_is_a_partition_of_the_samples_of_the_requested_size():
    data = linear_regression(n=50, d=2, seed=0)
    train, val = train_val_split(data, frac=0.3, seed=1)
    assert (len(train), len(val)) == (35, 15)
    rows = np.concatenate([train.X, val.X])
    np.testing.assert_array_equal(np.sort(rows, axis=0), np.sort(data.X, axis=0))
    merged = dict(zip(map(tuple, rows), np.concatenate([train.y, val.y]), strict=True))
    assert all(merged[tuple(x)] == y for x, y in zip(data.X, data.y, strict=True))
    assert train.coef is data.coef


# --- the digits -----------------------------------------------------------------------


def test_digits_are_1797_images_of_64_pixels_in_0_1_with_all_ten_labels():
    digits = load_digits()
    assert isinstance(digits, Dataset)
    assert digits.X.shape == (1797, 64) and digits.X.dtype == np.float64
    assert digits.X.min() == 0.0 and digits.X.max() == 1.0
    np.testing.assert_array_equal(np.unique(digits.X * 16), np.arange(17))  # counts 0..16
    assert digits.y.dtype == np.int64
    counts = np.bincount(digits.y)
    assert counts.size == 10 and counts.min() == 174 and counts.max() == 183


def test_digits_are_the_documented_file_and_every_load_is_an_equal_fresh_copy():
    a, b = load_digits(), load_digits()
    images, target = (a.X * 16).round().astype(np.uint8), a.y.astype(np.uint8)
    digest = hashlib.sha256(images.tobytes() + target.tobytes()).hexdigest()
    readme = (ROOT / "lrcourse" / "data" / "README.md").read_text(encoding="utf-8")
    assert digest in readme
    assert np.array_equal(a.X, b.X) and np.array_equal(a.y, b.y)
    a.X[0, 0] = 99.0
    assert load_digits().X[0, 0] == 0.0


def test_digits_first_image_is_a_zero():
    digits = load_digits()
    image = digits.X[0].reshape(8, 8)
    assert digits.y[0] == 0
    assert image[3:5, 3:5].max() == 0.0 and image[3:5, [1, 2, 5, 6]].min() > 0.2  # a hole


def test_digits_file_is_declared_as_package_data_so_the_wheel_ships_it():
    pyproject = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    header = r"^\[tool\.setuptools\.package-data\]\n(.*?)(?=^\[|\Z)"
    section = re.search(header, pyproject, re.M | re.S)
    assert section and re.search(r'^lrcourse\s*=\s*\[[^]]*"data/\*"', section.group(1), re.M)
    assert (ROOT / "lrcourse" / "data" / "digits.npz").stat().st_size < 100_000


# --- argument checks ------------------------------------------------------------------

X3, Y3, B3 = _regression_data()

BAD_ARGUMENTS = [
    ("curvature", lambda: Parabola(curvature=0.0)),
    ("center", lambda: Parabola(center=float("inf"))),
    ("eigenvalues[1]", lambda: Quadratic(eigenvalues=(1.0, -2.0))),
    ("eigenvalues", lambda: Quadratic(eigenvalues=(1.0, 2.0, 3.0))),
    ("angle", lambda: Quadratic(angle=float("nan"))),
    ("center", lambda: Quadratic(center=(0.0,))),
    ("condition_number", lambda: Quadratic.from_condition(0.5)),
    ("lam_max", lambda: Quadratic.from_condition(10.0, lam_max=0.0)),
    ("a", lambda: Rosenbrock(a="1")),
    ("b", lambda: Rosenbrock(b=-1.0)),
    ("height", lambda: BumpyWell(height=-0.1)),
    ("frequency", lambda: BumpyWell(frequency=0.0)),
    ("x", lambda: Quadratic().loss(np.zeros(3))),
    ("x", lambda: Parabola().grad(1.0)),
    ("x", lambda: Rosenbrock().hessian(np.zeros((4, 1)))),
    ("lr", lambda: Parabola().gd_closed_form(lr=np.array([0.1, -0.1]), k=3)),
    ("k", lambda: Parabola().gd_closed_form(lr=0.1, k=-1)),
    ("k", lambda: Parabola().gd_closed_form(lr=0.1, k=1.5)),
    ("X", lambda: LinearRegressionLoss(np.zeros(5), np.zeros(5))),
    ("X", lambda: LinearRegressionLoss(np.full((2, 2), np.nan), np.zeros(2))),
    ("y", lambda: LinearRegressionLoss(X3, Y3[:-1])),
    ("l2", lambda: LinearRegressionLoss(X3, Y3, l2=-1.0)),
    ("y", lambda: LogisticRegressionLoss(X3, np.full(30, 2))),
    ("y", lambda: LogisticRegressionLoss(X3, np.full(30, 0.5))),
    ("idx", lambda: LANDSCAPES["linear_regression"].minibatch_grad(np.zeros(3), np.array([30]))),
    ("idx", lambda: LANDSCAPES["logistic_regression"].minibatch_grad(np.zeros(3), [])),
    ("n", lambda: linear_regression(n=0)),
    ("d", lambda: linear_regression(d=0)),
    ("noise", lambda: linear_regression(noise=-0.1)),
    ("seed", lambda: linear_regression(seed=-1)),
    ("seed", lambda: two_moons(seed=1.5)),
    ("sparse_features", lambda: logistic_regression(d=3, sparse_features=4)),
    ("sparse_rate", lambda: logistic_regression(sparse_features=1, sparse_rate=1.5)),
    ("n", lambda: two_moons(n=1)),
    ("classes", lambda: spirals(classes=1)),
    ("n", lambda: spirals(n=2, classes=3)),
    ("num_tasks", lambda: sine_tasks(num_tasks=0)),
    ("amplitude_range", lambda: sine_tasks(amplitude_range=(5.0, 1.0))),
    ("x_range", lambda: sine_tasks(x_range=(0.0,))),
    ("k", lambda: SineTask(1.0, 0.0).sample(0)),
    ("frac", lambda: train_val_split(two_moons(n=10), frac=1.0)),
    ("frac", lambda: train_val_split(two_moons(n=10), frac=-0.2)),
]


@pytest.mark.parametrize(("argument", "call"), BAD_ARGUMENTS, ids=[a for a, _ in BAD_ARGUMENTS])
def test_bad_argument_raises_an_error_naming_it(argument, call):
    with pytest.raises((ValueError, TypeError)) as error:
        call()
    assert f"{argument} " in str(error.value) or f"{argument}=" in str(error.value)
    assert str(error.value).startswith(argument)


@pytest.mark.parametrize("module", ["landscapes", "regression", "datasets"])
def test_docstring_examples_print_what_they_show(module):
    result = doctest.testmod(importlib.import_module(f"lrcourse.problems.{module}"))
    assert result.attempted > 0 and result.failed == 0
