"""Stage conditions on the screens with fixed data: the wave board's mark, the pipeline screen's condition rows
and detail, the override key's availability, at 80×24 and without colour.

checkout-api bakes in Prod-AZ1 (a success condition on an alarm, started 1 minute ago with a WaitTime of 5),
and its Prod-AZ2 waits for a deployment window to open (an entry condition).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from console.codepipeline.model import SERVICE as CODEPIPELINE
from console.codepipeline.model import Condition, ConditionKind, Rule, StageCondition, pipelines_of
from console.model import FleetState
from screens.confirm.screen import ConfirmActionModal
from screens.fleet.pipelines import PIPELINES
from screens.fleet.screen import FleetScreen
from screens.pipeline.rows import condition_key, stage_key
from tests.ui.conftest import ago, all_waves, fleet_picture, pipeline, rendered, stage, wait_for
from tests.ui.test_fleet import highlight
from tests.ui.test_pipeline import move_to, open_pipeline

KEY = "sandbox/us-east-1:checkout-api"
BAKE = Rule(
    "ZoneBake",
    "CloudWatchAlarm",
    (("AlarmName", "Prod-Latency-p99,Prod-5xx"), ("WaitTime", "5")),
    "InProgress",
    "Baking until 03:04:00, watching Prod-Latency-p99 OK, Prod-5xx OK",
    last_status_change=ago(60),
)
WINDOW = Rule(
    "BusinessHours",
    "DeploymentWindow",
    (("Cron", "0 0 9-17 ? * MON-FRI *"), ("TimeZone", "Europe/Berlin")),
    "InProgress",
    "Deployment window is closed; it opens at 09:00",
    last_status_change=ago(120),
)


def conditioned_picture() -> FleetState:
    base = fleet_picture()
    baking = replace(
        stage("Prod-AZ1", "InProgress"),
        conditions=(
            StageCondition(
                ConditionKind.ON_SUCCESS,
                (Condition("ROLLBACK", (BAKE,), "InProgress", BAKE.summary),),
                status="InProgress",
                summary=BAKE.summary,
            ),
        ),
    )
    waiting = replace(
        stage("Prod-AZ2", "InProgress", actions=()),
        conditions=(
            StageCondition(
                ConditionKind.BEFORE_ENTRY,
                (Condition("FAIL", (WINDOW,), "InProgress", WINDOW.summary),),
                status="InProgress",
                summary=WINDOW.summary,
            ),
            StageCondition(ConditionKind.ON_FAILURE, result="ROLLBACK"),
        ),
    )
    checkout = pipeline("checkout-api", all_waves(baking, waiting), status="InProgress")
    return base.with_resources(CODEPIPELINE, {**pipelines_of(base), KEY: checkout})


@pytest.fixture
def picture() -> FleetState:
    return conditioned_picture()


async def test_the_board_marks_a_bake_and_a_closed_window_in_glyph_and_word_at_80x24(
    console_app: Any, no_color: None
) -> None:
    app = console_app()
    async with app.run_test(size=(80, 24)) as pilot:
        fleet = app.screen
        assert isinstance(fleet, FleetScreen)
        await wait_for(pilot, lambda: KEY in fleet.views[PIPELINES].keys, what="checkout-api")
        await highlight(pilot, fleet, KEY)
        board = await wait_for(pilot, lambda: fleet._board.cells and fleet._board)
        marks = {cell.wave.name: cell.hold(fleet.now()) for cell in board.cells}
        assert marks["prod-az1"] == "◷ bake 4m"
        assert marks["prod-az2"] == "◆ window"
        assert marks["prod-canary"] == ""
        text = await wait_for(pilot, lambda: "◷ bake 4m" in rendered(app) and rendered(app), what="the board")
        assert "◆ window" in text


async def test_the_pipeline_screen_lists_each_condition_rule_and_the_override_key(console_app: Any) -> None:
    app = console_app()
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await open_pipeline(pilot, app, KEY)
        bake = condition_key("Prod-AZ1", ConditionKind.ON_SUCCESS, "ZoneBake")
        window = condition_key("Prod-AZ2", ConditionKind.BEFORE_ENTRY, "BusinessHours")
        failure = condition_key("Prod-AZ2", ConditionKind.ON_FAILURE, None)
        await wait_for(pilot, lambda: bake in screen.stages.keys, what="the condition rows")
        keys = list(screen.stages.keys)
        # Entry conditions before the stage's actions, success and failure conditions after them.
        assert keys.index(stage_key("Prod-AZ2")) < keys.index(window) < keys.index(failure)
        assert keys.index("action:Prod-AZ1/Deploy") < keys.index(bake)

        def cells(key: str) -> dict[str, str]:
            row = screen.stages.row(key)
            assert row is not None
            return {c: row.cell(c).plain for c in ("name", "status", "run", "detail")}

        assert cells(bake) == {
            "name": " ◇ success: ZoneBake",
            "status": "◷ bake 4m",
            "run": "CloudWatchAlarm",
            "detail": "alarms Prod-Latency-p99, Prod-5xx · 4m left of 5m · " + BAKE.summary,
        }
        assert cells(window)["status"] == "◆ window"
        assert cells(window)["detail"].startswith("window 0 0 9-17 ? * MON-FRI * (Europe/Berlin) · ")
        assert cells(failure) == {"name": " ◇ failure", "status": "· not run", "run": "", "detail": "result ROLLBACK"}
        assert cells(stage_key("Prod-AZ1"))["detail"].startswith("◷ bake 4m · alarms Prod-Latency-p99, Prod-5xx")

        await move_to(pilot, screen, bake)
        detail = rendered(app)
        assert "On success conditions (ROLLBACK): ◷ bake 4m — Baking until" in detail
        assert "ZoneBake CloudWatchAlarm ▶ in progress · alarms Prod-Latency-p99, Prod-5xx · 4m left of 5m" in detail
        assert "O overrides the on success condition (with a reason)" in detail
        assert screen.action_unavailable("override") is None

        await move_to(pilot, screen, stage_key("Gamma"))
        assert screen.action_unavailable("override") == "no condition holds Gamma now"

        await move_to(pilot, screen, window)
        await pilot.press("O")
        modal = await wait_for(pilot, lambda: isinstance(app.screen, ConfirmActionModal) and app.screen)
        assert modal.plan.selection.stage == "Prod-AZ2"
        assert modal.plan.confirm_word == "prod-az2"
