"""Section 08: every check passes the right answer and names the planted mistakes."""

from __future__ import annotations

import math

import numpy as np
import pytest

from lrcourse.checks import (
    check_expected_improvement,
    check_hypergradient_update,
    check_layer_groups,
    check_random_search_lr,
)
from lrcourse.checks._core import collect, report
from lrcourse.checks.advanced import HypergradientUpdate

# ----------------------------------------------------------------- reference solutions


def hypergradient_update(lr, grad, prev_grad, hyper_lr):
    dot = sum(float(np.vdot(g, p)) for g, p in zip(grad, prev_grad, strict=True))
    return lr + hyper_lr * dot


def random_search_lr(f, low, high, n, rng):
    best_lr, best_value = math.nan, math.inf
    for _ in range(n):
        lr = 10 ** rng.uniform(math.log10(low), math.log10(high))
        value = f(lr)
        if value < best_value:  # False for NaN: failed trials are skipped
            best_lr, best_value = lr, value
    return best_lr, best_value


def random_search_all_at_once(f, low, high, n, rng):
    """The same draws made in one call: a different program, the same protocol."""
    lrs = 10 ** rng.uniform(math.log10(low), math.log10(high), size=n)
    values = np.array([f(lr) for lr in lrs])
    i = int(np.nanargmin(values))
    return float(lrs[i]), float(values[i])


def normal_cdf(z):
    return 0.5 * (1 + np.vectorize(math.erf)(np.asarray(z, float) / math.sqrt(2)))


def normal_pdf(z):
    return np.exp(-0.5 * np.asarray(z, float) ** 2) / math.sqrt(2 * math.pi)


def expected_improvement(mean, std, best):
    mean, std = np.broadcast_arrays(np.asarray(mean, float), np.asarray(std, float))
    improvement = best - mean
    z = improvement / np.where(std > 0, std, 1.0)
    ei = improvement * normal_cdf(z) + std * normal_pdf(z)
    return np.where(std > 0, ei, np.maximum(improvement, 0.0))


def layer_groups(model, head_lr, body_lr):
    body, head = model.params[:-2], model.params[-2:]
    groups = [{"params": head, "lr": head_lr}]
    if body:
        groups.insert(0, {"params": body, "lr": body_lr})
    return groups


def layer_groups_per_layer(model, head_lr, body_lr):
    """One group per array, head first: another layout of the same rates."""
    n = len(model.params)
    return [{"params": [p], "lr": head_lr if i >= n - 2 else body_lr}
            for i, p in reversed(list(enumerate(model.params)))]


RIGHT = [
    (check_hypergradient_update, hypergradient_update),
    (check_random_search_lr, random_search_lr),
    (check_random_search_lr, random_search_all_at_once),
    (check_expected_improvement, expected_improvement),
    (check_layer_groups, layer_groups),
    (check_layer_groups, layer_groups_per_layer),
]


@pytest.mark.parametrize(("check", "fn"), RIGHT)
@pytest.mark.parametrize("seed", [0, 3])
def test_the_right_answer_passes_visible_and_hidden_cases(check, fn, seed):
    check(fn, seed=seed)
    check(fn, seed=seed, hidden=True)


def test_ei_with_the_library_and_without_it_agree():
    from lrcourse.tuning import expected_improvement as library

    mean, std = np.array([-1.0, 0.0, 2.0, 0.5]), np.array([0.3, 0.0, 1.0, 0.0])
    assert np.allclose(expected_improvement(mean, std, 0.1), library(mean, std, 0.1))


# ----------------------------------------------------------------- planted mistakes


def _dot(grad, prev):
    return sum(float(np.sum(g * p)) for g, p in zip(grad, prev, strict=True))


def _uniform_search(f, low, high, n, rng):
    best = (math.nan, math.inf)
    for _ in range(n):
        lr = rng.uniform(low, high)
        if f(lr) < best[1]:
            best = (lr, f(lr))
    return best


def _max_search(f, low, high, n, rng):
    best = (math.nan, -math.inf)
    for _ in range(n):
        lr = 10 ** rng.uniform(math.log10(low), math.log10(high))
        if f(lr) > best[1]:
            best = (lr, f(lr))
    return best


def _argmin_search(f, low, high, n, rng):
    lrs = [10 ** rng.uniform(math.log10(low), math.log10(high)) for _ in range(n)]
    values = [f(lr) for lr in lrs]
    i = int(np.argmin(values))
    return lrs[i], values[i]


