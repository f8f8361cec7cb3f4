"""Pushed events applied as they are: the state each carries, laid over the model, ordered per execution.

An EventBridge event carries what changed (CodePipeline: the pipeline execution, stage or action, its state,
the action's type and result; Step Functions: the execution's status and dates). Applying that directly
means a console reads nothing for most events, so a team of consoles does not multiply the account's reads.

Delivery is at least once and in no guaranteed order, so every change is kept per item (a pipeline
execution, a stage, an action, a Step Functions execution) with the order of the last one applied
(`EventMarks`): an older or repeated event changes nothing. CodePipeline stamps its events in whole seconds,
so within one second the later execution wins, and within one execution the later step of a run
(STARTED, then STOPPING, then an end).

What no event carries is left to a read (`Applied.reread` says why): an approval's token, a new pipeline
version's structure, stage conditions' states, a failed action's error message (its failure is told at
once, with the event's error code and summary), a stage or action the structure does not know, a state
this console does not know the meaning of.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import UTC, datetime

from console.model import (
    Action,
    Execution,
    Pipeline,
    PipelineExecution,
    PipelineState,
    Stage,
    StageCondition,
    StateMachine,
    Transition,
    TransitionKind,
    Wave,
)
from console.push import PushEvent

# CodePipeline's event states, as the API spells them for each kind.
PIPELINE_STATUS = {
    "STARTED": "InProgress",
    "RESUMED": "InProgress",
    "STOPPING": "Stopping",
    "STOPPED": "Stopped",
    "SUCCEEDED": "Succeeded",
    "FAILED": "Failed",
    "SUPERSEDED": "Superseded",
    "CANCELED": "Cancelled",
}
STAGE_STATUS = {
    "STARTED": "InProgress",
    "RESUMED": "InProgress",
    "STOPPING": "Stopping",
    "STOPPED": "Stopped",
    "SUCCEEDED": "Succeeded",
    "FAILED": "Failed",
    "CANCELED": "Cancelled",
}
ACTION_STATUS = {"STARTED": "InProgress", "SUCCEEDED": "Succeeded", "FAILED": "Failed", "ABANDONED": "Abandoned"}
EXECUTION_STATUSES = frozenset({"RUNNING", "SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED", "PENDING_REDRIVE"})

_EARLIEST = datetime.min.replace(tzinfo=UTC)
MARKS_KEPT = 512  # items remembered per resource (a pipeline's stages and actions, its recent executions)

# Why a read is still needed after an event.
TOKEN = "an approval's token"
STRUCTURE = "a new pipeline version"
CONDITIONS = "stage conditions"
UNKNOWN = "a stage or action not in the structure"
UNREADABLE = "a state this console does not know"
FAILURE = "an action's error"  # the event names the error's code, not its message: the read adds it

Order = tuple[datetime, datetime, int]


def _step(state: str | None) -> int:
    """Where a state comes in one run of an item: a start, then stopping, then an end."""
    if state in ("STARTED", "RESUMED", "RUNNING", "PENDING_REDRIVE"):
        return 0
    if state == "STOPPING":
        return 1
    return 2


def event_order(event: PushEvent) -> Order:
    """How events about one item are ordered: the event's time, then the execution's start (a later
    execution wins within a second), then the step within the run."""
    if event.source == "aws.states":
        # Step Functions' dates are in milliseconds: a start (or a redrive) at its date, an end at its stop.
        if _step(event.state) == 0:
            moment = max((t for t in (event.start_time, event.redrive_time) if t is not None), default=None)
        else:
            moment = event.stop_time
        moment = moment or event.time or _EARLIEST
        return (moment, _EARLIEST, _step(event.state))
    return (event.time or _EARLIEST, event.start_time or _EARLIEST, _step(event.state))


class EventMarks:
    """The order of the last event applied to each item of one resource (bounded: the oldest go first)."""

    def __init__(self, limit: int = MARKS_KEPT) -> None:
        self.limit = limit
        self._marks: dict[tuple[str, ...], Order] = {}

    def newer(self, item: tuple[str, ...], order: Order) -> bool:
        """True (and remembered) when `order` comes after the last event applied to `item`."""
        last = self._marks.get(item)
        if last is not None and order <= last:
            return False
        self._marks[item] = order
        if len(self._marks) > self.limit:
            oldest = min(self._marks, key=lambda k: self._marks[k])
            del self._marks[oldest]
        return True

    def __len__(self) -> int:
        return len(self._marks)


def pipeline_item(event: PushEvent) -> tuple[str, ...]:
    if event.kind == "action":
        return ("action", event.stage or "", event.action or "")
    if event.kind == "stage":
        return ("stage", event.stage or "")
    return ("execution", event.execution_id or "")


@dataclass(frozen=True, slots=True)
class PipelineApplied:
    """A pipeline's state and executions with one event laid over them, and what is left to read."""

    state: PipelineState
    executions: tuple[PipelineExecution, ...] | None
    changed: bool = False
    reread: str | None = None


