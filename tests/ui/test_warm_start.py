"""Warm starts on the screen: the last run's fleet shown at once and marked stale, and a corrupt cache said.

Each test runs the real watcher against a sandbox of its own over HTTP, with a warm-start cache in a
temporary directory. The second start's sandbox is stopped first, so nothing it shows can have come from a read
of this run: only the cache can have put the pipeline on the screen.
"""

from __future__ import annotations

import asyncio
from dataclasses import replace
from pathlib import Path

from console.actions.audit import AuditLog
from console.actions.gate import ActionGate
from console.app import WavedeckApp, make_app
from console.aws.gateway import Gateway
from console.config import Config, Intervals, sandbox_targets
from console.model import Target
from console.sandbox_process import SandboxProcess
from console.warm_cache import WarmCache
from console.watch import Watcher
from console.waves import default_wave_model
from screens.approvals.screen import ApprovalsScreen
from screens.confirm.screen import ConfirmActionModal
from screens.fleet.pipelines import PIPELINES
from screens.fleet.screen import FleetScreen
from screens.status import APPROVAL, ERROR, IN_PROGRESS, STALE
from tests.conftest import REGION, make_client
from tests.sandbox.test_codepipeline_support import action, approval, create, source, stage, start, wait_token
from tests.sandbox.test_stepfunctions_support import create_machine, history, make_queue, task_token, wait_event
from tests.sandbox.test_stepfunctions_support import start as start_execution
from tests.ui.conftest import notifications, rendered, rendered_lines, wait_for
from tests.ui.test_pipeline_support import quiet_sandbox

FAST = Intervals(focused=0.2, background=0.5, lists=2.0, push_safety_net=30.0)
KEY = f"sandbox/{REGION}:quiet-service"
ASKS = "Gamma canaries are green. Promote?"
PREFIX = "warm-gate"


def console(target: Target, gateway: Gateway, cache: WarmCache, tmp_path: Path) -> WavedeckApp:
    waves = default_wave_model()
    watcher = Watcher({target.name: gateway}, waves, FAST, cache=cache)
    gate = ActionGate({target.name: gateway}, waves, AuditLog(tmp_path / "audit.jsonl"))
    return make_app(Config(), (target,), watcher, gate, waves=waves)


def polling_target(sandbox: SandboxProcess) -> Target:
    (target,) = sandbox_targets(sandbox.url, (REGION,))
    return replace(target, events_queue=None)


async def test_the_last_runs_fleet_shows_at_once_marked_stale_when_aws_cannot_answer(tmp_path: Path) -> None:
    cache = WarmCache(tmp_path / "cache")
    (tmp_path / "fleet").mkdir()
    with quiet_sandbox(tmp_path / "fleet") as sandbox:
        target = polling_target(sandbox)
        async with Gateway(target) as gateway:
            app = console(target, gateway, cache, tmp_path)
            async with app.run_test(size=(120, 36)) as pilot:
                screen = app.screen
                assert isinstance(screen, FleetScreen)
                await wait_for(pilot, lambda: KEY in screen.views[PIPELINES].keys, within=30, what="the pipeline, read")
                await wait_for(pilot, lambda: "quiet-service" in rendered(app), what="the pipeline on screen")
        # Leaving wrote the cache.
    assert list((tmp_path / "cache").iterdir())

    # The sandbox is gone: the same target now answers nothing, yet the fleet is there, said to be stale.
    fresh = WarmCache(tmp_path / "cache")
    async with Gateway(target) as gateway:
        app = console(target, gateway, fresh, tmp_path)
        async with app.run_test(size=(120, 36)) as pilot:
            screen = app.screen
            assert isinstance(screen, FleetScreen)
            await wait_for(pilot, lambda: KEY in screen.views[PIPELINES].keys, within=10, what="the cached pipeline")
            await wait_for(pilot, lambda: "quiet-service" in rendered(app), what="the cached pipeline on screen")
            assert KEY in app.console_context.state.cached

            # Its first read fails (nothing answers). The board under the list says both how old the picture is
            # and why it was not read again: before the fix the error took the age's place, so the age was
            # shown only until the first read failed.
            # The pipeline's row says it cannot be trusted too, not only the board below (one picture: both at once).
            def shown() -> list[str]:
                lines = rendered_lines(app)
                board = [line for line in lines if "stale: last read" in line and ERROR.glyph in line]
                row = [line for line in lines if "quiet-service" in line and f"{ERROR.glyph} error" in line]
                return lines if board and row else []

            lines = await wait_for(pilot, shown, what="the board's age and error, and the row's error")
            assert any("stale: last read" in line and "cannot reach AWS" in line for line in lines), lines
            assert not any("now ago" in line for line in lines)
            assert fresh.warnings == []


