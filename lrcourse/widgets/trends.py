"""Section 10 (future trends): many runs of a small network at once, and two explorers.

* :class:`NetLoss` is an MLP of :mod:`lrcourse.nn` seen as a landscape over one flat vector of
  parameters, batched like every landscape of :mod:`lrcourse.problems`: ``x`` of shape
  ``(..., dim)`` gives one network per row. That makes a grid of training runs one NumPy
  computation.
* :func:`large_batch_runs` simulates K data-parallel workers (the gradient of K shards,
  averaged, is the gradient of the K-times larger batch) at equal samples seen, for every
  learning rate, number of workers, rate rule (none, linear, linear + warm-up) and with or
  without LARS; :class:`LargeBatchExplorer` shows them.
* :func:`compare_techniques` runs fixed, scheduled, cyclical, AdaGrad, RMSprop and Adam on
  several problems over a grid of rates, with the library's own update rules;
  :class:`TechniqueExplorer` shows them.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import ipywidgets as widgets
import numpy as np

from ..nn import MLP
from ..optimizers import adagrad_step, adam_step, rmsprop_step, sgd_step
from ..plots import PALETTE, REGIME_COLOURS
from ..problems import (
    LogisticRegressionLoss,
    Quadratic,
    Rosenbrock,
    logistic_regression,
    two_moons,
)
from ..schedules import cosine_annealing, cyclical
from ..train import has_diverged
from ._core import Explorer, alpha_slider, format_readout, nearest, slider_values

__all__ = [
    "OPTIMIZERS",
    "RULES",
    "TECHNIQUES",
    "Comparison",
    "LargeBatchExplorer",
    "LargeBatchRuns",
    "NetLoss",
    "Problem",
    "TechniqueExplorer",
    "closing_problems",
    "compare_techniques",
    "large_batch_runs",
    "lars_coefficient",
    "moons_net",
    "rate_factors",
    "rate_shape",
    "sharpness",
]


# =============================================================================================
# An MLP as a batched landscape
# =============================================================================================


class NetLoss:
    """The mean cross-entropy of ``MLP(sizes)`` on (X, y), over one flat parameter vector.

    The vector is ``[W1.ravel(), b1, W2.ravel(), b2, ...]``, the order of ``MLP.params``;
    ``x`` of shape ``(..., dim)`` holds one network per row, and every row's loss and gradient
    equal ``MLP.loss_and_grads`` for those parameters (to rounding). ``x0`` is the network's
    initialisation (ReLU, He, ``seed``), scaled by ``init_scale``.

    Args:
        sizes: the layer widths, e.g. ``[2, 16, 2]``.
        X, y: the data (y: integer labels).
        seed: the seed of the initialisation.
        init_scale: a factor on the initial weights (1: He initialisation).
    """

    def __init__(self, sizes: Sequence[int], X: np.ndarray, y: np.ndarray, seed: int = 0,
                 init_scale: float = 1.0, activation: str = "relu", init: Any = "he") -> None:
        net = MLP(list(sizes), activation=activation, init=init, seed=seed)
        self.activation = activation
        self.sizes = list(sizes)
        self.X = np.asarray(X, dtype=float)
        self.y = np.asarray(y)
        self.shapes = [p.shape for p in net.params]
        bounds = np.cumsum([0] + [p.size for p in net.params])
        self.slices = [slice(int(a), int(b)) for a, b in zip(bounds[:-1], bounds[1:], strict=True)]
        self.dim = int(bounds[-1])
        self._x0 = init_scale * np.concatenate([p.ravel() for p in net.params])

    @property
    def x0(self) -> np.ndarray:
        return self._x0.copy()

    def params(self, x: np.ndarray) -> list[np.ndarray]:
        """The parameter arrays of one network (a copy), in ``MLP.params`` order."""
        x = np.asarray(x, dtype=float)
        return [x[s].reshape(shape).copy() for s, shape in zip(self.slices, self.shapes,
                                                                strict=True)]

    def gauss_newton_product(self, x: np.ndarray, v: np.ndarray) -> np.ndarray:
        """G v for one network x (shape (dim,)): G = (1/n) Σ_i J_iᵀ (diag p_i − p_i p_iᵀ) J_i.

        J_i is the Jacobian of sample i's logits with respect to the parameters, p_i its
        softmax. J v is a forward pass of the tangent v; Jᵀ u is backpropagation of u.
        """
        p, dp = self.params(x), self.params(v)
        layers = len(self.sizes) - 1
        hidden, tangent, slopes = [self.X], [np.zeros_like(self.X)], []
        for k in range(layers):
            z = hidden[-1] @ p[2 * k] + p[2 * k + 1]
            dz = tangent[-1] @ p[2 * k] + hidden[-1] @ dp[2 * k] + dp[2 * k + 1]
            if k < layers - 1:
                h = np.maximum(z, 0.0) if self.activation == "relu" else np.tanh(z)
                slope = (z > 0).astype(float) if self.activation == "relu" else 1.0 - h * h
                slopes.append(slope)
                z, dz = h, slope * dz
            hidden.append(z)
            tangent.append(dz)
        probs = np.exp(_log_softmax(hidden[-1][None])[0])
        d = tangent[-1]
        g = (probs * d - probs * np.sum(probs * d, axis=1, keepdims=True)) / len(self.X)
        out = np.empty(self.dim)
        for k in reversed(range(layers)):
            out[self.slices[2 * k]] = (hidden[k].T @ g).ravel()
            out[self.slices[2 * k + 1]] = g.sum(axis=0)
            if k > 0:
                g = (g @ p[2 * k].T) * slopes[k - 1]
        return out

    def loss(self, x: np.ndarray) -> np.ndarray:
        return self.loss_and_grad(x)[0]

    def grad(self, x: np.ndarray) -> np.ndarray:
        return self.loss_and_grad(x)[1]

    def loss_and_grad(self, x: np.ndarray, idx: np.ndarray | None = None,
                      grad: bool = True) -> tuple[np.ndarray, np.ndarray | None]:
        """The loss (shape ``(...)``) and gradient (``(..., dim)``) on the rows ``idx`` (all)."""
        x = np.asarray(x, dtype=float)
        lead = x.shape[:-1]
        flat = x.reshape(-1, self.dim)
        runs = len(flat)
        X = self.X if idx is None else self.X[idx]
        y = self.y if idx is None else self.y[idx]
        p = [flat[:, s].reshape((runs,) + shape) for s, shape in zip(self.slices, self.shapes,
                                                                    strict=True)]
        layers = len(self.sizes) - 1
        with np.errstate(all="ignore"):
            hidden = [X]
            for k in range(layers):
                z = np.matmul(hidden[-1], p[2 * k])
                z += p[2 * k + 1][:, None, :]
                if k < layers - 1:
                    if self.activation == "relu":
                        np.maximum(z, 0.0, out=z)
                    else:
                        np.tanh(z, out=z)
                hidden.append(z)
            log_probs = _log_softmax(hidden[-1])
            rows = np.arange(len(y))
            loss = -log_probs[:, rows, y].mean(axis=1)
            if not grad:
                return loss.reshape(lead), None
            g = np.exp(log_probs)
            g[:, rows, y] -= 1.0
            g /= len(y)
            ones = np.ones(len(y))
            out = np.empty((runs, self.dim))
            for k in reversed(range(layers)):
                if k < layers - 1:
                    h = hidden[k + 1]
                    g *= (h > 0) if self.activation == "relu" else 1.0 - h * h
                inputs = hidden[k]
                grad_w = (np.matmul(inputs.T, g) if inputs.ndim == 2
                          else np.matmul(np.swapaxes(inputs, 1, 2), g))
                out[:, self.slices[2 * k]] = grad_w.reshape(runs, -1)
                out[:, self.slices[2 * k + 1]] = np.matmul(ones, g)  # the sum over rows
                if k > 0:
                    g = np.matmul(g, np.ascontiguousarray(np.swapaxes(p[2 * k], 1, 2)))
        return loss.reshape(lead), out.reshape(lead + (self.dim,))


def _log_softmax(logits: np.ndarray) -> np.ndarray:
    """log softmax over the last (short) axis, looping over classes: faster than a reduction."""
    top = logits[..., 0].copy()
    for c in range(1, logits.shape[-1]):
        np.maximum(top, logits[..., c], out=top)
    shifted = logits - top[..., None]
    exps = np.exp(shifted)
    total = exps[..., 0].copy()
    for c in range(1, logits.shape[-1]):
        total += exps[..., c]
    shifted -= np.log(total)[..., None]
    return shifted


# =============================================================================================
# K workers, equal samples seen
# =============================================================================================

RULES = ("none", "linear", "linear + warm-up")
"""How the rate follows the number of workers K: α0; K·α0; K·α0 reached by a linear warm-up."""

OPTIMIZERS = ("SGD", "LARS")


def lars_coefficient(net: NetLoss) -> float:
    """η such that LARS's first step is as long as SGD's: the median ‖∇W‖/‖W‖ at the start.

    Over the weight matrices (not the biases), on the whole data set. With this η a layer's
    LARS rate, γ η ‖W‖/‖∇W‖, starts near γ, so one slider of rates serves both optimizers.
    """
    x = net.x0
    g = net.grad(x)
    ratios = [np.linalg.norm(g[s]) / np.linalg.norm(x[s]) for s in net.slices[0::2]]
    return float(np.median(ratios))


def sharpness(net: NetLoss, x: np.ndarray, iterations: int = 40, seed: int = 0) -> float:
    """λ_max of the Gauss-Newton matrix at x: the loss's largest curvature, for the step size.

    Power iteration, v ← G v / ‖G v‖, with :meth:`NetLoss.gauss_newton_product`. The
    Gauss-Newton matrix G is the curvature that the loss contributes through the network's
    outputs; for a ReLU network it is the Hessian without the kinks of the ReLUs (which finite
    differences would trip on), the usual stand-in for it.
    """
    v = np.random.default_rng(seed).standard_normal(net.dim)
    v /= np.linalg.norm(v)
    lam = 0.0
    for _ in range(iterations):
        gv = net.gauss_newton_product(x, v)
        lam = float(v @ gv)
        v = gv / np.linalg.norm(gv)
    return lam


@dataclass(eq=False)
class LargeBatchRuns:
    """Training runs at equal samples seen, for every (workers, rule, optimizer, α0).

    Attributes:
        lrs: the base rates α0 (the rate for one worker's batch), shape (A,).
        workers: the numbers of workers K.
        rules, optimizers: the rate rules (of :data:`RULES`) and optimizers ("SGD", "LARS").
        per_worker_batch: b, rows per worker per step (the global batch is K·b).
        samples: rows seen by every run (steps = samples // (K·b)).
        trust: LARS's trust coefficient η.
        warmup_fraction: the warm-up's share of the updates.
        seen: ``seen[K]``, the samples seen at each recorded point, shape (P_K,).
        loss: ``loss[K]``, the full-data loss there, shape (rules, optimizers, A, P_K);
            NaN after a run diverged.
        diverged_at: ``diverged_at[K]``, the update at which a run diverged (-1: never),
            shape (rules, optimizers, A).
        steps: ``steps[K]``, the number of updates.
    """

    lrs: np.ndarray
    workers: tuple[int, ...]
    rules: tuple[str, ...]
    optimizers: tuple[str, ...]
    per_worker_batch: int
    samples: int
    trust: float
    warmup_fraction: float
    seen: dict[int, np.ndarray] = field(default_factory=dict)
    loss: dict[int, np.ndarray] = field(default_factory=dict)
    diverged_at: dict[int, np.ndarray] = field(default_factory=dict)
    steps: dict[int, int] = field(default_factory=dict)

    def final(self, workers: int, rule: str | None = None,
              optimizer: str | None = None) -> np.ndarray:
        """Final full-data loss, inf where a run diverged: (rules, optimizers, A), or the
        (A,) row of one rule and optimizer."""
        last = np.where(self.diverged_at[workers] >= 0, np.inf, self.loss[workers][..., -1])
        if rule is None:
            return last
        return last[self.rules.index(rule), self.optimizers.index(optimizer or "SGD")]

    def best(self, workers: int, rule: str, optimizer: str = "SGD") -> tuple[float, float]:
        """(α0, final loss) of the best run of one setting."""
        final = self.final(workers, rule, optimizer)
        i = int(np.argmin(final))
        return float(self.lrs[i]), float(final[i])


def rate_factors(rule: str, workers: int, steps: int, warmup_steps: int) -> np.ndarray:
    """The rate of each update as a multiple of α0 under a rule, shape (steps,).

    "none": 1; "linear": K; "linear + warm-up": 1 + (K − 1) t / W for t < W, then K
    (:func:`lrcourse.distributed.gradual_warmup` from α0 to K·α0).
    """
    t = np.arange(steps, dtype=float)
    if rule == "none":
        return np.ones(steps)
    if rule == "linear" or warmup_steps == 0:
        return np.full(steps, float(workers))
    return np.where(t < warmup_steps, 1.0 + (workers - 1.0) * t / warmup_steps, float(workers))


def large_batch_runs(
    net: NetLoss,
    lrs: Sequence[float],
    workers: Sequence[int] = (1, 4, 16, 64),
    per_worker_batch: int = 8,
    samples: int = 4096,
    rules: Sequence[str] = RULES,
    optimizers: Sequence[str] = OPTIMIZERS,
    warmup_fraction: float = 0.25,
    trust: float | None = None,
    points: int = 16,
    seed: int = 0,
) -> LargeBatchRuns:
    """Simulated data-parallel SGD (and LARS) at equal samples seen, every setting at once.

    For each K: global batch B = K·b and ``samples // B`` updates. Run (rule, optimizer, α0)
    is, to rounding, ::

        net = MLP(sizes, seed=...)            # the network of `net`
        train_data_parallel(net, data, workers=K, per_worker_batch=b, steps=samples // B,
                            base_lr=α0, lr_rule="none" or "linear", warmup_steps=W, seed=seed,
                            optimizer="sgd" or LARS(net.params, lr=α0, momentum=0,
                                                    trust_coefficient=trust, exclude_bias=True))

    with W = round(warmup_fraction · steps) for "linear + warm-up" (0 otherwise): the
    K workers' averaged gradient is the gradient of their B rows, so one batched computation
    stands for all of them. All runs of one K see the same batches. The full-data loss is
    recorded about ``points`` times; a run whose batch loss diverges
    (:func:`lrcourse.train.has_diverged`) is frozen there.

    Args:
        net: the network and data (:class:`NetLoss`).
        lrs: the base rates α0.
        workers: the numbers of workers K.
        per_worker_batch: b.
        samples: the samples every run sees.
        rules, optimizers: which of :data:`RULES` and ("SGD", "LARS") to run.
        warmup_fraction: the warm-up's share of the updates.
        trust: LARS's η; None: :func:`lars_coefficient`.
        points: how many times to record the full-data loss.
        seed: the seed of the batches.

    Returns:
        A :class:`LargeBatchRuns`.
    """
    lrs = np.asarray(lrs, dtype=float)
    rules, optimizers = tuple(rules), tuple(optimizers)
    trust = lars_coefficient(net) if trust is None else float(trust)
    out = LargeBatchRuns(lrs, tuple(int(k) for k in workers), rules, optimizers,
                         int(per_worker_batch), int(samples), trust, float(warmup_fraction))
    shape = (len(rules), len(optimizers), len(lrs))
    runs = math.prod(shape)
    lars = np.zeros(shape, dtype=bool)
    if "LARS" in optimizers:
        lars[:, optimizers.index("LARS")] = True
    lars = lars.ravel()
    base = np.broadcast_to(lrs, shape).ravel()
    rule_of = np.broadcast_to(np.arange(len(rules))[:, None, None], shape).ravel()
    weights = net.slices[0::2]
    for K in out.workers:
        batch = K * out.per_worker_batch
        steps = out.samples // batch
        warm = int(round(warmup_fraction * steps))
        factors = np.stack([rate_factors(r, K, steps, warm) for r in rules])
        record = sorted(set(np.linspace(0, steps, points + 1).round().astype(int).tolist()))
        loss = np.full((runs, len(record)), np.nan)
        x = np.repeat(net.x0[None], runs, axis=0)
        alive = np.ones(runs, dtype=bool)
        best = np.full(runs, np.inf)
        diverged_at = np.full(runs, -1)
        rng = np.random.default_rng(seed)
        with np.errstate(all="ignore"):
            for t in range(steps + 1):
                if t in record:
                    full, _ = net.loss_and_grad(x, grad=False)
                    loss[alive, record.index(t)] = full[alive]
                if t == steps:
                    break
                idx = rng.choice(len(net.X), size=batch, replace=False)
                value, g = net.loss_and_grad(x, idx)
                bad = alive & (has_diverged(value, best) | ~np.all(np.isfinite(g), axis=1))
                diverged_at[bad] = t
                alive &= ~bad
                best = np.where(alive, np.minimum(best, value), best)
                if lars.any():
                    for s in weights:  # LARS: each weight matrix gets its own trust ratio
                        w_norm = np.linalg.norm(x[:, s], axis=1)
                        g_norm = np.linalg.norm(g[:, s], axis=1)
                        ratio = np.where((w_norm > 0) & (g_norm > 0),
                                         trust * w_norm / (g_norm + 1e-9), 1.0)
                        g[:, s] *= np.where(lars, ratio, 1.0)[:, None]
                g[~alive] = 0.0
                x -= (base * factors[rule_of, t])[:, None] * g
        out.seen[K] = np.array(record) * batch
        out.loss[K] = loss.reshape(shape + (len(record),))
        out.diverged_at[K] = diverged_at.reshape(shape)
        out.steps[K] = steps
    return out


def moons_net(init_scale: float = 1.0, n: int = 512) -> NetLoss:
    """The network of the large-batch runs: MLP [2, 16, 2] on ``n`` two-moons points."""
    data = two_moons(n=n, noise=0.15, seed=0)
    return NetLoss([2, 16, 2], data.X, data.y, seed=0, init_scale=init_scale)


def _readout(items: dict[str, str], regime: str, label: str) -> str:
    """A readout whose status word is coloured by its regime (REGIME_COLOURS)."""
    from html import escape

    return (f"<b style='color:{REGIME_COLOURS[regime]}'>{escape(label)}</b> &nbsp;·&nbsp; "
            + format_readout(items))


class LargeBatchExplorer(Explorer):
    """K workers at equal samples seen: the base rate, the rate rule, warm-up and LARS.

    Args:
        lr: the base rate α0 shown first (the rate for one worker's batch of 8).
        workers: K shown first (1, 4, 16 or 64).
        rule: one of :data:`RULES`.
        lars: LARS instead of SGD.
        init_scale: the network's initial weights, in units of He's (3: a sharp start).
        runs: precomputed :func:`large_batch_runs` over the slider's rates (None: run them).
    """

    def __init__(self, lr: float = 0.1, workers: int = 16, rule: str = "linear",
                 lars: bool = False, init_scale: float = 3.0,
                 runs: LargeBatchRuns | None = None) -> None:
        slider = alpha_slider(lr, 1e-2, 10.0, "base rate α0", steps_per_decade=6)
        if runs is None:
            runs = large_batch_runs(moons_net(init_scale), slider_values(slider))
        self.runs = runs
        self.lrs = runs.lrs
        self.best_small, self.best_small_loss = runs.best(1, "none")
        k_slider = widgets.SelectionSlider(options=list(runs.workers), value=workers,
                                           description="workers K", continuous_update=True,
                                           style={"description_width": "initial"})
        rule_buttons = widgets.ToggleButtons(options=list(runs.rules), value=rule,
                                             description="rate rule",
                                             style={"button_width": "120px"})
        lars_box = widgets.Checkbox(value=lars, description="LARS (instead of SGD)",
                                    indent=False)
        super().__init__({"lr": slider, "workers": k_slider, "rule": rule_buttons,
                          "lars": lars_box},
                         best={"lr": self.best_small, "workers": 1, "rule": "linear",
                               "lars": False},
                         width=9.0, height=3.4, best_label="reset: one worker, its best α0")

    def setup(self, fig):
        ax_curve, ax_sweep = fig.subplots(1, 2)
        runs = self.runs
        ax_curve.set_yscale("log")
        ax_curve.set_xlabel("samples seen")
        ax_curve.set_ylabel("loss on the whole data set")
        ax_curve.set_xlim(0, runs.samples)
        ax_curve.set_ylim(0.02, 3)
        i = nearest(runs.lrs, self.best_small)
        ax_curve.plot(runs.seen[1], runs.loss[1][0, 0, i], color="0.6", linewidth=1.2,
                      label=f"K = 1 at its best α0 = {self.best_small:.2g}")
        self.curve, = ax_curve.plot([], [], "-o", color=PALETTE[0], markersize=2.5,
                                    label="the run shown")
        ax_curve.legend(loc="lower left", fontsize=8)
        ax_curve.set_title("training curve", fontsize=10)
        ax_sweep.set_xscale("log")
        ax_sweep.set_yscale("log")
        ax_sweep.set_xlabel("base rate α0 (log)")
        ax_sweep.set_ylabel("final loss (log)")
        ax_sweep.set_xlim(runs.lrs[0], runs.lrs[-1])
        ax_sweep.set_ylim(0.02, 3)
        small = runs.final(1, "none", "SGD")
        ax_sweep.plot(runs.lrs, np.where(np.isfinite(small), small, np.nan), color="0.6",
                      linewidth=1.2, label="K = 1, SGD")
        self.sweep_sgd, = ax_sweep.plot([], [], color=PALETTE[0], label="SGD")
        self.sweep_lars, = ax_sweep.plot([], [], color=PALETTE[1], linestyle="--", label="LARS")
        self.marker, = ax_sweep.plot([], [], "o", color=PALETTE[3], markersize=7)
        ax_sweep.legend(loc="upper left", fontsize=8)
        self.sweep_title = ax_sweep.set_title("", fontsize=10)
        return [self.curve, self.sweep_sgd, self.sweep_lars, self.marker, self.sweep_title]

    def update(self, lr: float, workers: int, rule: str, lars: bool) -> str:
        runs = self.runs
        i = nearest(runs.lrs, lr)
        optimizer = "LARS" if lars else "SGD"
        r, j = runs.rules.index(rule), runs.optimizers.index(optimizer)
        curve = runs.loss[workers][r, j, i]
        ok = np.isfinite(curve)
        self.curve.set_data(runs.seen[workers][ok], curve[ok])
        self.curve.set_color(PALETTE[1] if lars else PALETTE[0])
        for line, name in ((self.sweep_sgd, "SGD"), (self.sweep_lars, "LARS")):
            final = runs.final(workers, rule, name)
            line.set_data(runs.lrs, np.where(np.isfinite(final), final, np.nan))
        self.sweep_title.set_text(f"every α0 at K = {workers}, rule: {rule}")
        steps = runs.steps[workers]
        rate = runs.lrs[i] * (1 if rule == "none" else workers)
        items = {"α0": f"{runs.lrs[i]:.3g}", "rate": f"{rate:.3g}",
                 "batch": str(workers * runs.per_worker_batch), "updates": str(steps)}
        stop = int(runs.diverged_at[workers][r, j, i])
        if stop >= 0:
            self.marker.set_data([], [])
            items["diverged at step"] = str(stop)
            return format_readout(items, "diverges")
        value = float(runs.final(workers, rule, optimizer)[i])
        self.marker.set_data([runs.lrs[i]], [value])
        items["final loss"] = f"{value:.3g}"
        items["one worker's best"] = f"{self.best_small_loss:.3g}"
        if value <= 1.5 * self.best_small_loss:
            return _readout(items, "converges", "converges as well as one worker")
        return _readout(items, "too slow", "too slow: behind one worker")


# =============================================================================================
# The closing table: six techniques, several problems, every rate
# =============================================================================================

TECHNIQUES = ("fixed", "schedule", "cyclical", "AdaGrad", "RMSprop", "Adam")
"""The rows of the guide's table: constant rate, cosine schedule, triangular cycles (plain
gradient descent for these three), and the adaptive methods with torch's defaults."""

TECHNIQUE_COLOURS = dict(zip(TECHNIQUES, (PALETTE[7], PALETTE[5], PALETTE[4], PALETTE[2],
                                          PALETTE[1], PALETTE[3]), strict=True))


@dataclass(eq=False)
class Problem:
    """One problem of the comparison.

    Attributes:
        name: its label; ``landscape``: batched ``loss``/``grad`` (or ``loss_and_grad``);
        x0: the start; steps: the updates of every run; minimum: the lowest loss (the
        comparison measures the gap ``loss − minimum``).
    """

    name: str
    landscape: Any
    x0: np.ndarray
    steps: int
    minimum: float = 0.0


def rate_shape(technique: str, steps: int) -> np.ndarray:
    """The rate of each update as a multiple of α: 1, a cosine from 1 to 0, or triangles.

    "schedule": ``cosine_annealing(1, T_max=steps)``; "cyclical": ``cyclical(0.1, 1,
    step_size_up=steps // 10)`` (five cycles between α/10 and α); 1 for the others.
    """
    t = np.arange(steps)
    if technique == "schedule":
        return cosine_annealing(1.0, T_max=steps)(t)
    if technique == "cyclical":
        return cyclical(0.1, 1.0, step_size_up=max(steps // 10, 1))(t)
    return np.ones(steps)


_RULES = {"fixed": sgd_step, "schedule": sgd_step, "cyclical": sgd_step,
          "AdaGrad": adagrad_step, "RMSprop": rmsprop_step, "Adam": adam_step}


def closing_problems() -> list[Problem]:
    """The four problems of the closing table."""
    data = logistic_regression(n=200, d=10, sparse_features=4, seed=0)
    logistic = LogisticRegressionLoss(data.X, data.y)
    w = np.zeros(10)
    for _ in range(30):  # Newton's method: the minimum to measure the gap from
        w = w - np.linalg.solve(logistic.hessian(w), logistic.grad(w))
    moons = two_moons(n=64, noise=0.1, seed=0)
    net = NetLoss([2, 8, 2], moons.X, moons.y, seed=0)
    quadratic = Quadratic.from_condition(100.0, angle=np.pi / 6)
    return [
        Problem("quadratic, κ = 100", quadratic, quadratic.x0, 200),
        Problem("Rosenbrock", Rosenbrock(), np.array([-1.2, 1.0]), 200),
        Problem("logistic, sparse features", logistic, np.zeros(10), 200,
                float(logistic.loss(w))),
        Problem("MLP, two moons", net, net.x0, 300),
    ]


@dataclass(eq=False)
class Comparison:
    """Every technique at every rate on every problem.

    Attributes:
        problems: the :class:`Problem` s; ``lrs``: the rates α, shape (A,);
        techniques: the rows (of :data:`TECHNIQUES`).
        gap: ``gap[name]``, loss − minimum per step, shape (techniques, A, steps + 1),
            NaN after the step at which a run diverged (as :func:`lrcourse.sweeps.sweep`).
        diverged_at: ``diverged_at[name]``, shape (techniques, A), -1 for runs that did not.
        solved: gaps below ``solved`` × the starting gap count as 0 (rounding).
        band: the factor of the sensitivity band (10: rates within 10× of the best gap).
        progress: the target of "steps to target", a fraction of the starting gap.
    """

    problems: list[Problem]
    lrs: np.ndarray
    techniques: tuple[str, ...]
    gap: dict[str, np.ndarray]
    diverged_at: dict[str, np.ndarray]
    solved: float = 1e-10
    band: float = 10.0
    progress: float = 1e-2

    def _floor(self, name: str) -> float:
        return self.solved * float(self.gap[name][0, 0, 0])

    def final(self, name: str) -> np.ndarray:
        """Final gap, at least the "solved" floor; inf where a run diverged. (techniques, A)."""
        last = np.maximum(self.gap[name][..., -1], self._floor(name))
        return np.where(self.diverged_at[name] >= 0, np.inf, last)

    def steps_to(self, name: str) -> np.ndarray:
        """First step with gap <= progress × the starting gap; steps + 1 if never."""
        gap = self.gap[name]
        hit = gap <= self.progress * gap[..., :1]
        return np.where(hit.any(axis=-1), np.argmax(hit, axis=-1), gap.shape[-1])

    def best(self, name: str) -> np.ndarray:
        """Index of each technique's own best rate: the lowest final gap; among equal gaps
        (all at the "solved" floor), the fewest steps to the target."""
        final, steps = self.final(name), self.steps_to(name)
        return np.array([np.lexsort((steps[j], final[j]))[0] for j in range(len(final))])

    def width(self, name: str) -> np.ndarray:
        """Decades of α whose final gap is within ``band`` × the technique's best, counted in
        cells of the rate grid (one rate alone: one cell)."""
        final = self.final(name)
        cell = np.log10(self.lrs[1] / self.lrs[0])
        out = np.empty(len(final))
        for j, row in enumerate(final):
            ok = np.flatnonzero(row <= self.band * row.min()) if np.isfinite(row.min()) else []
            out[j] = (np.log10(self.lrs[ok[-1]] / self.lrs[ok[0]]) + cell) if len(ok) else 0.0
        return out

    def table(self) -> dict[str, dict[str, dict[str, float]]]:
        """problem -> technique -> {"lr", "gap", "steps", "width"}."""
        out: dict[str, dict[str, dict[str, float]]] = {}
        for p in self.problems:
            best, final = self.best(p.name), self.final(p.name)
            steps, width = self.steps_to(p.name), self.width(p.name)
            out[p.name] = {
                t: {"lr": float(self.lrs[best[j]]), "gap": float(final[j, best[j]]),
                    "steps": int(steps[j, best[j]]), "width": float(width[j])}
                for j, t in enumerate(self.techniques)}
        return out


def _technique_runs(problem: Problem, lrs: np.ndarray,
                    techniques: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """Every technique at every rate on one problem: (gap, diverged_at).

    With θ = θ0 + α φ each update rule runs on φ with rate s(t), the technique's shape: the
    rules of :mod:`lrcourse.optimizers` step by lr times a function of the gradients only
    (no weight decay, no momentum in the state), so this is exactly the run at rate α s(t).
    """
    T, landscape = problem.steps, problem.landscape
    theta0 = np.asarray(problem.x0, dtype=float)
    shape = (len(techniques), len(lrs))
    shapes = [rate_shape(t, T) for t in techniques]
    phi = np.zeros(shape + theta0.shape)
    states: list[Any] = [None] * len(techniques)
    gap = np.full(shape + (T + 1,), np.nan)
    alive = np.ones(shape, dtype=bool)
    best = np.full(shape, np.inf)
    diverged_at = np.full(shape, -1)
    scale = lrs[None, :, None]
    with np.errstate(all="ignore"):
        for k in range(T + 1):
            theta = theta0 + scale * phi
            if hasattr(landscape, "loss_and_grad"):
                value, g = landscape.loss_and_grad(theta)
            else:
                value, g = landscape.loss(theta), landscape.grad(theta)
            value = value - problem.minimum
            dead = alive & (has_diverged(value, best) | ~np.all(np.isfinite(g), axis=-1))
            diverged_at[dead] = k
            gap[alive, k] = value[alive]  # the loss that tripped the detector is kept
            alive &= ~dead
            best = np.where(alive, np.minimum(best, value), best)
            if k == T:
                break
            g = np.where(alive[..., None], g, 0.0)
            for j, name in enumerate(techniques):
                phi[j], states[j] = _RULES[name](phi[j], g[j], states[j], lr=float(shapes[j][k]))
    return gap, diverged_at


def compare_techniques(problems: Sequence[Problem] | None = None, lrs: Any = None,
                       techniques: Sequence[str] = TECHNIQUES) -> Comparison:
    """Run every technique at every rate on every problem (one batched run per problem).

    Args:
        problems: the problems (None: :func:`closing_problems`).
        lrs: the rates α (None: 31 rates, five per decade from 1e-4 to 100).
        techniques: the rows, a subset of :data:`TECHNIQUES`.

    Returns:
        A :class:`Comparison`.
    """
    problems = closing_problems() if problems is None else list(problems)
    lrs = np.geomspace(1e-4, 100.0, 31) if lrs is None else np.asarray(lrs, dtype=float)
    techniques = tuple(techniques)
    gap, diverged = {}, {}
    for p in problems:
        gap[p.name], diverged[p.name] = _technique_runs(p, lrs, techniques)
    return Comparison(problems, lrs, techniques, gap, diverged)


class TechniqueExplorer(Explorer):
    """The closing table, live: the final gap of each technique against α on one problem."""

    def __init__(self, comparison: Comparison | None = None, lr: float = 0.01,
                 problem: str | None = None) -> None:
        self.comparison = comparison if comparison is not None else compare_techniques()
        c = self.comparison
        per_decade = int(round(1.0 / np.log10(c.lrs[1] / c.lrs[0])))
        slider = alpha_slider(lr, float(c.lrs[0]), float(c.lrs[-1]), "learning rate α",
                              steps_per_decade=per_decade)
        names = [p.name for p in c.problems]
        menu = widgets.Dropdown(options=names, value=problem or names[0], description="problem",
                                style={"description_width": "initial"})
        best = c.best(menu.value)[c.techniques.index("Adam")] if "Adam" in c.techniques else 0
        super().__init__({"lr": slider, "problem": menu},
                         best={"lr": float(c.lrs[best])}, width=9.0, height=3.6,
                         best_label="reset to Adam's best α")
        self.fig.set_layout_engine("none")  # every problem keeps the axes of the first draw
        menu.observe(self._new_problem, names="value")

    def _new_problem(self, change: Any) -> None:
        c = self.comparison
        if "Adam" in c.techniques:
            self.best = {"lr": float(c.lrs[c.best(change["new"])[c.techniques.index("Adam")]])}

    def setup(self, fig):
        c = self.comparison
        ax_sweep, ax_curve = fig.subplots(1, 2, width_ratios=(1.2, 1))
        ax_sweep.set_xscale("log")
        ax_sweep.set_yscale("log")
        ax_sweep.set_xlim(c.lrs[0], c.lrs[-1])
        ax_sweep.set_xlabel("learning rate α (log)")
        ax_sweep.set_ylabel("final loss gap (log)")
        self.lines = {t: ax_sweep.plot([], [], color=TECHNIQUE_COLOURS[t], label=t,
                                       linewidth=1.4)[0] for t in c.techniques}
        fig.legend(handles=list(self.lines.values()), loc="outside upper center",
                   ncol=len(c.techniques), fontsize=8)
        self.vline = ax_sweep.axvline(c.lrs[0], color="0.3", linewidth=0.8, linestyle=":")
        ax_curve.set_yscale("log")
        ax_curve.set_xlabel("step")
        ax_curve.set_ylabel("loss gap at this α (log)")
        ax_curve.set_title("the runs at the α shown", fontsize=10)
        self.curves = {t: ax_curve.plot([], [], color=TECHNIQUE_COLOURS[t],
                                        linewidth=1.2)[0] for t in c.techniques}
        self.ax_sweep, self.ax_curve = ax_sweep, ax_curve
        return [self.vline, *self.curves.values()]

    def _show_problem(self, name: str) -> None:
        c = self.comparison
        final = c.final(name)
        shown = final[np.isfinite(final)]
        low, high = float(shown.min()), float(c.gap[name][0, 0, 0])
        for j, t in enumerate(c.techniques):
            self.lines[t].set_data(c.lrs, np.where(np.isfinite(final[j]), final[j], np.nan))
        self.ax_sweep.set_ylim(low / 3, high * 30)
        steps = c.gap[name].shape[-1] - 1
        self.ax_curve.set_xlim(0, steps)
        self.ax_curve.set_ylim(low / 3, high * 30)
        self.ax_sweep.set_title(f"{name}: final gap after {steps} steps", fontsize=10)

    def update(self, lr: float, problem: str) -> str:
        c = self.comparison
        if self.show_view(problem):  # one cached background per problem
            self._show_problem(problem)
        i = nearest(c.lrs, lr)
        self.vline.set_xdata([c.lrs[i], c.lrs[i]])
        final = c.final(problem)
        items = {"α": f"{c.lrs[i]:.3g}"}
        best_j, best_value = None, np.inf
        for j, t in enumerate(c.techniques):
            curve = c.gap[problem][j, i]
            ok = np.isfinite(curve)
            self.curves[t].set_data(np.arange(curve.size)[ok], np.maximum(curve[ok], 1e-300))
            stop = int(c.diverged_at[problem][j, i])
            items[t] = f"diverged at step {stop}" if stop >= 0 else f"{final[j, i]:.2g}"
            if final[j, i] < best_value:
                best_j, best_value = j, final[j, i]
        if best_j is None:
            return format_readout(items, "diverges")
        return format_readout({"best here": c.techniques[best_j], **items})
