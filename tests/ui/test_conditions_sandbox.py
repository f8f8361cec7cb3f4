"""Stage conditions on the screens, end to end: the real watcher and gate against a sandbox over HTTP.

A pipeline whose Prod-Canary stage may be entered only while an alarm is quiet, started while the alarm
fires: the fleet's wave board marks the wave held (◆ alarm), the pipeline screen lists the entry condition's
rule with its provider, status and the alarm it watches, the approvals inbox lists the held stage, and `O`
overrides the condition through the confirmation (reason, the wave's name) with its audit record.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from console.codepipeline.model import ConditionKind
from console.sandbox_process import SandboxProcess
from screens.approvals.screen import ApprovalsScreen
from screens.confirm.screen import ConfirmActionModal
from screens.fleet.screen import FleetScreen
from screens.pipeline.rows import condition_key, stage_key
from tests.conftest import unique
from tests.sandbox.test_codepipeline_support import action, create, source, stage, start, wait_status
from tests.ui.conftest import notifications, rendered, wait_for
from tests.ui.test_pipeline_sandbox import cell, open_in_sandbox, select
from tests.ui.test_pipeline_support import in_thread, sandbox_console


def held_by_alarm(cp: Any, cloudwatch: Any) -> tuple[str, str, str]:
    """A pipeline whose execution waits before Prod-Canary for an alarm in ALARM: (pipeline, execution, alarm)."""
    alarm = unique("Prod-5xx")
    cloudwatch.put_metric_alarm(
        AlarmName=alarm,
        MetricName="5XXError",
        Namespace="AWS/ApiGateway",
        Statistic="Sum",
        Period=60,
        EvaluationPeriods=1,
        Threshold=1.0,
        ComparisonOperator="GreaterThanOrEqualToThreshold",
    )
    cloudwatch.set_alarm_state(AlarmName=alarm, StateValue="ALARM", StateReason="test")
    rule = {
        "name": "QuietProduction",
        "ruleTypeId": {"category": "Rule", "owner": "AWS", "provider": "CloudWatchAlarm", "version": "1"},
        "configuration": {"AlarmName": alarm, "WaitTime": "60"},
    }
    canary = stage("Prod-Canary", action("Deploy", "Deploy", "CodeDeploy", SandboxDuration="1"))
    canary["beforeEntry"] = {"conditions": [{"result": "FAIL", "rules": [rule]}]}
    name = create(cp, source(), canary, prefix="ui-cond")
    return name, start(cp, name), alarm


async def test_a_held_wave_on_the_board_the_pipeline_and_the_inbox_and_its_override(
    own_sandbox: SandboxProcess, tmp_path: Path
) -> None:
    async with sandbox_console(own_sandbox, tmp_path) as console:
        cp = console.client("codepipeline")
        name, execution_id, alarm = await in_thread(held_by_alarm, cp, console.client("cloudwatch"))
        app = console.build()
        async with app.run_test(size=(120, 36)) as pilot:
            # The inbox: the held stage is something only a person can end.
            await pilot.press("3")
            inbox = await wait_for(pilot, lambda: isinstance(app.screen, ApprovalsScreen) and app.screen)
            await wait_for(pilot, lambda: f"◆ {name}/Prod-Canary" in rendered(app), within=30, what="the inbox row")
            held = next(a for a in app.console_context.state.approvals if a.resource == f"{name}/Prod-Canary")
            assert held.condition is ConditionKind.BEFORE_ENTRY
            assert f"entry held by alarm {alarm}" in held.custom_data
            assert inbox.action_unavailable("approve") == (
                "a condition holds this stage, not an approval: override it instead"
            )
            assert inbox.action_unavailable("override") is None
            await pilot.press("1")
            fleet = await wait_for(pilot, lambda: isinstance(app.screen, FleetScreen) and app.screen)

            # The board: the production wave reads held, by an alarm, in a glyph and a word.
            screen = await open_in_sandbox(pilot, app, name)
            # alpha, beta, gamma, prod-canary; then the time left before the condition gives up and fails the stage.
            assert fleet._board.cells[3].hold(fleet.now()).startswith("◆ alarm ")

            # The pipeline screen: the entry condition's rule, its provider, status and the alarm it watches.
            row = condition_key("Prod-Canary", ConditionKind.BEFORE_ENTRY, "QuietProduction")
            await wait_for(pilot, lambda: cell(screen, row).startswith("◆ alarm"), within=20, what="the condition row")
            assert cell(screen, row, "run") == "CloudWatchAlarm"
            assert cell(screen, row, "detail").startswith(f"alarm {alarm} · ")
            assert f"{alarm} is ALARM" in cell(screen, row, "detail")
            assert f" · alarm {alarm}" in cell(screen, stage_key("Prod-Canary"), "detail")

            # The override: the key on the condition's row, the plan, a reason and the wave's name.
            await select(pilot, screen, row)
            await pilot.press("O")
            modal = await wait_for(pilot, lambda: isinstance(app.screen, ConfirmActionModal) and app.screen, within=15)
            lines = dict(modal.plan.lines)
            assert lines["Condition"] == "before entry, result FAIL"
            assert lines["Execution"] == execution_id
            assert f"alarm {alarm}" in lines["Rule"]
            assert modal.plan.confirm_word == "prod-canary"
            await pilot.press(*"known false positive", "enter", *"prod-canary", "enter")
            await wait_for(pilot, lambda: any("request id" in n for n in notifications(app)), within=15)
            await wait_for(pilot, lambda: cell(screen, row) == "» overridden", within=20, what="overridden on screen")
        assert await in_thread(wait_status, cp, name, execution_id) == "Succeeded"
        records = list(console.audit.records())
        assert [(r["phase"], r["action"], r["resource"]) for r in records] == [
            ("intent", "override", f"{name}/Prod-Canary"),
            ("result", "override", f"{name}/Prod-Canary"),
        ]
        assert records[0]["reason"] == "known false positive"
        assert records[0]["request"]["conditionType"] == "BEFORE_ENTRY"
