"""The pipeline screen on fixed pictures: stages by wave, actions, details, executions, keys and their reasons,
cursor and partial updates, staleness, literal text, 80x24, NO_COLOR, snapshots."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from console.actions.gate import ActionKind
from console.codepipeline.model import SERVICE as CODEPIPELINE
from console.codepipeline.model import pipelines_of
from console.model import FleetState
from screens.confirm.screen import ConfirmActionModal
from screens.execution.screen import ExecutionScreen
from screens.fleet.pipelines import PIPELINES
from screens.fleet.screen import FleetScreen
from screens.help.screen import HelpScreen, help_rows
from screens.pipeline.rows import action_key, stage_key
from screens.pipeline.screen import PipelineScreen
from screens.widgets.payload_modal import PayloadModal
from tests.ui.conftest import FakeGate, notifications, rendered, rendered_lines, wait_for
from tests.ui.test_fleet import highlight
from tests.ui.test_pipeline_support import (
    EXECUTION_ARN,
    FAILED_RUN,
    LATEST,
    PIPELINE_KEY,
    ROLLBACK_RUN,
    HistoryWatcher,
    pipeline_picture,
)


@pytest.fixture
def picture() -> FleetState:
    """These tests' fixed picture: the fleet with a checkout-api that has everything the screen shows."""
    return pipeline_picture()


@pytest.fixture
def fake_watcher(picture: FleetState) -> HistoryWatcher:
    return HistoryWatcher(picture)


async def open_pipeline(pilot: Any, app: Any, key: str = PIPELINE_KEY) -> PipelineScreen:
    """From the fleet, as an operator would: move to the pipeline, press enter."""
    fleet = app.screen
    assert isinstance(fleet, FleetScreen)
    await highlight(pilot, fleet, key)
    await pilot.press("enter")
    return await wait_for(pilot, lambda: isinstance(app.screen, PipelineScreen) and app.screen, what="the pipeline")


async def move_to(pilot: Any, screen: PipelineScreen, row: str) -> None:
    """Move the stages cursor to `row` with j / k."""
    keys = list(screen.stages.keys)
    while screen.stages.highlighted_key != row:
        current = keys.index(screen.stages.highlighted_key or keys[0])
        await pilot.press("j" if current < keys.index(row) else "k")


def row_text(screen: PipelineScreen, key: str, table: str = "stages") -> str:
    """The row's cells in full (before they are cut to their columns), joined by spaces."""
    found = screen.stages if table == "stages" else screen.executions
    row = found.row(key)
    assert row is not None, key
    return " ".join(row.cell(c.key).plain for c in found.columns)


def detail(screen: PipelineScreen) -> str:
    assert screen._detail is not None
    return screen._detail.plain


async def test_enter_on_a_pipeline_opens_it_and_escape_goes_back(console_app: Any, fake_watcher: Any) -> None:
    app = console_app()
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await open_pipeline(pilot, app)
        assert screen.key == PIPELINE_KEY
        assert "checkout-api · us-east-1 · V2 QUEUED · latest ▶ in progress 5f1d2c3b" in rendered(app)
        assert fake_watcher.focused[-1] == (PIPELINE_KEY,)  # the watcher reads it at the focused interval
        assert fake_watcher.detailed[-1] == PIPELINE_KEY  # and keeps its whole recent history
        await pilot.press("escape")
        await wait_for(pilot, lambda: isinstance(app.screen, FleetScreen), what="the fleet again")
        await wait_for(pilot, lambda: fake_watcher.detailed[-1] is None, what="no detail in the list")


async def test_stages_are_grouped_by_wave_with_their_actions(console_app: Any) -> None:
    app = console_app()
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await open_pipeline(pilot, app)
        stages = [k for k in screen.stages.keys if k.startswith("stage:")]
        names = ["Source", "Build", "Alpha", "Beta", "Gamma", "Prod-Canary", "Prod-AZ1", "Prod-AZ2"]
        assert stages == [stage_key(n) for n in names]
        # Each stage is followed by its actions, in run order.
        beta = screen.stages.keys.index(stage_key("Beta"))
        assert screen.stages.keys[beta + 1 : beta + 3] == (action_key("Beta", "Deploy"), action_key("Beta", "LoadTest"))
        waves = [screen.stages.row(k).cell("wave").plain for k in stages]
        # Source and Build come before the waves; each wave is named where it begins.
        assert waves == ["—", "", "alpha", "beta", "gamma", "▲ prod-canary", "▲ prod-az1", "▲ prod-az2"]
        assert row_text(screen, stage_key("Gamma")).split()[1:4] == ["Gamma", "✗", "failed"]
        assert "⚑ approval" in row_text(screen, stage_key("Prod-Canary"))
        assert "‖ Prod-AZ1" in row_text(screen, stage_key("Prod-AZ1"))
        assert "‖ paused: Holiday freeze · ⧗ 1 waiting to enter" in row_text(screen, stage_key("Prod-AZ1"))
        canaries = row_text(screen, action_key("Gamma", "Canaries"))
        assert "JobFailed: Synthetic canary GetOrder" in canaries
        assert "StepFunctions ⇢ g" in row_text(screen, action_key("Beta", "LoadTest"))
        assert "· not run" in row_text(screen, stage_key("Prod-AZ2"))


