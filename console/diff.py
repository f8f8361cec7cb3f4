"""What changed between two reads of a resource, as Transitions in the order they happened.

The watcher reads a pipeline or a state machine, builds the new model object and asks this module what is
different from the previous one. Nothing here does IO; every function is pure and works on model objects.

Order within one read of a pipeline: executions that started, then each stage in pipeline order (its entry
conditions first, a stage that starts before its actions, its success and failure conditions after them, a
stage that ends after those; actions by run order), then executions that ended. A read that catches several
steps at once therefore still tells them in the order they happened.

The first read of a resource is not a change: it produces no transitions. Untrusted text (summaries, errors,
causes, names) is copied as it is; rendering it safely is the printer's job. Task tokens are not: the history
cursor stores every event with the execution's tokens redacted (console/tokens.py), so nothing built from it,
transitions, approvals or the execution screen, can show one.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from console.codepipeline.model import (
    Action,
    ConditionKind,
    Pipeline,
    PipelineExecution,
    PipelineTransition,
    Stage,
    StageCondition,
)
from console.model import Transition
from console.stepfunctions.model import Execution, HistoryEvent, MachineTransition, StateMachine
from console.tokens import handed_down, redact_event, started_by, tokens_in

PIPELINE_EXECUTION = PipelineTransition.PIPELINE_EXECUTION
STAGE = PipelineTransition.STAGE
ACTION = PipelineTransition.ACTION
SFN_EXECUTION = MachineTransition.SFN_EXECUTION
SFN_STATE = MachineTransition.SFN_STATE
CONDITION = PipelineTransition.CONDITION

# Statuses of something that has started and runs: its transition goes before those of its parts.
_STARTING = frozenset({"InProgress", "RUNNING", "PENDING_REDRIVE"})

_EXECUTION_ENDED = frozenset({"ExecutionSucceeded", "ExecutionFailed", "ExecutionAborted", "ExecutionTimedOut"})
_STATE_PROBLEMS = frozenset(
    {"TaskFailed", "TaskTimedOut", "TaskStartFailed", "TaskSubmitFailed", "LambdaFunctionFailed",
     "LambdaFunctionTimedOut", "ActivityFailed", "ActivityTimedOut", "ExecutionFailed", "ExecutionTimedOut",
     "ExecutionAborted", "MapRunFailed"}
)  # fmt: skip


def is_wait_for_token(resource: str | None) -> bool:
    """A Task resource that pauses until someone calls SendTaskSuccess/Failure with its token."""
    return resource is not None and resource.endswith(".waitForTaskToken")


# --- CodePipeline -------------------------------------------------------------------------------------------


def pipeline_transitions(old: Pipeline | None, new: Pipeline, time: datetime, source: str) -> list[Transition]:
    """The changes from `old` to `new` (two reads of the same pipeline), in the order they happened."""
    if old is None or old.read_at is None:
        return []
    started: list[Transition] = []
    ended: list[Transition] = []
    for execution, before in _execution_changes(old.executions, new.executions):
        transition = Transition(
            time=time,
            target=new.target,
            kind=PIPELINE_EXECUTION,
            resource=new.name,
            execution=execution.id,
            wave=None,
            from_status=before,
            to_status=execution.status,
            detail=_pipeline_execution_detail(execution),
            source=source,
        )
        (started if execution.status in _STARTING else ended).append(transition)
    middle: list[Transition] = []
    for stage in new.stages:
        middle.extend(_stage_transitions(new, old.stage(stage.name), stage, time, source))
    return started + middle + ended


def _execution_changes(
    old: Sequence[PipelineExecution], new: Sequence[PipelineExecution]
) -> Iterable[tuple[PipelineExecution, str | None]]:
    """(execution, status before) for every execution that is new or changed, oldest first."""
    before = {e.id: e for e in old}
    newest_known = max((e.started for e in old if e.started is not None), default=None)
    for execution in reversed(new):  # AWS lists newest first
        previous = before.get(execution.id)
        if previous is None:
            # An old execution can show up when the listed window moves back (a deleted newer one); only an
            # execution that started after everything seen so far is new.
            if newest_known is not None and execution.started is not None and execution.started < newest_known:
                continue
            yield execution, None
        elif previous.status != execution.status:
            yield execution, previous.status


def _pipeline_execution_detail(execution: PipelineExecution) -> str:
    parts: list[str] = []
    if execution.status in _STARTING or execution.status is None:
        if execution.is_rollback:
            target = f" to {execution.rollback_target}" if execution.rollback_target else ""
            parts.append(f"rollback{target}")
        if execution.trigger_type:
            parts.append(execution.trigger_type)
        revision = execution.revision
        if revision is not None:
            parts.append(f"{revision.short} {revision.summary}".strip())
    else:
        if execution.stop_reason:
            parts.append(execution.stop_reason)
        if execution.status_summary:
            parts.append(execution.status_summary)
    return " · ".join(parts)


def _stage_transitions(
    pipeline: Pipeline, before: Stage | None, stage: Stage, time: datetime, source: str
) -> list[Transition]:
    previous = before or Stage(stage.name)
    out: list[Transition] = []
    resource = f"{pipeline.name}/{stage.name}"
    if previous.inbound.enabled != stage.inbound.enabled and before is not None:
        inbound = stage.inbound
        who = f" by {inbound.last_changed_by}" if inbound.last_changed_by else ""
        detail = f"promotion resumed{who}" if inbound.enabled else f"promotion paused{who}: {inbound.disabled_reason}"
        out.append(
            Transition(
                time=time,
                target=pipeline.target,
                kind=STAGE,
                resource=resource,
                execution=stage.execution_id,
                wave=stage.wave,
                from_status="Enabled" if previous.inbound.enabled else "Disabled",
                to_status="Enabled" if inbound.enabled else "Disabled",
                detail=detail,
                source=source,
            )
        )
    stage_change: Transition | None = None
    same_execution = previous.execution_id == stage.execution_id
    if stage.status is not None and (not same_execution or previous.status != stage.status):
        stage_change = Transition(
            time=time,
            target=pipeline.target,
            kind=STAGE,
            resource=resource,
            execution=stage.execution_id,
            wave=stage.wave,
            from_status=previous.status if same_execution else None,
            to_status=stage.status,
            detail=_stage_detail(stage),
            source=source,
        )
    actions: list[Transition] = []
    previous_actions = {a.name: a for a in previous.actions}
    ordered = sorted(enumerate(stage.actions), key=lambda item: (item[1].run_order, item[0]))
    for _, action in ordered:
        change = _action_transition(pipeline, stage, previous_actions.get(action.name), action, time, source)
        if change is not None:
            actions.append(change)
    entry: list[Transition] = []
    after: list[Transition] = []
    previous_conditions = {c.kind: c for c in previous.conditions}
    for condition in stage.conditions:
        change = _condition_transition(
            pipeline, stage, previous_conditions.get(condition.kind), condition, same_execution, time, source
        )
        if change is not None:
            (entry if condition.kind is ConditionKind.BEFORE_ENTRY else after).append(change)
    if stage_change is not None and stage_change.to_status in _STARTING:
        return [*out, *entry, stage_change, *actions, *after]
    return [*out, *entry, *actions, *after, *([stage_change] if stage_change else [])]


def _condition_transition(
    pipeline: Pipeline,
    stage: Stage,
    before: StageCondition | None,
    condition: StageCondition,
    same_execution: bool,
    time: datetime,
    source: str,
) -> Transition | None:
    """A stage's conditions of one kind changed status: started being evaluated, met, failed, overridden."""
    if condition.status is None:
        return None
    previous = before.status if before is not None and same_execution else None
    if previous == condition.status and same_execution:
        return None
    return Transition(
        time=time,
        target=pipeline.target,
        kind=CONDITION,
        resource=f"{pipeline.name}/{stage.name}",
        execution=stage.execution_id,
        wave=stage.wave,
        from_status=previous,
        to_status=condition.status,
        detail=condition_detail(condition),
        source=source,
    )


