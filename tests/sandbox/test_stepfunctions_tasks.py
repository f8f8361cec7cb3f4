"""Task tokens and StopExecution: a human approval through SQS answered with the token of the history.

SendTaskSuccess / SendTaskFailure / SendTaskHeartbeat answer as AWS: InvalidToken for a token that is not
one, TaskDoesNotExist for a well-formed token no task was given, TaskTimedOut once the task was answered
or its wait ended. StopExecution keeps error and cause.
"""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

from tests.conftest import wait_until
from tests.sandbox.test_stepfunctions_support import (
    approval_machine,
    create_machine,
    describe,
    error_code,
    history,
    make_queue,
    receive_bodies,
    start,
    task_token,
    wait_event,
    wait_status,
)


def test_a_human_approval_answered_with_the_token_of_the_task_scheduled_event(aws: Any) -> None:
    sfn, sqs = aws("stepfunctions"), aws("sqs")
    queue_url, _ = make_queue(sqs)
    arn = start(sfn, create_machine(sfn, approval_machine(queue_url), "approval"), {"revision": "abc"})
    scheduled = wait_event(sfn, arn, "TaskScheduled")
    token = task_token(scheduled)
    assert scheduled["taskScheduledEventDetails"]["resource"] == "sendMessage.waitForTaskToken"

    # The same token is in the message the task sent.
    def message() -> list[dict[str, Any]]:
        return receive_bodies(sqs, queue_url)

    bodies = wait_until(message, 10, what="the approval message")
    assert bodies[0]["taskToken"] == token
    assert bodies[0]["execution"] == arn
    assert describe(sfn, arn)["status"] == "RUNNING"

    sfn.send_task_success(taskToken=token, output=json.dumps({"approvedBy": "amara"}))
    finished = wait_status(sfn, arn)
    assert finished["status"] == "SUCCEEDED"
    assert json.loads(finished["output"])["approval"] == {"approvedBy": "amara"}
    succeeded = [e for e in history(sfn, arn) if e["type"] == "TaskSucceeded"]
    assert json.loads(succeeded[0]["taskSucceededEventDetails"]["output"]) == {"approvedBy": "amara"}

    # A second answer with the same token is refused, as AWS refuses it.
    code, message_text = error_code(lambda: sfn.send_task_success(taskToken=token, output="{}"))
    assert code == "TaskTimedOut"
    assert "does not exist anymore" in message_text
    assert error_code(lambda: sfn.send_task_failure(taskToken=token, error="Late"))[0] == "TaskTimedOut"
    assert error_code(lambda: sfn.send_task_heartbeat(taskToken=token))[0] == "TaskTimedOut"


def test_a_rejection_keeps_error_and_cause(aws: Any) -> None:
    sfn, sqs = aws("stepfunctions"), aws("sqs")
    queue_url, _ = make_queue(sqs)
    arn = start(sfn, create_machine(sfn, approval_machine(queue_url), "reject"))
    token = task_token(wait_event(sfn, arn, "TaskScheduled"))
    sfn.send_task_heartbeat(taskToken=token)  # accepted while the task waits, heartbeat or not
    sfn.send_task_failure(taskToken=token, error="Deployment.Rejected", cause="The canary dashboards look wrong")
    failed = wait_status(sfn, arn)
    assert (failed["status"], failed["error"], failed["cause"]) == (
        "FAILED",
        "Deployment.Rejected",
        "The canary dashboards look wrong",
    )
    task_failed = wait_event(sfn, arn, "TaskFailed")["taskFailedEventDetails"]
    assert (task_failed["error"], task_failed["cause"]) == ("Deployment.Rejected", "The canary dashboards look wrong")
    assert error_code(lambda: sfn.send_task_success(taskToken=token, output="{}"))[0] == "TaskTimedOut"


def test_tokens_that_are_not_tokens_of_a_task(aws: Any) -> None:
    sfn = aws("stepfunctions")
    code, message = error_code(lambda: sfn.send_task_success(taskToken="not a token", output="{}"))
    assert (code, message) == ("InvalidToken", "Invalid Token: 'Invalid token'")
    stranger = str(uuid.uuid4())
    assert error_code(lambda: sfn.send_task_success(taskToken=stranger, output="{}"))[0] == "TaskDoesNotExist"
    assert error_code(lambda: sfn.send_task_failure(taskToken=stranger))[0] == "TaskDoesNotExist"
    assert error_code(lambda: sfn.send_task_heartbeat(taskToken="x" * 20))[0] == "InvalidToken"


