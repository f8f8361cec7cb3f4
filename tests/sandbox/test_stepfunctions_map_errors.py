"""A Map iteration that fails with a predefined error (`States.Timeout`) fails its Map with that error, which a
Catch on the Map matches, as the Step Functions developer guide's error handling says; against the sandbox."""

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