def condition_detail(condition: StageCondition) -> str:
    """`before entry (FAIL) · …summary`: which conditions, their result, and AWS's words on them."""
    results = "/".join(condition.results)
    head = f"{condition.kind.label} ({results})" if results else condition.kind.label
    failed = next((r for r in condition.rules if r.status == "Failed"), None)
    summary = condition.summary
    if failed is not None and failed.summary and failed.summary not in summary:
        summary = f"{failed.name}: {failed.summary}" + (f"; {summary}" if summary else "")
    return f"{head} · {summary}" if summary else head


def _stage_detail(stage: Stage) -> str:
    if stage.execution_type == "ROLLBACK":
        return "rollback"
    failed = next((a for a in stage.actions if a.status == "Failed"), None)
    if stage.status == "Failed" and failed is not None:
        return f"{failed.name} failed"
    return ""


def _action_transition(
    pipeline: Pipeline, stage: Stage, before: Action | None, action: Action, time: datetime, source: str
) -> Transition | None:
    if action.status is None:
        return None
    previous = before or Action(action.name)
    # An action whose run an event told has no run id (no event carries it): the read that first shows the id
    # shows that same run, and tells only what changed since.
    same_run = previous.action_execution_id in (None, action.action_execution_id)
    if same_run and previous.status == action.status and previous.awaiting_approval == action.awaiting_approval:
        # Its token coming or going tells nothing more: a manual approval waits whether or not its token is known
        # (an event or a teammate's shared read carries none; a read brings it).
        return None
    # Same run and status, but now waiting for a person: an action read without its declaration whose token came.
    from_status = previous.status if same_run else None
    return Transition(
        time=time,
        target=pipeline.target,
        kind=ACTION,
        resource=f"{pipeline.name}/{stage.name}/{action.name}",
        execution=stage.execution_id,
        wave=stage.wave,
        from_status=from_status,
        to_status=action.status,
        detail=_action_detail(action),
        source=source,
    )


