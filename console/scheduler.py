"""When each resource is read: intervals by focus and push, backoff after errors, and who goes first.

Three small pieces the watcher composes:

- `PollSchedule` says how often a resource is read: `focused` for what is on screen, `background` for the
  rest, `push_safety_net` for the rest of a target whose push queue works; staleness is twice that.
- `Wake` is how a resource's poll loop is woken early (a push event, a refresh, a change of focus).
- `PriorityGate` hands out a target's request budget in priority order: what is on screen and what a push
  event names go before background reads, so a large fleet that uses up the budget never delays the screen.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Protocol

from console.config import Intervals

# Priorities of the PriorityGate: lower goes first.
URGENT = 0  # a push event, a refresh asked by a person, a resource that just came into focus
FOCUSED = 1
BACKGROUND = 2

# Wake reasons.
PUSH = "push"
REFRESH = "refresh"
FOCUS = "focus"
RETIME = "retime"  # the interval changed (push went on or off): recompute the wait, do not read now


@dataclass
class PollSchedule:
    """How often each resource is read, from the intervals, what is focused and which targets push."""

    intervals: Intervals
    focused: frozenset[str] = frozenset()
    pushing: set[str] = field(default_factory=set)  # target names whose push queue currently works

    def is_focused(self, key: str) -> bool:
        return key in self.focused

    def interval(self, key: str, target: str) -> float:
        if key in self.focused:
            return self.intervals.focused
        if target in self.pushing:
            return max(self.intervals.push_safety_net, self.intervals.background)
        return self.intervals.background

    def priority(self, key: str) -> int:
        return FOCUSED if key in self.focused else BACKGROUND


def backoff(interval: float, failures: int, cap: float) -> float:
    """The wait before the next read after `failures` failed reads in a row: doubling, up to `cap`."""
    if failures <= 0:
        return interval
    return min(interval * 2.0**failures, max(cap, interval))


class Wake:
    """Wakes one poll loop before its next read is due, and says why (a set of reasons)."""

    def __init__(self) -> None:
        self._event = asyncio.Event()
        self._reasons: set[str] = set()

    def wake(self, reason: str) -> None:
        self._reasons.add(reason)
        self._event.set()

    @property
    def pending(self) -> frozenset[str]:
        return frozenset(self._reasons)

    async def sleep(self, seconds: float) -> frozenset[str]:
        """Wait `seconds` or until woken; returns the reasons (empty when the time simply ran out)."""
        if not self._event.is_set() and seconds > 0:
            try:
                async with asyncio.timeout(seconds):
                    await self._event.wait()
            except TimeoutError:
                pass
        reasons = frozenset(self._reasons)
        self._reasons.clear()
        self._event.clear()
        return reasons


class TokenSource(Protocol):
    """The part of `console.budget.Budget` the gate needs: how long until `api` has a token."""

    def wait_time(self, api: str) -> float: ...


class PriorityGate:
    """Lets callers of one API go one at a time, highest priority first, as fast as the budget refills.

    The gate does not take tokens itself (the gateway does, right before each request); it only decides
    who asks next, so that when the budget is the bottleneck the screen's reads are not stuck behind a
    queue of background reads. Without a budget it is a no-op.
    """

    def __init__(self, budget: TokenSource | None) -> None:
        self._budget = budget
        self._queues: dict[str, list[tuple[int, int, asyncio.Future[None]]]] = {}
        self._dispatchers: dict[str, asyncio.Task[None]] = {}
        self._counter = itertools.count()

    async def turn(self, api: str, priority: int) -> None:
        """Wait until it is this caller's turn to send one `api` request."""
        if self._budget is None:
            return
        queue = self._queues.setdefault(api, [])
        if not queue and self._budget.wait_time(api) <= 0:
            return
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(queue, (priority, next(self._counter), future))
        dispatcher = self._dispatchers.get(api)
        if dispatcher is None or dispatcher.done():
            self._dispatchers[api] = asyncio.get_running_loop().create_task(self._dispatch(api), name=f"gate-{api}")
        await future  # a cancelled waiter is skipped by the dispatcher

    async def _dispatch(self, api: str) -> None:
        assert self._budget is not None
        queue = self._queues[api]
        while queue:
            wait = self._budget.wait_time(api)
            if wait > 0:
                await asyncio.sleep(wait)
                continue
            _, _, future = heapq.heappop(queue)
            if future.done():
                continue
            future.set_result(None)
            # Let the released caller reach the budget and take its token before the next is considered.
            for _ in range(3):
                await asyncio.sleep(0)

    def close(self) -> None:
        for task in self._dispatchers.values():
            task.cancel()
        for queue in self._queues.values():
            for _, _, future in queue:
                future.cancel()
            queue.clear()

    def waiting(self, api: str) -> int:
        return sum(1 for _, _, f in self._queues.get(api, ()) if not f.done())

    @property
    def tasks(self) -> Iterable[asyncio.Task[None]]:
        return tuple(self._dispatchers.values())
