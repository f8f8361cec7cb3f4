"""The gateway with its clients on a loop of their own (`LoopThread`): every request is sent and parsed in that
thread, answers and errors come back to the caller's loop exactly as without it, cancelling the caller cancels
the request, and closing closes there. A `ThreadedWatcher` reads, diffs and publishes there too."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator
from dataclasses import replace
from typing import Any

import pytest

from console.aws import Gateway, GatewayOptions
from console.aws.faults import Fault
from console.codepipeline.model import pipelines_of
from console.config import Intervals, sandbox_targets
from console.errors import NotFound, Throttled, Unavailable
from console.loop_thread import LoopThread, Precedence
from console.sandbox.fleet.definitions import default_definitions_dir, load_fleet
from console.sandbox_process import SandboxProcess
from console.watch import ThreadedWatcher, Watcher
from tests.conftest import REGION
from tests.core.test_gateway_codepipeline import fast_budget
from tests.core.test_gateway_errors import sandbox_target

IO = LoopThread("wavedeck-aws-test")


@pytest.fixture
async def gateway(bundled_sandbox: SandboxProcess) -> AsyncIterator[Gateway]:
    async with Gateway(
        sandbox_target(bundled_sandbox), budget=fast_budget(), options=GatewayOptions(max_attempts=1), io=IO
    ) as gateway:
        yield gateway


async def test_requests_are_sent_and_parsed_on_the_io_thread(gateway: Gateway) -> None:
    sent_from: list[str] = []
    parsed_on: list[str] = []
    gateway.add_hook("before-send", lambda **_: sent_from.append(threading.current_thread().name))
    gateway.add_hook("after-call", lambda **_: parsed_on.append(threading.current_thread().name))
    pipelines = await gateway.list_pipelines()
    assert pipelines, "the bundled fleet has pipelines"
    assert set(sent_from) == {"wavedeck-aws-test"}
    assert set(parsed_on) == {"wavedeck-aws-test"}
    assert threading.current_thread().name != "wavedeck-aws-test"
    assert gateway.stats.requests["ListPipelines"] == len(sent_from)


async def test_errors_come_back_translated_and_throttles_cut_the_budget(gateway: Gateway) -> None:
    with pytest.raises(NotFound):
        await gateway.get_pipeline("no-such-pipeline")
    fault = Fault.aws_error("ThrottlingException", "Rate exceeded", services={"sfn"})
    gateway.add_hook("before-send", fault)
    with pytest.raises(Throttled):
        await gateway.list_state_machines()
    assert gateway.budget.state("ListStateMachines").throttles == 1


async def test_cancelling_the_caller_cancels_the_request_on_the_io_loop(gateway: Gateway) -> None:
    started = threading.Event()
    cancelled = threading.Event()

    async def hang(**_: Any) -> None:
        started.set()
        try:
            await asyncio.sleep(30)
        except asyncio.CancelledError:
            cancelled.set()
            raise

    gateway.add_hook("before-send.codepipeline.ListPipelines", hang)
    call = asyncio.create_task(gateway.list_pipelines())
    assert await asyncio.to_thread(started.wait, 10)
    call.cancel()
    with pytest.raises(asyncio.CancelledError):
        await call
    assert await asyncio.to_thread(cancelled.wait, 10), "the request went on after its caller was cancelled"


async def test_a_closed_gateway_sends_nothing(bundled_sandbox: SandboxProcess) -> None:
    gateway = Gateway(sandbox_target(bundled_sandbox), budget=fast_budget(), io=IO)
    assert await gateway.list_pipelines()
    await gateway.close()
    with pytest.raises(Unavailable, match="closed"):
        await gateway.list_pipelines()


async def test_a_threaded_watcher_reads_on_the_io_thread_and_serves_the_callers_loop(
    bundled_sandbox: SandboxProcess,
) -> None:
    target = replace(sandbox_targets(bundled_sandbox.url, (REGION,))[0], events_queue=None)
    called_on: list[str] = []
    async with Gateway(target, budget=fast_budget(), io=IO) as gateway:
        watcher = Watcher({target.name: gateway}, load_fleet(default_definitions_dir()).wave_model(), Intervals())
        threaded = ThreadedWatcher(watcher, IO)
        unsubscribe = threaded.subscribe(lambda update: called_on.append(threading.current_thread().name))
        await threaded.start()
        try:
            state = await threaded.wait_ready(60)
            assert pipelines_of(state)
            assert set(called_on) == {"wavedeck-aws-test"}
            key = next(iter(pipelines_of(state)))
            threaded.focus([key])
            read_before = pipelines_of(threaded.state)[key].read_at
            await threaded.refresh([key])
            assert pipelines_of(threaded.state)[key].read_at != read_before
            assert watcher._ctx.schedule.focused == {key}
        finally:
            unsubscribe()
            await threaded.stop()


async def test_each_answer_waits_for_a_key_being_drawn(bundled_sandbox: SandboxProcess) -> None:
    """A key's claim (console/loop_thread.py `Precedence`) holds the watcher before botocore parses an answer and
    before the watcher takes it, not only between the loop's rounds (at 2,000 pipelines the loop is never idle)."""
    io = LoopThread("wavedeck-aws-answers-test")
    assert io.loop is not None  # the loop and its selector (with the first precedence) are made here

    class Recorder(Precedence):
        def __init__(self) -> None:
            super().__init__()
            self.asked: list[str] = []

        def wait(self) -> None:
            self.asked.append(threading.current_thread().name)
            super().wait()

    recorder = Recorder()
    io.precedence = recorder
    async with Gateway(
        sandbox_target(bundled_sandbox), budget=fast_budget(), options=GatewayOptions(max_attempts=1), io=io
    ) as gateway:
        await gateway.list_pipelines()
        sent = sum(gateway.stats.requests.values())
    assert recorder.asked == ["wavedeck-aws-answers-test"] * (2 * sent)
