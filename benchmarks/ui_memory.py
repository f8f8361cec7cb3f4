"""Benchmark: the console's memory at 2,000 pipelines over a busy activity stream (target: under 250 MB, flat).

Generates a fleet (fleetgen; 2,000 pipelines and 400 state machines over 8 regions by default), starts it in a
sandbox child with traffic so transitions keep coming, runs the console headless on the activity screen for
`--minutes` (30 by default; shorter for a quick run), and samples this process's resident memory every `--sample`
seconds (60), with the transitions seen and how many the stream keeps. The stream and the app's transition log
keep a bounded window (5000 by default), so once every pipeline is read and the window is full memory should stop
growing: the summary compares the second half of the run with the first and gives its least-squares slope.

The sandbox plays `--history` of its traffic before it opens (60 minutes by default: a commit every 10 minutes per
repository, so every pipeline has the EXECUTIONS_KEPT executions the console keeps of it). A real fleet's history
is full when the console opens; with 10 minutes of it (fleetgen's default) each pipeline had one or two, and the
picture grew over the first 40 minutes of the run as the history filled, which is no leak.

    .venv/bin/python -m benchmarks.ui_memory [--minutes 30] [--sample 60] [--pipelines 2000] [--regions 8]
        [--history 60m]
"""

from __future__ import annotations

import argparse
import asyncio
import time

from benchmarks.ui_support import RunningSandbox, console, rss_mb, sandbox, until
from console.codepipeline.poller import EXECUTIONS_KEPT
from screens.activity.screen import ActivityScreen
from screens.transition_log import DEFAULT_WINDOW
from screens.widgets.keyed_list import KeyedList

COMMIT_MINUTES = 10  # the generated fleet's mean time between commits per repository


async def watch_memory(running: RunningSandbox, minutes: float, sample: float, window: int) -> None:
    async with console(running, window=window) as app:
        async with app.run_test(size=(120, 36)) as pilot:
            await pilot.press("4")
            await until(lambda: isinstance(app.screen, ActivityScreen), 10, "the activity screen")
            screen = app.screen
            assert isinstance(screen, ActivityScreen)
            stream = screen.query_one(KeyedList)
            log = app.console_context.transitions
            print(f"  {'minute':>6} {'RSS MB':>7} {'seen':>7} {'per s':>6} {'kept':>5} {'shown':>5}  targets")
            samples: list[tuple[float, float, int]] = []
            started = time.perf_counter()
            last_seen, last_time = 0, started
            deadline = started + minutes * 60
            while True:
                now = time.perf_counter()
                seen = log.total
                # The first sample has no interval before it: what was seen before the clock started is no rate.
                rate = f"{(seen - last_seen) / (now - last_time):6.1f}" if samples else f"{'-':>6}"
                last_seen, last_time = seen, now
                rss = rss_mb()
                samples.append(((now - started) / 60, rss, seen))
                pushes = ", ".join(
                    f"{s.target.name.split('/')[-1]} {s.push}" for s in app.console_context.state.targets
                )
                print(
                    f"  {(now - started) / 60:6.1f} {rss:7.1f} {seen:7d} {rate} {stream.kept:5d} "
                    f"{stream.row_count:5d}  {pushes}",
                    flush=True,
                )
                if now >= deadline:
                    break
                await asyncio.sleep(min(sample, max(deadline - now, 0.1)))
            report(samples, window)


def report(samples: list[tuple[float, float, int]], window: int) -> None:
    peak = max(rss for _, rss, _ in samples)
    full = next((i for i, (_, _, seen) in enumerate(samples) if seen >= window), None)
    half = len(samples) // 2
    first = samples[: max(half, 1)]
    second = samples[half:]
    first_mean = sum(rss for _, rss, _ in first) / len(first)
    second_mean = sum(rss for _, rss, _ in second) / len(second)
    slope = 0.0
    if len(second) >= 2:
        # Least squares over the second half: one noisy sample at either end does not make the slope.
        mean_t = sum(t for t, _, _ in second) / len(second)
        spread = sum((t - mean_t) ** 2 for t, _, _ in second)
        slope = sum((t - mean_t) * (r - second_mean) for t, r, _ in second) / max(spread, 1e-9)
    seen = samples[-1][2]
    minutes = samples[-1][0]
    print(f"ui_memory: {seen} transitions in {minutes:.1f} min ({seen / max(minutes * 60, 1):.1f}/s), window {window}")
    if full is None:
        print(f"  the window never filled ({seen} < {window}): run longer or busier to see it flat")
    else:
        print(f"  window full after {samples[full][0]:.1f} min; RSS then {samples[full][1]:.1f} MB")
    verdict = "OK" if peak < 250 else "OVER"
    print(
        f"ui_memory: peak RSS {peak:.1f} MB (target < 250 MB: {verdict}); mean {first_mean:.1f} MB in the first half, "
        f"{second_mean:.1f} MB in the second; second half slope {slope:+.2f} MB/min"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--minutes", type=float, default=30.0)
    parser.add_argument("--sample", type=float, default=60.0, help="seconds between samples")
    parser.add_argument("--pipelines", type=int, default=2000)
    parser.add_argument("--state-machines", type=int, default=400)
    parser.add_argument("--regions", type=int, default=8, help="regions of the generated fleet (one target each)")
    parser.add_argument("--speed", type=float, default=4.0, help="sandbox speed (higher: a busier stream)")
    parser.add_argument("--window", type=int, default=DEFAULT_WINDOW, help="transitions kept")
    parser.add_argument(
        "--history",
        default=f"{(EXECUTIONS_KEPT + 1) * COMMIT_MINUTES}m",
        help="traffic played before the sandbox opens (default: enough for every pipeline's kept executions)",
    )
    args = parser.parse_args()
    print(
        f"ui_memory: {args.pipelines} pipelines, {args.state_machines} state machines in {args.regions} regions, "
        f"sandbox speed {args.speed:g} with traffic and {args.history} of history; "
        f"{args.minutes:g} min on the activity screen, a sample every {args.sample:g}s",
        flush=True,
    )
    with sandbox(
        pipelines=args.pipelines,
        state_machines=args.state_machines,
        speed=args.speed,
        commit_interval=f"{COMMIT_MINUTES}m",
        regions=args.regions,
        history=args.history,
    ) as running:
        print(f"  sandbox ready in {running.started_in:.1f}s")
        asyncio.run(watch_memory(running, args.minutes, args.sample, args.window))


if __name__ == "__main__":
    main()
