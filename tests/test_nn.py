"""Facts about lrcourse.nn: exact backpropagation, stable losses, initialisation variances."""

from __future__ import annotations

import doctest
import functools
import warnings

import numpy as np
import pytest

import lrcourse.nn
from lrcourse.nn import MLP, he_init, mse, naive_init, softmax_cross_entropy, xavier_init

from .gradcheck import finite_difference_grads


def _data(n: int = 6, d: int = 3, outputs: int = 4, loss: str = "cross_entropy", seed: int = 0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    if loss == "cross_entropy":
        return X, rng.integers(0, outputs, size=n)
    return X, rng.standard_normal((n, outputs))


def _assert_close(actual: np.ndarray, expected: np.ndarray, rtol: float = 1e-6) -> None:
    scale = max(1e-3, float(np.max(np.abs(expected))))
    np.testing.assert_allclose(actual, expected, rtol=rtol, atol=rtol * scale)


# --- backpropagation ------------------------------------------------------------------


@pytest.mark.parametrize("activation", ["relu", "tanh"])
@pytest.mark.parametrize("loss", ["cross_entropy", "mse"])
@pytest.mark.parametrize("init", ["he", "xavier"])
def test_backprop_gradients_equal_central_differences(activation, loss, init):
    net = MLP([3, 5, 4, 4], activation=activation, init=init, seed=1)
    for p in net.params[1::2]:
        p += np.random.default_rng(2).normal(0, 0.1, p.shape)  # non-zero biases too
    X, y = _data(loss=loss)
    value, grads = net.loss_and_grads(X, y, loss=loss)
    numeric = finite_difference_grads(lambda: net.loss_and_grads(X, y, loss=loss)[0], net.params)
    assert [g.shape for g in grads] == [p.shape for p in net.params]
    for g, n in zip(grads, numeric, strict=True):
        _assert_close(g, n)
    assert value == net.loss_and_grads(X, y, loss=loss)[0]  # the checks left params as they were


def test_mse_with_one_output_accepts_flat_targets():
    net = MLP([2, 3, 1], activation="tanh", seed=0)
    X, y = _data(d=2, outputs=1, loss="mse")
    flat_value, flat_grads = net.loss_and_grads(X, y[:, 0], loss="mse")
    value, grads = net.loss_and_grads(X, y, loss="mse")
    assert flat_value == value
    for a, b in zip(flat_grads, grads, strict=True):
        np.testing.assert_array_equal(a, b)


def _loss_from_layer(net: MLP, h: np.ndarray, layer: int, y: np.ndarray) -> float:
    """The loss when layer ``layer``'s output is replaced by h (the rest run as usual)."""
    for later in range(layer + 1, net.num_layers):
        h = h @ net.params[2 * later] + net.params[2 * later + 1]
        if later < net.num_layers - 1:
            h = np.maximum(h, 0) if net.activation == "relu" else np.tanh(h)
    return softmax_cross_entropy(h, y)[0]


@pytest.mark.parametrize("activation", ["relu", "tanh"])
def test_activations_are_the_layer_outputs_and_activation_grads_their_loss_gradients(activation):
    net = MLP([3, 6, 5, 4], activation=activation, seed=2)
    X, y = _data()
    out = net.forward(X)
    assert [a.shape for a in net.activations] == [(6, 6), (6, 5), (6, 4)]
    np.testing.assert_array_equal(net.activations[-1], out)
    net.loss_and_grads(X, y)
    for layer, (h, g) in enumerate(zip(net.activations, net.activation_grads, strict=True)):
        h = h.copy()
        numeric = finite_difference_grads(
            lambda h=h, layer=layer: _loss_from_layer(net, h, layer, y), [h]
        )
        _assert_close(g, numeric[0])


def test_hidden_activations_are_relu_or_tanh_outputs_and_the_output_layer_is_linear():
    X, _ = _data(n=50)
    relu = MLP([3, 8, 8, 2], activation="relu", seed=0)
    relu.forward(X)
    assert all(np.all(h >= 0) for h in relu.activations[:-1])
    assert np.any(relu.activations[-1] < 0)
    tanh = MLP([3, 8, 2], activation="tanh", seed=0)
    tanh.forward(X)
    W, b = tanh.params[0], tanh.params[1]
    np.testing.assert_allclose(tanh.activations[0], np.tanh(X @ W + b), rtol=1e-15)


def test_optimizer_steps_on_params_change_the_model_in_place_and_lower_the_loss():
    X, _ = _data(n=40, d=3, outputs=3)
    y = np.argmax(X @ np.array([[1.0, -1.0, 0.0], [0.0, 1.0, -1.0], [1.0, 0.0, 1.0]]), axis=1)
    net = MLP([3, 16, 3], seed=0)
    first, _ = net.loss_and_grads(X, y)
    for _ in range(50):
        _, grads = net.loss_and_grads(X, y)
        for p, g in zip(net.params, grads, strict=True):
            p -= 0.5 * g
    assert net.loss_and_grads(X, y)[0] < 0.5 * first


# --- losses ---------------------------------------------------------------------------


def test_cross_entropy_is_minus_mean_log_softmax_and_its_gradient_is_p_minus_onehot():
    logits = np.array([[1.0, 2.0, 0.5], [0.0, -1.0, 3.0]])
    y = np.array([1, 0])
    loss, grad = softmax_cross_entropy(logits, y)
    p = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    assert loss == pytest.approx(-np.mean(np.log(p[[0, 1], y])), rel=1e-14)
    np.testing.assert_allclose(grad, (p - np.eye(3)[y]) / 2, rtol=1e-14)
    numeric = finite_difference_grads(lambda: softmax_cross_entropy(logits, y)[0], [logits])
    _assert_close(grad, numeric[0])


def test_cross_entropy_of_equal_logits_is_log_of_the_class_count():
    assert softmax_cross_entropy(np.zeros((3, 10)), np.array([0, 4, 9]))[0] == pytest.approx(
        np.log(10)
    )


def test_cross_entropy_does_not_change_when_a_constant_is_added_to_a_row():
    logits = np.array([[1.0, 2.0, 0.5]])
    a = softmax_cross_entropy(logits, np.array([2]))
    b = softmax_cross_entropy(logits + 700.0, np.array([2]))
    assert a[0] == pytest.approx(b[0], rel=1e-13)
    np.testing.assert_allclose(a[1], b[1], rtol=1e-12)


@pytest.mark.parametrize("scale", [1e3, 1e5, 1e300])
def test_cross_entropy_of_huge_logits_is_finite_and_exact_without_warnings(scale):
    logits = scale * np.array([[1.0, -1.0], [1.0, -1.0]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        loss, grad = softmax_cross_entropy(logits, np.array([0, 1]))
    assert loss == pytest.approx(scale)  # right with certainty, then wrong by 2·scale: mean
    np.testing.assert_allclose(grad, [[0.0, 0.0], [0.5, -0.5]], atol=1e-300)


def test_mlp_with_huge_weights_gives_a_finite_loss_without_warnings():
    net = MLP([3, 8, 4], seed=0)
    for W in net.params[::2]:
        W *= 1e4
    X, y = _data()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        loss, grads = net.loss_and_grads(X, y)
    assert np.isfinite(loss) and loss > 1e3
    assert all(np.all(np.isfinite(g)) for g in grads)


def test_mse_is_the_mean_over_all_entries_like_torch():
    pred = np.array([[1.0, 2.0], [0.0, -1.0]])
    target = np.array([[0.0, 2.0], [2.0, 1.0]])
    loss, grad = mse(pred, target)
    assert loss == (1 + 0 + 4 + 4) / 4
    np.testing.assert_array_equal(grad, 2 * (pred - target) / 4)
    numeric = finite_difference_grads(lambda: mse(pred, target)[0], [pred])
    _assert_close(grad, numeric[0])


# --- initialisation -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("init", "variance"),
    [
        (xavier_init, 2.0 / (400 + 1600)),
        (he_init, 2.0 / 400),
        (naive_init, 1.0),
        (functools.partial(naive_init, scale=0.01), 1e-4),
    ],
    ids=["xavier", "he", "naive", "naive_0.01"],
)
def test_init_sample_variance_matches_the_formula_within_sampling_error(init, variance):
    W = init(400, 1600, np.random.default_rng(0))
    assert W.shape == (400, 1600)
    n = W.size
    assert abs(W.var() / variance - 1) < 5 * np.sqrt(2 / n)  # 5 standard errors of a variance
    assert abs(W.mean()) < 5 * np.sqrt(variance / n)


def test_init_is_deterministic_given_the_generator_seed():
    a = he_init(10, 20, np.random.default_rng(5))
    b = he_init(10, 20, np.random.default_rng(5))
    c = he_init(10, 20, np.random.default_rng(6))
    assert np.array_equal(a, b) and not np.array_equal(a, c)


def _hidden_stds(init: str, activation: str, depth: int = 10, width: int = 256) -> np.ndarray:
    net = MLP([width] * (depth + 1) + [10], activation=activation, init=init, seed=0)
    net.forward(np.random.default_rng(1).standard_normal((200, width)))
    return np.array([h.std() for h in net.activations[:-1]])


def test_he_init_keeps_relu_activations_at_one_scale_through_ten_layers():
    stds = _hidden_stds("he", "relu")
    assert 0.5 < stds[-1] / stds[0] < 2.0


def test_xavier_init_halves_relu_variance_per_layer_and_naive_init_explodes():
    xavier = _hidden_stds("xavier", "relu")
    assert xavier[-1] / xavier[0] < 0.1  # about (1/√2)^9 ≈ 0.044
    naive = _hidden_stds("naive", "relu")
    assert naive[-1] / naive[0] > 1e8  # about √(256/2)^9 ≈ 3e9


def test_naive_init_saturates_tanh_while_xavier_does_not():
    def saturated(init: str) -> float:
        net = MLP([256] * 6 + [10], activation="tanh", init=init, seed=0)
        net.forward(np.random.default_rng(1).standard_normal((200, 256)))
        return float(np.mean(np.abs(net.activations[-2]) > 0.99))

    assert saturated("naive") > 0.8 and saturated("xavier") < 0.05  # |tanh| > 0.99: saturated


def test_custom_init_function_is_used_for_every_weight_matrix_and_biases_start_at_zero():
    net = MLP([4, 3, 2], init=lambda fan_in, fan_out, rng: np.full((fan_in, fan_out), 0.5))
    assert all(np.all(W == 0.5) for W in net.params[::2])
    assert all(np.all(b == 0.0) for b in net.params[1::2])


# --- the model's interface ------------------------------------------------------------


def test_params_are_weights_and_biases_of_the_requested_sizes():
    net = MLP([64, 32, 16, 10])
    assert [p.shape for p in net.params] == [(64, 32), (32,), (32, 16), (16,), (16, 10), (10,)]
    assert all(p.dtype == np.float64 for p in net.params)
    assert MLP(np.array([64, 32, 16, 10])).sizes == [64, 32, 16, 10]


def test_same_seed_gives_the_same_network_and_another_seed_a_different_one():
    a, b, c = MLP([5, 7, 3], seed=4), MLP([5, 7, 3], seed=4), MLP([5, 7, 3], seed=5)
    assert all(np.array_equal(p, q) for p, q in zip(a.params, b.params, strict=True))
    assert not np.array_equal(a.params[0], c.params[0])


def test_get_params_is_a_snapshot_and_set_params_restores_it_in_place():
    net = MLP([3, 4, 2], seed=0)
    arrays = list(net.params)
    saved = net.get_params()
    for p in net.params:
        p += 1.0
    assert not np.array_equal(saved[0], net.params[0])
    net.set_params(saved)
    assert all(p is q for p, q in zip(net.params, arrays, strict=True))  # same arrays
    assert all(np.array_equal(p, q) for p, q in zip(net.params, saved, strict=True))
    saved[0] += 5.0
    assert not np.array_equal(saved[0], net.params[0])  # set_params copied the values


def test_predict_is_the_argmax_of_the_logits_and_accuracy_the_fraction_correct():
    net = MLP([2, 3], seed=0)
    net.params[0][...] = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])
    X = np.array([[2.0, 0.0], [0.0, 2.0], [-1.0, -1.0], [3.0, 1.0]])
    np.testing.assert_array_equal(net.predict(X), [0, 1, 2, 0])
    assert net.accuracy(X, np.array([0, 1, 2, 1])) == 0.75


