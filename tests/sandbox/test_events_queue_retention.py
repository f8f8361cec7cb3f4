"""A push stream that reads and deletes for hours does not grow the sandbox: what moto keeps per deleted or
expired message goes once a retention period has passed.

In-process against moto (no server), as tests/sandbox/test_traffic_retention.py.
"""

from __future__ import annotations

import time

import boto3
import pytest
from moto import mock_aws
from moto.sqs.models import sqs_backends

from console.sandbox.queue_retention import QueueRetention, RecentReceipts
from console.sandbox.server_constants import ACCOUNT_ID


def _read_and_delete(sqs: object, url: str, body: str) -> str:
    sqs.send_message(QueueUrl=url, MessageBody=body)  # type: ignore[attr-defined]
    message = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=1)["Messages"][0]  # type: ignore[attr-defined]
    handle: str = message["ReceiptHandle"]
    sqs.delete_message(QueueUrl=url, ReceiptHandle=handle)  # type: ignore[attr-defined]
    return handle


@mock_aws
def test_deleted_receipt_handles_are_remembered_a_retention_period_then_forgotten() -> None:
    sqs = boto3.client("sqs", region_name="us-east-1")
    url = sqs.create_queue(QueueName="wavedeck-events", Attributes={"MessageRetentionPeriod": "120"})["QueueUrl"]
    queue = sqs_backends[ACCOUNT_ID]["us-east-1"].get_queue("wavedeck-events")
    retention = QueueRetention(("us-east-1",))
    now = time.time()
    retention.sweep(now)  # the queue's first generation starts

    first = _read_and_delete(sqs, url, "first")
    retention.sweep(now + 60)
    assert first in queue.deleted_messages, "too soon to forget"
    retention.sweep(now + 121)  # a new generation: the old one is still looked up
    assert isinstance(queue.deleted_messages, RecentReceipts)
    assert first in queue.deleted_messages
    sqs.delete_message(QueueUrl=url, ReceiptHandle=first)  # a repeated delete still succeeds

    second = _read_and_delete(sqs, url, "second")
    retention.sweep(now + 242)
    assert second in queue.deleted_messages
    assert first not in queue.deleted_messages, "two generations old: forgotten"
    assert len(queue.deleted_messages) == 0, "nothing deleted in this generation yet"
    assert second in queue.deleted_messages.previous
    with pytest.raises(sqs.exceptions.ReceiptHandleIsInvalid):
        sqs.delete_message(QueueUrl=url, ReceiptHandle=first)


@mock_aws
def test_an_expired_message_that_was_received_and_never_deleted_leaves_nothing_behind() -> None:
    sqs = boto3.client("sqs", region_name="us-east-1")
    url = sqs.create_queue(QueueName="wavedeck-events", Attributes={"MessageRetentionPeriod": "120"})["QueueUrl"]
    queue = sqs_backends[ACCOUNT_ID]["us-east-1"].get_queue("wavedeck-events")
    sqs.send_message(QueueUrl=url, MessageBody="read, never deleted")
    sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=1, VisibilityTimeout=300)
    assert len(queue.pending_messages) == 1
    assert QueueRetention(("us-east-1",)).sweep(time.time() + 121) == 1
    assert queue._messages == []
    assert len(queue.pending_messages) == 0
