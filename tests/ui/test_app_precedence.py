"""A key claims the watcher's thread's precedence (console/loop_thread.py) and its frame releases it: the
watcher's loop waits while a key is handled and drawn, and only then."""

from __future__ import annotations

import asyncio
import gc
from typing import Any

from screens.key_frames import pending as frame_pending
from screens.widgets.fleet_header import FleetHeader
from tests.core.test_loop_thread_precedence import schedule, started
from tests.ui.conftest import wait_for


async def test_a_key_claims_and_its_frame_releases(console_app: Any) -> None:
    io = started(claim_seconds=30.0)
    app = console_app(precedence=io.precedence)
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.pause()
        assert io.precedence.claims == 0  # drawing a picture claims nothing
        await pilot.press("j")
        await pilot.pause()
        assert io.precedence.claims >= 1
        ran = schedule(io)
        assert ran.wait(5)  # the frame is out: released


async def test_a_section_key_holds_the_claim_until_its_screen_settled(console_app: Any) -> None:
    """A section key's screen is shown, resumed, then laid out, with a frame between each: the claim is released
    when the screen has nothing left to handle nor to draw, not at the first of those frames."""
    io = started(claim_seconds=30.0)
    app = console_app(precedence=io.precedence)
    released: list[tuple[str, bool]] = []
    release = io.precedence.release

    def recorded() -> None:
        screen = app.screen
        pending = sum(node.message_queue_size for node in screen.walk_children(with_self=True))
        released.append((type(screen).__name__, pending == 0 and not frame_pending(screen)))
        release()

    io.precedence.release = recorded  # type: ignore[method-assign]
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.pause()
        for key, screen in (("3", "ApprovalsScreen"), ("4", "ActivityScreen"), ("1", "FleetScreen")):
            released.clear()
            await pilot.press(key)
            ran = schedule(io)
            assert ran.wait(5)  # released, within the claim's 30 s
            assert released == [(screen, True)]


async def test_no_garbage_collection_runs_between_a_key_and_its_frame(console_app: Any) -> None:
    io = started(claim_seconds=30.0)
    app = console_app(precedence=io.precedence)
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.pause()
        fleet = app.screen
        during: list[bool] = []
        move = fleet.action_move_down

        def recorded() -> None:
            during.append(gc.isenabled())
            move()

        fleet.action_move_down = recorded
        await pilot.press("j")
        assert schedule(io).wait(5)  # its frame is out
        await pilot.pause()
        assert during == [False]
        assert gc.isenabled()


async def test_a_screen_with_a_change_still_to_draw_has_not_settled(console_app: Any) -> None:
    """The claim is released only once the key's last change is drawn: a change made by the last message it
    handled is drawn at the next tick, after the queue emptied."""
    app = console_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.pause()
        await wait_for(pilot, app._screen_settled, what="the first picture drawn")
        screen = app.screen

        def waiting_for_its_tick() -> bool:
            return frame_pending(screen) and not screen.message_queue_size

        for _ in range(50):
            screen.query_one(FleetHeader).refresh()  # a change for the next frame
            # Its message handled, nothing queued, the change waiting for the update timer's next tick ...
            for _ in range(100):
                await asyncio.sleep(0)
                if waiting_for_its_tick():
                    break
            if waiting_for_its_tick():
                break
            # (the tick came first: again)
        assert waiting_for_its_tick()
        assert not app._screen_settled()  # ... is not settled yet
        await wait_for(pilot, app._screen_settled, what="the change drawn")


async def test_a_key_still_settling_when_the_app_ends_releases_its_claim(console_app: Any) -> None:
    """The settling poll of a key pressed just before quitting can fire once every screen is gone."""
    io = started(claim_seconds=30.0)
    app = console_app(precedence=io.precedence)
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.pause()
        await pilot.press("j")
    assert app.screen_stack == []
    app._key_frame_due = True  # as if its frame had just gone out
    app._release_when_settled()
    assert not app.key_frame_due
    assert schedule(io).wait(5)  # released
    assert gc.isenabled()
