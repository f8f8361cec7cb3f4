"""The fleet screen (home): every pipeline with its wave board (`1`), every state machine (`2`).

Rows are keyed by Pipeline.key / StateMachine.key and sorted by name, in one `KeyedList` (screens/widgets/
keyed_list.py) that draws only the lines on screen: an update redraws the rows that read differently, and only if
they are on screen; the filter changes which keys are shown, never the rows themselves; the cursor stays on the
same pipeline either way. `1` and `2` give the list the other view's columns and rows (each view keeps its own
cursor). `/` filters by name, target and status words (`fail` shows what failed, `approval`,
`paused`, `stale`; typed into the bar, enter keeps it, esc clears it). The wave board under the list shows the
highlighted pipeline in full (the state machine view: the highlighted machine's newest executions), drawn in the
same frame as the cursor that moved to it; a one-line legend of the glyphs sits under it when the screen has
room.
What each action key means for the selection: screens/fleet/actions.py.

Nothing here lays the screen out again or moves the focus on a key press or an update (in Textual, a layout
takes a frame of its own and a focus change repaints every line of the screen): one list and one detail pane
serve both views, the filter is typed into the view bar (the screen takes the keys while it is open, the list
keeps the focus), the detail pane has a fixed height, and the legend only comes or goes with the terminal's
size.
"""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

from rich.text import Text
from textual import events, on
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.widgets import Static

from console.model import FleetState, Pipeline, StateMachine, Wave
from screens.action_flow import ActionScreen, Choices
from screens.context import PipelineRef, ResourceRef, StateMachineRef
from screens.fleet.actions import machine_choices, pipeline_choices
from screens.fleet.rows import (
    MACHINE_COLUMNS,
    machine_layout,
    pipeline_layout,
    target_labels,
)
from screens.fleet.view import MachineRows, PipelineRows
from screens.status import ERROR, LEGEND, STALE, legend_line, look
from screens.text import clean, commit_message, literal
from screens.timefmt import age, coarse_age
from screens.widgets.key_bar import KeyBar
from screens.widgets.keyed_list import KeyedList
from screens.widgets.wave_board import WaveBoard, board_waves

PIPELINES = "pipelines"
MACHINES = "machines"
# The legend under the list: the glyphs the pipeline list and its board use.
FLEET_LEGEND = tuple(e for e in LEGEND if e.glyph not in ("↺", "…", "▲"))
# The legend is shown when the list keeps at least this many rows with it.
LEGEND_MIN_ROWS = 10
_MACHINE_INDEX = {key: index for index, (key, _) in enumerate(MACHINE_COLUMNS)}


