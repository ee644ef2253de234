"""Checks for section trends (to be written)."""

__all__: list[str] = []
