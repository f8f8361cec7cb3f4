"""The approvals inbox end to end: the real gateway, watcher and gate against a sandbox of its own over HTTP.

Each test makes its own pipeline (waiting at a manual approval in Prod-Canary) and its own state machine (a
`.waitForTaskToken` state; "canary" in its name puts it in the prod-canary wave), starts them over HTTP, waits
for both to reach their approval, then answers them from the inbox with the keyboard and checks the answer
in the sandbox, in the audit log and on the screen.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest

from console.actions.audit import AuditLog
from console.actions.gate import ActionGate
from console.app import WavedeckApp, make_app
from console.aws.gateway import Gateway
from console.config import Config, Intervals, sandbox_targets
from console.model import Approval
from console.sandbox.fleet.definitions import load_fleet
from console.sandbox_process import SandboxProcess
from console.watch import Watcher
from screens.approvals.screen import ApprovalsScreen
from screens.confirm.screen import ConfirmActionModal
from tests.conftest import REGION, make_client, wait_until
from tests.sandbox.test_codepipeline_support import action, action_state, approval, create, source, stage, start
from tests.sandbox.test_stepfunctions_support import (
    create_machine,
    history,
    make_queue,
    wait_event,
    wait_status,
)
from tests.sandbox.test_stepfunctions_support import start as start_execution
from tests.ui.conftest import notifications, rendered, wait_for

WAVES = load_fleet().wave_model()
FAST = Intervals(focused=0.2, background=0.5, lists=2.0, push_safety_net=30.0)
TARGET = f"sandbox/{REGION}"
ASKS = "Gamma canaries are green. Promote?"


@dataclass
class Sandbox:
    build: Callable[..., WavedeckApp]
    audit: AuditLog
    codepipeline: Any
    stepfunctions: Any
    sqs: Any


@pytest.fixture
async def sandbox_console(own_sandbox: SandboxProcess, tmp_path: Path) -> AsyncIterator[Sandbox]:
    """The console on this module's sandbox: the real gateway, watcher (fast polling, no push) and gate."""
    (target,) = sandbox_targets(own_sandbox.url, (REGION,))
    target = replace(target, events_queue=None)
    audit = AuditLog(tmp_path / "audit.jsonl")
    async with Gateway(target) as gateway:

        def build() -> WavedeckApp:
            watcher = Watcher({target.name: gateway}, WAVES, FAST)
            gate = ActionGate({target.name: gateway}, WAVES, audit)
            return make_app(Config(), (target,), watcher, gate, waves=WAVES)

        yield Sandbox(
            build,
            audit,
            make_client(own_sandbox.url, "codepipeline"),
            make_client(own_sandbox.url, "stepfunctions"),
            make_client(own_sandbox.url, "sqs"),
        )


def deployment(queue_url: str) -> dict[str, Any]:
    """Ask a person through SQS (the token at MessageBody.taskToken) and wait; a rejection fails the run."""
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
                        "ask": "Promote to prod-az2?",
                        "revision.$": "$.revision",
                        "taskToken.$": "$$.Task.Token",
                    },
                },
                "TimeoutSeconds": 7200,
                "ResultPath": "$.approval",
                "Next": "Done",
            },
            "Done": {"Type": "Succeed"},
        },
    }


def pipeline_waiting(sandbox: Sandbox) -> str:
    """A new pipeline whose execution waits for approval in Prod-Canary (a production wave); its name."""
    cp = sandbox.codepipeline
    ask = approval("Approve", CustomData=ASKS, ExternalEntityLink="https://wiki.example.com/promote")
    deploy = action("DeployOneBox", "Deploy", "CodeDeploy", 2, SandboxDuration="1")
    name: str = create(cp, source(), stage("Prod-Canary", ask, deploy), prefix="inbox-cp")
    start(cp, name)
    return name


