"""The state machine screen (enter on a state machine in the fleet's second view).

What the state machine is (type, wave, the state machine that rolls its wave back, the states that wait for
a person) and its newest executions (status, name, started, duration, redrives, error), with the
highlighted one in full underneath. Enter opens an execution's events (screens/execution/screen.py); stop, retry
(redrive), approve and reject act on the highlighted execution, rollback starts the rollback state machine.
An EXPRESS state machine says plainly why its executions have no detail.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import VerticalScroll
from textual.widgets import Static

from console.actions.gate import ActionKind
from console.model import Approval, FleetState
from console.resources import Selection
from console.stepfunctions.model import SERVICE as STEPFUNCTIONS
from console.stepfunctions.model import Execution, StateMachine, state_machines_of
from console.stepfunctions.selections import ExecutionSelection, StateMachineSelection
from screens.action_flow import ActionChoice, ActionScreen, Choices
from screens.bindings import binding
from screens.context import EXECUTION, ExecutionRef
from screens.execution.rows import time_left
from screens.fleet.rows import target_labels
from screens.messages import ActionCompleted, OpenRequested
from screens.pipeline.rows import wave_text
from screens.status import APPROVAL, ERROR, STALE, look
from screens.text import clean, literal
from screens.timefmt import age, ago, clock_time, coarse_age, duration
from screens.widgets.key_bar import KeyBar
from screens.widgets.keyed_list import KeyedList, ListColumn, Row, usable_width

EXPRESS_NOTE = (
    "EXPRESS state machine: Step Functions keeps no execution history for express executions and does not "
    "list, describe, stop or redrive them (they are recorded only in CloudWatch Logs, when logging is on), "
    "so there is nothing to show or act on for one execution here."
)


def rollback_machine(screen: ActionScreen, machine: StateMachine) -> str | None:
    """The state machine that rolls `machine`'s wave back: the model's, else the gate's (the config)."""
    if machine.rollback_state_machine:
        return machine.rollback_state_machine
    lookup = getattr(screen.ctx.gate, "rollback_machine", None)
    found = lookup(machine.name) if callable(lookup) else None
    return found if isinstance(found, str) else None


def execution_columns(width: int) -> list[ListColumn]:
    status, started, took, redrives = 13, 8, 8, 4
    wide = width >= 110
    rest = usable_width(width, 6 if wide else 5) - status - started - took - redrives
    name = min(rest, 44) if wide else rest
    columns = [
        ListColumn("status", "Status", status),
        ListColumn("name", "Execution", max(name, 10)),
        ListColumn("started", "Started", started),
        ListColumn("took", "Took", took),
        ListColumn("redrives", "↺", redrives),
    ]
    if wide:
        columns.append(ListColumn("error", "Error", max(rest - name, 10)))
    return columns


def execution_rows(machine: StateMachine, approvals: tuple[Approval, ...], now: datetime) -> list[Row]:
    waiting = {a.execution for a in approvals if a.kind == STEPFUNCTIONS and a.target == machine.target}
    rows = []
    for execution in machine.executions:
        status = APPROVAL if execution.arn in waiting else look(execution.status)
        error = Text(end="")
        if execution.error or execution.cause:
            error.append(clean(execution.error or ""), style="bold red")
            if execution.cause:
                error.append(": " if execution.error else "")
                error.append(clean(execution.cause), style="red")
        rows.append(
            Row(
                execution.arn,
                {
                    "status": status.text(),
                    "name": literal(execution.name),
                    "started": Text(f"{coarse_age(execution.started, now)} ago" if execution.started else "—"),
                    "took": Text(duration(execution.started, execution.stopped, now), style="dim"),
                    "redrives": Text(str(execution.redrive_count) if execution.redrive_count else "", style="yellow"),
                    "error": error,
                },
            )
        )
    return rows


