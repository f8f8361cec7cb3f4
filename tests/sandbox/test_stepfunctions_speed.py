"""`--speed` shortens what takes time in Step Functions; names are generated; the history keeps real time.

The session sandbox runs at speed 40: a Wait of 40 definition seconds lasts one real second. Each test
measures the wait on the history's own timestamps, so it fails if the wait was not shortened (the poll
times out) and if it was skipped (too short).
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.conftest import SPEED
from tests.sandbox.test_stepfunctions_support import create_machine, describe, history, start, wait_status


def waited(events: list[dict[str, Any]], state: str) -> float:
    """Real seconds between entering and leaving `state`."""
    entered = next(e for e in events if e.get("stateEnteredEventDetails", {}).get("name") == state)
    exited = next(e for e in events if e.get("stateExitedEventDetails", {}).get("name") == state)
    return float((exited["timestamp"] - entered["timestamp"]).total_seconds())


def in_one_wait(wait: dict[str, Any]) -> dict[str, Any]:
    return {"StartAt": "Bake", "States": {"Bake": {"Type": "Wait", **wait, "End": True}}}


@pytest.mark.parametrize(
    ("wait", "document"),
    [
        ({"Seconds": 40}, {}),
        ({"SecondsPath": "$.bake"}, {"bake": 40}),
        ({"TimestampPath": "$.until"}, "timestamp"),
    ],
    ids=["Seconds", "SecondsPath", "TimestampPath"],
)
def test_a_wait_lasts_its_seconds_divided_by_the_speed(aws: Any, wait: dict[str, Any], document: Any) -> None:
    sfn = aws("stepfunctions")
    if document == "timestamp":
        until = datetime.now(UTC) + timedelta(seconds=40)
        document = {"until": until.strftime("%Y-%m-%dT%H:%M:%SZ")}
    arn = start(sfn, create_machine(sfn, in_one_wait(wait), "wait"), document)
    finished = wait_status(sfn, arn, timeout=15)  # unshortened, 40 s would not fit
    assert finished["status"] == "SUCCEEDED"
    seconds = waited(history(sfn, arn), "Bake")
    expected = 40 / SPEED
    assert 0.5 * expected <= seconds <= expected + 3.0


def test_a_timestamp_in_the_past_does_not_wait(aws: Any) -> None:
    sfn = aws("stepfunctions")
    arn = start(sfn, create_machine(sfn, in_one_wait({"Timestamp": "2020-01-01T00:00:00Z"}), "past"))
    assert wait_status(sfn, arn, timeout=5)["status"] == "SUCCEEDED"


def test_the_execution_timeout_is_shortened_too(aws: Any) -> None:
    sfn = aws("stepfunctions")
    definition = {"TimeoutSeconds": 40, **in_one_wait({"Seconds": 4000})}
    arn = start(sfn, create_machine(sfn, definition, "timeout"))
    timed_out = wait_status(sfn, arn, timeout=10)
    assert timed_out["status"] == "TIMED_OUT"
    assert "stopDate" in timed_out
    assert timed_out["redriveStatus"] == "REDRIVABLE"
    events = history(sfn, arn)
    assert events[-1]["type"] == "ExecutionTimedOut"
    assert events[-1]["executionTimedOutEventDetails"]["error"] == "States.Timeout"


def test_retry_intervals_are_shortened(aws: Any) -> None:
    sfn = aws("stepfunctions")
    definition = {
        "StartAt": "Send",
        "States": {
            "Send": {
                "Type": "Task",
                "Resource": "arn:aws:states:::sqs:sendMessage",
                "Parameters": {"QueueUrl": "no-such-queue-anywhere", "MessageBody": "hello"},
                "Retry": [{"ErrorEquals": ["States.ALL"], "IntervalSeconds": 40, "MaxAttempts": 1}],
                "End": True,
            }
        },
    }
    arn = start(sfn, create_machine(sfn, definition, "retry"))
    assert wait_status(sfn, arn, timeout=15)["status"] == "FAILED"
    events = history(sfn, arn)
    failures = [e for e in events if e["type"] == "TaskFailed"]
    assert len(failures) == 2
    gap = (failures[1]["timestamp"] - failures[0]["timestamp"]).total_seconds()
    assert 0.5 * 40 / SPEED <= gap <= 40 / SPEED + 3.0


def test_an_execution_started_without_a_name_gets_a_uuid(aws: Any) -> None:
    sfn = aws("stepfunctions")
    machine = create_machine(sfn, {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}, "unnamed")
    first, second = start(sfn, machine), start(sfn, machine)
    for arn in (first, second):
        name = describe(sfn, arn)["name"]
        assert str(uuid.UUID(name)) == name
        assert arn == f"{machine.replace(':stateMachine:', ':execution:')}:{name}"
    assert first != second
    assert "None" not in first
    named = start(sfn, machine, name="release-42")
    assert named.endswith(":release-42")
