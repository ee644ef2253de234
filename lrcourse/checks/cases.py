"""Checks for section 09 (case studies): a schedule for the digits conv net, the inverse-sqrt
warm-up schedule, and the REINFORCE gradient of a softmax bandit policy.

The digits runs that the judge re-trains (``digits_splits``, ``train_digits``) live here too,
so that the notebook's comparison and the grader train exactly the same network.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from ._core import Case, Exercise, Mistake, Raised, ValueExercise, make_check, read_rates

__all__ = [
    "check_digits_schedule",
    "check_inverse_sqrt_lr",
    "check_reinforce_gradient",
]

# ------------------------------------------------------------------ the digits runs

DIGITS_BATCH = 64
STEPS_PER_EPOCH = 16  # 1,078 training images in mini-batches of 64
DIGITS_MOMENTUM = 0.9
DIGITS_CHANNELS = 8

_SPLITS: tuple | None = None


def digits_splits() -> tuple[Any, Any, Any]:
    """The 8x8 digits as (train, validation, test): 1,078, 270 and 449 images.

    A quarter of the 1,797 images is set aside for testing (seed 0), then a fifth of the
    rest for validation (seed 1). Built once per process.
    """
    global _SPLITS
    if _SPLITS is None:
        from ..problems import load_digits, train_val_split

        rest, test = train_val_split(load_digits(), frac=0.25, seed=0)
        train, val = train_val_split(rest, frac=0.2, seed=1)
        _SPLITS = (train, val, test)
    return _SPLITS


@dataclass(frozen=True)
class DigitsRun:
    """What one training run of the digits conv net gives.

    Attributes:
        val_accuracy: the fraction of the 270 validation images classified right.
        test_accuracy: the same on the 449 test images.
        loss: the mini-batch loss at every step, shape (steps + 1,) (shorter if it diverged).
        diverged: training stopped on a non-finite or exploding loss.
    """

    val_accuracy: float
    test_accuracy: float
    loss: np.ndarray
    diverged: bool


def train_digits(rates: Any, seed: int = 0) -> DigitsRun:
    """Train the conv net on the digits with one learning rate per update.

    SGD with momentum 0.9 on mini-batches of 64, ``len(rates)`` updates, update ``t`` at
    rate ``rates[t]``; ``seed`` sets both the initial weights and the order of the batches.

    Args:
        rates: the learning rate of every update, a 1-D array of finite numbers >= 0.
        seed: the seed of the initialisation and of the mini-batches.

    Returns:
        A :class:`DigitsRun`.

    Example:
        >>> run = train_digits(np.full(32, 0.1), seed=0)   # two epochs at a constant 0.1
        >>> print(run.loss.shape, run.val_accuracy > 0.8)
        (33,) True
    """
    from ..nn import ConvNet
    from ..optimizers import SGD
    from ..train import supervised_objective, train

    rates = np.asarray(rates, dtype=float)
    if rates.ndim != 1 or not np.all(np.isfinite(rates)) or np.any(rates < 0):
        raise ValueError(f"rates must be a 1-D array of finite numbers >= 0, got {rates!r}")
    train_set, val, test = digits_splits()
    net = ConvNet(channels=DIGITS_CHANNELS, seed=seed)
    objective = supervised_objective(net, train_set.X, train_set.y, batch_size=DIGITS_BATCH)
    optimizer = SGD(net.params, lr=float(rates[0]) if rates.size else 0.0,
                    momentum=DIGITS_MOMENTUM)
    history = train(objective, optimizer, len(rates), schedule=lambda t: float(rates[t]),
                    seed=seed, warn=False)
    with np.errstate(all="ignore"):
        val_acc = net.accuracy(val.X, val.y)
        test_acc = net.accuracy(test.X, test.y)
    return DigitsRun(val_acc, test_acc, np.asarray(history.loss), bool(history.diverged))


# -------------------------------------------------------- choose a schedule for the digits

DIGITS_EPOCHS = 8
DIGITS_TARGET = 0.95
DIGITS_HIDDEN_TARGET = 0.94  # other initialisations: one point of slack for the seed noise
CHANCE = 0.2  # below this a run has collapsed (10 classes: guessing gives 0.1)


def schedule_rates(fn: Any, steps: int) -> np.ndarray:
    """A learner's schedule evaluated at t = 0 .. steps - 1 (vectorised or one t at a time)."""
    t = np.arange(steps)
    with np.errstate(all="ignore"):
        try:
            rates = np.asarray(fn(t), dtype=float)
        except Exception:  # not vectorised: ask step by step
            rates = None
        if rates is not None and rates.shape == (steps,):
            return rates
        values = [np.asarray(fn(int(k)), dtype=float) for k in t]
    if all(v.shape == () for v in values):
        return np.array(values)
    # neither one rate per step nor one rate per array entry: let the judge name the shape
    return rates if rates is not None else np.asarray(values[0])


