"""Type-ahead after `/`: what is typed in one burst (`/schema`, `/prod⏎`) goes into the filter, never to the keys.

An operator types `/` and the name without waiting for the filter to open; the terminal delivers the keys
together. Textual hands each key to the focused list, which passes it up to the screen and then to the app,
where `/`'s binding runs: by then the keys after it had gone the same way, and each ran its own binding (on
the fleet `s` is Stop, on the inbox `a` is Approve). Pilot's `press` waits for each key to be handled, so
these tests deliver the keys as a terminal does, all at once, through the driver.
"""

from __future__ import annotations

from typing import Any

from textual import events

from screens.approvals.screen import ApprovalsScreen
from screens.fleet.screen import FleetScreen
from tests.ui.conftest import notifications, wait_for


def burst(app: Any, text: str, *, enter: bool = False) -> None:
    """`text` as a terminal sends a fast typist's keys: every key queued before the first is handled."""
    for char in text:
        key = {"/": "slash", " ": "space"}.get(char, char)
        event = events.Key(key, char)
        event.set_sender(app)
        app._driver.send_message(event)
    if enter:
        event = events.Key("enter", "\r")
        event.set_sender(app)
        app._driver.send_message(event)


async def test_the_fleet_filter_gets_every_key_typed_after_slash(console_app: Any, fake_gate: Any) -> None:
    app = console_app()
    async with app.run_test(size=(120, 36)) as pilot:
        screen = app.screen
        assert isinstance(screen, FleetScreen)
        await pilot.press("2")  # the state machines: `s` stops, `a` approves, `r` retries there
        burst(app, "/wave-rollback")
        await wait_for(pilot, lambda: screen.filter_text == "wave-rollback", what="the whole name in the filter")
        assert screen.filtering
        assert fake_gate.planned == []
        assert not [n for n in notifications(app) if "Not available" in n]


async def test_the_inbox_filter_gets_every_key_and_enter_leaves_it(console_app: Any, fake_gate: Any) -> None:
    app = console_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.press("3")
        screen = await wait_for(pilot, lambda: isinstance(app.screen, ApprovalsScreen) and app.screen, what="inbox")
        assert isinstance(screen, ApprovalsScreen)
        burst(app, "/a x prod", enter=True)
        await wait_for(pilot, lambda: screen.query_text == "a x prod", what="the whole filter")
        await wait_for(pilot, lambda: app.focused is not None and app.focused.id != "filter", what="the list's focus")
        assert app.screen is screen  # no confirmation opened: `a` and `x` were typed, not pressed
        assert fake_gate.planned == []
