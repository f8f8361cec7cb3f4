"""What each action key means on the fleet screen, for the highlighted pipeline or state machine.

The wave is picked sensibly: approve / reject the stage whose approval waits; stop the running execution;
retry the failed stage; roll back a production wave (the failed one, else the furthest one deployed); pause
the first production wave or resume the paused one. When more than one fits, the operator picks from a list
with the sensible one highlighted.
"""

from __future__ import annotations

from console.actions.gate import ActionKind
from console.codepipeline.model import Pipeline
from console.codepipeline.selections import ActionSelection, PipelineSelection, StageSelection
from console.model import FleetState
from console.resources import Selection
from console.stepfunctions.model import SERVICE as STEPFUNCTIONS
from console.stepfunctions.model import StateMachine
from console.stepfunctions.selections import ExecutionSelection, StateMachineSelection, state_machine_arn_of
from screens.action_flow import ActionChoice, Choices

RUNNING = ("InProgress", "Stopping")
FAILED_EXECUTION = ("FAILED", "TIMED_OUT", "ABORTED")


def pipeline_choices(binding_id: str, pipeline: Pipeline) -> Choices:
    """The choices of an action key for a whole pipeline (the fleet screen's row)."""
    base = PipelineSelection(pipeline.target, pipeline.name)
    if binding_id in ("approve", "reject"):
        return _answer(pipeline, ActionKind.APPROVE if binding_id == "approve" else ActionKind.REJECT, base)
    if binding_id in ("stop", "stop_abandon"):
        return _stop(pipeline, ActionKind.STOP if binding_id == "stop" else ActionKind.STOP_ABANDON, base)
    if binding_id == "retry":
        return _retry(pipeline, base)
    if binding_id == "rollback":
        return _rollback(pipeline, base)
    if binding_id == "pause":
        return _pause(pipeline, base)
    return Choices((), fallback=base)


def _answer(pipeline: Pipeline, kind: ActionKind, base: Selection) -> Choices:
    verb = "Approve" if kind is ActionKind.APPROVE else "Reject"
    choices = tuple(
        ActionChoice(
            kind,
            ActionSelection(pipeline.target, pipeline.name, stage.name, action.name, stage.execution_id),
            f"{verb} {pipeline.name} / {stage.name} / {action.name}",
        )
        for stage in pipeline.stages
        for action in stage.actions
        if action.awaiting_approval
    )
    return Choices(choices, "Which approval?", base, f"nothing is waiting for approval in {pipeline.name}")


def _stop(pipeline: Pipeline, kind: ActionKind, base: Selection) -> Choices:
    running: dict[str, list[str]] = {}
    for run in pipeline.executions:
        if run.status in RUNNING:
            running.setdefault(run.id, [])
    for stage in pipeline.stages:
        if stage.status in RUNNING and stage.execution_id:
            running.setdefault(stage.execution_id, []).append(stage.name)
    verb = "Stop" if kind is ActionKind.STOP else "Stop and abandon"
    choices: list[ActionChoice] = []
    for execution_id, stages in running.items():
        found = pipeline.execution(execution_id)
        where = f" (in {', '.join(stages)})" if stages else ""
        revision = f" {found.revision.short}" if found and found.revision else ""
        choices.append(
            ActionChoice(
                kind,
                PipelineSelection(pipeline.target, pipeline.name, execution_id=execution_id),
                f"{verb} execution {execution_id[:8]}{revision}{where}",
            )
        )
    return Choices(tuple(choices), "Stop which execution?", base, f"nothing is running in {pipeline.name}")


def _retry(pipeline: Pipeline, base: Selection) -> Choices:
    choices = tuple(
        ActionChoice(
            ActionKind.RETRY,
            StageSelection(pipeline.target, pipeline.name, stage.name, execution_id=stage.execution_id),
            f"Retry {pipeline.name} / {stage.name} (failed actions)",
        )
        for stage in pipeline.stages
        if stage.status == "Failed"
    )
    return Choices(choices, "Retry which stage?", base, f"no stage of {pipeline.name} has failed")


