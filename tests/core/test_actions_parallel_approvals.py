"""Every waiting token is its own approval: Parallel branches and Map iterations, against the sandbox over HTTP.

The state machines follow AWS's documented patterns: "parallel human approval" (one `.waitForTaskToken`
approver per branch of a Parallel, a Choice on `$.approvalStatus.result` after it) and a Map that asks a
person per item. Their names hold "canary": every action is a production one and needs the wave's name.
"""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

import pytest

from console.actions.audit import AuditLog, token_digest
from console.actions.gate import ActionGate, ActionKind
from console.aws.gateway import Gateway
from console.errors import Refused
from console.sandbox.fleet.definitions import load_fleet
from console.stepfunctions.answers import AnswerBook, AnswerRule
from console.stepfunctions.approvals import branch_numbers, execution_approvals
from console.stepfunctions.model import StateMachine
from tests.conftest import REGION, wait_until
from tests.sandbox.test_stepfunctions_support import create_machine, history, make_queue, start, wait_status
from tests.selections import sel

WAVES = load_fleet().wave_model()
TARGET = f"sandbox/{REGION}"
CONFIRM = "prod-canary"
APPROVERS = ("Security Approver", "Operations Approver", "Finance Approver")
# The config of a team whose workflows branch on $.approvalStatus.result (AWS's human-in-the-loop example).
HUMAN_IN_THE_LOOP = AnswerBook(
    (
        AnswerRule(
            "human-in-the-loop*",
            "*Approver*",
            approve={"approvalStatus": {"result": "Approved", "reason": "{reason}", "by": "{identity}"}},
            reject={"error": "Rejected", "cause": "{reason}"},
        ),
    )
)


def approver(queue_url: str, who: str) -> dict[str, Any]:
    return {
        "Type": "Task",
        "Resource": "arn:aws:states:::sqs:sendMessage.waitForTaskToken",
        "Parameters": {
            "QueueUrl": queue_url,
            "MessageBody": {"ask": f"{who}: release 42 to production?", "taskToken.$": "$$.Task.Token"},
        },
        "End": True,
    }


def parallel_approval(queue_url: str) -> dict[str, Any]:
    """Three people approve at once; the release goes on only when every one of them said Approved."""
    return {
        "StartAt": "Prepare Release",
        "States": {
            "Prepare Release": {"Type": "Pass", "Next": "Ask Approvers"},
            "Ask Approvers": {
                "Type": "Parallel",
                "Branches": [{"StartAt": name, "States": {name: approver(queue_url, name)}} for name in APPROVERS],
                "Next": "All Approved?",
            },
            "All Approved?": {
                "Type": "Choice",
                "Choices": [
                    {
                        "And": [
                            {"Variable": f"$[{i}].approvalStatus.result", "StringEquals": "Approved"}
                            for i in range(len(APPROVERS))
                        ],
                        "Next": "Release",
                    }
                ],
                "Default": "Not Approved",
            },
            "Release": {"Type": "Succeed"},
            "Not Approved": {"Type": "Fail", "Error": "NotApproved"},
        },
    }


def map_approval(queue_url: str) -> dict[str, Any]:
    """A person approves each item of the change set, each with its own token."""
    return {
        "StartAt": "Review Each Change",
        "States": {
            "Review Each Change": {
                "Type": "Map",
                "ItemsPath": "$.changes",
                "ItemProcessor": {
                    "StartAt": "Approve Change",
                    "States": {
                        "Approve Change": approver(queue_url, "Change owner"),
                    },
                },
                "End": True,
            }
        },
    }


@pytest.fixture
def sfn(aws: Any) -> Any:
    return aws("stepfunctions")


@pytest.fixture
def queue(aws: Any) -> str:
    return make_queue(aws("sqs"), "hitl")[0]


def make_gate(gateway: Gateway, audit: AuditLog, answers: AnswerBook | None = None) -> ActionGate:
    return ActionGate({TARGET: gateway}, WAVES, audit, answers=answers)


