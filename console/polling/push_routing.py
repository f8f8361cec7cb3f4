"""Push mode: one `QueueReader` per events queue, and which poll loop each event wakes.

A target's `events_queue` is read as it is (one console); a target's `events_topic` gets a queue of this
console's own, subscribed to the topic and removed on exit (a team: `console/polling/fanout.py`).

An event only says which resource changed: its loop is woken to read it now (urgent, source `push`); a
resource not listed yet makes its target list again. While a target's queue works its resources are
polled at `intervals.push_safety_net`; when the queue fails they go back to their normal intervals, and
are all read at once, since events may have been lost meanwhile.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from console.errors import AwsError
from console.model import QueueMessage
from console.polling.context import WatchContext
from console.polling.fanout import ConsoleQueue, close_console_queue, keep_alive, open_console_queue
from console.polling.history import HistoryFollower
from console.polling.slots import Slot, TargetRun
from console.push import PushEvent, QueueReader, SeenIds
from console.scheduler import PUSH, REFRESH, RETIME, URGENT


class PushRouter:
    """Starts the queue readers of every target that has an events queue, and routes their events."""

    def __init__(self, context: WatchContext, history: HistoryFollower, *, wait_seconds: int) -> None:
        self._ctx = context
        self._history = history
        self._wait_seconds = wait_seconds
        self.readers: list[QueueReader] = []
        self.console_queues: list[ConsoleQueue] = []  # this console's own, subscribed to an events topic

    def start(self) -> None:
        ctx = self._ctx
        # Targets sharing one queue share one reader: two readers of a queue would steal each other's
        # messages. An AWS queue URL names its region (sqs.REGION.amazonaws.com); a custom endpoint's does
        # not, and there the same URL in two regions is two queues (the sandbox has one per region).
        by_queue: dict[tuple[str, str | None], list[TargetRun]] = {}
        by_topic: dict[tuple[str, str | None], list[TargetRun]] = {}
        for run in ctx.runs.values():
            if run.target.events_topic:
                topic = run.target.events_topic
                by_topic.setdefault((topic, arn_region(topic) or run.target.region), []).append(run)
            elif run.target.events_queue:
                queue = run.target.events_queue
                by_queue.setdefault((queue, queue_region(queue) or run.target.region), []).append(run)
        for (queue, region), runs in by_queue.items():
            reader = self._reader(queue, region, runs)
            ctx.spawn(reader.run(), f"push {queue} {region}")
        for (topic, region), runs in by_topic.items():
            ctx.spawn(self._fan_out(topic, region, runs), f"push {topic}")

    def _reader(self, queue: str, region: str | None, runs: list[TargetRun]) -> QueueReader:
        ctx = self._ctx
        reader_run = next((r for r in runs if r.target.region == region), runs[0])
        # A rule sends a queue (or topic) the events of its own region: only targets there can rely on it.
        pushed = [r for r in runs if r.target.region == region]
        retry = max(ctx.intervals.focused, min(ctx.intervals.lists, ctx.intervals.push_safety_net))

        async def on_events(events: list[PushEvent], runs: list[TargetRun] = runs) -> None:
            self._on_push(runs, events)

        def on_health(ok: bool, error: str | None, runs: list[TargetRun] = pushed) -> None:
            self._on_health(runs, ok, error)

        reader = QueueReader(
            GatedQueue(reader_run),
            queue,
            on_events=on_events,
            on_health=on_health,
            retry_after=retry,
            wait_seconds=self._wait_seconds,
            seen=SeenIds(),
        )
        self.readers.append(reader)
        return reader

    async def _fan_out(self, topic: str, region: str | None, runs: list[TargetRun]) -> None:
        """Subscribe a queue of this console's own to the topic, read it, and remove it when the watcher stops.

        Until the queue exists the targets are polled as usual; a failure to create it is retried, and said
        like a failing queue.
        """
        reader_run = next((r for r in runs if r.target.region == region), runs[0])
        pushed = [r for r in runs if r.target.region == region]
        client = reader_run.reader
        retry = max(self._ctx.intervals.focused, min(self._ctx.intervals.lists, self._ctx.intervals.push_safety_net))
        while True:
            try:
                queue = await open_console_queue(client, topic)
                break
            except AwsError as exc:
                self._on_health(pushed, False, f"cannot subscribe a queue to {topic}: {exc}")
                await asyncio.sleep(retry)
        self.console_queues.append(queue)
        heartbeat = asyncio.get_running_loop().create_task(keep_alive(client, queue), name=f"expiry {queue.url}")
        try:
            await self._reader(queue.url, region, runs).run()
        finally:
            heartbeat.cancel()
            # The watcher is stopping (this task was cancelled): the queue goes with it, within seconds.
            await asyncio.shield(close_console_queue(client, queue))

    def _on_push(self, runs: list[TargetRun], events: list[PushEvent]) -> None:
        for event in events:
            for run in runs:
                if event.region and len(runs) > 1 and event.region != run.target.region:
                    continue
                self._route(run, event)

    def _route(self, run: TargetRun, event: PushEvent) -> None:
        if event.source == "aws.codepipeline" and event.pipeline:
            slot: Slot | None = run.pipelines.get(event.pipeline)
        elif event.source == "aws.states" and event.state_machine_arn:
            slot = run.machines.get(event.state_machine_arn)
            if event.execution_arn is not None:
                self._history.wake(PUSH, event.execution_arn)
        else:
            return
        if slot is None:
            run.list_wake.wake(PUSH)  # a resource not listed yet: list again now
        elif slot.task is not None:
            slot.wake.wake(PUSH)

    def _on_health(self, runs: list[TargetRun], ok: bool, error: str | None) -> None:
        ctx = self._ctx
        for run in runs:
            name = run.target.name
            was_pushing = name in ctx.schedule.pushing
            if ok:
                ctx.schedule.pushing.add(name)
                run.push_error = None
                ctx.publisher.set_status(run, push="on")
            else:
                ctx.schedule.pushing.discard(name)
                run.push_error = error
                ctx.publisher.set_status(run, push="failed")
            if was_pushing != ok:
                for slot in run.slots():
                    slot.wake.wake(RETIME)
            if not ok and was_pushing:
                # Events may have been lost while the queue was failing: read everything now.
                for slot in run.slots():
                    slot.wake.wake(REFRESH)


def queue_region(queue_url: str) -> str | None:
    """The region an AWS SQS queue URL names (https://sqs.us-east-1.amazonaws.com/...), or None."""
    host = queue_url.split("://", 1)[-1].split("/", 1)[0]
    parts = host.split(".")
    if len(parts) >= 3 and parts[0] == "sqs":
        return parts[1]
    if len(parts) >= 4 and parts[1] == "queue":  # the legacy REGION.queue.amazonaws.com form
        return parts[0]
    return None


class GatedQueue:
    """The gateway's SQS calls for a QueueReader, through the target's gate like every other read."""

    def __init__(self, run: TargetRun) -> None:
        self._run = run

    async def receive_messages(
        self, queue_url: str, /, wait_seconds: int = 20, max_messages: int = 10
    ) -> Sequence[QueueMessage]:
        async with self._run.gate.turn("ReceiveMessage", URGENT):
            return await self._run.reader.receive_messages(
                queue_url, wait_seconds=wait_seconds, max_messages=max_messages
            )

    async def delete_messages(self, queue_url: str, receipts: Sequence[str], /) -> object:
        async with self._run.gate.turn("DeleteMessageBatch", URGENT):
            return await self._run.reader.delete_messages(queue_url, receipts)


def arn_region(arn: str) -> str | None:
    """The region an ARN names (arn:aws:sns:us-east-1:…), or None."""
    parts = arn.split(":")
    return parts[3] or None if len(parts) > 5 and parts[0] == "arn" else None
