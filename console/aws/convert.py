"""AWS responses (botocore's parsed dicts) → the console's frozen dataclasses.

Pure functions, no IO. Every timestamp becomes an aware UTC datetime. Text from AWS is copied as it is.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from console.model import (
    Action,
    ActionExecution,
    Condition,
    ConditionKind,
    Execution,
    HistoryEvent,
    Identity,
    InboundExecution,
    InboundTransition,
    Pipeline,
    PipelineExecution,
    PipelineState,
    PipelineSummary,
    QueueMessage,
    Rule,
    RuleExecution,
    SourceRevision,
    Stage,
    StageCondition,
    StateMachineDetail,
    StateMachineSummary,
    TaskTokenState,
)

Json = Mapping[str, Any]


def utc(value: Any) -> datetime | None:
    """An aware UTC datetime from botocore's parsed timestamp (or epoch seconds / milliseconds, or ISO text)."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    if isinstance(value, int | float):
        seconds = value / 1000 if value > 1e11 else value  # SQS's SentTimestamp is in milliseconds
        return datetime.fromtimestamp(seconds, UTC)
    if isinstance(value, str):
        try:
            if value.isdigit():
                return utc(int(value))
            return utc(datetime.fromisoformat(value.replace("Z", "+00:00")))
        except ValueError:
            return None
    return None


def _str(value: Any) -> str | None:
    return None if value is None else str(value)


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _configuration(value: Any) -> tuple[tuple[str, str], ...]:
    if not isinstance(value, Mapping):
        return ()
    return tuple((str(k), str(v)) for k, v in value.items())


# --- STS --------------------------------------------------------------------------------------------------


def identity(response: Json) -> Identity:
    return Identity(
        account=str(response.get("Account", "")),
        arn=str(response.get("Arn", "")),
        user_id=str(response.get("UserId", "")),
    )


# --- CodePipeline -----------------------------------------------------------------------------------------


def pipeline_summary(item: Json) -> PipelineSummary:
    return PipelineSummary(
        name=str(item["name"]),
        version=_int(item.get("version")),
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
                    run_order=_int(action.get("runOrder")) or 1,
                    configuration=_configuration(action.get("configuration")),
                    timeout_minutes=_int(action.get("timeoutInMinutes")),
                )
            )
        stages.append(Stage(name=str(stage["name"]), actions=tuple(actions), conditions=declared_conditions(stage)))
    return Pipeline(
        target=target,
        name=str(pipeline.get("name", "")),
        version=_int(pipeline.get("version")),
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
            conditions.append(Condition(result=_str(condition.get("result")), rules=tuple(rules)))
        found.append(StageCondition(kind=kind, conditions=tuple(conditions), result=_str(declared.get("result"))))
    return tuple(found)


def _rule_state(item: Json) -> Rule:
    latest: Json = item.get("latestExecution") or {}
    errors: Json = latest.get("errorDetails") or {}
    return Rule(
        name=str(item.get("ruleName", "")),
        status=_str(latest.get("status")),
        summary=str(latest.get("summary") or ""),
        rule_execution_id=_str(latest.get("ruleExecutionId")),
        last_status_change=utc(latest.get("lastStatusChange")),
        last_updated_by=_str(latest.get("lastUpdatedBy")),
        error_code=_str(errors.get("code")),
        error_message=_str(errors.get("message")),
        url=_str(latest.get("externalExecutionUrl") or item.get("entityUrl")),
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
                    status=_str(execution.get("status")),
                    summary=str(execution.get("summary") or ""),
                    last_status_change=utc(execution.get("lastStatusChange")),
                )
            )
        found.append(
            StageCondition(
                kind=kind,
                conditions=tuple(conditions),
                status=_str(latest.get("status")),
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
        updated_by=_str(item.get("updatedBy")),
        provider=str(type_id.get("provider", "")),
        configuration=_configuration(given.get("resolvedConfiguration") or given.get("configuration")),
        summary=str(result.get("externalExecutionSummary") or ""),
        url=_str(result.get("externalExecutionUrl")),
        error_code=_str(errors.get("code")),
        error_message=_str(errors.get("message")),
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
        status=_str(latest.get("status")),
        summary=str(latest.get("summary") or ""),
        action_execution_id=_str(latest.get("actionExecutionId")),
        token=_str(latest.get("token")),
        last_status_change=utc(latest.get("lastStatusChange")),
        last_updated_by=_str(latest.get("lastUpdatedBy")),
        external_execution_id=_str(latest.get("externalExecutionId")),
        external_execution_url=_str(latest.get("externalExecutionUrl")),
        percent_complete=_int(latest.get("percentComplete")),
        error_code=_str(errors.get("code")),
        error_message=_str(errors.get("message")),
        current_revision=_str(revision.get("revisionId")),
        entity_url=_str(item.get("entityUrl")),
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
                status=_str(latest.get("status")),
                execution_id=_str(latest.get("pipelineExecutionId")),
                execution_type=str(latest.get("type") or "STANDARD"),
                inbound=InboundTransition(
                    enabled=bool(transition.get("enabled", True)),
                    disabled_reason=str(transition.get("disabledReason") or ""),
                    last_changed_by=_str(transition.get("lastChangedBy")),
                    last_changed_at=utc(transition.get("lastChangedAt")),
                ),
                inbound_executions=tuple(i for i in inbound if i is not None),
                actions=tuple(_action_state(a) for a in item.get("actionStates") or ()),
                conditions=condition_states(item),
            )
        )
    return PipelineState(
        name=str(response.get("pipelineName", "")),
        version=_int(response.get("pipelineVersion")),
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
            url=_str(item.get("revisionUrl")),
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
        rollback_target=_str(rollback.get("rollbackTargetPipelineExecutionId")),
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
        updated_by=_str(item.get("updatedBy")),
        pipeline_version=_int(item.get("pipelineVersion")),
        category=str(type_id.get("category", "")),
        provider=str(type_id.get("provider", "")),
        configuration=_configuration(given.get("configuration")),
        external_execution_id=_str(result.get("externalExecutionId")),
        external_execution_url=_str(result.get("externalExecutionUrl")),
        summary=str(result.get("externalExecutionSummary") or ""),
        error_code=_str(errors.get("code")),
        error_message=_str(errors.get("message")),
    )


