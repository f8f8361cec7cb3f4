"""Nested workflows: a Task that starts another state machine, as the Step Functions developer guide's
"Start workflow executions from a task state" writes it (`StateMachineArn`, `Input`, and the result read as
`ExecutionArn` / `Output`), against the sandbox over HTTP."""

from __future__ import annotations

import json
from typing import Any

from tests.conftest import wait_until
from tests.sandbox.test_stepfunctions_support import create_machine, history, start, wait_status

CHILD = {"StartAt": "Greet", "States": {"Greet": {"Type": "Pass", "Parameters": {"greeting.$": "$.who"}, "End": True}}}


def parent(child_arn: str, resource: str, **extra: Any) -> dict[str, Any]:
    return {
        "StartAt": "RunChild",
        "States": {
            "RunChild": {
                "Type": "Task",
                "Resource": resource,
                "Parameters": {"StateMachineArn": child_arn, "Input": {"who": "ops", **extra}},
                "End": True,
            }
        },
    }


def test_start_execution_sync_2_returns_the_child_output_as_json(aws: Any) -> None:
    sfn = aws("stepfunctions")
    child = create_machine(sfn, CHILD, "nested-child")
    machine = create_machine(sfn, parent(child, "arn:aws:states:::states:startExecution.sync:2"), "nested-parent")
    done = wait_status(sfn, start(sfn, machine), timeout=30)
    assert done["status"] == "SUCCEEDED", done
    output = json.loads(done["output"])
    assert output["Status"] == "SUCCEEDED"
    assert output["Output"] == {"greeting": "ops"}
    assert output["ExecutionArn"].startswith(child.replace(":stateMachine:", ":execution:"))


def test_start_execution_fire_and_forget_answers_execution_arn_and_start_date(aws: Any) -> None:
    sfn = aws("stepfunctions")
    child = create_machine(sfn, CHILD, "nested-child")
    machine = create_machine(sfn, parent(child, "arn:aws:states:::states:startExecution"), "nested-parent")
    done = wait_status(sfn, start(sfn, machine), timeout=30)
    assert done["status"] == "SUCCEEDED", done
    assert set(json.loads(done["output"])) == {"ExecutionArn", "StartDate"}


def test_wait_for_task_token_hands_the_token_to_the_child_which_answers_its_parent(aws: Any) -> None:
    sfn = aws("stepfunctions")
    child = create_machine(sfn, {"StartAt": "Hold", "States": {"Hold": {"Type": "Pass", "End": True}}}, "nested-child")
    definition = parent(
        child,
        "arn:aws:states:::states:startExecution.waitForTaskToken",
        **{"TaskToken.$": "$$.Task.Token", "AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID.$": "$$.Execution.Id"},
    )
    machine = create_machine(sfn, definition, "nested-parent")
    run = start(sfn, machine)
    (child_run,) = wait_for_child(sfn, child)
    handed = json.loads(sfn.describe_execution(executionArn=child_run)["input"])
    assert handed["AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID"] == run
    sfn.send_task_success(taskToken=handed["TaskToken"], output=json.dumps({"child": "done"}))
    done = wait_status(sfn, run, timeout=30)
    assert done["status"] == "SUCCEEDED", done
    assert json.loads(done["output"]) == {"child": "done"}
    assert [e["type"] for e in history(sfn, run)].count("TaskSubmitted") == 1


def wait_for_child(sfn: Any, child: str) -> list[str]:
    found: list[str] = wait_until(
        lambda: [e["executionArn"] for e in sfn.list_executions(stateMachineArn=child)["executions"]], 20, what="child"
    )
    return found
