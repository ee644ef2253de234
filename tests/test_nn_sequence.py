"""Facts about lrcourse.nn.sequence: exact BPTT, the tasks, and gradient clipping as in torch."""

from __future__ import annotations

import doctest

import numpy as np
import pytest

import lrcourse.nn.sequence
from lrcourse.nn import RNN, TEXT, clip_grad_norm, clip_grad_value, sequence_task
from lrcourse.optimizers import SGD, Adam
from lrcourse.train import supervised_objective, train

from .gradcheck import finite_difference_grads


class Clipped:
    """An objective whose gradients are clipped to a total norm, with the norms recorded."""

    def __init__(self, objective, max_norm):
        self.objective, self.max_norm, self.params, self.norms = objective, max_norm, \
            objective.params, []

    def loss_and_grads(self, rng):
        loss, grads = self.objective.loss_and_grads(rng)
        self.norms.append(clip_grad_norm(grads, self.max_norm))
        return loss, grads


# --- the RNN: exact gradients -------------------------------------------------------------------


@pytest.mark.parametrize(
    "task",
    [
        sequence_task("echo", n=4, length=6, delay=2, vocab_size=4, seed=0),
        sequence_task("text", n=3, length=5, seed=1),
    ],
)
def test_rnn_gradients_by_bptt_equal_finite_differences(task):
    net = RNN(task.vocab_size, hidden=5, seed=0)
    for p in net.params:  # random biases too, so that no gradient is trivially zero
        p += 0.3 * np.random.default_rng(2).standard_normal(p.shape)
    loss, grads = net.loss_and_grads(task.X, task.y)
    numeric = finite_difference_grads(lambda: net.loss_and_grads(task.X, task.y)[0], net.params)
    assert [g.shape for g in grads] == [p.shape for p in net.params]
    for g, n in zip(grads, numeric, strict=True):
        np.testing.assert_allclose(g, n, rtol=1e-6, atol=1e-9)


def test_with_one_step_the_recurrent_weights_get_no_gradient_because_h0_is_zero():
    net = RNN(vocab_size=4, hidden=6, seed=0)
    _, grads = net.loss_and_grads([[1], [2]], [[3], [0]])
    np.testing.assert_array_equal(grads[1], 0.0)
    assert np.any(grads[0] != 0)


def test_the_output_at_step_t_depends_on_inputs_up_to_t_only():
    net = RNN(vocab_size=5, hidden=8, seed=0)
    X = np.array([[1, 2, 3, 4, 0, 1]])
    changed = X.copy()
    changed[0, 3:] = [0, 4, 4]
    a, b = net.forward(X), net.forward(changed)
    np.testing.assert_array_equal(a[:, :3], b[:, :3])
    assert not np.allclose(a[:, 3:], b[:, 3:])


def test_hidden_states_follow_the_recurrence_tanh_of_input_plus_previous_state():
    net = RNN(vocab_size=3, hidden=4, seed=1)
    X = np.array([[2, 0, 1]])
    net.forward(X)
    W_xh, W_hh, b_h, _, _ = net.params
    h = np.zeros(4)
    for t, x in enumerate(X[0]):
        h = np.tanh(W_xh[x] + h @ W_hh + b_h)
        np.testing.assert_allclose(net.hidden_states[0, t + 1], h, rtol=1e-12, atol=1e-15)


def test_recurrent_weights_start_with_variance_one_over_hidden():
    net = RNN(vocab_size=3, hidden=400, seed=0)
    assert abs(net.params[1].var() * 400 - 1) < 0.02


# --- the RNN: learning --------------------------------------------------------------------------


def test_adam_teaches_the_rnn_to_echo_two_steps_back():
    task = sequence_task("echo", n=256, length=20, delay=2, seed=0)
    test = sequence_task("echo", n=128, length=20, delay=2, seed=1)
    net = RNN(task.vocab_size, hidden=32, seed=0)
    obj = supervised_objective(net, task.X, task.y, batch_size=32)
    h = train(obj, Adam(net.params, lr=0.01), steps=300)
    assert not h.diverged and net.accuracy(test.X, test.y) > 0.99


def test_clipping_the_norm_rescues_sgd_at_a_rate_where_plain_sgd_fails():
    task = sequence_task("echo", n=512, length=32, delay=8, seed=0)
    test = sequence_task("echo", n=128, length=32, delay=8, seed=1)
    accuracy = {}
    for max_norm in (np.inf, 1.0):
        net = RNN(task.vocab_size, hidden=64, seed=0)
        obj = Clipped(supervised_objective(net, task.X, task.y, batch_size=32), max_norm)
        train(obj, SGD(net.params, lr=1.0), steps=300, warn=False)
        accuracy[max_norm] = net.accuracy(test.X, test.y)
        if max_norm == np.inf:
            assert max(obj.norms) > 100  # the gradient explodes without clipping
    assert accuracy[np.inf] < 0.5 and accuracy[1.0] > 0.95


