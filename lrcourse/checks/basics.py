"""Checks for sections 01 (the learning rate) and 02 (its impact on training)."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..problems import Parabola, Quadratic

__all__ = [
    "check_alpha_ill_conditioned",
    "check_alpha_one_step",
    "check_classify_regime",
    "check_gd_step",
    "check_max_stable_lr",
    "check_parabola_iterate",
    "check_run_gd",
]

from ._core import Case, Exercise, Mistake, ValueExercise, make_check, read_rate

# ----------------------------------------------------------------------- 01


def _sgd(theta: Any, grad: Any, lr: float) -> np.ndarray:
    from ..optimizers import sgd_step

    new, _ = sgd_step(np.asarray(theta, dtype=float), np.asarray(grad, dtype=float), lr=lr)
    return new


class GdStep(Exercise):
    """``gd_step(theta, grad, lr)``: one step of gradient descent."""

    name = "gd_step"
    forbidden = ("lrcourse.optimizers.sgd_step", "lrcourse.optimizers.SGD.step")

    def cases(self, seed: int, hidden: bool, **params: Any) -> list[Case]:
        rng = np.random.default_rng(seed)
        cases = [
            Case((2.0, 0.5, 0.1), label="theta=2.0, grad=0.5, lr=0.1 (scalars)"),
            Case((np.array([1.0, -2.0]), np.array([0.5, 0.25]), 0.1),
                 label="theta=[1, -2], grad=[0.5, 0.25], lr=0.1"),
        ]
        theta, grad = rng.normal(size=(3, 4)), rng.normal(size=(3, 4))
        lr = float(10 ** rng.uniform(-3, 0))
        cases.append(Case((theta, grad, lr), label=f"3x4 arrays (seeded), lr={lr:.3g}"))
        if hidden:
            cases += [
                Case((np.array(1.5), np.array(-3.0), 0.2), label="0-d arrays"),
                Case((rng.normal(size=5), rng.normal(size=5), 0.0), label="lr = 0"),
                Case((np.arange(4), np.ones(4), 0.5), label="an integer theta"),
                Case((rng.normal(size=(2, 3, 4)), rng.normal(size=(2, 3, 4)), 1.7),
                     label="a 3-d parameter, lr > 1"),
            ]
        return cases

    def expected(self, case: Case) -> np.ndarray:
        theta, grad, lr = case.args
        return _sgd(theta, grad, lr).reshape(np.shape(theta))

    def mistakes(self) -> list[Mistake]:
        def out(f):
            def wrong(c: Case) -> np.ndarray:
                theta, grad, lr = c.args
                return f(np.asarray(theta, float), np.asarray(grad, float), lr)
            return wrong

        return [
            Mistake("the sign is flipped: you stepped uphill (theta + lr * grad). The gradient "
                    "points uphill, so descent subtracts it", out(lambda t, g, a: t + a * g)),
            Mistake("the gradient is not scaled by the learning rate (theta - grad)",
                    out(lambda t, g, a: t - g)),
            Mistake("you divided by the learning rate; multiply the gradient by it",
                    out(lambda t, g, a: t - g / a)),
            Mistake("you returned the step (-lr * grad), not the new parameters "
                    "theta - lr * grad", out(lambda t, g, a: -a * g)),
            Mistake("you returned lr * grad; return the new parameters theta - lr * grad",
                    out(lambda t, g, a: a * g)),
            Mistake("the learning rate multiplies theta instead of the gradient",
                    out(lambda t, g, a: a * t - g)),
        ]


check_gd_step = make_check(GdStep())


class RunGd(Exercise):
    """``run_gd(grad_fn, theta0, lr, steps)``: the whole path, theta0 first."""

    name = "run_gd"
    forbidden = (
        "lrcourse.optimizers.sgd_step",
        "lrcourse.optimizers.SGD.step",
        "lrcourse.sweeps.sweep",
        "lrcourse.train.train",
    )

    def cases(self, seed: int, hidden: bool, **params: Any) -> list[Case]:
        rng = np.random.default_rng(seed)
        parabola = Parabola(curvature=2.0)
        quad = Quadratic((1.0, 10.0), angle=float(rng.uniform(0, np.pi)))
        cases = [
            Case((parabola.grad, np.array([1.0]), 0.1, 5),
                 label="parabola with curvature 2, theta0=[1], lr=0.1, 5 steps"),
            Case((quad.grad, np.array([1.0, 1.0]), 0.15, 8),
                 label="2-d quadratic (eigenvalues 1, 10), theta0=[1, 1], lr=0.15, 8 steps"),
        ]
        if hidden:
            cases += [
                Case((parabola.grad, np.array([-3.0]), 0.4, 1), label="a single step"),
                Case((parabola.grad, np.array([2.0]), 0.3, 0), label="zero steps"),
                Case((quad.grad, rng.normal(size=2), 0.21, 40), label="a diverging run"),
            ]
        return cases

    def expected(self, case: Case) -> np.ndarray:
        grad_fn, theta, lr, steps = case.args
        path = [np.asarray(theta, dtype=float)]
        with np.errstate(all="ignore"):
            for _ in range(steps):
                path.append(_sgd(path[-1], grad_fn(path[-1]), lr))
        return np.array(path)

    def check_output(self, case: Case, got: Any, want: Any) -> str | None:
        try:
            shape = np.shape(np.asarray(got, dtype=float))
        except (TypeError, ValueError):
            return f"expected an array of points, got a value of type {type(got).__name__}"
        steps = case.args[3]
        if shape == want.shape:
            return None
        if shape == want.shape[1:]:
            return "you returned only the final point: return the whole path (steps + 1 points)"
        if shape[:1] == (steps,) and shape[1:] == want.shape[1:]:
            return (f"off by one: your path has {steps} points; it should have steps + 1 = "
                    f"{steps + 1}, starting with theta0 itself")
        if shape[:1] == (steps + 2,):
            return f"off by one: your path has {steps + 2} points; it should have {steps + 1}"
        return f"expected an array of shape {want.shape}, got shape {shape}"

    def mistakes(self) -> list[Mistake]:
        def frozen_gradient(c: Case) -> np.ndarray:
            grad_fn, theta, lr, steps = c.args
            g = grad_fn(np.asarray(theta, float))
            return np.array([theta - k * lr * g for k in range(steps + 1)])

        def aliased(c: Case) -> np.ndarray:
            final = self.expected(c)[-1]
            return np.array([final] * (c.args[3] + 1))

        def uphill(c: Case) -> np.ndarray:
            grad_fn, theta, lr, steps = c.args
            path = [np.asarray(theta, float)]
            with np.errstate(all="ignore"):
                for _ in range(steps):
                    path.append(path[-1] + lr * grad_fn(path[-1]))
            return np.array(path)

        return [
            Mistake("the gradient is evaluated once at theta0 and reused: recompute "
                    "grad_fn(theta) at the current point on every step", frozen_gradient),
            Mistake("every row of your path is the final point: you appended the same array "
                    "and then changed it in place; append a copy, or build a new array each "
                    "step (theta = theta - lr * g)", aliased),
            Mistake("the path climbs: the sign of the update is flipped", uphill),
        ]


check_run_gd = make_check(RunGd())


class ParabolaIterate(Exercise):
    """``parabola_iterate(x0, curvature, lr, k)``: x_k = (1 - lr * curvature)^k x0."""

    name = "parabola_iterate"
    forbidden = ("lrcourse.problems.Parabola.gd_closed_form",)

    def cases(self, seed: int, hidden: bool, **params: Any) -> list[Case]:
        rng = np.random.default_rng(seed)
        cases = [
            Case((3.0, 2.0, 0.1, 4), label="x0=3, curvature=2, lr=0.1, k=4"),
            Case((1.0, 1.0, 1.5, 3), label="x0=1, curvature=1, lr=1.5, k=3 (overshooting)"),
            Case((-2.0, 4.0, 0.25, 1), label="x0=-2, curvature=4, lr=0.25, k=1"),
        ]
        if hidden:
            x0, lam = float(rng.uniform(-5, 5)), float(rng.uniform(0.5, 8))
            cases += [
                Case((x0, lam, 0.3 / lam, 0), label="k = 0"),
                Case((x0, lam, 2.5 / lam, 7), label="a diverging rate"),
                Case((x0, lam, 0.7 / lam, np.arange(6)), label="k as an array of steps"),
            ]
        return cases

    def expected(self, case: Case) -> Any:
        x0, lam, lr, k = case.args
        return np.asarray(x0 * (1.0 - lr * lam) ** np.asarray(k, dtype=float))

    def mistakes(self) -> list[Mistake]:
        def power(shift: int, sign: float = -1.0, curvature: bool = True):
            def out(c: Case) -> np.ndarray:
                x0, lam, lr, k = c.args
                factor = 1.0 + sign * lr * (lam if curvature else 1.0)
                return np.asarray(x0 * factor ** (np.asarray(k, dtype=float) + shift))
            return out

        return [
            Mistake("off by one in the power: after k steps the factor has been applied "
                    "exactly k times", power(+1)),
            Mistake("off by one in the power: after k steps the factor has been applied "
                    "exactly k times", power(-1)),
            Mistake("the factor is (1 - lr * curvature), with a minus: each step removes a "
                    "fraction lr * curvature of the distance", power(0, +1.0)),
            Mistake("the curvature is missing from the factor (1 - lr * curvature)",
                    power(0, -1.0, curvature=False)),
        ]


check_parabola_iterate = make_check(ParabolaIterate())


class AlphaOneStep(ValueExercise):
    """Choose the rate that reaches the minimum of a parabola in one step."""

    name = "alpha_one_step"

    def cases(self, seed: int, hidden: bool, **params: Any) -> list[Case]:
        curvature = float(params.get("curvature", 4.0))
        starts = [3.0] if not hidden else [-7.0, 0.5, 1e3]
        return [Case(label=f"parabola of curvature {curvature:g}, "
                     + ("another start point" if hidden else f"from x0={x0:g}"),
                     data={"curvature": curvature, "x0": x0}) for x0 in starts]

    def expected(self, case: Case) -> float:
        return 1.0 / case.data["curvature"]

    def judge(self, case: Case, got: Any) -> str | None:
        lr, problem = read_rate(got)
        if problem is not None:
            return problem
        lam, x0 = case.data["curvature"], case.data["x0"]
        x1 = float(Parabola(curvature=lam).gd_closed_form(lr, 1, x0=np.array([x0]))[0])
        if abs(x1) <= 1e-9 * abs(x0):
            return None
        if abs(lr * lam - 2.0) < 1e-6:
            return "with this rate the step jumps to the mirror point -x0: halve it"
        hint = "too small: the step stops short" if lr * lam < 1 else "too large: it overshoots"
        return (f"after one step x1 = {x1:.4g}, not 0. Your rate is {hint}. One step lands on "
                "the minimum when 1 - lr * curvature = 0")


check_alpha_one_step = make_check(AlphaOneStep())

# ----------------------------------------------------------------------- 02


class MaxStableLr(Exercise):
    """``max_stable_lr(hessian)``: the largest rate at which GD converges, 2 / λ_max."""

    name = "max_stable_lr"

    def cases(self, seed: int, hidden: bool, **params: Any) -> list[Case]:
        rng = np.random.default_rng(seed)
        cases = [
            Case((np.array([[4.0]]),), label="1x1 Hessian [[4]]"),
            Case((np.diag([1.0, 10.0]),), label="diag(1, 10)"),
            Case((Quadratic((2.0, 50.0), angle=0.6).A,), label="eigenvalues 2 and 50, rotated"),
        ]
        if hidden:
            q, _ = np.linalg.qr(rng.normal(size=(4, 4)))
            lams = np.sort(10 ** rng.uniform(-2, 2, size=4))
            cases += [
                Case(((q * lams) @ q.T,), label="a rotated 4x4 Hessian"),
                Case((np.diag([5.0, 5.0, 5.0]),), label="equal eigenvalues"),
                Case((np.array([[2.0, 1.9], [1.9, 2.0]]),), label="strongly coupled 2x2"),
            ]
        return cases

    def expected(self, case: Case) -> float:
        return float(2.0 / np.linalg.eigvalsh(case.args[0])[-1])

    def mistakes(self) -> list[Mistake]:
        def of(f):
            return lambda c: float(f(np.linalg.eigvalsh(c.args[0]), c.args[0]))

        return [
            Mistake("1 / λ_max is the rate that lands in one step along the stiffest direction; "
                    "gradient descent still converges (oscillating) up to 2 / λ_max",
                    of(lambda e, H: 1.0 / e[-1])),
            Mistake("the bound is set by the largest eigenvalue, the stiffest direction, "
                    "not the smallest", of(lambda e, H: 2.0 / e[0])),
            Mistake("the largest diagonal entry is not the largest eigenvalue once the "
                    "quadratic is rotated: use the eigenvalues (np.linalg.eigvalsh)",
                    of(lambda e, H: 2.0 / np.max(np.diag(H)))),
            Mistake("the trace is the sum of the eigenvalues, not the largest one",
                    of(lambda e, H: 2.0 / np.trace(H))),
            Mistake("2 * λ_max is upside down: the bound is 2 / λ_max",
                    of(lambda e, H: 2.0 * e[-1])),
        ]


check_max_stable_lr = make_check(MaxStableLr())

REGIMES = ("monotone", "oscillating", "unstable")


def regime_of(lr: float, curvature: float) -> str:
    """The reference classification by the step factor r = 1 - lr * curvature."""
    r = 1.0 - lr * curvature
    if r >= 0.0:
        return "monotone"
    if r > -1.0:
        return "oscillating"
    return "unstable"


class ClassifyRegime(Exercise):
    """``classify_regime(lr, curvature)``: monotone, oscillating or unstable."""

    name = "classify_regime"

    def cases(self, seed: int, hidden: bool, **params: Any) -> list[Case]:
        lams = (0.5, 2.0, 8.0)
        if not hidden:
            return [Case((p / lam, lam), label=f"lr={p / lam:.4g}, curvature={lam:g}")
                    for lam in lams for p in (0.25, 0.75, 1.25, 1.75, 2.5)]
        edges = (1.0, 2.0, 0.999, 1.001, 1.999, 2.001)
        return [Case((p / lam, lam), label="a rate at or next to a regime boundary")
                for lam in lams for p in edges] + [Case((40.0, 1.0), label="a very large rate")]

    def expected(self, case: Case) -> str:
        return regime_of(*case.args)

    def check_output(self, case: Case, got: Any, want: Any) -> str | None:
        if not isinstance(got, str):
            return f"return one of {REGIMES} as a string, got {got!r}"
        if got not in REGIMES:
            return f"{got!r} is not one of {REGIMES}"
        return None

    def mistakes(self) -> list[Mistake]:
        def rule(f):
            return lambda c: f(c.args[0] * c.args[1])

        return [
            Mistake("between lr = 1/curvature and 2/curvature gradient descent still converges: "
                    "each step overshoots but lands closer, so it oscillates; it is unstable "
                    "only from 2/curvature on",
                    rule(lambda p: "monotone" if p <= 1 else "unstable")),
            Mistake("at lr * curvature = 2 the iterate bounces between x0 and -x0 for ever: "
                    "that is not convergence, call it unstable",
                    rule(lambda p: regime_of(p * 0.999999, 1.0) if p == 2 else regime_of(p, 1.0))),
            Mistake("at lr * curvature = 1 the first step lands exactly on the minimum and stays "
                    "there: no overshoot, so it is monotone",
                    rule(lambda p: "oscillating" if p == 1 else regime_of(p, 1.0))),
        ]


check_classify_regime = make_check(ClassifyRegime())


class AlphaIllConditioned(ValueExercise):
    """Choose α so gradient descent gets a loss below 1e-6 within 50 steps."""

    name = "alpha_ill_conditioned"

    def cases(self, seed: int, hidden: bool, **params: Any) -> list[Case]:
        kappa = float(params.get("condition_number", 10.0))
        starts = [(1.0, 1.0)] if not hidden else [(-1.0, 2.0), (2.0, -0.5), (0.3, 1.2)]
        where = "another start point" if hidden else "start (1, 1)"
        return [Case(label=f"condition number {kappa:g}, {where}",
                     data={"kappa": kappa, "x0": s, "steps": 50, "target": 1e-6})
                for s in starts]

    def expected(self, case: Case) -> float:
        q = Quadratic.from_condition(case.data["kappa"])
        return 2.0 / (q.lam_min + q.lam_max)

    def judge(self, case: Case, got: Any) -> str | None:
        lr, problem = read_rate(got)
        if problem is not None:
            return problem
        q = Quadratic.from_condition(case.data["kappa"])
        x = np.array(case.data["x0"], dtype=float)
        with np.errstate(all="ignore"):
            for _ in range(case.data["steps"]):
                x = x - lr * q.grad(x)
            loss = float(q.loss(x))
        if np.isfinite(loss) and loss < case.data["target"]:
            return None
        if lr >= 2.0 / q.lam_max:
            return (f"with lr = {lr:.4g} the run diverges: the stiff direction "
                    f"(curvature {q.lam_max:g}) needs lr < 2 / {q.lam_max:g}")
        return (f"after 50 steps the loss is {loss:.3g}, above 1e-6. The flat direction "
                f"(curvature {q.lam_min:g}) is too slow at this rate; the best single rate "
                "balances the slowest and the stiffest direction")


check_alpha_ill_conditioned = make_check(AlphaIllConditioned())
