"""The sandbox's rule also publishes every event to the SNS topic `wavedeck-events`: a team's consoles fan out.

Each reader subscribes a queue of its own with raw message delivery, as the README shows for a real account,
and each gets every event; the rule's queue target keeps working beside the topic.
"""

from __future__ import annotations

import json
from typing import Any

from console.sandbox.server_constants import ACCOUNT_ID, EVENTS_QUEUE, EVENTS_TOPIC
from console.sandbox_process import SandboxProcess
from tests.conftest import REGION, unique, wait_until
from tests.sandbox.test_codepipeline_support import action, create, source, stage, start


def _subscribed_queue(aws: Any, topic: str) -> str:
    sqs, sns = aws("sqs"), aws("sns")
    url = sqs.create_queue(QueueName=unique("console"))["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn, Attributes={"RawMessageDelivery": "true"})
    return url


def test_every_subscribed_queue_gets_every_event_of_a_pipeline(aws: Any, sandbox: SandboxProcess) -> None:
    topic = f"arn:aws:sns:{REGION}:{ACCOUNT_ID}:{EVENTS_TOPIC}"
    rule_targets = aws("events").list_targets_by_rule(Rule="wavedeck-console")["Targets"]
    assert {t["Arn"] for t in rule_targets} == {topic, f"arn:aws:sqs:{REGION}:{ACCOUNT_ID}:{EVENTS_QUEUE}"}
    queues = [_subscribed_queue(aws, topic) for _ in range(3)]
    cp = aws("codepipeline")
    name = create(cp, source(), stage("Deploy", action("Work")), prefix="fanout")
    start(cp, name)
    sqs = aws("sqs")
    got: dict[str, list[dict[str, Any]]] = {url: [] for url in queues}

    def every_queue_saw_the_run_succeed() -> bool:
        for url in queues:
            for message in sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", []):
                got[url].append(json.loads(message["Body"]))
                sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
        return all(
            any(
                e["detail"].get("pipeline") == name
                and e["detail-type"] == "CodePipeline Pipeline Execution State Change"
                and e["detail"].get("state") == "SUCCEEDED"
                for e in events
            )
            for events in got.values()
        )

    wait_until(every_queue_saw_the_run_succeed, timeout=30, what="every console's queue to see the run succeed")
    ours = [{e["id"] for e in events if e["detail"].get("pipeline") == name} for events in got.values()]
    assert ours[0] == ours[1] == ours[2], "fan-out: each queue gets the same events, not a share of them"
    event = next(e for e in got[queues[0]] if e["detail"].get("pipeline") == name)
    # Raw delivery: the EventBridge event itself, not an SNS envelope around it.
    assert {"version", "id", "detail-type", "source", "account", "time", "region", "resources", "detail"} <= set(event)
    assert event["source"] == "aws.codepipeline"
    assert event["time"].endswith("Z")
