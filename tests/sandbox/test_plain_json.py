"""A plain answer serialised without moto's attribute picker is byte for byte what moto's serialiser writes.

console/sandbox/moto_patches/plain_json.py: inputs are AWS's documented GetExecutionHistory example (read
by botocore's own parser, so its values are what botocore makes of AWS's text) and the histories moto's
Step Functions interpreter records for real runs of Map, Parallel, Choice, Wait and a caught Fail. A moto
release that changes how its serialiser writes an answer fails here, naming the answer that differs.
"""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from botocore.model import ServiceModel
from botocore.parsers import create_parser
from moto.core.responses import ActionContext, ActionResult
from moto.core.serialize import XFormedAttributePicker, get_serializer_class
from moto.core.utils import get_service_model
from moto.stepfunctions.responses import StepFunctionResponse

from console.sandbox.moto_patches.plain_json import PlainJSONResult
from tests.conftest import unique

# The API reference's example answer of GetExecutionHistory, with a Task state's events from the
# developer guide's history (`TaskStateEntered` ... `TaskStateExited`).
DOCUMENTED_HISTORY = {
    "events": [
        {
            "timestamp": 1522877081.153,
            "executionStartedEventDetails": {
                "input": "{}",
                "inputDetails": {"truncated": False},
                "roleArn": "arn:aws:iam::123456789012:role/service-role/StatesExecutionRole-us-east-1",
            },
            "type": "ExecutionStarted",
            "id": 1,
            "previousEventId": 0,
        },
        {
            "timestamp": 1522877081.164,
            "type": "TaskStateEntered",
            "id": 2,
            "previousEventId": 0,
            "stateEnteredEventDetails": {"input": "{}", "inputDetails": {"truncated": False}, "name": "HelloWorld"},
        },
        {
            "timestamp": 1522877081.17,
            "type": "LambdaFunctionScheduled",
            "id": 3,
            "previousEventId": 2,
            "lambdaFunctionScheduledEventDetails": {
                "resource": "arn:aws:lambda:us-east-1:123456789012:function:HelloWorld",
                "input": "{}",
                "inputDetails": {"truncated": False},
                "timeoutInSeconds": 60,
            },
        },
        {"timestamp": 1522877081.173, "type": "LambdaFunctionStarted", "id": 4, "previousEventId": 3},
        {
            "timestamp": 1522877081.436,
            "type": "LambdaFunctionSucceeded",
            "id": 5,
            "previousEventId": 4,
            "lambdaFunctionSucceededEventDetails": {
                "output": '"Hello World!"',
                "outputDetails": {"truncated": False},
            },
        },
        {
            "timestamp": 1522877081.436,
            "type": "TaskStateExited",
            "id": 6,
            "previousEventId": 5,
            "stateExitedEventDetails": {
                "name": "HelloWorld",
                "output": '"Hello World!"',
                "outputDetails": {"truncated": False},
            },
        },
        {
            "timestamp": 1522877081.437,
            "type": "ExecutionSucceeded",
            "id": 7,
            "previousEventId": 6,
            "executionSucceededEventDetails": {"output": '"Hello World!"', "outputDetails": {"truncated": False}},
        },
    ],
    "nextToken": "AAAAKgAAAAIAAAAAAAAAAT5zqOyW",
}

# Map, Parallel, Choice, Wait and a Fail caught: most of the event kinds a run records.
VARIED = {
    "StartAt": "Items",
    "States": {
        "Items": {"Type": "Pass", "Result": {"items": [1, 2, 3], "go": True}, "Next": "Each"},
        "Each": {
            "Type": "Map",
            "ItemsPath": "$.items",
            "ItemProcessor": {
                "ProcessorConfig": {"Mode": "INLINE"},
                "StartAt": "Touch",
                "States": {"Touch": {"Type": "Pass", "End": True}},
            },
            "ResultPath": "$.mapped",
            "Next": "Both",
        },
        "Both": {
            "Type": "Parallel",
            "Branches": [
                {"StartAt": "Left", "States": {"Left": {"Type": "Wait", "Seconds": 0, "End": True}}},
                {
                    "StartAt": "Right",
                    "States": {"Right": {"Type": "Fail", "Error": "Wavedeck.Broken", "Cause": "by design"}},
                },
            ],
            "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "Which"}],
            "Next": "Which",
        },
        "Which": {
            "Type": "Choice",
            "Choices": [{"Variable": "$.go", "BooleanEquals": True, "Next": "Done"}],
            "Default": "Done",
        },
        "Done": {"Type": "Succeed"},
    },
}


