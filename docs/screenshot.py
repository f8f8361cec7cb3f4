"""Draws `docs/fleet.svg`, the picture of the fleet screen in the README, with Textual's own screenshot.

Starts the bundled sandbox as `wavedeck --sandbox` does (traffic, warm-up, a fixed seed), opens the console on
it headless at 120×36, waits until every pipeline has been read and one is waiting for an approval, puts the
cursor on that one (so the wave board under the list shows it) and saves the screen as SVG.

    .venv/bin/python -m docs.screenshot [--out docs/fleet.svg]
"""

from __future__ import annotations

import argparse
import asyncio
import time
from pathlib import Path

from benchmarks.ui_support import RunningSandbox, console, until
from console.sandbox.fleet.definitions import load_fleet
from console.sandbox_process import start_sandbox_process
from screens.fleet.screen import FleetScreen

SIZE = (120, 36)


async def draw(running: RunningSandbox, out: Path) -> None:
    expected = len(running.fleet.pipelines)
    async with console(running) as app, app.run_test(size=SIZE) as pilot:
        screen = app.screen
        assert isinstance(screen, FleetScreen)

        def ready() -> bool:
            state = app.console_context.state
            pipelines = state.pipelines.values()
            read = len(pipelines) == expected and all(p.read_at is not None and p.executions for p in pipelines)
            return read and any(a.kind == "codepipeline" for a in state.approvals)

        await until(ready, 120, "every pipeline read and an approval waiting")
        approval = next(a for a in app.console_context.state.approvals if a.kind == "codepipeline")
        waiting = f"{approval.target}:{approval.resource.split('/')[0]}"
        for _ in range(expected):
            selected = screen.selected_pipeline()
            if selected is not None and selected.key == waiting:
                break
            await pilot.press("j")
        await pilot.pause()
        out.parent.mkdir(parents=True, exist_ok=True)
        app.save_screenshot(filename=out.name, path=str(out.parent))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=Path("docs/fleet.svg"))
    args = parser.parse_args()
    started = time.perf_counter()
    with start_sandbox_process(speed=1.0, seed=7, traffic=True, warm_up=True) as process:
        running = RunningSandbox(process, load_fleet(None), time.perf_counter() - started)
        asyncio.run(draw(running, args.out))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
