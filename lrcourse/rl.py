"""Reinforcement learning in NumPy: a multi-armed bandit, cart-pole, and REINFORCE.

The learner is a **softmax policy** that is linear in features of the state,

    π(a | s) = softmax(φ(s)ᵀ θ)_a,     θ of shape (num_features, num_actions),

trained by **REINFORCE** (Williams, 1992): run episodes with the policy, then step *up* the
gradient of the expected return,

    θ ← θ + α ĝ,    ĝ = (1/N) Σ_episodes Σ_t (G_t - b_t) ∇_θ log π(a_t | s_t),

where G_t is the return from step t on and b_t a baseline. ĝ is an unbiased estimate of the
gradient of the expected return, whatever the baseline (as long as it does not depend on the
episode's own actions); a good baseline only lowers its variance.

Environments are **batched**: they step many independent runs (axis 0, one random generator
each) and many episodes per run (axis 1) at once, so that several seeds and learning rates
train together as one NumPy computation. The run of a given seed draws exactly the same
random numbers whether it trains alone or beside others.

- ``Bandit``: k arms with Gaussian or Bernoulli rewards; one pull is one episode. Its expected
  return and exact policy gradient are known in closed form.
- ``CartPole``: balance a pole on a cart (the classic control task), with the standard
  equations of motion.
- ``softmax_policy``, ``rollout``, ``returns_to_go``, ``policy_gradient``,
  ``reinforce_update`` (a pure function) and ``train_reinforce`` (the loop, over seeds and
  rates side by side).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from lrcourse._validate import (
    check_callable,
    check_choice,
    check_int,
    check_lr,
    check_positive,
    check_probability,
)
from lrcourse.progress import progress

__all__ = [
    "Bandit",
    "CartPole",
    "Env",
    "ReinforceHistory",
    "Trajectories",
    "policy_gradient",
    "reinforce_update",
    "returns_to_go",
    "rollout",
    "softmax_policy",
    "train_reinforce",
]


class Env(Protocol):
    """What ``rollout`` and ``train_reinforce`` need of an environment.

    ``reset(rngs, batch_size)`` returns the start states of ``batch_size`` episodes for each of
    ``len(rngs)`` runs, shape (R, B, ...), drawing run i's randomness from ``rngs[i]`` only;
    ``step(states, actions, rngs)`` returns ``(states, rewards, done)``, the last two of shape
    (R, B); ``features(states)`` returns φ(s), shape (R, B, num_features).
    """

    num_actions: int
    num_features: int
    max_steps: int

    def reset(self, rngs: Sequence[np.random.Generator], batch_size: int) -> np.ndarray: ...

    def step(
        self, states: np.ndarray, actions: np.ndarray, rngs: Sequence[np.random.Generator]
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]: ...

    def features(self, states: np.ndarray) -> np.ndarray: ...


# =============================================================================================
# Environments
# =============================================================================================


class Bandit:
    """A k-armed bandit: pulling arm a pays r ~ N(μ_a, σ²) ("gaussian") or Bernoulli(μ_a).

    One pull is one episode (``max_steps = 1``). There is no state: the policy's only feature
    is the constant 1, so θ has shape (1, k), one preference per arm, and π = softmax(θ[0]).
    The expected return and its gradient are exact:

        J(θ) = Σ_a π_a μ_a,     ∂J/∂θ_a = π_a (μ_a - J)

    (an arm better than average gains preference, in proportion to how often it is pulled).

    Args:
        means: μ, the expected reward of each arm, at least 2 (in [0, 1] for "bernoulli").
        kind: "gaussian" or "bernoulli".
        std: σ, the standard deviation of Gaussian rewards, > 0.

    Example:
        >>> bandit = Bandit([0.0, 1.0, 0.5])
        >>> theta = np.zeros((1, 3))                      # the uniform policy
        >>> print(bandit.expected_return(theta), bandit.return_gradient(theta).round(3))
        0.5 [[-0.167  0.167  0.   ]]
    """

    num_features = 1
    max_steps = 1

    def __init__(self, means: Sequence[float], kind: str = "gaussian", std: float = 1.0) -> None:
        means = np.asarray(means, dtype=np.float64)
        if means.ndim != 1 or len(means) < 2 or not np.all(np.isfinite(means)):
            raise ValueError(
                f"means must be a 1-D array of at least 2 finite numbers, got means={means!r}"
            )
        self.kind = check_choice(kind, "kind", ("gaussian", "bernoulli"))
        if kind == "bernoulli" and (means.min() < 0 or means.max() > 1):
            raise ValueError(f"means must be probabilities in [0, 1] for kind='bernoulli', "
                             f"got means={means!r}")
        self.std = check_positive(std, "std")
        self.means = means
        self.num_actions = len(means)

    @classmethod
    def random(cls, k: int = 10, kind: str = "gaussian", seed: int = 0) -> Bandit:
        """A bandit with random means: N(0, 1) (Sutton & Barto's testbed) or U(0, 1) (Bernoulli).

        Example:
            >>> print(Bandit.random(k=4, seed=0))
            Bandit(means=[0.126, -0.132, 0.64, 0.105], kind='gaussian', std=1.0)
        """
        k = check_int(k, "k", minimum=2)
        check_choice(kind, "kind", ("gaussian", "bernoulli"))
        rng = np.random.default_rng(check_int(seed, "seed"))
        means = rng.standard_normal(k) if kind == "gaussian" else rng.random(k)
        return cls(means, kind=kind)

    def __repr__(self) -> str:
        means = [round(float(m), 3) for m in self.means]
        return f"Bandit(means={means}, kind={self.kind!r}, std={self.std})"

    def reset(self, rngs: Sequence[np.random.Generator], batch_size: int) -> np.ndarray:
        """No state: an empty array of shape (R, B, 0)."""
        return np.zeros((len(rngs), batch_size, 0))

    def step(
        self, states: np.ndarray, actions: np.ndarray, rngs: Sequence[np.random.Generator]
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Pull arm ``actions[i, j]``: the reward, and ``done`` (always True)."""
        batch = actions.shape[1]
        if self.kind == "gaussian":
            noise = np.stack([rng.standard_normal(batch) for rng in rngs])
            rewards = self.means[actions] + self.std * noise
        else:
            uniform = np.stack([rng.random(batch) for rng in rngs])
            rewards = (uniform < self.means[actions]).astype(np.float64)
        return states, rewards, np.ones(actions.shape, dtype=bool)

    def features(self, states: np.ndarray) -> np.ndarray:
        """φ(s) = (1,)."""
        return np.ones(states.shape[:-1] + (1,))

    def _check_theta(self, theta: np.ndarray) -> np.ndarray:
        theta = np.asarray(theta, dtype=np.float64)
        if theta.shape[-2:] != (1, self.num_actions):
            raise ValueError(
                f"theta must have shape (..., 1, {self.num_actions}) (one preference per arm), "
                f"got theta of shape {theta.shape}"
            )
        return theta

    def expected_return(self, theta: np.ndarray) -> np.ndarray | float:
        """J(θ) = Σ_a softmax(θ[0])_a μ_a, for θ of shape (..., 1, k)."""
        probs = softmax_policy(self._check_theta(theta), np.ones((1, 1)))[..., 0, :]
        value = probs @ self.means
        return float(value) if np.ndim(value) == 0 else value

    def return_gradient(self, theta: np.ndarray) -> np.ndarray:
        """∂J/∂θ = π ⊙ (μ - J), shape (..., 1, k), for θ of shape (..., 1, k)."""
        probs = softmax_policy(self._check_theta(theta), np.ones((1, 1)))
        return probs * (self.means - (probs @ self.means)[..., None])


class CartPole:
    """Balance a pole hinged on a cart by pushing the cart left or right (Barto, Sutton &
    Anderson, 1983), with the equations of motion of Gym's ``CartPole``.

    State s = (x, ẋ, ϑ, ϑ̇): cart position (m) and velocity, pole angle from upright (rad) and
    angular velocity. Action 0 pushes with F = -10 N, action 1 with F = +10 N. With M = m_c + m_p,

        q  = (F + m_p l ϑ̇² sin ϑ) / M
        ϑ̈  = (g sin ϑ - q cos ϑ) / (l (4/3 - m_p cos² ϑ / M))
        ẍ  = q - m_p l ϑ̈ cos ϑ / M

    and one Euler step of τ = 0.02 s: x += τ ẋ, ẋ += τ ẍ, ϑ += τ ϑ̇, ϑ̇ += τ ϑ̈ (each with the
    old values). g = 9.8, m_c = 1.0, m_p = 0.1, l = 0.5 (half the pole's length).

    Each step pays +1, the last one included; the episode ends when |x| > 2.4 or
    |ϑ| > 12° or after ``max_steps`` steps, so the return is the number of steps balanced.
    Episodes start at s ~ U(-0.05, 0.05)⁴. The policy's features are φ(s) = (x, ẋ, ϑ, ϑ̇, 1).

    Args:
        max_steps: the longest episode, >= 1 (Gym's CartPole-v0 uses 200, v1 500).

    Example:
        >>> env = CartPole()
        >>> s = np.zeros((1, 1, 4))                            # at rest, upright
        >>> s, reward, done = env.step(s, np.ones((1, 1), dtype=int), [])    # push right
        >>> print(s[0, 0].round(4), reward, done)
        [ 0.      0.1951  0.     -0.2927] [[1.]] [[False]]
    """

    gravity = 9.8
    cart_mass = 1.0
    pole_mass = 0.1
    half_length = 0.5
    force = 10.0
    tau = 0.02
    x_limit = 2.4
    angle_limit = 12 * 2 * math.pi / 360

    num_actions = 2
    num_features = 5

    def __init__(self, max_steps: int = 200) -> None:
        self.max_steps = check_int(max_steps, "max_steps", minimum=1)

    def __repr__(self) -> str:
        return f"CartPole(max_steps={self.max_steps})"

    def reset(self, rngs: Sequence[np.random.Generator], batch_size: int) -> np.ndarray:
        """Start states, U(-0.05, 0.05)⁴, shape (R, B, 4)."""
        return np.stack([rng.uniform(-0.05, 0.05, size=(batch_size, 4)) for rng in rngs])

    def step(
        self, states: np.ndarray, actions: np.ndarray, rngs: Sequence[np.random.Generator] = ()
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """One Euler step of the equations above (deterministic: ``rngs`` is not used)."""
        x, x_dot, angle, angle_dot = (states[..., i] for i in range(4))
        total_mass = self.cart_mass + self.pole_mass
        pole_moment = self.pole_mass * self.half_length
        force = self.force * (2.0 * actions - 1.0)  # action 0: -F, action 1: +F
        cos, sin = np.cos(angle), np.sin(angle)
        q = (force + pole_moment * angle_dot**2 * sin) / total_mass
        angle_acc = (self.gravity * sin - cos * q) / (
            self.half_length * (4.0 / 3.0 - self.pole_mass * cos**2 / total_mass)
        )
        x_acc = q - pole_moment * angle_acc * cos / total_mass
        new = np.empty(states.shape)
        new[..., 0] = x + self.tau * x_dot
        new[..., 1] = x_dot + self.tau * x_acc
        new[..., 2] = angle + self.tau * angle_dot
        new[..., 3] = angle_dot + self.tau * angle_acc
        done = (np.abs(new[..., 0]) > self.x_limit) | (np.abs(new[..., 2]) > self.angle_limit)
        return new, np.ones(done.shape), done

    def features(self, states: np.ndarray) -> np.ndarray:
        """φ(s) = (x, ẋ, ϑ, ϑ̇, 1), shape (..., 5)."""
        return np.concatenate([states, np.ones(states.shape[:-1] + (1,))], axis=-1)


def _check_env(env: Any) -> None:
    needed = ("reset", "step", "features", "num_actions", "num_features", "max_steps")
    if not all(hasattr(env, name) for name in needed):
        raise TypeError(
            f"env must have reset, step, features, num_actions, num_features and max_steps "
            f"(e.g. Bandit or CartPole), got env={env!r}"
        )


# =============================================================================================
# Policy, episodes and the REINFORCE estimate
# =============================================================================================


def softmax_policy(theta: np.ndarray, features: np.ndarray) -> np.ndarray:
    """The probabilities of the actions: π(· | s) = softmax(φ(s)ᵀ θ).

    Args:
        theta: θ, shape (..., d, A).
        features: φ(s) of m states, shape (..., m, d) (leading axes broadcast with θ's).

    Returns:
        π, shape (..., m, A); every row sums to 1.

    Example:
        >>> theta = np.array([[0.0, np.log(3.0)]])            # d = 1, A = 2
        >>> print(softmax_policy(theta, np.ones((1, 1))))
        [[0.25 0.75]]
    """
    logits = np.asarray(features, dtype=np.float64) @ np.asarray(theta, dtype=np.float64)
    logits -= logits.max(axis=-1, keepdims=True)
    probs = np.exp(logits)
    return probs / probs.sum(axis=-1, keepdims=True)


@dataclass(frozen=True, eq=False)
class Trajectories:
    """N episodes side by side, padded to the longest (T steps); optional leading run axes.

    Attributes:
        features: φ(s_t), shape (..., N, T, d).
        actions: a_t, integers, shape (..., N, T).
        rewards: r_t (the reward that follows a_t), shape (..., N, T); 0 after the end.
        mask: True while the episode runs, shape (..., N, T).
    """

    features: np.ndarray
    actions: np.ndarray
    rewards: np.ndarray
    mask: np.ndarray

    @property
    def returns(self) -> np.ndarray:
        """The (undiscounted) return of every episode, Σ_t r_t, shape (..., N)."""
        return self.rewards.sum(axis=-1)


def returns_to_go(rewards: np.ndarray, gamma: float = 1.0) -> np.ndarray:
    """The return from every step on: G_t = Σ_{k >= t} γ^{k-t} r_k = r_t + γ G_{t+1}.

    Args:
        rewards: r, shape (..., T) (steps on the last axis).
        gamma: γ, the discount, in [0, 1].

    Returns:
        G, the shape of ``rewards``.

    Example:
        >>> print(returns_to_go(np.array([1.0, 1.0, 1.0]), gamma=0.5))
        [1.75 1.5  1.  ]
    """
    gamma = check_probability(gamma, "gamma")
    rewards = np.asarray(rewards, dtype=np.float64)
    G = np.empty_like(rewards)
    running = np.zeros(rewards.shape[:-1])
    for t in reversed(range(rewards.shape[-1])):
        running = rewards[..., t] + gamma * running
        G[..., t] = running
    return G


def _check_theta(theta: np.ndarray, trajectories: Trajectories) -> np.ndarray:
    if not isinstance(trajectories, Trajectories):
        raise TypeError(
            f"trajectories must be a Trajectories (from rollout), got trajectories of type "
            f"{type(trajectories).__name__}"
        )
    theta = np.asarray(theta, dtype=np.float64)
    d = trajectories.features.shape[-1]
    if theta.ndim < 2 or theta.shape[-2] != d or not np.all(np.isfinite(theta)):
        raise ValueError(
            f"theta must be a finite array of shape (..., {d}, num_actions) (d = the "
            f"trajectories' features), got theta of shape {theta.shape}"
        )
    if trajectories.actions.size and trajectories.actions.max() >= theta.shape[-1]:
        raise ValueError(
            f"theta must have a column per action (> {trajectories.actions.max()}), got theta "
            f"of shape {theta.shape}"
        )
    return theta


def policy_gradient(
    theta: np.ndarray,
    trajectories: Trajectories,
    gamma: float = 1.0,
    baseline: float | np.ndarray | None = None,
) -> np.ndarray:
    """The REINFORCE estimate of ∇_θ E[return] from episodes run with the policy θ.

        ĝ = (1/N) Σ_n Σ_t [t < end_n] (G_{n,t} - b_t) ∇_θ log π(a_{n,t} | s_{n,t}),
        ∇_θ log π(a | s) = φ(s) (e_a - π(· | s))ᵀ

    With γ = 1, E[ĝ] = ∇_θ E[Σ_t r_t] exactly, for any baseline b that does not depend on the
    episodes' own actions. With γ < 1 this is the usual form that omits the factor γ^t, a
    slightly biased estimate that trades bias for variance.

    Args:
        theta: θ, shape (..., d, A): the policy that ran the episodes.
        trajectories: the episodes (``rollout``); leading axes must broadcast with θ's.
        gamma: γ, the discount of the returns-to-go, in [0, 1].
        baseline: b, None (0), a number, or an array broadcasting to (..., N, T), e.g. the
            average return-to-go of each step over earlier episodes, shape (..., 1, T).

    Returns:
        ĝ, the shape of θ.

    Example:
        >>> bandit = Bandit([0.0, 1.0])
        >>> episodes = rollout(bandit, np.zeros((1, 2)), np.random.default_rng(0), 20_000)
        >>> print(policy_gradient(np.zeros((1, 2)), episodes).round(2),
        ...       bandit.return_gradient(np.zeros((1, 2))))
        [[-0.25  0.25]] [[-0.25  0.25]]
    """
    theta = _check_theta(theta, trajectories)
    phi, actions, mask = trajectories.features, trajectories.actions, trajectories.mask
    weights = returns_to_go(trajectories.rewards, gamma)
    if baseline is not None:
        weights = weights - np.asarray(baseline, dtype=np.float64)
    weights = weights * mask
    *lead, n, T, d = phi.shape
    probs = softmax_policy(theta, phi.reshape(*lead, n * T, d))  # (..., N·T, A)
    score = np.eye(theta.shape[-1])[actions.reshape(*lead, n * T)] - probs  # e_a - π
    score *= weights.reshape(*weights.shape[:-2], n * T, 1)
    # Σ_{n,t} φ (w (e_a - π))ᵀ as one (batched) matrix product
    return np.swapaxes(phi.reshape(*lead, n * T, d), -1, -2) @ score / n


def reinforce_update(
    theta: np.ndarray,
    trajectories: Trajectories,
    lr: float | np.ndarray,
    gamma: float = 1.0,
    baseline: float | np.ndarray | None = None,
) -> np.ndarray:
    """One REINFORCE step, a pure function: θ' = θ + α ĝ (ascent: the return is maximised).

    Args:
        theta: θ, shape (..., d, A) (not changed).
        trajectories: episodes run with θ (``rollout``).
        lr: α >= 0, a number or an array with θ's leading shape (one rate per run).
        gamma: γ, the discount, in [0, 1].
        baseline: b, as in ``policy_gradient``.

    Returns:
        θ', a new array of θ's shape.

    Example:
        >>> bandit = Bandit([0.0, 1.0])
        >>> theta = np.zeros((1, 2))
        >>> episodes = rollout(bandit, theta, np.random.default_rng(0), episodes=100)
        >>> print(reinforce_update(theta, episodes, lr=1.0).round(3))
        [[-0.218  0.218]]
    """
    theta = _check_theta(theta, trajectories)
    rate = np.asarray(lr, dtype=np.float64)
    if rate.ndim == 0:
        check_lr(lr, "lr")
    elif rate.shape != theta.shape[:-2] or not np.all(np.isfinite(rate)) or np.any(rate < 0):
        raise ValueError(
            f"lr must be a finite number >= 0 or an array of them of shape {theta.shape[:-2]} "
            f"(one per run), got lr={lr!r}"
        )
    return theta + rate[..., None, None] * policy_gradient(theta, trajectories, gamma, baseline)


def _rollout(
    env: Env, theta: np.ndarray, rngs: Sequence[np.random.Generator], batch_size: int
) -> Trajectories:
    """Episodes of R runs at once: θ (R, d, A), rngs[i] for run i; arrays (R, B, T, ...)."""
    R, T = len(rngs), env.max_steps
    states = env.reset(rngs, batch_size)
    uniforms = np.stack([rng.random((batch_size, T)) for rng in rngs])  # to draw the actions
    features = np.zeros((R, batch_size, T, env.num_features))
    actions = np.zeros((R, batch_size, T), dtype=np.intp)
    rewards = np.zeros((R, batch_size, T))
    mask = np.zeros((R, batch_size, T), dtype=bool)
    alive = np.ones((R, batch_size), dtype=bool)
    for t in range(T):
        phi = env.features(states)
        probs = softmax_policy(theta, phi)  # (R, B, A)
        # inverse CDF: the action is the number of cumulative probabilities below u
        action = (uniforms[:, :, t, None] > np.cumsum(probs, axis=-1)[..., :-1]).sum(axis=-1)
        new_states, reward, done = env.step(states, action, rngs)
        features[:, :, t], actions[:, :, t] = phi, action
        rewards[:, :, t], mask[:, :, t] = reward * alive, alive
        states = np.where(alive[..., None], new_states, states)  # finished episodes stand still
        alive = alive & ~done
        if not alive.any():
            break
    return Trajectories(features, actions, rewards, mask)


def rollout(
    env: Env,
    theta: np.ndarray,
    rng: np.random.Generator | Sequence[np.random.Generator],
    episodes: int = 1,
) -> Trajectories:
    """Run ``episodes`` episodes with the policy π(· | s) = softmax(φ(s)ᵀ θ).

    Args:
        env: a ``Bandit``, a ``CartPole``, or anything with their interface (``Env``).
        theta: θ, shape (d, A); or (R, d, A) for R runs side by side.
        rng: a ``numpy.random.Generator``; for R runs, a list of R generators (run i uses
            ``rng[i]`` only).
        episodes: N, episodes per run, >= 1.

    Returns:
        ``Trajectories`` with arrays of shape (N, T, ...), or (R, N, T, ...) for R runs, where
        T = ``env.max_steps`` (``mask`` tells where each episode ended).

    Example:
        >>> episodes = rollout(CartPole(), np.zeros((5, 2)), np.random.default_rng(0), 3)
        >>> print(episodes.features.shape, episodes.returns)   # a random policy falls fast
        (3, 200, 5) [19. 22. 10.]
    """
    _check_env(env)
    episodes = check_int(episodes, "episodes", minimum=1)
    theta = np.asarray(theta, dtype=np.float64)
    single = isinstance(rng, np.random.Generator)
    rngs = [rng] if single else list(rng) if isinstance(rng, list | tuple) else [None]
    if not all(isinstance(g, np.random.Generator) for g in rngs):
        raise TypeError(f"rng must be a numpy.random.Generator or a list of them, got rng={rng!r}")
    expected = (env.num_features, env.num_actions)
    want = expected if single else (len(rngs),) + expected
    if theta.shape != want:
        raise ValueError(f"theta must have shape {want}, got theta of shape {theta.shape}")
    out = _rollout(env, theta if not single else theta[None], rngs, episodes)
    if single:
        out = Trajectories(out.features[0], out.actions[0], out.rewards[0], out.mask[0])
    return out


# =============================================================================================
# The training loop
# =============================================================================================


@dataclass(frozen=True, eq=False)
class ReinforceHistory:
    """What ``train_reinforce`` records (shapes for rates of shape L and seeds of shape S).

    Attributes:
        returns: the return of every episode, shape (*L, *S, episodes).
        lr: the rate of every update, shape (*L, updates).
        theta: the final policies, shape (*L, *S, d, A).
    """

    returns: np.ndarray
    lr: np.ndarray
    theta: np.ndarray


def _as_list(value: Any, name: str, check: Callable[[Any, str], Any]) -> tuple[list, tuple]:
    """A number or a 1-D sequence of numbers, checked one by one; and the shape to give back."""
    if np.ndim(value) == 0:
        return [check(value, name)], ()
    items = list(np.asarray(value).tolist()) if isinstance(value, np.ndarray) else list(value)
    if np.ndim(value) != 1 or not items:
        raise ValueError(f"{name} must be a number or a 1-D list of numbers, got {name}={value!r}")
    return [check(v, f"{name}[{i}]") for i, v in enumerate(items)], (len(items),)


def train_reinforce(
    env: Env,
    lr: float | Sequence[float],
    episodes: int,
    seed: int | Sequence[int] = 0,
    schedule: Callable[[int], float] | None = None,
    batch_size: int = 1,
    gamma: float = 1.0,
    baseline: bool = True,
    baseline_rate: float = 0.1,
) -> ReinforceHistory:
    """Train softmax policies by REINFORCE, for several rates and seeds at once.

    Every run starts from θ = 0 (the uniform policy) and makes ``episodes / batch_size``
    updates; update t uses ``batch_size`` fresh episodes and the rate

        α_t = lr · schedule(t)        (a factor, as torch's ``LambdaLR``; 1 without schedule)

    With ``baseline``, b_t is the running average of the return-to-go of step t over earlier
    updates, b_t ← b_t + β (mean_n G_{n,t} - b_t) with β = ``baseline_rate`` (b = 0 at first).

    The run of rate ``lr[i]`` and seed ``seed[j]`` is exactly the run of
    ``train_reinforce(env, lr[i], episodes, seed[j], ...)``: all rates see the same random
    numbers for a given seed, so their differences come from the rate alone.

    Args:
        env: a ``Bandit``, a ``CartPole``, or anything with their interface (``Env``).
        lr: α >= 0, or a 1-D list of rates.
        episodes: episodes per run, a multiple of ``batch_size``.
        seed: a seed, or a 1-D list of seeds.
        schedule: a function of the update t returning a factor >= 0 (e.g. a schedule of
            ``lrcourse.schedules`` built with lr=1.0), or None.
        batch_size: episodes per update, >= 1.
        gamma: γ, the discount of the returns-to-go, in [0, 1].
        baseline: subtract the running baseline b_t (True) or not.
        baseline_rate: β, in (0, 1].

    Returns:
        A ``ReinforceHistory``: returns (*L, *S, episodes), lr (*L, updates), theta.

    Example:
        >>> history = train_reinforce(CartPole(), lr=1e-3, episodes=200, seed=[0, 1, 2])
        >>> first, last = history.returns[:, :50].mean(), history.returns[:, -50:].mean()
        >>> print(history.returns.shape, first < 50, last > 100)   # from falling to balancing
        (3, 200) True True
    """
    _check_env(env)
    rates, rate_shape = _as_list(lr, "lr", check_lr)
    seeds, seed_shape = _as_list(seed, "seed", lambda v, name: check_int(v, name))
    episodes = check_int(episodes, "episodes", minimum=1)
    batch_size = check_int(batch_size, "batch_size", minimum=1)
    if episodes % batch_size:
        raise ValueError(
            f"episodes must be a multiple of batch_size={batch_size}, got episodes={episodes}"
        )
    gamma = check_probability(gamma, "gamma")
    if not isinstance(baseline, bool):
        raise TypeError(f"baseline must be True or False, got baseline={baseline!r}")
    baseline_rate = check_probability(baseline_rate, "baseline_rate")
    if baseline_rate == 0:
        raise ValueError(f"baseline_rate must be in (0, 1], got baseline_rate={baseline_rate!r}")
    updates = episodes // batch_size
    factors = np.ones(updates)
    if schedule is not None:
        check_callable(schedule, "schedule")
        for t in range(updates):
            value = schedule(t)
            try:
                factors[t] = value
            except (TypeError, ValueError):
                raise TypeError(
                    f"schedule must return a number, got schedule({t})={value!r}"
                ) from None
            if not math.isfinite(factors[t]) or factors[t] < 0:
                raise ValueError(
                    f"schedule must return a finite number >= 0, got schedule({t})={value!r}"
                )
    n_rates, n_seeds = len(rates), len(seeds)
    R = n_rates * n_seeds  # run r = (rate r // n_seeds, seed r % n_seeds)
    rngs = [np.random.default_rng(s) for _ in rates for s in seeds]
    run_rates = np.repeat(rates, n_seeds)
    theta = np.zeros((R, env.num_features, env.num_actions))
    mean_return_to_go = np.zeros((R, 1, env.max_steps))
    returns = np.zeros((R, episodes))
    for t in progress(range(updates), description="REINFORCE"):
        batch = _rollout(env, theta, rngs, batch_size)
        b = mean_return_to_go if baseline else None
        theta = reinforce_update(theta, batch, run_rates * factors[t], gamma, b)
        if baseline:
            G = returns_to_go(batch.rewards, gamma).mean(axis=1, keepdims=True)
            mean_return_to_go = mean_return_to_go + baseline_rate * (G - mean_return_to_go)
        returns[:, t * batch_size:(t + 1) * batch_size] = batch.returns
    shape = rate_shape + seed_shape
    return ReinforceHistory(
        returns=returns.reshape(shape + (episodes,)),
        lr=(np.asarray(rates)[:, None] * factors).reshape(rate_shape + (updates,)),
        theta=theta.reshape(shape + theta.shape[1:]),
    )