# --- Step Functions ---------------------------------------------------------------------------------------


def state_machine_summary(item: Json) -> StateMachineSummary:
    return StateMachineSummary(
        arn=str(item["stateMachineArn"]),
        name=str(item.get("name", "")),
        type=str(item.get("type") or "STANDARD"),
        created=utc(item.get("creationDate")),
    )


def state_machine_detail(response: Json) -> StateMachineDetail:
    text = str(response.get("definition") or "")
    definition: Mapping[str, Any] = {}
    problem: str | None = None
    try:
        parsed = json.loads(text)
        if isinstance(parsed, Mapping):
            definition = parsed
        else:
            problem = "the definition is not a JSON object"
    except ValueError as exc:
        problem = f"the definition is not JSON: {exc}"
    return StateMachineDetail(
        arn=str(response.get("stateMachineArn", "")),
        name=str(response.get("name", "")),
        type=str(response.get("type") or "STANDARD"),
        definition_text=text,
        definition=definition,
        role_arn=str(response.get("roleArn") or ""),
        status=_str(response.get("status")),
        created=utc(response.get("creationDate")),
        revision_id=_str(response.get("revisionId")),
        task_token_states=tuple(task_token_states(definition)),
        states=tuple(state_names(definition)),
        definition_error=problem,
    )


def _walk_states(definition: Mapping[str, Any]) -> Iterable[tuple[str, Mapping[str, Any]]]:
    """Every state of an ASL document, nested ones (Parallel branches, Map processors) included."""
    states = definition.get("States")
    if not isinstance(states, Mapping):
        return
    for name, state in states.items():
        if not isinstance(state, Mapping):
            continue
        yield str(name), state
        for branch in state.get("Branches") or ():
            if isinstance(branch, Mapping):
                yield from _walk_states(branch)
        for key in ("ItemProcessor", "Iterator"):
            processor = state.get(key)
            if isinstance(processor, Mapping):
                yield from _walk_states(processor)


def state_names(definition: Mapping[str, Any]) -> list[str]:
    return [name for name, _ in _walk_states(definition)]


_JSONPATH_TOKEN = "$$.Task.Token"
_JSONATA_TOKEN = "$states.context.Task.Token"


