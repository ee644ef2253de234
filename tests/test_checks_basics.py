"""Sections 01-02: every check passes the right answer and names the planted mistakes."""

from __future__ import annotations

import numpy as np
import pytest

from lrcourse.checks import (
    check_alpha_ill_conditioned,
    check_alpha_one_step,
    check_choice,
    check_classify_regime,
    check_gd_step,
    check_max_stable_lr,
    check_parabola_iterate,
    check_run_gd,
)


def gd_step(theta, grad, lr):
    return theta - lr * grad


def run_gd(grad_fn, theta0, lr, steps):
    path = [np.asarray(theta0, float)]
    for _ in range(steps):
        path.append(path[-1] - lr * grad_fn(path[-1]))
    return np.array(path)


def regime(lr, curvature):
    r = 1 - lr * curvature
    return "monotone" if r >= 0 else ("oscillating" if r > -1 else "unstable")


RIGHT = [
    (check_gd_step, gd_step),
    (check_run_gd, run_gd),
    (check_parabola_iterate, lambda x0, c, lr, k: x0 * (1 - lr * c) ** np.asarray(k, float)),
    (check_max_stable_lr, lambda h: 2 / np.linalg.eigvalsh(h)[-1]),
    (check_classify_regime, regime),
]


@pytest.mark.parametrize(("check", "fn"), RIGHT)
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_the_right_answer_passes_visible_and_hidden_cases(check, fn, seed):
    check(fn, seed=seed)
    check(fn, seed=seed, hidden=True)


def _frozen_run(grad_fn, theta0, lr, steps):
    g = grad_fn(np.asarray(theta0, float))
    return np.array([theta0 - k * lr * g for k in range(steps + 1)])


def _aliased_run(grad_fn, theta0, lr, steps):
    theta = np.array(theta0, float)
    path = [theta]
    for _ in range(steps):
        theta -= lr * grad_fn(theta)
        path.append(theta)
    return np.array(path)


MISTAKES = [
    (check_gd_step, lambda t, g, a: t - g, "not scaled by the learning rate"),
    (check_gd_step, lambda t, g, a: -a * g, "you returned the step"),
    (check_gd_step, lambda t, g, a: t - g / a, "divided by the learning rate"),
    (check_run_gd, lambda f, t, a, n: run_gd(f, t, a, n)[1:], "off by one"),
    (check_run_gd, lambda f, t, a, n: run_gd(f, t, a, n)[-1], "only the final point"),
    (check_run_gd, _frozen_run, "evaluated once at theta0"),
    (check_run_gd, _aliased_run, "every row of your path is the final point"),
    (check_parabola_iterate, lambda x0, c, lr, k: x0 * (1 - lr * c) ** (k + 1), "off by one"),
    (check_parabola_iterate, lambda x0, c, lr, k: x0 * (1 + lr * c) ** k, "with a minus"),
    (check_parabola_iterate, lambda x0, c, lr, k: x0 * (1 - lr) ** k, "curvature is missing"),
    (check_max_stable_lr, lambda h: 1 / np.linalg.eigvalsh(h)[-1], "still converges"),
    (check_max_stable_lr, lambda h: 2 / np.linalg.eigvalsh(h)[0], "not the smallest"),
    (check_max_stable_lr, lambda h: 2 / np.max(np.diag(h)), "largest diagonal entry"),
    (check_max_stable_lr, lambda h: 2 / np.trace(h), "trace"),
    (check_classify_regime, lambda lr, c: "monotone" if lr * c <= 1 else "unstable",
     "it oscillates"),
    (check_classify_regime, lambda lr, c: "fast", "is not one of"),
]


@pytest.mark.parametrize(("check", "fn", "diagnosis"), MISTAKES)
def test_a_planted_mistake_gets_its_diagnosis(check, fn, diagnosis):
    with pytest.raises(AssertionError, match=diagnosis):
        check(fn)


def test_the_edge_of_stability_at_exactly_two_is_diagnosed_in_hidden_cases():
    def edge_is_oscillating(lr, c):
        return "oscillating" if lr * c == 2 else regime(lr, c)

    with pytest.raises(AssertionError, match="bounces between x0 and -x0"):
        check_classify_regime(edge_is_oscillating, hidden=True)


@pytest.mark.parametrize(("value", "diagnosis"), [
    (0.3, "too large: it overshoots"), (0.1, "too small"), (0.5, "mirror point"),
    ("0.25", "expected a number"),
])
def test_a_wrong_one_step_rate_is_explained(value, diagnosis):
    check_alpha_one_step(0.25, curvature=4.0, hidden=True)
    with pytest.raises(AssertionError, match=diagnosis):
        check_alpha_one_step(value, curvature=4.0)


@pytest.mark.parametrize(("value", "diagnosis"), [
    (0.5, "flat direction"), (2.5, "diverges"), (-1.0, "positive number"),
])
def test_a_bad_rate_for_the_ill_conditioned_quadratic_is_explained(value, diagnosis):
    check_alpha_ill_conditioned(2 / 1.1, hidden=True)
    with pytest.raises(AssertionError, match=diagnosis):
        check_alpha_ill_conditioned(value)


def test_a_rate_tuned_on_one_start_can_still_fail_the_hidden_starts():
    # 1.15 is inside the window for the visible start but the hidden starts are stricter
    lrs = np.linspace(1.0, 1.3, 31)
    passed_visible = []
    for lr in lrs:
        try:
            check_alpha_ill_conditioned(float(lr))
        except AssertionError:
            continue
        passed_visible.append(lr)
    assert passed_visible


def test_choice_checks_the_format_visibly_and_the_key_only_when_hidden():
    check_choice("c", question="q", options=["a", "b", "c"])
    check_choice(" C ", question="q", options=["a", "b", "c"], key="c", hidden=True)
    with pytest.raises(AssertionError, match="not one of the options"):
        check_choice("e", question="q", options=["a", "b", "c"])
    with pytest.raises(AssertionError, match="that is not the answer") as err:
        check_choice("a", question="the q", options=["a", "b", "c"], key="c", hidden=True)
    assert "The answer to the q is not right yet" in str(err.value)
    assert "'c'" not in str(err.value)
