"""Step Functions' pushed events applied as they are: an execution's status and dates, laid over its state
machine's executions, ordered per execution with `EventMarks` (`console/polling/events_apply.py`)."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from console.model import Transition, Wave
from console.polling.events_apply import EARLIEST, RUN, EventMarks, Order, run_step
from console.push import PushEvent
from console.stepfunctions.model import Execution, MachineTransition, StateMachine

EXECUTION_STATUSES = frozenset({"RUNNING", "SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED", "PENDING_REDRIVE"})


def event_order(event: PushEvent) -> Order:
    """How events about one execution are ordered: Step Functions' dates are in milliseconds, a start (or a
    redrive) at its date, an end at its stop; then the step within the run."""
    if run_step(event.state) == 0:
        moment = max((t for t in (event.start_time, event.redrive_time) if t is not None), default=None)
    else:
        moment = event.stop_time
    moment = moment or event.time or EARLIEST
    return (moment, EARLIEST, run_step(event.state))


def execution_item(event: PushEvent) -> tuple[str, ...]:
    return (RUN, event.execution_arn or "")


def told_alone(
    event: PushEvent, target: str, time: datetime, wave: Wave | None, machine_name: str | None = None
) -> Transition | None:
    """The transition an execution status change tells by itself, for a state machine this console has not
    listed yet (its first listing waits for the budget in a large team, and tells nothing: it is no change).
    The status it moved from is not known (`from` is empty); None for a status this console does not know."""
    if event.execution_arn is None or event.state not in EXECUTION_STATUSES:
        return None
    machine = machine_name or (event.state_machine_arn or "").rsplit(":", 1)[-1]
    name = event.name or event.execution_arn.rsplit(":", 1)[-1]
    return Transition(
        time=time,
        target=target,
        kind=MachineTransition.SFN_EXECUTION,
        resource=f"{machine}/{name}",
        execution=event.execution_arn,
        wave=wave,
        from_status=None,
        to_status=event.state,
        detail="" if event.state == "RUNNING" else (event.summary or ""),
        source="push",
    )


def apply_execution_event(
    machine: StateMachine, event: PushEvent, marks: EventMarks | None, *, keep: int = 25
) -> StateMachine | None:
    """`machine` with a Step Functions execution status change laid over its executions; None when the
    event changes nothing (older than one applied, a repeat, an execution older than every one listed)."""
    if event.execution_arn is None or event.state not in EXECUTION_STATUSES:
        return None
    if marks is not None and not marks.newer(execution_item(event), event_order(event)):
        return None
    known = next((e for e in machine.executions if e.arn == event.execution_arn), None)
    running = event.state == "RUNNING"
    error = None if running else event.error_code
    cause = None if running else event.cause
    if known is not None:
        updated = replace(
            known,
            status=event.state,
            started=known.started or event.start_time,
            stopped=None if running else event.stop_time,
            error=error,
            cause=cause,
        )
        if updated == known:
            return None
        executions = tuple(updated if e.arn == known.arn else e for e in machine.executions)
        return replace(machine, executions=executions)
    new = Execution(
        arn=event.execution_arn,
        name=event.name or event.execution_arn.rsplit(":", 1)[-1],
        state_machine_arn=machine.arn,
        status=event.state,
        started=event.start_time or event.time,
        stopped=None if running else event.stop_time,
        error=error,
        cause=cause,
    )
    ordered = sorted((*machine.executions, new), key=lambda e: e.started or EARLIEST, reverse=True)[:keep]
    if new not in ordered:
        return None
    return replace(machine, executions=tuple(ordered))


def listed_order(execution: Execution) -> Order:
    """The order of what ListExecutions showed of an execution, comparable with `event_order`."""
    if execution.is_running or execution.stopped is None:
        return (execution.started or EARLIEST, EARLIEST, 0)
    return (execution.stopped, EARLIEST, 2)
