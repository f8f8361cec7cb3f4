"""A key's frame goes out as soon as the key is handled (screens/key_frames.py), not at the next tick of
Textual's update timer; pictures the watcher publishes keep Textual's own pace. The Textual internals it
uses are named here, so that an upgrade that moves them fails in this file first."""

from __future__ import annotations

from typing import Any

import pytest
from textual.app import App
from textual.screen import Screen

import screens.base
from screens.fleet.screen import FleetScreen
from screens.key_frames import draw_now


def test_the_textual_internals_it_draws_with_are_where_it_expects_them() -> None:
    assert callable(Screen._on_timer_update)
    screen = Screen[None]()
    for flag in ("_layout_required", "_scroll_required", "_repaint_required", "_dirty_widgets"):
        assert hasattr(screen, flag), flag
    assert isinstance(App()._batch_count, int)


@pytest.fixture
def drawn(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """What every `draw_now` of a screen's idle handler returned: True, a frame drawn at once."""
    calls: list[bool] = []

    def recording(screen: Any) -> bool:
        calls.append(draw_now(screen))
        return calls[-1]

    monkeypatch.setattr(screens.base, "draw_now", recording)
    return calls


async def test_a_keys_frame_is_drawn_at_once_and_a_picture_at_the_tick(console_app: Any, drawn: list[bool]) -> None:
    app = console_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.pause()
        assert isinstance(app.screen, FleetScreen)
        assert drawn == []  # the first picture is no key's: Textual draws it at its tick
        row = app.screen.query_one("KeyedList").cursor_row
        await pilot.press("j")
        await pilot.pause()
        assert True in drawn, "the key's frame was drawn from the idle handler"
        assert app.screen.query_one("KeyedList").cursor_row == row + 1
        assert not app.key_frame_due  # its frame went out

        drawn.clear()
        app.draw_keys_now = False
        await pilot.press("k")
        await pilot.pause()
        assert drawn == []
        assert app.screen.query_one("KeyedList").cursor_row == row  # drawn anyway, at the tick
