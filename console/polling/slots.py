"""The watcher's bookkeeping: one slot per polled resource, one run per target (mutable, private to it)."""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime

from console.model import (
    Pipeline,
    PipelineExecution,
    PipelineState,
    PipelineSummary,
    StateMachineDetail,
    StateMachineSummary,
    Target,
    TargetStatus,
)
from console.polling.events_apply import EventMarks
from console.polling.gate import PriorityGate, TokenSource
from console.polling.reader import FleetReader
from console.push import PushEvent
from console.scheduler import Wake

PUSHED_KEPT = 32  # events kept per resource while a read of it is on the wire, to lay again over that read


@dataclass(eq=False)
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
    marks: EventMarks = field(default_factory=EventMarks)
    reading: int = 0  # reads of this resource on the wire now
    pushed: deque[tuple[float, PushEvent]] = field(default_factory=lambda: deque(maxlen=PUSHED_KEPT))

    def settle_waiters(self) -> None:
        for waiter in self.waiters:
            if not waiter.done():
                waiter.set_result(None)
        self.waiters.clear()


@dataclass(eq=False)
class PipelineSlot(Slot):
    summary: PipelineSummary = field(default_factory=lambda: PipelineSummary(""))
    structure: Pipeline | None = None
    executions: tuple[PipelineExecution, ...] | None = None
    signature: tuple[object, ...] | None = None
    listed_at: float = 0.0
    state: PipelineState | None = None  # the last GetPipelineState
    state_read_at: datetime | None = None  # when it was read: the published `read_at`, also after enrichment
    state_source: str = "poll"  # what asked for it: poll | push
    executions_shown: bool = False  # the published Pipeline carries listed executions
    # What the first read showed, when it was published before the executions were listed.
    first_seen_until: datetime | None = None  # AWS's time of the newest change in that state
    first_had_runs: bool = False
    enrichment: asyncio.Task[None] | None = None
    # News held back until the executions are listed (a new execution's start goes before its stages'):
    # the pipeline as last told, and when the holding began.
    untold: Pipeline | None = None
    untold_since: float | None = None
    # Set while GetPipelineState cannot answer (a partial endpoint): one line that says so and what is shown.
    state_note: str | None = None


@dataclass(eq=False)
class MachineSlot(Slot):
    summary: StateMachineSummary = field(default_factory=lambda: StateMachineSummary("", ""))
    detail: StateMachineDetail | None = None
    timeouts: dict[str, int] = field(default_factory=dict)  # state → TimeoutSeconds, for approval expiry
    branches: dict[tuple[str, str], int] = field(default_factory=dict)  # (Parallel, first state) → branch number
    described_at: float | None = None


@dataclass(eq=False)
class TargetRun:
    """One target: its reader, its budget and gate, its resources, and what is known of its health."""

    target: Target
    reader: FleetReader
    gate: PriorityGate
    budget: TokenSource | None = None
    pipelines: dict[str, PipelineSlot] = field(default_factory=dict)  # by name
    machines: dict[str, MachineSlot] = field(default_factory=dict)  # by ARN
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

    def slots(self) -> tuple[Slot, ...]:
        return (*self.pipelines.values(), *self.machines.values())

    def settle_list_waiters(self) -> None:
        for waiter in self.list_waiters:
            if not waiter.done():
                waiter.set_result(None)
        self.list_waiters.clear()


def drop(slot: Slot) -> None:
    """End a resource's loop (and its background reads) and release whoever waits for its next read."""
    if slot.task is not None:
        slot.task.cancel()
    if isinstance(slot, PipelineSlot) and slot.enrichment is not None:
        slot.enrichment.cancel()
    slot.settle_waiters()


@asynccontextmanager
async def on_the_wire(slot: Slot) -> AsyncIterator[None]:
    """A read of `slot` is on the wire: events that come meanwhile are kept to be laid over its answer."""
    slot.reading += 1
    try:
        yield
    finally:
        slot.reading -= 1
