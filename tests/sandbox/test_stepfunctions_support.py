"""Helpers for the Step Functions tests: state machines made over HTTP, and reads of their executions.

Every behaviour test creates its own state machine with a unique name through CreateStateMachine. At the
session's speed (40) a Wait of 40 definition seconds lasts one real second.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from botocore.exceptions import ClientError

from console.sandbox.server_constants import ACCOUNT_ID, SFN_ROLE
from tests.conftest import REGION, unique, wait_until

ROLE = f"arn:aws:iam::{ACCOUNT_ID}:role/{SFN_ROLE}"
TERMINAL = ("SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED")
BUNDLED = f"arn:aws:states:{REGION}:{ACCOUNT_ID}:stateMachine:"


def create_machine(sfn: Any, definition: dict[str, Any], prefix: str = "sfn", machine_type: str = "STANDARD") -> str:
    response = sfn.create_state_machine(
        name=unique(prefix), definition=json.dumps(definition), roleArn=ROLE, type=machine_type
    )
    return str(response["stateMachineArn"])


def start(sfn: Any, machine_arn: str, document: dict[str, Any] | None = None, name: str | None = None) -> str:
    arguments: dict[str, Any] = {"stateMachineArn": machine_arn, "input": json.dumps(document or {})}
    if name is not None:
        arguments["name"] = name
    return str(sfn.start_execution(**arguments)["executionArn"])


def describe(sfn: Any, execution_arn: str) -> dict[str, Any]:
    return dict(sfn.describe_execution(executionArn=execution_arn))


def wait_status(sfn: Any, execution_arn: str, *wanted: str, timeout: float = 20.0) -> dict[str, Any]:
    """Poll DescribeExecution until the status is one of `wanted` (default: any terminal status)."""
    statuses = wanted or TERMINAL

    def reached() -> dict[str, Any] | None:
        found = describe(sfn, execution_arn)
        return found if found["status"] in statuses else None

    result: dict[str, Any] = wait_until(reached, timeout, what=f"{execution_arn} to be {'/'.join(statuses)}")
    return result


def history(sfn: Any, execution_arn: str, **arguments: Any) -> list[dict[str, Any]]:
    """The whole history, through every page."""
    events: list[dict[str, Any]] = []
    token: str | None = None
    while True:
        page = sfn.get_execution_history(
            executionArn=execution_arn, maxResults=1000, **arguments, **({"nextToken": token} if token else {})
        )
        events.extend(page["events"])
        token = page.get("nextToken")
        if not token:
            return events


def wait_event(sfn: Any, execution_arn: str, event_type: str, count: int = 1, timeout: float = 20.0) -> dict[str, Any]:
    """The `count`-th event of `event_type` in the history, once it is there."""

    def found() -> dict[str, Any] | None:
        matching = [e for e in history(sfn, execution_arn) if e["type"] == event_type]
        return matching[count - 1] if len(matching) >= count else None

    result: dict[str, Any] = wait_until(found, timeout, what=f"{event_type} #{count} in {execution_arn}")
    return result


def task_token(scheduled: dict[str, Any]) -> str:
    """The task token of a `.waitForTaskToken` SQS task: in its TaskScheduled parameters, MessageBody.taskToken."""
    parameters = json.loads(scheduled["taskScheduledEventDetails"]["parameters"])
    return str(parameters["MessageBody"]["taskToken"])


def error_code(call: Callable[[], Any]) -> tuple[str, str]:
    """The AWS error code and message `call` fails with (the test fails if it does not)."""
    try:
        call()
    except ClientError as exc:
        return exc.response["Error"]["Code"], exc.response["Error"]["Message"]
    raise AssertionError("the call succeeded, an AWS error was expected")


def approval_machine(queue_url: str, timeout_seconds: int | None = None) -> dict[str, Any]:
    """Ask a person through SQS and wait for the token; a rejection fails the execution at `Approve`."""
    approve: dict[str, Any] = {
        "Type": "Task",
        "Resource": "arn:aws:states:::sqs:sendMessage.waitForTaskToken",
        "Parameters": {
            "QueueUrl": queue_url,
            "MessageBody": {"ask": "Ship it?", "taskToken.$": "$$.Task.Token", "execution.$": "$$.Execution.Id"},
        },
        "ResultPath": "$.approval",
        "Next": "Ship",
    }
    if timeout_seconds is not None:
        approve["TimeoutSeconds"] = timeout_seconds
    return {
        "StartAt": "Prepare",
        "States": {
            "Prepare": {"Type": "Pass", "Result": "ready", "ResultPath": "$.prepared", "Next": "Approve"},
            "Approve": approve,
            "Ship": {"Type": "Wait", "Seconds": 4, "Next": "Done"},
            "Done": {"Type": "Succeed"},
        },
    }


def make_queue(sqs: Any, prefix: str = "sfn-q") -> tuple[str, str]:
    """A fresh SQS queue: (url, arn)."""
    url = str(sqs.create_queue(QueueName=unique(prefix))["QueueUrl"])
    arn = str(sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"])
    return url, arn


def receive_bodies(sqs: Any, queue_url: str) -> list[dict[str, Any]]:
    messages = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=0).get("Messages", [])
    for message in messages:
        sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
    return [json.loads(m["Body"]) for m in messages]
