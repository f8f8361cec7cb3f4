"""The plans for CodePipeline: approve / reject, stop (and abandon), roll back, retry, pause / resume promotion,
override a stage condition.

Each builder reads fresh state through `Reads`, refuses with a plain sentence when the action makes no sense
now, and otherwise returns the `Facts`: what the confirmation shows, what the precondition is (`expect`), and
the one call that sends it, bound to what this read found (the token, the execution id).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import replace

from console.actions.audit import token_digest
from console.actions.plan import ActionKind, Facts, PlanBuilder, PlanContext, ServiceActions
from console.actions.reads import GateGateway
from console.actions.reasons import APPROVAL_SUMMARY_MAX, STOP_REASON_MAX
from console.actions.text import revision_text, status_text, time_text
from console.codepipeline.model import Action, ConditionKind, Pipeline, Rule, Stage, pipelines_of
from console.codepipeline.reads import Reads
from console.codepipeline.selections import (
    ActionSelection,
    PipelinePart,
    PipelineSelection,
    StageSelection,
    action_name,
    stage_name,
)
from console.errors import Refused
from console.model import FleetState, Receipt
from console.resources import Selection

RUNNING_PIPELINE = ("InProgress", "Stopping")
RETRY_MODES = ("FAILED_ACTIONS", "ALL_ACTIONS")


async def answer(reads: Reads, selection: PipelinePart, context: PlanContext, *, approve: bool) -> Facts:
    """PutApprovalResult with the token of the one approval waiting in what the selection names."""
    pipeline = await reads.pipeline(selection.pipeline)
    stages = stages_of(pipeline, selection)
    if isinstance(selection, ActionSelection):
        # The stage that has the action (the one named, when it has it).
        stage = next((s for s in stages if any(a.name == selection.action for a in s.actions)), None)
        if stage is None:
            where = f"stage {stages[0].name} of {pipeline.name}" if selection.stage else f"pipeline {pipeline.name}"
            names = ", ".join(a.name for s in stages for a in s.actions) or "none"
            raise Refused(f"{where} has no action {selection.action} (actions: {names})")
        action = next(a for a in stage.actions if a.name == selection.action)
        if not action.awaiting_approval:
            raise Refused(not_waiting(f"{pipeline.name}/{stage.name}/{action.name}", action))
        found = [(stage, action)]
    else:
        found = [(s, a) for s in stages for a in s.actions if a.awaiting_approval]
        where = selection.resource
        if not found:
            raise Refused(f"nothing is waiting for approval in {where}")
        if len(found) > 1:
            names = ", ".join(f"{pipeline.name}/{s.name}/{a.name}" for s, a in found)
            raise Refused(f"{len(found)} approvals are waiting in {where} ({names}): name one")
    stage, action = found[0]
    token = action.token
    if token is None:
        # An approval waits (its declaration says so) but the fresh read gave no token: an AWS-compatible endpoint
        # that leaves it out. PutApprovalResult with an empty token is refused by AWS at best.
        raise Refused(
            f"{pipeline.name}/{stage.name}/{action.name} waits for approval, but {reads.gateway.target.name} "
            "gave no approval token for it in GetPipelineState; nothing was sent"
        )
    resolved = ActionSelection(selection.target, pipeline.name, stage.name, action.name, stage.execution_id)
    execution = await reads.pipeline_execution(pipeline.name, stage.execution_id)
    status = "Approved" if approve else "Rejected"
    lines = [
        ("Pipeline", pipeline.name),
        ("Stage", stage.name),
        ("Action", action.name),
        ("Execution", stage.execution_id or "?"),
    ]
    if execution is not None and execution.revision is not None:
        lines.append(("Revision", revision_text(execution.revision)))
    if action.last_status_change is not None:
        lines.append(("Waiting since", time_text(action.last_status_change)))
    custom = dict(action.configuration).get("CustomData")
    if custom:
        lines.append(("Asks", custom))
    lines.append(("Sends", f"PutApprovalResult {status} (the reason as summary)"))
    gateway = reads.gateway

    async def send(reason: str, identity: str) -> Receipt:
        return await gateway.put_approval_result(
            pipeline.name, stage.name, action.name, token, approved=approve, summary=reason
        )

    return Facts(
        selection=resolved,
        title=f"{'Approve' if approve else 'Reject'} {pipeline.name} / {stage.name} / {action.name}",
        lines=tuple(lines),
        wave=context.stage_wave(pipeline.name, stage.name, stage.wave, _names(pipeline)),
        expect={
            "execution": stage.execution_id or "",
            "action_execution": action.action_execution_id or "",
            "token": token_digest(token),
        },
        operation="PutApprovalResult",
        request={
            "pipelineName": pipeline.name,
            "stageName": stage.name,
            "actionName": action.name,
            "status": status,
            "token": token_digest(token),
        },
        send=send,
        done=f"{status} {pipeline.name}/{stage.name}/{action.name}",
        reason_limit=APPROVAL_SUMMARY_MAX,
        secrets=(token,) if token else (),
    )


async def stop(reads: Reads, selection: PipelinePart, context: PlanContext, *, abandon: bool) -> Facts:
    """StopPipelineExecution of the named execution, the one running in the named stage, or the one running."""
    pipeline = await reads.pipeline(selection.pipeline)
    execution_id = selection.execution_id
    if execution_id is None and stage_name(selection) is not None:
        stage = stages_of(pipeline, selection)[0]
        if stage.status not in RUNNING_PIPELINE or not stage.execution_id:
            raise Refused(f"nothing is running in {pipeline.name}/{stage.name} ({status_text(stage.status)})")
        execution_id = stage.execution_id
    if execution_id is None:
        running = [e for e in await reads.pipeline_executions(pipeline.name) if e.status in RUNNING_PIPELINE]
        if not running:
            raise Refused(f"nothing is running in {pipeline.name}")
        if len(running) > 1:
            where = ", ".join(f"{e.id} ({stage_of(pipeline, e.id) or e.status})" for e in running)
            raise Refused(
                f"{len(running)} executions are running in {pipeline.name}: {where}; "
                "name the stage (pipeline/stage) of the one to stop"
            )
        execution_id = running[0].id
    execution = await reads.pipeline_execution(pipeline.name, execution_id)
    if execution is None:
        raise Refused(f"{pipeline.name} has no execution {execution_id}")
    if execution.status == "Stopping" and not abandon:
        raise Refused(
            f"execution {execution_id} of {pipeline.name} is already stopping; "
            "stop and abandon to abandon its running actions"
        )
    if execution.status not in RUNNING_PIPELINE:
        raise Refused(f"execution {execution_id} of {pipeline.name} is {execution.status}; nothing to stop")
    running_stages = [s for s in pipeline.stages if s.execution_id == execution_id and s.status in RUNNING_PIPELINE]
    waves = [(context.stage_wave(pipeline.name, s.name, s.wave, _names(pipeline)), s.name) for s in running_stages]
    # The riskiest wave it is in (a stage of unknown risk above all): stopping it there is what is confirmed.
    riskiest = max(((w, n) for w, n in waves if w is not None), key=lambda p: (p[0].risk, p[0].order), default=None)
    wave = riskiest[0] if riskiest else None
    lines = [("Pipeline", pipeline.name), ("Execution", f"{execution_id} ({execution.status})")]
    if running_stages:
        lines.append(("Running in", ", ".join(s.name for s in running_stages)))
    if execution.revision is not None:
        lines.append(("Revision", revision_text(execution.revision)))
    lines.append(
        (
            "Sends",
            "StopPipelineExecution abandon=true: running actions are abandoned"
            if abandon
            else "StopPipelineExecution abandon=false: running actions finish, then it stops",
        )
    )
    gateway = reads.gateway
    stopped = execution_id

    async def send(reason: str, identity: str) -> Receipt:
        return await gateway.stop_pipeline_execution(pipeline.name, stopped, abandon=abandon, reason=reason)

    verb = "Stop and abandon" if abandon else "Stop"
    return Facts(
        selection=replace(selection, execution_id=execution_id),
        title=f"{verb} {pipeline.name} execution {execution_id[:8]}",
        lines=tuple(lines),
        wave=wave,
        confirm_stage=riskiest[1] if riskiest else None,
        expect={"execution": execution_id},
        operation="StopPipelineExecution",
        request={"pipelineName": pipeline.name, "pipelineExecutionId": execution_id, "abandon": abandon},
        send=send,
        done=f"{'Stopping and abandoning' if abandon else 'Stopping'} {pipeline.name} execution {execution_id}",
        reason_limit=STOP_REASON_MAX,
    )


async def rollback(reads: Reads, selection: PipelinePart, context: PlanContext) -> Facts:
    """RollbackStage to the latest execution that succeeded in the stage (not a rollback itself).

    Rollback, retry and pause act on a stage: their resolved selection names no action.
    """
    pipeline = await reads.pipeline(selection.pipeline)
    if stage_name(selection) is None:
        raise Refused(f"name the stage of {pipeline.name} to roll back (pipeline/stage)")
    stage = stages_of(pipeline, selection)[0]
    where = f"{pipeline.name}/{stage.name}"
    if pipeline.stages and pipeline.stages[0].name == stage.name:
        raise Refused(f"{where} is the source stage; a source stage cannot be rolled back")
    if pipeline.execution_mode == "PARALLEL":
        raise Refused(f"{pipeline.name} runs in PARALLEL mode, where stages cannot be rolled back")
    if stage.status in RUNNING_PIPELINE:
        raise Refused(
            f"{where} is still running (execution {stage.execution_id}, {stage.status}); "
            "stop it or let it finish before rolling back"
        )
    current = await reads.pipeline_execution(pipeline.name, stage.execution_id)
    skip = {stage.execution_id, current.rollback_target if current else None}
    succeeded = await reads.pipeline_executions(pipeline.name, succeeded_in_stage=stage.name)
    candidates = [e for e in succeeded if not e.is_rollback and e.id not in skip]
    if not candidates:
        raise Refused(f"no earlier execution succeeded in {where}: there is nothing to roll back to")
    good = candidates[0]
    lines = [("Pipeline", pipeline.name), ("Stage", stage.name)]
    if stage.execution_id:
        now = f"{stage.execution_id} ({status_text(stage.status)})"
        if current is not None and current.revision is not None:
            now += f" {revision_text(current.revision)}"
        lines.append(("Now", now))
    back = good.id + (f" {revision_text(good.revision)}" if good.revision is not None else "")
    lines.append(("Rolls back to", back))
    lines.append(("Sends", "RollbackStage: a new ROLLBACK execution redeploys that execution's artifacts"))
    gateway = reads.gateway

    async def send(reason: str, identity: str) -> Receipt:
        return await gateway.rollback_stage(pipeline.name, stage.name, good.id)

    return Facts(
        selection=StageSelection(selection.target, selection.pipeline, stage.name, stage.execution_id),
        title=f"Roll back {pipeline.name} / {stage.name}",
        lines=tuple(lines),
        wave=context.stage_wave(pipeline.name, stage.name, stage.wave, _names(pipeline)),
        expect={"stage_execution": stage.execution_id or "", "rollback_to": good.id},
        operation="RollbackStage",
        request={"pipelineName": pipeline.name, "stageName": stage.name, "targetPipelineExecutionId": good.id},
        send=send,
        done=f"Rolling back {where} to execution {good.id}"
        + (f" (revision {good.revision.short})" if good.revision else ""),
    )


async def retry(reads: Reads, selection: PipelinePart, context: PlanContext, *, mode: str) -> Facts:
    """RetryStageExecution of the failed stage named (or the one failed stage), failed actions by default."""
    if mode not in RETRY_MODES:
        raise Refused(f"unknown retry mode {mode}: {' or '.join(RETRY_MODES)}")
    pipeline = await reads.pipeline(selection.pipeline)
    if stage_name(selection) is None:
        failed = [s for s in pipeline.stages if s.status == "Failed"]
        if len(failed) != 1:
            raise Refused(f"name the stage of {pipeline.name} to retry (pipeline/stage)")
        selection = StageSelection(selection.target, selection.pipeline, failed[0].name, selection.execution_id)
    stage = stages_of(pipeline, selection)[0]
    where = f"{pipeline.name}/{stage.name}"
    if stage.status != "Failed" or not stage.execution_id:
        raise Refused(f"{where} has not failed ({status_text(stage.status)}); only a failed stage can be retried")
    failed_actions = [a.name for a in stage.actions if a.status == "Failed"]
    execution_id = stage.execution_id
    lines = [("Pipeline", pipeline.name), ("Stage", stage.name), ("Execution", execution_id)]
    if failed_actions:
        lines.append(("Failed", ", ".join(failed_actions)))
    lines.append(("Sends", f"RetryStageExecution {mode}"))
    gateway = reads.gateway

    async def send(reason: str, identity: str) -> Receipt:
        return await gateway.retry_stage_execution(pipeline.name, stage.name, execution_id, mode)

    return Facts(
        selection=StageSelection(selection.target, selection.pipeline, stage.name, execution_id),
        title=f"Retry {pipeline.name} / {stage.name}",
        lines=tuple(lines),
        wave=context.stage_wave(pipeline.name, stage.name, stage.wave, _names(pipeline)),
        expect={"execution": execution_id, "status": "Failed"},
        operation="RetryStageExecution",
        request={
            "pipelineName": pipeline.name,
            "stageName": stage.name,
            "pipelineExecutionId": execution_id,
            "retryMode": mode,
        },
        send=send,
        done=f"Retrying {where} ({mode.lower().replace('_', ' ')}) in execution {execution_id}",
        parameters={"retry_mode": mode},
    )


async def transition(reads: Reads, selection: PipelinePart, context: PlanContext, *, pause: bool) -> Facts:
    """DisableStageTransition (pause, with the reason) or EnableStageTransition (resume) of a stage's inbound."""
    pipeline = await reads.pipeline(selection.pipeline)
    if stage_name(selection) is None:
        raise Refused(f"name the stage of {pipeline.name} whose promotion to {'pause' if pause else 'resume'}")
    stage = stages_of(pipeline, selection)[0]
    where = f"{pipeline.name}/{stage.name}"
    index = [s.name for s in pipeline.stages].index(stage.name)
    if index == 0:
        raise Refused(f"{where} is the first stage; it has no inbound transition")
    inbound = stage.inbound
    if pause and not inbound.enabled:
        by = f" by {inbound.last_changed_by}" if inbound.last_changed_by else ""
        why = f": {inbound.disabled_reason}" if inbound.disabled_reason else ""
        raise Refused(f"promotion into {where} is already paused{by}{why}")
    if not pause and inbound.enabled:
        raise Refused(f"promotion into {where} is not paused")
    previous = pipeline.stages[index - 1].name
    lines = [("Pipeline", pipeline.name), ("Stage", stage.name), ("Transition", f"{previous} → {stage.name}")]
    if not pause:
        if inbound.disabled_reason:
            lines.append(("Paused because", inbound.disabled_reason))
        if stage.inbound_executions:
            lines.append(("Waiting", ", ".join(e.id for e in stage.inbound_executions)))
    operation = "DisableStageTransition" if pause else "EnableStageTransition"
    lines.append(("Sends", f"{operation} Inbound"))
    gateway = reads.gateway

    async def send(reason: str, identity: str) -> Receipt:
        if pause:
            return await gateway.disable_stage_transition(pipeline.name, stage.name, reason)
        return await gateway.enable_stage_transition(pipeline.name, stage.name)

    return Facts(
        selection=StageSelection(selection.target, selection.pipeline, stage.name, selection.execution_id),
        title=f"{'Pause' if pause else 'Resume'} promotion into {pipeline.name} / {stage.name}",
        lines=tuple(lines),
        wave=context.stage_wave(pipeline.name, stage.name, stage.wave, _names(pipeline)),
        expect={"enabled": str(inbound.enabled).lower()},
        operation=operation,
        request={"pipelineName": pipeline.name, "stageName": stage.name, "transitionType": "Inbound"},
        send=send,
        done=f"{'Paused' if pause else 'Resumed'} promotion into {where}",
        reason_transition=pause,
    )


