"""Facts about lrcourse.rl: the policy gradient is unbiased, the dynamics are cart-pole's,
REINFORCE learns, and runs are reproducible from their seed."""

from __future__ import annotations

import doctest
import math

import numpy as np
import pytest

import lrcourse.rl
from lrcourse.rl import (
    Bandit,
    CartPole,
    Trajectories,
    policy_gradient,
    reinforce_update,
    returns_to_go,
    rollout,
    softmax_policy,
    train_reinforce,
)
from lrcourse.schedules import cosine_annealing


def _one_episode_each(trajectories):
    """View N episodes as N runs of one episode: policy_gradient then gives one ĝ per episode."""
    return Trajectories(*(a[:, None] for a in (trajectories.features, trajectories.actions,
                                               trajectories.rewards, trajectories.mask)))


# --- the bandit and the policy gradient ---------------------------------------------------------


def test_bandit_exact_gradient_equals_finite_differences_of_the_expected_return():
    bandit = Bandit([0.3, -1.0, 2.0, 0.5])
    theta = np.array([[0.2, -0.4, 0.1, 0.7]])
    h = 1e-6
    numeric = np.zeros_like(theta)
    for a in range(4):
        up, down = theta.copy(), theta.copy()
        up[0, a] += h
        down[0, a] -= h
        numeric[0, a] = (bandit.expected_return(up) - bandit.expected_return(down)) / (2 * h)
    np.testing.assert_allclose(bandit.return_gradient(theta), numeric, rtol=1e-7, atol=1e-9)


@pytest.mark.parametrize(("kind", "baseline"), [("gaussian", None), ("gaussian", 3.0),
                                                ("bernoulli", None), ("bernoulli", 0.5)])
def test_reinforce_estimate_equals_the_exact_bandit_gradient_in_expectation(kind, baseline):
    means = [0.2, 0.9, 0.5] if kind == "bernoulli" else [0.3, -1.0, 2.0]
    bandit = Bandit(means, kind=kind)
    theta = np.array([[0.5, -0.3, 0.1]])
    episodes = rollout(bandit, theta, np.random.default_rng(0), episodes=40_000)
    per_episode = policy_gradient(theta, _one_episode_each(episodes), baseline=baseline)
    estimate = policy_gradient(theta, episodes, baseline=baseline)
    np.testing.assert_allclose(estimate, per_episode.mean(axis=0), rtol=1e-10, atol=1e-14)
    standard_error = per_episode.std(axis=0) / math.sqrt(len(per_episode))
    exact = bandit.return_gradient(theta)
    assert np.all(np.abs(estimate - exact) < 4 * standard_error)
    assert np.all(standard_error < 0.05 * np.abs(exact).max())  # the test has power


def test_a_baseline_near_the_mean_reward_shrinks_the_variance_of_the_estimate():
    bandit = Bandit([10.0, 10.5, 11.0])  # rewards far from 0: REINFORCE is noisy without b
    theta = np.zeros((1, 3))
    episodes = _one_episode_each(rollout(bandit, theta, np.random.default_rng(1), 20_000))
    plain = policy_gradient(theta, episodes)
    centred = policy_gradient(theta, episodes, baseline=bandit.expected_return(theta))
    assert np.all(centred.var(axis=0) < 0.1 * plain.var(axis=0))


def test_bernoulli_rewards_are_zero_or_one_with_the_arms_probabilities():
    bandit = Bandit([0.1, 0.8], kind="bernoulli")
    episodes = rollout(bandit, np.zeros((1, 2)), np.random.default_rng(0), episodes=20_000)
    rewards, actions = episodes.rewards[:, 0], episodes.actions[:, 0]
    assert set(np.unique(rewards)) == {0.0, 1.0}
    for arm, p in enumerate([0.1, 0.8]):
        assert abs(rewards[actions == arm].mean() - p) < 0.02


def test_softmax_policy_rows_are_probabilities_and_shift_invariant():
    rng = np.random.default_rng(0)
    theta, phi = rng.standard_normal((3, 4)), rng.standard_normal((6, 3))
    p = softmax_policy(theta, phi)
    np.testing.assert_allclose(p.sum(axis=-1), 1.0, rtol=1e-14)
    shifted = theta + np.array([[5.0], [-2.0], [1.0]])  # the same shift for every action
    np.testing.assert_allclose(softmax_policy(shifted, phi), p, rtol=1e-12)


def test_returns_to_go_are_discounted_sums_of_the_rewards_from_each_step():
    rewards = np.array([[1.0, 2.0, 0.0, 4.0], [0.5, 0.0, 0.0, 0.0]])
    gamma = 0.9
    expected = [[sum(gamma ** (k - t) * r[k] for k in range(t, 4)) for t in range(4)]
                for r in rewards]
    np.testing.assert_allclose(returns_to_go(rewards, gamma), expected, rtol=1e-14)
    np.testing.assert_array_equal(returns_to_go(rewards)[:, 0], rewards.sum(axis=1))


