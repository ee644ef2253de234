"""lrcourse: the reference library of a course on the learning rate of neural networks.

Every optimizer and learning-rate schedule the course teaches, written from
scratch in NumPy and equal to PyTorch's ``torch.optim`` in float64, plus the
landscapes, tiny networks, training loop and sweeps the notebooks are built on.
"""

__version__ = "0.1.0"