def scheduled(sfn: Any, arn: str, count: int) -> list[dict[str, Any]]:
    def found() -> list[dict[str, Any]] | None:
        events = [e for e in history(sfn, arn) if e["type"] == "TaskScheduled"]
        return events if len(events) >= count else None

    result: list[dict[str, Any]] = wait_until(found, what=f"{count} TaskScheduled in {arn}")
    return result


def token_of(event: dict[str, Any]) -> str:
    return str(json.loads(event["taskScheduledEventDetails"]["parameters"])["MessageBody"]["taskToken"])


async def approvals_of(gateway: Gateway, machine_arn: str, arn: str) -> list[Any]:
    detail = await gateway.describe_state_machine(machine_arn)
    execution = await gateway.describe_execution(arn)
    events = await gateway.get_execution_history(arn, page_size=1000)
    machine = StateMachine(target=TARGET, arn=machine_arn, name=detail.name)
    return execution_approvals(machine, execution, events, branches=branch_numbers(detail.definition))


async def test_each_branch_of_a_parallel_is_its_own_approval_answered_with_the_configured_body(
    sfn: Any, queue: str, gateway: Gateway, audit: AuditLog
) -> None:
    machine = create_machine(sfn, parallel_approval(queue), prefix="human-in-the-loop-canary")
    arn = start(sfn, machine, {"revision": "r42"})
    tokens = {e["id"]: token_of(e) for e in scheduled(sfn, arn, 3)}

    approvals = await approvals_of(gateway, machine, arn)
    rows = sorted((a.state_name, a.where) for a in approvals)
    assert rows == sorted((name, f"branch {n} of Ask Approvers") for n, name in enumerate(APPROVERS, start=1))
    assert len({a.task_event for a in approvals}) == 3
    assert all(a.custom_data.endswith("release 42 to production?") for a in approvals)

    gate = make_gate(gateway, audit, HUMAN_IN_THE_LOOP)
    whole = sel(target=TARGET, state_machine_arn=machine, execution_arn=arn)
    with pytest.raises(Refused, match="3 tasks wait for a token .*--state NAME"):
        await gate.plan(ActionKind.APPROVE, whole)

    for name in APPROVERS:
        plan = await gate.plan(
            ActionKind.APPROVE, sel(TARGET, state_machine_arn=machine, execution_arn=arn, state_name=name)
        )
        assert plan.title.endswith(f"{name} (branch {APPROVERS.index(name) + 1} of Ask Approvers)")
        assert plan.answer is not None
        shown = json.loads(plan.answer.text(f"ok from {name}"))
        assert shown["approvalStatus"]["result"] == "Approved"
        await gate.execute(plan, f"ok from {name}", confirmation=CONFIRM)
        token = tokens[int(plan.expect["event"])]
        intent = [r for r in audit.records() if r["phase"] == "intent"][-1]
        assert intent["request"]["taskToken"] == token_digest(token)
        assert intent["request"]["output"] == shown

    done = wait_status(sfn, arn)
    assert done["status"] == "SUCCEEDED"
    assert [o["approvalStatus"]["reason"] for o in json.loads(done["output"])] == [f"ok from {n}" for n in APPROVERS]
    assert not any(t in audit.path.read_text() for t in tokens.values())


