"""Who reads next: a request budget handed out by priority, fairly, one API at a time.

Every read of the watcher passes through a `PriorityGate` (one per budget, so targets that share an
account's budget share its gate):

    async with gate.turn("GetPipelineState", FOCUSED, since=last_read):
        state = await gateway.get_pipeline_state(name)

A caller is let in only with a token in hand (`Budget.reserve`), and at most `in_flight` callers of one
API are inside at once, so requests go out in parallel as fast as the budget allows and none of them
queues inside the budget ahead of what is on screen. Who is let in next:

1. urgent reads (a push event, a refresh asked by a person, a resource that just came on screen);
2. reads of what is on screen and reads of the rest share the budget: when both are waiting they take
   turns in proportion to `FOCUS_SHARE`, so neither can starve the other (while one class waits for
   nothing, the other has the whole budget);
3. within each of these, the resource read longest ago goes first, and one never read before goes first of
   all: every resource is read once per round, and a fleet that has just been discovered fills in first.

`console.scheduler.expected_intervals` is the same arithmetic, used to say when a resource is stale.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Protocol

from console.scheduler import BACKGROUND, FOCUS_SHARE, FOCUSED, URGENT

# Requests of one API on the wire at once: enough to read a 200-pipeline account in well under a second
# at the ~50 ms a round trip to AWS takes (the budget, not this, is what keeps it inside AWS's limits), few
# enough to stay well inside the gateway's connection pool.
IN_FLIGHT = 16
# How long to wait before asking the budget again when it has a token but others already wait inside it.
_RECHECK = 0.01

Priority = int | Callable[[], int]


class TokenSource(Protocol):
    """The part of `console.budget.Budget` the gate needs."""

    def wait_time(self, api: str) -> float: ...

    def reserve(self, api: str) -> bool: ...

    def unreserve(self, api: str, keep: int) -> None: ...

    def rate(self, api: str) -> float: ...


class PriorityGate:
    """Lets callers of one API in by priority and fair shares, no faster than the budget refills.

    A priority may be a function, asked again each time the gate picks: a read already waiting in line
    moves up when its resource comes on screen. `since` (a monotonic time, None for never) orders the
    callers of one class: the oldest read goes first.
    """

    def __init__(
        self, budget: TokenSource | None, *, in_flight: int = IN_FLIGHT, focus_share: float = FOCUS_SHARE
    ) -> None:
        self._budget = budget
        self._limit = max(1, in_flight)
        self._share = min(max(focus_share, 0.0), 1.0)
        self._inside: dict[str, int] = {}
        self._queues: dict[str, list[_Waiter]] = {}
        self._changed: dict[str, asyncio.Event] = {}
        self._dispatchers: dict[str, asyncio.Task[None]] = {}
        self._turns: dict[str, list[float]] = {}  # per API: [focused, background] virtual time of the shares
        self._counter = itertools.count()

    @property
    def budget(self) -> TokenSource | None:
        return self._budget

    def turn(self, api: str, priority: Priority, since: float | None = None) -> _Turn:
        return _Turn(self, api, priority, since)

    def _admit(self, api: str) -> bool:
        """Take a place inside (and a token) if both are there now."""
        if self._inside.get(api, 0) >= self._limit:
            return False
        if self._budget is not None and not self._budget.reserve(api):
            return False
        self._inside[api] = self._inside.get(api, 0) + 1
        return True

    async def _enter(self, api: str, priority: Priority, since: float | None) -> None:
        queue = self._queues.setdefault(api, [])
        if not any(not w.future.done() for w in queue) and self._admit(api):
            return
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        queue.append(_Waiter(priority, -math.inf if since is None else since, next(self._counter), future))
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
        inside = max(0, self._inside.get(api, 0) - 1)
        self._inside[api] = inside
        if self._budget is not None:
            self._budget.unreserve(api, inside)
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
            if self._budget is not None and not self._budget.reserve(api):
                wait = max(self._budget.wait_time(api), _RECHECK)
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(wait):
                        await changed.wait()
                continue
            first = self._pick(api, queue)
            queue.remove(first)
            self._inside[api] = self._inside.get(api, 0) + 1
            first.future.set_result(None)

    def _pick(self, api: str, queue: list[_Waiter]) -> _Waiter:
        levels = [(w.level(), w) for w in queue]
        urgent = [w for level, w in levels if level <= URGENT]
        if urgent:
            return min(urgent, key=_Waiter.key)
        focused = [w for level, w in levels if level == FOCUSED]
        rest = [w for level, w in levels if level >= BACKGROUND]
        if focused and rest:
            # Both classes wait: the one further behind its share goes. Only these contended picks count,
            # so a class that waited for nothing a while has banked nothing.
            turns = self._turns.setdefault(api, [0.0, 0.0])
            if self._share >= 1.0 or (self._share > 0.0 and turns[0] <= turns[1]):
                turns[0] += 1.0 / self._share if self._share > 0.0 else 0.0
                return min(focused, key=_Waiter.key)
            turns[1] += 1.0 / (1.0 - self._share) if self._share < 1.0 else 0.0
            return min(rest, key=_Waiter.key)
        return min(focused or rest, key=_Waiter.key)

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
        """Whether a caller would be let in at once (nobody waiting, room inside, a token there)."""
        if self.waiting(api) or self._inside.get(api, 0) >= self._limit:
            return False
        return self._budget is None or self._budget.wait_time(api) <= 0

    @property
    def tasks(self) -> Iterable[asyncio.Task[None]]:
        return tuple(self._dispatchers.values())


@dataclass(eq=False)
class _Waiter:
    priority: Priority
    since: float  # when its resource was last read (-inf: never)
    order: int
    future: asyncio.Future[None]

    def level(self) -> int:
        return self.priority() if callable(self.priority) else self.priority

    def key(self) -> tuple[float, int]:
        return self.since, self.order


class _Turn:
    """`async with gate.turn(api, priority)`: inside, the caller sends its request(s)."""

    def __init__(self, gate: PriorityGate, api: str, priority: Priority, since: float | None) -> None:
        self._gate = gate
        self._api = api
        self._priority = priority
        self._since = since

    async def __aenter__(self) -> None:
        await self._gate._enter(self._api, self._priority, self._since)

    async def __aexit__(self, *exc: object) -> None:
        self._gate._leave(self._api)
