"""A small convolutional network for the 8x8 digits: convolution by im2col, ReLU, pooling.

Images are stored channels-last, ``(n, height, width, channels)``, so that a convolution is
one matrix product: ``im2col`` lays every k x k patch out as a row, and the kernels are the
columns of a matrix. Nothing loops over images or pixels in Python.
"""

from __future__ import annotations

import numpy as np

from lrcourse._validate import check_choice, check_index_array, check_int
from lrcourse.nn.mlp import MLP, he_init, softmax_cross_entropy

__all__ = ["ConvNet", "conv2d", "im2col"]


def _as_images(images: np.ndarray, name: str) -> np.ndarray:
    """(n, H, W) or (n, H, W, C) as a float64 array of shape (n, H, W, C)."""
    images = np.asarray(images, dtype=np.float64)
    if images.ndim == 3:
        images = images[..., None]
    if images.ndim != 4:
        raise ValueError(
            f"{name} must have shape (n, height, width) or (n, height, width, channels), "
            f"got {name} of shape {images.shape}"
        )
    return images


def im2col(images: np.ndarray, kernel: int, padding: int = 0) -> np.ndarray:
    """Every kernel x kernel patch of every image, laid out as one row (stride 1).

    cols[i, r, c] = vec( pad(images)[i, r : r + k, c : c + k, :] ),   in (row, column, channel)
    order, for 0 <= r < H + 2p - k + 1 and 0 <= c < W + 2p - k + 1.

    A read-only strided view picks the patches (``sliding_window_view``); the single copy is the
    final reshape.

    Args:
        images: shape (n, H, W) or (n, H, W, C).
        kernel: k, the side of the square patch, >= 1 and <= H + 2p and W + 2p.
        padding: p, zeros added on every side of every image, >= 0.

    Returns:
        cols, shape (n, H_out, W_out, k * k * C).

    Example:
        >>> image = np.arange(9.0).reshape(1, 3, 3)
        >>> cols = im2col(image, kernel=2)
        >>> print(cols.shape, cols[0, 0, 0], cols[0, 1, 1])
        (1, 2, 2, 4) [0. 1. 3. 4.] [4. 5. 7. 8.]
    """
    images = _as_images(images, "images")
    kernel = check_int(kernel, "kernel", minimum=1)
    padding = check_int(padding, "padding")
    n, height, width, channels = images.shape
    if kernel > min(height, width) + 2 * padding:
        raise ValueError(
            f"kernel must fit in the padded image ({height + 2 * padding} x "
            f"{width + 2 * padding}), got kernel={kernel}"
        )
    padded = np.pad(images, ((0, 0), (padding, padding), (padding, padding), (0, 0)))
    # (n, H_out, W_out, C, k, k): a view, no copy yet
    patches = np.lib.stride_tricks.sliding_window_view(padded, (kernel, kernel), axis=(1, 2))
    h_out, w_out = patches.shape[1], patches.shape[2]
    return patches.transpose(0, 1, 2, 4, 5, 3).reshape(n, h_out, w_out, kernel * kernel * channels)


def conv2d(
    images: np.ndarray, weights: np.ndarray, bias: np.ndarray, padding: int = 0
) -> np.ndarray:
    """A 2-D convolution, stride 1, as deep-learning libraries define it (no kernel flip).

    out[i, r, c, o] = b[o] + Σ_{u, v, ch} pad(images)[i, r + u, c + v, ch] · W[u, v, ch, o]
                    = (im2col(images) @ W.reshape(k·k·C, O))[i, r, c, o] + b[o]

    Equals ``torch.nn.functional.conv2d`` up to the layout (torch is channels-first).

    Args:
        images: shape (n, H, W) or (n, H, W, C).
        weights: W, shape (k, k, C, O): O kernels of k x k x C.
        bias: b, shape (O,).
        padding: p, zeros added on every side, >= 0.

    Returns:
        out, shape (n, H + 2p - k + 1, W + 2p - k + 1, O).

    Example:
        >>> image = np.arange(9.0).reshape(1, 3, 3)
        >>> box = np.ones((2, 2, 1, 1))                      # sums each 2 x 2 patch
        >>> print(conv2d(image, box, np.zeros(1))[0, :, :, 0])
        [[ 8. 12.]
         [20. 24.]]
    """
    images = _as_images(images, "images")
    weights = np.asarray(weights, dtype=np.float64)
    bias = np.asarray(bias, dtype=np.float64)
    channels = images.shape[3]
    if weights.ndim != 4 or weights.shape[0] != weights.shape[1] or weights.shape[2] != channels:
        raise ValueError(
            f"weights must have shape (k, k, {channels}, out_channels), "
            f"got weights of shape {weights.shape}"
        )
    if bias.shape != (weights.shape[3],):
        raise ValueError(
            f"bias must have shape ({weights.shape[3]},), got bias of shape {bias.shape}"
        )
    cols = im2col(images, weights.shape[0], padding)
    return cols @ weights.reshape(-1, weights.shape[3]) + bias


