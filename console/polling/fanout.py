"""Push for a team: every console subscribes a queue of its own to the events topic, and removes it on exit.

An SQS queue is competing consumers: consoles reading one queue each get a share of the events. With an SNS
topic in between (EventBridge rule → topic), each console creates its own queue, subscribes it with raw
message delivery and reads it as in single-queue mode; every console gets every event.

- The queue's name says whose it is (`wavedeck-c-USER-HOST-RANDOM`), its tags say who and until when
  (`wavedeck:owner`, `wavedeck:expires`), its retention is short, and its policy lets only the topic send.
- While the console runs it moves the expiry forward (every EXPIRY_REFRESH); on exit it unsubscribes and
  deletes the queue.
- A console that crashed leaves its queue and subscription behind: the next console to open removes every
  console queue whose expiry has passed, and the topic's subscriptions to queues that are gone.
"""

from __future__ import annotations

import asyncio
import getpass
import json
import logging
import re
import secrets
import socket
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Protocol

from console.errors import AwsError

LOG = logging.getLogger(__name__)

QUEUE_PREFIX = "wavedeck-c-"
OWNER_TAG = "wavedeck:owner"
EXPIRES_TAG = "wavedeck:expires"
RETENTION_SECONDS = 300  # what a console reads within seconds; an abandoned queue holds little
EXPIRY = timedelta(hours=2)
EXPIRY_REFRESH = timedelta(minutes=30)
CLOSE_TIMEOUT = 3.0  # seconds: leaving must not wait on a slow endpoint


class FanoutClient(Protocol):
    """The gateway's calls for a console's own queue."""

    async def create_queue(self, name: str, attributes: dict[str, str], tags: dict[str, str]) -> str: ...

    async def queue_arn(self, queue_url: str) -> str: ...

    async def set_queue_policy(self, queue_url: str, policy: str) -> None: ...

    async def tag_queue(self, queue_url: str, tags: dict[str, str]) -> None: ...

    async def queue_tags(self, queue_url: str) -> dict[str, str]: ...

    async def list_queues(self, prefix: str) -> Sequence[str]: ...

    async def delete_queue(self, queue_url: str) -> None: ...

    async def subscribe_queue(self, topic_arn: str, queue_arn: str) -> str: ...

    async def unsubscribe(self, subscription_arn: str) -> None: ...

    async def topic_subscriptions(self, topic_arn: str) -> Sequence[tuple[str, str]]: ...

    async def publish(self, topic_arn: str, message: str, /) -> None: ...


@dataclass(frozen=True, slots=True)
class ConsoleQueue:
    """The queue a console reads, subscribed to the events topic."""

    topic_arn: str
    url: str
    arn: str
    subscription_arn: str


def queue_name(user: str, host: str, random_part: str | None = None) -> str:
    """`wavedeck-c-USER-HOST-RANDOM`, within SQS's 80 characters of `A-Z a-z 0-9 - _`."""

    def clean(text: str, most: int) -> str:
        return re.sub(r"[^A-Za-z0-9_-]+", "-", text).strip("-")[:most] or "x"

    return f"{QUEUE_PREFIX}{clean(user, 20)}-{clean(host, 30)}-{random_part or secrets.token_hex(4)}"


