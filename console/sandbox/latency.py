"""`wavedeck sandbox --latency MS`: every answer of the sandbox takes as long as a round trip to AWS would.

Against a local sandbox a request costs almost nothing, while a call to AWS costs tens of milliseconds, so
a client that sends its requests one after the other looks as fast locally as one that sends them in
parallel. `Latency` is a WSGI middleware that sleeps in the request's own thread before handling it: the
server is threaded, so concurrent requests wait side by side, as they would on the way to AWS.

It is switched on once the sandbox is ready (`start`): seeding and warming up, which talk to the sandbox
over HTTP themselves, are not slowed down.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


class Latency:
    """Delays every request by `milliseconds` once started (0: passes requests straight through)."""

    def __init__(self, app: WsgiApp, milliseconds: float) -> None:
        if milliseconds < 0:
            raise ValueError(f"latency cannot be negative, got {milliseconds:g} ms")
        self.app = app
        self.seconds = milliseconds / 1000.0
        self._on = threading.Event()

    def start(self) -> None:
        self._on.set()

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if self.seconds > 0 and self._on.is_set():
            time.sleep(self.seconds)
        return self.app(environ, start_response)
