"""CodePipeline's pushed events applied as they are: the state each carries, laid over the pipeline, ordered per
item (a pipeline execution, a stage, an action) with `EventMarks` (`console/polling/events_apply.py`).

An EventBridge event carries what changed (the pipeline execution, stage or action, its state, the action's type
and result). Applying that directly means a console reads nothing for most events, so a team of consoles does
not multiply the account's reads. CodePipeline stamps its events in whole seconds, so within one second the later
execution wins, and within one execution the later step of a run (STARTED, then STOPPING, then an end).

What no event carries is left to a read (`Applied.reread` says why): an approval's token, a new pipeline
version's structure, stage conditions' states, a failed action's error message (its failure is told at
once, with the event's error code and summary), a stage or action the structure does not know, a state
this console does not know the meaning of.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime

from console.codepipeline.model import (
    Action,
    Pipeline,
    PipelineExecution,
    PipelineState,
    PipelineTransition,
    Stage,
    StageCondition,
)
from console.model import Transition, Wave
from console.polling.events_apply import EARLIEST, RUN, EventMarks, event_order, run_step
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


# Why a read is still needed after an event.
TOKEN = "an approval's token"
STRUCTURE = "a new pipeline version"
CONDITIONS = "stage conditions"
UNKNOWN = "a stage or action not in the structure"
UNREADABLE = "a state this console does not know"
FAILURE = "an action's error"  # the event names the error's code, not its message: the read adds it


def pipeline_item(event: PushEvent) -> tuple[str, ...]:
    if event.kind == "action":
        return ("action", event.stage or "", event.action or "")
    if event.kind == "stage":
        return ("stage", event.stage or "")
    return (RUN, event.execution_id or "")


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


def told_alone(event: PushEvent, target: str, time: datetime, wave: Wave | None) -> Transition | None:
    """The transition a CodePipeline event tells by itself, for a pipeline this console has not read yet (its
    first read is on the wire or waits for the budget, which in a large team takes a while). That read tells
    nothing, since it is no change: without this, what the event announced would never be shown. The state it
    moved from is not known (`from` is empty); None for a state this console does not know."""
    if event.pipeline is None:
        return None
    kind: PipelineTransition
    if event.kind == "pipeline":
        kind, resource = PipelineTransition.PIPELINE_EXECUTION, event.pipeline
        status = PIPELINE_STATUS.get(event.state or "")
        detail = (event.trigger_type or "") if status == "InProgress" else (event.summary or "")
    elif event.kind == "stage" and event.stage:
        kind, resource = PipelineTransition.STAGE, f"{event.pipeline}/{event.stage}"
        status = STAGE_STATUS.get(event.state or "")
        detail = ""
    elif event.kind == "action" and event.stage and event.action:
        kind, status = PipelineTransition.ACTION, ACTION_STATUS.get(event.state or "")
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
        wave=None if kind is PipelineTransition.PIPELINE_EXECUTION else wave,
        from_status=None,
        to_status=status,
        detail=detail,
        source="push",
    )


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
    ordered = sorted((*executions, new), key=lambda e: e.started or EARLIEST, reverse=True)
    return tuple(ordered[:keep])


# --- Step Functions ---------------------------------------------------------------------------------------


def newer_than_read(state: PipelineState, executions: tuple[PipelineExecution, ...] | None, event: PushEvent) -> bool:
    """Whether a CodePipeline event is newer than what a read shows of its item (the read was sent before the
    event came, so it may or may not show it). The read's times are AWS's, in milliseconds; the event's are
    whole seconds: within the same second the later step of a run wins."""
    step = run_step(event.state)
    if event.kind == "pipeline":
        listed = next((e for e in executions or () if e.id == event.execution_id), None)
        if listed is None:
            return True
        return _after(event.time, step, listed.updated, _status_step(listed.status))
    stage = _state_stage(state, event.stage or "")
    if stage is None:
        return True
    if stage.execution_id is not None and event.execution_id is not None and stage.execution_id != event.execution_id:
        # Another execution in the stage (its actions included): the later execution is the newer, whatever the
        # times or the steps (in QUEUED mode the next run enters a stage in the second the previous one leaves it).
        started = {e.id: e.started for e in executions or ()}
        shown, evented = started.get(stage.execution_id), event.start_time or started.get(event.execution_id)
        if shown is not None and evented is not None:
            return evented > shown
    if event.kind == "stage":
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
