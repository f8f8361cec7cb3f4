"""Every pipeline, stage and action state change reaches an SQS queue through an EventBridge rule."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from console.sandbox.server_constants import ACCOUNT_ID
from tests.conftest import unique, wait_until
from tests.sandbox.test_codepipeline_support import (  # noqa: F401 - delete_created_pipelines is autouse
    action,
    create,
    delete_created_pipelines,
    source,
    stage,
    stage_state,
    stage_status,
    start,
    wait_status,
)

PIPELINE = "CodePipeline Pipeline Execution State Change"
STAGE = "CodePipeline Stage Execution State Change"
ACTION = "CodePipeline Action Execution State Change"


_subscriptions: list[tuple[Any, Any, str, str]] = []


@pytest.fixture(autouse=True)
def _unsubscribe() -> Iterator[None]:
    """Remove the test's rules and queues: every event of the shared sandbox goes past every rule."""
    yield
    while _subscriptions:
        events, sqs, rule, url = _subscriptions.pop()
        events.remove_targets(Rule=rule, Ids=["queue"])
        events.delete_rule(Name=rule)
        sqs.delete_queue(QueueUrl=url)


def _subscribe(aws: Any, pipeline: str) -> tuple[Any, str]:
    """A queue that receives this pipeline's events through a rule on the default bus."""
    sqs, events = aws("sqs"), aws("events")
    queue = unique("cp-events")
    url = sqs.create_queue(QueueName=queue)["QueueUrl"]
    rule = unique("cp-rule")
    pattern = {"source": ["aws.codepipeline"], "detail": {"pipeline": [pipeline]}}
    events.put_rule(Name=rule, EventPattern=json.dumps(pattern), State="ENABLED")
    events.put_targets(Rule=rule, Targets=[{"Id": "queue", "Arn": f"arn:aws:sqs:us-east-1:{ACCOUNT_ID}:{queue}"}])
    _subscriptions.append((events, sqs, rule, url))
    return sqs, url


def _drain(sqs: Any, url: str, into: list[dict[str, Any]]) -> list[dict[str, Any]]:
    messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=0).get("Messages", [])
    for message in messages:
        into.append(json.loads(message["Body"]))
        sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    return into


def _states(received: list[dict[str, Any]], execution_id: str) -> list[tuple[str, ...]]:
    seen = []
    for event in received:
        detail = event["detail"]
        if detail["execution-id"] != execution_id:
            continue
        kind = {PIPELINE: "pipeline", STAGE: "stage", ACTION: "action"}[event["detail-type"]]
        where = tuple(detail[k] for k in ("stage", "action") if k in detail)
        seen.append((kind, *where, detail["state"]))
    return seen


