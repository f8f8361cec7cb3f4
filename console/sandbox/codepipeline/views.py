"""The engine's runs in the shapes of CodePipeline's JSON responses (botocore's codepipeline model).

Timestamps are epoch seconds, as the JSON protocol sends them. Optional members are left out rather than
sent empty, because AWS's minimum lengths forbid empty strings there.
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any, TypeVar

from console.sandbox.codepipeline import condition_views
from console.sandbox.codepipeline.errors import InvalidNextTokenException, check_length
from console.sandbox.codepipeline.records import (
    IN_PROGRESS,
    STOPPED,
    STOPPING,
    SUCCEEDED,
    ActionRun,
    ActionShape,
    ExecutionRun,
    PipelineState,
    StageShape,
    StageSlot,
    Transition,
)

T = TypeVar("T")


def epoch(when: datetime) -> float:
    """Epoch seconds; moto keeps some times naive, in UTC."""
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return round(when.timestamp(), 3)


def _put(target: dict[str, Any], key: str, value: Any) -> None:
    if value not in (None, "", [], {}):
        target[key] = value


# --- GetPipelineState ----------------------------------------------------------------------------------


def pipeline_state(state: PipelineState) -> dict[str, Any]:
    stages = []
    for stage in state.shape.stages:
        slot = state.slots.get(stage.name) or StageSlot()
        entry: dict[str, Any] = {"stageName": stage.name}
        if slot.waiting:
            waiting = [_stage_execution(execution, IN_PROGRESS) for execution in slot.waiting]
            entry["inboundExecution"] = waiting[0]
            entry["inboundExecutions"] = waiting
        entry["inboundTransitionState"] = _transition(slot.transition)
        entry["actionStates"] = [_action_state(stage, action, slot) for action in stage.actions]
        if slot.latest is not None:
            entry["latestExecution"] = _stage_execution(slot.latest.execution, slot.latest.status)
        entry.update(condition_views.stage_conditions(stage, slot.latest))
        stages.append(entry)
    return {
        "pipelineName": state.name,
        "pipelineVersion": state.shape.version,
        "stageStates": stages,
        "created": epoch(state.created),
        "updated": epoch(state.updated),
    }


def _stage_execution(execution: ExecutionRun, status: str) -> dict[str, Any]:
    return {"pipelineExecutionId": execution.id, "status": status, "type": execution.execution_type}


def _transition(transition: Transition) -> dict[str, Any]:
    view: dict[str, Any] = {"enabled": transition.enabled}
    _put(view, "lastChangedBy", transition.changed_by)
    if transition.changed_at is not None:
        view["lastChangedAt"] = epoch(transition.changed_at)
    if not transition.enabled:
        _put(view, "disabledReason", transition.reason)
    return view


def _action_state(stage: StageShape, action: ActionShape, slot: StageSlot) -> dict[str, Any]:
    view: dict[str, Any] = {"actionName": action.name}
    run = slot.action_latest.get(action.name)
    if run is not None:
        latest: dict[str, Any] = {
            "actionExecutionId": run.id,
            "status": run.status,
            "lastStatusChange": epoch(run.updated),
        }
        _put(latest, "summary", run.summary)
        if run.status == IN_PROGRESS:
            # The token is what PutApprovalResult needs; it is only offered while the approval waits.
            _put(latest, "token", run.token)
        _put(latest, "lastUpdatedBy", run.updated_by)
        _put(latest, "externalExecutionId", run.external_id)
        _put(latest, "externalExecutionUrl", run.external_url)
        if run.error_code or run.error_message:
            latest["errorDetails"] = _error_details(run)
        view["latestExecution"] = latest
        if action.is_source and run.status == SUCCEEDED and run.external_id:
            view["currentRevision"] = {
                "revisionId": run.external_id,
                "revisionChangeId": run.external_id,
                "created": epoch(run.updated),
            }
            _put(view, "revisionUrl", run.external_url)
    _put(view, "entityUrl", entity_url(action))
    return view


def entity_url(action: ActionShape) -> str | None:
    if action.is_approval:
        return action.configuration.get("ExternalEntityLink") or None
    if action.is_step_functions:
        arn = action.configuration.get("StateMachineArn", "")
        parts = arn.split(":")
        if len(parts) >= 7:
            region = parts[3]
            return f"https://{region}.console.aws.amazon.com/states/home?region={region}#/statemachines/view/{arn}"
    return None


def _error_details(run: ActionRun) -> dict[str, str]:
    details: dict[str, str] = {}
    _put(details, "code", run.error_code)
    _put(details, "message", (run.error_message or "")[:5000])
    return details


# --- executions ----------------------------------------------------------------------------------------


def _trigger(execution: ExecutionRun) -> dict[str, str]:
    return {"triggerType": execution.trigger_type, "triggerDetail": execution.trigger_detail[:1024]}


def execution_detail(execution: ExecutionRun) -> dict[str, Any]:
    """GetPipelineExecution's pipelineExecution."""
    view: dict[str, Any] = {
        "pipelineName": execution.pipeline.name,
        "pipelineVersion": execution.shape.version,
        "pipelineExecutionId": execution.id,
        "status": execution.status,
        "artifactRevisions": _artifact_revisions(execution),
        "variables": [{"name": k, "resolvedValue": v} for k, v in execution.variables.items()],
        "trigger": _trigger(execution),
        "executionMode": execution.shape.execution_mode,
        "executionType": execution.execution_type,
    }
    _put(view, "statusSummary", execution.status_summary)
    if execution.rollback_target:
        view["rollbackMetadata"] = {"rollbackTargetPipelineExecutionId": execution.rollback_target}
    return view


