"""Checks for section advanced (to be written)."""

__all__: list[str] = []
