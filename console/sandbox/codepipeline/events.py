"""The EventBridge events CodePipeline sends for pipeline, stage and action execution state changes.

Shapes follow AWS's "Monitoring CodePipeline events": `source` aws.codepipeline, the pipeline ARN as the
one resource, and a `detail` with `pipeline`, `execution-id`, `state`, `version` (the pipeline structure
version, a JSON number), `pipeline-execution-attempt`, `start-time`, plus `stage` for stages and `stage`,
`action`, `region`, `type` and (once finished) `execution-result` for actions. No event carries an approval
token: a consumer reads it from GetPipelineState.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from console.sandbox.codepipeline.records import (
    ActionRun,
    ExecutionRun,
    PendingEvent,
    StageRun,
)

PIPELINE_EXECUTION = "CodePipeline Pipeline Execution State Change"
STAGE_EXECUTION = "CodePipeline Stage Execution State Change"
ACTION_EXECUTION = "CodePipeline Action Execution State Change"

# Event states (AWS spells them differently from the API statuses).
STARTED = "STARTED"
SUCCEEDED = "SUCCEEDED"
FAILED = "FAILED"
STOPPING = "STOPPING"
STOPPED = "STOPPED"
SUPERSEDED = "SUPERSEDED"
CANCELED = "CANCELED"
RESUMED = "RESUMED"
ABANDONED = "ABANDONED"

_ACTION_STATES = {"Succeeded": SUCCEEDED, "Failed": FAILED, "Abandoned": ABANDONED, "InProgress": STARTED}


def _stamp(when: datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z"


def _base(execution: ExecutionRun, state: str) -> dict[str, Any]:
    return {
        "pipeline": execution.pipeline.name,
        "execution-id": execution.id,
        "start-time": _stamp(execution.start),
        "state": state,
        "version": float(execution.shape.version),
        "pipeline-execution-attempt": float(execution.attempt),
    }


def _event(execution: ExecutionRun, detail_type: str, detail: dict[str, Any], when: datetime) -> PendingEvent:
    pipeline = execution.pipeline
    return PendingEvent(pipeline.account, pipeline.region, detail_type, detail, (pipeline.arn,), when)


def pipeline_event(execution: ExecutionRun, state: str, when: datetime) -> PendingEvent:
    detail = _base(execution, state)
    detail["execution-trigger"] = {
        "trigger-type": execution.trigger_type,
        "trigger-detail": execution.trigger_detail,
    }
    if execution.execution_type == "ROLLBACK":
        detail["execution-type"] = "ROLLBACK"
        detail["rollback-metadata"] = {"rollback-target-pipeline-execution": execution.rollback_target}
    return _event(execution, PIPELINE_EXECUTION, detail, when)


def stage_event(stage: StageRun, state: str, when: datetime) -> PendingEvent:
    detail = _base(stage.execution, state)
    detail["stage"] = stage.shape.name
    return _event(stage.execution, STAGE_EXECUTION, detail, when)


def action_event(run: ActionRun, when: datetime) -> PendingEvent:
    state = _ACTION_STATES.get(run.status, run.status.upper())
    detail = _base(run.execution, state)
    detail.update(
        {
            "stage": run.stage,
            "action": run.shape.name,
            "action-execution-id": run.id,
            "region": run.shape.region,
            "type": run.shape.type_id,
        }
    )
    if state != STARTED:
        result: dict[str, Any] = {"external-execution-state": state}
        if run.external_id:
            result["external-execution-id"] = run.external_id
        if run.external_url:
            result["external-execution-url"] = run.external_url
        if run.external_summary or run.summary:
            result["external-execution-summary"] = run.external_summary or run.summary
        if run.error_code:
            result["error-code"] = run.error_code
        detail["execution-result"] = result
    return _event(run.execution, ACTION_EXECUTION, detail, when)