class FleetScreen(ActionScreen):
    """Home: pipelines with their wave boards, or state machines; filterable; actions on the selection."""

    HELP_TITLE = "Fleet"
    CSS_PATH = "fleet.tcss"
    BINDINGS: ClassVar[list[BindingType]] = []

    def __init__(self) -> None:
        super().__init__(id="fleet")
        self.view = PIPELINES
        self.query_text = ""
        self.pipelines = PipelineRows()  # each view's rows and caches: screens/fleet/view.py
        self.machines = MachineRows(_MACHINE_INDEX)
        self._cursor_keys: dict[str, str | None] = {PIPELINES: None, MACHINES: None}
        self._focus_sent: tuple[str, ...] | None = None
        self._bar = Text("")
        self._legend_text = Text("")
        self.filtering = False  # the filter is being typed: printable keys go into it
        self._typed = ""

    # --- layout -------------------------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        # Kept as attributes: updates can arrive while the screen is being torn down, when queries fail.
        self._bar_widget = Static(id="view-bar")
        self._list = KeyedList(id="fleet-list", on_change=self._list_changed)
        self._board = WaveBoard(id="board")
        self._legend = Static(id="legend")
        yield self.header()
        yield self._bar_widget
        yield self._list
        yield self._board
        yield self._legend
        yield KeyBar()

    def on_mount(self) -> None:
        self._legend.display = False
        self._build_columns()
        self._list.focus()

    @property
    def table(self) -> KeyedList:
        """The list of the view shown (pipelines or state machines)."""
        return self._list

    def _width(self) -> int:
        return self.size.width or self.app.size.width

    def _build_columns(self) -> None:
        """Column widths for the terminal's width; True when the pipeline list's layout changed."""
        labels = target_labels(self.ctx.targets)
        target_width = max(max((len(v) for v in labels.values()), default=6), 6)
        waves = self._waves
        width = self._width()
        layout = pipeline_layout(width, len(waves), target_width)
        self.pipelines.set_layout(layout)
        columns = machine_layout(width, target_width)
        self.machines.set_columns(columns)
        self._list.set_columns(layout.columns(waves) if self.view == PIPELINES else columns)

    def on_resize(self) -> None:
        before = (self.pipelines.layout, self.machines.columns)
        self._build_columns()
        self._show_legend()
        if (self.pipelines.layout, self.machines.columns) != before:
            state, now = self.ctx.state, self.now()
            self._sync_pipelines(state, now)
            self._sync_machines(state, now)
            self._update_detail()

    def _show_legend(self) -> None:
        # One line of the glyphs' words, when the list keeps enough rows with it (never at the list's expense).
        height = self.size.height or self.app.size.height
        list_rows = height - 3 - 7 - 1 - 1  # header and bar, board, list header, key bar
        show = list_rows - 1 >= LEGEND_MIN_ROWS
        if show:
            legend = legend_line(max(self._width() - 2, 10), FLEET_LEGEND)
            if legend != self._legend_text:
                self._legend_text = legend
                self._legend.update(legend, layout=False)
        if self._legend.display != show:
            self._legend.display = show

    # --- drawing ------------------------------------------------------------------------------------------

    def show_state(self, state: FleetState) -> None:
        now = self.now()
        self._sync_pipelines(state, now)
        self._sync_machines(state, now)
        self._update_bar()
        self._update_detail()
        self._tell_focus()

    def on_tick(self, state: FleetState, now: datetime) -> None:
        # Staleness and coarse ages move with the clock; rows that read the same are not touched.
        self._sync_pipelines(state, now)
        self._sync_machines(state, now)
        self._update_detail()
        self._tell_focus()

    @property
    def _waves(self) -> tuple[Wave, ...]:
        """The board's columns as last laid out (see `board_waves`)."""
        if self.pipelines.waves is None:
            self.pipelines.set_waves(board_waves(self.ctx.waves.waves, self.ctx.state))
        assert self.pipelines.waves is not None
        return self.pipelines.waves

    def _sync_pipelines(self, state: FleetState, now: datetime) -> None:
        if self.pipelines.layout is None:
            return
        waves = board_waves(self.ctx.waves.waves, state)
        if waves != self._waves:
            # A stage that matches no wave appeared (or the last one went): the `unknown` column comes or goes.
            self.pipelines.set_waves(waves)
            self._build_columns()
        labels = target_labels(self.ctx.targets)
        if self.pipelines.sync(state, now, labels, self.query_text) and self.view == PIPELINES:
            self._list.set_rows(self.pipelines.keys, self.pipelines.cells())

    def _sync_machines(self, state: FleetState, now: datetime) -> None:
        self.machines.sync(state, now, target_labels(self.ctx.targets), self.query_text)
        if self.view == MACHINES:
            self._list.set_rows(self.machines.keys, self.machines.cells())

    def highlighted_key(self, view: str | None = None) -> str | None:
        """The key of the highlighted row of `view` (default: the one shown)."""
        view = view or self.view
        if view != self.view:
            return self._cursor_keys[view]  # where the cursor was when that view was last shown
        return self._list.highlighted_key

    def selected_pipeline(self) -> Pipeline | None:
        if self.view != PIPELINES:
            return None
        key = self.highlighted_key(PIPELINES)
        return self.ctx.state.pipelines.get(key) if key else None

    def selected_machine(self) -> StateMachine | None:
        if self.view != MACHINES:
            return None
        key = self.highlighted_key(MACHINES)
        return self.ctx.state.state_machines.get(key) if key else None

    def _update_bar(self) -> None:
        pipelines, machines = self.pipelines.total, self.machines.total
        bar = Text(end="", no_wrap=True, overflow="ellipsis")
        shown = len(self.pipelines.keys if self.view == PIPELINES else self.machines.keys)
        if self.filtering:
            # The line is the filter's while it is typed: what is typed, how many rows it leaves, how to leave.
            total = pipelines if self.view == PIPELINES else machines
            bar.append(" Pipelines " if self.view == PIPELINES else " State machines ", style="reverse bold")
            bar.append(" / ", style="bold")
            bar.append(clean(self.filter_text))
            bar.append(" ", style="reverse")  # where typing goes
            bar.append(f"  {shown} of {total} shown · enter keeps, esc clears", style="dim")
            if not self.filter_text:
                bar.append(" · name, target or status (fail, approval, paused, stale)", style="dim")
            self._set_bar(bar)
            return
        for key, label, count, view in (
            ("1", "Pipelines", pipelines, PIPELINES),
            ("2", "State machines", machines, MACHINES),
        ):
            style = "reverse bold" if view == self.view else ""
            bar.append(f" {key} ", style="bold")
            bar.append(f" {label} ({count}) ", style=style)
            bar.append(" ")
        if self.query_text:
            bar.append("  filter: ", style="dim")
            bar.append(clean(self.query_text), style="bold")
            bar.append(f"  ({shown} shown)", style="dim")
        elif not self.ctx.state.targets and not pipelines:
            bar.append("  reading the targets…", style="dim")
        self._set_bar(bar)

    def _set_bar(self, bar: Text) -> None:
        if bar != self._bar:
            self._bar = bar
            self._bar_widget.update(bar, layout=False)

    def _update_detail(self) -> None:
        now = self.now()
        state = self.ctx.state
        board = self._board
        if self.view == PIPELINES:
            key = self.highlighted_key(PIPELINES)
            pipeline = state.pipelines.get(key) if key else None
            row = self.pipelines.rows.get(key) if key else None
            if pipeline is None or row is None:
                board.clear("No pipeline selected." if state.pipelines else "")
                return
            board.show(self._board_title(pipeline, state, now), row.waves, now)
        else:
            board.show_text(self._machine_detail(now))

    def _board_title(self, pipeline: Pipeline, state: FleetState, now: datetime) -> Text:
        """Two lines: the pipeline and its latest execution; then the commit message, or why it cannot be
        trusted (an error reading it, staleness)."""
        title = literal(pipeline.name, style="bold")
        title.append(" · ", style="dim")
        title.append(clean(pipeline.target), style="dim")
        latest = pipeline.latest_execution
        if latest is not None:
            title.append(" · latest ")
            title.append_text(look(latest.status).text())
            if latest.is_rollback:
                title.append(" (rollback)")
            title.append(f" {clean(latest.id)[:8]}", style="dim")
            if latest.revision is not None:
                title.append(f" {clean(latest.revision.short)}")
            title.append(f" {coarse_age(latest.updated or latest.started, now)}", style="dim")
        title.append("\n")
        if pipeline.error:
            title.append(f"{ERROR.glyph} {clean(pipeline.error)}", style=ERROR.tone.style)
        elif pipeline.note:
            title.append(f"◐ partial: {clean(pipeline.note)}", style="bold yellow")
        elif state.is_stale(pipeline.key, pipeline.read_at, now):
            title.append(f"{STALE.glyph} stale: last read {age(pipeline.read_at, now)} ago", style="bold")
        elif latest is not None and latest.revision is not None:
            title.append(commit_message(latest.revision.summary))
        return title

    def _machine_detail(self, now: datetime) -> Text:
        key = self.highlighted_key(MACHINES)
        machine = self.ctx.state.state_machines.get(key) if key else None
        if machine is None:
            return Text("No state machine selected." if self.ctx.state.state_machines else "", style="dim")
        text = literal(machine.name, style="bold")
        text.append(f" · {clean(machine.target)} · {machine.type.lower()}", style="dim")
        if machine.error:
            text.append(f"\n{ERROR.glyph} {clean(machine.error)}", style=ERROR.tone.style)
        for execution in machine.executions[:3]:
            text.append("\n  ")
            text.append_text(look(execution.status).text())
            text.append(" ")
            text.append(clean(execution.name))
            text.append(f"  {coarse_age(execution.stopped or execution.started, now)}", style="dim")
            if execution.error:
                text.append(f"  {clean(execution.error)}: {clean(execution.cause or '')}"[:120], style="red")
        return text

    # --- what is visible ----------------------------------------------------------------------------------

    def visible_keys(self) -> tuple[str, ...]:
        return self._list.shown_keys()

    def _tell_focus(self) -> None:
        keys = self.visible_keys()
        if keys != self._focus_sent:
            self._focus_sent = keys
            self.ctx.watcher.focus(keys)

    def tell_watcher_what_is_visible(self) -> None:
        self._focus_sent = None
        self._tell_focus()

    # --- navigation ---------------------------------------------------------------------------------------

    def show_view(self, view: str) -> None:
        """Show pipelines (`1`) or state machines (`2`): the list takes that view's columns and rows, the cursor
        goes back to where it was in that view."""
        if view != self.view:
            self._cursor_keys[self.view] = self._list.highlighted_key
            self.view = view
            layout = self.pipelines.layout
            if view == PIPELINES and layout is not None:
                self._list.set_columns(layout.columns(self._waves))
                self._list.set_rows(self.pipelines.keys, self.pipelines.cells(), select=self._cursor_keys[view])
            elif view == MACHINES:
                self._list.set_columns(self.machines.columns)
                self._list.set_rows(self.machines.keys, self.machines.cells(), select=self._cursor_keys[view])
        if not self._list.has_focus:
            self._list.focus()
        self._update_bar()
        self._update_detail()
        self.tell_watcher_what_is_visible()
        self.refresh_availability()

    def _list_changed(self) -> None:
        """A list's cursor moved, its rows changed or others came on screen: the board, the watcher's focus and
        the keys follow in the same turn, so they land in the same frame as the cursor."""
        if not self._ready or self.is_closing:
            return
        self._update_detail()
        self._tell_focus()
        self.refresh_availability()

    @on(KeyedList.Selected)
    def _row_selected(self, event: KeyedList.Selected) -> None:
        event.stop()
        self.action_open()

    def selected_ref(self) -> ResourceRef | None:
        """What enter opens: the highlighted pipeline or state machine."""
        key = self.highlighted_key()
        if key is None:
            return None
        return PipelineRef(key) if self.view == PIPELINES else StateMachineRef(key)

    def why_unavailable(self, action: str) -> str | None:
        if action == "open":
            ref = self.selected_ref()
            if ref is None:
                return "no pipeline is selected" if self.view == PIPELINES else "no state machine is selected"
            return self.ctx.registry.cannot_open(ref)
        if action == "filter":
            return None
        return super().why_unavailable(action)

    def action_open(self) -> None:
        """enter: the highlighted pipeline or state machine."""
        self.request_open(self.selected_ref())

    # --- filter ---------------------------------------------------------------------------------------------

    @property
    def filter_text(self) -> str:
        """What has been typed into the filter (the rows shown match `query_text`, the same stripped)."""
        return self._typed

    def action_filter(self) -> None:
        """`/`: type into the filter (in the view bar); the list keeps the focus, so arrows still move."""
        self.filtering = True
        self._typed = self.query_text
        self._update_bar()

    def on_key(self, event: events.Key) -> None:
        # While the filter is open the screen takes the keys that edit it, before any binding sees them
        # (prevent_default also keeps ConsoleScreen.on_key, which Textual calls next, from seeing them).
        if self.filtering and self._edit_filter(event):
            event.stop()
            event.prevent_default()

    def on_paste(self, event: events.Paste) -> None:
        if self.filtering:
            event.stop()
            self._type(self._typed + clean(event.text))

    def _edit_filter(self, event: events.Key) -> bool:
        key = event.key
        if key == "enter":
            self._close_filter()
        elif key == "escape":
            self._typed = ""
            self._close_filter()
            self.set_filter("")
        elif key == "backspace":
            self._type(self._typed[:-1])
        elif key in ("ctrl+u", "ctrl+w"):
            self._type("" if key == "ctrl+u" else self._typed.rstrip().rpartition(" ")[0])
        elif event.is_printable and event.character:
            self._type(self._typed + event.character)
        else:
            return False
        return True

    def _type(self, text: str) -> None:
        self._typed = text
        before = self.query_text
        self.set_filter(text)
        if self.query_text == before:
            self._update_bar()  # the typed text changed, not the rows (a space, say)

    def _close_filter(self) -> None:
        self.filtering = False
        self._update_bar()

    def set_filter(self, text: str) -> None:
        """Show only rows whose name, target or status words contain every word of `text`."""
        query = text.strip()
        if query == self.query_text:
            return
        self.query_text = query
        state, now = self.ctx.state, self.now()
        self._sync_pipelines(state, now)
        self._sync_machines(state, now)
        self._update_bar()
        self._update_detail()
        self._tell_focus()
        self.refresh_availability()

    # --- actions ----------------------------------------------------------------------------------------------

    def action_choices(self, binding_id: str) -> Choices:
        pipeline = self.selected_pipeline()
        if pipeline is not None:
            return pipeline_choices(binding_id, pipeline)
        machine = self.selected_machine()
        if machine is not None:
            return machine_choices(binding_id, machine, self.ctx.state)
        return Choices((), nothing="nothing is selected")

    def action_back(self) -> None:
        if self.filtering or self.query_text:
            self._typed = ""
            self.filtering = False
            self.set_filter("")
            self._update_bar()
            return
        if self.view == MACHINES:
            self.show_view(PIPELINES)
