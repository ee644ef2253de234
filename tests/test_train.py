"""lrcourse.train: the training loop, its History, divergence detection and callbacks."""

from __future__ import annotations

import doctest
import warnings

import numpy as np
import pytest

import lrcourse.train
from lrcourse.optimizers import SGD, Adam, sgd_step
from lrcourse.problems import Parabola, Quadratic
from lrcourse.schedules import ReduceLROnPlateau, exponential_decay, one_cycle
from lrcourse.train import (
    DivergenceWarning,
    EarlyStopping,
    History,
    PlateauLR,
    has_diverged,
    landscape_objective,
    supervised_objective,
    train,
)

# One parameter list for the scripted objectives and their optimizers: their
# gradients are zero, so sharing it between tests changes nothing.
SHARED = [np.zeros(2)]

class Scripted:
    """An objective that returns given losses (and zero gradients) one call after another."""

    def __init__(self, losses, val_losses=None):
        self.params = SHARED  # the optimizers below are built over it
        self.losses = list(losses)
        self.val_losses = None if val_losses is None else list(val_losses)
        self.calls = 0

    def loss_and_grads(self, rng):
        loss = self.losses[min(self.calls, len(self.losses) - 1)]
        self.calls += 1
        return loss, [np.zeros(2)]

    def val_loss(self):
        return None if self.val_losses is None else self.val_losses.pop(0)


def run_parabola(lr, steps, curvature=2.0, center=0.5, x0=2.0, **kwargs):
    obj = landscape_objective(Parabola(curvature=curvature, center=center), x0=x0)
    return train(obj, SGD(obj.params, lr=lr), steps=steps, **kwargs)


# --- the maths on the parabola ------------------------------------------------------------------


