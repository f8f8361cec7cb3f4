"""The watcher's bookkeeping: one slot per polled resource, one run per target (mutable, private to it).

Each service package subclasses `Slot` with what it keeps of a resource between reads (`PipelineSlot` in
`console/codepipeline/slots.py`, …), and keeps its slots in the run under its service (`TargetRun.of`).
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import ClassVar

from console.model import Resource, Service, Target, TargetStatus
from console.polling.events_apply import EventMarks
from console.polling.gate import PriorityGate, TokenSource
from console.polling.reader import FleetReader
from console.push import PushEvent
from console.scheduler import Wake
from console.waves import WaveModel

PUSHED_KEPT = 32  # events kept per resource while a read of it is on the wire, to lay again over that read


@dataclass(eq=False, slots=True)
class Slot:
    """One polled resource: its loop task, its wake-up, its failures and who waits for its next read."""

    key: str
    target: str
    wake: Wake = field(default_factory=Wake)
    task: asyncio.Task[None] | None = None
    failures: int = 0
    attempted: bool = False  # read (or tried) at least once
    waiters: list[asyncio.Future[None]] = field(default_factory=list)
    last_start: float | None = None  # loop time the last read began (None: never read)
    # Pushed events: the order of the last one applied to each item, and those that came while a read was
    # on the wire, with the loop time they came at (that read may not show them: they are laid over it again).
    # The deque is made by the first such event and dropped when emptied: most resources never have one, and
    # a deque is 0.8 KB even empty.
    marks: EventMarks = field(default_factory=EventMarks)
    reading: int = 0  # reads of this resource on the wire now
    pushed: deque[tuple[float, PushEvent]] | None = None

    # The service whose resource this is, and the API whose budget paces its reads (staleness, the push safety net).
    service: ClassVar[Service]
    paced_by: ClassVar[str]

    def background(self) -> tuple[asyncio.Task[None], ...]:
        """Reads it runs besides its loop (ended with it)."""
        return ()

    def failed(self, shown: Resource | None, target: str, message: str, waves: WaveModel) -> Resource:
        """Its picture with the error of its last read: the one shown with `error` set, or one with only its name
        (placed in its wave by `waves` when its service places a resource whole)."""
        raise NotImplementedError

    def keep_pushed(self, arrived: float, event: PushEvent) -> None:
        """Keep `event`, come at loop time `arrived`, to lay it again over a read (the newest PUSHED_KEPT)."""
        if self.pushed is None:
            self.pushed = deque(maxlen=PUSHED_KEPT)
        self.pushed.append((arrived, event))

    def settle_waiters(self) -> None:
        for waiter in self.waiters:
            if not waiter.done():
                waiter.set_result(None)
        self.waiters.clear()


@dataclass(eq=False)
class TargetRun:
    """One target: its reader, its budget and gate, its resources, and what is known of its health."""

    target: Target
    reader: FleetReader
    gate: PriorityGate
    budget: TokenSource | None = None
    # Each service's slots, by the service, then as its package keys them (a pipeline's name, a state machine's ARN).
    resources: dict[Service, dict[str, Slot]] = field(default_factory=dict)
    listed: bool = False  # listed once, or failed to
    list_failures: int = 0
    list_wake: Wake = field(default_factory=Wake)
    list_waiters: list[asyncio.Future[None]] = field(default_factory=list)
    status: TargetStatus | None = None
    read_error: str | None = None
    push_error: str | None = None
    # Per API (GetPipelineState, ListPipelines…): consecutive failures and the last one's one-line error. An API
    # is unreachable while its latest outcomes are failures; another API's success says nothing about it.
    api_failures: dict[str, int] = field(default_factory=dict)
    api_errors: dict[str, str] = field(default_factory=dict)

    def of(self, service: Service) -> dict[str, Slot]:
        """The slots of one service's resources (the service package narrows them to its own slot type)."""
        return self.resources.setdefault(service, {})

    def slots(self) -> tuple[Slot, ...]:
        return tuple(slot for slots in self.resources.values() for slot in slots.values())

    def settle_list_waiters(self) -> None:
        for waiter in self.list_waiters:
            if not waiter.done():
                waiter.set_result(None)
        self.list_waiters.clear()


def drop(slot: Slot) -> None:
    """End a resource's loop (and its background reads) and release whoever waits for its next read."""
    if slot.task is not None:
        slot.task.cancel()
    for task in slot.background():
        task.cancel()
    slot.settle_waiters()


@asynccontextmanager
async def on_the_wire(slot: Slot) -> AsyncIterator[None]:
    """A read of `slot` is on the wire: events that come meanwhile are kept to be laid over its answer."""
    slot.reading += 1
    try:
        yield
    finally:
        slot.reading -= 1