async def override(reads: Reads, selection: PipelinePart, context: PlanContext, *, condition: str | None) -> Facts:
    """OverrideStageCondition of the entry or success conditions holding a stage now.

    `condition` (BEFORE_ENTRY or ON_SUCCESS) names which; without it, the one being evaluated. Refused where AWS
    refuses: no such conditions, a SKIP result, failure conditions, an evaluation not in progress.
    """
    pipeline = await reads.pipeline(selection.pipeline)
    if stage_name(selection) is None:
        raise Refused(f"name the stage of {pipeline.name} whose condition to override (pipeline/stage)")
    stage = stages_of(pipeline, selection)[0]
    where = f"{pipeline.name}/{stage.name}"
    if condition is None:
        held = stage.held_by
        if held is None:
            declared = ", ".join(c.kind.label for c in stage.conditions) or "none declared"
            raise Refused(
                f"no entry or success condition of {where} is being evaluated ({declared}); nothing to override"
            )
        kind = held.kind
    else:
        try:
            kind = ConditionKind(condition.upper().replace("-", "_"))
        except ValueError:
            raise Refused(f"unknown condition {condition}: before-entry or on-success") from None
    conditions = stage.condition(kind)
    if conditions is None:
        raise Refused(f"{where} has no {kind.label} conditions")
    why = conditions.not_overridable
    if why is not None:
        raise Refused(f"{where}: {why}")
    if not conditions.in_progress or not stage.execution_id:
        state = status_text(conditions.status) if conditions.status else "not evaluated yet"
        raise Refused(
            f"the {kind.label} conditions of {where} are not being evaluated ({state}); "
            "only an evaluation in progress can be overridden"
        )
    execution_id = stage.execution_id
    lines = [
        ("Pipeline", pipeline.name),
        ("Stage", stage.name),
        ("Execution", execution_id),
        ("Condition", f"{kind.label}, result {' / '.join(conditions.results) or '?'}"),
    ]
    lines.extend(("Rule", rule_line(rule)) for rule in conditions.rules)
    if conditions.summary and all(conditions.summary != rule.summary for rule in conditions.rules):
        lines.append(("Now", conditions.summary))
    lines.append(("Sends", f"OverrideStageCondition {kind.value}: the stage goes on as if every rule had succeeded"))
    gateway = reads.gateway

    async def send(reason: str, identity: str) -> Receipt:
        return await gateway.override_stage_condition(pipeline.name, stage.name, execution_id, kind.value)

    return Facts(
        selection=StageSelection(selection.target, selection.pipeline, stage.name, execution_id),
        title=f"Override the {kind.label} condition of {pipeline.name} / {stage.name}",
        lines=tuple(lines),
        wave=context.stage_wave(pipeline.name, stage.name, stage.wave),
        expect={"execution": execution_id, "condition": f"{kind.value} {conditions.status}"},
        operation="OverrideStageCondition",
        request={
            "pipelineName": pipeline.name,
            "stageName": stage.name,
            "pipelineExecutionId": execution_id,
            "conditionType": kind.value,
        },
        send=send,
        done=f"Overrode the {kind.label} condition of {where} in execution {execution_id}",
        parameters={"condition": kind.value},
    )


