"""Two answers that cannot both be true, said as such.

An endpoint that implements only part of an API (or a read that raced a change) can tell the console that an
execution runs while its history has already ended. The console does not pick one: the screen shows both
answers and marks the contradiction, so that the operator knows not to trust either alone.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from console.stepfunctions.model import Execution, HistoryEvent

# How long after the history's end a status may still say RUNNING without contradicting it: the status was
# read before the end reached it (reads race), not read after it and wrong.
GRACE = timedelta(seconds=5)

# The history events that end an execution, and the status each says.
ENDING_EVENTS = {
    "ExecutionSucceeded": "SUCCEEDED",
    "ExecutionFailed": "FAILED",
    "ExecutionAborted": "ABORTED",
    "ExecutionTimedOut": "TIMED_OUT",
}


def execution_contradiction(
    execution: Execution | None, events: Sequence[HistoryEvent], status_read_at: datetime | None = None
) -> str | None:
    """One line when the execution's status (ListExecutions / DescribeExecution) says it runs but its history
    has ended, or says it ended otherwise than its history; else None. With `status_read_at` (when the status
    was read), a status read before the history's end (plus GRACE) is late, not contradictory."""
    if execution is None or not events:
        return None
    ordered = sorted(events, key=lambda e: e.id)
    last_end = next((e for e in reversed(ordered) if e.type in ENDING_EVENTS), None)
    redriven = any(e.type == "ExecutionRedriven" and (last_end is None or e.id > last_end.id) for e in ordered)
    if last_end is None or redriven:
        return None
    if status_read_at is not None and status_read_at < last_end.timestamp + GRACE:
        return None
    ended_as = ENDING_EVENTS[last_end.type]
    if execution.is_running:
        # Short enough for one line at 80 columns after the screen's mark.
        return f"status RUNNING, but the history ended with {last_end.type} (#{last_end.id})"
    if execution.status != ended_as:
        return f"status {execution.status}, but the history ended with {last_end.type} (#{last_end.id})"
    return None
