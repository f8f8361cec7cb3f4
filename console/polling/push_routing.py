"""Push mode: one `QueueReader` per events queue, and which poll loop each event wakes.

An event only says which resource changed: its loop is woken to read it now (urgent, source `push`); a
resource not listed yet makes its target list again. While a target's queue works its resources are
polled at `intervals.push_safety_net`; when the queue fails they go back to their normal intervals, and
are all read at once, since events may have been lost meanwhile.
"""

from __future__ import annotations

from collections.abc import Sequence

from console.model import QueueMessage
from console.polling.context import WatchContext
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

    def start(self) -> None:
        ctx = self._ctx
        # Targets sharing one queue share one reader: two readers of a queue would steal each other's
        # messages. An AWS queue URL names its region (sqs.REGION.amazonaws.com); a custom endpoint's does
        # not, and there the same URL in two regions is two queues (the sandbox has one per region).
        by_queue: dict[tuple[str, str | None], list[TargetRun]] = {}
        for run in ctx.runs.values():
            queue = run.target.events_queue
            if queue:
                region = queue_region(queue)
                by_queue.setdefault((queue, region or run.target.region), []).append(run)
        for (queue, region), runs in by_queue.items():
            reader_run = next((r for r in runs if r.target.region == region), runs[0])
            # A rule sends a queue the events of its own region: only targets there can rely on it.
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
            ctx.spawn(reader.run(), f"push {queue} {region}")

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
