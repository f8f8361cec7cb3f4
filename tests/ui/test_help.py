"""Help (F1 and ?) lists every key of the current screen with its description, and every key is also in the
command palette."""

from __future__ import annotations

from typing import Any

from console.keys import KEYS
from screens.context import ScreenRegistry
from screens.fleet.screen import FleetScreen
from screens.help.screen import HelpScreen, help_rows
from tests.ui.conftest import rendered, stand_in_registry, wait_for

# `g` belongs to the pipeline screen, `i` / `o` to the execution screen.
FLEET_KEY_IDS = [k.id for k in KEYS if k.id not in ("goto", "view_input", "view_output", "override")]


async def test_f1_and_question_mark_open_help_and_escape_closes_it(console_app: Any) -> None:
    app = console_app()
    async with app.run_test(size=(120, 36)) as pilot:
        for key in ("f1", "question_mark"):
            await pilot.press(key)
            await wait_for(pilot, lambda: isinstance(app.screen, HelpScreen), what=f"help after {key}")
            await pilot.press("escape")
            await wait_for(pilot, lambda: isinstance(app.screen, FleetScreen), what="the fleet again")


async def test_help_lists_every_key_of_the_fleet_screen_with_its_description(console_app: Any) -> None:
    app = console_app()
    async with app.run_test(size=(120, 36)):
        rows = help_rows(app.screen)
        descriptions = {row.description for row in rows}
        for key_spec in KEYS:
            if key_spec.id in FLEET_KEY_IDS:
                assert key_spec.description in descriptions, key_spec.id
        approve = next(r for r in rows if r.description == "Approve")
        assert approve.keys == "a"
        help_row = next(r for r in rows if r.description.startswith("Help"))
        assert help_row.keys in ("? / f1", "? / F1")


async def test_help_says_why_a_greyed_key_is_unavailable(console_app: Any) -> None:
    app = console_app(registry=ScreenRegistry())  # a registry without the approvals screen
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.press("3")  # no approvals screen: greyed, with the reason
        await pilot.press("f1")
        help_screen = await wait_for(pilot, lambda: isinstance(app.screen, HelpScreen) and app.screen)
        approvals = next(r for r in help_screen.rows if r.description == "Approvals waiting for a person")
        assert not approvals.enabled
        assert approvals.reason == "no approvals screen is registered"
        text = await wait_for(pilot, lambda: "Keys — Fleet" in rendered(app) and rendered(app))
        assert "Approvals waiting for a person  (unavailable: no approvals screen is" in text


async def test_every_key_is_in_the_command_palette(console_app: Any) -> None:
    app = console_app()
    async with app.run_test(size=(120, 36)):
        titles = {command.title for command in app.get_system_commands(app.screen)}
        for key_spec in KEYS:
            if key_spec.id in FLEET_KEY_IDS and key_spec.id != "palette":
                assert key_spec.description in titles, key_spec.id


async def test_a_palette_command_runs_the_action(console_app: Any) -> None:
    app = console_app()
    async with app.run_test(size=(120, 36)) as pilot:
        command = next(c for c in app.get_system_commands(app.screen) if c.title == "Fleet: state machines")
        await command.callback()
        screen = app.screen
        assert isinstance(screen, FleetScreen)
        await wait_for(pilot, lambda: screen.view == "machines")


async def test_remapped_keys_show_in_help(console_app: Any) -> None:
    from console.config import Config

    app = console_app(config=Config(keymap={"approve": "ctrl+a"}))
    async with app.run_test(size=(120, 36)):
        rows = help_rows(app.screen)
        approve = next(r for r in rows if r.description == "Approve")
        assert approve.keys in ("^a", "ctrl+a")


def test_snapshot_help(snap_compare: Any, console_app: Any) -> None:
    assert snap_compare(console_app(registry=stand_in_registry()), press=["f1"], terminal_size=(120, 36))
