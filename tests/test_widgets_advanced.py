"""Section 08's explorers and helpers: live, exact, quiet at extreme rates."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from lrcourse.tuning import bayes_search
from lrcourse.widgets.advanced import (
    BayesSearchExplorer,
    HypergradientExplorer,
    QuadraticLoss,
    RateObjective,
    hypergradient_sweep,
    regression_split,
)

from .explorers import move_rate, rate_range

EXPLORERS = [HypergradientExplorer, BayesSearchExplorer]


pytestmark = pytest.mark.usefixtures("no_warnings")


@pytest.fixture(scope="module")
def built():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        return {cls: cls() for cls in EXPLORERS}


@pytest.mark.parametrize("cls", EXPLORERS)
def test_moving_the_rate_across_its_range_changes_readout_and_picture(built, cls):
    explorer = built[cls]
    readouts, pictures = move_rate(explorer, rate_range(explorer))
    assert len(readouts) >= 10 and len(pictures) >= 10


@pytest.mark.parametrize("cls", EXPLORERS)
def test_the_largest_rate_reports_divergence_with_its_step(built, cls):
    explorer = built[cls]
    slider = explorer.controls["lr"]
    slider.value = 10**slider.max
    text = explorer.readout_text()
    assert "diverges" in text and "diverged at step" in text


@pytest.mark.parametrize("cls", EXPLORERS)
def test_reset_restores_the_best_values(built, cls):
    explorer = built[cls]
    for name, control in explorer.controls.items():
        control.value = control.min if name != "lr" else 10**control.min
    explorer.reset()
    for name, value in explorer.best.items():
        assert explorer.controls[name].value == pytest.approx(value)


def test_the_bayes_iteration_slider_steps_through_the_trace(built):
    explorer = built[BayesSearchExplorer]
    explorer.controls["lr"].value = 0.01
    seen = []
    for k in range(1, len(explorer.trace) + 1):
        explorer.controls["iteration"].value = k
        seen.append(explorer.readout_text())
        step = explorer.trace[k - 1]
        assert f"GP fitted to {step.trial} trials" in seen[-1]
        assert f"next trial: α = {step.next_params['lr']:.3g}" in seen[-1]
    assert len(set(seen)) == len(explorer.trace)


def test_the_probe_reads_the_gp_and_the_true_objective_at_its_rate(built):
    explorer = built[BayesSearchExplorer]
    explorer.controls["iteration"].value = 3
    explorer.controls["lr"].value = 0.05
    i = int(np.argmin(np.abs(np.log(explorer.grid / 0.05))))
    step = explorer.trace[2]
    text = explorer.readout_text()
    assert f"GP: {step.mean[i]:.3f} ± {step.std[i]:.3f}" in text
    assert f"true f: {explorer.true[i]:.3f}" in text


def test_the_probe_slider_positions_are_exactly_the_trace_grid(built):
    explorer = built[BayesSearchExplorer]
    assert np.allclose(explorer.lrs, explorer.grid, rtol=1e-12)


def test_the_bayes_explorer_replays_a_given_search_without_running_one():
    objective = RateObjective()
    result = bayes_search(objective, objective.space, n=7, seed=3)
    explorer = BayesSearchExplorer(objective, result)
    assert explorer.trace is result.trace and len(explorer.trace) == 3


def test_a_search_without_a_trace_is_refused():
    objective = RateObjective()
    result = bayes_search(objective, objective.space, n=4, seed=0)
    with pytest.raises(ValueError, match="trace"):
        BayesSearchExplorer(objective, result)


def test_the_rate_objective_is_the_log_validation_loss_of_sgd_and_nan_when_it_diverges():
    f = RateObjective()
    assert np.isnan(f({"lr": 1.0}))
    # the same run by hand: the library's sweep_sgd draws one batch sequence for all rates
    rng = np.random.default_rng(f.seed)
    batches = [rng.choice(200, size=2, replace=False) for _ in range(f.steps)]
    w = np.zeros(10)
    for idx in batches:
        w = w - 0.05 * f.train_loss.minibatch_grad(w, idx)
    assert f({"lr": 0.05}) == pytest.approx(np.log10(f.val_loss.loss(w)), rel=1e-10)


def test_the_rate_objective_runs_are_those_of_the_library_sweep():
    from lrcourse.sweeps import sweep_sgd

    f = RateObjective()
    lrs = np.geomspace(1e-4, 1.0, 41)
    values, diverged_at = f.curve(lrs)
    run = sweep_sgd(f.train_loss, lrs, f.steps, f.batch_size, seed=f.seed, record_path=True)
    want = np.log10(f.val_loss.loss(run.path[:, -1]))
    assert np.array_equal(diverged_at, run.diverged_at)
    assert (diverged_at >= 0).any() and (diverged_at < 0).any()
    ok = diverged_at < 0
    assert np.allclose(values[ok], want[ok], rtol=1e-12)
    assert np.all(np.isnan(values[~ok]))


def test_the_rate_objective_curve_matches_single_evaluations():
    f = RateObjective()
    lrs = np.array([1e-3, 0.02, 0.3, 0.9])
    values, diverged_at = f.curve(lrs)
    singles = [f({"lr": float(a)}) for a in lrs]
    assert np.allclose(values, singles, equal_nan=True)
    assert (diverged_at >= 0).tolist() == [bool(np.isnan(v)) for v in singles]


def test_the_quadratic_form_equals_the_linear_regression_loss():
    train, _ = regression_split()
    q = QuadraticLoss(train)
    w = np.random.default_rng(0).normal(size=(5, 3, 10))
    assert np.allclose(q.loss(w), train.loss(w), rtol=1e-12)
    assert np.allclose(q.grad(w), train.grad(w), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize(("lr0", "beta"), [(1e-3, 0.03), (0.8, 1e-3), (0.3, 0.0), (2.0, 0.1)])
def test_the_vectorised_hypergradient_run_equals_train_hypergradient(lr0, beta):
    from lrcourse.train import landscape_objective
    from lrcourse.tuning import train_hypergradient

    train, _ = regression_split()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        h = train_hypergradient(landscape_objective(train, np.zeros(10)), lr0, beta, 60)
    runs = hypergradient_sweep(train, np.array([lr0, 1e-4]), np.array([beta, beta]), 60)
    n = len(h.loss)
    assert np.allclose(runs["loss"][0, :n], h.loss, rtol=1e-9)
    assert np.allclose(runs["lr"][0, : len(h.lr)], h.lr, rtol=1e-9)
    assert runs["diverged_at"][0] == (-1 if h.diverged_at is None else h.diverged_at)
    assert np.all(np.isnan(runs["loss"][0, n:]))


def test_hypergradient_recovers_from_a_rate_a_thousand_times_too_small():
    explorer = HypergradientExplorer()
    explorer.controls["lr"].value = 1e-3
    explorer.controls["hyper_lr"].value = 0.01
    i = int(np.argmin(np.abs(np.log(explorer.lrs / 1e-3))))
    j = int(np.argmin(np.abs(np.log(explorer.betas / 0.01))))
    learned = explorer.runs["lr"][i, j, -1]
    assert 0.2 < learned < explorer.limit
    assert explorer.final[i, j] < explorer.fixed.final_loss[i] - explorer.floor


def test_the_display_bundle_carries_a_static_picture_for_exporters(built):
    import base64

    bundle = built[BayesSearchExplorer]._repr_mimebundle_()
    assert base64.b64decode(bundle["image/png"]).startswith(b"\x89PNG")
