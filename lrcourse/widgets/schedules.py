"""Explorers of section 03: compose a schedule and train with it; watch a cycle leave a minimum.

:class:`ScheduleComposer` trains the section's noisy logistic regression
(:class:`lrcourse.checks.schedules.NoisyLogistic`) with the schedule its controls describe:
one move costs one schedule evaluation and one batched SGD run of 300 steps (a few
milliseconds of NumPy), then a redraw. :class:`CycleExplorer` precomputes every position
of its sliders when it is built, so a move is a lookup.
"""

from __future__ import annotations

import html
from typing import Any

import ipywidgets as widgets
import numpy as np

from .. import schedules as lib
from ..checks.schedules import TARGET_RATIO, diagnose_schedule, reference_problem
from ..plots import PALETTE, REGIME_COLOURS
from ..problems import BumpyWell
from ..problems.landscapes import Landscape
from ._core import Explorer, alpha_slider, float_slider, int_slider

__all__ = ["KINDS", "CycleExplorer", "ScheduleComposer", "TwoWells", "compose"]

STATUS_COLOURS = {
    "converges": REGIME_COLOURS["converges"],
    "too large": REGIME_COLOURS["diverges"],
    "too noisy": REGIME_COLOURS["oscillates"],
    "too slow": REGIME_COLOURS["too slow"],
    "does not settle": REGIME_COLOURS["diverges"],
    "local minimum": REGIME_COLOURS["oscillates"],
}

# Which knobs each kind of schedule reads (the warm-up applies to all of them).
EVERY = 5  # the composer draws the loss every 5 steps: a fifth of the cost, same picture

KINDS = {
    "constant": (),
    "step": ("factor", "period"),
    "exponential": ("factor", "period"),
    "inverse time (1/t)": ("factor", "period"),
    "linear decay": ("period",),
    "cosine": ("period", "low"),
    "cosine, warm restarts": ("period", "low"),
    "triangular": ("period", "low"),
    "triangular2": ("period", "low"),
    "exp_range": ("factor", "period", "low"),
    "one-cycle": ("period", "low"),
    "inverse sqrt": ("period",),
}
"""The schedules the composer offers, and the knobs each one uses."""


def compose(kind: str, lr: float, factor: float = 0.5, period: int = 100, warmup: int = 0,
            low: float = 0.01, steps: int = 300) -> lib.Schedule:
    """The :mod:`lrcourse.schedules` schedule that the composer's knobs describe.

    ``lr`` is the initial (or peak) rate η₀; ``factor`` γ is what one ``period`` multiplies
    the rate by (step: once per period; exponential: spread evenly over it,
    ``γ^(1/period)`` per step; 1/t: ``η(period) = γ η₀``; exp_range: the amplitude);
    ``low`` is the floor as a fraction of η₀ (cosine's ``eta_min``, the cycles' ``base_lr``,
    one-cycle's starting rate); for the cycles ``period`` is the rise (``step_size_up``),
    for one-cycle the warm-up. ``warmup`` steps of linear warm-up come first, and the
    schedule then starts from its own step 0.
    """
    main = max(steps - warmup, 2)
    if kind == "constant":
        sched = lib.constant(lr)
    elif kind == "step":
        sched = lib.step_decay(lr, period, factor)
    elif kind == "exponential":
        sched = lib.exponential_decay(lr, round(factor ** (1.0 / period), 6))
    elif kind == "inverse time (1/t)":
        sched = lib.inverse_time_decay(lr, round((1.0 / factor - 1.0) / period, 6))
    elif kind == "linear decay":
        sched = lib.polynomial_decay(lr, total_iters=period, power=1.0)
    elif kind == "cosine":
        sched = lib.cosine_annealing(lr, T_max=period, eta_min=low * lr)
    elif kind == "cosine, warm restarts":
        sched = lib.cosine_warm_restarts(lr, T_0=period, eta_min=low * lr)
    elif kind in ("triangular", "triangular2", "exp_range"):
        gamma = round(factor ** (1.0 / period), 6) if kind == "exp_range" else 1.0
        sched = lib.cyclical(low * lr, lr, step_size_up=period, mode=kind, gamma=gamma)
    elif kind == "one-cycle":
        pct = min(max(period, 2) / main, 0.95)
        sched = lib.one_cycle(lr, total_steps=main, pct_start=round(pct, 4), div_factor=1 / low)
    elif kind == "inverse sqrt":
        sched = lib.inverse_sqrt(lr, warmup_steps=period)
    else:
        raise ValueError(f"kind must be one of {', '.join(KINDS)}, got kind={kind!r}")
    return lib.warmup(sched, warmup) if warmup > 0 else sched