class DigitsSchedule(ValueExercise):
    """Choose ``digits_schedule(t)``: the conv net must reach the target within the budget."""

    name = "digits_schedule"

    def cases(self, seed: int, hidden: bool, **params: Any) -> list[Case]:
        epochs = int(params.get("epochs", DIGITS_EPOCHS))
        seeds = [3, 4, 5] if hidden else [0, 1, 2]
        target = DIGITS_HIDDEN_TARGET if hidden else DIGITS_TARGET
        label = ("three other initialisations" if hidden
                 else f"{epochs} epochs, initialisation seeds {seeds}")
        return [Case(label=label, data={"steps": epochs * STEPS_PER_EPOCH, "seeds": seeds,
                                        "target": target, "epochs": epochs})]

    def run(self, fn: Any, case: Case) -> Any:
        if not callable(fn):
            return Raised("TypeError", f"digits_schedule must be a function of t, got "
                                       f"a value of type {type(fn).__name__}")
        return schedule_rates(fn, case.data["steps"])

    def expected(self, case: Case) -> float:
        return case.data["target"]

    def judge(self, case: Case, got: Any) -> str | None:
        if isinstance(got, Raised):
            if got.type_name == "NotImplementedError":
                return "not written yet: replace `raise NotImplementedError()` with your code"
            return f"calling digits_schedule(t) raised {got}"
        steps, target = case.data["steps"], case.data["target"]
        rates, problem = read_rates(got, "digits_schedule", steps)
        if problem is not None:
            return problem
        if rates.max() > 5.0:
            return (f"a rate of {rates.max():.3g} is far beyond anything SGD with momentum can "
                    "use on this network; the good peaks are a few tenths at most")
        runs = [train_digits(rates, seed) for seed in case.data["seeds"]]
        accuracy = np.array([r.val_accuracy for r in runs])
        if accuracy.mean() >= target:
            return None
        shown = ", ".join(f"{a:.1%}" for a in accuracy)
        head = (f"mean validation accuracy {accuracy.mean():.1%} (seeds: {shown}), "
                f"below the target {target:.0%}")
        peak, peak_at = float(rates.max()), int(rates.argmax())
        if np.any(accuracy < CHANCE) or any(r.diverged for r in runs):
            return (f"{head}. At least one run collapsed to chance level: the network died "
                    f"under the first large steps (your rate is {rates[0]:.3g} at t = 0 and "
                    f"peaks at {peak:.3g}). Lower the peak, or warm up to it over the first "
                    "few dozen steps")
        half = rates[steps // 2:]
        if peak < 0.03:
            return (f"{head}. Your largest rate is {peak:.3g}: too small to get far in "
                    f"{steps} updates. Peaks between about 0.1 and 0.3 train this net quickly")
        if half.mean() < 0.1 * peak and peak_at < steps // 4:
            return (f"{head}. Your rate falls below a tenth of its peak before half of the "
                    f"{steps} updates are done: with so short a budget the network is still "
                    "far from fitted, so decaying that early stops the progress. Keep the "
                    "rate high for longer and decay towards the end")
        return (f"{head}. Try a peak between about 0.1 and 0.3 that stays high for most of "
                "the budget and falls only towards the end (cosine, or a warm-up then a decay)")

    def passed(self, n: int, hidden: bool) -> str:
        kind = "from other initialisations" if hidden else "on the visible seeds"
        return f"\u2714 digits_schedule reaches the target accuracy {kind}"


check_digits_schedule = make_check(DigitsSchedule())

# ---------------------------------------------------------------- inverse-sqrt warm-up


def _isqrt(t: Any, peak: float, warmup: int, shift: int = 1, decay_shift: int | None = None,
           decay: str = "sqrt", scale_peak: bool = True, use_max: bool = False) -> np.ndarray:
    """The schedule and its usual misreadings, all from one formula with switches."""
    t = np.asarray(t, dtype=float)
    s = t + shift
    s_decay = t + (shift if decay_shift is None else decay_shift)
    with np.errstate(all="ignore"):
        ramp = s / warmup
        if decay == "sqrt":
            fall = np.sqrt(warmup / s_decay)
        elif decay == "sqrt_no_w":
            fall = 1.0 / np.sqrt(s_decay)
        else:  # "linear": W / s
            fall = warmup / s_decay
        value = np.maximum(ramp, fall) if use_max else np.minimum(ramp, fall)
        if not scale_peak:  # the paper's shape without the factor that puts the peak at 1
            value = value / math.sqrt(warmup)
    return peak * value


class InverseSqrtLr(Exercise):
    """``inverse_sqrt_lr(t, peak_lr, warmup_steps)``: linear warm-up, then 1/sqrt decay."""

    name = "inverse_sqrt_lr"
    forbidden = ("lrcourse.schedules.inverse_sqrt",)

    def cases(self, seed: int, hidden: bool, **params: Any) -> list[Case]:
        rng = np.random.default_rng(seed)
        cases = [
            Case((np.array([0, 1, 2, 3, 4, 8, 15]), 1.0, 4),
                 label="t = [0, 1, 2, 3, 4, 8, 15], peak_lr = 1.0, warmup_steps = 4"),
            Case((np.arange(30), 0.5, 10), label="t = 0 .. 29, peak_lr = 0.5, warmup_steps = 10"),
            Case((0, 2e-3, 100), label="a single step t = 0 (an int), peak_lr = 2e-3, "
                                       "warmup_steps = 100"),
        ]
        peak = float(10 ** rng.uniform(-4, -1))
        warm = int(rng.integers(20, 400))
        cases.append(Case((np.arange(0, 5 * warm, 7), peak, warm),
                          label=f"t = 0, 7, 14, ... < {5 * warm}, peak_lr = {peak:.3g}, "
                                f"warmup_steps = {warm}"))
        if hidden:
            cases += [
                Case((np.arange(12), 0.1, 1), label="a warm-up of a single step"),
                Case((np.array([0, 10**6, 10**8]), 1e-3, 4000), label="very late steps"),
                Case((np.arange(20).reshape(4, 5), 0.3, 6), label="a 2-d array of steps"),
                Case((int(rng.integers(1, 50)), 0.05, 50), label="another single step"),
                Case((np.arange(10), 0.0, 3), label="a peak of zero"),
            ]
        return cases

    def run(self, fn: Any, case: Case) -> Any:
        with np.errstate(all="ignore"):
            return super().run(fn, case)

    def expected(self, case: Case) -> Any:
        from ..schedules import inverse_sqrt

        t, peak, warmup = case.args
        return np.asarray(inverse_sqrt(peak, warmup)(t))

    def check_output(self, case: Case, got: Any, want: Any) -> str | None:
        if got is None:
            return "your function returned None: is a `return` statement missing?"
        try:
            arr = np.asarray(got, dtype=float)
        except (TypeError, ValueError):
            return f"expected a number or an array of rates, got a value of type " \
                   f"{type(got).__name__}"
        if arr.shape != np.shape(want):
            if np.ndim(case.args[0]) == 0:
                return (f"for a single step t the result should be a single rate, got shape "
                        f"{arr.shape}")
            return (f"expected one rate per step, shape {np.shape(want)}, got shape {arr.shape}: "
                    "compute elementwise (np.minimum, np.sqrt), not with a loop that changes "
                    "the shape")
        return None

    def judge(self, case: Case, got: Any) -> str | None:
        if isinstance(got, Raised) and "truth value" in got.message:
            return ("t may be an array of steps: Python's min() and `if t < ...` compare whole "
                    "arrays; use np.minimum (elementwise) instead")
        return super().judge(case, got)

    def mistakes(self) -> list[Mistake]:
        def variant(**switches: Any):
            def out(c: Case) -> np.ndarray:
                t, peak, warmup = c.args
                return _isqrt(t, peak, warmup, **switches)
            return out

        def no_ramp(c: Case) -> np.ndarray:
            t, peak, warmup = c.args
            with np.errstate(all="ignore"):
                return peak * np.sqrt(warmup / (np.asarray(t, dtype=float) + 1))

        def flat_ramp(c: Case) -> np.ndarray:
            t, peak, warmup = c.args
            with np.errstate(all="ignore"):
                return peak * np.minimum(1.0, np.sqrt(warmup / (np.asarray(t, dtype=float) + 1)))

        def factor_only(c: Case) -> np.ndarray:
            t, peak, warmup = c.args
            return _isqrt(t, 1.0, warmup)

        off_by_one = ("off by one in the step: the schedule counts s = t + 1 (t = 0 is the "
                      "first update, which should already get peak_lr / warmup_steps, not 0); "
                      "use t + 1 in both branches")
        return [
            Mistake(off_by_one, variant(shift=0)),
            Mistake(off_by_one, variant(shift=1, decay_shift=0)),
            Mistake(off_by_one, variant(shift=0, decay_shift=1)),
            Mistake("the warm-up branch is missing: at t = 0 the rate should be "
                    "peak_lr / warmup_steps and climb in a straight line; take the minimum "
                    "of the ramp (t + 1) / W and the decay sqrt(W / (t + 1))", no_ramp),
            Mistake("the rate starts at the peak: the warm-up is missing. During the first "
                    "warmup_steps steps the rate should climb linearly, peak_lr * (t + 1) / W",
                    flat_ramp),
            Mistake("your curve peaks at peak_lr / sqrt(warmup_steps), not at peak_lr: that is "
                    "the paper's min(s^-0.5, s W^-1.5) with the factor d_model^-0.5 replaced by "
                    "peak_lr. Write it as peak_lr * min(s / W, sqrt(W / s)), whose two branches "
                    "meet at peak_lr", variant(scale_peak=False)),
            Mistake("the decay branch should be sqrt(W / s), which equals 1 at s = W; with "
                    "1 / sqrt(s) the two branches do not meet at the peak",
                    variant(decay="sqrt_no_w")),
            Mistake("the decay is W / s, a 1/t decay; this schedule decays like 1 / sqrt(t): "
                    "sqrt(W / s)", variant(decay="linear")),
            Mistake("max where min belongs: the rate is the smaller of the ramp and the decay "
                    "(np.minimum)", variant(use_max=True)),
            Mistake("this is the shape without its height: multiply by peak_lr", factor_only),
        ]


check_inverse_sqrt_lr = make_check(InverseSqrtLr())

# ------------------------------------------------------------------ the REINFORCE gradient


def _bandit_episodes(actions: np.ndarray, rewards: np.ndarray) -> Any:
    """Bandit pulls as ``Trajectories``: one step per episode, the constant feature 1."""
    from ..rl import Trajectories

    actions = np.asarray(actions, dtype=np.intp)
    n = len(actions)
    return Trajectories(features=np.ones((n, 1, 1)), actions=actions.reshape(n, 1),
                        rewards=np.asarray(rewards, dtype=float).reshape(n, 1),
                        mask=np.ones((n, 1), dtype=bool))


def _softmax(theta: np.ndarray) -> np.ndarray:
    z = np.asarray(theta, dtype=float)
    e = np.exp(z - z.max())
    return e / e.sum()


class ReinforceGradient(Exercise):
    """``reinforce_gradient(theta, actions, rewards, baseline=0.0)`` for a softmax bandit."""

    name = "reinforce_gradient"
    forbidden = ("lrcourse.rl.policy_gradient", "lrcourse.rl.reinforce_update",
                 "lrcourse.rl.Bandit.return_gradient")

    def cases(self, seed: int, hidden: bool, **params: Any) -> list[Case]:
        from ..rl import Bandit, rollout

        rng = np.random.default_rng(seed)
        cases = [
            Case((np.zeros(3), np.array([0, 1, 2, 1]), np.array([1.0, 0.0, 2.0, 1.0])),
                 label="theta = [0, 0, 0], actions = [0, 1, 2, 1], rewards = [1, 0, 2, 1], "
                       "no baseline"),
            Case((np.array([1.0, 0.0, -1.0]), np.array([0, 0, 2]), np.array([2.0, 1.0, 0.5])),
                 {"baseline": 1.0},
                 label="theta = [1, 0, -1], actions = [0, 0, 2], rewards = [2, 1, 0.5], "
                       "baseline = 1"),
        ]
        bandit = Bandit.random(k=5, seed=int(rng.integers(1000)))
        theta = rng.normal(size=5)
        pulls = rollout(bandit, theta[None, :], rng, episodes=40)
        b = float(np.round(rng.uniform(-0.5, 0.5), 2))
        cases.append(Case((theta, pulls.actions[:, 0].copy(), pulls.rewards[:, 0].copy()),
                          {"baseline": b},
                          label=f"a 5-armed bandit, 40 pulls (seeded), baseline = {b:g}"))
        if hidden:
            cases += [
                Case((np.array([0.5, -0.5]), np.array([1]), np.array([3.0])),
                     label="a single pull"),
                Case((np.array([800.0, 0.0, -800.0]), np.array([0, 0, 1]),
                      np.array([1.0, 2.0, -1.0])), {"baseline": 0.5},
                     label="very large preferences"),
                Case((rng.normal(size=4), rng.integers(0, 4, size=200),
                      rng.normal(1.0, 1.0, size=200)), {"baseline": 1.0},
                     label="many pulls, another seed"),
                Case((np.zeros(4), np.array([3, 3]), np.array([1.0, 1.0])), {"baseline": 1.0},
                     label="rewards equal to the baseline"),
            ]
        return cases

    def run(self, fn: Any, case: Case) -> Any:
        with np.errstate(all="ignore"):
            return super().run(fn, case)

    @staticmethod
    def _parts(case: Case) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
        theta, actions, rewards = case.args
        return (np.asarray(theta, dtype=float), np.asarray(actions), np.asarray(rewards, float),
                float(case.kwargs.get("baseline", 0.0)))

    def expected(self, case: Case) -> np.ndarray:
        from ..rl import policy_gradient

        theta, actions, rewards, b = self._parts(case)
        grad = policy_gradient(theta[None, :], _bandit_episodes(actions, rewards), baseline=b)
        return grad[0]

    def check_output(self, case: Case, got: Any, want: Any) -> str | None:
        if got is None:
            return "your function returned None: is a `return` statement missing?"
        try:
            arr = np.asarray(got, dtype=float)
        except (TypeError, ValueError):
            return f"expected an array, got a value of type {type(got).__name__}"
        k, n = len(case.args[0]), len(case.args[1])
        if arr.shape == (k,):
            if np.any(np.isnan(arr)) and np.max(np.abs(case.args[0])) > 100:
                return ("NaN from large preferences: exp(800) overflows. Subtract the largest "
                        "preference before exponentiating, softmax(θ) = softmax(θ - max θ)")
            return None
        if arr.shape == (n, k) and n != k:
            return (f"you returned one gradient per pull, shape {arr.shape}: average them over "
                    "the pulls (axis 0) to get one estimate of shape (k,)")
        if arr.shape in ((1, k), (k, 1)):
            return f"expected shape ({k},), one entry per arm; got shape {arr.shape}"
        return f"expected shape ({k},), one entry per arm; got shape {arr.shape}"

    def mistakes(self) -> list[Mistake]:
        def estimate(weight=lambda r, b: r - b, score=lambda p, onehot: onehot - p,
                     reduce=np.mean):
            def out(c: Case) -> np.ndarray:
                theta, actions, rewards, b = self._parts(c)
                p = _softmax(theta)
                onehot = np.eye(len(theta))[actions]
                return reduce(weight(rewards, b)[:, None] * score(p, onehot), axis=0)
            return out

        def mean_baseline(c: Case) -> np.ndarray:
            theta, actions, rewards, _ = self._parts(c)
            p = _softmax(theta)
            return np.mean((rewards - rewards.mean())[:, None]
                           * (np.eye(len(theta))[actions] - p), axis=0)

        return [
            Mistake("the sign is flipped: the score is ∇ log π(a) = e_a - π (the chosen arm "
                    "minus the probabilities), and REINFORCE climbs it, so a reward above the "
                    "baseline must raise the preference of the arm that earned it",
                    estimate(score=lambda p, onehot: p - onehot)),
            Mistake("you summed over the pulls instead of averaging: divide by the number of "
                    "pulls, so that the size of the step does not grow with the batch",
                    estimate(reduce=np.sum)),
            Mistake("the baseline is not subtracted: weight each pull by (reward - baseline)",
                    estimate(weight=lambda r, b: r)),
            Mistake("the baseline is added; subtract it: (reward - baseline)",
                    estimate(weight=lambda r, b: r + b)),
            Mistake("you used the batch's mean reward as the baseline; use the baseline passed "
                    "in (a baseline computed from the same pulls biases the estimate)",
                    mean_baseline),
            Mistake("the - π part of the score is missing: ∇ log softmax(θ)_a = e_a - π, not "
                    "e_a alone", estimate(score=lambda p, onehot: onehot)),
            Mistake("this is the gradient of π(a), not of log π(a): REINFORCE divides by π(a), "
                    "which leaves e_a - π", estimate(
                        score=lambda p, onehot: (onehot @ p)[:, None] * (onehot - p))),
        ]


check_reinforce_gradient = make_check(ReinforceGradient())