async def test_an_approval_the_last_run_saw_waiting_still_waits_on_screen_when_aws_cannot_answer(
    tmp_path: Path,
) -> None:
    cache = WarmCache(tmp_path / "cache")
    (tmp_path / "fleet").mkdir()
    with quiet_sandbox(tmp_path / "fleet") as sandbox:
        target = polling_target(sandbox)
        cp = make_client(sandbox.url, "codepipeline")
        ask = approval("Approve", CustomData=ASKS)
        deploy = action("DeployOneBox", "Deploy", "CodeDeploy", 2, SandboxDuration="1")
        name = await asyncio.to_thread(create, cp, source(), stage("Prod-Canary", ask, deploy), prefix=PREFIX)
        await asyncio.to_thread(start, cp, name)
        await asyncio.to_thread(wait_token, cp, name, "Prod-Canary")
        async with Gateway(target) as gateway:
            app = console(target, gateway, cache, tmp_path)
            async with app.run_test(size=(120, 36)) as pilot:
                await wait_for(pilot, lambda: waiting_row(app), within=30, what="the approval waiting, read")
        # Leaving wrote the cache (without the token).

    # The sandbox is gone: nothing can be read, yet the approval waits on screen, in the fleet and in the inbox,
    # said to be stale. Before, the cache (which holds no token) showed it ▶ in progress and the inbox empty.
    key = f"sandbox/{REGION}:{name}"
    async with Gateway(target) as gateway:
        app = console(target, gateway, WarmCache(tmp_path / "cache"), tmp_path)
        async with app.run_test(size=(120, 36)) as pilot:
            row = await wait_for(pilot, lambda: waiting_row(app), what="the cached approval waiting")
            assert key in app.console_context.state.cached
            (waiting,) = app.console_context.state.approvals
            assert waiting.resource == f"{name}/Prod-Canary/Approve"
            await wait_for(
                pilot, lambda: (line := waiting_row(app)) and f"{ERROR.glyph} error" in line, what="its error"
            )
            # Its canary cell says ⚑ (the latest execution is in progress: ▶ in the Latest column, and only there).
            assert row.split(IN_PROGRESS.label, 1)[1].count(IN_PROGRESS.glyph) == 0

            await pilot.press("3")
            inbox = await wait_for(pilot, lambda: isinstance(app.screen, ApprovalsScreen) and app.screen)
            assert isinstance(inbox, ApprovalsScreen)
            lines = await wait_for(
                pilot,
                lambda: (lines := rendered_lines(app)) and any(PREFIX in line for line in lines) and lines,
                what="the cached approval in the inbox",
            )
            (listed,) = [line for line in lines if "▲ prod-canary" in line and f"{APPROVAL.glyph} {PREFIX}" in line]
            assert f"{STALE.glyph} " in listed.split(PREFIX, 1)[1]  # its Waiting cell: as of the last read
            text = "\n".join(lines)
            assert f"1 waiting  ▲ 1 production  {STALE.glyph} 1 stale" in text
            assert f"{STALE.glyph} stale: last read" in text
            assert "approving or rejecting reads it fresh first, its token too" in text
            assert ASKS in text

            # Approving it is offered: the gate's fresh read decides, and here it cannot read: said, nothing sent.
            await wait_for(pilot, lambda: app.screen.active_bindings["a"].enabled, what="approve available")
            await pilot.press("a")
            said = await wait_for(
                pilot,
                lambda: [n for n in notifications(app) if "cannot reach AWS" in n],
                what="the gate's read failing",
            )
            assert said
            assert not isinstance(app.screen, ConfirmActionModal)


def two_approvers(queue_url: str) -> dict[str, object]:
    """AWS's pattern of approvals in parallel: a Parallel whose two branches each send a task token to a queue
    and wait for a person's answer."""

    def approver(name: str) -> dict[str, object]:
        return {
            "StartAt": name,
            "States": {
                name: {
                    "Type": "Task",
                    "Resource": "arn:aws:states:::sqs:sendMessage.waitForTaskToken",
                    "Parameters": {
                        "QueueUrl": queue_url,
                        "MessageBody": {"ask": f"{name}: promote?", "taskToken.$": "$$.Task.Token"},
                    },
                    "TimeoutSeconds": 7200,
                    "End": True,
                }
            },
        }

    return {
        "StartAt": "Approvals",
        "States": {
            "Approvals": {
                "Type": "Parallel",
                "Branches": [approver("Security Approver"), approver("Release Approver")],
                "Next": "Done",
            },
            "Done": {"Type": "Succeed"},
        },
    }


