"""The LambdaInvoke rule, answered by the simulated functions the definitions declare.

The rules are written from the CodePipeline rule reference's LambdaInvoke example (`MyLambdaRule` with
`FunctionName: my-function`, an input artifact and a region); the functions are declared in
tests/sandbox/condition_rules/fleet.yaml. Pipelines are created with boto3 over HTTP and every raw answer is
checked against botocore's output shape. At speed 40 the 20-second `my-function` lasts half a second.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from console.sandbox_process import SandboxProcess, start_sandbox_process
from tests.conftest import SPEED, make_client, wait_until
from tests.sandbox.condition_shapes_check import problems, raw_call
from tests.sandbox.test_codepipeline_support import (  # noqa: F401 - delete_created_pipelines is autouse
    action,
    create,
    delete_created_pipelines,
    source,
    stage,
    start,
    wait_status,
)

DEFINITIONS = Path(__file__).parent / "condition_rules"


@pytest.fixture(scope="module")
def rules_sandbox() -> Iterator[SandboxProcess]:
    with start_sandbox_process(speed=SPEED, seed=3, traffic=False, warm_up=False, definitions=DEFINITIONS) as process:
        yield process


@pytest.fixture
def cp(rules_sandbox: SandboxProcess) -> Any:
    return make_client(rules_sandbox.url, "codepipeline")


def lambda_rule(function: str, user_parameters: str | None = None, name: str = "MyLambdaRule") -> dict[str, Any]:
    configuration = {"FunctionName": function}
    if user_parameters is not None:
        configuration["UserParameters"] = user_parameters
    return {
        "name": name,
        "ruleTypeId": {"category": "Rule", "owner": "AWS", "provider": "LambdaInvoke", "version": "1"},
        "configuration": configuration,
        "inputArtifacts": [{"name": "SourceOutput"}],
        "region": "us-east-1",
    }


def gated(*rules: dict[str, Any], kind: str = "beforeEntry", result: str = "FAIL") -> dict[str, Any]:
    declared = stage("Prod", action("Deploy", SandboxDuration="1"))
    declared[kind] = {"conditions": [{"result": result, "rules": list(rules)}]}
    return declared


def rule_state(url: str, name: str, key: str = "beforeEntryConditionState") -> dict[str, Any]:
    code, answer = raw_call(url, "GetPipelineState", {"name": name})
    assert code == 200, answer
    assert problems("GetPipelineState", answer) == []
    prod = next(s for s in answer["stageStates"] if s["stageName"] == "Prod")
    return dict(prod[key]["conditionStates"][0]["ruleStates"][0])


def rule_executions(url: str, name: str, execution_id: str) -> list[dict[str, Any]]:
    code, answer = raw_call(
        url, "ListRuleExecutions", {"pipelineName": name, "filter": {"pipelineExecutionId": execution_id}}
    )
    assert code == 200, answer
    assert problems("ListRuleExecutions", answer) == []
    return list(answer["ruleExecutionDetails"])


def test_a_declared_function_holds_the_rule_for_its_duration_then_lets_the_stage_in(
    cp: Any, rules_sandbox: SandboxProcess
) -> None:
    url = rules_sandbox.url
    name = create(cp, source(), gated(lambda_rule("my-function")))
    execution_id = start(cp, name)

    held = wait_until(
        lambda: (r := rule_state(url, name)).get("latestExecution", {}).get("status") == "InProgress" and r,
        what="the LambdaInvoke rule in progress",
    )
    assert "Invoking Lambda function my-function" in held["latestExecution"]["summary"]
    assert held["entityUrl"].endswith("#/functions/my-function")

    assert wait_status(cp, name, execution_id) == "Succeeded"
    done = rule_state(url, name)["latestExecution"]
    assert done["status"] == "Succeeded"
    assert done["summary"] == 'Lambda function my-function succeeded: {"healthy":true}'
    [detail] = rule_executions(url, name, execution_id)
    assert detail["input"]["ruleTypeId"]["provider"] == "LambdaInvoke"
    assert detail["input"]["resolvedConfiguration"] == {"FunctionName": "my-function"}
    took = (detail["lastUpdateTime"] - detail["startTime"]) * SPEED
    assert took >= 20.0 * 0.9, f"the rule ended after {took:.1f} definition seconds, not the function's 20"


def test_a_function_that_fails_fails_the_rule_with_its_error(cp: Any, rules_sandbox: SandboxProcess) -> None:
    name = create(cp, source(), gated(lambda_rule("failing-check")))
    execution_id = start(cp, name)
    assert wait_status(cp, name, execution_id) == "Failed"
    latest = rule_state(rules_sandbox.url, name)["latestExecution"]
    assert latest["status"] == "Failed"
    assert latest["errorDetails"]["code"] == "CanaryUnhealthy"
    assert "p99 latency above 800 ms" in latest["summary"]


def test_user_parameters_reach_the_function_and_its_answer_decides_a_skip(
    cp: Any, rules_sandbox: SandboxProcess
) -> None:
    name = create(cp, source(), gated(lambda_rule("release-gate", "mode=frozen"), result="SKIP"))
    frozen = start(cp, name)
    assert wait_status(cp, name, frozen) == "Succeeded"
    prod = next(s for s in cp.get_pipeline_state(name=name)["stageStates"] if s["stageName"] == "Prod")
    assert prod["latestExecution"]["status"] == "Skipped"
    assert "release freeze in effect" in rule_state(rules_sandbox.url, name)["latestExecution"]["summary"]

    open_name = create(cp, source(), gated(lambda_rule("release-gate", "mode=open"), result="SKIP"))
    assert wait_status(cp, open_name, start(cp, open_name)) == "Succeeded"
    prod = next(s for s in cp.get_pipeline_state(name=open_name)["stageStates"] if s["stageName"] == "Prod")
    assert prod["latestExecution"]["status"] == "Succeeded"
    assert rule_state(rules_sandbox.url, open_name)["latestExecution"]["summary"].endswith('{"allowed":true}')


def test_an_undeclared_function_fails_the_rule_saying_so(cp: Any, rules_sandbox: SandboxProcess) -> None:
    name = create(cp, source(), gated(lambda_rule("nobody-declared-me")))
    assert wait_status(cp, name, start(cp, name)) == "Failed"
    latest = rule_state(rules_sandbox.url, name)["latestExecution"]
    assert latest["errorDetails"]["code"] == "FunctionNotFound"
    assert "'nobody-declared-me' is not declared under functions" in latest["summary"]
    assert "failing-check, my-function, release-gate" in latest["summary"]


def test_list_rule_types_lists_lambda_invoke_with_the_rule_references_properties(rules_sandbox: SandboxProcess) -> None:
    code, answer = raw_call(rules_sandbox.url, "ListRuleTypes", {"ruleOwnerFilter": "AWS"})
    assert code == 200, answer
    assert problems("ListRuleTypes", answer) == []
    [rule_type] = [t for t in answer["ruleTypes"] if t["id"]["provider"] == "LambdaInvoke"]
    assert rule_type["id"] == {"category": "Rule", "owner": "AWS", "provider": "LambdaInvoke", "version": "1"}
    properties = [(p["name"], p["required"]) for p in rule_type["ruleConfigurationProperties"]]
    assert properties == [("FunctionName", True), ("UserParameters", False)]
    assert rule_type["inputArtifactDetails"] == {"minimumCount": 0, "maximumCount": 1}