def apply_pipeline_event(
    state: PipelineState,
    executions: tuple[PipelineExecution, ...] | None,
    structure: Pipeline | None,
    event: PushEvent,
    marks: EventMarks | None,
    *,
    keep: int = 20,
) -> PipelineApplied:
    """Lay a CodePipeline event over `state` (GetPipelineState as last read or pushed) and `executions`.

    With `marks`, an event older than (or the same as) the last one applied to its item changes nothing;
    without, it is applied as it is (re-applying an event after a read that may predate it).
    """
    unchanged = PipelineApplied(state, executions)
    reread = _structure_reread(state, structure, event)
    if marks is not None and not marks.newer(pipeline_item(event), event_order(event)):
        return replace(unchanged, reread=reread)
    if event.kind == "pipeline":
        status = PIPELINE_STATUS.get(event.state or "")
        if status is None or event.execution_id is None:
            return replace(unchanged, reread=reread or UNREADABLE)
        if executions is None:  # not listed yet: the listing under way will tell it
            return replace(unchanged, reread=reread)
        new_executions = _with_execution(executions, event, status, keep)
        return PipelineApplied(state, new_executions, new_executions != executions, reread)
    declared = structure.stage(event.stage) if structure is not None and event.stage else None
    if event.stage is None or (declared is None and _state_stage(state, event.stage) is None):
        return replace(unchanged, reread=UNKNOWN)
    if event.kind == "stage":
        status = STAGE_STATUS.get(event.state or "")
        if status is None:
            return replace(unchanged, reread=reread or UNREADABLE)
        stage = _state_stage(state, event.stage) or Stage(name=event.stage)
        new_stage = replace(stage, status=status, execution_id=event.execution_id or stage.execution_id)
        if new_stage.execution_id != stage.execution_id:
            # Another execution in the stage: how its conditions evaluated belongs to the one before, and no
            # event says how they evaluate for this one (a read does). Kept, they would be told as this one's.
            new_stage = replace(new_stage, conditions=tuple(_not_evaluated(c) for c in stage.conditions))
        if declared is not None and declared.conditions:
            reread = reread or CONDITIONS  # entry and exit conditions are evaluated with the stage: no event says how
        return _with_stage(state, executions, stage, new_stage, reread)
    status = ACTION_STATUS.get(event.state or "")
    if status is None:
        return replace(unchanged, reread=reread or UNREADABLE)
    stage = _state_stage(state, event.stage) or Stage(name=event.stage)
    declared_action = next((a for a in declared.actions if a.name == event.action), None) if declared else None
    action = next((a for a in stage.actions if a.name == event.action), None)
    if event.action is None or (action is None and declared_action is None):
        return replace(unchanged, reread=UNKNOWN)
    action = action or Action(name=event.action)
    if status == "InProgress":
        new_action = replace(
            action,
            status=status,
            summary="",
            token=None,  # a new run of the action: its token (an approval's) comes only from a read
            last_status_change=event.time or action.last_status_change,
            action_execution_id=None,  # a new run, whose id no event carries: the next read tells it
            external_execution_id=None,
            external_execution_url=None,
            error_code=None,
            error_message=None,
            percent_complete=None,
        )
        category = event.category or (declared_action.category if declared_action else "")
        if category == "Approval" or event.provider == "Manual":
            reread = reread or TOKEN
    else:
        new_action = replace(
            action,
            status=status,
            summary=event.summary or "",
            token=None,
            last_status_change=event.time or action.last_status_change,
            external_execution_id=event.external_id,
            external_execution_url=event.external_url,
            error_code=event.error_code,
        )
        if status == "Failed":
            # Told at once, with the error's code and the summary the event carries: a read a moment later
            # may already show the stage retried or rolled back, and the failure would never be told.
            # errorDetails.message is only in GetPipelineState: that read adds it to the picture.
            new_action = replace(new_action, error_message=event.summary or None)
            reread = reread or FAILURE
    actions = tuple(new_action if a.name == action.name else a for a in stage.actions)
    if all(a.name != action.name for a in stage.actions):
        actions = (*actions, new_action)
    return _with_stage(state, executions, stage, replace(stage, actions=actions), reread)


