"""Facts about lrcourse.nn.conv: im2col is convolution, backprop is exact, the net learns digits."""

from __future__ import annotations

import doctest

import numpy as np
import pytest

import lrcourse.nn
import lrcourse.nn.conv
import lrcourse.nn.mlp
from lrcourse.nn import ConvNet, conv2d, im2col
from lrcourse.optimizers import SGD
from lrcourse.problems import load_digits, train_val_split
from lrcourse.train import supervised_objective, train

from .gradcheck import finite_difference_grads


def _naive_conv2d(images, weights, bias, padding):
    """The definition, one output value at a time: Σ_{u,v,ch} x[r+u, c+v, ch] W[u, v, ch, o]."""
    n, height, width, channels = images.shape
    k, out_channels = weights.shape[0], weights.shape[3]
    padded = np.zeros((n, height + 2 * padding, width + 2 * padding, channels))
    padded[:, padding:padding + height, padding:padding + width] = images
    h_out, w_out = height + 2 * padding - k + 1, width + 2 * padding - k + 1
    out = np.zeros((n, h_out, w_out, out_channels))
    for i in range(n):
        for r in range(h_out):
            for c in range(w_out):
                for o in range(out_channels):
                    total = bias[o]
                    for u in range(k):
                        for v in range(k):
                            for ch in range(channels):
                                total += padded[i, r + u, c + v, ch] * weights[u, v, ch, o]
                    out[i, r, c, o] = total
    return out


# --- im2col and conv2d --------------------------------------------------------------------------


@pytest.mark.parametrize(("kernel", "padding", "channels"), [(1, 0, 1), (2, 0, 3), (3, 1, 2),
                                                             (3, 2, 1), (5, 2, 2)])
def test_conv2d_by_im2col_equals_the_naive_loop_convolution(kernel, padding, channels):
    rng = np.random.default_rng(0)
    images = rng.standard_normal((3, 6, 5, channels))
    weights = rng.standard_normal((kernel, kernel, channels, 4))
    bias = rng.standard_normal(4)
    expected = _naive_conv2d(images, weights, bias, padding)
    np.testing.assert_allclose(conv2d(images, weights, bias, padding), expected, rtol=1e-12,
                               atol=1e-12)


def test_im2col_rows_are_the_padded_patches_in_row_column_channel_order():
    rng = np.random.default_rng(1)
    images = rng.standard_normal((2, 4, 4, 3))
    cols = im2col(images, kernel=3, padding=1)
    assert cols.shape == (2, 4, 4, 27)
    padded = np.pad(images, ((0, 0), (1, 1), (1, 1), (0, 0)))
    for r, c in [(0, 0), (1, 2), (3, 3)]:
        np.testing.assert_array_equal(cols[1, r, c], padded[1, r:r + 3, c:c + 3, :].ravel())
    np.testing.assert_array_equal(cols[0, 0, 0, :3], 0.0)  # the top-left patch starts in padding


def test_conv2d_equals_torch_conv2d_up_to_the_channels_last_layout():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(2)
    images = rng.standard_normal((4, 8, 8, 2))
    weights = rng.standard_normal((3, 3, 2, 5))
    bias = rng.standard_normal(5)
    expected = torch.nn.functional.conv2d(
        torch.tensor(images).permute(0, 3, 1, 2),  # (n, C, H, W)
        torch.tensor(weights).permute(3, 2, 0, 1),  # (O, C, k, k)
        torch.tensor(bias),
        padding=1,
    ).permute(0, 2, 3, 1)
    np.testing.assert_allclose(conv2d(images, weights, bias, padding=1), expected.numpy(),
                               rtol=1e-12, atol=1e-12)


# --- the network: exact gradients ---------------------------------------------------------------


