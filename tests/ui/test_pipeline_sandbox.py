"""The pipeline screen's actions end to end: the real watcher and gate against a sandbox over HTTP.

Each test makes its own pipeline (unique name) over HTTP, opens it from the fleet with the keyboard, acts on
the selected stage / action / execution, and checks the change in the sandbox, the audit log and on screen.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from console.app import WavedeckApp
from console.sandbox.server_constants import ACCOUNT_ID, SFN_ROLE
from console.sandbox_process import SandboxProcess
from screens.confirm.screen import ConfirmActionModal
from screens.execution.screen import ExecutionScreen
from screens.fleet.pipelines import PIPELINES
from screens.fleet.screen import FleetScreen
from screens.pipeline.rows import action_key, stage_key
from screens.pipeline.screen import PipelineScreen
from tests.conftest import REGION, unique, wait_until
from tests.sandbox.test_codepipeline_support import (
    action,
    action_runs,
    action_state,
    approval,
    create,
    execution,
    source,
    stage,
    stage_state,
    start,
    wait_status,
)
from tests.ui.conftest import notifications, rendered, wait_for
from tests.ui.test_pipeline_support import SandboxConsole, in_thread, sandbox_console

TARGET = f"sandbox/{REGION}"


async def open_in_sandbox(pilot: Any, app: WavedeckApp, name: str) -> PipelineScreen:
    """From the fleet: filter down to the pipeline (its unique suffix), enter."""
    fleet = app.screen
    assert isinstance(fleet, FleetScreen)
    key = f"{TARGET}:{name}"
    await wait_for(pilot, lambda: key in fleet.views[PIPELINES].keys, within=30, what=f"{name} on the fleet screen")
    await pilot.press("slash", *name.rsplit("-", 1)[1], "enter")
    await wait_for(pilot, lambda: fleet.views[PIPELINES].keys == [key], what="the filter to leave only it")
    await pilot.press("enter")
    screen = await wait_for(pilot, lambda: isinstance(app.screen, PipelineScreen) and app.screen, what="the pipeline")
    await wait_for(pilot, lambda: screen.stages.keys, what="its stages")
    return screen


async def select(pilot: Any, screen: PipelineScreen, row: str) -> None:
    """Move the stages cursor to `row` with j / k (the row must be there)."""
    await wait_for(pilot, lambda: row in screen.stages.keys, what=row)
    screen.stages.focus()
    keys = list(screen.stages.keys)
    while screen.stages.highlighted_key != row:
        current = keys.index(screen.stages.highlighted_key or keys[0])
        await pilot.press("j" if current < keys.index(row) else "k")


def cell(screen: PipelineScreen, row: str, column: str = "status") -> str:
    found = screen.stages.row(row)
    return found.cell(column).plain if found is not None else ""


async def confirm(pilot: Any, app: WavedeckApp, reason: str, wave: str | None = None) -> ConfirmActionModal:
    """Wait for the modal, type the reason (and the wave's name for production), send."""
    modal = await wait_for(pilot, lambda: isinstance(app.screen, ConfirmActionModal) and app.screen, within=15)
    assert modal.plan.production == (wave is not None)
    await pilot.press(*reason, "enter")
    if wave is not None:
        await pilot.press(*wave, "enter")
    await wait_for(pilot, lambda: any("request id" in n for n in notifications(app)), within=15, what="the result")
    return modal


def audit_actions(console: SandboxConsole) -> list[tuple[str, str, str]]:
    return [(r["phase"], r["action"], r["resource"]) for r in console.audit.records()]


async def waiting_pipeline(cp: Any, prefix: str) -> str:
    name = await in_thread(
        create,
        cp,
        source(),
        stage(
            "Prod-Canary", approval("Approve"), action("DeployOneBox", "Deploy", "CodeDeploy", 2, SandboxDuration="1")
        ),
        prefix=prefix,
    )
    await in_thread(start, cp, name)
    return str(name)


async def test_approve_the_selected_approval(own_sandbox: SandboxProcess, tmp_path: Path) -> None:
    async with sandbox_console(own_sandbox, tmp_path) as console:
        cp = console.client("codepipeline")
        name = await waiting_pipeline(cp, "ui-pl-approve")
        app = console.build()
        async with app.run_test(size=(120, 36)) as pilot:
            screen = await open_in_sandbox(pilot, app, name)
            row = action_key("Prod-Canary", "Approve")
            await wait_for(pilot, lambda: cell(screen, row) == "⚑ approval", within=20, what="the approval waiting")
            await select(pilot, screen, row)
            await pilot.press("a")
            modal = await confirm(pilot, app, "canary is green", wave="prod-canary")
            assert ("Action", "Approve") in modal.plan.lines
            # The consequence, as the watcher sees it: the approval succeeded, the stage moves on.
            await wait_for(pilot, lambda: cell(screen, row) == "✓ succeeded", within=20, what="approved on screen")
            assert screen.stages.highlighted_key == row
        latest = (await in_thread(action_state, cp, name, "Prod-Canary", "Approve"))["latestExecution"]
        assert latest["status"] == "Succeeded"
        assert latest["summary"] == "canary is green"
        assert audit_actions(console) == [
            ("intent", "approve", f"{name}/Prod-Canary/Approve"),
            ("result", "approve", f"{name}/Prod-Canary/Approve"),
        ]


async def test_reject_with_a_reason(own_sandbox: SandboxProcess, tmp_path: Path) -> None:
    async with sandbox_console(own_sandbox, tmp_path) as console:
        cp = console.client("codepipeline")
        name = await waiting_pipeline(cp, "ui-pl-reject")
        app = console.build()
        async with app.run_test(size=(120, 36)) as pilot:
            screen = await open_in_sandbox(pilot, app, name)
            row = action_key("Prod-Canary", "Approve")
            await wait_for(pilot, lambda: cell(screen, row) == "⚑ approval", within=20, what="the approval waiting")
            await select(pilot, screen, stage_key("Prod-Canary"))  # the stage: its waiting approval is meant
            await pilot.press("x")
            await confirm(pilot, app, "p99 regressed in gamma", wave="prod-canary")
            await wait_for(pilot, lambda: cell(screen, row) == "✗ failed", within=20, what="rejected on screen")
            assert "p99 regressed in gamma" in cell(screen, row, "detail")
        latest = (await in_thread(action_state, cp, name, "Prod-Canary", "Approve"))["latestExecution"]
        assert latest["status"] == "Failed"
        assert latest["summary"] == "p99 regressed in gamma"
        records = list(console.audit.records())
        assert [r["phase"] for r in records] == ["intent", "result"]
        assert records[0]["action"] == "reject"
        assert records[0]["reason"] == "p99 regressed in gamma"
        assert records[1]["outcome"] == "succeeded"


async def test_stop_the_running_execution(own_sandbox: SandboxProcess, tmp_path: Path) -> None:
    async with sandbox_console(own_sandbox, tmp_path) as console:
        cp = console.client("codepipeline")
        name = await in_thread(
            create, cp, source(), stage("Beta", action("Soak", "Test", SandboxDuration="4000")), prefix="ui-pl-stop"
        )
        execution_id = await in_thread(start, cp, name)
        app = console.build()
        async with app.run_test(size=(120, 36)) as pilot:
            screen = await open_in_sandbox(pilot, app, name)
            row = stage_key("Beta")
            await wait_for(pilot, lambda: cell(screen, row) == "▶ in progress", within=20, what="Beta running")
            await select(pilot, screen, row)
            await pilot.press("s")
            modal = await confirm(pilot, app, "bad change, stopping")
            assert modal.plan.selection.execution_id == execution_id
            await wait_for(
                pilot,
                lambda: (
                    screen.executions.row(execution_id) is not None
                    and screen.executions.row(execution_id).cell("status").plain in ("□ stopping", "■ stopped")
                ),  # type: ignore[union-attr]
                within=20,
                what="the execution stopping on screen",
            )
        assert (await in_thread(execution, cp, name, execution_id))["status"] in ("Stopping", "Stopped")
        assert audit_actions(console) == [("intent", "stop", name), ("result", "stop", name)]


async def test_roll_back_a_production_wave_with_its_name_typed(own_sandbox: SandboxProcess, tmp_path: Path) -> None:
    async with sandbox_console(own_sandbox, tmp_path) as console:
        cp = console.client("codepipeline")
        name = await in_thread(
            create,
            cp,
            source(),
            stage("Prod-AZ1", action("Deploy", "Deploy", "CodeDeploy", SandboxDuration="1")),
            stage("Verify", action("Check", "Test", SandboxOutcome="#{variables.verify}", SandboxDuration="1")),
            variables={"verify": "Succeeded"},
            prefix="ui-pl-rollback",
        )
        good = await in_thread(start, cp, name)
        assert await in_thread(wait_status, cp, name, good) == "Succeeded"
        bad = await in_thread(start, cp, name, verify="Failed")
        assert await in_thread(wait_status, cp, name, bad) == "Failed"
        app = console.build()
        async with app.run_test(size=(120, 36)) as pilot:
            screen = await open_in_sandbox(pilot, app, name)
            await wait_for(pilot, lambda: screen.executions.keys[:2] == (bad, good), within=20, what="both runs")
            await select(pilot, screen, stage_key("Prod-AZ1"))
            await pilot.press("b")
            modal = await wait_for(pilot, lambda: isinstance(app.screen, ConfirmActionModal) and app.screen, within=15)
            lines = dict(modal.plan.lines)
            assert lines["Rolls back to"].startswith(good)  # which execution (and its revision)
            assert lines["Now"].startswith(bad)
            assert modal.plan.confirm_word == "prod-az1"
            await pilot.press(*"verify failed after deploy", "enter", *"prod-az2", "enter")
            await wait_for(pilot, lambda: "is not the wave's name" in rendered(app), what="the refusal")
            assert isinstance(app.screen, ConfirmActionModal)  # a wrong name sends nothing
            assert list(console.audit.records()) == []
            await pilot.press(*["backspace"] * len("prod-az2"), *"prod-az1", "enter")
            await wait_for(pilot, lambda: any("request id" in n for n in notifications(app)), within=15)
            await wait_for(
                pilot,
                lambda: any(
                    (r := screen.executions.row(k)) is not None and r.cell("type").plain == "↩ rollback"
                    for k in screen.executions.keys
                ),
                within=20,
                what="the ROLLBACK execution on screen",
            )
        latest = (await in_thread(stage_state, cp, name, "Prod-AZ1"))["latestExecution"]
        assert latest["type"] == "ROLLBACK"
        records = list(console.audit.records())
        assert [(r["phase"], r["action"]) for r in records] == [("intent", "rollback"), ("result", "rollback")]
        assert records[0]["production"] is True
        assert records[1]["new_execution"] == latest["pipelineExecutionId"]


async def test_retry_the_failed_stage(own_sandbox: SandboxProcess, tmp_path: Path) -> None:
    async with sandbox_console(own_sandbox, tmp_path) as console:
        cp = console.client("codepipeline")
        name = await in_thread(
            create,
            cp,
            source(),
            stage(
                "Gamma",
                action("Canaries", "Test", SandboxOutcome="Failed", SandboxError="canary red", SandboxDuration="1"),
            ),
            prefix="ui-pl-retry",
        )
        execution_id = await in_thread(start, cp, name)
        assert await in_thread(wait_status, cp, name, execution_id) == "Failed"
        app = console.build()
        async with app.run_test(size=(120, 36)) as pilot:
            screen = await open_in_sandbox(pilot, app, name)
            await wait_for(pilot, lambda: cell(screen, stage_key("Gamma")) == "✗ failed", within=20)
            assert "canary red" in cell(screen, action_key("Gamma", "Canaries"), "detail")
            await select(pilot, screen, stage_key("Gamma"))
            await pilot.press("r")
            modal = await confirm(pilot, app, "flaky canary, retrying")
            assert modal.plan.selection.stage == "Gamma"

        def ran_twice() -> bool:
            return len([r for r in action_runs(cp, name, execution_id) if r["actionName"] == "Canaries"]) == 2

        await in_thread(wait_until, ran_twice, what="Canaries to run again")
        assert audit_actions(console) == [("intent", "retry", f"{name}/Gamma"), ("result", "retry", f"{name}/Gamma")]


async def test_pause_and_resume_promotion_into_the_selected_stage(own_sandbox: SandboxProcess, tmp_path: Path) -> None:
    async with sandbox_console(own_sandbox, tmp_path) as console:
        cp = console.client("codepipeline")
        name = await in_thread(
            create,
            cp,
            source(),
            stage("Beta", action("Deploy", "Deploy", "CodeDeploy", SandboxDuration="1")),
            stage("Prod-AZ1", action("Deploy", "Deploy", "CodeDeploy", SandboxDuration="1")),
            prefix="ui-pl-pause",
        )
        app = console.build()
        async with app.run_test(size=(120, 36)) as pilot:
            screen = await open_in_sandbox(pilot, app, name)
            row = stage_key("Prod-AZ1")
            await select(pilot, screen, row)
            await pilot.press("p")
            await confirm(pilot, app, "Holiday freeze", wave="prod-az1")
            await wait_for(pilot, lambda: cell(screen, row, "name") == "‖ Prod-AZ1", within=20, what="paused on screen")
            assert "Holiday freeze" in cell(screen, row, "detail")
            inbound = (await in_thread(stage_state, cp, name, "Prod-AZ1"))["inboundTransitionState"]
            assert inbound["enabled"] is False
            assert inbound["disabledReason"] == "Holiday freeze"
            await pilot.press("p")
            modal = await confirm(pilot, app, "freeze over", wave="prod-az1")
            assert modal.plan.kind.value == "resume"
            await wait_for(pilot, lambda: cell(screen, row, "name") == "Prod-AZ1", within=20, what="resumed on screen")
        inbound = (await in_thread(stage_state, cp, name, "Prod-AZ1"))["inboundTransitionState"]
        assert inbound["enabled"] is True
        assert [(p, a) for p, a, _ in audit_actions(console)] == [
            ("intent", "pause"),
            ("result", "pause"),
            ("intent", "resume"),
            ("result", "resume"),
        ]


async def test_fleet_to_pipeline_to_its_step_functions_execution_and_back(
    own_sandbox: SandboxProcess, tmp_path: Path
) -> None:
    async with sandbox_console(own_sandbox, tmp_path) as console:
        cp, sfn = console.client("codepipeline"), console.client("stepfunctions")
        definition = {"StartAt": "Bake", "States": {"Bake": {"Type": "Wait", "Seconds": 4000, "End": True}}}
        machine = (
            await in_thread(
                sfn.create_state_machine,
                name=unique("ui-pl-sfn"),
                definition=json.dumps(definition),
                roleArn=f"arn:aws:iam::{ACCOUNT_ID}:role/{SFN_ROLE}",
            )
        )["stateMachineArn"]
        invoke = action("LoadTest", "Invoke", "StepFunctions", StateMachineArn=machine, Input=json.dumps({"shards": 2}))
        name = await in_thread(create, cp, source(), stage("Beta", invoke), prefix="ui-pl-goto")
        await in_thread(start, cp, name)
        app = console.build()
        arn = ""
        async with app.run_test(size=(120, 36)) as pilot:
            screen = await open_in_sandbox(pilot, app, name)
            row = action_key("Beta", "LoadTest")
            await wait_for(pilot, lambda: "⇢ g" in cell(screen, row, "run"), within=20, what="the execution started")
            await select(pilot, screen, row)
            await pilot.press("g")
            detail = await wait_for(pilot, lambda: isinstance(app.screen, ExecutionScreen) and app.screen)
            arn = detail.arn
            assert arn.startswith(f"arn:aws:states:{REGION}:{ACCOUNT_ID}:execution:")
            # Its history streams in: the watcher reads it while the screen is shown.
            await wait_for(pilot, lambda: "1" in detail.history_table.keys, within=20, what="ExecutionStarted")
            await wait_for(pilot, lambda: detail.states_table.keys == ("Bake",), within=20, what="the Bake state")
            bake = detail.states_table.row("Bake")
            assert bake is not None
            assert bake.cell("status").plain == "▶ running"
            await pilot.press("escape")
            await wait_for(pilot, lambda: app.screen is screen, what="back on the pipeline")
            assert screen.stages.highlighted_key == row
            await pilot.press("escape")
            await wait_for(pilot, lambda: isinstance(app.screen, FleetScreen), what="back on the fleet")
        await in_thread(sfn.stop_execution, executionArn=arn, error="test.Done", cause="the test is over")
