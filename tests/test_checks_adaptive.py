"""Section 04: the checks pass right update rules and name the planted mistakes."""

from __future__ import annotations

import numpy as np
import pytest

from lrcourse.checks import (
    check_adagrad_step,
    check_adam_lr,
    check_adam_step,
    check_momentum_step,
    check_rmsprop_step,
)
from lrcourse.checks.adaptive import adam_final_loss

# ------------------------------------------------------------------ right answers, by hand


def momentum_step(theta, grad, velocity, lr, beta=0.9, nesterov=False):
    velocity = beta * velocity + grad
    step = grad + beta * velocity if nesterov else velocity
    return theta - lr * step, velocity


def adagrad_step(theta, grad, sum_sq, lr, eps=1e-10):
    sum_sq = sum_sq + grad**2
    return theta - lr * grad / (np.sqrt(sum_sq) + eps), sum_sq


def rmsprop_step(theta, grad, square_avg, lr, beta=0.99, eps=1e-8):
    square_avg = beta * square_avg + (1 - beta) * grad**2
    return theta - lr * grad / (np.sqrt(square_avg) + eps), square_avg


def adam_step(theta, grad, m, v, t, lr, beta1=0.9, beta2=0.999, eps=1e-8):
    m = beta1 * m + (1 - beta1) * grad
    v = beta2 * v + (1 - beta2) * grad**2
    m_hat, v_hat = m / (1 - beta1**t), v / (1 - beta2**t)
    return theta - lr * m_hat / (np.sqrt(v_hat) + eps), m, v


RIGHT = [
    (check_momentum_step, momentum_step),
    (check_adagrad_step, adagrad_step),
    (check_rmsprop_step, rmsprop_step),
    (check_adam_step, adam_step),
]


@pytest.mark.parametrize(("check", "fn"), RIGHT)
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_the_right_rule_passes_visible_and_hidden_cases(check, fn, seed):
    check(fn, seed=seed)
    check(fn, seed=seed, hidden=True)


def test_a_rule_written_with_lists_of_python_floats_also_passes():
    def adam_scalar(theta, grad, m, v, t, lr, beta1=0.9, beta2=0.999, eps=1e-8):
        out = [adam_step(a, b, c, d, t, lr, beta1, beta2, eps)
               for a, b, c, d in zip(*(np.ravel(x).tolist() for x in (theta, grad, m, v)),
                                     strict=True)]
        shape = np.shape(theta)
        return tuple(np.reshape([o[k] for o in out], shape) for k in range(3))

    check_adam_step(adam_scalar, hidden=True)


# ------------------------------------------------------------------------ planted mistakes


def _momentum(velocity_of, step_of=None):
    def wrong(theta, grad, velocity, lr, beta=0.9, nesterov=False):
        new_v = velocity_of(grad, velocity, lr, beta)
        if step_of is not None:
            return step_of(theta, grad, velocity, new_v, lr, beta, nesterov), new_v
        step = grad + beta * new_v if nesterov else new_v
        return theta - lr * step, new_v
    return wrong


def _sutskever(theta, grad, velocity, lr, beta=0.9, nesterov=False):
    velocity = beta * velocity - lr * grad
    return theta + velocity, velocity


def _no_nesterov(theta, grad, velocity, lr, beta=0.9, nesterov=False):
    return momentum_step(theta, grad, velocity, lr, beta, nesterov=False)


def _old_velocity_returned(theta, grad, velocity, lr, beta=0.9, nesterov=False):
    new_theta, _ = momentum_step(theta, grad, velocity, lr, beta, nesterov)
    return new_theta, velocity


def _in_place(theta, grad, velocity, lr, beta=0.9, nesterov=False):
    velocity *= beta
    velocity += grad
    step = grad + beta * velocity if nesterov else velocity
    return theta - lr * step, velocity


