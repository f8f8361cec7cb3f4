"""Stage conditions in the core, against the sandbox over HTTP: read into the model (a bake in progress, an entry
condition held by an alarm), and overridden through the one gate (reason, fresh read, production confirmation,
audit record), refused plainly where AWS refuses.

Each test declares its own pipeline the way AWS's user guide shows conditions and drives it by setting alarm
states in the sandbox's CloudWatch. At the session's speed (40) a WaitTime of 1 minute lasts 1.5 s.
"""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta
from typing import Any

import pytest

from console.actions.audit import AuditLog
from console.actions.gate import ActionGate, ActionKind
from console.aws.gateway import Gateway
from console.codepipeline.model import ConditionKind, Pipeline
from console.errors import Refused
from tests.conftest import REGION
from tests.core.test_actions_codepipeline import WAVES, sandbox_target
from tests.sandbox.test_codepipeline_conditions import alarm_rule, conditioned, make_alarm, variable_rule
from tests.sandbox.test_codepipeline_support import (  # noqa: F401 - delete_created_pipelines is autouse
    action,
    create,
    delete_created_pipelines,
    source,
    stage,
    start,
    wait_status,
)
from tests.selections import sel

TARGET = f"sandbox/{REGION}"


async def read(gateway: Gateway, name: str) -> Pipeline:
    structure = await gateway.get_pipeline(name)
    return (await gateway.get_pipeline_state(name)).apply_to(structure)


async def wait_held(gateway: Gateway, name: str, stage_name: str, kind: ConditionKind) -> Pipeline:
    """The pipeline once `kind` conditions hold `stage_name` (polled with a deadline)."""
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        pipeline = await read(gateway, name)
        found = pipeline.stage(stage_name)
        held = found.held_by if found is not None else None
        if held is not None and held.kind is kind:
            return pipeline
        await asyncio.sleep(0.1)
    raise AssertionError(f"{name}/{stage_name} never held by {kind.label}")


def entry_held_by_alarm(aws: Any, stage_name: str = "Prod-Canary") -> tuple[str, str, str]:
    """A pipeline whose execution waits before `stage_name` for an alarm in ALARM: (pipeline, execution, alarm)."""
    cp = aws("codepipeline")
    alarm = make_alarm(aws, "ALARM")
    entry = {"conditions": [{"result": "FAIL", "rules": [alarm_rule("QuietProduction", alarm, wait="60")]}]}
    name = create(
        cp, source(), conditioned(stage_name, action("Deploy", SandboxDuration="1"), beforeEntry=entry), prefix="cond"
    )
    return name, start(cp, name), alarm


def stop(aws: Any, name: str, execution_id: str) -> None:
    aws("codepipeline").stop_pipeline_execution(pipelineName=name, pipelineExecutionId=execution_id, abandon=True)


# --- reading -------------------------------------------------------------------------------------------------


async def test_a_bake_in_progress_reads_with_its_rule_what_it_watches_and_when_it_ends(
    aws: Any, gateway: Gateway
) -> None:
    cp = aws("codepipeline")
    alarm = make_alarm(aws)
    bake = {"conditions": [{"result": "ROLLBACK", "rules": [alarm_rule("ZoneBake", alarm, wait="20")]}]}
    name = create(cp, source(), conditioned("Prod", action("Deploy", SandboxDuration="1"), onSuccess=bake))
    execution_id = start(cp, name)

    pipeline = await wait_held(gateway, name, "Prod", ConditionKind.ON_SUCCESS)

    prod = pipeline.stage("Prod")
    assert prod is not None
    held = prod.held_by
    assert held is not None
    assert prod.execution_id == execution_id
    assert held.status == "InProgress"
    assert held.results == ("ROLLBACK",)
    assert held.not_overridable is None
    (rule,) = held.rules
    assert (rule.name, rule.provider, rule.status) == ("ZoneBake", "CloudWatchAlarm", "InProgress")
    assert rule.alarms == (alarm,)
    assert rule.wait_minutes == 20
    assert rule.watches() == f"alarm {alarm}"
    assert alarm in rule.summary
    assert rule.last_status_change is not None
    assert held.ends() == rule.last_status_change + timedelta(minutes=20)
    assert rule.url
    assert alarm in rule.url
    # The structure alone knows the declaration, the state alone the evaluation: both are in the merge.
    assert (await gateway.get_pipeline(name)).stages[1].conditions[0].rules[0].status is None

    runs = await gateway.list_rule_executions(name, execution_id)
    assert [(r.stage, r.rule, r.status, r.provider) for r in runs] == [
        ("Prod", "ZoneBake", "InProgress", "CloudWatchAlarm")
    ]
    assert runs[0].started is not None
    assert dict(runs[0].configuration)["AlarmName"] == alarm
    stop(aws, name, execution_id)


async def test_an_entry_condition_held_by_an_alarm_reads_as_held_before_the_stage(aws: Any, gateway: Gateway) -> None:
    name, execution_id, alarm = entry_held_by_alarm(aws)

    pipeline = await wait_held(gateway, name, "Prod-Canary", ConditionKind.BEFORE_ENTRY)

    canary = pipeline.stage("Prod-Canary")
    assert canary is not None
    assert canary.held_by is not None
    (rule,) = canary.held_by.rules
    assert rule.alarms == (alarm,)
    assert f"{alarm} is ALARM" in rule.summary
    assert all(a.status is None for a in canary.actions)
    stop(aws, name, execution_id)


# --- override through the gate ---------------------------------------------------------------------------------


