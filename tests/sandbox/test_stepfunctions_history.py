"""GetExecutionHistory pages as AWS documents: maxResults, reverseOrder, nextToken, includeExecutionData."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from console.sandbox_process import SandboxProcess
from tests.conftest import make_client
from tests.sandbox.test_stepfunctions_support import create_machine, error_code, history, start, wait_status

# A Map over 30 items: a few events around the Map, then 4 per item (iteration started, Pass entered
# and exited, iteration succeeded): well over one default page of 100.
FAN_OUT = {
    "StartAt": "Items",
    "States": {
        "Items": {"Type": "Pass", "Parameters": {"items.$": "States.ArrayRange(1, 30, 1)"}, "Next": "Each"},
        "Each": {
            "Type": "Map",
            "ItemsPath": "$.items",
            "ItemProcessor": {
                "ProcessorConfig": {"Mode": "INLINE"},
                "StartAt": "Touch",
                "States": {"Touch": {"Type": "Pass", "End": True}},
            },
            "End": True,
        },
    },
}


@pytest.fixture(scope="module")
def long_run(sandbox: SandboxProcess) -> tuple[Any, str, list[dict[str, Any]]]:
    """One finished execution with a long history, and that history read in one go."""
    sfn = make_client(sandbox.url, "stepfunctions")
    arn = start(sfn, create_machine(sfn, FAN_OUT, "history"), {"note": "data"})
    wait_status(sfn, arn, "SUCCEEDED")
    return sfn, arn, history(sfn, arn)


def pages(sfn: Any, arn: str, **arguments: Any) -> list[list[dict[str, Any]]]:
    found: list[list[dict[str, Any]]] = []
    token = None
    while True:
        page = sfn.get_execution_history(executionArn=arn, **arguments, **({"nextToken": token} if token else {}))
        found.append(page["events"])
        token = page.get("nextToken")
        if token is None:
            return found


def test_the_whole_history_is_contiguous_from_one(long_run: Any) -> None:
    _, _, events = long_run
    ids = [e["id"] for e in events]
    assert ids == list(range(1, len(ids) + 1))
    assert len(ids) > 120
    assert events[0]["type"] == "ExecutionStarted"
    assert events[-1]["type"] == "ExecutionSucceeded"


def test_the_default_page_is_100_events(long_run: Any) -> None:
    sfn, arn, events = long_run
    page = sfn.get_execution_history(executionArn=arn)
    assert [e["id"] for e in page["events"]] == list(range(1, 101))
    assert page["nextToken"]
    assert len(sfn.get_execution_history(executionArn=arn, maxResults=0)["events"]) == 100


def test_paging_forward_returns_every_event_once_in_order(long_run: Any) -> None:
    sfn, arn, events = long_run
    found = pages(sfn, arn, maxResults=7)
    assert len(found) == -(-len(events) // 7)
    assert all(len(page) == 7 for page in found[:-1])
    ids = [e["id"] for page in found for e in page]
    assert ids == [e["id"] for e in events]


def test_paging_backwards_returns_every_event_once_newest_first(long_run: Any) -> None:
    sfn, arn, events = long_run
    found = pages(sfn, arn, maxResults=11, reverseOrder=True)
    assert len(found) > 3
    ids = [e["id"] for page in found for e in page]
    assert ids == list(range(len(events), 0, -1))
    assert found[0][0]["type"] == "ExecutionSucceeded"


def test_reading_only_new_events_the_way_a_console_does(long_run: Any) -> None:
    sfn, arn, events = long_run
    newest = sfn.get_execution_history(executionArn=arn, maxResults=1, reverseOrder=True)["events"]
    assert newest[0]["id"] == len(events)


def test_include_execution_data_false_drops_inputs_and_outputs(long_run: Any) -> None:
    sfn, arn, events = long_run
    with_data = sfn.get_execution_history(executionArn=arn, maxResults=3)["events"]
    without = sfn.get_execution_history(executionArn=arn, maxResults=3, includeExecutionData=False)["events"]
    assert with_data[0]["executionStartedEventDetails"]["input"] == '{"note": "data"}'
    assert "input" not in without[0]["executionStartedEventDetails"]
    assert without[0]["executionStartedEventDetails"]["roleArn"].endswith(":role/wavedeck-sandbox-states")
    assert "input" in with_data[1]["stateEnteredEventDetails"]
    assert without[1]["stateEnteredEventDetails"] == {"name": "Items"}
    assert [e["id"] for e in without] == [e["id"] for e in with_data]
    last = sfn.get_execution_history(executionArn=arn, maxResults=1, reverseOrder=True, includeExecutionData=False)
    assert "output" not in last["events"][0].get("executionSucceededEventDetails", {})


@pytest.mark.parametrize(
    "change",
    ["garbage", "tampered", "other execution", "other direction"],
)
def test_a_bad_next_token_is_invalid_token(long_run: Any, change: str) -> None:
    sfn, arn, _ = long_run
    token = sfn.get_execution_history(executionArn=arn, maxResults=5)["nextToken"]
    arguments: dict[str, Any] = {"executionArn": arn, "maxResults": 5, "nextToken": token}
    if change == "garbage":
        arguments["nextToken"] = "not-a-token"
    elif change == "tampered":
        arguments["nextToken"] = token[:-3] + ("AAA" if not token.endswith("AAA") else "BBB")
    elif change == "other execution":
        other = start(sfn, create_machine(sfn, {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}))
        arguments["executionArn"] = other
    else:
        arguments["reverseOrder"] = True
    code, message = error_code(lambda: sfn.get_execution_history(**arguments))
    assert code == "InvalidToken"
    assert message.startswith("Invalid Token:")


def test_more_than_1000_events_a_page_is_refused(long_run: Any) -> None:
    sfn, arn, _ = long_run
    code, message = error_code(lambda: sfn.get_execution_history(executionArn=arn, maxResults=1001))
    assert code == "ValidationException"
    assert "less than or equal to 1000" in message


def test_history_of_an_unknown_execution(long_run: Any) -> None:
    sfn, arn, _ = long_run
    code, _ = error_code(lambda: sfn.get_execution_history(executionArn=arn + "-nope"))
    assert code == "ExecutionDoesNotExist"


def test_history_timestamps_are_wall_clock_time(long_run: Any) -> None:
    _, _, events = long_run
    started = events[0]["timestamp"]
    now = datetime.now(UTC)
    assert now - timedelta(minutes=5) < started <= now + timedelta(seconds=5)
    assert [e["timestamp"] for e in events] == sorted(e["timestamp"] for e in events)