def test_pipeline_stage_and_action_events_reach_a_queue(aws: Any) -> None:
    cp = aws("codepipeline")
    name = create(
        cp,
        source(),
        stage("Build", action("Build", SandboxDuration="1")),
        stage("Prod", action("Deploy", "Deploy", "CodeDeploy", SandboxDuration="400")),
    )
    sqs, url = _subscribe(aws, name)
    execution_id = start(cp, name)
    wait_until(lambda: stage_status(cp, name, "Prod") == (execution_id, "InProgress"))
    cp.stop_pipeline_execution(pipelineName=name, pipelineExecutionId=execution_id, abandon=True, reason="Enough")
    assert wait_status(cp, name, execution_id) == "Stopped"

    expected = [
        ("pipeline", "STARTED"),
        ("stage", "Source", "STARTED"),
        ("action", "Source", "Source", "STARTED"),
        ("action", "Source", "Source", "SUCCEEDED"),
        ("stage", "Source", "SUCCEEDED"),
        ("stage", "Build", "STARTED"),
        ("action", "Build", "Build", "STARTED"),
        ("action", "Build", "Build", "SUCCEEDED"),
        ("stage", "Build", "SUCCEEDED"),
        ("stage", "Prod", "STARTED"),
        ("action", "Prod", "Deploy", "STARTED"),
        ("pipeline", "STOPPING"),
        ("action", "Prod", "Deploy", "ABANDONED"),
        ("stage", "Prod", "STOPPED"),
        ("pipeline", "STOPPED"),
    ]
    received: list[dict[str, Any]] = []
    wait_until(
        lambda: len(_states(_drain(sqs, url, received), execution_id)) >= len(expected),
        what="every event of the run in the queue",
    )
    # Delivery order is not promised by EventBridge, so compare as sets, then check none came twice.
    assert sorted(_states(received, execution_id)) == sorted(expected)

    by_kind = {(e["detail-type"], e["detail"]["state"], e["detail"].get("action")): e for e in received}
    started = by_kind[(PIPELINE, "STARTED", None)]
    assert started["source"] == "aws.codepipeline"
    assert started["account"] == ACCOUNT_ID
    assert started["region"] == "us-east-1"
    assert started["resources"] == [f"arn:aws:codepipeline:us-east-1:{ACCOUNT_ID}:{name}"]
    assert started["time"].endswith("Z")
    detail = started["detail"]
    assert (detail["pipeline"], detail["execution-id"], detail["version"]) == (name, execution_id, 1.0)
    assert detail["execution-trigger"]["trigger-type"] == "StartPipelineExecution"

    built = by_kind[(ACTION, "SUCCEEDED", "Build")]["detail"]
    assert (built["stage"], built["action"], built["region"]) == ("Build", "Build", "us-east-1")
    assert built["type"] == {"owner": "AWS", "provider": "CodeBuild", "category": "Build", "version": "1"}
    result = built["execution-result"]
    assert result["external-execution-state"] == "SUCCEEDED"
    assert result["external-execution-summary"] == "Build succeeded"
    assert result["external-execution-id"]
    assert result["external-execution-url"]
    assert "execution-result" not in by_kind[(ACTION, "STARTED", "Build")]["detail"]
    assert by_kind[(ACTION, "ABANDONED", "Deploy")]["detail"]["execution-result"]["external-execution-state"] == (
        "ABANDONED"
    )


def test_failure_retry_and_supersede_events(aws: Any) -> None:
    cp = aws("codepipeline")
    name = create(
        cp,
        source(),
        stage("Test", action("Unit", "Test", SandboxOutcome="#{variables.unit}", SandboxDuration="1")),
        stage("Prod", action("Deploy", "Deploy", "CodeDeploy", SandboxDuration="1")),
        mode="SUPERSEDED",
        variables={"unit": "Failed"},
    )
    sqs, url = _subscribe(aws, name)
    failed = start(cp, name)
    assert wait_status(cp, name, failed) == "Failed"
    cp.retry_stage_execution(pipelineName=name, stageName="Test", pipelineExecutionId=failed, retryMode="ALL_ACTIONS")
    assert wait_status(cp, name, failed) == "Failed"
    cp.disable_stage_transition(pipelineName=name, stageName="Prod", transitionType="Inbound", reason="Hold")
    older = start(cp, name, unit="Succeeded")
    wait_until(lambda: stage_state(cp, name, "Prod").get("inboundExecution", {}).get("pipelineExecutionId") == older)
    newer = start(cp, name, unit="Succeeded")
    assert wait_status(cp, name, older) == "Superseded"
    cp.stop_pipeline_execution(pipelineName=name, pipelineExecutionId=newer)

    received: list[dict[str, Any]] = []

    def seen() -> set[tuple[str, ...]]:
        _drain(sqs, url, received)
        return set(_states(received, failed)) | set(_states(received, older))

    wanted = {
        ("action", "Test", "Unit", "FAILED"),
        ("stage", "Test", "FAILED"),
        ("pipeline", "FAILED"),
        ("pipeline", "RESUMED"),
        ("stage", "Test", "RESUMED"),
        ("pipeline", "SUPERSEDED"),
    }
    wait_until(lambda: wanted <= seen(), what=f"{sorted(wanted)} in the queue")
    failure = next(
        e["detail"]
        for e in received
        if e["detail-type"] == ACTION and e["detail"]["state"] == "FAILED" and e["detail"]["execution-id"] == failed
    )
    assert failure["execution-result"]["error-code"] == "JobFailed"
    resumed = [e["detail"] for e in received if e["detail"]["state"] == "RESUMED" and e["detail-type"] == PIPELINE]
    assert resumed[0]["pipeline-execution-attempt"] == 2.0
