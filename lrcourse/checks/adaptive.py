"""Checks for section 04 (adaptive methods): four update rules and one tuned rate.

The learner writes each rule with the state as plain arrays, for example
``adam_step(theta, grad, m, v, t, lr, beta1=0.9, beta2=0.999, eps=1e-8) -> (theta, m, v)``.
The reference is :mod:`lrcourse.optimizers` (torch's conventions), called with the same
state. Each exercise checks single steps from given states and a short run from a zero
state (which catches state that is returned wrongly), and diagnoses the usual slips: a
missing bias correction, ε inside the square root, the step counter off by one, β and
1 − β swapped, an unsquared gradient, the learning rate kept inside the velocity...
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ._core import Case, ValueExercise, make_check, read_rate
from .steps import Rule, StepExercise, adam_by_hand, first_step_division, floats

__all__ = [
    "check_adagrad_step",
    "check_adam_lr",
    "check_adam_step",
    "check_momentum_step",
    "check_rmsprop_step",
]

# ----------------------------------------------------------------------------- momentum


def _momentum(theta, grad, velocity, lr, beta=0.9, nesterov=False):
    from ..optimizers import SGDState, sgd_step

    new, state = sgd_step(floats(theta), floats(grad),
                          SGDState(momentum_buffer=floats(velocity)), lr=lr, momentum=beta,
                          nesterov=nesterov)
    return new.reshape(np.shape(theta)), state.momentum_buffer.reshape(np.shape(theta))


class MomentumStep(StepExercise):
    """``momentum_step(theta, grad, velocity, lr, beta=0.9, nesterov=False)``."""

    name = "momentum_step"
    parts = ("theta", "velocity")
    forbidden = (
        "lrcourse.optimizers.sgd_step",
        "lrcourse.optimizers.Optimizer.step",
        "lrcourse.optimizers._sgd_update",
        "lrcourse.sweeps.sweep",
        "lrcourse.checks.adaptive.MomentumStep.reference",
    )

    def reference(self, theta, grad, velocity, lr, beta=0.9, nesterov=False):
        return _momentum(theta, grad, velocity, lr, beta, nesterov)

    def cases(self, seed: int, hidden: bool, **params: Any) -> list[Case]:
        rng = np.random.default_rng(seed)
        t3, g3, v3 = rng.normal(size=(3, 3))
        cases = [
            Case((np.array([1.0, -2.0]), np.array([0.5, 1.0]), np.zeros(2), 0.1),
                 label="first step: velocity = [0, 0], lr=0.1, beta=0.9 (default)"),
            Case((np.array([1.0, -2.0]), np.array([0.5, 1.0]), np.array([2.0, -1.0]), 0.1),
                 {"beta": 0.5}, label="theta=[1, -2], grad=[0.5, 1], velocity=[2, -1], "
                                      "lr=0.1, beta=0.5"),
            Case((t3, g3, v3, 0.05), {"beta": 0.9, "nesterov": True},
                 label="3 seeded values, lr=0.05, beta=0.9, nesterov=True"),
            Case(label="5 steps in a row on f = ½(θ₁² + 10 θ₂²) from θ = [1, 1] and zero "
                       "velocity (lr=0.02, beta=0.9)",
                 data={"steps": 5, "theta0": [1.0, 1.0], "curvature": [1.0, 10.0],
                       "lr": 0.02, "hyper": {"beta": 0.9}}),
        ]
        if hidden:
            shape = (2, 3, 2)
            cases += [
                Case((np.array(1.5), np.array(-0.5), np.array(0.25), 0.3), {"beta": 0.99},
                     label="0-d arrays"),
                Case((rng.normal(size=shape), rng.normal(size=shape), rng.normal(size=shape),
                      0.01), {"beta": 0.8, "nesterov": True}, label="a 3-d parameter"),
                Case((rng.normal(size=4), rng.normal(size=4), rng.normal(size=4), 1.5),
                     {"beta": 0.3}, label="another seed"),
                Case(label="a longer run with Nesterov momentum",
                     data={"steps": 8, "theta0": rng.normal(size=3).tolist(),
                           "curvature": [0.5, 2.0, 8.0], "lr": 0.05,
                           "hyper": {"beta": 0.7, "nesterov": True}}),
            ]
        return cases

    def wrong_rules(self) -> list[tuple[str, Rule]]:
        def rule(velocity_of, step_of, keep_old=False):
            def wrong(theta, grad, velocity, lr, beta=0.9, nesterov=False):
                theta, grad, v = floats(theta), floats(grad), floats(velocity)
                new_v = velocity_of(grad, v, lr, beta)
                new_theta = step_of(theta, grad, v, new_v, lr, beta, nesterov)
                return new_theta, (v if keep_old else new_v)
            return wrong

        def torch_v(g, v, lr, b):
            return b * v + g

        def step(t, g, v, nv, lr, b, nest):
            return t - lr * (g + b * nv if nest else nv)

        return [
            ("you kept the learning rate inside the velocity (v ← βv − lr·g, θ ← θ + v), "
             "Sutskever's and Keras' form. This course, like torch, keeps the velocity as a sum "
             "of gradients: v ← βv + g, then θ ← θ − lr·v (the two differ once lr changes)",
             rule(lambda g, v, lr, b: b * v - lr * g,
                  lambda t, g, v, nv, lr, b, nest: t + nv)),
            ("the gradient enters the velocity scaled by (1 − β), a moving average: torch's "
             "momentum adds the whole gradient, v ← βv + g",
             rule(lambda g, v, lr, b: b * v + (1 - b) * g, step)),
            ("β and 1 − β are swapped: the old velocity is multiplied by β, v ← βv + g",
             rule(lambda g, v, lr, b: (1 - b) * v + g, step)),
            ("the old velocity does not decay: v ← βv + g, not v + g",
             rule(lambda g, v, lr, b: v + g, step)),
            # with nesterov=True, g + β·v_old IS v_new: "no look-ahead" and "the look-ahead
            # with the old velocity" give the same numbers, so one message covers both
            ("with nesterov=True the step looks ahead with the NEW velocity, θ ← θ − lr·(g + "
             "β·v_new); you stepped with v_new (= g + β·v_old), as plain momentum does",
             rule(torch_v, lambda t, g, v, nv, lr, b, nest: t - lr * nv)),
            ("the step uses the old velocity: first update v ← βv + g, then step with the new v",
             rule(torch_v, lambda t, g, v, nv, lr, b, nest: t - lr * (g + b * nv if nest
                                                                      else v))),
            ("Nesterov's step is g + β·v_new: the gradient itself is missing",
             rule(torch_v, lambda t, g, v, nv, lr, b, nest: t - lr * (b * nv if nest else nv))),
            ("you returned the old velocity: return the updated one, so that the next call "
             "continues from it", rule(torch_v, step, keep_old=True)),
            ("the sign of the step is flipped: you stepped uphill (θ + lr·v)",
             rule(torch_v, lambda t, g, v, nv, lr, b, nest: t + lr * (g + b * nv if nest
                                                                      else nv))),
        ]

    def partial_hints(self) -> dict[str, str]:
        return {
            "state": "the velocity is right but theta is not: the step is θ − lr·v_new "
                     "(θ − lr·(g + β·v_new) with nesterov=True)",
            "theta": "theta is right but the returned velocity is not: return v_new = βv + g",
        }


check_momentum_step = make_check(MomentumStep())

# ------------------------------------------------------------------------------ AdaGrad


def _adagrad(theta, grad, sum_sq, lr, eps=1e-10):
    from ..optimizers import AdagradState, adagrad_step

    new, state = adagrad_step(floats(theta), floats(grad), AdagradState(step=0, sum=floats(sum_sq)),
                              lr=lr, eps=eps)
    return new.reshape(np.shape(theta)), state.sum.reshape(np.shape(theta))


class AdagradStep(StepExercise):
    """``adagrad_step(theta, grad, sum_sq, lr, eps=1e-10) -> (theta, sum_sq)``."""

    name = "adagrad_step"
    parts = ("theta", "sum_sq")
    forbidden = (
        "lrcourse.optimizers.adagrad_step",
        "lrcourse.optimizers.Optimizer.step",
        "lrcourse.optimizers._adagrad_update",
        "lrcourse.checks.adaptive.AdagradStep.reference",
    )

    def reference(self, theta, grad, sum_sq, lr, eps=1e-10):
        return _adagrad(theta, grad, sum_sq, lr, eps)

    def cases(self, seed: int, hidden: bool, **params: Any) -> list[Case]:
        rng = np.random.default_rng(seed)
        cases = [
            Case((np.array([1.0, 1.0]), np.array([0.01, 100.0]), np.zeros(2), 0.1),
                 label="first step: sum_sq=[0, 0], grad=[0.01, 100], lr=0.1"),
            Case((np.array([0.5, -1.0, 2.0]), np.array([1.0, -3.0, 0.0]),
                  np.array([4.0, 16.0, 0.0]), 0.5),
                 label="theta=[0.5, -1, 2], grad=[1, -3, 0], sum_sq=[4, 16, 0], lr=0.5 "
                       "(the last coordinate has never had a gradient)"),
            Case((rng.normal(size=3), 1e-3 * rng.normal(size=3), 1e-6 * rng.uniform(size=3),
                  0.01), {"eps": 1e-4},
                 label="small gradients (about 1e-3), eps=1e-4, 3 seeded values"),
            Case(label="5 steps in a row on f = ½(θ₁² + 10 θ₂²) from θ = [1, 1] and "
                       "sum_sq = [0, 0] (lr=0.5)",
                 data={"steps": 5, "theta0": [1.0, 1.0], "curvature": [1.0, 10.0],
                       "lr": 0.5}),
        ]
        if hidden:
            shape = (3, 2, 2)
            cases += [
                Case((np.array(2.0), np.array(-0.5), np.array(1.0), 0.3), label="0-d arrays"),
                Case((rng.normal(size=shape), rng.normal(size=shape),
                      rng.uniform(0, 5, size=shape), 0.05), label="a 3-d parameter"),
                Case((rng.normal(size=4), np.array([0.0, 1e-7, 2.0, -1e-6]), np.zeros(4), 1.0),
                     {"eps": 1e-6}, label="zero and tiny gradients"),
                Case(label="a longer run", data={"steps": 12,
                                                 "theta0": rng.normal(size=3).tolist(),
                                                 "curvature": [0.1, 1.0, 30.0], "lr": 0.3,
                                                 "hyper": {"eps": 1e-8}}),
            ]
        return cases

    def wrong_rules(self) -> list[tuple[str, Rule]]:
        def rule(sum_of, step_of, keep_old=False):
            def wrong(theta, grad, sum_sq, lr, eps=1e-10):
                theta, grad, s = floats(theta), floats(grad), floats(sum_sq)
                new_s = sum_of(grad, s)
                return step_of(theta, grad, s, new_s, lr, eps), (s if keep_old else new_s)
            return wrong

        def acc(g, s):
            return s + g * g

        def step(t, g, s, ns, lr, eps):
            return t - lr * g / (np.sqrt(ns) + eps)

        return [
            ("the gradient is not squared before it is added: sum_sq ← sum_sq + g² (an "
             "unsquared g can even make the sum shrink)", rule(lambda g, s: s + g, step)),
            ("ε belongs outside the square root, g / (√sum_sq + ε), as in torch; √(sum_sq + ε) "
             "is another convention and gives different steps when gradients are small",
             rule(acc, lambda t, g, s, ns, lr, eps: t - lr * g / np.sqrt(ns + eps))),
            ("the step divides by the OLD sum: add g² first, then divide by √(new sum) + ε "
             "(that is why AdaGrad's first step has length lr in every coordinate)",
             rule(acc, lambda t, g, s, ns, lr, eps: t - lr * g / (np.sqrt(s) + eps))),
            ("the square root is missing: divide by √sum_sq + ε, not by sum_sq + ε",
             rule(acc, lambda t, g, s, ns, lr, eps: t - lr * g / (ns + eps))),
            ("the sum was replaced instead of accumulated: sum_sq ← sum_sq + g², not g²",
             rule(lambda g, s: g * g, step)),
            ("ε is missing from the denominator: a coordinate whose gradients have all been "
             "zero gives 0/0 = nan; divide by √sum_sq + ε",
             rule(acc, lambda t, g, s, ns, lr, eps: t - lr * g / np.sqrt(ns))),
            ("you returned the old sum: return the updated sum_sq so the next call continues "
             "from it", rule(acc, step, keep_old=True)),
            ("the sign of the step is flipped: you stepped uphill",
             rule(acc, lambda t, g, s, ns, lr, eps: t + lr * g / (np.sqrt(ns) + eps))),
        ]

    def partial_hints(self) -> dict[str, str]:
        return {
            "state": "sum_sq is right but theta is not: θ ← θ − lr·g / (√sum_sq + ε) with the "
                     "NEW sum",
            "theta": "theta is right but the returned sum_sq is not: return sum_sq + g²",
        }


check_adagrad_step = make_check(AdagradStep())

# ------------------------------------------------------------------------------ RMSprop


def _rmsprop(theta, grad, square_avg, lr, beta=0.99, eps=1e-8):
    from ..optimizers import RMSpropState, rmsprop_step

    new, state = rmsprop_step(floats(theta), floats(grad),
                              RMSpropState(step=0, square_avg=floats(square_avg)),
                              lr=lr, alpha=beta, eps=eps)
    return new.reshape(np.shape(theta)), state.square_avg.reshape(np.shape(theta))


class RmspropStep(StepExercise):
    """``rmsprop_step(theta, grad, square_avg, lr, beta=0.99, eps=1e-8)``."""

    name = "rmsprop_step"
    parts = ("theta", "square_avg")
    forbidden = (
        "lrcourse.optimizers.rmsprop_step",
        "lrcourse.optimizers.Optimizer.step",
        "lrcourse.optimizers._rmsprop_update",
        "lrcourse.checks.adaptive.RmspropStep.reference",
    )

    def reference(self, theta, grad, square_avg, lr, beta=0.99, eps=1e-8):
        return _rmsprop(theta, grad, square_avg, lr, beta, eps)

    def cases(self, seed: int, hidden: bool, **params: Any) -> list[Case]:
        rng = np.random.default_rng(seed)
        cases = [
            Case((np.array([1.0, 1.0]), np.array([3.0, -0.5]), np.zeros(2), 0.01),
                 label="first step: square_avg=[0, 0], grad=[3, -0.5], lr=0.01, beta=0.99"),
            Case((np.array([0.5, -1.0]), np.array([1.0, 2.0]), np.array([4.0, 0.25]), 0.1),
                 {"beta": 0.9}, label="theta=[0.5, -1], grad=[1, 2], square_avg=[4, 0.25], "
                                      "lr=0.1, beta=0.9"),
            Case((rng.normal(size=3), 1e-3 * rng.normal(size=3), 1e-6 * rng.uniform(size=3),
                  0.01), {"eps": 1e-4},
                 label="small gradients (about 1e-3), eps=1e-4, 3 seeded values"),
            Case(label="5 steps in a row on f = ½(θ₁² + 10 θ₂²) from θ = [1, 1] and "
                       "square_avg = [0, 0] (lr=0.01, beta=0.9)",
                 data={"steps": 5, "theta0": [1.0, 1.0], "curvature": [1.0, 10.0],
                       "lr": 0.01, "hyper": {"beta": 0.9}}),
        ]
        if hidden:
            shape = (2, 2, 3)
            cases += [
                Case((np.array(-1.0), np.array(0.7), np.array(0.2), 0.05), label="0-d arrays"),
                Case((rng.normal(size=shape), rng.normal(size=shape),
                      rng.uniform(0, 2, size=shape), 0.002), {"beta": 0.999},
                     label="a 3-d parameter"),
                Case((rng.normal(size=4), np.array([0.0, 1e-7, 5.0, -1e-6]), np.zeros(4), 0.1),
                     {"beta": 0.5, "eps": 1e-6}, label="zero and tiny gradients"),
                Case(label="a longer run", data={"steps": 12,
                                                 "theta0": rng.normal(size=3).tolist(),
                                                 "curvature": [0.1, 1.0, 30.0], "lr": 0.02,
                                                 "hyper": {"beta": 0.95}}),
            ]
        return cases

    def wrong_rules(self) -> list[tuple[str, Rule]]:
        def rule(avg_of, step_of, keep_old=False):
            def wrong(theta, grad, square_avg, lr, beta=0.99, eps=1e-8):
                theta, grad, v = floats(theta), floats(grad), floats(square_avg)
                new_v = avg_of(grad, v, beta)
                return step_of(theta, grad, v, new_v, lr, eps), (v if keep_old else new_v)
            return wrong

        def avg(g, v, b):
            return b * v + (1 - b) * g * g

        def step(t, g, v, nv, lr, eps):
            return t - lr * g / (np.sqrt(nv) + eps)

        return [
            ("β and 1 − β are swapped: the OLD average gets the weight β (0.99 by default), "
             "the new g² only 1 − β: square_avg ← β·square_avg + (1 − β)·g²",
             rule(lambda g, v, b: (1 - b) * v + b * g * g, step)),
            ("the gradient is not squared: square_avg ← β·square_avg + (1 − β)·g²",
             rule(lambda g, v, b: b * v + (1 - b) * g, step)),
            ("ε belongs outside the square root, g / (√square_avg + ε), as in torch; "
             "√(square_avg + ε) is Keras' convention",
             rule(avg, lambda t, g, v, nv, lr, eps: t - lr * g / np.sqrt(nv + eps))),
            ("the step divides by the OLD average: update square_avg first, then divide",
             rule(avg, lambda t, g, v, nv, lr, eps: t - lr * g / (np.sqrt(v) + eps))),
            ("the square root is missing: divide by √square_avg + ε",
             rule(avg, lambda t, g, v, nv, lr, eps: t - lr * g / (nv + eps))),
            ("you added g² to a sum like AdaGrad; RMSprop keeps a moving AVERAGE that forgets: "
             "square_avg ← β·square_avg + (1 − β)·g²", rule(lambda g, v, b: v + g * g, step)),
            ("the old average does not decay: multiply it by β before adding (1 − β)·g²",
             rule(lambda g, v, b: v + (1 - b) * g * g, step)),
            ("you returned the old square_avg: return the updated one",
             rule(avg, step, keep_old=True)),
            ("the sign of the step is flipped: you stepped uphill",
             rule(avg, lambda t, g, v, nv, lr, eps: t + lr * g / (np.sqrt(nv) + eps))),
        ]

    def partial_hints(self) -> dict[str, str]:
        return {
            "state": "square_avg is right but theta is not: θ ← θ − lr·g / (√square_avg + ε) "
                     "with the NEW average",
            "theta": "theta is right but the returned square_avg is not: return the updated "
                     "average",
        }


check_rmsprop_step = make_check(RmspropStep())

# --------------------------------------------------------------------------------- Adam


def _adam(theta, grad, m, v, t, lr, beta1=0.9, beta2=0.999, eps=1e-8):
    from ..optimizers import AdamState, adam_step

    state = AdamState(step=int(t) - 1, exp_avg=floats(m), exp_avg_sq=floats(v))
    new, state = adam_step(floats(theta), floats(grad), state, lr=lr, betas=(beta1, beta2), eps=eps)
    shape = np.shape(theta)
    return new.reshape(shape), state.exp_avg.reshape(shape), state.exp_avg_sq.reshape(shape)


class AdamStep(StepExercise):
    """``adam_step(theta, grad, m, v, t, lr, beta1=0.9, beta2=0.999, eps=1e-8)``."""

    name = "adam_step"
    parts = ("theta", "m", "v")
    forbidden = (
        "lrcourse.optimizers.adam_step",
        "lrcourse.optimizers.adamw_step",
        "lrcourse.optimizers.nadam_step",
        "lrcourse.optimizers.Optimizer.step",
        "lrcourse.optimizers._adam_update",
        "lrcourse.checks.adaptive.AdamStep.reference",
    )

    def reference(self, theta, grad, m, v, t, lr, beta1=0.9, beta2=0.999, eps=1e-8):
        return _adam(theta, grad, m, v, t, lr, beta1, beta2, eps)

    def call_args(self, theta, grad, state, k, data):
        return (theta, grad, *state, k + 1, data["lr"]), dict(data.get("hyper", {}))

    def cases(self, seed: int, hidden: bool, **params: Any) -> list[Case]:
        rng = np.random.default_rng(seed)
        z = np.zeros(3)
        cases = [
            Case((z, np.array([1e-3, 1.0, 1e3]), z, z, 1, 0.1),
                 label="first step: t=1, m = v = 0, grad=[0.001, 1, 1000], lr=0.1"),
            Case((np.array([1.0, -2.0]), np.array([0.5, -1.0]), np.array([0.1, -0.2]),
                  np.array([0.01, 0.04]), 3, 0.01),
                 label="t=3, theta=[1, -2], grad=[0.5, -1], m=[0.1, -0.2], v=[0.01, 0.04], "
                       "lr=0.01"),
            Case((rng.normal(size=3), 1e-3 * rng.normal(size=3), 1e-4 * rng.normal(size=3),
                  1e-7 * rng.uniform(size=3), 10, 0.001), {"eps": 1e-4},
                 label="t=10, small gradients (about 1e-3), eps=1e-4, 3 seeded values"),
            Case((np.array([0.3, 0.3]), np.array([2.0, -2.0]), np.array([0.5, 0.5]),
                  np.array([1.0, 1.0]), 5, 0.1), {"beta1": 0.5, "beta2": 0.9},
                 label="t=5, theta=[0.3, 0.3], grad=[2, -2], m=[0.5, 0.5], v=[1, 1], lr=0.1, "
                       "beta1=0.5, beta2=0.9"),
            Case(label="3 steps in a row (t = 1, 2, 3) on f = ½(θ₁² + 10 θ₂²) from θ = [1, 1] "
                       "and m = v = 0 (lr=0.1)",
                 data={"steps": 3, "theta0": [1.0, 1.0], "curvature": [1.0, 10.0],
                       "lr": 0.1}),
        ]
        if hidden:
            shape = (2, 3, 2)
            cases += [
                Case((np.array(1.0), np.array(-0.3), np.array(0.0), np.array(0.0), 1, 0.5),
                     label="0-d arrays, first step"),
                Case((rng.normal(size=shape), rng.normal(size=shape), 0.1 * rng.normal(size=shape),
                      0.1 * rng.uniform(size=shape), 2, 0.003), label="a 3-d parameter"),
                Case((rng.normal(size=4), np.array([0.0, 1e-9, 3.0, -1e-5]), np.zeros(4),
                      np.zeros(4), 1, 0.01), label="zero and tiny gradients"),
                Case((rng.normal(size=3), rng.normal(size=3), rng.normal(size=3),
                      rng.uniform(size=3), 50, 0.02), {"beta1": 0.8, "beta2": 0.99},
                     label="a later step with other betas"),
                Case(label="a longer run", data={"steps": 10,
                                                 "theta0": rng.normal(size=3).tolist(),
                                                 "curvature": [0.1, 1.0, 30.0], "lr": 0.05,
                                                 "hyper": {"beta1": 0.85}}),
            ]
        return cases

    def wrong_rules(self) -> list[tuple[str, Rule]]:
        return [
            ("m and v are right, the step is not: the bias correction is missing. Divide by "
             "1 − β^t: m̂ = m / (1 − β1^t), v̂ = v / (1 − β2^t); without it the first steps are "
             "about 3 times too long with the default betas",
             adam_by_hand(correct_m=False, correct_v=False)),
            ("only m is bias-corrected: v needs its own correction, v̂ = v / (1 − β2^t)",
             adam_by_hand(correct_v=False)),
            ("only v is bias-corrected: m needs its own correction, m̂ = m / (1 − β1^t)",
             adam_by_hand(correct_m=False)),
            ("ε belongs outside the square root: m̂ / (√v̂ + ε), as in torch and the paper; "
             "√(v̂ + ε) changes the steps wherever gradients are small",
             adam_by_hand(eps_inside=True)),
            ("off by one in the step counter: t is already the number of THIS step, counting "
             "from 1, so the corrections are 1 − β^t; you used t + 1",
             adam_by_hand(power=+1)),
            ("off by one in the step counter: the corrections are 1 − β^t with t counted from "
             "1; with t − 1 (counting from 0) the first step divides by 1 − β⁰ = 0",
             adam_by_hand(power=-1)),
            ("the correction is 1 − β^t, a power of β that fades as t grows, not the constant "
             "1 − β", adam_by_hand(constant_correction=True)),
            ("β1 and 1 − β1 are swapped in m: m ← β1·m + (1 − β1)·g",
             adam_by_hand(first="swapped")),
            ("β2 and 1 − β2 are swapped in v: v ← β2·v + (1 − β2)·g²",
             adam_by_hand(second="swapped")),
            ("the gradient is not squared in v: v ← β2·v + (1 − β2)·g²",
             adam_by_hand(second="unsquared")),
            ("you returned the bias-corrected m̂ and v̂ as the new state: return the raw m and "
             "v (the correction is worked out afresh from t at every step)",
             adam_by_hand(keep="corrected")),
            ("the step uses the old m and v: update both moments first, then step",
             adam_by_hand(old_moments=True)),
            ("the square root is missing: divide by √v̂ + ε", adam_by_hand(root=False)),
            ("the sign of the step is flipped: you stepped uphill", adam_by_hand(sign=-1.0)),
        ]

    def partial_hints(self) -> dict[str, str]:
        return {
            "state": "m and v are right, the step is not: check the bias correction "
                     "(1 − β^t with the 1-based t), that ε is added to √v̂ outside the root, and "
                     "the sign",
            "m": "m is wrong (v is right): m ← β1·m + (1 − β1)·g",
            "v": "v is wrong (m is right): v ← β2·v + (1 − β2)·g²",
        }

    def judge(self, case: Case, got: Any) -> str | None:
        return first_step_division(case, got) or super().judge(case, got)


check_adam_step = make_check(AdamStep())

# ----------------------------------------------------------------- choosing Adam's rate

BEALE_STARTS = {"A": (1.0, 1.5), "B": (-1.0, 1.0), "C": (2.0, -1.0), "D": (-3.0, 0.5)}


def adam_final_loss(lr: float, start: Sequence[float], steps: int = 200) -> tuple[float, int]:
    """Adam (torch's defaults but ``lr``) on Beale from ``start``: (final loss, diverged at).

    ``diverged at`` is -1 unless the loss went non-finite or exploded
    (:func:`lrcourse.train.has_diverged`).
    """
    from ..optimizers import adam_step
    from ..problems import Beale
    from ..train import has_diverged

    beale = Beale()
    theta = np.array(start, dtype=float)
    state, best = None, np.inf
    with np.errstate(all="ignore"):
        for k in range(steps + 1):
            loss = float(beale.loss(theta))
            if has_diverged(loss, best):
                return loss, k
            best = min(best, loss)
            if k == steps:
                break
            grad = beale.grad(theta)
            if not np.all(np.isfinite(grad)):
                return float("inf"), k
            theta, state = adam_step(theta, grad, state, lr=lr)
    return loss, -1


class AdamLr(ValueExercise):
    """Choose a rate with which Adam gets Beale's loss below 1e-3 in 200 steps from A-D."""

    name = "adam_lr"
    target = 1e-3
    steps = 200

    def cases(self, seed: int, hidden: bool, **params: Any) -> list[Case]:
        names = ["A"] if not hidden else ["A", "B", "C", "D"]
        return [Case(label=(f"Beale from start {n} {BEALE_STARTS[n]}" if not hidden
                            else "one of the four starts of the race"),
                     data={"start": BEALE_STARTS[n], "name": n}) for n in names]

    def expected(self, case: Case) -> float:
        return 1.26

    def judge(self, case: Case, got: Any) -> str | None:
        lr, problem = read_rate(got)
        if problem is not None:
            return problem
        start = case.data["start"]
        loss, diverged = adam_final_loss(lr, start, self.steps)
        where = f"from start {case.data['name']}"
        if diverged >= 0:
            return (f"{where} the run blows up at step {diverged} with α = {lr:.3g}: Adam's "
                    "steps are about α long, far too long here")
        if loss <= self.target:
            return None
        distance = float(np.hypot(start[0] - 3.0, start[1] - 0.5))
        if lr * self.steps < distance:
            return (f"{where} the loss is still {loss:.3g} after {self.steps} steps: α = {lr:.3g} "
                    f"is too small. Adam moves each coordinate by roughly α per step, so "
                    f"{self.steps} steps cover at most about {lr * self.steps:.2g}, and the "
                    f"minimum (3, 0.5) is {distance:.2g} away. Adam's default 1e-3 is a "
                    "default, not a tuned value")
        return (f"{where} the loss is {loss:.3g} after {self.steps} steps (the target is "
                f"{self.target:g}). Look at this start in the race explorer: the path either "
                "still crawls or keeps overshooting at this α. Try the rates around the best "
                "one, and check every start")


check_adam_lr = make_check(AdamLr())