MOMENTUM_MISTAKES = [
    (_sutskever, "inside the velocity"),
    (_momentum(lambda g, v, lr, b: b * v + (1 - b) * g), "scaled by \\(1 − β\\)"),
    (_momentum(lambda g, v, lr, b: v + g), "does not decay"),
    (_momentum(lambda g, v, lr, b: b * v + g,
               lambda t, g, v, nv, lr, b, n: t - lr * (g + b * v if n else v)),
     "uses the old velocity"),
    (_no_nesterov, "looks ahead"),
    (_old_velocity_returned, "returned the old velocity"),
    (_momentum(lambda g, v, lr, b: b * v + g,
               lambda t, g, v, nv, lr, b, n: t + lr * (g + b * nv if n else nv)),
     "stepped uphill"),
    (_in_place, "changed an input array in place"),
    (lambda theta, grad, velocity, lr, beta=0.9, nesterov=False: theta - lr * grad,
     "you returned only theta"),
]


def _adagrad(sum_of, step_of):
    def wrong(theta, grad, sum_sq, lr, eps=1e-10):
        new = sum_of(grad, sum_sq)
        return step_of(theta, grad, sum_sq, new, lr, eps), new
    return wrong


def _acc(g, s):
    return s + g**2


ADAGRAD_MISTAKES = [
    (_adagrad(lambda g, s: s + g, lambda t, g, s, n, lr, e: t - lr * g / (np.sqrt(n) + e)),
     "not squared"),
    (_adagrad(_acc, lambda t, g, s, n, lr, e: t - lr * g / np.sqrt(n + e)),
     "outside the square root"),
    (_adagrad(_acc, lambda t, g, s, n, lr, e: t - lr * g / (np.sqrt(s) + e)), "OLD sum"),
    (_adagrad(_acc, lambda t, g, s, n, lr, e: t - lr * g / (n + e)), "square root is missing"),
    (_adagrad(lambda g, s: g**2, lambda t, g, s, n, lr, e: t - lr * g / (np.sqrt(n) + e)),
     "replaced instead of accumulated"),
    (_adagrad(_acc, lambda t, g, s, n, lr, e: t - lr * g / np.sqrt(n)), "0/0"),
    (lambda theta, grad, sum_sq, lr, eps=1e-10: None, "returned None"),
]


def _rmsprop(avg_of, step_of=None):
    def wrong(theta, grad, square_avg, lr, beta=0.99, eps=1e-8):
        new = avg_of(grad, square_avg, beta)
        if step_of is None:
            return theta - lr * grad / (np.sqrt(new) + eps), new
        return step_of(theta, grad, square_avg, new, lr, eps), new
    return wrong


def _avg(g, v, b):
    return b * v + (1 - b) * g**2


RMSPROP_MISTAKES = [
    (_rmsprop(lambda g, v, b: (1 - b) * v + b * g**2), "swapped"),
    (_rmsprop(lambda g, v, b: b * v + (1 - b) * g), "not squared"),
    (_rmsprop(_avg, lambda t, g, v, n, lr, e: t - lr * g / np.sqrt(n + e)), "Keras"),
    (_rmsprop(_avg, lambda t, g, v, n, lr, e: t - lr * g / (np.sqrt(v) + e)), "OLD average"),
    (_rmsprop(lambda g, v, b: v + g**2), "like AdaGrad"),
    (_rmsprop(lambda g, v, b: v + (1 - b) * g**2), "does not decay"),
]


def _adam(**change):
    """adam_step with one slip, as a learner might write it."""

    def wrong(theta, grad, m, v, t, lr, beta1=0.9, beta2=0.999, eps=1e-8):
        b1 = beta1 if not change.get("swap_m") else 1 - beta1
        b2 = beta2 if not change.get("swap_v") else 1 - beta2
        m_new = b1 * m + (1 - b1) * grad
        square = grad if change.get("unsquared") else grad**2
        v_new = b2 * v + (1 - b2) * square
        n = t + change.get("shift", 0)
        c1 = 1 - beta1**n if change.get("correct", True) else 1.0
        c2 = 1 - beta2**n if change.get("correct", True) else 1.0
        m_hat, v_hat = m_new / c1, v_new / c2
        if change.get("eps_inside"):
            step = m_hat / np.sqrt(v_hat + eps)
        else:
            step = m_hat / (np.sqrt(v_hat) + eps)
        if change.get("keep_corrected"):
            return theta - lr * step, m_hat, v_hat
        return theta - lr * step, m_new, v_new

    return wrong


