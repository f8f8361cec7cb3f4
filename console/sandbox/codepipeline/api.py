"""Plugs the engine into moto's CodePipeline endpoint.

moto dispatches a JSON request by its operation name in snake_case to a method of `CodePipelineResponse`
(`StartPipelineExecution` → `start_pipeline_execution`). `install` sets the engine's operations as those
methods: the ones moto lacks (GetPipelineState, PutApprovalResult, StopPipelineExecution, ...), the ones
it answers wrongly (StartPipelineExecution succeeded at once; executions without stages), ListPipelines
(adds pipelineType and executionMode, pages), and wraps UpdatePipeline and DeletePipeline so the engine
hears of them. GetPipeline is answered from moto's store with epoch timestamps (moto 5.2.5 sends ISO
text). CreatePipeline stays moto's. `tests/sandbox/test_moto_internals_codepipeline.py` fails, naming what
moved, if a moto release changes what this relies on.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from moto.codepipeline.models import codepipeline_backends
from moto.codepipeline.responses import CodePipelineResponse
from moto.core.exceptions import JsonRESTError
from moto.sts.models import sts_backends

from console.sandbox.codepipeline import condition_views
from console.sandbox.codepipeline.condition_shapes import ConditionDeclarationError, check_stage
from console.sandbox.codepipeline.engine import PipelineEngine
from console.sandbox.codepipeline.errors import (
    CodePipelineError,
    InvalidStageDeclarationException,
    PipelineVersionNotFoundException,
    ValidationException,
    check_enum,
    constraint_error,
    pipeline_not_found,
)
from console.sandbox.codepipeline.views import epoch, page
from console.sandbox.moto_patches.compat import pipeline_created, pipeline_updated

Handler = Callable[[PipelineEngine, "Request"], dict[str, Any]]

# moto's own methods, kept before the first install so installing twice does not wrap twice.
_MOTO_CREATE = CodePipelineResponse.create_pipeline
_MOTO_UPDATE = CodePipelineResponse.update_pipeline
_MOTO_DELETE = CodePipelineResponse.delete_pipeline


class Request:
    """One request: its JSON body, the caller's account and region, and the caller's identity."""

    def __init__(self, response: CodePipelineResponse) -> None:
        self.response = response
        try:
            body = json.loads(response.body or "{}")
        except ValueError:
            raise ValidationException("The request body is not valid JSON") from None
        self.body: dict[str, Any] = body if isinstance(body, dict) else {}
        self.account: str = response.current_account
        self.region: str = response.region

    def required(self, name: str) -> Any:
        value = self.body.get(name)
        if value is None:
            raise constraint_error(name, "null", "Member must not be null")
        return value

    def string(self, name: str) -> str:
        value = self.required(name)
        if not isinstance(value, str):
            raise constraint_error(name, value, "Member must be a string")
        return value

    def optional(self, name: str, default: Any = None) -> Any:
        value = self.body.get(name)
        return default if value is None else value

    def max_results(self, high: int, default: int) -> int:
        value = self.optional("maxResults", default)
        if not isinstance(value, int) or not 1 <= value <= high:
            raise constraint_error(
                "maxResults", value, f"Member must have value less than or equal to {high} and greater than 0"
            )
        return value

    @property
    def caller(self) -> str:
        """The caller's ARN as STS GetCallerIdentity answers it in this sandbox."""
        backend = sts_backends[self.account][self.response.partition]
        _, arn, _ = backend.get_caller_identity(self.response.get_access_key(), self.region)
        return str(arn)


# --- the operations --------------------------------------------------------------------------------------


def _start_pipeline_execution(engine: PipelineEngine, request: Request) -> dict[str, Any]:
    execution_id = engine.start_pipeline_execution(
        request.account,
        request.region,
        request.string("name"),
        caller=request.caller,
        variables=request.optional("variables"),
        overrides=request.optional("sourceRevisions"),
        client_token=request.optional("clientRequestToken"),
    )
    return {"pipelineExecutionId": execution_id}


def _get_pipeline_state(engine: PipelineEngine, request: Request) -> dict[str, Any]:
    return engine.get_pipeline_state(request.account, request.region, request.string("name"))


def _get_pipeline_execution(engine: PipelineEngine, request: Request) -> dict[str, Any]:
    execution = engine.get_pipeline_execution(
        request.account, request.region, request.string("pipelineName"), request.string("pipelineExecutionId")
    )
    return {"pipelineExecution": execution}


def _list_pipeline_executions(engine: PipelineEngine, request: Request) -> dict[str, Any]:
    found = request.optional("filter", {}) or {}
    stage = (found.get("succeededInStage") or {}).get("stageName") if isinstance(found, dict) else None
    return engine.list_pipeline_executions(
        request.account,
        request.region,
        request.string("pipelineName"),
        max_results=request.max_results(100, 100),
        next_token=request.optional("nextToken"),
        succeeded_in_stage=stage,
    )