def _readout(status: str, items: dict[str, str], advice: str | None = None) -> str:
    colour = STATUS_COLOURS.get(status, "#000000")
    parts = [f"<b style='color:{colour}'>{html.escape(status)}</b>"]
    parts += [f"<b>{k}</b>: {v}" for k, v in items.items()]
    text = " &nbsp;·&nbsp; ".join(parts)
    if advice:
        text += f" <br><span style='font-size:90%'><b>Why</b>: {html.escape(advice)}</span>"
    return text


class ScheduleComposer(Explorer):
    """Build a schedule from its knobs; see η(t) and the training loss it gives, live.

    The problem is SGD with one sample per step on the section's logistic regression, 300
    steps. The right panel shows the excess loss ``L(w_t) - L(w*)``: one run (thin) and the
    mean of ``plot_runs`` runs with other sample orders (thick); the grey curve is the best
    fixed rate. The readout scores the schedule on ``score_runs`` sample orders against the
    target of the "choose a schedule" exercise (80% of the best fixed rate's excess loss).
    """

    def __init__(self, kind: str = "step", lr: float = 0.5, factor: float = 0.3,
                 period: int = 100, warmup: int = 0, low: float = 0.02, plot_runs: int = 6,
                 score_runs: int = 64) -> None:
        self.problem = reference_problem()
        self.steps = self.problem.steps
        self.t = np.arange(self.steps)
        self.plot_seeds = list(range(plot_runs))
        self.score_seeds = list(range(score_runs))
        self.best_lr, self.best_loss = self.problem.best_constant(self.score_seeds)
        self.target = TARGET_RATIO * self.best_loss
        self.best_curve = self.problem.run(np.full(self.steps, self.best_lr),
                                           self.plot_seeds)[0].mean(axis=0)
        kind_menu = widgets.Dropdown(options=list(KINDS), value=kind, description="schedule",
                                     style={"description_width": "initial"})
        controls = {
            "lr": alpha_slider(lr, 1e-3, 3.0, "initial (peak) rate η₀"),
            "kind": kind_menu,
            "factor": float_slider(factor, 0.05, 1.0, 0.05, "decay factor γ per period"),
            "period": int_slider(period, 5, 300, "period (steps)", step=5),
            "warmup": int_slider(warmup, 0, 150, "warm-up (steps)", step=5),
            "low": alpha_slider(low, 1e-3, 1.0, "floor / cycle bottom (× η₀)", 10),
        }
        best = {"lr": float(self.best_lr), "kind": "constant", "warmup": 0}
        super().__init__(controls, best=best, height=3.6,
                         best_label="reset to the best fixed rate")

    def setup(self, fig):
        ax_rate, ax_loss = fig.subplots(1, 2)
        t = self.t
        ax_rate.set_yscale("log")
        ax_rate.set_xlim(0, self.steps)
        ax_rate.set_ylim(1e-4, 5.0)
        ax_rate.set_xlabel("step t")
        ax_rate.set_ylabel("learning rate η(t) (log scale)")
        ax_rate.set_title("the schedule")
        ax_rate.plot(t, np.full(t.size, self.best_lr), color="0.6", linestyle="--",
                     linewidth=1, label=f"best fixed rate {self.best_lr:.2g}")
        ax_rate.legend(loc="lower left", fontsize=8)
        self.rate_line, = ax_rate.plot([], [], color=PALETTE[0], linewidth=1.8)

        k = np.arange(self.steps + 1)
        ax_loss.set_yscale("log")
        ax_loss.set_xlim(0, self.steps)
        ax_loss.set_ylim(1e-3, 3.0)
        ax_loss.set_xlabel("step t")
        ax_loss.set_ylabel("excess loss L(w) − L(w*) (log scale)")
        ax_loss.set_title("training: one run (thin), mean of runs (thick)")
        ax_loss.plot(k, self.best_curve, color="0.6", linewidth=1.2, label="best fixed rate")
        ax_loss.axhline(self.target, color="0.3", linestyle=":", linewidth=1,
                        label=f"target {self.target:.2g}")
        ax_loss.legend(loc="upper right", fontsize=8)
        self.single_line, = ax_loss.plot([], [], color=PALETTE[0], linewidth=0.6, alpha=0.45)
        self.mean_line, = ax_loss.plot([], [], color=PALETTE[0], linewidth=2.0)
        return [self.rate_line, self.single_line, self.mean_line]

    def update(self, lr: float, kind: str, factor: float, period: int, warmup: int,
               low: float) -> str:
        used = KINDS[kind]
        for name in ("factor", "period", "low"):
            self.controls[name].layout.display = "" if name in used else "none"
        sched = compose(kind, lr, factor, period, warmup, low, self.steps)
        rates = np.asarray(sched(self.t), dtype=float)
        curves = self.problem.run(rates, self.plot_seeds, every=EVERY)[0]
        mean = curves.mean(axis=0)
        final = float(self.problem.run(rates, self.score_seeds, record=False).mean())
        status, advice = diagnose_schedule(self.problem, rates, final, self.target, mean)

        self.rate_line.set_data(self.t, np.maximum(rates, 1e-5))
        k = np.arange(0, self.steps + 1, EVERY)
        self.single_line.set_data(k, np.clip(curves[0], 1e-4, 1e3))
        self.mean_line.set_data(k, np.clip(mean, 1e-4, 1e3))
        colour = STATUS_COLOURS[status]
        self.mean_line.set_color(colour)
        self.single_line.set_color(colour)
        items = {
            "schedule": f"<code>{html.escape(_short(sched))}</code>",
            f"final excess loss ({len(self.score_seeds)} runs)": f"{final:.3g}",
            "target": f"{self.target:.3g}",
        }
        return _readout(status, items, advice)


