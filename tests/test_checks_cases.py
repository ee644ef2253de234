"""Checks of section 09: right answers pass, the usual mistakes get their diagnosis."""

from __future__ import annotations

import numpy as np
import pytest

from lrcourse import schedules
from lrcourse.checks import check_digits_schedule, check_inverse_sqrt_lr, check_reinforce_gradient
from lrcourse.checks._core import collect, decode, encode, verdicts
from lrcourse.checks.cases import (
    STEPS_PER_EPOCH,
    DigitsSchedule,
    digits_splits,
    train_digits,
)

# --------------------------------------------------------------- reference solutions


def inverse_sqrt_lr(t, peak_lr, warmup_steps):
    s = np.asarray(t, dtype=float) + 1
    return peak_lr * np.minimum(s / warmup_steps, np.sqrt(warmup_steps / s))


def reinforce_gradient(theta, actions, rewards, baseline=0.0):
    theta = np.asarray(theta, dtype=float)
    probs = np.exp(theta - theta.max())
    probs /= probs.sum()
    score = np.eye(len(theta))[np.asarray(actions)] - probs
    return np.mean((np.asarray(rewards, dtype=float) - baseline)[:, None] * score, axis=0)


def good_schedule(t):
    return schedules.one_cycle(0.3, total_steps=8 * STEPS_PER_EPOCH)(t)


def fails_with(check, fn, *phrases, **kwargs):
    with pytest.raises(AssertionError) as caught:
        check(fn, **kwargs)
    message = str(caught.value)
    for phrase in phrases:
        assert phrase in message, message
    return message


# ------------------------------------------------------------------- inverse-sqrt


@pytest.mark.parametrize("hidden", [False, True])
def test_the_reference_inverse_sqrt_schedule_passes(hidden, capsys):
    check_inverse_sqrt_lr(inverse_sqrt_lr, seed=91 if hidden else 0, hidden=hidden)
    assert "pass" in capsys.readouterr().out


def test_counting_from_t_instead_of_t_plus_one_is_called_off_by_one():
    def off(t, peak_lr, warmup_steps):
        s = np.asarray(t, dtype=float)
        with np.errstate(divide="ignore"):
            return peak_lr * np.minimum(s / warmup_steps, np.sqrt(warmup_steps / s))

    fails_with(check_inverse_sqrt_lr, off, "off by one", "t + 1")


def test_a_schedule_without_its_warm_up_branch_is_diagnosed():
    def no_ramp(t, peak_lr, warmup_steps):
        return peak_lr * np.sqrt(warmup_steps / (np.asarray(t, dtype=float) + 1))

    def flat(t, peak_lr, warmup_steps):
        return peak_lr * np.minimum(1.0, np.sqrt(warmup_steps / (np.asarray(t, dtype=float) + 1)))

    fails_with(check_inverse_sqrt_lr, no_ramp, "warm-up branch is missing")
    fails_with(check_inverse_sqrt_lr, flat, "warm-up is missing")


def test_the_papers_unscaled_formula_is_told_its_peak_is_off():
    def unscaled(t, peak_lr, warmup_steps):
        s = np.asarray(t, dtype=float) + 1
        return peak_lr * np.minimum(s**-0.5, s * warmup_steps**-1.5)

    fails_with(check_inverse_sqrt_lr, unscaled, "peaks at peak_lr / sqrt(warmup_steps)")


def test_a_decay_without_w_and_a_max_for_min_are_named():
    def no_w(t, peak_lr, warmup_steps):
        s = np.asarray(t, dtype=float) + 1
        return peak_lr * np.minimum(s / warmup_steps, 1 / np.sqrt(s))

    def maxed(t, peak_lr, warmup_steps):
        s = np.asarray(t, dtype=float) + 1
        return peak_lr * np.maximum(s / warmup_steps, np.sqrt(warmup_steps / s))

    fails_with(check_inverse_sqrt_lr, no_w, "sqrt(W / s)")
    fails_with(check_inverse_sqrt_lr, maxed, "max where min belongs")