def _list_action_executions(engine: PipelineEngine, request: Request) -> dict[str, Any]:
    found = request.optional("filter", {}) or {}
    execution_id = found.get("pipelineExecutionId")
    latest = found.get("latestInPipelineExecution") or {}
    if latest:
        execution_id = latest.get("pipelineExecutionId") or execution_id
    return engine.list_action_executions(
        request.account,
        request.region,
        request.string("pipelineName"),
        execution_id=execution_id,
        latest_only=bool(latest) and latest.get("startTimeRange") != "All",
        max_results=request.max_results(100, 100),
        next_token=request.optional("nextToken"),
    )


def _put_approval_result(engine: PipelineEngine, request: Request) -> dict[str, Any]:
    result = request.required("result")
    if not isinstance(result, dict) or result.get("summary") is None or result.get("status") is None:
        raise constraint_error("result", result, "Member must have a summary and a status")
    approved_at = engine.put_approval_result(
        request.account,
        request.region,
        request.string("pipelineName"),
        stage=request.string("stageName"),
        action=request.string("actionName"),
        status=str(result["status"]),
        summary=str(result["summary"]),
        token=request.string("token"),
        caller=request.caller,
    )
    return {"approvedAt": epoch(approved_at)}


def _stop_pipeline_execution(engine: PipelineEngine, request: Request) -> dict[str, Any]:
    execution_id = engine.stop_pipeline_execution(
        request.account,
        request.region,
        request.string("pipelineName"),
        execution_id=request.string("pipelineExecutionId"),
        abandon=bool(request.optional("abandon", False)),
        reason=request.optional("reason"),
    )
    return {"pipelineExecutionId": execution_id}


def _retry_stage_execution(engine: PipelineEngine, request: Request) -> dict[str, Any]:
    execution_id = engine.retry_stage_execution(
        request.account,
        request.region,
        request.string("pipelineName"),
        stage=request.string("stageName"),
        execution_id=request.string("pipelineExecutionId"),
        mode=request.string("retryMode"),
    )
    return {"pipelineExecutionId": execution_id}


def _rollback_stage(engine: PipelineEngine, request: Request) -> dict[str, Any]:
    execution_id = engine.rollback_stage(
        request.account,
        request.region,
        request.string("pipelineName"),
        stage=request.string("stageName"),
        target_id=request.string("targetPipelineExecutionId"),
        caller=request.caller,
    )
    return {"pipelineExecutionId": execution_id}


def _disable_stage_transition(engine: PipelineEngine, request: Request) -> dict[str, Any]:
    engine.disable_stage_transition(
        request.account,
        request.region,
        request.string("pipelineName"),
        stage=request.string("stageName"),
        kind=request.string("transitionType"),
        reason=request.string("reason"),
        caller=request.caller,
    )
    return {}


def _enable_stage_transition(engine: PipelineEngine, request: Request) -> dict[str, Any]:
    engine.enable_stage_transition(
        request.account,
        request.region,
        request.string("pipelineName"),
        stage=request.string("stageName"),
        kind=request.string("transitionType"),
        caller=request.caller,
    )
    return {}


def _get_pipeline(engine: PipelineEngine, request: Request) -> dict[str, Any]:
    """The stored declaration as moto keeps it, with metadata times as epoch numbers (moto 5.2.5 sends ISO text)."""
    name = request.string("name")
    stored = codepipeline_backends[request.account][request.region].pipelines.get(name)
    if stored is None:
        raise pipeline_not_found(request.account, name)
    version = request.optional("version")
    current = stored.pipeline.get("version", 1)
    if version is not None and version != current:
        raise PipelineVersionNotFoundException(
            f"Pipeline '{name}' has no version {version}; the sandbox keeps its current version {current} only"
        )
    metadata = {
        "pipelineArn": stored.arn,
        "created": epoch(pipeline_created(stored)),
        "updated": epoch(pipeline_updated(stored)),
    }
    return {"pipeline": stored.pipeline, "metadata": metadata}


def _override_stage_condition(engine: PipelineEngine, request: Request) -> dict[str, Any]:
    engine.override_stage_condition(
        request.account,
        request.region,
        request.string("pipelineName"),
        stage=request.string("stageName"),
        execution_id=request.string("pipelineExecutionId"),
        kind=request.string("conditionType"),
        caller=request.caller,
    )
    return {}


