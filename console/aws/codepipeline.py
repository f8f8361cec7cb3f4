"""CodePipeline in the gateway: the conversion of its answers into the console's frozen dataclasses (pure functions),
and its calls (`CodePipelineCalls`, which `console.aws.gateway.Gateway` inherits) with the reads it allows and the
writes it never sends twice."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any, ClassVar

from console import model
from console.aws.calls import ServiceCalls
from console.aws.convert import Json, opt_int, opt_str, utc
from console.codepipeline import model as service_model
from console.codepipeline.model import (
    OPEN,
    Action,
    ActionExecution,
    Condition,
    ConditionKind,
    InboundExecution,
    InboundTransition,
    Pipeline,
    PipelineExecution,
    PipelineState,
    PipelineSummary,
    Rule,
    RuleExecution,
    Stage,
    StageCondition,
)
from console.model import SourceRevision

# --- Conversion of its answers ------------------------------------------------------------------------------


def _configuration(value: Any) -> tuple[tuple[str, str], ...]:
    if not isinstance(value, Mapping):
        return ()
    return tuple((str(k), str(v)) for k, v in value.items())


def pipeline_summary(item: Json) -> PipelineSummary:
    return PipelineSummary(
        name=str(item["name"]),
        version=opt_int(item.get("version")),
        pipeline_type=str(item.get("pipelineType") or "V1"),
        execution_mode=str(item.get("executionMode") or "SUPERSEDED"),
        created=utc(item.get("created")),
        updated=utc(item.get("updated")),
    )


def pipeline_structure(target: str, response: Json) -> Pipeline:
    """GetPipeline → a Pipeline with stages and action definitions, no state yet."""
    pipeline: Json = response.get("pipeline", {})
    stages = []
    for stage in pipeline.get("stages", ()):
        actions = []
        for action in stage.get("actions", ()):
            type_id: Json = action.get("actionTypeId", {})
            actions.append(
                Action(
                    name=str(action["name"]),
                    category=str(type_id.get("category", "")),
                    provider=str(type_id.get("provider", "")),
                    run_order=opt_int(action.get("runOrder")) or 1,
                    configuration=_configuration(action.get("configuration")),
                    timeout_minutes=opt_int(action.get("timeoutInMinutes")),
                )
            )
        stages.append(Stage(name=str(stage["name"]), actions=tuple(actions), conditions=declared_conditions(stage)))
    return Pipeline(
        target=target,
        name=str(pipeline.get("name", "")),
        version=opt_int(pipeline.get("version")),
        pipeline_type=str(pipeline.get("pipelineType") or "V1"),
        execution_mode=str(pipeline.get("executionMode") or "SUPERSEDED"),
        stages=tuple(stages),
    )


def declared_conditions(stage: Json) -> tuple[StageCondition, ...]:
    """A stage declaration's `beforeEntry` / `onSuccess` / `onFailure` (GetPipeline), without state."""
    found = []
    for kind in ConditionKind:
        declared = stage.get(kind.declaration_key)
        if not isinstance(declared, Mapping):
            continue
        conditions = []
        for condition in declared.get("conditions") or ():
            rules = []
            for rule in condition.get("rules") or ():
                type_id: Json = rule.get("ruleTypeId") or {}
                rules.append(
                    Rule(
                        name=str(rule.get("name", "")),
                        provider=str(type_id.get("provider", "")),
                        configuration=_configuration(rule.get("configuration")),
                    )
                )
            conditions.append(Condition(result=opt_str(condition.get("result")), rules=tuple(rules)))
        found.append(StageCondition(kind=kind, conditions=tuple(conditions), result=opt_str(declared.get("result"))))
    return tuple(found)


def _rule_state(item: Json) -> Rule:
    latest: Json = item.get("latestExecution") or {}
    errors: Json = latest.get("errorDetails") or {}
    return Rule(
        name=str(item.get("ruleName", "")),
        status=opt_str(latest.get("status")),
        summary=str(latest.get("summary") or ""),
        rule_execution_id=opt_str(latest.get("ruleExecutionId")),
        last_status_change=utc(latest.get("lastStatusChange")),
        last_updated_by=opt_str(latest.get("lastUpdatedBy")),
        error_code=opt_str(errors.get("code")),
        error_message=opt_str(errors.get("message")),
        url=opt_str(latest.get("externalExecutionUrl") or item.get("entityUrl")),
    )