def _pool_windows(a: np.ndarray) -> np.ndarray:
    """(n, H, W, C) -> (n, H/2, W/2, C, 4): the four values of every 2 x 2 window."""
    n, height, width, channels = a.shape
    windows = a.reshape(n, height // 2, 2, width // 2, 2, channels).transpose(0, 1, 3, 5, 2, 4)
    return windows.reshape(n, height // 2, width // 2, channels, 4)


def _unpool_windows(windows: np.ndarray) -> np.ndarray:
    """The inverse of ``_pool_windows``: (n, H/2, W/2, C, 4) -> (n, H, W, C)."""
    n, half_h, half_w, channels, _ = windows.shape
    a = windows.reshape(n, half_h, half_w, channels, 2, 2).transpose(0, 1, 4, 2, 5, 3)
    return a.reshape(n, 2 * half_h, 2 * half_w, channels)


class ConvNet:
    """Convolution, ReLU, 2 x 2 pooling, (an optional hidden layer), then a dense softmax layer.

    For an image x (S x S, one channel) and C kernels of k x k, with "same" padding p = (k-1)/2:

        a    = ReLU(conv2d(x, W_c, b_c, p))               (S, S, C)
        m    = pool(a)                                    (S/2, S/2, C), max or mean of 2 x 2
        h    = vec(m)                                     (or ReLU(vec(m) W_h + b_h))
        z    = h W_o + b_o                                the logits of the classes

    Backpropagation, from g = ∂loss/∂z down: the dense layers as in ``MLP``; pooling sends the
    gradient of each window to its maximum (max) or a quarter to each value (mean); then

        ∂W_c = im2col(x)ᵀ (∂a ⊙ [a > 0]),   ∂b_c = Σ (∂a ⊙ [a > 0])

    The single convolution reads the input image, so no gradient flows back to the pixels
    (nothing needs col2im). All weights start from He's N(0, 2/fan_in), fan_in = k·k for the
    kernels; biases start at 0.

    Args:
        channels: C, the number of kernels, >= 1.
        kernel: k, their side, odd, >= 1, <= image_size.
        pool: "max" or "avg".
        hidden: width of a hidden dense ReLU layer, or None for none.
        image_size: S, the side of the (square, even-sided) images.
        classes: the number of classes, >= 2.
        seed: the seed of the initialisation.

    Attributes:
        params: [W_c (k, k, 1, C), b_c (C,), (W_h, b_h,) W_o (C·S²/4, classes), b_o (classes,)].
            Optimizers update these very arrays in place.

    Example:
        >>> from lrcourse.problems import load_digits
        >>> digits = load_digits()
        >>> net = ConvNet(channels=8, kernel=3, seed=0)
        >>> print(net, net.forward(digits.X[:5]).shape)
        ConvNet(channels=8, kernel=3, pool='max', hidden=None, image_size=8, classes=10) (5, 10)
        >>> loss, grads = net.loss_and_grads(digits.X[:32], digits.y[:32])
        >>> print(round(loss, 3), [g.shape for g in grads])
        2.68 [(3, 3, 1, 8), (8,), (128, 10), (10,)]
    """

    def __init__(
        self,
        channels: int = 8,
        kernel: int = 3,
        pool: str = "max",
        hidden: int | None = None,
        image_size: int = 8,
        classes: int = 10,
        seed: int = 0,
    ) -> None:
        self.channels = check_int(channels, "channels", minimum=1)
        self.image_size = check_int(image_size, "image_size", minimum=2)
        if self.image_size % 2:
            raise ValueError(
                f"image_size must be even (2 x 2 pooling), got image_size={image_size}"
            )
        self.kernel = check_int(kernel, "kernel", minimum=1)
        if self.kernel % 2 == 0 or self.kernel > self.image_size:
            raise ValueError(
                f"kernel must be odd and at most image_size={self.image_size} "
                f"('same' padding), got kernel={kernel}"
            )
        self.pool = check_choice(pool, "pool", ("max", "avg"))
        self.hidden = None if hidden is None else check_int(hidden, "hidden", minimum=1)
        self.classes = check_int(classes, "classes", minimum=2)
        rng = np.random.default_rng(check_int(seed, "seed"))
        k, c = self.kernel, self.channels
        features = c * (self.image_size // 2) ** 2
        self.params: list[np.ndarray] = [he_init(k * k, c, rng).reshape(k, k, 1, c), np.zeros(c)]
        if self.hidden is not None:
            self.params += [he_init(features, self.hidden, rng), np.zeros(self.hidden)]
            features = self.hidden
        self.params += [he_init(features, self.classes, rng), np.zeros(self.classes)]
        self._cache: dict[str, np.ndarray] = {}

    def __repr__(self) -> str:
        return (
            f"ConvNet(channels={self.channels}, kernel={self.kernel}, pool={self.pool!r}, "
            f"hidden={self.hidden}, image_size={self.image_size}, classes={self.classes})"
        )

    def _check_inputs(self, X: np.ndarray) -> np.ndarray:
        X = np.asarray(X, dtype=np.float64)
        s = self.image_size
        if X.ndim == 2 and X.shape[1] == s * s:
            X = X.reshape(len(X), s, s)
        if X.ndim != 3 or X.shape[1:] != (s, s):
            raise ValueError(
                f"X must have shape (n, {s}, {s}) or (n, {s * s}), got X of shape {X.shape}"
            )
        return X[..., None]

    def forward(self, X: np.ndarray) -> np.ndarray:
        """The logits for images X, shape (n, S, S) or (n, S²) (rows of ``load_digits().X``).

        Args:
            X: the images.

        Returns:
            Logits, shape (n, classes).

        Example:
            >>> print(ConvNet(channels=2, seed=0).forward(np.zeros((3, 64))).shape)
            (3, 10)
        """
        images = self._check_inputs(X)
        n = len(images)
        cols = im2col(images, self.kernel, padding=self.kernel // 2)
        a = np.maximum(cols @ self.params[0].reshape(-1, self.channels) + self.params[1], 0.0)
        windows = _pool_windows(a)
        if self.pool == "max":
            winner = windows.argmax(axis=-1)[..., None]
            pooled = np.take_along_axis(windows, winner, axis=-1)[..., 0]
            self._cache["winner"] = winner
        else:
            pooled = windows.mean(axis=-1)
        h = pooled.reshape(n, -1)
        self._cache.update(cols=cols, a=a, flat=h)
        if self.hidden is not None:
            h = np.maximum(h @ self.params[2] + self.params[3], 0.0)
            self._cache["h"] = h
        return h @ self.params[-2] + self.params[-1]

    def loss_and_grads(
        self, X: np.ndarray, y: np.ndarray, loss: str = "cross_entropy"
    ) -> tuple[float, list[np.ndarray]]:
        """The mean cross-entropy on (X, y) and its gradient with respect to every parameter.

        Args:
            X: images, shape (n, S, S) or (n, S²).
            y: integer labels in [0, classes), shape (n,).
            loss: "cross_entropy" (the only loss of a classifier; the argument exists so that
                ``lrcourse.train.supervised_objective`` can pass it).

        Returns:
            (loss, grads), grads aligned with ``params`` (same order, same shapes).

        Example:
            >>> net = ConvNet(channels=2, hidden=4, seed=0)
            >>> value, grads = net.loss_and_grads(np.ones((3, 8, 8)), [0, 1, 2])
            >>> print(round(value, 4), [g.shape for g in grads])
            2.3827 [(3, 3, 1, 2), (2,), (32, 4), (4,), (4, 10), (10,)]
        """
        check_choice(loss, "loss", ("cross_entropy",))
        value, g = softmax_cross_entropy(self.forward(X), y)
        cache = self._cache
        grads: list[np.ndarray] = [np.empty(0)] * len(self.params)
        h = cache["h"] if self.hidden is not None else cache["flat"]
        grads[-2], grads[-1] = h.T @ g, g.sum(axis=0)
        g = g @ self.params[-2].T
        if self.hidden is not None:
            g = g * (h > 0)
            grads[2], grads[3] = cache["flat"].T @ g, g.sum(axis=0)
            g = g @ self.params[2].T
        a = cache["a"]
        half = self.image_size // 2
        g = g.reshape(len(a), half, half, self.channels)
        if self.pool == "max":
            g_windows = np.zeros(g.shape + (4,))
            np.put_along_axis(g_windows, cache["winner"], g[..., None], axis=-1)
        else:
            g_windows = np.broadcast_to(g[..., None] / 4.0, g.shape + (4,))
        g = _unpool_windows(g_windows) * (a > 0)
        g = g.reshape(-1, self.channels)
        grads[0] = (cache["cols"].reshape(len(g), -1).T @ g).reshape(self.params[0].shape)
        grads[1] = g.sum(axis=0)
        return value, grads

    def predict(self, X: np.ndarray) -> np.ndarray:
        """Predicted class labels: the argmax of the logits, shape (n,)."""
        return np.argmax(self.forward(X), axis=1)

    def accuracy(self, X: np.ndarray, y: np.ndarray) -> float:
        """The fraction of images whose predicted label equals y.

        Example:
            >>> net = ConvNet(channels=2, seed=0)
            >>> X = np.random.default_rng(0).random((4, 64))
            >>> print(net.accuracy(X, net.predict(X)))
            1.0
        """
        y = check_index_array(y, "y", self.classes)
        predicted = self.predict(X)
        if len(y) != len(predicted):
            raise ValueError(
                f"y must have one label per image of X ({len(predicted)}), got {len(y)}"
            )
        return float(np.mean(predicted == y))

    # The same as the MLP's: they only read and write self.params.
    get_params = MLP.get_params
    set_params = MLP.set_params
