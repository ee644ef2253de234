"""Tiny neural networks in NumPy: initialisations, losses and a multilayer perceptron.

Backpropagation is written out by hand, layer by layer, so it can be read next to the
maths; the tests check every gradient against finite differences.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

import numpy as np

from lrcourse._validate import (
    check_choice,
    check_index_array,
    check_int,
    check_positive,
    check_same_shape,
)

__all__ = [
    "MLP",
    "he_init",
    "mse",
    "naive_init",
    "softmax_cross_entropy",
    "xavier_init",
]


def _check_fans(fan_in: int, fan_out: int, rng: np.random.Generator) -> None:
    check_int(fan_in, "fan_in", minimum=1)
    check_int(fan_out, "fan_out", minimum=1)
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"rng must be a numpy.random.Generator, got rng={rng!r}")


def naive_init(
    fan_in: int, fan_out: int, rng: np.random.Generator, scale: float = 1.0
) -> np.ndarray:
    """Weights drawn without regard to the layer's width: the baseline that fails in depth.

    W_ij ~ N(0, scale²)

    Each layer multiplies the scale of the signal by about scale · √fan_in (times √½ after a
    ReLU), so in a deep network activations explode (scale = 1) or vanish (scale = 0.01).

    Args:
        fan_in: inputs of the layer, >= 1.
        fan_out: outputs of the layer, >= 1.
        rng: the random generator.
        scale: the standard deviation, > 0.

    Returns:
        W, shape (fan_in, fan_out).

    Example:
        >>> W = naive_init(1000, 1000, np.random.default_rng(0), scale=0.01)
        >>> print(W.shape, round(W.std(), 3))
        (1000, 1000) 0.01
    """
    _check_fans(fan_in, fan_out, rng)
    scale = check_positive(scale, "scale")
    return scale * rng.standard_normal((fan_in, fan_out))


def xavier_init(fan_in: int, fan_out: int, rng: np.random.Generator) -> np.ndarray:
    """Glorot & Bengio (2010), normal form: keeps the variance through tanh (linear) layers.

    W_ij ~ N(0, σ²),   σ² = 2 / (fan_in + fan_out)

    (A compromise between Var = 1/fan_in, which preserves the forward signal, and
    1/fan_out, which preserves the backward gradient.) Equals torch's ``xavier_normal_``.

    Args:
        fan_in: inputs of the layer, >= 1.
        fan_out: outputs of the layer, >= 1.
        rng: the random generator.

    Returns:
        W, shape (fan_in, fan_out).

    Example:
        >>> W = xavier_init(300, 100, np.random.default_rng(0))
        >>> print(W.shape, round(W.var() / (2 / (300 + 100)), 1))   # sample variance / formula
        (300, 100) 1.0
    """
    _check_fans(fan_in, fan_out, rng)
    return np.sqrt(2.0 / (fan_in + fan_out)) * rng.standard_normal((fan_in, fan_out))


def he_init(fan_in: int, fan_out: int, rng: np.random.Generator) -> np.ndarray:
    """He et al. (2015): keeps the variance through ReLU layers, which zero half the signal.

    W_ij ~ N(0, σ²),   σ² = 2 / fan_in

    Equals torch's ``kaiming_normal_(W, mode="fan_in", nonlinearity="relu")``.

    Args:
        fan_in: inputs of the layer, >= 1.
        fan_out: outputs of the layer, >= 1.
        rng: the random generator.

    Returns:
        W, shape (fan_in, fan_out).

    Example:
        >>> W = he_init(300, 100, np.random.default_rng(0))
        >>> print(W.shape, round(W.var() / (2 / 300), 1))   # sample variance / formula
        (300, 100) 1.0
    """
    _check_fans(fan_in, fan_out, rng)
    return np.sqrt(2.0 / fan_in) * rng.standard_normal((fan_in, fan_out))


INITS: dict[str, Callable[[int, int, np.random.Generator], np.ndarray]] = {
    "he": he_init,
    "xavier": xavier_init,
    "naive": naive_init,
}


def softmax_cross_entropy(logits: np.ndarray, y: np.ndarray) -> tuple[float, np.ndarray]:
    """Mean cross-entropy of softmax probabilities against integer labels, and its gradient.

    p_i = softmax(z_i),   L = -(1/n) Σ_i log p_i[y_i],   ∂L/∂z_i = (p_i - onehot(y_i)) / n

    Computed as log p = z - max z - log Σ exp(z - max z), so no exponential overflows.

    Args:
        logits: z, shape (n, C).
        y: labels in [0, C), shape (n,).

    Returns:
        (L, ∂L/∂z), a float and an array of shape (n, C).

    Example:
        >>> loss, dz = softmax_cross_entropy(np.array([[2.0, 0.0], [0.0, 1e4]]), np.array([0, 1]))
        >>> print(round(loss, 6), dz.round(4).tolist())
        0.063464 [[-0.0596, 0.0596], [0.0, 0.0]]
    """
    logits = np.asarray(logits, dtype=np.float64)
    if logits.ndim != 2:
        raise ValueError(f"logits must have shape (n, C), got logits of shape {logits.shape}")
    n, num_classes = logits.shape
    y = check_index_array(y, "y", num_classes)
    if len(y) != n:
        raise ValueError(f"y must have one label per row of logits ({n}), got y of shape {y.shape}")
    shifted = logits - logits.max(axis=1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    rows = np.arange(n)
    loss = -log_probs[rows, y].mean()
    dlogits = np.exp(log_probs)
    dlogits[rows, y] -= 1.0
    return float(loss), dlogits / n


def mse(pred: np.ndarray, target: np.ndarray) -> tuple[float, np.ndarray]:
    """Mean squared error over all entries, and its gradient (torch's ``MSELoss``).

    L = (1/N) Σ (pred - target)²,   ∂L/∂pred = 2 (pred - target) / N,   N = pred.size

    Args:
        pred: predictions, any shape.
        target: targets, the same shape.

    Returns:
        (L, ∂L/∂pred), a float and an array shaped like ``pred``.

    Example:
        >>> loss, grad = mse(np.array([[1.0], [3.0]]), np.array([[0.0], [1.0]]))
        >>> print(loss, grad.ravel())
        2.5 [1. 2.]
    """
    pred = np.asarray(pred, dtype=np.float64)
    target = np.asarray(target, dtype=np.float64)
    if target.shape != pred.shape:
        raise ValueError(
            f"target must have the shape of pred {pred.shape}, got target of shape {target.shape}"
        )
    diff = pred - target
    return float(np.mean(diff**2)), 2.0 * diff / diff.size


class MLP:
    """A multilayer perceptron: affine layers with ReLU or tanh between them, linear output.

    h_0 = X,   h_l = f(h_{l-1} W_l + b_l) for l < L,   output h_L = h_{L-1} W_L + b_L

    Backpropagation, from g = ∂loss/∂h_L down:

        ∂W_l = h_{l-1}ᵀ g,   ∂b_l = Σ_rows g,   g ← (g W_lᵀ) ⊙ f'(h_{l-1})

    with f'(h) = [h > 0] for ReLU and 1 - h² for tanh (both read off the output h).

    Args:
        sizes: layer widths [inputs, hidden..., outputs], at least two, each >= 1.
        activation: "relu" or "tanh", between layers (the output layer is linear).
        init: "he", "xavier" or "naive" (N(0, 1)), or a function (fan_in, fan_out, rng) -> W,
            e.g. ``functools.partial(naive_init, scale=0.01)``. Biases start at 0.
        seed: the seed of the initialisation.

    Attributes:
        params: [W1, b1, W2, b2, ...], W_l of shape (sizes[l-1], sizes[l]). Optimizers update
            these very arrays in place.
        activations: after ``forward``, the output of every layer [h_1, ..., h_L] (the
            last is the network's output).
        activation_grads: after ``loss_and_grads``, ∂loss/∂h_l for the same layers.

    Example:
        >>> net = MLP([2, 8, 3], activation="tanh", init="xavier", seed=0)
        >>> X, y = np.array([[0.5, -1.0], [2.0, 0.0]]), np.array([0, 2])
        >>> loss, grads = net.loss_and_grads(X, y)
        >>> print(round(loss, 4), [g.shape for g in grads])
        1.1079 [(2, 8), (8,), (8, 3), (3,)]
        >>> for p, g in zip(net.params, grads):
        ...     p -= 0.5 * g                      # one step of gradient descent, in place
        >>> print(round(net.loss_and_grads(X, y)[0], 4), net.predict(X))
        0.697 [0 2]
    """

    def __init__(
        self,
        sizes: Sequence[int],
        activation: str = "relu",
        init: str | Callable[[int, int, np.random.Generator], np.ndarray] = "he",
        seed: int = 0,
    ) -> None:
        if isinstance(sizes, str | bytes) or not isinstance(sizes, Iterable):
            raise TypeError(f"sizes must be a list of layer widths, got sizes={sizes!r}")
        sizes = list(sizes)
        if len(sizes) < 2:
            raise ValueError(
                f"sizes must list at least two layer widths [inputs, ..., outputs], "
                f"got sizes={sizes!r}"
            )
        self.sizes = [check_int(s, f"sizes[{i}]", minimum=1) for i, s in enumerate(sizes)]
        self.activation = check_choice(activation, "activation", ("relu", "tanh"))
        make_weights = init if callable(init) else INITS[check_choice(init, "init", INITS)]
        self.init = init
        rng = np.random.default_rng(check_int(seed, "seed"))
        self.params: list[np.ndarray] = []
        for fan_in, fan_out in zip(self.sizes[:-1], self.sizes[1:], strict=True):
            W = np.asarray(make_weights(fan_in, fan_out, rng), dtype=np.float64)
            if W.shape != (fan_in, fan_out):
                raise ValueError(
                    f"init must return weights of shape (fan_in, fan_out) = {(fan_in, fan_out)}, "
                    f"got init={init!r} returning shape {W.shape}"
                )
            self.params += [W, np.zeros(fan_out)]
        self.activations: list[np.ndarray] = []
        self.activation_grads: list[np.ndarray] = []

    def __repr__(self) -> str:
        init = self.init if isinstance(self.init, str) else "custom"
        return f"MLP(sizes={self.sizes}, activation={self.activation!r}, init={init!r})"

    @property
    def num_layers(self) -> int:
        """L, the number of affine layers."""
        return len(self.sizes) - 1

    def _f(self, z: np.ndarray) -> np.ndarray:
        return np.maximum(z, 0.0) if self.activation == "relu" else np.tanh(z)

    def _df(self, h: np.ndarray) -> np.ndarray:
        return (h > 0).astype(h.dtype) if self.activation == "relu" else 1.0 - h**2

    def _check_inputs(self, X: np.ndarray) -> np.ndarray:
        X = np.asarray(X, dtype=np.float64)
        if X.ndim != 2 or X.shape[1] != self.sizes[0]:
            raise ValueError(
                f"X must have shape (n, {self.sizes[0]}), got X of shape {X.shape}"
            )
        return X

    def forward(self, X: np.ndarray) -> np.ndarray:
        """The network's output (logits for classification) for inputs X (n, sizes[0]).

        Also stores every layer's output in ``self.activations``.

        Args:
            X: inputs, shape (n, sizes[0]).

        Returns:
            Outputs, shape (n, sizes[-1]).

        Example:
            >>> print(MLP([3, 4, 2], seed=0).forward(np.zeros((5, 3))).shape)
            (5, 2)
        """
        h = self._check_inputs(X)
        self.activations = []
        for layer in range(self.num_layers):
            W, b = self.params[2 * layer], self.params[2 * layer + 1]
            h = h @ W + b
            if layer < self.num_layers - 1:
                h = self._f(h)
            self.activations.append(h)
        return h

    def loss_and_grads(
        self, X: np.ndarray, y: np.ndarray, loss: str = "cross_entropy"
    ) -> tuple[float, list[np.ndarray]]:
        """The loss on (X, y) and its gradient with respect to every parameter.

        Args:
            X: inputs, shape (n, sizes[0]).
            y: for "cross_entropy", integer labels in [0, sizes[-1]), shape (n,); for "mse",
                targets of shape (n, sizes[-1]) (or (n,) when sizes[-1] == 1).
            loss: "cross_entropy" (``softmax_cross_entropy``) or "mse" (``mse``).

        Returns:
            (loss, grads), grads aligned with ``params`` (same order, same shapes). Also
            stores ∂loss/∂h_l of every layer in ``self.activation_grads``.

        Example:
            >>> net = MLP([1, 4, 1], activation="tanh", seed=0)
            >>> value, grads = net.loss_and_grads(np.ones((3, 1)), np.zeros(3), loss="mse")
            >>> print(round(value, 4), len(grads))
            0.4196 4
        """
        check_choice(loss, "loss", ("cross_entropy", "mse"))
        X = self._check_inputs(X)
        out = self.forward(X)
        if loss == "cross_entropy":
            value, g = softmax_cross_entropy(out, y)
        else:
            y = np.asarray(y, dtype=np.float64)
            if y.ndim == 1 and out.shape[1] == 1:
                y = y[:, None]
            if y.shape != out.shape:
                raise ValueError(
                    f"y must have shape {out.shape} (one target per output) for loss='mse', "
                    f"got y of shape {y.shape}"
                )
            value, g = mse(out, y)
        inputs = [X] + self.activations[:-1]
        grads: list[np.ndarray] = [np.empty(0)] * len(self.params)
        self.activation_grads = [np.empty(0)] * self.num_layers
        for layer in reversed(range(self.num_layers)):
            self.activation_grads[layer] = g
            if layer < self.num_layers - 1:
                g = g * self._df(self.activations[layer])
            grads[2 * layer] = inputs[layer].T @ g
            grads[2 * layer + 1] = g.sum(axis=0)
            g = g @ self.params[2 * layer].T
        return value, grads

    def predict(self, X: np.ndarray) -> np.ndarray:
        """Predicted class labels: the argmax of the logits, shape (n,)."""
        return np.argmax(self.forward(X), axis=1)

    def accuracy(self, X: np.ndarray, y: np.ndarray) -> float:
        """The fraction of samples whose predicted label equals y.

        Example:
            >>> net = MLP([2, 3], seed=0)
            >>> print(net.accuracy(np.eye(2), net.predict(np.eye(2))))
            1.0
        """
        y = check_index_array(y, "y", self.sizes[-1])
        predicted = self.predict(X)
        if len(y) != len(predicted):
            raise ValueError(f"y must have one label per row of X ({len(predicted)}), got {len(y)}")
        return float(np.mean(predicted == y))

    def get_params(self) -> list[np.ndarray]:
        """A copy of the parameters (a snapshot that later updates do not change)."""
        return [p.copy() for p in self.params]

    def set_params(self, values: Sequence[np.ndarray]) -> None:
        """Copy ``values`` into the parameters, in place (optimizers keep their references).

        Example:
            >>> net = MLP([2, 2], seed=0)
            >>> saved = net.get_params()
            >>> net.params[0] += 1.0
            >>> net.set_params(saved)
            >>> print(np.array_equal(net.params[0], saved[0]))
            True
        """
        if len(values) != len(self.params):
            raise ValueError(
                f"values must hold {len(self.params)} arrays (one per parameter), "
                f"got {len(values)}"
            )
        for i, (param, value) in enumerate(zip(self.params, values, strict=True)):
            check_same_shape(param, np.asarray(value), f"values[{i}]")
        for param, value in zip(self.params, values, strict=True):
            param[...] = value
