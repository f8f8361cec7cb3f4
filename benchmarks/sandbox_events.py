"""Benchmark: EventBridge → SQS delivery of a large sandbox fleet, read as the console's push mode reads it.

Generates a fleet (fleetgen: `--pipelines` pipelines, `--state-machines` state machines), starts it with
`wavedeck sandbox --speed X` as a child process, and then:

1. `--idle` seconds with no client at all: the sandbox's own CPU (traffic, clock, Step Functions, events).
2. A consumer per region long-polls the `wavedeck-events` queue (WaitTimeSeconds 20, 10 messages, then
   DeleteMessageBatch: what `console/push.py` does); `--settle` seconds for it to catch up with what piled
   up while nobody read (how long that took is reported).
3. A prober calls GetPipelineState on a random pipeline ten times a second while the consumers go on.
   Measured over `--seconds`, then `--grace` seconds more for the consumers to receive the events produced
   at the end of the window.

The sandbox writes when each event was handed over for delivery and what became of it
(`WAVEDECK_SANDBOX_EVENTS_TRACE`, see console/sandbox/events.py); joined by event id with what the
consumers received, that gives, for the events produced in the window: how many were delivered, dropped or
never arrived, and the delivery latency from the state change being handed over to the consumer holding
the message. `--mode before` runs moto's delivery as moto ships it (`WAVEDECK_SANDBOX_EVENT_PATCHES=off`),
`after` the sandbox as it is, `both` (default) one then the other.

    .venv/bin/python -m benchmarks.sandbox_events [--pipelines 500] [--state-machines 100] [--speed 10]
        [--seconds 60] [--mode both|before|after]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config

from console.sandbox.events import PATCHES_ENV, TRACE_ENV
from console.sandbox.fleet.definitions import Fleet, load_fleet
from console.sandbox.fleetgen import write_fleet
from console.sandbox.server_constants import ACCOUNT_ID, EVENTS_QUEUE
from console.sandbox_process import SandboxProcess, start_sandbox_process

PROBES_PER_SECOND = 10


@dataclass
class Run:
    """What one sandbox run measured."""

    mode: str
    ready_in: float = 0.0
    idle_cpu: float = 0.0  # cores, no client
    busy_cpu: float = 0.0  # cores, consumer and prober running
    produced: int = 0
    delivered: int = 0
    dropped: int = 0
    missing: int = 0  # produced, neither dropped nor received by the end of the grace period
    duplicates: int = 0
    latencies: list[float] = field(default_factory=list)  # seconds, hand-over to consumer
    timeline: list[tuple[float, float]] = field(default_factory=list)  # (seconds into the window, latency)
    probes: list[float] = field(default_factory=list)  # seconds per GetPipelineState
    probe_errors: int = 0
    stop_took: float = 0.0
    rss: tuple[float, float] = (0.0, 0.0)  # MB at the window's start and end
    backlog: int = 0  # events handed over while no consumer ran
    backlog_received: int = 0
    caught_up_in: float | None = None  # seconds from the consumers' start to the last of those received


def client(url: str, service: str, region: str) -> Any:
    return boto3.client(
        service,
        region_name=region,
        endpoint_url=url,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=Config(retries={"max_attempts": 1}, read_timeout=30, connect_timeout=5),
    )


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class Consumer(threading.Thread):
    """Long-polls one region's events queue and deletes what it read, as the console's push mode does."""

    def __init__(self, url: str, region: str) -> None:
        super().__init__(name=f"consumer-{region}", daemon=True)
        self.sqs = client(url, "sqs", region)
        self.queue_url = f"{url}/{ACCOUNT_ID}/{EVENTS_QUEUE}"
        self.received: dict[str, float] = {}  # event id -> unix time received
        self.duplicates = 0
        self.halt = threading.Event()

    def run(self) -> None:
        while not self.halt.is_set():
            try:
                answer = self.sqs.receive_message(
                    QueueUrl=self.queue_url,
                    WaitTimeSeconds=20,
                    MaxNumberOfMessages=10,
                    MessageSystemAttributeNames=["SentTimestamp", "ApproximateReceiveCount"],
                )
            except Exception:  # noqa: BLE001 - the sandbox went away at the end of the run
                if self.halt.wait(0.2):
                    return
                continue
            now = time.time()
            messages = answer.get("Messages") or []
            for message in messages:
                event_id = json.loads(message["Body"]).get("id")
                if event_id in self.received:
                    self.duplicates += 1
                else:
                    self.received[event_id] = now
            if messages:
                entries = [{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(messages)]
                try:
                    self.sqs.delete_message_batch(QueueUrl=self.queue_url, Entries=entries)
                except Exception:  # noqa: BLE001 - as above
                    pass


class Prober(threading.Thread):
    """GetPipelineState on a random pipeline, `PROBES_PER_SECOND` times a second."""

    def __init__(self, url: str, fleet: Fleet) -> None:
        super().__init__(name="prober", daemon=True)
        self.clients = {region: client(url, "codepipeline", region) for region in fleet.regions}
        self.pipelines = [(p.region, p.name) for p in fleet.pipelines]
        self.latencies: list[float] = []
        self.errors = 0
        self.halt = threading.Event()
        self.random = random.Random(7)

    def run(self) -> None:
        next_at = time.monotonic()
        while not self.halt.is_set():
            region, name = self.random.choice(self.pipelines)
            began = time.perf_counter()
            try:
                self.clients[region].get_pipeline_state(name=name)
                self.latencies.append(time.perf_counter() - began)
            except Exception:  # noqa: BLE001 - counted, not fatal
                self.errors += 1
            next_at += 1 / PROBES_PER_SECOND
            self.halt.wait(max(0.0, next_at - time.monotonic()))


def run_once(mode: str, definitions: Path, fleet: Fleet, args: argparse.Namespace, scratch: Path) -> Run:
    run = Run(mode)
    trace = scratch / f"trace-{mode}.json"
    env = {TRACE_ENV: str(trace)}
    if mode == "before":
        env[PATCHES_ENV] = "off"
    began = time.perf_counter()
    process = start_sandbox_process(speed=args.speed, definitions=definitions, timeout=900.0, extra_env=env)
    run.ready_in = time.perf_counter() - began
    ready_at = time.time()
    pid = process.process.pid
    say(f"{mode}: sandbox ready in {run.ready_in:.1f}s; {args.idle:g}s with no client")
    consumers: list[Consumer] = []
    prober: Prober | None = None
    try:
        cpu, at = cpu_seconds(pid), time.monotonic()
        time.sleep(args.idle)
        run.idle_cpu = (cpu_seconds(pid) - cpu) / (time.monotonic() - at)

        consumers = [Consumer(process.url, region) for region in fleet.regions]
        prober = Prober(process.url, fleet)
        consumers_started = time.time()
        for consumer in consumers:
            consumer.start()
        say(f"{mode}: consumers running; {args.settle:g}s to catch up with what piled up")
        time.sleep(args.settle)
        prober.start()
        say(f"{mode}: consumers and prober running; measuring {args.seconds:g}s")
        window_start = time.time()
        cpu, at, memory = cpu_seconds(pid), time.monotonic(), rss_mb(pid)
        time.sleep(args.seconds)
        run.busy_cpu = (cpu_seconds(pid) - cpu) / (time.monotonic() - at)
        run.rss = (memory, rss_mb(pid))
        window_end = time.time()
        prober.halt.set()
        say(f"{mode}: {args.grace:g}s more for the consumers to catch up")
        time.sleep(args.grace)
    finally:
        for consumer in consumers:
            consumer.halt.set()
        stopping = time.perf_counter()
        stop(process)
        run.stop_took = time.perf_counter() - stopping
    if prober is not None:
        prober.join(5)
        run.probes, run.probe_errors = prober.latencies, prober.errors
    for consumer in consumers:
        consumer.join(5)
    received: dict[str, float] = {}
    for consumer in consumers:
        received.update(consumer.received)
        run.duplicates += consumer.duplicates
    document = json.loads(trace.read_text())
    account(run, document, received, window_start, window_end)
    catch_up(run, document, received, ready_at, consumers_started)
    return run


def stop(process: SandboxProcess) -> None:
    code = process.stop(timeout=30)
    if code not in (0, None):
        say(f"the sandbox exited with {code}:\n{process.stderr_tail()}")


def account(run: Run, trace: dict[str, Any], received: dict[str, float], start: float, end: float) -> None:
    """Count the events handed over in [start, end) and join them with what the consumers received."""

    def inside(at: float) -> bool:
        return start <= at < end

    run.produced = sum(1 for at in trace["handed"] if inside(at))
    run.dropped = sum(1 for at in trace["dropped"] if inside(at))
    for handed_at, _on_bus, event_id in trace["delivered"]:
        if not inside(handed_at):
            continue
        got = received.get(event_id) if event_id else None
        if got is not None:
            run.delivered += 1
            run.latencies.append(got - handed_at)
            run.timeline.append((handed_at - start, got - handed_at))
    run.missing = run.produced - run.delivered - run.dropped


def catch_up(
    run: Run, trace: dict[str, Any], received: dict[str, float], ready_at: float, consumers_started: float
) -> None:
    """How long the consumers took to receive what was handed over after the sandbox was ready and before they
    started (the warm-up's events went by before the events rule existed)."""

    def before(at: float) -> bool:
        return ready_at <= at < consumers_started

    run.backlog = sum(1 for at in trace["handed"] if before(at))
    times = [received[i] for at, _bus, i in trace["delivered"] if before(at) and i in received]
    run.backlog_received = len(times)
    if times and run.backlog_received == run.backlog:
        run.caught_up_in = max(times) - consumers_started


def percentiles(values: Sequence[float], unit: float = 1000.0) -> str:
    if not values:
        return "n/a"
    ordered = sorted(values)

    def at(p: float) -> float:
        return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))] * unit

    return f"p50 {at(50):.1f}  p95 {at(95):.1f}  p99 {at(99):.1f}  max {ordered[-1] * unit:.1f}"


