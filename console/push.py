"""The push stream: EventBridge events for `aws.codepipeline` and `aws.states`, read from an SQS queue.

An EventBridge rule (`{"source": ["aws.codepipeline", "aws.states"]}`) sends every state change of the
region to a queue; `QueueReader` long-polls that queue (WaitTimeSeconds 20), turns each message into a
`PushEvent`, drops the ones already seen (EventBridge delivers at least once; ids are remembered in bounded
memory), hands the rest to the watcher and deletes the messages. An event only says *which* resource
changed: delivery order is not guaranteed, so the watcher re-reads the resource instead of trusting the
event's state.

When the queue fails (deleted, access denied, unreachable) the reader reports it and tries again now and
then; the watcher polls normally meanwhile.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from console.errors import AwsError
from console.model import QueueMessage

LOG = logging.getLogger(__name__)

WAIT_SECONDS = 20  # SQS's longest long poll: one request per 20 s while nothing happens
MAX_MESSAGES = 10  # SQS's most per request
REMEMBERED_IDS = 10_000  # event ids kept for de-duplication (an id is ~36 bytes: well under a megabyte)


@dataclass(frozen=True, slots=True)
class PushEvent:
    """What one EventBridge event names: its id, where it is from, and the resource it is about."""

    id: str
    source: str  # aws.codepipeline | aws.states
    detail_type: str
    region: str | None = None
    account: str | None = None
    pipeline: str | None = None
    execution_id: str | None = None  # pipeline execution id
    state_machine_arn: str | None = None
    execution_arn: str | None = None
    state: str | None = None  # as the event says it; never trusted for the model


def parse_event(body: str) -> PushEvent | None:
    """The event in an SQS message body, or None when the body is not an event this console reads."""
    try:
        document = json.loads(body)
    except ValueError:
        return None
    if not isinstance(document, dict):
        return None
    event_id, source = document.get("id"), document.get("source")
    detail = document.get("detail")
    if not isinstance(event_id, str) or source not in ("aws.codepipeline", "aws.states"):
        return None
    if not isinstance(detail, dict):
        detail = {}

    def text(mapping: dict[str, object], key: str) -> str | None:
        value = mapping.get(key)
        return value if isinstance(value, str) and value else None

    state_machine_arn = text(detail, "stateMachineArn")
    execution_arn = text(detail, "executionArn")
    if source == "aws.states" and state_machine_arn is None and execution_arn is not None:
        state_machine_arn = state_machine_of(execution_arn)
    return PushEvent(
        id=event_id,
        source=source,
        detail_type=str(document.get("detail-type", "")),
        region=text(document, "region"),
        account=text(document, "account"),
        pipeline=text(detail, "pipeline"),
        execution_id=text(detail, "execution-id"),
        state_machine_arn=state_machine_arn,
        execution_arn=execution_arn,
        state=text(detail, "state") or text(detail, "status"),
    )


def state_machine_of(execution_arn: str) -> str | None:
    """arn:aws:states:R:A:execution:MACHINE:NAME → arn:aws:states:R:A:stateMachine:MACHINE."""
    parts = execution_arn.split(":")
    if len(parts) < 8 or parts[5] != "execution":
        return None
    return ":".join([*parts[:5], "stateMachine", parts[6]])


class SeenIds:
    """The last `limit` event ids, for de-duplication in bounded memory (oldest forgotten first)."""

    def __init__(self, limit: int = REMEMBERED_IDS) -> None:
        self.limit = limit
        self._ids: OrderedDict[str, None] = OrderedDict()

    def first_time(self, event_id: str) -> bool:
        """True the first time an id is seen (and remembers it), False for a repeat."""
        if event_id in self._ids:
            self._ids.move_to_end(event_id)
            return False
        self._ids[event_id] = None
        if len(self._ids) > self.limit:
            self._ids.popitem(last=False)
        return True

    def __len__(self) -> int:
        return len(self._ids)


class QueueClient(Protocol):
    """The gateway's SQS calls the reader uses."""

    async def receive_messages(
        self, queue_url: str, /, wait_seconds: int = ..., max_messages: int = ...
    ) -> Sequence[QueueMessage]: ...

    async def delete_messages(self, queue_url: str, receipts: Sequence[str], /) -> object: ...


class QueueReader:
    """Long-polls one queue until cancelled; never raises for AWS errors (it reports them and retries).

    `on_events(events)` gets the new (not yet seen) events of each receive, before the messages are
    deleted. `on_health(ok, error)` is called when the queue starts or stops working.
    """

    def __init__(
        self,
        client: QueueClient,
        queue_url: str,
        *,
        on_events: Callable[[list[PushEvent]], Awaitable[None] | None],
        on_health: Callable[[bool, str | None], None],
        retry_after: float,
        wait_seconds: int = WAIT_SECONDS,
        seen: SeenIds | None = None,
    ) -> None:
        self.client = client
        self.queue_url = queue_url
        self.on_events = on_events
        self.on_health = on_health
        self.retry_after = retry_after
        self.wait_seconds = wait_seconds
        self.seen = seen or SeenIds()
        self.healthy: bool | None = None
        self.received = 0
        self.duplicates = 0

    async def run(self) -> None:
        while True:
            try:
                # Until the queue has answered once, ask without waiting: whether it works is news at once,
                # not after a 20-second long poll.
                wait = self.wait_seconds if self.healthy else 0
                messages = await self.client.receive_messages(
                    self.queue_url, wait_seconds=wait, max_messages=MAX_MESSAGES
                )
                self._health(True, None)
                if messages:
                    await self._handle(messages)
            except AwsError as exc:
                self._health(False, str(exc))
                await asyncio.sleep(self.retry_after)
            except Exception as exc:  # noqa: BLE001 - a bad message or a bug must not end the stream
                LOG.exception("push queue %s", self.queue_url)
                self._health(False, f"{type(exc).__name__}: {exc}")
                await asyncio.sleep(self.retry_after)

    async def _handle(self, messages: Sequence[QueueMessage]) -> None:
        fresh: list[PushEvent] = []
        for message in messages:
            self.received += 1
            event = parse_event(message.body)
            if event is None:
                continue
            if self.seen.first_time(event.id):
                fresh.append(event)
            else:
                self.duplicates += 1
        if fresh:
            result = self.on_events(fresh)
            if result is not None:
                await result
        # Deleted after the watcher has been told: a crash in between means a redelivery, never a loss.
        await self.client.delete_messages(self.queue_url, [m.receipt_handle for m in messages])

    def _health(self, ok: bool, error: str | None) -> None:
        if self.healthy is ok and ok:
            return
        self.healthy = ok
        self.on_health(ok, error)
