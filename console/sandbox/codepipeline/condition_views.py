"""Stage conditions in the shapes of CodePipeline's responses: GetPipelineState's condition states,
ListRuleExecutions' details and ListRuleTypes' rule types (botocore's codepipeline model).

GetPipelineState shows, for each kind of condition a stage declares, the latest evaluation in the stage's
latest execution (`latestExecution`, absent until one ran) and each condition with each rule's latest run.
"""

from __future__ import annotations

from typing import Any

from console.sandbox.codepipeline.condition_shapes import RULE_TYPES, STATE_KEY
from console.sandbox.codepipeline.conditions import ConditionsRun, RuleRun
from console.sandbox.codepipeline.records import StageRun, StageShape
from console.sandbox.codepipeline.rules import alarm_names, alarm_url, function_url


def epoch(when: Any) -> float:
    from console.sandbox.codepipeline.views import epoch as to_epoch

    return to_epoch(when)


def _put(target: dict[str, Any], key: str, value: Any) -> None:
    if value not in (None, "", [], {}):
        target[key] = value


def stage_conditions(shape: StageShape, latest: StageRun | None) -> dict[str, Any]:
    """The `*ConditionState` members (and `retryStageMetadata`) of one stage state."""
    view: dict[str, Any] = {}
    for kind, declared in shape.conditions.items():
        if not declared.conditions:
            continue  # onFailure with a result only: nothing is evaluated
        run: ConditionsRun | None = latest.conditions.get(kind) if latest is not None else None
        state: dict[str, Any] = {}
        if run is not None:
            execution: dict[str, Any] = {"status": run.status}
            _put(execution, "summary", run.summary)
            state["latestExecution"] = execution
            state["conditionStates"] = [
                {
                    "latestExecution": _condition_execution(c.status, c.summary, c.updated),
                    "ruleStates": [_rule_state(rule) for rule in c.rules],
                }
                for c in run.conditions
            ]
        else:
            state["conditionStates"] = [
                {
                    "ruleStates": [
                        _declared_rule(rule.name, rule.provider, rule.region, rule.configuration)
                        for rule in condition.rules
                    ]
                }
                for condition in declared.conditions
            ]
        view[STATE_KEY[kind]] = state
    if latest is not None and (latest.auto_retries or latest.manual_retries):
        metadata: dict[str, Any] = {
            "autoStageRetryAttempt": latest.auto_retries,
            "manualStageRetryAttempt": latest.manual_retries,
        }
        _put(metadata, "latestRetryTrigger", latest.retry_trigger)
        view["retryStageMetadata"] = metadata
    return view


def _condition_execution(status: str, summary: str | None, updated: Any) -> dict[str, Any]:
    view: dict[str, Any] = {"status": status}
    _put(view, "summary", summary)
    if updated is not None:
        view["lastStatusChange"] = epoch(updated)
    return view


def _declared_rule(name: str, provider: str, region: str, configuration: Any) -> dict[str, Any]:
    view: dict[str, Any] = {"ruleName": name}
    if provider == "CloudWatchAlarm":
        _put(view, "entityUrl", alarm_url(region, alarm_names(configuration)))
    elif provider == "LambdaInvoke":
        _put(view, "entityUrl", function_url(region, str(configuration.get("FunctionName", ""))))
    return view


def _rule_state(rule: RuleRun) -> dict[str, Any]:
    view = _declared_rule(rule.shape.name, rule.shape.provider, rule.shape.region, rule.configuration)
    latest: dict[str, Any] = {
        "ruleExecutionId": rule.id,
        "status": rule.status,
        "lastStatusChange": epoch(rule.updated),
    }
    _put(latest, "summary", (rule.summary or "")[:2048])
    _put(latest, "lastUpdatedBy", rule.updated_by)
    _put(latest, "externalExecutionUrl", rule.external_url)
    if rule.error_code:
        latest["errorDetails"] = {"code": rule.error_code, "message": (rule.summary or rule.error_code)[:5000]}
    view["latestExecution"] = latest
    return view


def rule_detail(rule: RuleRun) -> dict[str, Any]:
    """ListRuleExecutions' ruleExecutionDetails item."""
    execution = rule.stage.execution
    rule_input: dict[str, Any] = {
        "ruleTypeId": rule.shape.type_id,
        "configuration": dict(rule.shape.configuration),
        "resolvedConfiguration": dict(rule.configuration),
        "region": rule.shape.region,
        "inputArtifacts": [],
    }
    _put(rule_input, "roleArn", rule.shape.role_arn or execution.shape.role_arn)
    result: dict[str, Any] = {}
    _put(result, "externalExecutionSummary", rule.summary)
    _put(result, "externalExecutionUrl", rule.external_url)
    if rule.error_code:
        result["errorDetails"] = {"code": rule.error_code, "message": (rule.summary or rule.error_code)[:5000]}
    view: dict[str, Any] = {
        "pipelineExecutionId": execution.id,
        "ruleExecutionId": rule.id,
        "pipelineVersion": execution.shape.version,
        "stageName": rule.stage.shape.name,
        "ruleName": rule.shape.name,
        "startTime": epoch(rule.start),
        "lastUpdateTime": epoch(rule.updated),
        "status": rule.status,
        "input": rule_input,
        "output": {"executionResult": result} if result else {},
    }
    _put(view, "updatedBy", rule.updated_by)
    return view


_DESCRIPTIONS = {
    "AlarmName": "The CloudWatch alarms to watch, comma-separated",
    "AlarmStates": "The alarm states that fail the rule (default ALARM)",
    "WaitTime": "Minutes to wait (before entry) or to bake (after the stage)",
    "Cron": "When deployments are allowed: seconds minutes hours day-of-month month day-of-week [year]",
    "TimeZone": "The time zone of Cron (default UTC)",
    "Variable": "The variable to check, such as #{variables.Release}",
    "Value": "The value to compare it with",
    "Operator": "EQ, NE, CONTAINS or MATCHES",
    "Paths": "File path patterns a commit must touch",
    "FunctionName": "The Lambda function to invoke",
    "UserParameters": "Parameters given to the function as input, in key-value pair format",
}


def rule_types() -> list[dict[str, Any]]:
    """ListRuleTypes' ruleTypes: the providers of AWS's rule reference."""
    types = []
    for provider, (keys, required) in RULE_TYPES.items():
        types.append(
            {
                "id": {"category": "Rule", "owner": "AWS", "provider": provider, "version": "1"},
                "ruleConfigurationProperties": [
                    {
                        "name": key,
                        "required": key in required,
                        "key": key in required,
                        "secret": False,
                        "queryable": False,
                        "description": _DESCRIPTIONS[key],
                        "type": "Number" if key == "WaitTime" else "String",
                    }
                    for key in keys
                ],
                # The rule reference's examples give Commits and LambdaInvoke rules a source artifact.
                "inputArtifactDetails": {
                    "minimumCount": 0,
                    "maximumCount": 1 if provider in ("Commits", "LambdaInvoke") else 0,
                },
            }
        )
    return types