def _short(value: Any) -> str:
    """``repr`` of a schedule with its numbers to 4 significant digits, for a readout."""
    if isinstance(value, lib.Schedule) and value.args is not None:
        shown = ", ".join(f"{key}={_short(arg)}" for key, arg in value.args.items())
        return f"{value.name}({shown})"
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, list | tuple):
        inner = ", ".join(_short(item) for item in value)
        return f"[{inner}]" if isinstance(value, list) else f"({inner})"
    return repr(value)


class TwoWells(Landscape):
    """A 1-D landscape whose GLOBAL minimum is a sharp well and whose local minimum is wide.

    The soft minimum of two parabolas, ``q_a`` (the sharp well) and ``q_b`` (the wide one)::

        q_a(x) = ½ k_a (x - a)²,     q_b(x) = h + ½ k_b (x - b)²
        L(x) = -τ log(exp(-q_a/τ) + exp(-q_b/τ))                  (≈ min(q_a, q_b))
        L'(x) = w q_a' + (1 - w) q_b',   w = 1 / (1 + exp((q_a - q_b) / τ))
        L''(x) = w k_a + (1 - w) k_b - w (1 - w) (q_a' - q_b')² / τ

    With the defaults the global minimum is x = -1 (L ≈ 0, curvature 40: gradient descent can
    stay there only with α < 2/40 = 0.05) and the local one x = 1.5 (L ≈ 0.5, curvature 1:
    stable up to α = 2). The mirror image of :class:`lrcourse.problems.BumpyWell`, where the
    local minima are the sharp ones.

    Args:
        sharp: (a, k_a), the centre and curvature of the sharp well.
        wide: (b, k_b, h), the centre, curvature and height of the wide well.
        tau: the softness τ > 0 of the minimum.
    """

    name = "Two wells"

    def __init__(self, sharp: tuple[float, float] = (-1.0, 40.0),
                 wide: tuple[float, float, float] = (1.5, 1.0, 0.5), tau: float = 0.05) -> None:
        self.a, self.ka = (float(v) for v in sharp)
        self.b, self.kb, self.h = (float(v) for v in wide)
        self.tau = float(tau)
        super().__init__(dim=1, x0=[-0.8], minimum=[self.a], bounds=[(-2.5, 3.5)])
        self.local_minima = np.array([self.b])

    def __repr__(self) -> str:
        return (f"TwoWells(sharp=({self.a:g}, {self.ka:g}), wide=({self.b:g}, {self.kb:g}, "
                f"{self.h:g}), tau={self.tau:g})")

    def _parts(self, x: np.ndarray) -> tuple[np.ndarray, ...]:
        x = x[..., 0]
        qa, qb = 0.5 * self.ka * (x - self.a) ** 2, self.h + 0.5 * self.kb * (x - self.b) ** 2
        w = np.exp(-np.logaddexp(0.0, (qa - qb) / self.tau))
        return qa, qb, w, self.ka * (x - self.a), self.kb * (x - self.b)

    def _loss(self, x: np.ndarray) -> np.ndarray:
        qa, qb, *_ = self._parts(x)
        return -self.tau * np.logaddexp(-qa / self.tau, -qb / self.tau)

    def _grad(self, x: np.ndarray) -> np.ndarray:
        _, _, w, da, db = self._parts(x)
        return (w * da + (1 - w) * db)[..., None]

    def _hessian(self, x: np.ndarray) -> np.ndarray:
        _, _, w, da, db = self._parts(x)
        return (w * self.ka + (1 - w) * self.kb - w * (1 - w) * (da - db) ** 2 / self.tau
                )[..., None, None]


