"""Loss landscapes with exact gradients and Hessians, batched over leading axes.

Every landscape takes points ``x`` of shape ``(..., dim)`` and returns the loss with shape
``(...)``, the gradient with shape ``(..., dim)`` and the Hessian with shape
``(..., dim, dim)``. Batching is what lets the course run a whole grid of learning rates
as one NumPy computation: stack one point per run along the leading axes.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from lrcourse._validate import (
    check_at_least,
    check_finite,
    check_int,
    check_lr,
    check_nonnegative,
    check_positive,
)

__all__ = [
    "Beale",
    "BumpyWell",
    "Landscape",
    "Parabola",
    "Quadratic",
    "Rosenbrock",
    "Saddle",
]


class Landscape:
    """A loss surface over points ``x`` of shape ``(..., dim)``, with its exact derivatives.

    Subclasses write the maths in ``_loss``, ``_grad`` and ``_hessian`` for an array whose
    last axis holds the coordinates; this class checks the shape of ``x`` and evaluates.

    Far from the minimum the loss may overflow to ``inf`` (and the gradient to ``inf`` or
    ``nan``). That happens silently, without RuntimeWarnings: a diverging run shows itself
    by a non-finite loss, which the training loop detects and reports once.

    Attributes:
        name: a title for plots.
        dim: the number of coordinates.
        x0: the default start used by the course (a fresh copy at each access, so it is
            safe to update in place).
        minimum: the global minimiser as an array of shape ``(dim,)``, or ``None`` when there
            is none (a saddle) or it has no closed form.
        bounds: the plotting box, one ``(low, high)`` pair per coordinate.

    Example:
        >>> q = Quadratic(eigenvalues=(1.0, 10.0))
        >>> x = np.zeros((3, 4, 2))         # a 3 x 4 grid of runs, one 2-D point each
        >>> print(q.loss(x).shape, q.grad(x).shape, q.hessian(x).shape)
        (3, 4) (3, 4, 2) (3, 4, 2, 2)
    """

    name = "landscape"

    def __init__(
        self,
        dim: int,
        x0: Sequence[float],
        minimum: Sequence[float] | None,
        bounds: Sequence[tuple[float, float]],
    ) -> None:
        self.dim = dim
        self._x0 = np.array(x0, dtype=np.float64)
        self._minimum = None if minimum is None else np.array(minimum, dtype=np.float64)
        self.bounds = tuple((float(low), float(high)) for low, high in bounds)

    @property
    def x0(self) -> np.ndarray:
        """The default start, shape ``(dim,)``."""
        return self._x0.copy()

    @property
    def minimum(self) -> np.ndarray | None:
        """The global minimiser, shape ``(dim,)``, or ``None``."""
        return None if self._minimum is None else self._minimum.copy()

    def loss(self, x: np.ndarray) -> np.ndarray:
        """The loss at ``x`` (shape ``(..., dim)``); returns shape ``(...)``."""
        x = self._points(x)
        with np.errstate(over="ignore", invalid="ignore"):
            return self._loss(x)[()]

    def grad(self, x: np.ndarray) -> np.ndarray:
        """The gradient at ``x`` (shape ``(..., dim)``); returns shape ``(..., dim)``."""
        x = self._points(x)
        with np.errstate(over="ignore", invalid="ignore"):
            return self._grad(x)

    def hessian(self, x: np.ndarray) -> np.ndarray:
        """The Hessian at ``x`` (shape ``(..., dim)``); returns shape ``(..., dim, dim)``."""
        x = self._points(x)
        with np.errstate(over="ignore", invalid="ignore"):
            return self._hessian(x)

    def _points(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, dtype=np.float64)
        if x.ndim == 0 or x.shape[-1] != self.dim:
            raise ValueError(
                f"x must have shape (..., {self.dim}) for the {self.name} landscape, "
                f"got x of shape {x.shape}"
            )
        return x

    def _loss(self, x: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def _grad(self, x: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def _hessian(self, x: np.ndarray) -> np.ndarray:
        raise NotImplementedError


class ConstantCurvature:
    """The spectrum of a landscape whose Hessian is one constant matrix ``A`` (a quadratic).

    Gradient descent on ``½ (x - x*)ᵀ A (x - x*)`` shrinks the error along eigenvector i by
    the factor ``|1 - α λ_i|`` per step, so it converges iff ``0 < α < 2 / λ_max``.
    """

    eigenvalues: np.ndarray  # ascending

    @property
    def lam_max(self) -> float:
        """The largest eigenvalue of A: it sets the stability bound α < 2 / λ_max."""
        return float(self.eigenvalues[-1])

    @property
    def lam_min(self) -> float:
        """The smallest eigenvalue of A: it sets the speed along the flattest direction."""
        return float(self.eigenvalues[0])

    @property
    def condition_number(self) -> float:
        """κ = λ_max / λ_min (``inf`` when A is singular)."""
        if self.lam_min <= 0:
            return float("inf")
        return self.lam_max / self.lam_min


def _pair(value: Sequence[float], name: str) -> tuple[float, float]:
    """Two finite numbers (a 2-D centre, a pair of eigenvalues)."""
    if np.ndim(value) != 1 or len(value) != 2:
        raise ValueError(f"{name} must be a sequence of 2 numbers, got {name}={value!r}")
    return check_finite(value[0], f"{name}[0]"), check_finite(value[1], f"{name}[1]")


class Parabola(Landscape):
    """The 1-D parabola, on which gradient descent has a closed form.

    L(x) = λ/2 (x - c)²,   L'(x) = λ (x - c),   L''(x) = λ

    Gradient descent x_{k+1} = x_k - α L'(x_k) multiplies the error by (1 - αλ) each step:

        x_k - c = (1 - αλ)^k (x_0 - c)

    so it creeps for α < 1/λ, lands on the minimum in ONE step at α = 1/λ, oscillates
    while converging for 1/λ < α < 2/λ, and diverges for α > 2/λ.

    Args:
        curvature: λ > 0, the second derivative.
        center: c, the minimiser.

    Attributes:
        dim = 1; x0 = [c + 1] (so the error after k steps is exactly (1 - αλ)^k);
        minimum = [c]; bounds = ((c - 2, c + 2),).

    Example:
        >>> p = Parabola(curvature=2.0, center=1.0)
        >>> print(p.loss(np.array([3.0])), p.grad(np.array([3.0])), p.hessian(np.array([3.0])))
        4.0 [4.] [[2.]]
        >>> x = np.array([[0.0], [1.0], [2.0]])   # three points at once
        >>> print(p.loss(x))
        [1. 0. 1.]
        >>> x = p.x0 - 0.5 * p.grad(p.x0)         # α = 1/λ: one step to the minimum
        >>> print(x)
        [1.]
    """

    name = "Parabola"

    def __init__(self, curvature: float = 1.0, center: float = 0.0) -> None:
        self.curvature = check_positive(curvature, "curvature")
        self.center = check_finite(center, "center")
        c = self.center
        super().__init__(dim=1, x0=[c + 1.0], minimum=[c], bounds=[(c - 2.0, c + 2.0)])

    def __repr__(self) -> str:
        return f"Parabola(curvature={self.curvature:g}, center={self.center:g})"

    def _loss(self, x: np.ndarray) -> np.ndarray:
        return 0.5 * self.curvature * (x[..., 0] - self.center) ** 2

    def _grad(self, x: np.ndarray) -> np.ndarray:
        return self.curvature * (x - self.center)

    def _hessian(self, x: np.ndarray) -> np.ndarray:
        return np.full(x.shape + (1,), self.curvature)

    def gd_closed_form(
        self, lr: float | np.ndarray, k: int | np.ndarray, x0: np.ndarray | None = None
    ) -> np.ndarray:
        """Where gradient descent is after ``k`` steps at rate ``lr``, without running it.

        x_k = c + (1 - αλ)^k (x_0 - c)

        Args:
            lr: α >= 0, a number or an array of rates.
            k: the number of steps, an integer >= 0 or an array of them (broadcast with lr).
            x0: the start, shape ``(1,)``; defaults to ``self.x0``.

        Returns:
            x_k with shape ``broadcast(lr, k).shape + (1,)``.

        Example:
            >>> p = Parabola(curvature=1.0)
            >>> print(p.gd_closed_form(lr=np.array([0.5, 1.0, 1.5, 2.5]), k=3))
            [[ 0.125]
             [ 0.   ]
             [-0.125]
             [-3.375]]
        """
        lr, k = np.asarray(lr, dtype=np.float64), np.asarray(k)
        for value in np.unique(lr):
            check_lr(value.item())
        for value in np.unique(k):
            check_int(value.item(), "k")
        x0 = self.x0 if x0 is None else self._points(x0)
        factor = (1.0 - lr * self.curvature) ** k
        return self.center + factor[..., None] * (x0 - self.center)


class Quadratic(ConstantCurvature, Landscape):
    """A 2-D quadratic bowl of chosen curvatures and orientation: the model of conditioning.

    L(x) = ½ (x - c)ᵀ A (x - c),   A = R(θ) diag(λ₁, λ₂) R(θ)ᵀ,
    ∇L(x) = A (x - c),   ∇²L(x) = A,   R(θ) = [[cos θ, -sin θ], [sin θ, cos θ]]

    Gradient descent converges iff 0 < α < 2/λ_max; the best fixed rate
    α* = 2/(λ_min + λ_max) shrinks the error by (κ - 1)/(κ + 1) per step, κ = λ_max/λ_min.

    Args:
        eigenvalues: (λ₁, λ₂), both > 0; λ₁ is the curvature along the direction at angle θ.
        angle: θ in radians, the rotation of the first eigenvector from the x axis.
        center: c, the minimiser.

    Attributes:
        A: the Hessian matrix, shape (2, 2).
        eigenvalues: λ sorted ascending; ``lam_min``, ``lam_max``, ``condition_number``.
        dim = 2; x0 = c + (-2.5, 1.5); minimum = c; bounds = c ± 3 on each axis.

    Example:
        >>> q = Quadratic.from_condition(10.0, lam_max=2.0)
        >>> print(q.eigenvalues, q.condition_number)
        [0.2 2. ] 10.0
        >>> print(q.loss(np.array([1.0, 1.0])), q.grad(np.array([1.0, 1.0])))
        1.1 [0.2 2. ]
    """

    name = "Quadratic"

    def __init__(
        self,
        eigenvalues: Sequence[float] = (1.0, 10.0),
        angle: float = 0.0,
        center: Sequence[float] = (0.0, 0.0),
    ) -> None:
        lam = _pair(eigenvalues, "eigenvalues")
        self._given = tuple(
            check_positive(value, f"eigenvalues[{i}]") for i, value in enumerate(lam)
        )
        self.angle = check_finite(angle, "angle")
        self.center = np.array(_pair(center, "center"))
        cos, sin = np.cos(self.angle), np.sin(self.angle)
        rotation = np.array([[cos, -sin], [sin, cos]])
        self.A = rotation @ np.diag(self._given) @ rotation.T
        self.eigenvalues = np.sort(np.array(self._given))
        c = self.center
        super().__init__(
            dim=2,
            x0=c + np.array([-2.5, 1.5]),
            minimum=c,
            bounds=[(c[0] - 3.0, c[0] + 3.0), (c[1] - 3.0, c[1] + 3.0)],
        )

    @classmethod
    def from_condition(
        cls, condition_number: float, lam_max: float = 1.0, angle: float = 0.0
    ) -> Quadratic:
        """A quadratic with condition number κ: eigenvalues (λ_max / κ, λ_max), centred at 0.

        Args:
            condition_number: κ >= 1.
            lam_max: the largest eigenvalue, > 0.
            angle: the rotation θ in radians.

        Returns:
            ``Quadratic(eigenvalues=(lam_max / κ, lam_max), angle=angle)``.

        Example:
            >>> print(Quadratic.from_condition(100.0).eigenvalues)
            [0.01 1.  ]
        """
        kappa = check_at_least(condition_number, "condition_number", 1.0)
        lam_max = check_positive(lam_max, "lam_max")
        return cls(eigenvalues=(lam_max / kappa, lam_max), angle=angle)

    def __repr__(self) -> str:
        (l1, l2), (c1, c2) = self._given, self.center
        return (
            f"Quadratic(eigenvalues=({l1:g}, {l2:g}), angle={self.angle:g}, "
            f"center=({c1:g}, {c2:g}))"
        )

    def _loss(self, x: np.ndarray) -> np.ndarray:
        d = x - self.center
        return 0.5 * np.einsum("...i,...i->...", d, d @ self.A)  # ½ dᵀ(A d), A symmetric

    def _grad(self, x: np.ndarray) -> np.ndarray:
        return (x - self.center) @ self.A  # A is symmetric: row-vector form of A (x - c)

    def _hessian(self, x: np.ndarray) -> np.ndarray:
        return np.broadcast_to(self.A, x.shape + (2,)).copy()


class Rosenbrock(Landscape):
    """Rosenbrock's banana valley: easy to find, slow to follow to its end.

    L(x, y) = (a - x)² + b (y - x²)²
    ∇L = [2(x - a) - 4b x (y - x²),  2b (y - x²)]
    ∇²L = [[2 - 4b (y - x²) + 8b x²,  -4b x], [-4b x,  2b]]

    The minimum is (a, a²) with L = 0; the curvature across the valley (≈ 2b(1 + 4x²)) is far
    larger than along it, so a rate small enough to be stable crawls along the floor.

    Args:
        a: the x of the minimum.
        b: > 0, the steepness of the valley walls.

    Attributes:
        dim = 2; x0 = (-1.2, 1.0) (Rosenbrock's classic start); minimum = (a, a²);
        bounds = x in (-2, 2), y in (-1, 3), widened to contain the minimum.

    Example:
        >>> r = Rosenbrock()
        >>> print(r.loss(r.minimum), r.grad(r.minimum), r.loss(r.x0))
        0.0 [0. 0.] 24.199999999999996
    """

    name = "Rosenbrock"

    def __init__(self, a: float = 1.0, b: float = 100.0) -> None:
        self.a = check_finite(a, "a")
        self.b = check_positive(b, "b")
        a = self.a
        super().__init__(
            dim=2,
            x0=[-1.2, 1.0],
            minimum=[a, a * a],
            bounds=[
                (min(-2.0, a - 1), max(2.0, a + 1)),
                (min(-1.0, a * a - 1), max(3.0, a * a + 1)),
            ],
        )

    def __repr__(self) -> str:
        return f"Rosenbrock(a={self.a:g}, b={self.b:g})"

    def _loss(self, p: np.ndarray) -> np.ndarray:
        x, y = p[..., 0], p[..., 1]
        return (self.a - x) ** 2 + self.b * (y - x**2) ** 2

    def _grad(self, p: np.ndarray) -> np.ndarray:
        x, y = p[..., 0], p[..., 1]
        valley = y - x**2
        return np.stack([2 * (x - self.a) - 4 * self.b * x * valley, 2 * self.b * valley], axis=-1)

    def _hessian(self, p: np.ndarray) -> np.ndarray:
        x, y = p[..., 0], p[..., 1]
        b = self.b
        dxx = 2 - 4 * b * (y - x**2) + 8 * b * x**2
        dxy = -4 * b * x
        dyy = np.full_like(x, 2 * b)
        return np.stack([np.stack([dxx, dxy], -1), np.stack([dxy, dyy], -1)], axis=-2)


class Beale(Landscape):
    """Beale's function: a flat plateau with steep ridges at the corners of its box.

    L(x, y) = Σ_{i=1..3} t_i²,   t_i = c_i - x + x yⁱ,   c = (1.5, 2.25, 2.625)
    ∇L = Σ 2 t_i ∇t_i,           ∇t_i = (yⁱ - 1,  i x yⁱ⁻¹)
    ∇²L = Σ 2 (∇t_i ∇t_iᵀ + t_i ∇²t_i),   ∇²t_i = [[0, i yⁱ⁻¹], [i yⁱ⁻¹, i(i-1) x yⁱ⁻²]]

    The global minimum is (3, 0.5) with L = 0.

    Attributes:
        dim = 2; x0 = (1, 1.5) (from where plain gradient descent at α = 1e-3 reaches the
        minimum); minimum = (3, 0.5); bounds = (-4.5, 4.5) on both axes.

    Example:
        >>> f = Beale()
        >>> print(f.loss(f.minimum), f.grad(f.minimum))
        0.0 [0. 0.]
    """

    name = "Beale"
    _c = (1.5, 2.25, 2.625)

    def __init__(self) -> None:
        super().__init__(dim=2, x0=[1.0, 1.5], minimum=[3.0, 0.5], bounds=[(-4.5, 4.5)] * 2)

    def __repr__(self) -> str:
        return "Beale()"

    def _loss(self, p: np.ndarray) -> np.ndarray:
        x, y = p[..., 0], p[..., 1]
        return sum((c - x + x * y**i) ** 2 for i, c in enumerate(self._c, start=1))

    def _grad(self, p: np.ndarray) -> np.ndarray:
        x, y = p[..., 0], p[..., 1]
        gx = gy = 0.0
        for i, c in enumerate(self._c, start=1):
            t = c - x + x * y**i
            gx = gx + 2 * t * (y**i - 1)
            gy = gy + 2 * t * i * x * y ** (i - 1)
        return np.stack(np.broadcast_arrays(gx, gy), axis=-1)

    def _hessian(self, p: np.ndarray) -> np.ndarray:
        x, y = p[..., 0], p[..., 1]
        hxx = hxy = hyy = 0.0
        for i, c in enumerate(self._c, start=1):
            t = c - x + x * y**i
            tx, ty = y**i - 1, i * x * y ** (i - 1)
            txy = i * y ** (i - 1)
            tyy = i * (i - 1) * x * y ** (i - 2) if i > 1 else 0.0
            hxx = hxx + 2 * tx * tx
            hxy = hxy + 2 * (tx * ty + t * txy)
            hyy = hyy + 2 * (ty * ty + t * tyy)
        hxx, hxy, hyy = np.broadcast_arrays(hxx, hxy, hyy)
        return np.stack([np.stack([hxx, hxy], -1), np.stack([hxy, hyy], -1)], axis=-2)


class BumpyWell(Landscape):
    """A 1-D well with narrow local minima on its walls and a wide global minimum at 0.

    L(x) = ½ x² + h (1 - cos(ω x²))
    L'(x) = x + 2hω x sin(ω x²)
    L''(x) = 1 + 2hω sin(ω x²) + 4hω² x² cos(ω x²)

    A parabola plus a sinusoid in x², whose ripples get narrower away from the centre.
    L >= ½ x², so the global minimum is x = 0 with L = 0 and curvature 1. When 2hω > 1
    there are local minima at

        x_k = ±√((2πk - arcsin(1/(2hω))) / ω),   k = 1, 2, ...

    with curvature 4hω² x_k² √(1 - 1/(2hω)²), growing with |x_k|: they are sharp.
    Gradient descent can only settle where α < 2 / curvature (the stability bound), so a
    small rate gets trapped in the first dip it meets, while a larger one cannot stay in any
    local minimum and only settles in the wide one at 0.

    With the defaults (h = ω = 1) the first local minimum is x₁ ≈ 2.3999 (L ≈ 3.0138,
    curvature ≈ 19.95, so stable for α < 0.1002). From the default start x0 = 2.5, 2000
    steps of gradient descent (checked by the tests on grids of rates):

    - every α in [0.001, 0.1] ends in the local minimum x₁ (|x - x₁| < 1e-5);
    - every α in [0.2, 1.0] ends at the global minimum 0 (|x| < 1e-8; 26 steps at α = 0.5);
    - α between 0.1 and 0.2 may circle around x₁; most α above 1.3 diverge.

    Args:
        height: h >= 0, the height of the ripples.
        frequency: ω > 0; the ripples have period 2π/ω in x².

    Attributes:
        local_minima: the local minima inside ``bounds``, ascending (empty if 2hω <= 1).
        dim = 1; x0 = [2.5/√ω] (in the basin of x₁); minimum = [0]; bounds = ±3.5/√ω.

    Example:
        >>> w = BumpyWell()
        >>> print(np.round(w.local_minima, 4))
        [-3.4703 -2.3999  2.3999  3.4703]
        >>> def descend(lr, steps=2000):
        ...     x = w.x0
        ...     for _ in range(steps):
        ...         x = x - lr * w.grad(x)
        ...     return x
        >>> for lr in (0.01, 0.5):
        ...     print(lr, np.round(w.loss(descend(lr)), 4))
        0.01 3.0138
        0.5 0.0
    """

    name = "Bumpy well"

    def __init__(self, height: float = 1.0, frequency: float = 1.0) -> None:
        self.height = check_nonnegative(height, "height")
        self.frequency = check_positive(frequency, "frequency")
        scale = 1.0 / np.sqrt(self.frequency)
        super().__init__(
            dim=1, x0=[2.5 * scale], minimum=[0.0], bounds=[(-3.5 * scale, 3.5 * scale)]
        )
        self.local_minima = self._local_minima()

    def __repr__(self) -> str:
        return f"BumpyWell(height={self.height:g}, frequency={self.frequency:g})"

    def _local_minima(self) -> np.ndarray:
        h, w = self.height, self.frequency
        if 2 * h * w <= 1:
            return np.empty(0)
        high = self.bounds[0][1]
        k = np.arange(1, int(w * high**2 / (2 * np.pi)) + 2)
        x = np.sqrt((2 * np.pi * k - np.arcsin(1 / (2 * h * w))) / w)
        x = x[x <= high]
        return np.concatenate([-x[::-1], x])

    def _loss(self, x: np.ndarray) -> np.ndarray:
        x = x[..., 0]
        return 0.5 * x**2 + self.height * (1 - np.cos(self.frequency * x**2))

    def _grad(self, x: np.ndarray) -> np.ndarray:
        h, w = self.height, self.frequency
        return x + 2 * h * w * x * np.sin(w * x**2)

    def _hessian(self, x: np.ndarray) -> np.ndarray:
        h, w = self.height, self.frequency
        phase = w * x**2
        curvature = 1 + 2 * h * w * np.sin(phase) + 4 * h * w**2 * x**2 * np.cos(phase)
        return curvature[..., None]


class Saddle(Landscape):
    """The simplest saddle: a minimum along x, a maximum along y, both at the origin.

    L(x, y) = ½ (x² - y²),   ∇L = (x, -y),   ∇²L = diag(1, -1)

    Gradient descent shrinks x by (1 - α) and grows y by (1 + α) per step: started near
    the x axis it first slows down towards the saddle, then escapes along y (the loss is
    unbounded below, so there is no minimum).

    Attributes:
        saddle_point: the origin (the gradient vanishes there).
        dim = 2; x0 = (2, 0.01); minimum = None; bounds = (-2.5, 2.5) on both axes.

    Example:
        >>> s = Saddle()
        >>> print(s.loss(np.array([1.0, 0.5])), s.grad(np.array([1.0, 0.5])))
        0.375 [ 1.  -0.5]
        >>> print(s.hessian(s.saddle_point).tolist())
        [[1.0, 0.0], [0.0, -1.0]]
    """

    name = "Saddle"

    def __init__(self) -> None:
        super().__init__(dim=2, x0=[2.0, 0.01], minimum=None, bounds=[(-2.5, 2.5)] * 2)
        self.saddle_point = np.zeros(2)

    def __repr__(self) -> str:
        return "Saddle()"

    def _loss(self, p: np.ndarray) -> np.ndarray:
        return 0.5 * (p[..., 0] ** 2 - p[..., 1] ** 2)

    def _grad(self, p: np.ndarray) -> np.ndarray:
        return p * np.array([1.0, -1.0])

    def _hessian(self, p: np.ndarray) -> np.ndarray:
        return np.broadcast_to(np.diag([1.0, -1.0]), p.shape + (2,)).copy()
