"""The fleet screen's state machines view (`2`): every state machine, its row, its newest executions under it."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from rich.text import Text

from console.model import FleetState
from console.stepfunctions.model import StateMachine, state_machines_of
from screens.action_flow import Choices
from screens.context import ExecutionRef, KeyRef, ResourceRef
from screens.fleet.actions import machine_choices
from screens.fleet.rows import MACHINE_COLUMNS, MachineRow, machine_layout, machine_row
from screens.fleet.view import Frame, ShownRows
from screens.status import ERROR, STALE, look
from screens.text import clean, literal
from screens.timefmt import ago, coarse_age
from screens.widgets.keyed_list import ListColumn
from screens.widgets.wave_board import WaveBoard

MACHINES = "machines"
MACHINE_SCREEN = "state_machine"  # the registry's name of the screen that shows one state machine
# Where each column's cell is in MachineRow.cells.
_MACHINE_INDEX = {key: index for index, (key, _) in enumerate(MACHINE_COLUMNS)}


class MachineView(ShownRows[StateMachine, MachineRow]):
    """The state machines view: its columns, the rows shown (filtered, by name) and how many there are in all."""

    name = MACHINES
    label = "State machines"
    noun = "state machine"

    def __init__(self, column_index: Mapping[str, int] = _MACHINE_INDEX) -> None:
        super().__init__()
        self.columns: tuple[ListColumn, ...] = ()
        self._column_index = column_index  # where each column's cell is in MachineRow.cells
        self._cells: dict[str, tuple[MachineRow, tuple[Text, ...]]] = {}

    def set_columns(self, columns: tuple[ListColumn, ...]) -> bool:
        """Take the columns for the terminal's width; True when they changed."""
        if columns == self.columns:
            return False
        self.columns = columns
        self._cells = {}
        return True

    def sync(self, frame: Frame) -> bool:
        """The rows of the state machines matching the filter (always ready: no layout is needed)."""
        state, now, labels = frame.state, frame.now, frame.labels
        machines = state_machines_of(state)

        def build(machine: StateMachine, stale: bool) -> MachineRow:
            return machine_row(machine, stale, now, labels.get(machine.target, machine.target))

        self.show(machines, frame, int(now.timestamp() // 60), build)
        return True

    # --- as a FleetView (screens/fleet/view.py) -------------------------------------------------------------

    def lay_out(self, width: int, target_width: int, frame: Frame) -> bool:
        return self.set_columns(machine_layout(width, target_width))

    def list_columns(self) -> tuple[ListColumn, ...] | None:
        return self.columns

    def reshape(self, frame: Frame) -> bool:
        return False

    def show_detail(self, board: WaveBoard, key: str | None, state: FleetState, now: datetime) -> None:
        board.show_text(machine_detail(state_machines_of(state).get(key) if key else None, state, now))

    def ref(self, key: str) -> ResourceRef:
        return KeyRef(MACHINE_SCREEN, key)

    def choices(self, binding_id: str, key: str, state: FleetState) -> Choices | None:
        machine = state_machines_of(state).get(key)
        return None if machine is None else machine_choices(binding_id, machine, state)

    def row_cells(self, row: MachineRow) -> tuple[Text, ...]:
        """The row's cells in the columns shown (the same tuple while the row is the same: no redraw)."""
        cached = self._cells.get(row.key)
        if cached is not None and cached[0] is row:
            return cached[1]
        cells = tuple(row.cells[self._column_index[column.key]] for column in self.columns)
        self._cells[row.key] = (row, cells)
        return cells


def machine_opens(target: str, key: str, execution: str | None) -> ResourceRef:
    """What enter opens for a task-token state or a transition of a state machine: its execution (its state
    machine when the execution is not known or there is no execution screen)."""
    return ExecutionRef(target, execution or "", instead=KeyRef(MACHINE_SCREEN, key))


def machine_detail(machine: StateMachine | None, state: FleetState, now: datetime) -> Text:
    """The highlighted state machine and its three newest executions (with why the failed ones failed)."""
    if machine is None:
        return Text("No state machine selected." if state_machines_of(state) else "", style="dim")
    text = literal(machine.name, style="bold")
    text.append(f" · {clean(machine.target)} · {machine.type.lower()}", style="dim")
    # How old the picture is, and why its last read failed, as the pipelines' board says them.
    why: list[Text] = []
    if state.is_stale(machine.key, machine.read_at, now):
        why.append(Text(f"{STALE.glyph} stale: last read {ago(machine.read_at, now)}", style="bold"))
    if machine.error:
        why.append(Text(f"{ERROR.glyph} {clean(machine.error)}", style=ERROR.tone.style))
    if why:
        text.append("\n")
        text.append_text(Text(" · ", style="dim").join(why))
    for execution in machine.executions[:3]:
        text.append("\n  ")
        text.append_text(look(execution.status).text())
        text.append(" ")
        text.append(clean(execution.name))
        text.append(f"  {coarse_age(execution.stopped or execution.started, now)}", style="dim")
        if execution.error:
            text.append(f"  {clean(execution.error)}: {clean(execution.cause or '')}"[:120], style="red")
    return text
