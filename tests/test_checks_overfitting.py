"""Section 07: the batched runs are the library's runs, every check passes the right answer,
names the planted mistakes, and the "fixed budget" task is judged by re-training."""

from __future__ import annotations

import math

import numpy as np
import pytest

from lrcourse.checks import (
    check_budget_setting,
    check_early_stopping_step,
    check_gap_report,
)
from lrcourse.checks.overfitting import (
    SIZES,
    moons_runs,
    moons_task,
    reference_early_stopping,
    schedule_rates,
)
from lrcourse.nn import MLP
from lrcourse.optimizers import SGD
from lrcourse.schedules import constant, cosine_annealing, step_decay
from lrcourse.train import EarlyStopping, History, supervised_objective, train

# ------------------------------------------------------- the runs are the library's


def library_run(seed, rates, weight_decay=0.0, steps=200, val_every=10):
    """One network trained by lrcourse.train.train, as moons_runs promises."""
    train_set, val_set = moons_task(seed)
    net = MLP(SIZES, seed=seed)
    objective = supervised_objective(net, train_set.X, train_set.y, batch_size=8,
                                     X_val=val_set.X, y_val=val_set.y)
    history = train(objective, SGD(net.params, lr=float(rates[0]), weight_decay=weight_decay),
                    steps=steps, schedule=lambda t: rates[t], val_every=val_every,
                    seed=1000 + seed, warn=False)
    return history, net


@pytest.mark.parametrize(
    ("setting", "seed"),
    [({"lr": 0.3}, 0), ({"lr": 0.1, "schedule": "cosine", "weight_decay": 1e-2}, 3),
     ({"lr": 0.5, "schedule": "step"}, 1)],
)
def test_a_batched_run_equals_the_library_training_loop_number_for_number(setting, seed):
    runs = moons_runs([setting, {"lr": 0.01}], [seed, seed + 1], steps=200)
    rates = schedule_rates(setting["lr"], setting.get("schedule", "constant"), 200)
    history, net = library_run(seed, rates, setting.get("weight_decay", 0.0))
    np.testing.assert_array_equal(runs.loss[0, 0], history.loss)
    np.testing.assert_array_equal(runs.val_loss[0, 0], history.val_loss)
    np.testing.assert_array_equal(runs.val_steps, history.val_steps)
    flat = np.concatenate([p[0].ravel() for p in runs.params])  # run 0 = setting 0, seed 0
    np.testing.assert_array_equal(flat, np.concatenate([p.ravel() for p in net.params]))


def test_runs_summaries_agree_with_their_definitions():
    runs = moons_runs([{"lr": 0.1}], [0, 1], steps=200)
    val, train_loss = runs.val_loss[0, 1], runs.train_loss[0, 1]
    i = int(np.argmin(val))
    assert runs.best_step[0, 1] == runs.val_steps[i]
    assert runs.best_val[0, 1] == val[i]
    assert runs.gap_at_best[0, 1] == pytest.approx(val[i] - train_loss[i])
    assert runs.final_gap[0, 1] == pytest.approx(val[-1] - train_loss[-1])


def test_seeds_change_the_data_and_settings_share_them():
    a, b = moons_task(0), moons_task(1)
    assert not np.array_equal(a[0].X, b[0].X)
    assert (len(a[0]), len(a[1])) == (40, 200)
    runs = moons_runs([{"lr": 0.05}, {"lr": 0.05}], [0, 1], steps=50)
    np.testing.assert_array_equal(runs.val_loss[0], runs.val_loss[1])  # deterministic
    assert not np.array_equal(runs.val_loss[0, 0], runs.val_loss[0, 1])


def test_schedule_rates_are_the_library_schedules():
    t = np.arange(1000)
    np.testing.assert_array_equal(schedule_rates(0.2, "constant"), constant(0.2)(t))
    np.testing.assert_array_equal(schedule_rates(0.2, "cosine"), cosine_annealing(0.2, 1000)(t))
    np.testing.assert_array_equal(schedule_rates(0.2, "step"), step_decay(0.2, 250, 0.1)(t))
    with pytest.raises(ValueError, match="schedule must be one of"):
        schedule_rates(0.2, "linear")


# ------------------------------------------------------------------ gap_report


def gap_report(steps, train_loss, val_loss):
    train_loss, val_loss = list(map(float, train_loss)), list(map(float, val_loss))
    best = min(range(len(val_loss)), key=lambda j: (val_loss[j], j))
    return {
        "best_step": int(steps[best]),
        "best_val": val_loss[best],
        "gap_at_best": val_loss[best] - train_loss[best],
        "final_gap": val_loss[-1] - train_loss[-1],
    }


def test_gap_report_passes_the_reference_on_visible_and_hidden_cases(capsys):
    check_gap_report(gap_report)
    check_gap_report(gap_report, seed=707, hidden=True)
    assert capsys.readouterr().out.count("\u2714") == 2


def _with(**change):
    def wrong(steps, train_loss, val_loss):
        report = gap_report(steps, train_loss, val_loss)
        t, v = np.asarray(train_loss, float), np.asarray(val_loss, float)
        i = int(np.argmin(v))
        for key, f in change.items():
            report[key] = f(np.asarray(steps), t, v, i)
        return report
    return wrong