def _token_paths(value: Any, path: tuple[str | int, ...]) -> Iterable[tuple[tuple[str | int, ...], str]]:
    """(key path, expression) of every value that is, or embeds, the task token (paths as resolved: `.$`
    suffixes dropped; list items by index)."""
    if isinstance(value, Mapping):
        for key, item in value.items():
            key = str(key)
            if key.endswith(".$"):
                if isinstance(item, str) and _MENTIONS_TOKEN.search(item):
                    yield (*path, key[:-2]), item
                continue
            yield from _token_paths(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _token_paths(item, (*path, index))
    elif isinstance(value, str) and path and value.lstrip().startswith("{%") and _MENTIONS_TOKEN.search(value):
        yield path, value  # JSONata `{% $states.context.Task.Token %}`


# `$$.Task.Token`, `$$.Task` or the whole context object `$$` (JSONPath), `$states.context...` (JSONata): any
# expression whose value holds the token, however it is wrapped (States.Format, States.JsonToString, ...).
_MENTIONS_TOKEN = re.compile(r"\$\$(?:\.Task\b|(?![.\w]))|\$states\.context(?:\.Task\b|(?![.\w]))")


def task_token_states(definition: Mapping[str, Any]) -> list[TaskTokenState]:
    """The `.waitForTaskToken` Task states and where their Parameters (or JSONata Arguments) put the token.

    `token_paths` hold the paths whose value is the token itself (what the gate answers with); every path
    that holds or embeds it, with the expression that put it there, is in `token_expressions` (what the
    displays redact: see console/tokens.py).
    """
    found = []
    for name, state in _walk_states(definition):
        resource = state.get("Resource")
        if state.get("Type") != "Task" or not isinstance(resource, str):
            continue
        if not resource.endswith(".waitForTaskToken"):
            continue
        located: list[tuple[tuple[str | int, ...], str]] = []
        for key in ("Parameters", "Arguments"):
            located.extend(_token_paths(state.get(key), ()))
        # The paths of the bare token first: `token_in` answers with the first one that holds a value.
        ordered = sorted(located, key=lambda item: not _exact_token(item[1]))
        keyed = tuple(tuple(str(k) for k in path) for path, _ in ordered if all(isinstance(k, str) for k in path))
        found.append(TaskTokenState(name=name, resource=resource, token_paths=keyed, token_expressions=tuple(located)))
    return found


def _exact_token(expression: str) -> bool:
    text = expression.strip()
    if text.startswith("{%") and text.endswith("%}"):
        text = text[2:-2].strip()
    return text in (_JSONPATH_TOKEN, _JSONATA_TOKEN)


def execution(item: Json) -> Execution:
    """A ListExecutions item or a DescribeExecution response."""
    return Execution(
        arn=str(item["executionArn"]),
        name=str(item.get("name") or str(item["executionArn"]).rsplit(":", 1)[-1]),
        state_machine_arn=str(item.get("stateMachineArn", "")),
        status=str(item.get("status", "")),
        started=utc(item.get("startDate")),
        stopped=utc(item.get("stopDate")),
        input=_str(item.get("input")),
        output=_str(item.get("output")),
        error=_str(item.get("error")),
        cause=_str(item.get("cause")),
        redrive_count=_int(item.get("redriveCount")) or 0,
        redrive_status=_str(item.get("redriveStatus")),
        redrive_status_reason=_str(item.get("redriveStatusReason")),
    )


def history_details(event: Json) -> Json:
    """The one `...EventDetails` member an event carries (empty when it has none)."""
    for key, value in event.items():
        if key.endswith("EventDetails") and isinstance(value, Mapping):
            return value
    return {}


class StateNames:
    """Remembers which state each event of one execution belongs to, across incremental reads.

    Only StateEntered / StateExited events name their state; the events in between (TaskScheduled, ...)
    point back through `previousEventId`. When that chain is missing, the state entered last and not yet
    exited is the best answer.
    """

    def __init__(self) -> None:
        self.by_id: dict[int, str | None] = {}
        self.open: str | None = None

    def name_of(self, event_id: int, event_type: str, previous_id: int, details: Json) -> str | None:
        name: str | None
        if event_type.endswith("StateEntered"):
            name = _str(details.get("name"))
            self.open = name
        elif event_type.endswith("StateExited"):
            name = _str(details.get("name"))
            self.open = None
        elif event_type.startswith("Execution"):
            name = None
        elif previous_id and self.by_id.get(previous_id):
            name = self.by_id[previous_id]
        else:
            name = self.open
        self.by_id[event_id] = name
        return name


def _resource(details: Json) -> str | None:
    """The resource as the definition names it: AWS splits service integrations into `resourceType` ("sqs")
    and `resource` ("sendMessage.waitForTaskToken"); joined back, it matches the state's `Resource`."""
    resource = _str(details.get("resource"))
    kind = _str(details.get("resourceType"))
    if resource and kind and not resource.startswith("arn:"):
        return f"arn:aws:states:::{kind}:{resource}"
    return resource


def history_event(event: Json, names: StateNames | None = None) -> HistoryEvent:
    details = history_details(event)
    event_id = int(event["id"])
    event_type = str(event.get("type", ""))
    previous = int(event.get("previousEventId") or 0)
    state_name = (names or StateNames()).name_of(event_id, event_type, previous, details)
    return HistoryEvent(
        id=event_id,
        type=event_type,
        timestamp=utc(event.get("timestamp")) or datetime.fromtimestamp(0, UTC),
        previous_id=previous,
        state_name=state_name,
        resource=_resource(details),
        parameters=_str(details.get("parameters")),
        input=_str(details.get("input")),
        output=_str(details.get("output")),
        error=_str(details.get("error")),
        cause=_str(details.get("cause")),
        timeout_seconds=_int(details.get("timeoutInSeconds")),
        index=_int(details.get("index")) if event_type.startswith("MapIteration") else None,
    )


# --- SQS --------------------------------------------------------------------------------------------------


def queue_message(item: Json) -> QueueMessage:
    attributes: Json = item.get("Attributes") or {}
    count = attributes.get("ApproximateReceiveCount")
    return QueueMessage(
        message_id=str(item.get("MessageId", "")),
        receipt_handle=str(item.get("ReceiptHandle", "")),
        body=str(item.get("Body", "")),
        sent=utc(attributes.get("SentTimestamp")),
        receive_count=int(count) if isinstance(count, str) and count.isdigit() else 1,
    )
