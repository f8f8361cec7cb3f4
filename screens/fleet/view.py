"""The fleet screen's view state: each view's rows in order, filtered, with the caches that keep them cheap.

Plain classes beside the rows module (screens/fleet/rows.py says what a row shows; these say which rows there
are and which can be reused): an update of 500 pipelines builds again only the rows whose pipeline, staleness,
slot width or shown minute changed, sorts again only when pipelines came or went, and asks the filter again only
of rows that changed. The screen (screens/fleet/screen.py) holds one of each and hands their keys and cells to
its list.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Generic, Protocol, TypeVar

from rich.text import Text

from console.model import FleetState, Pipeline, StateMachine, Wave
from screens.fleet.rows import (
    MachineRow,
    PipelineRow,
    TableLayout,
    machine_row,
    matches,
    pipeline_row,
)
from screens.widgets.keyed_list import ListColumn
from screens.widgets.wave_board import SLOT_WIDE


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


class PipelineRows:
    """The pipelines view: its layout, the rows shown (filtered, by name) and how many there are in all."""

    def __init__(self) -> None:
        self.layout: TableLayout | None = None
        self.waves: tuple[Wave, ...] | None = None  # the board's columns as last laid out (`board_waves`)
        self.rows: dict[str, PipelineRow] = {}  # the rows shown, by key
        self.keys: list[str] = []  # the keys shown, in order
        self.total = 0  # pipelines in all, filtered or not
        self._order = NameOrder()
        self._filter: RowFilter[PipelineRow] = RowFilter()
        self._cache: dict[str, tuple[Pipeline, bool, int, int, PipelineRow]] = {}

    def set_layout(self, layout: TableLayout) -> bool:
        """Take the layout for the terminal's width; True when it changed (every row is built again)."""
        if layout == self.layout:
            return False
        self.layout = layout
        self._cache = {}
        return True

    def set_waves(self, waves: tuple[Wave, ...]) -> bool:
        """Take the board's columns (an `unknown` column comes or goes); True when they changed (every row is
        built again)."""
        if waves == self.waves:
            return False
        self.waves = waves
        self._cache = {}
        return True

    def sync(self, state: FleetState, now: datetime, labels: Mapping[str, str], query: str) -> bool:
        """The rows of `state`'s pipelines matching `query`; False while there is no layout or waves yet."""
        if self.layout is None or self.waves is None:
            return False
        waves = self.waves
        pipelines = state.pipelines
        rows = [self._row(key, pipelines[key], state, now, waves, labels) for key in self._order.of(pipelines)]
        self.total = len(rows)
        rows = self._filter.keep(rows, query)
        self.rows = {r.key: r for r in rows}
        self.keys = [r.key for r in rows]
        return True

    def cells(self) -> dict[str, tuple[Text, ...]]:
        return {key: self.rows[key].cells for key in self.keys}

    def _row(
        self,
        key: str,
        pipeline: Pipeline,
        state: FleetState,
        now: datetime,
        waves: Sequence[Wave],
        labels: Mapping[str, str],
    ) -> PipelineRow:
        """The row of `pipeline` (whose key is `key`: passed, as it is a new string on every ask)."""
        assert self.layout is not None
        slot = self.layout.slot
        stale = state.is_stale(key, pipeline.read_at, now)
        # Ages are shown in the list only in wide slots: only there does a new minute make a row read differently.
        minute = int(now.timestamp() // 60) if slot >= SLOT_WIDE else 0
        cached = self._cache.get(key)
        if cached is not None and cached[0] is pipeline and cached[1] == stale and cached[2] == slot:
            if cached[3] == minute:
                return cached[4]
        row = pipeline_row(pipeline, waves, state, now, slot, labels.get(pipeline.target, pipeline.target))
        self._cache[key] = (pipeline, stale, slot, minute, row)
        return row


class MachineRows:
    """The state machines view: its columns, the rows shown (filtered, by name) and how many there are in all."""

    def __init__(self, column_index: Mapping[str, int]) -> None:
        self.columns: tuple[ListColumn, ...] = ()
        self.rows: dict[str, MachineRow] = {}
        self.keys: list[str] = []
        self.total = 0
        self._column_index = column_index  # where each column's cell is in MachineRow.cells
        self._order = NameOrder()
        self._filter: RowFilter[MachineRow] = RowFilter()
        self._cache: dict[str, tuple[StateMachine, bool, int, MachineRow]] = {}
        self._cells: dict[str, tuple[MachineRow, tuple[Text, ...]]] = {}

    def set_columns(self, columns: tuple[ListColumn, ...]) -> bool:
        """Take the columns for the terminal's width; True when they changed."""
        if columns == self.columns:
            return False
        self.columns = columns
        self._cells = {}
        return True

    def sync(self, state: FleetState, now: datetime, labels: Mapping[str, str], query: str) -> None:
        machines = state.state_machines
        minute = int(now.timestamp() // 60)
        rows: list[MachineRow] = []
        for key in self._order.of(machines):
            machine = machines[key]
            stale = state.is_stale(machine.key, machine.read_at, now)
            cached = self._cache.get(machine.key)
            if cached is not None and cached[0] is machine and cached[1] == stale and cached[2] == minute:
                rows.append(cached[3])
                continue
            row = machine_row(machine, state, now, labels.get(machine.target, machine.target))
            self._cache[machine.key] = (machine, stale, minute, row)
            rows.append(row)
        self.total = len(rows)
        rows = self._filter.keep(rows, query)
        self.rows = {r.key: r for r in rows}
        self.keys = [r.key for r in rows]

    def cells(self) -> dict[str, tuple[Text, ...]]:
        return {key: self._row_cells(self.rows[key]) for key in self.keys}

    def _row_cells(self, row: MachineRow) -> tuple[Text, ...]:
        """The row's cells in the columns shown (the same tuple while the row is the same: no redraw)."""
        cached = self._cells.get(row.key)
        if cached is not None and cached[0] is row:
            return cached[1]
        cells = tuple(row.cells[self._column_index[column.key]] for column in self.columns)
        self._cells[row.key] = (row, cells)
        return cells
