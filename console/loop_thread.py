"""`LoopThread`: an asyncio event loop in a thread of its own, and the bridge to await its coroutines from another.

The console's UI loop draws frames and takes keys; the AWS clients (console/aws/gateway.py) and the watcher
(console/watch.py `ThreadedWatcher`) can run here instead, so a response being parsed or a model being diffed
never delays a key by more than the interpreter's switch interval. Results come back as awaited values
(`asyncio.run_coroutine_threadsafe` + `asyncio.wrap_future`) or as callbacks the receiver hands to its own loop.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")


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

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        with self._lock:
            if self._loop is None:
                loop = asyncio.new_event_loop()
                threading.Thread(target=loop.run_forever, name=self.name, daemon=True).start()
                self._loop = loop
            return self._loop

    async def run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        loop = self.loop
        if asyncio.get_running_loop() is loop:
            return await coroutine
        return await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(coroutine, loop))
