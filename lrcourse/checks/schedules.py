"""Checks for section schedules (to be written)."""

__all__: list[str] = []
