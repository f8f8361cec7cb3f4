"""The state machine screen on fixed pictures: what it is, its executions, enter opens one, keys and reasons,
EXPRESS said plainly, snapshots."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from console.actions.gate import ActionKind
from console.model import FleetState
from console.stepfunctions.model import SERVICE as STEPFUNCTIONS
from console.stepfunctions.model import state_machines_of
from screens.confirm.screen import ConfirmActionModal
from screens.execution.screen import ExecutionScreen
from screens.fleet.screen import FleetScreen
from screens.state_machine.screen import EXPRESS_NOTE, StateMachineScreen
from tests.ui.conftest import FakeGate, notifications, rendered, rendered_lines, wait_for
from tests.ui.test_fleet import highlight
from tests.ui.test_pipeline_support import EXECUTION_ARN, TARGET, HistoryWatcher, execution_picture

MACHINE_KEY = f"{TARGET}:wave-deployment"
FAILED_ARN = EXECUTION_ARN.replace("deploy-checkout-7", "deploy-checkout-6")


@pytest.fixture
def picture() -> FleetState:
    return execution_picture()


@pytest.fixture
def fake_watcher(picture: FleetState) -> HistoryWatcher:
    return HistoryWatcher(picture)


async def open_machine(pilot: Any, app: Any, key: str = MACHINE_KEY) -> StateMachineScreen:
    await pilot.press("2")
    fleet = app.screen
    assert isinstance(fleet, FleetScreen)
    await wait_for(pilot, lambda: fleet.view == "machines")
    await highlight(pilot, fleet, key)
    await pilot.press("enter")
    return await wait_for(
        pilot, lambda: isinstance(app.screen, StateMachineScreen) and app.screen, what="the state machine"
    )


async def test_it_says_what_the_state_machine_is_and_lists_its_executions(console_app: Any, fake_watcher: Any) -> None:
    app = console_app()
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await open_machine(pilot, app)
        text = rendered(app)
        assert "wave-deployment · us-east-1 · standard · wave ▲ prod-canary · rollback: wave-rollback" in text
        assert "⚑ waits for a person in: ApprovePromotion" in text
        assert screen.executions.keys[0] == EXECUTION_ARN
        first = screen.executions.row(EXECUTION_ARN)
        assert first is not None
        assert first.cell("status").plain == "⚑ approval"  # running, and waiting for a person
        failed = screen.executions.row(FAILED_ARN)
        assert failed is not None
        assert failed.cell("status").plain == "✗ failed"
        assert failed.cell("redrives").plain == "1"
        assert failed.cell("took").plain == "6m 40s"
        assert failed.cell("error").plain.startswith("Deployment.AlarmFired: Alarm OneBox-5xx")
        assert fake_watcher.focused[-1] == (MACHINE_KEY,)


async def test_the_detail_shows_the_highlighted_execution(console_app: Any) -> None:
    app = console_app()
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await open_machine(pilot, app)
        assert screen._detail is not None
        text = screen._detail.plain
        assert "deploy-checkout-7  ▶ running" in text
        assert "⚑ ApprovePromotion waits: Promote this revision from prod-az1 to prod-az2? · expires in 1h 57m" in text
        while screen.executions.highlighted_key != FAILED_ARN:
            await pilot.press("j")
        text = screen._detail.plain
        assert "redriven 1×" in text
        assert "! Deployment.AlarmFired: Alarm OneBox-5xx went into ALARM during the canary bake" in text
        assert "took 6m 40s" in text


async def test_enter_opens_the_execution_and_escape_comes_back(console_app: Any, fake_watcher: HistoryWatcher) -> None:
    app = console_app()
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await open_machine(pilot, app)
        await pilot.press("enter")
        execution = await wait_for(pilot, lambda: isinstance(app.screen, ExecutionScreen) and app.screen)
        assert execution.arn == EXECUTION_ARN
        assert fake_watcher.watched[-1] == (TARGET, EXECUTION_ARN)
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.screen is screen)
        assert fake_watcher.watched[-1] == (TARGET, None)


async def test_keys_act_on_the_highlighted_execution(console_app: Any, fake_gate: FakeGate) -> None:
    app = console_app()
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await open_machine(pilot, app)
        bindings = app.screen.active_bindings
        assert bindings["a"].enabled  # it waits for a person
        assert bindings["s"].enabled  # it runs
        assert not bindings["r"].enabled  # it has not failed
        assert screen.why_unavailable("retry") == "only a failed execution is redriven (running)"
        assert not bindings["S"].enabled
        assert screen.why_unavailable("stop_abandon") == "abandon is for pipeline executions; use stop"
        assert not bindings["p"].enabled
        assert (
            screen.why_unavailable("rollback")
            == "deploy-checkout-7 is still running: stop it (s) before rolling its wave back"
        )
        await pilot.press("s")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmActionModal))
        kind, selection = fake_gate.planned[-1]
        assert kind is ActionKind.STOP
        assert selection.execution_arn == EXECUTION_ARN
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.screen is screen)
        while screen.executions.highlighted_key != FAILED_ARN:
            await pilot.press("j")
        assert app.screen.active_bindings["r"].enabled
        assert not app.screen.active_bindings["a"].enabled
        await pilot.press("a")
        await wait_for(pilot, lambda: any("nothing is waiting for approval" in n for n in notifications(app)))


async def test_an_express_state_machine_says_why_there_is_no_detail(
    console_app: Any, fake_watcher: HistoryWatcher
) -> None:
    state = fake_watcher.state
    key = f"{TARGET}:wave-rollback"
    express = replace(state_machines_of(state)[key], type="EXPRESS", executions=())
    fake_watcher.publish(state.with_resources(STEPFUNCTIONS, {**state_machines_of(state), key: express}))
    app = console_app()
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await open_machine(pilot, app, key)
        text = rendered(app)
        assert "wave-rollback · us-east-1 · express" in text
        assert "EXPRESS state machine: Step Functions keeps no execution history" in text
        assert "No executions are listed for an express state machine." in text
        assert screen.why_unavailable("open") == "express executions have no history to show (see the note above)"
        assert EXPRESS_NOTE.startswith("EXPRESS")


async def test_80x24(console_app: Any, no_color: None) -> None:
    app = console_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await open_machine(pilot, app)
        await wait_for(pilot, lambda: "enter opens its events" in rendered(app), what="the detail drawn")
        lines = rendered_lines(app)
        text = "\n".join(lines)
        assert "wave-deployment · us-east-1 · standard" in text
        assert "⚑ approval     deploy-checkout-7" in text
        assert "✗ failed       deploy-checkout-6" in text
        assert "enter opens its events" in text
        assert lines[-1].strip().startswith("? Help")


def test_snapshot_state_machine(snap_compare: Any, console_app: Any) -> None:
    async def run_before(pilot: Any) -> None:
        await open_machine(pilot, pilot.app)

    assert snap_compare(console_app(), run_before=run_before, terminal_size=(120, 36))


def test_snapshot_state_machine_80x24(snap_compare: Any, console_app: Any) -> None:
    async def run_before(pilot: Any) -> None:
        await open_machine(pilot, pilot.app)

    assert snap_compare(console_app(), run_before=run_before, terminal_size=(80, 24))


async def test_a_clock_tick_before_the_screen_is_mounted_draws_nothing_and_does_not_crash(console_app: Any) -> None:
    """The app's one-second tick can come between a screen's push and its compose (seen on a loaded machine):
    the screen is on the stack and attached, but its widgets do not exist yet."""
    app = console_app()
    async with app.run_test(size=(120, 36)) as pilot:
        screen = StateMachineScreen(MACHINE_KEY)
        pushed = app.push_screen(screen)
        assert app.shown_console_screen() is screen
        assert not screen.is_mounted
        app._tick()  # the tick the timer would give now; before the fix: NoMatches '#title'
        await pushed
        await wait_for(pilot, lambda: "wave-deployment · us-east-1" in rendered(app), what="the screen drawn")
        app._tick()
        assert app.screen is screen
