"""The activity stream end to end: the real gateway and watcher against a sandbox of its own over HTTP.

Two new pipelines are read once by the watcher (a first read is not a change), then both run; the stream shows
their transitions as they happen, in order, and the filter narrows it to one of them while the other's keep
arriving.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from console.actions.audit import AuditLog
from console.actions.gate import ActionGate
from console.app import WavedeckApp, make_app
from console.aws.gateway import Gateway
from console.codepipeline.model import pipelines_of
from console.config import Config, Intervals, sandbox_targets
from console.sandbox.fleet.definitions import load_fleet
from console.sandbox_process import SandboxProcess
from console.watch import Watcher
from screens.activity.screen import ActivityScreen
from screens.widgets.keyed_list import KeyedList
from tests.conftest import REGION, make_client
from tests.sandbox.test_codepipeline_support import action, create, source, stage, start
from tests.ui.conftest import rendered, wait_for

WAVES = load_fleet().wave_model()
FAST = Intervals(focused=0.2, background=0.3, lists=1.0, push_safety_net=30.0)
KEY = f"sandbox/{REGION}"


@pytest.fixture
async def console(own_sandbox: SandboxProcess, tmp_path: Path) -> AsyncIterator[tuple[Callable[[], WavedeckApp], Any]]:
    """(app factory, boto3 CodePipeline client): the real watcher polling fast, no push queue."""
    (target,) = sandbox_targets(own_sandbox.url, (REGION,))
    target = replace(target, events_queue=None)
    async with Gateway(target) as gateway:

        def build() -> WavedeckApp:
            watcher = Watcher({target.name: gateway}, WAVES, FAST)
            gate = ActionGate({target.name: gateway}, WAVES, AuditLog(tmp_path / "audit.jsonl"))
            return make_app(Config(), (target,), watcher, gate, waves=WAVES)

        yield build, make_client(own_sandbox.url, "codepipeline")


def two_stage_pipeline(cp: Any, prefix: str) -> str:
    """Source, then Beta (deploy, then tests): each action lasts a second of real time at the session's speed."""
    deploy = action("Deploy", "Deploy", "CodeDeploy", 1, SandboxDuration="40")
    tests = action("IntegrationTests", "Test", "CodeBuild", 2, SandboxDuration="40")
    name: str = create(cp, source("40"), stage("Beta", deploy, tests), prefix=prefix)
    return name


def lines_of(stream: KeyedList, name: str) -> list[str]:
    return [
        f"{e.transition.kind} {e.transition.resource} {e.transition.to_status}"
        for e in stream.shown_rows()
        if e.transition.resource.startswith(name)
    ]


async def test_transitions_show_as_they_happen_and_the_filter_narrows_them(
    console: tuple[Callable[[], WavedeckApp], Any],
) -> None:
    build, cp = console
    first = await asyncio.to_thread(two_stage_pipeline, cp, "activity-a")
    second = await asyncio.to_thread(two_stage_pipeline, cp, "activity-b")
    app = build()
    async with app.run_test(size=(160, 40)) as pilot:
        await wait_for(
            pilot,
            lambda: all(f"{KEY}:{n}" in pipelines_of(app.console_context.state) for n in (first, second)),
            within=20,
            what="both pipelines read once",
        )
        await pilot.press("4")
        screen = await wait_for(pilot, lambda: isinstance(app.screen, ActivityScreen) and app.screen)
        stream = screen.query_one(KeyedList)
        await asyncio.to_thread(start, cp, first)

        # As it runs: the execution starts, Beta's actions move, the execution succeeds, in that order.
        await wait_for(
            pilot,
            lambda: f"pipeline-execution {first} InProgress" in lines_of(stream, first),
            within=20,
            what="the execution starting",
        )
        assert stream.following
        text = await wait_for(pilot, lambda: first in rendered(app) and rendered(app), what="the line on screen")
        assert "· → ▶ in progress" in text
        await wait_for(
            pilot,
            lambda: f"pipeline-execution {first} Succeeded" in lines_of(stream, first),
            within=30,
            what="the execution succeeding",
        )
        seen = lines_of(stream, first)
        assert seen[0] == f"pipeline-execution {first} InProgress"
        assert seen[-1] == f"pipeline-execution {first} Succeeded"
        assert f"action {first}/Beta/Deploy Succeeded" in seen
        assert seen.index(f"action {first}/Beta/Deploy Succeeded") < seen.index(
            f"action {first}/Beta/IntegrationTests Succeeded"
        )
        assert stream.highlighted is not None
        assert stream.highlighted.seq == screen._seq  # following: the newest is under the cursor

        # Filter to the second pipeline, then run both: only its lines show, the first's are kept meanwhile.
        suffix = second.rsplit("-", 1)[1]
        await pilot.press("slash", *suffix, "enter")
        await wait_for(pilot, lambda: stream.row_count == 0, what="nothing of the second yet")
        kept_before = stream.kept
        await asyncio.to_thread(start, cp, second)
        await asyncio.to_thread(start, cp, first)
        await wait_for(
            pilot,
            lambda: f"pipeline-execution {second} Succeeded" in lines_of(stream, second),
            within=30,
            what="the second's run, filtered",
        )
        assert all(e.transition.resource.startswith(second) for e in stream.shown_rows())
        await wait_for(pilot, lambda: stream.kept - kept_before > stream.row_count, within=30, what="the first's lines")
        await pilot.press("escape")
        await wait_for(pilot, lambda: stream.row_count == stream.kept, what="everything again")
        assert lines_of(stream, first).count(f"pipeline-execution {first} InProgress") == 2
