"""Tiny neural networks in NumPy, with backpropagation written out by hand.

One module per kind of network; everything is importable from ``lrcourse.nn``:

- ``mlp``: initialisations (naive, Xavier, He), losses (softmax cross-entropy, MSE) and the
  multilayer perceptron ``MLP``.
- ``conv``: ``im2col``, ``conv2d`` and ``ConvNet``, a one-convolution network for the 8x8 digits.
- ``sequence``: ``RNN``, a character-level recurrent network trained by backpropagation
  through time, its tasks (``sequence_task``) and gradient clipping (``clip_grad_norm``,
  ``clip_grad_value``).

Every network has the same interface: ``params`` (a list of arrays that optimizers update in
place), ``forward``, ``loss_and_grads(X, y)``, ``predict``, ``accuracy``, ``get_params`` and
``set_params``; the tests check every gradient against finite differences.

Example:
    >>> from lrcourse.nn import MLP, ConvNet, RNN
    >>> [len(net.params) for net in (MLP([64, 10]), ConvNet(), RNN(vocab_size=5))]
    [2, 4, 5]
"""

from lrcourse.nn.conv import ConvNet, conv2d, im2col
from lrcourse.nn.mlp import (
    INITS,
    MLP,
    he_init,
    mse,
    naive_init,
    softmax_cross_entropy,
    xavier_init,
)
from lrcourse.nn.sequence import (
    RNN,
    TEXT,
    SequenceTask,
    clip_grad_norm,
    clip_grad_value,
    sequence_task,
)

__all__ = [
    "INITS",
    "MLP",
    "RNN",
    "TEXT",
    "ConvNet",
    "SequenceTask",
    "clip_grad_norm",
    "clip_grad_value",
    "conv2d",
    "he_init",
    "im2col",
    "mse",
    "naive_init",
    "sequence_task",
    "softmax_cross_entropy",
    "xavier_init",
]
