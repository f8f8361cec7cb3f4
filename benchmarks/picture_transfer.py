"""Benchmark: a thread or a process for the watcher: what shipping every picture to the UI would cost.

The console runs its watcher (reading, converting, diffing) on a thread of its own (console/loop_thread.py,
`ThreadedWatcher` in console/watch.py): the UI's thread receives each finished, immutable picture for nothing,
but the watcher's work shares the interpreter with it (keys go first: `Precedence`). A process would take that
work out of the UI's interpreter altogether, and in exchange every picture it publishes would have to cross:
the least it can send is the resources changed since the picture before (by identity: the watcher builds a new
object only for what changed) with the update's transitions and the picture's small parts (approvals, targets,
staleness), pickled on the watcher's side, unpickled on the UI's and laid over the UI's copy of the picture;
and a whole picture once at start (and whenever the two lose step).

This runs the console's own watcher, threaded as the console runs it, on the fleet of `ui_keys` (2,000
pipelines, 400 state machines, 8 targets, sandbox at speed 2 with traffic, push on), waits until every pipeline
is read, and then for `--seconds` measures on the main thread, for every update the watcher publishes, what
that crossing costs each side, against what the watcher's thread used of a core over the same window (what a
process would take off the UI's interpreter). It also reports the whole picture's size and cost once.

    .venv/bin/python -m benchmarks.picture_transfer [--pipelines 2000] [--state-machines 400] [--regions 8]
        [--speed 2] [--seconds 60]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import pickle
import queue
import statistics
import sys
import threading
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from benchmarks.ui_support import RunningSandbox, sandbox, summary, until
from console.aws.gateway import Gateway
from console.codepipeline.model import pipelines_of
from console.config import Config, sandbox_targets
from console.loop_thread import LoopThread
from console.model import FleetState, FleetUpdate
from console.stepfunctions.model import state_machines_of
from console.watch import ThreadedWatcher, Watcher

PROTOCOL = pickle.HIGHEST_PROTOCOL
SMALL_PARTS = ("approvals", "targets", "cached", "notices", "stale_after", "target_stale_after")
MAPPINGS = ("stale_after", "target_stale_after")


def plain(state: FleetState) -> dict[str, Any]:
    """The picture as a process would send it whole (its mappings as dicts: a read-only view does not pickle)."""
    return {
        "resources": {service: dict(pictures) for service, pictures in state.resources.items()},
        "approvals": state.approvals,
        "targets": state.targets,
        "stale_after": dict(state.stale_after),
        "default_stale_after": state.default_stale_after,
        "cached": state.cached,
        "target_stale_after": dict(state.target_stale_after),
        "notices": state.notices,
    }


def changes(before: FleetState, after: FleetState, update: FleetUpdate) -> dict[str, Any]:
    """The least a watcher process must send for `after` given that the UI holds `before`: the resources that are
    new objects (the watcher keeps the object of whatever did not change), the keys gone, the small parts that
    changed, and the transitions."""
    changed: dict[str, dict[str, Any]] = {}
    gone: dict[str, list[str]] = {}
    for service, pictures in after.resources.items():
        old = before.resources.get(service, {})
        new = {key: picture for key, picture in pictures.items() if old.get(key) is not picture}
        if new:
            changed[service] = new
        removed = [key for key in old if key not in pictures]
        if removed:
            gone[service] = removed
    out: dict[str, Any] = {"changed": changed, "gone": gone, "transitions": update.transitions}
    # The small parts are built anew with every picture: sent when they read differently, not when they are new.
    for name in SMALL_PARTS:
        new_part, old_part = getattr(after, name), getattr(before, name)
        if new_part is not old_part and new_part != old_part:
            out[name] = dict(new_part) if name in MAPPINGS else new_part
    return out


def lay_over(mine: dict[str, Any], sent: dict[str, Any]) -> dict[str, Any]:
    """The UI's side: its copy of the picture with what was sent laid over it (a new mapping per service changed,
    as the watcher builds one: the screens compare pictures by identity)."""
    resources = dict(mine["resources"])
    for service, new in sent["changed"].items():
        resources[service] = {**resources.get(service, {}), **new}
    for service, removed in sent["gone"].items():
        kept = dict(resources.get(service, {}))
        for key in removed:
            kept.pop(key, None)
        resources[service] = kept
    out = {**mine, "resources": resources}
    for name in SMALL_PARTS:
        if name in sent:
            out[name] = sent[name]
    return out


@dataclass
class Crossing:
    """One update's crossing: seconds each side, bytes, resources changed, transitions."""

    diff: float  # the watcher's side: finding what changed
    dumps: float  # the watcher's side: pickling it
    loads: float  # the UI's side: unpickling it
    merge: float  # the UI's side: laying it over its copy
    size: int
    resources: int
    transitions: int
    parts: tuple[str, ...]  # the small parts that read differently and were sent


