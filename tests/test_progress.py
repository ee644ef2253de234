"""lrcourse.progress: a bar in a notebook, nothing elsewhere, and nothing inside silenced()."""

from __future__ import annotations

import doctest

import IPython.display
import pytest

import lrcourse.progress
from lrcourse.progress import progress, silenced


@pytest.fixture
def shown(monkeypatch):
    """Pretend to be in a notebook; collect what would be displayed."""
    displayed = []
    monkeypatch.setattr(lrcourse.progress, "in_notebook", lambda: True)
    monkeypatch.setattr(IPython.display, "display", lambda *objs: displayed.extend(objs))
    return displayed


def test_progress_yields_the_items_unchanged_and_shows_nothing_outside_a_notebook():
    assert list(progress(iter("abc"), total=3)) == ["a", "b", "c"]


def test_a_notebook_shows_one_bar_that_ends_full(shown):
    assert list(progress(range(4), description="work")) == [0, 1, 2, 3]
    assert len(shown) == 1
    bar, label = shown[0].children
    assert (bar.value, bar.max, bar.bar_style) == (4, 4, "success")
    assert label.value.startswith("4 / 4")


def test_silenced_hides_the_bars_of_the_calls_inside_it_only(shown):
    with silenced():
        assert sum(progress(range(5))) == 10
        with silenced():  # nested blocks restore the outer state on exit
            list(progress(range(2)))
        list(progress(range(2)))
    assert shown == []
    list(progress(range(3)))
    assert len(shown) == 1


def test_silenced_restores_the_bars_after_an_error(shown):
    with pytest.raises(RuntimeError), silenced():
        raise RuntimeError("boom")
    list(progress(range(2)))
    assert len(shown) == 1


def test_docstring_examples_print_what_they_say():
    result = doctest.testmod(lrcourse.progress)
    assert result.attempted > 0 and result.failed == 0
