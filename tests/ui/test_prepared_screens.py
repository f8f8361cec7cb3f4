"""Section screens built ahead of their first visit (screens/prepared_screens.py): hidden until asked for, they
draw nothing, tell the watcher nothing, and the key that shows them only resumes them.

Textual internals relied on (a Textual upgrade that moves them fails here first): `App._get_screen` (registers and
starts a screen that is not running, as `push_screen` does), `App._load_screen_css`, `Screen.is_running`,
`Screen._refresh_layout` (lays a screen out for a size; a resumed screen of another size is laid out again) and
`Screen._compositor.render_update`."""

from __future__ import annotations

from typing import Any

from textual.app import App
from textual.screen import Screen

from console import app as app_module
from screens.activity.screen import ActivityScreen
from screens.approvals.screen import ApprovalsScreen
from screens.fleet.screen import FleetScreen
from tests.ui.conftest import FakeWatcher, rendered, wait_for


def test_the_textual_internals_it_calls_are_there() -> None:
    assert callable(App._get_screen)
    assert callable(App._load_screen_css)
    assert isinstance(Screen.is_running, property)
    assert callable(Screen._refresh_layout)
    assert callable(Screen[None]()._compositor.render_update)
    assert "_refresh_layout" in Screen._on_screen_resume.__code__.co_names  # a screen of another size: again


async def test_section_screens_are_built_hidden_and_shown_as_built(
    console_app: Any, fake_watcher: FakeWatcher, monkeypatch: Any
) -> None:
    monkeypatch.setattr(app_module, "PREPARE_AFTER", 0.05)
    app = console_app()
    async with app.run_test(size=(120, 36)) as pilot:
        fleet = app.screen
        assert isinstance(fleet, FleetScreen)
        await wait_for(pilot, lambda: app.is_screen_installed("approvals") and app.is_screen_installed("activity"))
        approvals, activity = app.get_screen("approvals"), app.get_screen("activity")
        assert isinstance(approvals, ApprovalsScreen)
        assert isinstance(activity, ActivityScreen)
        # Built while hidden: composed, mounted, with the picture's rows ...
        await wait_for(pilot, lambda: approvals._ready and activity._ready, what="both mounted")
        await wait_for(pilot, lambda: approvals.table.row_count > 0, what="the inbox's rows")
        # ... and never shown: the fleet stays on screen, and the watcher's focus is still the fleet's.
        assert app.screen is fleet
        assert app.screen_stack == [fleet]
        assert fake_watcher.focused[-1] == tuple(fleet.visible_keys())  # no hidden screen told the watcher
        # 3 shows the very screen built, with its rows, as a visit after the first would.
        await pilot.press("3")
        await wait_for(pilot, lambda: app.screen is approvals)
        shown = "checkout-api/Prod-Canary/ApproveProduction"
        await wait_for(pilot, lambda: shown in rendered(app), what="the inbox shown")
        await pilot.press("4")
        await wait_for(pilot, lambda: app.screen is activity)
        await pilot.press("1")
        await wait_for(pilot, lambda: app.screen is fleet)


async def test_a_key_held_down_puts_the_building_off(console_app: Any, monkeypatch: Any) -> None:
    monkeypatch.setattr(app_module, "PREPARE_AFTER", 0.3)
    app = console_app()
    async with app.run_test(size=(120, 36)) as pilot:
        for _ in range(8):
            await pilot.press("j")
            await pilot.pause(0.1)
            assert not app.is_screen_installed("approvals")
        await wait_for(pilot, lambda: app.is_screen_installed("approvals"), what="built once the keys stopped")


async def test_a_section_built_hidden_is_laid_out_before_it_is_shown(console_app: Any, monkeypatch: Any) -> None:
    """Its first showing finds its widgets placed and drawn: the key only resumes it. A terminal resized while it
    was hidden lays it out again when it is shown."""
    monkeypatch.setattr(app_module, "PREPARE_AFTER", 0.05)
    laid_out: list[tuple[str, Any]] = []
    original = Screen._refresh_layout

    def recorded(self: Any, size: Any = None, scroll: bool = False) -> None:
        laid_out.append((type(self).__name__, size))
        original(self, size, scroll)

    monkeypatch.setattr(Screen, "_refresh_layout", recorded)
    app = console_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_for(pilot, lambda: app.is_screen_installed("approvals") and app.is_screen_installed("activity"))
        approvals, activity = app.get_screen("approvals"), app.get_screen("activity")
        await wait_for(pilot, lambda: approvals.size == app.size and activity.size == app.size, what="laid out")
        assert approvals.table.size.width > 0  # its list placed, hidden
        assert app.screen is not approvals
        laid_out.clear()
        await pilot.press("3")
        await wait_for(pilot, lambda: app.screen is approvals)
        await pilot.pause()
        assert ("ApprovalsScreen", app.size) not in laid_out  # shown as laid out
        await pilot.press("1")
        await wait_for(pilot, lambda: isinstance(app.screen, FleetScreen))
        await pilot.resize_terminal(80, 24)
        await pilot.pause()
        await pilot.press("4")
        await wait_for(pilot, lambda: app.screen is activity)
        await wait_for(pilot, lambda: activity.size.width == 80, what="laid out again for 80 columns")
        assert activity.query_one("#stream").size.width <= 80