def test_policy_gradient_equals_the_loop_over_episodes_and_steps_of_the_formula():
    env = CartPole(max_steps=30)
    rng = np.random.default_rng(0)
    theta = 0.3 * rng.standard_normal((5, 2))
    episodes = rollout(env, theta, rng, episodes=4)
    baseline = np.linspace(10.0, 0.0, 30)
    gamma = 0.95
    G = returns_to_go(episodes.rewards, gamma)
    expected = np.zeros_like(theta)
    for n in range(4):
        for t in range(30):
            if episodes.mask[n, t]:
                phi, a = episodes.features[n, t], episodes.actions[n, t]
                p = _probs_of(theta, phi)
                expected += (G[n, t] - baseline[t]) * np.outer(phi, np.eye(2)[a] - p)
    expected /= 4
    got = policy_gradient(theta, episodes, gamma=gamma, baseline=baseline)
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12)


def _probs_of(theta, phi):
    z = phi @ theta
    return np.exp(z - z.max()) / np.exp(z - z.max()).sum()


def test_reinforce_update_is_a_pure_ascent_step_along_the_estimate():
    bandit = Bandit([0.0, 1.0, 0.5])
    theta = np.array([[0.1, 0.2, 0.3]])
    saved = theta.copy()
    episodes = rollout(bandit, theta, np.random.default_rng(0), episodes=50)
    new = reinforce_update(theta, episodes, lr=0.5, baseline=0.2)
    np.testing.assert_array_equal(theta, saved)
    np.testing.assert_allclose(new, theta + 0.5 * policy_gradient(theta, episodes, baseline=0.2),
                               rtol=1e-15)


# --- cart-pole ----------------------------------------------------------------------------------


def test_cartpole_push_from_rest_gives_the_accelerations_of_the_equations_of_motion():
    # At rest and upright, F = +10 N: q = F / M, ϑ̈ = -q / (l (4/3 - m_p / M)),
    # ẍ = q - m_p l ϑ̈ / M, with M = 1.1, m_p = 0.1, l = 0.5; one Euler step of 0.02 s.
    q = 10 / 1.1
    angle_acc = -q / (0.5 * (4 / 3 - 0.1 / 1.1))
    x_acc = q - 0.1 * 0.5 * angle_acc / 1.1
    state, reward, done = CartPole().step(np.zeros((1, 1, 4)), np.array([[1]]))
    np.testing.assert_allclose(state[0, 0], [0.0, 0.02 * x_acc, 0.0, 0.02 * angle_acc],
                               rtol=1e-14)
    assert x_acc > 0 > angle_acc and reward[0, 0] == 1.0 and not done[0, 0]


def test_cartpole_is_mirror_symmetric():
    rng = np.random.default_rng(0)
    states = rng.uniform(-0.2, 0.2, size=(1, 50, 4))
    actions = rng.integers(0, 2, size=(1, 50))
    env = CartPole()
    right, _, _ = env.step(states, actions)
    left, _, _ = env.step(-states, 1 - actions)
    np.testing.assert_allclose(left, -right, rtol=1e-14, atol=1e-17)


def test_an_unpushed_leaning_pole_falls_further_its_way():
    env = CartPole()
    state = np.array([[[0.0, 0.0, 0.05, 0.0]]])
    for _ in range(5):  # alternate pushes: no net force on average
        state, _, _ = env.step(state, np.array([[0]]))
        state, _, _ = env.step(state, np.array([[1]]))
    assert state[0, 0, 2] > 0.05 and state[0, 0, 3] > 0


@pytest.mark.parametrize(("state", "done"), [
    ([2.39, 1.0, 0.0, 0.0], True),     # x leaves [-2.4, 2.4]
    ([2.3, 1.0, 0.0, 0.0], False),
    ([0.0, 0.0, 0.2, 1.0], True),      # the pole passes 12° = 0.2094 rad
    ([0.0, 0.0, -0.2, -1.0], True),
    ([0.0, 0.0, 0.2, -1.0], False),
])
def test_cartpole_episode_ends_when_the_cart_or_the_pole_leaves_its_limits(state, done):
    _, reward, finished = CartPole().step(np.array([[state]]), np.array([[1]]))
    assert finished[0, 0] == done and reward[0, 0] == 1.0


