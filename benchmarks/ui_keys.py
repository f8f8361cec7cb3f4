"""Benchmark: key press to updated screen while 2,000 pipelines and 400 state machines in 8 targets are live (target:
p95 < 33 ms, two frames at 60 Hz, in every group).

Generates the fleet with console/sandbox/fleetgen.py (spread over `--regions` regions: one target each), starts
it in a sandbox child with traffic (so pipelines and executions keep moving and the watcher keeps publishing), runs
the console headless at 120x36 until every pipeline has been read, then presses keys the way an operator does:
moving through the fleet, switching to the state machines and back, the approvals inbox, the activity stream,
typing a filter and clearing it. Each press is timed from the key event to the rendered frame that shows its
consequence (see benchmarks/ui_support.py); a key that changes nothing on screen is counted apart ("showed
nothing"), never as 0 ms. Every key of a round moves something.

    .venv/bin/python -m benchmarks.ui_keys [--pipelines 2000] [--state-machines 400] [--regions 8] [--rounds 10]
                                           [--speed 2] [--show-slow MS]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import time
from collections import defaultdict
from dataclasses import dataclass, replace

from benchmarks.ui_support import (
    THREADS,
    FrameClock,
    NothingShown,
    RunningSandbox,
    console,
    percentile,
    press,
    sandbox,
    summary,
    until,
)
from console.codepipeline.model import pipelines_of
from console.config import Intervals
from console.stepfunctions.model import state_machines_of
from screens.fleet.screen import FleetScreen

# One round of an operator's keys: (what, key).
ROUND: tuple[tuple[str, str], ...] = (
    *(("move in the fleet (j/k)", "j") for _ in range(8)),
    *(("move in the fleet (j/k)", "k") for _ in range(3)),
    ("page down the fleet", "pagedown"),
    ("switch views / sections (1-4)", "2"),
    # Down and back up: the cursor ends where it started, so every round moves (a cursor left on the last row
    # would make every later `j` a key that changes nothing).
    *(("move in the state machines", "j") for _ in range(2)),
    *(("move in the state machines", "k") for _ in range(2)),
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


async def measure(
    running: RunningSandbox,
    rounds: int,
    intervals: Intervals,
    read_timeout: float,
    thread: str = "watcher",
    precedence: str = "on",
    draw: str = "now",
    show_slow: float | None = None,
) -> None:
    expected = running.fleet.pipelines
    async with console(running, intervals=intervals, thread=thread) as app:
        clock = FrameClock(app)
        async with app.run_test(size=(120, 36)) as pilot:
            screen = app.screen
            assert isinstance(screen, FleetScreen)

            def read() -> bool:
                pipelines = pipelines_of(app.console_context.state)
                return len(pipelines) == expected and all(p.read_at is not None for p in pipelines.values())

            started = time.perf_counter()
            try:
                await until(read, read_timeout, f"all {expected} pipelines read", step=0.1)
            except TimeoutError:
                pass  # measured anyway, with what was read; the line below says how much
            state = app.console_context.state
            count = sum(1 for p in pipelines_of(state).values() if p.read_at is not None)
            machines = len(state_machines_of(state))
            took = time.perf_counter() - started
            print(f"  console: {count} of {expected} pipelines and {machines} state machines read after {took:.1f}s")
            await pilot.pause()
            seen_before = app.console_context.transitions.total
            # With "both", rounds alternate: the watcher's thread waiting for each key and not; a key's frame
            # drawn at once and at the update timer's tick.
            waits = {"on": (True,), "off": (False,), "both": (True, False)}[precedence]
            draws = {"now": (True,), "timer": (False,), "both": (True, False)}[draw]
            modes = [Mode(w, d) for w in waits for d in draws]
            keys_first = app.precedence
            by_kind: dict[tuple[Mode, str], list[float]] = defaultdict(list)
            nothing: dict[str, int] = defaultdict(int)
            every: dict[Mode, list[float]] = defaultdict(list)
            slow: list[str] = []
            if len(modes) > 1:
                # Every screen's first visit builds it: a round to build them, measured by neither side.
                for _, key in ROUND:
                    with contextlib.suppress(NothingShown):
                        await press(app, clock, key)
            started = time.perf_counter()
            for number in range(rounds):
                mode = modes[number % len(modes)]
                if keys_first is not None:
                    keys_first.enabled = mode.waits
                app.draw_keys_now = mode.draws
                for what, key in ROUND:
                    by_kind.setdefault((mode, what), [])
                    try:
                        seconds = await press(app, clock, key)
                    except NothingShown:
                        nothing[what] += 1
                        continue
                    by_kind[(mode, what)].append(seconds)
                    every[mode].append(seconds)
                    if show_slow is not None and seconds * 1000 >= show_slow:
                        slow.append(f"round {number + 1} {what}: {key} {seconds * 1000:.1f} ms")
                    # An operator reads between keys; the watcher's updates arrive meanwhile.
                    await asyncio.sleep(0.05)
            elapsed = time.perf_counter() - started
            if slow:
                print(f"  keys of {show_slow:g} ms or more: " + "; ".join(slow))
            arrived = app.console_context.transitions.total - seen_before
            presses = sum(len(v) for v in every.values())
            print(f"  {presses} key presses over {elapsed:.0f}s while {arrived} transitions arrived (live)")
            for mode in modes:
                label = mode.label(keys_first is not None)
                if len(modes) > 1 or keys_first is None:
                    print(f"  {label}:")
                for (of, what), values in by_kind.items():
                    if of != mode:
                        continue
                    blank = f"  ({nothing[what]} showed nothing)" if nothing[what] and mode == modes[0] else ""
                    print(f"    {what:<32} {summary(values)}{blank}")
                worst = max(percentile(v, 95) for (of, _), v in by_kind.items() if v and of == mode)
                verdict = "OK" if worst < 0.033 and not any(nothing.values()) else "OVER"
                print(
                    f"ui_keys{'' if len(modes) == 1 else ' (' + label + ')'}: every key "
                    f"{summary(every[mode])} ms; worst group p95 {worst * 1000:.1f} ms; "
                    f"{sum(nothing.values())} keys showed nothing (target: p95 < 33 ms in every group, none blank: "
                    f"{verdict})"
                )
            if keys_first is not None:
                print(f"  the watcher's thread waited {keys_first.waited:.1f}s for keys over the {elapsed:.0f}s")


@dataclass(frozen=True)
class Mode:
    """How a round's keys are handled: the watcher's thread waiting for each (console/loop_thread.py), and the
    key's frame drawn at once (screens/key_frames.py) or at Textual's next update tick."""

    waits: bool
    draws: bool

    def label(self, thread: bool) -> str:
        watcher = ("watcher waits for keys" if self.waits else "watcher does not wait") if thread else "no thread"
        return f"{watcher}, {'drawn at once' if self.draws else 'drawn at the tick'}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pipelines", type=int, default=2000)
    parser.add_argument("--state-machines", type=int, default=400)
    parser.add_argument("--regions", type=int, default=8, help="regions of the generated fleet (one target each)")
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--speed", type=float, default=2.0, help="sandbox speed (higher: a busier fleet)")
    parser.add_argument(
        "--focused",
        type=float,
        default=Intervals().focused,
        help="seconds between reads of what is on screen (the console's default unless given)",
    )
    parser.add_argument(
        "--thread",
        choices=THREADS,
        default="watcher",
        help="what runs on a thread of its own: the AWS clients and the watcher (the console's way), only the "
        "clients, or nothing (everything on the UI's loop, as before), to compare",
    )
    parser.add_argument(
        "--precedence",
        choices=("on", "off", "both"),
        default="on",
        help="whether the watcher's thread waits while a key is handled and drawn (console/loop_thread.py); "
        "both: rounds alternate, reported apart, to compare in one run",
    )
    parser.add_argument(
        "--draw",
        choices=("now", "timer", "both"),
        default="now",
        help="a key's frame drawn as soon as the key is handled (screens/key_frames.py) or at Textual's next "
        "update tick; both: rounds alternate, reported apart",
    )
    parser.add_argument(
        "--show-slow", type=float, metavar="MS", help="also list each key that took MS milliseconds or more"
    )
    parser.add_argument("--read-timeout", type=float, default=300.0, help="seconds to wait for every pipeline's read")
    args = parser.parse_args()
    intervals = replace(Intervals(), focused=args.focused)
    print(
        f"ui_keys: generating {args.pipelines} pipelines and {args.state_machines} state machines in {args.regions} "
        "regions, starting the "
        f"sandbox (speed {args.speed:g}, traffic; not timed)…",
        flush=True,
    )
    with sandbox(
        pipelines=args.pipelines, state_machines=args.state_machines, speed=args.speed, regions=args.regions
    ) as running:
        print(f"  sandbox ready in {running.started_in:.1f}s")
        asyncio.run(
            measure(
                running,
                args.rounds,
                intervals,
                args.read_timeout,
                thread=args.thread,
                precedence=args.precedence,
                draw=args.draw,
                show_slow=args.show_slow,
            )
        )


if __name__ == "__main__":
    main()