def operator_and_host() -> tuple[str, str]:
    """Who runs this console, and where: what a queue's name and owner tag say."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = "operator"
    return user, socket.gethostname().split(".")[0]


def queue_policy(queue_arn: str, topic_arn: str) -> str:
    """Only the topic may send to the queue."""
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "wavedeck-events-topic",
                    "Effect": "Allow",
                    "Principal": {"Service": "sns.amazonaws.com"},
                    "Action": "sqs:SendMessage",
                    "Resource": queue_arn,
                    "Condition": {"ArnEquals": {"aws:SourceArn": topic_arn}},
                }
            ],
        }
    )


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _expired(tags: dict[str, str], now: datetime) -> bool:
    """Whether a console queue's expiry has passed (a queue without one is not ours to judge: kept)."""
    try:
        expires = datetime.strptime(tags[EXPIRES_TAG], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    except (KeyError, ValueError):
        return False
    return expires < now


async def open_console_queue(
    client: FanoutClient, topic_arn: str, *, now: Callable[[], datetime] = lambda: datetime.now(UTC)
) -> ConsoleQueue:
    """Sweep the queues of consoles that are gone, then create, protect and subscribe this console's own."""
    await sweep(client, topic_arn, now())
    user, host = operator_and_host()
    name = queue_name(user, host)
    tags = {OWNER_TAG: f"{user}@{host}", EXPIRES_TAG: _stamp(now() + EXPIRY)}
    url = await client.create_queue(name, {"MessageRetentionPeriod": str(RETENTION_SECONDS)}, tags)
    try:
        arn = await client.queue_arn(url)
        await client.set_queue_policy(url, queue_policy(arn, topic_arn))
        subscription = await client.subscribe_queue(topic_arn, arn)
    except BaseException:
        await _quietly(client.delete_queue(url))
        raise
    return ConsoleQueue(topic_arn=topic_arn, url=url, arn=arn, subscription_arn=subscription)


async def keep_alive(
    client: FanoutClient, queue: ConsoleQueue, *, now: Callable[[], datetime] = lambda: datetime.now(UTC)
) -> None:
    """Move the queue's expiry forward while the console runs, so no other console sweeps it."""
    while True:
        await asyncio.sleep(EXPIRY_REFRESH.total_seconds())
        try:
            await client.tag_queue(queue.url, {EXPIRES_TAG: _stamp(now() + EXPIRY)})
        except AwsError as exc:
            LOG.warning("could not move the expiry of %s forward: %s", queue.url, exc)


async def close_console_queue(client: FanoutClient, queue: ConsoleQueue) -> None:
    """Unsubscribe and delete the console's queue; bounded in time, and never raises."""
    try:
        async with asyncio.timeout(CLOSE_TIMEOUT):
            await _quietly(client.unsubscribe(queue.subscription_arn))
            await _quietly(client.delete_queue(queue.url))
    except TimeoutError:
        LOG.warning("left %s behind (expires within %s; the next console removes it)", queue.url, EXPIRY)


async def team_size(client: FanoutClient, topic_arn: str) -> int:
    """How many consoles read the topic now: its subscriptions of console queues (at least this one).

    A console that crashed counts until its queue is swept: the team's shares are then a little smaller
    than they could be, never too large.
    """
    subscriptions = await client.topic_subscriptions(topic_arn)
    consoles = sum(1 for _, endpoint in subscriptions if endpoint.rsplit(":", 1)[-1].startswith(QUEUE_PREFIX))
    return max(1, consoles)


async def sweep(client: FanoutClient, topic_arn: str, now: datetime) -> list[str]:
    """Remove console queues past their expiry and the topic's subscriptions to them. Returns the URLs removed.

    Best effort: a console without the permissions to sweep still opens its own queue.
    """
    removed: list[str] = []
    try:
        for url in await client.list_queues(QUEUE_PREFIX):
            if _expired(await client.queue_tags(url), now):
                await client.delete_queue(url)
                removed.append(url)
        gone = {url.rstrip("/").rsplit("/", 1)[-1] for url in removed}
        for subscription, endpoint in await client.topic_subscriptions(topic_arn):
            name = endpoint.rsplit(":", 1)[-1]
            if name in gone and subscription.startswith("arn:"):
                await client.unsubscribe(subscription)
    except AwsError as exc:
        LOG.warning("could not sweep the queues of consoles that are gone: %s", exc)
    return removed


async def _quietly(call: Awaitable[object]) -> None:
    try:
        await call
    except AwsError as exc:
        LOG.warning("events queue clean-up: %s", exc)