def _action_detail(action: Action) -> str:
    if action.awaiting_approval:
        custom = dict(action.configuration).get("CustomData", "")
        return f"waiting for approval: {custom}" if custom else "waiting for approval"
    if action.error_message or action.error_code:
        code = f"{action.error_code}: " if action.error_code else ""
        return f"{code}{action.error_message or ''}"
    return action.summary


# --- Step Functions -----------------------------------------------------------------------------------------


def state_machine_transitions(
    old: StateMachine | None, new: StateMachine, time: datetime, source: str
) -> list[Transition]:
    """Executions that started or changed status between two reads of a state machine, oldest first."""
    if old is None or old.read_at is None:
        return []
    before = {e.arn: e for e in old.executions}
    newest_known = max((e.started for e in old.executions if e.started is not None), default=None)
    out: list[Transition] = []
    for execution in reversed(new.executions):
        previous = before.get(execution.arn)
        if previous is None:
            if newest_known is not None and execution.started is not None and execution.started < newest_known:
                continue
            from_status = None
        elif previous.status == execution.status:
            continue
        else:
            from_status = previous.status
        out.append(
            Transition(
                time=time,
                target=new.target,
                kind=SFN_EXECUTION,
                resource=f"{new.name}/{execution.name}",
                execution=execution.arn,
                wave=new.wave,
                from_status=from_status,
                to_status=execution.status,
                detail=_execution_detail(execution),
                source=source,
            )
        )
    return out


def _execution_detail(execution: Execution) -> str:
    if execution.error or execution.cause:
        return ": ".join(part for part in (execution.error, execution.cause) if part)
    if execution.redrive_count and execution.is_running:
        return f"redriven ({execution.redrive_count})"
    return ""


