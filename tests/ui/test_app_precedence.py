"""A key claims the watcher's thread's precedence (console/loop_thread.py) and its frame releases it: the
watcher's loop waits while a key is handled and drawn, and only then."""

from __future__ import annotations

from typing import Any

from tests.core.test_loop_thread_precedence import schedule, started


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