def _list_rule_executions(engine: PipelineEngine, request: Request) -> dict[str, Any]:
    found = request.optional("filter", {}) or {}
    execution_id = found.get("pipelineExecutionId") if isinstance(found, dict) else None
    latest = (found.get("latestInPipelineExecution") or {}) if isinstance(found, dict) else {}
    if latest:
        execution_id = latest.get("pipelineExecutionId") or execution_id
    return engine.list_rule_executions(
        request.account,
        request.region,
        request.string("pipelineName"),
        execution_id=execution_id,
        latest_only=bool(latest) and latest.get("startTimeRange") != "All",
        max_results=request.max_results(100, 100),
        next_token=request.optional("nextToken"),
    )


def _list_rule_types(engine: PipelineEngine, request: Request) -> dict[str, Any]:
    owner = request.optional("ruleOwnerFilter")
    if owner is not None:
        check_enum("ruleOwnerFilter", owner, ("AWS",))
    return {"ruleTypes": condition_views.rule_types()}


def _check_conditions(body: str | bytes | None) -> None:
    """Refuse at CreatePipeline / UpdatePipeline the stage conditions AWS refuses there."""
    try:
        structure = json.loads(body or "{}").get("pipeline") or {}
    except (ValueError, AttributeError):
        return  # moto answers a body it cannot read
    for stage in structure.get("stages") or []:
        if isinstance(stage, dict):
            try:
                check_stage(stage)
            except ConditionDeclarationError as exc:
                raise JsonRESTError(InvalidStageDeclarationException.code, str(exc)) from None


def _list_pipelines(engine: PipelineEngine, request: Request) -> dict[str, Any]:
    stored = codepipeline_backends[request.account][request.region].pipelines
    items = []
    for name in sorted(stored):
        pipeline = stored[name]
        structure = pipeline.pipeline
        items.append(
            {
                "name": name,
                "version": structure.get("version", 1),
                "pipelineType": structure.get("pipelineType") or "V1",
                "executionMode": structure.get("executionMode") or "SUPERSEDED",
                "created": epoch(pipeline_created(pipeline)),
                "updated": epoch(pipeline_updated(pipeline)),
            }
        )
    size = request.max_results(1000, 100)
    chunk, token = page(items, lambda item: str(item["name"]), size, request.optional("nextToken"))
    answer: dict[str, Any] = {"pipelines": chunk}
    if token:
        answer["nextToken"] = token
    return answer


OPERATIONS: dict[str, Handler] = {
    "start_pipeline_execution": _start_pipeline_execution,
    "get_pipeline_state": _get_pipeline_state,
    "get_pipeline_execution": _get_pipeline_execution,
    "list_pipeline_executions": _list_pipeline_executions,
    "list_action_executions": _list_action_executions,
    "put_approval_result": _put_approval_result,
    "stop_pipeline_execution": _stop_pipeline_execution,
    "retry_stage_execution": _retry_stage_execution,
    "rollback_stage": _rollback_stage,
    "disable_stage_transition": _disable_stage_transition,
    "enable_stage_transition": _enable_stage_transition,
    "list_pipelines": _list_pipelines,
    "get_pipeline": _get_pipeline,
    "override_stage_condition": _override_stage_condition,
    "list_rule_executions": _list_rule_executions,
    "list_rule_types": _list_rule_types,
}


def _method(engine: PipelineEngine, handler: Handler) -> Callable[[CodePipelineResponse], str]:
    def method(self: CodePipelineResponse) -> str:
        try:
            return json.dumps(handler(engine, Request(self)))
        except CodePipelineError as exc:
            raise JsonRESTError(exc.code, exc.message) from None

    method.__name__ = handler.__name__.lstrip("_")
    return method


def install(engine: PipelineEngine) -> None:
    """Make moto's CodePipeline endpoint answer with `engine`."""
    for name, handler in OPERATIONS.items():
        setattr(CodePipelineResponse, name, _method(engine, handler))

    # moto's own answer is passed on as it is: JSON text up to moto 5.2.5, an ActionResult it serialises from 5.2.6.
    def create_pipeline(self: CodePipelineResponse) -> Any:
        _check_conditions(self.body)
        return _MOTO_CREATE(self)

    def update_pipeline(self: CodePipelineResponse) -> Any:
        _check_conditions(self.body)
        answer = _MOTO_UPDATE(self)
        structure = json.loads(self.body or "{}").get("pipeline") or {}
        engine.pipeline_changed(self.current_account, self.region, str(structure.get("name", "")))
        return answer

    def delete_pipeline(self: CodePipelineResponse) -> Any:
        answer = _MOTO_DELETE(self)
        engine.pipeline_deleted(self.current_account, self.region, str(json.loads(self.body or "{}").get("name", "")))
        return answer

    setattr(CodePipelineResponse, "create_pipeline", create_pipeline)  # noqa: B010 - replaces a method
    setattr(CodePipelineResponse, "update_pipeline", update_pipeline)  # noqa: B010 - replaces a method
    setattr(CodePipelineResponse, "delete_pipeline", delete_pipeline)  # noqa: B010
