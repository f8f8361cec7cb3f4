"""CodePipeline as a source of deployments in the watcher: its pipelines listed, their loops started and ended.

A pipeline listed for the first time gets a slot and its poll loop (`PipelinePoller`); one that is no longer
listed loses both, and leaves the model.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import replace

from console.codepipeline.poller import PipelinePoller
from console.model import PipelineSummary
from console.polling.context import WatchContext
from console.polling.history import HistoryFollower
from console.polling.slots import PipelineSlot, TargetRun, drop
from console.scheduler import URGENT
from console.warm_cache import CachedTarget


class PipelineSource:
    """The pipelines of each target: listed by discovery, seeded from the warm-start cache."""

    listing = "ListPipelines"

    def __init__(self, context: WatchContext, history: HistoryFollower | None = None) -> None:
        # `history`: what every source is made with (`SourceFactory`); pipelines have no execution histories.
        self._ctx = context
        self.poller = PipelinePoller(context)

    async def discover(self, run: TargetRun) -> None:
        async with run.gate.turn(self.listing, URGENT):
            pipelines = await run.reader.list_pipelines()
        self.sync(run, pipelines)

    def seed(self, run: TargetRun, cached: CachedTarget) -> int:
        publisher = self._ctx.publisher
        self.sync(run, [p.summary for p in cached.pipelines])
        for entry in cached.pipelines:
            slot = run.pipelines.get(entry.summary.name)
            if slot is None:
                continue
            structure = None if entry.structure is None else replace(entry.structure, target=run.target.name)
            self.poller.seed(slot, structure, entry.picture)
            picture = replace(entry.picture, target=run.target.name)
            publisher.pipelines[slot.key] = self.poller.with_waves(picture)
            publisher.cached.add(slot.key)
        return len(cached.pipelines)

    def sync(self, run: TargetRun, summaries: Sequence[PipelineSummary]) -> None:
        seen = set()
        for summary in summaries:
            seen.add(summary.name)
            slot = run.pipelines.get(summary.name)
            if slot is None:
                key = f"{run.target.name}:{summary.name}"
                slot = PipelineSlot(key=key, target=run.target.name, summary=summary)
                run.pipelines[summary.name] = slot
                slot.task = asyncio.get_running_loop().create_task(self.poller.loop(run, slot), name=f"pipeline {key}")
                self._ctx.publisher.resources_changed()
            else:
                slot.summary = summary
        for name in [n for n in run.pipelines if n not in seen]:
            slot = run.pipelines.pop(name)
            drop(slot)
            self._ctx.publisher.forget_pipeline(slot.key)
            self._ctx.publisher.resources_changed()
