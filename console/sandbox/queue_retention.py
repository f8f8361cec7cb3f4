"""SQS retention inside the sandbox: messages older than their queue's MessageRetentionPeriod go away.

AWS deletes such messages; moto keeps them, and every SendMessage scans the whole queue, so a queue nobody
reads (the console's events queue while no console runs in push mode) would slow the sandbox down without
end. A thread drops expired messages every few seconds, as AWS would.
"""

from __future__ import annotations

import logging
import threading
import time

from moto.sqs.models import sqs_backends

from console.sandbox.server_constants import ACCOUNT_ID

LOG = logging.getLogger(__name__)

SWEEP_EVERY = 5.0  # real seconds


class QueueRetention:
    """Drops expired messages from the sandbox's SQS queues in `regions` until stop()."""

    def __init__(self, regions: tuple[str, ...]) -> None:
        self.regions = regions
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.dropped = 0

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
        for region in self.regions:
            for queue in list(sqs_backends[ACCOUNT_ID][region].queues.values()):
                retention = float(getattr(queue, "message_retention_period", 0) or 0)
                if retention <= 0:
                    continue
                cutoff_ms = (now - retention) * 1000
                with queue._messages_lock:
                    kept = [m for m in queue._messages if (m.sent_timestamp or 0) > cutoff_ms]
                    gone = len(queue._messages) - len(kept)
                    if gone:
                        queue._messages = kept
                        dropped += gone
        self.dropped += dropped
        return dropped
