"""Section 03: every check passes the right answer, names the planted mistakes, and the
reference problem behind "choose a schedule" is the library's training loop."""

from __future__ import annotations

import math

import numpy as np
import pytest

from lrcourse import schedules as lib
from lrcourse.checks import (
    check_cosine_annealing,
    check_exponential_decay,
    check_my_schedule,
    check_plateau,
    check_step_decay,
    check_triangular_cyclical,
)
from lrcourse.checks.schedules import NoisyLogistic, diagnose_schedule, reference_problem

# --------------------------------------------------------------- reference answers


def step_decay(t, lr0, step_size, gamma):
    return lr0 * gamma ** np.floor(np.asarray(t) / step_size)


def exponential_decay(t, lr0, gamma):
    return lr0 * gamma ** np.asarray(t, dtype=float)


def cosine_annealing(t, lr0, T_max, eta_min=0.0):
    return eta_min + (lr0 - eta_min) * (1 + np.cos(np.pi * np.asarray(t) / T_max)) / 2


def triangular_cyclical(t, base_lr, max_lr, step_size):
    position = np.mod(np.asarray(t, dtype=float), 2 * step_size)  # another way to write it
    height = 1 - np.abs(position / step_size - 1)
    return base_lr + (max_lr - base_lr) * height


class Plateau:
    def __init__(self, lr, factor=0.1, patience=10, threshold=1e-4):
        self.lr, self.factor, self.patience, self.threshold = lr, factor, patience, threshold
        self.best, self.bad = math.inf, 0

    def step(self, metric):
        if metric < self.best * (1 - self.threshold):
            self.best, self.bad = metric, 0
        else:
            self.bad += 1
        if self.bad > self.patience:
            self.lr, self.bad = self.lr * self.factor, 0
        return self.lr


RIGHT = [
    (check_step_decay, step_decay),
    (check_exponential_decay, exponential_decay),
    (check_cosine_annealing, cosine_annealing),
    (check_triangular_cyclical, triangular_cyclical),
    (check_plateau, Plateau),
]


@pytest.mark.parametrize(("check", "answer"), RIGHT)
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_the_right_answer_passes_visible_and_hidden_cases(check, answer, seed):
    check(answer, seed=seed)
    check(answer, seed=seed, hidden=True)


def test_a_scalar_answer_may_be_a_zero_dimensional_array_or_a_python_float():
    check_exponential_decay(lambda t, a, g: float(a * g ** t) if np.ndim(t) == 0
                            else a * g ** np.asarray(t, float))


# ----------------------------------------------------------------- planted mistakes