@pytest.mark.parametrize("lr", [0.05, 0.3, 0.5, 0.7, 0.95])
def test_parabola_path_equals_closed_form_c_plus_one_minus_alpha_lambda_to_the_k(lr):
    lam, c, x0, steps = 2.0, 0.5, 2.0, 25
    h = run_parabola(lr, steps, curvature=lam, center=c, x0=x0, record_path=True)
    k = np.arange(steps + 1)
    expected = c + (1 - lr * lam) ** k * (x0 - c)
    np.testing.assert_allclose(h.path[:, 0], expected, rtol=1e-12, atol=1e-15)
    # x_k - c cancels digits near the minimum: absolute error ~ λ |x_k - c| · 1e-16
    np.testing.assert_allclose(h.loss, lam / 2 * (expected - c) ** 2, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("lr", [0.01, 0.2, 0.45])
def test_loss_strictly_decreasing_and_path_monotone_below_one_over_lambda(lr):
    h = run_parabola(lr, 12, curvature=2.0, center=0.5, record_path=True)
    assert np.all(np.diff(h.loss) < 0)
    assert np.all(h.path[:, 0] - 0.5 > 0)  # never crosses the minimum


@pytest.mark.parametrize("lr", [0.55, 0.8, 0.95])
def test_iterates_alternate_sides_of_minimum_between_one_and_two_over_lambda(lr):
    h = run_parabola(lr, 12, curvature=2.0, center=0.5, record_path=True)
    side = np.sign(h.path[:, 0] - 0.5)
    assert np.all(side[1:] == -side[:-1])
    assert np.all(np.diff(h.loss) < 0)  # still converging


def test_one_step_to_the_minimum_at_alpha_equal_one_over_lambda():
    h = run_parabola(0.5, 3, curvature=2.0, center=0.5, record_path=True)
    assert h.path[1, 0] == 0.5 and h.loss[1] == 0.0


# --- train against the optimizers -----------------------------------------------------------------


@pytest.mark.parametrize(
    "hyper",
    [
        {"lr": 0.05},
        {"lr": 0.05, "momentum": 0.9},
        {"lr": 0.02, "momentum": 0.8, "nesterov": True, "weight_decay": 0.01},
        {"lr": 0.05, "momentum": 0.5, "dampening": 0.3},
    ],
)
def test_train_with_SGD_equals_the_same_number_of_sgd_step_calls(hyper):
    q = Quadratic(eigenvalues=(0.5, 8.0), angle=0.4, center=(1.0, -1.0))
    obj = landscape_objective(q, x0=(3.0, 2.0))
    h = train(obj, SGD(obj.params, **hyper), steps=40, record_path=True)
    x, state = np.array([3.0, 2.0]), None
    path = [x]
    for _ in range(40):
        x, state = sgd_step(x, q.grad(x), state, **hyper)
        path.append(x)
    np.testing.assert_array_equal(h.path, np.array(path))
    np.testing.assert_array_equal(obj.params[0], x)
    np.testing.assert_array_equal(h.loss, [q.loss(p) for p in path])


def test_params_are_updated_in_place_in_the_objective_arrays():
    obj = landscape_objective(Parabola(), x0=1.0)
    x = obj.params[0]
    train(obj, SGD(obj.params, lr=0.1), steps=5)
    assert obj.params[0] is x and x[0] == pytest.approx(0.9**5, rel=1e-14)


def test_schedule_values_are_recorded_exactly_in_history_lr():
    sched = exponential_decay(0.3, gamma=0.9)
    h = run_parabola(0.123, 30, schedule=sched)
    np.testing.assert_array_equal(h.lr, np.array([sched(t) for t in range(30)], dtype=float))
    assert len(h.lr) == 30 and len(h.loss) == 31


def test_schedule_sets_the_rate_before_update_t_with_t_zero_first():
    lam, c, x0 = 2.0, 0.5, 2.0
    rates = [0.1, 0.2, 0.3, 0.4, 0.05]
    h = run_parabola(99.0, 5, curvature=lam, center=c, x0=x0, record_path=True,
                     schedule=lambda t: rates[t])
    x = x0
    for k, lr in enumerate(rates):
        assert h.path[k, 0] == pytest.approx(x, rel=1e-14)
        x = x - lr * lam * (x - c)
    assert h.path[5, 0] == pytest.approx(x, rel=1e-14)


def test_schedule_keeps_the_ratio_of_differential_group_rates():
    a, b = np.ones(3), np.ones(2)

    class Two:
        params = [a, b]

        def loss_and_grads(self, rng):
            return float(a @ a + b @ b), [2 * a, 2 * b]

    opt = SGD([{"params": [a], "lr": 1e-3}, {"params": [b]}], lr=1e-2)
    seen = []

    def spy(t, loss, history):
        seen.append([g["lr"] for g in opt.param_groups])

    sched = exponential_decay(0.5, gamma=0.8)
    h = train(Two(), opt, steps=6, schedule=sched, callbacks=[spy])
    used = np.array(seen[1:])  # at call t the groups hold the rates of update t - 1
    expected = np.array([sched(t) for t in range(6)])
    np.testing.assert_allclose(used[:, 0], 0.1 * expected, rtol=1e-15)
    np.testing.assert_array_equal(used[:, 1], expected)
    np.testing.assert_array_equal(h.lr, expected)


def test_frozen_group_at_zero_rate_stays_frozen_under_a_schedule():
    a, b = np.ones(2), np.ones(2)

    class Two:
        params = [a, b]

        def loss_and_grads(self, rng):
            return float(a @ a + b @ b), [2 * a, 2 * b]

    opt = SGD([{"params": [a], "lr": 0.0}, {"params": [b], "lr": 0.1}])
    train(Two(), opt, steps=5, schedule=exponential_decay(0.2, gamma=0.5))
    np.testing.assert_array_equal(a, np.ones(2))
    assert np.all(b < 1)


def test_momentum_schedule_drives_sgd_momentum_and_is_recorded():
    sched = one_cycle(max_lr=0.1, total_steps=20)
    obj = landscape_objective(Quadratic(), x0=(1.0, 1.0))
    opt = SGD(obj.params, lr=0.1, momentum=0.9)
    h = train(obj, opt, steps=20, schedule=sched, momentum_schedule=sched.momentum)
    expected = np.array([sched.momentum(t) for t in range(20)], dtype=float)
    np.testing.assert_array_equal(h.momentum, expected)
    assert opt.param_groups[0]["momentum"] == expected[-1]
    assert expected.min() < expected.max()  # it did cycle


def test_momentum_schedule_drives_adam_beta1_and_keeps_beta2():
    sched = one_cycle(max_lr=0.01, total_steps=10)
    obj = landscape_objective(Quadratic(), x0=(1.0, 1.0))
    opt = Adam(obj.params, lr=0.01, betas=(0.9, 0.99))
    train(obj, opt, steps=10, schedule=sched, momentum_schedule=sched.momentum)
    assert tuple(opt.param_groups[0]["betas"]) == (float(sched.momentum(9)), 0.99)


# --- divergence ---------------------------------------------------------------------------------


def test_divergence_stops_at_the_first_step_the_loss_exceeds_factor_times_best():
    # Parabola λ=1, x0=1: loss_k = 0.5 · 4^k at α = 3; 4^7 = 16384 is the first above 1e4.
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("error")  # any other warning (NumPy's overflow...) raises
        warnings.simplefilter("always", DivergenceWarning)
        h = run_parabola(3.0, 100, curvature=1.0, center=0.0, x0=1.0, record_path=True)
    assert h.diverged and h.diverged_at == 7
    assert "exploded" in h.reason
    np.testing.assert_allclose(h.loss, 0.5 * 4.0 ** np.arange(8), rtol=1e-12)
    np.testing.assert_allclose(h.path[:, 0], (-2.0) ** np.arange(8), rtol=1e-12)
    assert len(h.lr) == 7
    assert [w.category for w in caught] == [DivergenceWarning]
    message = str(caught[0].message)
    assert "step 7" in message and "lr=3" in message


def test_divergence_on_a_non_finite_loss_warns_once_and_leaks_no_numpy_warning():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("error")
        warnings.simplefilter("always", DivergenceWarning)
        h = run_parabola(3.0, 5000, curvature=1.0, center=0.0, x0=1.0, divergence_factor=None)
    k = h.diverged_at
    assert h.diverged and not np.isfinite(h.loss[k]) and np.all(np.isfinite(h.loss[:k]))
    assert 400 < k < 600 and "not finite" in h.reason  # 0.5·4^k overflows near k = 512
    assert len(caught) == 1 and caught[0].category is DivergenceWarning


class RawSquare:
    """L(x) = Σ x², computed without silencing NumPy: its overflow would warn."""

    def __init__(self, n):
        self.params = [np.ones(n)]

    def loss_and_grads(self, rng):
        x = self.params[0]
        return float(np.sum(x * x)), [2 * x]


@pytest.mark.parametrize("n", [1, 200_000])  # large: the optimizer works in threads
def test_numpy_overflow_inside_the_objective_and_optimizer_does_not_leak_a_warning(n):
    obj = RawSquare(n)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("error")
        warnings.simplefilter("always", DivergenceWarning)
        h = train(obj, SGD(obj.params, lr=1e3), steps=1000, divergence_factor=None)
    assert h.diverged and 40 < h.diverged_at < 60  # |x| grows ~2000x per step up to 1e154
    assert [w.category for w in caught] == [DivergenceWarning]


def test_final_loss_is_nan_after_divergence_and_the_last_loss_otherwise():
    with pytest.warns(DivergenceWarning):
        h = run_parabola(3.0, 50, curvature=1.0, center=0.0, x0=1.0)
    assert np.isnan(h.final_loss) and np.isfinite(h.loss[-1])
    h = run_parabola(0.5, 3, curvature=1.0, center=0.0, x0=1.0)
    assert h.final_loss == h.loss[-1] == 0.5 * 0.5**6


def test_warn_false_marks_the_history_without_a_warning():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        h = run_parabola(3.0, 50, curvature=1.0, center=0.0, x0=1.0, warn=False)
    assert h.diverged_at == 7


def test_tiny_losses_rising_by_a_large_factor_do_not_trip_the_detector_thanks_to_the_floor():
    losses = [1.0, 1e-20, 1e-15, 1e-12, 1e-10]
    h = train(Scripted(losses), SGD(SHARED, lr=0.1), steps=4)
    assert not h.diverged and len(h.loss) == 5
    with pytest.warns(DivergenceWarning):
        h = train(Scripted(losses), SGD(SHARED, lr=0.1), steps=4, divergence_floor=0.0)
    assert h.diverged_at == 2


def test_a_non_finite_gradient_counts_as_divergence():
    class BadGrad(Scripted):
        def loss_and_grads(self, rng):
            loss, grads = super().loss_and_grads(rng)
            return loss, [np.full(2, np.nan)] if self.calls == 3 else grads

    with pytest.warns(DivergenceWarning, match="step 2"):
        h = train(BadGrad([1.0]), SGD(SHARED, lr=0.1), steps=10)
    assert h.diverged_at == 2 and "gradient" in h.reason


def test_has_diverged_rule_reads_factor_times_best_and_handles_negative_losses():
    assert has_diverged(10_001.0, 1.0) and not has_diverged(9_999.0, 1.0)
    assert not has_diverged(0.5, 1e-12)  # floor: best counts as 1e-3, limit ≈ 10
    assert has_diverged(11.0, 1e-12)
    assert not has_diverged(-1.0, -3.0) and has_diverged(3e4 + 1.0, -3.0)
    assert has_diverged(np.nan, 1.0) and has_diverged(-np.inf, 1.0)
    assert not has_diverged(1e300, 1.0, factor=None)
    np.testing.assert_array_equal(
        has_diverged(np.array([1.0, 2e4, np.nan]), np.array([1.0, 1.0, 1.0])), [False, True, True]
    )


# --- callbacks and validation -------------------------------------------------------------------


def test_callback_returning_true_stops_training_and_says_why():
    calls = []

    def stop_at_5(t, loss, history):
        calls.append((t, loss, len(history.loss)))
        return t == 5

    h = run_parabola(0.1, 50, callbacks=[stop_at_5])
    assert len(h.loss) == 6 and len(h.lr) == 5 and not h.diverged
    assert "stop_at_5" in h.reason and "step 5" in h.reason
    assert [c[0] for c in calls] == list(range(6))
    assert all(length == t + 1 for t, _, length in calls)  # the history is up to date


def test_val_loss_is_measured_every_val_every_steps_from_step_zero():
    obj = Scripted([1.0], val_losses=list(np.arange(10.0, 0.0, -1.0)))
    h = train(obj, SGD(obj.params, lr=0.1), steps=9, val_every=3)
    np.testing.assert_array_equal(h.val_steps, [0, 3, 6, 9])
    np.testing.assert_array_equal(h.val_loss, [10.0, 9.0, 8.0, 7.0])


def test_early_stopping_on_val_loss_stops_after_patience_evaluations_without_improvement():
    vals = [5.0, 4.0, 3.0, 3.5, 3.2, 3.1, 2.0]  # best at evaluation 2 (step 4)
    obj = Scripted([1.0], val_losses=vals)
    stop = EarlyStopping(patience=3)
    h = train(obj, SGD(obj.params, lr=0.1), steps=12, val_every=2, callbacks=[stop])
    assert len(h.loss) == 11  # evaluations at steps 6, 8, 10 did not improve: stop at 10
    assert stop.best == 3.0 and stop.best_step == 4
    assert "EarlyStopping" in h.reason


def test_plateau_callback_cuts_the_rate_as_reduce_lr_on_plateau_says():
    losses = [3.0, 2.0, 2.0, 2.0, 2.0, 2.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0]
    obj = Scripted(losses)
    opt = SGD(obj.params, lr=0.1)
    plateau = PlateauLR(ReduceLROnPlateau(0.1, patience=2, factor=0.5), opt, monitor="loss")
    h = train(obj, opt, steps=11, callbacks=[plateau])
    reference = ReduceLROnPlateau(0.1, patience=2, factor=0.5)
    expected = [reference.step(loss) for loss in losses[:11]]
    np.testing.assert_array_equal(h.lr, expected)
    assert h.lr[-1] < h.lr[0]


def test_plateau_callback_with_a_schedule_is_rejected():
    obj = landscape_objective(Parabola(), x0=1.0)
    opt = SGD(obj.params, lr=0.1)
    with pytest.raises(ValueError, match="callbacks"):
        train(obj, opt, 5, schedule=lambda t: 0.1,
              callbacks=[PlateauLR(ReduceLROnPlateau(0.1), opt)])


def test_history_steps_to_counts_the_updates_needed():
    h = run_parabola(0.25, 20, curvature=2.0, center=0.0, x0=1.0)  # loss_k = 0.5^(2k)
    assert h.steps_to(1.0) == 0 and h.steps_to(0.25) == 1 and h.steps_to(0.2) == 2
    assert h.steps_to(1e-300) is None


def test_record_path_concatenates_all_parameters_in_order():
    a, b = np.array([1.0, 2.0]), np.array([[3.0], [4.0]])

    class Two:
        params = [a, b]

        def loss_and_grads(self, rng):
            return 1.0, [np.ones(2), np.ones((2, 1))]

    h = train(Two(), SGD([a, b], lr=0.5), steps=2, record_path=True)
    np.testing.assert_array_equal(h.path, [[1, 2, 3, 4], [0.5, 1.5, 2.5, 3.5], [0, 1, 2, 3]])


# --- objectives ---------------------------------------------------------------------------------


class Linear:
    """A tiny model with the nn interface: y ≈ X w, loss = mean squared error / 2."""

    def __init__(self, d):
        self.params = [np.zeros(d)]

    def loss_and_grads(self, X, y, loss="mse"):
        r = X @ self.params[0] - y
        return 0.5 * np.mean(r**2), [X.T @ r / len(y)]


def test_supervised_full_batch_when_batch_size_is_none():
    rng = np.random.default_rng(1)
    X, y = rng.normal(size=(30, 3)), rng.normal(size=30)
    model = Linear(3)
    model.params[0][:] = [0.1, -0.2, 0.3]
    obj = supervised_objective(model, X, y, loss="mse")
    loss, grads = obj.loss_and_grads(np.random.default_rng(5))
    expected_loss, expected_grads = model.loss_and_grads(X, y)
    assert loss == expected_loss
    np.testing.assert_array_equal(grads[0], expected_grads[0])
    assert obj.params[0] is model.params[0]


def test_supervised_minibatches_depend_on_the_seed_only():
    rng = np.random.default_rng(1)
    X, y = rng.normal(size=(50, 3)), rng.normal(size=50)

    def run(seed):
        obj = supervised_objective(Linear(3), X, y, batch_size=8, loss="mse")
        return train(obj, SGD(obj.params, lr=0.1), steps=20, seed=seed).loss

    np.testing.assert_array_equal(run(3), run(3))
    assert not np.array_equal(run(3), run(4))


def test_supervised_batch_has_batch_size_distinct_rows():
    X, y = np.arange(20.0)[:, None], np.arange(20.0)
    seen = []

    class Spy(Linear):
        def loss_and_grads(self, X, y, loss="mse"):
            seen.append(y.copy())
            return super().loss_and_grads(X, y)

    obj = supervised_objective(Spy(1), X, y, batch_size=6, loss="mse")
    obj.loss_and_grads(np.random.default_rng(0))
    assert len(seen[0]) == 6 and len(set(seen[0])) == 6


def test_supervised_training_of_an_mlp_lowers_the_loss():
    from lrcourse.nn import MLP
    from lrcourse.problems import two_moons

    data = two_moons(200, noise=0.1, seed=0)
    X, y = data.X, data.y
    model = MLP([2, 16, 2], seed=0)
    obj = supervised_objective(model, X, y, batch_size=32, X_val=X[:50], y_val=y[:50])
    h = train(obj, SGD(obj.params, lr=0.5, momentum=0.9), steps=200, val_every=50)
    assert h.loss[-20:].mean() < 0.5 * h.loss[0]
    assert h.val_loss[-1] < h.val_loss[0]


def test_landscape_objective_grad_noise_comes_from_the_training_rng():
    obj = landscape_objective(Parabola(), x0=1.0, grad_noise=0.5)
    _, g1 = obj.loss_and_grads(np.random.default_rng(7))
    _, g2 = obj.loss_and_grads(np.random.default_rng(7))
    expected = 1.0 + 0.5 * np.random.default_rng(7).standard_normal(1)
    np.testing.assert_array_equal(g1[0], g2[0])
    np.testing.assert_array_equal(g1[0], expected)


def test_landscape_objective_copies_x0():
    x0 = np.array([1.0, 2.0])
    obj = landscape_objective(Quadratic(), x0=x0)
    train(obj, SGD(obj.params, lr=0.01), steps=3)
    np.testing.assert_array_equal(x0, [1.0, 2.0])


# --- argument validation ------------------------------------------------------------------------


def _obj():
    return landscape_objective(Parabola(), x0=1.0)


def _train(**kwargs):
    obj = _obj()
    args = {"objective": obj, "optimizer": SGD(obj.params, lr=0.1), "steps": 5}
    args.update(kwargs)
    return train(**args)


class NoMomentum:
    param_groups = [{"params": [], "lr": 0.1}]

    def step(self, grads):
        pass


@pytest.mark.parametrize(
    ("call", "error", "name"),
    [
        (lambda: _train(steps=-1), ValueError, "steps"),
        (lambda: _train(steps=2.5), TypeError, "steps"),
        (lambda: _train(objective=object()), TypeError, "objective"),
        (lambda: _train(optimizer=object()), TypeError, "optimizer"),
        (lambda: _train(schedule=0.1), TypeError, "schedule"),
        (lambda: _train(schedule=lambda t: -0.1), ValueError, "schedule"),
        (lambda: _train(schedule=lambda t: float("nan")), ValueError, "schedule"),
        (lambda: _train(momentum_schedule=lambda t: 0.9, optimizer=NoMomentum()), ValueError,
         "momentum_schedule"),
        (lambda: _train(callbacks=[1]), TypeError, "callbacks"),
        (lambda: _train(val_every=0), ValueError, "val_every"),
        (lambda: _train(val_every=2), ValueError, "val_every"),  # no validation loss
        (lambda: _train(divergence_factor=1.0), ValueError, "divergence_factor"),
        (lambda: _train(divergence_factor=-3), ValueError, "divergence_factor"),
        (lambda: _train(divergence_floor=-1e-3), ValueError, "divergence_floor"),
        (lambda: landscape_objective(object()), TypeError, "landscape"),
        (lambda: landscape_objective(Quadratic(), x0=[1.0, 2.0, 3.0]), ValueError, "x0"),
        (lambda: landscape_objective(Quadratic(), x0=[1.0, np.nan]), ValueError, "x0"),
        (lambda: landscape_objective(Parabola(), grad_noise=-1.0), ValueError, "grad_noise"),
        (lambda: supervised_objective(object(), np.ones((3, 2)), np.ones(3)), TypeError, "model"),
        (lambda: supervised_objective(Linear(2), np.ones((3, 2)), np.ones(4)), ValueError, "y"),
        (lambda: supervised_objective(Linear(2), np.ones((3, 2)), np.ones(3), batch_size=0),
         ValueError, "batch_size"),
        (lambda: supervised_objective(Linear(2), np.ones((3, 2)), np.ones(3), loss="hinge"),
         ValueError, "loss"),
        (lambda: supervised_objective(Linear(2), np.ones((3, 2)), np.ones(3),
                                      X_val=np.ones((2, 2))), ValueError, "y_val"),
        (lambda: supervised_objective(Linear(2), np.ones((3, 2)), np.ones(3),
                                      X_val=np.ones((2, 2)), y_val=np.ones(3)), ValueError,
         "y_val"),
        (lambda: EarlyStopping(patience=0), ValueError, "patience"),
        (lambda: EarlyStopping(min_delta=-1.0), ValueError, "min_delta"),
        (lambda: EarlyStopping(monitor="accuracy"), ValueError, "monitor"),
        (lambda: PlateauLR(object(), SGD([np.zeros(1)], lr=0.1)), TypeError, "plateau"),
    ],
)
def test_invalid_arguments_raise_an_error_naming_the_argument(call, error, name):
    with pytest.raises(error, match=name):
        call()


def test_history_is_a_plain_record_with_defaults():
    h = History(loss=np.array([1.0]), lr=np.array([]))
    assert h.val_loss is None and h.path is None and not h.diverged and h.reason is None


def test_docstring_examples_print_what_they_say():
    result = doctest.testmod(lrcourse.train, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0 and result.failed == 0


def test_param_groups_in_another_order_get_their_own_gradients():
    from lrcourse.nn import MLP
    from lrcourse.problems import two_moons

    data = two_moons(64, noise=0.1, seed=0)
    a, b = MLP([2, 8, 2], seed=1), MLP([2, 8, 2], seed=1)
    obj_a = supervised_objective(a, data.X, data.y)
    obj_b = supervised_objective(b, data.X, data.y)
    train(obj_a, SGD(a.params, lr=0.1), steps=5)
    reversed_groups = [{"params": [p]} for p in reversed(b.params)]
    train(obj_b, SGD(reversed_groups, lr=0.1), steps=5)
    for pa, pb in zip(a.params, b.params, strict=True):
        np.testing.assert_array_equal(pa, pb)


def test_parameters_left_out_of_the_optimizer_stay_frozen():
    from lrcourse.nn import MLP
    from lrcourse.problems import two_moons

    data = two_moons(64, noise=0.1, seed=0)
    net = MLP([2, 8, 2], seed=1)
    body = [p.copy() for p in net.params[:2]]
    head = [p.copy() for p in net.params[2:]]
    train(supervised_objective(net, data.X, data.y), SGD(net.params[2:], lr=0.1), steps=5)
    for p, before in zip(net.params[:2], body, strict=True):
        np.testing.assert_array_equal(p, before)
    assert any(not np.array_equal(p, q) for p, q in zip(net.params[2:], head, strict=True))


def test_an_optimizer_over_copies_of_the_parameters_is_refused():
    from lrcourse.nn import MLP
    from lrcourse.problems import two_moons

    data = two_moons(16, noise=0.1, seed=0)
    net = MLP([2, 4, 2], seed=1)
    with pytest.raises(ValueError, match="not one of objective.params"):
        train(supervised_objective(net, data.X, data.y), SGD([p.copy() for p in net.params]),
              steps=1)
