"""Section 05's explorer and the batched training it stands on: every run is the library's
training loop, the explorer is live, quiet and names what each rate does."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from lrcourse.checks.practice import DIAGNOSES, diagnose_history, moons
from lrcourse.nn import MLP
from lrcourse.optimizers import SGD
from lrcourse.schedules import one_cycle
from lrcourse.train import supervised_objective, train
from lrcourse.widgets.practice import RangeTestExplorer, sweep_mlp

pytestmark = pytest.mark.usefixtures("no_warnings")


@pytest.fixture(scope="module")
def explorer():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        return RangeTestExplorer(lr=0.3)


def library_run(lr, steps, momentum=0.0, weight_decay=0.0, batch_size=None, seed=0,
                schedule=None, momentum_schedule=None, sizes=(2, 8, 2)):
    tr, va = moons()
    net = MLP(list(sizes), seed=seed)
    obj = supervised_objective(net, tr.X, tr.y, batch_size=batch_size, X_val=va.X, y_val=va.y)
    opt = SGD(net.params, lr=lr, momentum=momentum, weight_decay=weight_decay)
    h = train(obj, opt, steps, schedule=schedule, momentum_schedule=momentum_schedule,
              val_every=5, seed=3, warn=False)
    return h, net


# ------------------------------------------------------------------------ sweep_mlp


def test_each_batched_run_equals_the_library_training_loop():
    tr, va = moons()
    lrs = [0.01, 0.3, 2.0, 500.0]
    runs = sweep_mlp([2, 8, 2], tr.X, tr.y, lrs, 40, momentum=0.5, weight_decay=1e-3,
                     X_val=va.X, y_val=va.y, val_every=5, batch_size=16, batch_seed=3)
    for i, lr in enumerate(lrs):
        h, net = library_run(lr, 40, momentum=0.5, weight_decay=1e-3, batch_size=16)
        mine = runs.history(i)
        assert mine.diverged == h.diverged and mine.diverged_at == h.diverged_at
        np.testing.assert_allclose(mine.loss, h.loss, rtol=1e-10)
        np.testing.assert_allclose(mine.val_loss, h.val_loss, rtol=1e-10)
        np.testing.assert_array_equal(mine.val_steps, h.val_steps)
        if not h.diverged:
            full = net.loss_and_grads(tr.X, tr.y)[0]
            assert runs.final_train_loss[i] == pytest.approx(full, rel=1e-10)
    assert runs.diverged_at[-1] >= 0 and np.isnan(runs.final_train_loss[-1])


def test_a_schedule_with_its_momentum_cycle_runs_as_in_the_library():
    tr, _ = moons()
    sched = one_cycle(1.0, 30)
    t = np.arange(30)
    runs = sweep_mlp([2, 8, 2], tr.X, tr.y, sched(t)[None, :], 30,
                     momentum=sched.momentum(t)[None, :])
    h, _ = library_run(sched(0), 30, momentum=0.9, schedule=sched,
                       momentum_schedule=sched.momentum)
    np.testing.assert_allclose(runs.loss[0], h.loss, rtol=1e-10)


def test_a_summed_loss_at_rate_a_is_the_mean_loss_at_rate_c_times_a():
    tr, _ = moons()
    summed = sweep_mlp([2, 8, 2], tr.X, tr.y, [1e-3, 4e-3], 50, loss_scale=150.0)
    mean = sweep_mlp([2, 8, 2], tr.X, tr.y, [0.15, 0.6], 50)
    np.testing.assert_allclose(summed.final_train_loss / 150.0, mean.final_train_loss,
                               rtol=1e-9)


def test_bad_shapes_and_values_are_refused():
    tr, _ = moons()
    with pytest.raises(ValueError, match="momentum"):
        sweep_mlp([2, 4, 2], tr.X, tr.y, [0.1, 0.2], 5, momentum=[0.1, 0.2, 0.3])
    with pytest.raises(ValueError, match="lr and weight_decay"):
        sweep_mlp([2, 4, 2], tr.X, tr.y, [-0.1], 5)


# ------------------------------------------------------------------------- explorer


def sweep_rate(explorer, values):
    slider = explorer.controls["lr"]
    readouts, pictures = [], set()
    for v in values:
        slider.value = float(v)
        readouts.append(explorer.readout_text())
        pictures.add(explorer.png())
    return readouts, pictures


def test_the_first_control_is_a_log_scale_rate_slider(explorer):
    first = next(iter(explorer.controls.values()))
    assert type(first).__name__ == "FloatLogSlider"
    assert first.min == pytest.approx(-3) and first.max == pytest.approx(1)


def test_moving_the_rate_over_its_range_changes_the_readout_and_the_picture(explorer):
    readouts, pictures = sweep_rate(explorer, np.logspace(-3, 1, 9))
    assert len(set(readouts)) == 9 and len(pictures) == 9


def test_the_readout_names_every_diagnosis_somewhere_on_the_slider(explorer):
    readouts, _ = sweep_rate(explorer, explorer.lrs)
    seen = {label for label in DIAGNOSES for text in readouts if text.startswith(label)}
    assert seen == set(DIAGNOSES)


def test_the_readout_is_the_reference_diagnosis_of_the_run_shown(explorer):
    for i in (0, 15, 27, 38):
        explorer.controls["lr"].value = float(explorer.lrs[i])
        label = diagnose_history(explorer.runs.history(i))
        assert explorer.readout_text().startswith(label)


def test_the_largest_rates_diverge_and_the_detector_step_is_shown(explorer):
    explorer.controls["lr"].value = 10.0
    assert explorer.readout_text().startswith("diverging")
    stopped = np.flatnonzero(explorer.runs.diverged_at >= 0)
    assert stopped.size
    explorer.controls["lr"].value = float(explorer.lrs[stopped[0]])
    assert f"diverged at step: {explorer.runs.diverged_at[stopped[0]]}" in explorer.readout_text()


def test_reset_restores_the_rate_with_the_lowest_final_validation_loss(explorer):
    explorer.controls["lr"].value = 5.0
    explorer.reset()
    best = explorer.controls["lr"].value
    final = np.where(explorer.runs.diverged_at < 0, explorer.runs.val_loss[:, -1], np.inf)
    assert best == pytest.approx(explorer.lrs[np.argmin(final)])
    assert explorer.readout_text().startswith("fine")


def test_the_range_test_behind_the_explorer_left_no_trace_and_marks_its_rules(explorer):
    assert set(explorer.test.suggestions) == {"steepest", "min_div_10", "valley"}
    assert explorer.test.stopped_early
