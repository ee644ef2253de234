"""Section 10: every check passes a right answer and names the planted mistakes."""

from __future__ import annotations

import math

import numpy as np
import pytest

from lrcourse.checks import check_adamw_step, check_lars_trust_ratio, check_successive_halving
from lrcourse.checks.trends import GdLoss, halving_reference
from lrcourse.tuning import LogUniform
from lrcourse.tuning import successive_halving as library_halving
from lrcourse.tuning.search import sample_configs

# ------------------------------------------------------------------ right answers, by hand


def halving(lrs, f_budget, min_budget, eta=3):
    survivors, budget = list(lrs), min_budget
    while True:
        scores = [f_budget(lr, budget) for lr in survivors]
        ranked = sorted(range(len(survivors)),
                        key=lambda i: (math.isnan(scores[i]), scores[i], i))
        keep = len(survivors) // eta
        if keep == 0:
            return survivors[ranked[0]]
        survivors = [survivors[i] for i in ranked[:keep]]
        budget *= eta


def trust_ratio(weight, grad, trust_coefficient=0.001, weight_decay=0.0, eps=1e-9):
    w = math.sqrt(float(np.sum(np.square(weight))))
    g = math.sqrt(float(np.sum(np.square(grad))))
    if w == 0.0 or g == 0.0:
        return 1.0
    return trust_coefficient * w / (g + weight_decay * w + eps)


def adamw(theta, grad, m, v, t, lr, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.01):
    theta = theta * (1 - lr * weight_decay)
    m = beta1 * m + (1 - beta1) * grad
    v = beta2 * v + (1 - beta2) * grad * grad
    step = (m / (1 - beta1**t)) / (np.sqrt(v / (1 - beta2**t)) + eps)
    return theta - lr * step, m, v


RIGHT = [
    (check_successive_halving, halving),
    (check_lars_trust_ratio, trust_ratio),
    (check_adamw_step, adamw),
]


@pytest.mark.parametrize(("check", "fn"), RIGHT)
@pytest.mark.parametrize("seed", [0, 1, 7])
def test_the_right_answer_passes_visible_and_hidden_cases(check, fn, seed):
    check(fn, seed=seed)
    check(fn, seed=seed, hidden=True)


@pytest.mark.parametrize(("n", "eta", "min_budget"), [(27, 3, 1), (10, 3, 2), (16, 2, 1),
                                                      (5, 4, 3), (1, 3, 5), (40, 3, 1)])
@pytest.mark.parametrize("seed", [0, 3])
def test_the_check_protocol_is_the_library_successive_halving(n, eta, min_budget, seed):
    f = GdLoss((0.5, 4.0, 20.0), (1.0, -1.0, 0.5))
    space = {"lr": LogUniform(1e-3, 1.0)}
    result = library_halving(lambda p, b: f(p["lr"], b), space, n=n, min_budget=min_budget,
                             eta=eta, seed=seed)
    lrs = [c["lr"] for c in sample_configs(space, n, np.random.default_rng(seed))]
    best, rungs = halving_reference(lrs, f, min_budget, eta)
    assert best == result.best_params["lr"]
    assert len(rungs) == result.rungs.max() + 1
    for i, (budget, rates) in enumerate(rungs):
        assert np.all(result.budgets[result.rungs == i] == budget)
        assert list(result.param("lr")[result.rungs == i]) == rates


# ---------------------------------------------------------------- successive halving slips


