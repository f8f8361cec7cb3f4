"""tests/shapes.py must see what botocore's lenient parser lets through (so the history checks can fail)."""

from __future__ import annotations

from tests.shapes import output_problems


def _history(event: dict[str, object]) -> dict[str, object]:
    return {"events": [{"timestamp": 1700000000.5, "id": 1, "previousEventId": 0, **event}]}


def test_a_conforming_event_has_no_problem() -> None:
    body = _history(
        {
            "type": "TaskFailed",
            "taskFailedEventDetails": {"resourceType": "lambda", "resource": "invoke", "error": "E", "cause": "c"},
        }
    )
    assert output_problems("stepfunctions", "GetExecutionHistory", body) == []


def test_a_missing_required_member_an_unknown_key_a_bad_enum_and_a_bad_type_are_each_named() -> None:
    body = _history(
        {
            "type": "TaskExploded",
            "taskFailedEventDetails": {"error": "E", "cause": "c", "extra": 1},
            "previousEventId": "0",
        }
    )
    problems = output_problems("stepfunctions", "GetExecutionHistory", body)
    assert "GetExecutionHistory.events[0].taskFailedEventDetails.extra: not a member of TaskFailedEventDetails" in (
        problems
    )
    assert any("required member resource of TaskFailedEventDetails is missing" in p for p in problems)
    assert any("required member resourceType of TaskFailedEventDetails is missing" in p for p in problems)
    assert any("'TaskExploded' is not one of HistoryEventType's values" in p for p in problems)
    assert any("previousEventId: expected a whole number" in p for p in problems)


def test_a_timestamp_must_be_epoch_seconds_and_a_string_within_its_length() -> None:
    body = {
        "executionArn": "x" * 300,
        "stateMachineArn": "arn",
        "status": "RUNNING",
        "startDate": "2024-01-01T00:00:00Z",
    }
    problems = output_problems("stepfunctions", "DescribeExecution", body)
    assert any("startDate: expected epoch seconds" in p for p in problems)
    assert any("executionArn: 300 is above Arn's maximum 256" in p for p in problems)
