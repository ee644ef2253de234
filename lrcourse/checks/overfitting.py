"""Checks for section overfitting (to be written)."""

__all__: list[str] = []