def _artifact_revisions(execution: ExecutionRun) -> list[dict[str, Any]]:
    revisions = []
    first = execution.shape.stages[0] if execution.shape.stages else None
    for action in first.actions if first else ():
        revision = execution.revision_for(action.name)
        if revision is None or not action.is_source:
            continue
        item: dict[str, Any] = {"name": action.output_artifacts[0] if action.output_artifacts else action.name}
        _put(item, "revisionId", revision.get("revisionId"))
        _put(item, "revisionChangeIdentifier", revision.get("revisionId", "")[:100])
        _put(item, "revisionSummary", revision.get("revisionSummary"))
        _put(item, "revisionUrl", revision.get("revisionUrl"))
        item["created"] = epoch(execution.start)
        revisions.append(item)
    return revisions


def execution_summary(execution: ExecutionRun) -> dict[str, Any]:
    """ListPipelineExecutions' pipelineExecutionSummaries item."""
    view: dict[str, Any] = {
        "pipelineExecutionId": execution.id,
        "status": execution.status,
        "startTime": epoch(execution.start),
        "lastUpdateTime": epoch(execution.updated),
        "sourceRevisions": [
            {k: v for k, v in revision.items() if k in ("actionName", "revisionId", "revisionSummary", "revisionUrl")}
            for revision in execution.source_revisions
        ],
        "trigger": _trigger(execution),
        "executionMode": execution.shape.execution_mode,
        "executionType": execution.execution_type,
    }
    _put(view, "statusSummary", execution.status_summary)
    if execution.stop_reason is not None and execution.status in (STOPPING, STOPPED):
        view["stopTrigger"] = {"reason": execution.stop_reason}
    if execution.rollback_target:
        view["rollbackMetadata"] = {"rollbackTargetPipelineExecutionId": execution.rollback_target}
    return view


# --- ListActionExecutions ------------------------------------------------------------------------------


def action_detail(run: ActionRun) -> dict[str, Any]:
    execution, shape = run.execution, run.shape
    bucket = execution.shape.artifact_bucket or f"codepipeline-{execution.pipeline.region}-sandbox"

    def artifacts(names: Sequence[str]) -> list[dict[str, Any]]:
        key = f"{execution.pipeline.name[:40]}/{{}}/{execution.id[:8]}"
        return [{"name": name, "s3location": {"bucket": bucket, "key": key.format(name[:20])}} for name in names]

    action_input: dict[str, Any] = {
        "actionTypeId": shape.type_id,
        "configuration": dict(shape.configuration),
        "resolvedConfiguration": dict(run.configuration),
        "region": shape.region,
        "inputArtifacts": artifacts(shape.input_artifacts),
    }
    _put(action_input, "roleArn", shape.role_arn or execution.shape.role_arn)
    _put(action_input, "namespace", shape.namespace)
    result: dict[str, Any] = {}
    _put(result, "externalExecutionId", run.external_id)
    _put(result, "externalExecutionSummary", run.external_summary)
    _put(result, "externalExecutionUrl", run.external_url)
    if run.error_code or run.error_message:
        result["errorDetails"] = _error_details(run)
    output: dict[str, Any] = {"outputArtifacts": artifacts(shape.output_artifacts) if run.status == SUCCEEDED else []}
    if result:
        output["executionResult"] = result
    if run.output_variables:
        output["outputVariables"] = dict(run.output_variables)
    view: dict[str, Any] = {
        "pipelineExecutionId": execution.id,
        "actionExecutionId": run.id,
        "pipelineVersion": execution.shape.version,
        "stageName": run.stage,
        "actionName": shape.name,
        "startTime": epoch(run.start),
        "lastUpdateTime": epoch(run.updated),
        "status": run.status,
        "input": action_input,
        "output": output,
    }
    _put(view, "updatedBy", run.updated_by)
    return view


# --- paging --------------------------------------------------------------------------------------------


def page(
    items: Sequence[T], key: Callable[[T], str], max_results: int, next_token: str | None
) -> tuple[list[T], str | None]:
    """One page of `items`; the token names the first item of the next page."""
    start = 0
    if next_token is not None:
        check_length("nextToken", next_token, 1, 2048)
        try:
            wanted = base64.urlsafe_b64decode(next_token.encode()).decode()
        except ValueError:
            wanted = None
        start = next((i for i, item in enumerate(items) if key(item) == wanted), -1)
        if start < 0:
            raise InvalidNextTokenException(
                "The next token was specified in an invalid format, or the item it points to no longer exists."
            )
    chunk = list(items[start : start + max_results])
    rest = start + max_results
    token = base64.urlsafe_b64encode(key(items[rest]).encode()).decode() if rest < len(items) else None
    return chunk, token