MISTAKES = [
    (check_step_decay, lambda t, a, s, g: a * g ** (np.asarray(t) / s), "must be a whole number"),
    (check_step_decay, lambda t, a, s, g: a * g ** np.floor((np.asarray(t) + 1) / s),
     "one step too early"),
    (check_step_decay,
     lambda t, a, s, g: a * g ** np.floor(np.maximum(np.asarray(t) - 1, 0) / s),
     "as if t started at 1"),
    (check_step_decay, lambda t, a, s, g: a * g ** (np.floor(np.asarray(t) / s) + 1),
     "already decayed at t = 0"),
    (check_step_decay, lambda t, a, s, g: a * g * np.floor(np.asarray(t) / s),
     "goes in the exponent"),
    (check_step_decay, lambda t, a, s, g: a * g ** math.floor(t / s), "Make it vectorised"),
    (check_step_decay, lambda t, a, s, g: a * g ** (t // s) if np.ndim(t) == 0 else a,
     "returned a single number"),
    (check_exponential_decay, lambda t, a, g: a * g ** (np.asarray(t) + 1), "off by one"),
    (check_exponential_decay, lambda t, a, g: a * g ** (np.asarray(t) - 1), "t started at 1"),
    (check_exponential_decay, lambda t, a, g: a * np.exp(-g * np.asarray(t)), "not a decay speed"),
    (check_exponential_decay, lambda t, a, g: a * (1 - g) ** np.asarray(t),
     "the fraction kept per step"),
    (check_exponential_decay, lambda t, a, g: [a * g**k for k in np.atleast_1d(t)][0]
     if np.ndim(t) else a * g**t, "returned a single number"),
    (check_cosine_annealing,
     lambda t, a, T, m=0.0: m + (a - m) * (1 + np.cos(np.pi * np.asarray(t) / T)),
     "missing the halving"),
    (check_cosine_annealing, lambda t, a, T, m=0.0: m + (a - m) * np.cos(np.pi * np.asarray(t) / T),
     "turns negative"),
    (check_cosine_annealing,
     lambda t, a, T, m=0.0: m + (a - m) * (1 + np.cos(np.pi * np.asarray(t) / (T - 1))) / 2,
     "not T_max - 1"),
    (check_cosine_annealing,
     lambda t, a, T, m=0.0: a * (1 + np.cos(np.pi * np.asarray(t) / T)) / 2, "eta_min is missing"),
    (check_cosine_annealing,
     lambda t, a, T, m=0.0: m + (a - m) * (1 + math.cos(math.pi * t / T)) / 2,
     "Make it vectorised"),
    (check_triangular_cyclical, lambda t, b, m, s: triangular_cyclical(t, b, m, s / 2),
     "a whole cycle \\(up, then down\\) lasts 2 \\* step_size"),
    (check_triangular_cyclical, lambda t, b, m, s: triangular_cyclical(t, b, m, 2 * s),
     "rises for 2 \\* step_size"),
    (check_triangular_cyclical, lambda t, b, m, s: b + m - triangular_cyclical(t, b, m, s),
     "starts at the top"),
    (check_triangular_cyclical,
     lambda t, b, m, s: b + (m - b) * np.maximum(0.0, 1 - np.abs(np.asarray(t) / s - 1)),
     "must start again"),
    (check_triangular_cyclical,
     lambda t, b, m, s: m * (triangular_cyclical(t, b, m, s) - b) / (m - b),
     "base_lr is missing"),
]


@pytest.mark.parametrize(("check", "answer", "diagnosis"), MISTAKES)
def test_a_planted_mistake_gets_its_diagnosis(check, answer, diagnosis):
    with pytest.raises(AssertionError, match=diagnosis):
        check(answer)
        check(answer, hidden=True)


def test_the_visible_report_shows_the_case_and_both_values():
    with pytest.raises(AssertionError) as caught:
        check_step_decay(lambda t, a, s, g: a * g ** np.floor((np.asarray(t) + 1) / s))
    text = str(caught.value)
    assert "Case 2 of 5: t = 9, lr0=0.1, step_size=10, gamma=0.5" in text
    assert "expected: 0.1" in text and "obtained: 0.05" in text


def test_hidden_cases_name_the_kind_of_case_but_not_its_inputs():
    def early_except_when_visible(t, lr0, step_size, gamma):
        t = np.asarray(t)
        if t.ndim == 0 and lr0 != 0.1:  # the visible scalar cases all use lr0 = 0.1
            return lr0 * gamma ** np.floor((t + 1) / step_size)
        return step_decay(t, lr0, step_size, gamma)

    check_step_decay(early_except_when_visible)
    with pytest.raises(AssertionError) as caught:
        check_step_decay(early_except_when_visible, hidden=True)
    text = str(caught.value)
    assert "A hidden test case (just before a decay step) failed" in text
    assert "expected" not in text and "obtained" not in text


def test_calling_the_library_is_caught():
    with pytest.raises(AssertionError, match="calls lrcourse.schedules"):
        check_step_decay(lambda t, a, s, g: lib.step_decay(a, s, g)(t))
    with pytest.raises(AssertionError, match="calls lrcourse.schedules"):
        check_cosine_annealing(lambda t, a, T, m=0.0: lib.cosine_annealing_clamped(a, T, m)(t))
    with pytest.raises(AssertionError, match="calls lrcourse.schedules"):
        check_triangular_cyclical(lambda t, b, m, s: lib.cyclical(b, m, s)(t))


# ------------------------------------------------------------------------- Plateau


def plateau_with(**slip):
    """A Plateau with one usual slip switched on."""

    class Slipped(Plateau):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            if slip.get("zero_best"):
                self.best = 0.0

        def step(self, metric):
            best = getattr(self, "previous", self.best) if slip.get("previous") else self.best
            if slip.get("strict"):
                better = metric < best
            elif slip.get("absolute"):
                better = metric < best - self.threshold
            else:
                better = metric < best * (1 - self.threshold)
            if better:
                self.best, self.bad = metric, 0
            else:
                self.bad += 1
                if slip.get("best_always"):
                    self.best = min(self.best, metric)
            self.previous = metric
            used = self.lr
            if (self.bad >= self.patience) if slip.get("early") else (self.bad > self.patience):
                self.lr *= (1 - self.factor) if slip.get("one_minus") else self.factor
                if not slip.get("no_reset"):
                    self.bad = 0
            return used if slip.get("late") else self.lr

    return Slipped


class SharedPlateau(Plateau):
    best = math.inf
    bad = 0
    lr = None

    def __init__(self, lr, factor=0.1, patience=10, threshold=1e-4):
        if SharedPlateau.lr is None:
            SharedPlateau.lr = lr
        self.factor, self.patience, self.threshold = factor, patience, threshold

    def step(self, metric):
        cls = SharedPlateau
        if metric < cls.best * (1 - self.threshold):
            cls.best, cls.bad = metric, 0
        else:
            cls.bad += 1
        if cls.bad > self.patience:
            cls.lr, cls.bad = cls.lr * self.factor, 0
        return cls.lr


@pytest.mark.parametrize(("slip", "diagnosis"), [
    ({"early": True}, "one evaluation too early"),
    ({"no_reset": True}, "reset the count"),
    ({"absolute": True}, "the threshold is relative"),
    ({"strict": True}, "you compared metric < best"),
    ({"previous": True}, "not with the previous evaluation"),
    ({"late": True}, "after this evaluation's cut"),
    ({"best_always": True}, "update best only when"),
    ({"zero_best": True}, "best must start at \\+infinity"),
    ({"one_minus": True}, "not by \\(1 - factor\\)"),
])
def test_a_plateau_slip_gets_its_diagnosis(slip, diagnosis):
    with pytest.raises(AssertionError, match=diagnosis):
        check_plateau(plateau_with(**slip))
        check_plateau(plateau_with(**slip), hidden=True)


def test_plateau_objects_that_share_their_state_are_caught():
    SharedPlateau.lr, SharedPlateau.best, SharedPlateau.bad = None, math.inf, 0
    with pytest.raises(AssertionError, match="share their state"):
        check_plateau(SharedPlateau, hidden=True)


def test_a_plateau_whose_step_returns_nothing_is_told_to_return_the_rate():
    class Silent(Plateau):
        def step(self, metric):
            super().step(metric)

    with pytest.raises(AssertionError, match="must return the learning rate"):
        check_plateau(Silent)


def test_wrapping_the_library_plateau_is_caught():
    class Wrapped:
        def __init__(self, lr, factor=0.1, patience=10, threshold=1e-4):
            self.inner = lib.ReduceLROnPlateau(lr, factor=factor, patience=patience,
                                               threshold=threshold, eps=0.0)

        def step(self, metric):
            return self.inner.step(metric)

    with pytest.raises(AssertionError, match="calls lrcourse.schedules.ReduceLROnPlateau"):
        check_plateau(Wrapped)


def test_the_exercise_rule_is_the_library_plateau_without_its_extras(rng):
    metrics = 0.3 + 1 / (1 + 0.4 * np.arange(80)) + 0.02 * rng.standard_normal(80)
    library = lib.ReduceLROnPlateau(0.5, factor=0.3, patience=3, threshold=1e-3, eps=0.0)
    mine = Plateau(0.5, factor=0.3, patience=3, threshold=1e-3)
    assert [mine.step(m) for m in metrics] == [library.step(m) for m in metrics]
    assert len(library.history) >= 3


# ---------------------------------------------------------------- the reference problem


def test_the_batched_runner_equals_the_library_training_loop():
    from lrcourse.optimizers import SGD
    from lrcourse.train import train

    problem = NoisyLogistic()
    schedule = lib.step_decay(0.4, 100, 0.3)
    runs = problem.run(schedule(np.arange(problem.steps)), seeds=[5, 9])[0]
    for seed, run in zip([5, 9], runs, strict=True):
        objective = problem.objective()
        history = train(objective, SGD(objective.params, lr=0.4), problem.steps,
                        schedule=schedule, seed=seed)
        np.testing.assert_allclose(history.loss - problem.loss_star, run, rtol=0, atol=1e-12)


def test_recording_every_k_steps_keeps_the_same_points():
    problem = reference_problem()
    rates = np.full(problem.steps, 0.1)
    full = problem.run(rates, seeds=range(3))
    sparse = problem.run(rates, seeds=range(3), every=3)
    np.testing.assert_array_equal(full[..., ::3], sparse)
    np.testing.assert_array_equal(full[..., -1], problem.run(rates, range(3), record=False))


def test_w_star_is_the_minimum_of_the_training_loss():
    problem = reference_problem()
    assert np.max(np.abs(problem.loss.grad(problem.w_star))) < 1e-12
    assert np.all(np.linalg.eigvalsh(problem.hessian) > 0)


def test_the_noise_floor_is_proportional_to_the_rate_and_matches_sgd_for_small_rates():
    problem = reference_problem()
    trace = np.trace(problem.noise_cov)
    np.testing.assert_allclose(problem.noise_floor(1e-4), 1e-4 * trace / 4, rtol=1e-4)
    lrs = np.array([0.03, 0.1])
    runs = problem.run(np.repeat(lrs[:, None], 2000, axis=1), seeds=range(8), every=10,
                       start=problem.w_star)
    measured = runs[:, :, 50:].mean(axis=(1, 2))
    np.testing.assert_allclose(measured, problem.noise_floor(lrs), rtol=0.15)


def test_the_linearised_split_adds_up_to_the_noise_floor_for_a_long_constant_rate():
    problem = reference_problem()
    transient, noise, injected = problem.linearised(np.full(5000, 0.1))
    assert transient < 1e-12
    assert noise == pytest.approx(float(problem.noise_floor(0.1)), rel=1e-9)
    assert injected.sum() == pytest.approx(noise) and np.all(np.diff(injected) > 0)


# ------------------------------------------------------------------- choose a schedule


def test_a_good_schedule_passes_visible_and_hidden_sample_orders():
    check_my_schedule(lib.inverse_time_decay(0.5, k=0.05))
    check_my_schedule(lib.inverse_time_decay(0.5, k=0.05), seed=1, hidden=True)


def test_a_schedule_written_for_one_step_at_a_time_is_accepted():
    def one_at_a_time(t):
        if t < 0:  # an `if` on t: fails on an array, so the grader asks step by step
            raise ValueError("no negative steps")
        return 0.5 / (1 + 0.05 * t)

    check_my_schedule(one_at_a_time)


@pytest.mark.parametrize(("schedule", "diagnosis"), [
    (lib.constant(0.06), "Too noisy: your last rates are about 0.06"),
    (lib.constant(0.5), "Too noisy: your last rates are about 0.5"),
    (lib.constant(0.005), "Too slow: the run has not forgotten its start"),
    (lib.constant(3.0), "Too large: over the first 30 steps the loss went up"),
    (lib.cosine_annealing(0.5, 300), "Too noisy: half of what remains is noise injected after"),
    (lambda t: -0.1 * np.ones(np.shape(t)), "finite number >= 0"),
    (lambda t: np.ones(10), "one rate per step"),
    (None, "no schedule yet"),
    (lambda t: "fast", "my_schedule\\(0\\) returned 'fast', not a number"),
])
def test_a_schedule_that_misses_the_target_is_told_why(schedule, diagnosis):
    with pytest.raises(AssertionError, match=diagnosis):
        check_my_schedule(schedule)


def test_the_best_fixed_rate_alone_does_not_meet_the_target():
    problem = reference_problem()
    best_lr, _ = problem.best_constant(range(256))
    with pytest.raises(AssertionError, match="Too noisy"):
        check_my_schedule(lib.constant(best_lr))


def test_diagnose_names_the_binding_limit_without_training():
    problem = reference_problem()
    slow = np.full(300, 0.005)
    status, advice = diagnose_schedule(problem, slow, final=0.1, target=0.01)
    assert status == "too slow" and "rates add up to only 1.5" in advice
    assert diagnose_schedule(problem, slow, final=0.005, target=0.01) == ("converges", None)