def report(runs: Sequence[Run], args: argparse.Namespace) -> str:
    rate = {r.mode: r.produced / args.seconds for r in runs}
    rows = [
        ("sandbox ready in (s)", [f"{r.ready_in:.1f}" for r in runs]),
        ("CPU, no client (cores)", [f"{r.idle_cpu:.2f}" for r in runs]),
        ("CPU, consumer + prober (cores)", [f"{r.busy_cpu:.2f}" for r in runs]),
        (
            "events from before the consumers",
            [
                f"{r.backlog_received}/{r.backlog} received"
                + (f", caught up in {r.caught_up_in:.1f}s" if r.caught_up_in is not None else "")
                for r in runs
            ],
        ),
        ("events produced in window", [f"{r.produced} ({rate[r.mode]:.0f}/s)" for r in runs]),
        ("  delivered to the consumer", [str(r.delivered) for r in runs]),
        ("  dropped by the sandbox", [str(r.dropped) for r in runs]),
        ("  not delivered by the end", [str(r.missing) for r in runs]),
        ("  received twice", [str(r.duplicates) for r in runs]),
        ("delivery latency (ms)", [percentiles(r.latencies) for r in runs]),
        ("GetPipelineState (ms)", [percentiles(r.probes) + f"  n={len(r.probes)}" for r in runs]),
        ("GetPipelineState errors", [str(r.probe_errors) for r in runs]),
        ("sandbox memory in window (MB)", [f"{r.rss[0]:.0f} -> {r.rss[1]:.0f}" for r in runs]),
        ("sandbox stop took (s)", [f"{r.stop_took:.2f}" for r in runs]),
    ]
    titles = {"before": "before (moto's delivery as shipped)", "after": "after (sandbox patches)"}
    label_width = max(len(label) for label, _ in rows)
    widths = [max(len(titles[r.mode]), *(len(values[i]) for _, values in rows)) for i, r in enumerate(runs)]
    lines = [
        f"sandbox events: {args.pipelines} pipelines, {args.state_machines} state machines, speed {args.speed:g}, "
        f"{args.idle:g}s idle, {args.settle:g}s settle, {args.seconds:g}s window (+{args.grace:g}s grace), "
        "a long-polling consumer per region, "
        f"GetPipelineState {PROBES_PER_SECOND}/s",
        " " * label_width + "  " + "  ".join(titles[r.mode].ljust(w) for r, w in zip(runs, widths, strict=True)),
    ]
    for label, values in rows:
        cells = "  ".join(v.ljust(w) for v, w in zip(values, widths, strict=True))
        lines.append(f"{label.ljust(label_width)}  {cells}".rstrip())
    return "\n".join(lines)


