"""Benchmark: a team on one fleet: N `wavedeck watch --json` consoles, single queue vs fan-out, AWS's quotas on.

Generates a fleet (fleetgen: `--pipelines`, `--state-machines`, the bundled regions), starts it as
`wavedeck sandbox --quotas aws --speed X`, and for each mode runs `--consoles` headless consoles
(`wavedeck watch --json` over both regions) for `--seconds`, every line read with the time it arrived:

- `queue`: every console reads the region's one queue `wavedeck-events` (`--events-queue`): competing
  consumers, each gets a share of the events;
- `topic`: every console subscribes a queue of its own to the topic `wavedeck-events` (`--events-topic`).

Reported side by side:
- the share of the window's transitions each console saw (all transitions any console printed are the
  whole; a transition is its kind, resource, execution and new status), min / median over consoles;
- how late push transitions came (p50 / p95 / max over consoles), measured from the first console that
  printed the same transition — a lower bound on when the event happened, so a console that is late by
  itself shows;
- from the sandbox's quotas (`GET /wavedeck-api/quotas`): per API the requests of the whole account
  (consoles and the fleet's own traffic) per second against the bucket's refill, and how many were
  throttled; and whether any console showed throttling to a person (`Throttling` / `Rate exceeded` on its
  standard error).

    .venv/bin/python -m benchmarks.team [--consoles 20] [--pipelines 2000] [--state-machines 400]
        [--speed 5] [--seconds 120] [--mode both|queue|topic] [--settle 0] [--before DIR]

`--settle S` waits S seconds between the consoles being ready and the window, so that their first listings
of executions and structures (each console's own, at its share of the budget) are not what is measured.

`--before DIR` also runs, on the same sandbox and in turn with this checkout's consoles, the consoles of
another checkout of wavedeck (a directory holding its `console` package, e.g. `git worktree add DIR REV`):
each mode then has a `before` and an `after` column, measured minutes apart on one fleet.

The defaults are the issue's team; on a 2-core machine the sandbox alone saturates a core at that size,
so the figures then say as much about the machine as about the consoles: scale with the flags and say so.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from console.sandbox.fleetgen import write_fleet
from console.sandbox.quotas import STATS_PATH
from console.sandbox.server_constants import ACCOUNT_ID, EVENTS_QUEUE, EVENTS_TOPIC
from console.sandbox_process import SandboxProcess, start_sandbox_process

REGIONS = ("us-east-1", "us-west-2")


@dataclass
class Console:
    """One `wavedeck watch --json` child and what it printed, each line with its arrival time."""

    process: subprocess.Popen[str]
    lines: list[tuple[float, dict[str, object]]] = field(default_factory=list)
    stderr: list[str] = field(default_factory=list)
    ready: threading.Event = field(default_factory=threading.Event)

    def read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            try:
                self.lines.append((time.time(), json.loads(line)))
            except ValueError:
                pass

    def read_errors(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            self.stderr.append(line)
            if "wavedeck: watching" in line:
                self.ready.set()


def start_console(url: str, mode: str, config: Path, source: Path | None = None) -> Console:
    command = [sys.executable, "-m", "console", "watch", "--json"]
    if mode == "queue":
        # `--events-queue` names one URL; a sandbox's queue has the same path in each region: one reader each.
        command += [
            "--config",
            str(config),
            "--endpoint-url",
            url,
            "--events-queue",
            f"{url}/{ACCOUNT_ID}/{EVENTS_QUEUE}",
        ]
        for region in REGIONS:
            command += ["--region", region]
    else:
        command += ["--config", str(_topic_config(config, url))]  # a topic per region: a target per region
    env = {**os.environ, "AWS_ACCESS_KEY_ID": "operator", "AWS_SECRET_ACCESS_KEY": "x", "PYTHONUNBUFFERED": "1"}
    if source is not None:  # another checkout's console: its package first on the path
        env["PYTHONPATH"] = str(source)
    process = subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
        env=env,
        cwd=source,
    )
    console = Console(process)
    threading.Thread(target=console.read, daemon=True).start()
    threading.Thread(target=console.read_errors, daemon=True).start()
    return console


def _topic_config(config: Path, url: str) -> Path:
    text = config.read_text() + "targets:\n"
    for region in REGIONS:
        text += (
            f"  - {{name: team/{region}, region: {region}, endpoint_url: '{url}', "
            f"events_topic: 'arn:aws:sns:{region}:{ACCOUNT_ID}:{EVENTS_TOPIC}'}}\n"
        )
    path = config.with_name("topic-config.yaml")
    path.write_text(text)
    return path


def quota_stats(url: str) -> dict[tuple[str, str], dict[str, float]]:
    with urllib.request.urlopen(url + STATS_PATH, timeout=10) as answer:
        document = json.load(answer)
    return {(b["region"], b["api"]): b for b in document["buckets"]}


def percentile(values: Sequence[float], share: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def run_mode(
    sandbox: SandboxProcess,
    mode: str,
    consoles: int,
    seconds: float,
    config: Path,
    source: Path | None = None,
    settle: float = 0.0,
) -> dict[str, object]:
    before = quota_stats(sandbox.url)
    started = [start_console(sandbox.url, mode, config, source) for _ in range(consoles)]
    try:
        deadline = time.monotonic() + 180
        for console in started:
            console.ready.wait(max(0.0, deadline - time.monotonic()))
        time.sleep(settle)  # the consoles' first reads and listings are behind them: the steady state is measured
        window_start = time.time()
        time.sleep(seconds)
        window_end = time.time()
        time.sleep(5)  # what happened at the end of the window has a moment to arrive
        after = quota_stats(sandbox.url)
    finally:
        for console in started:
            console.process.terminate()
        for console in started:
            try:
                console.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                console.process.kill()

    def key(document: dict[str, object]) -> tuple[object, ...]:
        return (document.get("kind"), document.get("resource"), document.get("execution"), document.get("to"))

    first: dict[tuple[object, ...], float] = {}
    for console in started:
        for arrived, document in console.lines:
            if window_start <= arrived <= window_end + 5:
                first[key(document)] = min(first.get(key(document), arrived), arrived)
    whole = {k for k, at in first.items() if window_start <= at <= window_end}
    shares, in_time, late = [], [], []
    for console in started:
        seen = {key(d) for at, d in console.lines if key(d) in whole}
        shares.append(len(seen) / len(whole) if whole else float("nan"))
        # The target: each console sees every transition within 1 s of the first console that did.
        prompt = {key(d) for at, d in console.lines if key(d) in whole and at - first[key(d)] <= 1.0}
        in_time.append(len(prompt) / len(whole) if whole else float("nan"))
        late += [at - first[key(d)] for at, d in console.lines if key(d) in whole and d.get("source") == "push"]
    shown = sum(any("Throttl" in line or "Rate exceeded" in line for line in c.stderr) for c in started)
    rates = {}
    for name, bucket in after.items():
        old = before.get(name, {"asked": 0, "refused": 0, "seconds": 0})
        span = max(1e-9, bucket["seconds"] - old["seconds"])
        rates[name] = (
            (bucket["asked"] - old["asked"]) / span,
            bucket["refill"],
            int(bucket["refused"] - old["refused"]),
        )
    return {
        "transitions": len(whole),
        "share_min": min(shares) if shares else float("nan"),
        "share_median": statistics.median(shares) if shares else float("nan"),
        "in_time_min": min(in_time) if in_time else float("nan"),
        "in_time_median": statistics.median(in_time) if in_time else float("nan"),
        "within_1s": (sum(1 for x in late if x <= 1.0) / len(late)) if late else float("nan"),
        "late": (percentile(late, 0.5), percentile(late, 0.95), max(late) if late else float("nan")),
        "throttled_shown": shown,
        "rates": rates,
        "ready": sum(c.ready.is_set() for c in started),
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.team", description=__doc__.split("\n", 1)[0])
    parser.add_argument("--consoles", type=int, default=20)
    parser.add_argument("--pipelines", type=int, default=2000)
    parser.add_argument("--state-machines", type=int, default=400)
    parser.add_argument("--speed", type=float, default=5.0)
    parser.add_argument("--seconds", type=float, default=120.0)
    parser.add_argument("--mode", choices=("both", "queue", "topic"), default="both")
    parser.add_argument("--settle", type=float, default=0.0, help="seconds between ready and the window")
    parser.add_argument("--before", type=Path, default=None, help="another checkout's consoles, run in turn")
    args = parser.parse_args(argv)
    kinds = ("queue", "topic") if args.mode == "both" else (args.mode,)
    # A column per run: the mode, and with --before, which consoles (interleaved, so both meet the same fleet).
    runs: list[tuple[str, str, Path | None]] = []
    for kind in kinds:
        if args.before is not None:
            runs.append((f"{kind} before", kind, args.before.resolve()))
            runs.append((f"{kind} after", kind, None))
        else:
            runs.append((kind, kind, None))
    modes = tuple(label for label, _, _ in runs)
    with tempfile.TemporaryDirectory(prefix="wavedeck-team-") as scratch:
        directory = write_fleet(Path(scratch) / "fleet", pipelines=args.pipelines, state_machines=args.state_machines)
        config = Path(scratch) / "config.yaml"
        config.write_text("intervals: {focused: 2s, background: 10s, lists: 60s, push_safety_net: 60s}\n")
        print(
            f"team: {args.consoles} consoles, {args.pipelines} pipelines and {args.state_machines} state machines "
            f"in {len(REGIONS)} regions, speed {args.speed:g}, AWS's quotas on, {args.seconds:g} s per mode "
            f"after {args.settle:g} s settling",
            flush=True,
        )
        began = time.monotonic()
        with start_sandbox_process(speed=args.speed, definitions=directory, quotas=True, timeout=900) as sandbox:
            print(f"sandbox ready in {time.monotonic() - began:.0f} s", flush=True)
            results = {}
            for label, kind, source in runs:
                results[label] = run_mode(sandbox, kind, args.consoles, args.seconds, config, source, args.settle)
                print(f"{label}: done", flush=True)
    print()
    print(f"{'':32}" + "".join(f"{mode:>22}" for mode in modes))
    rows = [
        ("consoles ready", lambda r: f"{r['ready']}"),
        ("transitions in the window", lambda r: f"{r['transitions']}"),
        ("share seen: min / median", lambda r: f"{r['share_min']:.1%} / {r['share_median']:.1%}"),
        ("seen within 1 s: min / median", lambda r: f"{r['in_time_min']:.1%} / {r['in_time_median']:.1%}"),
        ("push within 1 s", lambda r: f"{r['within_1s']:.1%}"),
        ("push late p50/p95/max (s)", lambda r: "{:.2f}/{:.2f}/{:.2f}".format(*r["late"])),
        ("consoles showing throttling", lambda r: f"{r['throttled_shown']}"),
    ]
    for label, cell in rows:
        print(f"{label:32}" + "".join(f"{cell(results[m]):>22}" for m in modes))
    print("\naccount-wide requests per second against each bucket's refill (throttled calls):")
    names = sorted({name for r in results.values() for name in r["rates"]})  # type: ignore[attr-defined]
    for name in names:
        cells = []
        for mode in modes:
            rate = results[mode]["rates"].get(name)  # type: ignore[attr-defined]
            cells.append("-" if rate is None else f"{rate[0]:.1f}/{rate[1]:g} ({rate[2]})")
        print(f"  {name[0]:>10} {name[1]:<24}" + "".join(f"{c:>22}" for c in cells))
    return 0


if __name__ == "__main__":
    sys.exit(main())
