"""Checks for section challenges (to be written)."""

__all__: list[str] = []
