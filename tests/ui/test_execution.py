"""The execution screen on a fixed history: states with the current one marked, the history streaming in,
the waiting approval and what it asks, input / output / events in full, filter, the watcher told, snapshots."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

import pytest

from console.actions.gate import ActionKind
from console.model import FleetState
from console.stepfunctions.model import SERVICE as STEPFUNCTIONS
from console.stepfunctions.model import state_machines_of
from screens.confirm.screen import ConfirmActionModal
from screens.execution.rows import from_history, state_runs
from screens.execution.screen import ExecutionScreen
from screens.widgets.payload_modal import PayloadModal, pretty
from tests.ui.conftest import FakeGate, notifications, rendered, rendered_lines, wait_for
from tests.ui.test_pipeline_support import (
    ASK,
    EXECUTION_ARN,
    MACHINE_ARN,
    TARGET,
    HistoryWatcher,
    execution_picture,
    finished_history,
    waiting_history,
)

MACHINE_KEY = f"{TARGET}:wave-deployment"


@pytest.fixture
def picture() -> FleetState:
    return execution_picture()


@pytest.fixture
def fake_watcher(picture: FleetState) -> HistoryWatcher:
    return HistoryWatcher(picture, {EXECUTION_ARN: waiting_history()})


async def open_execution(pilot: Any, app: Any) -> ExecutionScreen:
    """Pipelines → state machines (2) → wave-deployment → its newest execution."""
    await pilot.press("2", "j", "enter")
    await wait_for(pilot, lambda: type(app.screen).__name__ == "StateMachineScreen", what="the state machine")
    await pilot.press("enter")
    return await wait_for(pilot, lambda: isinstance(app.screen, ExecutionScreen) and app.screen, what="the execution")


def finished_picture(state: FleetState) -> FleetState:
    machine = state_machines_of(state)[MACHINE_KEY]
    done = replace(
        machine.executions[0],
        status="SUCCEEDED",
        stopped=machine.executions[0].started and machine.executions[0].started.replace(minute=59),
        output=json.dumps({"deployed": "a1b2c3d4e5f6"}),
    )
    machine = replace(machine, executions=(done, *machine.executions[1:]))
    approvals = tuple(a for a in state.approvals if a.execution != EXECUTION_ARN)
    return replace(
        state.with_resources(STEPFUNCTIONS, {**state_machines_of(state), MACHINE_KEY: machine}), approvals=approvals
    )


async def test_states_events_and_the_waiting_approval(console_app: Any, fake_watcher: HistoryWatcher) -> None:
    app = console_app()
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await open_execution(pilot, app)
        assert fake_watcher.watched[-1] == (TARGET, EXECUTION_ARN)
        assert fake_watcher.focused[-1] == (MACHINE_KEY,)
        text = rendered(app)
        assert "wave-deployment / deploy-checkout-7  ▶ running  started 02:55:00 · running for 5m" in text
        assert f"⚑ ApprovePromotion waits for a person: {ASK}" in text
        assert "revision a1b2c3d4e5f6 · waiting 2m · expires in 1h 57m (04:57:30)" in text
        assert screen.states_table.keys == ("DeployCanary", "BakeCanary", "DeployAZ1", "ApprovePromotion")
        current = screen.states_table.row("ApprovePromotion")
        assert current is not None
        assert current.cell("status").plain == "⚑ approval"
        assert current.cell("name").plain == "ApprovePromotion ◀"
        done = screen.states_table.row("DeployAZ1")
        assert done is not None
        assert done.cell("status").plain == "✓ done"
        assert screen.history_table.keys == tuple(str(i) for i in range(1, 12))
        scheduled = screen.history_table.row("9")
        assert scheduled is not None
        assert scheduled.cell("detail").plain == f"asks: {ASK}"
        assert screen.history_table.highlighted_key == "11"  # following the newest event


async def test_the_history_streams_in_without_redrawing_what_was_there(
    console_app: Any, fake_watcher: HistoryWatcher
) -> None:
    app = console_app()
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await open_execution(pilot, app)
        table = screen.history_table
        appended: list[list[str]] = []
        original_append = table.append

        def append(rows: Any) -> int:
            rows = list(rows)
            appended.append([key for key, _ in rows])
            return original_append(rows)

        table.append = append  # type: ignore[method-assign]
        fake_watcher.grow(EXECUTION_ARN, finished_history())
        await wait_for(pilot, lambda: len(table.keys) == 18, what="the new events")
        assert appended == [[str(i) for i in range(12, 19)]]  # appended, not rebuilt
        assert table.highlighted_key == "18"  # the cursor follows the newest event
        runs = {r.name: r.look.word for r in state_runs(finished_history(), "SUCCEEDED")}
        assert runs["ApprovePromotion"] == "done"
        assert runs["Deployed"] == "done"
        fake_watcher.publish(finished_picture(fake_watcher.state))
        await wait_for(pilot, lambda: "✓ succeeded" in rendered(app), what="the end")
        assert "waits for a person" not in rendered(app)
        assert not screen.query_one("#waiting").display


async def test_a_cursor_moved_back_stays_where_it_was(console_app: Any, fake_watcher: HistoryWatcher) -> None:
    app = console_app()
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await open_execution(pilot, app)
        await pilot.press("k", "k")
        await wait_for(pilot, lambda: screen.history_table.highlighted_key == "9")
        fake_watcher.grow(EXECUTION_ARN, finished_history())
        await wait_for(pilot, lambda: len(screen.history_table.keys) == 18)
        assert screen.history_table.highlighted_key == "9"


async def test_input_output_and_events_open_in_full_literally(console_app: Any, fake_watcher: HistoryWatcher) -> None:
    app = console_app()
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await open_execution(pilot, app)
        assert not app.screen.active_bindings["o"].enabled
        assert screen.why_unavailable("view_output") == "it is still running: there is no output yet"
        await pilot.press("i")
        modal = await wait_for(pilot, lambda: isinstance(app.screen, PayloadModal) and app.screen)
        assert '"note": "[b]not bold[/b]"' in modal.text  # pretty-printed, and literal
        assert '  "service": "checkout-api",' in modal.text
        await wait_for(pilot, lambda: "[b]not bold[/b]" in rendered(app))
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.screen is screen)
        assert fake_watcher.watched[-1] == (TARGET, EXECUTION_ARN)  # a modal does not stop the reads
        await pilot.press("k", "k", "enter")  # TaskScheduled: what the approval was sent
        modal = await wait_for(pilot, lambda: isinstance(app.screen, PayloadModal) and app.screen)
        assert modal.title_text == "#9 TaskScheduled in ApprovePromotion"
        assert f'"ask": "{ASK}"' in modal.text
        assert "arn:aws:states:::sqs:sendMessage.waitForTaskToken" in modal.text
        await pilot.press("escape")
        fake_watcher.grow(EXECUTION_ARN, finished_history())
        fake_watcher.publish(finished_picture(fake_watcher.state))
        await wait_for(pilot, lambda: app.screen.active_bindings["o"].enabled, what="an output")
        await pilot.press("o")
        modal = await wait_for(pilot, lambda: isinstance(app.screen, PayloadModal) and app.screen)
        assert '"deployed": "a1b2c3d4e5f6"' in modal.text


def test_pretty_shows_json_indented_and_anything_else_as_it_is() -> None:
    assert pretty('{"a":[1,2]}').plain == '{\n  "a": [\n    1,\n    2\n  ]\n}'
    assert pretty("not json [red]x[/red]\x1b[2J").plain == "not json [red]x[/red]"
    assert pretty(None).plain == "—"
    assert pretty('"\\u001b[31m"').plain == '"\\u001b[31m"'  # an escape inside JSON stays escaped


def test_an_execution_the_listing_no_longer_holds_is_read_from_its_history() -> None:
    told = from_history(EXECUTION_ARN, MACHINE_ARN, finished_history())
    assert told is not None
    assert told.status == "SUCCEEDED"
    assert told.output == json.dumps({"deployed": "a1b2c3d4e5f6"})
    assert "checkout-api" in (told.input or "")


async def test_a_stale_listing_says_so(console_app: Any, fake_watcher: HistoryWatcher) -> None:
    from tests.ui.conftest import ago

    app = console_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await open_execution(pilot, app)
        state = fake_watcher.state
        machine = replace(state_machines_of(state)[MACHINE_KEY], read_at=ago(200))
        fake_watcher.publish(state.with_resources(STEPFUNCTIONS, {**state_machines_of(state), MACHINE_KEY: machine}))
        await wait_for(pilot, lambda: "≈ stale: its state machine was last read 3m ago" in rendered(app))


async def test_filter_narrows_the_history(console_app: Any) -> None:
    app = console_app()
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await open_execution(pilot, app)
        await pilot.press("slash", *"task")
        await wait_for(pilot, lambda: screen.history_table.keys == ("8", "9", "10", "11"), what="Task events only")
        await pilot.press("escape")
        await wait_for(pilot, lambda: len(screen.history_table.keys) == 11, what="every event again")


async def test_approve_acts_on_this_execution_and_leaving_stops_the_reads(
    console_app: Any, fake_gate: FakeGate, fake_watcher: HistoryWatcher
) -> None:
    app = console_app()
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await open_execution(pilot, app)
        bindings = app.screen.active_bindings
        assert bindings["a"].enabled
        assert bindings["x"].enabled
        assert bindings["s"].enabled
        assert not bindings["r"].enabled
        assert not bindings["p"].enabled
        assert screen.why_unavailable("pause") == "pausing promotion is for pipeline stages"
        await pilot.press("x")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmActionModal))
        kind, selection = fake_gate.planned[-1]
        assert kind is ActionKind.REJECT
        assert selection.execution_arn == EXECUTION_ARN
        await pilot.press("escape")
        await wait_for(pilot, lambda: any("Nothing was sent" in n for n in notifications(app)))
        assert fake_watcher.watched[-1] == (TARGET, EXECUTION_ARN)
        await pilot.press("escape")
        await wait_for(pilot, lambda: not isinstance(app.screen, ExecutionScreen))
        assert fake_watcher.watched[-1] == (TARGET, None)


async def test_80x24_stacks_the_states_above_the_history(console_app: Any, no_color: None) -> None:
    app = console_app()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_execution(pilot, app)
        assert screen.has_class("-narrow")
        await wait_for(pilot, lambda: "waits for a person" in rendered(app), what="the banner drawn")
        lines = rendered_lines(app)
        text = "\n".join(lines)
        assert "⚑ ApprovePromotion waits for a person" in text
        assert "expires in 1h 57m" in text
        assert "⚑ approval    ApprovePromotion ◀" in text  # the current state, scrolled into view
        assert "11    02:57:30  TaskSubmitted" in text  # the newest event
        assert lines[-1].strip().startswith("? Help")


def test_snapshot_execution_120x36(snap_compare: Any, console_app: Any, fake_watcher: HistoryWatcher) -> None:
    async def run_before(pilot: Any) -> None:
        await open_execution(pilot, pilot.app)

    assert snap_compare(console_app(), run_before=run_before, terminal_size=(120, 36))


def test_snapshot_execution_80x24(snap_compare: Any, console_app: Any, fake_watcher: HistoryWatcher) -> None:
    async def run_before(pilot: Any) -> None:
        await open_execution(pilot, pilot.app)

    assert snap_compare(console_app(), run_before=run_before, terminal_size=(80, 24))


def test_snapshot_execution_input(snap_compare: Any, console_app: Any, fake_watcher: HistoryWatcher) -> None:
    async def run_before(pilot: Any) -> None:
        await open_execution(pilot, pilot.app)
        await pilot.press("i")
        await wait_for(pilot, lambda: isinstance(pilot.app.screen, PayloadModal), what="the input")

    assert snap_compare(console_app(), run_before=run_before, terminal_size=(100, 30))
