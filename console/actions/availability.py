"""Whether an action makes sense for a selection, judged from the picture alone (no IO, no waiting).

Screens call it for every key on every redraw to grey out what cannot run now and say why; the gate's plan
and execute check again against fresh state, so a picture that is a little old can only grey out too much
or too little, never send anything.
"""

from __future__ import annotations

from collections.abc import Iterable

from console.actions.plan import ActionKind, ActionPlan, Availability
from console.actions.preconditions import Preconditions
from console.codepipeline.actions import RUNNING_PIPELINE
from console.model import FleetState, Pipeline, Service, Stage, StateMachine
from console.resources import Selection
from console.stepfunctions.actions import FAILED_EXECUTION


def availability(
    kind: ActionKind,
    selection: Selection,
    state: FleetState,
    preconditions: Preconditions,
    in_flight: Iterable[ActionPlan],
) -> Availability:
    """Whether `kind` makes sense for `selection` in `state`, and why not."""
    refusal = preconditions.read_only_refusal(selection.target)
    if refusal:
        return Availability(False, refusal)
    if not preconditions.knows(selection.target):
        return Availability(False, f"unknown target {selection.target}")
    busy = next((p for p in in_flight if overlaps(p, kind, selection)), None)
    if busy is not None:
        return Availability(False, f"{busy.kind.label.lower()} is being sent")
    if selection.pipeline is not None:
        pipeline = state.pipelines.get(selection.key)
        if pipeline is None:
            return Availability(False, "not loaded yet")
        why = pipeline_unavailable(kind, selection, pipeline)
    else:
        machine = state.state_machines.get(selection.key)
        if machine is None:
            return Availability(False, "not loaded yet")
        rollback = preconditions.context.rollback_machines.get(machine.name) or machine.rollback_state_machine
        why = machine_unavailable(kind, selection, machine, state, rollback)
    return Availability(why is None, why or "")


def overlaps(plan: ActionPlan, kind: ActionKind, selection: Selection) -> bool:
    """Whether an in-flight plan acts on what `selection` names with the same family of action."""
    if plan.kind.family != kind.family or plan.selection.key != selection.key:
        return False
    mine, theirs = selection.resource + "/", plan.selection.resource + "/"
    return mine.startswith(theirs) or theirs.startswith(mine)


def pipeline_unavailable(kind: ActionKind, selection: Selection, pipeline: Pipeline) -> str | None:
    """Why `kind` cannot run on the pipeline selection now, or None."""
    stage = pipeline.stage(selection.stage) if selection.stage else None
    if selection.stage is not None and stage is None:
        return f"no stage {selection.stage}"
    if kind.answers:
        stages = [stage] if stage is not None else list(pipeline.stages)
        actions = [a for s in stages for a in s.actions if selection.action in (None, a.name)]
        waiting = [a for a in actions if a.awaiting_approval]
        if not waiting:
            return "nothing is waiting for approval"
        if len(waiting) > 1:
            return "several approvals wait: select one"
        return None
    if kind in (ActionKind.STOP, ActionKind.STOP_ABANDON):
        statuses: list[str | None] = []
        if selection.execution_id is not None:
            execution = pipeline.execution(selection.execution_id)
            statuses = [execution.status if execution else None]
        elif stage is not None:
            statuses = [stage.status]
        else:
            statuses = [*(e.status for e in pipeline.executions), *(s.status for s in pipeline.stages)]
        if kind is ActionKind.STOP and "InProgress" in statuses:
            return None
        if kind is ActionKind.STOP_ABANDON and any(s in RUNNING_PIPELINE for s in statuses):
            return None
        if kind is ActionKind.STOP and "Stopping" in statuses:
            return "already stopping (stop and abandon instead)"
        return "nothing is running"
    if stage is None:
        return "select a stage"
    first = bool(pipeline.stages) and pipeline.stages[0].name == stage.name
    if kind is ActionKind.ROLLBACK:
        if first:
            return "a source stage cannot be rolled back"
        if pipeline.execution_mode == "PARALLEL":
            return "not in PARALLEL mode"
        if stage.status in RUNNING_PIPELINE:
            return "the stage is still running"
        return None
    if kind is ActionKind.RETRY:
        return None if stage.status == "Failed" else "only a failed stage can be retried"
    if kind is ActionKind.OVERRIDE:
        return override_unavailable(stage)
    if first:
        return "the first stage has no inbound transition"
    if kind is ActionKind.PAUSE:
        return None if stage.inbound.enabled else "promotion is already paused"
    return None if not stage.inbound.enabled else "promotion is not paused"


def override_unavailable(stage: Stage) -> str | None:
    """Why no condition of `stage` can be overridden now (AWS's own refusals, said before asking), or None."""
    if not stage.conditions:
        return "the stage has no conditions"
    held = stage.held_by
    if held is None:
        return "no entry or success condition is being evaluated"
    return held.not_overridable


def machine_unavailable(
    kind: ActionKind, selection: Selection, machine: StateMachine, state: FleetState, rollback: str | None
) -> str | None:
    """Why `kind` cannot run on the state machine selection now, or None. `rollback`: its rollback machine."""
    if kind in (ActionKind.PAUSE, ActionKind.RESUME):
        return "pausing promotion is for pipeline stages"
    if kind is ActionKind.STOP_ABANDON:
        return "abandon is for pipeline executions; use stop"
    if kind is ActionKind.ROLLBACK:
        if rollback is None:
            return f"no rollback state machine is defined for {machine.name}"
        if not any(e.status == "SUCCEEDED" for e in machine.executions):
            return "no execution has succeeded yet"
        return None
    if selection.execution_arn is None:
        return "select an execution"
    execution = next((e for e in machine.executions if e.arn == selection.execution_arn), None)
    if kind.answers:
        waiting = any(
            a.kind == Service.STEPFUNCTIONS and a.target == selection.target and a.execution == selection.execution_arn
            for a in state.approvals
        )
        return None if waiting else "nothing is waiting for approval"
    if execution is None:
        return "not loaded yet"
    if kind is ActionKind.STOP:
        return None if execution.status == "RUNNING" else f"nothing to stop ({execution.status.lower()})"
    if machine.type == "EXPRESS":
        return "express executions cannot be redriven"
    if execution.status not in FAILED_EXECUTION:
        return f"only a failed execution is redriven ({execution.status.lower()})"
    return None
