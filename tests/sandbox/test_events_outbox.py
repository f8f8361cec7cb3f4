"""The CodePipeline outbox delivers in order and, should it ever fall that far behind, drops the oldest.

In-process against moto (no server): a rule on the default bus sends everything to a queue.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from moto import mock_aws

from console.sandbox import events
from console.sandbox.codepipeline.outbox import EventOutbox
from console.sandbox.codepipeline.records import PendingEvent
from console.sandbox.server_constants import ACCOUNT_ID
from tests.conftest import wait_until

REGION = "us-east-1"


def _event(index: int) -> PendingEvent:
    detail = {"pipeline": "checkout-api", "execution-id": f"run-{index}", "state": "STARTED"}
    arn = f"arn:aws:codepipeline:{REGION}:{ACCOUNT_ID}:checkout-api"
    return PendingEvent(
        ACCOUNT_ID, REGION, events.PIPELINE_EXECUTION, detail, (arn,), datetime(2026, 1, 1, 0, 0, index, tzinfo=UTC)
    )


def _subscribed_queue() -> tuple[Any, str]:
    sqs, bus = boto3.client("sqs", region_name=REGION), boto3.client("events", region_name=REGION)
    url = sqs.create_queue(QueueName="outbox")["QueueUrl"]
    bus.put_rule(Name="all", EventPattern=json.dumps({"source": ["aws.codepipeline"]}), State="ENABLED")
    bus.put_targets(Rule="all", Targets=[{"Id": "q", "Arn": f"arn:aws:sqs:{REGION}:{ACCOUNT_ID}:outbox"}])
    return sqs, url


def _received(sqs: Any, url: str) -> list[dict[str, Any]]:
    bodies: list[dict[str, Any]] = []
    while batch := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", []):
        for message in batch:
            bodies.append(json.loads(message["Body"]))
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    return bodies


@mock_aws
def test_events_reach_the_queue_in_the_order_they_happened() -> None:
    sqs, url = _subscribed_queue()
    outbox = EventOutbox()
    outbox.put(_event(i) for i in range(12))
    outbox.deliver()
    bodies = _received(sqs, url)
    assert [b["detail"]["execution-id"] for b in bodies] == [f"run-{i}" for i in range(12)]
    assert bodies[3]["time"] == "2026-01-01T00:00:03Z"
    assert bodies[0]["account"] == ACCOUNT_ID
    assert outbox.dropped == 0


@mock_aws
def test_a_backlog_past_its_bound_drops_the_oldest_with_a_warning(caplog: pytest.LogCaptureFixture) -> None:
    sqs, url = _subscribed_queue()
    outbox = EventOutbox(max_backlog=5)
    outbox.put(_event(i) for i in range(8))
    assert outbox.dropped == 3
    assert "3 CodePipeline events dropped" in caplog.text
    outbox.deliver()
    assert [b["detail"]["execution-id"] for b in _received(sqs, url)] == [f"run-{i}" for i in range(3, 8)]


@mock_aws
def test_the_delivery_thread_delivers_what_is_put_until_stopped() -> None:
    sqs, url = _subscribed_queue()
    bodies: list[dict[str, Any]] = []

    def collected() -> int:
        bodies.extend(_received(sqs, url))
        return len(bodies)

    outbox = EventOutbox()
    outbox.start()
    try:
        outbox.put(_event(i) for i in range(4))
        wait_until(lambda: collected() == 4, what="the four events in the queue")
    finally:
        outbox.stop()
    assert not outbox.running
    assert [b["detail"]["execution-id"] for b in bodies] == [f"run-{i}" for i in range(4)]