def descend(landscape: Any, x0: float, rates: np.ndarray) -> np.ndarray:
    """Gradient descent on a 1-D landscape with a rate per step, many runs at once.

    ``rates`` has shape (R, N); returns the paths, shape (R, N + 1) (NaN once a run
    overflows).
    """
    rates = np.atleast_2d(np.asarray(rates, dtype=float))
    x = np.full((rates.shape[0], 1), float(x0))
    path = np.empty((rates.shape[0], rates.shape[1] + 1))
    path[:, 0] = x0
    with np.errstate(all="ignore"):
        for k in range(rates.shape[1]):
            x = x - rates[:, k, None] * landscape.grad(x)
            x[~np.isfinite(x) | (np.abs(x) > 1e6)] = np.nan
            path[:, k + 1] = x[:, 0]
    return path


class CycleExplorer(Explorer):
    """A cyclical rate on a landscape with two kinds of minimum: where does the run end?

    The rate cycles between ``base_lr`` and the peak on the slider (``step_size`` steps up,
    as many down), for ``steps`` steps, ending at the bottom of a cycle. The lower right
    panel marks the largest rate each minimum can hold, 2/curvature: above it, gradient
    descent is thrown out of that minimum.
    """

    MODES = ("triangular", "triangular2", "exp_range")
    LANDSCAPES = ("bumpy well", "two wells")

    def __init__(self, lr: float = 0.5, mode: str = "triangular",
                 landscape: str = "bumpy well", base_lr: float = 0.01, step_size: int = 50,
                 steps: int = 600, gamma: float = 0.995) -> None:
        self.base_lr, self.step_size, self.steps, self.gamma = base_lr, step_size, steps, gamma
        slider = alpha_slider(lr, 0.01, 3.0, "peak rate (max_lr)")
        self.peaks = 10 ** (slider.min + slider.step * np.arange(
            int(round((slider.max - slider.min) / slider.step)) + 1))
        self.t = np.arange(steps)
        self.rates = {m: np.array([self._schedule(m, p)(self.t) for p in self.peaks])
                      for m in self.MODES}
        bumpy, two = BumpyWell(), TwoWells()
        sharp = {"bumpy well": float(bumpy.local_minima[-2]), "two wells": two.a}
        self.worlds = {
            "bumpy well": {"landscape": bumpy, "x0": 2.5, "wide": 0.0,
                           "good": "the global minimum (θ = 0)"},
            "two wells": {"landscape": two, "x0": -0.8, "wide": two.b,
                          "good": "the global minimum (θ = -1)"},
        }
        for name, world in self.worlds.items():
            curvature = float(world["landscape"].hessian(np.array([sharp[name]]))[0, 0])
            world["sharp"], world["limit"] = sharp[name], 2.0 / curvature
        self.paths = {}
        for name, world in self.worlds.items():
            stacked = np.concatenate([self.rates[m] for m in self.MODES])
            paths = descend(world["landscape"], world["x0"], stacked)
            self.paths[name] = dict(zip(self.MODES, np.split(paths, len(self.MODES)),
                                        strict=True))
        self._shown = None
        controls = {
            "lr": slider,
            "mode": widgets.ToggleButtons(options=list(self.MODES), value=mode,
                                          description="mode"),
            "landscape": widgets.ToggleButtons(options=list(self.LANDSCAPES), value=landscape,
                                               description="landscape"),
        }
        super().__init__(controls, best=None, height=3.8)

    def _schedule(self, mode: str, peak: float) -> lib.Schedule:
        return lib.cyclical(self.base_lr, max(peak, self.base_lr), step_size_up=self.step_size,
                            mode=mode, gamma=self.gamma)

    def setup(self, fig):
        grid = fig.add_gridspec(2, 2, width_ratios=(1.15, 1))
        self.ax_land = fig.add_subplot(grid[:, 0])
        self.ax_x = fig.add_subplot(grid[0, 1])
        self.ax_rate = fig.add_subplot(grid[1, 1], sharex=self.ax_x)
        self.curve, = self.ax_land.plot([], [], color="0.55", linewidth=1)
        self.ax_land.set_xlabel("θ")
        self.ax_land.set_ylabel("L(θ)")
        self.path_line, = self.ax_land.plot([], [], "-o", color=PALETTE[0], markersize=2,
                                            linewidth=0.5, alpha=0.6)
        self.end_dot, = self.ax_land.plot([], [], "*", color=PALETTE[3], markersize=13)

        self.ax_x.set_ylabel("θ_t")
        self.ax_x.set_xlim(0, self.steps)
        self.ax_x.tick_params(labelbottom=False)
        self.sharp_mark = self.ax_x.axhline(0, color=PALETTE[4], linestyle=":", linewidth=1,
                                            label="sharp minimum")
        self.wide_mark = self.ax_x.axhline(0, color=PALETTE[2], linestyle=":", linewidth=1,
                                           label="wide minimum")
        self.ax_x.legend(loc="lower right", fontsize=7, ncols=2)
        self.x_line, = self.ax_x.plot([], [], color=PALETTE[0], linewidth=1)

        self.ax_rate.set_yscale("log")
        self.ax_rate.set_ylim(1e-3, 10.0)
        self.ax_rate.set_xlabel("step t")
        self.ax_rate.set_ylabel("η(t)")
        self.limit_line = self.ax_rate.axhline(0.1, color=PALETTE[4], linestyle="--",
                                               linewidth=1, label="2/λ of the sharp minimum")
        self.ax_rate.axhline(2.0, color=PALETTE[2], linestyle="--", linewidth=1,
                             label="2/λ of the wide minimum")
        self.ax_rate.legend(loc="lower left", fontsize=7, ncols=2)
        self.rate_line, = self.ax_rate.plot([], [], color=PALETTE[0], linewidth=1)
        return [self.path_line, self.end_dot, self.x_line, self.rate_line]

    def _show_world(self, name: str) -> None:
        world = self.worlds[name]
        land = world["landscape"]
        (low, high), = land.bounds
        x = np.linspace(low, high, 800)
        self.curve.set_data(x, land.loss(x[:, None]))
        top = float(np.max(land.loss(np.array([[low], [high]]))))
        self.ax_land.set_xlim(low, high)
        self.ax_land.set_ylim(-0.3, min(top, 8.0) + 0.5)
        self.ax_land.set_title(f"{land.name}: the run on the landscape")
        self.ax_x.set_ylim(low, high)
        self.sharp_mark.set_ydata([world["sharp"]] * 2)
        self.wide_mark.set_ydata([world["wide"]] * 2)
        self.limit_line.set_ydata([world["limit"]] * 2)
        self._shown = name
        self.redraw_background()

    def update(self, lr: float, mode: str, landscape: str) -> str:
        if landscape != self._shown:
            self._show_world(landscape)
        world = self.worlds[landscape]
        i = int(np.argmin(np.abs(np.log(self.peaks) - np.log(lr))))
        path = self.paths[landscape][mode][i]
        rates = self.rates[mode][i]
        land = world["landscape"]
        ok = np.isfinite(path)
        self.path_line.set_data(path[ok], land.loss(path[ok][:, None]))
        self.x_line.set_data(np.arange(path.size)[ok], path[ok])
        self.rate_line.set_data(self.t, rates)
        end = float(path[-1])
        above = int(np.sum(rates > world["limit"]))
        items = {"peak rate": f"{self.peaks[i]:.3g}",
                 "sharp minimum holds rates below": f"{world['limit']:.3g}",
                 "steps above that": str(above)}
        if not np.isfinite(end) or abs(float(land.grad(np.array([end]))[0])) > 1e-3:
            self.end_dot.set_data([], [])
            return _readout("does not settle", items)
        self.end_dot.set_data([end], [float(land.loss(np.array([end])))])
        if abs(end - float(land.minimum[0])) < 1e-3:
            where, status = world["good"], "converges"
        else:
            kind = "sharp" if abs(end - world["sharp"]) < 1e-3 else "wide"
            where, status = f"a {kind} local minimum (θ ≈ {end:.2f})", "local minimum"
        loss = float(land.loss(np.array([end])))
        shown = f"{loss:.3g}" if abs(loss) > 1e-12 else "≈ 0"
        return _readout(status, {"ends in": where, "final loss": shown, **items})