def rule_line(rule: Rule) -> str:
    """A rule as the confirmation shows it: name, provider, status, what it watches, its summary."""
    parts = [f"{rule.name} ({rule.provider or '?'})", status_text(rule.status) if rule.status else "not evaluated"]
    watches = rule.watches()
    if watches:
        parts.append(watches)
    if rule.summary:
        parts.append(rule.summary)
    return " · ".join(parts)


# --- availability ------------------------------------------------------------------------------------------


def unavailable(kind: ActionKind, selection: Selection, state: FleetState, context: PlanContext) -> str | None:
    """Why `kind` cannot run on the pipeline selection in `state` now, or None (the registry asks, for keys)."""
    part = in_pipeline(selection)
    pipeline = pipelines_of(state).get(part.key)
    if pipeline is None:
        return "not loaded yet"
    return pipeline_unavailable(kind, part, pipeline)


def pipeline_unavailable(kind: ActionKind, selection: PipelinePart, pipeline: Pipeline) -> str | None:
    """Why `kind` cannot run on the pipeline selection now, or None."""
    named = stage_name(selection)
    stage = pipeline.stage(named) if named else None
    if named is not None and stage is None:
        return f"no stage {named}"
    if kind.answers:
        stages = [stage] if stage is not None else list(pipeline.stages)
        action = action_name(selection)
        actions = [a for s in stages for a in s.actions if action in (None, a.name)]
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