@pytest.mark.parametrize(
    ("wrong", "diagnosis"),
    [
        (_with(gap_at_best=lambda s, t, v, i: t[i] - v[i],
               final_gap=lambda s, t, v, i: t[-1] - v[-1]), "opposite sign"),
        (_with(best_step=lambda s, t, v, i: i), "not a step"),
        (_with(best_step=lambda s, t, v, i: int(s[np.argmin(t)]),
               best_val=lambda s, t, v, i: v[np.argmin(t)],
               gap_at_best=lambda s, t, v, i: v[np.argmin(t)] - t[np.argmin(t)]),
         "VALIDATION loss is lowest"),
        (_with(best_val=lambda s, t, v, i: t[i]), "not the training loss"),
        (_with(final_gap=lambda s, t, v, i: v[i] - t[i]), "LAST measurement"),
        (_with(gap_at_best=lambda s, t, v, i: v[-1] - t[-1]), "measured at the best step"),
        (_with(best_val=lambda s, t, v, i: v[i] + 0.01), "these entries are not right: best_val"),
    ],
)
def test_gap_report_names_the_mistake(wrong, diagnosis):
    with pytest.raises(AssertionError, match=diagnosis):
        check_gap_report(wrong)


def test_gap_report_with_ties_must_keep_the_first_best_step():
    def last_tie(steps, train_loss, val_loss):
        v = np.asarray(val_loss, float)
        i = len(v) - 1 - int(np.argmin(v[::-1]))
        report = gap_report(steps, train_loss, val_loss)
        report["best_step"] = int(steps[i])
        report["gap_at_best"] = float(v[i] - float(train_loss[i]))
        return report

    check_gap_report(last_tie)  # the visible cases have no ties
    with pytest.raises(AssertionError, match="FIRST step"):
        check_gap_report(last_tie, seed=707, hidden=True)


@pytest.mark.parametrize(
    ("wrong", "diagnosis"),
    [
        (lambda s, t, v: None, "returned None"),
        (lambda s, t, v: [1, 2, 3, 4], "return a dict"),
        (lambda s, t, v: {"best_step": 0}, "missing"),
        (lambda s, t, v: {**gap_report(s, t, v), "best_train": 0.1}, "unexpected"),
        (lambda s, t, v: {**gap_report(s, t, v), "best_val": np.asarray(v)}, "one number"),
    ],
)
def test_gap_report_explains_the_shape_of_a_wrong_return_value(wrong, diagnosis):
    with pytest.raises(AssertionError, match=diagnosis):
        check_gap_report(wrong)


def test_hidden_gap_report_messages_do_not_reveal_inputs():
    with pytest.raises(AssertionError) as err:
        check_gap_report(lambda s, t, v: {**gap_report(s, t, v), "final_gap": 0.0}, seed=707,
                         hidden=True)
    assert "hidden test case" in str(err.value) and "expected:" not in str(err.value)


# ------------------------------------------------------------ early_stopping_step


def early_stopping_step(val_losses, patience, min_delta=0.0):
    best_value, best, waited = math.inf, None, 0
    for j, value in enumerate(val_losses):
        if value < best_value - min_delta:
            best_value, best, waited = value, j, 0
            continue
        waited += 1
        if waited == patience:
            return j, best
    return None, best


def test_the_exercise_rule_is_exactly_the_library_early_stopping(rng):
    for _ in range(300):
        n = int(rng.integers(1, 40))
        values = np.round(rng.uniform(0, 1, n), 1)  # coarse values: many ties
        if rng.random() < 0.2:
            values[rng.integers(0, n):] = np.nan
        patience = int(rng.integers(1, 6))
        delta = float(rng.choice([0.0, 0.05, 0.1]))
        assert early_stopping_step(values, patience, delta) == reference_early_stopping(
            values, patience, delta)


def test_reference_early_stopping_feeds_the_library_callback_its_own_way():
    stopper = EarlyStopping(patience=2, monitor="loss")
    h = History(loss=np.array([]), lr=np.array([]))
    fired = [stopper(t, v, h) for t, v in enumerate([3.0, 2.0, 2.5, 2.1])]
    assert fired == [False, False, False, True]
    assert reference_early_stopping([3.0, 2.0, 2.5, 2.1], 2) == (3, 1)


def test_early_stopping_step_passes_the_reference_on_visible_and_hidden_cases(capsys):
    check_early_stopping_step(early_stopping_step)
    check_early_stopping_step(early_stopping_step, seed=7, hidden=True)
    assert capsys.readouterr().out.count("\u2714") == 2


def _rule(extra=0, ties=False, use_delta=True, reset=True, peek=False, never=None):
    def wrong(val_losses, patience, min_delta=0.0):
        values = np.asarray(val_losses, dtype=float)
        best_value, best, bad = math.inf, None, 0
        for j, v in enumerate(values):
            margin = min_delta if use_delta else 0.0
            if (v <= best_value - margin) if ties else (v < best_value - margin):
                best_value, best = v, j
                if reset:
                    bad = 0
            else:
                bad += 1
            if bad >= patience + extra:
                return j, int(np.nanargmin(values)) if peek else best
        return never, best
    return wrong


