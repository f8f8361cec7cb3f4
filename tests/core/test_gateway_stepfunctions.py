"""The gateway's Step Functions and SQS methods against the sandbox over HTTP.

Each test makes its own state machine (and queue) with a unique name, so tests never see each other's runs.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC
from typing import Any

import pytest

from console.aws import Gateway, GatewayOptions
from console.errors import AlreadyDone, InvalidInput, NotFound
from console.model import Target
from console.sandbox.server_constants import ACCOUNT_ID, SFN_ROLE
from console.sandbox_process import SandboxProcess
from console.stepfunctions.model import HistoryEvent
from tests.conftest import REGION, unique
from tests.core.test_gateway_codepipeline import eventually, fast_budget

ROLE = f"arn:aws:iam::{ACCOUNT_ID}:role/{SFN_ROLE}"


@pytest.fixture
async def gateway(sandbox: SandboxProcess) -> AsyncIterator[Gateway]:
    target = Target(name="sandbox", region=REGION, endpoint_url=sandbox.url, sandbox=True)
    async with Gateway(target, budget=fast_budget(), options=GatewayOptions(max_attempts=1)) as gateway:
        yield gateway


def create_machine(aws: Any, definition: dict[str, Any], prefix: str = "gw-test") -> str:
    response = aws("stepfunctions").create_state_machine(
        name=unique(prefix), definition=json.dumps(definition), roleArn=ROLE, type="STANDARD"
    )
    return str(response["stateMachineArn"])


def passes(count: int) -> dict[str, Any]:
    """A chain of Pass states: two history events each, quick to run."""
    states: dict[str, Any] = {}
    for index in range(count):
        states[f"Step{index}"] = {
            "Type": "Pass",
            **({"Next": f"Step{index + 1}"} if index < count - 1 else {"End": True}),
        }
    return {"StartAt": "Step0", "States": states}


def approval_machine(queue_url: str) -> dict[str, Any]:
    """Enter, wait for a person's token (sent to `queue_url`), then two more states."""
    return {
        "StartAt": "Prepare",
        "States": {
            "Prepare": {"Type": "Pass", "Next": "Approve"},
            "Approve": {
                "Type": "Task",
                "Resource": "arn:aws:states:::sqs:sendMessage.waitForTaskToken",
                "Parameters": {
                    "QueueUrl": queue_url,
                    "MessageBody": {"ask": "Promote?", "approval": {"token.$": "$$.Task.Token"}},
                },
                "TimeoutSeconds": 3600,
                "Next": "Deploy",
            },
            "Deploy": {"Type": "Pass", "Next": "Done"},
            "Done": {"Type": "Succeed"},
        },
    }


async def status_of(gateway: Gateway, arn: str, *wanted: str) -> str | None:
    execution = await gateway.describe_execution(arn)
    return execution.status if execution.status in wanted else None


async def waiting_task(gateway: Gateway, arn: str) -> HistoryEvent | None:
    """The TaskScheduled event, once the task has been submitted (after which the history holds still)."""
    events = await gateway.get_execution_history(arn)
    if not any(e.type == "TaskSubmitted" for e in events):
        return None
    return next((e for e in events if e.type == "TaskScheduled"), None)


async def test_list_state_machines_reads_every_page(gateway: Gateway) -> None:
    machines = await gateway.list_state_machines(page_size=1)
    names = [m.name for m in machines]
    assert {"wave-deployment", "distributed-load-test", "wave-rollback"} <= set(names)
    assert len(names) == len(set(names))
    assert gateway.stats.requests["ListStateMachines"] >= len(names)
    assert all(m.created is not None and m.created.tzinfo is UTC for m in machines)


async def test_describe_state_machine_finds_the_task_token_states(gateway: Gateway) -> None:
    machines = {m.name: m for m in await gateway.list_state_machines()}
    detail = await gateway.describe_state_machine(machines["wave-deployment"].arn)
    assert detail.name == "wave-deployment"
    assert detail.type == "STANDARD"
    assert detail.definition["StartAt"] in detail.states
    assert "ApprovePromotion" in detail.states
    assert detail.definition_error is None
    [approve] = detail.task_token_states
    assert approve.name == "ApprovePromotion"
    assert approve.resource == "arn:aws:states:::sqs:sendMessage.waitForTaskToken"
    assert approve.token_paths == (("MessageBody", "taskToken"),)
    assert approve.token_in(json.dumps({"MessageBody": {"taskToken": "abc"}})) == "abc"
    assert approve.token_in("not json") is None
    with pytest.raises(NotFound) as missing:
        await gateway.describe_state_machine(machines["wave-deployment"].arn + "-gone")
    assert missing.value.code == "StateMachineDoesNotExist"


