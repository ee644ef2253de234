"""Section 04's explorers: live, exact, quiet, and cheap to move."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from lrcourse.optimizers import adagrad_step, adam_step, rmsprop_step, sgd_step
from lrcourse.problems import Parabola, Quadratic, Rosenbrock
from lrcourse.sweeps import sweep
from lrcourse.widgets.adaptive import (
    MomentumExplorer,
    RaceExplorer,
    SparseFeaturesExplorer,
    heavy_ball_edge,
    heavy_ball_optimum,
    race,
    run_rule,
    sparse_problem,
)

from .explorers import move_rate, rate_range

pytestmark = pytest.mark.usefixtures("no_warnings")


@pytest.fixture(scope="module")
def explorers():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        return {"momentum": MomentumExplorer(), "sparse": SparseFeaturesExplorer(),
                "race": RaceExplorer()}


# ----------------------------------------------------------------------------- the maths


@pytest.mark.parametrize(("rule", "hyper"), [
    (adam_step, {"betas": (0.8, 0.99)}),
    (adagrad_step, {}),
    (rmsprop_step, {}),
    (sgd_step, {"momentum": 0.9, "nesterov": True}),
])
def test_batched_runs_equal_the_library_rule_stepped_one_rate_at_a_time(rule, hyper):
    landscape = Rosenbrock()
    lrs, starts = np.array([1e-3, 0.03, 0.3]), np.array([[-1.2, 1.0], [0.5, -0.5]])
    runs = run_rule(rule, landscape, lrs, starts, 40, **hyper)
    for s, start in enumerate(starts):
        for a, lr in enumerate(lrs):
            theta, state = start.copy(), None
            for k in range(40):
                if runs.diverged_at[s, a] == k:
                    break
                np.testing.assert_allclose(runs.path[s, a, k], theta, rtol=1e-9, atol=1e-12)
                theta, state = rule(theta, landscape.grad(theta), state, lr=lr, **hyper)


def test_a_run_that_explodes_is_frozen_and_marked_without_warnings():
    runs = run_rule(adagrad_step, Rosenbrock(), [1e-2, 50.0], [[-1.2, 1.0]], 20)
    assert runs.diverged_at[0, 0] == -1 and runs.diverged_at[0, 1] >= 1
    assert np.isnan(runs.loss[0, 1, -1]) and np.isfinite(runs.loss[0, 0]).all()


def test_adagrad_records_its_sum_of_squared_gradients():
    runs = run_rule(adagrad_step, Parabola(2.0), [0.1], [[1.0]], 3, record="sum")
    g = [2 * runs.path[0, 0, k, 0] for k in range(3)]
    np.testing.assert_allclose(runs.recorded[:, 0, 0, 0], np.cumsum(np.square(g)))


def test_the_race_runs_momentum_by_the_sweep_and_every_start_separately():
    landscape = Quadratic.from_condition(10.0)
    starts = np.array([[1.0, 1.0], [-2.0, 0.5]])
    result = race("q", landscape, starts, np.array([0.1, 0.5]), (0.0, 0.9), steps=30)
    alone = sweep(landscape, [0.5], 30, x0=starts[1], momentum=0.9)
    np.testing.assert_allclose(result.loss["momentum"][1, 1, 1], alone.loss[0])
    np.testing.assert_allclose(result.loss["GD"][1, 1, 0], result.loss["momentum"][1, 1, 0])
    assert result.loss["AdaGrad"].shape == (2, 2, 1, 31)
    assert result.loss["Adam"].shape == (2, 2, 2, 31)


@pytest.mark.parametrize("nesterov", [False, True])
@pytest.mark.parametrize("beta", [0.0, 0.5, 0.9])
def test_the_stability_edge_separates_converging_from_diverging_runs(beta, nesterov):
    edge = float(heavy_ball_edge(beta, lam_max=1.0, nesterov=nesterov))
    runs = sweep(Parabola(1.0), [0.97 * edge, 1.03 * edge], 3000, x0=1.0, momentum=beta,
                 nesterov=nesterov)
    assert runs.diverged_at[0] == -1 and runs.loss[0, -1] < 1e-6
    assert runs.diverged_at[1] >= 0


def test_polyaks_optimum_spirals_in_at_the_predicted_rate():
    q = Quadratic.from_condition(50.0)
    alpha, beta = heavy_ball_optimum(q.lam_min, q.lam_max)
    runs = sweep(q, [alpha], 300, momentum=beta)
    rate = (np.sqrt(50.0) - 1) / (np.sqrt(50.0) + 1)
    per_step = (runs.loss[0, 300] / runs.loss[0, 200]) ** (1 / 100)  # loss ~ rate^(2k)
    assert per_step == pytest.approx(rate**2, rel=0.05)


def test_the_sparse_problems_rare_weights_have_tiny_gradients_and_a_true_minimum():
    loss, w_star, loss_star = sparse_problem()
    g = np.abs(loss.grad(np.zeros(loss.dim)))
    assert g[10:].mean() < g[:10].mean() / 5
    assert np.abs(loss.grad(w_star)).max() < 1e-10
    assert loss_star < loss.loss(np.zeros(loss.dim))


# -------------------------------------------------------------------------- the explorers


@pytest.mark.parametrize("name", ["momentum", "sparse", "race"])
def test_moving_the_rate_across_its_range_changes_readout_and_picture(explorers, name):
    explorer = explorers[name]
    if name == "race":
        explorer.controls["own_best"].value = False
    readouts, pictures = move_rate(explorer, rate_range(explorer))
    assert len(readouts) >= 8 and len(pictures) >= 8


@pytest.mark.parametrize("name", ["momentum", "race"])
def test_the_largest_rate_reports_divergence_with_its_step(explorers, name):
    explorer = explorers[name]
    if name == "race":
        explorer.controls["own_best"].value = False
    explorer.controls["lr"].value = 10 ** explorer.controls["lr"].max
    assert "diverged at step" in explorer.readout_text()


def test_adagrad_cannot_diverge_in_the_sparse_explorer_but_its_largest_rate_is_poor(explorers):
    explorer = explorers["sparse"]
    explorer.controls["lr"].value = 10 ** explorer.controls["lr"].max
    assert "diverged" not in explorer.readout_text()
    assert "converges" not in explorer.readout_text()


@pytest.mark.parametrize("name", ["momentum", "sparse", "race"])
def test_reset_restores_the_best_controls(explorers, name):
    explorer = explorers[name]
    explorer.controls["lr"].value = 10 ** explorer.controls["lr"].min
    explorer.reset()
    for control, value in explorer.best.items():
        assert explorer.controls[control].value == pytest.approx(value)


def test_momentum_best_setting_is_many_times_faster_than_gradient_descent(explorers):
    explorer = explorers["momentum"]
    explorer.reset()
    steps_to = explorer.steps_to[False]
    i = int(np.argmin(np.abs(np.log(explorer.lrs / explorer.best["lr"]))))
    j = int(np.argmin(np.abs(explorer.betas - explorer.best["beta"])))
    gd = steps_to[:, 0][steps_to[:, 0] >= 0]
    assert 0 < steps_to[i, j] < gd.min() / 4
    assert "converges" in explorer.readout_text() or "oscillates" in explorer.readout_text()


def test_nesterov_switches_the_map_without_a_full_redraw(explorers, monkeypatch):
    explorer = explorers["momentum"]
    draws = []
    monkeypatch.setattr(explorer.canvas, "draw", lambda: draws.append(1))
    for flag in (True, False, True):
        explorer.controls["nesterov"].value = flag
        assert "stable up to α" in explorer.readout_text()
    assert not draws  # both maps' backgrounds were drawn once, when the explorer was built
    explorer.controls["nesterov"].value = False


def test_switching_landscapes_and_starts_in_the_race_needs_no_full_redraw(explorers, monkeypatch):
    explorer = explorers["race"]
    draws = []
    monkeypatch.setattr(explorer.canvas, "draw", lambda: draws.append(1))
    texts = set()
    for problem in explorer.results:
        explorer.controls["problem"].value = problem
        for start in range(4):
            explorer.controls["start"].value = start
            texts.add(explorer.readout_text())
    assert not draws and len(texts) == 16


def test_own_best_rates_give_every_method_a_finite_loss_and_adam_wins_on_beale(explorers):
    explorer = explorers["race"]
    explorer.controls["problem"].value = "Beale"
    explorer.controls["beta"].value = 0.9
    explorer.controls["own_best"].value = True
    text = explorer.readout_text()
    assert "diverged" not in text and "lowest final loss: Adam" in text
    result = explorer.results["Beale"]
    assert result.lrs[result.best("Adam", 2)] > 100 * 1e-3  # far above Adam's default


def test_adams_default_rate_is_slow_in_the_race(explorers):
    explorer = explorers["race"]
    explorer.controls["problem"].value = "Rosenbrock"
    explorer.controls["own_best"].value = False
    explorer.controls["lr"].value = 1e-3
    result = explorer.results["Rosenbrock"]
    default = int(np.argmin(np.abs(result.lrs - 1e-3)))
    best = result.best("Adam", 2)
    assert result.score("Adam", 2)[default] > result.score("Adam", 2)[best] + 2  # 100x worse


def test_adagrad_gives_rare_features_larger_rates_and_beats_gradient_descent(explorers):
    explorer = explorers["sparse"]
    explorer.reset()
    best = explorer.best_index
    rates = explorer.rates[-1, best]
    assert np.median(rates[10:]) > 5 * np.median(rates[:10])
    assert explorer.gap[best, -1] < 1e-3 * explorer.gd_gap[-1]
    assert "converges" in explorer.readout_text()


def test_the_display_bundle_carries_a_static_picture(explorers):
    import base64

    bundle = explorers["race"]._repr_mimebundle_()
    assert base64.b64decode(bundle["image/png"]).startswith(b"\x89PNG")
