"""Push mode: one `QueueReader` per events queue, and what each event changes.

A target's `events_queue` is read as it is (one console); a target's `events_topic` gets a queue of this
console's own, subscribed to the topic and removed on exit (a team: `console/polling/fanout.py`).

An event carries the state it announces: it is laid over the model at once, without a read, by the source of
the service it is about (`Source.apply_event`, through its poller). Only what no event carries is read
(an approval's token, a new pipeline version's structure, a task waiting in a Step Functions history, a
resource not listed yet), and `Rereads` (`console/polling/rereads.py`) makes that one read per resource however
many events ask, a moment later and at a moment of each console's own (jittered), so a team's consoles do not
read at the same instant.

While a target's queue works its resources are polled as a safety net only: every `intervals.push_safety_net`,
or less often when the target's share of the account's budget asks for it (a large fleet, or a team: the
consoles on one topic share each bucket equally, each counting the team from the topic's subscriptions).
When the queue fails they go back to their normal intervals, and are all read at once, since events may
have been lost meanwhile.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from typing import Any, Protocol, runtime_checkable

from console.errors import AwsError
from console.loop_thread import checkpoint
from console.model import QueueMessage
from console.polling.context import WatchContext
from console.polling.fanout import ConsoleQueue, close_console_queue, keep_alive, open_console_queue, team_size
from console.polling.rereads import Rereads
from console.polling.slots import TargetRun
from console.polling.source import Source
from console.polling.team_reads import TeamReads, TopicShare
from console.push import PushEvent, QueueReader, SeenIds
from console.scheduler import REFRESH, RETIME, URGENT
from console.shared_reads import SharedRead

LOG = logging.getLogger(__name__)

TEAM_REFRESH = 30.0  # seconds between two counts of the team on a topic (and two computations of the safety net)
TEAM_FIRST_COUNTS = (2.0, 4.0, 8.0, 15.0)  # the waits between the first counts
# A console joining a topic reads nothing shared until it has counted the team with its own queue subscribed,
# and waited this long for those who opened with it to subscribe theirs: consoles opened together would each
# count themselves alone and together spend the account's burst many times over.
TEAM_GATHER = 1.0
# ...but never longer than this (the topic cannot be subscribed to or counted): then it reads at the share of
# the count it made before subscribing.
TEAM_GATHER_LIMIT = 10.0
# Of the shared reads' budget, what a team's consoles split between them: the rest is left to the account's
# other users (the deployment tooling, the AWS console).
TEAM_SHARE = 0.75
# Of a console's share of an API's budget, what the safety net may take: the rest stays free for the reads
# events ask for, what is on screen and a person's refresh.
SAFETY_SHARE = 0.5


class PushRouter:
    """Starts the queue readers of every target that has an events queue, and applies their events."""

    def __init__(
        self,
        context: WatchContext,
        sources: Iterable[Source],
        *,
        wait_seconds: int,
        rereads: Rereads | None = None,
    ) -> None:
        self._ctx = context
        sources = tuple(sources)
        # Each event goes to the source whose events it is (its EventBridge `source`); others are not routed.
        self._sources = {source.events_from: source for source in sources}
        # The reads the watcher repeats, whose buckets a team's consoles split between them. Writes are a
        # person's, one at a time: never split.
        self.shared_apis = tuple(dict.fromkeys(api for source in sources for api in source.reads))
        self._wait_seconds = wait_seconds
        self.rereads = rereads or Rereads()
        self.readers: list[QueueReader] = []
        self.console_queues: list[ConsoleQueue] = []  # this console's own, subscribed to an events topic
        self.teams: dict[str, int] = {}  # target name → consoles on its topic (this one included)
        # What this console reads, the others on its topic apply, and the other way round.
        self.team_reads = TeamReads(sources, lambda target: self.teams.get(target, 1))

    def stop(self) -> list[asyncio.Task[None]]:
        """Drop the reads events asked for and not started; returns those under way, for the watcher to end."""
        return self.rereads.close()

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
        if by_topic:
            ctx.sharing = self.team_reads
        for (topic, region), runs in by_topic.items():
            # Closed before any read starts: the listings are spawned already, not yet run.
            for budget in _team_budgets(r for r in runs if r.target.region == region):
                budget.close(self.shared_apis, TEAM_GATHER_LIMIT)
            ctx.spawn(self._fan_out(topic, region, runs), f"push {topic}")
        if by_queue or by_topic:
            ctx.spawn(self._keep_timing(), "push safety net")

    def _reader(
        self,
        queue: str,
        region: str | None,
        runs: list[TargetRun],
        on_shared: Callable[[list[SharedRead]], None] | None = None,
    ) -> QueueReader:
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
            on_shared=on_shared,
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
        try:
            # The team this console joins, before its own queue is there (that takes a few calls): its share
            # from the start, not once its first reads have spent the whole budget.
            self._share(pushed, await team_size(client, topic) + 1)
        except AwsError as exc:
            LOG.warning("could not count the consoles on %s: %s", topic, exc)
        while True:
            try:
                queue = await open_console_queue(client, topic)
                break
            except AwsError as exc:
                self._on_health(pushed, False, f"cannot subscribe a queue to {topic}: {exc}")
                await asyncio.sleep(retry)
        self.console_queues.append(queue)
        loop = asyncio.get_running_loop()
        heartbeat = loop.create_task(keep_alive(client, queue), name=f"expiry {queue.url}")
        counting = loop.create_task(self._count_team(client, topic, pushed), name=f"team {topic}")
        sharing: asyncio.Task[None] | None = None
        share: TopicShare | None = None
        on_shared: Callable[[list[SharedRead]], None] | None = None
        try:
            # Whose reads are whose: a topic can carry other accounts' events (a cross-account bus).
            account = (await client.caller_identity()).account
        except AwsError as exc:
            LOG.warning("not sharing reads on %s: this console's account is unknown: %s", topic, exc)
        else:
            share = self.team_reads.join(topic, account, client, pushed)
            sharing = loop.create_task(self.team_reads.publishing(share), name=f"share {topic}")

            def on_shared(reads: list[SharedRead], runs: list[TargetRun] = pushed) -> None:
                self.team_reads.receive(runs, reads)

        try:
            await self._reader(queue.url, region, runs, on_shared).run()
        finally:
            heartbeat.cancel()
            counting.cancel()
            if sharing is not None:
                sharing.cancel()
            if share is not None:
                self.team_reads.leave(share)
            # The watcher is stopping (this task was cancelled): the queue goes with it, within seconds.
            await asyncio.shield(close_console_queue(client, queue))

    def _on_push(self, runs: list[TargetRun], events: list[PushEvent]) -> None:
        for event in events:
            checkpoint()  # a batch of ten can take tens of milliseconds: a key goes first (console/loop_thread.py)
            for run in runs:
                if event.region and len(runs) > 1 and event.region != run.target.region:
                    continue
                self._route(run, event)

    def _route(self, run: TargetRun, event: PushEvent) -> None:
        source = self._sources.get(event.source)
        if source is not None:
            source.apply_event(run, event, self.rereads)

    # --- The team and the safety net ------------------------------------------------------------------

    async def _count_team(self, client: Any, topic: str, runs: list[TargetRun]) -> None:
        """Count the consoles on the topic now and then; each takes an equal share of the shared reads.

        Soon after this console subscribed, and again a few times: a team opens its consoles together, and
        the first ones to count would otherwise take too large a share until their next count. The first
        count opens the shared reads (closed since `start`).
        """
        opened = False
        for wait in itertools.chain((TEAM_GATHER,), TEAM_FIRST_COUNTS, itertools.repeat(TEAM_REFRESH)):
            await asyncio.sleep(wait)
            try:
                team = await team_size(client, topic)
            except AwsError as exc:
                LOG.warning("could not count the consoles on %s: %s", topic, exc)
            except Exception:  # noqa: BLE001 - the count must go on: the last one holds meanwhile
                LOG.exception("counting the consoles on %s", topic)
            else:
                self._share(runs, team)
                if not opened:
                    opened = True
                    for budget in _team_budgets(runs):
                        budget.open(self.shared_apis)

    def _share(self, runs: Sequence[TargetRun], team: int) -> None:
        for run in runs:
            if self.teams.get(run.target.name) != team:
                self._ctx.publisher.publish_soon()  # staleness follows the budget's rates
            self.teams[run.target.name] = team
        for budget in _team_budgets(runs):
            budget.share(self.shared_apis, TEAM_SHARE / team)
        self.retime()

    async def _keep_timing(self) -> None:
        while True:
            await asyncio.sleep(TEAM_REFRESH)  # resources come and go with the listings
            self.retime()

    def retime(self) -> None:
        """Compute each pushed target's safety net: its resources read within `SAFETY_SHARE` of what its
        budget allows (after the team's split), every `push_safety_net` at the most."""
        ctx = self._ctx
        groups: dict[int, list[TargetRun]] = {}
        for run in ctx.runs.values():
            if run.target.events_queue or run.target.events_topic:
                groups.setdefault(id(run.budget) if run.budget is not None else id(run), []).append(run)
        changed = False
        for runs in groups.values():
            budget = runs[0].budget
            if budget is None:
                continue
            # The resources each API's budget reads in turn (a resource without a loop is read by its listing).
            polled = Counter(slot.paced_by for run in runs for slot in run.slots() if slot.task is not None)
            needed = 0.0
            for api, count in polled.items():
                rate = budget.rate(api)
                if count and rate > 0:
                    needed = max(needed, count / (SAFETY_SHARE * rate))
            for run in runs:
                name = run.target.name
                before = ctx.schedule.safety_net.get(name, 0.0)
                if abs(needed - before) > 0.1 * max(before, 1.0):
                    ctx.schedule.safety_net[name] = needed
                    changed = True
                    if name in ctx.schedule.pushing:
                        for slot in run.slots():
                            slot.wake.wake(RETIME)
        if changed:
            ctx.publisher.resources_changed()  # staleness follows the intervals
            ctx.publisher.publish_soon()

    def _on_health(self, runs: list[TargetRun], ok: bool, error: str | None) -> None:
        ctx = self._ctx
        for run in runs:
            name = run.target.name
            was_pushing = name in ctx.schedule.pushing
            if ok:
                if not was_pushing:
                    self.retime()
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


@runtime_checkable
class TeamBudget(Protocol):
    """What a team's split asks of a budget (`console.budget.Budget`); a budget without it is not split."""

    def share(self, apis: Iterable[str], fraction: float) -> None: ...

    def close(self, apis: Iterable[str], seconds: float) -> None: ...

    def open(self, apis: Iterable[str]) -> None: ...


def _team_budgets(runs: Iterable[TargetRun]) -> list[TeamBudget]:
    """The distinct budgets of these targets (targets of one account and region share one)."""
    budgets: dict[int, TeamBudget] = {}
    for run in runs:
        if isinstance(run.budget, TeamBudget):
            budgets[id(run.budget)] = run.budget
    return list(budgets.values())


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
