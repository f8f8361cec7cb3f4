"""Discovery: each target's resources listed every `intervals.lists`, one source of deployments after another.

Each service's `Source` (`console/polling/source.py`) lists its resources, gives a resource listed for the first
time a slot and its poll loop, and ends the loop of one no longer listed; discovery runs the sources in the
registry's order (`console/services.py`), records the target's health, and says when it was listed once.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from console.errors import AwsError
from console.polling.context import WatchContext
from console.polling.slots import TargetRun
from console.polling.source import Source
from console.scheduler import URGENT, backoff
from console.warm_cache import CachedTarget

LOG = logging.getLogger(__name__)


class Discovery:
    """Lists each target, keeps one poll loop per listed resource, and asks who the console reads as."""

    def __init__(self, context: WatchContext, sources: Sequence[Source]) -> None:
        self._ctx = context
        self.sources = tuple(sources)

    async def identify(self, run: TargetRun) -> None:
        # Who the console reads as, for the status bar; not needed for anything else, so one try is enough.
        try:
            async with run.gate.turn("GetCallerIdentity", URGENT):
                who = await run.reader.caller_identity()
        except AwsError:
            return
        except Exception:  # noqa: BLE001 - never let the status bar's nicety break watching
            LOG.exception("caller identity of %s", run.target.name)
            return
        self._ctx.publisher.set_status(run, identity=who.arn)

    def seed(self, run: TargetRun, cached: CachedTarget) -> int:
        """Slots and poll loops for what the warm-start cache lists, before the target is listed (the
        listing then keeps them, or drops what is gone); how many resources it showed."""
        return sum(source.seed(run, cached) for source in self.sources)

    async def loop(self, run: TargetRun) -> None:
        ctx = self._ctx
        publisher = ctx.publisher
        while True:
            try:
                # Each source's reads start while the next one is listed.
                for source in self.sources:
                    await source.discover(run)
            except AwsError as exc:
                run.list_failures += 1
                publisher.target_failed(run, exc)
                if not run.listed:
                    run.listed = True  # it tried: a target that is down must not hold up the others
                    publisher.check_ready()
            except Exception as exc:  # noqa: BLE001 - discovery must go on
                LOG.exception("listing %s", run.target.name)
                run.list_failures += 1
                # Said of the listing as a whole, under its first API.
                publisher.target_failed(run, exc, self.sources[0].listing)
            else:
                run.list_failures = 0
                publisher.target_succeeded(run, *(source.listing for source in self.sources))
                run.listed = True
                publisher.check_ready()
                publisher.publish_soon()
            run.settle_list_waiters()
            delay = ctx.intervals.lists
            if run.list_failures:
                delay = backoff(ctx.intervals.focused, run.list_failures, ctx.intervals.lists)
            await run.list_wake.sleep(delay)
