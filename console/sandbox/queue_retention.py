"""SQS retention inside the sandbox: messages older than their queue's MessageRetentionPeriod go away.

AWS deletes such messages; moto keeps them, so a queue nobody reads (the console's events queue while no
console runs in push mode) would grow without end, and moto walks a queue's messages on every receive. A
thread drops expired messages every few seconds, as AWS would.

It also forgets what moto would remember forever: the receipt handles of deleted messages (moto keeps each
one, 185 characters, so that a second DeleteMessage succeeds; a push stream deleting 200 events a second
piled up some 200 MB an hour). A handle is remembered for at least one retention period after
its message was deleted, far longer than any client waits to repeat a delete.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterable
from typing import Any

from moto.sqs.models import sqs_backends

from console.sandbox.server_constants import ACCOUNT_ID

LOG = logging.getLogger(__name__)

SWEEP_EVERY = 5.0  # real seconds


class RecentReceipts(set[str]):
    """A queue's `deleted_messages`: the receipt handles deleted in this generation, and (on lookup) the last."""

    def __init__(self, previous: Iterable[str] = ()) -> None:
        super().__init__()
        self.previous: set[str] | frozenset[str] = previous if isinstance(previous, set) else set(previous)

    def __contains__(self, handle: object) -> bool:
        return super().__contains__(handle) or handle in self.previous


class QueueRetention:
    """Drops expired messages from the sandbox's SQS queues in `regions` until stop()."""

    def __init__(self, regions: tuple[str, ...]) -> None:
        self.regions = regions
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.dropped = 0
        self._generations: dict[int, tuple[Any, float]] = {}  # id(queue) -> (queue, when its generation began)

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="sandbox-sqs-retention", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def _loop(self) -> None:
        while not self._stop.wait(SWEEP_EVERY):
            try:
                self.sweep(time.time())
            except Exception:  # noqa: BLE001 - housekeeping must never take the sandbox down
                LOG.exception("could not drop expired SQS messages")

    def sweep(self, now: float) -> int:
        """Drop the messages past retention at `now` (unix seconds); returns how many went."""
        dropped = 0
        seen: set[int] = set()
        for region in self.regions:
            for queue in list(sqs_backends[ACCOUNT_ID][region].queues.values()):
                retention = float(getattr(queue, "message_retention_period", 0) or 0)
                if retention <= 0:
                    continue
                seen.add(id(queue))
                cutoff_ms = (now - retention) * 1000
                with queue._messages_lock:
                    kept = [m for m in queue._messages if (m.sent_timestamp or 0) > cutoff_ms]
                    gone = len(queue._messages) - len(kept)
                    if gone:
                        expired = set(queue._messages).difference(kept)
                        queue._messages = kept
                        # A message received and never deleted would stay in moto's in-flight set.
                        queue._pending_messages.difference_update(expired)
                        dropped += gone
                self._forget_old_receipts(queue, now, retention)
        for gone_queue in set(self._generations) - seen:
            del self._generations[gone_queue]
        self.dropped += dropped
        return dropped

    def _forget_old_receipts(self, queue: Any, now: float, retention: float) -> None:
        """Start a new generation of deleted receipt handles every retention period; the one before goes."""
        known = self._generations.get(id(queue))
        if known is None or known[0] is not queue:
            self._generations[id(queue)] = (queue, now)
            return
        if now - known[1] < retention:
            return
        current = queue.deleted_messages
        # moto adds to whatever set the attribute holds when a delete lands: one that lands on `current`
        # after the swap is still looked up, through the new generation's `previous`.
        queue.deleted_messages = RecentReceipts(previous=current)
        if isinstance(current, RecentReceipts):
            current.previous = frozenset()
        self._generations[id(queue)] = (queue, now)