async def test_executions_are_listed_newest_first_and_bounded(aws: Any, gateway: Gateway) -> None:
    arn = create_machine(aws, passes(1))
    receipts = [await gateway.start_execution(arn, json.dumps({"n": n}), name=f"run-{n}") for n in range(4)]
    assert all(r.execution_id and r.request_id and r.effective is not None for r in receipts)
    unnamed = await gateway.start_execution(arn, "{}")
    assert unnamed.execution_id is not None
    assert not unnamed.execution_id.endswith(":None")
    for receipt in (*receipts, unnamed):
        assert receipt.execution_id is not None
        await eventually(lambda a=receipt.execution_id: status_of(gateway, a, "SUCCEEDED"), "the run to end")
    before = gateway.stats.requests["ListExecutions"]
    newest = await gateway.list_executions(arn, max_results=3)
    assert gateway.stats.requests["ListExecutions"] - before == 1
    assert [e.arn for e in newest] == [unnamed.execution_id, receipts[3].execution_id, receipts[2].execution_id]
    paged = await gateway.list_executions(arn, max_results=10, page_size=2)
    assert [e.name for e in paged][1:] == ["run-3", "run-2", "run-1", "run-0"]
    assert gateway.stats.requests["ListExecutions"] - before == 1 + 3
    assert await gateway.list_executions(arn, status="RUNNING") == ()
    done = await gateway.describe_execution(receipts[0].execution_id or "")
    assert done.status == "SUCCEEDED"
    assert done.name == "run-0"
    assert json.loads(done.input or "") == {"n": 0}
    assert done.started is not None
    assert done.stopped is not None
    assert done.stopped.tzinfo is UTC


