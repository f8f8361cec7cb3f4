"""CodePipeline as a source of deployments in the watcher: its pipelines listed, their loops started and ended.

A pipeline listed for the first time gets a slot and its poll loop (`PipelinePoller`); one that is no longer
listed loses both, and leaves the model.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from functools import partial
from typing import Any

from console import cache_codec
from console.codepipeline import slots
from console.codepipeline.approvals import condition_holds, pipeline_approvals
from console.codepipeline.events import CONDITIONS
from console.codepipeline.model import SERVICE, Pipeline, PipelineExecution, PipelineState, PipelineSummary
from console.codepipeline.poller import STRUCTURE_SKIP, PipelinePoller, signature_from
from console.codepipeline.slots import PipelineSlot
from console.polling.context import WatchContext
from console.polling.rereads import Rereads
from console.polling.slots import TargetRun, drop
from console.push import PushEvent
from console.scheduler import PUSH, URGENT
from console.warm_cache import CachedPipeline, CachedTarget

LOG = logging.getLogger(__name__)


class PipelineSource:
    """The pipelines of each target: listed by discovery, seeded from the warm-start cache."""

    service = SERVICE
    events_from = "aws.codepipeline"
    listing = "ListPipelines"
    reads = ("GetPipelineState", "GetPipeline", "ListPipelineExecutions", "ListPipelines")

    def __init__(self, context: WatchContext) -> None:
        self._ctx = context
        self.poller = PipelinePoller(context)

    async def discover(self, run: TargetRun) -> None:
        async with run.gate.turn(self.listing, URGENT):
            pipelines = await slots.reader(run).list_pipelines()
        self.sync(run, pipelines)

    def seed(self, run: TargetRun, cached: CachedTarget) -> int:
        publisher = self._ctx.publisher
        self.sync(run, [p.summary for p in cached.pipelines])
        for entry in cached.pipelines:
            slot = slots.slots(run).get(entry.summary.name)
            if slot is None:
                continue
            structure = None if entry.structure is None else replace(entry.structure, target=run.target.name)
            self.poller.seed(slot, structure, entry.picture)
            picture = self.poller.with_waves(replace(entry.picture, target=run.target.name))
            slots.shown(publisher)[slot.key] = picture
            # What waited for a person then is in the inbox at once, stale like the picture: a target that cannot
            # be reached must not hide an approval. Its token was never cached; the gate reads it when answering.
            publisher.approvals[slot.key] = (*pipeline_approvals(picture), *condition_holds(picture))
            publisher.cached.add(slot.key)
        return len(cached.pipelines)

    def start(self) -> None:
        pass  # nothing besides the pipelines' loops

    def tasks(self) -> tuple[asyncio.Task[None], ...]:
        return ()

    def refresh(self, keys: set[str] | None) -> None:
        pass  # its pipelines' loops are all it reads

    def snapshot(self, run: TargetRun, cached: CachedTarget) -> CachedTarget:
        shown = slots.shown(self._ctx.publisher)
        pipelines = []
        for slot in slots.slots(run).values():
            picture = shown.get(slot.key)
            if picture is None or not picture.stages:
                continue
            pipelines.append(CachedPipeline(summary=slot.summary, structure=slot.structure, picture=picture))
        return replace(cached, pipelines=tuple(pipelines))

    def apply_event(self, run: TargetRun, event: PushEvent, rereads: Rereads) -> None:
        if not event.pipeline:
            return
        pipeline = slots.slots(run).get(event.pipeline)
        if pipeline is None:
            rereads.list_again(run)  # a pipeline not listed yet
            return
        if pipeline.task is None:
            return
        reread = self.poller.apply_event(run, pipeline, event)
        if reread == CONDITIONS and not run.gate.free_now("GetPipelineState"):
            # How a stage's conditions evaluate is in no event: read when the budget has room now,
            # else leave it to the safety net (a large team reads each stage's conditions rarely).
            return
        if reread is not None:
            rereads.ask(pipeline.key, partial(pipeline.wake.wake, PUSH))

    def apply_shared(self, run: TargetRun, api: str, resource: str, payload: dict[str, Any], read_at: datetime) -> bool:
        """A GetPipelineState, GetPipeline or ListPipelineExecutions another console of the team read
        (`console/polling/team_reads.py`)."""
        pipeline = slots.slots(run).get(resource)
        if pipeline is None or pipeline.task is None:
            return False  # not listed here (yet): this console reads it once its listing shows it
        try:
            if api == "GetPipelineState":
                state = cache_codec.decode(PipelineState, payload)
                return state.name == resource and self.poller.apply_shared(run, pipeline, state, read_at)
            if api == "ListPipelineExecutions":
                listed = payload.get("executions")
                if not isinstance(listed, list):
                    raise cache_codec.CodecError("no `executions`")
                executions = tuple(cache_codec.decode(PipelineExecution, e) for e in listed)
                signature = signature_from(payload.get("signature"))
                return self.poller.apply_shared_executions(run, pipeline, executions, signature)
            if api == "GetPipeline":
                structure = cache_codec.decode(Pipeline, payload, skip=STRUCTURE_SKIP)
                return structure.name == resource and self.poller.apply_shared_structure(run, pipeline, structure)
        except cache_codec.CodecError as exc:
            LOG.info("a shared %s of %s this console cannot read: %s", api, pipeline.key, exc)
        return False

    def sync(self, run: TargetRun, summaries: Sequence[PipelineSummary]) -> None:
        pipelines = slots.slots(run)
        seen = set()
        if self._ctx.sharing is not None:
            # A team's consoles read the new pipelines each in an order of its own: what one reads first, the
            # others get from it (their own reads of it, waiting their turn, then send nothing).
            summaries = random.sample(list(summaries), len(summaries))
        for summary in summaries:
            seen.add(summary.name)
            slot = pipelines.get(summary.name)
            if slot is None:
                key = f"{run.target.name}:{summary.name}"
                slot = PipelineSlot(key=key, target=run.target.name, summary=summary)
                pipelines[summary.name] = slot
                slot.task = asyncio.get_running_loop().create_task(self.poller.loop(run, slot), name=f"pipeline {key}")
                self._ctx.publisher.resources_changed()
            else:
                slot.summary = summary
        for name in [n for n in pipelines if n not in seen]:
            slot = pipelines.pop(name)
            drop(slot)
            self._ctx.publisher.forget(self.service, slot.key)
            self._ctx.publisher.resources_changed()