@dataclass
class HistoryCursor:
    """What has been read of one execution's history: the events, and the state each event belongs to.

    Events arrive in batches (incremental reads); `add` takes the next batch, keeps only events newer than
    the last one seen (so a batch that overlaps is harmless) and returns the transitions it shows.
    """

    events: list[HistoryEvent] = field(default_factory=list)
    state_of: dict[int, str] = field(default_factory=dict)
    current_state: str | None = None
    ended: bool = False
    # The execution's task tokens seen so far; every event is stored with them redacted.
    tokens: set[str] = field(default_factory=set, repr=False)
    # Holds events another console shared (console/shared_reads.py): their tokens came redacted and are unknown
    # here, so this console's next read of its own takes the whole history again, to redact by value what follows.
    shared: bool = False

    @property
    def last_id(self) -> int:
        return self.events[-1].id if self.events else 0

    def add(
        self,
        events: Iterable[HistoryEvent],
        machine: StateMachine,
        execution: Execution,
        time: datetime,
        source: str,
        *,
        emit: bool = True,
        tokens_of: Callable[[str], Iterable[str]] | None = None,
    ) -> list[Transition]:
        """`tokens_of(execution_arn)`: the tokens already known of another execution (a child execution's
        input may carry its parent's token, which is then redacted by value too)."""
        out: list[Transition] = []
        resource = f"{machine.name}/{execution.name}"
        for event in sorted(events, key=lambda e: e.id):
            if event.id <= self.last_id:
                continue
            state = self._state(event)
            if event.type == "TaskScheduled" and is_wait_for_token(event.resource):
                token_state = next((s for s in machine.token_states if s.name == state), None)
                self.tokens |= tokens_in(event.parameters, token_state)
            elif event.type == "ExecutionStarted":
                parent = started_by(event.input)
                inherited = tokens_of(parent) if parent is not None and tokens_of is not None else ()
                self.tokens |= handed_down(event.input, inherited)
            event = redact_event(event, self.tokens)
            self.events.append(event)
            if event.type in _EXECUTION_ENDED:
                self.ended = True
            change = self._transition(event, state, emit)
            if change is None:
                continue
            before, after, detail = change
            out.append(
                Transition(
                    time=time,
                    target=machine.target,
                    kind=SFN_STATE,
                    resource=resource,
                    execution=execution.arn,
                    wave=machine.wave,
                    from_status=before,
                    to_status=after,
                    detail=detail,
                    source=source,
                )
            )
        return out

    def _state(self, event: HistoryEvent) -> str | None:
        if event.type.endswith("StateEntered") and event.state_name:
            self.state_of[event.id] = event.state_name
            return event.state_name
        state = event.state_name or self.state_of.get(event.previous_id)
        if state is not None:
            self.state_of[event.id] = state
        return state

    def _transition(self, event: HistoryEvent, state: str | None, emit: bool) -> tuple[str | None, str, str] | None:
        if event.type.endswith("StateEntered") and state is not None:
            before = self.current_state
            self.current_state = state
            return (before, state, "") if emit else None
        if not emit or state is None:
            return None
        if event.type == "TaskScheduled" and is_wait_for_token(event.resource):
            ask = approval_request(event.parameters)
            return state, state, f"waiting for a person: {ask}" if ask else "waiting for a person"
        if event.type in _STATE_PROBLEMS:
            detail = ": ".join(part for part in (event.type, event.error, event.cause) if part)
            return state, state, detail
        return None


def approval_request(parameters: str | None) -> str:
    """What a `.waitForTaskToken` task asks a person, from its resolved Parameters (a JSON string).

    The author chooses the shape; the token itself is never part of the answer. A string under a key that
    reads like a question wins; otherwise the parameters without tokens and queue plumbing, as compact JSON.
    """
    if not parameters:
        return ""
    try:
        value = json.loads(parameters)
    except ValueError:
        return parameters
    for key in ("ask", "question", "prompt", "message", "summary", "description"):
        found = _find(value, key)
        if isinstance(found, str) and found:
            return found
    cleaned = _without_plumbing(value)
    if cleaned in ({}, [], None):
        return ""
    if isinstance(cleaned, dict) and len(cleaned) == 1:
        cleaned = next(iter(cleaned.values()))
    if isinstance(cleaned, str):
        return cleaned
    return json.dumps(cleaned, separators=(",", ":"), sort_keys=True)


def find_in_parameters(parameters: str | None, key: str) -> object:
    """The first value under `key` (case-insensitive) anywhere in a JSON parameters string, or None."""
    if not parameters:
        return None
    try:
        return _find(json.loads(parameters), key)
    except ValueError:
        return None


def _find(value: object, key: str) -> object:
    if isinstance(value, str) and value.startswith(("{", "[")):
        # SQS MessageBody and Lambda Payload are often JSON inside a string.
        try:
            value = json.loads(value)
        except ValueError:
            return None
    if isinstance(value, dict):
        for k, v in value.items():
            if isinstance(k, str) and k.lower() == key:
                return v
        for v in value.values():
            found = _find(v, key)
            if found is not None:
                return found
    if isinstance(value, list):
        for v in value:
            found = _find(v, key)
            if found is not None:
                return found
    return None


_PLUMBING = ("token", "queueurl", "functionname", "topicarn", "qualifier", "messagegroupid")


def _without_plumbing(value: object) -> object:
    if isinstance(value, dict):
        return {
            k: _without_plumbing(v)
            for k, v in value.items()
            if not (isinstance(k, str) and any(p in k.lower() for p in _PLUMBING))
        }
    if isinstance(value, list):
        return [_without_plumbing(v) for v in value]
    return value
