"""A Map iteration or a Parallel branch that fails with a predefined error (`States.Timeout`) fails its state
with that error, which a Catch on the state matches, as the developer guide's error handling says; on the sandbox."""

from __future__ import annotations

import json
from typing import Any

from tests.sandbox.test_stepfunctions_support import create_machine, make_queue, start, wait_status


def map_of_waits(queue_url: str, **on_map: Any) -> dict[str, Any]:
    """A Map whose iteration waits for a token that never comes (TimeoutSeconds 40: a second at test speed)."""
    ask = {
        "Type": "Task",
        "Resource": "arn:aws:states:::sqs:sendMessage.waitForTaskToken",
        "Parameters": {"QueueUrl": queue_url, "MessageBody": {"taskToken.$": "$$.Task.Token"}},
        "TimeoutSeconds": 40,
        "End": True,
    }
    processor = {"ProcessorConfig": {"Mode": "INLINE"}, "StartAt": "Ask", "States": {"Ask": ask}}
    states: dict[str, Any] = {
        "Each": {"Type": "Map", "ItemsPath": "$.items", "ItemProcessor": processor, "End": True, **on_map}
    }
    if "Catch" in on_map:
        states["TimedOut"] = {"Type": "Pass", "End": True}
    return {"StartAt": "Each", "States": states}


def test_a_map_iteration_that_times_out_fails_the_map_with_states_timeout(aws: Any) -> None:
    sfn = aws("stepfunctions")
    queue_url, _ = make_queue(aws("sqs"), "map-timeout")
    machine = create_machine(sfn, map_of_waits(queue_url), "map-timeout")
    done = wait_status(sfn, start(sfn, machine, {"items": [{"n": 1}]}), timeout=30)
    assert done["status"] == "FAILED"
    assert done["error"] == "States.Timeout", done  # was States.Runtime ("Custom Error Names MUST NOT begin …")
    caught = {"Catch": [{"ErrorEquals": ["States.Timeout"], "ResultPath": "$.error", "Next": "TimedOut"}]}
    machine = create_machine(sfn, map_of_waits(queue_url, **caught), "map-timeout-caught")
    done = wait_status(sfn, start(sfn, machine, {"items": [{"n": 1}]}), timeout=30)
    assert done["status"] == "SUCCEEDED", done
    assert json.loads(done["output"])["error"]["Error"] == "States.Timeout"


def parallel_of_waits(queue_url: str) -> dict[str, Any]:
    """Two reviewers at once; the first never answers (TimeoutSeconds 40: a second at test speed)."""

    def ask(timeout: int) -> dict[str, Any]:
        return {
            "Type": "Task",
            "Resource": "arn:aws:states:::sqs:sendMessage.waitForTaskToken",
            "Parameters": {"QueueUrl": queue_url, "MessageBody": {"taskToken.$": "$$.Task.Token"}},
            "TimeoutSeconds": timeout,
            "End": True,
        }

    branches = [{"StartAt": "Quick", "States": {"Quick": ask(40)}}, {"StartAt": "Slow", "States": {"Slow": ask(7200)}}]
    catch = [{"ErrorEquals": ["States.Timeout"], "ResultPath": "$.error", "Next": "TimedOut"}]
    return {
        "StartAt": "Reviews",
        "States": {
            "Reviews": {"Type": "Parallel", "Branches": branches, "Catch": catch, "End": True},
            "TimedOut": {"Type": "Pass", "End": True},
        },
    }


def test_a_parallel_branch_that_times_out_fails_the_parallel_with_states_timeout(aws: Any) -> None:
    sfn = aws("stepfunctions")
    queue_url, _ = make_queue(aws("sqs"), "parallel-timeout")
    machine = create_machine(sfn, parallel_of_waits(queue_url), "parallel-timeout")
    done = wait_status(sfn, start(sfn, machine, {"change": 7}), timeout=30)
    assert done["status"] == "SUCCEEDED", done  # was FAILED States.Runtime: the interpreter crashed
    assert json.loads(done["output"])["error"]["Error"] == "States.Timeout"
