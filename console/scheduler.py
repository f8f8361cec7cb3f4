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
import contextlib
import itertools
from collections.abc import Callable, Iterable
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


Priority = int | Callable[[], int]


class TokenSource(Protocol):
    """The part of `console.budget.Budget` the gate needs: how long until `api` has a token."""

    def wait_time(self, api: str) -> float: ...


class PriorityGate:
    """Lets callers of one API in, highest priority first, no faster than the budget refills.

    The gate takes no tokens itself (the gateway does, right before each request); it decides who asks
    next. A caller is let in only when the budget has a token for the API and fewer than `in_flight`
    callers of it are inside, so at most that many wait in the budget's own first-come queue: when the
    budget is the bottleneck, what is on screen is never stuck behind a queue of background reads.

        async with gate.turn("GetPipelineState", FOCUSED):
            state = await gateway.get_pipeline_state(name)

    A priority may be a function, asked again each time the gate picks: a read already waiting in line
    moves up when its resource comes on screen.
    """

    def __init__(self, budget: TokenSource | None, *, in_flight: int = 2) -> None:
        self._budget = budget
        self._limit = max(1, in_flight)
        self._inside: dict[str, int] = {}
        self._queues: dict[str, list[_Waiter]] = {}
        self._changed: dict[str, asyncio.Event] = {}
        self._dispatchers: dict[str, asyncio.Task[None]] = {}
        self._counter = itertools.count()

    def turn(self, api: str, priority: Priority) -> _Turn:
        return _Turn(self, api, priority)

    def _free(self, api: str) -> bool:
        if self._inside.get(api, 0) >= self._limit:
            return False
        return self._budget is None or self._budget.wait_time(api) <= 0

    async def _enter(self, api: str, priority: Priority) -> None:
        queue = self._queues.setdefault(api, [])
        if not any(not w.future.done() for w in queue) and self._free(api):
            self._inside[api] = self._inside.get(api, 0) + 1
            return
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        queue.append(_Waiter(priority, next(self._counter), future))
        dispatcher = self._dispatchers.get(api)
        if dispatcher is None or dispatcher.done():
            self._dispatchers[api] = asyncio.get_running_loop().create_task(self._dispatch(api), name=f"gate-{api}")
        else:
            self._changed.setdefault(api, asyncio.Event()).set()
        try:
            await future
        except asyncio.CancelledError:
            if future.done() and not future.cancelled():
                self._leave(api)  # let in, then cancelled before using it: give the place back
            raise

    def _leave(self, api: str) -> None:
        self._inside[api] = max(0, self._inside.get(api, 0) - 1)
        self._changed.setdefault(api, asyncio.Event()).set()

    async def _dispatch(self, api: str) -> None:
        queue = self._queues[api]
        changed = self._changed.setdefault(api, asyncio.Event())
        while True:
            queue[:] = [w for w in queue if not w.future.done()]  # drop the ones cancelled while waiting
            if not queue:
                return
            changed.clear()
            if self._inside.get(api, 0) >= self._limit:
                await changed.wait()
                continue
            wait = self._budget.wait_time(api) if self._budget is not None else 0.0
            if wait > 0:
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(wait):
                        await changed.wait()
                continue
            first = min(queue, key=_Waiter.rank)
            queue.remove(first)
            self._inside[api] = self._inside.get(api, 0) + 1
            first.future.set_result(None)

    def close(self) -> None:
        for task in self._dispatchers.values():
            task.cancel()
        for queue in self._queues.values():
            for waiter in queue:
                waiter.future.cancel()
            queue.clear()

    def waiting(self, api: str) -> int:
        return sum(1 for w in self._queues.get(api, ()) if not w.future.done())

    def inside(self, api: str) -> int:
        return self._inside.get(api, 0)

    def free_now(self, api: str) -> bool:
        """Whether a caller would be let in at once (nobody waiting, a token there, room inside)."""
        return self.waiting(api) == 0 and self._free(api)

    @property
    def tasks(self) -> Iterable[asyncio.Task[None]]:
        return tuple(self._dispatchers.values())


@dataclass(eq=False)
class _Waiter:
    priority: Priority
    order: int
    future: asyncio.Future[None]

    def rank(self) -> tuple[int, int]:
        priority = self.priority() if callable(self.priority) else self.priority
        return priority, self.order


class _Turn:
    """`async with gate.turn(api, priority)`: inside, the caller sends its request(s)."""

    def __init__(self, gate: PriorityGate, api: str, priority: Priority) -> None:
        self._gate = gate
        self._api = api
        self._priority = priority

    async def __aenter__(self) -> None:
        await self._gate._enter(self._api, self._priority)

    async def __aexit__(self, *exc: object) -> None:
        self._gate._leave(self._api)
