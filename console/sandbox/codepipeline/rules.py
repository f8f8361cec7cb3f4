"""What each rule provider of a stage condition decides, at a given moment.

A rule is evaluated again and again while it is in progress (every engine tick, or at the moment it asked
to be looked at again) until it succeeds or fails. Sandbox readings of AWS's rule reference (the README
lists them):

- **CloudWatchAlarm** reads the alarms of the sandbox's own CloudWatch (moto's, on the same endpoint, so
  `aws cloudwatch set-alarm-state` trips them). `AlarmName` may name several alarms, comma-separated;
  `AlarmStates` (default ALARM) are the states that count against the rule. In an entry condition the rule
  waits up to `WaitTime` minutes for the alarms to leave those states and fails when they have not (no
  WaitTime: it fails at once). After a stage (onSuccess, onFailure) `WaitTime` is a bake: the rule watches
  the alarms that long, fails the moment one enters a monitored state, and succeeds when the time is up.
  WaitTime is in minutes of definition time (shortened by `--speed`); fractions are accepted.
- **DeploymentWindow** is open while the sandbox's definition clock (`SandboxClock.definition_time`, which
  `--speed` makes run faster) matches `Cron` in `TimeZone`. While it is closed the rule waits for the next
  opening, unless the rule's `timeoutInMinutes` runs out first.
- **VariableCheck** resolves `Variable` (`#{variables.NAME}`, `#{codepipeline.PipelineExecutionId}`) and
  compares it with `Value` by `Operator` (EQ, NE, CONTAINS, MATCHES: a regular expression matching the
  whole value). A variable the sandbox cannot resolve fails the rule, saying so.
- **LambdaInvoke** invokes a function the definitions declare under `functions:` (the registry the Step
  Functions interpreter uses, `stepfunctions/lambdas.py`) with a job event that carries the rule's
  configuration (`UserParameters` included). The rule stays in progress for the function's `duration` on the
  sandbox clock, then the function answers once: an error (its `fail` chance, or a JSONata expression that
  throws, `$error(...)` say) fails the rule with the error's type and message; any result passes it. A
  function nobody declared fails the rule with `FunctionNotFound`, saying which functions exist.
- **Commits** is not simulated: such a rule fails at once with error code `NotSimulated`, so nothing passes a
  gate it never checked.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from console.sandbox.clock import SandboxClock
from console.sandbox.codepipeline import cron
from console.sandbox.codepipeline.condition_shapes import BEFORE_ENTRY, RuleShape
from console.sandbox.codepipeline.records import FAILED, IN_PROGRESS, SUCCEEDED

_UNRESOLVED = re.compile(r"#\{[^}]*\}")


@dataclass(frozen=True)
class Verdict:
    """A rule's status at one moment; `recheck` is when an in-progress rule wants to be looked at again."""

    status: str
    summary: str
    recheck: datetime | None = None
    error_code: str | None = None
    external_url: str | None = None


@dataclass(frozen=True)
class RuleContext:
    """What a rule evaluation may read: the rule, its resolved configuration, its condition kind and start."""

    shape: RuleShape
    configuration: Mapping[str, str]
    kind: str
    start: datetime
    account: str
    rule_id: str = ""
    pipeline: str = ""
    stage: str = ""
    execution_id: str = ""


def evaluate(context: RuleContext, now: datetime, clock: SandboxClock) -> Verdict:
    provider = context.shape.provider
    if provider == "CloudWatchAlarm":
        verdict = _alarm(context, now, clock)
    elif provider == "DeploymentWindow":
        verdict = _window(context, now, clock)
    elif provider == "VariableCheck":
        verdict = _variable(context)
    elif provider == "LambdaInvoke":
        from console.sandbox.codepipeline import lambda_rule  # imports moto's Step Functions interpreter

        verdict = lambda_rule.evaluate(context, now, clock)
    else:
        verdict = Verdict(
            FAILED,
            f"The sandbox does not simulate {provider} rules; the rule fails rather than pass unchecked",
            error_code="NotSimulated",
        )
    if verdict.status == IN_PROGRESS and context.shape.timeout_minutes:
        deadline = context.start + clock.scale(context.shape.timeout_minutes * 60.0)
        if now >= deadline:
            return Verdict(
                FAILED,
                f"Timed out after {context.shape.timeout_minutes} minutes: {verdict.summary}",
                error_code="RuleTimedOut",
                external_url=verdict.external_url,
            )
        if verdict.recheck is None or verdict.recheck > deadline:
            verdict = Verdict(verdict.status, verdict.summary, deadline, verdict.error_code, verdict.external_url)
    return verdict


def alarm_names(configuration: Mapping[str, str]) -> list[str]:
    return [name.strip() for name in configuration.get("AlarmName", "").split(",") if name.strip()]


def alarm_url(region: str, names: list[str]) -> str | None:
    if not names:
        return None
    return f"https://{region}.console.aws.amazon.com/cloudwatch/home?region={region}#alarmsV2:alarm/{names[0]}"