def test_rollout_masks_each_episode_up_to_the_step_that_ends_it():
    env = CartPole()
    episodes = rollout(env, np.zeros((5, 2)), np.random.default_rng(3), episodes=20)
    lengths = episodes.mask.sum(axis=1)
    # the mask is a prefix, the rewards are 1 under it, the return is the length
    np.testing.assert_array_equal(episodes.mask, np.arange(200) < lengths[:, None])
    np.testing.assert_array_equal(episodes.rewards, episodes.mask * 1.0)
    np.testing.assert_array_equal(episodes.returns, lengths)
    # replaying the actions ends each episode exactly at its last masked step
    state = episodes.features[:, :1, :4]  # the start states
    for t in range(lengths.max()):
        state, _, done = env.step(state, episodes.actions[:, t:t + 1])
        ended = lengths == t + 1
        assert np.all(done[ended, 0])
        assert not np.any(done[lengths > t + 1, 0])


def test_start_states_lie_in_the_small_box_around_upright():
    states = CartPole().reset([np.random.default_rng(0)], 1000)
    assert states.shape == (1, 1000, 4) and np.all(np.abs(states) <= 0.05)


def test_a_linear_policy_that_pushes_toward_the_lean_balances_for_the_whole_episode():
    theta = np.zeros((5, 2))
    theta[:4, 1] = [1.0, 5.0, 100.0, 10.0]  # push right when the pole leans or falls right
    episodes = rollout(CartPole(max_steps=200), theta, np.random.default_rng(0), episodes=10)
    np.testing.assert_array_equal(episodes.returns, 200)


# --- learning -----------------------------------------------------------------------------------


def test_reinforce_learns_to_balance_the_pole_with_a_reasonable_rate():
    history = train_reinforce(CartPole(), lr=1e-3, episodes=150, seed=[0, 1, 2, 3])
    first, last = history.returns[:, :30].mean(), history.returns[:, -30:].mean()
    assert first < 40 and last > 2 * first


def test_reinforce_finds_the_best_arm_of_a_bandit():
    bandit = Bandit.random(k=5, seed=0)
    history = train_reinforce(bandit, lr=0.1, episodes=1000, seed=[0, 1, 2])
    best = int(np.argmax(bandit.means))
    probs = softmax_policy(history.theta, np.ones((1, 1)))[:, 0]
    assert np.all(probs[:, best] > 0.9)


def test_too_large_a_rate_locks_some_seeds_into_a_wrong_arm():
    bandit = Bandit.random(k=10, seed=0)
    best = int(np.argmax(bandit.means))
    history = train_reinforce(bandit, lr=[0.1, 3.0], episodes=600, seed=list(range(8)))
    probs = softmax_policy(history.theta, np.ones((1, 1)))[..., 0, :]
    right = probs[..., best] > 0.5
    assert right[0].all() and not right[1].all()


# --- reproducibility, shapes and schedules ------------------------------------------------------


def test_same_seed_same_history():
    a = train_reinforce(CartPole(), lr=3e-3, episodes=40, seed=7)
    b = train_reinforce(CartPole(), lr=3e-3, episodes=40, seed=7)
    np.testing.assert_array_equal(a.returns, b.returns)
    np.testing.assert_array_equal(a.theta, b.theta)
    c = train_reinforce(CartPole(), lr=3e-3, episodes=40, seed=8)
    assert not np.array_equal(a.returns, c.returns)


@pytest.mark.parametrize("env", [CartPole(), Bandit([0.0, 1.0, 0.5])])
def test_each_run_of_a_sweep_equals_the_same_run_alone(env):
    rates, seeds = [1e-3, 1e-2], [0, 5, 9]
    sweep = train_reinforce(env, lr=rates, episodes=60, seed=seeds, batch_size=2)
    assert sweep.returns.shape == (2, 3, 60) and sweep.lr.shape == (2, 30)
    for i, lr in enumerate(rates):
        for j, seed in enumerate(seeds):
            alone = train_reinforce(env, lr=lr, episodes=60, seed=seed, batch_size=2)
            np.testing.assert_array_equal(sweep.returns[i, j], alone.returns)
            np.testing.assert_array_equal(sweep.theta[i, j], alone.theta)


def test_history_shapes_follow_the_shapes_of_lr_and_seed():
    env = Bandit([0.0, 1.0])
    assert train_reinforce(env, 0.1, 8).returns.shape == (8,)
    assert train_reinforce(env, [0.1, 0.2], 8).returns.shape == (2, 8)
    h = train_reinforce(env, 0.1, 8, seed=[1, 2, 3], batch_size=4)
    assert h.returns.shape == (3, 8) and h.lr.shape == (2,) and h.theta.shape == (3, 1, 2)