def test_pythons_min_on_an_array_of_steps_is_diagnosed():
    def scalar_only(t, peak_lr, warmup_steps):
        s = t + 1
        return peak_lr * min(s / warmup_steps, (warmup_steps / s) ** 0.5)

    fails_with(check_inverse_sqrt_lr, scalar_only, "np.minimum")


def test_a_hidden_failure_does_not_reveal_its_inputs():
    def fine_until_late(t, peak_lr, warmup_steps):
        s = np.asarray(t, dtype=float) + 1
        out = peak_lr * np.minimum(s / warmup_steps, np.sqrt(warmup_steps / s))
        return np.where(s > 10**5, 0.0, out)

    check_inverse_sqrt_lr(fine_until_late)  # the visible cases do not reach such steps
    message = fails_with(check_inverse_sqrt_lr, fine_until_late, "very late steps",
                         seed=91, hidden=True)
    assert "expected" not in message and "4000" not in message


def test_calling_the_librarys_inverse_sqrt_earns_nothing():
    def delegate(t, peak_lr, warmup_steps):
        return schedules.inverse_sqrt(peak_lr, warmup_steps)(t)

    fails_with(check_inverse_sqrt_lr, delegate, "calls lrcourse.schedules.inverse_sqrt")


# -------------------------------------------------------------------- REINFORCE


@pytest.mark.parametrize("hidden", [False, True])
def test_the_reference_reinforce_gradient_passes(hidden, capsys):
    check_reinforce_gradient(reinforce_gradient, seed=17 if hidden else 0, hidden=hidden)
    assert "pass" in capsys.readouterr().out


def test_the_reinforce_estimate_is_unbiased_for_the_exact_bandit_gradient():
    from lrcourse.rl import Bandit

    bandit, theta = Bandit([0.0, 1.0, 0.5]), np.array([0.3, -0.2, 0.1])
    rng = np.random.default_rng(0)
    probs = np.exp(theta) / np.exp(theta).sum()
    arms = rng.choice(3, size=200_000, p=probs)
    rewards = bandit.means[arms] + rng.standard_normal(arms.size)
    estimate = reinforce_gradient(theta, arms, rewards, baseline=0.4)
    np.testing.assert_allclose(estimate, bandit.return_gradient(theta[None, :])[0], atol=0.01)


@pytest.mark.parametrize(
    ("mistake", "phrase"),
    [
        (lambda w, s, b: np.mean(w[:, None] * -s, axis=0), "sign is flipped"),
        (lambda w, s, b: np.sum(w[:, None] * s, axis=0), "summed over the pulls"),
        (lambda w, s, b: np.mean((w + b)[:, None] * s, axis=0), "baseline is not subtracted"),
    ],
    ids=["sign", "sum", "no-baseline"],
)
def test_planted_reinforce_mistakes_get_their_diagnosis(mistake, phrase):
    def wrong(theta, actions, rewards, baseline=0.0):
        theta = np.asarray(theta, dtype=float)
        probs = np.exp(theta - theta.max())
        probs /= probs.sum()
        score = np.eye(len(theta))[actions] - probs
        return mistake(np.asarray(rewards, dtype=float) - baseline, score, baseline)

    fails_with(check_reinforce_gradient, wrong, phrase)


def test_a_score_without_minus_pi_is_diagnosed():
    def no_pi(theta, actions, rewards, baseline=0.0):
        return np.mean((rewards - baseline)[:, None] * np.eye(len(theta))[actions], axis=0)

    fails_with(check_reinforce_gradient, no_pi, "- π part of the score is missing")


def test_one_gradient_per_pull_is_told_to_average():
    def per_pull(theta, actions, rewards, baseline=0.0):
        probs = np.exp(theta - theta.max())
        probs /= probs.sum()
        return (rewards - baseline)[:, None] * (np.eye(len(theta))[actions] - probs)

    fails_with(check_reinforce_gradient, per_pull, "one gradient per pull")


def test_an_overflowing_softmax_is_diagnosed_quietly(recwarn):
    def naive(theta, actions, rewards, baseline=0.0):
        probs = np.exp(theta) / np.exp(theta).sum()
        return np.mean((rewards - baseline)[:, None] * (np.eye(len(theta))[actions] - probs),
                       axis=0)

    check_reinforce_gradient(naive)  # fine on the visible, moderate preferences
    fails_with(check_reinforce_gradient, naive, "Subtract the largest preference", seed=17,
               hidden=True)
    assert not [w for w in recwarn if issubclass(w.category, RuntimeWarning)]