def _own_rng_search(f, low, high, n, rng):
    return random_search_lr(f, low, high, n, np.random.default_rng(12345))


def _ties_to_last(f, low, high, n, rng):
    best = (math.nan, math.inf)
    for _ in range(n):
        lr = 10 ** rng.uniform(math.log10(low), math.log10(high))
        if f(lr) <= best[1]:
            best = (lr, f(lr))
    return best


def _ei_parts(first=True, second=True, sign=1.0, nan_at_zero=False, scipy_erf=False):
    def ei(mean, std, best):
        mean, std = np.broadcast_arrays(np.asarray(mean, float), np.asarray(std, float))
        imp = sign * (best - mean)
        with np.errstate(all="ignore"):
            z = imp / (std if nan_at_zero else np.where(std > 0, std, 1.0))
            cdf = (0.5 * (1 + np.vectorize(math.erf)(z)) if scipy_erf else normal_cdf(z))
            value = (imp * cdf if first else 0) + (std * normal_pdf(z) if second else 0)
        return value if nan_at_zero else np.where(std > 0, value, np.maximum(imp, 0.0))
    return ei


def _math_erf_ei(mean, std, best):
    z = (best - mean) / std
    return (best - mean) * 0.5 * (1 + math.erf(z / math.sqrt(2))) + std * normal_pdf(z)


def _copies(model, head_lr, body_lr):
    params = model.get_params()
    return [{"params": params[:-2], "lr": body_lr}, {"params": params[-2:], "lr": head_lr}]


MISTAKES = [
    (check_hypergradient_update, lambda a, g, p, b: a - b * _dot(g, p), "sign is flipped"),
    (check_hypergradient_update, lambda a, g, p, b: a + b * _dot(g, g),
     "current gradient twice"),
    (check_hypergradient_update, lambda a, g, p, b: a + b * _dot(p, p),
     "previous gradient twice"),
    (check_hypergradient_update,
     lambda a, g, p, b: [a + b * gi * pi for gi, pi in zip(g, p, strict=True)],
     "SUM over every entry"),
    (check_hypergradient_update, lambda a, g, p, b: a * (1 + b * _dot(g, p)),
     "multiplicative update"),
    (check_hypergradient_update, lambda a, g, p, b: b * _dot(g, p), "the change of the rate"),
    (check_random_search_lr, _uniform_search, "uniformly in α"),
    (check_random_search_lr, _max_search, "keep the smallest"),
    (check_random_search_lr, _argmin_search, "a failed trial"),
    (check_random_search_lr, _own_rng_search, "Use the rng you are given"),
    (check_random_search_lr, lambda *a: random_search_lr(*a)[::-1],
     r"return \(best_lr, best_value\)"),
    (check_random_search_lr, lambda f, lo, hi, n, r: random_search_lr(f, lo, hi, n - 1, r),
     "exactly n = 10 trials"),
    (check_random_search_lr, lambda *a: random_search_lr(*a)[0], "return a pair"),
    (check_expected_improvement, _ei_parts(sign=-1.0), "MINIMISE"),
    (check_expected_improvement, _ei_parts(second=False), "exploration term"),
    (check_expected_improvement, _ei_parts(first=False), "exploitation term"),
    (check_expected_improvement, _ei_parts(nan_at_zero=True), "NaN where std = 0"),
    (check_expected_improvement, _ei_parts(scipy_erf=True), "the √2 is missing"),
    (check_expected_improvement, _math_erf_ei, "math.erf takes one number"),
    (check_layer_groups, lambda m, h, b: layer_groups(m, b, h), "swapped"),
    (check_layer_groups, lambda m, h, b: [{"params": m.params[:-1], "lr": b},
                                          {"params": m.params[-1:], "lr": h}], "AND its bias"),
    (check_layer_groups, lambda m, h, b: [{"params": m.params, "lr": h}],
     "the body must get body_lr"),
    (check_layer_groups, lambda m, h, b: [{"params": m.params[:-2]},
                                          {"params": m.params[-2:], "lr": h}], "no 'lr' entry"),
    (check_layer_groups, _copies, "copies"),
    (check_layer_groups, lambda m, h, b: [{"params": m.params[-2:], "lr": h},
                                          {"params": m.params, "lr": b}], "two groups"),
    (check_layer_groups, lambda m, h, b: {"params": m.params, "lr": h}, "a list of dicts"),
]


