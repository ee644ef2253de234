"""Checks for section cases (to be written)."""

__all__: list[str] = []