def function_url(region: str, function_name: str) -> str | None:
    """The Lambda console page of a rule's function (a bare name; an ARN's region and name win)."""
    if not function_name:
        return None
    if ":function:" in function_name:
        head, _, tail = function_name.partition(":function:")
        parts = head.split(":")
        region = parts[3] if len(parts) >= 4 and parts[3] else region
        function_name = tail.split(":", 1)[0]
    return f"https://{region}.console.aws.amazon.com/lambda/home?region={region}#/functions/{function_name}"


def _alarm(context: RuleContext, now: datetime, clock: SandboxClock) -> Verdict:
    from moto.cloudwatch.models import cloudwatch_backends

    region = context.shape.region
    names = alarm_names(context.configuration)
    url = alarm_url(region, names)
    monitored = {s.strip() for s in (context.configuration.get("AlarmStates") or "ALARM").split(",")}
    try:
        alarms = cloudwatch_backends[context.account][region].alarms
    except KeyError:
        alarms = {}
    missing = [name for name in names if name not in alarms]
    if missing:
        return Verdict(
            FAILED,
            f"CloudWatch alarm {', '.join(missing)} does not exist in {region}",
            error_code="AlarmNotFound",
            external_url=url,
        )
    states = {name: str(alarms[name].state_value) for name in names}
    firing = [f"{name} is {state}" for name, state in states.items() if state in monitored]
    shown = ", ".join(f"{name} {state}" for name, state in states.items())
    minutes = float(context.configuration.get("WaitTime") or 0)
    end = context.start + clock.scale(minutes * 60.0)
    if context.kind == BEFORE_ENTRY:
        if not firing:
            return Verdict(SUCCEEDED, f"Alarms clear: {shown}", external_url=url)
        if now >= end:
            waited = f" after waiting {_minutes(minutes)}" if minutes else ""
            return Verdict(
                FAILED, f"Alarm {'; '.join(firing)}{waited}", error_code="AlarmInMonitoredState", external_url=url
            )
        return Verdict(
            IN_PROGRESS,
            f"Waiting until {_at(end)} for {'; '.join(firing)} to clear",
            recheck=None,
            external_url=url,
        )
    if firing:
        return Verdict(
            FAILED, f"Alarm {'; '.join(firing)} during the wait", error_code="AlarmInMonitoredState", external_url=url
        )
    if now >= end:
        baked = f" for {_minutes(minutes)}" if minutes else ""
        return Verdict(SUCCEEDED, f"Alarms stayed clear{baked}: {shown}", external_url=url)
    return Verdict(IN_PROGRESS, f"Baking until {_at(end)}, watching {shown}", recheck=None, external_url=url)


def _window(context: RuleContext, now: datetime, clock: SandboxClock) -> Verdict:
    expression = context.configuration.get("Cron", "")
    zone = context.configuration.get("TimeZone") or "UTC"
    try:
        window = cron.parse(expression, zone)
    except cron.CronError as exc:  # checked at CreatePipeline; a variable may still make it unreadable
        return Verdict(FAILED, str(exc), error_code="ConfigurationError")
    shown = f"'{expression}' ({zone})"
    moment = clock.definition_time(now)
    if window.is_open(moment):
        return Verdict(SUCCEEDED, f"Deployment window {shown} is open")
    opens = window.next_open(moment)
    if opens is None:
        return Verdict(
            FAILED, f"Deployment window {shown} does not open in the next four years", error_code="WindowNeverOpens"
        )
    local = opens.astimezone(window.zone).strftime("%Y-%m-%d %H:%M %Z")
    real = clock.real_time(opens)
    return Verdict(
        IN_PROGRESS,
        f"Deployment window {shown} is closed; it opens at {local} (definition time), at {_at(real)}",
        recheck=max(real, now + timedelta(milliseconds=1)),
    )


def _variable(context: RuleContext) -> Verdict:
    configuration = context.configuration
    variable, value, operator = configuration["Variable"], configuration["Value"], configuration["Operator"]
    unresolved = _UNRESOLVED.findall(variable) + _UNRESOLVED.findall(value)
    if unresolved:
        return Verdict(FAILED, f"The sandbox cannot resolve {', '.join(unresolved)}", error_code="VariableNotResolved")
    if operator == "EQ":
        passed = variable == value
    elif operator == "NE":
        passed = variable != value
    elif operator == "CONTAINS":
        passed = value in variable
    else:
        try:
            passed = re.fullmatch(value, variable) is not None
        except re.error as exc:
            summary = f"Value '{value}' is not a regular expression: {exc}"
            return Verdict(FAILED, summary, error_code="ConfigurationError")
    words = {"EQ": "equals", "NE": "does not equal", "CONTAINS": "contains", "MATCHES": "matches"}[operator]
    if passed:
        return Verdict(SUCCEEDED, f"'{variable}' {words} '{value}'")
    return Verdict(FAILED, f"'{variable}' does not satisfy {operator} '{value}'", error_code="VariableCheckFailed")


def _minutes(minutes: float) -> str:
    return f"{minutes:g} minute{'s' if minutes != 1 else ''}"


def _at(when: datetime) -> str:
    return when.strftime("%H:%M:%S UTC")
