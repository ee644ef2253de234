"""Section 06: the checks pass right answers, name planted mistakes, and measure honestly."""

from __future__ import annotations

import numpy as np
import pytest

from lrcourse.checks import check_alpha_edge, check_he_init, check_scaled_lr, check_xavier_init
from lrcourse.checks.challenges import (
    batch_problem,
    edge_estimate,
    measured_edge,
    stability_edge,
    sweep_seeds,
)
from lrcourse.sweeps import SweepResult, sweep_sgd

# ------------------------------------------------------------------ reference answers


def xavier(fan_in, fan_out, rng):
    return np.sqrt(2.0 / (fan_in + fan_out)) * rng.standard_normal((fan_in, fan_out))


def he(fan_in, fan_out, rng):
    return np.sqrt(2.0 / fan_in) * rng.standard_normal((fan_in, fan_out))


def scaled(base_lr, base_batch, batch, rule):
    ratio = np.asarray(batch, dtype=float) / base_batch
    if rule == "linear":
        return base_lr * ratio
    if rule == "sqrt":
        return base_lr * np.sqrt(ratio)
    raise ValueError(rule)


@pytest.mark.parametrize(("check", "fn"), [
    (check_xavier_init, xavier),
    (check_he_init, he),
    (check_scaled_lr, scaled),
])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_the_right_answer_passes_visible_and_hidden_cases(check, fn, seed):
    check(fn, seed=seed)
    check(fn, seed=seed, hidden=True)


def test_rng_normal_with_a_scale_draws_the_same_numbers_and_passes():
    check_xavier_init(lambda i, o, rng: rng.normal(0.0, np.sqrt(2 / (i + o)), size=(i, o)),
                      hidden=True)
    check_he_init(lambda i, o, rng: rng.standard_normal((i, o)) / np.sqrt(i / 2), hidden=True)


# ------------------------------------------------------------------ planted mistakes


def draws(scale):
    return lambda i, o, rng: scale(i, o) * rng.standard_normal((i, o))


def uniform_xavier(i, o, rng):
    a = np.sqrt(6.0 / (i + o))
    return rng.uniform(-a, a, size=(i, o))


def transposed_draw(i, o, rng):
    return np.sqrt(2.0 / (i + o)) * rng.standard_normal((o, i)).T


def global_state(i, o, rng):
    return np.sqrt(2.0 / (i + o)) * np.random.default_rng(12345).standard_normal((i, o))


def shifted(i, o, rng):
    return 0.1 + xavier(i, o, rng)


def delegate_xavier(i, o, rng):
    from lrcourse.nn import xavier_init

    return xavier_init(i, o, rng)


def delegate_he(i, o, rng):
    from lrcourse.nn import naive_init

    return naive_init(i, o, rng, scale=np.sqrt(2.0 / i))


XAVIER_MISTAKES = [
    (draws(lambda i, o: np.sqrt(1 / i)), "LeCun"),
    (draws(lambda i, o: np.sqrt(1 / o)), "backward signal only"),
    (draws(lambda i, o: np.sqrt(1 / (i + o))), "factor 2 is missing"),
    (draws(lambda i, o: 2 / (i + o)), "square root"),
    (draws(lambda i, o: np.sqrt(2 / i)), "He's variance"),
    (draws(lambda i, o: np.sqrt(6 / (i + o))), "bound a of the uniform"),
    (draws(lambda i, o: np.sqrt((i + o) / 2)), "upside down"),
    (uniform_xavier, "uniformly distributed"),
    (transposed_draw, "not the ones asked for"),
    (global_state, "not np.random"),
    (shifted, "far from 0"),
    (lambda i, o, rng: xavier(i, o, rng).T, "the transpose"),
    (lambda i, o, rng: None, "return"),
    (delegate_xavier, "calls lrcourse.nn.xavier_init"),
]

HE_MISTAKES = [
    (draws(lambda i, o: np.sqrt(1 / i)), "factor 2 is missing"),
    (draws(lambda i, o: np.sqrt(2 / o)), "fan_out instead of fan_in"),
    (draws(lambda i, o: np.sqrt(2 / (i + o))), "Xavier's variance"),
    (draws(lambda i, o: 2 / i), "square root"),
    (draws(lambda i, o: np.sqrt(6 / i)), "bound a of the uniform"),
    (delegate_he, "calls lrcourse.nn.naive_init"),
]


@pytest.mark.parametrize(("fn", "diagnosis"), XAVIER_MISTAKES)
def test_a_planted_xavier_mistake_gets_its_diagnosis(fn, diagnosis):
    with pytest.raises(AssertionError, match=diagnosis):
        check_xavier_init(fn)


@pytest.mark.parametrize(("fn", "diagnosis"), HE_MISTAKES)
def test_a_planted_he_mistake_gets_its_diagnosis(fn, diagnosis):
    with pytest.raises(AssertionError, match=diagnosis):
        check_he_init(fn)


def test_hidden_init_failures_do_not_reveal_the_shapes_used():
    with pytest.raises(AssertionError) as err:
        check_he_init(draws(lambda i, o: np.sqrt(1 / i)), seed=3, hidden=True)
    assert "another shape and seed" in str(err.value)
    assert "fan_in=" not in str(err.value)


def _swapped(a, b0, b, rule):
    return scaled(a, b0, b, "sqrt" if rule == "linear" else "linear")


def _no_error(a, b0, b, rule):
    return scaled(a, b0, b, "sqrt" if rule == "sqrt" else "linear")


