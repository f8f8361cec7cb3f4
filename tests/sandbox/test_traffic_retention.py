"""The events queue of a sandbox nobody reads stays small: messages past retention go, as in AWS.

In-process against moto (no server): this checks the moto internals `queue_retention` relies on.
"""

from __future__ import annotations

import time

import boto3
from moto import mock_aws

from console.sandbox.queue_retention import QueueRetention


@mock_aws
def test_messages_past_their_queue_retention_are_dropped_and_newer_ones_kept() -> None:
    sqs = boto3.client("sqs", region_name="us-east-1")
    url = sqs.create_queue(QueueName="wavedeck-events", Attributes={"MessageRetentionPeriod": "120"})["QueueUrl"]
    for index in range(5):
        sqs.send_message(QueueUrl=url, MessageBody=f"event {index}")
    retention = QueueRetention(("us-east-1",))
    assert retention.sweep(time.time()) == 0, "nothing is old yet"
    assert retention.sweep(time.time() + 121) == 5
    sqs.send_message(QueueUrl=url, MessageBody="fresh")
    bodies = [m["Body"] for m in sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])]
    assert bodies == ["fresh"]