class StateMachineScreen(ActionScreen):
    """One state machine: what it is and its newest executions; enter opens one."""

    HELP_TITLE = "State machine"
    CSS_PATH = "state_machine.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [binding("filter", show=False)]

    def __init__(self, key: str) -> None:
        super().__init__()
        self.key = key
        self._title: Text | None = None
        self._detail: Text | None = None
        self._shown: tuple[object, ...] | None = None

    def compose(self) -> ComposeResult:
        yield self.header()
        yield Static(id="title")
        yield Static(Text(EXPRESS_NOTE, style="bold"), id="express")
        yield KeyedList(layout=execution_columns, look="table", on_change=self._cursor_moved, id="executions")
        with VerticalScroll(id="detail-box", can_focus=False):
            yield Static(id="detail")
        yield KeyBar()

    def on_mount(self) -> None:
        self.executions.focus()

    @property
    def executions(self) -> KeyedList:
        return self.query_one("#executions", KeyedList)

    @property
    def machine(self) -> StateMachine | None:
        return state_machines_of(self.ctx.state).get(self.key)

    def visible_keys(self) -> tuple[str, ...]:
        return (self.key,)

    # --- drawing --------------------------------------------------------------------------------------------

    def show_state(self, state: FleetState) -> None:
        self._draw(state, self.now())

    def on_tick(self, state: FleetState, now: datetime) -> None:
        self._draw(state, now)

    def _draw(self, state: FleetState, now: datetime) -> None:
        machine = state_machines_of(state).get(self.key)
        stale = machine is not None and state.is_stale(machine.key, machine.read_at, now)
        approvals = state.approvals
        shown = (machine, approvals, stale, int(now.timestamp() // 60))
        if shown == self._shown:
            return
        self._shown = shown
        self._set("#title", self._title_text(machine, stale, now))
        self.query_one("#express", Static).display = machine is not None and machine.type == "EXPRESS"
        if machine is not None:
            self.executions.sync(execution_rows(machine, approvals, now))
        self._update_detail()
        self.refresh_availability()

    def _set(self, selector: str, text: Text) -> None:
        attribute = "_title" if selector == "#title" else "_detail"
        if getattr(self, attribute) != text:
            setattr(self, attribute, text)
            self.query_one(selector, Static).update(text)

    def _title_text(self, machine: StateMachine | None, stale: bool, now: datetime) -> Text:
        name = self.key.split(":", 1)[-1]
        if machine is None:
            text = literal(name, style="bold")
            if state_machines_of(self.ctx.state):
                text.append(" is no longer listed by its target (deleted, or the target cannot be read)", style="bold")
            else:
                text.append(" · reading…", style="dim")
            return text
        label = target_labels(self.ctx.targets).get(machine.target, machine.target)
        text = literal(machine.name, style="bold")
        text.append(f" · {clean(label)} · {machine.type.lower()}", style="dim")
        text.append(" · wave ", style="dim")
        text.append_text(wave_text(machine.wave, 20))
        rollback = rollback_machine(self, machine)
        text.append(" · rollback: ", style="dim")
        text.append(clean(rollback) if rollback else "none defined", style="" if rollback else "dim")
        if machine.approval_states:
            text.append(f"\n{APPROVAL.glyph} waits for a person in: ", style="dim")
            text.append(", ".join(clean(s) for s in machine.approval_states))
        if machine.error:
            text.append(f"\n{ERROR.glyph} could not read it: ", style=ERROR.tone.style)
            text.append(clean(machine.error))
        if stale:
            text.append(f"\n{STALE.glyph} stale: last read {ago(machine.read_at, now)}", style="bold")
            text.append(" (ctrl+r reads now)", style="dim")
        return text

    def _update_detail(self) -> None:
        self._set("#detail", self._detail_text(self.now()))

    def _detail_text(self, now: datetime) -> Text:
        machine = self.machine
        if machine is None:
            return Text("")
        execution = self.selected_execution()
        if execution is None:
            if machine.type == "EXPRESS":
                return Text("No executions are listed for an express state machine.", style="dim")
            return Text("No executions yet." if not machine.executions else "No execution selected.", style="dim")
        text = literal(execution.name, style="bold")
        text.append("  ")
        text.append_text(look(execution.status).text())
        lines = [text, literal(execution.arn, style="dim")]
        timing = Text(f"started {clock_time(execution.started)} ({age(execution.started, now)} ago)", end="")
        if execution.stopped is not None:
            timing.append(f" · ended {clock_time(execution.stopped)}")
        timing.append(f" · {'running for' if execution.is_running else 'took'} ")
        timing.append(duration(execution.started, execution.stopped, now))
        lines.append(timing)
        if execution.redrive_count or execution.redrive_status:
            redrive = Text(f"redriven {execution.redrive_count}×", style="yellow", end="")
            if execution.redrive_status:
                redrive.append(f" · {clean(execution.redrive_status).lower().replace('_', ' ')}", style="dim")
            if execution.redrive_status_reason:
                redrive.append(f": {clean(execution.redrive_status_reason)}", style="dim")
            lines.append(redrive)
        if execution.error or execution.cause:
            error = Text(f"{ERROR.glyph} ", style=ERROR.tone.style, end="")
            error.append(clean(execution.error or ""), style="bold red")
            if execution.cause:
                error.append(": ")
                error.append(clean(execution.cause), style="red")
            lines.append(error)
        for approval in self._approvals_of(execution):
            ask = Text(f"{APPROVAL.glyph} {clean(approval.state_name or 'a task')} waits", style=APPROVAL.tone.style)
            if approval.custom_data:
                ask.append(": ")
                ask.append(clean(approval.custom_data), style="bold")
            if approval.expires is not None:
                expired = approval.expires <= now
                ask.append(
                    " · expired" if expired else f" · expires in {time_left(approval.expires, now)}", style="dim"
                )
            lines.append(ask)
        if machine.type != "EXPRESS":
            lines.append(Text("enter opens its events", style="dim"))
        return Text("\n", end="").join(lines)

    def _approvals_of(self, execution: Execution) -> list[Approval]:
        return [a for a in self.ctx.state.approvals if a.kind == STEPFUNCTIONS and a.execution == execution.arn]

    # --- the selection --------------------------------------------------------------------------------------

    def selected_execution(self) -> Execution | None:
        machine = self.machine
        arn = self.executions.highlighted_key
        if machine is None or arn is None:
            return None
        return next((e for e in machine.executions if e.arn == arn), None)

    def _cursor_moved(self) -> None:
        # Called by the list in the same turn as its cursor moves: the detail lands in the same frame.
        if self._ready and not self.is_closing:
            self._update_detail()
            self.refresh_availability()

    @on(KeyedList.Selected)
    def _row_selected(self, event: KeyedList.Selected) -> None:
        event.stop()
        self.action_open()

    def on_action_completed(self, message: ActionCompleted) -> None:
        self._shown = None

    # --- keys -------------------------------------------------------------------------------------------------

    def why_unavailable(self, action: str) -> str | None:
        if action == "open":
            machine = self.machine
            if EXECUTION not in self.ctx.registry.screens:
                return self.ctx.registry.missing(EXECUTION)
            if machine is not None and machine.type == "EXPRESS":
                return "express executions have no history to show (see the note above)"
            if self.selected_execution() is None:
                return "no execution is selected"
            return None
        return super().why_unavailable(action)

    def action_open(self) -> None:
        """enter: the highlighted execution's events, states, input and output."""
        reason = self.why_unavailable("open")
        execution = self.selected_execution()
        machine = self.machine
        if reason or execution is None or machine is None:
            self.notify(f"Open: {reason}", title="Not available", severity="warning", markup=False)
            return
        self.post_message(OpenRequested(ExecutionRef(machine.target, execution.arn)))

    def action_choices(self, binding_id: str) -> Choices:
        machine = self.machine
        if machine is None:
            return Choices((), nothing=f"{clean(self.key.split(':', 1)[-1])} is not loaded")
        return machine_execution_choices(binding_id, machine, self.selected_execution(), self.ctx.state.approvals)


def machine_execution_choices(
    binding_id: str,
    machine: StateMachine,
    execution: Execution | None,
    approvals: Sequence[Approval] = (),
    selected_state: str | None = None,
) -> Choices:
    """What an action key does for the highlighted execution of `machine` (rollback: the whole wave).

    Approve / reject: one choice per task the execution waits in (`approvals`, the watcher's), so with
    several (Parallel branches, Map iterations) the operator picks exactly one token; the one of the
    `selected_state` is offered first. None known yet: the execution as a whole, and the gate decides.
    """
    base = StateMachineSelection(machine.target, machine.arn)
    if binding_id == "rollback":
        # Rolled back from the highlighted execution: the gate goes back to the last good one before it.
        if execution is not None and execution.is_running:
            return Choices((), "", base, f"{execution.name} is still running: stop it (s) before rolling its wave back")
        selection: Selection = (
            base if execution is None else ExecutionSelection(machine.target, machine.arn, execution.arn)
        )
        return Choices((ActionChoice(ActionKind.ROLLBACK, selection, f"Roll back {machine.name}"),), "", base)
    if execution is None:
        return Choices((), "", base, "no execution is selected")
    selection = ExecutionSelection(machine.target, machine.arn, execution.arn)
    where = f"{machine.name} / {execution.name}"
    waiting = [a for a in approvals if a.kind == STEPFUNCTIONS and a.execution == execution.arn]
    if binding_id in ("approve", "reject") and waiting:
        answer = ActionKind.APPROVE if binding_id == "approve" else ActionKind.REJECT
        verb = "Approve" if answer is ActionKind.APPROVE else "Reject"
        choices = tuple(
            ActionChoice(
                answer,
                ExecutionSelection(
                    machine.target,
                    machine.arn,
                    execution.arn,
                    state_name=a.state_name,
                    map_index=a.map_index,
                    task_event=a.task_event,
                ),
                f"{verb} {a.state_name or '?'}" + (f" ({a.where})" if a.where else ""),
                preferred=a.state_name == selected_state,
            )
            for a in sorted(waiting, key=lambda a: a.task_event or 0)
        )
        return Choices(choices, f"{verb} which waiting state of {where}?", selection)
    kinds = {
        "approve": ActionKind.APPROVE,
        "reject": ActionKind.REJECT,
        "stop": ActionKind.STOP,
        "retry": ActionKind.RETRY,
        "stop_abandon": ActionKind.STOP_ABANDON,
        "pause": ActionKind.PAUSE,
    }
    kind = kinds.get(binding_id)
    if kind is None or kind in (ActionKind.STOP_ABANDON, ActionKind.PAUSE):
        # The gate says why these are not for Step Functions (its reason, from the fallback).
        return Choices((ActionChoice(kind, selection, where),) if kind else (), "", base)
    label = {
        ActionKind.APPROVE: f"Approve {where}",
        ActionKind.REJECT: f"Reject {where}",
        ActionKind.STOP: f"Stop {where}",
        ActionKind.RETRY: f"Redrive {where}",
    }[kind]
    return Choices((ActionChoice(kind, selection, label),), "", base, f"nothing to do for {where}")
