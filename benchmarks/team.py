"""Benchmark: a team on one fleet: N `wavedeck watch --json` consoles, single queue vs fan-out, AWS's quotas on.

Generates a fleet (fleetgen: `--pipelines`, `--state-machines`, the bundled regions), starts it as
`wavedeck sandbox --quotas aws --speed X`, and for each mode runs `--consoles` headless consoles
(`wavedeck watch --json` over both regions) for `--seconds`, every line read with the time it arrived:

- `queue`: every console reads the region's one queue `wavedeck-events` (`--events-queue`): competing
  consumers, each gets a share of the events;
- `topic`: every console subscribes a queue of its own to the topic `wavedeck-events` (`--events-topic`).

Reported side by side:
- the share of the window's transitions each console saw, min / median over consoles. A transition is its
  kind, resource, execution and new status; the whole is every transition whose first line, of any console,
  came within the window. "Within 1 s" counts a console's first line of a transition no later than 1 s after
  the first console's. A console that prints a transition again (a read that tells once more what an event
  told) is not late with it: its first line counts, and the repeats are counted apart. The kinds no event
  carries, a stage's conditions and the states a Step Functions execution enters, are seen only by a read
  at the right moment, so consoles that read at different moments print different sets of them: they stay in
  the whole and in the headline figures (a person needs them), and are also shown apart from the kinds events
  carry, so that what push delivers and what only reading can show are not mistaken for each other;
- how late push transitions came (p50 / p95 / max over consoles), measured from the first console that
  printed the same transition — a lower bound on when the event happened, so a console that is late by
  itself shows;
- how many consoles had read every pipeline when they said they were watching (a large team's first reads
  share the account's budget; an event about a pipeline not read yet is told as the event says it);
- from the sandbox's quotas (`GET /wavedeck-api/quotas`): per API the requests of the whole account
  (consoles and the fleet's own traffic) per second over the window against the bucket's refill, and how many
  were throttled in the window and since the consoles started (their first reads come before the window); and
  whether any console showed throttling to a person (`Throttling` / `Rate exceeded` on its standard error).

    .venv/bin/python -m benchmarks.team [--consoles 20] [--pipelines 2000] [--state-machines 400]
        [--speed 5] [--seconds 120] [--mode both|queue|topic] [--settle 0] [--before DIR] [--keep DIR]

`--settle S` waits S seconds between the consoles being ready and the window, so that their first listings
of executions and structures (each console's own, at its share of the budget) are not what is measured.

`--before DIR` also runs the consoles of another checkout of wavedeck (a directory holding its `console`
package, e.g. `git worktree add DIR REV`), side by side with this checkout's: each on a sandbox of its own
checkout (the same fleet and seed), both over the same window, so that both meet the same load on the
machine (a shared machine's load moves from 7 to 25 within minutes, and every figure here follows it); a
change to the sandbox is part of what they compare. Each mode then has a `before` and an `after` column.

`--keep DIR` writes what each run's consoles printed, each line with its arrival time, to
`DIR/MODE-before|after.json`, to look at what a console missed.

The defaults are the issue's team; on a 2-core machine the sandbox alone saturates a core at that size,
so the figures then say as much about the machine as about the consoles: scale with the flags and say so.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

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

    def read_all(self, pipelines: int) -> bool:
        """Whether the console had read every pipeline when it said it was watching (it says so once it has
        its first full picture, or after a minute without one: a large team shares the budget its first reads
        wait for)."""
        for line in self.stderr:
            found = re.search(r"watching (\d+) pipelines?", line)
            if found:
                return int(found.group(1)) >= pipelines
        return False

    def read_errors(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            self.stderr.append(line)
            if "wavedeck: watching" in line:
                self.ready.set()


def start_console(url: str, mode: str, config: Path, cache: Path, source: Path | None = None) -> Console:
    """A console of the team. `cache` is its own warm-start cache directory, empty at first: each member of a
    team has a cache of their own, and the runs stay cold (a mode run after another on the same sandbox would
    otherwise start from what the consoles before it left in the user's cache, the same AWS to the cache)."""
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
    env = {
        **os.environ,
        "AWS_ACCESS_KEY_ID": "operator",
        "AWS_SECRET_ACCESS_KEY": "x",
        "PYTHONUNBUFFERED": "1",
        "XDG_CACHE_HOME": str(cache),
    }
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
    port = url.rsplit(":", 1)[-1]
    path = config.with_name(f"topic-config-{port}.yaml")  # one per sandbox: two run side by side
    path.write_text(text)
    return path


def _cache_of(config: Path, sandbox: SandboxProcess, mode: str, index: int) -> Path:
    """A new, empty cache directory for one console of one run (beside the run's configuration)."""
    port = sandbox.url.rsplit(":", 1)[-1]
    return config.parent / "caches" / f"{mode}-{port}-{index}"


def quota_stats(url: str) -> dict[tuple[str, str], dict[str, float]]:
    with urllib.request.urlopen(url + STATS_PATH, timeout=10) as answer:
        document = json.load(answer)
    return {(b["region"], b["api"]): b for b in document["buckets"]}


def cpu_seconds(pid: int) -> float:
    """User and system CPU time of a process so far, all its threads (Linux /proc); NaN once it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return float("nan")
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def load_average() -> float:
    """The machine's 1-minute load average (other work on it slows every process measured)."""
    return os.getloadavg()[0]


def percentile(values: Sequence[float], share: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def run_modes(
    runs: Sequence[tuple[SandboxProcess, str, Path | None]],
    consoles: int,
    seconds: float,
    config: Path,
    settle: float = 0.0,
    pipelines: int = 0,
    keep: Path | None = None,
) -> list[dict[str, object]]:
    """Run `consoles` consoles for each (sandbox, mode, checkout) at the same time, over one window."""
    before = [quota_stats(sandbox.url) for sandbox, _, _ in runs]
    teams = [
        [
            start_console(sandbox.url, mode, config, _cache_of(config, sandbox, mode, index), source)
            for index in range(consoles)
        ]
        for sandbox, mode, source in runs
    ]
    everyone = [console for team in teams for console in team]
    try:
        deadline = time.monotonic() + 180
        for console in everyone:
            console.ready.wait(max(0.0, deadline - time.monotonic()))
        time.sleep(settle)  # the consoles' first reads and listings are behind them: the steady state is measured
        pids = [
            [sandbox.process.pid, *(c.process.pid for c in team)]
            for (sandbox, _, _), team in zip(runs, teams, strict=True)
        ]
        cpu_before = [[cpu_seconds(pid) for pid in group] for group in pids]
        load = [load_average()]
        at_window = [quota_stats(sandbox.url) for sandbox, _, _ in runs]
        window_start = time.time()
        time.sleep(seconds)
        window_end = time.time()
        load.append(load_average())
        cpu = [
            [
                (cpu_seconds(pid) - used) / (window_end - window_start)
                for pid, used in zip(group, used_before, strict=True)
            ]
            for group, used_before in zip(pids, cpu_before, strict=True)
        ]
        time.sleep(5)  # what happened at the end of the window has a moment to arrive
        after = [quota_stats(sandbox.url) for sandbox, _, _ in runs]
    finally:
        for console in everyone:
            console.process.terminate()
        for console in everyone:
            try:
                console.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                console.process.kill()
    results = []
    for (_, mode, source), team, quotas_before, quotas_window, quotas_after, used in zip(
        runs, teams, before, at_window, after, cpu, strict=True
    ):
        figures = measure([c.lines for c in team], window_start, window_end)
        if keep is not None:
            document = {"window": [window_start, window_end], "consoles": [[c.lines, c.stderr] for c in team]}
            (keep / f"{mode}-{'before' if source else 'after'}.json").write_text(json.dumps(document))
        shown = sum(any("Throttl" in line or "Rate exceeded" in line for line in c.stderr) for c in team)
        rates = {}
        none = {"asked": 0, "refused": 0, "seconds": 0}
        for name, bucket in quotas_after.items():
            # The rate over the window (the steady state); the throttled calls over the window and since the
            # consoles started (a team opening together spends its first seconds' burst before the window).
            old, started = quotas_window.get(name, none), quotas_before.get(name, none)
            span = max(1e-9, bucket["seconds"] - old["seconds"])
            rates[name] = (
                (bucket["asked"] - old["asked"]) / span,
                bucket["refill"],
                int(bucket["refused"] - old["refused"]),
                int(bucket["refused"] - started["refused"]),
            )
        results.append(
            {
                **figures,
                "throttled_shown": shown,
                "rates": rates,
                "ready": sum(c.ready.is_set() for c in team),
                "read_all": sum(c.read_all(pipelines) for c in team),
                "load": tuple(load),
                "cpu": (used[0], statistics.median(used[1:]) if used[1:] else float("nan")),
            }
        )
    return results


Key = tuple[object, ...]
# What no event carries: a stage's conditions (no event says how they evaluate) and the states a Step
# Functions execution enters (no per-state events): a console sees them only by reading, so which of them it
# shows depends on when its reads happen.
READ_ONLY_KINDS = frozenset({"condition", "sfn-state"})


def transition_key(document: dict[str, object]) -> Key:
    """What makes two printed lines the same transition: its kind, resource, execution and new status; for a
    stage's conditions also which of them (the detail's head: `before entry (FAIL)`, `on success (ROLLBACK)`),
    since a stage's entry and success conditions of one run are told on the same stage."""
    key: Key = (document.get("kind"), document.get("resource"), document.get("execution"), document.get("to"))
    if document.get("kind") == "condition":
        key += (str(document.get("detail") or "").split(" · ", 1)[0],)
    return key


def measure(
    consoles: Sequence[Sequence[tuple[float, dict[str, object]]]], window_start: float, window_end: float
) -> dict[str, Any]:
    """The share of the window's transitions each console printed, how soon, and how late push lines came.

    The whole is every transition whose first line, of any console, came within the window. A console's
    lateness for a transition is from the first console that printed it to the first time this console did:
    a line that repeats a transition the console already printed is not news arriving late (it is counted
    apart, as `repeats`). Transitions of the kinds no event carries (`READ_ONLY_KINDS`) are part of the whole
    and of the headline shares; their own shares are reported beside those of the kinds events carry.
    """
    first: dict[Key, float] = {}
    for lines in consoles:
        for arrived, document in lines:
            key = transition_key(document)
            first[key] = min(first.get(key, arrived), arrived)
    whole = {k for k, at in first.items() if window_start <= at <= window_end}
    pushed_kinds = {k for k in whole if k[0] not in READ_ONLY_KINDS}
    read_kinds = whole - pushed_kinds
    shares: list[float] = []
    in_time: dict[str, list[float]] = {"all": [], "pushed": [], "read": []}
    late: list[float] = []
    repeats: list[int] = []
    for lines in consoles:
        own_first: dict[Key, tuple[float, object]] = {}
        repeated = 0
        for arrived, document in lines:
            key = transition_key(document)
            if key not in whole:
                continue
            if key in own_first:
                repeated += 1
            else:
                own_first[key] = (arrived, document.get("source"))
        repeats.append(repeated)
        shares.append(len(own_first) / len(whole) if whole else float("nan"))
        # The target: each console sees every transition within 1 s of the first console that did.
        prompt = {k for k, (at, _) in own_first.items() if at - first[k] <= 1.0}
        for name, part in (("all", whole), ("pushed", pushed_kinds), ("read", read_kinds)):
            in_time[name].append(len(prompt & part) / len(part) if part else float("nan"))
        late += [at - first[k] for k, (at, source) in own_first.items() if source == "push"]

    def low_mid(values: list[float]) -> tuple[float, float]:
        return (min(values), statistics.median(values)) if values else (float("nan"), float("nan"))

    return {
        "transitions": len(whole),
        "read_only": len(read_kinds),
        "share": low_mid(shares),
        "in_time": low_mid(in_time["all"]),
        "in_time_pushed": low_mid(in_time["pushed"]),
        "in_time_read": low_mid(in_time["read"]),
        "within_1s": (sum(1 for x in late if x <= 1.0) / len(late)) if late else float("nan"),
        "late": (percentile(late, 0.5), percentile(late, 0.95), max(late) if late else float("nan")),
        "repeats": statistics.median(repeats) if repeats else 0,
    }


@contextlib.contextmanager
def _sandbox(args: argparse.Namespace, directory: Path, source: Path | None) -> Iterator[SandboxProcess]:
    """`wavedeck sandbox --quotas aws` of this checkout, or of `source` (run from there: its `console`)."""
    began = time.monotonic()
    with contextlib.chdir(source or Path.cwd()):
        sandbox = start_sandbox_process(speed=args.speed, definitions=directory, quotas=True, timeout=900)
    with sandbox:
        print(f"sandbox{' of ' + str(source) if source else ''} ready in {time.monotonic() - began:.0f} s", flush=True)
        yield sandbox


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.team", description=__doc__.split("\n", 1)[0])
    parser.add_argument("--consoles", type=int, default=20)
    parser.add_argument("--pipelines", type=int, default=2000)
    parser.add_argument("--state-machines", type=int, default=400)
    parser.add_argument("--speed", type=float, default=5.0)
    parser.add_argument("--seconds", type=float, default=120.0)
    parser.add_argument("--mode", choices=("both", "queue", "topic"), default="both")
    parser.add_argument("--settle", type=float, default=0.0, help="seconds between ready and the window")
    parser.add_argument("--before", type=Path, default=None, help="another checkout's consoles, side by side")
    parser.add_argument("--keep", type=Path, default=None, help="write each run's console lines to this directory")
    args = parser.parse_args(argv)
    if args.keep is not None:
        args.keep.mkdir(parents=True, exist_ok=True)
    kinds = ("queue", "topic") if args.mode == "both" else (args.mode,)
    # A column per run: the mode, and with --before, which checkout's consoles and sandbox.
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
        results: dict[str, dict[str, object]] = {}
        if args.before is None:
            with _sandbox(args, directory, None) as sandbox:
                for label, kind, source in runs:
                    (results[label],) = run_modes(
                        [(sandbox, kind, source)],
                        args.consoles,
                        args.seconds,
                        config,
                        args.settle,
                        args.pipelines,
                        args.keep,
                    )
                    print(f"{label}: done", flush=True)
        else:
            # Side by side: each checkout's consoles on its own checkout's sandbox (the same fleet and seed),
            # over the same window, so that both meet the same load on the machine; a change to the sandbox is
            # part of what is compared.
            for kind in kinds:
                with _sandbox(args, directory, args.before.resolve()) as old, _sandbox(args, directory, None) as new:
                    results[f"{kind} before"], results[f"{kind} after"] = run_modes(
                        [(old, kind, args.before.resolve()), (new, kind, None)],
                        args.consoles,
                        args.seconds,
                        config,
                        args.settle,
                        args.pipelines,
                        args.keep,
                    )
                print(f"{kind}: done", flush=True)
    print()
    print(f"{'':32}" + "".join(f"{mode:>22}" for mode in modes))
    rows: list[tuple[str, Callable[[dict[str, Any]], str]]] = [
        ("load average at start / end", lambda r: "{:.1f} / {:.1f}".format(*r["load"])),
        ("CPU: sandbox / a console (cores)", lambda r: "{:.2f} / {:.2f}".format(*r["cpu"])),
        ("consoles ready", lambda r: f"{r['ready']}"),
        ("consoles with every pipeline read", lambda r: f"{r['read_all']}"),
        ("transitions in the window", lambda r: f"{r['transitions']}"),
        ("  of them no event carries", lambda r: f"{r['read_only']}"),
        ("share seen: min / median", lambda r: "{:.1%} / {:.1%}".format(*r["share"])),
        ("seen within 1 s: min / median", lambda r: "{:.1%} / {:.1%}".format(*r["in_time"])),
        ("  what events carry", lambda r: "{:.1%} / {:.1%}".format(*r["in_time_pushed"])),
        ("  what no event carries", lambda r: "{:.1%} / {:.1%}".format(*r["in_time_read"])),
        ("push within 1 s", lambda r: f"{r['within_1s']:.1%}"),
        ("push late p50/p95/max (s)", lambda r: "{:.2f}/{:.2f}/{:.2f}".format(*r["late"])),
        ("lines repeating one (median)", lambda r: f"{r['repeats']:g}"),
        ("consoles showing throttling", lambda r: f"{r['throttled_shown']}"),
    ]
    for label, cell in rows:
        print(f"{label:32}" + "".join(f"{cell(results[m]):>22}" for m in modes))
    print(
        "\naccount-wide requests per second in the window against each bucket's refill "
        "(throttled calls in the window; since the consoles started):"
    )
    names = sorted({name for r in results.values() for name in r["rates"]})  # type: ignore[attr-defined]
    for name in names:
        cells = []
        for mode in modes:
            rate = results[mode]["rates"].get(name)  # type: ignore[attr-defined]
            cells.append("-" if rate is None else f"{rate[0]:.1f}/{rate[1]:g} ({rate[2]}; {rate[3]})")
        print(f"  {name[0]:>10} {name[1]:<24}" + "".join(f"{c:>22}" for c in cells))
    return 0


if __name__ == "__main__":
    sys.exit(main())