async def test_the_cursor_starts_on_what_needs_a_person(console_app: Any) -> None:
    app = console_app()
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await open_pipeline(pilot, app)
        assert screen.stages.highlighted_key == action_key("Prod-Canary", "ApproveProduction")
        text = detail(screen)
        assert "ApproveProduction  ⚑ approval  Approval · Manual" in text
        assert "Asks: Gamma canaries are green. Promote this revision to production?" in text
        assert "Link: https://wiki.example.com/runbooks/promotion" in text
        assert "started 02:56:00 (4m ago) · running for 4m" in text


async def test_details_show_errors_external_ids_and_the_inbound_transition(console_app: Any) -> None:
    app = console_app()
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await open_pipeline(pilot, app)
        await move_to(pilot, screen, action_key("Gamma", "Canaries"))
        text = detail(screen)
        assert "Error: JobFailed: Synthetic canary GetOrder breached p99 latency (812 ms > 500 ms)" in text
        assert "External id: canaries:8f2c" in text
        assert "URL: https://console.example/codebuild/canaries:8f2c" in text
        await move_to(pilot, screen, stage_key("Prod-AZ1"))
        text = detail(screen)
        assert "‖ paused: promotion into Prod-AZ1 is held by arn:aws:iam::123456789012:user/oncall" in text
        assert "at 02:00:00 (1h ago) — Holiday freeze" in text
        assert "Waiting to enter: 5f1d2c3b (in progress)" in text
        assert f"Execution: {ROLLBACK_RUN} (STANDARD)" in text
        await move_to(pilot, screen, action_key("Beta", "LoadTest"))
        text = detail(screen)
        assert f"External id: {EXECUTION_ARN}  (g opens this execution)" in text


async def test_enter_shows_the_whole_detail_of_the_row(console_app: Any) -> None:
    app = console_app()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_pipeline(pilot, app)
        await pilot.press("enter")  # on the approval: not a Step Functions action, so its detail in full
        modal = await wait_for(pilot, lambda: isinstance(app.screen, PayloadModal) and app.screen)
        assert modal.title_text == "checkout-api / Prod-Canary / ApproveProduction"
        assert "a approves · x rejects (with a reason)" in modal.text
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.screen is screen)


async def test_the_execution_history_shows_trigger_revision_type_and_timing(console_app: Any) -> None:
    app = console_app()
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await open_pipeline(pilot, app)
        assert screen.executions.keys == (LATEST, FAILED_RUN, ROLLBACK_RUN)
        assert row_text(screen, ROLLBACK_RUN, "executions").split()[:6] == [
            "9e8d7c6b",
            "✓",
            "succeeded",
            "↩",
            "rollback",
            "manual",
        ]
        failed = row_text(screen, FAILED_RUN, "executions")
        assert "manual start" in failed
        assert "77aa88bb Raise connection pool ceiling" in failed
        assert "40m ago" in failed
        assert "33m" in failed
        await pilot.press("tab")  # to the executions
        await pilot.press("j", "j")
        await wait_for(pilot, lambda: screen.executions.highlighted_key == ROLLBACK_RUN)
        text = detail(screen)
        assert f"{ROLLBACK_RUN}  ✓ succeeded  ROLLBACK" in text
        assert "Rolls back to: exec-ffff" in text
        assert "Trigger: manual rollback" in text
        assert "took 20m" in text


async def test_g_opens_the_step_functions_execution_and_escape_comes_back(
    console_app: Any, fake_watcher: HistoryWatcher
) -> None:
    app = console_app()
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await open_pipeline(pilot, app)
        assert not app.screen.active_bindings["g"].enabled  # an approval is selected: nothing to go to
        await pilot.press("g")
        await wait_for(pilot, lambda: any("not a Step Functions action" in n for n in notifications(app)))
        await move_to(pilot, screen, action_key("Beta", "LoadTest"))
        assert app.screen.active_bindings["g"].enabled
        await pilot.press("g")
        execution = await wait_for(pilot, lambda: isinstance(app.screen, ExecutionScreen) and app.screen)
        assert execution.arn == EXECUTION_ARN
        assert fake_watcher.watched[-1] == ("sandbox/us-east-1", EXECUTION_ARN)
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.screen is screen, what="the pipeline again")
        assert fake_watcher.watched[-1] == ("sandbox/us-east-1", None)  # leaving stops the detailed reads
        assert screen.stages.highlighted_key == action_key("Beta", "LoadTest")


