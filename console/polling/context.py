"""What every part of the watcher is given, and the poll loop each polled resource runs.

One loop per resource means reads of one resource never overlap: read, then wait for the next read to be
due (its interval after the last read began, longer after failures) or to be woken (a push event, a
refresh, a change of focus). Every read goes through the target's gate, which decides who goes first.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Coroutine, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from typing import Any, Protocol

from console.config import Intervals
from console.errors import AwsError
from console.polling.gate import Priority
from console.polling.publisher import FleetPublisher
from console.polling.slots import Slot, TargetRun
from console.scheduler import FOCUS, PUSH, REFRESH, URGENT, PollSchedule, backoff
from console.waves import WaveModel

LOG = logging.getLogger(__name__)

# read(source, priority, since): one read of a resource; `since` is when the previous one began.
Read = Callable[[str, Priority, float | None], Awaitable[None]]


class ReadSharing(Protocol):
    """Where a poller offers what it read, for a team's other consoles (`console/polling/team_reads.py`)."""

    def offer(
        self,
        run: TargetRun,
        service: str,
        api: str,
        resource: str,
        read_at: datetime,
        encode: Callable[[], dict[str, Any]],
        *,
        each: bool = False,
    ) -> None:
        """`encode()` gives the read's payload; it is called only if the read is shared, and later. A newer read
        of the same resource replaces one not sent yet, unless `each` (reads that follow on: history pages)."""
        ...


@dataclass(eq=False)
class WatchContext:
    """The watcher's shared parts: settings, schedule, publisher, targets, and the tasks it owns."""

    intervals: Intervals
    waves: WaveModel
    schedule: PollSchedule
    publisher: FleetPublisher
    runs: dict[str, TargetRun]
    tasks: list[asyncio.Task[None]] = field(default_factory=list)
    started: bool = False
    # When the watcher started (the wall clock, as AWS stamps executions): what started later is all news.
    started_at: datetime | None = None
    stopping: bool = False
    # Set by push routing when a target is pushed through a topic: reads offered here reach the team.
    sharing: ReadSharing | None = None

    def spawn(self, coroutine: Coroutine[Any, Any, None], name: str) -> asyncio.Task[None]:
        """A task the watcher owns until it stops."""
        task = asyncio.get_running_loop().create_task(coroutine, name=name)
        self.tasks.append(task)
        return task

    def share_read(
        self,
        run: TargetRun,
        service: str,
        api: str,
        resource: str,
        read_at: datetime,
        encode: Callable[[], dict[str, Any]],
        *,
        each: bool = False,
    ) -> None:
        """Offer a read (`api` of `resource`) to the team's other consoles, if this console shares its reads."""
        if self.sharing is not None:
            self.sharing.offer(run, service, api, resource, read_at, encode, each=each)

    def slots(self) -> Iterable[Slot]:
        for run in self.runs.values():
            yield from run.slots()

    def now(self) -> datetime:
        return self.publisher.now()

    @staticmethod
    def mono() -> float:
        return asyncio.get_running_loop().time()

    def rank(self, key: str, urgency: int) -> int:
        """A read's level in the gate: as urgent as it was asked, or more if its resource comes on screen."""
        return min(urgency, self.schedule.priority(key))

    async def poll_loop(self, run: TargetRun, slot: Slot, read: Read) -> None:
        """Read, then wait for the next read to be due (or to be woken), forever. Never two reads at once."""
        source, urgency = "poll", self.schedule.priority(slot.key)
        while True:
            since, slot.last_start = slot.last_start, self.mono()
            ok = False
            try:
                # Asked again while the read waits in line: it moves up if its resource comes on screen.
                await read(source, partial(self.rank, slot.key, urgency), since)
                ok = True
            except AwsError as exc:
                self.publisher.resource_failed(run, slot, exc)
            except Exception as exc:  # noqa: BLE001 - a surprise in one resource must not end its loop
                LOG.exception("reading %s", slot.key)
                self.publisher.resource_failed(run, slot, exc)
            slot.failures = 0 if ok else slot.failures + 1
            if not slot.attempted:
                slot.attempted = True
                self.publisher.check_ready()
            slot.settle_waiters()
            source, urgency = await self._wait_due(slot)

    async def _wait_due(self, slot: Slot) -> tuple[str, int]:
        while True:
            interval = self.schedule.interval(slot.key, slot.target)
            cap = max(2 * self.intervals.background, interval)
            due = backoff(interval, slot.failures, cap)
            elapsed = self.mono() - (slot.last_start or 0.0)
            reasons = await slot.wake.sleep(max(0.0, due - elapsed))
            if not reasons:
                return "poll", self.schedule.priority(slot.key)
            if PUSH in reasons:
                return "push", URGENT
            if REFRESH in reasons:
                return "poll", URGENT
            if FOCUS in reasons and self.schedule.is_focused(slot.key):
                if self.mono() - (slot.last_start or 0.0) >= self.intervals.focused:
                    return "poll", URGENT
            # RETIME, or focus on something read a moment ago: recompute when the next read is due.
