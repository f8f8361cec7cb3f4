"""A team's shared reads on an events topic: what this console reads, it publishes; what the others read, it applies.

See `console/shared_reads.py` for why and for the message. Here:
- `offer`: a poller's read, kept to be published only while the target's topic has other consoles on it (a
  console alone publishes nothing). Reads wait in a queue that keeps the newest read of each resource, and one
  task per topic publishes them one message at a time, oldest first: what waited while the last message was
  sent goes together in the next (up to a 64 KiB bundle), so the messages are at most the console's own read
  rate, which its share of the account's budget already bounds, and fewer when the topic is slow to answer.
- `receive`: the reads the console's queue got from the topic; its own are skipped, and each other is handed to
  the source of its service (`SharesReads.apply_shared`) for each target of the same account and region, which
  lays it over its model unless it is older than what it has.
- A topic whose policy does not let the console publish (`sns:Publish`) is said once in the log and not tried
  again until the console restarts: the console still applies what the others share.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import secrets
from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol, runtime_checkable

from console.errors import AccessDenied, AwsError, one_line
from console.polling.slots import TargetRun
from console.shared_reads import BUNDLE_BYTES, SharedRead, encode_bundle, encode_shared, new_sender

LOG = logging.getLogger(__name__)

# What a bundle's reads may take of it: its envelope (`encode_bundle`) is under 64 bytes.
BUNDLE_ROOM = BUNDLE_BYTES - 64
PENDING_LIMIT = 1_000  # reads waiting to be published (the newest of each resource); the oldest go beyond it


@runtime_checkable
class SharesReads(Protocol):
    """A source whose reads a team shares (`console/codepipeline/source.py`)."""

    @property
    def service(self) -> str: ...

    def apply_shared(self, run: TargetRun, api: str, resource: str, payload: dict[str, Any], read_at: datetime) -> bool:
        """Lay another console's read (`api`) of `resource` over the model; False when it was not used (older than
        what this console has, a resource it does not follow, a payload it cannot read)."""
        ...


class TopicClient(Protocol):
    async def publish(self, topic_arn: str, message: str, /) -> None: ...


@dataclass
class ShareStats:
    """What this console shared and was shared: counts for whoever looks into a team's sharing (the tests do)."""

    published: int = 0  # reads
    messages: int = 0  # the messages they went in (a bundle holds several)
    too_large: int = 0
    failed: int = 0
    dropped: int = 0  # the oldest waiting, when the queue was full
    received: int = 0
    applied: int = 0
    unused: int = 0  # older than what the console had, or about a resource it does not follow


@dataclass(eq=False)
class TopicShare:
    """One topic this console shares its reads on."""

    arn: str
    account: str
    client: TopicClient
    pending: OrderedDict[tuple[str, ...], tuple[TargetRun, str, datetime, Callable[[], dict[str, Any]]]] = field(
        default_factory=OrderedDict
    )
    ready: asyncio.Event = field(default_factory=asyncio.Event)
    off: str | None = None  # why it publishes nothing (the topic refused)