async def test_keys_act_on_the_selection_and_say_why_not(console_app: Any, fake_gate: FakeGate) -> None:
    app = console_app()
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await open_pipeline(pilot, app)
        bindings = lambda: app.screen.active_bindings  # noqa: E731
        await move_to(pilot, screen, stage_key("Source"))
        assert not bindings()["p"].enabled
        assert screen.why_unavailable("pause") == "Source is the first stage: it has no inbound transition"
        assert not bindings()["b"].enabled  # the gate: a source stage cannot be rolled back
        assert screen.why_unavailable("rollback") == "a source stage cannot be rolled back"
        # Source has not failed: retry falls back to the stage of the pipeline that did.
        assert bindings()["r"].enabled
        assert [c.selection.stage for c in screen.action_choices("retry").choices] == ["Gamma"]
        await move_to(pilot, screen, stage_key("Prod-AZ2"))
        assert screen.why_unavailable("rollback") == "nothing has been deployed to Prod-AZ2 yet"
        await move_to(pilot, screen, stage_key("Prod-AZ1"))
        pause = screen.action_choices("pause").choices
        assert [(c.kind, c.selection.stage) for c in pause] == [(ActionKind.RESUME, "Prod-AZ1")]
        await pilot.press("tab")
        await wait_for(pilot, lambda: screen.executions.has_focus)
        assert (
            screen.why_unavailable("pause") == "select the stage whose promotion to pause or resume (tab to the stages)"
        )
        assert bindings()["s"].enabled  # the newest execution is running
        await pilot.press("j")  # the failed one: nothing to stop there, so the pipeline's running one
        assert [c.selection.execution_id for c in screen.action_choices("stop").choices] == [LATEST]


async def test_approve_from_the_pipeline_acts_on_the_selected_approval(console_app: Any, fake_gate: FakeGate) -> None:
    app = console_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await open_pipeline(pilot, app)
        await pilot.press("a")
        modal = await wait_for(pilot, lambda: isinstance(app.screen, ConfirmActionModal) and app.screen)
        kind, selection = fake_gate.planned[-1]
        assert kind is ActionKind.APPROVE
        assert (selection.pipeline, selection.stage, selection.action, selection.execution_id) == (
            "checkout-api",
            "Prod-Canary",
            "ApproveProduction",
            LATEST,
        )
        assert modal.plan.production
        await pilot.press("escape")
        await wait_for(pilot, lambda: any("Nothing was sent" in n for n in notifications(app)))


async def test_retry_and_rollback_name_the_selected_stage(console_app: Any, fake_gate: FakeGate) -> None:
    app = console_app()
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await open_pipeline(pilot, app)
        await move_to(pilot, screen, stage_key("Gamma"))
        await pilot.press("r")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmActionModal))
        assert fake_gate.planned[-1][0] is ActionKind.RETRY
        assert fake_gate.planned[-1][1].stage == "Gamma"
        assert fake_gate.planned[-1][1].execution_id == FAILED_RUN
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.screen is screen)
        await move_to(pilot, screen, stage_key("Prod-AZ1"))
        await pilot.press("b")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmActionModal))
        assert fake_gate.planned[-1][0] is ActionKind.ROLLBACK
        assert fake_gate.planned[-1][1].stage == "Prod-AZ1"


async def test_read_only_shows_every_action_unavailable_with_the_reason(console_app: Any, picture: FleetState) -> None:
    gate = FakeGate([s.target for s in picture.targets], read_only=True)
    app = console_app(gate=gate, read_only_reason="started with --read-only")
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await open_pipeline(pilot, app)
        for key in "axsSbrp":
            assert not app.screen.active_bindings[key].enabled, key
        assert (screen.why_unavailable("approve") or "").startswith("read-only")
        await pilot.press("a")
        await wait_for(pilot, lambda: any("read-only" in n for n in notifications(app)), what="the read-only notice")
        assert gate.planned == []