def _not_evaluated(condition: StageCondition) -> StageCondition:
    """The conditions as declared, with no evaluation (no status, summary or rule status)."""
    conditions = tuple(
        replace(
            c,
            status=None,
            summary="",
            last_status_change=None,
            rules=tuple(replace(r, status=None, summary="", last_status_change=None) for r in c.rules),
        )
        for c in condition.conditions
    )
    return replace(condition, conditions=conditions, status=None, summary="")


def _structure_reread(state: PipelineState, structure: Pipeline | None, event: PushEvent) -> str | None:
    known = structure.version if structure is not None and structure.version is not None else state.version
    if event.version is not None and known is not None and event.version > known:
        return STRUCTURE
    return None


def _state_stage(state: PipelineState, name: str) -> Stage | None:
    return next((s for s in state.stages if s.name == name), None)


def _with_stage(
    state: PipelineState,
    executions: tuple[PipelineExecution, ...] | None,
    old: Stage,
    new: Stage,
    reread: str | None,
) -> PipelineApplied:
    if old == new:
        return PipelineApplied(state, executions, False, reread)
    if any(s.name == old.name for s in state.stages):
        stages = tuple(new if s.name == old.name else s for s in state.stages)
    else:
        stages = (*state.stages, new)
    return PipelineApplied(replace(state, stages=stages), executions, True, reread)


def _with_execution(
    executions: tuple[PipelineExecution, ...], event: PushEvent, status: str, keep: int
) -> tuple[PipelineExecution, ...]:
    assert event.execution_id is not None
    known = next((e for e in executions if e.id == event.execution_id), None)
    if known is not None:
        if known.status == status:
            return executions
        stop_reason = event.summary or known.stop_reason
        updated = replace(known, status=status, updated=event.time or known.updated, stop_reason=stop_reason)
        return tuple(updated if e.id == known.id else e for e in executions)
    rollback = event.execution_type == "ROLLBACK"
    new = PipelineExecution(
        id=event.execution_id,
        status=status,
        started=event.start_time or event.time,
        updated=event.time,
        trigger_type=event.trigger_type or "",
        trigger_detail=event.trigger_detail or "",
        execution_type="ROLLBACK" if rollback else "STANDARD",
        rollback_target=event.rollback_target if rollback else None,
    )
    ordered = sorted((*executions, new), key=lambda e: e.started or _EARLIEST, reverse=True)
    return tuple(ordered[:keep])