def test_greedy_sampling_continues_with_the_argmax_of_the_forward_pass():
    net = RNN(vocab_size=6, hidden=8, seed=3)
    prompt = [1, 4, 2]
    out = net.sample(prompt, length=7, temperature=0.0)
    assert out.shape == (10,) and list(out[:3]) == prompt
    # forward on the whole sequence predicts, at each step from the last prompt symbol on,
    # the symbol that sampling appended next
    np.testing.assert_array_equal(net.predict(out[None, :-1])[0, 2:], out[3:])


def test_sampling_depends_on_the_seed_only():
    net = RNN(vocab_size=6, hidden=8, seed=3)
    a, b = net.sample([0], 30, seed=1), net.sample([0], 30, seed=1)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, net.sample([0], 30, seed=2))


def test_set_params_restores_the_values_in_the_arrays_the_optimizer_holds():
    net = RNN(vocab_size=3, hidden=4, seed=0)
    held, saved = net.params[1], net.get_params()
    net.params[1] += 1.0
    net.set_params(saved)
    assert net.params[1] is held and np.array_equal(held, saved[1])


# --- the tasks ----------------------------------------------------------------------------------


def test_text_task_targets_are_the_next_characters_of_text():
    task = sequence_task("text", n=20, length=15, seed=0)
    np.testing.assert_array_equal(task.y[:, :-1], task.X[:, 1:])
    for x, y in zip(task.X, task.y, strict=True):
        assert task.decode(x) + task.decode(y)[-1] in TEXT
    assert task.alphabet == "".join(sorted(set(TEXT)))


def test_echo_task_targets_are_the_inputs_delay_steps_back_after_blanks():
    task = sequence_task("echo", n=10, length=12, delay=3, vocab_size=6, seed=0)
    np.testing.assert_array_equal(task.y[:, 3:], task.X[:, :-3])
    np.testing.assert_array_equal(task.y[:, :3], 0)
    assert task.X.min() >= 1 and task.X.max() <= 5 and task.alphabet == "_abcde"


def test_tasks_depend_on_the_seed_only():
    for kind in ("text", "echo"):
        a, b = sequence_task(kind, seed=4), sequence_task(kind, seed=4)
        np.testing.assert_array_equal(a.X, b.X)
        assert not np.array_equal(a.X, sequence_task(kind, seed=5).X)


def test_encode_inverts_decode():
    task = sequence_task("text", n=1, length=10)
    assert task.decode(task.encode("the rate.")) == "the rate."
    np.testing.assert_array_equal(task.encode(task.decode(task.X[0])), task.X[0])


# --- clipping -----------------------------------------------------------------------------------


def _grads(seed=0, scale=1.0):
    rng = np.random.default_rng(seed)
    return [scale * rng.standard_normal((3, 4)), scale * rng.standard_normal(5),
            scale * rng.standard_normal((2, 2, 2))]


def test_clip_grad_norm_scales_all_gradients_by_max_norm_over_total_plus_1e6():
    grads = _grads()
    before = [g.copy() for g in grads]
    total = np.sqrt(sum(np.sum(g**2) for g in before))
    returned = clip_grad_norm(grads, max_norm=1.0)
    assert returned == pytest.approx(total, rel=1e-14)
    for g, b in zip(grads, before, strict=True):
        np.testing.assert_allclose(g, b * (1.0 / (total + 1e-6)), rtol=1e-14)
    after = np.sqrt(sum(np.sum(g**2) for g in grads))
    assert after == pytest.approx(total / (total + 1e-6), rel=1e-14)  # just below max_norm


def test_clip_grad_norm_leaves_gradients_below_max_norm_untouched():
    grads = _grads(scale=0.01)
    before = [g.copy() for g in grads]
    total = clip_grad_norm(grads, max_norm=1.0)
    assert total < 1.0
    for g, b in zip(grads, before, strict=True):
        np.testing.assert_array_equal(g, b)


def test_clip_grad_norm_keeps_the_direction():
    grads = _grads(scale=100.0)
    flat_before = np.concatenate([g.ravel() for g in grads])
    clip_grad_norm(grads, max_norm=2.0)
    flat_after = np.concatenate([g.ravel() for g in grads])
    cosine = flat_before @ flat_after / np.linalg.norm(flat_before) / np.linalg.norm(flat_after)
    assert cosine == pytest.approx(1.0, abs=1e-14)


