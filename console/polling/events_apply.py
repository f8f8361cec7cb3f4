"""Pushed events applied as they are, whatever the service: the order of the last event applied to each item.

Delivery is at least once and in no guaranteed order, so every change is kept per item (a pipeline
execution, a stage, an action, a Step Functions execution) with the order of the last one applied
(`EventMarks`): an older or repeated event changes nothing. Each service package lays its events over its
model (`console/codepipeline/events.py`, `console/stepfunctions/events.py`).
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from typing import TypeVar

from console.push import PushEvent

EARLIEST = datetime.min.replace(tzinfo=UTC)


MARKS_KEPT = 512  # a resource's own items remembered (a pipeline's stages and actions: its structure bounds them)
# Its runs remembered (pipeline or Step Functions executions): twice the most any picture keeps (ListExecutions'
# 25, ListPipelineExecutions' 20). An event about an older run changes nothing kept, so its mark only cost memory:
# with one limit for both, a busy resource came to keep 512 runs' marks, 350 bytes each (benchmarks/event_marks.py).
RUNS_KEPT = 64
RUN = "execution"  # the first part of a run's item (`pipeline_item`, `execution_item`)


Order = tuple[datetime, datetime, int]


def run_step(state: str | None) -> int:
    """Where a state comes in one run of an item: a start, then stopping, then an end."""
    if state in ("STARTED", "RESUMED", "RUNNING", "PENDING_REDRIVE"):
        return 0
    if state == "STOPPING":
        return 1
    return 2


def event_order(event: PushEvent) -> Order:
    """How events about one item are ordered, unless its service says otherwise: the event's time, then the
    execution's start (a later execution wins within a second), then the step within the run."""
    return (event.time or EARLIEST, event.start_time or EARLIEST, run_step(event.state))


Key = TypeVar("Key", str, tuple[str, ...])


def _remember(marks: dict[Key, int], key: Key, value: int, limit: int) -> bool:
    last = marks.get(key)
    if last is not None and value <= last:
        return False
    marks[key] = value
    if len(marks) > limit:
        del marks[min(marks, key=marks.__getitem__)]
    return True


def packed(order: Order) -> int:
    """`order` as one integer that compares as the order does: what `EventMarks` keeps (44 bytes, against 160 for
    the order's tuple and its two datetimes)."""
    time, start, step = order
    return (_micros(time) << 64) | (_micros(start) << 2) | step


def _micros(when: datetime) -> int:
    """Microseconds since year 1 (positive, under 2**62 up to year 9999)."""
    delta = when - EARLIEST
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


class EventMarks:
    """The order of the last event applied to each item of one resource (bounded: the oldest go first, its runs
    apart from its own items, `RUNS_KEPT` and `MARKS_KEPT`).

    A run's mark is kept by its id alone and every order packed (`packed`): `ui_memory`'s console held 42,500
    marks twelve minutes in, so each byte of a mark was 42 kB of its memory."""

    __slots__ = ("_marks", "_runs", "limit", "runs_limit")  # one per polled resource

    def __init__(self, limit: int = MARKS_KEPT, runs_limit: int = RUNS_KEPT) -> None:
        self.limit = limit
        self.runs_limit = runs_limit
        self._marks: dict[tuple[str, ...], int] = {}
        self._runs: dict[str, int] = {}  # by the run's id (the item's second part)

    def newer(self, item: tuple[str, ...], order: Order) -> bool:
        """True (and remembered) when `order` comes after the last event applied to `item`."""
        # Kept in the same text as the picture's (its ids come interned, `console/aws/convert.py`): one copy of an ARN.
        if item[0] == RUN:
            return _remember(self._runs, sys.intern(item[1]), packed(order), self.runs_limit)
        return _remember(self._marks, tuple(map(sys.intern, item)), packed(order), self.limit)

    def __len__(self) -> int:
        return len(self._marks) + len(self._runs)
