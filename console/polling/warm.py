"""Warm starts: the watcher's picture seeded from the cache of the last run, and written back for the next.

At start, each target's cache file (`console/warm_cache.py`) is read off the event loop; every pipeline and
state machine it holds is shown at once, details included, and marked stale (`FleetState.cached`) until
its first read of this run. Their poll loops start before the target is even listed, with the structures
and descriptions the cache holds, so GetPipeline is not sent for a pipeline whose state shows the version
the cache holds, nor DescribeStateMachine for a state machine listed with the ARN and creation date the
cache holds. The listing then drops what no longer exists. The first read of each resource tells no
transitions, as on a cold start: what changed while the console was closed is not news of now.

The cache is written when the first full picture is there, every `SAVE_EVERY` seconds, and when the
watcher stops; each write is encoded off the event loop.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime

from console.polling.context import WatchContext
from console.polling.discovery import Discovery
from console.polling.slots import TargetRun
from console.warm_cache import CachedTarget, WarmCache

LOG = logging.getLogger(__name__)

SAVE_EVERY = 120.0  # seconds between writes of the cache while the watcher runs


class WarmStart:
    """Seeds the watcher from the warm-start cache and writes the cache back."""

    def __init__(self, context: WatchContext, cache: WarmCache, discovery: Discovery) -> None:
        self._ctx = context
        self.cache = cache
        self._discovery = discovery
        self._saving: asyncio.Lock = asyncio.Lock()
        self._told = 0  # how many of the cache's warnings were passed on to the person

    async def seed(self, run: TargetRun) -> int:
        """Show what the cache holds of `run`'s target; returns how many resources it showed."""
        try:
            cached = await asyncio.to_thread(self.cache.load, run.target)
        except Exception:  # noqa: BLE001 - a cache is a convenience: never a reason not to start
            LOG.exception("reading the warm-start cache of %s", run.target.name)
            return 0
        finally:
            self._tell()
        if cached is None or self._ctx.stopping or run.slots():
            return 0  # nothing cached, or the target was listed already (then the listing is fresher)
        publisher = self._ctx.publisher
        shown = self._discovery.seed(run, cached)
        publisher.resources_changed()
        publisher.publish_soon()
        return shown

    async def keep(self) -> None:
        """Write the cache once the first full picture is there, then every `SAVE_EVERY` seconds."""
        await self._ctx.publisher.ready.wait()
        while True:
            await self.save()
            await asyncio.sleep(SAVE_EVERY)

    def snapshot(self, run: TargetRun) -> CachedTarget | None:
        """What to cache of `run`'s target (None: nothing was ever read from it, so the old cache stays)."""
        if run.status is None or run.status.read_at is None:
            return None
        snapshot = CachedTarget(written=datetime.now(UTC))
        for source in self._discovery.sources:
            snapshot = source.snapshot(run, snapshot)
        return snapshot

    async def save(self) -> None:
        """Write every target's cache (taken on the loop, encoded and written in a thread)."""
        async with self._saving:
            for run in self._ctx.runs.values():
                snapshot = self.snapshot(run)
                if snapshot is None:
                    continue
                try:
                    await asyncio.to_thread(self.cache.save, run.target, snapshot)
                except Exception:  # noqa: BLE001 - a cache that cannot be written must not stop watching
                    LOG.exception("writing the warm-start cache of %s", run.target.name)
            self._tell()

    def _tell(self) -> None:
        """Pass what the cache discarded or could not write on to the person (once each), beside the log."""
        publisher = self._ctx.publisher
        new = self.cache.warnings[self._told :]
        if new:
            self._told += len(new)
            publisher.notices.extend(new)
            publisher.publish_soon()