def condition_states(item: Json) -> tuple[StageCondition, ...]:
    """A stage state's `beforeEntryConditionState` / `onSuccessConditionState` / `onFailureConditionState`."""
    found = []
    for kind in ConditionKind:
        state = item.get(kind.state_key)
        if not isinstance(state, Mapping):
            continue
        latest: Json = state.get("latestExecution") or {}
        conditions = []
        for condition in state.get("conditionStates") or ():
            execution: Json = condition.get("latestExecution") or {}
            conditions.append(
                Condition(
                    rules=tuple(_rule_state(r) for r in condition.get("ruleStates") or ()),
                    status=opt_str(execution.get("status")),
                    summary=str(execution.get("summary") or ""),
                    last_status_change=utc(execution.get("lastStatusChange")),
                )
            )
        found.append(
            StageCondition(
                kind=kind,
                conditions=tuple(conditions),
                status=opt_str(latest.get("status")),
                summary=str(latest.get("summary") or ""),
            )
        )
    return tuple(found)


def rule_execution(item: Json) -> RuleExecution:
    """A ListRuleExecutions detail."""
    given: Json = item.get("input") or {}
    type_id: Json = given.get("ruleTypeId") or {}
    output: Json = item.get("output") or {}
    result: Json = output.get("executionResult") or {}
    errors: Json = result.get("errorDetails") or {}
    return RuleExecution(
        pipeline_execution_id=str(item.get("pipelineExecutionId", "")),
        rule_execution_id=str(item.get("ruleExecutionId", "")),
        stage=str(item.get("stageName", "")),
        rule=str(item.get("ruleName", "")),
        status=str(item.get("status", "")),
        started=utc(item.get("startTime")),
        updated=utc(item.get("lastUpdateTime")),
        updated_by=opt_str(item.get("updatedBy")),
        provider=str(type_id.get("provider", "")),
        configuration=_configuration(given.get("resolvedConfiguration") or given.get("configuration")),
        summary=str(result.get("externalExecutionSummary") or ""),
        url=opt_str(result.get("externalExecutionUrl")),
        error_code=opt_str(errors.get("code")),
        error_message=opt_str(errors.get("message")),
    )


def _inbound(item: Json | None) -> InboundExecution | None:
    if not item or "pipelineExecutionId" not in item:
        return None
    return InboundExecution(
        id=str(item["pipelineExecutionId"]),
        status=str(item.get("status", "")),
        execution_type=str(item.get("type") or "STANDARD"),
    )


def _action_state(item: Json) -> Action:
    latest: Json = item.get("latestExecution") or {}
    errors: Json = latest.get("errorDetails") or {}
    revision: Json = item.get("currentRevision") or {}
    return Action(
        name=str(item["actionName"]),
        status=opt_str(latest.get("status")),
        summary=str(latest.get("summary") or ""),
        action_execution_id=opt_str(latest.get("actionExecutionId")),
        token=opt_str(latest.get("token")),
        last_status_change=utc(latest.get("lastStatusChange")),
        last_updated_by=opt_str(latest.get("lastUpdatedBy")),
        external_execution_id=opt_str(latest.get("externalExecutionId")),
        external_execution_url=opt_str(latest.get("externalExecutionUrl")),
        percent_complete=opt_int(latest.get("percentComplete")),
        error_code=opt_str(errors.get("code")),
        error_message=opt_str(errors.get("message")),
        current_revision=opt_str(revision.get("revisionId")),
        entity_url=opt_str(item.get("entityUrl")),
    )


