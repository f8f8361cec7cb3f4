"""The approvals inbox's view state: which approvals are shown, in which order, and the caches that keep it cheap.

Plain classes beside the rows module (screens/approvals/rows.py says what a row shows; these say which rows there
are and which can be reused). The inbox reads the same unless the approvals, what the clock makes of them, the
layout or the filter changed: most of the watcher's pictures change other pipelines only, and then `InboxRows.sync`
says so and nothing is drawn. A row whose approval and clock words are the same keeps its `InboxRow` (the same
object, so the list keeps its drawn line), and a row's cells are made only when the list draws it. `Drawn`
remembers what each part of the screen last showed, so a part is updated only when it would read differently.
The screen (screens/approvals/screen.py) holds one of each.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from rich.text import Text

from console.codepipeline.model import pipelines_of
from console.model import Approval, FleetState
from console.stepfunctions.model import state_machines_of
from screens.approvals.rows import (
    InboxLayout,
    clock_words,
    from_cache,
    inbox_keys,
    resource_key,
    row_cells,
    stale_words,
    summary_counts,
    words_of,
)
from screens.widgets.keyed_list import matches

FOCUS_ROWS = 50  # the approvals whose resources the watcher reads faster: the first screenful and then some


class InboxRows:
    """The inbox's rows: the approvals shown (filtered, most urgent first), how many wait in all, their cells."""

    def __init__(self) -> None:
        self.layout: InboxLayout | None = None
        self.query = ""  # the filter as typed (stripped)
        self.keys: list[str] = []  # the rows shown, in order
        self.approvals: dict[str, Approval] = {}  # the approvals shown, by row key
        self.total = 0  # approvals waiting, filtered or not
        self.counts = (0, 0, 0)  # (waiting, expiring soon, production): what the bar says (`summary_counts`)
        self.stale: dict[str, str] = {}  # row key → how long ago it was last read, for the approvals shown as stale
        self.cached: set[str] = set()  # row keys shown from the last run's cache, not read since
        self._signature: object = None  # what the rows were last made from
        self._rows: dict[str, InboxRow] = {}  # row key → the row last made for it

    def set_layout(self, layout: InboxLayout) -> bool:
        """Take the layout for the terminal's width; True when it changed (every row is made again)."""
        if layout == self.layout:
            return False
        self.layout = layout
        self.keys = []
        self._signature = None
        return True

    def set_query(self, query: str) -> bool:
        """Show only approvals whose words contain every word of `query`; True when it changed."""
        query = query.strip()
        if query == self.query:
            return False
        self.query = query
        return True

    def sync(self, state: FleetState, now: datetime, labels: Mapping[str, str]) -> bool:
        """The rows of `state`'s approvals at `now`; False when they read as last time (or there is no layout)."""
        layout = self.layout
        if layout is None:
            return False
        clock = tuple(clock_words(a, now) for a in state.approvals)
        # Whether each one's picture is stale (from the last run's cache, or not read again in time), and since when.
        stale = tuple(stale_words(state, a, now) for a in state.approvals)
        # The counts and whether the targets are still being read: the empty inbox's words depend on them.
        reading = tuple(t.read_at is None and not t.error for t in state.targets)
        counts = (len(pipelines_of(state)), len(state_machines_of(state)), reading)
        signature = (state.approvals, clock, stale, layout, self.query, counts)
        if signature == self._signature:
            return False
        self._signature = signature
        # One row per waiting thing, even if a picture ever listed one twice (a row key must be unique).
        tiers = [words[2] for words in clock]
        keyed = inbox_keys(state.approvals, now, tiers)
        words = {id(a): w for a, w in zip(state.approvals, clock, strict=True)}
        stale_of = {id(a): s for a, s in zip(state.approvals, stale, strict=True)}
        waiting = list(keyed.values())
        self.counts = summary_counts(waiting, now, [words[id(a)][2] for a in waiting])
        self.total = len(keyed)
        self.stale = {k: read for k, a in keyed.items() if (read := stale_of[id(a)]) is not None}
        self.cached = {k for k in self.stale if from_cache(state, keyed[k])}
        if self.query:
            query = self.query
            keyed = {
                k: a
                for k, a in keyed.items()
                if matches(words_of(a, labels.get(a.target, a.target), self.stale.get(k)), query)
            }
        self.keys = list(keyed)
        self.approvals = keyed
        for key, approval in keyed.items():
            label = labels.get(approval.target, approval.target)
            self._make_row(key, approval, now, layout, label, (words[id(approval)], self.stale.get(key)))
        if len(self._rows) > 2 * len(self.keys) + 64:
            # Answered approvals are gone for good: forget their rows.
            self._rows = {key: self._rows[key] for key in self.keys}
        return True

    def rows(self) -> dict[str, InboxRow]:
        """The row of each approval shown (the same object while it reads the same: the list keeps its line)."""
        return {key: self._rows[key] for key in self.keys}

    def _make_row(
        self,
        key: str,
        approval: Approval,
        now: datetime,
        layout: InboxLayout,
        label: str,
        clock: tuple[object, str | None],
    ) -> None:
        kept = self._rows.get(key)
        # The same approval object is the cheap case (most pictures); an equal one read again is the common other.
        if (
            kept is not None
            and (kept.approval is approval or kept.approval == approval)
            and kept.made_from == (layout, label, clock)
        ):
            return
        self._rows[key] = InboxRow(approval, now, layout, label, clock)

    def approval(self, key: str | None) -> Approval | None:
        """The approval of a row shown, as last made."""
        return self.approvals.get(key) if key else None

    def resource_keys(self) -> tuple[str, ...]:
        """The pipelines and state machines of the first approvals shown, once each, in order."""
        seen: dict[str, None] = {}
        for key in self.keys[:FOCUS_ROWS]:
            seen[resource_key(self.approvals[key])] = None
        return tuple(seen)


class InboxRow:
    """One row of the inbox: what it is made from, and its cells, made when the list first draws it (a new
    minute changes the age of every approval, but only the rows on screen are drawn). A row drawn later shows
    the moment it was made for, as if drawn then."""

    __slots__ = ("_cells", "_now", "approval", "made_from")

    def __init__(
        self, approval: Approval, now: datetime, layout: InboxLayout, label: str, clock: tuple[object, str | None]
    ) -> None:
        """`clock`: what the clock makes of the approval (`clock_words`) and of its last read (`stale_words`)."""
        self.approval = approval
        self.made_from = (layout, label, clock)
        self._now = now
        self._cells: tuple[Text, ...] | None = None

    def cells(self) -> tuple[Text, ...]:
        if self._cells is None:
            layout, label, (_, stale) = self.made_from
            self._cells = tuple(cell for _, cell in row_cells(self.approval, self._now, layout, label, stale))
        return self._cells


class Drawn:
    """What each part of the screen last showed: a part is updated only when it would read differently."""

    def __init__(self, **shown: object) -> None:
        """`shown`: what parts show before anything is drawn (those are not drawn again until they change)."""
        self._last: dict[str, object] = dict(shown)

    def changed(self, part: str, value: object) -> bool:
        """True (and `value` remembered) when `part` would show something other than it does."""
        if part in self._last and self._last[part] == value:
            return False
        self._last[part] = value
        return True

    def forget(self, part: str) -> None:
        """The next `changed(part, …)` is True whatever it shows (the part must be drawn again)."""
        self._last.pop(part, None)