ADAM_MISTAKES = [
    (_adam(correct=False), "bias correction is missing"),
    (_adam(eps_inside=True), "outside the square root"),
    (_adam(shift=+1), "you used t \\+ 1"),
    (_adam(shift=-1), "divides by zero"),
    (_adam(swap_m=True), "β1 and 1 − β1 are swapped"),
    (_adam(swap_v=True), "β2 and 1 − β2 are swapped"),
    (_adam(unsquared=True), "not squared in v"),
    (_adam(keep_corrected=True), "return the raw m and v"),
    (lambda theta, grad, m, v, t, lr, beta1=0.9, beta2=0.999, eps=1e-8: (theta, m),
     "return 3 values"),
]


@pytest.mark.parametrize(("check", "fn", "diagnosis"), [
    *[(check_momentum_step, fn, d) for fn, d in MOMENTUM_MISTAKES],
    *[(check_adagrad_step, fn, d) for fn, d in ADAGRAD_MISTAKES],
    *[(check_rmsprop_step, fn, d) for fn, d in RMSPROP_MISTAKES],
    *[(check_adam_step, fn, d) for fn, d in ADAM_MISTAKES],
])
def test_a_planted_mistake_gets_its_diagnosis_in_the_visible_cases(check, fn, diagnosis):
    with np.errstate(all="ignore"), pytest.raises(AssertionError, match=diagnosis):
        check(fn)


def test_bias_correction_on_m_only_is_named_and_a_mixed_slip_says_which_moment_is_wrong():
    def m_only(theta, grad, m, v, t, lr, beta1=0.9, beta2=0.999, eps=1e-8):
        m = beta1 * m + (1 - beta1) * grad
        v = beta2 * v + (1 - beta2) * grad**2
        return theta - lr * (m / (1 - beta1**t)) / (np.sqrt(v) + eps), m, v

    with pytest.raises(AssertionError, match="only m is bias-corrected"):
        check_adam_step(m_only)

    def two_slips(theta, grad, m, v, t, lr, beta1=0.9, beta2=0.999, eps=1e-8):
        m = 0.5 * m + 0.5 * grad  # a made-up average, and no correction of m
        v = beta2 * v + (1 - beta2) * grad**2
        return theta - lr * m / (np.sqrt(v / (1 - beta2**t)) + eps), m, v

    with pytest.raises(AssertionError, match=r"m is wrong \(v is right\)"):
        check_adam_step(two_slips)


def test_state_returned_correctly_once_but_not_threaded_is_caught_by_the_run_case():
    calls = {"n": 0}

    def forgets_state(theta, grad, m, v, t, lr, beta1=0.9, beta2=0.999, eps=1e-8):
        calls["n"] += 1
        new = adam_step(theta, grad, m, v, t, lr, beta1, beta2, eps)
        # right on single calls, but always reports the first step's counter in runs
        return new if t != 2 or np.any(m == 0) else adam_step(theta, grad, m, v, 1, lr,
                                                              beta1, beta2, eps)

    with pytest.raises(AssertionError, match="3 steps in a row"):
        check_adam_step(forgets_state)


def test_hidden_failures_describe_the_case_without_its_inputs():
    def eps_inside_only_for_tiny_gradients(theta, grad, sum_sq, lr, eps=1e-10):
        sum_sq = sum_sq + grad**2
        return theta - lr * grad / np.sqrt(sum_sq + eps), sum_sq

    with pytest.raises(AssertionError, match="A hidden test case") as err:
        check_adagrad_step(eps_inside_only_for_tiny_gradients, hidden=True)
    assert "expected:" not in str(err.value)