class TeamReads:
    """This console's shared reads, on every topic it is pushed through."""

    def __init__(self, sources: Iterable[object], team: Callable[[str], int]) -> None:
        self.sender = new_sender()
        self.stats = ShareStats()
        self._appliers = {source.service: source for source in sources if isinstance(source, SharesReads)}
        self._team = team  # target name → consoles on its topic, this one included
        self._topics: dict[str, TopicShare] = {}  # by target name
        self._batches = itertools.count()  # keeps apart reads offered `each` on their own

    def join(self, topic_arn: str, account: str, client: TopicClient, runs: Sequence[TargetRun]) -> TopicShare:
        """Share the reads of these targets (of one account and region) on the topic."""
        share = TopicShare(topic_arn, account, client)
        for run in runs:
            self._topics[run.target.name] = share
        return share

    def leave(self, share: TopicShare) -> None:
        """Stop sharing on the topic (its queue is going): nothing more is offered or applied there."""
        for name in [name for name, topic in self._topics.items() if topic is share]:
            del self._topics[name]

    # --- this console's reads -----------------------------------------------------------------------------

    def offer(
        self,
        run: TargetRun,
        service: str,
        api: str,
        resource: str,
        read_at: datetime,
        encode: Callable[[], dict[str, Any]],
        *,
        each: bool = False,
    ) -> None:
        share = self._topics.get(run.target.name)
        if share is None or share.off is not None or self._team(run.target.name) <= 1:
            return
        key: tuple[str, ...] = (run.target.name, service, api, resource)
        if each:
            key += (str(next(self._batches)),)
        share.pending.pop(key, None)  # a newer read of the same resource replaces one not sent yet
        share.pending[key] = (run, resource, read_at, encode)
        if len(share.pending) > PENDING_LIMIT:
            share.pending.popitem(last=False)
            self.stats.dropped += 1
        share.ready.set()

    async def publishing(self, share: TopicShare) -> None:
        """Publish the topic's pending reads, a message at a time, until cancelled (or the topic refuses)."""
        carried: list[tuple[str, int]] = []  # an encoded read that did not fit in the last bundle
        while True:
            if not (share.pending or carried):
                await share.ready.wait()
            share.ready.clear()
            bundle, carried = carried, []
            size = sum(bytes_ + 1 for _, bytes_ in bundle)  # each read and its comma in the bundle
            while share.pending and share.off is None and size < BUNDLE_ROOM:
                encoded = self._encode_next(share)
                if encoded is None:
                    continue
                if bundle and size + encoded[1] + 1 > BUNDLE_ROOM:
                    carried = [encoded]
                    break
                bundle.append(encoded)
                size += encoded[1] + 1
            if bundle and share.off is None:
                await self._publish(share, [body for body, _ in bundle])

    def _encode_next(self, share: TopicShare) -> tuple[str, int] | None:
        """The oldest pending read as a message body, with its size in bytes (None: it is not shared)."""
        (_, service, api, *_), (run, resource, read_at, encode) = share.pending.popitem(last=False)
        try:
            read = SharedRead(
                id=secrets.token_hex(12),
                sender=self.sender,
                account=share.account,
                region=run.target.region,
                service=service,
                api=api,
                resource=resource,
                read_at=read_at,
                payload=encode(),
            )
            body = encode_shared(read)
        except Exception:  # noqa: BLE001 - a read that cannot be written is not shared; the rest are
            self.stats.failed += 1
            LOG.exception("writing a shared %s of %s", api, resource)
            return None
        if body is None:
            self.stats.too_large += 1
            return None
        return body, len(body.encode())

    async def _publish(self, share: TopicShare, bodies: list[str]) -> None:
        try:
            await share.client.publish(share.arn, encode_bundle(bodies))
        except AccessDenied as exc:
            share.off = one_line(exc)
            share.pending.clear()
            LOG.warning("not sharing reads on %s (the others still share theirs): %s", share.arn, share.off)
        except AwsError as exc:
            self.stats.failed += len(bodies)  # each console reads the resources itself meanwhile
            LOG.info("sharing %d reads on %s: %s", len(bodies), share.arn, one_line(exc))
        except Exception:  # noqa: BLE001 - a surprise in one publish must not end the sharing
            self.stats.failed += len(bodies)
            LOG.exception("sharing %d reads on %s", len(bodies), share.arn)
        else:
            self.stats.published += len(bodies)
            self.stats.messages += 1

    # --- the others' reads --------------------------------------------------------------------------------

    def receive(self, runs: Sequence[TargetRun], reads: Sequence[SharedRead]) -> None:
        """Apply the reads the team shared to the targets of their account and region (never this console's own)."""
        for read in reads:
            if read.sender == self.sender:
                continue
            self.stats.received += 1
            applier = self._appliers.get(read.service)
            used = False
            for run in runs:
                share = self._topics.get(run.target.name)
                if applier is None or share is None:
                    continue
                if run.target.region != read.region or share.account != read.account:
                    continue
                try:
                    used = applier.apply_shared(run, read.api, read.resource, read.payload, read.read_at) or used
                except Exception:  # noqa: BLE001 - one bad message must not stop the queue (it would come again)
                    LOG.exception("applying a read of %s shared on %s", read.resource, share.arn)
            if used:
                self.stats.applied += 1
            else:
                self.stats.unused += 1
