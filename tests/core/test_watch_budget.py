"""The budget holds at 200 pipelines: every API's requests, counted per second as they were sent, stay
under its token bucket, while what is on screen is still read every focused interval.

A sandbox with 200 pipelines and 50 state machines over two regions (one target, one budget each), the
default budget, and intervals short enough that the watcher wants far more than the budget allows (the
push queue works, and its safety net is as short as the background interval).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from console.aws.gateway import Gateway
from console.budget import AWS_RATES, Rate
from console.codepipeline.model import pipelines_of
from console.config import Intervals, sandbox_targets
from console.sandbox.fleet.definitions import load_fleet
from console.sandbox.fleetgen import write_fleet
from console.sandbox_process import SandboxProcess, start_sandbox_process
from console.stepfunctions.model import state_machines_of
from console.watch import Watcher
from tests.conftest import SPEED
from tests.core.test_watch_support import Updates

PIPELINES = 200
MACHINES = 50
INTERVALS = Intervals(focused=0.5, background=2.0, lists=5.0, push_safety_net=2.0)


@pytest.fixture(scope="module")
def big_fleet(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[SandboxProcess, Path]]:
    directory = write_fleet(tmp_path_factory.mktemp("big") / "fleet", pipelines=PIPELINES, state_machines=MACHINES)
    with start_sandbox_process(speed=SPEED, seed=7, traffic=False, warm_up=False, definitions=directory) as process:
        yield process, directory


def most_in_window(times: list[float], window: float) -> int:
    """The most of `times` (sorted) that fall within any span of `window` seconds."""
    best = start = 0
    for end, moment in enumerate(times):
        while moment - times[start] > window:
            start += 1
        best = max(best, end - start + 1)
    return best


def allowed(rate: Rate, window: float) -> float:
    # A full bucket, its refill over the window, and one token of slack for timestamps taken after the wait.
    return rate.burst + rate.per_second * window + 1


async def test_the_budget_holds_at_200_pipelines(big_fleet: tuple[SandboxProcess, Path]) -> None:
    sandbox, directory = big_fleet
    fleet = load_fleet(directory)
    targets = sandbox_targets(sandbox.url, fleet.regions)
    gateways = {t.name: Gateway(t) for t in targets}
    watcher = Watcher(gateways, fleet.wave_model(), INTERVALS)
    updates = Updates(watcher)
    loop = asyncio.get_running_loop()
    try:
        started = loop.time()
        await watcher.start()
        ready = await watcher.wait_ready(60)
        assert len(pipelines_of(ready)) == PIPELINES
        assert len(state_machines_of(ready)) == MACHINES
        # us-east-1's GetPipelineState bucket (250 + 10/s) is far below what its 172 pipelines ask of it
        # every 2 seconds (86/s), once the first read of each has used most of the burst.
        first = next(iter(pipelines_of(ready)))
        watcher.focus([first])
        focused_since = loop.time()
        reads: list[float] = []
        last_read: list[datetime | None] = [None]

        def count_reads() -> bool:
            read_at = pipelines_of(watcher.state)[first].read_at
            if read_at != last_read[0]:
                last_read[0] = read_at
                reads.append(loop.time())
            return loop.time() - focused_since > 6.0

        await updates.until(count_reads, 20, "six seconds of watching")
        elapsed = loop.time() - started
        now = datetime.now(UTC)
        state = watcher.state
        # One queue URL on a custom endpoint is one queue per region: each region's target reads its own.
        assert {t.push for t in state.targets} == {"on"}
        stale = [key for key, p in pipelines_of(state).items() if state.is_stale(key, p.read_at, now)]
    finally:
        await watcher.stop()
        for gateway in gateways.values():
            await gateway.close()

    for gateway in gateways.values():
        timeline: dict[str, list[float]] = {}
        for moment, api in gateway.stats.timeline:
            timeline.setdefault(api, []).append(moment)
        assert "GetPipelineState" in timeline
        for api, times in timeline.items():
            rate = gateway.budget.base_rate(api)
            for window in (1.0, 5.0, elapsed):
                assert most_in_window(times, window) <= allowed(rate, window), (gateway.target.name, api, window)
            aws = AWS_RATES.get(api)
            if aws is not None:  # and the budget itself is inside what AWS grants
                assert rate.per_second <= aws.per_second / 2
        assert gateway.stats.requests["ReceiveMessage"] >= 1
    # Every pipeline was read, within the bucket; with push on, what follows the first reads is the safety
    # net's, which takes at most half of the budget, so the budget is not all spent.
    busiest = max(gateways.values(), key=lambda g: len(g.stats.timeline))
    sent = busiest.stats.requests["GetPipelineState"]
    listed = sum(1 for p in pipelines_of(state).values() if p.target == busiest.target.name)
    assert listed <= sent <= allowed(busiest.budget.base_rate("GetPipelineState"), elapsed)
    # The focused pipeline jumped the queue: read every focused interval or so, never left behind.
    gaps = [b - a for a, b in zip(reads, reads[1:], strict=False)]
    assert len(reads) >= 6
    assert max(gaps) < 4 * INTERVALS.focused
    # Staleness knows the budget: no pipeline counts as stale just because the budget paced it.
    assert stale == []
