"""Section 05: every check passes the right answer, names the planted mistakes, catches
delegation to the library, and grades diagnoses on histories that are unmistakably of
their kind."""

from __future__ import annotations

import math
from dataclasses import astuple

import numpy as np
import pytest

from lrcourse.checks import (
    check_alpha_digits,
    check_diagnose,
    check_one_cycle_lr,
    check_steepest_lr,
)
from lrcourse.checks.practice import (
    DIAGNOSES,
    GALLERY,
    diagnose_history,
    digits_run,
    evidence,
    gallery_history,
    synthetic_history,
)
from lrcourse.train import History, suggest_steepest

# --------------------------------------------------------------- reference answers


def steepest_lr(lrs, smoothed):
    x, s = np.log(lrs), np.asarray(smoothed, dtype=float)
    slope = np.empty_like(s)
    slope[1:-1] = (s[2:] - s[:-2]) / (x[2:] - x[:-2])   # written out, not np.gradient
    slope[0] = (s[1] - s[0]) / (x[1] - x[0])
    slope[-1] = (s[-1] - s[-2]) / (x[-1] - x[-2])
    return float(lrs[int(np.argmin(slope))])


def one_cycle_lr(t, max_lr, total_steps, pct_start=0.3, div_factor=25.0, final_div_factor=1e4):
    t = np.asarray(t, dtype=float)
    start, warm = max_lr / div_factor, pct_start * total_steps - 1
    low = start / final_div_factor
    q_up = np.clip(t / warm, 0, 1)
    q_down = np.clip((t - warm) / (total_steps - 1 - warm), 0, 1)
    up = max_lr + (start - max_lr) * (1 + np.cos(np.pi * q_up)) / 2
    down = low + (max_lr - low) * (1 + np.cos(np.pi * q_down)) / 2
    return np.where(t <= warm, up, down)