def execution_waiting(sandbox: Sandbox) -> str:
    """A new execution of a new canary state machine, waiting at its task-token state; its ARN."""
    queue_url, _ = make_queue(sandbox.sqs, "inbox-approvals")
    machine = create_machine(sandbox.stepfunctions, deployment(queue_url), prefix="inbox-canary")
    arn = start_execution(sandbox.stepfunctions, machine, {"service": "checkout", "revision": "c0ffee1234"})
    wait_event(sandbox.stepfunctions, arn, "TaskScheduled")
    return arn


def approval_status(cp: Any, name: str) -> str | None:
    latest = action_state(cp, name, "Prod-Canary", "Approve").get("latestExecution") or {}
    return latest.get("status")


def wait_for_approval(cp: Any, name: str) -> None:
    wait_until(lambda: approval_status(cp, name) == "InProgress", 20, what=f"{name} waiting for approval")


async def both_waiting(sandbox: Sandbox) -> tuple[str, str]:
    """A pipeline and an execution, both waiting for a person: (pipeline name, execution ARN)."""
    name = await asyncio.to_thread(pipeline_waiting, sandbox)
    arn = await asyncio.to_thread(execution_waiting, sandbox)
    await asyncio.to_thread(wait_for_approval, sandbox.codepipeline, name)
    return name, arn


def waiting_for(screen: ApprovalsScreen, fragment: str) -> Approval | None:
    return next((a for a in screen.rows.approvals.values() if fragment in a.resource), None)


async def inbox_with(pilot: Any, app: WavedeckApp, *fragments: str) -> ApprovalsScreen:
    await pilot.press("3")
    screen = await wait_for(pilot, lambda: isinstance(app.screen, ApprovalsScreen) and app.screen, what="the inbox")
    assert isinstance(screen, ApprovalsScreen)
    for fragment in fragments:
        await wait_for(pilot, lambda f=fragment: waiting_for(screen, f), within=30, what=f"{fragment} in the inbox")
    return screen


async def only(pilot: Any, app: WavedeckApp, screen: ApprovalsScreen, fragment: str) -> Approval:
    """Filter the inbox down to the approval whose resource holds `fragment` (a unique suffix)."""
    if screen.query_text:
        await pilot.press("escape")  # clears the filter (a second escape would leave the inbox)
    await pilot.press("slash", *fragment, "enter")
    await wait_for(pilot, lambda: len(screen.rows.keys) == 1, what=f"only {fragment}")
    found = screen.selected()
    assert found is not None
    await wait_for(pilot, lambda: app.screen.active_bindings["a"].enabled, within=20, what="approve available")
    return found


async def test_the_inbox_lists_a_pipeline_approval_and_a_task_token_state(sandbox_console: Sandbox) -> None:
    name, arn = await both_waiting(sandbox_console)
    execution_name = arn.rsplit(":", 1)[-1]
    app = sandbox_console.build()
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await inbox_with(pilot, app, name, execution_name)
        manual = waiting_for(screen, name)
        task = waiting_for(screen, execution_name)
        assert manual is not None
        assert task is not None
        assert manual.kind == "codepipeline"
        assert manual.resource == f"{name}/Prod-Canary/Approve"
        assert manual.wave is not None
        assert manual.wave.name == "prod-canary"
        assert manual.custom_data == ASKS
        assert manual.url == "https://wiki.example.com/promote"
        assert manual.expires is not None
        assert task.kind == "stepfunctions"
        assert task.state_name == "ApprovePromotion"
        assert task.wave is not None
        assert task.wave.name == "prod-canary"
        assert task.revision is not None
        assert task.revision.revision_id == "c0ffee1234"
        assert task.expires is not None
        await only(pilot, app, screen, name.rsplit("-", 1)[1])
        text = await wait_for(pilot, lambda: ASKS in rendered(app) and rendered(app), what="what it asks")
        assert "https://wiki.example.com/promote" in text
        assert "▲ prod-canary" in text
        await only(pilot, app, screen, execution_name.rsplit("-", 1)[-1][:8])
        text = await wait_for(pilot, lambda: "Promote to prod-az2?" in rendered(app) and rendered(app))
        assert "state ApprovePromotion" in text
        assert "c0ffee1234" in text


