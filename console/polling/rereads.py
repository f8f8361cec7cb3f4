"""One read per resource however many pushed events ask for it (`Rereads`), for push routing and the sources."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable, Coroutine
from functools import partial
from typing import Any

from console.polling.slots import TargetRun
from console.scheduler import PUSH

REREAD_DELAY = 0.1  # seconds: the events of one resource that come together make one read
REREAD_JITTER = 0.6  # plus up to this many, drawn by each console: a team's reads spread out


class Rereads:
    """One read per resource per moment, however many events ask for it: asked, it waits `delay` plus a
    random part of `jitter` (each console draws its own, so a team spreads its reads), and events that ask
    meanwhile join it."""

    def __init__(
        self, delay: float = REREAD_DELAY, jitter: float = REREAD_JITTER, rng: random.Random | None = None
    ) -> None:
        self.delay = delay
        self.jitter = jitter
        self._rng = rng or random.Random()
        self._pending: dict[str, asyncio.TimerHandle] = {}
        self.tasks: set[asyncio.Task[None]] = set()
        self.asked = 0  # reads asked for
        self.joined = 0  # asks that joined a read already waiting

    def ask(self, key: str, read: Callable[[], Coroutine[Any, Any, None] | None]) -> bool:
        """Read `key` soon (`read()` starts it); False when a read of it already waits (this ask joins it)."""
        if key in self._pending:
            self.joined += 1
            return False
        self.asked += 1
        wait = self.delay + self._rng.uniform(0.0, self.jitter)
        self._pending[key] = asyncio.get_running_loop().call_later(wait, self._fire, key, read)
        return True

    def _fire(self, key: str, read: Callable[[], Coroutine[Any, Any, None] | None]) -> None:
        self._pending.pop(key, None)
        started = read()
        if started is not None:
            task = asyncio.get_running_loop().create_task(started, name=f"reread {key}")
            self.tasks.add(task)
            task.add_done_callback(self.tasks.discard)

    def close(self) -> list[asyncio.Task[None]]:
        """Drop the reads not started; the ones under way are returned for the caller to cancel."""
        for handle in self._pending.values():
            handle.cancel()
        self._pending.clear()
        return list(self.tasks)

    def list_again(self, run: TargetRun) -> None:
        """List `run`'s target soon: an event named a resource not listed yet."""
        self.ask(f"{run.target.name} lists", partial(run.list_wake.wake, PUSH))