SCALING_MISTAKES = [
    (lambda a, b0, b, r: scaled(a, 1 / b0, 1 / np.asarray(b, float), r), "upside down"),
    (_swapped, "swapped"),
    (lambda a, b0, b, r: np.sqrt(a * np.asarray(b) / b0) if r == "sqrt" else a * np.asarray(b)
     / b0, "only the batch ratio"),
    (lambda a, b0, b, r: scaled(a, 1, np.asarray(b) // b0, r), "integer division"),
    (lambda a, b0, b, r: a * (np.asarray(b) / b0) ** (2 if r == "sqrt" else 1), "square of"),
]


@pytest.mark.parametrize(("fn", "diagnosis"), SCALING_MISTAKES)
def test_a_planted_scaling_mistake_gets_its_diagnosis(fn, diagnosis):
    with pytest.raises(AssertionError, match=diagnosis):
        check_scaled_lr(fn, hidden=True)


def test_an_unknown_rule_must_raise_a_value_error_not_fall_back():
    check_scaled_lr(scaled)  # the visible cases do not try an unknown rule
    with pytest.raises(AssertionError, match="raise ValueError"):
        check_scaled_lr(_no_error, hidden=True)


# ------------------------------------------------------------------ the measured edge

HARD = batch_problem(d=32, seed=1)


def test_sweep_seeds_equals_sweep_sgd_seed_by_seed():
    loss = batch_problem()
    lrs = np.geomspace(0.02, 2.0, 15)
    for batch in (1, 8, None):
        runs = sweep_seeds(loss, lrs, 120, batch, seeds=[3, 11])
        for s, seed in enumerate((3, 11)):
            one = sweep_sgd(loss, lrs, 120, batch, seed=seed)
            np.testing.assert_array_equal(runs.diverged_at[s], one.diverged_at)
            finite = np.isfinite(one.loss)
            np.testing.assert_array_equal(np.isfinite(runs.loss[s]), finite)
            np.testing.assert_allclose(runs.loss[s][finite], one.loss[finite], rtol=1e-10)


def test_sweep_seeds_rejects_a_loss_without_a_unique_minimum():
    from lrcourse.problems import LinearRegressionLoss

    singular = LinearRegressionLoss(np.ones((4, 2)), np.zeros(4))
    with pytest.raises(TypeError, match="unique minimiser"):
        sweep_seeds(singular, [0.1], 10, 2, [0])


def test_stability_edge_is_the_median_over_seeds_of_the_first_diverging_rate():
    lrs = np.array([0.1, 0.2, 0.4, 0.8])
    diverged = np.array([[-1, -1, 5, 3], [-1, 7, 4, 2], [-1, -1, -1, 9]])
    result = SweepResult(lrs=np.broadcast_to(lrs, (3, 4)), momentum=np.zeros((3, 4)),
                         loss=np.zeros((3, 4, 11)), diverged_at=diverged, path=None,
                         reversals=np.zeros((3, 4, 9), bool), loss_min=0.0)
    assert stability_edge(result) == 0.4  # per seed: 0.4, 0.2, 0.8


def test_the_model_lands_within_the_tolerance_and_the_naive_rules_do_not():
    edge = measured_edge(32, 1, 16, 0)
    assert abs(np.log(edge_estimate(HARD, 16) / edge)) < np.log(1.15)
    assert 2 / HARD.lam_max > 1.3 * edge  # the full-batch limit is far too high at B = 16
    b1 = measured_edge(32, 1, 1, 0)
    assert 16 * b1 > 1.3 * edge  # linear scaling from B = 1 over-predicts at B = 16
    assert np.sqrt(16) * b1 < edge / 1.3  # and the square-root rule under-predicts


def test_a_good_prediction_passes_visible_and_hidden_measurements():
    good = edge_estimate(HARD, 16)
    check_alpha_edge(good, d=32, problem_seed=1, batch=16)
    check_alpha_edge(float(good), d=32, problem_seed=1, batch=16, seed=1, hidden=True)
    check_alpha_edge(np.float64(0.8 * measured_edge(32, 1, 16, 0)), d=32, problem_seed=1,
                     batch=16)


@pytest.mark.parametrize(("value", "diagnosis"), [
    (2 / HARD.lam_max, "full-batch limit"),
    (16 * measured_edge(32, 1, 1, 0), "linear scaling from a smaller batch over-predicts"),
    (np.sqrt(16) * measured_edge(32, 1, 1, 0), "too small"),
    ("0.4", "expected a number"),
    (-0.4, "positive number"),
    (float("nan"), "positive number"),
])
def test_a_bad_prediction_is_explained(value, diagnosis):
    with pytest.raises(AssertionError, match=diagnosis):
        check_alpha_edge(value, d=32, problem_seed=1, batch=16)


def test_a_too_large_prediction_reports_the_measured_share_of_diverging_runs():
    with pytest.raises(AssertionError, match=r"100% of the 16 runs diverge"):
        check_alpha_edge(3.0, d=32, problem_seed=1, batch=16)


def test_the_judge_measures_the_same_edge_in_a_fresh_process_state():
    first = measured_edge(32, 1, 16, 117)
    measured_edge.cache_clear()
    assert measured_edge(32, 1, 16, 117) == first


def test_the_docstring_examples_of_the_measurements_hold():
    import doctest

    import lrcourse.checks.challenges as module

    result = doctest.testmod(module, extraglobs={"np": np},
                             optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted >= 8 and result.failed == 0
