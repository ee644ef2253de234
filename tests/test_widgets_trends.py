"""Section 10's batched runs equal the library's one-at-a-time runs; its explorers are live."""

from __future__ import annotations

import warnings

import ipywidgets as widgets
import numpy as np
import pytest

from lrcourse.distributed import LARS, gradual_warmup, train_data_parallel
from lrcourse.nn import MLP
from lrcourse.optimizers import SGD, Adagrad, Adam, RMSprop
from lrcourse.problems import two_moons
from lrcourse.schedules import cosine_annealing, cyclical
from lrcourse.train import landscape_objective, supervised_objective, train
from lrcourse.widgets.trends import (
    RULES,
    LargeBatchExplorer,
    NetLoss,
    TechniqueExplorer,
    closing_problems,
    compare_techniques,
    large_batch_runs,
    moons_net,
    rate_factors,
    rate_shape,
    sharpness,
)

from .explorers import move_rate, rate_range


@pytest.fixture(autouse=True)
def no_warnings():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        yield


@pytest.fixture(scope="module")
def large_batch():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        return LargeBatchExplorer()


@pytest.fixture(scope="module")
def comparison():
    return compare_techniques()


@pytest.fixture(scope="module")
def techniques(comparison):
    return TechniqueExplorer(comparison, problem="MLP, two moons")


# ------------------------------------------------------------------- the batched network


@pytest.mark.parametrize("activation", ["relu", "tanh"])
def test_every_row_of_the_batched_network_is_the_library_mlp(activation):
    data = two_moons(n=40, noise=0.2, seed=2)
    sizes = [2, 6, 5, 3]
    net = NetLoss(sizes, data.X, data.y, seed=4, activation=activation,
                  init="xavier" if activation == "tanh" else "he")
    x = net.x0 + 0.3 * np.random.default_rng(0).standard_normal((2, 3, net.dim))
    loss, grad = net.loss_and_grad(x)
    assert loss.shape == (2, 3) and grad.shape == (2, 3, net.dim)
    mlp = MLP(sizes, activation=activation, seed=4)
    for i in range(2):
        for j in range(3):
            mlp.set_params(net.params(x[i, j]))
            value, grads = mlp.loss_and_grads(data.X, data.y)
            assert loss[i, j] == pytest.approx(value, rel=1e-13)
            np.testing.assert_allclose(grad[i, j], np.concatenate([g.ravel() for g in grads]),
                                       rtol=1e-11, atol=1e-14)


def test_the_minibatch_rows_give_the_gradient_of_those_rows():
    net = moons_net()
    idx = np.array([5, 17, 300])
    sub = NetLoss([2, 16, 2], net.X[idx], net.y[idx], seed=0)
    np.testing.assert_allclose(net.loss_and_grad(net.x0, idx)[1], sub.grad(sub.x0), rtol=1e-12)


