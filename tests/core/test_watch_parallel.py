"""Reads go out in parallel: against a sandbox that answers as slowly as AWS (`--latency`), the watcher's first
full read of a fleet takes a fraction of what the same reads take one after the other.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from console.aws.gateway import Gateway
from console.codepipeline.model import pipelines_of
from console.config import Intervals, sandbox_targets
from console.sandbox.fleet.definitions import load_fleet
from console.sandbox.fleetgen import write_fleet
from console.sandbox_process import SandboxProcess, start_sandbox_process
from console.watch import Watcher
from tests.conftest import SPEED, make_client

LATENCY = 0.1  # seconds
REGION = "us-east-1"


@pytest.fixture(scope="module")
def slow_sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[SandboxProcess, Path]]:
    directory = write_fleet(tmp_path_factory.mktemp("slow") / "fleet", pipelines=40)
    with start_sandbox_process(
        speed=SPEED, seed=7, traffic=False, warm_up=False, definitions=directory, latency=LATENCY * 1000
    ) as process:
        yield process, directory


def one_after_the_other(url: str) -> tuple[float, int]:
    client = make_client(url, "codepipeline", REGION)
    names = [p["name"] for p in client.list_pipelines()["pipelines"]]
    started = time.perf_counter()
    for name in names:
        client.get_pipeline_state(name=name)
    return time.perf_counter() - started, len(names)


async def test_the_first_full_read_is_parallel(slow_sandbox: tuple[SandboxProcess, Path]) -> None:
    sandbox, directory = slow_sandbox
    sequential, count = await asyncio.to_thread(one_after_the_other, sandbox.url)
    # The sandbox answers each request no sooner than its latency.
    assert sequential >= count * LATENCY
    (target,) = sandbox_targets(sandbox.url, (REGION,))
    gateway = Gateway(replace(target, events_queue=None))
    # Clients made (botocore loads their service models) before the timing, as for the loop above.
    await gateway.list_pipelines()
    await gateway.list_state_machines()
    watcher = Watcher({target.name: gateway}, load_fleet(directory).wave_model(), Intervals())
    try:
        started = time.perf_counter()
        await watcher.start()
        ready = await watcher.wait_ready(30)
        parallel = time.perf_counter() - started
    finally:
        await watcher.stop()
        await gateway.close()
    assert len(pipelines_of(ready)) == count
    # Listing, then every pipeline's state (and the state machines' reads beside them) in a few round
    # trips, not one per pipeline.
    assert gateway.stats.requests["GetPipelineState"] == count
    assert parallel < sequential / 3