async def test_updates_keep_the_cursor_and_touch_only_changed_cells(
    console_app: Any, fake_watcher: HistoryWatcher
) -> None:
    app = console_app()
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await open_pipeline(pilot, app)
        await move_to(pilot, screen, stage_key("Gamma"))
        table = screen.stages
        refreshed: list[Any] = []
        original_refresh = table.refresh

        def refresh(*regions: Any, **kwargs: Any) -> Any:
            refreshed.append(regions)
            return original_refresh(*regions, **kwargs)

        table.refresh = refresh  # type: ignore[method-assign]
        line = 1 + table.keys.index(stage_key("Prod-AZ2")) - table.first_shown  # under the header
        state = fake_watcher.state
        checkout = pipelines_of(state)[PIPELINE_KEY]
        az2 = replace(checkout.stages[-1], status="InProgress", execution_id=LATEST)
        changed = replace(checkout, stages=(*checkout.stages[:-1], az2))
        fake_watcher.publish(state.with_resources(CODEPIPELINE, {**pipelines_of(state), PIPELINE_KEY: changed}))
        await wait_for(pilot, lambda: "▶ in progress" in row_text(screen, stage_key("Prod-AZ2")))
        # Only the changed row's line is drawn again, not the table.
        assert [[(r.y, r.height) for r in regions] for regions in refreshed] == [[(line, 1)]]
        assert screen.stages.highlighted_key == stage_key("Gamma")


async def test_a_stale_pipeline_says_so(console_app: Any, fake_watcher: HistoryWatcher) -> None:
    app = console_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await open_pipeline(pilot, app)
        state = fake_watcher.state
        from tests.ui.conftest import ago

        checkout = replace(pipelines_of(state)[PIPELINE_KEY], read_at=ago(95))
        fake_watcher.publish(state.with_resources(CODEPIPELINE, {**pipelines_of(state), PIPELINE_KEY: checkout}))
        await wait_for(pilot, lambda: "≈ stale: last read 1m ago" in rendered(app), what="the stale mark")


async def test_names_and_summaries_from_aws_are_literal(console_app: Any) -> None:
    app = console_app()
    async with app.run_test(size=(120, 36)) as pilot:
        fleet = app.screen
        key = next(k for k in fleet.views[PIPELINES].keys if "markup" in k)
        await open_pipeline(pilot, app, key)
        text = rendered(app)
        assert "[b]markup[/b]-svc" in text
        assert "[red]not red[/red]" in text
        assert "\x1b" not in text


async def test_help_lists_the_pipeline_keys(console_app: Any) -> None:
    app = console_app()
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await open_pipeline(pilot, app)
        rows = {row.description: row for row in help_rows(screen)}
        for description in (
            "Approve",
            "Reject",
            "Stop (let running actions finish)",
            "Stop and abandon running actions",
            "Roll back to the last good execution",
            "Retry the failed stage / redrive",
            "Pause / resume promotion into the stage",
            "Go to the linked execution",
            "Back",
        ):
            assert description in rows, description
        assert not rows["Go to the linked execution"].enabled
        assert (
            rows["Go to the linked execution"].reason
            == "the selection is not a Step Functions action (nothing to go to)"
        )
        await pilot.press("f1")
        await wait_for(pilot, lambda: isinstance(app.screen, HelpScreen))
        await wait_for(pilot, lambda: "Keys — Pipeline" in rendered(app))


async def test_80x24_keeps_what_matters_on_screen(console_app: Any, no_color: None) -> None:
    app = console_app()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_pipeline(pilot, app)
        await wait_for(pilot, lambda: "ApproveProduction  ⚑ approval" in rendered(app), what="the detail drawn")
        lines = rendered_lines(app)
        assert all(len(line) <= 80 for line in lines)
        text = "\n".join(lines)
        assert "checkout-api · us-east-1" in text
        assert "⚑ approval" in text  # the cursor's row is scrolled into view
        assert "ApproveProduction  ⚑ approval" in text  # its detail
        assert "Execution  Status" in text  # the executions' header
        assert "5f1d2c3b   ▶ in progress" in text
        assert lines[-1].strip().startswith("? Help")
        assert [c.key for c in screen.stages.columns] == ["wave", "name", "status", "detail", "changed"]


def test_snapshot_pipeline_120x36(snap_compare: Any, console_app: Any) -> None:
    async def run_before(pilot: Any) -> None:
        await open_pipeline(pilot, pilot.app)

    assert snap_compare(console_app(), run_before=run_before, terminal_size=(120, 36))


def test_snapshot_pipeline_80x24(snap_compare: Any, console_app: Any) -> None:
    async def run_before(pilot: Any) -> None:
        await open_pipeline(pilot, pilot.app)

    assert snap_compare(console_app(), run_before=run_before, terminal_size=(80, 24))


def test_snapshot_pipeline_executions(snap_compare: Any, console_app: Any) -> None:
    async def run_before(pilot: Any) -> None:
        screen = await open_pipeline(pilot, pilot.app)
        await pilot.press("tab", "j", "j")
        await wait_for(pilot, lambda: screen.executions.highlighted_key == ROLLBACK_RUN, what="the rollback run")

    assert snap_compare(console_app(), run_before=run_before, terminal_size=(120, 36))