@pytest.mark.parametrize(
    ("wrong", "diagnosis"),
    [
        (_rule(extra=1), "REACHES patience"),
        (_rule(extra=-1), "p-th bad evaluation"),
        (_rule(ties=True), "strictly"),
        (_rule(use_delta=False), "min_delta is ignored"),
        (_rule(reset=False), "restart at 0"),
        (_rule(peek=True), "cannot look at values that come after"),
        (_rule(never=-1), "must be None"),
    ],
)
def test_early_stopping_step_names_the_mistake(wrong, diagnosis):
    with pytest.raises(AssertionError, match=diagnosis):
        check_early_stopping_step(wrong)


def test_early_stopping_step_that_calls_the_library_callback_gets_nothing():
    def delegating(val_losses, patience, min_delta=0.0):
        stopper = EarlyStopping(patience=patience, min_delta=min_delta, monitor="loss")
        h = History(loss=np.array([]), lr=np.array([]))
        for j, v in enumerate(val_losses):
            if stopper(j, float(v), h):
                return j, stopper.best_step
        return None, stopper.best_step

    with pytest.raises(AssertionError, match=r"calls lrcourse\.train\.EarlyStopping\.__call__"):
        check_early_stopping_step(delegating)


@pytest.mark.parametrize(
    ("wrong", "diagnosis"),
    [
        (lambda v, p, d=0.0: 3, "return a pair"),
        (lambda v, p, d=0.0: (float(len(v) - 1), 0), "not a float"),
        (lambda v, p, d=0.0: (None, 0), "returned stop=None"),
    ],
)
def test_early_stopping_step_explains_the_shape_of_a_wrong_return_value(wrong, diagnosis):
    with pytest.raises(AssertionError, match=diagnosis):
        check_early_stopping_step(wrong)


def test_early_stopping_step_treats_a_nan_as_no_improvement():
    def nan_improves(val_losses, patience, min_delta=0.0):
        values = [(-math.inf if math.isnan(v) else v) for v in map(float, val_losses)]
        return early_stopping_step(values, patience, min_delta)

    check_early_stopping_step(nan_improves)  # no NaN among the visible cases
    with pytest.raises(AssertionError, match="diverged"):
        check_early_stopping_step(nan_improves, seed=7, hidden=True)


# ---------------------------------------------------------------- budget_setting


def test_a_good_budget_setting_passes_visible_and_hidden_seeds(capsys):
    check_budget_setting({"lr": 0.01, "schedule": "step"}, seeds=[0, 1, 2], target=0.42)
    check_budget_setting({"lr": 0.01, "schedule": "cosine"}, seeds=[3, 4, 5, 6, 7],
                         target=0.42, hidden=True)
    assert capsys.readouterr().out.count("\u2714") == 2


def test_a_large_constant_rate_fails_as_overfitting():
    with pytest.raises(AssertionError, match="too much learning after the best point"):
        check_budget_setting({"lr": 0.3, "schedule": "constant"}, seeds=[0, 1, 2], target=0.42)


def test_a_tiny_rate_fails_as_learning_too_little():
    with pytest.raises(AssertionError, match="still falling at the end"):
        check_budget_setting({"lr": 1e-4, "schedule": "constant"}, seeds=[0, 1, 2], target=0.42)


def test_a_rate_that_diverges_is_called_so():
    with pytest.raises(AssertionError, match="diverged at step"):
        check_budget_setting({"lr": 10.0, "schedule": "cosine"}, seeds=[0, 1, 2], target=0.42)


@pytest.mark.parametrize(
    ("value", "diagnosis"),
    [
        (None, "no answer yet"),
        (0.01, "must be a dict"),
        ({"lr": 0.01}, "exactly the keys"),
        ({"lr": 0.01, "schedule": "linear"}, "schedule must be one of"),
        ({"lr": -0.01, "schedule": "step"}, "positive number"),
        ({"lr": "0.01", "schedule": "step"}, "positive number"),
    ],
)
def test_a_malformed_budget_setting_gets_a_clear_message(value, diagnosis):
    with pytest.raises(AssertionError, match=diagnosis):
        check_budget_setting(value, seeds=[0, 1, 2], target=0.42)


def test_the_budget_judge_retrains_from_plain_data_alone():
    exercise = check_budget_setting.exercise
    case = exercise.cases(0, True, seeds=[3, 4, 5, 6, 7], target=0.42)[0]
    assert case.data == {"seeds": [3, 4, 5, 6, 7], "target": 0.42}
    assert exercise.judge(case, {"lr": 0.005, "schedule": "constant"}) is None
    assert "too much learning" in exercise.judge(case, {"lr": 0.2, "schedule": "constant"})


def test_the_budget_setting_reaches_the_grader_as_plain_data():
    exercise = check_budget_setting.exercise
    case = exercise.cases(0, False)[0]
    got = exercise.run({"lr": np.float64(0.01), "schedule": "step"}, case)
    assert got == {"lr": 0.01, "schedule": "step"} and type(got["lr"]) is float
