"""Benchmark: a full refresh of 200 pipelines and 50 state machines, the watcher beside a sequential boto3 loop.

Generates a fleet (fleetgen: `--pipelines` pipelines, `--state-machines` state machines, all in one region,
so that one account's budget reads them all), and for each `--latency` starts it as `wavedeck sandbox
--latency MS` (speed 1, traffic, warm-up: pipelines and executions have a history, and things move), then
measures in the same run:

1. the way an operator would script it today: one boto3 client per service, ListPipelines and
   GetPipelineState for every pipeline, ListStateMachines and ListExecutions for every state machine, one
   request after the other;
2. the watcher's full refresh: a new watcher (a new gateway, a full budget, default intervals, no push)
   from `start()` until every pipeline's state and every state machine's executions have been read once
   (`wait_ready`), the way the console opens;

and prints wall time and requests per API for both, their ratio (target: the watcher at least 5× faster),
and the watcher's busiest second per API beside its token bucket (burst + one second of refill).

Then, at the last latency, the steady state: two watchers with the default intervals side by side, one
polling only and one with the sandbox's `wavedeck-events` queue, each once its first round of details
(GetPipeline, ListPipelineExecutions) is done; requests per minute per API over `--steady` seconds (the
fleet deploying all the while), beside what the schedule and the budget ask when nothing moves.

    .venv/bin/python -m benchmarks.core_refresh [--latency 0,50] [--steady 60] [--pipelines 200]
        [--state-machines 50]

50 ms is the realistic latency: a kept-alive HTTPS request from an operator's machine to a regional AWS
endpoint on the same continent costs 20-40 ms on the network plus the service's own time for a control-
plane read; at 0 ms the sandbox's own CPU is all that is measured.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import boto3
import yaml

from console.aws.gateway import Gateway
from console.budget import DEFAULT_RATES, Budget, Rate
from console.codepipeline.model import pipelines_of
from console.config import Intervals, sandbox_targets
from console.model import Target
from console.push import WAIT_SECONDS
from console.sandbox.fleet.definitions import Fleet, load_fleet
from console.sandbox.fleetgen import write_fleet
from console.sandbox_process import SandboxProcess, start_sandbox_process
from console.watch import Watcher

REGION = "us-east-1"
SQS_APIS = frozenset({"ReceiveMessage", "DeleteMessageBatch"})


@dataclass
class Refresh:
    """One full refresh: how long it took and what it sent (times are monotonic, per request)."""

    seconds: float
    calls: Counter[str] = field(default_factory=Counter)
    times: dict[str, list[float]] = field(default_factory=dict)

    def busiest(self, api: str) -> int:
        return busiest_second(self.times.get(api, []))


def busiest_second(times: Sequence[float]) -> int:
    """The most requests within any one-second window."""
    ordered = sorted(times)
    best = start = 0
    for end, moment in enumerate(ordered):
        while moment - ordered[start] >= 1.0:
            start += 1
        best = max(best, end - start + 1)
    return best


def one_region_fleet(directory: Path, pipelines: int, state_machines: int) -> Fleet:
    """The generated fleet with everything in one region (fleetgen keeps the bundled regions)."""
    write_fleet(directory, pipelines=pipelines, state_machines=state_machines)
    path = directory / "fleet.yaml"
    document: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
    document["regions"] = [REGION]
    for item in (*document["pipelines"], *document["state_machines"]):
        item.pop("region", None)
    path.write_text(yaml.safe_dump(document, sort_keys=False, width=120), encoding="utf-8")
    return load_fleet(directory)


# --- The operator's script ---------------------------------------------------------------------------------


def sequential_refresh(url: str) -> Refresh:
    """ListPipelines + GetPipelineState for each, ListStateMachines + ListExecutions for each, in a loop."""
    result = Refresh(0.0)

    def count(event_name: str, **_: Any) -> None:
        api = event_name.rsplit(".", 1)[-1]
        result.calls[api] += 1
        result.times.setdefault(api, []).append(time.monotonic())

    def client(service: str) -> Any:
        made = boto3.client(
            service,
            endpoint_url=url,
            region_name=REGION,
            aws_access_key_id="benchmark",
            aws_secret_access_key="benchmark",
        )
        made.meta.events.register("before-send", count)
        return made

    codepipeline, stepfunctions = client("codepipeline"), client("stepfunctions")
    # Clients made and connections open outside the timing, as for the watcher below.
    codepipeline.list_pipelines()
    stepfunctions.list_state_machines(maxResults=1)
    result.calls.clear()
    result.times.clear()
    started = time.perf_counter()
    for page in codepipeline.get_paginator("list_pipelines").paginate():
        for pipeline in page["pipelines"]:
            codepipeline.get_pipeline_state(name=pipeline["name"])
    for page in stepfunctions.get_paginator("list_state_machines").paginate():
        for machine in page["stateMachines"]:
            stepfunctions.list_executions(stateMachineArn=machine["stateMachineArn"])
    result.seconds = time.perf_counter() - started
    result.calls = +result.calls
    return result


# --- The watcher -------------------------------------------------------------------------------------------


def timeline(gateway: Gateway, until: float | None = None) -> dict[str, list[float]]:
    out: dict[str, list[float]] = {}
    for moment, api in gateway.stats.timeline:
        if until is None or moment <= until:
            out.setdefault(api, []).append(moment)
    return out


async def watcher_refresh(url: str, fleet: Fleet) -> Refresh:
    """A new watcher from start until every resource has been read once."""
    (target,) = sandbox_targets(url, (REGION,))
    gateway = Gateway(replace(target, events_queue=None))
    # The session, the clients and their connections made outside the timing, as for the loop above; then
    # a full budget, as when the console opens.
    await gateway.caller_identity()
    await gateway.list_pipelines()
    await gateway.list_state_machines()
    gateway.budget = Budget()
    gateway.stats.reset()
    watcher = Watcher({target.name: gateway}, fleet.wave_model(), Intervals())
    try:
        started = time.perf_counter()
        await watcher.start()
        ready = await watcher.wait_ready(300)
        seconds = time.perf_counter() - started
        done = time.monotonic()
        assert len(pipelines_of(ready)) == len(fleet.pipelines), "not every pipeline was read"
        times = timeline(gateway, done)
        return Refresh(seconds, Counter({api: len(moments) for api, moments in times.items()}), times)
    finally:
        await watcher.stop()
        await gateway.close()


def print_refresh(label: str, result: Refresh, buckets: dict[str, Rate] | None = None) -> None:
    total = sum(result.calls.values())
    print(f"  {label}: {result.seconds:7.2f} s, {total} requests")
    for api, calls in sorted(result.calls.items(), key=lambda item: (-item[1], item[0])):
        line = f"      {api:<24} {calls:5d} requests   busiest second {result.busiest(api):4d}"
        if buckets is not None:
            rate = buckets[api]
            allowed = math.floor(rate.burst + rate.per_second)
            verdict = "under" if result.busiest(api) <= allowed else "OVER"
            line += f"   bucket {rate.burst:g} + {rate.per_second:g}/s (≤ {allowed} in a second: {verdict})"
        print(line)


# --- Steady state ------------------------------------------------------------------------------------------


async def steady_state(url: str, fleet: Fleet, window: float) -> None:
    """Requests per minute of a polling watcher and a pushed one, side by side, after their first round."""
    (target,) = sandbox_targets(url, (REGION,))
    modes: dict[str, Target] = {"polling": replace(target, events_queue=None), "push queue": target}
    gateways = {mode: Gateway(t, budget=Budget()) for mode, t in modes.items()}
    watchers = {mode: Watcher({t.name: gateways[mode]}, fleet.wave_model(), Intervals()) for mode, t in modes.items()}
    pipelines = len(fleet.pipelines)
    try:
        for watcher in watchers.values():
            await watcher.start()
        for watcher in watchers.values():
            await watcher.wait_ready(300)
        # The first round of details (GetPipeline and ListPipelineExecutions at 2/s each) is start-up,
        # not steady state: wait until every pipeline has had both.
        began = time.monotonic()
        while True:
            done = all(
                g.stats.requests["GetPipeline"] >= pipelines and g.stats.requests["ListPipelineExecutions"] >= pipelines
                for g in gateways.values()
            )
            if done or time.monotonic() - began > 600:
                break
            await asyncio.sleep(1.0)
        print(f"  first round of details done after {time.monotonic() - began:.0f} s more; measuring {window:g} s")
        for gateway in gateways.values():
            gateway.stats.reset()
        started = time.monotonic()
        await asyncio.sleep(window)
        elapsed = time.monotonic() - started
        counts = {mode: Counter(g.stats.requests) for mode, g in gateways.items()}
        pushes = {mode: w.state.targets[0].push for mode, w in watchers.items()}
    finally:
        for watcher in watchers.values():
            await watcher.stop()
        for gateway in gateways.values():
            await gateway.close()

    predicted = {mode: predicted_quiet(fleet, Intervals(), push=mode != "polling") for mode in counts}
    apis = sorted(set().union(*(c.keys() for c in counts.values()), *(p.keys() for p in predicted.values())))
    header = "".join(f"{mode:>14}" for mode in counts) + "".join(f"{mode + ', quiet':>20}" for mode in counts)
    print(f"      {'requests per minute':<30}{header}")
    for api in apis:
        cells = "".join(f"{c[api] * 60 / elapsed:14.0f}" for c in counts.values())
        cells += "".join(f"{p[api]:20.0f}" if api in p else f"{'':20}" for p in predicted.values())
        print(f"      {api:<30}{cells}")
    choices: tuple[tuple[str, Callable[[str], bool] | None], ...] = (
        ("CodePipeline + Step Functions", lambda api: api not in SQS_APIS),
        ("all", None),
    )
    for label, chosen in choices:
        cells = "".join(
            f"{sum(n for api, n in c.items() if chosen is None or chosen(api)) * 60 / elapsed:14.0f}"
            for c in counts.values()
        )
        cells += "".join(
            f"{sum(n for api, n in p.items() if chosen is None or chosen(api)):20.0f}" for p in predicted.values()
        )
        print(f"      {label:<30}{cells}")
    print(f"      push status: {pushes}; 'quiet': what the schedule asks when nothing moves, capped by the budget")


def predicted_quiet(fleet: Fleet, intervals: Intervals, *, push: bool) -> dict[str, float]:
    """Requests per minute the schedule asks for when nothing moves, capped by each API's refill."""
    standard = sum(1 for m in fleet.state_machines if m.type != "EXPRESS")
    every = max(intervals.push_safety_net, intervals.background) if push else intervals.background
    wants = {
        "GetPipelineState": len(fleet.pipelines) / every,
        "ListExecutions": standard / every,
        "ListPipelines": 1 / intervals.lists,
        "ListStateMachines": 1 / intervals.lists,
        "DescribeStateMachine": standard / (5 * intervals.lists),
    }
    if push:
        wants["ReceiveMessage"] = 1 / WAIT_SECONDS  # one long poll at a time, answered empty after 20 s
    return {api: 60 * min(per_second, DEFAULT_RATES[api].per_second) for api, per_second in wants.items()}