def _halving_with(*, worst=False, grow=True, keep=None, stop_early=False, best_of_all=False,
                  nan_first=False):
    def fn(lrs, f_budget, min_budget, eta=3):
        survivors, budget, seen = list(lrs), min_budget, []
        while True:
            if stop_early and len(survivors) == 1 and seen:
                return survivors[0]
            scores = np.array([f_budget(lr, budget) for lr in survivors], dtype=float)
            seen += list(zip(scores, survivors, strict=True))
            key = np.where(np.isnan(scores), -np.inf if nan_first else np.inf,
                           -scores if worst else scores)
            order = np.argsort(key, kind="stable")
            n_keep = (keep or (lambda n, e: n // e))(len(survivors), eta)
            if n_keep == 0:
                if best_of_all:
                    values = np.array([s for s, _ in seen])
                    return seen[int(np.nanargmin(values))][1]
                return survivors[order[0]]
            survivors = [survivors[i] for i in order[:n_keep]]
            if grow:
                budget *= eta
    return fn


HALVING_SLIPS = [
    (_halving_with(worst=True), "HIGHEST losses"),
    (_halving_with(grow=False), "multiply the budget by η"),
    (_halving_with(keep=lambda n, e: n - n // e if n // e else 0), "kept the rest"),
    (_halving_with(keep=lambda n, e: n // e + 1 if n > 1 else 0), "n // eta \\+ 1"),
    (_halving_with(stop_early=True), "stopped one rung early"),
    (_halving_with(best_of_all=True), "scores at different budgets do not compare"),
    (_halving_with(nan_first=True), "NaN"),
]


@pytest.mark.parametrize(("fn", "diagnosis"), HALVING_SLIPS)
def test_a_planted_halving_slip_gets_its_diagnosis(fn, diagnosis):
    with pytest.raises(AssertionError, match=diagnosis):
        check_successive_halving(fn)


def test_a_loop_that_never_shrinks_is_stopped_with_a_diagnosis():
    with pytest.raises(AssertionError, match="your loop does not stop"):
        check_successive_halving(_halving_with(keep=lambda n, e: max(1, -(-n // e))))


def test_returning_the_position_instead_of_the_rate_is_named():
    def index_of_best(lrs, f_budget, min_budget, eta=3):
        best = halving(lrs, f_budget, min_budget, eta)
        return list(lrs).index(best)

    with pytest.raises(AssertionError, match="position of the best rate"):
        check_successive_halving(index_of_best)


def test_scoring_only_the_first_rung_is_caught_rung_by_rung():
    def first_rung_only(lrs, f_budget, min_budget, eta=3):
        scores = [f_budget(lr, min_budget) for lr in lrs]
        return lrs[int(np.nanargmin(scores))]

    with pytest.raises(AssertionError, match="runs 3"):
        check_successive_halving(first_rung_only)


def test_calling_the_library_search_scores_zero():
    def delegating(lrs, f_budget, min_budget, eta=3):
        space = {"lr": LogUniform(1e-3, 1.0)}
        library_halving(lambda p, b: f_budget(p["lr"], b), space, n=len(lrs),
                        min_budget=min_budget, eta=eta)
        return halving(lrs, f_budget, min_budget, eta)

    with pytest.raises(AssertionError, match="calls lrcourse.tuning.successive_halving"):
        check_successive_halving(delegating)


def test_the_visible_labels_show_inputs_and_the_hidden_ones_do_not():
    with pytest.raises(AssertionError) as visible:
        check_successive_halving(_halving_with(worst=True))
    assert "lrs=[0.01, 0.03" in str(visible.value)

    def no_single_rate(lrs, f_budget, min_budget, eta=3):  # right, except for one rate
        return halving(lrs, f_budget, min_budget, eta) if len(lrs) > 1 else None

    check_successive_halving(no_single_rate)
    with pytest.raises(AssertionError, match=r"hidden test case \(a single rate\)") as hidden:
        check_successive_halving(no_single_rate, hidden=True)
    assert "[0.07]" not in str(hidden.value)


# ------------------------------------------------------------------------- LARS's ratio


def _ratio_with(**how):
    def fn(weight, grad, trust_coefficient=0.001, weight_decay=0.0, eps=1e-9):
        norm = how.get("norm", lambda a: math.sqrt(float(np.sum(np.square(a)))))
        w, g = norm(weight), norm(grad)
        if how.get("swap"):
            w, g = g, w
        if (w == 0.0 or g == 0.0) and "zero" in how:
            return how["zero"]
        decay = 0.0 if how.get("no_decay") else weight_decay * w
        return trust_coefficient * w / (g + decay + (0.0 if how.get("no_eps") else eps))
    return fn


LARS_SLIPS = [
    (_ratio_with(no_decay=True, zero=1.0), "weight-decay term is missing"),
    (_ratio_with(swap=True, zero=1.0), "norms are swapped"),
    (_ratio_with(zero=0.0), "stays at zero"),
    (_ratio_with(norm=lambda a: float(np.sum(np.abs(a))), zero=1.0), "L1 norm"),
    (_ratio_with(norm=lambda a: float(np.sum(np.square(a))), zero=1.0), "square-rooted"),
    (lambda w, g, trust_coefficient=0.001, weight_decay=0.0, eps=1e-9:
     trust_coefficient * np.abs(w) / (np.abs(g) + eps), "ONE number"),
    (lambda w, g, trust_coefficient=0.001, weight_decay=0.0, eps=1e-9:
     trust_coefficient * np.linalg.norm(w) / (np.linalg.norm(g + weight_decay * w) + eps)
     if np.linalg.norm(w) and np.linalg.norm(g) else 1.0, "optax's variant"),
]


@pytest.mark.parametrize(("fn", "diagnosis"), LARS_SLIPS)
def test_a_planted_trust_ratio_slip_gets_its_diagnosis(fn, diagnosis):
    with pytest.raises(AssertionError, match=diagnosis):
        check_lars_trust_ratio(fn)


def test_a_missing_eps_is_named():
    with pytest.raises(AssertionError, match="ε is missing"):
        check_lars_trust_ratio(_ratio_with(no_eps=True, zero=1.0))


def test_a_ratio_that_ignores_zero_norms_is_told_to_return_one():
    with pytest.raises(AssertionError, match="return 1"):
        check_lars_trust_ratio(_ratio_with())


def test_calling_the_library_trust_ratio_scores_zero():
    from lrcourse.distributed import lars_trust_ratio

    with pytest.raises(AssertionError, match="calls lrcourse.distributed.lars_trust_ratio"):
        check_lars_trust_ratio(lambda *a, **k: lars_trust_ratio(*a, **k))


# ------------------------------------------------------------------------------- AdamW


def _adamw_with(*, decay="before", l2=False, scaled=True, correct=True):
    def fn(theta, grad, m, v, t, lr, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.01):
        shrink = lr * weight_decay if scaled else weight_decay
        g = grad + weight_decay * theta if l2 else grad
        if decay == "before":
            theta = theta - shrink * theta
        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * g * g
        m_hat, v_hat = (m / (1 - beta1**t), v / (1 - beta2**t)) if correct else (m, v)
        theta = theta - lr * m_hat / (np.sqrt(v_hat) + eps)
        if decay == "after":
            theta = theta - shrink * theta
        return theta, m, v
    return fn


ADAMW_SLIPS = [
    (_adamw_with(decay="none", l2=True), "Adam's L2 penalty"),
    (_adamw_with(l2=True), "applied twice"),
    (_adamw_with(scaled=False), "not scaled by the learning rate"),
    (_adamw_with(decay="after"), "AFTER the Adam step"),
    (_adamw_with(decay="none"), "weight decay is missing"),
    (_adamw_with(correct=False), "bias correction is missing"),
]


@pytest.mark.parametrize(("fn", "diagnosis"), ADAMW_SLIPS)
def test_a_planted_adamw_slip_gets_its_diagnosis(fn, diagnosis):
    with pytest.raises(AssertionError, match=diagnosis):
        check_adamw_step(fn)


def test_an_adamw_that_changes_its_inputs_in_place_is_caught():
    def in_place(theta, grad, m, v, t, lr, beta1=0.9, beta2=0.999, eps=1e-8,
                 weight_decay=0.01):
        theta *= 1 - lr * weight_decay
        return adamw(theta.copy(), grad, m, v, t, lr, beta1, beta2, eps, 0.0)

    with pytest.raises(AssertionError, match="in place"):
        check_adamw_step(in_place)


def test_calling_the_library_adamw_scores_zero():
    from lrcourse.optimizers import AdamState, adamw_step

    def delegating(theta, grad, m, v, t, lr, beta1=0.9, beta2=0.999, eps=1e-8,
                   weight_decay=0.01):
        new, state = adamw_step(theta, grad, AdamState(t - 1, m, v), lr=lr,
                                betas=(beta1, beta2), eps=eps, weight_decay=weight_decay)
        return new, state.exp_avg, state.exp_avg_sq

    with pytest.raises(AssertionError, match="calls lrcourse.optimizers.adamw_step"):
        check_adamw_step(delegating)


def test_the_objective_of_the_cases_fails_like_a_diverged_run():
    f = GdLoss()
    assert math.isnan(f(3.0, 5))
    assert f(0.1, 5) < f(0.1, 1) < f(0.01, 1)
