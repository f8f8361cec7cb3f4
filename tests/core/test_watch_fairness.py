"""Fairness at 500 pipelines: what is on screen keeps its interval, the rest is read once per round.

A sandbox with 500 pipelines in one region (one target, one budget), 30 of them on screen at the default
focused interval (2 s). GetPipelineState's budget is set for the test so that the screen fits in its
share and the rest of the fleet does not fit in what is left: the 470 others ask every 4 s (117/s) and
get 45/s, so they are read once per round of about 470 / 45 = 10.4 s, the one read longest ago first.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import yaml

from console.aws.gateway import Gateway
from console.budget import Budget, Rate
from console.codepipeline.model import pipelines_of
from console.config import Intervals, sandbox_targets
from console.model import FleetUpdate
from console.sandbox.fleet.definitions import load_fleet
from console.sandbox.fleetgen import write_fleet
from console.sandbox_process import SandboxProcess, start_sandbox_process
from console.scheduler import FOCUS_SHARE
from console.watch import Watcher
from tests.conftest import SPEED
from tests.core.test_watch_budget import allowed, most_in_window

PIPELINES = 500
ON_SCREEN = 30
REGION = "us-east-1"
STATE_RATE = Rate(40, 60)  # GetPipelineState: a small burst, so that most first reads wait their turn
INTERVALS = Intervals(focused=2.0, background=4.0, lists=60.0, push_safety_net=60.0)


def one_region_fleet(directory: Path) -> Path:
    """The generated fleet with every pipeline and state machine in one region: one budget reads all 500."""
    write_fleet(directory, pipelines=PIPELINES)
    path = directory / "fleet.yaml"
    fleet: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
    fleet["regions"] = [REGION]
    for item in (*fleet["pipelines"], *fleet["state_machines"]):
        item.pop("region", None)
    fleet["traffic"]["runs"] = []
    path.write_text(yaml.safe_dump(fleet, sort_keys=False, width=120), encoding="utf-8")
    load_fleet(directory)
    return directory


@pytest.fixture(scope="module")
def fleet_500(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[SandboxProcess, Path]]:
    directory = one_region_fleet(tmp_path_factory.mktemp("fair") / "fleet")
    with start_sandbox_process(speed=SPEED, seed=7, traffic=False, warm_up=False, definitions=directory) as process:
        yield process, directory


class ReadLog:
    """When each pipeline's published `read_at` moved (loop time), from the watcher's own updates."""

    def __init__(self) -> None:
        self.reads: dict[str, list[float]] = {}
        self._last: dict[str, object] = {}
        self.changed = asyncio.Event()

    def __call__(self, update: FleetUpdate) -> None:
        now = asyncio.get_running_loop().time()
        for key, pipeline in pipelines_of(update.state).items():
            if pipeline.read_at is not None and self._last.get(key) != pipeline.read_at:
                self._last[key] = pipeline.read_at
                self.reads.setdefault(key, []).append(now)
        self.changed.set()


class SendLog:
    """The order in which GetPipelineState requests went on the wire (after the gate and the budget let
    them in): the scheduler's choices. Their answers can come back in another order, by a response's time."""

    def __init__(self) -> None:
        self.names: list[str] = []

    def __call__(self, request: Any = None, **_: Any) -> None:
        self.names.append(json.loads(request.body or b"{}")["name"])


def gaps(times: list[float], start: float, end: float) -> list[float]:
    """The time between consecutive reads within [start, end], counting from the last read before `start`
    and up to `end` (a resource not read lately has a gap that is still open)."""
    before = [t for t in times if t < start]
    inside = [t for t in times if start <= t <= end]
    points = ([before[-1]] if before else [start]) + inside + [end]
    return [b - a for a, b in zip(points, points[1:], strict=False)]


async def test_500_pipelines_every_one_read_each_round_and_the_screen_at_its_interval(
    fleet_500: tuple[SandboxProcess, Path],
) -> None:
    sandbox, directory = fleet_500
    fleet = load_fleet(directory)
    (target,) = sandbox_targets(sandbox.url, (REGION,))
    target = replace(target, events_queue=None)  # polling only: the intervals alone say what is wanted
    gateway = Gateway(target, budget=Budget({"GetPipelineState": STATE_RATE}))
    watcher = Watcher({target.name: gateway}, fleet.wave_model(), INTERVALS)
    names = [p.name for p in fleet.pipelines]
    assert len(names) == PIPELINES
    # The last ones listed: were they read in listing order, they would be read last.
    on_screen = {f"{target.name}:{name}" for name in names[-ON_SCREEN:]}
    log = ReadLog()
    watcher.subscribe(log)
    sent = SendLog()
    gateway.add_hook("before-send.codepipeline.GetPipelineState", sent)
    loop = asyncio.get_running_loop()
    background_round = (PIPELINES - ON_SCREEN) / (STATE_RATE.per_second - ON_SCREEN / INTERVALS.focused)
    try:
        started = loop.time()
        watcher.focus(on_screen)
        await watcher.start()
        ready = await watcher.wait_ready(4 * background_round)
        filled = loop.time() - started
        assert len(pipelines_of(ready)) == PIPELINES
        # Two more rounds of watching, then the last word on what each pipeline's round should be.
        window_start = loop.time()
        async with asyncio.timeout(4 * background_round):
            while loop.time() - window_start < 2 * background_round:
                log.changed.clear()
                await log.changed.wait()
        window_end = loop.time()
        state = watcher.state
    finally:
        await watcher.stop()
        await gateway.close()

    # The screen fits in its share, so the rest gets what is left, and staleness says so.
    assert ON_SCREEN / INTERVALS.focused <= FOCUS_SHARE * STATE_RATE.per_second
    expected = {key: state.stale_after[key] / 2 for key in pipelines_of(state)}
    assert {expected[key] for key in on_screen} == {INTERVALS.focused}
    background = [key for key in pipelines_of(state) if key not in on_screen]
    assert all(expected[key] == pytest.approx(background_round) for key in background)

    # What is on screen first, then what was never read, and only then second reads.
    first = {key: times[0] for key, times in log.reads.items()}
    assert set(first) == set(pipelines_of(state))
    order = sorted(first, key=first.__getitem__)
    assert max(order.index(key) for key in on_screen) < STATE_RATE.burst + 3 * ON_SCREEN
    # In the order sent: an answer seen later than another's can have been asked for earlier.
    screen_names = set(names[-ON_SCREEN:])
    seen: set[str] = set()
    second_sends = []
    for position, name in enumerate(sent.names):
        if name in seen and name not in screen_names:
            second_sends.append(position)
        seen.add(name)
    assert seen == set(names)
    last_first_send = max(sent.names.index(name) for name in names)
    assert second_sends
    assert min(second_sends) > last_first_send
    # The first round (every pipeline read once) took about one round of the budget.
    assert filled <= 1.3 * background_round + 1.0

    # Every pipeline read within its expected interval (with room for scheduling noise), the screen at its 2 s.
    late = {}
    for key, times in log.reads.items():
        longest = max(gaps(times, window_start, window_end))
        if longest > 1.25 * expected[key] + 1.0:
            late[key] = (round(longest, 2), expected[key])
    assert late == {}
    screen_gaps = [
        b - a
        for key in on_screen
        for a, b in zip(log.reads[key], log.reads[key][1:], strict=False)
        if a >= window_start
    ]
    assert sum(screen_gaps) / len(screen_gaps) == pytest.approx(INTERVALS.focused, rel=0.2)

    # And the budget held throughout.
    times = [moment for moment, api in gateway.stats.timeline if api == "GetPipelineState"]
    assert most_in_window(times, 1.0) <= allowed(STATE_RATE, 1.0)
