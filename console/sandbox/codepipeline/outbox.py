"""Puts the engine's events on the EventBridge bus, in order, off the engine's clock and request threads.

Delivering one event through moto (rule matching, the target's input, SQS) costs a fraction of a
millisecond once `events` has patched moto (tens of milliseconds without), still too much for a request or
the clock tick to wait for when a busy fleet changes hundreds of states at once. Once started, a thread of
its own delivers them; before that (warm-up) the caller delivers them itself. The thread takes at most half
of each 100 ms (Python runs one thread at a time: a delivery thread that never paused would slow every
request). The backlog is bounded: events are best effort, and should delivery ever fall that far behind the
oldest ones are dropped and a warning says how many.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Iterable

from console.sandbox import events
from console.sandbox.codepipeline.records import PendingEvent

LOG = logging.getLogger(__name__)

MAX_BACKLOG = 20_000
WARN_EVERY = 60.0  # seconds between two warnings about dropped events
WINDOW = 0.1  # seconds
SHARE = 0.5  # of each window the delivery thread may spend delivering


class EventOutbox:
    """An ordered, bounded queue of events and the thread that delivers them."""

    def __init__(self, source: str = "aws.codepipeline", max_backlog: int = MAX_BACKLOG) -> None:
        self.source = source
        self._queue: deque[tuple[float, PendingEvent]] = deque()  # (unix time handed over, event)
        self._max = max_backlog
        self._lock = threading.Lock()  # one deliverer at a time keeps the order
        self._wake = threading.Event()
        self._halt = threading.Event()
        self._thread: threading.Thread | None = None
        self.dropped = 0
        self._warned_at = 0.0

    @property
    def running(self) -> bool:
        return self._thread is not None

    def put(self, batch: Iterable[PendingEvent]) -> None:
        """Queue events in the order they happened (the engine calls this under its lock)."""
        handed_at = time.time()
        items = [(handed_at, event) for event in batch]
        self._queue.extend(items)
        if events.trace is not None and items:
            events.trace.note_handed(handed_at, len(items))
        overflow = len(self._queue) - self._max
        if overflow > 0:
            for _ in range(overflow):
                try:
                    dropped_at, _event = self._queue.popleft()
                except IndexError:  # the delivery thread got there first
                    break
                if events.trace is not None:
                    events.trace.note_dropped(dropped_at)
            self.dropped += overflow
            if time.monotonic() - self._warned_at > WARN_EVERY:
                self._warned_at = time.monotonic()
                LOG.warning("EventBridge delivery is behind: %d CodePipeline events dropped so far", self.dropped)
        if self._thread is not None:
            self._wake.set()

    def start(self) -> None:
        if self._thread is None:
            self._halt.clear()
            self._thread = threading.Thread(target=self._run, name="codepipeline-events", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        self._halt.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def deliver(self) -> None:
        """Deliver everything queued, unless the delivery thread does it."""
        if self._thread is None:
            self._drain()

    def _run(self) -> None:
        while not self._halt.is_set():
            self._wake.wait(0.5)
            self._wake.clear()
            try:
                self._drain(pace=True)
            except Exception:  # noqa: BLE001 - delivery must go on
                LOG.exception("could not deliver CodePipeline events")

    def _drain(self, pace: bool = False) -> None:
        with self._lock:
            window, busy = time.monotonic(), 0.0
            while self._queue and not self._halt.is_set():
                try:
                    handed_at, event = self._queue.popleft()
                except IndexError:
                    return
                began = time.monotonic()
                events.emit(
                    event.account,
                    event.region,
                    self.source,
                    event.detail_type,
                    dict(event.detail),
                    list(event.resources),
                    event.time,
                    handed_at=handed_at,
                )
                if not pace:
                    continue
                now = time.monotonic()
                busy += now - began
                if now - window >= WINDOW:
                    window, busy = now, 0.0
                elif busy >= WINDOW * SHARE:
                    self._halt.wait(WINDOW - (now - window))
                    window, busy = time.monotonic(), 0.0
