"""CodePipeline in the gateway: the conversion of its answers into the console's frozen dataclasses."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from console.aws.convert import Json, opt_int, opt_str, utc
from console.model import (
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
    SourceRevision,
    Stage,
    StageCondition,
)

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
        single = _inbound(item.get("inboundExecution"))
        if single is not None and all(i is None or i.id != single.id for i in inbound):
            inbound.insert(0, single)
        stages.append(
            Stage(
                name=str(item["stageName"]),
                status=opt_str(latest.get("status")),
                execution_id=opt_str(latest.get("pipelineExecutionId")),
                execution_type=str(latest.get("type") or "STANDARD"),
                inbound=InboundTransition(
                    enabled=bool(transition.get("enabled", True)),
                    disabled_reason=str(transition.get("disabledReason") or ""),
                    last_changed_by=opt_str(transition.get("lastChangedBy")),
                    last_changed_at=utc(transition.get("lastChangedAt")),
                ),
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
