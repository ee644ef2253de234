"""Empirical losses of linear and logistic regression, as landscapes over the weights.

The point ``w`` is the weight vector (shape ``(..., d)``, batched like every landscape);
the data ``X`` (n, d) and ``y`` (n,) are fixed at construction. The loss is the MEAN over
the n samples, so its scale, and hence the usable learning rate, does not depend on n.
There is no separate bias: add a column of ones to ``X`` for one
(``np.hstack([X, np.ones((n, 1))])``).
"""

from __future__ import annotations

import numpy as np

from lrcourse._validate import check_finite_array, check_index_array, check_nonnegative
from lrcourse.problems.landscapes import ConstantCurvature, Landscape

__all__ = ["LinearRegressionLoss", "LogisticRegressionLoss"]


def _check_data(
    X: np.ndarray, y: np.ndarray, num_classes: int | None
) -> tuple[np.ndarray, np.ndarray]:
    """X as a finite (n, d) float array; y as n finite targets, or n labels in [0, num_classes)."""
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2 or X.shape[0] == 0 or X.shape[1] == 0:
        raise ValueError(f"X must be a 2-D array of shape (n, d), got X of shape {X.shape}")
    check_finite_array(X, "X")
    if num_classes is None:
        y = np.asarray(y, dtype=np.float64)
        if y.ndim != 1:
            raise ValueError(f"y must be a 1-D array of targets, got y of shape {y.shape}")
        check_finite_array(y, "y")
    else:
        y = check_index_array(y, "y", num_classes)
    if len(y) != len(X):
        raise ValueError(f"y must have one entry per row of X ({len(X)}), got y of shape {y.shape}")
    return X, y


class _EmpiricalLoss(Landscape):
    """What the two regression losses share: the data, the L2 term and minibatch gradients."""

    X: np.ndarray
    y: np.ndarray
    l2: float
    n: int

    def minibatch_grad(self, w: np.ndarray, idx: np.ndarray) -> np.ndarray:
        """The gradient of the same loss on the samples ``idx`` only: a stochastic gradient.

        ĝ(w) = ∇ [ (1/|B|) Σ_{i∈B} ℓ_i(w) ] + l2 w,   B = idx

        With ``idx`` drawn uniformly, ĝ is an unbiased estimate of ``grad(w)``.

        Args:
            w: weights, shape ``(..., d)``.
            idx: a 1-D array of sample indices in [0, n) (repeats allowed).

        Returns:
            Shape ``(..., d)``.

        Example:
            >>> loss = LinearRegressionLoss(X=np.array([[1.0], [2.0], [3.0]]), y=np.zeros(3))
            >>> w = np.array([1.0])
            >>> print(loss.minibatch_grad(w, idx=np.array([2])), loss.grad(w))
            [9.] [4.66666667]
        """
        w = self._points(w)
        idx = check_index_array(idx, "idx", self.n)
        if idx.size == 0:
            raise ValueError("idx must hold at least one sample index, got idx of shape (0,)")
        with np.errstate(over="ignore", invalid="ignore"):
            return self._grad_on(w, self.X[idx], self.y[idx])

    def _grad(self, w: np.ndarray) -> np.ndarray:
        return self._grad_on(w, self.X, self.y)

    def _penalty(self, w: np.ndarray) -> np.ndarray | float:
        # skipped when l2 = 0, where 0 * ‖w‖² would be nan for a w so large that ‖w‖² = inf
        return 0.5 * self.l2 * np.sum(w**2, axis=-1) if self.l2 else 0.0

    def _grad_on(self, w: np.ndarray, X: np.ndarray, y: np.ndarray) -> np.ndarray:
        raise NotImplementedError