def answer(result_type: type[ActionResult], result: Any, operation: str = "GetExecutionHistory") -> Any:
    service_model = get_service_model("stepfunctions")
    context = ActionContext(
        service_model,
        service_model.operation_model(operation),
        get_serializer_class("stepfunctions", "json"),
        StepFunctionResponse(),
    )
    return result_type(result).execute_result(context)


def documented_history() -> dict[str, Any]:
    """AWS's example, read as botocore reads it (timestamps become datetimes)."""
    model = ServiceModel(get_service_model("stepfunctions")._service_description, "stepfunctions")
    output = model.operation_model("GetExecutionHistory").output_shape
    raw = {"body": json.dumps(DOCUMENTED_HISTORY).encode(), "headers": {}, "status_code": 200}
    parsed: dict[str, Any] = create_parser("json").parse(raw, output)
    parsed.pop("ResponseMetadata", None)
    return parsed


def without_the_picker(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(self: Any, context: Any) -> Any:
        raise AssertionError(f"moto's attribute picker was asked for {context.key}")

    monkeypatch.setattr(XFormedAttributePicker, "__call__", refuse)


def test_aws_documented_history_is_written_as_moto_writes_it(monkeypatch: pytest.MonkeyPatch) -> None:
    history = documented_history()
    assert len(history["events"]) == 7
    expected = answer(ActionResult, history)
    without_the_picker(monkeypatch)
    assert answer(PlainJSONResult, history) == expected
    assert json.loads(expected[2])["events"][4]["lambdaFunctionSucceededEventDetails"]["output"] == '"Hello World!"'


def test_histories_moto_records_for_real_runs_are_written_as_moto_writes_them(monkeypatch: pytest.MonkeyPatch) -> None:
    from moto import mock_aws
    from moto.stepfunctions.parser.models import stepfunctions_parser_backends

    with mock_aws():
        backend = stepfunctions_parser_backends["123456789012"]["us-east-1"]
        machine = backend.create_state_machine(
            name=unique("plain"), definition=json.dumps(VARIED), roleArn="arn:aws:iam::123456789012:role/states"
        )
        execution = backend.start_execution(machine.arn, name="plain-1", execution_input='{"note": "data"}')
        deadline = time.monotonic() + 20
        while backend.describe_execution(execution.execution_arn).status == "RUNNING":
            assert time.monotonic() < deadline, "the run did not end"
            time.sleep(0.05)
        run = backend.describe_execution(execution.execution_arn)
        events = run.exec_worker.env.event_manager.get_event_history()
    kinds = {event["type"] for event in events}
    assert {"MapIterationSucceeded", "ParallelStateFailed", "ChoiceStateEntered", "WaitStateExited"} <= kinds, kinds
    assert run.status == "SUCCEEDED"
    for page in ({"events": events}, {"events": events[:3], "nextToken": "page-2"}, {"events": []}):
        expected = answer(ActionResult, page)
        with monkeypatch.context() as patched:
            without_the_picker(patched)
            assert answer(PlainJSONResult, page) == expected


class Event:
    """An object moto's picker reads by attribute (snake_case), as moto's own models are."""

    def __init__(self) -> None:
        self.timestamp = 1522877081.153
        self.type = "ExecutionStarted"
        self.id = 1
        self.previous_event_id = 0


@pytest.mark.parametrize(
    "result",
    [
        {"events": [Event()]},
        {"events": [{"id": 1, "type": "ExecutionStarted", "timestamp": 1.5, "previous_event_id": 0}]},
        {"events": [None]},
        {"events": [{"id": "1", "type": "ExecutionStarted", "timestamp": 1.5}]},
    ],
    ids=["an object", "a key the shape does not name", "None in a list", "a number as text"],
)
def test_what_is_not_plain_is_left_to_moto(result: Any) -> None:
    assert answer(PlainJSONResult, result) == answer(ActionResult, result)


def test_another_protocol_is_left_to_moto() -> None:
    # SNS answers in XML, where a list's items are each a `member`: the walk's list would lose them.
    service_model = get_service_model("sns")
    context = ActionContext(
        service_model,
        service_model.operation_model("ListTopics"),
        get_serializer_class("sns", "query"),
        StepFunctionResponse(),
    )
    topics = {"Topics": [{"TopicArn": f"arn:aws:sns:us-east-1:123456789012:{name}"} for name in ("a", "b")]}
    answer = PlainJSONResult(topics).execute_result(context)
    assert answer == ActionResult(topics).execute_result(context)
    assert answer[2].count("<member>") == 2
