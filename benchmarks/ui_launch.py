"""Benchmark: launch to a fleet screen filled with data, on a sandbox that is already running (target: < 1 s).

Starts the bundled sandbox as `wavedeck --sandbox` does (speed 1, traffic, warm-up) and waits for it (not
timed). Then, `--runs` times: builds the console (gateways, watcher, gate, app) and runs it headless until the
fleet screen shows every pipeline of every region as read (its status and wave board), and the first frame with
all of that has been rendered. Also prints how long `import console.app` takes in a fresh interpreter, which a
real launch pays before any of this.

    .venv/bin/python -m benchmarks.ui_launch [--runs 5] [--size 120x36]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import subprocess
import sys
import time

from benchmarks.ui_support import FrameClock, RunningSandbox, console, sandbox, settled_frame, until
from console.codepipeline.model import pipelines_of
from screens.fleet.pipelines import PIPELINES
from screens.fleet.screen import FleetScreen


async def one_launch(running: RunningSandbox, size: tuple[int, int]) -> tuple[float, float, int]:
    """(seconds to the first frame with rows, seconds to the first full frame, pipelines shown)."""
    expected = running.fleet.pipelines
    started = time.perf_counter()
    async with console(running) as app:
        clock = FrameClock(app)
        async with app.run_test(size=size):
            screen = app.screen
            assert isinstance(screen, FleetScreen)
            view = screen.views[PIPELINES]
            await until(lambda: view.keys, 30, "the first rows")
            rows = time.perf_counter()

            def full() -> bool:
                state = app.console_context.state
                pipelines = pipelines_of(state).values()
                return (
                    len(view.keys) == expected
                    and len(pipelines) == expected
                    and all(p.read_at is not None and p.stages for p in pipelines)
                )

            await until(full, 60, "every pipeline read and shown")
            shown = await settled_frame(app, clock)
            return rows - started, shown - started, len(view.keys)


def import_seconds() -> float:
    """`import console.app` in a fresh interpreter (what a real launch pays first)."""
    code = "import time; t = time.perf_counter(); import console.app; print(time.perf_counter() - t)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return float(result.stdout.strip())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--size", default="120x36", help="terminal size, WIDTHxHEIGHT")
    args = parser.parse_args()
    width, height = (int(v) for v in args.size.split("x"))

    print("ui_launch: starting the bundled sandbox (speed 1, traffic, warm-up; not timed)…", flush=True)
    with sandbox() as running:
        print(
            f"  sandbox ready in {running.started_in:.1f}s: {running.fleet.pipelines} pipelines, "
            f"{running.fleet.state_machines} state machines, regions {', '.join(running.fleet.regions)}"
        )
        imports = [import_seconds() for _ in range(3)]
        print(f"  import console.app in a fresh interpreter: {statistics.median(imports) * 1000:.0f} ms (median of 3)")
        first_rows: list[float] = []
        full: list[float] = []
        for run in range(1, args.runs + 1):
            rows, filled, count = asyncio.run(one_launch(running, (width, height)))
            first_rows.append(rows)
            full.append(filled)
            print(f"  run {run}: first rows {rows * 1000:6.0f} ms · full fleet screen ({count} pipelines) ", end="")
            print(f"{filled * 1000:6.0f} ms")
        median = statistics.median(full)
        verdict = "OK" if max(full) < 1.0 else "OVER"
        print(
            f"ui_launch: first full screen median {median * 1000:.0f} ms, max {max(full) * 1000:.0f} ms "
            f"(target < 1000 ms: {verdict}); with imports ≈ {(median + statistics.median(imports)) * 1000:.0f} ms"
        )


if __name__ == "__main__":
    main()
