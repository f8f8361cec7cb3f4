"""What the execution screen says: pure functions from an execution's history to its states, rows and text.

The watcher reads the history of the one execution shown in detail (`watch_execution`) incrementally;
`history(arn)` is what it has read so far. From it come: the execution's own facts when the state
machine's listing does not hold it (an older execution), the states in the order they were first entered
with what became of each, the event rows, and the `.waitForTaskToken` task still waiting for a person.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from rich.text import Text

from console.diff import approval_request, find_in_parameters
from console.model import Approval
from console.stepfunctions.approvals import waiting_tasks
from console.stepfunctions.model import Execution, HistoryEvent
from screens.status import (
    APPROVAL,
    FAILED,
    RUNNING,
    STOPPED,
    StatusLook,
    Tone,
    look,
)
from screens.text import clean, literal
from screens.timefmt import age, clock_time, duration
from screens.widgets.keyed_list import ListColumn, Row, usable_width

DONE = StatusLook("✓", "done", Tone.OK)
CAUGHT = StatusLook("↷", "caught", Tone.HALT)

_ENDED = {
    "ExecutionSucceeded": "SUCCEEDED",
    "ExecutionFailed": "FAILED",
    "ExecutionAborted": "ABORTED",
    "ExecutionTimedOut": "TIMED_OUT",
}


# --- the execution's own facts -------------------------------------------------------------------------------


def from_history(arn: str, state_machine_arn: str, events: Sequence[HistoryEvent]) -> Execution | None:
    """The execution as its history tells it (status, times, input, output, error), for an execution the
    state machine's listing does not hold; None before any event was read."""
    if not events:
        return None
    ordered = sorted(events, key=lambda e: e.id)
    started = next((e for e in ordered if e.type == "ExecutionStarted"), None)
    ended = next((e for e in reversed(ordered) if e.type in _ENDED), None)
    redriven = [e for e in ordered if e.type == "ExecutionRedriven"]
    if ended is not None and redriven and redriven[-1].id > ended.id:
        ended = None
    return Execution(
        arn=arn,
        name=arn.rsplit(":", 1)[-1],
        state_machine_arn=state_machine_arn,
        status=_ENDED[ended.type] if ended is not None else "RUNNING",
        started=started.timestamp if started else ordered[0].timestamp,
        stopped=ended.timestamp if ended else None,
        input=started.input if started else None,
        output=ended.output if ended else None,
        error=ended.error if ended else None,
        cause=ended.cause if ended else None,
        redrive_count=len(redriven),
    )


def completed(listed: Execution | None, events: Sequence[HistoryEvent], arn: str, machine_arn: str) -> Execution | None:
    """The listed execution, with what only the history has (input, output, error) filled in."""
    told = from_history(arn, machine_arn, events)
    if listed is None:
        return told
    if told is None:
        return listed
    return replace(
        listed,
        input=listed.input if listed.input is not None else told.input,
        output=listed.output if listed.output is not None else (told.output if not listed.is_running else None),
        error=listed.error if listed.error is not None else (told.error if not listed.is_running else None),
        cause=listed.cause if listed.cause is not None else (told.cause if not listed.is_running else None),
    )


# --- states ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class StateRun:
    """One state of the execution as its history shows it: what became of its latest entry."""

    name: str
    look: StatusLook
    entered: datetime
    exited: datetime | None
    times: int
    input: str | None
    output: str | None
    error: str | None
    cause: str | None

    @property
    def current(self) -> bool:
        return self.exited is None and self.look in (RUNNING, APPROVAL)


@dataclass
class _Seen:
    """What the history has said so far about one state (built up event by event)."""

    entered: datetime
    times: int = 0
    exited: datetime | None = None
    input: str | None = None
    output: str | None = None
    error: str | None = None
    cause: str | None = None
    outcome: str = "open"  # open | done | caught | failed | stopped


_OUTCOMES = {"done": DONE, "caught": CAUGHT, "failed": FAILED, "stopped": STOPPED}


def state_runs(events: Sequence[HistoryEvent], status: str | None) -> list[StateRun]:
    """Every state entered, in the order first entered, with its latest outcome; the open ones of a running
    execution are current (waiting, when a person's token is awaited)."""
    seen: dict[str, _Seen] = {}
    ordered = sorted(events, key=lambda e: e.id)
    waiting = {task.state for task in waiting_tasks(ordered)}
    for event in ordered:
        name = event.state_name
        if event.type.endswith("StateEntered") and name:
            times = seen[name].times if name in seen else 0
            seen[name] = _Seen(entered=event.timestamp, times=times + 1, input=event.input)
            if event.type == "FailStateEntered":
                seen[name].outcome = "failed"
        elif event.type.endswith("StateExited") and name in seen and name:
            state = seen[name]
            state.exited, state.output = event.timestamp, event.output
            state.outcome = "caught" if state.outcome == "failed" else "done"
        elif name in seen and name and (event.error or event.type.endswith(("Failed", "TimedOut"))):
            state = seen[name]
            state.error, state.cause, state.outcome = event.error, event.cause, "failed"
        elif event.type in _ENDED and event.type != "ExecutionSucceeded":
            for state in seen.values():
                if state.exited is None and state.outcome == "open":
                    state.outcome = "stopped" if event.type == "ExecutionAborted" else "failed"
                    if state.error is None:
                        state.error, state.cause = event.error, event.cause
    out: list[StateRun] = []
    for name, state in seen.items():
        if state.outcome == "open":
            state_look = APPROVAL if name in waiting else (RUNNING if status in (None, "RUNNING") else STOPPED)
        else:
            state_look = _OUTCOMES[state.outcome]
        out.append(
            StateRun(
                name=name,
                look=state_look,
                entered=state.entered,
                exited=state.exited,
                times=state.times,
                input=state.input,
                output=state.output,
                error=state.error,
                cause=state.cause,
            )
        )
    return out


