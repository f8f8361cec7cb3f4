"""The sandbox starts as a child process, speaks AWS over HTTP and holds the bundled fleet."""

from __future__ import annotations

import json
from typing import Any

from console.sandbox_process import start_sandbox_process
from tests.conftest import SPEED, make_client, wait_until


def test_sandbox_serves_the_bundled_fleet(aws: Any) -> None:
    names = {p["name"] for p in aws("codepipeline").list_pipelines()["pipelines"]}
    assert {"checkout-api", "payments-api", "catalog-service", "search-indexer", "identity-service"} <= names
    assert "edge-router" in {p["name"] for p in aws("codepipeline", "us-west-2").list_pipelines()["pipelines"]}
    machines = {m["name"] for m in aws("stepfunctions").list_state_machines()["stateMachines"]}
    assert {"wave-deployment", "distributed-load-test", "wave-rollback"} <= machines


def test_pipelines_are_created_as_the_definitions_say(aws: Any) -> None:
    pipeline = aws("codepipeline").get_pipeline(name="checkout-api")["pipeline"]
    stages = [s["name"] for s in pipeline["stages"]]
    assert stages == ["Source", "Build", "Alpha", "Beta", "Gamma", "Prod-Canary", "Prod-AZ1", "Prod-AZ2"]
    assert pipeline["executionMode"] == "QUEUED"
    source = pipeline["stages"][0]["actions"][0]
    assert source["configuration"]["FullRepositoryId"] == "shop/checkout-api"
    canary = pipeline["stages"][5]["actions"]
    assert canary[0]["actionTypeId"]["category"] == "Approval"
    assert canary[0]["configuration"]["CustomData"].startswith("Gamma canaries are green")
    search = aws("codepipeline").get_pipeline(name="search-indexer")["pipeline"]
    load_test = search["stages"][3]["actions"][1]
    assert load_test["actionTypeId"]["provider"] == "StepFunctions"
    assert load_test["configuration"]["StateMachineArn"].endswith(":stateMachine:distributed-load-test")
    assert json.loads(load_test["configuration"]["Input"]) == {
        "shards": 8,
        "users_per_shard": 250,
        "revision": "#{SourceVariables.CommitId}",
    }
    assert search["stages"][0]["actions"][0]["namespace"] == "SourceVariables"


def test_each_region_has_the_console_events_rule_feeding_its_queue_and_topic(aws: Any) -> None:
    for region in ("us-east-1", "us-west-2"):
        events = aws("events", region)
        rule = events.describe_rule(Name="wavedeck-console")
        assert json.loads(rule["EventPattern"]) == {"source": ["aws.codepipeline", "aws.states"]}
        targets = events.list_targets_by_rule(Rule="wavedeck-console")["Targets"]
        topic = f"arn:aws:sns:{region}:123456789012:wavedeck-events"
        assert [t["Arn"] for t in targets] == [f"arn:aws:sqs:{region}:123456789012:wavedeck-events", topic]
        sqs = aws("sqs", region)
        url = sqs.get_queue_url(QueueName="wavedeck-events")["QueueUrl"]
        policy = json.loads(sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["Policy"])["Attributes"]["Policy"])
        statement = policy["Statement"][0]
        assert statement["Principal"] == {"Service": "events.amazonaws.com"}
        assert statement["Condition"]["ArnEquals"]["aws:SourceArn"] == rule["Arn"]
        topic_policy = json.loads(aws("sns", region).get_topic_attributes(TopicArn=topic)["Attributes"]["Policy"])
        assert topic_policy["Statement"][0]["Action"] == "sns:Publish"
        assert topic_policy["Statement"][0]["Condition"]["ArnEquals"]["aws:SourceArn"] == rule["Arn"]


def test_a_pipeline_run_reaches_the_events_queue() -> None:
    """On a sandbox of its own: on the session sandbox other tests read (and delete) from this queue."""
    with start_sandbox_process(speed=SPEED, traffic=False, warm_up=False) as sandbox:
        execution = make_client(sandbox.url, "codepipeline").start_pipeline_execution(name="catalog-service")
        sqs = make_client(sandbox.url, "sqs")
        url = sqs.get_queue_url(QueueName="wavedeck-events")["QueueUrl"]
        events: list[dict[str, Any]] = []

        def pipeline_started() -> list[dict[str, Any]]:
            for message in sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", []):
                events.append(json.loads(message["Body"]))
                sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
            return [e for e in events if e["detail-type"] == "CodePipeline Pipeline Execution State Change"]

        event = wait_until(pipeline_started, what="the execution's STARTED event on wavedeck-events")[0]
        assert event["source"] == "aws.codepipeline"
        assert event["detail"]["pipeline"] == "catalog-service"
        assert event["detail"]["execution-id"] == execution["pipelineExecutionId"]
        assert event["detail"]["state"] == "STARTED"