def test_the_gauss_newton_product_is_jacobian_transpose_times_softmax_curvature_times_jacobian():
    data = two_moons(n=12, noise=0.2, seed=1)
    net = NetLoss([2, 4, 3], data.X, data.y, seed=1)
    x = net.x0 + 0.2

    def logits(p):
        W1, b1, W2, b2 = net.params(p)
        return np.maximum(net.X @ W1 + b1, 0) @ W2 + b2

    h = 1e-6
    J = np.stack([(logits(x + h * e) - logits(x - h * e)) / (2 * h) for e in np.eye(net.dim)],
                 axis=-1)
    z = logits(x)
    p = np.exp(z - z.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    G = sum(J[i].T @ (np.diag(p[i]) - np.outer(p[i], p[i])) @ J[i] for i in range(len(p)))
    G /= len(p)
    v = np.random.default_rng(0).standard_normal(net.dim)
    np.testing.assert_allclose(net.gauss_newton_product(x, v), G @ v, rtol=1e-6, atol=1e-9)
    assert sharpness(net, x, iterations=200) == pytest.approx(np.linalg.eigvalsh(G)[-1],
                                                              rel=1e-6)


def test_a_larger_start_is_a_sharper_start():
    he, sharp = moons_net(1.0), moons_net(3.0)
    assert sharpness(sharp, sharp.x0) > 3 * sharpness(he, he.x0)


# -------------------------------------------------------------- K workers at equal samples


def test_the_warm_up_factors_are_the_library_gradual_warm_up():
    factors = rate_factors("linear + warm-up", 8, 20, 5)
    np.testing.assert_allclose(factors, gradual_warmup(0.1, 0.8, 5)(np.arange(20)) / 0.1,
                               rtol=1e-14)
    assert np.all(rate_factors("linear", 8, 5, 2) == 8) and np.all(rate_factors("none", 8, 5, 2)
                                                                 == 1)


@pytest.mark.parametrize("rule", RULES)
@pytest.mark.parametrize("optimizer", ["SGD", "LARS"])
def test_each_batched_run_equals_the_library_data_parallel_training(rule, optimizer):
    net = moons_net(3.0)
    lrs = np.array([0.02, 0.3])
    runs = large_batch_runs(net, lrs, workers=(4,), samples=640, rules=(rule,),
                            optimizers=(optimizer,), seed=5)
    steps = runs.steps[4]
    data = two_moons(n=512, noise=0.15, seed=0)
    for i, lr in enumerate(lrs):
        mlp = MLP([2, 16, 2], seed=0, init=lambda fi, fo, rng: 3.0 * np.sqrt(2.0 / fi)
                  * rng.standard_normal((fi, fo)))
        opt = (LARS(mlp.params, lr=lr, momentum=0.0, trust_coefficient=runs.trust,
                    exclude_bias=True) if optimizer == "LARS" else "sgd")
        history = train_data_parallel(
            mlp, data, workers=4, per_worker_batch=8, steps=steps, base_lr=lr,
            lr_rule="none" if rule == "none" else "linear",
            warmup_steps=int(round(0.25 * steps)) if rule.endswith("warm-up") else 0,
            optimizer=opt, seed=5, warn=False)
        full, _ = mlp.loss_and_grads(data.X, data.y)
        assert not history.diverged
        assert runs.loss[4][0, 0, i, -1] == pytest.approx(full, rel=1e-9)


def test_runs_see_equal_samples_so_more_workers_get_fewer_updates():
    runs = large_batch_runs(moons_net(), [0.1], workers=(1, 4, 16), samples=512,
                            rules=("none",), optimizers=("SGD",))
    assert [runs.steps[k] for k in runs.workers] == [64, 16, 4]
    assert all(runs.seen[k][-1] == 512 for k in runs.workers)


# ------------------------------------------------------------------ the closing comparison


@pytest.mark.parametrize("technique", ["fixed", "schedule", "cyclical", "AdaGrad", "RMSprop",
                                       "Adam"])
def test_each_technique_column_is_a_library_training_run(comparison, technique):
    problem = next(p for p in comparison.problems if p.name == "Rosenbrock")
    j = comparison.techniques.index(technique)
    i = 10  # α = 1e-2
    lr = float(comparison.lrs[i])
    objective = landscape_objective(problem.landscape, problem.x0)
    make = {"AdaGrad": Adagrad, "RMSprop": RMSprop, "Adam": Adam}.get(technique, SGD)
    schedule = {"schedule": cosine_annealing(lr, T_max=problem.steps),
                "cyclical": cyclical(lr / 10, lr, step_size_up=problem.steps // 10)}
    history = train(objective, make(objective.params, lr=lr), problem.steps,
                    schedule=schedule.get(technique), warn=False)
    gap = comparison.gap["Rosenbrock"][j, i]
    n = len(history.loss)
    np.testing.assert_allclose(gap[:n], history.loss, rtol=1e-9, atol=1e-14)
    assert (comparison.diverged_at["Rosenbrock"][j, i] >= 0) == history.diverged


def test_the_mlp_column_equals_library_adam_on_the_network():
    problem = closing_problems()[-1]
    net = problem.landscape
    mlp = MLP([2, 8, 2], seed=0)
    objective = supervised_objective(mlp, net.X, net.y)
    history = train(objective, Adam(mlp.params, lr=0.01), 30, warn=False)
    c = compare_techniques([problem], [0.01], ("Adam",))
    np.testing.assert_allclose(c.gap[problem.name][0, 0, :31], history.loss, rtol=1e-9)


def test_the_rate_shapes_are_the_library_schedules_at_rate_one():
    t = np.arange(50)
    np.testing.assert_allclose(rate_shape("schedule", 50), cosine_annealing(1.0, 50)(t))
    np.testing.assert_allclose(rate_shape("cyclical", 50), cyclical(0.1, 1.0, 5)(t))
    assert np.all(rate_shape("Adam", 50) == 1.0)


def test_the_table_judges_each_technique_at_its_own_best_rate(comparison):
    for name, rows in comparison.table().items():
        final = comparison.final(name)
        for j, t in enumerate(comparison.techniques):
            assert rows[t]["gap"] == pytest.approx(final[j].min())
            assert rows[t]["width"] >= 0.2 - 1e-9


def test_the_band_counts_the_rates_within_ten_times_the_best():
    c = compare_techniques(closing_problems()[:1], np.geomspace(0.1, 1.0, 6), ("fixed",))
    name = c.problems[0].name
    final = c.final(name)[0]
    ok = np.flatnonzero(final <= 10 * final.min())
    assert c.width(name)[0] == pytest.approx(np.log10(c.lrs[ok[-1]] / c.lrs[ok[0]]) + 0.2)


# ------------------------------------------------------------------------------ explorers


@pytest.mark.parametrize("which", ["large_batch", "techniques"])
def test_the_first_control_is_a_log_scale_rate_slider(which, request):
    explorer = request.getfixturevalue(which)
    first = next(iter(explorer.controls.values()))
    assert isinstance(first, widgets.FloatLogSlider)


@pytest.mark.parametrize("which", ["large_batch", "techniques"])
def test_moving_the_rate_across_its_range_changes_readout_and_picture(which, request):
    explorer = request.getfixturevalue(which)
    readouts, pictures = move_rate(explorer, rate_range(explorer))
    assert len(readouts) >= 8 and len(pictures) >= 8


@pytest.mark.parametrize("which", ["large_batch", "techniques"])
def test_the_largest_rate_reports_divergence_with_its_step(which, request):
    explorer = request.getfixturevalue(which)
    explorer.controls["lr"].value = 10 ** explorer.controls["lr"].max
    assert "diverged at step" in explorer.readout_text()


def test_reset_restores_one_worker_at_its_best_rate(large_batch):
    large_batch.controls["workers"].value = 64
    large_batch.controls["lr"].value = 10.0
    large_batch.reset()
    assert large_batch.controls["workers"].value == 1
    assert large_batch.controls["lr"].value == pytest.approx(large_batch.best_small)
    assert "converges as well as one worker" in large_batch.readout_text()


def test_linear_scaling_of_one_workers_best_rate_falls_behind_at_sixteen_workers(large_batch):
    large_batch.reset()
    large_batch.controls["workers"].value = 16
    assert "too slow" in large_batch.readout_text()
    large_batch.controls["workers"].value = 4
    assert "converges as well as one worker" in large_batch.readout_text()


def test_the_workers_rule_and_lars_controls_change_the_picture(large_batch):
    large_batch.reset()
    pictures = {large_batch.png()}
    for name, value in (("workers", 16), ("rule", "linear + warm-up"), ("lars", True)):
        large_batch.controls[name].value = value
        pictures.add(large_batch.png())
    assert len(pictures) == 4


def test_reset_restores_adams_best_rate_on_the_problem_shown(techniques, comparison):
    techniques.controls["problem"].value = "Rosenbrock"
    techniques.controls["lr"].value = 1e-4
    techniques.reset()
    best = comparison.lrs[comparison.best("Rosenbrock")[comparison.techniques.index("Adam")]]
    assert techniques.controls["lr"].value == pytest.approx(best)
    assert "Adam" in techniques.readout_text()


def test_switching_the_problem_redraws_the_sweep(techniques):
    pictures = set()
    for name in ("quadratic, κ = 100", "Rosenbrock", "MLP, two moons"):
        techniques.controls["problem"].value = name
        pictures.add(techniques.png())
    assert len(pictures) == 3


def test_the_display_bundle_carries_a_static_picture_for_exporters(techniques):
    import base64

    bundle = techniques._repr_mimebundle_()
    assert base64.b64decode(bundle["image/png"]).startswith(b"\x89PNG")
