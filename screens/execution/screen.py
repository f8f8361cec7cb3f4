"""The execution screen: one Step Functions execution, its event history streaming in, its states.

Top: the execution (status, started, duration, redrives, error) and, when a `.waitForTaskToken` state waits
for a person, what it asks, the revision, how long it has waited and how long it has left. Then the states
in the order they ran, the current one marked, beside (below, at 80 columns) the event history as it
arrives (id, time, type, state, error / cause). Under them, the highlighted event in a few lines.

`i` shows the input, `o` the output (or the error and cause), enter the highlighted event or state in full:
literal, scrollable, pretty-printed when it is JSON. `/` filters the history. The action keys act on this
execution: approve, reject, stop, retry (redrive), rollback (the rollback state machine).

While shown (and under its own modals) the screen asks the watcher to read this execution's history
(`watch_execution`); leaving it stops that. It reads only `watcher.history()` and the watcher's picture.
"""

from __future__ import annotations

import weakref
from datetime import datetime
from typing import ClassVar

from rich.text import Text
from textual import events, on
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Container, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from console.contradictions import execution_contradiction
from console.model import FleetState
from console.stepfunctions.model import Execution, HistoryEvent, StateMachine, state_machines_of
from console.stepfunctions.selections import state_machine_arn_of
from screens.action_flow import ActionScreen, Choices
from screens.bindings import binding
from screens.execution.rows import (
    StateRun,
    completed,
    event_columns,
    event_detail,
    event_rows,
    event_sections,
    event_words,
    state_columns,
    state_rows,
    state_runs,
    title_text,
    waiting_for_person,
    waiting_text,
)
from screens.messages import ActionCompleted
from screens.state_machine.screen import EXPRESS_NOTE, machine_execution_choices
from screens.status import STALE
from screens.text import clean
from screens.timefmt import ago
from screens.widgets.filter_bar import FilterBar
from screens.widgets.key_bar import KeyBar
from screens.widgets.keyed_list import KeyedList
from screens.widgets.payload_modal import PayloadModal

CONTRADICTION_MARK = "≠ CONFLICT"  # reverse video: seen without colour

NARROW = 110  # below this width the states go above the history instead of beside it
# The execution screen each app's watcher is reading in detail (the watcher follows one at a time).
_WATCHING: weakref.WeakKeyDictionary[object, ExecutionScreen] = weakref.WeakKeyDictionary()