@pytest.mark.parametrize(("check", "fn", "diagnosis"), MISTAKES)
def test_a_planted_mistake_gets_its_diagnosis(check, fn, diagnosis):
    with pytest.raises(AssertionError, match=diagnosis):
        check(fn)


def test_clipping_the_rate_at_zero_is_caught_by_a_hidden_case_only():
    def clipped(a, g, p, b):
        return max(0.0, hypergradient_update(a, g, p, b))

    check_hypergradient_update(clipped)  # no visible case goes below zero
    with pytest.raises(AssertionError, match="you clipped the rate at 0"):
        check_hypergradient_update(clipped, hidden=True)


def test_only_the_first_parameter_in_the_dot_product_is_diagnosed():
    with pytest.raises(AssertionError, match="only the first parameter array"):
        check_hypergradient_update(lambda a, g, p, b: a + b * float(np.sum(g[0] * p[0])))


def test_ties_kept_to_the_last_trial_fail_the_hidden_flat_objective():
    check_random_search_lr(_ties_to_last)
    with pytest.raises(AssertionError, match="EARLIEST"):
        check_random_search_lr(_ties_to_last, hidden=True)


def test_a_head_of_two_layers_is_diagnosed_in_a_deeper_network():
    def two_layer_head(m, h, b):
        if len(m.params) <= 4:
            return layer_groups(m, h, b)
        return [{"params": m.params[:-4], "lr": b}, {"params": m.params[-4:], "lr": h}]

    with pytest.raises(AssertionError, match="the head is only the last layer"):
        check_layer_groups(two_layer_head)


def test_a_frozen_body_may_be_left_out_of_the_optimizer():
    def frozen_left_out(m, h, b):
        if b == 0:
            return [{"params": m.params[-2:], "lr": h}]
        return layer_groups(m, h, b)

    check_layer_groups(frozen_left_out)
    check_layer_groups(frozen_left_out, hidden=True)


# ----------------------------------------------------------------- delegation, hiding


@pytest.mark.parametrize(("check", "fn", "reference"), [
    (check_hypergradient_update,
     lambda a, g, p, b: __import__("lrcourse.tuning", fromlist=["x"]).hypergradient_update(
         a, g, p, b), "lrcourse.tuning.hypergradient_update"),
    (check_expected_improvement,
     lambda m, s, b: __import__("lrcourse.tuning", fromlist=["x"]).expected_improvement(m, s, b),
     "lrcourse.tuning.expected_improvement"),
])
def test_calling_the_library_version_is_caught(check, fn, reference):
    with pytest.raises(AssertionError, match=f"calls {reference}"):
        check(fn)


def test_layer_groups_through_the_notebook_helper_is_caught():
    from lrcourse.widgets.advanced import head_body_groups

    with pytest.raises(AssertionError, match="calls lrcourse.widgets.advanced.head_body_groups"):
        check_layer_groups(lambda m, h, b: head_body_groups(m, h, b))


def test_random_search_through_the_library_range_is_caught():
    from lrcourse.tuning import LogUniform

    def delegated(f, low, high, n, rng):
        lrs = [float(LogUniform(low, high).from_unit(rng.random())) for _ in range(n)]
        values = [f(lr) for lr in lrs]
        i = int(np.nanargmin(values))
        return lrs[i], values[i]

    with pytest.raises(AssertionError, match="calls lrcourse.tuning.search.LogUniform.from_unit"):
        check_random_search_lr(delegated)


def test_hidden_failures_name_the_kind_of_case_not_its_inputs():
    def wrong_on_zero_d(a, g, p, b):
        if any(np.ndim(x) == 0 for x in g):
            return a
        return hypergradient_update(a, g, p, b)

    ex = HypergradientUpdate()
    message = report(ex, collect(ex, wrong_on_zero_d, 0, True), 0, True)
    assert "A hidden test case (a 0-d parameter among others) failed" in message
    assert "expected:" not in message and "-0.5" not in message


def test_checks_do_not_warn_on_a_learner_whose_arithmetic_overflows():
    import warnings

    def noisy(mean, std, best):
        return (best - np.asarray(mean)) / np.asarray(std)  # 0/0 where std = 0

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(AssertionError):
            check_expected_improvement(noisy)