async def test_task_token_approvals_in_parallel_branches_still_wait_on_screen_when_aws_cannot_answer(
    tmp_path: Path,
) -> None:
    cache = WarmCache(tmp_path / "cache")
    (tmp_path / "fleet").mkdir()
    with quiet_sandbox(tmp_path / "fleet") as sandbox:
        target = polling_target(sandbox)
        sfn = make_client(sandbox.url, "stepfunctions")
        queue_url, _ = await asyncio.to_thread(make_queue, make_client(sandbox.url, "sqs"), "warm-approvals")
        machine = await asyncio.to_thread(create_machine, sfn, two_approvers(queue_url), "warm-approvers")
        arn = await asyncio.to_thread(start_execution, sfn, machine, {"revision": "c0ffee1234"})
        await asyncio.to_thread(wait_event, sfn, arn, "TaskScheduled", 2)
        tokens = [task_token(e) for e in await asyncio.to_thread(history, sfn, arn) if e["type"] == "TaskScheduled"]
        async with Gateway(target) as gateway:
            app = console(target, gateway, cache, tmp_path)
            async with app.run_test(size=(120, 36)) as pilot:
                await wait_for(
                    pilot, lambda: len(app.console_context.state.approvals) == 2, within=30, what="both read"
                )
                read = sorted((a.where, a.task_event) for a in app.console_context.state.approvals)
        # Leaving wrote the cache: where each waits, without a token.
    (written,) = list((tmp_path / "cache").iterdir())
    text = written.read_text(encoding="utf-8")
    assert len(tokens) == 2
    assert not [t for t in tokens if t in text]
    assert "Security Approver" in text

    # The sandbox is gone: nothing can be read, yet both approvals wait in the inbox, stale. Before, a warm start
    # showed them only once a history was read: never, while AWS cannot answer.
    async with Gateway(target) as gateway:
        app = console(target, gateway, WarmCache(tmp_path / "cache"), tmp_path)
        async with app.run_test(size=(120, 36)) as pilot:
            await wait_for(pilot, lambda: len(app.console_context.state.approvals) == 2, what="the cached approvals")
            assert sorted((a.where, a.task_event) for a in app.console_context.state.approvals) == read
            assert [w for w, _ in read] == ["branch 1 of Approvals", "branch 2 of Approvals"]
            await pilot.press("3")
            lines = await wait_for(
                pilot,
                lambda: (
                    (lines := rendered_lines(app))
                    and isinstance(app.screen, ApprovalsScreen)
                    and sum("›" in line and "Approver" in line for line in lines) == 2
                    and lines
                ),
                what="both in the inbox",
            )
            text = "\n".join(lines)
            assert f"2 waiting  {STALE.glyph} 2 stale" in text, text
            assert "approving or rejecting reads it fresh first, its token too" in text
            # Its ask was among the task's parameters, with the token: not in the cache, and said so.
            assert "shown once its history is read" in text
            # Approving one is offered: the gate reads the history afresh, and here it cannot: said, nothing sent.
            await wait_for(pilot, lambda: app.screen.active_bindings["a"].enabled, what="approve available")
            await pilot.press("a")
            said = await wait_for(
                pilot, lambda: [n for n in notifications(app) if "cannot reach AWS" in n], what="the gate's read"
            )
            assert said
            assert not isinstance(app.screen, ConfirmActionModal)


def waiting_row(app: WavedeckApp) -> str | None:
    """The fleet's row of the pipeline made with `PREFIX` (its name is cut to the column) when it shows an
    approval waiting."""
    return next((line for line in rendered_lines(app) if PREFIX in line and APPROVAL.glyph in line), None)


async def test_a_corrupt_cache_is_said_on_screen_and_the_console_starts_cold(tmp_path: Path) -> None:
    cache = WarmCache(tmp_path / "cache")
    (tmp_path / "fleet").mkdir()
    with quiet_sandbox(tmp_path / "fleet") as sandbox:
        target = polling_target(sandbox)
        cache.path(target).parent.mkdir(parents=True, exist_ok=True)
        cache.path(target).write_text('{"format": 1, "pipelines": [', encoding="utf-8")
        async with Gateway(target) as gateway:
            app = console(target, gateway, cache, tmp_path)
            async with app.run_test(size=(120, 36)) as pilot:
                said = await wait_for(
                    pilot,
                    lambda: [n for n in notifications(app) if "discarded, starting cold" in n],
                    what="the warning on screen",
                )
                assert len(said) == 1
                screen = app.screen
                assert isinstance(screen, FleetScreen)
                await wait_for(pilot, lambda: KEY in screen.views[PIPELINES].keys, within=30, what="a cold read")
                assert [n for n in notifications(app) if "discarded" in n] == said  # told once
