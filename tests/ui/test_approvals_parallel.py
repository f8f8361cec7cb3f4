"""Approvals inside a Parallel, end to end in the console: one inbox row per waiting token, the confirmation
showing the exact JSON that is sent, and its editor refusing invalid JSON (the real gateway, watcher and gate
against a sandbox of its own over HTTP)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from textual.widgets import TextArea

from console.actions.audit import AuditLog
from console.actions.gate import ActionGate
from console.app import WavedeckApp, make_app
from console.aws.gateway import Gateway
from console.config import Config, Intervals, sandbox_targets
from console.sandbox.fleet.definitions import load_fleet
from console.sandbox_process import SandboxProcess
from console.stepfunctions.answers import AnswerBook, AnswerRule
from console.watch import Watcher
from screens.approvals.screen import ApprovalsScreen
from screens.confirm.screen import ConfirmActionModal
from tests.conftest import REGION, make_client
from tests.core.test_actions_parallel_approvals import APPROVERS, parallel_approval, scheduled
from tests.core.test_cli_approvals import answered
from tests.sandbox.test_stepfunctions_support import create_machine, make_queue, start
from tests.ui.conftest import notifications, rendered, wait_for

WAVES = load_fleet().wave_model()
FAST = Intervals(focused=0.2, background=0.5, lists=2.0, push_safety_net=30.0)
ANSWERS = AnswerBook(
    (
        AnswerRule(
            "human-in-the-loop*",
            "*Approver*",
            approve={"approvalStatus": {"result": "Approved", "reason": "{reason}"}},
            reject={"error": "Rejected", "cause": "{reason}"},
        ),
    )
)


@pytest.fixture
async def build(
    own_sandbox: SandboxProcess, tmp_path: Path
) -> AsyncIterator[tuple[Callable[[], WavedeckApp], AuditLog]]:
    (target,) = sandbox_targets(own_sandbox.url, (REGION,))
    target = replace(target, events_queue=None)
    audit = AuditLog(tmp_path / "audit.jsonl")
    async with Gateway(target) as gateway:

        def app() -> WavedeckApp:
            watcher = Watcher({target.name: gateway}, WAVES, FAST)
            gate = ActionGate({target.name: gateway}, WAVES, audit, answers=ANSWERS)
            return make_app(Config(), (target,), watcher, gate, waves=WAVES)

        yield app, audit


def three_waiting(own_sandbox: SandboxProcess) -> tuple[Any, str]:
    sfn = make_client(own_sandbox.url, "stepfunctions")
    queue, _ = make_queue(make_client(own_sandbox.url, "sqs"), "ui-hitl")
    machine = create_machine(sfn, parallel_approval(queue), prefix="human-in-the-loop-canary")
    arn = start(sfn, machine, {"revision": "feedbeef42"})
    scheduled(sfn, arn, 3)
    return sfn, arn


def rows_of(screen: ApprovalsScreen, execution: str) -> list[Any]:
    return [a for a in screen.rows.approvals.values() if a.execution == execution]


async def test_three_branches_are_three_rows_and_the_body_is_shown_edited_and_checked(
    own_sandbox: SandboxProcess, build: tuple[Callable[[], WavedeckApp], AuditLog]
) -> None:
    make, audit = build
    sfn, arn = await asyncio.to_thread(three_waiting, own_sandbox)
    execution_name = arn.rsplit(":", 1)[-1]
    app = make()
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.press("3")
        screen = await wait_for(pilot, lambda: isinstance(app.screen, ApprovalsScreen) and app.screen)
        assert isinstance(screen, ApprovalsScreen)
        await wait_for(pilot, lambda: len(rows_of(screen, arn)) == 3, within=30, what="three rows")
        rows = rows_of(screen, arn)
        assert sorted(a.state_name for a in rows) == sorted(APPROVERS)
        assert len({a.task_event for a in rows}) == 3
        await pilot.press("slash", *execution_name[:8], "enter")
        text = await wait_for(pilot, lambda: all(n in rendered(app) for n in APPROVERS) and rendered(app))
        assert "release 42 to production?" in text or "branch" in text

        # The Finance row: its own token, its own body.
        await pilot.press("escape", "slash", *"Finance", "enter")
        await wait_for(pilot, lambda: len(screen.rows.keys) == 1, what="only the Finance row")
        selected = screen.selected()
        assert selected is not None
        assert selected.state_name == "Finance Approver"
        assert selected.where == "branch 3 of Ask Approvers"
        await wait_for(pilot, lambda: app.screen.active_bindings["a"].enabled, within=20, what="approve available")
        await pilot.press("a")
        modal = await wait_for(pilot, lambda: isinstance(app.screen, ConfirmActionModal) and app.screen, within=10)
        assert isinstance(modal, ConfirmActionModal)
        editor = modal.query_one("#body", TextArea)
        assert json.loads(editor.text) == {"approvalStatus": {"result": "Approved", "reason": ""}}
        # The modal is on the stack before its first frame is drawn (on a busy machine, later): wait for it.
        await wait_for(pilot, lambda: "SendTaskSuccess sends exactly this JSON" in rendered(app), what="the note")
        await pilot.press(*"budget ok")
        await wait_for(pilot, lambda: '"reason": "budget ok"' in editor.text, what="the reason in the body")

        # An edit that is not JSON is refused in the modal, with where it goes wrong; nothing is sent.
        await pilot.press("tab", *"prod-canary", "tab")
        assert modal.focused is editor
        await pilot.press("x")
        await pilot.press("shift+tab", "enter")
        await wait_for(pilot, lambda: "not valid JSON" in rendered(app), what="the JSON refused")
        assert "line 1 column 1" in rendered(app)
        assert isinstance(app.screen, ConfirmActionModal)
        assert await asyncio.to_thread(answered, sfn, arn) == {}

        # A valid edit is sent exactly as it reads.
        editor.load_text('{"approvalStatus": {"result": "Approved", "ticket": "FIN-7"}}')
        await pilot.press("shift+tab", "enter")
        await wait_for(pilot, lambda: any("Approve sent" in n for n in notifications(app)), within=15, what="sent")
        left = lambda: sorted(a.state_name for a in screen.ctx.state.approvals if a.execution == arn)  # noqa: E731
        await wait_for(pilot, lambda: len(left()) == 2, within=15, what="two rows left")
        assert left() == ["Operations Approver", "Security Approver"]

    (answer,) = (await asyncio.to_thread(answered, sfn, arn)).values()
    sent = {"approvalStatus": {"result": "Approved", "ticket": "FIN-7"}}
    assert json.loads(answer["taskSucceededEventDetails"]["output"]) == sent
    intent = next(r for r in audit.records() if r["phase"] == "intent")
    assert intent["request"]["output"] == sent
    assert intent["plan"]["State"] == "Finance Approver"
    sfn.stop_execution(executionArn=arn)