# --- helpers ---------------------------------------------------------------------------------------------------


def stages_of(pipeline: Pipeline, selection: PipelinePart) -> list[Stage]:
    """The stage the selection names, or every stage; Refused when the named one does not exist."""
    named = stage_name(selection)
    if named is None:
        return list(pipeline.stages)
    stage = pipeline.stage(named)
    if stage is None:
        names = ", ".join(s.name for s in pipeline.stages) or "none"
        raise Refused(f"pipeline {pipeline.name} has no stage {named} (stages: {names})")
    return [stage]


def in_pipeline(selection: Selection) -> PipelinePart:
    """The selection as CodePipeline's (the registry only hands it this service's); Refused otherwise."""
    if isinstance(selection, PipelineSelection | StageSelection | ActionSelection):
        return selection
    raise Refused(f"{selection.resource} is not part of a pipeline")


def stage_of(pipeline: Pipeline, execution_id: str) -> str | None:
    """The stages an execution is running in, named for a person picking between executions."""
    names = [s.name for s in pipeline.stages if s.execution_id == execution_id and s.status in RUNNING_PIPELINE]
    return ", ".join(names) or None


def not_waiting(where: str, action: Action) -> str:
    """Why an approval action is not waiting, in a sentence (who answered it, and how, when AWS says)."""
    status = action.status
    by = f" by {action.last_updated_by}" if action.last_updated_by else ""
    summary = f": {action.summary}" if action.summary else ""
    if status == "Succeeded":
        return f"{where} was already approved{by}{summary}"
    if status == "Failed":
        return f"{where} was already rejected{by}{summary}"
    if status == "Abandoned":
        return f"{where} was abandoned; nothing is waiting for approval"
    if status is None:
        return f"{where} has not run in the latest execution; nothing is waiting for approval"
    if status == "InProgress":
        return f"{where} is in progress but is not a manual approval (nor holds an approval token)"
    return f"{where} is {status}; nothing is waiting for approval"


