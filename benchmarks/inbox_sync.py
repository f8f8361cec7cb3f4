"""Benchmark: the approvals inbox's sync when a new minute changes every approval's age (lazy rows vs every row made).

Every minute the age and time left of every waiting approval read differently, and `InboxRows.sync`
(screens/approvals/view.py) makes a new row for each. A row's cells are made only when the list draws it, so a
sync costs the order and the rows, plus a screenful of cells when drawn. Measured in the same run: that (`lazy`:
the sync, then the cells of the first `--screen` rows) against making every row's cells at once, as the inbox did
before (`every row`: the sync, then the cells of all rows). The approvals are the test fleet's production approval
repeated with distinct resources.

    .venv/bin/python -m benchmarks.inbox_sync [--approvals 460] [--screen 25] [--minutes 30]
"""

from __future__ import annotations

import argparse
import statistics
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from console.codepipeline.model import SERVICE
from console.model import Approval, FleetState
from screens.approvals.rows import inbox_layout
from screens.approvals.view import InboxRows

NOW = datetime(2026, 12, 6, 12, tzinfo=UTC)


def picture(count: int) -> FleetState:
    approvals = tuple(
        Approval(
            kind=SERVICE,
            target=f"team/region-{n % 8}",
            resource=f"service-{n:04d}/Prod-Canary/ApproveProduction",
            wave=None,
            since=NOW - timedelta(minutes=n % 90),
            expires=NOW + timedelta(hours=2, minutes=-(n % 90)),
        )
        for n in range(count)
    )
    return replace(FleetState(), approvals=approvals)


def minutes(state: FleetState, minutes: int, drawn: int | None) -> list[float]:
    """Milliseconds per sync, one a minute, with the cells of the first `drawn` rows made (None: all)."""
    rows = InboxRows()
    rows.set_layout(inbox_layout(120, 14, True))
    labels = {f"team/region-{n}": f"region-{n}" for n in range(8)}
    rows.sync(state, NOW, labels)
    times = []
    for minute in range(1, minutes + 1):
        started = time.perf_counter()
        rows.sync(state, NOW + timedelta(minutes=minute), labels)
        shown = rows.rows()
        for key in rows.keys[:drawn]:
            shown[key].cells()
        times.append((time.perf_counter() - started) * 1000)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--approvals", type=int, default=460, help="approvals waiting (460: the 2,000-pipeline fleet)")
    parser.add_argument("--screen", type=int, default=25, help="rows on screen")
    parser.add_argument("--minutes", type=int, default=30)
    args = parser.parse_args()
    state = picture(args.approvals)
    lazy, every = [], []
    for _ in range(3):  # alternated, so both meet the same machine
        lazy += minutes(state, args.minutes, args.screen)
        every += minutes(state, args.minutes, None)
    for name, values in (("lazy", lazy), ("every row", every)):
        print(
            f"  {name:<10} per new minute: median {statistics.median(values):6.2f} ms, "
            f"max {max(values):6.2f} ms ({len(values)} syncs)"
        )
    ratio = statistics.median(lazy) / statistics.median(every)
    print(f"inbox_sync: {args.approvals} approvals, {args.screen} on screen: lazy / every row = {ratio:.2f}")


if __name__ == "__main__":
    main()