def test_an_output_that_is_not_json_is_refused_and_the_task_still_waits(aws: Any) -> None:
    sfn, sqs = aws("stepfunctions"), aws("sqs")
    queue_url, _ = make_queue(sqs)
    arn = start(sfn, create_machine(sfn, approval_machine(queue_url), "output"))
    token = task_token(wait_event(sfn, arn, "TaskScheduled"))
    assert error_code(lambda: sfn.send_task_success(taskToken=token, output="{not json"))[0] == "InvalidOutput"
    sfn.send_task_success(taskToken=token, output="{}")
    assert wait_status(sfn, arn)["status"] == "SUCCEEDED"


def test_a_task_timeout_is_shortened_by_speed_and_then_the_token_is_refused(aws: Any) -> None:
    sfn, sqs = aws("stepfunctions"), aws("sqs")
    queue_url, _ = make_queue(sqs)
    # 80 definition seconds: two real seconds at speed 40.
    arn = start(sfn, create_machine(sfn, approval_machine(queue_url, timeout_seconds=80), "timeout"))
    scheduled = wait_event(sfn, arn, "TaskScheduled")
    assert scheduled["taskScheduledEventDetails"]["timeoutInSeconds"] == 80  # the history says the definition's
    failed = wait_status(sfn, arn, timeout=10)
    assert (failed["status"], failed["error"]) == ("FAILED", "States.Timeout")
    assert wait_event(sfn, arn, "TaskTimedOut")["taskTimedOutEventDetails"]["error"] == "States.Timeout"
    assert error_code(lambda: sfn.send_task_success(taskToken=task_token(scheduled), output="{}"))[0] == "TaskTimedOut"


def test_heartbeats_keep_a_task_alive_and_their_absence_times_it_out_shortened_by_speed(aws: Any) -> None:
    sfn, sqs = aws("stepfunctions"), aws("sqs")
    queue_url, _ = make_queue(sqs)
    definition = approval_machine(queue_url, timeout_seconds=4000)
    definition["States"]["Approve"]["HeartbeatSeconds"] = 40  # one real second at speed 40
    arn = start(sfn, create_machine(sfn, definition, "heartbeat"))
    scheduled = wait_event(sfn, arn, "TaskScheduled")
    assert scheduled["taskScheduledEventDetails"]["heartbeatInSeconds"] == 40
    token = task_token(scheduled)
    alive_until = time.monotonic() + 2.5  # well past one heartbeat interval

    def beat() -> bool:
        sfn.send_task_heartbeat(taskToken=token)
        assert describe(sfn, arn)["status"] == "RUNNING"
        return time.monotonic() >= alive_until

    wait_until(beat, 10, interval=0.25, what="heartbeats for 2.5 s")
    last_beat = time.monotonic()
    failed = wait_status(sfn, arn, timeout=10)
    assert (failed["status"], failed["error"]) == ("FAILED", "States.Timeout")
    assert time.monotonic() - last_beat < 5  # 40 definition seconds would not fit
    assert error_code(lambda: sfn.send_task_heartbeat(taskToken=token))[0] == "TaskTimedOut"


def test_stop_execution_keeps_error_and_cause_and_ends_the_wait_at_once(aws: Any) -> None:
    sfn, sqs = aws("stepfunctions"), aws("sqs")
    queue_url, _ = make_queue(sqs)
    arn = start(sfn, create_machine(sfn, approval_machine(queue_url), "stop"))
    token = task_token(wait_event(sfn, arn, "TaskScheduled"))
    wait_event(sfn, arn, "TaskSubmitted")
    stopped = sfn.stop_execution(executionArn=arn, error="Operator.Stop", cause="Wrong revision picked")
    after = describe(sfn, arn)  # no polling: StopExecution has taken effect when it returns
    assert (after["status"], after["error"], after["cause"]) == ("ABORTED", "Operator.Stop", "Wrong revision picked")
    assert after["stopDate"] == stopped["stopDate"]
    events = history(sfn, arn)
    assert events[-1]["type"] == "ExecutionAborted"
    assert events[-1]["executionAbortedEventDetails"] == {"error": "Operator.Stop", "cause": "Wrong revision picked"}
    assert error_code(lambda: sfn.send_task_success(taskToken=token, output="{}"))[0] == "TaskTimedOut"
    # Nothing the stopped run left behind reaches the history afterwards.
    assert [e["id"] for e in history(sfn, arn)] == [e["id"] for e in events]


def test_stop_without_error_or_cause(aws: Any) -> None:
    sfn = aws("stepfunctions")
    machine = create_machine(sfn, {"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 4000, "End": True}}})
    arn = start(sfn, machine)
    sfn.stop_execution(executionArn=arn)
    after = describe(sfn, arn)
    assert after["status"] == "ABORTED"
    assert "error" not in after
    assert "cause" not in after
    assert history(sfn, arn)[-1]["executionAbortedEventDetails"] == {}
    assert error_code(lambda: sfn.stop_execution(executionArn=arn + "-nope"))[0] == "ExecutionDoesNotExist"