@pytest.mark.parametrize(
    "kwargs",
    [
        {"pool": "max"},
        {"pool": "avg"},
        {"pool": "max", "hidden": 5},
        {"pool": "avg", "hidden": 3, "kernel": 5, "channels": 2},
        {"kernel": 1},
    ],
)
def test_convnet_gradients_equal_finite_differences(kwargs):
    kwargs = {"channels": 3, "image_size": 6, "classes": 4, "seed": 0, **kwargs}
    net = ConvNet(**kwargs)
    rng = np.random.default_rng(3)
    X, y = rng.standard_normal((5, 6, 6)), rng.integers(0, 4, size=5)
    loss, grads = net.loss_and_grads(X, y)
    numeric = finite_difference_grads(lambda: net.loss_and_grads(X, y)[0], net.params)
    assert [g.shape for g in grads] == [p.shape for p in net.params]
    for g, n in zip(grads, numeric, strict=True):
        np.testing.assert_allclose(g, n, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize(("pool", "ratio"), [("max", 0.9), ("avg", 0.4)])
def test_max_pool_sends_the_gradient_to_the_maximum_and_avg_pool_to_the_whole_window(pool, ratio):
    # one 1x1 kernel of weight 1 copies the (positive) pixels; one 2x2 window pools them
    net = ConvNet(channels=1, kernel=1, pool=pool, image_size=2, classes=2, seed=0)
    net.params[0][...] = 1.0
    X = np.array([[[0.1, 0.9], [0.4, 0.2]]])
    _, grads = net.loss_and_grads(X, [0])
    # ∂b_c = Σ_pixels ∂a, ∂W_c = Σ_pixels x ∂a: their ratio is the pixel (max) or the mean
    # pixel (avg) that the gradient reached
    assert grads[1][0] != 0
    np.testing.assert_allclose(grads[0].ravel()[0] / grads[1][0], ratio, rtol=1e-12)


# --- the network: interface ---------------------------------------------------------------------


def test_convnet_reads_flat_rows_and_square_images_alike():
    X = load_digits().X[:7]
    net = ConvNet(seed=0)
    np.testing.assert_array_equal(net.forward(X), net.forward(X.reshape(7, 8, 8)))


def test_convnet_same_seed_same_weights_other_seed_other_weights():
    a, b, c = ConvNet(seed=4), ConvNet(seed=4), ConvNet(seed=5)
    assert all(np.array_equal(p, q) for p, q in zip(a.params, b.params, strict=True))
    assert not np.array_equal(a.params[0], c.params[0])


def test_convnet_kernels_start_with_he_variance_two_over_k_squared():
    net = ConvNet(channels=4000, kernel=3, seed=0)
    assert net.params[0].shape == (3, 3, 1, 4000)
    assert abs(net.params[0].var() / (2 / 9) - 1) < 0.03
    assert np.all(net.params[1] == 0)


def test_set_params_copies_into_the_arrays_the_optimizer_holds():
    net = ConvNet(channels=2, hidden=3, seed=0)
    held = net.params[2]
    saved = net.get_params()
    net.params[2] += 1.0
    net.set_params(saved)
    assert net.params[2] is held and np.array_equal(held, saved[2])


def test_a_few_epochs_of_sgd_reach_95_percent_test_accuracy_on_the_digits():
    train_set, test_set = train_val_split(load_digits(), frac=0.2, seed=0)
    net = ConvNet(channels=8, kernel=3, seed=0)
    obj = supervised_objective(net, train_set.X, train_set.y, batch_size=32)
    epochs = 5
    h = train(obj, SGD(net.params, lr=0.05, momentum=0.9), steps=epochs * len(train_set) // 32)
    assert not h.diverged
    assert net.accuracy(test_set.X, test_set.y) >= 0.95


# --- validation and examples --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("call", "error", "name"),
    [
        (lambda: ConvNet(channels=0), ValueError, "channels"),
        (lambda: ConvNet(kernel=2), ValueError, "kernel"),
        (lambda: ConvNet(kernel=9), ValueError, "kernel"),
        (lambda: ConvNet(kernel=3.0), TypeError, "kernel"),
        (lambda: ConvNet(pool="min"), ValueError, "pool"),
        (lambda: ConvNet(hidden=0), ValueError, "hidden"),
        (lambda: ConvNet(image_size=7), ValueError, "image_size"),
        (lambda: ConvNet(classes=1), ValueError, "classes"),
        (lambda: ConvNet(seed=-1), ValueError, "seed"),
        (lambda: ConvNet().forward(np.zeros((2, 63))), ValueError, "X"),
        (lambda: ConvNet().forward(np.zeros((2, 7, 7))), ValueError, "X"),
        (lambda: ConvNet().loss_and_grads(np.zeros((2, 64)), [0, 10]), ValueError, "y"),
        (lambda: ConvNet().loss_and_grads(np.zeros((2, 64)), [0]), ValueError, "y"),
        (lambda: ConvNet().loss_and_grads(np.zeros((2, 64)), [0, 1], loss="mse"), ValueError,
         "loss"),
        (lambda: ConvNet().accuracy(np.zeros((2, 64)), [0]), ValueError, "y"),
        (lambda: ConvNet().set_params([np.zeros(1)]), ValueError, "values"),
        (lambda: im2col(np.zeros((1, 3, 3)), kernel=4), ValueError, "kernel"),
        (lambda: im2col(np.zeros((1, 3, 3)), kernel=2, padding=-1), ValueError, "padding"),
        (lambda: im2col(np.zeros((3, 3)), kernel=2), ValueError, "images"),
        (lambda: conv2d(np.zeros((1, 4, 4, 2)), np.zeros((3, 3, 1, 2)), np.zeros(2)),
         ValueError, "weights"),
        (lambda: conv2d(np.zeros((1, 4, 4)), np.zeros((3, 3, 1, 2)), np.zeros(3)), ValueError,
         "bias"),
    ],
)
def test_invalid_arguments_raise_an_error_naming_the_argument(call, error, name):
    with pytest.raises(error, match=name):
        call()


# test_nn.py's doctest.testmod(lrcourse.nn) sees only the package's own docstring since nn
# became a package, so the modules' examples are run here.
@pytest.mark.parametrize("module", [lrcourse.nn, lrcourse.nn.mlp, lrcourse.nn.conv])
def test_docstring_examples_print_what_they_say(module):
    result = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0 and result.failed == 0
