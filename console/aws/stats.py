"""What a gateway sent: HTTP requests per API (pages and retries included), throttles, errors, timings.

The watcher's tests and the benchmark read these to check the budget holds; the UI can show them.
"""

from __future__ import annotations

import time
from array import array
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

TIMELINE = 10_000  # requests kept in `CallStats.timeline`


class Timeline:
    """The newest `size` requests as (time, API), oldest first: a ring of numbers, 10 bytes a request.

    A deque of `(time, api)` tuples took about 88 bytes a request (the tuple, its float, the deque's slot): 0.9 MB
    a gateway once full, which every console with 8 targets held for the tests' and benchmarks' sake."""

    def __init__(self, size: int = TIMELINE) -> None:
        self._times = array("d", bytes(8 * size))
        self._apis = array("H", bytes(2 * size))  # index into _names
        self._names: list[str] = []
        self._codes: dict[str, int] = {}
        self._size = size
        self._next = 0  # where the next request goes
        self._count = 0

    def append(self, moment: float, api: str) -> None:
        code = self._codes.get(api)
        if code is None:
            code = self._codes[api] = len(self._names)
            self._names.append(api)
        self._times[self._next] = moment
        self._apis[self._next] = code
        self._next = (self._next + 1) % self._size
        self._count = min(self._count + 1, self._size)

    def __len__(self) -> int:
        return self._count

    def __iter__(self) -> Iterator[tuple[float, str]]:
        start = (self._next - self._count) % self._size
        names = self._names
        for offset in range(self._count):
            index = (start + offset) % self._size
            yield self._times[index], names[self._apis[index]]

    def clear(self) -> None:
        self._next = self._count = 0


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
    # watcher, in 100 kB; a console left open for days must not grow with it.
    timeline: Timeline = field(default_factory=Timeline)

    def sent(self, api: str) -> None:
        self.requests[api] += 1
        self.timeline.append(self.clock(), api)

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