async def test_approve_one_and_reject_one_with_a_reason(sandbox_console: Sandbox) -> None:
    name, arn = await both_waiting(sandbox_console)
    execution_name = arn.rsplit(":", 1)[-1]
    cp, sfn = sandbox_console.codepipeline, sandbox_console.stepfunctions
    app = sandbox_console.build()
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await inbox_with(pilot, app, name, execution_name)

        # Approve the pipeline's manual approval (production: the wave's name is typed).
        await only(pilot, app, screen, name.rsplit("-", 1)[1])
        await pilot.press("a")
        modal = await wait_for(pilot, lambda: isinstance(app.screen, ConfirmActionModal) and app.screen, within=10)
        assert modal.plan.confirm_word == "prod-canary"
        assert ("Pipeline", name) in modal.plan.lines
        await pilot.press(*"canary green", "enter", *"prod-canary", "enter")
        await wait_for(pilot, lambda: any("Approve sent" in n for n in notifications(app)), within=15, what="approved")
        assert await asyncio.to_thread(approval_status, cp, name) == "Succeeded"
        await wait_for(pilot, lambda: waiting_for(screen, name) is None, within=15, what="the approval gone")

        # Reject the task-token state with a reason: the execution fails with it as the cause.
        await only(pilot, app, screen, execution_name.rsplit("-", 1)[-1][:8])
        await pilot.press("x")
        modal = await wait_for(pilot, lambda: isinstance(app.screen, ConfirmActionModal) and app.screen, within=10)
        assert modal.plan.confirm_word == "prod-canary"
        await pilot.press(*"p99 regressed in AZ1", "enter", *"prod-canary", "enter")
        await wait_for(pilot, lambda: any("Reject sent" in n for n in notifications(app)), within=15, what="rejected")
        await wait_for(pilot, lambda: waiting_for(screen, execution_name) is None, within=15, what="the task gone")

    done = await asyncio.to_thread(wait_status, sfn, arn)
    assert done["status"] == "FAILED"
    failed = next(e for e in await asyncio.to_thread(history, sfn, arn) if e["type"] == "TaskFailed")
    assert failed["taskFailedEventDetails"]["cause"] == "p99 regressed in AZ1"
    records = list(sandbox_console.audit.records())
    assert [(r["phase"], r["action"]) for r in records] == [
        ("intent", "approve"),
        ("result", "approve"),
        ("intent", "reject"),
        ("result", "reject"),
    ]
    assert records[0]["resource"] == f"{name}/Prod-Canary/Approve"
    assert records[0]["reason"] == "canary green"
    assert records[2]["execution"] == arn
    assert records[2]["reason"] == "p99 regressed in AZ1"
    assert all(r["outcome"] == "succeeded" for r in records if r["phase"] == "result")


async def test_a_wrong_wave_name_sends_nothing(sandbox_console: Sandbox) -> None:
    name = await asyncio.to_thread(pipeline_waiting, sandbox_console)
    await asyncio.to_thread(wait_for_approval, sandbox_console.codepipeline, name)
    app = sandbox_console.build()
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await inbox_with(pilot, app, name)
        await only(pilot, app, screen, name.rsplit("-", 1)[1])
        await pilot.press("a")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmActionModal), within=10)
        await pilot.press(*"looks fine", "enter", *"prod-az1", "enter")
        assert isinstance(app.screen, ConfirmActionModal)  # a wrong name is refused in the modal
        await pilot.press("escape")
        await wait_for(pilot, lambda: isinstance(app.screen, ApprovalsScreen), what="back in the inbox")
        assert waiting_for(screen, name) is not None
    assert await asyncio.to_thread(approval_status, sandbox_console.codepipeline, name) == "InProgress"
    assert list(sandbox_console.audit.records()) == []
