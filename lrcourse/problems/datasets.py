"""Small data sets: generated from a seed, or shipped with the package (the 8x8 digits).

Every generator takes ``seed`` and draws from ``np.random.default_rng(seed)`` only, so the
same seed gives the same arrays, byte for byte, on any machine with the same NumPy (NumPy
keeps its Generator streams stable in practice but does not promise it across versions).
Classification targets are int64 labels 0..C-1; regression targets are float64.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources

import numpy as np

from lrcourse._validate import (
    check_finite,
    check_int,
    check_nonnegative,
    check_probability,
)

__all__ = [
    "Dataset",
    "SineTask",
    "linear_regression",
    "load_digits",
    "logistic_regression",
    "sine_tasks",
    "spirals",
    "train_val_split",
    "two_moons",
]


@dataclass(frozen=True, eq=False, repr=False)
class Dataset:
    """Samples and their targets.

    Attributes:
        X: the inputs, float64, shape (n, d).
        y: the targets, shape (n,): int64 class labels, or float64 regression targets.
        coef: the weights that generated ``y`` when the set is synthetic and has them
            (linear and logistic regression), else None.
    """

    X: np.ndarray
    y: np.ndarray
    coef: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.y)

    def __repr__(self) -> str:
        return f"Dataset(X: {self.X.shape} {self.X.dtype}, y: {self.y.shape} {self.y.dtype})"


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return np.exp(-np.logaddexp(0.0, -z))


def linear_regression(n: int = 200, d: int = 5, noise: float = 0.1, seed: int = 0) -> Dataset:
    """A linear regression problem with known true weights.

    x_i ~ N(0, I_d),   w ~ N(0, I_d),   y_i = w·x_i + σ ε_i,   ε_i ~ N(0, 1)

    No bias term (the features have mean 0); ``LinearRegressionLoss(data.X, data.y)`` is the
    matching landscape.

    Args:
        n: the number of samples, >= 1.
        d: the number of features, >= 1.
        noise: σ >= 0, the standard deviation of the noise on y.
        seed: the seed of the generator.

    Returns:
        ``Dataset(X (n, d), y (n,) float64, coef = w)``.

    Example:
        >>> data = linear_regression(n=100, d=3, noise=0.0, seed=0)
        >>> print(data, np.allclose(data.X @ data.coef, data.y))
        Dataset(X: (100, 3) float64, y: (100,) float64) True
    """
    n, d = check_int(n, "n", minimum=1), check_int(d, "d", minimum=1)
    noise = check_nonnegative(noise, "noise")
    rng = np.random.default_rng(check_int(seed, "seed"))
    X = rng.standard_normal((n, d))
    coef = rng.standard_normal(d)
    y = X @ coef + noise * rng.standard_normal(n)
    return Dataset(X=X, y=y, coef=coef)


def logistic_regression(
    n: int = 200, d: int = 5, seed: int = 0, sparse_features: int = 0, sparse_rate: float = 0.05
) -> Dataset:
    """A binary classification problem from a logistic model, optionally with rare features.

    Dense features x_ij ~ N(0, 1) with weights w_j ~ N(0, 1). The last ``sparse_features``
    columns are rare binary features: each is 1 in exactly max(1, round(rate · n)) randomly
    chosen samples and 0 elsewhere, with weight ±2 (random sign). Labels are drawn from the
    model: y_i ~ Bernoulli(σ(w·x_i)), so the classes overlap and a minimum exists.

    A rare feature's gradient is non-zero only in the few samples where it is active, so its
    weight learns slowly at a rate tuned for the dense ones; AdaGrad's per-coordinate rate
    α / √(Σ g²) is larger exactly there. The course uses this set to show it.

    Args:
        n: the number of samples, >= 1.
        d: the number of features (dense + rare), >= 1.
        seed: the seed of the generator.
        sparse_features: how many of the d features are rare binary ones, 0..d.
        sparse_rate: the fraction of samples in which each rare feature is active, in [0, 1].

    Returns:
        ``Dataset(X (n, d) float64, y (n,) int64 in {0, 1}, coef = w)``.

    Example:
        >>> data = logistic_regression(n=200, d=6, seed=0, sparse_features=2)
        >>> print(data.X[:, -2:].sum(axis=0), np.bincount(data.y))
        [10. 10.] [ 96 104]
    """
    n, d = check_int(n, "n", minimum=1), check_int(d, "d", minimum=1)
    sparse_features = check_int(sparse_features, "sparse_features")
    if sparse_features > d:
        raise ValueError(
            f"sparse_features must be an integer <= d ({d}), got sparse_features={sparse_features}"
        )
    sparse_rate = check_probability(sparse_rate, "sparse_rate")
    rng = np.random.default_rng(check_int(seed, "seed"))
    dense = d - sparse_features
    X = np.zeros((n, d))
    X[:, :dense] = rng.standard_normal((n, dense))
    active = max(1, round(sparse_rate * n))
    for j in range(dense, d):
        X[rng.choice(n, size=active, replace=False), j] = 1.0
    coef = np.concatenate(
        [rng.standard_normal(dense), 2.0 * rng.choice([-1.0, 1.0], size=sparse_features)]
    )
    y = (rng.random(n) < _sigmoid(X @ coef)).astype(np.int64)
    return Dataset(X=X, y=y, coef=coef)


def two_moons(n: int = 200, noise: float = 0.1, seed: int = 0) -> Dataset:
    """Two interleaving half circles: the smallest data set a linear model cannot separate.

    class 0: (cos t, sin t),   class 1: (1 - cos t, 1/2 - sin t),   t evenly in [0, π],
    plus N(0, noise²) on each coordinate; rows shuffled.

    Args:
        n: the number of samples, >= 2 (class 0 gets n // 2 of them, class 1 the rest).
        noise: the standard deviation of the Gaussian noise, >= 0.
        seed: the seed of the generator.

    Returns:
        ``Dataset(X (n, 2) float64, y (n,) int64 in {0, 1})``.

    Example:
        >>> data = two_moons(n=100, noise=0.1, seed=0)
        >>> print(data.X.shape, np.bincount(data.y))
        (100, 2) [50 50]
    """
    n = check_int(n, "n", minimum=2)
    noise = check_nonnegative(noise, "noise")
    rng = np.random.default_rng(check_int(seed, "seed"))
    n0 = n // 2
    t0, t1 = np.linspace(0, np.pi, n0), np.linspace(0, np.pi, n - n0)
    outer = np.stack([np.cos(t0), np.sin(t0)], axis=1)
    inner = np.stack([1 - np.cos(t1), 0.5 - np.sin(t1)], axis=1)
    X = np.concatenate([outer, inner]) + noise * rng.standard_normal((n, 2))
    y = np.concatenate([np.zeros(n0, np.int64), np.ones(n - n0, np.int64)])
    order = rng.permutation(n)
    return Dataset(X=X[order], y=y[order])


def spirals(n: int = 300, classes: int = 3, noise: float = 0.2, seed: int = 0) -> Dataset:
    """Interleaved spiral arms, one per class: a non-linear problem for small MLPs.

    Arm k, radius r evenly in [0.1, 1]:  θ = 2πk / C + 4r + noise · ε,  x = r (sin θ, cos θ)

    Args:
        n: the number of samples, >= classes (split as evenly as possible; exactly balanced
            when classes divides n).
        classes: C, the number of arms, >= 2.
        noise: the standard deviation of the angular noise (radians), >= 0.
        seed: the seed of the generator.

    Returns:
        ``Dataset(X (n, 2) float64, y (n,) int64 in 0..C-1)``, rows shuffled.

    Example:
        >>> data = spirals(n=300, classes=3, seed=0)
        >>> print(data.X.shape, np.bincount(data.y), np.abs(data.X).max() <= 1)
        (300, 2) [100 100 100] True
    """
    classes = check_int(classes, "classes", minimum=2)
    n = check_int(n, "n", minimum=classes)
    noise = check_nonnegative(noise, "noise")
    rng = np.random.default_rng(check_int(seed, "seed"))
    counts = [n // classes + (k < n % classes) for k in range(classes)]
    points, labels = [], []
    for k, m in enumerate(counts):
        r = np.linspace(0.1, 1.0, m)
        theta = 2 * np.pi * k / classes + 4 * r + noise * rng.standard_normal(m)
        points.append(r[:, None] * np.stack([np.sin(theta), np.cos(theta)], axis=1))
        labels.append(np.full(m, k, dtype=np.int64))
    order = rng.permutation(n)
    return Dataset(X=np.concatenate(points)[order], y=np.concatenate(labels)[order])


@dataclass(frozen=True)
class SineTask:
    """One task of the sine family: regress y = A sin(x + φ) for x in ``x_range``.

    Attributes:
        amplitude: A.
        phase: φ (radians).
        x_range: (low, high), where inputs are drawn.
        key: a number drawn for this task, mixed into ``sample``'s seed so that two tasks
            sampled with the same seed do not share their x.
    """

    amplitude: float
    phase: float
    x_range: tuple[float, float] = (-5.0, 5.0)
    key: int = 0

    def __call__(self, x: np.ndarray) -> np.ndarray:
        """The task's function, A sin(x + φ), elementwise."""
        return self.amplitude * np.sin(np.asarray(x, dtype=np.float64) + self.phase)

    def sample(self, k: int, seed: int = 0) -> Dataset:
        """K points of this task: x uniform in ``x_range``, y = A sin(x + φ) (no noise).

        Args:
            k: the number of points (K-shot), >= 1.
            seed: the seed; draw the train and the test points with different seeds.

        Returns:
            ``Dataset(X (k, 1) float64, y (k,) float64)``.

        Example:
            >>> task = SineTask(amplitude=2.0, phase=0.5)
            >>> train, test = task.sample(5, seed=0), task.sample(100, seed=1)
            >>> print(train.X.shape, test.y.shape, np.allclose(train.y, task(train.X[:, 0])))
            (5, 1) (100,) True
        """
        k = check_int(k, "k", minimum=1)
        rng = np.random.default_rng([self.key, check_int(seed, "seed")])
        x = rng.uniform(self.x_range[0], self.x_range[1], size=(k, 1))
        return Dataset(X=x, y=self(x[:, 0]))


def _interval(value: tuple[float, float], name: str) -> tuple[float, float]:
    if np.ndim(value) != 1 or len(value) != 2:
        raise ValueError(f"{name} must be a pair (low, high), got {name}={value!r}")
    low, high = check_finite(value[0], f"{name}[0]"), check_finite(value[1], f"{name}[1]")
    if not low < high:
        raise ValueError(f"{name} must be a pair (low, high) with low < high, got {name}={value!r}")
    return low, high


def sine_tasks(
    num_tasks: int = 100,
    seed: int = 0,
    amplitude_range: tuple[float, float] = (0.1, 5.0),
    phase_range: tuple[float, float] = (0.0, np.pi),
    x_range: tuple[float, float] = (-5.0, 5.0),
) -> list[SineTask]:
    """A family of sine-wave regression tasks, for meta-learning (MAML, Reptile).

    Task i:  y = A_i sin(x + φ_i),   A_i ~ U(amplitude_range),   φ_i ~ U(phase_range)

    The defaults are those of the MAML paper's sinusoid benchmark (Finn et al., 2017).

    Args:
        num_tasks: how many tasks to draw, >= 1.
        seed: the seed of the generator.
        amplitude_range: (low, high) of A.
        phase_range: (low, high) of φ, in radians.
        x_range: (low, high) where each task draws its inputs.

    Returns:
        A list of ``SineTask``; ``task.sample(k, seed)`` gives K points of one task.

    Example:
        >>> tasks = sine_tasks(num_tasks=3, seed=0)
        >>> print([round(t.amplitude, 3) for t in tasks])
        [3.221, 1.422, 0.301]
        >>> print(tasks[0].sample(4, seed=0))
        Dataset(X: (4, 1) float64, y: (4,) float64)
    """
    num_tasks = check_int(num_tasks, "num_tasks", minimum=1)
    amplitude_range = _interval(amplitude_range, "amplitude_range")
    phase_range = _interval(phase_range, "phase_range")
    x_range = _interval(x_range, "x_range")
    rng = np.random.default_rng(check_int(seed, "seed"))
    amplitudes = rng.uniform(*amplitude_range, size=num_tasks)
    phases = rng.uniform(*phase_range, size=num_tasks)
    keys = rng.integers(2**32, size=num_tasks)
    return [
        SineTask(amplitude=float(a), phase=float(p), x_range=x_range, key=int(key))
        for a, p, key in zip(amplitudes, phases, keys, strict=True)
    ]


def train_val_split(
    dataset: Dataset, frac: float = 0.2, seed: int = 0
) -> tuple[Dataset, Dataset]:
    """Split a data set at random into a training and a validation part.

    Args:
        dataset: the samples to split.
        frac: the fraction of samples held out for validation (rounded to a whole number;
            both parts must keep at least one sample).
        seed: the seed of the random permutation.

    Returns:
        ``(train, val)``, two ``Dataset`` with ``coef`` carried over.

    Example:
        >>> train, val = train_val_split(two_moons(n=100), frac=0.2, seed=0)
        >>> print(len(train), len(val))
        80 20
    """
    frac = check_probability(frac, "frac")
    n = len(dataset)
    n_val = round(frac * n)
    if not 1 <= n_val <= n - 1:
        raise ValueError(
            f"frac must leave at least one sample in each part, got frac={frac!r} for {n} samples"
        )
    order = np.random.default_rng(check_int(seed, "seed")).permutation(n)
    val, train = order[:n_val], order[n_val:]
    return (
        Dataset(X=dataset.X[train], y=dataset.y[train], coef=dataset.coef),
        Dataset(X=dataset.X[val], y=dataset.y[val], coef=dataset.coef),
    )


def load_digits() -> Dataset:
    """The 1,797 8x8 handwritten digits (UCI optical digits test set), shipped with lrcourse.

    x = pixel count / 16, so every pixel is in [0, 1]; ``X.reshape(-1, 8, 8)`` gives the
    images. Labels 0..9, 174 to 183 of each. Source and licence (CC BY 4.0):
    ``lrcourse/data/README.md``.

    Returns:
        ``Dataset(X (1797, 64) float64 in [0, 1], y (1797,) int64 in 0..9)``, in the
        file's order (a fresh copy at each call).

    Example:
        >>> digits = load_digits()
        >>> print(digits, digits.X.max(), digits.y[:10])
        Dataset(X: (1797, 64) float64, y: (1797,) int64) 1.0 [0 1 2 3 4 5 6 7 8 9]
    """
    path = resources.files("lrcourse") / "data" / "digits.npz"
    with path.open("rb") as file, np.load(file) as data:
        images, target = data["images"], data["target"]
    return Dataset(X=images.reshape(len(images), 64) / 16.0, y=target.astype(np.int64))
