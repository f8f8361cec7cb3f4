"""The app shell: the fleet screen comes up with the watcher's picture, sections switch with 1-4, updates arrive
as messages without losing transitions, errors become notifications."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from console.model import Transition
from screens.fleet import MACHINES, PIPELINES, FleetScreen
from tests.ui.conftest import FIXED_NOW, FakeWatcher, fleet_picture, notifications, rendered, wait_for


async def test_fleet_screen_shows_the_watchers_picture(console_app: Any) -> None:
    app = console_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_for(pilot, lambda: "checkout-api" in rendered(app), what="the pipelines")
        text = rendered(app)
        assert "SANDBOX" in text
        assert "sandbox/us-east-1" in text
        assert "updated 2s ago" in text
        assert isinstance(app.screen, FleetScreen)


async def test_one_and_two_switch_between_pipelines_and_state_machines(console_app: Any) -> None:
    app = console_app()
    async with app.run_test(size=(120, 36)) as pilot:
        screen = app.screen
        assert isinstance(screen, FleetScreen)
        await pilot.press("2")
        await wait_for(pilot, lambda: "wave-deployment" in rendered(app), what="the state machines")
        assert screen.view == MACHINES
        await pilot.press("1")
        await wait_for(pilot, lambda: "checkout-api" in rendered(app), what="the pipelines again")
        assert screen.view == PIPELINES


async def test_updates_keep_every_transition(console_app: Any, fake_watcher: FakeWatcher) -> None:
    app = console_app()
    async with app.run_test(size=(120, 36)) as pilot:
        state = fleet_picture()
        for i in range(50):
            transition = Transition(FIXED_NOW, "sandbox/us-east-1", "stage", f"p/{i}", None, None, "A", "B")
            fake_watcher.publish(replace(state), [transition])
        await pilot.pause()
        log = app.console_context.transitions
        assert log.total == 50
        assert [t.resource for t in log.since(45).transitions] == [f"p/{i}" for i in range(45, 50)]


async def test_a_failing_worker_is_a_notification_not_a_crash(console_app: Any, fake_watcher: FakeWatcher) -> None:
    async def broken(keys: Any = None) -> None:
        raise RuntimeError("the network is down")

    fake_watcher.refresh = broken  # type: ignore[method-assign]
    app = console_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.press("ctrl+r")
        await wait_for(pilot, lambda: any("the network is down" in n for n in notifications(app)), what="a notice")
        assert app.is_running
