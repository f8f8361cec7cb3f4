"""A stage's conditions as a pipeline declares them (`beforeEntry`, `onSuccess`, `onFailure`), read and checked.

The shapes are botocore's `BeforeEntryConditions`, `SuccessConditions`, `FailureConditions`, `Condition` and
`RuleDeclaration`. `check_stage` refuses at CreatePipeline / UpdatePipeline what AWS refuses there, so a
mistake shows when the pipeline is declared, not in the middle of a deployment: a result the condition kind
does not allow (entry: FAIL or SKIP; on success: FAIL or ROLLBACK; on failure: ROLLBACK or RETRY), SKIP
with rules other than LambdaInvoke and VariableCheck, an unknown rule provider, a missing required rule
configuration key, a Cron the DeploymentWindow rule cannot read.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from console.sandbox.codepipeline import cron

BEFORE_ENTRY = "BEFORE_ENTRY"
ON_SUCCESS = "ON_SUCCESS"
ON_FAILURE = "ON_FAILURE"

# conditionType → the key of the stage declaration, and of GetPipelineState's stage state
DECLARATION_KEY = {BEFORE_ENTRY: "beforeEntry", ON_SUCCESS: "onSuccess", ON_FAILURE: "onFailure"}
STATE_KEY = {
    BEFORE_ENTRY: "beforeEntryConditionState",
    ON_SUCCESS: "onSuccessConditionState",
    ON_FAILURE: "onFailureConditionState",
}
RESULTS = {BEFORE_ENTRY: ("FAIL", "SKIP"), ON_SUCCESS: ("FAIL", "ROLLBACK"), ON_FAILURE: ("ROLLBACK", "RETRY")}
SKIP_PROVIDERS = ("LambdaInvoke", "VariableCheck")

# The rule types of AWS's rule reference: provider → (configuration keys, required ones).
RULE_TYPES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "CloudWatchAlarm": (("AlarmName", "AlarmStates", "WaitTime"), ("AlarmName",)),
    "DeploymentWindow": (("Cron", "TimeZone"), ("Cron",)),
    "VariableCheck": (("Variable", "Value", "Operator"), ("Variable", "Value", "Operator")),
    "Commits": (("Paths",), ("Paths",)),
    "LambdaInvoke": (("FunctionName", "UserParameters"), ("FunctionName",)),
}
OPERATORS = ("EQ", "NE", "CONTAINS", "MATCHES")
ALARM_STATES = ("ALARM", "OK", "INSUFFICIENT_DATA")


class ConditionDeclarationError(ValueError):
    """A stage condition AWS would refuse at CreatePipeline (InvalidStageDeclarationException)."""


@dataclass(frozen=True)
class RuleShape:
    name: str
    provider: str
    version: str
    configuration: Mapping[str, str]
    region: str
    role_arn: str | None = None
    timeout_minutes: int | None = None
    input_artifacts: tuple[str, ...] = ()

    @property
    def type_id(self) -> dict[str, str]:
        return {"category": "Rule", "owner": "AWS", "provider": self.provider, "version": self.version}


@dataclass(frozen=True)
class ConditionShape:
    result: str | None
    rules: tuple[RuleShape, ...]


@dataclass(frozen=True)
class ConditionSet:
    """One kind of condition of a stage: its conditions, and (onFailure) the result and retry mode of the stage."""

    kind: str
    conditions: tuple[ConditionShape, ...]
    result: str | None = None  # FailureConditions.result: what happens on failure when no condition says
    retry_mode: str = "FAILED_ACTIONS"


def read_stage(stage: Mapping[str, Any], default_region: str) -> dict[str, ConditionSet]:
    """The conditions of a stored stage declaration, by conditionType (already checked by `check_stage`)."""
    found: dict[str, ConditionSet] = {}
    for kind, key in DECLARATION_KEY.items():
        declared = stage.get(key)
        if not isinstance(declared, Mapping):
            continue
        conditions = tuple(
            ConditionShape(
                result=condition.get("result"),
                rules=tuple(_rule(rule, default_region) for rule in condition.get("rules") or []),
            )
            for condition in declared.get("conditions") or []
            if isinstance(condition, Mapping)
        )
        retry = declared.get("retryConfiguration") or {}
        found[kind] = ConditionSet(
            kind,
            conditions,
            result=declared.get("result"),
            retry_mode=str(retry.get("retryMode") or "FAILED_ACTIONS") if isinstance(retry, Mapping) else "",
        )
    return found


def _rule(rule: Mapping[str, Any], default_region: str) -> RuleShape:
    type_id = rule.get("ruleTypeId") or {}
    configuration = rule.get("configuration") or {}
    return RuleShape(
        name=str(rule.get("name", "")),
        provider=str(type_id.get("provider", "")),
        version=str(type_id.get("version") or "1"),
        configuration={str(k): str(v) for k, v in configuration.items()},
        region=str(rule.get("region") or default_region),
        role_arn=rule.get("roleArn"),
        timeout_minutes=rule.get("timeoutInMinutes"),
        input_artifacts=tuple(str(a.get("name")) for a in rule.get("inputArtifacts") or [] if a.get("name")),
    )


def check_stage(stage: Mapping[str, Any]) -> None:
    """Raise ConditionDeclarationError for a stage condition AWS refuses; say which stage, kind and rule."""
    name = stage.get("name", "?")
    for kind, key in DECLARATION_KEY.items():
        declared = stage.get(key)
        if declared is None:
            continue
        where = f"stage '{name}' {key}"
        if not isinstance(declared, Mapping):
            raise ConditionDeclarationError(f"{where} must be an object")
        conditions = declared.get("conditions")
        if kind != ON_FAILURE and not conditions:
            raise ConditionDeclarationError(f"{where} needs conditions (one condition)")
        top = declared.get("result")
        if kind == ON_FAILURE:
            if top is not None and top not in RESULTS[kind]:
                raise ConditionDeclarationError(f"{where}: result {top} is not allowed; use ROLLBACK or RETRY")
            if top is None and not conditions:
                raise ConditionDeclarationError(f"{where} needs a result or conditions")
        elif top is not None:
            raise ConditionDeclarationError(f"{where}: result belongs in each condition, not in {key}")
        if conditions is not None and (not isinstance(conditions, list) or len(conditions) != 1):
            raise ConditionDeclarationError(f"{where}: conditions must hold exactly one condition")
        for condition in conditions or []:
            _check_condition(where, kind, condition, top)


def _check_condition(where: str, kind: str, condition: Any, top: str | None) -> None:
    if not isinstance(condition, Mapping):
        raise ConditionDeclarationError(f"{where}: a condition must be an object")
    result = condition.get("result") or top
    allowed = RESULTS[kind]
    if result is None:
        raise ConditionDeclarationError(f"{where}: the condition needs a result ({' or '.join(allowed)})")
    if result not in allowed:
        raise ConditionDeclarationError(
            f"{where}: result {result} is not allowed for this condition; use {' or '.join(allowed)}"
        )
    rules = condition.get("rules")
    if not isinstance(rules, list) or not 1 <= len(rules) <= 5:
        raise ConditionDeclarationError(f"{where}: a condition holds 1 to 5 rules")
    names: set[str] = set()
    for rule in rules:
        _check_rule(where, rule, names)
        if result == "SKIP" and rule["ruleTypeId"]["provider"] not in SKIP_PROVIDERS:
            raise ConditionDeclarationError(
                f"{where}: result SKIP is allowed only with LambdaInvoke or VariableCheck rules, "
                f"not {rule['ruleTypeId']['provider']} (rule '{rule.get('name')}')"
            )


def _check_rule(where: str, rule: Any, names: set[str]) -> None:
    if not isinstance(rule, Mapping) or not rule.get("name") or not isinstance(rule.get("ruleTypeId"), Mapping):
        raise ConditionDeclarationError(f"{where}: every rule needs a name and a ruleTypeId")
    name = str(rule["name"])
    if name in names:
        raise ConditionDeclarationError(f"{where}: two rules are named '{name}'")
    names.add(name)
    type_id = rule["ruleTypeId"]
    provider = type_id.get("provider")
    if type_id.get("category") != "Rule" or type_id.get("owner", "AWS") != "AWS":
        raise ConditionDeclarationError(f"{where}: rule '{name}': ruleTypeId needs category Rule and owner AWS")
    if provider not in RULE_TYPES:
        raise ConditionDeclarationError(
            f"{where}: rule '{name}': provider '{provider}' is not a rule type ({', '.join(sorted(RULE_TYPES))})"
        )
    keys, required = RULE_TYPES[provider]
    configuration = rule.get("configuration") or {}
    for key in configuration:
        if key not in keys:
            raise ConditionDeclarationError(
                f"{where}: rule '{name}': {provider} has no configuration key '{key}' ({', '.join(keys)})"
            )
    for key in required:
        if not configuration.get(key):
            raise ConditionDeclarationError(f"{where}: rule '{name}': {provider} needs configuration '{key}'")
    _check_values(f"{where}: rule '{name}'", provider, configuration)


def _check_values(where: str, provider: str, configuration: Mapping[str, Any]) -> None:
    if provider == "DeploymentWindow":
        try:
            cron.parse(str(configuration["Cron"]), str(configuration.get("TimeZone") or "UTC"))
        except cron.CronError as exc:
            raise ConditionDeclarationError(f"{where}: {exc}") from None
    elif provider == "VariableCheck" and configuration["Operator"] not in OPERATORS:
        raise ConditionDeclarationError(f"{where}: Operator must be one of {', '.join(OPERATORS)}")
    elif provider == "CloudWatchAlarm":
        states = [s.strip() for s in str(configuration.get("AlarmStates") or "ALARM").split(",")]
        if any(state not in ALARM_STATES for state in states):
            raise ConditionDeclarationError(f"{where}: AlarmStates takes {', '.join(ALARM_STATES)}")
        wait = configuration.get("WaitTime")
        if wait is not None:
            try:
                minutes = float(str(wait))
            except ValueError:
                minutes = -1.0
            if minutes < 0:
                raise ConditionDeclarationError(f"{where}: WaitTime is a number of minutes, got '{wait}'")