@pytest.mark.parametrize(("check", "name", "call"), [
    (check_momentum_step, "lrcourse.optimizers.sgd_step",
     lambda lib: lambda theta, grad, velocity, lr, beta=0.9, nesterov=False: (
         lib.sgd_step(theta, grad, lib.SGDState(velocity), lr=lr, momentum=beta,
                      nesterov=nesterov)[0], beta * velocity + grad)),
    (check_adagrad_step, "lrcourse.optimizers.adagrad_step",
     lambda lib: lambda theta, grad, sum_sq, lr, eps=1e-10: (
         lib.adagrad_step(theta, grad, lib.AdagradState(0, sum_sq), lr=lr, eps=eps)[0],
         sum_sq + grad**2)),
    (check_rmsprop_step, "lrcourse.optimizers.rmsprop_step",
     lambda lib: lambda theta, grad, square_avg, lr, beta=0.99, eps=1e-8: (
         lib.rmsprop_step(theta, grad, lib.RMSpropState(0, square_avg), lr=lr, alpha=beta,
                          eps=eps)[0], beta * square_avg + (1 - beta) * grad**2)),
    (check_adam_step, "lrcourse.optimizers.adam_step",
     lambda lib: lambda theta, grad, m, v, t, lr, beta1=0.9, beta2=0.999, eps=1e-8:
         lib.adam_step(theta, grad, lib.AdamState(t - 1, m, v), lr=lr, betas=(beta1, beta2),
                       eps=eps)[0:1] + (beta1 * m + (1 - beta1) * grad,
                                        beta2 * v + (1 - beta2) * grad**2)),
])
def test_calling_the_library_rule_is_caught_as_delegation(check, name, call):
    import lrcourse.optimizers as lib

    with pytest.raises(AssertionError, match=f"calls {name}"):
        check(call(lib))


def test_calling_the_stateful_class_is_caught_too():
    from lrcourse.optimizers import Adam

    def via_class(theta, grad, m, v, t, lr, beta1=0.9, beta2=0.999, eps=1e-8):
        theta = np.array(theta, dtype=float)
        opt = Adam([theta], lr=lr, betas=(beta1, beta2), eps=eps)
        opt.step([grad])
        return theta, beta1 * m + (1 - beta1) * grad, beta2 * v + (1 - beta2) * grad**2

    with pytest.raises(AssertionError, match="calls lrcourse.optimizers"):
        check_adam_step(via_class)


# ------------------------------------------------------------------ choosing Adam's rate


def test_a_tuned_rate_passes_from_every_start_and_adams_default_does_not():
    for lr in (1.26, 1.4, 1.58):
        check_adam_lr(lr)
        check_adam_lr(lr, hidden=True)
    with pytest.raises(AssertionError, match="too small"):
        check_adam_lr(1e-3)


@pytest.mark.parametrize(("value", "diagnosis"), [
    (0.01, "too small"),
    (50.0, "blows up"),
    (1.5, "from start C"),  # between two good rates: Beale is not convex
    ("1.3", "expected a number"),
    (-0.5, "positive number"),
    (True, "expected a number"),
])
def test_a_bad_rate_for_adam_on_beale_is_explained(value, diagnosis):
    with pytest.raises(AssertionError, match=diagnosis):
        check_adam_lr(value, hidden=True)


def test_a_rate_good_from_the_visible_start_can_fail_a_hidden_one():
    check_adam_lr(0.5)
    with pytest.raises(AssertionError, match="one of the four starts"):
        check_adam_lr(0.5, hidden=True)


def test_adams_final_loss_on_beale_equals_the_race_explorers_run():
    from lrcourse.optimizers import adam_step as lib_adam
    from lrcourse.widgets.adaptive import race_problems, run_rule

    landscape, starts = race_problems()["Beale"]
    runs = run_rule(lib_adam, landscape, [1.4], starts, 200)
    for k, start in enumerate(starts):
        loss, diverged = adam_final_loss(1.4, start)
        assert diverged == -1
        assert loss == pytest.approx(runs.loss[k, 0, -1], rel=1e-6, abs=1e-15)