def diagnose(history, skip=()):
    """The rule of the exercise, written out; ``skip`` leaves pieces of evidence out."""
    loss = np.asarray(history.loss, dtype=float)
    if history.diverged or not np.isfinite(loss).all() or loss[-1] > loss[0]:
        return "diverging"
    half = loss[len(loss) // 2:]
    spike = "spike" not in skip and loss[1:].max() > 1.1 * loss[0]
    if spike or np.median(np.abs(np.diff(np.log(half)))) > 0.1:
        return "too high"
    val = history.val_loss
    if "val" not in skip and val is not None and val[-1] > 1.2 * val.min():
        return "overfitting"
    if loss[-1] < 0.1 * loss[0]:
        return "fine"
    if loss[int(0.6 * (len(loss) - 1))] > 1.1 * loss[-1]:
        return "too low"
    return "plateau"


def failure(check, fn, **kwargs) -> str:
    with pytest.raises(AssertionError) as info:
        check(fn, **kwargs)
    return str(info.value)


# ------------------------------------------------------------------- steepest slope


@pytest.mark.parametrize("hidden, seed", [(False, 0), (True, 11), (True, 3)])
def test_the_written_out_steepest_rule_passes_visible_and_hidden_cases(hidden, seed):
    check_steepest_lr(steepest_lr, seed=seed, hidden=hidden)


def test_the_library_rule_is_what_the_exercise_text_describes():
    lrs = np.logspace(-5, 0, 6)
    assert steepest_lr(lrs, np.array([1.0, 0.97, 0.5, 0.45, 0.4, 2.0])) == 1e-3
    rng = np.random.default_rng(1)
    for _ in range(20):
        lrs, s = np.geomspace(1e-6, 10, 80), np.cumsum(rng.normal(size=80))
        assert steepest_lr(lrs, s) == suggest_steepest(lrs, s)


@pytest.mark.parametrize("wrong, words", [
    (lambda lrs, s: float(lrs[np.argmax(np.gradient(s, np.log(lrs)))]), "steepest RISE"),
    (lambda lrs, s: float(lrs[np.argmin(np.gradient(s, lrs))]), "against log(lr)"),
    (lambda lrs, s: float(lrs[np.argmin(s)]), "where the loss is lowest"),
    (lambda lrs, s: float(lrs[np.argmin(np.diff(s))]), "forward differences"),
    (lambda lrs, s: float(lrs[np.argmin(s)] / 10), "the values differ"),
])
def test_steepest_mistakes_get_their_diagnosis(wrong, words):
    assert words in failure(check_steepest_lr, wrong)


def test_ignoring_the_end_points_is_caught_by_the_hidden_edge_cases():
    def interior_only(lrs, s):
        x = np.log(lrs)
        return float(lrs[1 + np.argmin((s[2:] - s[:-2]) / (x[2:] - x[:-2]))])

    check_steepest_lr(interior_only)  # the visible curves are steepest inside
    message = failure(check_steepest_lr, interior_only, seed=11, hidden=True)
    assert "end points count too" in message and "steepest at one end" in message


def test_returning_the_index_is_named():
    message = failure(check_steepest_lr, lambda lrs, s: int(np.argmin(np.gradient(s))))
    assert "you returned an index" in message


def test_calling_the_library_rule_scores_zero():
    from lrcourse.train import suggest_steepest as library

    message = failure(check_steepest_lr, lambda lrs, s: library(lrs, s))
    assert "calls lrcourse.train.suggest_steepest" in message


# ------------------------------------------------------------------------ one cycle


@pytest.mark.parametrize("hidden, seed", [(False, 0), (True, 5), (True, 8)])
def test_the_written_out_one_cycle_passes_visible_and_hidden_cases(hidden, seed):
    check_one_cycle_lr(one_cycle_lr, seed=seed, hidden=hidden)


def _one_cycle_variant(warm_shift=0.0, end_shift=0.0, min_from_max=False, linear=False):
    def fn(t, max_lr, total_steps, pct_start=0.3, div_factor=25.0, final_div_factor=1e4):
        t = np.asarray(t, dtype=float)
        start = max_lr / div_factor
        low = (max_lr if min_from_max else start) / final_div_factor
        warm = pct_start * total_steps - 1 + warm_shift
        end = total_steps - 1 + end_shift

        def anneal(a, b, q):
            return a + (b - a) * q if linear else b + (a - b) * (1 + np.cos(np.pi * q)) / 2

        return np.where(t <= warm, anneal(start, max_lr, t / warm),
                        anneal(max_lr, low, (t - warm) / (end - warm)))
    return fn


@pytest.mark.parametrize("wrong, words", [
    (_one_cycle_variant(warm_shift=1.0), "warm-up is one step too long"),
    (_one_cycle_variant(end_shift=1.0), "ends one step too late"),
    (_one_cycle_variant(min_from_max=True), "you divided max_lr itself"),
    (_one_cycle_variant(linear=True), "half cosine"),
])
def test_one_cycle_mistakes_get_their_diagnosis(wrong, words):
    assert words in failure(check_one_cycle_lr, wrong)


def test_a_warm_up_rounded_to_a_whole_step_fails_where_it_ends_between_steps():
    def rounded(t, max_lr, total_steps, pct_start=0.3, **kw):
        return one_cycle_lr(t, max_lr, total_steps, pct_start=round(pct_start * total_steps)
                            / total_steps, **kw)

    check_one_cycle_lr(rounded)  # the visible warm-ups end on whole steps
    assert "do not round it" in failure(check_one_cycle_lr, rounded, seed=5, hidden=True)


def test_calling_the_library_schedule_scores_zero():
    from lrcourse.schedules import one_cycle

    def delegate(t, max_lr, total_steps, **kw):
        return one_cycle(max_lr, total_steps, **kw)(t)

    assert "calls lrcourse.schedules.one_cycle" in failure(check_one_cycle_lr, delegate)


# -------------------------------------------------------------------------- diagnose


def test_the_reference_rule_names_every_gallery_run_as_labelled():
    for kind in DIAGNOSES:
        assert diagnose_history(gallery_history(kind)) == kind
        assert diagnose(gallery_history(kind)) == kind


@pytest.mark.parametrize("kind", DIAGNOSES)
def test_synthetic_histories_are_of_their_kind_for_two_readings_of_the_evidence(kind):
    rng = np.random.default_rng(123)
    for _ in range(40):
        h = synthetic_history(kind, rng)
        assert diagnose_history(h) == kind == diagnose(h)
        assert len(h.lr) == len(h.loss) - 1 and len(h.val_loss) == len(h.val_steps)


def test_synthetic_histories_come_in_many_scales_and_lengths():
    rng = np.random.default_rng(7)
    hs = [synthetic_history("fine", rng) for _ in range(30)]
    starts = [h.loss[0] for h in hs]
    assert max(starts) / min(starts) > 50
    assert len({len(h.loss) for h in hs}) > 10


@pytest.mark.parametrize("hidden, seed", [(False, 0), (True, 2027), (True, 31), (True, 4)])
def test_a_written_out_diagnosis_passes_visible_and_hidden_cases(hidden, seed):
    check_diagnose(diagnose, seed=seed, hidden=hidden)


def test_a_wrong_label_is_told_the_evidence_it_missed():
    message = failure(check_diagnose, lambda h: diagnose(h, skip=("val",)))
    assert "but this run is 'overfitting'" in message
    assert "validation loss ended" in message and "times its minimum" in message


def test_a_diagnosis_that_ignores_spikes_is_told_about_the_spike():
    message = failure(check_diagnose, lambda h: diagnose(h, skip=("spike",)))
    assert "but this run is 'too high'" in message
    assert "shot up to" in message and "a step overshot" in message


def test_checking_the_labels_in_another_order_is_told_the_order():
    def overfitting_first(history):
        val = history.val_loss
        if val is not None and len(val) and np.isfinite(val).all() and val[-1] > 1.2 * val.min():
            return "overfitting"
        return diagnose(history)

    message = failure(check_diagnose, overfitting_first)
    assert "comes first in the order of the checks" in message


def test_a_label_outside_the_list_is_refused_with_the_list():
    message = failure(check_diagnose, lambda h: "learning rate too high")
    assert "is not one of the labels" in message and "'plateau'" in message


def test_hidden_cases_never_show_their_inputs():
    def always_fine(history):
        return "fine"

    message = failure(check_diagnose, always_fine, seed=2027, hidden=True)
    assert "a history you have not seen" in message
    assert "seed" not in message and "lr=" not in message


def test_calling_the_reference_diagnosis_scores_zero():
    from lrcourse.checks.practice import diagnose_history as reference

    assert "calls lrcourse.checks.practice.diagnose_history" in failure(
        check_diagnose, lambda h: reference(h))


def test_evidence_is_scale_free():
    h = gallery_history("plateau")
    scaled = History(loss=h.loss * 37.0, lr=h.lr, val_loss=h.val_loss * 37.0,
                     val_steps=h.val_steps)
    for a, b in zip(astuple(evidence(scaled)), astuple(evidence(h)), strict=True):
        assert a == pytest.approx(b, rel=1e-12)


def test_the_gallery_rates_are_the_notebooks():
    assert {k: v["lr"] for k, v in GALLERY.items()} == {
        "too low": 0.003, "plateau": 0.03, "fine": 0.4, "too high": 2.5, "diverging": 8.0,
        "overfitting": 0.1}


# -------------------------------------------------------------- a rate from a plot


@pytest.mark.parametrize("lr", [0.005, 0.01, 0.03, 0.05])
def test_rates_read_off_the_steep_part_of_the_curve_pass(lr):
    check_alpha_digits(lr)
    check_alpha_digits(lr, hidden=True)


def test_the_usual_first_guess_breaks_the_raw_pixel_network():
    message = failure(check_alpha_digits, 0.1)
    assert "broke down" in message or "unstable" in message
    assert "broke down" in failure(check_alpha_digits, 1.0)


def test_a_rate_on_the_flat_left_part_is_too_slow():
    message = failure(check_alpha_digits, 1e-3)
    assert "flat left part" in message and "move right" in message


@pytest.mark.parametrize("bad, words", [(-0.01, "positive"), ("0.01", "expected a number"),
                                        (math.nan, "positive"), (True, "expected a number")])
def test_answers_that_are_not_rates_are_refused(bad, words):
    assert words in failure(check_alpha_digits, bad)


def test_the_judge_is_the_library_training_loop():
    loss, diverged = digits_run(0.01, 0)
    assert not diverged and loss < 0.5
    loss_high, _ = digits_run(0.1, 0)
    assert loss_high > 0.5
