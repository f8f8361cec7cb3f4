"""What the watcher reads through, whatever the service: one target's `console.aws.Gateway`, or a test double.

Each service package extends it with its own reads (`PipelineReader` in `console/codepipeline/slots.py`, …).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from console.model import Identity, QueueMessage, Target
from console.polling.fanout import FanoutClient


class FleetReader(FanoutClient, Protocol):
    """What the watcher reads through: one target's `console.aws.Gateway`, or a test double (which needs the
    `FanoutClient` calls only for a target with an events topic)."""

    @property
    def target(self) -> Target: ...

    async def receive_messages(
        self, queue_url: str, /, wait_seconds: int = ..., max_messages: int = ...
    ) -> Sequence[QueueMessage]: ...

    async def delete_messages(self, queue_url: str, receipts: Sequence[str], /) -> object: ...

    async def caller_identity(self) -> Identity: ...
