"""Warm starts on the screen: the last run's fleet shown at once and marked stale, and a corrupt cache said.

Each test runs the real watcher against a sandbox of its own over HTTP, with a warm-start cache in a
temporary directory. The second start's sandbox is stopped first, so nothing it shows can have come from a read
of this run: only the cache can have put the pipeline on the screen.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from console.actions.audit import AuditLog
from console.actions.gate import ActionGate
from console.app import WavedeckApp, make_app
from console.aws.gateway import Gateway
from console.config import Config, Intervals, sandbox_targets
from console.model import Target
from console.sandbox_process import SandboxProcess
from console.warm_cache import WarmCache
from console.watch import Watcher
from console.waves import default_wave_model
from screens.fleet.pipelines import PIPELINES
from screens.fleet.screen import FleetScreen
from screens.status import ERROR
from tests.conftest import REGION
from tests.ui.conftest import notifications, rendered, rendered_lines, wait_for
from tests.ui.test_pipeline_support import quiet_sandbox

FAST = Intervals(focused=0.2, background=0.5, lists=2.0, push_safety_net=30.0)
KEY = f"sandbox/{REGION}:quiet-service"


def console(target: Target, gateway: Gateway, cache: WarmCache, tmp_path: Path) -> WavedeckApp:
    waves = default_wave_model()
    watcher = Watcher({target.name: gateway}, waves, FAST, cache=cache)
    gate = ActionGate({target.name: gateway}, waves, AuditLog(tmp_path / "audit.jsonl"))
    return make_app(Config(), (target,), watcher, gate, waves=waves)


def polling_target(sandbox: SandboxProcess) -> Target:
    (target,) = sandbox_targets(sandbox.url, (REGION,))
    return replace(target, events_queue=None)


async def test_the_last_runs_fleet_shows_at_once_marked_stale_when_aws_cannot_answer(tmp_path: Path) -> None:
    cache = WarmCache(tmp_path / "cache")
    (tmp_path / "fleet").mkdir()
    with quiet_sandbox(tmp_path / "fleet") as sandbox:
        target = polling_target(sandbox)
        async with Gateway(target) as gateway:
            app = console(target, gateway, cache, tmp_path)
            async with app.run_test(size=(120, 36)) as pilot:
                screen = app.screen
                assert isinstance(screen, FleetScreen)
                await wait_for(pilot, lambda: KEY in screen.views[PIPELINES].keys, within=30, what="the pipeline, read")
                await wait_for(pilot, lambda: "quiet-service" in rendered(app), what="the pipeline on screen")
        # Leaving wrote the cache.
    assert list((tmp_path / "cache").iterdir())

    # The sandbox is gone: the same target now answers nothing, yet the fleet is there, said to be stale.
    fresh = WarmCache(tmp_path / "cache")
    async with Gateway(target) as gateway:
        app = console(target, gateway, fresh, tmp_path)
        async with app.run_test(size=(120, 36)) as pilot:
            screen = app.screen
            assert isinstance(screen, FleetScreen)
            await wait_for(pilot, lambda: KEY in screen.views[PIPELINES].keys, within=10, what="the cached pipeline")
            await wait_for(pilot, lambda: "quiet-service" in rendered(app), what="the cached pipeline on screen")
            assert KEY in app.console_context.state.cached

            # Its first read fails (nothing answers). The board under the list says both how old the picture is
            # and why it was not read again: before the fix the error took the age's place, so the age was
            # shown only until the first read failed.
            # The pipeline's row says it cannot be trusted too, not only the board below (one picture: both at once).
            def shown() -> list[str]:
                lines = rendered_lines(app)
                board = [line for line in lines if "stale: last read" in line and ERROR.glyph in line]
                row = [line for line in lines if "quiet-service" in line and f"{ERROR.glyph} error" in line]
                return lines if board and row else []

            lines = await wait_for(pilot, shown, what="the board's age and error, and the row's error")
            assert any("stale: last read" in line and "cannot reach AWS" in line for line in lines), lines
            assert not any("now ago" in line for line in lines)
            assert fresh.warnings == []


async def test_a_corrupt_cache_is_said_on_screen_and_the_console_starts_cold(tmp_path: Path) -> None:
    cache = WarmCache(tmp_path / "cache")
    (tmp_path / "fleet").mkdir()
    with quiet_sandbox(tmp_path / "fleet") as sandbox:
        target = polling_target(sandbox)
        cache.path(target).parent.mkdir(parents=True, exist_ok=True)
        cache.path(target).write_text('{"format": 1, "pipelines": [', encoding="utf-8")
        async with Gateway(target) as gateway:
            app = console(target, gateway, cache, tmp_path)
            async with app.run_test(size=(120, 36)) as pilot:
                said = await wait_for(
                    pilot,
                    lambda: [n for n in notifications(app) if "discarded, starting cold" in n],
                    what="the warning on screen",
                )
                assert len(said) == 1
                screen = app.screen
                assert isinstance(screen, FleetScreen)
                await wait_for(pilot, lambda: KEY in screen.views[PIPELINES].keys, within=30, what="a cold read")
                assert [n for n in notifications(app) if "discarded" in n] == said  # told once