@dataclass
class Window:
    crossings: list[Crossing] = field(default_factory=list)
    seconds: float = 0.0
    watcher_cpu: float = 0.0  # seconds of CPU the watcher's thread used in the window
    main_cpu: float = 0.0  # seconds of CPU this (the measuring) thread used in the window


def thread_cpu(thread: threading.Thread | None) -> float:
    """CPU seconds a thread has used (Linux: its own CPU clock)."""
    if thread is None or thread.ident is None:
        return float("nan")
    return time.clock_gettime(time.pthread_getcpuclockid(thread.ident))


def watcher_thread(io: LoopThread) -> threading.Thread | None:
    return next((t for t in threading.enumerate() if t.name == io.name), None)


def cross(before: FleetState, mine: dict[str, Any], update: FleetUpdate) -> tuple[Crossing, dict[str, Any]]:
    began = time.perf_counter()
    sent = changes(before, update.state, update)
    found = time.perf_counter()
    wire = pickle.dumps(sent, PROTOCOL)
    dumped = time.perf_counter()
    received = pickle.loads(wire)
    loaded = time.perf_counter()
    mine = lay_over(mine, received)
    merged = time.perf_counter()
    crossing = Crossing(
        found - began,
        dumped - found,
        loaded - dumped,
        merged - loaded,
        len(wire),
        sum(len(new) for new in sent["changed"].values()),
        len(update.transitions),
        tuple(name for name in SMALL_PARTS if name in sent),
    )
    return crossing, mine


async def measure(running: RunningSandbox, seconds: float, read_timeout: float) -> None:
    targets = sandbox_targets(running.process.url, running.fleet.regions)
    io = LoopThread()
    updates: queue.SimpleQueue[FleetUpdate] = queue.SimpleQueue()
    async with contextlib.AsyncExitStack() as stack:
        gateways = {t.name: await stack.enter_async_context(Gateway(t, io=io)) for t in targets}
        watcher = ThreadedWatcher(Watcher(gateways, running.fleet.waves, Config().intervals), io)
        unsubscribe = watcher.subscribe(updates.put)  # called on the watcher's thread, as the app's is
        await watcher.start()
        try:
            expected = running.fleet.pipelines

            def read() -> bool:
                pipelines = pipelines_of(watcher.state)
                return len(pipelines) == expected and all(p.read_at is not None for p in pipelines.values())

            began = time.perf_counter()
            with contextlib.suppress(TimeoutError):
                await until(read, read_timeout, f"all {expected} pipelines read", step=0.1)
            state = watcher.state
            count = sum(1 for p in pipelines_of(state).values() if p.read_at is not None)
            print(
                f"  watcher: {count} of {expected} pipelines and {len(state_machines_of(state))} state machines read "
                f"after {time.perf_counter() - began:.1f}s"
            )
            whole(state)
            window = await watch(updates, state, seconds, watcher_thread(io))
        finally:
            unsubscribe()
            await watcher.stop()
    report(window)


def whole(state: FleetState) -> None:
    """The whole picture once: what a process sends at start."""
    times: list[tuple[float, float]] = []
    wire = b""
    for _ in range(5):
        began = time.perf_counter()
        wire = pickle.dumps(plain(state), PROTOCOL)
        dumped = time.perf_counter()
        pickle.loads(wire)
        times.append((dumped - began, time.perf_counter() - dumped))
    dumps = statistics.median(t[0] for t in times)
    loads = statistics.median(t[1] for t in times)
    resources = sum(len(p) for p in state.resources.values())
    print(
        f"  the whole picture ({resources} resources): {len(wire) / 1e6:.1f} MB pickled; "
        f"pickling {dumps * 1000:.0f} ms, unpickling {loads * 1000:.0f} ms (median of 5)"
    )


