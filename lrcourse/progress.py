"""Progress for work that takes more than a couple of seconds.

In a notebook, :func:`progress` shows a progress bar that fills as the loop
runs; anywhere else (tests, scripts, the grader) it is silent and costs
nothing. Inside ``with silenced():`` it is silent in a notebook too.
"""

from __future__ import annotations

import contextlib
import contextvars
import time
from collections.abc import Iterable, Iterator
from typing import TypeVar

__all__ = ["in_notebook", "progress", "silenced"]

T = TypeVar("T")

_silenced = contextvars.ContextVar("lrcourse_progress_silenced", default=False)


def in_notebook() -> bool:
    """True inside a Jupyter kernel (where widgets can be displayed)."""
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    return shell is not None and type(shell).__name__ == "ZMQInteractiveShell"


@contextlib.contextmanager
def silenced() -> Iterator[None]:
    """Show no progress bars for the library calls made inside the block.

    For a cell that runs many short searches in a loop (one bar each would fill the page), or
    an explorer that trains when it is built (a bar is a widget without a static picture, so an
    exported notebook would show an empty box). Nothing else is hidden: printed output,
    figures and warnings still appear.

    Example:
        >>> with silenced():
        ...     sum(progress(range(5), description="counting"))  # no bar, even in a notebook
        10
    """
    token = _silenced.set(True)
    try:
        yield
    finally:
        _silenced.reset(token)


def progress(items: Iterable[T], total: int | None = None, description: str = "") -> Iterator[T]:
    """Yield ``items`` unchanged, showing a progress bar in a notebook (unless :func:`silenced`).

    Args:
        items: what to iterate over.
        total: the number of items, when ``len(items)`` does not work.
        description: a few words shown beside the bar.

    Example:
        >>> sum(progress(range(5), description="counting"))  # silent outside a notebook
        10
    """
    if total is None:
        try:
            total = len(items)  # type: ignore[arg-type]
        except TypeError:
            total = None
    if not total or _silenced.get() or not in_notebook():
        yield from items
        return

    import ipywidgets as widgets
    from IPython.display import display

    bar = widgets.IntProgress(value=0, min=0, max=total, description=description,
                              style={"description_width": "initial"})
    label = widgets.Label(f"0 / {total}")
    display(widgets.HBox([bar, label]))
    start = last = time.perf_counter()
    for count, item in enumerate(items, start=1):
        yield item
        now = time.perf_counter()
        if now - last > 0.1 or count == total:  # a few redraws a second at most
            bar.value = count
            label.value = f"{count} / {total}  ({now - start:.1f} s)"
            last = now
    bar.bar_style = "success"
