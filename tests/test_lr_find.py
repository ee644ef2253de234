"""lrcourse.train.lr_find: the LR range test, its smoothing, suggestions and restoration."""

from __future__ import annotations

import copy
import math

import numpy as np
import pytest

from lrcourse.optimizers import SGD, Adam
from lrcourse.problems import LinearRegressionLoss
from lrcourse.train import (
    landscape_objective,
    lr_find,
    suggest_min_div_10,
    suggest_steepest,
    suggest_valley,
    supervised_objective,
    train,
)

# One parameter list for the scripted objectives and their optimizers: their
# gradients are zero, so sharing it between tests changes nothing.
SHARED = [np.zeros(2)]

class Scripted:
    """An objective returning given losses one call after another (zero gradients)."""

    def __init__(self, losses):
        self.params = SHARED  # the optimizers below are built over it
        self.losses = list(losses)
        self.calls = 0

    def loss_and_grads(self, rng):
        loss = self.losses[min(self.calls, len(self.losses) - 1)]
        self.calls += 1
        return loss, [np.zeros(2)]


def regression(n=200, d=5, seed=0):
    """A linear regression with features of very different scales (λ_max well separated)."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d)) * np.linspace(0.3, 2.0, d)
    y = X @ rng.normal(size=d) + 0.1 * rng.normal(size=n)
    return LinearRegressionLoss(X, y)


def _deep_equal(a, b):
    """Structural, bit-for-bit equality of nested dicts/lists/tuples/arrays/numbers."""
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_deep_equal(a[k], b[k]) for k in a)
    if isinstance(a, list | tuple):
        return len(a) == len(b) and all(_deep_equal(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return np.array_equal(a, b)
    if dataclass_fields := getattr(a, "__dataclass_fields__", None):
        return type(a) is type(b) and all(
            _deep_equal(getattr(a, f), getattr(b, f)) for f in dataclass_fields
        )
    return a == b


# --- restoration ---------------------------------------------------------------------------------


@pytest.mark.parametrize("make_optimizer", [
    lambda params: Adam(params, lr=1e-3, betas=(0.8, 0.99)),
    lambda params: SGD(params, lr=0.01, momentum=0.9, nesterov=True),
])
def test_weights_and_optimizer_state_are_restored_bit_for_bit(make_optimizer):
    loss = regression()
    obj = landscape_objective(loss, x0=np.ones(loss.dim))
    opt = make_optimizer(obj.params)
    train(obj, opt, steps=7)  # a state with something in it
    weights = [p.copy() for p in obj.params]
    arrays = list(obj.params)
    state = copy.deepcopy(opt.state_dict())
    groups = copy.deepcopy([{k: v for k, v in g.items() if k != "params"}
                            for g in opt.param_groups])

    result = lr_find(obj, opt, start_lr=1e-5, end_lr=100.0, num_steps=60)
    assert len(result.lrs) > 10  # it did move the weights before putting them back

    assert all(p is a for p, a in zip(obj.params, arrays, strict=True))  # same arrays, in place
    for p, w in zip(obj.params, weights, strict=True):
        np.testing.assert_array_equal(p, w)
    assert _deep_equal(opt.state_dict(), state)
    assert _deep_equal([{k: v for k, v in g.items() if k != "params"}
                        for g in opt.param_groups], groups)


def test_training_after_lr_find_equals_training_without_it():
    def run(probe):
        loss = regression()
        obj = landscape_objective(loss, x0=np.ones(loss.dim))
        opt = Adam(obj.params, lr=0.01)
        train(obj, opt, steps=5)
        if probe:
            lr_find(obj, opt, num_steps=50)
        return train(obj, opt, steps=20).loss

    np.testing.assert_array_equal(run(False), run(True))


def test_restores_even_when_the_objective_raises_midway():
    class Failing(Scripted):
        def loss_and_grads(self, rng):
            if self.calls == 5:
                raise RuntimeError("boom")
            loss, _ = super().loss_and_grads(rng)
            return loss, [np.ones(2)]

    obj = Failing([1.0])
    opt = SGD(obj.params, lr=0.123, momentum=0.9)
    with pytest.raises(RuntimeError, match="boom"):
        lr_find(obj, opt, start_lr=0.1, end_lr=1.0)
    np.testing.assert_array_equal(obj.params[0], np.zeros(2))
    assert opt.param_groups[0]["lr"] == 0.123


# --- the sweep and its smoothing ------------------------------------------------------------------


def test_rates_are_the_exponential_sweep_from_start_to_end():
    result = lr_find(Scripted([1.0]), SGD(SHARED, lr=0.1), start_lr=1e-6, end_lr=1.0,
                     num_steps=25)
    expected = 1e-6 * (1.0 / 1e-6) ** (np.arange(25) / 24)
    np.testing.assert_allclose(result.lrs, expected, rtol=1e-14)
    assert result.lrs[-1] == pytest.approx(1.0) and not result.stopped_early


def test_smoothed_loss_is_the_bias_corrected_moving_average():
    losses = [2.0, 1.0, 1.5, 0.5, 0.7, 0.6, 0.9, 0.4]
    beta = 0.7
    result = lr_find(Scripted([9.9] + losses), SGD(SHARED, lr=0.1),
                     num_steps=len(losses), smoothing=beta)
    np.testing.assert_array_equal(result.losses, losses)  # the loss after each update
    avg, expected = 0.0, []
    for i, loss in enumerate(losses):
        avg = beta * avg + (1 - beta) * loss
        expected.append(avg / (1 - beta ** (i + 1)))
    np.testing.assert_allclose(result.smoothed, expected, rtol=1e-14)
    assert result.smoothed[0] == losses[0]  # bias correction: no pull towards 0


def test_no_smoothing_gives_the_raw_losses():
    losses = [3.0, 1.0, 2.0, 0.5]
    result = lr_find(Scripted([0.0] + losses), SGD(SHARED, lr=0.1), num_steps=4,
                     smoothing=0.0)
    np.testing.assert_array_equal(result.smoothed, losses)


def test_stops_when_the_smoothed_loss_exceeds_threshold_times_its_best():
    losses = [1.0, 0.8, 0.5, 0.6, 1.5, 2.5, 3.0, 1.0, 1.0]
    result = lr_find(Scripted([0.0] + losses), SGD(SHARED, lr=0.1), num_steps=9,
                     smoothing=0.0, diverge_threshold=2.0)
    # best 0.5; first value above 2 · 0.5 is 1.5 (index 4): recorded, then stop
    np.testing.assert_array_equal(result.losses, [1.0, 0.8, 0.5, 0.6, 1.5])
    assert result.stopped_early


def test_stops_early_on_divergence_of_a_quadratic_before_end_lr():
    loss = regression()
    obj = landscape_objective(loss, x0=np.zeros(loss.dim))
    result = lr_find(obj, SGD(obj.params, lr=0.1), start_lr=1e-4, end_lr=1e3, num_steps=100)
    assert result.stopped_early and len(result.lrs) < 100
    assert result.lrs[-1] < 1e3
    # divergence sets in above 2/λ_max; smoothing and the 4x rule add a short lag
    assert 2 / loss.lam_max < result.lrs[-1] < 30 / loss.lam_max
    assert result.smoothed[-1] > 4 * result.smoothed[:-1].min()


def test_a_non_finite_loss_stops_the_test_and_is_not_recorded():
    result = lr_find(Scripted([0.0, 1.0, 0.9, float("inf"), 0.5]), SGD(SHARED, lr=0.1),
                     num_steps=10)
    np.testing.assert_array_equal(result.losses, [1.0, 0.9])
    assert result.stopped_early


# --- suggestions ----------------------------------------------------------------------------------


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_suggestions_fall_within_documented_bracket_around_one_over_lambda_max(seed):
    # Full-batch gradient descent on least squares: best constant rate ~ 1/λ_max,
    # divergence above 2/λ_max. Documented bracket: [1/(20 λ_max), 2/λ_max].
    loss = regression(seed=seed)
    obj = landscape_objective(loss, x0=np.zeros(loss.dim))
    result = lr_find(obj, SGD(obj.params, lr=0.1), start_lr=1e-5, end_lr=1e2, num_steps=100)
    lam = loss.lam_max
    for name in ("steepest", "min_div_10", "valley"):
        lr = result.suggestions[name]
        assert 1 / (20 * lam) <= lr <= 2 / lam, (name, lr * lam)


def test_suggestions_on_minibatch_training_of_a_network_are_finite_and_ordered():
    from lrcourse.nn import MLP
    from lrcourse.problems import two_moons

    data = two_moons(200, noise=0.1, seed=0)
    obj = supervised_objective(MLP([2, 16, 2], seed=0), data.X, data.y, batch_size=32)
    result = lr_find(obj, SGD(obj.params, lr=0.1), start_lr=1e-4, end_lr=100.0)
    s = result.suggestions
    assert all(math.isfinite(v) for v in s.values())
    assert s["min_div_10"] < result.lrs[np.argmin(result.smoothed)]
    assert result.lrs[0] <= s["steepest"] <= result.lrs[-1]


def test_suggest_steepest_picks_the_most_negative_slope_against_log_lr():
    lrs = np.logspace(-5, 0, 6)
    smoothed = np.array([1.0, 0.99, 0.97, 0.5, 0.2, 0.8])
    # central differences: index 2 spans 0.99 -> 0.5, index 3 spans 0.97 -> 0.2 (steepest)
    assert suggest_steepest(lrs, smoothed) == pytest.approx(1e-2)


def test_suggest_steepest_is_invariant_to_the_log_base_spacing():
    lrs = np.geomspace(1e-4, 1.0, 9)
    smoothed = np.array([1, 0.98, 0.9, 0.7, 0.3, 0.2, 0.18, 0.5, 2.0])
    assert suggest_steepest(lrs, smoothed) == suggest_steepest(lrs * 7.0, smoothed) / 7.0


def test_suggest_min_div_10_is_a_tenth_of_the_rate_at_the_minimum():
    lrs = np.logspace(-3, 1, 5)
    assert suggest_min_div_10(lrs, [3.0, 2.0, 1.0, 0.5, 4.0]) == pytest.approx(1.0 / 10)


def test_suggest_valley_is_two_thirds_down_the_longest_descent():
    lrs = np.arange(1.0, 13.0)
    #           0    1    2    3    4    5    6    7    8    9   10   11
    smoothed = [5.0, 4.0, 4.5, 4.4, 4.0, 3.0, 2.0, 1.5, 1.4, 1.3, 2.0, 3.0]
    # descents: 0..1 (1 step) and 2..9 (7 steps); 2 + floor(2·7/3) = 6
    assert suggest_valley(lrs, smoothed) == lrs[6]


def test_suggest_valley_is_nan_when_the_loss_never_falls():
    assert math.isnan(suggest_valley([1.0, 2.0, 3.0], [1.0, 1.0, 2.0]))


# --- argument validation -------------------------------------------------------------------------


def _find(**kwargs):
    args = {"objective": Scripted([1.0]), "optimizer": SGD(SHARED, lr=0.1)}
    args.update(kwargs)
    return lr_find(**args)


@pytest.mark.parametrize(
    ("call", "error", "name"),
    [
        (lambda: _find(start_lr=0.0), ValueError, "start_lr"),
        (lambda: _find(start_lr=-1e-3), ValueError, "start_lr"),
        (lambda: _find(start_lr=1.0, end_lr=0.5), ValueError, "end_lr"),
        (lambda: _find(end_lr=float("inf")), ValueError, "end_lr"),
        (lambda: _find(num_steps=1), ValueError, "num_steps"),
        (lambda: _find(num_steps=10.0), TypeError, "num_steps"),
        (lambda: _find(smoothing=1.0), ValueError, "smoothing"),
        (lambda: _find(diverge_threshold=1.0), ValueError, "diverge_threshold"),
        (lambda: _find(skip_start=-1), ValueError, "skip_start"),
        (lambda: _find(skip_end=-1), ValueError, "skip_end"),
        (lambda: _find(objective=object()), TypeError, "objective"),
        (lambda: _find(optimizer=object()), TypeError, "optimizer"),
        (lambda: suggest_steepest([1.0, 2.0], [1.0]), ValueError, "smoothed"),
        (lambda: suggest_steepest([1.0], [1.0]), ValueError, "lrs"),
        (lambda: suggest_steepest([0.0, 1.0], [1.0, 2.0]), ValueError, "lrs"),
        (lambda: suggest_min_div_10([1.0, 2.0], [1.0, np.nan]), ValueError, "smoothed"),
        (lambda: suggest_valley([[1.0, 2.0]], [[1.0, 2.0]]), ValueError, "lrs"),
    ],
)
def test_invalid_arguments_raise_an_error_naming_the_argument(call, error, name):
    with pytest.raises(error, match=name):
        call()
