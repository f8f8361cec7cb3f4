"""Benchmark: the watcher's first full picture, cold then warm from the cache, 2,000 pipelines, 400 state machines.

Generates a fleet (fleetgen: `--pipelines`, `--state-machines`; most in us-east-1, a few in the bundled
fleet's other regions: one target, gateway and budget per region, as the console has), starts it as
`wavedeck sandbox` (speed 1, no traffic, no warm-up: nothing moves, so cold and warm read the same fleet),
and then:

1. primes a cache: one watcher with an unlimited budget reads everything once and writes the cache as it
   stops (not measured: it only makes the warm start's cache complete, which a cold start on the default
   budget takes a quarter of an hour to do at 2,000 pipelines: GetPipeline's budget is 2/s);
2. cold: a new watcher and gateway on the default budget, an empty cache directory;
3. warm: a new watcher and gateway on the default budget, the primed cache.

For each it prints the time from `start()` to the first full picture (every pipeline shown with its
stages and actions, every state machine shown), capped at `--limit` seconds (then what it had, and what
the budget says the rest takes), how much of that picture was read rather than cached, the time until
every resource was read once in this run (`wait_ready`, also capped), and the requests sent in the first
10 s per API (the gateway's `CallStats`). Then the ratio cold / warm.

    .venv/bin/python -m benchmarks.warm_start [--pipelines 2000] [--state-machines 400] [--limit 60]
        [--latency 0]

Before each run the gateway has opened its session and clients (one GetCallerIdentity), as the console
does before it starts the watcher; the stats are reset after that.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, replace
from pathlib import Path

from console.aws.gateway import Gateway
from console.budget import DEFAULT_RATES, Budget, Rate
from console.codepipeline.model import pipelines_of
from console.config import Intervals, sandbox_targets
from console.model import FleetState
from console.sandbox.fleet.definitions import Fleet, load_fleet
from console.sandbox.fleetgen import write_fleet
from console.sandbox_process import start_sandbox_process
from console.stepfunctions.model import state_machines_of
from console.warm_cache import WarmCache
from console.watch import Watcher

FIRST_SECONDS = 10.0
POLL = 0.02  # how often the picture is checked: the resolution of the times below


@dataclass
class Run:
    label: str
    full: float | None  # seconds to the first full picture (None: not within the limit)
    shown: tuple[int, int]  # pipelines with details, state machines, at that moment or at the limit
    cached: int  # of those, shown from the cache and not yet read
    ready: float | None  # seconds until every resource was read once in this run
    first: Counter[str]  # requests per API in the first FIRST_SECONDS
    cache_bytes: int = 0


def full_counts(state: FleetState) -> tuple[int, int]:
    # With details: the structure (GetPipeline's categories and providers), not only the state's stages.
    pipelines = sum(
        1 for p in pipelines_of(state).values() if p.stages and all(a.category for s in p.stages for a in s.actions)
    )
    return pipelines, len(state_machines_of(state))


def gateways(url: str, fleet: Fleet, unlimited: bool = False) -> dict[str, Gateway]:
    out = {}
    for target in sandbox_targets(url, fleet.regions):
        budget = None
        if unlimited:
            budget = Budget({api: Rate(100_000, 100_000) for api in DEFAULT_RATES}, default=Rate(100_000, 100_000))
        out[target.name] = Gateway(replace(target, events_queue=None), budget=budget)
    return out


def requests(readers: dict[str, Gateway]) -> Counter[str]:
    total: Counter[str] = Counter()
    for gateway in readers.values():
        total.update(gateway.stats.requests)
    return total


async def prime(url: str, fleet: Fleet, cache: WarmCache) -> float:
    readers = gateways(url, fleet, unlimited=True)
    watcher = Watcher(readers, fleet.wave_model(), Intervals(), cache=cache)
    changed = asyncio.Event()
    unsubscribe = watcher.subscribe(lambda _: changed.set())
    wanted = (len(fleet.pipelines), len(fleet.state_machines))
    started = time.perf_counter()
    try:
        await watcher.start()
        await watcher.wait_ready(900)
        async with asyncio.timeout(900):
            while full_counts(watcher.state) != wanted:
                changed.clear()
                await changed.wait()
    finally:
        unsubscribe()
        await watcher.stop()  # writes the cache
        for gateway in readers.values():
            await gateway.close()
    return time.perf_counter() - started


async def measure(label: str, url: str, fleet: Fleet, cache: WarmCache, limit: float) -> Run:
    readers = gateways(url, fleet)
    for gateway in readers.values():
        await gateway.caller_identity()  # the session and its clients, as before the console starts watching
        gateway.budget = Budget()
        gateway.stats.reset()
    watcher = Watcher(readers, fleet.wave_model(), Intervals(), cache=cache)
    wanted = (len(fleet.pipelines), len(fleet.state_machines))
    full: float | None = None
    ready: float | None = None
    first: Counter[str] | None = None
    shown, cached = (0, 0), 0
    try:
        started = time.perf_counter()
        await watcher.start()
        while True:
            elapsed = time.perf_counter() - started
            state = watcher.state
            if full is None:
                shown, cached = full_counts(state), len(state.cached)
                if shown == wanted:
                    full = elapsed
            if ready is None and watcher.ready:
                ready = elapsed
            if first is None and elapsed >= FIRST_SECONDS:
                first = requests(readers)
            if (full is not None and ready is not None and first is not None) or elapsed >= limit:
                break
            await asyncio.sleep(POLL)
        if first is None:
            first = requests(readers)
    finally:
        await watcher.stop()
        for gateway in readers.values():
            await gateway.close()
    return Run(label, full, shown, cached, ready, first)


def report(run: Run, wanted: tuple[int, int], limit: float) -> None:
    pipelines, machines = wanted
    if run.full is not None:
        print(f"  {run.label}: first full picture in {run.full:.2f} s ({run.cached} of it from the cache, stale)")
    else:
        print(
            f"  {run.label}: no full picture within {limit:g} s: {run.shown[0]}/{pipelines} pipelines with details,"
            f" {run.shown[1]}/{machines} state machines"
        )
        missing = pipelines - run.shown[0]
        rate = DEFAULT_RATES["GetPipeline"].per_second
        print(f"      at GetPipeline's budget of {rate:g}/s the other {missing} take ~{missing / rate:.0f} s more")
    said = f"{run.ready:.2f} s" if run.ready is not None else f"not within {limit:g} s"
    print(f"      every resource read once in this run: {said}")
    total = sum(run.first.values())
    apis = ", ".join(f"{api} {n}" for api, n in sorted(run.first.items()))
    print(f"      requests in the first {FIRST_SECONDS:g} s: {total} ({apis})")


async def main(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory(prefix="warm-start-") as scratch:
        root = Path(scratch)
        definitions = write_fleet(
            root / "fleet", pipelines=args.pipelines, state_machines=args.state_machines, warm_up="0s"
        )
        fleet = load_fleet(definitions)
        wanted = (len(fleet.pipelines), len(fleet.state_machines))
        regions = ", ".join(fleet.regions)
        print(f"fleet: {wanted[0]} pipelines, {wanted[1]} state machines in {regions}; latency {args.latency:g} ms")
        with start_sandbox_process(
            speed=1.0,
            traffic=False,
            warm_up=False,
            definitions=definitions,
            latency=args.latency,
            timeout=600,
        ) as sandbox:
            primed = WarmCache(root / "primed")
            seconds = await prime(sandbox.url, fleet, primed)
            size = sum(p.stat().st_size for p in (root / "primed").glob("*.json"))
            print(f"  cache primed in {seconds:.1f} s (unlimited budget): {size / 1e6:.1f} MB")
            cold = await measure("cold", sandbox.url, fleet, WarmCache(root / "empty"), args.limit)
            report(cold, wanted, args.limit)
            began = time.perf_counter()
            for target in sandbox_targets(sandbox.url, fleet.regions):
                primed.load(replace(target, events_queue=None))
            print(f"  reading the cache alone (every target, one thread): {time.perf_counter() - began:.2f} s")
            warm = await measure("warm", sandbox.url, fleet, primed, args.limit)
            report(warm, wanted, args.limit)
    if warm.full is not None:
        if cold.full is not None:
            print(f"ratio cold / warm, first full picture: {cold.full / warm.full:.1f}x")
        else:
            missing = wanted[0] - cold.shown[0]
            estimate = args.limit + missing / DEFAULT_RATES["GetPipeline"].per_second
            print(
                f"ratio cold / warm, first full picture: > {args.limit / warm.full:.0f}x measured"
                f" (~{estimate / warm.full:.0f}x with the cold start's remaining GetPipeline at its budget)"
            )
    for api in ("GetPipeline", "DescribeStateMachine"):
        print(f"{api} in the first {FIRST_SECONDS:g} s: cold {cold.first[api]}, warm {warm.first[api]}")


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.warm_start", description=__doc__.split("\n")[0])
    parser.add_argument("--pipelines", type=int, default=2000)
    parser.add_argument("--state-machines", type=int, default=400)
    parser.add_argument("--limit", type=float, default=60.0, help="seconds each measured start may take")
    parser.add_argument("--latency", type=float, default=0.0, help="the sandbox's added latency per request, ms")
    return parser.parse_args(argv)


if __name__ == "__main__":
    asyncio.run(main(parse()))