def test_the_schedule_multiplies_the_rate_of_each_update():
    env = Bandit([0.0, 1.0])
    schedule = cosine_annealing(1.0, T_max=20)
    h = train_reinforce(env, [0.1, 0.4], episodes=20, schedule=schedule)
    np.testing.assert_allclose(h.lr, np.outer([0.1, 0.4], schedule(np.arange(20))), rtol=1e-15)
    constant = train_reinforce(env, 0.1, episodes=20, schedule=lambda t: 1.0)
    plain = train_reinforce(env, 0.1, episodes=20)
    np.testing.assert_array_equal(constant.theta, plain.theta)


def test_a_zero_rate_keeps_the_uniform_policy():
    h = train_reinforce(Bandit([0.0, 1.0, 2.0]), lr=0.0, episodes=50)
    np.testing.assert_array_equal(h.theta, 0.0)


# --- validation and examples --------------------------------------------------------------------


def _episodes():
    return rollout(Bandit([0.0, 1.0]), np.zeros((1, 2)), np.random.default_rng(0), 3)


@pytest.mark.parametrize(
    ("call", "error", "name"),
    [
        (lambda: train_reinforce(CartPole(), lr=-0.1, episodes=5), ValueError, "lr"),
        (lambda: train_reinforce(CartPole(), lr=[0.1, -1.0], episodes=5), ValueError,
         r"lr\[1\]"),
        (lambda: train_reinforce(CartPole(), lr=[[0.1]], episodes=5), ValueError, "lr"),
        (lambda: train_reinforce(CartPole(), lr=0.1, episodes=0), ValueError, "episodes"),
        (lambda: train_reinforce(CartPole(), lr=0.1, episodes=5, batch_size=2), ValueError,
         "episodes"),
        (lambda: train_reinforce(CartPole(), lr=0.1, episodes=5, seed=[1, -2]), ValueError,
         r"seed\[1\]"),
        (lambda: train_reinforce(CartPole(), lr=0.1, episodes=5, gamma=1.5), ValueError,
         "gamma"),
        (lambda: train_reinforce(CartPole(), lr=0.1, episodes=5, schedule=0.5), TypeError,
         "schedule"),
        (lambda: train_reinforce(CartPole(), lr=0.1, episodes=5, schedule=lambda t: -1.0),
         ValueError, "schedule"),
        (lambda: train_reinforce(CartPole(), lr=0.1, episodes=5, baseline="yes"), TypeError,
         "baseline"),
        (lambda: train_reinforce(CartPole(), lr=0.1, episodes=5, baseline_rate=0.0),
         ValueError, "baseline_rate"),
        (lambda: train_reinforce(object(), lr=0.1, episodes=5), TypeError, "env"),
        (lambda: Bandit([1.0]), ValueError, "means"),
        (lambda: Bandit([0.5, 1.5], kind="bernoulli"), ValueError, "means"),
        (lambda: Bandit([0.0, 1.0], kind="poisson"), ValueError, "kind"),
        (lambda: Bandit([0.0, 1.0], std=0.0), ValueError, "std"),
        (lambda: Bandit.random(k=1), ValueError, "k"),
        (lambda: Bandit([0.0, 1.0]).expected_return(np.zeros(2)), ValueError, "theta"),
        (lambda: Bandit([0.0, 1.0]).return_gradient(np.zeros((1, 3))), ValueError, "theta"),
        (lambda: train_reinforce(CartPole(), lr=0.1, episodes=5, schedule=lambda t: "x"),
         TypeError, "schedule"),
        (lambda: CartPole(max_steps=0), ValueError, "max_steps"),
        (lambda: rollout(CartPole(), np.zeros((4, 2)), np.random.default_rng(0)), ValueError,
         "theta"),
        (lambda: rollout(CartPole(), np.zeros((5, 2)), 0), TypeError, "rng"),
        (lambda: rollout(CartPole(), np.zeros((5, 2)), np.random.default_rng(0), 0),
         ValueError, "episodes"),
        (lambda: policy_gradient(np.zeros((2, 2)), _episodes()), ValueError, "theta"),
        (lambda: policy_gradient(np.zeros((1, 2)), "episodes"), TypeError, "trajectories"),
        (lambda: policy_gradient(np.zeros((1, 2)), _episodes(), gamma=-0.1), ValueError,
         "gamma"),
        (lambda: reinforce_update(np.zeros((1, 2)), _episodes(), lr=-1.0), ValueError, "lr"),
        (lambda: reinforce_update(np.zeros((1, 2)), _episodes(), lr=float("inf")), ValueError,
         "lr"),
        (lambda: reinforce_update(np.zeros((1, 2)), _episodes(), lr=[0.1, 0.2]), ValueError,
         "lr"),
    ],
)
def test_invalid_arguments_raise_an_error_naming_the_argument(call, error, name):
    with pytest.raises(error, match=name):
        call()


def test_docstring_examples_print_what_they_say():
    result = doctest.testmod(lrcourse.rl, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0 and result.failed == 0
