"""The fleet screen (home): every pipeline with its wave board (`1`), every state machine (`2`).

Rows are keyed by Pipeline.key / StateMachine.key and sorted by name. An update changes only the cells that
read differently; rows are rebuilt only when the set of rows changes (a pipeline appears, the filter
changes), and the cursor stays on the same pipeline either way. `/` filters by name, target and status words
(`fail` shows what failed, `approval`, `paused`, `stale`). The wave board under the list shows the highlighted
pipeline in full. What each action key means for the selection: screens/fleet_actions.py.
"""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Vertical
from textual.widgets import ContentSwitcher, DataTable, Input, Static

from console.model import FleetState, Pipeline, StateMachine
from screens.action_flow import ActionScreen, Choices
from screens.fleet_actions import machine_choices, pipeline_choices
from screens.fleet_rows import (
    MachineRow,
    PipelineRow,
    TableLayout,
    machine_row,
    matches,
    pipeline_layout,
    pipeline_row,
    target_labels,
)
from screens.status import ERROR, STALE, look
from screens.text import clean, commit_message, literal
from screens.timefmt import age, coarse_age
from screens.widgets.key_bar import KeyBar
from screens.widgets.wave_board import SLOT_WIDE, WaveBoard, wave_strip_header

PIPELINES = "pipelines"
MACHINES = "machines"
_PIPELINE_COLUMNS = ("name", "target", "latest", "waves", "fresh")
_MACHINE_COLUMNS = ("name", "target", "type", "wave", "running", "failed", "newest", "fresh")


