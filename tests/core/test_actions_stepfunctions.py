"""The action gate on Step Functions, end to end against the sandbox over HTTP.

Each test makes its own state machines (unique names). Their names hold "canary", so the wave model puts
them in the prod-canary wave: every action here is a production one and needs the wave's name typed.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from console.actions.audit import AuditLog, token_digest
from console.actions.gate import ActionGate, ActionKind, ActionOutcome, Selection
from console.aws.gateway import Gateway
from console.errors import Refused
from console.sandbox.fleet.definitions import load_fleet
from tests.conftest import REGION
from tests.sandbox.test_stepfunctions_support import (
    create_machine,
    describe,
    history,
    make_queue,
    start,
    wait_event,
    wait_status,
)
from tests.selections import sel

FLEET = load_fleet()
WAVES = FLEET.wave_model()
TARGET = f"sandbox/{REGION}"
CONFIRM = "prod-canary"


def deployment(queue_url: str) -> dict[str, Any]:
    """Deploy, ask a person (the token at MessageBody.approval.taskToken), then finish; a rejection fails."""
    return {
        "StartAt": "Deploy",
        "States": {
            "Deploy": {"Type": "Pass", "Next": "ApprovePromotion"},
            "ApprovePromotion": {
                "Type": "Task",
                "Resource": "arn:aws:states:::sqs:sendMessage.waitForTaskToken",
                "Parameters": {
                    "QueueUrl": queue_url,
                    "MessageBody": {
                        "ask": "Promote?",
                        "revision.$": "$.revision",
                        "approval": {"taskToken.$": "$$.Task.Token"},
                    },
                },
                "ResultPath": "$.approval",
                "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.rejection", "Next": "Rejected"}],
                "Next": "Done",
            },
            "Rejected": {"Type": "Fail", "Error": "Deployment.Rejected"},
            "Done": {"Type": "Succeed"},
        },
    }


def long_wait() -> dict[str, Any]:
    return {
        "StartAt": "Bake",
        "States": {"Bake": {"Type": "Wait", "Seconds": 4000, "Next": "Done"}, "Done": {"Type": "Succeed"}},
    }


@pytest.fixture
def sfn(aws: Any) -> Any:
    return aws("stepfunctions")


@pytest.fixture
def deploy_machine(aws: Any, sfn: Any) -> str:
    queue_url, _ = make_queue(aws("sqs"), "gate-approvals")
    return create_machine(sfn, deployment(queue_url), prefix="gate-canary")


def make_gate(
    gateway: Gateway,
    audit: AuditLog,
    rollback: dict[str, str] | None = None,
    state_waves: dict[str, dict[str, str]] | None = None,
) -> ActionGate:
    return ActionGate({TARGET: gateway}, WAVES, audit, rollback_machines=rollback, state_waves=state_waves)


def execution_selection(machine_arn: str, execution_arn: str | None) -> Selection:
    return sel(target=TARGET, state_machine_arn=machine_arn, execution_arn=execution_arn)


def waiting(sfn: Any, machine_arn: str, revision: str = "a1b2c3d4e5") -> tuple[str, str]:
    """A new execution waiting at ApprovePromotion: (execution ARN, its task token)."""
    arn = start(sfn, machine_arn, {"service": "checkout", "revision": revision})
    scheduled = wait_event(sfn, arn, "TaskScheduled")
    parameters = json.loads(scheduled["taskScheduledEventDetails"]["parameters"])
    return arn, str(parameters["MessageBody"]["approval"]["taskToken"])


async def test_approve_sends_task_success_with_the_token_from_the_history(
    sfn: Any, deploy_machine: str, gateway: Gateway, audit: AuditLog
) -> None:
    gate = make_gate(gateway, audit)
    arn, token = waiting(sfn, deploy_machine)

    plan = await gate.plan(ActionKind.APPROVE, execution_selection(deploy_machine, arn))

    lines = dict(plan.lines)
    assert lines["State"] == "ApprovePromotion"
    assert lines["Revision"] == "a1b2c3d4e5"
    assert plan.confirm_word == CONFIRM
    assert plan.expect["token"] == token_digest(token)
    outcome = await gate.execute(plan, "Bake was clean", confirmation=CONFIRM)

    done = wait_status(sfn, arn, "SUCCEEDED")
    assert json.loads(done["output"])["approval"] == {
        "approved": True,
        "reason": "Bake was clean",
        "approvedBy": "arn:aws:sts::123456789012:user/moto",
    }
    intent, result = audit.records()
    assert intent["operation"] == "SendTaskSuccess"
    # The body as sent (the default one: no `approvals:` in the config), the token only as its digest.
    assert intent["request"] == {
        "taskToken": token_digest(token),
        "output": {"approved": True, "reason": "Bake was clean", "approvedBy": "arn:aws:sts::123456789012:user/moto"},
    }
    assert intent["execution"] == arn
    assert result["outcome"] == "succeeded"
    assert result["request_id"] == outcome.request_id
    assert token not in audit.path.read_text()


async def test_an_approval_state_in_a_later_wave_asks_for_that_waves_name(
    sfn: Any, deploy_machine: str, gateway: Gateway, audit: AuditLog
) -> None:
    machine = deploy_machine.rsplit(":", 1)[-1]
    gate = make_gate(gateway, audit, state_waves={machine: {"Deploy": "prod-canary", "ApprovePromotion": "prod-az2"}})
    arn, _ = waiting(sfn, deploy_machine)

    plan = await gate.plan(ActionKind.APPROVE, execution_selection(deploy_machine, arn))

    assert plan.confirm_word == "prod-az2"
    with pytest.raises(Refused, match="type 'prod-az2' to confirm"):
        await gate.execute(plan, "ok", confirmation=CONFIRM)
    await gate.execute(plan, "ok", confirmation="prod-az2")
    assert wait_status(sfn, arn)["status"] == "SUCCEEDED"


async def test_reject_sends_task_failure_with_the_reason_as_cause(
    sfn: Any, deploy_machine: str, gateway: Gateway, audit: AuditLog
) -> None:
    gate = make_gate(gateway, audit)
    arn, _ = waiting(sfn, deploy_machine)

    plan = await gate.plan(ActionKind.REJECT, execution_selection(deploy_machine, arn))
    await gate.execute(plan, "p99 latency regressed in AZ1", confirmation=CONFIRM)

    assert wait_status(sfn, arn)["status"] == "FAILED"
    failed = next(e for e in history(sfn, arn) if e["type"] == "TaskFailed")
    assert failed["taskFailedEventDetails"]["error"] == "wavedeck.Rejected"
    assert failed["taskFailedEventDetails"]["cause"] == "p99 latency regressed in AZ1"
    assert [r["phase"] for r in audit.records()] == ["intent", "result"]


async def test_a_task_answered_behind_the_plans_back_is_refused(
    sfn: Any, deploy_machine: str, gateway: Gateway, audit: AuditLog
) -> None:
    gate = make_gate(gateway, audit)
    arn, token = waiting(sfn, deploy_machine)
    plan = await gate.plan(ActionKind.REJECT, execution_selection(deploy_machine, arn))
    sfn.send_task_success(taskToken=token, output="{}")
    wait_event(sfn, arn, "TaskSucceeded")

    with pytest.raises(Refused, match="already approved|SUCCEEDED; nothing is waiting for approval"):
        await gate.execute(plan, "too late", confirmation=CONFIRM)

    assert list(audit.records()) == []
    assert wait_status(sfn, arn)["status"] == "SUCCEEDED"
    with pytest.raises(Refused, match="SUCCEEDED; nothing is waiting for approval"):
        await gate.plan(ActionKind.APPROVE, execution_selection(deploy_machine, arn))


async def test_an_answered_task_of_a_running_execution_says_it_was_approved(
    sfn: Any, gateway: Gateway, audit: AuditLog, aws: Any
) -> None:
    queue_url, _ = make_queue(aws("sqs"), "gate-approvals")
    definition = deployment(queue_url)
    definition["States"]["Done"] = {"Type": "Wait", "Seconds": 4000, "End": True}
    machine = create_machine(sfn, definition, prefix="gate-canary")
    arn, token = waiting(sfn, machine)
    sfn.send_task_success(taskToken=token, output="{}")
    wait_event(sfn, arn, "TaskSucceeded")

    with pytest.raises(Refused, match="ApprovePromotion was already approved"):
        await make_gate(gateway, audit).plan(ActionKind.APPROVE, execution_selection(machine, arn))
    sfn.stop_execution(executionArn=arn)


async def test_stop_then_redrive_an_execution(sfn: Any, gateway: Gateway, audit: AuditLog) -> None:
    gate = make_gate(gateway, audit)
    machine = create_machine(sfn, long_wait(), prefix="gate-canary")
    arn = start(sfn, machine, {})
    selection = execution_selection(machine, arn)
    with pytest.raises(Refused, match="only a failed, timed out or aborted execution is redriven"):
        await gate.plan(ActionKind.RETRY, selection)

    stop = await gate.plan(ActionKind.STOP, selection)
    await gate.execute(stop, "Wrong revision queued", confirmation=CONFIRM)

    stopped = wait_status(sfn, arn, "ABORTED")
    assert stopped["error"] == "wavedeck.Stopped"
    assert stopped["cause"] == "Wrong revision queued"
    with pytest.raises(Refused, match="is ABORTED; nothing to stop"):
        await gate.plan(ActionKind.STOP, selection)

    redrive = await gate.plan(ActionKind.RETRY, selection)
    assert redrive.title.startswith("Redrive ")
    await gate.execute(redrive, "Revision fixed", confirmation=CONFIRM)

    assert wait_status(sfn, arn, "RUNNING")["redriveCount"] == 1
    redrive_intent = list(audit.records())[2]
    assert redrive_intent["request"]["clientToken"] == redrive.parameters["client_token"]
    assert any(e["type"] == "ExecutionRedriven" for e in history(sfn, arn))
    assert [(r["operation"], r["phase"]) for r in audit.records()] == [
        ("StopExecution", "intent"),
        ("StopExecution", "result"),
        ("RedriveExecution", "intent"),
        ("RedriveExecution", "result"),
    ]
    sfn.stop_execution(executionArn=arn)


async def test_rollback_starts_the_rollback_machine_with_the_last_good_revision(
    sfn: Any, deploy_machine: str, gateway: Gateway, audit: AuditLog
) -> None:
    rollback_definition = FLEET.state_machine("wave-rollback")
    assert rollback_definition is not None
    rollback_arn = create_machine(sfn, dict(rollback_definition.definition), prefix="gate-rollback")
    machine_name = deploy_machine.rsplit(":", 1)[-1]
    gate = make_gate(gateway, audit, {machine_name: rollback_arn.rsplit(":", 1)[-1]})
    with pytest.raises(Refused, match="no execution of .* has succeeded"):
        await gate.plan(ActionKind.ROLLBACK, execution_selection(deploy_machine, None))

    good, good_token = waiting(sfn, deploy_machine, revision="goodrev1")
    sfn.send_task_success(taskToken=good_token, output="{}")
    wait_status(sfn, good, "SUCCEEDED")
    bad, bad_token = waiting(sfn, deploy_machine, revision="badrev2")
    sfn.send_task_failure(taskToken=bad_token, error="Alarm", cause="5xx in AZ1")
    wait_status(sfn, bad, "FAILED")

    plan = await gate.plan(ActionKind.ROLLBACK, execution_selection(deploy_machine, bad))

    assert dict(plan.lines)["Rolls back to"] == f"{good.rsplit(':', 1)[-1]} revision goodrev1"
    assert plan.confirm_word == CONFIRM
    outcome = await gate.execute(plan, "Roll AZ1 back", confirmation=CONFIRM)

    assert outcome.new_execution is not None
    assert outcome.new_execution.startswith(rollback_arn.replace(":stateMachine:", ":execution:"))
    started = describe(sfn, outcome.new_execution)
    document = json.loads(started["input"])
    assert document["wave"] == "prod-canary"
    assert document["revision"] == "goodrev1"
    assert document["service"] == "checkout"
    assert document["rolledBackFrom"] == bad
    assert document["reason"] == "Roll AZ1 back"
    assert wait_status(sfn, outcome.new_execution)["status"] == "SUCCEEDED"
    _, result = audit.records()
    assert result["new_execution"] == outcome.new_execution


async def test_one_rollback_at_a_time_however_it_is_named_and_the_one_its_plan_shows(
    sfn: Any, deploy_machine: str, gateway: Gateway, audit: AuditLog
) -> None:
    rollback_definition = FLEET.state_machine("wave-rollback")
    assert rollback_definition is not None
    rollback_arn = create_machine(sfn, dict(rollback_definition.definition), prefix="gate-rollback")
    machine_name = deploy_machine.rsplit(":", 1)[-1]
    gate = make_gate(gateway, audit, {machine_name: rollback_arn.rsplit(":", 1)[-1]})
    good, good_token = waiting(sfn, deploy_machine, revision="goodrev1")
    sfn.send_task_success(taskToken=good_token, output="{}")
    wait_status(sfn, good, "SUCCEEDED")
    bad, bad_token = waiting(sfn, deploy_machine, revision="badrev2")
    sfn.send_task_failure(taskToken=bad_token, error="Alarm", cause="5xx in AZ1")
    wait_status(sfn, bad, "FAILED")
    # The wave named by its state machine, and by the execution that went bad: the same rollback.
    plans = [
        await gate.plan(ActionKind.ROLLBACK, execution_selection(deploy_machine, None)),
        await gate.plan(ActionKind.ROLLBACK, execution_selection(deploy_machine, bad)),
    ]
    started: list[str] = []
    gateway.add_hook("before-send.sfn.StartExecution", lambda **_: started.append("sent"))

    results = await asyncio.gather(
        *(gate.execute(p, "Roll AZ1 back", confirmation=CONFIRM) for p in plans), return_exceptions=True
    )

    assert started == ["sent"]
    outcome = next(r for r in results if isinstance(r, ActionOutcome))
    assert any(isinstance(r, Refused) and "is already being sent" in str(r) for r in results)
    shown = dict(outcome.plan.lines)["Starts"]
    name = outcome.plan.parameters["execution_name"]
    assert shown.endswith(f"({name})")
    assert outcome.new_execution is not None
    assert outcome.new_execution.rsplit(":", 1)[-1] == name
    wait_status(sfn, outcome.new_execution)


async def test_a_state_machine_without_a_rollback_machine_is_refused(
    sfn: Any, deploy_machine: str, gateway: Gateway, audit: AuditLog
) -> None:
    with pytest.raises(Refused, match="no rollback state machine is configured for gate-canary"):
        await make_gate(gateway, audit).plan(ActionKind.ROLLBACK, execution_selection(deploy_machine, None))
    with pytest.raises(Refused, match="name the execution to stop"):
        await make_gate(gateway, audit).plan(ActionKind.STOP, execution_selection(deploy_machine, None))