def _rollback(pipeline: Pipeline, base: Selection) -> Choices:
    production = [s for s in pipeline.stages if s.wave is not None and s.wave.is_production and s.status]
    failed = next((s for s in production if s.status == "Failed"), None)
    preferred = failed or (production[-1] if production else None)
    choices = tuple(
        ActionChoice(
            ActionKind.ROLLBACK,
            StageSelection(pipeline.target, pipeline.name, stage.name, execution_id=stage.execution_id),
            f"Roll back {pipeline.name} / {stage.name} ({stage.wave.name if stage.wave else ''}, now {stage.status})",
            preferred=stage is preferred,
        )
        for stage in production
    )
    return Choices(
        choices, "Roll back which production wave?", base, f"no production wave of {pipeline.name} has been deployed"
    )


def _pause(pipeline: Pipeline, base: Selection) -> Choices:
    stages = pipeline.stages[1:]  # the first stage has no inbound transition
    paused = [s for s in stages if s.paused]
    first_production = next((s for s in stages if s.wave is not None and s.wave.is_production), None)
    preferred = paused[0] if paused else first_production
    choices: list[ActionChoice] = []
    for stage in stages:
        if stage.paused:
            why = f": {stage.inbound.disabled_reason}" if stage.inbound.disabled_reason else ""
            label = f"Resume promotion into {stage.name} (paused{why})"
            kind = ActionKind.RESUME
        else:
            label = f"Pause promotion into {stage.name}"
            kind = ActionKind.PAUSE
        choices.append(
            ActionChoice(
                kind, StageSelection(pipeline.target, pipeline.name, stage.name), label, preferred=stage is preferred
            )
        )
    return Choices(
        tuple(choices), "Pause or resume promotion into which stage?", base, f"{pipeline.name} has no stage to pause"
    )


def machine_choices(binding_id: str, machine: StateMachine, state: FleetState) -> Choices:
    """The choices of an action key for a state machine (the fleet screen's second view)."""
    base = StateMachineSelection(machine.target, machine.arn)
    name = machine.name
    if binding_id in ("approve", "reject"):
        kind = ActionKind.APPROVE if binding_id == "approve" else ActionKind.REJECT
        verb = "Approve" if kind is ActionKind.APPROVE else "Reject"
        waiting = [
            a
            for a in state.approvals
            if a.kind == STEPFUNCTIONS
            and a.target == machine.target
            and a.execution
            and state_machine_arn_of(a.execution) == machine.arn
        ]
        answers = tuple(
            ActionChoice(
                kind,
                ExecutionSelection(machine.target, machine.arn, a.execution or ""),  # `waiting` has only those with one
                f"{verb} {a.resource}" + (f" ({a.state_name})" if a.state_name else ""),
            )
            for a in waiting
        )
        return Choices(answers, "Which approval?", base, f"nothing is waiting for approval in {name}")
    if binding_id == "stop":
        stops = tuple(
            ActionChoice(
                ActionKind.STOP,
                ExecutionSelection(machine.target, machine.arn, e.arn),
                f"Stop {name} / {e.name}",
            )
            for e in machine.executions
            if e.status == "RUNNING"
        )
        return Choices(stops, "Stop which execution?", base, f"no execution of {name} is running")
    if binding_id == "retry":
        newest_failed = next((e for e in machine.executions if e.status in FAILED_EXECUTION), None)
        if newest_failed is None:
            return Choices((), "", base, f"no execution of {name} has failed")
        redrive = ActionChoice(
            ActionKind.RETRY,
            ExecutionSelection(machine.target, machine.arn, newest_failed.arn),
            f"Redrive {name} / {newest_failed.name}",
        )
        return Choices((redrive,), "", base)
    if binding_id == "rollback":
        return Choices((ActionChoice(ActionKind.ROLLBACK, base, f"Roll back {name}"),), "", base)
    if binding_id == "stop_abandon":
        return Choices((), "", base, "abandon is for pipeline executions; use stop")
    if binding_id == "pause":
        return Choices((), "", base, "pausing promotion is for pipeline stages")
    return Choices((), fallback=base)
