"""`LoopThread`: an asyncio event loop in a thread of its own, and the bridge to await its coroutines from another.

The console's UI loop draws frames and takes keys; the AWS clients (console/aws/gateway.py) and the watcher
(console/watch.py `ThreadedWatcher`) can run here instead, so a response being parsed or a model being diffed
never delays a key by more than the interpreter's switch interval. Results come back as awaited values
(`asyncio.run_coroutine_threadsafe` + `asyncio.wrap_future`) or as callbacks the receiver hands to its own loop.

A thread is not enough on its own: Python runs one thread at a time, and while the loop here parses answers
(half a core's worth at 2,000 pipelines) a key's handling and its frame get the interpreter only every other
switch interval, at half speed or worse. `Precedence` is the keys' claim: from a key until its frame is out
(`claim`, `release`; console/app.py), this loop waits before its next round and before the watcher takes each
answer (console/aws/gateway.py), so the key has the interpreter to itself: at 2,000 pipelines the loop is never
idle (its rounds take 50 to 300 ms), and a wait between rounds alone would seldom come in time. What is under way
finishes first (an answer being parsed); a claim lasts `CLAIM_SECONDS` at the most, and after a wait the loop runs
`RUN_SECONDS` before it waits again, so a key held down never stops the reading.
"""

from __future__ import annotations

import asyncio
import math
import selectors
import threading
import time
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")

CLAIM_SECONDS = 0.1  # the longest this loop waits for one key (a key's screen settles in 10 to 70 ms)
RUN_SECONDS = 0.02  # after a wait, this loop runs at least this long before it waits again


class Precedence:
    """The keys' claim on the interpreter: while claimed, the loop thread waits before its next round.

    `claim` and `release` are called from the UI's thread; `wait` from the loop thread (its selector, the
    gateway's answers)."""

    def __init__(self, claim_seconds: float = CLAIM_SECONDS, run_seconds: float = RUN_SECONDS) -> None:
        self.claim_seconds = claim_seconds
        self.run_seconds = run_seconds
        self._free = threading.Event()
        self._free.set()
        self._until = 0.0  # when the claim lapses (monotonic)
        self._resumed = -math.inf  # when the loop last went on after waiting
        self.waited = 0.0  # seconds the loop spent waiting for keys, in all
        self.claims = 0  # keys that claimed it
        self.enabled = True  # False: keys take their chances (benchmarks/ui_keys.py compares)

    def claim(self) -> None:
        self._until = time.monotonic() + self.claim_seconds
        self._free.clear()
        self.claims += 1

    def release(self) -> None:
        self._free.set()

    def wait(self) -> None:
        if self._free.is_set() or not self.enabled:
            return
        began = time.monotonic()
        if began - self._resumed < self.run_seconds:
            return  # it has just waited: its turn
        left = self._until - began
        if left > 0:
            self._free.wait(left)  # the interpreter is the key's meanwhile
            self._resumed = time.monotonic()
            self.waited += self._resumed - began


_thread = threading.local()  # `owner`: the LoopThread whose loop runs on this thread


def checkpoint() -> None:
    """Inside a long piece of the loop thread's work (an answer about to be parsed, an item of a batch), let a
    claimed key go first, as the loop does between rounds. Anywhere else (the UI's thread, a loop of its own in a
    test), it does nothing; unclaimed, it costs an attribute lookup and a flag test.

    The loop waits only between callbacks, and at 2,000 pipelines some of its callbacks take 10 to 50 ms (botocore
    parsing an answer; a batch of pushed events; the picture's staleness windows worked out again): a key that
    came meanwhile shared the interpreter with them for as long, 30 to 60 ms of the loop's work inside one key."""
    owner: LoopThread | None = getattr(_thread, "owner", None)
    if owner is not None:
        owner.precedence.wait()


class _YieldingSelector(selectors.DefaultSelector):
    """The loop's selector, asked once a round: it lets a claimed key go first."""

    def __init__(self, precedence: Precedence) -> None:
        super().__init__()
        self._precedence = precedence

    def select(self, timeout: float | None = None) -> list[tuple[selectors.SelectorKey, int]]:
        self._precedence.wait()
        return super().select(timeout)


class LoopThread:
    """An event loop in a daemon thread of its own: where the gateways keep their AWS clients and send, and where
    the watcher can run, away from the loop that draws the screen and takes the keys.

    The thread starts on first use and lives as long as the process (a daemon: nothing to stop at exit); one
    `LoopThread` serves any number of gateways (and a watcher). `run(coroutine)` runs a coroutine there and awaits
    its result from the caller's loop (`run_coroutine_threadsafe` + `wrap_future`); cancelling the caller cancels
    it there too. Called from the thread's own loop, it simply awaits.
    """

    def __init__(self, name: str = "wavedeck-aws") -> None:
        self.name = name
        self._loop: asyncio.AbstractEventLoop | None = None
        self._lock = threading.Lock()
        self.precedence = Precedence()

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        with self._lock:
            if self._loop is None:
                loop = asyncio.SelectorEventLoop(_YieldingSelector(self.precedence))
                threading.Thread(target=self._run_forever, args=(loop,), name=self.name, daemon=True).start()
                self._loop = loop
            return self._loop

    def _run_forever(self, loop: asyncio.AbstractEventLoop) -> None:
        _thread.owner = self  # `checkpoint` finds its precedence here
        loop.run_forever()

    async def run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        loop = self.loop
        if asyncio.get_running_loop() is loop:
            return await coroutine
        return await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(coroutine, loop))