@pytest.mark.parametrize("case", ["above", "below", "inf", "nan", "overflow", "empty"])
def test_clip_grad_norm_equals_torch_clip_grad_norm_(case):
    torch = pytest.importorskip("torch")
    grads = {"below": _grads(1, 0.01), "overflow": _grads(1, 1e200), "empty": []}.get(
        case, _grads(1, 3.0))
    if case == "inf":
        grads[0][1, 2] = np.inf
    if case == "nan":
        grads[1][3] = np.nan
    tensors = []
    for g in grads:
        t = torch.zeros(g.shape, dtype=torch.float64, requires_grad=True)
        t.grad = torch.tensor(g.copy())
        tensors.append(t)
    expected = float(torch.nn.utils.clip_grad_norm_(tensors, max_norm=1.5))
    got = clip_grad_norm(grads, max_norm=1.5)
    # equal up to the order of summation inside the norms (an ulp or two); NaN where torch has NaN
    np.testing.assert_allclose(got, expected, rtol=1e-15)
    for g, t in zip(grads, tensors, strict=True):
        np.testing.assert_allclose(g, t.grad.numpy(), rtol=1e-15, atol=0)


def test_clip_grad_norm_can_refuse_a_non_finite_norm():
    grads = _grads()
    grads[0][0, 0] = np.nan
    with pytest.raises(ValueError, match="finite"):
        clip_grad_norm(grads, 1.0, error_if_nonfinite=True)


def test_clip_grad_value_clamps_each_entry_and_equals_torch():
    grads = _grads(2, 3.0)
    expected = [np.clip(g, -0.5, 0.5) for g in grads]
    clip_grad_value(grads, 0.5)
    for g, e in zip(grads, expected, strict=True):
        np.testing.assert_array_equal(g, e)
    torch = pytest.importorskip("torch")
    grads = _grads(2, 3.0)
    tensors = []
    for g in grads:
        t = torch.zeros(g.shape, dtype=torch.float64, requires_grad=True)
        t.grad = torch.tensor(g.copy())
        tensors.append(t)
    torch.nn.utils.clip_grad_value_(tensors, 0.5)
    clip_grad_value(grads, 0.5)
    for g, t in zip(grads, tensors, strict=True):
        np.testing.assert_array_equal(g, t.grad.numpy())


# --- validation and examples --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("call", "error", "name"),
    [
        (lambda: RNN(vocab_size=1), ValueError, "vocab_size"),
        (lambda: RNN(vocab_size=3, hidden=0), ValueError, "hidden"),
        (lambda: RNN(3).forward(np.zeros(4, dtype=int)), ValueError, "X"),
        (lambda: RNN(3).forward(np.zeros((2, 4))), TypeError, "X"),
        (lambda: RNN(3).forward(np.full((2, 4), 3)), ValueError, "X"),
        (lambda: RNN(3).loss_and_grads([[0, 1]], [[0, 5]]), ValueError, "y"),
        (lambda: RNN(3).loss_and_grads([[0, 1]], [[0, 1, 2]]), ValueError, "y"),
        (lambda: RNN(3).loss_and_grads([[0, 1]], [[0, 1]], loss="mse"), ValueError, "loss"),
        (lambda: RNN(3).accuracy([[0, 1]], [[0]]), ValueError, "y"),
        (lambda: RNN(3).sample([], 3), ValueError, "prompt"),
        (lambda: RNN(3).sample([0], -1), ValueError, "length"),
        (lambda: RNN(3).sample([0], 3, temperature=-1.0), ValueError, "temperature"),
        (lambda: sequence_task("parity"), ValueError, "kind"),
        (lambda: sequence_task(n=0), ValueError, "n"),
        (lambda: sequence_task(length=len(TEXT)), ValueError, "length"),
        (lambda: sequence_task("echo", length=5, delay=5), ValueError, "delay"),
        (lambda: sequence_task("echo", delay=0), ValueError, "delay"),
        (lambda: sequence_task("echo", vocab_size=2), ValueError, "vocab_size"),
        (lambda: sequence_task("echo", vocab_size=28), ValueError, "vocab_size"),
        (lambda: sequence_task("text", n=1).encode("THE"), ValueError, "text"),
        (lambda: clip_grad_norm(np.ones(3), 1.0), TypeError, "grads"),
        (lambda: clip_grad_norm([np.ones(3), [1.0]], 1.0), TypeError, r"grads\[1\]"),
        (lambda: clip_grad_norm([np.ones(3, dtype=int)], 1.0), TypeError, r"grads\[0\]"),
        (lambda: clip_grad_norm([np.ones(3)], 0.0), ValueError, "max_norm"),
        (lambda: clip_grad_norm([np.ones(3)], -1.0), ValueError, "max_norm"),
        (lambda: clip_grad_value([np.ones(3)], float("nan")), ValueError, "clip"),
    ],
)
def test_invalid_arguments_raise_an_error_naming_the_argument(call, error, name):
    with pytest.raises(error, match=name):
        call()


def test_docstring_examples_print_what_they_say():
    result = doctest.testmod(lrcourse.nn.sequence, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0 and result.failed == 0
