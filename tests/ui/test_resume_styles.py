"""A section screen shown again keeps the styles it was hidden with, unless what they depend on changed
(screens/resume_styles.py): then it looks exactly as if Textual had applied them again.

Textual internals relied on (an upgrade that moves them fails here first): `App._css_update_count` (a new theme
or stylesheet counts up), `events.ScreenResume.refresh_styles` (read by `Screen._on_screen_resume`, after the
console screen's own handler)."""

from __future__ import annotations

from typing import Any

import pytest
from textual import events
from textual.app import App
from textual.screen import Screen
from textual.widget import Widget

from console import app as app_module
from screens.activity.screen import ActivityScreen
from screens.approvals.screen import ApprovalsScreen
from tests.ui.conftest import wait_for


def test_the_textual_internals_it_reads_are_there() -> None:
    assert isinstance(App()._css_update_count, int)
    assert events.ScreenResume().refresh_styles is True
    assert "refresh_styles" in Screen._on_screen_resume.__code__.co_names  # where Textual reads it


def styled(screen: Any) -> dict[int, tuple[object, ...]]:
    """Each widget's styles as drawn: what the frame renders from."""
    return {
        id(node): (node.rich_style, node.styles.background, node.styles.color, node.display)
        for node in screen.walk_children(with_self=True)
        if isinstance(node, Widget)
    }


def as_applied_again(app: Any, screen: Any) -> dict[int, tuple[object, ...]]:
    """The styles `screen` would have if Textual applied the stylesheet again now."""
    app.stylesheet.update(screen)
    return styled(screen)


@pytest.fixture
def style_applications(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """The section screens Textual applied the whole stylesheet to on resume (ScreenResume with
    refresh_styles)."""
    applied: list[Any] = []
    original = Screen._on_screen_resume

    def recording(self: Any, event: events.ScreenResume) -> None:
        if event.refresh_styles and isinstance(self, ApprovalsScreen | ActivityScreen):
            applied.append(self)
        original(self, event)

    monkeypatch.setattr(Screen, "_on_screen_resume", recording)
    return applied


async def test_a_section_shown_again_keeps_its_styles(console_app: Any, style_applications: list[Any]) -> None:
    app = console_app()
    async with app.run_test(size=(120, 36)) as pilot:
        fleet = app.screen
        for key in "34":
            await pilot.press(key)
            await wait_for(pilot, lambda: isinstance(app.screen, ApprovalsScreen | ActivityScreen))
        approvals, activity = app.get_screen("approvals"), app.get_screen("activity")
        await wait_for(pilot, lambda: app.screen is activity)
        assert style_applications == [approvals, activity]  # first showings: applied as Textual does
        for key, screen in (("3", approvals), ("4", activity), ("1", fleet), ("3", approvals)):
            await pilot.press(key)
            await wait_for(pilot, lambda shown=screen: app.screen is shown)
            await pilot.pause()
            assert styled(screen) == as_applied_again(app, screen)
        assert style_applications == [approvals, activity]  # none again: nothing they depend on changed


@pytest.mark.parametrize("change", ["theme", "terminal focus"])
async def test_a_change_while_hidden_restyles_the_section_when_shown(
    console_app: Any, style_applications: list[Any], change: str
) -> None:
    app = console_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.press("3")
        await wait_for(pilot, lambda: isinstance(app.screen, ApprovalsScreen))
        approvals = app.screen
        await pilot.press("1")
        await wait_for(pilot, lambda: app.screen is not approvals)
        await pilot.pause()
        before = styled(approvals)
        if change == "theme":
            app.theme = "textual-light" if app.current_theme.dark else "textual-dark"
        else:
            app.post_message(events.AppBlur())
            await wait_for(pilot, lambda: not app.app_focus, what="the terminal's focus gone")
        await pilot.pause()
        # Not a key: a key gives the terminal's focus back first (Textual), and the styles it was hidden with
        # are right again. The command palette's section command is not one.
        await app.run_action("section('approvals')")
        await wait_for(pilot, lambda: app.screen is approvals)
        await pilot.pause()
        assert style_applications == [approvals, approvals]
        after = styled(approvals)
        assert after == as_applied_again(app, approvals)
        if change == "theme":
            assert after != before  # the light theme's colours, not the dark ones it was hidden with


async def test_a_section_built_hidden_is_shown_with_the_styles_it_was_built_with(
    console_app: Any, style_applications: list[Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(app_module, "PREPARE_AFTER", 0.05)
    app = console_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_for(pilot, lambda: app.is_screen_installed("approvals") and app.is_screen_installed("activity"))
        approvals, activity = app.get_screen("approvals"), app.get_screen("activity")
        await wait_for(pilot, lambda: approvals._ready and activity._ready, what="both built")
        for key, screen in (("3", approvals), ("4", activity)):
            await pilot.press(key)
            await wait_for(pilot, lambda shown=screen: app.screen is shown)
            await pilot.pause()
            assert styled(screen) == as_applied_again(app, screen)
        assert style_applications == []  # shown as built: nothing they depend on changed
