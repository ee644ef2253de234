"""Every explorer of the course, for benchmarks and tests."""

from __future__ import annotations

import importlib
import pkgutil

from ._core import Explorer

__all__ = ["all_explorers"]


def all_explorers() -> list[type[Explorer]]:
    """The Explorer subclasses defined in the modules of :mod:`lrcourse.widgets`."""
    import lrcourse.widgets as package

    found = []
    for info in pkgutil.iter_modules(package.__path__):
        if info.name.startswith("_") or info.name == "registry":
            continue
        module = importlib.import_module(f"{package.__name__}.{info.name}")
        for obj in vars(module).values():
            if (isinstance(obj, type) and issubclass(obj, Explorer) and obj is not Explorer
                    and obj.__module__ == module.__name__ and not obj.__name__.startswith("_")):
                found.append(obj)
    return sorted(found, key=lambda cls: (cls.__module__, cls.__name__))