# --- Main --------------------------------------------------------------------------------------------------


def parse_latencies(text: str) -> list[float]:
    return [float(part) for part in text.split(",") if part.strip()]


def run_one(definitions: Path, fleet: Fleet, latency: float, steady: float | None) -> tuple[Refresh, Refresh]:
    started = time.perf_counter()
    with start_sandbox_process(speed=1.0, definitions=definitions, latency=latency, timeout=900.0) as sandbox:
        print(f"\nlatency {latency:g} ms (sandbox ready in {time.perf_counter() - started:.0f} s, not timed)")
        return measure(sandbox, fleet, steady)


def measure(sandbox: SandboxProcess, fleet: Fleet, steady: float | None) -> tuple[Refresh, Refresh]:
    sequential = sequential_refresh(sandbox.url)
    watched = asyncio.run(watcher_refresh(sandbox.url, fleet))
    buckets = {api: Budget().base_rate(api) for api in watched.calls}
    print_refresh("sequential boto3 loop", sequential)
    print_refresh("watcher, full refresh", watched, buckets)
    ratio = sequential.seconds / watched.seconds
    verdict = "OK" if ratio >= 5 else "UNDER"
    print(f"  ratio: the watcher is {ratio:.1f}× faster than the loop (target ≥ 5×: {verdict})")
    if steady:
        print(f"  steady state, {len(fleet.pipelines)} pipelines, default intervals {Intervals()}:")
        asyncio.run(steady_state(sandbox.url, fleet, steady))
    return sequential, watched


