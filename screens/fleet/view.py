"""The fleet screen's view state: each view's rows in order, filtered, with the caches that keep them cheap.

Plain classes beside the rows module (screens/fleet/rows.py says what a row shows; these say which rows there
are and which can be reused): an update of 500 pipelines builds again only the rows whose pipeline, staleness,
slot width or shown minute changed, sorts again only when pipelines came or went, and asks the filter again only
of rows that changed. The screen (screens/fleet/screen.py) holds one of each and hands their keys and cells to
its list.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Generic, Protocol, TypeVar

from screens.fleet.rows import (
    matches,
)


class _Named(Protocol):
    @property
    def key(self) -> str: ...

    @property
    def name(self) -> str: ...

    @property
    def target(self) -> str: ...


class _Row(Protocol):
    @property
    def key(self) -> str: ...

    @property
    def words(self) -> str: ...


R = TypeVar("R", bound=_Row)


class NameOrder:
    """Keys sorted by name (then target), sorted again only when resources came or went."""

    def __init__(self) -> None:
        self._keys: list[str] = []
        self._known: set[str] = set()

    def of(self, resources: Mapping[str, _Named]) -> list[str]:
        if resources.keys() != self._known:
            ordered = sorted(resources.values(), key=lambda r: (r.name.lower(), r.target))
            self._keys = [r.key for r in ordered]
            self._known = set(self._keys)
        return self._keys


class RowFilter(Generic[R]):
    """The rows that match the filter's words, each row asked again only when it or the filter changed."""

    def __init__(self) -> None:
        self._query = ""
        self._found: dict[str, tuple[R, bool]] = {}

    def keep(self, rows: list[R], query: str) -> list[R]:
        if not query:
            return rows
        if query != self._query:
            self._query = query
            self._found = {}
        kept: list[R] = []
        for row in rows:
            cached = self._found.get(row.key)
            if cached is not None and cached[0] is row:
                found = cached[1]
            else:
                found = matches(row.words, query)
                self._found[row.key] = (row, found)
            if found:
                kept.append(row)
        return kept
