"""What a gateway sent: HTTP requests per API (pages and retries included), throttles, errors, timings.

The watcher's tests and the benchmark read these to check the budget holds; the UI can show them.
"""

from __future__ import annotations

import time
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass, field

TIMELINE = 10_000  # requests kept in `CallStats.timeline`


@dataclass
class CallStats:
    """Counters of one gateway. `requests` counts every HTTP request sent (each page, each retry)."""

    clock: Callable[[], float] = time.monotonic
    requests: Counter[str] = field(default_factory=Counter)
    throttles: Counter[str] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)
    history_events: int = 0  # GetExecutionHistory events received over the wire, duplicates included
    sessions: int = 0  # sessions opened: 1, plus one per recovery from expired credentials
    waited: float = 0.0  # seconds spent waiting for the budget
    # The newest requests (time, API), for the budget checks of tests and benchmarks: minutes of a busy
    # watcher, in about a megabyte; a console left open for days must not grow with it.
    timeline: deque[tuple[float, str]] = field(default_factory=lambda: deque(maxlen=TIMELINE))

    def sent(self, api: str) -> None:
        self.requests[api] += 1
        self.timeline.append((self.clock(), api))

    @property
    def total(self) -> int:
        return sum(self.requests.values())

    def busiest_second(self, api: str | None = None) -> int:
        """The most requests (of `api`, or all) sent within any one-second window of the timeline."""
        times = [t for t, name in self.timeline if api is None or name == api]
        best = 0
        start = 0
        for end, moment in enumerate(times):
            while moment - times[start] >= 1.0:
                start += 1
            best = max(best, end - start + 1)
        return best

    def reset(self) -> None:
        self.requests.clear()
        self.throttles.clear()
        self.errors.clear()
        self.timeline.clear()
        self.history_events = 0
        self.waited = 0.0
