"""Faults on the wire slow the watcher down and never stop it: throttling, lost connections, a sandbox
that goes away and comes back on the same port.

Faults are injected with botocore `before-send` hooks (console/aws/faults.py), so botocore's retries, the
budget's reaction and the gateway's error translation all run for real.
"""

from __future__ import annotations

import asyncio
import socket
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from console.aws.faults import Fault
from console.codepipeline.model import pipelines_of
from console.config import Intervals
from console.model import FleetState, TargetStatus
from console.sandbox_process import SandboxProcess, start_sandbox_process
from console.stepfunctions.model import state_machines_of
from tests.conftest import SPEED
from tests.core.test_watch_support import REGION, watching, write_watch_fleet

TARGET = f"sandbox/{REGION}"
INTERVALS = Intervals(focused=0.2, background=0.5, lists=1.0, push_safety_net=30.0)


def target_status(state: FleetState) -> TargetStatus:
    return next(t for t in state.targets if t.target.name == TARGET)


def everything_read_after(state: FleetState, moment: datetime) -> bool:
    resources = [*pipelines_of(state).values(), *state_machines_of(state).values()]
    return all(r.read_at is not None and r.read_at > moment and r.error is None for r in resources)


def naming(text: str) -> Any:
    """A fault condition: the request's body names `text` (a pipeline, a state machine)."""

    def test(request: Any) -> bool:
        body = request.body or b""
        return text.encode() in body if isinstance(body, bytes) else text in str(body)

    return test


async def test_throttling_and_lost_connections_slow_down_without_a_crash(bundled_sandbox: SandboxProcess) -> None:
    # Each fault hits the requests of one resource, so botocore's retries (3 attempts a call) of one read
    # all meet it and the read fails as a whole: 9 faults are 3 failed reads, whatever else is in flight.
    throttle = Fault.aws_error(
        "ThrottlingException",
        "Rate exceeded",
        operations={"GetPipelineState"},
        times=9,
        when=naming('"checkout-api"'),
    )
    lost = Fault.connection_error(operations={"ListExecutions"}, times=9, when=naming('stateMachine:wave-deployment"'))
    throttle.active = lost.active = False
    hooks = (("before-send", throttle), ("before-send", lost))
    async with watching(bundled_sandbox.url, INTERVALS, push=False, hooks=hooks) as (watcher, updates, gateway):
        await watcher.wait_ready(30)
        seen: list[TargetStatus] = []
        errors: set[str] = set()

        def record(update: Any) -> None:
            seen.append(target_status(update.state))
            errors.update(p.error for p in pipelines_of(update.state).values() if p.error)
            errors.update(m.error for m in state_machines_of(update.state).values() if m.error)

        updates.watcher.subscribe(record)
        throttle.active = lost.active = True
        # Each failed read waits for botocore's retries (with their backoff) and then the watcher's own.
        try:
            await updates.until(lambda: throttle.injected == 9 and lost.injected == 9, 60, "every fault to be used")
        except AssertionError as exc:
            raise AssertionError(f"{exc}: throttles {throttle.injected}, lost connections {lost.injected}") from None
        after_faults = datetime.now(UTC)
        # It carries on by itself: every pipeline and state machine is read again, without errors.
        await updates.until(lambda: everything_read_after(watcher.state, after_faults), 60, "a full recovery")
        final = target_status(watcher.state)

    # botocore retried (3 attempts a call), so some reads failed as a whole; nothing crashed. A lost
    # connection is said on the resource; throttling is not an error: the target says it reads more slowly.
    assert not any("ThrottlingException" in e or "Rate exceeded" in e for e in errors)
    assert not any(s.error and ("Throttling" in s.error or "Rate exceeded" in s.error) for s in seen)
    assert any("connect" in e.lower() for e in errors)
    assert any(s.throttled for s in seen)
    # The budget heard "slow down" and cut GetPipelineState's rate; the watcher kept going meanwhile.
    assert gateway.budget.state("GetPipelineState").throttles >= 1
    assert gateway.stats.throttles["GetPipelineState"] == 9
    assert final.error is None


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def test_a_sandbox_that_goes_away_makes_resources_stale_then_they_recover(tmp_path: Path) -> None:
    directory = write_watch_fleet(tmp_path / "fleet")
    port = free_port()

    def start() -> SandboxProcess:
        return start_sandbox_process(
            speed=SPEED, seed=7, port=port, traffic=False, warm_up=False, definitions=directory
        )

    sandbox = await asyncio.to_thread(start)
    try:
        async with watching(sandbox.url, INTERVALS, push_wait=1) as (watcher, updates, _):
            ready = await watcher.wait_ready(30)
            keys = [*pipelines_of(ready), *state_machines_of(ready)]

            def stale(key: str, state: FleetState, now: datetime) -> bool:
                # A sandbox starting up may list nothing for a moment: a resource not listed is not fresh.
                resource = pipelines_of(state).get(key) or state_machines_of(state).get(key)
                return resource is None or state.is_stale(key, resource.read_at, now)

            def all_stale() -> bool:
                state, now = watcher.state, datetime.now(UTC)
                return all(stale(k, state, now) for k in keys) and target_status(state).error is not None

            def all_fresh() -> bool:
                state, now = watcher.state, datetime.now(UTC)
                return not any(stale(k, state, now) for k in keys) and target_status(state).error is None

            await updates.until(lambda: target_status(watcher.state).push == "on", 10, "push to work")
            await asyncio.to_thread(sandbox.stop)
            await updates.until(all_stale, 30, "every resource to go stale")
            status = target_status(watcher.state)
            assert status.push == "failed"
            assert status.error is not None
            # The target's line names it once: its error does not say "Target sandbox/us-east-1:" again.
            assert "cannot reach AWS" in status.error
            assert status.target.name not in status.error
            # Reads that failed say why (others may still be waiting for botocore's retries to give up).
            assert any(p.error is not None for p in pipelines_of(watcher.state).values())

            sandbox = await asyncio.to_thread(start)
            await updates.until(all_fresh, 60, "every resource to be read again")
            await updates.until(lambda: target_status(watcher.state).push == "on", 30, "push to work again")
            await updates.until(
                lambda: {p.error for p in pipelines_of(watcher.state).values()} == {None}, 30, "every error to clear"
            )
    finally:
        await asyncio.to_thread(sandbox.stop)
