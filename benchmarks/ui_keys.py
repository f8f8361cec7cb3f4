"""Benchmark: key press to updated screen while 500 pipelines and 100 state machines are live (target: p95 < 50 ms).

Generates the fleet with console/sandbox/fleetgen.py, starts it in a sandbox child with traffic (so pipelines and
executions keep moving and the watcher keeps publishing), runs the console headless at 120x36 until every
pipeline has been read, then presses keys the way an operator does: moving through the fleet, switching to the
state machines and back, the approvals inbox, the activity stream, typing a filter and clearing it. Each press is
timed from the key event to the rendered frame that shows its consequence (see benchmarks/ui_support.py).

    .venv/bin/python -m benchmarks.ui_keys [--pipelines 500] [--state-machines 100] [--rounds 10] [--speed 2]
"""

from __future__ import annotations

import argparse
import asyncio
import time
from collections import defaultdict
from dataclasses import replace

from benchmarks.ui_support import FrameClock, RunningSandbox, console, percentile, press, sandbox, summary, until
from console.config import Intervals
from screens.fleet.screen import FleetScreen

# One round of an operator's keys: (what, key).
ROUND: tuple[tuple[str, str], ...] = (
    *(("move in the fleet (j/k)", "j") for _ in range(8)),
    *(("move in the fleet (j/k)", "k") for _ in range(3)),
    ("page down the fleet", "pagedown"),
    ("switch views / sections (1-4)", "2"),
    *(("move in the state machines", "j") for _ in range(4)),
    ("switch views / sections (1-4)", "1"),
    ("switch views / sections (1-4)", "3"),
    ("move in the approvals inbox", "j"),
    ("move in the approvals inbox", "k"),
    ("switch views / sections (1-4)", "4"),
    ("move in the activity stream", "k"),
    ("move in the activity stream", "k"),
    ("move in the activity stream", "end"),
    ("switch views / sections (1-4)", "1"),
    ("open / type / clear the filter", "slash"),
    ("open / type / clear the filter", "c"),
    ("open / type / clear the filter", "h"),
    ("open / type / clear the filter", "escape"),
    ("back to the top (home)", "home"),
)


async def measure(running: RunningSandbox, rounds: int, intervals: Intervals, read_timeout: float) -> None:
    expected = len(running.fleet.pipelines)
    async with console(running, intervals=intervals) as app:
        clock = FrameClock(app)
        async with app.run_test(size=(120, 36)) as pilot:
            screen = app.screen
            assert isinstance(screen, FleetScreen)

            def read() -> bool:
                pipelines = app.console_context.state.pipelines
                return len(pipelines) == expected and all(p.read_at is not None for p in pipelines.values())

            started = time.perf_counter()
            try:
                await until(read, read_timeout, f"all {expected} pipelines read", step=0.1)
            except TimeoutError:
                pass  # measured anyway, with what was read; the line below says how much
            state = app.console_context.state
            count = sum(1 for p in state.pipelines.values() if p.read_at is not None)
            machines = len(state.state_machines)
            took = time.perf_counter() - started
            print(f"  console: {count} of {expected} pipelines and {machines} state machines read after {took:.1f}s")
            await pilot.pause()
            seen_before = app.console_context.transitions.total
            by_kind: dict[str, list[float]] = defaultdict(list)
            every: list[float] = []
            started = time.perf_counter()
            for _ in range(rounds):
                for what, key in ROUND:
                    seconds = await press(app, clock, key)
                    by_kind[what].append(seconds)
                    every.append(seconds)
                    # An operator reads between keys; the watcher's updates arrive meanwhile.
                    await asyncio.sleep(0.05)
            elapsed = time.perf_counter() - started
            arrived = app.console_context.transitions.total - seen_before
            print(f"  {len(every)} key presses over {elapsed:.0f}s while {arrived} transitions arrived (live)")
            for what, values in by_kind.items():
                print(f"    {what:<32} {summary(values)}")
            p95 = percentile(every, 95)
            verdict = "OK" if p95 < 0.050 else "OVER"
            print(f"ui_keys: every key {summary(every)} ms (target p95 < 50 ms: {verdict})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pipelines", type=int, default=500)
    parser.add_argument("--state-machines", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--speed", type=float, default=2.0, help="sandbox speed (higher: a busier fleet)")
    parser.add_argument(
        "--focused",
        type=float,
        default=Intervals().focused,
        help="seconds between reads of what is on screen (the console's default unless given)",
    )
    parser.add_argument("--read-timeout", type=float, default=300.0, help="seconds to wait for every pipeline's read")
    args = parser.parse_args()
    intervals = replace(Intervals(), focused=args.focused)
    print(
        f"ui_keys: generating {args.pipelines} pipelines and {args.state_machines} state machines, starting the "
        f"sandbox (speed {args.speed:g}, traffic; not timed)…",
        flush=True,
    )
    with sandbox(pipelines=args.pipelines, state_machines=args.state_machines, speed=args.speed) as running:
        print(f"  sandbox ready in {running.started_in:.1f}s")
        asyncio.run(measure(running, args.rounds, intervals, args.read_timeout))


if __name__ == "__main__":
    main()