async def watch(
    updates: queue.SimpleQueue[FleetUpdate], state: FleetState, seconds: float, thread: threading.Thread | None
) -> Window:
    while not updates.empty():  # what came before the window
        state = updates.get_nowait().state
    mine = plain(state)
    window = Window()
    cpu_before, main_before = thread_cpu(thread), time.thread_time()
    began = time.perf_counter()
    while (elapsed := time.perf_counter() - began) < seconds:
        while not updates.empty():
            update = updates.get_nowait()
            crossing, mine = cross(state, mine, update)
            window.crossings.append(crossing)
            state = update.state
        await asyncio.sleep(0.01)
    window.seconds = elapsed
    window.watcher_cpu = thread_cpu(thread) - cpu_before
    window.main_cpu = time.thread_time() - main_before
    return window


def spread(values: Sequence[float], unit: float = 1000.0) -> str:
    return summary(values, unit, digits=2)


def report(window: Window) -> None:
    crossings = window.crossings
    if not crossings:
        print("  no update in the window")
        return
    per_second = len(crossings) / window.seconds
    ui = [c.loads + c.merge for c in crossings]
    watcher_side = [c.diff + c.dumps for c in crossings]
    print(f"  {len(crossings)} updates in {window.seconds:.0f}s ({per_second:.1f} a second)")
    print(f"    resources changed per update  {spread([c.resources for c in crossings], 1)}")
    print(f"    transitions per update        {spread([c.transitions for c in crossings], 1)}")
    print(f"    bytes per update (KB)         {spread([c.size for c in crossings], 1 / 1000)}")
    sent = Counter(name for c in crossings for name in c.parts)
    print(f"    small parts sent (of {len(crossings)} updates): " + ", ".join(f"{n} {sent[n]}" for n in SMALL_PARTS))
    print(f"    the UI's side: unpickle+merge {spread(ui)} ms")
    print(f"    the watcher's side: diff+pickle {spread(watcher_side)} ms")
    ui_share = sum(ui) / window.seconds
    watcher_share = sum(watcher_side) / window.seconds
    print(
        f"  a core's share over the window: the watcher's thread {window.watcher_cpu / window.seconds:.1%} "
        f"(a process would take it off the UI's interpreter); crossing would add {ui_share:.1%} on the UI's side "
        f"and {watcher_share:.1%} on the watcher's; ratio UI-side cost / watcher thread "
        f"{ui_share / (window.watcher_cpu / window.seconds):.2f}"
    )
    print(f"  (the measuring thread used {window.main_cpu / window.seconds:.1%} of a core)")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.picture_transfer", description=__doc__.split("\n")[0])
    parser.add_argument("--pipelines", type=int, default=2000)
    parser.add_argument("--state-machines", type=int, default=400)
    parser.add_argument("--regions", type=int, default=8, help="regions of the generated fleet (one target each)")
    parser.add_argument("--speed", type=float, default=2.0, help="sandbox speed (higher: a busier fleet)")
    parser.add_argument("--seconds", type=float, default=60.0, help="the measured window")
    parser.add_argument("--read-timeout", type=float, default=300.0)
    args = parser.parse_args(argv)
    print(
        f"picture_transfer: generating {args.pipelines} pipelines and {args.state_machines} state machines in "
        f"{args.regions} regions, starting the sandbox (speed {args.speed:g}, traffic; not timed)…",
        flush=True,
    )
    with sandbox(
        pipelines=args.pipelines, state_machines=args.state_machines, speed=args.speed, regions=args.regions
    ) as running:
        print(f"  sandbox ready in {running.started_in:.1f}s", flush=True)
        asyncio.run(measure(running, args.seconds, args.read_timeout))
    return 0


if __name__ == "__main__":
    sys.exit(main())