async def test_override_lets_the_held_execution_in_through_the_gate_with_its_audit_record(
    aws: Any, gateway: Gateway, gate: ActionGate, audit: AuditLog
) -> None:
    cp = aws("codepipeline")
    name, execution_id, alarm = entry_held_by_alarm(aws)
    await wait_held(gateway, name, "Prod-Canary", ConditionKind.BEFORE_ENTRY)
    selection = sel(TARGET, name, "Prod-Canary")

    plan = await gate.plan(ActionKind.OVERRIDE, selection)

    assert plan.title == f"Override the before entry condition of {name} / Prod-Canary"
    assert plan.operation == "OverrideStageCondition"
    assert plan.production
    assert plan.confirm_word == "prod-canary"
    lines = dict(plan.lines)
    assert lines["Execution"] == execution_id
    assert lines["Condition"] == "before entry, result FAIL"
    assert lines["Rule"].startswith("QuietProduction (CloudWatchAlarm) · InProgress · alarm " + alarm)
    with pytest.raises(Refused, match="prod-canary"):
        await gate.execute(plan, "alarm is a known false positive", confirmation="prod-az1")
    assert list(audit.records()) == []

    outcome = await gate.execute(plan, "alarm is a known false positive", confirmation="prod-canary")

    assert outcome.request_id
    assert f"Overrode the before entry condition of {name}/Prod-Canary" in outcome.message
    intent, result = list(audit.records())
    assert (intent["phase"], intent["action"], intent["operation"]) == ("intent", "override", "OverrideStageCondition")
    assert intent["request"] == {
        "pipelineName": name,
        "stageName": "Prod-Canary",
        "pipelineExecutionId": execution_id,
        "conditionType": "BEFORE_ENTRY",
    }
    assert intent["reason"] == "alarm is a known false positive"
    assert (result["phase"], result["outcome"], result["request_id"]) == ("result", "succeeded", outcome.request_id)
    assert wait_status(cp, name, execution_id) == "Succeeded"
    after = (await read(gateway, name)).stage("Prod-Canary")
    assert after is not None
    entry = after.condition(ConditionKind.BEFORE_ENTRY)
    assert entry is not None
    assert entry.status == "Overridden"

    # Decided now: planning again is refused before anything is sent, and nothing more is written.
    with pytest.raises(Refused, match="no entry or success condition of .* is being evaluated"):
        await gate.plan(ActionKind.OVERRIDE, selection)
    with pytest.raises(Refused, match="not being evaluated \\(Overridden\\)"):
        await gate.plan(ActionKind.OVERRIDE, selection, condition="before-entry")
    assert len(list(audit.records())) == 2


async def test_a_condition_that_clears_between_plan_and_send_is_refused_and_nothing_is_sent(
    aws: Any, gateway: Gateway, gate: ActionGate, audit: AuditLog
) -> None:
    cp = aws("codepipeline")
    name, execution_id, alarm = entry_held_by_alarm(aws, "Beta")
    await wait_held(gateway, name, "Beta", ConditionKind.BEFORE_ENTRY)
    plan = await gate.plan(ActionKind.OVERRIDE, sel(TARGET, name, "Beta"))
    assert not plan.production

    aws("cloudwatch").set_alarm_state(AlarmName=alarm, StateValue="OK", StateReason="test")
    assert wait_status(cp, name, execution_id) == "Succeeded"

    with pytest.raises(Refused, match="not being evaluated"):
        await gate.execute(plan, "let it in")
    assert list(audit.records()) == []


async def test_skip_conditions_and_failure_conditions_are_refused_as_aws_refuses_them(
    aws: Any, gate: ActionGate, audit: AuditLog
) -> None:
    cp = aws("codepipeline")
    entry = {"conditions": [{"result": "SKIP", "rules": [variable_rule("#{variables.Target}", "prod")]}]}
    name = create(
        cp,
        source(),
        conditioned("Beta", action("Deploy", SandboxDuration="1"), beforeEntry=entry, onFailure={"result": "RETRY"}),
        stage("Gamma", action("Tell", SandboxDuration="1")),
        variables={"Target": "prod"},
    )
    selection = sel(TARGET, name, "Beta")

    with pytest.raises(Refused, match="result SKIP cannot be overridden"):
        await gate.plan(ActionKind.OVERRIDE, selection, condition="before-entry")
    with pytest.raises(Refused, match="has no on success conditions"):
        await gate.plan(ActionKind.OVERRIDE, selection, condition="on-success")
    with pytest.raises(Refused, match="on failure conditions cannot be overridden"):
        await gate.plan(ActionKind.OVERRIDE, selection, condition="ON_FAILURE")
    with pytest.raises(Refused, match="name the stage"):
        await gate.plan(ActionKind.OVERRIDE, sel(TARGET, name))
    assert list(audit.records()) == []


async def test_read_only_refuses_the_override_in_the_gate_and_in_the_gateway(
    aws: Any, sandbox: Any, audit: AuditLog
) -> None:
    name, execution_id, _ = entry_held_by_alarm(aws, "Beta")
    async with Gateway(sandbox_target(sandbox, read_only=True)) as gateway:
        await wait_held(gateway, name, "Beta", ConditionKind.BEFORE_ENTRY)
        gate = ActionGate({TARGET: gateway}, WAVES, audit)
        with pytest.raises(Refused, match="read-only"):
            await gate.plan(ActionKind.OVERRIDE, sel(TARGET, name, "Beta"))
        with pytest.raises(Refused, match="read-only: OverrideStageCondition was not sent"):
            await gateway.override_stage_condition(name, "Beta", execution_id, "BEFORE_ENTRY")
        # ListRuleExecutions is a read: allowed in read-only mode.
        assert await gateway.list_rule_executions(name, execution_id)
    held = aws("codepipeline").get_pipeline_state(name=name)["stageStates"][1]["beforeEntryConditionState"]
    assert held["latestExecution"]["status"] == "InProgress"
    assert list(audit.records()) == []
    stop(aws, name, execution_id)