def test_calling_the_librarys_policy_gradient_earns_nothing():
    from lrcourse.checks.cases import _bandit_episodes
    from lrcourse.rl import policy_gradient

    def delegate(theta, actions, rewards, baseline=0.0):
        episodes = _bandit_episodes(actions, rewards)
        return policy_gradient(np.asarray(theta)[None, :], episodes, baseline=baseline)[0]

    fails_with(check_reinforce_gradient, delegate, "calls lrcourse.rl.policy_gradient")


# ------------------------------------------------------------ the digits schedule


def test_the_digits_splits_are_disjoint_and_cover_all_1797_images():
    train, val, test = digits_splits()
    assert (len(train), len(val), len(test)) == (1078, 270, 449)
    rows = {row.tobytes() for part in (train, val, test) for row in part.X}
    assert len(rows) <= 1797 and len(train.X) + len(val.X) + len(test.X) == 1797


def test_a_digits_run_is_reproducible_from_its_seed():
    rates = np.full(32, 0.1)
    a, b = train_digits(rates, seed=3), train_digits(rates, seed=3)
    assert a.val_accuracy == b.val_accuracy and np.array_equal(a.loss, b.loss)
    assert train_digits(rates, seed=4).val_accuracy != a.val_accuracy or not np.array_equal(
        train_digits(rates, seed=4).loss, a.loss)


@pytest.mark.parametrize("hidden", [False, True])
def test_a_one_cycle_schedule_reaches_the_target_on_visible_and_hidden_seeds(hidden, capsys):
    check_digits_schedule(good_schedule, hidden=hidden)
    assert "reaches the target" in capsys.readouterr().out


def test_a_schedule_written_one_step_at_a_time_is_accepted(capsys):
    def scalar(t):
        return 0.3 if t < 100 else 0.03  # not vectorised: `if` on an array raises

    check_digits_schedule(scalar)
    assert "reaches the target" in capsys.readouterr().out


def test_a_timid_constant_rate_is_told_it_is_too_small():
    fails_with(check_digits_schedule, lambda t: 0.005 + 0 * np.asarray(t, float), "too small")


def test_a_bold_rate_without_warm_up_is_told_a_run_collapsed():
    fails_with(check_digits_schedule, lambda t: 0.5 + 0 * np.asarray(t, float), "collapsed",
               "warm up")


def test_a_decay_in_the_first_quarter_is_told_it_stops_progress():
    early = schedules.step_decay(0.1, step_size=16, gamma=0.1)
    fails_with(check_digits_schedule, early, "decaying that early")


@pytest.mark.parametrize(
    ("schedule", "phrase"),
    [
        (lambda t: np.full(5, 0.1), "one rate per step"),
        (lambda t: np.where(np.asarray(t) == 7, np.nan, 0.1), "digits_schedule(7)"),
        (lambda t: -0.1 + 0 * np.asarray(t, float), "finite number >= 0"),
        (lambda t: 50.0 + 0 * np.asarray(t, float), "far beyond"),
        (0.1, "must be a function of t"),
    ],
    ids=["length", "nan", "negative", "huge", "not-callable"],
)
def test_malformed_schedules_are_refused_before_any_training(schedule, phrase):
    fails_with(check_digits_schedule, schedule, phrase)


def test_an_unwritten_schedule_is_told_to_write_it():
    def stub(t):
        raise NotImplementedError()

    fails_with(check_digits_schedule, stub, "not written yet")


def test_the_digits_judge_needs_only_the_plain_rates_the_sandbox_sends():
    ex = DigitsSchedule()
    outputs = [decode(encode(o)) for o in collect(ex, good_schedule)]
    assert isinstance(outputs[0], np.ndarray) and outputs[0].shape == (8 * STEPS_PER_EPOCH,)
    assert verdicts(ex, outputs) == [None]


def test_the_docstring_examples_of_the_module_hold():
    import doctest

    import lrcourse.checks.cases as module

    result = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted >= 2 and result.failed == 0
