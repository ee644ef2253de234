"""Explorers for section adaptive (to be written)."""

__all__: list[str] = []