class ExecutionScreen(ActionScreen):
    """One Step Functions execution in detail (see the module docstring)."""

    HELP_TITLE = "Execution"
    CSS_PATH = "execution.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [binding("view_input"), binding("view_output")]

    def __init__(self, target: str, arn: str) -> None:
        super().__init__()
        self.target = target
        self.arn = arn
        self.machine_arn = state_machine_arn_of(arn)
        self.machine_name = self.machine_arn.rsplit(":", 1)[-1]
        self.machine_key = f"{target}:{self.machine_name}"
        self.query_text = ""
        self._shown: tuple[object, ...] | None = None
        self._texts: dict[str, Text] = {}
        self._events: tuple[HistoryEvent, ...] = ()
        self._watching = False

    # --- layout -------------------------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield self.header()
        yield Static(id="title")
        yield Static(id="waiting")
        yield FilterBar("filter the history: event type, state, error (fail, Task, Approve)")
        with Container(id="panes"):
            yield KeyedList(layout=state_columns, look="table", on_change=self._cursor_moved, id="states")
            # The history follows the newest event while the cursor is on it (k stops that, end follows again).
            yield KeyedList(layout=event_columns, look="table", follow=True, on_change=self._cursor_moved, id="events")
        with VerticalScroll(id="detail-box", can_focus=False):
            yield Static(id="detail")
        yield KeyBar()

    def on_mount(self) -> None:
        self.set_class(self.app.size.width < NARROW, "-narrow")
        self.history_table.focus()

    @property
    def history_table(self) -> KeyedList:
        return self.query_one("#events", KeyedList)

    @property
    def states_table(self) -> KeyedList:
        return self.query_one("#states", KeyedList)

    def on_resize(self, event: events.Resize) -> None:
        self.set_class(event.size.width < NARROW, "-narrow")

    # --- the watcher -------------------------------------------------------------------------------------

    def visible_keys(self) -> tuple[str, ...]:
        return (self.machine_key,)

    def _watch(self, on: bool) -> None:
        """Start (or stop) the watcher's detailed reading of this execution. The watcher follows one
        execution at a time: stopping only stops it if no other execution screen has taken it over since."""
        if on:
            if not self._watching or _WATCHING.get(self.app) is not self:
                _WATCHING[self.app] = self
                self._watching = True
                self.ctx.watcher.watch_execution(self.target, self.arn)
            return
        self._watching = False
        if _WATCHING.get(self.app) is self:
            del _WATCHING[self.app]
            self.ctx.watcher.watch_execution(self.target, None)

    def on_screen_resume(self, event: events.ScreenResume) -> None:
        # The base class's handler runs too (Textual calls each class's): it catches up with the picture.
        self._watch(True)

    def on_screen_suspend(self) -> None:
        # Our own modals (confirmation, payload, help) keep the history streaming underneath.
        if not isinstance(self.app.screen, ModalScreen):
            self._watch(False)

    def on_unmount(self) -> None:
        self._watch(False)

    # --- what is known -------------------------------------------------------------------------------------

    @property
    def machine(self) -> StateMachine | None:
        return state_machines_of(self.ctx.state).get(self.machine_key)

    def execution(self) -> Execution | None:
        """This execution: as the state machine lists it, completed by its history, or from its history."""
        machine = self.machine
        listed = next((e for e in machine.executions if e.arn == self.arn), None) if machine else None
        return completed(listed, self._events, self.arn, self.machine_arn)

    # --- drawing --------------------------------------------------------------------------------------------

    def show_state(self, state: FleetState) -> None:
        self._draw(state, self.now())

    def on_tick(self, state: FleetState, now: datetime) -> None:
        # The history may have grown between two pictures (it is not part of them): look once a second.
        self._draw(state, now)

    def _draw(self, state: FleetState, now: datetime) -> None:
        history = self.ctx.watcher.history(self.arn)
        if len(history) != len(self._events):
            self._events = history
        machine = state_machines_of(state).get(self.machine_key)
        listed = next((e for e in machine.executions if e.arn == self.arn), None) if machine else None
        approvals = tuple(a for a in state.approvals if a.execution == self.arn)
        stale = machine is not None and state.is_stale(machine.key, machine.read_at, now)
        shown = (
            listed,
            stale,
            machine.type if machine else None,
            len(self._events),
            approvals,
            self.query_text,
            int(now.timestamp() // 60),
        )
        if shown == self._shown:
            return
        self._shown = shown
        execution = self.execution()
        machine_type = machine.type if machine else None
        title = title_text(self.machine_name, execution, now, machine_type)
        # The listed status against the history: both are shown, and a contradiction is marked, never resolved.
        conflict = execution_contradiction(listed, self._events, machine.read_at if machine else None)
        if conflict is not None:
            title.append(f"\n{CONTRADICTION_MARK} ", style="reverse bold yellow")
            title.append(conflict, style="bold")
        if stale and machine is not None and execution is not None and execution.is_running:
            # The history streams on its own; the status comes from the state machine's listing.
            title.append(
                f"\n{STALE.glyph} stale: its state machine was last read {ago(machine.read_at, now)}", style="bold"
            )
        self._set("#title", title)
        self._draw_waiting(execution, approvals, now, machine_type)
        runs = state_runs(self._events, execution.status if execution else None)
        self.states_table.sync(state_rows(runs))
        current = next((r.name for r in reversed(runs) if r.current), None)
        if current is not None and self.focused is not self.states_table:
            self.states_table.move_to(current)  # the current state stays in view
        self._draw_history()
        self._update_detail()
        self.refresh_availability()

    def _draw_waiting(
        self, execution: Execution | None, approvals: tuple[object, ...], now: datetime, machine_type: str | None
    ) -> None:
        box = self.query_one("#waiting", Static)
        if machine_type == "EXPRESS":
            box.display = True
            self._set("#waiting", Text(EXPRESS_NOTE, style="bold"))
            return
        running = execution is not None and execution.is_running
        waiting = waiting_for_person(self.arn, self.ctx.state.approvals, self._events, running)
        box.display = bool(waiting)
        if waiting:
            # The footer says a / x already; the banner repeats it only where there is room.
            hint = self.why_unavailable("approve") is None and self.app.size.width >= NARROW
            self._set("#waiting", waiting_text(waiting, now, can_answer=hint))

    def _draw_history(self) -> None:
        rows = event_rows(self._events)
        if self.query_text:
            words = {str(e.id): event_words(e) for e in self._events}
            parts = self.query_text.lower().split()
            rows = [r for r in rows if all(p in words.get(r.key, "") for p in parts)]
        self.history_table.sync(rows)  # on the newest event, the cursor follows the history as it streams in

    def _set(self, selector: str, text: Text) -> None:
        if self._texts.get(selector) != text:
            self._texts[selector] = text
            self.query_one(selector, Static).update(text)

    def _update_detail(self) -> None:
        self._set("#detail", self._detail_text())

    def _detail_text(self) -> Text:
        if self.focused is self.states_table:
            run = self._selected_state()
            if run is None:
                return Text("")
            text = Text(f"{run.name}  ", style="bold", end="")
            text.append_text(run.look.text())
            if run.error or run.cause:
                text.append("\n")
                text.append(clean(run.error or ""), style="bold red")
                text.append(": " if run.cause else "")
                text.append(clean(run.cause or "")[:400], style="red")
            text.append("\nenter shows its input and output", style="dim")
            return text
        event = self._selected_event()
        if event is None:
            if not self._events:
                return Text("Reading the history…" if self._watching else "No history read.", style="dim")
            return Text("")
        return event_detail(event)

    # --- the selection --------------------------------------------------------------------------------------

    def _selected_event(self) -> HistoryEvent | None:
        key = self.history_table.highlighted_key
        return next((e for e in self._events if str(e.id) == key), None) if key else None

    def _selected_state(self) -> StateRun | None:
        key = self.states_table.highlighted_key
        execution = self.execution()
        runs = state_runs(self._events, execution.status if execution else None)
        return next((r for r in runs if r.name == key), None) if key else None

    def _cursor_moved(self) -> None:
        # Called by either list in the same turn as its cursor moves: the detail lands in the same frame.
        if self._ready and not self.is_closing:
            self._update_detail()

    @on(KeyedList.Selected)
    def _row_selected(self, event: KeyedList.Selected) -> None:
        event.stop()
        self.action_open()

    def on_descendant_focus(self) -> None:
        self._update_detail()

    def on_action_completed(self, message: ActionCompleted) -> None:
        self._shown = None

    # --- keys -------------------------------------------------------------------------------------------------

    def why_unavailable(self, action: str) -> str | None:
        execution = self.execution()
        if action == "view_input":
            if execution is None or execution.input is None:
                return "the input has not been read yet"
            return None
        if action == "view_output":
            if execution is None:
                return "the execution has not been read yet"
            if execution.is_running:
                return "it is still running: there is no output yet"
            if execution.output is None and execution.error is None and execution.cause is None:
                return "it ended without output"
            return None
        if action == "open":
            if self.focused is self.states_table:
                return None if self._selected_state() is not None else "no state is selected"
            return None if self._selected_event() is not None else "no event is selected"
        if action == "filter":
            return None
        return super().why_unavailable(action)

    def _explain(self, action: str) -> bool:
        reason = self.why_unavailable(action)
        if reason:
            self.notify(reason, title="Not available", severity="warning", markup=False)
        return reason is None

    def action_view_input(self) -> None:
        execution = self.execution()
        if self._explain("view_input") and execution is not None:
            title = f"Input of {self.machine_name} / {execution.name}"
            self.app.push_screen(PayloadModal(title, [("Input", execution.input)]))

    def action_view_output(self) -> None:
        execution = self.execution()
        if not self._explain("view_output") or execution is None:
            return
        sections: list[tuple[str, str | None]] = []
        if execution.error or execution.cause:
            sections += [("Error", execution.error), ("Cause", execution.cause)]
        if execution.output is not None or not sections:
            sections.append(("Output", execution.output))
        self.app.push_screen(PayloadModal(f"Output of {self.machine_name} / {execution.name}", sections))

    def action_open(self) -> None:
        """enter: the highlighted event (or state) in full."""
        if not self._explain("open"):
            return
        if self.focused is self.states_table:
            run = self._selected_state()
            if run is not None:
                sections = [("Input", run.input), ("Output", run.output)]
                if run.error or run.cause:
                    sections = [("Error", run.error), ("Cause", run.cause), *sections]
                self.app.push_screen(PayloadModal(f"State {run.name} ({run.look.word})", sections))
            return
        event = self._selected_event()
        if event is not None:
            where = f" in {event.state_name}" if event.state_name else ""
            self.app.push_screen(PayloadModal(f"#{event.id} {event.type}{where}", event_sections(event)))

    def action_choices(self, binding_id: str) -> Choices:
        machine = self.machine
        if machine is None:
            return Choices((), nothing=f"{self.machine_name} is not loaded yet")
        state = self.states_table.highlighted_key if self.focused is self.states_table else None
        return machine_execution_choices(binding_id, machine, self.execution(), self.ctx.state.approvals, state)

    # --- filter -------------------------------------------------------------------------------------------------

    def action_filter(self) -> None:
        self.query_one(FilterBar).open()

    def on_filter_bar_filter_changed(self, event: FilterBar.FilterChanged) -> None:
        self.query_text = event.text.strip()
        self._draw(self.ctx.state, self.now())

    def on_filter_bar_filter_left(self) -> None:
        self.history_table.focus()

    def action_back(self) -> None:
        if self.query_one(FilterBar).clear_filter() or self.query_text:
            self.query_text = ""
            self._draw(self.ctx.state, self.now())
            self.history_table.focus()
            return
        super().action_back()