def pipeline_state(response: Json) -> PipelineState:
    stages = []
    for item in response.get("stageStates", ()):
        latest: Json = item.get("latestExecution") or {}
        transition: Json = item.get("inboundTransitionState") or {}
        inbound = [_inbound(i) for i in item.get("inboundExecutions") or ()]
        transition_state = InboundTransition(
            enabled=bool(transition.get("enabled", True)),
            disabled_reason=str(transition.get("disabledReason") or ""),
            last_changed_by=opt_str(transition.get("lastChangedBy")),
            last_changed_at=utc(transition.get("lastChangedAt")),
        )
        single = _inbound(item.get("inboundExecution"))
        if single is not None and all(i is None or i.id != single.id for i in inbound):
            inbound.insert(0, single)
        stages.append(
            Stage(
                name=str(item["stageName"]),
                status=opt_str(latest.get("status")),
                execution_id=opt_str(latest.get("pipelineExecutionId")),
                execution_type=str(latest.get("type") or "STANDARD"),
                inbound=OPEN if transition_state == OPEN else transition_state,
                inbound_executions=tuple(i for i in inbound if i is not None),
                actions=tuple(_action_state(a) for a in item.get("actionStates") or ()),
                conditions=condition_states(item),
            )
        )
    return PipelineState(
        name=str(response.get("pipelineName", "")),
        version=opt_int(response.get("pipelineVersion")),
        stages=tuple(stages),
        created=utc(response.get("created")),
        updated=utc(response.get("updated")),
    )


def _source_revisions(items: Iterable[Json]) -> tuple[SourceRevision, ...]:
    return tuple(
        SourceRevision(
            action_name=str(item.get("actionName") or item.get("name") or ""),
            revision_id=str(item.get("revisionId") or ""),
            summary=revision_summary(item.get("revisionSummary")),
            url=opt_str(item.get("revisionUrl")),
        )
        for item in items
    )


def revision_summary(value: Any) -> str:
    """The commit message of a source revision, as its author wrote it.

    CodeConnections sources (GitHub, Bitbucket, GitLab) report `revisionSummary` as a small JSON document,
    `{"ProviderType": "GitHub", "CommitMessage": "..."}`; other sources (CodeCommit, S3, ECR) as plain text,
    which is kept as it is, and so is anything that only looks like that JSON.
    """
    text = str(value or "")
    if not text.lstrip().startswith("{"):
        return text
    try:
        document = json.loads(text)
    except ValueError:
        return text
    message = document.get("CommitMessage") if isinstance(document, dict) else None
    return message if isinstance(message, str) else text


def pipeline_execution(item: Json) -> PipelineExecution:
    """A ListPipelineExecutions summary or GetPipelineExecution's `pipelineExecution`.

    GetPipelineExecution names artifact revisions (by artifact name) instead of source revisions (by action
    name); both land in `source_revisions`.
    """
    trigger: Json = item.get("trigger") or {}
    rollback: Json = item.get("rollbackMetadata") or {}
    stop: Json = item.get("stopTrigger") or {}
    revisions = item.get("sourceRevisions")
    if revisions is None:
        revisions = item.get("artifactRevisions") or ()
    return PipelineExecution(
        id=str(item["pipelineExecutionId"]),
        status=str(item.get("status", "")),
        started=utc(item.get("startTime")),
        updated=utc(item.get("lastUpdateTime")),
        status_summary=str(item.get("statusSummary") or ""),
        trigger_type=str(trigger.get("triggerType") or ""),
        trigger_detail=str(trigger.get("triggerDetail") or ""),
        source_revisions=_source_revisions(revisions),
        execution_type=str(item.get("executionType") or "STANDARD"),
        rollback_target=opt_str(rollback.get("rollbackTargetPipelineExecutionId")),
        stop_reason=str(stop.get("reason") or ""),
    )


def action_execution(item: Json) -> ActionExecution:
    given: Json = item.get("input") or {}
    type_id: Json = given.get("actionTypeId") or {}
    output: Json = item.get("output") or {}
    result: Json = output.get("executionResult") or {}
    errors: Json = result.get("errorDetails") or {}
    return ActionExecution(
        pipeline_execution_id=str(item.get("pipelineExecutionId", "")),
        action_execution_id=str(item.get("actionExecutionId", "")),
        stage=str(item.get("stageName", "")),
        action=str(item.get("actionName", "")),
        status=str(item.get("status", "")),
        started=utc(item.get("startTime")),
        updated=utc(item.get("lastUpdateTime")),
        updated_by=opt_str(item.get("updatedBy")),
        pipeline_version=opt_int(item.get("pipelineVersion")),
        category=str(type_id.get("category", "")),
        provider=str(type_id.get("provider", "")),
        configuration=_configuration(given.get("configuration")),
        external_execution_id=opt_str(result.get("externalExecutionId")),
        external_execution_url=opt_str(result.get("externalExecutionUrl")),
        summary=str(result.get("externalExecutionSummary") or ""),
        error_code=opt_str(errors.get("code")),
        error_message=opt_str(errors.get("message")),
    )