def timeline(runs: Sequence[Run]) -> str:
    """Per second of the window: events handed over, and the slowest delivery among them."""
    lines = ["second  " + "  ".join(f"{r.mode + ' events':>14}{r.mode + ' slowest ms':>18}" for r in runs)]
    per_run: list[dict[int, list[float]]] = []
    for r in runs:
        buckets: dict[int, list[float]] = {}
        for at, latency in r.timeline:
            buckets.setdefault(int(at), []).append(latency)
        per_run.append(buckets)
    for second in sorted({s for buckets in per_run for s in buckets}):
        cells = []
        for buckets in per_run:
            got = buckets.get(second, [])
            cells.append(f"{len(got):>14}{(max(got) * 1000 if got else 0):>18.0f}")
        lines.append(f"{second:>6}  " + "  ".join(cells))
    return "\n".join(lines)


def say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.sandbox_events", description=__doc__.split("\n")[0])
    parser.add_argument("--pipelines", type=int, default=500)
    parser.add_argument("--state-machines", type=int, default=100)
    parser.add_argument("--speed", type=float, default=10.0)
    parser.add_argument("--seconds", type=float, default=60.0, help="measuring window")
    parser.add_argument("--idle", type=float, default=10.0, help="seconds with no client, before the window")
    parser.add_argument("--settle", type=float, default=10.0, help="seconds of consuming before the window")
    parser.add_argument("--grace", type=float, default=10.0, help="seconds the consumers go on after the window")
    parser.add_argument("--timeline", action="store_true", help="also print the window second by second")
    parser.add_argument("--mode", choices=("both", "before", "after"), default="both")
    args = parser.parse_args(argv)
    modes = ("before", "after") if args.mode == "both" else (args.mode,)
    with tempfile.TemporaryDirectory(prefix="wavedeck-bench-events-") as directory:
        scratch = Path(directory)
        definitions = write_fleet(scratch / "definitions", pipelines=args.pipelines, state_machines=args.state_machines)
        fleet = load_fleet(definitions)
        runs = [run_once(mode, definitions, fleet, args, scratch) for mode in modes]
    print(report(runs, args), flush=True)
    if args.timeline:
        print(timeline(runs), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