async def test_rejecting_one_branch_sends_the_configured_error_and_cause_for_that_token_only(
    sfn: Any, queue: str, gateway: Gateway, audit: AuditLog
) -> None:
    machine = create_machine(sfn, parallel_approval(queue), prefix="human-in-the-loop-canary")
    arn = start(sfn, machine, {})
    scheduled(sfn, arn, 3)
    gate = make_gate(gateway, audit, HUMAN_IN_THE_LOOP)
    plan = await gate.plan(
        ActionKind.REJECT,
        sel(TARGET, state_machine_arn=machine, execution_arn=arn, state_name="Finance Approver"),
    )
    await gate.execute(plan, "budget not signed off", confirmation=CONFIRM)

    done = wait_status(sfn, arn)
    failed = [e for e in history(sfn, arn) if e["type"] == "TaskFailed"]
    assert len(failed) == 1
    assert failed[0]["taskFailedEventDetails"]["error"] == "Rejected"
    assert failed[0]["taskFailedEventDetails"]["cause"] == "budget not signed off"
    assert done["status"] == "FAILED"
    intent = next(r for r in audit.records() if r["phase"] == "intent")
    assert (intent["request"]["error"], intent["request"]["cause"]) == ("Rejected", "budget not signed off")


async def test_each_map_iteration_is_its_own_approval_named_by_its_index(
    sfn: Any, queue: str, gateway: Gateway, audit: AuditLog
) -> None:
    machine = create_machine(sfn, map_approval(queue), prefix="review-canary")
    arn = start(sfn, machine, {"changes": ["db", "api", "web"]})
    scheduled(sfn, arn, 3)

    approvals = await approvals_of(gateway, machine, arn)
    assert sorted((a.state_name, a.map_index, a.where) for a in approvals) == [
        ("Approve Change", i, f"iteration {i} of Review Each Change") for i in range(3)
    ]

    gate = make_gate(gateway, audit)
    state = sel(TARGET, state_machine_arn=machine, execution_arn=arn, state_name="Approve Change")
    with pytest.raises(Refused, match="3 tasks of 'Approve Change' wait .*--index N"):
        await gate.plan(ActionKind.APPROVE, state)
    with pytest.raises(Refused, match="iteration 7 is not waiting"):
        await gate.plan(
            ActionKind.APPROVE,
            sel(TARGET, state_machine_arn=machine, execution_arn=arn, state_name="Approve Change", map_index=7),
        )

    first = await gate.plan(ActionKind.APPROVE, replace(state, map_index=1))
    await gate.execute(first, "api change reviewed", confirmation=CONFIRM)
    wait_until(lambda: any(e["type"] == "TaskSucceeded" for e in history(sfn, arn)), what="the answer")
    # The two others still wait, each its own row; the first one answered by the event its row carries.
    left = await approvals_of(gateway, machine, arn)
    assert sorted(a.map_index for a in left) == [0, 2]
    row = next(a for a in left if a.map_index == 0)
    plan = await gate.plan(ActionKind.APPROVE, replace(state, state_name=None, task_event=row.task_event))
    await gate.execute(plan, "db change reviewed", confirmation=CONFIRM)
    plan = await gate.plan(ActionKind.APPROVE, replace(state, map_index=2))
    await gate.execute(plan, "web change reviewed", confirmation=CONFIRM)

    done = wait_status(sfn, arn)
    assert done["status"] == "SUCCEEDED"
    reasons = [item["reason"] for item in json.loads(done["output"])]
    assert reasons == ["db change reviewed", "api change reviewed", "web change reviewed"]


async def test_the_revision_comes_from_the_input_its_history_started_with_when_listed_without_one(
    sfn: Any, queue: str, gateway: Gateway
) -> None:
    # The watcher knows an execution from ListExecutions, which carries no input; the history's
    # ExecutionStarted event does (executionStartedEventDetails.input), so a person still sees the revision.
    machine = create_machine(sfn, parallel_approval(queue), prefix="human-in-the-loop-canary")
    arn = start(sfn, machine, {"revision": "r42"})
    scheduled(sfn, arn, 3)
    listed = replace(await gateway.describe_execution(arn), input=None)
    events = await gateway.get_execution_history(arn, page_size=1000)
    assert events[0].type == "ExecutionStarted"
    assert events[0].input is not None
    found = execution_approvals(StateMachine(target=TARGET, arn=machine, name="canary"), listed, events)
    assert len(found) == 3
    assert {a.revision.revision_id if a.revision else None for a in found} == {"r42"}
