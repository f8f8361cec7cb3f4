"""The push stream: parsing EventBridge events, de-duplication, the queue reader, and push mode end to end."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from console.config import Intervals
from console.errors import NotFound
from console.model import QueueMessage, TargetStatus
from console.push import PushEvent, QueueReader, SeenIds, parse_event, state_machine_of
from console.sandbox_process import start_sandbox_process
from console.watch import queue_region
from tests.conftest import SPEED, make_client
from tests.core.test_watch_support import REGION, watching, write_watch_fleet

TARGET = f"sandbox/{REGION}"
EXECUTION_ARN = "arn:aws:states:us-east-1:123456789012:execution:wave-deployment:run-1"


def event(event_id: str, source: str = "aws.codepipeline", **detail: Any) -> str:
    return json.dumps(
        {
            "version": "0",
            "id": event_id,
            "detail-type": "CodePipeline Stage Execution State Change",
            "source": source,
            "account": "123456789012",
            "region": "us-east-1",
            "detail": detail,
        }
    )


def test_parse_codepipeline_and_states_events() -> None:
    parsed = parse_event(event("e1", pipeline="orders-api", stage="Beta", state="STARTED", **{"execution-id": "x"}))
    assert parsed == PushEvent(
        id="e1",
        source="aws.codepipeline",
        detail_type="CodePipeline Stage Execution State Change",
        region="us-east-1",
        account="123456789012",
        pipeline="orders-api",
        execution_id="x",
        state="STARTED",
        stage="Beta",
    )
    states = parse_event(event("e2", "aws.states", executionArn=EXECUTION_ARN, status="RUNNING"))
    assert states is not None
    assert states.state_machine_arn == "arn:aws:states:us-east-1:123456789012:stateMachine:wave-deployment"
    assert states.execution_arn == EXECUTION_ARN
    assert parse_event("not json") is None
    assert parse_event(json.dumps({"id": "e3", "source": "aws.ec2", "detail": {}})) is None
    assert parse_event(json.dumps([1, 2])) is None
    assert state_machine_of("arn:aws:states:us-east-1:1:stateMachine:x") is None


def test_queue_region_from_aws_urls_only() -> None:
    assert queue_region("https://sqs.eu-west-1.amazonaws.com/111122223333/wavedeck-events") == "eu-west-1"
    assert queue_region("https://us-west-2.queue.amazonaws.com/111122223333/q") == "us-west-2"
    assert queue_region("http://127.0.0.1:4566/123456789012/wavedeck-events") is None


def test_seen_ids_forget_the_oldest_beyond_the_limit() -> None:
    seen = SeenIds(limit=4)  # two generations of two
    assert [seen.first_time(i) for i in ("a", "b", "a", "c", "d")] == [True, True, False, True, True]
    # "a" was seen again while old: recent again, kept with "c"; "b" went with its generation.
    assert len(seen) == 3
    assert not seen.first_time("a")
    assert seen.first_time("b")
    assert not seen.first_time("d")


def test_seen_ids_remember_at_least_half_the_limit_in_a_long_stream() -> None:
    limit = 1000
    seen = SeenIds(limit=limit)
    ids = [f"{n:08x}-0000-4000-8000-{n:012x}" for n in range(10 * limit)]
    for index, event_id in enumerate(ids):
        assert seen.first_time(event_id)
        assert len(seen) <= limit
        recent = ids[max(index - limit // 2 + 1, 0) : index + 1]
        if index % 97 == 0:  # spot checks: every id of the last half-limit is still a repeat
            assert not any(seen.first_time(r) for r in recent)


class FakeQueue:
    """A queue client that serves scripted batches, then fails or waits."""

    def __init__(self, batches: list[list[QueueMessage] | Exception]) -> None:
        self.batches = batches
        self.deleted: list[str] = []
        self.waits: list[int] = []
        self.drained = asyncio.Event()

    async def receive_messages(
        self, queue_url: str, /, wait_seconds: int = 20, max_messages: int = 10
    ) -> Sequence[QueueMessage]:
        self.waits.append(wait_seconds)
        if not self.batches:
            self.drained.set()
            await asyncio.Event().wait()  # a long poll that never ends: the test cancels it
        batch = self.batches.pop(0)
        if isinstance(batch, Exception):
            raise batch
        return batch

    async def delete_messages(self, queue_url: str, receipts: Sequence[str], /) -> object:
        self.deleted.extend(receipts)
        return ()


def message(n: int, body: str) -> QueueMessage:
    return QueueMessage(message_id=f"m{n}", receipt_handle=f"r{n}", body=body)


async def test_reader_deduplicates_reports_health_and_deletes_everything() -> None:
    gone = NotFound("The specified queue does not exist.", code="AWS.SimpleQueueService.NonExistentQueue")
    queue = FakeQueue(
        [
            [message(1, event("e1", pipeline="a")), message(2, event("e1", pipeline="a")), message(3, "junk")],
            gone,
            [message(4, event("e1", pipeline="a")), message(5, event("e2", pipeline="b"))],
        ]
    )
    delivered: list[list[str]] = []
    health: list[tuple[bool, str | None]] = []

    async def on_events(events: list[PushEvent]) -> None:
        delivered.append([e.id for e in events])

    reader = QueueReader(
        queue,
        "https://queue",
        on_events=on_events,
        on_health=lambda ok, error: health.append((ok, error)),
        retry_after=0.01,
        wait_seconds=20,
    )
    task = asyncio.create_task(reader.run())
    async with asyncio.timeout(5):
        await queue.drained.wait()
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)

    assert delivered == [["e1"], ["e2"]]
    assert reader.duplicates == 2
    assert queue.deleted == ["r1", "r2", "r3", "r4", "r5"]
    assert health == [(True, None), (False, str(gone)), (True, None)]
    # The first receive (and the first after a failure) does not wait: the queue's health is news at once.
    assert queue.waits == [0, 20, 0, 20]


async def test_push_delivers_transitions_and_falls_back_when_the_queue_goes(tmp_path: Path) -> None:
    directory = write_watch_fleet(tmp_path / "fleet")
    intervals = Intervals(focused=0.2, background=1.0, lists=2.0, push_safety_net=60.0)
    with start_sandbox_process(speed=SPEED, seed=7, traffic=False, warm_up=False, definitions=directory) as sandbox:
        codepipeline = make_client(sandbox.url, "codepipeline")
        sqs = make_client(sandbox.url, "sqs")
        async with watching(sandbox.url, intervals, push_wait=1) as (watcher, updates, gateway):
            loop = asyncio.get_running_loop()

            def status() -> TargetStatus:
                return next(t for t in watcher.state.targets if t.target.name == TARGET)

            async def run(pipeline: str) -> tuple[list[Any], float]:
                started_at = loop.time()
                response = await asyncio.to_thread(codepipeline.start_pipeline_execution, name=pipeline)
                execution = response["pipelineExecutionId"]
                await updates.until(
                    lambda: any(
                        t.execution == execution and t.kind == "pipeline-execution" and t.to_status == "Succeeded"
                        for t in updates.transitions
                    ),
                    45,
                    f"{pipeline} to succeed",
                )
                return [t for t in updates.transitions if t.execution == execution], loop.time() - started_at

            await watcher.wait_ready(30)
            await updates.until(lambda: status().push == "on", 10, "the push queue to work")
            # The first read shows states at once and lists executions behind them: a refresh reads everything
            # to the end, so that what follows is only what the events ask for.
            await watcher.refresh()
            key = f"{TARGET}:orders-api"
            assert watcher.state.stale_after[key] == 2 * intervals.push_safety_net
            # The target as a whole is read at its slowest resource's pace: a minute without a read is not stale
            # while push works (the header said "stale" every half minute).
            windows = [v for k, v in watcher.state.stale_after.items() if k.startswith(f"{TARGET}:")]
            assert watcher.state.target_stale_after[TARGET] == max(windows) >= 2 * intervals.push_safety_net

            # Push: every transition comes from a read an event asked for, long before the safety net.
            reads_before = gateway.stats.requests["GetPipelineState"]
            pushed, took = await run("orders-api")
            assert {t.source for t in pushed} == {"push"}
            assert [t.to_status for t in pushed if t.kind == "pipeline-execution"] == ["InProgress", "Succeeded"]
            assert took < intervals.push_safety_net / 4
            # Only the pipeline the events named was read: the other three were left to the safety net.
            assert gateway.stats.requests["GetPipelineState"] - reads_before <= 2 * len(pushed)

            # The queue goes: the watcher says so and polls the background at the normal interval again.
            queue_url = status().target.events_queue
            await asyncio.to_thread(sqs.delete_queue, QueueUrl=queue_url)
            await updates.until(lambda: status().push == "failed", 15, "the push failure to be noticed")
            assert status().error is not None
            assert "events queue" in status().error  # type: ignore[operator]
            assert watcher.state.stale_after[key] == 2 * intervals.background
            assert watcher.state.target_stale_after[TARGET] < 2 * intervals.push_safety_net
            polled, _ = await run("ledger-api")
            assert {t.source for t in polled} == {"poll"}
            assert [t.to_status for t in polled if t.kind == "pipeline-execution"] == ["InProgress", "Succeeded"]

            # The queue comes back (same name, so the rule's target is valid again): push resumes by itself.
            await asyncio.to_thread(sqs.create_queue, QueueName=queue_url.rsplit("/", 1)[-1])  # type: ignore[union-attr]
            await updates.until(lambda: status().push == "on", 15, "the push queue to work again")
            assert status().error is None
            pushed_again, _ = await run("orders-api")
            assert "push" in {t.source for t in pushed_again}