PipelineBuilder = Callable[[Reads, PipelinePart, PlanContext, Mapping[str, str]], Awaitable[Facts]]


def selected(build: PipelineBuilder) -> PlanBuilder:
    """`build` with this package's reads, on the selection as CodePipeline's (refused when it is not)."""

    async def checked(
        gateway: GateGateway, selection: Selection, context: PlanContext, given: Mapping[str, str]
    ) -> Facts:
        return await build(Reads.of(gateway), in_pipeline(selection), context, given)

    return checked


# Every kind a pipeline can be acted on with; console/actions/registry.py refuses to guess for any other.
PLAN_BUILDERS: Mapping[ActionKind, PlanBuilder] = {
    ActionKind.APPROVE: selected(lambda reads, sel, context, given: answer(reads, sel, context, approve=True)),
    ActionKind.REJECT: selected(lambda reads, sel, context, given: answer(reads, sel, context, approve=False)),
    ActionKind.STOP: selected(lambda reads, sel, context, given: stop(reads, sel, context, abandon=False)),
    ActionKind.STOP_ABANDON: selected(lambda reads, sel, context, given: stop(reads, sel, context, abandon=True)),
    ActionKind.ROLLBACK: selected(lambda reads, sel, context, given: rollback(reads, sel, context)),
    ActionKind.RETRY: selected(
        lambda reads, sel, context, given: retry(reads, sel, context, mode=given.get("retry_mode", "FAILED_ACTIONS"))
    ),
    ActionKind.PAUSE: selected(lambda reads, sel, context, given: transition(reads, sel, context, pause=True)),
    ActionKind.RESUME: selected(lambda reads, sel, context, given: transition(reads, sel, context, pause=False)),
    ActionKind.OVERRIDE: selected(
        lambda reads, sel, context, given: override(reads, sel, context, condition=given.get("condition"))
    ),
}


def _names(pipeline: Pipeline) -> tuple[str, ...]:
    """The pipeline's stage names in order: where a stage is decides its wave as much as its name."""
    return tuple(s.name for s in pipeline.stages)


# What the registry of services (console/services.py) holds of this package: its builders and its rules.
ACTIONS = ServiceActions(PLAN_BUILDERS, unavailable)
