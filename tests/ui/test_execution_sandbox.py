"""The execution screen end to end against a sandbox of its own: a `.waitForTaskToken` approval answered from
the screen, and a running execution stopped from it; each checked in the sandbox, the audit log and on screen.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from console.app import WavedeckApp
from console.sandbox_process import SandboxProcess
from screens.confirm.screen import ConfirmActionModal
from screens.execution.screen import ExecutionScreen
from screens.fleet.screen import FleetScreen
from screens.fleet.state_machines import MACHINES
from screens.state_machine.screen import StateMachineScreen
from tests.conftest import REGION
from tests.sandbox.test_stepfunctions_support import (
    approval_machine,
    create_machine,
    describe,
    history,
    make_queue,
    start,
    wait_event,
)
from tests.ui.conftest import notifications, rendered, wait_for
from tests.ui.test_pipeline_support import in_thread, sandbox_console

TARGET = f"sandbox/{REGION}"


async def open_execution_in_sandbox(
    pilot: Any, app: WavedeckApp, machine_arn: str, execution_arn: str
) -> ExecutionScreen:
    """Fleet → state machines (2) → filter to the machine → enter → its execution → enter."""
    name = machine_arn.rsplit(":", 1)[-1]
    key = f"{TARGET}:{name}"
    fleet = app.screen
    assert isinstance(fleet, FleetScreen)
    await pilot.press("2")
    await wait_for(pilot, lambda: key in fleet.views[MACHINES].keys, within=30, what=f"{name} on the fleet screen")
    await pilot.press("slash", *name.rsplit("-", 1)[1], "enter")
    await wait_for(pilot, lambda: fleet.views[MACHINES].keys == [key], what="the filter to leave only it")
    await pilot.press("enter")
    machine = await wait_for(pilot, lambda: isinstance(app.screen, StateMachineScreen) and app.screen)
    await wait_for(pilot, lambda: execution_arn in machine.executions.keys, within=20, what="the execution listed")
    while machine.executions.highlighted_key != execution_arn:
        await pilot.press("j")
    await pilot.press("enter")
    return await wait_for(pilot, lambda: isinstance(app.screen, ExecutionScreen) and app.screen)


async def test_approve_a_task_token_from_the_execution_screen(own_sandbox: SandboxProcess, tmp_path: Path) -> None:
    async with sandbox_console(own_sandbox, tmp_path) as console:
        sfn, sqs = console.client("stepfunctions"), console.client("sqs")
        queue_url, _ = await in_thread(make_queue, sqs)
        machine = await in_thread(
            create_machine, sfn, approval_machine(queue_url, timeout_seconds=3600), "ui-ex-approve"
        )
        arn = await in_thread(start, sfn, machine, {"revision": "c0ffee12"})
        await in_thread(wait_event, sfn, arn, "TaskSubmitted")
        app = console.build()
        async with app.run_test(size=(120, 36)) as pilot:
            screen = await open_execution_in_sandbox(pilot, app, machine, arn)
            # What it asks, from the TaskScheduled parameters, and its time left.
            await wait_for(pilot, lambda: "Approve waits for a person: Ship it?" in rendered(app), within=20)
            assert re.search(r"expires in (59m|1h) \(\d\d:\d\d:\d\d\)", rendered(app))
            approve = screen.states_table.row("Approve")
            assert approve is not None
            assert approve.cell("status").plain == "⚑ approval"
            await wait_for(pilot, lambda: app.screen.active_bindings["a"].enabled, within=20, what="approve available")
            await pilot.press("a")
            modal = await wait_for(pilot, lambda: isinstance(app.screen, ConfirmActionModal) and app.screen, within=15)
            assert ("State", "Approve") in modal.plan.lines
            # No wave places this state machine: its risk is unknown, so its name is typed, as for production.
            name = machine.rsplit(":", 1)[-1]
            assert modal.plan.confirm_word == name
            assert ("Wave", "unknown (unknown)") in modal.plan.lines
            assert f"Type the state machine's name to confirm: {name}" in rendered(app)
            await pilot.press(*"looks good", "enter", *name, "enter")
            await wait_for(pilot, lambda: any("request id" in n for n in notifications(app)), within=15)
            # The consequence as the watcher sees it: the task succeeded and the execution ran to its end.
            await wait_for(pilot, lambda: "✓ succeeded" in rendered(app), within=20, what="the execution succeeded")
            assert any(e.type == "TaskSucceeded" for e in screen._events)
            assert "waits for a person" not in rendered(app)
        assert (await in_thread(describe, sfn, arn))["status"] == "SUCCEEDED"
        succeeded = next(e for e in await in_thread(history, sfn, arn) if e["type"] == "TaskSucceeded")
        assert json.loads(succeeded["taskSucceededEventDetails"]["output"])["reason"] == "looks good"
        records = list(console.audit.records())
        assert [(r["phase"], r["action"]) for r in records] == [("intent", "approve"), ("result", "approve")]
        assert records[0]["execution"] == arn
        assert records[1]["outcome"] == "succeeded"


async def test_stop_a_running_execution_from_its_screen(own_sandbox: SandboxProcess, tmp_path: Path) -> None:
    async with sandbox_console(own_sandbox, tmp_path) as console:
        sfn = console.client("stepfunctions")
        definition = {"StartAt": "Bake", "States": {"Bake": {"Type": "Wait", "Seconds": 4000, "End": True}}}
        machine = await in_thread(create_machine, sfn, definition, "ui-ex-stop")
        arn = await in_thread(start, sfn, machine, {})
        app = console.build()
        async with app.run_test(size=(120, 36)) as pilot:
            screen = await open_execution_in_sandbox(pilot, app, machine, arn)
            await wait_for(pilot, lambda: screen.states_table.keys == ("Bake",), within=20, what="the Bake state")
            await wait_for(pilot, lambda: app.screen.active_bindings["s"].enabled, within=20)
            await pilot.press("s")
            await wait_for(pilot, lambda: isinstance(app.screen, ConfirmActionModal), within=15)
            await pilot.press(*"wrong revision", "enter", *machine.rsplit(":", 1)[-1], "enter")
            await wait_for(pilot, lambda: any("request id" in n for n in notifications(app)), within=15)
            await wait_for(pilot, lambda: "✗ aborted" in rendered(app), within=20, what="aborted on screen")
            await wait_for(
                pilot,
                lambda: (
                    (bake := screen.states_table.row("Bake")) is not None and bake.cell("status").plain == "■ stopped"
                ),
                what="the Bake state stopped",
            )
            # Its error and cause come with the history's last event (read after the listing said ABORTED).
            await wait_for(pilot, lambda: "wavedeck.Stopped: wrong revision" in rendered(app), what="why it stopped")
        assert (await in_thread(describe, sfn, arn))["status"] == "ABORTED"
        assert [(r["phase"], r["action"]) for r in console.audit.records()] == [("intent", "stop"), ("result", "stop")]


async def test_hostile_history_shows_no_token_and_nothing_live(own_sandbox: SandboxProcess, tmp_path: Path) -> None:
    """The hostile machine (tests/hostile.py): its token, hidden five ways, is nowhere on the state machine
    screen or the execution screen, and its markup, escapes and bidi controls are inert text."""
    from console.tokens import PLACEHOLDER
    from tests.hostile import RAW_UNSAFE, hostile_machine

    async with sandbox_console(own_sandbox, tmp_path) as console:
        sfn, sqs = console.client("stepfunctions"), console.client("sqs")
        queue_url, _ = await in_thread(make_queue, sqs)
        machine = await in_thread(create_machine, sfn, hostile_machine(queue_url), "ui-ex-hostile")
        arn = await in_thread(start, sfn, machine, {"revision": "c0ffee12"})
        scheduled = await in_thread(wait_event, sfn, arn, "TaskScheduled")
        token = json.loads(scheduled["taskScheduledEventDetails"]["parameters"])["MessageBody"]["callback"]
        app = console.build()
        async with app.run_test(size=(120, 36)) as pilot:
            screen = await open_execution_in_sandbox(pilot, app, machine, arn)
            await wait_for(pilot, lambda: any(e.type == "TaskScheduled" for e in screen._events), within=20)
            await wait_for(pilot, lambda: "zzzzzzzz" in rendered(app), within=20, what="the ask on screen")
            held = [str(e) for e in screen._events]
            assert not any(token in text for text in held)
            assert any(PLACEHOLDER in text for text in held)
            shown = rendered(app)
            assert token not in shown
            assert not any(char in shown for char in RAW_UNSAFE)
            await pilot.press("escape")
            await wait_for(pilot, lambda: isinstance(app.screen, StateMachineScreen), within=15)
            assert token not in rendered(app)
        await in_thread(sfn.stop_execution, executionArn=arn)