def state_columns(width: int) -> list[ListColumn]:
    name = max(usable_width(width, 2) - 12, 8)
    return [ListColumn("status", "Status", 12), ListColumn("name", "State", name)]


def state_rows(runs: Sequence[StateRun]) -> list[Row]:
    rows = []
    for run in runs:
        name = literal(run.name, style="bold" if run.current else "")
        if run.times > 1:
            name.append(f" ×{run.times}", style="dim")
        if run.current:
            name.append(" ◀", style="bold")
        rows.append(Row(run.name, {"status": run.look.text(), "name": name}))
    return rows


# --- events ------------------------------------------------------------------------------------------------


def event_columns(width: int) -> list[ListColumn]:
    ident, time, kind = 4, 8, 22
    state = 20 if width >= 80 else 14
    detail = usable_width(width, 5) - ident - time - kind - state
    if detail < 12:
        kind = 20
        state = max(usable_width(width, 4) - ident - time - kind, 8)
        return [
            ListColumn("id", "#", ident),
            ListColumn("time", "Time", time),
            ListColumn("type", "Event", kind),
            ListColumn("state", "State", state),
        ]
    return [
        ListColumn("id", "#", ident),
        ListColumn("time", "Time", time),
        ListColumn("type", "Event", kind),
        ListColumn("state", "State", state),
        ListColumn("detail", "Detail", detail),
    ]


def event_style(event: HistoryEvent) -> str:
    if event.type in ("ExecutionFailed", "ExecutionTimedOut") or event.type.endswith(("Failed", "TimedOut")):
        return "bold red"
    if event.type == "ExecutionAborted":
        return "yellow"
    if event.type.startswith("Execution"):
        return "bold"
    if event.type.endswith("StateEntered"):
        return ""
    return "dim"


def event_summary(event: HistoryEvent) -> Text:
    """The part of an event an operator reads first: its error and cause, else what it runs or asks."""
    if event.error or event.cause:
        text = Text(end="")
        if event.error:
            text.append(clean(event.error), style="bold red")
        if event.cause:
            text.append(": " if event.error else "")
            text.append(clean(event.cause), style="red")
        return text
    if event.type == "TaskScheduled":
        asks = approval_request(event.parameters) if (event.resource or "").endswith(".waitForTaskToken") else ""
        if asks:
            return literal(f"asks: {asks}", style=APPROVAL.tone.style)
        return literal(event.resource or "", style="dim")
    if event.timeout_seconds:
        return Text(f"timeout {event.timeout_seconds}s", style="dim")
    return Text("")


def event_words(event: HistoryEvent) -> str:
    """What the history filter searches: type, state, error, cause, resource."""
    parts = (event.type, event.state_name, event.error, event.cause, event.resource)
    return clean(" ".join(p for p in parts if p)).lower()


def event_rows(events: Sequence[HistoryEvent]) -> list[Row]:
    return [
        Row(
            str(event.id),
            {
                "id": Text(str(event.id), style="dim"),
                "time": Text(clock_time(event.timestamp)),
                "type": Text(clean(event.type), style=event_style(event)),
                "state": literal(event.state_name or ""),
                "detail": event_summary(event),
            },
        )
        for event in sorted(events, key=lambda e: e.id)
    ]


def event_detail(event: HistoryEvent) -> Text:
    """Two or three lines under the history: the highlighted event's error, cause and payloads, cut short
    (enter shows them whole)."""
    head = Text(f"#{event.id} {clean(event.type)}", style="bold", end="")
    if event.state_name:
        head.append(" in ")
        head.append(clean(event.state_name))
    head.append(f" at {clock_time(event.timestamp)}", style="dim")
    if event.previous_id:
        head.append(f" · after #{event.previous_id}", style="dim")
    lines = [head]
    for label, value in (
        ("error", event.error),
        ("cause", event.cause),
        ("resource", event.resource),
        ("parameters", event.parameters),
        ("input", event.input),
        ("output", event.output),
    ):
        if value:
            line = Text(f"{label}: ", style="dim", end="")
            line.append(clean(value)[:400])
            lines.append(line)
    has_payload = any((event.parameters, event.input, event.output, event.cause))
    if has_payload:
        lines.append(Text("enter shows it all", style="dim", end=""))
    return Text("\n", end="").join(lines)