def main(argv: Iterable[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--latency", type=parse_latencies, default=[0.0, 50.0], help="ms, comma-separated")
    parser.add_argument("--steady", type=float, default=60.0, help="seconds of steady state (0: skip)")
    parser.add_argument("--pipelines", type=int, default=200)
    parser.add_argument("--state-machines", type=int, default=50)
    args = parser.parse_args(None if argv is None else list(argv))

    with tempfile.TemporaryDirectory(prefix="wavedeck-bench-") as directory:
        definitions = Path(directory) / "definitions"
        fleet = one_region_fleet(definitions, args.pipelines, args.state_machines)
        print(
            f"core_refresh: {len(fleet.pipelines)} pipelines and {len(fleet.state_machines)} state machines in "
            f"{REGION}, sandbox at speed 1 with traffic and warm-up"
        )
        results = []
        for index, latency in enumerate(args.latency):
            last = index == len(args.latency) - 1
            sequential, watched = run_one(definitions, fleet, latency, args.steady if last else None)
            results.append((latency, sequential, watched))
        print("\nsummary")
        for latency, sequential, watched in results:
            print(
                f"  {latency:4g} ms: loop {sequential.seconds:6.2f} s, watcher {watched.seconds:5.2f} s, "
                f"{sequential.seconds / watched.seconds:4.1f}×"
            )


if __name__ == "__main__":
    main()