class LinearRegressionLoss(ConstantCurvature, _EmpiricalLoss):
    """Least squares as a landscape: a quadratic whose Hessian is set by the data.

    L(w) = 1/(2n) ‖X w - y‖² + (l2/2) ‖w‖²
    ∇L(w) = Xᵀ (X w - y) / n + l2 w
    ∇²L = A = XᵀX / n + l2 I,     minimiser w* = A⁻¹ Xᵀ y / n

    As on any quadratic, gradient descent converges iff 0 < α < 2/λ_max(A).

    Args:
        X: features, shape (n, d) (add a column of ones for a bias).
        y: targets, shape (n,).
        l2: the ridge penalty >= 0.

    Attributes:
        A: the Hessian matrix (d, d); ``eigenvalues`` (ascending), ``lam_min``, ``lam_max``,
            ``condition_number``.
        minimum: the closed-form minimiser w*, or None when it is not unique (l2 = 0 and X
            of rank < d).
        dim = d; x0 = zeros; bounds = w* ± 3 (0 ± 3 without w*).

    Example:
        >>> X = np.array([[1.0, 0.0], [0.0, 2.0], [1.0, 1.0]])
        >>> loss = LinearRegressionLoss(X, y=X @ np.array([2.0, -1.0]))
        >>> print(loss.minimum, loss.loss(loss.minimum) < 1e-30)
        [ 2. -1.] True
        >>> print(loss.A)
        [[0.66666667 0.33333333]
         [0.33333333 1.66666667]]
        >>> print(loss.grad(np.zeros((4, 2))).shape)   # four weight vectors at once
        (4, 2)
    """

    name = "Linear regression"

    def __init__(self, X: np.ndarray, y: np.ndarray, l2: float = 0.0) -> None:
        self.X, self.y = _check_data(X, y, num_classes=None)
        self.l2 = check_nonnegative(l2, "l2")
        self.n, d = self.X.shape
        self.A = self.X.T @ self.X / self.n + self.l2 * np.eye(d)
        self.eigenvalues = np.linalg.eigvalsh(self.A)
        minimum = None
        if self.l2 > 0 or np.linalg.matrix_rank(self.X) == d:
            minimum = np.linalg.solve(self.A, self.X.T @ self.y / self.n)
        center = np.zeros(d) if minimum is None else minimum
        super().__init__(
            dim=d, x0=np.zeros(d), minimum=minimum, bounds=[(c - 3.0, c + 3.0) for c in center]
        )

    def __repr__(self) -> str:
        return f"LinearRegressionLoss(X of shape {self.X.shape}, l2={self.l2:g})"

    def _loss(self, w: np.ndarray) -> np.ndarray:
        residual = w @ self.X.T - self.y
        return 0.5 * np.mean(residual**2, axis=-1) + self._penalty(w)

    def _grad_on(self, w: np.ndarray, X: np.ndarray, y: np.ndarray) -> np.ndarray:
        residual = w @ X.T - y
        return residual @ X / len(y) + self.l2 * w

    def _hessian(self, w: np.ndarray) -> np.ndarray:
        return np.broadcast_to(self.A, w.shape + (self.dim,)).copy()


def _sigmoid(z: np.ndarray) -> np.ndarray:
    """σ(z) = 1 / (1 + e^{-z}), as exp(-log(1 + e^{-z})): no overflow for any z."""
    return np.exp(-np.logaddexp(0.0, -z))


class LogisticRegressionLoss(_EmpiricalLoss):
    """Binary logistic regression (cross-entropy) as a landscape over the weights.

    With logits z = X w, labels y ∈ {0, 1} and signs s = 2y - 1:

    L(w) = (1/n) Σ log(1 + exp(-s_i z_i)) + (l2/2) ‖w‖²
    ∇L(w) = Xᵀ (σ(z) - y) / n + l2 w
    ∇²L(w) = Xᵀ diag(σ(z)(1 - σ(z))) X / n + l2 I

    log(1 + eᵗ) is evaluated as ``logaddexp(0, t)`` and σ without exponentials of large
    numbers, so huge weights give large but finite losses and no overflow warnings.

    Args:
        X: features, shape (n, d) (add a column of ones for a bias).
        y: labels 0 or 1, shape (n,).
        l2: the L2 penalty >= 0.

    Attributes:
        minimum: None (no closed form; with l2 = 0 and separable data there is none at all).
        dim = d; x0 = zeros; bounds = (-5, 5) for each weight.

    Example:
        >>> X = np.array([[1.0, 2.0], [1.0, -1.0], [1.0, 0.5]])
        >>> loss = LogisticRegressionLoss(X, y=np.array([1, 0, 1]))
        >>> print(round(loss.loss(np.zeros(2)), 6), loss.grad(np.zeros(2)))   # log 2
        0.693147 [-0.16666667 -0.58333333]
        >>> print(loss.loss(np.array([0.0, -1e6])))   # confidently wrong everywhere
        1166666.6666666667
    """

    name = "Logistic regression"

    def __init__(self, X: np.ndarray, y: np.ndarray, l2: float = 0.0) -> None:
        self.X, self.y = _check_data(X, y, num_classes=2)
        self.l2 = check_nonnegative(l2, "l2")
        self.n, d = self.X.shape
        super().__init__(
            dim=d, x0=np.zeros(d), minimum=None, bounds=[(-5.0, 5.0)] * d
        )

    def __repr__(self) -> str:
        return f"LogisticRegressionLoss(X of shape {self.X.shape}, l2={self.l2:g})"

    def _loss(self, w: np.ndarray) -> np.ndarray:
        signs = 2.0 * self.y - 1.0
        logits = w @ self.X.T
        return np.mean(np.logaddexp(0.0, -signs * logits), axis=-1) + self._penalty(w)

    def _grad_on(self, w: np.ndarray, X: np.ndarray, y: np.ndarray) -> np.ndarray:
        return (_sigmoid(w @ X.T) - y) @ X / len(y) + self.l2 * w

    def _hessian(self, w: np.ndarray) -> np.ndarray:
        logits = w @ self.X.T
        # σ(z)(1 - σ(z)) = exp(-log(1 + e^{-z}) - log(1 + e^{z})), finite for any z
        weights = np.exp(-np.logaddexp(0.0, -logits) - np.logaddexp(0.0, logits))
        curvature = np.einsum("...n,ni,nj->...ij", weights, self.X, self.X) / self.n
        return curvature + self.l2 * np.eye(self.dim)