class FleetScreen(ActionScreen):
    """Home: pipelines with their wave boards, or state machines; filterable; actions on the selection."""

    HELP_TITLE = "Fleet"
    CSS_PATH = "fleet.tcss"
    BINDINGS: ClassVar[list[BindingType]] = []

    def __init__(self) -> None:
        super().__init__(id="fleet")
        self.view = PIPELINES
        self.query_text = ""
        self._layout: TableLayout | None = None
        self._pipeline_keys: list[str] = []
        self._machine_keys: list[str] = []
        self._prows: dict[str, PipelineRow] = {}
        self._mrows: dict[str, MachineRow] = {}
        self._pcache: dict[str, tuple[Pipeline, bool, int, int, PipelineRow]] = {}
        self._mcache: dict[str, tuple[StateMachine, bool, int, MachineRow]] = {}
        self._focus_sent: tuple[str, ...] | None = None
        self._counts = (0, 0)
        self._bar = Text("")

    # --- layout -------------------------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        # Kept as attributes: updates can arrive while the screen is being torn down, when queries fail.
        self._bar_widget = Static(id="view-bar")
        self._filter_box = Input(
            placeholder="filter: name, target or status (fail, approval, paused, stale)", id="filter"
        )
        self._ptable: DataTable[Text] = DataTable(id="pipelines", cursor_type="row", zebra_stripes=False)
        self._mtable: DataTable[Text] = DataTable(id="machines", cursor_type="row", zebra_stripes=False)
        self._board = WaveBoard(id="board")
        self._detail = Static(id="machine-detail")
        self._switcher = ContentSwitcher(initial="pipelines-view", id="views")
        yield self.header()
        yield self._bar_widget
        yield self._filter_box
        with self._switcher:
            with Vertical(id="pipelines-view"):
                yield self._ptable
                yield self._board
            with Vertical(id="machines-view"):
                yield self._mtable
                yield self._detail
        yield KeyBar()

    def on_mount(self) -> None:
        self._filter_box.display = False
        machines = self._mtable
        for key, label in zip(
            _MACHINE_COLUMNS,
            ("State machine", "Target", "Type", "Wave", "Running", "Failed", "Newest execution", ""),
            strict=True,
        ):
            machines.add_column(label, key=key)
        self._build_pipeline_columns()
        self._ptable.focus()

    @property
    def pipelines_table(self) -> DataTable[Text]:
        return self._ptable

    @property
    def machines_table(self) -> DataTable[Text]:
        return self._mtable

    def _build_pipeline_columns(self) -> None:
        waves = self.ctx.waves.waves
        labels = target_labels(self.ctx.targets)
        target_width = max((len(v) for v in labels.values()), default=6)
        layout = pipeline_layout(self.size.width or self.app.size.width, len(waves), max(target_width, 6))
        if layout == self._layout:
            return
        self._layout = layout
        table = self.pipelines_table
        table.clear(columns=True)
        table.cell_padding = layout.padding
        extra = 0 if layout.padding else 1
        widths = (layout.name, layout.target, layout.latest, layout.slot * len(waves), layout.fresh)
        labels_ = (Text("Pipeline"), Text("Target"), Text("Latest"), wave_strip_header(waves, layout.slot), Text(""))
        for key, label, width in zip(_PIPELINE_COLUMNS, labels_, widths, strict=True):
            table.add_column(label, key=key, width=width + extra)
        self._pipeline_keys = []
        self._prows = {}
        self._pcache = {}

    def on_resize(self) -> None:
        before = self._layout
        self._build_pipeline_columns()
        if self._layout != before:
            self._sync_pipelines(self.ctx.state, self.now(), force=True)

    # --- drawing ------------------------------------------------------------------------------------------

    def show_state(self, state: FleetState) -> None:
        now = self.now()
        self._sync_pipelines(state, now)
        self._sync_machines(state, now)
        self._update_bar()
        self._update_detail()
        self._tell_focus()

    def on_tick(self, state: FleetState, now: datetime) -> None:
        # Staleness and coarse ages move with the clock; cells that read the same are not touched.
        self._sync_pipelines(state, now)
        self._sync_machines(state, now)
        self._update_detail()
        self._tell_focus()

    def _pipeline_row(
        self, pipeline: Pipeline, state: FleetState, now: datetime, labels: dict[str, str]
    ) -> PipelineRow:
        assert self._layout is not None
        slot = self._layout.slot
        stale = state.is_stale(pipeline.key, pipeline.read_at, now)
        minute = int(now.timestamp() // 60) if slot >= SLOT_WIDE else 0
        cached = self._pcache.get(pipeline.key)
        if cached is not None and cached[0] is pipeline and cached[1] == stale and cached[2] == slot:
            if cached[3] == minute:
                return cached[4]
        row = pipeline_row(
            pipeline, self.ctx.waves.waves, state, now, slot, labels.get(pipeline.target, pipeline.target)
        )
        self._pcache[pipeline.key] = (pipeline, stale, slot, minute, row)
        return row

    def _fit(self, cells: tuple[Text, ...]) -> tuple[Text, ...]:
        layout = self._layout
        assert layout is not None
        waves = len(self.ctx.waves.waves)
        widths = (layout.name, layout.target, layout.latest, layout.slot * waves, layout.fresh)
        fitted = []
        for cell, width in zip(cells, widths, strict=True):
            if cell.cell_len > width:
                cell = cell.copy()
                cell.truncate(width, overflow="ellipsis")
            fitted.append(cell)
        return tuple(fitted)

    def _sync_pipelines(self, state: FleetState, now: datetime, *, force: bool = False) -> None:
        if self._layout is None:
            return
        labels = target_labels(self.ctx.targets)
        ordered = sorted(state.pipelines.values(), key=lambda p: (p.name.lower(), p.target))
        rows = [self._pipeline_row(p, state, now, labels) for p in ordered]
        self._counts = (len(rows), self._counts[1])
        if self.query_text:
            rows = [r for r in rows if matches(r.words, self.query_text)]
        keys = [r.key for r in rows]
        table = self.pipelines_table
        if force or keys != self._pipeline_keys:
            highlighted = self.highlighted_key(PIPELINES)
            table.clear()
            for row in rows:
                table.add_row(*self._fit(row.cells), key=row.key)
            self._pipeline_keys = keys
            self._restore_cursor(table, keys, highlighted)
        else:
            for row in rows:
                old = self._prows.get(row.key)
                if old is None or old is row or old.cells == row.cells:
                    continue
                fitted = self._fit(row.cells)
                for column, before, after in zip(_PIPELINE_COLUMNS, self._fit(old.cells), fitted, strict=True):
                    if before != after:
                        table.update_cell(row.key, column, after)
        self._prows = {r.key: r for r in rows}

    def _sync_machines(self, state: FleetState, now: datetime, *, force: bool = False) -> None:
        labels = target_labels(self.ctx.targets)
        ordered = sorted(state.state_machines.values(), key=lambda m: (m.name.lower(), m.target))
        minute = int(now.timestamp() // 60)
        rows: list[MachineRow] = []
        for machine in ordered:
            stale = state.is_stale(machine.key, machine.read_at, now)
            cached = self._mcache.get(machine.key)
            if cached is not None and cached[0] is machine and cached[1] == stale and cached[2] == minute:
                rows.append(cached[3])
                continue
            row = machine_row(machine, state, now, labels.get(machine.target, machine.target))
            self._mcache[machine.key] = (machine, stale, minute, row)
            rows.append(row)
        self._counts = (self._counts[0], len(rows))
        if self.query_text:
            rows = [r for r in rows if matches(r.words, self.query_text)]
        keys = [r.key for r in rows]
        table = self.machines_table
        if force or keys != self._machine_keys:
            highlighted = self.highlighted_key(MACHINES)
            table.clear()
            for row in rows:
                table.add_row(*row.cells, key=row.key)
            self._machine_keys = keys
            self._restore_cursor(table, keys, highlighted)
        else:
            for row in rows:
                old = self._mrows.get(row.key)
                if old is None or old is row or old.cells == row.cells:
                    continue
                for column, before, after in zip(_MACHINE_COLUMNS, old.cells, row.cells, strict=True):
                    if before != after:
                        table.update_cell(row.key, column, after, update_width=True)
        self._mrows = {r.key: r for r in rows}

    @staticmethod
    def _restore_cursor(table: DataTable[Text], keys: list[str], highlighted: str | None) -> None:
        if highlighted is not None and highlighted in keys:
            table.move_cursor(row=keys.index(highlighted), animate=False)
        elif keys:
            table.move_cursor(row=min(table.cursor_row, len(keys) - 1), animate=False)

    def highlighted_key(self, view: str | None = None) -> str | None:
        """The key of the highlighted row of `view` (default: the one shown)."""
        view = view or self.view
        table = self.pipelines_table if view == PIPELINES else self.machines_table
        keys = self._pipeline_keys if view == PIPELINES else self._machine_keys
        if not keys or not 0 <= table.cursor_row < len(keys):
            return None
        return keys[table.cursor_row]

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
        pipelines, machines = self._counts
        bar = Text(end="")
        for key, label, count, view in (
            ("1", "Pipelines", pipelines, PIPELINES),
            ("2", "State machines", machines, MACHINES),
        ):
            style = "reverse bold" if view == self.view else ""
            bar.append(f" {key} ", style="bold")
            bar.append(f" {label} ({count}) ", style=style)
            bar.append(" ")
        if self.query_text:
            shown = len(self._pipeline_keys if self.view == PIPELINES else self._machine_keys)
            bar.append("  filter: ", style="dim")
            bar.append(clean(self.query_text), style="bold")
            bar.append(f"  ({shown} shown)", style="dim")
        elif not self.ctx.state.targets and not pipelines:
            bar.append("  reading the targets…", style="dim")
        if bar != self._bar:
            self._bar = bar
            self._bar_widget.update(bar)

    def _update_detail(self) -> None:
        now = self.now()
        state = self.ctx.state
        if self.view == PIPELINES:
            board = self._board
            key = self.highlighted_key(PIPELINES)
            pipeline = state.pipelines.get(key) if key else None
            row = self._prows.get(key) if key else None
            if pipeline is None or row is None:
                board.clear("No pipeline selected." if state.pipelines else "")
                return
            board.show(self._board_title(pipeline, state, now), row.waves, now)
        else:
            self._detail.update(self._machine_detail(now))

    def _board_title(self, pipeline: Pipeline, state: FleetState, now: datetime) -> Text:
        title = literal(pipeline.name, style="bold")
        title.append(" · ", style="dim")
        title.append(clean(pipeline.target), style="dim")
        latest = pipeline.latest_execution
        if latest is not None:
            title.append(" · latest ")
            title.append_text(look(latest.status).text())
            title.append(f" {clean(latest.id)[:8]}", style="dim")
            if latest.revision is not None:
                title.append(f" {clean(latest.revision.short)} ")
                title.append(commit_message(latest.revision.summary))
            title.append(f" {coarse_age(latest.updated or latest.started, now)}", style="dim")
        if pipeline.error:
            title.append(f"\n{ERROR.glyph} {clean(pipeline.error)}", style=ERROR.tone.style)
        elif state.is_stale(pipeline.key, pipeline.read_at, now):
            title.append(f"\n{STALE.glyph} stale: last read {age(pipeline.read_at, now)} ago", style="bold")
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
        table = self.pipelines_table if self.view == PIPELINES else self.machines_table
        keys = self._pipeline_keys if self.view == PIPELINES else self._machine_keys
        first = int(table.scroll_offset.y)
        height = max(table.size.height - 1, 1)
        return tuple(keys[first : first + height])

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
        """Show pipelines (`1`) or state machines (`2`)."""
        self.view = view
        self._switcher.current = f"{view}-view"
        table = self.pipelines_table if view == PIPELINES else self.machines_table
        if not self._filter_box.has_focus:
            table.focus()
        self._update_bar()
        self._update_detail()
        self.tell_watcher_what_is_visible()
        self.refresh_availability()

    @on(DataTable.RowHighlighted)
    def _row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        self._update_detail()
        self._tell_focus()
        self.refresh_availability()

    @on(DataTable.RowSelected)
    def _row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.action_open()

    def why_unavailable(self, action: str) -> str | None:
        if action == "open":
            registry = self.ctx.registry
            if self.view == PIPELINES:
                if self.highlighted_key(PIPELINES) is None:
                    return "no pipeline is selected"
                return None if registry.pipeline else registry.missing("pipeline")
            if self.highlighted_key(MACHINES) is None:
                return "no state machine is selected"
            return None if registry.state_machine else registry.missing("state machine")
        if action == "filter":
            return None
        return super().why_unavailable(action)

    def action_open(self) -> None:
        reason = self.why_unavailable("open")
        if reason:
            self.notify(f"Open: {reason}", title="Not available", severity="warning", markup=False)
            return
        registry = self.ctx.registry
        key = self.highlighted_key()
        if key is None:
            return
        if self.view == PIPELINES and registry.pipeline is not None:
            self.app.push_screen(registry.pipeline(key))
        elif self.view == MACHINES and registry.state_machine is not None:
            self.app.push_screen(registry.state_machine(key))

    # --- filter ---------------------------------------------------------------------------------------------

    def action_filter(self) -> None:
        box = self._filter_box
        box.display = True
        box.focus()

    @on(Input.Changed, "#filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        event.stop()
        self.set_filter(event.value)

    @on(Input.Submitted, "#filter")
    def _filter_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        if not event.value.strip():
            event.input.display = False
        (self.pipelines_table if self.view == PIPELINES else self.machines_table).focus()

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
        box = self._filter_box
        if box.display or self.query_text:
            box.value = ""
            box.display = False
            self.set_filter("")
            (self.pipelines_table if self.view == PIPELINES else self.machines_table).focus()
            return
        if self.view == MACHINES:
            self.show_view(PIPELINES)
