"""The fleet screen's actions end to end: the real watcher and gate against the session sandbox over HTTP.

Each test makes its own pipeline (unique name) whose execution waits at a manual approval in a production
wave, finds it with the filter, acts on it from the keyboard, and checks the change in the sandbox, in the
audit log and on the screen.
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
from console.loop_thread import LoopThread
from console.model import Target
from console.sandbox.fleet.definitions import load_fleet
from console.sandbox_process import SandboxProcess
from console.watch import ThreadedWatcher, Watcher
from screens.confirm.screen import ConfirmActionModal
from screens.fleet.pipelines import PIPELINES
from screens.fleet.screen import FleetScreen
from screens.widgets.wave_board import WaveBoard
from tests.conftest import REGION, make_client
from tests.sandbox.test_codepipeline_support import action, action_state, approval, create, source, stage, start
from tests.ui.conftest import notifications, wait_for

WAVES = load_fleet().wave_model()
IO = LoopThread("wavedeck-aws-ui-test")
FAST = Intervals(focused=0.2, background=0.5, lists=5.0, push_safety_net=30.0)


@dataclass
class SandboxConsole:
    """What a test needs: the app factory, the audit log, a boto3 CodePipeline client."""

    build: Callable[..., WavedeckApp]  # build(read_only=False, threaded=False)
    audit: AuditLog
    codepipeline: Any
    target: Target


@pytest.fixture
async def sandbox_console(sandbox: SandboxProcess, tmp_path: Path) -> AsyncIterator[SandboxConsole]:
    """The console on the session sandbox with the real gateway, watcher (fast polling) and gate."""
    (target,) = sandbox_targets(sandbox.url, (REGION,))
    target = replace(target, events_queue=None)  # polling only: the tests wait on what the screen shows
    audit = AuditLog(tmp_path / "audit.jsonl")
    async with Gateway(target) as gateway, Gateway(target, io=IO) as threaded_gateway:

        def build(*, read_only: bool = False, threaded: bool = False) -> WavedeckApp:
            """`threaded`: as the console runs, the clients and the watcher on a thread of their own."""
            chosen = threaded_gateway if threaded else gateway
            watcher: Watcher | ThreadedWatcher = Watcher({target.name: chosen}, WAVES, FAST)
            if threaded:
                watcher = ThreadedWatcher(watcher, IO)
            gate = ActionGate({target.name: chosen}, WAVES, audit, read_only=read_only)
            return make_app(Config(), (target,), watcher, gate, waves=WAVES)

        yield SandboxConsole(build, audit, make_client(sandbox.url, "codepipeline"), target)


async def waiting_at_canary(cp: Any) -> str:
    """A new pipeline whose execution waits for approval in Prod-Canary (a production wave)."""
    deploy = action("DeployOneBox", "Deploy", "CodeDeploy", 2, SandboxDuration="1")
    name = await asyncio.to_thread(
        create, cp, source(), stage("Prod-Canary", approval("Approve"), deploy), prefix="ui-approve"
    )
    await asyncio.to_thread(start, cp, name)
    return name


def approval_status(cp: Any, name: str) -> str | None:
    latest = action_state(cp, name, "Prod-Canary", "Approve").get("latestExecution") or {}
    return latest.get("status")


async def find(pilot: Any, app: WavedeckApp, name: str) -> FleetScreen:
    """Filter the fleet down to `name` (typing its unique suffix) and wait until its approval shows."""
    screen = app.screen
    assert isinstance(screen, FleetScreen)
    key = f"sandbox/{REGION}:{name}"
    await wait_for(pilot, lambda: key in screen.views[PIPELINES].keys, within=30, what=f"{name} on the fleet screen")
    await pilot.press("slash", *name.rsplit("-", 1)[1], "enter")
    await wait_for(pilot, lambda: screen.views[PIPELINES].keys == [key], what="the filter to leave only it")
    await wait_for(pilot, lambda: app.screen.active_bindings["a"].enabled, within=30, what="the approval to be waiting")
    return screen


@pytest.mark.parametrize("threaded", [False, True], ids=["one-loop", "threaded"])
async def test_approve_from_key_to_sandbox_and_audit_log(sandbox_console: SandboxConsole, threaded: bool) -> None:
    cp = sandbox_console.codepipeline
    name = await waiting_at_canary(cp)
    app = sandbox_console.build(threaded=threaded)
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await find(pilot, app, name)
        await pilot.press("a")
        modal = await wait_for(pilot, lambda: isinstance(app.screen, ConfirmActionModal) and app.screen, within=10)
        assert modal.plan.production
        assert modal.plan.confirm_word == "prod-canary"
        assert ("Pipeline", name) in modal.plan.lines
        await pilot.press(*"green", "enter", *"prod-canary", "enter")
        await wait_for(pilot, lambda: any("request id" in n for n in notifications(app)), within=10, what="result")
        assert await asyncio.to_thread(approval_status, cp, name) == "Succeeded"
        # The screen shows the consequence as the watcher sees it: no approval waits any more.
        await wait_for(pilot, lambda: not app.screen.active_bindings["a"].enabled, within=10, what="no approval")
        assert isinstance(app.screen, FleetScreen)
        assert screen.highlighted_key() == f"sandbox/{REGION}:{name}"
    records = list(sandbox_console.audit.records())
    assert [r["phase"] for r in records] == ["intent", "result"]
    assert records[0]["action"] == "approve"
    assert records[0]["reason"] == "green"
    assert records[0]["resource"] == f"{name}/Prod-Canary/Approve"
    assert records[1]["outcome"] == "succeeded"


async def test_reject_with_a_reason(sandbox_console: SandboxConsole) -> None:
    cp = sandbox_console.codepipeline
    name = await waiting_at_canary(cp)
    app = sandbox_console.build()
    async with app.run_test(size=(120, 36)) as pilot:
        await find(pilot, app, name)
        await pilot.press("x")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmActionModal), within=10)
        await pilot.press(*"p99 bad", "enter", *"prod-canary", "enter")
        await wait_for(pilot, lambda: any("Rejected" in n for n in notifications(app)), within=10, what="result")
    state = await asyncio.to_thread(action_state, cp, name, "Prod-Canary", "Approve")
    assert state["latestExecution"]["status"] == "Failed"
    assert state["latestExecution"]["summary"] == "p99 bad"
    assert [r["phase"] for r in sandbox_console.audit.records()] == ["intent", "result"]


async def test_read_only_refuses_and_sends_nothing(sandbox_console: SandboxConsole) -> None:
    cp = sandbox_console.codepipeline
    name = await waiting_at_canary(cp)
    app = sandbox_console.build(read_only=True)
    async with app.run_test(size=(120, 36)) as pilot:
        screen = app.screen
        assert isinstance(screen, FleetScreen)
        key = f"sandbox/{REGION}:{name}"
        await wait_for(pilot, lambda: key in screen.views[PIPELINES].keys, within=30)
        await pilot.press("slash", *name.rsplit("-", 1)[1], "enter")
        await wait_for(pilot, lambda: screen.views[PIPELINES].keys == [key])
        board = screen.query_one(WaveBoard)
        await wait_for(pilot, lambda: any(c.approval for c in board.cells), within=30, what="the approval on the board")
        assert not app.screen.active_bindings["a"].enabled
        await pilot.press("a")
        await wait_for(pilot, lambda: any("read-only" in n for n in notifications(app)), what="the refusal")
        assert not isinstance(app.screen, ConfirmActionModal)
    assert await asyncio.to_thread(approval_status, cp, name) == "InProgress"
    assert list(sandbox_console.audit.records()) == []
