"""A character-level recurrent network, the tasks it learns, and gradient clipping.

- ``RNN``: an Elman network (tanh hidden state, a softmax over symbols at every step) trained
  by backpropagation through time.
- ``sequence_task``: seeded data sets of symbol sequences: next-character prediction on
  ``TEXT`` (a short text shipped here), or "echo" (repeat the symbol seen ``delay`` steps ago).
- ``clip_grad_norm`` and ``clip_grad_value``: the two clippings of ``torch.nn.utils``. They
  apply to any list of gradients; they live here because recurrent networks are where
  gradients explode and where clipping was introduced (Pascanu, Mikolov & Bengio, 2013).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from lrcourse._validate import check_choice, check_int, check_nonnegative, check_positive
from lrcourse.nn.mlp import MLP, softmax_cross_entropy, xavier_init

__all__ = ["RNN", "TEXT", "SequenceTask", "clip_grad_norm", "clip_grad_value", "sequence_task"]

TEXT = (
    "the learning rate is the size of the step. take a step too small and training crawls, "
    "it may stop in the first dip it finds. take a step too large and the loss jumps from one "
    "side of the valley to the other, higher each time, until the numbers overflow. between "
    "the two lies a range of good rates, and it is narrower than we would like. "
    "on a parabola the rule is exact. the error shrinks by a factor of one minus the rate times "
    "the curvature at every step, so the rate must stay below two over the curvature. a network "
    "has many curvatures at once, and the largest one sets the limit for all the others. "
    "this is why we warm up, why we decay, and why we clip. warm up, because the first steps "
    "meet the sharpest curvature. decay, because near the end the noise of the gradient is "
    "larger than the signal. clip, because one bad batch can throw the weights far away. "
    "a recurrent network reads a sequence one symbol at a time and carries a memory from step "
    "to step. its gradient passes through the same weights again and again, so it can shrink "
    "to nothing or grow without bound. when it grows, a single update can undo an hour of "
    "training. clipping the norm of the gradient keeps the direction and bounds the length, "
    "so a large rate stays safe on the rare steps where the gradient explodes. "
    "adaptive methods scale each coordinate by its own history, yet they still have a rate, "
    "and it still matters. try several, on a log scale, and watch the loss, not the clock."
)
"""A short text written for this course: the corpus of ``sequence_task("text")``."""


# =============================================================================================
# Tasks
# =============================================================================================


@dataclass(frozen=True, eq=False, repr=False)
class SequenceTask:
    """Sequences of symbols and the target symbol at every step.

    Attributes:
        X: inputs, integers in [0, vocab_size), shape (n, T).
        y: targets, integers in [0, vocab_size), shape (n, T).
        alphabet: the string whose i-th character prints symbol i.
    """

    X: np.ndarray
    y: np.ndarray
    alphabet: str

    @property
    def vocab_size(self) -> int:
        """The number of distinct symbols."""
        return len(self.alphabet)

    def __len__(self) -> int:
        return len(self.X)

    def __repr__(self) -> str:
        return f"SequenceTask(X: {self.X.shape}, y: {self.y.shape}, vocab_size={self.vocab_size})"

    def decode(self, ids: Sequence[int] | np.ndarray) -> str:
        """The characters of a sequence of symbols."""
        return "".join(self.alphabet[i] for i in np.asarray(ids).ravel())

    def encode(self, text: str) -> np.ndarray:
        """The symbols of a string (every character must be in the alphabet)."""
        unknown = sorted(set(text) - set(self.alphabet))
        if unknown:
            raise ValueError(f"text must use only the alphabet {self.alphabet!r}, got {unknown}")
        return np.array([self.alphabet.index(ch) for ch in text], dtype=np.intp)


def sequence_task(
    kind: str = "text",
    n: int = 256,
    length: int = 32,
    seed: int = 0,
    delay: int = 3,
    vocab_size: int = 5,
) -> SequenceTask:
    """A seeded data set of symbol sequences with a target at every step.

    - ``"text"``: n windows of ``TEXT`` starting at random places; the target is the next
      character, y_t = x_{t+1}. The windows overlap, so a network ends up learning the text
      by heart; still no model reaches 100 %, since a context that recurs ("the ") is
      followed by different characters in different places.
    - ``"echo"``: symbols drawn uniformly from 1 .. vocab_size - 1; the target is the symbol
      seen ``delay`` steps earlier, y_t = x_{t - delay}, and the blank symbol 0 ("_") for
      t < delay. It can be learnt perfectly, but only by remembering ``delay`` steps back: the
      larger the delay, the harder the gradient has to travel.

    Args:
        kind: "text" or "echo".
        n: the number of sequences, >= 1.
        length: T, the number of steps of each sequence, >= 1 (< len(TEXT) for "text").
        seed: the seed of the random windows or symbols.
        delay: (echo) how many steps back to repeat, 1 <= delay < length.
        vocab_size: (echo) the number of symbols including the blank, 3 ... 27.

    Returns:
        A ``SequenceTask`` (X, y, alphabet).

    Example:
        >>> task = sequence_task("text", n=2, length=12, seed=0)
        >>> print(task, repr(task.decode(task.X[0])), repr(task.decode(task.y[0])))
        SequenceTask(X: (2, 12), y: (2, 12), vocab_size=29) 'ays safe on ' 'ys safe on t'
        >>> echo = sequence_task("echo", n=1, length=8, delay=2, seed=0)
        >>> print(echo.decode(echo.X[0]), echo.decode(echo.y[0]))
        dccbbaaa __dccbba
    """
    check_choice(kind, "kind", ("text", "echo"))
    n = check_int(n, "n", minimum=1)
    length = check_int(length, "length", minimum=1)
    rng = np.random.default_rng(check_int(seed, "seed"))
    if kind == "text":
        if length >= len(TEXT):
            raise ValueError(
                f"length must be below the length of TEXT ({len(TEXT)}), got length={length}"
            )
        alphabet = "".join(sorted(set(TEXT)))
        corpus = np.array([alphabet.index(ch) for ch in TEXT], dtype=np.intp)
        starts = rng.integers(0, len(corpus) - length, size=n)
        windows = corpus[starts[:, None] + np.arange(length + 1)]
        return SequenceTask(X=windows[:, :-1], y=windows[:, 1:], alphabet=alphabet)
    delay = check_int(delay, "delay", minimum=1)
    if delay >= length:
        raise ValueError(f"delay must be below length={length}, got delay={delay}")
    vocab_size = check_int(vocab_size, "vocab_size", minimum=3)
    if vocab_size > 27:
        raise ValueError(
            f"vocab_size must be at most 27 (blank + a..z), got vocab_size={vocab_size}"
        )
    X = rng.integers(1, vocab_size, size=(n, length))
    y = np.zeros_like(X)
    y[:, delay:] = X[:, :-delay]
    return SequenceTask(X=X, y=y, alphabet="_abcdefghijklmnopqrstuvwxyz"[:vocab_size])


# =============================================================================================
# The recurrent network
# =============================================================================================


def _check_symbols(X: np.ndarray, name: str, vocab_size: int) -> np.ndarray:
    array = np.asarray(X)
    if array.ndim != 2:
        raise ValueError(
            f"{name} must have shape (n, T) (n sequences of T symbols), got {name} of shape "
            f"{array.shape}"
        )
    if array.dtype.kind not in "iu":
        raise TypeError(f"{name} must hold integer symbols, got {name} of dtype {array.dtype}")
    if array.size and (array.min() < 0 or array.max() >= vocab_size):
        raise ValueError(
            f"{name} must hold symbols in [0, {vocab_size}), got {name} with values in "
            f"[{array.min()}, {array.max()}]"
        )
    return array.astype(np.intp, copy=False)


class RNN:
    """A character-level recurrent network (Elman): a tanh memory and a softmax at every step.

    For a sequence of symbols x_1 .. x_T (one-hot rows e_{x_t}), with h_0 = 0:

        h_t = tanh(e_{x_t} W_xh + h_{t-1} W_hh + b_h),     z_t = h_t W_hy + b_y

    and the loss is the mean cross-entropy of softmax(z_t) against y_t over all n·T steps.

    Backpropagation through time, from ∂L/∂z_t (known at every step) and δ_{T+1} = 0 down:

        ∂L/∂h_t = ∂L/∂z_t W_hyᵀ + δ_{t+1} W_hhᵀ,     δ_t = ∂L/∂h_t ⊙ (1 - h_t²)
        ∂W_hh = Σ_t h_{t-1}ᵀ δ_t,   ∂W_xh = Σ_t e_{x_t}ᵀ δ_t,   ∂b_h = Σ_t δ_t

    (∂W_hy and ∂b_y as in a dense layer.) What reaches step t from step t + s has been
    multiplied by s Jacobians diag(1 - h²) W_hhᵀ, so it shrinks or grows geometrically in s:
    the vanishing and exploding gradients that make the learning rate of recurrent networks
    touchy, and that ``clip_grad_norm`` tames.

    Why an RNN rather than attention: it is the model whose gradients explode, so it shows
    what clipping and warmup are for; its backward pass is one loop that mirrors the forward
    one; and it fits in a page.

    Initialisation: W_xh and W_hy Xavier; W_hh ~ N(0, 1/H), whose largest eigenvalues lie
    near the unit circle (the edge between vanishing and exploding); biases 0.

    Args:
        vocab_size: V, the number of symbols, >= 2.
        hidden: H, the size of the memory h_t, >= 1.
        seed: the seed of the initialisation.

    Attributes:
        params: [W_xh (V, H), W_hh (H, H), b_h (H,), W_hy (H, V), b_y (V,)]. Optimizers update
            these very arrays in place.
        hidden_states: after ``forward``, [h_0, h_1, ..., h_T] as one array (n, T + 1, H).

    Example:
        >>> task = sequence_task("echo", n=64, length=10, delay=1, seed=0)
        >>> net = RNN(vocab_size=task.vocab_size, hidden=16, seed=0)
        >>> loss, grads = net.loss_and_grads(task.X, task.y)
        >>> print(round(loss, 3), [g.shape for g in grads])
        1.856 [(5, 16), (16, 16), (16,), (16, 5), (5,)]
    """

    def __init__(self, vocab_size: int, hidden: int = 32, seed: int = 0) -> None:
        self.vocab_size = check_int(vocab_size, "vocab_size", minimum=2)
        self.hidden = check_int(hidden, "hidden", minimum=1)
        rng = np.random.default_rng(check_int(seed, "seed"))
        V, H = self.vocab_size, self.hidden
        self.params: list[np.ndarray] = [
            xavier_init(V, H, rng),
            rng.standard_normal((H, H)) / np.sqrt(H),
            np.zeros(H),
            xavier_init(H, V, rng),
            np.zeros(V),
        ]
        self.hidden_states = np.empty((0, 1, H))

    def __repr__(self) -> str:
        return f"RNN(vocab_size={self.vocab_size}, hidden={self.hidden})"

    def forward(self, X: np.ndarray) -> np.ndarray:
        """The logits of the next symbol at every step of every sequence.

        Args:
            X: symbols, integers in [0, vocab_size), shape (n, T).

        Returns:
            Logits, shape (n, T, vocab_size). Also stores ``hidden_states``.

        Example:
            >>> print(RNN(vocab_size=4, hidden=3).forward(np.zeros((2, 5), dtype=int)).shape)
            (2, 5, 4)
        """
        X = _check_symbols(X, "X", self.vocab_size)
        W_xh, W_hh, b_h, W_hy, b_y = self.params
        n, T = X.shape
        inputs = W_xh[X] + b_h  # e_{x_t} W_xh is a row lookup
        hs = np.zeros((n, T + 1, self.hidden))
        for t in range(T):
            hs[:, t + 1] = np.tanh(inputs[:, t] + hs[:, t] @ W_hh)
        self.hidden_states = hs
        return hs[:, 1:] @ W_hy + b_y

    def loss_and_grads(
        self, X: np.ndarray, y: np.ndarray, loss: str = "cross_entropy"
    ) -> tuple[float, list[np.ndarray]]:
        """The mean cross-entropy over all steps, and its gradient by backpropagation in time.

        Args:
            X: symbols, shape (n, T).
            y: the target symbol of every step, shape (n, T).
            loss: "cross_entropy" (the argument exists so that
                ``lrcourse.train.supervised_objective`` can pass it).

        Returns:
            (loss, grads), grads aligned with ``params`` (same order, same shapes).

        Example:
            >>> net = RNN(vocab_size=3, hidden=4, seed=0)
            >>> value, grads = net.loss_and_grads([[0, 1, 2]], [[1, 2, 0]])
            >>> print(round(value, 4), len(grads))
            1.0278 5
        """
        check_choice(loss, "loss", ("cross_entropy",))
        X = _check_symbols(X, "X", self.vocab_size)
        y = _check_symbols(y, "y", self.vocab_size)
        if y.shape != X.shape:
            raise ValueError(
                f"y must have the shape of X {X.shape} (a target per step), got y of shape "
                f"{y.shape}"
            )
        logits = self.forward(X)
        n, T, V = logits.shape
        value, g = softmax_cross_entropy(logits.reshape(n * T, V), y.reshape(n * T))
        g = g.reshape(n, T, V)  # ∂L/∂z_t
        W_xh, W_hh, b_h, W_hy, b_y = self.params
        hs = self.hidden_states
        one_hot = np.eye(V)[X]  # e_{x_t}, shape (n, T, V)
        grads = [np.zeros_like(p) for p in self.params]
        grad_W_xh, grad_W_hh, grad_b_h, grad_W_hy, grad_b_y = grads
        carry = np.zeros((n, self.hidden))  # δ_{t+1} W_hhᵀ
        # One step at a time, as in the formulas: every product stays small (a batch of
        # rows), which keeps multithreaded BLAS out of the way on a busy machine.
        for t in reversed(range(T)):
            grad_W_hy += hs[:, t + 1].T @ g[:, t]
            grad_b_y += g[:, t].sum(axis=0)
            delta = (g[:, t] @ W_hy.T + carry) * (1.0 - hs[:, t + 1] ** 2)
            grad_W_hh += hs[:, t].T @ delta
            grad_W_xh += one_hot[:, t].T @ delta
            grad_b_h += delta.sum(axis=0)
            carry = delta @ W_hh.T
        return value, grads

    def predict(self, X: np.ndarray) -> np.ndarray:
        """The most likely symbol at every step, shape (n, T)."""
        return np.argmax(self.forward(X), axis=-1)

    def accuracy(self, X: np.ndarray, y: np.ndarray) -> float:
        """The fraction of steps (over all sequences) whose predicted symbol equals y.

        Example:
            >>> net = RNN(vocab_size=3, hidden=4, seed=0)
            >>> X = np.array([[0, 1, 2, 1]])
            >>> print(net.accuracy(X, net.predict(X)))
            1.0
        """
        y = _check_symbols(y, "y", self.vocab_size)
        predicted = self.predict(X)
        if y.shape != predicted.shape:
            raise ValueError(
                f"y must have the shape of X {predicted.shape}, got y of shape {y.shape}"
            )
        return float(np.mean(predicted == y))

    def sample(
        self, prompt: Sequence[int] | np.ndarray, length: int, seed: int = 0,
        temperature: float = 1.0,
    ) -> np.ndarray:
        """Continue a sequence: read ``prompt``, then draw ``length`` symbols one at a time.

        x_{t+1} ~ softmax(z_t / temperature), or x_{t+1} = argmax z_t when temperature = 0.

        Args:
            prompt: the first symbols, at least one.
            length: how many symbols to add, >= 0.
            seed: the seed of the draws.
            temperature: >= 0; lower is more conservative, 0 is greedy.

        Returns:
            The prompt followed by the new symbols, shape (len(prompt) + length,).

        Example:
            >>> net = RNN(vocab_size=3, hidden=4, seed=0)
            >>> print(net.sample([0, 1], length=5, temperature=0.0))
            [0 1 2 2 0 1 2]
        """
        if len(prompt) == 0:
            raise ValueError("prompt must hold at least one symbol, got an empty prompt")
        ids = _check_symbols(np.atleast_1d(prompt)[None, :], "prompt", self.vocab_size)[0]
        length = check_int(length, "length")
        temperature = check_nonnegative(temperature, "temperature")
        rng = np.random.default_rng(check_int(seed, "seed"))
        W_xh, W_hh, b_h, W_hy, b_y = self.params
        out = list(ids)
        h = np.zeros(self.hidden)
        for t in range(len(ids) + length - 1):
            h = np.tanh(W_xh[out[t]] + h @ W_hh + b_h)
            if t + 1 < len(ids):
                continue  # still reading the prompt
            z = h @ W_hy + b_y
            if temperature == 0:
                out.append(int(np.argmax(z)))
            else:
                p = np.exp((z - z.max()) / temperature)
                out.append(int(rng.choice(self.vocab_size, p=p / p.sum())))
        return np.array(out, dtype=np.intp)

    # The same as the MLP's: they only read and write self.params.
    get_params = MLP.get_params
    set_params = MLP.set_params


# =============================================================================================
# Gradient clipping
# =============================================================================================


def _check_grads(grads: Sequence[np.ndarray]) -> list[np.ndarray]:
    if isinstance(grads, np.ndarray) or not isinstance(grads, list | tuple):
        raise TypeError(
            f"grads must be a list of arrays (clipped in place), got grads of type "
            f"{type(grads).__name__}; wrap a single array in a list"
        )
    for i, g in enumerate(grads):
        if not isinstance(g, np.ndarray) or not np.issubdtype(g.dtype, np.floating):
            raise TypeError(
                f"grads[{i}] must be a floating-point NumPy array (clipped in place), "
                f"got grads[{i}]={g!r}"
            )
        if not g.flags.writeable:
            raise ValueError(f"grads[{i}] must be writeable (it is clipped in place)")
    return list(grads)


def clip_grad_norm(
    grads: Sequence[np.ndarray], max_norm: float, error_if_nonfinite: bool = False
) -> float:
    """Scale all gradients together, in place, so that their total 2-norm is at most max_norm.

        ‖g‖ = sqrt(Σ_i ‖g_i‖²),    g_i ← g_i · min(1, max_norm / (‖g‖ + 1e-6))

    The direction of the update is kept; only its length is bounded. Equals
    ``torch.nn.utils.clip_grad_norm_`` (same 1e-6, same total over all the arrays, and like it
    a non-finite norm turns the gradients into NaN unless ``error_if_nonfinite``).

    Args:
        grads: the gradients, a list of float arrays, changed in place.
        max_norm: the largest total norm allowed, > 0 (``math.inf`` only measures the norm).
        error_if_nonfinite: raise ValueError when the total norm is NaN or infinite.

    Returns:
        ‖g‖, the total norm before clipping (what to log to see gradients explode).

    Example:
        >>> grads = [np.array([3.0, 0.0]), np.array([[4.0]])]
        >>> total = clip_grad_norm(grads, max_norm=1.0)
        >>> print(total, grads[0].round(6), grads[1].round(6))
        5.0 [0.6 0. ] [[0.8]]
    """
    grads = _check_grads(grads)
    if max_norm != math.inf:  # inf is allowed, as in torch: measure the norm, clip nothing
        max_norm = check_positive(max_norm, "max_norm")
    if not grads:
        return 0.0
    with np.errstate(over="ignore", invalid="ignore"):
        total = float(np.linalg.norm([np.linalg.norm(g.ravel()) for g in grads]))
        if error_if_nonfinite and not math.isfinite(total):
            raise ValueError(
                f"grads must have a finite total norm to be clipped, got a total norm of {total}"
            )
        coef = min(max_norm / (total + 1e-6), 1.0)  # NaN stays NaN, as in torch
        for g in grads:
            g *= coef
    return total


def clip_grad_value(grads: Sequence[np.ndarray], clip: float) -> None:
    """Clip every entry of every gradient, in place, to [-clip, clip].

        g_ij ← max(-clip, min(g_ij, clip))

    Unlike ``clip_grad_norm`` this changes the direction of the update. Equals
    ``torch.nn.utils.clip_grad_value_``.

    Args:
        grads: the gradients, a list of float arrays, changed in place.
        clip: the largest absolute value allowed, > 0.

    Example:
        >>> grads = [np.array([3.0, -0.5, -7.0])]
        >>> clip_grad_value(grads, clip=1.0)
        >>> print(grads[0])
        [ 1.  -0.5 -1. ]
    """
    grads = _check_grads(grads)
    clip = check_positive(clip, "clip")
    for g in grads:
        np.clip(g, -clip, clip, out=g)