def told_alone(
    event: PushEvent, target: str, time: datetime, wave: Wave | None, machine_name: str | None = None
) -> Transition | None:
    """The transition an event tells by itself, for a resource this console has not read yet (its first read
    is on the wire or waits for the budget, which in a large team takes a while). That read tells nothing,
    since it is no change: without this, what the event announced would never be shown. The state it moved
    from is not known (`from` is empty); None for a state this console does not know."""
    kind: TransitionKind
    if event.source == "aws.states":
        if event.execution_arn is None or event.state not in EXECUTION_STATUSES:
            return None
        machine = machine_name or (event.state_machine_arn or "").rsplit(":", 1)[-1]
        name = event.name or event.execution_arn.rsplit(":", 1)[-1]
        running = event.state == "RUNNING"
        return Transition(
            time=time,
            target=target,
            kind=TransitionKind.SFN_EXECUTION,
            resource=f"{machine}/{name}",
            execution=event.execution_arn,
            wave=wave,
            from_status=None,
            to_status=event.state,
            detail="" if running else (event.summary or ""),
            source="push",
        )
    if event.pipeline is None:
        return None
    if event.kind == "pipeline":
        kind, resource = TransitionKind.PIPELINE_EXECUTION, event.pipeline
        status = PIPELINE_STATUS.get(event.state or "")
        detail = (event.trigger_type or "") if status == "InProgress" else (event.summary or "")
    elif event.kind == "stage" and event.stage:
        kind, resource = TransitionKind.STAGE, f"{event.pipeline}/{event.stage}"
        status = STAGE_STATUS.get(event.state or "")
        detail = ""
    elif event.kind == "action" and event.stage and event.action:
        kind, status = TransitionKind.ACTION, ACTION_STATUS.get(event.state or "")
        resource = f"{event.pipeline}/{event.stage}/{event.action}"
        detail = ": ".join(p for p in (event.error_code, event.summary) if p) if status != "InProgress" else ""
    else:
        return None
    if status is None:
        return None
    return Transition(
        time=time,
        target=target,
        kind=kind,
        resource=resource,
        execution=event.execution_id,
        wave=None if kind is TransitionKind.PIPELINE_EXECUTION else wave,
        from_status=None,
        to_status=status,
        detail=detail,
        source="push",
    )


# --- Step Functions ---------------------------------------------------------------------------------------


def execution_item(event: PushEvent) -> tuple[str, ...]:
    return ("execution", event.execution_arn or "")


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
    ordered = sorted((*machine.executions, new), key=lambda e: e.started or _EARLIEST, reverse=True)[:keep]
    if new not in ordered:
        return None
    return replace(machine, executions=tuple(ordered))


def listed_order(execution: Execution) -> Order:
    """The order of what ListExecutions showed of an execution, comparable with `event_order`."""
    if execution.is_running or execution.stopped is None:
        return (execution.started or _EARLIEST, _EARLIEST, 0)
    return (execution.stopped, _EARLIEST, 2)


def newer_than_read(state: PipelineState, executions: tuple[PipelineExecution, ...] | None, event: PushEvent) -> bool:
    """Whether a CodePipeline event is newer than what a read shows of its item (the read was sent before the
    event came, so it may or may not show it). The read's times are AWS's, in milliseconds; the event's are
    whole seconds: within the same second the later step of a run wins."""
    step = _step(event.state)
    if event.kind == "pipeline":
        listed = next((e for e in executions or () if e.id == event.execution_id), None)
        if listed is None:
            return True
        return _after(event.time, step, listed.updated, _status_step(listed.status))
    stage = _state_stage(state, event.stage or "")
    if stage is None:
        return True
    if event.kind == "stage":
        if stage.execution_id is not None and stage.execution_id != event.execution_id:
            # Another execution in the stage: the later execution is the newer, whatever the step.
            shown = next((e for e in executions or () if e.id == stage.execution_id), None)
            if shown is not None and shown.started is not None and event.start_time is not None:
                return event.start_time > shown.started
        return _after(event.time, step, action_order(stage, None), _status_step(stage.status))
    action = next((a for a in stage.actions if a.name == event.action), None)
    if action is None:
        return True
    return _after(event.time, step, action.last_status_change, _status_step(action.status))


def _status_step(status: str | None) -> int:
    if status == "InProgress":
        return 0
    return 1 if status == "Stopping" else 2


def _after(event_time: datetime | None, event_step: int, read_time: datetime | None, read_step: int) -> bool:
    if read_time is None or event_time is None:
        return read_time is None
    read_second = read_time.replace(microsecond=0)
    if event_time.replace(microsecond=0) != read_second:
        return event_time > read_second
    return event_step > read_step


def action_order(stage: Stage | None, action_name: str | None) -> datetime | None:
    """When a read last saw the action (or, for a stage, any of its actions) change."""
    if stage is None:
        return None
    moments: Iterable[datetime | None]
    if action_name is None:
        moments = (a.last_status_change for a in stage.actions)
    else:
        moments = (a.last_status_change for a in stage.actions if a.name == action_name)
    return max((m for m in moments if m is not None), default=None)
