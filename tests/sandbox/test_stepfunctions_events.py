"""Step Functions status changes reach an EventBridge rule's SQS target, shaped as AWS sends them.

Each test makes its own queue and a rule matching only its own state machines, over HTTP, the way the
README tells an operator to set one up for a real account.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

from tests.conftest import unique, wait_until
from tests.sandbox.test_stepfunctions_support import (
    create_machine,
    make_queue,
    receive_bodies,
    start,
    wait_status,
)

DETAIL_KEYS = {
    "executionArn",
    "stateMachineArn",
    "name",
    "status",
    "startDate",
    "stopDate",
    "input",
    "output",
    "inputDetails",
    "outputDetails",
    "error",
    "cause",
    "redriveCount",
    "redriveDate",
    "redriveStatus",
    "redriveStatusReason",
}


def subscribe(aws: Any, *machines: str) -> Callable[[], list[dict[str, Any]]]:
    """A rule for these state machines' status changes → a fresh queue; returns a reader of what arrived."""
    sqs, events = aws("sqs"), aws("events")
    url, arn = make_queue(sqs, "sfn-events")
    rule = unique("sfn-rule")
    pattern = {"source": ["aws.states"], "detail": {"stateMachineArn": list(machines)}}
    events.put_rule(Name=rule, EventPattern=json.dumps(pattern), State="ENABLED")
    events.put_targets(Rule=rule, Targets=[{"Id": "queue", "Arn": arn}])
    received: list[dict[str, Any]] = []

    def read() -> list[dict[str, Any]]:
        received.extend(receive_bodies(sqs, url))
        return received

    return read


def statuses_of(received: list[dict[str, Any]], execution_arn: str) -> list[str]:
    return [e["detail"]["status"] for e in received if e["detail"]["executionArn"] == execution_arn]


def arrived(read: Callable[[], list[dict[str, Any]]], execution_arn: str, *wanted: str) -> list[dict[str, Any]]:
    def enough() -> list[dict[str, Any]] | None:
        mine = [e for e in read() if e["detail"]["executionArn"] == execution_arn]
        return mine if [e["detail"]["status"] for e in mine] == list(wanted) else None

    result: list[dict[str, Any]] = wait_until(enough, 15, what=f"{'/'.join(wanted)} events of {execution_arn}")
    return result


def test_start_and_success_arrive_as_aws_shapes_them(aws: Any) -> None:
    sfn = aws("stepfunctions")
    machine = create_machine(
        sfn, {"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 4, "End": True}}}, "events-ok"
    )
    read = subscribe(aws, machine)
    arn = start(sfn, machine, {"revision": "abc"}, name="shaped")
    running, succeeded = arrived(read, arn, "RUNNING", "SUCCEEDED")

    assert running["source"] == "aws.states"
    assert running["detail-type"] == "Step Functions Execution Status Change"
    assert running["resources"] == [arn]
    assert running["account"] == "123456789012"
    assert running["region"] == "us-east-1"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", running["time"])
    detail = running["detail"]
    assert set(detail) == DETAIL_KEYS
    assert detail["stateMachineArn"] == machine
    assert detail["name"] == "shaped"
    assert detail["input"] == '{"revision": "abc"}'
    assert detail["inputDetails"] == {"included": True}
    assert isinstance(detail["startDate"], int)
    assert detail["startDate"] > 1_600_000_000_000  # epoch milliseconds
    assert (detail["stopDate"], detail["output"], detail["outputDetails"]) == (None, None, None)
    assert (detail["redriveCount"], detail["redriveStatus"]) == (0, "NOT_REDRIVABLE")

    done = succeeded["detail"]
    assert done["stopDate"] >= done["startDate"]
    assert json.loads(done["output"]) == {"revision": "abc"}
    assert done["outputDetails"] == {"included": True}
    assert (done["error"], done["cause"]) == (None, None)
    assert done["redriveStatusReason"] == "Execution is SUCCEEDED and cannot be redriven"


def test_failure_abort_timeout_and_redrive_arrive(aws: Any) -> None:
    sfn = aws("stepfunctions")
    failing = create_machine(
        sfn,
        {
            "StartAt": "Gate",
            "States": {
                "Gate": {
                    "Type": "Choice",
                    "Choices": [
                        {"Variable": "$$.Execution.RedriveCount", "NumericGreaterThanEquals": 1, "Next": "Done"}
                    ],
                },
                "Done": {"Type": "Succeed"},
            },
        },
        "events-fail",
    )
    holding = create_machine(
        sfn, {"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 4000, "End": True}}}, "events-hold"
    )
    timing_out = create_machine(
        sfn,
        {"TimeoutSeconds": 40, "StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 4000, "End": True}}},
        "events-timeout",
    )
    read = subscribe(aws, failing, holding, timing_out)

    failed = start(sfn, failing)
    wait_status(sfn, failed)
    sfn.redrive_execution(executionArn=failed)
    events = arrived(read, failed, "RUNNING", "FAILED", "RUNNING", "SUCCEEDED")
    assert events[1]["detail"]["error"] == "States.NoChoiceMatched"
    assert events[1]["detail"]["redriveStatus"] == "REDRIVABLE"
    assert events[1]["detail"]["redriveStatusReason"] is None
    assert events[2]["detail"]["redriveCount"] == 1
    assert isinstance(events[2]["detail"]["redriveDate"], int)
    assert events[2]["detail"]["stopDate"] is None

    aborted = start(sfn, holding)
    sfn.stop_execution(executionArn=aborted, error="Operator.Stop", cause="not now")
    stop_event = arrived(read, aborted, "RUNNING", "ABORTED")[1]["detail"]
    assert (stop_event["error"], stop_event["cause"]) == ("Operator.Stop", "not now")

    timed_out = start(sfn, timing_out)
    arrived(read, timed_out, "RUNNING", "TIMED_OUT")


def test_express_executions_emit_nothing(aws: Any) -> None:
    sfn = aws("stepfunctions")
    passing = {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}
    express = create_machine(sfn, passing, "events-express", machine_type="EXPRESS")
    standard = create_machine(sfn, passing, "events-standard")
    read = subscribe(aws, express, standard)
    quiet = start(sfn, express)
    wait_status(sfn, quiet, "SUCCEEDED")
    marker = start(sfn, standard)
    arrived(read, marker, "RUNNING", "SUCCEEDED")  # everything emitted before the marker has arrived
    assert statuses_of(read(), quiet) == []