async def test_history_pages_in_reverse_and_returns_ascending_events(aws: Any, gateway: Gateway) -> None:
    arn = create_machine(aws, passes(12))
    receipt = await gateway.start_execution(arn, json.dumps({"hello": "world"}))
    execution_arn = receipt.execution_id or ""
    await eventually(lambda: status_of(gateway, execution_arn, "SUCCEEDED"), "the run to succeed")
    events = await gateway.get_execution_history(execution_arn, page_size=5)
    ids = [e.id for e in events]
    assert ids == list(range(1, len(ids) + 1))
    assert events[0].type == "ExecutionStarted"
    assert json.loads(events[0].input or "") == {"hello": "world"}
    assert events[-1].type == "ExecutionSucceeded"
    assert gateway.stats.requests["GetExecutionHistory"] == -(-len(ids) // 5)
    assert gateway.stats.history_events == len(ids)  # a first read fetches each event once
    entered = [e for e in events if e.type == "PassStateEntered"]
    assert [e.state_name for e in entered] == [f"Step{i}" for i in range(12)]
    assert all(e.timestamp.tzinfo is UTC for e in events)


async def test_incremental_history_never_fetches_an_event_twice(aws: Any, gateway: Gateway) -> None:
    queue_url = aws("sqs").create_queue(QueueName=unique("gw-approvals"))["QueueUrl"]
    arn = create_machine(aws, approval_machine(queue_url))
    execution_arn = (await gateway.start_execution(arn, "{}")).execution_id or ""
    scheduled = await eventually(lambda: waiting_task(gateway, execution_arn), "the task to be scheduled")

    seen: list[int] = []
    returned_before = 0
    wire_before = gateway.stats.history_events
    requests_before = gateway.stats.requests["GetExecutionHistory"]
    first = await gateway.get_execution_history(execution_arn, page_size=3)
    seen.extend(e.id for e in first)
    returned_before += len(first)
    # Nothing new: one request, whose page is all old events, none of them returned again.
    nothing = await gateway.get_execution_history(execution_arn, after_id=seen[-1], page_size=3)
    assert nothing == ()
    assert gateway.stats.requests["GetExecutionHistory"] - requests_before == -(-len(first) // 3) + 1

    # The token is where the definition put it, and the event knows its state.
    detail = await gateway.describe_state_machine(arn)
    approve = detail.task_token_state(scheduled.state_name)
    assert approve is not None
    assert approve.token_paths == (("MessageBody", "approval", "token"),)
    token = approve.token_in(scheduled.parameters)
    # AWS splits it into resourceType "sqs" and resource "sendMessage.waitForTaskToken": joined back here.
    assert token
    assert scheduled.resource == "arn:aws:states:::sqs:sendMessage.waitForTaskToken"
    assert scheduled.timeout_seconds == 3600

    await gateway.send_task_success(token, json.dumps({"approved": True}))
    await eventually(lambda: status_of(gateway, execution_arn, "SUCCEEDED"), "the run to succeed")
    wire_before = gateway.stats.history_events
    requests_before = gateway.stats.requests["GetExecutionHistory"]
    rest = await gateway.get_execution_history(execution_arn, after_id=seen[-1], page_size=3)
    new_ids = [e.id for e in rest]
    assert new_ids == list(range(seen[-1] + 1, seen[-1] + 1 + len(new_ids)))
    assert not set(new_ids) & set(seen)
    assert rest[-1].type == "ExecutionSucceeded"
    # Pages of 3 newest-first: ceil(new / 3) requests, and only the last one may carry old events.
    assert gateway.stats.requests["GetExecutionHistory"] - requests_before == -(-len(new_ids) // 3)
    assert gateway.stats.history_events - wire_before < len(new_ids) + 3
    succeeded = next(e for e in rest if e.type == "TaskSucceeded")
    assert succeeded.state_name == "Approve"
    assert json.loads(succeeded.output or "") == {"approved": True}
    with pytest.raises(AlreadyDone) as again:
        await gateway.send_task_success(token, "{}")
    assert again.value.code == "TaskTimedOut"


async def test_task_failure_stop_and_redrive(aws: Any, gateway: Gateway) -> None:
    queue_url = aws("sqs").create_queue(QueueName=unique("gw-approvals"))["QueueUrl"]
    arn = create_machine(aws, approval_machine(queue_url))
    detail = await gateway.describe_state_machine(arn)
    [approve] = detail.task_token_states

    # Rejected: the task fails with the operator's error and cause; the execution fails with them.
    rejected = (await gateway.start_execution(arn, "{}")).execution_id or ""
    scheduled = await eventually(lambda: waiting_task(gateway, rejected), "the task")
    token = approve.token_in(scheduled.parameters) or ""
    await gateway.send_task_failure(token, "Deployment.Rejected", "Canary alarms are red")
    await eventually(lambda: status_of(gateway, rejected, "FAILED"), "the run to fail")
    failed = await gateway.describe_execution(rejected)
    assert (failed.error, failed.cause) == ("Deployment.Rejected", "Canary alarms are red")
    history = await gateway.get_execution_history(rejected)
    task_failed = next(e for e in history if e.type == "TaskFailed")
    assert (task_failed.error, task_failed.cause, task_failed.state_name) == (
        "Deployment.Rejected",
        "Canary alarms are red",
        "Approve",
    )

    # Redrive starts the failed state again, under the same ARN.
    receipt = await gateway.redrive_execution(rejected)
    assert receipt.execution_id == rejected
    assert receipt.effective is not None
    redriven = await eventually(lambda: _with_redrive(gateway, rejected), "the redriven run to wait for a new token")
    assert redriven.redrive_count == 1
    await gateway.stop_execution(rejected)  # leave nothing running in the shared sandbox

    # Stopped with an error and a cause.
    stopped = (await gateway.start_execution(arn, "{}")).execution_id or ""
    await eventually(lambda: waiting_task(gateway, stopped), "the task")
    receipt = await gateway.stop_execution(stopped, "Operator.Stop", "Stopped from wavedeck")
    assert receipt.effective is not None
    aborted = await gateway.describe_execution(stopped)
    assert (aborted.status, aborted.error, aborted.cause) == ("ABORTED", "Operator.Stop", "Stopped from wavedeck")
    with pytest.raises(InvalidInput):
        await gateway.send_task_success("not-a-token", "{}")
    with pytest.raises(NotFound) as missing:
        await gateway.describe_execution(stopped + "-gone")
    assert missing.value.code == "ExecutionDoesNotExist"


async def _with_redrive(gateway: Gateway, arn: str) -> Any:
    execution = await gateway.describe_execution(arn)
    return execution if execution.redrive_count == 1 and execution.status == "RUNNING" else None


async def test_queue_messages_are_received_and_deleted(aws: Any, gateway: Gateway) -> None:
    sqs = aws("sqs")
    queue_url = sqs.create_queue(QueueName=unique("gw-events"))["QueueUrl"]
    for n in range(3):
        sqs.send_message(QueueUrl=queue_url, MessageBody=json.dumps({"id": f"event-{n}"}))
    messages = await gateway.receive_messages(queue_url, wait_seconds=1, max_messages=10)
    assert sorted(json.loads(m.body)["id"] for m in messages) == ["event-0", "event-1", "event-2"]
    assert all(m.sent is not None and m.sent.tzinfo is UTC and m.receive_count == 1 for m in messages)
    failed = await gateway.delete_messages(queue_url, [m.receipt_handle for m in messages])
    assert failed == ()
    assert await gateway.receive_messages(queue_url, wait_seconds=0) == ()
    with pytest.raises(NotFound) as gone:
        await gateway.receive_messages(queue_url + "-gone", wait_seconds=0)
    assert gone.value.code == "QueueDoesNotExist"
