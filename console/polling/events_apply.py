"""Pushed events applied as they are, whatever the service: the order of the last event applied to each item.

Delivery is at least once and in no guaranteed order, so every change is kept per item (a pipeline
execution, a stage, an action, a Step Functions execution) with the order of the last one applied
(`EventMarks`): an older or repeated event changes nothing. Each service package lays its events over its
model (`console/codepipeline/events.py`, `console/stepfunctions/events.py`).
"""

from __future__ import annotations

from datetime import UTC, datetime

from console.push import PushEvent

EARLIEST = datetime.min.replace(tzinfo=UTC)


MARKS_KEPT = 512  # items remembered per resource (a pipeline's stages and actions, its recent executions)


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


class EventMarks:
    """The order of the last event applied to each item of one resource (bounded: the oldest go first)."""

    __slots__ = ("_marks", "limit")  # one per polled resource

    def __init__(self, limit: int = MARKS_KEPT) -> None:
        self.limit = limit
        self._marks: dict[tuple[str, ...], Order] = {}

    def newer(self, item: tuple[str, ...], order: Order) -> bool:
        """True (and remembered) when `order` comes after the last event applied to `item`."""
        last = self._marks.get(item)
        if last is not None and order <= last:
            return False
        self._marks[item] = order
        if len(self._marks) > self.limit:
            oldest = min(self._marks, key=lambda k: self._marks[k])
            del self._marks[oldest]
        return True

    def __len__(self) -> int:
        return len(self._marks)