# --- Its calls ------------------------------------------------------------------------------------------------

SERVICE = "codepipeline"  # the name botocore loads it under


class CodePipelineCalls(ServiceCalls):
    """CodePipeline's calls: pipelines, their state and executions; approvals, stops, retries, rollbacks."""

    READS: ClassVar[frozenset[str]] = frozenset(
        {
            "ListPipelines",
            "GetPipeline",
            "GetPipelineState",
            "GetPipelineExecution",
            "ListPipelineExecutions",
            "ListActionExecutions",
            "ListRuleExecutions",
        }
    )
    UNSAFE_TO_RESEND: ClassVar[Mapping[str, tuple[str, ...]]] = {
        "codepipeline": (
            "PutApprovalResult",
            "StopPipelineExecution",
            "RetryStageExecution",
            "RollbackStage",
            "DisableStageTransition",
            "EnableStageTransition",
        ),
    }

    # --- CodePipeline reads -----------------------------------------------------------------------------------

    async def list_pipelines(self, page_size: int = 1000) -> tuple[service_model.PipelineSummary, ...]:
        """Every pipeline of the target's region (all pages of `page_size`)."""
        params = {"maxResults": page_size}
        items = await self._all_pages(SERVICE, "ListPipelines", "pipelines", params)
        return tuple(pipeline_summary(item) for item in items)

    async def get_pipeline(self, name: str) -> service_model.Pipeline:
        """The structure: stages → actions with category, provider, runOrder, configuration (no state)."""
        response = await self._call(SERVICE, "GetPipeline", name=name)
        return pipeline_structure(self.target.name, response)

    async def get_pipeline_state(self, name: str) -> service_model.PipelineState:
        """Every stage's latest execution, inbound transition and executions, and action states (with tokens)."""
        response = await self._call(SERVICE, "GetPipelineState", name=name)
        return pipeline_state(response)

    async def list_pipeline_executions(
        self, name: str, max_results: int = 25, succeeded_in_stage: str | None = None, page_size: int = 100
    ) -> tuple[service_model.PipelineExecution, ...]:
        """The newest `max_results` executions, newest first (pages of up to `page_size` until there are enough)."""
        params: dict[str, Any] = {"pipelineName": name}
        if succeeded_in_stage:
            params["filter"] = {"succeededInStage": {"stageName": succeeded_in_stage}}
        items = await self._bounded_pages(
            SERVICE, "ListPipelineExecutions", "pipelineExecutionSummaries", params, max_results, page_size
        )
        return tuple(pipeline_execution(item) for item in items)

    async def get_pipeline_execution(self, name: str, execution_id: str) -> service_model.PipelineExecution:
        response = await self._call(
            SERVICE, "GetPipelineExecution", pipelineName=name, pipelineExecutionId=execution_id
        )
        return pipeline_execution(response.get("pipelineExecution") or {"pipelineExecutionId": execution_id})

    async def list_action_executions(
        self, name: str, execution_id: str, page_size: int = 100
    ) -> tuple[service_model.ActionExecution, ...]:
        """Every action run of one pipeline execution (all pages), newest first as AWS lists them."""
        params = {"pipelineName": name, "filter": {"pipelineExecutionId": execution_id}, "maxResults": page_size}
        items = await self._all_pages(SERVICE, "ListActionExecutions", "actionExecutionDetails", params)
        return tuple(action_execution(item) for item in items)

    async def list_rule_executions(
        self, name: str, execution_id: str | None = None, max_results: int = 50
    ) -> tuple[service_model.RuleExecution, ...]:
        """The newest rule evaluations of a pipeline (of one execution when given), newest first."""
        params: dict[str, Any] = {"pipelineName": name}
        if execution_id:
            params["filter"] = {"pipelineExecutionId": execution_id}
        items = await self._bounded_pages(
            SERVICE, "ListRuleExecutions", "ruleExecutionDetails", params, max_results, 100
        )
        return tuple(rule_execution(item) for item in items)

    # --- CodePipeline writes ------------------------------------------------------------------------------------

    async def override_stage_condition(
        self, pipeline: str, stage: str, execution_id: str, condition_type: str
    ) -> model.Receipt:
        """End a BEFORE_ENTRY or ON_SUCCESS evaluation in progress as if its conditions were met."""
        self._refuse_if_read_only("OverrideStageCondition")
        response = await self._call(
            SERVICE,
            "OverrideStageCondition",
            pipelineName=pipeline,
            stageName=stage,
            pipelineExecutionId=execution_id,
            conditionType=condition_type,
        )
        return self._receipt("OverrideStageCondition", response, execution_id)

    async def put_approval_result(
        self, pipeline: str, stage: str, action: str, token: str, approved: bool, summary: str
    ) -> model.Receipt:
        """Answer a manual approval; `token` is the action's current token from GetPipelineState."""
        self._refuse_if_read_only("PutApprovalResult")
        response = await self._call(
            SERVICE,
            "PutApprovalResult",
            pipelineName=pipeline,
            stageName=stage,
            actionName=action,
            result={"summary": summary, "status": "Approved" if approved else "Rejected"},
            token=token,
        )
        return self._receipt("PutApprovalResult", response, effective=response.get("approvedAt"))

    async def stop_pipeline_execution(
        self, pipeline: str, execution_id: str, abandon: bool = False, reason: str = ""
    ) -> model.Receipt:
        self._refuse_if_read_only("StopPipelineExecution")
        params: dict[str, Any] = {"pipelineName": pipeline, "pipelineExecutionId": execution_id, "abandon": abandon}
        if reason:
            params["reason"] = reason
        response = await self._call(SERVICE, "StopPipelineExecution", **params)
        return self._receipt("StopPipelineExecution", response, response.get("pipelineExecutionId") or execution_id)

    async def retry_stage_execution(
        self, pipeline: str, stage: str, execution_id: str, mode: str = "FAILED_ACTIONS"
    ) -> model.Receipt:
        self._refuse_if_read_only("RetryStageExecution")
        response = await self._call(
            SERVICE,
            "RetryStageExecution",
            pipelineName=pipeline,
            stageName=stage,
            pipelineExecutionId=execution_id,
            retryMode=mode,
        )
        return self._receipt("RetryStageExecution", response, response.get("pipelineExecutionId") or execution_id)

    async def rollback_stage(self, pipeline: str, stage: str, target_execution_id: str) -> model.Receipt:
        """Roll `stage` back to what `target_execution_id` deployed; the receipt names the new execution."""
        self._refuse_if_read_only("RollbackStage")
        response = await self._call(
            SERVICE,
            "RollbackStage",
            pipelineName=pipeline,
            stageName=stage,
            targetPipelineExecutionId=target_execution_id,
        )
        return self._receipt("RollbackStage", response, response.get("pipelineExecutionId"))

    async def disable_stage_transition(
        self, pipeline: str, stage: str, reason: str, transition_type: str = "Inbound"
    ) -> model.Receipt:
        self._refuse_if_read_only("DisableStageTransition")
        response = await self._call(
            SERVICE,
            "DisableStageTransition",
            pipelineName=pipeline,
            stageName=stage,
            transitionType=transition_type,
            reason=reason,
        )
        return self._receipt("DisableStageTransition", response)

    async def enable_stage_transition(
        self, pipeline: str, stage: str, transition_type: str = "Inbound"
    ) -> model.Receipt:
        self._refuse_if_read_only("EnableStageTransition")
        response = await self._call(
            SERVICE,
            "EnableStageTransition",
            pipelineName=pipeline,
            stageName=stage,
            transitionType=transition_type,
        )
        return self._receipt("EnableStageTransition", response)
