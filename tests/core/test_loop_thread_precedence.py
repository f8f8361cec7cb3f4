"""Keys go first (console/loop_thread.py `Precedence`): while a key claims the interpreter, the watcher's loop
waits before its next round; it goes on when the key's frame is out, when the claim lapses, or at once when
precedence is off. A key held down never stops it for long."""

from __future__ import annotations

import asyncio
import threading

from console.loop_thread import LoopThread, checkpoint


def started(claim_seconds: float) -> LoopThread:
    io = LoopThread("wavedeck-precedence-test")
    io.precedence.claim_seconds = claim_seconds
    asyncio.run_coroutine_threadsafe(asyncio.sleep(0), io.loop).result(5)  # its loop runs, idle
    return io


def schedule(io: LoopThread) -> threading.Event:
    """A coroutine handed to the loop: it runs in the loop's next round."""
    ran = threading.Event()

    async def mark() -> None:
        ran.set()

    asyncio.run_coroutine_threadsafe(mark(), io.loop)
    return ran


def test_a_claim_holds_the_loop_until_it_is_released() -> None:
    io = started(claim_seconds=30.0)
    io.precedence.claim()
    ran = schedule(io)
    assert not ran.wait(0.3)  # the key's: the loop waits
    io.precedence.release()
    assert ran.wait(5)
    assert io.precedence.waited > 0.2
    assert io.precedence.claims == 1


def test_a_claim_never_released_lapses() -> None:
    io = started(claim_seconds=0.2)
    io.precedence.claim()
    ran = schedule(io)
    assert ran.wait(5)  # without a release: after claim_seconds
    assert 0.15 < io.precedence.waited < 5


def test_after_a_wait_the_loop_has_its_turn_before_it_waits_again() -> None:
    io = started(claim_seconds=30.0)
    io.precedence.run_seconds = 30.0
    io.precedence.claim()
    first = schedule(io)
    assert not first.wait(0.3)  # the loop waits for the key
    io.precedence.release()
    assert first.wait(5)
    io.precedence.claim()  # a key held down: claim after claim
    assert schedule(io).wait(5)  # within its turn, the loop goes on


def test_with_precedence_off_the_loop_never_waits() -> None:
    io = started(claim_seconds=30.0)
    io.precedence.enabled = False
    io.precedence.claim()
    assert schedule(io).wait(5)
    assert io.precedence.waited == 0.0


def test_a_checkpoint_inside_the_loops_work_waits_for_a_claimed_key() -> None:
    """`checkpoint` in the middle of a callback (an answer about to be parsed, a batch of events) waits as the
    loop does between rounds; on any other thread it never waits."""
    io = started(claim_seconds=30.0)
    halfway, claimed, done = threading.Event(), threading.Event(), threading.Event()

    async def long_work() -> None:
        halfway.set()
        claimed.wait(5)  # a key comes while this callback runs
        checkpoint()  # no await: the same callback
        done.set()

    asyncio.run_coroutine_threadsafe(long_work(), io.loop)
    assert halfway.wait(5)
    io.precedence.claim()
    claimed.set()
    assert not done.wait(0.3)  # the key's
    io.precedence.release()
    assert done.wait(5)
    io.precedence.claim()
    checkpoint()  # this thread runs no loop: nothing to wait for
    io.precedence.release()