# --- argument checks ------------------------------------------------------------------

NET = MLP([3, 4, 2], seed=0)
RNG = np.random.default_rng(0)

BAD_ARGUMENTS = [
    ("activation", lambda: MLP([3, 2], activation="sigmoid")),
    ("init", lambda: MLP([3, 2], init="lecun")),
    ("sizes", lambda: MLP([3])),
    ("sizes", lambda: MLP("32")),
    ("sizes[1]", lambda: MLP([3, 0, 2])),
    ("sizes[0]", lambda: MLP([2.5, 2])),
    ("seed", lambda: MLP([3, 2], seed=-1)),
    ("init", lambda: MLP([3, 2], init=lambda fan_in, fan_out, rng: np.zeros((fan_out, fan_in)))),
    ("loss", lambda: NET.loss_and_grads(np.zeros((2, 3)), np.array([0, 1]), loss="hinge")),
    ("y", lambda: NET.loss_and_grads(np.zeros((2, 3)), np.array([0, 2]))),
    ("y", lambda: NET.loss_and_grads(np.zeros((2, 3)), np.array([-1, 0]))),
    ("y", lambda: NET.loss_and_grads(np.zeros((2, 3)), np.array([0.5, 1.0]))),
    ("y", lambda: NET.loss_and_grads(np.zeros((2, 3)), np.array([0, 1, 1]))),
    ("y", lambda: NET.loss_and_grads(np.zeros((2, 3)), np.zeros((2, 3)), loss="mse")),
    ("X", lambda: NET.forward(np.zeros((2, 4)))),
    ("X", lambda: NET.forward(np.zeros(3))),
    ("y", lambda: NET.accuracy(np.zeros((2, 3)), np.array([0, 5]))),
    ("values", lambda: NET.set_params(NET.get_params()[:-1])),
    ("values[2]", lambda: NET.set_params([*NET.get_params()[:2], np.zeros((3, 3)), NET.params[3]])),
    ("fan_in", lambda: he_init(0, 3, RNG)),
    ("fan_out", lambda: xavier_init(3, -1, RNG)),
    ("rng", lambda: he_init(3, 3, 0)),
    ("scale", lambda: naive_init(3, 3, RNG, scale=-1.0)),
    ("logits", lambda: softmax_cross_entropy(np.zeros(3), np.array([0]))),
    ("target", lambda: mse(np.zeros((2, 1)), np.zeros(2))),
]


@pytest.mark.parametrize(("argument", "call"), BAD_ARGUMENTS, ids=[a for a, _ in BAD_ARGUMENTS])
def test_bad_argument_raises_an_error_naming_it(argument, call):
    with pytest.raises((ValueError, TypeError)) as error:
        call()
    assert str(error.value).startswith(f"{argument} ") or str(error.value).startswith(
        f"{argument}="
    )


def test_docstring_examples_print_what_they_show():
    result = doctest.testmod(lrcourse.nn.mlp)
    assert result.attempted > 0 and result.failed == 0
