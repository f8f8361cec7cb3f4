"""The fleet screen's state machines view (`2`): every state machine, its row, its newest executions under it."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from rich.text import Text

from console.model import FleetState, StateMachine
from screens.fleet.rows import (
    MachineRow,
    machine_row,
)
from screens.fleet.view import NameOrder, RowFilter
from screens.widgets.row_list import ListColumn


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
