"""The push stream: EventBridge events for `aws.codepipeline` and `aws.states`, read from an SQS queue.

An EventBridge rule (`{"source": ["aws.codepipeline", "aws.states"]}`) sends every state change of the
region to a queue; `QueueReader` long-polls that queue (WaitTimeSeconds 20), turns each message into a
`PushEvent`, drops the ones already seen (EventBridge delivers at least once; ids are remembered in bounded
memory), hands the rest to the watcher and deletes the messages. An event carries the state it announces
(CodePipeline: pipeline, execution, stage, action, state, the action's type and result; Step Functions: the
execution, its status and dates): the source of its service applies it as it is (its `events.py`),
ordered per execution by the event's time since delivery order is not guaranteed, and re-reads only what
no event carries (an approval's token, a new pipeline version's structure).

When the queue fails (deleted, access denied, unreachable) the reader reports it and tries again now and
then; the watcher polls normally meanwhile.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

from console.errors import AwsError
from console.model import QueueMessage
from console.shared_reads import SharedRead, parse_shared_reads

LOG = logging.getLogger(__name__)

WAIT_SECONDS = 20  # SQS's longest long poll: one request per 20 s while nothing happens
MAX_MESSAGES = 10  # SQS's most per request
REMEMBERED_IDS = 10_000  # event ids kept for de-duplication, at most (see SeenIds: 5,000 at least)


@dataclass(frozen=True, slots=True)
class PushEvent:
    """One EventBridge event: its id, where it is from, the resource it is about and the state it announces.

    CodePipeline (AWS's "Monitoring CodePipeline events"): `detail` has `pipeline`, `execution-id`, `state`,
    `version` (the pipeline's structure version, a JSON number), `start-time` (the execution's), plus `stage`
    for stages and `stage`, `action`, `region`, `type` {owner, provider, category, version} and, once the
    action finished, `execution-result` for actions. Step Functions: `executionArn`, `stateMachineArn`,
    `name`, `status`, `startDate` and `stopDate` (epoch milliseconds), `error`, `cause`, `redriveDate`.
    `time` is the event's own (whole seconds, as EventBridge stamps it).
    """

    id: str
    source: str  # aws.codepipeline | aws.states
    detail_type: str
    region: str | None = None
    account: str | None = None
    pipeline: str | None = None
    execution_id: str | None = None  # pipeline execution id
    state_machine_arn: str | None = None
    execution_arn: str | None = None
    state: str | None = None  # CodePipeline's event state (STARTED, SUCCEEDED…) or Step Functions' status
    time: datetime | None = None
    stage: str | None = None
    action: str | None = None
    version: int | None = None  # the pipeline structure's version the execution runs
    start_time: datetime | None = None  # the pipeline execution's start, or the Step Functions execution's
    stop_time: datetime | None = None  # the Step Functions execution's stop
    redrive_time: datetime | None = None
    name: str | None = None  # the Step Functions execution's name
    category: str | None = None  # the action's type
    provider: str | None = None
    summary: str | None = None  # the action's execution-result, or the execution's error and cause
    external_id: str | None = None
    external_url: str | None = None
    error_code: str | None = None
    cause: str | None = None
    trigger_type: str | None = None
    trigger_detail: str | None = None
    execution_type: str | None = None  # ROLLBACK for a rollback execution
    rollback_target: str | None = None

    @property
    def kind(self) -> str:
        """pipeline | stage | action | execution (Step Functions), from the detail-type."""
        if self.source == "aws.states":
            return "execution"
        if self.detail_type == ACTION_CHANGE:
            return "action"
        if self.detail_type == STAGE_CHANGE:
            return "stage"
        return "pipeline"


PIPELINE_CHANGE = "CodePipeline Pipeline Execution State Change"
STAGE_CHANGE = "CodePipeline Stage Execution State Change"
ACTION_CHANGE = "CodePipeline Action Execution State Change"
EXECUTION_CHANGE = "Step Functions Execution Status Change"


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
    state_machine_arn = _text(detail, "stateMachineArn")
    execution_arn = _text(detail, "executionArn")
    if source == "aws.states" and state_machine_arn is None and execution_arn is not None:
        state_machine_arn = state_machine_of(execution_arn)
    kind_of_action = _mapping(detail, "type")
    result = _mapping(detail, "execution-result")
    trigger = _mapping(detail, "execution-trigger")
    rollback = _mapping(detail, "rollback-metadata")
    if source == "aws.states":
        error, cause = _text(detail, "error"), _text(detail, "cause")
        summary = ": ".join(part for part in (error, cause) if part) or None
        start_time = _epoch_millis(detail.get("startDate"))
    else:
        error, cause, summary = _text(result, "error-code"), None, _text(result, "external-execution-summary")
        start_time = _iso(detail.get("start-time"))
    return PushEvent(
        id=event_id,
        source=source,
        detail_type=str(document.get("detail-type", "")),
        region=_text(document, "region"),
        account=_text(document, "account"),
        pipeline=_text(detail, "pipeline"),
        execution_id=_text(detail, "execution-id"),
        state_machine_arn=state_machine_arn,
        execution_arn=execution_arn,
        state=_text(detail, "state") or _text(detail, "status"),
        time=_iso(document.get("time")),
        stage=_text(detail, "stage"),
        action=_text(detail, "action"),
        version=_whole(detail.get("version")),
        start_time=start_time,
        stop_time=_epoch_millis(detail.get("stopDate")),
        redrive_time=_epoch_millis(detail.get("redriveDate")),
        name=_text(detail, "name"),
        category=_text(kind_of_action, "category"),
        provider=_text(kind_of_action, "provider"),
        summary=summary,
        external_id=_text(result, "external-execution-id"),
        external_url=_text(result, "external-execution-url"),
        error_code=error,
        cause=cause,
        trigger_type=_text(trigger, "trigger-type"),
        trigger_detail=_text(trigger, "trigger-detail"),
        execution_type=_text(detail, "execution-type"),
        rollback_target=_text(rollback, "rollback-target-pipeline-execution"),
    )


def _text(mapping: dict[str, object], key: str) -> str | None:
    value = mapping.get(key)
    return value if isinstance(value, str) and value else None


def _mapping(mapping: dict[str, object], key: str) -> dict[str, object]:
    value = mapping.get(key)
    return value if isinstance(value, dict) else {}


def _whole(value: object) -> int | None:
    # AWS sends the structure version as a JSON number (1.0); a bool is not one.
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return int(value) if float(value).is_integer() else None


def _iso(value: object) -> datetime | None:
    """EventBridge's `time` ("2026-11-26T09:16:38Z") or a detail's ISO 8601 time, as UTC; None when absent."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return datetime.fromtimestamp(value, UTC)  # epoch seconds, as some delivery paths leave it
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


def _epoch_millis(value: object) -> datetime | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return datetime.fromtimestamp(value / 1000, UTC)


def state_machine_of(execution_arn: str) -> str | None:
    """arn:aws:states:R:A:execution:MACHINE:NAME → arn:aws:states:R:A:stateMachine:MACHINE."""
    parts = execution_arn.split(":")
    if len(parts) < 8 or parts[5] != "execution":
        return None
    return ":".join([*parts[:5], "stateMachine", parts[6]])


class SeenIds:
    """The ids of the recent events, for de-duplication in bounded memory: at least the last `limit / 2` distinct
    ids and at most `limit` are remembered, an id seen again counting as recent again.

    Two generations of ids' hashes: a new id goes into the young one; when it holds `limit / 2` it becomes the old
    one and the old one is forgotten; an id found in the old generation moves to the young. Kept as hashes
    (`hash()`: SipHash with a per-process key; the chance that two of 10,000 ids collide is under 10^-11, and an
    event dropped so is still read by the next poll) in sets: up to 10,000 ids take 0.4–1.1 MB, against 1.9 MB
    as text in an ordered dict."""

    def __init__(self, limit: int = REMEMBERED_IDS) -> None:
        self._generation = max(limit // 2, 1)
        self._young: set[int] = set()
        self._old: set[int] = set()

    def first_time(self, event_id: str) -> bool:
        """True the first time an id is seen (and remembers it), False for a repeat."""
        key = hash(event_id)
        if key in self._young:
            return False
        repeat = key in self._old
        if repeat:
            self._old.discard(key)
        self._young.add(key)
        if len(self._young) >= self._generation:
            # A copy: a set grown by adding keeps a table up to four times its size; a copy's is twice.
            self._old, self._young = set(self._young), set()
        return not repeat

    def __len__(self) -> int:
        return len(self._young) + len(self._old)


class QueueClient(Protocol):
    """The gateway's SQS calls the reader uses."""

    async def receive_messages(
        self, queue_url: str, /, wait_seconds: int = ..., max_messages: int = ...
    ) -> Sequence[QueueMessage]: ...

    async def delete_messages(self, queue_url: str, receipts: Sequence[str], /) -> object: ...


class QueueReader:
    """Long-polls one queue until cancelled; never raises for AWS errors (it reports them and retries).

    `on_events(events)` gets the new (not yet seen) events of each receive, before the messages are
    deleted; `on_shared(reads)` the reads a team's consoles shared on the topic (`console/shared_reads.py`),
    when given. `on_health(ok, error)` is called when the queue starts or stops working.
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
        on_shared: Callable[[list[SharedRead]], None] | None = None,
    ) -> None:
        self.client = client
        self.queue_url = queue_url
        self.on_events = on_events
        self.on_shared = on_shared
        self.on_health = on_health
        self.retry_after = retry_after
        self.wait_seconds = wait_seconds
        self.seen = seen or SeenIds()
        self.healthy: bool | None = None
        self.received = 0
        self.duplicates = 0
        self._deleting: asyncio.Task[object] | None = None

    async def run(self) -> None:
        try:
            await self._receive()
        finally:
            if self._deleting is not None:
                self._deleting.cancel()  # what it would have deleted comes again, and is known by its id

    async def _receive(self) -> None:
        while True:
            try:
                if self._deleting is not None and self._deleting.done():
                    await self._settle_delete()  # its failure is the queue's
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
        shared: list[SharedRead] = []
        for message in messages:
            self.received += 1
            event = parse_event(message.body)
            if event is None:
                if self.on_shared is not None:
                    shared.extend(read for read in parse_shared_reads(message.body) if self.seen.first_time(read.id))
                continue
            if self.seen.first_time(event.id):
                fresh.append(event)
            else:
                self.duplicates += 1
        if fresh:
            result = self.on_events(fresh)
            if result is not None:
                await result
        if shared and self.on_shared is not None:
            self.on_shared(shared)
        # Deleted after the watcher has been told: a crash in between means a redelivery, never a loss. The
        # delete goes on while the next receive waits (one delete on the wire at a time), so a busy queue is
        # read at the pace of one round trip per batch, not two.
        await self._settle_delete()
        receipts = [m.receipt_handle for m in messages]
        self._deleting = asyncio.get_running_loop().create_task(
            self.client.delete_messages(self.queue_url, receipts), name=f"delete from {self.queue_url}"
        )

    async def _settle_delete(self) -> None:
        deleting, self._deleting = self._deleting, None
        if deleting is not None:
            await deleting

    def _health(self, ok: bool, error: str | None) -> None:
        if self.healthy is ok and ok:
            return
        self.healthy = ok
        self.on_health(ok, error)