def event_sections(event: HistoryEvent) -> list[tuple[str, str | None]]:
    """The sections the payload modal shows for an event."""
    sections: list[tuple[str, str | None]] = []
    for label, value in (
        ("Error", event.error),
        ("Cause", event.cause),
        ("Resource", event.resource),
        ("Parameters", event.parameters),
        ("Input", event.input),
        ("Output", event.output),
    ):
        if value:
            sections.append((label, value))
    return sections or [("Details", None)]


# --- what waits for a person --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Waiting:
    """A `.waitForTaskToken` task of this execution waiting for a person, with what it asks."""

    state: str | None
    asks: str
    revision: str | None
    since: datetime | None
    expires: datetime | None
    url: str | None
    where: str = ""  # "branch 2 of Approvals", "iteration 3 of ReviewEach"


def waiting_for_person(
    arn: str, approvals: Sequence[Approval], events: Sequence[HistoryEvent], running: bool
) -> list[Waiting]:
    """The watcher's approvals for this execution; else what its history shows still waiting."""
    found = [
        Waiting(
            state=a.state_name,
            asks=a.custom_data,
            revision=a.revision.revision_id if a.revision else None,
            since=a.since,
            expires=a.expires,
            url=a.url,
            where=a.where,
        )
        for a in sorted(approvals, key=lambda a: (a.where, a.map_index or 0, a.state_name or ""))
        if a.kind == "stepfunctions" and a.execution == arn
    ]
    if found or not running:
        return found
    out = []
    for task in waiting_tasks(sorted(events, key=lambda e: e.id)):
        state, scheduled = task.state, task.scheduled
        revision = find_in_parameters(scheduled.parameters, "revision")
        url = find_in_parameters(scheduled.parameters, "url")
        expires = None
        if scheduled.timeout_seconds:
            expires = scheduled.timestamp + timedelta(seconds=scheduled.timeout_seconds)
        out.append(
            Waiting(
                state=state,
                asks=approval_request(scheduled.parameters),
                revision=revision if isinstance(revision, str) else None,
                since=scheduled.timestamp,
                expires=expires,
                url=url if isinstance(url, str) else None,
                where=task.where,
            )
        )
    return out


def time_left(when: datetime, now: datetime) -> str:
    """Time left before `when`, to the minute (the screen redraws once a minute): `1h 59m`, `12m`, `<1m`."""
    minutes = int((when - now).total_seconds()) // 60
    if minutes < 1:
        return "<1m"
    if minutes < 60:
        return f"{minutes}m"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours}h {minutes}m" if minutes else f"{hours}h"
    return f"{hours // 24}d {hours % 24}h"


def waiting_text(waiting: Sequence[Waiting], now: datetime, can_answer: bool) -> Text:
    """The banner: which state waits, what it asks, the revision, how long it has waited and has left."""
    lines = []
    for item in waiting:
        text = Text(f"{APPROVAL.glyph} ", style=APPROVAL.tone.style, end="")
        text.append(clean(item.state or "a task"), style="bold")
        if item.where:
            text.append(f" ({clean(item.where)})")
        text.append(" waits for a person", style=APPROVAL.tone.style)
        if item.asks:
            text.append(": ")
            text.append(clean(item.asks), style="bold")
        facts = []
        if item.revision:
            facts.append(f"revision {clean(item.revision)}")
        if item.since is not None:
            facts.append(f"waiting {age(item.since, now)}")
        if item.expires is not None:
            if item.expires <= now:
                facts.append(f"expired at {clock_time(item.expires)}")
            else:
                facts.append(f"expires in {time_left(item.expires, now)} ({clock_time(item.expires)})")
        if item.url:
            facts.append(clean(item.url))
        if facts:
            text.append("\n  " + " · ".join(facts), style="")
        lines.append(text)
    if can_answer and lines:
        # Once, after all of them: with several waiting (Parallel, Map) a / x ask which one.
        lines[-1].append("\n  a approves · x rejects", style="dim")
    return Text("\n", end="").join(lines)


def title_text(machine_name: str, execution: Execution | None, now: datetime, machine_type: str | None = None) -> Text:
    """The execution's line: state machine / name, status, started, duration, redrives, error."""
    name = execution.name if execution is not None else "?"
    text = literal(machine_name, style="dim")
    text.append(" / ", style="dim")
    text.append(clean(name), style="bold")
    if execution is None:
        text.append("  reading its history…", style="dim")
        return text
    text.append("  ")
    text.append_text(look(execution.status).text())
    text.append(f"  started {clock_time(execution.started)}", style="dim")
    running = execution.is_running
    took = duration(execution.started, None if running else execution.stopped, now)
    text.append(f" · {'running for' if running else 'took'} {took}", style="dim")
    if execution.redrive_count:
        text.append(f" · redriven ×{execution.redrive_count}", style="yellow")
    if machine_type == "EXPRESS":
        text.append(" · express", style="dim")
    if execution.error or execution.cause:
        text.append("\n")
        text.append(f"{FAILED.glyph} ", style=FAILED.tone.style)
        text.append(clean(execution.error or ""), style="bold red")
        if execution.cause:
            text.append(": ")
            text.append(clean(execution.cause)[:300], style="red")
    return text
