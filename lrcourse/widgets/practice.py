"""Explorers for section practice (to be written)."""

__all__: list[str] = []
