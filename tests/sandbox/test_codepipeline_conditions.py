"""Stage conditions run as AWS documents them: entry, success and failure conditions with their rules.

Each pipeline is declared the way AWS's user guide and rule reference show conditions (CloudWatchAlarm with
WaitTime, DeploymentWindow with Cron and TimeZone, VariableCheck), created with boto3 over HTTP, and driven
by setting alarm states in the sandbox's own CloudWatch. Every raw response is checked against botocore's
output shape. At the session's speed (40) a WaitTime of 1 minute lasts 1.5 s.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import unique, wait_until
from tests.sandbox.condition_shapes_check import problems, raw_call
from tests.sandbox.test_codepipeline_support import (  # noqa: F401 - delete_created_pipelines is autouse
    action,
    create,
    delete_created_pipelines,
    error_of,
    source,
    stage,
    stage_state,
    start,
    status,
    wait_status,
)


def alarm_rule(name: str, alarm: str, wait: str | None = None) -> dict[str, Any]:
    configuration = {"AlarmName": alarm}
    if wait is not None:
        configuration["WaitTime"] = wait
    return {
        "name": name,
        "ruleTypeId": {"category": "Rule", "owner": "AWS", "provider": "CloudWatchAlarm", "version": "1"},
        "configuration": configuration,
        "inputArtifacts": [],
        "region": "us-east-1",
    }


def window_rule(cron: str, zone: str = "UTC") -> dict[str, Any]:
    return {
        "name": "DeploymentWindowRule",
        "ruleTypeId": {"category": "Rule", "owner": "AWS", "provider": "DeploymentWindow", "version": "1"},
        "configuration": {"Cron": cron, "TimeZone": zone},
    }


def variable_rule(variable: str, value: str, operator: str = "EQ") -> dict[str, Any]:
    return {
        "name": "MyVarCheckRule",
        "ruleTypeId": {"category": "Rule", "owner": "AWS", "provider": "VariableCheck", "version": "1"},
        "configuration": {"Variable": variable, "Value": value, "Operator": operator},
    }


def conditioned(name: str, *actions: dict[str, Any], **conditions: Any) -> dict[str, Any]:
    declared = stage(name, *actions)
    declared.update(conditions)
    return declared


def make_alarm(aws: Any, state: str = "OK") -> str:
    cloudwatch = aws("cloudwatch")
    name = unique("Prod-5xx")
    cloudwatch.put_metric_alarm(
        AlarmName=name,
        MetricName="5XXError",
        Namespace="AWS/ApiGateway",
        Statistic="Sum",
        Period=60,
        EvaluationPeriods=1,
        Threshold=1.0,
        ComparisonOperator="GreaterThanOrEqualToThreshold",
    )
    cloudwatch.set_alarm_state(AlarmName=name, StateValue=state, StateReason="test")
    return name


def set_alarm(aws: Any, name: str, state: str) -> None:
    aws("cloudwatch").set_alarm_state(AlarmName=name, StateValue=state, StateReason="test")


def raw_state(sandbox_url: str, name: str) -> dict[str, Any]:
    code, answer = raw_call(sandbox_url, "GetPipelineState", {"name": name})
    assert code == 200, answer
    assert problems("GetPipelineState", answer) == []
    return dict(answer)


def raw_stage(sandbox_url: str, name: str, stage_name: str) -> dict[str, Any]:
    state = raw_state(sandbox_url, name)
    return next(s for s in state["stageStates"] if s["stageName"] == stage_name)


@pytest.fixture
def url(sandbox: Any) -> str:
    return str(sandbox.url)


# --- onSuccess: a bake under an alarm ---------------------------------------------------------------------


def test_on_success_bake_holds_the_stage_then_lets_it_succeed(aws: Any, url: str) -> None:
    cp = aws("codepipeline")
    alarm = make_alarm(aws)
    # A 4-minute bake (6 s at test speed): long enough to be seen however busy the machine is.
    bake = {"conditions": [{"result": "ROLLBACK", "rules": [alarm_rule("MyMonitorRule", alarm, wait="4")]}]}
    name = create(cp, source(), conditioned("Prod", action("Deploy", SandboxDuration="1"), onSuccess=bake))
    execution_id = start(cp, name)

    def baking() -> dict[str, Any] | None:
        entry = raw_stage(url, name, "Prod")
        held = entry.get("onSuccessConditionState", {}).get("latestExecution", {}).get("status") == "InProgress"
        return entry if held else None

    entry = wait_until(baking, what="the Prod stage baking")
    assert entry["latestExecution"]["status"] == "InProgress"
    assert entry["actionStates"][0]["latestExecution"]["status"] == "Succeeded"
    rule = entry["onSuccessConditionState"]["conditionStates"][0]["ruleStates"][0]
    assert rule["ruleName"] == "MyMonitorRule"
    assert rule["latestExecution"]["status"] == "InProgress"
    assert "Baking until" in rule["latestExecution"]["summary"]
    assert alarm in rule["latestExecution"]["summary"]
    assert alarm in rule["entityUrl"]

    assert wait_status(cp, name, execution_id, timeout=40) == "Succeeded"
    entry = raw_stage(url, name, "Prod")
    assert entry["onSuccessConditionState"]["latestExecution"]["status"] == "Succeeded"
    assert entry["onSuccessConditionState"]["conditionStates"][0]["latestExecution"]["status"] == "Succeeded"


def test_an_alarm_during_the_bake_fails_the_stage_and_rolls_it_back(aws: Any, url: str) -> None:
    cp = aws("codepipeline")
    alarm = make_alarm(aws)
    bake = {"conditions": [{"result": "ROLLBACK", "rules": [alarm_rule("Bake", alarm, wait="5")]}]}
    name = create(cp, source(), conditioned("Prod", action("Deploy", SandboxDuration="1"), onSuccess=bake))
    good = start(cp, name)
    set_alarm(aws, alarm, "OK")
    assert wait_status(cp, name, good, timeout=30) == "Succeeded"  # a 5-minute bake lasts 7.5 s

    bad = start(cp, name)
    wait_until(
        lambda: (
            raw_stage(url, name, "Prod").get("onSuccessConditionState", {}).get("latestExecution", {}).get("status")
            == "InProgress"
            and raw_stage(url, name, "Prod")["latestExecution"]["pipelineExecutionId"] == bad
        ),
        what="the second run baking",
    )
    set_alarm(aws, alarm, "ALARM")
    assert wait_status(cp, name, bad) == "Failed"
    detail = cp.get_pipeline_execution(pipelineName=name, pipelineExecutionId=bad)["pipelineExecution"]
    assert "success condition failed" in detail["statusSummary"]
    assert alarm in detail["statusSummary"]

    rollback = wait_until(
        lambda: next(
            (
                s
                for s in cp.list_pipeline_executions(pipelineName=name)["pipelineExecutionSummaries"]
                if s.get("executionType") == "ROLLBACK"
            ),
            None,
        ),
        what="the automatic rollback",
    )
    assert rollback["trigger"]["triggerType"] == "AutomatedRollback"
    assert rollback["rollbackMetadata"]["rollbackTargetPipelineExecutionId"] == good
    # A rollback does not evaluate the stage's conditions: once it holds the stage, only the declared rules show.
    wait_until(lambda: raw_stage(url, name, "Prod")["latestExecution"]["type"] == "ROLLBACK", what="the rollback")
    entry = raw_stage(url, name, "Prod")
    assert entry["onSuccessConditionState"] == {
        "conditionStates": [
            {
                "ruleStates": [
                    {
                        "ruleName": "Bake",
                        "entityUrl": entry["onSuccessConditionState"]["conditionStates"][0]["ruleStates"][0][
                            "entityUrl"
                        ],
                    }
                ]
            }
        ]
    }
    rules = cp.list_rule_executions(pipelineName=name, filter={"pipelineExecutionId": bad})["ruleExecutionDetails"]
    assert [(r["ruleName"], r["status"]) for r in rules] == [("Bake", "Failed")]


# --- beforeEntry: alarms, override, SKIP ------------------------------------------------------------------


def test_entry_condition_waits_while_the_alarm_fires_and_an_override_lets_it_in(aws: Any, url: str) -> None:
    cp = aws("codepipeline")
    alarm = make_alarm(aws, "ALARM")
    entry = {"conditions": [{"result": "FAIL", "rules": [alarm_rule("QuietProduction", alarm, wait="60")]}]}
    name = create(cp, source(), conditioned("Prod", action("Deploy", SandboxDuration="1"), beforeEntry=entry))
    execution_id = start(cp, name)

    def held() -> dict[str, Any] | None:
        found = raw_stage(url, name, "Prod")
        state = found.get("beforeEntryConditionState", {}).get("latestExecution", {})
        return found if state.get("status") == "InProgress" else None

    found = wait_until(held, what="the entry condition waiting on the alarm")
    assert "actionStates" in found
    assert "latestExecution" not in found["actionStates"][0]
    rule = found["beforeEntryConditionState"]["conditionStates"][0]["ruleStates"][0]["latestExecution"]
    assert f"{alarm} is ALARM" in rule["summary"]

    code, answer = raw_call(
        url,
        "OverrideStageCondition",
        {
            "pipelineName": name,
            "stageName": "Prod",
            "pipelineExecutionId": execution_id,
            "conditionType": "BEFORE_ENTRY",
        },
    )
    assert code == 200, answer
    assert problems("OverrideStageCondition", answer) == []
    assert wait_status(cp, name, execution_id) == "Succeeded"
    found = raw_stage(url, name, "Prod")
    assert found["beforeEntryConditionState"]["latestExecution"]["status"] == "Overridden"
    rule = found["beforeEntryConditionState"]["conditionStates"][0]["ruleStates"][0]["latestExecution"]
    assert rule["status"] == "Abandoned"
    assert rule["lastUpdatedBy"]

    # Once decided, the condition cannot be overridden again.
    code, answer = error_of(
        lambda: cp.override_stage_condition(
            pipelineName=name, stageName="Prod", pipelineExecutionId=execution_id, conditionType="BEFORE_ENTRY"
        )
    )
    assert code == "ConflictException"


def test_entry_condition_with_the_alarm_clear_enters_and_a_firing_one_fails_after_its_wait(aws: Any, url: str) -> None:
    cp = aws("codepipeline")
    alarm = make_alarm(aws, "ALARM")
    entry = {"conditions": [{"result": "FAIL", "rules": [alarm_rule("QuietProduction", alarm, wait="1")]}]}
    name = create(cp, source(), conditioned("Prod", action("Deploy", SandboxDuration="1"), beforeEntry=entry))
    failing = start(cp, name)
    assert wait_status(cp, name, failing) == "Failed"
    found = raw_stage(url, name, "Prod")
    assert found["latestExecution"]["status"] == "Failed"
    assert found["beforeEntryConditionState"]["latestExecution"]["status"] == "Failed"
    rule = found["beforeEntryConditionState"]["conditionStates"][0]["ruleStates"][0]["latestExecution"]
    assert rule["status"] == "Failed"
    assert rule["errorDetails"]["code"] == "AlarmInMonitoredState"

    set_alarm(aws, alarm, "OK")
    passing = start(cp, name)
    assert wait_status(cp, name, passing) == "Succeeded"
    assert raw_stage(url, name, "Prod")["beforeEntryConditionState"]["latestExecution"]["status"] == "Succeeded"


def test_a_variable_check_skips_the_stage_and_skip_is_not_overridable(aws: Any, url: str) -> None:
    cp = aws("codepipeline")
    entry = {"conditions": [{"result": "SKIP", "rules": [variable_rule("#{variables.Target}", "prod")]}]}
    name = create(
        cp,
        source(),
        conditioned("Prod", action("Deploy", SandboxDuration="1"), beforeEntry=entry),
        stage("Notify", action("Tell", SandboxDuration="1")),
        variables={"Target": "prod"},
    )
    entered = start(cp, name)
    assert wait_status(cp, name, entered) == "Succeeded"
    assert stage_state(cp, name, "Prod")["latestExecution"]["status"] == "Succeeded"

    skipped = start(cp, name, Target="staging")
    assert wait_status(cp, name, skipped) == "Succeeded"
    found = raw_stage(url, name, "Prod")
    assert found["latestExecution"] == {"pipelineExecutionId": skipped, "status": "Skipped", "type": "STANDARD"}
    rule = found["beforeEntryConditionState"]["conditionStates"][0]["ruleStates"][0]["latestExecution"]
    assert rule["status"] == "Failed"
    assert "'staging' does not satisfy EQ 'prod'" in rule["summary"]
    assert stage_state(cp, name, "Notify")["latestExecution"]["pipelineExecutionId"] == skipped
    code, _ = error_of(
        lambda: cp.override_stage_condition(
            pipelineName=name, stageName="Prod", pipelineExecutionId=skipped, conditionType="BEFORE_ENTRY"
        )
    )
    assert code == "ConditionNotOverridableException"
    code, _ = error_of(
        lambda: cp.retry_stage_execution(
            pipelineName=name, stageName="Prod", pipelineExecutionId=skipped, retryMode="ALL_ACTIONS"
        )
    )
    assert code == "StageNotRetryableException"


def test_a_closed_deployment_window_holds_the_stage_with_when_it_opens(aws: Any, url: str) -> None:
    cp = aws("codepipeline")
    entry = {"conditions": [{"result": "FAIL", "rules": [window_rule("* * 9-17 ? * MON-FRI 2028", "Europe/Berlin")]}]}
    name = create(cp, source(), conditioned("Prod", action("Deploy", SandboxDuration="1"), beforeEntry=entry))
    execution_id = start(cp, name)

    def held() -> dict[str, Any] | None:
        found = raw_stage(url, name, "Prod")
        state = found.get("beforeEntryConditionState", {}).get("latestExecution", {})
        return found if state.get("status") == "InProgress" else None

    found = wait_until(held, what="the stage held by the window")
    rule = found["beforeEntryConditionState"]["conditionStates"][0]["ruleStates"][0]["latestExecution"]
    assert "is closed; it opens at 2028-01-03 09:00 CET" in rule["summary"]
    assert status(cp, name, execution_id) == "InProgress"
    cp.override_stage_condition(
        pipelineName=name, stageName="Prod", pipelineExecutionId=execution_id, conditionType="BEFORE_ENTRY"
    )
    assert wait_status(cp, name, execution_id) == "Succeeded"


def test_an_open_deployment_window_lets_the_stage_in(aws: Any) -> None:
    cp = aws("codepipeline")
    entry = {"conditions": [{"result": "FAIL", "rules": [window_rule("* * * ? * * *")]}]}
    name = create(cp, source(), conditioned("Prod", action("Deploy", SandboxDuration="1"), beforeEntry=entry))
    assert wait_status(cp, name, start(cp, name)) == "Succeeded"


# --- onFailure: RETRY and ROLLBACK ------------------------------------------------------------------------


def test_on_failure_retry_retries_the_stage_once_by_itself(aws: Any, url: str) -> None:
    cp = aws("codepipeline")
    on_failure = {"result": "RETRY", "retryConfiguration": {"retryMode": "FAILED_ACTIONS"}}
    name = create(
        cp,
        source(),
        conditioned("Prod", action("Deploy", SandboxDuration="1", SandboxOutcome="Failed"), onFailure=on_failure),
    )
    execution_id = start(cp, name)
    assert wait_status(cp, name, execution_id) == "Failed"
    found = raw_stage(url, name, "Prod")
    assert found["retryStageMetadata"] == {
        "autoStageRetryAttempt": 1,
        "manualStageRetryAttempt": 0,
        "latestRetryTrigger": "AutomatedStageRetry",
    }
    runs = cp.list_action_executions(pipelineName=name, filter={"pipelineExecutionId": execution_id})
    assert [r["actionName"] for r in runs["actionExecutionDetails"]].count("Deploy") == 2


def test_on_failure_rollback_rolls_back_to_the_last_good_execution(aws: Any) -> None:
    cp = aws("codepipeline")
    on_failure = {"result": "ROLLBACK"}
    name = create(
        cp,
        source(),
        conditioned(
            "Prod", action("Deploy", SandboxDuration="1", SandboxOutcome="#{variables.Outcome}"), onFailure=on_failure
        ),
        variables={"Outcome": "Succeeded"},
    )
    good = start(cp, name)
    assert wait_status(cp, name, good) == "Succeeded"
    bad = start(cp, name, Outcome="Failed")
    assert wait_status(cp, name, bad) == "Failed"
    rollback = wait_until(
        lambda: next(
            (
                s
                for s in cp.list_pipeline_executions(pipelineName=name)["pipelineExecutionSummaries"]
                if s.get("executionType") == "ROLLBACK"
            ),
            None,
        ),
        what="the automatic rollback",
    )
    assert rollback["trigger"] == {"triggerType": "AutomatedRollback", "triggerDetail": bad}
    assert rollback["rollbackMetadata"]["rollbackTargetPipelineExecutionId"] == good
    assert wait_status(cp, name, rollback["pipelineExecutionId"]) == "Succeeded"


def test_on_failure_rollback_without_an_earlier_success_says_nothing_was_rolled_back(aws: Any) -> None:
    cp = aws("codepipeline")
    name = create(
        cp,
        source(),
        conditioned(
            "Prod", action("Deploy", SandboxDuration="1", SandboxOutcome="Failed"), onFailure={"result": "ROLLBACK"}
        ),
    )
    bad = start(cp, name)
    assert wait_status(cp, name, bad) == "Failed"
    detail = cp.get_pipeline_execution(pipelineName=name, pipelineExecutionId=bad)["pipelineExecution"]
    assert "nothing was rolled back" in detail["statusSummary"]
    kinds = [
        s.get("executionType") for s in cp.list_pipeline_executions(pipelineName=name)["pipelineExecutionSummaries"]
    ]
    assert kinds == ["STANDARD"]


# --- declarations AWS refuses -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "declared", "says"),
    [
        (
            "beforeEntry",
            {"conditions": [{"result": "ROLLBACK", "rules": [window_rule("* * * ? * * *")]}]},
            "result ROLLBACK is not allowed",
        ),
        (
            "onSuccess",
            {"conditions": [{"result": "SKIP", "rules": [variable_rule("a", "a")]}]},
            "result SKIP is not allowed",
        ),
        ("onFailure", {"result": "FAIL"}, "result FAIL is not allowed"),
        (
            "beforeEntry",
            {"conditions": [{"result": "SKIP", "rules": [window_rule("* * * ? * * *")]}]},
            "SKIP is allowed only with LambdaInvoke or VariableCheck",
        ),
        (
            "beforeEntry",
            {"conditions": [{"result": "FAIL", "rules": [window_rule("* * 25 ? * * *")]}]},
            "25 is outside hours",
        ),
        (
            "onSuccess",
            {
                "conditions": [
                    {
                        "result": "FAIL",
                        "rules": [
                            alarm_rule("A", "x")
                            | {"ruleTypeId": {"category": "Rule", "owner": "AWS", "provider": "Pager", "version": "1"}}
                        ],
                    }
                ]
            },
            "provider 'Pager' is not a rule type",
        ),
    ],
)
def test_create_pipeline_refuses_conditions_aws_refuses(aws: Any, key: str, declared: Any, says: str) -> None:
    cp = aws("codepipeline")
    code, message = error_of(lambda: create(cp, source(), conditioned("Prod", action("Deploy"), **{key: declared})))
    assert code == "InvalidStageDeclarationException"
    assert says in message


# --- ListRuleExecutions, ListRuleTypes, errors of OverrideStageCondition ------------------------------------


def test_list_rule_executions_and_rule_types_answer_in_aws_shape(aws: Any, url: str) -> None:
    cp = aws("codepipeline")
    alarm = make_alarm(aws)
    bake = {"conditions": [{"result": "FAIL", "rules": [alarm_rule("Bake", alarm, wait="1")]}]}
    entry = {"conditions": [{"result": "FAIL", "rules": [window_rule("* * * ? * * *")]}]}
    name = create(
        cp, source(), conditioned("Prod", action("Deploy", SandboxDuration="1"), beforeEntry=entry, onSuccess=bake)
    )
    execution_id = start(cp, name)
    assert wait_status(cp, name, execution_id) == "Succeeded"

    code, answer = raw_call(
        url, "ListRuleExecutions", {"pipelineName": name, "filter": {"pipelineExecutionId": execution_id}}
    )
    assert code == 200, answer
    assert problems("ListRuleExecutions", answer) == []
    details = answer["ruleExecutionDetails"]
    assert [(d["stageName"], d["ruleName"], d["status"]) for d in details] == [
        ("Prod", "Bake", "Succeeded"),
        ("Prod", "DeploymentWindowRule", "Succeeded"),
    ]
    assert details[0]["input"]["ruleTypeId"]["provider"] == "CloudWatchAlarm"
    assert details[0]["input"]["resolvedConfiguration"] == {"AlarmName": alarm, "WaitTime": "1"}

    code, answer = raw_call(url, "ListRuleTypes", {})
    assert code == 200
    assert problems("ListRuleTypes", answer) == []
    providers = {t["id"]["provider"] for t in answer["ruleTypes"]}
    assert {"CloudWatchAlarm", "DeploymentWindow", "VariableCheck", "Commits", "LambdaInvoke"} <= providers

    assert (
        error_of(
            lambda: cp.override_stage_condition(
                pipelineName=name,
                stageName="Prod",
                pipelineExecutionId="00000000-0000-0000-0000-000000000000",
                conditionType="ON_SUCCESS",
            )
        )[0]
        == "NotLatestPipelineExecutionException"
    )
    assert (
        error_of(
            lambda: cp.override_stage_condition(
                pipelineName=name, stageName="Source", pipelineExecutionId=execution_id, conditionType="ON_SUCCESS"
            )
        )[0]
        == "ConditionNotOverridableException"
    )
    assert (
        error_of(
            lambda: cp.override_stage_condition(
                pipelineName=name, stageName="Nope", pipelineExecutionId=execution_id, conditionType="ON_SUCCESS"
            )
        )[0]
        == "StageNotFoundException"
    )


def test_a_rule_the_sandbox_does_not_simulate_fails_rather_than_passes(aws: Any, url: str) -> None:
    cp = aws("codepipeline")
    commits_rule = {
        "name": "MyCommitsRule",
        "ruleTypeId": {"category": "Rule", "owner": "AWS", "provider": "Commits", "version": "1"},
        "configuration": {"Paths": "src/**"},
    }
    entry = {"conditions": [{"result": "FAIL", "rules": [commits_rule]}]}
    name = create(cp, source(), conditioned("Prod", action("Deploy", SandboxDuration="1"), beforeEntry=entry))
    assert wait_status(cp, name, start(cp, name)) == "Failed"
    rule = raw_stage(url, name, "Prod")["beforeEntryConditionState"]["conditionStates"][0]["ruleStates"][0]
    assert rule["latestExecution"]["errorDetails"]["code"] == "NotSimulated"
