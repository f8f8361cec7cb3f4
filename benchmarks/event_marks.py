"""Benchmark: the memory of the watcher's event marks per resource, against one dict of every item's order tuple.

Every pipeline and state machine keeps the order of the last pushed event applied to each of its items
(`console/polling/events_apply.py` `EventMarks`): its stages, its actions, its runs. A console left open keeps
seeing new runs, so what a resource keeps of its runs is what grows. This feeds one resource's marks as a busy
fleet does (6 stages of 2 actions each, then `runs` executions with ARN-length ids, each event later than the
last) and measures the bytes held (tracemalloc), for the marks as they are and for the peer they replaced: one dict
of item → (time, start, step) bounded at 512 items whatever they are.

    .venv/bin/python -m benchmarks.event_marks [--resources 200] [--runs 10 100 512 2000]
"""

from __future__ import annotations

import argparse
import tracemalloc
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from console.polling.events_apply import MARKS_KEPT, RUN, RUNS_KEPT, EventMarks, Order

T0 = datetime(2026, 12, 7, tzinfo=UTC)


class DictOfOrders:
    """The peer: one dict of every item's order, the oldest dropped past `limit` items."""

    def __init__(self, limit: int = MARKS_KEPT) -> None:
        self.limit = limit
        self.marks: dict[tuple[str, ...], Order] = {}

    def newer(self, item: tuple[str, ...], order: Order) -> bool:
        last = self.marks.get(item)
        if last is not None and order <= last:
            return False
        self.marks[item] = order
        if len(self.marks) > self.limit:
            del self.marks[min(self.marks, key=self.marks.__getitem__)]
        return True


def feed(make: Callable[[], EventMarks | DictOfOrders], resources: int, runs: int) -> list[object]:
    kept: list[object] = []
    for r in range(resources):
        marks = make()
        for s in range(6):
            marks.newer(("stage", f"Stage{s}"), (T0 + timedelta(seconds=r + s), T0, 2))
            for a in range(2):
                marks.newer(("action", f"Stage{s}", f"Action{a}"), (T0 + timedelta(seconds=r + s + a), T0, 2))
        for n in range(runs):
            arn = f"arn:aws:states:us-east-1:123456789012:execution:machine-{r}:{uuid.UUID(int=n + r * 100_000)}"
            started = T0 + timedelta(seconds=7 * n + r)
            marks.newer((RUN, arn), (started + timedelta(seconds=3), started, 2))
        kept.append(marks)
    return kept


def held(make: Callable[[], EventMarks | DictOfOrders], resources: int, runs: int) -> float:
    """Bytes a resource holds after `runs` runs (the ids included: here nothing else keeps them)."""
    tracemalloc.start()
    kept = feed(make, resources, runs)
    size = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    del kept
    return size / resources


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--resources", type=int, default=200)
    parser.add_argument("--runs", type=int, nargs="+", default=[10, 100, 512, 2000])
    args = parser.parse_args()
    print(f"event_marks: {args.resources} resources, 6 stages and 12 actions each; runs kept {RUNS_KEPT}")
    print(f"  {'runs':>6} {'marks kB':>9} {'peer kB':>8} {'ratio':>6}")
    ours = peer = 0.0
    for runs in args.runs:
        ours = held(EventMarks, args.resources, runs)
        peer = held(DictOfOrders, args.resources, runs)
        print(f"  {runs:6d} {ours / 1e3:9.1f} {peer / 1e3:8.1f} {ours / peer:6.2f}")
    print(
        f"event_marks: after {args.runs[-1]} runs each, 2,400 resources (ui_memory's fleet) hold "
        f"{ours * 2400 / 1e6:.0f} MB of marks (the peer: {peer * 2400 / 1e6:.0f} MB); "
        f"a resource's marks stop growing at its newest {RUNS_KEPT} runs"
    )


if __name__ == "__main__":
    main()
