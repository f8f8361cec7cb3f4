"""RedriveExecution: the same execution continues from the state that failed, with the input it had.

Same ARN, an ExecutionRedriven event, event ids that go on from the failed run's, redriveCount /
redriveDate / redriveStatus in DescribeExecution and ListExecutions (and its redriveFilter), and AWS's
errors for executions that cannot be redriven.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.sandbox.test_stepfunctions_support import (
    approval_machine,
    create_machine,
    describe,
    error_code,
    history,
    make_queue,
    start,
    task_token,
    wait_event,
    wait_status,
)

# Fails at Gate until the execution has been redriven once: the cause is "fixed" by the redrive itself.
# Prepare changes the input on the way (a Pass), Bake takes time (a Wait): neither runs again. Ship keeps
# the redriven run RUNNING for half a second.
GATED = {
    "StartAt": "Prepare",
    "States": {
        "Prepare": {"Type": "Pass", "Result": {"ready": True}, "ResultPath": "$.prepared", "Next": "Bake"},
        "Bake": {"Type": "Wait", "Seconds": 20, "Next": "Gate"},
        "Gate": {
            "Type": "Choice",
            "Choices": [{"Variable": "$$.Execution.RedriveCount", "NumericGreaterThanEquals": 1, "Next": "Ship"}],
        },
        "Ship": {"Type": "Wait", "Seconds": 20, "Next": "Done"},
        "Done": {"Type": "Succeed"},
    },
}


def entered(events: list[dict[str, Any]], name: str) -> list[dict[str, Any]]:
    return [e for e in events if e["type"].endswith("StateEntered") and e["stateEnteredEventDetails"]["name"] == name]


def test_a_failed_execution_redriven_resumes_at_the_failed_state(aws: Any) -> None:
    sfn = aws("stepfunctions")
    machine = create_machine(sfn, GATED, "redrive")
    arn = start(sfn, machine, {"revision": "abc"})
    failed = wait_status(sfn, arn)
    assert (failed["status"], failed["error"]) == ("FAILED", "States.NoChoiceMatched")
    assert failed["redriveStatus"] == "REDRIVABLE"
    assert failed["redriveCount"] == 0
    assert "redriveDate" not in failed
    before = history(sfn, arn)

    redriven = sfn.redrive_execution(executionArn=arn)
    running = describe(sfn, arn)
    assert running["status"] == "RUNNING"
    assert running["redriveCount"] == 1
    assert running["redriveDate"] == redriven["redriveDate"]
    assert running["redriveStatus"] == "NOT_REDRIVABLE"
    assert running["redriveStatusReason"] == "Execution is RUNNING and cannot be redriven"

    done = wait_status(sfn, arn)
    assert done["status"] == "SUCCEEDED"
    assert done["executionArn"] == arn
    assert done["startDate"] == failed["startDate"]
    assert json.loads(done["output"]) == {"revision": "abc", "prepared": {"ready": True}}

    events = history(sfn, arn)
    ids = [e["id"] for e in events]
    assert ids == list(range(1, len(ids) + 1))
    assert events[: len(before)] == before
    redrive_event = events[len(before)]
    assert redrive_event["type"] == "ExecutionRedriven"
    assert redrive_event["executionRedrivenEventDetails"] == {"redriveCount": 1}
    assert redrive_event["previousEventId"] == before[-1]["id"]
    # Resumed at Gate with the input Gate had; Prepare and Bake did not run again.
    assert len(entered(events, "Prepare")) == len(entered(events, "Bake")) == 1
    gates = entered(events, "Gate")
    assert len(gates) == 2
    assert gates[1]["id"] == redrive_event["id"] + 1
    assert gates[1]["stateEnteredEventDetails"]["input"] == gates[0]["stateEnteredEventDetails"]["input"]
    assert events[-1]["type"] == "ExecutionSucceeded"


def test_an_approval_rejected_then_redriven_and_approved(aws: Any) -> None:
    sfn, sqs = aws("stepfunctions"), aws("sqs")
    queue_url, _ = make_queue(sqs)
    arn = start(sfn, create_machine(sfn, approval_machine(queue_url), "reapprove"), {"revision": "r1"})
    first = task_token(wait_event(sfn, arn, "TaskScheduled"))
    sfn.send_task_failure(taskToken=first, error="Rejected", cause="Not during the sale")
    assert wait_status(sfn, arn)["status"] == "FAILED"

    sfn.redrive_execution(executionArn=arn)
    second = task_token(wait_event(sfn, arn, "TaskScheduled", count=2))
    assert second != first
    assert error_code(lambda: sfn.send_task_success(taskToken=first, output="{}"))[0] == "TaskTimedOut"
    sfn.send_task_success(taskToken=second, output=json.dumps({"approvedBy": "li.na"}))
    done = wait_status(sfn, arn)
    assert done["status"] == "SUCCEEDED"
    assert json.loads(done["output"])["approval"] == {"approvedBy": "li.na"}
    events = history(sfn, arn)
    assert len(entered(events, "Prepare")) == 1
    assert len(entered(events, "Approve")) == 2
    assert [e["id"] for e in events] == list(range(1, len(events) + 1))


def test_an_aborted_execution_can_be_redriven(aws: Any) -> None:
    sfn = aws("stepfunctions")
    definition = {
        "StartAt": "Hold",
        "States": {"Hold": {"Type": "Wait", "Seconds": 40, "Next": "Done"}, "Done": {"Type": "Succeed"}},
    }
    arn = start(sfn, create_machine(sfn, definition, "abort-redrive"))
    sfn.stop_execution(executionArn=arn, cause="paused by hand")
    assert describe(sfn, arn)["redriveStatus"] == "REDRIVABLE"
    sfn.redrive_execution(executionArn=arn)
    done = wait_status(sfn, arn)
    assert done["status"] == "SUCCEEDED"
    assert "error" not in done
    assert "cause" not in done
    types = [e["type"] for e in history(sfn, arn)]
    assert types.index("ExecutionAborted") < types.index("ExecutionRedriven") < types.index("ExecutionSucceeded")


def test_a_repeated_client_token_does_not_redrive_twice(aws: Any) -> None:
    sfn = aws("stepfunctions")
    arn = start(sfn, create_machine(sfn, GATED, "idempotent"))
    wait_status(sfn, arn)
    first = sfn.redrive_execution(executionArn=arn, clientToken="retry-of-one-click")
    again = sfn.redrive_execution(executionArn=arn, clientToken="retry-of-one-click")
    assert again["redriveDate"] == first["redriveDate"]
    wait_status(sfn, arn, "SUCCEEDED")
    assert describe(sfn, arn)["redriveCount"] == 1
    assert sum(e["type"] == "ExecutionRedriven" for e in history(sfn, arn)) == 1


@pytest.mark.parametrize("status", ["RUNNING", "SUCCEEDED"])
def test_running_and_succeeded_executions_are_not_redrivable(aws: Any, status: str) -> None:
    sfn = aws("stepfunctions")
    seconds = 4000 if status == "RUNNING" else 1
    definition = {"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": seconds, "End": True}}}
    arn = start(sfn, create_machine(sfn, definition, "not-redrivable"))
    if status == "SUCCEEDED":
        wait_status(sfn, arn, "SUCCEEDED")
    code, message = error_code(lambda: sfn.redrive_execution(executionArn=arn))
    assert (code, message) == ("ExecutionNotRedrivable", f"Execution is {status} and cannot be redriven")
    assert describe(sfn, arn)["redriveStatusReason"] == f"Execution is {status} and cannot be redriven"
    if status == "RUNNING":
        sfn.stop_execution(executionArn=arn)


def test_express_executions_and_unknown_executions(aws: Any) -> None:
    sfn = aws("stepfunctions")
    definition = {"StartAt": "F", "States": {"F": {"Type": "Fail", "Error": "Boom"}}}
    express = create_machine(sfn, definition, "express", machine_type="EXPRESS")
    arn = start(sfn, express)
    assert error_code(lambda: sfn.redrive_execution(executionArn=arn))[0] == "ExecutionNotRedrivable"
    standard = start(sfn, create_machine(sfn, definition, "gone"))
    assert error_code(lambda: sfn.redrive_execution(executionArn=standard + "x"))[0] == "ExecutionDoesNotExist"


def test_list_executions_reports_and_filters_redrives(aws: Any) -> None:
    sfn = aws("stepfunctions")
    machine = create_machine(sfn, GATED, "listed")
    redriven = start(sfn, machine, name="redriven")
    plain = start(sfn, machine, name="plain")
    wait_status(sfn, redriven)
    wait_status(sfn, plain)
    sfn.redrive_execution(executionArn=redriven)
    wait_status(sfn, redriven, "SUCCEEDED")

    listed = {e["name"]: e for e in sfn.list_executions(stateMachineArn=machine)["executions"]}
    assert listed["redriven"]["redriveCount"] == 1
    assert "redriveDate" in listed["redriven"]
    assert listed["plain"]["redriveCount"] == 0
    assert listed["plain"]["status"] == "FAILED"
    assert "stopDate" in listed["plain"]

    def names(**arguments: Any) -> list[str]:
        return [e["name"] for e in sfn.list_executions(stateMachineArn=machine, **arguments)["executions"]]

    assert names(redriveFilter="REDRIVEN") == ["redriven"]
    assert names(redriveFilter="NOT_REDRIVEN") == ["plain"]
    assert names(statusFilter="FAILED", redriveFilter="NOT_REDRIVEN") == ["plain"]
    assert names(statusFilter="FAILED", redriveFilter="REDRIVEN") == []
